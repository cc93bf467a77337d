//! Bijections from unconstrained space to a variable's support, with log-Jacobians.
//!
//! Each transform maps an unconstrained vector `u` to a constrained value `x` and reports
//! `ln |det ∂x/∂u|`. Bounds may be model scalars, so bounds that depend on another
//! parameter are differentiated too. Implementations live one per file:
//! [`bounds`] (identity, lower, upper, interval), [`simplex`] (stick-breaking),
//! [`ordered`], [`cholesky_corr`].

pub mod bounds;
pub mod cholesky_corr;
pub mod ordered;
pub mod simplex;

use crate::scalar::Real;

/// A transform from unconstrained space onto a support.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transform<R> {
    /// No constraint.
    Identity,
    /// `x > lower`: `x = lower + e^u`.
    Lower(R),
    /// `x < upper`: `x = upper − e^u`.
    Upper(R),
    /// `lower < x < upper`: `x = lower + (upper − lower) σ(u)`.
    Interval(R, R),
    /// Probability vectors of length K from K−1 unconstrained values (stick-breaking).
    Simplex,
    /// Strictly increasing vectors: `x₀ = u₀`, `xᵢ = xᵢ₋₁ + e^{uᵢ}`.
    Ordered,
    /// Cholesky factors of correlation matrices (n×n from n(n−1)/2 values).
    CholeskyCorr,
}

/// The kind of a transform, without its bound values (for layouts and messages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TransformKind {
    /// See [`Transform::Identity`].
    Identity,
    /// See [`Transform::Lower`].
    Lower,
    /// See [`Transform::Upper`].
    Upper,
    /// See [`Transform::Interval`].
    Interval,
    /// See [`Transform::Simplex`].
    Simplex,
    /// See [`Transform::Ordered`].
    Ordered,
    /// See [`Transform::CholeskyCorr`].
    CholeskyCorr,
}

impl<R: Real> Transform<R> {
    /// `x > lower`.
    pub fn lower(lower: impl Into<R>) -> Self {
        Transform::Lower(lower.into())
    }
    /// `x < upper`.
    pub fn upper(upper: impl Into<R>) -> Self {
        Transform::Upper(upper.into())
    }
    /// `lower < x < upper`.
    pub fn interval(lower: impl Into<R>, upper: impl Into<R>) -> Self {
        Transform::Interval(lower.into(), upper.into())
    }

    /// The kind, without bound values.
    pub fn kind(&self) -> TransformKind {
        match self {
            Transform::Identity => TransformKind::Identity,
            Transform::Lower(_) => TransformKind::Lower,
            Transform::Upper(_) => TransformKind::Upper,
            Transform::Interval(..) => TransformKind::Interval,
            Transform::Simplex => TransformKind::Simplex,
            Transform::Ordered => TransformKind::Ordered,
            Transform::CholeskyCorr => TransformKind::CholeskyCorr,
        }
    }

    /// Number of unconstrained values for `constrained_len` constrained ones, or `None`
    /// when the length does not fit the transform (e.g. a non-square Cholesky factor).
    pub fn unconstrained_len(&self, constrained_len: usize) -> Option<usize> {
        match self {
            Transform::Simplex => constrained_len.checked_sub(1),
            Transform::CholeskyCorr => cholesky_corr::unconstrained_len(constrained_len),
            _ => Some(constrained_len),
        }
    }

    /// Maps `u` to the constrained values (appended to `out`); returns `ln |J|`.
    pub fn constrain(&self, u: &[R], out: &mut Vec<R>) -> R {
        match *self {
            Transform::Identity => {
                out.extend_from_slice(u);
                R::constant(0.0)
            }
            Transform::Lower(lo) => bounds::lower_constrain(lo, u, out),
            Transform::Upper(hi) => bounds::upper_constrain(hi, u, out),
            Transform::Interval(lo, hi) => bounds::interval_constrain(lo, hi, u, out),
            Transform::Simplex => simplex::constrain(u, out),
            Transform::Ordered => ordered::constrain(u, out),
            Transform::CholeskyCorr => cholesky_corr::constrain(u, out),
        }
    }

    /// Maps constrained values back to unconstrained space (plain values). Values outside
    /// the support map to non-finite numbers.
    pub fn unconstrain(&self, x: &[f64]) -> Vec<f64> {
        match *self {
            Transform::Identity => x.to_vec(),
            Transform::Lower(lo) => x.iter().map(|v| (v - lo.value()).ln()).collect(),
            Transform::Upper(hi) => x.iter().map(|v| (hi.value() - v).ln()).collect(),
            Transform::Interval(lo, hi) => {
                let (lo, hi) = (lo.value(), hi.value());
                x.iter()
                    .map(|v| {
                        let p = (v - lo) / (hi - lo);
                        (p / (1.0 - p)).ln()
                    })
                    .collect()
            }
            Transform::Simplex => simplex::unconstrain(x),
            Transform::Ordered => ordered::unconstrain(x),
            Transform::CholeskyCorr => cholesky_corr::unconstrain(x),
        }
    }
}
