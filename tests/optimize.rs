//! Posterior modes by L-BFGS (`model.find_map(Map)`: closed-form modes with and
//! without the Jacobian, hard potentials, stopping rules, errors) and the Laplace
//! approximation (`model.laplace(&mode, draws, seed)`: an exactly Gaussian posterior, a
//! skewed one, its errors).

use ppl::infer::{LaplaceApproximation, MapEstimate, OptimizeError, StopReason};
use ppl::prelude::*;

/// `mu ~ Normal(0, 2)`, `y ~ Normal(mu, 1.5)`: posterior normal.
#[model]
fn conjugate(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 2.0));
    observe!(Normal::new(mu, 1.5), y);
}

const Y: [f64; 5] = [1.2, 0.4, 2.9, 1.7, 0.8];

/// The conjugate posterior's mean (= mode) and variance.
fn conjugate_posterior() -> (f64, f64) {
    let precision = 1.0 / 4.0 + Y.len() as f64 / 2.25;
    let mean = Y.iter().sum::<f64>() / 2.25 / precision;
    (mean, 1.0 / precision)
}

/// `rate ~ Gamma(2, 1)`, counts `y ~ Poisson(rate)`: posterior Gamma(2 + Σy, 1 + n).
#[model]
fn gamma_poisson(y: &[f64]) {
    let rate = sample!(Gamma::new(2.0, 1.0));
    observe!(Poisson::new(rate), y);
}

const COUNTS: [f64; 6] = [3.0, 0.0, 2.0, 5.0, 1.0, 2.0];

/// `sigma ~ HalfNormal(2)`, `y ~ Normal(0, sigma)`.
#[model]
fn scale(y: &[f64]) {
    let sigma = sample!(HalfNormal::new(2.0));
    observe!(Normal::new(0.0, sigma), y);
}

/// Rosenbrock's banana as a potential on flat priors: log-density
/// `−(1 − a)² − 100 (b − a²)²`, mode (1, 1).
#[model]
fn banana() {
    let a = sample!(Flat::new());
    let b = sample!(Flat::new());
    potential!(
        "banana",
        -((1.0 - a) * (1.0 - a) + 100.0 * (b - a * a) * (b - a * a))
    );
}

/// An ill-conditioned, correlated Gaussian potential in 6 dimensions: log-density
/// `−½ Σᵢ 10ⁱ (xᵢ − xᵢ₋₁ − 1)²` with `x₋₁ = 0`, mode `xᵢ = i + 1`; the Hessian's
/// condition number is above 10⁵.
#[model]
fn stiff() {
    let x = sample!(Flat::new(), shape = 6);
    let mut total = Real::from(0.0);
    for i in 0..6 {
        let previous = if i == 0 { Real::from(0.0) } else { x[i - 1] };
        let d = x[i] - previous - 1.0;
        total = total + 10f64.powi(i as i32) * d * d;
    }
    potential!("stiff", -0.5 * total);
}

#[test]
fn the_mode_of_a_conjugate_normal_is_its_posterior_mean() {
    let model = conjugate::model(&Y).unwrap();
    let (mean, _) = conjugate_posterior();
    for jacobian in [false, true] {
        let map = model
            .find_map(Map::default().seed(3).jacobian(jacobian))
            .unwrap();
        // The objective is quadratic: L-BFGS lands on the mode to rounding once it has
        // one curvature pair, so 1e-8 is loose.
        let mu = map.point.get("mu").unwrap().values[0];
        assert!((mu - mean).abs() < 1e-8, "{mu} vs {mean}");
        assert_eq!(map.position, [mu]); // no transform
        assert!(map.converged(), "{map:?}");
        assert!(map.iterations <= 5, "{map:?}");
        assert!(
            map.gradient_evaluations <= 4 * map.iterations + 1,
            "{map:?}"
        );
        assert_eq!(map.log_density, model.logp(&map.position).unwrap());
        assert_eq!(map.jacobian, jacobian);
        assert_eq!(map.seed, 3);
    }
    // Reproducible: the seed fixes the initial point and everything after it.
    let a = model.find_map(Map::default().seed(9)).unwrap();
    assert_eq!(a, model.find_map(Map::default().seed(9)).unwrap());
}

#[test]
fn a_search_started_at_the_mode_stops_at_once() {
    let model = conjugate::model(&Y).unwrap();
    let (mean, _) = conjugate_posterior();
    let map = model
        .find_map(Map::default().initial_position(vec![mean]))
        .unwrap();
    assert_eq!(
        (map.iterations, map.gradient_evaluations, map.stop_reason),
        (0, 1, StopReason::GradientNorm)
    );
}

/// Stan's tolerances with the two relative tests at one machine epsilon and the
/// absolute change of the log-density at 1e-20: the search stops on the gradient norm
/// (< 1e-8, so the error is below 1e-8 divided by the smallest curvature) or a step
/// shorter than 1e-8.
fn tight() -> Map {
    Map::default()
        .tol_rel_grad(1.0)
        .tol_rel_obj(1.0)
        .tol_obj(1e-20)
}

// Tolerances at Stan's defaults: the relative-gradient test stops once
// gᵀHg < 1e7·ε·max(|lp|, 1) ≈ 2.2e-9·|lp| (H the L-BFGS inverse Hessian). Near a mode
// gᵀH g ≈ δᵀ(−∇²lp)δ, the squared distance to the mode in posterior standard
// deviations, so the default stop leaves δ ≲ √(2.2e-9·|lp|) sd ≈ 2e-4 sd for |lp| ≈ 15;
// the tests allow 1e-3 sd. With `tight()` they allow 1e-6 (relative).

/// Finds the modes without and with the Jacobian at Stan's tolerances and at `tight()`,
/// and checks the variable `name` against `without` and `with`; `sd` is its posterior
/// sd. Returns the two estimates at `tight()`.
fn check_modes<T: ppl::ModelTemplate + Sync>(
    model: &Model<T>,
    name: &str,
    (without, with): (f64, f64),
    sd: f64,
    seed: u64,
) -> (MapEstimate, MapEstimate) {
    let at = |map: &MapEstimate| map.point.get(name).unwrap().values[0];
    let mut last = None;
    for (settings, tolerance) in [(Map::default(), 1e-3 * sd), (tight(), 1e-6)] {
        let constrained = model.find_map(settings.clone().seed(seed)).unwrap();
        let unconstrained = model.find_map(settings.seed(seed).jacobian(true)).unwrap();
        assert!(
            (at(&constrained) - without).abs() < tolerance,
            "{constrained:?}"
        );
        assert!(
            (at(&unconstrained) - with).abs() < tolerance,
            "{unconstrained:?}"
        );
        assert!(constrained.converged() && unconstrained.converged());
        last = Some((constrained, unconstrained));
    }
    last.unwrap()
}

#[test]
fn gamma_poisson_modes_with_and_without_the_jacobian() {
    let model = gamma_poisson::model(&COUNTS).unwrap();
    let shape = 2.0 + COUNTS.iter().sum::<f64>();
    let rate = 1.0 + COUNTS.len() as f64;
    // The posterior is Gamma(shape, rate). The density of the rate has its mode at
    // (shape − 1)/rate; the density of u = ln(rate) gains the Jacobian e^u, which adds
    // one to the shape. The two modes differ by 1/rate ≈ 0.14 = 0.25 sd.
    let sd = shape.sqrt() / rate;
    let modes = ((shape - 1.0) / rate, shape / rate);
    let (constrained, unconstrained) = check_modes(&model, "rate", modes, sd, 1);
    // The reported log-densities are the two objectives at their modes: they differ by
    // the log-Jacobian ln |d rate / du| = u.
    let u = unconstrained.position[0];
    assert_eq!(unconstrained.log_density, model.logp(&[u]).unwrap());
    let u = constrained.position[0];
    assert!((constrained.log_density - (model.logp(&[u]).unwrap() - u)).abs() < 1e-12);
}

#[test]
fn half_normal_scale_modes_with_and_without_the_jacobian() {
    let y = [0.9, -2.1, 1.4, 0.3, -1.7, 2.6, -0.4];
    let model = scale::model(&y).unwrap();
    let n = y.len() as f64;
    let s: f64 = y.iter().map(|v| v * v).sum();
    // d/dσ [−σ²/8 − m ln σ − S/(2σ²)] = 0 ⇔ σ⁴/4 + mσ² − S = 0, with m = n without
    // the Jacobian and m = n − 1 with it (ln σ is added).
    let mode = |m: f64| (2.0 * (-m + (m * m + s).sqrt())).sqrt();
    // The posterior sd of sigma is about sigma/√(2n) ≈ 0.4; the modes differ by 0.1.
    let sd = mode(n) / (2.0 * n).sqrt();
    assert!((mode(n) - mode(n - 1.0)).abs() > 0.2 * sd);
    check_modes(&model, "sigma", (mode(n), mode(n - 1.0)), sd, 5);
}

#[test]
fn lbfgs_follows_the_banana_valley() {
    let model = banana::model().unwrap();
    let map = model
        .find_map(Map::default().initial_position(vec![-1.2, 1.0]))
        .unwrap();
    println!(
        "banana: {} iterations, {} gradient evaluations, {:?}",
        map.iterations, map.gradient_evaluations, map.stop_reason
    );
    // At the default tolerances the search stops where the log-density changes by
    // ~1e-12 per step; near the mode −f ≈ ½ δᵀHδ with H's smallest eigenvalue ≈ 0.4, so
    // the position is within ~1e-5 of (1, 1).
    for (u, want) in map.position.iter().zip([1.0, 1.0]) {
        assert!((u - want).abs() < 1e-4, "{:?}", map.position);
    }
    assert!(map.converged(), "{map:?}");
    // Nocedal & Wright report 30-50 quasi-Newton iterations from this start; each
    // needs about one evaluation, a few need two or three.
    assert!(map.iterations < 100, "{map:?}");
    assert!(map.gradient_evaluations < 3 * map.iterations, "{map:?}");
}

#[test]
fn lbfgs_solves_an_ill_conditioned_correlated_gaussian() {
    let model = stiff::model().unwrap();
    let default = model.find_map(Map::default().seed(11)).unwrap();
    let tight = model.find_map(tight().seed(11)).unwrap();
    for (label, map) in [("default", &default), ("tight", &tight)] {
        println!(
            "stiff, {label}: {} iterations, {} gradient evaluations, {:?}",
            map.iterations, map.gradient_evaluations, map.stop_reason
        );
        assert!(map.converged(), "{map:?}");
        assert_eq!(map.point.get("x").unwrap().shape, [6]);
        // The condition number is ~1e6: L-BFGS with 5 pairs needs a few hundred
        // iterations, each about 1.2 evaluations.
        assert!(map.iterations < 600, "{map:?}");
        assert!(map.gradient_evaluations < 2 * map.iterations, "{map:?}");
    }
    // The log-density is 0 at the mode, so max(|lp|, 1) = 1 in the relative-gradient
    // test: δᵀ(−∇²lp)δ ≲ 2.2e-9, i.e. δ ≲ 5e-5/√λ along an eigenvector with eigenvalue
    // λ; the smallest λ is ≈ 0.2, so errors of ~1e-4 are allowed (1e-3 asserted).
    let x = &default.point.get("x").unwrap().values;
    for (i, xi) in x.iter().enumerate() {
        assert!((xi - (i + 1) as f64).abs() < 1e-3, "{x:?}");
    }
    // Tight: |gradient| < 1e-8 leaves δ < 1e-8/0.2.
    let x = &tight.point.get("x").unwrap().values;
    for (i, xi) in x.iter().enumerate() {
        assert!((xi - (i + 1) as f64).abs() < 1e-6, "{x:?}");
    }
}

#[test]
fn each_tolerance_stops_the_search_by_itself() {
    let model = banana::model().unwrap();
    // All tests switched off (tolerances far below anything reachable) except one.
    let off = Map::default()
        .initial_position(vec![-1.2, 1.0])
        .tol_obj(1e-300)
        .tol_rel_obj(1e-300)
        .tol_grad(1e-300)
        .tol_rel_grad(1e-300)
        .tol_param(1e-300);
    let cases = [
        (off.clone().tol_obj(1e-3), StopReason::ObjectiveChange),
        (
            off.clone().tol_rel_obj(1e12),
            StopReason::RelativeObjectiveChange,
        ),
        (off.clone().tol_grad(1e-2), StopReason::GradientNorm),
        (off.clone().tol_rel_grad(1e12), StopReason::RelativeGradient),
        (off.clone().tol_param(1e-3), StopReason::ParameterChange),
        (off.clone().max_iters(4), StopReason::MaxIterations),
    ];
    for (settings, want) in cases {
        let map = model.find_map(settings).unwrap();
        assert_eq!(map.stop_reason, want, "{map:?}");
        assert_eq!(map.converged(), want != StopReason::MaxIterations);
        assert!(map.iterations >= 1);
    }
    let four = model.find_map(off.max_iters(4)).unwrap();
    assert_eq!(four.iterations, 4);
    // Even after four iterations the log-density has risen from its start.
    assert!(four.log_density > model.logp(&[-1.2, 1.0]).unwrap());
}

/// `k ~ Bernoulli(0.3)`, `mu ~ Normal(2k, 1)`.
#[model]
fn switch() {
    let k = sample!(Bernoulli::new(0.3));
    let _mu = sample!(Normal::new(2.0 * k as f64, 1.0));
}

#[test]
fn errors_name_what_is_wrong() {
    let err = switch::model()
        .unwrap()
        .find_map(Map::default())
        .unwrap_err();
    assert_eq!(err, OptimizeError::DiscreteVariables(vec!["k".into()]));
    assert!(err.to_string().contains("`k`"), "{err}");

    let model = scale::model(&[0.5, -1.0]).unwrap();
    let err = model
        .find_map(Map::default().initial_position(vec![0.0, 1.0]))
        .unwrap_err();
    assert_eq!(
        err,
        OptimizeError::InitialLength {
            expected: 1,
            found: 2
        }
    );
    // u = 800 puts sigma = e⁸⁰⁰ at +∞: zero density.
    let err = model
        .find_map(Map::default().initial_position(vec![800.0]))
        .unwrap_err();
    let OptimizeError::InitialPoint { log_density, table } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*log_density, f64::NEG_INFINITY);
    assert!(table.contains("sigma"), "{table}");

    for (settings, want) in [
        (
            Map::default().tol_obj(0.0),
            OptimizeError::Tolerance {
                name: "tol_obj",
                value: 0.0,
            },
        ),
        (
            Map::default().tol_rel_obj(-1.0),
            OptimizeError::Tolerance {
                name: "tol_rel_obj",
                value: -1.0,
            },
        ),
        (Map::default().max_iters(0), OptimizeError::NoIterations),
        (Map::default().history_size(0), OptimizeError::NoHistory),
    ] {
        assert_eq!(model.find_map(settings).unwrap_err(), want);
    }
    // One `?` type for everything.
    let err: ppl::Error = model
        .find_map(Map::default().max_iters(0))
        .unwrap_err()
        .into();
    assert!(matches!(
        err,
        ppl::Error::Optimize(OptimizeError::NoIterations)
    ));
}

/// `alpha, beta ~ Normal(0, 10)`, `y ~ Normal(alpha + beta x, 0.8)` with σ known: the
/// posterior of (alpha, beta) is exactly normal, correlated because x is not centred.
#[model]
fn known_sigma_regression(x: &[f64], y: &[f64]) {
    let alpha = sample!(Normal::new(0.0, 10.0));
    let beta = sample!(Normal::new(0.0, 10.0));
    let mu: Vec<Real> = x.iter().map(|xi| alpha + beta * *xi).collect();
    observe!(Normal::new(&mu, 0.8), y);
}

/// The range of the log importance ratios `ln p − ln q` of a Laplace approximation's
/// draws (zero when the normal is the posterior).
fn ratio_spread(laplace: &LaplaceApproximation) -> f64 {
    let ratios = laplace.log_p.iter().zip(&laplace.log_q).map(|(p, q)| p - q);
    let (low, high) = ratios.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
        (lo.min(r), hi.max(r))
    });
    high - low
}

#[test]
fn laplace_of_an_exactly_gaussian_posterior_matches_the_closed_form() {
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let y = [1.9, 3.1, 3.8, 5.2, 6.1, 6.8];
    let model = known_sigma_regression::model(&x, &y).unwrap();
    // Precision P = XᵀX/σ² + I/100, mean P⁻¹ Xᵀy/σ².
    let s2 = 0.64;
    let (n, sx, sxx) = (
        x.len() as f64,
        x.iter().sum::<f64>(),
        x.iter().map(|v| v * v).sum::<f64>(),
    );
    let (sy, sxy) = (
        y.iter().sum::<f64>(),
        x.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>(),
    );
    let p = [[n / s2 + 0.01, sx / s2], [sx / s2, sxx / s2 + 0.01]];
    let det = p[0][0] * p[1][1] - p[0][1] * p[1][0];
    let cov = [
        [p[1][1] / det, -p[0][1] / det],
        [-p[1][0] / det, p[0][0] / det],
    ];
    let mean = [
        cov[0][0] * sy / s2 + cov[0][1] * sxy / s2,
        cov[1][0] * sy / s2 + cov[1][1] * sxy / s2,
    ];
    assert!(cov[0][1] / (cov[0][0] * cov[1][1]).sqrt() < -0.8); // strongly correlated

    let mode = model.find_map(tight().jacobian(true).seed(2)).unwrap();
    let draws = 4000;
    let laplace = model.laplace(&mode, draws, 17).unwrap();
    // The Hessian by hyper-duals is exact for a quadratic: only rounding separates the
    // covariance from the closed form.
    for i in 0..2 {
        // The mode to |gradient| < 1e-8 (see `tight`).
        assert!(
            (laplace.mode[i] - mean[i]).abs() < 1e-6 * cov[i][i].sqrt(),
            "{:?}",
            laplace.mode
        );
        for j in 0..2 {
            let c = laplace.covariance[i][j];
            assert!(
                (c - cov[i][j]).abs() < 1e-10 * cov[i][i].max(cov[j][j]),
                "{c}"
            );
        }
    }
    // The draws: independent, so the Monte-Carlo standard error of a mean is sd/√N and
    // that of a covariance entry √((Σᵢᵢ Σⱼⱼ + Σᵢⱼ²)/N) (normal fourth moments); each
    // lies within 4 of them.
    let columns: Vec<Vec<f64>> = ["alpha", "beta"]
        .iter()
        .map(|name| laplace.trace.samples(name, 0).unwrap()[0].to_vec())
        .collect();
    let nd = draws as f64;
    let means: Vec<f64> = columns.iter().map(|c| c.iter().sum::<f64>() / nd).collect();
    for i in 0..2 {
        let mcse = (cov[i][i] / nd).sqrt();
        assert!(
            (means[i] - mean[i]).abs() < 4.0 * mcse,
            "{i}: {} vs {}",
            means[i],
            mean[i]
        );
        for j in 0..2 {
            let sample_cov = columns[i]
                .iter()
                .zip(&columns[j])
                .map(|(a, b)| (a - means[i]) * (b - means[j]))
                .sum::<f64>()
                / (nd - 1.0);
            let se = ((cov[i][i] * cov[j][j] + cov[i][j].powi(2)) / nd).sqrt();
            assert!(
                (sample_cov - cov[i][j]).abs() < 4.0 * se,
                "{i}{j}: {sample_cov}"
            );
        }
    }
    // q is the posterior: the log ratios are constant up to rounding and the residual
    // gradient g at the mode: they vary by gᵀ(u − mode), with |g| ≲ 1e-7 (the tight
    // search may also stop on a step shorter than 1e-8) and draws up to ~6 away in
    // alpha, so by well under 1e-5 (1.6e-7 measured).
    println!("exact Gaussian: k̂ = {}", laplace.pareto_k);
    assert!(laplace.pareto_k < 0.5, "{}", laplace.pareto_k);
    let spread = ratio_spread(&laplace);
    assert!(spread < 1e-5, "{spread}");
    // The trace's lp column is the model's log-density at each draw.
    let lp: Vec<f64> = laplace.trace.chains()[0]
        .stats
        .iter()
        .map(|s| s.lp)
        .collect();
    assert_eq!(lp, laplace.log_p);
    // The same seed gives the same draws (the traces differ only in their timings).
    let again = model.laplace(&mode, draws, 17).unwrap();
    assert_eq!(
        again.trace.samples("beta", 0),
        laplace.trace.samples("beta", 0)
    );
    assert_eq!(
        (again.log_p, again.pareto_k),
        (laplace.log_p.clone(), laplace.pareto_k)
    );
}

#[test]
fn laplace_of_a_skewed_posterior_reports_its_fit() {
    // Few counts: the posterior of ln(rate) is visibly skewed.
    let counts = [1.0, 0.0, 2.0];
    let model = gamma_poisson::model(&counts).unwrap();
    let shape = 2.0 + counts.iter().sum::<f64>();
    let rate = 1.0 + counts.len() as f64;
    let mode = model
        .find_map(Map::default().jacobian(true).seed(8))
        .unwrap();
    let laplace = model.laplace(&mode, 2000, 4).unwrap();
    // On u = ln(rate) the log-density is shape·u − rate·eᵘ + const: mode ln(shape/rate),
    // curvature −rate·eᵘ = −shape there.
    assert!((laplace.mode[0] - (shape / rate).ln()).abs() < 1e-6);
    assert!((laplace.covariance[0][0] - 1.0 / shape).abs() < 1e-6);
    println!("skewed: k̂ = {}", laplace.pareto_k);
    assert!(laplace.pareto_k.is_finite(), "{}", laplace.pareto_k);
    // The ratios vary (the normal is not the posterior).
    let spread = ratio_spread(&laplace);
    assert!(spread > 0.1, "{spread}");
    // Draws are of the rate itself, positive.
    let rates = &laplace.trace.samples("rate", 0).unwrap()[0];
    assert_eq!(rates.len(), 2000);
    assert!(rates.iter().all(|r| *r > 0.0));
}

/// A double well on a flat prior: log-density `−(a² − 1)²`, maxima at ±1, a minimum at 0.
#[model]
fn double_well() {
    let a = sample!(Flat::new());
    potential!("well", -((a * a - 1.0) * (a * a - 1.0)));
}

#[test]
fn laplace_errors() {
    let model = double_well::model().unwrap();
    let mut mode = model
        .find_map(Map::default().jacobian(true).initial_position(vec![0.5]))
        .unwrap();
    assert!((mode.position[0] - 1.0).abs() < 1e-6, "{:?}", mode.position);
    // −(a² − 1)²'' = −(12a² − 4): −8 at the mode, so the variance is 1/8.
    let laplace = model.laplace(&mode, 100, 1).unwrap();
    assert!((laplace.covariance[0][0] - 0.125).abs() < 1e-9);
    assert_eq!(
        model.laplace(&mode, 0, 1).unwrap_err(),
        OptimizeError::NoDraws
    );

    // At a = 0 the log-density has a minimum: curvature +4.
    mode.position = vec![0.0];
    let err = model.laplace(&mode, 100, 1).unwrap_err();
    let OptimizeError::NotNegativeDefinite { largest_eigenvalue } = err else {
        panic!("{err:?}")
    };
    assert!(
        (largest_eigenvalue - 4.0).abs() < 1e-9,
        "{largest_eigenvalue}"
    );

    let without = model
        .find_map(Map::default().initial_position(vec![0.5]))
        .unwrap();
    let err = model.laplace(&without, 100, 1).unwrap_err();
    assert_eq!(err, OptimizeError::ModeWithoutJacobian);
    assert!(err.to_string().contains("jacobian(true)"), "{err}");
}
