use ppl::prelude::*;

#[model(name = "coin")]
fn coin(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    observe!(Normal::new(mu, 1.0), y);
}

fn main() {
    let _ = coin::model(&[1.0]);
}
