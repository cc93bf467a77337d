//! Compile-time behaviour of `#[model]` and `#[real_fn]`: every diagnostic is pinned by a
//! `.stderr` snapshot in `tests/ui/fail`, and the models in `tests/ui/pass` must compile and run.
//!
//! Regenerate snapshots with `TRYBUILD=overwrite cargo test --test macro_ui`, then read each one.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
