//! Warm-up adaptation: the initial step-size heuristic, dual averaging of the step size,
//! and three ways of adapting the metric.
//!
//! Stan's schedule ([`DiagonalAdaptation`], [`DenseAdaptation`]): an initial fast interval
//! of 75 iterations (step size only), slow windows of 25, 50, 100, … iterations that each
//! end with a new metric, the last stretched to the terminal fast interval of 50
//! iterations. Each new metric restarts dual averaging from a freshly found step size.
//!
//! nutpie's schedule ([`GradientDiagonalAdaptation`]): the metric starts at `1/|∇ log p|`
//! of the initial point and is re-estimated after every warm-up draw as
//! `sqrt(var(draws)/var(gradients))` from a foreground window, while a background window
//! fills up; when the background window holds enough draws (10 in the first 30% of
//! warm-up, 80 after) it becomes the foreground and a new background starts. The last 15%
//! of warm-up adapts only the step size. Dual averaging restarts after the first
//! estimate, and once more, from a freshly found step size, at the start of the final
//! window if more than 2% of the transitions between the early phase and the final
//! window diverged. The step size averaged over a metric that kept changing is then too
//! large for the final one: on posteriordb's `gp_pois_regr` this rule cut the median
//! number of divergences over seeds 1–7 from 154 to 42. Posteriors without such
//! divergences are not affected.

use crate::hamiltonian::{DiagonalMetric, GradientCounter, PhasePoint};
use crate::metric::{DenseMetric, EuclideanMetric};
use crate::nuts::SampleStats;
use ppl_core::model::LogDensity;
use rand::Rng;
use thiserror::Error;

/// Adaptation failed in a way that makes sampling meaningless.
///
/// A chain whose adaptation fails reports it as
/// [`ChainFailureReason::Adaptation`](crate::ChainFailureReason::Adaptation).
///
/// ```
/// use ppl_infer::adapt::AdaptError;
/// use ppl_infer::{sample_log_density, ChainFailureReason, LogDensity, Nuts, SampleError};
///
/// /// A flat "density" on the whole line: improper, nothing to sample.
/// struct Flat;
/// impl LogDensity for Flat {
///     fn dim(&self) -> usize { 1 }
///     fn logp(&self, _: &[f64]) -> ppl_core::Result<f64> { Ok(0.0) }
///     fn logp_grad(&self, _: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
///         g[0] = 0.0;
///         Ok(0.0)
///     }
/// }
///
/// let nuts = Nuts::default().chains(1).draws(10).tune(10).seed(1).progress(false);
/// let Err(SampleError::ChainsFailed { failures, .. }) = sample_log_density(&Flat, nuts) else {
///     panic!("an improper posterior cannot be sampled")
/// };
/// // The step-size search kept doubling: every step is accepted on a flat density.
/// assert_eq!(failures[0].reason, ChainFailureReason::Adaptation(AdaptError::ImproperPosterior));
/// assert!(failures[0].to_string().contains("the posterior is probably improper"));
/// ```
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
    /// A dense metric estimate was not positive definite.
    #[error("the dense mass-matrix estimate is not positive definite (try the diagonal metric)")]
    NotPositiveDefinite,
    /// The model failed during adaptation.
    #[error(transparent)]
    Model(#[from] ppl_core::Error),
}

/// Stan's initial step-size heuristic (`base_hmc::init_stepsize`): from `current`, double
/// or halve `step_size` until the acceptance probability of one leapfrog step with a
/// fresh momentum crosses 0.8. Returns the new step size; `current` is unchanged.
pub(crate) fn find_reasonable_step_size<
    D: LogDensity + ?Sized,
    G: Rng + ?Sized,
    M: EuclideanMetric,
>(
    current: &PhasePoint,
    step_size: f64,
    metric: &M,
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
    ///
    /// ```
    /// use ppl_infer::adapt::DualAveraging;
    /// // A first transition exactly at the target leaves the step size at the shrinkage
    /// // point, 10 times the initial step size.
    /// let mut da = DualAveraging::new(0.8, 0.5);
    /// assert!((da.learn(0.8) - 5.0).abs() < 1e-12);
    /// ```
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
    ///
    /// ```
    /// use ppl_infer::adapt::DualAveraging;
    /// let mut da = DualAveraging::new(0.8, 1.0);
    /// for _ in 0..100 {
    ///     da.learn(0.2); // far below the target: the step size shrinks
    /// }
    /// assert!(da.final_step_size() < 0.1);
    /// // After a restart the history is gone: the next step size is 10 · 0.3 again.
    /// da.restart(0.3);
    /// assert!((da.learn(0.8) - 3.0).abs() < 1e-12);
    /// ```
    pub fn restart(&mut self, step_size: f64) {
        self.mu = (10.0 * step_size).ln();
        self.counter = 0.0;
        self.s_bar = 0.0;
        self.x_bar = 0.0;
    }

    /// Records one transition's acceptance statistic; returns the next step size.
    ///
    /// ```
    /// use ppl_infer::adapt::DualAveraging;
    /// // A made-up sampler whose acceptance statistic is 1 / (1 + ε²): the target 0.8 is
    /// // reached at ε = 0.5.
    /// let accept = |eps: f64| 1.0 / (1.0 + eps * eps);
    /// let mut da = DualAveraging::new(0.8, 1.0);
    /// let mut eps = 1.0;
    /// for _ in 0..2000 {
    ///     eps = da.learn(accept(eps));
    /// }
    /// // Both the last iterate and the averaged one approach 0.5 (as 1/√t: 0.5% off here).
    /// assert!((eps - 0.5).abs() < 0.01, "{eps}");
    /// assert!((da.final_step_size() - 0.5).abs() < 0.01, "{}", da.final_step_size());
    /// ```
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
    ///
    /// See [`learn`](Self::learn) for an example.
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
    ///
    /// ```
    /// use ppl_infer::adapt::WindowSchedule;
    /// // 100 iterations: buffers of 15 and 10 and one window of 75, ending after iteration 89.
    /// let mut schedule = WindowSchedule::new(100);
    /// let steps: Vec<(bool, bool)> = (0..100).map(|_| schedule.step()).collect();
    /// let collected: Vec<usize> = (0..100).filter(|&i| steps[i].0).collect();
    /// let ends: Vec<usize> = (0..100).filter(|&i| steps[i].1).collect();
    /// assert_eq!(collected, (15..90).collect::<Vec<_>>());
    /// assert_eq!(ends, [89]);
    /// ```
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
    ///
    /// ```
    /// use ppl_infer::adapt::WindowSchedule;
    /// assert!(!WindowSchedule::new(19).is_enabled());
    /// assert!(WindowSchedule::new(20).is_enabled());
    /// // A disabled schedule never collects a draw nor ends a window.
    /// let mut short = WindowSchedule::new(19);
    /// assert!((0..19).all(|_| short.step() == (false, false)));
    /// ```
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
    ///
    /// ```
    /// use ppl_infer::adapt::WindowSchedule;
    /// let mut schedule = WindowSchedule::new(1000);
    /// let (mut collected, mut ends) = (Vec::new(), Vec::new());
    /// for i in 0..1000 {
    ///     let (collect, ended) = schedule.step();
    ///     if collect {
    ///         collected.push(i);
    ///     }
    ///     if ended {
    ///         ends.push(i);
    ///     }
    /// }
    /// // Windows of 25, 50, 100, 200 and (stretched to the end) 500 draws: iterations 75 to
    /// // 949. The first 75 and the last 50 iterations adapt only the step size.
    /// assert_eq!(ends, [99, 149, 249, 449, 949]);
    /// assert_eq!(collected, (75..950).collect::<Vec<_>>());
    /// ```
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
///
/// ```
/// use ppl_infer::adapt::DiagonalAdaptation;
/// use rand::{Rng, SeedableRng};
/// use rand_distr::StandardNormal;
///
/// // Warm-up draws with standard deviations 2 and 0.5.
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let mut adaptation = DiagonalAdaptation::new(1000, 2);
/// let mut inv_mass = vec![1.0, 1.0];
/// let mut updates = 0;
/// for _ in 0..1000 {
///     let z: [f64; 2] = [rng.sample(StandardNormal), rng.sample(StandardNormal)];
///     if adaptation.learn(&mut inv_mass, &[2.0 * z[0], 0.5 * z[1]]).unwrap() {
///         updates += 1;
///     }
/// }
/// // Windows end after iterations 99, 149, 249, 449 and 949; the last one had 500
/// // draws, whose variances the estimate follows.
/// assert_eq!(updates, 5);
/// assert!((inv_mass[0] / 4.0 - 1.0).abs() < 0.2, "{inv_mass:?}");
/// assert!((inv_mass[1] / 0.25 - 1.0).abs() < 0.2, "{inv_mass:?}");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalAdaptation {
    schedule: WindowSchedule,
    estimator: WelfordVariance,
}

impl DiagonalAdaptation {
    /// Adaptation over `num_warmup` iterations in `dim` dimensions.
    ///
    /// See [`DiagonalAdaptation`] for an example.
    pub fn new(num_warmup: u32, dim: usize) -> Self {
        DiagonalAdaptation {
            schedule: WindowSchedule::new(num_warmup),
            estimator: WelfordVariance::new(dim),
        }
    }

    /// Records the position after one warm-up transition. When a window ends, writes
    /// the new estimate into `inv_mass` and returns `Ok(true)`.
    ///
    /// See [`DiagonalAdaptation`] for an example.
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

/// What a metric adaptation did after one warm-up transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricUpdate {
    /// The metric is unchanged.
    Unchanged,
    /// The metric changed; dual averaging carries on.
    Updated,
    /// The metric changed; the step size is to be searched afresh and dual averaging
    /// restarted from it.
    UpdatedRestart,
}

/// A warm-up adaptation of a metric of type `M`.
pub(crate) trait MetricAdaptation<M> {
    /// Called once before warm-up, at the checked initial point.
    fn init(&mut self, metric: &mut M, z: &PhasePoint);

    /// Called after each warm-up transition, with the new draw `z` (its position and
    /// gradient) and the transition's statistics.
    fn learn(
        &mut self,
        metric: &mut M,
        z: &PhasePoint,
        stats: &SampleStats,
    ) -> Result<MetricUpdate, AdaptError>;

    /// The acceptance statistic dual averaging learns from, for the transition about to
    /// be passed to [`learn`](Self::learn): Stan's mean Metropolis probability unless
    /// the adaptation says otherwise.
    fn step_size_statistic(&self, stats: &SampleStats) -> f64 {
        stats.accept_stat
    }
}

impl MetricAdaptation<DiagonalMetric> for DiagonalAdaptation {
    fn init(&mut self, _metric: &mut DiagonalMetric, _z: &PhasePoint) {}

    fn learn(
        &mut self,
        metric: &mut DiagonalMetric,
        z: &PhasePoint,
        _stats: &SampleStats,
    ) -> Result<MetricUpdate, AdaptError> {
        Ok(
            if DiagonalAdaptation::learn(self, &mut metric.inv_mass, &z.q)? {
                MetricUpdate::UpdatedRestart
            } else {
                MetricUpdate::Unchanged
            },
        )
    }
}

/// Welford's running mean and covariance matrix of vectors (row-major upper and lower
/// triangles both kept).
#[derive(Debug, Clone, PartialEq)]
struct WelfordCovariance {
    n: f64,
    mean: Vec<f64>,
    delta: Vec<f64>,
    m2: Vec<f64>,
}

impl WelfordCovariance {
    fn new(dim: usize) -> Self {
        WelfordCovariance {
            n: 0.0,
            mean: vec![0.0; dim],
            delta: vec![0.0; dim],
            m2: vec![0.0; dim * dim],
        }
    }

    fn add(&mut self, x: &[f64]) {
        let dim = self.mean.len();
        self.n += 1.0;
        for ((d, m), x) in self.delta.iter_mut().zip(&mut self.mean).zip(x) {
            *d = x - *m;
            *m += *d / self.n;
        }
        for (i, (x, m)) in x.iter().zip(&self.mean).enumerate() {
            let after = x - m;
            let row = &mut self.m2[i * dim..(i + 1) * dim];
            for (s, d) in row.iter_mut().zip(&self.delta) {
                *s += after * d;
            }
        }
    }

    fn restart(&mut self) {
        self.n = 0.0;
        self.mean.fill(0.0);
        self.m2.fill(0.0);
    }
}

/// Windowed estimation of a dense inverse mass matrix (Stan's `covar_adaptation`): the
/// sample covariance of each window's draws, regularised towards 10⁻³·I as
/// `(n/(n+5))·Σ + 10⁻³·(5/(n+5))·I`. Same schedule as [`DiagonalAdaptation`].
///
/// ```
/// use ppl_infer::adapt::DenseAdaptation;
/// use rand::{Rng, SeedableRng};
/// use rand_distr::StandardNormal;
///
/// // Warm-up draws `(a, a + b)` for independent standard normals `a`, `b`: their
/// // covariance is [[1, 1], [1, 2]].
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
/// let mut adaptation = DenseAdaptation::new(1000, 2);
/// let mut inv_mass = vec![1.0, 0.0, 0.0, 1.0]; // row-major
/// for _ in 0..1000 {
///     let (a, b): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
///     adaptation.learn(&mut inv_mass, &[a, a + b]).unwrap();
/// }
/// assert_eq!(inv_mass[1], inv_mass[2]); // symmetric
/// for (estimate, exact) in inv_mass.iter().zip([1.0, 1.0, 1.0, 2.0]) {
///     assert!((estimate - exact).abs() < 0.25, "{inv_mass:?}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DenseAdaptation {
    schedule: WindowSchedule,
    estimator: WelfordCovariance,
    scratch: Vec<f64>,
}

impl DenseAdaptation {
    /// Adaptation over `num_warmup` iterations in `dim` dimensions.
    ///
    /// See [`DenseAdaptation`] for an example.
    pub fn new(num_warmup: u32, dim: usize) -> Self {
        DenseAdaptation {
            schedule: WindowSchedule::new(num_warmup),
            estimator: WelfordCovariance::new(dim),
            scratch: vec![0.0; dim * dim],
        }
    }

    /// Records the position after one warm-up transition. When a window ends, writes
    /// the new estimate (row-major) into `inv_mass` and returns `Ok(true)`.
    ///
    /// See [`DenseAdaptation`] for an example.
    pub fn learn(&mut self, inv_mass: &mut [f64], q: &[f64]) -> Result<bool, AdaptError> {
        let (collect, ended) = self.schedule.step();
        if collect {
            self.estimator.add(q);
        }
        if !ended {
            return Ok(false);
        }
        let n = self.estimator.n;
        let dim = self.estimator.mean.len();
        let m2 = &self.estimator.m2;
        for i in 0..dim {
            for j in 0..=i {
                // Symmetric by construction: the lower triangle, mirrored.
                let cov = 0.5 * (m2[i * dim + j] + m2[j * dim + i]) / (n - 1.0);
                let mut m = (n / (n + 5.0)) * cov;
                if i == j {
                    m += 1e-3 * (5.0 / (n + 5.0));
                }
                inv_mass[i * dim + j] = m;
                inv_mass[j * dim + i] = m;
            }
        }
        if !inv_mass.iter().all(|m| m.is_finite()) {
            return Err(AdaptError::MetricOverflow);
        }
        self.estimator.restart();
        Ok(true)
    }
}

impl MetricAdaptation<DenseMetric> for DenseAdaptation {
    fn init(&mut self, _metric: &mut DenseMetric, _z: &PhasePoint) {}

    fn learn(
        &mut self,
        metric: &mut DenseMetric,
        z: &PhasePoint,
        _stats: &SampleStats,
    ) -> Result<MetricUpdate, AdaptError> {
        let mut estimate = std::mem::take(&mut self.scratch);
        let ended = DenseAdaptation::learn(self, &mut estimate, &z.q);
        let outcome = match ended {
            Ok(true) if metric.set_inv_mass(&estimate) => Ok(MetricUpdate::UpdatedRestart),
            Ok(true) => Err(AdaptError::NotPositiveDefinite),
            Ok(false) => Ok(MetricUpdate::Unchanged),
            Err(e) => Err(e),
        };
        self.scratch = estimate;
        outcome
    }
}

/// Bounds of the gradient-informed inverse-mass estimates.
pub(crate) const GRAD_METRIC_LIMITS: (f64, f64) = (1e-20, 1e20);

/// nutpie's gradient-informed diagonal adaptation (see the module documentation): the
/// inverse mass matrix is `sqrt(var(draws)/var(gradients))` elementwise, from windows
/// that overlap and are replaced as warm-up goes on.
///
/// ```
/// use ppl_infer::adapt::GradientDiagonalAdaptation;
/// // 1000 warm-up iterations: windows switch every 10 draws during the first 300,
/// // every 80 after; the last 150 adapt only the step size.
/// let adapt = GradientDiagonalAdaptation::new(1000, 3);
/// assert_eq!(adapt.metric_window_end(), 850);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GradientDiagonalAdaptation {
    iteration: u32,
    early_end: u32,
    final_window: u32,
    early_switch: u32,
    late_switch: u32,
    draws: WelfordVariance,
    grads: WelfordVariance,
    background_draws: WelfordVariance,
    background_grads: WelfordVariance,
    estimated: bool,
    late_divergences: u32,
}

/// When more than this share of the late metric-adaptation transitions (from the end
/// of the early phase to the final window) diverged, the step size is searched afresh
/// and dual averaging restarted for the final window.
const LATE_DIVERGENCE_SHARE: f64 = 0.02;

impl GradientDiagonalAdaptation {
    /// Adaptation over `num_warmup` iterations in `dim` dimensions.
    ///
    /// See [`learn`](Self::learn) for an example.
    pub fn new(num_warmup: u32, dim: usize) -> Self {
        let early_end = (0.3 * f64::from(num_warmup)) as u32;
        let final_window = num_warmup - (0.15 * f64::from(num_warmup)) as u32;
        GradientDiagonalAdaptation {
            iteration: 0,
            early_end,
            final_window,
            early_switch: 10,
            late_switch: 80,
            draws: WelfordVariance::new(dim),
            grads: WelfordVariance::new(dim),
            background_draws: WelfordVariance::new(dim),
            background_grads: WelfordVariance::new(dim),
            estimated: false,
            late_divergences: 0,
        }
    }

    /// The first warm-up iteration after which the metric stays fixed.
    ///
    /// ```
    /// use ppl_infer::adapt::GradientDiagonalAdaptation;
    /// // The last 15% of warm-up adapts only the step size.
    /// assert_eq!(GradientDiagonalAdaptation::new(1000, 2).metric_window_end(), 850);
    /// assert_eq!(GradientDiagonalAdaptation::new(100, 2).metric_window_end(), 85);
    /// ```
    pub fn metric_window_end(&self) -> u32 {
        self.final_window
    }

    /// Number of warm-up transitions learnt from so far.
    pub(crate) fn iteration(&self) -> u32 {
        self.iteration
    }

    /// The first warm-up iteration of the late phase (windows of 80 draws).
    pub(crate) fn early_end(&self) -> u32 {
        self.early_end
    }

    /// Number of draws in the background window (it restarts empty when it becomes
    /// the foreground).
    pub(crate) fn background_len(&self) -> f64 {
        self.background_draws.n
    }

    /// True once the last metric update has been made and more than
    /// [`LATE_DIVERGENCE_SHARE`] of the late adaptation transitions diverged: the
    /// step size learnt across the changing metrics is then not to be trusted for the
    /// final one.
    pub(crate) fn restart_for_final_window(&self) -> bool {
        let late = self.final_window.saturating_sub(self.early_end);
        self.iteration == self.final_window
            && f64::from(self.late_divergences) > LATE_DIVERGENCE_SHARE * f64::from(late)
    }

    /// The acceptance statistic for the step size of the transition about to be
    /// learnt from: the symmetric one ([`SampleStats::accept_stat_sym`]) from the last
    /// metric window onwards (no window switch is left) to the end of warm-up, as
    /// nutpie does, the usual one before.
    pub(crate) fn late_aware_statistic(&self, stats: &SampleStats) -> f64 {
        let switch = if self.iteration < self.early_end {
            self.early_switch
        } else {
            self.late_switch
        };
        if self.iteration + switch > self.final_window {
            stats.accept_stat_sym
        } else {
            stats.accept_stat
        }
    }

    /// Sets `inv_mass` from the gradient at the initial point, `1/|∇ log p|`, and
    /// records the point.
    ///
    /// ```
    /// use ppl_infer::adapt::GradientDiagonalAdaptation;
    /// let mut adaptation = GradientDiagonalAdaptation::new(100, 3);
    /// let mut inv_mass = vec![1.0; 3];
    /// // Gradient (−0.25, 4, 0): the inverse mass is 1/|∇ log p|, or 1 where it is 0.
    /// adaptation.init(&mut inv_mass, &[1.0, -1.0, 0.0], &[-0.25, 4.0, 0.0]);
    /// assert_eq!(inv_mass, [4.0, 0.25, 1.0]);
    /// ```
    pub fn init(&mut self, inv_mass: &mut [f64], q: &[f64], grad: &[f64]) {
        if self.final_window == 0 {
            return;
        }
        for (m, g) in inv_mass.iter_mut().zip(grad) {
            let g = g.abs();
            *m = if g > 0.0 && g.is_finite() {
                g.recip().clamp(GRAD_METRIC_LIMITS.0, GRAD_METRIC_LIMITS.1)
            } else {
                1.0
            };
        }
        self.add(q, grad);
    }

    fn add(&mut self, q: &[f64], grad: &[f64]) {
        self.draws.add(q);
        self.grads.add(grad);
        self.background_draws.add(q);
        self.background_grads.add(grad);
    }

    /// Records one warm-up draw `q` with its gradient `grad` (ignored when the transition
    /// diverged). Returns `Ok(true)` when `inv_mass` was re-estimated.
    ///
    /// ```
    /// use ppl_infer::adapt::GradientDiagonalAdaptation;
    /// use rand::{Rng, SeedableRng};
    /// use rand_distr::StandardNormal;
    ///
    /// // Draws from N(0, diag(4, 0.25)), whose log-density has gradient −q/σ².
    /// let var = [4.0, 0.25];
    /// let grad = |q: &[f64]| -> Vec<f64> { q.iter().zip(var).map(|(q, v)| -q / v).collect() };
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    /// let mut draw = || -> Vec<f64> {
    ///     var.iter().map(|v| v.sqrt() * rng.sample::<f64, _>(StandardNormal)).collect()
    /// };
    ///
    /// let mut adaptation = GradientDiagonalAdaptation::new(100, 2);
    /// let mut inv_mass = vec![1.0; 2];
    /// let q = draw();
    /// adaptation.init(&mut inv_mass, &q, &grad(&q));
    /// let mut last_update = None;
    /// for iteration in 0..100 {
    ///     let q = draw();
    ///     if adaptation.learn(&mut inv_mass, &q, &grad(&q), false).unwrap() {
    ///         last_update = Some(iteration);
    ///     }
    /// }
    /// // For a normal posterior var(draws) / var(gradients) = σ⁴ whatever the draws: the
    /// // estimate √(σ⁴) is the variance itself, up to rounding.
    /// for (m, v) in inv_mass.iter().zip(var) {
    ///     assert!((m / v - 1.0).abs() < 1e-12, "{inv_mass:?}");
    /// }
    /// // No update in the last 15% of warm-up.
    /// assert_eq!(last_update, Some(84));
    /// assert!(last_update.unwrap() < adaptation.metric_window_end());
    /// ```
    pub fn learn(
        &mut self,
        inv_mass: &mut [f64],
        q: &[f64],
        grad: &[f64],
        diverged: bool,
    ) -> Result<bool, AdaptError> {
        let iteration = self.iteration;
        self.iteration += 1;
        if iteration >= self.final_window {
            return Ok(false);
        }
        if diverged {
            if iteration >= self.early_end {
                self.late_divergences += 1;
            }
        } else {
            self.add(q, grad);
        }
        let switch = if iteration < self.early_end {
            self.early_switch
        } else {
            self.late_switch
        };
        if self.background_draws.n >= f64::from(switch) && iteration + switch <= self.final_window {
            std::mem::swap(&mut self.draws, &mut self.background_draws);
            std::mem::swap(&mut self.grads, &mut self.background_grads);
            self.background_draws.restart();
            self.background_grads.restart();
        }
        if self.draws.n < 3.0 {
            return Ok(false);
        }
        // The window sizes cancel: var(draws)/var(grads) = m2(draws)/m2(grads).
        for ((m, sx), sg) in inv_mass.iter_mut().zip(&self.draws.m2).zip(&self.grads.m2) {
            let v = (sx / sg).sqrt();
            if v.is_finite() && v > 0.0 {
                *m = v.clamp(GRAD_METRIC_LIMITS.0, GRAD_METRIC_LIMITS.1);
            }
        }
        Ok(true)
    }
}

impl MetricAdaptation<DiagonalMetric> for GradientDiagonalAdaptation {
    fn init(&mut self, metric: &mut DiagonalMetric, z: &PhasePoint) {
        GradientDiagonalAdaptation::init(self, &mut metric.inv_mass, &z.q, &z.grad);
    }

    fn learn(
        &mut self,
        metric: &mut DiagonalMetric,
        z: &PhasePoint,
        stats: &SampleStats,
    ) -> Result<MetricUpdate, AdaptError> {
        let diverged = stats.diverging || !z.logp.is_finite();
        if !GradientDiagonalAdaptation::learn(self, &mut metric.inv_mass, &z.q, &z.grad, diverged)?
        {
            return Ok(MetricUpdate::Unchanged);
        }
        Ok(self.update_kind())
    }

    fn step_size_statistic(&self, stats: &SampleStats) -> f64 {
        self.late_aware_statistic(stats)
    }
}

impl GradientDiagonalAdaptation {
    /// How the step size follows a metric update made now: dual averaging restarts
    /// after the first estimate and, when late warm-up diverged often, at the final
    /// window; otherwise it carries on.
    pub(crate) fn update_kind(&mut self) -> MetricUpdate {
        if self.restart_for_final_window() {
            MetricUpdate::UpdatedRestart
        } else if self.estimated {
            MetricUpdate::Updated
        } else {
            self.estimated = true;
            MetricUpdate::UpdatedRestart
        }
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
    fn dense_estimate_is_the_regularised_covariance() {
        let mut adapt = DenseAdaptation::new(100, 2);
        let mut inv_mass = vec![0.0; 4];
        let mut xs = Vec::new();
        let mut updates = 0;
        for i in 0..100 {
            let a = f64::from(i % 7);
            let x = [a, 0.5 * a + f64::from(i % 3)];
            if (15..90).contains(&i) {
                xs.push(x);
            }
            updates += usize::from(adapt.learn(&mut inv_mass, &x).unwrap());
        }
        assert_eq!(updates, 1);
        let n = xs.len() as f64;
        let mean = |d: usize| xs.iter().map(|x| x[d]).sum::<f64>() / n;
        let (m0, m1) = (mean(0), mean(1));
        for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let (ma, mb) = ([m0, m1][a], [m0, m1][b]);
            let cov = xs.iter().map(|x| (x[a] - ma) * (x[b] - mb)).sum::<f64>() / (n - 1.0);
            let mut expect = n / (n + 5.0) * cov;
            if a == b {
                expect += 1e-3 * 5.0 / (n + 5.0);
            }
            assert!((inv_mass[a * 2 + b] - expect).abs() < 1e-12);
        }
        assert_eq!(inv_mass[1], inv_mass[2]);
    }

    #[test]
    fn gradient_estimate_is_the_ratio_of_draw_and_gradient_scales() {
        // Independent Gaussians with sds 0.1 and 10: gradients −x/sd², so the estimate
        // sqrt(var x / var ∇) is sd² exactly for any draws.
        let sd: [f64; 2] = [0.1, 10.0];
        let mut adapt = GradientDiagonalAdaptation::new(1000, 2);
        let mut inv_mass = vec![1.0; 2];
        let grad = |x: &[f64; 2]| [-x[0] / (sd[0] * sd[0]), -x[1] / (sd[1] * sd[1])];
        let x0 = [0.05, -3.0];
        adapt.init(&mut inv_mass, &x0, &grad(&x0));
        // The initial guess is 1/|∇|.
        assert!((inv_mass[0] - 0.01 / 0.05).abs() < 1e-12);
        assert!((inv_mass[1] - 100.0 / 3.0).abs() < 1e-9);
        let mut updates = Vec::new();
        for i in 0..1000u32 {
            let t = f64::from(i);
            let x = [sd[0] * (0.7 * t).sin(), sd[1] * (1.3 * t).cos()];
            // A diverged transition is ignored.
            let diverged = i == 500;
            let q = if diverged { [1e3, 1e3] } else { x };
            if adapt.learn(&mut inv_mass, &q, &grad(&q), diverged).unwrap() {
                updates.push(i);
                assert!((inv_mass[0] / 0.01 - 1.0).abs() < 1e-9, "{inv_mass:?}");
                assert!((inv_mass[1] / 100.0 - 1.0).abs() < 1e-9, "{inv_mass:?}");
            }
        }
        // Every iteration from the third point on updates the metric, up to the final
        // 15% of warm-up.
        assert_eq!(updates.first(), Some(&1));
        assert_eq!(updates.last(), Some(&849));
        assert_eq!(updates.len(), 849);
        assert_eq!(adapt.metric_window_end(), 850);
    }

    #[test]
    fn gradient_windows_switch_early_every_10_then_every_80() {
        let mut adapt = GradientDiagonalAdaptation::new(1000, 1);
        let mut inv_mass = vec![1.0];
        adapt.init(&mut inv_mass, &[0.0], &[1.0]);
        let mut foreground = Vec::new();
        for i in 0..1000u32 {
            let x = [f64::from(i)];
            adapt.learn(&mut inv_mass, &x, &x, false).unwrap();
            foreground.push(adapt.draws.n as u32);
        }
        // Early: the foreground window holds 10 to 19 draws once the first switch is done.
        assert!(foreground[20..300].iter().all(|n| (10..20).contains(n)));
        // Later: 80 to 159 draws once the late switches have started.
        assert!(foreground[460..770].iter().all(|n| (80..160).contains(n)));
        // No switch in the last 80 draws before the final window: the window grows.
        assert!(foreground[770..850].windows(2).all(|w| w[1] == w[0] + 1));
        // Short or empty warm-ups do not panic.
        for tune in [0, 1, 5, 19] {
            let mut adapt = GradientDiagonalAdaptation::new(tune, 1);
            let mut m = vec![1.0];
            adapt.init(&mut m, &[0.5], &[2.0]);
            for i in 0..tune {
                adapt.learn(&mut m, &[f64::from(i)], &[1.0], false).unwrap();
            }
            assert!(m[0].is_finite() && m[0] > 0.0);
        }
    }

    #[test]
    fn step_size_learns_the_symmetric_statistic_once_no_window_switch_is_left() {
        let stats = SampleStats {
            lp: 0.0,
            accept_stat: 0.9,
            accept_stat_sym: 0.7,
            step_size: 0.1,
            tree_depth: 2,
            n_leapfrog: 3,
            diverging: false,
            energy: 0.0,
        };
        // 1000 warm-up iterations: the last switch can come at iteration 770 (80 draws
        // before the final window at 850), so 771 onwards learn the symmetric statistic.
        let mut adapt = GradientDiagonalAdaptation::new(1000, 1);
        let mut inv_mass = vec![1.0];
        adapt.init(&mut inv_mass, &[0.0], &[1.0]);
        let mut chosen = Vec::new();
        for i in 0..1000u32 {
            chosen.push(adapt.late_aware_statistic(&stats));
            let x = [f64::from(i)];
            adapt.learn(&mut inv_mass, &x, &x, false).unwrap();
        }
        assert!(chosen[..771].iter().all(|&a| a == 0.9));
        assert!(chosen[771..].iter().all(|&a| a == 0.7));
        // Stan's adaptation keeps the usual statistic throughout.
        let stan = DiagonalAdaptation::new(1000, 1);
        assert_eq!(
            MetricAdaptation::<DiagonalMetric>::step_size_statistic(&stan, &stats),
            0.9
        );
    }

    #[test]
    fn late_divergences_restart_the_step_size_for_the_final_window() {
        // 1000 warm-up iterations: the late phase is iterations 300..850 (550 of them),
        // so more than 11 divergences there trigger the restart, once, at the last
        // metric update.
        let restarts_with = |divergent: &[u32]| {
            let mut adapt = GradientDiagonalAdaptation::new(1000, 1);
            let mut m = vec![1.0];
            adapt.init(&mut m, &[0.0], &[1.0]);
            let mut restarts = Vec::new();
            for i in 0..1000u32 {
                let x = [f64::from(i % 13)];
                adapt.learn(&mut m, &x, &x, divergent.contains(&i)).unwrap();
                if adapt.restart_for_final_window() {
                    restarts.push(i);
                }
            }
            restarts
        };
        let early: Vec<u32> = (0..100).collect();
        let twelve_late: Vec<u32> = (400..412).collect();
        let eleven_late: Vec<u32> = (400..411).collect();
        // Early divergences (finding the typical set) do not count.
        assert_eq!(restarts_with(&early), Vec::<u32>::new());
        assert_eq!(restarts_with(&eleven_late), Vec::<u32>::new());
        assert_eq!(restarts_with(&twelve_late), vec![849]);
        // Divergences in the final window come too late to matter.
        let final_window: Vec<u32> = (860..900).collect();
        assert_eq!(restarts_with(&final_window), Vec::<u32>::new());
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
