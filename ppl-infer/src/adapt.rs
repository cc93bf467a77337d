//! Warm-up adaptation as Stan does it: the initial step-size heuristic, dual averaging of
//! the step size, and windowed estimation of a diagonal mass matrix.
//!
//! Stan's schedule: an initial fast interval of 75 iterations (step size only), slow
//! windows of 25, 50, 100, … iterations that each end with a new metric, the last
//! stretched to the terminal fast interval of 50 iterations. Each new metric restarts
//! dual averaging from a freshly found step size.

use crate::hamiltonian::{DiagonalMetric, GradientCounter, PhasePoint};
use ppl_core::model::LogDensity;
use rand::Rng;
use thiserror::Error;

/// Adaptation failed in a way that makes sampling meaningless.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AdaptError {
    /// The step-size heuristic kept doubling: the posterior is probably improper.
    #[error("the step size grew beyond 1e7 while searching for a reasonable value: the posterior is probably improper (check the model's priors)")]
    ImproperPosterior,
    /// The step-size heuristic kept halving down to zero.
    #[error("no acceptably small step size could be found: the log-density is probably discontinuous or not finite around the current point")]
    NoStepSize,
    /// A metric estimate overflowed.
    #[error("numerical overflow in the mass-matrix adaptation: the draws' variance is not finite")]
    MetricOverflow,
    /// The model failed during adaptation.
    #[error(transparent)]
    Model(#[from] ppl_core::Error),
}

/// Stan's initial step-size heuristic (`base_hmc::init_stepsize`): from `current`, double
/// or halve `step_size` until the acceptance probability of one leapfrog step with a
/// fresh momentum crosses 0.8. Returns the new step size; `current` is unchanged.
pub(crate) fn find_reasonable_step_size<D: LogDensity + ?Sized, G: Rng + ?Sized>(
    current: &PhasePoint,
    step_size: f64,
    metric: &DiagonalMetric,
    counter: &mut GradientCounter<'_, D>,
    rng: &mut G,
    scratch: &mut PhasePoint,
) -> Result<f64, AdaptError> {
    let mut eps = step_size;
    // Skip extreme step sizes that can loop forever, as Stan does.
    if eps == 0.0 || eps > 1e7 || eps.is_nan() {
        return Ok(eps);
    }
    let log_08 = 0.8f64.ln();
    let mut trial = |eps: f64, scratch: &mut PhasePoint| -> Result<f64, AdaptError> {
        scratch.copy_from(current);
        metric.sample_momentum(rng, &mut scratch.p);
        let h0 = metric.energy(scratch);
        counter.leapfrog(scratch, metric, eps)?;
        let h = metric.energy(scratch);
        Ok(h0 - h)
    };
    let direction = if trial(eps, scratch)? > log_08 { 1 } else { -1 };
    loop {
        let delta_h = trial(eps, scratch)?;
        // Written as Stan does, so that a NaN energy error also stops the search.
        let above = delta_h > log_08;
        let below = delta_h < log_08;
        if (direction == 1 && !above) || (direction == -1 && !below) {
            return Ok(eps);
        }
        eps = if direction == 1 { 2.0 * eps } else { 0.5 * eps };
        if eps > 1e7 {
            return Err(AdaptError::ImproperPosterior);
        }
        if eps == 0.0 {
            return Err(AdaptError::NoStepSize);
        }
    }
}

/// Nesterov dual averaging of `log(step size)` towards a target acceptance statistic
/// (Hoffman & Gelman 2014, with Stan's constants γ = 0.05, κ = 0.75, t₀ = 10).
///
/// ```
/// use ppl_infer::adapt::DualAveraging;
/// let mut da = DualAveraging::new(0.8, 1.0);
/// // Acceptance above the target makes the step size grow.
/// let eps = da.learn(1.0);
/// assert!(eps > 1.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DualAveraging {
    target: f64,
    gamma: f64,
    kappa: f64,
    t0: f64,
    mu: f64,
    counter: f64,
    s_bar: f64,
    x_bar: f64,
}

impl DualAveraging {
    /// Adapts towards acceptance `target`, shrinking towards `10 · step_size`.
    pub fn new(target: f64, step_size: f64) -> Self {
        let mut da = DualAveraging {
            target,
            gamma: 0.05,
            kappa: 0.75,
            t0: 10.0,
            mu: 0.0,
            counter: 0.0,
            s_bar: 0.0,
            x_bar: 0.0,
        };
        da.restart(step_size);
        da
    }

    /// Forgets the history and sets the shrinkage point to `log(10 · step_size)`.
    pub fn restart(&mut self, step_size: f64) {
        self.mu = (10.0 * step_size).ln();
        self.counter = 0.0;
        self.s_bar = 0.0;
        self.x_bar = 0.0;
    }

    /// Records one transition's acceptance statistic; returns the next step size.
    pub fn learn(&mut self, accept_stat: f64) -> f64 {
        self.counter += 1.0;
        let accept_stat = accept_stat.min(1.0);
        let eta = 1.0 / (self.counter + self.t0);
        self.s_bar = (1.0 - eta) * self.s_bar + eta * (self.target - accept_stat);
        let x = self.mu - self.s_bar * self.counter.sqrt() / self.gamma;
        let x_eta = self.counter.powf(-self.kappa);
        self.x_bar = (1.0 - x_eta) * self.x_bar + x_eta * x;
        x.exp()
    }

    /// The step size to sample with once warm-up ends: the averaged iterate.
    pub fn final_step_size(&self) -> f64 {
        self.x_bar.exp()
    }
}

/// Stan's windowed adaptation schedule (`windowed_adaptation`): which warm-up iterations
/// feed the metric estimate and after which ones a new metric is computed.
///
/// ```
/// use ppl_infer::adapt::WindowSchedule;
/// // 1000 warm-up iterations: windows end after iterations 99, 149, 249, 449 and 949.
/// let mut schedule = WindowSchedule::new(1000);
/// let ends: Vec<u32> = (0..1000).filter(|_| schedule.step().1).collect();
/// assert_eq!(ends.len(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSchedule {
    num_warmup: u32,
    init_buffer: u32,
    term_buffer: u32,
    base_window: u32,
    counter: u32,
    window_size: u32,
    next_window: u32,
    enabled: bool,
}

impl WindowSchedule {
    /// The schedule for `num_warmup` iterations: buffers 75/50 and a first window of 25,
    /// shrunk to 15% / 10% / the rest when they do not fit; no metric adaptation below
    /// 20 iterations.
    pub fn new(num_warmup: u32) -> Self {
        let (mut init_buffer, mut term_buffer, mut base_window) = (75, 50, 25);
        let enabled = num_warmup >= 20;
        if enabled && init_buffer + base_window + term_buffer > num_warmup {
            init_buffer = (0.15 * f64::from(num_warmup)) as u32;
            term_buffer = (0.1 * f64::from(num_warmup)) as u32;
            base_window = num_warmup - (init_buffer + term_buffer);
        }
        WindowSchedule {
            num_warmup,
            init_buffer,
            term_buffer,
            base_window,
            counter: 0,
            window_size: base_window,
            next_window: init_buffer + base_window - 1,
            enabled,
        }
    }

    /// False when warm-up is too short for metric adaptation.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    fn in_window(&self) -> bool {
        self.enabled
            && self.counter >= self.init_buffer
            && self.counter < self.num_warmup - self.term_buffer
            && self.counter != self.num_warmup
    }

    fn end_of_window(&self) -> bool {
        self.enabled && self.counter == self.next_window && self.counter != self.num_warmup
    }

    fn compute_next_window(&mut self) {
        let last = self.num_warmup - self.term_buffer - 1;
        if self.next_window == last {
            return;
        }
        self.window_size *= 2;
        self.next_window = self.counter + self.window_size;
        if self.next_window != last {
            let next_boundary = self.next_window + 2 * self.window_size;
            if next_boundary >= self.num_warmup - self.term_buffer {
                self.next_window = last;
            }
        }
    }

    /// Advances by one warm-up iteration. Returns `(collect, window_ended)`: whether this
    /// iteration's draw belongs to the current window, and whether the window ends here
    /// (so a new metric is due).
    pub fn step(&mut self) -> (bool, bool) {
        let collect = self.in_window();
        let ended = self.end_of_window();
        if ended {
            self.compute_next_window();
        }
        self.counter += 1;
        (collect, ended)
    }
}

/// Welford's running mean and variance of vectors.
#[derive(Debug, Clone, PartialEq)]
struct WelfordVariance {
    n: f64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl WelfordVariance {
    fn new(dim: usize) -> Self {
        WelfordVariance {
            n: 0.0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim],
        }
    }

    fn add(&mut self, x: &[f64]) {
        self.n += 1.0;
        for ((m, s), x) in self.mean.iter_mut().zip(&mut self.m2).zip(x) {
            let delta = x - *m;
            *m += delta / self.n;
            *s += (x - *m) * delta;
        }
    }

    fn restart(&mut self) {
        self.n = 0.0;
        self.mean.fill(0.0);
        self.m2.fill(0.0);
    }
}

/// Windowed estimation of a diagonal inverse mass matrix (Stan's `var_adaptation`): the
/// sample variance of each window's draws, regularised towards 10⁻³ as
/// `(n/(n+5))·var + 10⁻³·(5/(n+5))`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalAdaptation {
    schedule: WindowSchedule,
    estimator: WelfordVariance,
}

impl DiagonalAdaptation {
    /// Adaptation over `num_warmup` iterations in `dim` dimensions.
    pub fn new(num_warmup: u32, dim: usize) -> Self {
        DiagonalAdaptation {
            schedule: WindowSchedule::new(num_warmup),
            estimator: WelfordVariance::new(dim),
        }
    }

    /// Records the position after one warm-up transition. When a window ends, writes
    /// the new estimate into `inv_mass` and returns `Ok(true)`.
    pub fn learn(&mut self, inv_mass: &mut [f64], q: &[f64]) -> Result<bool, AdaptError> {
        let (collect, ended) = self.schedule.step();
        if collect {
            self.estimator.add(q);
        }
        if !ended {
            return Ok(false);
        }
        let n = self.estimator.n;
        for (m, s) in inv_mass.iter_mut().zip(&self.estimator.m2) {
            let var = s / (n - 1.0);
            *m = (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0));
        }
        if !inv_mass.iter().all(|m| m.is_finite()) {
            return Err(AdaptError::MetricOverflow);
        }
        self.estimator.restart();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window_ends(num_warmup: u32) -> Vec<u32> {
        let mut s = WindowSchedule::new(num_warmup);
        (0..num_warmup).filter(|_| s.step().1).collect()
    }

    #[test]
    fn stan_windows_for_1000_iterations() {
        assert_eq!(window_ends(1000), vec![99, 149, 249, 449, 949]);
        let mut s = WindowSchedule::new(1000);
        let collected: Vec<u32> = (0..1000).filter(|_| s.step().0).collect();
        assert_eq!(collected.first(), Some(&75));
        assert_eq!(collected.last(), Some(&949));
        assert_eq!(collected.len(), 875);
    }

    #[test]
    fn short_warmups_shrink_or_disable_the_windows() {
        // 100 iterations: buffers 15 and 10, one window of 75.
        assert_eq!(window_ends(100), vec![89]);
        assert_eq!(window_ends(150), vec![99]);
        assert_eq!(window_ends(19), Vec::<u32>::new());
        assert!(!WindowSchedule::new(19).is_enabled());
        // 500: 75 + 25, 50, 100, then 200 reaching the terminal buffer.
        assert_eq!(window_ends(500), vec![99, 149, 249, 449]);
        // 600: the window after 249 would leave less than twice its size: stretched.
        assert_eq!(window_ends(600), vec![99, 149, 249, 549]);
    }

    #[test]
    fn regularised_variance_matches_the_formula() {
        let mut adapt = DiagonalAdaptation::new(100, 2);
        let mut inv_mass = vec![1.0, 1.0];
        let mut updates = 0;
        let mut xs = Vec::new();
        for i in 0..100 {
            let x = [f64::from(i % 7), 2.0 * f64::from(i % 3)];
            if (15..90).contains(&i) {
                xs.push(x);
            }
            updates += usize::from(adapt.learn(&mut inv_mass, &x).unwrap());
        }
        assert_eq!(updates, 1);
        let n = xs.len() as f64;
        for d in 0..2 {
            let mean = xs.iter().map(|x| x[d]).sum::<f64>() / n;
            let var = xs.iter().map(|x| (x[d] - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let expect = n / (n + 5.0) * var + 1e-3 * 5.0 / (n + 5.0);
            assert!((inv_mass[d] - expect).abs() < 1e-12);
        }
    }

    #[test]
    fn dual_averaging_converges_to_the_target() {
        // Acceptance exp(−eps) reaches 0.8 at eps = ln(1.25).
        let mut da = DualAveraging::new(0.8, 1.0);
        let mut eps = 1.0f64;
        for _ in 0..2000 {
            eps = da.learn((-eps).exp());
        }
        // The averaged iterate's acceptance is within half a percent of the target.
        let accept = (-da.final_step_size()).exp();
        assert!((accept - 0.8).abs() < 0.005, "{accept}");
        assert!((eps - 1.25f64.ln()).abs() < 0.05, "{eps}");
    }
}
