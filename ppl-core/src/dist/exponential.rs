//! The exponential distribution (rate parameterisation).

use super::poisson::scalar_of;
use super::{support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::vectorized::{self, broadcast_len, pointwise_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Exponential distribution with **rate** `lambda`: `ln p(x) = ln λ − λx` for `x ≥ 0`.
///
/// The mean is `1/λ` and the variance `1/λ²`. The log-density is −∞ for `x < 0`.
///
/// ```
/// use ppl_core::dist::{Distribution, Exponential};
/// use ppl_core::param::Param;
/// let d = Exponential::new(2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1.5)).unwrap();
/// assert!((lp - (2f64.ln() - 3.0)).abs() < 1e-12);
/// assert!(Exponential::new(-1.0).is_err());
///
/// // λ is a rate: Exponential::new(2.0) has mean ½, not 2. ln λ − λx at x = 0 (the
/// // boundary is included); negative values are outside the support.
/// let lambda = 2.0_f64;
/// let at_zero: f64 = d.log_density(Param::<f64>::operand(&0.0)).unwrap();
/// assert!((at_zero - lambda.ln()).abs() < 1e-15);
/// let below: f64 = d.log_density(Param::<f64>::operand(&-0.5)).unwrap();
/// assert_eq!(below, f64::NEG_INFINITY);
/// let err = Exponential::new(0.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("lambda", "must be positive"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Exponential<L> {
    lambda: L,
}

impl<L: ParamValues> Exponential<L> {
    /// Builds the distribution; `lambda` (the rate) must be positive.
    pub fn new(lambda: L) -> Result<Self, ParamError> {
        check_param("Exponential", "lambda", &lambda, "must be positive", |l| {
            l > 0.0
        })?;
        Ok(Exponential { lambda })
    }
}

struct ExponentialKernel;

impl Kernel<2> for ExponentialKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, lambda]: [R; 2]) -> R {
        lambda.ln() - lambda * x
    }
    #[inline]
    fn eval_partials(&self, [x, lambda]: [f64; 2]) -> (f64, [f64; 2]) {
        (lambda.ln() - lambda * x, [-lambda, 1.0 / lambda - x])
    }
}

impl<L> Exponential<L> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 2]
    where
        L: Param<R>,
    {
        [x, self.lambda.operand()]
    }
}

/// Sum of exponential log-densities with a scalar rate: `n ln λ − λ Σx`, one logarithm.
fn exponential_sum_scalar_rate<R: Real>(x: Operand<'_, R>, lambda: R, n: usize) -> R {
    let l = lambda.value();
    let x_var = !x.is_constant();
    R::record_wide(|w| {
        let mut sum_x = 0.0;
        if x_var {
            if let Operand::Slice(s) = x {
                w.reserve(n);
                for xi in &s[..n] {
                    sum_x += xi.value();
                    w.push(xi.tape_index(), -l);
                }
            } else {
                sum_x = x.value(0) * n as f64;
            }
        } else {
            sum_x = vectorized::sum_values(&x, n);
        }
        if let Operand::Scalar(xs) = x {
            w.push(xs.tape_index(), -l * n as f64);
        }
        w.push(lambda.tape_index(), n as f64 / l - sum_x);
        n as f64 * l.ln() - l * sum_x
    })
}

const NAMES: [&str; 2] = ["x", "lambda"];

impl<R: Real, L: Param<R>> Distribution<R> for Exponential<L> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Exponential"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.lambda.operand().len())
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&NAMES, &ops)?;
        if !vectorized::all_values(&ops[0], n, support::non_negative) {
            return Ok(R::constant(f64::NEG_INFINITY));
        }
        if R::MODE != EvalMode::Dual && !ops[0].is_gather() {
            if let Some(lambda) = scalar_of(ops[1]) {
                return Ok(exponential_sum_scalar_rate(ops[0], lambda, n));
            }
        }
        Ok(vectorized::sum(&ExponentialKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        pointwise_in_support(&ExponentialKernel, &NAMES, &ops, support::non_negative, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let lambda = self.lambda.operand();
        for i in 0..n {
            let e: f64 = rand_distr::Exp1.sample(rng);
            out.push(e / lambda.value(i));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, L: Param<R>> ElementValue<R> for Exponential<L> {
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
    use statrs::distribution::{Continuous, ContinuousCDF, Exp};

    proptest! {
        #[test]
        fn log_density_matches_statrs(lambda in 0.01f64..50.0, x in 0.0f64..100.0) {
            let ours = lpdf(&Exponential::new(lambda).unwrap(), x);
            let theirs = Exp::new(lambda).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }

        #[test]
        fn hoisted_sum_matches_kernel(
            lambda in 0.01f64..50.0,
            xs in prop::collection::vec(0.0f64..10.0, 1..8),
        ) {
            let by_scalar: f64 = Exponential::new(lambda)
                .unwrap()
                .log_density(Param::<f64>::operand(&xs))
                .unwrap();
            let lambdas = vec![lambda; xs.len()];
            let by_slice: f64 = Exponential::new(&lambdas)
                .unwrap()
                .log_density(Param::<f64>::operand(&xs))
                .unwrap();
            prop_assert!((by_scalar - by_slice).abs() <= 1e-10 * by_slice.abs().max(1.0));
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Exponential::new(a[1])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Exponential::new(a[3])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    struct SliceRate;
    impl ScalarFamily for SliceRate {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Exponential::new(&a[1..4])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.7], 1e-5);
        check_gradients(&Scalars, &[0.02, 25.0], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 1.8], 1e-5);
        check_gradients(&SliceRate, &[0.4, 1.1, 2.7, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = Exponential::new(1.0).unwrap();
        assert_eq!(lpdf(&d, -0.1), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 0.0), 0.0);
        let xs = [1.0, -1.0];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!(out[0].is_finite());
        assert_eq!(out[1], f64::NEG_INFINITY);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let lambda = 2.5;
        let d = Exponential::new(lambda).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(2), 20_000, &mut xs);
        check_moments(&xs, 1.0 / lambda, 1.0 / (lambda * lambda));
        let reference = Exp::new(lambda).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(Exponential::new(0.0).unwrap_err().parameter, "lambda");
        assert_eq!(
            Exponential::new(f64::INFINITY).unwrap_err().parameter,
            "lambda"
        );
        assert_eq!(Exponential::new(vec![1.0, -3.0]).unwrap_err().value, -3.0);
    }
}
