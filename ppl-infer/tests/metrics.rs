//! The metrics (Stan's diagonal, nutpie's gradient-informed diagonal, Stan's dense,
//! nutpie's low-rank) produce correct posteriors: every mean within 4 MCSE of the truth
//! (or of the posteriordb reference), R-hat below 1.01; runs are bit-identical whatever
//! the thread count and whether progress is shown; invalid settings are errors.

mod common;
mod metric_models;

use common::{Correlated, StdNormal};
use metric_models::{derived, eight_schools_quantities, EightSchools, Gauss100};
use ppl_infer::diagnostics::{mcse_mean, rhat};
use ppl_infer::{sample_log_density, LogDensity, Metric, Nuts, SampleError, SettingsError, Trace};

const METRICS: [Metric; 5] = [
    Metric::Diagonal,
    Metric::GradientDiagonal,
    Metric::Dense,
    Metric::LowRank,
    Metric::Auto,
];

fn nuts(metric: Metric, seed: u64) -> Nuts {
    Nuts::default().seed(seed).metric(metric).progress(false)
}

/// Asserts, for each quantity `f(x)[k]`, that its mean is within
/// `4·sqrt(mcse² + mcse_ref[k]²)` of `truth[k]` and its R-hat below 1.01.
fn check(
    trace: &Trace,
    what: &str,
    truth: &[f64],
    mcse_ref: &[f64],
    f: impl Fn(&[f64]) -> Vec<f64>,
) {
    for (k, chains) in derived(trace, f).iter().enumerate() {
        let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let n: usize = chains.iter().map(|c| c.len()).sum();
        let mean = chains.iter().flat_map(|c| c.iter()).sum::<f64>() / n as f64;
        let mcse = mcse_mean(&chains);
        let tolerance = 4.0 * (mcse * mcse + mcse_ref[k] * mcse_ref[k]).sqrt();
        assert!(
            (mean - truth[k]).abs() < tolerance,
            "{what}[{k}]: mean {mean}, truth {}, tolerance {tolerance}",
            truth[k]
        );
        let r = rhat(&chains);
        assert!(r < 1.01, "{what}[{k}]: R-hat {r}");
    }
}

#[test]
fn standard_normal_in_ten_dimensions_with_every_metric() {
    for metric in METRICS {
        let trace = sample_log_density(&StdNormal(10), nuts(metric, 11)).unwrap();
        let what = format!("{metric}: x, x²");
        let mut truth = vec![0.0; 10];
        truth.extend([1.0; 10]);
        check(&trace, &what, &truth, &[0.0; 20], |x| {
            x.iter().copied().chain(x.iter().map(|v| v * v)).collect()
        });
        assert_eq!(trace.divergences(), 0, "{metric}");
        for chain in trace.chains() {
            for m in &chain.inv_mass {
                assert!((0.7..1.4).contains(m), "{metric}: inverse mass {m}");
            }
        }
    }
}

#[test]
fn correlated_gaussian_with_every_metric() {
    let target = Correlated {
        mean: [1.0, -2.0],
        sd: [1.0, 3.0],
        rho: 0.9,
    };
    for metric in METRICS {
        let trace = sample_log_density(&target, nuts(metric, 12)).unwrap();
        check(
            &trace,
            &format!("{metric}: mean, var, cov"),
            &[1.0, -2.0, 1.0, 9.0, 2.7],
            &[0.0; 5],
            |x| {
                let (a, b) = (x[0] - 1.0, x[1] + 2.0);
                vec![x[0], x[1], a * a, b * b, a * b]
            },
        );
        assert_eq!(trace.divergences(), 0, "{metric}");
        for chain in trace.chains() {
            let m = &chain.inv_mass;
            match metric {
                // Stan's estimators: the marginal variances 1 and 9. The low-rank
                // metric's scaled eigenvalues (1 ± 0.9)/√(1 − 0.9²) = 4.4 and 0.23 are
                // both kept, so it recovers the full covariance too; two directions are
                // cheap, so `Auto` keeps them.
                Metric::Diagonal | Metric::Dense | Metric::LowRank | Metric::Auto => {
                    assert!(
                        (0.6..1.6).contains(&m[0]) && (5.5..14.0).contains(&m[1]),
                        "{m:?}"
                    )
                }
                // sqrt(Σᵢᵢ / (Σ⁻¹)ᵢᵢ): 0.436 and 3.92, between the conditional and the
                // marginal variances.
                Metric::GradientDiagonal => {
                    assert!(
                        (0.3..0.6).contains(&m[0]) && (2.8..5.5).contains(&m[1]),
                        "{m:?}"
                    )
                }
            }
        }
    }
}

/// posteriordb `eight_schools-eight_schools_noncentered`: means and their MCSE of
/// mu, tau, theta[0..8].
const EIGHT_SCHOOLS_REFERENCE: [(f64, f64); 10] = [
    (4.4105183369549295, 0.0330374705950917),
    (3.602059523640593, 0.0318615135640706),
    (6.150502293344254, 0.0557375282295219),
    (4.939581140742195, 0.0462293788624847),
    (3.9059060900158236, 0.0542313705632124),
    (4.79601675138494, 0.0474935816762281),
    (3.6144363246798967, 0.0461450610244603),
    (4.051147578967499, 0.0485195392528031),
    (6.317169758868928, 0.0498766794075794),
    (4.8839969435328845, 0.0542511606560972),
];

#[test]
fn eight_schools_matches_the_reference_with_every_metric() {
    let truth: Vec<f64> = EIGHT_SCHOOLS_REFERENCE.iter().map(|r| r.0).collect();
    let mcse: Vec<f64> = EIGHT_SCHOOLS_REFERENCE.iter().map(|r| r.1).collect();
    for metric in METRICS {
        let trace = sample_log_density(&EightSchools, nuts(metric, 13)).unwrap();
        check(
            &trace,
            &format!("{metric}: eight schools"),
            &truth,
            &mcse,
            eight_schools_quantities,
        );
    }
}

#[test]
fn gauss100_with_the_diagonal_and_low_rank_metrics() {
    let target = Gauss100::new();
    for metric in [
        Metric::Diagonal,
        Metric::GradientDiagonal,
        Metric::LowRank,
        Metric::Auto,
    ] {
        let trace = sample_log_density(&target, nuts(metric, 14)).unwrap();
        check(
            &trace,
            &format!("{metric}: gauss100"),
            &target.mu,
            &[0.0; 100],
            |x| x.to_vec(),
        );
        assert_eq!(trace.divergences(), 0, "{metric}");
    }
}

fn assert_bit_identical(a: &Trace, b: &Trace) {
    assert_eq!(a.chains().len(), b.chains().len());
    for (ca, cb) in a.chains().iter().zip(b.chains()) {
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
fn bit_identical_with_any_thread_count_and_progress_on_or_off() {
    let target = EightSchools;
    for metric in METRICS {
        let base = Nuts::default().draws(300).tune(300).seed(21).metric(metric);
        let reference =
            sample_log_density(&target, base.clone().threads(1).progress(false)).unwrap();
        for threads in [1, 2, 4] {
            for progress in [false, true] {
                let nuts = base
                    .clone()
                    .threads(threads)
                    .progress(progress)
                    .force_progress(progress);
                let trace = sample_log_density(&target, nuts).unwrap();
                assert_bit_identical(&reference, &trace);
            }
        }
    }
}

#[test]
fn metrics_differ_and_the_default_is_auto() {
    let defaults = Nuts::default();
    assert_eq!(defaults.metric_kind(), Metric::Auto);
    assert!(defaults.shows_progress());
    assert!(!defaults.clone().progress(false).shows_progress());
    let target = StdNormal(3);
    let small = Nuts::default().draws(100).tune(200).seed(5).progress(false);
    let default_run = sample_log_density(&target, small.clone()).unwrap();
    let explicit = sample_log_density(&target, small.clone().metric(Metric::Auto)).unwrap();
    assert_bit_identical(&default_run, &explicit);
    // Nothing to correct in a standard normal: exactly the gradient-based diagonal.
    let diagonal =
        sample_log_density(&target, small.clone().metric(Metric::GradientDiagonal)).unwrap();
    assert_bit_identical(&default_run, &diagonal);
    let stan = sample_log_density(&target, small.metric(Metric::Diagonal)).unwrap();
    assert_ne!(
        stan.chains()[0].column(0),
        default_run.chains()[0].column(0)
    );
    assert_eq!(Metric::Dense.cmdstan_name(), "dense_e");
    assert_eq!(Metric::LowRank.cmdstan_name(), "dense_e");
    assert_eq!(Metric::Auto.cmdstan_name(), "dense_e");
    assert_eq!(Metric::GradientDiagonal.cmdstan_name(), "diag_e");
}

/// Where no correction pays off, `Auto` is the gradient-based diagonal metric, to the
/// bit: eight schools (no scaled eigenvalue outside [1/2, 2]) and gauss100 (43 of 100
/// directions, which lower the condition number only 2–3 fold).
#[test]
fn auto_without_a_worthwhile_correction_is_the_gradient_diagonal_metric() {
    let small = |metric| {
        Nuts::default()
            .chains(2)
            .draws(200)
            .tune(400)
            .seed(31)
            .metric(metric)
            .progress(false)
    };
    let diagonal = sample_log_density(&EightSchools, small(Metric::GradientDiagonal)).unwrap();
    let auto = sample_log_density(&EightSchools, small(Metric::Auto)).unwrap();
    assert_bit_identical(&diagonal, &auto);
    let target = Gauss100::new();
    let diagonal = sample_log_density(&target, small(Metric::GradientDiagonal)).unwrap();
    let auto = sample_log_density(&target, small(Metric::Auto)).unwrap();
    assert_bit_identical(&diagonal, &auto);
    // The low-rank metric does correct gauss100.
    let low_rank = sample_log_density(&target, small(Metric::LowRank)).unwrap();
    assert_ne!(
        low_rank.chains()[0].column(0),
        diagonal.chains()[0].column(0)
    );
}

#[test]
fn invalid_settings_are_errors_with_any_metric() {
    let density = StdNormal(2);
    for metric in METRICS {
        let base = Nuts::default().metric(metric).progress(false);
        let cases = [
            (base.clone().chains(0), SettingsError::NoChains),
            (base.clone().draws(0), SettingsError::NoDraws),
            (base.clone().threads(0), SettingsError::NoThreads),
            (
                base.clone().target_accept(1.0),
                SettingsError::TargetAccept(1.0),
            ),
            (base.clone().max_depth(0), SettingsError::MaxDepth(0)),
            (
                base.clone().initial_step_size(-1.0),
                SettingsError::StepSize(-1.0),
            ),
        ];
        for (nuts, expected) in cases {
            assert_eq!(nuts.validate(), Err(expected.clone()));
            match sample_log_density(&density, nuts.force_progress(true)) {
                Err(SampleError::Settings(e)) => assert_eq!(e, expected),
                other => panic!("{metric}: expected a settings error, got {other:?}"),
            }
        }
    }
}

#[test]
fn short_warmups_work_with_every_metric() {
    let density = StdNormal(2);
    for metric in METRICS {
        for tune in [0, 1, 10, 19, 50] {
            let trace = sample_log_density(
                &density,
                Nuts::default()
                    .chains(1)
                    .tune(tune)
                    .draws(50)
                    .seed(3)
                    .metric(metric)
                    .progress(false),
            )
            .unwrap();
            assert_eq!(trace.num_draws(), 50);
            assert!(trace.chains()[0]
                .inv_mass
                .iter()
                .all(|m| m.is_finite() && *m > 0.0));
        }
    }
}

/// A model that is only finite on a half-line makes the gradient-informed initial metric
/// meet infinite gradients: NUTS must still recover the posterior.
struct HalfLine;

impl LogDensity for HalfLine {
    fn dim(&self) -> usize {
        1
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        // Exponential(1) on x > 0, no transform: −∞ outside.
        Ok(if x[0] > 0.0 { -x[0] } else { f64::NEG_INFINITY })
    }
    fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
        g[0] = -1.0;
        self.logp(x)
    }
}

#[test]
fn constrained_support_is_handled_by_every_metric() {
    for metric in METRICS {
        let nuts = nuts(metric, 8).initial_positions(vec![vec![0.5]]);
        let trace = sample_log_density(&HalfLine, nuts).unwrap();
        let mean = trace.mean("x").unwrap()[0];
        assert!((mean - 1.0).abs() < 0.2, "{metric}: mean {mean}");
    }
}
