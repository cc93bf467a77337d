//! Pathfinder (`model.pathfinder(Pathfinder::default())`): exact on Gaussian targets,
//! the draws as a trace, the paths' reports, and the errors. Its accuracy on the
//! posteriordb set is in `tests/posteriordb_approximations.rs`.

use ppl::infer::{Pathfinder, PathfinderError, VariableKind};
use ppl::prelude::*;

mod approximation_models;
use approximation_models::{correlated, discrete, with_deterministic};

/// Pooled draws of a scalar variable.
fn draws(trace: &Trace, name: &str) -> Vec<f64> {
    trace.samples(name, 0).unwrap()[0].to_vec()
}

#[test]
fn pathfinder_recovers_a_gaussian() {
    let model = correlated::model().unwrap();
    for seed in 0..3 {
        let fit = model.pathfinder(Pathfinder::default().seed(seed)).unwrap();
        // L-BFGS on a quadratic: its inverse-Hessian estimate approaches the covariance
        // (exactly, with exact line searches), and the normal one Newton step on
        // approaches the target, so the importance ratios are nearly constant.
        assert!(fit.pareto_k < 0.5, "seed {seed}: k̂ {}", fit.pareto_k);
        assert_eq!(fit.paths.len(), 4);
        assert!(fit.failed_paths.is_empty());
        let (a, b) = (draws(&fit.trace, "a"), draws(&fit.trace, "b"));
        let n = a.len() as f64;
        assert_eq!(a.len(), 1000);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
        let (ma, mb) = (mean(&a), mean(&b));
        let cov = |x: &[f64], mx: f64, y: &[f64], my: f64| {
            x.iter()
                .zip(y)
                .map(|(x, y)| (x - mx) * (y - my))
                .sum::<f64>()
                / (n - 1.0)
        };
        // Resampled draws repeat some points; 1000 of them have at least the precision
        // of ~500 independent draws here, so 4 s.e. are taken with n/2.
        let se = |var: f64| (var / (n / 2.0)).sqrt();
        assert!(ma.abs() < 4.0 * se(1.0), "seed {seed}: {ma}");
        assert!((mb - 1.0).abs() < 4.0 * se(4.0), "seed {seed}: {mb}");
        // The variance of a sample covariance entry: (Σ_ii Σ_jj + Σ_ij²) / n.
        let cov_se = |sii: f64, sjj: f64, sij: f64| ((sii * sjj + sij * sij) / (n / 2.0)).sqrt();
        assert!((cov(&a, ma, &a, ma) - 1.0).abs() < 4.0 * cov_se(1.0, 1.0, 1.0));
        assert!((cov(&b, mb, &b, mb) - 4.0).abs() < 4.0 * cov_se(4.0, 4.0, 4.0));
        assert!((cov(&a, ma, &b, mb) - 1.6).abs() < 4.0 * cov_se(1.0, 4.0, 1.6));
        for path in &fit.paths {
            assert!(path.iterations >= 1 && path.best_iteration <= path.iterations);
            assert!(path.gradient_evaluations > path.iterations);
            // An ELBO is at most the log normaliser of the potential, ln(2π · 1 · 2 · 0.6)
            // = 2.0188, up to its estimate's noise (25 draws; the maximum over the
            // path's normals is biased upwards).
            assert!(
                path.elbo.is_finite() && path.elbo < 2.0188 + 0.5,
                "{path:?}"
            );
        }
    }
}

#[test]
fn draws_are_a_trace_and_seeds_fix_them() {
    let model = with_deterministic::model(&[0.3, -0.2, 1.1, 0.5, 0.9]).unwrap();
    let settings = Pathfinder::default().seed(5).draws(300).paths(2);
    let fit = model.pathfinder(settings.clone()).unwrap();
    assert_eq!(fit.trace.column_names(), ["mu", "sigma", "theta"]);
    assert_eq!(fit.trace.variables()[2].kind, VariableKind::Deterministic);
    let (mu, sigma, theta) = (
        draws(&fit.trace, "mu"),
        draws(&fit.trace, "sigma"),
        draws(&fit.trace, "theta"),
    );
    assert_eq!(mu.len(), 300);
    for i in 0..300 {
        assert!(sigma[i] > 0.0);
        assert!((theta[i] - mu[i] - sigma[i]).abs() < 1e-12);
        let lp = model.logp(&[mu[i], sigma[i].ln()]).unwrap();
        assert!((fit.trace.chains()[0].stats[i].lp - lp).abs() < 1e-9);
    }
    let again = model.pathfinder(settings.clone()).unwrap();
    assert_eq!(draws(&again.trace, "mu"), mu);
    assert_eq!(again.paths, fit.paths);
    let other = model.pathfinder(settings.seed(6)).unwrap();
    assert_ne!(draws(&other.trace, "mu"), mu);
    // One path: its own draws, no resampling.
    let single = model
        .pathfinder(Pathfinder::default().paths(1).seed(5))
        .unwrap();
    assert_eq!(single.paths.len(), 1);
    assert!(single.pareto_k.is_finite());
}

#[test]
fn errors_are_typed() {
    let err = discrete::model()
        .unwrap()
        .pathfinder(Pathfinder::default())
        .unwrap_err();
    assert_eq!(err, PathfinderError::DiscreteVariables(vec!["k".into()]));
    let model = correlated::model().unwrap();
    let err = model
        .pathfinder(Pathfinder::default().draws(0))
        .unwrap_err();
    assert_eq!(err, PathfinderError::InvalidSetting { name: "draws" });
    let three = vec![vec![0.0, 0.0]; 3];
    let err = model
        .pathfinder(Pathfinder::default().initial_positions(three))
        .unwrap_err();
    assert_eq!(
        err,
        PathfinderError::InitialPositionCount { paths: 4, found: 3 }
    );
    let err = model
        .pathfinder(Pathfinder::default().initial_positions(vec![vec![0.0]]))
        .unwrap_err();
    assert!(
        matches!(err, PathfinderError::Init { path: 0, .. }),
        "{err}"
    );
    // One initial position for every path is fine.
    let fit = model
        .pathfinder(Pathfinder::default().initial_positions(vec![vec![3.0, -2.0]]))
        .unwrap();
    assert_eq!(fit.paths.len(), 4);
    let wrapped: ppl::Error = PathfinderError::InvalidSetting { name: "paths" }.into();
    assert!(wrapped.to_string().contains("paths"));
}
