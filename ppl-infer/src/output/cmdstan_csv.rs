//! CmdStan's CSV output format: one file per chain, comments, sampler statistics, draws.
//!
//! The layout follows what CmdStan's `sample` method writes, so tools that read Stan
//! output (ArviZ 0.x's `from_cmdstan` in particular) read ours:
//!
//! 1. the configuration as `#` comments (`# model = …`, `# method = sample (Default)`,
//!    the `sample`/`adapt`/`hmc` argument tree, `# id = …`, `# random` / `#   seed = …`),
//!    a value followed by `(Default)` when it equals Stan's default;
//! 2. the column header: `lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,
//!    divergent__,energy__`, then every recorded scalar named with 1-based dotted indices
//!    in column-major order (`theta.1`, …; a matrix `L` gives `L.1.1,L.2.1,L.1.2,L.2.2`);
//! 3. the warm-up rows, when warm-up draws were kept (`save_warmup = 1`);
//! 4. the adaptation comments (`# Adaptation terminated`, `# Step size = …`,
//!    `# Diagonal elements of inverse mass matrix:` and the values on the next line, or
//!    for a `dense_e` metric `# Elements of inverse mass matrix:` and one line per row);
//! 5. the draws;
//! 6. the timing comments (`#  Elapsed Time: … seconds (Warm-up)`, `(Sampling)`,
//!    `(Total)`).
//!
//! Values are written with the shortest decimal text that reads back as the same `f64`
//! (so a round trip through the file is exact); non-finite values are spelled `nan`,
//! `inf` and `-inf`; tree depth, leapfrog steps and divergence are integers.

use crate::trace::{ChainTrace, Trace};
use crate::{SampleStats, TraceVariable};
use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The sampler-statistic columns CmdStan writes first, in order.
pub const SAMPLER_COLUMNS: [&str; 7] = [
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
];

/// Stan's dual-averaging constants and adaptation windows, as this crate uses them.
const GAMMA: f64 = 0.05;
const KAPPA: f64 = 0.75;
const T0: f64 = 10.0;
const INIT_BUFFER: usize = 75;
const TERM_BUFFER: usize = 50;
const WINDOW: usize = 25;

/// A value as CmdStan CSV text: the shortest decimal that reads back as the same `f64`,
/// in scientific notation for very small or large magnitudes, and `nan`, `inf`, `-inf`
/// for non-finite values.
///
/// ```
/// use ppl_infer::output::format_value;
/// assert_eq!(format_value(0.1), "0.1");
/// assert_eq!(format_value(-2.0), "-2");
/// assert_eq!(format_value(1.5e-12), "1.5e-12");
/// assert_eq!(format_value(f64::NAN), "nan");
/// assert_eq!(format_value(f64::NEG_INFINITY), "-inf");
/// assert_eq!(format_value(1.0 / 3.0).parse::<f64>(), Ok(1.0 / 3.0));
/// ```
pub fn format_value(x: f64) -> String {
    let mut s = String::new();
    push_value(&mut s, x);
    s
}

fn push_value(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("nan");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "inf" } else { "-inf" });
    } else if x == 0.0 || (1e-5..1e16).contains(&x.abs()) {
        let _ = write!(out, "{x}");
    } else {
        let _ = write!(out, "{x:e}");
    }
}

/// Row-major offsets of the elements of an array of `shape`, listed in column-major
/// order (first index fastest), as CmdStan lists them.
fn column_major_offsets(shape: &[usize]) -> Vec<usize> {
    let len: usize = shape.iter().product();
    let mut strides = vec![1; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    let mut index = vec![0; shape.len()];
    let mut offsets = Vec::with_capacity(len);
    for _ in 0..len {
        offsets.push(index.iter().zip(&strides).map(|(i, s)| i * s).sum());
        for (i, n) in index.iter_mut().zip(shape) {
            *i += 1;
            if *i < *n {
                break;
            }
            *i = 0;
        }
    }
    offsets
}

/// The column names CmdStan gives `variables` (without the sampler statistics):
/// 1-based dotted indices in column-major order.
///
/// ```
/// use ppl_infer::output::cmdstan_column_names;
/// use ppl_infer::{TraceVariable, VariableKind};
/// let var = |name: &str, shape: Vec<usize>| TraceVariable {
///     name: name.into(),
///     shape,
///     kind: VariableKind::Parameter,
/// };
/// let names = cmdstan_column_names(&[var("mu", vec![]), var("theta", vec![2]), var("L", vec![2, 2])]);
/// assert_eq!(names, ["mu", "theta.1", "theta.2", "L.1.1", "L.2.1", "L.1.2", "L.2.2"]);
/// ```
pub fn cmdstan_column_names(variables: &[TraceVariable]) -> Vec<String> {
    let mut names = Vec::new();
    for v in variables {
        if v.shape.is_empty() {
            names.push(v.name.clone());
            continue;
        }
        let mut index = vec![0; v.shape.len()];
        for _ in 0..v.len() {
            let mut name = v.name.clone();
            for i in &index {
                let _ = write!(name, ".{}", i + 1);
            }
            names.push(name);
            for (i, n) in index.iter_mut().zip(&v.shape) {
                *i += 1;
                if *i < *n {
                    break;
                }
                *i = 0;
            }
        }
    }
    names
}

/// Writes a [`Trace`] as CmdStan CSV files, one per chain.
///
/// ```
/// use ppl_infer::output::CmdStanCsv;
/// use ppl_infer::{sample_log_density, LogDensity, Nuts};
///
/// struct StdNormal;
/// impl LogDensity for StdNormal {
///     fn dim(&self) -> usize { 1 }
///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> { Ok(-0.5 * x[0] * x[0]) }
///     fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
///         g[0] = -x[0];
///         self.logp(x)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let nuts = Nuts::default().chains(1).draws(20).tune(30).seed(5).keep_warmup(true);
/// let trace = sample_log_density(&StdNormal, nuts)?;
/// let mut csv = Vec::new();
/// CmdStanCsv::new(&trace).model_name("std_normal").write_chain(0, &mut csv)?;
/// let csv = String::from_utf8(csv)?;
/// assert!(csv.starts_with("# model = std_normal\n"));
/// assert!(csv.contains("\n#     save_warmup = 1\n"));
/// let header = csv.lines().find(|l| !l.starts_with('#')).unwrap();
/// assert_eq!(header, "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,x.1");
/// let rows = csv.lines().filter(|l| !l.starts_with('#')).count() - 1;
/// assert_eq!(rows, 30 + 20); // warm-up rows, then draws
/// assert!(csv.contains("\n# Adaptation terminated\n# Step size = "));
/// assert!(csv.contains("\n#  Elapsed Time: "));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CmdStanCsv<'a> {
    trace: &'a Trace,
    model_name: String,
}

impl<'a> CmdStanCsv<'a> {
    /// A writer for `trace`, with model name `model`.
    ///
    /// See [`CmdStanCsv`] for an example.
    pub fn new(trace: &'a Trace) -> Self {
        CmdStanCsv {
            trace,
            model_name: "model".into(),
        }
    }

    /// The model name written in the `# model = …` comment (default `model`).
    ///
    /// See [`CmdStanCsv`] for an example.
    pub fn model_name(mut self, name: impl Into<String>) -> Self {
        self.model_name = name.into();
        self
    }

    /// The full column header: the sampler statistics, the acceptance rate of each
    /// step of a compound sampler (`accept_{step}__`, read by ArviZ as a sampler
    /// statistic), then the variables.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::Bernoulli;
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `z ~ Bernoulli(0.3)`.
    /// # struct Coin;
    /// # impl ModelTemplate for Coin {
    /// #     type Output<R: Real> = ();
    /// #     fn name(&self) -> &'static str { "coin" }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let _z: i64 = api::sample(ctx, "z", Bernoulli::new(0.3), NoShape, None);
    /// #     }
    /// # }
    /// use ppl_infer::output::{CmdStanCsv, SAMPLER_COLUMNS};
    /// use ppl_infer::{Compound, Nuts, Sample};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // `Coin`: z ~ Bernoulli(0.3), sampled by a BinaryGibbsMetropolis step.
    /// let nuts = Nuts::default().chains(1).draws(20).tune(20).seed(1).progress(false);
    /// let trace = Model::new(Coin)?.sample(Compound::new(nuts))?;
    /// let columns = CmdStanCsv::new(&trace).columns();
    /// assert_eq!(columns[..7], SAMPLER_COLUMNS);
    /// assert_eq!(columns[7..], ["accept_binary_gibbs_z__", "z"]);
    /// # Ok(()) }
    /// ```
    pub fn columns(&self) -> Vec<String> {
        SAMPLER_COLUMNS
            .iter()
            .map(|s| s.to_string())
            .chain(
                self.trace
                    .step_labels()
                    .iter()
                    .map(|label| format!("accept_{}__", column_safe(label))),
            )
            .chain(cmdstan_column_names(self.trace.variables()))
            .collect()
    }

    /// Writes `dir/{prefix}_{id}.csv` for every chain, `id` being the chain id plus one
    /// (CmdStan's 1-based chain ids), creating `dir` if needed. Returns the paths in
    /// chain order.
    ///
    /// ```
    /// use ppl_infer::output::CmdStanCsv;
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
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let nuts = Nuts::default().chains(2).draws(100).tune(100).seed(14).progress(false);
    /// let trace = sample_log_density(&StdNormal, nuts)?;
    /// let dir = std::env::temp_dir().join(format!("ppl-doc-write-files-{}", std::process::id()));
    /// let paths = CmdStanCsv::new(&trace).model_name("normal_2d").write_files(&dir, "run")?;
    /// assert_eq!(paths, [dir.join("run_1.csv"), dir.join("run_2.csv")]);
    /// for (chain, path) in paths.iter().enumerate() {
    ///     let csv = std::fs::read_to_string(path)?;
    ///     assert!(csv.starts_with("# model = normal_2d\n"));
    ///     assert!(csv.contains(&format!("\n# id = {}", chain + 1)));
    ///     let mut rows = csv.lines().filter(|l| !l.starts_with('#'));
    ///     assert_eq!(
    ///         rows.next(),
    ///         Some("lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,x.1,x.2")
    ///     );
    ///     assert_eq!(rows.count(), 100); // the draws (warm-up draws were not kept)
    /// }
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub fn write_files(&self, dir: impl AsRef<Path>, prefix: &str) -> io::Result<Vec<PathBuf>> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        let mut paths = Vec::with_capacity(self.trace.chains().len());
        for (position, chain) in self.trace.chains().iter().enumerate() {
            let path = dir.join(format!("{prefix}_{}.csv", chain.chain + 1));
            let mut file = BufWriter::new(std::fs::File::create(&path)?);
            self.write_chain(position, &mut file)?;
            file.flush()?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// Writes the chain at position `chain` in [`Trace::chains`] to `out`.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] for a chain that does not exist or a
    /// variable name that CSV readers would split (one containing `,`, `.`, `#`, a quote
    /// or white space).
    ///
    /// ```
    /// use ppl_infer::output::CmdStanCsv;
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
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let nuts = Nuts::default().chains(2).draws(30).tune(50).seed(15).progress(false);
    /// let trace = sample_log_density(&StdNormal, nuts.keep_warmup(true))?;
    /// let writer = CmdStanCsv::new(&trace);
    /// let mut out = Vec::new();
    /// writer.write_chain(1, &mut out)?;
    /// let csv = String::from_utf8(out)?;
    /// let mut rows = csv.lines().filter(|l| !l.starts_with('#'));
    /// assert_eq!(rows.next(), Some(writer.columns().join(",").as_str()));
    /// // The warm-up rows, then the draws; the last column is x[1] of chain 1.
    /// let rows: Vec<&str> = rows.collect();
    /// assert_eq!(rows.len(), 50 + 30);
    /// let last: f64 = rows[79].rsplit(',').next().unwrap().parse()?;
    /// assert_eq!(last, trace.chains()[1].column(1)[29]);
    /// // There is no chain at position 2.
    /// let err = writer.write_chain(2, Vec::new()).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok(()) }
    /// ```
    pub fn write_chain<W: Write>(&self, chain: usize, mut out: W) -> io::Result<()> {
        let c = self.trace.chains().get(chain).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "no chain at position {chain} (the trace has {})",
                    self.trace.chains().len()
                ),
            )
        })?;
        for v in self.trace.variables() {
            if v.name.is_empty()
                || v.name
                    .chars()
                    .any(|ch| matches!(ch, ',' | '.' | '#' | '"' | '\'') || ch.is_whitespace())
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "variable name `{}` cannot be a CmdStan CSV column name",
                        v.name
                    ),
                ));
            }
        }
        let mut text = String::new();
        self.push_config(c, &mut text);
        text.push_str(&self.columns().join(","));
        text.push('\n');
        out.write_all(text.as_bytes())?;

        // Per variable, the row-major offsets of its elements in CmdStan's column order.
        let mut order = Vec::with_capacity(self.trace.num_columns());
        let mut offset = 0;
        for v in self.trace.variables() {
            order.extend(
                column_major_offsets(&v.shape)
                    .into_iter()
                    .map(|o| offset + o),
            );
            offset += v.len();
        }

        if self.saves_warmup(c) {
            let columns: Vec<&[f64]> = c
                .steps
                .iter()
                .map(|s| &s.warmup_accept[..])
                .chain(order.iter().map(|&k| &c.warmup_columns[k][..]))
                .collect();
            write_rows(&mut out, &c.warmup_stats, &columns)?;
        }

        text.clear();
        push_adaptation(c, &mut text);
        out.write_all(text.as_bytes())?;

        let columns: Vec<&[f64]> = c
            .steps
            .iter()
            .map(|s| &s.accept[..])
            .chain(order.iter().map(|&k| c.column(k)))
            .collect();
        write_rows(&mut out, &c.stats, &columns)?;

        text.clear();
        push_timing(c, &mut text);
        out.write_all(text.as_bytes())
    }

    /// Whether warm-up rows are written for chain `c`: when they were kept, one per
    /// warm-up iteration (readers count `num_warmup` rows as warm-up).
    fn saves_warmup(&self, c: &ChainTrace) -> bool {
        let nuts = self.trace.settings();
        nuts.keep_warmup
            && c.warmup_stats.len() == nuts.tune
            && c.warmup_columns.len() == self.trace.num_columns()
            && c.warmup_columns.iter().all(|w| w.len() == nuts.tune)
    }

    /// The configuration comments, as CmdStan's argument tree prints them.
    fn push_config(&self, c: &ChainTrace, out: &mut String) {
        let nuts = self.trace.settings();
        let saved_warmup = self.saves_warmup(c);
        let mut line = |indent: usize, key: &str, value: Option<String>, default: bool| {
            out.push('#');
            out.push_str(&" ".repeat(1 + 2 * indent));
            out.push_str(key);
            if let Some(value) = value {
                out.push_str(" = ");
                out.push_str(&value);
                if default {
                    out.push_str(" (Default)");
                }
            }
            out.push('\n');
        };
        let num = |x: f64| format_value(x);
        line(0, "model", Some(self.model_name.clone()), false);
        line(
            0,
            "ppl_version",
            Some(env!("CARGO_PKG_VERSION").into()),
            false,
        );
        line(
            0,
            "ppl_metric",
            Some(nuts.metric_kind().name().into()),
            false,
        );
        line(0, "method", Some("sample".into()), true);
        line(1, "sample", None, false);
        line(
            2,
            "num_samples",
            Some(nuts.draws.to_string()),
            nuts.draws == 1000,
        );
        line(
            2,
            "num_warmup",
            Some(nuts.tune.to_string()),
            nuts.tune == 1000,
        );
        line(
            2,
            "save_warmup",
            Some(u8::from(saved_warmup).to_string()),
            !saved_warmup,
        );
        line(2, "thin", Some("1".into()), true);
        line(2, "adapt", None, false);
        line(
            3,
            "engaged",
            Some(u8::from(nuts.tune > 0).to_string()),
            nuts.tune > 0,
        );
        line(3, "gamma", Some(num(GAMMA)), true);
        line(
            3,
            "delta",
            Some(num(nuts.target_accept)),
            nuts.target_accept == 0.8,
        );
        line(3, "kappa", Some(num(KAPPA)), true);
        line(3, "t0", Some(num(T0)), true);
        line(3, "init_buffer", Some(INIT_BUFFER.to_string()), true);
        line(3, "term_buffer", Some(TERM_BUFFER.to_string()), true);
        line(3, "window", Some(WINDOW.to_string()), true);
        line(2, "algorithm", Some("hmc".into()), true);
        line(3, "hmc", None, false);
        line(4, "engine", Some("nuts".into()), true);
        line(5, "nuts", None, false);
        line(
            6,
            "max_depth",
            Some(nuts.max_depth.to_string()),
            nuts.max_depth == 10,
        );
        // The shape of this chain's final metric as the adaptation block writes it: a
        // low-rank metric without a correction (or too large to write out) is its
        // diagonal.
        let metric = if writes_dense_metric(c) {
            "dense_e"
        } else {
            "diag_e"
        };
        line(4, "metric", Some(metric.into()), metric == "diag_e");
        line(
            4,
            "stepsize",
            Some(num(nuts.initial_step_size)),
            nuts.initial_step_size == 1.0,
        );
        line(4, "stepsize_jitter", Some("0".into()), true);
        line(
            2,
            "num_chains",
            Some(nuts.chains.to_string()),
            nuts.chains == 1,
        );
        line(0, "id", Some((c.chain + 1).to_string()), c.chain == 0);
        line(0, "data", None, false);
        line(1, "file", Some(String::new()), true);
        let user_init = !nuts.initial_positions.is_empty();
        line(
            0,
            "init",
            Some(if user_init { "user" } else { "2" }.into()),
            !user_init,
        );
        line(0, "random", None, false);
        line(1, "seed", Some(self.trace.seed().to_string()), false);
        line(0, "output", None, false);
        line(1, "sig_figs", Some("-1".into()), true);
    }
}

/// A step label as part of a column name: runs of anything but letters, digits and `_`
/// become one `_` (`nuts[a, b]` → `nuts_a_b`).
fn column_safe(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for ch in label.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            out.push(ch);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// One CSV row per draw: the sampler statistics, then `columns` (already in CmdStan's
/// order).
fn write_rows<W: Write>(out: &mut W, stats: &[SampleStats], columns: &[&[f64]]) -> io::Result<()> {
    let mut row = String::new();
    for (draw, s) in stats.iter().enumerate() {
        row.clear();
        push_value(&mut row, s.lp);
        row.push(',');
        push_value(&mut row, s.accept_stat);
        row.push(',');
        push_value(&mut row, s.step_size);
        let _ = write!(
            row,
            ",{},{},{},",
            s.tree_depth,
            s.n_leapfrog,
            u8::from(s.diverging)
        );
        push_value(&mut row, s.energy);
        for column in columns {
            row.push(',');
            push_value(&mut row, column[draw]);
        }
        row.push('\n');
        out.write_all(row.as_bytes())?;
    }
    Ok(())
}

/// Whether the chain's inverse metric is written as a whole matrix (`dense_e`) rather
/// than as its diagonal: the header's `metric` line and the adaptation block agree.
fn writes_dense_metric(c: &ChainTrace) -> bool {
    let d = c.inv_mass.len();
    d > 0 && c.inv_mass_matrix.len() == d * d
}

/// `# Adaptation terminated`, the step size and the inverse metric: its diagonal on one
/// line, or for a dense metric the whole matrix, a row per line (as CmdStan's `diag_e`
/// and `dense_e` do).
fn push_adaptation(c: &ChainTrace, out: &mut String) {
    out.push_str("# Adaptation terminated\n# Step size = ");
    push_value(out, c.step_size);
    out.push('\n');
    let d = c.inv_mass.len();
    let push_row = |out: &mut String, row: &[f64]| {
        out.push_str("# ");
        for (i, x) in row.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            push_value(out, *x);
        }
        out.push('\n');
    };
    if writes_dense_metric(c) {
        out.push_str("# Elements of inverse mass matrix:\n");
        for row in c.inv_mass_matrix.chunks(d) {
            push_row(out, row);
        }
    } else if d > 0 {
        out.push_str("# Diagonal elements of inverse mass matrix:\n");
        push_row(out, &c.inv_mass);
    }
}

/// CmdStan's timing block.
fn push_timing(c: &ChainTrace, out: &mut String) {
    let warmup = c.timing.warmup.as_secs_f64();
    let sampling = c.timing.sampling.as_secs_f64();
    const PAD: &str = "               "; // as wide as " Elapsed Time: "
    let _ = write!(
        out,
        "# \n#  Elapsed Time: {} seconds (Warm-up)\n# {PAD}{} seconds (Sampling)\n# {PAD}{} seconds (Total)\n# \n",
        format_value(warmup),
        format_value(sampling),
        format_value(warmup + sampling)
    );
}

impl Trace {
    /// Writes one CmdStan CSV file per chain, `dir/{prefix}_{id}.csv` with `id` the
    /// 1-based chain id, and `prefix` as the model name (see [`CmdStanCsv`] for the
    /// format and other options). Returns the paths in chain order.
    ///
    /// ```
    /// use ppl_infer::output::CmdStanCsv;
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
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let nuts = Nuts::default().chains(2).draws(100).tune(100).seed(16).progress(false);
    /// let trace = sample_log_density(&StdNormal, nuts)?;
    /// let dir = std::env::temp_dir().join(format!("ppl-doc-write-cmdstan-{}", std::process::id()));
    /// let paths = trace.write_cmdstan_csv(&dir, "normal_2d")?;
    /// assert_eq!(paths, [dir.join("normal_2d_1.csv"), dir.join("normal_2d_2.csv")]);
    /// // Each file is what `CmdStanCsv` writes with the prefix as the model name.
    /// for (chain, path) in paths.iter().enumerate() {
    ///     let mut expected = Vec::new();
    ///     CmdStanCsv::new(&trace).model_name("normal_2d").write_chain(chain, &mut expected)?;
    ///     assert_eq!(std::fs::read(path)?, expected);
    ///     let csv = String::from_utf8(expected)?;
    ///     let header = csv.lines().find(|l| !l.starts_with('#')).unwrap();
    ///     assert!(header.starts_with("lp__,accept_stat__,"));
    ///     assert!(header.ends_with(",energy__,x.1,x.2"));
    ///     assert_eq!(csv.lines().filter(|l| !l.starts_with('#')).count(), 1 + 100);
    /// }
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    pub fn write_cmdstan_csv(
        &self,
        dir: impl AsRef<Path>,
        prefix: &str,
    ) -> io::Result<Vec<PathBuf>> {
        CmdStanCsv::new(self)
            .model_name(prefix)
            .write_files(dir, prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::ChainTiming;
    use crate::{Metric, Nuts, VariableKind};
    use std::time::Duration;

    fn var(name: &str, shape: Vec<usize>) -> TraceVariable {
        TraceVariable {
            name: name.into(),
            shape,
            kind: VariableKind::Parameter,
        }
    }

    fn stats(i: usize) -> SampleStats {
        SampleStats {
            lp: -1.5 - i as f64,
            accept_stat: 0.25,
            accept_stat_sym: 0.25,
            step_size: 0.5,
            tree_depth: 2,
            n_leapfrog: 3,
            diverging: i % 2 == 1,
            energy: 2.0 + i as f64,
        }
    }

    /// A trace with variables `mu` (scalar), `theta` [2] and `L` [2, 3], draws valued
    /// `100 * draw + row-major column index` (warm-up: negated), one chain with id 2.
    fn trace(keep_warmup: bool, draws: usize, tune: usize) -> Trace {
        trace_with(keep_warmup, draws, tune, false)
    }

    /// With `dense`, the chain was sampled with `Metric::Dense` and its inverse metric
    /// has 0.5 next to the diagonal.
    fn trace_with(keep_warmup: bool, draws: usize, tune: usize, dense: bool) -> Trace {
        let variables = vec![
            var("mu", vec![]),
            var("theta", vec![2]),
            var("L", vec![2, 3]),
        ];
        let n: usize = variables.iter().map(TraceVariable::len).sum();
        let columns = (0..n)
            .map(|k| (0..draws).map(|d| (100 * d + k) as f64).collect())
            .collect();
        let warmup_columns = if keep_warmup {
            (0..n)
                .map(|k| (0..tune).map(|d| -((100 * d + k) as f64)).collect())
                .collect()
        } else {
            Vec::new()
        };
        let chain = ChainTrace {
            chain: 2,
            columns,
            warmup_columns,
            stats: (0..draws).map(stats).collect(),
            warmup_stats: (0..tune).map(|i| stats(i + 50)).collect(),
            step_size: 0.625,
            inv_mass: vec![1.0; n],
            inv_mass_matrix: if dense {
                (0..n * n)
                    .map(|k| match (k / n).abs_diff(k % n) {
                        0 => 1.0,
                        1 => 0.5,
                        _ => 0.0,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            timing: ChainTiming {
                warmup: Duration::from_millis(250),
                sampling: Duration::from_millis(500),
            },
            gradient_evaluations: 10,
            steps: Vec::new(),
        };
        let settings = Nuts::default()
            .chains(1)
            .draws(draws)
            .tune(tune)
            .keep_warmup(keep_warmup)
            .seed(9)
            .metric(if dense {
                Metric::Dense
            } else {
                Metric::default()
            });
        Trace::new(variables, vec![chain], settings, 9, Duration::from_secs(1))
    }

    fn csv(trace: &Trace) -> String {
        let mut out = Vec::new();
        CmdStanCsv::new(trace).write_chain(0, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn data_rows(csv: &str) -> Vec<Vec<String>> {
        csv.lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .map(|l| l.split(',').map(String::from).collect())
            .collect()
    }

    #[test]
    fn column_names_are_one_based_dotted_and_column_major() {
        let t = trace(false, 2, 0);
        let header = csv(&t)
            .lines()
            .find(|l| !l.starts_with('#'))
            .unwrap()
            .to_string();
        assert_eq!(
            header,
            "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,\
             mu,theta.1,theta.2,L.1.1,L.2.1,L.1.2,L.2.2,L.1.3,L.2.3"
        );
        assert_eq!(
            cmdstan_column_names(&[var("a", vec![2, 1, 2]), var("e", vec![0])]),
            ["a.1.1.1", "a.2.1.1", "a.1.1.2", "a.2.1.2"]
        );
    }

    #[test]
    fn values_are_transposed_to_column_major() {
        assert_eq!(column_major_offsets(&[]), [0]);
        assert_eq!(column_major_offsets(&[3]), [0, 1, 2]);
        assert_eq!(column_major_offsets(&[2, 3]), [0, 3, 1, 4, 2, 5]);
        assert_eq!(column_major_offsets(&[2, 2, 2]), [0, 4, 2, 6, 1, 5, 3, 7]);
        let rows = data_rows(&csv(&trace(false, 2, 0)));
        assert_eq!(rows.len(), 2);
        // mu = 0, theta = 1, 2; L row-major 3..=8 → column-major 3, 6, 4, 7, 5, 8.
        let expect = |d: usize| {
            [0, 1, 2, 3, 6, 4, 7, 5, 8]
                .iter()
                .map(|k| (100 * d + k).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(rows[0][7..], expect(0)[..]);
        assert_eq!(rows[1][7..], expect(1)[..]);
        assert_eq!(rows[1][..7], ["-2.5", "0.25", "0.5", "2", "3", "1", "3"]);
    }

    #[test]
    fn non_finite_values_are_spelled_like_cmdstan() {
        let mut t = trace(false, 1, 0);
        t.chains[0].columns[0][0] = f64::NAN;
        t.chains[0].columns[1][0] = f64::INFINITY;
        t.chains[0].columns[2][0] = f64::NEG_INFINITY;
        t.chains[0].stats[0].energy = f64::INFINITY;
        t.chains[0].stats[0].lp = f64::NEG_INFINITY;
        let rows = data_rows(&csv(&t));
        assert_eq!(rows[0][0], "-inf");
        assert_eq!(rows[0][6], "inf");
        assert_eq!(rows[0][7..10], ["nan", "inf", "-inf"]);
        for x in [1e-300, 6.02e23, -1e-5, 123456.789, 0.1 + 0.2, f64::MAX] {
            assert_eq!(format_value(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(format_value(1e16), "1e16");
        assert_eq!(format_value(0.0), "0");
    }

    #[test]
    fn warmup_rows_come_first_and_adaptation_comments_follow_them() {
        let t = trace(true, 3, 4);
        let text = csv(&t);
        assert!(text.contains("\n#     num_warmup = 4\n#     save_warmup = 1\n"));
        let rows = data_rows(&text);
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[0][7..10], ["-0", "-1", "-2"]); // the sign of zero is kept
        assert_eq!(rows[3][7], "-300");
        assert_eq!(rows[3][0], (-1.5 - 53.0).to_string());
        assert_eq!(rows[4][7..10], ["0", "1", "2"]);
        // The adaptation block sits between the last warm-up row and the first draw.
        let lines: Vec<&str> = text.lines().collect();
        let adapt = lines
            .iter()
            .position(|l| *l == "# Adaptation terminated")
            .unwrap();
        assert!(lines[adapt - 1].starts_with("-54.5,"));
        assert_eq!(lines[adapt + 1], "# Step size = 0.625");
        assert_eq!(
            lines[adapt + 2],
            "# Diagonal elements of inverse mass matrix:"
        );
        assert_eq!(lines[adapt + 3], format!("# 1{}", ", 1".repeat(8)));
        assert!(lines[adapt + 4].starts_with("-1.5,"));

        // Without kept warm-up draws, no warm-up rows and save_warmup = 0.
        let text = csv(&trace(false, 3, 4));
        assert!(text.contains("\n#     save_warmup = 0 (Default)\n"));
        assert_eq!(data_rows(&text).len(), 3);
    }

    #[test]
    fn a_dense_metric_is_written_row_by_row() {
        let text = csv(&trace_with(false, 2, 3, true));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"#         metric = dense_e"), "{text}");
        let at = lines
            .iter()
            .position(|l| *l == "# Elements of inverse mass matrix:")
            .unwrap();
        assert_eq!(lines[at + 1], format!("# 1, 0.5{}", ", 0".repeat(7)));
        assert_eq!(lines[at + 2], format!("# 0.5, 1, 0.5{}", ", 0".repeat(6)));
        assert_eq!(lines[at + 9], format!("# 0{}, 0.5, 1", ", 0".repeat(6)));
        assert!(
            !lines[at + 10].starts_with('#'),
            "nine rows, then the draws"
        );
        assert!(!text.contains("Diagonal elements"));
    }

    #[test]
    fn header_and_timing_comments_match_cmdstan() {
        let text = csv(&trace(false, 2, 3));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "# model = model");
        for expected in [
            "# method = sample (Default)",
            "#   sample",
            "#     num_samples = 2",
            "#     thin = 1 (Default)",
            "#       engaged = 1 (Default)",
            "#       gamma = 0.05 (Default)",
            "#       delta = 0.8 (Default)",
            "#       kappa = 0.75 (Default)",
            "#       t0 = 10 (Default)",
            "#     algorithm = hmc (Default)",
            "#         engine = nuts (Default)",
            "#             max_depth = 10 (Default)",
            "#         metric = diag_e (Default)",
            "#         stepsize = 1 (Default)",
            "# id = 3",
            "#   seed = 9",
        ] {
            assert!(lines.contains(&expected), "missing {expected:?} in\n{text}");
        }
        let n = lines.len();
        assert_eq!(
            lines[n - 5..],
            [
                "# ",
                "#  Elapsed Time: 0.25 seconds (Warm-up)",
                "#                0.5 seconds (Sampling)",
                "#                0.75 seconds (Total)",
                "# ",
            ]
        );
    }

    #[test]
    fn files_are_named_by_one_based_chain_id() {
        let t = trace(false, 2, 0);
        let dir = std::env::temp_dir().join(format!("ppl-cmdstan-unit-{}", std::process::id()));
        let paths = t.write_cmdstan_csv(&dir, "eight").unwrap();
        assert_eq!(paths, [dir.join("eight_3.csv")]);
        let text = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(text.starts_with("# model = eight\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_names_and_chains_are_errors() {
        let mut t = trace(false, 1, 0);
        let mut out = Vec::new();
        let err = CmdStanCsv::new(&t).write_chain(1, &mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        t.variables[0].name = "a.b".into();
        let err = CmdStanCsv::new(&t).write_chain(0, &mut out).unwrap_err();
        assert!(err.to_string().contains("`a.b`"), "{err}");
    }
}
