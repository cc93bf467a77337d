//! Linear regression with NUTS on simulated data: the posterior recovers the truth.
//!
//! Run with `cargo run --release --example linear_regression`.

use ppl::prelude::*;
use rand::{Rng, SeedableRng};

#[model]
fn linear_regression(x: &[f64], y: &[f64]) {
    let alpha = sample!(Normal::new(0.0, 10.0));
    let beta = sample!(Normal::new(0.0, 10.0));
    let sigma = sample!(HalfNormal::new(5.0));
    let mu: Vec<Real> = x.iter().map(|xi| alpha + beta * *xi).collect();
    observe!(Normal::new(&mu, sigma), y);
}

fn main() -> Result<(), ppl::Error> {
    // y = 1.5 + 0.8 x + noise(sd 0.5)
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let x: Vec<f64> = (0..200).map(|i| i as f64 / 20.0 - 5.0).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|xi| {
            let noise: f64 = rng.sample(rand_distr::StandardNormal);
            1.5 + 0.8 * xi + 0.5 * noise
        })
        .collect();
    let model = linear_regression::model(&x, &y)?;
    let trace = model.sample(Nuts::default().seed(7))?;
    println!("{}", trace.summary());
    println!("truth: alpha = 1.5, beta = 0.8, sigma = 0.5");
    Ok(())
}
