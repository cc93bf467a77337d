//! `Real` for plain `f64`: values only, no derivatives.

use super::{EvalMode, Real};
use crate::special::Derivs;

impl Real for f64 {
    const MODE: EvalMode = EvalMode::Value;
    const ORDER: usize = 0;

    #[inline]
    fn value(&self) -> f64 {
        *self
    }
    #[inline]
    fn map_unary(self, d: Derivs) -> Self {
        d[0]
    }
    #[inline]
    fn from_partials(value: f64, _operands: &[(Self, f64)]) -> Self {
        value
    }
    #[inline]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline]
    fn ln(self) -> Self {
        f64::ln(self)
    }
    #[inline]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        f64::powi(self, n)
    }
    #[inline]
    fn ln_1p(self) -> Self {
        f64::ln_1p(self)
    }
}
