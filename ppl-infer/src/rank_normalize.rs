//! Rank normalisation: pooled ranks mapped to normal scores, and the normal quantile
//! function it needs.

use ppl_core::special::erfc;

/// The standard normal quantile function Φ⁻¹(p) (Acklam's approximation refined by one
/// Halley step: accurate to about 1e-15).
///
/// ```
/// use ppl_infer::diagnostics::normal_quantile;
/// let close = |x: f64, exact: f64| (x - exact).abs() <= 4e-15 * exact.abs();
/// assert!(close(normal_quantile(0.975), 1.959963984540054));
/// assert!(close(normal_quantile(0.025), -1.959963984540054));
/// assert!(close(normal_quantile(0.999), 3.090232306167813));
/// // Far in the tail as well.
/// assert!(close(normal_quantile(1e-10), -6.361340902404056));
/// assert_eq!(normal_quantile(0.5), 0.0);
/// assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
/// assert_eq!(normal_quantile(1.0), f64::INFINITY);
/// assert!(normal_quantile(1.5).is_nan());
/// ```
pub fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.38357751867269e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    const P_LOW: f64 = 0.02425;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - P_LOW {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // One Halley step on Φ(x) − p, with Φ from erfc (accurate in both tails).
    let e = if x < 0.0 {
        0.5 * erfc(-x / std::f64::consts::SQRT_2) - p
    } else {
        (1.0 - p) - 0.5 * erfc(x / std::f64::consts::SQRT_2)
    };
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (0.5 * x * x).exp();
    x - u / (1.0 + 0.5 * x * u)
}

/// Ranks of all values together (ties get their average rank, 1-based), mapped to normal
/// scores `Φ⁻¹((r − 3/8) / (S + 1/4))`, in the same chain layout.
///
/// ```
/// use ppl_infer::diagnostics::{normal_quantile, z_scale};
/// // Pooled ranks: 1 → 1, 2 → 2, 3 → 3, 10 → 4, of S = 4 values.
/// let z = z_scale(&[&[3.0, 1.0], &[10.0, 2.0]]);
/// let score = |r: f64| normal_quantile((r - 0.375) / 4.25);
/// assert_eq!(z, [vec![score(3.0), score(1.0)], vec![score(4.0), score(2.0)]]);
/// // Ties share their average rank: 1.5 for the two 1s.
/// let tied = z_scale(&[&[1.0, 2.0, 1.0]]);
/// assert_eq!(tied[0][0], tied[0][2]);
/// assert_eq!(tied[0][0], normal_quantile((1.5 - 0.375) / 3.25));
/// ```
pub fn z_scale(chains: &[&[f64]]) -> Vec<Vec<f64>> {
    // (value, position in the pooled draws); the order among equal values does not
    // matter, as they share their average rank.
    let mut all: Vec<(f64, u32)> = chains
        .iter()
        .flat_map(|xs| xs.iter().copied())
        .zip(0u32..)
        .collect();
    all.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let size = all.len();
    let mut pooled = vec![0.0; size];
    SCORES.with(|cache| {
        let mut cache = cache.borrow_mut();
        let scores = cache.for_size(size);
        let mut start = 0;
        while start < size {
            let mut end = start + 1;
            while end < size && all[end].0 == all[start].0 {
                end += 1;
            }
            // Ranks start+1 ..= end share their average, an integer when their count
            // is odd (then its score is the table's).
            let z = if (end - start) % 2 == 1 {
                scores[(start + end) / 2]
            } else {
                score((start + 1 + end) as f64 / 2.0, size)
            };
            for &(_, i) in &all[start..end] {
                pooled[i as usize] = z;
            }
            start = end;
        }
    });
    let mut out = Vec::with_capacity(chains.len());
    let mut rest = pooled.as_slice();
    for c in chains {
        let (head, tail) = rest.split_at(c.len());
        out.push(head.to_vec());
        rest = tail;
    }
    out
}

/// The normal score of rank `r` among `size` values.
fn score(rank: f64, size: usize) -> f64 {
    normal_quantile((rank - 0.375) / (size as f64 + 0.25))
}

/// The normal scores of the integer ranks `1..=S` for the last size `S` asked for: a
/// summary rank-normalises every scalar's draws, all of the same count.
#[derive(Default)]
struct ScoreTable {
    scores: Vec<f64>,
}

impl ScoreTable {
    /// Scores of ranks `1..=size`, at indices `0..size`.
    fn for_size(&mut self, size: usize) -> &[f64] {
        if self.scores.len() != size {
            self.scores = (1..=size).map(|r| score(r as f64, size)).collect();
        }
        &self.scores
    }
}

thread_local! {
    static SCORES: std::cell::RefCell<ScoreTable> = std::cell::RefCell::new(ScoreTable::default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_matches_scipy() {
        // scipy.stats.norm.ppf.
        let reference = [
            (1e-300, -37.0470962993612),
            (1e-12, -7.034483825301131),
            (1e-5, -4.264890793922825),
            (0.01, -2.3263478740408408),
            (0.02425, -1.972961051311885),
            (0.1, -1.2815515655446004),
            (0.3, -0.5244005127080409),
            (0.975, 1.959963984540054),
        ];
        for (p, x) in reference {
            let ours = normal_quantile(p);
            assert!((ours - x).abs() < 4e-15 * x.abs(), "{p}: {ours} vs {x}");
            if p >= 1e-5 {
                assert!((normal_quantile(1.0 - p) + ours).abs() < 1e-9);
            }
        }
        assert_eq!(normal_quantile(0.5), 0.0);
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert!(normal_quantile(1.5).is_nan());
    }

    #[test]
    fn ties_share_their_average_rank() {
        let a = [3.0, 1.0, 2.0];
        let b = [2.0, 5.0, 0.0];
        let z = z_scale(&[&a, &b]);
        // Ranks: 0→1, 1→2, 2→3.5 (twice), 3→5, 5→6 of S = 6.
        let score = |r: f64| normal_quantile((r - 0.375) / 6.25);
        assert_eq!(z[0], vec![score(5.0), score(2.0), score(3.5)]);
        assert_eq!(z[1], vec![score(3.5), score(6.0), score(1.0)]);
    }
}
