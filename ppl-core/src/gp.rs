//! Gaussian-process covariance functions over one-dimensional inputs.
//!
//! A latent GP in a model is usually written non-centred: build the covariance from the
//! kernel's parameters, factorise it with [`cholesky`](crate::linalg::cholesky) and
//! multiply the factor into standard-normal variables (PyMC's `gp.Latent`, Stan's
//! `gp_exp_quad_cov` + `cholesky_decompose`). On the tape the covariance and the
//! factorisation each record one multi-output node (one slot per distinct entry).
//!
//! ```
//! use ppl_core::gp::exp_quad_cov;
//! use ppl_core::linalg::Matrix;
//! let k: Matrix<f64> = exp_quad_cov(&[0.0, 1.0], 2.0, 0.5);
//! assert_eq!(k[(0, 0)], 4.0);
//! assert!((k[(0, 1)] - 4.0 * (-2.0_f64).exp()).abs() < 1e-15);
//! assert_eq!(k[(0, 1)], k[(1, 0)]);
//! ```

use crate::linalg::Matrix;
use crate::scalar::{EvalMode, Real};
use crate::tape::{MultiOutput, Var};
use crate::vecmath;
use crate::vectorized;

/// The squared-exponential (exponentiated quadratic) covariance of the points `x`:
/// `K_ij = α² exp(−(x_i − x_j)² / (2ρ²))` with marginal standard deviation `alpha` and
/// length scale `rho` (Stan's `gp_exp_quad_cov(x, alpha, rho)`; PyMC's
/// `alpha**2 * gp.cov.ExpQuad(1, ls=rho)`).
///
/// Add a small jitter to the diagonal before factorising when points may coincide.
/// Non-finite or zero `rho` gives NaN entries, which [`cholesky`](crate::linalg::cholesky)
/// rejects (so a model's density is −∞ there rather than wrong).
///
/// ```
/// use ppl_core::gp::exp_quad_cov;
/// use ppl_core::linalg::{cholesky, Matrix};
/// use ppl_core::tape::{self, Var};
/// use ppl_core::Real;
///
/// let x = [-1.0, 0.5, 3.0];
/// let (alpha, rho) = (1.5, 0.8);
/// let k: Matrix<f64> = exp_quad_cov(&x, alpha, rho);
/// for i in 0..3 {
///     for j in 0..3 {
///         let d: f64 = x[i] - x[j];
///         let want = alpha * alpha * (-d * d / (2.0 * rho * rho)).exp();
///         assert!((k[(i, j)] - want).abs() <= 1e-15 * want.max(1.0));
///     }
/// }
/// assert!(cholesky(&k).is_ok());
/// assert!(cholesky(&exp_quad_cov(&x, 1.0, 0.0)).is_err()); // ρ = 0: NaN entries
///
/// // Gradients of K₀₁ = α² e with e = exp(−d²/(2ρ²)): 2αe and α² e d²/ρ³.
/// tape::reset();
/// let (a, r) = (Var::leaf(alpha), Var::leaf(rho));
/// let kv = exp_quad_cov(&x, a, r);
/// let mut grad = [0.0; 2];
/// tape::gradient(kv[(0, 1)], &[a, r], &mut grad);
/// let (d2, e) = (2.25, (-2.25 / (2.0 * rho * rho)).exp());
/// assert!((grad[0] - 2.0 * alpha * e).abs() < 1e-14);
/// assert!((grad[1] - alpha * alpha * e * d2 / (rho * rho * rho)).abs() < 1e-14);
/// ```
pub fn exp_quad_cov<R: Real>(x: &[f64], alpha: R, rho: R) -> Matrix<R> {
    let n = x.len();
    if R::MODE == EvalMode::Dual {
        // Forward mode (any order): the formula on the scalars.
        return Matrix::from_fn(n, n, |i, j| {
            let d = x[i] - x[j];
            alpha.square() * (R::constant(-d * d) / (rho.square() * 2.0)).exp()
        });
    }
    let (a, r) = (alpha.value(), rho.value());
    // The distinct entries, packed lower triangle row by row: first the squared
    // distances, then (in place) the exponentials; the squared distances follow them.
    let m = n * (n + 1) / 2;
    // Work memory from the thread's pool: no allocation for it per evaluation.
    vectorized::with_columns::<1, _>(|[data]| {
        data.resize(2 + 2 * m, 0.0);
        data[0] = a;
        data[1] = r;
        let (ex, d2) = data[2..].split_at_mut(m);
        let mut p = 0;
        for i in 0..n {
            for j in 0..=i {
                d2[p] = (x[i] - x[j]) * (x[i] - x[j]);
                p += 1;
            }
        }
        scaled_exp(d2, -0.5 / (r * r), ex);
        let first = if R::MODE == EvalMode::Tape {
            let inputs = [alpha.tape_index(), rho.tape_index()];
            Var::multi_output(inputs, m, data, n, exp_quad_backward)
        } else {
            0
        };
        let a2 = a * a;
        let ex = &data[2..2 + m];
        let mut k = vec![R::constant(0.0); n * n];
        let mut p = 0;
        for i in 0..n {
            for j in 0..=i {
                let slot = if first == 0 { 0 } else { first + p as u32 };
                let v = R::from_tape(a2 * ex[p], slot);
                k[i * n + j] = v;
                k[j * n + i] = v;
                p += 1;
            }
        }
        Matrix::from_vec(n, n, k)
    })
}

vecmath::simd_fn! {
    /// `out[p] = exp(scale · d2[p])`, vectorised.
    fn scaled_exp(d2: &[f64], scale: f64, out: &mut [f64]) {
        let n = out.len().min(d2.len());
        let (d2, out) = (&d2[..n], &mut out[..n]);
        for p in 0..n {
            out[p] = vecmath::exp_with::<FMA>(scale * d2[p]);
        }
    }
}

/// Reverse step of [`exp_quad_cov`]: with `e = exp(−d²/(2ρ²))` per entry,
/// `∂K/∂α = 2αe` and `∂K/∂ρ = α²e d²/ρ³`. `data` is `[α, ρ, e…, d²…]`.
fn exp_quad_backward(m: &MultiOutput<'_>, input_adjoints: &mut [f64], _scratch: &mut Vec<f64>) {
    let (a, r) = (m.data[0], m.data[1]);
    let k = m.output_adjoints.len();
    let (ex, d2) = (&m.data[2..2 + k], &m.data[2 + k..2 + 2 * k]);
    let (mut s_e, mut s_ed2) = (0.0, 0.0);
    for p in 0..k {
        let g = m.output_adjoints[p] * ex[p];
        s_e += g;
        s_ed2 += g * d2[p];
    }
    input_adjoints[0] = 2.0 * a * s_e;
    input_adjoints[1] = a * a * s_ed2 / (r * r * r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, ScalarFamily};
    use crate::linalg::{cholesky, mat_vec};

    /// A weighted sum of the covariance entries and of a GP draw `L z` (arguments: α, ρ,
    /// z₁..z₄).
    struct LatentGp;
    impl ScalarFamily for LatentGp {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let x = [0.0, 0.4, 1.3, 2.0];
            let mut k = exp_quad_cov(&x, args[0], args[1]);
            let mut total = R::constant(0.0);
            for i in 0..4 {
                for j in 0..4 {
                    total += k[(i, j)] * (0.2 + 0.05 * (i * 4 + j) as f64);
                }
                k[(i, i)] += 1e-6;
            }
            let l = cholesky(&k).expect("positive definite");
            let f: Vec<R> = mat_vec(&l, &args[2..]);
            total + f.iter().map(|v| *v * *v * 0.5 - *v).sum::<R>()
        }
    }

    #[test]
    fn gradients_agree_with_forward_mode_and_differences() {
        check_gradients(&LatentGp, &[1.3, 0.7, 0.5, -1.0, 0.3, 2.0], 1e-6);
        check_gradients(&LatentGp, &[0.4, 2.5, -0.2, 0.1, 1.0, -0.6], 1e-6);
    }

    #[test]
    fn value_is_the_closed_form() {
        let x = [-1.0, 0.5, 3.0];
        let k: Matrix<f64> = exp_quad_cov(&x, 1.5, 0.8);
        for i in 0..3 {
            for j in 0..3 {
                let d: f64 = x[i] - x[j];
                let want = 2.25 * (-d * d / (2.0 * 0.64)).exp();
                assert!((k[(i, j)] - want).abs() < 1e-15 * want.max(1.0));
            }
        }
        // On the tape: one multi-output node and one slot per distinct entry, shared by
        // the two halves; constant parameters record nothing.
        crate::tape::reset();
        let before = crate::tape::len();
        let kv = exp_quad_cov(&x, Var::leaf(1.5), Var::leaf(0.8));
        assert_eq!(crate::tape::len() - before, 2 + 1 + 6);
        assert_eq!(kv[(0, 2)].index(), kv[(2, 0)].index());
        assert!((kv[(0, 2)].value() - k[(0, 2)]).abs() < 1e-15);
        let before = crate::tape::len();
        let kc = exp_quad_cov(&x, Var::constant(1.5), Var::constant(0.8));
        assert_eq!(crate::tape::len(), before);
        assert!(kc.as_slice().iter().all(|v| v.index() == 0));
        let bad: Matrix<f64> = exp_quad_cov(&x, 1.0, 0.0);
        assert!(cholesky(&bad).is_err());
    }
}
