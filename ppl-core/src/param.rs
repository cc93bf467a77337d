//! Distribution parameters and data: scalars or slices of constants or model scalars.
//!
//! A distribution's parameters and the values it is evaluated at can each be a scalar
//! or a slice, of `f64` data or of the model's `Real`. [`Param`] turns each into an
//! [`Operand`], the uniform view the vectorised densities read (with broadcasting of
//! scalars against slices).

use crate::scalar::{EvalMode, Real};

/// One element type a parameter slice may hold: `f64` or `i64` data, or the model scalar.
pub trait Elem<R: Real>: Copy {
    /// The plain value.
    fn elem_value(&self) -> f64;
    /// The value as a model scalar (constants are lifted).
    fn elem_lift(&self) -> R;
    /// Views a slice of this element type as an operand.
    fn slice_operand(s: &[Self]) -> Operand<'_, R>;
}

impl<R: Real> Elem<R> for f64 {
    #[inline]
    fn elem_value(&self) -> f64 {
        *self
    }
    #[inline]
    fn elem_lift(&self) -> R {
        R::constant(*self)
    }
    #[inline]
    fn slice_operand(s: &[f64]) -> Operand<'_, R> {
        Operand::Data(s)
    }
}

impl<R: Real> Elem<R> for i64 {
    #[inline]
    fn elem_value(&self) -> f64 {
        *self as f64
    }
    #[inline]
    fn elem_lift(&self) -> R {
        R::constant(*self as f64)
    }
    #[inline]
    fn slice_operand(s: &[i64]) -> Operand<'_, R> {
        Operand::IntData(s)
    }
}

/// A uniform view of a parameter or value: a scalar or a slice, constant or variable.
///
/// Scalars broadcast: they have no length and every index reads the same value.
///
/// ```
/// use ppl_core::param::{Operand, Param};
///
/// let x: Operand<'_, f64> = Param::<f64>::operand(&[1.0, 2.0, 3.0]);
/// let mu: Operand<'_, f64> = Param::<f64>::operand(&0.5);
/// assert!(matches!(x, Operand::Data(_)) && matches!(mu, Operand::Const(_)));
/// assert_eq!((x.len(), mu.len()), (Some(3), None));
/// assert_eq!((x.value(2), mu.value(2)), (3.0, 0.5));
/// assert!(x.is_constant());
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Operand<'a, R> {
    /// A constant scalar.
    Const(f64),
    /// A model scalar.
    Scalar(R),
    /// Constant data.
    Data(&'a [f64]),
    /// Integer data.
    IntData(&'a [i64]),
    /// A slice of model scalars.
    Slice(&'a [R]),
    /// Model scalars picked by an index (`values[index[i]]`, Stan's multi-indexing):
    /// partials are accumulated per source element, so the tape gets one edge per
    /// distinct source instead of one per element.
    Gather(&'a [R], GatherIndex<'a>),
}

/// An index slice known to be in range for sources of at least `bound` elements.
///
/// Only [`gather`] builds one (after checking every index), so code that has checked
/// `values.len() >= bound` may index `values` without further bounds checks.
#[derive(Debug, Clone, Copy)]
pub struct GatherIndex<'a> {
    index: &'a [usize],
    bound: usize,
}

impl<'a> GatherIndex<'a> {
    /// The indices.
    ///
    /// ```
    /// use ppl_core::param::{gather, Operand, Param};
    ///
    /// let theta = [1.0, 2.0, 3.0];
    /// let g = gather(&theta[..], &[2, 0]);
    /// let Operand::Gather(_, index) = Param::<f64>::operand(&g) else { unreachable!() };
    /// assert_eq!(index.as_slice(), [2, 0]);
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &'a [usize] {
        self.index
    }

    /// Number of indices.
    ///
    /// ```
    /// use ppl_core::param::{gather, Operand, Param};
    ///
    /// let theta = [1.0, 2.0, 3.0];
    /// let g = gather(&theta[..], &[2, 0]);
    /// let Operand::Gather(_, index) = Param::<f64>::operand(&g) else { unreachable!() };
    /// assert_eq!(index.len(), 2);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when there are no indices.
    ///
    /// ```
    /// use ppl_core::param::{gather, Operand, Param};
    ///
    /// let theta = [1.0, 2.0];
    /// let none = gather(&theta[..], &[]);
    /// let Operand::Gather(_, index) = Param::<f64>::operand(&none) else { unreachable!() };
    /// assert!(index.is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Every index is below this.
    ///
    /// ```
    /// use ppl_core::param::{gather, Operand, Param};
    ///
    /// let theta = [1.0, 2.0, 3.0];
    /// let g = gather(&theta[..], &[2, 0]);
    /// let Operand::Gather(_, index) = Param::<f64>::operand(&g) else { unreachable!() };
    /// assert_eq!(index.bound(), 3); // the source's length
    /// assert!(index.as_slice().iter().all(|&i| i < index.bound()));
    /// ```
    #[inline]
    pub fn bound(&self) -> usize {
        self.bound
    }
}

impl<'a, R: Real> Operand<'a, R> {
    /// `None` for scalars (they broadcast), else the slice length.
    ///
    /// ```
    /// use ppl_core::param::{gather, Operand, Param};
    ///
    /// assert_eq!(Operand::<f64>::Const(1.0).len(), None);
    /// assert_eq!(Operand::<f64>::Data(&[1.0, 2.0]).len(), Some(2));
    /// let theta = [1.0, 2.0];
    /// let g = gather(&theta[..], &[0, 1, 1, 0]);
    /// assert_eq!(Param::<f64>::operand(&g).len(), Some(4)); // one per index
    /// ```
    #[inline]
    pub fn len(&self) -> Option<usize> {
        match self {
            Operand::Const(_) | Operand::Scalar(_) => None,
            Operand::Data(s) => Some(s.len()),
            Operand::IntData(s) => Some(s.len()),
            Operand::Slice(s) => Some(s.len()),
            Operand::Gather(_, index) => Some(index.len()),
        }
    }

    /// True for an empty slice. A scalar, which broadcasts, is not empty.
    ///
    /// ```
    /// use ppl_core::param::Operand;
    ///
    /// assert!(Operand::<f64>::Data(&[]).is_empty());
    /// assert!(!Operand::<f64>::Const(1.0).is_empty()); // a scalar broadcasts
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// True when no element can carry a derivative.
    ///
    /// ```
    /// use ppl_core::param::Operand;
    /// use ppl_core::tape::{self, Var};
    ///
    /// tape::reset();
    /// let x = Var::leaf(1.0);
    /// assert!(!Operand::Scalar(x).is_constant());
    /// assert!(Operand::Scalar(Var::constant(1.0)).is_constant()); // slot 0: no derivative
    /// assert!(Operand::<Var>::Data(&[1.0, 2.0]).is_constant());
    /// assert!(!Operand::Slice(&[x][..]).is_constant());
    /// // In plain `f64` evaluation nothing carries a derivative.
    /// assert!(Operand::<f64>::Slice(&[1.0]).is_constant());
    /// ```
    #[inline]
    pub fn is_constant(&self) -> bool {
        match self {
            Operand::Const(_) | Operand::Data(_) | Operand::IntData(_) => true,
            Operand::Scalar(r) => match R::MODE {
                EvalMode::Value => true,
                EvalMode::Tape => r.tape_index() == 0,
                EvalMode::Dual => false,
            },
            Operand::Slice(_) | Operand::Gather(..) => R::MODE == EvalMode::Value,
        }
    }

    /// The value of element `i` (scalars broadcast).
    ///
    /// Panics when `i` is out of range of a slice.
    ///
    /// ```
    /// use ppl_core::param::Operand;
    ///
    /// let x: Operand<'_, f64> = Operand::IntData(&[3, 4]);
    /// assert_eq!(x.value(1), 4.0);
    /// assert_eq!(Operand::<f64>::Const(0.5).value(99), 0.5); // a scalar broadcasts
    /// ```
    #[inline(always)]
    pub fn value(&self, i: usize) -> f64 {
        match self {
            Operand::Const(c) => *c,
            Operand::Scalar(r) => r.value(),
            Operand::Data(s) => s[i],
            Operand::IntData(s) => s[i] as f64,
            Operand::Slice(s) => s[i].value(),
            Operand::Gather(v, index) => v[index.as_slice()[i]].value(),
        }
    }

    /// Element `i` as a model scalar (scalars broadcast).
    ///
    /// ```
    /// use ppl_core::param::Operand;
    /// use ppl_core::tape::{self, Var};
    /// use ppl_core::Real;
    ///
    /// tape::reset();
    /// let xs = [Var::leaf(1.0), Var::leaf(2.0)];
    /// let op = Operand::Slice(&xs);
    /// assert_eq!(op.lift(1).index(), xs[1].index()); // the same tape slot: gradients flow back
    /// let data: Operand<'_, Var> = Operand::Data(&[5.0]);
    /// assert_eq!((data.lift(0).value(), data.lift(0).index()), (5.0, 0)); // a constant
    /// ```
    #[inline(always)]
    pub fn lift(&self, i: usize) -> R {
        match self {
            Operand::Const(c) => R::constant(*c),
            Operand::Scalar(r) => *r,
            Operand::Data(s) => R::constant(s[i]),
            Operand::IntData(s) => R::constant(s[i] as f64),
            Operand::Slice(s) => s[i],
            Operand::Gather(v, index) => v[index.as_slice()[i]],
        }
    }

    /// True for a gathered operand ([`Operand::Gather`]).
    ///
    /// ```
    /// use ppl_core::param::{gather, Param};
    ///
    /// let theta = [1.0, 2.0];
    /// assert!(Param::<f64>::operand(&gather(&theta[..], &[1, 1])).is_gather());
    /// assert!(!Param::<f64>::operand(&theta).is_gather());
    /// ```
    #[inline]
    pub fn is_gather(&self) -> bool {
        matches!(self, Operand::Gather(..))
    }

    /// A gathered operand copied into `buf` and viewed as a plain slice; any other operand
    /// is returned unchanged. Densities with hand-written tape code that only know plain
    /// slices call this first, so gathered parameters keep their gradients.
    ///
    /// ```
    /// use ppl_core::param::{gather, Operand, Param};
    /// use ppl_core::tape::{self, Var};
    ///
    /// tape::reset();
    /// let theta = [Var::leaf(1.0), Var::leaf(2.0)];
    /// let g = gather(&theta[..], &[1, 1, 0]);
    /// let mut buf = Vec::new();
    /// let op = Param::<Var>::operand(&g).materialize(&mut buf);
    /// assert!(matches!(op, Operand::Slice(_)));
    /// assert_eq!(op.values(3).collect::<Vec<_>>(), [2.0, 2.0, 1.0]);
    /// assert_eq!(buf[0].index(), theta[1].index()); // copies of the same tape scalars
    /// // Any other operand comes back unchanged.
    /// assert!(matches!(Operand::<Var>::Const(1.0).materialize(&mut buf), Operand::Const(_)));
    /// ```
    pub fn materialize<'b>(self, buf: &'b mut Vec<R>) -> Operand<'b, R>
    where
        'a: 'b,
    {
        match self {
            Operand::Gather(v, index) => {
                buf.clear();
                buf.extend(index.as_slice().iter().map(|i| v[*i]));
                Operand::Slice(buf)
            }
            other => other,
        }
    }

    /// Calls `f(&mut out[i], value of element i)` for every `i < out.len()` (scalars
    /// broadcast), with the operand's kind matched once rather than per element as
    /// [`value`](Self::value) does: a tight loop for each kind.
    ///
    /// ```
    /// use ppl_core::param::Operand;
    /// let x: Operand<'_, f64> = Operand::Data(&[1.0, 2.0, 3.0]);
    /// let mu: Operand<'_, f64> = Operand::Const(0.5);
    /// let mut r = [0.0; 3];
    /// x.apply_values(&mut r, |ri, xi| *ri = xi);
    /// mu.apply_values(&mut r, |ri, m| *ri -= m); // the constant broadcasts
    /// assert_eq!(r, [0.5, 1.5, 2.5]);
    /// ```
    #[inline(always)]
    pub fn apply_values(&self, out: &mut [f64], f: impl Fn(&mut f64, f64)) {
        let n = out.len();
        match self {
            Operand::Const(c) => out.iter_mut().for_each(|o| f(o, *c)),
            Operand::Scalar(r) => {
                let v = r.value();
                out.iter_mut().for_each(|o| f(o, v));
            }
            Operand::Data(s) => out.iter_mut().zip(&s[..n]).for_each(|(o, v)| f(o, *v)),
            Operand::IntData(s) => out
                .iter_mut()
                .zip(&s[..n])
                .for_each(|(o, v)| f(o, *v as f64)),
            Operand::Slice(s) => out
                .iter_mut()
                .zip(&s[..n])
                .for_each(|(o, v)| f(o, v.value())),
            Operand::Gather(v, index) => out
                .iter_mut()
                .zip(&index.as_slice()[..n])
                .for_each(|(o, i)| f(o, v[*i].value())),
        }
    }

    /// Iterates over the plain values of all `n` broadcast elements.
    ///
    /// ```
    /// use ppl_core::param::Operand;
    ///
    /// let mu: Operand<'_, f64> = Operand::Const(2.0);
    /// assert_eq!(mu.values(3).collect::<Vec<_>>(), [2.0, 2.0, 2.0]); // broadcast
    /// let x: Operand<'_, f64> = Operand::Data(&[1.0, 2.0, 3.0]);
    /// assert_eq!(x.values(2).collect::<Vec<_>>(), [1.0, 2.0]); // the first n
    /// ```
    pub fn values(&self, n: usize) -> impl Iterator<Item = f64> + '_ {
        (0..n).map(move |i| self.value(i))
    }

    /// The first non-finite element, if any, as `(index, value)`.
    ///
    /// ```
    /// use ppl_core::param::Operand;
    ///
    /// let x: Operand<'_, f64> = Operand::Data(&[1.0, f64::INFINITY, f64::NAN]);
    /// assert_eq!(x.first_non_finite(), Some((1, f64::INFINITY)));
    /// assert_eq!(Operand::<f64>::Data(&[1.0, 2.0]).first_non_finite(), None);
    /// let (i, v) = Operand::<f64>::Const(f64::NAN).first_non_finite().unwrap();
    /// assert!(i == 0 && v.is_nan());
    /// ```
    pub fn first_non_finite(&self) -> Option<(usize, f64)> {
        let n = self.len().unwrap_or(1);
        (0..n)
            .map(|i| (i, self.value(i)))
            .find(|(_, v)| !v.is_finite())
    }
}

/// Something usable as a distribution parameter or value: see the module docs.
///
/// Implemented for `f64`, `i64`, the model scalar, and `&[E]`, `&Vec<E>`, `Vec<E>`,
/// `[E; N]`, `&[E; N]` for any element type `E` (data or model scalars).
///
/// Every distribution parameter is generic over it, so the same constructor takes data
/// or model scalars, scalars or vectors:
///
/// ```
/// use ppl_core::dist::{Distribution, Normal};
/// use ppl_core::param::{Operand, Param};
///
/// let ys = vec![0.0, 2.0];
/// let x: Operand<'_, f64> = Param::<f64>::operand(&ys);
/// assert_eq!(x.len(), Some(2));
/// // A vector of means against a scalar sigma: Σ ln N(yᵢ | muᵢ, 1) with every yᵢ = muᵢ.
/// let d = Normal::new(vec![0.0, 2.0], 1.0).unwrap();
/// let lp: f64 = d.log_density(x).unwrap();
/// assert!((lp - -(2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
/// ```
pub trait Param<R: Real> {
    /// The uniform view.
    fn operand(&self) -> Operand<'_, R>;
}

impl<R: Real> Param<R> for f64 {
    #[inline]
    fn operand(&self) -> Operand<'_, R> {
        Operand::Const(*self)
    }
}

impl<R: Real> Param<R> for i64 {
    #[inline]
    fn operand(&self) -> Operand<'_, R> {
        Operand::Const(*self as f64)
    }
}

impl<R: Real, E: Elem<R>> Param<R> for &[E] {
    #[inline]
    fn operand(&self) -> Operand<'_, R> {
        E::slice_operand(self)
    }
}
impl<R: Real, E: Elem<R>> Param<R> for &Vec<E> {
    #[inline]
    fn operand(&self) -> Operand<'_, R> {
        E::slice_operand(self)
    }
}
impl<R: Real, E: Elem<R>> Param<R> for Vec<E> {
    #[inline]
    fn operand(&self) -> Operand<'_, R> {
        E::slice_operand(self)
    }
}
impl<R: Real, E: Elem<R>, const N: usize> Param<R> for [E; N] {
    #[inline]
    fn operand(&self) -> Operand<'_, R> {
        E::slice_operand(self)
    }
}
impl<R: Real, E: Elem<R>, const N: usize> Param<R> for &[E; N] {
    #[inline]
    fn operand(&self) -> Operand<'_, R> {
        E::slice_operand(*self)
    }
}

/// `values[index[i]]` for every `i`, without copying: see [`gather`].
///
/// Used as a distribution parameter, it behaves like the gathered vector:
///
/// ```
/// use ppl_core::dist::{Distribution, Normal};
/// use ppl_core::param::{gather, Param};
///
/// let theta = [0.0, 10.0];
/// let group = [1, 0, 1];
/// let y = [9.0, 0.5, 11.0];
/// let gathered = Normal::new(gather(&theta[..], &group), 1.0).unwrap();
/// let lp: f64 = gathered.log_density(Param::<f64>::operand(&y)).unwrap();
/// // The same as with the means (10, 0, 10) written out: residuals (−1, 0.5, 1).
/// let want = -0.5 * (1.0 + 0.25 + 1.0) - 1.5 * (2.0 * std::f64::consts::PI).ln();
/// assert!((lp - want).abs() < 1e-12);
/// // An index out of range is refused by the constructor.
/// let err = Normal::new(gather(&theta[..], &[2]), 1.0).unwrap_err();
/// assert_eq!(err.parameter, "mu");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Gather<'a, R> {
    values: &'a [R],
    index: &'a [usize],
    in_range: bool,
}

/// Picks `values[index[i]]` for each `i` as one distribution parameter (Stan's
/// `theta[group]`). The gradient flows back to the few source elements in one tape node
/// instead of one edge per element. An index out of range makes the distribution's
/// constructor fail, naming the parameter.
///
/// ```
/// use ppl_core::param::{gather, Param};
/// let theta = [1.0, 2.0];
/// let g = gather(&theta[..], &[1, 0, 1]);
/// let op = Param::<f64>::operand(&g);
/// assert_eq!(op.len(), Some(3));
/// assert_eq!(op.value(2), 2.0);
/// ```
pub fn gather<'a, R>(values: &'a [R], index: &'a [usize]) -> Gather<'a, R> {
    let in_range = all_below(index, values.len());
    Gather {
        values,
        index,
        in_range,
    }
}

crate::vecmath::simd_fn! {
    /// True when every index is below `n`. A count of comparisons vectorises (`max()`
    /// and short-circuiting `all()` do not), and 64-bit comparisons need AVX2. The check
    /// runs on every evaluation of a model that gathers, so it matters.
    fn all_below(index: &[usize], n: usize) -> bool {
        index.iter().map(|&i| usize::from(i >= n)).sum::<usize>() == 0
    }
}

impl<R: Real> Param<R> for Gather<'_, R> {
    #[inline]
    fn operand(&self) -> Operand<'_, R> {
        if self.in_range {
            Operand::Gather(
                self.values,
                GatherIndex {
                    index: self.index,
                    bound: self.values.len(),
                },
            )
        } else {
            // Unreachable through constructors (they reject it); an empty operand keeps
            // any other use from indexing out of range.
            Operand::Slice(&[])
        }
    }
}

impl<R: ScalarValue> ParamValues for Gather<'_, R> {
    fn param_len(&self) -> Option<usize> {
        Some(self.index.len())
    }
    fn param_value(&self, i: usize) -> f64 {
        self.values
            .get(self.index[i])
            .map_or(f64::NAN, |v| v.scalar_value())
    }
    fn is_data(&self) -> bool {
        false
    }
    fn out_of_range(&self) -> bool {
        !self.in_range
    }
}

/// A scalar whose plain value can be read without knowing the model's scalar type.
pub trait ScalarValue: Copy {
    /// The plain value.
    fn scalar_value(&self) -> f64;
}
impl ScalarValue for f64 {
    #[inline]
    fn scalar_value(&self) -> f64 {
        *self
    }
}
impl ScalarValue for i64 {
    #[inline]
    fn scalar_value(&self) -> f64 {
        *self as f64
    }
}

/// Plain values of a parameter, for validation in constructors (which do not know the
/// model's scalar type).
///
/// A custom distribution's constructor checks its parameters through it (usually via
/// [`check_param`]):
///
/// ```
/// use ppl_core::param::{check_param, ParamValues};
///
/// assert_eq!((2.5.param_len(), 2.5.param_value(7)), (None, 2.5)); // a scalar broadcasts
/// assert_eq!(([1.0, -3.0].param_len(), [1.0, -3.0].param_value(1)), (Some(2), -3.0));
/// assert!(vec![1.0].is_data());
///
/// let err = check_param("MyDist", "scale", &[1.0, -3.0], "must be positive", |s| s > 0.0);
/// assert_eq!(err.unwrap_err().value, -3.0);
/// ```
pub trait ParamValues {
    /// `None` for a scalar, else the slice length.
    fn param_len(&self) -> Option<usize>;
    /// Element `i` (scalars ignore `i`).
    fn param_value(&self, i: usize) -> f64;
    /// True when every element is constant data (`f64`/`i64`), so it can be validated.
    fn is_data(&self) -> bool;
    /// True when the parameter indexes outside its source (see [`gather`]).
    fn out_of_range(&self) -> bool {
        false
    }
}

macro_rules! scalar_param_values {
    ($($t:ty: $data:expr),*) => {$(
        impl ParamValues for $t {
            #[inline]
            fn param_len(&self) -> Option<usize> { None }
            #[inline]
            fn param_value(&self, _i: usize) -> f64 { self.scalar_value() }
            #[inline]
            fn is_data(&self) -> bool { $data }
        }
    )*};
}
scalar_param_values!(f64: true, i64: true);

/// True when `E` is plain data (`f64` or `i64`) rather than a model scalar.
pub trait DataKind {
    /// Whether values of this type are constants.
    const IS_DATA: bool;
}
impl DataKind for f64 {
    const IS_DATA: bool = true;
}
impl DataKind for i64 {
    const IS_DATA: bool = true;
}

macro_rules! slice_param_values {
    ($($t:ty),*) => {$(
        impl<E: ScalarValue + DataKind> ParamValues for $t {
            #[inline]
            fn param_len(&self) -> Option<usize> { Some(self.len()) }
            #[inline]
            fn param_value(&self, i: usize) -> f64 { self[i].scalar_value() }
            #[inline]
            fn is_data(&self) -> bool { E::IS_DATA }
        }
    )*};
}
slice_param_values!(&[E], &Vec<E>, Vec<E>);
impl<E: ScalarValue + DataKind, const N: usize> ParamValues for [E; N] {
    fn param_len(&self) -> Option<usize> {
        Some(N)
    }
    fn param_value(&self, i: usize) -> f64 {
        self[i].scalar_value()
    }
    fn is_data(&self) -> bool {
        E::IS_DATA
    }
}
impl<E: ScalarValue + DataKind, const N: usize> ParamValues for &[E; N] {
    fn param_len(&self) -> Option<usize> {
        Some(N)
    }
    fn param_value(&self, i: usize) -> f64 {
        self[i].scalar_value()
    }
    fn is_data(&self) -> bool {
        E::IS_DATA
    }
}

/// Checks a parameter: constant data must be finite and satisfy `ok`; model scalars must
/// satisfy `ok` (a NaN fails any comparison, so it fails a comparing requirement, but
/// passes one that always holds).
///
/// Parameters that are model scalars are checked because a constructor called with a
/// value outside the parameter space fails, and the model runtime turns that failure
/// into a log-density of −∞ during inference (the point is outside the support). For a
/// requirement that always holds (`|_| true`) the compiler removes the loop over model
/// scalars entirely, so unconstrained parameters cost nothing to check.
///
/// ```
/// use ppl_core::param::check_param;
/// use ppl_core::tape::{self, Var};
///
/// let positive = |s: f64| s > 0.0;
/// assert!(check_param("Gamma", "rate", &[1.0, 2.0], "must be positive", positive).is_ok());
/// let err = check_param("Gamma", "rate", &[1.0, 0.0], "must be positive", positive);
/// assert_eq!(err.unwrap_err().to_string(), "Gamma: parameter `rate` must be positive, got 0");
/// // Data must be finite whatever the requirement.
/// let err = check_param("Normal", "mu", &f64::INFINITY, "is any number", |_| true);
/// assert_eq!(err.unwrap_err().to_string(), "Normal: parameter `mu` must be finite, got inf");
/// // A model scalar meets the requirement alone: a NaN fails a comparison...
/// tape::reset();
/// let nan = Var::leaf(f64::NAN);
/// assert!(check_param("Gamma", "rate", &nan, "must be positive", positive).is_err());
/// // ...but passes a requirement that always holds.
/// assert!(check_param("Normal", "mu", &nan, "is any number", |_| true).is_ok());
/// ```
pub fn check_param(
    distribution: &'static str,
    parameter: &'static str,
    p: &impl ParamValues,
    requirement: &'static str,
    ok: impl Fn(f64) -> bool,
) -> Result<(), crate::error::ParamError> {
    if p.out_of_range() {
        return Err(crate::error::ParamError::new(
            distribution,
            parameter,
            "has an index out of range of the gathered values",
            f64::NAN,
        ));
    }
    let n = p.param_len().unwrap_or(1);
    if p.is_data() {
        for i in 0..n {
            let v = p.param_value(i);
            if !v.is_finite() {
                return Err(crate::error::ParamError::new(
                    distribution,
                    parameter,
                    "must be finite",
                    v,
                ));
            }
            if !ok(v) {
                return Err(crate::error::ParamError::new(
                    distribution,
                    parameter,
                    requirement,
                    v,
                ));
            }
        }
    } else {
        for i in 0..n {
            let v = p.param_value(i);
            if !ok(v) {
                return Err(crate::error::ParamError::new(
                    distribution,
                    parameter,
                    requirement,
                    v,
                ));
            }
        }
    }
    Ok(())
}
