//! The coal-mining disasters change-point model (PyMC's classic example), sampled by a
//! compound sampler: NUTS for the two rates, Gibbs-type proposals from the full
//! conditional for the discrete switchpoint.
//!
//! The switchpoint posterior is compared with the exact one, computed by enumerating the
//! switchpoint with both rates integrated out (Gamma–Poisson conjugacy).
//!
//! Run with `cargo run --release --example coal_mining`; add `-- --csv-dir DIR` to also
//! write one CmdStan CSV file per chain into `DIR`.

use ppl::prelude::*;

/// UK coal-mining disasters per year, 1851–1961 (Jarrett 1979;
/// `reference/data/coal_mining.json`).
const COUNTS: [i64; 111] = [
    4, 5, 4, 0, 1, 4, 3, 4, 0, 6, 3, 3, 4, 0, 2, 6, 3, 3, 5, 4, 5, 3, 1, 4, 4, 1, 5, 5, 3, 4, 2, 5,
    2, 2, 3, 4, 2, 1, 3, 2, 2, 1, 1, 1, 1, 3, 0, 0, 1, 0, 1, 1, 0, 0, 3, 1, 0, 3, 2, 2, 0, 1, 1, 1,
    0, 1, 0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 1, 0, 2, 3, 3, 1, 1, 2, 1, 1, 1, 1, 2, 4, 2, 0, 0, 1, 4,
    0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1,
];
const FIRST_YEAR: i64 = 1851;

#[model]
fn coal_mining(counts: &[i64], first_year: i64) {
    let last_year = first_year + counts.len() as i64 - 1;
    let switchpoint = sample!(DiscreteUniform::new(first_year, last_year));
    let early_rate = sample!(Exponential::new(1.0));
    let late_rate = sample!(Exponential::new(1.0));
    // The early rate applies up to and including the switchpoint year.
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

/// The exact posterior of the switchpoint: `p(s | y) ∝ Π_parts Γ(S + 1) / (n + 1)^(S + 1)`
/// with `S` the disasters and `n` the years of each part (an Exponential(1) rate is a
/// Gamma(1, 1) prior), normalised over the years.
fn exact_switchpoint_posterior(counts: &[i64]) -> Vec<f64> {
    let part = |c: &[i64]| {
        let s: f64 = c.iter().sum::<i64>() as f64;
        ppl::special::ln_gamma(s + 1.0) - (s + 1.0) * (c.len() as f64 + 1.0).ln()
    };
    let log_p: Vec<f64> = (0..counts.len())
        .map(|t| part(&counts[..=t]) + part(&counts[t + 1..]))
        .collect();
    let max = log_p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = log_p.iter().map(|l| (l - max).exp()).sum();
    log_p.iter().map(|l| (l - max).exp() / total).collect()
}

fn main() -> Result<(), ppl::Error> {
    let model = coal_mining::model(&COUNTS, FIRST_YEAR)?;
    // Automatic assignment: NUTS for the rates, full-conditional (CategoricalGibbs)
    // proposals for the switchpoint's 111 values.
    let settings = Compound::new(Nuts::default().chains(4).draws(2000).seed(1));
    let trace = model.sample(settings)?;
    println!("{}", trace.summary());
    for (step, rate) in trace.acceptance_rates() {
        println!("{step}: mean acceptance {rate:.3}");
    }

    let args: Vec<String> = std::env::args().collect();
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--csv-dir")
        .and_then(|i| args.get(i + 1))
    {
        let files = ppl::infer::CmdStanCsv::new(&trace)
            .model_name("coal_mining")
            .write_files(dir, "coal_mining")?;
        println!("wrote {} CSV files to {dir}", files.len());
    }

    let exact = exact_switchpoint_posterior(&COUNTS);
    let mut counts = vec![0usize; COUNTS.len()];
    let mut n = 0usize;
    for chain in trace.samples("switchpoint", 0).unwrap_or_default() {
        for &year in chain {
            counts[(year as i64 - FIRST_YEAR) as usize] += 1;
            n += 1;
        }
    }
    let tv: f64 = 0.5
        * counts
            .iter()
            .zip(&exact)
            .map(|(&c, p)| (c as f64 / n as f64 - p).abs())
            .sum::<f64>();
    println!("\nswitchpoint posterior (sampled vs exact):");
    for (t, p) in exact.iter().enumerate().filter(|(_, p)| **p > 0.005) {
        println!(
            "  {}  {:.3}  {:.3}",
            FIRST_YEAR + t as i64,
            counts[t] as f64 / n as f64,
            p
        );
    }
    println!("total-variation distance: {tv:.4}");
    let sampling: f64 = trace
        .chains()
        .iter()
        .map(|c| c.timing.sampling.as_secs_f64())
        .fold(0.0, f64::max);
    println!(
        "wall time {:.3} s; {:.0} draws/s per chain after warm-up; {} gradient and {} log-density evaluations",
        trace.wall_time().as_secs_f64(),
        trace.num_draws() as f64 / sampling,
        trace.gradient_evaluations(),
        trace.step_evaluations()
    );
    Ok(())
}
