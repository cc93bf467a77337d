//! Discrete latent variables: every discrete distribution can be sampled (`sample!`), its
//! values are integers in the model body, they live in the integer state outside the
//! unconstrained vector, the forward context draws them and the inference context reads
//! them.

use ppl::prelude::*;
use ppl::ModelError;
use rand::SeedableRng;

#[model]
fn every_discrete() -> (i64, Vec<i64>, i64) {
    let b = sample!(Bernoulli::new(0.3));
    let bin = sample!(Binomial::new(10, 0.4), shape = 3);
    let pois = sample!(Poisson::new(2.5));
    let _nb = sample!(NegativeBinomial::new(3.0, 2.0));
    let _geo = sample!(Geometric::new(0.25));
    let _cat = sample!(Categorical::new(&[0.2, 0.5, 0.3][..]));
    let _du = sample!(DiscreteUniform::new(-3, 4));
    let _bb = sample!(BetaBinomial::new(6, 2.0, 3.0));
    let mu = sample!(Normal::new(0.0, 1.0));
    observe!(Normal::new(mu + pois as f64, 1.0), 1.5, name = "y");
    (b, bin, pois)
}

#[test]
fn discrete_variables_live_in_the_integer_state() {
    let model = every_discrete::model().unwrap();
    let layout = model.layout();
    assert_eq!(model.dim(), 1, "only mu is continuous");
    assert_eq!(model.discrete_dim(), 10);
    let names = layout.discrete_variables();
    assert_eq!(
        names,
        ["b", "bin", "pois", "_nb", "_geo", "_cat", "_du", "_bb"]
    );
    let bin = layout.variable("bin").unwrap();
    assert!(bin.discrete);
    assert_eq!((bin.offset, bin.len, bin.unconstrained_len), (1, 3, 0));
    assert_eq!(bin.integer_bounds, Some((Some(0), Some(10))));
    assert_eq!(
        layout.variable("_du").unwrap().integer_bounds,
        Some((Some(-3), Some(4)))
    );
    assert_eq!(
        layout.variable("pois").unwrap().integer_bounds,
        Some((Some(0), None))
    );
    assert_eq!(layout.variable("mu").unwrap().offset, 0);
    // The printed table gives each variable's place in the integer state (z) and its range.
    let text = model.to_string();
    assert!(
        text.contains("bin       Binomial          [3]      integer in [0, 10]  z[1..4]"),
        "{text}"
    );
    assert!(
        text.contains("pois      Poisson           scalar   integer ≥ 0         z[4]"),
        "{text}"
    );
    assert!(
        text.contains("mu        Normal            scalar   identity            u[0]"),
        "{text}"
    );
    assert!(
        text.ends_with("1 unconstrained dimension (u), 10 integers (z)"),
        "{text}"
    );
}

#[test]
fn the_inference_context_reads_the_integer_state() {
    let model = every_discrete::model().unwrap();
    let z = [1, 2, 3, 4, 2, 0, 5, 1, -2, 4];
    let (b, bin, pois) = model.output_joint(&[0.25], &z).unwrap();
    assert_eq!((b, bin, pois), (1, vec![2, 3, 4], 2));

    let point = model.constrain_joint(&[0.25], &z).unwrap();
    assert_eq!(point.get("bin").unwrap().values, vec![2.0, 3.0, 4.0]);
    assert_eq!(point.get("_du").unwrap().values, vec![-2.0]);
    let (u, back) = model.unconstrain_joint(&point).unwrap();
    assert_eq!((u, back.as_slice()), (vec![0.25], &z[..]));

    // The joint density is the sum of the closed-form terms.
    let lp = model.logp_joint(&[0.25], &z).unwrap();
    let ln = f64::ln;
    let choose = |n: f64, k: f64| {
        ppl::special::ln_gamma(n + 1.0)
            - ppl::special::ln_gamma(k + 1.0)
            - ppl::special::ln_gamma(n - k + 1.0)
    };
    let bin_lp = |k: f64| choose(10.0, k) + k * ln(0.4) + (10.0 - k) * ln(0.6);
    let nb = {
        // NegativeBinomial(mu = 3, phi = 2) at 0.
        let (mu, phi, k) = (3.0_f64, 2.0_f64, 0.0_f64);
        ppl::special::ln_gamma(k + phi)
            - ppl::special::ln_gamma(k + 1.0)
            - ppl::special::ln_gamma(phi)
            + phi * ln(phi / (mu + phi))
            + k * ln(mu / (mu + phi))
    };
    let bb = {
        let (n, a, b, k) = (6.0, 2.0, 3.0, 4.0);
        choose(n, k) + ppl::special::ln_beta(k + a, n - k + b) - ppl::special::ln_beta(a, b)
    };
    let want = ln(0.3)
        + bin_lp(2.0)
        + bin_lp(3.0)
        + bin_lp(4.0)
        + (2.0 * ln(2.5) - 2.5 - ln(2.0))
        + nb
        + (ln(0.25) + 5.0 * ln(0.75))
        + ln(0.5)
        - ln(8.0)
        + bb
        + (-0.5 * 0.25 * 0.25 - 0.5 * ln(2.0 * std::f64::consts::PI))
        + (-0.5 * (1.5_f64 - 2.25).powi(2) - 0.5 * ln(2.0 * std::f64::consts::PI));
    assert!((lp - want).abs() < 1e-10, "{lp} vs {want}");

    // The gradient is with respect to the continuous vector only.
    let mut grad = [0.0];
    model.logp_grad_joint(&[0.25], &z, &mut grad).unwrap();
    assert!((grad[0] - (-0.25 + (1.5 - 2.25))).abs() < 1e-12);
}

#[test]
fn values_outside_the_support_have_zero_density() {
    let model = every_discrete::model().unwrap();
    let base = [1, 2, 3, 4, 2, 0, 5, 1, -2, 4];
    // State order: b, bin[0..3], pois, nb, geo, cat, du, bb.
    let outside: [(usize, i64); 10] = [
        (0, 2),  // Bernoulli
        (1, 11), // Binomial n = 10
        (2, -1), // Binomial below 0
        (4, -1), // Poisson
        (5, -1), // NegativeBinomial
        (6, -1), // Geometric (failures before the first success)
        (7, 3),  // Categorical with 3 categories
        (7, -1), // Categorical
        (8, 5),  // DiscreteUniform(-3, 4)
        (9, 7),  // BetaBinomial n = 6
    ];
    for (i, k) in outside {
        let mut z = base;
        z[i] = k;
        let lp = model.logp_joint(&[0.0], &z).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY, "element {i} = {k}");
    }
}

#[test]
fn the_forward_context_draws_discrete_variables_from_their_priors() {
    let model = every_discrete::model().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let n = 4000;
    let mut sum_pois = 0.0;
    let mut sum_du = 0.0;
    for _ in 0..n {
        let draw = model.prior_draw(&mut rng).unwrap();
        let pois = draw.variables.get("pois").unwrap().values[0];
        let du = draw.variables.get("_du").unwrap().values[0];
        assert!(pois >= 0.0 && pois == pois.round());
        assert!((-3.0..=4.0).contains(&du) && du == du.round());
        sum_pois += pois;
        sum_du += du;
    }
    // Means 2.5 and 0.5; standard errors sqrt(2.5 / n) and sqrt(5.25 / n).
    assert!((sum_pois / n as f64 - 2.5).abs() < 4.0 * (2.5 / n as f64).sqrt());
    assert!((sum_du / n as f64 - 0.5).abs() < 4.0 * (5.25 / n as f64).sqrt());

    let (u, z) = model.initial_state(&mut rng).unwrap();
    assert_eq!((u.len(), z.len()), (1, 10));
    assert!(model.logp_joint(&u, &z).unwrap().is_finite());
}

#[test]
fn continuous_only_entry_points_ask_for_the_integer_state() {
    let model = every_discrete::model().unwrap();
    let err = model.logp(&[0.0]).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::DiscreteDimension {
                expected: 10,
                found: 0
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("_joint"), "{err}");
    let err = model.logp_joint(&[0.0], &[0; 3]).unwrap_err();
    assert!(matches!(
        err,
        ModelError::DiscreteDimension { found: 3, .. }
    ));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    assert!(model.initial_point(&mut rng).is_err());
}

#[test]
fn discrete_variables_can_be_conditioned_on() {
    let model = every_discrete::model()
        .unwrap()
        .condition(&Point::new().with("pois", 3.0))
        .unwrap();
    assert_eq!(model.discrete_dim(), 9);
    assert!(model.layout().variable("pois").unwrap().fixed);
    let (_, _, pois) = model.output_joint(&[0.0], &[0; 9]).unwrap();
    assert_eq!(pois, 3);

    let err = every_discrete::model()
        .unwrap()
        .condition(&Point::new().with("pois", 2.5))
        .unwrap_err();
    assert!(err.to_string().contains("outside the support"), "{err}");
}

#[model]
fn transformed_discrete() {
    let _k = sample!(Poisson::new(1.0), transform = Transform::lower(0.0));
}

#[test]
fn a_transform_on_a_discrete_variable_is_an_error() {
    let err = transformed_discrete::model().unwrap_err();
    assert!(err.to_string().contains("takes no transform"), "{err}");
}
