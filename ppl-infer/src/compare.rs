//! Comparing models by their PSIS-LOO estimates, as ArviZ's `compare` does with
//! stacking weights.

use crate::loo::Loo;
use std::fmt;
use thiserror::Error;

/// Why [`compare`] could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompareError {
    /// No models were given.
    #[error("no models to compare")]
    NoModels,
    /// The models were scored on different numbers of data points.
    #[error("model `{name}` has {found} data points, `{first}` has {expected}: models are compared on the same data")]
    DataPoints {
        /// The first model's name.
        first: String,
        /// Its number of data points.
        expected: usize,
        /// The model that differs.
        name: String,
        /// Its number of data points.
        found: usize,
    },
}

/// One model's row of a [`Comparison`].
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// The model's name, as given.
    pub name: String,
    /// 0 for the model with the highest `elpd_loo`.
    pub rank: usize,
    /// Its `elpd_loo`.
    pub elpd_loo: f64,
    /// Its `p_loo`.
    pub p_loo: f64,
    /// The best model's `elpd_loo` minus this one's (0 for the best).
    pub elpd_diff: f64,
    /// Its stacking weight: the weights on the simplex that maximise the leave-one-out
    /// log score of the weighted mixture of the models' predictive distributions.
    pub weight: f64,
    /// The standard error of its `elpd_loo`.
    pub se: f64,
    /// The standard error of `elpd_diff`, from the pointwise differences (0 for the best).
    pub dse: f64,
    /// True when some datum's Pareto k̂ exceeds `good_k` (the estimate is unreliable).
    pub warning: bool,
}

/// Models ranked by `elpd_loo`, best first: ArviZ's `compare(…, ic="loo",
/// method="stacking")`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// One row per model, best first.
    pub rows: Vec<ComparisonRow>,
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(
            f,
            "{:<width$}  rank  elpd_loo    p_loo  elpd_diff  weight       se      dse  warning",
            "model"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<width$}  {:>4}  {:>8.2}  {:>7.2}  {:>9.2}  {:>6.3}  {:>7.2}  {:>7.2}  {}",
                r.name, r.rank, r.elpd_loo, r.p_loo, r.elpd_diff, r.weight, r.se, r.dse, r.warning
            )?;
        }
        Ok(())
    }
}

/// Ranks models by their PSIS-LOO estimates on the same data, with the differences'
/// standard errors and stacking weights (Yao et al. 2018), as ArviZ's `compare` (tested
/// in CI against it on the same files).
///
/// A normal and a Student-t model of data with an outlier: the robust model predicts the
/// data better and gets the larger weight.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::{HalfNormal, Normal, StudentT};
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{compare, LogLikelihood, Nuts, Sample};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(2)`, `y ~ Normal(mu, sigma)` or, robust,
/// /// `y ~ StudentT(3, mu, sigma)`.
/// struct Location {
///     robust: bool,
/// }
/// const Y: [f64; 8] = [0.1, -0.3, 0.2, 0.0, 0.4, -0.1, 0.3, 6.0];
/// impl ModelTemplate for Location {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "location" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
///         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(2.0), NoShape, None);
///         if self.robust {
///             api::observe(ctx, "y", StudentT::new(3.0, mu, sigma), &Y[..]);
///         } else {
///             api::observe(ctx, "y", Normal::new(mu, sigma), &Y[..]);
///         }
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let nuts = Nuts::default().chains(4).draws(1000).seed(2).progress(false);
/// let mut loos = Vec::new();
/// for robust in [false, true] {
///     let model = Model::new(Location { robust })?;
///     loos.push(model.compute_log_likelihood(&model.sample(nuts.clone())?)?.loo()?);
/// }
/// let comparison = compare(&[("normal", &loos[0]), ("student_t", &loos[1])])?;
/// println!("{comparison}");
/// let best = &comparison.rows[0];
/// assert_eq!((best.name.as_str(), best.rank, best.elpd_diff), ("student_t", 0, 0.0));
/// assert!(best.weight > 0.5);
/// let other = &comparison.rows[1];
/// assert!(other.elpd_diff > 2.0 * other.dse, "{comparison}");
/// assert!((best.weight + other.weight - 1.0).abs() < 1e-12);
/// # Ok(()) }
/// ```
pub fn compare(models: &[(&str, &Loo)]) -> Result<Comparison, CompareError> {
    let Some(&(first, first_loo)) = models.first() else {
        return Err(CompareError::NoModels);
    };
    let n = first_loo.pointwise.len();
    if let Some(&(name, loo)) = models.iter().find(|(_, l)| l.pointwise.len() != n) {
        return Err(CompareError::DataPoints {
            first: first.to_string(),
            expected: n,
            name: name.to_string(),
            found: loo.pointwise.len(),
        });
    }
    // Best first (a stable sort: ties keep the order given).
    let mut order: Vec<usize> = (0..models.len()).collect();
    order.sort_by(|&a, &b| models[b].1.elpd_loo.total_cmp(&models[a].1.elpd_loo));
    let pointwise: Vec<Vec<f64>> = order
        .iter()
        .map(|&m| models[m].1.pointwise.iter().map(|p| p.elpd_loo).collect())
        .collect();
    let weights = stacking_weights(&pointwise);
    let best = &pointwise[0];
    let rows = order
        .iter()
        .enumerate()
        .map(|(rank, &m)| {
            let (name, loo) = models[m];
            let diff: Vec<f64> = best
                .iter()
                .zip(&pointwise[rank])
                .map(|(b, x)| b - x)
                .collect();
            let nf = diff.len() as f64;
            let mean = diff.iter().sum::<f64>() / nf;
            let variance = diff.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / nf;
            ComparisonRow {
                name: name.to_string(),
                rank,
                elpd_loo: loo.elpd_loo,
                p_loo: loo.p_loo,
                elpd_diff: diff.iter().sum(),
                weight: weights[rank],
                se: loo.se,
                dse: (nf * variance).sqrt(),
                warning: loo.bad_points().next().is_some(),
            }
        })
        .collect();
    Ok(Comparison { rows })
}

/// Stacking weights of models with pointwise elpd `elpd[k][i]`: the `w` on the simplex
/// maximising `Σᵢ ln Σₖ wₖ exp(elpdₖᵢ)`, a concave problem solved by the EM iteration
/// for mixture weights, `wₖ ← mean over i of wₖ pₖᵢ / Σⱼ wⱼ pⱼᵢ` (each step increases the
/// score), with the weights whose optimum is on the boundary set to 0.
fn stacking_weights(elpd: &[Vec<f64>]) -> Vec<f64> {
    let k = elpd.len();
    let n = elpd.first().map_or(0, Vec::len);
    if k == 1 || n == 0 {
        return vec![1.0 / k as f64; k];
    }
    // Each datum's densities, scaled by its largest (which leaves the argmax alone).
    let p: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let max = (0..k).map(|m| elpd[m][i]).fold(f64::NEG_INFINITY, f64::max);
            (0..k).map(|m| (elpd[m][i] - max).exp()).collect()
        })
        .collect();
    let mut w = em_weights(&p, vec![1.0 / k as f64; k]);
    // EM approaches a weight whose optimum is 0 only slowly: where the score's
    // gradient says it belongs on the boundary (Σᵢ pₖᵢ / Σⱼ wⱼ pⱼᵢ < n), set it to 0 and
    // iterate again on the others (a zero weight stays zero).
    let gradient: Vec<f64> = (0..k)
        .map(|m| {
            p.iter()
                .map(|row| row[m] / row.iter().zip(&w).map(|(p, w)| p * w).sum::<f64>())
                .sum::<f64>()
                / n as f64
        })
        .collect();
    if gradient
        .iter()
        .zip(&w)
        .any(|(g, w)| *g < 1.0 - 1e-6 && *w < 1e-2)
    {
        for (wm, g) in w.iter_mut().zip(&gradient) {
            if *g < 1.0 - 1e-6 && *wm < 1e-2 {
                *wm = 0.0;
            }
        }
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= total);
        w = em_weights(&p, w);
    }
    w
}

/// The EM iteration for mixture weights from `w`, to a relative change of 1e-12 in the
/// log score or 100 000 steps.
fn em_weights(p: &[Vec<f64>], mut w: Vec<f64>) -> Vec<f64> {
    let (k, n) = (w.len(), p.len());
    let mut score = f64::NEG_INFINITY;
    for _ in 0..100_000 {
        let mut next = vec![0.0; k];
        let mut new_score = 0.0;
        for row in p {
            let mix: f64 = row.iter().zip(&w).map(|(p, w)| p * w).sum();
            new_score += mix.ln();
            for ((nk, pk), wk) in next.iter_mut().zip(row).zip(&w) {
                *nk += wk * pk / mix;
            }
        }
        next.iter_mut().for_each(|v| *v /= n as f64);
        w = next;
        if (new_score - score).abs() <= 1e-12 * new_score.abs().max(1.0) {
            break;
        }
        score = new_score;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacking_weights_solve_the_mixture_problem() {
        // Model 0 predicts the first half of the data well and the second badly, model 1
        // the reverse: by symmetry the optimum is ½, ½.
        let a = vec![-1.0, -1.0, -5.0, -5.0];
        let b = vec![-5.0, -5.0, -1.0, -1.0];
        let w = stacking_weights(&[a.clone(), b]);
        assert!(
            (w[0] - 0.5).abs() < 1e-9 && (w[1] - 0.5).abs() < 1e-9,
            "{w:?}"
        );
        // A model that is worse everywhere gets (almost) no weight; the KKT condition
        // Σᵢ pₖᵢ / Σⱼ wⱼ pⱼᵢ ≤ n holds for it.
        let worse: Vec<f64> = a.iter().map(|x| x - 2.0).collect();
        let w = stacking_weights(&[a, worse]);
        assert_eq!(w, [1.0, 0.0]);
    }

    #[test]
    fn stacking_weights_match_a_direct_search() {
        // Two models that each predict some data better, unevenly: the optimum is
        // interior. A golden-section search on w₀ ∈ [0, 1] of the (concave) score finds it
        // independently.
        // Model 0 is better by 1 on twenty data, model 1 by 2 on ten (with some noise).
        let a: Vec<f64> = (0..30)
            .map(|i| if i < 20 { -1.0 } else { -3.0 } - 0.01 * (i % 3) as f64)
            .collect();
        let b: Vec<f64> = (0..30)
            .map(|i| if i < 20 { -2.0 } else { -1.0 } - 0.02 * (i % 5) as f64)
            .collect();
        let score = |w: f64| -> f64 {
            a.iter()
                .zip(&b)
                .map(|(x, y)| (w * x.exp() + (1.0 - w) * y.exp()).ln())
                .sum()
        };
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        let g = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..200 {
            let (x1, x2) = (hi - g * (hi - lo), lo + g * (hi - lo));
            if score(x1) < score(x2) {
                lo = x1;
            } else {
                hi = x2;
            }
        }
        let w = stacking_weights(&[a.clone(), b.clone()]);
        assert!(lo > 0.01 && lo < 0.99, "an interior optimum: {lo}");
        assert!((w[0] - lo).abs() < 1e-6, "{w:?} vs {lo}");
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
