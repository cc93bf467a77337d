//! Small models shared by the tests of the approximations (ADVI, Pathfinder).

use ppl::prelude::*;

/// A bivariate normal with standard deviations 1 and 2, correlation 0.8 and mean
/// (0, 1), through a potential on flat priors.
#[model]
pub fn correlated() {
    let a = sample!(Flat::new());
    let b = sample!(Flat::new());
    let (za, zb) = (a, (b - 1.0) / 2.0);
    potential!(-(za * za - 1.6 * za * zb + zb * zb) / (2.0 * (1.0 - 0.64)));
}

/// `mu ~ Normal(0, 1)`, `sigma ~ HalfNormal(1)`, `theta = mu + sigma` recorded.
#[model]
pub fn with_deterministic(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    let sigma = sample!(HalfNormal::new(1.0));
    let theta = mu + sigma;
    deterministic!(theta);
    observe!(Normal::new(mu, sigma), y);
}

/// `k ~ Bernoulli(0.5)`, `x ~ Normal(k, 1)`.
#[model]
pub fn discrete() {
    let k = sample!(Bernoulli::new(0.5));
    let _x = sample!(Normal::new(k as f64, 1.0));
}
