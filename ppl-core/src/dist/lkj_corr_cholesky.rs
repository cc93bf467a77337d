//! The LKJ distribution over Cholesky factors of correlation matrices.

use super::{Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::dual::Fwd;
use crate::scalar::{EvalMode, Real};
use crate::transform::cholesky_corr;
use crate::vectorized::LengthMismatch;
use num_dual::Dual64;
use rand::RngCore;
use rand_distr::Distribution as _;
use std::cell::Cell;
use std::f64::consts::LN_2;

/// LKJ distribution (Lewandowski, Kurowicka and Joe 2009) with shape `eta > 0` over the
/// lower-triangular Cholesky factor `L` of an n×n correlation matrix `Ω = L Lᵀ`, as in
/// Stan's `lkj_corr_cholesky`: the LKJ density `p(Ω) ∝ det(Ω)^{η−1}` carried to `L`
/// (with respect to its strictly lower entries),
///
/// `ln p(L) = Σ_{i=1}^{n−1} (n − i − 3 + 2η) ln L_ii − ln c_n(η)`,
///
/// with the normalising constant (LKJ 2009, eq. 16)
/// `ln c_n(η) = Σ_{k=1}^{n−1} [(2η − 2 + n − k)(n − k) ln 2 + (n − k) ln B(b_k, b_k)]`,
/// `b_k = η + (n − k − 1)/2`. `η = 1` is uniform over correlation matrices; larger `η`
/// concentrates on the identity. Each off-diagonal correlation is marginally
/// `2 Beta(η − 1 + n/2, η − 1 + n/2) − 1`.
///
/// An event is the row-major n×n factor (shape `[n, n]`, zeros above the diagonal);
/// stacked events are summed. Factors off the support (non-zero upper triangle,
/// non-positive diagonal, rows not of unit norm within 1e-8) have log-density −∞.
///
/// ```
/// use ppl_core::dist::{Distribution, LKJCorrCholesky};
/// use ppl_core::param::Param;
/// let d = LKJCorrCholesky::new(2, 2.0).unwrap();
/// // n = 2: the correlation r = L₁₀ has density (1 − r²)^{η−1} / (2^{2η−1} B(η, η)).
/// let r: f64 = 0.6;
/// let l = [1.0, 0.0, r, (1.0 - r * r).sqrt()];
/// let lp: f64 = d.log_density(Param::<f64>::operand(&l)).unwrap();
/// let expected = (1.0 - r * r).ln() - (8.0 * (1.0 / 6.0_f64)).ln(); // B(2, 2) = 1/6
/// assert!((lp - expected).abs() < 1e-12);
/// assert!(LKJCorrCholesky::new(3, 0.0).is_err());
///
/// // Off the support: a row that is not of unit norm, a value above the diagonal.
/// let long_row = [1.0, 0.0, r, 1.0];
/// let lp: f64 = d.log_density(Param::<f64>::operand(&long_row)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// let upper = [1.0, 0.1, 0.0, 1.0];
/// let lp: f64 = d.log_density(Param::<f64>::operand(&upper)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LKJCorrCholesky<E> {
    n: usize,
    eta: E,
}

const NAME: &str = "LKJCorrCholesky";

/// Tolerance of the support check on each row's squared norm.
const NORM_TOL: f64 = 1e-8;

impl<E: ParamValues> LKJCorrCholesky<E> {
    /// Builds the distribution over n×n factors; `n ≥ 1` and `eta` a positive scalar.
    ///
    /// ```
    /// use ppl_core::dist::LKJCorrCholesky;
    /// assert!(LKJCorrCholesky::new(3, 0.5).is_ok());
    /// assert_eq!(LKJCorrCholesky::new(0, 2.0).unwrap_err().parameter, "n");
    /// let err = LKJCorrCholesky::new(3, -1.0).unwrap_err();
    /// assert_eq!((err.parameter, err.value), ("eta", -1.0));
    /// assert!(LKJCorrCholesky::new(3, &[1.0, 2.0]).is_err()); // eta must be a scalar
    /// ```
    pub fn new(n: usize, eta: E) -> Result<Self, ParamError> {
        if n == 0 {
            return Err(ParamError::new(NAME, "n", "must be at least 1", 0.0));
        }
        if let Some(len) = eta.param_len() {
            return Err(ParamError::new(
                NAME,
                "eta",
                "must be a scalar (length shown)",
                len as f64,
            ));
        }
        check_param(NAME, "eta", &eta, "must be positive", |e| e > 0.0)?;
        Ok(LKJCorrCholesky { n, eta })
    }
}

/// `ln c_n(η)`, the log of `∫ det(Ω)^{η−1} dΩ` over n×n correlation matrices.
///
/// ```
/// use ppl_core::dist::lkj_log_normalizer;
/// use ppl_core::special::ln_beta;
/// use std::f64::consts::{LN_2, PI};
/// // η = 1: the volume of the set of correlation matrices: 2 (r ∈ (−1, 1)) for
/// // n = 2, π²/2 for n = 3 and 32π²/27 for n = 4 (Joe 2006).
/// assert_eq!(lkj_log_normalizer(1.0, 1), 0.0);
/// assert!((lkj_log_normalizer(1.0, 2) - LN_2).abs() < 1e-14);
/// assert!((lkj_log_normalizer(1.0, 3) - (PI * PI / 2.0).ln()).abs() < 1e-14);
/// assert!((lkj_log_normalizer(1.0, 4) - (32.0 * PI * PI / 27.0).ln()).abs() < 1e-14);
/// // n = 2: ∫ (1 − r²)^{η−1} dr = 2^{2η−1} B(η, η).
/// let eta = 2.5;
/// let want = (2.0 * eta - 1.0) * LN_2 + ln_beta(eta, eta);
/// assert!((lkj_log_normalizer(eta, 2) - want).abs() < 1e-14);
/// ```
pub fn lkj_log_normalizer<R: Real>(eta: R, n: usize) -> R {
    let mut total = R::constant(0.0);
    for k in 1..n {
        let m = (n - k) as f64;
        let b = eta + (m - 1.0) * 0.5;
        total += (eta * 2.0 - 2.0 + m) * (m * LN_2) + b.ln_beta(b) * m;
    }
    total
}

/// `ln c_n(η)` and its η-derivative, remembered for the last `(η, n)` of this thread:
/// η is usually a constant, and the log-Beta sums would otherwise be recomputed at
/// every evaluation.
fn log_normalizer_and_derivative(eta: f64, n: usize) -> (f64, f64) {
    thread_local! {
        static LAST: Cell<Option<(u64, usize, f64, f64)>> = const { Cell::new(None) };
    }
    LAST.with(|last| match last.get() {
        Some((bits, m, v, d)) if bits == eta.to_bits() && m == n => (v, d),
        _ => {
            let c = lkj_log_normalizer(Fwd(Dual64::from(eta).derivative()), n).0;
            last.set(Some((eta.to_bits(), n, c.re, c.eps)));
            (c.re, c.eps)
        }
    })
}

impl<E> LKJCorrCholesky<E> {
    /// The dimension n.
    ///
    /// ```
    /// use ppl_core::dist::{Distribution, LKJCorrCholesky};
    /// let d = LKJCorrCholesky::new(4, 1.0).unwrap();
    /// assert_eq!(d.dim(), 4);
    /// assert_eq!(Distribution::<f64>::event_len(&d), 16); // the row-major 4×4 factor
    /// ```
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Number of events in `x`, checking its length.
    fn events<R: Real>(&self, x: &Operand<'_, R>) -> Result<usize, LengthMismatch> {
        let k = self.n * self.n;
        match x.len() {
            None if k == 1 => Ok(1),
            None => Err(LengthMismatch {
                argument: "x",
                found: 1,
                expected: k,
            }),
            Some(len) if len % k == 0 => Ok(len / k),
            Some(len) => Err(LengthMismatch {
                argument: "x",
                found: len,
                expected: k,
            }),
        }
    }

    /// Whether event `e` of `x` is a Cholesky factor of a correlation matrix.
    fn in_support<R: Real>(&self, x: &Operand<'_, R>, e: usize) -> bool {
        let n = self.n;
        let at = |i: usize, j: usize| x.value(e * n * n + i * n + j);
        (0..n).all(|i| {
            let norm: f64 = (0..=i).map(|j| at(i, j) * at(i, j)).sum();
            at(i, i) > 0.0 && (i + 1..n).all(|j| at(i, j) == 0.0) && (norm - 1.0).abs() <= NORM_TOL
        })
    }
}

impl<R: Real, E: Param<R>> Distribution<R> for LKJCorrCholesky<E> {
    type Value = Vec<R>;

    fn name(&self) -> &'static str {
        NAME
    }

    fn event_len(&self) -> usize {
        self.n * self.n
    }

    fn event_shape(&self) -> Vec<usize> {
        vec![self.n, self.n]
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(None)
    }

    fn support(&self) -> Support<R> {
        Support::CholeskyCorr
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let events = self.events(&x)?;
        if !(0..events).all(|e| self.in_support(&x, e)) {
            return Ok(R::constant(f64::NEG_INFINITY));
        }
        let n = self.n;
        let eta_op = self.eta.operand();
        if R::MODE == EvalMode::Dual {
            let eta = eta_op.lift(0);
            let mut total = R::constant(0.0);
            for i in 1..n {
                // Σ over events of ln L_ii.
                let mut s = R::constant(0.0);
                for e in 0..events {
                    s += x.lift(e * n * n + i * n + i).ln();
                }
                total += (eta * 2.0 + (n as f64 - i as f64 - 3.0)) * s;
            }
            return Ok(total - lkj_log_normalizer(eta, n) * events as f64);
        }
        // Value and partials in plain f64, recorded as one tape node:
        // ∂/∂L_ii = c_i / L_ii with c_i = 2η + n − i − 3, and
        // ∂/∂η = 2 Σ ln L_ii − events · d ln C/dη (the normaliser's derivative by a dual).
        let mut x_buf = Vec::new();
        let x = x.materialize(&mut x_buf);
        let eta = eta_op.value(0);
        let (log_c, d_log_c) = log_normalizer_and_derivative(eta, n);
        Ok(R::record_wide(|w| {
            let mut total = -log_c * events as f64;
            let mut d_eta = -d_log_c * events as f64;
            for i in 1..n {
                let c = 2.0 * eta + (n as f64 - i as f64 - 3.0);
                for e in 0..events {
                    let k = e * n * n + i * n + i;
                    let l = x.value(k);
                    total += c * l.ln();
                    d_eta += 2.0 * l.ln();
                    if let Operand::Slice(v) = x {
                        w.push(v[k].tape_index(), c / l);
                    }
                }
            }
            if let Operand::Scalar(v) = eta_op {
                w.push(v.tape_index(), d_eta);
            }
            total
        }))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let events = self.events(&x)?;
        let n = self.n;
        let eta = self.eta.operand().value(0);
        let log_c = lkj_log_normalizer(eta, n);
        for e in 0..events {
            if !self.in_support(&x, e) {
                out.push(f64::NEG_INFINITY);
                continue;
            }
            let s: f64 = (1..n)
                .map(|i| {
                    (2.0 * eta + n as f64 - i as f64 - 3.0) * x.value(e * n * n + i * n + i).ln()
                })
                .sum();
            out.push(s - log_c);
        }
        Ok(())
    }

    /// Draws by the C-vine method (as Stan's `lkj_corr_cholesky_rng`): the canonical
    /// partial correlations of column `j` are independent `2 Beta(α_j, α_j) − 1` with
    /// `α_j = η + (n − 2 − j)/2`.
    fn draw(&self, rng: &mut dyn RngCore, n_scalars: usize, out: &mut Vec<f64>) {
        let n = self.n;
        let eta = self.eta.operand().value(0);
        let betas: Vec<rand_distr::Beta<f64>> = (0..n.saturating_sub(1))
            .map(|j| {
                let a = eta + (n as f64 - 2.0 - j as f64) * 0.5;
                rand_distr::Beta::new(a, a).expect("validated shape")
            })
            .collect();
        let mut z = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for _ in 0..n_scalars / (n * n) {
            z.clear();
            for i in 1..n {
                for beta in &betas[..i] {
                    z.push(2.0 * beta.sample(rng) - 1.0);
                }
            }
            out.extend(cholesky_corr::factor_from_cpcs(&z, n));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> Vec<R> {
        xs.into_vec()
    }
}

impl<R: Real, E: Param<R>> ElementValue<R> for LKJCorrCholesky<E> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_moments, test_rng, ScalarFamily};
    use crate::special::ln_beta;
    use crate::transform::Transform;

    fn lp<D: Distribution<f64>>(d: &D, x: &[f64]) -> f64 {
        d.log_density(Operand::<f64>::Data(x)).unwrap()
    }

    fn factor(u: &[f64]) -> (Vec<f64>, f64) {
        let mut l = Vec::new();
        let lj = cholesky_corr::constrain(u, &mut l);
        (l, lj)
    }

    #[test]
    fn two_by_two_closed_form() {
        for eta in [0.5, 1.0, 2.0, 7.5] {
            let d = LKJCorrCholesky::new(2, eta).unwrap();
            for r in [-0.9, -0.2, 0.0, 0.4, 0.99] {
                let l = [1.0, 0.0, r, (1.0 - r * r).sqrt()];
                let expected =
                    (eta - 1.0) * (1.0 - r * r).ln() - (2.0 * eta - 1.0) * LN_2 - ln_beta(eta, eta);
                assert!((lp(&d, &l) - expected).abs() < 1e-12, "eta {eta} r {r}");
            }
        }
        // n = 1: the point mass at [1].
        let d = LKJCorrCholesky::new(1, 3.0).unwrap();
        assert_eq!(lp(&d, &[1.0]), 0.0);
        assert_eq!(d.log_density(Operand::<f64>::Const(1.0)).unwrap(), 0.0);
    }

    /// Trapezoid rule over the unconstrained space (y ∈ [−12, 12]³, step 0.3) of
    /// `f(L) p(L) |J|` for several `f` at once: spectrally accurate for these smooth,
    /// exponentially decaying integrands.
    fn integrate3<const K: usize>(eta: f64, f: impl Fn(&[f64]) -> [f64; K]) -> [f64; K] {
        let d = LKJCorrCholesky::new(3, eta).unwrap();
        let h = 0.3;
        let grid: Vec<f64> = (0..=80).map(|i| -12.0 + h * i as f64).collect();
        let mut total = [0.0; K];
        for &a in &grid {
            for &b in &grid {
                for &c in &grid {
                    let (l, lj) = factor(&[a, b, c]);
                    let p = (lp(&d, &l) + lj).exp();
                    for (t, v) in total.iter_mut().zip(f(&l)) {
                        *t += p * v;
                    }
                }
            }
        }
        total.map(|t| t * h * h * h)
    }

    #[test]
    fn three_by_three_normalised_with_beta_marginals() {
        for eta in [0.8, 1.0, 2.5] {
            // Ω₂₁ = L₂₀ L₁₀ + L₂₁ L₁₁ and Ω₁₀ = L₁₀ are 2 Beta(η + ½, η + ½) − 1:
            // mean 0, variance 1/(2η + 2).
            let [mass, m2_21, m2_10, m1_20] = integrate3(eta, |l| {
                [1.0, (l[6] * l[3] + l[7] * l[4]).powi(2), l[3] * l[3], l[6]]
            });
            let var = 1.0 / (2.0 * eta + 2.0);
            assert!((mass - 1.0).abs() < 1e-7, "eta {eta}: total mass {mass}");
            assert!((m2_21 - var).abs() < 1e-7, "eta {eta}: {m2_21} vs {var}");
            assert!((m2_10 - var).abs() < 1e-7, "eta {eta}: {m2_10} vs {var}");
            assert!(m1_20.abs() < 1e-9);
        }
    }

    /// The normaliser remembered per thread is the one of the (η, n) asked for, in any
    /// order of calls: at the identity factor the log-density is `−ln c_n(η)`.
    #[test]
    fn remembered_normaliser_follows_eta_and_n() {
        let cases = [(2.0, 3), (0.5, 3), (2.0, 4), (2.0, 3), (0.5, 2), (0.5, 3)];
        for (eta, n) in cases {
            let identity: Vec<f64> = (0..n * n)
                .map(|k| if k % (n + 1) == 0 { 1.0 } else { 0.0 })
                .collect();
            let d = LKJCorrCholesky::new(n, eta).unwrap();
            let want = -lkj_log_normalizer(eta, n);
            assert!(
                (lp(&d, &identity) - want).abs() < 1e-12,
                "η = {eta}, n = {n}"
            );
        }
    }

    #[test]
    fn support_and_shapes() {
        let d = LKJCorrCholesky::new(3, 1.5).unwrap();
        assert_eq!(Distribution::<f64>::event_len(&d), 9);
        assert_eq!(Distribution::<f64>::event_shape(&d), vec![3, 3]);
        assert_eq!(Distribution::<f64>::batch_len(&d), Ok(None));
        assert_eq!(
            Distribution::<f64>::support(&d).default_transform(),
            Transform::CholeskyCorr
        );
        assert_eq!(d.dim(), 3);
        let (l, _) = factor(&[0.3, -0.5, 1.0]);
        assert!(lp(&d, &l).is_finite());
        let mut bad = l.clone();
        bad[1] = 0.1;
        assert_eq!(lp(&d, &bad), f64::NEG_INFINITY);
        let mut bad = l.clone();
        bad[4] *= 1.1;
        assert_eq!(lp(&d, &bad), f64::NEG_INFINITY);
        let mut bad = l.clone();
        bad[8] = -bad[8];
        assert_eq!(lp(&d, &bad), f64::NEG_INFINITY);
        assert!(d.log_density(Operand::<f64>::Data(&l[..8])).is_err());
        assert!(d.log_density(Operand::<f64>::Const(1.0)).is_err());
        // Two stacked events sum; pointwise gives one value per event.
        let (l2, _) = factor(&[-1.0, 0.2, 0.0]);
        let both: Vec<f64> = l.iter().chain(&l2).copied().collect();
        assert!((lp(&d, &both) - lp(&d, &l) - lp(&d, &l2)).abs() < 1e-12);
        let mut pw = Vec::new();
        d.log_density_pointwise(Operand::<f64>::Data(&both), &mut pw)
            .unwrap();
        assert!((pw[0] - lp(&d, &l)).abs() < 1e-12 && (pw[1] - lp(&d, &l2)).abs() < 1e-12);
        pw.clear();
        d.log_density_pointwise(Operand::<f64>::Data(&bad), &mut pw)
            .unwrap();
        assert_eq!(pw, vec![f64::NEG_INFINITY]);
        assert!(LKJCorrCholesky::new(0, 1.0).is_err());
        assert!(LKJCorrCholesky::new(2, -1.0).is_err());
        assert!(LKJCorrCholesky::new(2, &[1.0, 2.0]).is_err());
    }

    /// Density composed with the transform plus its log-Jacobian; arguments: the
    /// unconstrained values, then η.
    struct OnFactors(usize);
    impl ScalarFamily for OnFactors {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let m = self.0 * (self.0 - 1) / 2;
            let mut l = Vec::new();
            let lj = Transform::CholeskyCorr.constrain(&args[..m], &mut l);
            let d = LKJCorrCholesky::new(self.0, args[m]).unwrap();
            d.log_density(Operand::Slice(&l)).unwrap() + lj
        }
    }

    #[test]
    fn gradients() {
        check_gradients(&OnFactors(2), &[0.4, 1.7], 1e-6);
        check_gradients(&OnFactors(3), &[0.4, -0.3, 1.1, 0.9], 1e-6);
        check_gradients(&OnFactors(4), &[0.4, -0.3, 1.1, 0.2, -1.5, 0.6, 3.0], 1e-6);
    }

    #[test]
    fn sampling_moments() {
        for (n, eta) in [(2, 1.0), (3, 2.0), (4, 0.7)] {
            let d = LKJCorrCholesky::new(n, eta).unwrap();
            let draws = 20_000;
            let mut out = Vec::new();
            Distribution::<f64>::draw(&d, &mut test_rng(3), draws * n * n, &mut out);
            assert_eq!(out.len(), draws * n * n);
            let a = eta - 1.0 + n as f64 / 2.0;
            let var = 1.0 / (2.0 * a + 1.0);
            let mut r_first = Vec::with_capacity(draws);
            let mut r_last = Vec::with_capacity(draws);
            for l in out.chunks(n * n) {
                assert!(d.in_support(&Operand::<f64>::Data(l), 0));
                // Ω_{1,0} and Ω_{n−1,n−2}.
                r_first.push(l[n]);
                let (i, j) = (n - 1, n - 2);
                r_last.push((0..n).map(|k| l[i * n + k] * l[j * n + k]).sum());
            }
            check_moments(&r_first, 0.0, var);
            check_moments(&r_last, 0.0, var);
        }
    }
}
