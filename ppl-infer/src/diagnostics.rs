//! Convergence diagnostics of Vehtari et al. (2021), computed as ArviZ 0.x computes them:
//! rank-normalised split R-hat, bulk and tail effective sample size, and the Monte-Carlo
//! standard errors of the mean and the standard deviation.
//!
//! Every function takes the draws of one scalar as one slice per chain (chains of unequal
//! length are cut to the shortest). Autocovariances come from an FFT; the effective sample
//! size uses Geyer's initial monotone sequence. Non-finite draws or fewer than 4 draws per
//! chain give NaN; R-hat needs at least 2 chains (NaN otherwise, as in ArviZ).
//!
//! ```
//! use ppl_infer::diagnostics::{ess_bulk, rhat};
//! // Two chains stuck in different places: R-hat far above 1.
//! let a: Vec<f64> = (0..100).map(|i| (i as f64 * 0.37).sin()).collect();
//! let b: Vec<f64> = a.iter().map(|x| x + 5.0).collect();
//! assert!(rhat(&[&a, &b]) > 1.5);
//! assert!(ess_bulk(&[&a, &b]) < 50.0);
//! ```

pub use crate::autocovariance::autocovariance;
pub use crate::rank_normalize::{normal_quantile, z_scale};

/// All diagnostics of one scalar, as a row of `arviz.summary` has them.
///
/// ```
/// use ppl_infer::diagnostics::{diagnostics, Diagnostics};
/// use rand::{Rng, SeedableRng};
/// use rand_distr::StandardNormal;
///
/// // Two chains of 500 independent standard-normal draws.
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let mut chain = || -> Vec<f64> { (0..500).map(|_| rng.sample(StandardNormal)).collect() };
/// let (a, b) = (chain(), chain());
/// let d: Diagnostics = diagnostics(&[&a, &b]);
/// assert!((d.r_hat - 1.0).abs() < 0.02, "{}", d.r_hat);
/// // Independent draws: the effective sample size is about the number of draws, and
/// // the standard error of the mean about 1/√1000 ≈ 0.032.
/// assert!(d.ess_bulk > 700.0 && d.ess_bulk < 1300.0, "{}", d.ess_bulk);
/// assert!(d.ess_tail > 500.0, "{}", d.ess_tail);
/// assert!((d.mcse_mean - 0.032).abs() < 0.006, "{}", d.mcse_mean);
/// // The standard error of the standard deviation is about 1/√2000 ≈ 0.022.
/// assert!((d.mcse_sd - 0.022).abs() < 0.006, "{}", d.mcse_sd);
///
/// // The same chain twice, the second shifted: they disagree, and R-hat says so.
/// let shifted: Vec<f64> = a.iter().map(|x| x + 3.0).collect();
/// assert!(diagnostics(&[&a, &shifted]).r_hat > 1.5);
/// // One chain is not enough for R-hat.
/// assert!(diagnostics(&[&a]).r_hat.is_nan());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diagnostics {
    /// Monte-Carlo standard error of the mean.
    pub mcse_mean: f64,
    /// Monte-Carlo standard error of the standard deviation.
    pub mcse_sd: f64,
    /// Bulk effective sample size (rank-normalised split chains).
    pub ess_bulk: f64,
    /// Tail effective sample size (minimum over the 5% and 95% quantile indicators).
    pub ess_tail: f64,
    /// Rank-normalised split R-hat (maximum of bulk and folded).
    pub r_hat: f64,
}

/// Chains cut to a common length, or `None` when they are unusable (no chain, fewer than
/// 4 draws, a non-finite value).
fn valid_chains<'a>(chains: &[&'a [f64]]) -> Option<Vec<&'a [f64]>> {
    valid_chains_with(chains, 4)
}

fn valid_chains_with<'a>(chains: &[&'a [f64]], min_draws: usize) -> Option<Vec<&'a [f64]>> {
    let n = chains.iter().map(|c| c.len()).min()?;
    if n < min_draws {
        return None;
    }
    let cut: Vec<&[f64]> = chains.iter().map(|c| &c[..n]).collect();
    cut.iter()
        .all(|c| c.iter().all(|x| x.is_finite()))
        .then_some(cut)
}

/// Splits every chain in two halves (the middle draw of an odd chain is dropped).
///
/// ```
/// use ppl_infer::diagnostics::split_chains;
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0];
/// let b = [6.0, 7.0, 8.0, 9.0];
/// // The first halves of all chains, then the second halves; `a`'s middle draw is dropped.
/// let split = split_chains(&[&a, &b]);
/// assert_eq!(split, [vec![1.0, 2.0], vec![6.0, 7.0], vec![4.0, 5.0], vec![8.0, 9.0]]);
/// ```
pub fn split_chains(chains: &[&[f64]]) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(2 * chains.len());
    for half in 0..2 {
        for c in chains {
            let h = c.len() / 2;
            out.push(if half == 0 {
                c[..h].to_vec()
            } else {
                c[c.len() - h..].to_vec()
            });
        }
    }
    out
}

fn as_slices(chains: &[Vec<f64>]) -> Vec<&[f64]> {
    chains.iter().map(Vec::as_slice).collect()
}

/// Effective sample size of the chains as given (no splitting or ranking): ArviZ's `_ess`.
///
/// ```
/// use ppl_infer::diagnostics::ess;
/// use rand::{Rng, SeedableRng};
/// use rand_distr::StandardNormal;
///
/// /// `chains` chains of `draws` draws of the AR(1) process
/// /// `x[t] = φ·x[t−1] + √(1 − φ²)·ε[t]`, each started in its stationary law N(0, 1).
/// fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
///     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
///     (0..chains)
///         .map(|_| {
///             let mut x: f64 = rng.sample(StandardNormal);
///             (0..draws)
///                 .map(|_| {
///                     let e: f64 = rng.sample(StandardNormal);
///                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
///                     x
///                 })
///                 .collect()
///         })
///         .collect()
/// }
///
/// let chains = ar1(1, 4, 5000, 0.5);
/// let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// // The autocorrelation at lag t is φᵗ, so ESS = N (1 − φ) / (1 + φ) = 20000 / 3 for
/// // N = 20000 draws and φ = 0.5. Over seeds the estimate scatters by about 4% (one
/// // standard deviation), with a longer lower tail: allow 20%.
/// let expected = 20_000.0 * (1.0 - 0.5) / (1.0 + 0.5);
/// let e = ess(&chains);
/// assert!((e / expected - 1.0).abs() < 0.2, "{e} vs {expected}");
///
/// // Constant chains: every draw counts. Fewer than 2 draws, or a non-finite one: NaN.
/// assert_eq!(ess(&[&[2.0; 10], &[2.0; 10]]), 20.0);
/// assert!(ess(&[&[1.0]]).is_nan());
/// assert!(ess(&[&[1.0, f64::NAN, 3.0]]).is_nan());
/// ```
pub fn ess(chains: &[&[f64]]) -> f64 {
    let Some(chains) = valid_chains_with(chains, 2) else {
        return f64::NAN;
    };
    let m = chains.len();
    let n = chains[0].len();
    let total = (m * n) as f64;
    let (lo, hi) = chains
        .iter()
        .flat_map(|c| c.iter())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        });
    if hi - lo < 1e-15 {
        return total;
    }
    let acov: Vec<Vec<f64>> = chains.iter().map(|c| autocovariance(c)).collect();
    let mean_acov = |t: usize| acov.iter().map(|a| a[t]).sum::<f64>() / m as f64;
    let nf = n as f64;
    let chain_means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / nf).collect();
    let mean_var = mean_acov(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        var_plus += variance(&chain_means);
    }
    let rho_at = |t: usize| 1.0 - (mean_var - mean_acov(t)) / var_plus;

    let mut rho = vec![0.0; n];
    let mut rho_even = 1.0;
    let mut rho_odd = rho_at(1);
    rho[0] = rho_even;
    rho[1] = rho_odd;
    // Geyer's initial positive sequence.
    let mut t = 1;
    while t + 3 < n && rho_even + rho_odd > 0.0 {
        rho_even = rho_at(t + 1);
        rho_odd = rho_at(t + 2);
        if rho_even + rho_odd >= 0.0 {
            rho[t + 1] = rho_even;
            rho[t + 2] = rho_odd;
        }
        t += 2;
    }
    // `max_t = t − 2` may be −1; index with `max_t + 1 = t − 1`.
    let max_t_plus_1 = t - 1;
    if rho_even > 0.0 {
        rho[max_t_plus_1] = rho_even;
    }
    // Geyer's initial monotone sequence.
    let mut t = 1;
    while t + 3 <= max_t_plus_1 {
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t] {
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0;
            rho[t + 2] = rho[t + 1];
        }
        t += 2;
    }
    let mut tau = -1.0 + 2.0 * rho[..max_t_plus_1].iter().sum::<f64>();
    if max_t_plus_1 < n {
        tau += rho[max_t_plus_1];
    }
    tau = tau.max(1.0 / total.log10());
    if rho.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    total / tau
}

/// Sample variance with `n − 1` in the denominator.
fn variance(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// ESS of the mean: split chains, no ranking.
///
/// ```
/// use ppl_infer::diagnostics::{ess, ess_mean, split_chains};
/// # use rand::{Rng, SeedableRng};
/// # use rand_distr::StandardNormal;
/// # fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
/// #     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
/// #     (0..chains)
/// #         .map(|_| {
/// #             let mut x: f64 = rng.sample(StandardNormal);
/// #             (0..draws)
/// #                 .map(|_| {
/// #                     let e: f64 = rng.sample(StandardNormal);
/// #                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
/// #                     x
/// #                 })
/// #                 .collect()
/// #         })
/// #         .collect()
/// # }
/// // `ar1(seed, chains, draws, φ)`: stationary AR(1) chains with unit variance (see `ess`).
/// let chains = ar1(2, 4, 5000, 0.8);
/// let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// // ESS = N (1 − φ) / (1 + φ) = 20000 / 9 ≈ 2222. Over seeds the estimate scatters by
/// // about 6% (one standard deviation), with a longer lower tail: allow 30%.
/// let expected = 20_000.0 * (1.0 - 0.8) / (1.0 + 0.8);
/// let e = ess_mean(&chains);
/// assert!((e / expected - 1.0).abs() < 0.3, "{e} vs {expected}");
/// // It is `ess` of the split chains.
/// let split = split_chains(&chains);
/// let split: Vec<&[f64]> = split.iter().map(Vec::as_slice).collect();
/// assert_eq!(e, ess(&split));
/// ```
pub fn ess_mean(chains: &[&[f64]]) -> f64 {
    match valid_chains(chains) {
        Some(c) => ess(&as_slices(&split_chains(&c))),
        None => f64::NAN,
    }
}

/// Bulk ESS: rank-normalised split chains.
///
/// ```
/// use ppl_infer::diagnostics::ess_bulk;
/// # use rand::{Rng, SeedableRng};
/// # use rand_distr::StandardNormal;
/// # fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
/// #     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
/// #     (0..chains)
/// #         .map(|_| {
/// #             let mut x: f64 = rng.sample(StandardNormal);
/// #             (0..draws)
/// #                 .map(|_| {
/// #                     let e: f64 = rng.sample(StandardNormal);
/// #                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
/// #                     x
/// #                 })
/// #                 .collect()
/// #         })
/// #         .collect()
/// # }
/// // `ar1(seed, chains, draws, φ)`: stationary AR(1) chains with unit variance (see `ess`).
/// let x = ar1(3, 4, 5000, 0.5);
/// let chains: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
/// // Normal draws: about the ESS of the mean, N (1 − φ) / (1 + φ) = 20000 / 3 (within
/// // 20%, as for `ess`: the estimate scatters by about 4% over seeds).
/// let bulk = ess_bulk(&chains);
/// assert!((bulk / (20_000.0 / 3.0) - 1.0).abs() < 0.2, "{bulk}");
/// // Only the ranks matter: an increasing transform leaves it exactly as it was.
/// let y: Vec<Vec<f64>> = x.iter().map(|c| c.iter().map(|v| v.exp()).collect()).collect();
/// let y: Vec<&[f64]> = y.iter().map(Vec::as_slice).collect();
/// assert_eq!(ess_bulk(&y), bulk);
/// ```
pub fn ess_bulk(chains: &[&[f64]]) -> f64 {
    match valid_chains(chains) {
        Some(c) => ess(&as_slices(&z_scale(&as_slices(&split_chains(&c))))),
        None => f64::NAN,
    }
}

/// ESS of the indicator `x ≤ q(prob)` on split chains.
///
/// ```
/// use ppl_infer::diagnostics::ess_quantile;
/// # use rand::{Rng, SeedableRng};
/// # use rand_distr::StandardNormal;
/// # fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
/// #     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
/// #     (0..chains)
/// #         .map(|_| {
/// #             let mut x: f64 = rng.sample(StandardNormal);
/// #             (0..draws)
/// #                 .map(|_| {
/// #                     let e: f64 = rng.sample(StandardNormal);
/// #                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
/// #                     x
/// #                 })
/// #                 .collect()
/// #         })
/// #         .collect()
/// # }
/// // `ar1(seed, chains, draws, φ)`: stationary AR(1) chains with unit variance (see `ess`).
/// let chains = ar1(4, 4, 5000, 0.5);
/// let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// // For a normal AR(1) process the indicator `x ≤ median` has autocorrelation
/// // (2/π)·asin(φᵗ) at lag t, so its ESS is N / (1 + 2 Σₜ (2/π)·asin(φᵗ)) ≈ 8669: more
/// // than the mean's 6667. Over seeds the estimate scatters by about 4%: allow 20%.
/// let phi: f64 = 0.5;
/// let rho: f64 = (1..60).map(|t| 2.0 / std::f64::consts::PI * phi.powi(t).asin()).sum();
/// let expected = 20_000.0 / (1.0 + 2.0 * rho);
/// let e = ess_quantile(&chains, 0.5);
/// assert!((e / expected - 1.0).abs() < 0.2, "{e} vs {expected}");
/// assert!(ess_quantile(&chains, 1.5).is_nan()); // no such quantile
/// ```
pub fn ess_quantile(chains: &[&[f64]], prob: f64) -> f64 {
    let Some(c) = valid_chains(chains) else {
        return f64::NAN;
    };
    if !(0.0..=1.0).contains(&prob) {
        return f64::NAN;
    }
    ess_below(&c, quantile_sorted(&pooled_sorted(&c), prob))
}

/// The draws of the chains pooled and sorted.
fn pooled_sorted(chains: &[&[f64]]) -> Vec<f64> {
    let mut pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
    pooled.sort_unstable_by(f64::total_cmp);
    pooled
}

/// ESS of the indicator `x ≤ q` on split chains (valid chains).
fn ess_below(chains: &[&[f64]], q: f64) -> f64 {
    let indicator: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.iter().map(|x| f64::from(u8::from(*x <= q))).collect())
        .collect();
    ess(&as_slices(&split_chains(&as_slices(&indicator))))
}

/// Tail ESS: the smaller of the 5% and 95% quantile ESS.
///
/// ```
/// use ppl_infer::diagnostics::{ess_quantile, ess_tail};
/// # use rand::{Rng, SeedableRng};
/// # use rand_distr::StandardNormal;
/// # fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
/// #     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
/// #     (0..chains)
/// #         .map(|_| {
/// #             let mut x: f64 = rng.sample(StandardNormal);
/// #             (0..draws)
/// #                 .map(|_| {
/// #                     let e: f64 = rng.sample(StandardNormal);
/// #                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
/// #                     x
/// #                 })
/// #                 .collect()
/// #         })
/// #         .collect()
/// # }
/// // `ar1(seed, chains, draws, φ)`: stationary AR(1) chains with unit variance (see `ess`);
/// // φ = 0 gives independent standard-normal draws.
/// let chains = ar1(5, 4, 5000, 0.0);
/// let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// let tail = ess_tail(&chains);
/// assert_eq!(tail, ess_quantile(&chains, 0.05).min(ess_quantile(&chains, 0.95)));
/// // Independent draws: about N = 20000. Being the smaller of two estimates it sits about
/// // 2% below, and scatters by about 2% over seeds: allow 15%.
/// assert!((tail / 20_000.0 - 1.0).abs() < 0.15, "{tail}");
/// ```
pub fn ess_tail(chains: &[&[f64]]) -> f64 {
    ess_quantile(chains, 0.05).min(ess_quantile(chains, 0.95))
}

/// The potential scale reduction of chains as given (ArviZ's `_rhat`).
fn rhat_basic(chains: &[&[f64]]) -> f64 {
    let n = chains[0].len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / n).collect();
    let within = chains.iter().map(|c| variance(c)).sum::<f64>() / chains.len() as f64;
    let between = n * variance(&means);
    ((between / within + n - 1.0) / n).sqrt()
}

/// Rank-normalised split R-hat: the larger of the bulk R-hat (ranks of the draws) and
/// the tail R-hat (ranks of the draws folded around their median).
///
/// ```
/// use ppl_infer::diagnostics::rhat;
/// # use rand::{Rng, SeedableRng};
/// # use rand_distr::StandardNormal;
/// # fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
/// #     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
/// #     (0..chains)
/// #         .map(|_| {
/// #             let mut x: f64 = rng.sample(StandardNormal);
/// #             (0..draws)
/// #                 .map(|_| {
/// #                     let e: f64 = rng.sample(StandardNormal);
/// #                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
/// #                     x
/// #                 })
/// #                 .collect()
/// #         })
/// #         .collect()
/// # }
/// fn slices(chains: &[Vec<f64>]) -> Vec<&[f64]> {
///     chains.iter().map(Vec::as_slice).collect()
/// }
/// // `ar1(seed, chains, draws, 0.0)`: independent standard-normal draws (see `ess`).
/// let chains = ar1(6, 4, 1000, 0.0);
/// // Chains that agree: R-hat − 1 is of the order of 1/n (below 0.004 over 1000 seeds).
/// let r = rhat(&slices(&chains));
/// assert!((r - 1.0).abs() < 0.005, "{r}");
/// // One chain shifted by one standard deviation: about 1.10, far above 1.01.
/// let mut shifted = chains.clone();
/// shifted[3].iter_mut().for_each(|x| *x += 1.0);
/// assert!(rhat(&slices(&shifted)) > 1.05);
/// // One chain three times as wide, with the same mean: the folded R-hat sees it (≈ 1.15).
/// let mut wide = chains.clone();
/// wide[0].iter_mut().for_each(|x| *x *= 3.0);
/// assert!(rhat(&slices(&wide)) > 1.05);
/// // One chain is not enough.
/// assert!(rhat(&slices(&chains[..1])).is_nan());
/// ```
pub fn rhat(chains: &[&[f64]]) -> f64 {
    let Some(c) = valid_chains(chains) else {
        return f64::NAN;
    };
    let ranked = z_scale(&as_slices(&split_chains(&c)));
    rank_rhat(&c, &ranked, quantile_sorted(&pooled_sorted(&c), 0.5))
}

/// [`rhat`] of valid chains given their rank-normalised split chains and their median.
fn rank_rhat(chains: &[&[f64]], ranked: &[Vec<f64>], median: f64) -> f64 {
    if chains.len() < 2 {
        return f64::NAN;
    }
    let folded: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.iter().map(|x| (x - median).abs()).collect())
        .collect();
    let folded = z_scale(&as_slices(&split_chains(&as_slices(&folded))));
    rhat_basic(&as_slices(ranked)).max(rhat_basic(&as_slices(&folded)))
}

/// Monte-Carlo standard error of the mean: `sd / √ess_mean`.
///
/// ```
/// use ppl_infer::diagnostics::{ess_mean, mcse_mean};
/// # use rand::{Rng, SeedableRng};
/// # use rand_distr::StandardNormal;
/// # fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
/// #     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
/// #     (0..chains)
/// #         .map(|_| {
/// #             let mut x: f64 = rng.sample(StandardNormal);
/// #             (0..draws)
/// #                 .map(|_| {
/// #                     let e: f64 = rng.sample(StandardNormal);
/// #                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
/// #                     x
/// #                 })
/// #                 .collect()
/// #         })
/// #         .collect()
/// # }
/// // `ar1(seed, chains, draws, φ)`: stationary AR(1) chains with unit variance (see `ess`).
/// let chains = ar1(7, 4, 5000, 0.5);
/// let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// let mcse = mcse_mean(&chains);
/// // The standard deviation of all draws over the square root of the ESS of the mean ...
/// let pooled: Vec<f64> = chains.iter().flat_map(|c| c.iter().copied()).collect();
/// let mean = pooled.iter().sum::<f64>() / 20_000.0;
/// let var = pooled.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 19_999.0;
/// assert!((mcse / (var / ess_mean(&chains)).sqrt() - 1.0).abs() < 1e-12);
/// // ... which for this process is √((1 + φ) / ((1 − φ) N)) = √(3 / 20000) ≈ 0.0122.
/// // Over seeds the estimate scatters by about 2%: allow 15%.
/// let expected = (3.0f64 / 20_000.0).sqrt();
/// assert!((mcse / expected - 1.0).abs() < 0.15, "{mcse} vs {expected}");
/// ```
pub fn mcse_mean(chains: &[&[f64]]) -> f64 {
    let Some(c) = valid_chains(chains) else {
        return f64::NAN;
    };
    let pooled: Vec<f64> = c.iter().flat_map(|c| c.iter().copied()).collect();
    (variance(&pooled) / ess_mean(&c)).sqrt()
}

/// Monte-Carlo standard error of the standard deviation, from the ESS of the squared
/// deviations (ArviZ ≥ 0.18, the posterior package).
///
/// ```
/// use ppl_infer::diagnostics::mcse_sd;
/// # use rand::{Rng, SeedableRng};
/// # use rand_distr::StandardNormal;
/// # fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
/// #     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
/// #     (0..chains)
/// #         .map(|_| {
/// #             let mut x: f64 = rng.sample(StandardNormal);
/// #             (0..draws)
/// #                 .map(|_| {
/// #                     let e: f64 = rng.sample(StandardNormal);
/// #                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
/// #                     x
/// #                 })
/// #                 .collect()
/// #         })
/// #         .collect()
/// # }
/// // `ar1(seed, chains, draws, 0.0)`: independent standard-normal draws (see `ess`).
/// let chains = ar1(8, 4, 5000, 0.0);
/// let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// // The standard deviation of N independent normal draws has standard error
/// // 1/√(2N) = 0.005 for N = 20000. Over seeds the estimate scatters by about 1.5%:
/// // allow 10%.
/// let expected = 1.0 / (2.0 * 20_000.0f64).sqrt();
/// let se = mcse_sd(&chains);
/// assert!((se / expected - 1.0).abs() < 0.1, "{se} vs {expected}");
/// // Constant chains have no standard deviation to estimate (NaN, as in ArviZ).
/// assert!(mcse_sd(&[&[1.0; 10], &[1.0; 10]]).is_nan());
/// ```
pub fn mcse_sd(chains: &[&[f64]]) -> f64 {
    let Some(c) = valid_chains(chains) else {
        return f64::NAN;
    };
    let total = (c.len() * c[0].len()) as f64;
    let mean = c.iter().flat_map(|c| c.iter()).sum::<f64>() / total;
    let sq: Vec<Vec<f64>> = c
        .iter()
        .map(|c| c.iter().map(|x| (x - mean).powi(2)).collect())
        .collect();
    let evar = sq.iter().flat_map(|c| c.iter()).sum::<f64>() / total;
    let ess = ess_mean(&as_slices(&sq));
    let fourth = sq.iter().flat_map(|c| c.iter()).map(|s| s * s).sum::<f64>() / total;
    let varvar = (fourth - evar * evar) / ess;
    (varvar / evar / 4.0).sqrt()
}

/// Every diagnostic of one scalar (the same numbers as the functions above, with the
/// sorting and rank normalisation they share done once).
///
/// ```
/// use ppl_infer::diagnostics::{diagnostics, ess_bulk, ess_tail, mcse_mean, mcse_sd, rhat};
/// # use rand::{Rng, SeedableRng};
/// # use rand_distr::StandardNormal;
/// # fn ar1(seed: u64, chains: usize, draws: usize, phi: f64) -> Vec<Vec<f64>> {
/// #     let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
/// #     (0..chains)
/// #         .map(|_| {
/// #             let mut x: f64 = rng.sample(StandardNormal);
/// #             (0..draws)
/// #                 .map(|_| {
/// #                     let e: f64 = rng.sample(StandardNormal);
/// #                     x = phi * x + (1.0 - phi * phi).sqrt() * e;
/// #                     x
/// #                 })
/// #                 .collect()
/// #         })
/// #         .collect()
/// # }
/// // `ar1(seed, chains, draws, φ)`: stationary AR(1) chains with unit variance (see `ess`).
/// let chains = ar1(9, 4, 1000, 0.5);
/// let chains: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
/// let d = diagnostics(&chains);
/// assert_eq!(d.ess_bulk, ess_bulk(&chains));
/// assert_eq!(d.ess_tail, ess_tail(&chains));
/// assert_eq!(d.r_hat, rhat(&chains));
/// assert_eq!(d.mcse_mean, mcse_mean(&chains));
/// assert_eq!(d.mcse_sd, mcse_sd(&chains));
/// ```
pub fn diagnostics(chains: &[&[f64]]) -> Diagnostics {
    diagnostics_sorted(chains, &pooled_sorted(chains))
}

/// [`diagnostics`] given the chains' draws pooled and sorted (by `f64::total_cmp`).
pub(crate) fn diagnostics_sorted(chains: &[&[f64]], sorted: &[f64]) -> Diagnostics {
    let Some(c) = valid_chains(chains) else {
        return Diagnostics {
            mcse_mean: f64::NAN,
            mcse_sd: f64::NAN,
            ess_bulk: f64::NAN,
            ess_tail: f64::NAN,
            r_hat: f64::NAN,
        };
    };
    // Chains cut to a common length pool differently from the draws given.
    let cut_sorted;
    let sorted = if c.iter().map(|c| c.len()).sum::<usize>() == sorted.len() {
        sorted
    } else {
        cut_sorted = pooled_sorted(&c);
        &cut_sorted
    };
    let ranked = z_scale(&as_slices(&split_chains(&c)));
    let ess_at = |prob: f64| ess_below(&c, quantile_sorted(sorted, prob));
    Diagnostics {
        mcse_mean: mcse_mean(&c),
        mcse_sd: mcse_sd(&c),
        ess_bulk: ess(&as_slices(&ranked)),
        ess_tail: ess_at(0.05).min(ess_at(0.95)),
        r_hat: rank_rhat(&c, &ranked, quantile_sorted(sorted, 0.5)),
    }
}

/// The `prob` quantile of sorted values with linear interpolation (R's type 7, NumPy's
/// default).
///
/// ```
/// use ppl_infer::diagnostics::quantile_sorted;
/// let xs = [1.0, 2.0, 3.0, 4.0];
/// // Position (n − 1)·p = 0.75: three quarters of the way from 1 to 2.
/// assert_eq!(quantile_sorted(&xs, 0.25), 1.75);
/// assert_eq!(quantile_sorted(&xs, 0.5), 2.5);
/// assert_eq!((quantile_sorted(&xs, 0.0), quantile_sorted(&xs, 1.0)), (1.0, 4.0));
/// assert!(quantile_sorted(&[], 0.5).is_nan());
/// // A probability outside [0, 1] has no quantile.
/// assert!(quantile_sorted(&xs, 1.5).is_nan() && quantile_sorted(&xs, -0.5).is_nan());
/// ```
pub fn quantile_sorted(sorted: &[f64], prob: f64) -> f64 {
    if sorted.is_empty() || !(0.0..=1.0).contains(&prob) {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * prob;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The energy Bayesian fraction of missing information of one chain (E-BFMI, Betancourt
/// 2016; Stan's and ArviZ's `bfmi`): the summed squared changes of the Hamiltonian
/// between successive draws over its summed squared deviations from the mean. Below 0.3
/// the momentum resampling cannot move the energy far enough between transitions, and
/// the chain explores the tails poorly (a funnel); NaN with fewer than two draws or
/// constant energy (samplers without one).
///
/// ```
/// use ppl_infer::diagnostics::bfmi;
/// // Changes 1, 1, 1 (squares summing to 3) against squared deviations summing to 5.
/// assert!((bfmi(&[1.0, 2.0, 3.0, 4.0]) - 0.6).abs() < 1e-12);
/// // Alternating energies change by more than they vary: above 1.
/// assert!((bfmi(&[0.0, 1.0, 0.0, 1.0]) - 3.0).abs() < 1e-12);
/// assert!(bfmi(&[2.0, 2.0, 2.0]).is_nan() && bfmi(&[1.0]).is_nan());
/// ```
pub fn bfmi(energy: &[f64]) -> f64 {
    let n = energy.len();
    if n < 2 {
        return f64::NAN;
    }
    let mean = energy.iter().sum::<f64>() / n as f64;
    let deviations = energy.iter().map(|e| (e - mean).powi(2)).sum::<f64>();
    let changes = energy
        .windows(2)
        .map(|w| (w[1] - w[0]).powi(2))
        .sum::<f64>();
    if deviations > 0.0 {
        changes / deviations
    } else {
        f64::NAN
    }
}

/// The narrowest interval holding `prob` of the sorted values (ArviZ's unimodal HDI).
///
/// ```
/// use ppl_infer::diagnostics::hdi_sorted;
/// // A long right tail: the narrowest interval spanning ⌊0.5 · 7⌋ = 3 gaps between
/// // sorted values lies where the values are dense, not around the median (0.3).
/// let skewed = [0.0, 0.1, 0.2, 0.3, 0.4, 5.0, 9.0];
/// assert_eq!(hdi_sorted(&skewed, 0.5), (0.0, 0.3));
/// // Evenly spaced values: all intervals of ⌊0.94 · 101⌋ = 94 gaps are as wide; the
/// // first one is returned.
/// let grid: Vec<f64> = (0..=100).map(f64::from).collect();
/// assert_eq!(hdi_sorted(&grid, 0.94), (0.0, 94.0));
/// assert!(hdi_sorted(&[], 0.94).0.is_nan());
/// // All the mass: the whole range; no mass, or more than all of it: no interval.
/// assert_eq!(hdi_sorted(&skewed, 1.0), (0.0, 9.0));
/// assert!(hdi_sorted(&skewed, 0.0).0.is_nan() && hdi_sorted(&skewed, 1.5).0.is_nan());
/// ```
pub fn hdi_sorted(sorted: &[f64], prob: f64) -> (f64, f64) {
    let n = sorted.len();
    if n == 0 || !(prob > 0.0 && prob <= 1.0) {
        return (f64::NAN, f64::NAN);
    }
    // ⌊prob · n⌋ gaps, at most the n − 1 there are.
    let width = ((prob * n as f64).floor() as usize).min(n - 1);
    let mut best = 0;
    for i in 1..n - width {
        if sorted[i + width] - sorted[i] < sorted[best + width] - sorted[best] {
            best = i;
        }
    }
    (sorted[best], sorted[best + width])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppl_core::model::rng_for;
    use rand_distr::{Distribution, StandardNormal};

    fn normal_chains(seed: u64, chains: usize, n: usize) -> Vec<Vec<f64>> {
        (0..chains)
            .map(|c| {
                let mut rng = rng_for(seed, c as u64);
                (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
            })
            .collect()
    }

    fn ar1_chains(seed: u64, chains: usize, n: usize, phi: f64) -> Vec<Vec<f64>> {
        (0..chains)
            .map(|c| {
                let mut rng = rng_for(seed, c as u64);
                let sd = (1.0 - phi * phi).sqrt();
                let mut x: f64 = StandardNormal.sample(&mut rng);
                (0..n)
                    .map(|_| {
                        let e: f64 = StandardNormal.sample(&mut rng);
                        x = phi * x + sd * e;
                        x
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn iid_draws_have_ess_near_n_and_rhat_near_one() {
        let chains = normal_chains(11, 4, 1000);
        let c = as_slices(&chains);
        let n = 4000.0;
        // For iid draws the ESS estimate has a relative sd of a few percent.
        for (name, e) in [
            ("bulk", ess_bulk(&c)),
            ("mean", ess_mean(&c)),
            ("tail", ess_tail(&c)),
        ] {
            assert!((e / n - 1.0).abs() < 0.15, "{name}: {e}");
        }
        let r = rhat(&c);
        assert!((r - 1.0).abs() < 0.01, "{r}");
    }

    #[test]
    fn ar1_chain_ess_matches_theory() {
        // ESS = n (1 − φ) / (1 + φ) for an AR(1) process.
        for phi in [0.5, 0.9] {
            let chains = ar1_chains(3, 4, 5000, phi);
            let c = as_slices(&chains);
            let expect = 20_000.0 * (1.0 - phi) / (1.0 + phi);
            let e = ess_mean(&c);
            assert!(
                (e / expect - 1.0).abs() < 0.15,
                "φ = {phi}: {e} vs {expect}"
            );
            let b = ess_bulk(&c);
            assert!(
                (b / expect - 1.0).abs() < 0.15,
                "φ = {phi}: bulk {b} vs {expect}"
            );
        }
    }

    #[test]
    fn shifted_chains_have_large_rhat() {
        let mut chains = normal_chains(2, 4, 500);
        for x in chains[3].iter_mut() {
            *x += 1.0;
        }
        assert!(rhat(&as_slices(&chains)) > 1.1);
        // A scale difference shows in the folded (tail) R-hat.
        let mut chains = normal_chains(2, 4, 500);
        for x in chains[0].iter_mut() {
            *x *= 4.0;
        }
        assert!(rhat(&as_slices(&chains)) > 1.05);
    }

    #[test]
    fn mcse_mean_of_iid_draws_is_sd_over_root_n() {
        let chains = normal_chains(8, 4, 1000);
        let c = as_slices(&chains);
        let m = mcse_mean(&c);
        assert!((m / (1.0 / 4000f64.sqrt()) - 1.0).abs() < 0.1, "{m}");
        // sd of the sample sd of n normal draws ≈ 1/√(2n).
        let s = mcse_sd(&c);
        assert!((s / (1.0 / 8000f64.sqrt()) - 1.0).abs() < 0.15, "{s}");
    }

    #[test]
    fn diagnostics_equal_the_separate_functions() {
        let continuous = ar1_chains(21, 4, 301, 0.6);
        // Rounded draws: many ties, with odd and even counts.
        let tied: Vec<Vec<f64>> = continuous
            .iter()
            .map(|c| c.iter().map(|x| (2.0 * x).round()).collect())
            .collect();
        // Chains of unequal length are cut to the shortest.
        let mut uneven = continuous.clone();
        uneven[1].truncate(250);
        for chains in [&continuous, &tied, &uneven] {
            let c: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
            let d = diagnostics(&c);
            let bits = |x: f64| x.to_bits();
            assert_eq!(bits(d.mcse_mean), bits(mcse_mean(&c)));
            assert_eq!(bits(d.mcse_sd), bits(mcse_sd(&c)));
            assert_eq!(bits(d.ess_bulk), bits(ess_bulk(&c)));
            assert_eq!(bits(d.ess_tail), bits(ess_tail(&c)));
            assert_eq!(bits(d.r_hat), bits(rhat(&c)));
            assert!(d.ess_bulk.is_finite() && d.r_hat.is_finite());
        }
        let one: Vec<&[f64]> = vec![&continuous[0]];
        assert!(diagnostics(&one).r_hat.is_nan());
        assert_eq!(
            diagnostics(&one).ess_bulk.to_bits(),
            ess_bulk(&one).to_bits()
        );
    }

    #[test]
    fn degenerate_input() {
        let constant = vec![2.0; 10];
        assert_eq!(ess(&[&constant, &constant]), 20.0);
        assert!(rhat(&[&constant, &constant]).is_nan());
        // ArviZ 0.x on four constant chains of 100 (`az.summary`): ess_bulk = ess_tail =
        // 400, mcse_mean 0, mcse_sd and r_hat NaN. The summary prints the same.
        let flat = vec![1.0; 100];
        let d = diagnostics(&[&flat, &flat, &flat, &flat]);
        assert_eq!((d.ess_bulk, d.ess_tail, d.mcse_mean), (400.0, 400.0, 0.0));
        assert!(d.mcse_sd.is_nan() && d.r_hat.is_nan());
        let short = [1.0, 2.0, 3.0];
        assert!(ess_bulk(&[&short]).is_nan());
        let with_nan = [1.0, f64::NAN, 3.0, 4.0, 5.0];
        assert!(ess_bulk(&[&with_nan]).is_nan());
        let one = normal_chains(1, 1, 100);
        assert!(rhat(&as_slices(&one)).is_nan());
        assert!(ess_bulk(&as_slices(&one)) > 0.0);
    }

    #[test]
    fn quantile_and_hdi() {
        let xs: Vec<f64> = (0..11).map(f64::from).collect();
        assert_eq!(quantile_sorted(&xs, 0.5), 5.0);
        assert!((quantile_sorted(&xs, 0.05) - 0.5).abs() < 1e-12);
        let skewed = [0.0, 0.1, 0.2, 0.3, 0.4, 5.0, 9.0];
        // floor(0.5 · 7) = 3: the narrowest span of 4 points.
        assert_eq!(hdi_sorted(&skewed, 0.5), (0.0, 0.3));
    }
}
