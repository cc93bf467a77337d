//! The von Mises distribution on the circle, and the modified Bessel functions it needs.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::special::Derivs;
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::{PI, TAU};

/// `ln 2π`.
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Below this argument the Bessel functions use their power series, above it the
/// asymptotic expansion (both are accurate to a few ulps at the switch).
const SERIES_LIMIT: f64 = 20.0;

/// `I_ν(x)` for `ν ∈ {0, 1}` by its power series `Σ (x/2)^{2k+ν} / (k! (k+ν)!)`.
fn bessel_i_series(nu: u32, x: f64) -> f64 {
    let q = 0.25 * x * x;
    let nu_f = f64::from(nu);
    let mut term = if nu == 0 { 1.0 } else { 0.5 * x };
    let mut sum = term;
    for k in 1..1000 {
        let k = f64::from(k);
        term *= q / (k * (k + nu_f));
        sum += term;
        if term <= sum * 1e-17 {
            break;
        }
    }
    sum
}

/// `I_ν(x) e^{−x} √(2πx)` for `ν ∈ {0, 1}` by the asymptotic (Hankel) expansion
/// `Σ_k (−1)^k Π_{j≤k} (4ν² − (2j−1)²) / (k! (8x)^k)`, summed until the terms stop
/// decreasing.
fn bessel_i_asymptotic_scaled(nu: u32, x: f64) -> f64 {
    let mu = 4.0 * f64::from(nu * nu);
    let mut term = 1.0_f64;
    let mut sum = 1.0;
    for k in 1..100 {
        let k = f64::from(k);
        let next = -term * (mu - (2.0 * k - 1.0).powi(2)) / (k * 8.0 * x);
        if next.abs() >= term.abs() {
            break;
        }
        term = next;
        sum += term;
        if term.abs() <= 1e-17 * sum.abs() {
            break;
        }
    }
    sum
}

/// `ln I₀(x)` for `x ≥ 0`, without overflow for large `x`.
fn log_bessel_i0(x: f64) -> f64 {
    if x < SERIES_LIMIT {
        bessel_i_series(0, x).ln()
    } else {
        x - 0.5 * (TAU * x).ln() + bessel_i_asymptotic_scaled(0, x).ln()
    }
}

/// `A(x) = I₁(x)/I₀(x)`, the derivative of `ln I₀`, for `x ≥ 0`.
fn bessel_i1_i0_ratio(x: f64) -> f64 {
    if x < SERIES_LIMIT {
        bessel_i_series(1, x) / bessel_i_series(0, x)
    } else {
        bessel_i_asymptotic_scaled(1, x) / bessel_i_asymptotic_scaled(0, x)
    }
}

/// `[ln I₀, A, A', A'']` at `x ≥ 0` up to `order`, with `A = I₁/I₀`,
/// `A' = 1 − A/x − A²` and `A'' = −A'/x + A/x² − 2AA'` (Taylor series near 0, where
/// the recurrences cancel). For large `x`, `A'` ≈ `1/(2x²)` is computed as a difference
/// and has relative accuracy about `x²·ε`.
fn log_bessel_i0_derivs(x: f64, order: usize) -> Derivs {
    let f = log_bessel_i0(x);
    if order == 0 {
        return [f, 0.0, 0.0, 0.0];
    }
    let a = bessel_i1_i0_ratio(x);
    if order == 1 {
        return [f, a, 0.0, 0.0];
    }
    let (d2, d3) = if x < 0.01 {
        // ln I₀(x) = x²/4 − x⁴/64 + x⁶/576 − 11x⁸/49152 + O(x¹⁰).
        let x2 = x * x;
        (
            0.5 - x2 * (3.0 / 16.0 - x2 * (5.0 / 96.0 - x2 * 77.0 / 6144.0)),
            -x * (3.0 / 8.0 - x2 * (5.0 / 24.0 - x2 * 77.0 / 1024.0)),
        )
    } else {
        let d2 = 1.0 - a / x - a * a;
        (d2, -d2 / x + a / (x * x) - 2.0 * a * d2)
    };
    let mut d = [f, a, d2, d3];
    for slot in d.iter_mut().skip(order.min(3) + 1) {
        *slot = 0.0;
    }
    d
}

/// Von Mises distribution with mean direction `mu` and concentration `kappa`, on
/// `[−π, π]`: `ln p(x) = κ cos(x − μ) − ln(2π) − ln I₀(κ)`, where `I₀` is the modified
/// Bessel function of the first kind of order 0.
///
/// `kappa = 0` is the uniform distribution on the circle; large `kappa` approaches a
/// normal with variance `1/κ`. `mu` may be any finite real (it acts modulo 2π). The
/// log-density is −∞ outside `[−π, π]`. `ln I₀` is computed without overflow (power
/// series below 20, asymptotic expansion above), with derivatives for every scalar type.
///
/// ```
/// use ppl_core::dist::{Distribution, VonMises};
/// use ppl_core::param::Param;
/// let d = VonMises::new(0.0, 1.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0.0)).unwrap();
/// // 1 − ln 2π − ln I₀(1), with I₀(1) = 1.2660658777520082.
/// let expected = 1.0 - (2.0 * std::f64::consts::PI).ln() - 1.2660658777520082f64.ln();
/// assert!((lp - expected).abs() < 1e-12);
/// assert!(VonMises::new(0.0, -1.0).is_err());
///
/// // κ is a concentration (≈ 1/variance for large κ), not a standard deviation. Written
/// // out at μ = 0.5, κ = 3, x = −2, with I₀ summed from its series Σ (κ/2)^{2k}/(k!)²:
/// use std::f64::consts::PI;
/// let (mu, kappa, x) = (0.5_f64, 3.0_f64, -2.0_f64);
/// let (mut term, mut i0) = (1.0, 1.0);
/// for k in 1..40 {
///     term *= (kappa / 2.0).powi(2) / (k * k) as f64;
///     i0 += term;
/// }
/// let d = VonMises::new(mu, kappa).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
/// assert!((lp - (kappa * (x - mu).cos() - (2.0 * PI).ln() - i0.ln())).abs() < 1e-13);
/// // κ = 0 is the uniform distribution on the circle.
/// let flat: f64 = VonMises::new(mu, 0.0).unwrap().log_density(Param::<f64>::operand(&x)).unwrap();
/// assert!((flat + (2.0 * PI).ln()).abs() < 1e-15);
/// // The support is [−π, π] (both ends included); angles outside it are not wrapped.
/// let at_pi: f64 = d.log_density(Param::<f64>::operand(&PI)).unwrap();
/// assert!(at_pi.is_finite());
/// let outside: f64 = d.log_density(Param::<f64>::operand(&(PI + 0.01))).unwrap();
/// assert_eq!(outside, f64::NEG_INFINITY);
/// let err = VonMises::new(f64::NAN, 1.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("mu", "must be finite"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct VonMises<M, K> {
    mu: M,
    kappa: K,
}

impl<M: ParamValues, K: ParamValues> VonMises<M, K> {
    /// Builds the distribution; `mu` must be finite and `kappa` non-negative.
    pub fn new(mu: M, kappa: K) -> Result<Self, ParamError> {
        check_param("VonMises", "mu", &mu, "must be finite", |_| true)?;
        check_param("VonMises", "kappa", &kappa, "must be non-negative", |k| {
            k >= 0.0
        })?;
        Ok(VonMises { mu, kappa })
    }
}

struct VonMisesKernel;

impl Kernel<3> for VonMisesKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, mu, kappa]: [R; 3]) -> R {
        let ln_i0 = kappa.map_unary(log_bessel_i0_derivs(kappa.value(), R::ORDER));
        kappa * (x - mu).cos() - ln_i0 - LN_2PI
    }
    #[inline]
    fn eval_partials(&self, [x, mu, kappa]: [f64; 3]) -> (f64, [f64; 3]) {
        let (s, c) = (x - mu).sin_cos();
        (
            kappa * c - log_bessel_i0(kappa) - LN_2PI,
            [-kappa * s, kappa * s, c - bessel_i1_i0_ratio(kappa)],
        )
    }
}

/// Whether `x` lies in the support.
#[inline]
fn in_support(x: f64) -> bool {
    (-PI..=PI).contains(&x)
}

/// Wraps an angle onto `[−π, π)`.
#[inline]
fn wrap(theta: f64) -> f64 {
    (theta + PI).rem_euclid(TAU) - PI
}

/// One draw (Best & Fisher's rejection sampler, as in NumPy).
fn draw_one(rng: &mut dyn RngCore, mu: f64, kappa: f64) -> f64 {
    let uniform = |rng: &mut dyn RngCore| -> f64 { rand_distr::Standard.sample(rng) };
    if kappa < 1e-8 {
        return PI * (2.0 * uniform(rng) - 1.0);
    }
    let s = if kappa < 1e-5 {
        // Second-order expansion around κ = 0.
        1.0 / kappa + kappa
    } else if kappa <= 1e6 {
        let r = 1.0 + (1.0 + 4.0 * kappa * kappa).sqrt();
        let rho = (r - (2.0 * r).sqrt()) / (2.0 * kappa);
        (1.0 + rho * rho) / (2.0 * rho)
    } else {
        // Wrapped normal for very large κ.
        let z: f64 = rand_distr::StandardNormal.sample(rng);
        return wrap(mu + z / kappa.sqrt());
    };
    let w = loop {
        let u = uniform(rng);
        let z = (PI * u).cos();
        let w = (1.0 + s * z) / (s + z);
        let y = kappa * (s - w);
        let v = uniform(rng);
        if y * (2.0 - y) - v >= 0.0 || (y / v).ln() + 1.0 - y >= 0.0 {
            break w;
        }
    };
    let theta = w.clamp(-1.0, 1.0).acos();
    let theta = if uniform(rng) < 0.5 { -theta } else { theta };
    wrap(theta + mu)
}

impl<M, K> VonMises<M, K> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        M: Param<R>,
        K: Param<R>,
    {
        [x, self.mu.operand(), self.kappa.operand()]
    }
}

const NAMES: [&str; 3] = ["x", "mu", "kappa"];

impl<R: Real, M: Param<R>, K: Param<R>> Distribution<R> for VonMises<M, K> {
    type Value = R;

    fn name(&self) -> &'static str {
        "VonMises"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["mu", "kappa"], &[self.mu.operand(), self.kappa.operand()])
    }

    fn support(&self) -> Support<R> {
        Support::Interval(R::constant(-PI), R::constant(PI))
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        sum_in_support(&VonMisesKernel, &NAMES, &ops, in_support)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        pointwise_in_support(&VonMisesKernel, &NAMES, &ops, in_support, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (mu, kappa) = (self.mu.operand(), self.kappa.operand());
        for i in 0..n {
            out.push(draw_one(rng, mu.value(i), kappa.value(i)));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, M: Param<R>, K: Param<R>> ElementValue<R> for VonMises<M, K> {
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

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    #[test]
    fn bessel_known_values() {
        // Reference values of I₀ and I₁ (Abramowitz & Stegun; SciPy agrees).
        assert!(rel(log_bessel_i0(1.0), 1.266_065_877_752_008_2f64.ln()) < 1e-14);
        assert!(rel(log_bessel_i0(10.0), 2_815.716_628_466_254f64.ln()) < 1e-14);
        assert!(rel(log_bessel_i0(0.1), 1.002_501_562_934_095_6f64.ln()) < 1e-12);
        assert!(rel(log_bessel_i0(100.0), 1.073_751_707_131_073_8e42f64.ln()) < 1e-14);
        assert_eq!(log_bessel_i0(0.0), 0.0);
        assert!(
            rel(
                bessel_i1_i0_ratio(1.0),
                0.565_159_103_992_485_1 / 1.266_065_877_752_008_2
            ) < 1e-14
        );
        assert!(
            rel(
                bessel_i1_i0_ratio(10.0),
                2_670.988_303_701_255 / 2_815.716_628_466_254
            ) < 1e-14
        );
        // No overflow far beyond where I₀ itself overflows (x ≈ 713).
        let big = log_bessel_i0(1e4);
        assert!(rel(big, 1e4 - 0.5 * (TAU * 1e4).ln() + (1.0 + 1.0 / 8e4).ln()) < 1e-12);
    }

    #[test]
    fn series_and_asymptotic_agree_near_the_switch() {
        for x in [18.0, 20.0, 25.0, 30.0] {
            let series = bessel_i_series(0, x).ln();
            let asym = x - 0.5 * (TAU * x).ln() + bessel_i_asymptotic_scaled(0, x).ln();
            assert!(rel(series, asym) < 1e-14, "I0 at {x}: {series} vs {asym}");
            let series = bessel_i_series(1, x) / bessel_i_series(0, x);
            let asym = bessel_i_asymptotic_scaled(1, x) / bessel_i_asymptotic_scaled(0, x);
            assert!(
                rel(series, asym) < 1e-14,
                "I1/I0 at {x}: {series} vs {asym}"
            );
        }
    }

    #[test]
    fn derivative_table_matches_finite_differences() {
        for x in [0.005, 0.05, 0.5, 3.0, 19.9, 20.1, 50.0] {
            let d = log_bessel_i0_derivs(x, 3);
            for k in 0..3 {
                let h = 1e-5 * x.max(0.1);
                let fd = (log_bessel_i0_derivs(x + h, 3)[k] - log_bessel_i0_derivs(x - h, 3)[k])
                    / (2.0 * h);
                let err = (fd - d[k + 1]).abs() / d[k + 1].abs().max(1e-3);
                assert!(
                    err < 1e-5,
                    "derivative {} at {x}: table {} vs fd {fd}",
                    k + 1,
                    d[k + 1]
                );
            }
        }
        // Both branches of A' and A'' agree at the switch to the Taylor series.
        let (lo, hi) = (
            log_bessel_i0_derivs(0.01 - 1e-12, 3),
            log_bessel_i0_derivs(0.01, 3),
        );
        assert!(
            rel(lo[2], hi[2]) < 1e-10 && rel(lo[3], hi[3]) < 1e-8,
            "{lo:?} vs {hi:?}"
        );
    }

    /// `ln I₀(κ)` by the trapezoidal rule on `(1/π) ∫₀^π e^{κ cos θ} dθ` (spectrally
    /// accurate for this periodic integrand).
    fn log_i0_quadrature(kappa: f64) -> f64 {
        let m = 4000;
        let h = PI / m as f64;
        let mut s = 0.0;
        for j in 0..=m {
            let w = if j == 0 || j == m { 0.5 } else { 1.0 };
            s += w * (kappa * ((j as f64 * h).cos() - 1.0)).exp();
        }
        kappa + (s * h / PI).ln()
    }

    proptest! {
        #[test]
        fn log_density_matches_quadrature(
            mu in -3.0f64..3.0,
            kappa in 0.0f64..200.0,
            x in -PI..PI,
        ) {
            let ours = lpdf(&VonMises::new(mu, kappa).unwrap(), x);
            let theirs = kappa * (x - mu).cos() - LN_2PI - log_i0_quadrature(kappa);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    #[test]
    fn density_integrates_to_one() {
        for (mu, kappa) in [
            (0.0, 0.0),
            (1.0, 0.3),
            (-2.5, 4.0),
            (3.0, 60.0),
            (0.5, 1500.0),
        ] {
            let d = VonMises::new(mu, kappa).unwrap();
            let m = 200_000;
            let h = TAU / m as f64;
            let total: f64 = (0..m)
                .map(|j| lpdf(&d, -PI + (j as f64 + 0.5) * h).exp() * h)
                .sum();
            assert!((total - 1.0).abs() < 1e-9, "mu {mu} kappa {kappa}: {total}");
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            VonMises::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            VonMises::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[-3.0, 1.0, 25.0], 1e-5);
        check_gradients(&Scalars, &[0.2, -0.4, 0.003], 1e-5);
        check_gradients(&SliceX, &[0.4, -1.1, 2.7, 0.3, 1.8], 1e-5);
    }

    #[test]
    fn second_order_duals_match_the_recurrences() {
        use crate::scalar::dual::Fwd;
        use num_dual::Dual2_64;
        for kappa in [0.004, 0.7, 8.0, 35.0] {
            let k = Fwd(Dual2_64::from(kappa).derivative());
            let lp = VonMises::new(0.3, k)
                .unwrap()
                .log_density(Param::<Fwd<Dual2_64>>::operand(&Fwd(Dual2_64::from(0.1))))
                .unwrap();
            // d²/dκ² of −ln I₀(κ) is −A'(κ).
            let h = 1e-4 * kappa;
            let a = |k: f64| bessel_i1_i0_ratio(k);
            let fd = -(a(kappa + h) - a(kappa - h)) / (2.0 * h);
            assert!(
                (lp.0.v2 - fd).abs() < 1e-6 * fd.abs().max(1e-3),
                "{} vs {fd}",
                lp.0.v2
            );
        }
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = VonMises::new(0.0, 1.0).unwrap();
        assert_eq!(lpdf(&d, 3.5), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, -3.5), f64::NEG_INFINITY);
        let xs = [0.5, 4.0];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!(out[0].is_finite());
        assert_eq!(out[1], f64::NEG_INFINITY);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        for (seed, (mu, kappa)) in [(2.0, 3.0), (-3.0, 0.5), (0.0, 40.0)]
            .into_iter()
            .enumerate()
        {
            let d = VonMises::new(mu, kappa).unwrap();
            let mut xs = Vec::new();
            Distribution::<f64>::draw(&d, &mut test_rng(40 + seed as u64), 20_000, &mut xs);
            assert!(xs.iter().all(|x| in_support(*x)));
            // E cos(x−μ) = A(κ), Var cos(x−μ) = A'(κ); E sin(x−μ) = 0, Var sin = A(κ)/κ.
            let a = bessel_i1_i0_ratio(kappa);
            let cos: Vec<f64> = xs.iter().map(|x| (x - mu).cos()).collect();
            let sin: Vec<f64> = xs.iter().map(|x| (x - mu).sin()).collect();
            check_moments(&cos, a, 1.0 - a / kappa - a * a);
            check_moments(&sin, 0.0, a / kappa);
            // CDF by the midpoint rule on a fine grid, interpolated.
            let m = 100_000;
            let h = TAU / m as f64;
            let mut cum = vec![0.0];
            for j in 0..m {
                let x = -PI + (j as f64 + 0.5) * h;
                cum.push(cum[j] + lpdf(&d, x).exp() * h);
            }
            check_ks(&mut xs, |x| {
                let t = ((x + PI) / h).clamp(0.0, m as f64);
                let k = (t.floor() as usize).min(m - 1);
                let f = t - k as f64;
                cum[k] * (1.0 - f) + cum[k + 1] * f
            });
        }
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(VonMises::new(f64::NAN, 1.0).unwrap_err().parameter, "mu");
        assert_eq!(VonMises::new(0.0, -1.0).unwrap_err().parameter, "kappa");
        assert!(VonMises::new(0.0, 0.0).is_ok());
    }
}
