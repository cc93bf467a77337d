//! Hand-written log-densities shared by the sampler tests.
#![allow(dead_code)]

use ppl_infer::LogDensity;

/// A standard normal in `dim` dimensions.
pub struct StdNormal(pub usize);

impl LogDensity for StdNormal {
    fn dim(&self) -> usize {
        self.0
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
    }
    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
        for (g, v) in grad.iter_mut().zip(x) {
            *g = -v;
        }
        self.logp(x)
    }
}

/// A 2-d Gaussian with mean `mean`, standard deviations `sd` and correlation `rho`.
pub struct Correlated {
    pub mean: [f64; 2],
    pub sd: [f64; 2],
    pub rho: f64,
}

impl Correlated {
    /// The precision matrix.
    fn precision(&self) -> [[f64; 2]; 2] {
        let [s0, s1] = self.sd;
        let det = s0 * s0 * s1 * s1 * (1.0 - self.rho * self.rho);
        let c = self.rho * s0 * s1;
        [[s1 * s1 / det, -c / det], [-c / det, s0 * s0 / det]]
    }
}

impl LogDensity for Correlated {
    fn dim(&self) -> usize {
        2
    }
    fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
        let mut g = [0.0; 2];
        self.logp_grad(x, &mut g)
    }
    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
        let p = self.precision();
        let d = [x[0] - self.mean[0], x[1] - self.mean[1]];
        let pd = [
            p[0][0] * d[0] + p[0][1] * d[1],
            p[1][0] * d[0] + p[1][1] * d[1],
        ];
        grad[0] = -pd[0];
        grad[1] = -pd[1];
        Ok(-0.5 * (d[0] * pd[0] + d[1] * pd[1]))
    }
}
