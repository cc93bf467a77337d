//! Typed errors of sampling: invalid settings, initialisation, failed chains.

use crate::adapt::AdaptError;
use crate::trace::Trace;
use std::fmt;
use thiserror::Error;

/// An invalid sampler setting, reported before anything runs.
///
/// [`Nuts::validate`](crate::Nuts::validate) returns it; sampling returns it wrapped in
/// [`SampleError::Settings`].
///
/// ```
/// use ppl_infer::{Nuts, SettingsError};
/// let nuts = Nuts::default();
/// assert_eq!(nuts.clone().target_accept(1.5).validate(), Err(SettingsError::TargetAccept(1.5)));
/// assert_eq!(nuts.clone().max_depth(0).validate(), Err(SettingsError::MaxDepth(0)));
/// assert_eq!(nuts.clone().draws(0).validate(), Err(SettingsError::NoDraws));
/// let three = nuts.chains(3).initial_positions(vec![vec![0.0], vec![1.0]]);
/// let err = three.validate().unwrap_err();
/// assert_eq!(err, SettingsError::InitialPositionCount { chains: 3, found: 2 });
/// assert_eq!(
///     err.to_string(),
///     "initial positions: give one for all chains or one per chain (3), got 2"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// `chains(0)`.
    #[error("the number of chains must be at least 1")]
    NoChains,
    /// A Metropolis tuning interval of zero.
    #[error("the tuning interval must be at least 1 iteration")]
    TuneInterval,
    /// Initial positions given to a compound sampler.
    #[error("initial positions on the unconstrained scale are not supported by compound sampling (its states include discrete values); condition the model instead")]
    CompoundInitialPositions,
    /// `draws(0)`.
    #[error("the number of draws per chain must be at least 1")]
    NoDraws,
    /// `threads(0)`.
    #[error("the number of threads must be at least 1")]
    NoThreads,
    /// `target_accept` outside the open interval (0, 1).
    #[error("target acceptance must lie strictly between 0 and 1, got {0}")]
    TargetAccept(f64),
    /// `max_depth` outside 1..=30.
    #[error("maximum tree depth must lie between 1 and 30, got {0}")]
    MaxDepth(u32),
    /// A non-positive or non-finite initial step size.
    #[error("initial step size must be positive and finite, got {0}")]
    StepSize(f64),
    /// Initial positions given for neither one nor every chain.
    #[error("initial positions: give one for all chains or one per chain ({chains}), got {found}")]
    InitialPositionCount {
        /// Number of chains.
        chains: usize,
        /// Number of positions given.
        found: usize,
    },
}

/// Why one chain stopped.
///
/// ```
/// use ppl_infer::adapt::AdaptError;
/// use ppl_infer::ChainFailureReason;
///
/// // A model error raised during adaptation counts as a model error.
/// let model_error = ppl_core::Error::Point("bad".into());
/// let reason = ChainFailureReason::from(AdaptError::Model(model_error.clone()));
/// assert_eq!(reason, ChainFailureReason::Model(model_error));
/// assert!(reason.to_string().starts_with("the model returned an error"));
/// // Other adaptation failures stay adaptation failures.
/// let reason = ChainFailureReason::from(AdaptError::ImproperPosterior);
/// assert_eq!(reason, ChainFailureReason::Adaptation(AdaptError::ImproperPosterior));
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ChainFailureReason {
    /// The model returned an error.
    #[error("the model returned an error: {0}")]
    Model(ppl_core::Error),
    /// Code inside the chain (usually the model) panicked.
    #[error("panicked: {0}")]
    Panic(String),
    /// Warm-up adaptation failed.
    #[error("adaptation failed: {0}")]
    Adaptation(AdaptError),
}

impl From<AdaptError> for ChainFailureReason {
    fn from(e: AdaptError) -> Self {
        match e {
            AdaptError::Model(e) => ChainFailureReason::Model(e),
            other => ChainFailureReason::Adaptation(other),
        }
    }
}

impl From<ppl_core::Error> for ChainFailureReason {
    fn from(e: ppl_core::Error) -> Self {
        ChainFailureReason::Model(e)
    }
}

/// One chain that failed, and why.
///
/// ```
/// use ppl_infer::{sample_log_density, ChainFailureReason, LogDensity, Nuts, SampleError};
///
/// /// A standard normal whose code fails for `x > 1`.
/// struct Fragile;
/// impl LogDensity for Fragile {
///     fn dim(&self) -> usize { 1 }
///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
///         if x[0] > 1.0 {
///             return Err(ppl_core::Error::Point(format!("cannot evaluate at {}", x[0])));
///         }
///         Ok(-0.5 * x[0] * x[0])
///     }
///     fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
///         g[0] = -x[0];
///         self.logp(x)
///     }
/// }
///
/// let nuts = Nuts::default().chains(2).draws(100).tune(100).seed(1).progress(false);
/// let Err(SampleError::ChainsFailed { failures, partial }) = sample_log_density(&Fragile, nuts)
/// else {
///     panic!("the chains should fail")
/// };
/// assert_eq!(failures.len(), 2);
/// assert!(partial.chains().is_empty()); // the draws of chains that finished
/// for (c, failure) in failures.iter().enumerate() {
///     assert_eq!(failure.chain, c);
///     assert!(matches!(failure.reason, ChainFailureReason::Model(_)));
///     let message = failure.to_string();
///     assert!(message.starts_with(&format!("chain {c} failed: the model returned an error")));
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[error("chain {chain} failed: {reason}")]
pub struct ChainFailure {
    /// The chain's id (0-based).
    pub chain: usize,
    /// What went wrong.
    pub reason: ChainFailureReason,
}

/// Any error from [`Sample::sample`](crate::Sample::sample) and friends.
///
/// ```
/// use ppl_infer::{sample_log_density, LogDensity, Nuts, SampleError, SettingsError};
///
/// /// A standard normal in `self.0` dimensions.
/// struct StdNormal(usize);
/// impl LogDensity for StdNormal {
///     fn dim(&self) -> usize { self.0 }
///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
///         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
///     }
///     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
///         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
///         self.logp(x)
///     }
/// }
///
/// // Settings are checked before anything runs.
/// let err = sample_log_density(&StdNormal(2), Nuts::default().chains(0)).unwrap_err();
/// assert!(matches!(err, SampleError::Settings(SettingsError::NoChains)));
/// assert_eq!(
///     err.to_string(),
///     "invalid sampler settings: the number of chains must be at least 1"
/// );
/// // So is the dimension.
/// let err = sample_log_density(&StdNormal(0), Nuts::default()).unwrap_err();
/// assert!(matches!(err, SampleError::NothingToSample));
/// ```
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SampleError {
    /// An invalid setting.
    #[error("invalid sampler settings: {0}")]
    Settings(#[from] SettingsError),
    /// The model has discrete variables.
    #[error("NUTS cannot sample discrete variables ({}); use compound sampling, `model.sample(Compound::new(nuts))`, which gives the continuous variables to NUTS and the discrete ones to Gibbs/Metropolis steps", .0.join(", "))]
    DiscreteVariables(Vec<String>),
    /// The model has no free continuous variables.
    #[error("the model has no free continuous variables to sample")]
    NothingToSample,
    /// A step assignment of a compound sampler is invalid.
    #[error("step assignment: {0}")]
    Assignment(#[from] crate::compound::AssignmentError),
    /// A chain's initial position was invalid or none could be found; no chain ran.
    #[error("chain {chain}: no valid initial position: {source}")]
    Init {
        /// The chain's id.
        chain: usize,
        /// Why.
        source: InitFailure,
    },
    /// One or more chains failed; the others' draws are in `partial`.
    #[error("{}", ChainsFailedDisplay(failures, partial.chains().len()))]
    ChainsFailed {
        /// The failed chains.
        failures: Vec<ChainFailure>,
        /// The trace of the chains that finished.
        partial: Box<Trace>,
    },
    /// Computing something for one draw of a trace failed (predictive sampling or the
    /// pointwise log-likelihood: the draw lacks a variable of the model, a value is
    /// outside its variable's support, the model changed its variables, …).
    #[error("chain {chain}, draw {draw}: {source}")]
    PerDraw {
        /// The chain's position in the trace.
        chain: usize,
        /// The draw's index after warm-up, or in warm-up for a kept warm-up draw.
        draw: usize,
        /// Why.
        source: ppl_core::Error,
    },
    /// The trace already records a quantity under the name of an observation (posterior
    /// predictive draws were added before, or the trace comes from another model), or a
    /// random variable under the name of one of the model's deterministics.
    #[error("the trace already records `{0}`: posterior predictive sampling would add `{0}` to it again")]
    NameTaken(String),
}

/// Why an initial position was rejected.
///
/// ```
/// use ppl_infer::{sample_log_density, InitFailure, LogDensity, Nuts, SampleError};
///
/// /// An exponential distribution: zero density for `x ≤ 0`.
/// struct Exponential;
/// impl LogDensity for Exponential {
///     fn dim(&self) -> usize { 1 }
///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
///         Ok(if x[0] > 0.0 { -x[0] } else { f64::NEG_INFINITY })
///     }
///     fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
///         g[0] = -1.0;
///         self.logp(x)
///     }
/// }
///
/// // A user-given initial position outside the support: no chain runs.
/// let nuts = Nuts::default().initial_positions(vec![vec![-1.0]]).progress(false);
/// let err = sample_log_density(&Exponential, nuts).unwrap_err();
/// let SampleError::Init { chain: 0, source: InitFailure::Model(reason) } = &err else {
///     panic!("expected an initialisation failure, got {err}")
/// };
/// assert!(matches!(reason, ppl_core::Error::Init { attempts: 1, .. }));
/// assert!(err.to_string().starts_with("chain 0: no valid initial position"));
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InitFailure {
    /// The model's own check or search failed (with its per-variable table).
    #[error(transparent)]
    Model(#[from] ppl_core::Error),
    /// The model panicked while the position was checked.
    #[error("the model panicked: {0}")]
    Panic(String),
}

struct ChainsFailedDisplay<'a>(&'a [ChainFailure], usize);

impl fmt::Display for ChainsFailedDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0.len() + self.1;
        write!(f, "{} of {} chains failed", self.0.len(), total)?;
        for failure in self.0 {
            write!(f, "\n  {failure}")?;
        }
        if self.1 > 0 {
            write!(
                f,
                "\n  (the other chains' draws are in the error's partial trace)"
            )?;
        }
        Ok(())
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic payload that is not a string)".to_string()
    }
}
