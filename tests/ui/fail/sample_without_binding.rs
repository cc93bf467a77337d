use ppl::prelude::*;

#[model]
fn shifted(y: &[f64]) {
    let mu = 1.0 + sample!(Normal::new(0.0, 1.0));
    observe!(Normal::new(mu, 1.0), y);
}

fn main() {}
