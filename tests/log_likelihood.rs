//! `model.compute_log_likelihood(&trace)`: the pointwise log-likelihood of every draw
//! against closed forms, for discrete latent variables, a scalar datum and held-out data.

use ppl::infer::VariableKind;
use ppl::prelude::*;

/// `mu ~ Normal(0, 2)`, `y ~ Normal(mu, 1.5)`, one more datum `z ~ Normal(mu, 3)`.
#[model]
fn two_observations(y: &[f64], z: f64) {
    let mu = sample!(Normal::new(0.0, 2.0));
    observe!(Normal::new(mu, 1.5), y);
    observe!(Normal::new(mu, 3.0), z);
}

fn ln_normal(x: f64, mean: f64, sd: f64) -> f64 {
    -0.5 * ((x - mean) / sd).powi(2) - sd.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
}

fn nuts(seed: u64) -> Nuts {
    Nuts::default()
        .chains(2)
        .draws(300)
        .tune(300)
        .seed(seed)
        .progress(false)
}

const Y: [f64; 4] = [1.2, 0.4, 2.9, 1.7];

#[test]
fn each_column_is_the_density_of_its_datum_at_each_draw() {
    let model = two_observations::model(&Y, -0.5).unwrap();
    let trace = model
        .compute_log_likelihood(&model.sample(nuts(1).keep_warmup(true)).unwrap())
        .unwrap();
    let names: Vec<(&str, &[usize], VariableKind)> = trace
        .variables()
        .iter()
        .map(|v| (v.name.as_str(), v.shape.as_slice(), v.kind))
        .collect();
    use VariableKind::{LogLikelihood, Parameter};
    assert_eq!(
        names,
        [
            ("mu", &[][..], Parameter),
            ("log_lik_y", &[4][..], LogLikelihood),
            ("log_lik_z", &[][..], LogLikelihood)
        ]
    );
    for (c, chain) in trace.chains().iter().enumerate() {
        let mu = trace.samples("mu", 0).unwrap()[c];
        for (i, y) in Y.iter().enumerate() {
            let ll = trace.samples("log_lik_y", i).unwrap()[c];
            assert!(mu
                .iter()
                .zip(ll)
                .all(|(m, l)| (l - ln_normal(*y, *m, 1.5)).abs() < 1e-12));
        }
        let ll = trace.samples("log_lik_z", 0).unwrap()[c];
        assert!(mu
            .iter()
            .zip(ll)
            .all(|(m, l)| (l - ln_normal(-0.5, *m, 3.0)).abs() < 1e-12));
        // Kept warm-up draws get theirs too.
        let column = trace.column_index("log_lik_z", 0).unwrap();
        let warm_mu = chain.warmup_column(0).unwrap();
        let warm_ll = chain.warmup_column(column).unwrap();
        assert_eq!(warm_ll.len(), 300);
        assert!(warm_mu
            .iter()
            .zip(warm_ll)
            .all(|(m, l)| (l - ln_normal(-0.5, *m, 3.0)).abs() < 1e-12));
    }
    // Computing them again replaces them; predictive draws come after.
    let again = model.compute_log_likelihood(&trace).unwrap();
    assert_eq!(again.column_names(), trace.column_names());
    assert_eq!(again.samples("log_lik_y", 3), trace.samples("log_lik_y", 3));
    let with_y = model.sample_posterior_predictive(&again, 2).unwrap();
    assert_eq!(
        with_y.samples("log_lik_z", 0),
        trace.samples("log_lik_z", 0)
    );
}

/// `k ~ Bernoulli(0.5)` chooses the mean of `y ~ Normal(3k, 1)`.
#[model]
fn switch(y: &[f64]) {
    let k = sample!(Bernoulli::new(0.5));
    observe!(Normal::new(3.0 * k as f64, 1.0), y);
}

#[test]
fn discrete_variables_and_held_out_data() {
    let model = switch::model(&[1.4, 1.6]).unwrap();
    let trace = model.sample(Compound::new(nuts(3))).unwrap();
    // The held-out model: the same variable, three other data.
    let held_out = [0.2, 3.1, 2.0];
    let scored = switch::model(&held_out)
        .unwrap()
        .compute_log_likelihood(&trace)
        .unwrap();
    let k: Vec<f64> = scored.samples("k", 0).unwrap().concat();
    assert!(k.contains(&0.0) && k.contains(&1.0), "both states visited");
    for (i, y) in held_out.iter().enumerate() {
        let ll: Vec<f64> = scored.samples("log_lik_y", i).unwrap().concat();
        assert!(k
            .iter()
            .zip(&ll)
            .all(|(k, l)| (l - ln_normal(*y, 3.0 * k, 1.0)).abs() < 1e-12));
    }
}

/// `mu ~ Normal(0, 2)`, `y ~ Normal(mu, 1)`: conjugate, so leaving a datum out gives a
/// normal posterior and a normal predictive density for it in closed form.
#[model]
fn known_sigma(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 2.0));
    observe!(Normal::new(mu, 1.0), y);
}

#[test]
fn psis_loo_matches_exact_leave_one_out() {
    let y = [0.3, -0.8, 1.1, 0.4, 2.6, -0.1];
    let model = known_sigma::model(&y).unwrap();
    let nuts = Nuts::default()
        .chains(4)
        .draws(2000)
        .seed(6)
        .progress(false);
    let trace = model
        .compute_log_likelihood(&model.sample(nuts).unwrap())
        .unwrap();
    let loo = trace.loo().unwrap();
    assert_eq!(loo.pointwise.len(), y.len());
    for (i, point) in loo.pointwise.iter().enumerate() {
        // Exact: mu | y₋ᵢ ~ N(m, s²) with precision 1/4 + (n − 1), then yᵢ ~ N(m, s² + 1).
        let precision = 0.25 + (y.len() - 1) as f64;
        let rest: f64 = y
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, v)| v)
            .sum();
        let m = rest / precision;
        let exact = ln_normal(y[i], m, (1.0 / precision + 1.0).sqrt());
        // The Monte-Carlo standard error of the importance-sampling estimate of
        // p(yᵢ | y₋ᵢ) = E[w p] / E[w] with w = 1/p: for self-normalised weights,
        // Var ≈ Σ w̃ₛ² (pₛ − p̂)², scaled by the draws' relative efficiency; on the log
        // scale divided by p̂.
        let ll: Vec<f64> = trace.samples("log_lik_y", i).unwrap().concat();
        let w: Vec<f64> = ll.iter().map(|l| (-l).exp()).collect();
        let total: f64 = w.iter().sum();
        let p_hat = ll.len() as f64 / total; // Σ w̃ p = S / Σ w
        let var: f64 = w
            .iter()
            .zip(&ll)
            .map(|(w, l)| (w / total).powi(2) * (l.exp() - p_hat).powi(2))
            .sum();
        let se = (var / loo.r_eff).sqrt() / p_hat;
        assert!(
            (point.elpd_loo - exact).abs() < 4.0 * se,
            "datum {i}: {} vs exact {exact} (se {se})",
            point.elpd_loo
        );
        assert!(point.pareto_k < loo.good_k, "{point:?}");
    }
}

#[test]
fn loo_needs_the_log_likelihood() {
    let model = known_sigma::model(&[0.1, 0.2]).unwrap();
    let trace = model.sample(nuts(2)).unwrap();
    assert!(matches!(
        trace.loo(),
        Err(ppl::infer::LooError::NoLogLikelihood)
    ));
    let err: ppl::Error = trace.loo().unwrap_err().into();
    assert!(err.to_string().contains("compute_log_likelihood"), "{err}");
}
