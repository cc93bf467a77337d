//! nutpie's low-rank modified mass matrix: a gradient-informed diagonal metric corrected
//! along the few directions in which the posterior is most stretched or squeezed.
//!
//! The inverse mass matrix is `M⁻¹ = D (I + V (Λ − I) Vᵀ) D` where `D = diag(σ)` is
//! the gradient-informed diagonal scale (`σᵢ² = sd(drawsᵢ)/sd(gradientsᵢ)`, as in
//! [`Metric::GradientDiagonal`](crate::Metric::GradientDiagonal)), and the `k` orthonormal
//! columns of `V` with eigenvalues `Λ` describe what that diagonal misses. They are
//! estimated from the draws `x` and gradients `g` of an adaptation window, scaled as
//! `x̃ = (x − x̄)/σ` and `g̃ = (g − ḡ)·σ`: within the span of those vectors, the
//! covariance `Σ` that satisfies `Σ Cov(g̃) Σ = Cov(x̃)` (for a Gaussian posterior it is
//! the posterior covariance itself, whose inverse is the gradients' covariance) is
//! eigendecomposed, and the eigenvalues that differ from 1 by more than a factor of
//! [`EIGENVALUE_CUTOFF`] are kept.
//!
//! Each leapfrog step costs `O(d·k)` on top of the diagonal metric's `O(d)`, so the
//! metric suits posteriors with a few strong correlations in many dimensions (a
//! regression with correlated predictors) where a dense metric would cost `O(d²)`.
//!
//! For a Gaussian posterior the draws' covariance is the inverse of the gradients'; when
//! the two disagree far beyond sampling noise ([`NON_GAUSSIAN_FACTOR`]), the posterior
//! is not Gaussian-like (a funnel): that window gets the diagonal alone, and so does
//! every later window of the chain (a chain that met the funnel once will meet it
//! again). On posteriordb's `gp_pois_regr` (medians of seeds 1–3) the per-window rule
//! raised the min bulk ESS from 58 to 573 and cut divergences from 164 to 58; making it
//! stick gave 875 and 51 (the default metric: 1150 and 42).
//!
//! Without a correction the metric is exactly the gradient-based diagonal one, updated
//! after every draw. [`CorrectionPolicy`] decides which corrections a chain takes:
//! all ([`Metric::LowRank`](crate::Metric::LowRank)) or only those worth their cost
//! ([`Metric::Auto`](crate::Metric::Auto)).
//!
//! Warm-up follows the gradient-diagonal schedule: during the early phase (the first
//! 30%) the metric is that diagonal, re-estimated after every draw; afterwards the whole
//! low-rank metric is re-estimated whenever a new window takes over and once more when
//! the final step-size window starts. Each chain keeps its windows' draws and gradients
//! for this (up to about 240 of each, `d` values apiece), and each estimate costs two
//! symmetric eigendecompositions of size `min(d, 2n)` for `n` draws.

use crate::adapt::{
    AdaptError, GradientDiagonalAdaptation, MetricAdaptation, MetricUpdate, GRAD_METRIC_LIMITS,
};
use crate::hamiltonian::{weighted_square_sum, PhasePoint};
use crate::metric::EuclideanMetric;
use crate::nuts::SampleStats;
use nalgebra::{DMatrix, SymmetricEigen};
use ppl_core::linalg::dot_f64;
use rand::Rng;
use rand_distr::StandardNormal;

/// Eigenvalues of the scaled covariance within `[1/c, c]` are dropped (treated as 1).
pub const EIGENVALUE_CUTOFF: f64 = 2.0;

/// The correction is dropped when the draws' and gradients' covariances disagree by
/// more than this factor beyond sampling noise (see [`estimate_low_rank`]). Over the
/// 24 estimates of four chains (seed 1) the ratio was 0.9–2.7 on eight schools,
/// 2.2–3.7 on radon and 3.2–15.5 on the funnel-shaped GP (14 of 24 above 8): the guard
/// catches most of the GP's windows, not all. A window in which a chain moves between
/// the modes of a mixture also trips it (2,205 on low_dim_gauss_mix).
pub const NON_GAUSSIAN_FACTOR: f64 = 8.0;

/// [`CorrectionPolicy::WherePaysOff`] keeps a whole correction only if it lowers the
/// condition number of the scaled covariance by at least this factor (NUTS then needs
/// about `√10 ≈ 3` times fewer leapfrog steps per trajectory). Below it only the
/// stretched directions are corrected, and only if there are at most
/// [`FEW_STRETCHED_DIRECTIONS`] of them (see [`LowRankEstimate::stretched_only`]). On
/// the benchmark set the gain was 2–3 for gauss100 (43 of 100 directions, 19–22 of them
/// stretched) and 2–4 for radon (two or three stretched), 5–8 for garch and wells (one
/// stretched direction each), 20–30 for arK, about 100 for kidiq and gp_pois_regr and
/// above 10,000 for diamonds.
pub const MIN_CONDITIONING_GAIN: f64 = 10.0;

/// The most stretched directions [`CorrectionPolicy::WherePaysOff`] corrects when the
/// whole correction gains less than [`MIN_CONDITIONING_GAIN`]. Each costs `4d` flops
/// per leapfrog step, so four cost about what the leapfrog's own vector updates do,
/// little beside any gradient; gauss100's 19–22 doubled the cost of a gradient and
/// halved the effective draws per second (with the whole correction, `Metric::LowRank`:
/// 47.6 instead of 29.7 effective draws per 1000 gradients, but 16,600 instead of
/// 29,100 per second). On radon (seeds 1–10) the two or three stretched directions
/// raised the effective draws per 1000 gradients from 9.7 to 12.3 and per second from
/// 4,300 to 4,900, with the estimates costing 20% more wall time.
pub const FEW_STRETCHED_DIRECTIONS: usize = 4;

/// [`CorrectionPolicy::WherePaysOff`] stops estimating in a chain after a window from
/// which it took no correction and whose whole correction would lower the condition
/// number by less than this factor: the posterior's correlations do not change from
/// window to window, and each estimate costs two eigendecompositions (on gauss100, 20%
/// of the sampling time when every window was estimated). The gains of garch11's
/// windows spread over 4.6–6.6 (seed 1): while this was 5 and stopped every chain
/// below it, some chains stopped before their first correction (40-seed median ESS per
/// 1000 gradients 33.8; at 4: 40.2).
pub const HOPELESS_CONDITIONING_GAIN: f64 = 4.0;

/// [`CorrectionPolicy::WherePaysOff`] skips an estimate whose cost, `d·m²` for `d`
/// dimensions and `m = min(d, 2n)` with `n` draws, exceeds this (about 0.1–0.2 s per
/// estimate on the benchmark machine: `d` up to about 1000 with the usual windows of
/// 80–240 draws). Beyond it the metric stays the gradient-based diagonal;
/// [`Metric::LowRank`](crate::Metric::LowRank) estimates at any size.
pub const AUTO_ESTIMATE_BUDGET: f64 = 1e8;

/// The trace keeps the whole inverse metric of a low-rank metric (for the CmdStan
/// CSV's `dense_e` block) up to this many dimensions.
pub const DENSE_OUTPUT_LIMIT: usize = 1000;

/// Prior weight, in draws, of the identity in the scaled covariance estimates: with `n`
/// draws each estimate is `(n·C + τ·I)/(n + τ)`, which keeps it positive definite when
/// there are fewer draws than dimensions and pulls directions seen in few draws towards
/// the diagonal metric.
pub const SHRINKAGE: f64 = 5.0;

/// A metric `M⁻¹ = D (I + V (Λ − I) Vᵀ) D`: diagonal scale `σ`, and `k` orthonormal
/// directions (in the scaled space) with their eigenvalues.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LowRankMetric {
    /// `σᵢ²`, the diagonal part of `M⁻¹`.
    scale_sq: Vec<f64>,
    /// `k × d`, row `j` the unit vector `vⱼ`.
    vecs: Vec<f64>,
    /// `k × d`, row `j` is `D vⱼ` (what the leapfrog steps use).
    scaled_vecs: Vec<f64>,
    /// `λⱼ`.
    vals: Vec<f64>,
}

impl LowRankMetric {
    /// The unit metric in `dim` dimensions.
    pub fn unit(dim: usize) -> Self {
        LowRankMetric {
            scale_sq: vec![1.0; dim],
            vecs: Vec::new(),
            scaled_vecs: Vec::new(),
            vals: Vec::new(),
        }
    }

    /// A purely diagonal metric with `M⁻¹ = diag(inv_mass)`.
    pub fn set_diagonal(&mut self, inv_mass: &[f64]) {
        self.scale_sq.copy_from_slice(inv_mass);
        self.vecs.clear();
        self.scaled_vecs.clear();
        self.vals.clear();
    }

    /// Sets the diagonal part to `diag(inv_mass)` and the correction to `estimate`.
    fn set(&mut self, inv_mass: &[f64], estimate: LowRankEstimate) {
        self.set_diagonal(inv_mass);
        let d = self.scale_sq.len();
        self.scaled_vecs = estimate
            .vecs
            .iter()
            .enumerate()
            .map(|(i, v)| v * self.scale_sq[i % d].sqrt())
            .collect();
        self.vecs = estimate.vecs;
        self.vals = estimate.vals;
    }

    /// Row `j` of `D V`.
    fn scaled_vec(&self, j: usize) -> &[f64] {
        let d = self.scale_sq.len();
        &self.scaled_vecs[j * d..(j + 1) * d]
    }

    /// `out += eps · D V (Λ − I) Vᵀ D p`.
    fn add_correction(&self, eps: f64, p: &[f64], out: &mut [f64]) {
        for (j, lambda) in self.vals.iter().enumerate() {
            let w = self.scaled_vec(j);
            let a = eps * (lambda - 1.0) * dot_f64(w, p);
            for (o, w) in out.iter_mut().zip(w) {
                *o += a * w;
            }
        }
    }

    /// Number of low-rank directions.
    fn rank(&self) -> usize {
        self.vals.len()
    }
}

impl EuclideanMetric for LowRankMetric {
    fn kinetic_energy(&self, p: &[f64]) -> f64 {
        let correction: f64 = (0..self.vals.len())
            .map(|j| {
                let c = dot_f64(self.scaled_vec(j), p);
                (self.vals[j] - 1.0) * c * c
            })
            .sum();
        0.5 * (weighted_square_sum(&self.scale_sq, p) + correction)
    }

    fn velocity(&self, p: &[f64], out: &mut [f64]) {
        for ((o, m), p) in out.iter_mut().zip(&self.scale_sq).zip(p) {
            *o = m * p;
        }
        self.add_correction(1.0, p, out);
    }

    fn sample_momentum<G: Rng + ?Sized>(&self, rng: &mut G, p: &mut [f64]) {
        // p = D⁻¹ (I + V (Λ^−½ − I) Vᵀ) z has covariance M = D⁻¹ (I + V (Λ⁻¹ − I) Vᵀ) D⁻¹.
        for v in p.iter_mut() {
            *v = rng.sample(StandardNormal);
        }
        let d = self.scale_sq.len();
        for (j, lambda) in self.vals.iter().enumerate() {
            let v = &self.vecs[j * d..(j + 1) * d];
            // The directions are orthonormal, so earlier updates leave vⱼ · z unchanged.
            let a = (lambda.sqrt().recip() - 1.0) * dot_f64(v, p);
            for (pi, vi) in p.iter_mut().zip(v) {
                *pi += a * vi;
            }
        }
        for (pi, s2) in p.iter_mut().zip(&self.scale_sq) {
            *pi /= s2.sqrt();
        }
    }

    fn drift(&self, eps: f64, p: &[f64], q: &mut [f64]) {
        for ((q, m), p) in q.iter_mut().zip(&self.scale_sq).zip(p) {
            *q += eps * m * p;
        }
        self.add_correction(eps, p, q);
    }

    /// The explicit `d × d` matrix up to [`DENSE_OUTPUT_LIMIT`] dimensions (beyond that
    /// it would dwarf the draws), and only with a correction: otherwise the trace keeps
    /// the diagonal alone.
    fn inv_mass_matrix(&self) -> Option<Vec<f64>> {
        let d = self.scale_sq.len();
        if d > DENSE_OUTPUT_LIMIT || self.rank() == 0 {
            return None;
        }
        let mut m = vec![0.0; d * d];
        for i in 0..d {
            m[i * d + i] = self.scale_sq[i];
        }
        // + Σⱼ (λⱼ − 1) (D vⱼ)(D vⱼ)ᵀ
        for (j, lambda) in self.vals.iter().enumerate() {
            let w = self.scaled_vec(j);
            for i in 0..d {
                let a = (lambda - 1.0) * w[i];
                for (x, wk) in m[i * d..(i + 1) * d].iter_mut().zip(w) {
                    *x += a * wk;
                }
            }
        }
        Some(m)
    }

    fn inv_mass_diagonal(&self) -> Vec<f64> {
        let d = self.scale_sq.len();
        (0..d)
            .map(|i| {
                let correction: f64 = (0..self.vals.len())
                    .map(|j| (self.vals[j] - 1.0) * self.vecs[j * d + i].powi(2))
                    .sum();
                self.scale_sq[i] * (1.0 + correction)
            })
            .collect()
    }
}

/// The low-rank correction estimated from one window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LowRankEstimate {
    /// `k × d`, orthonormal rows.
    pub vecs: Vec<f64>,
    /// The `k` eigenvalues outside `[1/c, c]`.
    pub vals: Vec<f64>,
    /// The window's draws and gradients contradict a Gaussian (see
    /// [`NON_GAUSSIAN_FACTOR`]); there is then no correction.
    pub non_gaussian: bool,
    /// By how much the correction lowers the condition number of the scaled
    /// covariance estimate: its eigenvalue range (with 1, the diagonal metric's) over
    /// the range of the eigenvalues left uncorrected.
    pub conditioning_gain: f64,
}

impl LowRankEstimate {
    /// No correction, because the window contradicts a Gaussian.
    fn non_gaussian() -> Self {
        LowRankEstimate {
            vecs: Vec::new(),
            vals: Vec::new(),
            non_gaussian: true,
            conditioning_gain: 1.0,
        }
    }

    /// Whether the correction is worth its `O(d·k)` cost per leapfrog step (see
    /// [`CorrectionPolicy::WherePaysOff`]).
    fn pays_off(&self) -> bool {
        !self.vals.is_empty() && self.conditioning_gain >= MIN_CONDITIONING_GAIN
    }

    /// The correction along the stretched directions alone (eigenvalues above 1, which
    /// in an estimate means above [`EIGENVALUE_CUTOFF`]), or `None` if there are none:
    /// what [`CorrectionPolicy::WherePaysOff`] keeps of a correction that gains less
    /// than [`MIN_CONDITIONING_GAIN`].
    ///
    /// Correcting a squeezed direction lets the step size grow; correcting a stretched
    /// one only shortens the trajectories along it, and the step size stays bounded
    /// by the stiffest directions as with the diagonal metric. Where the curvature
    /// varies across the posterior (garch11's walls near `α₁ + β₁ = 1` and
    /// `α₀ = 0`), the larger step diverges now and then: over 40 seeds the whole
    /// correction (gain 5–8) left a lone divergence in 6 seeds, the stretched
    /// directions alone in none, with the same ESS per gradient (41 against 42 per
    /// 1000; the diagonal: 25). On wells, whose posterior is nearly Gaussian, the
    /// stretched direction alone gives 76 effective draws per 1000 gradients, the
    /// whole correction 167 and the diagonal 31 (no divergences in 40 seeds with any);
    /// on posteriors with gains of 20 and more (arK, kidiq) the squeezed directions
    /// carry most of the gain (stretched only: 33 and 26 against 76 and 134).
    fn stretched_only(self) -> Option<Self> {
        let d = self.vecs.len() / self.vals.len().max(1);
        let (mut vecs, mut vals) = (Vec::new(), Vec::new());
        for (j, &lambda) in self.vals.iter().enumerate() {
            if lambda > 1.0 {
                vecs.extend_from_slice(&self.vecs[j * d..(j + 1) * d]);
                vals.push(lambda);
            }
        }
        (!vals.is_empty()).then_some(LowRankEstimate { vecs, vals, ..self })
    }
}

/// `(n·C + τ·I)/(n + τ)` for `C = A Aᵀ / n`.
fn shrunk_covariance(a: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.ncols() as f64;
    let mut c = a * a.transpose();
    c /= n + SHRINKAGE;
    for i in 0..c.nrows() {
        c[(i, i)] += SHRINKAGE / (n + SHRINKAGE);
    }
    c
}

/// `W √Δ Wᵀ` for the symmetric positive semi-definite `a = W Δ Wᵀ`, and the largest
/// eigenvalue of `a`.
fn matrix_sqrt(a: DMatrix<f64>) -> (DMatrix<f64>, f64) {
    let eigen = SymmetricEigen::new(a);
    let w = &eigen.eigenvectors;
    let scaled = DMatrix::from_fn(w.nrows(), w.ncols(), |i, j| {
        w[(i, j)] * eigen.eigenvalues[j].max(0.0).sqrt()
    });
    (scaled * w.transpose(), eigen.eigenvalues.max())
}

/// The gradient-informed diagonal scale `σᵢ = (var(drawsᵢ)/var(gradientsᵢ))^¼` of `n`
/// draws and gradients (`n × d`, row-major), clamped like the diagonal metric's.
pub(crate) fn diagonal_scale(draws: &[f64], grads: &[f64], d: usize) -> Vec<f64> {
    let n = draws.len() / d.max(1);
    let variance = |m: &[f64], i: usize| {
        let mean = (0..n).map(|t| m[t * d + i]).sum::<f64>() / n as f64;
        (0..n).map(|t| (m[t * d + i] - mean).powi(2)).sum::<f64>()
    };
    (0..d)
        .map(|i| {
            let ratio = (variance(draws, i) / variance(grads, i)).sqrt();
            if ratio.is_finite() && ratio > 0.0 {
                ratio
                    .clamp(GRAD_METRIC_LIMITS.0, GRAD_METRIC_LIMITS.1)
                    .sqrt()
            } else {
                1.0
            }
        })
        .collect()
}

/// Estimates the low-rank correction from `n` draws and their gradients (`n × d`,
/// row-major) given the diagonal scale `sigma`. `None` when the estimate is not finite.
pub(crate) fn estimate_low_rank(
    draws: &[f64],
    grads: &[f64],
    sigma: &[f64],
) -> Option<LowRankEstimate> {
    let d = sigma.len();
    let n = draws.len() / d.max(1);
    if d == 0 || n < 2 {
        return None;
    }
    let mean = |m: &[f64], i: usize| (0..n).map(|t| m[t * d + i]).sum::<f64>() / n as f64;
    let (x_mean, g_mean): (Vec<f64>, Vec<f64>) =
        (0..d).map(|i| (mean(draws, i), mean(grads, i))).unzip();
    // Scaled, centred draws and gradients as columns, side by side: d × 2n.
    let both = DMatrix::from_fn(d, 2 * n, |i, t| {
        if t < n {
            (draws[t * d + i] - x_mean[i]) / sigma[i]
        } else {
            (grads[(t - n) * d + i] - g_mean[i]) * sigma[i]
        }
    });
    if both.iter().any(|v| !v.is_finite()) {
        return None;
    }
    // An orthonormal basis of the span of the draws and gradients, unless they are at
    // least as many as the dimensions (then the whole space, without a projection).
    let basis = (2 * n < d).then(|| both.clone().qr().q());
    let projected = match &basis {
        Some(q) => q.transpose() * &both,
        None => both,
    };
    let cov_draws = shrunk_covariance(&projected.columns(0, n).into_owned());
    let cov_grads = shrunk_covariance(&projected.columns(n, n).into_owned());
    // Σ with Σ C_g Σ = C_x. With C_g = L Lᵀ: (Lᵀ Σ L)² = Lᵀ C_x L, so
    // Σ = L⁻ᵀ (Lᵀ C_x L)^½ L⁻¹.
    let l = cov_grads.cholesky()?.unpack();
    let (root, largest) = matrix_sqrt(l.transpose() * cov_draws * &l);
    // For a Gaussian posterior C_x = C_g⁻¹, so the eigenvalues of Lᵀ C_x L are 1 up to
    // sampling noise, whose spread grows with d/n (for white noise the sample
    // covariance's largest eigenvalue is about (1 + √(d/n))²; two such estimates
    // multiply). Far beyond that, the posterior is not Gaussian-like (a funnel), and
    // one global correction would mislead: keep the diagonal.
    let noise = (1.0 + (d.min(2 * n) as f64 / n as f64).sqrt()).powi(4);
    if largest > NON_GAUSSIAN_FACTOR * noise {
        return Some(LowRankEstimate::non_gaussian());
    }
    let l_inv = l.solve_lower_triangular(&DMatrix::identity(l.nrows(), l.ncols()))?;
    let sigma_hat = l_inv.transpose() * root * &l_inv;
    let eigen = SymmetricEigen::new((&sigma_hat + sigma_hat.transpose()) * 0.5);
    let mut vecs = Vec::new();
    let mut vals = Vec::new();
    // Eigenvalue ranges, with the diagonal metric's 1: all, and those left uncorrected.
    let (mut all, mut uncorrected) = ((1.0f64, 1.0f64), (1.0f64, 1.0f64));
    for (j, &lambda) in eigen.eigenvalues.iter().enumerate() {
        if !(lambda.is_finite() && lambda > 0.0) {
            return None;
        }
        all = (all.0.min(lambda), all.1.max(lambda));
        if (1.0 / EIGENVALUE_CUTOFF..=EIGENVALUE_CUTOFF).contains(&lambda) {
            uncorrected = (uncorrected.0.min(lambda), uncorrected.1.max(lambda));
            continue;
        }
        match &basis {
            Some(q) => vecs.extend((q * eigen.eigenvectors.column(j)).iter()),
            None => vecs.extend(eigen.eigenvectors.column(j).iter()),
        }
        vals.push(lambda);
    }
    Some(LowRankEstimate {
        vecs,
        vals,
        non_gaussian: false,
        conditioning_gain: (all.1 / all.0) / (uncorrected.1 / uncorrected.0),
    })
}

/// Draws in the shortest window a late-phase estimate sees (the gradient-diagonal
/// schedule switches windows every 80 draws then).
const SHORTEST_LATE_WINDOW: usize = 80;

/// The cost measure of [`AUTO_ESTIMATE_BUDGET`] for `n` draws in `d` dimensions.
fn estimate_cost(d: usize, n: usize) -> f64 {
    d as f64 * (d.min(2 * n) as f64).powi(2)
}

/// Draws and gradients of one adaptation window, row by row.
#[derive(Debug, Clone, Default, PartialEq)]
struct WindowDraws {
    draws: Vec<f64>,
    grads: Vec<f64>,
}

impl WindowDraws {
    fn push(&mut self, q: &[f64], grad: &[f64]) {
        self.draws.extend_from_slice(q);
        self.grads.extend_from_slice(grad);
    }

    fn clear(&mut self) {
        self.draws.clear();
        self.grads.clear();
    }
}

/// Which low-rank corrections a chain applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CorrectionPolicy {
    /// Every correction estimated ([`Metric::LowRank`](crate::Metric::LowRank)).
    Always,
    /// A whole correction if it lowers the condition number by [`MIN_CONDITIONING_GAIN`]
    /// or more, else its stretched directions if there are at most
    /// [`FEW_STRETCHED_DIRECTIONS`]; no more estimates after a window without a
    /// correction that gains less than [`HOPELESS_CONDITIONING_GAIN`], and none beyond
    /// [`AUTO_ESTIMATE_BUDGET`]
    /// ([`Metric::Auto`](crate::Metric::Auto)).
    WherePaysOff,
}

impl CorrectionPolicy {
    /// What of `estimate` the policy corrects, if anything.
    fn take(self, estimate: LowRankEstimate) -> Option<LowRankEstimate> {
        match self {
            CorrectionPolicy::Always => Some(estimate).filter(|e| !e.vals.is_empty()),
            CorrectionPolicy::WherePaysOff if estimate.pays_off() => Some(estimate),
            CorrectionPolicy::WherePaysOff => estimate
                .stretched_only()
                .filter(|e| e.vals.len() <= FEW_STRETCHED_DIRECTIONS),
        }
    }

    /// The policy of a low-rank metric ([`Metric::Auto`](crate::Metric::Auto): only
    /// corrections that pay off; otherwise all).
    pub(crate) fn of(metric: crate::Metric) -> Self {
        match metric {
            crate::Metric::Auto => CorrectionPolicy::WherePaysOff,
            _ => CorrectionPolicy::Always,
        }
    }
}

/// Warm-up adaptation of a [`LowRankMetric`]: the gradient-diagonal schedule and
/// estimate, with the low-rank correction from the draws of the foreground window.
///
/// Without a correction (before the late phase, when the policy declines one, or once a
/// window contradicted a Gaussian) the metric is exactly the gradient-diagonal one,
/// updated after every draw, so a chain that never corrects follows the trajectory it
/// would follow with [`Metric::GradientDiagonal`](crate::Metric::GradientDiagonal).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LowRankAdaptation {
    diagonal: GradientDiagonalAdaptation,
    inv_mass: Vec<f64>,
    foreground: WindowDraws,
    background: WindowDraws,
    policy: CorrectionPolicy,
    /// No more estimates in this chain: a window contradicted a Gaussian (one global
    /// correction misleads in a funnel, and a chain that met the funnel once will meet
    /// it again), or, for [`CorrectionPolicy::WherePaysOff`], a window's correction
    /// gained too little to be worth estimating again or an estimate would cost more
    /// than [`AUTO_ESTIMATE_BUDGET`]. Windows are no longer recorded then.
    done: bool,
}

impl LowRankAdaptation {
    /// Adaptation over `num_warmup` iterations in `dim` dimensions.
    pub fn new(num_warmup: u32, dim: usize, policy: CorrectionPolicy) -> Self {
        // Where even a window of the late phase's shortest length would cost more
        // than the budget, `Auto` never estimates, so it keeps no windows either (they
        // would hold about `4 · 240 · d` values).
        let done = policy == CorrectionPolicy::WherePaysOff
            && estimate_cost(dim, SHORTEST_LATE_WINDOW) > AUTO_ESTIMATE_BUDGET;
        LowRankAdaptation {
            diagonal: GradientDiagonalAdaptation::new(num_warmup, dim),
            inv_mass: vec![1.0; dim],
            foreground: WindowDraws::default(),
            background: WindowDraws::default(),
            policy,
            done,
        }
    }

    /// Estimates the correction from the foreground window and sets `metric` to it if
    /// the policy takes it. Returns whether it did.
    fn correct(&mut self, metric: &mut LowRankMetric) -> bool {
        if self.done {
            return false;
        }
        let (draws, grads) = (&self.foreground.draws, &self.foreground.grads);
        let d = self.inv_mass.len();
        let auto = self.policy == CorrectionPolicy::WherePaysOff;
        if auto && estimate_cost(d, draws.len() / d.max(1)) > AUTO_ESTIMATE_BUDGET {
            self.done = true;
            return false;
        }
        let sigma = diagonal_scale(draws, grads, d);
        let Some(estimate) = estimate_low_rank(draws, grads, &sigma) else {
            return false;
        };
        if estimate.non_gaussian {
            self.done = true;
            return false;
        }
        let gain = estimate.conditioning_gain;
        let Some(estimate) = self.policy.take(estimate) else {
            self.done = auto && gain < HOPELESS_CONDITIONING_GAIN;
            return false;
        };
        let scale_sq: Vec<f64> = sigma.iter().map(|s| s * s).collect();
        metric.set(&scale_sq, estimate);
        true
    }
}

impl MetricAdaptation<LowRankMetric> for LowRankAdaptation {
    fn init(&mut self, metric: &mut LowRankMetric, z: &PhasePoint) {
        self.diagonal.init(&mut self.inv_mass, &z.q, &z.grad);
        metric.set_diagonal(&self.inv_mass);
        if self.diagonal.metric_window_end() > 0 && !self.done {
            self.foreground.push(&z.q, &z.grad);
            self.background.push(&z.q, &z.grad);
        }
    }

    fn learn(
        &mut self,
        metric: &mut LowRankMetric,
        z: &PhasePoint,
        stats: &SampleStats,
    ) -> Result<MetricUpdate, AdaptError> {
        let iteration = self.diagonal.iteration();
        let final_window = self.diagonal.metric_window_end();
        let diverged = stats.diverging || !z.logp.is_finite();
        let background_before = self.diagonal.background_len();
        let updated = self
            .diagonal
            .learn(&mut self.inv_mass, &z.q, &z.grad, diverged)?;
        if iteration >= final_window {
            return Ok(MetricUpdate::Unchanged);
        }
        if !diverged && !self.done {
            self.foreground.push(&z.q, &z.grad);
            self.background.push(&z.q, &z.grad);
        }
        // The diagonal's background window restarts empty when it takes over.
        let switched = self.diagonal.background_len() < background_before;
        let last = iteration + 1 == final_window;
        let late = iteration >= self.diagonal.early_end();
        let estimate_now = updated && late && (switched || last);
        // With a correction the metric changes only when one is estimated; without
        // one it follows the diagonal estimate after every draw.
        let correcting = if estimate_now {
            // The whole foreground window (before a switch hands over to the
            // background) gives the diagonal scale and the correction.
            self.correct(metric)
        } else {
            metric.rank() > 0
        };
        if switched {
            std::mem::swap(&mut self.foreground, &mut self.background);
            self.background.clear();
        }
        if !updated || (correcting && !estimate_now) {
            return Ok(MetricUpdate::Unchanged);
        }
        if !correcting {
            metric.set_diagonal(&self.inv_mass);
        }
        Ok(self.diagonal.update_kind())
    }

    fn step_size_statistic(&self, stats: &SampleStats) -> f64 {
        self.diagonal.late_aware_statistic(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppl_core::model::rng_for;

    /// The explicit `M⁻¹` of a low-rank metric.
    fn explicit(metric: &LowRankMetric) -> Vec<f64> {
        let d = metric.scale_sq.len();
        let scale: Vec<f64> = metric.scale_sq.iter().map(|m| m.sqrt()).collect();
        let mut m = vec![0.0; d * d];
        for i in 0..d {
            for k in 0..d {
                let mut inner = if i == k { 1.0 } else { 0.0 };
                for j in 0..metric.rank() {
                    inner +=
                        (metric.vals[j] - 1.0) * metric.vecs[j * d + i] * metric.vecs[j * d + k];
                }
                m[i * d + k] = scale[i] * inner * scale[k];
            }
        }
        m
    }

    fn example_metric() -> LowRankMetric {
        let s = 0.5f64.sqrt();
        let mut metric = LowRankMetric::unit(3);
        metric.set(
            &[4.0, 0.25, 1.0],
            LowRankEstimate {
                vecs: vec![s, s, 0.0],
                vals: vec![4.0],
                non_gaussian: false,
                conditioning_gain: 4.0,
            },
        );
        metric
    }

    #[test]
    fn energy_velocity_drift_and_diagonal_match_the_explicit_matrix() {
        let metric = example_metric();
        let m = explicit(&metric);
        let dense = metric.inv_mass_matrix().unwrap();
        for (a, b) in dense.iter().zip(&m) {
            assert!((a - b).abs() < 1e-12, "{dense:?} vs {m:?}");
        }
        let p = [0.3, -1.2, 0.7];
        let mv: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|k| m[i * 3 + k] * p[k]).sum())
            .collect();
        let mut v = [0.0; 3];
        metric.velocity(&p, &mut v);
        for i in 0..3 {
            assert!((v[i] - mv[i]).abs() < 1e-12, "{v:?} vs {mv:?}");
        }
        let energy: f64 = 0.5 * p.iter().zip(&mv).map(|(a, b)| a * b).sum::<f64>();
        assert!((metric.kinetic_energy(&p) - energy).abs() < 1e-12);
        let mut q = [1.0, 2.0, 3.0];
        metric.drift(0.1, &p, &mut q);
        for i in 0..3 {
            let want = [1.0, 2.0, 3.0][i] + 0.1 * mv[i];
            assert!((q[i] - want).abs() < 1e-12);
        }
        let diagonal = metric.inv_mass_diagonal();
        for i in 0..3 {
            assert!((diagonal[i] - m[i * 3 + i]).abs() < 1e-12);
        }
    }

    #[test]
    fn momenta_have_the_mass_matrix_as_covariance() {
        // Cov(p) = M, so E[(M⁻¹p)(M⁻¹p)ᵀ] = M⁻¹: check the velocity's covariance.
        let metric = example_metric();
        let m = explicit(&metric);
        let mut rng = rng_for(3, 0);
        let n = 200_000;
        let mut acc = [0.0; 9];
        let (mut p, mut v) = ([0.0; 3], [0.0; 3]);
        for _ in 0..n {
            metric.sample_momentum(&mut rng, &mut p);
            metric.velocity(&p, &mut v);
            for i in 0..3 {
                for k in 0..3 {
                    acc[i * 3 + k] += v[i] * v[k];
                }
            }
        }
        for (i, a) in acc.iter().enumerate() {
            let got = a / f64::from(n);
            // Monte-Carlo sd of a product of normals is at most ~√2·√(mᵢᵢ mₖₖ)/√n.
            let sd = (2.0 * m[(i / 3) * 4] * m[(i % 3) * 4] / f64::from(n)).sqrt();
            assert!(
                (got - m[i]).abs() < 5.0 * sd,
                "entry {i}: {got} vs {}",
                m[i]
            );
        }
    }

    #[test]
    fn estimate_recovers_a_correlated_gaussian() {
        // Draws from N(0, C) with C = diag(s) R diag(s), R an equicorrelation of 0.95
        // in 6 dimensions; the gradient at x is −C⁻¹x. With σ from the same window,
        // D (I + V(Λ−I)Vᵀ) D should be close to C.
        let d = 6;
        let s = [1.0, 2.0, 0.5, 3.0, 1.0, 0.1];
        let rho = 0.95;
        let c = DMatrix::from_fn(d, d, |i, j| s[i] * s[j] * if i == j { 1.0 } else { rho });
        let chol = c.clone().cholesky().unwrap();
        let c_inv = c.clone().try_inverse().unwrap();
        let mut rng = rng_for(7, 0);
        let n = 4000;
        let (mut draws, mut grads) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let z = nalgebra::DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
            let x = chol.l() * z;
            let g = -(&c_inv * &x);
            draws.extend(x.iter());
            grads.extend(g.iter());
        }
        let var = |m: &[f64], i: usize| {
            let mean = (0..n).map(|t| m[t * d + i]).sum::<f64>() / n as f64;
            (0..n).map(|t| (m[t * d + i] - mean).powi(2)).sum::<f64>() / n as f64
        };
        let inv_mass: Vec<f64> = (0..d)
            .map(|i| (var(&draws, i) / var(&grads, i)).sqrt())
            .collect();
        let sigma: Vec<f64> = inv_mass.iter().map(|m| m.sqrt()).collect();
        let estimate = estimate_low_rank(&draws, &grads, &sigma).unwrap();
        assert!(!estimate.vals.is_empty());
        // The correlation's eigenvalues are 5.75 and 0.05: the diagonal metric leaves
        // the scaled covariance badly conditioned, the correction fixes that.
        assert!(estimate.pays_off() && estimate.conditioning_gain > MIN_CONDITIONING_GAIN);
        let mut metric = LowRankMetric::unit(d);
        metric.set(&inv_mass, estimate);
        let m = explicit(&metric);
        for i in 0..d {
            for j in 0..d {
                // Relative to the diagonal scale: within a few per cent for 4000 draws.
                let err = (m[i * d + j] - c[(i, j)]).abs() / (s[i] * s[j]);
                assert!(err < 0.08, "({i}, {j}): {} vs {}", m[i * d + j], c[(i, j)]);
            }
        }
    }

    #[test]
    fn estimate_with_fewer_draws_than_dimensions_is_finite_and_orthonormal() {
        let (d, n) = (30, 8);
        let mut rng = rng_for(9, 0);
        let draws: Vec<f64> = (0..n * d).map(|_| rng.sample(StandardNormal)).collect();
        let grads: Vec<f64> = draws.iter().map(|x| -4.0 * x).collect();
        let estimate = estimate_low_rank(&draws, &grads, &vec![0.5; d]).unwrap();
        let k = estimate.vals.len();
        assert!(k <= 2 * n);
        for a in 0..k {
            for b in 0..k {
                let dot: f64 = (0..d)
                    .map(|i| estimate.vecs[a * d + i] * estimate.vecs[b * d + i])
                    .sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-9);
            }
        }
        assert!(estimate.vals.iter().all(|v| v.is_finite() && *v > 0.0));
        assert!(estimate_low_rank(&[f64::NAN; 60], &[1.0; 60], &vec![1.0; 30]).is_none());
    }

    /// `n` draws x ~ N(0, I) in 4 dimensions with correlated gradients that a Gaussian
    /// would only produce for a far narrower posterior along (1, 1, 0, 0): var(x)·var(g)
    /// is 1 for every Gaussian direction, 400 here.
    fn contradicting_window(n: usize) -> WindowDraws {
        let d = 4;
        let mut rng = rng_for(8, 0);
        let mut window = WindowDraws::default();
        for _ in 0..n {
            let x: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
            let along = (x[0] + x[1]) * 0.5;
            let g: Vec<f64> = (0..d)
                .map(|i| if i < 2 { -x[i] - 399.0 * along } else { -x[i] })
                .collect();
            window.push(&x, &g);
        }
        window
    }

    /// A Gaussian stretched 4× along u = (1, 1, 0, 0)/√2 (see [`stretched_by`]).
    fn stretched_window(window: &WindowDraws) -> WindowDraws {
        stretched_by(window, 4.0)
    }

    /// A Gaussian stretched `a`× along u = (1, 1, 0, 0)/√2: y = A x with
    /// A = I + (a − 1) u uᵀ for the draws x of `window`, with the exact gradients −A⁻² y.
    fn stretched_by(window: &WindowDraws, a: f64) -> WindowDraws {
        let mut out = WindowDraws::default();
        for x in window.draws.chunks(4) {
            let along = (x[0] + x[1]) * 0.5;
            let y = [
                x[0] + (a - 1.0) * along,
                x[1] + (a - 1.0) * along,
                x[2],
                x[3],
            ];
            // A has eigenvalue a along u and 1 elsewhere, so A⁻² scales u by 1/a².
            let shrink = (y[0] + y[1]) * 0.5 * (1.0 / (a * a) - 1.0);
            out.push(&y, &[-(y[0] + shrink), -(y[1] + shrink), -y[2], -y[3]]);
        }
        out
    }

    fn estimate_of(window: &WindowDraws) -> LowRankEstimate {
        let sigma = diagonal_scale(&window.draws, &window.grads, 4);
        estimate_low_rank(&window.draws, &window.grads, &sigma).unwrap()
    }

    #[test]
    fn draws_and_gradients_that_contradict_a_gaussian_give_no_correction() {
        let contradicting = contradicting_window(500);
        let estimate = estimate_of(&contradicting);
        assert!(estimate.non_gaussian);
        assert!(estimate.vals.is_empty(), "{:?}", estimate.vals);
        let estimate = estimate_of(&stretched_window(&contradicting));
        assert!(!estimate.non_gaussian);
        // The diagonal scale stretches both coordinates along u, which squeezes the
        // scaled covariance across u: eigenvalues about 4 and 1/4.
        assert_eq!(estimate.vals.len(), 2, "{:?}", estimate.vals);
        assert!(
            estimate.conditioning_gain > 2.0,
            "{}",
            estimate.conditioning_gain
        );
    }

    #[test]
    fn a_chain_that_met_a_non_gaussian_window_stops_correcting() {
        let contradicting = contradicting_window(500);
        let stretched = stretched_window(&contradicting);
        for policy in [CorrectionPolicy::Always, CorrectionPolicy::WherePaysOff] {
            let mut metric = LowRankMetric::unit(4);
            let mut fresh = LowRankAdaptation::new(1000, 4, policy);
            fresh.foreground = stretched.clone();
            assert!(fresh.correct(&mut metric));
            assert_eq!(metric.rank(), 2);

            let mut metric = LowRankMetric::unit(4);
            let mut adaptation = LowRankAdaptation::new(1000, 4, policy);
            adaptation.foreground = contradicting.clone();
            assert!(!adaptation.correct(&mut metric));
            adaptation.foreground = stretched.clone();
            assert!(!adaptation.correct(&mut metric), "{policy:?}");
            assert_eq!(metric.rank(), 0);
        }
    }

    #[test]
    fn auto_stops_estimating_after_a_hopeless_window() {
        let plain = contradicting_window(500);
        // The same draws with the exact gradients of a standard normal: nothing to correct.
        let mut gaussian = WindowDraws::default();
        for x in plain.draws.chunks(4) {
            gaussian.push(x, &x.iter().map(|v| -v).collect::<Vec<_>>());
        }
        let stretched = stretched_window(&plain);
        assert!(estimate_of(&gaussian).conditioning_gain < HOPELESS_CONDITIONING_GAIN);
        for (policy, corrects_later) in [
            (CorrectionPolicy::Always, true),
            (CorrectionPolicy::WherePaysOff, false),
        ] {
            let mut metric = LowRankMetric::unit(4);
            let mut adaptation = LowRankAdaptation::new(1000, 4, policy);
            adaptation.foreground = gaussian.clone();
            assert!(!adaptation.correct(&mut metric));
            adaptation.foreground = stretched.clone();
            assert_eq!(
                adaptation.correct(&mut metric),
                corrects_later,
                "{policy:?}"
            );
        }
    }

    #[test]
    fn auto_skips_estimates_beyond_the_budget() {
        // The usual windows (80–240 draws) in 100 dimensions are far inside the budget,
        // 1000 dimensions only with short windows, 5000 never.
        assert!(estimate_cost(100, 240) < AUTO_ESTIMATE_BUDGET / 50.0);
        assert!(estimate_cost(1000, 150) < AUTO_ESTIMATE_BUDGET);
        assert!(estimate_cost(1000, 240) > AUTO_ESTIMATE_BUDGET);
        assert!(estimate_cost(5000, 80) > AUTO_ESTIMATE_BUDGET);
        // A chain over the budget estimates nothing and keeps the diagonal; at 5000
        // dimensions it records no windows from the start.
        let mut adaptation = LowRankAdaptation::new(1000, 2000, CorrectionPolicy::WherePaysOff);
        assert!(!adaptation.done);
        adaptation.foreground.draws = vec![0.0; 2000 * 240];
        adaptation.foreground.grads = vec![0.0; 2000 * 240];
        let mut metric = LowRankMetric::unit(2000);
        assert!(!adaptation.correct(&mut metric));
        assert!(adaptation.done);
        assert_eq!(metric.rank(), 0);
        let policy = CorrectionPolicy::WherePaysOff;
        let mut adaptation = LowRankAdaptation::new(1000, 5000, policy);
        assert!(adaptation.done);
        let mut metric = LowRankMetric::unit(5000);
        let mut z = PhasePoint::new(5000);
        z.q.fill(0.5);
        z.grad.fill(-0.5);
        let stats = SampleStats {
            lp: 0.0,
            accept_stat: 0.8,
            accept_stat_sym: 0.8,
            step_size: 0.1,
            tree_depth: 2,
            n_leapfrog: 3,
            diverging: false,
            energy: 0.0,
        };
        adaptation.init(&mut metric, &z);
        assert!(adaptation.foreground.draws.is_empty());
        for _ in 0..400 {
            adaptation.learn(&mut metric, &z, &stats).unwrap();
        }
        assert!(adaptation.foreground.draws.is_empty() && adaptation.background.draws.is_empty());
        assert!(!LowRankAdaptation::new(1000, 5000, CorrectionPolicy::Always).done);
    }

    #[test]
    fn auto_corrects_only_the_stretched_directions_of_a_modest_correction() {
        // Stretched 2.5× along u: the diagonal scale leaves eigenvalues of about 2.5
        // and 1/2.5 in the scaled covariance, a conditioning gain of about 6.
        let window = stretched_by(&contradicting_window(500), 2.5);
        let estimate = estimate_of(&window);
        assert_eq!(estimate.vals.len(), 2, "{:?}", estimate.vals);
        let gain = estimate.conditioning_gain;
        assert!(
            (HOPELESS_CONDITIONING_GAIN..MIN_CONDITIONING_GAIN).contains(&gain),
            "{gain}"
        );
        for (policy, rank) in [
            (CorrectionPolicy::Always, 2),
            (CorrectionPolicy::WherePaysOff, 1),
        ] {
            let mut metric = LowRankMetric::unit(4);
            let mut adaptation = LowRankAdaptation::new(1000, 4, policy);
            adaptation.foreground = window.clone();
            assert!(adaptation.correct(&mut metric));
            assert_eq!(metric.rank(), rank, "{policy:?}");
            assert!(!adaptation.done);
            // The kept direction is the stretched one: along u, with eigenvalue > 1.
            let kept = metric.vals.iter().cloned().fold(f64::NAN, f64::max);
            assert!(kept > 2.0, "{:?}", metric.vals);
        }
        let stretched = estimate.clone().stretched_only().unwrap();
        let j = estimate.vals.iter().position(|&l| l > 1.0).unwrap();
        assert_eq!(stretched.vals, vec![estimate.vals[j]]);
        assert_eq!(stretched.vecs, estimate.vecs[4 * j..4 * j + 4].to_vec());
        let squeezed = LowRankEstimate {
            vecs: vec![1.0, 0.0, 0.0, 0.0],
            vals: vec![0.2],
            non_gaussian: false,
            conditioning_gain: 5.0,
        };
        assert_eq!(squeezed.stretched_only(), None);
    }

    #[test]
    fn auto_takes_a_modest_correction_only_along_a_few_stretched_directions() {
        // k directions in 12 dimensions, alternately stretched (3) and squeezed (1/3).
        let estimate = |k: usize, gain: f64| LowRankEstimate {
            vecs: (0..k)
                .flat_map(|j| (0..12).map(move |i| if i == j { 1.0 } else { 0.0 }))
                .collect(),
            vals: (0..k)
                .map(|j| if j % 2 == 0 { 3.0 } else { 1.0 / 3.0 })
                .collect(),
            non_gaussian: false,
            conditioning_gain: gain,
        };
        let take = |e| CorrectionPolicy::WherePaysOff.take(e).map(|e| e.vals);
        // A strong correction is taken whole, however many directions it has.
        assert_eq!(take(estimate(12, 20.0)).map(|v| v.len()), Some(12));
        // A modest one only along its stretched directions, if they are few.
        let few = 2 * FEW_STRETCHED_DIRECTIONS;
        assert_eq!(
            take(estimate(few, 5.0)),
            Some(vec![3.0; FEW_STRETCHED_DIRECTIONS])
        );
        assert_eq!(take(estimate(few + 2, 5.0)), None);
        assert_eq!(take(estimate(few, 2.0)).map(|v| v.len()), Some(few / 2));
        // `Always` takes everything.
        let always = CorrectionPolicy::Always.take(estimate(few + 2, 2.0));
        assert_eq!(always.map(|e| e.vals.len()), Some(few + 2));
    }

    #[test]
    fn auto_keeps_only_strongly_conditioning_corrections() {
        let estimate = |k: usize, gain: f64| LowRankEstimate {
            vecs: vec![0.0; 3 * k],
            vals: vec![4.0; k],
            non_gaussian: false,
            conditioning_gain: gain,
        };
        assert!(!estimate(0, 100.0).pays_off());
        assert!(!estimate(1, 9.9).pays_off());
        assert!(estimate(1, MIN_CONDITIONING_GAIN).pays_off());
        assert!(estimate(5, 1e4).pays_off());
    }
}
