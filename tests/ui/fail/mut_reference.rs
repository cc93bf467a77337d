use ppl::prelude::*;

#[model]
fn scratch(y: &mut [f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    observe!(Normal::new(mu, 1.0), y);
}

fn main() {
    let mut y = [1.0, 2.0];
    let _ = scratch::model(&mut y);
}
