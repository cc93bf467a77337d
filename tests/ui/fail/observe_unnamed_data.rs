use ppl::prelude::*;

#[model]
fn first_only(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    observe!(Normal::new(mu, 1.0), y[0]);
}

fn main() {}
