//! The skew-normal distribution.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::special::HALF_LN_2PI;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::LN_2;

/// Skew-normal distribution with location `xi`, scale `omega` and shape `alpha` (Stan's
/// `skew_normal(xi, omega, alpha)`), with `z = (x−ξ)/ω`:
/// `ln p(x) = ln 2 − ln ω − ½ ln 2π − ½z² + ln Φ(αz)`.
///
/// With `δ = α/√(1+α²)`, the mean is `ξ + ωδ√(2/π)` and the variance
/// `ω²(1 − 2δ²/π)`. `alpha = 0` gives the normal distribution.
///
/// ```
/// use ppl_core::dist::{Distribution, SkewNormal};
/// use ppl_core::param::Param;
/// let d = SkewNormal::new(0.0, 1.0, 0.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0.0)).unwrap();
/// assert!((lp - -0.91893853).abs() < 1e-8);
/// assert!(SkewNormal::new(0.0, -1.0, 2.0).is_err());
///
/// // Arguments: location ξ, scale ω, shape α (α > 0 skews to the right). Written out
/// // at ξ = 1, ω = 2, α = 3, x = 0.5, with Φ the standard normal CDF:
/// use ppl_core::special::std_normal_cdf;
/// let (xi, omega, alpha, x) = (1.0_f64, 2.0_f64, 3.0_f64, 0.5_f64);
/// let d = SkewNormal::new(xi, omega, alpha).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
/// let z = (x - xi) / omega;
/// let want = 2f64.ln() - omega.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() - 0.5 * z * z
///     + std_normal_cdf(alpha * z).ln();
/// assert!((lp - want).abs() < 1e-13);
/// let err = SkewNormal::new(0.0, 1.0, f64::INFINITY).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("alpha", "must be finite"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SkewNormal<X, O, A> {
    xi: X,
    omega: O,
    alpha: A,
}

impl<X: ParamValues, O: ParamValues, A: ParamValues> SkewNormal<X, O, A> {
    /// Builds the distribution; `xi` and `alpha` must be finite and `omega` positive.
    pub fn new(xi: X, omega: O, alpha: A) -> Result<Self, ParamError> {
        check_param("SkewNormal", "xi", &xi, "must be finite", |_| true)?;
        check_param("SkewNormal", "omega", &omega, "must be positive", |o| {
            o > 0.0
        })?;
        check_param("SkewNormal", "alpha", &alpha, "must be finite", |_| true)?;
        Ok(SkewNormal { xi, omega, alpha })
    }
}

struct SkewNormalKernel;

impl Kernel<4> for SkewNormalKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, xi, omega, alpha]: [R; 4]) -> R {
        let z = (x - xi) / omega;
        z * z * -0.5 - omega.ln() + (alpha * z).std_normal_log_cdf() + (LN_2 - HALF_LN_2PI)
    }
}

impl<X, O, A> SkewNormal<X, O, A> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 4]
    where
        X: Param<R>,
        O: Param<R>,
        A: Param<R>,
    {
        [
            x,
            self.xi.operand(),
            self.omega.operand(),
            self.alpha.operand(),
        ]
    }
}

const NAMES: [&str; 4] = ["x", "xi", "omega", "alpha"];

impl<R: Real, X: Param<R>, O: Param<R>, A: Param<R>> Distribution<R> for SkewNormal<X, O, A> {
    type Value = R;

    fn name(&self) -> &'static str {
        "SkewNormal"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["xi", "omega", "alpha"],
            &[
                self.xi.operand(),
                self.omega.operand(),
                self.alpha.operand(),
            ],
        )
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&NAMES, &ops)?;
        Ok(vectorized::sum(&SkewNormalKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&NAMES, &ops)?;
        vectorized::pointwise(&SkewNormalKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (xi, omega, alpha) = (
            self.xi.operand(),
            self.omega.operand(),
            self.alpha.operand(),
        );
        for i in 0..n {
            // Azzalini's representation: with δ = α/√(1+α²) and u0, v independent
            // standard normals, u1 = δu0 + √(1−δ²)v taken with the sign of u0.
            let a = alpha.value(i);
            let delta = a / (1.0 + a * a).sqrt();
            let u0: f64 = rand_distr::StandardNormal.sample(rng);
            let v: f64 = rand_distr::StandardNormal.sample(rng);
            let u1 = delta * u0 + (1.0 - delta * delta).sqrt() * v;
            let z = if u0 >= 0.0 { u1 } else { -u1 };
            out.push(xi.value(i) + omega.value(i) * z);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, X: Param<R>, O: Param<R>, A: Param<R>> ElementValue<R> for SkewNormal<X, O, A> {
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
        fn log_density_matches_closed_form(
            xi in -5.0f64..5.0,
            omega in 0.1f64..10.0,
            alpha in -5.0f64..5.0,
            z in -5.0f64..5.0,
        ) {
            let x = xi + omega * z;
            let ours = lpdf(&SkewNormal::new(xi, omega, alpha).unwrap(), x);
            let std = Normal::new(0.0, 1.0).unwrap();
            let theirs = LN_2 + Normal::new(xi, omega).unwrap().ln_pdf(x)
                + std.cdf(alpha * (x - xi) / omega).ln();
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            SkewNormal::new(a[1], a[2], a[3])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            SkewNormal::new(a[3], a[4], a[5])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5, 0.7, 2.0], 1e-5);
        check_gradients(&Scalars, &[-3.0, 1.0, 2.5, -4.0], 1e-5);
        check_gradients(&Scalars, &[-8.0, 0.0, 1.0, 5.0], 1e-5);
        check_gradients(&SliceX, &[0.4, -1.1, 2.7, 0.3, 1.8, 1.5], 1e-5);
    }

    /// CDF by trapezoidal integration of the density on a fine grid, interpolated.
    fn tabulated_cdf(pdf: impl Fn(f64) -> f64, lo: f64, hi: f64, m: usize) -> impl Fn(f64) -> f64 {
        let h = (hi - lo) / m as f64;
        let mut cum = Vec::with_capacity(m + 1);
        cum.push(0.0);
        let mut prev = pdf(lo);
        for k in 1..=m {
            let next = pdf(lo + k as f64 * h);
            let last = *cum.last().unwrap();
            cum.push(last + 0.5 * h * (prev + next));
            prev = next;
        }
        move |x: f64| {
            if x <= lo {
                return 0.0;
            }
            if x >= hi {
                return 1.0;
            }
            let t = (x - lo) / h;
            let k = (t.floor() as usize).min(m - 1);
            let f = t - k as f64;
            cum[k] * (1.0 - f) + cum[k + 1] * f
        }
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (xi, omega, alpha) = (1.0, 2.0, 4.0);
        let d = SkewNormal::new(xi, omega, alpha).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(19), 20_000, &mut xs);
        let delta: f64 = alpha / (1.0f64 + alpha * alpha).sqrt();
        check_moments(
            &xs,
            xi + omega * delta * (2.0 / PI).sqrt(),
            omega * omega * (1.0 - 2.0 * delta * delta / PI),
        );
        let cdf = tabulated_cdf(
            |x| lpdf(&d, x).exp(),
            xi - 12.0 * omega,
            xi + 12.0 * omega,
            200_000,
        );
        assert!((cdf(xi + 12.0 * omega - 1e-9) - 1.0).abs() < 1e-6);
        check_ks(&mut xs, cdf);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(
            SkewNormal::new(f64::NAN, 1.0, 0.0).unwrap_err().parameter,
            "xi"
        );
        assert_eq!(
            SkewNormal::new(0.0, 0.0, 0.0).unwrap_err().parameter,
            "omega"
        );
        assert_eq!(
            SkewNormal::new(0.0, 1.0, f64::INFINITY)
                .unwrap_err()
                .parameter,
            "alpha"
        );
    }
}
