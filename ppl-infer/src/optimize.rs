//! Posterior modes (MAP) by L-BFGS, and the [`Optimize`] trait that also gives the
//! Laplace approximation at the mode.

pub(crate) mod lbfgs;
mod line_search;

use crate::laplace::{laplace_approximation, LaplaceApproximation};
use crate::target::SampleTarget;
use ppl_core::context::inference::Accumulators;
use ppl_core::model::rng_for;
use ppl_core::{Model, ModelTemplate, Point};
use thiserror::Error;

/// Settings of a posterior-mode search, built with chained methods.
///
/// Defaults follow Stan's `optimize` (L-BFGS): the mode of the density of the constrained
/// values (no Jacobian, as Stan's `optimize` and PyMC's `find_MAP`), at most 2000
/// iterations, history 5 and Stan's tolerances: `tol_obj` 1e-12, `tol_rel_obj` 1e4,
/// `tol_grad` 1e-8, `tol_rel_grad` 1e7, `tol_param` 1e-8 (the relative ones in units of
/// the machine epsilon). As in Stan, the relative-gradient test usually stops the search
/// first: `gᵀHg < 1e7·ε·max(|lp|, 1)`, and near a mode `gᵀHg` is the squared distance
/// to it in posterior standard deviations, so the default stop lies within about
/// `√(2.2e-9·|lp|)` sd (~1e-4 sd for |lp| ≈ 10); lower `tol_rel_grad` and `tol_rel_obj`
/// for more digits. The search starts at [`initial_position`](Self::initial_position)
/// or at the model's [`initial_point`](ppl_core::Model::initial_point) drawn with the
/// seed (uniform(−2, 2) on the unconstrained scale); without [`seed`](Self::seed) a
/// random seed is drawn and recorded in the estimate. Settings are checked when the
/// search starts ([`validate`](Self::validate)).
///
/// ```
/// use ppl_infer::{Map, OptimizeError};
/// let map = Map::default().seed(3).jacobian(true).max_iters(500).tol_rel_grad(1e3);
/// assert!(map.validate().is_ok());
/// let err = Map::default().tol_grad(0.0).validate().unwrap_err();
/// assert_eq!(err, OptimizeError::Tolerance { name: "tol_grad", value: 0.0 });
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    seed: Option<u64>,
    jacobian: bool,
    max_iters: usize,
    tol_obj: f64,
    tol_rel_obj: f64,
    tol_grad: f64,
    tol_rel_grad: f64,
    tol_param: f64,
    history_size: usize,
    initial_position: Option<Vec<f64>>,
}

impl Default for Map {
    fn default() -> Self {
        Map {
            seed: None,
            jacobian: false,
            max_iters: 2000,
            tol_obj: 1e-12,
            tol_rel_obj: 1e4,
            tol_grad: 1e-8,
            tol_rel_grad: 1e7,
            tol_param: 1e-8,
            history_size: 5,
            initial_position: None,
        }
    }
}

impl Map {
    /// Seed of the random initial position (stream 0 of [`rng_for`]).
    ///
    /// ```
    /// use ppl_infer::Map;
    /// assert_ne!(Map::default().seed(1), Map::default().seed(2));
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Maximise the log-density with the log-Jacobians of the transforms (default
    /// false). Without them the mode is that of the constrained values' density (Stan's
    /// `optimize jacobian=0`, PyMC's `find_MAP`); with them it is the mode on the
    /// unconstrained scale, the centre of the [Laplace approximation](Optimize::laplace)
    /// (Stan's `optimize jacobian=1`, used by its `laplace`).
    ///
    /// ```
    /// use ppl_infer::Map;
    /// assert_ne!(Map::default().jacobian(true), Map::default());
    /// ```
    pub fn jacobian(mut self, jacobian: bool) -> Self {
        self.jacobian = jacobian;
        self
    }

    /// Maximum number of L-BFGS iterations, at least 1 (default 2000). Reaching it is
    /// not an error: the estimate says [`StopReason::MaxIterations`].
    ///
    /// ```
    /// use ppl_infer::{Map, OptimizeError};
    /// assert_eq!(Map::default().max_iters(0).validate(), Err(OptimizeError::NoIterations));
    /// ```
    pub fn max_iters(mut self, max_iters: usize) -> Self {
        self.max_iters = max_iters;
        self
    }

    /// Stop when the log-density changes by less than this between iterations
    /// (default 1e-12).
    ///
    /// ```
    /// use ppl_infer::{Map, OptimizeError};
    /// let err = Map::default().tol_obj(-1.0).validate().unwrap_err();
    /// assert_eq!(err, OptimizeError::Tolerance { name: "tol_obj", value: -1.0 });
    /// ```
    pub fn tol_obj(mut self, tol: f64) -> Self {
        self.tol_obj = tol;
        self
    }

    /// Stop when the log-density's change relative to `max(|lp|, |lp_previous|, 1)` is
    /// below this many machine epsilons (default 1e4).
    ///
    /// ```
    /// use ppl_infer::Map;
    /// assert!(Map::default().tol_rel_obj(1e2).validate().is_ok());
    /// ```
    pub fn tol_rel_obj(mut self, tol: f64) -> Self {
        self.tol_rel_obj = tol;
        self
    }

    /// Stop when the gradient's Euclidean norm is below this (default 1e-8).
    ///
    /// ```
    /// use ppl_infer::Map;
    /// assert!(Map::default().tol_grad(1e-6).validate().is_ok());
    /// ```
    pub fn tol_grad(mut self, tol: f64) -> Self {
        self.tol_grad = tol;
        self
    }

    /// Stop when the relative gradient `gᵀHg / max(|lp|, 1)` (`H` the L-BFGS inverse
    /// Hessian) is below this many machine epsilons (default 1e7).
    ///
    /// ```
    /// use ppl_infer::{Map, OptimizeError};
    /// let err = Map::default().tol_rel_grad(f64::NAN).validate().unwrap_err();
    /// assert!(matches!(err, OptimizeError::Tolerance { name: "tol_rel_grad", .. }));
    /// ```
    pub fn tol_rel_grad(mut self, tol: f64) -> Self {
        self.tol_rel_grad = tol;
        self
    }

    /// Stop when a step moves the unconstrained position by less than this (Euclidean
    /// norm; default 1e-8).
    ///
    /// ```
    /// use ppl_infer::Map;
    /// assert!(Map::default().tol_param(1e-10).validate().is_ok());
    /// ```
    pub fn tol_param(mut self, tol: f64) -> Self {
        self.tol_param = tol;
        self
    }

    /// Number of correction pairs L-BFGS keeps, at least 1 (default 5).
    ///
    /// ```
    /// use ppl_infer::{Map, OptimizeError};
    /// assert_eq!(Map::default().history_size(0).validate(), Err(OptimizeError::NoHistory));
    /// ```
    pub fn history_size(mut self, history_size: usize) -> Self {
        self.history_size = history_size;
        self
    }

    /// Start the search at this unconstrained position (one value per dimension of the
    /// model) instead of a random initial point.
    ///
    /// ```
    /// use ppl_infer::Map;
    /// let map = Map::default().initial_position(vec![0.0, 1.5]);
    /// assert!(map.validate().is_ok()); // its length is checked against the model's
    /// ```
    pub fn initial_position(mut self, position: Vec<f64>) -> Self {
        self.initial_position = Some(position);
        self
    }

    /// Checks the settings: every tolerance positive (and not NaN), at least one
    /// iteration and one correction pair.
    ///
    /// ```
    /// use ppl_infer::{Map, OptimizeError};
    /// assert!(Map::default().validate().is_ok());
    /// let err = Map::default().tol_param(-1e-3).validate().unwrap_err();
    /// assert_eq!(err.to_string(), "tolerance `tol_param` must be positive, got -0.001");
    /// ```
    pub fn validate(&self) -> Result<(), OptimizeError> {
        for (name, value) in [
            ("tol_obj", self.tol_obj),
            ("tol_rel_obj", self.tol_rel_obj),
            ("tol_grad", self.tol_grad),
            ("tol_rel_grad", self.tol_rel_grad),
            ("tol_param", self.tol_param),
        ] {
            let positive = value > 0.0; // false for NaN too
            if !positive {
                return Err(OptimizeError::Tolerance { name, value });
            }
        }
        if self.max_iters == 0 {
            return Err(OptimizeError::NoIterations);
        }
        if self.history_size == 0 {
            return Err(OptimizeError::NoHistory);
        }
        Ok(())
    }

    pub(crate) fn lbfgs_settings(&self) -> lbfgs::LbfgsSettings {
        lbfgs::LbfgsSettings {
            max_iters: self.max_iters,
            history_size: self.history_size,
            tol_obj: self.tol_obj,
            tol_rel_obj: self.tol_rel_obj,
            tol_grad: self.tol_grad,
            tol_rel_grad: self.tol_rel_grad,
            tol_param: self.tol_param,
        }
    }
}

/// Why the search stopped: a satisfied convergence test (Stan's, in Stan's order) or
/// the iteration limit.
///
/// ```
/// use ppl_infer::StopReason;
/// assert!(StopReason::RelativeGradient.is_convergence());
/// assert!(!StopReason::MaxIterations.is_convergence());
/// assert_eq!(StopReason::GradientNorm.to_string(), "the gradient norm is below tol_grad");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The log-density changed by less than `tol_obj`.
    ObjectiveChange,
    /// The log-density's relative change is below `tol_rel_obj` epsilons.
    RelativeObjectiveChange,
    /// The gradient's norm is below `tol_grad` (also when the start is already a mode).
    GradientNorm,
    /// The relative gradient is below `tol_rel_grad` epsilons.
    RelativeGradient,
    /// The last step was shorter than `tol_param`.
    ParameterChange,
    /// `max_iters` iterations ran without convergence.
    MaxIterations,
}

impl StopReason {
    /// Whether a convergence test stopped the search (not the iteration limit).
    ///
    /// ```
    /// use ppl_infer::StopReason;
    /// assert!(StopReason::ObjectiveChange.is_convergence());
    /// ```
    pub fn is_convergence(self) -> bool {
        self != StopReason::MaxIterations
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::ObjectiveChange => "the change of the log-density is below tol_obj",
            StopReason::RelativeObjectiveChange => {
                "the relative change of the log-density is below tol_rel_obj"
            }
            StopReason::GradientNorm => "the gradient norm is below tol_grad",
            StopReason::RelativeGradient => "the relative gradient is below tol_rel_grad",
            StopReason::ParameterChange => "the parameter change is below tol_param",
            StopReason::MaxIterations => {
                "the maximum number of iterations was reached, perhaps not at a mode"
            }
        })
    }
}

/// A posterior mode found by [`Optimize::find_map`].
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Normal;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{Map, Optimize};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 1)`, `y ~ Normal(mu, 1)` observed, and the deterministic `twice = 2 mu`.
/// struct Conjugate {
///     y: Vec<f64>,
/// }
/// impl ModelTemplate for Conjugate {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "conjugate" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
///         api::observe(ctx, "y", Normal::new(mu, 1.0), &self.y);
///         api::deterministic(ctx, "twice", &(mu * 2.0));
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Conjugate { y: vec![0.5, 1.0, 1.5, 3.0] })?;
/// let map = model.find_map(Map::default().seed(1))?;
/// // The posterior is N(6/5, 1/5): its mode is 6/5.
/// assert!(map.converged(), "{}", map.stop_reason);
/// assert!((map.point.get("mu").unwrap().values[0] - 1.2).abs() < 1e-6);
/// assert!((map.deterministics.get("twice").unwrap().values[0] - 2.4).abs() < 1e-6);
/// assert_eq!(map.position.len(), 1);
/// assert!(!map.jacobian && map.iterations >= 1 && map.gradient_evaluations > map.iterations);
/// assert_eq!(map.log_density, model.logp(&map.position)?); // no transform: no Jacobian
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MapEstimate {
    /// The mode on the unconstrained scale.
    pub position: Vec<f64>,
    /// The mode's constrained values by variable name (`model.constrain(position)`).
    pub point: Point,
    /// The model's deterministics at the mode.
    pub deterministics: Point,
    /// The maximised log-density: with the log-Jacobians when [`jacobian`](Self::jacobian),
    /// else the log-density of the constrained values.
    pub log_density: f64,
    /// Whether the log-Jacobians were part of the objective ([`Map::jacobian`]).
    pub jacobian: bool,
    /// L-BFGS iterations run.
    pub iterations: usize,
    /// Evaluations of the log-density and its gradient, the start included.
    pub gradient_evaluations: usize,
    /// Why the search stopped.
    pub stop_reason: StopReason,
    /// The seed of the random initial position (drawn if none was set).
    pub seed: u64,
}

impl MapEstimate {
    /// Whether a convergence test stopped the search (false when the iteration limit did).
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{Map, Optimize, StopReason};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// Two correlated normals: `a ~ Normal(0, 1)`, `b ~ Normal(a, 0.1)`.
    /// struct Funnelish;
    /// impl ModelTemplate for Funnelish {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "funnelish" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let a: R = api::sample(ctx, "a", Normal::new(0.0, 1.0), NoShape, None);
    ///         let _b: R = api::sample(ctx, "b", Normal::new(a, 0.1), NoShape, None);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = Model::new(Funnelish)?;
    /// let one = model.find_map(Map::default().initial_position(vec![1.5, -1.0]).max_iters(1))?;
    /// assert_eq!((one.iterations, one.stop_reason), (1, StopReason::MaxIterations));
    /// assert!(!one.converged());
    /// let full = model.find_map(Map::default().initial_position(vec![1.5, -1.0]))?;
    /// assert!(full.converged() && full.position.iter().all(|u| u.abs() < 1e-6));
    /// # Ok(()) }
    /// ```
    pub fn converged(&self) -> bool {
        self.stop_reason.is_convergence()
    }
}

/// Why a posterior mode or a Laplace approximation could not be computed.
///
/// ```
/// use ppl_infer::OptimizeError;
/// let err = OptimizeError::DiscreteVariables(vec!["k".into()]);
/// assert!(err.to_string().contains("`k`"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum OptimizeError {
    /// The model has discrete latent variables; a mode over continuous and discrete
    /// values together is not searched.
    #[error("the model has discrete latent variables ({}): the mode search works on continuous variables only; condition the model on their values or marginalise them", .0.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))]
    DiscreteVariables(Vec<String>),
    /// The model returned an error.
    #[error("the model returned an error: {0}")]
    Model(#[from] ppl_core::Error),
    /// The initial position has the wrong number of values.
    #[error("the initial position has {found} values, but the model has {expected} unconstrained dimensions")]
    InitialLength {
        /// The model's unconstrained dimension.
        expected: usize,
        /// The initial position's length.
        found: usize,
    },
    /// The log-density or its gradient is not finite at the initial position.
    #[error("the log-density or its gradient is not finite at the initial position (log-density {log_density}); per-variable terms:\n{table}")]
    InitialPoint {
        /// The objective's log-density there.
        log_density: f64,
        /// Each variable's log-density term there.
        table: String,
    },
    /// No step along the quasi-Newton direction nor along the gradient increased the
    /// log-density.
    #[error("the line search found no increase of the log-density after {iterations} iterations (log-density {log_density}, gradient norm {gradient_norm}); no more progress can be made")]
    LineSearch {
        /// Iterations completed before.
        iterations: usize,
        /// The log-density reached.
        log_density: f64,
        /// The gradient's norm there.
        gradient_norm: f64,
    },
    /// A tolerance that is not positive.
    #[error("tolerance `{name}` must be positive, got {value}")]
    Tolerance {
        /// The setting's name.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// `max_iters(0)`.
    #[error("the maximum number of iterations must be at least 1")]
    NoIterations,
    /// `history_size(0)`.
    #[error("the L-BFGS history size must be at least 1")]
    NoHistory,
    /// A Laplace approximation with no draws.
    #[error("the number of draws from the Laplace approximation must be at least 1")]
    NoDraws,
    /// A Laplace approximation at a mode found without the Jacobian.
    #[error("the Laplace approximation is centred at the mode on the unconstrained scale: find it with `Map::default().jacobian(true)` (this mode was found without the Jacobian)")]
    ModeWithoutJacobian,
    /// The Hessian at the mode is not negative definite (not a strict local maximum
    /// on the unconstrained scale, or a flat or improper direction).
    #[error("the Hessian of the log-density at the mode is not negative definite (largest eigenvalue {largest_eigenvalue}): the point is not a strict maximum, so it has no Laplace approximation")]
    NotNegativeDefinite {
        /// The Hessian's largest eigenvalue (non-negative, or NaN when the Hessian has
        /// non-finite entries).
        largest_eigenvalue: f64,
    },
}

/// Posterior modes and Laplace approximations for `ppl_core::Model`:
/// `model.find_map(Map::default())` (Stan's `optimize`, PyMC's `find_MAP`) and
/// `model.laplace(&mode, draws, seed)` (Stan's `laplace`).
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::{Exponential, Poisson};
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{Map, Optimize};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `rate ~ Exponential(1)` and counts `y ~ Poisson(rate)`.
/// struct Counts {
///     y: Vec<f64>,
/// }
/// impl ModelTemplate for Counts {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "counts" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let rate: R = api::sample(ctx, "rate", Exponential::new(1.0), NoShape, None);
///         api::observe(ctx, "y", Poisson::new(rate), &self.y);
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Counts { y: vec![2.0, 4.0, 3.0, 5.0] })?;
/// // The posterior is Gamma(1 + 14, 1 + 4): mode 14/5 for the rate itself, and the
/// // mode of ln(rate) is at rate = 15/5 (the Jacobian adds one to the shape).
/// let constrained = model.find_map(Map::default().seed(2))?;
/// // Stan's default tolerances stop within ~2e-4 posterior sd of a mode (the rate's
/// // sd is 0.77 here; see `Map`).
/// assert!((constrained.point.get("rate").unwrap().values[0] - 2.8).abs() < 1e-3);
/// let unconstrained = model.find_map(Map::default().seed(2).jacobian(true))?;
/// assert!((unconstrained.point.get("rate").unwrap().values[0] - 3.0).abs() < 1e-3);
/// let laplace = model.laplace(&unconstrained, 1000, 7)?;
/// // ln(rate) ~ approximately N(ln 3, 1/15).
/// assert!((laplace.covariance[0][0] - 1.0 / 15.0).abs() < 1e-3);
/// assert_eq!(laplace.trace.samples("rate", 0).unwrap()[0].len(), 1000);
/// assert!(laplace.pareto_k < 0.7, "{}", laplace.pareto_k);
/// # Ok(()) }
/// ```
pub trait Optimize {
    /// The posterior mode by L-BFGS with the settings `settings`.
    ///
    /// The objective is the log-density with or without the log-Jacobians of the
    /// transforms ([`Map::jacobian`]), maximised over the unconstrained vector; the
    /// estimate holds the mode on both scales. Reaching the iteration limit returns the
    /// last position with [`StopReason::MaxIterations`]. Errors: invalid settings,
    /// discrete latent variables (named), an initial position of the wrong length or
    /// with a non-finite log-density or gradient, a line search that cannot increase the
    /// log-density, and model errors.
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::HalfNormal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{Map, Optimize, OptimizeError};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `sigma ~ HalfNormal(1)`: without the Jacobian the mode is at the boundary 0.
    /// struct Scale;
    /// impl ModelTemplate for Scale {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "scale" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let _sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = Model::new(Scale)?;
    /// // With the Jacobian ln sigma the density of u = ln sigma is ∝ sigma e^{−sigma²/2}:
    /// // mode at sigma = 1.
    /// let map = model.find_map(Map::default().jacobian(true).seed(4))?;
    /// assert!((map.point.get("sigma").unwrap().values[0] - 1.0).abs() < 1e-4);
    /// let err = model.find_map(Map::default().initial_position(vec![0.0, 0.0])).unwrap_err();
    /// assert_eq!(err, OptimizeError::InitialLength { expected: 1, found: 2 });
    /// # Ok(()) }
    /// ```
    fn find_map(&self, settings: Map) -> Result<MapEstimate, OptimizeError>;

    /// The Laplace approximation at `map` (Stan's `laplace`): the normal distribution
    /// on the unconstrained scale centred at the mode with covariance `(−H)⁻¹`, `H` the
    /// Hessian of the log-density with the Jacobians by hyper-dual numbers, and `draws`
    /// independent draws from it as a one-chain [`Trace`](crate::Trace) (constrained
    /// values and deterministics; each draw's `lp` is the model's log-density there),
    /// with Pareto `k̂` of the importance ratios `p/q` as a check of the approximation.
    ///
    /// `map` must come from [`find_map`](Self::find_map) with [`Map::jacobian`]`(true)`:
    /// the approximation is centred at the mode of the unconstrained density, which is
    /// not the mode of the constrained values (a mode found without the Jacobian is
    /// refused rather than silently searched again).
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{Map, Optimize, OptimizeError};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `mu ~ Normal(0, 1)`, one observation `y = 2 ~ Normal(mu, 1)`: posterior N(1, 1/2).
    /// struct One;
    /// impl ModelTemplate for One {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "one" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    ///         api::observe(ctx, "y", Normal::new(mu, 1.0), 2.0);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = Model::new(One)?;
    /// let mode = model.find_map(Map::default().jacobian(true).seed(1))?;
    /// let laplace = model.laplace(&mode, 400, 3)?;
    /// assert!((laplace.mode[0] - 1.0).abs() < 1e-6);
    /// assert!((laplace.covariance[0][0] - 0.5).abs() < 1e-9);
    /// // The posterior is this normal: the importance ratios are constant.
    /// assert!(laplace.pareto_k < 0.5, "{}", laplace.pareto_k);
    /// let without = model.find_map(Map::default().seed(1))?;
    /// assert_eq!(model.laplace(&without, 400, 3).unwrap_err(), OptimizeError::ModeWithoutJacobian);
    /// # Ok(()) }
    /// ```
    fn laplace(
        &self,
        map: &MapEstimate,
        draws: usize,
        seed: u64,
    ) -> Result<LaplaceApproximation, OptimizeError>;
}

impl<T: ModelTemplate + Sync> Optimize for Model<T> {
    fn find_map(&self, settings: Map) -> Result<MapEstimate, OptimizeError> {
        settings.validate()?;
        let names = SampleTarget::discrete_variables(self);
        if !names.is_empty() {
            return Err(OptimizeError::DiscreteVariables(names));
        }
        let seed = settings.seed.unwrap_or_else(rand::random);
        let start = match &settings.initial_position {
            Some(u) if u.len() != self.dim() => {
                return Err(OptimizeError::InitialLength {
                    expected: self.dim(),
                    found: u.len(),
                })
            }
            Some(u) => u.clone(),
            None => self.initial_point(&mut rng_for(seed, 0))?,
        };
        let jacobian = settings.jacobian;
        let mut evaluations = 0usize;
        // L-BFGS minimises the negative log-density.
        let mut objective = |u: &[f64], grad: &mut [f64]| -> ppl_core::Result<f64> {
            evaluations += 1;
            let lp = if jacobian {
                self.logp_grad(u, grad)?
            } else {
                self.logp_grad_without_jacobian(u, grad)?
            };
            grad.iter_mut().for_each(|g| *g = -*g);
            Ok(-lp)
        };
        let mut grad = vec![0.0; start.len()];
        let f = objective(&start, &mut grad)?;
        if !(f.is_finite() && grad.iter().all(|g| g.is_finite())) {
            return Err(OptimizeError::InitialPoint {
                log_density: -f,
                table: self.log_density_table(&start)?,
            });
        }
        let minimum = lbfgs::minimize(
            &mut objective,
            start,
            f,
            grad,
            &settings.lbfgs_settings(),
            &mut |_, _| {},
        )?;
        let point = self.constrain(&minimum.x)?;
        let deterministics = deterministics_at(self, &minimum.x)?;
        Ok(MapEstimate {
            position: minimum.x,
            point,
            deterministics,
            log_density: -minimum.f,
            jacobian,
            iterations: minimum.iterations,
            gradient_evaluations: evaluations,
            stop_reason: minimum.stop,
            seed,
        })
    }

    fn laplace(
        &self,
        map: &MapEstimate,
        draws: usize,
        seed: u64,
    ) -> Result<LaplaceApproximation, OptimizeError> {
        laplace_approximation(self, map, draws, seed)
    }
}

/// The deterministics of `model` at the unconstrained position `u`, with their shapes.
fn deterministics_at<T: ModelTemplate>(
    model: &Model<T>,
    u: &[f64],
) -> Result<Point, ppl_core::Error> {
    let options = Accumulators {
        deterministics: true,
        ..Accumulators::default()
    };
    let evaluation = model.evaluate(u, options)?;
    let mut point = Point::new();
    for (name, values) in evaluation.deterministics {
        let shape = model
            .layout()
            .deterministics
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, shape)| shape.clone())
            .unwrap_or_else(|| vec![values.len()]);
        point.insert(&name, ppl_core::layout::Array { shape, values });
    }
    Ok(point)
}
