//! The inverse-gamma distribution (shape and scale).

use super::{Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{digamma, ln_gamma};
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Inverse-gamma distribution with shape `alpha` and **scale** `beta` (Stan's
/// `inv_gamma(alpha, beta)`; `1/x` is gamma with shape `α` and rate `β`):
/// `ln p(x) = α ln β − ln Γ(α) − (α+1) ln x − β/x` for `x > 0`.
///
/// The mean is `β/(α−1)` (for `α > 1`) and the variance `β²/((α−1)²(α−2))` (for
/// `α > 2`). The log-density is −∞ for `x ≤ 0`.
///
/// ```
/// use ppl_core::dist::{Distribution, InverseGamma};
/// use ppl_core::param::Param;
/// let d = InverseGamma::new(3.0, 2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0.5)).unwrap();
/// assert!((lp - 0.15888308).abs() < 1e-8);
/// assert!(InverseGamma::new(0.0, 2.0).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct InverseGamma<A, B> {
    alpha: A,
    beta: B,
}

impl<A: ParamValues, B: ParamValues> InverseGamma<A, B> {
    /// Builds the distribution; `alpha` (shape) and `beta` (scale) must be positive.
    pub fn new(alpha: A, beta: B) -> Result<Self, ParamError> {
        check_param("InverseGamma", "alpha", &alpha, "must be positive", |a| {
            a > 0.0
        })?;
        check_param("InverseGamma", "beta", &beta, "must be positive", |b| {
            b > 0.0
        })?;
        Ok(InverseGamma { alpha, beta })
    }
}

/// `−ln Γ(α)` and its derivative `−ψ(α)` at one shape value.
#[derive(Debug, Clone, Copy)]
struct ShapeTerm {
    alpha: f64,
    value: f64,
    deriv: f64,
}

impl ShapeTerm {
    fn new(alpha: f64) -> Self {
        ShapeTerm {
            alpha,
            value: -ln_gamma(alpha),
            deriv: -digamma(alpha),
        }
    }
}

/// The element kernel; a scalar shape has `ln Γ(α)` and `ψ(α)` computed once per call.
struct InverseGammaKernel {
    cached: Option<ShapeTerm>,
}

impl InverseGammaKernel {
    fn new<R: Real>(alpha: Operand<'_, R>) -> Self {
        let cached = match alpha {
            Operand::Const(a) => Some(ShapeTerm::new(a)),
            Operand::Scalar(a) => Some(ShapeTerm::new(a.value())),
            _ => None,
        };
        InverseGammaKernel { cached }
    }

    #[inline]
    fn shape_term(&self, alpha: f64) -> ShapeTerm {
        match self.cached {
            Some(t) if t.alpha == alpha => t,
            _ => ShapeTerm::new(alpha),
        }
    }
}

impl Kernel<3> for InverseGammaKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, alpha, beta]: [R; 3]) -> R {
        let neg_ln_gamma = match (R::MODE, self.cached) {
            (EvalMode::Value, Some(t)) if t.alpha == alpha.value() => R::constant(t.value),
            _ => -alpha.ln_gamma(),
        };
        alpha * beta.ln() + neg_ln_gamma - (alpha + 1.0) * x.ln() - beta / x
    }
    #[inline]
    fn eval_partials(&self, [x, alpha, beta]: [f64; 3]) -> (f64, [f64; 3]) {
        let t = self.shape_term(alpha);
        let (ln_x, ln_b) = (x.ln(), beta.ln());
        let inv_x = 1.0 / x;
        (
            alpha * ln_b + t.value - (alpha + 1.0) * ln_x - beta * inv_x,
            [
                (beta * inv_x - (alpha + 1.0)) * inv_x,
                ln_b + t.deriv - ln_x,
                alpha / beta - inv_x,
            ],
        )
    }
}

/// Whether the density is positive at `x`.
#[inline]
fn in_support(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

impl<A, B> InverseGamma<A, B> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        A: Param<R>,
        B: Param<R>,
    {
        [x, self.alpha.operand(), self.beta.operand()]
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> Distribution<R> for InverseGamma<A, B> {
    type Value = R;

    fn name(&self) -> &'static str {
        "InverseGamma"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        let (alpha, beta) = (self.alpha.operand(), self.beta.operand());
        if alpha.len().is_none() && beta.len().is_none() {
            return Ok(None);
        }
        broadcast_len(&["alpha", "beta"], &[alpha, beta]).map(Some)
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "alpha", "beta"], &ops)?;
        if (0..n).any(|i| !in_support(ops[0].value(i))) {
            return Ok(R::constant(f64::NEG_INFINITY));
        }
        Ok(vectorized::sum(&InverseGammaKernel::new(ops[1]), &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "alpha", "beta"], &ops)?;
        let start = out.len();
        vectorized::pointwise(&InverseGammaKernel::new(ops[1]), &ops, n, out);
        for (i, lp) in out[start..].iter_mut().enumerate() {
            if !in_support(ops[0].value(i)) {
                *lp = f64::NEG_INFINITY;
            }
        }
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (alpha, beta) = (self.alpha.operand(), self.beta.operand());
        for i in 0..n {
            // 1/x is gamma with shape α and rate β (scale 1/β).
            let g = rand_distr::Gamma::new(alpha.value(i), 1.0 / beta.value(i))
                .map_or(f64::NAN, |g| g.sample(rng));
            out.push(1.0 / g);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> ElementValue<R> for InverseGamma<A, B> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{
        check_gradients, check_ks, check_moments, lpdf, test_rng, ScalarFamily,
    };
    use proptest::prelude::*;
    use statrs::distribution::{Continuous, ContinuousCDF};

    proptest! {
        #[test]
        fn log_density_matches_statrs(
            alpha in 0.1f64..10.0,
            beta in 0.1f64..10.0,
            x in 0.05f64..20.0,
        ) {
            let ours = lpdf(&InverseGamma::new(alpha, beta).unwrap(), x);
            // statrs calls the scale β of this parameterisation its "rate".
            let theirs = statrs::distribution::InverseGamma::new(alpha, beta).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            InverseGamma::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            InverseGamma::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 2.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[0.2, 0.6, 3.0], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 1.8, 0.9], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = InverseGamma::new(2.0, 1.0).unwrap();
        assert_eq!(lpdf(&d, -1.0), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 0.0), f64::NEG_INFINITY);
        let xs = [1.0, -1.0];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!(out[0].is_finite());
        assert_eq!(out[1], f64::NEG_INFINITY);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (alpha, beta) = (8.0, 3.0);
        let d = InverseGamma::new(alpha, beta).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(7), 20_000, &mut xs);
        check_moments(
            &xs,
            beta / (alpha - 1.0),
            beta * beta / ((alpha - 1.0).powi(2) * (alpha - 2.0)),
        );
        let reference = statrs::distribution::InverseGamma::new(alpha, beta).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(InverseGamma::new(0.0, 1.0).unwrap_err().parameter, "alpha");
        assert_eq!(InverseGamma::new(1.0, -1.0).unwrap_err().parameter, "beta");
        assert_eq!(
            InverseGamma::new(1.0, f64::NAN).unwrap_err().requirement,
            "must be finite"
        );
    }
}
