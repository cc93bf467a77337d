//! Supports of distributions and the transform each implies.

use crate::scalar::Real;
use crate::transform::Transform;

/// Where a distribution puts its mass.
///
/// A distribution reports its support; the support chooses the transform of a variable
/// sampled from it.
///
/// ```
/// use ppl_core::dist::{Distribution, HalfNormal, Poisson, Support};
/// use ppl_core::Transform;
///
/// let s: Support<f64> = HalfNormal::new(1.0).unwrap().support();
/// assert_eq!(s, Support::Positive);
/// assert!(s.contains(0.5) && !s.contains(0.0) && !s.contains(f64::INFINITY));
/// assert_eq!(s.default_transform(), Transform::Lower(0.0)); // x = eᵘ
///
/// let counts: Support<f64> = Poisson::new(3.0).unwrap().support();
/// assert_eq!(counts, Support::Integers { lower: Some(0), upper: None });
/// assert!(counts.contains(4.0) && !counts.contains(2.5) && !counts.contains(-1.0));
///
/// let unit = Support::<f64>::Interval(0.0, 1.0);
/// assert_eq!(unit.default_transform(), Transform::Interval(0.0, 1.0));
/// assert_eq!(unit.describe(), "reals inside the interval");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Support<R> {
    /// All reals.
    Real,
    /// `x > 0`.
    Positive,
    /// `x > lower`.
    GreaterThan(R),
    /// `x < upper`.
    LessThan(R),
    /// `lower < x < upper`.
    Interval(R, R),
    /// Probability vectors.
    Simplex,
    /// Cholesky factors of correlation matrices.
    CholeskyCorr,
    /// Integers in `[lower, upper]` (either end may be open).
    Integers {
        /// Smallest value, if bounded.
        lower: Option<i64>,
        /// Largest value, if bounded.
        upper: Option<i64>,
    },
}

impl<R: Real> Support<R> {
    /// The transform from unconstrained space onto this support.
    ///
    /// ```
    /// use ppl_core::dist::Support;
    /// use ppl_core::Transform;
    /// assert_eq!(Support::<f64>::Real.default_transform(), Transform::Identity);
    /// assert_eq!(Support::GreaterThan(1.0).default_transform(), Transform::Lower(1.0));
    /// assert_eq!(Support::LessThan(1.0).default_transform(), Transform::Upper(1.0));
    /// assert_eq!(Support::<f64>::Simplex.default_transform(), Transform::Simplex);
    /// assert_eq!(
    ///     Support::<f64>::CholeskyCorr.default_transform(),
    ///     Transform::CholeskyCorr
    /// );
    /// let counts = Support::<f64>::Integers { lower: Some(0), upper: None };
    /// assert_eq!(counts.default_transform(), Transform::Identity);
    /// ```
    pub fn default_transform(&self) -> Transform<R> {
        match *self {
            Support::Real => Transform::Identity,
            Support::Positive => Transform::Lower(R::constant(0.0)),
            Support::GreaterThan(lo) => Transform::Lower(lo),
            Support::LessThan(hi) => Transform::Upper(hi),
            Support::Interval(lo, hi) => Transform::Interval(lo, hi),
            Support::Simplex => Transform::Simplex,
            Support::CholeskyCorr => Transform::CholeskyCorr,
            Support::Integers { .. } => Transform::Identity,
        }
    }

    /// Whether a plain value lies in the support (for scalar supports; vector supports
    /// accept every finite value here and are checked by their densities).
    ///
    /// ```
    /// use ppl_core::dist::Support;
    /// let above = Support::GreaterThan(1.0);
    /// assert!(above.contains(1.5) && !above.contains(1.0) && !above.contains(f64::INFINITY));
    /// assert!(Support::LessThan(0.0).contains(-3.0));
    /// let unit = Support::Interval(0.0, 1.0);
    /// assert!(unit.contains(0.5) && !unit.contains(0.0) && !unit.contains(1.0));
    /// assert!(!unit.contains(f64::NAN));
    /// let die = Support::<f64>::Integers { lower: Some(1), upper: Some(6) };
    /// assert!(die.contains(6.0) && !die.contains(7.0) && !die.contains(0.0));
    /// assert!(!die.contains(3.5));
    /// // Vector supports accept any finite value here.
    /// assert!(Support::<f64>::Simplex.contains(5.0));
    /// assert!(!Support::<f64>::Simplex.contains(f64::NAN));
    /// ```
    pub fn contains(&self, x: f64) -> bool {
        match *self {
            Support::Real | Support::Simplex | Support::CholeskyCorr => x.is_finite(),
            Support::Positive => positive(x),
            Support::GreaterThan(lo) => x > lo.value() && x.is_finite(),
            Support::LessThan(hi) => x < hi.value() && x.is_finite(),
            Support::Interval(lo, hi) => x > lo.value() && x < hi.value(),
            Support::Integers { lower, upper } => {
                x.is_finite()
                    && x == x.round()
                    && lower.is_none_or(|l| x >= l as f64)
                    && upper.is_none_or(|u| x <= u as f64)
            }
        }
    }

    /// The support in words, for messages.
    ///
    /// ```
    /// use ppl_core::dist::Support;
    /// assert_eq!(Support::<f64>::Positive.describe(), "positive reals");
    /// let any_int = Support::<f64>::Integers { lower: None, upper: None };
    /// assert_eq!(any_int.describe(), "integers in range");
    /// ```
    pub fn describe(&self) -> &'static str {
        match self {
            Support::Real => "real numbers",
            Support::Positive => "positive reals",
            Support::GreaterThan(_) => "reals above the lower bound",
            Support::LessThan(_) => "reals below the upper bound",
            Support::Interval(..) => "reals inside the interval",
            Support::Simplex => "probability vectors",
            Support::CholeskyCorr => "Cholesky factors of correlation matrices",
            Support::Integers { .. } => "integers in range",
        }
    }
}

/// Whether `x` is a positive real, `0 < x < ∞` (the support test of densities on the
/// positive reals).
#[inline]
pub(super) fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

/// Whether `x` is a non-negative real, `0 ≤ x < ∞` (the support test of densities that
/// include the origin).
#[inline]
pub(super) fn non_negative(x: f64) -> bool {
    (0.0..f64::INFINITY).contains(&x)
}
