//! The Cauchy distribution.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::special::LN_PI;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Cauchy distribution with location `alpha` and scale `beta` (Stan's
/// `cauchy(alpha, beta)`), with `z = (x−α)/β`: `ln p(x) = −ln π − ln β − ln(1 + z²)`.
///
/// The mean and variance are undefined.
///
/// ```
/// use ppl_core::dist::{Cauchy, Distribution};
/// use ppl_core::param::Param;
/// let d = Cauchy::new(1.0, 2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&3.0)).unwrap();
/// assert!((lp - -2.53102425).abs() < 1e-8);
/// assert!(Cauchy::new(0.0, 0.0).is_err());
///
/// // Location α = 1, scale β = 2 (the half-width at half-maximum), written out:
/// let (alpha, beta, x) = (1.0_f64, 2.0_f64, 3.0_f64);
/// let z = (x - alpha) / beta;
/// let want = -std::f64::consts::PI.ln() - beta.ln() - (1.0 + z * z).ln();
/// assert!((lp - want).abs() < 1e-14);
/// let err = Cauchy::new(0.0, -1.0).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("beta", -1.0));
/// assert_eq!(Cauchy::new(f64::NAN, 1.0).unwrap_err().parameter, "alpha");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Cauchy<A, B> {
    alpha: A,
    beta: B,
}

impl<A: ParamValues, B: ParamValues> Cauchy<A, B> {
    /// Builds the distribution; `alpha` (location) must be finite and `beta` (scale)
    /// positive.
    pub fn new(alpha: A, beta: B) -> Result<Self, ParamError> {
        check_param("Cauchy", "alpha", &alpha, "must be finite", |_| true)?;
        check_param("Cauchy", "beta", &beta, "must be positive", |b| b > 0.0)?;
        Ok(Cauchy { alpha, beta })
    }
}

struct CauchyKernel;

impl Kernel<3> for CauchyKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, alpha, beta]: [R; 3]) -> R {
        let z = (x - alpha) / beta;
        -(z * z).ln_1p() - beta.ln() - LN_PI
    }
    #[inline]
    fn eval_partials(&self, [x, alpha, beta]: [f64; 3]) -> (f64, [f64; 3]) {
        let inv = 1.0 / beta;
        let z = (x - alpha) * inv;
        let z2 = z * z;
        let d = 2.0 * z * inv / (1.0 + z2);
        (
            -z2.ln_1p() - beta.ln() - LN_PI,
            [-d, d, (z2 - 1.0) * inv / (1.0 + z2)],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        let [x, alpha, beta] = cols;
        vectorized::columns_sum(x.len(), partials, |values, d| {
            cauchy_rows(x, alpha, beta, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns: values and partials (x, α, β); `false` where the
    /// branch-free logarithm does not apply.
    fn cauchy_rows(x: &[f64], alpha: &[f64], beta: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let (x, alpha, beta) = (&x[..n], &alpha[..n], &beta[..n]);
        let [d_x, d_alpha, d_beta] = d;
        let (d_x, d_alpha, d_beta) = (&mut d_x[..n], &mut d_alpha[..n], &mut d_beta[..n]);
        let mut ok = true;
        for i in 0..n {
            let b = beta[i];
            let inv = 1.0 / b;
            let z = (x[i] - alpha[i]) * inv;
            let z2 = z * z;
            let opz2 = 1.0 + z2;
            ok &= crate::vecmath::in_ln_normal_range(b) & (opz2 <= f64::MAX);
            let dz = 2.0 * z * inv / opz2;
            values[i] = -crate::vecmath::ln_normal_with::<FMA>(opz2) - crate::vecmath::ln_normal_with::<FMA>(b) - LN_PI;
            d_x[i] = -dz;
            d_alpha[i] = dz;
            d_beta[i] = (z2 - 1.0) * inv / opz2;
        }
        ok
    }
}

impl<A, B> Cauchy<A, B> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        A: Param<R>,
        B: Param<R>,
    {
        [x, self.alpha.operand(), self.beta.operand()]
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> Distribution<R> for Cauchy<A, B> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Cauchy"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["alpha", "beta"],
            &[self.alpha.operand(), self.beta.operand()],
        )
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "alpha", "beta"], &ops)?;
        Ok(vectorized::sum(&CauchyKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "alpha", "beta"], &ops)?;
        vectorized::pointwise(&CauchyKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (alpha, beta) = (self.alpha.operand(), self.beta.operand());
        for i in 0..n {
            let x = rand_distr::Cauchy::new(alpha.value(i), beta.value(i))
                .map_or(f64::NAN, |d| d.sample(rng));
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> ElementValue<R> for Cauchy<A, B> {
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
    use statrs::distribution::{Continuous, ContinuousCDF};

    proptest! {
        #[test]
        fn log_density_matches_statrs(
            alpha in -10.0f64..10.0,
            beta in 0.01f64..20.0,
            x in -100.0f64..100.0,
        ) {
            let ours = lpdf(&Cauchy::new(alpha, beta).unwrap(), x);
            let theirs = statrs::distribution::Cauchy::new(alpha, beta).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Cauchy::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Cauchy::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[-30.0, 2.0, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, -1.1, 2.7, 0.3, 1.8], 1e-5);
    }

    #[test]
    fn samples_match_cdf() {
        let (alpha, beta) = (-1.0, 0.5);
        let d = Cauchy::new(alpha, beta).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(5), 20_000, &mut xs);
        let reference = statrs::distribution::Cauchy::new(alpha, beta).unwrap();
        // The median and quartiles are finite even though the moments are not.
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[10_000] - alpha).abs() < 0.05);
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(Cauchy::new(f64::NAN, 1.0).unwrap_err().parameter, "alpha");
        assert_eq!(Cauchy::new(0.0, 0.0).unwrap_err().parameter, "beta");
        assert_eq!(Cauchy::new(0.0, vec![1.0, -1.0]).unwrap_err().value, -1.0);
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path;

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40).map(|i| (i as f64 * 0.7).sin() * 6.0).collect();
        check_columns_path(|p| Cauchy::new(p[0], p[1]).unwrap(), &[0.3, 0.8], &x);
    }
}
