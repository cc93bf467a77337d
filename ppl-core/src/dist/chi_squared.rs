//! The chi-squared distribution.

use super::{support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::LN_2;

/// Chi-squared distribution with `nu` degrees of freedom (a gamma with shape `ν/2` and
/// rate `½`): `ln p(x) = (ν/2 − 1) ln x − x/2 − (ν/2) ln 2 − ln Γ(ν/2)` for `x > 0`.
///
/// The mean is `ν` and the variance `2ν`. The log-density is −∞ for `x ≤ 0`.
///
/// ```
/// use ppl_core::dist::{ChiSquared, Distribution};
/// use ppl_core::param::Param;
/// let d = ChiSquared::new(2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&3.0)).unwrap();
/// assert!((lp - (-1.5 - 2f64.ln())).abs() < 1e-12);
/// assert!(ChiSquared::new(0.0).is_err());
///
/// // A non-integer ν is allowed; written out at ν = 3.5, x = 1.2:
/// use ppl_core::special::ln_gamma;
/// let (nu, x) = (3.5_f64, 1.2_f64);
/// let lp: f64 = ChiSquared::new(nu).unwrap().log_density(Param::<f64>::operand(&x)).unwrap();
/// let h = nu / 2.0;
/// assert!((lp - ((h - 1.0) * x.ln() - x / 2.0 - h * 2f64.ln() - ln_gamma(h))).abs() < 1e-13);
/// // x = 0 and negative values are outside the support.
/// for x in [0.0, -3.0] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = ChiSquared::new(-1.0).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("nu", -1.0));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ChiSquared<N> {
    nu: N,
}

impl<N: ParamValues> ChiSquared<N> {
    /// Builds the distribution; `nu` must be positive.
    pub fn new(nu: N) -> Result<Self, ParamError> {
        check_param("ChiSquared", "nu", &nu, "must be positive", |v| v > 0.0)?;
        Ok(ChiSquared { nu })
    }
}

struct ChiSquaredKernel;

impl Kernel<2> for ChiSquaredKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, nu]: [R; 2]) -> R {
        let h = nu * 0.5;
        (h - 1.0) * x.ln() - x * 0.5 - h * LN_2 - h.ln_gamma()
    }
}

impl<N> ChiSquared<N> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 2]
    where
        N: Param<R>,
    {
        [x, self.nu.operand()]
    }
}

const NAMES: [&str; 2] = ["x", "nu"];

impl<R: Real, N: Param<R>> Distribution<R> for ChiSquared<N> {
    type Value = R;

    fn name(&self) -> &'static str {
        "ChiSquared"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.nu.operand().len())
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        sum_in_support(&ChiSquaredKernel, &NAMES, &ops, support::positive)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        pointwise_in_support(&ChiSquaredKernel, &NAMES, &ops, support::positive, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let nu = self.nu.operand();
        for i in 0..n {
            let x = rand_distr::ChiSquared::new(nu.value(i)).map_or(f64::NAN, |d| d.sample(rng));
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, N: Param<R>> ElementValue<R> for ChiSquared<N> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{
        check_gradients, check_ks, check_moments, lpdf, test_rng, ScalarFamily,
    };
    use proptest::prelude::*;
    use statrs::distribution::{Continuous, ContinuousCDF};

    proptest! {
        #[test]
        fn log_density_matches_statrs(nu in 0.1f64..100.0, x in 0.001f64..200.0) {
            let ours = lpdf(&ChiSquared::new(nu).unwrap(), x);
            let theirs = statrs::distribution::ChiSquared::new(nu).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            ChiSquared::new(a[1])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            ChiSquared::new(a[3])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5], 1e-5);
        check_gradients(&Scalars, &[7.0, 4.0], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 3.3], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = ChiSquared::new(3.0).unwrap();
        assert_eq!(lpdf(&d, -1.0), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 0.0), f64::NEG_INFINITY);
        let xs = [1.0, -1.0];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!(out[0].is_finite());
        assert_eq!(out[1], f64::NEG_INFINITY);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let nu = 4.5;
        let d = ChiSquared::new(nu).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(15), 20_000, &mut xs);
        check_moments(&xs, nu, 2.0 * nu);
        let reference = statrs::distribution::ChiSquared::new(nu).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(ChiSquared::new(0.0).unwrap_err().parameter, "nu");
        assert_eq!(ChiSquared::new(f64::NAN).unwrap_err().parameter, "nu");
    }
}
