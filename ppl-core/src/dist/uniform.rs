//! The continuous uniform distribution.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Uniform distribution on `[lower, upper]`: `ln p(x) = −ln(upper − lower)` inside the
/// interval and −∞ outside.
///
/// The mean is `(lower + upper)/2` and the variance `(upper − lower)²/12`.
///
/// The support (and with it the default transform of a sampled variable) is the
/// interval when both bounds are scalars (constants or model scalars). When a bound is
/// a slice, the support is reported as all reals, because [`Support`] holds one
/// interval: give such a variable an explicit interval transform per element, or use
/// scalar bounds.
///
/// ```
/// use ppl_core::dist::{Distribution, Uniform};
/// use ppl_core::param::Param;
/// let d = Uniform::new(-1.0, 3.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0.5)).unwrap();
/// assert!((lp - -(4f64.ln())).abs() < 1e-12);
/// let outside: f64 = d.log_density(Param::<f64>::operand(&5.0)).unwrap();
/// assert_eq!(outside, f64::NEG_INFINITY);
/// assert!(Uniform::new(1.0, 1.0).is_err());
///
/// // The arguments are the bounds (not a centre and a width), and both bounds belong
/// // to the support: −ln(upper − lower) there too.
/// let (lower, upper) = (-1.0_f64, 3.0_f64);
/// for x in [lower, upper] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert!((lp - -(upper - lower).ln()).abs() < 1e-15);
/// }
/// let err = Uniform::new(2.0, 1.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("upper", "must be greater than lower"));
/// assert_eq!(Uniform::new(0.0, f64::INFINITY).unwrap_err().requirement, "must be finite");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Uniform<L, U> {
    lower: L,
    upper: U,
}

impl<L: ParamValues, U: ParamValues> Uniform<L, U> {
    /// Builds the distribution; both bounds must be finite and `lower < upper`
    /// (elementwise, with broadcasting).
    pub fn new(lower: L, upper: U) -> Result<Self, ParamError> {
        check_param("Uniform", "lower", &lower, "must be finite", |_| true)?;
        check_param("Uniform", "upper", &upper, "must be finite", |_| true)?;
        // Mismatched lengths are reported by the densities; compare the common prefix.
        let n = match (lower.param_len(), upper.param_len()) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => 1,
        };
        for i in 0..n {
            let (lo, hi) = (lower.param_value(i), upper.param_value(i));
            if lo >= hi {
                return Err(ParamError::new(
                    "Uniform",
                    "upper",
                    "must be greater than lower",
                    hi,
                ));
            }
            if !(hi - lo).is_finite() {
                // The density 1/(upper − lower) would be 0 everywhere.
                return Err(ParamError::new(
                    "Uniform",
                    "upper",
                    "must lie within f64::MAX of lower",
                    hi,
                ));
            }
        }
        Ok(Uniform { lower, upper })
    }
}

struct UniformKernel;

impl Kernel<3> for UniformKernel {
    #[inline]
    fn eval<R: Real>(&self, [_x, lower, upper]: [R; 3]) -> R {
        -(upper - lower).ln()
    }
    #[inline]
    fn eval_partials(&self, [_x, lower, upper]: [f64; 3]) -> (f64, [f64; 3]) {
        let inv = 1.0 / (upper - lower);
        (inv.ln(), [0.0, inv, -inv])
    }
}

impl<L, U> Uniform<L, U> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        L: Param<R>,
        U: Param<R>,
    {
        [x, self.lower.operand(), self.upper.operand()]
    }
}

/// Whether element `i` of `x` lies inside its bounds.
#[inline]
fn inside<R: Real>(ops: &[Operand<'_, R>; 3], i: usize) -> bool {
    (ops[1].value(i)..=ops[2].value(i)).contains(&ops[0].value(i))
}

impl<R: Real, L: Param<R>, U: Param<R>> Distribution<R> for Uniform<L, U> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Uniform"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["lower", "upper"],
            &[self.lower.operand(), self.upper.operand()],
        )
    }

    fn support(&self) -> Support<R> {
        let (lower, upper) = (self.lower.operand(), self.upper.operand());
        if lower.len().is_none() && upper.len().is_none() {
            Support::Interval(lower.lift(0), upper.lift(0))
        } else {
            Support::Real
        }
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "lower", "upper"], &ops)?;
        if (0..n).any(|i| !inside(&ops, i)) {
            return Ok(R::constant(f64::NEG_INFINITY));
        }
        Ok(vectorized::sum(&UniformKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "lower", "upper"], &ops)?;
        let start = out.len();
        vectorized::pointwise(&UniformKernel, &ops, n, out);
        for (i, lp) in out[start..].iter_mut().enumerate() {
            if !inside(&ops, i) {
                *lp = f64::NEG_INFINITY;
            }
        }
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (lower, upper) = (self.lower.operand(), self.upper.operand());
        for i in 0..n {
            let u: f64 = rand_distr::Standard.sample(rng);
            let (lo, hi) = (lower.value(i), upper.value(i));
            out.push(lo + (hi - lo) * u);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, L: Param<R>, U: Param<R>> ElementValue<R> for Uniform<L, U> {
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
    use crate::tape::Var;
    use proptest::prelude::*;
    use statrs::distribution::{Continuous, ContinuousCDF};

    proptest! {
        #[test]
        fn log_density_matches_statrs(
            lower in -50.0f64..50.0,
            width in 0.01f64..100.0,
            t in -0.5f64..1.5,
        ) {
            let upper = lower + width;
            let x = lower + t * width;
            let ours = lpdf(&Uniform::new(lower, upper).unwrap(), x);
            let theirs = statrs::distribution::Uniform::new(lower, upper).unwrap().ln_pdf(x);
            if theirs.is_finite() {
                prop_assert!(
                    (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                    "{ours} vs {theirs}"
                );
            } else {
                prop_assert_eq!(ours, f64::NEG_INFINITY);
            }
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Uniform::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Uniform::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn bounds_too_far_apart_are_refused() {
        // upper − lower overflows: the density 1/(upper − lower) would be 0 everywhere.
        let e = Uniform::new(-f64::MAX, f64::MAX).err().unwrap();
        assert_eq!((e.distribution, e.parameter), ("Uniform", "upper"));
        assert!(Uniform::new(-1e300, 1e300).is_ok());
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[0.3, -2.5, 0.7], 1e-5);
        check_gradients(&SliceX, &[0.4, 0.1, 0.7, -1.8, 0.9], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = Uniform::new(0.0, 2.0).unwrap();
        assert_eq!(lpdf(&d, -0.5), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 2.5), f64::NEG_INFINITY);
        let xs = [0.5, 2.5];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!((out[0] + 2f64.ln()).abs() < 1e-15);
        assert_eq!(out[1], f64::NEG_INFINITY);
    }

    #[test]
    fn support_uses_scalar_bounds() {
        let lo = Var::constant(-1.0);
        let d = Uniform::new(lo, 2.0).unwrap();
        match Distribution::<Var>::support(&d) {
            Support::Interval(a, b) => assert_eq!((a.value(), b.value()), (-1.0, 2.0)),
            other => panic!("unexpected support {other:?}"),
        }
        let d = Uniform::new([0.0, 1.0], 3.0).unwrap();
        assert_eq!(Distribution::<f64>::support(&d), Support::Real);
        assert_eq!(Distribution::<f64>::batch_len(&d), Ok(Some(2)));
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (lower, upper) = (-1.0, 3.0);
        let d = Uniform::new(lower, upper).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(9), 20_000, &mut xs);
        check_moments(&xs, 1.0, 16.0 / 12.0);
        let reference = statrs::distribution::Uniform::new(lower, upper).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(Uniform::new(f64::NAN, 1.0).unwrap_err().parameter, "lower");
        assert_eq!(
            Uniform::new(0.0, f64::INFINITY).unwrap_err().parameter,
            "upper"
        );
        let e = Uniform::new(2.0, 1.0).unwrap_err();
        assert_eq!(
            (e.parameter, e.requirement),
            ("upper", "must be greater than lower")
        );
        assert!(Uniform::new([0.0, 5.0], [1.0, 4.0]).is_err());
    }
}
