//! Autocovariance of a chain by FFT (zero-padded radix-2), as ArviZ computes it.

/// In-place iterative radix-2 FFT (`inverse` without the 1/n scaling); `re.len()` must
/// be a power of two.
fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    // Twiddle factors e^(±2πik/n), k < n/2, computed once; level `len` uses every
    // (n/len)-th one.
    let base = sign * 2.0 * std::f64::consts::PI / n as f64;
    let twiddles: Vec<(f64, f64)> = (0..n / 2).map(|k| (base * k as f64).sin_cos()).collect();
    let mut len = 2;
    while len <= n {
        let stride = n / len;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (s, c) = twiddles[k * stride];
                let a = start + k;
                let b = a + len / 2;
                let tr = re[b] * c - im[b] * s;
                let ti = re[b] * s + im[b] * c;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
}

/// The biased autocovariance `γ(t) = (1/n) Σᵢ (xᵢ − x̄)(xᵢ₊ₜ − x̄)` for `t = 0..n`.
pub fn autocovariance(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let m = (2 * n).next_power_of_two();
    let mut re = vec![0.0; m];
    let mut im = vec![0.0; m];
    for (r, x) in re.iter_mut().zip(x) {
        *r = x - mean;
    }
    fft(&mut re, &mut im, false);
    for (r, i) in re.iter_mut().zip(im.iter_mut()) {
        *r = *r * *r + *i * *i;
        *i = 0.0;
    }
    fft(&mut re, &mut im, true);
    re.truncate(n);
    let scale = 1.0 / (m as f64 * n as f64);
    re.iter_mut().for_each(|r| *r *= scale);
    re
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_autocovariance_matches_the_direct_sum() {
        let x: Vec<f64> = (0..37)
            .map(|i| (0.7 * i as f64).sin() + 0.01 * (i * i) as f64)
            .collect();
        let x = &x;
        let n = x.len();
        let mean = x.iter().sum::<f64>() / n as f64;
        let fast = autocovariance(x);
        for t in 0..n {
            let direct: f64 = (0..n - t)
                .map(|i| (x[i] - mean) * (x[i + t] - mean))
                .sum::<f64>()
                / n as f64;
            assert!((fast[t] - direct).abs() < 1e-13, "{t}");
        }
    }
}
