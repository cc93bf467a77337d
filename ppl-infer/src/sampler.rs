//! NUTS settings (a builder) and the entry points that run the sampler.

use crate::chains::run_chains;
use crate::compound::{sample_compound, Compound};
use crate::error::{SampleError, SettingsError};
use crate::metric::Metric;
use crate::target::{RawDensity, SampleTarget};
use crate::trace::Trace;
use ppl_core::model::{LogDensity, Model, ModelTemplate};

/// Settings of the No-U-Turn sampler, built with chained methods.
///
/// Defaults follow Stan: 4 chains, 1000 warm-up (tuning) iterations and 1000 draws per
/// chain, target acceptance 0.8, maximum tree depth 10, initial step size 1; the metric
/// is diagonal, adapted from draws and gradients as nutpie does (which needs fewer
/// gradient evaluations per effective draw than Stan's [`Metric::Diagonal`] on our
/// benchmark set), with a low-rank correction where the parameters are strongly
/// correlated ([`Metric::Auto`], see [`metric`](Self::metric)). A progress bar per chain
/// is shown on stderr when it is a terminal. Without [`seed`](Self::seed) a random seed
/// is drawn and recorded in the trace. Settings are checked when sampling starts
/// ([`validate`](Self::validate)).
///
/// ```
/// use ppl_infer::Nuts;
/// let nuts = Nuts::default().chains(2).draws(500).tune(500).seed(42).target_accept(0.9);
/// assert!(nuts.validate().is_ok());
/// assert!(Nuts::default().chains(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Nuts {
    pub(crate) chains: usize,
    pub(crate) draws: usize,
    pub(crate) tune: usize,
    pub(crate) seed: Option<u64>,
    pub(crate) target_accept: f64,
    pub(crate) max_depth: u32,
    pub(crate) keep_warmup: bool,
    pub(crate) threads: Option<usize>,
    pub(crate) initial_step_size: f64,
    pub(crate) initial_positions: Vec<Vec<f64>>,
    pub(crate) metric: Metric,
    pub(crate) progress: bool,
    pub(crate) force_progress: bool,
}

impl Default for Nuts {
    fn default() -> Self {
        Nuts {
            chains: 4,
            draws: 1000,
            tune: 1000,
            seed: None,
            target_accept: 0.8,
            max_depth: 10,
            keep_warmup: false,
            threads: None,
            initial_step_size: 1.0,
            initial_positions: Vec::new(),
            metric: Metric::default(),
            progress: true,
            force_progress: false,
        }
    }
}

impl Nuts {
    /// Number of chains (default 4).
    ///
    /// ```
    /// use ppl_infer::{Nuts, SettingsError};
    /// assert_eq!(Nuts::default().num_chains(), 4);
    /// assert_eq!(Nuts::default().chains(2).num_chains(), 2);
    /// assert_eq!(Nuts::default().chains(0).validate(), Err(SettingsError::NoChains));
    /// ```
    pub fn chains(mut self, chains: usize) -> Self {
        self.chains = chains;
        self
    }

    /// Draws kept per chain after warm-up (default 1000).
    ///
    /// ```
    /// use ppl_infer::{Nuts, SettingsError};
    /// assert_eq!(Nuts::default().num_draws(), 1000);
    /// assert_eq!(Nuts::default().draws(200).num_draws(), 200);
    /// assert_eq!(Nuts::default().draws(0).validate(), Err(SettingsError::NoDraws));
    /// ```
    pub fn draws(mut self, draws: usize) -> Self {
        self.draws = draws;
        self
    }

    /// Warm-up (tuning) iterations per chain (default 1000). Below 20 only the step size
    /// is adapted.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert_eq!(Nuts::default().num_tune(), 1000);
    /// assert_eq!(Nuts::default().tune(200).num_tune(), 200);
    /// assert!(Nuts::default().tune(0).validate().is_ok()); // no warm-up at all
    /// ```
    pub fn tune(mut self, tune: usize) -> Self {
        self.tune = tune;
        self
    }

    /// Seed of every chain's random stream (chain `c` uses stream `c`).
    ///
    /// ```
    /// use ppl_infer::{sample_log_density, Nuts};
    /// # use ppl_infer::LogDensity;
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
    /// let nuts = Nuts::default().chains(2).draws(100).tune(100).progress(false);
    /// let a = sample_log_density(&StdNormal, nuts.clone().seed(42))?;
    /// let b = sample_log_density(&StdNormal, nuts.clone().seed(42))?;
    /// assert_eq!(a.seed(), 42);
    /// // The same seed gives the same draws.
    /// assert_eq!(a.samples("x", 0), b.samples("x", 0));
    /// // Without a seed one is drawn and recorded, so that the run can be repeated.
    /// let c = sample_log_density(&StdNormal, nuts)?;
    /// assert_eq!(c.settings().seed_value(), Some(c.seed()));
    /// # Ok::<(), ppl_infer::SampleError>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Target mean acceptance statistic for step-size adaptation, in (0, 1) (default 0.8).
    ///
    /// ```
    /// use ppl_infer::{Nuts, SettingsError};
    /// assert_eq!(Nuts::default().target_acceptance(), 0.8);
    /// assert_eq!(Nuts::default().target_accept(0.95).target_acceptance(), 0.95);
    /// let err = Nuts::default().target_accept(1.0).validate();
    /// assert_eq!(err, Err(SettingsError::TargetAccept(1.0)));
    /// ```
    pub fn target_accept(mut self, target_accept: f64) -> Self {
        self.target_accept = target_accept;
        self
    }

    /// Maximum number of trajectory doublings, 1 to 30 (default 10).
    ///
    /// ```
    /// use ppl_infer::{sample_log_density, Nuts, SettingsError};
    /// # use ppl_infer::LogDensity;
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
    /// assert_eq!(Nuts::default().max_depth(31).validate(), Err(SettingsError::MaxDepth(31)));
    /// let nuts = Nuts::default().chains(1).draws(100).tune(100).seed(1).progress(false);
    /// let nuts = nuts.max_depth(2);
    /// let trace = sample_log_density(&StdNormal, nuts)?;
    /// assert_eq!(trace.settings().max_tree_depth(), 2);
    /// // No trajectory is longer than two doublings, at most 2² leapfrog steps.
    /// assert!(trace.chains()[0].stats.iter().all(|s| s.tree_depth <= 2 && s.n_leapfrog <= 4));
    /// # Ok::<(), ppl_infer::SampleError>(())
    /// ```
    pub fn max_depth(mut self, max_depth: u32) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Also record warm-up draws (default false; warm-up statistics are always kept).
    ///
    /// ```
    /// use ppl_infer::{sample_log_density, Nuts};
    /// # use ppl_infer::LogDensity;
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
    /// let nuts = Nuts::default().chains(2).draws(100).tune(50).seed(1).progress(false);
    /// let trace = sample_log_density(&StdNormal, nuts.clone().keep_warmup(true))?;
    /// let warmup = trace.warmup_samples("x", 0).unwrap();
    /// assert!(warmup.iter().all(|chain| chain.len() == 50));
    /// // By default only the warm-up statistics are kept.
    /// let trace = sample_log_density(&StdNormal, nuts)?;
    /// assert!(trace.warmup_samples("x", 0).is_none());
    /// assert_eq!(trace.chains()[0].warmup_stats.len(), 50);
    /// # Ok::<(), ppl_infer::SampleError>(())
    /// ```
    pub fn keep_warmup(mut self, keep_warmup: bool) -> Self {
        self.keep_warmup = keep_warmup;
        self
    }

    /// Number of threads running chains (default: the available parallelism, at most one
    /// per chain). Results do not depend on it.
    ///
    /// ```
    /// use ppl_infer::{sample_log_density, Nuts, SettingsError};
    /// # use ppl_infer::LogDensity;
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
    /// assert_eq!(Nuts::default().threads(0).validate(), Err(SettingsError::NoThreads));
    /// let nuts = Nuts::default().chains(2).draws(100).tune(100).seed(1).progress(false);
    /// let one = sample_log_density(&StdNormal, nuts.clone().threads(1))?;
    /// let two = sample_log_density(&StdNormal, nuts.threads(2))?;
    /// assert_eq!(one.samples("x", 1), two.samples("x", 1));
    /// # Ok::<(), ppl_infer::SampleError>(())
    /// ```
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Step size the warm-up heuristic starts from (default 1).
    ///
    /// ```
    /// use ppl_infer::{Nuts, SettingsError};
    /// assert!(Nuts::default().initial_step_size(0.1).validate().is_ok());
    /// let zero = Nuts::default().initial_step_size(0.0);
    /// assert_eq!(zero.validate(), Err(SettingsError::StepSize(0.0)));
    /// assert!(Nuts::default().initial_step_size(f64::NAN).validate().is_err());
    /// ```
    pub fn initial_step_size(mut self, step_size: f64) -> Self {
        self.initial_step_size = step_size;
        self
    }

    /// Initial positions on the unconstrained scale: one shared by all chains, or one
    /// per chain (default: Stan's uniform(−2, 2), retried).
    ///
    /// ```
    /// use ppl_infer::{Nuts, SettingsError};
    /// let nuts = Nuts::default().chains(2);
    /// // One position for every chain, or one per chain.
    /// assert!(nuts.clone().initial_positions(vec![vec![0.0, 0.0]]).validate().is_ok());
    /// let per_chain = vec![vec![0.0, 0.0], vec![1.0, -1.0]];
    /// assert!(nuts.clone().initial_positions(per_chain).validate().is_ok());
    /// let three = nuts.initial_positions(vec![vec![0.0, 0.0]; 3]);
    /// let err = SettingsError::InitialPositionCount { chains: 2, found: 3 };
    /// assert_eq!(three.validate(), Err(err));
    /// ```
    pub fn initial_positions(mut self, positions: Vec<Vec<f64>>) -> Self {
        self.initial_positions = positions;
        self
    }

    /// The metric and its warm-up adaptation (default [`Metric::Auto`]).
    /// The low-rank correction pays off on posteriors with strongly correlated
    /// parameters, such as regressions with correlated predictors: on the benchmark
    /// set's regressions (arK, kidiq, diamonds) it needs 6–30× fewer gradients per
    /// effective draw than the diagonal alone. [`Metric::Auto`] applies it whole where
    /// it lowers the condition number at least tenfold, along at most four stretched
    /// directions where it gains less (garch, wells, radon: 1.3–2.7× the diagonal's ESS
    /// per gradient), and otherwise follows [`Metric::GradientDiagonal`] exactly (on
    /// the benchmark set: eight schools and gauss100); [`Metric::LowRank`] applies
    /// every correction it estimates (it mixes worse on the funnel-shaped GP
    /// posterior, costs more than it gains on gauss100, and on garch11 its larger step
    /// sizes leave occasional lone divergences, but it gains 5× on wells);
    /// [`Metric::GradientDiagonal`] never corrects and spends nothing on estimates.
    ///
    /// ```
    /// use ppl_infer::{sample_log_density, Metric, Nuts};
    /// # use ppl_infer::LogDensity;
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
    /// assert_eq!(Nuts::default().metric_kind(), Metric::Auto);
    /// let nuts = Nuts::default().chains(1).draws(100).tune(100).seed(1).progress(false);
    /// // A diagonal metric records its diagonal only, a dense one the whole matrix.
    /// let diagonal = sample_log_density(&StdNormal, nuts.clone().metric(Metric::Diagonal))?;
    /// assert_eq!(diagonal.chains()[0].inv_mass.len(), 2);
    /// assert!(diagonal.chains()[0].inv_mass_matrix.is_empty());
    /// let dense = sample_log_density(&StdNormal, nuts.metric(Metric::Dense))?;
    /// assert_eq!(dense.settings().metric_kind(), Metric::Dense);
    /// assert_eq!(dense.chains()[0].inv_mass_matrix.len(), 4);
    /// # Ok::<(), ppl_infer::SampleError>(())
    /// ```
    pub fn metric(mut self, metric: Metric) -> Self {
        self.metric = metric;
        self
    }

    /// Show a progress bar per chain on stderr (default true; never shown when stderr
    /// is not a terminal). Results do not depend on it.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert!(Nuts::default().shows_progress());
    /// assert!(!Nuts::default().progress(false).shows_progress());
    /// ```
    pub fn progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Runs the progress display even when stderr is not a terminal (for tests and
    /// overhead measurements; indicatif still draws only on a terminal).
    #[doc(hidden)]
    pub fn force_progress(mut self, force: bool) -> Self {
        self.force_progress = force;
        self
    }

    /// The metric.
    ///
    /// ```
    /// use ppl_infer::{Metric, Nuts};
    /// assert_eq!(Nuts::default().metric_kind(), Metric::Auto);
    /// assert_eq!(Nuts::default().metric(Metric::Dense).metric_kind(), Metric::Dense);
    /// ```
    pub fn metric_kind(&self) -> Metric {
        self.metric
    }

    /// Whether a progress display was asked for.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert!(Nuts::default().shows_progress());
    /// assert!(!Nuts::default().progress(false).shows_progress());
    /// ```
    pub fn shows_progress(&self) -> bool {
        self.progress
    }

    /// The seed, if one was set.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert_eq!(Nuts::default().seed_value(), None); // drawn when sampling starts
    /// assert_eq!(Nuts::default().seed(7).seed_value(), Some(7));
    /// ```
    pub fn seed_value(&self) -> Option<u64> {
        self.seed
    }

    /// Number of chains.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert_eq!(Nuts::default().num_chains(), 4);
    /// assert_eq!(Nuts::default().chains(2).num_chains(), 2);
    /// ```
    pub fn num_chains(&self) -> usize {
        self.chains
    }

    /// Draws per chain.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert_eq!(Nuts::default().num_draws(), 1000);
    /// assert_eq!(Nuts::default().draws(250).num_draws(), 250);
    /// ```
    pub fn num_draws(&self) -> usize {
        self.draws
    }

    /// Warm-up iterations per chain.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert_eq!(Nuts::default().num_tune(), 1000);
    /// assert_eq!(Nuts::default().tune(300).num_tune(), 300);
    /// ```
    pub fn num_tune(&self) -> usize {
        self.tune
    }

    /// Maximum tree depth.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert_eq!(Nuts::default().max_tree_depth(), 10);
    /// assert_eq!(Nuts::default().max_depth(12).max_tree_depth(), 12);
    /// ```
    pub fn max_tree_depth(&self) -> u32 {
        self.max_depth
    }

    /// Target acceptance.
    ///
    /// ```
    /// use ppl_infer::Nuts;
    /// assert_eq!(Nuts::default().target_acceptance(), 0.8);
    /// assert_eq!(Nuts::default().target_accept(0.9).target_acceptance(), 0.9);
    /// ```
    pub fn target_acceptance(&self) -> f64 {
        self.target_accept
    }

    /// Checks every setting.
    ///
    /// ```
    /// use ppl_infer::{Nuts, SettingsError};
    /// assert_eq!(Nuts::default().validate(), Ok(()));
    /// assert_eq!(Nuts::default().threads(0).validate(), Err(SettingsError::NoThreads));
    /// ```
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.chains == 0 {
            return Err(SettingsError::NoChains);
        }
        if self.draws == 0 {
            return Err(SettingsError::NoDraws);
        }
        if self.threads == Some(0) {
            return Err(SettingsError::NoThreads);
        }
        if !(self.target_accept > 0.0 && self.target_accept < 1.0) {
            return Err(SettingsError::TargetAccept(self.target_accept));
        }
        if !(1..=30).contains(&self.max_depth) {
            return Err(SettingsError::MaxDepth(self.max_depth));
        }
        if !(self.initial_step_size > 0.0 && self.initial_step_size.is_finite()) {
            return Err(SettingsError::StepSize(self.initial_step_size));
        }
        let n = self.initial_positions.len();
        if n > 1 && n != self.chains {
            return Err(SettingsError::InitialPositionCount {
                chains: self.chains,
                found: n,
            });
        }
        Ok(())
    }
}

/// `model.sample(nuts)`: runs NUTS on a model.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Normal;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{Nuts, Sample};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 1)`, one observation `y = 1 ~ Normal(mu, 1)`: posterior N(0.5, ½).
/// struct Conjugate;
/// impl ModelTemplate for Conjugate {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "conjugate" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
///         api::observe(ctx, "y", Normal::new(mu, 1.0), 1.0);
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Conjugate)?;
/// let trace = model.sample(Nuts::default().chains(2).draws(500).tune(300).seed(3))?;
/// let mean = trace.mean("mu").unwrap()[0];
/// assert!((mean - 0.5).abs() < 0.15);
/// # Ok(()) }
/// ```
pub trait Sample {
    /// Samples with `settings`: [`Nuts`] runs NUTS on the continuous variables (and
    /// refuses a model with discrete ones); [`Compound`] assigns steps to every
    /// variable, NUTS for the continuous ones and Gibbs/Metropolis for the discrete ones
    /// unless told otherwise.
    fn sample(&self, settings: impl Into<Sampler>) -> Result<Trace, SampleError>;
}

/// What [`Sample::sample`] runs.
///
/// ```
/// use ppl_infer::{Compound, Nuts, Sampler, StepKind};
/// let nuts = Nuts::default().chains(2);
/// assert_eq!(Sampler::from(nuts.clone()), Sampler::Nuts(nuts.clone()));
/// let compound = Compound::new(nuts).assign("k", StepKind::Metropolis);
/// assert!(matches!(Sampler::from(compound), Sampler::Compound(c) if c.assignments().len() == 1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Sampler {
    /// NUTS alone.
    Nuts(Nuts),
    /// Compound steps.
    Compound(Compound),
}

impl From<Nuts> for Sampler {
    fn from(nuts: Nuts) -> Self {
        Sampler::Nuts(nuts)
    }
}

impl From<Compound> for Sampler {
    fn from(compound: Compound) -> Self {
        Sampler::Compound(compound)
    }
}

impl<T: ModelTemplate + Sync> Sample for Model<T> {
    fn sample(&self, settings: impl Into<Sampler>) -> Result<Trace, SampleError> {
        match settings.into() {
            Sampler::Nuts(nuts) => sample_target(self, nuts),
            Sampler::Compound(compound) => sample_compound(self, compound),
        }
    }
}

/// Runs NUTS on any [`LogDensity`]; the trace records the unconstrained vector as `x`.
///
/// ```
/// use ppl_infer::{sample_log_density, LogDensity, Nuts};
///
/// /// A standard normal in 2 dimensions.
/// struct StdNormal;
/// impl LogDensity for StdNormal {
///     fn dim(&self) -> usize { 2 }
///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
///         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
///     }
///     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
///         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
///         self.logp(x)
///     }
/// }
///
/// let trace = sample_log_density(&StdNormal, Nuts::default().chains(2).draws(400).seed(1)).unwrap();
/// assert_eq!(trace.chains().len(), 2);
/// let summary = trace.summary();
/// assert!(summary.row("x[1]").unwrap().r_hat < 1.05);
/// ```
pub fn sample_log_density<D: LogDensity + Sync + ?Sized>(
    density: &D,
    nuts: Nuts,
) -> Result<Trace, SampleError> {
    sample_target(&RawDensity(density), nuts)
}

/// Runs NUTS on any [`SampleTarget`].
///
/// ```
/// use ppl_infer::{sample_log_density, sample_target, Nuts, RawDensity};
/// # use ppl_infer::LogDensity;
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
/// let nuts = Nuts::default().chains(2).draws(100).tune(100).seed(1).progress(false);
/// let trace = sample_target(&RawDensity(&StdNormal), nuts.clone())?;
/// assert_eq!(trace.column_names(), ["x[0]", "x[1]"]);
/// // `sample_log_density` is this call.
/// let same = sample_log_density(&StdNormal, nuts)?;
/// assert_eq!(trace.samples("x", 1), same.samples("x", 1));
/// # Ok::<(), ppl_infer::SampleError>(())
/// ```
pub fn sample_target<T: SampleTarget + ?Sized>(
    target: &T,
    nuts: Nuts,
) -> Result<Trace, SampleError> {
    nuts.validate()?;
    let discrete = target.discrete_variables();
    if !discrete.is_empty() {
        return Err(SampleError::DiscreteVariables(discrete));
    }
    if target.dim() == 0 {
        return Err(SampleError::NothingToSample);
    }
    run_chains(target, nuts)
}
