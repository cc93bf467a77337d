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

#[path = "common/compound_models.rs"]
mod compound_models;

use compound_models::{coal_mining, exact_switchpoint_posterior, COUNTS, FIRST_YEAR};

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
