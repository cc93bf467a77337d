use ppl::prelude::*;

#[model]
fn forgot_data(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    observe!(Normal::new(mu, 1.0));
}

fn main() {}
