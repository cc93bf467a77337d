// A `#[real_fn]` helper is callable from a model body (with `Real`) and with plain f64.
use ppl::prelude::*;

#[real_fn]
fn inv_logit(v: Real) -> Real {
    1.0 / (1.0 + (-v).exp())
}

#[real_fn]
fn weighted<'a>(weights: &'a [f64], v: Real) -> Real {
    weights.iter().map(|w| v * *w).sum::<Real>()
}

#[model]
fn logistic(y: &[f64]) {
    let a = sample!(Normal::new(0.0, 1.0));
    let p = inv_logit(a);
    let w = weighted(&[0.5, 0.5], p);
    observe!(Normal::new(w, 1.0), y);
}

fn main() {
    assert!((inv_logit(0.0_f64) - 0.5).abs() < 1e-12);
    assert!((weighted(&[1.0, 2.0], 2.0_f64) - 6.0).abs() < 1e-12);
    let model = logistic::model(&[0.3]).unwrap();
    assert!(model.logp(&[0.0]).unwrap().is_finite());
}
