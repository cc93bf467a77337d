//! The functions `#[model]`'s generated code calls (re-exported as `ppl::__private`).
//!
//! `let x = sample!(DIST, shape = n)` becomes
//! `let x = sample(__ctx, "x", DIST, Shape(n), None)`; `observe!(DIST, y)` becomes
//! `observe(__ctx, "y", DIST, y)`, and so on. Keeping the logic here keeps the macro thin.

use super::Context;
use crate::dist::{Distribution, ElementValue, ParamError, Values};
use crate::param::Param;
use crate::scalar::Real;
use crate::transform::Transform;

/// `sample!` without `shape =`: the variable is one draw of the distribution.
#[derive(Debug, Clone, Copy)]
pub struct NoShape;

/// `sample!(.., shape = n)`: a vector of `n` independent draws.
#[derive(Debug, Clone, Copy)]
pub struct Shape(pub usize);

/// How the `shape =` option changes what `sample!` returns.
pub trait ShapeSpec {
    /// The returned value.
    type Output<R: Real, D: ElementValue<R>>;
    /// The requested length, if any.
    fn requested_len(&self) -> Option<usize>;
    /// Builds the returned value from the constrained scalars.
    fn build<R: Real, D: ElementValue<R>>(xs: Values<R>) -> Self::Output<R, D>;
}

impl ShapeSpec for NoShape {
    type Output<R: Real, D: ElementValue<R>> = D::Value;
    fn requested_len(&self) -> Option<usize> {
        None
    }
    fn build<R: Real, D: ElementValue<R>>(xs: Values<R>) -> D::Value {
        D::value_from(xs)
    }
}

impl ShapeSpec for Shape {
    type Output<R: Real, D: ElementValue<R>> = Vec<D::Element>;
    fn requested_len(&self) -> Option<usize> {
        Some(self.0)
    }
    fn build<R: Real, D: ElementValue<R>>(xs: Values<R>) -> Vec<D::Element> {
        // `into_vec` hands over a spilled buffer, and the in-place collect reuses it when
        // the element has the scalar's size (`f64` → `Real` or `i64`): one allocation per
        // vector variable, the `Vec` the body receives.
        xs.into_vec().into_iter().map(D::element_from).collect()
    }
}

/// `sample!`: registers a random variable and returns its value.
///
/// With [`NoShape`] the variable is one value of the distribution (a scalar here, an
/// `i64` for a discrete distribution), with [`Shape`]`(n)` a `Vec` of `n` draws:
///
/// ```
/// use ppl_core::context::api::{self, NoShape, Shape};
/// use ppl_core::dist::{Normal, Poisson};
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 1)`, three `z ~ Normal(mu, 1)`, `n ~ Poisson(2)`; returns `z`.
/// struct Vars;
/// impl ModelTemplate for Vars {
///     type Output<R: Real> = Vec<R>;
///     fn name(&self) -> &'static str {
///         "vars"
///     }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> Vec<R>
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
///         let z: Vec<R> = api::sample(ctx, "z", Normal::new(mu, 1.0), Shape(3), None);
///         let _n: i64 = api::sample(ctx, "n", Poisson::new(2.0), NoShape, None);
///         z
///     }
/// }
///
/// let model = Model::new(Vars).unwrap();
/// let z = model.layout().variable("z").unwrap();
/// assert_eq!((z.shape.as_slice(), z.offset), (&[3][..], 1)); // u = (mu, z₀, z₁, z₂)
/// assert_eq!((model.dim(), model.discrete_dim()), (4, 1)); // n is in z
/// assert_eq!(model.output_joint(&[0.0, 1.0, 2.0, 3.0], &[4]).unwrap(), [1.0, 2.0, 3.0]);
/// ```
#[inline]
pub fn sample<R: Real, C: Context<R>, D: ElementValue<R>, S: ShapeSpec>(
    ctx: &mut C,
    name: &'static str,
    dist: Result<D, ParamError>,
    shape: S,
    transform: Option<Transform<R>>,
) -> S::Output<R, D> {
    let xs = ctx.variable(name, dist, shape.requested_len(), transform);
    S::build::<R, D>(xs)
}

/// `observe!`: adds the log-likelihood of `data`.
///
/// The data are a scalar or a slice, of `f64` or `i64`; they are checked when the model is
/// built:
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::{Normal, Poisson};
/// use ppl_core::{Context, Error, Model, ModelTemplate, Real};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `log_rate ~ Normal(0, 1)`, `counts ~ Poisson(exp(log_rate))` and
/// /// `y = 0.5 ~ Normal(log_rate, 1)` observed.
/// struct Counts {
///     counts: Vec<i64>,
/// }
/// impl ModelTemplate for Counts {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str {
///         "counts"
///     }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let log_rate: R = api::sample(ctx, "log_rate", Normal::new(0.0, 1.0), NoShape, None);
///         api::observe(ctx, "counts", Poisson::new(log_rate.exp()), &self.counts);
///         api::observe(ctx, "y", Normal::new(log_rate, 1.0), 0.5);
///     }
/// }
///
/// let model = Model::new(Counts { counts: vec![1, 3] }).unwrap();
/// let observed: Vec<(&str, usize)> =
///     model.layout().observed.iter().map(|o| (o.name.as_str(), o.len)).collect();
/// assert_eq!(observed, [("counts", 2), ("y", 1)]);
/// // At log_rate = 0 (rate 1): ln P(1) + ln P(3) = −1 + (−1 − ln 3!), plus ln N(0.5 | 0, 1).
/// let eval = model.evaluate(&[0.0], Default::default()).unwrap();
/// let want = -2.0 - 6_f64.ln() + (-0.125 - 0.5 * (2.0 * std::f64::consts::PI).ln());
/// assert!((eval.log_likelihood - want).abs() < 1e-12);
/// // A negative count is outside Poisson's support.
/// let err = Model::new(Counts { counts: vec![1, -3] }).unwrap_err();
/// assert!(matches!(err, Error::DataOutsideSupport { index: 1, .. }), "{err}");
/// ```
#[inline]
pub fn observe<R: Real, C: Context<R>, D: Distribution<R>, X: Param<R>>(
    ctx: &mut C,
    name: &'static str,
    dist: Result<D, ParamError>,
    data: X,
) {
    ctx.observe(name, dist, data.operand());
}

/// `deterministic!`: records a derived quantity (a scalar or a slice).
///
/// A deterministic adds nothing to the density; evaluations keep its values on request:
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::context::inference::Accumulators;
/// use ppl_core::dist::Normal;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 1)` with the deterministics `twice = 2mu` and `both = [mu, −mu]`.
/// struct Derived;
/// impl ModelTemplate for Derived {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str {
///         "derived"
///     }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
///         api::deterministic(ctx, "twice", &(mu * 2.0));
///         api::deterministic(ctx, "both", &vec![mu, -mu]);
///     }
/// }
///
/// let model = Model::new(Derived).unwrap();
/// let shapes: Vec<(&str, &[usize])> =
///     model.layout().deterministics.iter().map(|(n, s)| (n.as_str(), s.as_slice())).collect();
/// assert_eq!(shapes, [("twice", &[][..]), ("both", &[2][..])]);
/// let options = Accumulators { deterministics: true, ..Accumulators::default() };
/// let eval = model.evaluate(&[1.5], options).unwrap();
/// let values = [("twice".to_string(), vec![3.0]), ("both".to_string(), vec![1.5, -1.5])];
/// assert_eq!(eval.deterministics, values);
/// assert_eq!(eval.total, eval.log_prior); // nothing added
/// ```
#[inline]
pub fn deterministic<R: Real, C: Context<R>, X: Param<R>>(
    ctx: &mut C,
    name: &'static str,
    value: &X,
) {
    ctx.deterministic(name, value.operand());
}

/// `potential!`: adds an arbitrary term to the log-density.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Normal;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `x ~ Normal(0, 1)` with the potential `−x⁴`, a soft wall.
/// struct Wall;
/// impl ModelTemplate for Wall {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str {
///         "wall"
///     }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let x: R = api::sample(ctx, "x", Normal::new(0.0, 1.0), NoShape, None);
///         api::potential(ctx, "wall", -(x * x) * (x * x));
///     }
/// }
///
/// let model = Model::new(Wall).unwrap();
/// assert_eq!(model.layout().potentials, ["wall"]);
/// let eval = model.evaluate(&[2.0], Default::default()).unwrap();
/// assert_eq!(eval.log_potential, -16.0);
/// assert_eq!(eval.total, eval.log_prior + eval.log_potential);
/// let mut grad = [0.0];
/// model.logp_grad(&[2.0], &mut grad).unwrap();
/// assert_eq!(grad, [-2.0 - 4.0 * 8.0]); // −x − 4x³
/// ```
#[inline]
pub fn potential<R: Real, C: Context<R>>(ctx: &mut C, name: &'static str, value: impl Into<R>) {
    ctx.potential(name, value.into());
}
