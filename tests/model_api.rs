//! `#[model]` end to end: reference numbers, options, returned values, bad input.

use ppl::context::inference::Accumulators;
use ppl::prelude::*;

#[model]
fn z_and_x(x: f64) {
    let z = sample!(Normal::new(0.0, 5.0));
    observe!(Normal::new(z, 1.0), x);
}

#[test]
fn pymc_guide_numbers_through_the_macro() {
    let model = z_and_x::model(5.0).unwrap();
    let point = Point::new().with("z", 2.5);
    // The guide prints float32 results to 8 significant digits.
    assert!((model.logp_at(&point, false).unwrap() - -6.6973152).abs() < 5e-7);
    let u = model.unconstrain(&point).unwrap();
    let e = model.evaluate(&u, Accumulators::default()).unwrap();
    assert!((e.log_prior - -2.65337645).abs() < 1e-8);
    assert!((e.log_likelihood - -4.0439386).abs() < 5e-7);
}

#[model]
fn standard_normal() {
    let _x = sample!(Normal::new(0.0, 1.0));
}

#[test]
fn standard_normal_at_five() {
    let model = standard_normal::model().unwrap();
    assert_eq!(model.logp(&[5.0]).unwrap(), -13.418938533204672);
}

#[real_fn]
fn inv_logit(v: Real) -> Real {
    1.0 / (1.0 + (-v).exp())
}

/// Uses every option: names, shapes, a transform whose bound is another variable,
/// deterministics, potentials, a returned value and a `#[real_fn]` helper.
#[model]
fn everything(y: &[f64]) -> Vec<Real> {
    let lo = sample!(Normal::new(0.0, 1.0));
    let above = sample!(Normal::new(0.0, 3.0), transform = Transform::lower(lo));
    let w = sample!(Normal::new(0.0, 1.0), shape = 3, name = "weights");
    let p = inv_logit(above - lo);
    deterministic!("p", p);
    potential!("pull", -0.5 * (w[0] * w[0]));
    let mu: Vec<Real> = y.iter().map(|yi| w[1] + w[2] * *yi).collect();
    observe!(Normal::new(&mu, 1.0), y, name = "obs");
    mu
}

#[test]
fn a_model_prints_its_structure_as_a_table() {
    let model = everything::model(&[0.5, -1.0, 2.0]).unwrap();
    let want = "\
model `everything`
variable       distribution  shape     transform          position
lo             Normal        scalar    identity           u[0]
above          Normal        scalar    lower bound (log)  u[1]
weights        Normal        [3]       identity           u[2..5]

observed       distribution  values
obs            Normal        3 values

deterministic  shape
p              scalar

potentials: pull

5 unconstrained dimensions (u)";
    assert_eq!(model.to_string(), want);
    // A conditioned variable leaves the vector; the others move up.
    let conditioned = model.condition(&Point::new().with("lo", 0.1)).unwrap();
    let text = conditioned.to_string();
    assert!(text.contains("lo             Normal        scalar    identity           conditioned"));
    assert!(text.contains("weights        Normal        [3]       identity           u[1..4]"));
    assert!(text.ends_with("4 unconstrained dimensions (u)"), "{text}");
}

#[test]
fn options_and_parameter_dependent_bounds() {
    let y = [0.5, -1.0, 2.0];
    let model = everything::model(&y).unwrap();
    let names: Vec<&str> = model
        .layout()
        .variables
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(names, ["lo", "above", "weights"]);
    assert_eq!(model.layout().variable("weights").unwrap().shape, vec![3]);
    assert_eq!(model.layout().observed[0].name, "obs");
    assert_eq!(model.layout().deterministics[0].0, "p");
    assert_eq!(model.layout().potentials, ["pull"]);
    let u = [0.4, -0.3, 0.1, 0.2, 0.3];
    let point = model.constrain(&u).unwrap();
    let above = point.get("above").unwrap().values[0];
    assert!((above - (0.4 + (-0.3f64).exp())).abs() < 1e-15);
    // The bound depends on `lo`: gradients flow through it (tape vs finite differences).
    let mut g = vec![0.0; 5];
    model.logp_grad(&u, &mut g).unwrap();
    for i in 0..5 {
        let h = 1e-6;
        let (mut p, mut m) = (u.to_vec(), u.to_vec());
        p[i] += h;
        m[i] -= h;
        let fd = (model.logp(&p).unwrap() - model.logp(&m).unwrap()) / (2.0 * h);
        assert!((fd - g[i]).abs() < 1e-6, "{i}: {fd} vs {}", g[i]);
    }
    let mu = model.output(&u).unwrap();
    assert!((mu[1] - (0.2 - 0.3)).abs() < 1e-15);
    let e = model
        .evaluate(
            &u,
            Accumulators {
                deterministics: true,
                ..Accumulators::default()
            },
        )
        .unwrap();
    let expected_p = 1.0 / (1.0 + (-(-0.3f64).exp()).exp());
    assert!((e.deterministics[0].1[0] - expected_p).abs() < 1e-15);
    assert!((e.log_potential - -0.5 * 0.01).abs() < 1e-15);
}

#[model]
fn regression(x: &[f64], y: &[f64]) {
    let a = sample!(Normal::new(0.0, 1.0));
    let b = sample!(Normal::new(0.0, 1.0));
    let s = sample!(HalfNormal::new(1.0));
    let mu: Vec<Real> = x.iter().map(|xi| a + b * *xi).collect();
    observe!(Normal::new(&mu, s), y);
}

#[test]
fn bad_data_is_reported_with_the_variable_name() {
    let x = [1.0, 2.0, 3.0];
    let err = regression::model(&x, &[1.0, f64::NAN, 2.0]).unwrap_err();
    assert!(
        matches!(&err, ModelError::NonFiniteData { variable, index: 1, .. } if variable == "y"),
        "{err}"
    );
    let err = regression::model(&x, &[1.0, 2.0]).unwrap_err();
    assert!(
        matches!(&err, ModelError::Shape { variable, distribution: "Normal", argument: "mu", found: 3, expected: 2 } if variable == "y"),
        "{err}"
    );
    let err = regression::model(&x, &[]).unwrap_err();
    assert!(
        matches!(
            &err,
            ModelError::Shape { .. } | ModelError::EmptyData { .. }
        ),
        "{err}"
    );
    assert!(regression::model(&x, &[1.0, 2.0, 3.0]).is_ok());
}

#[model]
fn bad_constant(sigma: f64) {
    let _m = sample!(Normal::new(0.0, sigma));
}

#[test]
fn invalid_constant_parameters_are_errors() {
    let err = bad_constant::model(-2.0).unwrap_err();
    assert!(
        matches!(&err, ModelError::Param { variable, .. } if variable == "_m"),
        "{err}"
    );
    assert!(err.to_string().contains("sigma"), "{err}");
    let err = bad_constant::model(f64::NAN).unwrap_err();
    assert!(err.to_string().contains("must be finite"), "{err}");
}

#[model]
fn loop_with_shared_name(n: usize) {
    for _ in 0..n {
        let _v = sample!(Normal::new(0.0, 1.0), name = "v");
    }
}

#[test]
fn a_name_repeated_at_run_time_is_an_error() {
    assert!(loop_with_shared_name::model(1).is_ok());
    let err = loop_with_shared_name::model(2).unwrap_err();
    assert!(
        matches!(&err, ModelError::Structure { variable, .. } if variable == "v"),
        "{err}"
    );
}

#[model]
fn out_of_support_parameter() {
    let m = sample!(Normal::new(0.25, 0.01));
    // sigma = 1 − m is positive in every prior draw, negative for m > 1 during inference:
    // there the density is zero (−∞), not an error.
    observe!(Normal::new(0.0, 1.0 - m), 0.5, name = "obs");
}

#[test]
fn invalid_parameters_during_inference_give_minus_infinity() {
    let model = out_of_support_parameter::model().unwrap();
    assert_eq!(model.logp(&[2.0]).unwrap(), f64::NEG_INFINITY);
    let mut g = [0.0];
    assert_eq!(model.logp_grad(&[2.0], &mut g).unwrap(), f64::NEG_INFINITY);
    assert!(model.logp(&[0.3]).unwrap().is_finite());
    // The per-variable table names the term that made the density −∞.
    let table = model.log_density_table(&[2.0]).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.trim_start().starts_with("obs") && l.contains("-inf")),
        "{table}"
    );
}

#[model]
fn positive_scale(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    let sigma = sample!(HalfNormal::new(1.0));
    observe!(Normal::new(mu, sigma), y);
}

#[test]
fn points_outside_the_support_are_refused_by_name() {
    let model = positive_scale::model(&[0.5, 1.5]).unwrap();
    let ok = Point::new().with("mu", 0.3).with("sigma", 2.0);
    assert_eq!(model.unconstrain(&ok).unwrap(), vec![0.3, 2.0f64.ln()]);
    for (mu, sigma, bad) in [
        (0.3, -1.0, "sigma"),
        (0.3, 0.0, "sigma"),
        (f64::NAN, 1.0, "mu"),
    ] {
        let point = Point::new().with("mu", mu).with("sigma", sigma);
        let err = model.unconstrain(&point).unwrap_err();
        assert!(
            matches!(&err, ppl::ModelError::Point(m) if m.contains(&format!("`{bad}`"))),
            "{err}"
        );
        assert!(model.logp_at(&point, true).is_err());
    }
    // Conditioning on a value outside the support names the variable.
    let model = positive_scale::model(&[0.5, 1.5]).unwrap();
    let err = model
        .condition(&Point::new().with("sigma", -1.0))
        .unwrap_err();
    assert!(
        matches!(&err, ppl::ModelError::Point(m) if m.contains("`sigma`") && m.contains("-1")),
        "{err}"
    );
}

#[model]
fn sometimes(flag: f64) {
    let x = sample!(Normal::new(0.0, 1.0));
    if x > flag {
        let _a = sample!(HalfNormal::new(1.0));
    }
}

#[test]
fn a_point_where_the_model_takes_another_path_is_refused() {
    // flag = −100: the forward pass samples `_a`; at x = −200 the model skips it.
    let model = sometimes::model(-100.0).unwrap();
    let point = Point::new().with("x", -200.0).with("_a", 5.0);
    let err = model.unconstrain(&point).unwrap_err();
    assert!(
        matches!(&err, ppl::ModelError::Structure { variable, .. } if variable == "_a"),
        "{err}"
    );
    // Prior draws that take the other path are refused too (x > −100 almost always,
    // so a draw with x below it would be rare: use flag = 0, half the draws skip `_a`).
    let model = sometimes::model(0.0).unwrap();
    let mut rng = ppl::model::rng_for(3, 0);
    let results: Vec<bool> = (0..40)
        .map(|_| model.prior_draw(&mut rng).is_ok())
        .collect();
    assert!(
        results.contains(&true) && results.contains(&false),
        "{results:?}"
    );
    for _ in 0..40 {
        if let Err(e) = model.prior_draw(&mut rng) {
            assert!(matches!(e, ppl::ModelError::Structure { .. }), "{e}");
        }
    }
}

#[model]
fn indexes_past_the_end(n: usize) {
    let w = sample!(Normal::new(0.0, 1.0), shape = 2);
    let picked = w[n];
    observe!(Normal::new(picked, 1.0), 0.5, name = "obs");
}

#[test]
fn a_panic_in_the_model_body_is_an_error() {
    assert!(indexes_past_the_end::model(1).is_ok());
    let err = indexes_past_the_end::model(2).unwrap_err();
    assert!(
        matches!(&err, ModelError::Panic { message } if message.contains("index out of bounds")),
        "{err}"
    );
}

#[model]
fn narrower_than_the_support() {
    let a = sample!(Uniform::new(0.0, 1.0));
    // A flat prior restricted to (0, 1 − a), as Stan writes `real<lower=0, upper=1-a> b;`.
    let b = sample!(Flat::new(), transform = Transform::interval(0.0, 1.0 - a));
    observe!(Normal::new(0.0, (1.0 - a - b).sqrt()), 0.1, name = "obs");
}

#[test]
fn prior_draws_respect_an_explicit_transform() {
    let model = narrower_than_the_support::model().unwrap();
    for seed in 0..20 {
        let draw = model.prior_draw(&mut ppl::model::rng_for(seed, 0)).unwrap();
        let a = draw.variables.get("a").unwrap().values[0];
        let b = draw.variables.get("b").unwrap().values[0];
        assert!(b > 0.0 && b < 1.0 - a, "seed {seed}: a = {a}, b = {b}");
    }
}

/// A deterministic between variables, a transformed variable and a conditioned one.
#[model]
fn interleaved() {
    let a = sample!(HalfNormal::new(1.0));
    deterministic!("twice", 2.0 * a);
    let b = sample!(Normal::new(0.0, 1.0), shape = 2);
    let c = sample!(Normal::new(0.0, 1.0));
    let shifted: Vec<Real> = b.iter().map(|x| *x + c).collect();
    deterministic!(shifted);
}

#[test]
fn a_draw_is_recorded_in_one_pass_in_trace_order() {
    let model = interleaved::model()
        .unwrap()
        .condition(&Point::new().with("c", 0.5))
        .unwrap();
    let u = [0.3, -1.0, 2.0];
    // Free variables (a, b) in layout order, then the deterministics; c is fixed.
    let mut out = [0.0; 6];
    model.record_draw_joint(&u, &[], &mut out).unwrap();
    let a = 0.3f64.exp();
    let want = [a, -1.0, 2.0, 2.0 * a, -0.5, 2.5];
    for (got, want) in out.iter().zip(want) {
        assert!((got - want).abs() < 1e-14, "{out:?}");
    }
    // The same values as the named constrained point and the deterministics accumulator.
    let point = model.constrain(&u).unwrap();
    assert_eq!(point.get("a").unwrap().values, [out[0]]);
    assert_eq!(point.get("b").unwrap().values, out[1..3]);
    let e = model
        .evaluate(
            &u,
            Accumulators {
                deterministics: true,
                ..Accumulators::default()
            },
        )
        .unwrap();
    assert_eq!(e.deterministics[0], ("twice".to_string(), vec![out[3]]));
    assert_eq!(
        e.deterministics[1],
        ("shifted".to_string(), out[4..].to_vec())
    );
    // A row of the wrong width is an error, not a panic.
    let err = model.record_draw_joint(&u, &[], &mut [0.0; 5]).unwrap_err();
    assert!(err.to_string().contains('6'), "{err}");
}

/// `potential!` of `ln(mu − 10)`: NaN wherever `mu < 10`.
#[model]
fn nan_potential(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let s = sample!(HalfNormal::new(1.0));
    potential!("p", (mu - 10.0).ln());
    observe!(Normal::new(mu, s), y);
}

#[test]
fn logp_and_logp_grad_agree_at_non_finite_positions() {
    let model = nan_potential::model(&[11.0, 12.0]).unwrap();
    let mut grad = [0.0; 2];
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    for u in [
        [nan, 0.0],
        [0.0, nan],
        [inf, 0.0],
        [0.0, inf],
        [-inf, 0.0],
        [0.0, -inf],
    ] {
        assert_eq!(model.logp(&u).unwrap(), f64::NEG_INFINITY, "{u:?}");
        assert_eq!(
            model.logp_grad(&u, &mut grad).unwrap(),
            f64::NEG_INFINITY,
            "{u:?}"
        );
    }
    // At a finite position the model's own NaN comes back as it is, from both.
    assert!(model.logp(&[0.0, 0.0]).unwrap().is_nan());
    assert!(model.logp_grad(&[0.0, 0.0], &mut grad).unwrap().is_nan());
    let lp = model.logp_grad(&[11.0, 0.0], &mut grad).unwrap();
    assert_eq!(lp, model.logp(&[11.0, 0.0]).unwrap());
    assert!(lp.is_finite() && grad.iter().all(|g| g.is_finite()));
}
