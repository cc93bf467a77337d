//! A two-component Gaussian mixture with explicit Bernoulli assignments, sampled by a
//! compound sampler (NUTS for the means and weight, BinaryGibbs for the assignments),
//! next to the same model with the assignments marginalised out and sampled by NUTS.
//!
//! Run with `cargo run --release --example mixture`.

use ppl::prelude::*;

#[path = "common/compound_models.rs"]
mod compound_models;

use compound_models::{mixture_data, mixture_marginalised, mixture_with_assignments};

fn main() -> Result<(), ppl::Error> {
    // 40 points: 30% from N(−2, 1), 70% from N(2, 1).
    let y = mixture_data();

    let nuts = Nuts::default().chains(4).draws(2000).seed(5);
    let with_assignments =
        mixture_with_assignments::model(&y)?.sample(Compound::new(nuts.clone()))?;
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
