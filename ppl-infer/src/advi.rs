//! ADVI: automatic differentiation variational inference (Kucukelbir et al. 2017), run
//! as Stan's `variational` method runs it.
//!
//! A Gaussian `q` on the unconstrained scale — independent coordinates (mean-field) or
//! a full covariance through its Cholesky factor (full-rank) — is fitted by stochastic
//! gradient ascent on the evidence lower bound `ELBO = E_q[ln p(ζ)] + H[q]`, where
//! `ln p` is the model's log-density with the transforms' log-Jacobians. The gradient
//! of the expectation is the reparameterisation estimate from `grad_samples` draws
//! `ζ = μ + S η`, `η ~ N(0, I)`, through the model's tape gradient; the entropy's is
//! exact. Steps follow Stan's adaptive sequence `η_k = η / √k / (1 + √s_k)` per
//! coordinate with `s_k` a running average of squared gradients; the base `η` is chosen
//! by trying 100, 10, 1, 0.1, 0.01 for `adapt_iters` iterations each unless given.
//! Every `eval_elbo` iterations the ELBO is estimated from `elbo_samples` draws and the
//! run stops when the mean or the median of the recent relative changes falls below
//! `tol_rel_obj`.

use crate::independent_draws::independent_draws_trace;
use crate::loo::importance_pareto_k;
use crate::pathfinder::{Pathfinder, PathfinderError, PathfinderFit};
use crate::target::SampleTarget;
use crate::trace::Trace;
use ppl_core::model::rng_for;
use rand::Rng;
use rand_distr::StandardNormal;
use std::fmt;
use std::time::Instant;
use thiserror::Error;

/// `½ ln 2π`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
/// The base step sizes tried by the adaptation, in order (Stan's).
const ETA_SEQUENCE: [f64; 5] = [100.0, 10.0, 1.0, 0.1, 0.01];
/// Weight of the newest squared gradient in the running average `s_k`.
const NEW_GRADIENT_WEIGHT: f64 = 0.1;
/// A gradient's square above this multiple of the running average sets its own step
/// scale (a step is then at most `η / √k · √MAX_GRADIENT_RATIO`).
const MAX_GRADIENT_RATIO: f64 = 10.0;
/// Consecutive iterations with a non-finite draw after which the run fails.
const MAX_CONSECUTIVE_NON_FINITE: usize = 10;
/// The offset `τ` in `η / √k / (τ + √s_k)`.
const STEP_OFFSET: f64 = 1.0;
/// A relative ELBO change above this late in a run is reported as possible divergence.
const DIVERGING_CHANGE: f64 = 0.5;

/// The variational family: a Gaussian on the unconstrained scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Family {
    /// Independent coordinates: a mean and a log standard deviation per coordinate.
    MeanField,
    /// A full covariance `L Lᵀ` with `L` lower triangular.
    FullRank,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::MeanField => "mean-field",
            Family::FullRank => "full-rank",
        })
    }
}

/// Settings of an ADVI run (Stan's `variational` arguments and defaults); pass them to
/// [`Variational::fit`].
///
/// ```
/// use ppl_infer::{Advi, Family};
///
/// let advi = Advi::fullrank().seed(3).max_iters(20_000).tol_rel_obj(0.001);
/// assert_eq!(advi.family(), Family::FullRank);
/// assert!(advi.validate().is_ok());
/// assert!(Advi::meanfield().eta(-1.0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Advi {
    family: Family,
    seed: u64,
    max_iters: usize,
    grad_samples: usize,
    elbo_samples: usize,
    eval_elbo: usize,
    eta: Option<f64>,
    adapt_iters: usize,
    tol_rel_obj: f64,
    average_iterates: bool,
    initial_position: Option<Vec<f64>>,
}

impl Advi {
    fn new(family: Family) -> Self {
        Advi {
            family,
            seed: 0,
            max_iters: 10_000,
            grad_samples: 1,
            elbo_samples: 100,
            eval_elbo: 100,
            eta: None,
            adapt_iters: 50,
            tol_rel_obj: 0.01,
            average_iterates: true,
            initial_position: None,
        }
    }

    /// Mean-field ADVI (Stan's default algorithm, PyMC's `method="advi"`).
    pub fn meanfield() -> Self {
        Advi::new(Family::MeanField)
    }

    /// Full-rank ADVI (PyMC's `method="fullrank_advi"`).
    pub fn fullrank() -> Self {
        Advi::new(Family::FullRank)
    }

    /// The random seed (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The most iterations of the optimisation (default 10,000).
    pub fn max_iters(mut self, max_iters: usize) -> Self {
        self.max_iters = max_iters;
        self
    }

    /// Draws per gradient estimate (default 1).
    pub fn grad_samples(mut self, grad_samples: usize) -> Self {
        self.grad_samples = grad_samples;
        self
    }

    /// Draws per ELBO estimate (default 100).
    pub fn elbo_samples(mut self, elbo_samples: usize) -> Self {
        self.elbo_samples = elbo_samples;
        self
    }

    /// Iterations between ELBO estimates, the convergence checks (default 100).
    pub fn eval_elbo(mut self, eval_elbo: usize) -> Self {
        self.eval_elbo = eval_elbo;
        self
    }

    /// A fixed base step size, which turns the step-size adaptation off.
    pub fn eta(mut self, eta: f64) -> Self {
        self.eta = Some(eta);
        self
    }

    /// Iterations per step size tried by the adaptation (default 50).
    pub fn adapt_iters(mut self, adapt_iters: usize) -> Self {
        self.adapt_iters = adapt_iters;
        self
    }

    /// The relative ELBO change below which the run has converged (default 0.01).
    pub fn tol_rel_obj(mut self, tol_rel_obj: f64) -> Self {
        self.tol_rel_obj = tol_rel_obj;
        self
    }

    /// Whether the result is the average of the iterates since the last power-of-two
    /// iteration — at least the last half of the run — rather than the last iterate
    /// (default true; false runs Stan's algorithm exactly). Stochastic gradient ascent
    /// ends wandering around the optimum by about the last step's size; the average
    /// (Polyak and Juditsky 1992, recommended for ADVI by Dhaka et al. 2020) cuts that
    /// noise several-fold at no extra cost.
    pub fn average_iterates(mut self, average: bool) -> Self {
        self.average_iterates = average;
        self
    }

    /// The initial mean on the unconstrained scale (default: a random initial position
    /// of the model, as for sampling). The initial scale is the identity.
    pub fn initial_position(mut self, position: Vec<f64>) -> Self {
        self.initial_position = Some(position);
        self
    }

    /// The variational family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), AdviError> {
        let positive_count = [
            ("max_iters", self.max_iters),
            ("grad_samples", self.grad_samples),
            ("elbo_samples", self.elbo_samples),
            ("eval_elbo", self.eval_elbo),
            ("adapt_iters", self.adapt_iters),
        ];
        for (name, value) in positive_count {
            if value == 0 {
                return Err(AdviError::InvalidSetting {
                    name,
                    requirement: "must be at least 1",
                    value: 0.0,
                });
            }
        }
        let positive_real = [("tol_rel_obj", Some(self.tol_rel_obj)), ("eta", self.eta)];
        for (name, value) in positive_real {
            if let Some(value) = value.filter(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(AdviError::InvalidSetting {
                    name,
                    requirement: "must be positive and finite",
                    value,
                });
            }
        }
        Ok(())
    }
}

/// Why ADVI could not run or stopped with an error.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum AdviError {
    /// A setting is out of range.
    #[error("ADVI setting `{name}` {requirement}, got {value}")]
    InvalidSetting {
        /// The setting's name.
        name: &'static str,
        /// What it must satisfy.
        requirement: &'static str,
        /// The value given.
        value: f64,
    },
    /// ADVI fits continuous variables only.
    #[error("ADVI cannot fit discrete variables ({}); condition the model on them or sample with `Compound`", .0.join(", "))]
    DiscreteVariables(Vec<String>),
    /// No usable initial position (none found, or the given one is invalid).
    #[error("no initial position for ADVI: {0}")]
    Init(ppl_core::Error),
    /// The model returned an error.
    #[error("the model returned an error: {0}")]
    Model(ppl_core::Error),
    /// The initial approximation's ELBO is not finite.
    #[error("the ELBO of the initial approximation is not finite: draws from it reach points where the model's log-density is not finite; give an initial position nearer the posterior")]
    InitialElbo,
    /// Every step size the adaptation tried made the ELBO worse than at the start.
    #[error("every step size tried ({}) made the ELBO worse than at the start; the model may be ill-conditioned or misspecified", ETA_SEQUENCE.map(|e| e.to_string()).join(", "))]
    AllStepSizesFailed,
    /// A draw of the approximation reached a point where the model's log-density or
    /// its gradient is not finite.
    #[error("iteration {iteration}: a draw of the approximation has a non-finite log-density or gradient; try a smaller `eta`")]
    NonFinite {
        /// The iteration (1-based) of the optimisation.
        iteration: usize,
    },
    /// The fitted approximation's ELBO is below the initial one's: the optimisation
    /// diverged.
    #[error("the fit diverged: its ELBO ({last}) is below the initial approximation's ({initial}); try a smaller `eta` or an initial position nearer the posterior (e.g. a mode from `find_map`)")]
    Diverged {
        /// The initial approximation's ELBO.
        initial: f64,
        /// The fitted one's.
        last: f64,
    },
    /// The approximation's dimension differs from the target's.
    #[error("the approximation has {expected} dimensions, the target {found}")]
    Dimension {
        /// The approximation's dimension.
        expected: usize,
        /// The target's.
        found: usize,
    },
    /// Zero draws were asked for.
    #[error("the number of draws must be at least 1")]
    NoDraws,
}

/// One ELBO estimate of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElboEstimate {
    /// The iteration after which it was estimated.
    pub iteration: usize,
    /// The estimate.
    pub elbo: f64,
    /// `|ELBO − previous| / |previous|` (none for the first estimate).
    pub relative_change: Option<f64>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Convergence {
    /// The mean of the recent relative ELBO changes fell below `tol_rel_obj`.
    MeanChange,
    /// Their median did.
    MedianChange,
    /// `max_iters` iterations ran without either.
    MaxIterations,
}

/// A fitted Gaussian approximation on the unconstrained scale.
///
/// See [`Variational`] for an example.
#[derive(Debug, Clone, PartialEq)]
pub struct Approximation {
    family: Family,
    params: Params,
    elbo: f64,
    history: Vec<ElboEstimate>,
    eta: f64,
    iterations: usize,
    convergence: Convergence,
    gradient_evaluations: u64,
    may_be_diverging: bool,
}

impl Approximation {
    /// The variational family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The dimension of the unconstrained scale.
    pub fn dim(&self) -> usize {
        self.params.dim()
    }

    /// The mean on the unconstrained scale.
    pub fn mean(&self) -> &[f64] {
        &self.params.mean
    }

    /// The standard deviations on the unconstrained scale.
    pub fn std_devs(&self) -> Vec<f64> {
        let d = self.dim();
        match self.family {
            Family::MeanField => self.params.scale.iter().map(|w| w.exp()).collect(),
            Family::FullRank => (0..d)
                .map(|i| {
                    let row = &self.params.scale[i * d..i * d + i + 1];
                    row.iter().map(|l| l * l).sum::<f64>().sqrt()
                })
                .collect(),
        }
    }

    /// The covariance on the unconstrained scale, row-major `d × d` (diagonal for
    /// mean-field).
    pub fn covariance(&self) -> Vec<f64> {
        let d = self.dim();
        let mut cov = vec![0.0; d * d];
        match self.family {
            Family::MeanField => {
                for (i, w) in self.params.scale.iter().enumerate() {
                    cov[i * d + i] = (2.0 * w).exp();
                }
            }
            Family::FullRank => {
                let l = &self.params.scale;
                for i in 0..d {
                    for j in 0..=i {
                        let c: f64 = (0..=j).map(|k| l[i * d + k] * l[j * d + k]).sum();
                        cov[i * d + j] = c;
                        cov[j * d + i] = c;
                    }
                }
            }
        }
        cov
    }

    /// The ELBO estimates of the run, every `eval_elbo` iterations and at the end.
    pub fn history(&self) -> &[ElboEstimate] {
        &self.history
    }

    /// The ELBO of the approximation, estimated from `elbo_samples` draws at the end
    /// of the run (a fit whose ELBO is below the initial approximation's by more than
    /// four standard errors is an [`AdviError::Diverged`] instead).
    pub fn elbo(&self) -> f64 {
        self.elbo
    }

    /// The base step size used (given or adapted).
    pub fn eta(&self) -> f64 {
        self.eta
    }

    /// Iterations of the optimisation (the adaptation's not counted).
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// How the run ended.
    pub fn convergence(&self) -> Convergence {
        self.convergence
    }

    /// Whether the relative ELBO change fell below `tol_rel_obj`.
    pub fn converged(&self) -> bool {
        self.convergence != Convergence::MaxIterations
    }

    /// Whether, after `10 · eval_elbo` iterations, the mean or median relative ELBO
    /// change still exceeded 0.5 at some estimate (Stan's "may be diverging" warning:
    /// inspect the ELBO history).
    pub fn may_be_diverging(&self) -> bool {
        self.may_be_diverging
    }

    /// Gradient evaluations of the model, the adaptation's included.
    pub fn gradient_evaluations(&self) -> u64 {
        self.gradient_evaluations
    }

    /// `draws` independent draws from the approximation, mapped to the constrained
    /// scale by `target` (the fitted model), as a trace of one chain with the model's
    /// variables and deterministics; each draw's `lp` statistic is the model's
    /// log-density there.
    pub fn sample<T: SampleTarget + ?Sized>(
        &self,
        target: &T,
        draws: usize,
        seed: u64,
    ) -> Result<Trace, AdviError> {
        let start = Instant::now();
        let drawn = self.draws(target, draws, seed)?;
        let (positions, log_p): (Vec<Vec<f64>>, Vec<f64>) =
            drawn.into_iter().map(|(d, lp, _)| (d.zeta, lp)).unzip();
        independent_draws_trace(target, &positions, &log_p, seed, start.elapsed())
            .map_err(AdviError::Model)
    }

    /// Checks the approximation against `target` with `draws` fresh draws: the ELBO
    /// with its standard error, and the Pareto `k̂` of the importance ratios.
    pub fn check<T: SampleTarget + ?Sized>(
        &self,
        target: &T,
        draws: usize,
        seed: u64,
    ) -> Result<ApproximationCheck, AdviError> {
        let drawn = self.draws(target, draws, seed)?;
        let ratios: Vec<f64> = drawn.iter().map(|(_, lp, lq)| lp - lq).collect();
        let n = ratios.len() as f64;
        let elbo = ratios.iter().sum::<f64>() / n;
        let variance = ratios.iter().map(|r| (r - elbo).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Ok(ApproximationCheck {
            elbo,
            elbo_se: (variance / n).sqrt(),
            pareto_k: importance_pareto_k(ratios),
        })
    }

    /// Draws with the model's and the approximation's log-densities.
    fn draws<T: SampleTarget + ?Sized>(
        &self,
        target: &T,
        draws: usize,
        seed: u64,
    ) -> Result<Vec<(Draw, f64, f64)>, AdviError> {
        if draws == 0 {
            return Err(AdviError::NoDraws);
        }
        if target.dim() != self.dim() {
            return Err(AdviError::Dimension {
                expected: self.dim(),
                found: target.dim(),
            });
        }
        let mut rng = rng_for(seed, 0);
        (0..draws)
            .map(|_| {
                let draw = self.params.draw(self.family, &mut rng);
                let lp = target.logp(&draw.zeta).map_err(AdviError::Model)?;
                let lq = self.params.log_q(self.family, &draw);
                Ok((draw, lp, lq))
            })
            .collect()
    }
}

impl fmt::Display for Approximation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ending = match self.convergence {
            Convergence::MeanChange => "converged (mean relative ELBO change)",
            Convergence::MedianChange => "converged (median relative ELBO change)",
            Convergence::MaxIterations => "did not converge (maximum iterations)",
        };
        writeln!(
            f,
            "{} ADVI: {} iterations, eta = {}, {ending}; ELBO {:.3}",
            self.family,
            self.iterations,
            self.eta,
            self.elbo()
        )?;
        if self.may_be_diverging {
            writeln!(f, "warning: the ELBO may be diverging; inspect its history")?;
        }
        writeln!(
            f,
            "{:>10} {:>14} {:>10}",
            "iteration", "ELBO", "rel. change"
        )?;
        for e in &self.history {
            let change = e
                .relative_change
                .map_or("".to_string(), |c| format!("{c:.4}"));
            writeln!(f, "{:>10} {:>14.3} {:>10}", e.iteration, e.elbo, change)?;
        }
        Ok(())
    }
}

/// What [`Approximation::check`] estimates from fresh draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApproximationCheck {
    /// The ELBO estimated from the draws.
    pub elbo: f64,
    /// Its Monte-Carlo standard error.
    pub elbo_se: f64,
    /// The Pareto shape `k̂` of the importance ratios `p/q` at the draws (Yao et al.
    /// 2018): below 0.5 the approximation is close to the posterior; up to 0.7 its
    /// draws can be importance-reweighted; above, it is not to be trusted.
    pub pareto_k: f64,
}

/// ADVI on a model (or any [`SampleTarget`]): `model.fit(Advi::meanfield())`, then
/// [`Approximation::sample`] for draws as a [`Trace`] (PyMC's `pm.fit` and
/// `approx.sample`).
///
/// With `mu ~ Normal(0, 10)` and `y ~ Normal(mu, 1)` observed four times, the posterior
/// is normal with precision `1/100 + 4` and mean `Σy / precision`; mean-field ADVI finds
/// it:
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Normal;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{Advi, Variational};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// struct Conjugate;
/// impl ModelTemplate for Conjugate {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "conjugate" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 10.0), NoShape, None);
///         api::observe(ctx, "y", Normal::new(mu, 1.0), &[2.0, 3.5, 4.0, 5.3][..]);
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Conjugate)?;
/// let fit = model.fit(Advi::meanfield().seed(1))?;
/// // Exact posterior: precision 1/100 + 4, mean 14.8 / precision.
/// let precision = 0.01 + 4.0;
/// let (mean, sd) = (14.8 / precision, precision.powf(-0.5));
/// assert!((fit.mean()[0] - mean).abs() < 0.5 * sd, "{fit}");
/// assert!((fit.std_devs()[0] / sd - 1.0).abs() < 0.5, "{fit}");
/// let trace = fit.sample(&model, 1000, 2)?;
/// assert_eq!(trace.samples("mu", 0).unwrap()[0].len(), 1000);
/// println!("{fit}");
/// # Ok(()) }
/// ```
pub trait Variational {
    /// Fits the approximation (see the trait's docs).
    fn fit(&self, advi: Advi) -> Result<Approximation, AdviError>;

    /// Pathfinder (Zhang et al. 2022, Stan's `pathfinder`): the best normal
    /// approximation along each of several L-BFGS paths, their draws pooled by
    /// importance resampling (see [`Pathfinder`]).
    ///
    /// On the model above, with its exact normal posterior:
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::Normal;
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// # struct Conjugate;
    /// # impl ModelTemplate for Conjugate {
    /// #     type Output<R: Real> = ();
    /// #     fn name(&self) -> &'static str { "conjugate" }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 10.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, 1.0), &[2.0, 3.5, 4.0, 5.3][..]);
    /// #     }
    /// # }
    /// use ppl_infer::{Pathfinder, Variational};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = Model::new(Conjugate)?;
    /// let fit = model.pathfinder(Pathfinder::default().seed(1))?;
    /// let precision = 0.01 + 4.0;
    /// let draws = &fit.trace.samples("mu", 0).unwrap()[0];
    /// let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    /// // 1000 draws: the mean within 4 standard errors of the exact one.
    /// assert!((mean - 14.8 / precision).abs() < 4.0 * (1.0 / precision / 1000.0).sqrt());
    /// assert!(fit.pareto_k < 0.5);
    /// assert_eq!(fit.paths.len(), 4);
    /// # Ok(()) }
    /// ```
    fn pathfinder(&self, settings: Pathfinder) -> Result<PathfinderFit, PathfinderError>;
}

impl<T: SampleTarget + ?Sized> Variational for T {
    fn pathfinder(&self, settings: Pathfinder) -> Result<PathfinderFit, PathfinderError> {
        crate::pathfinder::pathfinder(self, &settings)
    }

    fn fit(&self, advi: Advi) -> Result<Approximation, AdviError> {
        advi.validate()?;
        let discrete = self.discrete_variables();
        if !discrete.is_empty() {
            return Err(AdviError::DiscreteVariables(discrete));
        }
        let mut rng = rng_for(advi.seed, 0);
        let start = match &advi.initial_position {
            Some(position) => {
                self.check_position(position).map_err(AdviError::Init)?;
                position.clone()
            }
            None => self.initial_position(&mut rng).map_err(AdviError::Init)?,
        };
        Fitting::new(self, &advi, rng, start).run()
    }
}

/// The variational parameters.
#[derive(Debug, Clone, PartialEq)]
struct Params {
    /// The mean `μ`.
    mean: Vec<f64>,
    /// Mean-field: the log standard deviations `ω`; full-rank: `L`, row-major `d × d`.
    scale: Vec<f64>,
}

/// One draw `ζ = μ + S η` and its standard-normal `η`.
struct Draw {
    eta: Vec<f64>,
    zeta: Vec<f64>,
}

impl Params {
    fn initial(family: Family, start: Vec<f64>) -> Self {
        let d = start.len();
        let scale = match family {
            Family::MeanField => vec![0.0; d],
            Family::FullRank => {
                let mut l = vec![0.0; d * d];
                (0..d).for_each(|i| l[i * d + i] = 1.0);
                l
            }
        };
        Params { mean: start, scale }
    }

    fn dim(&self) -> usize {
        self.mean.len()
    }

    fn draw(&self, family: Family, rng: &mut impl Rng) -> Draw {
        let d = self.dim();
        let eta: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let zeta = match family {
            Family::MeanField => (0..d)
                .map(|i| self.mean[i] + self.scale[i].exp() * eta[i])
                .collect(),
            Family::FullRank => (0..d)
                .map(|i| {
                    let row = &self.scale[i * d..i * d + i + 1];
                    self.mean[i] + row.iter().zip(&eta).map(|(l, e)| l * e).sum::<f64>()
                })
                .collect(),
        };
        Draw { eta, zeta }
    }

    /// `ln |det S|`.
    fn log_det(&self, family: Family) -> f64 {
        let d = self.dim();
        match family {
            Family::MeanField => self.scale.iter().sum(),
            Family::FullRank => (0..d).map(|i| self.scale[i * d + i].abs().ln()).sum(),
        }
    }

    /// The entropy of `q`.
    fn entropy(&self, family: Family) -> f64 {
        self.dim() as f64 * (0.5 + HALF_LN_2PI) + self.log_det(family)
    }

    /// `ln q(ζ)` of a draw, from its `η`.
    fn log_q(&self, family: Family, draw: &Draw) -> f64 {
        let squares: f64 = draw.eta.iter().map(|e| e * e).sum();
        -0.5 * squares - self.dim() as f64 * HALF_LN_2PI - self.log_det(family)
    }
}

/// A run in progress.
struct Fitting<'a, T: ?Sized> {
    target: &'a T,
    advi: &'a Advi,
    rng: rand_chacha::ChaCha8Rng,
    start: Params,
    gradient_evaluations: u64,
    /// Whether the ELBO still changed by more than [`DIVERGING_CHANGE`] late in the run.
    may_be_diverging: bool,
    /// The sum of the main run's iterates since the last power-of-two iteration, and
    /// their number.
    iterate_sum: Params,
    iterates: usize,
    /// Scratch: the model's gradient at a draw.
    grad: Vec<f64>,
}

impl<'a, T: SampleTarget + ?Sized> Fitting<'a, T> {
    fn new(target: &'a T, advi: &'a Advi, rng: rand_chacha::ChaCha8Rng, start: Vec<f64>) -> Self {
        let d = start.len();
        let start = Params::initial(advi.family, start);
        let start_scale_len = start.scale.len();
        Fitting {
            target,
            advi,
            rng,
            start,
            gradient_evaluations: 0,
            may_be_diverging: false,
            iterate_sum: Params {
                mean: vec![0.0; d],
                scale: vec![0.0; start_scale_len],
            },
            iterates: 0,
            grad: vec![0.0; d],
        }
    }

    fn family(&self) -> Family {
        self.advi.family
    }

    /// The ELBO from `elbo_samples` draws; `None` when a draw's log-density is not
    /// finite (Stan gives up on such an estimate too).
    fn elbo(&mut self, params: &Params) -> Result<Option<f64>, AdviError> {
        Ok(self.elbo_with_se(params)?.map(|(elbo, _)| elbo))
    }

    /// [`elbo`](Self::elbo) with its Monte-Carlo standard error.
    fn elbo_with_se(&mut self, params: &Params) -> Result<Option<(f64, f64)>, AdviError> {
        let n = self.advi.elbo_samples;
        let (mut sum, mut squares) = (0.0, 0.0);
        for _ in 0..n {
            let draw = params.draw(self.family(), &mut self.rng);
            let lp = self.target.logp(&draw.zeta).map_err(AdviError::Model)?;
            if !lp.is_finite() {
                return Ok(None);
            }
            sum += lp;
            squares += lp * lp;
        }
        let nf = n as f64;
        let mean = sum / nf;
        let variance = ((squares - nf * mean * mean) / (nf - 1.0).max(1.0)).max(0.0);
        Ok(Some((
            mean + params.entropy(self.family()),
            (variance / nf).sqrt(),
        )))
    }

    /// The ELBO's gradient with respect to the mean and the scale parameters into
    /// `out`; false when a draw's log-density or gradient is not finite.
    fn elbo_gradient(&mut self, params: &Params, out: &mut Params) -> Result<bool, AdviError> {
        let family = self.family();
        let d = params.dim();
        out.mean.iter_mut().for_each(|g| *g = 0.0);
        out.scale.iter_mut().for_each(|g| *g = 0.0);
        for _ in 0..self.advi.grad_samples {
            let draw = params.draw(family, &mut self.rng);
            let lp = self
                .target
                .logp_grad(&draw.zeta, &mut self.grad)
                .map_err(AdviError::Model)?;
            self.gradient_evaluations += 1;
            if !lp.is_finite() || !self.grad.iter().all(|g| g.is_finite()) {
                return Ok(false);
            }
            for (m, g) in out.mean.iter_mut().zip(&self.grad) {
                *m += g;
            }
            match family {
                // ∂ζ_i/∂ω_i = η_i e^{ω_i}.
                Family::MeanField => {
                    for i in 0..d {
                        out.scale[i] += self.grad[i] * draw.eta[i] * params.scale[i].exp();
                    }
                }
                // ∂ζ_i/∂L_ij = η_j for j ≤ i.
                Family::FullRank => {
                    for i in 0..d {
                        for j in 0..=i {
                            out.scale[i * d + j] += self.grad[i] * draw.eta[j];
                        }
                    }
                }
            }
        }
        let n = self.advi.grad_samples as f64;
        out.mean.iter_mut().for_each(|g| *g /= n);
        out.scale.iter_mut().for_each(|g| *g /= n);
        // The entropy's gradient: 1 per ω_i, 1/L_ii on the diagonal.
        match family {
            Family::MeanField => out.scale.iter_mut().for_each(|g| *g += 1.0),
            Family::FullRank => {
                (0..d).for_each(|i| out.scale[i * d + i] += 1.0 / params.scale[i * d + i])
            }
        }
        Ok(true)
    }

    /// `iterations` steps of stochastic gradient ascent with base step `eta` from
    /// `params`. Without `history` (the adaptation's trials) it stops at the first
    /// non-finite gradient; with it (the main run) it skips such iterations unless they
    /// keep coming, averages the iterates, estimates the ELBO every `eval_elbo`
    /// iterations into `history` and stops at convergence.
    fn ascend(
        &mut self,
        params: &mut Params,
        eta: f64,
        iterations: usize,
        mut history: Option<&mut Vec<ElboEstimate>>,
    ) -> Result<Ascent, AdviError> {
        let mut gradient = params.clone();
        // The running averages of squared gradients; none before the first update.
        let mut squares = params.clone();
        let mut first_update = true;
        let buffer =
            ((0.1 * self.advi.max_iters as f64 / self.advi.eval_elbo as f64) as usize).max(2);
        let mut changes: Vec<f64> = Vec::with_capacity(buffer);
        let mut non_finite = 0;
        for k in 1..=iterations {
            if !self.elbo_gradient(params, &mut gradient)? {
                // A draw where the model's density is not finite: in the adaptation
                // this step size has failed; in the main run the iteration is skipped,
                // unless it keeps happening.
                non_finite += 1;
                if history.is_none() || non_finite == MAX_CONSECUTIVE_NON_FINITE {
                    return Ok(Ascent::NonFinite(k));
                }
                continue;
            }
            non_finite = 0;
            let step = eta / (k as f64).sqrt();
            let pairs = [
                (&mut params.mean, &gradient.mean, &mut squares.mean),
                (&mut params.scale, &gradient.scale, &mut squares.scale),
            ];
            for (values, grads, s) in pairs {
                for ((v, g), s) in values.iter_mut().zip(grads).zip(s.iter_mut()) {
                    let g2 = g * g;
                    // The step is scaled by the squared gradients before this one, so
                    // that its size does not depend on the gradient's own noise (Stan
                    // includes the current gradient, which shrinks large gradients
                    // more than small ones and biases the fixed point: +5–16% in the
                    // variances of a bivariate normal); a gradient far beyond the
                    // average still bounds its own step.
                    let scale = if first_update {
                        g2
                    } else {
                        s.max(g2 / MAX_GRADIENT_RATIO)
                    };
                    *v += step * g / (STEP_OFFSET + scale.sqrt());
                    *s = if first_update {
                        g2
                    } else {
                        NEW_GRADIENT_WEIGHT * g2 + (1.0 - NEW_GRADIENT_WEIGHT) * *s
                    };
                }
            }
            first_update = false;
            let Some(history) = history.as_deref_mut() else {
                continue;
            };
            if k.is_power_of_two() {
                self.iterate_sum.mean.iter_mut().for_each(|v| *v = 0.0);
                self.iterate_sum.scale.iter_mut().for_each(|v| *v = 0.0);
                self.iterates = 0;
            }
            for (sum, v) in self.iterate_sum.mean.iter_mut().zip(&params.mean) {
                *sum += v;
            }
            for (sum, v) in self.iterate_sum.scale.iter_mut().zip(&params.scale) {
                *sum += v;
            }
            self.iterates += 1;
            if k % self.advi.eval_elbo != 0 && k != iterations {
                continue;
            }
            let elbo = self
                .elbo(params)?
                .ok_or(AdviError::NonFinite { iteration: k })?;
            let relative_change = history
                .last()
                .map(|previous| ((elbo - previous.elbo) / previous.elbo).abs());
            history.push(ElboEstimate {
                iteration: k,
                elbo,
                relative_change,
            });
            if let Some(change) = relative_change {
                if changes.len() == buffer {
                    changes.remove(0);
                }
                changes.push(change);
                let mean = changes.iter().sum::<f64>() / changes.len() as f64;
                let median = median(&changes);
                if mean < self.advi.tol_rel_obj {
                    return Ok(Ascent::Converged(k, Convergence::MeanChange));
                }
                if median < self.advi.tol_rel_obj {
                    return Ok(Ascent::Converged(k, Convergence::MedianChange));
                }
                if k > 10 * self.advi.eval_elbo && mean.max(median) > DIVERGING_CHANGE {
                    self.may_be_diverging = true;
                }
            }
        }
        Ok(Ascent::Completed)
    }

    /// Stan's step-size adaptation: each base step of [`ETA_SEQUENCE`] for
    /// `adapt_iters` iterations from the start, keeping the best ELBO, and stopping at
    /// the first that does worse than the best once the best beats the start.
    fn adapt_eta(&mut self, initial: f64) -> Result<f64, AdviError> {
        let start = self.start.clone();
        let mut best: Option<(f64, f64)> = None;
        for (index, &eta) in ETA_SEQUENCE.iter().enumerate() {
            let mut params = start.clone();
            let elbo = match self.ascend(&mut params, eta, self.advi.adapt_iters, None)? {
                Ascent::NonFinite(_) => None,
                _ => self.elbo(&params)?,
            }
            .unwrap_or(f64::NEG_INFINITY);
            match best {
                // Worse than a step size that already improved on the start: keep that.
                Some((best_eta, best_elbo)) if elbo < best_elbo && best_elbo > initial => {
                    return Ok(best_eta)
                }
                _ if index + 1 < ETA_SEQUENCE.len() => best = Some((eta, elbo)),
                _ if elbo > initial => return Ok(eta),
                _ => {}
            }
        }
        Err(AdviError::AllStepSizesFailed)
    }

    fn run(mut self) -> Result<Approximation, AdviError> {
        let start = self.start.clone();
        let initial = self.elbo_with_se(&start)?.ok_or(AdviError::InitialElbo)?;
        let eta = match self.advi.eta {
            Some(eta) => eta,
            None => self.adapt_eta(initial.0)?,
        };
        let mut params = self.start.clone();
        let mut history = Vec::new();
        let max_iters = self.advi.max_iters;
        let (iterations, convergence) =
            match self.ascend(&mut params, eta, max_iters, Some(&mut history))? {
                Ascent::NonFinite(iteration) => return Err(AdviError::NonFinite { iteration }),
                Ascent::Converged(k, how) => (k, how),
                Ascent::Completed => (max_iters, Convergence::MaxIterations),
            };
        if self.advi.average_iterates && self.iterates > 0 {
            let n = self.iterates as f64;
            params = self.iterate_sum.clone();
            params.mean.iter_mut().for_each(|v| *v /= n);
            params.scale.iter_mut().for_each(|v| *v /= n);
        }
        let (elbo, se) = self.elbo_with_se(&params)?.ok_or(AdviError::NonFinite {
            iteration: iterations,
        })?;
        // Worse than where it started, beyond the estimates' noise: the run diverged.
        if elbo + 4.0 * (se * se + initial.1 * initial.1).sqrt() < initial.0 {
            return Err(AdviError::Diverged {
                initial: initial.0,
                last: elbo,
            });
        }
        Ok(Approximation {
            family: self.family(),
            params,
            elbo,
            history,
            eta,
            iterations,
            convergence,
            gradient_evaluations: self.gradient_evaluations,
            may_be_diverging: self.may_be_diverging,
        })
    }
}

/// How [`Fitting::ascend`] ended.
enum Ascent {
    /// All iterations ran.
    Completed,
    /// Converged at this iteration.
    Converged(usize, Convergence),
    /// A gradient was not finite at this iteration.
    NonFinite(usize),
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}
