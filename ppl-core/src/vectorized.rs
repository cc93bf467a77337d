//! The vectorised-density driver: one tape node per density over slices.
//!
//! A distribution describes its log-density for one element as a [`Kernel`]: a formula
//! generic over [`Real`], plus (optionally) a hand-written value-and-partials version.
//! [`sum`] evaluates the kernel over broadcast operands: with `f64` it adds values, with
//! forward-mode duals it evaluates the generic formula, and with the tape it computes
//! values and partials in plain `f64` and records **one** wide node whose parents are the
//! variable operands (Stan's operands-and-partials).
//!
//! Operands are first copied into contiguous `f64` columns (data slices are borrowed),
//! so the kernel runs in a tight loop free of per-element dispatch; partials go to
//! per-operand columns that are appended to the tape in bulk. The columns come from a
//! thread-local pool, so a warm evaluation allocates nothing.

use crate::param::{GatherIndex, Operand};
use crate::scalar::{dual::Fwd, EvalMode, Real};
use crate::tape::EdgeWriter;
use num_dual::DualSVec64;
use std::cell::RefCell;

/// One element's log-density as a function of `K` scalars (the value first).
///
/// A new density needs only [`Kernel::eval`]: the partials default to forward-mode
/// derivatives of it, and [`sum`] evaluates it over broadcast operands as one tape node.
///
/// ```
/// use ppl_core::param::{Operand, Param};
/// use ppl_core::tape::{self, Var};
/// use ppl_core::vectorized::{self, Kernel};
/// use ppl_core::Real;
///
/// /// Exponential log-density ln λ − λx, arguments `[x, λ]`.
/// struct Exponential;
/// impl Kernel<2> for Exponential {
///     fn eval<R: Real>(&self, [x, rate]: [R; 2]) -> R {
///         rate.ln() - rate * x
///     }
/// }
///
/// // ∂/∂x = −λ, ∂/∂λ = 1/λ − x.
/// let (value, partials) = Exponential.eval_partials([0.25, 2.0]);
/// assert!((value - (2_f64.ln() - 0.5)).abs() < 1e-15);
/// assert!((partials[0] + 2.0).abs() < 1e-15 && (partials[1] - 0.25).abs() < 1e-15);
///
/// // Σᵢ ln p(xᵢ | λ) with λ on the tape: d/dλ = n/λ − Σ xᵢ.
/// tape::reset();
/// let rate = Var::leaf(2.0);
/// let xs = [0.25, 1.0, 0.5];
/// let operands = [Param::<Var>::operand(&xs), Operand::Scalar(rate)];
/// let lp: Var = vectorized::sum(&Exponential, &operands, xs.len());
/// let mut grad = [0.0];
/// tape::gradient(lp, &[rate], &mut grad);
/// assert!((lp.value() - (3.0 * 2_f64.ln() - 2.0 * 1.75)).abs() < 1e-12);
/// assert!((grad[0] - (3.0 / 2.0 - 1.75)).abs() < 1e-12);
/// ```
pub trait Kernel<const K: usize> {
    /// The formula, generic over the scalar type.
    fn eval<R: Real>(&self, args: [R; K]) -> R;

    /// Value and partial derivatives at plain values. The default differentiates
    /// [`Kernel::eval`] with a K-dimensional dual number; hot kernels override it.
    #[inline]
    fn eval_partials(&self, args: [f64; K]) -> (f64, [f64; K]) {
        let duals: [Fwd<DualSVec64<K>>; K] =
            std::array::from_fn(|i| Fwd(DualSVec64::<K>::from_re(args[i]).derivative(i)));
        let out = self.eval(duals).0;
        let mut partials = [0.0; K];
        if let Some(eps) = out.eps.0 {
            partials.copy_from_slice(eps.as_slice());
        }
        (out.re, partials)
    }

    /// The value summed over `n` elements given as equal-length columns (a scalar operand
    /// arrives broadcast), with every element's partials written into `partials` (each
    /// resized to `n` here). Kernels whose loop vectorises (no library calls) override
    /// it; `None` — the default, or inputs the fast loop does not cover — makes the
    /// driver call [`Kernel::eval_partials`] element by element.
    #[inline]
    fn eval_columns(&self, cols: [&[f64]; K], partials: &mut [Vec<f64>; K]) -> Option<f64> {
        let _ = (cols, partials);
        None
    }
}

/// A length disagreement between broadcast arguments.
///
/// Returned when slice arguments of a density have different lengths (scalars
/// broadcast):
///
/// ```
/// use ppl_core::dist::{Distribution, Normal};
/// use ppl_core::param::Param;
/// use ppl_core::vectorized::LengthMismatch;
///
/// let d = Normal::new(vec![0.0, 1.0], 1.0).unwrap();
/// let err = d.log_density(Param::<f64>::operand(&[0.5, 0.5, 0.5])).unwrap_err();
/// assert_eq!(err, LengthMismatch { argument: "mu", found: 2, expected: 3 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthMismatch {
    /// The argument whose length differs.
    pub argument: &'static str,
    /// Its length.
    pub found: usize,
    /// The length of the earlier arguments.
    pub expected: usize,
}

/// The common length of the slice operands (1 if all are scalars).
///
/// ```
/// use ppl_core::param::Operand;
/// use ppl_core::vectorized::{broadcast_len, LengthMismatch};
///
/// let names = ["x", "mu", "sigma"];
/// let x = Operand::Data(&[1.0, 2.0, 3.0]);
/// let ops: [Operand<'_, f64>; 3] = [x, Operand::Const(0.0), Operand::Data(&[1.0, 1.0, 2.0])];
/// assert_eq!(broadcast_len(&names, &ops), Ok(3));
/// let scalars: [Operand<'_, f64>; 3] = [Operand::Const(1.0); 3];
/// assert_eq!(broadcast_len(&names, &scalars), Ok(1)); // all scalars: one element
/// let ragged: [Operand<'_, f64>; 3] = [x, Operand::Const(0.0), Operand::Data(&[1.0])];
/// let err = LengthMismatch { argument: "sigma", found: 1, expected: 3 };
/// assert_eq!(broadcast_len(&names, &ragged), Err(err));
/// ```
pub fn broadcast_len<R: Real, const K: usize>(
    names: &[&'static str; K],
    ops: &[Operand<'_, R>; K],
) -> Result<usize, LengthMismatch> {
    let mut n: Option<usize> = None;
    for (name, op) in names.iter().zip(ops) {
        if let Some(len) = op.len() {
            match n {
                None => n = Some(len),
                Some(m) if m != len => {
                    return Err(LengthMismatch {
                        argument: name,
                        found: len,
                        expected: m,
                    })
                }
                _ => {}
            }
        }
    }
    Ok(n.unwrap_or(1))
}

thread_local! {
    static COLUMNS: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `N` empty scratch columns from this thread's pool (capacity is kept).
///
/// ```
/// use ppl_core::vectorized::with_columns;
///
/// let total = with_columns::<2, _>(|[a, b]| {
///     a.extend([1.0, 2.0]);
///     b.push(3.0);
///     a.iter().chain(b.iter()).sum::<f64>()
/// });
/// assert_eq!(total, 6.0);
/// // The columns went back to the pool; they are handed out empty again.
/// assert!(with_columns::<2, _>(|cols| cols.iter().all(Vec::is_empty)));
/// ```
pub fn with_columns<const N: usize, T>(f: impl FnOnce(&mut [Vec<f64>; N]) -> T) -> T {
    let mut cols: [Vec<f64>; N] = COLUMNS.with(|pool| {
        let mut pool = pool.borrow_mut();
        std::array::from_fn(|_| {
            let mut v = pool.pop().unwrap_or_default();
            v.clear();
            v
        })
    });
    let out = f(&mut cols);
    COLUMNS.with(|pool| pool.borrow_mut().extend(cols));
    out
}

/// The plain values of `op` broadcast to `n` elements: data slices are borrowed, anything
/// else is written into `buf`.
///
/// A slice is taken whole: `n` sizes only the broadcast of a scalar.
///
/// ```
/// use ppl_core::param::Operand;
/// use ppl_core::vectorized::column;
///
/// let mut buf = Vec::new();
/// assert_eq!(column::<f64>(&Operand::Const(2.0), 3, &mut buf), [2.0, 2.0, 2.0]);
/// let mut buf = Vec::new();
/// assert_eq!(column::<f64>(&Operand::IntData(&[1, 2]), 2, &mut buf), [1.0, 2.0]);
/// let data = [0.5, 1.5];
/// let mut buf = Vec::new();
/// let col = column::<f64>(&Operand::Data(&data), 2, &mut buf);
/// assert!(std::ptr::eq(col, &data[..])); // borrowed, not copied
/// ```
#[inline]
pub fn column<'a, R: Real>(op: &Operand<'a, R>, n: usize, buf: &'a mut Vec<f64>) -> &'a [f64] {
    match *op {
        Operand::Data(s) => s,
        Operand::Const(c) => {
            buf.clear();
            buf.resize(n, c);
            buf
        }
        Operand::Scalar(r) => {
            buf.clear();
            buf.resize(n, r.value());
            buf
        }
        Operand::IntData(s) => {
            buf.clear();
            buf.extend(s.iter().map(|v| *v as f64));
            buf
        }
        Operand::Slice(s) => {
            buf.clear();
            buf.extend(s.iter().map(|v| v.value()));
            buf
        }
        Operand::Gather(v, index) => {
            buf.clear();
            buf.extend(index.as_slice().iter().map(|i| v[*i].value()));
            buf
        }
    }
}

/// Appends the partials of one operand to a wide node: one edge per element for a slice
/// of variables, one summed edge for a scalar variable, nothing for constants.
///
/// ```
/// use ppl_core::param::{gather, Operand, Param};
/// use ppl_core::tape::{self, Var};
/// use ppl_core::vectorized::push_partials;
///
/// tape::reset();
/// let theta = [Var::leaf(1.0), Var::leaf(2.0)];
/// let scale = Var::leaf(3.0);
/// let g = gather(&theta[..], &[1, 0, 1]);
/// let f = Var::wide_with(|w| {
///     push_partials(w, &Param::<Var>::operand(&g), &[1.0, 10.0, 100.0]); // per element
///     push_partials(w, &Operand::Scalar(scale), &[1.0, 2.0, 3.0]); // one summed edge
///     push_partials(w, &Operand::<Var>::Const(1.0), &[5.0]); // a constant: nothing
///     0.0
/// });
/// let mut grad = [0.0; 3];
/// tape::gradient(f, &[theta[0], theta[1], scale], &mut grad);
/// assert_eq!(grad, [10.0, 101.0, 6.0]); // theta[1] is picked twice
/// ```
#[inline]
pub fn push_partials<R: Real>(w: &mut EdgeWriter<'_>, op: &Operand<'_, R>, partials: &[f64]) {
    match *op {
        Operand::Slice(s) => w.extend(s, partials),
        Operand::Scalar(r) => w.push(r.tape_index(), crate::linalg::sum_f64(partials)),
        Operand::Gather(v, index) => GATHER.with(|acc| {
            // Accumulate per source element, then one edge per source.
            let mut acc = acc.borrow_mut();
            accumulate_by_index(&mut acc, v.len(), index, partials);
            w.extend(v, &acc[..v.len()]);
        }),
        _ => {}
    }
}

thread_local! {
    static GATHER: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// `acc[s] = Σ_{i: index[i] = s} partials[i]` for `s < sources` (indices must be below
/// `sources`). With few sources and many elements (grouped data, usually sorted by
/// group) one accumulator per source would chain every add of a group through memory;
/// four interleaved copies give four independent chains, summed at the end. The
/// indices come checked ([`GatherIndex`]), so the loops index without bounds checks
/// (two of the five instructions per element on radon's 919 rows).
fn accumulate_by_index(
    acc: &mut Vec<f64>,
    sources: usize,
    index: GatherIndex<'_>,
    partials: &[f64],
) {
    assert!(
        index.bound() <= sources,
        "a gathered index pairs with its own source"
    );
    let index = index.as_slice();
    acc.clear();
    if index.len() < 4 * sources {
        acc.resize(sources, 0.0);
        for (i, d) in index.iter().zip(partials) {
            // SAFETY: i < index.bound() <= sources = acc.len().
            unsafe { *acc.get_unchecked_mut(*i) += d };
        }
        return;
    }
    acc.resize(4 * sources, 0.0);
    let (lanes, tail) = acc.split_at_mut(sources);
    let (lane1, tail) = tail.split_at_mut(sources);
    let (lane2, lane3) = tail.split_at_mut(sources);
    let n = index.len().min(partials.len());
    let (idx_chunks, d_chunks) = (index[..n].chunks_exact(4), partials[..n].chunks_exact(4));
    let (idx_rest, d_rest) = (idx_chunks.remainder(), d_chunks.remainder());
    for (i4, d4) in idx_chunks.zip(d_chunks) {
        // SAFETY: every index is below index.bound() <= sources, the length of each lane.
        unsafe {
            *lanes.get_unchecked_mut(i4[0]) += d4[0];
            *lane1.get_unchecked_mut(i4[1]) += d4[1];
            *lane2.get_unchecked_mut(i4[2]) += d4[2];
            *lane3.get_unchecked_mut(i4[3]) += d4[3];
        }
    }
    for (i, d) in idx_rest.iter().zip(d_rest) {
        lanes[*i] += d;
    }
    for s in 0..sources {
        lanes[s] += (lane1[s] + lane2[s]) + lane3[s];
    }
    acc.truncate(sources);
}

/// Operands at most this long are evaluated in stack buffers instead of pooled columns.
const SMALL: usize = 16;

/// Sum of the kernel over `n` broadcast elements, as one tape node when taped.
///
/// `n` is the operands' common length ([`broadcast_len`]); it must not exceed a slice
/// operand's length (that panics).
///
/// The same sum in plain `f64` and on the tape, where it is one node:
///
/// ```
/// # use ppl_core::vectorized::Kernel;
/// # use ppl_core::Real;
/// # /// −(x − m)²/2, arguments `[x, m]`.
/// # struct HalfSquare;
/// # impl Kernel<2> for HalfSquare {
/// #     fn eval<R: Real>(&self, [x, m]: [R; 2]) -> R {
/// #         -(x - m) * (x - m) * 0.5
/// #     }
/// # }
/// use ppl_core::param::Operand;
/// use ppl_core::tape::{self, Var};
/// use ppl_core::vectorized::sum;
///
/// let xs = [1.0, 2.0, 4.0];
/// let plain: f64 = sum(&HalfSquare, &[Operand::Data(&xs), Operand::Const(2.0)], 3);
/// assert_eq!(plain, -0.5 * (1.0 + 0.0 + 4.0));
///
/// tape::reset();
/// let m = Var::leaf(2.0);
/// let before = tape::len();
/// let taped: Var = sum(&HalfSquare, &[Operand::Data(&xs), Operand::Scalar(m)], 3);
/// assert_eq!(taped.value(), plain);
/// assert_eq!(tape::len(), before + 1); // one node for the three elements
/// let mut grad = [0.0];
/// tape::gradient(taped, &[m], &mut grad);
/// assert_eq!(grad, [(1.0 - 2.0) + (2.0 - 2.0) + (4.0 - 2.0)]); // Σ (xᵢ − m)
/// ```
// Index loops walk several columns in step; iterator chains over K columns read worse.
#[allow(clippy::needless_range_loop)]
pub fn sum<R: Real, F: Kernel<K>, const K: usize>(
    kernel: &F,
    ops: &[Operand<'_, R>; K],
    n: usize,
) -> R {
    match R::MODE {
        EvalMode::Dual => {
            let mut total = R::constant(0.0);
            for i in 0..n {
                let a: [R; K] = std::array::from_fn(|k| ops[k].lift(i));
                total += kernel.eval(a);
            }
            total
        }
        EvalMode::Value if n <= SMALL => {
            let mut total = 0.0;
            for i in 0..n {
                total += kernel.eval::<f64>(std::array::from_fn(|k| ops[k].value(i)));
            }
            R::constant(total)
        }
        EvalMode::Value => with_columns::<K, _>(|bufs| {
            let cols = columns(ops, n, bufs);
            let fast = with_columns::<K, _>(|partials| kernel.eval_columns(cols, partials));
            let total = fast.unwrap_or_else(|| {
                (0..n)
                    .map(|i| kernel.eval::<f64>(std::array::from_fn(|k| cols[k][i])))
                    .sum()
            });
            R::constant(total)
        }),
        EvalMode::Tape if n == 1 => {
            let (v, d) = kernel.eval_partials(std::array::from_fn(|k| ops[k].value(0)));
            record_one(v, ops, &d).unwrap_or_else(|| {
                R::record_wide(|w| {
                    for k in 0..K {
                        if !ops[k].is_constant() {
                            push_partials(w, &ops[k], &d[k..=k]);
                        }
                    }
                    v
                })
            })
        }
        EvalMode::Tape if n <= SMALL => {
            let mut partials = [[0.0; SMALL]; K];
            let mut total = 0.0;
            for i in 0..n {
                let (v, d) = kernel.eval_partials(std::array::from_fn(|k| ops[k].value(i)));
                total += v;
                for k in 0..K {
                    partials[k][i] = d[k];
                }
            }
            R::record_wide(|w| {
                for k in 0..K {
                    if !ops[k].is_constant() {
                        push_partials(w, &ops[k], &partials[k][..n]);
                    }
                }
                total
            })
        }
        EvalMode::Tape => with_columns::<K, _>(|bufs| {
            with_columns::<K, _>(|partials| {
                let variable: [bool; K] = std::array::from_fn(|k| !ops[k].is_constant());
                for k in 0..K {
                    if variable[k] {
                        partials[k].resize(n, 0.0);
                    }
                }
                let cols = columns(ops, n, bufs);
                let total = kernel.eval_columns(cols, partials).unwrap_or_else(|| {
                    let mut total = 0.0;
                    for i in 0..n {
                        let (v, d) = kernel.eval_partials(std::array::from_fn(|k| cols[k][i]));
                        total += v;
                        for k in 0..K {
                            if variable[k] {
                                partials[k][i] = d[k];
                            }
                        }
                    }
                    total
                });
                R::record_wide(|w| {
                    for k in 0..K {
                        if variable[k] {
                            push_partials(w, &ops[k], &partials[k]);
                        }
                    }
                    total
                })
            })
        }),
    }
}

/// The frame of a [`Kernel::eval_columns`] loop over `n` elements: `partials` resized to
/// `n`, a pooled column for the element values; `rows` fills both and reports whether
/// its fast formulas applied to every element. The sum of the values, or `None`.
pub(crate) fn columns_sum<const K: usize>(
    n: usize,
    partials: &mut [Vec<f64>; K],
    rows: impl FnOnce(&mut [f64], &mut [Vec<f64>; K]) -> bool,
) -> Option<f64> {
    for p in partials.iter_mut() {
        p.clear();
        p.resize(n, 0.0);
    }
    with_columns::<1, _>(|[values]| {
        values.resize(n, 0.0);
        rows(values, partials).then(|| crate::linalg::sum_f64(values))
    })
}

/// One element's log-density `value` with partials `d` (one per operand, every operand
/// of length 1) as a plain tape node, when at most two operands are variables: the
/// usual case of a scalar with constant parameters (`mu ~ Normal(0, 5)`), and cheaper
/// than a wide node. `None` when three or more operands are variables.
fn record_one<R: Real, const K: usize>(
    value: f64,
    ops: &[Operand<'_, R>; K],
    d: &[f64; K],
) -> Option<R> {
    let zero = (R::constant(0.0), 0.0);
    let mut parents = [zero, zero];
    let mut count = 0;
    for k in 0..K {
        if ops[k].is_constant() {
            continue;
        }
        if count == 2 {
            return None;
        }
        parents[count] = (ops[k].lift(0), d[k]);
        count += 1;
    }
    Some(R::from_two_partials(value, parents[0], parents[1]))
}

fn columns<'a, R: Real, const K: usize>(
    ops: &[Operand<'a, R>; K],
    n: usize,
    bufs: &'a mut [Vec<f64>; K],
) -> [&'a [f64]; K] {
    let mut it = bufs.iter_mut();
    std::array::from_fn(|k| column(&ops[k], n, it.next().expect("one buffer per operand")))
}

/// Log-density of each of the `n` elements, as plain values (for pointwise likelihoods).
///
/// ```
/// # use ppl_core::vectorized::Kernel;
/// # use ppl_core::Real;
/// # /// −(x − m)²/2, arguments `[x, m]`.
/// # struct HalfSquare;
/// # impl Kernel<2> for HalfSquare {
/// #     fn eval<R: Real>(&self, [x, m]: [R; 2]) -> R {
/// #         -(x - m) * (x - m) * 0.5
/// #     }
/// # }
/// use ppl_core::param::Operand;
/// use ppl_core::vectorized::pointwise;
///
/// let mut out = vec![f64::NAN]; // appended to
/// pointwise(&HalfSquare, &[Operand::<f64>::Data(&[1.0, 4.0]), Operand::Const(2.0)], 2, &mut out);
/// assert_eq!(out[1..], [-0.5, -2.0]);
/// ```
pub fn pointwise<R: Real, F: Kernel<K>, const K: usize>(
    kernel: &F,
    ops: &[Operand<'_, R>; K],
    n: usize,
    out: &mut Vec<f64>,
) {
    for i in 0..n {
        let a: [f64; K] = std::array::from_fn(|k| ops[k].value(i));
        out.push(kernel.eval::<f64>(a));
    }
}

/// The usual log-density of an element-wise distribution: broadcasts the operands
/// (argument names for errors, value first), returns −∞ when any value lies outside the
/// support, and otherwise sums the kernel as one tape node.
///
/// ```
/// # use ppl_core::vectorized::Kernel;
/// # use ppl_core::Real;
/// # /// −(x − m)²/2, arguments `[x, m]`.
/// # struct HalfSquare;
/// # impl Kernel<2> for HalfSquare {
/// #     fn eval<R: Real>(&self, [x, m]: [R; 2]) -> R {
/// #         -(x - m) * (x - m) * 0.5
/// #     }
/// # }
/// use ppl_core::param::Operand;
/// use ppl_core::vectorized::sum_in_support;
///
/// let names = ["x", "m"];
/// let nonnegative = |x: f64| x >= 0.0;
/// let ops = [Operand::<f64>::Data(&[0.0, 1.0]), Operand::Const(0.0)];
/// assert_eq!(sum_in_support(&HalfSquare, &names, &ops, nonnegative), Ok(-0.5));
/// let ops = [Operand::<f64>::Data(&[0.0, -1.0]), Operand::Const(0.0)];
/// assert_eq!(sum_in_support(&HalfSquare, &names, &ops, nonnegative), Ok(f64::NEG_INFINITY));
/// let ops = [Operand::<f64>::Data(&[0.0, 1.0]), Operand::Data(&[0.0])];
/// let err = sum_in_support(&HalfSquare, &names, &ops, nonnegative).unwrap_err();
/// assert_eq!((err.argument, err.found, err.expected), ("m", 1, 2));
/// ```
pub fn sum_in_support<R: Real, F: Kernel<K>, const K: usize>(
    kernel: &F,
    names: &[&'static str; K],
    ops: &[Operand<'_, R>; K],
    in_support: impl Fn(f64) -> bool,
) -> Result<R, LengthMismatch> {
    let n = broadcast_len(names, ops)?;
    if !all_values(&ops[0], n, in_support) {
        return Ok(R::constant(f64::NEG_INFINITY));
    }
    Ok(sum(kernel, ops, n))
}

/// Whether each of the first `n` values of `op` (scalars broadcast) passes `test`: a data
/// slice (the usual observed case) in one pass without a branch per element.
///
/// ```
/// use ppl_core::param::Operand;
/// use ppl_core::vectorized::all_values;
///
/// let x: Operand<'_, f64> = Operand::Data(&[1.0, 2.0, -3.0]);
/// assert!(!all_values(&x, 3, |v| v > 0.0));
/// assert!(all_values(&x, 2, |v| v > 0.0)); // the first two only
/// assert!(all_values(&Operand::<f64>::Const(1.0), 5, |v| v > 0.0)); // a scalar broadcasts
/// ```
pub fn all_values<R: Real>(op: &Operand<'_, R>, n: usize, test: impl Fn(f64) -> bool) -> bool {
    match *op {
        Operand::Data(xs) => xs[..n].iter().fold(true, |ok, x| ok & test(*x)),
        _ => (0..n).all(|i| test(op.value(i))),
    }
}

/// The sum of the first `n` values of `op` (scalars broadcast); a data slice with split
/// accumulators.
///
/// ```
/// use ppl_core::param::Operand;
/// use ppl_core::vectorized::sum_values;
///
/// assert_eq!(sum_values(&Operand::<f64>::Data(&[1.0, 2.0, 3.5]), 3), 6.5);
/// assert_eq!(sum_values(&Operand::<f64>::Const(2.0), 4), 8.0); // broadcast: 4 × 2
/// assert_eq!(sum_values(&Operand::<f64>::IntData(&[1, 2, 3]), 2), 3.0); // the first two
/// ```
pub fn sum_values<R: Real>(op: &Operand<'_, R>, n: usize) -> f64 {
    match *op {
        Operand::Data(xs) => crate::linalg::sum_f64(&xs[..n]),
        _ => op.values(n).sum(),
    }
}

/// The pointwise twin of [`sum_in_support`]: appends each element's log-density to `out`,
/// −∞ for values outside the support.
///
/// ```
/// # use ppl_core::vectorized::Kernel;
/// # use ppl_core::Real;
/// # /// −(x − m)²/2, arguments `[x, m]`.
/// # struct HalfSquare;
/// # impl Kernel<2> for HalfSquare {
/// #     fn eval<R: Real>(&self, [x, m]: [R; 2]) -> R {
/// #         -(x - m) * (x - m) * 0.5
/// #     }
/// # }
/// use ppl_core::param::Operand;
/// use ppl_core::vectorized::pointwise_in_support;
///
/// let names = ["x", "m"];
/// let ops = [Operand::<f64>::Data(&[1.0, -1.0]), Operand::Const(0.0)];
/// let mut out = Vec::new();
/// pointwise_in_support(&HalfSquare, &names, &ops, |x| x >= 0.0, &mut out).unwrap();
/// assert_eq!(out, [-0.5, f64::NEG_INFINITY]); // only the element outside is −∞
/// ```
pub fn pointwise_in_support<R: Real, F: Kernel<K>, const K: usize>(
    kernel: &F,
    names: &[&'static str; K],
    ops: &[Operand<'_, R>; K],
    in_support: impl Fn(f64) -> bool,
    out: &mut Vec<f64>,
) -> Result<(), LengthMismatch> {
    let n = broadcast_len(names, ops)?;
    for i in 0..n {
        let x = ops[0].value(i);
        out.push(if in_support(x) {
            kernel.eval::<f64>(std::array::from_fn(|k| ops[k].value(i)))
        } else {
            f64::NEG_INFINITY
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{accumulate_by_index, sum, Kernel};
    use crate::param::{gather, Operand, Param};
    use crate::scalar::Real;
    use crate::tape::{self, Var};

    /// ln N(x | μ, σ) written once, differentiated by duals (the default partials).
    struct Gauss;
    impl Kernel<3> for Gauss {
        fn eval<R: Real>(&self, [x, mu, sigma]: [R; 3]) -> R {
            let z = (x - mu) / sigma;
            z * z * -0.5 - sigma.ln()
        }
    }

    /// One element with every mix of constant and variable operands (and a gathered
    /// one): the value and the tape gradient match the formula and its derivatives, and
    /// one node is recorded (a plain one for up to two variables, else a wide one).
    #[test]
    fn one_element_sums_record_one_node_with_exact_partials() {
        let (x, mu, sigma) = (0.7, -0.4, 1.3);
        let z = (x - mu) / sigma;
        let value = -0.5 * z * z - f64::ln(sigma);
        let want = [-z / sigma, z / sigma, (z * z - 1.0) / sigma];
        for mask in 0..8u32 {
            tape::reset();
            let vars = [Var::leaf(x), Var::leaf(mu), Var::leaf(sigma)];
            let plain = [x, mu, sigma];
            let index = [0usize];
            let gathered = gather(&vars[1..2], &index);
            let ops: [Operand<'_, Var>; 3] = std::array::from_fn(|k| {
                if mask & (1 << k) == 0 {
                    Operand::Const(plain[k])
                } else if k == 1 {
                    Param::<Var>::operand(&gathered)
                } else {
                    Operand::Scalar(vars[k])
                }
            });
            let before = tape::len();
            let out = sum(&Gauss, &ops, 1);
            assert!((out.value() - value).abs() < 1e-14, "{mask}");
            let variables = mask.count_ones() as usize;
            assert_eq!(tape::len() - before, usize::from(variables > 0), "{mask}");
            let mut grad = [0.0; 3];
            if variables > 0 {
                tape::gradient(out, &vars, &mut grad);
            }
            for k in 0..3 {
                let expect = if mask & (1 << k) == 0 { 0.0 } else { want[k] };
                assert!((grad[k] - expect).abs() < 1e-14, "{mask} {k}: {grad:?}");
            }
        }
    }

    #[test]
    fn accumulation_by_index_matches_the_plain_loop() {
        for (sources, n) in [(3, 5), (3, 12), (3, 13), (85, 919), (10, 1000)] {
            // Sorted groups (as in grouped data) and a scrambled order.
            for scrambled in [false, true] {
                let index: Vec<usize> = (0..n)
                    .map(|i| {
                        if scrambled {
                            (i * 7919) % sources
                        } else {
                            i * sources / n
                        }
                    })
                    .collect();
                let partials: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64 - 8.25).collect();
                let mut want = vec![0.0; sources];
                for (i, d) in index.iter().zip(&partials) {
                    want[*i] += d;
                }
                let mut acc = Vec::new();
                let source = vec![0.0; sources];
                let gathered = gather(&source[..], &index);
                let Operand::Gather(_, checked) = Param::<f64>::operand(&gathered) else {
                    panic!("a gather operand");
                };
                accumulate_by_index(&mut acc, sources, checked, &partials);
                assert_eq!(acc.len(), sources);
                for (a, w) in acc.iter().zip(&want) {
                    assert!((a - w).abs() <= 1e-12 * w.abs().max(1.0), "{a} vs {w}");
                }
            }
        }
    }
}
