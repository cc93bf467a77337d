//! The reverse-mode tape: `Var`, the thread-local node store, and the backward pass.
//!
//! A [`Var`] is a value plus the index of the tape node that produced it; index 0 is
//! reserved for constants, which record nothing. Nodes are fixed-size (two parents with
//! their partials); vectorised densities and other many-input operations record one *wide*
//! node whose parents and partials live in a side store. Operations with many outputs
//! (a Cholesky factorisation) record one *multi-output* node followed by one passive node
//! per output; its reverse step is a function that maps the outputs' adjoints to its
//! inputs' adjoints (Stan's multi-output vari). The tape keeps its capacity between
//! evaluations, so a gradient evaluation allocates nothing once warm.

use crate::param::{Elem, Operand, Param};
use crate::scalar::{EvalMode, Real};
use crate::special::Derivs;
use std::cell::{RefCell, UnsafeCell};
use std::fmt;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A scalar recorded on the thread's tape.
///
/// Start a recording with [`reset`] (on each thread, before its first leaf), create the
/// independent variables with [`Var::leaf`], compute with ordinary arithmetic and the
/// [`Real`] methods, then run [`gradient`] from the result:
///
/// ```
/// use ppl_core::tape::{self, Var};
/// use ppl_core::Real;
///
/// tape::reset();
/// let (x, y) = (Var::leaf(2.0), Var::leaf(3.0));
/// let f = x * y + x.exp() / y - 4.0 * y.ln();
/// let mut grad = [0.0; 2];
/// tape::gradient(f, &[x, y], &mut grad);
///
/// // ∂f/∂x = y + eˣ/y, ∂f/∂y = x − eˣ/y² − 4/y.
/// let e2 = 2.0_f64.exp();
/// assert!((f.value() - (6.0 + e2 / 3.0 - 4.0 * 3.0_f64.ln())).abs() < 1e-12);
/// assert!((grad[0] - (3.0 + e2 / 3.0)).abs() < 1e-12);
/// assert!((grad[1] - (2.0 - e2 / 9.0 - 4.0 / 3.0)).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Var {
    val: f64,
    idx: u32,
}

/// Marks a wide node: `rhs` is the start of its edges and `d_lhs` holds their count
/// (as bits: `f64::from_bits(count)`).
const WIDE: u32 = u32::MAX;
/// Marks a multi-output node: `rhs` indexes `Tape::multi`.
const MULTI: u32 = u32::MAX - 1;

/// What a multi-output node's reverse step receives (see [`Var::multi_output`] for an
/// example).
#[derive(Debug)]
pub struct MultiOutput<'a> {
    /// The small integer the operation recorded (e.g. a matrix dimension).
    pub meta: usize,
    /// The values the operation kept for its reverse step.
    pub data: &'a [f64],
    /// The adjoints of the outputs, in the order they were recorded.
    pub output_adjoints: &'a [f64],
}

/// A multi-output node's reverse step: writes `∂L/∂input_k` (given the outputs'
/// adjoints) into `input_adjoints[k]`, which arrives zeroed; `scratch` is reusable
/// working memory.
pub type MultiBackward = fn(&MultiOutput<'_>, input_adjoints: &mut [f64], scratch: &mut Vec<f64>);

#[derive(Clone, Copy)]
struct MultiNode {
    backward: MultiBackward,
    meta: usize,
    inputs: (u32, u32),
    data: (u32, u32),
    first_output: u32,
    outputs: u32,
}

#[derive(Clone, Copy)]
struct Node {
    lhs: u32,
    rhs: u32,
    d_lhs: f64,
    d_rhs: f64,
}

struct Tape {
    edge_index: Vec<u32>,
    edge_partial: Vec<f64>,
    adjoints: Vec<f64>,
    multi: Vec<MultiNode>,
    multi_inputs: Vec<u32>,
    multi_data: Vec<f64>,
    scratch: Vec<f64>,
    input_adjoints: Vec<f64>,
}

impl Tape {
    const fn new() -> Self {
        Tape {
            edge_index: Vec::new(),
            edge_partial: Vec::new(),
            adjoints: Vec::new(),
            multi: Vec::new(),
            multi_inputs: Vec::new(),
            multi_data: Vec::new(),
            scratch: Vec::new(),
            input_adjoints: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.edge_index.clear();
        self.edge_partial.clear();
        self.multi.clear();
        self.multi_inputs.clear();
        self.multi_data.clear();
        with_nodes(|nodes| {
            nodes.clear();
            // Slot 0: the constant sink. Adjoints flowing into it are ignored.
            nodes.push(PASSIVE);
        });
    }
}

/// A leaf, or an output slot of a multi-output node: passes nothing on.
const PASSIVE: Node = Node {
    lhs: 0,
    rhs: 0,
    d_lhs: 0.0,
    d_rhs: 0.0,
};

thread_local! {
    static TAPE: RefCell<Tape> = const { RefCell::new(Tape::new()) };
    /// The nodes, apart from the rest of the tape so that recording a scalar operation
    /// touches no borrow flag (a `RefCell` flag is written twice per node, and every
    /// node's write waited on the previous node's).
    static NODES: UnsafeCell<Vec<Node>> = const { UnsafeCell::new(Vec::new()) };
}

/// Runs `f` on this thread's nodes.
///
/// Every caller passes a closure that only touches the vector (no callbacks, no other
/// tape access that could reach `NODES`), so the mutable reference is never aliased:
/// this function is private to the module and is the only way to reach `NODES`.
#[inline(always)]
fn with_nodes<T>(f: impl FnOnce(&mut Vec<Node>) -> T) -> T {
    // SAFETY: see above; the thread-local is not shared between threads, and no
    // closure passed here re-enters `with_nodes`.
    NODES.with(|n| f(unsafe { &mut *n.get() }))
}

/// Appends a node and returns its index.
#[inline(always)]
fn push_node(node: Node) -> u32 {
    with_nodes(|nodes| {
        let idx = nodes.len() as u32;
        nodes.push(node);
        idx
    })
}

/// Puts the constant sink in slot 0 of a thread's first recording, should it start
/// without [`reset`]. Every recorded node descends from a leaf, so the leaf constructors
/// are the only place this is needed.
#[inline]
fn reserve_constant_slot(nodes: &mut Vec<Node>) {
    if nodes.is_empty() {
        nodes.push(PASSIVE);
    }
}

#[inline]
fn with_tape<T>(f: impl FnOnce(&mut Tape) -> T) -> T {
    TAPE.with(|t| match t.try_borrow_mut() {
        Ok(mut tape) => f(&mut tape),
        Err(_) => nested_recording(),
    })
}

/// The panic of a node with edges recorded inside another's [`Var::wide_with`] closure
/// (the same check `RefCell::borrow_mut` makes, with a message that says what to do).
#[cold]
#[inline(never)]
fn nested_recording() -> ! {
    panic!(
        "a tape node with edges (a vectorised density, `Var::wide_with`, a multi-output \
         node) was recorded while another node was filling its edges: compute plain f64 \
         values inside `wide_with`'s closure"
    )
}

/// Starts a new recording on this thread's tape, discarding the previous one.
///
/// Every `Var` from an earlier recording is invalid afterwards.
///
/// ```
/// use ppl_core::tape::{self, Var};
///
/// tape::reset();
/// assert_eq!(tape::len(), 1); // only slot 0, where constants live
/// let x = Var::leaf(2.0);
/// let _ = x * x;
/// assert_eq!(tape::len(), 3);
/// tape::reset();
/// assert_eq!(tape::len(), 1);
/// ```
pub fn reset() {
    with_tape(|t| t.clear());
}

/// Number of nodes in the current recording (for tests and benchmarks).
///
/// ```
/// use ppl_core::tape::{self, Var};
///
/// tape::reset();
/// let (x, y) = (Var::leaf(1.0), Var::leaf(2.0));
/// let before = tape::len();
/// let _ = x * y + 1.0; // two operations, two nodes
/// assert_eq!(tape::len(), before + 2);
/// let _ = Var::constant(3.0) * 2.0; // constants record nothing
/// assert_eq!(tape::len(), before + 2);
/// ```
pub fn len() -> usize {
    with_nodes(|nodes| nodes.len())
}

impl Var {
    /// A constant: records nothing and receives no gradient.
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    ///
    /// tape::reset();
    /// let (x, c) = (Var::leaf(3.0), Var::constant(2.0));
    /// assert_eq!(c.index(), 0);
    /// let mut grad = [0.0; 2];
    /// tape::gradient(x * c, &[x, c], &mut grad);
    /// assert_eq!(grad, [2.0, 0.0]); // a constant receives no gradient
    /// ```
    #[inline]
    pub const fn constant(val: f64) -> Var {
        Var { val, idx: 0 }
    }

    /// A new independent variable (a leaf of the tape).
    ///
    /// [`reset`] starts a new recording (discarding the thread's previous one); a thread's
    /// first recording may also start without it.
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    /// use ppl_core::Real;
    ///
    /// tape::reset();
    /// let x = Var::leaf(1.5);
    /// assert_eq!(x.value(), 1.5);
    /// assert!(x.index() > 0);
    /// let mut grad = [0.0];
    /// tape::gradient(x, &[x], &mut grad);
    /// assert_eq!(grad, [1.0]); // ∂x/∂x
    /// ```
    pub fn leaf(val: f64) -> Var {
        with_nodes(reserve_constant_slot);
        Var {
            val,
            idx: push_node(PASSIVE),
        }
    }

    /// Appends one new leaf per value to `out`, in one access to the tape.
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    ///
    /// tape::reset();
    /// let mut xs = vec![Var::constant(1.0)]; // kept: the leaves are appended
    /// Var::leaves(&[2.0, 3.0], &mut xs);
    /// assert_eq!(xs.len(), 3);
    /// assert_eq!(xs[2].index(), xs[1].index() + 1); // consecutive slots
    /// let mut grad = [0.0; 3];
    /// tape::gradient(xs[1] * xs[2], &xs, &mut grad);
    /// assert_eq!(grad, [0.0, 3.0, 2.0]);
    /// ```
    pub fn leaves(values: &[f64], out: &mut Vec<Var>) {
        let first = with_nodes(|nodes| {
            reserve_constant_slot(nodes);
            let first = nodes.len() as u32;
            nodes.resize(nodes.len() + values.len(), PASSIVE);
            first
        });
        out.extend(
            values
                .iter()
                .zip(first..)
                .map(|(v, idx)| Var { val: *v, idx }),
        );
    }

    /// The tape index (0 for constants).
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    ///
    /// tape::reset();
    /// let x = Var::leaf(2.0);
    /// assert_eq!(Var::constant(2.0).index(), 0);
    /// assert_eq!((x * 3.0).index(), x.index() + 1); // the next node
    /// assert_eq!((Var::constant(2.0) * 3.0).index(), 0); // nothing recorded
    /// ```
    #[inline]
    pub fn index(&self) -> u32 {
        self.idx
    }

    #[inline]
    fn unary(val: f64, a: Var, da: f64) -> Var {
        if a.idx == 0 {
            return Var::constant(val);
        }
        let idx = push_node(Node {
            lhs: a.idx,
            rhs: 0,
            d_lhs: da,
            d_rhs: 0.0,
        });
        Var { val, idx }
    }

    #[inline]
    fn binary(val: f64, a: Var, da: f64, b: Var, db: f64) -> Var {
        if a.idx == 0 && b.idx == 0 {
            return Var::constant(val);
        }
        // A constant operand goes on the right (slot 0): the sweep skips it.
        let node = if a.idx == 0 {
            Node {
                lhs: b.idx,
                rhs: 0,
                d_lhs: db,
                d_rhs: 0.0,
            }
        } else {
            Node {
                lhs: a.idx,
                rhs: b.idx,
                d_lhs: da,
                d_rhs: db,
            }
        };
        let idx = push_node(node);
        Var { val, idx }
    }

    /// Records one node with many parents: `value` and `∂value/∂parent` for each parent.
    /// Constant parents (index 0) are skipped.
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    /// tape::reset();
    /// let (x, y) = (Var::leaf(2.0), Var::leaf(5.0));
    /// // f = x·y with its partials given by hand: ∂f/∂x = y, ∂f/∂y = x.
    /// let f = Var::wide(10.0, [(x.index(), 5.0), (y.index(), 2.0)]);
    /// let mut grad = [0.0; 2];
    /// tape::gradient(f * f, &[x, y], &mut grad);
    /// assert_eq!(grad, [2.0 * 10.0 * 5.0, 2.0 * 10.0 * 2.0]); // chain rule through f²
    /// ```
    pub fn wide(value: f64, parents: impl IntoIterator<Item = (u32, f64)>) -> Var {
        with_tape(|t| {
            let start = t.edge_index.len();
            for (idx, d) in parents {
                if idx != 0 {
                    t.edge_index.push(idx);
                    t.edge_partial.push(d);
                }
            }
            let count = t.edge_index.len() - start;
            if count == 0 {
                return Var::constant(value);
            }
            let idx = push_node(Node {
                lhs: WIDE,
                rhs: start as u32,
                d_lhs: f64::from_bits(count as u64),
                d_rhs: 0.0,
            });
            Var { val: value, idx }
        })
    }

    /// Records one wide node whose edges are written by `fill` into the edge buffers
    /// (index, partial). Entries with index 0 may be written; they are harmless.
    ///
    /// `fill` returns the node's value; the partials it pushes are the node's derivatives
    /// with respect to its parents. The tape is borrowed while `fill` runs: recording
    /// another wide node inside it ([`Var::wide`], a `Sum` of `Var`s, a nested
    /// `wide_with`) panics. Here `f = Σ xᵢ²` is one node with partials `2xᵢ`:
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    /// use ppl_core::Real;
    ///
    /// tape::reset();
    /// let xs = [Var::leaf(1.0), Var::leaf(-2.0), Var::leaf(3.0)];
    /// let before = tape::len();
    /// let f = Var::wide_with(|w| {
    ///     let mut total = 0.0;
    ///     for x in &xs {
    ///         total += x.value() * x.value();
    ///         w.push(x.index(), 2.0 * x.value());
    ///     }
    ///     total
    /// });
    /// assert_eq!(tape::len(), before + 1); // one node, however many parents
    /// assert_eq!(f.value(), 14.0);
    /// let mut grad = [0.0; 3];
    /// tape::gradient(f, &xs, &mut grad);
    /// assert_eq!(grad, [2.0, -4.0, 6.0]);
    /// ```
    pub fn wide_with(fill: impl FnOnce(&mut EdgeWriter<'_>) -> f64) -> Var {
        with_tape(|t| {
            let start = t.edge_index.len();
            let value = {
                let mut w = EdgeWriter {
                    sink: Some((&mut t.edge_index, &mut t.edge_partial)),
                };
                fill(&mut w)
            };
            let count = t.edge_index.len() - start;
            if count == 0 {
                return Var::constant(value);
            }
            let idx = push_node(Node {
                lhs: WIDE,
                rhs: start as u32,
                d_lhs: f64::from_bits(count as u64),
                d_rhs: 0.0,
            });
            Var { val: value, idx }
        })
    }
}

impl Var {
    /// Records a multi-output operation: `inputs` are the tape slots of its arguments
    /// (constants' slot 0 allowed), `outputs` the number of values it produced, `data` and `meta`
    /// whatever its reverse step `backward` needs. Returns the tape slot of the first
    /// output (the others follow consecutively), or 0 when every input is a constant
    /// (nothing is recorded and the outputs are constants).
    ///
    /// Use [`Real::from_tape`] to turn the slots back into scalars.
    ///
    /// An operation with two outputs, `(a·b, a + b)`, whose reverse step maps the
    /// outputs' adjoints `(ā₀, ā₁)` to `(ā₀ b + ā₁, ā₀ a + ā₁)`:
    ///
    /// ```
    /// use ppl_core::tape::{self, MultiOutput, Var};
    /// use ppl_core::Real;
    ///
    /// fn backward(m: &MultiOutput<'_>, inputs: &mut [f64], _scratch: &mut Vec<f64>) {
    ///     let (a, b) = (m.data[0], m.data[1]);
    ///     let (g0, g1) = (m.output_adjoints[0], m.output_adjoints[1]);
    ///     inputs[0] = g0 * b + g1;
    ///     inputs[1] = g0 * a + g1;
    /// }
    ///
    /// tape::reset();
    /// let (a, b) = (Var::leaf(2.0), Var::leaf(5.0));
    /// let (av, bv) = (a.value(), b.value());
    /// let first = Var::multi_output([a.index(), b.index()], 2, &[av, bv], 0, backward);
    /// let prod = Var::from_tape(av * bv, first);
    /// let sum = Var::from_tape(av + bv, first + 1);
    /// let f = prod + 3.0 * sum; // f = ab + 3(a + b)
    /// let mut grad = [0.0; 2];
    /// tape::gradient(f, &[a, b], &mut grad);
    /// assert_eq!(f.value(), 31.0);
    /// assert_eq!(grad, [5.0 + 3.0, 2.0 + 3.0]);
    /// ```
    pub fn multi_output(
        inputs: impl IntoIterator<Item = u32>,
        outputs: usize,
        data: &[f64],
        meta: usize,
        backward: MultiBackward,
    ) -> u32 {
        Var::multi_output_with(
            inputs,
            outputs,
            |d| d.extend_from_slice(data),
            meta,
            backward,
        )
    }

    /// [`Var::multi_output`] with the reverse step's data appended by `data` straight
    /// into the tape's store (no intermediate buffer). `data` must not record
    /// operations.
    ///
    /// Outputs `(a², a³)`, with `a` kept for the reverse step:
    ///
    /// ```
    /// use ppl_core::tape::{self, MultiOutput, Var};
    /// use ppl_core::Real;
    ///
    /// fn backward(m: &MultiOutput<'_>, inputs: &mut [f64], _scratch: &mut Vec<f64>) {
    ///     let a = m.data[0];
    ///     inputs[0] = m.output_adjoints[0] * 2.0 * a + m.output_adjoints[1] * 3.0 * a * a;
    /// }
    ///
    /// tape::reset();
    /// let a = Var::leaf(2.0);
    /// let first = Var::multi_output_with([a.index()], 2, |d| d.push(a.value()), 0, backward);
    /// let (square, cube) = (Var::from_tape(4.0, first), Var::from_tape(8.0, first + 1));
    /// let mut grad = [0.0];
    /// tape::gradient(square + cube, &[a], &mut grad);
    /// assert_eq!(grad, [2.0 * 2.0 + 3.0 * 4.0]);
    /// // Constant inputs only: nothing is recorded, and the slot is 0.
    /// assert_eq!(Var::multi_output_with([0], 2, |_| {}, 0, backward), 0);
    /// ```
    pub fn multi_output_with(
        inputs: impl IntoIterator<Item = u32>,
        outputs: usize,
        data: impl FnOnce(&mut Vec<f64>),
        meta: usize,
        backward: MultiBackward,
    ) -> u32 {
        with_tape(|t| {
            let in_start = t.multi_inputs.len();
            let mut any = false;
            for i in inputs {
                any |= i != 0;
                t.multi_inputs.push(i);
            }
            if !any || outputs == 0 {
                t.multi_inputs.truncate(in_start);
                return 0;
            }
            let data_start = t.multi_data.len();
            data(&mut t.multi_data);
            let node_index = with_nodes(|nodes| nodes.len() as u32);
            t.multi.push(MultiNode {
                backward,
                meta,
                inputs: (in_start as u32, t.multi_inputs.len() as u32),
                data: (data_start as u32, t.multi_data.len() as u32),
                first_output: node_index + 1,
                outputs: outputs as u32,
            });
            let multi = Node {
                lhs: MULTI,
                rhs: (t.multi.len() - 1) as u32,
                d_lhs: 0.0,
                d_rhs: 0.0,
            };
            with_nodes(|nodes| {
                nodes.push(multi);
                nodes.resize(nodes.len() + outputs, PASSIVE);
            });
            node_index + 1
        })
    }

    /// A tape scalar from its value and slot (see [`Var::multi_output`]).
    #[inline]
    pub(crate) fn from_slot(val: f64, idx: u32) -> Var {
        Var { val, idx }
    }
}

/// Appends the edges of a wide node being recorded (or discards them when no tape
/// is recording, for value-only evaluation).
///
/// A writer is handed out by [`Var::wide_with`] (and [`Real::record_wide`]). Here a
/// dot product `Σ wᵢ xᵢ` with data weights records its partials `wᵢ` in one call:
///
/// ```
/// use ppl_core::tape::{self, EdgeWriter, Var};
/// use ppl_core::Real;
///
/// let w = [0.5, -1.0, 2.0];
/// let dot = |xs: &[Var], e: &mut EdgeWriter<'_>| {
///     e.extend(xs, &w);
///     xs.iter().zip(&w).map(|(x, wi)| x.value() * wi).sum::<f64>()
/// };
/// tape::reset();
/// let mut xs = Vec::new();
/// Var::leaves(&[4.0, 1.0, 3.0], &mut xs);
/// let f = Var::wide_with(|e| dot(&xs, e));
/// let mut grad = [0.0; 3];
/// tape::gradient(f, &xs, &mut grad);
/// assert_eq!((f.value(), grad), (7.0, w));
/// // Without a recording, the same code computes the value alone.
/// assert_eq!(EdgeWriter::discarding(|e| dot(&xs, e)), 7.0);
/// ```
pub struct EdgeWriter<'t> {
    sink: Option<(&'t mut Vec<u32>, &'t mut Vec<f64>)>,
}

impl EdgeWriter<'_> {
    /// Runs `fill` with a writer that drops every edge and returns its value.
    ///
    /// ```
    /// use ppl_core::tape::EdgeWriter;
    ///
    /// let value = EdgeWriter::discarding(|w| {
    ///     w.push(5, 1.0); // dropped: no node is being recorded
    ///     2.5
    /// });
    /// assert_eq!(value, 2.5);
    /// ```
    pub fn discarding(fill: impl FnOnce(&mut EdgeWriter<'_>) -> f64) -> f64 {
        fill(&mut EdgeWriter { sink: None })
    }

    /// Adds the partial derivative with respect to the tape slot `idx` (0 is ignored).
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    ///
    /// tape::reset();
    /// let x = Var::leaf(3.0);
    /// let f = Var::wide_with(|w| {
    ///     w.push(x.index(), 2.0);
    ///     w.push(0, 100.0); // a constant: ignored
    ///     6.0
    /// });
    /// let mut grad = [0.0];
    /// tape::gradient(f, &[x], &mut grad);
    /// assert_eq!(grad, [2.0]);
    /// // With constants only, no edge is written and the result is a constant.
    /// let c = Var::wide_with(|w| {
    ///     w.push(0, 1.0);
    ///     1.0
    /// });
    /// assert_eq!(c.index(), 0);
    /// ```
    #[inline]
    pub fn push(&mut self, idx: u32, partial: f64) {
        if let Some((index, partials)) = &mut self.sink {
            if idx != 0 {
                index.push(idx);
                partials.push(partial);
            }
        }
    }

    /// Adds one edge per element: `partials[i]` with respect to `vars[i]`, for the
    /// elements both slices have (a longer scratch buffer of partials may be passed).
    /// Constant elements (index 0) feed the ignored constant slot, which is harmless.
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    ///
    /// tape::reset();
    /// let xs = [Var::leaf(1.0), Var::constant(5.0), Var::leaf(2.0)];
    /// let f = Var::wide_with(|w| {
    ///     w.extend(&xs, &[0.5, 7.0, -1.0]); // the constant's partial goes nowhere
    ///     0.0
    /// });
    /// let mut grad = [0.0; 3];
    /// tape::gradient(f, &xs, &mut grad);
    /// assert_eq!(grad, [0.5, 0.0, -1.0]);
    /// ```
    #[inline]
    pub fn extend<R: Real>(&mut self, vars: &[R], partials: &[f64]) {
        if let Some((index, p)) = &mut self.sink {
            let n = vars.len().min(partials.len());
            index.extend(vars[..n].iter().map(|v| v.tape_index()));
            p.extend_from_slice(&partials[..n]);
        }
    }

    /// Like [`EdgeWriter::extend`] with every partial multiplied by `scale`.
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    ///
    /// tape::reset();
    /// let xs = [Var::leaf(1.0), Var::leaf(2.0)];
    /// let f = Var::wide_with(|w| {
    ///     w.extend_scaled(&xs, &[1.0, -3.0], 0.5);
    ///     0.0
    /// });
    /// let mut grad = [0.0; 2];
    /// tape::gradient(f, &xs, &mut grad);
    /// assert_eq!(grad, [0.5, -1.5]);
    /// ```
    #[inline]
    pub fn extend_scaled<R: Real>(&mut self, vars: &[R], partials: &[f64], scale: f64) {
        if let Some((index, p)) = &mut self.sink {
            let n = vars.len().min(partials.len());
            index.extend(vars[..n].iter().map(|v| v.tape_index()));
            p.extend(partials[..n].iter().map(|d| d * scale));
        }
    }

    /// Reserves room for `n` more edges.
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    /// use ppl_core::Real;
    ///
    /// tape::reset();
    /// let xs: Vec<Var> = (0..100).map(|i| Var::leaf(i as f64)).collect();
    /// let f = Var::wide_with(|w| {
    ///     w.reserve(xs.len()); // room for the 100 edges at once
    ///     for x in &xs {
    ///         w.push(x.index(), 1.0);
    ///     }
    ///     xs.iter().map(|x| x.value()).sum()
    /// });
    /// assert_eq!(f.value(), 4950.0);
    /// let mut grad = vec![0.0; 100];
    /// tape::gradient(f, &xs, &mut grad);
    /// assert!(grad.iter().all(|&g| g == 1.0));
    /// ```
    pub fn reserve(&mut self, n: usize) {
        if let Some((index, partials)) = &mut self.sink {
            index.reserve(n);
            partials.reserve(n);
        }
    }
}

/// Runs the backward pass from `output` and writes `∂output/∂leaf` for each leaf.
///
/// A leaf the output does not depend on gets 0. Each call starts from fresh adjoints, so
/// one recording can be differentiated again, with other leaves.
///
/// # Panics
///
/// If `leaves` and `grad` differ in length, or if `output` lies past the end of the current
/// recording (a `Var` from before the last [`reset`]). A `Var` from an earlier recording
/// is a logic error that is not always detected: one whose slot also exists in the
/// current recording is read as that slot.
///
/// ```
/// use ppl_core::tape::{self, Var};
///
/// tape::reset();
/// let (x, y, unused) = (Var::leaf(2.0), Var::leaf(3.0), Var::leaf(9.0));
/// let f = x * x * y;
/// let mut grad = [0.0; 3];
/// tape::gradient(f, &[x, y, unused], &mut grad);
/// assert_eq!(grad, [12.0, 4.0, 0.0]);
/// let mut dy = [0.0];
/// tape::gradient(f, &[y], &mut dy); // again, for one leaf
/// assert_eq!(dy, [4.0]);
/// ```
///
/// ```should_panic
/// use ppl_core::tape::{self, Var};
///
/// tape::reset();
/// let x = Var::leaf(1.0);
/// tape::gradient(x * 2.0, &[x], &mut [0.0; 2]); // one slot per leaf is required
/// ```
pub fn gradient(output: Var, leaves: &[Var], grad: &mut [f64]) {
    assert_eq!(leaves.len(), grad.len(), "one gradient slot per leaf");
    with_tape(|t| {
        let n = len();
        assert!(
            (output.idx as usize) < n,
            "the output belongs to the current recording"
        );
        t.adjoints.clear();
        t.adjoints.resize(n, 0.0);
        // A multi-output node is never an operand, so its own adjoint stays zero; mark it
        // so that the sweep does not skip it.
        for m in &t.multi {
            t.adjoints[m.first_output as usize - 1] = 1.0;
        }
        if output.idx != 0 {
            t.adjoints[output.idx as usize] = 1.0;
            sweep(t, output.idx as usize);
        }
        for (g, leaf) in grad.iter_mut().zip(leaves) {
            *g = if leaf.idx == 0 {
                0.0
            } else {
                t.adjoints[leaf.idx as usize]
            };
        }
    });
}

/// The reverse sweep: propagates adjoints from node `top` down to node 1.
///
/// One tight loop handles plain nodes and hands wide nodes to [`sweep_wide`]; it stops
/// only at a multi-output node with a non-zero adjoint, whose reverse step is foreign
/// code (it might record operations) and runs outside the borrow of the nodes.
fn sweep(t: &mut Tape, top: usize) {
    assert!(top < t.adjoints.len());
    let mut i = top;
    loop {
        // The nodes are borrowed only while no foreign code runs (a multi-output node's
        // reverse step might record operations).
        let node;
        (i, node) = with_nodes(|nodes| {
            assert!(top < nodes.len());
            let edges = (&t.edge_index[..], &t.edge_partial[..]);
            let i = sweep_nodes(&nodes[..=top], &mut t.adjoints[..=top], edges, i);
            (i, nodes[i])
        });
        if i == 0 {
            return;
        }
        sweep_multi(t, node, i);
        i -= 1;
    }
}

/// Sweeps plain and wide nodes from `from` down to 1 and returns the index of the first
/// multi-output node with a non-zero adjoint (0 when none is left).
#[inline(always)]
fn sweep_nodes(
    nodes: &[Node],
    adj: &mut [f64],
    (edge_index, edge_partial): (&[u32], &[f64]),
    from: usize,
) -> usize {
    debug_assert!(from < nodes.len() && nodes.len() == adj.len());
    let (np, ap) = (nodes.as_ptr(), adj.as_mut_ptr());
    let mut i = from;
    while i > 0 {
        // SAFETY: 0 < i ≤ from < nodes.len() == adj.len(); the parents written below are
        // checked to lie below i.
        unsafe {
            let a = *ap.add(i);
            if a != 0.0 {
                let node = &*np.add(i);
                let (l, r) = (node.lhs as usize, node.rhs as usize);
                // Leaves and the outputs of multi-output nodes have slot 0 on the left
                // and pass nothing on; unary nodes have the constant slot 0 on the right.
                // Skipping slot 0 keeps the sweep from chaining every node through one
                // memory location.
                if l != 0 {
                    if l >= i {
                        if node.lhs == WIDE {
                            sweep_wide(ap, i, a, node, edge_index, edge_partial);
                            i -= 1;
                            continue;
                        }
                        if node.lhs == MULTI {
                            return i;
                        }
                        stale_index();
                    }
                    *ap.add(l) += a * node.d_lhs;
                    if r != 0 {
                        if r >= i {
                            stale_index();
                        }
                        *ap.add(r) += a * node.d_rhs;
                    }
                }
            }
        }
        i -= 1;
    }
    0
}

/// The reverse step of wide node `i` with adjoint `a`: one edge per parent.
///
/// # Safety
/// `adj` points at the adjoints of nodes `0..=i`.
#[inline(never)]
unsafe fn sweep_wide(
    adj: *mut f64,
    i: usize,
    a: f64,
    node: &Node,
    edge_index: &[u32],
    edge_partial: &[f64],
) {
    let start = node.rhs as usize;
    let end = start + node.d_lhs.to_bits() as usize;
    for (j, p) in edge_index[start..end].iter().zip(&edge_partial[start..end]) {
        let j = *j as usize;
        if j >= i {
            stale_index();
        }
        // SAFETY: j < i, and the caller guarantees slots 0..=i.
        unsafe { *adj.add(j) += a * p };
    }
}

/// A node whose parent does not precede it: a `Var` from an earlier recording was used.
#[cold]
#[inline(never)]
fn stale_index() -> ! {
    panic!("a tape variable from an earlier recording was used after `tape::reset`")
}

/// The reverse step of multi-output node `i`.
#[inline(never)]
fn sweep_multi(t: &mut Tape, node: Node, i: usize) {
    let m = t.multi[node.rhs as usize];
    let first = m.first_output as usize;
    let inputs = &t.multi_inputs[m.inputs.0 as usize..m.inputs.1 as usize];
    t.input_adjoints.clear();
    t.input_adjoints.resize(inputs.len(), 0.0);
    (m.backward)(
        &MultiOutput {
            meta: m.meta,
            data: &t.multi_data[m.data.0 as usize..m.data.1 as usize],
            output_adjoints: &t.adjoints[first..first + m.outputs as usize],
        },
        &mut t.input_adjoints,
        &mut t.scratch,
    );
    for (j, g) in inputs.iter().zip(&t.input_adjoints) {
        let j = *j as usize;
        if j >= i {
            stale_index();
        }
        t.adjoints[j] += g;
    }
}

/// The value alone (formatting options apply to it).
///
/// ```
/// use ppl_core::tape::{self, Var};
///
/// tape::reset();
/// assert_eq!(format!("{:.3}", Var::leaf(2.0 / 3.0)), "0.667");
/// assert_eq!(Var::constant(-1.5).to_string(), "-1.5");
/// ```
impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.val, f)
    }
}

impl From<f64> for Var {
    #[inline]
    fn from(v: f64) -> Var {
        Var::constant(v)
    }
}

impl PartialEq for Var {
    fn eq(&self, o: &Var) -> bool {
        self.val == o.val
    }
}
impl PartialOrd for Var {
    fn partial_cmp(&self, o: &Var) -> Option<std::cmp::Ordering> {
        self.val.partial_cmp(&o.val)
    }
}
impl PartialEq<f64> for Var {
    fn eq(&self, o: &f64) -> bool {
        self.val == *o
    }
}
impl PartialOrd<f64> for Var {
    fn partial_cmp(&self, o: &f64) -> Option<std::cmp::Ordering> {
        self.val.partial_cmp(o)
    }
}

impl Add for Var {
    type Output = Var;
    #[inline]
    fn add(self, b: Var) -> Var {
        Var::binary(self.val + b.val, self, 1.0, b, 1.0)
    }
}
impl Sub for Var {
    type Output = Var;
    #[inline]
    fn sub(self, b: Var) -> Var {
        Var::binary(self.val - b.val, self, 1.0, b, -1.0)
    }
}
impl Mul for Var {
    type Output = Var;
    #[inline]
    fn mul(self, b: Var) -> Var {
        Var::binary(self.val * b.val, self, b.val, b, self.val)
    }
}
impl Div for Var {
    type Output = Var;
    #[inline]
    fn div(self, b: Var) -> Var {
        let r = 1.0 / b.val;
        let v = self.val * r;
        Var::binary(v, self, r, b, -v * r)
    }
}
impl Neg for Var {
    type Output = Var;
    #[inline]
    fn neg(self) -> Var {
        Var::unary(-self.val, self, -1.0)
    }
}
impl Add<f64> for Var {
    type Output = Var;
    #[inline]
    fn add(self, b: f64) -> Var {
        Var::unary(self.val + b, self, 1.0)
    }
}
impl Sub<f64> for Var {
    type Output = Var;
    #[inline]
    fn sub(self, b: f64) -> Var {
        Var::unary(self.val - b, self, 1.0)
    }
}
impl Mul<f64> for Var {
    type Output = Var;
    #[inline]
    fn mul(self, b: f64) -> Var {
        Var::unary(self.val * b, self, b)
    }
}
impl Div<f64> for Var {
    type Output = Var;
    #[inline]
    fn div(self, b: f64) -> Var {
        Var::unary(self.val / b, self, 1.0 / b)
    }
}
impl Add<Var> for f64 {
    type Output = Var;
    #[inline]
    fn add(self, b: Var) -> Var {
        Var::unary(self + b.val, b, 1.0)
    }
}
impl Sub<Var> for f64 {
    type Output = Var;
    #[inline]
    fn sub(self, b: Var) -> Var {
        Var::unary(self - b.val, b, -1.0)
    }
}
impl Mul<Var> for f64 {
    type Output = Var;
    #[inline]
    fn mul(self, b: Var) -> Var {
        Var::unary(self * b.val, b, self)
    }
}
impl Div<Var> for f64 {
    type Output = Var;
    #[inline]
    fn div(self, b: Var) -> Var {
        let v = self / b.val;
        Var::unary(v, b, -v / b.val)
    }
}

macro_rules! assign_ops {
    ($($tr:ident $m:ident $op:tt),*) => {$(
        impl $tr for Var {
            #[inline]
            fn $m(&mut self, b: Var) { *self = *self $op b; }
        }
        impl $tr<f64> for Var {
            #[inline]
            fn $m(&mut self, b: f64) { *self = *self $op b; }
        }
    )*};
}
assign_ops!(AddAssign add_assign +, SubAssign sub_assign -, MulAssign mul_assign *, DivAssign div_assign /);

impl std::iter::Sum for Var {
    fn sum<I: Iterator<Item = Var>>(iter: I) -> Var {
        // One wide node for the whole sum instead of a chain of binary nodes. The parents
        // are gathered first (the iterator may itself record nodes, so the tape cannot be
        // borrowed meanwhile), inline for short sums so that no allocation is made.
        let mut total = 0.0;
        let mut parents: smallvec::SmallVec<[(u32, f64); 16]> = smallvec::SmallVec::new();
        for v in iter {
            total += v.val;
            if v.idx != 0 {
                parents.push((v.idx, 1.0));
            }
        }
        Var::wide(total, parents)
    }
}
impl<'a> std::iter::Sum<&'a Var> for Var {
    fn sum<I: Iterator<Item = &'a Var>>(iter: I) -> Var {
        iter.copied().sum()
    }
}
impl std::iter::Product for Var {
    fn product<I: Iterator<Item = Var>>(iter: I) -> Var {
        iter.fold(Var::constant(1.0), |a, b| a * b)
    }
}

impl Real for Var {
    const MODE: EvalMode = EvalMode::Tape;
    const ORDER: usize = 1;

    #[inline]
    fn value(&self) -> f64 {
        self.val
    }
    #[inline]
    fn map_unary(self, d: Derivs) -> Self {
        Var::unary(d[0], self, d[1])
    }
    #[inline]
    fn tape_index(&self) -> u32 {
        self.idx
    }
    fn from_partials(value: f64, operands: &[(Self, f64)]) -> Self {
        Var::wide(value, operands.iter().map(|(v, d)| (v.idx, *d)))
    }
    #[inline]
    fn from_two_partials(value: f64, (a, da): (Self, f64), (b, db): (Self, f64)) -> Self {
        Var::binary(value, a, da, b, db)
    }
    #[inline]
    fn record_wide(fill: impl FnOnce(&mut EdgeWriter<'_>) -> f64) -> Self {
        Var::wide_with(fill)
    }
    #[inline]
    fn from_tape(value: f64, index: u32) -> Self {
        Var::from_slot(value, index)
    }
    #[inline]
    fn exp(self) -> Self {
        let e = self.val.exp();
        Var::unary(e, self, e)
    }
    #[inline]
    fn ln(self) -> Self {
        Var::unary(self.val.ln(), self, 1.0 / self.val)
    }
    #[inline]
    fn sqrt(self) -> Self {
        let s = self.val.sqrt();
        Var::unary(s, self, 0.5 / s)
    }
    #[inline]
    fn square(self) -> Self {
        Var::unary(self.val * self.val, self, 2.0 * self.val)
    }
}

impl Elem<Var> for Var {
    #[inline]
    fn elem_value(&self) -> f64 {
        self.val
    }
    #[inline]
    fn elem_lift(&self) -> Var {
        *self
    }
    #[inline]
    fn slice_operand(s: &[Var]) -> Operand<'_, Var> {
        Operand::Slice(s)
    }
}

impl crate::param::ScalarValue for Var {
    #[inline]
    fn scalar_value(&self) -> f64 {
        self.val
    }
}
impl crate::param::DataKind for Var {
    const IS_DATA: bool = false;
}
impl crate::param::ParamValues for Var {
    fn param_len(&self) -> Option<usize> {
        None
    }
    fn param_value(&self, _i: usize) -> f64 {
        self.val
    }
    fn is_data(&self) -> bool {
        self.idx == 0
    }
}

impl Param<Var> for Var {
    #[inline]
    fn operand(&self) -> Operand<'_, Var> {
        Operand::Scalar(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "while another node was filling its edges")]
    fn a_wide_node_inside_another_is_a_clear_panic() {
        reset();
        let x = Var::leaf(1.0);
        let _ = Var::wide_with(|w| {
            w.push(x.tape_index(), 1.0);
            Var::wide_with(|inner| {
                inner.push(x.tape_index(), 2.0);
                0.0
            })
            .value()
        });
    }

    #[test]
    fn a_thread_that_never_reset_still_keeps_slot_zero_for_constants() {
        // A fresh thread's tape is empty: the first leaf must not take the constant slot.
        let g = std::thread::spawn(|| {
            let (x, y) = (Var::leaf(2.0), Var::leaf(3.0));
            assert_ne!(x.index(), 0);
            let mut g = [0.0; 2];
            gradient(x * y, &[x, y], &mut g);
            g
        })
        .join()
        .unwrap();
        assert_eq!(g, [3.0, 2.0]);
        let g = std::thread::spawn(|| {
            let mut xs = Vec::new();
            Var::leaves(&[2.0, 3.0], &mut xs);
            let mut g = [0.0; 2];
            gradient(xs[0] * xs[1], &xs, &mut g);
            g
        })
        .join()
        .unwrap();
        assert_eq!(g, [3.0, 2.0]);
    }

    #[test]
    fn a_variable_from_an_earlier_recording_is_refused_not_followed() {
        reset();
        let mut stale = Var::leaf(1.0);
        for _ in 0..10 {
            stale *= 2.0;
        }
        reset();
        let x = Var::leaf(0.5);
        // `stale` points beyond the new recording: the sweep must stop, not write
        // outside the adjoints (plain node and wide node).
        let y = x * stale;
        let err = std::panic::catch_unwind(|| gradient(y, &[x], &mut [0.0])).unwrap_err();
        let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(msg.contains("earlier recording"), "{msg}");
        reset();
        let x = Var::leaf(0.5);
        let y = Var::wide(1.0, [(x.index(), 1.0), (stale.index(), 1.0)]);
        assert!(std::panic::catch_unwind(|| gradient(y, &[x], &mut [0.0])).is_err());
        reset();
    }

    #[test]
    fn product_rule_and_quotient() {
        reset();
        let x = Var::leaf(1.5);
        let y = Var::leaf(-0.7);
        let z = x * y + x / y - 3.0 * x + (y - 2.0) * 4.0;
        let mut g = [0.0; 2];
        gradient(z, &[x, y], &mut g);
        assert!((g[0] - (-0.7 + 1.0 / -0.7 - 3.0)).abs() < 1e-12);
        assert!((g[1] - (1.5 - 1.5 / 0.49 + 4.0)).abs() < 1e-12);
    }

    #[test]
    fn constants_record_nothing() {
        reset();
        let before = len();
        let c = Var::constant(2.0) * Var::constant(3.0) + 1.0;
        assert_eq!(c.value(), 7.0);
        assert_eq!(len(), before);
    }

    #[test]
    fn wide_sum_node() {
        reset();
        let xs: Vec<Var> = (0..5).map(|i| Var::leaf(i as f64)).collect();
        let s: Var = xs.iter().map(|x| *x * *x).sum();
        let mut g = [0.0; 5];
        gradient(s, &xs, &mut g);
        for (i, gi) in g.iter().enumerate() {
            assert_eq!(*gi, 2.0 * i as f64);
        }
    }

    #[test]
    fn tape_is_reused_between_recordings() {
        reset();
        let x = Var::leaf(1.0);
        let _ = x.exp() * x;
        let n1 = len();
        reset();
        let x = Var::leaf(1.0);
        let _ = x.exp() * x;
        assert_eq!(len(), n1);
    }
}
