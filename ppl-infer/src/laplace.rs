//! The Laplace approximation (Stan's `laplace`): a normal distribution on the
//! unconstrained scale at the posterior mode, with the inverse of the negative Hessian as
//! its covariance, and independent draws from it.

use crate::independent_draws::independent_draws_trace;
use crate::loo::importance_pareto_k;
use crate::optimize::{MapEstimate, OptimizeError};
use crate::trace::Trace;
use nalgebra::{DMatrix, DVector};
use ppl_core::model::rng_for;
use ppl_core::{Model, ModelTemplate};
use rand_distr::{Distribution, StandardNormal};
use std::time::Instant;

/// A Laplace approximation of a posterior, from
/// [`Optimize::laplace`](crate::Optimize::laplace): the normal `q = N(mode, covariance)`
/// on the unconstrained scale and draws from it.
///
/// `log_p[i] − log_q[i]` are the draws' log importance ratios: `pareto_k` (Pareto `k̂`,
/// Yao et al. 2018) below 0.5 says the normal is close to the posterior; up to 0.7 the
/// draws can still be reweighted by these ratios; above, the approximation is poor.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Gamma;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{Map, Optimize};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `tau ~ Gamma(2, 1)`: on u = ln tau the density ∝ exp(2u − e^u), skewed.
/// struct Skewed;
/// impl ModelTemplate for Skewed {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "skewed" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let _tau: R = api::sample(ctx, "tau", Gamma::new(2.0, 1.0), NoShape, None);
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Skewed)?;
/// let mode = model.find_map(Map::default().jacobian(true).seed(1))?;
/// let laplace = model.laplace(&mode, 2000, 9)?;
/// // Mode of 2u − e^u at u = ln 2, curvature −e^u = −2: q = N(ln 2, 1/2).
/// assert!((laplace.mode[0] - 2_f64.ln()).abs() < 1e-4);
/// assert!((laplace.covariance[0][0] - 0.5).abs() < 1e-4);
/// assert_eq!(laplace.log_p.len(), 2000);
/// assert_eq!(laplace.trace.chains().len(), 1);
/// // The skew shows in k̂ (finite: there are enough draws to fit the tail).
/// assert!(laplace.pareto_k.is_finite());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LaplaceApproximation {
    /// The mode on the unconstrained scale (the centre of `q`).
    pub mode: Vec<f64>,
    /// The covariance `(−H)⁻¹` on the unconstrained scale, row by row.
    pub covariance: Vec<Vec<f64>>,
    /// The draws as one chain: constrained values and deterministics, with each draw's
    /// log-density (with the Jacobians) as its `lp`.
    pub trace: Trace,
    /// The model's log-density (with the Jacobians) at each draw.
    pub log_p: Vec<f64>,
    /// The normal's log-density at each draw.
    pub log_q: Vec<f64>,
    /// Pareto `k̂` of the log importance ratios `log_p − log_q` (infinite with too few
    /// draws to fit a tail, below about 25).
    pub pareto_k: f64,
}

/// The Laplace approximation at `map` with `draws` draws from random stream 0 of `seed`.
pub(crate) fn laplace_approximation<T: ModelTemplate + Sync>(
    model: &Model<T>,
    map: &MapEstimate,
    draws: usize,
    seed: u64,
) -> Result<LaplaceApproximation, OptimizeError> {
    if !map.jacobian {
        return Err(OptimizeError::ModeWithoutJacobian);
    }
    if draws == 0 {
        return Err(OptimizeError::NoDraws);
    }
    let started = Instant::now();
    let hessian = model.hessian(&map.position)?;
    let dim = hessian.len();
    // The precision −H (symmetrised against rounding) = L Lᵀ.
    let precision = DMatrix::from_fn(dim, dim, |i, j| -0.5 * (hessian[i][j] + hessian[j][i]));
    let not_negative_definite = || OptimizeError::NotNegativeDefinite {
        largest_eigenvalue: if precision.iter().all(|v| v.is_finite()) {
            (-&precision).symmetric_eigenvalues().max()
        } else {
            f64::NAN
        },
    };
    let cholesky = precision
        .iter()
        .all(|v| v.is_finite())
        .then(|| precision.clone().cholesky())
        .flatten()
        .ok_or_else(not_negative_definite)?;
    let covariance = cholesky.inverse();
    let factor = cholesky.l();

    // u = mode + L⁻ᵀ z has covariance (L Lᵀ)⁻¹; ln q(u) = −d/2 ln 2π + Σ ln Lᵢᵢ − zᵀz/2.
    let log_normaliser = -0.5 * dim as f64 * (2.0 * std::f64::consts::PI).ln()
        + factor.diagonal().iter().map(|l| l.ln()).sum::<f64>();
    let mode = DVector::from_column_slice(&map.position);
    let mut rng = rng_for(seed, 0);
    let mut positions = Vec::with_capacity(draws);
    let mut log_p = Vec::with_capacity(draws);
    let mut log_q = Vec::with_capacity(draws);
    for _ in 0..draws {
        let z = DVector::from_fn(dim, |_, _| StandardNormal.sample(&mut rng));
        let offset = factor
            .tr_solve_lower_triangular(&z)
            .ok_or_else(not_negative_definite)?;
        let u: Vec<f64> = (&mode + offset).iter().copied().collect();
        log_p.push(model.logp(&u)?);
        log_q.push(log_normaliser - 0.5 * z.norm_squared());
        positions.push(u);
    }
    let ratios = log_p.iter().zip(&log_q).map(|(p, q)| p - q).collect();
    let pareto_k = importance_pareto_k(ratios);
    let trace = independent_draws_trace(model, &positions, &log_p, seed, started.elapsed())?;
    Ok(LaplaceApproximation {
        mode: map.position.clone(),
        covariance: (0..dim)
            .map(|i| covariance.row(i).iter().copied().collect())
            .collect(),
        trace,
        log_p,
        log_q,
        pareto_k,
    })
}
