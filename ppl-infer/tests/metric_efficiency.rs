//! Efficiency of the metric adaptations: min bulk ESS per 1000 gradient evaluations
//! (ANCHORS.md: leapfrog steps of warm-up and draws, all chains) for each metric on eight
//! schools, a 10-d standard normal, a correlated 2-d Gaussian and gauss100, 3 seeds each.
//!
//! A measurement, not a check: run with
//! `cargo test -p ppl-infer --release --test metric_efficiency -- --ignored --nocapture`.

mod common;
mod metric_models;

use common::{Correlated, StdNormal};
use metric_models::{eight_schools_quantities, min_bulk_ess, EightSchools, Gauss100};
use ppl_infer::{sample_log_density, LogDensity, Metric, Nuts};

type Quantities = fn(&[f64]) -> Vec<f64>;

fn identity(x: &[f64]) -> Vec<f64> {
    x.to_vec()
}

struct Row {
    grads: u64,
    ess: f64,
    divergences: usize,
    r_hat: f64,
    seconds: f64,
}

fn run(density: &(dyn LogDensity + Sync), metric: Metric, seed: u64, f: Quantities) -> Row {
    let nuts = Nuts::default().seed(seed).metric(metric).progress(false);
    let trace = sample_log_density(density, nuts).unwrap();
    Row {
        grads: trace.leapfrog_steps(),
        ess: min_bulk_ess(&trace, f),
        divergences: trace.divergences(),
        r_hat: trace.summary().max_r_hat(),
        seconds: trace.wall_time().as_secs_f64(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
#[ignore = "a measurement: run explicitly with --ignored --nocapture"]
fn ess_per_thousand_gradients_by_metric() {
    let eight = EightSchools;
    let normal = StdNormal(10);
    let correlated = Correlated {
        mean: [1.0, -2.0],
        sd: [1.0, 3.0],
        rho: 0.9,
    };
    let gauss100 = Gauss100::new();
    let models: [(&str, &(dyn LogDensity + Sync), Quantities); 4] = [
        (
            "eight_schools_noncentered",
            &eight,
            eight_schools_quantities,
        ),
        ("std_normal_10", &normal, identity),
        ("correlated_2", &correlated, identity),
        ("gauss100", &gauss100, identity),
    ];
    let metrics = [
        Metric::Diagonal,
        Metric::GradientDiagonal,
        Metric::Dense,
        Metric::LowRank,
    ];
    println!(
        "| model | metric | seed | grads | min bulk ESS | ESS/1k grads | div | max R-hat | wall s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut medians = Vec::new();
    for (name, density, f) in models {
        for metric in metrics {
            let mut per_k = Vec::new();
            for seed in 1..=3 {
                let row = run(density, metric, seed, f);
                let k = 1000.0 * row.ess / row.grads as f64;
                per_k.push(k);
                println!(
                    "| {name} | {metric} | {seed} | {} | {:.0} | {k:.1} | {} | {:.4} | {:.3} |",
                    row.grads, row.ess, row.divergences, row.r_hat, row.seconds
                );
            }
            medians.push((name, metric, median(per_k)));
        }
    }
    println!("\nmedian ESS per 1000 gradients over 3 seeds:");
    println!(
        "| model | diagonal (Stan) | gradient-diagonal (nutpie) | dense (Stan) | low-rank (nutpie) |"
    );
    println!("|---|---|---|---|---|");
    for chunk in medians.chunks(4) {
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            chunk[0].0, chunk[0].2, chunk[1].2, chunk[2].2, chunk[3].2
        );
    }
}

/// This process's CPU time (user + system) in seconds, from `/proc/self/stat` (Linux;
/// 10 ms resolution, so only sums over many runs are meaningful).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Wall and CPU time of eight schools and gauss100 (4 chains, 1000 + 1000) with the
/// progress display on and off, alternating; run under a terminal (e.g.
/// `script -qc '…' /dev/null`) to include the drawing itself.
#[test]
#[ignore = "a measurement: run explicitly with --ignored --nocapture"]
fn progress_display_overhead() {
    use std::io::IsTerminal;
    println!("stderr is a terminal: {}", std::io::stderr().is_terminal());
    let gauss100 = Gauss100::new();
    let models: [(&str, &(dyn LogDensity + Sync), usize); 2] = [
        ("eight_schools_noncentered", &EightSchools, 60),
        ("gauss100", &gauss100, 10),
    ];
    for (name, density, runs) in models {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        let (mut cpu_on, mut cpu_off) = (0.0, 0.0);
        for run in 0..2 * runs {
            let progress = run % 2 == 0;
            let nuts = Nuts::default()
                .seed(run as u64 / 2)
                .progress(progress)
                .force_progress(progress);
            let cpu = process_cpu_seconds();
            let start = std::time::Instant::now();
            sample_log_density(density, nuts).unwrap();
            let seconds = start.elapsed().as_secs_f64();
            let cpu = process_cpu_seconds() - cpu;
            if progress {
                on.push(seconds);
                cpu_on += cpu;
            } else {
                off.push(seconds);
                cpu_off += cpu;
            }
        }
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        let (min_on, min_off) = (min(&on), min(&off));
        let (on, off) = (median(on), median(off));
        eprintln!();
        println!(
            "{name}: wall median {:.2} ms on / {:.2} ms off ({:+.2}%), min {:.2} / {:.2} ms ({:+.2}%); \
             CPU total {cpu_on:.2} s / {cpu_off:.2} s ({:+.2}%)",
            1e3 * on,
            1e3 * off,
            100.0 * (on / off - 1.0),
            1e3 * min_on,
            1e3 * min_off,
            100.0 * (min_on / min_off - 1.0),
            100.0 * (cpu_on / cpu_off - 1.0),
        );
    }
}
