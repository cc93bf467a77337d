use ppl::prelude::*;

#[model]
fn per_group(y: &[f64]) {
    for _ in 0..y.len() {
        let z = sample!(Normal::new(0.0, 1.0));
        observe!(Normal::new(z, 1.0), y);
    }
}

fn main() {}
