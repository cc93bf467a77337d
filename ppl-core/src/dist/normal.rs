//! The normal distribution.

use super::poisson::scalar_of;
use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, GatherIndex, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::HALF_LN_2PI;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Normal distribution with mean `mu` and standard deviation `sigma`:
/// `ln p(x) = −½((x−μ)/σ)² − ln σ − ½ ln 2π`.
///
/// ```
/// use ppl_core::dist::{Distribution, Normal};
/// use ppl_core::param::Param;
/// let d = Normal::new(0.0, 5.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&2.5)).unwrap();
/// assert!((lp - -2.65337645).abs() < 1e-8);
/// assert!(Normal::new(0.0, -1.0).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Normal<M, S> {
    mu: M,
    sigma: S,
}

impl<M: ParamValues, S: ParamValues> Normal<M, S> {
    /// Builds the distribution; `mu` must be finite and `sigma` positive.
    pub fn new(mu: M, sigma: S) -> Result<Self, ParamError> {
        check_param("Normal", "mu", &mu, "must be finite", |_| true)?;
        check_param("Normal", "sigma", &sigma, "must be positive", |s| s > 0.0)?;
        Ok(Normal { mu, sigma })
    }
}

struct NormalKernel;

impl Kernel<3> for NormalKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, mu, sigma]: [R; 3]) -> R {
        let z = (x - mu) / sigma;
        z * z * -0.5 - sigma.ln() - HALF_LN_2PI
    }
    #[inline]
    fn eval_partials(&self, [x, mu, sigma]: [f64; 3]) -> (f64, [f64; 3]) {
        let inv = 1.0 / sigma;
        let z = (x - mu) * inv;
        (
            -0.5 * z * z - sigma.ln() - HALF_LN_2PI,
            [-z * inv, z * inv, (z * z - 1.0) * inv],
        )
    }
}

impl<M, S> Normal<M, S> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        M: Param<R>,
        S: Param<R>,
    {
        [x, self.mu.operand(), self.sigma.operand()]
    }
}

/// Sum of normal log-densities with a scalar σ: ln σ and 1/σ are computed once, and the
/// partials with respect to x and μ share one column (they differ in sign).
fn normal_sum_scalar_sigma<R: Real>(
    x: Operand<'_, R>,
    mu: Operand<'_, R>,
    sigma: R,
    n: usize,
) -> R {
    let s = sigma.value();
    let inv = 1.0 / s;
    let const_term = -(n as f64) * (s.ln() + HALF_LN_2PI);
    let need_partials = R::MODE == EvalMode::Tape && !(x.is_constant() && mu.is_constant());
    if let (Operand::Data(xs), Operand::Gather(theta, index)) = (x, mu) {
        return normal_sum_gathered_mean(xs, theta, index, sigma, need_partials);
    }
    if n <= SMALL {
        return normal_sum_scalar_sigma_short(x, mu, sigma, n, need_partials);
    }
    vectorized::with_columns::<3, _>(|[xb, mb, db]| {
        let xs = vectorized::column(&x, n, xb);
        let ms = vectorized::column(&mu, n, mb);
        let mut sum_z2 = 0.0;
        if need_partials {
            db.resize(n, 0.0);
            for ((d, xi), mi) in db.iter_mut().zip(xs).zip(ms) {
                let r = xi - mi;
                sum_z2 += r * r;
                *d = r * inv * inv;
            }
        } else {
            for (xi, mi) in xs.iter().zip(ms) {
                let r = xi - mi;
                sum_z2 += r * r;
            }
        }
        sum_z2 *= inv * inv;
        let value = const_term - 0.5 * sum_z2;
        R::record_wide(|w| {
            if need_partials {
                match x {
                    Operand::Slice(v) => w.extend_scaled(v, db, -1.0),
                    Operand::Scalar(v) => w.push(v.tape_index(), -db.iter().sum::<f64>()),
                    _ => {}
                }
                vectorized::push_partials(w, &mu, db);
            }
            w.push(sigma.tape_index(), (sum_z2 - n as f64) * inv);
            value
        })
    })
}

/// Operands at most this long skip the pooled columns.
const SMALL: usize = 16;

/// [`normal_sum_scalar_sigma`] for short operands: values are read in place and edges
/// pushed one by one, which beats borrowing scratch columns at this size.
fn normal_sum_scalar_sigma_short<R: Real>(
    x: Operand<'_, R>,
    mu: Operand<'_, R>,
    sigma: R,
    n: usize,
    need_partials: bool,
) -> R {
    let s = sigma.value();
    let inv2 = 1.0 / (s * s);
    let mut d = [0.0; SMALL];
    let mut sum_r2 = 0.0;
    for (i, di) in d.iter_mut().enumerate().take(n) {
        let r = x.value(i) - mu.value(i);
        sum_r2 += r * r;
        *di = r * inv2;
    }
    let sum_z2 = sum_r2 * inv2;
    let value = -(n as f64) * (s.ln() + HALF_LN_2PI) - 0.5 * sum_z2;
    R::record_wide(|w| {
        if need_partials {
            let d = &d[..n];
            match x {
                Operand::Slice(v) => w.extend_scaled(v, d, -1.0),
                Operand::Scalar(v) => w.push(v.tape_index(), -d.iter().sum::<f64>()),
                _ => {}
            }
            vectorized::push_partials(w, &mu, d);
        }
        w.push(sigma.tape_index(), (sum_z2 - n as f64) / s);
        value
    })
}

/// `Σ ln N(yᵢ | θ[gᵢ], σ)` in one pass (the hierarchical-model pattern `y ~ normal(theta[g],
/// sigma)`): residuals are summed per group as they are computed, so the tape gets one
/// edge per group and σ.
fn normal_sum_gathered_mean<R: Real>(
    y: &[f64],
    theta: &[R],
    index: GatherIndex<'_>,
    sigma: R,
    need_partials: bool,
) -> R {
    assert!(
        theta.len() >= index.bound(),
        "a gathered index pairs with its own source"
    );
    let index = index.as_slice();
    let s = sigma.value();
    let inv = 1.0 / s;
    let n = y.len();
    vectorized::with_columns::<1, _>(|[per_group]| {
        // Four independent sums of squares, so the loop is not bound by the latency of
        // one floating-point accumulator.
        let mut acc = [0.0f64; 4];
        let residual = |yi: &f64, g: &usize| {
            // SAFETY: every index is below `index.bound()` (checked by `gather`), and
            // `theta.len() >= bound` was asserted above.
            yi - unsafe { theta.get_unchecked(*g) }.value()
        };
        if need_partials {
            per_group.resize(theta.len(), 0.0);
            let mut add = |k: usize, yi: &f64, g: &usize| {
                let r = residual(yi, g);
                acc[k] += r * r;
                // SAFETY: `per_group` has theta's length, and g < bound <= theta.len().
                unsafe { *per_group.get_unchecked_mut(*g) += r };
            };
            let (ys, gs) = (y.chunks_exact(4), index.chunks_exact(4));
            let (y_tail, g_tail) = (ys.remainder(), gs.remainder());
            for (yc, gc) in ys.zip(gs) {
                for k in 0..4 {
                    add(k, &yc[k], &gc[k]);
                }
            }
            for (yi, g) in y_tail.iter().zip(g_tail) {
                add(0, yi, g);
            }
        } else {
            let (ys, gs) = (y.chunks_exact(4), index.chunks_exact(4));
            let (y_tail, g_tail) = (ys.remainder(), gs.remainder());
            for (yc, gc) in ys.zip(gs) {
                for k in 0..4 {
                    let r = residual(&yc[k], &gc[k]);
                    acc[k] += r * r;
                }
            }
            for (yi, g) in y_tail.iter().zip(g_tail) {
                let r = residual(yi, g);
                acc[0] += r * r;
            }
        }
        let sum_r2 = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        let sum_z2 = sum_r2 * inv * inv;
        let value = -(n as f64) * (s.ln() + HALF_LN_2PI) - 0.5 * sum_z2;
        R::record_wide(|w| {
            if need_partials {
                w.extend_scaled(theta, per_group, inv * inv);
            }
            w.push(sigma.tape_index(), (sum_z2 - n as f64) * inv);
            value
        })
    })
}

impl<R: Real, M: Param<R>, S: Param<R>> Distribution<R> for Normal<M, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Normal"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["mu", "sigma"], &[self.mu.operand(), self.sigma.operand()])
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "mu", "sigma"], &ops)?;
        if R::MODE != EvalMode::Dual {
            if let Some(sigma) = scalar_of(ops[2]) {
                return Ok(normal_sum_scalar_sigma(ops[0], ops[1], sigma, n));
            }
        }
        Ok(vectorized::sum(&NormalKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "mu", "sigma"], &ops)?;
        vectorized::pointwise(&NormalKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (mu, sigma) = (self.mu.operand(), self.sigma.operand());
        for i in 0..n {
            let z: f64 = rand_distr::StandardNormal.sample(rng);
            out.push(mu.value(i) + sigma.value(i) * z);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, M: Param<R>, S: Param<R>> ElementValue<R> for Normal<M, S> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}
