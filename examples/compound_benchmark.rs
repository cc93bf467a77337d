//! Compound-sampler benchmarks: draws per second on the coal-mining change point, and
//! ESS per second of Metropolis against NUTS on a 10-d correlated Gaussian.
//!
//! Run with `cargo run --release --example compound_benchmark` (numbers in the README).

use ppl::prelude::*;

#[path = "common/compound_models.rs"]
mod compound_models;

use compound_models::{coal_mining, correlated_gaussian, gaussian_covariance, COUNTS, FIRST_YEAR};

/// Minimum bulk ESS over the elements of `names`.
fn min_ess(trace: &Trace, names: &[&str]) -> f64 {
    let summary = trace.summary();
    summary
        .rows()
        .iter()
        .filter(|r| {
            names
                .iter()
                .any(|n| r.name == *n || r.name.starts_with(&format!("{n}[")))
        })
        .map(|r| r.ess_bulk)
        .fold(f64::INFINITY, f64::min)
}

fn max_rhat(trace: &Trace) -> f64 {
    trace
        .summary()
        .rows()
        .iter()
        .map(|r| r.r_hat)
        .filter(|r| r.is_finite())
        .fold(0.0, f64::max)
}

/// Draws per second of one chain after warm-up (the slowest chain).
fn draws_per_second(trace: &Trace) -> f64 {
    let slowest = trace
        .chains()
        .iter()
        .map(|c| c.timing.sampling.as_secs_f64())
        .fold(0.0, f64::max);
    trace.num_draws() as f64 / slowest
}

fn main() -> Result<(), ppl::Error> {
    let runs = 3;
    println!("coal mining change point, 4 chains × 1000 + 1000 (median of {runs} seeds):");
    let model = coal_mining::model(&COUNTS, FIRST_YEAR)?;
    for (label, settings) in [
        ("automatic (CategoricalGibbs + NUTS)", Compound::default()),
        (
            "Metropolis switchpoint + NUTS",
            Compound::default().assign("switchpoint", StepKind::Metropolis),
        ),
    ] {
        let mut rows = Vec::new();
        for seed in 1..=runs {
            let nuts = settings.settings().clone().seed(seed).progress(false);
            let mut s = Compound::new(nuts);
            for (name, kind) in settings.assignments() {
                s = s.assign(name.clone(), *kind);
            }
            let trace = model.sample(s)?;
            let ess = min_ess(&trace, &["switchpoint", "early_rate", "late_rate"]);
            rows.push((
                trace.wall_time().as_secs_f64(),
                draws_per_second(&trace),
                ess / trace.wall_time().as_secs_f64(),
                max_rhat(&trace),
            ));
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (wall, dps, ess_s, rhat) = rows[rows.len() / 2];
        println!(
            "  {label:38} wall {wall:.3} s, {dps:8.0} draws/s per chain, min ESS/s {ess_s:8.0}, max R-hat {rhat:.3}"
        );
    }

    println!("\n10-d correlated Gaussian (Σ_ij = s_i s_j 0.5^|i-j|, s from 0.5 to 2), 4 chains:");
    let cov = gaussian_covariance();
    let l = ppl::linalg::cholesky(&cov).map_err(|e| ppl::ModelError::Point(e.to_string()))?;
    let model = correlated_gaussian::model(&l)?;
    for (label, settings, draws) in [
        ("NUTS (1000 + 1000)", Compound::default(), 1000),
        (
            "Metropolis (2000 + 20000)",
            Compound::new(Nuts::default().tune(2000)).assign("x", StepKind::Metropolis),
            20000,
        ),
        (
            "slice (1000 + 4000)",
            Compound::default().assign("x", StepKind::Slice),
            4000,
        ),
    ] {
        let mut rows = Vec::new();
        for seed in 1..=runs {
            let nuts = settings
                .settings()
                .clone()
                .draws(draws)
                .seed(seed)
                .progress(false);
            let mut s = Compound::new(nuts);
            for (name, kind) in settings.assignments() {
                s = s.assign(name.clone(), *kind);
            }
            let trace = model.sample(s)?;
            let ess = min_ess(&trace, &["x"]);
            let evaluations = trace.step_evaluations();
            rows.push((
                ess / trace.wall_time().as_secs_f64(),
                ess,
                trace.wall_time().as_secs_f64(),
                1000.0 * ess / evaluations as f64,
            ));
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (ess_s, ess, wall, per_k) = rows[rows.len() / 2];
        println!(
            "  {label:28} min ESS {ess:7.0}, wall {wall:.3} s, ESS/s {ess_s:9.0}, ESS per 1000 evaluations {per_k:.1}"
        );
    }
    Ok(())
}
