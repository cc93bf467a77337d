//! The result of sampling: per chain, the recorded draws (constrained, with shapes),
//! sampler statistics, warm-up draws on request, timings and gradient counts.

use crate::nuts::SampleStats;
use crate::sampler::Nuts;
use crate::target::TraceVariable;
use ppl_core::{Array, Point};
use std::time::Duration;

/// Wall-clock time a chain spent in each phase.
///
/// ```
/// use ppl_infer::{sample_log_density, ChainTiming, LogDensity, Nuts};
/// # struct StdNormal;
/// # impl LogDensity for StdNormal {
/// #     fn dim(&self) -> usize { 2 }
/// #     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
/// #         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// #     }
/// #     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
/// #         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
/// #         self.logp(x)
/// #     }
/// # }
/// // `StdNormal` is a standard normal in 2 dimensions (see `sample_log_density`).
/// let nuts = Nuts::default().chains(2).draws(200).tune(200).seed(1).progress(false);
/// let trace = sample_log_density(&StdNormal, nuts)?;
/// for chain in trace.chains() {
///     let ChainTiming { warmup, sampling } = chain.timing;
///     // Every chain ran within the whole run's wall-clock time.
///     assert!(warmup + sampling <= trace.wall_time());
/// }
/// # Ok::<(), ppl_infer::SampleError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChainTiming {
    /// Warm-up (including the step-size heuristic).
    pub warmup: Duration,
    /// Sampling after warm-up.
    pub sampling: Duration,
}

/// Everything one chain produced.
///
/// ```
/// use ppl_infer::{sample_log_density, LogDensity, Nuts};
/// # struct StdNormal;
/// # impl LogDensity for StdNormal {
/// #     fn dim(&self) -> usize { 2 }
/// #     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
/// #         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// #     }
/// #     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
/// #         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
/// #         self.logp(x)
/// #     }
/// # }
/// // `StdNormal` is a standard normal in 2 dimensions (see `sample_log_density`).
/// let nuts = Nuts::default().chains(2).draws(200).tune(200).seed(2).progress(false);
/// let nuts = nuts.keep_warmup(true);
/// let trace = sample_log_density(&StdNormal, nuts)?;
/// for (c, chain) in trace.chains().iter().enumerate() {
///     assert_eq!(chain.chain, c);
///     assert_eq!(chain.num_draws(), 200);
///     assert_eq!(chain.column(1).len(), 200);
///     assert_eq!(chain.warmup_column(1).map(<[f64]>::len), Some(200));
///     assert_eq!(chain.warmup_stats.len(), 200);
///     // After warm-up every draw uses the adapted step size.
///     assert!(chain.stats.iter().all(|s| s.step_size == chain.step_size));
///     assert_eq!(chain.inv_mass.len(), 2);
///     assert_eq!(chain.divergences(), 0);
///     // Every leapfrog step costs a gradient; the step-size search costs a few more.
///     assert!(chain.gradient_evaluations >= chain.leapfrog_steps());
///     assert!(chain.steps.is_empty()); // plain NUTS: no compound steps
/// }
/// # Ok::<(), ppl_infer::SampleError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ChainTrace {
    /// The chain's id (its random stream).
    pub chain: usize,
    /// One column per recorded scalar, one entry per draw.
    pub(crate) columns: Vec<Vec<f64>>,
    /// Warm-up columns; empty unless warm-up draws were kept.
    pub(crate) warmup_columns: Vec<Vec<f64>>,
    /// Statistics of each draw after warm-up.
    pub stats: Vec<SampleStats>,
    /// Statistics of each warm-up iteration (always kept).
    pub warmup_stats: Vec<SampleStats>,
    /// The adapted step size used after warm-up.
    pub step_size: f64,
    /// The adapted diagonal inverse mass matrix (unconstrained scale).
    pub inv_mass: Vec<f64>,
    /// The whole adapted inverse mass matrix, row-major, for the metrics CmdStan calls
    /// `dense_e` ([`Metric::Dense`](crate::Metric::Dense), and the low-rank metrics up
    /// to 1000 dimensions); empty otherwise.
    pub inv_mass_matrix: Vec<f64>,
    /// Time spent.
    pub timing: ChainTiming,
    /// Gradient evaluations, warm-up included (leapfrog steps plus the step-size
    /// heuristic's and the initial point's).
    pub gradient_evaluations: u64,
    /// Per step of a compound sampler, its statistics (empty for plain NUTS).
    pub steps: Vec<StepTrace>,
}

/// The statistics one step of a compound sampler recorded in one chain.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Bernoulli;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{Compound, Nuts, Sample, StepTrace};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `z ~ Bernoulli(0.3)`, sampled by BinaryGibbsMetropolis flips.
/// struct Coin;
/// impl ModelTemplate for Coin {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "coin" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let _z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let nuts = Nuts::default().chains(2).draws(1000).tune(100).seed(4).progress(false);
/// let trace = Model::new(Coin)?.sample(Compound::new(nuts))?;
/// assert_eq!(trace.step_labels(), ["binary_gibbs[z]"]);
/// let step: &StepTrace = &trace.chains()[0].steps[0];
/// assert_eq!((step.accept.len(), step.warmup_accept.len()), (1000, 100));
/// assert_eq!(step.evaluations, 1100); // one flip proposal per iteration
/// // A flip 0 → 1 is accepted with probability 0.3 / 0.7, a flip 1 → 0 always:
/// // 0.7 · 3/7 + 0.3 · 1 = 0.6 on average. A draw's acceptance is 3/7 + (4/7)·z, so the
/// // mean's standard error is 4/7 of z's: √(0.21 · 0.4 / 1000) (the two-state chain's
/// // other eigenvalue is −3/7); the check allows 4 of them.
/// let mcse = 4.0 / 7.0 * (0.21 * 0.4 / 1000.0f64).sqrt();
/// assert!((step.mean_accept() - 0.6).abs() < 4.0 * mcse);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StepTrace {
    /// The step's label, such as `metropolis[s]`.
    pub label: String,
    /// Acceptance rate of each iteration after warm-up (see
    /// [`StepStats::accept`](crate::step::StepStats::accept)).
    pub accept: Vec<f64>,
    /// Acceptance rate of each warm-up iteration.
    pub warmup_accept: Vec<f64>,
    /// Log-density evaluations over warm-up and sampling.
    pub evaluations: u64,
}

impl StepTrace {
    /// Mean acceptance rate after warm-up.
    ///
    /// See [`StepTrace`] for an example.
    pub fn mean_accept(&self) -> f64 {
        self.accept.iter().sum::<f64>() / self.accept.len().max(1) as f64
    }
}

impl ChainTrace {
    /// Number of draws after warm-up.
    ///
    /// See [`ChainTrace`] for an example.
    pub fn num_draws(&self) -> usize {
        self.stats.len()
    }

    /// The draws of recorded scalar `column` (see [`Trace::column_index`]).
    ///
    /// See [`ChainTrace`] for an example.
    pub fn column(&self, column: usize) -> &[f64] {
        &self.columns[column]
    }

    /// The warm-up draws of scalar `column`, if they were kept.
    ///
    /// See [`ChainTrace`] for an example.
    pub fn warmup_column(&self, column: usize) -> Option<&[f64]> {
        self.warmup_columns.get(column).map(Vec::as_slice)
    }

    /// Number of warm-up draws kept (0 unless warm-up draws were kept).
    pub(crate) fn kept_warmup_draws(&self) -> usize {
        self.warmup_columns.first().map_or(0, Vec::len)
    }

    /// The chain's E-BFMI after warm-up (see [`bfmi`](crate::diagnostics::bfmi)): NaN
    /// for samplers without an energy (compound steps without NUTS, approximations).
    pub fn bfmi(&self) -> f64 {
        let energy: Vec<f64> = self.stats.iter().map(|s| s.energy).collect();
        crate::diagnostics::bfmi(&energy)
    }

    /// Divergent transitions after warm-up.
    ///
    /// See [`ChainTrace`] for an example.
    pub fn divergences(&self) -> usize {
        self.stats.iter().filter(|s| s.diverging).count()
    }

    /// Leapfrog steps over warm-up and sampling (the "grads" count the benchmark
    /// comparisons with Stan and nutpie use).
    ///
    /// See [`ChainTrace`] for an example.
    pub fn leapfrog_steps(&self) -> u64 {
        self.stats
            .iter()
            .chain(&self.warmup_stats)
            .map(|s| u64::from(s.n_leapfrog))
            .sum()
    }
}

/// Draws from every chain, with the settings that produced them.
///
/// Values are in the constrained space (`tau > 0` stays positive), one named, shaped
/// variable at a time; deterministics come after the parameters.
///
/// ```
/// use ppl_infer::{sample_log_density, LogDensity, Nuts};
/// # struct StdNormal;
/// # impl LogDensity for StdNormal {
/// #     fn dim(&self) -> usize { 2 }
/// #     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
/// #         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// #     }
/// #     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
/// #         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
/// #         self.logp(x)
/// #     }
/// # }
/// // `StdNormal` is a standard normal in 2 dimensions (see `sample_log_density`): the
/// // trace records its unconstrained vector as one variable `x` of shape [2].
/// let nuts = Nuts::default().chains(2).draws(200).tune(200).seed(3).progress(false);
/// let trace = sample_log_density(&StdNormal, nuts)?;
/// assert_eq!(trace.column_names(), ["x[0]", "x[1]"]);
/// assert_eq!(trace.column_index("x", 1), Some(1));
/// assert_eq!((trace.chains().len(), trace.num_draws(), trace.seed()), (2, 200, 3));
///
/// // The draws of `x[0]`, one slice per chain, and their mean.
/// let draws = trace.samples("x", 0).unwrap();
/// assert_eq!(draws.len(), 2);
/// let mean = trace.mean("x").unwrap()[0];
/// let pooled: f64 = draws.iter().flat_map(|c| c.iter()).sum::<f64>() / 400.0;
/// assert!((mean - pooled).abs() < 1e-12);
/// // The posterior mean is 0: within a few Monte-Carlo standard errors.
/// let mcse = trace.summary().row("x[0]").unwrap().mcse_mean;
/// assert!(mean.abs() < 4.0 * mcse);
///
/// // One draw as a named point with shapes.
/// let point = trace.point(1, 0).unwrap();
/// assert_eq!(point.get("x").unwrap().shape, [2]);
/// assert_eq!(point.get("x").unwrap().values[0], draws[1][0]);
/// assert!(trace.point(1, 200).is_none());
/// # Ok::<(), ppl_infer::SampleError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub(crate) variables: Vec<TraceVariable>,
    pub(crate) offsets: Vec<usize>,
    pub(crate) chains: Vec<ChainTrace>,
    pub(crate) settings: Nuts,
    pub(crate) seed: u64,
    pub(crate) wall_time: Duration,
}

impl Trace {
    pub(crate) fn new(
        variables: Vec<TraceVariable>,
        chains: Vec<ChainTrace>,
        settings: Nuts,
        seed: u64,
        wall_time: Duration,
    ) -> Self {
        let mut offsets = Vec::with_capacity(variables.len());
        let mut offset = 0;
        for v in &variables {
            offsets.push(offset);
            offset += v.len();
        }
        Trace {
            variables,
            offsets,
            chains,
            settings,
            seed,
            wall_time,
        }
    }

    /// The recorded variables, in order.
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn variables(&self) -> &[TraceVariable] {
        &self.variables
    }

    /// The chains that finished, in chain order.
    ///
    /// The trace's accessors on a small run:
    ///
    /// ```
    /// use ppl_infer::{sample_log_density, LogDensity, Nuts};
    /// # struct StdNormal;
    /// # impl LogDensity for StdNormal {
    /// #     fn dim(&self) -> usize { 2 }
    /// #     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
    /// #         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
    /// #     }
    /// #     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
    /// #         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
    /// #         self.logp(x)
    /// #     }
    /// # }
    /// // `StdNormal` is a standard normal in 2 dimensions (see `sample_log_density`).
    /// let nuts = Nuts::default().chains(2).draws(200).tune(100).seed(11).progress(false);
    /// let trace = sample_log_density(&StdNormal, nuts.clone())?;
    /// // What was recorded: one variable `x` of shape [2], so two columns.
    /// let x = &trace.variables()[0];
    /// assert_eq!((x.name.as_str(), x.shape.as_slice()), ("x", &[2][..]));
    /// assert_eq!(trace.num_columns(), 2);
    /// // The settings and seed that produced it.
    /// assert_eq!(trace.settings(), &nuts);
    /// assert_eq!(trace.seed(), 11);
    ///
    /// // Per chain, in chain order ...
    /// let chains = trace.chains();
    /// assert_eq!(chains.len(), 2);
    /// for (c, chain) in chains.iter().enumerate() {
    ///     assert_eq!(chain.chain, c);
    ///     assert_eq!(chain.num_draws(), trace.num_draws());
    ///     assert!(chain.timing.warmup + chain.timing.sampling <= trace.wall_time());
    /// }
    /// // ... and totals over the chains.
    /// assert_eq!(trace.num_draws(), 200);
    /// assert_eq!(trace.divergences(), chains.iter().map(|c| c.divergences()).sum::<usize>());
    /// assert_eq!(trace.leapfrog_steps(), chains.iter().map(|c| c.leapfrog_steps()).sum::<u64>());
    /// let gradients: u64 = chains.iter().map(|c| c.gradient_evaluations).sum();
    /// assert_eq!(trace.gradient_evaluations(), gradients);
    /// // Every leapfrog step costs a gradient, and there is at least one per iteration.
    /// assert!(trace.gradient_evaluations() >= trace.leapfrog_steps());
    /// assert!(trace.leapfrog_steps() >= 2 * (100 + 200));
    /// // Plain NUTS has no compound steps.
    /// assert!(trace.step_labels().is_empty() && trace.acceptance_rates().is_empty());
    /// assert_eq!(trace.step_evaluations(), 0);
    /// # Ok::<(), ppl_infer::SampleError>(())
    /// ```
    pub fn chains(&self) -> &[ChainTrace] {
        &self.chains
    }

    /// The settings used (with the seed filled in).
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn settings(&self) -> &Nuts {
        &self.settings
    }

    /// The seed used.
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Wall-clock time of the whole run (initialisation, warm-up and sampling, all chains).
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn wall_time(&self) -> Duration {
        self.wall_time
    }

    /// Draws per chain after warm-up.
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn num_draws(&self) -> usize {
        self.chains.first().map_or(0, ChainTrace::num_draws)
    }

    /// Total number of recorded scalars per draw.
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn num_columns(&self) -> usize {
        self.variables.iter().map(TraceVariable::len).sum()
    }

    /// The names of all recorded scalars: `mu`, `theta[0]`, ….
    ///
    /// See [`Trace`] for an example.
    pub fn column_names(&self) -> Vec<String> {
        self.variables
            .iter()
            .flat_map(|v| (0..v.len()).map(move |i| v.element_name(i)))
            .collect()
    }

    /// The column of element `element` (row-major) of variable `name`.
    ///
    /// See [`Trace`] for an example.
    pub fn column_index(&self, name: &str, element: usize) -> Option<usize> {
        let i = self.variables.iter().position(|v| v.name == name)?;
        (element < self.variables[i].len()).then(|| self.offsets[i] + element)
    }

    /// Per chain, the draws after warm-up of element `element` of `name`.
    ///
    /// See [`Trace`] for an example.
    pub fn samples(&self, name: &str, element: usize) -> Option<Vec<&[f64]>> {
        let column = self.column_index(name, element)?;
        Some(self.chains.iter().map(|c| c.column(column)).collect())
    }

    /// Per chain, the warm-up draws of element `element` of `name` (if kept).
    ///
    /// See [`Nuts::keep_warmup`] for an example.
    pub fn warmup_samples(&self, name: &str, element: usize) -> Option<Vec<&[f64]>> {
        let column = self.column_index(name, element)?;
        self.chains
            .iter()
            .map(|c| c.warmup_column(column))
            .collect()
    }

    /// The posterior mean of each element of `name`, over all chains.
    ///
    /// See [`Trace`] for an example.
    pub fn mean(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.variables.iter().position(|v| v.name == name)?;
        let n: usize = self.chains.iter().map(ChainTrace::num_draws).sum();
        Some(
            (0..self.variables[i].len())
                .map(|e| {
                    let column = self.offsets[i] + e;
                    let sum: f64 = self.chains.iter().flat_map(|c| c.column(column)).sum();
                    sum / n as f64
                })
                .collect(),
        )
    }

    /// Draw `draw` of the chain at position `chain` in [`chains`](Self::chains), as a
    /// named point with shapes.
    ///
    /// See [`Trace`] for an example.
    pub fn point(&self, chain: usize, draw: usize) -> Option<Point> {
        let c = self.chains.get(chain)?;
        (draw < c.num_draws()).then(|| self.point_in(&c.columns, draw, |_| true))
    }

    /// Draw `draw` of the chain at position `chain` (of its kept warm-up draws when
    /// `warmup`) as a named point of the model's own quantities, its parameters and
    /// deterministics: what a model is evaluated at again (predictive draws and
    /// log-likelihoods added to the trace are left out).
    pub(crate) fn model_point(&self, chain: usize, draw: usize, warmup: bool) -> Option<Point> {
        let c = self.chains.get(chain)?;
        let (columns, n) = if warmup {
            (&c.warmup_columns, c.kept_warmup_draws())
        } else {
            (&c.columns, c.num_draws())
        };
        (draw < n).then(|| self.point_in(columns, draw, |v| v.kind.is_posterior()))
    }

    /// Row `draw` of a chain's `columns`, as a named point with shapes, of the variables
    /// `keep` picks.
    fn point_in(
        &self,
        columns: &[Vec<f64>],
        draw: usize,
        keep: impl Fn(&TraceVariable) -> bool,
    ) -> Point {
        let mut point = Point::new();
        for (v, offset) in self.variables.iter().zip(&self.offsets) {
            if !keep(v) {
                continue;
            }
            let values = (0..v.len()).map(|e| columns[offset + e][draw]).collect();
            point.insert(
                &v.name,
                Array {
                    shape: v.shape.clone(),
                    values,
                },
            );
        }
        point
    }

    /// Divergent transitions after warm-up, over all chains.
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn divergences(&self) -> usize {
        self.chains.iter().map(ChainTrace::divergences).sum()
    }

    /// Gradient evaluations over all chains, warm-up included.
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn gradient_evaluations(&self) -> u64 {
        self.chains.iter().map(|c| c.gradient_evaluations).sum()
    }

    /// Labels of the steps of a compound sampler (empty for plain NUTS).
    ///
    /// See [`acceptance_rates`](Self::acceptance_rates) for an example.
    pub fn step_labels(&self) -> Vec<&str> {
        self.chains
            .first()
            .map(|c| c.steps.iter().map(|s| s.label.as_str()).collect())
            .unwrap_or_default()
    }

    /// Per step of a compound sampler, its mean acceptance rate after warm-up over all
    /// chains.
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Bernoulli;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{Compound, Nuts, Sample};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `z ~ Bernoulli(0.3)`, sampled by BinaryGibbsMetropolis flips.
    /// struct Coin;
    /// impl ModelTemplate for Coin {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str { "coin" }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let _z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let nuts = Nuts::default().chains(2).draws(1000).tune(100).seed(12).progress(false);
    /// let trace = Model::new(Coin)?.sample(Compound::new(nuts))?;
    /// assert_eq!(trace.step_labels(), ["binary_gibbs[z]"]);
    /// // One flip proposal per iteration and chain, warm-up included.
    /// assert_eq!(trace.step_evaluations(), 2 * (100 + 1000));
    /// let rates = trace.acceptance_rates();
    /// assert_eq!(rates.len(), 1);
    /// assert_eq!(rates[0].0, "binary_gibbs[z]");
    /// // The chains' rates pooled (equal numbers of draws).
    /// let per_chain: f64 = trace.chains().iter().map(|c| c.steps[0].mean_accept()).sum();
    /// assert!((rates[0].1 - per_chain / 2.0).abs() < 1e-12);
    /// // A flip 0 → 1 is accepted with probability 0.3 / 0.7 and a flip 1 → 0 always, so the
    /// // rate is 3/7 + (4/7)·P(z = 1) = 0.6, estimated with 4/7 of the Monte-Carlo error of
    /// // the mean of z: allow 4 standard errors.
    /// let mcse = trace.summary().row("z").unwrap().mcse_mean;
    /// assert!((rates[0].1 - 0.6).abs() < 4.0 * (4.0 / 7.0) * mcse, "{rates:?}");
    /// # Ok(()) }
    /// ```
    pub fn acceptance_rates(&self) -> Vec<(String, f64)> {
        self.step_labels()
            .iter()
            .enumerate()
            .map(|(k, label)| {
                let (sum, n) = self
                    .chains
                    .iter()
                    .filter_map(|c| c.steps.get(k))
                    .fold((0.0, 0usize), |(s, n), t| {
                        (s + t.accept.iter().sum::<f64>(), n + t.accept.len())
                    });
                (label.to_string(), sum / n.max(1) as f64)
            })
            .collect()
    }

    /// Log-density evaluations (with or without gradient) over all chains and steps of
    /// a compound sampler, warm-up included.
    ///
    /// See [`acceptance_rates`](Self::acceptance_rates) for an example.
    pub fn step_evaluations(&self) -> u64 {
        self.chains
            .iter()
            .flat_map(|c| &c.steps)
            .map(|s| s.evaluations)
            .sum()
    }

    /// Leapfrog steps over all chains, warm-up included (the "grads" count the
    /// benchmark comparisons with Stan and nutpie use).
    ///
    /// See [`chains`](Self::chains) for an example.
    pub fn leapfrog_steps(&self) -> u64 {
        self.chains.iter().map(ChainTrace::leapfrog_steps).sum()
    }
}
