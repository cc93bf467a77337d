//! A JSON writer for a whole [`Trace`]: settings, variables with shapes, and per chain
//! the draws, sampler statistics, adaptation results and timings.
//!
//! The document (written by [`write_json`] or [`Trace::write_json`]) is one object:
//!
//! ```text
//! {
//!   "format": "ppl-trace", "version": 1,
//!   "seed": 7, "wall_time_seconds": 0.8,
//!   "settings": {"chains": 4, "draws": 1000, "tune": 1000, "target_accept": 0.8,
//!                "max_depth": 10, "keep_warmup": false, "initial_step_size": 1.0},
//!   "variables": [{"name": "mu", "shape": [], "kind": "parameter"},
//!                 {"name": "L", "shape": [2, 2], "kind": "deterministic"}, …],
//!                 // "posterior_predictive", "prior_predictive": observations drawn;
//!                 // "log_likelihood": pointwise log-likelihoods
//!   "chains": [{
//!     "chain": 0,
//!     "draws": {"mu": [0.1, …], "L": [[[1.0, 0.0], [0.3, 0.9]], …], …},
//!     "stats": {"lp": […], "accept_stat": […], "step_size": […], "tree_depth": […],
//!               "n_leapfrog": […], "diverging": [false, …], "energy": […]},
//!     "warmup_draws": {…},            // only when warm-up draws were kept
//!     "warmup_stats": {…},
//!     "step_size": 0.71, "inv_mass": […],
//!     "inv_mass_matrix": […],         // row-major d × d, only for dense metrics
//!     "timing": {"warmup_seconds": 0.2, "sampling_seconds": 0.3},
//!     "gradient_evaluations": 23456
//!   }, …]
//! }
//! ```
//!
//! Each variable's draws are one array over draws whose elements are nested arrays of
//! the variable's shape (row-major, so `numpy.array(draws["L"])` has shape
//! `(draws, 2, 2)`). JSON has no non-finite numbers: NaN and ±∞ are written as the
//! strings `"nan"`, `"inf"` and `"-inf"` (which Python's `float` reads).

use crate::nuts::SampleStats;
use crate::target::VariableKind;
use crate::trace::{ChainTrace, Trace};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use std::io::{self, Write};

/// Writes `trace` as one JSON document (layout in the [module docs](self)).
///
/// ```
/// use ppl_infer::output::write_json;
/// use ppl_infer::{sample_log_density, LogDensity, Nuts};
///
/// struct StdNormal;
/// impl LogDensity for StdNormal {
///     fn dim(&self) -> usize { 2 }
///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
///         Ok(-0.5 * (x[0] * x[0] + x[1] * x[1]))
///     }
///     fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
///         g[0] = -x[0];
///         g[1] = -x[1];
///         self.logp(x)
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let trace = sample_log_density(&StdNormal, Nuts::default().chains(2).draws(10).tune(20).seed(3))?;
/// let mut out = Vec::new();
/// write_json(&trace, &mut out)?;
/// let doc: serde_json::Value = serde_json::from_slice(&out)?;
/// assert_eq!(doc["variables"][0]["name"], "x");
/// assert_eq!(doc["variables"][0]["shape"], serde_json::json!([2]));
/// assert_eq!(doc["chains"].as_array().unwrap().len(), 2);
/// let x = doc["chains"][1]["draws"]["x"].as_array().unwrap();
/// assert_eq!(x.len(), 10);
/// assert_eq!(x[3][1].as_f64(), Some(trace.samples("x", 1).unwrap()[1][3]));
/// assert_eq!(doc["chains"][0]["stats"]["lp"].as_array().unwrap().len(), 10);
/// # Ok(()) }
/// ```
pub fn write_json<W: Write>(trace: &Trace, out: W) -> io::Result<()> {
    serde_json::to_writer(out, &TraceDoc(trace)).map_err(io::Error::from)
}

impl Trace {
    /// Writes the trace as one JSON document (see [`write_json`]).
    ///
    /// Non-finite values are written as strings, so the document stays valid JSON:
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use ppl_infer::{Nuts, Sample};
    /// use serde_json::{json, Value};
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `mu ~ Normal(0, 1)` with the deterministics `floor = −∞` and `mu_and_inf = [mu, ∞]`.
    /// struct Floor;
    /// impl ModelTemplate for Floor {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str {
    ///         "floor"
    ///     }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    ///         api::deterministic(ctx, "floor", &f64::NEG_INFINITY);
    ///         api::deterministic(ctx, "mu_and_inf", &vec![mu, R::constant(f64::INFINITY)]);
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = Model::new(Floor)?;
    /// let nuts = Nuts::default().chains(1).draws(4).tune(20).seed(2).progress(false);
    /// let trace = model.sample(nuts)?;
    /// let mut out = Vec::new();
    /// trace.write_json(&mut out)?;
    /// let doc: Value = serde_json::from_slice(&out)?; // valid JSON
    /// let draws = &doc["chains"][0]["draws"];
    /// assert_eq!(draws["floor"], Value::from(vec!["-inf"; 4]));
    /// let mu = trace.samples("mu", 0).unwrap()[0][2];
    /// assert_eq!(draws["mu_and_inf"][2], json!([mu, "inf"]));
    /// assert_eq!(doc["variables"][1], json!({"name": "floor", "shape": [], "kind": "deterministic"}));
    /// # Ok(()) }
    /// ```
    pub fn write_json<W: Write>(&self, out: W) -> io::Result<()> {
        write_json(self, out)
    }
}

/// A number, or `"nan"`, `"inf"`, `"-inf"`.
struct Num(f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_finite() {
            s.serialize_f64(x)
        } else if x.is_nan() {
            s.serialize_str("nan")
        } else if x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }
}

/// A sequence of numbers.
struct Nums<'a>(&'a [f64]);

impl Serialize for Nums<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|&x| Num(x)))
    }
}

/// Row-major `values` nested to `shape` (a scalar for an empty shape).
struct Nested<'a> {
    shape: &'a [usize],
    values: &'a [f64],
}

impl Serialize for Nested<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.shape.split_first() {
            None => Num(self.values[0]).serialize(s),
            Some((&n, rest)) => {
                let stride: usize = rest.iter().product();
                let mut seq = s.serialize_seq(Some(n))?;
                for i in 0..n {
                    seq.serialize_element(&Nested {
                        shape: rest,
                        values: &self.values[i * stride..(i + 1) * stride],
                    })?;
                }
                seq.end()
            }
        }
    }
}

/// `{name: [draw, …]}` for every variable, from per-scalar columns.
struct Draws<'a> {
    trace: &'a Trace,
    columns: &'a [Vec<f64>],
    num_draws: usize,
}

impl Serialize for Draws<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let variables = self.trace.variables();
        let mut map = s.serialize_map(Some(variables.len()))?;
        let mut offset = 0;
        for v in variables {
            let columns = &self.columns[offset..offset + v.len()];
            offset += v.len();
            map.serialize_entry(
                &v.name,
                &VariableDraws {
                    shape: &v.shape,
                    columns,
                    num_draws: self.num_draws,
                },
            )?;
        }
        map.end()
    }
}

/// One variable's draws.
struct VariableDraws<'a> {
    shape: &'a [usize],
    columns: &'a [Vec<f64>],
    num_draws: usize,
}

impl Serialize for VariableDraws<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.num_draws))?;
        let mut values = vec![0.0; self.columns.len()];
        for draw in 0..self.num_draws {
            for (value, column) in values.iter_mut().zip(self.columns) {
                *value = column[draw];
            }
            seq.serialize_element(&Nested {
                shape: self.shape,
                values: &values,
            })?;
        }
        seq.end()
    }
}

/// Sampler statistics by name, one array each.
struct Stats<'a>(&'a [SampleStats]);

impl Serialize for Stats<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let stats = self.0;
        let floats = |f: fn(&SampleStats) -> f64| -> Vec<f64> { stats.iter().map(f).collect() };
        let mut map = s.serialize_map(Some(7))?;
        map.serialize_entry("lp", &Nums(&floats(|s| s.lp)))?;
        map.serialize_entry("accept_stat", &Nums(&floats(|s| s.accept_stat)))?;
        map.serialize_entry("step_size", &Nums(&floats(|s| s.step_size)))?;
        let depth: Vec<u32> = stats.iter().map(|s| s.tree_depth).collect();
        map.serialize_entry("tree_depth", &depth)?;
        let leapfrog: Vec<u32> = stats.iter().map(|s| s.n_leapfrog).collect();
        map.serialize_entry("n_leapfrog", &leapfrog)?;
        let diverging: Vec<bool> = stats.iter().map(|s| s.diverging).collect();
        map.serialize_entry("diverging", &diverging)?;
        map.serialize_entry("energy", &Nums(&floats(|s| s.energy)))?;
        map.end()
    }
}

/// One chain.
struct ChainDoc<'a> {
    trace: &'a Trace,
    chain: &'a ChainTrace,
}

impl Serialize for ChainDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.chain;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("chain", &c.chain)?;
        map.serialize_entry(
            "draws",
            &Draws {
                trace: self.trace,
                columns: &c.columns,
                num_draws: c.num_draws(),
            },
        )?;
        map.serialize_entry("stats", &Stats(&c.stats))?;
        let num_columns = self.trace.num_columns();
        let warmup_kept = self.trace.settings().keep_warmup
            && c.warmup_columns.len() == num_columns
            && c.warmup_columns
                .iter()
                .all(|w| w.len() == c.warmup_stats.len());
        if warmup_kept {
            map.serialize_entry(
                "warmup_draws",
                &Draws {
                    trace: self.trace,
                    columns: &c.warmup_columns,
                    num_draws: c.warmup_stats.len(),
                },
            )?;
        }
        map.serialize_entry("warmup_stats", &Stats(&c.warmup_stats))?;
        map.serialize_entry("step_size", &Num(c.step_size))?;
        map.serialize_entry("inv_mass", &Nums(&c.inv_mass))?;
        if !c.inv_mass_matrix.is_empty() {
            map.serialize_entry("inv_mass_matrix", &Nums(&c.inv_mass_matrix))?;
        }
        map.serialize_entry(
            "timing",
            &Timing {
                warmup_seconds: c.timing.warmup.as_secs_f64(),
                sampling_seconds: c.timing.sampling.as_secs_f64(),
            },
        )?;
        map.serialize_entry("gradient_evaluations", &c.gradient_evaluations)?;
        map.end()
    }
}

#[derive(Serialize)]
struct Timing {
    warmup_seconds: f64,
    sampling_seconds: f64,
}

#[derive(Serialize)]
struct Settings {
    chains: usize,
    draws: usize,
    tune: usize,
    target_accept: f64,
    max_depth: u32,
    keep_warmup: bool,
    initial_step_size: f64,
}

#[derive(Serialize)]
struct VariableDoc<'a> {
    name: &'a str,
    shape: &'a [usize],
    kind: &'static str,
}

/// The whole document.
struct TraceDoc<'a>(&'a Trace);

impl Serialize for TraceDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let trace = self.0;
        let nuts = trace.settings();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("format", "ppl-trace")?;
        map.serialize_entry("version", &1)?;
        map.serialize_entry("seed", &trace.seed())?;
        map.serialize_entry("wall_time_seconds", &trace.wall_time().as_secs_f64())?;
        map.serialize_entry(
            "settings",
            &Settings {
                chains: nuts.chains,
                draws: nuts.draws,
                tune: nuts.tune,
                target_accept: nuts.target_accept,
                max_depth: nuts.max_depth,
                keep_warmup: nuts.keep_warmup,
                initial_step_size: nuts.initial_step_size,
            },
        )?;
        let variables: Vec<VariableDoc> = trace
            .variables()
            .iter()
            .map(|v| VariableDoc {
                name: &v.name,
                shape: &v.shape,
                kind: match v.kind {
                    VariableKind::Parameter => "parameter",
                    VariableKind::Deterministic => "deterministic",
                    VariableKind::PosteriorPredictive => "posterior_predictive",
                    VariableKind::PriorPredictive => "prior_predictive",
                    VariableKind::LogLikelihood => "log_likelihood",
                },
            })
            .collect();
        map.serialize_entry("variables", &variables)?;
        let chains: Vec<ChainDoc> = trace
            .chains()
            .iter()
            .map(|chain| ChainDoc { trace, chain })
            .collect();
        map.serialize_entry("chains", &chains)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::ChainTiming;
    use crate::{Nuts, TraceVariable};
    use serde_json::{json, Value};
    use std::time::Duration;

    fn trace(keep_warmup: bool) -> Trace {
        let variables = vec![
            TraceVariable {
                name: "mu".into(),
                shape: vec![],
                kind: VariableKind::Parameter,
            },
            TraceVariable {
                name: "L".into(),
                shape: vec![2, 3],
                kind: VariableKind::Deterministic,
            },
        ];
        let stats = |i: usize| SampleStats {
            lp: -(i as f64),
            accept_stat: 0.5,
            accept_stat_sym: 0.5,
            step_size: 0.25,
            tree_depth: 1,
            n_leapfrog: 3,
            diverging: i == 1,
            energy: f64::INFINITY,
        };
        let chain = ChainTrace {
            chain: 1,
            columns: (0..7).map(|k| vec![k as f64, 10.0 + k as f64]).collect(),
            warmup_columns: if keep_warmup {
                (0..7).map(|k| vec![-(k as f64)]).collect()
            } else {
                Vec::new()
            },
            stats: (0..2).map(stats).collect(),
            warmup_stats: vec![stats(5)],
            step_size: 0.5,
            inv_mass: vec![1.0, 2.0],
            inv_mass_matrix: Vec::new(),
            timing: ChainTiming {
                warmup: Duration::from_millis(100),
                sampling: Duration::from_millis(200),
            },
            gradient_evaluations: 42,
            steps: Vec::new(),
        };
        let mut columns = chain.columns.clone();
        columns[0][1] = f64::NAN;
        let chain = ChainTrace { columns, ..chain };
        let settings = Nuts::default()
            .chains(1)
            .draws(2)
            .tune(1)
            .keep_warmup(keep_warmup);
        Trace::new(variables, vec![chain], settings, 11, Duration::from_secs(1))
    }

    fn doc(trace: &Trace) -> Value {
        let mut out = Vec::new();
        trace.write_json(&mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn draws_are_nested_by_shape_with_non_finite_strings() {
        let d = doc(&trace(false));
        assert_eq!(d["seed"], 11);
        assert_eq!(d["settings"]["draws"], 2);
        assert_eq!(
            d["variables"],
            json!([
                {"name": "mu", "shape": [], "kind": "parameter"},
                {"name": "L", "shape": [2, 3], "kind": "deterministic"},
            ])
        );
        let c = &d["chains"][0];
        assert_eq!(c["chain"], 1);
        assert_eq!(c["draws"]["mu"], json!([0.0, "nan"]));
        assert_eq!(
            c["draws"]["L"],
            json!([
                [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
                [[11.0, 12.0, 13.0], [14.0, 15.0, 16.0]]
            ])
        );
        assert_eq!(c["stats"]["lp"], json!([-0.0, -1.0]));
        assert_eq!(c["stats"]["diverging"], json!([false, true]));
        assert_eq!(c["stats"]["tree_depth"], json!([1, 1]));
        assert_eq!(c["stats"]["n_leapfrog"], json!([3, 3]));
        assert_eq!(c["stats"]["energy"], json!(["inf", "inf"]));
        assert_eq!(c["warmup_stats"]["lp"], json!([-5.0]));
        assert!(c.get("warmup_draws").is_none());
        assert_eq!(c["step_size"], 0.5);
        assert_eq!(c["inv_mass"], json!([1.0, 2.0]));
        assert!(c.get("inv_mass_matrix").is_none(), "diagonal metric");
        assert_eq!(c["timing"]["sampling_seconds"], 0.2);
        assert_eq!(c["gradient_evaluations"], 42);
    }

    #[test]
    fn kept_warmup_draws_are_written() {
        let d = doc(&trace(true));
        let c = &d["chains"][0];
        assert_eq!(c["warmup_draws"]["mu"], json!([-0.0]));
        assert_eq!(
            c["warmup_draws"]["L"],
            json!([[[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]]])
        );
    }
}
