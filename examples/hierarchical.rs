//! A hierarchical (random-intercept) model with groups, using `gather` so each
//! observation reads its group's intercept without copying. With 50 observations per
//! group the data identify each intercept well, so the centred parameterisation mixes
//! best (the non-centred one gives R-hat warnings here; eight schools is the opposite case).
//!
//! Run with `cargo run --release --example hierarchical`.

use ppl::prelude::*;
use rand::{Rng, SeedableRng};

#[model]
fn random_intercepts(group: &[usize], y: &[f64], n_groups: usize) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfNormal::new(2.0));
    let sigma = sample!(HalfNormal::new(2.0));
    let theta = sample!(Normal::new(mu, tau), shape = n_groups);
    observe!(Normal::new(gather(&theta, group), sigma), y);
}

fn main() -> Result<(), ppl::Error> {
    let n_groups = 12;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let intercepts: Vec<f64> = (0..n_groups)
        .map(|_| 2.0 + 1.0 * rng.sample::<f64, _>(rand_distr::StandardNormal))
        .collect();
    let group: Vec<usize> = (0..600).map(|i| i % n_groups).collect();
    let y: Vec<f64> = group
        .iter()
        .map(|g| intercepts[*g] + 0.7 * rng.sample::<f64, _>(rand_distr::StandardNormal))
        .collect();
    let model = random_intercepts::model(&group, &y, n_groups)?;
    let trace = model.sample(Nuts::default().seed(9))?;
    println!("{}", trace.summary());
    println!("truth: mu = 2, tau = 1, sigma = 0.7; group intercepts {intercepts:.2?}");
    Ok(())
}
