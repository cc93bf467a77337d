//! Cholesky factors of correlation matrices (placeholder until implemented).

use crate::scalar::Real;

/// Unconstrained length for an n×n factor given n² constrained values.
pub fn unconstrained_len(constrained_len: usize) -> Option<usize> {
    let n = (constrained_len as f64).sqrt().round() as usize;
    (n * n == constrained_len).then(|| n * (n.saturating_sub(1)) / 2)
}

/// Maps unconstrained values to a row-major n×n lower-triangular factor; returns ln |J|.
pub fn constrain<R: Real>(u: &[R], out: &mut Vec<R>) -> R {
    out.extend_from_slice(u);
    R::constant(f64::NAN)
}

/// Inverse of [`constrain`].
pub fn unconstrain(x: &[f64]) -> Vec<f64> {
    vec![f64::NAN; x.len()]
}
