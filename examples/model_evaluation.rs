//! Eight schools, non-centred, evaluated without sampling: layout, log-density and gradient
//! (tape vs dual numbers), timing, prior and prior predictive.
//!
//! Run with `cargo run --release --example model_evaluation`.

use ppl::prelude::*;
use std::time::Instant;

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfCauchy::new(5.0));
    let theta_raw = sample!(Normal::new(0.0, 1.0), shape = y.len());
    let theta: Vec<Real> = theta_raw.iter().map(|t| mu + tau * *t).collect();
    deterministic!(theta);
    observe!(Normal::new(&theta, sigma), y);
}

fn main() -> Result<(), ppl::Error> {
    let y = [28., 8., -3., 7., -1., 1., 18., 12.];
    let sigma = [15., 10., 16., 11., 9., 11., 10., 18.];
    let model = eight_schools::model(&y, &sigma)?;

    // The model's structure: variables, transforms, positions, observations.
    println!("{model}");

    let mut rng = ppl::model::rng_for(1, 0);
    let u = model.initial_point(&mut rng)?;
    let mut grad = vec![0.0; model.dim()];
    let lp = model.logp_grad(&u, &mut grad)?;
    let mut grad_fwd = vec![0.0; model.dim()];
    model.logp_grad_forward(&u, &mut grad_fwd)?;
    let max_diff = grad
        .iter()
        .zip(&grad_fwd)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("\nat the initial point: log-density {lp:.6}");
    println!("gradient (tape):   {grad:.4?}");
    println!("max |tape − dual|: {max_diff:.2e}");

    let evals = 100_000;
    let start = Instant::now();
    for _ in 0..evals {
        model.logp_grad(&u, &mut grad)?;
    }
    let per_eval = start.elapsed().as_secs_f64() / evals as f64;
    println!(
        "log-density + gradient: {:.2} µs per evaluation",
        per_eval * 1e6
    );

    let draws = 4000;
    let mut tau = Vec::with_capacity(draws);
    let mut y0 = Vec::with_capacity(draws);
    for _ in 0..draws {
        let d = model.prior_draw(&mut rng)?;
        tau.push(d.variables.get("tau").map_or(f64::NAN, |a| a.values[0]));
        y0.push(d.observed.get("y").map_or(f64::NAN, |a| a.values[0]));
    }
    tau.sort_by(f64::total_cmp);
    y0.sort_by(f64::total_cmp);
    let q = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p) as usize];
    println!(
        "\nprior (4000 draws): tau median {:.2}, 90% interval [{:.2}, {:.2}]",
        q(&tau, 0.5),
        q(&tau, 0.05),
        q(&tau, 0.95)
    );
    println!(
        "prior predictive y[0]: median {:.2}, 90% interval [{:.2}, {:.2}]",
        q(&y0, 0.5),
        q(&y0, 0.05),
        q(&y0, 0.95)
    );
    Ok(())
}
