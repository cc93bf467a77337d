//! Hamiltonian dynamics: phase points, the diagonal metric, energy and the leapfrog step.
//!
//! The potential is the negative log-density, the kinetic energy is `½ pᵀ M⁻¹ p` with an
//! inverse mass matrix `M⁻¹` (the adapted posterior scales; any [`EuclideanMetric`]). A log-density or
//! gradient that is not finite makes the point's energy infinite, which the tree builder
//! reports as a divergence: no NaN ever reaches the sampler's state.

pub(crate) use crate::metric::EuclideanMetric;
use ppl_core::model::LogDensity;
use rand::Rng;
use rand_distr::StandardNormal;

/// A point in phase space: position, momentum, and the log-density and its gradient at
/// the position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PhasePoint {
    /// Position (unconstrained parameters).
    pub q: Vec<f64>,
    /// Momentum.
    pub p: Vec<f64>,
    /// Gradient of the log-density at `q`.
    pub grad: Vec<f64>,
    /// Log-density at `q`; −∞ when the model gave a non-finite value or gradient.
    pub logp: f64,
}

impl PhasePoint {
    /// A zero point of dimension `dim`.
    pub fn new(dim: usize) -> Self {
        PhasePoint {
            q: vec![0.0; dim],
            p: vec![0.0; dim],
            grad: vec![0.0; dim],
            logp: 0.0,
        }
    }

    /// Copies `other` into `self` without allocating.
    pub fn copy_from(&mut self, other: &PhasePoint) {
        self.q.copy_from_slice(&other.q);
        self.p.copy_from_slice(&other.p);
        self.grad.copy_from_slice(&other.grad);
        self.logp = other.logp;
    }
}

/// `Σ mᵢ pᵢ²` with four partial sums, so that the loop vectorises.
pub(crate) fn weighted_square_sum(m: &[f64], p: &[f64]) -> f64 {
    let n = m.len().min(p.len());
    let (m, p) = (&m[..n], &p[..n]);
    let mut acc = [0.0f64; 4];
    for (mc, pc) in m.chunks_exact(4).zip(p.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += mc[k] * pc[k] * pc[k];
        }
    }
    let tail = n / 4 * 4;
    let rest: f64 = m[tail..]
        .iter()
        .zip(&p[tail..])
        .map(|(m, p)| m * p * p)
        .sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest
}

/// A diagonal Euclidean metric: the inverse mass matrix is `diag(inv_mass)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalMetric {
    /// The diagonal of the inverse mass matrix (posterior variance estimates).
    pub inv_mass: Vec<f64>,
}

impl DiagonalMetric {
    /// The unit metric in `dim` dimensions.
    pub fn unit(dim: usize) -> Self {
        DiagonalMetric {
            inv_mass: vec![1.0; dim],
        }
    }
}

impl EuclideanMetric for DiagonalMetric {
    /// Kinetic energy `½ Σ inv_massᵢ pᵢ²`.
    fn kinetic_energy(&self, p: &[f64]) -> f64 {
        0.5 * weighted_square_sum(&self.inv_mass, p)
    }

    /// The velocity `M⁻¹ p` (Stan's "sharp" momentum, `∂K/∂p`), written into `out`.
    fn velocity(&self, p: &[f64], out: &mut [f64]) {
        for ((o, m), p) in out.iter_mut().zip(&self.inv_mass).zip(p) {
            *o = m * p;
        }
    }

    /// Draws a momentum `p ~ N(0, M)` into `p`.
    fn sample_momentum<G: Rng + ?Sized>(&self, rng: &mut G, p: &mut [f64]) {
        for (p, m) in p.iter_mut().zip(&self.inv_mass) {
            let z: f64 = rng.sample(StandardNormal);
            *p = z / m.sqrt();
        }
    }

    fn drift(&self, eps: f64, p: &[f64], q: &mut [f64]) {
        for ((q, p), m) in q.iter_mut().zip(p).zip(&self.inv_mass) {
            *q += eps * m * p;
        }
    }

    fn inv_mass_diagonal(&self) -> Vec<f64> {
        self.inv_mass.clone()
    }
}

/// Evaluates a log-density and its gradient, counting the evaluations.
pub(crate) struct GradientCounter<'a, D: LogDensity + ?Sized> {
    density: &'a D,
    /// Number of gradient evaluations so far.
    pub evaluations: u64,
}

impl<'a, D: LogDensity + ?Sized> GradientCounter<'a, D> {
    pub fn new(density: &'a D) -> Self {
        GradientCounter {
            density,
            evaluations: 0,
        }
    }

    /// Sets `z.logp` and `z.grad` at `z.q`. A non-finite value or gradient sets
    /// `z.logp = −∞` (infinite energy); an error from the model is returned.
    pub fn update(&mut self, z: &mut PhasePoint) -> Result<(), ppl_core::Error> {
        self.evaluations += 1;
        let lp = self.density.logp_grad(&z.q, &mut z.grad)?;
        z.logp = if lp.is_finite() && z.grad.iter().all(|g| g.is_finite()) {
            lp
        } else {
            f64::NEG_INFINITY
        };
        Ok(())
    }

    /// One leapfrog step of size `eps` (negative to integrate backwards in time).
    pub fn leapfrog<M: EuclideanMetric + ?Sized>(
        &mut self,
        z: &mut PhasePoint,
        metric: &M,
        eps: f64,
    ) -> Result<(), ppl_core::Error> {
        let half = 0.5 * eps;
        for (p, g) in z.p.iter_mut().zip(&z.grad) {
            *p += half * g;
        }
        metric.drift(eps, &z.p, &mut z.q);
        self.update(z)?;
        if z.logp.is_finite() {
            for (p, g) in z.p.iter_mut().zip(&z.grad) {
                *p += half * g;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `log p(x) = −½ Σ xᵢ² / sᵢ²`.
    struct Gaussian(Vec<f64>);
    impl LogDensity for Gaussian {
        fn dim(&self) -> usize {
            self.0.len()
        }
        fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
            Ok(-0.5
                * x.iter()
                    .zip(&self.0)
                    .map(|(x, s)| (x / s).powi(2))
                    .sum::<f64>())
        }
        fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
            for ((g, x), s) in g.iter_mut().zip(x).zip(&self.0) {
                *g = -x / (s * s);
            }
            self.logp(x)
        }
    }

    #[test]
    fn leapfrog_is_reversible_and_nearly_conserves_energy() {
        let density = Gaussian(vec![1.0, 2.0, 0.5]);
        let metric = DiagonalMetric {
            inv_mass: vec![1.0, 4.0, 0.25],
        };
        let mut counter = GradientCounter::new(&density);
        let mut z = PhasePoint::new(3);
        z.q.copy_from_slice(&[0.3, -1.0, 0.2]);
        z.p.copy_from_slice(&[0.5, 0.1, -2.0]);
        counter.update(&mut z).unwrap();
        let start = z.clone();
        let h0 = metric.energy(&z);
        for _ in 0..20 {
            counter.leapfrog(&mut z, &metric, 0.1).unwrap();
        }
        assert!((metric.energy(&z) - h0).abs() < 1e-2);
        for _ in 0..20 {
            counter.leapfrog(&mut z, &metric, -0.1).unwrap();
        }
        for (a, b) in z.q.iter().zip(&start.q) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(counter.evaluations, 41);
    }

    #[test]
    fn non_finite_gradient_gives_infinite_energy() {
        struct Bad;
        impl LogDensity for Bad {
            fn dim(&self) -> usize {
                1
            }
            fn logp(&self, _: &[f64]) -> ppl_core::Result<f64> {
                Ok(0.0)
            }
            fn logp_grad(&self, _: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
                g[0] = f64::NAN;
                Ok(0.0)
            }
        }
        let mut counter = GradientCounter::new(&Bad);
        let mut z = PhasePoint::new(1);
        counter.update(&mut z).unwrap();
        assert_eq!(DiagonalMetric::unit(1).energy(&z), f64::INFINITY);
    }
}
