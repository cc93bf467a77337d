//! Cholesky factors of correlation matrices, as in Stan's reference manual ("Cholesky
//! factors of correlation matrices").
//!
//! The n(n−1)/2 unconstrained values `y` (row-major over the strictly lower triangle:
//! `(1,0), (2,0), (2,1), (3,0), …`) become canonical partial correlations
//! `z = tanh y ∈ (−1, 1)`, and row `i` of the lower-triangular factor `L` is
//!
//! `L_i0 = z_i0`, `L_ij = z_ij √(1 − Σ_{j'<j} L_ij'²)` for `0 < j < i`,
//! `L_ii = √(1 − Σ_{j<i} L_ij²)`,
//!
//! so every row has unit norm and `L Lᵀ` is a correlation matrix. The Jacobian of
//! `y ↦` (strictly lower entries of `L`) is triangular, giving
//! `ln |J| = Σ_{i>j} ln(1 − z_ij²) + ½ Σ_{i>j>0} ln(1 − Σ_{j'<j} L_ij'²)`.
//! The remaining norm `1 − Σ L_ij'² = Π (1 − z_ij'²)` is accumulated on the log scale.
//!
//! ```
//! use ppl_core::transform::cholesky_corr;
//! let mut l = Vec::new();
//! let log_jac: f64 = cholesky_corr::constrain(&[0.5, -0.2, 1.0], &mut l);
//! assert_eq!(l.len(), 9); // a 3×3 row-major factor
//! assert_eq!(l[1], 0.0); // above the diagonal
//! assert!(((l[3] * l[3] + l[4] * l[4]) - 1.0).abs() < 1e-15);
//! let y = cholesky_corr::unconstrain(&l);
//! assert!((y[2] - 1.0).abs() < 1e-12);
//! # assert!(log_jac < 0.0);
//! ```

use crate::scalar::Real;
use crate::transform::ValueSink;
use std::f64::consts::LN_2;

/// Unconstrained length for an n×n factor given n² constrained values.
///
/// ```
/// use ppl_core::transform::cholesky_corr::unconstrained_len;
/// assert_eq!(unconstrained_len(9), Some(3)); // 3×3: three correlations
/// assert_eq!(unconstrained_len(1), Some(0));
/// assert_eq!(unconstrained_len(8), None); // not a square
/// ```
pub fn unconstrained_len(constrained_len: usize) -> Option<usize> {
    let n = (constrained_len as f64).sqrt().round() as usize;
    (n * n == constrained_len).then(|| n * (n.saturating_sub(1)) / 2)
}

/// The dimension n of the factor built from `m = n(n−1)/2` unconstrained values
/// (`m = 0` gives `n = 1`), or `None` when `m` is not a triangular number.
///
/// ```
/// use ppl_core::transform::cholesky_corr::{dim_from_unconstrained, unconstrained_len};
/// assert_eq!(dim_from_unconstrained(0), Some(1));
/// assert_eq!(dim_from_unconstrained(6), Some(4));
/// assert_eq!(dim_from_unconstrained(4), None);
/// for n in 1..20 {
///     let m = n * (n - 1) / 2;
///     assert_eq!(dim_from_unconstrained(m), Some(n));
///     assert_eq!(unconstrained_len(n * n), Some(m));
/// }
/// ```
pub fn dim_from_unconstrained(m: usize) -> Option<usize> {
    let n = ((1.0 + (1.0 + 8.0 * m as f64).sqrt()) / 2.0).round() as usize;
    (n * (n - 1) / 2 == m).then_some(n)
}

/// `ln(1 − tanh² y) = 2 ln 2 + 2y − 2 ln(1 + e^{2y})`, accurate for large `|y|`.
fn log1m_tanh_sq<R: Real>(y: R) -> R {
    (y + LN_2 - (y * 2.0).log1p_exp()) * 2.0
}

/// Maps n(n−1)/2 unconstrained values to a row-major n×n lower-triangular factor with
/// unit-norm rows (appended to `out`); returns `ln |J|` of the map onto the strictly
/// lower entries. An empty `u` gives the 1×1 factor `[1]`; a length that is not
/// n(n−1)/2 for any n gives NaNs.
///
/// ```
/// use ppl_core::linalg::{mul_transpose, Matrix};
/// use ppl_core::transform::cholesky_corr;
///
/// let y = [0.3, -1.1, 2.0, 0.8, -0.4, 0.05];
/// let mut l = Vec::new();
/// cholesky_corr::constrain(&y, &mut l);
/// let l = Matrix::from_vec(4, 4, l);
/// assert!(l.factor_facts().valid); // lower triangular, positive diagonal
/// // Unit-norm rows: L Lᵀ has a unit diagonal, so it is a correlation matrix.
/// let omega: Matrix<f64> = mul_transpose(&l);
/// for i in 0..4 {
///     assert!((omega[(i, i)] - 1.0).abs() < 1e-15);
/// }
/// // The first column's partial correlations are correlations: Ω_i0 = tanh y_i0.
/// assert!((omega[(1, 0)] - 0.3f64.tanh()).abs() < 1e-15);
/// assert!((omega[(2, 0)] - (-1.1f64).tanh()).abs() < 1e-15);
/// assert!((omega[(3, 0)] - 0.8f64.tanh()).abs() < 1e-15);
///
/// // n = 2: ln |J| = ln(1 − tanh² y).
/// let mut l = Vec::new();
/// let log_jac: f64 = cholesky_corr::constrain(&[0.7], &mut l);
/// assert!((log_jac - (1.0 - 0.7f64.tanh().powi(2)).ln()).abs() < 1e-14);
/// // Four values are not n(n−1)/2 for any n.
/// assert!(cholesky_corr::constrain(&[0.0; 4], &mut Vec::new()).is_nan());
/// ```
pub fn constrain<R: Real>(u: &[R], out: &mut impl ValueSink<R>) -> R {
    let Some(n) = dim_from_unconstrained(u.len()) else {
        out.extend(u.iter().map(|_| R::constant(f64::NAN)));
        return R::constant(f64::NAN);
    };
    let start = out.len();
    out.resize(start + n * n, R::constant(0.0));
    let l = &mut out[start..];
    l[0] = R::constant(1.0);
    let mut log_jac = R::constant(0.0);
    let mut k = 0;
    for i in 1..n {
        // ln(1 − Σ_{j'<j} L_ij'²).
        let mut log_rem = R::constant(0.0);
        for j in 0..i {
            let y = u[k];
            k += 1;
            let z = y.tanh();
            let ln_1mz2 = log1m_tanh_sq(y);
            log_jac += ln_1mz2;
            l[i * n + j] = if j == 0 {
                z
            } else {
                let half = log_rem * 0.5;
                log_jac += half;
                z * half.exp()
            };
            log_rem += ln_1mz2;
        }
        l[i * n + i] = (log_rem * 0.5).exp();
    }
    log_jac
}

/// Builds the row-major n×n factor from canonical partial correlations `z ∈ [−1, 1]`
/// (row-major over the strictly lower triangle), in plain values. Used by samplers.
///
/// ```
/// use ppl_core::transform::cholesky_corr::{constrain, factor_from_cpcs};
/// // n = 2: [[1, 0], [z, √(1 − z²)]].
/// let l = factor_from_cpcs(&[0.6], 2);
/// assert_eq!(&l[..3], &[1.0, 0.0, 0.6]);
/// assert!((l[3] - 0.8).abs() < 1e-15);
/// // The same factor as `constrain` applied to atanh z.
/// let z = [0.5_f64, -0.2, 0.6];
/// let y: Vec<f64> = z.iter().map(|v| v.atanh()).collect();
/// let mut l2 = Vec::new();
/// constrain(&y, &mut l2);
/// for (a, b) in factor_from_cpcs(&z, 3).iter().zip(&l2) {
///     assert!((a - b).abs() < 1e-15);
/// }
/// assert!(std::panic::catch_unwind(|| factor_from_cpcs(&[0.1], 3)).is_err());
/// ```
///
/// # Panics
/// If `z.len() != n(n−1)/2`.
pub fn factor_from_cpcs(z: &[f64], n: usize) -> Vec<f64> {
    assert_eq!(
        z.len(),
        n * n.saturating_sub(1) / 2,
        "need n(n−1)/2 partial correlations"
    );
    let mut l = vec![0.0; n * n];
    if n == 0 {
        return l;
    }
    l[0] = 1.0;
    let mut k = 0;
    for i in 1..n {
        let mut rem = 1.0;
        for j in 0..i {
            let zij = z[k];
            k += 1;
            l[i * n + j] = zij * rem.sqrt();
            rem *= 1.0 - zij * zij;
        }
        l[i * n + i] = rem.sqrt();
    }
    l
}

/// Tolerance on the squared norm of a row for [`unconstrain`] to accept it.
pub const UNIT_NORM_TOL: f64 = 1e-8;

/// Inverse of [`constrain`]: a row-major n×n factor to n(n−1)/2 values
/// (`y_ij = atanh(L_ij / √(Σ_{j'≥j} L_ij'²))`). A length that is not a square gives an
/// empty vector; factors outside the support (a non-zero entry above the diagonal, a
/// non-positive diagonal entry, or a row whose squared norm is off 1 by more than
/// [`UNIT_NORM_TOL`]) give non-finite values.
///
/// ```
/// use ppl_core::transform::cholesky_corr;
/// let y = [0.3, -1.1, 2.0];
/// let mut l = Vec::new();
/// cholesky_corr::constrain(&y, &mut l);
/// for (a, b) in cholesky_corr::unconstrain(&l).iter().zip(y) {
///     assert!((a - b).abs() < 1e-12);
/// }
/// // The second row [0, 2] does not have unit norm.
/// assert!(cholesky_corr::unconstrain(&[1.0, 0.0, 0.0, 2.0])[0].is_nan());
/// assert!(cholesky_corr::unconstrain(&[1.0, 0.0, 0.0]).is_empty()); // not square
/// ```
pub fn unconstrain(x: &[f64]) -> Vec<f64> {
    let Some(m) = unconstrained_len(x.len()) else {
        return Vec::new();
    };
    let n = (x.len() as f64).sqrt().round() as usize;
    let mut y = Vec::with_capacity(m);
    if n > 0 && ((x[0] - 1.0).abs() > UNIT_NORM_TOL || x[1..n].iter().any(|v| *v != 0.0)) {
        return vec![f64::NAN; m];
    }
    for i in 1..n {
        let row = &x[i * n..i * n + i + 1];
        // Remaining squared norm Σ_{j'≥j} L_ij'², as a suffix sum (equals
        // 1 − Σ_{j'<j} L_ij'² for unit rows, without the cancellation).
        let mut rem: f64 = row.iter().map(|v| v * v).sum();
        let upper_zero = x[i * n + i + 1..(i + 1) * n].iter().all(|v| *v == 0.0);
        if !(row[i] > 0.0 && upper_zero && (rem - 1.0).abs() <= UNIT_NORM_TOL) {
            y.extend(std::iter::repeat_n(f64::NAN, i));
            continue;
        }
        for &lij in &row[..i] {
            y.push((lij / rem.sqrt()).atanh());
            rem -= lij * lij;
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::tests::{check_log_jacobian_gradients, fd_log_abs_det};
    use crate::transform::{Transform, TransformKind};
    use proptest::prelude::*;

    fn constrain_f64(u: &[f64]) -> (Vec<f64>, f64) {
        let mut x = Vec::new();
        let lj = constrain(u, &mut x);
        (x, lj)
    }

    fn strictly_lower(l: &[f64]) -> Vec<f64> {
        let n = (l.len() as f64).sqrt().round() as usize;
        (1..n)
            .flat_map(|i| (0..i).map(move |j| l[i * n + j]))
            .collect()
    }

    fn assert_valid_factor(l: &[f64], n: usize) {
        assert_eq!(l.len(), n * n);
        for i in 0..n {
            assert!(l[i * n + i] > 0.0, "diagonal {i} of {l:?}");
            for j in i + 1..n {
                assert_eq!(l[i * n + j], 0.0);
            }
            let norm: f64 = l[i * n..(i + 1) * n].iter().map(|v| v * v).sum();
            assert!(
                (norm - 1.0).abs() < 1e-12,
                "row {i} has squared norm {norm}"
            );
        }
    }

    #[test]
    fn dimensions() {
        assert_eq!(dim_from_unconstrained(0), Some(1));
        assert_eq!(dim_from_unconstrained(1), Some(2));
        assert_eq!(dim_from_unconstrained(3), Some(3));
        assert_eq!(dim_from_unconstrained(6), Some(4));
        assert_eq!(dim_from_unconstrained(4), None);
        assert_eq!(unconstrained_len(16), Some(6));
        assert_eq!(unconstrained_len(1), Some(0));
        assert_eq!(unconstrained_len(5), None);
        let (l, lj) = constrain_f64(&[]);
        assert_eq!((l, lj), (vec![1.0], 0.0));
        let (l, lj) = constrain_f64(&[0.0; 4]);
        assert!(l.iter().all(|v| v.is_nan()) && lj.is_nan());
        assert!(unconstrain(&[1.0]).is_empty());
        assert!(unconstrain(&[1.0, 0.0, 0.0]).is_empty());
    }

    #[test]
    fn zero_is_identity_and_two_by_two() {
        let (l, lj) = constrain_f64(&[0.0; 6]);
        let eye: Vec<f64> = (0..16)
            .map(|k| if k % 5 == 0 { 1.0 } else { 0.0 })
            .collect();
        assert_eq!(l, eye);
        assert_eq!(lj, 0.0);
        // n = 2: L = [[1, 0], [r, √(1−r²)]] with r = tanh y, ln|J| = ln(1 − r²).
        let (l, lj) = constrain_f64(&[0.7]);
        let r = 0.7f64.tanh();
        assert!((l[2] - r).abs() < 1e-15 && (l[3] - (1.0 - r * r).sqrt()).abs() < 1e-15);
        assert!((lj - (1.0 - r * r).ln()).abs() < 1e-14);
    }

    #[test]
    fn outside_support_is_not_finite() {
        // Upper triangle not zero, non-positive diagonal, off-diagonal beyond the norm.
        assert!(unconstrain(&[1.0, 0.1, 0.0, 1.0])
            .iter()
            .any(|v| !v.is_finite()));
        assert!(unconstrain(&[1.0, 0.0, 1.0, 0.0])
            .iter()
            .any(|v| !v.is_finite()));
        assert!(unconstrain(&[1.0, 0.0, 0.5, -0.8])
            .iter()
            .any(|v| !v.is_finite()));
        assert!(unconstrain(&[0.9, 0.0, 0.6, 0.8])
            .iter()
            .any(|v| !v.is_finite()));
        assert!(unconstrain(&[1.0, 0.0, 0.0, 0.0, 1.0, 0.1, 0.0, 0.0, 1.0])
            .iter()
            .any(|v| !v.is_finite()));
    }

    #[test]
    fn extreme_inputs_stay_valid() {
        let (l, lj) = constrain_f64(&[30.0, -30.0, 5.0, 400.0, -2.0, 1.0]);
        assert!(lj.is_finite());
        for i in 0..4 {
            let norm: f64 = l[i * 4..(i + 1) * 4].iter().map(|v| v * v).sum();
            assert!((norm - 1.0).abs() < 1e-12);
            assert!(l[i * 4 + i] >= 0.0);
        }
    }

    #[test]
    fn cpcs_match_constrain() {
        let u = [0.3, -1.1, 0.8, 2.0, -0.4, 0.05];
        let z: Vec<f64> = u.iter().map(|v| v.tanh()).collect();
        let (l, _) = constrain_f64(&u);
        let l2 = factor_from_cpcs(&z, 4);
        for (a, b) in l.iter().zip(&l2) {
            assert!((a - b).abs() < 1e-14);
        }
        assert_eq!(factor_from_cpcs(&[], 1), vec![1.0]);
        assert!(factor_from_cpcs(&[], 0).is_empty());
    }

    #[test]
    fn enum_dispatch() {
        let t = Transform::<f64>::CholeskyCorr;
        let mut l = Vec::new();
        let lj = t.constrain(&[0.2, 0.4, -0.6], &mut l);
        assert_valid_factor(&l, 3);
        assert!((lj - constrain_f64(&[0.2, 0.4, -0.6]).1).abs() < 1e-15);
        let y = t.unconstrain(&l);
        assert!((y[1] - 0.4).abs() < 1e-12);
    }

    fn u_and_n() -> impl Strategy<Value = Vec<f64>> {
        (1usize..6).prop_flat_map(|n| proptest::collection::vec(-3.0..3.0f64, n * (n - 1) / 2))
    }

    proptest! {
        #[test]
        fn round_trip_and_support(u in u_and_n()) {
            let (l, lj) = constrain_f64(&u);
            let n = dim_from_unconstrained(u.len()).unwrap();
            assert_valid_factor(&l, n);
            prop_assert!(lj.is_finite());
            let back = unconstrain(&l);
            prop_assert_eq!(back.len(), u.len());
            for (a, b) in u.iter().zip(&back) {
                prop_assert!((a - b).abs() < 1e-8, "{} vs {}", a, b);
            }
        }

        #[test]
        fn inverse_round_trip(z in (1usize..6).prop_flat_map(|n| {
            proptest::collection::vec(-0.95..0.95f64, n * (n - 1) / 2)
        })) {
            let n = dim_from_unconstrained(z.len()).unwrap();
            let l = factor_from_cpcs(&z, n);
            let (back, _) = constrain_f64(&unconstrain(&l));
            for (a, b) in l.iter().zip(&back) {
                prop_assert!((a - b).abs() < 1e-12);
            }
        }

        #[test]
        fn log_jacobian_matches_finite_differences(u in u_and_n()) {
            prop_assume!(!u.is_empty());
            let (_, lj) = constrain_f64(&u);
            let fd = fd_log_abs_det(|v| strictly_lower(&constrain_f64(v).0), &u);
            prop_assert!((lj - fd).abs() < 1e-6 * lj.abs().max(1.0), "{} vs {}", lj, fd);
        }
    }

    #[test]
    fn log_jacobian_gradients() {
        check_log_jacobian_gradients(TransformKind::CholeskyCorr, &[0.7], 1e-6);
        check_log_jacobian_gradients(
            TransformKind::CholeskyCorr,
            &[0.3, -1.2, 2.0, 0.0, 0.5, -0.4],
            1e-6,
        );
    }
}
