//! Student's t distribution with location and scale.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{digamma, ln_gamma};
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::PI;

/// Student's t distribution with `nu` degrees of freedom, location `mu` and scale
/// `sigma` (Stan's `student_t(nu, mu, sigma)`), with `z = (x−μ)/σ`:
/// `ln p(x) = ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(νπ) − ln σ − (ν+1)/2 · ln(1 + z²/ν)`.
///
/// The mean is `μ` (for `ν > 1`) and the variance `σ²ν/(ν−2)` (for `ν > 2`).
///
/// ```
/// use ppl_core::dist::{Distribution, StudentT};
/// use ppl_core::param::Param;
/// let d = StudentT::new(3.0, 1.0, 2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0.0)).unwrap();
/// assert!((lp - -1.85412145).abs() < 1e-8);
/// assert!(StudentT::new(0.0, 0.0, 1.0).is_err());
///
/// // Arguments: degrees of freedom, location, scale (not the standard deviation,
/// // which is σ√(ν/(ν−2))). The closed form at ν = 4.5, μ = −1, σ = 0.5, x = 0.3:
/// use ppl_core::special::ln_gamma;
/// let (nu, mu, sigma, x) = (4.5_f64, -1.0_f64, 0.5_f64, 0.3_f64);
/// let d = StudentT::new(nu, mu, sigma).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
/// let z = (x - mu) / sigma;
/// let want = ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0)
///     - 0.5 * (nu * std::f64::consts::PI).ln()
///     - sigma.ln()
///     - (nu + 1.0) / 2.0 * (1.0 + z * z / nu).ln();
/// assert!((lp - want).abs() < 1e-12);
/// let err = StudentT::new(3.0, 0.0, -2.0).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("sigma", -2.0));
/// assert_eq!(StudentT::new(f64::INFINITY, 0.0, 1.0).unwrap_err().parameter, "nu");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StudentT<N, M, S> {
    nu: N,
    mu: M,
    sigma: S,
}

impl<N: ParamValues, M: ParamValues, S: ParamValues> StudentT<N, M, S> {
    /// Builds the distribution; `nu` and `sigma` must be positive and `mu` finite.
    pub fn new(nu: N, mu: M, sigma: S) -> Result<Self, ParamError> {
        check_param("StudentT", "nu", &nu, "must be positive", |v| v > 0.0)?;
        check_param("StudentT", "mu", &mu, "must be finite", |_| true)?;
        check_param("StudentT", "sigma", &sigma, "must be positive", |s| s > 0.0)?;
        Ok(StudentT { nu, mu, sigma })
    }
}

/// The ν-dependent normalising term `c + ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(νπ)` and its
/// derivative, for a constant offset `c` (0 here, `ln 2` for the half-t).
#[derive(Debug, Clone, Copy)]
pub(super) struct NuTerm {
    nu: f64,
    pub(super) value: f64,
    pub(super) deriv: f64,
}

/// Above this ν the normalising term comes from its asymptotic series: the difference of
/// two ln Γ values of size ~ν ln ν would lose ~ν·1e-16 to cancellation.
const LARGE_NU: f64 = 2000.0;

impl NuTerm {
    fn new(nu: f64, offset: f64) -> Self {
        if nu > LARGE_NU {
            // ln Γ(x + ½) − ln Γ(x) = ½ ln x − 1/(8x) + 1/(192x³) + 1/(640x⁵) − …, x = ν/2,
            // so the term is −½ ln 2π − 1/(4ν) + 1/(24ν³) + O(ν⁻⁵) (< 1e-17 here).
            let inv = 1.0 / nu;
            let inv3 = inv * inv * inv;
            return NuTerm {
                nu,
                value: offset - 0.5 * (2.0 * PI).ln() - 0.25 * inv + inv3 / 24.0,
                deriv: 0.25 * inv * inv - 0.125 * inv3 * inv,
            };
        }
        let h = 0.5 * (nu + 1.0);
        NuTerm {
            nu,
            value: offset + ln_gamma(h) - ln_gamma(0.5 * nu) - 0.5 * (nu * PI).ln(),
            deriv: 0.5 * (digamma(h) - digamma(0.5 * nu)) - 0.5 / nu,
        }
    }
}

/// The ν-dependent term of a Student-t kernel (shared with the half-t), computed once per
/// call for a scalar `nu`.
pub(super) struct NuCache {
    offset: f64,
    cached: Option<NuTerm>,
}

impl NuCache {
    /// The cache for the operand `nu`, with the constant `offset` added to the term.
    pub(super) fn new<R: Real>(nu: Operand<'_, R>, offset: f64) -> Self {
        let cached = match nu {
            Operand::Const(v) => Some(NuTerm::new(v, offset)),
            Operand::Scalar(v) => Some(NuTerm::new(v.value(), offset)),
            _ => None,
        };
        NuCache { offset, cached }
    }

    /// The term and its derivative at `nu`.
    #[inline]
    pub(super) fn term(&self, nu: f64) -> NuTerm {
        match self.cached {
            Some(t) if t.nu == nu => t,
            _ => NuTerm::new(nu, self.offset),
        }
    }

    /// The term at `nu` in the kernel's scalar type (the cached value for plain values).
    /// Every mode takes the asymptotic series above [`LARGE_NU`], so a vector ν and
    /// dual numbers get the accuracy of the scalar path.
    #[inline]
    pub(super) fn norm<R: Real>(&self, nu: R) -> R {
        match (R::MODE, self.cached) {
            (EvalMode::Value, Some(t)) if t.nu == nu.value() => R::constant(t.value),
            (EvalMode::Value, _) => R::constant(NuTerm::new(nu.value(), self.offset).value),
            _ if nu.value() > LARGE_NU => {
                // NuTerm's series in the scalar type, so derivatives of every order follow.
                let inv = R::constant(1.0) / nu;
                inv * inv * inv / 24.0 - inv * 0.25 + (self.offset - 0.5 * (2.0 * PI).ln())
            }
            _ => {
                ((nu + 1.0) * 0.5).ln_gamma() - (nu * 0.5).ln_gamma() - (nu * PI).ln() * 0.5
                    + self.offset
            }
        }
    }
}

/// The element kernel; a scalar `nu` has its log-gamma terms computed once per call.
struct StudentTKernel(NuCache);

impl Kernel<4> for StudentTKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, nu, mu, sigma]: [R; 4]) -> R {
        let z = (x - mu) / sigma;
        self.0.norm(nu) - sigma.ln() - (nu + 1.0) * 0.5 * (z * z / nu).ln_1p()
    }
    #[inline]
    fn eval_partials(&self, [x, nu, mu, sigma]: [f64; 4]) -> (f64, [f64; 4]) {
        let t = self.0.term(nu);
        let inv = 1.0 / sigma;
        let z = (x - mu) * inv;
        let z2 = z * z;
        let r = z2 / nu;
        let l1p = r.ln_1p();
        let w = (nu + 1.0) / (nu + z2);
        (
            t.value - sigma.ln() - 0.5 * (nu + 1.0) * l1p,
            [
                -w * z * inv,
                t.deriv + 0.5 * (w * r - l1p),
                w * z * inv,
                (w * z2 - 1.0) * inv,
            ],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 4], partials: &mut [Vec<f64>; 4]) -> Option<f64> {
        // The vectorised loop needs a scalar ν (its log-gamma terms computed once).
        let t = self.0.cached?;
        let [x, _, mu, sigma] = cols;
        vectorized::columns_sum(x.len(), partials, |values, d| {
            student_t_rows(x, mu, sigma, t, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns with one ν: values into `values`, partials (x, ν, μ, σ)
    /// into `d`; `false` where the branch-free logarithm does not apply (a σ that is not
    /// a positive normal number, an infinite `1 + z²/ν`).
    fn student_t_rows(
        x: &[f64],
        mu: &[f64],
        sigma: &[f64],
        t: NuTerm,
        values: &mut [f64],
        d: &mut [Vec<f64>; 4],
    ) -> bool {
        let n = values.len();
        let (x, mu, sigma) = (&x[..n], &mu[..n], &sigma[..n]);
        let [d_x, d_nu, d_mu, d_sigma] = d;
        let (d_x, d_nu, d_mu, d_sigma) = (&mut d_x[..n], &mut d_nu[..n], &mut d_mu[..n], &mut d_sigma[..n]);
        let nu = t.nu;
        let (half, inv_nu) = (0.5 * (nu + 1.0), 1.0 / nu);
        let mut ok = true;
        for i in 0..n {
            let s = sigma[i];
            let inv = 1.0 / s;
            let z = (x[i] - mu[i]) * inv;
            let z2 = z * z;
            let r = z2 * inv_nu;
            let opr = 1.0 + r;
            ok &= crate::vecmath::in_ln_normal_range(s) & (opr <= f64::MAX);
            let l1p = crate::vecmath::ln_normal_with::<FMA>(opr);
            let w = (nu + 1.0) / (nu + z2);
            values[i] = t.value - crate::vecmath::ln_normal_with::<FMA>(s) - half * l1p;
            d_x[i] = -w * z * inv;
            d_nu[i] = t.deriv + 0.5 * (w * r - l1p);
            d_mu[i] = w * z * inv;
            d_sigma[i] = (w * z2 - 1.0) * inv;
        }
        ok
    }
}

impl<N, M, S> StudentT<N, M, S> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 4]
    where
        N: Param<R>,
        M: Param<R>,
        S: Param<R>,
    {
        [
            x,
            self.nu.operand(),
            self.mu.operand(),
            self.sigma.operand(),
        ]
    }
}

const NAMES: [&str; 4] = ["x", "nu", "mu", "sigma"];

impl<R: Real, N: Param<R>, M: Param<R>, S: Param<R>> Distribution<R> for StudentT<N, M, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "StudentT"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["nu", "mu", "sigma"],
            &[self.nu.operand(), self.mu.operand(), self.sigma.operand()],
        )
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&NAMES, &ops)?;
        Ok(vectorized::sum(
            &StudentTKernel(NuCache::new(ops[1], 0.0)),
            &ops,
            n,
        ))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&NAMES, &ops)?;
        vectorized::pointwise(&StudentTKernel(NuCache::new(ops[1], 0.0)), &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (nu, mu, sigma) = (self.nu.operand(), self.mu.operand(), self.sigma.operand());
        for i in 0..n {
            let t = rand_distr::StudentT::new(nu.value(i)).map_or(f64::NAN, |d| d.sample(rng));
            out.push(mu.value(i) + sigma.value(i) * t);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, N: Param<R>, M: Param<R>, S: Param<R>> ElementValue<R> for StudentT<N, M, S> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{
        check_columns_path, check_gradients, check_ks, check_moments, lpdf, test_rng, ScalarFamily,
    };
    use proptest::prelude::*;
    use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};

    #[test]
    fn large_nu_uses_the_series_and_joins_the_exact_term() {
        // At the switch the series and the ln Γ difference agree (both are accurate
        // there), value and derivative.
        let exact =
            |nu: f64| ln_gamma(0.5 * (nu + 1.0)) - ln_gamma(0.5 * nu) - 0.5 * (nu * PI).ln();
        let exact_d = |nu: f64| 0.5 * (digamma(0.5 * (nu + 1.0)) - digamma(0.5 * nu)) - 0.5 / nu;
        let above = NuTerm::new(LARGE_NU * (1.0 + 1e-12), 0.0);
        assert!((above.value - exact(LARGE_NU)).abs() < 1e-12);
        assert!((above.deriv - exact_d(LARGE_NU)).abs() < 1e-12);
        // Far out the t density at its centre tends to the normal's: −½ ln 2π − 1/(4ν)
        // to O(ν⁻³) (the ln Γ difference gave +2.16 at ν = 1e15).
        let half_ln_2pi = 0.5 * (2.0 * PI).ln();
        for nu in [1e4, 1e8, 1e12, 1e15] {
            let lp = lpdf(&StudentT::new(nu, 0.0, 1.0).unwrap(), 0.0);
            let want = -half_ln_2pi - 0.25 / nu;
            assert!((lp - want).abs() < 1e-13, "ν = {nu}: {lp} vs {want}");
        }
        // A vector ν (element path), and dual numbers (value, first and second
        // derivatives in ν), take the same series.
        let dist = StudentT::new(vec![1e12, 3.0], 0.0, 1.0).unwrap();
        let lp: f64 = dist.log_density(Operand::Slice(&[0.0, 0.0])).unwrap();
        let want = -half_ln_2pi - 0.25e-12 + lpdf(&StudentT::new(3.0, 0.0, 1.0).unwrap(), 0.0);
        assert!((lp - want).abs() < 1e-13, "{lp} vs {want}");
        let nu = 1e6;
        let dual = crate::scalar::dual::Fwd(num_dual::HyperDual64::new(nu, 1.0, 1.0, 0.0));
        let lp = StudentT::new(dual, 0.0, 1.0)
            .unwrap()
            .log_density(Operand::Const(0.0))
            .unwrap()
            .0;
        let t = NuTerm::new(nu, 0.0);
        assert!((lp.re - t.value).abs() < 1e-15, "{} vs {}", lp.re, t.value);
        assert!(
            (lp.eps1 - t.deriv).abs() < 1e-20,
            "{} vs {}",
            lp.eps1,
            t.deriv
        );
        let second = -0.5 / (nu * nu * nu) + 0.5 / (nu * nu * nu * nu * nu);
        assert!(
            (lp.eps1eps2 - second).abs() < 1e-25,
            "{} vs {second}",
            lp.eps1eps2
        );
        // The series' derivative matches its value's central difference.
        let nu = 5e4;
        let h = 1.0;
        let fd = (NuTerm::new(nu + h, 0.0).value - NuTerm::new(nu - h, 0.0).value) / (2.0 * h);
        assert!((fd - NuTerm::new(nu, 0.0).deriv).abs() < 1e-14);
    }

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40)
            .map(|i| (i as f64 * 0.7).sin() * 4.0 + 0.5)
            .collect();
        check_columns_path(
            |p| StudentT::new(p[0], p[1], p[2]).unwrap(),
            &[3.5, 0.4, 1.7],
            &x,
        );
        // Large residuals: 1 + z²/ν far from 1.
        let wide: Vec<f64> = x.iter().map(|v| v * 1e3).collect();
        check_columns_path(
            |p| StudentT::new(p[0], p[1], p[2]).unwrap(),
            &[0.7, -2.0, 0.3],
            &wide,
        );
    }

    proptest! {
        #[test]
        fn log_density_matches_statrs(
            nu in 0.1f64..100.0,
            mu in -10.0f64..10.0,
            sigma in 0.05f64..20.0,
            x in -50.0f64..50.0,
        ) {
            let ours = lpdf(&StudentT::new(nu, mu, sigma).unwrap(), x);
            let theirs = StudentsT::new(mu, sigma, nu).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            StudentT::new(a[1], a[2], a[3])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            StudentT::new(a[3], a[4], a[5])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    struct SliceNu;
    impl ScalarFamily for SliceNu {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            StudentT::new(&a[1..3], a[3], 1.5)
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 4.0, 0.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[-3.0, 0.8, 1.0, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, -1.1, 2.7, 6.0, 0.3, 1.8], 1e-5);
        check_gradients(&SliceNu, &[0.4, 2.5, 30.0, -0.3], 1e-5);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (nu, mu, sigma) = (10.0, 1.0, 2.0);
        let d = StudentT::new(nu, mu, sigma).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(3), 20_000, &mut xs);
        check_moments(&xs, mu, sigma * sigma * nu / (nu - 2.0));
        let reference = StudentsT::new(mu, sigma, nu).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn pointwise_and_batch() {
        let d = StudentT::new(3.0, [0.0, 1.0, 2.0], 1.0).unwrap();
        assert_eq!(Distribution::<f64>::batch_len(&d), Ok(Some(3)));
        let xs = [0.5, 0.5, 0.5];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        let total: f64 = d.log_density(Param::<f64>::operand(&xs)).unwrap();
        assert!((out.iter().sum::<f64>() - total).abs() < 1e-12);
        let mismatch = d
            .log_density(Param::<f64>::operand(&[1.0, 2.0]))
            .unwrap_err();
        assert_eq!(mismatch.argument, "mu");
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(StudentT::new(0.0, 0.0, 1.0).unwrap_err().parameter, "nu");
        assert_eq!(
            StudentT::new(1.0, f64::NAN, 1.0).unwrap_err().parameter,
            "mu"
        );
        assert_eq!(
            StudentT::new(1.0, 0.0, -1.0).unwrap_err().parameter,
            "sigma"
        );
    }
}
