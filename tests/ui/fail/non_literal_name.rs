use ppl::prelude::*;

const NAME: &str = "mu";

#[model]
fn named(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0), name = NAME);
    observe!(Normal::new(mu, 1.0), y);
}

fn main() {}
