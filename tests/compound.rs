//! Compound sampling (Metropolis-within-Gibbs with NUTS for the continuous block),
//! validated against exact posteriors, against NUTS on a marginalised model, and on a
//! correlated Gaussian; plus assignment errors, reproducibility and output.
//!
//! Tolerances come from Monte-Carlo standard errors: a mean within 4 MCSE, two
//! estimates within 4 combined MCSE, total-variation distances below the 0.05.

#[path = "../examples/common/compound_models.rs"]
mod compound_models;

use compound_models::*;
use ppl::infer::{write_json, CmdStanCsv, PlannedStep};
use ppl::prelude::*;

// ---------------------------------------------------------------------------------------
// Coal-mining change point: switchpoint against the exact posterior.
// ---------------------------------------------------------------------------------------

/// Total-variation distance between the draws of a discrete scalar (values
/// `offset..offset + p.len()`) and the probabilities `p`.
fn total_variation(trace: &Trace, name: &str, offset: i64, p: &[f64]) -> f64 {
    let mut counts = vec![0usize; p.len()];
    let mut n = 0;
    for chain in trace.samples(name, 0).unwrap() {
        for &v in chain {
            let k = v as i64 - offset;
            assert!(
                v == v.round() && (0..p.len() as i64).contains(&k),
                "{name} = {v}"
            );
            counts[k as usize] += 1;
            n += 1;
        }
    }
    0.5 * counts
        .iter()
        .zip(p)
        .map(|(&c, p)| (c as f64 / n as f64 - p).abs())
        .sum::<f64>()
}

#[test]
fn coal_mining_matches_the_exact_switchpoint_posterior() {
    let counts = COUNTS;
    // The data of the reference file, checked when it is available.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/data/coal_mining.json"
    );
    if let Ok(text) = std::fs::read_to_string(path) {
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let file: Vec<i64> = json["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(file, counts);
    }
    let model = coal_mining::model(&counts, FIRST_YEAR).unwrap();
    // The default metric, and the low-rank ones inside the compound step.
    for metric in [Metric::GradientDiagonal, Metric::LowRank, Metric::Auto] {
        let settings = Compound::new(quiet_nuts(1500, 11).metric(metric));
        let plan = settings.plan(model.layout()).unwrap();
        let kinds: Vec<StepKind> = plan.iter().map(|p: &PlannedStep| p.kind).collect();
        assert_eq!(kinds, [StepKind::CategoricalGibbs, StepKind::Nuts]);
        let trace = model.sample(settings).unwrap();
        let tv = total_variation(
            &trace,
            "switchpoint",
            FIRST_YEAR,
            &exact_switchpoint_posterior(&counts),
        );
        eprintln!("coal mining ({metric}): total variation {tv:.4}");
        assert!(tv < 0.05, "{metric}: total variation {tv}");
        assert_eq!(trace.divergences(), 0, "{metric}");
        let summary = trace.summary();
        for name in ["switchpoint", "early_rate", "late_rate"] {
            assert!(summary.row(name).unwrap().r_hat < 1.01, "{metric}: {name}");
        }
        let rates = trace.acceptance_rates();
        assert_eq!(rates.len(), 2);
        assert_eq!(rates[0].0, "categorical_gibbs[switchpoint]");
        assert_eq!(rates[1].0, "nuts[early_rate, late_rate]");
        for (label, rate) in &rates {
            assert!(*rate > 0.3 && *rate <= 1.0, "{metric}: {label}: {rate}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Discrete Metropolis on an unbounded count, against enumeration.
// ---------------------------------------------------------------------------------------

#[model]
fn latent_count(y: &[f64]) {
    let k = sample!(Poisson::new(3.0));
    observe!(Normal::new(k as f64, 1.0), y);
}

#[test]
fn discrete_metropolis_matches_enumeration() {
    let y = [5.2, 4.1, 6.3];
    let model = latent_count::model(&y).unwrap();
    let trace = model
        .sample(Compound::new(quiet_nuts(3000, 3)).assign("k", StepKind::Metropolis))
        .unwrap();
    assert_eq!(trace.step_labels(), ["metropolis[k]"]);
    let log_p: Vec<f64> = (0..60)
        .map(|k| {
            let k = k as f64;
            let prior = k * 3.0_f64.ln() - 3.0 - ppl::special::ln_gamma(k + 1.0);
            prior - 0.5 * y.iter().map(|v| (v - k).powi(2)).sum::<f64>()
        })
        .collect();
    let tv = total_variation(&trace, "k", 0, &normalise(&log_p));
    eprintln!("latent count: total variation {tv:.4}");
    assert!(tv < 0.05, "total variation {tv}");
}

// ---------------------------------------------------------------------------------------
// Two-component mixture: Bernoulli assignments vs assignments marginalised out.
// ---------------------------------------------------------------------------------------

#[test]
fn mixture_with_assignments_agrees_with_the_marginalised_model() {
    let y = mixture_data();
    let nuts = quiet_nuts(2000, 5);
    let with_z = mixture_with_assignments::model(&y).unwrap();
    let compound = with_z.sample(Compound::new(nuts.clone())).unwrap();
    assert_eq!(
        compound.step_labels(),
        ["nuts[mu, w]", "binary_gibbs[z]"],
        "automatic assignment"
    );
    let marginal = mixture_marginalised::model(&y)
        .unwrap()
        .sample(nuts)
        .unwrap();
    assert_means_agree(&compound, &marginal);
    let summary = marginal.summary();
    for name in ["mu[0]", "mu[1]", "w"] {
        assert!(
            summary.row(name).unwrap().r_hat < 1.01,
            "marginalised {name}"
        );
    }
}

/// The compound run's means of `mu` and `w` equal the marginalised run's within four
/// combined MCSE, and the compound chains mixed (R-hat < 1.01).
fn assert_means_agree(compound: &Trace, marginal: &Trace) {
    let (a, b) = (compound.summary(), marginal.summary());
    for name in ["mu[0]", "mu[1]", "w"] {
        let (ra, rb) = (a.row(name).unwrap(), b.row(name).unwrap());
        let tolerance = 4.0 * (ra.mcse_mean.powi(2) + rb.mcse_mean.powi(2)).sqrt();
        eprintln!(
            "mixture {name}: compound {:.4} ± {:.4}, marginalised {:.4} ± {:.4}",
            ra.mean, ra.mcse_mean, rb.mean, rb.mcse_mean
        );
        assert!(
            (ra.mean - rb.mean).abs() < tolerance,
            "{name}: {} vs {} (tolerance {tolerance})",
            ra.mean,
            rb.mean
        );
        assert!(ra.r_hat < 1.01, "{name}");
    }
}

/// Four quiet NUTS chains with `draws` draws each.
fn quiet_nuts(draws: usize, seed: u64) -> Nuts {
    Nuts::default()
        .chains(4)
        .draws(draws)
        .seed(seed)
        .progress(false)
}

/// NUTS on part of the continuous vector (`mu`), slice sampling for `w`, BinaryGibbs for
/// the assignments: the block density writes NUTS's coordinates into the full state.
#[test]
fn nuts_on_a_partial_block_agrees_with_the_marginalised_model() {
    let y = mixture_data();
    let nuts = quiet_nuts(2000, 6);
    let compound = mixture_with_assignments::model(&y)
        .unwrap()
        .sample(Compound::new(nuts.clone()).assign("w", StepKind::Slice))
        .unwrap();
    assert_eq!(
        compound.step_labels(),
        ["nuts[mu]", "slice[w]", "binary_gibbs[z]"]
    );
    let marginal = mixture_marginalised::model(&y)
        .unwrap()
        .sample(nuts)
        .unwrap();
    assert_means_agree(&compound, &marginal);
}

// ---------------------------------------------------------------------------------------
// Metropolis (and slice sampling) alone on a 10-d correlated Gaussian.
// ---------------------------------------------------------------------------------------

/// Checks every mean (truth 0) and variance (truth `Σ_ii`) within 4 MCSE, with the MCSE
/// of a variance from the ESS of the squared centred draws.
fn check_gaussian_moments(trace: &Trace, label: &str) {
    let cov = gaussian_covariance();
    let summary = trace.summary();
    for i in 0..GAUSS_DIM {
        let row = summary.row(&format!("x[{i}]")).unwrap();
        assert!(row.r_hat < 1.01, "{label} x[{i}]: R-hat {}", row.r_hat);
        assert!(
            row.mean.abs() < 4.0 * row.mcse_mean,
            "{label} x[{i}]: mean {} (mcse {})",
            row.mean,
            row.mcse_mean
        );
        let chains = trace.samples("x", i).unwrap();
        let squares: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| c.iter().map(|v| v * v).collect())
            .collect();
        let views: Vec<&[f64]> = squares.iter().map(Vec::as_slice).collect();
        let n: usize = views.iter().map(|c| c.len()).sum();
        let var = views.iter().flat_map(|c| c.iter()).sum::<f64>() / n as f64;
        let sd_sq = (views
            .iter()
            .flat_map(|c| c.iter())
            .map(|s| (s - var).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt();
        let ess = ppl::infer::diagnostics::ess_bulk(&views);
        let mcse = sd_sq / ess.sqrt();
        let truth = cov[(i, i)];
        assert!(
            (var - truth).abs() < 4.0 * mcse,
            "{label} x[{i}]: variance {var} vs {truth} (mcse {mcse})"
        );
    }
}

#[test]
fn metropolis_alone_recovers_a_correlated_gaussian() {
    let l = ppl::linalg::cholesky(&gaussian_covariance()).unwrap();
    let model = correlated_gaussian::model(&l).unwrap();
    let trace = model
        .sample(Compound::new(quiet_nuts(20000, 8).tune(2000)).assign("x", StepKind::Metropolis))
        .unwrap();
    assert_eq!(trace.step_labels(), ["metropolis[x]"]);
    assert_eq!(trace.gradient_evaluations(), 0);
    let rate = trace.acceptance_rates()[0].1;
    assert!((0.2..0.75).contains(&rate), "tuned acceptance {rate}");
    check_gaussian_moments(&trace, "metropolis");
}

#[test]
fn slice_sampling_recovers_a_correlated_gaussian() {
    let l = ppl::linalg::cholesky(&gaussian_covariance()).unwrap();
    let model = correlated_gaussian::model(&l).unwrap();
    let trace = model
        .sample(Compound::new(quiet_nuts(4000, 9)).assign("x", StepKind::Slice))
        .unwrap();
    assert_eq!(trace.step_labels(), ["slice[x]"]);
    check_gaussian_moments(&trace, "slice");
}

// ---------------------------------------------------------------------------------------
// Assignment errors, reproducibility, output.
// ---------------------------------------------------------------------------------------

fn assignment_error(settings: Compound) -> String {
    let model = coal_mining::model(&COUNTS, FIRST_YEAR).unwrap();
    match model.sample(settings) {
        Err(e @ SampleError::Assignment(_)) => e.to_string(),
        other => panic!("expected an assignment error, got {other:?}"),
    }
}

#[test]
fn bad_assignments_are_errors_naming_the_variable() {
    let base = || Compound::new(Nuts::default().chains(1).draws(10).tune(10).progress(false));
    let e = assignment_error(base().assign("switchpoint", StepKind::Nuts));
    assert!(
        e.contains("`switchpoint` is discrete") && e.contains("NUTS"),
        "{e}"
    );
    let e = assignment_error(base().assign("change", StepKind::Metropolis));
    assert!(e.contains("`change`") && e.contains("no such"), "{e}");
    let e = assignment_error(
        base()
            .assign("early_rate", StepKind::Metropolis)
            .assign("early_rate", StepKind::Slice),
    );
    assert!(e.contains("`early_rate` is assigned to two steps"), "{e}");
    let e = assignment_error(base().assign("switchpoint", StepKind::Slice));
    assert!(e.contains("`switchpoint`"), "{e}");
    let e = assignment_error(base().assign("late_rate", StepKind::BinaryGibbs));
    assert!(e.contains("`late_rate` is continuous"), "{e}");
    let e = assignment_error(base().assign("switchpoint", StepKind::BinaryGibbs));
    assert!(e.contains("`switchpoint` is not a {0, 1} variable"), "{e}");

    let e = latent_count::model(&[1.0])
        .unwrap()
        .sample(Compound::new(Nuts::default()).assign("k", StepKind::CategoricalGibbs))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`k` has an unbounded range"), "{e}");

    // Plain NUTS refuses discrete variables and points to compound sampling.
    let model = coal_mining::model(&COUNTS, FIRST_YEAR).unwrap();
    let e = model.sample(Nuts::default()).unwrap_err().to_string();
    assert!(e.contains("switchpoint") && e.contains("Compound"), "{e}");
    let e = model
        .sample(Compound::new(Nuts::default()).tune_interval(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("tuning interval"), "{e}");
}

#[test]
fn compound_runs_are_reproducible_and_write_output() {
    let y = mixture_data();
    let model = mixture_with_assignments::model(&y).unwrap();
    let settings = |threads| {
        Compound::new(
            Nuts::default()
                .chains(3)
                .draws(150)
                .tune(150)
                .seed(42)
                .threads(threads)
                .keep_warmup(true)
                .progress(false),
        )
        .assign("w", StepKind::Slice)
        .assign("mu", StepKind::Metropolis)
    };
    let one = model.sample(settings(1)).unwrap();
    let three = model.sample(settings(3)).unwrap();
    assert_eq!(one.chains().len(), 3);
    for (a, b) in one.chains().iter().zip(three.chains()) {
        assert_eq!(a.steps, b.steps);
        // Statistics include NaN (no step size without NUTS): compare their text.
        assert_eq!(format!("{:?}", a.stats), format!("{:?}", b.stats));
        for c in 0..one.num_columns() {
            assert_eq!(a.column(c), b.column(c));
            assert_eq!(a.warmup_column(c), b.warmup_column(c));
        }
    }
    assert_eq!(
        one.step_labels(),
        ["metropolis[mu]", "slice[w]", "binary_gibbs[z]"]
    );
    let chain = &one.chains()[0];
    assert_eq!(chain.steps[0].accept.len(), 150);
    assert_eq!(chain.steps[0].warmup_accept.len(), 150);
    // z values are 0/1, recorded exactly.
    let z = one.samples("z", 0).unwrap();
    assert!(z.iter().all(|c| c.iter().all(|v| *v == 0.0 || *v == 1.0)));

    let dir = std::env::temp_dir().join(format!("ppl-compound-{}", std::process::id()));
    let files = CmdStanCsv::new(&one).write_files(&dir, "mixture").unwrap();
    assert_eq!(files.len(), 3);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let header = text.lines().find(|l| !l.starts_with('#')).unwrap();
    assert!(header.starts_with("lp__,accept_stat__"), "{header}");
    assert!(
        header.contains(
            "energy__,accept_metropolis_mu__,accept_slice_w__,accept_binary_gibbs_z__,mu.1"
        ),
        "{header}"
    );
    assert!(header.contains(",z.40"), "{header}");
    let mut json = Vec::new();
    write_json(&one, &mut json).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert!(parsed.is_object());
    let _ = std::fs::remove_dir_all(&dir);

    println!("{}", one.summary());
}
