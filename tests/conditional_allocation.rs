//! The conditional log-density a compound step evaluates (the joint density at the
//! proposed block values, rest fixed) allocates nothing in the runtime: counted with a
//! global allocator, per thread.

use ppl::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// A change point with the observations split at it: scalar variables only and a body
/// that allocates nothing itself, with more than 16 log-density terms.
#[model]
fn split_change_point(counts: &[i64]) {
    let n = counts.len() as i64;
    let s = sample!(DiscreteUniform::new(1, n - 1));
    let early = sample!(Exponential::new(1.0));
    let late = sample!(Exponential::new(1.0));
    let cut = s as usize;
    observe!(Poisson::new(early), &counts[..cut], name = "early_counts");
    observe!(Poisson::new(late), &counts[cut..], name = "late_counts");
    // Many small terms (a plain-value evaluation keeps no list of them).
    potential!("small_0", 1e-3 * (early - late));
    potential!("small_1", 2e-3 * (early - late));
    potential!("small_2", 3e-3 * (early - late));
    potential!("small_3", 4e-3 * (early - late));
    potential!("small_4", 5e-3 * (early - late));
    potential!("small_5", 6e-3 * (early - late));
    potential!("small_6", 7e-3 * (early - late));
    potential!("small_7", 8e-3 * (early - late));
    potential!("small_8", 9e-3 * (early - late));
    potential!("small_9", 10e-3 * (early - late));
    potential!("small_10", 11e-3 * (early - late));
    potential!("small_11", 12e-3 * (early - late));
    potential!("small_12", 13e-3 * (early - late));
    potential!("small_13", 14e-3 * (early - late));
    potential!("small_14", 15e-3 * (early - late));
    potential!("small_15", 16e-3 * (early - late));
    potential!("small_16", 17e-3 * (early - late));
    potential!("small_17", 18e-3 * (early - late));
}

#[test]
fn evaluating_a_conditional_allocates_nothing() {
    let counts = [4, 5, 4, 1, 0, 4, 3, 4, 0, 6, 3, 3, 4, 0, 2, 1, 1, 0, 1, 0];
    let model = split_change_point::model(&counts).unwrap();
    let u = [0.3, -0.2];
    let mut z = [7_i64];
    // Warm caches (the ln-factorial table) once.
    let first = model.logp_joint(&u, &z).unwrap();
    assert!(first.is_finite());
    let before = allocations();
    let mut total = 0.0;
    for s in 1..counts.len() as i64 {
        z[0] = s;
        total += model.logp_joint(&u, &z).unwrap();
    }
    let used = allocations() - before;
    assert!(total.is_finite());
    assert_eq!(used, 0, "{used} allocations in 19 conditional evaluations");
}

/// A vector of 40 binary assignments: the only allocation per evaluation is the
/// `Vec<i64>` the body receives (the runtime's value buffer becomes that `Vec`).
#[model]
fn assignments(y: &[f64]) {
    let w = sample!(Beta::new(2.0, 2.0));
    let z = sample!(Bernoulli::new(w), shape = y.len());
    let shift: f64 = z.iter().map(|&k| k as f64).sum::<f64>() / y.len() as f64;
    observe!(Normal::new(shift, 1.0), y);
}

#[test]
fn a_vector_variable_allocates_only_the_vec_the_body_receives() {
    let y = [0.5; 40];
    let model = assignments::model(&y).unwrap();
    let u = [0.1];
    let mut z = [0_i64; 40];
    assert!(model.logp_joint(&u, &z).unwrap().is_finite());
    let before = allocations();
    for i in 0..40 {
        z[i] = 1;
        assert!(model.logp_joint(&u, &z).unwrap().is_finite());
    }
    let used = allocations() - before;
    assert_eq!(used, 40, "{used} allocations in 40 evaluations");
}
