//! The discrete uniform distribution over an integer range.

use super::{Distribution, ElementValue, ParamError, Support};
use crate::param::Operand;
use crate::scalar::Real;
use crate::vectorized::LengthMismatch;
use rand::{Rng, RngCore};

/// Discrete uniform distribution over the integers `lower..=upper` (both included):
/// `ln p(x) = −ln(upper − lower + 1)` inside, −∞ outside. The bounds are data.
///
/// ```
/// use ppl_core::dist::{DiscreteUniform, Distribution};
/// use ppl_core::param::Param;
/// let d = DiscreteUniform::new(1, 6).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&4_i64)).unwrap();
/// assert!((lp + 6.0_f64.ln()).abs() < 1e-15);
/// let lp: f64 = d.log_density(Param::<f64>::operand(&7_i64)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// assert!(DiscreteUniform::new(3, 2).is_err());
///
/// // Both bounds are included, and a single value (lower = upper) is allowed.
/// for x in [1_i64, 6] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert!((lp + 6.0_f64.ln()).abs() < 1e-15);
/// }
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0_i64)).unwrap();
/// assert_eq!(lp, f64::NEG_INFINITY);
/// let single = DiscreteUniform::new(3, 3).unwrap();
/// assert_eq!(Distribution::<f64>::log_density(&single, Param::<f64>::operand(&3_i64)).unwrap(), 0.0);
/// assert_eq!(DiscreteUniform::new(3, 2).unwrap_err().parameter, "upper");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscreteUniform {
    lower: i64,
    upper: i64,
}

impl DiscreteUniform {
    /// Builds the distribution; `lower ≤ upper` is required.
    pub fn new(lower: i64, upper: i64) -> Result<Self, ParamError> {
        if lower > upper {
            return Err(ParamError::new(
                "DiscreteUniform",
                "upper",
                "must not be below `lower`",
                upper as f64,
            ));
        }
        Ok(DiscreteUniform { lower, upper })
    }

    /// `ln` of the number of values.
    fn ln_count(&self) -> f64 {
        // In f64 so that the full i64 range does not overflow.
        (self.upper as f64 - self.lower as f64 + 1.0).ln()
    }

    fn contains(&self, x: f64) -> bool {
        x == x.trunc() && x >= self.lower as f64 && x <= self.upper as f64
    }
}

impl<R: Real> Distribution<R> for DiscreteUniform {
    type Value = i64;

    fn name(&self) -> &'static str {
        "DiscreteUniform"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(None)
    }

    fn is_discrete(&self) -> bool {
        true
    }

    fn support(&self) -> Support<R> {
        Support::Integers {
            lower: Some(self.lower),
            upper: Some(self.upper),
        }
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let n = x.len().unwrap_or(1);
        if x.values(n).any(|v| !self.contains(v)) {
            return Ok(R::constant(f64::NEG_INFINITY));
        }
        Ok(R::constant(-(n as f64) * self.ln_count()))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let n = x.len().unwrap_or(1);
        let lp = -self.ln_count();
        out.extend(x.values(n).map(|v| {
            if self.contains(v) {
                lp
            } else {
                f64::NEG_INFINITY
            }
        }));
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        for _ in 0..n {
            out.push(rng.gen_range(self.lower..=self.upper) as f64);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> i64 {
        <Self as ElementValue<R>>::element_from(xs[0])
    }
}

impl<R: Real> ElementValue<R> for DiscreteUniform {
    type Element = i64;
    fn element_from(x: R) -> i64 {
        x.value().round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_moments, lpdf, test_rng};
    use crate::tape::{self, Var};
    use proptest::prelude::*;
    use statrs::distribution::Discrete;

    proptest! {
        #[test]
        fn matches_statrs(lower in -50i64..50, width in 0i64..100, x in -60i64..160) {
            let upper = lower + width;
            let ours = lpdf(&DiscreteUniform::new(lower, upper).unwrap(), x as f64);
            let theirs = statrs::distribution::DiscreteUniform::new(lower, upper).unwrap().ln_pmf(x);
            prop_assert!(ours == theirs || (ours - theirs).abs() <= 1e-12, "{} vs {}", ours, theirs);
        }
    }

    #[test]
    fn slices_constants_and_outside_support() {
        let d = DiscreteUniform::new(-2, 2).unwrap();
        let xs = [-2_i64, 0, 2];
        let lp: f64 = d.log_density(Operand::IntData(&xs)).unwrap();
        assert!((lp + 3.0 * 5.0_f64.ln()).abs() < 1e-14);
        let xs = [0.0, 0.5];
        let lp: f64 = d.log_density(Operand::Data(&xs)).unwrap();
        assert_eq!(lp, f64::NEG_INFINITY);
        let mut pw = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Operand::Data(&xs), &mut pw).unwrap();
        assert_eq!(pw[1], f64::NEG_INFINITY);
        tape::reset();
        let before = tape::len();
        let lp: Var = d.log_density(Operand::Const(1.0)).unwrap();
        assert_eq!(tape::len(), before);
        assert!((lp.value() + 5.0_f64.ln()).abs() < 1e-14);
        let whole = DiscreteUniform::new(i64::MIN, i64::MAX).unwrap();
        assert!(lpdf(&whole, 0.0).is_finite());
        assert!(DiscreteUniform::new(4, 4).is_ok());
        assert_eq!(DiscreteUniform::new(4, 3).unwrap_err().parameter, "upper");
    }

    #[test]
    fn sampling_moments() {
        let (lo, hi) = (-3_i64, 8_i64);
        let mut rng = test_rng(31);
        let mut xs = Vec::new();
        Distribution::<f64>::draw(
            &DiscreteUniform::new(lo, hi).unwrap(),
            &mut rng,
            20_000,
            &mut xs,
        );
        let k = (hi - lo + 1) as f64;
        check_moments(&xs, (lo + hi) as f64 / 2.0, (k * k - 1.0) / 12.0);
        assert!(xs.iter().all(|x| *x >= lo as f64 && *x <= hi as f64));
    }
}
