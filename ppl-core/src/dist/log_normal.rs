//! The log-normal distribution.

use super::{param_batch_len, support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::special::HALF_LN_2PI;
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Log-normal distribution: `ln x` is normal with mean `mu` and standard deviation
/// `sigma`. With `z = (ln x − μ)/σ`:
/// `ln p(x) = −½z² − ln x − ln σ − ½ ln 2π` for `x > 0`.
///
/// The mean is `exp(μ + σ²/2)` and the variance `(exp(σ²) − 1) exp(2μ + σ²)`. The
/// log-density is −∞ for `x ≤ 0`.
///
/// ```
/// use ppl_core::dist::{Distribution, LogNormal};
/// use ppl_core::param::Param;
/// let d = LogNormal::new(0.0, 1.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1.0)).unwrap();
/// assert!((lp - -0.91893853).abs() < 1e-8);
/// assert!(LogNormal::new(0.0, 0.0).is_err());
///
/// // μ and σ are the mean and standard deviation of ln x (the median is e^μ, the mean
/// // e^{μ+σ²/2}). Written out at μ = 0.5, σ = 0.8, x = 2.5:
/// let (mu, sigma, x) = (0.5_f64, 0.8_f64, 2.5_f64);
/// let d = LogNormal::new(mu, sigma).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
/// let z = (x.ln() - mu) / sigma;
/// let want = -0.5 * z * z - x.ln() - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
/// assert!((lp - want).abs() < 1e-14);
/// // x = 0 and negative values are outside the support.
/// for x in [0.0, -1.0] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// assert_eq!(LogNormal::new(f64::INFINITY, 1.0).unwrap_err().parameter, "mu");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LogNormal<M, S> {
    mu: M,
    sigma: S,
}

impl<M: ParamValues, S: ParamValues> LogNormal<M, S> {
    /// Builds the distribution; `mu` must be finite and `sigma` positive.
    pub fn new(mu: M, sigma: S) -> Result<Self, ParamError> {
        check_param("LogNormal", "mu", &mu, "must be finite", |_| true)?;
        check_param("LogNormal", "sigma", &sigma, "must be positive", |s| {
            s > 0.0
        })?;
        Ok(LogNormal { mu, sigma })
    }
}

struct LogNormalKernel;

impl Kernel<3> for LogNormalKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, mu, sigma]: [R; 3]) -> R {
        let ln_x = x.ln();
        let z = (ln_x - mu) / sigma;
        z * z * -0.5 - ln_x - sigma.ln() - HALF_LN_2PI
    }
    #[inline]
    fn eval_partials(&self, [x, mu, sigma]: [f64; 3]) -> (f64, [f64; 3]) {
        let ln_x = x.ln();
        let inv = 1.0 / sigma;
        let z = (ln_x - mu) * inv;
        (
            -0.5 * z * z - ln_x - sigma.ln() - HALF_LN_2PI,
            [-(1.0 + z * inv) / x, z * inv, (z * z - 1.0) * inv],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        let [x, mu, sigma] = cols;
        crate::vectorized::columns_sum(x.len(), partials, |values, d| {
            log_normal_rows(x, mu, sigma, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns: values and partials (x, μ, σ); `false` where the
    /// branch-free logarithm does not apply.
    fn log_normal_rows(x: &[f64], mu: &[f64], sigma: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let (x, mu, sigma) = (&x[..n], &mu[..n], &sigma[..n]);
        let [d_x, d_mu, d_sigma] = d;
        let (d_x, d_mu, d_sigma) = (&mut d_x[..n], &mut d_mu[..n], &mut d_sigma[..n]);
        let mut ok = true;
        for i in 0..n {
            let (xi, s) = (x[i], sigma[i]);
            ok &= crate::vecmath::in_ln_normal_range(xi) & crate::vecmath::in_ln_normal_range(s);
            let ln_x = crate::vecmath::ln_normal_with::<FMA>(xi);
            let inv = 1.0 / s;
            let z = (ln_x - mu[i]) * inv;
            values[i] = -0.5 * z * z - ln_x - crate::vecmath::ln_normal_with::<FMA>(s) - HALF_LN_2PI;
            d_x[i] = -(1.0 + z * inv) / xi;
            d_mu[i] = z * inv;
            d_sigma[i] = (z * z - 1.0) * inv;
        }
        ok
    }
}

impl<M, S> LogNormal<M, S> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        M: Param<R>,
        S: Param<R>,
    {
        [x, self.mu.operand(), self.sigma.operand()]
    }
}

const NAMES: [&str; 3] = ["x", "mu", "sigma"];

impl<R: Real, M: Param<R>, S: Param<R>> Distribution<R> for LogNormal<M, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "LogNormal"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["mu", "sigma"], &[self.mu.operand(), self.sigma.operand()])
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        sum_in_support(&LogNormalKernel, &NAMES, &ops, support::positive)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        pointwise_in_support(&LogNormalKernel, &NAMES, &ops, support::positive, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (mu, sigma) = (self.mu.operand(), self.sigma.operand());
        for i in 0..n {
            let x = rand_distr::LogNormal::new(mu.value(i), sigma.value(i))
                .map_or(f64::NAN, |d| d.sample(rng));
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, M: Param<R>, S: Param<R>> ElementValue<R> for LogNormal<M, S> {
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
        fn log_density_matches_statrs(
            mu in -5.0f64..5.0,
            sigma in 0.05f64..5.0,
            x in 0.001f64..100.0,
        ) {
            let ours = lpdf(&LogNormal::new(mu, sigma).unwrap(), x);
            let theirs = statrs::distribution::LogNormal::new(mu, sigma).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            LogNormal::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            LogNormal::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[0.05, -1.0, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 0.3, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = LogNormal::new(0.0, 1.0).unwrap();
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
        let (mu, sigma) = (0.5, 0.3);
        let d = LogNormal::new(mu, sigma).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(10), 20_000, &mut xs);
        let s2 = sigma * sigma;
        check_moments(
            &xs,
            (mu + 0.5 * s2).exp(),
            s2.exp_m1() * (2.0 * mu + s2).exp(),
        );
        let reference = statrs::distribution::LogNormal::new(mu, sigma).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(LogNormal::new(f64::NAN, 1.0).unwrap_err().parameter, "mu");
        assert_eq!(LogNormal::new(0.0, -1.0).unwrap_err().parameter, "sigma");
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path;

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40)
            .map(|i| 0.05 + (i as f64 * 0.7).sin().abs() * 4.0)
            .collect();
        check_columns_path(|p| LogNormal::new(p[0], p[1]).unwrap(), &[0.3, 0.8], &x);
    }
}
