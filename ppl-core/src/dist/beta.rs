//! The beta distribution.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{digamma, ln_beta};
use crate::vectorized::{pointwise_in_support, sum_in_support, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Beta distribution with shapes `alpha` and `beta`:
/// `ln p(x) = (α−1) ln x + (β−1) ln(1−x) − ln B(α, β)` for `0 < x < 1`.
///
/// The mean is `α/(α+β)` and the variance `αβ/((α+β)²(α+β+1))`. The log-density is −∞
/// outside the open interval `(0, 1)`.
///
/// ```
/// use ppl_core::dist::{Beta, Distribution};
/// use ppl_core::param::Param;
/// let d = Beta::new(2.0, 3.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&0.25)).unwrap();
/// assert!((lp - 0.52324814).abs() < 1e-8);
/// assert!(Beta::new(2.0, -3.0).is_err());
///
/// // α weighs x and β weighs 1 − x (the mean α/(α+β) is 0.4 here). Written out at
/// // α = 2, β = 3, x = 0.25, with B(α, β) = Γ(α)Γ(β)/Γ(α+β):
/// use ppl_core::special::ln_gamma;
/// let (alpha, beta, x) = (2.0_f64, 3.0_f64, 0.25_f64);
/// let ln_b = ln_gamma(alpha) + ln_gamma(beta) - ln_gamma(alpha + beta);
/// let want = (alpha - 1.0) * x.ln() + (beta - 1.0) * (1.0 - x).ln() - ln_b;
/// assert!((lp - want).abs() < 1e-13);
/// // The endpoints and values outside (0, 1) have log-density −∞.
/// for x in [0.0, 1.0, -0.5, 1.5] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = Beta::new(f64::NAN, 3.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("alpha", "must be finite"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Beta<A, B> {
    alpha: A,
    beta: B,
}

impl<A: ParamValues, B: ParamValues> Beta<A, B> {
    /// Builds the distribution; `alpha` and `beta` must be positive.
    pub fn new(alpha: A, beta: B) -> Result<Self, ParamError> {
        check_param("Beta", "alpha", &alpha, "must be positive", |a| a > 0.0)?;
        check_param("Beta", "beta", &beta, "must be positive", |b| b > 0.0)?;
        Ok(Beta { alpha, beta })
    }
}

/// `−ln B(α, β)` and its partial derivatives at one pair of shapes.
#[derive(Debug, Clone, Copy)]
struct NormTerm {
    alpha: f64,
    beta: f64,
    value: f64,
    d_alpha: f64,
    d_beta: f64,
}

impl NormTerm {
    fn new(alpha: f64, beta: f64) -> Self {
        let psi_ab = digamma(alpha + beta);
        NormTerm {
            alpha,
            beta,
            value: -ln_beta(alpha, beta),
            d_alpha: psi_ab - digamma(alpha),
            d_beta: psi_ab - digamma(beta),
        }
    }

    #[inline]
    fn matches(&self, alpha: f64, beta: f64) -> bool {
        self.alpha == alpha && self.beta == beta
    }
}

/// The element kernel; scalar shapes have `ln B` and the digammas computed once per call.
struct BetaKernel {
    cached: Option<NormTerm>,
}

impl BetaKernel {
    fn new<R: Real>(alpha: Operand<'_, R>, beta: Operand<'_, R>) -> Self {
        let cached = match (alpha.len(), beta.len()) {
            (None, None) => Some(NormTerm::new(alpha.value(0), beta.value(0))),
            _ => None,
        };
        BetaKernel { cached }
    }

    #[inline]
    fn norm_term(&self, alpha: f64, beta: f64) -> NormTerm {
        match self.cached {
            Some(t) if t.matches(alpha, beta) => t,
            _ => NormTerm::new(alpha, beta),
        }
    }
}

impl Kernel<3> for BetaKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, alpha, beta]: [R; 3]) -> R {
        let neg_ln_beta = match (R::MODE, self.cached) {
            (EvalMode::Value, Some(t)) if t.matches(alpha.value(), beta.value()) => {
                R::constant(t.value)
            }
            _ => -alpha.ln_beta(beta),
        };
        (alpha - 1.0) * x.ln() + (beta - 1.0) * (-x).ln_1p() + neg_ln_beta
    }
    #[inline]
    fn eval_partials(&self, [x, alpha, beta]: [f64; 3]) -> (f64, [f64; 3]) {
        let t = self.norm_term(alpha, beta);
        let (ln_x, ln_1mx) = (x.ln(), (-x).ln_1p());
        (
            (alpha - 1.0) * ln_x + (beta - 1.0) * ln_1mx + t.value,
            [
                (alpha - 1.0) / x - (beta - 1.0) / (1.0 - x),
                ln_x + t.d_alpha,
                ln_1mx + t.d_beta,
            ],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        // The vectorised loop needs scalar shapes (ln B and the digammas computed once).
        let t = self.cached?;
        let x = cols[0];
        crate::vectorized::columns_sum(x.len(), partials, |values, d| beta_rows(x, t, values, d))
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over a column of values with one pair of shapes: values and partials
    /// (x, α, β); `false` where the branch-free logarithm does not apply.
    fn beta_rows(x: &[f64], t: NormTerm, values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let x = &x[..n];
        let [d_x, d_a, d_b] = d;
        let (d_x, d_a, d_b) = (&mut d_x[..n], &mut d_a[..n], &mut d_b[..n]);
        let (a1, b1) = (t.alpha - 1.0, t.beta - 1.0);
        let mut ok = true;
        for i in 0..n {
            let (xi, yi) = (x[i], 1.0 - x[i]);
            ok &= crate::vecmath::in_ln_normal_range(xi) & crate::vecmath::in_ln_normal_range(yi);
            let (ln_x, ln_1mx) = (crate::vecmath::ln_normal_with::<FMA>(xi), crate::vecmath::ln_normal_with::<FMA>(yi));
            values[i] = a1 * ln_x + b1 * ln_1mx + t.value;
            d_x[i] = a1 / xi - b1 / yi;
            d_a[i] = ln_x + t.d_alpha;
            d_b[i] = ln_1mx + t.d_beta;
        }
        ok
    }
}

/// Whether the density is positive at `x`.
#[inline]
fn in_support(x: f64) -> bool {
    x > 0.0 && x < 1.0
}

impl<A, B> Beta<A, B> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        A: Param<R>,
        B: Param<R>,
    {
        [x, self.alpha.operand(), self.beta.operand()]
    }
}

const NAMES: [&str; 3] = ["x", "alpha", "beta"];

impl<R: Real, A: Param<R>, B: Param<R>> Distribution<R> for Beta<A, B> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Beta"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(
            &["alpha", "beta"],
            &[self.alpha.operand(), self.beta.operand()],
        )
    }

    fn support(&self) -> Support<R> {
        Support::Interval(R::constant(0.0), R::constant(1.0))
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let kernel = BetaKernel::new(ops[1], ops[2]);
        sum_in_support(&kernel, &NAMES, &ops, in_support)
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let kernel = BetaKernel::new(ops[1], ops[2]);
        pointwise_in_support(&kernel, &NAMES, &ops, in_support, out)
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (alpha, beta) = (self.alpha.operand(), self.beta.operand());
        for i in 0..n {
            let x = rand_distr::Beta::new(alpha.value(i), beta.value(i))
                .map_or(f64::NAN, |d| d.sample(rng));
            out.push(x);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, A: Param<R>, B: Param<R>> ElementValue<R> for Beta<A, B> {
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
            alpha in 0.1f64..30.0,
            beta in 0.1f64..30.0,
            x in 0.001f64..0.999,
        ) {
            let ours = lpdf(&Beta::new(alpha, beta).unwrap(), x);
            let theirs = statrs::distribution::Beta::new(alpha, beta).unwrap().ln_pdf(x);
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Beta::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Beta::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    struct SliceAlpha;
    impl ScalarFamily for SliceAlpha {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Beta::new(&a[1..3], a[3])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[0.3, 2.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[0.9, 0.6, 3.0], 1e-5);
        check_gradients(&SliceX, &[0.4, 0.1, 0.7, 1.8, 0.9], 1e-5);
        check_gradients(&SliceAlpha, &[0.4, 1.1, 2.7, 1.8], 1e-5);
    }

    #[test]
    fn outside_support_is_neg_infinity() {
        let d = Beta::new(2.0, 2.0).unwrap();
        for x in [-0.5, 0.0, 1.0, 1.5] {
            assert_eq!(lpdf(&d, x), f64::NEG_INFINITY);
        }
        let xs = [0.5, 1.5];
        let mut out = Vec::new();
        Distribution::<f64>::log_density_pointwise(&d, Param::<f64>::operand(&xs), &mut out)
            .unwrap();
        assert!(out[0].is_finite());
        assert_eq!(out[1], f64::NEG_INFINITY);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (alpha, beta) = (2.0, 5.0);
        let d = Beta::new(alpha, beta).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(8), 20_000, &mut xs);
        let s = alpha + beta;
        check_moments(&xs, alpha / s, alpha * beta / (s * s * (s + 1.0)));
        let reference = statrs::distribution::Beta::new(alpha, beta).unwrap();
        check_ks(&mut xs, |x| reference.cdf(x));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(Beta::new(0.0, 1.0).unwrap_err().parameter, "alpha");
        assert_eq!(Beta::new(1.0, -1.0).unwrap_err().parameter, "beta");
        assert_eq!(
            Beta::new(f64::INFINITY, 1.0).unwrap_err().requirement,
            "must be finite"
        );
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path;

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40)
            .map(|i| 0.02 + 0.96 * (i as f64 * 0.7).sin().abs())
            .collect();
        check_columns_path(|p| Beta::new(p[0], p[1]).unwrap(), &[2.5, 1.3], &x);
    }
}
