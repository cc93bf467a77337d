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
#[inline]
pub fn deterministic<R: Real, C: Context<R>, X: Param<R>>(
    ctx: &mut C,
    name: &'static str,
    value: &X,
) {
    ctx.deterministic(name, value.operand());
}

/// `potential!`: adds an arbitrary term to the log-density.
#[inline]
pub fn potential<R: Real, C: Context<R>>(ctx: &mut C, name: &'static str, value: impl Into<R>) {
    ctx.potential(name, value.into());
}
