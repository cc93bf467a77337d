//! The inverse-gamma distribution (shape and scale).

use super::gamma::{ShapeCache, ShapeTerm};
use super::{param_batch_len, support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Inverse-gamma distribution with shape `alpha` and **scale** `beta` (Stan's
/// `inv_gamma(alpha, beta)`; `1/x` is gamma with shape `α` and rate `β`):
/// `ln p(x) = α ln β − ln Γ(α) − (α+1) ln x − β/x` for `x > 0`.
///
/// The mean is `β/(α−1)` (for `α > 1`) and the variance `β²/((α−1)²(α−2))` (for
/// `α > 2`). The log-density is −∞ for `x ≤ 0`.
///
/// ```
/// use ppl_core::dist::{Distribution, InverseGamma};
/// use ppl_core::param::Param;
/// let d = InverseGamma::new(3.0, 2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0.5)).unwrap();
/// assert!((lp - 0.15888308).abs() < 1e-8);
/// assert!(InverseGamma::new(0.0, 2.0).is_err());
///
/// // β is a scale here (the rate of the gamma distribution of 1/x); written out at
/// // α = 3, β = 2, x = 0.5:
/// use ppl_core::special::ln_gamma;
/// let (alpha, beta, x) = (3.0_f64, 2.0_f64, 0.5_f64);
/// let want = alpha * beta.ln() - ln_gamma(alpha) - (alpha + 1.0) * x.ln() - beta / x;
/// assert!((lp - want).abs() < 1e-13);
/// // The support is open: x = 0 and negative values have log-density −∞.
/// for x in [0.0, -0.5] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = InverseGamma::new(3.0, -2.0).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("beta", -2.0));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct InverseGamma<A, B> {
    alpha: A,
    beta: B,
}

impl<A: ParamValues, B: ParamValues> InverseGamma<A, B> {
    /// Builds the distribution; `alpha` (shape) and `beta` (scale) must be positive.
    pub fn new(alpha: A, beta: B) -> Result<Self, ParamError> {
        check_param("InverseGamma", "alpha", &alpha, "must be positive", |a| {
            a > 0.0
        })?;
        check_param("InverseGamma", "beta", &beta, "must be positive", |b| {
            b > 0.0
        })?;
        Ok(InverseGamma { alpha, beta })
    }
}

/// The element kernel; a scalar shape has `ln Γ(α)` and `ψ(α)` computed once per call.
struct InverseGammaKernel(ShapeCache);

impl Kernel<3> for InverseGammaKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, alpha, beta]: [R; 3]) -> R {
        alpha * beta.ln() + self.0.neg_ln_gamma(alpha) - (alpha + 1.0) * x.ln() - beta / x
    }
    #[inline]
    fn eval_partials(&self, [x, alpha, beta]: [f64; 3]) -> (f64, [f64; 3]) {
        let t = self.0.term(alpha);
        let (ln_x, ln_b) = (x.ln(), beta.ln());
        let inv_x = 1.0 / x;
        (
            alpha * ln_b + t.value - (alpha + 1.0) * ln_x - beta * inv_x,
            [
                (beta * inv_x - (alpha + 1.0)) * inv_x,
                ln_b + t.deriv - ln_x,
                alpha / beta - inv_x,
            ],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        // The vectorised loop needs a scalar shape (ln Γ and ψ computed once).
        let t = self.0.cached()?;
        let [x, _, beta] = cols;
        crate::vectorized::columns_sum(x.len(), partials, |values, d| {
            inverse_gamma_rows(x, beta, t, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns with one shape: values and partials (x, α, β); `false`
    /// where the branch-free logarithm does not apply.
    fn inverse_gamma_rows(x: &[f64], beta: &[f64], t: ShapeTerm, values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let (x, beta) = (&x[..n], &beta[..n]);
        let [d_x, d_a, d_b] = d;
        let (d_x, d_a, d_b) = (&mut d_x[..n], &mut d_a[..n], &mut d_b[..n]);
        let a = t.alpha;
        let mut ok = true;
        for i in 0..n {
            let (xi, bi) = (x[i], beta[i]);
            ok &= crate::vecmath::in_ln_normal_range(xi) & crate::vecmath::in_ln_normal_range(bi);
            let (ln_x, ln_b) = (crate::vecmath::ln_normal_with::<FMA>(xi), crate::vecmath::ln_normal_with::<FMA>(bi));
            let inv_x = 1.0 / xi;
            values[i] = a * ln_b + t.value - (a + 1.0) * ln_x - bi * inv_x;
            d_x[i] = (bi * inv_x - (a + 1.0)) * inv_x;
            d_a[i] = ln_b + t.deriv - ln_x;
            d_b[i] = a / bi - inv_x;
        }
        ok
    }
}

impl<A, B> InverseGamma<A, B> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        A: Param<R>,
        B: Param<R>,
    {
        [x, self.alpha.operand(), self.beta.operand()]
    }
}

const NAMES: [&str; 3] = ["x", "alpha", "beta"];

impl<R: Real, A: Param<R>, B: Param<R>> Distribution<R> for InverseGamma<A, B> {
    type Value = R;

    fn name(&self) -> &'static str {
        "InverseGamma"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["alpha", "beta"],
            &[self.alpha.operand(), self.beta.operand()],
        )
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let kernel = InverseGammaKernel(ShapeCache::new(ops[1]));
        sum_in_support(&kernel, &NAMES, &ops, support::positive)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let kernel = InverseGammaKernel(ShapeCache::new(ops[1]));
        pointwise_in_support(&kernel, &NAMES, &ops, support::positive, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (alpha, beta) = (self.alpha.operand(), self.beta.operand());
        for i in 0..n {
            // 1/x is gamma with shape α and rate β (scale 1/β).
            let g = rand_distr::Gamma::new(alpha.value(i), 1.0 / beta.value(i))
                .map_or(f64::NAN, |g| g.sample(rng));
            out.push(1.0 / g);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> ElementValue<R> for InverseGamma<A, B> {
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
            alpha in 0.1f64..10.0,
            beta in 0.1f64..10.0,
            x in 0.05f64..20.0,
        ) {
            let ours = lpdf(&InverseGamma::new(alpha, beta).unwrap(), x);
            // statrs calls the scale β of this parameterisation its "rate".
            let theirs = statrs::distribution::InverseGamma::new(alpha, beta).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            InverseGamma::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            InverseGamma::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 2.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[0.2, 0.6, 3.0], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 1.8, 0.9], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = InverseGamma::new(2.0, 1.0).unwrap();
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
        let (alpha, beta) = (8.0, 3.0);
        let d = InverseGamma::new(alpha, beta).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(7), 20_000, &mut xs);
        check_moments(
            &xs,
            beta / (alpha - 1.0),
            beta * beta / ((alpha - 1.0).powi(2) * (alpha - 2.0)),
        );
        let reference = statrs::distribution::InverseGamma::new(alpha, beta).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(InverseGamma::new(0.0, 1.0).unwrap_err().parameter, "alpha");
        assert_eq!(InverseGamma::new(1.0, -1.0).unwrap_err().parameter, "beta");
        assert_eq!(
            InverseGamma::new(1.0, f64::NAN).unwrap_err().requirement,
            "must be finite"
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
            .map(|i| 0.05 + (i as f64 * 0.7).sin().abs() * 4.0)
            .collect();
        check_columns_path(|p| InverseGamma::new(p[0], p[1]).unwrap(), &[2.5, 1.3], &x);
    }
}
