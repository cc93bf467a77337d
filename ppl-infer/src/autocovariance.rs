//! Autocovariance of a chain by FFT (zero-padded to a power of two at least twice the
//! chain's length), as ArviZ computes it, with `realfft`'s real-input transforms.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;
use std::cell::RefCell;

thread_local! {
    /// Plans are cached per size: a summary computes tens of thousands of
    /// autocovariances of a handful of lengths.
    static PLANNER: RefCell<RealFftPlanner<f64>> = RefCell::new(RealFftPlanner::new());
}

/// The biased autocovariance `γ(t) = (1/n) Σᵢ (xᵢ − x̄)(xᵢ₊ₜ − x̄)` for `t = 0..n`.
///
/// ```
/// use ppl_infer::diagnostics::autocovariance;
/// // Mean 2.5, deviations (−1.5, −0.5, 0.5, 1.5): γ(0) = 5/4, γ(1) = (0.75 − 0.25 + 0.75)/4, …
/// let gamma = autocovariance(&[1.0, 2.0, 3.0, 4.0]);
/// let exact = [1.25, 0.3125, -0.375, -0.5625];
/// assert_eq!(gamma.len(), 4);
/// for (g, e) in gamma.iter().zip(exact) {
///     assert!((g - e).abs() < 1e-12, "{gamma:?}");
/// }
/// ```
pub fn autocovariance(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    // At least 2n − 1 points keep the circular correlation from wrapping around.
    let m = (2 * n).next_power_of_two();
    let (forward, inverse) = PLANNER.with(|p| {
        let mut p = p.borrow_mut();
        (p.plan_fft_forward(m), p.plan_fft_inverse(m))
    });
    let mut signal = vec![0.0; m];
    for (s, x) in signal.iter_mut().zip(x) {
        *s = x - mean;
    }
    let mut spectrum = forward.make_output_vec();
    if forward.process(&mut signal, &mut spectrum).is_err() {
        return vec![f64::NAN; n];
    }
    // |X(f)|²: real, so the inverse transform's input has the zero imaginary parts at
    // f = 0 and f = m/2 that a real output requires.
    for c in spectrum.iter_mut() {
        *c = Complex::new(c.norm_sqr(), 0.0);
    }
    if inverse.process(&mut spectrum, &mut signal).is_err() {
        return vec![f64::NAN; n];
    }
    signal.truncate(n);
    let scale = 1.0 / (m as f64 * n as f64);
    signal.iter_mut().for_each(|s| *s *= scale);
    signal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_autocovariance_matches_the_direct_sum() {
        for n in [1, 2, 37, 64, 500, 1000] {
            let x: Vec<f64> = (0..n)
                .map(|i| (0.7 * i as f64).sin() + 0.01 * (i * i) as f64 / n as f64)
                .collect();
            let mean = x.iter().sum::<f64>() / n as f64;
            let fast = autocovariance(&x);
            assert_eq!(fast.len(), n);
            for t in 0..n {
                let direct: f64 = (0..n - t)
                    .map(|i| (x[i] - mean) * (x[i + t] - mean))
                    .sum::<f64>()
                    / n as f64;
                assert!((fast[t] - direct).abs() < 1e-12, "n {n}, lag {t}");
            }
        }
        assert!(autocovariance(&[]).is_empty());
    }
}
