//! The half-Cauchy distribution.

use super::{support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::special::LN_PI;
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::{FRAC_PI_2, LN_2};

/// `ln(2/π)`.
const LN_2_OVER_PI: f64 = LN_2 - LN_PI;

/// Half-Cauchy distribution with scale `beta` (a zero-location Cauchy folded onto
/// `x ≥ 0`, PyMC's `HalfCauchy(beta)`), with `z = x/β`:
/// `ln p(x) = ln(2/π) − ln β − ln(1 + z²)` for `x ≥ 0`.
///
/// The median is `β`; the mean and variance are infinite. The log-density is −∞ for
/// `x < 0`.
///
/// ```
/// use ppl_core::dist::{Distribution, HalfCauchy};
/// use ppl_core::param::Param;
/// let d = HalfCauchy::new(2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&2.0)).unwrap();
/// assert!((lp - -1.83787707).abs() < 1e-8);
/// assert!(HalfCauchy::new(0.0).is_err());
///
/// // `beta` is the scale (and the median), written out at β = 2, x = 0.5:
/// use std::f64::consts::PI;
/// let (beta, x) = (2.0_f64, 0.5_f64);
/// let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
/// let want = (2.0 / PI).ln() - beta.ln() - (1.0 + (x / beta).powi(2)).ln();
/// assert!((lp - want).abs() < 1e-14);
/// // x = 0 is included, negative values are outside the support.
/// let at_zero: f64 = d.log_density(Param::<f64>::operand(&0.0)).unwrap();
/// assert!((at_zero - ((2.0 / PI).ln() - beta.ln())).abs() < 1e-14);
/// let below: f64 = d.log_density(Param::<f64>::operand(&-0.5)).unwrap();
/// assert_eq!(below, f64::NEG_INFINITY);
/// assert_eq!(HalfCauchy::new(f64::INFINITY).unwrap_err().parameter, "beta");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HalfCauchy<B> {
    beta: B,
}

impl<B: ParamValues> HalfCauchy<B> {
    /// Builds the distribution; `beta` (the scale) must be positive.
    pub fn new(beta: B) -> Result<Self, ParamError> {
        check_param("HalfCauchy", "beta", &beta, "must be positive", |b| b > 0.0)?;
        Ok(HalfCauchy { beta })
    }
}

struct HalfCauchyKernel;

impl Kernel<2> for HalfCauchyKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, beta]: [R; 2]) -> R {
        let z = x / beta;
        -(z * z).ln_1p() - beta.ln() + LN_2_OVER_PI
    }
    #[inline]
    fn eval_partials(&self, [x, beta]: [f64; 2]) -> (f64, [f64; 2]) {
        let inv = 1.0 / beta;
        let z = x * inv;
        let z2 = z * z;
        (
            -z2.ln_1p() - beta.ln() + LN_2_OVER_PI,
            [-2.0 * z * inv / (1.0 + z2), (z2 - 1.0) * inv / (1.0 + z2)],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 2], partials: &mut [Vec<f64>; 2]) -> Option<f64> {
        let [x, beta] = cols;
        crate::vectorized::columns_sum(x.len(), partials, |values, d| {
            half_cauchy_rows(x, beta, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns: values and partials (x, β); `false` where the
    /// branch-free logarithm does not apply.
    fn half_cauchy_rows(x: &[f64], beta: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 2]) -> bool {
        let n = values.len();
        let (x, beta) = (&x[..n], &beta[..n]);
        let [d_x, d_beta] = d;
        let (d_x, d_beta) = (&mut d_x[..n], &mut d_beta[..n]);
        let mut ok = true;
        for i in 0..n {
            let b = beta[i];
            let inv = 1.0 / b;
            let z = x[i] * inv;
            let z2 = z * z;
            let opz2 = 1.0 + z2;
            ok &= crate::vecmath::in_ln_normal_range(b) & (opz2 <= f64::MAX);
            values[i] = -crate::vecmath::ln_normal_with::<FMA>(opz2) - crate::vecmath::ln_normal_with::<FMA>(b) + LN_2_OVER_PI;
            d_x[i] = -2.0 * z * inv / opz2;
            d_beta[i] = (z2 - 1.0) * inv / opz2;
        }
        ok
    }
}

impl<B> HalfCauchy<B> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 2]
    where
        B: Param<R>,
    {
        [x, self.beta.operand()]
    }
}

const NAMES: [&str; 2] = ["x", "beta"];

impl<R: Real, B: Param<R>> Distribution<R> for HalfCauchy<B> {
    type Value = R;

    fn name(&self) -> &'static str {
        "HalfCauchy"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.beta.operand().len())
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        sum_in_support(&HalfCauchyKernel, &NAMES, &ops, support::non_negative)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        pointwise_in_support(&HalfCauchyKernel, &NAMES, &ops, support::non_negative, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let beta = self.beta.operand();
        for i in 0..n {
            // Inverse CDF: F(x) = (2/π) atan(x/β).
            let u: f64 = rand_distr::Open01.sample(rng);
            out.push(beta.value(i) * (FRAC_PI_2 * u).tan());
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, B: Param<R>> ElementValue<R> for HalfCauchy<B> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_ks, lpdf, test_rng, ScalarFamily};
    use proptest::prelude::*;
    use statrs::distribution::{Cauchy, Continuous};

    proptest! {
        #[test]
        fn log_density_matches_folded_cauchy(beta in 0.01f64..20.0, x in 0.0f64..100.0) {
            let ours = lpdf(&HalfCauchy::new(beta).unwrap(), x);
            let theirs = LN_2 + Cauchy::new(0.0, beta).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            HalfCauchy::new(a[1])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            HalfCauchy::new(a[3])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.7], 1e-5);
        check_gradients(&Scalars, &[30.0, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = HalfCauchy::new(1.0).unwrap();
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
    fn samples_match_cdf() {
        let beta = 2.5;
        let d = HalfCauchy::new(beta).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(6), 20_000, &mut xs);
        assert!(xs.iter().all(|x| *x >= 0.0));
        check_ks(&mut xs, |x| (x / beta).atan() / FRAC_PI_2);
        // The median is β.
        assert!((xs[10_000] - beta).abs() < 0.1);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(HalfCauchy::new(0.0).unwrap_err().parameter, "beta");
        assert_eq!(
            HalfCauchy::new(f64::NEG_INFINITY).unwrap_err().parameter,
            "beta"
        );
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path;

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40)
            .map(|i| (i as f64 * 0.7).sin().abs() * 6.0)
            .collect();
        check_columns_path(|p| HalfCauchy::new(p[0]).unwrap(), &[0.8], &x);
    }
}
