//! Procedural macros for `ppl`: `#[model]` turns a plain function into a probabilistic model and
//! `#[real_fn]` makes a helper generic over the model's scalar type.
//!
//! Use them through the `ppl` crate (`use ppl::prelude::*;`), never directly: the generated code
//! calls into `::ppl`.
//!
//! # What `#[model]` writes for you
//!
//! Before:
//!
//! ```rust,ignore
//! use ppl::prelude::*;
//!
//! #[model]
//! pub fn eight_schools(y: &[f64], sigma: &[f64]) {
//!     let mu = sample!(Normal::new(0.0, 5.0));
//!     let tau = sample!(HalfCauchy::new(5.0));
//!     let theta_raw = sample!(Normal::new(0.0, 1.0), shape = y.len());
//!     let theta: Vec<Real> = theta_raw.iter().map(|t| mu + tau * *t).collect();
//!     deterministic!(theta);
//!     observe!(Normal::new(&theta, sigma), y);
//! }
//! ```
//!
//! After (slightly abridged: the operator bounds are spelled out with `::core::ops` paths):
//!
//! ```rust,ignore
//! pub mod eight_schools {
//!     use super::*;
//!
//!     pub fn template<Real: ::ppl::Real, __C: ::ppl::Context<Real>>(
//!         __ctx: &mut __C,
//!         y: &[f64],
//!         sigma: &[f64],
//!     ) where
//!         f64: Add<Real, Output = Real> + Sub<Real, Output = Real> + Mul<Real, Output = Real> + Div<Real, Output = Real>,
//!         f64: Add<f64, Output = f64> + Sub<f64, Output = f64> + Mul<f64, Output = f64> + Div<f64, Output = f64>,
//!     {
//!         let mu = ::ppl::__private::sample(&mut *__ctx, "mu", Normal::new(0.0, 5.0),
//!             ::ppl::__private::NoShape, None);
//!         let tau = ::ppl::__private::sample(&mut *__ctx, "tau", HalfCauchy::new(5.0),
//!             ::ppl::__private::NoShape, None);
//!         let theta_raw = ::ppl::__private::sample(&mut *__ctx, "theta_raw", Normal::new(0.0, 1.0),
//!             ::ppl::__private::Shape(y.len()), None);
//!         let theta: Vec<Real> = theta_raw.iter().map(|t| mu + tau * *t).collect();
//!         ::ppl::__private::deterministic(&mut *__ctx, "theta", &theta);
//!         ::ppl::__private::observe(&mut *__ctx, "y", Normal::new(&theta, sigma), y);
//!     }
//!
//!     /// The data a model is bound to.
//!     pub struct Template<'__a> {
//!         pub y: &'__a [f64],
//!         pub sigma: &'__a [f64],
//!         pub __marker: PhantomData<&'__a ()>,
//!     }
//!
//!     impl<'__a> ::ppl::ModelTemplate for Template<'__a> {
//!         type Output<Real: ::ppl::Real> = ();
//!         fn name(&self) -> &'static str { "eight_schools" }
//!         fn run<Real: ::ppl::Real, __C: ::ppl::Context<Real>>(&self, __ctx: &mut __C) -> ()
//!         where f64: Add<Real, Output = Real> + /* .. */ {
//!             template::<Real, __C>(__ctx, self.y.clone(), self.sigma.clone())
//!         }
//!     }
//!
//!     /// Binds the data and runs the model once forward to find its variables.
//!     pub fn model<'__a>(y: &'__a [f64], sigma: &'__a [f64])
//!         -> Result<::ppl::Model<Template<'__a>>, ::ppl::ModelError> { /* .. */ }
//! }
//! ```
//!
//! So `eight_schools::model(&y, &sigma)?` binds the data, and the same body runs with `Real = f64`
//! (drawing from the prior), with the tape's `Var` (gradients), or with dual numbers.
//!
//! # The macros inside a model
//!
//! - `let x = sample!(DIST)` — a variable named after its binding, `"x"`. Options, in any
//!   order after the distribution: `shape = n` (a vector of variables), `name = "..."`,
//!   `transform = T`. Inside a loop or closure an unnamed `sample!` is an error: it would create
//!   one variable per iteration; draw a vector with `shape = n` instead.
//! - `observe!(DIST, DATA)` — adds the log-likelihood of `DATA`, named after it (`y`, `&y`,
//!   `data.y`); otherwise `observe!(DIST, DATA, name = "y")`.
//! - `deterministic!(x)` / `deterministic!("name", expr)` — records a value in the trace.
//! - `potential!(expr)` / `potential!("name", expr)` — adds an arbitrary log-density term; unnamed
//!   ones are `potential_0`, `potential_1`, ... in order of appearance.
//!
//! Every name must be unique within the model. Nested items (an inner `fn`) are not rewritten.
//!
//! # Rough edges, and their fixes
//!
//! Inside the body the scalar type is a generic parameter literally called `Real`, and the macro
//! adds `where` clauses so that `f64` and `Real` mix in arithmetic. Three things still trip people:
//!
//! - `let s: f64 = a * 2.0;` where `a` came from `sample!` — the product is a `Real`, not an
//!   `f64`. Write `let s: Real = a * 2.0;` (or leave the type out).
//! - `a * 2` — an integer literal is not a `Real`. Write `a * 2.0`.
//! - Calling your own `fn helper(v: f64) -> f64` with a `Real` — it only accepts `f64`. Mark it
//!   generic with [`macro@real_fn`]:
//!
//! ```rust,ignore
//! #[real_fn]
//! fn inv_logit(v: Real) -> Real {
//!     1.0 / (1.0 + (-v).exp())
//! }
//! ```
//!
//! which is still callable with plain `f64` (`inv_logit(0.3_f64)`), since `f64` implements
//! `ppl::Real`.
//!
//! The model module does `use super::*;`, so the body sees the items of the module the model is
//! written in (write models at module level, not inside another function).

#![warn(missing_docs)]

mod expand;
mod fallback;
mod parse;
mod rewrite;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use syn::Item;

use crate::parse::ModelFn;
use crate::validate::{Errors, SignatureFit};

/// Turns a function into a probabilistic model: a module of the same name with a `model(..)`
/// constructor that binds the data. See the [crate docs](crate) for the expansion.
///
/// ```rust,ignore
/// #[model]
/// fn coin(flips: &[f64]) {
///     let p = sample!(Beta::new(1.0, 1.0));
///     observe!(Bernoulli::new(p), flips);
/// }
/// let model = coin::model(&[1.0, 0.0, 1.0])?;
/// ```
#[proc_macro_attribute]
pub fn model(args: TokenStream, input: TokenStream) -> TokenStream {
    model_attribute(args.into(), input.into()).into()
}

/// Makes a helper function generic over the model's scalar type `Real` (with the same operator
/// bounds a model has), so it can be called from a model body and with plain `f64`.
///
/// ```rust,ignore
/// #[real_fn]
/// fn inv_logit(v: Real) -> Real {
///     1.0 / (1.0 + (-v).exp())
/// }
/// ```
#[proc_macro_attribute]
pub fn real_fn(args: TokenStream, input: TokenStream) -> TokenStream {
    real_fn_attribute(args.into(), input.into()).into()
}

/// `#[model]` on proc-macro2 tokens: parse, validate, rewrite the body, generate (or fall back).
fn model_attribute(args: TokenStream2, input: TokenStream2) -> TokenStream2 {
    let mut errors = Errors::default();
    errors.check(validate::no_attribute_args("model", &args));
    let item_fn = match syn::parse2::<Item>(input) {
        Ok(Item::Fn(item_fn)) => item_fn,
        Ok(other) => {
            errors.push(validate::not_a_fn("model", &fallback::item_head(&other)));
            return with_errors(&errors, fallback::unchanged(&other));
        }
        Err(error) => return error.to_compile_error(),
    };
    if validate::model_signature(&item_fn, &mut errors) == SignatureFit::Unusable {
        return with_errors(&errors, fallback::fn_stub(item_fn));
    }
    let mut model = ModelFn::from_item(item_fn);
    errors.absorb(rewrite::model_body(&mut model.block));
    if errors.is_empty() {
        expand::model_module(&model, &model.block)
    } else {
        with_errors(&errors, fallback::model_stub(&model))
    }
}

/// `#[real_fn]` on proc-macro2 tokens.
fn real_fn_attribute(args: TokenStream2, input: TokenStream2) -> TokenStream2 {
    let mut errors = Errors::default();
    errors.check(validate::no_attribute_args("real_fn", &args));
    let item_fn = match syn::parse2::<Item>(input) {
        Ok(Item::Fn(item_fn)) => item_fn,
        Ok(other) => {
            errors.push(validate::not_a_fn("real_fn", &fallback::item_head(&other)));
            return with_errors(&errors, fallback::unchanged(&other));
        }
        Err(error) => return error.to_compile_error(),
    };
    validate::real_fn_signature(&item_fn, &mut errors);
    let expanded = quote::ToTokens::into_token_stream(expand::real_fn(item_fn));
    with_errors(&errors, expanded)
}

fn with_errors(errors: &Errors, items: TokenStream2) -> TokenStream2 {
    let mut tokens = errors.to_compile_errors();
    tokens.extend(items);
    tokens
}
