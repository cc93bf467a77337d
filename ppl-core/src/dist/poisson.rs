//! The Poisson distribution, with the rate or its logarithm as parameter.

use super::{Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------
// Helpers shared by the count distributions of this module's siblings.
// ---------------------------------------------------------------------------------------

/// Entries of the `ln k!` table.
const LN_FACTORIAL_TABLE: usize = 1024;

/// `ln k!` for a non-negative integer `k` given as `f64` (a table below 1024, `ln Γ(k+1)`
/// above).
#[inline]
pub(super) fn ln_factorial(k: f64) -> f64 {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    if k < LN_FACTORIAL_TABLE as f64 {
        let table = TABLE.get_or_init(|| {
            (0..LN_FACTORIAL_TABLE)
                .map(|i| crate::special::ln_gamma(i as f64 + 1.0))
                .collect()
        });
        table[k as usize]
    } else {
        crate::special::ln_gamma(k + 1.0)
    }
}

/// `ln C(n, k)` for integers `0 ≤ k ≤ n` given as `f64`.
#[inline]
pub(super) fn ln_choose(n: f64, k: f64) -> f64 {
    ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
}

/// Tables of the rising factorial's logarithm and its derivative for `j = 0..=up_to`:
/// `ln[j] = ln Γ(x+j) − ln Γ(x) = Σ_{i<j} ln(x+i)` and `d[j] = ψ(x+j) − ψ(x) =
/// Σ_{i<j} 1/(x+i)` (both cleared first).
pub(super) fn rising_factorial_tables(x: f64, up_to: usize, ln: &mut Vec<f64>, d: &mut Vec<f64>) {
    ln.clear();
    d.clear();
    ln.push(0.0);
    d.push(0.0);
    for j in 0..up_to {
        let xj = x + j as f64;
        ln.push(ln[j] + xj.ln());
        d.push(d[j] + 1.0 / xj);
    }
}

/// Above this `x`, [`ln_rising`] takes the asymptotic series of ln Γ and ψ: the
/// difference of two `ln Γ` values of size ~`x ln x` would lose ~`x ln x · 1e-16` to
/// cancellation (2e-3 at `x = 1e12`), and of two ψ values ~1e-13·ψ. The series' first
/// omitted terms are below 1e-20 here.
const STIRLING_RISING: f64 = 100.0;

/// Stirling's correction `ln Γ(y) − (y − ½) ln y + y − ½ ln 2π` to four terms, in the
/// scalar type.
#[inline]
fn stirling_correction<R: Real>(y: R) -> R {
    let inv = R::constant(1.0) / y;
    let inv2 = inv * inv;
    inv * ((inv2 * ((inv2 * (-(inv2 / 1680.0) + 1.0 / 1260.0)) - 1.0 / 360.0)) + 1.0 / 12.0)
}

/// `ln Γ(x+k) − ln Γ(x)` (the log of the rising factorial `x(x+1)⋯(x+k−1)`) and its
/// derivative `ψ(x+k) − ψ(x)`, for `x > 0` and a count `k`, without the cancellation
/// of the two `ln Γ`/ψ values when `x` is large.
pub(super) fn ln_rising(x: f64, k: f64) -> (f64, f64) {
    if x <= STIRLING_RISING {
        return (
            crate::special::ln_gamma(x + k) - crate::special::ln_gamma(x),
            crate::special::digamma(x + k) - crate::special::digamma(x),
        );
    }
    let value = ln_rising_real(x, k);
    // ψ(y) = ln y − 1/(2y) − 1/(12y²) + 1/(120y⁴) − 1/(252y⁶) + …, differenced term by
    // term, the first three in forms that do not cancel.
    let y = x + k;
    let (x2, y2) = (x * x, y * y);
    let (x4, y4) = (x2 * x2, y2 * y2);
    let deriv = (k / x).ln_1p()
        + k / (2.0 * x * y)
        + k * (x + y) / (12.0 * x2 * y2)
        + (1.0 / y4 - 1.0 / x4) / 120.0
        - (1.0 / (y4 * y2) - 1.0 / (x4 * x2)) / 252.0;
    (value, deriv)
}

/// `ln Γ(x+k) − ln Γ(x)` in the scalar type (derivatives of any order follow); for
/// large `x` from Stirling's series, `(x − ½) ln(1 + k/x) + k ln(x+k) − k` plus the
/// difference of the corrections.
pub(super) fn ln_rising_real<R: Real>(x: R, k: f64) -> R {
    if x.value() <= STIRLING_RISING {
        return (x + k).ln_gamma() - x.ln_gamma();
    }
    (x - 0.5) * (R::constant(k) / x).ln_1p() + (x + k).ln() * k - k + stirling_correction(x + k)
        - stirling_correction(x)
}

/// True for a non-negative integer (NaN and infinities are not).
#[inline]
pub(super) fn is_count(x: f64) -> bool {
    x >= 0.0 && x.is_finite() && x == x.trunc()
}

/// The scalar behind a scalar operand (constants are lifted), `None` for slices.
#[inline]
pub(super) fn scalar_of<R: Real>(op: Operand<'_, R>) -> Option<R> {
    match op {
        Operand::Const(c) => Some(R::constant(c)),
        Operand::Scalar(s) => Some(s),
        _ => None,
    }
}

/// Sufficient statistics of count data: `(Σ x, Σ ln x!)`, or `None` when an element is
/// not a count (or exceeds `upper`).
pub(super) fn count_stats<R: Real>(
    x: Operand<'_, R>,
    n: usize,
    upper: Option<f64>,
) -> Option<(f64, f64)> {
    let (mut sum, mut sum_ln_fact) = (0.0, 0.0);
    for k in x.values(n) {
        if !is_count(k) || upper.is_some_and(|u| k > u) {
            return None;
        }
        sum += k;
        sum_ln_fact += ln_factorial(k);
    }
    Some((sum, sum_ln_fact))
}

/// Draws a Poisson count with rate `lambda` (0 for a zero rate, NaN for an invalid one).
/// Rates below this are sampled by inverting the CDF (see [`sample_poisson`]).
const TINY_RATE: f64 = 1e-8;

pub(super) fn sample_poisson(rng: &mut dyn RngCore, lambda: f64) -> f64 {
    if lambda == 0.0 {
        return 0.0;
    }
    if lambda > 0.0 && lambda < TINY_RATE {
        // rand_distr's method fails (returns −1) once e^−λ rounds to 1 (λ ≲ 1e-16):
        // invert the CDF instead. P(k ≥ 1) = 1 − e^−λ; P(k ≥ 2) < λ²/2 < 5e-17 is
        // below what a uniform draw can resolve, so a nonzero draw is 1.
        let at_least_one = -(-lambda).exp_m1();
        return if rand::Rng::gen::<f64>(rng) < at_least_one {
            1.0
        } else {
            0.0
        };
    }
    match rand_distr::Poisson::new(lambda) {
        Ok(d) => d.sample(rng),
        Err(_) => f64::NAN,
    }
}

// ---------------------------------------------------------------------------------------
// Poisson(λ)
// ---------------------------------------------------------------------------------------

/// Poisson distribution with rate `lambda ≥ 0` over the counts `0, 1, 2, …`:
/// `ln p(x) = x ln λ − λ − ln x!`.
///
/// Values outside the support (negative or non-integer) have log-density −∞.
///
/// ```
/// use ppl_core::dist::{Distribution, Poisson};
/// use ppl_core::param::Param;
/// let d = Poisson::new(3.0).unwrap();
/// let counts: &[i64] = &[0, 2, 5];
/// let lp: f64 = d.log_density(Param::<f64>::operand(&counts)).unwrap();
/// let want = -3.0 + (2.0 * 3.0_f64.ln() - 3.0 - 2.0_f64.ln())
///     + (5.0 * 3.0_f64.ln() - 3.0 - 120.0_f64.ln());
/// assert!((lp - want).abs() < 1e-12);
/// assert!(Poisson::new(-1.0).is_err());
///
/// // λ is the mean (a rate, not its logarithm: see `PoissonLog`). λ = 0 is allowed
/// // and puts all mass on 0.
/// let zero_rate = Poisson::new(0.0).unwrap();
/// let at_zero: f64 = zero_rate.log_density(Param::<f64>::operand(&0_i64)).unwrap();
/// let at_one: f64 = zero_rate.log_density(Param::<f64>::operand(&1_i64)).unwrap();
/// assert_eq!((at_zero, at_one), (0.0, f64::NEG_INFINITY));
/// // Negative counts are outside the support.
/// let lp: f64 = d.log_density(Param::<f64>::operand(&-1_i64)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// let err = Poisson::new(f64::INFINITY).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("lambda", "must be finite"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Poisson<L> {
    lambda: L,
}

impl<L: ParamValues> Poisson<L> {
    /// Builds the distribution; `lambda` must be finite and non-negative.
    pub fn new(lambda: L) -> Result<Self, ParamError> {
        check_param("Poisson", "lambda", &lambda, "must be non-negative", |l| {
            l >= 0.0
        })?;
        Ok(Poisson { lambda })
    }
}

struct PoissonKernel;

impl Kernel<2> for PoissonKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, lambda]: [R; 2]) -> R {
        let k = x.value();
        if !is_count(k) {
            return R::constant(f64::NEG_INFINITY);
        }
        if k == 0.0 {
            return -lambda;
        }
        lambda.ln() * k - lambda - ln_factorial(k)
    }
    #[inline]
    fn eval_partials(&self, [k, lambda]: [f64; 2]) -> (f64, [f64; 2]) {
        if !is_count(k) {
            return (f64::NEG_INFINITY, [0.0; 2]);
        }
        if k == 0.0 {
            return (-lambda, [0.0, -1.0]);
        }
        (
            k * lambda.ln() - lambda - ln_factorial(k),
            [0.0, k / lambda - 1.0],
        )
    }
}

/// Sum over `n` counts with a scalar rate: `Σx ln λ − nλ − Σ ln x!`, one edge.
fn poisson_sum_scalar<R: Real>(x: Operand<'_, R>, lambda: R, n: usize) -> R {
    let Some((sum, sum_ln_fact)) = count_stats(x, n, None) else {
        return R::constant(f64::NEG_INFINITY);
    };
    let (l, nf) = (lambda.value(), n as f64);
    R::record_wide(|w| {
        if sum == 0.0 {
            w.push(lambda.tape_index(), -nf);
            return -nf * l - sum_ln_fact;
        }
        w.push(lambda.tape_index(), sum / l - nf);
        sum * l.ln() - nf * l - sum_ln_fact
    })
}

impl<R: Real, L: Param<R>> Distribution<R> for Poisson<L> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "Poisson"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.lambda.operand().len())
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        Support::Integers {
            lower: Some(0),
            upper: None,
        }
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = [x, self.lambda.operand()];
        let n = broadcast_len(&["x", "lambda"], &ops)?;
        if R::MODE != EvalMode::Dual {
            if let Some(lambda) = scalar_of(ops[1]) {
                return Ok(poisson_sum_scalar(ops[0], lambda, n));
            }
        }
        Ok(vectorized::sum(&PoissonKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [x, self.lambda.operand()];
        let n = broadcast_len(&["x", "lambda"], &ops)?;
        vectorized::pointwise(&PoissonKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let lambda = self.lambda.operand();
        for i in 0..n {
            out.push(sample_poisson(rng, lambda.value(i)));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, L: Param<R>> ElementValue<R> for Poisson<L> {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

// ---------------------------------------------------------------------------------------
// PoissonLog(η)
// ---------------------------------------------------------------------------------------

/// Poisson distribution parameterised by the log-rate `log_lambda = η` (Stan's
/// `poisson_log`): `ln p(x) = x η − e^η − ln x!`, stable for large |η| and the natural
/// likelihood of a log-link regression.
///
/// ```
/// use ppl_core::dist::{Distribution, PoissonLog};
/// use ppl_core::param::Param;
/// let d = PoissonLog::new(3.0_f64.ln()).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&2_i64)).unwrap();
/// assert!((lp - (2.0 * 3.0_f64.ln() - 3.0 - 2.0_f64.ln())).abs() < 1e-12);
/// assert!(PoissonLog::new(f64::NAN).is_err());
///
/// // The argument is η = ln λ; written out at η = −0.5, x = 4 (4! = 24):
/// let eta = -0.5_f64;
/// let d = PoissonLog::new(eta).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&4_i64)).unwrap();
/// assert!((lp - (4.0 * eta - eta.exp() - 24f64.ln())).abs() < 1e-14);
/// let lp: f64 = d.log_density(Param::<f64>::operand(&-2_i64)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// assert_eq!(PoissonLog::new(f64::INFINITY).unwrap_err().parameter, "log_lambda");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PoissonLog<E> {
    log_lambda: E,
}

impl<E: ParamValues> PoissonLog<E> {
    /// Builds the distribution; `log_lambda` must be finite.
    pub fn new(log_lambda: E) -> Result<Self, ParamError> {
        check_param(
            "PoissonLog",
            "log_lambda",
            &log_lambda,
            "must be finite",
            |_| true,
        )?;
        Ok(PoissonLog { log_lambda })
    }
}

struct PoissonLogKernel;

impl Kernel<2> for PoissonLogKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, eta]: [R; 2]) -> R {
        let k = x.value();
        if !is_count(k) {
            return R::constant(f64::NEG_INFINITY);
        }
        eta * k - eta.exp() - ln_factorial(k)
    }
    #[inline]
    fn eval_partials(&self, [k, eta]: [f64; 2]) -> (f64, [f64; 2]) {
        if !is_count(k) {
            return (f64::NEG_INFINITY, [0.0; 2]);
        }
        let rate = eta.exp();
        (k * eta - rate - ln_factorial(k), [0.0, k - rate])
    }
    fn eval_columns(&self, cols: [&[f64]; 2], partials: &mut [Vec<f64>; 2]) -> Option<f64> {
        let [k, eta] = cols;
        // The counts' ln k! (data only: a table lookup each), then a vectorised loop.
        let mut ln_fact = 0.0;
        for &ki in k {
            if !is_count(ki) {
                return None;
            }
            ln_fact += ln_factorial(ki);
        }
        vectorized::columns_sum(k.len(), partials, |values, d| {
            poisson_log_rows(k, eta, values, d)
        })
        .map(|total| total - ln_fact)
    }
}

crate::vecmath::simd_fn! {
    /// `k η − e^η` per element (without ln k!) and ∂/∂η = k − e^η; `false` where a rate
    /// is not finite.
    fn poisson_log_rows(k: &[f64], eta: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 2]) -> bool {
        let n = values.len();
        let (k, eta) = (&k[..n], &eta[..n]);
        let d_eta = &mut d[1][..n];
        let mut ok = true;
        for i in 0..n {
            let rate = crate::vecmath::exp_with::<FMA>(eta[i]);
            ok &= rate.is_finite() & eta[i].is_finite();
            values[i] = k[i] * eta[i] - rate;
            d_eta[i] = k[i] - rate;
        }
        ok
    }
}

/// Sum over `n` counts with a scalar log-rate: `Σx η − n e^η − Σ ln x!`, one edge.
fn poisson_log_sum_scalar<R: Real>(x: Operand<'_, R>, eta: R, n: usize) -> R {
    let Some((sum, sum_ln_fact)) = count_stats(x, n, None) else {
        return R::constant(f64::NEG_INFINITY);
    };
    let (e, nf) = (eta.value(), n as f64);
    let rate = e.exp();
    R::record_wide(|w| {
        w.push(eta.tape_index(), sum - nf * rate);
        sum * e - nf * rate - sum_ln_fact
    })
}

impl<R: Real, E: Param<R>> Distribution<R> for PoissonLog<E> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "PoissonLog"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.log_lambda.operand().len())
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        Support::Integers {
            lower: Some(0),
            upper: None,
        }
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = [x, self.log_lambda.operand()];
        let n = broadcast_len(&["x", "log_lambda"], &ops)?;
        if R::MODE != EvalMode::Dual {
            if let Some(eta) = scalar_of(ops[1]) {
                return Ok(poisson_log_sum_scalar(ops[0], eta, n));
            }
        }
        Ok(vectorized::sum(&PoissonLogKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [x, self.log_lambda.operand()];
        let n = broadcast_len(&["x", "log_lambda"], &ops)?;
        vectorized::pointwise(&PoissonLogKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let eta = self.log_lambda.operand();
        for i in 0..n {
            out.push(sample_poisson(rng, eta.value(i).exp()));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, E: Param<R>> ElementValue<R> for PoissonLog<E> {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_moments, lpdf, test_rng, ScalarFamily};
    use crate::tape::{self, Var};
    use proptest::prelude::*;
    use statrs::distribution::Discrete;

    #[test]
    fn tiny_rates_draw_counts_not_minus_one() {
        // rand_distr returns −1 once e^−λ rounds to 1; the draws must stay counts.
        let mut rng = test_rng(21);
        let mut out = Vec::new();
        for lambda in [1e-17, 1e-12, 1e-9] {
            out.clear();
            Distribution::<f64>::draw(&Poisson::new(lambda).unwrap(), &mut rng, 10_000, &mut out);
            assert!(out.iter().all(|k| *k == 0.0 || *k == 1.0), "λ = {lambda}");
        }
        out.clear();
        Distribution::<f64>::draw(&PoissonLog::new(-40.0).unwrap(), &mut rng, 10_000, &mut out);
        assert!(out.iter().all(|k| *k >= 0.0));
        // Gamma-mixed rates of a negative binomial with small φ are often tiny.
        out.clear();
        let nb = crate::dist::NegativeBinomial::new(1.0, 1e-3).unwrap();
        Distribution::<f64>::draw(&nb, &mut rng, 10_000, &mut out);
        assert!(out.iter().all(|k| *k >= 0.0 && k.fract() == 0.0));
    }

    #[test]
    fn ln_rising_is_accurate_for_large_arguments() {
        // Reference: the sums Σ ln(x+i) and Σ 1/(x+i), compensated (Neumaier), so
        // accurate to about an ulp of each term.
        fn sum(terms: impl Iterator<Item = f64>) -> f64 {
            let (mut s, mut c) = (0.0f64, 0.0f64);
            for t in terms {
                let u = s + t;
                c += if s.abs() >= t.abs() {
                    (s - u) + t
                } else {
                    (t - u) + s
                };
                s = u;
            }
            s + c
        }
        for x in [
            0.3,
            7.5,
            99.0,
            100.0 * (1.0 + 1e-12),
            9_999.0,
            3.7e5,
            1e9,
            1e12,
            1e15,
        ] {
            for k in [0.0, 1.0, 17.0, 250.0, 3000.0] {
                let (value, deriv) = ln_rising(x, k);
                let terms = || (0..k as usize).map(|i| x + i as f64);
                let want = sum(terms().map(f64::ln));
                let want_d = sum(terms().map(|t| 1.0 / t));
                // Below the switch the ln Γ difference loses ~x ln x · 1e-16.
                let slack = if x <= STIRLING_RISING {
                    x * x.ln() * 1e-15
                } else {
                    0.0
                };
                let tol = 1e-14 * want.abs().max(1.0) + slack;
                assert!(
                    (value - want).abs() <= tol,
                    "x {x} k {k}: {value} vs {want}"
                );
                // Below it the ψ difference loses ~1e-13·ψ.
                let slack_d = if x <= STIRLING_RISING {
                    4e-13 * ((x + k).ln().abs() + 1.0)
                } else {
                    0.0
                };
                let tol_d = 1e-13 * want_d.abs() + slack_d;
                assert!(
                    (deriv - want_d).abs() <= tol_d,
                    "x {x} k {k}: {deriv} vs {want_d}"
                );
                // The scalar-type version gives the same value, and with dual numbers
                // the same derivative.
                assert_eq!(ln_rising_real(x, k), value);
                let dual = crate::scalar::dual::Fwd(num_dual::Dual64::new(x, 1.0));
                let d = ln_rising_real(dual, k).0;
                assert!((d.re - value).abs() <= 1e-15 * value.abs());
                assert!(
                    (d.eps - want_d).abs() <= tol_d,
                    "x {x} k {k}: {} vs {want_d}",
                    d.eps
                );
            }
        }
    }

    #[test]
    fn ln_factorial_matches_lgamma() {
        for k in [
            0.0, 1.0, 2.0, 10.0, 19.0, 20.0, 21.0, 170.0, 1023.0, 1024.0, 5000.0,
        ] {
            let want = crate::special::ln_gamma(k + 1.0);
            assert!(
                (ln_factorial(k) - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{k}"
            );
        }
        assert!((ln_choose(5.0, 2.0) - 10.0_f64.ln()).abs() < 1e-13);
        assert!(is_count(0.0) && is_count(7.0));
        assert!(!is_count(-1.0) && !is_count(0.5) && !is_count(f64::NAN));
        assert!(!is_count(f64::INFINITY));
    }

    proptest! {
        #[test]
        fn poisson_matches_statrs(lambda in 0.01f64..50.0, x in 0u64..80) {
            let ours = lpdf(&Poisson::new(lambda).unwrap(), x as f64);
            let theirs = statrs::distribution::Poisson::new(lambda).unwrap().ln_pmf(x);
            prop_assert!((ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }

        #[test]
        fn poisson_log_matches_statrs(eta in -4.0f64..4.0, x in 0u64..80) {
            let ours = lpdf(&PoissonLog::new(eta).unwrap(), x as f64);
            let theirs = statrs::distribution::Poisson::new(eta.exp()).unwrap().ln_pmf(x);
            prop_assert!((ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }

        #[test]
        fn vectorised_sum_equals_pointwise_sum(lambda in 0.1f64..20.0, xs in prop::collection::vec(0i64..40, 1..20)) {
            let d = Poisson::new(lambda).unwrap();
            let total: f64 = d.log_density(Operand::IntData(&xs)).unwrap();
            let mut pw = Vec::new();
            Distribution::<f64>::log_density_pointwise(&d, Operand::IntData(&xs), &mut pw).unwrap();
            let s: f64 = pw.iter().sum();
            prop_assert!((total - s).abs() <= 1e-9 * s.abs().max(1.0));
        }
    }

    #[test]
    fn zero_rate_and_outside_support() {
        let d = Poisson::new(0.0).unwrap();
        assert_eq!(lpdf(&d, 0.0), 0.0);
        assert_eq!(lpdf(&d, 2.0), f64::NEG_INFINITY);
        let d = Poisson::new(2.0).unwrap();
        assert_eq!(lpdf(&d, -1.0), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 1.5), f64::NEG_INFINITY);
        let data = [1.0, -1.0, 3.0];
        let lp: f64 = d.log_density(Operand::Data(&data)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        // Also through the per-element kernel (slice rates) and on the tape.
        let rates = [1.0, 2.0, 3.0];
        let dv = Poisson::new(&rates[..]).unwrap();
        let lp: f64 = dv.log_density(Operand::Data(&data)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        tape::reset();
        let l = Var::leaf(2.0);
        let lp = Poisson::new(l)
            .unwrap()
            .log_density(Operand::Data(&data))
            .unwrap();
        assert_eq!(lp.value(), f64::NEG_INFINITY);
        let dl = PoissonLog::new(0.3).unwrap();
        assert_eq!(lpdf(&dl, -1.0), f64::NEG_INFINITY);
        let s: Support<f64> = Distribution::<f64>::support(&d);
        assert!(!s.contains(-1.0) && s.contains(4.0));
        assert!(Distribution::<f64>::is_discrete(&d));
    }

    #[test]
    fn constructor_errors() {
        assert!(Poisson::new(-0.5).is_err());
        assert!(Poisson::new(f64::INFINITY).is_err());
        assert!(Poisson::new(vec![1.0, -2.0]).is_err());
        let e = Poisson::new(-0.5).unwrap_err();
        assert_eq!((e.distribution, e.parameter), ("Poisson", "lambda"));
        assert!(PoissonLog::new(f64::NEG_INFINITY).is_err());
        assert!(PoissonLog::new(-30.0).is_ok());
    }

    #[test]
    fn length_mismatch_is_reported() {
        let d = Poisson::new(vec![1.0, 2.0]).unwrap();
        let xs = [1_i64, 2, 3];
        let r: Result<f64, _> = d.log_density(Operand::IntData(&xs));
        assert_eq!(r.unwrap_err().argument, "lambda");
        assert_eq!(Distribution::<f64>::batch_len(&d), Ok(Some(2)));
    }

    struct ScalarRate {
        log: bool,
        data: Vec<i64>,
    }
    impl ScalarFamily for ScalarRate {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            if self.log {
                PoissonLog::new(args[0])
                    .unwrap()
                    .log_density(Operand::IntData(&self.data))
                    .unwrap()
            } else {
                Poisson::new(args[0])
                    .unwrap()
                    .log_density(Operand::IntData(&self.data))
                    .unwrap()
            }
        }
    }

    struct SliceRate {
        log: bool,
        data: Vec<f64>,
    }
    impl ScalarFamily for SliceRate {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            if self.log {
                PoissonLog::new(args)
                    .unwrap()
                    .log_density(Operand::Data(&self.data))
                    .unwrap()
            } else {
                Poisson::new(args)
                    .unwrap()
                    .log_density(Operand::Data(&self.data))
                    .unwrap()
            }
        }
    }

    #[test]
    fn gradients() {
        for log in [false, true] {
            // Scalar data, scalar rate.
            let f = ScalarRate { log, data: vec![3] };
            check_gradients(&f, &[if log { 0.4 } else { 2.5 }], 1e-6);
            // Slice data, scalar rate (one fat node).
            let f = ScalarRate {
                log,
                data: vec![0, 3, 1, 7, 2, 0],
            };
            check_gradients(&f, &[if log { 0.9 } else { 2.3 }], 1e-6);
            check_gradients(&f, &[if log { -1.3 } else { 0.2 }], 1e-6);
            // Slice data, slice rates.
            let f = SliceRate {
                log,
                data: vec![0.0, 4.0, 2.0],
            };
            let args = if log {
                [0.1, 1.2, -0.5]
            } else {
                [0.7, 3.1, 1.5]
            };
            check_gradients(&f, &args, 1e-6);
        }
    }

    #[test]
    fn scalar_rate_records_one_node() {
        let data: Vec<i64> = (0..100).map(|i| i % 7).collect();
        tape::reset();
        let l = Var::leaf(2.0);
        let before = tape::len();
        let lp = Poisson::new(l)
            .unwrap()
            .log_density(Operand::IntData(&data))
            .unwrap();
        assert_eq!(tape::len(), before + 1);
        let plain: f64 = Poisson::new(2.0)
            .unwrap()
            .log_density(Operand::IntData(&data))
            .unwrap();
        assert!((lp.value() - plain).abs() < 1e-10);
    }

    #[test]
    fn sampling_moments() {
        let mut rng = test_rng(11);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&Poisson::new(3.5).unwrap(), &mut rng, 20_000, &mut xs);
        check_moments(&xs, 3.5, 3.5);
        assert!(xs.iter().all(|x| is_count(*x)));
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&PoissonLog::new(2.0).unwrap(), &mut rng, 20_000, &mut xs);
        let l = 2.0_f64.exp();
        check_moments(&xs, l, l);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&Poisson::new(0.0).unwrap(), &mut rng, 10, &mut xs);
        assert!(xs.iter().all(|x| *x == 0.0));
    }

    #[test]
    fn element_values_are_integers() {
        assert_eq!(
            <Poisson<f64> as Distribution<f64>>::value_from(smallvec::smallvec![3.0]),
            3
        );
        assert_eq!(
            <PoissonLog<f64> as ElementValue<f64>>::element_from(2.0000001),
            2
        );
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path_by_element;
    use crate::tape::Var;

    /// A vector of parameters over 40 observations (the column loop) against 40
    /// one-element densities.
    #[test]
    fn columns_path_matches_the_element_path() {
        let eta: Vec<f64> = (0..40).map(|i| (i as f64 * 0.7).sin() * 2.5).collect();
        let k: Vec<i64> = (0..40).map(|i| ((i * 7) % 5) as i64).collect();
        fn lp<D: Distribution<Var>>(d: D, k: &[i64]) -> Var {
            d.log_density(Operand::IntData(k)).unwrap()
        }
        check_columns_path_by_element(
            |p| lp(PoissonLog::new(p).unwrap(), &k),
            |p, i| lp(PoissonLog::new(p[i]).unwrap(), &k[i..=i]),
            &eta,
            k.len(),
        );
    }
}
