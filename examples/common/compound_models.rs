//! Models shared by the compound-sampling examples and `tests/compound.rs` (included
//! with `#[path]`): the coal-mining change point with its exact switchpoint posterior,
//! the two-component mixture with and without assignments, and a correlated Gaussian.

#![allow(dead_code)]

use ppl::linalg::Matrix;
use ppl::prelude::*;
use rand::{Rng, SeedableRng};

/// UK coal-mining disasters per year, 1851–1961 (Jarrett 1979;
/// `reference/data/coal_mining.json`).
pub const COUNTS: [i64; 111] = [
    4, 5, 4, 0, 1, 4, 3, 4, 0, 6, 3, 3, 4, 0, 2, 6, 3, 3, 5, 4, 5, 3, 1, 4, 4, 1, 5, 5, 3, 4, 2, 5,
    2, 2, 3, 4, 2, 1, 3, 2, 2, 1, 1, 1, 1, 3, 0, 0, 1, 0, 1, 1, 0, 0, 3, 1, 0, 3, 2, 2, 0, 1, 1, 1,
    0, 1, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 1, 0, 2, 3, 3, 1, 1, 2, 1, 1, 1, 1, 2, 4, 2, 0, 0, 1, 4,
    0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1,
];

/// The first year of [`COUNTS`].
pub const FIRST_YEAR: i64 = 1851;

/// PyMC's change-point model: the switchpoint year is uniform over the years, both rates
/// Exponential(1); the early rate applies up to and including the switchpoint year.
#[model]
pub fn coal_mining(counts: &[i64], first_year: i64) {
    let last_year = first_year + counts.len() as i64 - 1;
    let switchpoint = sample!(DiscreteUniform::new(first_year, last_year));
    let early_rate = sample!(Exponential::new(1.0));
    let late_rate = sample!(Exponential::new(1.0));
    let rate: Vec<Real> = (0..counts.len() as i64)
        .map(|t| {
            if first_year + t <= switchpoint {
                early_rate
            } else {
                late_rate
            }
        })
        .collect();
    observe!(Poisson::new(&rate), counts, name = "disasters");
}

/// The exact posterior of the switchpoint (index `t` = year `FIRST_YEAR + t`), by
/// enumeration with both rates integrated out: an Exponential(1) rate is a Gamma(1, 1)
/// prior, so each part contributes `Γ(S + 1) / (n + 1)^(S + 1)` with `S` its disasters and
/// `n` its years (constants dropped).
pub fn exact_switchpoint_posterior(counts: &[i64]) -> Vec<f64> {
    let part = |c: &[i64]| {
        let s = c.iter().sum::<i64>() as f64;
        ppl::special::ln_gamma(s + 1.0) - (s + 1.0) * (c.len() as f64 + 1.0).ln()
    };
    let log_p: Vec<f64> = (0..counts.len())
        .map(|t| part(&counts[..=t]) + part(&counts[t + 1..]))
        .collect();
    normalise(&log_p)
}

/// Probabilities from unnormalised log-probabilities.
pub fn normalise(log_p: &[f64]) -> Vec<f64> {
    let max = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = log_p.iter().map(|l| (l - max).exp()).sum();
    log_p.iter().map(|l| (l - max).exp() / total).collect()
}

/// Mixture data: 40 draws, 30% from N(−2, 1) and 70% from N(2, 1) (fixed seed).
pub fn mixture_data() -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    (0..40)
        .map(|_| {
            let centre = if rng.gen::<f64>() < 0.3 { -2.0 } else { 2.0 };
            centre + rng.sample::<f64, _>(rand_distr::StandardNormal)
        })
        .collect()
}

/// Two-component mixture with unit variances, ordered means and a Bernoulli assignment
/// per observation.
#[model]
pub fn mixture_with_assignments(y: &[f64]) {
    let mu = sample!(
        Normal::new(0.0, 5.0),
        shape = 2,
        transform = Transform::Ordered
    );
    let w = sample!(Beta::new(2.0, 2.0));
    let z = sample!(Bernoulli::new(w), shape = y.len());
    let loc: Vec<Real> = z.iter().map(|&k| mu[k as usize]).collect();
    observe!(Normal::new(&loc, 1.0), y);
}

/// The same mixture with the assignments summed out.
#[model]
pub fn mixture_marginalised(y: &[f64]) {
    let mu = sample!(
        Normal::new(0.0, 5.0),
        shape = 2,
        transform = Transform::Ordered
    );
    let w = sample!(Beta::new(2.0, 2.0));
    let (ln_w0, ln_w1) = ((1.0 - w).ln(), w.ln());
    let mut total = Real::constant(0.0);
    for yn in y {
        let (d0, d1) = (*yn - mu[0], *yn - mu[1]);
        total += (ln_w0 - 0.5 * (d0 * d0)).log_sum_exp(ln_w1 - 0.5 * (d1 * d1));
    }
    potential!("mixture", total);
}

/// Dimension of the correlated Gaussian.
pub const GAUSS_DIM: usize = 10;

/// Covariance `Σ_ij = s_i s_j 0.5^|i−j|` with scales `s` from 0.5 to 2.
pub fn gaussian_covariance() -> Matrix<f64> {
    let scale = |i: usize| 0.5 + 1.5 * i as f64 / (GAUSS_DIM - 1) as f64;
    Matrix::from_fn(GAUSS_DIM, GAUSS_DIM, |i, j| {
        scale(i) * scale(j) * 0.5_f64.powi((i as i32 - j as i32).abs())
    })
}

/// A zero-mean Gaussian with covariance `L Lᵀ`, as one variable `x`.
#[model]
pub fn correlated_gaussian(l: &Matrix<f64>) {
    let _x = sample!(MvNormal::from_cholesky(0.0, l), name = "x");
}
