//! NUTS as one step of a compound sampler: the No-U-Turn transition on a block of
//! continuous variables with the others (and the discrete state) held fixed, with its
//! own warm-up (dual-averaging step size and the chosen metric adaptation).
//!
//! Other steps change the density NUTS sees between its transitions, so every call
//! starts by re-evaluating the log-density and gradient at the current state (one extra
//! gradient evaluation per iteration, as in PyMC's compound steps).

use super::{Block, ChainState, StepMethod, StepStats};
use crate::adapt::{
    find_reasonable_step_size, DenseAdaptation, DiagonalAdaptation, DualAveraging,
    GradientDiagonalAdaptation, MetricAdaptation,
};
use crate::error::ChainFailureReason;
use crate::hamiltonian::{DiagonalMetric, EuclideanMetric, GradientCounter, PhasePoint};
use crate::low_rank::{CorrectionPolicy, LowRankAdaptation, LowRankMetric};
use crate::metric::{DenseMetric, Metric};
use crate::nuts::NutsWorkspace;
use crate::sampler::Nuts;
use ppl_core::model::{JointDensity, LogDensity};
use rand::RngCore;
use std::cell::RefCell;

/// The log-density of a block of the continuous vector, the rest of the state fixed.
struct BlockDensity<'a> {
    density: &'a dyn JointDensity,
    z: &'a [i64],
    indices: &'a [usize],
    /// True when the block is the whole continuous vector (no copying needed).
    whole: bool,
    u: RefCell<Vec<f64>>,
    grad: RefCell<Vec<f64>>,
}

impl LogDensity for BlockDensity<'_> {
    fn dim(&self) -> usize {
        self.indices.len()
    }

    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        if self.whole {
            return self.density.logp_joint(x, self.z);
        }
        let mut u = self.u.borrow_mut();
        for (&i, &v) in self.indices.iter().zip(x) {
            u[i] = v;
        }
        self.density.logp_joint(&u, self.z)
    }

    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
        if self.whole {
            return self.density.logp_grad_joint(x, self.z, grad);
        }
        let mut u = self.u.borrow_mut();
        let mut full = self.grad.borrow_mut();
        for (&i, &v) in self.indices.iter().zip(x) {
            u[i] = v;
        }
        let lp = self.density.logp_grad_joint(&u, self.z, &mut full)?;
        for (g, &i) in grad.iter_mut().zip(self.indices) {
            *g = full[i];
        }
        Ok(lp)
    }
}

/// NUTS on a block, generic over the metric and its adaptation.
struct NutsStep<M, A> {
    label: String,
    indices: Vec<usize>,
    settings: Nuts,
    metric: M,
    adaptation: A,
    workspace: NutsWorkspace,
    point: PhasePoint,
    scratch: PhasePoint,
    dual: Option<DualAveraging>,
    step_size: f64,
    warming_up: bool,
    tuned: bool,
    u_scratch: Vec<f64>,
    grad_scratch: Vec<f64>,
}

/// A NUTS step over the continuous elements of `block`, with the settings (target
/// acceptance, maximum depth, metric, initial step size, number of warm-up iterations)
/// of `nuts`.
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 1)`.
/// # struct StdNormal;
/// # impl ModelTemplate for StdNormal {
/// #     type Output<R: Real> = ();
/// #     fn name(&self) -> &'static str { "stdnormal" }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let _mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
/// #     }
/// # }
/// use ppl_infer::step::nuts_step::nuts_step;
/// use ppl_infer::step::{Block, ChainState};
/// use ppl_infer::Nuts;
/// use rand::SeedableRng;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `StdNormal`: mu ~ Normal(0, 1).
/// let model = Model::new(StdNormal)?;
/// let block = Block::new(model.layout(), &["mu".to_string()])?;
/// let mut step = nuts_step(block, &Nuts::default().tune(100));
/// assert_eq!(step.label(), "nuts[mu]");
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
/// let mut state = ChainState { u: vec![1.0], z: vec![], logp: model.logp_joint(&[1.0], &[])? };
/// let mut sum_sq = 0.0;
/// for iteration in 0..600 {
///     let stats = step.step(&model, &mut state, &mut rng, iteration < 100)?;
///     let nuts = stats.nuts.expect("a NUTS step reports NUTS statistics");
///     if iteration >= 100 {
///         assert!(!nuts.diverging && nuts.step_size > 0.0);
///         sum_sq += state.u[0] * state.u[0];
///     }
/// }
/// let sd = (sum_sq / 500.0).sqrt();
/// assert!((sd - 1.0).abs() < 0.2, "{sd}");
/// # Ok(()) }
/// ```
pub fn nuts_step(block: Block, nuts: &Nuts) -> Box<dyn StepMethod> {
    let dim = block.continuous.len();
    let tune = u32::try_from(nuts.tune).unwrap_or(u32::MAX);
    match nuts.metric {
        Metric::Diagonal => Box::new(NutsStep::new(
            block,
            nuts,
            DiagonalMetric::unit(dim),
            DiagonalAdaptation::new(tune, dim),
        )),
        Metric::GradientDiagonal => Box::new(NutsStep::new(
            block,
            nuts,
            DiagonalMetric::unit(dim),
            GradientDiagonalAdaptation::new(tune, dim),
        )),
        Metric::Dense => Box::new(NutsStep::new(
            block,
            nuts,
            DenseMetric::unit(dim),
            DenseAdaptation::new(tune, dim),
        )),
        m @ (Metric::LowRank | Metric::Auto) => Box::new(NutsStep::new(
            block,
            nuts,
            LowRankMetric::unit(dim),
            LowRankAdaptation::new(tune, dim, CorrectionPolicy::of(m)),
        )),
    }
}

impl<M: EuclideanMetric, A: MetricAdaptation<M>> NutsStep<M, A> {
    fn new(block: Block, nuts: &Nuts, metric: M, adaptation: A) -> Self {
        let dim = block.continuous.len();
        NutsStep {
            label: format!("nuts[{}]", block.variables.join(", ")),
            indices: block.continuous,
            settings: nuts.clone(),
            metric,
            adaptation,
            workspace: NutsWorkspace::new(dim, nuts.max_depth),
            point: PhasePoint::new(dim),
            scratch: PhasePoint::new(dim),
            dual: None,
            step_size: nuts.initial_step_size,
            warming_up: true,
            tuned: false,
            u_scratch: Vec::new(),
            grad_scratch: Vec::new(),
        }
    }
}

impl<M, A> StepMethod for NutsStep<M, A>
where
    M: EuclideanMetric + Send,
    A: MetricAdaptation<M> + Send,
{
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
        let whole = self.indices.len() == state.u.len()
            && self.indices.iter().enumerate().all(|(k, &i)| k == i);
        if !whole {
            // Scratch copies of the full state, kept between iterations (no allocation
            // after the first): the block's values are written into them per evaluation.
            self.u_scratch.clear();
            self.u_scratch.extend_from_slice(&state.u);
            self.grad_scratch.resize(state.u.len(), 0.0);
        }
        let block = BlockDensity {
            density,
            z: &state.z,
            indices: &self.indices,
            whole,
            u: RefCell::new(std::mem::take(&mut self.u_scratch)),
            grad: RefCell::new(std::mem::take(&mut self.grad_scratch)),
        };
        let mut counter = GradientCounter::new(&block);
        for (q, &i) in self.point.q.iter_mut().zip(&self.indices) {
            *q = state.u[i];
        }
        counter.update(&mut self.point)?;

        if self.dual.is_none() {
            if self.settings.tune > 0 {
                self.adaptation.init(&mut self.metric, &self.point);
            }
            self.step_size = find_reasonable_step_size(
                &self.point,
                self.settings.initial_step_size,
                &self.metric,
                &mut counter,
                rng,
                &mut self.scratch,
            )?;
            self.dual = Some(DualAveraging::new(
                self.settings.target_accept,
                self.step_size,
            ));
        }
        if !tuning && self.warming_up {
            self.warming_up = false;
            if let (true, Some(dual)) = (self.tuned, &self.dual) {
                self.step_size = dual.final_step_size();
            }
        }

        let mut stats = self.workspace.transition(
            &mut self.point,
            &mut counter,
            &self.metric,
            self.step_size,
            self.settings.max_depth,
            rng,
        )?;
        if tuning {
            self.tuned = true;
            if let Some(dual) = self.dual.as_mut() {
                self.step_size = dual.learn(self.adaptation.step_size_statistic(&stats));
            }
            let update = self
                .adaptation
                .learn(&mut self.metric, &self.point, &stats)?;
            if update == crate::adapt::MetricUpdate::UpdatedRestart {
                self.step_size = find_reasonable_step_size(
                    &self.point,
                    self.step_size,
                    &self.metric,
                    &mut counter,
                    rng,
                    &mut self.scratch,
                )?;
                if let Some(dual) = self.dual.as_mut() {
                    dual.restart(self.step_size);
                }
            }
        }
        let evaluations = counter.evaluations;
        self.u_scratch = block.u.into_inner();
        self.grad_scratch = block.grad.into_inner();
        for (&q, &i) in self.point.q.iter().zip(&self.indices) {
            state.u[i] = q;
        }
        state.logp = self.point.logp;
        stats.lp = self.point.logp;
        Ok(StepStats {
            accept: stats.accept_stat,
            evaluations: u32::try_from(evaluations).unwrap_or(u32::MAX),
            nuts: Some(stats),
        })
    }
}
