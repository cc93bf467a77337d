//! Predictive sampling: `model.sample_posterior_predictive(&trace, seed)` (draws against
//! closed forms, out-of-sample prediction with a second model, discrete latent
//! variables, warm-up draws, the errors) and `model.sample_prior_predictive(draws,
//! seed)`.

use ppl::infer::VariableKind;
use ppl::prelude::*;

/// `mu ~ Normal(0, 2)`, `y ~ Normal(mu, 1.5)`.
#[model]
fn conjugate(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 2.0));
    observe!(Normal::new(mu, 1.5), y);
}

const Y: [f64; 5] = [1.2, 0.4, 2.9, 1.7, 0.8];

fn nuts(seed: u64) -> Nuts {
    Nuts::default()
        .chains(4)
        .draws(1000)
        .tune(500)
        .seed(seed)
        .progress(false)
}

/// Pooled draws of `name[element]` over the chains.
fn pooled(trace: &Trace, name: &str, element: usize) -> Vec<f64> {
    let chains = trace.samples(name, element).unwrap();
    chains.iter().flat_map(|c| c.iter().copied()).collect()
}

fn mean_and_variance(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

#[test]
fn predictive_draws_follow_the_closed_form() {
    let model = conjugate::model(&Y).unwrap();
    let trace = model
        .sample_posterior_predictive(&model.sample(nuts(21)).unwrap(), 5)
        .unwrap();
    assert_eq!(
        trace.column_names(),
        ["mu", "y[0]", "y[1]", "y[2]", "y[3]", "y[4]"]
    );
    assert_eq!(trace.variables()[1].kind, VariableKind::PosteriorPredictive);
    assert_eq!(trace.variables()[1].shape, [5]);
    let mu = pooled(&trace, "mu", 0);
    let n = mu.len() as f64;

    // Given mu each y is N(mu, 1.5²), independently of the chain's autocorrelation: the
    // residuals y − mu are 4000 independent N(0, 2.25) draws.
    for element in 0..Y.len() {
        let y = pooled(&trace, "y", element);
        let r: Vec<f64> = y.iter().zip(&mu).map(|(y, m)| y - m).collect();
        let (m, v) = mean_and_variance(&r);
        assert!(
            m.abs() < 4.0 * 1.5 / n.sqrt(),
            "element {element}: mean {m}"
        );
        // The sample variance of n normals has standard deviation σ²·√(2/(n − 1)).
        let sd_v = 2.25 * (2.0 / (n - 1.0)).sqrt();
        assert!((v - 2.25).abs() < 4.0 * sd_v, "element {element}: var {v}");
    }

    // The predictive distribution: N(m, s² + 2.25) with the conjugate posterior
    // precision 1/4 + 5/2.25 and mean (Σy / 2.25) / precision; its mean and sd within
    // four of their Monte-Carlo standard errors (the summary's).
    let precision = 0.25 + Y.len() as f64 / 2.25;
    let m = Y.iter().sum::<f64>() / 2.25 / precision;
    let sd = (1.0 / precision + 2.25).sqrt();
    let summary = trace.summary_of(&[VariableKind::PosteriorPredictive]);
    assert!(trace.summary().row("y[0]").is_none()); // the posterior's summary
    for element in 0..Y.len() {
        let row = summary.row(&format!("y[{element}]")).unwrap();
        assert!((row.mean - m).abs() < 4.0 * row.mcse_mean, "{row:?} vs {m}");
        assert!((row.sd - sd).abs() < 4.0 * row.mcse_sd, "{row:?} vs {sd}");
    }
}

#[test]
fn the_same_seed_gives_the_same_draws_and_warmup_draws_get_their_own() {
    let model = conjugate::model(&Y).unwrap();
    let trace = model
        .sample(nuts(2).draws(50).tune(60).keep_warmup(true))
        .unwrap();
    let a = model.sample_posterior_predictive(&trace, 9).unwrap();
    assert_eq!(a, model.sample_posterior_predictive(&trace, 9).unwrap());
    assert_ne!(
        a.samples("y", 0),
        model
            .sample_posterior_predictive(&trace, 10)
            .unwrap()
            .samples("y", 0)
    );
    let column = a.column_index("y", 2).unwrap();
    for chain in a.chains() {
        assert_eq!(chain.column(column).len(), 50);
        assert_eq!(chain.warmup_column(column).map(<[f64]>::len), Some(60));
    }
    // Without kept warm-up draws the draws after warm-up are the same.
    let lean = model.sample(nuts(2).draws(50).tune(60)).unwrap();
    let b = model.sample_posterior_predictive(&lean, 9).unwrap();
    assert_eq!(b.samples("y", 2), a.samples("y", 2));
    assert!(b.chains()[0].warmup_column(column).is_none());
}

/// `y ~ Normal(a + b·x, 0.5)`, the line's values `mu` as a deterministic.
#[model]
fn line(x: &[f64], y: &[f64]) {
    let a = sample!(Normal::new(0.0, 10.0));
    let b = sample!(Normal::new(0.0, 10.0));
    let mu: Vec<Real> = x.iter().map(|xi| a + b * *xi).collect();
    deterministic!(mu);
    observe!(Normal::new(&mu, 0.5), y);
}

#[test]
fn a_trace_predicts_with_a_model_on_new_predictors() {
    let x: Vec<f64> = (0..12).map(|i| i as f64 / 4.0).collect();
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, xi)| 1.0 + 2.0 * xi + 0.4 * ((i * 7 % 5) as f64 - 2.0) / 2.0)
        .collect();
    let fitted = line::model(&x, &y).unwrap();
    let trace = fitted.sample(nuts(4)).unwrap();
    // Three new predictors; the data are placeholders of the right length.
    let x_new = [-1.0, 5.0, 10.0];
    let predictor = line::model(&x_new, &[0.0; 3]).unwrap();
    let out = predictor.sample_posterior_predictive(&trace, 6).unwrap();
    assert_eq!(out.variables().last().unwrap().shape, [3]);
    let (a, b) = (pooled(&out, "a", 0), pooled(&out, "b", 0));
    // The deterministic `mu` is computed again at the new predictors.
    assert_eq!(trace.variables()[2].shape, [12]);
    let names: Vec<&str> = out.variables().iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "mu", "y"]);
    assert_eq!(out.variables()[2].shape, [3]);
    for (element, xn) in x_new.iter().enumerate() {
        let mu = pooled(&out, "mu", element);
        assert!((0..a.len()).all(|k| mu[k] == a[k] + b[k] * xn));
    }
    // With the fitted model itself the recomputed values are the recorded ones.
    let same = fitted.sample_posterior_predictive(&trace, 6).unwrap();
    assert_eq!(same.samples("mu", 11), trace.samples("mu", 11));
    let n = a.len() as f64;
    for (element, xn) in x_new.iter().enumerate() {
        let y_new = pooled(&out, "y", element);
        let r: Vec<f64> = (0..a.len())
            .map(|k| y_new[k] - (a[k] + b[k] * xn))
            .collect();
        let (m, v) = mean_and_variance(&r);
        assert!(m.abs() < 4.0 * 0.5 / n.sqrt(), "x = {xn}: mean {m}");
        assert!(
            (v - 0.25).abs() < 4.0 * 0.25 * (2.0 / (n - 1.0)).sqrt(),
            "x = {xn}: var {v}"
        );
    }
}

/// `k ~ Bernoulli(0.5)` chooses the mean of `y ~ Normal(3k, 1)`.
#[model]
fn switch(y: &[f64]) {
    let k = sample!(Bernoulli::new(0.5));
    observe!(Normal::new(3.0 * k as f64, 1.0), y);
}

#[test]
fn discrete_variables_condition_the_draws() {
    let model = switch::model(&[1.4, 1.6]).unwrap();
    let trace = model.sample(Compound::new(nuts(8))).unwrap();
    let out = model.sample_posterior_predictive(&trace, 1).unwrap();
    let k = pooled(&out, "k", 0);
    assert!(k.contains(&0.0) && k.contains(&1.0), "both states visited");
    let y = pooled(&out, "y", 1);
    let r: Vec<f64> = y.iter().zip(&k).map(|(y, k)| y - 3.0 * k).collect();
    let (m, v) = mean_and_variance(&r);
    let n = r.len() as f64;
    assert!(m.abs() < 4.0 / n.sqrt(), "mean {m}");
    assert!((v - 1.0).abs() < 4.0 * (2.0 / (n - 1.0)).sqrt(), "var {v}");
}

/// `conjugate` with a deterministic called `mu` (the random variable is `m`).
#[model]
fn named_like_mu(y: &[f64]) {
    let m = sample!(Normal::new(0.0, 2.0));
    deterministic!("mu", m);
    observe!(Normal::new(m, 1.5), y);
}

#[test]
fn mismatched_traces_are_refused_with_the_reason() {
    let model = conjugate::model(&Y).unwrap();
    let trace = model.sample(nuts(3).draws(20).tune(20)).unwrap();
    let once = model.sample_posterior_predictive(&trace, 1).unwrap();
    let err = model.sample_posterior_predictive(&once, 1).unwrap_err();
    assert!(
        matches!(&err, SampleError::NameTaken(name) if name == "y"),
        "{err}"
    );

    // A deterministic named like one of the trace's random variables.
    let clash = named_like_mu::model(&Y).unwrap();
    let err = clash.sample_posterior_predictive(&trace, 1).unwrap_err();
    assert!(
        matches!(&err, SampleError::NameTaken(name) if name == "mu"),
        "{err}"
    );

    // A trace of another model: its `mu` is no variable of `switch`.
    let other = switch::model(&[0.0, 1.0]).unwrap();
    let err = other.sample_posterior_predictive(&trace, 1).unwrap_err();
    let SampleError::PerDraw {
        chain: 0,
        draw: 0,
        source,
    } = &err
    else {
        panic!("expected a predictive error, got {err}");
    };
    assert!(source.to_string().contains("`mu`"), "{source}");
    assert!(err.to_string().starts_with("chain 0, draw 0:"));
}

/// `mu ~ Normal(0, 2)`, its double as a deterministic, `y ~ Normal(mu, 1.5)`.
#[model]
fn doubled(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 2.0));
    deterministic!("twice", mu * 2.0);
    observe!(Normal::new(mu, 1.5), y);
}

#[test]
fn prior_predictive_draws_follow_the_prior() {
    let model = doubled::model(&Y).unwrap();
    let n = 4000;
    let prior = model.sample_prior_predictive(n, 3).unwrap();
    assert_eq!(
        prior.column_names(),
        ["mu", "twice", "y[0]", "y[1]", "y[2]", "y[3]", "y[4]"]
    );
    let kinds: Vec<VariableKind> = prior.variables().iter().map(|v| v.kind).collect();
    use VariableKind::{Deterministic, Parameter, PriorPredictive};
    assert_eq!(kinds, [Parameter, Deterministic, PriorPredictive]);
    let mu = pooled(&prior, "mu", 0);
    let twice = pooled(&prior, "twice", 0);
    assert!(mu.iter().zip(&twice).all(|(m, t)| *t == 2.0 * m));
    // Independent draws: N(0, 4) for mu and N(0, 4 + 2.25) for each y.
    let n = n as f64;
    let (m, v) = mean_and_variance(&mu);
    assert!(m.abs() < 4.0 * 2.0 / n.sqrt(), "mean {m}");
    assert!(
        (v - 4.0).abs() < 4.0 * 4.0 * (2.0 / (n - 1.0)).sqrt(),
        "var {v}"
    );
    for element in 0..Y.len() {
        let (m, v) = mean_and_variance(&pooled(&prior, "y", element));
        assert!(
            m.abs() < 4.0 * 6.25f64.sqrt() / n.sqrt(),
            "y[{element}] mean {m}"
        );
        assert!(
            (v - 6.25).abs() < 4.0 * 6.25 * (2.0 / (n - 1.0)).sqrt(),
            "y[{element}] var {v}"
        );
    }
    // The summary and both writers take the trace like any other.
    assert!(prior.summary().row("mu").is_some());
    let summary = prior.summary_of(&[PriorPredictive]);
    let row = summary.row("y[2]").unwrap();
    assert!((row.mean - mean_and_variance(&pooled(&prior, "y", 2)).0).abs() < 1e-12);
    let mut json = Vec::new();
    prior.write_json(&mut json).unwrap();
    assert!(String::from_utf8(json)
        .unwrap()
        .contains("\"kind\":\"prior_predictive\""));
    // Seeds: the same draws again, other draws for another seed.
    assert_eq!(
        model
            .sample_prior_predictive(100, 3)
            .unwrap()
            .samples("mu", 0)
            .unwrap()[0],
        &mu[..100]
    );
    assert_ne!(
        model
            .sample_prior_predictive(100, 4)
            .unwrap()
            .samples("mu", 0)
            .unwrap()[0],
        &mu[..100]
    );
    assert!(matches!(
        model.sample_prior_predictive(0, 3),
        Err(SampleError::Settings(_))
    ));
}

#[test]
fn prior_predictive_of_conditioned_and_discrete_models() {
    // Held at mu = 1, only the observations are drawn: y ~ N(1, 1.5²).
    let held = conjugate::model(&Y)
        .unwrap()
        .condition(&Point::new().with("mu", 1.0))
        .unwrap();
    let prior = held.sample_prior_predictive(2000, 1).unwrap();
    assert_eq!(
        prior.column_names(),
        ["y[0]", "y[1]", "y[2]", "y[3]", "y[4]"]
    );
    let (m, _) = mean_and_variance(&pooled(&prior, "y", 3));
    assert!((m - 1.0).abs() < 4.0 * 1.5 / 2000f64.sqrt(), "mean {m}");

    // A discrete variable: k ~ Bernoulli(½) is recorded, and y − 3k ~ N(0, 1).
    let model = switch::model(&[1.4, 1.6]).unwrap();
    let prior = model.sample_prior_predictive(2000, 2).unwrap();
    let k = pooled(&prior, "k", 0);
    let ones = k.iter().filter(|k| **k == 1.0).count() as f64;
    assert!(k.iter().all(|k| *k == 0.0 || *k == 1.0));
    assert!(
        (ones / 2000.0 - 0.5).abs() < 4.0 * (0.25f64 / 2000.0).sqrt(),
        "{ones}"
    );
    let y = pooled(&prior, "y", 0);
    let r: Vec<f64> = y.iter().zip(&k).map(|(y, k)| y - 3.0 * k).collect();
    let (m, v) = mean_and_variance(&r);
    assert!(m.abs() < 4.0 / 2000f64.sqrt(), "mean {m}");
    assert!((v - 1.0).abs() < 4.0 * (2.0f64 / 1999.0).sqrt(), "var {v}");
}
