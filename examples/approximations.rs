//! NUTS against the fast approximations on one model: the posterior mode (MAP), the
//! Laplace approximation, Pathfinder, and mean-field and full-rank ADVI, with each one's
//! time and its Pareto k̂ (below 0.5: close to the posterior; above 0.7: do not trust
//! it).
//!
//! Run with `cargo run --release --example approximations`.

use ppl::infer::Pathfinder;
use ppl::prelude::*;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// A logistic regression on two correlated predictors.
#[model]
fn logistic(x1: &[f64], x2: &[f64], y: &[i64]) {
    let alpha = sample!(Normal::new(0.0, 2.5));
    let beta1 = sample!(Normal::new(0.0, 2.5));
    let beta2 = sample!(Normal::new(0.0, 2.5));
    let eta: Vec<Real> = x1
        .iter()
        .zip(x2)
        .map(|(a, b)| alpha + beta1 * *a + beta2 * *b)
        .collect();
    observe!(BernoulliLogit::new(&eta), y);
}

const NAMES: [&str; 3] = ["alpha", "beta1", "beta2"];

/// One line: each parameter's mean ± sd from a trace.
fn line(label: &str, trace: &Trace, extra: &str) {
    let summary = trace.summary();
    let cells: Vec<String> = NAMES
        .iter()
        .map(|n| {
            let row = summary.row(n).expect("a model parameter");
            format!("{:>7.3} ± {:<5.3}", row.mean, row.sd)
        })
        .collect();
    println!("{label:<22} {}  {extra}", cells.join("  "));
}

fn main() -> Result<(), ppl::Error> {
    // P(y = 1) = logistic(−0.5 + 1.2 x1 − 0.8 x2), x2 correlated with x1 (ρ ≈ 0.8).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let n = 300;
    let x1: Vec<f64> = (0..n)
        .map(|_| rng.sample(rand_distr::StandardNormal))
        .collect();
    let x2: Vec<f64> = x1
        .iter()
        .map(|a| 0.8 * a + 0.6 * rng.sample::<f64, _>(rand_distr::StandardNormal))
        .collect();
    let y: Vec<i64> = x1
        .iter()
        .zip(&x2)
        .map(|(a, b)| {
            let p = 1.0 / (1.0 + (0.5 - 1.2 * a + 0.8 * b).exp());
            i64::from(rng.gen::<f64>() < p)
        })
        .collect();
    let model = logistic::model(&x1, &x2, &y)?;
    println!(
        "{:<22} {:^15}  {:^15}  {:^15}",
        "", NAMES[0], NAMES[1], NAMES[2]
    );

    let start = Instant::now();
    let trace = model.sample(Nuts::default().seed(1).progress(false))?;
    line("NUTS (4 × 1000)", &trace, &format!("{:.0} ms", ms(start)));

    let start = Instant::now();
    let mode = model.find_map(Map::default().seed(1))?;
    let values: Vec<String> = NAMES
        .iter()
        .map(|n| {
            format!(
                "{:>7.3}        ",
                mode.point.get(n).map_or(f64::NAN, |a| a.values[0])
            )
        })
        .collect();
    println!(
        "{:<22} {}  {:.1} ms, {} iterations",
        "MAP",
        values.join("  "),
        ms(start),
        mode.iterations
    );

    let start = Instant::now();
    let at_mode = model.find_map(Map::default().jacobian(true).seed(1))?;
    let laplace = model.laplace(&at_mode, 4000, 2)?;
    let extra = format!("{:.1} ms, k̂ {:.2}", ms(start), laplace.pareto_k);
    line("Laplace", &laplace.trace, &extra);

    let start = Instant::now();
    let pathfinder = model.pathfinder(Pathfinder::default().seed(1))?;
    let extra = format!("{:.1} ms, k̂ {:.2}", ms(start), pathfinder.pareto_k);
    line("Pathfinder (4 paths)", &pathfinder.trace, &extra);

    for (label, advi) in [
        ("ADVI mean-field", Advi::meanfield()),
        ("ADVI full-rank", Advi::fullrank()),
    ] {
        let start = Instant::now();
        let fit = model.fit(advi.seed(1).tol_rel_obj(0.001))?;
        let draws = fit.sample(&model, 4000, 2)?;
        let elapsed = ms(start);
        let check = fit.check(&model, 4000, 3)?;
        let extra = format!(
            "{elapsed:.1} ms, k̂ {:.2}, {} iterations",
            check.pareto_k,
            fit.iterations()
        );
        line(label, &draws, &extra);
    }
    println!("truth: alpha = -0.5, beta1 = 1.2, beta2 = -0.8");
    Ok(())
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}
