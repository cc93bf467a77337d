//! The categorical distribution over category indices `0..K`.

use super::poisson::is_count;
use super::{Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::vectorized::LengthMismatch;
use rand::{Rng, RngCore};
use std::cell::RefCell;

thread_local! {
    /// Per-category counts, kept between calls so that a warm evaluation allocates
    /// nothing.
    static COUNTS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// How far the probabilities may sum from 1 (Stan's simplex tolerance).
const SIMPLEX_TOLERANCE: f64 = 1e-8;

/// Categorical distribution over the indices `0, 1, …, K−1` with probabilities `p`
/// (one probability vector of length `K`, summing to 1): `ln p(x) = ln p[x]`.
///
/// The value is a single index or a slice of indices (independent draws from the same
/// `p`); indices outside `0..K` have log-density −∞. The vector may hold model
/// scalars, e.g. a `Dirichlet` draw; the gradient flows to the probabilities of the
/// observed categories, all in one tape node.
///
/// ```
/// use ppl_core::dist::{Categorical, Distribution};
/// use ppl_core::param::Param;
/// let d = Categorical::new([0.2, 0.5, 0.3]).unwrap();
/// let xs: &[i64] = &[1, 2, 1];
/// let lp: f64 = d.log_density(Param::<f64>::operand(&xs)).unwrap();
/// assert!((lp - (0.5_f64 * 0.3 * 0.5).ln()).abs() < 1e-12);
/// assert!(Categorical::new([0.2, 0.5]).is_err()); // does not sum to 1
///
/// // Indices start at 0 (p[0] is the probability of 0); K = 3 and −1 are outside.
/// let first: f64 = d.log_density(Param::<f64>::operand(&0_i64)).unwrap();
/// assert!((first - 0.2_f64.ln()).abs() < 1e-15);
/// for x in [3_i64, -1] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = Categorical::new([1.2, -0.2]).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("p", "must lie in [0, 1]"));
/// assert!(Categorical::new(1.0).is_err()); // a scalar, not a probability vector
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Categorical<P> {
    p: P,
}

impl<P: ParamValues> Categorical<P> {
    /// Builds the distribution; `p` must be a non-empty slice of probabilities in
    /// `[0, 1]` summing to 1 (within 1e-8).
    pub fn new(p: P) -> Result<Self, ParamError> {
        let Some(k) = p.param_len() else {
            return Err(ParamError::new(
                "Categorical",
                "p",
                "must be a probability vector (a slice), not a scalar",
                p.param_value(0),
            ));
        };
        if k == 0 {
            return Err(ParamError::new(
                "Categorical",
                "p",
                "must have at least one category",
                0.0,
            ));
        }
        check_param("Categorical", "p", &p, "must lie in [0, 1]", |v| {
            (0.0..=1.0).contains(&v)
        })?;
        let sum: f64 = (0..k).map(|i| p.param_value(i)).sum();
        if (sum - 1.0).abs() > SIMPLEX_TOLERANCE {
            return Err(ParamError::new("Categorical", "p", "must sum to 1", sum));
        }
        Ok(Categorical { p })
    }
}

/// The category of a value, if it is an index in `0..k`.
#[inline]
fn category(x: f64, k: usize) -> Option<usize> {
    (is_count(x) && x < k as f64).then_some(x as usize)
}

impl<R: Real, P: Param<R>> Distribution<R> for Categorical<P> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "Categorical"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(None)
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        let k = self.p.operand().len().unwrap_or(1);
        Support::Integers {
            lower: Some(0),
            upper: Some(k as i64 - 1),
        }
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let mut p_buf = Vec::new();
        let p = self.p.operand().materialize(&mut p_buf);
        let k = p.len().unwrap_or(1);
        let n = x.len().unwrap_or(1);
        if (0..n).any(|i| category(x.value(i), k).is_none()) {
            return Ok(R::constant(f64::NEG_INFINITY));
        }
        if R::MODE == EvalMode::Dual {
            let mut total = R::constant(0.0);
            for i in 0..n {
                total += p.lift(x.value(i) as usize).ln();
            }
            return Ok(total);
        }
        let slice = match p {
            Operand::Slice(s) if R::MODE == EvalMode::Tape => Some(s),
            _ => None,
        };
        Ok(R::record_wide(|w| {
            if n <= k {
                // Few observations: one term (and edge) each.
                let mut total = 0.0;
                for i in 0..n {
                    let c = x.value(i) as usize;
                    let pc = p.value(c);
                    total += pc.ln();
                    if let Some(s) = slice {
                        w.push(s[c].tape_index(), 1.0 / pc);
                    }
                }
                total
            } else {
                // Many observations: Σ_c count_c ln p_c, one edge per category.
                // Taken out of the cell (not borrowed): a nested call merely allocates.
                let mut counts = COUNTS.with(|c| std::mem::take(&mut *c.borrow_mut()));
                counts.clear();
                counts.resize(k, 0.0);
                for i in 0..n {
                    counts[x.value(i) as usize] += 1.0;
                }
                let mut total = 0.0;
                for (c, &m) in counts.iter().enumerate() {
                    if m > 0.0 {
                        let pc = p.value(c);
                        total += m * pc.ln();
                        if let Some(s) = slice {
                            w.push(s[c].tape_index(), m / pc);
                        }
                    }
                }
                COUNTS.with(|c| *c.borrow_mut() = counts);
                total
            }
        }))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let p = self.p.operand();
        let k = p.len().unwrap_or(1);
        for i in 0..x.len().unwrap_or(1) {
            out.push(match category(x.value(i), k) {
                Some(c) => p.value(c).ln(),
                None => f64::NEG_INFINITY,
            });
        }
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let p = self.p.operand();
        let k = p.len().unwrap_or(1);
        let mut cumulative = Vec::with_capacity(k);
        let mut acc = 0.0;
        for c in 0..k {
            acc += p.value(c);
            cumulative.push(acc);
        }
        // Rounding may leave u above the last cumulative sum: use the last category
        // with positive probability.
        let last = (0..k).rev().find(|&c| p.value(c) > 0.0).unwrap_or(k - 1);
        for _ in 0..n {
            let u: f64 = rng.gen::<f64>() * acc;
            let c = cumulative.partition_point(|&f| f <= u).min(last);
            out.push(c as f64);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, P: Param<R>> ElementValue<R> for Categorical<P> {
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

    fn normalise(w: &[f64]) -> Vec<f64> {
        let s: f64 = w.iter().sum();
        w.iter().map(|v| v / s).collect()
    }

    proptest! {
        #[test]
        fn matches_statrs(w in prop::collection::vec(0.01f64..1.0, 1..8), frac in 0.0f64..1.0) {
            let p = normalise(&w);
            let x = ((frac * p.len() as f64) as u64).min(p.len() as u64 - 1);
            let ours = lpdf(&Categorical::new(&p).unwrap(), x as f64);
            let theirs = statrs::distribution::Categorical::new(&p).unwrap().ln_pmf(x);
            prop_assert!((ours - theirs).abs() <= 1e-12 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }

        #[test]
        fn sum_equals_pointwise_sum(w in prop::collection::vec(0.01f64..1.0, 1..6), xs in prop::collection::vec(0i64..6, 1..30)) {
            let p = normalise(&w);
            let xs: Vec<i64> = xs.iter().map(|x| x % p.len() as i64).collect();
            let d = Categorical::new(&p).unwrap();
            let total: f64 = d.log_density(Operand::IntData(&xs)).unwrap();
            let mut pw = Vec::new();
            Distribution::<f64>::log_density_pointwise(&d, Operand::IntData(&xs), &mut pw).unwrap();
            prop_assert!((total - pw.iter().sum::<f64>()).abs() <= 1e-10 * total.abs().max(1.0));
        }
    }

    #[test]
    fn outside_support_and_zero_probabilities() {
        let d = Categorical::new([0.5, 0.5, 0.0]).unwrap();
        assert_eq!(lpdf(&d, 3.0), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, -1.0), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 0.5), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 2.0), f64::NEG_INFINITY);
        let xs = [0.0, 1.0, 7.0];
        let lp: f64 = d.log_density(Operand::Data(&xs)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        let s: Support<f64> = Distribution::<f64>::support(&d);
        assert!(s.contains(2.0) && !s.contains(3.0));
    }

    #[test]
    fn constructor_errors() {
        assert!(Categorical::new(1.0).is_err());
        assert!(Categorical::new(Vec::<f64>::new()).is_err());
        assert!(Categorical::new([0.7, 0.7, -0.4]).is_err());
        assert!(Categorical::new([0.3, 0.3]).is_err());
        assert!(Categorical::new([f64::NAN, 1.0]).is_err());
        assert_eq!(
            Categorical::new([0.3, 0.3]).unwrap_err().requirement,
            "must sum to 1"
        );
        assert!(Categorical::new([1.0]).is_ok());
    }

    /// Probabilities from free arguments by softmax, so that perturbed arguments still
    /// give a valid simplex.
    struct Softmax(Vec<i64>);
    impl ScalarFamily for Softmax {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let e: Vec<R> = args.iter().map(|a| a.exp()).collect();
            let s: R = e.iter().copied().sum();
            let p: Vec<R> = e.iter().map(|v| *v / s).collect();
            Categorical::new(&p)
                .unwrap()
                .log_density(Operand::IntData(&self.0))
                .unwrap()
        }
    }

    #[test]
    fn gradients() {
        check_gradients(&Softmax(vec![2]), &[0.1, -0.4, 0.7], 1e-6);
        // More observations than categories (the counting path).
        check_gradients(&Softmax(vec![0, 2, 2, 1, 2, 0, 2]), &[0.3, 0.2, -1.0], 1e-6);
    }

    #[test]
    fn gradient_of_probabilities_is_count_over_p() {
        let xs: Vec<i64> = vec![0, 2, 2, 1, 2, 2];
        tape::reset();
        let p: Vec<Var> = [0.2, 0.3, 0.5].iter().map(|v| Var::leaf(*v)).collect();
        let before = tape::len();
        let lp = Categorical::new(&p)
            .unwrap()
            .log_density(Operand::IntData(&xs))
            .unwrap();
        assert_eq!(tape::len(), before + 1);
        let mut g = [0.0; 3];
        tape::gradient(lp, &p, &mut g);
        assert!((g[0] - 1.0 / 0.2).abs() < 1e-12);
        assert!((g[1] - 1.0 / 0.3).abs() < 1e-12);
        assert!((g[2] - 4.0 / 0.5).abs() < 1e-12);
    }

    #[test]
    fn sampling_moments() {
        let p = [0.1, 0.2, 0.3, 0.4];
        let mut rng = test_rng(29);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&Categorical::new(p).unwrap(), &mut rng, 20_000, &mut xs);
        let mean: f64 = p.iter().enumerate().map(|(c, pc)| c as f64 * pc).sum();
        let var: f64 = p
            .iter()
            .enumerate()
            .map(|(c, pc)| (c as f64 - mean).powi(2) * pc)
            .sum();
        check_moments(&xs, mean, var);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(
            &Categorical::new([0.0, 1.0, 0.0]).unwrap(),
            &mut rng,
            100,
            &mut xs,
        );
        assert!(xs.iter().all(|x| *x == 1.0));
    }
}
