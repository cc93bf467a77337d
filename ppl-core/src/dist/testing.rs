//! Test support for distributions: gradient agreement, moments and KS tests.

#![cfg(test)]

use crate::param::Param;
use crate::scalar::dual::Fwd;
use crate::scalar::Real;
use crate::tape::{self, Var};
use num_dual::Dual64;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A log-density as a function of K scalars (value and parameters), for gradient checks.
pub trait ScalarFamily {
    /// Evaluates the summed log-density at `args` (all may be variables).
    fn log_density<R: Real>(&self, args: &[R]) -> R;
}

/// Checks that the tape gradient, the forward-mode gradient and central finite
/// differences agree at `args` (relative tolerance `tol`).
pub fn check_gradients<F: ScalarFamily>(f: &F, args: &[f64], tol: f64) {
    let k = args.len();
    // Tape.
    tape::reset();
    let leaves: Vec<Var> = args.iter().map(|a| Var::leaf(*a)).collect();
    let out = f.log_density(&leaves);
    let mut g_tape = vec![0.0; k];
    tape::gradient(out, &leaves, &mut g_tape);
    let value = f.log_density::<f64>(args);
    assert!(
        (out.value() - value).abs() <= 1e-10 * value.abs().max(1.0),
        "tape value {} vs f64 value {value}",
        out.value()
    );
    for i in 0..k {
        // Forward mode.
        let duals: Vec<Fwd<Dual64>> = args
            .iter()
            .enumerate()
            .map(|(j, a)| {
                if i == j {
                    Fwd(Dual64::from(*a).derivative())
                } else {
                    Fwd(Dual64::from(*a))
                }
            })
            .collect();
        let g_fwd = f.log_density(&duals).0.eps;
        // Central finite differences.
        let h = 1e-6 * args[i].abs().max(1.0);
        let mut plus = args.to_vec();
        let mut minus = args.to_vec();
        plus[i] += h;
        minus[i] -= h;
        let g_fd = (f.log_density::<f64>(&plus) - f.log_density::<f64>(&minus)) / (2.0 * h);
        let scale = g_fwd.abs().max(1.0);
        assert!(
            (g_tape[i] - g_fwd).abs() <= 1e-8 * scale,
            "argument {i} at {args:?}: tape {} vs forward {g_fwd}",
            g_tape[i]
        );
        assert!(
            (g_fwd - g_fd).abs() <= tol * scale,
            "argument {i} at {args:?}: forward {g_fwd} vs finite differences {g_fd}"
        );
    }
}

/// A deterministic RNG for tests.
pub fn test_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Asserts that the sample mean is within 5 standard errors of `mean` and the sample
/// variance within 5 of its standard errors (estimated from the fourth central moment).
pub fn check_moments(xs: &[f64], mean: f64, var: f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    let se_mean = (var / n).sqrt();
    let se_var = ((m4 - v * v) / n).sqrt();
    assert!(
        (m - mean).abs() < 5.0 * se_mean,
        "mean {m} vs {mean} (se {se_mean})"
    );
    assert!(
        (v - var).abs() < 5.0 * se_var,
        "variance {v} vs {var} (se {se_var})"
    );
}

/// Kolmogorov–Smirnov statistic of `xs` against a CDF; asserts it is below the 0.1 %
/// critical value `1.95/√n`.
pub fn check_ks(xs: &mut [f64], cdf: impl Fn(f64) -> f64) {
    xs.sort_by(|a, b| a.partial_cmp(b).expect("samples are not NaN"));
    let n = xs.len() as f64;
    let mut d: f64 = 0.0;
    for (i, x) in xs.iter().enumerate() {
        let f = cdf(*x);
        d = d
            .max((f - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - f).abs());
    }
    let critical = 1.95 / n.sqrt();
    assert!(
        d < critical,
        "KS statistic {d} above critical value {critical}"
    );
}

/// Log-density of a distribution at a scalar `x`, in plain `f64`.
pub fn lpdf<D: crate::dist::Distribution<f64>>(d: &D, x: f64) -> f64 {
    d.log_density(Param::<f64>::operand(&x))
        .expect("scalar arguments always broadcast")
}

/// A density over many elements (the driver's column path, [`Kernel::eval_columns`]
/// where a kernel has one) against the same density one element at a time (the
/// element path): values and gradients with respect to the parameters and the values
/// agree. `make` builds the distribution from the parameters; `x` holds more elements
/// than the driver's short-operand limit.
///
/// [`Kernel::eval_columns`]: crate::vectorized::Kernel::eval_columns
pub fn check_columns_path<D: crate::dist::Distribution<Var>>(
    make: impl Fn(&[Var]) -> D,
    params: &[f64],
    x: &[f64],
) {
    use crate::param::Operand;
    // The values are differentiated too: they follow the parameters as leaves.
    let np = params.len();
    let leaves: Vec<f64> = params.iter().chain(x).copied().collect();
    check_columns_path_by_element(
        |p| {
            make(&p[..np])
                .log_density(Operand::Slice(&p[np..]))
                .expect("lengths agree")
        },
        |p, i| {
            make(&p[..np])
                .log_density(Operand::Scalar(p[np + i]))
                .expect("one element")
        },
        &leaves,
        x.len(),
    );
}

/// A density over many elements with the whole-operand call (the driver's column path)
/// against the sum of one-element calls (the element path): `whole(p)` is the
/// log-density of all `n` elements given the leaves `p`, `element(p, i)` that of element
/// `i` alone; values and gradients with respect to every leaf agree.
pub fn check_columns_path_by_element(
    whole: impl Fn(&[Var]) -> Var,
    element: impl Fn(&[Var], usize) -> Var,
    params: &[f64],
    n: usize,
) {
    assert!(n > 16, "long enough for the column path");
    let run = |by_element: bool| {
        tape::reset();
        let p: Vec<Var> = params.iter().map(|v| Var::leaf(*v)).collect();
        let lp = if by_element {
            (0..n)
                .map(|i| element(&p, i))
                .fold(Var::constant(0.0), |a, b| a + b)
        } else {
            whole(&p)
        };
        let mut grad = vec![0.0; p.len()];
        tape::gradient(lp, &p, &mut grad);
        (lp.value(), grad)
    };
    let ((v_all, g_all), (v_one, g_one)) = (run(false), run(true));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-11 * (1.0 + b.abs());
    assert!(close(v_all, v_one), "value: {v_all} vs {v_one}");
    for (i, (a, b)) in g_all.iter().zip(&g_one).enumerate() {
        assert!(close(*a, *b), "gradient {i}: {a} vs {b}");
    }
}
