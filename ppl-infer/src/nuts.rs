//! The No-U-Turn transition: Stan's multinomial NUTS tree with biased progressive sampling.
//!
//! One transition draws a momentum, then doubles a trajectory in random directions until
//! the generalised U-turn criterion fails (checked across the whole trajectory and, as
//! Stan does, across the two halves extended by one point each), the maximum depth is
//! reached, or a divergence (energy error above [`MAX_ENERGY_ERROR`]) occurs. Within a
//! subtree the proposal is drawn multinomially; at the top level new subtrees are
//! preferred (biased progressive sampling). The code follows Stan's `base_nuts`
//! (Betancourt 2017, "A Conceptual Introduction to Hamiltonian Monte Carlo", appendix A).

use crate::hamiltonian::{EuclideanMetric, GradientCounter, PhasePoint};
use ppl_core::linalg::dot_f64 as dot;
use ppl_core::model::LogDensity;
use ppl_core::special::log_sum_exp2;
use rand::Rng;

/// A leapfrog step whose energy exceeds the initial energy by more than this diverges.
pub const MAX_ENERGY_ERROR: f64 = 1000.0;

/// Statistics of one NUTS transition (one draw), as Stan reports them.
///
/// ```
/// use ppl_infer::{sample_log_density, LogDensity, Nuts, SampleStats};
/// # struct StdNormal;
/// # impl LogDensity for StdNormal {
/// #     fn dim(&self) -> usize { 2 }
/// #     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
/// #         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// #     }
/// #     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
/// #         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
/// #         self.logp(x)
/// #     }
/// # }
/// // `StdNormal` is a standard normal in 2 dimensions (see `sample_log_density`).
/// let nuts = Nuts::default().chains(2).draws(200).tune(200).seed(7).max_depth(8).progress(false);
/// let trace = sample_log_density(&StdNormal, nuts)?;
/// let stats: &[SampleStats] = &trace.chains()[0].stats;
/// assert_eq!(stats.len(), 200);
/// for s in stats {
///     assert!(s.lp <= 0.0); // log p = −½|x|²
///     // The Hamiltonian is −log p plus a non-negative kinetic energy.
///     assert!(s.energy >= -s.lp);
///     assert!((0.0..=1.0).contains(&s.accept_stat));
///     assert!(s.tree_depth <= 8 && s.n_leapfrog >= 1 && !s.diverging);
/// }
/// // Warm-up tuned the step size towards a mean acceptance statistic of 0.8.
/// let mean_accept = stats.iter().map(|s| s.accept_stat).sum::<f64>() / 200.0;
/// assert!(mean_accept > 0.6, "{mean_accept}");
/// # Ok::<(), ppl_infer::SampleError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleStats {
    /// Log-density (with Jacobians) at the draw.
    pub lp: f64,
    /// Mean Metropolis acceptance probability over the trajectory's leapfrog steps.
    pub accept_stat: f64,
    /// Mean of the symmetric acceptance statistic `2 / (1 + exp|ΔH|)` over the
    /// trajectory's leapfrog steps: an energy error counts the same whichever its sign
    /// (nutpie's late step-size adaptation targets this one).
    pub accept_stat_sym: f64,
    /// Step size used.
    pub step_size: f64,
    /// Number of trajectory doublings that were kept.
    pub tree_depth: u32,
    /// Number of leapfrog steps (gradient evaluations) of the transition.
    pub n_leapfrog: u32,
    /// True when the trajectory ended in a divergence.
    pub diverging: bool,
    /// Hamiltonian (total energy) at the draw.
    pub energy: f64,
}

/// Momenta and velocities at the two ends of a subtree, its summed momentum (written,
/// not accumulated), its log sum of weights and its multinomial proposal: what a
/// subtree reports to its parent.
struct SubtreeOut<'a> {
    propose: &'a mut PhasePoint,
    p_sharp_beg: &'a mut [f64],
    p_sharp_end: &'a mut [f64],
    rho: &'a mut [f64],
    p_beg: &'a mut [f64],
    p_end: &'a mut [f64],
    log_sum_weight: &'a mut f64,
}

/// Scratch vectors for one level of the recursion (a subtree of depth ≥ 1).
#[derive(Debug, Clone)]
struct Level {
    p_init_end: Vec<f64>,
    p_sharp_init_end: Vec<f64>,
    rho_init: Vec<f64>,
    propose_final: PhasePoint,
    p_final_beg: Vec<f64>,
    p_sharp_final_beg: Vec<f64>,
    rho_final: Vec<f64>,
}

impl Level {
    fn new(dim: usize) -> Self {
        Level {
            p_init_end: vec![0.0; dim],
            p_sharp_init_end: vec![0.0; dim],
            rho_init: vec![0.0; dim],
            propose_final: PhasePoint::new(dim),
            p_final_beg: vec![0.0; dim],
            p_sharp_final_beg: vec![0.0; dim],
            rho_final: vec![0.0; dim],
        }
    }
}

/// The quantities shared by every node of one trajectory.
struct Trajectory<'a, 'd, D: LogDensity + ?Sized, G: Rng + ?Sized, M: EuclideanMetric> {
    counter: &'a mut GradientCounter<'d, D>,
    metric: &'a M,
    rng: &'a mut G,
    /// Signed step size of the current subtree.
    eps: f64,
    h0: f64,
    n_leapfrog: u32,
    sum_metro_prob: f64,
    sum_sym_prob: f64,
    divergent: bool,
}

/// The generalised no-U-turn criterion: both end velocities point along `rho`.
fn no_u_turn(p_sharp_minus: &[f64], p_sharp_plus: &[f64], rho: &[f64]) -> bool {
    dot(p_sharp_plus, rho) > 0.0 && dot(p_sharp_minus, rho) > 0.0
}

/// The criterion for `rho_a + rho_b` without forming the sum.
fn no_u_turn_sum(
    p_sharp_minus: &[f64],
    p_sharp_plus: &[f64],
    rho_a: &[f64],
    rho_b: &[f64],
) -> bool {
    // One pass for both ends, four partial sums each.
    let n = rho_a.len();
    let (pm, pp, rb) = (&p_sharp_minus[..n], &p_sharp_plus[..n], &rho_b[..n]);
    let (mut plus, mut minus) = ([0.0f64; 4], [0.0f64; 4]);
    let chunks = pm
        .chunks_exact(4)
        .zip(pp.chunks_exact(4))
        .zip(rho_a.chunks_exact(4))
        .zip(rb.chunks_exact(4));
    for (((m, p), a), b) in chunks {
        for k in 0..4 {
            let rho = a[k] + b[k];
            plus[k] += p[k] * rho;
            minus[k] += m[k] * rho;
        }
    }
    let (mut plus_rest, mut minus_rest) = (0.0, 0.0);
    for i in n / 4 * 4..n {
        let rho = rho_a[i] + rb[i];
        plus_rest += pp[i] * rho;
        minus_rest += pm[i] * rho;
    }
    let total = |acc: [f64; 4], rest: f64| (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest;
    total(plus, plus_rest) > 0.0 && total(minus, minus_rest) > 0.0
}

/// `out = a + b` element by element (a trajectory's summed momentum from its halves).
fn write_sum(out: &mut [f64], a: &[f64], b: &[f64]) {
    for ((r, x), y) in out.iter_mut().zip(a).zip(b) {
        *r = x + y;
    }
}

impl<D: LogDensity + ?Sized, G: Rng + ?Sized, M: EuclideanMetric> Trajectory<'_, '_, D, G, M> {
    /// Builds a subtree of `2^depth` leapfrog steps from `z`, which ends at the subtree's
    /// far end. Returns `Ok(false)` when the subtree diverged or turned back on itself.
    fn build_tree(
        &mut self,
        depth: usize,
        levels: &mut [Level],
        z: &mut PhasePoint,
        out: SubtreeOut<'_>,
    ) -> Result<bool, ppl_core::Error> {
        if depth == 0 {
            self.counter.leapfrog(z, self.metric, self.eps)?;
            self.n_leapfrog += 1;
            let h = self.metric.energy(z);
            if h - self.h0 > MAX_ENERGY_ERROR {
                self.divergent = true;
            }
            *out.log_sum_weight = log_sum_exp2(*out.log_sum_weight, self.h0 - h);
            // One exponential for both statistics: with e = exp(−|ΔH|), the Metropolis
            // probability is 1 or e, the symmetric one 2 / (1 + e^|ΔH|) = 2e / (1 + e).
            let gain = self.h0 - h;
            let e = (-gain.abs()).exp();
            self.sum_metro_prob += if gain > 0.0 { 1.0 } else { e };
            self.sum_sym_prob += 2.0 * e / (1.0 + e);
            out.propose.copy_from(z);
            self.metric.velocity(&z.p, out.p_sharp_beg);
            out.p_sharp_end.copy_from_slice(out.p_sharp_beg);
            out.rho.copy_from_slice(&z.p);
            out.p_beg.copy_from_slice(&z.p);
            out.p_end.copy_from_slice(&z.p);
            return Ok(!self.divergent);
        }

        let (lower, rest) = levels.split_at_mut(depth - 1);
        let level = &mut rest[0];

        // The initial half, starting next to the existing trajectory.
        let mut log_sum_weight_init = f64::NEG_INFINITY;
        let valid_init = self.build_tree(
            depth - 1,
            lower,
            z,
            SubtreeOut {
                propose: &mut *out.propose,
                p_sharp_beg: &mut *out.p_sharp_beg,
                p_sharp_end: &mut level.p_sharp_init_end,
                rho: &mut level.rho_init,
                p_beg: &mut *out.p_beg,
                p_end: &mut level.p_init_end,
                log_sum_weight: &mut log_sum_weight_init,
            },
        )?;
        if !valid_init {
            return Ok(false);
        }

        // The final half, continuing from where the initial half ended.
        let mut log_sum_weight_final = f64::NEG_INFINITY;
        let valid_final = self.build_tree(
            depth - 1,
            lower,
            z,
            SubtreeOut {
                propose: &mut level.propose_final,
                p_sharp_beg: &mut level.p_sharp_final_beg,
                p_sharp_end: &mut *out.p_sharp_end,
                rho: &mut level.rho_final,
                p_beg: &mut level.p_final_beg,
                p_end: &mut *out.p_end,
                log_sum_weight: &mut log_sum_weight_final,
            },
        )?;
        if !valid_final {
            return Ok(false);
        }

        // Multinomial sample from the two halves.
        let log_sum_weight_subtree = log_sum_exp2(log_sum_weight_init, log_sum_weight_final);
        *out.log_sum_weight = log_sum_exp2(*out.log_sum_weight, log_sum_weight_subtree);
        if log_sum_weight_final > log_sum_weight_subtree {
            out.propose.copy_from(&level.propose_final);
        } else {
            let accept_prob = (log_sum_weight_final - log_sum_weight_subtree).exp();
            if self.rng.gen::<f64>() < accept_prob {
                out.propose.copy_from(&level.propose_final);
            }
        }

        // U-turn across the merged subtree, then across each half extended by one point
        // of the other (Stan's extra checks, which catch turns missed between halves).
        // The checks have no side effects, so the first failure decides.
        let persist = no_u_turn_sum(
            out.p_sharp_beg,
            out.p_sharp_end,
            &level.rho_init,
            &level.rho_final,
        ) && no_u_turn_sum(
            out.p_sharp_beg,
            &level.p_sharp_final_beg,
            &level.rho_init,
            &level.p_final_beg,
        ) && no_u_turn_sum(
            &level.p_sharp_init_end,
            out.p_sharp_end,
            &level.rho_final,
            &level.p_init_end,
        );
        write_sum(out.rho, &level.rho_init, &level.rho_final);
        Ok(persist)
    }
}

/// Reusable storage for NUTS transitions in one chain: no allocation per transition.
#[derive(Debug, Clone)]
pub(crate) struct NutsWorkspace {
    levels: Vec<Level>,
    z_fwd: PhasePoint,
    z_bck: PhasePoint,
    z_sample: PhasePoint,
    z_propose: PhasePoint,
    p_fwd_fwd: Vec<f64>,
    p_sharp_fwd_fwd: Vec<f64>,
    p_fwd_bck: Vec<f64>,
    p_sharp_fwd_bck: Vec<f64>,
    p_bck_fwd: Vec<f64>,
    p_sharp_bck_fwd: Vec<f64>,
    p_bck_bck: Vec<f64>,
    p_sharp_bck_bck: Vec<f64>,
    rho: Vec<f64>,
    rho_fwd: Vec<f64>,
    rho_bck: Vec<f64>,
}

impl NutsWorkspace {
    /// Storage for trajectories of up to `max_depth` doublings in `dim` dimensions.
    pub fn new(dim: usize, max_depth: u32) -> Self {
        let v = || vec![0.0; dim];
        NutsWorkspace {
            levels: (0..max_depth).map(|_| Level::new(dim)).collect(),
            z_fwd: PhasePoint::new(dim),
            z_bck: PhasePoint::new(dim),
            z_sample: PhasePoint::new(dim),
            z_propose: PhasePoint::new(dim),
            p_fwd_fwd: v(),
            p_sharp_fwd_fwd: v(),
            p_fwd_bck: v(),
            p_sharp_fwd_bck: v(),
            p_bck_fwd: v(),
            p_sharp_bck_fwd: v(),
            p_bck_bck: v(),
            p_sharp_bck_bck: v(),
            rho: v(),
            rho_fwd: v(),
            rho_bck: v(),
        }
    }

    /// One NUTS transition from `current` (its position, log-density and gradient must be
    /// valid; its momentum is redrawn). On return `current` holds the new draw.
    ///
    /// `max_depth` must not exceed the depth this workspace was built for.
    pub fn transition<D: LogDensity + ?Sized, G: Rng + ?Sized, M: EuclideanMetric>(
        &mut self,
        current: &mut PhasePoint,
        counter: &mut GradientCounter<'_, D>,
        metric: &M,
        step_size: f64,
        max_depth: u32,
        rng: &mut G,
    ) -> Result<SampleStats, ppl_core::Error> {
        metric.sample_momentum(rng, &mut current.p);
        self.z_fwd.copy_from(current);
        self.z_bck.copy_from(current);
        self.z_sample.copy_from(current);

        self.p_fwd_fwd.copy_from_slice(&current.p);
        metric.velocity(&current.p, &mut self.p_sharp_fwd_fwd);
        self.p_fwd_bck.copy_from_slice(&current.p);
        self.p_sharp_fwd_bck.copy_from_slice(&self.p_sharp_fwd_fwd);
        self.p_bck_fwd.copy_from_slice(&current.p);
        self.p_sharp_bck_fwd.copy_from_slice(&self.p_sharp_fwd_fwd);
        self.p_bck_bck.copy_from_slice(&current.p);
        self.p_sharp_bck_bck.copy_from_slice(&self.p_sharp_fwd_fwd);
        self.rho.copy_from_slice(&current.p);

        let h0 = metric.energy(current);
        let mut log_sum_weight = 0.0; // log(exp(H0 − H0))
        let mut depth = 0u32;
        let mut traj = Trajectory {
            counter,
            metric,
            rng,
            eps: step_size,
            h0,
            n_leapfrog: 0,
            sum_metro_prob: 0.0,
            sum_sym_prob: 0.0,
            divergent: false,
        };

        while depth < max_depth {
            let mut log_sum_weight_subtree = f64::NEG_INFINITY;
            let levels = &mut self.levels[..];
            let valid = if traj.rng.gen::<f64>() > 0.5 {
                // Extend forward: the existing trajectory becomes the backward part.
                self.rho_bck.copy_from_slice(&self.rho);
                self.p_bck_fwd.copy_from_slice(&self.p_fwd_fwd);
                self.p_sharp_bck_fwd.copy_from_slice(&self.p_sharp_fwd_fwd);
                traj.eps = step_size.abs();
                traj.build_tree(
                    depth as usize,
                    levels,
                    &mut self.z_fwd,
                    SubtreeOut {
                        propose: &mut self.z_propose,
                        p_sharp_beg: &mut self.p_sharp_fwd_bck,
                        p_sharp_end: &mut self.p_sharp_fwd_fwd,
                        rho: &mut self.rho_fwd,
                        p_beg: &mut self.p_fwd_bck,
                        p_end: &mut self.p_fwd_fwd,
                        log_sum_weight: &mut log_sum_weight_subtree,
                    },
                )?
            } else {
                // Extend backward: the existing trajectory becomes the forward part.
                self.rho_fwd.copy_from_slice(&self.rho);
                self.p_fwd_bck.copy_from_slice(&self.p_bck_bck);
                self.p_sharp_fwd_bck.copy_from_slice(&self.p_sharp_bck_bck);
                traj.eps = -step_size.abs();
                traj.build_tree(
                    depth as usize,
                    levels,
                    &mut self.z_bck,
                    SubtreeOut {
                        propose: &mut self.z_propose,
                        p_sharp_beg: &mut self.p_sharp_bck_fwd,
                        p_sharp_end: &mut self.p_sharp_bck_bck,
                        rho: &mut self.rho_bck,
                        p_beg: &mut self.p_bck_fwd,
                        p_end: &mut self.p_bck_bck,
                        log_sum_weight: &mut log_sum_weight_subtree,
                    },
                )?
            };
            if !valid {
                break;
            }
            depth += 1;

            // Biased progressive sampling: prefer the new subtree.
            if log_sum_weight_subtree > log_sum_weight {
                self.z_sample.copy_from(&self.z_propose);
            } else {
                let accept_prob = (log_sum_weight_subtree - log_sum_weight).exp();
                if traj.rng.gen::<f64>() < accept_prob {
                    self.z_sample.copy_from(&self.z_propose);
                }
            }
            log_sum_weight = log_sum_exp2(log_sum_weight, log_sum_weight_subtree);

            write_sum(&mut self.rho, &self.rho_bck, &self.rho_fwd);
            let persist = no_u_turn(&self.p_sharp_bck_bck, &self.p_sharp_fwd_fwd, &self.rho)
                && no_u_turn_sum(
                    &self.p_sharp_bck_bck,
                    &self.p_sharp_fwd_bck,
                    &self.rho_bck,
                    &self.p_fwd_bck,
                )
                && no_u_turn_sum(
                    &self.p_sharp_bck_fwd,
                    &self.p_sharp_fwd_fwd,
                    &self.rho_fwd,
                    &self.p_bck_fwd,
                );
            if !persist {
                break;
            }
        }

        let n_leapfrog = traj.n_leapfrog;
        let accept_stat = traj.sum_metro_prob / f64::from(n_leapfrog);
        let accept_stat_sym = traj.sum_sym_prob / f64::from(n_leapfrog);
        let diverging = traj.divergent;
        current.copy_from(&self.z_sample);
        Ok(SampleStats {
            lp: current.logp,
            accept_stat,
            accept_stat_sym,
            step_size,
            tree_depth: depth,
            n_leapfrog,
            diverging,
            energy: metric.energy(current),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocked reductions agree with their definitions for lengths with and
    /// without a remainder, including the sign decisions of the U-turn check.
    #[test]
    fn reductions_match_their_definitions() {
        for n in 1..=11 {
            let v = |s: f64| -> Vec<f64> { (0..n).map(|i| (i as f64 * s + 0.3).sin()).collect() };
            let (pm, pp, a, b) = (v(0.7), v(1.3), v(2.1), v(-0.4));
            let naive = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(x, y)| x * y).sum::<f64>();
            assert!((dot(&pm, &a) - naive(&pm, &a)).abs() < 1e-12);
            let rho: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
            let want = naive(&pp, &rho) > 0.0 && naive(&pm, &rho) > 0.0;
            assert_eq!(no_u_turn_sum(&pm, &pp, &a, &b), want, "n = {n}");
            let flipped: Vec<f64> = pm.iter().map(|x| -x).collect();
            let want = naive(&pp, &rho) > 0.0 && naive(&flipped, &rho) > 0.0;
            assert_eq!(no_u_turn_sum(&flipped, &pp, &a, &b), want, "n = {n}");
        }
    }
    use crate::hamiltonian::DiagonalMetric;
    use ppl_core::model::rng_for;

    struct StdNormal(usize);
    impl LogDensity for StdNormal {
        fn dim(&self) -> usize {
            self.0
        }
        fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
            Ok(-0.5 * x.iter().map(|x| x * x).sum::<f64>())
        }
        fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
            for (g, x) in g.iter_mut().zip(x) {
                *g = -x;
            }
            self.logp(x)
        }
    }

    fn start(density: &StdNormal, q: &[f64]) -> PhasePoint {
        let mut z = PhasePoint::new(density.0);
        z.q.copy_from_slice(q);
        GradientCounter::new(density).update(&mut z).unwrap();
        z
    }

    #[test]
    fn leapfrog_count_matches_depth_and_stats_are_consistent() {
        let density = StdNormal(3);
        let metric = DiagonalMetric::unit(3);
        let mut ws = NutsWorkspace::new(3, 10);
        let mut z = start(&density, &[0.5, -0.5, 1.0]);
        let mut rng = rng_for(7, 0);
        let mut counter = GradientCounter::new(&density);
        for _ in 0..200 {
            let stats = ws
                .transition(&mut z, &mut counter, &metric, 0.9, 10, &mut rng)
                .unwrap();
            assert!(!stats.diverging);
            // A full tree of depth d has 2^d − 1 steps; a rejected last subtree adds at
            // most 2^d more.
            let full = (1u32 << stats.tree_depth) - 1;
            assert!(stats.n_leapfrog >= full && stats.n_leapfrog <= 2 * full + 1);
            assert!((0.0..=1.0).contains(&stats.accept_stat));
            assert_eq!(stats.lp, z.logp);
            assert!(
                (stats.energy - (-z.logp + 0.5 * z.p.iter().map(|p| p * p).sum::<f64>())).abs()
                    < 1e-12
            );
        }
        let total: u64 = counter.evaluations;
        assert!(total > 200);
    }

    #[test]
    fn max_depth_caps_the_tree() {
        let density = StdNormal(2);
        let metric = DiagonalMetric::unit(2);
        let mut ws = NutsWorkspace::new(2, 3);
        let mut z = start(&density, &[0.1, 0.2]);
        let mut rng = rng_for(1, 0);
        let mut counter = GradientCounter::new(&density);
        // A tiny step size never turns around within 2^3 steps.
        let stats = ws
            .transition(&mut z, &mut counter, &metric, 1e-3, 3, &mut rng)
            .unwrap();
        assert_eq!(stats.tree_depth, 3);
        assert_eq!(stats.n_leapfrog, 7);
    }

    #[test]
    fn symmetric_acceptance_statistic_of_one_leapfrog_step() {
        // One step with energy error ΔH > 0 has Metropolis probability a = exp(−ΔH) and
        // symmetric statistic 2 / (1 + exp ΔH) = 2a / (1 + a); with ΔH ≤ 0, a = 1.
        let density = StdNormal(1);
        let metric = DiagonalMetric::unit(1);
        let mut ws = NutsWorkspace::new(1, 1);
        let mut z = start(&density, &[0.3]);
        let mut rng = rng_for(3, 0);
        let mut counter = GradientCounter::new(&density);
        let mut rejected_some = false;
        for _ in 0..200 {
            let stats = ws
                .transition(&mut z, &mut counter, &metric, 1.7, 1, &mut rng)
                .unwrap();
            assert_eq!(stats.n_leapfrog, 1);
            let a = stats.accept_stat;
            assert!(stats.accept_stat_sym > 0.0 && stats.accept_stat_sym <= 1.0);
            if a < 1.0 {
                rejected_some = true;
                assert!((stats.accept_stat_sym - 2.0 * a / (1.0 + a)).abs() < 1e-12);
            }
        }
        assert!(rejected_some);
    }

    #[test]
    fn huge_step_size_diverges_without_moving() {
        let density = StdNormal(2);
        let metric = DiagonalMetric::unit(2);
        let mut ws = NutsWorkspace::new(2, 10);
        let mut z = start(&density, &[0.1, 0.2]);
        let before = z.q.clone();
        let mut rng = rng_for(1, 0);
        let mut counter = GradientCounter::new(&density);
        let stats = ws
            .transition(&mut z, &mut counter, &metric, 1e4, 10, &mut rng)
            .unwrap();
        assert!(stats.diverging);
        assert_eq!(stats.tree_depth, 0);
        assert_eq!(stats.n_leapfrog, 1);
        assert_eq!(z.q, before);
    }

    #[test]
    fn nan_log_density_is_a_divergence() {
        struct NanOutside;
        impl LogDensity for NanOutside {
            fn dim(&self) -> usize {
                1
            }
            fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
                Ok(if x[0].abs() > 0.5 {
                    f64::NAN
                } else {
                    -0.5 * x[0] * x[0]
                })
            }
            fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
                g[0] = -x[0];
                self.logp(x)
            }
        }
        let metric = DiagonalMetric::unit(1);
        let mut ws = NutsWorkspace::new(1, 10);
        let mut z = PhasePoint::new(1);
        let mut counter = GradientCounter::new(&NanOutside);
        counter.update(&mut z).unwrap();
        let mut rng = rng_for(3, 0);
        let mut divergences = 0;
        for _ in 0..100 {
            let stats = ws
                .transition(&mut z, &mut counter, &metric, 0.4, 10, &mut rng)
                .unwrap();
            divergences += usize::from(stats.diverging);
            assert!(z.logp.is_finite() && z.q[0].abs() <= 0.5);
        }
        assert!(divergences > 0);
    }
}
