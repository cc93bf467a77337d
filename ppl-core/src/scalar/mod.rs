//! The `Real` scalar trait that model code is generic over, and its implementations.
//!
//! A model body is written once against `Real` and runs with `f64` (values only), the
//! reverse-mode tape [`Var`](crate::tape::Var) (gradients) and the forward-mode
//! [`Fwd`](dual::Fwd) wrapper around num-dual numbers (directional derivatives, Hessians).
//! Every non-elementary function is defined once, with its derivatives, in
//! [`special`](crate::special), and applied through [`Real::map_unary`].

pub mod dual;
mod float;

use crate::param::{DataKind, Elem, Param, ParamValues, ScalarValue};
use crate::special::{derivs, Derivs};
use crate::tape::EdgeWriter;
use std::fmt::{Debug, Display};
use std::iter::{Product, Sum};
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// How a scalar type evaluates vectorised densities.
///
/// Each [`Real`] type declares its mode in [`Real::MODE`]; code that has a cheaper path
/// for one mode (precomputed partials on the tape, say) branches on it.
///
/// ```
/// use num_dual::Dual64;
/// use ppl_core::scalar::{dual::Fwd, EvalMode};
/// use ppl_core::{Real, Var};
/// assert_eq!(<f64 as Real>::MODE, EvalMode::Value);
/// assert_eq!(<Var as Real>::MODE, EvalMode::Tape);
/// assert_eq!(<Fwd<Dual64> as Real>::MODE, EvalMode::Dual);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalMode {
    /// Plain values (`f64`): sum the element log-densities.
    Value,
    /// Reverse mode: one tape node with precomputed partials per vectorised density.
    Tape,
    /// Forward mode (dual numbers): evaluate the generic element formula.
    Dual,
}

/// The scalar type of a model body.
///
/// Inside `#[model]` this trait is in scope under the generic parameter literally named
/// `Real`. All arithmetic with `f64` works in both directions (the `f64 op Real` direction
/// comes from the model's where-clause), and the functions densities need are methods.
///
/// Outside a model, `f64 op R` needs the same where-clause `#[model]` and `#[real_fn]`
/// add:
///
/// ```
/// use ppl_core::Real;
/// use std::ops::Div;
/// fn inv_logit<R: Real>(v: R) -> R
/// where
///     f64: Div<R, Output = R>,
/// {
///     1.0 / ((-v).exp() + 1.0)
/// }
/// assert!((inv_logit(0.0_f64) - 0.5).abs() < 1e-15);
/// ```
pub trait Real:
    Copy
    + Debug
    + Display
    + Default
    + PartialEq
    + PartialOrd
    + PartialEq<f64>
    + PartialOrd<f64>
    + From<f64>
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + AddAssign<f64>
    + SubAssign<f64>
    + MulAssign<f64>
    + DivAssign<f64>
    + Sum
    + for<'a> Sum<&'a Self>
    + Product
    + Send
    + Sync
    + 'static
    + Elem<Self>
    + Param<Self>
    + ScalarValue
    + DataKind
    + ParamValues
{
    /// How vectorised densities are evaluated for this type.
    const MODE: EvalMode;
    /// Highest derivative order this type propagates (0 for `f64`, 1 for the tape).
    const ORDER: usize;

    /// The plain value.
    fn value(&self) -> f64;

    /// A constant (no derivative).
    #[inline]
    fn constant(v: f64) -> Self {
        Self::from(v)
    }

    /// Applies a unary function given its value and derivatives at `self.value()`.
    fn map_unary(self, d: Derivs) -> Self;

    /// The tape slot of this value (0 for constants and non-tape types).
    #[inline]
    fn tape_index(&self) -> u32 {
        0
    }

    /// Builds a value from a precomputed result and its partial derivatives with respect
    /// to `operands` (Stan's operands-and-partials). Only first order: forward-mode types
    /// with higher order never reach this (they evaluate generic formulas).
    fn from_partials(value: f64, operands: &[(Self, f64)]) -> Self;

    /// A value with partial derivatives with respect to at most two operands: one plain
    /// tape node (cheaper to record and to sweep than a wide one). Either operand may
    /// be a constant. Same restrictions as [`Real::from_partials`].
    #[inline]
    fn from_two_partials(value: f64, a: (Self, f64), b: (Self, f64)) -> Self {
        Self::from_partials(value, &[a, b])
    }

    /// Records one wide tape node whose edges `fill` writes, returning `fill`'s value.
    /// Non-tape types discard the edges and return a constant: callers use this only
    /// when `Self::MODE` is `Tape` or `Value`.
    #[inline]
    fn record_wide(fill: impl FnOnce(&mut EdgeWriter<'_>) -> f64) -> Self {
        Self::constant(EdgeWriter::discarding(fill))
    }

    /// The scalar a multi-output tape operation produced in slot `index` with `value`
    /// (see [`Var::multi_output`](crate::tape::Var::multi_output)); slot 0 is a
    /// constant. Non-tape types return the constant: callers record multi-output nodes
    /// only when `Self::MODE` is `Tape`.
    #[inline]
    fn from_tape(value: f64, index: u32) -> Self {
        let _ = index;
        Self::constant(value)
    }

    /// e^x.
    #[inline]
    fn exp(self) -> Self {
        self.map_unary(derivs::exp(self.value(), Self::ORDER))
    }
    /// ln x.
    #[inline]
    fn ln(self) -> Self {
        self.map_unary(derivs::ln(self.value(), Self::ORDER))
    }
    /// ln(1 + x).
    #[inline]
    fn ln_1p(self) -> Self {
        self.map_unary(derivs::ln_1p(self.value(), Self::ORDER))
    }
    /// e^x − 1.
    #[inline]
    fn exp_m1(self) -> Self {
        self.map_unary(derivs::exp_m1(self.value(), Self::ORDER))
    }
    /// √x.
    #[inline]
    fn sqrt(self) -> Self {
        self.map_unary(derivs::sqrt(self.value(), Self::ORDER))
    }
    /// x².
    #[inline]
    fn square(self) -> Self {
        self * self
    }
    /// xⁿ.
    #[inline]
    fn powi(self, n: i32) -> Self {
        self.map_unary(derivs::powi(self.value(), n, Self::ORDER))
    }
    /// x^p for a constant p.
    #[inline]
    fn powf(self, p: f64) -> Self {
        self.map_unary(derivs::powf(self.value(), p, Self::ORDER))
    }
    /// x^y with both variable: `exp(y ln x)`.
    #[inline]
    fn pow(self, y: Self) -> Self {
        (y * self.ln()).exp()
    }
    /// sin x.
    #[inline]
    fn sin(self) -> Self {
        self.map_unary(derivs::sin(self.value(), Self::ORDER))
    }
    /// cos x.
    #[inline]
    fn cos(self) -> Self {
        self.map_unary(derivs::cos(self.value(), Self::ORDER))
    }
    /// tanh x.
    #[inline]
    fn tanh(self) -> Self {
        self.map_unary(derivs::tanh(self.value(), Self::ORDER))
    }
    /// atan x.
    #[inline]
    fn atan(self) -> Self {
        self.map_unary(derivs::atan(self.value(), Self::ORDER))
    }
    /// |x|.
    #[inline]
    fn abs(self) -> Self {
        self.map_unary(derivs::abs(self.value(), Self::ORDER))
    }
    /// The larger of two values (the derivative follows the chosen one).
    #[inline]
    fn max(self, other: Self) -> Self {
        if self.value() >= other.value() {
            self
        } else {
            other
        }
    }
    /// The smaller of two values (the derivative follows the chosen one).
    #[inline]
    fn min(self, other: Self) -> Self {
        if self.value() <= other.value() {
            self
        } else {
            other
        }
    }
    /// ln Γ(x).
    #[inline]
    fn ln_gamma(self) -> Self {
        self.map_unary(derivs::ln_gamma(self.value(), Self::ORDER))
    }
    /// ψ(x) = d/dx ln Γ(x).
    #[inline]
    fn digamma(self) -> Self {
        self.map_unary(derivs::digamma(self.value(), Self::ORDER))
    }
    /// erf x.
    #[inline]
    fn erf(self) -> Self {
        self.map_unary(derivs::erf(self.value(), Self::ORDER))
    }
    /// erfc x.
    #[inline]
    fn erfc(self) -> Self {
        self.map_unary(derivs::erfc(self.value(), Self::ORDER))
    }
    /// Standard normal CDF Φ(x).
    #[inline]
    fn std_normal_cdf(self) -> Self {
        self.map_unary(derivs::std_normal_cdf(self.value(), Self::ORDER))
    }
    /// ln Φ(x), accurate in the lower tail.
    #[inline]
    fn std_normal_log_cdf(self) -> Self {
        self.map_unary(derivs::std_normal_log_cdf(self.value(), Self::ORDER))
    }
    /// Logistic sigmoid 1/(1 + e^{−x}).
    #[inline]
    fn sigmoid(self) -> Self {
        self.map_unary(derivs::sigmoid(self.value(), Self::ORDER))
    }
    /// ln(1 + e^x).
    #[inline]
    fn log1p_exp(self) -> Self {
        self.map_unary(derivs::log1p_exp(self.value(), Self::ORDER))
    }
    /// ln σ(x) = −ln(1 + e^{−x}).
    #[inline]
    fn log_sigmoid(self) -> Self {
        -(-self).log1p_exp()
    }
    /// ln(e^x + e^y).
    #[inline]
    fn log_sum_exp(self, other: Self) -> Self {
        if self.value() == f64::NEG_INFINITY {
            return other;
        }
        if other.value() == f64::NEG_INFINITY {
            return self;
        }
        if self.value() == f64::INFINITY && other.value() == f64::INFINITY {
            // +∞ − +∞ would be NaN below.
            return self;
        }
        let (hi, lo) = if self.value() >= other.value() {
            (self, other)
        } else {
            (other, self)
        };
        hi + (lo - hi).exp().ln_1p()
    }
    /// ln B(a, b).
    #[inline]
    fn ln_beta(self, b: Self) -> Self {
        self.ln_gamma() + b.ln_gamma() - (self + b).ln_gamma()
    }
    /// True when the value is finite.
    #[inline]
    fn is_finite(&self) -> bool {
        self.value().is_finite()
    }
    /// True when the value is NaN.
    #[inline]
    fn is_nan(&self) -> bool {
        self.value().is_nan()
    }
}

/// `ln Σ e^{xᵢ}` of a slice of scalars, −∞ when empty.
///
/// The largest value is subtracted first, so large arguments do not overflow. On the
/// tape the gradient is the softmax `e^{xᵢ} / Σⱼ e^{xⱼ}`:
///
/// ```
/// use ppl_core::scalar::log_sum_exp;
/// use ppl_core::tape::{self, Var};
/// use ppl_core::Real;
///
/// let lse: f64 = log_sum_exp(&[1000.0, 1000.0]);
/// assert!((lse - (1000.0 + std::f64::consts::LN_2)).abs() < 1e-12);
/// assert_eq!(log_sum_exp::<f64>(&[]), f64::NEG_INFINITY);
///
/// tape::reset();
/// let values = [0.5, -1.0, 2.0];
/// let xs: Vec<Var> = values.iter().map(|v| Var::leaf(*v)).collect();
/// let f = log_sum_exp(&xs);
/// let mut grad = [0.0; 3];
/// tape::gradient(f, &xs, &mut grad);
/// let total: f64 = values.iter().map(|v| v.exp()).sum();
/// assert!((f.value() - total.ln()).abs() < 1e-15);
/// for (g, v) in grad.iter().zip(values) {
///     assert!((g - v.exp() / total).abs() < 1e-15);
/// }
/// ```
pub fn log_sum_exp<R: Real>(xs: &[R]) -> R {
    let m = xs
        .iter()
        .map(|x| x.value())
        .fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return R::constant(m);
    }
    let s: R = xs.iter().map(|x| (*x - m).exp()).sum();
    s.ln() + m
}

/// Dot product of two equally long slices of scalars or data.
///
/// Either side may be plain data (`f64`) while the other holds model scalars; on the
/// tape the product is one node whose partials are the other side's values (see
/// [`glm::dot`](crate::glm::dot)).
///
/// ```
/// use ppl_core::scalar::dot;
/// use ppl_core::tape::{self, Var};
/// use ppl_core::Real;
///
/// let d: f64 = dot(&[1.0, 2.0, 3.0][..], &[4.0, 5.0, 6.0][..]);
/// assert_eq!(d, 32.0);
///
/// tape::reset();
/// let w = [Var::leaf(0.5), Var::leaf(-2.0)];
/// let x = [3.0, 4.0]; // data
/// let f: Var = dot(&w[..], &x[..]);
/// assert_eq!(f.value(), 0.5 * 3.0 - 2.0 * 4.0);
/// let mut grad = [0.0; 2];
/// tape::gradient(f * f, &w, &mut grad);
/// // ∂(w·x)²/∂w = 2 (w·x) x.
/// assert_eq!(grad, [2.0 * f.value() * 3.0, 2.0 * f.value() * 4.0]);
/// ```
///
/// # Panics
/// When the slices' lengths differ.
pub fn dot<R: Real, A: Elem<R>, B: Elem<R>>(a: &[A], b: &[B]) -> R {
    crate::glm::dot(a, b)
}
