//! The pointwise log-likelihood of every draw, for LOO and WAIC (ArviZ's
//! `log_likelihood` group).

use crate::error::SampleError;
use crate::predictive::{extend_trace, push_values};
use crate::target::{TraceVariable, VariableKind};
use crate::trace::Trace;
use ppl_core::context::inference::Accumulators;
use ppl_core::{Model, ModelTemplate};

/// `model.compute_log_likelihood(&trace)`: PyMC's `compute_log_likelihood`, Stan's
/// `log_lik` in generated quantities.
///
/// For every draw of the trace (kept warm-up draws too), the log-density of each
/// observed value given that draw, one column per datum, added to a copy of the trace
/// as a variable `log_lik_<name>` of kind [`VariableKind::LogLikelihood`] per
/// observation. These are what PSIS-LOO and WAIC need: written as CmdStan CSV, ArviZ
/// reads them with `from_cmdstan(posterior=files, log_likelihood={"y": "log_lik_y"})`,
/// after which `arviz.loo` and `arviz.compare` work. Computing them again replaces the
/// earlier columns. The trace may come from another model with the same random
/// variables, such as the model on held-out data.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Normal;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{LogLikelihood, Nuts, Sample, VariableKind};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 1)` and three observations `y ~ Normal(mu, 1)`.
/// struct Conjugate;
/// impl ModelTemplate for Conjugate {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "conjugate" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
///         api::observe(ctx, "y", Normal::new(mu, 1.0), &[0.5, 1.0, 2.5][..]);
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Conjugate)?;
/// let nuts = Nuts::default().chains(2).draws(200).tune(200).seed(1).progress(false);
/// let trace = model.compute_log_likelihood(&model.sample(nuts)?)?;
/// assert_eq!(trace.column_names()[1..], ["log_lik_y[0]", "log_lik_y[1]", "log_lik_y[2]"]);
/// assert_eq!(trace.variables()[1].kind, VariableKind::LogLikelihood);
/// // Each entry is ln N(yᵢ | mu, 1) at that draw's mu.
/// let (mu, ll) = (trace.samples("mu", 0).unwrap(), trace.samples("log_lik_y", 2).unwrap());
/// for (m, l) in mu[1].iter().zip(ll[1]) {
///     let want = -0.5 * (2.5 - m) * (2.5 - m) - 0.5 * (2.0 * std::f64::consts::PI).ln();
///     assert!((l - want).abs() < 1e-12);
/// }
/// # Ok(()) }
/// ```
pub trait LogLikelihood {
    /// Adds the pointwise log-likelihood of every draw to a copy of `trace` (see the
    /// trait's docs).
    fn compute_log_likelihood(&self, trace: &Trace) -> Result<Trace, SampleError>;
}

/// The prefix that names the trace variable holding an observation's pointwise
/// log-likelihood.
pub(crate) const LOG_LIK_PREFIX: &str = "log_lik_";

/// The trace variable holding the pointwise log-likelihood of the observation `name`.
fn column_name(name: &str) -> String {
    format!("{LOG_LIK_PREFIX}{name}")
}

impl<T: ModelTemplate + Sync> LogLikelihood for Model<T> {
    fn compute_log_likelihood(&self, trace: &Trace) -> Result<Trace, SampleError> {
        let mut added = Vec::new();
        for o in &self.layout().observed {
            let name = column_name(&o.name);
            let recorded = trace.variables().iter().find(|v| v.name == name);
            if recorded.is_some_and(|v| v.kind != VariableKind::LogLikelihood) {
                return Err(SampleError::NameTaken(name));
            }
            added.push(TraceVariable {
                name,
                shape: o.shape.clone(),
                kind: VariableKind::LogLikelihood,
            });
        }
        let replaced = |v: &TraceVariable| {
            v.kind == VariableKind::LogLikelihood && added.iter().any(|a| a.name == v.name)
        };
        let options = Accumulators {
            pointwise: true,
            ..Accumulators::default()
        };
        // `unconstrain_joint` reads the random variables by name and ignores the
        // deterministics the point also carries.
        extend_trace(trace, &added, replaced, 0, |point, _rng, columns| {
            let (u, z) = self.unconstrain_joint(point)?;
            let evaluation = self.evaluate_joint(&u, &z, options)?;
            push_values(columns, &added, |v| {
                evaluation
                    .pointwise
                    .iter()
                    .find(|(name, _)| v.name.strip_prefix(LOG_LIK_PREFIX) == Some(name))
                    .map(|(_, values)| values.as_slice())
            })
        })
    }
}
