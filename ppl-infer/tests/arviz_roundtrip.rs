//! Round trip through the real ArviZ: sample a small model, write CmdStan CSV files, read
//! them with Python ArviZ 0.x's `arviz.from_cmdstan` (tests/python/read_cmdstan.py) and
//! check that names, shapes, values and sampler statistics come back as written.
//!
//! The Python interpreter (one with `arviz<1` installed) is named by `PPL_ARVIZ_PYTHON`.
//! Without it the test is skipped with a notice, unless `CI` is set, where it fails.

use ppl_infer::{
    sample_target, LogDensity, Metric, Nuts, SampleTarget, Trace, TraceVariable, VariableKind,
};
use rand::{Rng, RngCore};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Independent normals on the unconstrained vector `u` (dimension 9), recorded as
/// `mu = u0`, `sigma = exp(u1)`, `theta = u[2..5]`, `L = u[5..9]` (2×2, row-major), and
/// the deterministics `W[i][j] = (i + 1) · theta[j] + 10 i` (2×3) and
/// `odd = [ln(mu), inf, -inf]` (NaN whenever `mu < 0`).
struct Toy;

const DIM: usize = 9;
const MEANS: [f64; DIM] = [0.0, -0.5, 1.0, 2.0, 3.0, -1.0, -2.0, 4.0, 5.0];

impl LogDensity for Toy {
    fn dim(&self) -> usize {
        DIM
    }
    fn logp(&self, u: &[f64]) -> ppl_core::Result<f64> {
        let mut g = [0.0; DIM];
        self.logp_grad(u, &mut g)
    }
    fn logp_grad(&self, u: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
        let mut lp = 0.0;
        for ((g, x), m) in grad.iter_mut().zip(u).zip(MEANS) {
            *g = -(x - m);
            lp -= 0.5 * (x - m) * (x - m);
        }
        Ok(lp)
    }
}

impl SampleTarget for Toy {
    fn initial_position(&self, rng: &mut dyn RngCore) -> Result<Vec<f64>, ppl_core::Error> {
        Ok((0..DIM).map(|_| rng.gen_range(-2.0..2.0)).collect())
    }

    fn check_position(&self, _position: &[f64]) -> Result<(), ppl_core::Error> {
        Ok(())
    }

    fn variables(&self) -> Vec<TraceVariable> {
        let var = |name: &str, shape: Vec<usize>, kind| TraceVariable {
            name: name.into(),
            shape,
            kind,
        };
        use VariableKind::{Deterministic, Parameter};
        vec![
            var("mu", vec![], Parameter),
            var("sigma", vec![], Parameter),
            var("theta", vec![3], Parameter),
            var("L", vec![2, 2], Parameter),
            var("W", vec![2, 3], Deterministic),
            var("odd", vec![3], Deterministic),
        ]
    }

    fn record(&self, u: &[f64], out: &mut [f64]) -> Result<(), ppl_core::Error> {
        out[0] = u[0];
        out[1] = u[1].exp();
        out[2..9].copy_from_slice(&u[2..9]);
        for i in 0..2 {
            for j in 0..3 {
                out[9 + 3 * i + j] = (i + 1) as f64 * u[2 + j] + 10.0 * i as f64;
            }
        }
        out[15] = u[0].ln();
        out[16] = f64::INFINITY;
        out[17] = f64::NEG_INFINITY;
        Ok(())
    }
}

/// The interpreter to run, or `None` to skip (only outside CI).
fn arviz_python() -> Option<PathBuf> {
    match std::env::var_os("PPL_ARVIZ_PYTHON") {
        Some(python) if !python.is_empty() => Some(PathBuf::from(python)),
        _ if std::env::var_os("CI").is_some() => panic!(
            "PPL_ARVIZ_PYTHON is not set but CI is: it must name a Python interpreter with \
             `arviz<1` installed (e.g. `python3 -m venv /tmp/arviz-venv && \
             /tmp/arviz-venv/bin/pip install 'arviz<1'`, then \
             PPL_ARVIZ_PYTHON=/tmp/arviz-venv/bin/python)"
        ),
        _ => {
            eprintln!(
                "notice: skipping the ArviZ round trip: set PPL_ARVIZ_PYTHON to a Python \
                 interpreter with `arviz<1` installed to run it"
            );
            None
        }
    }
}

/// A fresh directory under the system's temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("ppl-arviz-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs tests/python/read_cmdstan.py on `files` and parses what it prints; `options`
/// are passed on (`--posterior-predictive=y`, `--prior=FILE`, …).
fn read_with_arviz(python: &Path, files: &[PathBuf], save_warmup: bool, options: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/read_cmdstan.py");
    let mut command = Command::new(python);
    command.arg(&script);
    if save_warmup {
        command.arg("--save-warmup");
    }
    command.args(options);
    let output = command
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run PPL_ARVIZ_PYTHON={}: {e}", python.display()));
    assert!(
        output.status.success(),
        "{} {} failed ({}):\n{}",
        python.display(),
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "read_cmdstan.py printed invalid JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A JSON scalar as the script writes it: a number, a bool, or "nan"/"inf"/"-inf".
fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")),
        other => panic!("not a number: {other}"),
    }
}

/// All scalars of a nested JSON array, in row-major order.
fn flatten(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|item| flatten(item, out)),
        scalar => out.push(number(scalar)),
    }
}

/// Exact equality, NaN equal to NaN: values are written with round-trip precision.
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// `group[name]`'s shape and row-major values, checked to be `[chains, draws, ..shape]`.
fn variable(group: &Value, name: &str, expected_shape: &[usize]) -> Vec<f64> {
    let v = group
        .get(name)
        .unwrap_or_else(|| panic!("ArviZ did not read `{name}`; it read {group:#}"));
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(shape, expected_shape, "shape of `{name}`");
    let mut values = Vec::new();
    flatten(&v["values"], &mut values);
    assert_eq!(values.len(), expected_shape.iter().product::<usize>());
    values
}

/// The names of the variables in `group`, sorted.
fn names(group: &Value) -> Vec<String> {
    let mut names: Vec<String> = group.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

/// Checks the draws in `group` against the trace (warm-up draws when `warmup`): the
/// posterior or prior predictive variables when `predictive`, else the others.
fn check_group(trace: &Trace, group: &Value, warmup: bool, predictive: bool) {
    let wanted = |v: &&TraceVariable| {
        let drawn = matches!(
            v.kind,
            VariableKind::PosteriorPredictive | VariableKind::PriorPredictive
        );
        drawn == predictive
    };
    let mut expected: Vec<String> = trace
        .variables()
        .iter()
        .filter(wanted)
        .map(|v| v.name.clone())
        .collect();
    expected.sort();
    assert_eq!(names(group), expected);
    let chains = trace.chains().len();
    let draws = if warmup {
        trace.settings().num_tune()
    } else {
        trace.num_draws()
    };
    for v in trace.variables().iter().filter(wanted) {
        let mut shape = vec![chains, draws];
        shape.extend(&v.shape);
        let values = variable(group, &v.name, &shape);
        for element in 0..v.len() {
            let ours = if warmup {
                trace.warmup_samples(&v.name, element).unwrap()
            } else {
                trace.samples(&v.name, element).unwrap()
            };
            for (c, chain) in ours.iter().enumerate() {
                assert_eq!(chain.len(), draws);
                for (d, &x) in chain.iter().enumerate() {
                    // Row-major position of (chain, draw, element).
                    let theirs = values[(c * draws + d) * v.len() + element];
                    assert!(
                        same(x, theirs),
                        "{}: chain {c}, draw {d}: wrote {x:e}, ArviZ read {theirs:e}",
                        v.element_name(element)
                    );
                }
            }
        }
    }
}

/// Reads one statistic of a draw as `f64`.
type StatFn = fn(&ppl_infer::SampleStats) -> f64;

/// Checks ArviZ's sample statistics (renamed from CmdStan's) against the trace.
fn check_stats(trace: &Trace, group: &Value, warmup: bool) {
    assert_eq!(
        names(group),
        [
            "acceptance_rate",
            "diverging",
            "energy",
            "lp",
            "n_steps",
            "step_size",
            "tree_depth"
        ]
    );
    let chains = trace.chains().len();
    let draws = if warmup {
        trace.settings().num_tune()
    } else {
        trace.num_draws()
    };
    assert_eq!(group["diverging"]["dtype"], "bool");
    assert_eq!(group["tree_depth"]["dtype"], "int64");
    assert_eq!(group["n_steps"]["dtype"], "int64");
    let stats: [(&str, StatFn); 7] = [
        ("lp", |s| s.lp),
        ("acceptance_rate", |s| s.accept_stat),
        ("step_size", |s| s.step_size),
        ("tree_depth", |s| f64::from(s.tree_depth)),
        ("n_steps", |s| f64::from(s.n_leapfrog)),
        ("diverging", |s| f64::from(u8::from(s.diverging))),
        ("energy", |s| s.energy),
    ];
    for (name, get) in stats {
        let values = variable(group, name, &[chains, draws]);
        for (c, chain) in trace.chains().iter().enumerate() {
            let ours = if warmup {
                &chain.warmup_stats
            } else {
                &chain.stats
            };
            for (d, s) in ours.iter().enumerate() {
                let (x, theirs) = (get(s), values[c * draws + d]);
                assert!(
                    same(x, theirs),
                    "{name}: chain {c}, draw {d}: wrote {x:e}, ArviZ read {theirs:e}"
                );
            }
        }
    }
}

/// Checks the configuration ArviZ parsed from the comments: step size, inverse metric,
/// warm-up and draw counts, timings.
fn check_attrs(trace: &Trace, attrs: &Value) {
    let per_chain = |key: &str| -> Vec<String> {
        attrs[key]
            .as_array()
            .unwrap_or_else(|| panic!("ArviZ did not parse `{key}` from the comments: {attrs:#}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let chains = trace.chains();
    for (c, chain) in chains.iter().enumerate() {
        let step: f64 = per_chain("step_size")[c].parse().unwrap();
        assert_eq!(step, chain.step_size, "adapted step size of chain {c}");
        let inv: Vec<f64> = per_chain("inverse_mass_matrix")[c]
            .trim_matches(|ch| ch == '[' || ch == ']')
            .split(',')
            .map(|x| x.trim().parse().unwrap())
            .collect();
        // ArviZ reads the line after the heading: the diagonal, or a dense metric's
        // first row.
        let expected = if chain.inv_mass_matrix.is_empty() {
            chain.inv_mass.clone()
        } else {
            chain.inv_mass_matrix[..chain.inv_mass.len()].to_vec()
        };
        assert_eq!(inv, expected, "inverse metric of chain {c}");
        assert_eq!(
            per_chain("num_warmup")[c],
            trace.settings().num_tune().to_string()
        );
        assert_eq!(per_chain("num_samples")[c], trace.num_draws().to_string());
        assert_eq!(per_chain("save_warmup")[c], "1");
        assert_eq!(per_chain("id")[c], (chain.chain + 1).to_string());
        assert_eq!(per_chain("seed")[c], trace.seed().to_string());
        // A low-rank metric without a correction is written as its diagonal.
        let shape = if chain.inv_mass_matrix.is_empty() {
            "diag_e"
        } else {
            "dense_e"
        };
        assert_eq!(per_chain("metric")[c], shape);
        for (key, seconds) in [
            ("warmup_time_seconds", chain.timing.warmup.as_secs_f64()),
            ("sampling_time_seconds", chain.timing.sampling.as_secs_f64()),
        ] {
            let read: f64 = per_chain(key)[c].parse().unwrap();
            assert_eq!(read, seconds, "{key} of chain {c}");
        }
        let total: f64 = per_chain("total_time_seconds")[c].parse().unwrap();
        assert!(
            (total - chain.timing.warmup.as_secs_f64() - chain.timing.sampling.as_secs_f64()).abs()
                < 1e-9
        );
    }
}

#[test]
fn arviz_from_cmdstan_reads_our_csv_files() {
    let Some(python) = arviz_python() else {
        return;
    };
    let nuts = Nuts::default()
        .chains(3)
        .draws(60)
        .tune(80)
        .seed(20240611)
        .keep_warmup(true);
    let trace = sample_target(&Toy, nuts).unwrap();
    assert_eq!(trace.chains().len(), 3);
    // The deterministic `odd` exercises all three non-finite spellings.
    let odd = trace.samples("odd", 0).unwrap();
    assert!(odd.iter().flat_map(|c| c.iter()).any(|x| x.is_nan()));
    assert!(odd.iter().flat_map(|c| c.iter()).any(|x| x.is_finite()));

    let dir = temp_dir("roundtrip");
    let files = trace.write_cmdstan_csv(&dir, "toy").unwrap();
    assert_eq!(
        files,
        (1..=3)
            .map(|id| dir.join(format!("toy_{id}.csv")))
            .collect::<Vec<_>>()
    );

    // With the warm-up draws: ArviZ splits them off using the header comments.
    let read = read_with_arviz(&python, &files, true, &[]);
    let version = read["arviz_version"].as_str().unwrap();
    assert!(
        version.starts_with("0."),
        "ArviZ {version}: from_cmdstan needs ArviZ 0.x"
    );
    check_group(&trace, &read["posterior"], false, false);
    check_stats(&trace, &read["sample_stats"], false);
    check_group(&trace, &read["warmup_posterior"], true, false);
    check_stats(&trace, &read["warmup_sample_stats"], true);
    check_attrs(&trace, &read["attrs"]);

    // Without them: the posterior is still exactly the draws after warm-up.
    let read = read_with_arviz(&python, &files, false, &[]);
    assert!(read.get("warmup_posterior").is_none());
    check_group(&trace, &read["posterior"], false, false);
    check_stats(&trace, &read["sample_stats"], false);
    // E-BFMI per chain, as `arviz.bfmi` computes it from the energy column.
    let bfmi = read["bfmi"].as_array().expect("arviz.bfmi");
    assert_eq!(bfmi.len(), 3);
    for (chain, theirs) in trace.chains().iter().zip(bfmi) {
        // Summed in another order: equal to rounding.
        let (ours, theirs) = (chain.bfmi(), number(theirs));
        assert!((ours - theirs).abs() < 1e-12 * theirs, "{ours} vs {theirs}");
    }

    std::fs::remove_dir_all(&dir).unwrap();
}

/// CmdStan's `dense_e` block (a row per line) reads back as well.
#[test]
fn arviz_reads_a_dense_metric() {
    let Some(python) = arviz_python() else {
        return;
    };
    let nuts = Nuts::default()
        .chains(2)
        .draws(40)
        .tune(150)
        .seed(8)
        .keep_warmup(true)
        .metric(Metric::Dense);
    let trace = sample_target(&Toy, nuts).unwrap();
    let d = trace.chains()[0].inv_mass.len();
    assert_eq!(trace.chains()[0].inv_mass_matrix.len(), d * d);
    let dir = temp_dir("dense");
    let files = trace.write_cmdstan_csv(&dir, "toy").unwrap();
    let read = read_with_arviz(&python, &files, true, &[]);
    check_group(&trace, &read["posterior"], false, false);
    check_stats(&trace, &read["sample_stats"], false);
    check_attrs(&trace, &read["attrs"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn arviz_reads_files_without_warmup_draws() {
    let Some(python) = arviz_python() else {
        return;
    };
    let nuts = Nuts::default().chains(2).draws(30).tune(40).seed(5);
    let trace = sample_target(&Toy, nuts).unwrap();
    let dir = temp_dir("no-warmup");
    let files = trace.write_cmdstan_csv(&dir, "toy").unwrap();
    let read = read_with_arviz(&python, &files, true, &[]);
    assert!(read.get("warmup_posterior").is_none());
    check_group(&trace, &read["posterior"], false, false);
    check_stats(&trace, &read["sample_stats"], false);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `mu ~ Normal(0, 1)`, `sigma ~ HalfNormal(1)` and the observations it holds,
/// `y ~ Normal(mu, sigma)` or, robust, `y ~ StudentT(3, mu, sigma)`; written as
/// `#[model]` would generate it.
struct Observed {
    data: &'static [f64],
    robust: bool,
}

impl Observed {
    fn normal(data: &'static [f64]) -> Self {
        Observed {
            data,
            robust: false,
        }
    }
    fn robust(data: &'static [f64]) -> Self {
        Observed { data, robust: true }
    }
}

impl ppl_core::ModelTemplate for Observed {
    type Output<R: ppl_core::Real> = ();
    fn name(&self) -> &'static str {
        "observed"
    }
    fn run<R: ppl_core::Real, C: ppl_core::Context<R>>(&self, ctx: &mut C)
    where
        f64: std::ops::Add<R, Output = R>
            + std::ops::Sub<R, Output = R>
            + std::ops::Mul<R, Output = R>
            + std::ops::Div<R, Output = R>,
    {
        use ppl_core::context::api::{self, NoShape};
        use ppl_core::dist::{HalfNormal, Normal, StudentT};
        let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
        let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
        if self.robust {
            api::observe(ctx, "y", StudentT::new(3.0, mu, sigma), self.data);
        } else {
            api::observe(ctx, "y", Normal::new(mu, sigma), self.data);
        }
    }
}

/// `Observed` with three data and a short run of NUTS on it: 2 chains of 30 draws after
/// 40 warm-up.
fn observed_posterior(seed: u64, keep_warmup: bool) -> (ppl_core::Model<Observed>, Trace) {
    use ppl_infer::Sample;
    let model = ppl_core::Model::new(Observed::normal(&[0.3, -0.2, 1.1])).unwrap();
    let nuts = Nuts::default()
        .chains(2)
        .draws(30)
        .tune(40)
        .seed(seed)
        .keep_warmup(keep_warmup)
        .progress(false);
    let trace = model.sample(nuts).unwrap();
    (model, trace)
}

/// Posterior predictive columns go to ArviZ's `posterior_predictive` group when named,
/// warm-up draws included, and leave the posterior group as it was.
#[test]
fn arviz_reads_posterior_predictive_columns() {
    use ppl_infer::Predictive;
    let Some(python) = arviz_python() else {
        return;
    };
    let (model, posterior) = observed_posterior(12, true);
    let trace = model.sample_posterior_predictive(&posterior, 3).unwrap();
    assert_eq!(trace.variables().last().unwrap().shape, [3]);
    let dir = temp_dir("predictive");
    let files = trace.write_cmdstan_csv(&dir, "observed").unwrap();
    let read = read_with_arviz(&python, &files, true, &["--posterior-predictive=y"]);
    check_group(&trace, &read["posterior"], false, false);
    check_group(&trace, &read["warmup_posterior"], true, false);
    check_group(&trace, &read["posterior_predictive"], false, true);
    check_group(&trace, &read["warmup_posterior_predictive"], true, true);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A prior predictive trace reads back as ArviZ's `prior` and `prior_predictive` groups
/// (ArviZ 0.x reads a prior only beside a posterior, and fills `sample_stats_prior`
/// from the posterior's files, so that group is not checked).
#[test]
fn arviz_reads_a_prior_predictive_trace() {
    use ppl_infer::Predictive;
    let Some(python) = arviz_python() else {
        return;
    };
    let (model, posterior) = observed_posterior(1, false);
    let prior = model.sample_prior_predictive(50, 4).unwrap();
    let dir = temp_dir("prior");
    let files = posterior.write_cmdstan_csv(&dir, "posterior").unwrap();
    let prior_files = prior.write_cmdstan_csv(&dir, "prior").unwrap();
    let mut options = vec!["--prior-predictive=y".to_string()];
    options.extend(
        prior_files
            .iter()
            .map(|f| format!("--prior={}", f.display())),
    );
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let read = read_with_arviz(&python, &files, false, &options);
    check_group(&posterior, &read["posterior"], false, false);
    check_group(&prior, &read["prior"], false, false);
    check_group(&prior, &read["prior_predictive"], false, true);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The pointwise log-likelihood reads back as ArviZ's `log_likelihood` group (what
/// `arviz.loo` uses), under the observation's name.
#[test]
fn arviz_reads_the_pointwise_log_likelihood() {
    use ppl_infer::LogLikelihood;
    let Some(python) = arviz_python() else {
        return;
    };
    let (model, posterior) = observed_posterior(5, false);
    let trace = model.compute_log_likelihood(&posterior).unwrap();
    assert_eq!(posterior.num_draws(), 30);
    let dir = temp_dir("log-lik");
    let files = trace.write_cmdstan_csv(&dir, "observed").unwrap();
    let read = read_with_arviz(&python, &files, false, &["--log-likelihood=y:log_lik_y"]);
    let (chains, draws) = (trace.chains().len(), trace.num_draws());
    let theirs = variable(&read["log_likelihood"], "y", &[chains, draws, 3]);
    for element in 0..3 {
        for (c, chain) in trace
            .samples("log_lik_y", element)
            .unwrap()
            .iter()
            .enumerate()
        {
            for (d, &x) in chain.iter().enumerate() {
                assert!(
                    same(x, theirs[(c * draws + d) * 3 + element]),
                    "{c} {d} {element}"
                );
            }
        }
    }
    // ArviZ's PSIS-LOO on these files is ours on the trace.
    assert_eq!(check_loo(&trace, &read["loo"]).pointwise.len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// PSIS-LOO and WAIC against ArviZ's where it matters: many draws and an outlier, whose
/// leave-one-out posterior differs most (the largest Pareto k).
#[test]
fn psis_loo_matches_arviz_with_an_outlier() {
    use ppl_infer::{LogLikelihood, Sample};
    let Some(python) = arviz_python() else {
        return;
    };
    let data: &'static [f64] = &[0.1, -0.3, 0.2, 0.0, 0.4, -0.1, 0.3, 4.0];
    let model = ppl_core::Model::new(Observed::normal(data)).unwrap();
    let nuts = Nuts::default().chains(4).draws(500).seed(9).progress(false);
    let trace = model
        .compute_log_likelihood(&model.sample(nuts).unwrap())
        .unwrap();
    let dir = temp_dir("loo");
    let files = trace.write_cmdstan_csv(&dir, "outlier").unwrap();
    let read = read_with_arviz(&python, &files, false, &["--log-likelihood=y:log_lik_y"]);
    let ours = check_loo(&trace, &read["loo"]);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    // WAIC too (the outlier's log-likelihood varies by more than 0.4: a warning).
    let waic = trace.waic().unwrap();
    let theirs = &read["waic"];
    assert!(
        close(waic.elpd_waic, number(&theirs["elpd_waic"])),
        "{waic:?} vs {theirs}"
    );
    assert!(
        close(waic.se, number(&theirs["se"])),
        "{waic:?} vs {theirs}"
    );
    assert!(
        close(waic.p_waic, number(&theirs["p_waic"])),
        "{waic:?} vs {theirs}"
    );
    assert!(waic.warning);
    assert_eq!(waic.warning, theirs["warning"].as_bool().unwrap());
    let mut waic_i = Vec::new();
    flatten(&theirs["waic_i"], &mut waic_i);
    for (ours, theirs) in waic.pointwise.iter().zip(&waic_i) {
        assert!(close(*ours, *theirs), "{ours} vs {theirs}");
    }
    // The outlier has the largest k.
    let worst = ours
        .pointwise
        .iter()
        .max_by(|a, b| a.pareto_k.total_cmp(&b.pareto_k))
        .unwrap();
    assert_eq!(worst.element, 7, "{ours:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `trace.loo()` against what ArviZ's `loo` printed for the same files: elpd, se,
/// p_loo, `good_k` and every `loo_i` to 1e-9 (relative), every Pareto k to 1e-9.
fn check_loo(trace: &Trace, loo: &Value) -> ppl_infer::Loo {
    let ours = trace.loo().unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    assert!(
        close(ours.elpd_loo, number(&loo["elpd_loo"])),
        "{ours} vs {loo}"
    );
    assert!(close(ours.se, number(&loo["se"])), "{ours} vs {loo}");
    assert!(close(ours.p_loo, number(&loo["p_loo"])), "{ours} vs {loo}");
    assert!(close(ours.good_k, number(&loo["good_k"])));
    let (mut loo_i, mut pareto_k) = (Vec::new(), Vec::new());
    flatten(&loo["loo_i"], &mut loo_i);
    flatten(&loo["pareto_k"], &mut pareto_k);
    assert_eq!(ours.pointwise.len(), loo_i.len());
    for ((p, l), k) in ours.pointwise.iter().zip(&loo_i).zip(&pareto_k) {
        assert!(close(p.elpd_loo, *l), "{p:?} vs {l}");
        assert!((p.pareto_k - k).abs() < 1e-9, "{p:?} vs k {k}");
    }
    ours
}

/// `compare` against ArviZ's `compare(ic="loo", method="stacking")` on the same files:
/// ranks, differences and their standard errors to 1e-9, stacking weights to 1e-4
/// (ArviZ's come from SLSQP with its default tolerance 1e-6 on the score; ours are the
/// optimum of the same concave problem).
#[test]
fn compare_matches_arviz() {
    use ppl_infer::{compare, LogLikelihood, Sample};
    let Some(python) = arviz_python() else {
        return;
    };
    // Two data sets; in both the better model takes all the weight (a boundary
    // optimum, where SLSQP stops on the bound; the interior case is a unit test).
    let with_outlier: &'static [f64] = &[0.1, -0.3, 0.2, 0.0, 0.4, -0.1, 0.3, 4.0];
    let without: &'static [f64] = &[0.1, -0.3, 0.2, 0.0, 0.4, -0.1, 0.3, 0.9, -0.8, 2.2];
    for (data, tag) in [(with_outlier, "outlier"), (without, "plain")] {
        let nuts = Nuts::default().chains(4).draws(500).seed(4).progress(false);
        let normal = ppl_core::Model::new(Observed::normal(data)).unwrap();
        let robust = ppl_core::Model::new(Observed::robust(data)).unwrap();
        let first = normal
            .compute_log_likelihood(&normal.sample(nuts.clone()).unwrap())
            .unwrap();
        let second = robust
            .compute_log_likelihood(&robust.sample(nuts).unwrap())
            .unwrap();
        let dir = temp_dir(tag);
        let files = first.write_cmdstan_csv(&dir, "normal").unwrap();
        let other = second.write_cmdstan_csv(&dir, "robust").unwrap();
        let mut options = vec!["--log-likelihood=y:log_lik_y".to_string()];
        options.extend(
            other
                .iter()
                .map(|f| format!("--compare-with={}", f.display())),
        );
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        let read = read_with_arviz(&python, &files, false, &options);
        let (loo_first, loo_second) = (first.loo().unwrap(), second.loo().unwrap());
        let ours = compare(&[("first", &loo_first), ("second", &loo_second)]).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        for row in &ours.rows {
            let theirs = &read["compare"][row.name.as_str()];
            assert_eq!(row.rank as f64, number(&theirs["rank"]), "{ours}\n{theirs}");
            for (value, column) in [
                (row.elpd_loo, "elpd_loo"),
                (row.p_loo, "p_loo"),
                (row.elpd_diff, "elpd_diff"),
                (row.se, "se"),
                (row.dse, "dse"),
            ] {
                assert!(
                    close(value, number(&theirs[column])),
                    "{column}: {ours}\n{theirs}"
                );
            }
            assert!(
                (row.weight - number(&theirs["weight"])).abs() < 1e-4,
                "{ours}\n{theirs}"
            );
            assert_eq!(row.warning, theirs["warning"].as_bool().unwrap());
        }
        if tag == "outlier" {
            assert_eq!(
                ours.rows[0].name, "second",
                "the robust model predicts better"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
