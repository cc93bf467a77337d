//! Correlated observations: `y ~ MvNormal(mu, diag(sigma) L)` with an LKJ prior on the
//! correlation factor `L` (Stan's `multi_normal_cholesky(mu, diag_pre_multiply(sigma,
//! L_Omega))` with `L_Omega ~ lkj_corr_cholesky(2)`, PyMC's `LKJCholeskyCov`). The data
//! are simulated from a known covariance; the example samples with NUTS and prints the
//! posterior correlations beside the true ones.
//!
//! `cargo run --release --example lkj_covariance`

use ppl::prelude::*;
use rand::SeedableRng;
use rand_distr::Distribution as _;

#[model]
fn correlated_normal(y: &[f64], d: usize) {
    let l_omega = sample!(LKJCorrCholesky::new(d, 2.0));
    let sigma = sample!(HalfNormal::new(2.0), shape = d);
    let mu = sample!(Normal::new(0.0, 5.0), shape = d);
    // diag(sigma) L: the Cholesky factor of the covariance.
    let l = Matrix::from_fn(d, d, |i, j| sigma[i] * l_omega[i * d + j]);
    // The correlation matrix L Lᵀ, recorded with the draws.
    let omega: Vec<Real> = (0..d * d)
        .map(|e| {
            let (i, j) = (e / d, e % d);
            (0..d)
                .map(|m| l_omega[i * d + m] * l_omega[j * d + m])
                .sum()
        })
        .collect();
    deterministic!(omega);
    // One tape node for all the observations (rows of `y`).
    observe!(MvNormal::from_cholesky(&mu, &l), y);
}

fn main() -> Result<(), ppl::Error> {
    let d = 3;
    let corr = [[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]];
    let sd = [1.0, 2.0, 0.5];
    let cov: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| corr[i][j] * sd[i] * sd[j]).collect())
        .collect();
    let chol = cholesky(&Matrix::from_rows(&cov)).expect("a valid covariance");
    // 300 rows of data, row-major.
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut y = Vec::new();
    for _ in 0..300 {
        let z: Vec<f64> = (0..d)
            .map(|_| rand_distr::StandardNormal.sample(&mut rng))
            .collect();
        y.extend((0..d).map(|i| 1.0 + (0..=i).map(|j| chol[(i, j)] * z[j]).sum::<f64>()));
    }

    let model = correlated_normal::model(&y, d)?;
    let trace = model.sample(Nuts::default().seed(1))?;
    println!("{}", trace.summary());
    let omega = trace.mean("omega").expect("omega is recorded");
    println!("correlation  posterior mean  true");
    for (i, j) in [(1, 0), (2, 0), (2, 1)] {
        println!(
            "  omega[{i},{j}]  {:>14.3}  {:>4.1}",
            omega[i * d + j],
            corr[i][j]
        );
    }
    Ok(())
}
