//! Step methods for compound sampling (PyMC's `CompoundStep`, Metropolis-within-Gibbs).
//!
//! A compound iteration runs several steps in turn; each updates its own block of
//! variables with the rest held fixed, through the model's joint log-density (which is
//! every block's conditional log-density up to a constant, see
//! [`JointDensity`]). Every step shares one interface, [`StepMethod`]:
//!
//! | step | variables | module |
//! |---|---|---|
//! | NUTS on a block, with its own warm-up | continuous | [`nuts_step`] |
//! | Metropolis, Gaussian proposals, per-dimension scale | continuous | [`metropolis`] |
//! | Metropolis, rounded-Gaussian integer proposals | discrete | [`metropolis`] |
//! | BinaryGibbsMetropolis (flip proposals) | {0, 1} | [`binary_gibbs`] |
//! | CategoricalGibbsMetropolis (full-conditional proposals) | finite range | [`categorical_gibbs`] |
//! | Slice sampling (stepping out, shrinkage) | continuous | [`slice`](mod@slice) |
//!
//! Blocks are resolved against the layout once ([`Block`]); each evaluation then writes
//! the proposal into the chain's state and evaluates the joint density in plain `f64`.

pub mod binary_gibbs;
pub mod categorical_gibbs;
pub mod metropolis;
pub mod nuts_step;
pub mod slice;

use crate::error::ChainFailureReason;
use crate::nuts::SampleStats;
use ppl_core::layout::Layout;
use ppl_core::model::JointDensity;
use rand::RngCore;

/// The state of one chain: the unconstrained continuous vector, the integer state of the
/// discrete variables, and the joint log-density there (kept current by every step).
#[derive(Debug, Clone, PartialEq)]
pub struct ChainState {
    /// Unconstrained continuous values.
    pub u: Vec<f64>,
    /// Values of the discrete variables.
    pub z: Vec<i64>,
    /// Joint log-density (with Jacobians) at `(u, z)`.
    pub logp: f64,
}

/// What one step reports for one iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean acceptance probability of the step's updates this iteration (NUTS: its
    /// acceptance statistic; slice sampling: 1).
    pub accept: f64,
    /// Log-density evaluations (with gradient for NUTS) this iteration.
    pub evaluations: u32,
    /// NUTS's statistics, for a NUTS step.
    pub nuts: Option<SampleStats>,
}

/// One step of a compound sampler: updates its block of `state` in place, keeping
/// `state.logp` equal to the joint log-density at the new state.
pub trait StepMethod: Send {
    /// A label for traces and messages, such as `metropolis[s]`.
    fn label(&self) -> &str;

    /// One update. `tuning` is true during warm-up, when the step may adapt its
    /// proposal; the first call with `tuning == false` ends its warm-up.
    fn step(
        &mut self,
        density: &dyn JointDensity,
        state: &mut ChainState,
        rng: &mut dyn RngCore,
        tuning: bool,
    ) -> Result<StepStats, ChainFailureReason>;
}

/// Variables resolved against a layout: their indices in the continuous vector and in
/// the integer state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    /// The variables' names, in model order.
    pub variables: Vec<String>,
    /// Indices into the unconstrained continuous vector.
    pub continuous: Vec<usize>,
    /// Indices into the integer state.
    pub discrete: Vec<usize>,
}

impl Block {
    /// The block of the named variables (which must exist and be free).
    pub fn new(layout: &Layout, names: &[String]) -> Result<Block, ppl_core::Error> {
        let mut block = Block::default();
        for name in names {
            let info = layout.variable(name).ok_or_else(|| {
                ppl_core::Error::Point(format!("the model has no variable `{name}`"))
            })?;
            if info.fixed {
                return Err(ppl_core::Error::Point(format!(
                    "`{name}` is conditioned on a value; it has nothing to sample"
                )));
            }
            block.variables.push(name.clone());
            if info.discrete {
                block.discrete.extend(info.offset..info.offset + info.len);
            } else {
                block
                    .continuous
                    .extend(info.offset..info.offset + info.unconstrained_len);
            }
        }
        Ok(block)
    }
}

/// The Metropolis acceptance decision for a log-ratio, counting NaN as a rejection.
/// Returns the acceptance probability and the decision.
pub(crate) fn metropolis_accept(log_ratio: f64, rng: &mut dyn RngCore) -> (f64, bool) {
    use rand::Rng;
    if log_ratio.is_nan() {
        return (0.0, false);
    }
    let p = log_ratio.min(0.0).exp();
    let accept = p >= 1.0 || rng.gen::<f64>() < p;
    (p, accept)
}

/// Evaluates the joint log-density, mapping a non-finite value to −∞ (zero density).
pub(crate) fn joint_logp(
    density: &dyn JointDensity,
    u: &[f64],
    z: &[i64],
) -> Result<f64, ChainFailureReason> {
    let lp = density
        .logp_joint(u, z)
        .map_err(ChainFailureReason::Model)?;
    Ok(if lp.is_nan() { f64::NEG_INFINITY } else { lp })
}
