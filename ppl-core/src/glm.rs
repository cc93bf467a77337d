//! Fused primitives: dot products and matrix-vector products as single tape nodes.

use crate::param::{Elem, Operand};
use crate::scalar::{EvalMode, Real};

/// `Σ aᵢ bᵢ` as one tape node (slices must have equal length; the shorter one bounds
/// the sum).
///
/// ```
/// let a = [1.0, 2.0, 3.0];
/// let b = [4.0, 5.0, 6.0];
/// let d: f64 = ppl_core::glm::dot(&a[..], &b[..]);
/// assert_eq!(d, 32.0);
/// ```
pub fn dot<R: Real, A: Elem<R>, B: Elem<R>>(a: &[A], b: &[B]) -> R {
    let n = a.len().min(b.len());
    match R::MODE {
        EvalMode::Dual => {
            let mut acc = R::constant(0.0);
            for i in 0..n {
                acc += a[i].elem_lift() * b[i].elem_lift();
            }
            acc
        }
        _ => {
            let (oa, ob) = (A::slice_operand(a), B::slice_operand(b));
            R::record_wide(|w| {
                let mut acc = 0.0;
                for i in 0..n {
                    acc += a[i].elem_value() * b[i].elem_value();
                }
                if let Operand::Slice(s) = oa {
                    for i in 0..n {
                        w.push(s[i].tape_index(), b[i].elem_value());
                    }
                }
                if let Operand::Slice(s) = ob {
                    for i in 0..n {
                        w.push(s[i].tape_index(), a[i].elem_value());
                    }
                }
                acc
            })
        }
    }
}
