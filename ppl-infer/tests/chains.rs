//! Parallel chains: reproducibility whatever the thread count, failures confined to their
//! chain, settings and initial points checked before anything runs.

mod common;

use common::{Correlated, StdNormal};
use ppl_core::Error;
use ppl_infer::{
    sample_log_density, ChainFailureReason, InitFailure, LogDensity, Metric, Nuts, SampleError,
    SettingsError, Trace,
};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

fn small() -> Nuts {
    Nuts::default().draws(200).tune(200)
}

fn assert_bit_identical(a: &Trace, b: &Trace) {
    assert_eq!(a.chains().len(), b.chains().len());
    for (ca, cb) in a.chains().iter().zip(b.chains()) {
        assert_eq!(ca.chain, cb.chain);
        for j in 0..a.num_columns() {
            let (x, y) = (ca.column(j), cb.column(j));
            assert!(x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
        assert_eq!(ca.stats, cb.stats);
        assert_eq!(ca.warmup_stats, cb.warmup_stats);
        assert_eq!(ca.step_size.to_bits(), cb.step_size.to_bits());
        assert_eq!(ca.inv_mass, cb.inv_mass);
        assert_eq!(ca.gradient_evaluations, cb.gradient_evaluations);
    }
}

#[test]
fn same_seed_gives_bit_identical_traces_sequential_or_parallel() {
    let density = StdNormal(3);
    let sequential = sample_log_density(&density, small().seed(9).threads(1)).unwrap();
    let parallel = sample_log_density(&density, small().seed(9).threads(4)).unwrap();
    let two = sample_log_density(&density, small().seed(9).threads(2)).unwrap();
    assert_bit_identical(&sequential, &parallel);
    assert_bit_identical(&sequential, &two);
    let other = sample_log_density(&density, small().seed(10).threads(4)).unwrap();
    assert_ne!(
        sequential.chains()[0].column(0),
        other.chains()[0].column(0)
    );
    // Chains differ from each other.
    assert_ne!(
        sequential.chains()[0].column(0),
        sequential.chains()[1].column(0)
    );
}

#[test]
fn warmup_draws_are_kept_on_request() {
    let density = StdNormal(2);
    let with = sample_log_density(&density, small().seed(4).keep_warmup(true)).unwrap();
    let without = sample_log_density(&density, small().seed(4)).unwrap();
    assert_eq!(with.warmup_samples("x", 1).unwrap()[0].len(), 200);
    assert!(without.warmup_samples("x", 1).is_none());
    // Keeping warm-up draws does not change the draws.
    assert_bit_identical(&with, &without);
    for chain in without.chains() {
        assert_eq!(chain.warmup_stats.len(), 200);
        assert!(chain.leapfrog_steps() < chain.gradient_evaluations);
    }
    assert_eq!(without.settings().seed_value(), Some(4));
}

#[test]
fn random_seed_is_recorded_and_reproduces_the_run() {
    let density = StdNormal(2);
    let first = sample_log_density(&density, small().chains(2)).unwrap();
    let again = sample_log_density(&density, small().chains(2).seed(first.seed())).unwrap();
    assert_bit_identical(&first, &again);
}

#[test]
fn invalid_settings_are_errors() {
    let density = StdNormal(2);
    let cases = [
        (Nuts::default().chains(0), SettingsError::NoChains),
        (Nuts::default().draws(0), SettingsError::NoDraws),
        (Nuts::default().threads(0), SettingsError::NoThreads),
        (
            Nuts::default().target_accept(0.0),
            SettingsError::TargetAccept(0.0),
        ),
        (
            Nuts::default().target_accept(1.0),
            SettingsError::TargetAccept(1.0),
        ),
        (
            Nuts::default().target_accept(1.5),
            SettingsError::TargetAccept(1.5),
        ),
        (Nuts::default().max_depth(0), SettingsError::MaxDepth(0)),
        (Nuts::default().max_depth(31), SettingsError::MaxDepth(31)),
        (
            Nuts::default().initial_step_size(-1.0),
            SettingsError::StepSize(-1.0),
        ),
        (
            Nuts::default().initial_positions(vec![vec![0.0; 2]; 3]),
            SettingsError::InitialPositionCount {
                chains: 4,
                found: 3,
            },
        ),
    ];
    for (nuts, expected) in cases {
        assert_eq!(nuts.validate(), Err(expected.clone()));
        match sample_log_density(&density, nuts) {
            Err(SampleError::Settings(e)) => assert_eq!(e, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }
    assert!(matches!(
        Nuts::default().target_accept(f64::NAN).validate(),
        Err(SettingsError::TargetAccept(_))
    ));
    let message = Nuts::default()
        .target_accept(1.5)
        .validate()
        .unwrap_err()
        .to_string();
    assert!(message.contains("between 0 and 1"), "{message}");
}

/// Panics on the `n`-th evaluation over all threads.
struct PanicsOnce {
    calls: AtomicUsize,
    at: usize,
}

impl LogDensity for PanicsOnce {
    fn dim(&self) -> usize {
        2
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        StdNormal(2).logp(x)
    }
    fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == self.at {
            panic!("the model broke");
        }
        StdNormal(2).logp_grad(x, g)
    }
}

#[test]
fn a_panic_fails_only_its_chain() {
    let density = PanicsOnce {
        calls: AtomicUsize::new(0),
        at: 500,
    };
    // With one thread, chain 0 runs first and meets the panic.
    let err = sample_log_density(&density, small().seed(1).threads(1)).unwrap_err();
    let SampleError::ChainsFailed { failures, partial } = &err else {
        panic!("expected failed chains, got {err}");
    };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].chain, 0);
    assert!(matches!(&failures[0].reason, ChainFailureReason::Panic(m) if m == "the model broke"));
    let ids: Vec<usize> = partial.chains().iter().map(|c| c.chain).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    assert_eq!(partial.num_draws(), 200);
    let message = err.to_string();
    assert!(message.contains("1 of 4 chains failed"), "{message}");
    assert!(
        message.contains("chain 0 failed: panicked: the model broke"),
        "{message}"
    );

    // In parallel, exactly one chain (whichever reaches the call first) fails.
    let density = PanicsOnce {
        calls: AtomicUsize::new(0),
        at: 3000,
    };
    match sample_log_density(&density, small().seed(1).threads(4)) {
        Err(SampleError::ChainsFailed { failures, partial }) => {
            assert_eq!(failures.len(), 1);
            assert_eq!(partial.chains().len(), 3);
        }
        other => panic!("expected one failed chain, got {other:?}"),
    }
}

thread_local! {
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

/// Fails (error or panic) after 100 evaluations on any one thread.
struct FailsLater {
    panic: bool,
}

impl LogDensity for FailsLater {
    fn dim(&self) -> usize {
        1
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        StdNormal(1).logp(x)
    }
    fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
        let n = CALLS.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        if n > 100 {
            if self.panic {
                panic!("evaluation {n}");
            }
            return Err(Error::Unsupported(format!("cannot evaluate a {n}th time")));
        }
        StdNormal(1).logp_grad(x, g)
    }
}

#[test]
fn every_chain_failing_is_reported_per_chain() {
    for panic in [false, true] {
        let err = sample_log_density(&FailsLater { panic }, small().seed(3).chains(3)).unwrap_err();
        let SampleError::ChainsFailed { failures, partial } = &err else {
            panic!("expected failed chains, got {err}");
        };
        assert!(partial.chains().is_empty());
        let ids: Vec<usize> = failures.iter().map(|f| f.chain).collect();
        assert_eq!(ids, vec![0, 1, 2]);
        for f in failures {
            match (&f.reason, panic) {
                (ChainFailureReason::Panic(m), true) => assert_eq!(m, "evaluation 101"),
                (ChainFailureReason::Model(Error::Unsupported(m)), false) => {
                    assert_eq!(m, "cannot evaluate a 101th time")
                }
                (other, _) => panic!("unexpected reason {other:?}"),
            }
        }
        assert!(err.to_string().contains("chain 2 failed"), "{err}");
    }
}

/// Finite only for x > 10: no uniform(−2, 2) start works.
struct FarAway;

impl LogDensity for FarAway {
    fn dim(&self) -> usize {
        1
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        Ok(if x[0] > 10.0 {
            -x[0]
        } else {
            f64::NEG_INFINITY
        })
    }
    fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
        g[0] = -1.0;
        self.logp(x)
    }
}

#[test]
fn initial_positions_are_checked_before_any_chain_runs() {
    match sample_log_density(&FarAway, small().seed(1)) {
        Err(SampleError::Init {
            chain: 0,
            source: InitFailure::Model(Error::Init { attempts: 100, .. }),
        }) => {}
        other => panic!("expected an initialisation error, got {other:?}"),
    }
    // A given position that works is used; one that does not names its chain.
    let ok = sample_log_density(
        &FarAway,
        small()
            .seed(1)
            .chains(2)
            .initial_positions(vec![vec![12.0]]),
    );
    assert!(ok.is_ok());
    let err = sample_log_density(
        &FarAway,
        small()
            .seed(1)
            .chains(2)
            .initial_positions(vec![vec![12.0], vec![0.0]]),
    )
    .unwrap_err();
    assert!(matches!(err, SampleError::Init { chain: 1, .. }), "{err}");
    let wrong_length = sample_log_density(
        &FarAway,
        small().seed(1).initial_positions(vec![vec![12.0, 1.0]]),
    )
    .unwrap_err();
    assert!(
        matches!(
            wrong_length,
            SampleError::Init {
                chain: 0,
                source: InitFailure::Model(Error::Dimension {
                    expected: 1,
                    found: 2
                })
            }
        ),
        "{wrong_length}"
    );
}

/// NaN beyond |x| > 1.5: divergences, never a crash.
struct NanTails;

impl LogDensity for NanTails {
    fn dim(&self) -> usize {
        2
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        Ok(if x[0].abs() > 1.5 {
            f64::NAN
        } else {
            -0.5 * (x[0] * x[0] + x[1] * x[1])
        })
    }
    fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
        g[0] = if x[0].abs() > 1.5 { f64::NAN } else { -x[0] };
        g[1] = -x[1];
        self.logp(x)
    }
}

#[test]
fn nan_log_density_counts_as_divergence() {
    let trace = sample_log_density(&NanTails, small().seed(5)).unwrap();
    assert!(trace.divergences() > 0);
    for chain in trace.chains() {
        assert!(chain.column(0).iter().all(|x| x.abs() <= 1.5));
        assert!(chain
            .stats
            .iter()
            .all(|s| s.lp.is_finite() && s.energy.is_finite()));
    }
    let summary = trace.summary().to_string();
    assert!(summary.contains("diverged"), "{summary}");
}

#[test]
fn tree_depth_warning_suggests_a_low_rank_metric_for_diagonal_metrics() {
    let target = Correlated {
        mean: [0.0, 0.0],
        sd: [1.0, 1.0],
        rho: 0.999,
    };
    let settings = small().seed(3).max_depth(2).progress(false);
    let diagonal =
        sample_log_density(&target, settings.clone().metric(Metric::GradientDiagonal)).unwrap();
    let warnings = diagonal.summary().warnings().to_vec();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("maximum tree depth 2") && w.contains("Metric::Auto")),
        "{warnings:?}"
    );
    let auto = sample_log_density(&target, settings.clone().metric(Metric::Auto)).unwrap();
    let warnings = auto.summary().warnings().to_vec();
    assert!(
        warnings.iter().all(|w| !w.contains("Metric::Auto")),
        "{warnings:?}"
    );
    let low_rank = sample_log_density(&target, settings.metric(Metric::LowRank)).unwrap();
    let warnings = low_rank.summary().warnings().to_vec();
    assert!(
        warnings.iter().all(|w| !w.contains("Metric::")),
        "{warnings:?}"
    );
}
