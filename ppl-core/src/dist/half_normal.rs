//! The half-normal distribution.

use super::{support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::special::HALF_LN_2PI;
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::LN_2;

/// `½ ln(2/π)`.
const HALF_LN_2_OVER_PI: f64 = LN_2 - HALF_LN_2PI;

/// Half-normal distribution with scale `sigma` (a zero-mean normal folded onto
/// `x ≥ 0`): `ln p(x) = ½ ln(2/π) − ln σ − x²/(2σ²)` for `x ≥ 0`.
///
/// The mean is `σ√(2/π)` and the variance `σ²(1 − 2/π)`. The log-density is −∞ for
/// `x < 0`.
///
/// ```
/// use ppl_core::dist::{Distribution, HalfNormal};
/// use ppl_core::param::Param;
/// let d = HalfNormal::new(2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1.0)).unwrap();
/// assert!((lp - -1.04393853).abs() < 1e-8);
/// assert!(HalfNormal::new(0.0).is_err());
///
/// // `sigma` is the scale of the underlying normal (not the mean of the half-normal):
/// // the closed form at σ = 2, x = 3, and at the boundary x = 0 (included).
/// use std::f64::consts::PI;
/// let sigma = 2.0_f64;
/// let by_formula = |x: f64| 0.5 * (2.0 / PI).ln() - sigma.ln() - x * x / (2.0 * sigma * sigma);
/// for x in [3.0, 0.0] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert!((lp - by_formula(x)).abs() < 1e-14);
/// }
/// // Negative values are outside the support.
/// let lp: f64 = d.log_density(Param::<f64>::operand(&-0.1)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// assert_eq!(HalfNormal::new(f64::NAN).unwrap_err().parameter, "sigma");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HalfNormal<S> {
    sigma: S,
}

impl<S: ParamValues> HalfNormal<S> {
    /// Builds the distribution; `sigma` must be positive.
    pub fn new(sigma: S) -> Result<Self, ParamError> {
        check_param("HalfNormal", "sigma", &sigma, "must be positive", |s| {
            s > 0.0
        })?;
        Ok(HalfNormal { sigma })
    }
}

struct HalfNormalKernel;

impl Kernel<2> for HalfNormalKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, sigma]: [R; 2]) -> R {
        let z = x / sigma;
        z * z * -0.5 - sigma.ln() + HALF_LN_2_OVER_PI
    }
    #[inline]
    fn eval_partials(&self, [x, sigma]: [f64; 2]) -> (f64, [f64; 2]) {
        let inv = 1.0 / sigma;
        let z = x * inv;
        (
            -0.5 * z * z - sigma.ln() + HALF_LN_2_OVER_PI,
            [-z * inv, (z * z - 1.0) * inv],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 2], partials: &mut [Vec<f64>; 2]) -> Option<f64> {
        let [x, sigma] = cols;
        crate::vectorized::columns_sum(x.len(), partials, |values, d| {
            half_normal_rows(x, sigma, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns: values and partials (x, σ); `false` where the
    /// branch-free logarithm does not apply.
    fn half_normal_rows(x: &[f64], sigma: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 2]) -> bool {
        let n = values.len();
        let (x, sigma) = (&x[..n], &sigma[..n]);
        let [d_x, d_sigma] = d;
        let (d_x, d_sigma) = (&mut d_x[..n], &mut d_sigma[..n]);
        let mut ok = true;
        for i in 0..n {
            let s = sigma[i];
            ok &= crate::vecmath::in_ln_normal_range(s);
            let inv = 1.0 / s;
            let z = x[i] * inv;
            values[i] = -0.5 * z * z - crate::vecmath::ln_normal_with::<FMA>(s) + HALF_LN_2_OVER_PI;
            d_x[i] = -z * inv;
            d_sigma[i] = (z * z - 1.0) * inv;
        }
        ok
    }
}

impl<S> HalfNormal<S> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 2]
    where
        S: Param<R>,
    {
        [x, self.sigma.operand()]
    }
}

const NAMES: [&str; 2] = ["x", "sigma"];

impl<R: Real, S: Param<R>> Distribution<R> for HalfNormal<S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "HalfNormal"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.sigma.operand().len())
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        sum_in_support(&HalfNormalKernel, &NAMES, &ops, support::non_negative)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        pointwise_in_support(&HalfNormalKernel, &NAMES, &ops, support::non_negative, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let sigma = self.sigma.operand();
        for i in 0..n {
            let z: f64 = rand_distr::StandardNormal.sample(rng);
            out.push(sigma.value(i) * z.abs());
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, S: Param<R>> ElementValue<R> for HalfNormal<S> {
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
    use statrs::distribution::{Continuous, ContinuousCDF, Normal};
    use std::f64::consts::PI;

    proptest! {
        #[test]
        fn log_density_matches_folded_normal(sigma in 0.01f64..50.0, x in 0.0f64..100.0) {
            let ours = lpdf(&HalfNormal::new(sigma).unwrap(), x);
            let theirs = LN_2 + Normal::new(0.0, sigma).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            HalfNormal::new(a[1])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            HalfNormal::new(a[3])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.7], 1e-5);
        check_gradients(&Scalars, &[0.2, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = HalfNormal::new(1.0).unwrap();
        assert_eq!(lpdf(&d, -0.1), f64::NEG_INFINITY);
        assert!(lpdf(&d, 0.0).is_finite());
        let xs = [1.0, -1.0];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!(out[0].is_finite());
        assert_eq!(out[1], f64::NEG_INFINITY);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let sigma = 1.7;
        let d = HalfNormal::new(sigma).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(1), 20_000, &mut xs);
        check_moments(
            &xs,
            sigma * (2.0 / PI).sqrt(),
            sigma * sigma * (1.0 - 2.0 / PI),
        );
        let reference = Normal::new(0.0, sigma).unwrap();
        check_ks(&mut xs, |x| 2.0 * reference.cdf(x) - 1.0);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(HalfNormal::new(0.0).unwrap_err().parameter, "sigma");
        assert_eq!(HalfNormal::new(f64::NAN).unwrap_err().parameter, "sigma");
        assert_eq!(HalfNormal::new([1.0, -1.0]).unwrap_err().value, -1.0);
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path;

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40)
            .map(|i| (i as f64 * 0.7).sin().abs() * 4.0)
            .collect();
        check_columns_path(|p| HalfNormal::new(p[0]).unwrap(), &[1.7], &x);
    }
}
