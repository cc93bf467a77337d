use ppl::prelude::*;

fn main() {
    let mu = sample!(Normal::new(0.0, 1.0));
}
