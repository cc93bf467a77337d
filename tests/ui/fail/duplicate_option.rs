use ppl::prelude::*;

#[model]
fn groups(y: &[f64]) {
    let theta = sample!(Normal::new(0.0, 1.0), shape = y.len(), shape = 3);
    observe!(Normal::new(&theta, 1.0), y);
}

fn main() {}
