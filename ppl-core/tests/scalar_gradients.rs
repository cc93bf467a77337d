//! Every scalar operation's derivative: tape vs forward-mode duals vs finite differences,
//! and second derivatives of the special functions: hyper-duals vs finite differences of
//! the first derivative.

use num_dual::{Dual64, HyperDual64};
use ppl_core::scalar::dual::Fwd;
use ppl_core::tape::{self, Var};
use ppl_core::Real;
use proptest::prelude::*;

fn apply<R: Real>(op: usize, a: R, b: R) -> R
where
    f64: std::ops::Add<R, Output = R>
        + std::ops::Sub<R, Output = R>
        + std::ops::Mul<R, Output = R>
        + std::ops::Div<R, Output = R>,
{
    match op {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        3 => a / b,
        4 => -a * 2.5 + b * 0.5 - 1.5,
        5 => 2.0 * a + 3.0 / b - (1.0 - a),
        6 => a.exp() * b,
        7 => a.abs().ln() + b,
        8 => (a * a).ln_1p(),
        9 => (a * 0.1).exp_m1(),
        10 => (a * a + 0.1).sqrt(),
        11 => a.powi(3) + b.powi(-2),
        12 => (a.abs() + 0.1).powf(1.7),
        13 => (a.abs() + 0.1).pow(b * 0.3),
        14 => a.sin() + b.cos(),
        15 => a.tanh() * b.atan(),
        16 => (a.abs() + 0.2).ln_gamma(),
        17 => (a.abs() + 0.2).digamma(),
        18 => a.erf() + b.erfc(),
        19 => a.std_normal_cdf(),
        20 => (a * 3.0).std_normal_log_cdf(),
        21 => a.sigmoid() + b.log1p_exp(),
        22 => (a * 4.0).log_sigmoid(),
        23 => a.log_sum_exp(b),
        24 => (a.abs() + 0.3).ln_beta(b.abs() + 0.4),
        25 => a.max(b) + a.min(b * 2.0),
        26 => a.square() * b,
        27 => [a, b, a * b].iter().copied().sum::<R>(),
        28 => ppl_core::scalar::log_sum_exp(&[a, b, a - b]),
        29 => ppl_core::glm::dot(&[a, b][..], &[1.5, -0.5][..]),
        _ => unreachable!(),
    }
}

const OPS: usize = 30;
const NAMES: [&str; OPS] = [
    "add",
    "sub",
    "mul",
    "div",
    "affine",
    "mixed_f64",
    "exp",
    "ln",
    "ln_1p",
    "exp_m1",
    "sqrt",
    "powi",
    "powf",
    "pow",
    "sin_cos",
    "tanh_atan",
    "ln_gamma",
    "digamma",
    "erf_erfc",
    "std_normal_cdf",
    "std_normal_log_cdf",
    "sigmoid_log1p_exp",
    "log_sigmoid",
    "log_sum_exp",
    "ln_beta",
    "max_min",
    "square",
    "sum",
    "log_sum_exp_slice",
    "dot",
];

fn check(op: usize, a: f64, b: f64) {
    // Values.
    let v = apply::<f64>(op, a, b);
    assert!(v.is_finite(), "{} is not finite at ({a}, {b})", NAMES[op]);
    // Tape.
    tape::reset();
    let (va, vb) = (Var::leaf(a), Var::leaf(b));
    let out = apply(op, va, vb);
    let mut g = [0.0; 2];
    tape::gradient(out, &[va, vb], &mut g);
    assert!(
        (out.value() - v).abs() <= 1e-12 * v.abs().max(1.0),
        "{}: tape value",
        NAMES[op]
    );
    for i in 0..2 {
        let (da, db) = if i == 0 { (1.0, 0.0) } else { (0.0, 1.0) };
        let fa = Fwd(Dual64::new(a, da));
        let fb = Fwd(Dual64::new(b, db));
        let fwd = apply(op, fa, fb).0.eps;
        let h = 1e-6 * [a, b][i].abs().max(1.0);
        let (ap, bp) = if i == 0 { (a + h, b) } else { (a, b + h) };
        let (am, bm) = if i == 0 { (a - h, b) } else { (a, b - h) };
        let fd = (apply::<f64>(op, ap, bp) - apply::<f64>(op, am, bm)) / (2.0 * h);
        let scale = fwd.abs().max(1.0);
        assert!(
            (g[i] - fwd).abs() <= 1e-9 * scale,
            "{} d/d{}: tape {} vs dual {fwd} at ({a}, {b})",
            NAMES[op],
            i,
            g[i]
        );
        assert!(
            (fwd - fd).abs() <= 1e-5 * scale,
            "{} d/d{}: dual {fwd} vs finite differences {fd} at ({a}, {b})",
            NAMES[op],
            i
        );
        // Second derivative (diagonal) by hyper-duals vs finite differences of the dual.
        let ha = Fwd(HyperDual64::new(a, da, da, 0.0));
        let hb = Fwd(HyperDual64::new(b, db, db, 0.0));
        let second = apply(op, ha, hb).0.eps1eps2;
        let d_plus = apply(op, Fwd(Dual64::new(ap, da)), Fwd(Dual64::new(bp, db)))
            .0
            .eps;
        let d_minus = apply(op, Fwd(Dual64::new(am, da)), Fwd(Dual64::new(bm, db)))
            .0
            .eps;
        let fd2 = (d_plus - d_minus) / (2.0 * h);
        if op != 25 {
            assert!(
                (second - fd2).abs() <= 1e-4 * second.abs().max(1.0),
                "{} d²/d{}²: hyper-dual {second} vs fd {fd2} at ({a}, {b})",
                NAMES[op],
                i
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_operation_differentiates_consistently(a in -3.0..3.0f64, b in 0.3..3.0f64) {
        // Keep away from kinks of |x|, max/min.
        prop_assume!(a.abs() > 1e-2 && (a - b).abs() > 1e-2 && (a - 2.0 * b).abs() > 1e-2);
        for op in 0..OPS {
            check(op, a, b);
        }
    }
}
