//! The negative binomial distribution in the mean–overdispersion parameterisation.

use super::poisson::{
    is_count, ln_factorial, ln_rising, ln_rising_real, rising_factorial_tables, sample_poisson,
    scalar_of,
};
use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Below this many counts, `ln Γ(x+φ) − ln Γ(φ)` is summed as `Σ ln(φ+j)` (exact, no
/// cancellation for large φ).
const RISING_SUM_LIMIT: f64 = 16.0;

/// Negative binomial distribution with mean `mu > 0` and overdispersion `phi > 0`
/// (Stan's `neg_binomial_2`), over the counts `0, 1, 2, …`:
///
/// `ln p(x) = ln Γ(x+φ) − ln Γ(φ) − ln x! + x ln(μ/(μ+φ)) + φ ln(φ/(μ+φ))`,
///
/// with mean `μ` and variance `μ + μ²/φ`: small `φ` means strong overdispersion, and
/// the Poisson distribution is the limit `φ → ∞`. It is the gamma–Poisson mixture
/// `x ~ Poisson(λ)`, `λ ~ Gamma(shape φ, rate φ/μ)`. In the "number of failures before
/// the `r`-th success" parameterisation (statrs, NumPy, SciPy `nbinom(n, p)`),
/// `r = φ` and `p = φ/(μ+φ)`.
///
/// ```
/// use ppl_core::dist::{Distribution, NegativeBinomial};
/// use ppl_core::param::Param;
/// let d = NegativeBinomial::new(2.0, 1.0).unwrap(); // geometric with p = 1/3
/// let lp: f64 = d.log_density(Param::<f64>::operand(&2_i64)).unwrap();
/// assert!((lp - (1.0 / 3.0 * 4.0 / 9.0_f64).ln()).abs() < 1e-12);
/// assert!(NegativeBinomial::new(2.0, 0.0).is_err());
///
/// // The arguments are the mean and the overdispersion (not r and p); written out at
/// // μ = 3.5, φ = 1.7, x = 6 with ln Γ:
/// use ppl_core::special::ln_gamma;
/// let (mu, phi, x) = (3.5_f64, 1.7_f64, 6.0_f64);
/// let d = NegativeBinomial::new(mu, phi).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&6_i64)).unwrap();
/// let want = ln_gamma(x + phi) - ln_gamma(phi) - ln_gamma(x + 1.0)
///     + x * (mu / (mu + phi)).ln()
///     + phi * (phi / (mu + phi)).ln();
/// assert!((lp - want).abs() < 1e-13);
/// // Negative or fractional counts are outside the support.
/// for x in [-1.0, 2.5] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = NegativeBinomial::new(-2.0, 1.0).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("mu", -2.0));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NegativeBinomial<M, P> {
    mu: M,
    phi: P,
}

impl<M: ParamValues, P: ParamValues> NegativeBinomial<M, P> {
    /// Builds the distribution; `mu` and `phi` must be positive and finite.
    pub fn new(mu: M, phi: P) -> Result<Self, ParamError> {
        check_param("NegativeBinomial", "mu", &mu, "must be positive", |m| {
            m > 0.0
        })?;
        check_param("NegativeBinomial", "phi", &phi, "must be positive", |p| {
            p > 0.0
        })?;
        Ok(NegativeBinomial { mu, phi })
    }
}

/// The element kernel; `phi` holds a scalar overdispersion, for which the column loop
/// tabulates `ln Γ(k+φ) − ln Γ(φ)` and its derivative once per count value.
struct NegBinomialKernel {
    phi: Option<f64>,
}

impl NegBinomialKernel {
    fn new<R: Real>(phi: Operand<'_, R>) -> Self {
        NegBinomialKernel {
            phi: scalar_of(phi).map(|p| p.value()),
        }
    }
}

impl Kernel<3> for NegBinomialKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, mu, phi]: [R; 3]) -> R {
        let k = x.value();
        if !is_count(k) {
            return R::constant(f64::NEG_INFINITY);
        }
        // ln Γ(k+φ) − ln Γ(φ)
        let rising = if k <= RISING_SUM_LIMIT {
            let mut acc = R::constant(0.0);
            let mut j = 0.0;
            while j < k {
                acc += (phi + j).ln();
                j += 1.0;
            }
            acc
        } else {
            ln_rising_real(phi, k)
        };
        let mut v = rising - ln_factorial(k) - phi * (mu / phi).ln_1p();
        if k > 0.0 {
            v += (mu.ln() - (mu + phi).ln()) * k;
        }
        v
    }
    #[inline]
    fn eval_partials(&self, [k, mu, phi]: [f64; 3]) -> (f64, [f64; 3]) {
        if !is_count(k) {
            return (f64::NEG_INFINITY, [0.0; 3]);
        }
        let (rising, d_rising) = if k <= RISING_SUM_LIMIT {
            let (mut r, mut d) = (0.0, 0.0);
            let mut j = 0.0;
            while j < k {
                r += (phi + j).ln();
                d += 1.0 / (phi + j);
                j += 1.0;
            }
            (r, d)
        } else {
            ln_rising(phi, k)
        };
        let total = mu + phi;
        let log1p_ratio = (mu / phi).ln_1p();
        let mut v = rising - ln_factorial(k) - phi * log1p_ratio;
        let mut d_mu = -phi / total;
        if k > 0.0 {
            v += k * (mu.ln() - total.ln());
            d_mu += k / mu - k / total;
        }
        let d_phi = d_rising - log1p_ratio + (mu - k) / total;
        (v, [0.0, d_mu, d_phi])
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        let phi = self.phi?;
        let [k, mu, _] = cols;
        let n = k.len();
        // The counts: valid, their largest value and Σ ln k!.
        let (mut largest, mut ln_fact) = (0.0f64, 0.0);
        for &ki in k {
            if !is_count(ki) {
                return None;
            }
            largest = largest.max(ki);
            ln_fact += ln_factorial(ki);
        }
        // Tabulating up to the largest count must cost less than the elements.
        if largest > (4 * n + 64) as f64 {
            return None;
        }
        vectorized::with_columns::<2, _>(|[rising, d_rising]| {
            rising_factorial_tables(phi, largest as usize, rising, d_rising);
            vectorized::columns_sum(n, partials, |values, d| {
                neg_binomial_rows(k, mu, phi, rising, d_rising, values, d)
            })
        })
        .map(|total| total - ln_fact)
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns with one φ, without ln k!: values and partials (μ, φ),
    /// the rising-factorial terms read from the tables; `false` where the branch-free
    /// logarithm does not apply.
    fn neg_binomial_rows(
        k: &[f64],
        mu: &[f64],
        phi: f64,
        rising: &[f64],
        d_rising: &[f64],
        values: &mut [f64],
        d: &mut [Vec<f64>; 3],
    ) -> bool {
        let n = values.len();
        let (k, mu) = (&k[..n], &mu[..n]);
        let [_, d_mu, d_phi] = d;
        let (d_mu, d_phi) = (&mut d_mu[..n], &mut d_phi[..n]);
        // The table lookups first (a gather would keep the arithmetic from vectorising).
        for i in 0..n {
            let j = k[i] as usize;
            values[i] = rising[j];
            d_phi[i] = d_rising[j];
        }
        let (ln_phi, inv_phi) = (phi.ln(), 1.0 / phi);
        let mut ok = true;
        for i in 0..n {
            let (ki, mi) = (k[i], mu[i]);
            let total = mi + phi;
            ok &= crate::vecmath::in_ln_normal_range(mi) & (total <= f64::MAX);
            let ln_mu = crate::vecmath::ln_normal_with::<FMA>(mi);
            // ln(1 + μ/φ) without cancellation when φ ≫ μ (the Poisson limit): with
            // u = 1 + r rounded, ln(1 + r) = ln u − ((u − 1) − r)/u. No division: 2 − u
            // stands for 1/u near 1 (error ≤ (u − 1)²/u times a correction of at most
            // ½ ulp(u)), and for u ≥ 2 the correction (≤ 1.1e-16 after dividing) is
            // dropped.
            let r = mi * inv_phi;
            let u = 1.0 + r;
            let correction = ((u - 1.0) - r) * (2.0 - u).max(0.0);
            let log1p_ratio = crate::vecmath::ln_normal_with::<FMA>(u) - correction;
            let ln_total = ln_phi + log1p_ratio;
            values[i] += ki * (ln_mu - ln_total) - phi * log1p_ratio;
            d_mu[i] = -phi / total + ki / mi - ki / total;
            d_phi[i] += (mi - ki) / total - log1p_ratio;
        }
        ok
    }
}

impl<R: Real, M: Param<R>, P: Param<R>> Distribution<R> for NegativeBinomial<M, P> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "NegativeBinomial"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["mu", "phi"], &[self.mu.operand(), self.phi.operand()])
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
        let ops = [x, self.mu.operand(), self.phi.operand()];
        let n = broadcast_len(&["x", "mu", "phi"], &ops)?;
        Ok(vectorized::sum(&NegBinomialKernel::new(ops[2]), &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [x, self.mu.operand(), self.phi.operand()];
        let n = broadcast_len(&["x", "mu", "phi"], &ops)?;
        vectorized::pointwise(&NegBinomialKernel::new(ops[2]), &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (mu, phi) = (self.mu.operand(), self.phi.operand());
        for i in 0..n {
            let (m, p) = (mu.value(i), phi.value(i));
            let lambda = match rand_distr::Gamma::new(p, m / p) {
                Ok(g) => g.sample(rng),
                Err(_) => f64::NAN,
            };
            out.push(sample_poisson(rng, lambda));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, M: Param<R>, P: Param<R>> ElementValue<R> for NegativeBinomial<M, P> {
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
        fn matches_statrs(mu in 0.05f64..40.0, phi in 0.05f64..50.0, x in 0u64..120) {
            let ours = lpdf(&NegativeBinomial::new(mu, phi).unwrap(), x as f64);
            let theirs = statrs::distribution::NegativeBinomial::new(phi, phi / (mu + phi))
                .unwrap()
                .ln_pmf(x);
            prop_assert!((ours - theirs).abs() <= 1e-8 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }

        #[test]
        fn kernel_partials_match_generic_formula(mu in 0.05f64..40.0, phi in 0.05f64..50.0, x in 0u64..60) {
            use crate::scalar::dual::Fwd;
            use num_dual::Dual64;
            let kernel = NegBinomialKernel { phi: None };
            let (v, d) = kernel.eval_partials([x as f64, mu, phi]);
            for (j, dj) in [(1, d[1]), (2, d[2])] {
                let args: [Fwd<Dual64>; 3] = std::array::from_fn(|i| {
                    let a = [x as f64, mu, phi][i];
                    if i == j { Fwd(Dual64::from(a).derivative()) } else { Fwd(Dual64::from(a)) }
                });
                let g = kernel.eval(args).0;
                prop_assert!((g.re - v).abs() <= 1e-10 * v.abs().max(1.0));
                prop_assert!((g.eps - dj).abs() <= 1e-8 * dj.abs().max(1.0), "{} vs {}", g.eps, dj);
            }
        }
    }

    #[test]
    fn large_overdispersion_approaches_poisson() {
        let nb = lpdf(&NegativeBinomial::new(3.0, 1e9).unwrap(), 4.0);
        let po = lpdf(&crate::dist::Poisson::new(3.0).unwrap(), 4.0);
        assert!((nb - po).abs() < 1e-7, "{nb} vs {po}");
    }

    #[test]
    fn single_elements_are_accurate_for_huge_phi() {
        // NB(μ, φ) → Poisson(μ), the difference of order (k² + μ²)/φ. The element paths
        // (plain values and the tape's partials) meet it at φ = 1e12 and 1e15, where the
        // ln Γ difference they took before was off by ~2e-3 and ~2.
        for k in [17.0, 40.0, 200.0] {
            let po = lpdf(&crate::dist::Poisson::new(5.0).unwrap(), k);
            for phi in [1e12, 1e15] {
                let tol = 2.0 * (k * k + 25.0) / phi + 1e-14 * po.abs();
                let nb = lpdf(&NegativeBinomial::new(5.0, phi).unwrap(), k);
                assert!((nb - po).abs() < tol, "k {k} φ {phi}: {nb} vs {po}");
                let (v, _) = NegBinomialKernel { phi: None }.eval_partials([k, 5.0, phi]);
                assert!(
                    (v - po).abs() < tol,
                    "k {k} φ {phi}: partials' value {v} vs {po}"
                );
            }
        }
    }

    #[test]
    fn outside_support() {
        let d = NegativeBinomial::new(3.0, 2.0).unwrap();
        assert_eq!(lpdf(&d, -1.0), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 0.5), f64::NEG_INFINITY);
        let data = [1.0, -2.0];
        let lp: f64 = d.log_density(Operand::Data(&data)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
    }

    #[test]
    fn constructor_errors() {
        assert!(NegativeBinomial::new(0.0, 1.0).is_err());
        assert!(NegativeBinomial::new(-1.0, 1.0).is_err());
        assert!(NegativeBinomial::new(1.0, -1.0).is_err());
        assert!(NegativeBinomial::new(1.0, f64::INFINITY).is_err());
        assert_eq!(
            NegativeBinomial::new(1.0, 0.0).unwrap_err().parameter,
            "phi"
        );
        let d = NegativeBinomial::new(vec![1.0, 2.0], vec![1.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            Distribution::<f64>::batch_len(&d).unwrap_err().argument,
            "phi"
        );
    }

    struct Scalars(Vec<i64>);
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            NegativeBinomial::new(args[0], args[1])
                .unwrap()
                .log_density(Operand::IntData(&self.0))
                .unwrap()
        }
    }

    struct SliceMu(Vec<f64>);
    impl ScalarFamily for SliceMu {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            NegativeBinomial::new(&args[1..], args[0])
                .unwrap()
                .log_density(Operand::Data(&self.0))
                .unwrap()
        }
    }

    #[test]
    fn gradients() {
        check_gradients(&Scalars(vec![3]), &[2.5, 1.7], 1e-6);
        check_gradients(&Scalars(vec![0]), &[2.5, 0.3], 1e-6);
        // Large counts use ln Γ/ψ instead of the rising-factorial sum.
        check_gradients(&Scalars(vec![40]), &[25.0, 3.0], 1e-6);
        // Slice data, scalar parameters: one fat node.
        check_gradients(&Scalars(vec![0, 5, 2, 19, 1, 60]), &[6.0, 1.3], 1e-6);
        check_gradients(&SliceMu(vec![0.0, 4.0, 30.0]), &[2.0, 1.0, 5.0, 20.0], 1e-6);
    }

    #[test]
    fn scalar_parameters_record_one_node() {
        let data: Vec<i64> = (0..30).collect();
        tape::reset();
        let (mu, phi) = (Var::leaf(5.0), Var::leaf(2.0));
        let before = tape::len();
        let _ = NegativeBinomial::new(mu, phi)
            .unwrap()
            .log_density(Operand::IntData(&data))
            .unwrap();
        assert_eq!(tape::len(), before + 1);
    }

    #[test]
    fn sampling_moments() {
        let mut rng = test_rng(17);
        let (mu, phi) = (4.0, 2.5);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(
            &NegativeBinomial::new(mu, phi).unwrap(),
            &mut rng,
            20_000,
            &mut xs,
        );
        check_moments(&xs, mu, mu + mu * mu / phi);
        assert!(xs.iter().all(|x| is_count(*x)));
    }

    #[test]
    fn values_are_integers() {
        assert_eq!(
            <NegativeBinomial<f64, f64> as Distribution<f64>>::value_from(smallvec::smallvec![7.0]),
            7
        );
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path_by_element;
    use crate::tape::Var;

    /// A vector of means over 40 counts (the column loop, with counts past the exact-sum
    /// limit of the element kernel) against 40 one-element densities, for a scalar φ
    /// (the last parameter).
    #[test]
    fn columns_path_matches_the_element_path() {
        let mut params: Vec<f64> = (0..40)
            .map(|i| 0.5 + (i as f64 * 0.7).sin().abs() * 20.0)
            .collect();
        params.push(2.7);
        let k: Vec<i64> = (0..40).map(|i| ((i * 7) % 31) as i64).collect();
        fn lp<D: Distribution<Var>>(d: D, k: &[i64]) -> Var {
            d.log_density(Operand::IntData(k)).unwrap()
        }
        check_columns_path_by_element(
            |p| lp(NegativeBinomial::new(&p[..40], p[40]).unwrap(), &k),
            |p, i| lp(NegativeBinomial::new(p[i], p[40]).unwrap(), &k[i..=i]),
            &params,
            k.len(),
        );
    }

    /// Near the Poisson limit (φ ≫ μ) the column loop keeps ln(1 + μ/φ) accurate: twenty
    /// counts of 10 at μ = 5, φ = 1e12 against the element path and the Poisson limit.
    #[test]
    fn columns_path_is_accurate_near_the_poisson_limit() {
        let (mu, phi) = (vec![5.0; 20], 1e12);
        let k = vec![10i64; 20];
        let d = NegativeBinomial::new(&mu[..], phi).unwrap();
        let column: f64 = Distribution::<f64>::log_density(&d, Operand::IntData(&k)).unwrap();
        let one = NegativeBinomial::new(5.0, phi).unwrap();
        let element: f64 =
            Distribution::<f64>::log_density(&one, Operand::IntData(&k[..1])).unwrap();
        let poisson = 10.0 * 5.0f64.ln() - 5.0 - crate::special::ln_gamma(11.0);
        assert!(
            (column / 20.0 - element).abs() < 1e-9,
            "{column} vs 20 × {element}"
        );
        assert!((element - poisson).abs() < 1e-9, "{element} vs {poisson}");
    }
}
