//! The Laplace (double exponential) distribution.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::LN_2;

/// Laplace distribution with location `mu` and scale `b` (Stan's
/// `double_exponential(mu, sigma)` with `sigma = b`):
/// `ln p(x) = −ln(2b) − |x − μ|/b`.
///
/// The mean is `μ` and the variance `2b²`. The density is not differentiable in `x`
/// and `μ` at `x = μ` (the derivative there is taken as 0).
///
/// ```
/// use ppl_core::dist::{Distribution, Laplace};
/// use ppl_core::param::Param;
/// let d = Laplace::new(1.0, 2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&-1.0)).unwrap();
/// assert!((lp - (-(4f64.ln()) - 1.0)).abs() < 1e-12);
/// assert!(Laplace::new(0.0, 0.0).is_err());
///
/// // `b` is the scale (the standard deviation is b√2); written out at μ = 1, b = 2:
/// let (mu, b) = (1.0_f64, 2.0_f64);
/// for x in [-1.0_f64, 1.0, 4.5] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert!((lp - (-(2.0 * b).ln() - (x - mu).abs() / b)).abs() < 1e-14);
/// }
/// let err = Laplace::new(0.0, -2.0).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("b", -2.0));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Laplace<M, B> {
    mu: M,
    b: B,
}

impl<M: ParamValues, B: ParamValues> Laplace<M, B> {
    /// Builds the distribution; `mu` must be finite and `b` positive.
    pub fn new(mu: M, b: B) -> Result<Self, ParamError> {
        check_param("Laplace", "mu", &mu, "must be finite", |_| true)?;
        check_param("Laplace", "b", &b, "must be positive", |s| s > 0.0)?;
        Ok(Laplace { mu, b })
    }
}

struct LaplaceKernel;

impl Kernel<3> for LaplaceKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, mu, b]: [R; 3]) -> R {
        -(x - mu).abs() / b - b.ln() - LN_2
    }
    #[inline]
    fn eval_partials(&self, [x, mu, b]: [f64; 3]) -> (f64, [f64; 3]) {
        let inv = 1.0 / b;
        let d = x - mu;
        let s = if d > 0.0 {
            inv
        } else if d < 0.0 {
            -inv
        } else {
            0.0
        };
        (
            -d.abs() * inv - b.ln() - LN_2,
            [-s, s, (d.abs() * inv - 1.0) * inv],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        let [x, mu, b] = cols;
        vectorized::columns_sum(x.len(), partials, |values, d| {
            laplace_rows(x, mu, b, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns: values and partials (x, μ, b), the slope in x being
    /// `−sign(x − μ)/b` (0 at the kink, as the element kernel); `false` where the
    /// branch-free logarithm does not apply.
    fn laplace_rows(x: &[f64], mu: &[f64], b: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let (x, mu, b) = (&x[..n], &mu[..n], &b[..n]);
        let [d_x, d_mu, d_b] = d;
        let (d_x, d_mu, d_b) = (&mut d_x[..n], &mut d_mu[..n], &mut d_b[..n]);
        let mut ok = true;
        for i in 0..n {
            let bi = b[i];
            ok &= crate::vecmath::in_ln_normal_range(bi);
            let inv = 1.0 / bi;
            let r = x[i] - mu[i];
            let s = if r > 0.0 { inv } else if r < 0.0 { -inv } else { 0.0 };
            values[i] = -r.abs() * inv - crate::vecmath::ln_normal_with::<FMA>(bi) - LN_2;
            d_x[i] = -s;
            d_mu[i] = s;
            d_b[i] = (r.abs() * inv - 1.0) * inv;
        }
        ok
    }
}

impl<M, B> Laplace<M, B> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        M: Param<R>,
        B: Param<R>,
    {
        [x, self.mu.operand(), self.b.operand()]
    }
}

impl<R: Real, M: Param<R>, B: Param<R>> Distribution<R> for Laplace<M, B> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Laplace"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["mu", "b"], &[self.mu.operand(), self.b.operand()])
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "mu", "b"], &ops)?;
        Ok(vectorized::sum(&LaplaceKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "mu", "b"], &ops)?;
        vectorized::pointwise(&LaplaceKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (mu, b) = (self.mu.operand(), self.b.operand());
        for i in 0..n {
            // Inverse CDF with v uniform on (−½, ½).
            let u: f64 = rand_distr::Open01.sample(rng);
            let v = u - 0.5;
            out.push(mu.value(i) - b.value(i) * v.signum() * (-2.0 * v.abs()).ln_1p());
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, M: Param<R>, B: Param<R>> ElementValue<R> for Laplace<M, B> {
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

    #[test]
    fn far_tail_matches_high_precision_value() {
        // mpmath at 40 digits: −ln(2b) − |x − μ|/b.
        let ours = lpdf(
            &Laplace::new(5.527653389749513, 0.04900919710178218).unwrap(),
            41.82530982084456,
        );
        assert!(
            (ours - -738.306_885_313_430_8).abs() < 1e-12 * 738.3,
            "{ours}"
        );
    }

    proptest! {
        #[test]
        fn log_density_matches_statrs(
            mu in -10.0f64..10.0,
            b in 0.01f64..20.0,
            x in -50.0f64..50.0,
        ) {
            // statrs takes ln of the pdf, which is subnormal beyond |x − μ|/b ≈ 700 and
            // loses digits there; compare inside its accurate range (the far tail is
            // checked against a high-precision value below).
            prop_assume!((x - mu).abs() / b < 600.0);
            let ours = lpdf(&Laplace::new(mu, b).unwrap(), x);
            let theirs = statrs::distribution::Laplace::new(mu, b).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Laplace::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Laplace::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[-3.0, 1.0, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, -1.1, 2.7, 0.3, 1.8], 1e-5);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (mu, b) = (-0.5, 1.5);
        let d = Laplace::new(mu, b).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(12), 20_000, &mut xs);
        check_moments(&xs, mu, 2.0 * b * b);
        let reference = statrs::distribution::Laplace::new(mu, b).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(Laplace::new(f64::NAN, 1.0).unwrap_err().parameter, "mu");
        assert_eq!(Laplace::new(0.0, -1.0).unwrap_err().parameter, "b");
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path;

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40).map(|i| (i as f64 * 0.7).sin() * 4.0).collect();
        check_columns_path(|p| Laplace::new(p[0], p[1]).unwrap(), &[0.3, 1.7], &x);
    }
}
