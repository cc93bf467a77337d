//! Inference for ppl: the No-U-Turn sampler, compound (Metropolis-within-Gibbs)
//! sampling for models with discrete variables, parallel chains, traces and diagnostics.
//!
//! `model.sample(Nuts::default())` runs NUTS; `model.sample(Compound::new(nuts))`
//! assigns a step to every variable ([`step`]: NUTS for the continuous block,
//! BinaryGibbs, CategoricalGibbs or Metropolis for discrete ones, or slice/Metropolis by
//! [`Compound::assign`]).
//!
//! Samplers see models only through [`LogDensity`] (and [`SampleTarget`] for initial
//! points and recorded values). With a `ppl_core::Model`, sampling is one call:
//! `model.sample(Nuts::default().chains(4).seed(1))?` (see [`Sample`]); any other
//! log-density goes through [`sample_log_density`].
//!
//! ```
//! use ppl_infer::{sample_log_density, LogDensity, Nuts};
//!
//! /// A correlated 2-d Gaussian with unit variances and correlation 0.5.
//! struct Correlated;
//! impl LogDensity for Correlated {
//!     fn dim(&self) -> usize { 2 }
//!     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
//!         let (a, b) = (x[0], x[1]);
//!         Ok(-(a * a - a * b + b * b) / (2.0 * 0.75))
//!     }
//!     fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
//!         g[0] = -(2.0 * x[0] - x[1]) / 1.5;
//!         g[1] = -(2.0 * x[1] - x[0]) / 1.5;
//!         self.logp(x)
//!     }
//! }
//!
//! let trace = sample_log_density(&Correlated, Nuts::default().chains(2).draws(500).tune(500).seed(7))?;
//! let summary = trace.summary();
//! println!("{summary}");
//! assert!(summary.row("x[0]").unwrap().mean.abs() < 0.3);
//! assert_eq!(trace.divergences(), 0);
//! # Ok::<(), ppl_infer::SampleError>(())
//! ```

#![warn(missing_docs)]

pub mod adapt;
mod advi;
mod autocovariance;
mod chains;
mod compare;
mod compound;
pub mod diagnostics;
mod error;
mod hamiltonian;
mod independent_draws;
mod laplace;
mod log_likelihood;
mod loo;
mod low_rank;
pub mod metric;
mod nuts;
mod optimize;
pub mod output;
mod pathfinder;
mod plot;
mod predictive;
pub mod progress;
mod rank_normalize;
mod sampler;
pub mod step;
mod summary;
mod target;
mod trace;

pub use advi::{
    Advi, AdviError, Approximation, ApproximationCheck, Convergence, ElboEstimate, Family,
    Variational,
};
pub use compare::{compare, CompareError, Comparison, ComparisonRow};
pub use compound::{
    automatic_kind, sample_compound, AssignmentError, Compound, CompoundTarget, PlannedStep,
    StepKind, CATEGORICAL_GIBBS_MAX_RANGE,
};
pub use error::{ChainFailure, ChainFailureReason, InitFailure, SampleError, SettingsError};
pub use laplace::LaplaceApproximation;
pub use log_likelihood::LogLikelihood;
pub use loo::{Loo, LooError, LooPoint, Waic};
pub use metric::Metric;
pub use nuts::{SampleStats, MAX_ENERGY_ERROR};
pub use optimize::{Map, MapEstimate, Optimize, OptimizeError, StopReason};
pub use output::{write_json, CmdStanCsv};
pub use pathfinder::{PathReport, Pathfinder, PathfinderError, PathfinderFit};
pub use plot::PlotError;
pub use ppl_core::model::LogDensity;
pub use predictive::Predictive;
pub use sampler::{sample_log_density, sample_target, Nuts, Sample, Sampler};
pub use summary::{Summary, SummaryRow, BFMI_THRESHOLD, LOW_ESS_PER_CHAIN, RHAT_THRESHOLD};
pub use target::{RawDensity, SampleTarget, TraceVariable, VariableKind};
pub use trace::{ChainTiming, ChainTrace, StepTrace, Trace};
