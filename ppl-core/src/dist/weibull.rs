//! The Weibull distribution.

use super::{param_batch_len, support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Weibull distribution with shape `alpha` and scale `sigma` (Stan's
/// `weibull(alpha, sigma)`):
/// `ln p(x) = ln α − ln σ + (α−1) ln(x/σ) − (x/σ)^α` for `x > 0`.
///
/// The mean is `σ Γ(1 + 1/α)` and the variance `σ²(Γ(1 + 2/α) − Γ(1 + 1/α)²)`. The
/// log-density is −∞ for `x ≤ 0`.
///
/// ```
/// use ppl_core::dist::{Distribution, Weibull};
/// use ppl_core::param::Param;
/// let d = Weibull::new(2.0, 3.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1.5)).unwrap();
/// assert!((lp - (2f64.ln() - 3f64.ln() + 0.5f64.ln() - 0.25)).abs() < 1e-12);
/// assert!(Weibull::new(0.0, 3.0).is_err());
///
/// // Shape first, then scale (rand_distr's `Weibull::new` takes them the other way
/// // round). Written out at α = 0.7, σ = 3, x = 1.5:
/// let (alpha, sigma, x) = (0.7_f64, 3.0_f64, 1.5_f64);
/// let lp: f64 = Weibull::new(alpha, sigma).unwrap().log_density(Param::<f64>::operand(&x)).unwrap();
/// let want = alpha.ln() - sigma.ln() + (alpha - 1.0) * (x / sigma).ln() - (x / sigma).powf(alpha);
/// assert!((lp - want).abs() < 1e-14);
/// // x = 0 and negative values are outside the support.
/// for x in [0.0, -1.5] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// assert_eq!(Weibull::new(2.0, -3.0).unwrap_err().parameter, "sigma");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Weibull<A, S> {
    alpha: A,
    sigma: S,
}

impl<A: ParamValues, S: ParamValues> Weibull<A, S> {
    /// Builds the distribution; `alpha` (shape) and `sigma` (scale) must be positive.
    pub fn new(alpha: A, sigma: S) -> Result<Self, ParamError> {
        check_param("Weibull", "alpha", &alpha, "must be positive", |a| a > 0.0)?;
        check_param("Weibull", "sigma", &sigma, "must be positive", |s| s > 0.0)?;
        Ok(Weibull { alpha, sigma })
    }
}

struct WeibullKernel;

impl Kernel<3> for WeibullKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, alpha, sigma]: [R; 3]) -> R {
        let ln_sigma = sigma.ln();
        let ln_z = x.ln() - ln_sigma;
        alpha.ln() - ln_sigma + (alpha - 1.0) * ln_z - (alpha * ln_z).exp()
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        let [x, alpha, sigma] = cols;
        crate::vectorized::columns_sum(x.len(), partials, |values, d| {
            weibull_rows(x, alpha, sigma, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns: values and partials (x, α, σ) with `z = x/σ`:
    /// `∂x = (α − 1 − α zᵅ)/x`, `∂α = 1/α + (1 − zᵅ) ln z`, `∂σ = α (zᵅ − 1)/σ`; `false`
    /// where the branch-free functions do not apply or a value is not finite.
    fn weibull_rows(x: &[f64], alpha: &[f64], sigma: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let (x, alpha, sigma) = (&x[..n], &alpha[..n], &sigma[..n]);
        let [d_x, d_a, d_s] = d;
        let (d_x, d_a, d_s) = (&mut d_x[..n], &mut d_a[..n], &mut d_s[..n]);
        let mut ok = true;
        for i in 0..n {
            let (xi, a, s) = (x[i], alpha[i], sigma[i]);
            ok &= crate::vecmath::in_ln_normal_range(xi) & crate::vecmath::in_ln_normal_range(a) & crate::vecmath::in_ln_normal_range(s);
            let ln_s = crate::vecmath::ln_normal_with::<FMA>(s);
            let ln_z = crate::vecmath::ln_normal_with::<FMA>(xi) - ln_s;
            let za = crate::vecmath::exp_with::<FMA>(a * ln_z);
            let v = crate::vecmath::ln_normal_with::<FMA>(a) - ln_s + (a - 1.0) * ln_z - za;
            ok &= v.is_finite();
            values[i] = v;
            d_x[i] = (a - 1.0 - a * za) / xi;
            d_a[i] = 1.0 / a + (1.0 - za) * ln_z;
            d_s[i] = a * (za - 1.0) / s;
        }
        ok
    }
}

impl<A, S> Weibull<A, S> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        A: Param<R>,
        S: Param<R>,
    {
        [x, self.alpha.operand(), self.sigma.operand()]
    }
}

const NAMES: [&str; 3] = ["x", "alpha", "sigma"];

impl<R: Real, A: Param<R>, S: Param<R>> Distribution<R> for Weibull<A, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Weibull"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["alpha", "sigma"],
            &[self.alpha.operand(), self.sigma.operand()],
        )
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        sum_in_support(&WeibullKernel, &NAMES, &ops, support::positive)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        pointwise_in_support(&WeibullKernel, &NAMES, &ops, support::positive, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (alpha, sigma) = (self.alpha.operand(), self.sigma.operand());
        for i in 0..n {
            // rand_distr takes (scale, shape).
            let x = rand_distr::Weibull::new(sigma.value(i), alpha.value(i))
                .map_or(f64::NAN, |d| d.sample(rng));
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, A: Param<R>, S: Param<R>> ElementValue<R> for Weibull<A, S> {
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
    use crate::special::ln_gamma;
    use proptest::prelude::*;
    use statrs::distribution::{Continuous, ContinuousCDF};

    proptest! {
        #[test]
        fn log_density_matches_statrs(
            alpha in 0.1f64..10.0,
            sigma in 0.05f64..20.0,
            x in 0.001f64..50.0,
        ) {
            let ours = lpdf(&Weibull::new(alpha, sigma).unwrap(), x);
            let theirs = statrs::distribution::Weibull::new(alpha, sigma).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Weibull::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Weibull::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[3.0, 4.0, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 1.3, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = Weibull::new(2.0, 1.0).unwrap();
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
        let (alpha, sigma) = (1.5, 2.0);
        let d = Weibull::new(alpha, sigma).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(14), 20_000, &mut xs);
        let g1 = ln_gamma(1.0 + 1.0 / alpha).exp();
        let g2 = ln_gamma(1.0 + 2.0 / alpha).exp();
        check_moments(&xs, sigma * g1, sigma * sigma * (g2 - g1 * g1));
        let reference = statrs::distribution::Weibull::new(alpha, sigma).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(Weibull::new(0.0, 1.0).unwrap_err().parameter, "alpha");
        assert_eq!(Weibull::new(1.0, -1.0).unwrap_err().parameter, "sigma");
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
        check_columns_path(|p| Weibull::new(p[0], p[1]).unwrap(), &[1.7, 1.3], &x);
    }
}
