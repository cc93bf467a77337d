//! Core of `ppl`: the scalar trait, tape autodiff, distributions, transforms, contexts
//! and the model runtime. Users depend on the façade crate `ppl`; see its docs.

#![warn(missing_docs)]

pub mod affine;
pub mod context;
pub mod dist;
pub mod error;
pub mod glm;
pub mod gp;
pub mod layout;
pub mod linalg;
pub mod model;
pub mod param;
pub mod scalar;
pub mod special;
pub mod tape;
pub mod transform;
pub mod vecmath;
pub mod vectorized;

pub use context::Context;
pub use error::{Error, ParamError, Result};
pub use layout::{Array, Layout, Point};
pub use model::{JointDensity, LogDensity, Model, ModelTemplate};
pub use scalar::Real;
pub use tape::Var;
pub use transform::Transform;

/// Fallback for `sample!` outside a `#[model]` function (which rewrites its own uses).
#[macro_export]
macro_rules! sample {
    ($($t:tt)*) => {
        compile_error!("sample! can only be used inside a #[model] function")
    };
}

/// Fallback for `observe!` outside a `#[model]` function.
#[macro_export]
macro_rules! observe {
    ($($t:tt)*) => {
        compile_error!("observe! can only be used inside a #[model] function")
    };
}

/// Fallback for `deterministic!` outside a `#[model]` function.
#[macro_export]
macro_rules! deterministic {
    ($($t:tt)*) => {
        compile_error!("deterministic! can only be used inside a #[model] function")
    };
}

/// Fallback for `potential!` outside a `#[model]` function.
#[macro_export]
macro_rules! potential {
    ($($t:tt)*) => {
        compile_error!("potential! can only be used inside a #[model] function")
    };
}
