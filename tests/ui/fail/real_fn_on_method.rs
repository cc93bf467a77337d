use ppl::prelude::*;

pub struct Link;

impl Link {
    #[real_fn]
    pub fn apply(&self, v: Real) -> Real {
        v
    }
}

fn main() {}
