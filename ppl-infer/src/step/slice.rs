//! Univariate slice sampling (Neal 2003, stepping out and shrinkage), one continuous
//! element at a time on the unconstrained scale.
//!
//! For element `x` with width `w`: draw the slice level `ln y = lp(x) − Exp(1)`, place
//! an interval of width `w` at random around `x`, step its ends out by `w` until they
//! leave the slice (at most [`MAX_STEPS_OUT`] times per side), then draw uniformly from
//! the interval, shrinking it towards `x` after every rejected point. During warm-up
//! each element's width follows the running mean of its final interval widths, as PyMC
//! tunes its slice sampler.

use super::{joint_logp, Block, ChainState, StepMethod, StepStats};
use crate::error::ChainFailureReason;
use ppl_core::model::JointDensity;
use rand::{Rng, RngCore};

/// Most times an interval end steps out.
pub const MAX_STEPS_OUT: usize = 50;

/// Most shrinkage draws per update before the element is left where it was (only a
/// density that is not what it claims to be gets there).
pub const MAX_SHRINKS: usize = 200;

/// Slice sampling of continuous elements.
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
/// let mut step = Slice::new(Block::new(model.layout(), &["mu".to_string()])?);
/// assert_eq!((step.label(), step.widths()), ("slice[mu]", &[1.0][..]));
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
/// let mut state = ChainState { u: vec![0.0], z: vec![], logp: model.logp_joint(&[0.0], &[])? };
/// let (tune, draws) = (100, 1000);
/// let mut sum_sq = 0.0;
/// for iteration in 0..tune + draws {
///     step.step(&model, &mut state, &mut rng, iteration < tune)?;
///     if iteration >= tune {
///         sum_sq += state.u[0] * state.u[0];
///     }
/// }
/// // The widths followed the intervals, which step out to the scale of the density.
/// assert!(step.widths()[0] > 5.0, "{:?}", step.widths());
/// // The draws have standard deviation 10.
/// let sd = (sum_sq / draws as f64).sqrt();
/// assert!((sd - 10.0).abs() < 1.5, "{sd}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Slice {
    label: String,
    indices: Vec<usize>,
    widths: Vec<f64>,
    tuned: u32,
}

impl Slice {
    /// A slice sampler over the continuous elements of `block`, widths starting at 1.
    ///
    /// See [`Slice`] for an example.
    pub fn new(block: Block) -> Self {
        Slice {
            label: format!("slice[{}]", block.variables.join(", ")),
            widths: vec![1.0; block.continuous.len()],
            indices: block.continuous,
            tuned: 0,
        }
    }

    /// The current interval widths.
    ///
    /// See [`Slice`] for an example.
    pub fn widths(&self) -> &[f64] {
        &self.widths
    }
}

impl StepMethod for Slice {
    fn label(&self) -> &str {
        &self.label
    }

    fn step(
        &mut self,
        density: &dyn JointDensity,
        state: &mut ChainState,
        rng: &mut dyn RngCore,
        tuning: bool,
    ) -> Result<StepStats, ChainFailureReason> {
        let mut evaluations = 0u32;
        let mut moved = 0usize;
        if tuning {
            self.tuned += 1;
        }
        for (k, &i) in self.indices.iter().enumerate() {
            let x0 = state.u[i];
            let w = self.widths[k];
            let level =
                state.logp - rand_distr::Distribution::<f64>::sample(&rand_distr::Exp1, rng);
            let mut eval = |x: f64, state: &mut ChainState| -> Result<f64, ChainFailureReason> {
                evaluations += 1;
                state.u[i] = x;
                joint_logp(density, &state.u, &state.z)
            };
            let mut left = x0 - w * rng.gen::<f64>();
            let mut right = left + w;
            for _ in 0..MAX_STEPS_OUT {
                if eval(left, state)? <= level {
                    break;
                }
                left -= w;
            }
            for _ in 0..MAX_STEPS_OUT {
                if eval(right, state)? <= level {
                    break;
                }
                right += w;
            }
            let mut accepted = None;
            for _ in 0..MAX_SHRINKS {
                let x = left + (right - left) * rng.gen::<f64>();
                let lp = eval(x, state)?;
                if lp > level {
                    accepted = Some((x, lp));
                    break;
                }
                if x < x0 {
                    left = x;
                } else {
                    right = x;
                }
            }
            match accepted {
                Some((x, lp)) => {
                    state.u[i] = x;
                    state.logp = lp;
                    moved += 1;
                }
                None => state.u[i] = x0,
            }
            if tuning {
                let n = f64::from(self.tuned);
                self.widths[k] = (self.widths[k] * (n - 1.0) + (right - left)) / n;
            }
        }
        let n = self.indices.len();
        Ok(StepStats {
            accept: if n == 0 { 1.0 } else { moved as f64 / n as f64 },
            evaluations,
            nuts: None,
        })
    }
}
