//! The logistic distribution.

use super::{param_batch_len, Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::Real;
use crate::special::{log1p_exp, sigmoid};
use crate::vectorized::{self, broadcast_len, Kernel, LengthMismatch};
use rand::RngCore;
use rand_distr::Distribution as _;

/// Logistic distribution with location `mu` and scale `s`, with `z = (x−μ)/s`:
/// `ln p(x) = −z − ln s − 2 ln(1 + e^{−z})`.
///
/// The CDF is the logistic sigmoid of `z`; the mean is `μ` and the variance `s²π²/3`.
///
/// ```
/// use ppl_core::dist::{Distribution, Logistic};
/// use ppl_core::param::Param;
/// let d = Logistic::new(1.0, 2.0).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&1.0)).unwrap();
/// assert!((lp - -(8f64.ln())).abs() < 1e-12);
/// assert!(Logistic::new(0.0, -2.0).is_err());
///
/// // `s` is the scale (the standard deviation is sπ/√3); written out away from the
/// // centre, at μ = 1, s = 2, x = 4:
/// let (mu, s, x) = (1.0_f64, 2.0_f64, 4.0_f64);
/// let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
/// let z = (x - mu) / s;
/// assert!((lp - (-z - s.ln() - 2.0 * (1.0 + (-z).exp()).ln())).abs() < 1e-14);
/// let err = Logistic::new(0.0, 0.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("s", "must be positive"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Logistic<M, S> {
    mu: M,
    s: S,
}

impl<M: ParamValues, S: ParamValues> Logistic<M, S> {
    /// Builds the distribution; `mu` must be finite and `s` positive.
    pub fn new(mu: M, s: S) -> Result<Self, ParamError> {
        check_param("Logistic", "mu", &mu, "must be finite", |_| true)?;
        check_param("Logistic", "s", &s, "must be positive", |v| v > 0.0)?;
        Ok(Logistic { mu, s })
    }
}

struct LogisticKernel;

impl Kernel<3> for LogisticKernel {
    #[inline]
    fn eval<R: Real>(&self, [x, mu, s]: [R; 3]) -> R {
        let z = (x - mu) / s;
        -z - s.ln() - (-z).log1p_exp() * 2.0
    }
    #[inline]
    fn eval_partials(&self, [x, mu, s]: [f64; 3]) -> (f64, [f64; 3]) {
        let inv = 1.0 / s;
        let z = (x - mu) * inv;
        // d/dz of the log-density: 1 − 2σ(z).
        let g = 1.0 - 2.0 * sigmoid(z);
        (
            -z - s.ln() - 2.0 * log1p_exp(-z),
            [g * inv, -g * inv, -(z * g + 1.0) * inv],
        )
    }
    fn eval_columns(&self, cols: [&[f64]; 3], partials: &mut [Vec<f64>; 3]) -> Option<f64> {
        let [x, mu, s] = cols;
        vectorized::columns_sum(x.len(), partials, |values, d| {
            logistic_rows(x, mu, s, values, d)
        })
    }
}

crate::vecmath::simd_fn! {
    /// The kernel over columns: values and partials (x, μ, s); `false` where the
    /// branch-free functions do not apply.
    fn logistic_rows(x: &[f64], mu: &[f64], s: &[f64], values: &mut [f64], d: &mut [Vec<f64>; 3]) -> bool {
        let n = values.len();
        let (x, mu, s) = (&x[..n], &mu[..n], &s[..n]);
        let [d_x, d_mu, d_s] = d;
        let (d_x, d_mu, d_s) = (&mut d_x[..n], &mut d_mu[..n], &mut d_s[..n]);
        let mut ok = true;
        for i in 0..n {
            let si = s[i];
            let inv = 1.0 / si;
            let z = (x[i] - mu[i]) * inv;
            ok &= crate::vecmath::in_ln_normal_range(si) & z.is_finite();
            // ln(1 + e⁻ᶻ) and σ(−z); the log-density's slope in z is 1 − 2σ(z) = 2σ(−z) − 1.
            let (softplus, sig) = crate::vecmath::ln_1p_exp_and_sigmoid_with::<FMA>(-z);
            let g = 2.0 * sig - 1.0;
            values[i] = -z - crate::vecmath::ln_normal_with::<FMA>(si) - 2.0 * softplus;
            d_x[i] = g * inv;
            d_mu[i] = -g * inv;
            d_s[i] = -(z * g + 1.0) * inv;
        }
        ok
    }
}

impl<M, S> Logistic<M, S> {
    fn operands<'a, R: Real>(&'a self, x: Operand<'a, R>) -> [Operand<'a, R>; 3]
    where
        M: Param<R>,
        S: Param<R>,
    {
        [x, self.mu.operand(), self.s.operand()]
    }
}

impl<R: Real, M: Param<R>, S: Param<R>> Distribution<R> for Logistic<M, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        "Logistic"
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        param_batch_len(&["mu", "s"], &[self.mu.operand(), self.s.operand()])
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "mu", "s"], &ops)?;
        Ok(vectorized::sum(&LogisticKernel, &ops, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let ops = self.operands(x);
        let n = broadcast_len(&["x", "mu", "s"], &ops)?;
        vectorized::pointwise(&LogisticKernel, &ops, n, out);
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (mu, s) = (self.mu.operand(), self.s.operand());
        for i in 0..n {
            // Inverse CDF: the logit of a uniform.
            let u: f64 = rand_distr::Open01.sample(rng);
            out.push(mu.value(i) + s.value(i) * (u / (1.0 - u)).ln());
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, M: Param<R>, S: Param<R>> ElementValue<R> for Logistic<M, S> {
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
    use std::f64::consts::PI;

    proptest! {
        #[test]
        fn log_density_matches_closed_form(
            mu in -10.0f64..10.0,
            s in 0.05f64..20.0,
            x in -30.0f64..30.0,
        ) {
            let ours = lpdf(&Logistic::new(mu, s).unwrap(), x);
            // p(x) = 1 / (4s cosh²(z/2)).
            let z = (x - mu) / s;
            let theirs = -(4.0 * s).ln() - 2.0 * (0.5 * z).cosh().ln();
            prop_assert!(
                (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{ours} vs {theirs}"
            );
        }
    }

    struct Scalars;
    impl ScalarFamily for Scalars {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Logistic::new(a[1], a[2])
                .unwrap()
                .log_density(Param::<R>::operand(&a[0]))
                .unwrap()
        }
    }

    struct SliceX;
    impl ScalarFamily for SliceX {
        fn log_density<R: Real>(&self, a: &[R]) -> R {
            Logistic::new(a[3], a[4])
                .unwrap()
                .log_density(Param::<R>::operand(&&a[0..3]))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(&Scalars, &[1.3, 0.5, 0.7], 1e-5);
        check_gradients(&Scalars, &[-30.0, 1.0, 2.5], 1e-5);
        check_gradients(&SliceX, &[0.4, -1.1, 2.7, 0.3, 1.8], 1e-5);
    }

    #[test]
    fn samples_match_moments_and_cdf() {
        let (mu, s) = (2.0, 0.7);
        let d = Logistic::new(mu, s).unwrap();
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(13), 20_000, &mut xs);
        check_moments(&xs, mu, s * s * PI * PI / 3.0);
        check_ks(&mut xs, |x| sigmoid((x - mu) / s));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert_eq!(
            Logistic::new(f64::INFINITY, 1.0).unwrap_err().parameter,
            "mu"
        );
        assert_eq!(Logistic::new(0.0, 0.0).unwrap_err().parameter, "s");
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::dist::testing::check_columns_path;

    #[test]
    fn columns_path_matches_the_element_path() {
        let x: Vec<f64> = (0..40).map(|i| (i as f64 * 0.7).sin() * 6.0).collect();
        check_columns_path(|p| Logistic::new(p[0], p[1]).unwrap(), &[0.3, 0.8], &x);
    }
}
