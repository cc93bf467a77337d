//! Log-density + gradient: `#[model]` on the tape vs a hand-written analytic gradient.
//!
//! Three models, each written the idiomatic way with `#[model]` and beside it a plain-Rust
//! function computing the same log-density (same transforms and Jacobians) and its
//! gradient by hand. The ratio of the two times is the tape's overhead.
//! Targets: ≤ 1.5× for (a) and (b), ≤ 4× for (c). For (c), `tape_only` drives the tape by
//! hand (no model runtime): the floor any runtime on this tape could reach.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ppl::glm::DataMatrix;
use ppl::prelude::*;
use ppl::tape::{self, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

// ---------------------------------------------------------------------------------------
// (a) Logistic regression, N = 1000, D = 10.

#[model]
fn logistic_regression(x: &DataMatrix, y: &[i64]) {
    let alpha = sample!(Normal::new(0.0, 5.0));
    let beta = sample!(Normal::new(0.0, 1.0), shape = x.cols());
    observe!(BernoulliLogitGlm::new(x, alpha, &beta), y);
}

fn logistic_hand(x: &DataMatrix, y: &[i64], u: &[f64], grad: &mut [f64]) -> f64 {
    let (alpha, beta) = (u[0], &u[1..]);
    let d = beta.len();
    let mut lp = -0.5 * (alpha / 5.0).powi(2) - 5.0f64.ln() - HALF_LN_2PI;
    grad[0] = -alpha / 25.0;
    for j in 0..d {
        lp += -0.5 * beta[j] * beta[j] - HALF_LN_2PI;
        grad[1 + j] = -beta[j];
    }
    for (i, yi) in y.iter().enumerate() {
        let row = x.row(i);
        let mut eta = alpha;
        for j in 0..d {
            eta += row[j] * beta[j];
        }
        // y η − ln(1 + e^η)
        let softplus = if eta > 0.0 {
            eta + (-eta).exp().ln_1p()
        } else {
            eta.exp().ln_1p()
        };
        lp += *yi as f64 * eta - softplus;
        let p = 1.0 / (1.0 + (-eta).exp());
        let r = *yi as f64 - p;
        grad[0] += r;
        for j in 0..d {
            grad[1 + j] += r * row[j];
        }
    }
    lp
}

fn logistic_data() -> (DataMatrix, Vec<i64>) {
    let (n, d) = (1000, 10);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let data: Vec<f64> = (0..n * d).map(|_| rng.sample(StandardNormal)).collect();
    let beta: Vec<f64> = (0..d).map(|j| (j as f64 - 4.5) / 5.0).collect();
    let y = (0..n)
        .map(|i| {
            let eta: f64 = 0.3 + (0..d).map(|j| data[i * d + j] * beta[j]).sum::<f64>();
            (rng.gen::<f64>() < 1.0 / (1.0 + (-eta).exp())) as i64
        })
        .collect();
    (DataMatrix::new(n, d, data).expect("n·d values"), y)
}

// ---------------------------------------------------------------------------------------
// (b) Hierarchical normal: 8 groups, N = 1000.

#[model]
fn hierarchical_normal(group: &[usize], y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfNormal::new(5.0));
    let sigma = sample!(HalfNormal::new(5.0));
    let theta = sample!(Normal::new(mu, tau), shape = 8);
    observe!(Normal::new(gather(&theta, group), sigma), y);
}

/// The same model with the group means copied into a vector (one edge per observation).
#[model]
fn hierarchical_normal_collect(group: &[usize], y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfNormal::new(5.0));
    let sigma = sample!(HalfNormal::new(5.0));
    let theta = sample!(Normal::new(mu, tau), shape = 8);
    let mean: Vec<Real> = group.iter().map(|g| theta[*g]).collect();
    observe!(Normal::new(&mean, sigma), y);
}

fn hierarchical_hand(group: &[usize], y: &[f64], u: &[f64], grad: &mut [f64]) -> f64 {
    let mu = u[0];
    let (tau, sigma) = (u[1].exp(), u[2].exp());
    let theta = &u[3..11];
    let ln_half_normal =
        |x: f64, s: f64| std::f64::consts::LN_2 - 0.5 * (x / s).powi(2) - s.ln() - HALF_LN_2PI;
    // Priors, with Jacobians of the log transforms (d/du of ln p(e^u) + u).
    let mut lp = -0.5 * (mu / 5.0).powi(2) - 5.0f64.ln() - HALF_LN_2PI;
    grad[0] = -mu / 25.0;
    lp += ln_half_normal(tau, 5.0) + u[1];
    grad[1] = -tau * tau / 25.0 + 1.0;
    lp += ln_half_normal(sigma, 5.0) + u[2];
    grad[2] = -sigma * sigma / 25.0 + 1.0;
    let inv_tau = 1.0 / tau;
    let mut sum_z2 = 0.0;
    for k in 0..8 {
        let z = (theta[k] - mu) * inv_tau;
        sum_z2 += z * z;
        grad[3 + k] = -z * inv_tau;
        grad[0] += z * inv_tau;
    }
    lp += -0.5 * sum_z2 - 8.0 * (tau.ln() + HALF_LN_2PI);
    grad[1] += sum_z2 - 8.0;
    let inv_sigma = 1.0 / sigma;
    let mut sum_r2 = 0.0;
    for (g, yi) in group.iter().zip(y) {
        let r = (yi - theta[*g]) * inv_sigma;
        sum_r2 += r * r;
        grad[3 + g] += r * inv_sigma;
    }
    let n = y.len() as f64;
    lp += -0.5 * sum_r2 - n * (sigma.ln() + HALF_LN_2PI);
    grad[2] += sum_r2 - n;
    lp
}

fn hierarchical_data() -> (Vec<usize>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let group: Vec<usize> = (0..1000).map(|i| i % 8).collect();
    let y = group
        .iter()
        .map(|g| *g as f64 * 0.5 + rng.sample::<f64, _>(StandardNormal))
        .collect();
    (group, y)
}

// ---------------------------------------------------------------------------------------
// (c) Eight schools, non-centred.

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfCauchy::new(5.0));
    let theta_raw = sample!(Normal::new(0.0, 1.0), shape = y.len());
    let theta: Vec<Real> = theta_raw.iter().map(|t| mu + tau * *t).collect();
    observe!(Normal::new(&theta, sigma), y);
}

/// The same model with θ built by [`affine`] (one tape operation).
#[model]
fn eight_schools_affine(y: &[f64], sigma: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfCauchy::new(5.0));
    let theta_raw = sample!(Normal::new(0.0, 1.0), shape = y.len());
    let theta = affine(mu, tau, &theta_raw);
    observe!(Normal::new(&theta, sigma), y);
}

fn eight_schools_hand(y: &[f64], sigma: &[f64], u: &[f64], grad: &mut [f64]) -> f64 {
    let mu = u[0];
    let tau = u[1].exp();
    let raw = &u[2..];
    let mut lp = -0.5 * (mu / 5.0).powi(2) - 5.0f64.ln() - HALF_LN_2PI;
    grad[0] = -mu / 25.0;
    // Half-Cauchy(5): ln 2 − ln π − ln 5 − ln(1 + (τ/5)²), plus the Jacobian u₁.
    let r = tau / 5.0;
    lp += std::f64::consts::LN_2 - std::f64::consts::PI.ln() - 5.0f64.ln() - (r * r).ln_1p() + u[1];
    grad[1] = -2.0 * r * r / (1.0 + r * r) + 1.0;
    for (j, t) in raw.iter().enumerate() {
        lp += -0.5 * t * t - HALF_LN_2PI;
        let theta = mu + tau * t;
        let z = (y[j] - theta) / sigma[j];
        lp += -0.5 * z * z - sigma[j].ln() - HALF_LN_2PI;
        let d = z / sigma[j];
        grad[0] += d;
        grad[1] += d * t * tau;
        grad[2 + j] = -t + d * tau;
    }
    lp
}

/// The floor of a reverse-mode tape on this model: the same gradient written by hand
/// against the tape's own primitives — the leaves, one wide node per density with its
/// partials computed here, the sixteen scalar nodes of θ = μ + τθ̃ that the idiomatic model
/// records, and the sweep — with no model runtime (no context, layout, transforms or
/// distribution objects). `tape` minus this is what the runtime costs.
fn eight_schools_tape_only(
    y: &[f64],
    sigma: &[f64],
    u: &[f64],
    leaves: &mut Vec<Var>,
    grad: &mut [f64],
) -> f64 {
    tape::reset();
    leaves.clear();
    Var::leaves(u, leaves);
    let (mu, log_tau, raw) = (leaves[0], leaves[1], &leaves[2..]);
    let m = mu.value();
    let lp_mu = Var::wide(
        -0.5 * (m / 5.0).powi(2) - 5.0f64.ln() - HALF_LN_2PI,
        [(mu.index(), -m / 25.0)],
    );
    let tau = log_tau.exp();
    let r = tau.value() / 5.0;
    let lp_tau = Var::wide(
        std::f64::consts::LN_2 - std::f64::consts::PI.ln() - 5.0f64.ln() - (r * r).ln_1p(),
        [(tau.index(), -2.0 * r / (5.0 * (1.0 + r * r)))],
    );
    let lp_raw = Var::wide_with(|w| {
        let mut sum = 0.0;
        for t in raw {
            let v = t.value();
            sum += -0.5 * v * v - HALF_LN_2PI;
            w.push(t.index(), -v);
        }
        sum
    });
    let theta: Vec<Var> = raw.iter().map(|t| mu + tau * *t).collect();
    let lp_y = Var::wide_with(|w| {
        let mut sum = 0.0;
        for ((th, yj), sj) in theta.iter().zip(y).zip(sigma) {
            let z = (yj - th.value()) / sj;
            sum += -0.5 * z * z - sj.ln() - HALF_LN_2PI;
            w.push(th.index(), z / sj);
        }
        sum
    });
    // log τ itself is the Jacobian term.
    let total = Var::wide_with(|w| {
        let mut sum = 0.0;
        for term in [lp_mu, log_tau, lp_tau, lp_raw, lp_y] {
            sum += term.value();
            w.push(term.index(), 1.0);
        }
        sum
    });
    tape::gradient(total, leaves, grad);
    total.value()
}

const Y8: [f64; 8] = [28., 8., -3., 7., -1., 1., 18., 12.];
const S8: [f64; 8] = [15., 10., 16., 11., 9., 11., 10., 18.];

// ---------------------------------------------------------------------------------------

fn point(dim: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..dim).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// Asserts that the two gradients agree before timing anything.
fn same(model: &[f64], hand: &[f64], lp_model: f64, lp_hand: f64) {
    assert!(
        (lp_model - lp_hand).abs() < 1e-8 * lp_hand.abs().max(1.0),
        "{lp_model} vs {lp_hand}"
    );
    for (a, b) in model.iter().zip(hand) {
        assert!((a - b).abs() < 1e-8 * b.abs().max(1.0), "{a} vs {b}");
    }
}

fn benches(c: &mut Criterion) {
    let (x, y) = logistic_data();
    let model = logistic_regression::model(&x, &y).expect("valid model");
    let u = point(model.dim(), 10);
    let (mut g1, mut g2) = (vec![0.0; u.len()], vec![0.0; u.len()]);
    let (l1, l2) = (
        model.logp_grad(&u, &mut g1).unwrap(),
        logistic_hand(&x, &y, &u, &mut g2),
    );
    same(&g1, &g2, l1, l2);
    let mut group = c.benchmark_group("logistic_regression_n1000_d10");
    group.bench_function("tape", |b| {
        b.iter(|| model.logp_grad(black_box(&u), &mut g1).unwrap())
    });
    group.bench_function("hand", |b| {
        b.iter(|| logistic_hand(&x, &y, black_box(&u), &mut g2))
    });
    group.finish();

    let (groups, y) = hierarchical_data();
    let model = hierarchical_normal::model(&groups, &y).expect("valid model");
    let u = point(model.dim(), 11);
    let (mut g1, mut g2) = (vec![0.0; u.len()], vec![0.0; u.len()]);
    let (l1, l2) = (
        model.logp_grad(&u, &mut g1).unwrap(),
        hierarchical_hand(&groups, &y, &u, &mut g2),
    );
    same(&g1, &g2, l1, l2);
    let mut group = c.benchmark_group("hierarchical_normal_8_groups_n1000");
    group.bench_function("tape", |b| {
        b.iter(|| model.logp_grad(black_box(&u), &mut g1).unwrap())
    });
    group.bench_function("hand", |b| {
        b.iter(|| hierarchical_hand(&groups, &y, black_box(&u), &mut g2))
    });
    let collect = hierarchical_normal_collect::model(&groups, &y).expect("valid model");
    group.bench_function("tape_collect", |b| {
        b.iter(|| collect.logp_grad(black_box(&u), &mut g1).unwrap())
    });
    group.finish();

    let model = eight_schools::model(&Y8, &S8).expect("valid model");
    let u = point(model.dim(), 12);
    let (mut g1, mut g2) = (vec![0.0; u.len()], vec![0.0; u.len()]);
    let (l1, l2) = (
        model.logp_grad(&u, &mut g1).unwrap(),
        eight_schools_hand(&Y8, &S8, &u, &mut g2),
    );
    same(&g1, &g2, l1, l2);
    let mut group = c.benchmark_group("eight_schools_noncentered");
    group.bench_function("tape", |b| {
        b.iter(|| model.logp_grad(black_box(&u), &mut g1).unwrap())
    });
    group.bench_function("hand", |b| {
        b.iter(|| eight_schools_hand(&Y8, &S8, black_box(&u), &mut g2))
    });
    let with_affine = eight_schools_affine::model(&Y8, &S8).expect("valid model");
    let l3 = with_affine.logp_grad(&u, &mut g1).unwrap();
    same(&g1, &g2, l3, l2);
    group.bench_function("tape_affine", |b| {
        b.iter(|| with_affine.logp_grad(black_box(&u), &mut g1).unwrap())
    });
    let mut leaves = Vec::new();
    let l4 = eight_schools_tape_only(&Y8, &S8, &u, &mut leaves, &mut g1);
    same(&g1, &g2, l4, l2);
    group.bench_function("tape_only", |b| {
        b.iter(|| eight_schools_tape_only(&Y8, &S8, black_box(&u), &mut leaves, &mut g1))
    });
    group.finish();
}

criterion_group!(gradient_benches, benches);
criterion_main!(gradient_benches);
