//! Writers that put a [`Trace`](crate::Trace) on disk for other tools.
//!
//! - [`CmdStanCsv`] ([`cmdstan_csv`]): CmdStan's CSV format, one file per chain, readable by
//!   `arviz.from_cmdstan` (ArviZ 0.x), cmdstanpy-style tooling and anything else that
//!   reads Stan output: sampler statistics `lp__` … `energy__`, then every variable
//!   with 1-based dotted indices in column-major order, with CmdStan's configuration,
//!   adaptation and timing comments. [`Trace::write_cmdstan_csv`](crate::Trace::write_cmdstan_csv)
//!   is the one-call version.
//! - [`Trace::write_json`](crate::Trace::write_json): one JSON document with the
//!   settings, variables and shapes, and per chain the draws, sampler statistics,
//!   adaptation results and timings (layout in [`json`]).
//!
//! ```
//! use ppl_infer::{sample_log_density, LogDensity, Nuts};
//!
//! struct StdNormal;
//! impl LogDensity for StdNormal {
//!     fn dim(&self) -> usize { 2 }
//!     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
//!         Ok(-0.5 * (x[0] * x[0] + x[1] * x[1]))
//!     }
//!     fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
//!         g[0] = -x[0];
//!         g[1] = -x[1];
//!         self.logp(x)
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let trace = sample_log_density(&StdNormal, Nuts::default().chains(2).draws(50).tune(50).seed(1))?;
//! let dir = std::env::temp_dir().join(format!("ppl-output-doc-{}", std::process::id()));
//! let files = trace.write_cmdstan_csv(&dir, "std_normal")?;
//! assert_eq!(files.len(), 2);
//! assert!(files[0].ends_with("std_normal_1.csv"));
//!
//! let mut json = Vec::new();
//! trace.write_json(&mut json)?;
//! assert!(String::from_utf8(json)?.contains("\"variables\""));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```

pub mod cmdstan_csv;
pub mod json;

pub use cmdstan_csv::{cmdstan_column_names, format_value, CmdStanCsv, SAMPLER_COLUMNS};
pub use json::write_json;
