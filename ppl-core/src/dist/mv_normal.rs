//! The multivariate normal distribution, parameterised by a covariance matrix or its
//! Cholesky factor.

use super::{Distribution, ElementValue, ParamError, Support};
use crate::linalg::{self, Matrix, PrecisionBlocks};
use crate::param::{check_param, Elem, Operand, Param, ParamValues, ScalarValue};
use crate::scalar::{EvalMode, Real};
use crate::special::HALF_LN_2PI;
use crate::vectorized::{self, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;
use std::borrow::Cow;

/// Multivariate normal distribution over k-vectors with mean `mu` and covariance
/// `Σ = L Lᵀ`:
/// `ln p(x) = −½ (x−μ)ᵀ Σ⁻¹ (x−μ) − Σᵢ ln L_ii − (k/2) ln 2π`.
///
/// The mean is a k-slice (or a scalar, broadcast). The covariance, or its
/// lower-triangular Cholesky factor, is a [`Matrix`] of data or of model scalars; a
/// covariance is factorised once, in the constructor. A value is one event of k scalars
/// or several stacked events (n·k scalars), whose log-densities are summed.
///
/// ```
/// use ppl_core::dist::{Distribution, MvNormal};
/// use ppl_core::linalg::Matrix;
/// use ppl_core::param::Param;
/// let cov = Matrix::from_rows(&[[1.0, 0.5], [0.5, 2.0]]);
/// let d = MvNormal::new(&[0.0, 1.0], &cov).unwrap();
/// let x = [0.3, 0.2];
/// let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
/// // −½ (x−μ)ᵀ Σ⁻¹ (x−μ) − ½ ln det Σ − ln 2π with det Σ = 1.75
/// let q = (2.0 * 0.09 - 2.0 * 0.5 * 0.3 * -0.8 + 0.64) / 1.75;
/// let expected = -0.5 * q - 0.5 * 1.75f64.ln() - (2.0 * std::f64::consts::PI).ln();
/// assert!((lp - expected).abs() < 1e-12);
/// assert!(MvNormal::new(&[0.0, 0.0], &Matrix::from_rows(&[[1.0, 2.0], [2.0, 1.0]])).is_err());
/// ```
///
/// Inside a model the covariance may be built from parameters, e.g. a Gaussian-process
/// kernel: factorise it with [`linalg::cholesky`] and use [`MvNormal::from_cholesky`],
/// or pass it to [`MvNormal::new`].
#[derive(Debug, Clone)]
pub struct MvNormal<'c, M, E> {
    mu: M,
    chol: Factor<'c, E>,
}

/// The Cholesky factor: factorised here (owned) or the caller's (borrowed, so that a
/// constant factor is not copied on every evaluation).
#[derive(Debug, Clone)]
enum Factor<'c, E> {
    Owned(Matrix<E>),
    Borrowed(&'c Matrix<E>),
}

impl<E> std::ops::Deref for Factor<'_, E> {
    type Target = Matrix<E>;
    #[inline]
    fn deref(&self) -> &Matrix<E> {
        match self {
            Factor::Owned(m) => m,
            Factor::Borrowed(m) => m,
        }
    }
}

const NAME: &str = "MvNormal";

/// Checks the mean against the dimension `k`.
fn check_mu<M: ParamValues>(mu: &M, k: usize) -> Result<(), ParamError> {
    if let Some(len) = mu.param_len() {
        if len != k {
            return Err(ParamError::new(
                NAME,
                "mu",
                "must have one element per row of the covariance (length shown)",
                len as f64,
            ));
        }
    }
    check_param(NAME, "mu", mu, "must be finite", |_| true)
}

/// Checks that a matrix parameter is square, non-empty and finite.
fn check_square<E: ScalarValue>(m: &Matrix<E>, parameter: &'static str) -> Result<(), ParamError> {
    if !m.is_square() {
        return Err(ParamError::new(
            NAME,
            parameter,
            "must be a square matrix (columns shown)",
            m.ncols() as f64,
        ));
    }
    if m.nrows() == 0 {
        return Err(ParamError::new(
            NAME,
            parameter,
            "must have at least one row",
            0.0,
        ));
    }
    // A branch-free pass first (it vectorises); the offending value only on failure.
    let all_finite = m
        .as_slice()
        .iter()
        .fold(true, |ok, v| ok & v.scalar_value().is_finite());
    if !all_finite {
        if let Some(v) = m
            .as_slice()
            .iter()
            .map(|v| v.scalar_value())
            .find(|v| !v.is_finite())
        {
            return Err(ParamError::new(NAME, parameter, "must be finite", v));
        }
    }
    Ok(())
}

impl<M: ParamValues, E: Real> MvNormal<'static, M, E> {
    /// Builds the distribution from a symmetric positive-definite covariance matrix
    /// (factorised here, so constant covariances cost nothing per evaluation). `mu` must
    /// have one element per row (or be a scalar).
    ///
    /// ```
    /// use ppl_core::dist::MvNormal;
    /// use ppl_core::linalg::{cholesky, Matrix};
    /// let cov = Matrix::from_rows(&[[4.0, 2.0], [2.0, 3.0]]);
    /// let d = MvNormal::new(&[0.0, 1.0], &cov).unwrap();
    /// assert_eq!(d.cholesky_factor(), &cholesky(&cov).unwrap());
    /// assert!(MvNormal::new(1.0, &cov).is_ok()); // a scalar mean is broadcast
    ///
    /// let err = MvNormal::new(&[0.0; 3], &cov).unwrap_err();
    /// assert_eq!((err.parameter, err.value), ("mu", 3.0)); // the length
    /// let skew = Matrix::from_rows(&[[4.0, 2.0], [1.0, 3.0]]);
    /// let err = MvNormal::new(0.0, &skew).unwrap_err();
    /// assert_eq!((err.requirement, err.value), ("must be symmetric (asymmetry shown)", -1.0));
    /// let singular = Matrix::from_rows(&[[1.0, 1.0], [1.0, 1.0]]);
    /// assert_eq!(MvNormal::new(0.0, &singular).unwrap_err().value, 0.0); // the failed pivot
    /// ```
    pub fn new(mu: M, cov: &Matrix<E>) -> Result<Self, ParamError> {
        check_square(cov, "cov")?;
        let k = cov.nrows();
        check_mu(&mu, k)?;
        for i in 0..k {
            for j in 0..i {
                let (a, b) = (cov[(i, j)].value(), cov[(j, i)].value());
                let scale = (cov[(i, i)].value() * cov[(j, j)].value()).abs().sqrt();
                if (a - b).abs() > 1e-9 * scale.max(f64::MIN_POSITIVE) {
                    return Err(ParamError::new(
                        NAME,
                        "cov",
                        "must be symmetric (asymmetry shown)",
                        a - b,
                    ));
                }
            }
        }
        let chol = linalg::cholesky(cov).map_err(|e| {
            let value = match e {
                linalg::LinalgError::NotPositiveDefinite { value, .. } => value,
                linalg::LinalgError::NotSquare { cols, .. } => cols as f64,
            };
            ParamError::new(
                NAME,
                "cov",
                "must be positive definite (failed pivot shown)",
                value,
            )
        })?;
        Ok(MvNormal {
            mu,
            chol: Factor::Owned(chol),
        })
    }
}

impl<'c, M: ParamValues, E: ScalarValue> MvNormal<'c, M, E> {
    /// Builds the distribution from the lower-triangular Cholesky factor `L` of the
    /// covariance (`Σ = L Lᵀ`): zeros above the diagonal, positive diagonal. The factor
    /// is borrowed, not copied.
    ///
    /// ```
    /// use ppl_core::dist::{Distribution, MvNormal, Normal};
    /// use ppl_core::linalg::Matrix;
    /// use ppl_core::param::Param;
    /// let l = Matrix::from_rows(&[[2.0, 0.0], [0.0, 3.0]]);
    /// let d = MvNormal::from_cholesky(0.0, &l).unwrap();
    /// let lp: f64 = d.log_density(Param::<f64>::operand(&[1.0, -1.0])).unwrap();
    /// let a: f64 = Normal::new(0.0, 2.0).unwrap().log_density(Param::<f64>::operand(&1.0)).unwrap();
    /// let b: f64 = Normal::new(0.0, 3.0).unwrap().log_density(Param::<f64>::operand(&-1.0)).unwrap();
    /// assert!((lp - (a + b)).abs() < 1e-12);
    /// ```
    pub fn from_cholesky(mu: M, chol: &'c Matrix<E>) -> Result<Self, ParamError> {
        // Checked once per matrix (the answer is kept with it until it is modified); the
        // checks below only run to report a failure.
        let facts = chol.factor_facts();
        if facts.valid && facts.finite && chol.nrows() > 0 {
            check_mu(&mu, chol.nrows())?;
            return Ok(MvNormal {
                mu,
                chol: Factor::Borrowed(chol),
            });
        }
        check_square(chol, "chol")?;
        let k = chol.nrows();
        check_mu(&mu, k)?;
        for i in 0..k {
            let d = chol[(i, i)].scalar_value();
            if d <= 0.0 {
                return Err(ParamError::new(
                    NAME,
                    "chol",
                    "must have a positive diagonal",
                    d,
                ));
            }
            for j in i + 1..k {
                let v = chol[(i, j)].scalar_value();
                if v != 0.0 {
                    return Err(ParamError::new(
                        NAME,
                        "chol",
                        "must be lower triangular (entry above the diagonal shown)",
                        v,
                    ));
                }
            }
        }
        unreachable!("an invalid factor has an offending entry")
    }
}

impl<M, E: Copy> MvNormal<'_, M, E> {
    /// The dimension k.
    ///
    /// ```
    /// use ppl_core::dist::{Distribution, MvNormal};
    /// use ppl_core::linalg::Matrix;
    /// let eye = Matrix::<f64>::identity(3);
    /// let d = MvNormal::from_cholesky(0.0, &eye).unwrap();
    /// assert_eq!(d.dim(), 3);
    /// assert_eq!(Distribution::<f64>::event_len(&d), 3);
    /// ```
    pub fn dim(&self) -> usize {
        self.chol.nrows()
    }

    /// The Cholesky factor of the covariance.
    ///
    /// ```
    /// use ppl_core::dist::MvNormal;
    /// use ppl_core::linalg::Matrix;
    /// let l = Matrix::from_rows(&[[2.0, 0.0], [1.0, 1.0]]);
    /// let d = MvNormal::from_cholesky(0.0, &l).unwrap();
    /// assert!(std::ptr::eq(d.cholesky_factor(), &l)); // borrowed, not copied
    /// ```
    pub fn cholesky_factor(&self) -> &Matrix<E> {
        &self.chol
    }

    /// Number of events in `x`, checking its length.
    fn events<R: Real>(
        &self,
        x: &Operand<'_, R>,
        mu: &Operand<'_, R>,
    ) -> Result<usize, LengthMismatch> {
        let k = self.dim();
        if let Some(m) = mu.len() {
            if m != k {
                return Err(LengthMismatch {
                    argument: "mu",
                    found: m,
                    expected: k,
                });
            }
        }
        match x.len() {
            None if k == 1 => Ok(1),
            None => Err(LengthMismatch {
                argument: "x",
                found: 1,
                expected: k,
            }),
            Some(n) if n % k == 0 => Ok(n / k),
            Some(n) => Err(LengthMismatch {
                argument: "x",
                found: n,
                expected: k,
            }),
        }
    }
}

/// Forward substitution `L z = r` in plain values (`l` row-major k×k): each step is a
/// dot product with a contiguous row of `L` (split accumulators, so it vectorises).
#[inline(always)]
fn forward_solve_kernel<const FMA: bool>(l: &[f64], k: usize, r: &[f64], z: &mut [f64]) {
    for i in 0..k {
        let row = &l[i * k..i * k + i + 1];
        let s = r[i] - linalg::dot_f64_with::<FMA>(&row[..i], &z[..i]);
        z[i] = s / row[i];
    }
}

/// Back substitution `Lᵀ a = z` in plain values, column-oriented: once `aᵢ` is known its
/// contribution is removed from the earlier entries with an axpy over row `i` of `L`
/// (contiguous, independent updates, so it vectorises).
#[inline(always)]
fn back_solve_kernel<const FMA: bool>(l: &[f64], k: usize, z: &[f64], a: &mut [f64]) {
    a[..k].copy_from_slice(&z[..k]);
    for i in (0..k).rev() {
        let row = &l[i * k..i * k + i + 1];
        let ai = a[i] / row[i];
        a[i] = ai;
        for (aj, lij) in a[..i].iter_mut().zip(&row[..i]) {
            *aj = crate::vecmath::madd::<FMA>(-lij, ai, *aj);
        }
    }
}

crate::vecmath::simd_fn! {
    /// Forward substitution `L z = r` (see [`forward_solve_kernel`]), with four-lane
    /// vectors on CPUs with AVX2 and FMA.
    fn forward_solve(l: &[f64], k: usize, r: &[f64], z: &mut [f64]) {
        forward_solve_kernel::<FMA>(l, k, r, z)
    }
}

crate::vecmath::simd_fn! {
    /// Back substitution `Lᵀ a = z` (see [`back_solve_kernel`]), with four-lane vectors
    /// on CPUs with AVX2 and FMA.
    fn back_solve(l: &[f64], k: usize, z: &[f64], a: &mut [f64]) {
        back_solve_kernel::<FMA>(l, k, z, a)
    }
}

/// `a = P r` for the symmetric precision `P` kept as [`PrecisionBlocks`] (see
/// [`Matrix::reused_precision_by`]); returns `r·a = rᵀP r`. One pass over the stored
/// triangle: each entry serves both `a_i` (a dot product along row `i`) and `a_j` (an
/// axpy with `r_i`), so the matrix is read once for the value and the gradient; the
/// halved diagonal is counted once by each. `r` and `a` hold at least `4·⌈k/4⌉` values;
/// `r`'s padding after `k` is zeroed here.
fn precision_products(p: &[f64], k: usize, r: &mut [f64], a: &mut [f64]) -> f64 {
    let k4 = 4 * PrecisionBlocks::blocks(k);
    assert!(p.len() >= PrecisionBlocks::len(k) && r.len() >= k4 && a.len() >= k4);
    r[k..k4].fill(0.0);
    #[cfg(target_arch = "x86_64")]
    if crate::vecmath::avx2_fma_available() {
        // SAFETY: the CPU has AVX2 and FMA, and the lengths were checked above.
        return unsafe { precision_products_avx2(p, k, r, a) };
    }
    precision_products_portable(p, k, r, a)
}

/// [`precision_products`] in portable code, a row at a time.
fn precision_products_portable(p: &[f64], k: usize, r: &[f64], a: &mut [f64]) -> f64 {
    a[..4 * PrecisionBlocks::blocks(k)].fill(0.0);
    for b in 0..PrecisionBlocks::blocks(k) {
        let w = 4 * (b + 1);
        let block = &p[PrecisionBlocks::block_offset(b)..][..4 * w];
        for (q, row) in block.chunks_exact(w).enumerate() {
            let i = 4 * b + q;
            let ri = r[i];
            let mut s = 0.0;
            for ((pij, rj), aj) in row.iter().zip(&r[..w]).zip(&mut a[..w]) {
                s += pij * rj;
                *aj += pij * ri;
            }
            a[i] += s;
        }
    }
    linalg::dot_f64(&r[..k], &a[..k])
}

/// [`precision_products`] with AVX2 + FMA, a block of four rows at a time: for each
/// four columns, one load of `r` and one load and store of `a` serve four dot-product
/// accumulators and four axpys.
///
/// # Safety
/// The CPU must support AVX2 and FMA; `p` holds at least `PrecisionBlocks::len(k)`
/// values, `r` and `a` at least `4·⌈k/4⌉`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn precision_products_avx2(p: &[f64], k: usize, r: &[f64], a: &mut [f64]) -> f64 {
    use std::arch::x86_64::*;
    let blocks = PrecisionBlocks::blocks(k);
    a[..4 * blocks].fill(0.0);
    let (rp, ap) = (r.as_ptr(), a.as_mut_ptr());
    for b in 0..blocks {
        let w = 4 * (b + 1);
        let base = p.as_ptr().add(PrecisionBlocks::block_offset(b));
        let rows = [0, 1, 2, 3].map(|q| base.add(q * w));
        let rb = [0, 1, 2, 3].map(|q| _mm256_set1_pd(*rp.add(4 * b + q)));
        let mut acc = [_mm256_setzero_pd(); 4];
        let mut j = 0;
        while j < w {
            let rj = _mm256_loadu_pd(rp.add(j));
            let mut v = _mm256_loadu_pd(ap.add(j));
            for q in 0..4 {
                let pq = _mm256_loadu_pd(rows[q].add(j));
                acc[q] = _mm256_fmadd_pd(pq, rj, acc[q]);
                v = _mm256_fmadd_pd(pq, rb[q], v);
            }
            _mm256_storeu_pd(ap.add(j), v);
            j += 4;
        }
        // The four dot products, summed across lanes into one vector.
        let t0 = _mm256_hadd_pd(acc[0], acc[1]);
        let t1 = _mm256_hadd_pd(acc[2], acc[3]);
        let sums = _mm256_add_pd(
            _mm256_permute2f128_pd(t0, t1, 0x20),
            _mm256_permute2f128_pd(t0, t1, 0x31),
        );
        let ai = ap.add(4 * b);
        _mm256_storeu_pd(ai, _mm256_add_pd(_mm256_loadu_pd(ai), sums));
    }
    linalg::dot_f64_with::<true>(&r[..k], &a[..k])
}

/// The factor's plain values: borrowed when they are data, collected otherwise.
fn factor_values<'a, R: Real, E: Elem<R>>(chol: &'a Matrix<E>) -> Cow<'a, [f64]> {
    match E::slice_operand(chol.as_slice()) {
        Operand::Data(d) => Cow::Borrowed(d),
        _ => Cow::Owned(chol.as_slice().iter().map(|e| e.elem_value()).collect()),
    }
}

/// The summed log-density of `n ≥ k` events through their scatter matrix
/// `S = Σₑ rₑ rₑᵀ` (`rₑ = xₑ − μ`): with `L⁻¹` formed once and `T = L⁻¹ S L⁻ᵀ`,
/// `Σₑ rₑᵀ Σ⁻¹ rₑ = tr T`, `∂/∂μ = Σ⁻¹ Σₑ rₑ`, `∂/∂xₑ = −Σ⁻¹ rₑ` and
/// `∂/∂L = tril(L⁻ᵀ T) − n diag(1/L_ii)`. One pass over the events and O(k³) work per
/// evaluation instead of two triangular solves per event (a factor built from parameters,
/// e.g. an LKJ correlation factor scaled by standard deviations, with many observations).
fn log_density_by_scatter<R: Real>(
    x: Operand<'_, R>,
    mu: Operand<'_, R>,
    n: usize,
    k: usize,
    l: &[f64],
    l_idx: &[u32],
    log_diag: f64,
) -> R {
    let (x_var, mu_var) = (!x.is_constant(), !mu.is_constant());
    let l_var = l_idx.iter().any(|i| *i != 0);
    let taped = R::MODE == EvalMode::Tape && (x_var || mu_var || l_var);
    vectorized::with_columns::<10, _>(
        |[x_buf, mu_buf, residuals, r_sum, scatter, linv, w, t, grad_mu, work]| {
            let xs = vectorized::column(&x, n * k, x_buf);
            let ms = vectorized::column(&mu, k, mu_buf);
            // The residuals by coordinate (column i holds rₑᵢ for every event), so that each
            // entry of S and of Σₑ rₑ is one contiguous dot product or sum over the events.
            residuals.resize(k * n, 0.0);
            for (e, xe) in xs[..n * k].chunks_exact(k).enumerate() {
                for i in 0..k {
                    residuals[i * n + e] = xe[i] - ms[i];
                }
            }
            let column = |i: usize| &residuals[i * n..(i + 1) * n];
            r_sum.extend((0..k).map(|i| linalg::sum_f64(column(i))));
            scatter.resize(k * k, 0.0);
            for i in 0..k {
                for j in 0..=i {
                    let sij = linalg::dot_f64(column(i), column(j));
                    scatter[i * k + j] = sij;
                    scatter[j * k + i] = sij;
                }
            }
            linv.resize(k * k, 0.0);
            linalg::lower_inverse(l, k, linv);
            // W = L⁻¹ S, T = W L⁻ᵀ (L⁻¹ is lower triangular).
            w.resize(k * k, 0.0);
            for i in 0..k {
                for j in 0..k {
                    w[i * k + j] = (0..=i).map(|m| linv[i * k + m] * scatter[m * k + j]).sum();
                }
            }
            t.resize(k * k, 0.0);
            for i in 0..k {
                for j in 0..k {
                    t[i * k + j] = (0..=j).map(|m| w[i * k + m] * linv[j * k + m]).sum();
                }
            }
            let quad: f64 = (0..k).map(|i| t[i * k + i]).sum();
            let value = -0.5 * quad - n as f64 * (log_diag + k as f64 * HALF_LN_2PI);
            R::record_wide(|edges| {
                if !taped {
                    return value;
                }
                // ∂/∂μ = L⁻ᵀ (L⁻¹ Σₑ rₑ).
                work.extend(
                    (0..k).map(|i| (0..=i).map(|m| linv[i * k + m] * r_sum[m]).sum::<f64>()),
                );
                grad_mu
                    .extend((0..k).map(|j| (j..k).map(|i| linv[i * k + j] * work[i]).sum::<f64>()));
                match x {
                    Operand::Slice(xv) => {
                        // Σ⁻¹ = L⁻ᵀ L⁻¹ into `w` (no longer needed); then coordinate i of
                        // −Σ⁻¹ rₑ for every event at once: −Σⱼ (Σ⁻¹)ᵢⱼ (column j).
                        for i in 0..k {
                            for j in 0..k {
                                w[i * k + j] = linalg::precision_entry(linv, k, i, j);
                            }
                        }
                        edges.reserve(n * k);
                        for i in 0..k {
                            work.clear();
                            work.resize(n, 0.0);
                            for j in 0..k {
                                let p = -w[i * k + j];
                                for (a, r) in work.iter_mut().zip(column(j)) {
                                    *a += p * r;
                                }
                            }
                            for (e, a) in work.iter().enumerate() {
                                edges.push(xv[e * k + i].tape_index(), *a);
                            }
                        }
                    }
                    Operand::Scalar(v) => edges.push(v.tape_index(), -grad_mu.iter().sum::<f64>()),
                    _ => {}
                }
                match mu {
                    Operand::Slice(s) => {
                        for (m, g) in s.iter().zip(grad_mu.iter()) {
                            edges.push(m.tape_index(), *g);
                        }
                    }
                    Operand::Scalar(m) => edges.push(m.tape_index(), grad_mu.iter().sum()),
                    _ => {}
                }
                if l_var {
                    for i in 0..k {
                        for j in 0..=i {
                            let mut g: f64 = (i..k).map(|m| linv[m * k + i] * t[m * k + j]).sum();
                            if i == j {
                                g -= n as f64 / l[i * k + i];
                            }
                            edges.push(l_idx[i * k + j], g);
                        }
                    }
                }
                value
            })
        },
    )
}

impl<M, E: Copy> MvNormal<'_, M, E> {
    /// The summed log-density as one wide tape node (or a plain value), with
    /// `∂/∂x = −Σ⁻¹(x−μ)`, `∂/∂μ = Σ⁻¹(x−μ)`, `∂/∂L_ij = aᵢ zⱼ − δᵢⱼ/L_ii` summed over
    /// events, where `z = L⁻¹(x−μ)` and `a = L⁻ᵀ z`.
    fn log_density_wide<R: Real>(&self, x: Operand<'_, R>, mu: Operand<'_, R>, n: usize) -> R
    where
        E: Elem<R>,
    {
        let k = self.dim();
        let l = factor_values::<R, E>(&self.chol);
        let l_constant = E::slice_operand(self.chol.as_slice()).is_constant();
        let l_idx: Vec<u32> = if R::MODE == EvalMode::Tape && !l_constant {
            self.chol
                .as_slice()
                .iter()
                .map(|e| e.elem_lift().tape_index())
                .collect()
        } else {
            Vec::new()
        };
        let l_var = l_idx.iter().any(|i| *i != 0);
        let x_var = !x.is_constant();
        let mu_var = !mu.is_constant();
        let need_a = x_var || mu_var || l_var;
        let log_diag = self
            .chol
            .factor_facts_by(|e| e.elem_value())
            .log_diagonal_sum;
        // A constant factor that is reused across evaluations is inverted once; the two
        // solves then become one symmetric matrix-vector product.
        let precision = if l_constant && k >= 8 {
            self.chol.reused_precision_by(|e| e.elem_value())
        } else {
            None
        };
        if precision.is_none() && n >= k {
            return log_density_by_scatter(x, mu, n, k, &l, &l_idx, log_diag);
        }
        // Work vectors from the thread's pool: no allocation per evaluation.
        vectorized::with_columns::<7, _>(|[r, z, a, grad_mu, grad_l, x_buf, mu_buf]| {
            let xs = vectorized::column(&x, n * k, x_buf);
            let ms = vectorized::column(&mu, k, mu_buf);
            // Room for the padding of the blocked precision product.
            for col in [&mut *r, &mut *z, &mut *a] {
                col.resize(4 * PrecisionBlocks::blocks(k), 0.0);
            }
            grad_mu.resize(if mu_var { k } else { 0 }, 0.0);
            grad_l.resize(if l_var { k * k } else { 0 }, 0.0);
            R::record_wide(|w| {
                let mut grad_x_scalar = 0.0;
                let mut sum_q = 0.0;
                if x_var {
                    w.reserve(n * k);
                }
                for e in 0..n {
                    for ((ri, xi), mi) in r.iter_mut().zip(&xs[e * k..e * k + k]).zip(ms) {
                        *ri = xi - mi;
                    }
                    sum_q += match precision {
                        Some(p) => precision_products(p, k, r, &mut a[..]),
                        None => {
                            forward_solve(&l, k, r, z);
                            if need_a {
                                back_solve(&l, k, z, a);
                            }
                            z.iter().map(|v| v * v).sum::<f64>()
                        }
                    };
                    if !need_a {
                        continue;
                    }
                    if x_var {
                        match x {
                            Operand::Slice(s) => w.extend_scaled(&s[e * k..e * k + k], a, -1.0),
                            _ => grad_x_scalar -= a.iter().sum::<f64>(),
                        }
                    }
                    if mu_var {
                        for i in 0..k {
                            grad_mu[i] += a[i];
                        }
                    }
                    if l_var {
                        for i in 0..k {
                            for j in 0..=i {
                                grad_l[i * k + j] += a[i] * z[j];
                            }
                        }
                    }
                }
                if let Operand::Scalar(s) = x {
                    w.push(s.tape_index(), grad_x_scalar);
                }
                match mu {
                    Operand::Slice(s) => {
                        for (i, g) in grad_mu.iter().enumerate() {
                            w.push(s[i].tape_index(), *g);
                        }
                    }
                    Operand::Scalar(s) => w.push(s.tape_index(), grad_mu.iter().sum()),
                    _ => {}
                }
                if l_var {
                    for i in 0..k {
                        grad_l[i * k + i] -= n as f64 / l[i * k + i];
                        for j in 0..=i {
                            w.push(l_idx[i * k + j], grad_l[i * k + j]);
                        }
                    }
                }
                -0.5 * sum_q - n as f64 * (log_diag + k as f64 * HALF_LN_2PI)
            })
        })
    }

    /// The summed log-density by the generic formula (forward-mode scalars).
    fn log_density_generic<R: Real>(&self, x: Operand<'_, R>, mu: Operand<'_, R>, n: usize) -> R
    where
        E: Elem<R>,
    {
        let k = self.dim();
        let l: Matrix<R> = self.chol.map(|e| e.elem_lift());
        let mut log_diag = R::constant(0.0);
        for i in 0..k {
            log_diag += l[(i, i)].ln();
        }
        let mut total = R::constant(0.0);
        let mut r = Vec::with_capacity(k);
        for e in 0..n {
            r.clear();
            r.extend((0..k).map(|i| x.lift(e * k + i) - mu.lift(i)));
            let z = linalg::solve_lower(&l, &r);
            for zi in z {
                total -= zi * zi * 0.5;
            }
        }
        total - (log_diag + k as f64 * HALF_LN_2PI) * n as f64
    }
}

impl<R: Real, M: Param<R>, E: Elem<R>> Distribution<R> for MvNormal<'_, M, E> {
    type Value = Vec<R>;

    fn name(&self) -> &'static str {
        NAME
    }

    fn event_len(&self) -> usize {
        self.dim()
    }

    fn event_shape(&self) -> Vec<usize> {
        vec![self.dim()]
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(None)
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let (mut x_buf, mut mu_buf) = (Vec::new(), Vec::new());
        let x = x.materialize(&mut x_buf);
        let mu = self.mu.operand().materialize(&mut mu_buf);
        let n = self.events(&x, &mu)?;
        Ok(match R::MODE {
            EvalMode::Dual => self.log_density_generic(x, mu, n),
            _ => self.log_density_wide(x, mu, n),
        })
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let mu = self.mu.operand();
        let n = self.events(&x, &mu)?;
        let k = self.dim();
        let l = factor_values::<R, E>(&self.chol);
        let log_diag: f64 = (0..k).map(|i| l[i * k + i].ln()).sum();
        let (mut r, mut z) = (vec![0.0; k], vec![0.0; k]);
        for e in 0..n {
            for (i, ri) in r.iter_mut().enumerate() {
                *ri = x.value(e * k + i) - mu.value(i);
            }
            forward_solve(&l, k, &r, &mut z);
            let q: f64 = z.iter().map(|v| v * v).sum();
            out.push(-0.5 * q - log_diag - k as f64 * HALF_LN_2PI);
        }
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let k = self.dim();
        let mu = self.mu.operand();
        let l = factor_values::<R, E>(&self.chol);
        let mut z = vec![0.0; k];
        for _ in 0..n / k {
            for zi in z.iter_mut() {
                *zi = rand_distr::StandardNormal.sample(rng);
            }
            for i in 0..k {
                let lz: f64 = (0..=i).map(|j| l[i * k + j] * z[j]).sum();
                out.push(mu.value(i) + lz);
            }
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> Vec<R> {
        xs.into_vec()
    }
}

impl<R: Real, M: Param<R>, E: Elem<R>> ElementValue<R> for MvNormal<'_, M, E> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_moments, test_rng, ScalarFamily};
    use crate::dist::Normal;
    use statrs::distribution::Continuous;

    fn lp<D: Distribution<f64>>(d: &D, x: &[f64]) -> f64 {
        d.log_density(Operand::<f64>::Data(x)).unwrap()
    }

    #[test]
    fn diagonal_matches_independent_normals() {
        let cov = Matrix::diagonal(&[4.0, 0.25, 9.0]);
        let mu = [1.0, -2.0, 0.5];
        let d = MvNormal::new(&mu, &cov).unwrap();
        let x = [0.3, -1.0, 4.0, 2.0, -2.5, 0.0];
        let mut expected = 0.0;
        for (i, xi) in x.iter().enumerate() {
            let s = [2.0, 0.5, 3.0][i % 3];
            let n = Normal::new(mu[i % 3], s).unwrap();
            expected += crate::dist::testing::lpdf(&n, *xi);
        }
        assert!((lp(&d, &x) - expected).abs() < 1e-12);
        let mut pw = Vec::new();
        d.log_density_pointwise(Operand::<f64>::Data(&x), &mut pw)
            .unwrap();
        assert_eq!(pw.len(), 2);
        assert!((pw.iter().sum::<f64>() - expected).abs() < 1e-12);
    }

    #[test]
    fn matches_statrs() {
        let cov = [2.0, 0.6, -0.4, 0.6, 1.0, 0.3, -0.4, 0.3, 1.5];
        let mu = [0.5, -1.0, 2.0];
        let d = MvNormal::new(&mu, &Matrix::from_vec(3, 3, cov.to_vec())).unwrap();
        let reference =
            statrs::distribution::MultivariateNormal::new(mu.to_vec(), cov.to_vec()).unwrap();
        for x in [[0.0, 0.0, 0.0], [1.3, -2.2, 3.1], [-4.0, 1.0, 0.5]] {
            let expected = reference.ln_pdf(&nalgebra::DVector::from_vec(x.to_vec()));
            assert!(
                (lp(&d, &x) - expected).abs() < 1e-10,
                "{} vs {expected}",
                lp(&d, &x)
            );
        }
        // From the Cholesky factor: same density.
        let l = linalg::cholesky(&Matrix::from_vec(3, 3, cov.to_vec())).unwrap();
        let d2 = MvNormal::from_cholesky(&mu, &l).unwrap();
        assert!((lp(&d2, &[1.3, -2.2, 3.1]) - lp(&d, &[1.3, -2.2, 3.1])).abs() < 1e-14);
    }

    #[test]
    fn two_by_two_by_hand() {
        // Σ = [[1, ρ], [ρ, 1]]: ln p = −(x²−2ρxy+y²)/(2(1−ρ²)) − ½ ln(1−ρ²) − ln 2π.
        let rho: f64 = 0.8;
        let d = MvNormal::new(0.0, &Matrix::from_rows(&[[1.0, rho], [rho, 1.0]])).unwrap();
        let (x, y) = (0.7, -0.4);
        let expected = -(x * x - 2.0 * rho * x * y + y * y) / (2.0 * (1.0 - rho * rho))
            - 0.5 * (1.0 - rho * rho).ln()
            - (2.0 * std::f64::consts::PI).ln();
        assert!((lp(&d, &[x, y]) - expected).abs() < 1e-12);
    }

    #[test]
    fn validation_and_shapes() {
        let eye: Matrix<f64> = Matrix::identity(2);
        let e = MvNormal::new(&[0.0, 0.0, 0.0], &eye).unwrap_err();
        assert_eq!((e.parameter, e.value), ("mu", 3.0));
        let e = MvNormal::new(0.0, &Matrix::from_rows(&[[1.0, 0.5], [0.4, 1.0]])).unwrap_err();
        assert_eq!(e.parameter, "cov");
        assert!(e.requirement.contains("symmetric"));
        let e = MvNormal::new(0.0, &Matrix::from_rows(&[[1.0, 0.0], [0.0, -1.0]])).unwrap_err();
        assert!(e.requirement.contains("positive definite"));
        assert!(MvNormal::new(0.0, &Matrix::from_vec(1, 2, vec![1.0, 0.0])).is_err());
        assert!(MvNormal::new(0.0, &Matrix::<f64>::from_vec(0, 0, vec![])).is_err());
        assert!(MvNormal::new(f64::NAN, &eye).is_err());
        assert!(MvNormal::new(0.0, &Matrix::from_rows(&[[f64::INFINITY]])).is_err());
        let e = MvNormal::from_cholesky(0.0, &Matrix::from_rows(&[[1.0, 0.1], [0.0, 1.0]]))
            .unwrap_err();
        assert!(e.requirement.contains("lower triangular"));
        let e = MvNormal::from_cholesky(0.0, &Matrix::from_rows(&[[1.0, 0.0], [0.3, 0.0]]))
            .unwrap_err();
        assert!(e.requirement.contains("positive diagonal"));

        let d = MvNormal::new(&[0.0, 0.0], &eye).unwrap();
        assert_eq!(Distribution::<f64>::event_len(&d), 2);
        assert_eq!(Distribution::<f64>::event_shape(&d), vec![2]);
        assert_eq!(Distribution::<f64>::batch_len(&d), Ok(None));
        assert_eq!(Distribution::<f64>::support(&d), Support::Real);
        let err = d
            .log_density(Operand::<f64>::Data(&[1.0, 2.0, 3.0]))
            .unwrap_err();
        assert_eq!((err.argument, err.found, err.expected), ("x", 3, 2));
        assert!(d.log_density(Operand::<f64>::Const(1.0)).is_err());
        assert_eq!(lp(&d, &[]), 0.0);
        // k = 1 accepts a scalar value.
        let d1 = MvNormal::new(1.0, &Matrix::from_rows(&[[4.0]])).unwrap();
        let v: f64 = d1.log_density(Operand::<f64>::Const(2.0)).unwrap();
        let n = Normal::new(1.0, 2.0).unwrap();
        assert!((v - crate::dist::testing::lpdf(&n, 2.0)).abs() < 1e-14);
        assert_eq!(
            <MvNormal<'static, f64, f64> as Distribution<f64>>::value_from(smallvec::smallvec![
                1.0, 2.0
            ]),
            vec![1.0, 2.0]
        );
        assert_eq!(
            <MvNormal<'static, f64, f64> as ElementValue<f64>>::element_from(3.0),
            3.0
        );
    }

    /// Constant covariance; arguments: x (two events of 3), then mu (3).
    struct ConstCov;
    impl ScalarFamily for ConstCov {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let cov = Matrix::from_vec(3, 3, vec![2.0, 0.6, -0.4, 0.6, 1.0, 0.3, -0.4, 0.3, 1.5]);
            let d = MvNormal::new(&args[6..9], &cov).unwrap();
            d.log_density(Operand::Slice(&args[..6])).unwrap()
        }
    }

    /// Covariance from parameters, a GP-like kernel `s² exp(−(tᵢ−tⱼ)²/(2ℓ²)) + 0.1 δᵢⱼ`;
    /// arguments: x (3), s, ℓ, mu (scalar), through `new` and through `from_cholesky`.
    struct KernelCov {
        via_cholesky: bool,
    }
    impl ScalarFamily for KernelCov {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let t = [0.0, 0.7, 1.5];
            let (s, ell, mu) = (args[3], args[4], args[5]);
            let cov = Matrix::from_fn(3, 3, |i, j| {
                let d = t[i] - t[j];
                let v = s * s * (R::constant(-(d * d)) / (ell * ell * 2.0)).exp();
                if i == j {
                    v + 0.1
                } else {
                    v
                }
            });
            // The factor outlives the (borrowing) distribution.
            let l;
            let d = if self.via_cholesky {
                l = linalg::cholesky(&cov).unwrap();
                MvNormal::from_cholesky(mu, &l).unwrap()
            } else {
                MvNormal::new(mu, &cov).unwrap()
            };
            d.log_density(Operand::Slice(&args[..3])).unwrap()
        }
    }

    /// Cholesky factor entries as direct arguments: x (2), L00, L10, L11, scalar x-mean.
    struct CholArgs;
    impl ScalarFamily for CholArgs {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let zero = R::constant(0.0);
            let l = Matrix::from_vec(2, 2, vec![args[2], zero, args[3], args[4]]);
            let mu = [args[5], args[5] * 2.0];
            let d = MvNormal::from_cholesky(&mu, &l).unwrap();
            d.log_density(Operand::Slice(&args[..2])).unwrap()
        }
    }

    /// Four events of k = 2 (the scatter-matrix path) with every input a parameter:
    /// x (8), L00, L10, L11, mu (2).
    struct ManyEvents;
    impl ScalarFamily for ManyEvents {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let zero = R::constant(0.0);
            let l = Matrix::from_vec(2, 2, vec![args[8], zero, args[9], args[10]]);
            let d = MvNormal::from_cholesky(&args[11..13], &l).unwrap();
            d.log_density(Operand::Slice(&args[..8])).unwrap()
        }
    }

    /// Five observed events of k = 3 (data) with the factor's lower triangle (6) and a
    /// scalar mean as parameters.
    struct DataEvents;
    impl ScalarFamily for DataEvents {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let y = [
                0.3, -1.2, 0.8, 1.1, 0.4, -0.2, -0.6, 0.9, 1.7, 0.2, 0.1, -0.5, 2.0, -0.3, 0.6,
            ];
            let zero = R::constant(0.0);
            let l = Matrix::from_vec(
                3,
                3,
                vec![
                    args[0], zero, zero, args[1], args[2], zero, args[3], args[4], args[5],
                ],
            );
            let d = MvNormal::from_cholesky(args[6], &l).unwrap();
            d.log_density(Operand::Data(&y)).unwrap()
        }
    }

    /// k = 1 with a scalar value.
    struct ScalarValue1;
    impl ScalarFamily for ScalarValue1 {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let l = Matrix::from_vec(1, 1, vec![args[1]]);
            let d = MvNormal::from_cholesky(args[2], &l).unwrap();
            d.log_density(Operand::Scalar(args[0])).unwrap()
        }
    }

    /// Both versions of the packed symmetric product (portable, AVX2) against the plain
    /// definition, for sizes with and without rows left over after the blocks of four.
    #[test]
    fn precision_products_match_the_definition() {
        for k in [1, 3, 4, 5, 8, 13, 22, 37] {
            let full = |i: usize, j: usize| {
                let (i, j) = if j > i { (j, i) } else { (i, j) };
                ((i * 13 + j * 7) % 11) as f64 * 0.2 - 1.0
            };
            let mut p = vec![f64::NAN; PrecisionBlocks::len(k)];
            for i in 0..4 * PrecisionBlocks::blocks(k) {
                let row = &mut p[PrecisionBlocks::row_offset(i)..][..4 * (i / 4 + 1)];
                for (j, v) in row.iter_mut().enumerate() {
                    *v = match (i < k, j.cmp(&i)) {
                        (true, std::cmp::Ordering::Less) => full(i, j),
                        (true, std::cmp::Ordering::Equal) => 0.5 * full(i, i),
                        _ => 0.0,
                    };
                }
            }
            let r: Vec<f64> = (0..k).map(|i| (i as f64 * 0.9).sin()).collect();
            let a_want: Vec<f64> = (0..k)
                .map(|i| (0..k).map(|j| full(i, j) * r[j]).sum())
                .collect();
            let q_want: f64 = r.iter().zip(&a_want).map(|(x, y)| x * y).sum();
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * (1.0 + y.abs());
            let k4 = 4 * PrecisionBlocks::blocks(k);
            // Garbage in the padding of r and in a: the product must not see it.
            let padded = || {
                let mut v = r.clone();
                v.resize(k4, f64::NAN);
                v
            };
            let mut runs: Vec<(Vec<f64>, f64)> = Vec::new();
            let (mut rr, mut a) = (padded(), vec![7.0; k4]);
            rr[k..].fill(0.0);
            let q = precision_products_portable(&p, k, &rr, &mut a);
            runs.push((a, q));
            let (mut rr, mut a) = (padded(), vec![7.0; k4]);
            let q = precision_products(&p, k, &mut rr, &mut a);
            runs.push((a, q));
            for (a, q) in runs {
                assert!(close(q, q_want), "k = {k}: {q} vs {q_want}");
                for i in 0..k {
                    assert!(close(a[i], a_want[i]), "k = {k}, a[{i}]");
                }
            }
        }
    }

    /// A constant factor used again is inverted once and the solves become a product:
    /// the first evaluation (substitution) and later ones (inverse) agree, value and
    /// gradient, also for a badly scaled factor, for dimensions with and without a
    /// remainder after the blocks of four rows.
    #[test]
    fn reused_constant_factor_agrees_with_substitution() {
        use crate::tape::{self, Var};
        // k = 8, 12: whole blocks of four rows; 13, 15, 22: a remainder.
        for (k, spread) in [8, 12, 13, 15, 22]
            .into_iter()
            .flat_map(|k| [(k, 1.0), (k, 1e3)])
        {
            let l = Matrix::from_fn(k, k, |i, j| {
                if j > i {
                    0.0
                } else if i == j {
                    0.5 + (i as f64 * 0.7).sin().abs() * spread.powf(i as f64 / k as f64)
                } else {
                    ((i * 7 + j * 3) % 5) as f64 * 0.3 - 0.6
                }
            });
            let mu: Vec<f64> = (0..k).map(|i| i as f64 * 0.1).collect();
            let x: Vec<f64> = (0..k).map(|i| (i as f64 * 1.3).cos() * 2.0).collect();
            let mut results = Vec::new();
            for _ in 0..3 {
                tape::reset();
                let leaves: Vec<Var> = x.iter().map(|v| Var::leaf(*v)).collect();
                let lp = MvNormal::from_cholesky(&mu[..], &l)
                    .unwrap()
                    .log_density(Operand::Slice(&leaves))
                    .unwrap();
                let mut grad = vec![0.0; k];
                tape::gradient(lp, &leaves, &mut grad);
                results.push((lp.value(), grad));
            }
            assert!(
                l.reused_precision_by(|v| *v).is_some(),
                "the precision is cached"
            );
            let (v0, g0) = &results[0];
            for (v, g) in &results[1..] {
                assert!((v - v0).abs() <= 1e-11 * v0.abs().max(1.0), "{v} vs {v0}");
                for (a, b) in g.iter().zip(g0) {
                    assert!((a - b).abs() <= 1e-10 * b.abs().max(1.0), "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn gradients() {
        check_gradients(
            &ConstCov,
            &[0.3, -1.0, 2.0, 1.5, 0.2, -0.7, 0.5, -1.0, 2.0],
            1e-6,
        );
        let args = [0.4, -0.3, 1.1, 1.3, 0.8, 0.2];
        check_gradients(
            &KernelCov {
                via_cholesky: false,
            },
            &args,
            1e-6,
        );
        check_gradients(&KernelCov { via_cholesky: true }, &args, 1e-6);
        check_gradients(&CholArgs, &[0.4, -0.3, 1.3, 0.5, 0.8, 0.2], 1e-6);
        check_gradients(&ScalarValue1, &[0.4, 1.7, -0.2], 1e-6);
        let events = [0.4, -0.3, 1.1, 0.2, -0.8, 0.9, 0.3, 1.4];
        let args: Vec<f64> = events
            .iter()
            .chain(&[1.3, 0.5, 0.8, 0.2, -0.1])
            .copied()
            .collect();
        check_gradients(&ManyEvents, &args, 1e-6);
        check_gradients(&DataEvents, &[1.2, 0.3, 0.9, -0.4, 0.2, 1.5, 0.3], 1e-6);
    }

    #[test]
    fn sampling_moments() {
        let cov = Matrix::from_rows(&[[2.0, 0.8], [0.8, 1.0]]);
        let d = MvNormal::new(&[1.0, -2.0], &cov).unwrap();
        let mut rng = test_rng(7);
        let n = 40_000;
        let mut out = Vec::new();
        Distribution::<f64>::draw(&d, &mut rng, 2 * n, &mut out);
        assert_eq!(out.len(), 2 * n);
        let x0: Vec<f64> = out.iter().step_by(2).copied().collect();
        let x1: Vec<f64> = out.iter().skip(1).step_by(2).copied().collect();
        check_moments(&x0, 1.0, 2.0);
        check_moments(&x1, -2.0, 1.0);
        // x0 + x1 has variance 2 + 1 + 2·0.8.
        let s: Vec<f64> = x0.iter().zip(&x1).map(|(a, b)| a + b).collect();
        check_moments(&s, -1.0, 4.6);
    }
    /// A model using all three multivariate distributions: a correlation factor, scales
    /// from a simplex, a mean vector, and observations of an MvNormal with covariance
    /// `diag(s) L Lᵀ diag(s)` built from those parameters.
    struct Mixed;
    impl crate::model::ModelTemplate for Mixed {
        type Output<R: Real> = ();
        fn name(&self) -> &'static str {
            "mixed"
        }
        fn run<R: Real, C: crate::context::Context<R>>(&self, ctx: &mut C)
        where
            f64: std::ops::Add<R, Output = R>
                + std::ops::Sub<R, Output = R>
                + std::ops::Mul<R, Output = R>
                + std::ops::Div<R, Output = R>,
        {
            use crate::context::api::{observe, sample, NoShape};
            use crate::dist::{Dirichlet, LKJCorrCholesky};
            let l: Vec<R> = sample(ctx, "L", LKJCorrCholesky::new(3, 2.0), NoShape, None);
            let w: Vec<R> = sample(ctx, "w", Dirichlet::new(&[2.0, 2.0, 3.0]), NoShape, None);
            let eye: Matrix<f64> = Matrix::identity(3);
            let mu: Vec<R> = sample(ctx, "mu", MvNormal::new(0.0, &eye), NoShape, None);
            let chol = Matrix::from_fn(3, 3, |i, j| l[i * 3 + j] * (w[i] * 3.0 + 0.1).sqrt());
            let data = [0.5, -0.2, 1.0, 0.1, 0.4, -0.3, -1.0, 0.0, 0.8];
            observe(ctx, "y", MvNormal::from_cholesky(&mu, &chol), &data[..]);
        }
    }

    #[test]
    fn model_end_to_end() {
        let model = crate::model::Model::new(Mixed).unwrap();
        assert_eq!(model.dim(), 3 + 2 + 3);
        let u = [0.3, -0.4, 0.8, 0.2, -0.1, 0.5, -0.6, 1.1];
        let (mut g_tape, mut g_fwd) = (vec![0.0; 8], vec![0.0; 8]);
        let lp = model.logp_grad(&u, &mut g_tape).unwrap();
        let lp2 = model.logp_grad_forward(&u, &mut g_fwd).unwrap();
        assert!((lp - lp2).abs() < 1e-12 && (lp - model.logp(&u).unwrap()).abs() < 1e-12);
        for i in 0..8 {
            let mut up = u;
            let mut um = u;
            up[i] += 1e-6;
            um[i] -= 1e-6;
            let fd = (model.logp(&up).unwrap() - model.logp(&um).unwrap()) / 2e-6;
            assert!(
                (g_tape[i] - g_fwd[i]).abs() < 1e-9,
                "{i}: {} vs {}",
                g_tape[i],
                g_fwd[i]
            );
            assert!((g_tape[i] - fd).abs() < 1e-5, "{i}: {} vs {fd}", g_tape[i]);
        }
        let point = model.constrain(&u).unwrap();
        assert_eq!(point.get("L").unwrap().shape, vec![3, 3]);
        let back = model.unconstrain(&point).unwrap();
        for (a, b) in u.iter().zip(&back) {
            assert!((a - b).abs() < 1e-10);
        }
        let draw = model.prior_draw(&mut test_rng(5)).unwrap();
        let l = &draw.variables.get("L").unwrap().values;
        assert!(l[1] == 0.0 && (l[3] * l[3] + l[4] * l[4] - 1.0).abs() < 1e-12);
        assert_eq!(draw.observed.get("y").unwrap().values.len(), 9);
    }
}
