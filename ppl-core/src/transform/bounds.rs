//! Bound transforms: lower (`lo + eᵘ`), upper (`hi − eᵘ`), interval (`lo + (hi−lo)σ(u)`).

use crate::scalar::Real;
use crate::transform::ValueSink;

/// `x = lo + eᵘ`, `ln |J| = Σ u`.
///
/// ```
/// use ppl_core::transform::bounds::lower_constrain;
/// let mut x = Vec::new();
/// let log_jac: f64 = lower_constrain(1.0, &[0.0, 2f64.ln()], &mut x);
/// assert_eq!(x[0], 2.0);
/// assert!((x[1] - 3.0).abs() < 1e-15);
/// assert!((log_jac - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn lower_constrain<R: Real>(lo: R, u: &[R], out: &mut impl ValueSink<R>) -> R {
    let mut log_jac = R::constant(0.0);
    for &ui in u {
        out.push(lo + ui.exp());
        log_jac += ui;
    }
    log_jac
}

/// `x = hi − eᵘ`, `ln |J| = Σ u`.
///
/// ```
/// use ppl_core::transform::bounds::upper_constrain;
/// let mut x = Vec::new();
/// let log_jac: f64 = upper_constrain(0.0, &[0.0, 1.0], &mut x);
/// assert_eq!(x, vec![-1.0, -(1f64.exp())]);
/// assert_eq!(log_jac, 1.0);
/// ```
pub fn upper_constrain<R: Real>(hi: R, u: &[R], out: &mut impl ValueSink<R>) -> R {
    let mut log_jac = R::constant(0.0);
    for &ui in u {
        out.push(hi - ui.exp());
        log_jac += ui;
    }
    log_jac
}

/// `x = lo + (hi − lo) σ(u)`, `ln |J| = Σ ln(hi − lo) + ln σ(u) + ln σ(−u)`.
///
/// ```
/// use ppl_core::transform::bounds::interval_constrain;
/// let mut x = Vec::new();
/// let log_jac: f64 = interval_constrain(-1.0, 3.0, &[0.0], &mut x);
/// assert_eq!(x, vec![1.0]); // the midpoint
/// assert!(log_jac.abs() < 1e-15); // ln 4 + 2 ln ½
/// // Far in the tails ln |J| ≈ ln 4 − |u|, without overflow.
/// let log_jac: f64 = interval_constrain(-1.0, 3.0, &[800.0], &mut x);
/// assert!((log_jac - (4f64.ln() - 800.0)).abs() < 1e-12);
/// ```
pub fn interval_constrain<R: Real>(lo: R, hi: R, u: &[R], out: &mut impl ValueSink<R>) -> R {
    let width = hi - lo;
    let ln_width = width.ln();
    let mut log_jac = R::constant(0.0);
    for &ui in u {
        out.push(lo + width * ui.sigmoid());
        // ln σ(u) + ln σ(−u) = −|u| − 2 ln(1 + e^{−|u|})
        log_jac += ln_width + ui.log_sigmoid() + (-ui).log_sigmoid();
    }
    log_jac
}

#[cfg(test)]
mod tests {
    use crate::transform::tests::{build, check_log_jacobian_gradients, fd_log_abs_det};
    use crate::transform::{Transform, TransformKind};
    use proptest::prelude::*;

    /// Constrains `u` with the transform of `kind` whose bounds are `bounds`.
    fn constrain_f64(kind: TransformKind, u: &[f64], bounds: &[f64]) -> (Vec<f64>, f64) {
        let args: Vec<f64> = u.iter().chain(bounds).copied().collect();
        let (t, u) = build(kind, &args);
        let mut x = Vec::new();
        let lj = t.constrain(u, &mut x);
        (x, lj)
    }

    fn unconstrain_f64(kind: TransformKind, x: &[f64], bounds: &[f64]) -> Vec<f64> {
        let args: Vec<f64> = x.iter().chain(bounds).copied().collect();
        let (t, x) = build(kind, &args);
        t.unconstrain(x)
    }

    /// A kind with bounds `lo < hi` as its trailing arguments.
    fn kind_and_bounds() -> impl Strategy<Value = (TransformKind, Vec<f64>)> {
        (0usize..4, -5.0..5.0f64, 0.1..10.0f64).prop_map(|(k, lo, width)| match k {
            0 => (TransformKind::Identity, vec![]),
            1 => (TransformKind::Lower, vec![lo]),
            2 => (TransformKind::Upper, vec![lo]),
            _ => (TransformKind::Interval, vec![lo, lo + width]),
        })
    }

    fn in_support(kind: TransformKind, x: f64, b: &[f64]) -> bool {
        match kind {
            TransformKind::Lower => x > b[0],
            TransformKind::Upper => x < b[0],
            TransformKind::Interval => x > b[0] && x < b[1],
            _ => x.is_finite(),
        }
    }

    #[test]
    fn known_values() {
        let (x, lj) = constrain_f64(TransformKind::Lower, &[0.0, 1.0], &[2.0]);
        assert_eq!(x, vec![3.0, 2.0 + 1f64.exp()]);
        assert_eq!(lj, 1.0);
        let (x, lj) = constrain_f64(TransformKind::Upper, &[0.0], &[2.0]);
        assert_eq!((x, lj), (vec![1.0], 0.0));
        let (x, lj) = constrain_f64(TransformKind::Interval, &[0.0], &[-1.0, 3.0]);
        assert_eq!(x, vec![1.0]);
        assert!((lj - (4.0f64 * 0.25).ln()).abs() < 1e-15);
        let (x, lj) = constrain_f64(TransformKind::Identity, &[0.5, -2.0], &[]);
        assert_eq!((x, lj), (vec![0.5, -2.0], 0.0));
        // Outside the support: non-finite.
        assert!(!Transform::<f64>::lower(0.0).unconstrain(&[-1.0])[0].is_finite());
        assert!(!Transform::<f64>::upper(0.0).unconstrain(&[1.0])[0].is_finite());
        assert!(!Transform::<f64>::interval(0.0, 1.0).unconstrain(&[1.5])[0].is_finite());
    }

    #[test]
    fn interval_log_jacobian_is_stable_in_the_tails() {
        let (x, lj) = constrain_f64(TransformKind::Interval, &[-800.0, 800.0], &[0.0, 1.0]);
        assert_eq!(x, vec![0.0, 1.0]);
        assert!((lj - -1600.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn round_trip_and_support((kind, b) in kind_and_bounds(),
                                  u in proptest::collection::vec(-6.0..6.0f64, 1..6)) {
            let (x, lj) = constrain_f64(kind, &u, &b);
            prop_assert!(lj.is_finite());
            prop_assert!(x.iter().all(|v| in_support(kind, *v, &b)), "{:?} {:?}", x, b);
            let back = unconstrain_f64(kind, &x, &b);
            for (a, c) in u.iter().zip(&back) {
                prop_assert!((a - c).abs() < 1e-7 * a.abs().max(1.0), "{} vs {}", a, c);
            }
            let fd = fd_log_abs_det(|v| constrain_f64(kind, v, &b).0, &u);
            prop_assert!((lj - fd).abs() < 1e-6 * lj.abs().max(1.0), "{} vs {}", lj, fd);
        }

        #[test]
        fn inverse_round_trip((kind, b) in kind_and_bounds(), p in 0.01..0.99f64) {
            let x = match kind {
                TransformKind::Lower => b[0] + 10.0 * p,
                TransformKind::Upper => b[0] - 10.0 * p,
                TransformKind::Interval => b[0] + (b[1] - b[0]) * p,
                _ => 20.0 * p - 10.0,
            };
            let u = unconstrain_f64(kind, &[x], &b);
            let (back, _) = constrain_f64(kind, &u, &b);
            prop_assert!((back[0] - x).abs() < 1e-10 * x.abs().max(1.0));
        }
    }

    #[test]
    fn log_jacobian_gradients() {
        // Trailing arguments are the bounds, so their derivatives are checked too.
        check_log_jacobian_gradients(TransformKind::Identity, &[0.3, -1.2], 1e-6);
        check_log_jacobian_gradients(TransformKind::Lower, &[0.3, -1.2, 0.5], 1e-6);
        check_log_jacobian_gradients(TransformKind::Upper, &[0.3, -1.2, 0.5], 1e-6);
        check_log_jacobian_gradients(TransformKind::Interval, &[0.3, -1.2, 4.0, -0.5, 2.0], 1e-6);
    }
}
