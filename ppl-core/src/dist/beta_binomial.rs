//! The beta-binomial distribution: a binomial whose success probability is beta.

use super::binomial::{check_trials, trials_support};
use super::poisson::{
    is_count, ln_choose, ln_rising, ln_rising_real, rising_factorial_tables, scalar_of,
};
use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Beta-binomial distribution: successes in `n` trials whose success probability is
/// drawn from `Beta(alpha, beta)`, over `0..=n`:
///
/// `ln p(x) = ln C(n, x) + ln B(x + α, n − x + β) − ln B(α, β)`,
///
/// with mean `nα/(α+β)` and variance `nαβ(α+β+n)/((α+β)²(α+β+1))`. `n` is data (an
/// integer or a slice of integers).
///
/// ```
/// use ppl_core::dist::{BetaBinomial, Distribution};
/// use ppl_core::param::Param;
/// // With α = β = 1 every count in 0..=n is equally likely.
/// let d = BetaBinomial::new(4, 1.0, 1.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&3_i64)).unwrap();
/// assert!((lp + 5.0_f64.ln()).abs() < 1e-12);
/// assert!(BetaBinomial::new(4, 0.0, 1.0).is_err());
///
/// // Trials first, then the beta shapes (α weighs successes); written out at n = 7,
/// // α = 2.5, β = 0.8, x = 3, with B(a, b) = Γ(a)Γ(b)/Γ(a+b):
/// use ppl_core::special::ln_gamma;
/// let ln_b = |a: f64, b: f64| ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
/// let (n, alpha, beta, x) = (7.0_f64, 2.5_f64, 0.8_f64, 3.0_f64);
/// let d = BetaBinomial::new(7, alpha, beta).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&3_i64)).unwrap();
/// let ln_choose = ln_gamma(n + 1.0) - ln_gamma(x + 1.0) - ln_gamma(n - x + 1.0);
/// let want = ln_choose + ln_b(x + alpha, n - x + beta) - ln_b(alpha, beta);
/// assert!((lp - want).abs() < 1e-12);
/// // Counts above n or below 0 are outside the support.
/// for x in [8_i64, -1] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = BetaBinomial::new(7, 2.5, f64::NAN).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("beta", "must be finite"));
/// assert_eq!(BetaBinomial::new(-1, 1.0, 1.0).unwrap_err().parameter, "n");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BetaBinomial<N, A, B> {
    n: N,
    alpha: A,
    beta: B,
}

impl<N: ParamValues, A: ParamValues, B: ParamValues> BetaBinomial<N, A, B> {
    /// Builds the distribution; `n` must be a non-negative integer, `alpha` and `beta`
    /// positive.
    pub fn new(n: N, alpha: A, beta: B) -> Result<Self, ParamError> {
        check_trials("BetaBinomial", &n)?;
        check_param("BetaBinomial", "alpha", &alpha, "must be positive", |a| {
            a > 0.0
        })?;
        check_param("BetaBinomial", "beta", &beta, "must be positive", |b| {
            b > 0.0
        })?;
        Ok(BetaBinomial { n, alpha, beta })
    }
}

/// The kernel, with `(α, β)` when both are scalars (the column loop's case).
struct BetaBinomialKernel {
    shapes: Option<(f64, f64)>,
}

impl BetaBinomialKernel {
    fn new<R: Real>(alpha: Operand<'_, R>, beta: Operand<'_, R>) -> Self {
        BetaBinomialKernel {
            shapes: scalar_of(alpha)
                .zip(scalar_of(beta))
                .map(|(a, b)| (a.value(), b.value())),
        }
    }
}

impl Kernel<4> for BetaBinomialKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, n, a, b]: [R; 4]) -> R {
        let (k, m) = (x.value(), n.value());
        if !is_count(k) || k > m {
            return R::constant(f64::NEG_INFINITY);
        }
        // ln B(α+k, β+m−k) − ln B(α, β) as rising factorials (accurate for large shapes).
        ln_rising_real(a, k) + ln_rising_real(b, m - k) - ln_rising_real(a + b, m) + ln_choose(m, k)
    }
    #[inline]
    fn eval_partials(&self, [k, m, a, b]: [f64; 4]) -> (f64, [f64; 4]) {
        if !is_count(k) || k > m {
            return (f64::NEG_INFINITY, [0.0; 4]);
        }
        let (ln_a, d_a) = ln_rising(a, k);
        let (ln_b, d_b) = ln_rising(b, m - k);
        let (ln_ab, d_ab) = ln_rising(a + b, m);
        let v = ln_a + ln_b - ln_ab + ln_choose(m, k);
        (v, [0.0, 0.0, d_a - d_ab, d_b - d_ab])
    }
    /// With scalar `α`, `β` every `ln Γ`/ψ difference is a rising factorial: tables of
    /// `ln Γ(α+j) − ln Γ(α)`, the same for `β` and `α+β`, and their derivatives up to the
    /// largest trial count make each element a handful of lookups.
    fn eval_columns(&self, cols: [&[f64]; 4], partials: &mut [Vec<f64>; 4]) -> Option<f64> {
        let (a, b) = self.shapes?;
        let [k, m, _, _] = cols;
        let n = k.len();
        let mut largest = 0.0f64;
        for (&ki, &mi) in k.iter().zip(m) {
            if !is_count(ki) || !is_count(mi) || ki > mi {
                return None;
            }
            largest = largest.max(mi);
        }
        // Tabulating up to the largest count must cost less than the elements.
        if largest > (4 * n + 64) as f64 {
            return None;
        }
        let up_to = largest as usize;
        vectorized::with_columns::<6, _>(|[ln_a, d_a, ln_b, d_b, ln_ab, d_ab]| {
            rising_factorial_tables(a, up_to, ln_a, d_a);
            rising_factorial_tables(b, up_to, ln_b, d_b);
            rising_factorial_tables(a + b, up_to, ln_ab, d_ab);
            vectorized::columns_sum(n, partials, |values, d| {
                let [_, _, d_alpha, d_beta] = d;
                for i in 0..n {
                    let (j, t) = (k[i] as usize, m[i] as usize);
                    values[i] = ln_a[j] + ln_b[t - j] - ln_ab[t] + ln_choose(m[i], k[i]);
                    d_alpha[i] = d_a[j] - d_ab[t];
                    d_beta[i] = d_b[t - j] - d_ab[t];
                }
                true
            })
        })
    }
}

impl<R: Real, N: Param<R>, A: Param<R>, B: Param<R>> Distribution<R> for BetaBinomial<N, A, B> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "BetaBinomial"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["n", "alpha", "beta"],
            &[self.n.operand(), self.alpha.operand(), self.beta.operand()],
        )
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        trials_support(self.n.operand())
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = [
            x,
            self.n.operand(),
            self.alpha.operand(),
            self.beta.operand(),
        ];
        let len = broadcast_len(&["x", "n", "alpha", "beta"], &ops)?;
        let kernel = BetaBinomialKernel::new(self.alpha.operand(), self.beta.operand());
        Ok(vectorized::sum(&kernel, &ops, len))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [
            x,
            self.n.operand(),
            self.alpha.operand(),
            self.beta.operand(),
        ];
        let len = broadcast_len(&["x", "n", "alpha", "beta"], &ops)?;
        vectorized::pointwise(&BetaBinomialKernel { shapes: None }, &ops, len, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, len: usize, out: &mut Vec<f64>) {
        let (n, a, b) = (self.n.operand(), self.alpha.operand(), self.beta.operand());
        for i in 0..len {
            let x = rand_distr::Beta::new(a.value(i), b.value(i))
                .ok()
                .map(|d| d.sample(rng))
                .and_then(|p| rand_distr::Binomial::new(n.value(i) as u64, p).ok())
                .map_or(f64::NAN, |d| d.sample(rng) as f64);
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, N: Param<R>, A: Param<R>, B: Param<R>> ElementValue<R> for BetaBinomial<N, A, B> {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_moments, lpdf, test_rng, ScalarFamily};
    use crate::special::ln_gamma;
    use crate::tape::{self, Var};
    use proptest::prelude::*;

    /// The closed form written out with ln Γ only.
    fn closed_form(k: f64, n: f64, a: f64, b: f64) -> f64 {
        let choose = ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0);
        choose + ln_gamma(k + a) + ln_gamma(n - k + b)
            - ln_gamma(n + a + b)
            - ln_gamma(a)
            - ln_gamma(b)
            + ln_gamma(a + b)
    }

    proptest! {
        #[test]
        fn matches_closed_form(n in 0i64..80, frac in 0.0f64..1.0, a in 0.05f64..20.0, b in 0.05f64..20.0) {
            let k = (frac * n as f64).floor();
            let ours = lpdf(&BetaBinomial::new(n, a, b).unwrap(), k);
            let want = closed_form(k, n as f64, a, b);
            prop_assert!((ours - want).abs() <= 1e-9 * want.abs().max(1.0), "{} vs {}", ours, want);
        }

        #[test]
        fn pmf_sums_to_one(n in 0i64..40, a in 0.1f64..10.0, b in 0.1f64..10.0) {
            let d = BetaBinomial::new(n, a, b).unwrap();
            let total: f64 = (0..=n).map(|k| lpdf(&d, k as f64).exp()).sum();
            prop_assert!((total - 1.0).abs() < 1e-10);
        }
    }

    #[test]
    fn huge_shapes_approach_the_binomial() {
        // BetaBinomial(n, pκ, (1−p)κ) → Binomial(n, p), the difference of order n²/κ. At
        // κ = 1e10 and 1e13 the element paths meet it; the ln B differences they took
        // before were off by ~1e-5 and ~1e-2.
        let (n, p) = (30.0, 0.3);
        for k in [0.0, 12.0, 30.0] {
            let binomial = ln_choose(n, k) + k * p.ln() + (n - k) * (1.0 - p).ln();
            for kappa in [1e10, 1e13] {
                let tol = 2.0 * n * n / kappa + 1e-14 * binomial.abs();
                let (a, b) = (p * kappa, (1.0 - p) * kappa);
                let ours = lpdf(&BetaBinomial::new(30, a, b).unwrap(), k);
                assert!(
                    (ours - binomial).abs() < tol,
                    "k {k} κ {kappa}: {ours} vs {binomial}"
                );
                let (v, _) = BetaBinomialKernel { shapes: None }.eval_partials([k, n, a, b]);
                assert!(
                    (v - binomial).abs() < tol,
                    "k {k} κ {kappa}: {v} vs {binomial}"
                );
            }
        }
    }

    #[test]
    fn outside_support_and_errors() {
        let d = BetaBinomial::new(5, 2.0, 3.0).unwrap();
        for bad in [-1.0, 6.0, 1.5] {
            assert_eq!(lpdf(&d, bad), f64::NEG_INFINITY);
        }
        assert!(BetaBinomial::new(-1, 1.0, 1.0).is_err());
        assert!(BetaBinomial::new(1.5, 1.0, 1.0).is_err());
        assert!(BetaBinomial::new(3, -1.0, 1.0).is_err());
        assert_eq!(
            BetaBinomial::new(3, 1.0, 0.0).unwrap_err().parameter,
            "beta"
        );
        let s: Support<f64> = Distribution::<f64>::support(&d);
        assert!(s.contains(5.0) && !s.contains(6.0));
    }

    struct Scalars {
        n: Vec<i64>,
        data: Vec<i64>,
    }
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            BetaBinomial::new(&self.n, args[0], args[1])
                .unwrap()
                .log_density(Operand::IntData(&self.data))
                .unwrap()
        }
    }

    #[test]
    fn gradients() {
        let f = Scalars {
            n: vec![10],
            data: vec![3],
        };
        check_gradients(&f, &[2.5, 1.5], 1e-6);
        let f = Scalars {
            n: vec![10, 4, 7, 0],
            data: vec![3, 4, 0, 0],
        };
        check_gradients(&f, &[0.7, 3.2], 1e-6);
        tape::reset();
        let (a, b) = (Var::leaf(0.7), Var::leaf(3.2));
        let before = tape::len();
        let _ = BetaBinomial::new(&f.n, a, b)
            .unwrap()
            .log_density(Operand::IntData(&f.data))
            .unwrap();
        assert_eq!(tape::len(), before + 1);
    }

    #[test]
    fn sampling_moments() {
        let (n, a, b) = (12.0, 2.0, 3.0);
        let mut rng = test_rng(37);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(
            &BetaBinomial::new(12, a, b).unwrap(),
            &mut rng,
            20_000,
            &mut xs,
        );
        let s = a + b;
        check_moments(&xs, n * a / s, n * a * b * (s + n) / (s * s * (s + 1.0)));
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path_by_element;
    use crate::tape::Var;

    /// 40 counts with per-row trial counts (the table loop) against 40 one-element
    /// densities, for scalar α and β as variables.
    #[test]
    fn columns_path_matches_the_element_path() {
        let trials: Vec<i64> = (0..40).map(|i| 3 + ((i * 11) % 37) as i64).collect();
        let k: Vec<i64> = trials
            .iter()
            .enumerate()
            .map(|(i, &t)| (i as i64 * 5) % (t + 1))
            .collect();
        fn lp<D: Distribution<Var>>(d: D, k: &[i64]) -> Var {
            d.log_density(Operand::IntData(k)).unwrap()
        }
        for (a, b) in [(2.7, 0.4), (0.05, 30.0), (1.0, 1.0)] {
            check_columns_path_by_element(
                |p| lp(BetaBinomial::new(&trials[..], p[0], p[1]).unwrap(), &k),
                |p, i| lp(BetaBinomial::new(trials[i], p[0], p[1]).unwrap(), &k[i..=i]),
                &[a, b],
                k.len(),
            );
        }
    }

    /// A count above its trials or a non-integer anywhere leaves the column loop to
    /// the element path, which gives −∞.
    #[test]
    fn counts_outside_the_support_are_minus_infinity() {
        let trials = [5_i64; 20];
        let mut k = vec![2_i64; 20];
        k[7] = 6;
        let d = BetaBinomial::new(&trials[..], 2.0, 3.0).unwrap();
        let lp: f64 = d.log_density(Operand::IntData(&k)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
    }
}
