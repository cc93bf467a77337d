//! Random-walk Metropolis, updating one element at a time.
//!
//! Continuous elements get Gaussian proposals `u[i] + scale[i]·N(0, 1)` on the
//! unconstrained scale; discrete elements get integer proposals `z[i] + d` with
//! `d = round(scale[i]·N(0, 1))`, redrawn as ±1 when it rounds to 0 (symmetric, so the
//! plain Metropolis ratio applies; a proposal outside the support has zero density and
//! is rejected). Every element has its own scale, tuned during warm-up as PyMC tunes
//! its Metropolis steps: every `tune_interval` iterations the scale is multiplied by a
//! factor read from the acceptance rate over the interval ([`tuned_scale`]).

use super::{joint_logp, metropolis_accept, Block, ChainState, StepMethod, StepStats};
use crate::error::ChainFailureReason;
use ppl_core::model::JointDensity;
use rand::{Rng, RngCore};
use rand_distr::StandardNormal;

/// PyMC's default number of iterations between scale updates.
pub const DEFAULT_TUNE_INTERVAL: usize = 100;

/// PyMC's tuning rule: the new proposal scale given the acceptance rate over the last
/// interval (shrink hard when almost nothing is accepted, grow when almost everything
/// is).
///
/// ```
/// use ppl_infer::step::metropolis::tuned_scale;
/// assert_eq!(tuned_scale(1.0, 0.0), 0.1);
/// assert_eq!(tuned_scale(1.0, 0.3), 1.0);
/// assert_eq!(tuned_scale(1.0, 0.99), 10.0);
/// ```
pub fn tuned_scale(scale: f64, acceptance_rate: f64) -> f64 {
    let factor = if acceptance_rate < 0.001 {
        0.1
    } else if acceptance_rate < 0.05 {
        0.5
    } else if acceptance_rate < 0.2 {
        0.9
    } else if acceptance_rate > 0.95 {
        10.0
    } else if acceptance_rate > 0.75 {
        2.0
    } else if acceptance_rate > 0.5 {
        1.1
    } else {
        1.0
    };
    scale * factor
}

/// Element-wise random-walk Metropolis over a block of continuous and/or discrete
/// variables.
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
/// use ppl_infer::step::metropolis::Metropolis;
/// use ppl_infer::step::{Block, ChainState, StepMethod};
/// use rand::SeedableRng;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Wide`: mu ~ Normal(0, 10).
/// let model = Model::new(Wide)?;
/// let mut step = Metropolis::new(Block::new(model.layout(), &["mu".to_string()])?, 50);
/// assert_eq!((step.label(), step.scales()), ("metropolis[mu]", &[1.0][..]));
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
/// let mut state = ChainState { u: vec![0.0], z: vec![], logp: model.logp_joint(&[0.0], &[])? };
/// for _ in 0..500 {
///     step.step(&model, &mut state, &mut rng, true)?;
/// }
/// // Steps of 1 are nearly always accepted on a scale of 10: tuning widened them.
/// assert!(step.scales()[0] > 2.0, "{:?}", step.scales());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Metropolis {
    label: String,
    block: Block,
    /// Proposal scale per continuous element, then per discrete element.
    scales: Vec<f64>,
    accepted: Vec<u32>,
    since_tune: usize,
    tune_interval: usize,
}

impl Metropolis {
    /// A Metropolis step over `block`, every scale starting at 1, tuned every
    /// `tune_interval` warm-up iterations.
    ///
    /// See [`Metropolis`] for an example.
    pub fn new(block: Block, tune_interval: usize) -> Self {
        let n = block.continuous.len() + block.discrete.len();
        Metropolis {
            label: format!("metropolis[{}]", block.variables.join(", ")),
            block,
            scales: vec![1.0; n],
            accepted: vec![0; n],
            since_tune: 0,
            tune_interval: tune_interval.max(1),
        }
    }

    /// The current proposal scales (continuous elements first, then discrete ones).
    ///
    /// See [`Metropolis`] for an example.
    pub fn scales(&self) -> &[f64] {
        &self.scales
    }
}

impl StepMethod for Metropolis {
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
        let mut sum_accept = 0.0;
        let n_cont = self.block.continuous.len();
        for (k, &i) in self.block.continuous.iter().enumerate() {
            let current = state.u[i];
            let noise: f64 = rng.sample(StandardNormal);
            state.u[i] = current + self.scales[k] * noise;
            let lp = joint_logp(density, &state.u, &state.z)?;
            let (p, accept) = metropolis_accept(lp - state.logp, rng);
            sum_accept += p;
            if accept {
                state.logp = lp;
                self.accepted[k] += 1;
            } else {
                state.u[i] = current;
            }
        }
        for (k, &i) in self.block.discrete.iter().enumerate() {
            let k = n_cont + k;
            let current = state.z[i];
            let noise: f64 = rng.sample(StandardNormal);
            let mut jump = (self.scales[k] * noise).round();
            if jump == 0.0 {
                jump = if rng.gen::<bool>() { 1.0 } else { -1.0 };
            }
            // Saturating: an absurd scale cannot overflow the state.
            state.z[i] = current.saturating_add(jump.clamp(-1e15, 1e15) as i64);
            let lp = joint_logp(density, &state.u, &state.z)?;
            let (p, accept) = metropolis_accept(lp - state.logp, rng);
            sum_accept += p;
            if accept {
                state.logp = lp;
                self.accepted[k] += 1;
            } else {
                state.z[i] = current;
            }
        }
        let n = self.scales.len();
        if tuning {
            self.since_tune += 1;
            if self.since_tune == self.tune_interval {
                for (scale, accepted) in self.scales.iter_mut().zip(&mut self.accepted) {
                    let rate = f64::from(*accepted) / self.tune_interval as f64;
                    *scale = tuned_scale(*scale, rate);
                    *accepted = 0;
                }
                self.since_tune = 0;
            }
        }
        Ok(StepStats {
            accept: if n == 0 { 1.0 } else { sum_accept / n as f64 },
            evaluations: n as u32,
            nuts: None,
        })
    }
}
