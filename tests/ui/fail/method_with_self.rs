use ppl::prelude::*;

pub struct Regression {
    pub prior_scale: f64,
}

impl Regression {
    #[model]
    pub fn fit(&self, y: &[f64]) {
        let mu = sample!(Normal::new(0.0, self.prior_scale));
        observe!(Normal::new(mu, 1.0), y);
    }
}

fn main() {}
