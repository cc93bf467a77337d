//! Typed errors of sampling: invalid settings, initialisation, failed chains.

use crate::adapt::AdaptError;
use crate::trace::Trace;
use std::fmt;
use thiserror::Error;

/// An invalid sampler setting, reported before anything runs.
#[derive(Debug, Clone, PartialEq, Error)]
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
#[derive(Debug, Clone, PartialEq, Error)]
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
#[derive(Debug, Clone, PartialEq, Error)]
#[error("chain {chain} failed: {reason}")]
pub struct ChainFailure {
    /// The chain's id (0-based).
    pub chain: usize,
    /// What went wrong.
    pub reason: ChainFailureReason,
}

/// Any error from [`Sample::sample`](crate::Sample::sample) and friends.
#[derive(Debug, Error)]
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
}

/// Why an initial position was rejected.
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
