//! Probability distributions, one per file.
//!
//! Every distribution has a fallible constructor (a typed [`ParamError`]), a log-density
//! generic over [`Real`] and vectorised over slices with broadcasting (one tape node per
//! call, see [`vectorized`](crate::vectorized)), a sampler, its support and default
//! transform, and a discreteness flag.

mod normal;
mod support;

pub use normal::Normal;
pub use support::Support;

pub use crate::error::ParamError;
use crate::param::Operand;
use crate::scalar::Real;
use crate::vectorized::LengthMismatch;
use rand::RngCore;

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
    fn value_from(xs: Vec<R>) -> Self::Value;
}

/// The per-element value type of `sample!(.., shape = n)` (`Real` or `i64`).
pub trait ElementValue<R: Real>: Distribution<R> {
    /// One element.
    type Element;
    /// Converts one constrained scalar.
    fn element_from(x: R) -> Self::Element;
}
