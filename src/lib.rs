//! # ppl — probabilistic programming in Rust
//!
//! A model is an ordinary Rust function with `#[model]` on it. Inside, `sample!` declares
//! random variables, `observe!` conditions on data, `deterministic!` records derived
//! quantities and `potential!` adds arbitrary log-density terms. The body is generic over
//! the scalar type literally named `Real`, so the same code runs with plain `f64` (prior
//! draws), the reverse-mode tape (gradients) and dual numbers (Hessians).
//!
//! ```
//! use ppl::prelude::*;
//!
//! #[model]
//! fn regression(x: &[f64], y: &[f64]) {
//!     let alpha = sample!(Normal::new(0.0, 10.0));
//!     let beta = sample!(Normal::new(0.0, 10.0));
//!     let sigma = sample!(HalfNormal::new(1.0));
//!     let mu: Vec<Real> = x.iter().map(|xi| alpha + beta * *xi).collect();
//!     observe!(Normal::new(&mu, sigma), y);
//! }
//!
//! # fn main() -> Result<(), ppl::Error> {
//! let x = [0.0, 1.0, 2.0, 3.0];
//! let y = [0.1, 0.9, 2.1, 2.9];
//! let model = regression::model(&x, &y)?;
//! assert_eq!(model.dim(), 3);
//! let u = vec![0.0, 1.0, -1.0]; // unconstrained: sigma = exp(-1)
//! let mut grad = vec![0.0; 3];
//! let lp = model.logp_grad(&u, &mut grad)?;
//! assert!(lp.is_finite());
//! # Ok(()) }
//! ```
//!
//! What to do with a model (all in [`prelude`] or [`infer`]):
//!
//! - sample its posterior: `model.sample(Nuts::default())` (or `Compound::new(nuts)` for
//!   discrete latent variables), then `trace.summary()`, the accessors, CmdStan CSV or
//!   JSON output, and SVG plots (`trace.plot_trace`, `plot_posterior`, `plot_rank`,
//!   `plot_energy`);
//! - approximate it quickly: `model.find_map(Map::default())` (the mode),
//!   `model.laplace(&mode, draws, seed)`, `model.pathfinder(Pathfinder::default())`,
//!   `model.fit(Advi::meanfield())` — each approximation reports the Pareto k̂ that says
//!   whether to trust it;
//! - check it: `model.sample_prior_predictive(draws, seed)`,
//!   `model.sample_posterior_predictive(&trace, seed)`,
//!   `model.compute_log_likelihood(&trace)?.loo()` and [`infer::compare`].
//!
//! See [`ppl_macros`] for what `#[model]` generates and the rough edges of writing model
//! bodies generically.

#![warn(missing_docs)]

pub use ppl_core::*;
pub use ppl_macros::{model, real_fn};

/// Errors of building and evaluating a model (`ppl_core::Error`).
pub use ppl_core::Error as ModelError;

/// Any error `ppl` reports, so that one `?` type covers building, sampling and writing
/// output: `fn main() -> Result<(), ppl::Error>`.
///
/// ```
/// use ppl::prelude::*;
///
/// #[model]
/// fn coin(flips: &[f64]) {
///     let p = sample!(Beta::new(1.0, 1.0));
///     observe!(Bernoulli::new(p), flips);
/// }
///
/// /// The posterior mean of `p` and its Monte-Carlo standard error.
/// fn posterior_mean(flips: &[f64], nuts: Nuts) -> Result<(f64, f64), ppl::Error> {
///     let model = coin::model(flips)?; // a `ModelError` becomes `Error::Model`
///     let trace = model.sample(nuts)?; // a `SampleError` becomes `Error::Sample`
///     let row = trace.summary().row("p").unwrap().clone();
///     Ok((row.mean, row.mcse_mean))
/// }
///
/// # fn main() -> Result<(), ppl::Error> {
/// let nuts = Nuts::default().chains(2).draws(200).tune(200).seed(1).progress(false);
/// // Three heads in four flips: the posterior is Beta(4, 2), with mean 2/3.
/// let (mean, mcse) = posterior_mean(&[1.0, 1.0, 0.0, 1.0], nuts.clone())?;
/// assert!((mean - 2.0 / 3.0).abs() < 4.0 * mcse, "{mean}");
///
/// // A flip of 0.5 is not a Bernoulli outcome.
/// let err = posterior_mean(&[1.0, 0.5], nuts.clone()).unwrap_err();
/// assert!(matches!(err, ppl::Error::Model(ModelError::DataOutsideSupport { .. })), "{err}");
/// // Zero chains is not a valid setting.
/// let err = posterior_mean(&[1.0], nuts.chains(0)).unwrap_err();
/// assert!(matches!(err, ppl::Error::Sample(SampleError::Settings(_))), "{err}");
/// // Writing output can fail too.
/// let err: ppl::Error = std::io::Error::other("disk full").into();
/// assert_eq!(err.to_string(), "disk full");
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Building or evaluating the model failed (bad data, invalid parameters, …).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Sampling failed (invalid settings, no initial point, failed chains, …).
    #[error(transparent)]
    Sample(#[from] ppl_infer::SampleError),
    /// Writing output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// PSIS-LOO could not run (no pointwise log-likelihood in the trace, too few draws).
    #[error(transparent)]
    Loo(#[from] ppl_infer::LooError),
    /// Models could not be compared (none given, different data).
    #[error(transparent)]
    Compare(#[from] ppl_infer::CompareError),
    /// ADVI could not run (invalid settings, discrete variables, a diverging fit).
    #[error(transparent)]
    Advi(#[from] ppl_infer::AdviError),
    /// Pathfinder could not run (invalid settings, discrete variables, every path
    /// failed).
    #[error(transparent)]
    Pathfinder(#[from] ppl_infer::PathfinderError),
    /// A plot could not be drawn (an unknown variable, nothing to plot, a file error).
    #[error(transparent)]
    Plot(#[from] ppl_infer::PlotError),
    /// Building a design matrix failed (ragged rows, a size that does not match).
    #[error(transparent)]
    Data(#[from] ppl_core::glm::DataMatrixError),
    /// A posterior mode or Laplace approximation could not be computed (invalid
    /// settings, discrete latent variables, a bad initial position, a failed line search,
    /// a Hessian that is not negative definite, …).
    #[error(transparent)]
    Optimize(#[from] ppl_infer::OptimizeError),
}

/// Everything a model file needs: `use ppl::prelude::*;`.
pub mod prelude {
    pub use crate::{Error, ModelError};
    pub use ppl_core::affine::affine;
    pub use ppl_core::dist::*;
    pub use ppl_core::glm::{dot, matvec, matvec_add, DataMatrix};
    pub use ppl_core::layout::Point;
    pub use ppl_core::linalg::{cholesky, Matrix};
    pub use ppl_core::model::{JointDensity, LogDensity, Model};
    pub use ppl_core::param::gather;
    pub use ppl_core::scalar::log_sum_exp;
    pub use ppl_core::transform::Transform;
    pub use ppl_core::Real;
    pub use ppl_core::{deterministic, observe, potential, sample};
    pub use ppl_infer::{
        Advi, Compound, LogLikelihood, Map, Metric, Nuts, Optimize, Pathfinder, Predictive, Sample,
        SampleError, StepKind, Summary, Trace, Variational,
    };
    pub use ppl_macros::{model, real_fn};
}

/// Samplers, traces and diagnostics (the `ppl-infer` crate).
pub use ppl_infer as infer;

#[doc(hidden)]
pub mod __private {
    pub use ppl_core::context::api::*;
}
