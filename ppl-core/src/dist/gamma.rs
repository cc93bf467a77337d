//! The gamma distribution (shape and rate).

use super::{param_batch_len, support, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{digamma, ln_gamma};
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Gamma distribution with shape `alpha` and **rate** `beta` (the Stan and PyMC
/// parameterisation): `ln p(x) = α ln β − ln Γ(α) + (α−1) ln x − βx` for `x > 0`.
///
/// The mean is `α/β` and the variance `α/β²`. The log-density is −∞ for `x ≤ 0` (the
/// density is evaluated on the open support).
///
/// ```
/// use ppl_core::dist::{Distribution, Gamma};
/// use ppl_core::param::Param;
/// let d = Gamma::new(2.0, 3.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0.5)).unwrap();
/// assert!((lp - 0.00407739677627).abs() < 1e-10);
/// assert!(Gamma::new(2.0, 0.0).is_err());
///
/// // β is a rate (mean α/β = ⅔ here), not a scale. Written out at α = 2, β = 3,
/// // x = 0.5, with a non-integer shape as well:
/// use ppl_core::special::ln_gamma;
/// for (alpha, beta, x) in [(2.0_f64, 3.0_f64, 0.5_f64), (0.7, 1.5, 2.2)] {
///     let d = Gamma::new(alpha, beta).unwrap();
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     let want = alpha * beta.ln() - ln_gamma(alpha) + (alpha - 1.0) * x.ln() - beta * x;
///     assert!((lp - want).abs() < 1e-13);
/// }
/// // The support is open: x = 0 and negative values have log-density −∞.
/// for x in [0.0, -1.0] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = Gamma::new(-1.0, 3.0).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("alpha", -1.0));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Gamma<A, B> {
    alpha: A,
    beta: B,
}

impl<A: ParamValues, B: ParamValues> Gamma<A, B> {
    /// Builds the distribution; `alpha` (shape) and `beta` (rate) must be positive.
    pub fn new(alpha: A, beta: B) -> Result<Self, ParamError> {
        check_param("Gamma", "alpha", &alpha, "must be positive", |a| a > 0.0)?;
        check_param("Gamma", "beta", &beta, "must be positive", |b| b > 0.0)?;
        Ok(Gamma { alpha, beta })
    }
}

/// `−ln Γ(α)` and its derivative `−ψ(α)` at one shape value.
#[derive(Debug, Clone, Copy)]
pub(super) struct ShapeTerm {
    pub(super) alpha: f64,
    pub(super) value: f64,
    pub(super) deriv: f64,
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

/// The shape term of a kernel (shared with the inverse gamma): when the shape is a
/// scalar, `ln Γ(α)` and `ψ(α)` are computed once per call instead of once per element.
pub(super) struct ShapeCache {
    cached: Option<ShapeTerm>,
}

impl ShapeCache {
    /// The cache for the shape operand `alpha`.
    pub(super) fn new<R: Real>(alpha: Operand<'_, R>) -> Self {
        let cached = match alpha {
            Operand::Const(a) => Some(ShapeTerm::new(a)),
            Operand::Scalar(a) => Some(ShapeTerm::new(a.value())),
            _ => None,
        };
        ShapeCache { cached }
    }

    /// The term of a scalar shape (`None` for a vector of shapes).
    pub(super) fn cached(&self) -> Option<ShapeTerm> {
        self.cached
    }

    /// The term and its derivative at `alpha`.
    #[inline]
    pub(super) fn term(&self, alpha: f64) -> ShapeTerm {
        match self.cached {
            Some(t) if t.alpha == alpha => t,
            _ => ShapeTerm::new(alpha),
        }
    }

    /// `−ln Γ(α)` in the kernel's scalar type (the cached value for plain values).
    #[inline]
    pub(super) fn neg_ln_gamma<R: Real>(&self, alpha: R) -> R {
        match (R::MODE, self.cached) {
            (EvalMode::Value, Some(t)) if t.alpha == alpha.value() => R::constant(t.value),
            _ => -alpha.ln_gamma(),
        }
    }
}

/// The element kernel; when the shape is a scalar, `ln Γ(α)` and `ψ(α)` are computed
/// once per call instead of once per element.
struct GammaKernel(ShapeCache);

impl Kernel<3> for GammaKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, alpha, beta]: [R; 3]) -> R {
        alpha * beta.ln() + self.0.neg_ln_gamma(alpha) + (alpha - 1.0) * x.ln() - beta * x
    }
    #[inline]
    fn eval_partials(&self, [x, alpha, beta]: [f64; 3]) -> (f64, [f64; 3]) {
        let t = self.0.term(alpha);
        let (ln_x, ln_b) = (x.ln(), beta.ln());
        (
            alpha * ln_b + t.value + (alpha - 1.0) * ln_x - beta * x,
            [
                (alpha - 1.0) / x - beta,
                ln_b + t.deriv + ln_x,
                alpha / beta - x,
            ],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        // The vectorised loop needs a scalar shape (ln Γ and ψ computed once).
        let t = self.0.cached()?;
        let [x, _, beta] = cols;
        crate::vectorized::columns_sum(x.len(), partials, |values, d| {
            gamma_rows(x, beta, t, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns with one shape: values and partials (x, α, β); `false`
    /// where the branch-free logarithm does not apply.
    fn gamma_rows(x: &[f64], beta: &[f64], t: ShapeTerm, values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let (x, beta) = (&x[..n], &beta[..n]);
        let [d_x, d_a, d_b] = d;
        let (d_x, d_a, d_b) = (&mut d_x[..n], &mut d_a[..n], &mut d_b[..n]);
        let a = t.alpha;
        let mut ok = true;
        for i in 0..n {
            let (xi, bi) = (x[i], beta[i]);
            ok &= crate::vecmath::in_ln_normal_range(xi) & crate::vecmath::in_ln_normal_range(bi);
            let (ln_x, ln_b) = (crate::vecmath::ln_normal_with::<FMA>(xi), crate::vecmath::ln_normal_with::<FMA>(bi));
            values[i] = a * ln_b + t.value + (a - 1.0) * ln_x - bi * xi;
            d_x[i] = (a - 1.0) / xi - bi;
            d_a[i] = ln_b + t.deriv + ln_x;
            d_b[i] = a / bi - xi;
        }
        ok
    }
}

impl<A, B> Gamma<A, B> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        A: Param<R>,
        B: Param<R>,
    {
        [x, self.alpha.operand(), self.beta.operand()]
    }
}

const NAMES: [&str; 3] = ["x", "alpha", "beta"];

impl<R: Real, A: Param<R>, B: Param<R>> Distribution<R> for Gamma<A, B> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Gamma"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["alpha", "beta"],
            &[self.alpha.operand(), self.beta.operand()],
        )
    }

    fn support(&self) -> Support<R> {
        Support::Positive
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let kernel = GammaKernel(ShapeCache::new(ops[1]));
        sum_in_support(&kernel, &NAMES, &ops, support::positive)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let kernel = GammaKernel(ShapeCache::new(ops[1]));
        pointwise_in_support(&kernel, &NAMES, &ops, support::positive, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (alpha, beta) = (self.alpha.operand(), self.beta.operand());
        for i in 0..n {
            // rand_distr's gamma takes a scale: 1/rate.
            let x = rand_distr::Gamma::new(alpha.value(i), 1.0 / beta.value(i))
                .map_or(f64::NAN, |g| g.sample(rng));
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> ElementValue<R> for Gamma<A, B> {
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
            alpha in 0.05f64..30.0,
            beta in 0.05f64..30.0,
            x in 0.001f64..50.0,
        ) {
            let ours = lpdf(&Gamma::new(alpha, beta).unwrap(), x);
            let theirs = statrs::distribution::Gamma::new(alpha, beta).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Gamma::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Gamma::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    struct SliceParams;
    impl ScalarFamily for SliceParams {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Gamma::new(&a[1..3], a[3])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 2.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[0.2, 0.6, 3.0], 1e-5);
        check_gradients(&Scalars, &[7.0, 12.0, 1.5], 1e-5);
        check_gradients(&SliceX, &[0.4, 1.1, 2.7, 1.8, 0.9], 1e-5);
        check_gradients(&SliceParams, &[0.8, 1.5, 3.5, 2.0], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = Gamma::new(2.0, 1.0).unwrap();
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
    fn pointwise_matches_sum() {
        let d = Gamma::new([1.5, 2.5, 4.0], 2.0).unwrap();
        let xs = [0.3, 1.2, 2.2];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        let total: f64 = d.log_density(Param::<f64>::operand(&xs)).unwrap();
        assert!((out.iter().sum::<f64>() - total).abs() < 1e-12);
        assert_eq!(Distribution::<f64>::batch_len(&d), Ok(Some(3)));
        assert!(d.log_density(Param::<f64>::operand(&[1.0, 2.0])).is_err());
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (alpha, beta) = (3.0, 2.0);
        let d = Gamma::new(alpha, beta).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(11), 20_000, &mut xs);
        check_moments(&xs, alpha / beta, alpha / (beta * beta));
        let reference = statrs::distribution::Gamma::new(alpha, beta).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(Gamma::new(0.0, 1.0).unwrap_err().parameter, "alpha");
        assert_eq!(Gamma::new(f64::NAN, 1.0).unwrap_err().parameter, "alpha");
        assert_eq!(Gamma::new(1.0, -2.0).unwrap_err().parameter, "beta");
        assert_eq!(
            Gamma::new(1.0, f64::INFINITY).unwrap_err().requirement,
            "must be finite"
        );
        assert_eq!(Gamma::new(vec![1.0, -1.0], 1.0).unwrap_err().value, -1.0);
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path;

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40)
            .map(|i| 0.05 + (i as f64 * 0.7).sin().abs() * 4.0)
            .collect();
        check_columns_path(|p| Gamma::new(p[0], p[1]).unwrap(), &[2.5, 1.3], &x);
    }
}
