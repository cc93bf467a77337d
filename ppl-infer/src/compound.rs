//! Compound sampling: NUTS for the continuous variables, Gibbs/Metropolis steps for the
//! discrete ones (PyMC's `CompoundStep`), with per-variable overrides.
//!
//! Each iteration runs the steps in the order of their first variable in the model. A
//! step updates its block through the joint log-density with everything else fixed;
//! see [`crate::step`]. Chains, seeds, initial states, traces, diagnostics and output
//! work as for plain NUTS.

use crate::chains::{collect_trace, initial_jobs, push_columns, run_jobs, ChainJob};
use crate::error::{ChainFailureReason, SampleError, SettingsError};
use crate::nuts::SampleStats;
use crate::progress::ChainProgress;
use crate::sampler::Nuts;
use crate::step::binary_gibbs::BinaryGibbsMetropolis;
use crate::step::categorical_gibbs::CategoricalGibbsMetropolis;
use crate::step::metropolis::{Metropolis, DEFAULT_TUNE_INTERVAL};
use crate::step::nuts_step::nuts_step;
use crate::step::slice::Slice;
use crate::step::{Block, ChainState, StepMethod};
use crate::target::{SampleTarget, TraceVariable};
use crate::trace::{ChainTiming, ChainTrace, StepTrace, Trace};
use ppl_core::layout::{Layout, VariableInfo};
use ppl_core::model::{JointDensity, Model, ModelTemplate};
use std::time::Instant;

/// A kind of step a variable can be assigned to.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::{Bernoulli, Categorical, Normal};
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 1)`, `z ~ Bernoulli(0.3)`, `k ~ Categorical([0.2, 0.3, 0.5])`.
/// struct Mixed;
/// impl ModelTemplate for Mixed {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "mixed" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let _mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
///         let _z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
///         let _k: i64 = api::sample(ctx, "k", Categorical::new(&[0.2, 0.3, 0.5][..]), NoShape, None);
///     }
/// }
/// use ppl_infer::{automatic_kind, Compound, Nuts, StepKind};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Mixed)?;
/// let layout = model.layout();
/// // The automatic choice, variable by variable.
/// assert_eq!(automatic_kind(layout.variable("mu").unwrap()), StepKind::Nuts);
/// assert_eq!(automatic_kind(layout.variable("z").unwrap()), StepKind::BinaryGibbs);
/// assert_eq!(automatic_kind(layout.variable("k").unwrap()), StepKind::CategoricalGibbs);
/// // Overrides: slice sampling for `mu`, Metropolis for `k`.
/// let settings = Compound::new(Nuts::default())
///     .assign("mu", StepKind::Slice)
///     .assign("k", StepKind::Metropolis);
/// let kinds: Vec<StepKind> = settings.plan(layout)?.iter().map(|step| step.kind).collect();
/// assert_eq!(kinds, [StepKind::Slice, StepKind::BinaryGibbs, StepKind::Metropolis]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    /// The No-U-Turn sampler (continuous variables; all NUTS variables form one block).
    Nuts,
    /// Element-wise random-walk Metropolis (continuous or discrete variables).
    Metropolis,
    /// Univariate slice sampling of each element (continuous variables).
    Slice,
    /// Metropolised Gibbs flips of {0, 1} variables.
    BinaryGibbs,
    /// Full-conditional proposals over a finite range of integers.
    CategoricalGibbs,
}

impl StepKind {
    fn name(self) -> &'static str {
        match self {
            StepKind::Nuts => "NUTS",
            StepKind::Metropolis => "Metropolis",
            StepKind::Slice => "Slice",
            StepKind::BinaryGibbs => "BinaryGibbs",
            StepKind::CategoricalGibbs => "CategoricalGibbs",
        }
    }
}

/// A step assignment that cannot work, naming the variable.
///
/// [`Compound::plan`] returns it; sampling returns it wrapped in
/// [`SampleError::Assignment`].
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
/// use ppl_infer::{AssignmentError, Compound, Nuts, Sample, SampleError, StepKind};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Mixed`: mu ~ Normal(0, 1), z ~ Bernoulli(0.3), k ~ Categorical([0.2, 0.3, 0.5]).
/// let model = Model::new(Mixed)?;
/// let nuts = Nuts::default().chains(1).progress(false);
/// let plan = |settings: Compound| settings.plan(model.layout());
///
/// let slice_for_z = Compound::new(nuts.clone()).assign("z", StepKind::Slice);
/// assert_eq!(
///     plan(slice_for_z.clone()),
///     Err(AssignmentError::DiscreteVariable {
///         variable: "z".into(),
///         distribution: "Bernoulli",
///         step: "Slice",
///     })
/// );
/// let unknown = Compound::new(nuts.clone()).assign("sigma", StepKind::Metropolis);
/// assert_eq!(plan(unknown), Err(AssignmentError::UnknownVariable("sigma".into())));
/// let twice = Compound::new(nuts.clone())
///     .assign("k", StepKind::Metropolis)
///     .assign("k", StepKind::CategoricalGibbs);
/// assert!(matches!(plan(twice), Err(AssignmentError::AssignedTwice { .. })));
/// let binary_k = Compound::new(nuts).assign("k", StepKind::BinaryGibbs);
/// assert_eq!(plan(binary_k), Err(AssignmentError::NotBinary("k".into())));
///
/// // Sampling checks the assignment before anything runs.
/// let err = model.sample(slice_for_z).unwrap_err();
/// assert!(matches!(err, SampleError::Assignment(AssignmentError::DiscreteVariable { .. })));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignmentError {
    /// The variable does not exist.
    #[error("cannot assign a step to `{0}`: the model has no such random variable")]
    UnknownVariable(String),
    /// The variable is conditioned on a value.
    #[error("cannot assign a step to `{0}`: it is conditioned on a value")]
    FixedVariable(String),
    /// The variable was given two steps.
    #[error("`{variable}` is assigned to two steps ({first} and {second})")]
    AssignedTwice {
        /// The variable.
        variable: String,
        /// The first step kind.
        first: &'static str,
        /// The second step kind.
        second: &'static str,
    },
    /// A step that needs continuous variables got a discrete one.
    #[error("`{variable}` is discrete ({distribution}); {step} samples continuous variables only (use Metropolis, BinaryGibbs or CategoricalGibbs)")]
    DiscreteVariable {
        /// The variable.
        variable: String,
        /// Its distribution.
        distribution: &'static str,
        /// The step kind.
        step: &'static str,
    },
    /// A step that needs discrete variables got a continuous one.
    #[error("`{variable}` is continuous ({distribution}); {step} samples discrete variables only")]
    ContinuousVariable {
        /// The variable.
        variable: String,
        /// Its distribution.
        distribution: &'static str,
        /// The step kind.
        step: &'static str,
    },
    /// BinaryGibbs needs values in {0, 1}.
    #[error("`{0}` is not a {{0, 1}} variable; BinaryGibbs needs one (use Metropolis or CategoricalGibbs)")]
    NotBinary(String),
    /// CategoricalGibbs needs a bounded range.
    #[error("`{0}` has an unbounded range of values; CategoricalGibbs needs finite bounds (use Metropolis)")]
    Unbounded(String),
}

/// Settings of a compound sampler: the run settings and NUTS settings of a [`Nuts`]
/// (chains, draws, tune, seed, progress, threads, target acceptance, metric, …) plus
/// the assignment of variables to steps.
///
/// Without assignments every continuous variable goes to one NUTS step and every
/// discrete variable to its own step: [`StepKind::BinaryGibbs`] for {0, 1} variables,
/// [`StepKind::CategoricalGibbs`] for categorical ones, [`StepKind::Metropolis`] for
/// the rest. [`assign`](Self::assign) overrides this per variable; variables assigned
/// the same kind other than NUTS still get a step each.
///
/// ```
/// use ppl_infer::{Compound, Nuts, StepKind};
/// let settings = Compound::new(Nuts::default().chains(2).seed(1))
///     .assign("switchpoint", StepKind::Metropolis)
///     .assign("rate", StepKind::Slice);
/// assert_eq!(settings.assignments().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Compound {
    pub(crate) nuts: Nuts,
    assignments: Vec<(String, StepKind)>,
    tune_interval: usize,
}

impl Default for Compound {
    fn default() -> Self {
        Compound::new(Nuts::default())
    }
}

impl From<Nuts> for Compound {
    fn from(nuts: Nuts) -> Self {
        Compound::new(nuts)
    }
}

/// One planned step: its kind and block.
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
/// use ppl_infer::{Compound, Nuts, PlannedStep, StepKind};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Mixed`: mu ~ Normal(0, 1), z ~ Bernoulli(0.3), k ~ Categorical([0.2, 0.3, 0.5]).
/// let model = Model::new(Mixed)?;
/// let plan: Vec<PlannedStep> = Compound::new(Nuts::default()).plan(model.layout())?;
/// assert_eq!(plan.len(), 3);
/// // NUTS takes the continuous `mu`, element 0 of the unconstrained vector.
/// assert_eq!(plan[0].kind, StepKind::Nuts);
/// assert_eq!(plan[0].block.variables, ["mu"]);
/// assert_eq!(plan[0].block.continuous, [0]);
/// // `z` and `k` are elements 0 and 1 of the integer state.
/// assert_eq!(plan[1].kind, StepKind::BinaryGibbs);
/// assert_eq!(plan[1].block.discrete, [0]);
/// assert_eq!(plan[2].kind, StepKind::CategoricalGibbs);
/// assert_eq!(plan[2].block.discrete, [1]);
/// assert_eq!(plan[2].range, Some((0, 2))); // three categories
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStep {
    /// The kind of step.
    pub kind: StepKind,
    /// Its variables, resolved against the layout.
    pub block: Block,
    /// For CategoricalGibbs, the range of values.
    pub range: Option<(i64, i64)>,
}

impl Compound {
    /// Compound sampling with the run and NUTS settings of `nuts`.
    ///
    /// ```
    /// use ppl_infer::{Compound, Nuts};
    /// let nuts = Nuts::default().chains(2).seed(1);
    /// let compound = Compound::new(nuts.clone());
    /// assert_eq!(compound.settings(), &nuts);
    /// assert!(compound.assignments().is_empty()); // every variable gets the automatic choice
    /// // `Compound::from(nuts)` is the same, and `Compound::default()` uses `Nuts::default()`.
    /// assert_eq!(Compound::from(nuts), compound);
    /// assert_eq!(Compound::default(), Compound::new(Nuts::default()));
    /// ```
    pub fn new(nuts: Nuts) -> Self {
        Compound {
            nuts,
            assignments: Vec::new(),
            tune_interval: DEFAULT_TUNE_INTERVAL,
        }
    }

    /// Samples `variable` with a step of kind `step` instead of the automatic choice.
    ///
    /// Names are checked against the model only by [`plan`](Self::plan), which sampling
    /// calls before anything runs (see [`AssignmentError`]).
    ///
    /// ```
    /// use ppl_infer::{Compound, Nuts, StepKind};
    /// let compound = Compound::new(Nuts::default())
    ///     .assign("rate", StepKind::Slice)
    ///     .assign(String::from("switchpoint"), StepKind::Metropolis);
    /// assert_eq!(
    ///     compound.assignments(),
    ///     [("rate".to_string(), StepKind::Slice), ("switchpoint".to_string(), StepKind::Metropolis)]
    /// );
    /// ```
    pub fn assign(mut self, variable: impl Into<String>, step: StepKind) -> Self {
        self.assignments.push((variable.into(), step));
        self
    }

    /// Warm-up iterations between updates of the Metropolis proposal scales (default
    /// 100, as PyMC).
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::Normal;
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
    /// use ppl_infer::{Compound, Nuts, Sample, SampleError, SettingsError, StepKind};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // `Wide`: mu ~ Normal(0, 10), sampled by Metropolis.
    /// let model = Model::new(Wide)?;
    /// let nuts = Nuts::default().chains(1).draws(100).tune(100).seed(1).progress(false);
    /// let compound = Compound::new(nuts).assign("mu", StepKind::Metropolis);
    /// // Scales updated every 10 warm-up iterations instead of every 100.
    /// let trace = model.sample(compound.clone().tune_interval(10))?;
    /// assert_eq!(trace.num_draws(), 100);
    /// // An interval of 0 is refused before anything runs.
    /// let err = model.sample(compound.tune_interval(0)).unwrap_err();
    /// assert!(matches!(err, SampleError::Settings(SettingsError::TuneInterval)));
    /// # Ok(()) }
    /// ```
    pub fn tune_interval(mut self, iterations: usize) -> Self {
        self.tune_interval = iterations;
        self
    }

    /// The explicit assignments, in the order given.
    ///
    /// See [`assign`](Self::assign) for an example.
    pub fn assignments(&self) -> &[(String, StepKind)] {
        &self.assignments
    }

    /// The run and NUTS settings.
    ///
    /// See [`new`](Self::new) for an example.
    pub fn settings(&self) -> &Nuts {
        &self.nuts
    }

    /// Resolves the assignment against a layout: the steps of one iteration, in order.
    ///
    /// See [`PlannedStep`] for an example, and [`AssignmentError`] for the assignments it refuses.
    pub fn plan(&self, layout: &Layout) -> Result<Vec<PlannedStep>, AssignmentError> {
        let mut chosen: Vec<(&VariableInfo, StepKind)> = Vec::new();
        for (name, kind) in &self.assignments {
            let info = layout
                .variable(name)
                .ok_or_else(|| AssignmentError::UnknownVariable(name.clone()))?;
            if info.fixed {
                return Err(AssignmentError::FixedVariable(name.clone()));
            }
            if let Some((_, first)) = chosen.iter().find(|(v, _)| v.name == *name) {
                return Err(AssignmentError::AssignedTwice {
                    variable: name.clone(),
                    first: first.name(),
                    second: kind.name(),
                });
            }
            check_kind(info, *kind)?;
            chosen.push((info, *kind));
        }
        let mut steps: Vec<PlannedStep> = Vec::new();
        let mut nuts_names = Vec::new();
        let mut nuts_position = None;
        for info in layout.variables.iter().filter(|v| !v.fixed) {
            let kind = chosen
                .iter()
                .find(|(v, _)| v.name == info.name)
                .map(|(_, k)| *k)
                .unwrap_or_else(|| automatic_kind(info));
            if kind == StepKind::Nuts {
                nuts_position.get_or_insert(steps.len());
                nuts_names.push(info.name.clone());
                continue;
            }
            let block = block_of(layout, std::slice::from_ref(&info.name))?;
            let range = match kind {
                StepKind::CategoricalGibbs => match info.integer_bounds {
                    Some((Some(lo), Some(hi))) => Some((lo, hi)),
                    _ => return Err(AssignmentError::Unbounded(info.name.clone())),
                },
                _ => None,
            };
            steps.push(PlannedStep { kind, block, range });
        }
        if let Some(position) = nuts_position {
            let block = block_of(layout, &nuts_names)?;
            steps.insert(
                position,
                PlannedStep {
                    kind: StepKind::Nuts,
                    block,
                    range: None,
                },
            );
        }
        Ok(steps)
    }

    fn build_steps(&self, plan: &[PlannedStep]) -> Vec<Box<dyn StepMethod>> {
        plan.iter()
            .map(|p| -> Box<dyn StepMethod> {
                let block = p.block.clone();
                match (p.kind, p.range) {
                    (StepKind::Nuts, _) => nuts_step(block, &self.nuts),
                    (StepKind::Metropolis, _) => {
                        Box::new(Metropolis::new(block, self.tune_interval))
                    }
                    (StepKind::Slice, _) => Box::new(Slice::new(block)),
                    (StepKind::BinaryGibbs, _) => Box::new(BinaryGibbsMetropolis::new(block)),
                    (StepKind::CategoricalGibbs, range) => {
                        let (lo, hi) = range.unwrap_or((0, 0));
                        Box::new(CategoricalGibbsMetropolis::new(block, lo, hi))
                    }
                }
            })
            .collect()
    }
}

fn block_of(layout: &Layout, names: &[String]) -> Result<Block, AssignmentError> {
    Block::new(layout, names).map_err(|_| AssignmentError::UnknownVariable(names.join(", ")))
}

fn is_binary(info: &VariableInfo) -> bool {
    matches!(info.integer_bounds, Some((Some(0), Some(1))))
}

/// Largest range of values for which a discrete variable gets full-conditional
/// proposals ([`StepKind::CategoricalGibbs`]) by default.
pub const CATEGORICAL_GIBBS_MAX_RANGE: i64 = 256;

/// The automatic choice for a variable without an explicit assignment: NUTS for
/// continuous variables; for discrete ones BinaryGibbs on {0, 1}, CategoricalGibbs on a
/// finite range of at most [`CATEGORICAL_GIBBS_MAX_RANGE`] (256) values (a categorical
/// variable, a bounded count, a change point), Metropolis otherwise.
///
/// Full-conditional proposals cost one evaluation per value but jump anywhere in the
/// range: on the coal-mining change point, element-wise Metropolis leaves chains
/// started in the wrong place stuck at a local mode (R-hat 1.8 at seed 1), while
/// CategoricalGibbs matches the exact posterior (total-variation distance 0.013).
///
/// See [`StepKind`] for an example.
pub fn automatic_kind(info: &VariableInfo) -> StepKind {
    if !info.discrete {
        StepKind::Nuts
    } else if is_binary(info) {
        StepKind::BinaryGibbs
    } else if matches!(info.integer_bounds, Some((Some(lo), Some(hi))) if hi - lo < CATEGORICAL_GIBBS_MAX_RANGE)
    {
        StepKind::CategoricalGibbs
    } else {
        StepKind::Metropolis
    }
}

fn check_kind(info: &VariableInfo, kind: StepKind) -> Result<(), AssignmentError> {
    let continuous_only = matches!(kind, StepKind::Nuts | StepKind::Slice);
    let discrete_only = matches!(kind, StepKind::BinaryGibbs | StepKind::CategoricalGibbs);
    if continuous_only && info.discrete {
        return Err(AssignmentError::DiscreteVariable {
            variable: info.name.clone(),
            distribution: info.distribution,
            step: kind.name(),
        });
    }
    if discrete_only && !info.discrete {
        return Err(AssignmentError::ContinuousVariable {
            variable: info.name.clone(),
            distribution: info.distribution,
            step: kind.name(),
        });
    }
    if kind == StepKind::BinaryGibbs && !is_binary(info) {
        return Err(AssignmentError::NotBinary(info.name.clone()));
    }
    Ok(())
}

/// What a compound chain samples: a model with its joint density, initial states and
/// recorded values.
///
/// Implemented for `ppl_core::Model<T>`.
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
/// use ppl_core::JointDensity;
/// use ppl_infer::CompoundTarget;
/// use rand::SeedableRng;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `Mixed`: mu ~ Normal(0, 1), z ~ Bernoulli(0.3), k ~ Categorical([0.2, 0.3, 0.5]).
/// let model = Model::new(Mixed)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let (u, z) = CompoundTarget::initial_state(&model, &mut rng)?;
/// assert_eq!((u.len(), z.len()), (1, 2));
/// assert!((0..=1).contains(&z[0]) && (0..=2).contains(&z[1]));
/// assert!(model.logp_joint(&u, &z)?.is_finite());
///
/// let variables = CompoundTarget::variables(&model);
/// let names: Vec<&str> = variables.iter().map(|v| v.name.as_str()).collect();
/// assert_eq!(names, ["mu", "z", "k"]);
/// let mut out = [0.0; 3];
/// model.record_state(&u, &z, &mut out)?;
/// assert_eq!(out, [u[0], z[0] as f64, z[1] as f64]);
/// # Ok(()) }
/// ```
pub trait CompoundTarget: JointDensity + Sync {
    /// A random initial state `(u, z)` with finite joint log-density and gradient.
    fn initial_state(
        &self,
        rng: &mut dyn rand::RngCore,
    ) -> Result<(Vec<f64>, Vec<i64>), ppl_core::Error>;
    /// The quantities recorded for each draw.
    fn variables(&self) -> Vec<TraceVariable>;
    /// Writes the recorded values at `(u, z)` into `out`.
    fn record_state(&self, u: &[f64], z: &[i64], out: &mut [f64]) -> Result<(), ppl_core::Error>;
}

impl<T: ModelTemplate + Sync> CompoundTarget for Model<T> {
    fn initial_state(
        &self,
        rng: &mut dyn rand::RngCore,
    ) -> Result<(Vec<f64>, Vec<i64>), ppl_core::Error> {
        Model::initial_state(self, rng)
    }

    fn variables(&self) -> Vec<TraceVariable> {
        SampleTarget::variables(self)
    }

    fn record_state(&self, u: &[f64], z: &[i64], out: &mut [f64]) -> Result<(), ppl_core::Error> {
        self.record_draw_joint(u, z, out)
    }
}

/// Runs a compound sampler on `target`.
///
/// `model.sample(compound)` calls it for a `ppl_core::Model`.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::{Bernoulli, Normal};
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{sample_compound, Compound, Nuts};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `z ~ Bernoulli(0.3)`, `mu ~ Normal(2z, 1)`, one observation `y = 2 ~ Normal(mu, 1)`.
/// struct Switch;
/// impl ModelTemplate for Switch {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "switch" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
///         let mu: R = api::sample(ctx, "mu", Normal::new((2 * z) as f64, 1.0), NoShape, None);
///         api::observe(ctx, "y", Normal::new(mu, 1.0), 2.0);
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let nuts = Nuts::default().chains(2).draws(500).tune(300).seed(8).progress(false);
/// let trace = sample_compound(&Model::new(Switch)?, Compound::new(nuts))?;
/// assert_eq!(trace.step_labels(), ["binary_gibbs[z]", "nuts[mu]"]);
/// // Marginally y ~ Normal(2z, √2), so P(z = 1 | y = 2) = 0.3 φ(0) / (0.3 φ(0) + 0.7 φ(√2)).
/// let exact = 0.3 / (0.3 + 0.7 * (-1.0f64).exp());
/// let row = trace.summary().row("z").unwrap().clone();
/// assert!((row.mean - exact).abs() < 4.0 * row.mcse_mean, "{} vs {exact}", row.mean);
/// # Ok(()) }
/// ```
pub fn sample_compound<T: CompoundTarget>(
    target: &T,
    compound: Compound,
) -> Result<Trace, SampleError> {
    let mut nuts = compound.nuts.clone();
    nuts.validate()?;
    if compound.tune_interval == 0 {
        return Err(SampleError::Settings(SettingsError::TuneInterval));
    }
    if !nuts.initial_positions.is_empty() {
        return Err(SampleError::Settings(
            SettingsError::CompoundInitialPositions,
        ));
    }
    let plan = compound.plan(target.layout())?;
    if plan.is_empty() {
        return Err(SampleError::NothingToSample);
    }
    let start = Instant::now();
    let seed = nuts.seed.unwrap_or_else(rand::random);
    nuts.seed = Some(seed);
    let jobs = initial_jobs(&nuts, seed, |_, rng| target.initial_state(rng))?;
    let variables = target.variables();
    let width = variables.iter().map(|v| v.len()).sum();
    let compound = Compound {
        nuts: nuts.clone(),
        ..compound
    };
    let outcomes = run_jobs(jobs, &nuts, |job, progress| {
        let steps = compound.build_steps(&plan);
        run_compound_chain(target, job, &nuts, steps, width, progress)
    });
    collect_trace(variables, outcomes, nuts, seed, start)
}

/// One compound chain: every iteration runs every step once.
fn run_compound_chain<T: CompoundTarget>(
    target: &T,
    job: ChainJob<(Vec<f64>, Vec<i64>)>,
    nuts: &Nuts,
    mut steps: Vec<Box<dyn StepMethod>>,
    width: usize,
    progress: Option<&ChainProgress>,
) -> Result<ChainTrace, ChainFailureReason> {
    let ChainJob {
        chain,
        mut rng,
        start: (u, z),
    } = job;
    let logp = target.logp_joint(&u, &z)?;
    let mut state = ChainState { u, z, logp };
    let mut step_traces: Vec<StepTrace> = steps
        .iter()
        .map(|s| StepTrace {
            label: s.label().to_string(),
            accept: Vec::with_capacity(nuts.draws),
            warmup_accept: Vec::with_capacity(nuts.tune),
            evaluations: 0,
        })
        .collect();
    let mut record = vec![0.0; width];
    let mut columns = vec![Vec::with_capacity(nuts.draws); width];
    let mut warmup_columns = if nuts.keep_warmup {
        vec![Vec::with_capacity(nuts.tune); width]
    } else {
        Vec::new()
    };
    let mut stats = Vec::with_capacity(nuts.draws);
    let mut warmup_stats = Vec::with_capacity(nuts.tune);
    let mut gradient_evaluations = 0u64;
    let mut step_size = f64::NAN;
    let warmup_start = Instant::now();
    let mut warmup = None;
    let mut sampling_start = Instant::now();

    for iteration in 0..nuts.tune + nuts.draws {
        let tuning = iteration < nuts.tune;
        if !tuning && warmup.is_none() {
            warmup = Some(warmup_start.elapsed());
            sampling_start = Instant::now();
            if let Some(progress) = progress {
                progress.end_warmup();
            }
        }
        let mut nuts_stats: Option<SampleStats> = None;
        let mut sum_accept = 0.0;
        for (step, trace) in steps.iter_mut().zip(&mut step_traces) {
            let s = step.step(target, &mut state, &mut rng, tuning)?;
            trace.evaluations += u64::from(s.evaluations);
            if tuning {
                trace.warmup_accept.push(s.accept);
            } else {
                trace.accept.push(s.accept);
            }
            sum_accept += s.accept;
            if let Some(n) = s.nuts {
                gradient_evaluations += u64::from(s.evaluations);
                nuts_stats.get_or_insert(n);
            }
        }
        let draw_stats = match nuts_stats {
            Some(mut n) => {
                n.lp = state.logp;
                step_size = n.step_size;
                n
            }
            None => SampleStats {
                lp: state.logp,
                accept_stat: sum_accept / steps.len().max(1) as f64,
                accept_stat_sym: f64::NAN,
                step_size: f64::NAN,
                tree_depth: 0,
                n_leapfrog: 0,
                diverging: false,
                energy: f64::NAN,
            },
        };
        if let Some(progress) = progress {
            progress.record(iteration, draw_stats.diverging, draw_stats.step_size);
        }
        if tuning {
            warmup_stats.push(draw_stats);
            if nuts.keep_warmup {
                target.record_state(&state.u, &state.z, &mut record)?;
                push_columns(&mut warmup_columns, &record);
            }
        } else {
            stats.push(draw_stats);
            target.record_state(&state.u, &state.z, &mut record)?;
            push_columns(&mut columns, &record);
        }
    }
    let warmup = warmup.unwrap_or_else(|| warmup_start.elapsed());
    Ok(ChainTrace {
        chain,
        columns,
        warmup_columns,
        stats,
        warmup_stats,
        step_size,
        inv_mass: Vec::new(),
        inv_mass_matrix: Vec::new(),
        timing: ChainTiming {
            warmup,
            sampling: if nuts.draws > 0 {
                sampling_start.elapsed()
            } else {
                Default::default()
            },
        },
        gradient_evaluations,
        steps: step_traces,
    })
}
