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
