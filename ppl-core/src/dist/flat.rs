//! Improper flat priors: [`Flat`] on the real line and [`HalfFlat`] on the positive reals.

use super::{support, Distribution, ElementValue, ParamError, Support};
use crate::param::Operand;
use crate::scalar::Real;
use crate::vectorized::LengthMismatch;
use rand::RngCore;
use rand_distr::Distribution as _;

/// The improper uniform "distribution" on the real line: `ln p(x) = 0` for every `x`.
///
/// It has no normalised density, so it is only usable as a prior whose posterior is
/// proper. It has no parameters and no batch shape (use `shape = n` for vectors).
///
/// **Sampling**: there is no proper distribution to draw from; [`Distribution::draw`]
/// returns draws from `Uniform(−2, 2)` as a stand-in (the range Stan uses for random
/// initial values), so prior-predictive draws of a `Flat` variable are not meaningful.
///
/// ```
/// use ppl_core::dist::{Distribution, Flat};
/// use ppl_core::param::Param;
/// let d = Flat::new().unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&[1e6, -3.0])).unwrap();
/// assert_eq!(lp, 0.0);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Flat;

impl Flat {
    /// Builds the distribution (never fails; the `Result` matches other constructors).
    pub fn new() -> Result<Self, ParamError> {
        Ok(Flat)
    }
}

impl<R: Real> Distribution<R> for Flat {
    type Value = R;

    fn name(&self) -> &'static str {
        "Flat"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(None)
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, _x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        Ok(R::constant(0.0))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        out.extend(std::iter::repeat_n(0.0, x.len().unwrap_or(1)));
        Ok(())
    }

    /// Stand-in draws from `Uniform(−2, 2)` (see the type's documentation).
    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        for _ in 0..n {
            let u: f64 = rand_distr::Standard.sample(rng);
            out.push(4.0 * u - 2.0);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real> ElementValue<R> for Flat {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

/// The improper uniform "distribution" on the positive reals: `ln p(x) = 0` for `x ≥ 0`
/// and −∞ for `x < 0`.
///
/// Like [`Flat`], it is only usable as a prior whose posterior is proper. Its support
/// gives sampled variables a log transform.
///
/// **Sampling**: [`Distribution::draw`] returns draws from `Uniform(0, 2)` as a
/// stand-in, so prior-predictive draws of a `HalfFlat` variable are not meaningful.
///
/// ```
/// use ppl_core::dist::{Distribution, HalfFlat};
/// use ppl_core::param::Param;
/// let d = HalfFlat::new().unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&3.0)).unwrap();
/// assert_eq!(lp, 0.0);
/// let outside: f64 = d.log_density(Param::<f64>::operand(&-3.0)).unwrap();
/// assert_eq!(outside, f64::NEG_INFINITY);
/// // The boundary x = 0 is included.
/// let at_zero: f64 = d.log_density(Param::<f64>::operand(&0.0)).unwrap();
/// assert_eq!(at_zero, 0.0);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HalfFlat;

impl HalfFlat {
    /// Builds the distribution (never fails; the `Result` matches other constructors).
    pub fn new() -> Result<Self, ParamError> {
        Ok(HalfFlat)
    }
}

impl<R: Real> Distribution<R> for HalfFlat {
    type Value = R;

    fn name(&self) -> &'static str {
        "HalfFlat"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(None)
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let n = x.len().unwrap_or(1);
        if x.values(n).all(support::non_negative) {
            Ok(R::constant(0.0))
        } else {
            Ok(R::constant(f64::NEG_INFINITY))
        }
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let n = x.len().unwrap_or(1);
        out.extend(x.values(n).map(|v| {
            if support::non_negative(v) {
                0.0
            } else {
                f64::NEG_INFINITY
            }
        }));
        Ok(())
    }

    /// Stand-in draws from `Uniform(0, 2)` (see the type's documentation).
    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        for _ in 0..n {
            let u: f64 = rand_distr::Standard.sample(rng);
            out.push(2.0 * u);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real> ElementValue<R> for HalfFlat {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_ks, lpdf, test_rng, ScalarFamily};
    use crate::param::Param;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn log_density_is_zero(x in -1e6f64..1e6) {
            prop_assert_eq!(lpdf(&Flat::new().unwrap(), x), 0.0);
            let expected = if x >= 0.0 { 0.0 } else { f64::NEG_INFINITY };
            prop_assert_eq!(lpdf(&HalfFlat::new().unwrap(), x), expected);
        }
    }

    struct FlatSlice;
    impl ScalarFamily for FlatSlice {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Flat.log_density(Param::<R>::operand(&&a[0..3])).unwrap()
        }
    }

    struct HalfFlatScalar;
    impl ScalarFamily for HalfFlatScalar {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            HalfFlat.log_density(Param::<R>::operand(&a[0])).unwrap()
        }
    }

    #[test]
    fn gradients_are_zero() {
        check_gradients(&FlatSlice, &[0.4, -1.1, 2.7], 1e-5);
        check_gradients(&HalfFlatScalar, &[0.4], 1e-5);
    }

    #[test]
    fn pointwise_and_support() {
        let mut out = Vec::new();
        let xs = [1.0, -1.0, 2.0];
        Distribution::<f64>::log_density_pointwise(&Flat, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert_eq!(out, vec![0.0; 3]);
        out.clear();
        Distribution::<f64>::log_density_pointwise(&HalfFlat, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert_eq!(out, vec![0.0, f64::NEG_INFINITY, 0.0]);
        let lp: f64 = HalfFlat.log_density(Param::<f64>::operand(&xs)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        assert_eq!(Distribution::<f64>::support(&Flat), Support::Real);
        assert_eq!(Distribution::<f64>::support(&HalfFlat), Support::Positive);
        assert_eq!(Distribution::<f64>::batch_len(&Flat), Ok(None));
    }

    #[test]
    fn stand_in_draws() {
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&Flat, &mut test_rng(50), 20_000, &mut xs);
        check_ks(&mut xs, |x| ((x + 2.0) / 4.0).clamp(0.0, 1.0));
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&HalfFlat, &mut test_rng(51), 20_000, &mut xs);
        check_ks(&mut xs, |x| (x / 2.0).clamp(0.0, 1.0));
    }

    #[test]
    fn constructors_never_fail() {
        assert!(Flat::new().is_ok());
        assert!(HalfFlat::new().is_ok());
    }
}
