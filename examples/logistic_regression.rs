//! Logistic regression with a fused GLM likelihood (one tape node for all rows).
//!
//! Run with `cargo run --release --example logistic_regression`.

use ppl::prelude::*;
use rand::{Rng, SeedableRng};

#[model]
fn logistic_regression(x: &DataMatrix, y: &[i64]) {
    let alpha = sample!(Normal::new(0.0, 2.5));
    let beta = sample!(Normal::new(0.0, 2.5), shape = x.cols());
    observe!(BernoulliLogitGlm::new(x, alpha, &beta), y);
}

fn main() -> Result<(), ppl::Error> {
    let (n, d) = (500, 3);
    let truth = [-0.5, 1.0, -2.0, 0.5]; // alpha, beta[0..3]
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let data: Vec<f64> = (0..n * d)
        .map(|_| rng.sample(rand_distr::StandardNormal))
        .collect();
    let y: Vec<i64> = (0..n)
        .map(|i| {
            let eta = truth[0] + (0..d).map(|j| truth[j + 1] * data[i * d + j]).sum::<f64>();
            i64::from(rng.gen::<f64>() < 1.0 / (1.0 + (-eta).exp()))
        })
        .collect();
    let x = DataMatrix::new(n, d, data).map_err(ppl::ModelError::from)?;
    let model = logistic_regression::model(&x, &y)?;
    let trace = model.sample(Nuts::default().seed(11))?;
    println!("{}", trace.summary());
    println!("truth: alpha = -0.5, beta = [1.0, -2.0, 0.5]");
    Ok(())
}
