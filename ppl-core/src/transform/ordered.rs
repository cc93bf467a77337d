//! The ordered transform onto strictly increasing vectors: `x₀ = u₀`,
//! `xᵢ = xᵢ₋₁ + e^{uᵢ}`, with `ln |J| = Σ_{i≥1} uᵢ` (the Jacobian is triangular).
//!
//! ```
//! use ppl_core::transform::ordered;
//! let mut x = Vec::new();
//! let log_jac: f64 = ordered::constrain(&[1.0, 0.0, 0.0], &mut x);
//! assert_eq!(x, vec![1.0, 2.0, 3.0]);
//! assert_eq!(log_jac, 0.0);
//! assert_eq!(ordered::unconstrain(&x), vec![1.0, 0.0, 0.0]);
//! ```

use crate::scalar::Real;
use crate::transform::ValueSink;

/// Maps unconstrained values to a strictly increasing vector (appended to `out`);
/// returns `ln |J| = Σ_{i≥1} uᵢ`.
///
/// ```
/// use ppl_core::transform::ordered;
/// let mut x = Vec::new();
/// let log_jac: f64 = ordered::constrain(&[-3.0, 5.0, -5.0, 0.0], &mut x);
/// assert_eq!(x[0], -3.0);
/// assert!(x.windows(2).all(|w| w[1] > w[0])); // strictly increasing
/// assert_eq!(log_jac, 0.0); // 5 − 5 + 0
/// let mut x = Vec::new();
/// assert_eq!(ordered::constrain::<f64>(&[], &mut x), 0.0);
/// assert!(x.is_empty());
/// ```
pub fn constrain<R: Real>(u: &[R], out: &mut impl ValueSink<R>) -> R {
    let mut log_jac = R::constant(0.0);
    let Some((&first, rest)) = u.split_first() else {
        return log_jac;
    };
    out.reserve(u.len());
    let mut prev = first;
    out.push(prev);
    for &ui in rest {
        prev += ui.exp();
        out.push(prev);
        log_jac += ui;
    }
    log_jac
}

/// Inverse of [`constrain`]: `u₀ = x₀`, `uᵢ = ln(xᵢ − xᵢ₋₁)`. Vectors that are not
/// strictly increasing give non-finite values.
///
/// ```
/// use ppl_core::transform::ordered;
/// assert_eq!(ordered::unconstrain(&[-1.0, 0.0, 2.0]), vec![-1.0, 0.0, 2f64.ln()]);
/// assert_eq!(ordered::unconstrain(&[1.0, 1.0])[1], f64::NEG_INFINITY); // a tie
/// assert!(ordered::unconstrain(&[1.0, 0.0])[1].is_nan()); // decreasing
/// ```
pub fn unconstrain(x: &[f64]) -> Vec<f64> {
    let mut u = Vec::with_capacity(x.len());
    if let Some(&first) = x.first() {
        u.push(first);
        u.extend(x.windows(2).map(|w| (w[1] - w[0]).ln()));
    }
    u
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
    fn edge_cases() {
        assert_eq!(constrain_f64(&[]), (vec![], 0.0));
        assert_eq!(constrain_f64(&[-3.0]), (vec![-3.0], 0.0));
        assert!(unconstrain(&[]).is_empty());
        assert!(!unconstrain(&[1.0, 1.0])[1].is_finite());
        assert!(!unconstrain(&[1.0, 0.5])[1].is_finite());
        let t = Transform::<f64>::Ordered;
        assert_eq!(t.unconstrained_len(3), Some(3));
        let mut x = Vec::new();
        assert_eq!(t.constrain(&[0.0, 1.0], &mut x), 1.0);
        assert_eq!(t.unconstrain(&x), vec![0.0, 1.0]);
    }

    proptest! {
        #[test]
        fn round_trip_and_support(u in proptest::collection::vec(-10.0..10.0f64, 0..10)) {
            let (x, lj) = constrain_f64(&u);
            prop_assert_eq!(x.len(), u.len());
            prop_assert!(x.windows(2).all(|w| w[1] > w[0]));
            prop_assert!((lj - u.iter().skip(1).sum::<f64>()).abs() < 1e-12);
            let back = unconstrain(&x);
            for (a, b) in u.iter().zip(&back) {
                prop_assert!((a - b).abs() < 1e-6 * a.abs().max(1.0), "{} vs {}", a, b);
            }
        }

        #[test]
        fn inverse_round_trip(start in -5.0..5.0f64,
                              gaps in proptest::collection::vec(0.01..3.0f64, 0..8)) {
            let mut x = vec![start];
            for g in gaps {
                let last = *x.last().unwrap();
                x.push(last + g);
            }
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
            let fd = fd_log_abs_det(|v| constrain_f64(v).0, &u);
            prop_assert!((lj - fd).abs() < 1e-6 * lj.abs().max(1.0), "{} vs {}", lj, fd);
        }
    }

    #[test]
    fn log_jacobian_gradients() {
        check_log_jacobian_gradients(TransformKind::Ordered, &[0.3, -1.2, 2.0, 0.0], 1e-6);
    }
}
