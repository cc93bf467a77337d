//! Fused generalised linear models: the likelihood of `y` given `α + Xβ` as one tape node.
//!
//! Writing `let mu = matvec_add(&x, alpha, &beta); observe!(Normal::new(&mu, sigma), y)`
//! records one node per row for the linear predictor and one for the likelihood. The
//! distributions here compute the linear predictor and the whole log-likelihood in plain
//! `f64` and record a **single** wide node whose parents are `alpha`, each `beta[j]` and
//! `sigma` (Stan's `normal_id_glm`, `bernoulli_logit_glm`, `poisson_log_glm`). With
//! forward-mode duals they evaluate the generic formula.

use super::bernoulli::support01;
use super::poisson::{is_count, ln_factorial, sample_poisson, scalar_of};
use super::{Distribution, ElementValue, ParamError, Support};
use crate::glm::DataMatrix;
use crate::linalg::{dot_f64, dot_f64_with, sum_f64};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{log1p_exp, sigmoid, HALF_LN_2PI};
use crate::vecmath;
use crate::vectorized::{column, push_partials, LengthMismatch};
use rand::{Rng, RngCore};
use std::cell::RefCell;

thread_local! {
    /// Scratch columns (coefficient values and partials, the linear predictor, the
    /// outcomes, per-source partials of a gathered intercept), kept between calls so
    /// that a warm gradient evaluation allocates nothing.
    static SCRATCH: RefCell<[Vec<f64>; 5]> = const {
        RefCell::new([Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new()])
    };
}

/// Runs `f` with five cleared scratch vectors from this thread's pool.
fn with_scratch<T>(f: impl FnOnce(&mut [Vec<f64>; 5]) -> T) -> T {
    // Taken out of the cell (not borrowed) so that a nested call merely allocates.
    let mut bufs = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    for b in &mut bufs {
        b.clear();
    }
    let out = f(&mut bufs);
    SCRATCH.with(|s| *s.borrow_mut() = bufs);
    out
}

/// Validates the linear predictor's parameters: `alpha` a scalar or one value per row,
/// `beta` one coefficient per column, all finite.
fn check_linear(
    distribution: &'static str,
    x: &DataMatrix,
    alpha: &impl ParamValues,
    beta: &impl ParamValues,
) -> Result<(), ParamError> {
    if let Some(len) = alpha.param_len() {
        if len != x.rows() {
            return Err(ParamError::new(
                distribution,
                "alpha",
                "must be a scalar or have one element per row of x",
                len as f64,
            ));
        }
    }
    check_param(distribution, "alpha", alpha, "must be finite", |_| true)?;
    let len = beta.param_len().unwrap_or(1);
    if len != x.cols() {
        return Err(ParamError::new(
            distribution,
            "beta",
            "must have one element per column of x",
            len as f64,
        ));
    }
    check_param(distribution, "beta", beta, "must be finite", |_| true)
}

/// One row's log-density as a function of the outcome and the linear predictor.
trait Family {
    /// Value and partials `(ln p, ∂/∂η, ∂/∂y, ∂/∂σ)` at plain values.
    fn row(&self, y: f64, eta: f64) -> (f64, f64, f64, f64);
    /// The generic formula, for forward mode (`sigma` is ignored by families without
    /// a scale).
    fn row_generic<R: Real>(&self, y: R, eta: R, sigma: R) -> R;
    /// The row term in a form that vectorises (no branches, no library calls):
    /// `(t, ∂ln p/∂η)`, where `ln p = t` plus what [`Family::finish`] adds.
    fn term<const FMA: bool>(&self, y: f64, eta: f64) -> (f64, f64);
    /// The part of `Σ ln p` that depends only on the outcomes, or `None` when an
    /// outcome is outside the support.
    fn outcome_constant(&self, y: &[f64]) -> Option<f64>;
    /// Whether [`row_terms`] computes `e^−|η|` for all rows first and then
    /// [`Family::term_from_exp`].
    const EXP_FIRST: bool = false;
    /// [`Family::term`] given `e = e^−|η|` (used when [`Family::EXP_FIRST`]).
    fn term_from_exp<const FMA: bool>(&self, y: f64, eta: f64, e: f64) -> (f64, f64) {
        let _ = e;
        self.term::<FMA>(y, eta)
    }
    /// `(Σ ln p, ∂/∂σ)` from `Σ t` over `n` rows and the outcome constant.
    fn finish(&self, sum_terms: f64, n: usize, constant: f64) -> (f64, f64) {
        let _ = n;
        (sum_terms + constant, 0.0)
    }
}

/// The plain-value work of a fused GLM: `eta += X β` ([`add_x_beta`]), the family's
/// row terms, which leave `∂ln p/∂η` in `eta` (`values` is scratch space for the
/// terms), and, when `d_beta` is given, `d_beta = Xᵀ ∂ln p/∂η`
/// ([`add_x_transpose_times`]). Returns `Σ t` over all rows.
fn glm_rows<F: Family>(
    family: &F,
    x: &DataMatrix,
    beta: &[f64],
    y: &[f64],
    eta: &mut [f64],
    values: &mut Vec<f64>,
    d_beta: Option<&mut Vec<f64>>,
) -> f64 {
    let rows = eta.len().min(y.len());
    let eta = &mut eta[..rows];
    values.clear();
    values.resize(rows, 0.0);
    add_x_beta(x, beta, eta);
    row_terms(family, &y[..rows], eta, values);
    if let Some(d) = d_beta {
        d.clear();
        d.resize(x.cols(), 0.0);
        add_x_transpose_times(x, eta, d);
    }
    sum_f64(values)
}

vecmath::simd_fn! {
    /// Per row, the family's term into `values` and `∂ln p/∂η` into `eta`. The loop is
    /// a plain element-wise loop, which the compiler vectorises because
    /// [`Family::term`] is branch-free.
    fn row_terms<F: Family>(family: &F, y: &[f64], eta: &mut [f64], values: &mut [f64]) {
        if F::EXP_FIRST {
            // The exponentials in a loop of their own (into `values`), then the rest.
            for (v, e) in values.iter_mut().zip(eta.iter()) {
                *v = vecmath::exp_with::<FMA>(-e.abs());
            }
        }
        for ((e, v), yi) in eta.iter_mut().zip(values.iter_mut()).zip(y) {
            let (value, d) = if F::EXP_FIRST {
                family.term_from_exp::<FMA>(*yi, *e, *v)
            } else {
                family.term::<FMA>(*yi, *e)
            };
            *v = value;
            *e = d;
        }
    }
}

vecmath::simd_fn! {
    /// `eta += X β`, four columns of the column-major copy of `x` per sweep over
    /// `eta` (which has one element per row).
    fn add_x_beta(x: &DataMatrix, beta: &[f64], eta: &mut [f64]) {
        let rows = eta.len();
        let col = |j: usize| &x.column(j)[..rows];
        let mut j = 0;
        while j + 4 <= beta.len() {
            let (c0, c1, c2, c3) = (col(j), col(j + 1), col(j + 2), col(j + 3));
            let b = &beta[j..j + 4];
            for (i, e) in eta.iter_mut().enumerate() {
                let pair0 = vecmath::madd::<FMA>(b[1], c1[i], b[0] * c0[i]);
                let pair1 = vecmath::madd::<FMA>(b[3], c3[i], b[2] * c2[i]);
                *e += pair0 + pair1;
            }
            j += 4;
        }
        for (b, j) in beta[j..].iter().zip(j..) {
            for (e, xij) in eta.iter_mut().zip(col(j)) {
                *e = vecmath::madd::<FMA>(*b, *xij, *e);
            }
        }
    }
}

vecmath::simd_fn! {
    /// `out += Xᵀ d` (`d` has one element per row): one dot product per column, four
    /// columns at a time with AVX2 (each load of `d` shared).
    fn add_x_transpose_times(x: &DataMatrix, d: &[f64], out: &mut [f64]) {
        let col = |j: usize| &x.column(j)[..d.len()];
        // Only the x86-64 intrinsics path advances `j` before the portable loop.
        #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
        let mut j = 0;
        #[cfg(target_arch = "x86_64")]
        if FMA {
            // SAFETY (both calls): FMA is true only in the twin compiled for (and chosen
            // on) CPUs with AVX2 and FMA; every column slice has `d.len()` elements.
            while j + 4 <= out.len() {
                let dots = unsafe { dots_avx2([col(j), col(j + 1), col(j + 2), col(j + 3)], d) };
                for (o, v) in out[j..j + 4].iter_mut().zip(dots) {
                    *o += v;
                }
                j += 4;
            }
            for (o, j) in out[j..].iter_mut().zip(j..) {
                *o += unsafe { dot_avx2(col(j), d) };
            }
            return;
        }
        for (o, j) in out[j..].iter_mut().zip(j..) {
            *o += dot_f64_with::<FMA>(col(j), d);
        }
    }
}

/// The dot product `Σᵢ c[i]·d[i]` with AVX2 + FMA: four accumulators of four lanes
/// (sixteen independent multiply-add chains).
///
/// # Safety
/// The CPU must have AVX2 and FMA, and `c` must hold at least `d.len()` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(c: &[f64], d: &[f64]) -> f64 {
    use std::arch::x86_64::*;
    let n = d.len();
    let (dp, cp) = (d.as_ptr(), c.as_ptr());
    let mut acc = [_mm256_setzero_pd(); 4];
    let mut i = 0;
    while i + 16 <= n {
        for (k, a) in acc.iter_mut().enumerate() {
            let j = i + 4 * k;
            *a = _mm256_fmadd_pd(_mm256_loadu_pd(cp.add(j)), _mm256_loadu_pd(dp.add(j)), *a);
        }
        i += 16;
    }
    let sum = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
    let mut lanes = [0.0; 4];
    _mm256_storeu_pd(lanes.as_mut_ptr(), sum);
    let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for k in i..n {
        s = (*cp.add(k)).mul_add(*dp.add(k), s);
    }
    s
}

/// `Q` dot products `Σᵢ cols[q][i]·d[i]` with AVX2 + FMA: two accumulators per column
/// (independent multiply-add chains), each load of `d` shared by the `Q` columns.
///
/// # Safety
/// The CPU must have AVX2 and FMA, and every column must hold at least `d.len()` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dots_avx2<const Q: usize>(cols: [&[f64]; Q], d: &[f64]) -> [f64; Q] {
    use std::arch::x86_64::*;
    let n = d.len();
    let (dp, cp) = (d.as_ptr(), cols.map(|c| c.as_ptr()));
    let mut lo = [_mm256_setzero_pd(); Q];
    let mut hi = [_mm256_setzero_pd(); Q];
    let mut i = 0;
    while i + 8 <= n {
        let (d0, d1) = (_mm256_loadu_pd(dp.add(i)), _mm256_loadu_pd(dp.add(i + 4)));
        for q in 0..Q {
            lo[q] = _mm256_fmadd_pd(_mm256_loadu_pd(cp[q].add(i)), d0, lo[q]);
            hi[q] = _mm256_fmadd_pd(_mm256_loadu_pd(cp[q].add(i + 4)), d1, hi[q]);
        }
        i += 8;
    }
    let mut out = [0.0; Q];
    for q in 0..Q {
        let mut lanes = [0.0; 4];
        _mm256_storeu_pd(lanes.as_mut_ptr(), _mm256_add_pd(lo[q], hi[q]));
        let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
        for k in i..n {
            s = (*cp[q].add(k)).mul_add(*dp.add(k), s);
        }
        out[q] = s;
    }
    out
}

/// The linear predictor's parts as operands.
struct Linear<'a, R> {
    x: &'a DataMatrix,
    alpha: Operand<'a, R>,
    beta: Operand<'a, R>,
}

impl<R: Real> Linear<'_, R> {
    /// Checks that `y` has one element per row (scalars broadcast).
    fn check_y(&self, y: Operand<'_, R>) -> Result<(), LengthMismatch> {
        match y.len() {
            Some(len) if len != self.x.rows() => Err(LengthMismatch {
                argument: "y",
                found: len,
                expected: self.x.rows(),
            }),
            _ => Ok(()),
        }
    }

    /// Writes the plain coefficients into `out`.
    fn beta_values(&self, out: &mut Vec<f64>) {
        out.extend((0..self.x.cols()).map(|j| self.beta.value(j)));
    }

    /// The plain linear predictor of row `i` (a dot product with split accumulators, so
    /// that it pipelines and vectorises rather than forming one serial chain).
    #[inline]
    fn eta(&self, i: usize, beta: &[f64]) -> f64 {
        self.alpha.value(i) + dot_f64(self.x.row(i), beta)
    }

    /// Sum of the family's row log-densities: one wide node on the tape.
    ///
    /// In plain values: η = α + Xβ column by column (axpys over the column-major copy
    /// of `x`), then the family's vectorised row loop, which leaves ∂/∂η per row, then
    /// ∂/∂β = Xᵀ ∂/∂η as one dot product per column. A gathered intercept gets one edge
    /// per source element.
    fn log_density<F: Family>(&self, family: &F, y: Operand<'_, R>, sigma: Option<R>) -> R {
        let (rows, cols) = (self.x.rows(), self.x.cols());
        if R::MODE == EvalMode::Dual {
            let s = sigma.unwrap_or(R::constant(1.0));
            let beta: Vec<R> = (0..cols).map(|j| self.beta.lift(j)).collect();
            let mut total = R::constant(0.0);
            for i in 0..rows {
                let mut eta = self.alpha.lift(i);
                for (xij, b) in self.x.row(i).iter().zip(&beta) {
                    eta += *b * *xij;
                }
                total += family.row_generic(y.lift(i), eta, s);
            }
            return total;
        }
        let taping = R::MODE == EvalMode::Tape;
        let beta_var = taping && !self.beta.is_constant();
        with_scratch(|[beta_values, d_beta, eta, y_buf, values]| {
            self.beta_values(beta_values);
            match self.alpha {
                Operand::Const(c) => eta.resize(rows, c),
                Operand::Scalar(a) => eta.resize(rows, a.value()),
                Operand::Data(a) => eta.extend_from_slice(a),
                Operand::Slice(a) => eta.extend(a.iter().map(|v| v.value())),
                Operand::Gather(v, index) => {
                    eta.extend(index.as_slice().iter().map(|k| v[*k].value()));
                }
                Operand::IntData(a) => eta.extend(a.iter().map(|v| *v as f64)),
            }
            let y_values = column(&y, rows, y_buf);
            let Some(constant) = family.outcome_constant(y_values) else {
                return R::constant(f64::NEG_INFINITY);
            };
            R::record_wide(|w| {
                let want_d_beta = beta_var.then_some(&mut *d_beta);
                let sum_terms = glm_rows(
                    family,
                    self.x,
                    beta_values,
                    y_values,
                    eta,
                    values,
                    want_d_beta,
                );
                let (total, d_sigma) = family.finish(sum_terms, rows, constant);
                if !taping || total.is_nan() || total == f64::NEG_INFINITY {
                    return total;
                }
                // `eta` now holds ∂/∂η per row, which is also ∂/∂α per row.
                push_partials(w, &self.alpha, eta);
                if matches!(y, Operand::Slice(_) | Operand::Gather(..)) {
                    // A variable outcome (rare): ∂/∂y per row from the row formula.
                    let d_y: Vec<f64> = (0..rows)
                        .map(|i| {
                            let eta_i = self.alpha.value(i) + dot_f64(self.x.row(i), beta_values);
                            family.row(y.value(i), eta_i).2
                        })
                        .collect();
                    push_partials(w, &y, &d_y);
                }
                if beta_var {
                    match self.beta {
                        Operand::Slice(s) => w.extend(s, d_beta),
                        Operand::Scalar(b) => w.push(b.tape_index(), d_beta[0]),
                        _ => push_partials(w, &self.beta, d_beta),
                    }
                }
                if let Some(s) = sigma {
                    w.push(s.tape_index(), d_sigma);
                }
                total
            })
        })
    }

    /// Each row's log-density as a plain value.
    fn pointwise<F: Family>(&self, family: &F, y: Operand<'_, R>, out: &mut Vec<f64>) {
        let mut beta = Vec::new();
        self.beta_values(&mut beta);
        for i in 0..self.x.rows() {
            out.push(family.row(y.value(i), self.eta(i, &beta)).0);
        }
    }

    /// Draws `n` outcomes (`n` is normally the number of rows; rows repeat cyclically
    /// otherwise), each from `sample(rng, eta)`.
    fn draw(
        &self,
        rng: &mut dyn RngCore,
        n: usize,
        out: &mut Vec<f64>,
        mut sample: impl FnMut(&mut dyn RngCore, f64) -> f64,
    ) {
        let rows = self.x.rows();
        if rows == 0 {
            out.extend(std::iter::repeat_n(f64::NAN, n));
            return;
        }
        let mut beta = Vec::new();
        self.beta_values(&mut beta);
        for i in 0..n {
            let eta = self.eta(i % rows, &beta);
            out.push(sample(rng, eta));
        }
    }
}

// ---------------------------------------------------------------------------------------
// NormalIdGlm
// ---------------------------------------------------------------------------------------

/// Linear regression likelihood `y ~ Normal(alpha + x·beta, sigma)` (Stan's
/// `normal_id_glm`), one tape node for the whole data set.
///
/// `x` is the `rows × cols` design matrix; `alpha` the intercept (a scalar, or one value
/// per row); `beta` the `cols` coefficients; `sigma > 0` the scalar noise scale. The
/// value is one outcome per row.
///
/// ```
/// use ppl_core::dist::{Distribution, Normal, NormalIdGlm};
/// use ppl_core::glm::{matvec_add, DataMatrix};
/// use ppl_core::param::Param;
/// let x = DataMatrix::from_rows(&[vec![1.0, 0.5], vec![-1.0, 2.0], vec![0.0, 1.0]]).unwrap();
/// let y = [0.3, 1.1, -0.4];
/// let beta = [0.8, -0.2];
/// let glm = NormalIdGlm::new(&x, 0.1, beta, 1.5).unwrap();
/// let lp: f64 = glm.log_density(Param::<f64>::operand(&y)).unwrap();
/// // The same as a normal likelihood around the linear predictor.
/// let mu: Vec<f64> = matvec_add(&x, 0.1, &beta);
/// let want: f64 = Normal::new(&mu, 1.5).unwrap().log_density(Param::<f64>::operand(&y)).unwrap();
/// assert!((lp - want).abs() < 1e-12);
/// assert!(NormalIdGlm::new(&x, 0.1, [1.0, 2.0, 3.0], 1.5).is_err()); // 3 ≠ 2 columns
///
/// // By hand: ηᵢ = α + Σⱼ xᵢⱼβⱼ, and σ is the standard deviation of each outcome.
/// let rows = [[1.0, 0.5], [-1.0, 2.0], [0.0, 1.0]];
/// let sigma = 1.5_f64;
/// let by_hand: f64 = rows
///     .iter()
///     .zip(&y)
///     .map(|(r, yi)| {
///         let eta = 0.1 + r[0] * beta[0] + r[1] * beta[1];
///         let z = (yi - eta) / sigma;
///         -0.5 * z * z - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
///     })
///     .sum();
/// assert!((lp - by_hand).abs() < 1e-12);
/// // σ must be a positive scalar; α a scalar or one value per row.
/// let err = NormalIdGlm::new(&x, 0.1, beta, 0.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("sigma", "must be positive"));
/// assert_eq!(NormalIdGlm::new(&x, 0.1, beta, [1.0, 2.0]).unwrap_err().parameter, "sigma");
/// assert_eq!(NormalIdGlm::new(&x, [0.1, 0.2], beta, 1.5).unwrap_err().parameter, "alpha");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NormalIdGlm<'x, A, B, S> {
    x: &'x DataMatrix,
    alpha: A,
    beta: B,
    sigma: S,
}

impl<'x, A: ParamValues, B: ParamValues, S: ParamValues> NormalIdGlm<'x, A, B, S> {
    /// Builds the likelihood; `beta` must have `x.cols()` elements, `alpha` be a scalar
    /// or have `x.rows()` elements, `sigma` be a positive scalar; all finite.
    pub fn new(x: &'x DataMatrix, alpha: A, beta: B, sigma: S) -> Result<Self, ParamError> {
        check_linear("NormalIdGlm", x, &alpha, &beta)?;
        if let Some(len) = sigma.param_len() {
            return Err(ParamError::new(
                "NormalIdGlm",
                "sigma",
                "must be a scalar",
                len as f64,
            ));
        }
        check_param("NormalIdGlm", "sigma", &sigma, "must be positive", |s| {
            s > 0.0
        })?;
        Ok(NormalIdGlm {
            x,
            alpha,
            beta,
            sigma,
        })
    }
}

struct NormalFamily {
    inv_sigma: f64,
    ln_sigma: f64,
}

impl Family for NormalFamily {
    #[inline]
    fn row(&self, y: f64, eta: f64) -> (f64, f64, f64, f64) {
        let inv = self.inv_sigma;
        let r = (y - eta) * inv;
        (
            -0.5 * r * r - self.ln_sigma - HALF_LN_2PI,
            r * inv,
            -r * inv,
            (r * r - 1.0) * inv,
        )
    }
    #[inline]
    fn row_generic<R: Real>(&self, y: R, eta: R, sigma: R) -> R {
        let z = (y - eta) / sigma;
        z * z * -0.5 - sigma.ln() - HALF_LN_2PI
    }
    /// `t = r²` with `r = (y − η)/σ`; ∂/∂η = r/σ.
    #[inline(always)]
    fn term<const FMA: bool>(&self, y: f64, eta: f64) -> (f64, f64) {
        let r = (y - eta) * self.inv_sigma;
        (r * r, r * self.inv_sigma)
    }
    fn outcome_constant(&self, _y: &[f64]) -> Option<f64> {
        Some(0.0)
    }
    fn finish(&self, squares: f64, n: usize, _constant: f64) -> (f64, f64) {
        let n = n as f64;
        (
            -0.5 * squares - n * (self.ln_sigma + HALF_LN_2PI),
            (squares - n) * self.inv_sigma,
        )
    }
}
impl<'x, A, B, S> NormalIdGlm<'x, A, B, S> {
    fn parts<R: Real>(&self) -> (Linear<'_, R>, R)
    where
        A: Param<R>,
        B: Param<R>,
        S: Param<R>,
    {
        let s = self.sigma.operand();
        let sigma = scalar_of(s).unwrap_or_else(|| s.lift(0));
        let lin = Linear {
            x: self.x,
            alpha: self.alpha.operand(),
            beta: self.beta.operand(),
        };
        (lin, sigma)
    }
}

fn normal_family(sigma: f64) -> NormalFamily {
    NormalFamily {
        inv_sigma: 1.0 / sigma,
        ln_sigma: sigma.ln(),
    }
}

impl<R: Real, A: Param<R>, B: Param<R>, S: Param<R>> Distribution<R> for NormalIdGlm<'_, A, B, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "NormalIdGlm"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(Some(self.x.rows()))
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, y: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let (lin, sigma) = self.parts::<R>();
        lin.check_y(y)?;
        Ok(lin.log_density(&normal_family(sigma.value()), y, Some(sigma)))
    }

    fn log_density_pointwise(
        &self,
        y: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let (lin, sigma) = self.parts::<R>();
        lin.check_y(y)?;
        lin.pointwise(&normal_family(sigma.value()), y, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (lin, sigma) = self.parts::<R>();
        let s = sigma.value();
        lin.draw(rng, n, out, |rng, eta| {
            let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
            eta + s * z
        });
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, A: Param<R>, B: Param<R>, S: Param<R>> ElementValue<R> for NormalIdGlm<'_, A, B, S> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

// ---------------------------------------------------------------------------------------
// BernoulliLogitGlm
// ---------------------------------------------------------------------------------------

/// Logistic regression likelihood `y ~ BernoulliLogit(alpha + x·beta)` (Stan's
/// `bernoulli_logit_glm`), one tape node for the whole data set. Outcomes are 0 or 1,
/// one per row of `x`; other values have log-density −∞.
///
/// ```
/// use ppl_core::dist::{BernoulliLogit, BernoulliLogitGlm, Distribution};
/// use ppl_core::glm::{matvec_add, DataMatrix};
/// use ppl_core::param::Param;
/// let x = DataMatrix::from_rows(&[vec![1.0, 0.5], vec![-1.0, 2.0], vec![0.0, 1.0]]).unwrap();
/// let y: &[i64] = &[1, 0, 1];
/// let glm = BernoulliLogitGlm::new(&x, -0.3, [0.8, -0.2]).unwrap();
/// let lp: f64 = glm.log_density(Param::<f64>::operand(&y)).unwrap();
/// let eta: Vec<f64> = matvec_add(&x, -0.3, &[0.8, -0.2]);
/// let want: f64 = BernoulliLogit::new(&eta).unwrap().log_density(Param::<f64>::operand(&y)).unwrap();
/// assert!((lp - want).abs() < 1e-12);
///
/// // By hand: ln p(yᵢ) = yᵢηᵢ − ln(1 + e^{ηᵢ}), with ηᵢ the log-odds of yᵢ = 1.
/// let by_hand: f64 = eta
///     .iter()
///     .zip(y)
///     .map(|(e, yi)| *yi as f64 * e - (1.0 + e.exp()).ln())
///     .sum();
/// assert!((lp - by_hand).abs() < 1e-12);
/// // An outcome other than 0 or 1 is outside the support.
/// let lp: f64 = glm.log_density(Param::<f64>::operand(&[1_i64, 2, 0])).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// let err = BernoulliLogitGlm::new(&x, -0.3, [0.8, f64::NAN]).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("beta", "must be finite"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BernoulliLogitGlm<'x, A, B> {
    x: &'x DataMatrix,
    alpha: A,
    beta: B,
}

impl<'x, A: ParamValues, B: ParamValues> BernoulliLogitGlm<'x, A, B> {
    /// Builds the likelihood; `beta` must have `x.cols()` elements and `alpha` be a
    /// scalar or have `x.rows()` elements; all finite.
    pub fn new(x: &'x DataMatrix, alpha: A, beta: B) -> Result<Self, ParamError> {
        check_linear("BernoulliLogitGlm", x, &alpha, &beta)?;
        Ok(BernoulliLogitGlm { x, alpha, beta })
    }
}

struct BernoulliLogitFamily;

impl Family for BernoulliLogitFamily {
    #[inline]
    fn row(&self, y: f64, eta: f64) -> (f64, f64, f64, f64) {
        if y == 1.0 {
            (-log1p_exp(-eta), sigmoid(-eta), 0.0, 0.0)
        } else if y == 0.0 {
            (-log1p_exp(eta), -sigmoid(eta), 0.0, 0.0)
        } else {
            (f64::NEG_INFINITY, 0.0, 0.0, 0.0)
        }
    }
    #[inline]
    fn row_generic<R: Real>(&self, y: R, eta: R, _sigma: R) -> R {
        let k = y.value();
        if k == 1.0 {
            -(-eta).log1p_exp()
        } else if k == 0.0 {
            -eta.log1p_exp()
        } else {
            R::constant(f64::NEG_INFINITY)
        }
    }
    /// With s = 2y − 1 (±1): `t = ln p = −ln(1 + e^(−sη))`, ∂/∂η = s·σ(−sη).
    #[inline(always)]
    fn term<const FMA: bool>(&self, y: f64, eta: f64) -> (f64, f64) {
        self.term_from_exp::<FMA>(y, eta, vecmath::exp_with::<FMA>(-eta.abs()))
    }
    const EXP_FIRST: bool = true;
    /// `e^−|−sη|` is `e^−|η|` (s = ±1), so the exponentials need not know the outcomes.
    #[inline(always)]
    fn term_from_exp<const FMA: bool>(&self, y: f64, eta: f64, e: f64) -> (f64, f64) {
        let sign = 2.0 * y - 1.0;
        let (softplus, sigmoid) = vecmath::ln_1p_exp_and_sigmoid_from_exp::<FMA>(-sign * eta, e);
        (-softplus, sign * sigmoid)
    }
    fn outcome_constant(&self, y: &[f64]) -> Option<f64> {
        // A fold without early exit: it vectorises.
        y.iter()
            .fold(true, |ok, k| ok & ((*k == 0.0) | (*k == 1.0)))
            .then_some(0.0)
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> Distribution<R> for BernoulliLogitGlm<'_, A, B> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "BernoulliLogitGlm"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(Some(self.x.rows()))
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        support01()
    }

    fn log_density(&self, y: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let lin = linear(self.x, &self.alpha, &self.beta);
        lin.check_y(y)?;
        Ok(lin.log_density(&BernoulliLogitFamily, y, None))
    }

    fn log_density_pointwise(
        &self,
        y: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let lin = linear(self.x, &self.alpha, &self.beta);
        lin.check_y(y)?;
        lin.pointwise(&BernoulliLogitFamily, y, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let lin = linear::<R>(self.x, &self.alpha, &self.beta);
        lin.draw(rng, n, out, |rng, eta| {
            let u: f64 = rng.gen();
            if u < sigmoid(eta) {
                1.0
            } else {
                0.0
            }
        });
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> ElementValue<R> for BernoulliLogitGlm<'_, A, B> {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

fn linear<'a, R: Real>(
    x: &'a DataMatrix,
    alpha: &'a impl Param<R>,
    beta: &'a impl Param<R>,
) -> Linear<'a, R> {
    Linear {
        x,
        alpha: alpha.operand(),
        beta: beta.operand(),
    }
}

// ---------------------------------------------------------------------------------------
// PoissonLogGlm
// ---------------------------------------------------------------------------------------

/// Poisson regression likelihood `y ~ PoissonLog(alpha + x·beta)` (Stan's
/// `poisson_log_glm`), one tape node for the whole data set. Outcomes are counts, one
/// per row of `x`; other values have log-density −∞.
///
/// ```
/// use ppl_core::dist::{Distribution, PoissonLog, PoissonLogGlm};
/// use ppl_core::glm::{matvec_add, DataMatrix};
/// use ppl_core::param::Param;
/// let x = DataMatrix::from_rows(&[vec![1.0, 0.5], vec![-1.0, 2.0], vec![0.0, 1.0]]).unwrap();
/// let y: &[i64] = &[3, 0, 1];
/// let glm = PoissonLogGlm::new(&x, 0.2, [0.8, -0.2]).unwrap();
/// let lp: f64 = glm.log_density(Param::<f64>::operand(&y)).unwrap();
/// let eta: Vec<f64> = matvec_add(&x, 0.2, &[0.8, -0.2]);
/// let want: f64 = PoissonLog::new(&eta).unwrap().log_density(Param::<f64>::operand(&y)).unwrap();
/// assert!((lp - want).abs() < 1e-12);
///
/// // By hand: ηᵢ is the log of the rate, ln p(yᵢ) = yᵢηᵢ − e^{ηᵢ} − ln yᵢ!.
/// let ln_factorial = |k: i64| (1..=k).map(|j| (j as f64).ln()).sum::<f64>();
/// let by_hand: f64 = eta
///     .iter()
///     .zip(y)
///     .map(|(e, yi)| *yi as f64 * e - e.exp() - ln_factorial(*yi))
///     .sum();
/// assert!((lp - by_hand).abs() < 1e-12);
/// // A negative count is outside the support.
/// let lp: f64 = glm.log_density(Param::<f64>::operand(&[3_i64, -1, 1])).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// let err = PoissonLogGlm::new(&x, 0.2, [0.8]).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("beta", 1.0)); // the length, 1 ≠ 2 columns
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PoissonLogGlm<'x, A, B> {
    x: &'x DataMatrix,
    alpha: A,
    beta: B,
}

impl<'x, A: ParamValues, B: ParamValues> PoissonLogGlm<'x, A, B> {
    /// Builds the likelihood; `beta` must have `x.cols()` elements and `alpha` be a
    /// scalar or have `x.rows()` elements; all finite.
    pub fn new(x: &'x DataMatrix, alpha: A, beta: B) -> Result<Self, ParamError> {
        check_linear("PoissonLogGlm", x, &alpha, &beta)?;
        Ok(PoissonLogGlm { x, alpha, beta })
    }
}

struct PoissonLogFamily;

impl Family for PoissonLogFamily {
    #[inline]
    fn row(&self, y: f64, eta: f64) -> (f64, f64, f64, f64) {
        if !is_count(y) {
            return (f64::NEG_INFINITY, 0.0, 0.0, 0.0);
        }
        let rate = eta.exp();
        (y * eta - rate - ln_factorial(y), y - rate, 0.0, 0.0)
    }
    #[inline]
    fn row_generic<R: Real>(&self, y: R, eta: R, _sigma: R) -> R {
        let k = y.value();
        if !is_count(k) {
            return R::constant(f64::NEG_INFINITY);
        }
        eta * k - eta.exp() - ln_factorial(k)
    }
    /// `t = kη − e^η`, ∂/∂η = k − e^η; the constant is `−Σ ln k!`.
    #[inline(always)]
    fn term<const FMA: bool>(&self, k: f64, eta: f64) -> (f64, f64) {
        let rate = vecmath::exp_with::<FMA>(eta);
        (k * eta - rate, k - rate)
    }
    fn outcome_constant(&self, y: &[f64]) -> Option<f64> {
        let mut ln_factorials = 0.0;
        for k in y {
            if !is_count(*k) {
                return None;
            }
            ln_factorials += ln_factorial(*k);
        }
        Some(-ln_factorials)
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> Distribution<R> for PoissonLogGlm<'_, A, B> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "PoissonLogGlm"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(Some(self.x.rows()))
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        Support::Integers {
            lower: Some(0),
            upper: None,
        }
    }

    fn log_density(&self, y: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let lin = linear(self.x, &self.alpha, &self.beta);
        lin.check_y(y)?;
        Ok(lin.log_density(&PoissonLogFamily, y, None))
    }

    fn log_density_pointwise(
        &self,
        y: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let lin = linear(self.x, &self.alpha, &self.beta);
        lin.check_y(y)?;
        lin.pointwise(&PoissonLogFamily, y, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let lin = linear::<R>(self.x, &self.alpha, &self.beta);
        lin.draw(rng, n, out, |rng, eta| sample_poisson(rng, eta.exp()));
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> ElementValue<R> for PoissonLogGlm<'_, A, B> {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_moments, test_rng, ScalarFamily};
    use crate::dist::{BernoulliLogit, Normal, PoissonLog};
    use crate::glm::matvec_add;
    use crate::tape::{self, Var};
    use proptest::prelude::*;
    use rand::Rng;

    fn design() -> DataMatrix {
        DataMatrix::from_rows(&[
            vec![1.0, -0.5, 0.3],
            vec![0.2, 1.5, -1.0],
            vec![-1.2, 0.0, 0.8],
            vec![0.7, 0.9, 0.1],
            vec![-0.3, -1.1, 1.4],
        ])
        .unwrap()
    }

    const Y_REAL: [f64; 5] = [0.4, -1.3, 2.2, 0.0, 0.9];
    const Y_BIN: [i64; 5] = [1, 0, 0, 1, 1];
    const Y_COUNT: [i64; 5] = [2, 0, 5, 1, 3];

    fn matrix_strategy() -> impl Strategy<Value = (DataMatrix, Vec<f64>)> {
        (1usize..8, 1usize..4).prop_flat_map(|(rows, cols)| {
            (
                prop::collection::vec(-2.0f64..2.0, rows * cols),
                prop::collection::vec(-1.0f64..1.0, cols),
            )
                .prop_map(move |(data, beta)| (DataMatrix::new(rows, cols, data).unwrap(), beta))
        })
    }

    proptest! {
        #[test]
        fn normal_glm_equals_normal_over_linear_predictor(
            (x, beta) in matrix_strategy(),
            alpha in -1.0f64..1.0,
            sigma in 0.2f64..3.0,
            seed in 0u64..1000,
        ) {
            let mut rng = test_rng(seed);
            let y: Vec<f64> = (0..x.rows()).map(|_| rng.gen::<f64>() * 4.0 - 2.0).collect();
            let glm: f64 = NormalIdGlm::new(&x, alpha, &beta, sigma).unwrap().log_density(Operand::Data(&y)).unwrap();
            let mu: Vec<f64> = matvec_add(&x, alpha, &beta);
            let want: f64 = Normal::new(&mu, sigma).unwrap().log_density(Operand::Data(&y)).unwrap();
            prop_assert!((glm - want).abs() <= 1e-10 * want.abs().max(1.0), "{} vs {}", glm, want);
        }

        #[test]
        fn logit_and_poisson_glms_equal_their_distributions(
            (x, beta) in matrix_strategy(),
            alpha in -1.0f64..1.0,
            seed in 0u64..1000,
        ) {
            let mut rng = test_rng(seed);
            let yb: Vec<i64> = (0..x.rows()).map(|_| rng.gen_range(0..2)).collect();
            let yc: Vec<i64> = (0..x.rows()).map(|_| rng.gen_range(0..6)).collect();
            let eta: Vec<f64> = matvec_add(&x, alpha, &beta);
            let glm: f64 = BernoulliLogitGlm::new(&x, alpha, &beta).unwrap().log_density(Operand::IntData(&yb)).unwrap();
            let want: f64 = BernoulliLogit::new(&eta).unwrap().log_density(Operand::IntData(&yb)).unwrap();
            prop_assert!((glm - want).abs() <= 1e-10 * want.abs().max(1.0));
            let glm: f64 = PoissonLogGlm::new(&x, alpha, &beta).unwrap().log_density(Operand::IntData(&yc)).unwrap();
            let want: f64 = PoissonLog::new(&eta).unwrap().log_density(Operand::IntData(&yc)).unwrap();
            prop_assert!((glm - want).abs() <= 1e-10 * want.abs().max(1.0));
        }
    }

    /// args = [alpha, beta₀, beta₁, beta₂, (sigma)].
    struct Glm {
        family: usize,
        x: DataMatrix,
    }
    impl ScalarFamily for Glm {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let sigma = args.get(4).copied().unwrap_or(R::constant(1.0));
            family_log_density(self.family, &self.x, args[0], &args[1..4], sigma)
        }
    }

    /// The log-density of family 0 (normal, with `sigma`), 1 (logistic) or 2 (Poisson)
    /// at the fixed outcomes.
    fn family_log_density<R: Real, A: Param<R> + ParamValues>(
        family: usize,
        x: &DataMatrix,
        alpha: A,
        beta: &[R],
        sigma: R,
    ) -> R {
        match family {
            0 => NormalIdGlm::new(x, alpha, beta, sigma)
                .unwrap()
                .log_density(Operand::Data(&Y_REAL))
                .unwrap(),
            1 => BernoulliLogitGlm::new(x, alpha, beta)
                .unwrap()
                .log_density(Operand::IntData(&Y_BIN))
                .unwrap(),
            _ => PoissonLogGlm::new(x, alpha, beta)
                .unwrap()
                .log_density(Operand::IntData(&Y_COUNT))
                .unwrap(),
        }
    }

    #[test]
    fn gradients_with_respect_to_alpha_beta_sigma() {
        let x = design();
        check_gradients(
            &Glm {
                family: 0,
                x: x.clone(),
            },
            &[0.3, 0.5, -0.7, 0.2, 1.3],
            1e-6,
        );
        check_gradients(
            &Glm {
                family: 0,
                x: x.clone(),
            },
            &[-1.0, 0.1, 0.2, -0.3, 0.4],
            1e-6,
        );
        check_gradients(
            &Glm {
                family: 1,
                x: x.clone(),
            },
            &[0.3, 0.5, -0.7, 0.2],
            1e-6,
        );
        check_gradients(&Glm { family: 2, x }, &[0.3, 0.5, -0.7, 0.2], 1e-6);
    }

    /// Intercepts gathered from three group values (`alpha[group[i]]`, radon-style);
    /// args = [group₀..group₂, beta₀..beta₂, sigma].
    struct GatheredAlpha {
        x: DataMatrix,
        family: usize,
    }
    const GROUP: [usize; 5] = [2, 0, 2, 1, 0];
    impl ScalarFamily for GatheredAlpha {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let alpha = crate::param::gather(&args[0..3], &GROUP);
            family_log_density(self.family, &self.x, alpha, &args[3..6], args[6])
        }
    }

    #[test]
    fn gradients_with_gathered_intercepts() {
        for family in 0..3 {
            check_gradients(
                &GatheredAlpha {
                    x: design(),
                    family,
                },
                &[0.3, -0.4, 0.9, 0.5, -0.7, 0.2, 1.3],
                1e-6,
            );
        }
    }

    /// A normal GLM with `cols` columns; args = [α, β₀..β_{cols−1}, σ].
    struct WideGlm {
        x: DataMatrix,
        y: Vec<f64>,
    }
    impl ScalarFamily for WideGlm {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let cols = self.x.cols();
            NormalIdGlm::new(&self.x, args[0], &args[1..1 + cols], args[1 + cols])
                .unwrap()
                .log_density(Operand::Data(&self.y))
                .unwrap()
        }
    }

    /// Column counts around the four-column sweeps (1–9) and row counts around the
    /// vector loops' strides (remainders of 8 and 16): value against the normal
    /// density around `α + Xβ`, tape gradient against duals and differences.
    #[test]
    fn wide_design_matrices_match_the_definition() {
        let mut rng = test_rng(5);
        for rows in [3, 37, 203] {
            let y: Vec<f64> = (0..rows).map(|_| rng.gen::<f64>() * 4.0 - 2.0).collect();
            for cols in 1..=9 {
                let data: Vec<f64> = (0..rows * cols)
                    .map(|_| rng.gen::<f64>() * 2.0 - 1.0)
                    .collect();
                let x = DataMatrix::new(rows, cols, data).unwrap();
                let mut args: Vec<f64> = (0..2 + cols).map(|k| 0.2 * k as f64 - 0.6).collect();
                args[1 + cols] = 1.4;
                let eta: Vec<f64> = matvec_add(&x, args[0], &args[1..1 + cols]);
                let want: f64 = Normal::new(&eta, args[1 + cols])
                    .unwrap()
                    .log_density(Operand::Data(&y))
                    .unwrap();
                let model = WideGlm { x, y: y.clone() };
                let got: f64 = model.log_density(&args);
                assert!(
                    (got - want).abs() < 1e-11 * want.abs().max(1.0),
                    "{rows}×{cols}: {got} vs {want}"
                );
                check_gradients(&model, &args, 1e-6);
            }
        }
    }

    /// Many rows (the vectorised loops' main body, not only their remainders) and
    /// linear predictors far into both tails: the fused densities equal the
    /// distributions over the linear predictor, and the gradient by the tape equals
    /// the one by forward-mode duals.
    #[test]
    fn long_data_and_extreme_predictors() {
        let rows = 1003;
        let mut rng = test_rng(7);
        let data: Vec<f64> = (0..rows * 2)
            .map(|_| rng.gen::<f64>() * 6.0 - 3.0)
            .collect();
        let x = DataMatrix::new(rows, 2, data).unwrap();
        let yb: Vec<i64> = (0..rows).map(|_| rng.gen_range(0..2)).collect();
        let yc: Vec<i64> = (0..rows).map(|_| rng.gen_range(0..9)).collect();
        let yr: Vec<f64> = (0..rows).map(|_| rng.gen::<f64>() * 8.0 - 4.0).collect();
        for (alpha, beta) in [
            (0.2, [0.5, -0.3]),
            (-30.0, [12.0, 0.1]),
            (25.0, [-9.0, 4.0]),
        ] {
            let eta: Vec<f64> = matvec_add(&x, alpha, &beta);
            let tol = |want: f64| 1e-11 * want.abs().max(1.0);
            let glm: f64 = BernoulliLogitGlm::new(&x, alpha, beta)
                .unwrap()
                .log_density(Operand::IntData(&yb))
                .unwrap();
            let want: f64 = BernoulliLogit::new(&eta)
                .unwrap()
                .log_density(Operand::IntData(&yb))
                .unwrap();
            assert!((glm - want).abs() <= tol(want), "{glm} vs {want}");
            if alpha.abs() < 10.0 {
                let glm: f64 = PoissonLogGlm::new(&x, alpha, beta)
                    .unwrap()
                    .log_density(Operand::IntData(&yc))
                    .unwrap();
                let want: f64 = PoissonLog::new(&eta)
                    .unwrap()
                    .log_density(Operand::IntData(&yc))
                    .unwrap();
                assert!((glm - want).abs() <= tol(want), "{glm} vs {want}");
            }
            let glm: f64 = NormalIdGlm::new(&x, alpha, beta, 1.7)
                .unwrap()
                .log_density(Operand::Data(&yr))
                .unwrap();
            let want: f64 = Normal::new(&eta, 1.7)
                .unwrap()
                .log_density(Operand::Data(&yr))
                .unwrap();
            assert!((glm - want).abs() <= tol(want), "{glm} vs {want}");
            // The tape's gradient of the logistic GLM against central differences.
            let value = |p: [f64; 3]| -> f64 {
                BernoulliLogitGlm::new(&x, p[0], &p[1..3])
                    .unwrap()
                    .log_density(Operand::IntData(&yb))
                    .unwrap()
            };
            let point = [alpha, beta[0], beta[1]];
            tape::reset();
            let leaves: Vec<Var> = point.iter().map(|v| Var::leaf(*v)).collect();
            let out: Var = BernoulliLogitGlm::new(&x, leaves[0], &leaves[1..3])
                .unwrap()
                .log_density(Operand::IntData(&yb))
                .unwrap();
            let mut grad = [0.0; 3];
            tape::gradient(out, &leaves, &mut grad);
            for k in 0..3 {
                let h = 1e-6;
                let (mut up, mut down) = (point, point);
                up[k] += h;
                down[k] -= h;
                let fd = (value(up) - value(down)) / (2.0 * h);
                assert!(
                    (grad[k] - fd).abs() <= 1e-5 * fd.abs().max(1.0),
                    "{k}: {} vs {fd}",
                    grad[k]
                );
            }
        }
    }

    /// Per-row intercepts and a variable outcome (NormalIdGlm as a prior for `y`).
    struct RowAlpha {
        x: DataMatrix,
    }
    impl ScalarFamily for RowAlpha {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            // args = [alpha₀..alpha₄, beta₀..beta₂, y₀..y₄]
            NormalIdGlm::new(&self.x, &args[0..5], &args[5..8], 0.8)
                .unwrap()
                .log_density(Operand::Slice(&args[8..13]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_with_row_intercepts_and_variable_outcomes() {
        let args = [
            0.1, -0.2, 0.3, 0.0, 0.5, 0.5, -0.7, 0.2, 0.4, -1.3, 2.2, 0.0, 0.9,
        ];
        check_gradients(&RowAlpha { x: design() }, &args, 1e-6);
    }

    #[test]
    fn one_tape_node_per_likelihood() {
        let x = design();
        tape::reset();
        let alpha = Var::leaf(0.2);
        let beta: Vec<Var> = [0.1, 0.2, 0.3].iter().map(|v| Var::leaf(*v)).collect();
        let sigma = Var::leaf(1.1);
        let before = tape::len();
        let lp = NormalIdGlm::new(&x, alpha, &beta, sigma)
            .unwrap()
            .log_density(Operand::Data(&Y_REAL))
            .unwrap();
        assert_eq!(tape::len(), before + 1);
        let mut g = vec![0.0; 5];
        let mut leaves = vec![alpha];
        leaves.extend(&beta);
        leaves.push(sigma);
        tape::gradient(lp, &leaves, &mut g);
        assert!(g.iter().all(|v| v.is_finite() && *v != 0.0));
        let before = tape::len();
        let _ = BernoulliLogitGlm::new(&x, alpha, &beta)
            .unwrap()
            .log_density(Operand::IntData(&Y_BIN))
            .unwrap();
        let _ = PoissonLogGlm::new(&x, alpha, &beta)
            .unwrap()
            .log_density(Operand::IntData(&Y_COUNT))
            .unwrap();
        assert_eq!(tape::len(), before + 2);
    }

    #[test]
    fn pointwise_sums_to_total() {
        let x = design();
        let beta = [0.3, -0.1, 0.5];
        let d = NormalIdGlm::new(&x, 0.2, beta, 0.9).unwrap();
        let mut pw = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Operand::Data(&Y_REAL), &mut pw).unwrap();
        let total: f64 = d.log_density(Operand::Data(&Y_REAL)).unwrap();
        assert_eq!(pw.len(), 5);
        assert!((pw.iter().sum::<f64>() - total).abs() < 1e-12);
        let d = PoissonLogGlm::new(&x, 0.2, beta).unwrap();
        pw.clear();
        Distribution::<f64>::log_density_pointwise(&d, Operand::IntData(&Y_COUNT), &mut pw)
            .unwrap();
        let total: f64 = d.log_density(Operand::IntData(&Y_COUNT)).unwrap();
        assert!((pw.iter().sum::<f64>() - total).abs() < 1e-12);
        let d = BernoulliLogitGlm::new(&x, 0.2, beta).unwrap();
        pw.clear();
        Distribution::<f64>::log_density_pointwise(&d, Operand::IntData(&Y_BIN), &mut pw).unwrap();
        let total: f64 = d.log_density(Operand::IntData(&Y_BIN)).unwrap();
        assert!((pw.iter().sum::<f64>() - total).abs() < 1e-12);
    }

    #[test]
    fn constructor_errors() {
        let x = design();
        let e = NormalIdGlm::new(&x, 0.0, [1.0, 2.0], 1.0).unwrap_err();
        assert_eq!((e.parameter, e.value), ("beta", 2.0));
        assert!(NormalIdGlm::new(&x, 0.0, [1.0, 2.0, 3.0], 0.0).is_err());
        assert!(NormalIdGlm::new(&x, 0.0, [1.0, 2.0, 3.0], [1.0, 1.0]).is_err());
        assert!(NormalIdGlm::new(&x, f64::NAN, [1.0, 2.0, 3.0], 1.0).is_err());
        assert!(NormalIdGlm::new(&x, [0.0; 4], [1.0, 2.0, 3.0], 1.0).is_err());
        assert!(NormalIdGlm::new(&x, [0.0; 5], [1.0, 2.0, 3.0], 1.0).is_ok());
        assert!(BernoulliLogitGlm::new(&x, 0.0, [1.0; 4]).is_err());
        assert!(BernoulliLogitGlm::new(&x, 0.0, [1.0, f64::INFINITY, 0.0]).is_err());
        assert!(PoissonLogGlm::new(&x, 0.0, 1.0).is_err());
        let one_col = DataMatrix::new(2, 1, vec![1.0, 2.0]).unwrap();
        assert!(PoissonLogGlm::new(&one_col, 0.0, 1.0).is_ok());
    }

    #[test]
    fn outcome_length_and_support() {
        let x = design();
        let d = PoissonLogGlm::new(&x, 0.1, [0.0, 0.1, 0.2]).unwrap();
        let short = [1_i64, 2];
        let r: Result<f64, _> = d.log_density(Operand::IntData(&short));
        assert_eq!(
            r.unwrap_err(),
            LengthMismatch {
                argument: "y",
                found: 2,
                expected: 5
            }
        );
        let bad = [1.0, 2.0, -1.0, 0.0, 1.0];
        let lp: f64 = d.log_density(Operand::Data(&bad)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        tape::reset();
        let b: Vec<Var> = [0.0, 0.1, 0.2].iter().map(|v| Var::leaf(*v)).collect();
        let lp = BernoulliLogitGlm::new(&x, 0.1, &b)
            .unwrap()
            .log_density(Operand::Data(&[1.0, 2.0, 0.0, 0.0, 1.0]))
            .unwrap();
        assert_eq!(lp.value(), f64::NEG_INFINITY);
        assert_eq!(Distribution::<f64>::batch_len(&d), Ok(Some(5)));
        assert!(Distribution::<f64>::is_discrete(&d));
        let s: Support<f64> =
            Distribution::<f64>::support(&BernoulliLogitGlm::new(&x, 0.1, [0.0; 3]).unwrap());
        assert!(s.contains(1.0) && !s.contains(2.0));
        let n = NormalIdGlm::new(&x, 0.1, [0.0; 3], 1.0).unwrap();
        assert!(!Distribution::<f64>::is_discrete(&n));
        assert_eq!(Distribution::<f64>::support(&n), Support::Real);
    }

    #[test]
    fn sampling_moments() {
        // Identical rows, so the draws are independent and identically distributed.
        let rows = 20_000;
        let x = DataMatrix::new(rows, 2, [1.0, 2.0].repeat(rows)).unwrap();
        let beta = [0.3, -0.2];
        let eta = 0.5 + 0.3 - 0.4;
        let mut rng = test_rng(41);
        let mut ys = Vec::new();
        Distribution::<f64>::draw(
            &NormalIdGlm::new(&x, 0.5, beta, 1.7).unwrap(),
            &mut rng,
            rows,
            &mut ys,
        );
        check_moments(&ys, eta, 1.7 * 1.7);
        ys.clear();
        Distribution::<f64>::draw(
            &BernoulliLogitGlm::new(&x, 0.5, beta).unwrap(),
            &mut rng,
            rows,
            &mut ys,
        );
        let p = sigmoid(eta);
        check_moments(&ys, p, p * (1.0 - p));
        ys.clear();
        Distribution::<f64>::draw(
            &PoissonLogGlm::new(&x, 0.5, beta).unwrap(),
            &mut rng,
            rows,
            &mut ys,
        );
        check_moments(&ys, eta.exp(), eta.exp());
    }
}
