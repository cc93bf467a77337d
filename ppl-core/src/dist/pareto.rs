//! The Pareto (type I) distribution.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Pareto distribution with minimum (scale) `y_min` and shape `alpha` (Stan's
/// `pareto(y_min, alpha)`): `ln p(x) = ln α + α ln y_min − (α+1) ln x` for `x ≥ y_min`.
///
/// The mean is `α y_min/(α−1)` (for `α > 1`) and the variance
/// `y_min² α/((α−1)²(α−2))` (for `α > 2`). The log-density is −∞ for `x < y_min`.
///
/// The support is `x > y_min` when `y_min` is a scalar; when it is a slice the support
/// is reported as the positive reals (values between 0 and `y_min` then have density 0).
///
/// ```
/// use ppl_core::dist::{Distribution, Pareto};
/// use ppl_core::param::Param;
/// let d = Pareto::new(1.0, 3.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&2.0)).unwrap();
/// assert!((lp - (3f64.ln() - 4.0 * 2f64.ln())).abs() < 1e-12);
/// assert!(Pareto::new(0.0, 3.0).is_err());
///
/// // The minimum comes first, then the shape; written out at y_min = 1.5, α = 2.5,
/// // including x = y_min itself (part of the support):
/// let (y_min, alpha) = (1.5_f64, 2.5_f64);
/// let d = Pareto::new(y_min, alpha).unwrap();
/// for x in [1.5_f64, 4.0] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     let want = alpha.ln() + alpha * y_min.ln() - (alpha + 1.0) * x.ln();
///     assert!((lp - want).abs() < 1e-14);
/// }
/// // Values below the minimum are outside the support.
/// let below: f64 = d.log_density(Param::<f64>::operand(&1.4)).unwrap();
/// assert_eq!(below, f64::NEG_INFINITY);
/// assert_eq!(Pareto::new(1.0, -3.0).unwrap_err().parameter, "alpha");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Pareto<Y, A> {
    y_min: Y,
    alpha: A,
}

impl<Y: ParamValues, A: ParamValues> Pareto<Y, A> {
    /// Builds the distribution; `y_min` and `alpha` must be positive.
    pub fn new(y_min: Y, alpha: A) -> Result<Self, ParamError> {
        check_param("Pareto", "y_min", &y_min, "must be positive", |y| y > 0.0)?;
        check_param("Pareto", "alpha", &alpha, "must be positive", |a| a > 0.0)?;
        Ok(Pareto { y_min, alpha })
    }
}

struct ParetoKernel;

impl Kernel<3> for ParetoKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, y_min, alpha]: [R; 3]) -> R {
        alpha.ln() + alpha * y_min.ln() - (alpha + 1.0) * x.ln()
    }
    #[inline]
    fn eval_partials(&self, [x, y_min, alpha]: [f64; 3]) -> (f64, [f64; 3]) {
        let (ln_x, ln_y) = (x.ln(), y_min.ln());
        (
            alpha.ln() + alpha * ln_y - (alpha + 1.0) * ln_x,
            [-(alpha + 1.0) / x, alpha / y_min, 1.0 / alpha + ln_y - ln_x],
        )
    }
}

impl<Y, A> Pareto<Y, A> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        Y: Param<R>,
        A: Param<R>,
    {
        [x, self.y_min.operand(), self.alpha.operand()]
    }
}

/// Whether element `i` of `x` lies in the support.
#[inline]
fn inside<R: Real>(ops: &[Operand<'_, R>; 3], i: usize) -> bool {
    let x = ops[0].value(i);
    x >= ops[1].value(i) && x.is_finite()
}

impl<R: Real, Y: Param<R>, A: Param<R>> Distribution<R> for Pareto<Y, A> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Pareto"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["y_min", "alpha"],
            &[self.y_min.operand(), self.alpha.operand()],
        )
    }

    fn support(&self) -> Support<R> {
        let y_min = self.y_min.operand();
        if y_min.len().is_none() {
            Support::GreaterThan(y_min.lift(0))
        } else {
            Support::Positive
        }
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "y_min", "alpha"], &ops)?;
        if (0..n).any(|i| !inside(&ops, i)) {
            return Ok(R::constant(f64::NEG_INFINITY));
        }
        Ok(vectorized::sum(&ParetoKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "y_min", "alpha"], &ops)?;
        let start = out.len();
        vectorized::pointwise(&ParetoKernel, &ops, n, out);
        for (i, lp) in out[start..].iter_mut().enumerate() {
            if !inside(&ops, i) {
                *lp = f64::NEG_INFINITY;
            }
        }
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (y_min, alpha) = (self.y_min.operand(), self.alpha.operand());
        for i in 0..n {
            let x = rand_distr::Pareto::new(y_min.value(i), alpha.value(i))
                .map_or(f64::NAN, |d| d.sample(rng));
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, Y: Param<R>, A: Param<R>> ElementValue<R> for Pareto<Y, A> {
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
            y_min in 0.01f64..10.0,
            alpha in 0.1f64..20.0,
            t in 1.0f64..100.0,
        ) {
            let x = y_min * t;
            let ours = lpdf(&Pareto::new(y_min, alpha).unwrap(), x);
            let theirs = statrs::distribution::Pareto::new(y_min, alpha).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Pareto::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Pareto::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[30.0, 4.0, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 0.3, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = Pareto::new(2.0, 1.0).unwrap();
        assert_eq!(lpdf(&d, 1.9), f64::NEG_INFINITY);
        assert!(lpdf(&d, 2.0).is_finite());
        let xs = [3.0, 1.0];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!(out[0].is_finite());
        assert_eq!(out[1], f64::NEG_INFINITY);
        assert_eq!(Distribution::<f64>::support(&d), Support::GreaterThan(2.0));
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (y_min, alpha) = (1.5, 6.0);
        let d = Pareto::new(y_min, alpha).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(16), 20_000, &mut xs);
        check_moments(
            &xs,
            alpha * y_min / (alpha - 1.0),
            y_min * y_min * alpha / ((alpha - 1.0).powi(2) * (alpha - 2.0)),
        );
        let reference = statrs::distribution::Pareto::new(y_min, alpha).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(Pareto::new(0.0, 1.0).unwrap_err().parameter, "y_min");
        assert_eq!(Pareto::new(1.0, -1.0).unwrap_err().parameter, "alpha");
    }
}
