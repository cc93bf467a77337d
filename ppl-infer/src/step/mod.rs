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
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 10)`.
/// # struct Wide;
/// # impl ModelTemplate for Wide {
/// #     type Output<R: Real> = ();
/// #     fn name(&self) -> &'static str { "wide" }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let _mu: R = api::sample(ctx, "mu", Normal::new(0.0, 10.0), NoShape, None);
/// #     }
/// # }
/// use ppl_infer::step::slice::Slice;
/// use ppl_infer::step::{Block, ChainState, StepMethod};
/// use rand::SeedableRng;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Wide`: mu ~ Normal(0, 10).
/// let model = Model::new(Wide)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let (u, z) = model.initial_state(&mut rng)?;
/// let logp = model.logp_joint(&u, &z)?;
/// let mut state = ChainState { u, z, logp };
/// assert_eq!((state.u.len(), state.z.len()), (1, 0)); // no discrete variables
///
/// let mut slice = Slice::new(Block::new(model.layout(), &["mu".to_string()])?);
/// let before = state.u[0];
/// slice.step(&model, &mut state, &mut rng, true)?;
/// // The step moved `mu` and kept the log-density current.
/// assert_ne!(state.u[0], before);
/// assert_eq!(state.logp, model.logp_joint(&state.u, &state.z)?);
/// # Ok(()) }
/// ```
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
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{Bernoulli, Categorical, Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 1)`, `z ~ Bernoulli(0.3)`, `k ~ Categorical([0.2, 0.3, 0.5])`.
/// # struct Mixed;
/// # impl ModelTemplate for Mixed {
/// #     type Output<R: Real> = ();
/// #     fn name(&self) -> &'static str { "mixed" }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let _mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
/// #         let _z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
/// #         let _k: i64 = api::sample(ctx, "k", Categorical::new(&[0.2, 0.3, 0.5][..]), NoShape, None);
/// #     }
/// # }
/// use ppl_infer::step::metropolis::Metropolis;
/// use ppl_infer::step::slice::Slice;
/// use ppl_infer::step::{Block, ChainState, StepMethod, StepStats};
/// use rand::SeedableRng;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Mixed`: mu ~ Normal(0, 1), z ~ Bernoulli(0.3), k ~ Categorical([0.2, 0.3, 0.5]).
/// let model = Model::new(Mixed)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
/// let (u, z) = model.initial_state(&mut rng)?;
/// let logp = model.logp_joint(&u, &z)?;
/// let mut state = ChainState { u, z, logp };
///
/// // Metropolis on `mu` and `k`: one proposal, one evaluation per element.
/// let block = Block::new(model.layout(), &["mu".to_string(), "k".to_string()])?;
/// let stats: StepStats = Metropolis::new(block, 100).step(&model, &mut state, &mut rng, true)?;
/// assert_eq!(stats.evaluations, 2);
/// assert!((0.0..=1.0).contains(&stats.accept) && stats.nuts.is_none());
/// // Slice sampling always moves: its acceptance is 1, its cost at least 3 evaluations.
/// let block = Block::new(model.layout(), &["mu".to_string()])?;
/// let stats = Slice::new(block).step(&model, &mut state, &mut rng, true)?;
/// assert_eq!(stats.accept, 1.0);
/// assert!(stats.evaluations >= 3);
/// # Ok(()) }
/// ```
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
///
/// Steps can be run by hand, as a compound sampler runs them:
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{Bernoulli, Categorical, Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 1)`, `z ~ Bernoulli(0.3)`, `k ~ Categorical([0.2, 0.3, 0.5])`.
/// # struct Mixed;
/// # impl ModelTemplate for Mixed {
/// #     type Output<R: Real> = ();
/// #     fn name(&self) -> &'static str { "mixed" }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let _mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
/// #         let _z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
/// #         let _k: i64 = api::sample(ctx, "k", Categorical::new(&[0.2, 0.3, 0.5][..]), NoShape, None);
/// #     }
/// # }
/// use ppl_infer::step::binary_gibbs::BinaryGibbsMetropolis;
/// use ppl_infer::step::categorical_gibbs::CategoricalGibbsMetropolis;
/// use ppl_infer::step::slice::Slice;
/// use ppl_infer::step::{Block, ChainState, StepMethod};
/// use rand::SeedableRng;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Mixed`: mu ~ Normal(0, 1), z ~ Bernoulli(0.3), k ~ Categorical([0.2, 0.3, 0.5]).
/// let model = Model::new(Mixed)?;
/// let block = |name: &str| Block::new(model.layout(), &[name.to_string()]);
/// let mut steps: Vec<Box<dyn StepMethod>> = vec![
///     Box::new(Slice::new(block("mu")?)),
///     Box::new(BinaryGibbsMetropolis::new(block("z")?)),
///     Box::new(CategoricalGibbsMetropolis::new(block("k")?, 0, 2)),
/// ];
/// let labels: Vec<&str> = steps.iter().map(|s| s.label()).collect();
/// assert_eq!(labels, ["slice[mu]", "binary_gibbs[z]", "categorical_gibbs[k]"]);
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
/// let (u, z) = model.initial_state(&mut rng)?;
/// let logp = model.logp_joint(&u, &z)?;
/// let mut state = ChainState { u, z, logp };
/// let (tune, draws) = (100, 2000);
/// let mut sum_k = 0;
/// for iteration in 0..tune + draws {
///     for step in &mut steps {
///         step.step(&model, &mut state, &mut rng, iteration < tune)?;
///     }
///     if iteration >= tune {
///         sum_k += state.z[1];
///     }
/// }
/// // Every step keeps the joint log-density current.
/// assert_eq!(state.logp, model.logp_joint(&state.u, &state.z)?);
/// // E[k] = 0.3 + 2 · 0.5 = 1.3.
/// let mean_k = sum_k as f64 / draws as f64;
/// assert!((mean_k - 1.3).abs() < 0.1, "{mean_k}");
/// # Ok(()) }
/// ```
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
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{Bernoulli, Categorical, Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 1)`, `z ~ Bernoulli(0.3)`, `k ~ Categorical([0.2, 0.3, 0.5])`.
/// # struct Mixed;
/// # impl ModelTemplate for Mixed {
/// #     type Output<R: Real> = ();
/// #     fn name(&self) -> &'static str { "mixed" }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let _mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
/// #         let _z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
/// #         let _k: i64 = api::sample(ctx, "k", Categorical::new(&[0.2, 0.3, 0.5][..]), NoShape, None);
/// #     }
/// # }
/// use ppl_infer::step::Block;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Mixed`: mu ~ Normal(0, 1), z ~ Bernoulli(0.3), k ~ Categorical([0.2, 0.3, 0.5]).
/// let model = Model::new(Mixed)?;
/// let names = ["mu".to_string(), "k".to_string()];
/// let block = Block::new(model.layout(), &names)?;
/// assert_eq!(block.variables, names);
/// assert_eq!(block.continuous, [0]); // `mu` is u[0]
/// assert_eq!(block.discrete, [1]); // `k` is z[1] (`z` is z[0])
/// assert!(Block::new(model.layout(), &["sigma".to_string()]).is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Block {
    /// The variables' names, in the order given to [`Block::new`] (the compound
    /// sampler passes them in model order).
    pub variables: Vec<String>,
    /// Indices into the unconstrained continuous vector.
    pub continuous: Vec<usize>,
    /// Indices into the integer state.
    pub discrete: Vec<usize>,
}

impl Block {
    /// The block of the named variables (which must exist and be free).
    ///
    /// See [`Block`] for an example.
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
