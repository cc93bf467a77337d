//! Bound transforms: lower (`lo + eᵘ`), upper (`hi − eᵘ`), interval (`lo + (hi−lo)σ(u)`).

use crate::scalar::Real;

/// `x = lo + eᵘ`, `ln |J| = Σ u`.
pub fn lower_constrain<R: Real>(lo: R, u: &[R], out: &mut Vec<R>) -> R {
    let mut log_jac = R::constant(0.0);
    for &ui in u {
        out.push(lo + ui.exp());
        log_jac += ui;
    }
    log_jac
}

/// `x = hi − eᵘ`, `ln |J| = Σ u`.
pub fn upper_constrain<R: Real>(hi: R, u: &[R], out: &mut Vec<R>) -> R {
    let mut log_jac = R::constant(0.0);
    for &ui in u {
        out.push(hi - ui.exp());
        log_jac += ui;
    }
    log_jac
}

/// `x = lo + (hi − lo) σ(u)`, `ln |J| = Σ ln(hi − lo) + ln σ(u) + ln σ(−u)`.
pub fn interval_constrain<R: Real>(lo: R, hi: R, u: &[R], out: &mut Vec<R>) -> R {
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
