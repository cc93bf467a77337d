//! Stick-breaking transform onto the probability simplex, as in Stan.
//!
//! K−1 unconstrained values `u` give a K-vector `x` with positive entries summing to 1:
//! for `k = 0..K−1`, `z_k = σ(u_k − ln(K−1−k))` is the fraction of the remaining stick
//! broken off, `x_k = z_k (1 − Σ_{j<k} x_j)`, and the last entry takes what is left.
//! The offset `ln(K−1−k)` makes `u = 0` the uniform simplex. The Jacobian of
//! `u ↦ (x_0, …, x_{K−2})` is triangular, so
//! `ln |J| = Σ_k ln(z_k (1 − z_k) (1 − Σ_{j<k} x_j))`.
//!
//! The remaining stick is kept on the log scale, so entries far in the tail are accurate.
//!
//! ```
//! use ppl_core::transform::simplex;
//! let mut x = Vec::new();
//! let log_jac: f64 = simplex::constrain(&[0.0, 0.0, 0.0], &mut x);
//! assert!(x.iter().all(|v| (v - 0.25).abs() < 1e-15));
//! assert!(log_jac.is_finite());
//! let u = simplex::unconstrain(&x);
//! assert!(u.iter().all(|v| v.abs() < 1e-12));
//! ```

use crate::scalar::Real;
use crate::transform::ValueSink;

/// Maps K−1 unconstrained values to a K-simplex (appended to `out`); returns `ln |J|` of
/// the map onto the first K−1 coordinates. An empty `u` gives `[1]`.
///
/// ```
/// use ppl_core::transform::simplex;
/// let mut x = Vec::new();
/// let log_jac: f64 = simplex::constrain(&[], &mut x);
/// assert_eq!((x, log_jac), (vec![1.0], 0.0));
///
/// // K = 2: x = (σ(u), 1 − σ(u)) and ln |J| = ln(σ(u)(1 − σ(u))).
/// let u = 1.2;
/// let s = 1.0 / (1.0 + f64::exp(-u));
/// let mut x = Vec::new();
/// let log_jac: f64 = simplex::constrain(&[u], &mut x);
/// assert!((x[0] - s).abs() < 1e-15 && (x[1] - (1.0 - s)).abs() < 1e-15);
/// assert!((log_jac - (s * (1.0 - s)).ln()).abs() < 1e-14);
///
/// // Extreme inputs stay on the simplex.
/// let mut x = Vec::new();
/// simplex::constrain(&[40.0, -40.0, 800.0], &mut x);
/// assert!(x.iter().all(|v| *v >= 0.0));
/// assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// ```
pub fn constrain<R: Real>(u: &[R], out: &mut impl ValueSink<R>) -> R {
    let km1 = u.len();
    out.reserve(km1 + 1);
    // ln of the stick still to be broken.
    let mut log_stick = R::constant(0.0);
    let mut log_jac = R::constant(0.0);
    for (k, &uk) in u.iter().enumerate() {
        let v = uk - ((km1 - k) as f64).ln();
        let ln_z = v.log_sigmoid();
        let ln_1mz = (-v).log_sigmoid();
        let ln_x = log_stick + ln_z;
        out.push(ln_x.exp());
        // ∂x_k/∂u_k = stick · z (1 − z) = x_k (1 − z).
        log_jac += ln_x + ln_1mz;
        log_stick += ln_1mz;
    }
    out.push(log_stick.exp());
    log_jac
}

/// Inverse of [`constrain`]: K simplex entries to K−1 unconstrained values (empty for
/// an empty `x`). Entries outside the simplex give non-finite values.
///
/// ```
/// use ppl_core::transform::simplex;
/// let p = [0.2, 0.3, 0.5];
/// let u = simplex::unconstrain(&p);
/// // u₀ = logit(0.2/1) + ln 2 = −ln 2, u₁ = logit(0.3/0.8) + ln 1 = ln 0.6.
/// assert!((u[0] + 2f64.ln()).abs() < 1e-14 && (u[1] - 0.6f64.ln()).abs() < 1e-14);
/// let mut back = Vec::new();
/// simplex::constrain(&u, &mut back);
/// for (a, b) in back.iter().zip(p) {
///     assert!((a - b).abs() < 1e-15);
/// }
/// assert!(simplex::unconstrain(&[1.2, -0.2]).iter().any(|v| !v.is_finite()));
/// ```
pub fn unconstrain(x: &[f64]) -> Vec<f64> {
    let Some(km1) = x.len().checked_sub(1) else {
        return Vec::new();
    };
    // Remaining stick before entry k, as a suffix sum (accurate for tiny tails).
    let mut suffix = vec![0.0; x.len() + 1];
    for k in (0..x.len()).rev() {
        suffix[k] = suffix[k + 1] + x[k];
    }
    // z = x_k / s_k and 1 − z = s_{k+1} / s_k, so logit z = ln x_k − ln s_{k+1}.
    (0..km1)
        .map(|k| {
            if x[k] < 0.0 || suffix[k + 1] < 0.0 {
                return f64::NAN;
            }
            x[k].ln() - suffix[k + 1].ln() + ((km1 - k) as f64).ln()
        })
        .collect()
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

    #[test]
    fn zero_maps_to_uniform() {
        for k in 1..6 {
            let (x, _) = constrain_f64(&vec![0.0; k - 1]);
            assert_eq!(x.len(), k);
            for v in &x {
                assert!((v - 1.0 / k as f64).abs() < 1e-15);
            }
        }
        let (x, lj) = constrain_f64(&[]);
        assert_eq!((x, lj), (vec![1.0], 0.0));
        assert!(unconstrain(&[]).is_empty());
        assert!(unconstrain(&[1.0]).is_empty());
    }

    #[test]
    fn outside_support_is_not_finite() {
        assert!(unconstrain(&[-0.1, 1.1]).iter().any(|v| !v.is_finite()));
        assert!(unconstrain(&[1.0, 0.0]).iter().any(|v| !v.is_finite()));
    }

    #[test]
    fn extreme_inputs_stay_on_the_simplex() {
        let (x, lj) = constrain_f64(&[40.0, -40.0, 800.0]);
        assert!(x.iter().all(|v| *v >= 0.0));
        assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(lj.is_finite() || lj == f64::NEG_INFINITY);
    }

    #[test]
    fn enum_dispatch() {
        let t = Transform::<f64>::Simplex;
        assert_eq!(t.unconstrained_len(4), Some(3));
        assert_eq!(t.unconstrained_len(0), None);
        let mut x = Vec::new();
        let lj = t.constrain(&[0.1, -0.3, 0.7], &mut x);
        assert_eq!(x.len(), 4);
        assert!((lj - constrain_f64(&[0.1, -0.3, 0.7]).1).abs() < 1e-15);
        let u = t.unconstrain(&x);
        assert!((u[2] - 0.7).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn round_trip_and_support(u in proptest::collection::vec(-5.0..5.0f64, 0..8)) {
            let (x, lj) = constrain_f64(&u);
            prop_assert_eq!(x.len(), u.len() + 1);
            prop_assert!(x.iter().all(|v| *v > 0.0));
            prop_assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            prop_assert!(lj.is_finite());
            let back = unconstrain(&x);
            for (a, b) in u.iter().zip(&back) {
                prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b);
            }
        }

        #[test]
        fn inverse_round_trip(w in proptest::collection::vec(0.05..1.0f64, 1..8)) {
            let total: f64 = w.iter().sum();
            let x: Vec<f64> = w.iter().map(|v| v / total).collect();
            let (back, _) = constrain_f64(&unconstrain(&x));
            for (a, b) in x.iter().zip(&back) {
                prop_assert!((a - b).abs() < 1e-12);
            }
        }

        #[test]
        fn log_jacobian_matches_finite_differences(
            u in proptest::collection::vec(-3.0..3.0f64, 1..6)
        ) {
            let (_, lj) = constrain_f64(&u);
            let k = u.len();
            let fd = fd_log_abs_det(|v| constrain_f64(v).0[..k].to_vec(), &u);
            prop_assert!((lj - fd).abs() < 1e-6 * lj.abs().max(1.0), "{} vs {}", lj, fd);
        }
    }

    #[test]
    fn log_jacobian_gradients() {
        check_log_jacobian_gradients(TransformKind::Simplex, &[0.3, -1.2, 2.0, 0.0], 1e-6);
        check_log_jacobian_gradients(TransformKind::Simplex, &[4.0], 1e-6);
    }
}
