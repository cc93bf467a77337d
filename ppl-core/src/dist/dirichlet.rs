//! The Dirichlet distribution over probability vectors.

use super::{Distribution, ElementValue, ParamError, Support};
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::{digamma, ln_gamma};
use crate::vectorized::LengthMismatch;
use rand::RngCore;
use rand_distr::Distribution as _;

/// Dirichlet distribution with concentrations `alpha` (K > 0 values) over K-simplices:
/// `ln p(x) = ln Γ(Σα) − Σ ln Γ(αᵢ) + Σ (αᵢ − 1) ln xᵢ`.
///
/// Its support is the simplex (stick-breaking transform, K−1 unconstrained values). A
/// value is one event of K scalars or several stacked events, whose log-densities are
/// summed; values off the simplex (a negative entry, or a sum off 1 by more than 1e-8)
/// have log-density −∞.
///
/// ```
/// use ppl_core::dist::{Dirichlet, Distribution};
/// use ppl_core::param::Param;
/// let d = Dirichlet::new(&[1.0, 1.0, 1.0]).unwrap();
/// // Uniform on the 2-simplex, whose area (in the first two coordinates) is ½.
/// let lp: f64 = d.log_density(Param::<f64>::operand(&[0.2, 0.3, 0.5])).unwrap();
/// assert!((lp - 2.0_f64.ln()).abs() < 1e-12);
/// assert!(Dirichlet::new(&[1.0, 0.0]).is_err());
///
/// // The concentrations are not normalised (the mean is α/Σα). Written out at
/// // α = (2, 0.5, 3.5), x = (0.2, 0.3, 0.5):
/// use ppl_core::special::ln_gamma;
/// let (alpha, x) = ([2.0_f64, 0.5, 3.5], [0.2_f64, 0.3, 0.5]);
/// let d = Dirichlet::new(&alpha).unwrap();
/// let lp: f64 = d.log_density(Param::<f64>::operand(&x)).unwrap();
/// let want = ln_gamma(alpha.iter().sum())
///     + alpha.iter().zip(&x).map(|(a, xi)| (a - 1.0) * xi.ln() - ln_gamma(*a)).sum::<f64>();
/// assert!((lp - want).abs() < 1e-13);
/// // Off the simplex: a negative entry, or a sum other than 1.
/// for off in [[-0.1, 0.6, 0.5], [0.2, 0.3, 0.6]] {
///     let lp: f64 = d.log_density(Param::<f64>::operand(&off)).unwrap();
///     assert_eq!(lp, f64::NEG_INFINITY);
/// }
/// let err = Dirichlet::new(&[2.0, f64::NAN]).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("alpha", "must be finite"));
/// assert!(Dirichlet::new(2.0).is_err()); // a scalar: one concentration per category is needed
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Dirichlet<A> {
    alpha: A,
}

const NAME: &str = "Dirichlet";

/// Largest allowed `|Σx − 1|` for a value on the simplex.
const SIMPLEX_TOL: f64 = 1e-8;

impl<A: ParamValues> Dirichlet<A> {
    /// Builds the distribution; `alpha` must be a non-empty vector of positive values.
    pub fn new(alpha: A) -> Result<Self, ParamError> {
        match alpha.param_len() {
            None => {
                return Err(ParamError::new(
                    NAME,
                    "alpha",
                    "must be a vector (one concentration per category)",
                    alpha.param_value(0),
                ))
            }
            Some(0) => {
                return Err(ParamError::new(NAME, "alpha", "must not be empty", 0.0));
            }
            Some(_) => {}
        }
        check_param(NAME, "alpha", &alpha, "must be positive", |a| a > 0.0)?;
        Ok(Dirichlet { alpha })
    }
}

impl<A> Dirichlet<A> {
    /// The number of categories K and the number of events in `x`.
    fn shape<R: Real>(&self, x: &Operand<'_, R>) -> Result<(usize, usize), LengthMismatch>
    where
        A: Param<R>,
    {
        let k = self.alpha.operand().len().unwrap_or(1);
        match x.len() {
            None if k == 1 => Ok((k, 1)),
            None => Err(LengthMismatch {
                argument: "x",
                found: 1,
                expected: k,
            }),
            Some(n) if n % k == 0 => Ok((k, n / k)),
            Some(n) => Err(LengthMismatch {
                argument: "x",
                found: n,
                expected: k,
            }),
        }
    }
}

/// Whether every event of `x` lies on the simplex.
fn on_simplex<R: Real>(x: &Operand<'_, R>, k: usize, n: usize) -> bool {
    (0..n).all(|e| {
        let mut sum = 0.0;
        for i in 0..k {
            let v = x.value(e * k + i);
            if v.is_nan() || v < 0.0 {
                return false;
            }
            sum += v;
        }
        (sum - 1.0).abs() <= SIMPLEX_TOL
    })
}

/// `(α − 1) ln x`, with `0 ln 0 = 0` (the uniform case at a vertex).
#[inline]
fn kernel_term(a: f64, x: f64) -> f64 {
    if a == 1.0 {
        0.0
    } else {
        (a - 1.0) * x.ln()
    }
}

impl<R: Real, A: Param<R>> Distribution<R> for Dirichlet<A> {
    type Value = Vec<R>;

    fn name(&self) -> &'static str {
        NAME
    }

    fn event_len(&self) -> usize {
        self.alpha.operand().len().unwrap_or(1)
    }

    fn event_shape(&self) -> Vec<usize> {
        vec![Distribution::<R>::event_len(self)]
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(None)
    }

    fn support(&self) -> Support<R> {
        Support::Simplex
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let (mut x_buf, mut alpha_buf) = (Vec::new(), Vec::new());
        let x = x.materialize(&mut x_buf);
        let (k, n) = self.shape(&x)?;
        if !on_simplex(&x, k, n) {
            return Ok(R::constant(f64::NEG_INFINITY));
        }
        let alpha = self.alpha.operand().materialize(&mut alpha_buf);
        let nf = n as f64;
        if R::MODE == EvalMode::Dual {
            let a0: R = (0..k).map(|i| alpha.lift(i)).sum();
            let mut norm = a0.ln_gamma();
            for i in 0..k {
                norm -= alpha.lift(i).ln_gamma();
            }
            let mut total = norm * nf;
            for e in 0..n {
                for i in 0..k {
                    let xi = x.lift(e * k + i);
                    if xi.value() == 0.0 && alpha.value(i) == 1.0 {
                        continue;
                    }
                    total += (alpha.lift(i) - 1.0) * xi.ln();
                }
            }
            return Ok(total);
        }
        // One wide node: ∂/∂xᵢ = (αᵢ − 1)/xᵢ, ∂/∂αᵢ = Σ_events ψ(α₀) − ψ(αᵢ) + ln xᵢ.
        let x_var = !x.is_constant();
        let a_var = !alpha.is_constant();
        Ok(R::record_wide(|w| {
            let a0: f64 = (0..k).map(|i| alpha.value(i)).sum();
            let mut total =
                nf * (ln_gamma(a0) - (0..k).map(|i| ln_gamma(alpha.value(i))).sum::<f64>());
            let mut sum_ln_x = vec![0.0; if a_var { k } else { 0 }];
            if x_var {
                w.reserve(n * k);
            }
            for e in 0..n {
                for i in 0..k {
                    let (a, xi) = (alpha.value(i), x.value(e * k + i));
                    total += kernel_term(a, xi);
                    if a_var {
                        sum_ln_x[i] += xi.ln();
                    }
                    if x_var {
                        if let Operand::Slice(s) = x {
                            let g = if a == 1.0 { 0.0 } else { (a - 1.0) / xi };
                            w.push(s[e * k + i].tape_index(), g);
                        }
                    }
                }
            }
            if let Operand::Scalar(s) = x {
                // k = 1: x = 1 always; the partial is (α − 1)/x.
                w.push(s.tape_index(), (alpha.value(0) - 1.0) / s.value());
            }
            if a_var {
                let psi0 = digamma(a0);
                match alpha {
                    Operand::Slice(s) => {
                        for i in 0..k {
                            let g = nf * (psi0 - digamma(alpha.value(i))) + sum_ln_x[i];
                            w.push(s[i].tape_index(), g);
                        }
                    }
                    Operand::Scalar(s) => {
                        // A scalar α means K = 1: ln Γ(α) − ln Γ(α) + (α − 1) ln x.
                        w.push(s.tape_index(), sum_ln_x[0]);
                    }
                    _ => {}
                }
            }
            total
        }))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let (k, n) = self.shape(&x)?;
        let alpha = self.alpha.operand();
        let a0: f64 = (0..k).map(|i| alpha.value(i)).sum();
        let norm = ln_gamma(a0) - (0..k).map(|i| ln_gamma(alpha.value(i))).sum::<f64>();
        for e in 0..n {
            let event = match x {
                Operand::Data(s) => Operand::Data(&s[e * k..(e + 1) * k]),
                Operand::IntData(s) => Operand::IntData(&s[e * k..(e + 1) * k]),
                Operand::Slice(s) => Operand::Slice(&s[e * k..(e + 1) * k]),
                scalar => scalar,
            };
            if !on_simplex(&event, k, 1) {
                out.push(f64::NEG_INFINITY);
                continue;
            }
            let lp: f64 = (0..k)
                .map(|i| kernel_term(alpha.value(i), event.value(i)))
                .sum();
            out.push(norm + lp);
        }
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let alpha = self.alpha.operand();
        let k = alpha.len().unwrap_or(1);
        // Gamma variates on the log scale: for α < 1, G = G' U^{1/α} with G' ~ Γ(α + 1)
        // avoids underflow to zero for small concentrations.
        let gammas: Vec<(rand_distr::Gamma<f64>, f64)> = (0..k)
            .map(|i| {
                let a = alpha.value(i);
                let shape = if a < 1.0 { a + 1.0 } else { a };
                let g = rand_distr::Gamma::new(shape, 1.0).expect("validated concentration");
                (g, if a < 1.0 { 1.0 / a } else { 0.0 })
            })
            .collect();
        let mut log_g = vec![0.0; k];
        for _ in 0..n / k {
            for (lg, (g, inv_a)) in log_g.iter_mut().zip(&gammas) {
                *lg = g.sample(rng).ln();
                if *inv_a > 0.0 {
                    let u: f64 = rand_distr::OpenClosed01.sample(rng);
                    *lg += u.ln() * inv_a;
                }
            }
            let m = log_g.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = log_g.iter().map(|v| (v - m).exp()).sum();
            out.extend(log_g.iter().map(|v| (v - m).exp() / total));
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> Vec<R> {
        xs.into_vec()
    }
}

impl<R: Real, A: Param<R>> ElementValue<R> for Dirichlet<A> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_moments, test_rng, ScalarFamily};
    use crate::transform::Transform;
    use statrs::distribution::Continuous;

    fn lp<D: Distribution<f64>>(d: &D, x: &[f64]) -> f64 {
        d.log_density(Operand::<f64>::Data(x)).unwrap()
    }

    #[test]
    fn matches_statrs() {
        for alpha in [
            vec![0.5, 2.0, 3.5],
            vec![1.0, 1.0],
            vec![7.0, 0.3, 1.2, 2.2],
        ] {
            let d = Dirichlet::new(&alpha).unwrap();
            let reference = statrs::distribution::Dirichlet::new(alpha.clone()).unwrap();
            let k = alpha.len();
            for seed in 0..5 {
                let mut x = Vec::new();
                Distribution::<f64>::draw(&d, &mut test_rng(seed), k, &mut x);
                let expected = reference.ln_pdf(&nalgebra::DVector::from_vec(x.clone()));
                assert!(
                    (lp(&d, &x) - expected).abs() < 1e-9 * expected.abs().max(1.0),
                    "alpha {alpha:?} x {x:?}: {} vs {expected}",
                    lp(&d, &x)
                );
            }
        }
    }

    #[test]
    fn several_events_and_pointwise() {
        let d = Dirichlet::new(vec![2.0, 3.0]).unwrap();
        let x = [0.3, 0.7, 0.6, 0.4];
        let total = lp(&d, &x);
        let each = lp(&d, &x[..2]) + lp(&d, &x[2..]);
        assert!((total - each).abs() < 1e-12);
        let mut pw = Vec::new();
        d.log_density_pointwise(Operand::<f64>::Data(&x), &mut pw)
            .unwrap();
        assert_eq!(pw.len(), 2);
        assert!((pw[0] + pw[1] - total).abs() < 1e-12);
        // Beta(2, 3) density at 0.3: 12 · 0.3 · 0.7².
        assert!((pw[0] - (12.0 * 0.3 * 0.49f64).ln()).abs() < 1e-12);
    }

    #[test]
    fn support_and_validation() {
        let d = Dirichlet::new(&[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(lp(&d, &[0.2, 0.3, 0.6]), f64::NEG_INFINITY);
        assert_eq!(lp(&d, &[-0.1, 0.6, 0.5]), f64::NEG_INFINITY);
        assert!((lp(&d, &[0.0, 0.5, 0.5]) - 2f64.ln()).abs() < 1e-12);
        let mut pw = Vec::new();
        d.log_density_pointwise(Operand::<f64>::Data(&[0.2, 0.3, 0.6]), &mut pw)
            .unwrap();
        assert_eq!(pw, vec![f64::NEG_INFINITY]);
        assert!(d.log_density(Operand::<f64>::Data(&[0.5, 0.5])).is_err());
        assert!(d.log_density(Operand::<f64>::Const(1.0)).is_err());
        assert_eq!(Distribution::<f64>::support(&d), Support::Simplex);
        assert_eq!(Distribution::<f64>::event_len(&d), 3);
        assert_eq!(Distribution::<f64>::event_shape(&d), vec![3]);
        assert_eq!(Distribution::<f64>::batch_len(&d), Ok(None));
        assert_eq!(
            Distribution::<f64>::support(&d).default_transform(),
            Transform::Simplex
        );
        assert_eq!(
            Dirichlet::new(2.0).unwrap_err().requirement,
            "must be a vector (one concentration per category)"
        );
        assert!(Dirichlet::new(Vec::<f64>::new()).is_err());
        assert!(Dirichlet::new(&[1.0, f64::NAN]).is_err());
        assert!(Dirichlet::new(&[1.0, -1.0]).is_err());
        // K = 1: the point mass at [1].
        let d1 = Dirichlet::new(&[2.5]).unwrap();
        assert_eq!(lp(&d1, &[1.0]), 0.0);
        let v: f64 = d1.log_density(Operand::<f64>::Const(1.0)).unwrap();
        assert_eq!(v, 0.0);
    }

    /// Density on the simplex composed with the stick-breaking transform, plus its
    /// log-Jacobian: arguments are K−1 unconstrained values then K concentrations.
    struct OnSimplex(usize);
    impl ScalarFamily for OnSimplex {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let k = self.0;
            let mut x = Vec::new();
            let lj = Transform::Simplex.constrain(&args[..k - 1], &mut x);
            let d = Dirichlet::new(&args[k - 1..]).unwrap();
            d.log_density(Operand::Slice(&x)).unwrap() + lj
        }
    }

    /// Constant data, variable concentrations (two events).
    struct VarAlpha;
    impl ScalarFamily for VarAlpha {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let d = Dirichlet::new(args).unwrap();
            d.log_density(Operand::Data(&[0.2, 0.5, 0.3, 0.1, 0.1, 0.8]))
                .unwrap()
        }
    }

    #[test]
    fn gradients() {
        check_gradients(&OnSimplex(3), &[0.3, -0.8, 0.7, 2.0, 3.5], 1e-6);
        check_gradients(&OnSimplex(4), &[1.3, 0.2, -0.5, 1.0, 1.0, 0.4, 5.0], 1e-6);
        check_gradients(&VarAlpha, &[0.7, 2.0, 3.5], 1e-6);
    }

    #[test]
    fn sampling_moments() {
        for alpha in [[2.0, 3.0, 5.0], [0.05, 0.2, 0.1]] {
            let d = Dirichlet::new(&alpha).unwrap();
            let n = 40_000;
            let mut out = Vec::new();
            Distribution::<f64>::draw(&d, &mut test_rng(11), 3 * n, &mut out);
            assert_eq!(out.len(), 3 * n);
            assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
            for e in out.chunks(3) {
                assert!((e.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
            let a0: f64 = alpha.iter().sum();
            for (i, a) in alpha.iter().enumerate() {
                let xs: Vec<f64> = out.iter().skip(i).step_by(3).copied().collect();
                let m = a / a0;
                check_moments(&xs, m, m * (1.0 - m) / (a0 + 1.0));
            }
        }
    }
}
