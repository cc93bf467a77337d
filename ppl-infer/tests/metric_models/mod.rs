//! Log-densities of the metric tests and the efficiency measurement: eight schools
//! (non-centred, as `examples/eight_schools.rs`) and ANCHORS.md's gauss100.
#![allow(dead_code)]

use ppl_infer::diagnostics::ess_bulk;
use ppl_infer::{LogDensity, Trace};

/// Eight schools, non-centred, on the unconstrained scale `(mu, log tau, theta_raw[8])`:
/// `mu ~ N(0, 5)`, `tau ~ HalfCauchy(5)`, `theta_raw ~ N(0, 1)`,
/// `y ~ N(mu + tau·theta_raw, sigma)`, with the log-Jacobian of `tau = exp(u)`.
pub struct EightSchools;

pub const Y: [f64; 8] = [28., 8., -3., 7., -1., 1., 18., 12.];
pub const SIGMA: [f64; 8] = [15., 10., 16., 11., 9., 11., 10., 18.];

impl LogDensity for EightSchools {
    fn dim(&self) -> usize {
        10
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        let mut g = [0.0; 10];
        self.logp_grad(x, &mut g)
    }
    fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
        let (mu, u) = (x[0], x[1]);
        let tau = u.exp();
        let t = tau / 5.0;
        let mut lp = -mu * mu / 50.0 - (1.0 + t * t).ln() + u;
        g[0] = -mu / 25.0;
        let mut d_tau = -2.0 * t / 5.0 / (1.0 + t * t);
        for j in 0..8 {
            let th = x[2 + j];
            let r = (Y[j] - mu - tau * th) / SIGMA[j];
            lp += -0.5 * th * th - 0.5 * r * r;
            let r_s = r / SIGMA[j];
            g[0] += r_s;
            d_tau += r_s * th;
            g[2 + j] = -th + r_s * tau;
        }
        g[1] = tau * d_tau + 1.0;
        Ok(lp)
    }
}

/// The posteriordb parameter set of eight schools (mu, tau, theta) from a draw.
pub fn eight_schools_quantities(x: &[f64]) -> Vec<f64> {
    let tau = x[1].exp();
    let mut out = vec![x[0], tau];
    out.extend((0..8).map(|j| x[0] + tau * x[2 + j]));
    out
}

/// ANCHORS.md's gauss100: `x ~ N(mu, Sigma)` in 100 dimensions, `Sigma = D R D` with
/// `R_ij = 0.5^|i−j|`, `sd` log-spaced 0.1..10, `mu = linspace(−5, 5)`. The AR(1)
/// correlation has a tridiagonal precision, so the gradient is O(d).
pub struct Gauss100 {
    pub mu: Vec<f64>,
    pub sd: Vec<f64>,
    pub rho: f64,
}

impl Gauss100 {
    pub fn new() -> Self {
        let d = 100;
        Gauss100 {
            mu: (0..d).map(|i| -5.0 + 10.0 * i as f64 / 99.0).collect(),
            sd: (0..d)
                .map(|i| 10f64.powf(-1.0 + 2.0 * i as f64 / 99.0))
                .collect(),
            rho: 0.5,
        }
    }
}

impl Default for Gauss100 {
    fn default() -> Self {
        Self::new()
    }
}

impl LogDensity for Gauss100 {
    fn dim(&self) -> usize {
        self.mu.len()
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        let mut g = vec![0.0; x.len()];
        self.logp_grad(x, &mut g)
    }
    fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
        // z = D⁻¹(x − mu); R⁻¹ = tridiag(−ρ, 1 + ρ² (1 at the ends), −ρ) / (1 − ρ²).
        let n = x.len();
        let rho = self.rho;
        let c = 1.0 / (1.0 - rho * rho);
        let z: Vec<f64> = (0..n).map(|i| (x[i] - self.mu[i]) / self.sd[i]).collect();
        let mut quad = 0.0;
        for i in 0..n {
            let diag = if i == 0 || i == n - 1 {
                1.0
            } else {
                1.0 + rho * rho
            };
            let mut w = diag * z[i];
            if i > 0 {
                w -= rho * z[i - 1];
            }
            if i + 1 < n {
                w -= rho * z[i + 1];
            }
            w *= c;
            quad += z[i] * w;
            g[i] = -w / self.sd[i];
        }
        Ok(-0.5 * quad)
    }
}

/// Per chain, the draws of the quantities `f(x)` for the recorded vector `x`; outer
/// index the quantity, then the chain.
pub fn derived(trace: &Trace, f: impl Fn(&[f64]) -> Vec<f64>) -> Vec<Vec<Vec<f64>>> {
    let dim = trace.num_columns();
    let mut out: Vec<Vec<Vec<f64>>> = Vec::new();
    for (c, chain) in trace.chains().iter().enumerate() {
        for i in 0..chain.num_draws() {
            let x: Vec<f64> = (0..dim).map(|j| chain.column(j)[i]).collect();
            let values = f(&x);
            if out.is_empty() {
                out = vec![vec![Vec::new(); trace.chains().len()]; values.len()];
            }
            for (q, v) in values.into_iter().enumerate() {
                out[q][c].push(v);
            }
        }
    }
    out
}

/// Minimum bulk ESS over the quantities `f(x)`.
pub fn min_bulk_ess(trace: &Trace, f: impl Fn(&[f64]) -> Vec<f64>) -> f64 {
    derived(trace, f)
        .iter()
        .map(|chains| {
            let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            ess_bulk(&chains)
        })
        .fold(f64::INFINITY, f64::min)
}
