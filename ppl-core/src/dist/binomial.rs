//! The binomial distribution, with the success probability or its log-odds as parameter.

use super::poisson::{is_count, ln_choose, scalar_of};
use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{log1p_exp, sigmoid};
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Checks a number of trials: a non-negative integer (scalar or slice).
pub(super) fn check_trials(
    distribution: &'static str,
    n: &impl ParamValues,
) -> Result<(), ParamError> {
    check_param(
        distribution,
        "n",
        n,
        "must be a non-negative integer",
        is_count,
    )
}

/// The support `0..=n` (upper end open when the trials differ between elements).
pub(super) fn trials_support<R: Real>(n: Operand<'_, R>) -> Support<R> {
    let upper = match n {
        Operand::Const(c) => Some(c as i64),
        Operand::Scalar(s) => Some(s.value() as i64),
        _ => None,
    };
    Support::Integers {
        lower: Some(0),
        upper,
    }
}

/// Sufficient statistics of binomial data: `(Σ x, Σ (n − x), Σ ln C(n, x))`, or `None`
/// when an element is outside `0..=n`.
fn binomial_stats<R: Real>(
    x: Operand<'_, R>,
    trials: Operand<'_, R>,
    len: usize,
) -> Option<(f64, f64, f64)> {
    let (mut successes, mut failures, mut log_choose) = (0.0, 0.0, 0.0);
    for i in 0..len {
        let (k, m) = (x.value(i), trials.value(i));
        if !is_count(k) || k > m {
            return None;
        }
        successes += k;
        failures += m - k;
        log_choose += ln_choose(m, k);
    }
    Some((successes, failures, log_choose))
}

fn sample_binomial(rng: &mut dyn RngCore, m: f64, p: f64) -> f64 {
    match rand_distr::Binomial::new(m as u64, p) {
        Ok(d) => d.sample(rng) as f64,
        Err(_) => f64::NAN,
    }
}

// ---------------------------------------------------------------------------------------
// Binomial(n, p)
// ---------------------------------------------------------------------------------------

/// Binomial distribution: successes in `n` independent trials with success probability
/// `p ∈ [0, 1]`, `ln p(x) = ln C(n, x) + x ln p + (n − x) ln(1 − p)` for `x ∈ 0..=n`
/// (−∞ elsewhere).
///
/// `n` is data: an integer or a slice of integers (one per observation); `p` may be a
/// model scalar or a slice.
///
/// ```
/// use ppl_core::dist::{Binomial, Distribution};
/// use ppl_core::param::Param;
/// let d = Binomial::new(10, 0.3).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&3_i64)).unwrap();
/// let want = 120.0_f64.ln() + 3.0 * 0.3_f64.ln() + 7.0 * 0.7_f64.ln();
/// assert!((lp - want).abs() < 1e-12);
/// assert!(Binomial::new(-1, 0.5).is_err());
/// assert!(Binomial::new(5, 1.2).is_err());
///
/// // `n` counts trials (successes plus failures); written out with ln C(n, x) from
/// // ln Γ at n = 12, p = 0.35, x = 5:
/// use ppl_core::special::ln_gamma;
/// let (n, p, x) = (12.0_f64, 0.35_f64, 5.0_f64);
/// let d = Binomial::new(12, p).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&5_i64)).unwrap();
/// let ln_choose = ln_gamma(n + 1.0) - ln_gamma(x + 1.0) - ln_gamma(n - x + 1.0);
/// assert!((lp - (ln_choose + x * p.ln() + (n - x) * (1.0 - p).ln())).abs() < 1e-12);
/// // More successes than trials, or a negative count, are outside the support.
/// for x in [13_i64, -1] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = Binomial::new(2.5, 0.5).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("n", "must be a non-negative integer"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Binomial<N, P> {
    n: N,
    p: P,
}

impl<N: ParamValues, P: ParamValues> Binomial<N, P> {
    /// Builds the distribution; `n` must be a non-negative integer and `p` lie in
    /// `[0, 1]`.
    pub fn new(n: N, p: P) -> Result<Self, ParamError> {
        check_trials("Binomial", &n)?;
        check_param("Binomial", "p", &p, "must lie in [0, 1]", |v| {
            (0.0..=1.0).contains(&v)
        })?;
        Ok(Binomial { n, p })
    }
}

struct BinomialKernel;

impl Kernel<3> for BinomialKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, n, p]: [R; 3]) -> R {
        let (k, m) = (x.value(), n.value());
        if !is_count(k) || k > m {
            return R::constant(f64::NEG_INFINITY);
        }
        let mut v = R::constant(ln_choose(m, k));
        if k > 0.0 {
            v += p.ln() * k;
        }
        if m > k {
            v += (-p).ln_1p() * (m - k);
        }
        v
    }
    #[inline]
    fn eval_partials(&self, [k, m, p]: [f64; 3]) -> (f64, [f64; 3]) {
        if !is_count(k) || k > m {
            return (f64::NEG_INFINITY, [0.0; 3]);
        }
        let (mut v, mut d) = (ln_choose(m, k), 0.0);
        if k > 0.0 {
            v += k * p.ln();
            d += k / p;
        }
        if m > k {
            v += (m - k) * (-p).ln_1p();
            d -= (m - k) / (1.0 - p);
        }
        (v, [0.0, 0.0, d])
    }
}

/// Sum with a scalar `p`: `Σx ln p + Σ(n−x) ln(1−p) + Σ ln C(n, x)`, one edge.
fn binomial_sum_scalar<R: Real>(x: Operand<'_, R>, trials: Operand<'_, R>, p: R, len: usize) -> R {
    let Some((s, f, lc)) = binomial_stats(x, trials, len) else {
        return R::constant(f64::NEG_INFINITY);
    };
    let pv = p.value();
    R::record_wide(|w| {
        let (mut v, mut d) = (lc, 0.0);
        if s > 0.0 {
            v += s * pv.ln();
            d += s / pv;
        }
        if f > 0.0 {
            v += f * (-pv).ln_1p();
            d -= f / (1.0 - pv);
        }
        w.push(p.tape_index(), d);
        v
    })
}

impl<R: Real, N: Param<R>, P: Param<R>> Distribution<R> for Binomial<N, P> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "Binomial"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["n", "p"], &[self.n.operand(), self.p.operand()])
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        trials_support(self.n.operand())
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = [x, self.n.operand(), self.p.operand()];
        let len = broadcast_len(&["x", "n", "p"], &ops)?;
        if R::MODE != EvalMode::Dual {
            if let Some(p) = scalar_of(ops[2]) {
                return Ok(binomial_sum_scalar(ops[0], ops[1], p, len));
            }
        }
        Ok(vectorized::sum(&BinomialKernel, &ops, len))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [x, self.n.operand(), self.p.operand()];
        let len = broadcast_len(&["x", "n", "p"], &ops)?;
        vectorized::pointwise(&BinomialKernel, &ops, len, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, len: usize, out: &mut Vec<f64>) {
        let (n, p) = (self.n.operand(), self.p.operand());
        for i in 0..len {
            out.push(sample_binomial(rng, n.value(i), p.value(i)));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, N: Param<R>, P: Param<R>> ElementValue<R> for Binomial<N, P> {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

// ---------------------------------------------------------------------------------------
// BinomialLogit(n, α)
// ---------------------------------------------------------------------------------------

/// Binomial distribution parameterised by the log-odds `alpha` of success (Stan's
/// `binomial_logit`): `ln p(x) = ln C(n, x) + x ln σ(α) + (n − x) ln σ(−α)`, stable for
/// any finite α.
///
/// ```
/// use ppl_core::dist::{BinomialLogit, Distribution};
/// use ppl_core::param::Param;
/// let d = BinomialLogit::new(4, 0.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&2_i64)).unwrap();
/// assert!((lp - (6.0_f64 / 16.0).ln()).abs() < 1e-12);
/// assert!(BinomialLogit::new(2.5, 0.0).is_err());
///
/// // `alpha` is the log-odds of success, p = 1/(1 + e^{−α}); written out at n = 4,
/// // α = −0.8, x = 1 (C(4, 1) = 4):
/// let alpha = -0.8_f64;
/// let p = 1.0 / (1.0 + (-alpha).exp());
/// let d = BinomialLogit::new(4, alpha).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1_i64)).unwrap();
/// assert!((lp - (4f64.ln() + p.ln() + 3.0 * (1.0 - p).ln())).abs() < 1e-14);
/// let lp: f64 = d.log_density(Param::<f64>::operand(&5_i64)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY); // more successes than trials
/// assert_eq!(BinomialLogit::new(4, f64::NAN).unwrap_err().parameter, "alpha");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BinomialLogit<N, A> {
    n: N,
    alpha: A,
}

impl<N: ParamValues, A: ParamValues> BinomialLogit<N, A> {
    /// Builds the distribution; `n` must be a non-negative integer and `alpha` finite.
    pub fn new(n: N, alpha: A) -> Result<Self, ParamError> {
        check_trials("BinomialLogit", &n)?;
        check_param("BinomialLogit", "alpha", &alpha, "must be finite", |_| true)?;
        Ok(BinomialLogit { n, alpha })
    }
}

struct BinomialLogitKernel;

impl Kernel<3> for BinomialLogitKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, n, a]: [R; 3]) -> R {
        let (k, m) = (x.value(), n.value());
        if !is_count(k) || k > m {
            return R::constant(f64::NEG_INFINITY);
        }
        let mut v = R::constant(ln_choose(m, k));
        if k > 0.0 {
            v -= (-a).log1p_exp() * k;
        }
        if m > k {
            v -= a.log1p_exp() * (m - k);
        }
        v
    }
    #[inline]
    fn eval_partials(&self, [k, m, a]: [f64; 3]) -> (f64, [f64; 3]) {
        if !is_count(k) || k > m {
            return (f64::NEG_INFINITY, [0.0; 3]);
        }
        let v = ln_choose(m, k) - k * log1p_exp(-a) - (m - k) * log1p_exp(a);
        (v, [0.0, 0.0, k - m * sigmoid(a)])
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        let [k, trials, a] = cols;
        // The counts' ln C(n, k) (data only: table lookups), then a vectorised loop.
        let mut ln_choose_sum = 0.0;
        for (&ki, &ni) in k.iter().zip(trials) {
            if !is_count(ki) || !is_count(ni) || ki > ni {
                return None;
            }
            ln_choose_sum += ln_choose(ni, ki);
        }
        vectorized::columns_sum(k.len(), partials, |values, d| {
            binomial_logit_rows(k, trials, a, values, d)
        })
        .map(|total| total + ln_choose_sum)
    }
}

crate::vecmath::simd_fn! {
    /// `k α − n ln(1 + e^α)` per element (without ln C(n, k); the element kernel's
    /// `−k ln(1 + e^{−α}) − (n − k) ln(1 + e^α)` rearranged) and ∂/∂α = k − n σ(α);
    /// `false` for a non-finite log-odds.
    fn binomial_logit_rows(k: &[f64], trials: &[f64], a: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let (k, trials, a) = (&k[..n], &trials[..n], &a[..n]);
        let d_a = &mut d[2][..n];
        let mut ok = true;
        for i in 0..n {
            ok &= a[i].is_finite();
            let (softplus, sig) = crate::vecmath::ln_1p_exp_and_sigmoid_with::<FMA>(a[i]);
            values[i] = k[i] * a[i] - trials[i] * softplus;
            d_a[i] = k[i] - trials[i] * sig;
        }
        ok
    }
}

/// Sum with a scalar log-odds: `Σx ln σ(α) + Σ(n−x) ln σ(−α) + Σ ln C(n, x)`, one edge.
fn binomial_logit_sum_scalar<R: Real>(
    x: Operand<'_, R>,
    trials: Operand<'_, R>,
    a: R,
    len: usize,
) -> R {
    let Some((s, f, lc)) = binomial_stats(x, trials, len) else {
        return R::constant(f64::NEG_INFINITY);
    };
    let av = a.value();
    R::record_wide(|w| {
        w.push(a.tape_index(), s - (s + f) * sigmoid(av));
        lc - s * log1p_exp(-av) - f * log1p_exp(av)
    })
}

impl<R: Real, N: Param<R>, A: Param<R>> Distribution<R> for BinomialLogit<N, A> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "BinomialLogit"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["n", "alpha"], &[self.n.operand(), self.alpha.operand()])
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        trials_support(self.n.operand())
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = [x, self.n.operand(), self.alpha.operand()];
        let len = broadcast_len(&["x", "n", "alpha"], &ops)?;
        if R::MODE != EvalMode::Dual {
            if let Some(a) = scalar_of(ops[2]) {
                return Ok(binomial_logit_sum_scalar(ops[0], ops[1], a, len));
            }
        }
        Ok(vectorized::sum(&BinomialLogitKernel, &ops, len))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [x, self.n.operand(), self.alpha.operand()];
        let len = broadcast_len(&["x", "n", "alpha"], &ops)?;
        vectorized::pointwise(&BinomialLogitKernel, &ops, len, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, len: usize, out: &mut Vec<f64>) {
        let (n, a) = (self.n.operand(), self.alpha.operand());
        for i in 0..len {
            out.push(sample_binomial(rng, n.value(i), sigmoid(a.value(i))));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, N: Param<R>, A: Param<R>> ElementValue<R> for BinomialLogit<N, A> {
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

    proptest! {
        #[test]
        fn binomial_matches_statrs(p in 0.001f64..0.999, n in 0u64..60, frac in 0.0f64..1.0) {
            let x = (frac * n as f64).floor() as u64;
            let ours = lpdf(&Binomial::new(n as i64, p).unwrap(), x as f64);
            let theirs = statrs::distribution::Binomial::new(p, n).unwrap().ln_pmf(x);
            prop_assert!((ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }

        #[test]
        fn binomial_logit_matches_statrs(a in -6.0f64..6.0, n in 0u64..60, frac in 0.0f64..1.0) {
            let x = (frac * n as f64).floor() as u64;
            let ours = lpdf(&BinomialLogit::new(n as i64, a).unwrap(), x as f64);
            let theirs = statrs::distribution::Binomial::new(sigmoid(a), n).unwrap().ln_pmf(x);
            prop_assert!((ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }

        #[test]
        fn fused_sum_equals_pointwise_sum(a in -4.0f64..4.0, xs in prop::collection::vec(0i64..8, 1..20)) {
            let trials: Vec<i64> = xs.iter().map(|x| x + 3).collect();
            for logit in [false, true] {
                let (total, pw): (f64, Vec<f64>) = if logit {
                    let d = BinomialLogit::new(&trials, a).unwrap();
                    let mut pw = Vec::new();
                    Distribution::<f64>::log_density_pointwise(&d, Operand::IntData(&xs), &mut pw).unwrap();
                    (d.log_density(Operand::IntData(&xs)).unwrap(), pw)
                } else {
                    let d = Binomial::new(&trials, sigmoid(a)).unwrap();
                    let mut pw = Vec::new();
                    Distribution::<f64>::log_density_pointwise(&d, Operand::IntData(&xs), &mut pw).unwrap();
                    (d.log_density(Operand::IntData(&xs)).unwrap(), pw)
                };
                prop_assert!((total - pw.iter().sum::<f64>()).abs() <= 1e-9 * total.abs().max(1.0));
            }
        }
    }

    #[test]
    fn boundaries_and_outside_support() {
        let d = Binomial::new(5, 0.0).unwrap();
        assert_eq!(lpdf(&d, 0.0), 0.0);
        assert_eq!(lpdf(&d, 1.0), f64::NEG_INFINITY);
        let d = Binomial::new(5, 1.0).unwrap();
        assert_eq!(lpdf(&d, 5.0), 0.0);
        let d = Binomial::new(5, 0.4).unwrap();
        for bad in [-1.0, 6.0, 2.5] {
            assert_eq!(lpdf(&d, bad), f64::NEG_INFINITY);
            assert_eq!(
                lpdf(&BinomialLogit::new(5, 0.1).unwrap(), bad),
                f64::NEG_INFINITY
            );
        }
        // Per-element trials: 3 > 2 is outside the support of the second element.
        let trials = [4_i64, 2];
        let xs = [1.0, 3.0];
        let lp: f64 = Binomial::new(&trials[..], 0.5)
            .unwrap()
            .log_density(Operand::Data(&xs))
            .unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        let s: Support<f64> = Distribution::<f64>::support(&d);
        assert_eq!(
            s,
            Support::Integers {
                lower: Some(0),
                upper: Some(5)
            }
        );
        let s: Support<f64> =
            Distribution::<f64>::support(&Binomial::new(&trials[..], 0.5).unwrap());
        assert!(s.contains(7.0) && !s.contains(-1.0));
    }

    #[test]
    fn constructor_errors() {
        assert!(Binomial::new(-1, 0.5).is_err());
        assert!(Binomial::new(3.5, 0.5).is_err());
        assert!(Binomial::new(3, -0.1).is_err());
        assert!(Binomial::new(vec![3_i64, -2], 0.5).is_err());
        assert_eq!(Binomial::new(-1, 0.5).unwrap_err().parameter, "n");
        assert!(BinomialLogit::new(-3, 0.0).is_err());
        assert!(BinomialLogit::new(3, f64::NAN).is_err());
        assert!(Binomial::new(0, 0.5).is_ok());
    }

    #[test]
    fn length_mismatch_is_reported() {
        let d = Binomial::new(vec![3_i64, 4], vec![0.1, 0.2, 0.3]).unwrap();
        assert_eq!(
            Distribution::<f64>::batch_len(&d).unwrap_err().argument,
            "p"
        );
    }

    struct ScalarP {
        logit: bool,
        n: Vec<i64>,
        data: Vec<i64>,
    }
    impl ScalarFamily for ScalarP {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let x = Operand::IntData(&self.data);
            if self.logit {
                BinomialLogit::new(&self.n, args[0])
                    .unwrap()
                    .log_density(x)
                    .unwrap()
            } else {
                Binomial::new(&self.n, args[0])
                    .unwrap()
                    .log_density(x)
                    .unwrap()
            }
        }
    }

    struct SliceP {
        logit: bool,
        data: Vec<f64>,
    }
    impl ScalarFamily for SliceP {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let x = Operand::Data(&self.data);
            if self.logit {
                BinomialLogit::new(6_i64, args)
                    .unwrap()
                    .log_density(x)
                    .unwrap()
            } else {
                Binomial::new(6_i64, args).unwrap().log_density(x).unwrap()
            }
        }
    }

    struct ScalarAll {
        logit: bool,
    }
    impl ScalarFamily for ScalarAll {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let x = Operand::Const(3.0);
            if self.logit {
                BinomialLogit::new(7.0, args[0])
                    .unwrap()
                    .log_density(x)
                    .unwrap()
            } else {
                Binomial::new(7.0, args[0]).unwrap().log_density(x).unwrap()
            }
        }
    }

    #[test]
    fn gradients() {
        for logit in [false, true] {
            let arg = if logit { 0.8 } else { 0.45 };
            check_gradients(&ScalarAll { logit }, &[arg], 1e-6);
            let f = ScalarP {
                logit,
                n: vec![5, 3, 10, 1],
                data: vec![2, 3, 0, 1],
            };
            check_gradients(&f, &[arg], 1e-6);
            let f = SliceP {
                logit,
                data: vec![0.0, 6.0, 2.0],
            };
            let args = if logit {
                [0.1, -1.0, 1.5]
            } else {
                [0.2, 0.7, 0.5]
            };
            check_gradients(&f, &args, 1e-6);
        }
    }

    #[test]
    fn scalar_parameter_records_one_node() {
        let n = vec![10_i64; 40];
        let data: Vec<i64> = (0..40).map(|i| i % 11).collect();
        tape::reset();
        let p = Var::leaf(0.4);
        let before = tape::len();
        let lp = Binomial::new(&n, p)
            .unwrap()
            .log_density(Operand::IntData(&data))
            .unwrap();
        assert_eq!(tape::len(), before + 1);
        let plain: f64 = Binomial::new(&n, 0.4)
            .unwrap()
            .log_density(Operand::IntData(&data))
            .unwrap();
        assert!((lp.value() - plain).abs() < 1e-10);
    }

    #[test]
    fn sampling_moments() {
        let mut rng = test_rng(5);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&Binomial::new(20, 0.3).unwrap(), &mut rng, 20_000, &mut xs);
        check_moments(&xs, 6.0, 4.2);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(
            &BinomialLogit::new(12, -0.5).unwrap(),
            &mut rng,
            20_000,
            &mut xs,
        );
        let p = sigmoid(-0.5);
        check_moments(&xs, 12.0 * p, 12.0 * p * (1.0 - p));
        assert!(xs.iter().all(|x| is_count(*x) && *x <= 12.0));
    }

    #[test]
    fn values_are_integers() {
        assert_eq!(
            <Binomial<i64, f64> as Distribution<f64>>::value_from(smallvec::smallvec![4.0]),
            4
        );
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path_by_element;
    use crate::tape::Var;

    /// A vector of log-odds over 40 binomial counts (the column loop) against 40
    /// one-element densities.
    #[test]
    fn columns_path_matches_the_element_path() {
        fn lp<D: Distribution<Var>>(d: D, k: &[i64]) -> Var {
            d.log_density(Operand::IntData(k)).unwrap()
        }
        let alpha: Vec<f64> = (0..40).map(|i| (i as f64 * 0.7).sin() * 3.0).collect();
        let trials: Vec<i64> = (0..40).map(|i| 1 + (i % 9) as i64).collect();
        let k: Vec<i64> = trials
            .iter()
            .enumerate()
            .map(|(i, n)| (i as i64 * 5) % (n + 1))
            .collect();
        check_columns_path_by_element(
            |p| lp(BinomialLogit::new(&trials[..], p).unwrap(), &k),
            |p, i| lp(BinomialLogit::new(trials[i], p[i]).unwrap(), &k[i..=i]),
            &alpha,
            k.len(),
        );
    }
}
