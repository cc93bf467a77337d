//! Inference for ppl: samplers, diagnostics and output arrive with the sampler issue.
//!
//! Samplers see models only through [`LogDensity`].

pub use ppl_core::model::LogDensity;
