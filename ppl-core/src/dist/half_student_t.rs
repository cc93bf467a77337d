//! The half-Student-t distribution.

use super::student_t::NuCache;
use super::{param_batch_len, support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::LN_2;

/// Half-Student-t distribution with `nu` degrees of freedom and scale `sigma` (a
/// zero-location Student's t folded onto `x ≥ 0`, PyMC's `HalfStudentT(nu, sigma)`),
/// with `z = x/σ`:
/// `ln p(x) = ln 2 + ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(νπ) − ln σ − (ν+1)/2 · ln(1 + z²/ν)`
/// for `x ≥ 0`.
///
/// The log-density is −∞ for `x < 0`.
///
/// ```
/// use ppl_core::dist::{Distribution, HalfStudentT};
/// use ppl_core::param::Param;
/// let d = HalfStudentT::new(3.0, 2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1.0)).unwrap();
/// assert!((lp - -1.16097426).abs() < 1e-8);
/// assert!(HalfStudentT::new(3.0, -2.0).is_err());
///
/// // Arguments: degrees of freedom, then scale. Twice the Student-t density, written
/// // out at ν = 3, σ = 2, x = 1:
/// use ppl_core::special::ln_gamma;
/// let (nu, sigma, x) = (3.0_f64, 2.0_f64, 1.0_f64);
/// let z = x / sigma;
/// let want = 2f64.ln() + ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0)
///     - 0.5 * (nu * std::f64::consts::PI).ln()
///     - sigma.ln()
///     - (nu + 1.0) / 2.0 * (1.0 + z * z / nu).ln();
/// assert!((lp - want).abs() < 1e-12);
/// // Negative values are outside the support.
/// let below: f64 = d.log_density(Param::<f64>::operand(&-1.0)).unwrap();
/// assert_eq!(below, f64::NEG_INFINITY);
/// assert_eq!(HalfStudentT::new(0.0, 2.0).unwrap_err().parameter, "nu");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HalfStudentT<N, S> {
    nu: N,
    sigma: S,
}

impl<N: ParamValues, S: ParamValues> HalfStudentT<N, S> {
    /// Builds the distribution; `nu` and `sigma` must be positive.
    pub fn new(nu: N, sigma: S) -> Result<Self, ParamError> {
        check_param("HalfStudentT", "nu", &nu, "must be positive", |v| v > 0.0)?;
        check_param("HalfStudentT", "sigma", &sigma, "must be positive", |s| {
            s > 0.0
        })?;
        Ok(HalfStudentT { nu, sigma })
    }
}

/// The element kernel; a scalar `nu` has its log-gamma terms computed once per call (the
/// ν-dependent term `ln 2 + ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(νπ)` is the Student-t one
/// offset by `ln 2`).
struct HalfStudentTKernel(NuCache);

impl Kernel<3> for HalfStudentTKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, nu, sigma]: [R; 3]) -> R {
        let z = x / sigma;
        self.0.norm(nu) - sigma.ln() - (nu + 1.0) * 0.5 * (z * z / nu).ln_1p()
    }
    #[inline]
    fn eval_partials(&self, [x, nu, sigma]: [f64; 3]) -> (f64, [f64; 3]) {
        let t = self.0.term(nu);
        let inv = 1.0 / sigma;
        let z = x * inv;
        let z2 = z * z;
        let r = z2 / nu;
        let l1p = r.ln_1p();
        let w = (nu + 1.0) / (nu + z2);
        (
            t.value - sigma.ln() - 0.5 * (nu + 1.0) * l1p,
            [
                -w * z * inv,
                t.deriv + 0.5 * (w * r - l1p),
                (w * z2 - 1.0) * inv,
            ],
        )
    }
}

impl<N, S> HalfStudentT<N, S> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        N: Param<R>,
        S: Param<R>,
    {
        [x, self.nu.operand(), self.sigma.operand()]
    }
}

const NAMES: [&str; 3] = ["x", "nu", "sigma"];

impl<R: Real, N: Param<R>, S: Param<R>> Distribution<R> for HalfStudentT<N, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "HalfStudentT"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["nu", "sigma"], &[self.nu.operand(), self.sigma.operand()])
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let kernel = HalfStudentTKernel(NuCache::new(ops[1], LN_2));
        sum_in_support(&kernel, &NAMES, &ops, support::non_negative)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let kernel = HalfStudentTKernel(NuCache::new(ops[1], LN_2));
        pointwise_in_support(&kernel, &NAMES, &ops, support::non_negative, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (nu, sigma) = (self.nu.operand(), self.sigma.operand());
        for i in 0..n {
            let t = rand_distr::StudentT::new(nu.value(i)).map_or(f64::NAN, |d| d.sample(rng));
            out.push(sigma.value(i) * t.abs());
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, N: Param<R>, S: Param<R>> ElementValue<R> for HalfStudentT<N, S> {
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
    use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};
    use std::f64::consts::PI;

    proptest! {
        #[test]
        fn log_density_matches_folded_student_t(
            nu in 0.1f64..100.0,
            sigma in 0.05f64..20.0,
            x in 0.0f64..50.0,
        ) {
            let ours = lpdf(&HalfStudentT::new(nu, sigma).unwrap(), x);
            let theirs = LN_2 + StudentsT::new(0.0, sigma, nu).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            HalfStudentT::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            HalfStudentT::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 4.0, 0.7], 1e-5);
        check_gradients(&Scalars, &[3.0, 0.8, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 6.0, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = HalfStudentT::new(3.0, 1.0).unwrap();
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
        let (nu, sigma) = (10.0, 1.5);
        let d = HalfStudentT::new(nu, sigma).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(4), 20_000, &mut xs);
        let mean = 2.0
            * sigma
            * (nu / PI).sqrt()
            * (ln_gamma(0.5 * (nu + 1.0)) - ln_gamma(0.5 * nu)).exp()
            / (nu - 1.0);
        check_moments(&xs, mean, sigma * sigma * nu / (nu - 2.0) - mean * mean);
        let reference = StudentsT::new(0.0, sigma, nu).unwrap();
        check_ks(&mut xs, |x| 2.0 * reference.cdf(x) - 1.0);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(HalfStudentT::new(-1.0, 1.0).unwrap_err().parameter, "nu");
        assert_eq!(HalfStudentT::new(1.0, 0.0).unwrap_err().parameter, "sigma");
        assert_eq!(
            HalfStudentT::new(1.0, f64::NAN).unwrap_err().requirement,
            "must be finite"
        );
    }
}
