//! Leave-one-out cross-validation by Pareto-smoothed importance sampling (PSIS-LOO,
//! Vehtari, Gelman & Gabry 2017), as ArviZ 0.x's `loo` computes it, and WAIC.
//!
//! For each datum `i` the draws are reweighted by `1 / p(yᵢ | θₛ)`; the largest ratios
//! are replaced by quantiles of a generalized Pareto distribution fitted to them
//! (Zhang & Stephens' estimate with Vehtari's prior), whose shape `k̂` also says how far
//! the estimate can be trusted (above ~0.7 it cannot).

use crate::diagnostics::ess_mean;
use crate::log_likelihood::LOG_LIK_PREFIX;
use crate::target::VariableKind;
use crate::trace::Trace;
use ppl_core::special::log_sum_exp;
use std::fmt;
use thiserror::Error;

/// Why [`Trace::loo`] could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LooError {
    /// The trace has no pointwise log-likelihood.
    #[error("the trace has no pointwise log-likelihood: add it with `model.compute_log_likelihood(&trace)`")]
    NoLogLikelihood,
    /// Too few draws for importance sampling.
    #[error("PSIS-LOO needs at least 2 draws, the trace has {0}")]
    TooFewDraws(usize),
}

/// One datum's leave-one-out estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct LooPoint {
    /// The observation (the trace variable is `log_lik_<observation>`).
    pub observation: String,
    /// The datum's position in the observation (row-major).
    pub element: usize,
    /// `ln p(yᵢ | y₋ᵢ)`, estimated.
    pub elpd_loo: f64,
    /// The fitted Pareto shape `k̂` of the datum's importance ratios (`+∞` when the tail
    /// was too short to fit).
    pub pareto_k: f64,
}

/// PSIS-LOO of a trace: ArviZ's `loo(idata, pointwise=True)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Loo {
    /// Expected log pointwise predictive density for new data, `Σᵢ ln p(yᵢ | y₋ᵢ)`.
    pub elpd_loo: f64,
    /// Its standard error, `√(n · Var(elpdᵢ))`.
    pub se: f64,
    /// Effective number of parameters, `lppd − elpd_loo`.
    pub p_loo: f64,
    /// Log pointwise predictive density of the data themselves.
    pub lppd: f64,
    /// Number of draws (all chains).
    pub n_samples: usize,
    /// The relative efficiency of the draws used for the tail length (mean ESS of the
    /// posterior's quantities over the number of draws; 1 for one chain).
    pub r_eff: f64,
    /// The `k̂` above which an estimate is unreliable: `min(1 − 1/log₁₀ S, 0.7)`.
    pub good_k: f64,
    /// Per datum, in trace order.
    pub pointwise: Vec<LooPoint>,
}

/// WAIC of a trace: ArviZ's `waic(idata, pointwise=True)` on the log scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Waic {
    /// `Σᵢ (lppdᵢ − p_waicᵢ)`.
    pub elpd_waic: f64,
    /// Its standard error, `√(n · Var(elpd_waicᵢ))`.
    pub se: f64,
    /// Effective number of parameters: the summed variances of the log-likelihoods.
    pub p_waic: f64,
    /// True when a datum's log-likelihood variance exceeds 0.4 (ArviZ's warning: WAIC
    /// is then unreliable; use PSIS-LOO).
    pub warning: bool,
    /// `elpd_waicᵢ` per datum, in trace order.
    pub pointwise: Vec<f64>,
}

/// A trace column holding a datum's log-likelihood.
struct LogLikColumn {
    /// The observation's name.
    observation: String,
    /// The datum's position in it.
    element: usize,
    /// The column in the trace.
    column: usize,
}

/// The variance of a datum's log-likelihood above which WAIC warns (ArviZ's 0.4).
const WAIC_VARIANCE_WARNING: f64 = 0.4;

impl Loo {
    /// The data whose `k̂` exceeds [`good_k`](Loo::good_k).
    pub fn bad_points(&self) -> impl Iterator<Item = &LooPoint> {
        self.pointwise.iter().filter(|p| p.pareto_k > self.good_k)
    }
}

impl fmt::Display for Loo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "PSIS-LOO from {} draws and {} data points",
            self.n_samples,
            self.pointwise.len()
        )?;
        writeln!(f, "           estimate       se")?;
        writeln!(f, "elpd_loo  {:>9.2} {:>8.2}", self.elpd_loo, self.se)?;
        writeln!(f, "p_loo     {:>9.2}", self.p_loo)?;
        let bad = self.bad_points().count();
        if bad > 0 {
            writeln!(
                f,
                "warning: {bad} of {} data points have Pareto k above {:.2}: their estimates are unreliable",
                self.pointwise.len(),
                self.good_k
            )?;
        }
        Ok(())
    }
}

impl Trace {
    /// PSIS-LOO cross-validation from the trace's pointwise log-likelihood (added by
    /// [`LogLikelihood::compute_log_likelihood`](crate::LogLikelihood)); every datum of
    /// every observation is one data point. Matches ArviZ 0.x's `loo` (tested in CI on
    /// the same draws).
    ///
    /// For `y ~ Normal(mu, 1)` with a wide prior on `mu` and `n` data of spread 1, the
    /// effective number of parameters `p_loo ≈ Σᵢ Var(ln p(yᵢ | mu)) ≈ Σᵢ (yᵢ − ȳ)² ·
    /// Var(mu) = n · 1/n` is the one parameter:
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{LogLikelihood, Nuts, Sample};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `mu ~ Normal(0, 10)` and twenty observations `y ~ Normal(mu, 1)`.
    /// struct Mean(Vec<f64>);
    /// impl ModelTemplate for Mean {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "mean" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 10.0), NoShape, None);
    ///         api::observe(ctx, "y", Normal::new(mu, 1.0), &self.0);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let y: Vec<f64> = (0..20).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
    /// let model = Model::new(Mean(y))?;
    /// let nuts = Nuts::default().chains(4).draws(1000).seed(3).progress(false);
    /// let trace = model.compute_log_likelihood(&model.sample(nuts)?)?;
    /// let loo = trace.loo()?;
    /// assert_eq!(loo.pointwise.len(), 20);
    /// assert!((loo.p_loo - 1.0).abs() < 0.2, "{loo}");
    /// assert!(loo.elpd_loo < loo.lppd);
    /// assert_eq!(loo.bad_points().count(), 0);
    /// println!("{loo}");
    /// # Ok(()) }
    /// ```
    pub fn loo(&self) -> Result<Loo, LooError> {
        let (columns, n_samples) = self.log_likelihood_columns()?;
        let r_eff = self.relative_efficiency(n_samples);
        let s = n_samples as f64;
        // ArviZ's tail length: ⌈min(0.2 S, 3 √(S / r_eff))⌉ draws.
        let tail = (0.2 * s).min(3.0 * (s / r_eff).sqrt()).ceil() as usize;
        // One datum: (its elpd_loo, its Pareto k, its lppd term).
        let one = |column: usize| {
            let ll = self.pooled(column);
            let log_ratios: Vec<f64> = ll.iter().map(|l| -l).collect();
            let (log_weights, pareto_k) = psis_log_weights(log_ratios, tail);
            let weighted: Vec<f64> = log_weights.iter().zip(&ll).map(|(w, l)| w + l).collect();
            (log_sum_exp(&weighted), pareto_k, log_sum_exp(&ll) - s.ln())
        };
        // The data are independent: split them over the available cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = columns.len().div_ceil(threads).max(1);
        let results: Vec<(f64, f64, f64)> = std::thread::scope(|scope| {
            let one = &one;
            let handles: Vec<_> = columns
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || part.iter().map(|c| one(c.column)).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let lppd: f64 = results.iter().map(|r| r.2).sum();
        let pointwise: Vec<LooPoint> = columns
            .into_iter()
            .zip(&results)
            .map(|(c, &(elpd_loo, pareto_k, _))| LooPoint {
                observation: c.observation,
                element: c.element,
                elpd_loo,
                pareto_k,
            })
            .collect();
        let n = pointwise.len() as f64;
        let elpd_loo: f64 = pointwise.iter().map(|p| p.elpd_loo).sum();
        let mean = elpd_loo / n;
        let variance = pointwise
            .iter()
            .map(|p| (p.elpd_loo - mean).powi(2))
            .sum::<f64>()
            / n;
        Ok(Loo {
            elpd_loo,
            se: (n * variance).sqrt(),
            p_loo: lppd - elpd_loo,
            lppd,
            n_samples,
            r_eff,
            good_k: (1.0 - 1.0 / s.log10()).min(0.7),
            pointwise,
        })
    }

    /// WAIC, the widely applicable information criterion, from the trace's pointwise
    /// log-likelihood: ArviZ 0.x's `waic` on the log scale (`elpd_waic = Σᵢ (lppdᵢ −
    /// Var_s ln p(yᵢ | θₛ))`, `p_waic` the sum of the variances). PSIS-LOO
    /// ([`loo`](Trace::loo)) is the more robust estimate of the same quantity; WAIC warns
    /// when a variance exceeds 0.4.
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{LogLikelihood, Nuts, Sample};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `mu ~ Normal(0, 10)` and twenty observations `y ~ Normal(mu, 1)`.
    /// struct Mean(Vec<f64>);
    /// impl ModelTemplate for Mean {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "mean" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 10.0), NoShape, None);
    ///         api::observe(ctx, "y", Normal::new(mu, 1.0), &self.0);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let y: Vec<f64> = (0..20).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
    /// let model = Model::new(Mean(y))?;
    /// let nuts = Nuts::default().chains(4).draws(1000).seed(3).progress(false);
    /// let trace = model.compute_log_likelihood(&model.sample(nuts)?)?;
    /// let (waic, loo) = (trace.waic()?, trace.loo()?);
    /// // With well-behaved data WAIC and PSIS-LOO agree closely.
    /// assert!((waic.elpd_waic - loo.elpd_loo).abs() < 0.05, "{waic:?} {loo}");
    /// assert!((waic.p_waic - 1.0).abs() < 0.2 && !waic.warning);
    /// # Ok(()) }
    /// ```
    pub fn waic(&self) -> Result<Waic, LooError> {
        let (columns, n_samples) = self.log_likelihood_columns()?;
        let s = n_samples as f64;
        // Per datum: lppdᵢ and the variance (over draws, ddof 0) of its log-likelihood.
        let terms: Vec<(f64, f64)> = columns
            .iter()
            .map(|c| {
                let ll = self.pooled(c.column);
                let mean = ll.iter().sum::<f64>() / s;
                let variance = ll.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / s;
                (log_sum_exp(&ll) - s.ln(), variance)
            })
            .collect();
        let pointwise: Vec<f64> = terms.iter().map(|(lppd, v)| lppd - v).collect();
        let n = pointwise.len() as f64;
        let elpd_waic: f64 = pointwise.iter().sum();
        let mean = elpd_waic / n;
        let variance = pointwise.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / n;
        Ok(Waic {
            elpd_waic,
            se: (n * variance).sqrt(),
            p_waic: terms.iter().map(|(_, v)| v).sum(),
            warning: terms.iter().any(|(_, v)| *v > WAIC_VARIANCE_WARNING),
            pointwise,
        })
    }

    /// Every chain's draws of `column`, one after the other (ArviZ's stacking of chain
    /// and draw).
    fn pooled(&self, column: usize) -> Vec<f64> {
        self.chains
            .iter()
            .flat_map(|c| c.column(column).iter().copied())
            .collect()
    }

    /// The trace's log-likelihood columns, each with its observation's name and the
    /// datum's element, and the number of draws.
    fn log_likelihood_columns(&self) -> Result<(Vec<LogLikColumn>, usize), LooError> {
        let columns: Vec<LogLikColumn> = self
            .variables
            .iter()
            .zip(&self.offsets)
            .filter(|(v, _)| v.kind == VariableKind::LogLikelihood)
            .flat_map(|(v, &offset)| {
                let observation = v.name.strip_prefix(LOG_LIK_PREFIX).unwrap_or(&v.name);
                (0..v.len()).map(move |element| LogLikColumn {
                    observation: observation.to_string(),
                    element,
                    column: offset + element,
                })
            })
            .collect();
        if columns.is_empty() {
            return Err(LooError::NoLogLikelihood);
        }
        let n_samples: usize = self.chains.iter().map(|c| c.num_draws()).sum();
        if n_samples < 2 {
            return Err(LooError::TooFewDraws(n_samples));
        }
        Ok((columns, n_samples))
    }

    /// ArviZ's relative efficiency for PSIS: the mean, over every scalar of the
    /// posterior (parameters and deterministics), of its ESS of the mean divided by the
    /// number of draws; 1 with one chain. Constant scalars (ESS undefined) are left out.
    fn relative_efficiency(&self, n_samples: usize) -> f64 {
        if self.chains.len() < 2 {
            return 1.0;
        }
        let mut sum = 0.0;
        let mut count = 0usize;
        for (v, &offset) in self.variables.iter().zip(&self.offsets) {
            if !v.kind.is_posterior() {
                continue;
            }
            for e in 0..v.len() {
                let chains: Vec<&[f64]> =
                    self.chains.iter().map(|c| c.column(offset + e)).collect();
                let ess = ess_mean(&chains);
                if ess.is_finite() {
                    sum += ess;
                    count += 1;
                }
            }
        }
        if count == 0 {
            1.0
        } else {
            sum / count as f64 / n_samples as f64
        }
    }
}

/// The Pareto shape `k̂` of independent draws' log importance ratios (ArviZ's tail
/// length with relative efficiency 1): Yao et al.'s (2018) check of an approximation
/// `q` of the posterior, with ratios `ln p(θ) − ln q(θ)` at draws from `q`. Below 0.7
/// the approximation's draws can be reweighted into posterior estimates; below 0.5 it
/// is close to the posterior itself.
pub(crate) fn importance_pareto_k(log_ratios: Vec<f64>) -> f64 {
    importance_weights(log_ratios).1
}

/// The Pareto-smoothed, normalised log weights of independent draws' log importance
/// ratios, and their `k̂` (see [`importance_pareto_k`]).
pub(crate) fn importance_weights(log_ratios: Vec<f64>) -> (Vec<f64>, f64) {
    let s = log_ratios.len() as f64;
    let tail = (0.2 * s).min(3.0 * s.sqrt()).ceil() as usize;
    psis_log_weights(log_ratios, tail)
}

/// Pareto-smoothed, normalised log importance weights of `log_ratios` and the fitted
/// shape `k̂`, with the largest `tail` ratios (ArviZ's `_psislw`) smoothed.
fn psis_log_weights(mut x: Vec<f64>, tail: usize) -> (Vec<f64>, f64) {
    let n = x.len();
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    x.iter_mut().for_each(|v| *v -= max);
    // The cutoff: the value below the `tail` largest (a selection, not a sort), or the
    // log of the smallest normal number.
    let cutoff_position = n.saturating_sub(tail + 1);
    let mut sorted = x.clone();
    let (_, &mut at_cutoff, _) = sorted.select_nth_unstable_by(cutoff_position, f64::total_cmp);
    let cutoff = at_cutoff.max(f64::MIN_POSITIVE.ln());
    let exp_cutoff = cutoff.exp();
    // The tail in ascending order.
    let mut tail_indices: Vec<usize> = (0..n).filter(|&i| x[i] > cutoff).collect();
    tail_indices.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let k = if tail_indices.len() <= 4 {
        f64::INFINITY
    } else {
        let values: Vec<f64> = tail_indices
            .iter()
            .map(|&i| x[i].exp() - exp_cutoff)
            .collect();
        let (k, sigma) = gpd_fit(&values);
        if k.is_finite() {
            let m = tail_indices.len() as f64;
            for (j, &i) in tail_indices.iter().enumerate() {
                let p = (j as f64 + 0.5) / m;
                x[i] = (gpd_quantile(p, k, sigma) + exp_cutoff).ln();
            }
            x.iter_mut().for_each(|v| *v = v.min(0.0));
        }
        k
    };
    let total = log_sum_exp(&x);
    x.iter_mut().for_each(|v| *v -= total);
    (x, k)
}

/// Generalized Pareto fit to ascending `x > 0`: Zhang & Stephens' (2009) posterior-mean
/// estimate of `b = −k/σ` over a grid, then `k` with Vehtari's weakly informative prior
/// (ArviZ's `_gpdfit`). Returns `(k, σ)`.
fn gpd_fit(x: &[f64]) -> (f64, f64) {
    const PRIOR_BS: f64 = 3.0;
    const PRIOR_K: f64 = 10.0;
    let n = x.len();
    let nf = n as f64;
    let m = 30 + (nf.sqrt()) as usize;
    let quartile = x[((nf / 4.0 + 0.5) as usize).saturating_sub(1)];
    let largest = x[n - 1];
    let b: Vec<f64> = (1..=m)
        .map(|j| {
            let g = 1.0 - (m as f64 / (j as f64 - 0.5)).sqrt();
            g / (PRIOR_BS * quartile) + 1.0 / largest
        })
        .collect();
    let k_of = |b: f64| x.iter().map(|xi| (-b * xi).ln_1p()).sum::<f64>() / nf;
    let len_scale: Vec<f64> = b
        .iter()
        .map(|&bj| {
            let k = k_of(bj);
            nf * ((-(bj / k)).ln() - k - 1.0)
        })
        .collect();
    let mut weights: Vec<f64> = len_scale
        .iter()
        .map(|&li| 1.0 / len_scale.iter().map(|&lj| (lj - li).exp()).sum::<f64>())
        .collect();
    // Negligible weights are dropped, the rest normalised.
    let keep: Vec<bool> = weights.iter().map(|w| *w >= 10.0 * f64::EPSILON).collect();
    let total: f64 = weights
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(w, _)| w)
        .sum();
    weights.iter_mut().for_each(|w| *w /= total);
    let b_post: f64 = b
        .iter()
        .zip(&weights)
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((b, w), _)| b * w)
        .sum();
    let k = k_of(b_post);
    let sigma = -k / b_post;
    ((nf * k + PRIOR_K * 0.5) / (nf + PRIOR_K), sigma)
}

/// Quantile `p ∈ (0, 1)` of the generalized Pareto distribution with shape `k` and scale
/// `σ` (location 0).
fn gpd_quantile(p: f64, k: f64, sigma: f64) -> f64 {
    if sigma <= 0.0 {
        return f64::NAN;
    }
    let x = if k.abs() < f64::EPSILON {
        -(-p).ln_1p()
    } else {
        (-k * (-p).ln_1p()).exp_m1() / k
    };
    x * sigma
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpd_fit_recovers_a_known_shape() {
        // Quantiles of a generalized Pareto with k = 0.5, σ = 2 at evenly spaced
        // probabilities: the fit (with its prior pulling k towards ½·10/(n+10)) lands
        // near the truth.
        let n = 400;
        let x: Vec<f64> = (0..n)
            .map(|i| gpd_quantile((i as f64 + 0.5) / n as f64, 0.5, 2.0))
            .collect();
        let (k, sigma) = gpd_fit(&x);
        assert!((k - 0.5).abs() < 0.05, "k {k}");
        assert!((sigma - 2.0).abs() < 0.2, "σ {sigma}");
        // The quantile function inverts the CDF 1 − (1 + kx/σ)^(−1/k).
        let q = gpd_quantile(0.9, 0.5, 2.0);
        assert!((1.0 - (1.0 + 0.5 * q / 2.0).powf(-2.0) - 0.9).abs() < 1e-14);
        assert!((gpd_quantile(0.9, 0.0, 2.0) - 2.0 * 10f64.ln()).abs() < 1e-14);
    }

    #[test]
    fn equal_ratios_give_equal_weights() {
        let (w, _) = psis_log_weights(vec![0.3; 100], 20);
        assert!(w.iter().all(|v| (v + 100f64.ln()).abs() < 1e-12));
    }
}
