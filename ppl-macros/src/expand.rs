//! Code generation: the model module, the `#[real_fn]` generics, and the runtime calls that
//! replace `sample!`, `observe!`, `deterministic!` and `potential!`.
//!
//! Generated code stays thin: every call goes to a hidden helper in `ppl::__private`, built with
//! `quote_spanned!` on the user's tokens so that rustc's own errors point at them.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    parse_quote, parse_quote_spanned, Attribute, Expr, GenericParam, Ident, ItemFn, Lifetime,
    LitStr, ReturnType, Type,
};

use crate::parse::{DeterministicCall, ModelFn, ObserveCall, PotentialCall, SampleCall};

/// The context parameter. Signature and body must use the same hygiene, so both take this.
pub fn ctx_ident() -> Ident {
    Ident::new("__ctx", Span::call_site())
}

/// The scalar type parameter, named `Real` exactly as the user writes it in the body.
fn real_ident() -> Ident {
    Ident::new("Real", Span::call_site())
}

/// `f64 op Real -> Real`: lets `2.0 * a` compile when `a: Real`.
fn mixed_ops_bound() -> TokenStream {
    quote! {
        f64: ::core::ops::Add<Real, Output = Real>
            + ::core::ops::Sub<Real, Output = Real>
            + ::core::ops::Mul<Real, Output = Real>
            + ::core::ops::Div<Real, Output = Real>
    }
}

/// `f64 op f64 -> f64`: without it rustc resolves `2.0 * 3.0` against the bound above and plain
/// f64 arithmetic stops compiling.
fn plain_ops_bound() -> TokenStream {
    quote! {
        f64: ::core::ops::Add<f64, Output = f64>
            + ::core::ops::Sub<f64, Output = f64>
            + ::core::ops::Mul<f64, Output = f64>
            + ::core::ops::Div<f64, Output = f64>
    }
}

/// Generates the module that replaces a `#[model]` function.
///
/// Before: `pub fn m(y: &[f64]) -> R { BODY }`. After: `pub mod m { fn template<Real, __C>(..)
/// -> R { BODY' }; struct Template<'__a> { y: &'__a [f64] }; impl ModelTemplate for Template;
/// fn model(y) -> Result<Model<Template>, Error> }`, with `BODY'` the rewritten `body`.
pub fn model_module(model: &ModelFn, body: &syn::Block) -> TokenStream {
    let ModelFn {
        attrs,
        vis,
        ident,
        args,
        output,
        ..
    } = model;
    let (mod_attrs, fn_attrs) = split_attrs(attrs);
    let ctx = ctx_ident();
    let real = real_ident();
    let name = LitStr::new(&ident.unraw().to_string(), ident.span());
    let ret = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let mixed_ops = mixed_ops_bound();
    let plain_ops = plain_ops_bound();

    let template_params = args.iter().map(|arg| {
        let (attrs, mutability, ident, ty) = (&arg.attrs, &arg.mutability, &arg.ident, &arg.ty);
        quote!(#(#attrs)* #mutability #ident: #ty)
    });
    let idents: Vec<&Ident> = args.iter().map(|arg| &arg.ident).collect();
    let data_types: Vec<Type> = args.iter().map(|arg| with_data_lifetime(&arg.ty)).collect();

    quote! {
        #(#mod_attrs)*
        #[allow(non_snake_case, non_camel_case_types)]
        #vis mod #ident {
            #![allow(unused_imports, missing_docs, clippy::all)]
            use super::*;

            /// The model's body, generic over its scalar type and context.
            #(#fn_attrs)*
            #[allow(unused_mut, unused_variables, clippy::all)]
            pub fn template<#real: ::ppl::Real, __C: ::ppl::Context<#real>>(
                #ctx: &mut __C,
                #(#template_params),*
            ) #output
            where
                #mixed_ops,
                #plain_ops,
            #body

            /// The data a model is bound to.
            pub struct Template<'__a> {
                #(pub #idents: #data_types,)*
                #[doc(hidden)]
                pub __marker: ::core::marker::PhantomData<&'__a ()>,
            }

            impl<'__a> ::ppl::ModelTemplate for Template<'__a> {
                type Output<#real: ::ppl::Real> = #ret;

                fn name(&self) -> &'static str {
                    #name
                }

                fn run<#real: ::ppl::Real, __C: ::ppl::Context<#real>>(
                    &self,
                    #ctx: &mut __C,
                ) -> Self::Output<#real>
                where
                    #mixed_ops,
                {
                    template::<#real, __C>(#ctx, #(::core::clone::Clone::clone(&self.#idents)),*)
                }
            }

            /// Binds the data and runs the model once forward to find its variables.
            pub fn model<'__a>(
                #(#idents: #data_types),*
            ) -> ::core::result::Result<::ppl::Model<Template<'__a>>, ::ppl::ModelError> {
                ::ppl::Model::new(Template { #(#idents,)* __marker: ::core::marker::PhantomData })
            }
        }
    }
}

/// Doc comments and `cfg` go on the module; everything else (lints, `inline`, ...) on `template`.
fn split_attrs(attrs: &[Attribute]) -> (Vec<&Attribute>, Vec<&Attribute>) {
    attrs.iter().partition(|attr| {
        let path = attr.path();
        path.is_ident("doc") || path.is_ident("cfg") || path.is_ident("cfg_attr")
    })
}

/// The type of a data field: elided lifetimes (`&T`, `'_`) become `'__a`. `&mut` becomes `&`,
/// which only matters in a stub generated after `validate` has reported it.
pub fn with_data_lifetime(ty: &Type) -> Type {
    let mut ty = ty.clone();
    DataLifetime.visit_type_mut(&mut ty);
    ty
}

struct DataLifetime;

impl VisitMut for DataLifetime {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.is_none() {
            reference.lifetime = Some(Lifetime::new("'__a", reference.and_token.span));
        }
        reference.mutability = None;
        syn::visit_mut::visit_type_reference_mut(self, reference);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_" {
            *lifetime = Lifetime::new("'__a", lifetime.apostrophe);
        }
    }

    // Elided lifetimes in `fn(&T)` and `dyn Fn(&T)` are late-bound and stay as written.
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}

/// Makes a helper generic over the scalar type: `fn f(v: Real) -> Real` becomes
/// `fn f<Real: ::ppl::Real>(v: Real) -> Real where f64: ...` with the two operator bounds.
pub fn real_fn(mut item: ItemFn) -> ItemFn {
    add_real_generic(&mut item);
    item
}

/// Inserts `Real: ::ppl::Real` after any lifetime parameters and adds the operator bounds.
pub fn add_real_generic(item: &mut ItemFn) {
    let generics = &mut item.sig.generics;
    let real = real_ident();
    let position = generics
        .params
        .iter()
        .take_while(|param| matches!(param, GenericParam::Lifetime(_)))
        .count();
    generics
        .params
        .insert(position, parse_quote!(#real: ::ppl::Real));
    let mixed_ops = mixed_ops_bound();
    let plain_ops = plain_ops_bound();
    let where_clause = generics.make_where_clause();
    where_clause.predicates.push(parse_quote!(#mixed_ops));
    where_clause.predicates.push(parse_quote!(#plain_ops));
}

/// `sample!(DIST, ..)` → `::ppl::__private::sample(__ctx, "name", DIST, SHAPE, TRANSFORM)`.
pub fn sample_call(ctx: &Ident, call: &SampleCall, name: &str) -> Expr {
    let span = call.dist.span();
    let name = LitStr::new(name, span);
    let dist = &call.dist;
    let shape = match &call.shape {
        Some(shape) => quote_spanned!(span=> ::ppl::__private::Shape(#shape)),
        None => quote_spanned!(span=> ::ppl::__private::NoShape),
    };
    let transform = match &call.transform {
        Some(transform) => quote_spanned!(span=> ::core::option::Option::Some(#transform)),
        None => quote_spanned!(span=> ::core::option::Option::None),
    };
    parse_quote_spanned!(span=> ::ppl::__private::sample(&mut *#ctx, #name, #dist, #shape, #transform))
}

/// `observe!(DIST, DATA)` → `::ppl::__private::observe(__ctx, "name", DIST, DATA)`.
pub fn observe_call(ctx: &Ident, call: &ObserveCall, name: &str) -> Expr {
    let span = call.dist.span();
    let name = LitStr::new(name, span);
    let (dist, data) = (&call.dist, &call.data);
    parse_quote_spanned!(span=> ::ppl::__private::observe(&mut *#ctx, #name, #dist, #data))
}

/// `deterministic!(x)` → `::ppl::__private::deterministic(__ctx, "x", &x)`;
/// `deterministic!("name", EXPR)` → `::ppl::__private::deterministic(__ctx, "name", &(EXPR))`.
pub fn deterministic_call(ctx: &Ident, call: &DeterministicCall) -> Expr {
    match call {
        DeterministicCall::Variable(ident) => {
            let span = ident.span();
            let name = LitStr::new(&ident.unraw().to_string(), span);
            parse_quote_spanned!(span=> ::ppl::__private::deterministic(&mut *#ctx, #name, &#ident))
        }
        DeterministicCall::Named(name, value) => {
            let span = value.span();
            parse_quote_spanned!(span=> ::ppl::__private::deterministic(&mut *#ctx, #name, &(#value)))
        }
    }
}

/// `potential!(EXPR)` → `::ppl::__private::potential(__ctx, "potential_N", EXPR)`; the name is
/// decided by the caller (explicit, or numbered in order of appearance).
pub fn potential_call(ctx: &Ident, call: &PotentialCall, name: &str) -> Expr {
    let span = call.value.span();
    let name = LitStr::new(name, span);
    let value = &call.value;
    parse_quote_spanned!(span=> ::ppl::__private::potential(&mut *#ctx, #name, #value))
}
