//! The truncated normal distribution.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{inv_mills, log_sum_exp2, std_normal_log_cdf, HALF_LN_2PI};
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::f64::consts::LN_2;

/// Normal distribution with mean `mu` and standard deviation `sigma` truncated to
/// `[lower, upper]`. With `z = (x−μ)/σ`, `α = (lower−μ)/σ` and `β = (upper−μ)/σ`:
/// `ln p(x) = −½z² − ln σ − ½ ln 2π − ln(Φ(β) − Φ(α))` for `lower ≤ x ≤ upper`, and −∞
/// outside.
///
/// The bounds are constants; `lower = −∞` or `upper = +∞` truncate on one side only
/// (both infinite gives the plain normal). The normalising constant is computed in log
/// space (`ln Φ` and a log-difference), so it stays accurate when the interval lies far
/// in a tail. Sampling inverts the CDF in log space, also accurate in the tails.
///
/// ```
/// use ppl_core::dist::{Distribution, TruncatedNormal};
/// use ppl_core::param::Param;
/// // A standard normal truncated to x ≥ 0 is the half-normal.
/// let d = TruncatedNormal::new(0.0, 1.0, 0.0, f64::INFINITY).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1.0)).unwrap();
/// assert!((lp - -0.72579135).abs() < 1e-8);
/// let outside: f64 = d.log_density(Param::<f64>::operand(&-1.0)).unwrap();
/// assert_eq!(outside, f64::NEG_INFINITY);
/// assert!(TruncatedNormal::new(0.0, 1.0, 2.0, 1.0).is_err());
///
/// // μ and σ are those of the normal before truncation (not the mean and standard
/// // deviation of the result). Written out at μ = 1, σ = 2 on [−1, 2], including the
/// // bounds themselves, with Φ the standard normal CDF:
/// use ppl_core::special::std_normal_cdf;
/// let (mu, sigma, lower, upper) = (1.0_f64, 2.0_f64, -1.0_f64, 2.0_f64);
/// let d = TruncatedNormal::new(mu, sigma, lower, upper).unwrap();
/// let mass = std_normal_cdf((upper - mu) / sigma) - std_normal_cdf((lower - mu) / sigma);
/// for x in [0.5, lower, upper] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     let z = (x - mu) / sigma;
///     let want = -0.5 * z * z - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() - mass.ln();
///     assert!((lp - want).abs() < 1e-13);
/// }
/// let above: f64 = d.log_density(Param::<f64>::operand(&2.01)).unwrap();
/// assert_eq!(above, f64::NEG_INFINITY);
/// let err = TruncatedNormal::new(0.0, 0.0, -1.0, 1.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("sigma", "must be positive"));
/// assert_eq!(TruncatedNormal::new(0.0, 1.0, f64::NAN, 1.0).unwrap_err().parameter, "lower");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TruncatedNormal<M, S> {
    mu: M,
    sigma: S,
    lower: f64,
    upper: f64,
}

impl<M: ParamValues, S: ParamValues> TruncatedNormal<M, S> {
    /// Builds the distribution; `mu` must be finite, `sigma` positive, and
    /// `lower < upper` (either may be infinite, neither NaN).
    pub fn new(mu: M, sigma: S, lower: f64, upper: f64) -> Result<Self, ParamError> {
        const NAME: &str = "TruncatedNormal";
        check_param(NAME, "mu", &mu, "must be finite", |_| true)?;
        check_param(NAME, "sigma", &sigma, "must be positive", |s| s > 0.0)?;
        if lower.is_nan() || lower == f64::INFINITY {
            return Err(ParamError::new(NAME, "lower", "must be below +∞", lower));
        }
        if upper.is_nan() || upper == f64::NEG_INFINITY {
            return Err(ParamError::new(NAME, "upper", "must be above −∞", upper));
        }
        if lower >= upper {
            return Err(ParamError::new(
                NAME,
                "upper",
                "must be greater than lower",
                upper,
            ));
        }
        Ok(TruncatedNormal {
            mu,
            sigma,
            lower,
            upper,
        })
    }
}

/// `ln(1 − eᵈ)` for `d < 0`, accurate for `d` near 0 and very negative.
#[inline]
fn log1m_exp<R: Real>(d: R) -> R {
    if d.value() > -LN_2 {
        (-d.exp_m1()).ln()
    } else {
        (-d.exp()).ln_1p()
    }
}

/// `ln(Φ(β) − Φ(α))`, the log of the mass of `[lower, upper]` under `N(μ, σ)`.
fn log_normaliser<R: Real>(mu: R, sigma: R, lower: f64, upper: f64) -> R {
    let alpha = lower.is_finite().then(|| -(mu - lower) / sigma);
    let beta = upper.is_finite().then(|| -(mu - upper) / sigma);
    match (alpha, beta) {
        (None, None) => R::constant(0.0),
        (Some(a), None) => (-a).std_normal_log_cdf(),
        (None, Some(b)) => b.std_normal_log_cdf(),
        (Some(a), Some(b)) => {
            // Φ(β) − Φ(α) = Φ(−α) − Φ(−β): use the side where the CDFs are small.
            let (lo, hi) = if a.value() > 0.0 { (-b, -a) } else { (a, b) };
            let ln_hi = hi.std_normal_log_cdf();
            ln_hi + log1m_exp(lo.std_normal_log_cdf() - ln_hi)
        }
    }
}

/// `ln Z` and its partial derivatives with respect to μ and σ at one (μ, σ).
#[derive(Debug, Clone, Copy)]
struct NormTerm {
    mu: f64,
    sigma: f64,
    value: f64,
    d_mu: f64,
    d_sigma: f64,
}

impl NormTerm {
    fn new(mu: f64, sigma: f64, lower: f64, upper: f64) -> Self {
        let ln_z = log_normaliser(mu, sigma, lower, upper);
        // φ(t)/Z and tφ(t)/Z at a bound (0 for an infinite bound), in log space.
        let ratio = |bound: f64| {
            if bound.is_finite() {
                let t = (bound - mu) / sigma;
                let r = (-0.5 * t * t - HALF_LN_2PI - ln_z).exp();
                (r, t * r)
            } else {
                (0.0, 0.0)
            }
        };
        let ((ra, ta), (rb, tb)) = (ratio(lower), ratio(upper));
        NormTerm {
            mu,
            sigma,
            value: ln_z,
            d_mu: (ra - rb) / sigma,
            d_sigma: (ta - tb) / sigma,
        }
    }
}

/// The element kernel; scalar `mu` and `sigma` have the normaliser computed once.
struct TruncatedNormalKernel {
    lower: f64,
    upper: f64,
    cached: Option<NormTerm>,
}

impl TruncatedNormalKernel {
    fn new<R: Real>(mu: Operand<'_, R>, sigma: Operand<'_, R>, lower: f64, upper: f64) -> Self {
        let cached = match (mu.len(), sigma.len()) {
            (None, None) => Some(NormTerm::new(mu.value(0), sigma.value(0), lower, upper)),
            _ => None,
        };
        TruncatedNormalKernel {
            lower,
            upper,
            cached,
        }
    }

    #[inline]
    fn norm_term(&self, mu: f64, sigma: f64) -> NormTerm {
        match self.cached {
            Some(t) if t.mu == mu && t.sigma == sigma => t,
            _ => NormTerm::new(mu, sigma, self.lower, self.upper),
        }
    }
}

impl Kernel<3> for TruncatedNormalKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, mu, sigma]: [R; 3]) -> R {
        let z = (x - mu) / sigma;
        let ln_z = match (R::MODE, self.cached) {
            (EvalMode::Value, Some(t)) if t.mu == mu.value() && t.sigma == sigma.value() => {
                R::constant(t.value)
            }
            _ => log_normaliser(mu, sigma, self.lower, self.upper),
        };
        z * z * -0.5 - sigma.ln() - HALF_LN_2PI - ln_z
    }
    #[inline]
    fn eval_partials(&self, [x, mu, sigma]: [f64; 3]) -> (f64, [f64; 3]) {
        let t = self.norm_term(mu, sigma);
        let inv = 1.0 / sigma;
        let z = (x - mu) * inv;
        (
            -0.5 * z * z - sigma.ln() - HALF_LN_2PI - t.value,
            [-z * inv, z * inv - t.d_mu, (z * z - 1.0) * inv - t.d_sigma],
        )
    }
}

/// Inverse of `ln Φ` for targets `t ≤ ln ½` (results `≤ 0`), by Newton's method: `ln Φ`
/// is increasing and concave, so the iteration converges from any start.
fn inv_log_cdf(t: f64) -> f64 {
    if t == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    let mut x = if t < -1.0 { -(-2.0 * t).sqrt() } else { 0.0 };
    for _ in 0..100 {
        let step = (std_normal_log_cdf(x) - t) / inv_mills(x);
        x -= step;
        if step.abs() <= 1e-14 * (1.0 + x.abs()) {
            break;
        }
    }
    x
}

/// One draw from the standard normal truncated to `[a, b]`.
fn draw_standard(rng: &mut dyn RngCore, a: f64, b: f64) -> f64 {
    let u: f64 = rand_distr::Open01.sample(rng);
    let (ln_u, ln_1mu) = (u.ln(), (-u).ln_1p());
    // p = (1−u)Φ(a) + uΦ(b), in log space; invert on the side where it is small.
    let ln_p = log_sum_exp2(ln_1mu + std_normal_log_cdf(a), ln_u + std_normal_log_cdf(b));
    let z = if ln_p < -LN_2 {
        inv_log_cdf(ln_p)
    } else {
        let ln_q = log_sum_exp2(
            ln_1mu + std_normal_log_cdf(-a),
            ln_u + std_normal_log_cdf(-b),
        );
        -inv_log_cdf(ln_q)
    };
    z.clamp(a, b)
}

impl<M, S> TruncatedNormal<M, S> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        M: Param<R>,
        S: Param<R>,
    {
        [x, self.mu.operand(), self.sigma.operand()]
    }

    fn kernel<R: Real>(&self, ops: &[Operand<'_, R>; 3]) -> TruncatedNormalKernel {
        TruncatedNormalKernel::new(ops[1], ops[2], self.lower, self.upper)
    }

    /// Whether `x` lies in the support.
    #[inline]
    fn inside(&self, x: f64) -> bool {
        (self.lower..=self.upper).contains(&x) && x.is_finite()
    }
}

const NAMES: [&str; 3] = ["x", "mu", "sigma"];

impl<R: Real, M: Param<R>, S: Param<R>> Distribution<R> for TruncatedNormal<M, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "TruncatedNormal"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["mu", "sigma"], &[self.mu.operand(), self.sigma.operand()])
    }

    fn support(&self) -> Support<R> {
        match (self.lower.is_finite(), self.upper.is_finite()) {
            (true, true) => Support::Interval(R::constant(self.lower), R::constant(self.upper)),
            (true, false) => Support::GreaterThan(R::constant(self.lower)),
            (false, true) => Support::LessThan(R::constant(self.upper)),
            (false, false) => Support::Real,
        }
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        sum_in_support(&self.kernel(&ops), &NAMES, &ops, |x| self.inside(x))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        pointwise_in_support(&self.kernel(&ops), &NAMES, &ops, |x| self.inside(x), out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (mu, sigma) = (self.mu.operand(), self.sigma.operand());
        for i in 0..n {
            let (m, s) = (mu.value(i), sigma.value(i));
            let z = draw_standard(rng, (self.lower - m) / s, (self.upper - m) / s);
            out.push((m + s * z).clamp(self.lower, self.upper));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, M: Param<R>, S: Param<R>> ElementValue<R> for TruncatedNormal<M, S> {
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
    use crate::special::std_normal_pdf;
    use proptest::prelude::*;
    use statrs::distribution::{Continuous, ContinuousCDF, Normal};

    /// Reference log-density from statrs pieces (moderate ranges only).
    fn reference(x: f64, mu: f64, sigma: f64, lower: f64, upper: f64) -> f64 {
        let std = Normal::new(0.0, 1.0).unwrap();
        let (a, b) = ((lower - mu) / sigma, (upper - mu) / sigma);
        let mass = if a > 0.0 {
            std.cdf(-a) - std.cdf(-b)
        } else {
            std.cdf(b) - std.cdf(a)
        };
        Normal::new(mu, sigma).unwrap().ln_pdf(x) - mass.ln()
    }

    /// Reference CDF, computed on the side of the smaller tail.
    fn reference_cdf(x: f64, mu: f64, sigma: f64, lower: f64, upper: f64) -> f64 {
        let std = Normal::new(0.0, 1.0).unwrap();
        let (a, b, z) = ((lower - mu) / sigma, (upper - mu) / sigma, (x - mu) / sigma);
        if a > 0.0 {
            (std.cdf(-a) - std.cdf(-z)) / (std.cdf(-a) - std.cdf(-b))
        } else {
            (std.cdf(z) - std.cdf(a)) / (std.cdf(b) - std.cdf(a))
        }
    }

    proptest! {
        #[test]
        fn log_density_matches_statrs(
            mu in -5.0f64..5.0,
            sigma in 0.1f64..5.0,
            ta in -4.0f64..3.0,
            width in 0.1f64..4.0,
            u in 0.0f64..1.0,
            sides in 0usize..4,
        ) {
            let lower = if sides & 1 == 0 { mu + ta * sigma } else { f64::NEG_INFINITY };
            let upper = if sides & 2 == 0 { mu + (ta + width) * sigma } else { f64::INFINITY };
            let x = match (lower.is_finite(), upper.is_finite()) {
                (true, true) => lower + u * (upper - lower),
                (true, false) => lower + u * 3.0 * sigma,
                (false, true) => upper - u * 3.0 * sigma,
                (false, false) => mu + (u - 0.5) * 6.0 * sigma,
            };
            let ours = lpdf(&TruncatedNormal::new(mu, sigma, lower, upper).unwrap(), x);
            let theirs = reference(x, mu, sigma, lower, upper);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    #[test]
    fn far_tail_normaliser_is_accurate() {
        // 1 − Φ(40) is 0 in f64; the normaliser must come from ln Φ(−40), with
        // Φ(−40) ≈ φ(40)/40 · (1 − 1/40² + 3/40⁴ − 15/40⁶).
        let d = TruncatedNormal::new(0.0, 1.0, 40.0, f64::INFINITY).unwrap();
        let lp = lpdf(&d, 40.0);
        let series: f64 = 1.0 - 1.0 / 1600.0 + 3.0 / 1600f64.powi(2) - 15.0 / 1600f64.powi(3);
        let expected = 40f64.ln() - series.ln();
        assert!((lp - expected).abs() < 1e-9, "{lp} vs {expected}");
        // Two-sided, deep in the lower tail.
        let d = TruncatedNormal::new(0.0, 1.0, -41.0, -40.0).unwrap();
        assert!((lpdf(&d, -40.0) - expected).abs() < 1e-6);
    }

    struct Scalars {
        lower: f64,
        upper: f64,
    }
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            TruncatedNormal::new(a[1], a[2], self.lower, self.upper)
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            TruncatedNormal::new(a[3], a[4], -1.0, 3.0)
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    struct SliceMu;
    impl ScalarFamily for SliceMu {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            TruncatedNormal::new(&a[1..3], a[3], 0.0, f64::INFINITY)
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        let inf = f64::INFINITY;
        let two_sided = Scalars {
            lower: -1.0,
            upper: 2.0,
        };
        check_gradients(&two_sided, &[0.3, 0.5, 0.7], 1e-5);
        check_gradients(&two_sided, &[1.5, 4.0, 0.5], 1e-5);
        let lower_only = Scalars {
            lower: 0.0,
            upper: inf,
        };
        check_gradients(&lower_only, &[1.3, 0.5, 0.7], 1e-5);
        check_gradients(&lower_only, &[10.5, -20.0, 1.0], 1e-5);
        let upper_only = Scalars {
            lower: -inf,
            upper: 1.0,
        };
        check_gradients(&upper_only, &[0.3, 2.5, 1.7], 1e-5);
        let untruncated = Scalars {
            lower: -inf,
            upper: inf,
        };
        check_gradients(&untruncated, &[0.3, 2.5, 1.7], 1e-5);
        check_gradients(&SliceX, &[0.4, -0.9, 2.7, 0.3, 1.8], 1e-5);
        check_gradients(&SliceMu, &[0.4, -0.9, 2.7, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = TruncatedNormal::new(0.0, 1.0, -1.0, 1.0).unwrap();
        assert_eq!(lpdf(&d, -1.5), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 1.5), f64::NEG_INFINITY);
        let xs = [0.5, 1.5];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!(out[0].is_finite());
        assert_eq!(out[1], f64::NEG_INFINITY);
        assert_eq!(
            Distribution::<f64>::support(&d),
            Support::Interval(-1.0, 1.0)
        );
        let d = TruncatedNormal::new(0.0, 1.0, f64::NEG_INFINITY, 1.0).unwrap();
        assert_eq!(Distribution::<f64>::support(&d), Support::LessThan(1.0));
    }

    /// Mean and variance of the truncated normal.
    fn moments(mu: f64, sigma: f64, lower: f64, upper: f64) -> (f64, f64) {
        let (a, b) = ((lower - mu) / sigma, (upper - mu) / sigma);
        let z = log_normaliser(mu, sigma, lower, upper).exp();
        let (pa, pb) = (std_normal_pdf(a), std_normal_pdf(b));
        let (apa, bpb) = (
            if a.is_finite() { a * pa } else { 0.0 },
            if b.is_finite() { b * pb } else { 0.0 },
        );
        let m = (pa - pb) / z;
        (
            mu + sigma * m,
            sigma * sigma * (1.0 + (apa - bpb) / z - m * m),
        )
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let inf = f64::INFINITY;
        let cases = [
            (1.0, 2.0, -1.0, 2.5),
            (0.0, 1.0, 0.5, inf),
            (0.0, 1.0, -inf, -1.0),
            (2.0, 0.5, 4.5, 6.0),
            (0.0, 1.0, -inf, inf),
        ];
        for (k, (mu, sigma, lower, upper)) in cases.into_iter().enumerate() {
            let d = TruncatedNormal::new(mu, sigma, lower, upper).unwrap();
            let mut xs = Vec::new();
            Distribution::<f64>::draw(&d, &mut test_rng(17 + k as u64), 20_000, &mut xs);
            assert!(xs.iter().all(|x| (lower..=upper).contains(x)));
            let (m, v) = moments(mu, sigma, lower, upper);
            check_moments(&xs, m, v);
            check_ks(&mut xs, |x| reference_cdf(x, mu, sigma, lower, upper));
        }
    }

    #[test]
    fn draws_far_in_the_tail() {
        let d = TruncatedNormal::new(0.0, 1.0, 50.0, f64::INFINITY).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(30), 2_000, &mut xs);
        // The excess over the bound is approximately exponential with rate 50.
        let mean_excess = xs.iter().map(|x| x - 50.0).sum::<f64>() / 2_000.0;
        assert!(xs.iter().all(|x| *x >= 50.0 && x.is_finite()));
        assert!((mean_excess - 0.02).abs() < 0.002, "{mean_excess}");
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let inf = f64::INFINITY;
        let e = |r: Result<TruncatedNormal<f64, f64>, ParamError>| r.unwrap_err().parameter;
        assert_eq!(e(TruncatedNormal::new(f64::NAN, 1.0, 0.0, 1.0)), "mu");
        assert_eq!(e(TruncatedNormal::new(0.0, 0.0, 0.0, 1.0)), "sigma");
        assert_eq!(e(TruncatedNormal::new(0.0, 1.0, f64::NAN, 1.0)), "lower");
        assert_eq!(e(TruncatedNormal::new(0.0, 1.0, inf, inf)), "lower");
        assert_eq!(e(TruncatedNormal::new(0.0, 1.0, 0.0, -inf)), "upper");
        assert_eq!(e(TruncatedNormal::new(0.0, 1.0, 1.0, 1.0)), "upper");
        assert_eq!(e(TruncatedNormal::new(0.0, 1.0, 0.0, f64::NAN)), "upper");
    }
}
