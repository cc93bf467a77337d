//! Pathfinder (Zhang, Carpenter, Gelman and Vehtari 2022), as Stan's `pathfinder` runs
//! it: normal approximations along an L-BFGS path, the best by ELBO, and several paths
//! pooled by Pareto-smoothed importance resampling.
//!
//! One path runs L-BFGS on the negative log-density (with the transforms' Jacobians)
//! from a random initial position. At each iterate `x` of the path the optimiser's own
//! inverse-Hessian estimate — a diagonal (Gilbert and Lemaréchal's update) plus the
//! low-rank correction of the last `history_size` steps (the compact form of Byrd,
//! Nocedal and Schnabel 1994) — is the covariance `Σ` of a normal centred one Newton
//! step further, `x + Σ ∇ln p(x)`. Its ELBO is estimated from `elbo_draws` draws; the
//! best normal along the path gives `draws` draws. Paths run in parallel threads; their
//! draws are pooled, weighted by the Pareto-smoothed ratios `p/q`, and resampled.

use crate::independent_draws::independent_draws_trace;
use crate::loo::importance_weights;
use crate::optimize::{lbfgs, Map, OptimizeError, StopReason};
use crate::target::SampleTarget;
use crate::trace::Trace;
use nalgebra::{DMatrix, DVector};
use ppl_core::model::rng_for;
use rand::Rng;
use rand_distr::StandardNormal;
use std::collections::VecDeque;
use std::time::Instant;
use thiserror::Error;

/// `½ ln 2π`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
/// A step pair `(s, z)` joins the inverse-Hessian estimate when `sᵀz > ε ‖z‖`.
const CURVATURE_EPSILON: f64 = 1e-12;

/// Settings of a Pathfinder run (Stan's `pathfinder` arguments and defaults); pass them
/// to [`Variational::pathfinder`](crate::Variational::pathfinder).
///
/// ```
/// use ppl_infer::Pathfinder;
///
/// let settings = Pathfinder::default().paths(8).draws(2000).seed(4);
/// assert!(settings.validate().is_ok());
/// assert!(Pathfinder::default().elbo_draws(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pathfinder {
    seed: u64,
    paths: usize,
    draws: usize,
    elbo_draws: usize,
    max_lbfgs_iters: usize,
    history_size: usize,
    initial_positions: Vec<Vec<f64>>,
}

impl Default for Pathfinder {
    fn default() -> Self {
        Pathfinder {
            seed: 0,
            paths: 4,
            draws: 1000,
            elbo_draws: 25,
            max_lbfgs_iters: 1000,
            history_size: 5,
            initial_positions: Vec::new(),
        }
    }
}

impl Pathfinder {
    /// The random seed (default 0); path `i` uses stream `i`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The number of paths (default 4).
    pub fn paths(mut self, paths: usize) -> Self {
        self.paths = paths;
        self
    }

    /// The number of draws returned (default 1000).
    pub fn draws(mut self, draws: usize) -> Self {
        self.draws = draws;
        self
    }

    /// Draws per ELBO estimate along a path (default 25).
    pub fn elbo_draws(mut self, elbo_draws: usize) -> Self {
        self.elbo_draws = elbo_draws;
        self
    }

    /// The most L-BFGS iterations per path (default 1000).
    pub fn max_lbfgs_iters(mut self, max_lbfgs_iters: usize) -> Self {
        self.max_lbfgs_iters = max_lbfgs_iters;
        self
    }

    /// The number of L-BFGS step pairs in the inverse-Hessian estimate (default 5).
    pub fn history_size(mut self, history_size: usize) -> Self {
        self.history_size = history_size;
        self
    }

    /// Initial positions on the unconstrained scale: one for every path, or one per
    /// path (default: a random initial position per path, as for sampling).
    pub fn initial_positions(mut self, positions: Vec<Vec<f64>>) -> Self {
        self.initial_positions = positions;
        self
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), PathfinderError> {
        for (name, value) in [
            ("paths", self.paths),
            ("draws", self.draws),
            ("elbo_draws", self.elbo_draws),
            ("max_lbfgs_iters", self.max_lbfgs_iters),
            ("history_size", self.history_size),
        ] {
            if value == 0 {
                return Err(PathfinderError::InvalidSetting { name });
            }
        }
        let given = self.initial_positions.len();
        if given > 1 && given != self.paths {
            return Err(PathfinderError::InitialPositionCount {
                paths: self.paths,
                found: given,
            });
        }
        Ok(())
    }
}

/// Why Pathfinder could not run.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PathfinderError {
    /// A count setting is zero.
    #[error("Pathfinder setting `{name}` must be at least 1")]
    InvalidSetting {
        /// The setting's name.
        name: &'static str,
    },
    /// Initial positions given neither once nor once per path.
    #[error("initial positions: give one for all paths or one per path ({paths}), got {found}")]
    InitialPositionCount {
        /// The number of paths.
        paths: usize,
        /// The number of positions given.
        found: usize,
    },
    /// Pathfinder approximates continuous variables only.
    #[error("Pathfinder cannot approximate discrete variables ({}); condition the model on them or sample with `Compound`", .0.join(", "))]
    DiscreteVariables(Vec<String>),
    /// No usable initial position for a path.
    #[error("path {path}: no initial position: {source}")]
    Init {
        /// The path.
        path: usize,
        /// Why.
        source: ppl_core::Error,
    },
    /// The model returned an error on a path.
    #[error("path {path}: the model returned an error: {source}")]
    Model {
        /// The path.
        path: usize,
        /// The error.
        source: ppl_core::Error,
    },
    /// A path's L-BFGS run failed for another reason than its line search.
    #[error("path {path}: L-BFGS failed: {source}")]
    Optimize {
        /// The path.
        path: usize,
        /// The error.
        source: OptimizeError,
    },
    /// The model panicked on a path.
    #[error("path {path}: panicked: {message}")]
    Panic {
        /// The path.
        path: usize,
        /// The panic's message.
        message: String,
    },
    /// No normal along a path had a finite ELBO estimate.
    #[error("path {path}: no normal approximation along the L-BFGS path ({iterations} iterations) had a finite ELBO")]
    NoApproximation {
        /// The path.
        path: usize,
        /// Its L-BFGS iterations.
        iterations: usize,
    },
}

/// How one path went.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PathReport {
    /// The path's number (its random stream).
    pub path: usize,
    /// L-BFGS iterations.
    pub iterations: usize,
    /// Why L-BFGS stopped (`None`: its line search found no further decrease, and the
    /// path ends there).
    pub stop: Option<StopReason>,
    /// The iteration whose normal had the best ELBO.
    pub best_iteration: usize,
    /// That normal's ELBO estimate.
    pub elbo: f64,
    /// Gradient evaluations of the path's L-BFGS run.
    pub gradient_evaluations: usize,
}

/// The result of [`Variational::pathfinder`](crate::Variational::pathfinder).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PathfinderFit {
    /// The draws as one chain (constrained values, deterministics, `lp` per draw);
    /// with several paths, resampled from their pooled draws by importance weights.
    pub trace: Trace,
    /// The Pareto `k̂` of the pooled draws' ratios `p/q` (below 0.5: the approximation
    /// is close to the posterior; above 0.7: do not trust it).
    pub pareto_k: f64,
    /// The paths that found an approximation, in path order.
    pub paths: Vec<PathReport>,
    /// The paths that failed, with why.
    pub failed_paths: Vec<PathfinderError>,
}

/// A normal `N(mean, Σ)` with `Σ = diag(α) + β γ βᵀ` from L-BFGS, kept in the factored
/// form `Σ = D^{1/2} (I + Q (L Lᵀ − I) Qᵀ) D^{1/2}` (`D = diag(α)`, `Q` orthonormal, `L`
/// a small Cholesky factor) that draws cost `O(d · history)`.
struct LbfgsNormal {
    mean: DVector<f64>,
    sqrt_alpha: DVector<f64>,
    q: DMatrix<f64>,
    l_minus_identity: DMatrix<f64>,
    log_det: f64,
}

impl LbfgsNormal {
    /// The normal at `x` with gradient `grad_log_p` of `ln p`, diagonal `alpha` and step
    /// pairs `(s, z)` (`z` the change of the gradient of `−ln p`); `None` when the
    /// factors are not positive definite in floating point.
    fn new(
        x: &[f64],
        grad_log_p: &[f64],
        alpha: &[f64],
        pairs: &VecDeque<(Vec<f64>, Vec<f64>)>,
    ) -> Option<Self> {
        let d = x.len();
        let j = pairs.len();
        let alpha = DVector::from_column_slice(alpha);
        let g = DVector::from_column_slice(grad_log_p);
        let sqrt_alpha = alpha.map(f64::sqrt);
        let mut mean = DVector::from_column_slice(x) + alpha.component_mul(&g);
        let mut log_det: f64 = alpha.iter().map(|a| a.ln()).sum();
        if j == 0 {
            return Some(LbfgsNormal {
                mean,
                sqrt_alpha,
                q: DMatrix::zeros(d, 0),
                l_minus_identity: DMatrix::zeros(0, 0),
                log_det,
            });
        }
        let s = DMatrix::from_fn(d, j, |r, c| pairs[c].0[r]);
        let z = DMatrix::from_fn(d, j, |r, c| pairs[c].1[r]);
        let sz = s.transpose() * &z;
        let r = DMatrix::from_fn(j, j, |a, b| if a <= b { sz[(a, b)] } else { 0.0 });
        let r_inv = r.try_inverse()?;
        let alpha_z = DMatrix::from_fn(d, j, |row, c| alpha[row] * z[(row, c)]);
        let middle = z.transpose() * &alpha_z + DMatrix::from_diagonal(&sz.diagonal());
        let lower_right = r_inv.transpose() * middle * &r_inv;
        // β = [D Z, S]; γ = [[0, −R⁻¹], [−R⁻ᵀ, R⁻ᵀ (Zᵀ D Z + E) R⁻¹]].
        let mut beta = DMatrix::zeros(d, 2 * j);
        beta.columns_mut(0, j).copy_from(&alpha_z);
        beta.columns_mut(j, j).copy_from(&s);
        let mut gamma = DMatrix::zeros(2 * j, 2 * j);
        gamma.view_mut((0, j), (j, j)).copy_from(&(-&r_inv));
        gamma
            .view_mut((j, 0), (j, j))
            .copy_from(&(-r_inv.transpose()));
        gamma.view_mut((j, j), (j, j)).copy_from(&lower_right);
        mean += &beta * (&gamma * (beta.transpose() * &g));
        let scaled = DMatrix::from_fn(d, 2 * j, |row, c| beta[(row, c)] / sqrt_alpha[row]);
        let qr = scaled.qr();
        let (q, rq) = (qr.q(), qr.r());
        let k = rq.nrows();
        let inner = DMatrix::identity(k, k) + &rq * gamma * rq.transpose();
        let l = inner.cholesky()?.l();
        log_det += 2.0 * l.diagonal().iter().map(|v| v.ln()).sum::<f64>();
        if !(log_det.is_finite() && mean.iter().all(|m| m.is_finite())) {
            return None;
        }
        Some(LbfgsNormal {
            mean,
            sqrt_alpha,
            q,
            l_minus_identity: l - DMatrix::identity(k, k),
            log_det,
        })
    }

    /// A draw and its log-density.
    fn draw(&self, rng: &mut impl Rng) -> (Vec<f64>, f64) {
        let d = self.mean.len();
        let u = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
        let inner = &self.q * (&self.l_minus_identity * (self.q.transpose() * &u)) + &u;
        let draw = &self.mean + self.sqrt_alpha.component_mul(&inner);
        let log_q = -0.5 * (self.log_det + u.norm_squared()) - d as f64 * HALF_LN_2PI;
        (draw.iter().copied().collect(), log_q)
    }

    /// The covariance as a dense matrix (for tests).
    #[cfg(test)]
    fn covariance(&self) -> DMatrix<f64> {
        let k = self.l_minus_identity.nrows();
        let l = &self.l_minus_identity + DMatrix::identity(k, k);
        let d = self.mean.len();
        let middle = DMatrix::identity(d, d)
            + &self.q * (&l * l.transpose() - DMatrix::identity(k, k)) * self.q.transpose();
        let root = DMatrix::from_diagonal(&self.sqrt_alpha);
        &root * middle * &root
    }
}

/// Gilbert and Lemaréchal's update of the diagonal inverse-Hessian estimate `alpha` by
/// the pair `(s, z)` (Pathfinder's Algorithm 3).
fn update_diagonal(alpha: &mut [f64], s: &[f64], z: &[f64]) {
    let a: f64 = z.iter().zip(alpha.iter()).map(|(z, a)| a * z * z).sum();
    let b: f64 = z.iter().zip(s).map(|(z, s)| z * s).sum();
    let c: f64 = s.iter().zip(alpha.iter()).map(|(s, a)| s * s / a).sum();
    for ((alpha, s), z) in alpha.iter_mut().zip(s).zip(z) {
        let inverse = a / (b * *alpha) + z * z / b - a * s * s / (b * c * *alpha * *alpha);
        *alpha = 1.0 / inverse;
    }
}

/// One path's draws from its best normal.
struct PathOutput {
    positions: Vec<Vec<f64>>,
    log_p: Vec<f64>,
    log_q: Vec<f64>,
    report: PathReport,
}

fn run_path<T: SampleTarget + ?Sized>(
    target: &T,
    settings: &Pathfinder,
    path: usize,
) -> Result<PathOutput, PathfinderError> {
    let model_error = |source| PathfinderError::Model { path, source };
    let mut rng = rng_for(settings.seed, path as u64);
    let start = match settings.initial_positions.as_slice() {
        [] => target.initial_position(&mut rng),
        [one] => target.check_position(one).map(|()| one.clone()),
        many => target
            .check_position(&many[path])
            .map(|()| many[path].clone()),
    }
    .map_err(|source| PathfinderError::Init { path, source })?;
    let d = start.len();

    // L-BFGS on −ln p, keeping the path.
    let mut evaluations = 0usize;
    let mut objective = |u: &[f64], g: &mut [f64]| -> ppl_core::Result<f64> {
        evaluations += 1;
        let lp = target.logp_grad(u, g)?;
        g.iter_mut().for_each(|v| *v = -*v);
        Ok(-lp)
    };
    let mut grad = vec![0.0; d];
    let f = objective(&start, &mut grad).map_err(model_error)?;
    let mut iterates = vec![(start.clone(), grad.clone())];
    let lbfgs_settings = Map::default()
        .max_iters(settings.max_lbfgs_iters)
        .history_size(settings.history_size)
        .lbfgs_settings();
    let outcome = lbfgs::minimize(
        &mut objective,
        start,
        f,
        grad,
        &lbfgs_settings,
        &mut |x, g| {
            iterates.push((x.to_vec(), g.to_vec()));
        },
    );
    let stop = match outcome {
        Ok(minimum) => Some(minimum.stop),
        Err(OptimizeError::LineSearch { .. }) => None,
        Err(OptimizeError::Model(source)) => return Err(model_error(source)),
        Err(source) => return Err(PathfinderError::Optimize { path, source }),
    };
    let iterations = iterates.len() - 1;

    // The normals along the path, each scored by its ELBO.
    let mut alpha = vec![1.0; d];
    let mut pairs: VecDeque<(Vec<f64>, Vec<f64>)> = VecDeque::new();
    let mut best: Option<(f64, usize, LbfgsNormal)> = None;
    for l in 1..iterates.len() {
        let (x_prev, g_prev) = &iterates[l - 1];
        let (x, g) = &iterates[l];
        let s: Vec<f64> = x.iter().zip(x_prev).map(|(a, b)| a - b).collect();
        let z: Vec<f64> = g.iter().zip(g_prev).map(|(a, b)| a - b).collect();
        let sz: f64 = s.iter().zip(&z).map(|(a, b)| a * b).sum();
        let z_norm = z.iter().map(|v| v * v).sum::<f64>().sqrt();
        if sz > CURVATURE_EPSILON * z_norm {
            update_diagonal(&mut alpha, &s, &z);
            if pairs.len() == settings.history_size {
                pairs.pop_front();
            }
            pairs.push_back((s, z));
        }
        let grad_log_p: Vec<f64> = g.iter().map(|v| -v).collect();
        let Some(normal) = LbfgsNormal::new(x, &grad_log_p, &alpha, &pairs) else {
            continue;
        };
        let mut sum = 0.0;
        for _ in 0..settings.elbo_draws {
            let (u, log_q) = normal.draw(&mut rng);
            sum += target.logp(&u).map_err(model_error)? - log_q;
        }
        let elbo = sum / settings.elbo_draws as f64;
        if elbo.is_finite() && best.as_ref().is_none_or(|(b, _, _)| elbo > *b) {
            best = Some((elbo, l, normal));
        }
    }
    let Some((elbo, best_iteration, normal)) = best else {
        return Err(PathfinderError::NoApproximation { path, iterations });
    };

    let mut output = PathOutput {
        positions: Vec::with_capacity(settings.draws),
        log_p: Vec::with_capacity(settings.draws),
        log_q: Vec::with_capacity(settings.draws),
        report: PathReport {
            path,
            iterations,
            stop,
            best_iteration,
            elbo,
            gradient_evaluations: evaluations,
        },
    };
    for _ in 0..settings.draws {
        let (u, log_q) = normal.draw(&mut rng);
        output.log_p.push(target.logp(&u).map_err(model_error)?);
        output.log_q.push(log_q);
        output.positions.push(u);
    }
    Ok(output)
}

/// Runs Pathfinder on `target` (see [`Variational::pathfinder`](crate::Variational::pathfinder)).
pub(crate) fn pathfinder<T: SampleTarget + ?Sized>(
    target: &T,
    settings: &Pathfinder,
) -> Result<PathfinderFit, PathfinderError> {
    settings.validate()?;
    let discrete = target.discrete_variables();
    if !discrete.is_empty() {
        return Err(PathfinderError::DiscreteVariables(discrete));
    }
    let started = Instant::now();
    let results: Vec<Result<PathOutput, PathfinderError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..settings.paths)
            .map(|path| scope.spawn(move || run_path(target, settings, path)))
            .collect();
        handles
            .into_iter()
            .enumerate()
            .map(|(path, handle)| {
                handle.join().unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic".to_string());
                    Err(PathfinderError::Panic { path, message })
                })
            })
            .collect()
    });
    let mut outputs = Vec::new();
    let mut failed_paths = Vec::new();
    for result in results {
        match result {
            Ok(output) => outputs.push(output),
            Err(error) => failed_paths.push(error),
        }
    }
    if outputs.is_empty() {
        // Every path failed: the first path's error says why.
        return Err(failed_paths.swap_remove(0));
    }
    let single_path = outputs.len() == 1;
    let (mut positions, mut log_p, mut ratios, mut paths) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for output in outputs {
        ratios.extend(output.log_p.iter().zip(&output.log_q).map(|(p, q)| p - q));
        positions.extend(output.positions);
        log_p.extend(output.log_p);
        paths.push(output.report);
    }
    let (log_weights, pareto_k) = importance_weights(ratios);
    let (positions, log_p) = if single_path {
        (positions, log_p)
    } else {
        // Importance resampling with replacement, from a stream no path uses.
        let mut rng = rng_for(settings.seed, settings.paths as u64);
        let mut cumulative = Vec::with_capacity(log_weights.len());
        let mut total = 0.0;
        for w in &log_weights {
            total += w.exp();
            cumulative.push(total);
        }
        let picks: Vec<usize> = (0..settings.draws)
            .map(|_| {
                let u = rng.gen::<f64>() * total;
                cumulative
                    .partition_point(|c| *c <= u)
                    .min(cumulative.len() - 1)
            })
            .collect();
        (
            picks.iter().map(|&i| positions[i].clone()).collect(),
            picks.iter().map(|&i| log_p[i]).collect(),
        )
    };
    let trace =
        independent_draws_trace(target, &positions, &log_p, settings.seed, started.elapsed())
            .map_err(|source| PathfinderError::Model { path: 0, source })?;
    Ok(PathfinderFit {
        trace,
        pareto_k,
        paths,
        failed_paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pairs of exact steps on the quadratic `½ xᵀ A x`: `z = A s`.
    fn quadratic_pairs(a: &DMatrix<f64>, steps: &[Vec<f64>]) -> VecDeque<(Vec<f64>, Vec<f64>)> {
        steps
            .iter()
            .map(|s| {
                let z = a * DVector::from_column_slice(s);
                (s.clone(), z.iter().copied().collect())
            })
            .collect()
    }

    #[test]
    fn the_covariance_satisfies_the_newest_secant_condition() {
        // BFGS's inverse-Hessian estimate maps the newest gradient change to its step:
        // Σ z = s.
        let a = DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0]);
        // A-conjugate steps (the eigenvectors, scaled), as exact line searches give.
        let eigen = a.clone().symmetric_eigen();
        let steps: Vec<Vec<f64>> = (0..3)
            .map(|k| {
                eigen
                    .eigenvectors
                    .column(k)
                    .iter()
                    .map(|v| v * (k as f64 + 0.5))
                    .collect()
            })
            .collect();
        let pairs = quadratic_pairs(&a, &steps);
        let mut alpha = vec![1.0; 3];
        for (s, z) in &pairs {
            update_diagonal(&mut alpha, s, z);
        }
        let normal = LbfgsNormal::new(&[0.0; 3], &[0.0; 3], &alpha, &pairs).unwrap();
        let sigma = normal.covariance();
        for (s, z) in pairs.iter().rev().take(1) {
            let mapped = &sigma * DVector::from_column_slice(z);
            for (m, s) in mapped.iter().zip(s) {
                assert!((m - s).abs() < 1e-10, "{mapped} vs {s:?}");
            }
        }
        // With as many conjugate pairs as dimensions, BFGS on a quadratic recovers the
        // inverse Hessian exactly (the hereditary property).
        let inverse = a.try_inverse().unwrap();
        assert!(
            (&sigma - &inverse).abs().max() < 1e-10,
            "{sigma} vs {inverse}"
        );
        // Symmetric positive definite, and the log-determinant agrees.
        assert!((&sigma - sigma.transpose()).abs().max() < 1e-12);
        let det = sigma.determinant();
        assert!((normal.log_det - det.ln()).abs() < 1e-10);
    }

    #[test]
    fn draws_have_the_factored_covariance_and_their_log_density() {
        let a = DMatrix::from_row_slice(2, 2, &[2.0, 0.9, 0.9, 1.0]);
        let pairs = quadratic_pairs(&a, &[vec![1.0, 0.3]]);
        let alpha = vec![0.7, 1.3];
        let x = [0.5, -1.0];
        let g = [0.2, 0.1];
        let normal = LbfgsNormal::new(&x, &g, &alpha, &pairs).unwrap();
        let sigma = normal.covariance();
        // The mean is one Newton step: x + Σ g.
        let newton = DVector::from_column_slice(&x) + &sigma * DVector::from_column_slice(&g);
        assert!((&normal.mean - &newton).abs().max() < 1e-12);
        // Each draw's log q is the normal's log-density there.
        let precision = sigma.clone().try_inverse().unwrap();
        let mut rng = rng_for(1, 0);
        let n = 20_000;
        let mut second = DMatrix::zeros(2, 2);
        for _ in 0..n {
            let (u, log_q) = normal.draw(&mut rng);
            let centred = DVector::from_column_slice(&u) - &normal.mean;
            let quad = (centred.transpose() * &precision * &centred)[(0, 0)];
            let exact = -0.5 * (quad + sigma.determinant().ln()) - 2.0 * HALF_LN_2PI;
            assert!((log_q - exact).abs() < 1e-9);
            second += &centred * centred.transpose();
        }
        // The draws' covariance: each entry within 4 standard errors (the variance of
        // a product of centred normals is Σ_ii Σ_jj + Σ_ij²).
        let empirical = second / n as f64;
        for i in 0..2 {
            for j in 0..2 {
                let se =
                    ((sigma[(i, i)] * sigma[(j, j)] + sigma[(i, j)].powi(2)) / n as f64).sqrt();
                assert!(
                    (empirical[(i, j)] - sigma[(i, j)]).abs() < 4.0 * se,
                    "{empirical} vs {sigma}"
                );
            }
        }
    }
}
