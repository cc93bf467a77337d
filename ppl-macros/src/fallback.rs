//! What is emitted next to a compile error: stub items with the same names and signatures, so
//! that one mistake gives exactly one error instead of a cascade at every use site.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::visit_mut::VisitMut;
use syn::{parse_quote, Item, ItemFn};

use crate::expand;
use crate::parse::ModelFn;

/// The full model module with the body replaced by a panic: `NAME::model(..)` still type-checks
/// wherever the user calls it.
pub fn model_stub(model: &ModelFn) -> TokenStream {
    let mut stub = ModelFn {
        attrs: model.attrs.clone(),
        vis: model.vis.clone(),
        ident: model.ident.clone(),
        args: Vec::new(),
        output: model.output.clone(),
        block: stub_block(),
    };
    for arg in &model.args {
        let mut ty = arg.ty.clone();
        SharedReferences.visit_type_mut(&mut ty);
        stub.args.push(crate::parse::ModelArg {
            attrs: arg.attrs.clone(),
            mutability: arg.mutability,
            ident: arg.ident.clone(),
            ty,
        });
    }
    expand::model_module(&stub, &stub.block)
}

/// The function itself, made generic over `Real` like a `#[real_fn]`, with a panicking body: used
/// when the signature is too broken for a model module (generics, `self`, `impl Trait`). It keeps
/// the item valid where it stands, e.g. inside an `impl` block.
pub fn fn_stub(mut item: ItemFn) -> TokenStream {
    *item.block = stub_block();
    expand::add_real_generic(&mut item);
    item.attrs
        .push(parse_quote!(#[allow(dead_code, unused_variables, unused_mut, clippy::all)]));
    item.into_token_stream()
}

/// A non-fn item is emitted unchanged next to the error: a misplaced `#[model]` on a struct must
/// not also make the struct disappear.
pub fn unchanged(item: &Item) -> TokenStream {
    item.into_token_stream()
}

/// The tokens to span an error about a whole item on: its keyword and name (`struct Foo`) rather
/// than every line of it.
pub fn item_head(item: &Item) -> TokenStream {
    fn head(keyword: &impl ToTokens, name: &impl ToTokens) -> TokenStream {
        quote!(#keyword #name)
    }
    match item {
        Item::Struct(item) => head(&item.struct_token, &item.ident),
        Item::Enum(item) => head(&item.enum_token, &item.ident),
        Item::Union(item) => head(&item.union_token, &item.ident),
        Item::Trait(item) => head(&item.trait_token, &item.ident),
        Item::Mod(item) => head(&item.mod_token, &item.ident),
        Item::Const(item) => head(&item.const_token, &item.ident),
        Item::Static(item) => head(&item.static_token, &item.ident),
        Item::Type(item) => head(&item.type_token, &item.ident),
        Item::Impl(item) => head(&item.impl_token, &item.self_ty),
        _ => item.into_token_stream(),
    }
}

fn stub_block() -> syn::Block {
    parse_quote!({
        ::core::unimplemented!(
            "this function did not compile; see the error reported by its attribute"
        )
    })
}

/// Turns `&mut T` into `&T`, after `validate` reported the `&mut`.
struct SharedReferences;

impl VisitMut for SharedReferences {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        reference.mutability = None;
        syn::visit_mut::visit_type_reference_mut(self, reference);
    }
}
