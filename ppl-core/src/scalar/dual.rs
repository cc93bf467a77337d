//! `Fwd<D>`: forward-mode scalars wrapping num-dual numbers.
//!
//! A local wrapper is needed so that `f64 ∘ Fwd<D>` operators can be implemented (the
//! orphan rule forbids `impl Mul<Dual64> for f64` here). Functions with known derivative
//! tables are applied by a truncated Taylor expansion, `f(x) = Σ f⁽ᵏ⁾(x₀) hᵏ/k!` with
//! `h = x − x₀`, which is exact for dual numbers of derivative order up to three.
//!
//! ```
//! use ppl_core::scalar::dual::Fwd;
//! use ppl_core::Real;
//! use num_dual::Dual64;
//! let x = Fwd(Dual64::from(2.0).derivative());
//! let y = x.ln_gamma();
//! assert!((y.0.eps - ppl_core::special::digamma(2.0)).abs() < 1e-12);
//! ```

use super::{EvalMode, Real};
use crate::param::{Elem, Operand, Param};
use crate::special::Derivs;
use num_dual::DualNum;
use std::fmt;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// The bound every wrapped dual type satisfies.
pub trait DualScalar: DualNum<Primitive = f64> + Copy + Send + Sync {}
impl<D: DualNum<Primitive = f64> + Copy + Send + Sync> DualScalar for D {}

/// A forward-mode scalar: a num-dual number usable as a model's `Real`.
///
/// Code written against [`Real`] is differentiated by seeding the input with a unit
/// derivative: `Fwd(Dual64)` carries one directional derivative, `Fwd(HyperDual64)` a
/// second mixed one.
///
/// ```
/// use num_dual::{Dual64, HyperDual64};
/// use ppl_core::scalar::dual::Fwd;
/// use ppl_core::Real;
///
/// // f(x) = x eˣ: f'(x) = (1 + x) eˣ, f''(x) = (2 + x) eˣ.
/// fn f<R: Real>(x: R) -> R {
///     x * x.exp()
/// }
/// let x = 0.7_f64;
/// let y = f(Fwd(Dual64::from(x).derivative()));
/// assert!((y.value() - x * x.exp()).abs() < 1e-15);
/// assert!((y.0.eps - (1.0 + x) * x.exp()).abs() < 1e-14);
///
/// let h = f(Fwd(HyperDual64::from(x).derivative1().derivative2()));
/// assert!((h.0.eps1eps2 - (2.0 + x) * x.exp()).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Fwd<D>(pub D);

impl<D: DualScalar> Default for Fwd<D> {
    fn default() -> Self {
        Fwd(D::from(0.0))
    }
}

impl<D: DualScalar> fmt::Display for Fwd<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.re(), f)
    }
}

impl<D: DualScalar> From<f64> for Fwd<D> {
    fn from(v: f64) -> Self {
        Fwd(D::from(v))
    }
}

impl<D: DualScalar> PartialEq for Fwd<D> {
    fn eq(&self, o: &Self) -> bool {
        self.0.re() == o.0.re()
    }
}
impl<D: DualScalar> PartialOrd for Fwd<D> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        self.0.re().partial_cmp(&o.0.re())
    }
}
impl<D: DualScalar> PartialEq<f64> for Fwd<D> {
    fn eq(&self, o: &f64) -> bool {
        self.0.re() == *o
    }
}
impl<D: DualScalar> PartialOrd<f64> for Fwd<D> {
    fn partial_cmp(&self, o: &f64) -> Option<std::cmp::Ordering> {
        self.0.re().partial_cmp(o)
    }
}

macro_rules! binops {
    ($($tr:ident $m:ident $atr:ident $am:ident),*) => {$(
        impl<D: DualScalar> $tr for Fwd<D> {
            type Output = Fwd<D>;
            #[inline]
            fn $m(self, b: Self) -> Self { Fwd(self.0.$m(b.0)) }
        }
        impl<D: DualScalar> $tr<f64> for Fwd<D> {
            type Output = Fwd<D>;
            #[inline]
            fn $m(self, b: f64) -> Self { Fwd(self.0.$m(b)) }
        }
        impl<D: DualScalar> $tr<Fwd<D>> for f64 {
            type Output = Fwd<D>;
            #[inline]
            fn $m(self, b: Fwd<D>) -> Fwd<D> { Fwd(D::from(self).$m(b.0)) }
        }
        impl<D: DualScalar> $atr for Fwd<D> {
            #[inline]
            fn $am(&mut self, b: Self) { *self = (*self).$m(b); }
        }
        impl<D: DualScalar> $atr<f64> for Fwd<D> {
            #[inline]
            fn $am(&mut self, b: f64) { *self = (*self).$m(b); }
        }
    )*};
}
binops!(Add add AddAssign add_assign, Sub sub SubAssign sub_assign, Mul mul MulAssign mul_assign, Div div DivAssign div_assign);

impl<D: DualScalar> Neg for Fwd<D> {
    type Output = Fwd<D>;
    #[inline]
    fn neg(self) -> Self {
        Fwd(-self.0)
    }
}

impl<D: DualScalar> std::iter::Sum for Fwd<D> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Fwd::from(0.0), |a, b| a + b)
    }
}
impl<'a, D: DualScalar> std::iter::Sum<&'a Fwd<D>> for Fwd<D> {
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.fold(Fwd::from(0.0), |a, b| a + *b)
    }
}
impl<D: DualScalar> std::iter::Product for Fwd<D> {
    fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Fwd::from(1.0), |a, b| a * b)
    }
}

impl<D: DualScalar> Real for Fwd<D> {
    const MODE: EvalMode = EvalMode::Dual;
    const ORDER: usize = if D::NDERIV > 3 { 3 } else { D::NDERIV };

    #[inline]
    fn value(&self) -> f64 {
        self.0.re()
    }

    fn map_unary(self, d: Derivs) -> Self {
        // Truncated Taylor series in h = x − x₀ (h has zero real part, so h^{k} vanishes
        // beyond the number's derivative order).
        let h = self.0 - self.0.re();
        let mut acc = D::from(0.0);
        let order = Self::ORDER;
        let coef = [1.0, 1.0, 0.5, 1.0 / 6.0];
        for k in (1..=order).rev() {
            acc = (acc + d[k] * coef[k]) * h;
        }
        Fwd(acc + d[0])
    }

    fn from_partials(value: f64, operands: &[(Self, f64)]) -> Self {
        let mut acc = D::from(value);
        for (x, p) in operands {
            acc += (x.0 - x.0.re()) * *p;
        }
        Fwd(acc)
    }
}

impl<D: DualScalar> Elem<Fwd<D>> for Fwd<D> {
    #[inline]
    fn elem_value(&self) -> f64 {
        self.0.re()
    }
    #[inline]
    fn elem_lift(&self) -> Fwd<D> {
        *self
    }
    #[inline]
    fn slice_operand(s: &[Self]) -> Operand<'_, Self> {
        Operand::Slice(s)
    }
}

impl<D: DualScalar> crate::param::ScalarValue for Fwd<D> {
    #[inline]
    fn scalar_value(&self) -> f64 {
        self.0.re()
    }
}
impl<D: DualScalar> crate::param::DataKind for Fwd<D> {
    const IS_DATA: bool = false;
}
impl<D: DualScalar> crate::param::ParamValues for Fwd<D> {
    fn param_len(&self) -> Option<usize> {
        None
    }
    fn param_value(&self, _i: usize) -> f64 {
        self.0.re()
    }
    fn is_data(&self) -> bool {
        false
    }
}

impl<D: DualScalar> Param<Fwd<D>> for Fwd<D> {
    #[inline]
    fn operand(&self) -> Operand<'_, Self> {
        Operand::Scalar(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::{Dual2_64, Dual64, HyperDual64};

    #[test]
    fn taylor_chain_rule_matches_num_dual_for_elementary_functions() {
        let x = Fwd(Dual2_64::from(0.7).derivative());
        let ours = x.map_unary(crate::special::derivs::exp(0.7, 3));
        let theirs = x.0.exp();
        assert!((ours.0.v1 - theirs.v1).abs() < 1e-14);
        assert!((ours.0.v2 - theirs.v2).abs() < 1e-14);
        let hd = Fwd(HyperDual64::new(1.3, 1.0, 1.0, 0.0));
        let ours = hd.map_unary(crate::special::derivs::ln(1.3, 3));
        let theirs = hd.0.ln();
        assert!((ours.0.eps1eps2 - theirs.eps1eps2).abs() < 1e-14);
    }

    #[test]
    fn mixed_f64_arithmetic() {
        let x = Fwd(Dual64::from(2.0).derivative());
        let y = 3.0 * x + 1.0 / x - (2.0 - x);
        assert!((y.0.eps - (3.0 - 0.25 + 1.0)).abs() < 1e-15);
    }
}
