//! The geometric distribution, counting failures before the first success.

use super::poisson::is_count;
use super::{Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Geometric distribution: the number of **failures before the first success** in
/// independent trials with success probability `p ∈ (0, 1]`, over `0, 1, 2, …`:
/// `ln p(x) = ln p + x ln(1 − p)`, mean `(1 − p)/p`, variance `(1 − p)/p²`.
///
/// This is the convention of Stan-style count models, NumPy's `Generator.geometric`
/// minus one, and `rand_distr::Geometric`. PyMC's `Geometric` and statrs count
/// **trials** up to and including the first success (support `1, 2, …`): their `x`
/// is this distribution's `x + 1`.
///
/// ```
/// use ppl_core::dist::{Distribution, Geometric};
/// use ppl_core::param::Param;
/// let d = Geometric::new(0.25).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&2_i64)).unwrap();
/// assert!((lp - (0.25 * 0.75 * 0.75_f64).ln()).abs() < 1e-12);
/// assert!(Geometric::new(0.0).is_err());
///
/// // x counts failures, so 0 (success at the first trial) has probability p:
/// let p = 0.25_f64;
/// let at_zero: f64 = d.log_density(Param::<f64>::operand(&0_i64)).unwrap();
/// assert!((at_zero - p.ln()).abs() < 1e-15);
/// // Negative counts are outside the support; p = 1 is allowed, p > 1 is not.
/// let lp: f64 = d.log_density(Param::<f64>::operand(&-1_i64)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// assert!(Geometric::new(1.0).is_ok());
/// let err = Geometric::new(1.5).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("p", "must lie in (0, 1]"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Geometric<P> {
    p: P,
}

impl<P: ParamValues> Geometric<P> {
    /// Builds the distribution; `p` must lie in `(0, 1]`.
    pub fn new(p: P) -> Result<Self, ParamError> {
        check_param("Geometric", "p", &p, "must lie in (0, 1]", |v| {
            v > 0.0 && v <= 1.0
        })?;
        Ok(Geometric { p })
    }
}

struct GeometricKernel;

impl Kernel<2> for GeometricKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, p]: [R; 2]) -> R {
        let k = x.value();
        if !is_count(k) {
            return R::constant(f64::NEG_INFINITY);
        }
        if k == 0.0 {
            return p.ln();
        }
        p.ln() + (-p).ln_1p() * k
    }
    #[inline]
    fn eval_partials(&self, [k, p]: [f64; 2]) -> (f64, [f64; 2]) {
        if !is_count(k) {
            return (f64::NEG_INFINITY, [0.0; 2]);
        }
        if k == 0.0 {
            return (p.ln(), [0.0, 1.0 / p]);
        }
        (p.ln() + k * (-p).ln_1p(), [0.0, 1.0 / p - k / (1.0 - p)])
    }
}

impl<R: Real, P: Param<R>> Distribution<R> for Geometric<P> {
    type Value = i64;

    fn name(&self) -> &'static str {
        "Geometric"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(self.p.operand().len())
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

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = [x, self.p.operand()];
        let n = broadcast_len(&["x", "p"], &ops)?;
        Ok(vectorized::sum(&GeometricKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = [x, self.p.operand()];
        let n = broadcast_len(&["x", "p"], &ops)?;
        vectorized::pointwise(&GeometricKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let p = self.p.operand();
        for i in 0..n {
            // rand_distr's geometric counts failures, as here.
            let x = match rand_distr::Geometric::new(p.value(i)) {
                Ok(g) => g.sample(rng) as f64,
                Err(_) => f64::NAN,
            };
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        Self::element_from(xs[0])
    }
}

impl<R: Real, P: Param<R>> ElementValue<R> for Geometric<P> {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_moments, lpdf, test_rng, ScalarFamily};
    use proptest::prelude::*;
    use statrs::distribution::Discrete;

    proptest! {
        #[test]
        fn matches_statrs_shifted_by_one(p in 0.01f64..1.0, x in 0u64..200) {
            let ours = lpdf(&Geometric::new(p).unwrap(), x as f64);
            // statrs counts trials (support 1, 2, …).
            let theirs = statrs::distribution::Geometric::new(p).unwrap().ln_pmf(x + 1);
            prop_assert!((ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0), "{} vs {}", ours, theirs);
        }
    }

    #[test]
    fn certain_success_and_outside_support() {
        let d = Geometric::new(1.0).unwrap();
        assert_eq!(lpdf(&d, 0.0), 0.0);
        assert_eq!(lpdf(&d, 1.0), f64::NEG_INFINITY);
        let d = Geometric::new(0.3).unwrap();
        assert_eq!(lpdf(&d, -1.0), f64::NEG_INFINITY);
        assert_eq!(lpdf(&d, 2.5), f64::NEG_INFINITY);
    }

    #[test]
    fn constructor_errors() {
        assert!(Geometric::new(0.0).is_err());
        assert!(Geometric::new(1.2).is_err());
        assert!(Geometric::new(-0.2).is_err());
        assert!(Geometric::new([0.5, 0.0]).is_err());
        assert!(Geometric::new(1.0).is_ok());
    }

    struct Scalar(Vec<i64>);
    impl ScalarFamily for Scalar {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            Geometric::new(args[0])
                .unwrap()
                .log_density(Operand::IntData(&self.0))
                .unwrap()
        }
    }

    struct Slice(Vec<f64>);
    impl ScalarFamily for Slice {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            Geometric::new(args)
                .unwrap()
                .log_density(Operand::Data(&self.0))
                .unwrap()
        }
    }

    #[test]
    fn gradients() {
        check_gradients(&Scalar(vec![3]), &[0.4], 1e-6);
        check_gradients(&Scalar(vec![0, 2, 7, 1]), &[0.25], 1e-6);
        check_gradients(&Slice(vec![0.0, 5.0]), &[0.6, 0.1], 1e-6);
    }

    #[test]
    fn sampling_moments() {
        let mut rng = test_rng(23);
        let p = 0.3;
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&Geometric::new(p).unwrap(), &mut rng, 20_000, &mut xs);
        check_moments(&xs, (1.0 - p) / p, (1.0 - p) / (p * p));
        assert!(xs.contains(&0.0));
    }
}
