//! Runs NUTS chains in parallel threads and collects them into a trace.
//!
//! Chain `c` draws all its randomness from the stream `(seed, c)`, so a run is
//! bit-identical whatever the number of threads. Initial positions are found and checked
//! for every chain before any chain starts. Each chain runs on its own thread (named
//! `ppl-chain-{c}`) with fresh thread-local state; a panic or model error there fails
//! that chain only, and the others' results are returned inside the error. A progress
//! display (see [`crate::progress`]) runs on one more thread when it is wanted.

use crate::adapt::{
    find_reasonable_step_size, DenseAdaptation, DiagonalAdaptation, DualAveraging,
    GradientDiagonalAdaptation, MetricAdaptation, MetricUpdate,
};
use crate::error::{panic_message, ChainFailure, ChainFailureReason, InitFailure, SampleError};
use crate::hamiltonian::{DiagonalMetric, EuclideanMetric, GradientCounter, PhasePoint};
use crate::low_rank::{CorrectionPolicy, LowRankAdaptation, LowRankMetric};
use crate::metric::{DenseMetric, Metric};
use crate::nuts::NutsWorkspace;
use crate::progress::{ChainProgress, ProgressDisplay};
use crate::sampler::Nuts;
use crate::target::SampleTarget;
use crate::trace::{ChainTiming, ChainTrace, Trace};
use ppl_core::model::rng_for;
use rand_chacha::ChaCha8Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Stack size of a chain's thread (that of a main thread on Linux).
const CHAIN_STACK_SIZE: usize = 8 << 20;

/// What one chain starts from: its id, its random stream and its initial state.
pub(crate) struct ChainJob<S> {
    pub chain: usize,
    pub rng: ChaCha8Rng,
    pub start: S,
}

/// Finds and checks every chain's initial position, then runs the chains.
pub(crate) fn run_chains<T: SampleTarget + ?Sized>(
    target: &T,
    mut nuts: Nuts,
) -> Result<Trace, SampleError> {
    let start = Instant::now();
    let seed = nuts.seed.unwrap_or_else(rand::random);
    nuts.seed = Some(seed);
    let jobs = initial_jobs(&nuts, seed, |chain, rng| {
        let given = match nuts.initial_positions.len() {
            0 => None,
            1 => Some(&nuts.initial_positions[0]),
            _ => Some(&nuts.initial_positions[chain]),
        };
        match given {
            Some(u) => target.check_position(u).map(|()| u.clone()),
            None => target.initial_position(rng),
        }
    })?;
    let variables = target.variables();
    let width = variables.iter().map(|v| v.len()).sum();
    let outcomes = run_jobs(jobs, &nuts, |job, progress| {
        run_chain(target, job, &nuts, width, progress)
    });
    collect_trace(variables, outcomes, nuts, seed, start)
}

/// Every chain's random stream and initial state, found (and checked) before any chain
/// starts; the first chain without one stops the run.
pub(crate) fn initial_jobs<S>(
    nuts: &Nuts,
    seed: u64,
    mut find: impl FnMut(usize, &mut ChaCha8Rng) -> Result<S, ppl_core::Error>,
) -> Result<Vec<ChainJob<S>>, SampleError> {
    let mut jobs = Vec::with_capacity(nuts.chains);
    for chain in 0..nuts.chains {
        let mut rng = rng_for(seed, chain as u64);
        let found = catch_unwind(AssertUnwindSafe(|| find(chain, &mut rng)));
        let start = match found {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Err(SampleError::Init {
                    chain,
                    source: InitFailure::Model(e),
                })
            }
            Err(payload) => {
                return Err(SampleError::Init {
                    chain,
                    source: InitFailure::Panic(panic_message(&*payload)),
                })
            }
        };
        jobs.push(ChainJob { chain, rng, start });
    }
    Ok(jobs)
}

/// The outcome of each chain, in chain order (`None` if its worker vanished).
type Outcomes = Vec<Option<Result<ChainTrace, ChainFailure>>>;

/// Runs `run` on every job in parallel threads (with the progress display if wanted).
pub(crate) fn run_jobs<S, F>(jobs: Vec<ChainJob<S>>, nuts: &Nuts, run: F) -> Outcomes
where
    S: Send,
    F: Fn(ChainJob<S>, Option<&ChainProgress>) -> Result<ChainTrace, ChainFailureReason> + Sync,
{
    let threads = nuts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, nuts.chains);
    let jobs: Vec<Mutex<Option<ChainJob<S>>>> =
        jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let next = AtomicUsize::new(0);
    let mut outcomes: Outcomes = (0..nuts.chains).map(|_| None).collect();
    let display = ProgressDisplay::wanted(nuts.progress, nuts.force_progress)
        .then(|| ProgressDisplay::new(nuts.chains, nuts.tune, nuts.draws));
    std::thread::scope(|scope| {
        let display_thread = display.as_ref().and_then(|d| {
            std::thread::Builder::new()
                .name("ppl-progress".into())
                .spawn_scoped(scope, move || d.run())
                .ok()
        });
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = jobs.get(i) else { break };
                        let job = slot.lock().ok().and_then(|mut job| job.take());
                        if let Some(job) = job {
                            let progress = display.as_ref().map(|d| d.chain(job.chain));
                            done.push((i, run_isolated(job, progress, &run)));
                        }
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            // A worker only moves chains in and out; its chains' own panics are caught.
            if let Ok(done) = worker.join() {
                for (i, outcome) in done {
                    outcomes[i] = Some(outcome);
                }
            }
        }
        if let (Some(d), Some(handle)) = (&display, display_thread) {
            d.stop(handle.thread());
            let _ = handle.join();
        }
    });
    if let Some(display) = &display {
        let failed: Vec<usize> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| !matches!(o, Some(Ok(_))))
            .map(|(c, _)| c)
            .collect();
        display.finish(&failed);
    }
    outcomes
}

/// The trace of the chains that finished, or an error listing the failed ones with the
/// others' draws inside.
pub(crate) fn collect_trace(
    variables: Vec<crate::target::TraceVariable>,
    outcomes: Outcomes,
    nuts: Nuts,
    seed: u64,
    start: Instant,
) -> Result<Trace, SampleError> {
    let mut chains = Vec::with_capacity(nuts.chains);
    let mut failures = Vec::new();
    for (chain, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Some(Ok(trace)) => chains.push(trace),
            Some(Err(failure)) => failures.push(failure),
            None => failures.push(ChainFailure {
                chain,
                reason: ChainFailureReason::Panic("the chain's worker thread stopped".into()),
            }),
        }
    }
    let trace = Trace::new(variables, chains, nuts, seed, start.elapsed());
    if failures.is_empty() {
        Ok(trace)
    } else {
        Err(SampleError::ChainsFailed {
            failures,
            partial: Box::new(trace),
        })
    }
}

/// Runs one chain on a fresh named thread and turns a panic into a failure.
fn run_isolated<S, F>(
    job: ChainJob<S>,
    progress: Option<&ChainProgress>,
    run: &F,
) -> Result<ChainTrace, ChainFailure>
where
    S: Send,
    F: Fn(ChainJob<S>, Option<&ChainProgress>) -> Result<ChainTrace, ChainFailureReason> + Sync,
{
    let chain = job.chain;
    let outcome = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("ppl-chain-{chain}"))
            .stack_size(CHAIN_STACK_SIZE)
            .spawn_scoped(scope, move || run(job, progress))
            .map(|handle| handle.join())
    });
    let reason = match outcome {
        Ok(Ok(Ok(trace))) => return Ok(trace),
        Ok(Ok(Err(reason))) => reason,
        Ok(Err(payload)) => ChainFailureReason::Panic(panic_message(&*payload)),
        Err(e) => ChainFailureReason::Panic(format!("could not start the chain's thread: {e}")),
    };
    Err(ChainFailure { chain, reason })
}

/// Appends one recorded draw to per-scalar columns.
pub(crate) fn push_columns(columns: &mut [Vec<f64>], values: &[f64]) {
    for (column, v) in columns.iter_mut().zip(values) {
        column.push(*v);
    }
}

/// Runs one chain with the metric and adaptation chosen in `nuts`.
fn run_chain<T: SampleTarget + ?Sized>(
    target: &T,
    job: ChainJob<Vec<f64>>,
    nuts: &Nuts,
    width: usize,
    progress: Option<&ChainProgress>,
) -> Result<ChainTrace, ChainFailureReason> {
    let dim = target.dim();
    let tune = u32::try_from(nuts.tune).unwrap_or(u32::MAX);
    match nuts.metric {
        Metric::Diagonal => run_chain_with(
            target,
            job,
            nuts,
            width,
            progress,
            DiagonalMetric::unit(dim),
            DiagonalAdaptation::new(tune, dim),
        ),
        Metric::GradientDiagonal => run_chain_with(
            target,
            job,
            nuts,
            width,
            progress,
            DiagonalMetric::unit(dim),
            GradientDiagonalAdaptation::new(tune, dim),
        ),
        Metric::Dense => run_chain_with(
            target,
            job,
            nuts,
            width,
            progress,
            DenseMetric::unit(dim),
            DenseAdaptation::new(tune, dim),
        ),
        m @ (Metric::LowRank | Metric::Auto) => run_chain_with(
            target,
            job,
            nuts,
            width,
            progress,
            LowRankMetric::unit(dim),
            LowRankAdaptation::new(tune, dim, CorrectionPolicy::of(m)),
        ),
    }
}

/// Warm-up (step size by dual averaging, the metric by `adaptation`), then sampling;
/// everything from the chain's own stream.
fn run_chain_with<T, M, A>(
    target: &T,
    job: ChainJob<Vec<f64>>,
    nuts: &Nuts,
    width: usize,
    progress: Option<&ChainProgress>,
    mut metric: M,
    mut adaptation: A,
) -> Result<ChainTrace, ChainFailureReason>
where
    T: SampleTarget + ?Sized,
    M: EuclideanMetric,
    A: MetricAdaptation<M>,
{
    let ChainJob {
        chain,
        mut rng,
        start: position,
    } = job;
    let dim = target.dim();
    let warmup_start = Instant::now();
    let mut counter = GradientCounter::new(target);
    let mut z = PhasePoint::new(dim);
    z.q.copy_from_slice(&position);
    counter.update(&mut z)?;
    if !z.logp.is_finite() {
        return Err(ChainFailureReason::Model(ppl_core::Error::Point(
            "the checked initial position no longer has a finite log-density and gradient".into(),
        )));
    }

    if nuts.tune > 0 {
        adaptation.init(&mut metric, &z);
    }
    let mut workspace = NutsWorkspace::new(dim, nuts.max_depth);
    let mut scratch = PhasePoint::new(dim);
    let mut step_size = find_reasonable_step_size(
        &z,
        nuts.initial_step_size,
        &metric,
        &mut counter,
        &mut rng,
        &mut scratch,
    )?;
    let mut dual = DualAveraging::new(nuts.target_accept, step_size);
    let mut record = vec![0.0; width];

    let mut warmup_stats = Vec::with_capacity(nuts.tune);
    let mut warmup_columns = if nuts.keep_warmup {
        vec![Vec::with_capacity(nuts.tune); width]
    } else {
        Vec::new()
    };
    for iteration in 0..nuts.tune {
        let stats = workspace.transition(
            &mut z,
            &mut counter,
            &metric,
            step_size,
            nuts.max_depth,
            &mut rng,
        )?;
        step_size = dual.learn(adaptation.step_size_statistic(&stats));
        if adaptation.learn(&mut metric, &z, &stats)? == MetricUpdate::UpdatedRestart {
            step_size = find_reasonable_step_size(
                &z,
                step_size,
                &metric,
                &mut counter,
                &mut rng,
                &mut scratch,
            )?;
            dual.restart(step_size);
        }
        if let Some(progress) = progress {
            progress.record(iteration, stats.diverging, stats.step_size);
        }
        warmup_stats.push(stats);
        if nuts.keep_warmup {
            target.record(&z.q, &mut record)?;
            push_columns(&mut warmup_columns, &record);
        }
    }
    if nuts.tune > 0 {
        step_size = dual.final_step_size();
    }
    let warmup = warmup_start.elapsed();
    if let Some(progress) = progress {
        progress.end_warmup();
    }

    let sampling_start = Instant::now();
    let mut stats = Vec::with_capacity(nuts.draws);
    let mut columns = vec![Vec::with_capacity(nuts.draws); width];
    for iteration in nuts.tune..nuts.tune + nuts.draws {
        let s = workspace.transition(
            &mut z,
            &mut counter,
            &metric,
            step_size,
            nuts.max_depth,
            &mut rng,
        )?;
        if let Some(progress) = progress {
            progress.record(iteration, s.diverging, step_size);
        }
        stats.push(s);
        target.record(&z.q, &mut record)?;
        push_columns(&mut columns, &record);
    }

    Ok(ChainTrace {
        chain,
        columns,
        warmup_columns,
        stats,
        warmup_stats,
        step_size,
        inv_mass: metric.inv_mass_diagonal(),
        inv_mass_matrix: metric.inv_mass_matrix().unwrap_or_default(),
        timing: ChainTiming {
            warmup,
            sampling: sampling_start.elapsed(),
        },
        gradient_evaluations: counter.evaluations,
        steps: Vec::new(),
    })
}
