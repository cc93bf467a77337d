//! The model runtime driven by hand-written templates (what `#[model]` generates):
//! PyMC's reference numbers, gradients, transforms, structure checks and bad input.

use ppl_core::context::api::{self, NoShape, Shape};
use ppl_core::context::inference::Accumulators;
use ppl_core::dist::Normal;
use ppl_core::{Context, Error, Model, ModelTemplate, Point, Real, Transform};
use std::cell::Cell;
use std::ops::{Add, Div, Mul, Sub};

/// `z ~ Normal(0, 5)`, `x ~ Normal(z, 1)` observed at 5 (the PyMC developer guide's model).
struct ZX;
impl ModelTemplate for ZX {
    type Output<R: Real> = R;
    fn name(&self) -> &'static str {
        "zx"
    }
    fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        let z: R = api::sample(ctx, "z", Normal::new(0.0, 5.0), NoShape, None);
        api::observe(ctx, "x", Normal::new(z, 1.0), 5.0);
        z * 2.0
    }
}

#[test]
fn pymc_reference_numbers() {
    let model = Model::new(ZX).unwrap();
    assert_eq!(model.dim(), 1);
    let point = Point::new().with("z", 2.5);
    let lp = model.logp_at(&point, false).unwrap();
    // The guide's numbers are printed from float32 computations: 8 significant digits.
    assert!((lp - -6.6973152).abs() < 5e-7, "{lp}");
    let u = model.unconstrain(&point).unwrap();
    let eval = model
        .evaluate(
            &u,
            Accumulators {
                pointwise: true,
                ..Accumulators::default()
            },
        )
        .unwrap();
    assert!((eval.log_prior - -2.65337645).abs() < 1e-8);
    assert!((eval.log_likelihood - -4.0439386).abs() < 5e-7);
    assert_eq!(
        eval.pointwise,
        vec![("x".to_string(), vec![eval.log_likelihood])]
    );
    assert_eq!(model.output(&u).unwrap(), 5.0);
}

/// `x ~ Normal(0, 1)`.
struct StdNormal;
impl ModelTemplate for StdNormal {
    type Output<R: Real> = ();
    fn name(&self) -> &'static str {
        "std_normal"
    }
    fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        let _x: R = api::sample(ctx, "x", Normal::new(0.0, 1.0), NoShape, None);
    }
}

#[test]
fn standard_normal_at_five() {
    let model = Model::new(StdNormal).unwrap();
    assert_eq!(model.logp(&[5.0]).unwrap(), -13.418938533204672);
}

/// A hierarchical model with a positive scale (lower-bound transform), a vector
/// variable, deterministic and potential.
struct Hier<'a> {
    y: &'a [f64],
}
impl ModelTemplate for Hier<'_> {
    type Output<R: Real> = ();
    fn name(&self) -> &'static str {
        "hier"
    }
    fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
        let tau: R = api::sample(
            ctx,
            "tau",
            Normal::new(0.0, 5.0),
            NoShape,
            Some(Transform::lower(0.0)),
        );
        let raw: Vec<R> = api::sample(ctx, "raw", Normal::new(0.0, 1.0), Shape(self.y.len()), None);
        let theta: Vec<R> = raw.iter().map(|r| mu + tau * *r).collect();
        api::deterministic(ctx, "theta", &theta);
        api::potential(ctx, "soft", -0.5 * (mu * mu) / 100.0);
        api::observe(ctx, "y", Normal::new(&theta, 2.0), self.y);
    }
}

fn fd_gradient<F: Fn(&[f64]) -> f64>(f: F, u: &[f64]) -> Vec<f64> {
    (0..u.len())
        .map(|i| {
            let h = 1e-6 * u[i].abs().max(1.0);
            let mut p = u.to_vec();
            let mut m = u.to_vec();
            p[i] += h;
            m[i] -= h;
            (f(&p) - f(&m)) / (2.0 * h)
        })
        .collect()
}

#[test]
fn gradient_tape_forward_and_finite_differences_agree() {
    let y = [1.0, -0.5, 2.0, 0.3];
    let model = Model::new(Hier { y: &y }).unwrap();
    assert_eq!(model.dim(), 6);
    let u = [0.3, -0.2, 0.5, -1.0, 0.1, 0.7];
    let mut g_tape = vec![0.0; 6];
    let mut g_fwd = vec![0.0; 6];
    let lp1 = model.logp_grad(&u, &mut g_tape).unwrap();
    let lp2 = model.logp_grad_forward(&u, &mut g_fwd).unwrap();
    let lp3 = model.logp(&u).unwrap();
    assert!((lp1 - lp3).abs() < 1e-12 && (lp2 - lp3).abs() < 1e-12);
    let g_fd = fd_gradient(|v| model.logp(v).unwrap(), &u);
    for i in 0..6 {
        assert!(
            (g_tape[i] - g_fwd[i]).abs() < 1e-10,
            "{i}: {} vs {}",
            g_tape[i],
            g_fwd[i]
        );
        assert!(
            (g_tape[i] - g_fd[i]).abs() < 1e-6,
            "{i}: {} vs {}",
            g_tape[i],
            g_fd[i]
        );
    }
    // Hessian by hyper-duals against finite differences of the tape gradient.
    let h = model.hessian(&u).unwrap();
    for i in 0..6 {
        let col = fd_gradient(
            |v| {
                let mut g = vec![0.0; 6];
                model.logp_grad(v, &mut g).unwrap();
                g[i]
            },
            &u,
        );
        for j in 0..6 {
            assert!(
                (h[i][j] - col[j]).abs() < 1e-5,
                "H[{i}][{j}] {} vs {}",
                h[i][j],
                col[j]
            );
        }
    }
}

#[test]
fn accumulators_and_jacobian() {
    let y = [1.0, -0.5];
    let model = Model::new(Hier { y: &y }).unwrap();
    let u = [0.3, -0.2, 0.5, -1.0];
    let e = model
        .evaluate(
            &u,
            Accumulators {
                deterministics: true,
                per_variable: true,
                ..Accumulators::default()
            },
        )
        .unwrap();
    // tau = exp(-0.2): the log-Jacobian of the lower-bound transform is u itself.
    assert!((e.log_jacobian - -0.2).abs() < 1e-15);
    assert!(
        (e.total - (e.log_prior + e.log_likelihood + e.log_jacobian + e.log_potential)).abs()
            < 1e-12
    );
    let tau = (-0.2f64).exp();
    assert_eq!(e.deterministics[0].0, "theta");
    assert!((e.deterministics[0].1[1] - (0.3 - tau)).abs() < 1e-15);
    let names: Vec<&str> = e.per_variable.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["mu", "tau", "raw", "soft", "y"]);
    let no_jac = model
        .evaluate(
            &u,
            Accumulators {
                jacobian: false,
                ..Accumulators::default()
            },
        )
        .unwrap();
    assert!((e.total - no_jac.total - -0.2).abs() < 1e-12);
}

#[test]
fn constrain_unconstrain_round_trip_and_conditioning() {
    let y = [1.0, -0.5, 2.0];
    let model = Model::new(Hier { y: &y }).unwrap();
    let u = [0.3, -0.2, 0.5, -1.0, 0.1];
    let p = model.constrain(&u).unwrap();
    assert!((p.get("tau").unwrap().values[0] - (-0.2f64).exp()).abs() < 1e-15);
    assert_eq!(p.get("raw").unwrap().shape, vec![3]);
    let back = model.unconstrain(&p).unwrap();
    for (a, b) in u.iter().zip(&back) {
        assert!((a - b).abs() < 1e-12);
    }
    // Condition on tau: the unconstrained vector loses one dimension, and the density at
    // the remaining coordinates equals the full density without tau's Jacobian.
    let lp_full = model.logp(&u).unwrap();
    let conditioned = model
        .condition(&Point::new().with("tau", (-0.2f64).exp()))
        .unwrap();
    assert_eq!(conditioned.dim(), 4);
    let lp_cond = conditioned.logp(&[0.3, 0.5, -1.0, 0.1]).unwrap();
    assert!((lp_full - (-0.2) - lp_cond).abs() < 1e-12);
}

#[test]
fn bad_input_dimension_and_point() {
    let model = Model::new(ZX).unwrap();
    assert!(matches!(
        model.logp(&[1.0, 2.0]),
        Err(Error::Dimension {
            expected: 1,
            found: 2
        })
    ));
    let err = model.unconstrain(&Point::new()).unwrap_err();
    assert!(err.to_string().contains("missing variable `z`"), "{err}");
    let err = model
        .condition(&Point::new().with("nope", 1.0))
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

/// Observations given as data with configurable problems.
struct Observe<'a> {
    sigma: f64,
    data: &'a [f64],
    mu_len: usize,
}
impl ModelTemplate for Observe<'_> {
    type Output<R: Real> = ();
    fn name(&self) -> &'static str {
        "observe"
    }
    fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        let mu: Vec<R> = api::sample(ctx, "mu", Normal::new(0.0, 1.0), Shape(self.mu_len), None);
        api::observe(ctx, "y", Normal::new(&mu, self.sigma), self.data);
    }
}

#[test]
fn bad_data_and_parameters_are_named_errors() {
    let ok = [1.0, 2.0];
    let nan = [1.0, f64::NAN];
    let inf = [f64::INFINITY, 1.0];
    let err = Model::new(Observe {
        sigma: 1.0,
        data: &nan,
        mu_len: 2,
    })
    .unwrap_err();
    assert!(
        matches!(&err, Error::NonFiniteData { variable, index: 1, value } if variable == "y" && value.is_nan()),
        "{err}"
    );
    assert!(
        err.to_string().contains("`y`") && err.to_string().contains("index 1"),
        "{err}"
    );
    let err = Model::new(Observe {
        sigma: 1.0,
        data: &inf,
        mu_len: 2,
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("`y`") && err.to_string().contains("index 0"),
        "{err}"
    );
    let err = Model::new(Observe {
        sigma: 1.0,
        data: &ok,
        mu_len: 3,
    })
    .unwrap_err();
    assert!(
        matches!(&err, Error::Shape { variable, distribution: "Normal", argument: "mu", found: 3, expected: 2 } if variable == "y"),
        "{err}"
    );
    let err = Model::new(Observe {
        sigma: -1.0,
        data: &ok,
        mu_len: 2,
    })
    .unwrap_err();
    assert!(
        matches!(&err, Error::Param { variable, source } if variable == "y" && source.parameter == "sigma"),
        "{err}"
    );
    assert!(
        err.to_string().contains("`sigma` must be positive, got -1"),
        "{err}"
    );
    let err = Model::new(Observe {
        sigma: 1.0,
        data: &[],
        mu_len: 2,
    })
    .unwrap_err();
    assert_eq!(
        err,
        Error::EmptyData {
            variable: "y".into()
        }
    );
    assert!(Model::new(Observe {
        sigma: 1.0,
        data: &ok,
        mu_len: 2
    })
    .is_ok());
}

/// A model whose variables change between passes (counts its runs).
struct Shifty {
    runs: Cell<usize>,
    change_name: bool,
}
impl ModelTemplate for Shifty {
    type Output<R: Real> = ();
    fn name(&self) -> &'static str {
        "shifty"
    }
    fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        let run = self.runs.get();
        self.runs.set(run + 1);
        if self.change_name && run > 0 {
            let _b: R = api::sample(ctx, "b", Normal::new(0.0, 1.0), NoShape, None);
        } else if !self.change_name && run > 0 {
            let _a: Vec<R> = api::sample(ctx, "a", Normal::new(0.0, 1.0), Shape(run + 1), None);
        } else {
            let _a: R = api::sample(ctx, "a", Normal::new(0.0, 1.0), NoShape, None);
        }
    }
}

#[test]
fn variables_changing_between_passes_are_errors_naming_the_variable() {
    let err = Model::new(Shifty {
        runs: Cell::new(0),
        change_name: true,
    })
    .unwrap_err();
    assert!(
        matches!(&err, Error::Structure { variable, .. } if variable == "b"),
        "{err}"
    );
    assert!(err.to_string().contains("where `a` was expected"), "{err}");
    let err = Model::new(Shifty {
        runs: Cell::new(0),
        change_name: false,
    })
    .unwrap_err();
    assert!(
        matches!(&err, Error::Structure { variable, detail } if variable == "a" && detail.contains("shape changed")),
        "{err}"
    );
}

/// A model with zero density everywhere: an impossible potential.
struct Impossible;
impl ModelTemplate for Impossible {
    type Output<R: Real> = ();
    fn name(&self) -> &'static str {
        "impossible"
    }
    fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    where
        f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    {
        let a: R = api::sample(ctx, "alpha", Normal::new(0.0, 1.0), NoShape, None);
        api::potential(ctx, "wall", a * 0.0 + f64::NEG_INFINITY);
    }
}

#[test]
fn initial_point_failure_reports_a_per_variable_table() {
    let model = Model::new(Impossible).unwrap();
    let mut rng = ppl_core::model::rng_for(1, 0);
    let err = model.initial_point(&mut rng).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Init { attempts: 100, .. }));
    assert!(
        msg.contains("alpha") && msg.contains("wall") && msg.contains("-inf"),
        "{msg}"
    );
    let ok = Model::new(ZX).unwrap();
    let u = ok.initial_point(&mut rng).unwrap();
    assert!(u[0] > -2.0 && u[0] < 2.0);
}

#[test]
fn prior_draws_are_reproducible_and_include_observed() {
    let model = Model::new(ZX).unwrap();
    let a = model
        .prior_draw(&mut ppl_core::model::rng_for(7, 3))
        .unwrap();
    let b = model
        .prior_draw(&mut ppl_core::model::rng_for(7, 3))
        .unwrap();
    assert_eq!(a, b);
    assert!(a.observed.get("x").is_some());
    // Prior predictive of x given z has sd 1 around z: a loose sanity bound.
    let mut rng = ppl_core::model::rng_for(11, 0);
    let n = 4000;
    let (mut sz, mut sx) = (0.0, 0.0);
    for _ in 0..n {
        let d = model.prior_draw(&mut rng).unwrap();
        sz += d.variables.get("z").unwrap().values[0].powi(2);
        sx += (d.observed.get("x").unwrap().values[0] - d.variables.get("z").unwrap().values[0])
            .powi(2);
    }
    // var(z) = 25, var(x − z) = 1; standard errors ≈ 25·√(2/n) and √(2/n).
    assert!((sz / n as f64 - 25.0).abs() < 5.0 * 25.0 * (2.0 / n as f64).sqrt());
    assert!((sx / n as f64 - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt());
}
