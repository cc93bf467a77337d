//! What `#[model]` generates, observed through the runtime: variable names, shapes, observed
//! data, deterministics, potentials and return values end up where the macro docs say.

use ppl::prelude::*;

#[model]
fn named(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    let z = sample!(Normal::new(0.0, 1.0), shape = 3, name = "zeta");
    let s: Vec<Real> = z.iter().map(|zi| mu + *zi).collect();
    deterministic!(s);
    deterministic!("double_mu", mu * 2.0);
    potential!(mu * 0.0);
    potential!("soft", -(mu * mu));
    observe!(Normal::new(mu, 1.0), y);
    observe!(Normal::new(mu, 1.0), y[0], name = "first");
}

#[test]
fn names_come_from_bindings_options_and_data() {
    let model = named::model(&[0.5, 1.0]).unwrap();
    assert_eq!(model.name(), "named");
    let layout = model.layout();
    let variables: Vec<(&str, &[usize])> = layout
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.shape.as_slice()))
        .collect();
    assert_eq!(variables, [("mu", &[][..]), ("zeta", &[3][..])]);
    let observed: Vec<&str> = layout.observed.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(observed, ["y", "first"]);
    let deterministics: Vec<&str> = layout
        .deterministics
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(deterministics, ["s", "double_mu"]);
    assert_eq!(layout.potentials, ["potential_0", "soft"]);
    assert_eq!(model.dim(), 4);
}

#[model]
fn with_output(n: usize) -> Vec<Real> {
    let a = sample!(Normal::new(0.0, 1.0));
    (0..n).map(|i| a * i as f64).collect()
}

#[test]
fn a_model_returns_its_value() {
    let model = with_output::model(3).unwrap();
    let out: Vec<f64> = model.output(&[2.0]).unwrap();
    assert_eq!(out, vec![0.0, 2.0, 4.0]);
}

#[real_fn]
fn square(v: Real) -> Real {
    v * v
}

#[model]
fn squared_prior(y: &[f64]) {
    let a = sample!(Normal::new(0.0, 1.0));
    potential!("square", -square(a));
    observe!(Normal::new(a, 1.0), y);
}

#[test]
fn real_fn_helpers_work_with_f64_and_in_models() {
    assert_eq!(square(3.0_f64), 9.0);
    let model = squared_prior::model(&[0.0]).unwrap();
    let mut grad = vec![0.0];
    let lp = model.logp_grad(&[1.0], &mut grad).unwrap();
    // d/da [-a² - a²/2 - (0 - a)²/2] at a = 1 is -2 - 1 - 1.
    assert!((grad[0] - -4.0).abs() < 1e-9, "gradient {}", grad[0]);
    assert!(lp.is_finite());
}
