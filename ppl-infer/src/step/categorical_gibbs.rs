//! CategoricalGibbsMetropolis: proposals from the full conditional over the categories.
//!
//! For each element, in a random order, the joint log-density is evaluated at every
//! value of its range `lower..=upper`, giving the full conditional `π`. A new value
//! `j ≠ current` is proposed with probability `π_j / (1 − π_current)` and accepted with
//! probability `min(1, (1 − π_current) / (1 − π_j))`: Liu's Metropolised Gibbs sampler,
//! which never proposes to stay and so mixes at least as well as drawing from `π`
//! (PyMC's `proportional` proposal).

use super::{joint_logp, Block, ChainState, StepMethod, StepStats};
use crate::error::ChainFailureReason;
use ppl_core::model::JointDensity;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};

/// Full-conditional proposals for variables with a finite range of values.
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{Categorical};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `k ~ Categorical([0.2, 0.3, 0.5])`.
/// # struct Die;
/// # impl ModelTemplate for Die {
/// #     type Output<R: Real> = ();
/// #     fn name(&self) -> &'static str { "die" }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let _k: i64 = api::sample(ctx, "k", Categorical::new(&[0.2, 0.3, 0.5][..]), NoShape, None);
/// #     }
/// # }
/// use ppl_infer::step::categorical_gibbs::CategoricalGibbsMetropolis;
/// use ppl_infer::step::{Block, ChainState, StepMethod};
/// use rand::SeedableRng;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Die`: k ~ Categorical([0.2, 0.3, 0.5]), values 0, 1 and 2.
/// let model = Model::new(Die)?;
/// let block = Block::new(model.layout(), &["k".to_string()])?;
/// let mut step = CategoricalGibbsMetropolis::new(block, 0, 2);
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
/// let mut state = ChainState { u: vec![], z: vec![0], logp: model.logp_joint(&[], &[0])? };
/// let mut counts = [0; 3];
/// for _ in 0..3000 {
///     step.step(&model, &mut state, &mut rng, false)?;
///     counts[state.z[0] as usize] += 1;
/// }
/// // Within 4 Monte-Carlo standard errors: the chain moves i → j with probability
/// // min(pⱼ/(1 − pᵢ), pⱼ/(1 − pⱼ)); from that transition matrix (other eigenvalues
/// // −0.25 and −0.39) the indicators' asymptotic variances are 0.0960, 0.0952, 0.1192.
/// for ((count, p), v) in counts.iter().zip([0.2, 0.3, 0.5]).zip([0.0960, 0.0952, 0.1192]) {
///     let mcse = (v / 3000.0f64).sqrt();
///     assert!((*count as f64 / 3000.0 - p).abs() < 4.0 * mcse, "{counts:?}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CategoricalGibbsMetropolis {
    label: String,
    order: Vec<usize>,
    lower: i64,
    log_weights: Vec<f64>,
}

impl CategoricalGibbsMetropolis {
    /// A step over the discrete elements of `block`, whose values lie in
    /// `lower..=upper` (for a categorical variable with `K` categories, `0..=K−1`).
    ///
    /// See [`CategoricalGibbsMetropolis`] for an example.
    pub fn new(block: Block, lower: i64, upper: i64) -> Self {
        let k = usize::try_from(upper - lower + 1).unwrap_or(0);
        CategoricalGibbsMetropolis {
            label: format!("categorical_gibbs[{}]", block.variables.join(", ")),
            order: block.discrete,
            lower,
            log_weights: vec![0.0; k],
        }
    }
}

impl StepMethod for CategoricalGibbsMetropolis {
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
        let mut evaluations = 0u32;
        let k = self.log_weights.len();
        for &i in &self.order {
            let current = state.z[i];
            let cur = usize::try_from(current - self.lower)
                .ok()
                .filter(|&c| c < k);
            for (j, w) in self.log_weights.iter_mut().enumerate() {
                if Some(j) == cur {
                    *w = state.logp;
                    continue;
                }
                state.z[i] = self.lower + j as i64;
                *w = joint_logp(density, &state.u, &state.z)?;
                evaluations += 1;
            }
            state.z[i] = current;
            let Some(cur) = cur else {
                // The current value is outside the range (the support moved): propose
                // from the conditional and accept, as the current state has no weight
                // in the range this step covers.
                let max = self
                    .log_weights
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max);
                if max == f64::NEG_INFINITY {
                    continue;
                }
                let j = draw_index(&self.log_weights, max, None, rng);
                state.z[i] = self.lower + j as i64;
                state.logp = self.log_weights[j];
                sum_accept += 1.0;
                continue;
            };
            let max = self
                .log_weights
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = self.log_weights.iter().map(|w| (w - max).exp()).sum();
            let p_cur = (self.log_weights[cur] - max).exp() / total;
            let rest = 1.0 - p_cur;
            if rest.is_nan() || rest <= 0.0 || max == f64::NEG_INFINITY {
                // All mass on the current value.
                continue;
            }
            let j = draw_index(&self.log_weights, max, Some(cur), rng);
            let p_j = (self.log_weights[j] - max).exp() / total;
            let a = (rest / (1.0 - p_j)).min(1.0);
            sum_accept += a;
            if a >= 1.0 || rng.gen::<f64>() < a {
                state.z[i] = self.lower + j as i64;
                state.logp = self.log_weights[j];
            }
        }
        let n = self.order.len();
        Ok(StepStats {
            accept: if n == 0 { 1.0 } else { sum_accept / n as f64 },
            evaluations,
            nuts: None,
        })
    }
}

/// Draws an index with probability proportional to `exp(log_weights − max)`, leaving
/// out `exclude`.
fn draw_index(
    log_weights: &[f64],
    max: f64,
    exclude: Option<usize>,
    rng: &mut dyn RngCore,
) -> usize {
    let weight = |j: usize| {
        if Some(j) == exclude {
            0.0
        } else {
            (log_weights[j] - max).exp()
        }
    };
    let total: f64 = (0..log_weights.len()).map(weight).sum();
    let mut u = rng.gen::<f64>() * total;
    let mut last = 0;
    for j in 0..log_weights.len() {
        let w = weight(j);
        if w > 0.0 {
            last = j;
            if u < w {
                return j;
            }
            u -= w;
        }
    }
    last
}
