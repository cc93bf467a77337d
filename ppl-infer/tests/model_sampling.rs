//! Sampling a `ppl_core::Model` through `Sample::sample`: eight schools (non-centred),
//! written as the template `#[model]` generates, against the posteriordb reference.

use ppl_core::context::api::{self, NoShape, Shape};
use ppl_core::dist::{HalfCauchy, Normal};
use ppl_core::{Context, Model, ModelTemplate, Real};
use ppl_infer::{
    sample_target, LogDensity, Nuts, Sample, SampleError, SampleTarget, TraceVariable, VariableKind,
};
use std::ops::{Add, Div, Mul, Sub};

const Y: [f64; 8] = [28., 8., -3., 7., -1., 1., 18., 12.];
const SIGMA: [f64; 8] = [15., 10., 16., 11., 9., 11., 10., 18.];

/// `mu ~ N(0, 5)`, `tau ~ HalfCauchy(5)`, `theta_raw ~ N(0, 1)`, `theta = mu + tau ·
/// theta_raw`, `y ~ N(theta, sigma)`.
struct EightSchools;

impl ModelTemplate for EightSchools {
    type Output<R: Real> = ();
    fn name(&self) -> &'static str {
        "eight_schools_noncentered"
    }
    fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
        let tau: R = api::sample(ctx, "tau", HalfCauchy::new(5.0), NoShape, None);
        let raw: Vec<R> = api::sample(ctx, "theta_raw", Normal::new(0.0, 1.0), Shape(8), None);
        let theta: Vec<R> = raw.iter().map(|t| mu + tau * *t).collect();
        api::deterministic(ctx, "theta", &theta);
        api::observe(ctx, "y", Normal::new(&theta, &SIGMA[..]), &Y[..]);
    }
}

/// posteriordb `eight_schools-eight_schools_noncentered`: (name, mean, mcse of the mean).
const REFERENCE: [(&str, usize, f64, f64); 10] = [
    ("mu", 0, 4.4105183369549295, 0.0330374705950917),
    ("tau", 0, 3.602059523640593, 0.0318615135640706),
    ("theta", 0, 6.150502293344254, 0.0557375282295219),
    ("theta", 1, 4.939581140742195, 0.0462293788624847),
    ("theta", 2, 3.9059060900158236, 0.0542313705632124),
    ("theta", 3, 4.79601675138494, 0.0474935816762281),
    ("theta", 4, 3.6144363246798967, 0.0461450610244603),
    ("theta", 5, 4.051147578967499, 0.0485195392528031),
    ("theta", 6, 6.317169758868928, 0.0498766794075794),
    ("theta", 7, 4.8839969435328845, 0.0542511606560972),
];

#[test]
fn eight_schools_matches_the_reference_posterior() {
    let model = Model::new(EightSchools).unwrap();
    let trace = model.sample(Nuts::default().seed(1)).unwrap();
    let summary = trace.summary();
    println!("{summary}");

    let names: Vec<(&str, &[usize], VariableKind)> = trace
        .variables()
        .iter()
        .map(|v| (v.name.as_str(), v.shape.as_slice(), v.kind))
        .collect();
    assert_eq!(
        names,
        vec![
            ("mu", &[][..], VariableKind::Parameter),
            ("tau", &[][..], VariableKind::Parameter),
            ("theta_raw", &[8][..], VariableKind::Parameter),
            ("theta", &[8][..], VariableKind::Deterministic),
        ]
    );

    for (name, element, mean, mcse_ref) in REFERENCE {
        let label = if name == "theta" {
            format!("theta[{element}]")
        } else {
            name.to_string()
        };
        let row = summary.row(&label).unwrap();
        let tolerance = 4.0 * (mcse_ref * mcse_ref + row.mcse_mean * row.mcse_mean).sqrt();
        assert!(
            (row.mean - mean).abs() < tolerance,
            "{label}: {} vs reference {mean} (tolerance {tolerance})",
            row.mean
        );
        assert!(row.r_hat < 1.01, "{label}: R-hat {}", row.r_hat);
    }

    // Draws are in the constrained space, and deterministics agree with the parameters.
    for chain in 0..trace.chains().len() {
        for draw in [0, 499, 999] {
            let p = trace.point(chain, draw).unwrap();
            let mu = p.get("mu").unwrap().values[0];
            let tau = p.get("tau").unwrap().values[0];
            assert!(tau > 0.0);
            let raw = &p.get("theta_raw").unwrap().values;
            let theta = &p.get("theta").unwrap();
            assert_eq!(theta.shape, vec![8]);
            for (t, r) in theta.values.iter().zip(raw) {
                assert!((t - (mu + tau * r)).abs() < 1e-12);
            }
        }
    }
    assert!(trace.gradient_evaluations() > trace.leapfrog_steps());
}

/// A target that declares a discrete variable.
struct WithDiscrete;

impl LogDensity for WithDiscrete {
    fn dim(&self) -> usize {
        1
    }
    fn logp(&self, _: &[f64]) -> ppl_core::Result<f64> {
        Ok(0.0)
    }
    fn logp_grad(&self, _: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
        g[0] = 0.0;
        Ok(0.0)
    }
}

impl SampleTarget for WithDiscrete {
    fn initial_position(&self, _: &mut dyn rand::RngCore) -> Result<Vec<f64>, ppl_core::Error> {
        Ok(vec![0.0])
    }
    fn check_position(&self, _: &[f64]) -> Result<(), ppl_core::Error> {
        Ok(())
    }
    fn variables(&self) -> Vec<TraceVariable> {
        Vec::new()
    }
    fn record(&self, _: &[f64], _: &mut [f64]) -> Result<(), ppl_core::Error> {
        Ok(())
    }
    fn discrete_variables(&self) -> Vec<String> {
        vec!["k".into()]
    }
}

#[test]
fn nuts_refuses_discrete_variables() {
    let err = sample_target(&WithDiscrete, Nuts::default()).unwrap_err();
    assert!(matches!(&err, SampleError::DiscreteVariables(v) if v == &["k".to_string()]));
    assert!(err.to_string().contains("compound"), "{err}");
}
