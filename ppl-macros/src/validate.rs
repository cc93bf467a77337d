//! Semantic checks: each returns a `syn::Error` spanned on the offending tokens.
//!
//! Signatures are checked before anything is generated; macro calls in the body are turned from
//! raw [`MacroArgs`] into typed calls here, and each variable's name is decided and checked for
//! uniqueness.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::visit::Visit;
use syn::{Expr, FnArg, Ident, ItemFn, Lit, LitStr, Member, Pat};

use crate::parse::{
    DeterministicCall, MacroArg, MacroArgs, NamedArg, ObserveCall, PotentialCall, SampleCall,
};

/// Collects errors so that every problem found in one pass is reported together.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds one error.
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Adds the error of `result`, if any, and returns its value otherwise.
    pub fn check<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// Adds every error of `other`.
    pub fn absorb(&mut self, other: Errors) {
        if let Some(error) = other.0 {
            self.push(error);
        }
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// All errors as `compile_error!` invocations (empty when there are none).
    pub fn to_compile_errors(&self) -> TokenStream {
        self.0
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}

/// How badly a `#[model]` signature is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureFit {
    /// The model module can be generated (possibly with a stub body after other errors).
    Usable,
    /// Generics, a `self` receiver or `impl Trait` data: no model module can be generated.
    Unusable,
}

/// Arguments are not accepted by `#[model]` or `#[real_fn]`.
pub fn no_attribute_args(attribute: &str, args: &TokenStream) -> syn::Result<()> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            args,
            format!("#[{attribute}] takes no arguments"),
        ))
    }
}

/// Checks a `#[model]` function's signature, reporting every problem into `errors`.
pub fn model_signature(item: &ItemFn, errors: &mut Errors) -> SignatureFit {
    let sig = &item.sig;
    let mut fit = SignatureFit::Usable;
    qualifiers("model", item, errors);
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "#[model] functions cannot have generic parameters: the macro makes the model generic over its scalar type `Real` itself",
        ));
        fit = SignatureFit::Unusable;
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            "#[model] functions cannot have a where clause: the macro makes the model generic over its scalar type `Real` itself",
        ));
        fit = SignatureFit::Unusable;
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "#[model] cannot be applied to a variadic fn",
        ));
    }
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    "#[model] cannot be applied to a method with `self`: a model is a free function that takes its data as arguments",
                ));
                fit = SignatureFit::Unusable;
            }
            FnArg::Typed(typed) => {
                if !is_plain_ident(&typed.pat) {
                    errors.push(syn::Error::new_spanned(
                        &typed.pat,
                        "#[model] arguments must be plain identifiers, like `y: &[f64]`",
                    ));
                }
                let mut check = DataTypeCheck::default();
                check.visit_type(&typed.ty);
                if check.impl_trait {
                    fit = SignatureFit::Unusable;
                }
                for error in check.errors {
                    errors.push(error);
                }
            }
        }
    }
    fit
}

/// Checks a `#[real_fn]` function's signature.
pub fn real_fn_signature(item: &ItemFn, errors: &mut Errors) {
    if let Some(asyncness) = &item.sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            "#[real_fn] cannot be applied to an async fn",
        ));
    }
    if let Some(FnArg::Receiver(receiver)) = item.sig.inputs.first() {
        errors.push(syn::Error::new_spanned(
            receiver,
            "#[real_fn] cannot be applied to a method with `self`: use it on a free helper function",
        ));
    }
}

/// The error for `#[model]` or `#[real_fn]` on something that is not a function.
pub fn not_a_fn(attribute: &str, item: &impl ToTokens) -> syn::Error {
    syn::Error::new_spanned(item, format!("#[{attribute}] can only be applied to a fn"))
}

fn qualifiers(attribute: &str, item: &ItemFn, errors: &mut Errors) {
    let sig = &item.sig;
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            format!("#[{attribute}] cannot be applied to a const fn"),
        ));
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            asyncness,
            format!("#[{attribute}] cannot be applied to an async fn"),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            format!("#[{attribute}] cannot be applied to an unsafe fn"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("#[{attribute}] cannot be applied to an extern fn"),
        ));
    }
}

fn is_plain_ident(pat: &Pat) -> bool {
    matches!(pat, Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none())
}

/// Finds `&mut` and `impl Trait` in a data argument's type.
#[derive(Default)]
struct DataTypeCheck {
    errors: Vec<syn::Error>,
    impl_trait: bool,
}

impl<'ast> Visit<'ast> for DataTypeCheck {
    fn visit_type_reference(&mut self, reference: &'ast syn::TypeReference) {
        if reference.mutability.is_some() {
            self.errors.push(syn::Error::new_spanned(
                reference,
                "#[model] arguments cannot be `&mut`: models take their data by shared reference or by value",
            ));
        }
        syn::visit::visit_type_reference(self, reference);
    }

    fn visit_type_impl_trait(&mut self, impl_trait: &'ast syn::TypeImplTrait) {
        self.impl_trait = true;
        self.errors.push(syn::Error::new_spanned(
            impl_trait,
            "#[model] arguments cannot be `impl Trait`: give the data a concrete type",
        ));
    }

    // Lifetimes inside `fn(&T)` and `dyn Fn(&T)` are not the data's; nothing to check there.
    fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments(
        &mut self,
        _: &'ast syn::ParenthesizedGenericArguments,
    ) {
    }
}

const SAMPLE_OPTIONS: [&str; 3] = ["shape", "name", "transform"];

/// Turns `sample!(..)`'s arguments into a [`SampleCall`]: a distribution first, then options in
/// any order, each at most once.
pub fn sample_call(args: MacroArgs) -> syn::Result<SampleCall> {
    let mut items = args.args.into_iter();
    let dist = match items.next() {
        Some(MacroArg::Positional(dist)) => dist,
        Some(MacroArg::Named(named)) => return Err(syn::Error::new_spanned(
            &named.whole,
            "sample! needs a distribution before its options: `sample!(Normal::new(0.0, 1.0), ..)`",
        )),
        None => {
            return Err(syn::Error::new_spanned(
                &args.call,
                "sample! needs a distribution: `sample!(Normal::new(0.0, 1.0))`",
            ))
        }
    };
    let mut call = SampleCall {
        dist,
        name: None,
        shape: None,
        transform: None,
    };
    for item in items {
        let option = match item {
            MacroArg::Named(option) => option,
            MacroArg::Positional(extra) => {
                return Err(syn::Error::new_spanned(
                    extra,
                    "sample! takes one distribution followed by options: `shape = ..`, `name = \"..\"`, `transform = ..`",
                ))
            }
        };
        let key = option.key.to_string();
        let slot_taken = match key.as_str() {
            "shape" => call.shape.is_some(),
            "name" => call.name.is_some(),
            "transform" => call.transform.is_some(),
            _ => {
                return Err(syn::Error::new(
                    option.key.span(),
                    format!(
                        "unknown sample! option `{key}`: the options are {}",
                        SAMPLE_OPTIONS.map(|o| format!("`{o}`")).join(", ")
                    ),
                ))
            }
        };
        if slot_taken {
            return Err(syn::Error::new(
                option.key.span(),
                format!("duplicate sample! option `{key}`"),
            ));
        }
        match key.as_str() {
            "shape" => call.shape = Some(option.value),
            "name" => call.name = Some(name_literal(&option)?),
            _ => call.transform = Some(option.value),
        }
    }
    Ok(call)
}

const OBSERVE_ARITY: &str =
    "observe! takes a distribution and the observed data: observe!(DIST, DATA)";

/// Turns `observe!(..)`'s arguments into an [`ObserveCall`].
pub fn observe_call(args: MacroArgs) -> syn::Result<ObserveCall> {
    let call_tokens = args.call;
    let mut items = args.args.into_iter();
    let (dist, data) = match (items.next(), items.next()) {
        (Some(MacroArg::Positional(dist)), Some(MacroArg::Positional(data))) => (dist, data),
        (Some(MacroArg::Named(named)), _) | (_, Some(MacroArg::Named(named))) => {
            return Err(syn::Error::new_spanned(&named.whole, OBSERVE_ARITY))
        }
        _ => return Err(syn::Error::new_spanned(&call_tokens, OBSERVE_ARITY)),
    };
    let name = match items.next() {
        None => None,
        Some(MacroArg::Named(option)) if option.key == "name" => Some(name_literal(&option)?),
        Some(MacroArg::Named(option)) => {
            return Err(syn::Error::new_spanned(
                &option.whole,
                format!("{OBSERVE_ARITY}, optionally followed by `name = \"...\"`"),
            ))
        }
        Some(MacroArg::Positional(extra)) => {
            return Err(syn::Error::new_spanned(extra, OBSERVE_ARITY))
        }
    };
    if let Some(extra) = items.next() {
        let tokens = match extra {
            MacroArg::Named(option) => option.whole.into_token_stream(),
            MacroArg::Positional(expr) => expr.into_token_stream(),
        };
        return Err(syn::Error::new_spanned(tokens, OBSERVE_ARITY));
    }
    Ok(ObserveCall { dist, data, name })
}

const DETERMINISTIC_FORMS: &str =
    "deterministic! takes a variable, `deterministic!(x)`, or a name and a value, `deterministic!(\"name\", expr)`";

/// Turns `deterministic!(..)`'s arguments into a [`DeterministicCall`].
pub fn deterministic_call(args: MacroArgs) -> syn::Result<DeterministicCall> {
    let call_tokens = args.call;
    let mut items = args.args;
    match items.len() {
        1 => {
            if let MacroArg::Positional(Expr::Path(path)) = &items[0] {
                if path.qself.is_none() {
                    if let Some(ident) = path.path.get_ident() {
                        return Ok(DeterministicCall::Variable(ident.clone()));
                    }
                }
            }
        }
        2 => {
            let value = items.pop();
            let name = items.pop();
            if let (Some(MacroArg::Positional(name)), Some(MacroArg::Positional(value))) =
                (name, value)
            {
                if let Some(name) = string_literal(&name) {
                    return Ok(DeterministicCall::Named(non_empty(name)?, value));
                }
                return Err(syn::Error::new_spanned(
                    name,
                    "the name must be a string literal",
                ));
            }
        }
        _ => {}
    }
    Err(syn::Error::new_spanned(call_tokens, DETERMINISTIC_FORMS))
}

const POTENTIAL_FORMS: &str =
    "potential! takes a log-density term, `potential!(expr)`, or a name and a term, `potential!(\"name\", expr)`";

/// Turns `potential!(..)`'s arguments into a [`PotentialCall`].
pub fn potential_call(args: MacroArgs) -> syn::Result<PotentialCall> {
    let call_tokens = args.call;
    let mut items = args.args;
    match items.len() {
        1 => {
            if let Some(MacroArg::Positional(value)) = items.pop() {
                if string_literal(&value).is_none() {
                    return Ok(PotentialCall { name: None, value });
                }
            }
        }
        2 => {
            let value = items.pop();
            let name = items.pop();
            if let (Some(MacroArg::Positional(name)), Some(MacroArg::Positional(value))) =
                (name, value)
            {
                if let Some(name) = string_literal(&name) {
                    return Ok(PotentialCall {
                        name: Some(non_empty(name)?),
                        value,
                    });
                }
                return Err(syn::Error::new_spanned(
                    name,
                    "the name must be a string literal",
                ));
            }
        }
        _ => {}
    }
    Err(syn::Error::new_spanned(call_tokens, POTENTIAL_FORMS))
}

fn name_literal(option: &NamedArg) -> syn::Result<LitStr> {
    match string_literal(&option.value) {
        Some(name) => non_empty(name),
        None => Err(syn::Error::new_spanned(
            &option.value,
            "name must be a string literal, like `name = \"mu\"`",
        )),
    }
}

fn string_literal(expr: &Expr) -> Option<LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(name),
            ..
        }) => Some(name.clone()),
        Expr::Group(group) => string_literal(&group.expr),
        _ => None,
    }
}

fn non_empty(name: LitStr) -> syn::Result<LitStr> {
    if name.value().is_empty() {
        Err(syn::Error::new(
            name.span(),
            "a variable's name cannot be empty",
        ))
    } else {
        Ok(name)
    }
}

/// Why a macro call may run more than once per model evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repetition {
    /// Inside the body of a `for`, `while` or `loop`.
    Loop,
    /// Inside a closure.
    Closure,
}

/// A variable's name and the tokens it came from (for spanning a duplicate-name error).
pub struct NameSite {
    /// The name recorded in the trace.
    pub name: String,
    /// The tokens the name was taken from.
    pub tokens: TokenStream,
}

/// Decides a `sample!` variable's name: `name = ".."` if given, else the `let` binding; refuses
/// calls inside loops and closures that have no explicit name.
pub fn sample_name(
    call: &SampleCall,
    binding: Option<&Ident>,
    repetition: Option<Repetition>,
    call_tokens: &TokenStream,
) -> syn::Result<NameSite> {
    if let Some(name) = &call.name {
        return Ok(NameSite {
            name: name.value(),
            tokens: name.to_token_stream(),
        });
    }
    match repetition {
        Some(Repetition::Loop) => {
            return Err(syn::Error::new_spanned(
                call_tokens,
                "sample! inside a loop would create one variable per iteration; use `shape = n` to draw a vector, or give an explicit `name = \"...\"`",
            ))
        }
        Some(Repetition::Closure) => {
            return Err(syn::Error::new_spanned(
                call_tokens,
                "sample! inside a closure would create one variable per call; use `shape = n` to draw a vector, or give an explicit `name = \"...\"`",
            ))
        }
        None => {}
    }
    match binding {
        Some(ident) => Ok(NameSite {
            name: ident.unraw().to_string(),
            tokens: ident.to_token_stream(),
        }),
        None => Err(syn::Error::new_spanned(
            call_tokens,
            "sample! needs a name: bind it with `let x = sample!(..)` or add `name = \"...\"`",
        )),
    }
}

/// A `deterministic!` value's name: the variable's, or the explicit one.
pub fn deterministic_name(call: &DeterministicCall) -> NameSite {
    match call {
        DeterministicCall::Variable(ident) => NameSite {
            name: ident.unraw().to_string(),
            tokens: ident.to_token_stream(),
        },
        DeterministicCall::Named(name, _) => NameSite {
            name: name.value(),
            tokens: name.to_token_stream(),
        },
    }
}

/// A `potential!` term's name: the explicit one, or `potential_{count}` (then `count` goes up).
pub fn potential_name(
    call: &PotentialCall,
    count: &mut usize,
    call_tokens: &TokenStream,
) -> NameSite {
    match &call.name {
        Some(name) => NameSite {
            name: name.value(),
            tokens: name.to_token_stream(),
        },
        None => {
            let name = format!("potential_{count}");
            *count += 1;
            NameSite {
                name,
                tokens: call_tokens.clone(),
            }
        }
    }
}

/// Decides an `observe!` term's name: `name = ".."` if given, else the data's variable or field.
pub fn observe_name(call: &ObserveCall) -> syn::Result<NameSite> {
    if let Some(name) = &call.name {
        return Ok(NameSite {
            name: name.value(),
            tokens: name.to_token_stream(),
        });
    }
    match data_ident(&call.data) {
        Some(ident) => Ok(NameSite { name: ident.unraw().to_string(), tokens: call.data.to_token_stream() }),
        None => Err(syn::Error::new_spanned(
            &call.data,
            "observe! cannot take a name from this expression: pass the data as a variable (`observe!(DIST, y)`) or add `name = \"...\"` as a third argument",
        )),
    }
}

/// The identifier naming observed data: `y`, `&y`, `self.y`, `data.y`, `&data.y`.
fn data_ident(data: &Expr) -> Option<Ident> {
    match data {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident().cloned(),
        Expr::Reference(reference) => data_ident(&reference.expr),
        Expr::Paren(paren) => data_ident(&paren.expr),
        Expr::Group(group) => data_ident(&group.expr),
        Expr::Field(field) => match &field.member {
            Member::Named(ident) => Some(ident.clone()),
            Member::Unnamed(_) => None,
        },
        _ => None,
    }
}

/// The names used so far in one model; a second use of a name is an error on its tokens.
#[derive(Default)]
pub struct UniqueNames {
    seen: HashSet<String>,
}

impl UniqueNames {
    /// Records `site`, or reports that its name is already taken.
    pub fn insert(&mut self, site: &NameSite) -> syn::Result<()> {
        if !self.seen.insert(site.name.clone()) {
            return Err(syn::Error::new_spanned(
                &site.tokens,
                format!(
                    "duplicate variable name `{}`: each sample!, observe!, deterministic! and potential! in a model needs its own name",
                    site.name
                ),
            ));
        }
        Ok(())
    }
}
