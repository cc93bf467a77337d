//! The vectorised-density driver: one tape node per density over slices.
//!
//! A distribution describes its log-density for one element as a [`Kernel`]: a formula
//! generic over [`Real`], plus (optionally) a hand-written value-and-partials version.
//! [`sum`] evaluates the kernel over broadcast operands: with `f64` it adds values, with
//! forward-mode duals it evaluates the generic formula, and with the tape it computes
//! values and partials in plain `f64` and records **one** wide node whose parents are the
//! variable operands (Stan's operands-and-partials).

use crate::param::Operand;
use crate::scalar::{dual::Fwd, EvalMode, Real};
use crate::tape::EdgeWriter;
use nalgebra::{Const, U1};
use num_dual::DualSVec64;

/// One element's log-density as a function of `K` scalars (the value first).
pub trait Kernel<const K: usize> {
    /// The formula, generic over the scalar type.
    fn eval<R: Real>(&self, args: [R; K]) -> R;

    /// Value and partial derivatives at plain values. The default differentiates
    /// [`Kernel::eval`] with a K-dimensional dual number; hot kernels override it.
    #[inline]
    fn eval_partials(&self, args: [f64; K]) -> (f64, [f64; K]) {
        let duals: [Fwd<DualSVec64<K>>; K] =
            std::array::from_fn(|i| Fwd(DualSVec64::<K>::from_re(args[i]).derivative(i)));
        let out = self.eval(duals).0;
        let mut partials = [0.0; K];
        if let Some(eps) = out.eps.0 {
            let _ = (Const::<K>, U1);
            partials.copy_from_slice(eps.as_slice());
        }
        (out.re, partials)
    }
}

/// Names and operands of a density's arguments, for broadcasting checks.
pub struct Args<'a, R, const K: usize> {
    /// The argument names, value first (e.g. `["x", "mu", "sigma"]`).
    pub names: [&'static str; K],
    /// The operands.
    pub ops: [Operand<'a, R>; K],
}

/// A length disagreement between broadcast arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthMismatch {
    /// The argument whose length differs.
    pub argument: &'static str,
    /// Its length.
    pub found: usize,
    /// The length of the earlier arguments.
    pub expected: usize,
}

/// The common length of the slice operands (1 if all are scalars).
pub fn broadcast_len<R: Real, const K: usize>(
    names: &[&'static str; K],
    ops: &[Operand<'_, R>; K],
) -> Result<usize, LengthMismatch> {
    let mut n: Option<usize> = None;
    for (name, op) in names.iter().zip(ops) {
        if let Some(len) = op.len() {
            match n {
                None => n = Some(len),
                Some(m) if m != len => {
                    return Err(LengthMismatch {
                        argument: name,
                        found: len,
                        expected: m,
                    })
                }
                _ => {}
            }
        }
    }
    Ok(n.unwrap_or(1))
}

/// Sum of the kernel over `n` broadcast elements, as one tape node when taped.
pub fn sum<R: Real, F: Kernel<K>, const K: usize>(
    kernel: &F,
    ops: &[Operand<'_, R>; K],
    n: usize,
) -> R {
    match R::MODE {
        EvalMode::Value => {
            let mut total = 0.0;
            for i in 0..n {
                let a: [f64; K] = std::array::from_fn(|k| ops[k].value(i));
                total += kernel.eval::<f64>(a);
            }
            R::constant(total)
        }
        EvalMode::Dual => {
            let mut total = R::constant(0.0);
            for i in 0..n {
                let a: [R; K] = std::array::from_fn(|k| ops[k].lift(i));
                total += kernel.eval(a);
            }
            total
        }
        EvalMode::Tape => R::record_wide(|w| {
            let mut total = 0.0;
            let mut scalar_partials = [0.0; K];
            let variable: [bool; K] = std::array::from_fn(|k| !ops[k].is_constant());
            w.reserve(n * variable.iter().filter(|v| **v).count());
            for i in 0..n {
                let a: [f64; K] = std::array::from_fn(|k| ops[k].value(i));
                let (v, d) = kernel.eval_partials(a);
                total += v;
                for k in 0..K {
                    if !variable[k] {
                        continue;
                    }
                    match ops[k] {
                        Operand::Scalar(_) => scalar_partials[k] += d[k],
                        Operand::Slice(s) => w.push(s[i].tape_index(), d[k]),
                        _ => {}
                    }
                }
            }
            for k in 0..K {
                if let Operand::Scalar(r) = ops[k] {
                    w.push(r.tape_index(), scalar_partials[k]);
                }
            }
            total
        }),
    }
}

/// Log-density of each of the `n` elements, as plain values (for pointwise likelihoods).
pub fn pointwise<R: Real, F: Kernel<K>, const K: usize>(
    kernel: &F,
    ops: &[Operand<'_, R>; K],
    n: usize,
    out: &mut Vec<f64>,
) {
    for i in 0..n {
        let a: [f64; K] = std::array::from_fn(|k| ops[k].value(i));
        out.push(kernel.eval::<f64>(a));
    }
}

/// Records a wide node for the tape, or returns the plain value for other types.
pub fn record_wide<R: Real>(fill: impl FnOnce(&mut EdgeWriter<'_>) -> f64) -> R {
    R::record_wide(fill)
}
