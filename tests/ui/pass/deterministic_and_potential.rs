// Both forms of deterministic! and potential!.
use ppl::prelude::*;

#[model]
fn recorded(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    let shifted: Vec<Real> = y.iter().map(|yi| mu + *yi).collect();
    deterministic!(shifted);
    deterministic!("mu_squared", mu * mu);
    potential!(-(mu * mu) * 0.5);
    potential!("soft_bound", -(mu * mu) * 0.01);
    observe!(Normal::new(mu, 1.0), y);
}

fn main() {
    let model = recorded::model(&[0.5, 1.5]).unwrap();
    assert!(model.logp(&[0.2]).unwrap().is_finite());
}
