use ppl::prelude::*;

fn main() {
    let y = [1.0, 2.0];
    observe!(Normal::new(0.0, 1.0), y);
}
