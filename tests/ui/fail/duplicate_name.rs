use ppl::prelude::*;

#[model]
fn two_mus(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    let shift = sample!(Normal::new(0.0, 1.0), name = "mu");
    observe!(Normal::new(mu + shift, 1.0), y);
}

fn main() {}
