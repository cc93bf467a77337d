//! The Laplace approximation, Pathfinder and full-rank ADVI against posteriordb reference
//! posteriors: where they work (near-Gaussian posteriors of regressions), their means and
//! standard deviations against the reference, and where they do not (the eight-schools
//! funnel, radon's 90-dimensional hierarchy), that the Pareto k̂ of their importance ratios says so.
//!
//! These are approximations, so the bounds are on their error, not Monte-Carlo noise
//! (4000 draws add 0.016 posterior sd to a mean): each bound is two to three times the error
//! measured when the test was written (in the comments; seeds fixed), so a regression in
//! the mode search, the Hessian, the ADVI updates or the transforms fails it. The README
//! lists these and the other posteriors, including the failures of ADVI.

mod posteriordb_models;

use posteriordb_models::{with_posterior, BoxError, PosteriorVisitor, Reference};
use ppl::infer::Pathfinder;
use ppl::prelude::*;

/// The largest `|mean − reference| / reference sd` and `|sd / reference sd − 1|` over
/// the reference parameters.
fn errors(name: &str, trace: &Trace) -> (f64, f64) {
    let reference = Reference::load(name).unwrap();
    let summary = trace.summary();
    let mut worst = (0.0f64, 0.0f64);
    for p in &reference.params {
        let row = summary
            .row(&p.name)
            .unwrap_or_else(|| panic!("{name}: no `{}` in the trace", p.name));
        worst.0 = worst.0.max(((row.mean - p.mean) / p.sd).abs());
        worst.1 = worst.1.max((row.sd / p.sd - 1.0).abs());
    }
    worst
}

/// The Laplace approximation at the mode with the Jacobian: its trace and k̂.
struct Laplace;

impl PosteriorVisitor for Laplace {
    type Output = (Trace, f64);
    fn visit<T: ppl::ModelTemplate + Sync>(
        self,
        model: Model<T>,
    ) -> Result<(Trace, f64), BoxError> {
        let mode = model.find_map(Map::default().jacobian(true).seed(1))?;
        assert!(mode.converged(), "{:?}", mode.stop_reason);
        let laplace = model.laplace(&mode, 4000, 1)?;
        Ok((laplace.trace, laplace.pareto_k))
    }
}

/// Full-rank ADVI: its trace and k̂.
struct FullRank;

impl PosteriorVisitor for FullRank {
    type Output = (Trace, f64);
    fn visit<T: ppl::ModelTemplate + Sync>(
        self,
        model: Model<T>,
    ) -> Result<(Trace, f64), BoxError> {
        let fit = model.fit(Advi::fullrank().seed(1).tol_rel_obj(0.001))?;
        let trace = fit.sample(&model, 4000, 1)?;
        let check = fit.check(&model, 4000, 11)?;
        Ok((trace, check.pareto_k))
    }
}

#[test]
fn laplace_matches_near_gaussian_posteriors() {
    // Measured: kidiq 0.12 sd, 2.4%, k̂ 0.09; low_dim_gauss_mix 0.11, 2.8%, 0.23;
    // diamonds (26 dimensions, strongly correlated) 0.24, 1.7%, 0.22.
    for name in [
        "kidiq-kidscore_momiq",
        "low_dim_gauss_mix-low_dim_gauss_mix",
        "diamonds-diamonds",
    ] {
        let (trace, k) = with_posterior(name, Laplace).unwrap();
        let (mean_error, sd_error) = errors(name, &trace);
        eprintln!(
            "{name}: Laplace mean error {mean_error:.3} sd, sd error {sd_error:.3}, k̂ {k:.2}"
        );
        assert!(mean_error < 0.5, "{name}: means off by {mean_error} sd");
        assert!(sd_error < 0.06, "{name}: sds off by {sd_error}");
        assert!(k < 0.5, "{name}: k̂ {k}");
    }
}

#[test]
fn laplace_flags_a_funnel() {
    // The mode of eight schools (with the Jacobian) sits at small τ; the normal there is
    // far from the posterior (means 13 sd off) and k̂ says so (measured 0.96).
    let name = "eight_schools-eight_schools_noncentered";
    let (trace, k) = with_posterior(name, Laplace).unwrap();
    let (mean_error, _) = errors(name, &trace);
    eprintln!("{name}: Laplace mean error {mean_error:.3} sd, k̂ {k:.2}");
    assert!(mean_error > 1.0);
    assert!(k > 0.7, "k̂ {k}");
}

#[test]
fn fullrank_advi_matches_an_autoregression() {
    // arK (7 dimensions, correlated coefficients). Measured: 0.053 sd, 6.5%, k̂ 0.09.
    let name = "arK-arK";
    let (trace, k) = with_posterior(name, FullRank).unwrap();
    let (mean_error, sd_error) = errors(name, &trace);
    eprintln!(
        "{name}: full-rank ADVI mean error {mean_error:.3} sd, sd error {sd_error:.3}, k̂ {k:.2}"
    );
    assert!(mean_error < 0.15, "means off by {mean_error} sd");
    assert!(sd_error < 0.15, "sds off by {sd_error}");
    assert!(k < 0.5, "k̂ {k}");
}

/// Pathfinder with Stan's defaults (4 paths, 1000 draws): its trace and k̂.
struct PathfinderRun;

impl PosteriorVisitor for PathfinderRun {
    type Output = (Trace, f64);
    fn visit<T: ppl::ModelTemplate + Sync>(
        self,
        model: Model<T>,
    ) -> Result<(Trace, f64), BoxError> {
        let fit = model.pathfinder(Pathfinder::default().seed(1))?;
        assert!(fit.failed_paths.is_empty(), "{:?}", fit.failed_paths);
        Ok((fit.trace, fit.pareto_k))
    }
}

#[test]
fn pathfinder_matches_near_gaussian_posteriors_and_flags_a_hierarchy() {
    // Measured: kidiq 0.041 sd, 1.0%, k̂ 0.33; low_dim_gauss_mix 0.081, 5.8%, 0.24.
    for name in [
        "kidiq-kidscore_momiq",
        "low_dim_gauss_mix-low_dim_gauss_mix",
    ] {
        let (trace, k) = with_posterior(name, PathfinderRun).unwrap();
        let (mean_error, sd_error) = errors(name, &trace);
        eprintln!(
            "{name}: Pathfinder mean error {mean_error:.3} sd, sd error {sd_error:.3}, k̂ {k:.2}"
        );
        assert!(mean_error < 0.2, "{name}: means off by {mean_error} sd");
        assert!(sd_error < 0.15, "{name}: sds off by {sd_error}");
        assert!(k < 0.7, "{name}: k̂ {k}");
    }
    // Radon's hierarchical intercepts: means 2.2 sd off, and k̂ 1.9 says so.
    let name = "radon_mn-radon_hierarchical_intercept_noncentered";
    let (trace, k) = with_posterior(name, PathfinderRun).unwrap();
    let (mean_error, _) = errors(name, &trace);
    eprintln!("{name}: Pathfinder mean error {mean_error:.3} sd, k̂ {k:.2}");
    assert!(k > 0.7, "k̂ {k}");
}
