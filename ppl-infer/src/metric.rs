//! The metric (mass matrix) of the Hamiltonian dynamics and how warm-up adapts it.
//!
//! [`Metric`] is the user's choice in the [`Nuts`](crate::Nuts) builder:
//!
//! * [`Metric::Diagonal`]: Stan's windowed diagonal adaptation (`diag_e`): the inverse
//!   mass matrix is the regularised variance of the draws of each slow window
//!   (75/25/50 schedule with doubling windows).
//! * [`Metric::GradientDiagonal`]: gradient-informed diagonal adaptation, as nutpie does:
//!   the inverse mass matrix is `sqrt(var(draws) / var(gradients))` elementwise,
//!   estimated from overlapping windows that are updated after every warm-up draw, and
//!   initialised from the first gradient as `1/|∇ log p|`.
//! * [`Metric::Dense`]: Stan's windowed dense adaptation (`dense_e`): the regularised
//!   covariance of each slow window's draws.
//! * [`Metric::LowRank`]: nutpie's low-rank modified mass matrix: the gradient-informed
//!   diagonal corrected along the few directions where the posterior's covariance
//!   differs most from it, estimated from draws and gradients (`O(d·k)` per leapfrog
//!   step).
//! * [`Metric::Auto`] (the default): the low-rank metric where its correction pays for
//!   its cost, the gradient-informed diagonal elsewhere.
//!
//! Internally the sampler is generic over `EuclideanMetric`, so the diagonal metrics
//! pay nothing for the dense one.

use crate::hamiltonian::PhasePoint;
use rand::Rng;
use rand_distr::StandardNormal;

/// Which metric NUTS uses and how warm-up adapts it.
///
/// ```
/// use ppl_infer::{Metric, Nuts};
/// let nuts = Nuts::default().metric(Metric::Dense);
/// assert_eq!(nuts.metric_kind(), Metric::Dense);
/// assert_eq!(Metric::Diagonal.cmdstan_name(), "diag_e");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Metric {
    /// Stan's windowed diagonal adaptation from the draws' variances.
    Diagonal,
    /// nutpie's gradient-informed diagonal adaptation: `sqrt(var(draws)/var(gradients))`.
    GradientDiagonal,
    /// Stan's windowed dense adaptation from the draws' covariance (cost O(d²) per
    /// leapfrog step: meant for a few hundred dimensions at most).
    Dense,
    /// nutpie's low-rank modified mass matrix: the gradient-informed diagonal plus a
    /// correction along the directions of strongest correlation, estimated from the
    /// draws and gradients of each adaptation window (cost `O(d·k)` per leapfrog step
    /// for `k` directions).
    LowRank,
    /// [`Metric::LowRank`] where the correction pays for its cost, else
    /// [`Metric::GradientDiagonal`]. The default. Each chain keeps a window's whole
    /// correction if it lowers the condition number of the scaled covariance at least
    /// tenfold, else only its stretched directions (those along which the posterior is
    /// wider than the diagonal metric says) if there are at most four; it stops
    /// estimating once a window without a correction gains less than fourfold (nearly
    /// uncorrelated parameters), contradicts a Gaussian (a funnel) or would cost too
    /// much to estimate (`d·min(d, 2n)² > 10⁸` for `d` dimensions and `n` window draws,
    /// about 0.1–0.2 s: from about a thousand dimensions on). A chain that never
    /// corrects follows exactly the trajectory of [`Metric::GradientDiagonal`].
    #[default]
    Auto,
}

impl Metric {
    /// The name CmdStan gives the metric's shape: `diag_e` or `dense_e` (the low-rank
    /// metrics are full matrices; the CSV writer gives a chain that ended without a
    /// correction, whose metric is diagonal, `diag_e`).
    ///
    /// ```
    /// use ppl_infer::Metric;
    /// assert_eq!(Metric::Diagonal.cmdstan_name(), "diag_e");
    /// assert_eq!(Metric::GradientDiagonal.cmdstan_name(), "diag_e");
    /// assert_eq!(Metric::Dense.cmdstan_name(), "dense_e");
    /// assert_eq!(Metric::LowRank.cmdstan_name(), "dense_e");
    /// assert_eq!(Metric::Auto.cmdstan_name(), "dense_e");
    /// ```
    pub fn cmdstan_name(self) -> &'static str {
        match self {
            Metric::Diagonal | Metric::GradientDiagonal => "diag_e",
            Metric::Dense | Metric::LowRank | Metric::Auto => "dense_e",
        }
    }

    /// A short name of the metric and its adaptation.
    ///
    /// The `Display` of a metric is its name.
    ///
    /// ```
    /// use ppl_infer::Metric;
    /// let names = [Metric::Diagonal, Metric::GradientDiagonal, Metric::Dense, Metric::LowRank, Metric::Auto]
    ///     .map(Metric::name);
    /// assert_eq!(names, ["diagonal", "gradient-diagonal", "dense", "low-rank", "auto"]);
    /// assert_eq!(Metric::LowRank.to_string(), "low-rank");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Metric::Diagonal => "diagonal",
            Metric::GradientDiagonal => "gradient-diagonal",
            Metric::Dense => "dense",
            Metric::LowRank => "low-rank",
            Metric::Auto => "auto",
        }
    }
}

/// The metric's [`name`](Metric::name).
///
/// ```
/// use ppl_infer::Metric;
/// assert_eq!(format!("{}", Metric::GradientDiagonal), "gradient-diagonal");
/// assert_eq!(Metric::default().to_string(), "auto");
/// ```
impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// A Euclidean metric: kinetic energy `½ pᵀ M⁻¹ p`, momenta `p ~ N(0, M)`.
pub(crate) trait EuclideanMetric {
    /// Kinetic energy `½ pᵀ M⁻¹ p`.
    fn kinetic_energy(&self, p: &[f64]) -> f64;

    /// The velocity `M⁻¹ p` written into `out`.
    fn velocity(&self, p: &[f64], out: &mut [f64]);

    /// Draws a momentum `p ~ N(0, M)` into `p`.
    fn sample_momentum<G: Rng + ?Sized>(&self, rng: &mut G, p: &mut [f64]);

    /// The position update of a leapfrog step: `q += eps · M⁻¹ p`.
    fn drift(&self, eps: f64, p: &[f64], q: &mut [f64]);

    /// The diagonal of `M⁻¹` (what the trace records).
    fn inv_mass_diagonal(&self) -> Vec<f64>;

    /// The whole `M⁻¹`, row-major, for the metrics CmdStan calls `dense_e` (what their
    /// CSV files print); `None` for diagonal metrics.
    fn inv_mass_matrix(&self) -> Option<Vec<f64>> {
        None
    }

    /// Total energy `H = −log p(q) + ½ pᵀ M⁻¹ p`; +∞ where the log-density is not finite.
    fn energy(&self, z: &PhasePoint) -> f64 {
        let h = -z.logp + self.kinetic_energy(&z.p);
        if h.is_nan() {
            f64::INFINITY
        } else {
            h
        }
    }
}

/// A dense Euclidean metric: `M⁻¹` in full (row-major) and its lower Cholesky factor
/// `L` (`M⁻¹ = L Lᵀ`), with which momenta are drawn as `p = L⁻ᵀ z`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DenseMetric {
    dim: usize,
    /// `M⁻¹`, row-major, symmetric.
    inv_mass: Vec<f64>,
    /// Lower-triangular Cholesky factor of `M⁻¹`, row-major.
    chol: Vec<f64>,
}

impl DenseMetric {
    /// The unit metric in `dim` dimensions.
    pub fn unit(dim: usize) -> Self {
        let mut inv_mass = vec![0.0; dim * dim];
        for i in 0..dim {
            inv_mass[i * dim + i] = 1.0;
        }
        DenseMetric {
            dim,
            chol: inv_mass.clone(),
            inv_mass,
        }
    }

    /// Replaces `M⁻¹` by the symmetric positive-definite `inv_mass` (row-major). Returns
    /// false, leaving the metric unchanged, when its Cholesky factorisation fails.
    pub fn set_inv_mass(&mut self, inv_mass: &[f64]) -> bool {
        let Some(chol) = cholesky(inv_mass, self.dim) else {
            return false;
        };
        self.inv_mass.copy_from_slice(inv_mass);
        self.chol = chol;
        true
    }
}

/// The lower Cholesky factor of the symmetric `n × n` matrix `a` (row-major), or `None`
/// when `a` is not (numerically) positive definite.
pub(crate) fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

impl EuclideanMetric for DenseMetric {
    fn kinetic_energy(&self, p: &[f64]) -> f64 {
        let n = self.dim;
        let mut total = 0.0;
        for (i, pi) in p.iter().enumerate() {
            let row = &self.inv_mass[i * n..(i + 1) * n];
            let v: f64 = row.iter().zip(p).map(|(a, p)| a * p).sum();
            total += pi * v;
        }
        0.5 * total
    }

    fn velocity(&self, p: &[f64], out: &mut [f64]) {
        let n = self.dim;
        for (i, o) in out.iter_mut().enumerate() {
            let row = &self.inv_mass[i * n..(i + 1) * n];
            *o = row.iter().zip(p).map(|(a, p)| a * p).sum();
        }
    }

    fn sample_momentum<G: Rng + ?Sized>(&self, rng: &mut G, p: &mut [f64]) {
        let n = self.dim;
        for v in p.iter_mut() {
            *v = rng.sample(StandardNormal);
        }
        // Back substitution: Lᵀ p = z.
        for i in (0..n).rev() {
            let mut s = p[i];
            for (k, pk) in p.iter().enumerate().skip(i + 1) {
                s -= self.chol[k * n + i] * pk;
            }
            p[i] = s / self.chol[i * n + i];
        }
    }

    fn drift(&self, eps: f64, p: &[f64], q: &mut [f64]) {
        let n = self.dim;
        for (i, q) in q.iter_mut().enumerate() {
            let row = &self.inv_mass[i * n..(i + 1) * n];
            let v: f64 = row.iter().zip(p).map(|(a, p)| a * p).sum();
            *q += eps * v;
        }
    }

    fn inv_mass_diagonal(&self) -> Vec<f64> {
        (0..self.dim)
            .map(|i| self.inv_mass[i * self.dim + i])
            .collect()
    }

    fn inv_mass_matrix(&self) -> Option<Vec<f64>> {
        Some(self.inv_mass.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppl_core::model::rng_for;

    #[test]
    fn the_name_honours_width_and_alignment() {
        assert_eq!(format!("[{:>7}]", Metric::Dense), "[  dense]");
        assert_eq!(format!("[{:<7}]", Metric::Dense), "[dense  ]");
    }

    #[test]
    fn cholesky_reconstructs_and_rejects_indefinite_matrices() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let l = cholesky(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((v - a[i * 3 + j]).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
        let mut m = DenseMetric::unit(2);
        assert!(!m.set_inv_mass(&[1.0, 2.0, 2.0, 1.0]));
        assert_eq!(m, DenseMetric::unit(2));
    }

    #[test]
    fn dense_momenta_have_the_mass_matrix_as_covariance() {
        // M⁻¹ = [[2, 0.8], [0.8, 1]] ⇒ M = [[1, −0.8], [−0.8, 2]] / 1.36.
        let mut metric = DenseMetric::unit(2);
        assert!(metric.set_inv_mass(&[2.0, 0.8, 0.8, 1.0]));
        let mut rng = rng_for(5, 0);
        let n = 200_000;
        let (mut s00, mut s01, mut s11) = (0.0, 0.0, 0.0);
        let mut p = [0.0; 2];
        for _ in 0..n {
            metric.sample_momentum(&mut rng, &mut p);
            s00 += p[0] * p[0];
            s01 += p[0] * p[1];
            s11 += p[1] * p[1];
        }
        let n = f64::from(n);
        assert!((s00 / n - 1.0 / 1.36).abs() < 0.01);
        assert!((s01 / n + 0.8 / 1.36).abs() < 0.01);
        assert!((s11 / n - 2.0 / 1.36).abs() < 0.02);
        // Kinetic energy, velocity and drift agree with M⁻¹.
        let p = [0.5, -1.0];
        assert!(
            (metric.kinetic_energy(&p) - 0.5 * (2.0 * 0.25 - 2.0 * 0.8 * 0.5 + 1.0)).abs() < 1e-12
        );
        let mut v = [0.0; 2];
        metric.velocity(&p, &mut v);
        assert_eq!(v, [2.0 * 0.5 - 0.8, 0.8 * 0.5 - 1.0]);
        let mut q = [1.0, 1.0];
        metric.drift(0.5, &p, &mut q);
        assert_eq!(q, [1.0 + 0.5 * v[0], 1.0 + 0.5 * v[1]]);
        assert_eq!(metric.inv_mass_diagonal(), vec![2.0, 1.0]);
    }
}
