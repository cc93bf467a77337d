//! The performance benchmark of `shared/ANCHORS.md`: every posterior there (the 7
//! posteriordb posteriors plus radon, wells and gauss100) sampled with the reference
//! settings (4 chains, 1000 warm-up + 1000 draws, target acceptance 0.8, max tree depth
//! 10), measured exactly as ANCHORS.md defines, next to the best peer.
//!
//! ```sh
//! cargo run --release --example posteriordb_benchmark                   # one run each
//! cargo run --release --example posteriordb_benchmark -- --runs 3       # medians of 3 seeds
//! cargo run --release --example posteriordb_benchmark -- --runs 10 --first-seed 11  # seeds 11..=20
//! cargo run --release --example posteriordb_benchmark -- --only garch --only arK
//! cargo run --release --example posteriordb_benchmark -- --verbose      # per-parameter tables
//! cargo run --release --example posteriordb_benchmark -- --metric stan   # Stan's diagonal adaptation
//! cargo run --release --example posteriordb_benchmark -- --gradient-cost # µs per gradient only
//! cargo run --release --example posteriordb_benchmark -- --target-accept 0.9
//! ```
//!
//! - **grads** = leapfrog steps over warm-up + draws, all chains.
//! - **min ESS** = minimum bulk ESS over the posteriordb parameter set (transformed
//!   parameters included: `theta` in eight schools, `f` in the GP, `alpha` in radon).
//! - **ESS/s** = min ESS ÷ wall seconds of the whole sampling run (chains in parallel).
//! - **ESS/1k** = 1000 × min ESS ÷ grads.
//! - **R-hat** = maximum rank-normalised split R-hat over the same parameter set.
//! - **match** = every reference mean within 4·√(mcse_ref² + mcse²) of ours (flagged
//!   when a run's R-hat is ≥ 1.01: then the MCSE, hence the tolerance, is inflated).

#[path = "../tests/posteriordb_models/mod.rs"]
mod posteriordb_models;

use posteriordb_models::{
    compare, sample_posterior, with_posterior, BoxError, PosteriorVisitor, Reference, BENCHMARKS,
    POSTERIORDB,
};
use ppl::infer::Metric;
use ppl::prelude::*;

/// Best peer ESS/s from ANCHORS.md (system), and nutpie's ESS per 1000 gradients.
fn anchor(posterior: &str) -> Option<(f64, &'static str, f64)> {
    Some(match posterior {
        "arK-arK" => (4630.0, "nutpie", 11.4),
        "diamonds-diamonds" => (9.0, "NumPyro", 0.2),
        "eight_schools-eight_schools_noncentered" => (18204.0, "nutpie", 37.9),
        "garch-garch11" => (2892.0, "NumPyro", 25.6),
        "gauss100" => (8465.0, "nutpie", 28.9),
        "gp_pois_regr-gp_pois_regr" => (329.0, "Stan", 0.4),
        "kidiq-kidscore_momiq" => (3487.0, "nutpie", 5.7),
        "radon_mn-radon_hierarchical_intercept_noncentered" => (2414.0, "nutpie", 10.1),
        "wells_data-wells_dist100_model" => (1383.0, "NumPyro", 28.4),
        _ => return None,
    })
}

/// One run's measurements.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    grads: u64,
    min_ess: f64,
    max_r_hat: f64,
    divergences: usize,
    matched: bool,
}

impl Run {
    fn ess_per_s(&self) -> f64 {
        self.min_ess / self.wall
    }
    fn ess_per_1k(&self) -> f64 {
        1000.0 * self.min_ess / self.grads as f64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn run_once(
    name: &str,
    reference: &Reference,
    seed: u64,
    settings: &Nuts,
    verbose: bool,
) -> Result<Run, BoxError> {
    let settings = settings.clone().chains(4).seed(seed);
    let trace = sample_posterior(name, settings)?;
    let comparison = compare(&trace, reference)?;
    if verbose {
        println!(
            "{name}, seed {seed}: {:.2} s, {} divergences\n{}",
            trace.wall_time().as_secs_f64(),
            trace.divergences(),
            comparison.table()
        );
    }
    Ok(Run {
        wall: trace.wall_time().as_secs_f64(),
        grads: trace.leapfrog_steps(),
        min_ess: comparison.min_ess_bulk(),
        max_r_hat: comparison.max_r_hat(),
        divergences: trace.divergences(),
        matched: comparison.all_match(),
    })
}

/// Times `logp_grad` at an initial point: the fastest of five 0.2 s batches.
struct GradientCost;

impl PosteriorVisitor for GradientCost {
    type Output = (usize, f64);
    fn visit<T: ppl::ModelTemplate + Sync>(
        self,
        model: Model<T>,
    ) -> Result<(usize, f64), BoxError> {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let u = model.initial_point(&mut rng)?;
        let mut grad = vec![0.0; u.len()];
        let mut sink = 0.0;
        for _ in 0..10 {
            sink += model.logp_grad(&u, &mut grad)?;
        }
        // The fastest of five 0.2 s batches (robust to other work on the machine).
        let mut micros = f64::INFINITY;
        for _ in 0..5 {
            let mut evaluations = 0u64;
            let start = std::time::Instant::now();
            while start.elapsed().as_secs_f64() < 0.2 {
                for _ in 0..20 {
                    sink += model.logp_grad(&u, &mut grad)?;
                }
                evaluations += 20;
            }
            micros = micros.min(start.elapsed().as_secs_f64() * 1e6 / evaluations as f64);
        }
        std::hint::black_box(sink);
        Ok((u.len(), micros))
    }
}

/// Prints the cost of one log-density + gradient per posterior, beside the cost per
/// gradient (CPU µs: 2 cores × wall ÷ grads) that would reach 1.5× the best peer's ESS/s
/// at nutpie's ESS per 1000 gradients.
fn gradient_costs(names: &[&str]) -> Result<(), BoxError> {
    println!(
        "| posterior | dim | µs per gradient | budget for 1.5× best peer at nutpie's ESS/1k |"
    );
    println!("|---|---|---|---|");
    for name in names {
        let (dim, micros) = with_posterior(name, GradientCost)?;
        let budget = match anchor(name) {
            Some((ess_s, _, nutpie)) => format!("{:.2}", 2e6 * nutpie / 1000.0 / (1.5 * ess_s)),
            None => "–".into(),
        };
        println!("| {name} | {dim} | {micros:.2} | {budget} |");
    }
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let mut runs = 1usize;
    let mut first_seed = 1u64;
    let mut only: Vec<String> = Vec::new();
    let mut verbose = false;
    let mut gradient_cost = false;
    let mut metric = Metric::default();
    let mut target_accept = 0.8;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().ok_or("--runs needs a number")?.parse()?,
            "--first-seed" => {
                first_seed = args.next().ok_or("--first-seed needs a number")?.parse()?
            }
            "--only" => only.push(args.next().ok_or("--only needs a name")?),
            "--verbose" => verbose = true,
            "--gradient-cost" => gradient_cost = true,
            "--target-accept" => {
                target_accept = args
                    .next()
                    .ok_or("--target-accept needs a number")?
                    .parse()?
            }
            "--metric" => {
                metric = match args.next().as_deref() {
                    Some("gradient") => Metric::GradientDiagonal,
                    Some("stan") => Metric::Diagonal,
                    Some("dense") => Metric::Dense,
                    Some("low-rank") => Metric::LowRank,
                    Some("auto") => Metric::Auto,
                    _ => {
                        return Err("--metric takes gradient, stan, dense, low-rank or auto".into())
                    }
                }
            }
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let runs = runs.max(1);
    let mut names: Vec<&str> = POSTERIORDB.iter().chain(&BENCHMARKS).copied().collect();
    names.sort_unstable();
    if !only.is_empty() {
        names.retain(|n| only.iter().any(|o| n.contains(o.as_str())));
    }
    if gradient_cost {
        return gradient_costs(&names);
    }

    println!(
        "NUTS, 4 chains, 1000 warm-up + 1000 draws, target acceptance {target_accept}, max depth 10, \
         metric {metric:?}; {runs} run(s) per posterior (medians; seeds {first_seed}..={})\n",
        first_seed + runs as u64 - 1
    );
    let settings = Nuts::default().metric(metric).target_accept(target_accept);
    println!(
        "| posterior | wall (s) | grads | min bulk ESS | ESS/s | ESS / 1k grads | max R-hat | div | means match | best peer ESS/s | ours / best | nutpie ESS / 1k grads |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for name in names {
        let reference = Reference::load(name)?;
        let mut results = Vec::with_capacity(runs);
        for seed in first_seed..first_seed + runs as u64 {
            results.push(run_once(name, &reference, seed, &settings, verbose)?);
        }
        let med = |f: &dyn Fn(&Run) -> f64| median(results.iter().map(f).collect());
        let ess_per_s = med(&|r| r.ess_per_s());
        let matched = results.iter().filter(|r| r.matched).count();
        let (peer, ratio, nutpie) = match anchor(name) {
            Some((ess_s, system, nutpie)) => (
                format!("{ess_s:.0} ({system})"),
                format!("{:.2}×", ess_per_s / ess_s),
                format!("{nutpie:.1}"),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        println!(
            "| {name} | {:.3} | {:.0} | {:.0} | {ess_per_s:.0} | {:.1} | {:.4} | {:.0} | {} | {peer} | {ratio} | {nutpie} |",
            med(&|r| r.wall),
            med(&|r| r.grads as f64),
            med(&|r| r.min_ess),
            med(&|r| r.ess_per_1k()),
            med(&|r| r.max_r_hat),
            med(&|r| r.divergences as f64),
            if matched == runs {
                "yes".to_string()
            } else {
                format!("{matched}/{runs}")
            } + if results.iter().any(|r| r.max_r_hat >= 1.01) {
                " (R-hat ≥ 1.01 in a run)"
            } else {
                ""
            },
        );
    }
    Ok(())
}
