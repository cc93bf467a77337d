//! Predictive sampling: draws from the prior and prior predictive, and the observations
//! drawn again given each posterior draw.

use crate::error::{SampleError, SettingsError};
use crate::independent_draws::one_chain_trace;
use crate::nuts::SampleStats;
use crate::target::{SampleTarget, TraceVariable, VariableKind};
use crate::trace::{ChainTrace, Trace};
use ppl_core::model::{rng_for, PriorDraw};
use ppl_core::{Model, ModelTemplate, Point};
use rand::RngCore;

/// Added to a chain's id, the random stream of its kept warm-up draws (its draws after
/// warm-up use the id itself), so that keeping warm-up draws does not change the others.
const WARMUP_STREAM: u64 = 1 << 32;

/// Predictive sampling: `model.sample_posterior_predictive(&trace, seed)` (PyMC's
/// `sample_posterior_predictive`, Stan's `y_rep` in generated quantities) and
/// `model.sample_prior_predictive(draws, seed)` (PyMC's `sample_prior_predictive`).
///
/// For every draw of the trace, every observed variable of the model is drawn from its
/// distribution with the random variables at that draw's values. The draws come back as
/// a copy of the trace with one more variable per observation, of kind
/// [`VariableKind::PosteriorPredictive`], under the observation's name: the trace's
/// accessors, [`summary_of`](Trace::summary_of), CSV and JSON output see them like any
/// other column (ArviZ's `from_cmdstan(posterior=files, posterior_predictive=["y"])` puts
/// them in its `posterior_predictive` group). The model's deterministics are computed
/// again at each draw and replace the trace's of the same name. Kept warm-up draws get
/// predictive draws too.
///
/// The trace may come from another model with the same random variables, such as the
/// model built on new predictors: the observations are then drawn, and the
/// deterministics computed, with this model's data and shapes (out-of-sample
/// prediction). A chain's draws use the random stream
/// `seed` and the chain's id, so the result does not depend on the number of threads.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Normal;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{Nuts, Predictive, Sample, VariableKind};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 1)` and four observations `y ~ Normal(mu, 1)`.
/// struct Conjugate {
///     y: Vec<f64>,
/// }
/// impl ModelTemplate for Conjugate {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "conjugate" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
///         api::observe(ctx, "y", Normal::new(mu, 1.0), &self.y);
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Conjugate { y: vec![0.5, 1.0, 1.5, 3.0] })?;
/// let nuts = Nuts::default().chains(2).draws(1000).tune(500).seed(5).progress(false);
/// let trace = model.sample(nuts)?;
/// let with_y = model.sample_posterior_predictive(&trace, 11)?;
/// assert_eq!(with_y.column_names(), ["mu", "y[0]", "y[1]", "y[2]", "y[3]"]);
/// assert_eq!(with_y.variables()[1].kind, VariableKind::PosteriorPredictive);
/// // The posterior draws are unchanged.
/// assert_eq!(with_y.samples("mu", 0), trace.samples("mu", 0));
/// // Given mu, each y has mean mu: the predictive mean is the posterior mean of mu,
/// // 6/5 here (conjugate: precision 1 + 4, mean 6/5).
/// let y0 = with_y.mean("y").unwrap()[0];
/// let summary = with_y.summary_of(&[VariableKind::PosteriorPredictive]);
/// let mcse = summary.row("y[0]").unwrap().mcse_mean;
/// assert!((y0 - 1.2).abs() < 4.0 * mcse, "{y0} vs 1.2 ± {mcse}");
/// // The same seed gives the same draws; adding them twice is refused.
/// assert_eq!(model.sample_posterior_predictive(&trace, 11)?, with_y);
/// assert!(model.sample_posterior_predictive(&with_y, 11).is_err());
/// # Ok(()) }
/// ```
pub trait Predictive {
    /// Draws every observation once per draw of `trace` (see the trait's docs) and
    /// returns the trace with those draws added.
    fn sample_posterior_predictive(&self, trace: &Trace, seed: u64) -> Result<Trace, SampleError>;

    /// `draws` independent draws of the random variables from their priors, the
    /// deterministics computed from them and the observations drawn given them (the
    /// prior predictive), as a trace of one chain: parameters and deterministics as in
    /// a posterior trace, observations as [`VariableKind::PriorPredictive`] columns.
    /// Its sampler statistics are zero, as CmdStan's `fixed_param` sampler writes them,
    /// and there is no warm-up; written as CmdStan CSV, ArviZ reads it with
    /// `from_cmdstan(posterior=…, prior=files, prior_predictive=["y"])` (ArviZ 0.x reads
    /// a prior only beside a posterior). Variables the model is conditioned on keep
    /// their values and are not recorded, as in sampling.
    ///
    /// With `mu ~ Normal(0, 1)` and `y ~ Normal(mu, 1)`, the prior predictive of each
    /// `y` is `Normal(0, √2)`:
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{Predictive, VariableKind};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `mu ~ Normal(0, 1)` and two observations `y ~ Normal(mu, 1)`.
    /// struct Conjugate;
    /// impl ModelTemplate for Conjugate {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "conjugate" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    ///         api::observe(ctx, "y", Normal::new(mu, 1.0), &[0.3, 2.0][..]);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = Model::new(Conjugate)?;
    /// let prior = model.sample_prior_predictive(4000, 7)?;
    /// assert_eq!(prior.column_names(), ["mu", "y[0]", "y[1]"]);
    /// assert_eq!(prior.variables()[1].kind, VariableKind::PriorPredictive);
    /// assert_eq!((prior.chains().len(), prior.num_draws()), (1, 4000));
    /// let y: Vec<f64> = prior.samples("y", 0).unwrap()[0].to_vec();
    /// let var = y.iter().map(|v| v * v).sum::<f64>() / 4000.0;
    /// // Independent draws: the variance estimate's standard error is 2·√(2/4000).
    /// assert!((var - 2.0).abs() < 4.0 * 2.0 * (2.0f64 / 4000.0).sqrt(), "{var}");
    /// let again = model.sample_prior_predictive(4000, 7)?; // reproducible
    /// assert_eq!(again.samples("y", 1), prior.samples("y", 1));
    /// assert!(model.sample_prior_predictive(0, 7).is_err());
    /// # Ok(()) }
    /// ```
    fn sample_prior_predictive(&self, draws: usize, seed: u64) -> Result<Trace, SampleError>;
}

impl<T: ModelTemplate + Sync> Predictive for Model<T> {
    fn sample_posterior_predictive(&self, trace: &Trace, seed: u64) -> Result<Trace, SampleError> {
        let layout = self.layout();
        let recorded = |name: &str| trace.variables().iter().find(|v| v.name == name);
        // The model's deterministics are computed again (so a model on new predictors
        // gives them at the new predictors) and replace the trace's of the same name.
        let mut added: Vec<TraceVariable> = Vec::new();
        for (name, shape) in &layout.deterministics {
            if recorded(name).is_some_and(|v| v.kind != VariableKind::Deterministic) {
                return Err(SampleError::NameTaken(name.clone()));
            }
            added.push(TraceVariable {
                name: name.clone(),
                shape: shape.clone(),
                kind: VariableKind::Deterministic,
            });
        }
        for o in &layout.observed {
            if recorded(&o.name).is_some() {
                return Err(SampleError::NameTaken(o.name.clone()));
            }
            added.push(TraceVariable {
                name: o.name.clone(),
                shape: o.shape.clone(),
                kind: VariableKind::PosteriorPredictive,
            });
        }
        // The trace's deterministics that the model computes again are replaced.
        let replaced = |v: &TraceVariable| {
            v.kind == VariableKind::Deterministic && added.iter().any(|a| a.name == v.name)
        };
        extend_trace(trace, &added, replaced, seed, |point, rng, columns| {
            let drawn = self.predictive_draw(point, rng)?;
            push_values(columns, &added, |v| drawn_values(&drawn, v))
        })
    }

    fn sample_prior_predictive(&self, draws: usize, seed: u64) -> Result<Trace, SampleError> {
        if draws == 0 {
            return Err(SettingsError::NoDraws.into());
        }
        let start = std::time::Instant::now();
        let mut variables = self.variables();
        variables.extend(self.layout().observed.iter().map(|o| TraceVariable {
            name: o.name.clone(),
            shape: o.shape.clone(),
            kind: VariableKind::PriorPredictive,
        }));
        let width = variables.iter().map(TraceVariable::len).sum();
        let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(draws); width];
        let mut rng = rng_for(seed, 0);
        for draw in 0..draws {
            let fail = |source| SampleError::PerDraw {
                chain: 0,
                draw,
                source,
            };
            let drawn = self.prior_draw(&mut rng).map_err(fail)?;
            push_values(&mut columns, &variables, |v| drawn_values(&drawn, v)).map_err(fail)?;
        }
        let stats = vec![SampleStats::independent(0.0); draws];
        Ok(one_chain_trace(
            variables,
            columns,
            stats,
            seed,
            start.elapsed(),
        ))
    }
}

/// One chain's added columns, after warm-up and (if kept) in warm-up.
struct ChainColumns {
    columns: Vec<Vec<f64>>,
    warmup_columns: Vec<Vec<f64>>,
}

/// A copy of `trace` without the variables `replaced` picks, with the `added` quantities'
/// columns computed draw by draw (kept warm-up draws too) by `per_draw`, which pushes one
/// value to each of the columns it is given. It gets the draw's random variables and
/// deterministics as a named point, and a random stream: the chain's, from `seed` and the chain's id (another one for warm-up
/// draws), so the result does not depend on the thread count. Chains run in parallel;
/// the first failure is reported with its chain and draw.
pub(crate) fn extend_trace<F>(
    trace: &Trace,
    added: &[TraceVariable],
    replaced: impl Fn(&TraceVariable) -> bool,
    seed: u64,
    per_draw: F,
) -> Result<Trace, SampleError>
where
    F: Fn(&Point, &mut dyn RngCore, &mut [Vec<f64>]) -> Result<(), ppl_core::Error> + Sync,
{
    let width: usize = added.iter().map(TraceVariable::len).sum();
    let per_draw = &per_draw;
    let per_chain: Vec<Result<ChainColumns, SampleError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..trace.chains().len())
            .map(|position| {
                scope.spawn(move || chain_columns(trace, position, width, seed, per_draw))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let per_chain = per_chain.into_iter().collect::<Result<Vec<_>, _>>()?;

    let mut kept_columns = Vec::new();
    let mut variables = Vec::new();
    let mut offset = 0;
    for v in trace.variables() {
        if !replaced(v) {
            kept_columns.extend(offset..offset + v.len());
            variables.push(v.clone());
        }
        offset += v.len();
    }
    variables.extend(added.iter().cloned());
    let keep = |columns: &[Vec<f64>], new: Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        let mut out: Vec<Vec<f64>> = kept_columns.iter().map(|&c| columns[c].clone()).collect();
        out.extend(new);
        out
    };
    let chains: Vec<ChainTrace> = trace
        .chains()
        .iter()
        .zip(per_chain)
        .map(|(chain, added)| {
            let mut chain = chain.clone();
            chain.columns = keep(&chain.columns, added.columns);
            if !chain.warmup_columns.is_empty() {
                chain.warmup_columns = keep(&chain.warmup_columns, added.warmup_columns);
            }
            chain
        })
        .collect();
    Ok(Trace::new(
        variables,
        chains,
        trace.settings().clone(),
        trace.seed(),
        trace.wall_time(),
    ))
}

/// What [`extend_trace`] runs for the chain at `position` in the trace.
fn chain_columns<F>(
    trace: &Trace,
    position: usize,
    width: usize,
    seed: u64,
    per_draw: &F,
) -> Result<ChainColumns, SampleError>
where
    F: Fn(&Point, &mut dyn RngCore, &mut [Vec<f64>]) -> Result<(), ppl_core::Error>,
{
    let chain = &trace.chains()[position];
    let run = |warmup: bool| -> Result<Vec<Vec<f64>>, SampleError> {
        let n = if warmup {
            chain.kept_warmup_draws()
        } else {
            chain.num_draws()
        };
        let stream = chain.chain as u64 + if warmup { WARMUP_STREAM } else { 0 };
        let mut rng = rng_for(seed, stream);
        let mut columns = vec![Vec::with_capacity(n); width];
        for draw in 0..n {
            let fail = |source| SampleError::PerDraw {
                chain: position,
                draw,
                source,
            };
            let point = trace
                .model_point(position, draw, warmup)
                .ok_or_else(|| fail(ppl_core::Error::Point("no such draw".into())))?;
            per_draw(&point, &mut rng, &mut columns).map_err(fail)?;
        }
        Ok(columns)
    };
    let columns = run(false)?;
    let warmup_columns = if chain.warmup_columns.is_empty() {
        Vec::new()
    } else {
        run(true)?
    };
    Ok(ChainColumns {
        columns,
        warmup_columns,
    })
}

/// Appends one draw's values of `quantities` to their columns, in order, each looked up
/// by `values` (which must give a value per element).
pub(crate) fn push_values<'a>(
    columns: &mut [Vec<f64>],
    quantities: &[TraceVariable],
    values: impl Fn(&TraceVariable) -> Option<&'a [f64]>,
) -> Result<(), ppl_core::Error> {
    let mut column = 0;
    for v in quantities {
        let len = v.len();
        let Some(xs) = values(v).filter(|xs| xs.len() == len) else {
            return Err(ppl_core::Error::Point(format!(
                "`{}` was not computed with its {len} elements",
                v.name
            )));
        };
        for (c, x) in columns[column..column + len].iter_mut().zip(xs) {
            c.push(*x);
        }
        column += len;
    }
    Ok(())
}

/// A quantity of a forward draw, found by its kind: random variables, deterministics or
/// observations.
fn drawn_values<'a>(drawn: &'a PriorDraw, v: &TraceVariable) -> Option<&'a [f64]> {
    let group = match v.kind {
        VariableKind::Parameter => &drawn.variables,
        VariableKind::Deterministic => &drawn.deterministics,
        VariableKind::PosteriorPredictive | VariableKind::PriorPredictive => &drawn.observed,
        VariableKind::LogLikelihood => return None,
    };
    group.get(&v.name).map(|a| a.values.as_slice())
}
