//! Contexts: what `sample!`, `observe!`, `deterministic!` and `potential!` do in a pass.
//!
//! A model template runs under a context (the PyMC4 design): the [`forward`] context
//! draws from the prior and records the layout; the [`inference`] context reads an
//! unconstrained vector, applies transforms and accumulates log-densities. The macro's
//! generated code calls the functions in [`api`], which forward to the context.

pub mod api;
pub mod forward;
pub mod inference;

use crate::dist::{Distribution, ParamError, Values};
use crate::error::Error;
use crate::layout::{Layout, VariableInfo};
use crate::param::Operand;
use crate::scalar::Real;
use crate::transform::Transform;

/// What a model body talks to. Implemented by the forward and inference contexts.
pub trait Context<R: Real> {
    /// Registers the random variable `name` and returns its constrained scalars.
    fn variable<D: Distribution<R>>(
        &mut self,
        name: &'static str,
        dist: Result<D, ParamError>,
        shape: Option<usize>,
        transform: Option<Transform<R>>,
    ) -> Values<R>;

    /// Adds the log-likelihood of observed `data`.
    fn observe<D: Distribution<R>>(
        &mut self,
        name: &'static str,
        dist: Result<D, ParamError>,
        data: Operand<'_, R>,
    );

    /// Records a derived quantity.
    fn deterministic(&mut self, name: &'static str, values: Operand<'_, R>);

    /// Adds an arbitrary term to the log-density.
    fn potential(&mut self, name: &'static str, value: R);
}

/// The constrained shape and length of a variable, from its distribution and `shape =`.
pub(crate) fn resolve_shape<R: Real, D: Distribution<R>>(
    name: &str,
    dist: &D,
    shape: Option<usize>,
) -> Result<(Vec<usize>, usize), Error> {
    let batch = dist.batch_len().map_err(|m| Error::Shape {
        variable: name.to_string(),
        distribution: dist.name(),
        argument: m.argument,
        found: m.found,
        expected: m.expected,
    })?;
    let event_len = dist.event_len();
    match (shape, batch) {
        (Some(n), _) if event_len != 1 => Err(Error::Unsupported(format!(
            "variable `{name}`: `shape = {n}` is not supported for the multivariate {}; its shape comes from its parameters",
            dist.name()
        ))),
        (Some(n), Some(b)) if b != n => Err(Error::Shape {
            variable: name.to_string(),
            distribution: dist.name(),
            argument: "parameters",
            found: b,
            expected: n,
        }),
        (Some(n), _) => Ok((vec![n], n)),
        (None, Some(b)) => {
            let mut s = vec![b];
            s.extend(dist.event_shape());
            Ok((s, b * event_len))
        }
        (None, None) => Ok((dist.event_shape(), event_len)),
    }
}

/// The layout entry that a pass's `next` variable, called `name`, must match; otherwise
/// the structure error naming it. Shared by every pass that replays the first one (the
/// inference context runs it for every variable of every evaluation, so the error is
/// built out of line).
#[inline(always)]
pub(crate) fn expected_variable<'l>(
    layout: &'l Layout,
    next: usize,
    name: &str,
) -> Result<&'l VariableInfo, Error> {
    match layout.variables.get(next) {
        Some(entry) if entry.name == name => Ok(entry),
        other => Err(unexpected_variable(name, other)),
    }
}

#[cold]
#[inline(never)]
fn unexpected_variable(name: &str, expected: Option<&VariableInfo>) -> Error {
    let detail = match expected {
        Some(entry) => format!(
            "appeared where `{}` was expected: a model's variables must be the same, in the same order, in every pass",
            entry.name
        ),
        None => "was not in the model's first pass: a model's variables must be the same in every pass".into(),
    };
    Error::Structure {
        variable: name.to_string(),
        detail,
    }
}

/// The structure error for a variable whose shape differs from the first pass's.
pub(crate) fn shape_changed(name: &str, first: &[usize], now: &[usize]) -> Error {
    Error::Structure {
        variable: name.to_string(),
        detail: format!("shape changed from {first:?} in the first pass to {now:?}"),
    }
}

/// The structure error for a pass that stopped after `visited` variables, before the
/// end of the layout (none when it visited them all).
pub(crate) fn unvisited_variable(layout: &Layout, visited: usize) -> Option<Error> {
    layout.variables.get(visited).map(|v| Error::Structure {
        variable: v.name.clone(),
        detail: "was sampled in the first pass but not in this one: a model's variables must be the same in every pass".into(),
    })
}

/// The number of constrained scalars of a variable, without building its shape (the
/// inference context's hot path; `resolve_shape` gives the full shape).
pub(crate) fn resolve_len<R: Real, D: Distribution<R>>(
    name: &str,
    dist: &D,
    shape: Option<usize>,
) -> Result<usize, Error> {
    let batch = dist.batch_len().map_err(|m| Error::Shape {
        variable: name.to_string(),
        distribution: dist.name(),
        argument: m.argument,
        found: m.found,
        expected: m.expected,
    })?;
    match (shape, batch) {
        (Some(n), Some(b)) if b != n => Err(Error::Shape {
            variable: name.to_string(),
            distribution: dist.name(),
            argument: "parameters",
            found: b,
            expected: n,
        }),
        (Some(n), _) => Ok(n * dist.event_len()),
        (None, Some(b)) => Ok(b * dist.event_len()),
        (None, None) => Ok(dist.event_len()),
    }
}

/// Converts a length mismatch of an observation into an error naming the variable.
pub(crate) fn shape_error<R: Real, D: Distribution<R>>(
    name: &str,
    dist: &D,
    m: crate::vectorized::LengthMismatch,
) -> Error {
    Error::Shape {
        variable: name.to_string(),
        distribution: dist.name(),
        argument: m.argument,
        found: m.found,
        expected: m.expected,
    }
}
