//! Correctness against the posteriordb reference posteriors: each of the 7 posteriors is
//! sampled with NUTS (4 chains, 1000 warm-up + 1000 draws, fixed seed) and every
//! reference mean must lie within 4·√(mcse_ref² + mcse_ours²) of ours, with max R-hat
//! below 1.01 and no divergences where the reference run had none.
//!
//! The data and references are read from `shared/reference/` beside the checkout. Run
//! with `-- --nocapture` to see the per-parameter tables and timings.

mod posteriordb_models;

use posteriordb_models::{compare, sample_posterior, Reference};
use ppl::prelude::*;
use std::time::Instant;

/// Seed of every run (fixed: the test is deterministic).
const SEED: u64 = 20240521;

/// Samples `name` and checks it against its reference. `allowed_divergences` is 0 where
/// Stan's reference run has none; eight schools and the GP diverge a little under the
/// default target acceptance (0.8) in every system of ANCHORS.md, so they get a small
/// allowance.
fn check(name: &str, allowed_divergences: usize) {
    check_with(
        name,
        Nuts::default().chains(4).seed(SEED),
        allowed_divergences,
    );
}

/// [`check`] with the given sampler settings.
fn check_with(name: &str, nuts: Nuts, allowed_divergences: usize) {
    let start = Instant::now();
    let reference = Reference::load(name).unwrap();
    let trace = sample_posterior(name, nuts).unwrap();
    let comparison = compare(&trace, &reference).unwrap();
    let summary = trace.summary();
    let max_r_hat = summary.max_r_hat();
    let divergences = trace.divergences();
    eprintln!(
        "{name}: {:.1} s (sampling {:.1} s), {} leapfrog steps, max R-hat {max_r_hat:.4} \
         (reference set {:.4}), min bulk ESS {:.0}, {divergences} divergences\n{}",
        start.elapsed().as_secs_f64(),
        trace.wall_time().as_secs_f64(),
        trace.leapfrog_steps(),
        comparison.max_r_hat(),
        comparison.min_ess_bulk(),
        comparison.table()
    );
    let mismatches: Vec<String> = comparison
        .mismatches()
        .iter()
        .map(|p| {
            format!(
                "{}: ours {:.5} ± {:.5}, reference {:.5} ± {:.5}, |diff| {:.5} ≥ tolerance {:.5}",
                p.name,
                p.mean,
                p.mcse_mean,
                p.reference,
                p.reference_mcse,
                (p.mean - p.reference).abs(),
                p.tolerance
            )
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{name}: means off the reference:\n{}",
        mismatches.join("\n")
    );
    assert!(
        max_r_hat < 1.01,
        "{name}: max R-hat {max_r_hat} ≥ 1.01\n{summary}"
    );
    assert!(
        divergences <= allowed_divergences,
        "{name}: {divergences} divergences (allowed {allowed_divergences})"
    );
}

#[test]
fn ark() {
    check("arK-arK", 0);
}

/// With the default metric (`Metric::Auto` keeps a low-rank correction here: 12
/// directions that lower the condition number by four orders of magnitude) diamonds no
/// longer saturates the tree depth (about 450,000 leapfrog steps), which makes a CI
/// check affordable.
#[test]
fn diamonds() {
    check("diamonds-diamonds", 0);
}

/// With the gradient-based diagonal alone diamonds saturates the tree depth (≈2 million
/// leapfrog steps over 5000 × 24 data): about 10 minutes under the test profile; run it
/// with `cargo test --release --test posteriordb -- --ignored`.
#[test]
#[ignore = "about 10 minutes under the test profile"]
fn diamonds_with_the_gradient_diagonal_metric() {
    let nuts = Nuts::default()
        .chains(4)
        .seed(SEED)
        .metric(Metric::GradientDiagonal);
    check_with("diamonds-diamonds", nuts, 0);
}

/// Eight schools diverges a little at the default target acceptance (PyMC 4, nutpie 4,
/// NumPyro 2 of 4000 draws in ANCHORS.md): up to 20 allowed (ours: 3 at this seed).
#[test]
fn eight_schools_noncentered() {
    check("eight_schools-eight_schools_noncentered", 20);
}

#[test]
fn garch11() {
    check("garch-garch11", 0);
}

/// The GP diverges at the default target acceptance in every system of ANCHORS.md
/// (Stan 10, NumPyro 19, PyMC 126, nutpie 220 of 4000 draws); the allowance is 2.5% of
/// the draws. Ours: 29 at this seed (22 before `mat_vec` became one node, which changed
/// the rounding); 113 before the step size was searched afresh for the final window
/// after late warm-up divergences, which this allowance would now catch.
#[test]
fn gp_pois_regr() {
    check("gp_pois_regr-gp_pois_regr", 100);
}

/// kidiq's intercept and IQ slope are strongly correlated (unscaled predictors): with
/// the diagonal metric alone its bulk ESS is only ~700 from 4 × 1000 draws, and at that
/// ESS the rank R-hat of one of its four parameters reaches 1.01 by chance in a few
/// percent of seeds (session 10 drew 2000 per chain here for that reason). The default
/// metric's low-rank correction gives ~5,700.
#[test]
fn kidiq_kidscore_momiq() {
    check("kidiq-kidscore_momiq", 0);
}

#[test]
fn low_dim_gauss_mix() {
    check("low_dim_gauss_mix-low_dim_gauss_mix", 0);
}
