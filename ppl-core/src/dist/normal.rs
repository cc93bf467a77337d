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
///
/// // The second argument is the standard deviation (not the variance or precision):
/// // the closed form at μ = 1, σ = 2, x = −0.5.
/// let (mu, sigma, x) = (1.0_f64, 2.0_f64, -0.5_f64);
/// let lp: f64 = Normal::new(mu, sigma).unwrap().log_density(Param::<f64>::operand(&x)).unwrap();
/// let z = (x - mu) / sigma;
/// let want = -0.5 * z * z - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
/// assert!((lp - want).abs() < 1e-14);
/// // Constant parameters are checked: σ must be positive and finite, μ finite.
/// let err = Normal::new(0.0, 0.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("sigma", "must be positive"));
/// assert_eq!(Normal::new(f64::NAN, 1.0).unwrap_err().parameter, "mu");
/// assert_eq!(Normal::new(0.0, f64::INFINITY).unwrap_err().requirement, "must be finite");
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
    // The residuals xᵢ − μᵢ first, then scaled to ∂/∂μ in place.
    x.apply_values(&mut d[..n], |di, xi| *di = xi);
    mu.apply_values(&mut d[..n], |di, mi| *di -= mi);
    let mut sum_r2 = 0.0;
    for di in &mut d[..n] {
        sum_r2 += *di * *di;
        *di *= inv2;
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
    vectorized::with_columns::<2, _>(|[per_group, theta_values]| {
        // The source values as plain f64s: the loop then indexes them with an 8-byte
        // stride, which the addressing mode scales for free.
        theta_values.extend(theta.iter().map(|t| t.value()));
        let theta_values = &theta_values[..];
        // Four independent sums of squares, so the loop is not bound by the latency of
        // one floating-point accumulator.
        let mut acc = [0.0f64; 4];
        let residual = |yi: &f64, g: &usize| {
            // SAFETY: every index is below `index.bound()` (checked by `gather`), and
            // `theta.len() >= bound` was asserted above.
            yi - unsafe { theta_values.get_unchecked(*g) }
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

/// Sum of normal log-densities with one σ per element (e.g. a volatility model), in a
/// loop that vectorises: ln σᵢ by [`vecmath::ln_normal`] instead of a library call per
/// element. `None` (use the generic driver) when some σᵢ is not a normal positive
/// finite number, which that logarithm does not cover.
fn normal_sum_vector_sigma<R: Real>(ops: &[Operand<'_, R>; 3], n: usize) -> Option<R> {
    let [x, mu, sigma] = *ops;
    if n <= SMALL {
        // Short operands: columns on the stack.
        let mut cols = [[0.0; SMALL]; 6];
        let [xb, mb, sb, values, d_mu, d_sigma] = &mut cols;
        x.apply_values(&mut xb[..n], |o, v| *o = v);
        mu.apply_values(&mut mb[..n], |o, v| *o = v);
        sigma.apply_values(&mut sb[..n], |o, v| *o = v);
        let columns = [&xb[..n], &mb[..n], &sb[..n]];
        let out = [&mut values[..n], &mut d_mu[..n], &mut d_sigma[..n]];
        return normal_vector_sigma_recorded(ops, columns, out);
    }
    vectorized::with_columns::<6, _>(|[xb, mb, sb, values, d_mu, d_sigma]| {
        let sigmas = vectorized::column(&sigma, n, sb);
        let xs = vectorized::column(&x, n, xb);
        let ms = vectorized::column(&mu, n, mb);
        for col in [&mut *values, &mut *d_mu, &mut *d_sigma] {
            col.resize(n, 0.0);
        }
        normal_vector_sigma_recorded(ops, [xs, ms, sigmas], [values, d_mu, d_sigma])
    })
}

/// The body of [`normal_sum_vector_sigma`] once the operands' values are in columns.
fn normal_vector_sigma_recorded<R: Real>(
    ops: &[Operand<'_, R>; 3],
    [xs, ms, sigmas]: [&[f64]; 3],
    [values, d_mu, d_sigma]: [&mut [f64]; 3],
) -> Option<R> {
    let [x, mu, sigma] = *ops;
    if !sigmas.iter().fold(true, |ok, s| {
        ok & (*s >= f64::MIN_POSITIVE) & (*s <= f64::MAX)
    }) {
        return None;
    }
    let total = normal_rows(xs, ms, sigmas, values, d_mu, d_sigma);
    Some(R::record_wide(|w| {
        if R::MODE == EvalMode::Tape {
            match x {
                Operand::Slice(v) => w.extend_scaled(v, d_mu, -1.0),
                Operand::Scalar(v) => w.push(v.tape_index(), -crate::linalg::sum_f64(d_mu)),
                Operand::Gather(..) => {
                    let d_x: Vec<f64> = d_mu.iter().map(|d| -d).collect();
                    vectorized::push_partials(w, &x, &d_x);
                }
                _ => {}
            }
            vectorized::push_partials(w, &mu, d_mu);
            vectorized::push_partials(w, &sigma, d_sigma);
        }
        total
    }))
}

crate::vecmath::simd_fn! {
    /// Per element: the log-density into `values`, ∂/∂μ = z/σ and ∂/∂σ = (z² − 1)/σ;
    /// returns the sum of the values.
    fn normal_rows(
        x: &[f64],
        mu: &[f64],
        sigma: &[f64],
        values: &mut [f64],
        d_mu: &mut [f64],
        d_sigma: &mut [f64],
    ) -> f64 {
        let n = values.len();
        let (x, mu, sigma) = (&x[..n], &mu[..n], &sigma[..n]);
        let (d_mu, d_sigma) = (&mut d_mu[..n], &mut d_sigma[..n]);
        for i in 0..n {
            let inv = 1.0 / sigma[i];
            let z = (x[i] - mu[i]) * inv;
            values[i] = -0.5 * z * z - crate::vecmath::ln_normal_with::<FMA>(sigma[i]) - HALF_LN_2PI;
            d_mu[i] = z * inv;
            d_sigma[i] = (z * z - 1.0) * inv;
        }
        crate::linalg::sum_f64(values)
    }
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
        if n == 1 {
            // One element (a scalar prior): a plain node through the generic driver.
            return Ok(vectorized::sum(&NormalKernel, &ops, 1));
        }
        if R::MODE != EvalMode::Dual {
            if let Some(sigma) = scalar_of(ops[2]) {
                return Ok(normal_sum_scalar_sigma(ops[0], ops[1], sigma, n));
            }
            if let Some(lp) = normal_sum_vector_sigma(&ops, n) {
                return Ok(lp);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, ScalarFamily};

    const N: usize = 20;

    /// args = [x₀..x_{n−1}, mu, σ₀..σ_{n−1}]: one σ per element; n = 20 is longer than the
    /// short path, n = 5 takes it.
    struct VectorSigma(usize);
    impl ScalarFamily for VectorSigma {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let n = self.0;
            Normal::new(args[n], &args[n + 1..])
                .unwrap()
                .log_density(Operand::Slice(&args[..n]))
                .unwrap()
        }
    }

    fn args_n(n: usize, sigma_scale: f64) -> Vec<f64> {
        let mut a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 2.0).collect();
        a.push(0.3);
        a.extend((0..n).map(|i| sigma_scale * (0.5 + (i as f64 * 0.61).cos().abs())));
        a
    }

    fn args(sigma_scale: f64) -> Vec<f64> {
        args_n(N, sigma_scale)
    }

    /// Σ ln N(xᵢ | μ, σᵢ) element by element with `std`'s logarithm.
    fn by_formula(a: &[f64]) -> f64 {
        let n = (a.len() - 1) / 2;
        (0..n)
            .map(|i| {
                let (x, s) = (a[i], a[n + 1 + i]);
                let z = (x - a[n]) / s;
                -0.5 * z * z - s.ln() - HALF_LN_2PI
            })
            .sum()
    }

    #[test]
    fn vector_sigma_matches_the_element_formula_and_its_gradient() {
        for n in [N, 5, 1] {
            for scale in [1.0, 0.2, 40.0] {
                let a = args_n(n, scale);
                let lp: f64 = VectorSigma(n).log_density(&a);
                let want = by_formula(&a);
                assert!(
                    (lp - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "n = {n}: {lp} vs {want}"
                );
                check_gradients(&VectorSigma(n), &a, 1e-6);
            }
        }
    }

    #[test]
    fn subnormal_sigma_takes_the_generic_path() {
        // x₃ = μ, so the subnormal σ₃ contributes −ln σ₃ ≈ 713.8 without overflow.
        let mut a = args(1.0);
        a[N + 1 + 3] = 1e-310;
        a[3] = a[N];
        let lp: f64 = VectorSigma(N).log_density(&a);
        let want = by_formula(&a);
        assert!((lp - want).abs() <= 1e-12 * want.abs(), "{lp} vs {want}");
    }
}
