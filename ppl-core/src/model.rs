//! The model runtime: a bound model template, its layout, log-density and gradient.

use crate::context::forward::ForwardContext;
use crate::context::inference::{Accumulators, InferenceContext};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::layout::{Layout, Point};
use crate::scalar::dual::Fwd;
use crate::scalar::Real;
use crate::tape::{self, Var};
use num_dual::{Dual64, HyperDual64};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::{Add, Div, Mul, Sub};

/// A model template: what `#[model]` generates. Runs the model body under a context.
///
/// Written by hand, a template calls the [`api`](crate::context::api) functions that
/// `sample!` and `observe!` expand to; [`Model::new`] binds it.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::{HalfNormal, Normal};
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
/// /// returns `mu`. This is what `#[model]` generates, written by hand.
/// #[derive(Clone)]
/// struct Simple {
///     y: Vec<f64>,
/// }
///
/// impl ModelTemplate for Simple {
///     type Output<R: Real> = R;
///     fn name(&self) -> &'static str {
///         "simple"
///     }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
///         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
///         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
///         mu
///     }
/// }
///
/// let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
/// assert_eq!(model.name(), "simple");
/// let names: Vec<&str> = model.layout().variables.iter().map(|v| v.name.as_str()).collect();
/// assert_eq!(names, ["mu", "sigma"]);
/// // `Output<R>` is what the body returns: here `mu`, read back at u = (mu, ln sigma).
/// assert_eq!(model.output(&[1.25, 0.0]).unwrap(), 1.25);
/// ```
pub trait ModelTemplate {
    /// What the model body returns, for scalar type `R`.
    type Output<R: Real>;

    /// The model's name.
    fn name(&self) -> &'static str;

    /// Runs the body once under `ctx`.
    fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> Self::Output<R>
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>;
}

/// What samplers need from a model: a log-density and its gradient on ℝ^dim.
///
/// Any type can implement it (a sampler never needs a [`Model`]); a [`Model`] does.
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{HalfNormal, Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
/// # /// returns `mu`. This is what `#[model]` generates, written by hand.
/// # #[derive(Clone)]
/// # struct Simple {
/// #     y: Vec<f64>,
/// # }
/// #
/// # impl ModelTemplate for Simple {
/// #     type Output<R: Real> = R;
/// #     fn name(&self) -> &'static str {
/// #         "simple"
/// #     }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
/// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
/// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
/// #         mu
/// #     }
/// # }
/// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
/// use ppl_core::{LogDensity, Result};
///
/// /// A standard normal on ℝ²: ln p(x) = −|x|²/2 (up to a constant).
/// struct StdNormal2;
/// impl LogDensity for StdNormal2 {
///     fn dim(&self) -> usize {
///         2
///     }
///     fn logp(&self, x: &[f64]) -> Result<f64> {
///         Ok(-0.5 * (x[0] * x[0] + x[1] * x[1]))
///     }
///     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64> {
///         grad[0] = -x[0];
///         grad[1] = -x[1];
///         self.logp(x)
///     }
/// }
///
/// fn value_and_slope(target: &impl LogDensity, x: &[f64]) -> (f64, Vec<f64>) {
///     let mut grad = vec![0.0; target.dim()];
///     let lp = target.logp_grad(x, &mut grad).unwrap();
///     (lp, grad)
/// }
/// assert_eq!(value_and_slope(&StdNormal2, &[1.0, -2.0]), (-2.5, vec![-1.0, 2.0]));
/// let (lp, _) = value_and_slope(&model, &[0.3, -0.2]);
/// assert_eq!(lp, model.logp(&[0.3, -0.2]).unwrap());
/// ```
pub trait LogDensity {
    /// Dimension of the unconstrained space.
    fn dim(&self) -> usize;
    /// Log-density (up to a constant) at an unconstrained point.
    fn logp(&self, position: &[f64]) -> Result<f64>;
    /// Log-density and its gradient (written into `grad`).
    fn logp_grad(&self, position: &[f64], grad: &mut [f64]) -> Result<f64>;
}

/// What compound samplers need from a model with discrete variables: the joint
/// log-density of the continuous (unconstrained) vector `u` and the integer state `z`,
/// and its gradient with respect to `u`.
///
/// Up to a constant, the joint log-density is also every block's conditional
/// log-density: a step that updates some variables with the rest held fixed evaluates it
/// at the proposed values. [`Model`] evaluates it in plain `f64` without a tape, without
/// re-deriving the layout and without allocating in the runtime (variables of more
/// than four elements allocate the `Vec` the model body receives).
///
/// A model without discrete variables has an empty integer state `z`:
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{HalfNormal, Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
/// # /// returns `mu`. This is what `#[model]` generates, written by hand.
/// # #[derive(Clone)]
/// # struct Simple {
/// #     y: Vec<f64>,
/// # }
/// #
/// # impl ModelTemplate for Simple {
/// #     type Output<R: Real> = R;
/// #     fn name(&self) -> &'static str {
/// #         "simple"
/// #     }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
/// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
/// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
/// #         mu
/// #     }
/// # }
/// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
/// use ppl_core::JointDensity;
///
/// fn joint_at_origin(target: &impl JointDensity) -> f64 {
///     let layout = target.layout();
///     let u = vec![0.0; layout.dim];
///     let z = vec![0; layout.discrete_dim];
///     target.logp_joint(&u, &z).unwrap()
/// }
/// assert_eq!(model.layout().discrete_dim, 0);
/// assert_eq!(joint_at_origin(&model), model.logp(&[0.0, 0.0]).unwrap());
/// ```
pub trait JointDensity: Sync {
    /// The layout: variables with their offsets into `u` and `z`.
    fn layout(&self) -> &Layout;
    /// Joint log-density (with Jacobians) at `(u, z)`.
    fn logp_joint(&self, u: &[f64], z: &[i64]) -> Result<f64>;
    /// Joint log-density and its gradient with respect to `u` (written into `grad`).
    fn logp_grad_joint(&self, u: &[f64], z: &[i64], grad: &mut [f64]) -> Result<f64>;
}

/// The result of one evaluation with selected accumulators.
///
/// The total is the sum of the four parts (see [`Model::evaluate`]):
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{HalfNormal, Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
/// # /// returns `mu`. This is what `#[model]` generates, written by hand.
/// # #[derive(Clone)]
/// # struct Simple {
/// #     y: Vec<f64>,
/// # }
/// #
/// # impl ModelTemplate for Simple {
/// #     type Output<R: Real> = R;
/// #     fn name(&self) -> &'static str {
/// #         "simple"
/// #     }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
/// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
/// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
/// #         mu
/// #     }
/// # }
/// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
/// # let ln_normal = |x: f64, m: f64, s: f64| {
/// #     -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
/// # };
/// use ppl_core::context::inference::Accumulators;
///
/// let u = [1.0, 0.5_f64.ln()]; // mu = 1, sigma = 0.5
/// let eval = model.evaluate(&u, Accumulators::default()).unwrap();
/// let parts = eval.log_prior + eval.log_likelihood + eval.log_jacobian + eval.log_potential;
/// assert!((eval.total - parts).abs() < 1e-12);
/// let prior = ln_normal(1.0, 0.0, 5.0) + 2_f64.ln() + ln_normal(0.5, 0.0, 1.0);
/// assert!((eval.log_prior - prior).abs() < 1e-12);
/// assert!((eval.log_jacobian - 0.5_f64.ln()).abs() < 1e-12); // ln |d sigma / du| = u
/// assert!(eval.pointwise.is_empty()); // not requested
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// Total log-density (with the Jacobian if requested).
    pub total: f64,
    /// Sum of the random variables' log-densities.
    pub log_prior: f64,
    /// Sum of the observations' log-likelihoods.
    pub log_likelihood: f64,
    /// Sum of the transforms' log-Jacobians.
    pub log_jacobian: f64,
    /// Sum of potentials.
    pub log_potential: f64,
    /// Pointwise log-likelihood per observation (if requested).
    pub pointwise: Vec<(String, Vec<f64>)>,
    /// Deterministic values (if requested).
    pub deterministics: Vec<(String, Vec<f64>)>,
    /// Per-term log-densities (if requested).
    pub per_variable: Vec<(String, f64)>,
}

/// A log-density computed at `u`, or −∞ if it is NaN because an element of `u` is not
/// finite: where a parameter is infinite or NaN, arithmetic gives NaN (∞ − ∞) on one
/// path and a parameter check −∞ on another; a sampler reads either as a divergence,
/// and `logp` and `logp_grad` answer alike. Checked only on the NaN path.
#[inline]
fn at_finite_position(value: f64, u: &[f64]) -> f64 {
    #[cold]
    fn nan_at(u: &[f64]) -> f64 {
        if u.iter().any(|x| !x.is_finite()) {
            f64::NEG_INFINITY
        } else {
            f64::NAN
        }
    }
    if value.is_nan() {
        nan_at(u)
    } else {
        value
    }
}

/// One draw from the prior and prior predictive.
///
/// Returned by [`Model::prior_draw`]:
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{HalfNormal, Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
/// # /// returns `mu`. This is what `#[model]` generates, written by hand.
/// # #[derive(Clone)]
/// # struct Simple {
/// #     y: Vec<f64>,
/// # }
/// #
/// # impl ModelTemplate for Simple {
/// #     type Output<R: Real> = R;
/// #     fn name(&self) -> &'static str {
/// #         "simple"
/// #     }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
/// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
/// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
/// #         mu
/// #     }
/// # }
/// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
/// use ppl_core::model::rng_for;
///
/// let draw = model.prior_draw(&mut rng_for(7, 0)).unwrap();
/// assert!(draw.variables.get("sigma").unwrap().values[0] > 0.0);
/// assert_eq!(draw.variables.len(), 2); // mu and sigma
/// assert_eq!(draw.observed.get("y").unwrap().values.len(), 3); // one per datum
/// assert!(draw.deterministics.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PriorDraw {
    /// The random variables.
    pub variables: Point,
    /// The observed variables, drawn from their distributions.
    pub observed: Point,
    /// Deterministic quantities.
    pub deterministics: Point,
}

/// A model bound to its data, with its layout known.
///
/// Built by the `model(...)` function `#[model]` generates. See the crate docs for an
/// end-to-end example.
///
/// Without the macro, implement [`ModelTemplate`] by hand and call [`Model::new`]; the
/// unconstrained vector `u` holds each variable's value mapped onto ℝ (here
/// `u = (mu, ln sigma)`):
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::{HalfNormal, Normal};
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
/// /// returns `mu`. This is what `#[model]` generates, written by hand.
/// #[derive(Clone)]
/// struct Simple {
///     y: Vec<f64>,
/// }
///
/// impl ModelTemplate for Simple {
///     type Output<R: Real> = R;
///     fn name(&self) -> &'static str {
///         "simple"
///     }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
///         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
///         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
///         mu
///     }
/// }
///
/// let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
/// assert_eq!(model.dim(), 2);
///
/// let (mu, sigma) = (1.0, 0.5);
/// let u = [mu, sigma.ln()];
/// let ln_normal = |x: f64, m: f64, s: f64| {
///     -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
/// };
/// // log prior + log likelihood + log-Jacobian of sigma = e^u₁ (which is u₁).
/// let want = ln_normal(mu, 0.0, 5.0)
///     + (2_f64.ln() + ln_normal(sigma, 0.0, 1.0))
///     + [0.5, 1.5, 2.5].iter().map(|y| ln_normal(*y, mu, sigma)).sum::<f64>()
///     + sigma.ln();
/// assert!((model.logp(&u).unwrap() - want).abs() < 1e-12);
///
/// let point = model.constrain(&u).unwrap();
/// assert_eq!(point.get("sigma").unwrap().values, [0.5]);
/// ```
#[derive(Clone)]
pub struct Model<T> {
    template: T,
    layout: Layout,
    conditioned: BTreeMap<String, Vec<f64>>,
}

impl<T: ModelTemplate> std::fmt::Debug for Model<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.template.name())
            .field("layout", &self.layout)
            .field("conditioned", &self.conditioned)
            .finish()
    }
}

/// The model's name and its [`Layout`] table.
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::dist::{HalfNormal, Normal};
/// # use ppl_core::{Context, Model, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// #
/// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
/// # /// returns `mu`. This is what `#[model]` generates, written by hand.
/// # #[derive(Clone)]
/// # struct Simple {
/// #     y: Vec<f64>,
/// # }
/// #
/// # impl ModelTemplate for Simple {
/// #     type Output<R: Real> = R;
/// #     fn name(&self) -> &'static str {
/// #         "simple"
/// #     }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
/// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
/// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
/// #         mu
/// #     }
/// # }
/// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
/// let text = model.to_string();
/// let lines: Vec<&str> = text.lines().collect();
/// assert_eq!(lines[0], "model `simple`");
/// assert_eq!(lines[1], "variable  distribution  shape     transform          position");
/// assert_eq!(lines[3], "sigma     HalfNormal    scalar    lower bound (log)  u[1]");
/// assert_eq!(lines.last(), Some(&"2 unconstrained dimensions (u)"));
/// ```
impl<T: ModelTemplate> std::fmt::Display for Model<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "model `{}`", self.template.name())?;
        write!(f, "{}", self.layout)
    }
}

thread_local! {
    static LEAVES: std::cell::RefCell<Vec<Var>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Attempts made by [`Model::initial_point`].
pub const INIT_ATTEMPTS: usize = 100;

impl<T: ModelTemplate> Model<T> {
    /// Runs the template forward once (fixed seed) to learn its layout, then once under
    /// the inference context to check that the structure is reproducible.
    ///
    /// A template whose first pass breaks a rule fails here, with an error naming the
    /// variable:
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Error, Model, ModelTemplate, Real};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `x ~ Normal(0, 1)`, `y ~ Normal(x, 1)` observed.
    /// struct Data {
    ///     y: Vec<f64>,
    /// }
    /// impl ModelTemplate for Data {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str {
    ///         "data"
    ///     }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let x: R = api::sample(ctx, "x", Normal::new(0.0, 1.0), NoShape, None);
    ///         api::observe(ctx, "y", Normal::new(x, 1.0), &self.y);
    ///     }
    /// }
    ///
    /// let model = Model::new(Data { y: vec![0.5, -1.0] }).unwrap();
    /// assert_eq!((model.dim(), model.layout().observed[0].len), (1, 2));
    ///
    /// let err = Model::new(Data { y: vec![0.5, f64::NAN] }).unwrap_err();
    /// assert!(matches!(err, Error::NonFiniteData { index: 1, .. }));
    /// let message = "variable `y`: observed data are not finite at index 1 (value NaN)";
    /// assert_eq!(err.to_string(), message);
    /// let err = Model::new(Data { y: vec![] }).unwrap_err();
    /// assert_eq!(err, Error::EmptyData { variable: "y".into() });
    /// ```
    pub fn new(template: T) -> Result<Self> {
        Self::with_conditioned(template, BTreeMap::new())
    }

    fn with_conditioned(template: T, conditioned: BTreeMap<String, Vec<f64>>) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
        let (layout, draws) = {
            let mut ctx = ForwardContext::new(&mut rng, &conditioned, false);
            guarded(|| template.run::<f64, _>(&mut ctx))?;
            if let Some(e) = ctx.error {
                return Err(e);
            }
            (ctx.layout, ctx.draws)
        };
        for name in conditioned.keys() {
            if layout.variable(name).is_none() {
                return Err(Error::Point(format!(
                    "cannot condition on `{name}`: the model has no such random variable"
                )));
            }
        }
        let model = Model {
            template,
            layout,
            conditioned,
        };
        let (u, z) = model.unconstrain_joint(&draws)?;
        model.evaluate_joint(&u, &z, Accumulators::default())?;
        Ok(model)
    }

    /// The layout: variables, observations, deterministics.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// let layout = model.layout();
    /// let names: Vec<&str> = layout.variables.iter().map(|v| v.name.as_str()).collect();
    /// assert_eq!(names, ["mu", "sigma"]);
    /// assert_eq!(layout.variable("sigma").unwrap().offset, 1); // u[1] = ln sigma
    /// assert_eq!((layout.observed[0].name.as_str(), layout.observed[0].len), ("y", 3));
    /// ```
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The model's name.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// assert_eq!(model.name(), "simple");
    /// assert!(model.to_string().starts_with("model `simple`"));
    /// ```
    pub fn name(&self) -> &'static str {
        self.template.name()
    }

    /// Dimension of the unconstrained space.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// assert_eq!(model.dim(), 2); // mu and ln sigma
    /// // A variable held at a value leaves the unconstrained space.
    /// let fixed = model.condition(&ppl_core::Point::new().with("sigma", 1.0)).unwrap();
    /// assert_eq!(fixed.dim(), 1);
    /// ```
    pub fn dim(&self) -> usize {
        self.layout.dim
    }

    /// Length of the integer state holding the discrete variables (0 without any).
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// assert_eq!((model.dim(), model.discrete_dim()), (1, 1)); // mu in u, k in z
    /// let given = model.condition(&ppl_core::Point::new().with("k", 1.0)).unwrap();
    /// assert_eq!((given.dim(), given.discrete_dim()), (1, 0));
    /// ```
    pub fn discrete_dim(&self) -> usize {
        self.layout.discrete_dim
    }

    fn check_dim(&self, u: &[f64]) -> Result<()> {
        if u.len() != self.layout.dim {
            return Err(Error::Dimension {
                expected: self.layout.dim,
                found: u.len(),
            });
        }
        Ok(())
    }

    fn check_state(&self, u: &[f64], z: &[i64]) -> Result<()> {
        self.check_dim(u)?;
        if z.len() != self.layout.discrete_dim {
            return Err(Error::DiscreteDimension {
                expected: self.layout.discrete_dim,
                found: z.len(),
            });
        }
        Ok(())
    }

    /// Runs the template in an inference context and lends the total and the context to
    /// `finish` (a closure taking a borrow rather than a returned pair, so that the
    /// context, a few hundred bytes, is never copied: a copy cost about 90 instructions per
    /// evaluation of a small model).
    fn run_inference<'a, R: Real, Out>(
        &'a self,
        input: &'a [R],
        discrete: &'a [i64],
        options: Accumulators,
        finish: impl FnOnce(R, &mut InferenceContext<'a, R>) -> Out,
    ) -> Result<Out>
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        let mut ctx = InferenceContext::with_discrete(
            &self.layout,
            input,
            discrete,
            &self.conditioned,
            options,
        );
        guarded(|| self.template.run::<R, _>(&mut ctx))?;
        ctx.finish()?;
        let total = ctx.total();
        Ok(finish(total, &mut ctx))
    }

    /// [`run_inference`](Self::run_inference) for the total alone.
    fn inference_total<R: Real>(&self, input: &[R], discrete: &[i64]) -> Result<R>
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        self.run_inference(input, discrete, Accumulators::default(), |total, _| total)
    }

    /// Log-density at an unconstrained point (with Jacobians). For a model with
    /// discrete variables use [`logp_joint`](Self::logp_joint).
    ///
    /// With `u = (mu, ln sigma)` for the model of the [`Model`] example:
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// let ln_normal = |x: f64, m: f64, s: f64| {
    ///     -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    /// };
    /// let (mu, sigma) = (-0.3, 2.0);
    /// let lp = model.logp(&[mu, sigma.ln()]).unwrap();
    /// let want = ln_normal(mu, 0.0, 5.0)
    ///     + (2_f64.ln() + ln_normal(sigma, 0.0, 1.0))
    ///     + [0.5, 1.5, 2.5].iter().map(|y| ln_normal(*y, mu, sigma)).sum::<f64>()
    ///     + sigma.ln(); // the Jacobian of sigma = e^u₁
    /// assert!((lp - want).abs() < 1e-12);
    /// assert!(model.logp(&[0.0]).is_err()); // wrong dimension
    /// ```
    pub fn logp(&self, u: &[f64]) -> Result<f64> {
        self.logp_joint(u, &[])
    }

    /// Joint log-density at the unconstrained continuous vector `u` and the integer
    /// state `z` of the discrete variables (with Jacobians).
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::{Bernoulli, Normal};
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `k ~ Bernoulli(0.3)`, `y = 1 ~ Normal(2k, 1)`.
    /// struct Switch;
    /// impl ModelTemplate for Switch {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "switch" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    ///         let shift: f64 = if k == 1 { 2.0 } else { 0.0 };
    ///         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    ///     }
    /// }
    ///
    /// let model = Model::new(Switch).unwrap();
    /// assert_eq!((model.dim(), model.discrete_dim()), (0, 1));
    /// let lp = model.logp_joint(&[], &[1]).unwrap();
    /// let want = 0.3_f64.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() - 0.5;
    /// assert!((lp - want).abs() < 1e-12);
    /// assert!(model.logp(&[]).is_err()); // the integer state is required
    /// ```
    pub fn logp_joint(&self, u: &[f64], z: &[i64]) -> Result<f64> {
        self.check_state(u, z)?;
        let value = self.inference_total::<f64>(u, z)?;
        Ok(at_finite_position(value, u))
    }

    /// Log-density and gradient by the reverse-mode tape. For a model with discrete
    /// variables use [`logp_grad_joint`](Self::logp_grad_joint).
    ///
    /// For the model of the [`Model`] example at `u = (mu, ln sigma)`, with `S₁ = Σ(yᵢ − mu)`,
    /// `S₂ = Σ(yᵢ − mu)²` and `n` data: `∂/∂mu = −mu/25 + S₁/sigma²` and
    /// `∂/∂u₁ = −sigma² + S₂/sigma² − n + 1`.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// let (mu, sigma) = (1.0, 0.5_f64);
    /// let mut grad = [0.0; 2];
    /// let lp = model.logp_grad(&[mu, sigma.ln()], &mut grad).unwrap();
    /// assert_eq!(lp, model.logp(&[mu, sigma.ln()]).unwrap());
    /// // S₁ = 1.5, S₂ = 2.75, n = 3.
    /// assert!((grad[0] - (-mu / 25.0 + 1.5 / 0.25)).abs() < 1e-10);
    /// assert!((grad[1] - (-0.25 + 2.75 / 0.25 - 3.0 + 1.0)).abs() < 1e-10);
    /// // A position with a non-finite element has density zero, as `logp` says (a
    /// // sampler reads it as a divergence); the gradient there means nothing.
    /// for bad in [[f64::NAN, 0.0], [f64::INFINITY, 0.0], [0.0, f64::NEG_INFINITY]] {
    ///     assert_eq!(model.logp_grad(&bad, &mut grad).unwrap(), f64::NEG_INFINITY);
    ///     assert_eq!(model.logp(&bad).unwrap(), f64::NEG_INFINITY);
    /// }
    /// ```
    pub fn logp_grad(&self, u: &[f64], grad: &mut [f64]) -> Result<f64> {
        self.logp_grad_joint(u, &[], grad)
    }

    /// Joint log-density and its gradient with respect to `u`, by the reverse-mode tape.
    ///
    /// For `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)` and `y = 1 ~ Normal(mu + 2k, 1)`:
    /// `∂/∂mu = −mu + (1 − mu − 2k)`.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// # let ln_normal = |x: f64, m: f64| -0.5 * (x - m).powi(2) - 0.5 * (2.0 * std::f64::consts::PI).ln();
    /// use ppl_core::Error;
    ///
    /// let (mu, k) = (0.5, 1);
    /// let mut grad = [0.0];
    /// let lp = model.logp_grad_joint(&[mu], &[k], &mut grad).unwrap();
    /// let want = 0.3_f64.ln() + ln_normal(mu, 0.0) + ln_normal(1.0, mu + 2.0);
    /// assert!((lp - want).abs() < 1e-12);
    /// assert!((grad[0] - (-mu + (1.0 - mu - 2.0))).abs() < 1e-12);
    /// // One gradient slot per continuous dimension.
    /// let err = model.logp_grad_joint(&[mu], &[k], &mut [0.0; 2]).unwrap_err();
    /// assert_eq!(err, Error::Dimension { expected: 1, found: 2 });
    /// ```
    pub fn logp_grad_joint(&self, u: &[f64], z: &[i64], grad: &mut [f64]) -> Result<f64> {
        self.tape_logp_grad(u, z, grad, Accumulators::default())
    }

    /// Log-density without the log-Jacobians of the transforms (the density of the
    /// constrained values, read at the unconstrained point `u`) and its gradient with
    /// respect to `u`, by the reverse-mode tape: the objective of a posterior mode in the
    /// constrained space (Stan's `optimize` with `jacobian=false`, PyMC's `find_MAP`).
    ///
    /// For the model of the [`Model`] example the difference from
    /// [`logp_grad`](Self::logp_grad) is the Jacobian `u₁` of `sigma = e^u₁`, whose
    /// derivative is 1:
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// let u = [1.0, 0.5_f64.ln()];
    /// let (mut with, mut without) = ([0.0; 2], [0.0; 2]);
    /// let lp = model.logp_grad(&u, &mut with).unwrap();
    /// let lp_constrained = model.logp_grad_without_jacobian(&u, &mut without).unwrap();
    /// assert!((lp - lp_constrained - u[1]).abs() < 1e-12);
    /// assert_eq!(with[0], without[0]);
    /// assert!((with[1] - without[1] - 1.0).abs() < 1e-12);
    /// ```
    pub fn logp_grad_without_jacobian(&self, u: &[f64], grad: &mut [f64]) -> Result<f64> {
        let options = Accumulators {
            jacobian: false,
            ..Accumulators::default()
        };
        self.tape_logp_grad(u, &[], grad, options)
    }

    /// The tape's log-density and gradient with the chosen accumulators.
    fn tape_logp_grad(
        &self,
        u: &[f64],
        z: &[i64],
        grad: &mut [f64],
        options: Accumulators,
    ) -> Result<f64> {
        self.check_state(u, z)?;
        self.check_dim(grad)?;
        tape::reset();
        let value = LEAVES.with(|cell| {
            // Reuse this thread's leaf buffer; a re-entrant call falls back to a new one.
            let mut owned;
            let mut guard = cell.try_borrow_mut();
            let leaves: &mut Vec<Var> = match guard.as_deref_mut() {
                Ok(v) => v,
                Err(_) => {
                    owned = Vec::new();
                    &mut owned
                }
            };
            leaves.clear();
            Var::leaves(u, leaves);
            let total = self.run_inference::<Var, _>(leaves, z, options, |total, _| total)?;
            tape::gradient(total, leaves, grad);
            Ok::<_, Error>(total.value())
        })?;
        Ok(at_finite_position(value, u))
    }

    /// Log-density and gradient by forward-mode dual numbers (one pass per dimension).
    ///
    /// The same values as [`logp_grad`](Self::logp_grad), by another route (a check of
    /// the tape, or for models whose gradient is wanted without it):
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// let u = [1.0, 0.5_f64.ln()];
    /// let (mut forward, mut reverse) = ([0.0; 2], [0.0; 2]);
    /// model.logp_grad_forward(&u, &mut forward).unwrap();
    /// model.logp_grad(&u, &mut reverse).unwrap();
    /// assert!((forward[0] - reverse[0]).abs() < 1e-12 && (forward[1] - reverse[1]).abs() < 1e-12);
    /// assert!((forward[0] - 5.96).abs() < 1e-10); // −mu/25 + Σ(yᵢ − mu)/sigma²
    /// ```
    pub fn logp_grad_forward(&self, u: &[f64], grad: &mut [f64]) -> Result<f64> {
        self.check_dim(u)?;
        self.check_dim(grad)?;
        let mut value = self.logp(u)?;
        let mut input: Vec<Fwd<Dual64>> = u.iter().map(|x| Fwd(Dual64::from(*x))).collect();
        for i in 0..u.len() {
            input[i] = Fwd(Dual64::from(u[i]).derivative());
            let total = self.inference_total(&input, &[])?;
            grad[i] = total.0.eps;
            value = total.0.re;
            input[i] = Fwd(Dual64::from(u[i]));
        }
        Ok(value)
    }

    /// Hessian of the log-density by hyper-dual numbers (one pass per pair of dimensions).
    ///
    /// For the model of the [`Model`] example at `u = (mu, ln sigma)` with `n` data,
    /// `S₁ = Σ(yᵢ − mu)` and `S₂ = Σ(yᵢ − mu)²`: `∂²/∂mu² = −1/25 − n/sigma²`,
    /// `∂²/∂mu∂u₁ = −2S₁/sigma²` and `∂²/∂u₁² = −2sigma² − 2S₂/sigma²`.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// let h = model.hessian(&[1.0, 0.5_f64.ln()]).unwrap(); // mu = 1, sigma = 0.5
    /// // n = 3, S₁ = 1.5, S₂ = 2.75, sigma² = 0.25.
    /// assert!((h[0][0] - (-1.0 / 25.0 - 3.0 / 0.25)).abs() < 1e-10);
    /// assert!((h[0][1] - (-2.0 * 1.5 / 0.25)).abs() < 1e-10);
    /// assert_eq!(h[0][1], h[1][0]);
    /// assert!((h[1][1] - (-2.0 * 0.25 - 2.0 * 2.75 / 0.25)).abs() < 1e-10);
    /// ```
    pub fn hessian(&self, u: &[f64]) -> Result<Vec<Vec<f64>>> {
        self.check_dim(u)?;
        let n = u.len();
        let mut h = vec![vec![0.0; n]; n];
        let base: Vec<Fwd<HyperDual64>> = u.iter().map(|x| Fwd(HyperDual64::from(*x))).collect();
        for i in 0..n {
            for j in i..n {
                let mut input = base.clone();
                input[i].0.eps1 = 1.0;
                input[j].0.eps2 = 1.0;
                let total = self.inference_total(&input, &[])?;
                h[i][j] = total.0.eps1eps2;
                h[j][i] = total.0.eps1eps2;
            }
        }
        Ok(h)
    }

    /// Evaluates with the chosen accumulators.
    ///
    /// Pointwise log-likelihoods (for LOO or WAIC) and the density without the Jacobian
    /// (in constrained space):
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// # let ln_normal = |x: f64, m: f64, s: f64| {
    /// #     -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    /// # };
    /// use ppl_core::context::inference::Accumulators;
    ///
    /// let (mu, sigma) = (1.0, 0.5_f64);
    /// let options = Accumulators { pointwise: true, jacobian: false, ..Accumulators::default() };
    /// let eval = model.evaluate(&[mu, sigma.ln()], options).unwrap();
    /// let (name, values) = &eval.pointwise[0];
    /// assert_eq!(name, "y");
    /// assert!((values[2] - ln_normal(2.5, mu, sigma)).abs() < 1e-12);
    /// assert!((values.iter().sum::<f64>() - eval.log_likelihood).abs() < 1e-12);
    /// assert_eq!(eval.total, eval.log_prior + eval.log_likelihood); // no Jacobian term
    /// ```
    pub fn evaluate(&self, u: &[f64], options: Accumulators) -> Result<Evaluation> {
        self.evaluate_joint(u, &[], options)
    }

    /// Evaluates at `(u, z)` with the chosen accumulators.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// # let ln_normal = |x: f64, m: f64| -0.5 * (x - m).powi(2) - 0.5 * (2.0 * std::f64::consts::PI).ln();
    /// use ppl_core::context::inference::Accumulators;
    ///
    /// let options = Accumulators { pointwise: true, deterministics: true, ..Accumulators::default() };
    /// let eval = model.evaluate_joint(&[0.5], &[0], options).unwrap(); // mu = 0.5, k = 0
    /// assert!((eval.log_prior - (0.7_f64.ln() + ln_normal(0.5, 0.0))).abs() < 1e-12);
    /// assert!((eval.log_likelihood - ln_normal(1.0, 0.5)).abs() < 1e-12);
    /// assert_eq!(eval.pointwise.len(), 1);
    /// assert!((eval.pointwise[0].1[0] - eval.log_likelihood).abs() < 1e-12);
    /// assert_eq!(eval.deterministics, [("shift".to_string(), vec![0.5])]);
    /// ```
    pub fn evaluate_joint(
        &self,
        u: &[f64],
        z: &[i64],
        options: Accumulators,
    ) -> Result<Evaluation> {
        self.check_state(u, z)?;
        self.run_inference::<f64, _>(u, z, options, |total, ctx| Evaluation {
            total,
            log_prior: ctx.log_prior,
            log_likelihood: ctx.log_likelihood,
            log_jacobian: ctx.log_jacobian,
            log_potential: ctx.log_potential,
            pointwise: std::mem::take(&mut ctx.pointwise),
            deterministics: std::mem::take(&mut ctx.deterministics),
            per_variable: std::mem::take(&mut ctx.per_variable),
        })
    }

    /// The value the model body returns at an unconstrained point.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// use ppl_core::Error;
    ///
    /// assert_eq!(model.output(&[1.25, 0.0]).unwrap(), 1.25); // the body returns mu
    /// assert_eq!(model.output(&[1.25]).unwrap_err(), Error::Dimension { expected: 2, found: 1 });
    /// ```
    pub fn output(&self, u: &[f64]) -> Result<T::Output<f64>> {
        self.output_joint(u, &[])
    }

    /// The value the model body returns at `(u, z)`.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// assert_eq!(model.output_joint(&[0.5], &[1]).unwrap(), 2.5); // mu + 2k
    /// // Without the integer state the error says where to look.
    /// let message = "expected 1 values for the discrete variables, got 0 (the model has \
    ///     discrete variables: use the `_joint` methods, which take their integer values)";
    /// assert_eq!(model.output(&[0.5]).unwrap_err().to_string(), message);
    /// ```
    pub fn output_joint(&self, u: &[f64], z: &[i64]) -> Result<T::Output<f64>> {
        self.check_state(u, z)?;
        let mut ctx = InferenceContext::with_discrete(
            &self.layout,
            u,
            z,
            &self.conditioned,
            Accumulators::default(),
        );
        let out = guarded(|| self.template.run::<f64, _>(&mut ctx))?;
        ctx.finish()?;
        Ok(out)
    }

    /// Maps an unconstrained vector to named constrained values.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// let point = model.constrain(&[-1.5, 2_f64.ln()]).unwrap();
    /// assert_eq!(point.get("mu").unwrap().values, [-1.5]);
    /// assert!((point.get("sigma").unwrap().values[0] - 2.0).abs() < 1e-15); // e^u₁
    /// assert!(point.get("sigma").unwrap().shape.is_empty()); // a scalar
    /// ```
    pub fn constrain(&self, u: &[f64]) -> Result<Point> {
        self.constrain_joint(u, &[])
    }

    /// Maps `(u, z)` to named constrained values (discrete ones as exact integers in
    /// `f64`).
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// let point = model.constrain_joint(&[0.5], &[1]).unwrap();
    /// assert_eq!(point.get("k").unwrap().values, [1.0]); // an exact integer
    /// assert_eq!(point.get("mu").unwrap().values, [0.5]);
    /// assert_eq!(point.len(), 2); // variables only: no deterministic
    /// assert!(model.constrain_joint(&[0.5], &[1, 0]).is_err());
    /// ```
    pub fn constrain_joint(&self, u: &[f64], z: &[i64]) -> Result<Point> {
        self.check_state(u, z)?;
        let mut point = Point::new();
        let mut ctx = CollectValues {
            inner: InferenceContext::with_discrete(
                &self.layout,
                u,
                z,
                &self.conditioned,
                Accumulators::default(),
            ),
            values: Vec::new(),
        };
        guarded(|| self.template.run::<f64, _>(&mut ctx))?;
        ctx.inner.finish()?;
        for (name, values) in ctx.values {
            let info = self
                .layout
                .variable(&name)
                .ok_or_else(|| Error::Point(format!("unknown variable `{name}`")))?;
            point.insert(
                &name,
                crate::layout::Array {
                    shape: info.shape.clone(),
                    values,
                },
            );
        }
        Ok(point)
    }

    /// Writes the draw at `(u, z)` into `out` in the order a trace stores it: the free
    /// variables' constrained values (discrete ones as exact integers) in layout order,
    /// then the deterministics in layout order. One value-only run of the model, nothing
    /// allocated per variable; `out` must hold exactly that many values.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// use ppl_core::Error;
    ///
    /// let mut row = [0.0; 3]; // k and mu in layout order, then the deterministic shift
    /// model.record_draw_joint(&[0.5], &[1], &mut row).unwrap();
    /// assert_eq!(row, [1.0, 0.5, 2.5]);
    /// let err = model.record_draw_joint(&[0.5], &[1], &mut [0.0; 2]).unwrap_err();
    /// assert_eq!(err, Error::Dimension { expected: 3, found: 2 });
    /// ```
    pub fn record_draw_joint(&self, u: &[f64], z: &[i64], out: &mut [f64]) -> Result<()> {
        self.check_state(u, z)?;
        let layout = &self.layout;
        let parameters: usize = layout
            .variables
            .iter()
            .filter(|v| !v.fixed)
            .map(|v| v.len)
            .sum();
        let deterministics: usize = layout
            .deterministics
            .iter()
            .map(|(_, shape)| shape.iter().product::<usize>())
            .sum();
        if out.len() != parameters + deterministics {
            return Err(Error::Dimension {
                expected: parameters + deterministics,
                found: out.len(),
            });
        }
        let mut ctx = RecordDraw {
            inner: InferenceContext::with_discrete(
                layout,
                u,
                z,
                &self.conditioned,
                Accumulators::default(),
            ),
            layout,
            out,
            next_variable: 0,
            variable_offset: 0,
            next_deterministic: 0,
            deterministic_offset: parameters,
            error: None,
        };
        guarded(|| self.template.run::<f64, _>(&mut ctx))?;
        ctx.inner.finish()?;
        if let Some(e) = ctx.error {
            return Err(e);
        }
        if let Some((name, _)) = layout.deterministics.get(ctx.next_deterministic) {
            return Err(Error::Structure {
                variable: name.clone(),
                detail: "was a deterministic in the first pass but not in this one".into(),
            });
        }
        Ok(())
    }

    /// Maps named constrained values to the unconstrained vector. Every free variable
    /// must be present with the right number of elements. For a model with discrete
    /// variables use [`unconstrain_joint`](Self::unconstrain_joint).
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// use ppl_core::Point;
    ///
    /// let point = Point::new().with("mu", -1.5).with("sigma", 2.0);
    /// let u = model.unconstrain(&point).unwrap();
    /// assert_eq!(u, [-1.5, 2_f64.ln()]); // sigma > 0 maps to ln sigma
    /// assert_eq!(model.constrain(&u).unwrap().get("mu"), point.get("mu"));
    /// assert!(model.unconstrain(&Point::new().with("mu", 0.0)).is_err()); // sigma missing
    /// ```
    pub fn unconstrain(&self, point: &Point) -> Result<Vec<f64>> {
        let (u, z) = self.unconstrain_joint(point)?;
        if !z.is_empty() {
            return Err(Error::DiscreteDimension {
                expected: 0,
                found: z.len(),
            });
        }
        Ok(u)
    }

    /// Maps named constrained values to the unconstrained vector and the integer state.
    /// Discrete values must be integers within the prior's support.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// use ppl_core::{Error, Point};
    ///
    /// let (u, z) = model.unconstrain_joint(&Point::new().with("k", 1.0).with("mu", 0.5)).unwrap();
    /// assert_eq!((u, z), (vec![0.5], vec![1]));
    /// let err = model.unconstrain_joint(&Point::new().with("k", 0.5).with("mu", 0.5)).unwrap_err();
    /// let message = "point: `k` element 0 is 0.5, not a value of the discrete variable's support";
    /// assert_eq!(err.to_string(), message);
    /// let err = model.unconstrain_joint(&Point::new().with("k", 1.0)).unwrap_err();
    /// assert_eq!(err, Error::Point("missing variable `mu`".into()));
    /// ```
    pub fn unconstrain_joint(&self, point: &Point) -> Result<(Vec<f64>, Vec<i64>)> {
        let mut u = vec![0.0; self.layout.dim];
        let mut z = vec![0; self.layout.discrete_dim];
        // Transforms whose bounds depend on other variables need the model: run it at a
        // provisional point, reading constrained values from `point` in order.
        let mut ctx = Unconstrain {
            point,
            layout: &self.layout,
            conditioned: &self.conditioned,
            out: &mut u,
            discrete_out: &mut z,
            next: 0,
            error: None,
        };
        guarded(|| self.template.run::<f64, _>(&mut ctx))?;
        if let Some(e) = ctx.error {
            return Err(e);
        }
        if let Some(e) = crate::context::unvisited_variable(&self.layout, ctx.next) {
            return Err(e);
        }
        Ok((u, z))
    }

    /// Log-density at a named point in constrained space, with or without Jacobians.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// use ppl_core::Point;
    ///
    /// let point = Point::new().with("mu", 1.0).with("sigma", 0.5);
    /// let with = model.logp_at(&point, true).unwrap();
    /// let without = model.logp_at(&point, false).unwrap();
    /// assert!((with - without - 0.5_f64.ln()).abs() < 1e-12); // ln |d sigma / du| = ln sigma
    /// assert_eq!(with, model.logp(&[1.0, 0.5_f64.ln()]).unwrap());
    /// ```
    pub fn logp_at(&self, point: &Point, jacobian: bool) -> Result<f64> {
        let u = self.unconstrain(point)?;
        let options = Accumulators {
            jacobian,
            ..Accumulators::default()
        };
        Ok(self.evaluate(&u, options)?.total)
    }

    /// Stan's initialisation: uniform(−2, 2) on the unconstrained scale, retried until
    /// the log-density and its gradient are finite. On failure the error carries a
    /// per-variable table of log-density terms at the last attempt. For a model with
    /// discrete variables use [`initial_state`](Self::initial_state).
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// use ppl_core::model::rng_for;
    ///
    /// let u = model.initial_point(&mut rng_for(42, 0)).unwrap();
    /// assert_eq!(u.len(), model.dim());
    /// assert!(u.iter().all(|x| (-2.0..2.0).contains(x)));
    /// assert!(model.logp(&u).unwrap().is_finite());
    /// ```
    pub fn initial_point(&self, rng: &mut dyn RngCore) -> Result<Vec<f64>> {
        self.check_state(&vec![0.0; self.dim()], &[])?;
        Ok(self.initial_state(rng)?.0)
    }

    /// An initial state `(u, z)`: `u` uniform(−2, 2) on the unconstrained scale as Stan
    /// does, the discrete variables drawn from their priors (given the continuous ones
    /// drawn in the same forward pass), retried until the joint log-density and its
    /// gradient are finite. On failure the error carries the per-variable table.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// use ppl_core::model::{rng_for, INIT_ATTEMPTS};
    /// use ppl_core::Error;
    ///
    /// let (u, z) = model.initial_state(&mut rng_for(3, 0)).unwrap();
    /// assert!(u.len() == 1 && (-2.0..2.0).contains(&u[0]));
    /// assert!(z == [0] || z == [1]);
    /// assert!(model.logp_joint(&u, &z).unwrap().is_finite());
    ///
    /// /// `x ~ Normal(0, 1)` behind a potential of −∞: no point has a finite density.
    /// struct Impossible;
    /// impl ModelTemplate for Impossible {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str {
    ///         "impossible"
    ///     }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let _x: R = api::sample(ctx, "x", Normal::new(0.0, 1.0), NoShape, None);
    ///         api::potential(ctx, "wall", f64::NEG_INFINITY);
    ///     }
    /// }
    /// let err = Model::new(Impossible).unwrap().initial_state(&mut rng_for(3, 0)).unwrap_err();
    /// let Error::Init { attempts, table } = &err else { panic!("{err}") };
    /// assert_eq!(*attempts, INIT_ATTEMPTS);
    /// assert!(table.lines().any(|row| row.split_whitespace().eq(["wall", "-inf"])), "{table}");
    /// ```
    pub fn initial_state(&self, rng: &mut dyn RngCore) -> Result<(Vec<f64>, Vec<i64>)> {
        let mut u = vec![0.0; self.dim()];
        let mut z = vec![0; self.discrete_dim()];
        let mut grad = vec![0.0; self.dim()];
        for _ in 0..INIT_ATTEMPTS {
            if !z.is_empty() {
                z = self.unconstrain_joint(&self.prior_draw(rng)?.variables)?.1;
            }
            for x in u.iter_mut() {
                *x = rng.gen_range(-2.0..2.0);
            }
            if let Ok(lp) = self.logp_grad_joint(&u, &z, &mut grad) {
                if lp.is_finite() && grad.iter().all(|g| g.is_finite()) {
                    return Ok((u, z));
                }
            }
        }
        Err(Error::Init {
            attempts: INIT_ATTEMPTS,
            table: self.log_density_table_joint(&u, &z)?,
        })
    }

    /// Checks a user-supplied unconstrained initial point, with the per-variable table in
    /// the error when its log-density or gradient is not finite.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// use ppl_core::Error;
    ///
    /// assert_eq!(model.check_initial_point(&[0.0, 0.0]), Ok(()));
    /// // u₁ = 1000 puts sigma = e¹⁰⁰⁰ at +∞, where its prior density is zero.
    /// let Err(Error::Init { attempts: 1, table }) = model.check_initial_point(&[0.0, 1000.0]) else {
    ///     panic!("a finite log-density at sigma = +∞")
    /// };
    /// assert!(table.lines().any(|row| row.split_whitespace().eq(["sigma", "-inf"])), "{table}");
    /// let err = model.check_initial_point(&[0.0]).unwrap_err();
    /// assert_eq!(err, Error::Dimension { expected: 2, found: 1 });
    /// ```
    pub fn check_initial_point(&self, u: &[f64]) -> Result<()> {
        self.check_initial_state(u, &[])
    }

    /// Checks a user-supplied initial state `(u, z)`, with the per-variable table in the
    /// error when its joint log-density or gradient is not finite.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// use ppl_core::Error;
    ///
    /// assert_eq!(model.check_initial_state(&[0.5], &[1]), Ok(()));
    /// // k = 7 is outside Bernoulli's support {0, 1}.
    /// let Err(Error::Init { table, .. }) = model.check_initial_state(&[0.5], &[7]) else {
    ///     panic!("k = 7 accepted")
    /// };
    /// assert!(table.lines().any(|row| row.split_whitespace().eq(["k", "-inf"])), "{table}");
    /// let err = model.check_initial_state(&[0.5], &[]).unwrap_err();
    /// assert_eq!(err, Error::DiscreteDimension { expected: 1, found: 0 });
    /// ```
    pub fn check_initial_state(&self, u: &[f64], z: &[i64]) -> Result<()> {
        let mut grad = vec![0.0; self.dim()];
        let lp = self.logp_grad_joint(u, z, &mut grad)?;
        if lp.is_finite() && grad.iter().all(|g| g.is_finite()) {
            return Ok(());
        }
        Err(Error::Init {
            attempts: 1,
            table: self.log_density_table_joint(u, z)?,
        })
    }

    /// A table of each term's log-density at `u` (variables include their Jacobian).
    ///
    /// One row per term in model order, each with its log-density in full precision; the rows
    /// add up to [`logp`](Self::logp):
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// # let ln_normal = |x: f64, m: f64, s: f64| {
    /// #     -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    /// # };
    /// let (mu, sigma) = (1.0, 0.5_f64);
    /// let table = model.log_density_table(&[mu, sigma.ln()]).unwrap();
    /// assert_eq!(table.lines().next(), Some("  variable  log-density"));
    /// let rows: Vec<(&str, f64)> = table
    ///     .lines()
    ///     .skip(1)
    ///     .map(|row| {
    ///         let (name, lp) = row.trim().split_once(' ').unwrap();
    ///         (name, lp.trim().parse().unwrap())
    ///     })
    ///     .collect();
    /// let names: Vec<&str> = rows.iter().map(|row| row.0).collect();
    /// assert_eq!(names, ["mu", "sigma", "y"]);
    /// // sigma's row includes the Jacobian ln sigma of sigma = e^u₁.
    /// let sigma_row = 2_f64.ln() + ln_normal(sigma, 0.0, 1.0) + sigma.ln();
    /// assert!((rows[1].1 - sigma_row).abs() < 1e-12);
    /// let total: f64 = rows.iter().map(|row| row.1).sum();
    /// assert!((total - model.logp(&[mu, sigma.ln()]).unwrap()).abs() < 1e-12);
    /// ```
    pub fn log_density_table(&self, u: &[f64]) -> Result<String> {
        self.log_density_table_joint(u, &[])
    }

    /// A table of each term's log-density at `(u, z)`.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// let table = model.log_density_table_joint(&[0.5], &[1]).unwrap();
    /// assert_eq!(table.lines().count(), 4); // the header, k, mu and y
    /// let k_row = table.lines().find(|row| row.trim_start().starts_with("k ")).unwrap();
    /// let lp: f64 = k_row.split_whitespace().nth(1).unwrap().parse().unwrap();
    /// assert!((lp - 0.3_f64.ln()).abs() < 1e-15); // ln P(k = 1)
    /// ```
    pub fn log_density_table_joint(&self, u: &[f64], z: &[i64]) -> Result<String> {
        let eval = self.evaluate_joint(
            u,
            z,
            Accumulators {
                per_variable: true,
                ..Accumulators::default()
            },
        )?;
        let mut table = String::new();
        let width = eval
            .per_variable
            .iter()
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(4)
            .max(8);
        let _ = writeln!(table, "  {:<width$}  log-density", "variable");
        for (name, lp) in &eval.per_variable {
            let _ = writeln!(table, "  {name:<width$}  {lp}");
        }
        Ok(table)
    }

    /// One draw from the prior (and the prior predictive of the observations).
    ///
    /// The draws follow the prior: here `mu ~ Normal(0, 5)` and `sigma ~ HalfNormal(1)`,
    /// whose mean is `√(2/π)`.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// use ppl_core::model::rng_for;
    ///
    /// let mut rng = rng_for(1, 0);
    /// let n = 4000;
    /// let (mut mu_sum, mut sigma_sum) = (0.0, 0.0);
    /// for _ in 0..n {
    ///     let draw = model.prior_draw(&mut rng).unwrap();
    ///     mu_sum += draw.variables.get("mu").unwrap().values[0];
    ///     sigma_sum += draw.variables.get("sigma").unwrap().values[0];
    /// }
    /// assert!((mu_sum / n as f64).abs() < 0.3); // standard error 5/√4000 ≈ 0.08
    /// let half_normal_mean = (2.0 / std::f64::consts::PI).sqrt();
    /// assert!((sigma_sum / n as f64 - half_normal_mean).abs() < 0.04); // s.e. ≈ 0.01
    /// ```
    pub fn prior_draw(&self, rng: &mut dyn RngCore) -> Result<PriorDraw> {
        self.forward_draw(&self.conditioned, rng)
    }

    /// One draw of the observations given a value of every random variable: with a
    /// posterior draw as `point`, a draw from the posterior predictive (what PyMC's
    /// `sample_posterior_predictive` does per draw; `ppl_infer`'s
    /// `Predictive` runs it over a whole trace).
    ///
    /// `point` holds the constrained value of every free variable; names of
    /// deterministics (a trace's draw carries them) and of variables the model is
    /// conditioned on are accepted and ignored, and any other name is an error, as is a
    /// missing variable, a value of the wrong length or one outside the variable's
    /// support. The point may come from another model with the same variables (the
    /// model refitted on new predictors): the observations are drawn with this model's
    /// data and shapes. The returned draw holds the variables (as given), the drawn
    /// observations and the deterministics recomputed at the point.
    ///
    /// Here `y ~ Normal(mu, sigma)` for three data, so given `mu` and `sigma` each drawn
    /// `y` has mean `mu`:
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// use ppl_core::model::rng_for;
    /// use ppl_core::{Error, Point};
    ///
    /// let point = Point::new().with("mu", 10.0).with("sigma", 0.5);
    /// let mut rng = rng_for(2, 0);
    /// let n = 1000;
    /// let mut sum = 0.0;
    /// for _ in 0..n {
    ///     let draw = model.predictive_draw(&point, &mut rng).unwrap();
    ///     assert_eq!(draw.variables.get("mu").unwrap().values, [10.0]);
    ///     sum += draw.observed.get("y").unwrap().values.iter().sum::<f64>();
    /// }
    /// // 3000 draws of N(10, 0.5²): standard error 0.5/√3000 ≈ 0.009.
    /// assert!((sum / (3 * n) as f64 - 10.0).abs() < 0.04);
    ///
    /// // Every variable needs a value, inside its support.
    /// let partial = Point::new().with("mu", 10.0);
    /// assert!(matches!(model.predictive_draw(&partial, &mut rng), Err(Error::Point(m)) if m.contains("`sigma`")));
    /// let negative = Point::new().with("mu", 10.0).with("sigma", -1.0);
    /// assert!(model.predictive_draw(&negative, &mut rng).is_err());
    /// ```
    pub fn predictive_draw(&self, point: &Point, rng: &mut dyn RngCore) -> Result<PriorDraw> {
        let mut conditioned = self.conditioned.clone();
        for (name, array) in point.iter() {
            match self.layout.variable(name) {
                Some(v) if !v.fixed => {
                    conditioned.insert(name.clone(), array.values.clone());
                }
                Some(_) => {} // held at the model's own value
                None if self.layout.deterministics.iter().any(|(d, _)| d == name) => {}
                None => {
                    return Err(Error::Point(format!(
                        "the model has no random variable or deterministic named `{name}`"
                    )))
                }
            }
        }
        if let Some(v) = self
            .layout
            .variables
            .iter()
            .find(|v| !conditioned.contains_key(&v.name))
        {
            return Err(Error::Point(format!(
                "no value for `{}`: a predictive draw needs every random variable",
                v.name
            )));
        }
        self.forward_draw(&conditioned, rng)
    }

    /// Runs the forward context once, drawing what `conditioned` does not give, and
    /// checks that the pass met the variables of the model's first pass.
    fn forward_draw(
        &self,
        conditioned: &BTreeMap<String, Vec<f64>>,
        rng: &mut dyn RngCore,
    ) -> Result<PriorDraw> {
        let mut ctx = ForwardContext::new(rng, conditioned, true);
        guarded(|| self.template.run::<f64, _>(&mut ctx))?;
        if let Some(e) = ctx.error {
            return Err(e);
        }
        // A model that took another path for this draw sampled other variables.
        for (k, now) in ctx.layout.variables.iter().enumerate() {
            let first = crate::context::expected_variable(&self.layout, k, &now.name)?;
            if first.len != now.len {
                return Err(crate::context::shape_changed(
                    &now.name,
                    &first.shape,
                    &now.shape,
                ));
            }
        }
        if let Some(e) =
            crate::context::unvisited_variable(&self.layout, ctx.layout.variables.len())
        {
            return Err(e);
        }
        Ok(PriorDraw {
            variables: ctx.draws,
            observed: ctx.observed_draws,
            deterministics: ctx.deterministics,
        })
    }

    /// The model with some variables held at given constrained values: they leave the
    /// unconstrained vector and their log-density terms stay in the total.
    ///
    /// Held at a value, a variable contributes its log-density without a Jacobian:
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
    /// # let ln_normal = |x: f64, m: f64, s: f64| {
    /// #     -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
    /// # };
    /// use ppl_core::Point;
    ///
    /// let fixed = model.clone().condition(&Point::new().with("sigma", 0.5)).unwrap();
    /// assert_eq!(fixed.dim(), 1); // only mu is left
    /// let lp = fixed.logp(&[1.0]).unwrap();
    /// let full = model.logp(&[1.0, 0.5_f64.ln()]).unwrap();
    /// assert!((lp - (full - 0.5_f64.ln())).abs() < 1e-12);
    /// assert!(model.condition(&Point::new().with("tau", 1.0)).is_err()); // no such variable
    /// ```
    pub fn condition(self, point: &Point) -> Result<Self> {
        let mut conditioned = self.conditioned;
        for (name, array) in point.iter() {
            conditioned.insert(name.clone(), array.values.clone());
        }
        Self::with_conditioned(self.template, conditioned)
    }
}

impl<T: ModelTemplate> LogDensity for Model<T> {
    fn dim(&self) -> usize {
        self.layout.dim
    }
    fn logp(&self, position: &[f64]) -> Result<f64> {
        Model::logp(self, position)
    }
    fn logp_grad(&self, position: &[f64], grad: &mut [f64]) -> Result<f64> {
        Model::logp_grad(self, position, grad)
    }
}

impl<T: ModelTemplate + Sync> JointDensity for Model<T> {
    fn layout(&self) -> &Layout {
        &self.layout
    }
    fn logp_joint(&self, u: &[f64], z: &[i64]) -> Result<f64> {
        Model::logp_joint(self, u, z)
    }
    fn logp_grad_joint(&self, u: &[f64], z: &[i64], grad: &mut [f64]) -> Result<f64> {
        Model::logp_grad_joint(self, u, z, grad)
    }
}

/// Wraps the inference context to keep each variable's constrained values.
struct CollectValues<'a> {
    inner: InferenceContext<'a, f64>,
    values: Vec<(String, Vec<f64>)>,
}

impl Context<f64> for CollectValues<'_> {
    fn variable<D: crate::dist::Distribution<f64>>(
        &mut self,
        name: &'static str,
        dist: std::result::Result<D, crate::dist::ParamError>,
        shape: Option<usize>,
        transform: Option<crate::transform::Transform<f64>>,
    ) -> crate::dist::Values<f64> {
        let xs = self.inner.variable(name, dist, shape, transform);
        self.values.push((name.to_string(), xs.to_vec()));
        xs
    }
    fn observe<D: crate::dist::Distribution<f64>>(
        &mut self,
        name: &'static str,
        dist: std::result::Result<D, crate::dist::ParamError>,
        data: crate::param::Operand<'_, f64>,
    ) {
        self.inner.observe(name, dist, data)
    }
    fn deterministic(&mut self, name: &'static str, values: crate::param::Operand<'_, f64>) {
        self.inner.deterministic(name, values)
    }
    fn potential(&mut self, name: &'static str, value: f64) {
        self.inner.potential(name, value)
    }
}

/// Wraps the inference context to write each free variable's constrained values and
/// each deterministic straight into a trace row (see [`Model::record_draw_joint`]).
struct RecordDraw<'a, 'o> {
    inner: InferenceContext<'a, f64>,
    layout: &'a Layout,
    out: &'o mut [f64],
    next_variable: usize,
    variable_offset: usize,
    next_deterministic: usize,
    deterministic_offset: usize,
    error: Option<Error>,
}

impl RecordDraw<'_, '_> {
    fn fail(&mut self, variable: &str, detail: String) {
        if self.error.is_none() {
            self.error = Some(Error::Structure {
                variable: variable.to_string(),
                detail,
            });
        }
    }
}

impl Context<f64> for RecordDraw<'_, '_> {
    fn variable<D: crate::dist::Distribution<f64>>(
        &mut self,
        name: &'static str,
        dist: std::result::Result<D, crate::dist::ParamError>,
        shape: Option<usize>,
        transform: Option<crate::transform::Transform<f64>>,
    ) -> crate::dist::Values<f64> {
        let xs = self.inner.variable(name, dist, shape, transform);
        // A variable out of place or of another length is the inner context's error
        // (the draw is then discarded); only the copy needs the lengths to agree.
        if let Some(v) = self.layout.variables.get(self.next_variable) {
            self.next_variable += 1;
            if !v.fixed {
                let end = self.variable_offset + v.len;
                if xs.len() == v.len {
                    self.out[self.variable_offset..end].copy_from_slice(&xs);
                }
                self.variable_offset = end;
            }
        }
        xs
    }
    fn observe<D: crate::dist::Distribution<f64>>(
        &mut self,
        name: &'static str,
        dist: std::result::Result<D, crate::dist::ParamError>,
        data: crate::param::Operand<'_, f64>,
    ) {
        self.inner.observe(name, dist, data)
    }
    fn deterministic(&mut self, name: &'static str, values: crate::param::Operand<'_, f64>) {
        let Some((expected, shape)) = self.layout.deterministics.get(self.next_deterministic)
        else {
            return self.fail(name, "was not a deterministic in the first pass".into());
        };
        if expected != name {
            return self.fail(
                name,
                format!("appeared where the deterministic `{expected}` was expected"),
            );
        }
        self.next_deterministic += 1;
        let len: usize = shape.iter().product();
        let found = values.len().unwrap_or(1);
        if found != len {
            return self.fail(
                name,
                format!("has {found} values, the first pass had {len}: its shape changed"),
            );
        }
        let start = self.deterministic_offset;
        for (slot, x) in self.out[start..start + len]
            .iter_mut()
            .zip(values.values(len))
        {
            *slot = x;
        }
        self.deterministic_offset += len;
    }
    fn potential(&mut self, name: &'static str, value: f64) {
        self.inner.potential(name, value)
    }
}

/// Reads constrained values from a point in model order and inverts each transform
/// (bounds that depend on earlier variables see those variables' values).
struct Unconstrain<'a> {
    point: &'a Point,
    layout: &'a Layout,
    conditioned: &'a BTreeMap<String, Vec<f64>>,
    out: &'a mut [f64],
    discrete_out: &'a mut [i64],
    next: usize,
    error: Option<Error>,
}

impl Unconstrain<'_> {
    /// Keeps the pass's first error and returns placeholder values for the variable.
    fn refuse(&mut self, error: Error, len: usize) -> crate::dist::Values<f64> {
        self.error.get_or_insert(error);
        smallvec::smallvec![f64::NAN; len]
    }
}

impl Context<f64> for Unconstrain<'_> {
    fn variable<D: crate::dist::Distribution<f64>>(
        &mut self,
        name: &'static str,
        dist: std::result::Result<D, crate::dist::ParamError>,
        shape: Option<usize>,
        transform: Option<crate::transform::Transform<f64>>,
    ) -> crate::dist::Values<f64> {
        let info = match crate::context::expected_variable(self.layout, self.next, name) {
            Ok(info) => info,
            Err(e) => return self.refuse(e, 1),
        };
        self.next += 1;
        if info.fixed {
            return self
                .conditioned
                .get(name)
                .map(|v| crate::dist::Values::from_slice(v))
                .unwrap_or_default();
        }
        let Some(array) = self.point.get(name) else {
            return self.refuse(Error::Point(format!("missing variable `{name}`")), info.len);
        };
        if array.values.len() != info.len {
            return self.refuse(
                Error::Point(format!(
                    "`{name}` has {} elements, the model's variable has {}",
                    array.values.len(),
                    info.len
                )),
                info.len,
            );
        }
        if info.discrete {
            let support = dist.as_ref().map(|d| d.support()).ok();
            for (k, &x) in array.values.iter().enumerate() {
                if !support.is_some_and(|s| s.contains(x)) {
                    return self.refuse(Error::Point(format!(
                        "`{name}` element {k} is {x}, not a value of the discrete variable's support"
                    )), info.len);
                }
                self.discrete_out[info.offset + k] = x as i64;
            }
            return crate::dist::Values::from_slice(&array.values);
        }
        let d = match &dist {
            Ok(d) => d,
            Err(e) => {
                // A parameter computed from the point's other values is invalid.
                return self.refuse(
                    Error::Param {
                        variable: name.to_string(),
                        source: e.clone(),
                    },
                    info.len,
                );
            }
        };
        match crate::context::resolve_shape(name, d, shape) {
            Ok((_, len)) if len == info.len => {}
            Ok((now, _)) => {
                return self.refuse(
                    crate::context::shape_changed(name, &info.shape, &now),
                    info.len,
                )
            }
            Err(e) => return self.refuse(e, info.len),
        }
        let transform = transform.unwrap_or_else(|| d.support().default_transform());
        let u = match transform.unconstrain_checked(&array.values) {
            Ok(u) => u,
            Err(k) => {
                return self.refuse(
                    Error::Point(format!(
                        "`{name}` element {k} is {}, outside the support of {} ({})",
                        array.values[k],
                        d.name(),
                        d.support().describe()
                    )),
                    info.len,
                )
            }
        };
        self.out[info.offset..info.offset + info.unconstrained_len].copy_from_slice(&u);
        crate::dist::Values::from_slice(&array.values)
    }
    fn observe<D: crate::dist::Distribution<f64>>(
        &mut self,
        _name: &'static str,
        _dist: std::result::Result<D, crate::dist::ParamError>,
        _data: crate::param::Operand<'_, f64>,
    ) {
    }
    fn deterministic(&mut self, _name: &'static str, _values: crate::param::Operand<'_, f64>) {}
    fn potential(&mut self, _name: &'static str, _value: f64) {}
}

/// Runs model code, turning a panic in the user's body into [`Error::Panic`] so that a
/// bug in a model (an index out of range, say) is an error, not an abort. Costs nothing
/// unless a panic happens.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_string());
        Error::Panic { message }
    })
}

/// A reproducible random-number generator for a (seed, stream) pair.
///
/// ```
/// use ppl_core::model::rng_for;
/// use rand::Rng;
///
/// let draws = |seed: u64, stream: u64| -> Vec<u64> {
///     let mut rng = rng_for(seed, stream);
///     (0..4).map(|_| rng.gen()).collect()
/// };
/// assert_eq!(draws(7, 0), draws(7, 0)); // reproducible
/// assert_ne!(draws(7, 0), draws(7, 1)); // one stream per chain
/// assert_ne!(draws(7, 0), draws(8, 0));
/// ```
pub fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}
