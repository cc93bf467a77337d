//! Fused primitives: dot products and matrix-vector products as single tape nodes.

use crate::param::{Elem, Operand};
use crate::scalar::{EvalMode, Real};

/// `Σ aᵢ bᵢ` as one tape node.
///
/// # Panics
/// When the slices' lengths differ (inside a model the panic becomes the model's error,
/// naming the lengths).
///
/// ```
/// let a = [1.0, 2.0, 3.0];
/// let b = [4.0, 5.0, 6.0];
/// let d: f64 = ppl_core::glm::dot(&a[..], &b[..]);
/// assert_eq!(d, 32.0);
/// ```
pub fn dot<R: Real, A: Elem<R>, B: Elem<R>>(a: &[A], b: &[B]) -> R {
    assert_eq!(
        a.len(),
        b.len(),
        "dot: the slices have lengths {} and {}",
        a.len(),
        b.len()
    );
    let n = a.len();
    match R::MODE {
        EvalMode::Dual => {
            let mut acc = R::constant(0.0);
            for i in 0..n {
                acc += a[i].elem_lift() * b[i].elem_lift();
            }
            acc
        }
        _ => {
            let (oa, ob) = (A::slice_operand(a), B::slice_operand(b));
            R::record_wide(|w| {
                let mut acc = 0.0;
                for i in 0..n {
                    acc += a[i].elem_value() * b[i].elem_value();
                }
                if let Operand::Slice(s) = oa {
                    for i in 0..n {
                        w.push(s[i].tape_index(), b[i].elem_value());
                    }
                }
                if let Operand::Slice(s) = ob {
                    for i in 0..n {
                        w.push(s[i].tape_index(), a[i].elem_value());
                    }
                }
                acc
            })
        }
    }
}

/// A row-major matrix of constant data (the design matrix of a regression).
///
/// ```
/// use ppl_core::glm::DataMatrix;
/// let x = DataMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]).unwrap();
/// assert_eq!((x.rows(), x.cols()), (3, 2));
/// assert_eq!(x.row(1), &[3.0, 4.0]);
/// assert_eq!(x.get(2, 0), 5.0);
/// assert!(DataMatrix::new(2, 2, vec![1.0, 2.0, 3.0]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DataMatrix {
    rows: usize,
    cols: usize,
    /// Row-major values.
    data: Vec<f64>,
    /// The same values column by column (column-major), for the fused GLMs' loops.
    columns: Vec<f64>,
}

/// Why a [`DataMatrix`] could not be built.
///
/// ```
/// use ppl_core::glm::{DataMatrix, DataMatrixError};
///
/// let err = DataMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err();
/// assert_eq!(err, DataMatrixError::Ragged { row: 1, found: 1, expected: 2 });
/// assert_eq!(err.to_string(), "data matrix: row 1 has 1 columns, expected 2");
/// let err = DataMatrix::new(1, 2, vec![1.0, f64::NAN]).unwrap_err();
/// assert!(matches!(err, DataMatrixError::NonFinite { row: 0, col: 1, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataMatrixError {
    /// `data` does not hold `rows × cols` values.
    #[error("data matrix: {rows}×{cols} needs {expected} values, got {found}")]
    Size {
        /// Rows requested.
        rows: usize,
        /// Columns requested.
        cols: usize,
        /// `rows × cols`.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// Rows of different lengths were given to [`DataMatrix::from_rows`].
    #[error("data matrix: row {row} has {found} columns, expected {expected}")]
    Ragged {
        /// The offending row.
        row: usize,
        /// Its length.
        found: usize,
        /// The length of the first row.
        expected: usize,
    },
    /// An element is NaN or infinite.
    #[error("data matrix: element ({row}, {col}) is not finite ({value})")]
    NonFinite {
        /// Row of the element.
        row: usize,
        /// Column of the element.
        col: usize,
        /// The value.
        value: f64,
    },
}

impl From<DataMatrixError> for crate::error::Error {
    fn from(e: DataMatrixError) -> Self {
        use crate::error::Error;
        match e {
            DataMatrixError::Size {
                expected, found, ..
            } => Error::Dimension { expected, found },
            DataMatrixError::Ragged {
                expected, found, ..
            } => Error::Dimension { expected, found },
            DataMatrixError::NonFinite { row, col, value } => Error::NonFiniteData {
                variable: format!("data matrix element ({row}, {col})"),
                index: row,
                value,
            },
        }
    }
}

impl DataMatrix {
    /// Builds a `rows × cols` matrix from its values in row-major order. Every value
    /// must be finite.
    ///
    /// ```
    /// use ppl_core::glm::{DataMatrix, DataMatrixError};
    /// let x = DataMatrix::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// assert_eq!(x.get(1, 0), 4.0); // row-major
    /// assert_eq!(
    ///     DataMatrix::new(2, 3, vec![0.0; 5]).unwrap_err(),
    ///     DataMatrixError::Size { rows: 2, cols: 3, expected: 6, found: 5 }
    /// );
    /// // The position of a non-finite value is reported as (row, column).
    /// let err = DataMatrix::new(2, 2, vec![0.0, 1.0, f64::INFINITY, 2.0]).unwrap_err();
    /// assert!(matches!(err, DataMatrixError::NonFinite { row: 1, col: 0, .. }));
    /// ```
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, DataMatrixError> {
        let expected = rows * cols;
        if data.len() != expected {
            return Err(DataMatrixError::Size {
                rows,
                cols,
                expected,
                found: data.len(),
            });
        }
        if let Some(k) = data.iter().position(|v| !v.is_finite()) {
            return Err(DataMatrixError::NonFinite {
                row: k / cols,
                col: k % cols,
                value: data[k],
            });
        }
        let mut columns = Vec::with_capacity(expected);
        for j in 0..cols {
            columns.extend((0..rows).map(|i| data[i * cols + j]));
        }
        Ok(DataMatrix {
            rows,
            cols,
            data,
            columns,
        })
    }

    /// Builds a matrix from its rows, which must all have the same length (no rows give
    /// a 0×0 matrix).
    ///
    /// ```
    /// use ppl_core::glm::DataMatrix;
    /// let rows = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
    /// let x = DataMatrix::from_rows(&rows).unwrap();
    /// assert_eq!(x, DataMatrix::new(2, 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap());
    /// let empty = DataMatrix::from_rows(&[]).unwrap();
    /// assert_eq!((empty.rows(), empty.cols()), (0, 0));
    /// assert!(DataMatrix::from_rows(&[vec![1.0], vec![2.0, 3.0]]).is_err());
    /// ```
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, DataMatrixError> {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, r) in rows.iter().enumerate() {
            if r.len() != cols {
                return Err(DataMatrixError::Ragged {
                    row: i,
                    found: r.len(),
                    expected: cols,
                });
            }
            data.extend_from_slice(r);
        }
        DataMatrix::new(rows.len(), cols, data)
    }

    /// Number of rows (observations).
    ///
    /// ```
    /// use ppl_core::glm::DataMatrix;
    /// assert_eq!(DataMatrix::new(3, 2, vec![0.0; 6]).unwrap().rows(), 3);
    /// ```
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (predictors).
    ///
    /// ```
    /// use ppl_core::glm::DataMatrix;
    /// assert_eq!(DataMatrix::new(3, 2, vec![0.0; 6]).unwrap().cols(), 2);
    /// ```
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` as a slice.
    ///
    /// ```
    /// use ppl_core::glm::DataMatrix;
    /// let x = DataMatrix::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// assert_eq!(x.row(1), &[4.0, 5.0, 6.0]);
    /// ```
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Element `(i, j)`.
    ///
    /// ```
    /// use ppl_core::glm::DataMatrix;
    /// let x = DataMatrix::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// assert_eq!(x.get(0, 2), 3.0);
    /// assert_eq!(x.get(1, 1), x.row(1)[1]);
    /// ```
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    /// All values in row-major order.
    ///
    /// ```
    /// use ppl_core::glm::DataMatrix;
    /// let x = DataMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
    /// assert_eq!(x.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Column `j` as a slice (one value per row).
    ///
    /// ```
    /// use ppl_core::glm::DataMatrix;
    /// let x = DataMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
    /// assert_eq!(x.column(1), &[2.0, 4.0]);
    /// ```
    #[inline]
    pub fn column(&self, j: usize) -> &[f64] {
        &self.columns[j * self.rows..(j + 1) * self.rows]
    }
}

/// `X β`: one value per row of `x` (`beta.len()` must equal `x.cols()`).
///
/// With the tape each output is **one** wide node whose parents are the variable
/// coefficients (`cols` edges per row, partials `x[i][j]`); with `f64` it is a plain
/// product and with forward-mode duals the generic formula. Use [`matvec`] when the
/// linear predictor itself is needed; to condition on it, the fused GLM distributions
/// (e.g. [`NormalIdGlm`](crate::dist::NormalIdGlm)) are cheaper: one node for the
/// whole likelihood instead of one per row.
///
/// ```
/// use ppl_core::glm::{matvec, DataMatrix};
/// let x = DataMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
/// let eta: Vec<f64> = matvec(&x, &[0.5, -1.0]);
/// assert_eq!(eta, vec![-1.5, -2.5]);
/// ```
///
/// # Panics
///
/// If `beta.len() != x.cols()`.
pub fn matvec<R: Real>(x: &DataMatrix, beta: &[R]) -> Vec<R> {
    affine(x, None, beta)
}

/// `α + X β`: one value per row of `x`, each one tape node (`cols + 1` parents). See
/// [`matvec`].
///
/// ```
/// use ppl_core::glm::{matvec_add, DataMatrix};
/// let x = DataMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
/// let eta: Vec<f64> = matvec_add(&x, 1.0, &[0.5, -1.0]);
/// assert_eq!(eta, vec![-0.5, -1.5]);
/// ```
///
/// # Panics
///
/// If `beta.len() != x.cols()`.
pub fn matvec_add<R: Real>(x: &DataMatrix, alpha: R, beta: &[R]) -> Vec<R> {
    affine(x, Some(alpha), beta)
}

fn affine<R: Real>(x: &DataMatrix, alpha: Option<R>, beta: &[R]) -> Vec<R> {
    assert_eq!(
        beta.len(),
        x.cols(),
        "matvec: beta has {} elements, the matrix has {} columns",
        beta.len(),
        x.cols()
    );
    let a0 = alpha.map_or(0.0, |a| a.value());
    match R::MODE {
        EvalMode::Value => (0..x.rows())
            .map(|i| {
                let row = x.row(i);
                R::constant(
                    a0 + row
                        .iter()
                        .zip(beta)
                        .map(|(xij, b)| xij * b.value())
                        .sum::<f64>(),
                )
            })
            .collect(),
        EvalMode::Dual => (0..x.rows())
            .map(|i| {
                let mut acc = alpha.unwrap_or(R::constant(0.0));
                for (xij, b) in x.row(i).iter().zip(beta) {
                    acc += *b * *xij;
                }
                acc
            })
            .collect(),
        EvalMode::Tape => {
            let beta_var = beta.iter().any(|b| b.tape_index() != 0);
            (0..x.rows())
                .map(|i| {
                    let row = x.row(i);
                    R::record_wide(|w| {
                        let mut acc = a0;
                        for (xij, b) in row.iter().zip(beta) {
                            acc += xij * b.value();
                        }
                        if beta_var {
                            w.reserve(row.len());
                            for (xij, b) in row.iter().zip(beta) {
                                w.push(b.tape_index(), *xij);
                            }
                        }
                        if let Some(a) = alpha {
                            w.push(a.tape_index(), 1.0);
                        }
                        acc
                    })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::dual::Fwd;
    use crate::tape::{self, Var};
    use num_dual::Dual64;

    fn design() -> DataMatrix {
        DataMatrix::from_rows(&[
            vec![1.0, -2.0, 0.5],
            vec![0.3, 4.0, -1.0],
            vec![2.0, 0.0, 1.5],
            vec![-0.7, 1.1, 0.2],
        ])
        .unwrap()
    }

    #[test]
    fn construction_and_errors() {
        let x = design();
        assert_eq!((x.rows(), x.cols()), (4, 3));
        assert_eq!(x.get(1, 1), 4.0);
        assert_eq!(x.as_slice().len(), 12);
        assert!(matches!(
            DataMatrix::new(2, 3, vec![0.0; 5]),
            Err(DataMatrixError::Size {
                expected: 6,
                found: 5,
                ..
            })
        ));
        assert!(matches!(
            DataMatrix::from_rows(&[vec![1.0, 2.0], vec![3.0]]),
            Err(DataMatrixError::Ragged {
                row: 1,
                found: 1,
                expected: 2
            })
        ));
        assert!(matches!(
            DataMatrix::new(2, 2, vec![0.0, 1.0, f64::NAN, 2.0]),
            Err(DataMatrixError::NonFinite { row: 1, col: 0, .. })
        ));
        let empty = DataMatrix::from_rows(&[]).unwrap();
        assert_eq!((empty.rows(), empty.cols()), (0, 0));
        let e: crate::error::Error = DataMatrixError::Size {
            rows: 1,
            cols: 1,
            expected: 1,
            found: 0,
        }
        .into();
        assert!(matches!(
            e,
            crate::error::Error::Dimension {
                expected: 1,
                found: 0
            }
        ));
    }

    #[test]
    fn matvec_values_and_gradients_agree_across_modes() {
        let x = design();
        let beta = [0.4, -0.3, 1.2];
        let alpha = 0.7;
        let plain: Vec<f64> = matvec_add(&x, alpha, &beta);
        for (i, value) in plain.iter().enumerate() {
            let want = alpha + x.row(i).iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>();
            assert!((value - want).abs() < 1e-14);
        }
        let no_alpha: Vec<f64> = matvec(&x, &beta);
        for (p, q) in plain.iter().zip(&no_alpha) {
            assert!((p - alpha - q).abs() < 1e-14);
        }
        // Tape: gradient of Σ wᵢ ηᵢ is (Σ wᵢ, Xᵀ w).
        let wts = [1.0, -2.0, 0.5, 3.0];
        tape::reset();
        let a = Var::leaf(alpha);
        let b: Vec<Var> = beta.iter().map(|v| Var::leaf(*v)).collect();
        let before = tape::len();
        let eta = matvec_add(&x, a, &b);
        assert_eq!(tape::len() - before, x.rows(), "one node per row");
        let out: Var = eta.iter().zip(&wts).map(|(e, w)| *e * *w).sum();
        let mut leaves = vec![a];
        leaves.extend(&b);
        let mut g = vec![0.0; 4];
        tape::gradient(out, &leaves, &mut g);
        assert!((g[0] - wts.iter().sum::<f64>()).abs() < 1e-12);
        for j in 0..3 {
            let want: f64 = (0..4).map(|i| x.get(i, j) * wts[i]).sum();
            assert!((g[1 + j] - want).abs() < 1e-12);
        }
        // Forward mode: derivative with respect to beta_1.
        let bd: Vec<Fwd<Dual64>> = beta
            .iter()
            .enumerate()
            .map(|(j, v)| {
                if j == 1 {
                    Fwd(Dual64::from(*v).derivative())
                } else {
                    Fwd(Dual64::from(*v))
                }
            })
            .collect();
        let eta_d = matvec(&x, &bd);
        for i in 0..4 {
            assert!((eta_d[i].0.re - no_alpha[i]).abs() < 1e-14);
            assert_eq!(eta_d[i].0.eps, x.get(i, 1));
        }
    }

    #[test]
    fn constant_coefficients_record_nothing() {
        tape::reset();
        let before = tape::len();
        let b = [Var::constant(1.0), Var::constant(2.0), Var::constant(3.0)];
        let eta = matvec(&design(), &b);
        assert_eq!(tape::len(), before);
        assert!((eta[0].value() - (1.0 - 4.0 + 1.5)).abs() < 1e-14);
    }

    #[test]
    #[should_panic(expected = "dot: the slices have lengths 3 and 2")]
    fn dot_refuses_slices_of_different_lengths() {
        let _: f64 = dot(&[1.0, 2.0, 3.0][..], &[1.0, 2.0][..]);
    }

    #[test]
    #[should_panic(expected = "matvec")]
    fn length_mismatch_panics() {
        let _: Vec<f64> = matvec(&design(), &[1.0, 2.0]);
    }
}
