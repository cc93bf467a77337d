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
use crate::linalg::dot_f64;
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{log1p_exp, sigmoid, HALF_LN_2PI};
use crate::vectorized::LengthMismatch;
use rand::{Rng, RngCore};
use std::cell::RefCell;

thread_local! {
    /// Scratch columns (coefficient values, their partials and one value per row), kept
    /// between calls so that a warm gradient evaluation allocates nothing.
    static SCRATCH: RefCell<[Vec<f64>; 3]> =
        const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// Runs `f` with three cleared scratch vectors from this thread's pool.
fn with_scratch<T>(f: impl FnOnce(&mut Vec<f64>, &mut Vec<f64>, &mut Vec<f64>) -> T) -> T {
    // Taken out of the cell (not borrowed) so that a nested call merely allocates.
    let [mut a, mut b, mut c] = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    a.clear();
    b.clear();
    c.clear();
    let out = f(&mut a, &mut b, &mut c);
    SCRATCH.with(|s| *s.borrow_mut() = [a, b, c]);
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
    fn log_density<F: Family>(&self, family: &F, y: Operand<'_, R>, sigma: Option<R>) -> R {
        if y.is_gather() || self.alpha.is_gather() || self.beta.is_gather() {
            let (mut yb, mut ab, mut bb) = (Vec::new(), Vec::new(), Vec::new());
            let plain = Linear {
                x: self.x,
                alpha: self.alpha.materialize(&mut ab),
                beta: self.beta.materialize(&mut bb),
            };
            return plain.log_density(family, y.materialize(&mut yb), sigma);
        }
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
        let alpha_slice = match self.alpha {
            Operand::Slice(s) if taping => Some(s),
            _ => None,
        };
        let y_slice = match y {
            Operand::Slice(s) if taping => Some(s),
            _ => None,
        };
        with_scratch(|beta_values, d_beta, column| {
            self.beta_values(beta_values);
            if beta_var {
                d_beta.resize(cols, 0.0);
            }
            // First pass: every row's linear predictor (independent dot products).
            column.extend((0..rows).map(|i| self.eta(i, beta_values)));
            R::record_wide(|w| {
                let (mut total, mut d_alpha, mut d_sigma) = (0.0, 0.0, 0.0);
                // Second pass: the family's row terms; `column` now holds ∂/∂η per row.
                for (i, eta) in column.iter_mut().enumerate() {
                    let (v, d_eta, d_y, d_s) = family.row(y.value(i), *eta);
                    if v == f64::NEG_INFINITY {
                        return v;
                    }
                    *eta = d_eta;
                    total += v;
                    d_alpha += d_eta;
                    d_sigma += d_s;
                    if let Some(s) = alpha_slice {
                        w.push(s[i].tape_index(), d_eta);
                    }
                    if let Some(s) = y_slice {
                        w.push(s[i].tape_index(), d_y);
                    }
                }
                // Third pass: ∂/∂β = Xᵀ ∂/∂η, row by row (an axpy over independent j).
                if beta_var {
                    for (i, d_eta) in column.iter().enumerate() {
                        for (d, xij) in d_beta.iter_mut().zip(self.x.row(i)) {
                            *d += xij * d_eta;
                        }
                    }
                }
                if let Operand::Scalar(a) = self.alpha {
                    w.push(a.tape_index(), d_alpha);
                }
                match self.beta {
                    Operand::Slice(s) if beta_var => {
                        for (b, d) in s.iter().zip(d_beta.iter()) {
                            w.push(b.tape_index(), *d);
                        }
                    }
                    Operand::Scalar(b) if beta_var => w.push(b.tape_index(), d_beta[0]),
                    _ => {}
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
            let (alpha, beta) = (args[0], &args[1..4]);
            match self.family {
                0 => NormalIdGlm::new(&self.x, alpha, beta, args[4])
                    .unwrap()
                    .log_density(Operand::Data(&Y_REAL))
                    .unwrap(),
                1 => BernoulliLogitGlm::new(&self.x, alpha, beta)
                    .unwrap()
                    .log_density(Operand::IntData(&Y_BIN))
                    .unwrap(),
                _ => PoissonLogGlm::new(&self.x, alpha, beta)
                    .unwrap()
                    .log_density(Operand::IntData(&Y_COUNT))
                    .unwrap(),
            }
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
