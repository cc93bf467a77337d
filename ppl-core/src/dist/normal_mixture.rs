//! A finite mixture of normal distributions (PyMC's `NormalMixture`, Stan's `log_mix`
//! over normal densities).

use super::{Distribution, ElementValue, ParamError, Support};
use crate::linalg::sum_f64;
use crate::param::{check_param, Operand, Param, ParamValues};
use crate::scalar::{EvalMode, Real};
use crate::special::HALF_LN_2PI;
use crate::vecmath;
use crate::vectorized::{self, LengthMismatch};
use rand::{Rng, RngCore};
use rand_distr::Distribution as _;
use smallvec::{smallvec, SmallVec};

const NAME: &str = "NormalMixture";

/// How far the weights may sum from 1 (Stan's simplex tolerance).
const SIMPLEX_TOLERANCE: f64 = 1e-8;

/// Mixture of `K` normal components with weights `w`, means `mu` and standard deviations
/// `sigma`: `ln p(x) = ln Σₖ wₖ N(x | μₖ, σₖ)`.
///
/// `w` is a probability vector of length `K ≥ 1` (summing to 1); `mu` and `sigma` have
/// one element per component, or are scalars shared by all. Every element of the value
/// is an independent draw from the mixture. The log-density of all elements is one tape
/// node whose parents are the weights, means and scales (and the value, if it is a
/// variable); two components take a vectorised path with one exponential and one
/// logarithm per element.
///
/// ```
/// use ppl_core::dist::{Distribution, Normal, NormalMixture};
/// use ppl_core::param::Param;
/// let d = NormalMixture::new([0.3, 0.7], [-1.0, 2.0], [0.5, 1.5]).unwrap();
/// let x = [0.4, -1.2, 2.5];
/// let lp: f64 = d.log_density(Param::<f64>::operand(&&x[..])).unwrap();
/// let component = |m: f64, s: f64, x: f64| -> f64 {
///     Normal::new(m, s).unwrap().log_density(Param::<f64>::operand(&x)).unwrap().exp()
/// };
/// let want: f64 = x
///     .iter()
///     .map(|x| (0.3 * component(-1.0, 0.5, *x) + 0.7 * component(2.0, 1.5, *x)).ln())
///     .sum();
/// assert!((lp - want).abs() < 1e-12);
/// assert!(NormalMixture::new([0.3, 0.6], [-1.0, 2.0], 1.0).is_err()); // weights sum to 0.9
///
/// // The weights multiply densities (not log-densities) and `sigma` holds standard
/// // deviations; one element written out with the normal density by hand:
/// use std::f64::consts::PI;
/// let pdf = |m: f64, s: f64, x: f64| (-0.5 * ((x - m) / s).powi(2)).exp() / (s * (2.0 * PI).sqrt());
/// let lp1: f64 = d.log_density(Param::<f64>::operand(&0.4)).unwrap();
/// assert!((lp1 - (0.3 * pdf(-1.0, 0.5, 0.4) + 0.7 * pdf(2.0, 1.5, 0.4)).ln()).abs() < 1e-14);
/// // Each component's parameters are checked.
/// let err = NormalMixture::new([0.3, 0.7], [-1.0, 2.0], [0.5, 0.0]).unwrap_err();
/// assert_eq!((err.parameter, err.value), ("sigma", 0.0));
/// let err = NormalMixture::new([1.2, -0.2], [-1.0, 2.0], 1.0).unwrap_err();
/// assert_eq!((err.parameter, err.requirement), ("w", "must lie in [0, 1]"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NormalMixture<W, M, S> {
    w: W,
    mu: M,
    sigma: S,
}

impl<W: ParamValues, M: ParamValues, S: ParamValues> NormalMixture<W, M, S> {
    /// Builds the mixture; `w` must be a non-empty probability vector (each weight in
    /// `[0, 1]`, summing to 1 within 1e-8), `mu` finite and `sigma` positive, each a
    /// scalar or one element per component.
    pub fn new(w: W, mu: M, sigma: S) -> Result<Self, ParamError> {
        let Some(k) = w.param_len() else {
            return Err(ParamError::new(
                NAME,
                "w",
                "must be a weight vector (a slice), not a scalar",
                w.param_value(0),
            ));
        };
        if k == 0 {
            return Err(ParamError::new(
                NAME,
                "w",
                "must have at least one component",
                0.0,
            ));
        }
        check_param(NAME, "w", &w, "must lie in [0, 1]", |v| {
            (0.0..=1.0).contains(&v)
        })?;
        let sum: f64 = (0..k).map(|i| w.param_value(i)).sum();
        if (sum - 1.0).abs() > SIMPLEX_TOLERANCE {
            return Err(ParamError::new(NAME, "w", "must sum to 1", sum));
        }
        for (name, len) in [("mu", mu.param_len()), ("sigma", sigma.param_len())] {
            if let Some(len) = len {
                if len != k {
                    return Err(ParamError::new(
                        NAME,
                        name,
                        "must be a scalar or have one element per weight (length shown)",
                        len as f64,
                    ));
                }
            }
        }
        check_param(NAME, "mu", &mu, "must be finite", |_| true)?;
        check_param(NAME, "sigma", &sigma, "must be positive", |s| s > 0.0)?;
        Ok(NormalMixture { w, mu, sigma })
    }
}

/// The components' plain parameters.
struct Components {
    /// ln wₖ − ln σₖ − ½ ln 2π.
    offset: PerComponent,
    /// −ln σₖ − ½ ln 2π (the component's own log-density offset).
    density_offset: PerComponent,
    inv_sigma: PerComponent,
    mu: PerComponent,
}

/// One value per component, on the stack for up to four components (no allocation per
/// evaluation in the usual case).
type PerComponent = SmallVec<[f64; 4]>;

impl Components {
    fn new<R: Real>(w: &Operand<'_, R>, mu: &Operand<'_, R>, sigma: &Operand<'_, R>) -> Self {
        let k = w.len().unwrap_or(1);
        let density_offset: PerComponent =
            (0..k).map(|c| -sigma.value(c).ln() - HALF_LN_2PI).collect();
        Components {
            offset: (0..k)
                .map(|c| w.value(c).ln() + density_offset[c])
                .collect(),
            density_offset,
            inv_sigma: (0..k).map(|c| 1.0 / sigma.value(c)).collect(),
            mu: (0..k).map(|c| mu.value(c)).collect(),
        }
    }

    fn len(&self) -> usize {
        self.mu.len()
    }

    /// ln p(x) of one element, writing each component's responsibility
    /// `wₖ N(x | k) / p(x)` into `resp`.
    fn element(&self, x: f64, resp: &mut [f64]) -> f64 {
        let mut max = f64::NEG_INFINITY;
        for (c, r) in resp.iter_mut().enumerate() {
            let z = (x - self.mu[c]) * self.inv_sigma[c];
            *r = self.offset[c] - 0.5 * z * z;
            max = max.max(*r);
        }
        let mut total = 0.0;
        for r in resp.iter_mut() {
            *r = (*r - max).exp();
            total += *r;
        }
        for r in resp.iter_mut() {
            *r /= total;
        }
        max + total.ln()
    }
}

/// Per-component sums over the elements that the gradient needs:
/// `Σ rₖ`, `Σ rₖ zₖ`, `Σ rₖ zₖ²` (z standardised by component k).
#[derive(Default, Clone, Copy)]
struct Moments {
    r: f64,
    rz: f64,
    rz2: f64,
}

vecmath::simd_fn! {
    /// The two-component case over all elements: per element the log-density into
    /// `values`, the first component's responsibility into `resp` (the second's is
    /// `1 − resp`), and z₁, z₂ into `z1`, `z2`. One exponential and one logarithm per
    /// element, in a loop that vectorises.
    fn two_components(
        x: &[f64],
        params: &[f64; 6],
        values: &mut [f64],
        resp: &mut [f64],
        z1: &mut [f64],
        z2: &mut [f64],
    ) {
        let [offset1, offset2, mu1, mu2, inv1, inv2] = *params;
        let n = values.len();
        let (x, resp, z1, z2) = (&x[..n], &mut resp[..n], &mut z1[..n], &mut z2[..n]);
        for i in 0..n {
            let a = (x[i] - mu1) * inv1;
            let b = (x[i] - mu2) * inv2;
            let l1 = offset1 - 0.5 * a * a;
            let l2 = offset2 - 0.5 * b * b;
            // ln(e^l1 + e^l2) = l2 + softplus(l1 − l2); responsibility of 1 = σ(l1 − l2).
            let (softplus, sigmoid) = vecmath::ln_1p_exp_and_sigmoid_with::<FMA>(l1 - l2);
            values[i] = l2 + softplus;
            resp[i] = sigmoid;
            z1[i] = a;
            z2[i] = b;
        }
    }
}

impl<W, M, S> NormalMixture<W, M, S> {
    /// The summed log-density in plain values, with the gradient edges when taped.
    fn log_density_wide<R: Real>(
        &self,
        x: Operand<'_, R>,
        w: Operand<'_, R>,
        mu: Operand<'_, R>,
        sigma: Operand<'_, R>,
        n: usize,
    ) -> R {
        let comps = Components::new(&w, &mu, &sigma);
        let k = comps.len();
        let taping = R::MODE == EvalMode::Tape;
        let weights_positive = (0..k).all(|c| w.value(c) > 0.0);
        vectorized::with_columns::<6, _>(|[xb, values, resp, z1, z2, d_x]| {
            let xs = vectorized::column(&x, n, xb);
            let mut moments: SmallVec<[Moments; 4]> = smallvec![Moments::default(); k];
            let total;
            if k == 2 && weights_positive {
                for col in [&mut *values, &mut *resp, &mut *z1, &mut *z2] {
                    col.resize(n, 0.0);
                }
                let params = [
                    comps.offset[0],
                    comps.offset[1],
                    comps.mu[0],
                    comps.mu[1],
                    comps.inv_sigma[0],
                    comps.inv_sigma[1],
                ];
                two_components(xs, &params, values, resp, z1, z2);
                total = sum_f64(values);
                if taping {
                    let (r1, r2) = (sum_f64(resp), n as f64 - sum_f64(resp));
                    let (mut rz1, mut rz2, mut rzz1, mut rzz2) = (0.0, 0.0, 0.0, 0.0);
                    for i in 0..n {
                        let (r, a, b) = (resp[i], z1[i], z2[i]);
                        rz1 += r * a;
                        rzz1 += r * a * a;
                        rz2 += (1.0 - r) * b;
                        rzz2 += (1.0 - r) * b * b;
                    }
                    moments[0] = Moments {
                        r: r1,
                        rz: rz1,
                        rz2: rzz1,
                    };
                    moments[1] = Moments {
                        r: r2,
                        rz: rz2,
                        rz2: rzz2,
                    };
                    if !x.is_constant() {
                        d_x.extend((0..n).map(|i| {
                            -(resp[i] * z1[i] * comps.inv_sigma[0]
                                + (1.0 - resp[i]) * z2[i] * comps.inv_sigma[1])
                        }));
                    }
                }
            } else {
                let mut r: PerComponent = smallvec![0.0; k];
                let mut sum = 0.0;
                for xi in xs {
                    sum += comps.element(*xi, &mut r);
                    if taping {
                        let mut dx = 0.0;
                        for c in 0..k {
                            let z = (xi - comps.mu[c]) * comps.inv_sigma[c];
                            moments[c].r += r[c];
                            moments[c].rz += r[c] * z;
                            moments[c].rz2 += r[c] * z * z;
                            dx -= r[c] * z * comps.inv_sigma[c];
                        }
                        if !x.is_constant() {
                            d_x.push(dx);
                        }
                    }
                }
                total = sum;
            }
            R::record_wide(|edges| {
                if !taping || !total.is_finite() {
                    return total;
                }
                // ∂/∂wₖ = Σᵢ N(xᵢ | k)/p(xᵢ) = Σ rₖ / wₖ for positive weights; a zero
                // weight needs the densities themselves.
                let mut scratch: PerComponent = smallvec![0.0; k];
                let d_w: PerComponent = (0..k)
                    .map(|c| {
                        let wc = w.value(c);
                        if wc > 0.0 {
                            moments[c].r / wc
                        } else {
                            xs.iter()
                                .map(|xi| {
                                    let z = (xi - comps.mu[c]) * comps.inv_sigma[c];
                                    let ln_density = comps.density_offset[c] - 0.5 * z * z;
                                    (ln_density - comps.element(*xi, &mut scratch)).exp()
                                })
                                .sum()
                        }
                    })
                    .collect();
                let d_mu: PerComponent =
                    (0..k).map(|c| moments[c].rz * comps.inv_sigma[c]).collect();
                let d_sigma: PerComponent = (0..k)
                    .map(|c| (moments[c].rz2 - moments[c].r) * comps.inv_sigma[c])
                    .collect();
                vectorized::push_partials(edges, &w, &d_w);
                vectorized::push_partials(edges, &mu, &d_mu);
                vectorized::push_partials(edges, &sigma, &d_sigma);
                if !x.is_constant() {
                    vectorized::push_partials(edges, &x, d_x);
                }
                total
            })
        })
    }
}

/// `ln Σₖ wₖ N(x | μₖ, σₖ)` by the generic formula (forward-mode scalars).
fn generic_element<R: Real>(
    x: R,
    w: &Operand<'_, R>,
    mu: &Operand<'_, R>,
    sigma: &Operand<'_, R>,
    k: usize,
) -> R {
    let terms: Vec<R> = (0..k)
        .map(|c| {
            let s = sigma.lift(c);
            let z = (x - mu.lift(c)) / s;
            w.lift(c).ln() - s.ln() - HALF_LN_2PI - z * z * 0.5
        })
        .collect();
    crate::scalar::log_sum_exp(&terms)
}

impl<R: Real, W: Param<R>, M: Param<R>, S: Param<R>> Distribution<R> for NormalMixture<W, M, S> {
    type Value = R;

    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_len(&self) -> Result<Option<usize>, LengthMismatch> {
        Ok(None)
    }

    fn support(&self) -> Support<R> {
        Support::Real
    }

    fn log_density(&self, x: Operand<'_, R>) -> Result<R, LengthMismatch> {
        let (w, mu, sigma) = (self.w.operand(), self.mu.operand(), self.sigma.operand());
        let (mut wb, mut mb, mut sb) = (Vec::new(), Vec::new(), Vec::new());
        let (w, mu, sigma) = (
            w.materialize(&mut wb),
            mu.materialize(&mut mb),
            sigma.materialize(&mut sb),
        );
        let n = x.len().unwrap_or(1);
        let k = w.len().unwrap_or(1);
        if R::MODE == EvalMode::Dual {
            let mut total = R::constant(0.0);
            for i in 0..n {
                total += generic_element(x.lift(i), &w, &mu, &sigma, k);
            }
            return Ok(total);
        }
        Ok(self.log_density_wide(x, w, mu, sigma, n))
    }

    fn log_density_pointwise(
        &self,
        x: Operand<'_, R>,
        out: &mut Vec<f64>,
    ) -> Result<(), LengthMismatch> {
        let comps = Components::new(&self.w.operand(), &self.mu.operand(), &self.sigma.operand());
        let mut scratch: PerComponent = smallvec![0.0; comps.len()];
        for i in 0..x.len().unwrap_or(1) {
            out.push(comps.element(x.value(i), &mut scratch));
        }
        Ok(())
    }

    fn draw(&self, rng: &mut dyn RngCore, n: usize, out: &mut Vec<f64>) {
        let (w, mu, sigma) = (self.w.operand(), self.mu.operand(), self.sigma.operand());
        let k = w.len().unwrap_or(1);
        for _ in 0..n {
            // The component by inversion of the cumulative weights (the last positive
            // weight absorbs rounding), then a normal draw.
            let u: f64 = rng.gen();
            let mut acc = 0.0;
            let mut component = (0..k).rev().find(|&c| w.value(c) > 0.0).unwrap_or(0);
            for c in 0..k {
                acc += w.value(c);
                if u < acc {
                    component = c;
                    break;
                }
            }
            let z: f64 = rand_distr::StandardNormal.sample(rng);
            out.push(mu.value(component) + sigma.value(component) * z);
        }
    }

    fn value_from(xs: crate::dist::Values<R>) -> R {
        xs[0]
    }
}

impl<R: Real, W: Param<R>, M: Param<R>, S: Param<R>> ElementValue<R> for NormalMixture<W, M, S> {
    type Element = R;
    fn element_from(x: R) -> R {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::testing::{check_gradients, check_moments, test_rng, ScalarFamily};
    use crate::dist::Normal;
    use rand::Rng;

    fn normal_lp(m: f64, s: f64, x: f64) -> f64 {
        Normal::new(m, s)
            .unwrap()
            .log_density(Operand::<f64>::Scalar(x))
            .unwrap()
    }

    /// The mixture by its definition, `ln Σ wₖ exp(ln N(x | k))`, for each element.
    fn by_definition(w: &[f64], mu: &[f64], sigma: &[f64], x: &[f64]) -> f64 {
        x.iter()
            .map(|xi| {
                w.iter()
                    .zip(mu.iter().zip(sigma))
                    .map(|(wc, (m, s))| wc * normal_lp(*m, *s, *xi).exp())
                    .sum::<f64>()
                    .ln()
            })
            .sum()
    }

    fn data(n: usize) -> Vec<f64> {
        let mut rng = test_rng(3);
        (0..n).map(|_| rng.gen::<f64>() * 8.0 - 3.0).collect()
    }

    #[test]
    fn log_density_matches_the_definition() {
        let x = data(41);
        for (w, mu, sigma) in [
            (vec![0.3, 0.7], vec![-1.0, 2.0], vec![0.5, 1.5]),
            (vec![0.5, 0.5], vec![0.0, 0.0], vec![1.0, 3.0]),
            (
                vec![0.2, 0.3, 0.5],
                vec![-2.0, 0.5, 3.0],
                vec![0.7, 1.0, 0.4],
            ),
            (vec![1.0], vec![0.3], vec![2.0]),
            (vec![0.0, 1.0], vec![-1.0, 2.0], vec![0.5, 1.5]),
        ] {
            let d = NormalMixture::new(&w[..], &mu[..], &sigma[..]).unwrap();
            let lp: f64 = d.log_density(Operand::Data(&x)).unwrap();
            let want = by_definition(&w, &mu, &sigma, &x);
            assert!((lp - want).abs() <= 1e-11 * want.abs(), "{lp} vs {want}");
            let mut pointwise = Vec::new();
            Distribution::<f64>::log_density_pointwise(&d, Operand::Data(&x), &mut pointwise)
                .unwrap();
            let sum: f64 = pointwise.iter().sum();
            assert!((sum - want).abs() <= 1e-11 * want.abs());
        }
    }

    /// args = [w₀, μ₀, μ₁, σ₀, σ₁, x₀..] with w = [w₀, 1 − w₀].
    struct Two {
        n_x: usize,
        x_variable: bool,
    }
    impl ScalarFamily for Two {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let w = [args[0], R::constant(1.0) - args[0]];
            let data = data(self.n_x);
            let d = NormalMixture::new(&w[..], &args[1..3], &args[3..5]).unwrap();
            if self.x_variable {
                d.log_density(Operand::Slice(&args[5..])).unwrap()
            } else {
                d.log_density(Operand::Data(&data)).unwrap()
            }
        }
    }

    /// args = [w₀, w₁, μ₀, μ₁, μ₂, σ (shared)], w₂ = 1 − w₀ − w₁.
    struct Three;
    impl ScalarFamily for Three {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let w = [args[0], args[1], R::constant(1.0) - args[0] - args[1]];
            NormalMixture::new(&w[..], &args[2..5], args[5])
                .unwrap()
                .log_density(Operand::Data(&data(23)))
                .unwrap()
        }
    }

    #[test]
    fn gradients_agree() {
        check_gradients(
            &Two {
                n_x: 37,
                x_variable: false,
            },
            &[0.3, -1.0, 2.0, 0.6, 1.4],
            1e-6,
        );
        check_gradients(
            &Two {
                n_x: 0,
                x_variable: true,
            },
            &[0.8, 0.5, 1.0, 1.2, 0.9, 0.1, 2.2, -0.4],
            1e-6,
        );
        check_gradients(&Three, &[0.2, 0.5, -1.5, 0.0, 2.0, 1.1], 1e-6);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        assert!(NormalMixture::new(0.5, 0.0, 1.0).is_err());
        assert!(NormalMixture::new([0.5, 0.6], [0.0, 1.0], 1.0).is_err());
        assert!(NormalMixture::new([1.5, -0.5], [0.0, 1.0], 1.0).is_err());
        assert!(NormalMixture::new([0.5, 0.5], [0.0, 1.0, 2.0], 1.0).is_err());
        assert!(NormalMixture::new([0.5, 0.5], [0.0, 1.0], [1.0, 0.0]).is_err());
        assert!(NormalMixture::new([0.5, 0.5], [0.0, f64::NAN], 1.0).is_err());
        let empty: &[f64] = &[];
        assert!(NormalMixture::new(empty, 0.0, 1.0).is_err());
    }

    #[test]
    fn samples_match_moments() {
        // Mean Σ wμ = 0.3·(−1) + 0.7·2 = 1.1; variance Σ w(σ² + μ²) − mean².
        let d = NormalMixture::new([0.3, 0.7], [-1.0, 2.0], [0.5, 1.5]).unwrap();
        let var = 0.3 * (0.25 + 1.0) + 0.7 * (2.25 + 4.0) - 1.1 * 1.1;
        let mut xs = Vec::new();
        Distribution::<f64>::draw(&d, &mut test_rng(11), 20_000, &mut xs);
        check_moments(&xs, 1.1, var);
    }
}
