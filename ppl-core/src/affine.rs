//! `loc + scale · z` over a vector, recorded as one tape operation.
//!
//! The non-centred parameterisation of a hierarchical model draws standard-normal
//! variables and shifts and scales them: `theta = mu + tau * theta_raw` (PyMC writes it
//! as one tensor expression, Stan as a vectorised statement). Written element by element
//! in Rust (`theta_raw.iter().map(|t| mu + tau * *t).collect()`) every element records
//! two scalar nodes; [`affine`] records one multi-output node for the whole vector, whose
//! reverse step is `∂loc = Σ ḡᵢ`, `∂scale = Σ ḡᵢ zᵢ`, `∂zᵢ = scale · ḡᵢ`.
//!
//! ```
//! use ppl_core::affine::affine;
//! let theta: Vec<f64> = affine(1.0, 2.0, &[0.5, -1.0, 0.0]);
//! assert_eq!(theta, vec![2.0, -1.0, 1.0]);
//! ```

use crate::scalar::{EvalMode, Real};
use crate::tape::{MultiOutput, Var};

/// `loc + scale · zᵢ` for every element of `z`: the same values as the element-wise
/// expression, with one tape operation instead of two nodes per element.
pub fn affine<R: Real>(loc: impl Into<R>, scale: impl Into<R>, z: &[R]) -> Vec<R> {
    let (loc, scale): (R, R) = (loc.into(), scale.into());
    if R::MODE != EvalMode::Tape {
        // Plain values and forward mode: the formula on the scalars.
        return z.iter().map(|zi| loc + scale * *zi).collect();
    }
    let (l, s) = (loc.value(), scale.value());
    let inputs = [loc.tape_index(), scale.tape_index()]
        .into_iter()
        .chain(z.iter().map(|zi| zi.tape_index()));
    // The reverse step's data: [scale, z…].
    let data = |d: &mut Vec<f64>| {
        d.push(s);
        d.extend(z.iter().map(|zi| zi.value()));
    };
    let first = Var::multi_output_with(inputs, z.len(), data, 0, affine_backward);
    z.iter()
        .enumerate()
        .map(|(i, zi)| {
            let slot = if first == 0 { 0 } else { first + i as u32 };
            R::from_tape(l + s * zi.value(), slot)
        })
        .collect()
}

/// Reverse step of [`affine`]: inputs are `[loc, scale, z…]`, `data` is `[scale, z…]`.
fn affine_backward(m: &MultiOutput<'_>, input_adjoints: &mut [f64], _scratch: &mut Vec<f64>) {
    let (s, z) = (m.data[0], &m.data[1..]);
    let g = m.output_adjoints;
    let (mut sum_g, mut sum_gz) = (0.0, 0.0);
    for ((gi, zi), dz) in g.iter().zip(z).zip(&mut input_adjoints[2..]) {
        sum_g += gi;
        sum_gz += gi * zi;
        *dz = s * gi;
    }
    input_adjoints[0] = sum_g;
    input_adjoints[1] = sum_gz;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, ScalarFamily};
    use crate::tape;

    /// A nonlinear function of `affine(args[0], args[1], args[2..])`, so that every
    /// output's adjoint differs.
    struct Shifted;
    impl ScalarFamily for Shifted {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let theta = affine(args[0], args[1], &args[2..]);
            theta
                .iter()
                .enumerate()
                .map(|(i, t)| t.square() * (0.3 + i as f64) - t.exp() * 0.1)
                .sum()
        }
    }

    #[test]
    fn gradients_agree_with_forward_mode_and_differences() {
        check_gradients(&Shifted, &[0.4, 1.7, 0.5, -1.0, 0.3, 2.0], 1e-6);
        check_gradients(&Shifted, &[-2.0, 0.05, 1.5], 1e-6);
    }

    #[test]
    fn values_match_the_elementwise_expression_and_constants_record_nothing() {
        let z = [0.5, -1.25, 3.0, 0.0];
        let want: Vec<f64> = z.iter().map(|v| 0.7 + 1.9 * v).collect();
        assert_eq!(affine(0.7, 1.9, &z), want);
        tape::reset();
        let before = tape::len();
        let zc: Vec<Var> = z.iter().map(|v| Var::constant(*v)).collect();
        let out = affine(0.7, 1.9, &zc);
        assert_eq!(tape::len(), before, "all-constant inputs record nothing");
        for (o, w) in out.iter().zip(&want) {
            assert_eq!((o.value(), o.tape_index()), (*w, 0));
        }
    }

    #[test]
    fn one_operation_replaces_two_nodes_per_element() {
        tape::reset();
        let z: Vec<Var> = (0..50).map(|i| Var::leaf(i as f64 * 0.1)).collect();
        let (mu, tau) = (Var::leaf(0.2), Var::leaf(1.5));
        let start = tape::len();
        let _ = affine(mu, tau, &z);
        // One multi-output node and one slot per output.
        assert_eq!(tape::len() - start, 51);
        // A constant location (plain f64) is accepted and passes nothing on.
        let out = affine(0.0, tau, &z);
        let mut g = vec![0.0; 51];
        let mut leaves = z.clone();
        leaves.push(tau);
        tape::gradient(out[7], &leaves, &mut g);
        assert_eq!(g[7], 1.5);
        assert_eq!(g[50], z[7].value());
        assert!(g
            .iter()
            .enumerate()
            .all(|(i, v)| i == 7 || i == 50 || *v == 0.0));
    }
}
