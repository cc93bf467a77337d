//! A posterior summary table like `arviz.summary`, with warnings about the run.

use crate::diagnostics::{diagnostics_sorted, hdi_sorted};
use crate::metric::Metric;
use crate::target::VariableKind;
use crate::trace::Trace;
use std::fmt;

/// Bulk or tail ESS below this many per chain draws a warning.
pub const LOW_ESS_PER_CHAIN: f64 = 100.0;

/// A chain's E-BFMI below this draws a warning (Stan's and ArviZ's threshold).
pub const BFMI_THRESHOLD: f64 = 0.3;
/// R-hat above this draws a warning.
pub const RHAT_THRESHOLD: f64 = 1.01;

/// One scalar's row of the summary.
///
/// ```
/// use ppl_infer::{sample_log_density, LogDensity, Nuts, SummaryRow};
/// # struct StdNormal;
/// # impl LogDensity for StdNormal {
/// #     fn dim(&self) -> usize { 2 }
/// #     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
/// #         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// #     }
/// #     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
/// #         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
/// #         self.logp(x)
/// #     }
/// # }
/// // `StdNormal` is a standard normal in 2 dimensions (see `sample_log_density`).
/// let nuts = Nuts::default().chains(2).draws(300).tune(200).seed(5).progress(false);
/// let summary = sample_log_density(&StdNormal, nuts)?.summary();
/// let row: &SummaryRow = summary.row("x[1]").unwrap();
/// assert_eq!(row.name, "x[1]");
/// // Mean 0 and standard deviation 1, within a few Monte-Carlo standard errors.
/// assert!(row.mean.abs() < 4.0 * row.mcse_mean);
/// assert!((row.sd - 1.0).abs() < 4.0 * row.mcse_sd);
/// // The 94% HDI of a standard normal is about ±1.88.
/// assert!(row.hdi_3 < -1.5 && row.hdi_97 > 1.5);
/// assert!(row.r_hat < 1.05 && row.ess_bulk > 100.0 && row.ess_tail > 100.0);
/// # Ok::<(), ppl_infer::SampleError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// `mu`, `theta[0]`, ….
    pub name: String,
    /// Posterior mean.
    pub mean: f64,
    /// Posterior standard deviation (`n − 1` denominator).
    pub sd: f64,
    /// Lower end of the 94% highest-density interval.
    pub hdi_3: f64,
    /// Upper end of the 94% highest-density interval.
    pub hdi_97: f64,
    /// Monte-Carlo standard error of the mean.
    pub mcse_mean: f64,
    /// Monte-Carlo standard error of the standard deviation.
    pub mcse_sd: f64,
    /// Bulk effective sample size.
    pub ess_bulk: f64,
    /// Tail effective sample size.
    pub ess_tail: f64,
    /// Rank-normalised split R-hat (NaN with one chain).
    pub r_hat: f64,
}

/// The summary of a trace: a row per recorded scalar and warnings.
///
/// Its `Display` prints the table as `arviz.summary` does, then the run's size and time,
/// then one line per warning.
///
/// ```
/// use ppl_infer::{sample_log_density, LogDensity, Nuts};
/// # struct StdNormal;
/// # impl LogDensity for StdNormal {
/// #     fn dim(&self) -> usize { 2 }
/// #     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
/// #         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// #     }
/// #     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
/// #         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
/// #         self.logp(x)
/// #     }
/// # }
/// // `StdNormal` is a standard normal in 2 dimensions (see `sample_log_density`).
/// let nuts = Nuts::default().chains(2).draws(300).tune(200).seed(6).progress(false);
/// let summary = sample_log_density(&StdNormal, nuts.clone())?.summary();
/// assert_eq!(summary.rows().len(), 2);
/// assert!(summary.row("x[0]").is_some() && summary.row("y").is_none());
/// assert!(summary.max_r_hat() < 1.05 && summary.min_ess_bulk() > 100.0);
/// assert!(summary.warnings().is_empty(), "{:?}", summary.warnings());
/// let table = summary.to_string();
/// assert!(table.lines().next().unwrap().contains("ess_bulk"));
/// assert!(table.contains("2 chains × 300 draws after 200 warm-up"));
///
/// // One chain cannot tell whether chains mix: the summary warns.
/// let one = sample_log_density(&StdNormal, nuts.chains(1))?.summary();
/// assert!(one.warnings().iter().any(|w| w.contains("R-hat needs at least 2 chains")));
/// assert!(one.rows()[0].r_hat.is_nan());
/// // ... and has no largest R-hat, so `max_r_hat() < 1.01` fails rather than passing.
/// assert!(one.max_r_hat().is_nan() && one.min_ess_bulk() > 100.0);
/// # Ok::<(), ppl_infer::SampleError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    rows: Vec<SummaryRow>,
    warnings: Vec<String>,
    footer: String,
}

impl Summary {
    /// All rows, in trace order.
    ///
    /// See [`Summary`] for an example.
    pub fn rows(&self) -> &[SummaryRow] {
        &self.rows
    }

    /// The row called `name` (e.g. `"theta[2]"`).
    ///
    /// See [`Summary`] for an example.
    pub fn row(&self, name: &str) -> Option<&SummaryRow> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// Warnings about divergences, tree depth, E-BFMI, R-hat and ESS.
    ///
    /// See [`Summary`] for an example.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The smallest bulk ESS over the rows that define one; NaN when none does (an
    /// empty trace), so that a check such as `min_ess_bulk() > 400.0` cannot pass
    /// vacuously.
    ///
    /// See [`Summary`] for an example.
    pub fn min_ess_bulk(&self) -> f64 {
        extreme(self.rows.iter().map(|r| r.ess_bulk), f64::min)
    }

    /// The largest R-hat over the rows that define one (a constant column has none);
    /// NaN when no row does (a single chain), so that a check such as
    /// `max_r_hat() < 1.01` cannot pass vacuously.
    ///
    /// See [`Summary`] for an example.
    pub fn max_r_hat(&self) -> f64 {
        extreme(self.rows.iter().map(|r| r.r_hat), f64::max)
    }
}

/// `pick` over the values that are not NaN; NaN when there are none.
fn extreme(values: impl Iterator<Item = f64>, pick: fn(f64, f64) -> f64) -> f64 {
    values
        .filter(|v| !v.is_nan())
        .reduce(pick)
        .unwrap_or(f64::NAN)
}

fn names_list(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    let mut s = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

impl Trace {
    /// Posterior summary and diagnostics of every parameter and deterministic (see
    /// [`summary_of`](Trace::summary_of) for the other columns).
    ///
    /// Each row holds the pooled draws' mean, standard deviation and 94% HDI, and the
    /// [`diagnostics`](crate::diagnostics::diagnostics) of the chains:
    ///
    /// ```
    /// use ppl_infer::diagnostics::{diagnostics, hdi_sorted};
    /// use ppl_infer::{sample_log_density, LogDensity, Nuts};
    /// # struct StdNormal;
    /// # impl LogDensity for StdNormal {
    /// #     fn dim(&self) -> usize { 2 }
    /// #     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
    /// #         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
    /// #     }
    /// #     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
    /// #         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
    /// #         self.logp(x)
    /// #     }
    /// # }
    /// // `StdNormal` is a standard normal in 2 dimensions (see `sample_log_density`).
    /// let nuts = Nuts::default().chains(2).draws(200).tune(100).seed(13).progress(false);
    /// let trace = sample_log_density(&StdNormal, nuts)?;
    /// let summary = trace.summary();
    /// let names: Vec<&str> = summary.rows().iter().map(|r| r.name.as_str()).collect();
    /// assert_eq!(names, trace.column_names());
    ///
    /// let row = summary.row("x[1]").unwrap();
    /// let chains = trace.samples("x", 1).unwrap();
    /// let mut pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    /// pooled.sort_by(f64::total_cmp);
    /// assert!((row.mean - trace.mean("x").unwrap()[1]).abs() < 1e-12);
    /// assert_eq!((row.hdi_3, row.hdi_97), hdi_sorted(&pooled, 0.94));
    /// let d = diagnostics(&chains);
    /// assert_eq!((row.ess_bulk, row.ess_tail, row.r_hat), (d.ess_bulk, d.ess_tail, d.r_hat));
    /// assert_eq!((row.mcse_mean, row.mcse_sd), (d.mcse_mean, d.mcse_sd));
    /// // A standard normal: mean 0, within 4 standard errors.
    /// assert!(row.mean.abs() < 4.0 * row.mcse_mean, "{row:?}");
    /// # Ok::<(), ppl_infer::SampleError>(())
    /// ```
    pub fn summary(&self) -> Summary {
        self.summary_of(&VariableKind::POSTERIOR)
    }

    /// The [`summary`](Trace::summary) of the recorded scalars of the given kinds only:
    /// `summary()` covers the posterior (parameters and deterministics), as
    /// `arviz.summary` does by default; the draws that
    /// [`Predictive`](crate::Predictive) and [`LogLikelihood`](crate::LogLikelihood)
    /// add are summarised on request.
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{Nuts, Predictive, Sample, VariableKind};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `mu ~ Normal(0, 1)` and two observations `y ~ Normal(mu, 1)`.
    /// struct Conjugate;
    /// impl ModelTemplate for Conjugate {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "conjugate" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    ///         api::observe(ctx, "y", Normal::new(mu, 1.0), &[0.3, 2.0][..]);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = Model::new(Conjugate)?;
    /// let nuts = Nuts::default().chains(2).draws(200).tune(200).seed(1).progress(false);
    /// let trace = model.sample_posterior_predictive(&model.sample(nuts)?, 1)?;
    /// let names = |s: &ppl_infer::Summary| -> Vec<String> {
    ///     s.rows().iter().map(|r| r.name.clone()).collect()
    /// };
    /// assert_eq!(names(&trace.summary()), ["mu"]);
    /// let predictive = trace.summary_of(&[VariableKind::PosteriorPredictive]);
    /// assert_eq!(names(&predictive), ["y[0]", "y[1]"]);
    /// # Ok(()) }
    /// ```
    pub fn summary_of(&self, kinds: &[VariableKind]) -> Summary {
        let mut rows = Vec::with_capacity(self.num_columns());
        let mut column = 0;
        let mut selected = Vec::with_capacity(self.num_columns());
        for v in &self.variables {
            for e in 0..v.len() {
                if kinds.contains(&v.kind) {
                    selected.push((column, v.element_name(e)));
                }
                column += 1;
            }
        }
        for (column, name) in selected {
            let chains: Vec<&[f64]> = self.chains.iter().map(|c| c.column(column)).collect();
            let mut pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
            let n = pooled.len() as f64;
            let mean = pooled.iter().sum::<f64>() / n;
            let sd = (pooled.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            pooled.sort_unstable_by(f64::total_cmp);
            let (hdi_3, hdi_97) = hdi_sorted(&pooled, 0.94);
            let d = diagnostics_sorted(&chains, &pooled);
            rows.push(SummaryRow {
                name,
                mean,
                sd,
                hdi_3,
                hdi_97,
                mcse_mean: d.mcse_mean,
                mcse_sd: d.mcse_sd,
                ess_bulk: d.ess_bulk,
                ess_tail: d.ess_tail,
                r_hat: d.r_hat,
            });
        }

        let mut warnings = Vec::new();
        let draws: usize = self.chains.iter().map(|c| c.num_draws()).sum();
        let divergences = self.divergences();
        if divergences > 0 {
            warnings.push(format!(
                "{divergences} of {draws} draws after warm-up diverged: the posterior may be biased; raise target_accept or reparameterise the model"
            ));
        }
        let max_depth = self.settings.max_depth;
        let saturated: usize = self
            .chains
            .iter()
            .flat_map(|c| &c.stats)
            .filter(|s| s.tree_depth >= max_depth)
            .count();
        if saturated > 0 {
            // Long trajectories with a diagonal metric usually mean strong correlations,
            // which the low-rank metric captures (diamonds: 20× the ESS/s).
            let hint = match self.settings.metric_kind() {
                Metric::Diagonal | Metric::GradientDiagonal => {
                    "; for strongly correlated parameters (a regression with correlated predictors) try `.metric(Metric::Auto)`"
                }
                // `Auto` may have declined a correction that `LowRank` applies.
                Metric::Auto => {
                    "; for strongly correlated parameters try `.metric(Metric::LowRank)`, which applies every correction `Auto` may decline"
                }
                Metric::Dense | Metric::LowRank => "",
            };
            warnings.push(format!(
                "{saturated} of {draws} draws hit the maximum tree depth {max_depth}: sampling is inefficient; raise max_depth or reparameterise{hint}"
            ));
        }
        let low_bfmi: Vec<String> = self
            .chains
            .iter()
            .filter_map(|c| {
                let b = c.bfmi();
                (b < BFMI_THRESHOLD).then(|| format!("chain {} ({b:.2})", c.chain))
            })
            .collect();
        if !low_bfmi.is_empty() {
            warnings.push(format!(
                "E-BFMI below {BFMI_THRESHOLD} in {}: the sampler may not explore the tails (a funnel?); reparameterise, e.g. non-centred",
                low_bfmi.join(", ")
            ));
        }
        let high_rhat: Vec<&str> = rows
            .iter()
            .filter(|r| r.r_hat > RHAT_THRESHOLD)
            .map(|r| r.name.as_str())
            .collect();
        if !high_rhat.is_empty() {
            warnings.push(format!(
                "R-hat above {RHAT_THRESHOLD} for {}: the chains have not mixed",
                names_list(&high_rhat)
            ));
        }
        if self.chains.len() < 2 {
            warnings.push("R-hat needs at least 2 chains".to_string());
        }
        let low = LOW_ESS_PER_CHAIN * self.chains.len() as f64;
        let low_ess: Vec<&str> = rows
            .iter()
            .filter(|r| r.ess_bulk < low || r.ess_tail < low)
            .map(|r| r.name.as_str())
            .collect();
        if !low_ess.is_empty() {
            warnings.push(format!(
                "bulk or tail ESS below {low:.0} ({LOW_ESS_PER_CHAIN:.0} per chain) for {}: estimates are unreliable; draw more",
                names_list(&low_ess)
            ));
        }

        let footer = format!(
            "{} chains × {} draws after {} warm-up; wall time {:.3} s; {} leapfrog steps; {} divergences",
            self.chains.len(),
            self.num_draws(),
            self.settings.tune,
            self.wall_time.as_secs_f64(),
            self.leapfrog_steps(),
            divergences
        );
        Summary {
            rows,
            warnings,
            footer,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name_width = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0);
        let headers = [
            ("mean", 9),
            ("sd", 8),
            ("hdi_3%", 9),
            ("hdi_97%", 9),
            ("mcse_mean", 10),
            ("mcse_sd", 8),
            ("ess_bulk", 9),
            ("ess_tail", 9),
            ("r_hat", 6),
        ];
        write!(f, "{:name_width$}", "")?;
        for (h, w) in headers {
            write!(f, " {h:>w$}")?;
        }
        writeln!(f)?;
        for r in &self.rows {
            write!(f, "{:<name_width$}", r.name)?;
            for (i, (v, (_, w))) in [
                r.mean,
                r.sd,
                r.hdi_3,
                r.hdi_97,
                r.mcse_mean,
                r.mcse_sd,
                r.ess_bulk,
                r.ess_tail,
                r.r_hat,
            ]
            .iter()
            .zip(headers)
            .enumerate()
            {
                match i {
                    6 | 7 => write!(f, " {:>w$.0}", v)?,
                    8 => write!(f, " {:>w$.2}", v)?,
                    _ => write!(f, " {:>w$.3}", v)?,
                }
            }
            writeln!(f)?;
        }
        writeln!(f, "\n{}", self.footer)?;
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
