//! Eight schools (non-centred) sampled with NUTS: summary, timings, efficiency, the
//! posterior means next to the posteriordb reference, PSIS-LOO and a posterior
//! predictive check.
//!
//! Run with `cargo run --release --example eight_schools` (the README's main job);
//! add `-- --csv-dir DIR` to also write one CmdStan CSV file per chain into `DIR`.

use ppl::infer::diagnostics::quantile_sorted;
use ppl::prelude::*;

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfCauchy::new(5.0));
    let theta_raw = sample!(Normal::new(0.0, 1.0), shape = y.len());
    // θ = μ + τ·θ_raw as one tape operation (`theta_raw.iter().map(|t| mu + tau * *t)`
    // gives the same values with two scalar nodes per school).
    let theta = affine(mu, tau, &theta_raw);
    deterministic!(theta);
    observe!(Normal::new(&theta, sigma), y);
}

/// posteriordb `eight_schools-eight_schools_noncentered` reference (10 chains × 1000
/// thinned draws of Stan): name, mean, MCSE of the mean.
const REFERENCE: [(&str, f64, f64); 10] = [
    ("mu", 4.4105183369549295, 0.0330374705950917),
    ("tau", 3.602059523640593, 0.0318615135640706),
    ("theta[0]", 6.150502293344254, 0.0557375282295219),
    ("theta[1]", 4.939581140742195, 0.0462293788624847),
    ("theta[2]", 3.9059060900158236, 0.0542313705632124),
    ("theta[3]", 4.79601675138494, 0.0474935816762281),
    ("theta[4]", 3.6144363246798967, 0.0461450610244603),
    ("theta[5]", 4.051147578967499, 0.0485195392528031),
    ("theta[6]", 6.317169758868928, 0.0498766794075794),
    ("theta[7]", 4.8839969435328845, 0.0542511606560972),
];

/// Minimum bulk ESS over the posteriordb parameter set (mu, tau, theta), as ANCHORS.md
/// measures it.
fn min_bulk_ess(trace: &Trace) -> f64 {
    let summary = trace.summary();
    REFERENCE
        .iter()
        .map(|(name, _, _)| summary.row(name).map_or(f64::NAN, |r| r.ess_bulk))
        .fold(f64::INFINITY, f64::min)
}

/// The value after the command-line flag `flag` (e.g. `--csv-dir DIR`), if given.
fn flag_value(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), ppl::Error> {
    let y = [28., 8., -3., 7., -1., 1., 18., 12.];
    let sigma = [15., 10., 16., 11., 9., 11., 10., 18.];
    let model = eight_schools::model(&y, &sigma)?;

    let trace = model.sample(Nuts::default().chains(4).seed(1))?;
    let summary = trace.summary();
    println!("{summary}");
    if let Some(dir) = flag_value("--csv-dir") {
        let files = trace.write_cmdstan_csv(&dir, "eight_schools")?;
        println!("wrote {} CmdStan CSV files to {dir}\n", files.len());
    }
    if let Some(dir) = flag_value("--plot-dir") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir)?;
        trace.plot_trace(dir.join("trace.svg"), &["mu", "tau", "theta"])?;
        trace.plot_posterior(dir.join("posterior.svg"), &["mu", "tau", "theta"])?;
        trace.plot_rank(dir.join("rank.svg"), &["mu", "tau"])?;
        trace.plot_energy(dir.join("energy.svg"))?;
        println!(
            "wrote trace.svg, posterior.svg, rank.svg and energy.svg to {}\n",
            dir.display()
        );
    }

    println!(
        "posterior means against the posteriordb reference (tolerance 4·√(mcse_ref² + mcse²)):"
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9}  ok",
        "", "ours", "reference", "tolerance"
    );
    let mut all_ok = true;
    for (name, mean, mcse_ref) in REFERENCE {
        let Some(row) = summary.row(name) else {
            println!("{name:<10} missing from the trace");
            all_ok = false;
            continue;
        };
        let tolerance = 4.0 * (mcse_ref * mcse_ref + row.mcse_mean * row.mcse_mean).sqrt();
        let ok = (row.mean - mean).abs() < tolerance;
        all_ok &= ok;
        println!(
            "{name:<10} {:>9.3} {mean:>9.3} {tolerance:>9.3}  {}",
            row.mean,
            if ok { "yes" } else { "NO" }
        );
    }
    println!("all means match: {all_ok}\n");

    // Posterior predictive check: each school's effect drawn again given every draw.
    let checked = model.sample_posterior_predictive(&trace, 1)?;
    // Leave-one-school-out cross-validation (PSIS-LOO, as arviz.loo).
    let loo = model.compute_log_likelihood(&trace)?.loo()?;
    println!("{loo}");
    println!("posterior predictive check (y drawn again given each posterior draw):");
    println!(
        "{:<7} {:>9} {:>9} {:>9} {:>9} {:>12}",
        "school", "observed", "mean", "3%", "97%", "P(y_rep ≥ y)"
    );
    for (j, observed) in y.iter().enumerate() {
        let Some(chains) = checked.samples("y", j) else {
            continue;
        };
        let mut draws: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
        draws.sort_unstable_by(f64::total_cmp);
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let above = draws.iter().filter(|d| *d >= observed).count() as f64 / n;
        println!(
            "{j:<7} {observed:>9.1} {mean:>9.2} {:>9.2} {:>9.2} {above:>12.2}",
            quantile_sorted(&draws, 0.03),
            quantile_sorted(&draws, 0.97)
        );
    }
    println!();

    println!(
        "{:<5} {:>9} {:>10} {:>10} {:>9} {:>9} {:>10} {:>5} {:>9}",
        "seed",
        "wall (s)",
        "leapfrogs",
        "grad evals",
        "min ESS",
        "ESS/s",
        "ESS/1k lf",
        "div",
        "max R-hat"
    );
    for seed in 1..=3 {
        let trace = if seed == 1 {
            trace.clone()
        } else {
            model.sample(Nuts::default().chains(4).seed(seed))?
        };
        let wall = trace.wall_time().as_secs_f64();
        let ess = min_bulk_ess(&trace);
        let leapfrogs = trace.leapfrog_steps();
        println!(
            "{seed:<5} {wall:>9.4} {leapfrogs:>10} {:>10} {ess:>9.0} {:>9.0} {:>10.1} {:>5} {:>9.4}",
            trace.gradient_evaluations(),
            ess / wall,
            1000.0 * ess / leapfrogs as f64,
            trace.divergences(),
            trace.summary().max_r_hat()
        );
    }
    for chain in trace.chains() {
        println!(
            "chain {}: step size {:.3}, warm-up {:.1} ms, sampling {:.1} ms",
            chain.chain,
            chain.step_size,
            chain.timing.warmup.as_secs_f64() * 1e3,
            chain.timing.sampling.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
