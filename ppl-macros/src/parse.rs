//! Input model: the `#[model]` function's signature and the arguments of the macros in its body.
//!
//! Parsing here is purely syntactic. Whether a signature or a macro call makes sense is decided
//! in `validate`, which turns the raw [`MacroArgs`] into the typed calls defined here.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, FnArg, Ident, ItemFn, LitStr, Macro, Pat, ReturnType, Token, Type, Visibility,
};

/// The four macros `#[model]` rewrites, recognised by the last segment of their path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacroKind {
    /// `sample!(DIST, options..)`: a random variable.
    Sample,
    /// `observe!(DIST, DATA)`: a likelihood term for observed data.
    Observe,
    /// `deterministic!(x)` / `deterministic!("name", expr)`: a value recorded in the trace.
    Deterministic,
    /// `potential!(expr)` / `potential!("name", expr)`: an arbitrary log-density term.
    Potential,
}

impl MacroKind {
    /// Every kind, for scanning token streams.
    pub const ALL: [MacroKind; 4] = [
        Self::Sample,
        Self::Observe,
        Self::Deterministic,
        Self::Potential,
    ];

    /// The kind of `mac`, when it is one of ours (`sample!`, `ppl::sample!`, ...).
    pub fn of(mac: &Macro) -> Option<Self> {
        let last = mac.path.segments.last()?;
        Self::from_name(&last.ident.to_string())
    }

    /// The kind named `name`, without the `!`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The macro's name, without the `!`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sample => "sample",
            Self::Observe => "observe",
            Self::Deterministic => "deterministic",
            Self::Potential => "potential",
        }
    }
}

/// One comma-separated argument of a macro call.
pub enum MacroArg {
    /// A plain expression: `Normal::new(0.0, 1.0)`, `y`, `"name"`.
    Positional(Expr),
    /// `key = value`, as in `shape = n` or `name = "mu"`.
    Named(NamedArg),
}

/// A `key = value` argument.
pub struct NamedArg {
    /// The option's name: `shape`, `name`, `transform`.
    pub key: Ident,
    /// The whole `key = value` expression, for spans.
    pub whole: Expr,
    /// The value after `=`.
    pub value: Expr,
}

/// The arguments of one of our macro calls, still untyped.
pub struct MacroArgs {
    /// Which macro this is.
    pub kind: MacroKind,
    /// The whole call, `sample!(...)`, for spanning errors about the call as a whole.
    pub call: TokenStream,
    /// The arguments in order.
    pub args: Vec<MacroArg>,
}

impl MacroArgs {
    /// Splits the body of `mac` on commas into expressions, telling `key = value` options apart.
    pub fn parse(kind: MacroKind, mac: &Macro) -> syn::Result<Self> {
        let exprs = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(mac.tokens.clone())?;
        let args = exprs.into_iter().map(MacroArg::from_expr).collect();
        Ok(Self {
            kind,
            call: quote::ToTokens::to_token_stream(mac),
            args,
        })
    }
}

impl MacroArg {
    fn from_expr(expr: Expr) -> Self {
        if let Expr::Assign(assign) = &expr {
            if let Expr::Path(path) = &*assign.left {
                if path.qself.is_none() && path.attrs.is_empty() {
                    if let Some(key) = path.path.get_ident() {
                        let key = key.clone();
                        let value = (*assign.right).clone();
                        return Self::Named(NamedArg {
                            key,
                            whole: expr,
                            value,
                        });
                    }
                }
            }
        }
        Self::Positional(expr)
    }
}

/// `sample!(DIST, shape = .., name = "..", transform = ..)`, checked.
pub struct SampleCall {
    /// The distribution expression.
    pub dist: Expr,
    /// `name = "..."`.
    pub name: Option<LitStr>,
    /// `shape = EXPR`.
    pub shape: Option<Expr>,
    /// `transform = EXPR`.
    pub transform: Option<Expr>,
}

/// `observe!(DIST, DATA)` or `observe!(DIST, DATA, name = "...")`, checked.
pub struct ObserveCall {
    /// The distribution expression.
    pub dist: Expr,
    /// The observed data.
    pub data: Expr,
    /// `name = "..."`.
    pub name: Option<LitStr>,
}

/// `deterministic!(x)` or `deterministic!("name", expr)`, checked.
pub enum DeterministicCall {
    /// `deterministic!(x)`: recorded under the variable's own name.
    Variable(Ident),
    /// `deterministic!("name", expr)`.
    Named(LitStr, Expr),
}

/// `potential!(expr)` or `potential!("name", expr)`, checked.
pub struct PotentialCall {
    /// The explicit name, if any; otherwise `potential_0`, `potential_1`, ...
    pub name: Option<LitStr>,
    /// The log-density term.
    pub value: Expr,
}

/// A `#[model]` function, after its signature was checked.
pub struct ModelFn {
    /// Outer attributes of the function (doc comments, `cfg`, lints).
    pub attrs: Vec<Attribute>,
    /// The function's visibility, given to the generated module.
    pub vis: Visibility,
    /// The function's name, given to the generated module.
    pub ident: Ident,
    /// The data arguments.
    pub args: Vec<ModelArg>,
    /// The declared return type.
    pub output: ReturnType,
    /// The body, before rewriting.
    pub block: syn::Block,
}

/// One data argument of a model: `y: &[f64]`.
pub struct ModelArg {
    /// Attributes on the argument.
    pub attrs: Vec<Attribute>,
    /// `mut` in `mut x: T`.
    pub mutability: Option<Token![mut]>,
    /// The argument's name.
    pub ident: Ident,
    /// The argument's type, as written.
    pub ty: Type,
}

impl ModelFn {
    /// Takes the parts of `item` the expansion needs. Arguments whose pattern is not a plain
    /// identifier (already reported by `validate`) are named `__arg0`, `__arg1`, ... so that a
    /// stub can still be generated.
    pub fn from_item(item: ItemFn) -> Self {
        let args = item
            .sig
            .inputs
            .iter()
            .enumerate()
            .filter_map(|(index, input)| match input {
                FnArg::Typed(typed) => Some(ModelArg::from_pat_type(index, typed)),
                FnArg::Receiver(_) => None,
            })
            .collect();
        Self {
            attrs: item.attrs,
            vis: item.vis,
            ident: item.sig.ident,
            args,
            output: item.sig.output,
            block: *item.block,
        }
    }
}

impl ModelArg {
    fn from_pat_type(index: usize, typed: &syn::PatType) -> Self {
        let (ident, mutability) = match &*typed.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                (pat.ident.clone(), pat.mutability)
            }
            other => (Ident::new(&format!("__arg{index}"), other.span()), None),
        };
        Self {
            attrs: typed.attrs.clone(),
            mutability,
            ident,
            ty: (*typed.ty).clone(),
        }
    }
}

/// The identifier a `let` pattern binds, seen through a type ascription: `x` in `let x = ..`,
/// `let mut x = ..` and `let x: Vec<Real> = ..`.
pub fn binding_ident(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(pat) if pat.subpat.is_none() => Some(&pat.ident),
        Pat::Type(typed) => binding_ident(&typed.pat),
        _ => None,
    }
}

/// Whether `tokens` mention one of our macros (`sample !` and so on) at any depth. Used to find
/// calls hidden inside other macros, which `syn` leaves as opaque tokens.
pub fn mentions_ppl_macro(tokens: &TokenStream) -> bool {
    let mut previous_was_ours = false;
    for tree in tokens.clone() {
        match &tree {
            TokenTree::Punct(punct) if punct.as_char() == '!' && previous_was_ours => return true,
            TokenTree::Group(group) if mentions_ppl_macro(&group.stream()) => return true,
            _ => {}
        }
        previous_was_ours = matches!(&tree, TokenTree::Ident(ident) if MacroKind::from_name(&ident.to_string()).is_some());
    }
    false
}
