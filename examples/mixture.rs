//! A two-component Gaussian mixture with explicit Bernoulli assignments, sampled by a
//! compound sampler (NUTS for the means and weight, BinaryGibbs for the assignments),
//! next to the same model with the assignments marginalised out and sampled by NUTS.
//!
//! Run with `cargo run --release --example mixture`.

use ppl::prelude::*;
use rand::{Rng, SeedableRng};

#[model]
fn mixture(y: &[f64]) {
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

#[model]
fn mixture_marginalised(y: &[f64]) {
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

fn main() -> Result<(), ppl::Error> {
    // 40 points: 30% from N(−2, 1), 70% from N(2, 1).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let y: Vec<f64> = (0..40)
        .map(|_| {
            let centre = if rng.gen::<f64>() < 0.3 { -2.0 } else { 2.0 };
            centre + rng.sample::<f64, _>(rand_distr::StandardNormal)
        })
        .collect();

    let nuts = Nuts::default().chains(4).draws(2000).seed(5);
    let with_assignments = mixture::model(&y)?.sample(Compound::new(nuts.clone()))?;
    let marginalised = mixture_marginalised::model(&y)?.sample(nuts)?;
    println!("with assignments (compound):");
    println!("{}", with_assignments.summary());
    for (step, rate) in with_assignments.acceptance_rates() {
        println!("  {step}: mean acceptance {rate:.3}");
    }
    println!("\nmarginalised (NUTS):");
    println!("{}", marginalised.summary());

    println!("\nposterior means, compound vs marginalised (± MCSE):");
    let (a, b) = (with_assignments.summary(), marginalised.summary());
    for name in ["mu[0]", "mu[1]", "w"] {
        if let (Some(ra), Some(rb)) = (a.row(name), b.row(name)) {
            println!(
                "  {name:6} {:8.4} ± {:.4}   {:8.4} ± {:.4}",
                ra.mean, ra.mcse_mean, rb.mean, rb.mcse_mean
            );
        }
    }
    println!(
        "\nwall time: compound {:.3} s, marginalised {:.3} s",
        with_assignments.wall_time().as_secs_f64(),
        marginalised.wall_time().as_secs_f64()
    );
    Ok(())
}
