//! The Bernoulli distribution, with the success probability or its log-odds as parameter.

use super::poisson::{count_stats, scalar_of};
use super::{Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{log1p_exp, sigmoid};
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::{Rng, RngCore};

/// `{0, 1}`.
pub(super) fn support01<R>() -> Support<R> {
    Support::Integers {
        lower: Some(0),
        upper: Some(1),
    }
}

// ---------------------------------------------------------------------------------------
// Bernoulli(p)
// ---------------------------------------------------------------------------------------

/// Bernoulli distribution over `{0, 1}` with success probability `p ∈ [0, 1]`:
/// `ln p(1) = ln p`, `ln p(0) = ln(1 − p)`. Other values have log-density −∞.
///
/// ```
/// use ppl_core::dist::{Bernoulli, Distribution};
/// use ppl_core::param::Param;
/// let d = Bernoulli::new(0.3).unwrap();
/// let flips: &[i64] = &[1, 0, 0, 1];
/// let lp: f64 = d.log_density(Param::<f64>::operand(&flips)).unwrap();
/// assert!((lp - (2.0 * 0.3_f64.ln() + 2.0 * 0.7_f64.ln())).abs() < 1e-12);
/// assert!(Bernoulli::new(1.5).is_err());
///
/// // `p` is the probability of 1; the endpoints 0 and 1 are allowed.
/// let p = 0.3_f64;
/// let one: f64 = d.log_density(Param::<f64>::operand(&1_i64)).unwrap();
/// let zero: f64 = d.log_density(Param::<f64>::operand(&0_i64)).unwrap();
/// assert!((one - p.ln()).abs() < 1e-15 && (zero - (1.0 - p).ln()).abs() < 1e-15);
/// let sure: f64 = Bernoulli::new(1.0).unwrap().log_density(Param::<f64>::operand(&1_i64)).unwrap();
/// assert_eq!(sure, 0.0);
/// // Values other than 0 and 1 are outside the support.
/// let two: f64 = d.log_density(Param::<f64>::operand(&2_i64)).unwrap();
/// assert_eq!(two, f64::NEG_INFINITY);
/// let err = Bernoulli::new(f64::NAN).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("p", "must be finite"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Bernoulli<P> {
    p: P,
}

impl<P: ParamValues> Bernoulli<P> {
    /// Builds the distribution; `p` must lie in `[0, 1]`.
    pub fn new(p: P) -> Result<Self, ParamError> {
        check_param("Bernoulli", "p", &p, "must lie in [0, 1]", |v| {
            (0.0..=1.0).contains(&v)
        })?;
        Ok(Bernoulli { p })
    }
}

struct BernoulliKernel;

impl Kernel<2> for BernoulliKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, p]: [R; 2]) -> R {
        let k = x.value();
        if k == 1.0 {
            p.ln()
        } else if k == 0.0 {
            (-p).ln_1p()
        } else {
            R::constant(f64::NEG_INFINITY)
        }
    }
    #[inline]
    fn eval_partials(&self, [k, p]: [f64; 2]) -> (f64, [f64; 2]) {
        if k == 1.0 {
            (p.ln(), [0.0, 1.0 / p])
        } else if k == 0.0 {
            ((-p).ln_1p(), [0.0, -1.0 / (1.0 - p)])
        } else {
            (f64::NEG_INFINITY, [0.0; 2])
        }
    }
}

/// Sum over `n` outcomes with a scalar `p`: `n₁ ln p + n₀ ln(1 − p)`, one edge.
fn bernoulli_sum_scalar<R: Real>(x: Operand<'_, R>, p: R, n: usize) -> R {
    let Some((n1, _)) = count_stats(x, n, Some(1.0)) else {
        return R::constant(f64::NEG_INFINITY);
    };
    let n0 = n as f64 - n1;
    let pv = p.value();
    R::record_wide(|w| {
        let (mut value, mut d) = (0.0, 0.0);
        if n1 > 0.0 {
            value += n1 * pv.ln();
            d += n1 / pv;
        }
        if n0 > 0.0 {
            value += n0 * (-pv).ln_1p();
            d -= n0 / (1.0 - pv);
        }
        w.push(p.tape_index(), d);
        value
    })
}

impl<R: Real, P: Param<R>> Distribution<R> for Bernoulli<P> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "Bernoulli"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.p.operand().len())
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        support01()
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = [x, self.p.operand()];
        let n = broadcast_len(&["x", "p"], &ops)?;
        if R::MODE != EvalMode::Dual {
            if let Some(p) = scalar_of(ops[1]) {
                return Ok(bernoulli_sum_scalar(ops[0], p, n));
            }
        }
        Ok(vectorized::sum(&BernoulliKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [x, self.p.operand()];
        let n = broadcast_len(&["x", "p"], &ops)?;
        vectorized::pointwise(&BernoulliKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let p = self.p.operand();
        for i in 0..n {
            let u: f64 = rng.gen();
            out.push(if u < p.value(i) { 1.0 } else { 0.0 });
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, P: Param<R>> ElementValue<R> for Bernoulli<P> {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

// ---------------------------------------------------------------------------------------
// BernoulliLogit(α)
// ---------------------------------------------------------------------------------------

/// Bernoulli distribution parameterised by the log-odds `logit_p = α` (Stan's
/// `bernoulli_logit`): `ln p(1) = ln σ(α)`, `ln p(0) = ln σ(−α)`, computed without
/// overflow for any finite α — the natural likelihood of a logistic regression.
///
/// ```
/// use ppl_core::dist::{BernoulliLogit, Distribution};
/// use ppl_core::param::Param;
/// let d = BernoulliLogit::new(0.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1_i64)).unwrap();
/// assert!((lp - 0.5_f64.ln()).abs() < 1e-15);
/// assert!(BernoulliLogit::new(f64::NAN).is_err());
///
/// // The argument is the log-odds α = ln(p/(1−p)): p(1) = 1/(1 + e^{−α}).
/// let alpha = 1.5_f64;
/// let d = BernoulliLogit::new(alpha).unwrap();
/// let one: f64 = d.log_density(Param::<f64>::operand(&1_i64)).unwrap();
/// let zero: f64 = d.log_density(Param::<f64>::operand(&0_i64)).unwrap();
/// assert!((one - -(1.0 + (-alpha).exp()).ln()).abs() < 1e-15);
/// assert!((zero - -(1.0 + alpha.exp()).ln()).abs() < 1e-15);
/// let two: f64 = d.log_density(Param::<f64>::operand(&2_i64)).unwrap();
/// assert_eq!(two, f64::NEG_INFINITY);
/// assert_eq!(BernoulliLogit::new(f64::INFINITY).unwrap_err().parameter, "logit_p");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BernoulliLogit<A> {
    logit_p: A,
}

impl<A: ParamValues> BernoulliLogit<A> {
    /// Builds the distribution; `logit_p` must be finite.
    pub fn new(logit_p: A) -> Result<Self, ParamError> {
        check_param(
            "BernoulliLogit",
            "logit_p",
            &logit_p,
            "must be finite",
            |_| true,
        )?;
        Ok(BernoulliLogit { logit_p })
    }
}

struct BernoulliLogitKernel;

impl Kernel<2> for BernoulliLogitKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, a]: [R; 2]) -> R {
        let k = x.value();
        if k == 1.0 {
            -(-a).log1p_exp()
        } else if k == 0.0 {
            -a.log1p_exp()
        } else {
            R::constant(f64::NEG_INFINITY)
        }
    }
    #[inline]
    fn eval_partials(&self, [k, a]: [f64; 2]) -> (f64, [f64; 2]) {
        if k == 1.0 {
            (-log1p_exp(-a), [0.0, sigmoid(-a)])
        } else if k == 0.0 {
            (-log1p_exp(a), [0.0, -sigmoid(a)])
        } else {
            (f64::NEG_INFINITY, [0.0; 2])
        }
    }
    fn eval_columns(&self, cols: [&[f64]; 2], partials: &mut [Vec<f64>; 2]) -> Option<f64> {
        let [k, a] = cols;
        vectorized::columns_sum(k.len(), partials, |values, d| {
            bernoulli_logit_rows(k, a, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// With `s = 2k − 1`: `−ln(1 + e^{−sα})` per element and ∂/∂α = s σ(−sα) = k − σ(α);
    /// `false` for an outcome other than 0 or 1 or a non-finite log-odds.
    fn bernoulli_logit_rows(k: &[f64], a: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 2]) -> bool {
        let n = values.len();
        let (k, a) = (&k[..n], &a[..n]);
        let d_a = &mut d[1][..n];
        let mut ok = true;
        for i in 0..n {
            let ki = k[i];
            ok &= ((ki == 0.0) | (ki == 1.0)) & a[i].is_finite();
            let s = 2.0 * ki - 1.0;
            let (softplus, sig) = crate::vecmath::ln_1p_exp_and_sigmoid_with::<FMA>(-s * a[i]);
            values[i] = -softplus;
            d_a[i] = s * sig;
        }
        ok
    }
}

/// Sum over `n` outcomes with a scalar log-odds: `n₁ ln σ(α) + n₀ ln σ(−α)`, one edge.
fn bernoulli_logit_sum_scalar<R: Real>(x: Operand<'_, R>, a: R, n: usize) -> R {
    let Some((n1, _)) = count_stats(x, n, Some(1.0)) else {
        return R::constant(f64::NEG_INFINITY);
    };
    let nf = n as f64;
    let av = a.value();
    R::record_wide(|w| {
        w.push(a.tape_index(), n1 - nf * sigmoid(av));
        let mut value = 0.0;
        if n1 > 0.0 {
            value -= n1 * log1p_exp(-av);
        }
        if nf > n1 {
            value -= (nf - n1) * log1p_exp(av);
        }
        value
    })
}

impl<R: Real, A: Param<R>> Distribution<R> for BernoulliLogit<A> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "BernoulliLogit"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.logit_p.operand().len())
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        support01()
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = [x, self.logit_p.operand()];
        let n = broadcast_len(&["x", "logit_p"], &ops)?;
        if R::MODE != EvalMode::Dual {
            if let Some(a) = scalar_of(ops[1]) {
                return Ok(bernoulli_logit_sum_scalar(ops[0], a, n));
            }
        }
        Ok(vectorized::sum(&BernoulliLogitKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [x, self.logit_p.operand()];
        let n = broadcast_len(&["x", "logit_p"], &ops)?;
        vectorized::pointwise(&BernoulliLogitKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let a = self.logit_p.operand();
        for i in 0..n {
            let u: f64 = rng.gen();
            out.push(if u < sigmoid(a.value(i)) { 1.0 } else { 0.0 });
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, A: Param<R>> ElementValue<R> for BernoulliLogit<A> {
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
        fn bernoulli_matches_statrs(p in 0.001f64..0.999, x in 0u64..2) {
            let ours = lpdf(&Bernoulli::new(p).unwrap(), x as f64);
            let theirs = statrs::distribution::Bernoulli::new(p).unwrap().ln_pmf(x);
            prop_assert!((ours - theirs).abs() <= 1e-12 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }

        #[test]
        fn bernoulli_logit_matches_statrs(a in -8.0f64..8.0, x in 0u64..2) {
            let ours = lpdf(&BernoulliLogit::new(a).unwrap(), x as f64);
            let p = 1.0 / (1.0 + (-a).exp());
            let theirs = statrs::distribution::Bernoulli::new(p).unwrap().ln_pmf(x);
            prop_assert!((ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }

        #[test]
        fn fused_sum_equals_pointwise_sum(a in -5.0f64..5.0, xs in prop::collection::vec(0i64..2, 1..30)) {
            let d = BernoulliLogit::new(a).unwrap();
            let total: f64 = d.log_density(Operand::IntData(&xs)).unwrap();
            let mut pw = Vec::new();
            Distribution::<f64>::log_density_pointwise(&d, Operand::IntData(&xs), &mut pw).unwrap();
            prop_assert!((total - pw.iter().sum::<f64>()).abs() < 1e-10);
            let p = sigmoid(a);
            let d = Bernoulli::new(p).unwrap();
            let total: f64 = d.log_density(Operand::IntData(&xs)).unwrap();
            pw.clear();
            Distribution::<f64>::log_density_pointwise(&d, Operand::IntData(&xs), &mut pw).unwrap();
            prop_assert!((total - pw.iter().sum::<f64>()).abs() < 1e-10);
        }
    }

    #[test]
    fn extreme_logits_are_finite() {
        let d = BernoulliLogit::new(800.0).unwrap();
        assert_eq!(lpdf(&d, 1.0), 0.0);
        assert_eq!(lpdf(&d, 0.0), -800.0);
        let d = BernoulliLogit::new(-800.0).unwrap();
        assert_eq!(lpdf(&d, 1.0), -800.0);
    }

    #[test]
    fn boundary_probabilities_and_outside_support() {
        let d = Bernoulli::new(1.0).unwrap();
        assert_eq!(lpdf(&d, 1.0), 0.0);
        assert_eq!(lpdf(&d, 0.0), f64::NEG_INFINITY);
        let d = Bernoulli::new(0.0).unwrap();
        assert_eq!(lpdf(&d, 0.0), 0.0);
        let ones = [1_i64, 1];
        let lp: f64 = d.log_density(Operand::IntData(&ones)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        let d = Bernoulli::new(0.4).unwrap();
        for bad in [2.0, -1.0, 0.5] {
            assert_eq!(lpdf(&d, bad), f64::NEG_INFINITY);
            assert_eq!(
                lpdf(&BernoulliLogit::new(0.2).unwrap(), bad),
                f64::NEG_INFINITY
            );
        }
        let data = [0.0, 1.0, 2.0];
        let lp: f64 = d.log_density(Operand::Data(&data)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        let ps = [0.2, 0.5, 0.7];
        let lp: f64 = Bernoulli::new(&ps[..])
            .unwrap()
            .log_density(Operand::Data(&data))
            .unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        let s: Support<f64> = Distribution::<f64>::support(&d);
        assert!(s.contains(0.0) && s.contains(1.0) && !s.contains(2.0));
    }

    #[test]
    fn constructor_errors() {
        assert!(Bernoulli::new(-0.1).is_err());
        assert!(Bernoulli::new(1.1).is_err());
        assert!(Bernoulli::new(f64::NAN).is_err());
        assert!(Bernoulli::new([0.5, 2.0]).is_err());
        assert!(Bernoulli::new(0.0).is_ok() && Bernoulli::new(1.0).is_ok());
        assert!(BernoulliLogit::new(f64::INFINITY).is_err());
        let e = Bernoulli::new(2.0).unwrap_err();
        assert_eq!((e.distribution, e.parameter), ("Bernoulli", "p"));
    }

    struct ScalarP {
        logit: bool,
        data: Vec<i64>,
    }
    impl ScalarFamily for ScalarP {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let x = Operand::IntData(&self.data);
            if self.logit {
                BernoulliLogit::new(args[0])
                    .unwrap()
                    .log_density(x)
                    .unwrap()
            } else {
                Bernoulli::new(args[0]).unwrap().log_density(x).unwrap()
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
                BernoulliLogit::new(args).unwrap().log_density(x).unwrap()
            } else {
                Bernoulli::new(args).unwrap().log_density(x).unwrap()
            }
        }
    }

    #[test]
    fn gradients() {
        for logit in [false, true] {
            let arg = if logit { -0.7 } else { 0.35 };
            check_gradients(
                &ScalarP {
                    logit,
                    data: vec![1],
                },
                &[arg],
                1e-6,
            );
            check_gradients(
                &ScalarP {
                    logit,
                    data: vec![0],
                },
                &[arg],
                1e-6,
            );
            let f = ScalarP {
                logit,
                data: vec![1, 0, 0, 1, 1, 1, 0],
            };
            check_gradients(&f, &[arg], 1e-6);
            let f = SliceP {
                logit,
                data: vec![1.0, 0.0, 1.0],
            };
            let args = if logit {
                [0.3, -1.2, 2.0]
            } else {
                [0.2, 0.6, 0.9]
            };
            check_gradients(&f, &args, 1e-6);
        }
    }

    #[test]
    fn scalar_parameter_records_one_node() {
        let data: Vec<i64> = (0..50).map(|i| i % 2).collect();
        tape::reset();
        let a = Var::leaf(0.3);
        let before = tape::len();
        let _ = BernoulliLogit::new(a)
            .unwrap()
            .log_density(Operand::IntData(&data))
            .unwrap();
        assert_eq!(tape::len(), before + 1);
    }

    #[test]
    fn sampling_moments() {
        let mut rng = test_rng(3);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&Bernoulli::new(0.3).unwrap(), &mut rng, 20_000, &mut xs);
        check_moments(&xs, 0.3, 0.21);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(
            &BernoulliLogit::new(1.0).unwrap(),
            &mut rng,
            20_000,
            &mut xs,
        );
        let p = sigmoid(1.0);
        check_moments(&xs, p, p * (1.0 - p));
    }

    #[test]
    fn values_are_integers() {
        assert_eq!(
            <Bernoulli<f64> as Distribution<f64>>::value_from(smallvec::smallvec![1.0]),
            1
        );
        assert_eq!(
            <BernoulliLogit<f64> as ElementValue<f64>>::element_from(0.0),
            0
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
        let k: Vec<i64> = (0..40).map(|i| ((i * 7) % 3 == 0) as i64).collect();
        fn lp<D: Distribution<Var>>(d: D, k: &[i64]) -> Var {
            d.log_density(Operand::IntData(k)).unwrap()
        }
        check_columns_path_by_element(
            |p| lp(BernoulliLogit::new(p).unwrap(), &k),
            |p, i| lp(BernoulliLogit::new(p[i]).unwrap(), &k[i..=i]),
            &eta,
            k.len(),
        );
    }
}
