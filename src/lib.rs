//! ppl: probabilistic programming in Rust (façade; docs to come).
pub use ppl_core::*;
