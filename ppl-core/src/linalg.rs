//! Small dense linear algebra generic over [`Real`]: a row-major [`Matrix`], Cholesky
//! factorisation, triangular solves and matrix-vector products.
//!
//! Everything works with plain `f64` (data) and with model scalars, so a covariance built
//! from parameters inside a model can be factorised and differentiated. Inner products
//! are recorded as one wide tape node each (see [`glm::dot`](crate::glm::dot)), so a
//! k×k Cholesky factorisation records O(k²) nodes rather than O(k³).
//!
//! ```
//! use ppl_core::linalg::{self, Matrix};
//! let a = Matrix::from_rows(&[[4.0, 2.0], [2.0, 3.0]]);
//! let l = linalg::cholesky(&a).unwrap();
//! assert_eq!(l.as_slice(), &[2.0, 0.0, 1.0, 2.0_f64.sqrt()]);
//! // Solve A x = b with the factor: L y = b, then Lᵀ x = y.
//! let y = linalg::solve_lower(&l, &[6.0, 5.0]);
//! let x = linalg::solve_lower_transpose(&l, &y);
//! assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-12);
//! let log_det: f64 = linalg::log_det_from_cholesky(&l);
//! assert!((log_det - 8.0_f64.ln()).abs() < 1e-12);
//! ```

use crate::glm::dot;
use crate::param::{Elem, Operand, ScalarValue};
use crate::scalar::{EvalMode, Real};
use std::ops::{Index, IndexMut};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use thiserror::Error;

/// Why a factorisation failed.
///
/// ```
/// use ppl_core::linalg::{cholesky, LinalgError, Matrix};
///
/// let wide = Matrix::from_vec(2, 3, vec![1.0; 6]);
/// let err = cholesky(&wide).unwrap_err();
/// assert_eq!(err, LinalgError::NotSquare { rows: 2, cols: 3 });
/// assert_eq!(err.to_string(), "expected a square matrix, got 2×3");
/// // [[1, 2], [2, 1]] has eigenvalues 3 and −1: the second pivot is 1 − 2² = −3.
/// let err = cholesky(&Matrix::from_rows(&[[1.0, 2.0], [2.0, 1.0]])).unwrap_err();
/// assert_eq!(err, LinalgError::NotPositiveDefinite { pivot: 1, value: -3.0 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum LinalgError {
    /// The matrix is not square.
    #[error("expected a square matrix, got {rows}×{cols}")]
    NotSquare {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
    /// A pivot of the Cholesky factorisation was not positive (or not finite).
    #[error("matrix is not positive definite: pivot {pivot} is {value}")]
    NotPositiveDefinite {
        /// The row whose pivot failed.
        pivot: usize,
        /// The pivot's value (`A_jj − Σ L_jk²`).
        value: f64,
    },
}

/// A dense row-major matrix of `f64` data or model scalars.
///
/// ```
/// use ppl_core::linalg::Matrix;
/// let m = Matrix::from_vec(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(m[(1, 2)], 6.0);
/// assert_eq!(m.row(0), &[1.0, 2.0, 3.0]);
/// assert_eq!(m.transpose()[(2, 1)], 6.0);
/// ```
pub struct Matrix<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
    /// What [`Matrix::factor_facts`] found, kept until the matrix is modified (a
    /// data matrix used as a Cholesky factor is then checked once, not per evaluation).
    factor_facts: OnceLock<FactorFacts>,
    /// `(L Lᵀ)⁻¹` for the lower triangle `L`, in blocks of four rows (see
    /// [`Matrix::reused_precision_by`]).
    precision: OnceLock<Vec<f64>>,
    /// How often the precision was asked for.
    inverse_requests: AtomicU32,
}

/// Facts about a matrix used as a lower-triangular (Cholesky) factor.
///
/// The facts are independent: `valid` looks at the shape, the upper triangle and the
/// diagonal only, `finite` at every element.
///
/// ```
/// use ppl_core::linalg::{FactorFacts, Matrix};
/// let mut l = Matrix::from_rows(&[[1.0, 0.0], [f64::NAN, 1.0]]);
/// let facts: FactorFacts = l.factor_facts();
/// assert!(facts.valid && !facts.finite);
/// // Modifying an element forgets the remembered facts.
/// l[(1, 0)] = 0.5;
/// l[(1, 1)] = -1.0;
/// let facts = l.factor_facts();
/// assert!(!facts.valid && facts.finite);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FactorFacts {
    /// Square, zero above the diagonal and positive on it.
    pub valid: bool,
    /// `Σ ln L_ii` (meaningful when `valid`).
    pub log_diagonal_sum: f64,
    /// Every element finite.
    pub finite: bool,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Matrix<T> {
    // The caches are an implementation detail: show the shape and the elements only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("data", &self.data)
            .finish()
    }
}

impl<T: Clone> Clone for Matrix<T> {
    fn clone(&self) -> Self {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.clone(),
            factor_facts: self.factor_facts.clone(),
            precision: self.precision.clone(),
            inverse_requests: AtomicU32::new(self.inverse_requests.load(Ordering::Relaxed)),
        }
    }
}

impl<T: PartialEq> PartialEq for Matrix<T> {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows && self.cols == other.cols && self.data == other.data
    }
}

impl<T: ScalarValue> Matrix<T> {
    /// Whether the matrix is a valid Cholesky factor, and its log-diagonal sum: computed
    /// on first use and remembered until the matrix is modified.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let l = Matrix::from_rows(&[[2.0, 0.0], [0.5, 1.0]]);
    /// let facts = l.factor_facts();
    /// assert!(facts.valid);
    /// assert!((facts.log_diagonal_sum - 2f64.ln()).abs() < 1e-15);
    /// assert!(!Matrix::from_rows(&[[2.0, 0.1], [0.5, 1.0]]).factor_facts().valid);
    /// ```
    pub fn factor_facts(&self) -> FactorFacts {
        self.factor_facts_by(|v| v.scalar_value())
    }
}

impl<T> Matrix<T> {
    /// [`Matrix::factor_facts`] with the elements' plain values given by `value`.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// // A factor stored in single precision, read through a conversion.
    /// let l = Matrix::from_rows(&[[2.0_f32, 0.0], [1.0, 0.5]]);
    /// let facts = l.factor_facts_by(|v| f64::from(*v));
    /// assert!(facts.valid && facts.finite);
    /// assert!(facts.log_diagonal_sum.abs() < 1e-15); // ln 2 + ln ½
    /// ```
    pub fn factor_facts_by(&self, value: impl Fn(&T) -> f64) -> FactorFacts {
        *self.factor_facts.get_or_init(|| {
            let k = self.rows;
            let mut valid = self.rows == self.cols;
            let mut log_diagonal_sum = 0.0;
            let finite = self
                .data
                .iter()
                .fold(true, |ok, v| ok & value(v).is_finite());
            if valid {
                for i in 0..k {
                    let row = &self.data[i * k..(i + 1) * k];
                    let d = value(&row[i]);
                    valid &= d > 0.0;
                    valid &= row[i + 1..]
                        .iter()
                        .fold(true, |ok, v| ok & (value(v) == 0.0));
                    log_diagonal_sum += d.ln();
                }
            }
            FactorFacts {
                valid,
                log_diagonal_sum,
                finite,
            }
        })
    }

    /// The precision `P = (L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹` of the covariance whose Cholesky factor is
    /// the lower triangle `L` of this square matrix (nonzero diagonal), once the matrix
    /// has been asked for it before: a factor that lives across evaluations (data) is
    /// inverted once, O(k³), and every later evaluation of `(x−μ)ᵀP(x−μ)` and its
    /// gradient `P(x−μ)` is one symmetric matrix-vector product instead of two triangular
    /// solves; a factor rebuilt per evaluation is never inverted (`None`: solve instead).
    ///
    /// Layout ([`PrecisionBlocks`]): the lower triangle in blocks of four rows (the last
    /// padded with zero rows); the rows of block `b` hold columns `0 .. 4(b+1)`, so the
    /// block's corner is a full 4×4 square with zeros above the diagonal, and the
    /// diagonal is stored halved (a product that uses every stored entry twice, once per
    /// side of the diagonal, then counts it once).
    pub(crate) fn reused_precision_by(&self, value: impl Fn(&T) -> f64) -> Option<&[f64]> {
        if let Some(p) = self.precision.get() {
            return Some(p);
        }
        if self.inverse_requests.fetch_add(1, Ordering::Relaxed) < 1 {
            return None;
        }
        let k = self.rows;
        let p = self.precision.get_or_init(|| {
            let l: Vec<f64> = self.data.iter().map(&value).collect();
            let mut inv = vec![0.0; k * k];
            lower_inverse(&l, k, &mut inv);
            let mut p = vec![0.0; PrecisionBlocks::len(k)];
            for i in 0..k {
                let row = &mut p[PrecisionBlocks::row_offset(i)..];
                for (j, pij) in row[..=i].iter_mut().enumerate() {
                    let v = precision_entry(&inv, k, i, j);
                    *pij = if i == j { 0.5 * v } else { v };
                }
            }
            p
        });
        Some(p)
    }
}

/// The inverse of the lower triangle of `l` (row-major k×k, nonzero diagonal) into
/// `out` (row-major, zero above the diagonal): column `j` by forward substitution on the
/// unit vector `e_j`.
pub(crate) fn lower_inverse(l: &[f64], k: usize, out: &mut [f64]) {
    out[..k * k].fill(0.0);
    for j in 0..k {
        out[j * k + j] = 1.0 / l[j * k + j];
        for i in j + 1..k {
            let s: f64 = (j..i).map(|m| l[i * k + m] * out[m * k + j]).sum();
            out[i * k + j] = -s / l[i * k + i];
        }
    }
}

/// Entry `(i, j)` of the precision `L⁻ᵀ L⁻¹` from the row-major lower inverse `linv`:
/// `Σ_{m ≥ max(i, j)} (L⁻¹)_mi (L⁻¹)_mj`.
pub(crate) fn precision_entry(linv: &[f64], k: usize, i: usize, j: usize) -> f64 {
    (i.max(j)..k)
        .map(|m| linv[m * k + i] * linv[m * k + j])
        .sum()
}

/// Where [`Matrix::reused_precision_by`] keeps the entries of a k×k precision: blocks of
/// four rows, the rows of block `b` holding columns `0 .. 4(b+1)` (16(b+1) values a
/// block), the blocks one after another.
pub(crate) struct PrecisionBlocks;

impl PrecisionBlocks {
    /// The number of blocks for dimension `k`.
    pub(crate) fn blocks(k: usize) -> usize {
        k.div_ceil(4)
    }

    /// Values stored for dimension `k`.
    pub(crate) fn len(k: usize) -> usize {
        let b = Self::blocks(k);
        8 * b * (b + 1)
    }

    /// Where block `b` starts.
    pub(crate) fn block_offset(b: usize) -> usize {
        8 * b * (b + 1)
    }

    /// Where row `i` starts.
    pub(crate) fn row_offset(i: usize) -> usize {
        let (b, q) = (i / 4, i % 4);
        Self::block_offset(b) + 4 * q * (b + 1)
    }
}

impl<T: Copy> Matrix<T> {
    /// A matrix from its row-major elements.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let m = Matrix::from_vec(2, 2, vec![1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!((m[(0, 1)], m[(1, 0)]), (2.0, 3.0)); // row-major
    /// assert!(std::panic::catch_unwind(|| Matrix::from_vec(2, 2, vec![1.0; 3])).is_err());
    /// ```
    ///
    /// # Panics
    /// If `data.len() != rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "a {rows}×{cols} matrix needs {} elements",
            rows * cols
        );
        Matrix::new_unchecked(rows, cols, data)
    }

    fn new_unchecked(rows: usize, cols: usize, data: Vec<T>) -> Self {
        Matrix {
            rows,
            cols,
            data,
            factor_facts: OnceLock::new(),
            precision: OnceLock::new(),
            inverse_requests: AtomicU32::new(0),
        }
    }

    /// A matrix from its rows (arrays, vectors or slices).
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let a = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let b = Matrix::from_rows(&[vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
    /// assert_eq!(a, b);
    /// assert_eq!((a.nrows(), a.ncols()), (2, 3));
    /// assert_eq!(a[(1, 0)], 4.0);
    /// ```
    ///
    /// # Panics
    /// If the rows have different lengths.
    pub fn from_rows<V: AsRef<[T]>>(rows: &[V]) -> Self {
        let cols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, r) in rows.iter().enumerate() {
            let r = r.as_ref();
            assert_eq!(
                r.len(),
                cols,
                "row {i} has {} elements, row 0 has {cols}",
                r.len()
            );
            data.extend_from_slice(r);
        }
        Matrix::new_unchecked(rows.len(), cols, data)
    }

    /// A matrix whose element `(i, j)` is `f(i, j)`.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let hilbert = Matrix::from_fn(3, 3, |i, j| 1.0 / (i + j + 1) as f64);
    /// assert_eq!(hilbert[(2, 1)], 0.25);
    /// assert_eq!(hilbert, hilbert.transpose());
    /// ```
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Matrix::new_unchecked(rows, cols, data)
    }

    /// Number of rows.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// assert_eq!(Matrix::<f64>::zeros(2, 5).nrows(), 2);
    /// ```
    pub fn nrows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// assert_eq!(Matrix::<f64>::zeros(2, 5).ncols(), 5);
    /// ```
    pub fn ncols(&self) -> usize {
        self.cols
    }

    /// True when the matrix has as many rows as columns.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// assert!(Matrix::<f64>::identity(3).is_square());
    /// assert!(!Matrix::<f64>::zeros(2, 3).is_square());
    /// ```
    pub fn is_square(&self) -> bool {
        self.rows == self.cols
    }

    /// The row-major elements.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let m = Matrix::from_rows(&[[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(m.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    /// ```
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The row-major elements, by value.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let m = Matrix::from_rows(&[[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(m.transpose().into_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Row `i`.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let m = Matrix::from_rows(&[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// assert_eq!(m.row(2), &[5.0, 6.0]);
    /// ```
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// The transpose.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let m = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let t = m.transpose();
    /// assert_eq!((t.nrows(), t.ncols()), (3, 2));
    /// assert_eq!(t.row(2), &[3.0, 6.0]);
    /// assert_eq!(t.transpose(), m);
    /// ```
    pub fn transpose(&self) -> Self {
        Matrix::from_fn(self.cols, self.rows, |i, j| self[(j, i)])
    }

    /// Applies `f` to every element.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let m = Matrix::from_rows(&[[1.0, -2.0], [3.0, -4.0]]);
    /// let signs: Matrix<bool> = m.map(|v| *v > 0.0);
    /// assert_eq!(signs.as_slice(), &[true, false, true, false]);
    /// ```
    pub fn map<U>(&self, f: impl FnMut(&T) -> U) -> Matrix<U> {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(f).collect(),
            factor_facts: OnceLock::new(),
            precision: OnceLock::new(),
            inverse_requests: AtomicU32::new(0),
        }
    }
}

impl<T: ScalarValue> Matrix<T> {
    /// The plain values.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// use ppl_core::tape::{self, Var};
    /// tape::reset();
    /// let m = Matrix::from_fn(2, 2, |i, j| Var::leaf((i + 2 * j) as f64));
    /// assert_eq!(m.values(), Matrix::from_rows(&[[0.0, 2.0], [1.0, 3.0]]));
    /// ```
    pub fn values(&self) -> Matrix<f64> {
        self.map(|v| v.scalar_value())
    }
}

impl<R: Real> Matrix<R> {
    /// The `rows`×`cols` zero matrix.
    ///
    /// ```
    /// use ppl_core::linalg::Matrix;
    /// let z = Matrix::<f64>::zeros(2, 3);
    /// assert_eq!(z.as_slice(), &[0.0; 6]);
    /// ```
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix::from_vec(rows, cols, vec![R::constant(0.0); rows * cols])
    }

    /// The n×n identity.
    ///
    /// ```
    /// use ppl_core::linalg::{mat_mul, Matrix};
    /// let a = Matrix::from_fn(3, 3, |i, j| (3 * i + j) as f64);
    /// let ai: Matrix<f64> = mat_mul(&a, &Matrix::<f64>::identity(3));
    /// assert_eq!(ai, a);
    /// ```
    pub fn identity(n: usize) -> Self {
        Matrix::from_fn(n, n, |i, j| R::constant(if i == j { 1.0 } else { 0.0 }))
    }

    /// A square matrix with `d` on its diagonal.
    ///
    /// ```
    /// use ppl_core::linalg::{cholesky, Matrix};
    /// let d = Matrix::diagonal(&[4.0, 9.0]);
    /// assert_eq!(d.as_slice(), &[4.0, 0.0, 0.0, 9.0]);
    /// // Its Cholesky factor is the diagonal of square roots.
    /// assert_eq!(cholesky(&d).unwrap(), Matrix::diagonal(&[2.0, 3.0]));
    /// ```
    pub fn diagonal(d: &[R]) -> Self {
        let n = d.len();
        Matrix::from_fn(n, n, |i, j| if i == j { d[i] } else { R::constant(0.0) })
    }
}

impl<T> Index<(usize, usize)> for Matrix<T> {
    type Output = T;
    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &self.data[i * self.cols + j]
    }
}

impl<T> IndexMut<(usize, usize)> for Matrix<T> {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        // The element may change: forget what was learnt about the matrix.
        self.factor_facts = OnceLock::new();
        self.precision = OnceLock::new();
        *self.inverse_requests.get_mut() = 0;
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &mut self.data[i * self.cols + j]
    }
}

/// The lower-triangular Cholesky factor `L` of a symmetric positive-definite `a`
/// (`a = L Lᵀ`; only the lower triangle of `a` is read). Fails when `a` is not square
/// or a pivot is not positive.
///
/// ```
/// use ppl_core::linalg::{cholesky, mul_transpose, Matrix, LinalgError};
/// use ppl_core::tape::{self, Var};
/// use ppl_core::Real;
///
/// let a = Matrix::from_rows(&[[1.0, 2.0], [2.0, 1.0]]);
/// assert!(matches!(cholesky(&a), Err(LinalgError::NotPositiveDefinite { pivot: 1, .. })));
///
/// // L Lᵀ gives back A, and L is a valid factor.
/// let a = Matrix::from_rows(&[[4.0, 2.0, 0.4], [2.0, 5.0, 1.0], [0.4, 1.0, 3.0]]);
/// let l = cholesky(&a).unwrap();
/// assert!(l.factor_facts().valid);
/// let back: Matrix<f64> = mul_transpose(&l);
/// for (x, y) in back.as_slice().iter().zip(a.as_slice()) {
///     assert!((x - y).abs() < 1e-14);
/// }
///
/// // Differentiable: for A = [[a, b], [b, c]], L₁₁ = √(c − b²/a), so
/// // ∂L₁₁/∂a = b²/(2a² L₁₁), ∂L₁₁/∂b = −b/(a L₁₁), ∂L₁₁/∂c = 1/(2 L₁₁).
/// tape::reset();
/// let vars = Matrix::from_fn(2, 2, |i, j| Var::leaf([[4.0, 2.0], [2.0, 3.0]][i][j]));
/// let l = cholesky(&vars).unwrap();
/// let l11 = 2f64.sqrt();
/// assert!((l[(1, 1)].value() - l11).abs() < 1e-15);
/// let mut grad = [0.0; 4];
/// tape::gradient(l[(1, 1)], vars.as_slice(), &mut grad);
/// let want = [4.0 / (32.0 * l11), 0.0, -2.0 / (4.0 * l11), 1.0 / (2.0 * l11)];
/// for (g, w) in grad.iter().zip(want) {
///     assert!((g - w).abs() < 1e-15); // only the lower triangle is read: ∂/∂A₀₁ = 0
/// }
/// ```
pub fn cholesky<R: Real>(a: &Matrix<R>) -> Result<Matrix<R>, LinalgError> {
    if !a.is_square() {
        return Err(LinalgError::NotSquare {
            rows: a.rows,
            cols: a.cols,
        });
    }
    if R::MODE == EvalMode::Tape {
        return cholesky_recorded(a);
    }
    let n = a.rows;
    let mut l = vec![R::constant(0.0); n * n];
    for j in 0..n {
        let row_j = &l[j * n..j * n + j];
        let pivot = a[(j, j)] - dot::<R, R, R>(row_j, row_j);
        let p = pivot.value();
        if !(p > 0.0 && p.is_finite()) {
            return Err(LinalgError::NotPositiveDefinite { pivot: j, value: p });
        }
        let d = pivot.sqrt();
        l[j * n + j] = d;
        for i in j + 1..n {
            let s = dot::<R, R, R>(&l[i * n..i * n + j], &l[j * n..j * n + j]);
            l[i * n + j] = (a[(i, j)] - s) / d;
        }
    }
    Ok(Matrix::from_vec(n, n, l))
}

/// Factorises the values of `a` into the row-major `l` (lower triangle written, upper
/// left as given).
fn cholesky_values(
    n: usize,
    a: impl Fn(usize, usize) -> f64,
    l: &mut [f64],
) -> Result<(), LinalgError> {
    for j in 0..n {
        let row_j = &mut l[j * n..j * n + n];
        let pivot = a(j, j) - dot_f64(&row_j[..j], &row_j[..j]);
        if !(pivot > 0.0 && pivot.is_finite()) {
            return Err(LinalgError::NotPositiveDefinite {
                pivot: j,
                value: pivot,
            });
        }
        let d = pivot.sqrt();
        row_j[j] = d;
        for i in j + 1..n {
            let (upper, lower) = l.split_at_mut(i * n);
            let row_j = &upper[j * n..j * n + j];
            let s = dot_f64(&lower[..j], row_j);
            lower[j] = (a(i, j) - s) / d;
        }
    }
    Ok(())
}

/// The tape path of [`cholesky`]: the factor is computed in `f64` and recorded as one
/// multi-output node (inputs and outputs: the lower triangles, row by row) whose reverse
/// step is [`cholesky_backward`]. O(k³) arithmetic and O(k²) tape slots, where the
/// scalar algorithm would record O(k²) nodes with O(k³) edges.
fn cholesky_recorded<R: Real>(a: &Matrix<R>) -> Result<Matrix<R>, LinalgError> {
    let n = a.rows;
    // The factor's values in work memory from the thread's pool; the tape keeps a copy.
    crate::vectorized::with_columns::<1, _>(|[l]| {
        l.resize(n * n, 0.0);
        cholesky_values(n, |i, j| a.data[i * n + j].value(), l)?;
        let first = crate::tape::Var::multi_output(
            (0..n).flat_map(|i| (0..=i).map(move |j| a.data[i * n + j].tape_index())),
            n * (n + 1) / 2,
            l,
            n,
            cholesky_backward,
        );
        let mut slot = first;
        let mut out = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                if j <= i {
                    out.push(R::from_tape(l[i * n + j], slot));
                    if first != 0 {
                        slot += 1;
                    }
                } else {
                    out.push(R::constant(0.0));
                }
            }
        }
        Ok(Matrix::from_vec(n, n, out))
    })
}

/// Reverse step of the Cholesky factorisation: the scalar algorithm of [`cholesky`]
/// run backwards (column by column from the last; within a column the off-diagonal
/// entries before the pivot). `data` is the row-major factor, the adjoints are packed
/// lower triangles row by row.
fn cholesky_backward(
    m: &crate::tape::MultiOutput<'_>,
    input_adjoints: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    let n = m.meta;
    let l = m.data;
    // L̄, row-major, from the packed output adjoints.
    scratch.clear();
    scratch.resize(n * n, 0.0);
    let lbar = &mut scratch[..];
    let mut p = 0;
    for i in 0..n {
        for j in 0..=i {
            lbar[i * n + j] = m.output_adjoints[p];
            p += 1;
        }
    }
    let packed = |i: usize, j: usize| i * (i + 1) / 2 + j;
    for j in (0..n).rev() {
        let d = l[j * n + j];
        let l_j = &l[j * n..j * n + j];
        for i in (j + 1..n).rev() {
            let g = lbar[i * n + j];
            if g == 0.0 {
                continue;
            }
            // L_ij = (A_ij − Σ_k L_ik L_jk) / L_jj.
            input_adjoints[packed(i, j)] = g / d;
            let s = -g / d;
            let l_i = &l[i * n..i * n + j];
            let (upper, lower) = lbar.split_at_mut(i * n);
            let lbar_j = &mut upper[j * n..j * n + j];
            let lbar_i = &mut lower[..j];
            for k in 0..j {
                lbar_i[k] += s * l_j[k];
                lbar_j[k] += s * l_i[k];
            }
            upper[j * n + j] -= g * l[i * n + j] / d;
        }
        // L_jj = √(A_jj − Σ_k L_jk²).
        let pbar = lbar[j * n + j] * 0.5 / d;
        input_adjoints[packed(j, j)] = pbar;
        let lbar_j = &mut lbar[j * n..j * n + j];
        for k in 0..j {
            lbar_j[k] -= 2.0 * pbar * l_j[k];
        }
    }
}

/// Solves `L x = b` for lower-triangular `L` by forward substitution (only the lower
/// triangle of `l` is read).
///
/// ```
/// use ppl_core::linalg::{solve_lower, Matrix};
/// // The 99 above the diagonal is ignored.
/// let l = Matrix::from_rows(&[[2.0, 99.0], [1.0, 4.0]]);
/// // 2·2 = 4 and 1·2 + 4·2 = 10.
/// assert_eq!(solve_lower(&l, &[4.0, 10.0]), vec![2.0, 2.0]);
/// ```
///
/// # Panics
/// If `l` is not square or `b` has the wrong length.
pub fn solve_lower<R: Real>(l: &Matrix<R>, b: &[R]) -> Vec<R> {
    let n = check_square_system(l, b.len());
    let mut x: Vec<R> = Vec::with_capacity(n);
    for (i, &bi) in b.iter().enumerate() {
        let s = dot::<R, R, R>(&l.data[i * n..i * n + i], &x);
        x.push((bi - s) / l.data[i * n + i]);
    }
    x
}

/// Solves `Lᵀ x = b` for lower-triangular `L` by back substitution (only the lower
/// triangle of `l` is read).
///
/// ```
/// use ppl_core::linalg::{solve_lower_transpose, Matrix};
/// let l = Matrix::from_rows(&[[2.0, 99.0], [1.0, 4.0]]);
/// // Lᵀ = [[2, 1], [0, 4]]: 4·2 = 8 and 2·1 + 1·2 = 4.
/// assert_eq!(solve_lower_transpose(&l, &[4.0, 8.0]), vec![1.0, 2.0]);
/// ```
///
/// # Panics
/// If `l` is not square or `b` has the wrong length.
pub fn solve_lower_transpose<R: Real>(l: &Matrix<R>, b: &[R]) -> Vec<R> {
    let n = check_square_system(l, b.len());
    let mut x = vec![R::constant(0.0); n];
    for i in (0..n).rev() {
        let mut s = b[i];
        for (j, &xj) in x.iter().enumerate().skip(i + 1) {
            s -= l.data[j * n + i] * xj;
        }
        x[i] = s / l.data[i * n + i];
    }
    x
}

fn check_square_system<T>(l: &Matrix<T>, len: usize) -> usize {
    assert!(
        l.rows == l.cols,
        "expected a square matrix, got {}×{}",
        l.rows,
        l.cols
    );
    assert_eq!(
        len, l.rows,
        "right-hand side has length {len}, matrix has {} rows",
        l.rows
    );
    l.rows
}

/// `A x` for a matrix and vector of data or model scalars. On the tape a matrix of
/// model scalars (a Cholesky factor `L` in `L z`) gives one node for the whole product
/// (reverse step: `Ā = ȳ xᵀ`, `x̄ = Aᵀ ȳ`); a data matrix gives one fused dot product per
/// row.
///
/// # Panics
/// If `x.len() != a.ncols()`.
///
/// ```
/// use ppl_core::linalg::{mat_vec, Matrix};
/// let a = Matrix::from_rows(&[[1.0, 2.0], [3.0, 4.0]]);
/// let y: Vec<f64> = mat_vec(&a, &[1.0, 1.0]);
/// assert_eq!(y, vec![3.0, 7.0]);
/// ```
pub fn mat_vec<R: Real, A: Elem<R>, B: Elem<R>>(a: &Matrix<A>, x: &[B]) -> Vec<R> {
    assert_eq!(
        x.len(),
        a.cols,
        "vector has length {}, matrix has {} columns",
        x.len(),
        a.cols
    );
    if R::MODE == EvalMode::Tape {
        if let Operand::Slice(values) = A::slice_operand(&a.data) {
            return mat_vec_recorded(a.rows, a.cols, values, x);
        }
    }
    (0..a.rows).map(|i| dot(a.row(i), x)).collect()
}

/// The tape path of [`mat_vec`] for a matrix of model scalars: one multi-output node
/// whose inputs are the matrix (row-major) and then the vector, and whose data are
/// their values.
fn mat_vec_recorded<R: Real, B: Elem<R>>(rows: usize, cols: usize, a: &[R], x: &[B]) -> Vec<R> {
    let x_op = B::slice_operand(x);
    let x_index = |j: usize| match x_op {
        Operand::Slice(s) => s[j].tape_index(),
        _ => 0,
    };
    let first = crate::tape::Var::multi_output_with(
        a.iter()
            .map(|v| v.tape_index())
            .chain((0..cols).map(x_index)),
        rows,
        |d| {
            d.extend(a.iter().map(|v| v.value()));
            d.extend(x.iter().map(|v| v.elem_value()));
        },
        cols,
        mat_vec_backward,
    );
    // The outputs' values straight into the result (no intermediate buffer).
    (0..rows)
        .map(|i| {
            let row = &a[i * cols..(i + 1) * cols];
            let v: f64 = row
                .iter()
                .zip(x)
                .map(|(a, x)| a.value() * x.elem_value())
                .sum();
            if first == 0 {
                R::constant(v)
            } else {
                R::from_tape(v, first + i as u32)
            }
        })
        .collect()
}

/// Reverse step of [`mat_vec_recorded`]: `Ā = ȳ xᵀ`, `x̄ = Aᵀ ȳ`.
fn mat_vec_backward(
    m: &crate::tape::MultiOutput<'_>,
    input_adjoints: &mut [f64],
    _scratch: &mut Vec<f64>,
) {
    let cols = m.meta;
    let rows = m.output_adjoints.len();
    let (a, x) = m.data.split_at(rows * cols);
    let (a_bar, x_bar) = input_adjoints.split_at_mut(rows * cols);
    for (i, &y_bar) in m.output_adjoints.iter().enumerate() {
        let row = &a[i * cols..(i + 1) * cols];
        for (((ab, xb), aij), xj) in a_bar[i * cols..(i + 1) * cols]
            .iter_mut()
            .zip(x_bar.iter_mut())
            .zip(row)
            .zip(x)
        {
            *ab = y_bar * xj;
            *xb += y_bar * aij;
        }
    }
}

/// `A B` for matrices of data or model scalars.
///
/// ```
/// use ppl_core::linalg::{mat_mul, Matrix};
/// let a = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
/// let b = Matrix::from_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
/// let ab: Matrix<f64> = mat_mul(&a, &b);
/// assert_eq!(ab, Matrix::from_rows(&[[4.0, 5.0], [10.0, 11.0]]));
/// ```
///
/// # Panics
/// If the inner dimensions differ.
pub fn mat_mul<R: Real, A: Elem<R>, B: Elem<R>>(a: &Matrix<A>, b: &Matrix<B>) -> Matrix<R> {
    assert_eq!(
        a.cols, b.rows,
        "inner dimensions differ: {}×{} times {}×{}",
        a.rows, a.cols, b.rows, b.cols
    );
    let bt = b.transpose();
    Matrix::from_fn(a.rows, b.cols, |i, j| dot(a.row(i), bt.row(j)))
}

/// `A Aᵀ` (e.g. the correlation matrix from its Cholesky factor).
///
/// ```
/// use ppl_core::linalg::{mul_transpose, Matrix};
/// let l = Matrix::from_rows(&[[1.0, 0.0], [0.6, 0.8]]);
/// let r: Matrix<f64> = mul_transpose(&l);
/// assert!((r[(1, 0)] - 0.6).abs() < 1e-15 && (r[(1, 1)] - 1.0).abs() < 1e-15);
/// ```
pub fn mul_transpose<R: Real, A: Elem<R>>(a: &Matrix<A>) -> Matrix<R> {
    Matrix::from_fn(a.rows, a.rows, |i, j| dot(a.row(i), a.row(j)))
}

/// `ln det A = 2 Σ ln L_ii` from the Cholesky factor `L` of `A`.
///
/// ```
/// use ppl_core::linalg::{cholesky, log_det_from_cholesky, Matrix};
/// // det diag(2, 5, 0.1) = 1.
/// let l = cholesky(&Matrix::diagonal(&[2.0, 5.0, 0.1])).unwrap();
/// let log_det: f64 = log_det_from_cholesky(&l);
/// assert!(log_det.abs() < 1e-15);
/// // det [[2, 1], [1, 2]] = 3.
/// let l = cholesky(&Matrix::from_rows(&[[2.0, 1.0], [1.0, 2.0]])).unwrap();
/// assert!((log_det_from_cholesky(&l) - 3f64.ln()).abs() < 1e-15);
/// ```
///
/// # Panics
/// If `l` is not square.
pub fn log_det_from_cholesky<R: Real>(l: &Matrix<R>) -> R {
    assert!(
        l.rows == l.cols,
        "expected a square matrix, got {}×{}",
        l.rows,
        l.cols
    );
    let mut s = R::constant(0.0);
    for i in 0..l.rows {
        s += l.data[i * l.rows + i].ln();
    }
    s * 2.0
}

/// Dot product of two plain slices (over the shorter length) with four independent
/// accumulators, so that the loop pipelines and vectorises instead of forming one serial
/// chain of dependent additions. Equal to the serial sum up to reassociation.
///
/// ```
/// use ppl_core::linalg::dot_f64;
/// assert_eq!(dot_f64(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0, 7.0]), 32.0);
/// ```
#[inline(always)]
pub fn dot_f64(a: &[f64], b: &[f64]) -> f64 {
    dot_f64_with::<false>(a, b)
}

/// [`dot_f64`] with fused multiply-adds when `FMA` is true (see [`crate::vecmath::madd`]).
#[inline(always)]
pub(crate) fn dot_f64_with<const FMA: bool>(a: &[f64], b: &[f64]) -> f64 {
    // Plain `for` loops over chunks (no closures): an adaptor that is not inlined into
    // an FMA-compiled caller would turn `mul_add` into a library call.
    use crate::vecmath::madd;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    if n < 8 {
        // Too short for split accumulators to pay off.
        let mut s = 0.0;
        for (x, y) in a.iter().zip(b) {
            s = madd::<FMA>(*x, *y, s);
        }
        return s;
    }
    // Sixteen accumulators for long products (four vectors of four: enough independent
    // chains to hide the multiply-add latency), four for short ones.
    let (mut acc16, mut acc4) = ([0.0f64; 16], [0.0f64; 4]);
    let (a16, b16) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ar, br) = if n >= 64 {
        let rest = (a16.remainder(), b16.remainder());
        for (x, y) in a16.zip(b16) {
            for k in 0..16 {
                acc16[k] = madd::<FMA>(x[k], y[k], acc16[k]);
            }
        }
        rest
    } else {
        (a, b)
    };
    let (a4, b4) = (ar.chunks_exact(4), br.chunks_exact(4));
    let (ar, br) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for k in 0..4 {
            acc4[k] = madd::<FMA>(x[k], y[k], acc4[k]);
        }
    }
    let mut tail = 0.0;
    for (x, y) in ar.iter().zip(br) {
        tail = madd::<FMA>(*x, *y, tail);
    }
    for k in 0..4 {
        acc4[k] += (acc16[k] + acc16[k + 4]) + (acc16[k + 8] + acc16[k + 12]);
    }
    (acc4[0] + acc4[1]) + (acc4[2] + acc4[3]) + tail
}

/// `Σ aᵢ` with eight independent accumulators (so that the adds pipeline and vectorise).
#[inline(always)]
pub(crate) fn sum_f64(a: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = a.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().sum();
    for x in chunks {
        for k in 0..8 {
            acc[k] += x[k];
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tape::{self, Var};

    /// `A = M Mᵀ + I` from the lower-triangular entries of `M` (the arguments), then a
    /// nonlinear function of every entry of its Cholesky factor: `Σ w_ij L_ij + Σ ln L_ii`.
    struct FactorOfParameters {
        n: usize,
    }
    impl ScalarFamily for FactorOfParameters {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let n = self.n;
            let mut m = Matrix::from_fn(n, n, |_, _| R::constant(0.0));
            let mut p = 0;
            for i in 0..n {
                for j in 0..=i {
                    m[(i, j)] = args[p];
                    p += 1;
                }
            }
            let mut a: Matrix<R> = mul_transpose(&m);
            for i in 0..n {
                a[(i, i)] += 1.0;
            }
            let l = cholesky(&a).expect("positive definite");
            let mut total = R::constant(0.0);
            for i in 0..n {
                for j in 0..=i {
                    total += l[(i, j)] * (0.3 + 0.1 * (i * n + j) as f64);
                }
                total += l[(i, i)].ln();
            }
            total
        }
    }

    #[test]
    fn recorded_cholesky_gradient_matches_forward_mode_and_differences() {
        for n in [1, 2, 3, 5] {
            let k = n * (n + 1) / 2;
            let args: Vec<f64> = (0..k).map(|i| ((i * 7) % 5) as f64 * 0.4 - 0.7).collect();
            check_gradients(&FactorOfParameters { n }, &args, 1e-6);
        }
    }

    #[test]
    fn recorded_cholesky_matches_the_scalar_algorithm_and_records_one_node_per_entry() {
        let a = Matrix::from_rows(&[[4.0, 1.2, -0.4], [1.2, 3.0, 0.5], [-0.4, 0.5, 2.0]]);
        let plain: Matrix<f64> = cholesky(&a).unwrap();
        tape::reset();
        let vars = Matrix::from_fn(3, 3, |i, j| Var::leaf(a[(i, j)]));
        let before = tape::len();
        let l = cholesky(&vars).unwrap();
        // One multi-output node and one slot per lower-triangular entry.
        assert_eq!(tape::len() - before, 1 + 6);
        for i in 0..3 {
            for j in 0..3 {
                assert!((l[(i, j)].value() - plain[(i, j)]).abs() < 1e-14);
                assert_eq!(l[(i, j)].index() == 0, j > i, "({i}, {j})");
            }
        }
        // Constant input: nothing is recorded.
        let consts = Matrix::from_fn(3, 3, |i, j| Var::constant(a[(i, j)]));
        let before = tape::len();
        let l = cholesky(&consts).unwrap();
        assert_eq!(tape::len(), before);
        assert!(l.as_slice().iter().all(|v| v.index() == 0));
    }

    /// `Σ_i w_i · (A x)_i²` with `A` (3×2) and `x` (2) from the arguments, and the
    /// GP form `L z` with `L` a Cholesky factor of parameters (zeros above the diagonal)
    /// and `z` half data, half parameters.
    struct MatVecOfParameters;
    impl ScalarFamily for MatVecOfParameters {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let a = Matrix::from_fn(3, 2, |i, j| args[i * 2 + j]);
            let y: Vec<R> = mat_vec(&a, &args[6..8]);
            let mut total = R::constant(0.0);
            for (i, yi) in y.iter().enumerate() {
                total += *yi * *yi * (0.5 + i as f64);
            }
            let mut m = Matrix::from_fn(2, 2, |_, _| R::constant(0.0));
            m[(0, 0)] = args[0];
            m[(1, 0)] = args[1];
            m[(1, 1)] = args[2];
            let mut cov: Matrix<R> = mul_transpose(&m);
            cov[(0, 0)] += 1.0;
            cov[(1, 1)] += 1.0;
            let l = cholesky(&cov).expect("positive definite");
            let z = [args[3], R::constant(0.7)];
            let f: Vec<R> = mat_vec(&l, &z);
            let data: Vec<R> = mat_vec(&l, &[0.2, -1.1]);
            total + (f[0] * f[1]).sin() + data[1].exp()
        }
    }

    #[test]
    fn recorded_mat_vec_gradient_matches_forward_mode_and_differences() {
        check_gradients(
            &MatVecOfParameters,
            &[0.3, -1.2, 0.8, 0.5, 1.5, -0.4, 0.9, -0.6],
            1e-6,
        );
    }

    #[test]
    fn mat_vec_of_model_scalars_records_one_node() {
        tape::reset();
        let a = Matrix::from_fn(3, 3, |i, j| Var::leaf((i + 2 * j) as f64));
        let x = [Var::leaf(1.0), Var::leaf(-2.0), Var::constant(0.5)];
        let before = tape::len();
        let y: Vec<Var> = mat_vec(&a, &x);
        // One multi-output node and one slot per output.
        assert_eq!(tape::len() - before, 1 + 3);
        for (i, yi) in y.iter().enumerate() {
            let want: f64 = (0..3).map(|j| a[(i, j)].value() * x[j].value()).sum();
            assert_eq!(yi.value(), want);
        }
        // Constant matrix and vector: nothing is recorded.
        let c = Matrix::from_fn(2, 2, |i, j| Var::constant((i + j) as f64));
        let before = tape::len();
        let y: Vec<Var> = mat_vec(&c, &[Var::constant(1.0), Var::constant(2.0)]);
        assert_eq!(tape::len(), before);
        assert_eq!(y[1].value(), 1.0 + 4.0);
        assert!(y.iter().all(|v| v.index() == 0));
    }

    #[test]
    fn recorded_cholesky_reports_the_failing_pivot() {
        tape::reset();
        let vars = Matrix::from_fn(2, 2, |i, j| Var::leaf([[1.0, 2.0], [2.0, 1.0]][i][j]));
        assert!(matches!(
            cholesky(&vars),
            Err(LinalgError::NotPositiveDefinite { pivot: 1, .. })
        ));
        let nan = Matrix::from_fn(2, 2, |i, j| Var::leaf(if i == j { f64::NAN } else { 0.0 }));
        assert!(matches!(
            cholesky(&nan),
            Err(LinalgError::NotPositiveDefinite { pivot: 0, .. })
        ));
    }

    #[test]
    fn split_dot_products_match_the_plain_sum() {
        for n in [0, 1, 7, 8, 15, 63, 64, 65, 100, 257] {
            let a: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 * 0.3 - 1.4).collect();
            let b: Vec<f64> = (0..n).map(|i| ((i * 13) % 7) as f64 * 0.7 - 2.0).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let scale: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x * y).abs())
                .sum::<f64>()
                .max(1.0);
            for got in [dot_f64(&a, &b), dot_f64_with::<true>(&a, &b)] {
                assert!(
                    (got - plain).abs() <= 1e-14 * scale,
                    "n = {n}: {got} vs {plain}"
                );
            }
        }
    }

    #[test]
    fn precision_is_computed_on_reuse_and_forgotten_on_change() {
        let mut l = Matrix::from_rows(&[[2.0, 0.0, 0.0], [0.5, 1.0, 0.0], [-1.0, 0.3, 4.0]]);
        assert!(l.reused_precision_by(|v| *v).is_none(), "first use: solve");
        let p = l
            .reused_precision_by(|v| *v)
            .expect("second use: inverted")
            .to_vec();
        // P (L Lᵀ) = I, with P symmetric from its blocked lower triangle (diagonal
        // stored halved).
        assert_eq!(p.len(), PrecisionBlocks::len(3));
        let p_at = |i: usize, j: usize| {
            let (i, j) = if j > i { (j, i) } else { (i, j) };
            let v = p[PrecisionBlocks::row_offset(i) + j];
            if i == j {
                2.0 * v
            } else {
                v
            }
        };
        let cov = |i: usize, j: usize| (0..3).map(|m| l[(i, m)] * l[(j, m)]).sum::<f64>();
        for i in 0..3 {
            for j in 0..3 {
                let e: f64 = (0..3).map(|m| p_at(i, m) * cov(m, j)).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((e - want).abs() < 1e-14, "({i}, {j}): {e}");
            }
        }
        l[(2, 2)] = 5.0;
        assert!(
            l.reused_precision_by(|v| *v).is_none(),
            "changed: forgotten"
        );
    }

    #[test]
    fn factor_facts_are_forgotten_when_the_matrix_changes() {
        let mut l = Matrix::from_rows(&[[2.0, 0.0], [0.5, 1.0]]);
        assert!(l.factor_facts().valid && l.factor_facts().finite);
        l[(0, 1)] = 0.3;
        assert!(!l.factor_facts().valid);
        l[(0, 1)] = 0.0;
        l[(1, 1)] = f64::NAN;
        assert!(!l.factor_facts().finite);
        // A clone keeps what its source knew; an equal matrix compares equal either way.
        let a = Matrix::from_rows(&[[1.0, 0.0], [0.0, 1.0]]);
        let _ = a.factor_facts();
        assert_eq!(a.clone(), Matrix::from_rows(&[[1.0, 0.0], [0.0, 1.0]]));
    }
    use crate::dist::testing::check_gradients;
    use crate::dist::testing::ScalarFamily;
    use proptest::prelude::*;

    /// A random symmetric positive-definite matrix `B Bᵀ + n I` from `n²` entries.
    fn spd(n: usize, b: &[f64]) -> Matrix<f64> {
        let bm = Matrix::from_vec(n, n, b.to_vec());
        let mut a: Matrix<f64> = mul_transpose(&bm);
        for i in 0..n {
            a[(i, i)] += n as f64;
        }
        a
    }

    fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn cholesky_matches_nalgebra() {
        let a = spd(
            4,
            &[
                0.3, -1.2, 0.5, 2.0, 1.1, 0.2, -0.7, 0.4, 0.9, 0.0, 1.5, -0.3, 0.1, 0.6, -1.0, 0.8,
            ],
        );
        let l = cholesky(&a).unwrap();
        let na = nalgebra::DMatrix::from_row_slice(4, 4, a.as_slice());
        let nl = na.clone().cholesky().unwrap().l();
        for i in 0..4 {
            for j in 0..4 {
                assert!((l[(i, j)] - nl[(i, j)]).abs() < 1e-12, "({i}, {j})");
            }
        }
        let ld = log_det_from_cholesky(&l);
        assert!((ld - na.determinant().ln()).abs() < 1e-12);
    }

    #[test]
    fn cholesky_errors() {
        let a = Matrix::from_vec(2, 3, vec![1.0; 6]);
        assert_eq!(
            cholesky(&a),
            Err(LinalgError::NotSquare { rows: 2, cols: 3 })
        );
        let a = Matrix::from_rows(&[[1.0, 0.0], [0.0, -1.0]]);
        assert!(matches!(
            cholesky(&a),
            Err(LinalgError::NotPositiveDefinite { pivot: 1, value }) if value == -1.0
        ));
        let a = Matrix::from_rows(&[[f64::NAN]]);
        assert!(cholesky(&a).is_err());
        let empty: Matrix<f64> = Matrix::from_vec(0, 0, vec![]);
        assert_eq!(cholesky(&empty).unwrap().as_slice().len(), 0);
    }

    #[test]
    fn small_helpers() {
        let m: Matrix<f64> = Matrix::identity(3);
        assert_eq!(m.as_slice(), &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let d = Matrix::diagonal(&[2.0, 3.0]);
        assert_eq!(d.into_vec(), vec![2.0, 0.0, 0.0, 3.0]);
        let z: Matrix<f64> = Matrix::zeros(2, 1);
        assert_eq!((z.nrows(), z.ncols()), (2, 1));
        let a = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]);
        let b = Matrix::from_rows(&[[0.0, 1.0], [1.0, 0.0]]);
        let ab: Matrix<f64> = mat_mul(&a, &b);
        assert_eq!(ab.as_slice(), &[2.0, 1.0, 4.0, 3.0]);
        assert_eq!(a.values(), a);
        assert!(!Matrix::from_vec(1, 2, vec![0.0, 0.0]).is_square());
    }

    #[test]
    #[should_panic(expected = "row 1 has 1 elements")]
    fn ragged_rows_panic() {
        let _ = Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]);
    }

    proptest! {
        #[test]
        fn solves_and_reconstruction(b in proptest::collection::vec(-2.0..2.0f64, 9),
                                     rhs in proptest::collection::vec(-5.0..5.0f64, 3)) {
            let a = spd(3, &b);
            let l = cholesky(&a).unwrap();
            // Lower triangular, positive diagonal, L Lᵀ = A.
            for i in 0..3 {
                prop_assert!(l[(i, i)] > 0.0);
                for j in i + 1..3 {
                    prop_assert_eq!(l[(i, j)], 0.0);
                }
            }
            let llt: Matrix<f64> = mul_transpose(&l);
            prop_assert!(max_abs_diff(llt.as_slice(), a.as_slice()) < 1e-10);
            // A x = rhs.
            let y = solve_lower(&l, &rhs);
            let x = solve_lower_transpose(&l, &y);
            let ax: Vec<f64> = mat_vec(&a, &x);
            prop_assert!(max_abs_diff(&ax, &rhs) < 1e-10);
            let ly: Vec<f64> = mat_vec(&l, &y);
            prop_assert!(max_abs_diff(&ly, &rhs) < 1e-10);
        }
    }

    /// `ln det A + bᵀ A⁻¹ b` with `A = B Bᵀ + 3 I` as a function of B and b.
    struct QuadForm;
    impl ScalarFamily for QuadForm {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let bm = Matrix::from_vec(3, 3, args[..9].to_vec());
            let mut a: Matrix<R> = mul_transpose(&bm);
            for i in 0..3 {
                a[(i, i)] += 3.0;
            }
            let l = cholesky(&a).unwrap();
            let z = solve_lower(&l, &args[9..]);
            let w = solve_lower_transpose(&l, &z);
            let q: R = dot(&args[9..], &w[..]);
            let lx: Vec<R> = mat_vec(&l, &args[9..]);
            log_det_from_cholesky(&l) + q + lx.iter().copied().sum::<R>()
        }
    }

    #[test]
    fn gradients_through_cholesky() {
        let args = [
            0.3, -1.2, 0.5, 2.0, 1.1, 0.2, -0.7, 0.4, 0.9, 0.5, -1.0, 2.0,
        ];
        check_gradients(&QuadForm, &args, 1e-6);
    }
}
