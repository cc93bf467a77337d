//! Typed errors of the core: distributions, data, model structure, initialisation.

use thiserror::Error;

/// A distribution parameter failed validation at construction.
///
/// ```
/// use ppl_core::dist::Normal;
///
/// let err = Normal::new(0.0, -1.0).unwrap_err();
/// assert_eq!((err.distribution, err.parameter, err.value), ("Normal", "sigma", -1.0));
/// assert_eq!(err.to_string(), "Normal: parameter `sigma` must be positive, got -1");
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{distribution}: parameter `{parameter}` {requirement}, got {value}")]
pub struct ParamError {
    /// The distribution, e.g. `"Normal"`.
    pub distribution: &'static str,
    /// The parameter, e.g. `"sigma"`.
    pub parameter: &'static str,
    /// What was required, e.g. `"must be positive"`.
    pub requirement: &'static str,
    /// The offending value.
    pub value: f64,
}

impl ParamError {
    /// Builds the error.
    pub fn new(
        distribution: &'static str,
        parameter: &'static str,
        requirement: &'static str,
        value: f64,
    ) -> Self {
        ParamError {
            distribution,
            parameter,
            requirement,
            value,
        }
    }
}

/// Any error the core reports.
///
/// A [`ParamError`] converts with `?`; inside a model the error names the variable too:
///
/// ```
/// # use ppl_core::context::api::{self, NoShape};
/// # use ppl_core::{Context, ModelTemplate, Real};
/// # use std::ops::{Add, Div, Mul, Sub};
/// use ppl_core::dist::Normal;
/// use ppl_core::{Error, Model, ParamError};
///
/// fn prior(sigma: f64) -> ppl_core::Result<Normal<f64, f64>> {
///     Ok(Normal::new(0.0, sigma)?)
/// }
/// let err = prior(-1.0).unwrap_err();
/// assert!(matches!(err, Error::InvalidParam(ParamError { parameter: "sigma", .. })));
///
/// /// `x ~ Normal(0, -1)`: an invalid prior.
/// struct Bad;
/// # impl ModelTemplate for Bad {
/// #     type Output<R: Real> = ();
/// #     fn name(&self) -> &'static str {
/// #         "bad"
/// #     }
/// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
/// #     where
/// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
/// #     {
/// #         let _x: R = api::sample(ctx, "x", Normal::new(0.0, -1.0), NoShape, None);
/// #     }
/// # }
/// let err = Model::new(Bad).unwrap_err();
/// assert!(matches!(&err, Error::Param { variable, .. } if variable == "x"));
/// let message = "variable `x`: Normal: parameter `sigma` must be positive, got -1";
/// assert_eq!(err.to_string(), message);
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// A constructor rejected its parameters.
    #[error("variable `{variable}`: {source}")]
    Param {
        /// The model variable the distribution was given to.
        variable: String,
        /// What was wrong.
        source: ParamError,
    },
    /// A distribution was built with an invalid parameter outside any model.
    #[error(transparent)]
    InvalidParam(#[from] ParamError),
    /// Lengths of parameters and values disagree.
    #[error("variable `{variable}`: {distribution}: argument `{argument}` has length {found}, expected {expected} (or a scalar)")]
    Shape {
        /// The model variable.
        variable: String,
        /// The distribution.
        distribution: &'static str,
        /// The argument with the wrong length.
        argument: &'static str,
        /// Its length.
        found: usize,
        /// The length of the other arguments.
        expected: usize,
    },
    /// Observed data contain NaN or an infinity.
    #[error(
        "variable `{variable}`: observed data are not finite at index {index} (value {value})"
    )]
    NonFiniteData {
        /// The observed variable.
        variable: String,
        /// Position of the first bad element.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Observed data are empty where data are required.
    #[error("variable `{variable}`: observed data are empty")]
    EmptyData {
        /// The observed variable.
        variable: String,
    },
    /// Observed data lie outside the distribution's support (e.g. non-integer counts).
    #[error("variable `{variable}`: {distribution}: observed value {value} at index {index} is outside the support ({support})")]
    DataOutsideSupport {
        /// The observed variable.
        variable: String,
        /// The distribution.
        distribution: &'static str,
        /// Position of the first bad element.
        index: usize,
        /// The value.
        value: f64,
        /// The support, in words.
        support: &'static str,
    },
    /// The model's variables differ between passes.
    #[error("variable `{variable}`: {detail}")]
    Structure {
        /// The variable concerned.
        variable: String,
        /// What changed.
        detail: String,
    },
    /// A vector of the wrong length was given to the runtime.
    #[error("expected a vector of length {expected}, got {found}")]
    Dimension {
        /// Expected length.
        expected: usize,
        /// Given length.
        found: usize,
    },
    /// The integer state of the discrete variables has the wrong length.
    #[error("expected {expected} values for the discrete variables, got {found}{}", if *expected > 0 && *found == 0 { " (the model has discrete variables: use the `_joint` methods, which take their integer values)" } else { "" })]
    DiscreteDimension {
        /// Expected length.
        expected: usize,
        /// Given length.
        found: usize,
    },
    /// A named point does not match the model.
    #[error("point: {0}")]
    Point(String),
    /// No initial point with finite log-density and gradient was found.
    #[error("no initial point with a finite log-density and gradient after {attempts} attempts; per-variable log-density at the last attempt:\n{table}")]
    Init {
        /// How many points were tried.
        attempts: usize,
        /// The per-variable table.
        table: String,
    },
    /// The model's code panicked.
    #[error("the model panicked: {message}")]
    Panic {
        /// The panic message.
        message: String,
    },
    /// A feature that is not available yet.
    #[error("{0}")]
    Unsupported(String),
}

/// Result with the core's [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;
