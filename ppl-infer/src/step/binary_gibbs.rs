//! BinaryGibbsMetropolis: Metropolised Gibbs sampling of {0, 1} variables.
//!
//! Each element, in a random order every iteration, is proposed flipped and the flip is
//! accepted with probability `min(1, p(flipped) / p(current))` under the full
//! conditional. For a binary variable this dominates plain Gibbs sampling (Liu 1996,
//! "Peskun's theorem and a modified discrete-state Gibbs sampler"); PyMC's step of the
//! same name does the same.

use super::{joint_logp, metropolis_accept, Block, ChainState, StepMethod, StepStats};
use crate::error::ChainFailureReason;
use ppl_core::model::JointDensity;
use rand::seq::SliceRandom;
use rand::RngCore;

/// Flip proposals for binary variables, one element at a time in random order.
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{Bernoulli};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `z ~ Bernoulli(0.3)`.
/// # struct Coin;
/// # impl ModelTemplate for Coin {
/// #     type Output<R: Real> = ();
/// #     fn name(&self) -> &'static str { "coin" }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let _z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
/// #     }
/// # }
/// use ppl_infer::step::binary_gibbs::BinaryGibbsMetropolis;
/// use ppl_infer::step::{Block, ChainState, StepMethod};
/// use rand::SeedableRng;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Coin`: z ~ Bernoulli(0.3).
/// let model = Model::new(Coin)?;
/// let mut step = BinaryGibbsMetropolis::new(Block::new(model.layout(), &["z".to_string()])?);
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
/// let mut state = ChainState { u: vec![], z: vec![0], logp: model.logp_joint(&[], &[0])? };
/// let mut ones = 0;
/// for _ in 0..4000 {
///     let stats = step.step(&model, &mut state, &mut rng, false)?;
///     assert_eq!(stats.evaluations, 1); // one flip proposal
///     ones += state.z[0];
/// }
/// let frequency = ones as f64 / 4000.0;
/// // Within 4 Monte-Carlo standard errors: the two-state chain's other eigenvalue is
/// // 1 − 3/7 − 1 = −3/7, so the mean's variance is 0.3·0.7/n · (1 − 3/7)/(1 + 3/7).
/// let mcse = (0.21 * 0.4 / 4000.0f64).sqrt();
/// assert!((frequency - 0.3).abs() < 4.0 * mcse, "{frequency}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BinaryGibbsMetropolis {
    label: String,
    order: Vec<usize>,
}

impl BinaryGibbsMetropolis {
    /// A step over the discrete elements of `block` (whose values must be 0 or 1).
    ///
    /// See [`BinaryGibbsMetropolis`] for an example.
    pub fn new(block: Block) -> Self {
        BinaryGibbsMetropolis {
            label: format!("binary_gibbs[{}]", block.variables.join(", ")),
            order: block.discrete,
        }
    }
}

impl StepMethod for BinaryGibbsMetropolis {
    fn label(&self) -> &str {
        &self.label
    }

    fn step(
        &mut self,
        density: &dyn JointDensity,
        state: &mut ChainState,
        mut rng: &mut dyn RngCore,
        _tuning: bool,
    ) -> Result<StepStats, ChainFailureReason> {
        self.order.shuffle(&mut rng);
        let mut sum_accept = 0.0;
        for &i in &self.order {
            let current = state.z[i];
            state.z[i] = 1 - current;
            let lp = joint_logp(density, &state.u, &state.z)?;
            let (p, accept) = metropolis_accept(lp - state.logp, rng);
            sum_accept += p;
            if accept {
                state.logp = lp;
            } else {
                state.z[i] = current;
            }
        }
        let n = self.order.len();
        Ok(StepStats {
            accept: if n == 0 { 1.0 } else { sum_accept / n as f64 },
            evaluations: n as u32,
            nuts: None,
        })
    }
}
