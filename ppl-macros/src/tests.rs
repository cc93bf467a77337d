//! Unit tests: expansions and diagnostics checked on token streams, without a compiler.

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::{model_attribute, real_fn_attribute};

/// The output of `#[model]` on `src`, which must always be syntactically valid Rust.
fn expand_model(src: &str) -> syn::File {
    expand_model_with_args("", src)
}

fn expand_model_with_args(args: &str, src: &str) -> syn::File {
    let args: TokenStream = args.parse().expect("test attribute arguments tokenize");
    let input: TokenStream = src.parse().expect("test input tokenizes");
    let output = model_attribute(args, input);
    syn::parse2(output.clone())
        .unwrap_or_else(|error| panic!("output does not parse ({error}):\n{output}"))
}

fn expand_real_fn(src: &str) -> syn::File {
    let output = real_fn_attribute(
        TokenStream::new(),
        src.parse().expect("test input tokenizes"),
    );
    syn::parse2(output.clone())
        .unwrap_or_else(|error| panic!("output does not parse ({error}):\n{output}"))
}

/// The messages of the `compile_error!`s in `file`.
fn errors(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(item)
                if item
                    .mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "compile_error") =>
            {
                Some(
                    item.mac
                        .parse_body::<syn::LitStr>()
                        .expect("compile_error! holds a string")
                        .value(),
                )
            }
            _ => None,
        })
        .collect()
}

/// `file` as one string without whitespace, so expectations can be written as ordinary code.
fn text(file: &syn::File) -> String {
    squash(&file.to_token_stream().to_string())
}

fn squash(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_contains(file: &syn::File, expected: &str) {
    let (haystack, needle) = (text(file), squash(expected));
    assert!(
        haystack.contains(&needle),
        "expected\n  {needle}\nin\n  {haystack}"
    );
}

fn single_error(src: &str) -> String {
    let file = expand_model(src);
    let errors = errors(&file);
    assert_eq!(
        errors.len(),
        1,
        "expected exactly one error, got {errors:?}"
    );
    assert_contains(&file, "pub fn model"); // the stub keeps the constructor
    errors.into_iter().next().unwrap_or_default()
}

const EIGHT_SCHOOLS: &str = r#"
pub fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfCauchy::new(5.0));
    let theta_raw = sample!(Normal::new(0.0, 1.0), shape = y.len());
    let theta: Vec<Real> = theta_raw.iter().map(|t| mu + tau * *t).collect();
    deterministic!(theta);
    observe!(Normal::new(&theta, sigma), y);
}
"#;

#[test]
fn eight_schools_expands_to_a_module_with_template_struct_and_constructor() {
    let file = expand_model(EIGHT_SCHOOLS);
    assert!(errors(&file).is_empty());
    assert_contains(&file, "pub mod eight_schools");
    assert_contains(&file, "use super::*;");
    assert_contains(
        &file,
        "pub fn template<Real: ::ppl::Real, __C: ::ppl::Context<Real>>(__ctx: &mut __C, y: &[f64], sigma: &[f64])",
    );
    assert_contains(&file, "f64: ::core::ops::Add<Real, Output = Real>");
    assert_contains(&file, "f64: ::core::ops::Add<f64, Output = f64>");
    assert_contains(
        &file,
        r#"let mu = ::ppl::__private::sample(&mut *__ctx, "mu", Normal::new(0.0, 5.0), ::ppl::__private::NoShape, ::core::option::Option::None);"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::sample(&mut *__ctx, "theta_raw", Normal::new(0.0, 1.0), ::ppl::__private::Shape(y.len()), ::core::option::Option::None)"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::deterministic(&mut *__ctx, "theta", &theta);"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::observe(&mut *__ctx, "y", Normal::new(&theta, sigma), y);"#,
    );
    assert_contains(
        &file,
        "pub struct Template<'__a> { pub y: &'__a [f64], pub sigma: &'__a [f64],",
    );
    assert_contains(&file, "impl<'__a> ::ppl::ModelTemplate for Template<'__a>");
    assert_contains(&file, "type Output<Real: ::ppl::Real> = ();");
    assert_contains(
        &file,
        r#"fn name(&self) -> &'static str { "eight_schools" }"#,
    );
    assert_contains(
        &file,
        "template::<Real, __C>(__ctx, ::core::clone::Clone::clone(&self.y), ::core::clone::Clone::clone(&self.sigma))",
    );
    assert_contains(
        &file,
        "pub fn model<'__a>(y: &'__a [f64], sigma: &'__a [f64]) -> ::core::result::Result<::ppl::Model<Template<'__a>>, ::ppl::ModelError>",
    );
    assert_contains(
        &file,
        "::ppl::Model::new(Template { y, sigma, __marker: ::core::marker::PhantomData })",
    );
    assert!(
        !text(&file).contains("sample !"),
        "every macro is rewritten"
    );
}

#[test]
fn sample_names_come_from_the_binding_through_type_ascription_and_mut() {
    let file = expand_model(
        "fn m() { let x: Vec<Real> = sample!(Normal::new(0.0, 1.0), shape = 3); let mut r#z = ppl::sample!(D); }",
    );
    assert!(errors(&file).is_empty());
    assert_contains(
        &file,
        r#"let x: Vec<Real> = ::ppl::__private::sample(&mut *__ctx, "x","#,
    );
    assert_contains(&file, r#"::ppl::__private::Shape(3)"#);
    assert_contains(
        &file,
        r#"let mut r#z = ::ppl::__private::sample(&mut *__ctx, "z", D,"#,
    );
}

#[test]
fn sample_options_in_any_order() {
    let file = expand_model(
        r#"fn m() { let s = sample!(D, transform = T::new(), name = "sigma", shape = 2); }"#,
    );
    assert!(errors(&file).is_empty());
    assert_contains(
        &file,
        r#"::ppl::__private::sample(&mut *__ctx, "sigma", D, ::ppl::__private::Shape(2), ::core::option::Option::Some(T::new()))"#,
    );
}

#[test]
fn named_sample_is_allowed_in_loops_closures_and_expressions() {
    let file = expand_model(
        r#"fn m() {
            for i in 0..3 { let z = sample!(D, name = "z"); }
            let v: Vec<Real> = (0..2).map(|_| sample!(D, name = "w")).collect();
            let s = 1.0 + sample!(D, name = "e");
        }"#,
    );
    assert!(errors(&file).is_empty(), "{:?}", errors(&file));
    for name in ["z", "w", "e"] {
        assert_contains(
            &file,
            &format!(r#"::ppl::__private::sample(&mut *__ctx, "{name}", D,"#),
        );
    }
}

#[test]
fn rewriting_descends_into_blocks_matches_and_other_macros_but_not_nested_items() {
    let file = expand_model(
        r#"fn m(k: usize) {
            let a = { let inner = sample!(D); inner };
            match k { 0 => observe!(D, k), _ => { potential!(1.0) } }
            if k > 1 { deterministic!("twice", a * 2.0); }
            let v = vec![sample!(D, name = "in_vec")];
            fn helper() { let q = sample!(D); }
        }"#,
    );
    assert!(errors(&file).is_empty(), "{:?}", errors(&file));
    assert_contains(
        &file,
        r#"::ppl::__private::sample(&mut *__ctx, "inner", D,"#,
    );
    assert_contains(
        &file,
        r#"0 => ::ppl::__private::observe(&mut *__ctx, "k", D, k),"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::potential(&mut *__ctx, "potential_0", 1.0)"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::deterministic(&mut *__ctx, "twice", &(a * 2.0));"#,
    );
    assert_contains(
        &file,
        r#"vec![::ppl::__private::sample(&mut *__ctx, "in_vec", D,"#,
    );
    assert_contains(&file, "fn helper() { let q = sample!(D); }");
}

#[test]
fn braced_statement_macro_gets_a_semicolon() {
    let file = expand_model("fn m(y: &[f64]) { observe! { D, y } let a = 1.0; }");
    assert!(errors(&file).is_empty());
    assert_contains(
        &file,
        r#"::ppl::__private::observe(&mut *__ctx, "y", D, y); let a = 1.0;"#,
    );
}

#[test]
fn observe_names_come_from_the_data_or_the_name_option() {
    let file = expand_model(
        r#"fn m(data: &Data, y: &[f64], z: Vec<f64>) {
            observe!(D, &z);
            observe!(D, data.counts);
            observe!(D, &data.heights);
            observe!(D, y[0], name = "first");
        }"#,
    );
    assert!(errors(&file).is_empty(), "{:?}", errors(&file));
    assert_contains(
        &file,
        r#"::ppl::__private::observe(&mut *__ctx, "z", D, &z)"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::observe(&mut *__ctx, "counts", D, data.counts)"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::observe(&mut *__ctx, "heights", D, &data.heights)"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::observe(&mut *__ctx, "first", D, y[0])"#,
    );
}

#[test]
fn potentials_are_numbered_in_order_of_appearance() {
    let file =
        expand_model(r#"fn m() { potential!(1.0); potential!("prior", 2.0); potential!(3.0); }"#);
    assert!(errors(&file).is_empty());
    assert_contains(
        &file,
        r#"::ppl::__private::potential(&mut *__ctx, "potential_0", 1.0);"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::potential(&mut *__ctx, "prior", 2.0);"#,
    );
    assert_contains(
        &file,
        r#"::ppl::__private::potential(&mut *__ctx, "potential_1", 3.0);"#,
    );
}

#[test]
fn return_type_becomes_the_output() {
    let file = expand_model("fn m(n: usize) -> Vec<Real> { let x = sample!(D, shape = n); x }");
    assert!(errors(&file).is_empty());
    assert_contains(&file, "__ctx: &mut __C, n: usize) -> Vec<Real> where");
    assert_contains(&file, "type Output<Real: ::ppl::Real> = Vec<Real>;");
    assert_contains(&file, "pub struct Template<'__a> { pub n: usize,");
}

#[test]
fn elided_lifetimes_become_the_data_lifetime_only_in_struct_and_constructor() {
    let file = expand_model("fn m(mut a: &[&str], b: Wrapper<'_>, c: fn(&f64) -> f64) { }");
    assert!(errors(&file).is_empty());
    assert_contains(
        &file,
        "__ctx: &mut __C, mut a: &[&str], b: Wrapper<'_>, c: fn(&f64) -> f64)",
    );
    assert_contains(
        &file,
        "pub a: &'__a [&'__a str], pub b: Wrapper<'__a>, pub c: fn(&f64) -> f64,",
    );
    assert_contains(
        &file,
        "pub fn model<'__a>(a: &'__a [&'__a str], b: Wrapper<'__a>, c: fn(&f64) -> f64)",
    );
}

#[test]
fn doc_comments_and_visibility_go_to_the_module() {
    let file = expand_model("/// Eight schools.\npub(crate) fn m() {}");
    assert_contains(
        &file,
        r#"#[doc = " Eight schools."] #[allow(non_snake_case, non_camel_case_types)] pub(crate) mod m"#,
    );
}

#[test]
fn unnamed_sample_in_loop_or_closure_suggests_shape() {
    let message = single_error("fn m() { for i in 0..3 { let z = sample!(D); } }");
    assert!(
        message.contains(
            "sample! inside a loop would create one variable per iteration; use `shape = n`"
        ),
        "{message}"
    );
    let message = single_error("fn m() { while true { let z = sample!(D); } }");
    assert!(message.contains("inside a loop"), "{message}");
    let message =
        single_error("fn m() { let v: Vec<Real> = (0..3).map(|_| sample!(D)).collect(); }");
    assert!(message.contains("sample! inside a closure"), "{message}");
}

#[test]
fn sample_without_binding_or_name_is_an_error() {
    let message = single_error("fn m() { let s = 1.0 + sample!(D); }");
    assert_eq!(
        message,
        "sample! needs a name: bind it with `let x = sample!(..)` or add `name = \"...\"`"
    );
    let message = single_error("fn m() { let (a, b) = sample!(D); }");
    assert!(message.starts_with("sample! needs a name"), "{message}");
}

#[test]
fn option_errors() {
    let message = single_error("fn m() { let a = sample!(D, size = 3); }");
    assert_eq!(
        message,
        "unknown sample! option `size`: the options are `shape`, `name`, `transform`"
    );
    let message = single_error("fn m() { let a = sample!(D, shape = 3, shape = 4); }");
    assert_eq!(message, "duplicate sample! option `shape`");
    let message = single_error("fn m(n: &str) { let a = sample!(D, name = n); }");
    assert!(
        message.starts_with("name must be a string literal"),
        "{message}"
    );
    let message = single_error("fn m() { let a = sample!(); }");
    assert!(
        message.starts_with("sample! needs a distribution"),
        "{message}"
    );
    let message = single_error("fn m() { let a = sample!(shape = 3); }");
    assert!(
        message.starts_with("sample! needs a distribution before its options"),
        "{message}"
    );
    let message = single_error("fn m() { let a = sample!(D, E); }");
    assert!(
        message.starts_with("sample! takes one distribution followed by options"),
        "{message}"
    );
}

#[test]
fn duplicate_names_across_kinds_are_errors() {
    let message = single_error("fn m() { let mu = sample!(D); let mu = sample!(D); }");
    assert!(
        message.starts_with("duplicate variable name `mu`"),
        "{message}"
    );
    let message = single_error(r#"fn m(y: &[f64]) { let y = sample!(D); observe!(D, y); }"#);
    assert!(
        message.starts_with("duplicate variable name `y`"),
        "{message}"
    );
    let message = single_error(r#"fn m() { let potential_0 = sample!(D); potential!(1.0); }"#);
    assert!(
        message.starts_with("duplicate variable name `potential_0`"),
        "{message}"
    );
    let message = single_error(r#"fn m() { let a = sample!(D); deterministic!("a", 1.0); }"#);
    assert!(
        message.starts_with("duplicate variable name `a`"),
        "{message}"
    );
}

#[test]
fn observe_errors() {
    let arity = "observe! takes a distribution and the observed data: observe!(DIST, DATA)";
    assert_eq!(single_error("fn m() { observe!(D); }"), arity);
    assert_eq!(
        single_error("fn m(y: &[f64]) { observe!(D, y, z); }"),
        arity
    );
    assert_eq!(
        single_error(r#"fn m(y: &[f64]) { observe!(D, y, name = "a", name = "b"); }"#),
        arity
    );
    assert!(single_error(r#"fn m(y: &[f64]) { observe!(D, y, shape = 3); }"#).starts_with(arity));
    assert!(
        single_error("fn m(y: &[f64]) { observe!(D, y, name = y); }")
            .starts_with("name must be a string literal")
    );
    assert!(single_error("fn m(y: &[f64]) { observe!(D, y[0]); }")
        .starts_with("observe! cannot take a name"));
}

#[test]
fn deterministic_and_potential_errors() {
    assert!(single_error("fn m() { deterministic!(a.b); }")
        .starts_with("deterministic! takes a variable"));
    assert!(
        single_error("fn m() { deterministic!(); }").starts_with("deterministic! takes a variable")
    );
    assert!(single_error("fn m() { deterministic!(n, 1.0); }")
        .starts_with("the name must be a string literal"));
    assert!(
        single_error("fn m() { potential!(); }").starts_with("potential! takes a log-density term")
    );
    assert!(single_error(r#"fn m() { potential!("p"); }"#)
        .starts_with("potential! takes a log-density term"));
}

#[test]
fn several_mistakes_are_all_reported() {
    let file = expand_model(
        "fn m() { let a = sample!(D, size = 1); for i in 0..2 { let b = sample!(D); } }",
    );
    assert_eq!(errors(&file).len(), 2);
}

#[test]
fn signature_errors_give_one_error_and_a_usable_stub() {
    let cases = [
        (
            "async fn m() {}",
            "#[model] cannot be applied to an async fn",
        ),
        (
            "const fn m() {}",
            "#[model] cannot be applied to a const fn",
        ),
        (
            "unsafe fn m() {}",
            "#[model] cannot be applied to an unsafe fn",
        ),
        (
            r#"extern "C" fn m() {}"#,
            "#[model] cannot be applied to an extern fn",
        ),
        (
            "fn m((a, b): (f64, f64)) {}",
            "#[model] arguments must be plain identifiers",
        ),
        (
            "fn m(y: &mut [f64]) {}",
            "#[model] arguments cannot be `&mut`",
        ),
    ];
    for (src, expected) in cases {
        let message = single_error(src);
        assert!(message.starts_with(expected), "{src}: {message}");
    }
    let file = expand_model("fn m(y: &mut [f64]) {}");
    assert_contains(&file, "pub fn model<'__a>(y: &'__a [f64])");
}

#[test]
fn unusable_signatures_fall_back_to_the_plain_fn() {
    let cases = [
        (
            "fn m(&self, y: &[f64]) -> Real { 1.0 }",
            "#[model] cannot be applied to a method with `self`",
        ),
        (
            "fn m<T>(y: T) {}",
            "#[model] functions cannot have generic parameters",
        ),
        (
            "fn m(y: impl Fn()) {}",
            "#[model] arguments cannot be `impl Trait`",
        ),
    ];
    for (src, expected) in cases {
        let file = expand_model(src);
        let errors = errors(&file);
        assert_eq!(errors.len(), 1, "{src}: {errors:?}");
        assert!(errors[0].starts_with(expected), "{src}: {errors:?}");
        assert_contains(&file, "fn m<Real: ::ppl::Real");
        assert_contains(&file, "::core::unimplemented!");
    }
}

#[test]
fn attribute_arguments_and_non_fn_items_are_errors() {
    let file = expand_model_with_args("foo", "fn m() {}");
    assert_eq!(errors(&file), ["#[model] takes no arguments"]);
    let file = expand_model("struct Data { y: Vec<f64> }");
    assert_eq!(errors(&file), ["#[model] can only be applied to a fn"]);
    assert_contains(&file, "struct Data { y: Vec<f64> }");
}

#[test]
fn real_fn_adds_the_scalar_generic_after_lifetimes() {
    let file = expand_real_fn("fn inv_logit(v: Real) -> Real { 1.0 / (1.0 + (-v).exp()) }");
    assert!(errors(&file).is_empty());
    assert_contains(&file, "fn inv_logit<Real: ::ppl::Real>(v: Real) -> Real where f64: ::core::ops::Add<Real, Output = Real>");
    assert_contains(&file, "+ ::core::ops::Div<f64, Output = f64> { 1.0 /");
    let file =
        expand_real_fn("pub fn f<'a, T: Copy>(x: &'a [T], v: Real) -> Real where T: Clone { v }");
    assert_contains(&file, "pub fn f<'a, Real: ::ppl::Real, T: Copy>(x: &'a [T], v: Real) -> Real where T: Clone, f64:");
}

#[test]
fn real_fn_errors() {
    let file = expand_real_fn("async fn f(v: Real) -> Real { v }");
    assert_eq!(
        errors(&file),
        ["#[real_fn] cannot be applied to an async fn"]
    );
    let file = expand_real_fn("fn f(&self, v: Real) -> Real { v }");
    assert_eq!(errors(&file).len(), 1);
    assert!(errors(&file)[0].starts_with("#[real_fn] cannot be applied to a method with `self`"));
    let file = expand_real_fn("enum E { A }");
    assert_eq!(errors(&file), ["#[real_fn] can only be applied to a fn"]);
}
