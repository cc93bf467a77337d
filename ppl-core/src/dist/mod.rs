//! Probability distributions, one per file.
//!
//! Every distribution has a fallible constructor (a typed [`ParamError`]), a log-density
//! generic over [`Real`] and vectorised over slices with broadcasting (one tape node per
//! call, see [`vectorized`](crate::vectorized)), a sampler, its support and default
//! transform, and a discreteness flag.

mod bernoulli;
mod beta;
mod beta_binomial;
mod binomial;
mod categorical;
mod cauchy;
mod chi_squared;
mod dirichlet;
mod discrete_uniform;
mod exponential;
mod flat;
mod gamma;
mod geometric;
mod glm;
mod half_cauchy;
mod half_normal;
mod half_student_t;
mod inverse_gamma;
mod laplace;
mod lkj_corr_cholesky;
mod log_normal;
mod logistic;
mod mv_normal;
mod negative_binomial;
mod normal;
mod normal_mixture;
mod pareto;
mod poisson;
mod skew_normal;
mod student_t;
mod support;
#[cfg(test)]
pub(crate) mod testing;
mod truncated_normal;
mod uniform;
mod von_mises;
mod weibull;

pub use bernoulli::*;
pub use beta::*;
pub use beta_binomial::*;
pub use binomial::*;
pub use categorical::*;
pub use cauchy::*;
pub use chi_squared::*;
pub use dirichlet::*;
pub use discrete_uniform::*;
pub use exponential::*;
pub use flat::*;
pub use gamma::*;
pub use geometric::*;
pub use glm::*;
pub use half_cauchy::*;
pub use half_normal::*;
pub use half_student_t::*;
pub use inverse_gamma::*;
pub use laplace::*;
pub use lkj_corr_cholesky::*;
pub use log_normal::*;
pub use logistic::*;
pub use mv_normal::*;
pub use negative_binomial::*;
pub use normal::Normal;
pub use normal_mixture::NormalMixture;
pub use pareto::*;
pub use poisson::*;
pub use skew_normal::*;
pub use student_t::*;
pub use support::Support;
pub use truncated_normal::*;
pub use uniform::*;
pub use von_mises::*;
pub use weibull::*;

pub use crate::error::ParamError;
use crate::param::Operand;
use crate::scalar::Real;
use crate::vectorized::{broadcast_len, LengthMismatch};
use rand::RngCore;

/// The constrained scalars of one variable, stored inline when there are few of them
/// (a scalar variable costs no allocation per evaluation).
pub type Values<R> = smallvec::SmallVec<[R; 4]>;

/// The batch length implied by a distribution's parameters (argument names for errors):
/// `None` when all are scalars, otherwise their broadcast length.
pub(super) fn param_batch_len<R: Real, const K: usize>(
    names: &[&'static str; K],
    params: &[Operand<'_, R>; K],
) -> Result<Option<usize>, LengthMismatch> {
    if params.iter().all(|p| p.len().is_none()) {
        return Ok(None);
    }
    broadcast_len(names, params).map(Some)
}

/// A distribution over one variable (scalar, vector by broadcasting, or an event).
pub trait Distribution<R: Real> {
    /// What `sample!` returns for one variable without `shape`: `Real` for univariate
    /// continuous distributions, `i64` for discrete ones, `Vec<Real>` for vector events.
    type Value;

    /// The distribution's name, for messages.
    fn name(&self) -> &'static str;

    /// Scalars in one event (1 for univariate distributions).
    fn event_len(&self) -> usize {
        1
    }

    /// The event shape (empty for univariate distributions).
    fn event_shape(&self) -> Vec<usize> {
        Vec::new()
    }

    /// The batch length the parameters imply (`None` when all are scalars).
    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch>;

    /// True for distributions over integers.
    fn is_discrete(&self) -> bool {
        false
    }

    /// The support, which determines the default transform.
    fn support(&self) -> Support<R>;

    /// Sum of the log-densities of the elements of `x` (one event per `event_len`
    /// scalars, broadcasting scalar parameters).
    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch>;

    /// Log-density of each element (or event) of `x`, as plain values.
    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch>;

    /// Draws `n` scalars (`n / event_len` events) with the parameters' current values.
    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>);

    /// Builds the value `sample!` returns from the constrained scalars of one variable
    /// (never empty: one event's worth).
    fn value_from(xs: crate::dist::Values<R>) -> Self::Value;
}

/// The per-element value type of `sample!(.., shape = n)` (`Real` or `i64`).
pub trait ElementValue<R: Real>: Distribution<R> {
    /// One element.
    type Element;
    /// Converts one constrained scalar.
    fn element_from(x: R) -> Self::Element;
}
