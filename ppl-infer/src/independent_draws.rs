//! Independent draws — from an approximation of the posterior (ADVI, Laplace,
//! Pathfinder) or from the prior — as a [`Trace`] of one chain, so that summaries,
//! accessors and writers work on them as on sampler output.

use crate::nuts::SampleStats;
use crate::sampler::Nuts;
use crate::target::{SampleTarget, TraceVariable};
use crate::trace::{ChainTiming, ChainTrace, Trace};
use std::time::Duration;

impl SampleStats {
    /// The statistics of an independent draw: its log-density and zeros (CmdStan writes
    /// an approximation's draws, and `fixed_param` output, with zero sampler columns).
    pub(crate) fn independent(lp: f64) -> Self {
        SampleStats {
            lp,
            accept_stat: 0.0,
            accept_stat_sym: 0.0,
            step_size: 0.0,
            tree_depth: 0,
            n_leapfrog: 0,
            diverging: false,
            energy: 0.0,
        }
    }
}

/// The draws at the unconstrained `positions`, recorded through `target` (constrained
/// values and deterministics), as one chain whose statistics carry each draw's
/// log-density `log_densities[i]`; `elapsed` is the time spent drawing them.
pub(crate) fn independent_draws_trace<T: SampleTarget + ?Sized>(
    target: &T,
    positions: &[Vec<f64>],
    log_densities: &[f64],
    seed: u64,
    elapsed: Duration,
) -> Result<Trace, ppl_core::Error> {
    debug_assert_eq!(positions.len(), log_densities.len());
    let variables = target.variables();
    let width: usize = variables.iter().map(|v| v.len()).sum();
    let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(positions.len()); width];
    let mut row = vec![0.0; width];
    for position in positions {
        target.record(position, &mut row)?;
        for (column, value) in columns.iter_mut().zip(&row) {
            column.push(*value);
        }
    }
    let stats = log_densities
        .iter()
        .map(|&lp| SampleStats::independent(lp))
        .collect();
    Ok(one_chain_trace(variables, columns, stats, seed, elapsed))
}

/// A trace of one chain of independent draws: `columns` of the `variables`, one
/// statistics row per draw, no warm-up.
pub(crate) fn one_chain_trace(
    variables: Vec<TraceVariable>,
    columns: Vec<Vec<f64>>,
    stats: Vec<SampleStats>,
    seed: u64,
    elapsed: Duration,
) -> Trace {
    let draws = stats.len();
    let chain = ChainTrace {
        chain: 0,
        columns,
        warmup_columns: Vec::new(),
        stats,
        warmup_stats: Vec::new(),
        step_size: 0.0,
        inv_mass: Vec::new(),
        inv_mass_matrix: Vec::new(),
        timing: ChainTiming {
            warmup: Duration::ZERO,
            sampling: elapsed,
        },
        gradient_evaluations: 0,
        steps: Vec::new(),
    };
    let settings = Nuts::default()
        .chains(1)
        .draws(draws.max(1))
        .tune(0)
        .seed(seed)
        .progress(false);
    Trace::new(variables, vec![chain], settings, seed, elapsed)
}
