//! Limited-memory BFGS minimisation (Nocedal & Wright, Algorithm 7.5) with Stan's
//! convergence tests.

use super::line_search::{strong_wolfe, LineSearchOutcome};
use super::{OptimizeError, StopReason};
use ppl_core::Error;
use std::collections::VecDeque;

/// Convergence tolerances and limits (the fields of [`Map`](super::Map)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LbfgsSettings {
    pub max_iters: usize,
    pub history_size: usize,
    pub tol_obj: f64,
    pub tol_rel_obj: f64,
    pub tol_grad: f64,
    pub tol_rel_grad: f64,
    pub tol_param: f64,
}

/// Where the minimisation stopped.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub x: Vec<f64>,
    pub f: f64,
    pub iterations: usize,
    pub stop: StopReason,
}

/// One correction pair `s = xₖ₊₁ − xₖ`, `y = ∇fₖ₊₁ − ∇fₖ` with `ρ = 1/(sᵀy)`.
struct Correction {
    s: Vec<f64>,
    y: Vec<f64>,
    rho: f64,
}

/// The last few correction pairs: the implicit inverse-Hessian approximation `H`.
struct History {
    pairs: VecDeque<Correction>,
    capacity: usize,
}

impl History {
    fn new(capacity: usize) -> Self {
        History {
            pairs: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Adds a pair when it has positive curvature (else `H` would lose definiteness).
    fn push(&mut self, s: Vec<f64>, y: Vec<f64>) {
        let sy = dot(&s, &y);
        let curved = sy > f64::EPSILON * norm(&s) * norm(&y); // false for NaN too
        if !curved {
            return;
        }
        if self.pairs.len() == self.capacity {
            self.pairs.pop_front();
        }
        self.pairs.push_back(Correction {
            s,
            y,
            rho: 1.0 / sy,
        });
    }

    /// `−H g` by the two-loop recursion, with `H₀ = γI`, `γ = sᵀy / yᵀy` of the newest
    /// pair (the identity without pairs).
    fn direction(&self, grad: &[f64]) -> Vec<f64> {
        let mut q = grad.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for pair in self.pairs.iter().rev() {
            let alpha = pair.rho * dot(&pair.s, &q);
            axpy(-alpha, &pair.y, &mut q);
            alphas.push(alpha);
        }
        if let Some(newest) = self.pairs.back() {
            let gamma = 1.0 / (newest.rho * dot(&newest.y, &newest.y));
            q.iter_mut().for_each(|v| *v *= gamma);
        }
        for (pair, alpha) in self.pairs.iter().zip(alphas.iter().rev()) {
            let beta = pair.rho * dot(&pair.y, &q);
            axpy(alpha - beta, &pair.s, &mut q);
        }
        q.iter_mut().for_each(|v| *v = -*v);
        q
    }

    fn clear(&mut self) {
        self.pairs.clear();
    }
}

/// Minimises `objective` from `x` (where it is `f` with gradient `grad`, both finite),
/// passing each accepted iterate and its gradient to `on_step`.
///
/// After each step the tests run in Stan's order: absolute change of the objective,
/// gradient norm, step length, the iteration limit, relative change of the objective,
/// relative gradient `gᵀHg / max(|f|, 1)`. When the line search finds no decrease along
/// the quasi-Newton direction, the history is dropped and steepest descent is tried;
/// when that fails too the error carries where the search stood.
pub(crate) fn minimize<F>(
    objective: &mut F,
    mut x: Vec<f64>,
    mut f: f64,
    mut grad: Vec<f64>,
    settings: &LbfgsSettings,
    on_step: &mut dyn FnMut(&[f64], &[f64]),
) -> Result<Minimum, OptimizeError>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<f64, Error>,
{
    if norm(&grad) < settings.tol_grad {
        return Ok(Minimum {
            x,
            f,
            iterations: 0,
            stop: StopReason::GradientNorm,
        });
    }
    let mut history = History::new(settings.history_size);
    let mut direction: Vec<f64> = grad.iter().map(|g| -g).collect();
    for iteration in 1..=settings.max_iters {
        let mut restarted = history.pairs.is_empty();
        let point = loop {
            let mut slope = dot(&grad, &direction);
            let descends = slope < 0.0; // false for NaN too
            if !descends {
                // Rounding made the quasi-Newton direction useless: start afresh.
                history.clear();
                direction = grad.iter().map(|g| -g).collect();
                slope = -dot(&grad, &grad);
                restarted = true;
            }
            // A quasi-Newton step has the scale of a Newton step; a gradient step is
            // first tried with unit length in x (at most 1 in α).
            let initial_step = if history.pairs.is_empty() {
                (1.0 / norm(&direction)).min(1.0)
            } else {
                1.0
            };
            match strong_wolfe(objective, &x, f, slope, &direction, initial_step)? {
                LineSearchOutcome::Wolfe(point) | LineSearchOutcome::Decrease(point) => {
                    break point
                }
                LineSearchOutcome::Failed if !restarted => {
                    history.clear();
                    direction = grad.iter().map(|g| -g).collect();
                    restarted = true;
                }
                LineSearchOutcome::Failed => {
                    // The objective is the negative log-density.
                    return Err(OptimizeError::LineSearch {
                        iterations: iteration - 1,
                        log_density: -f,
                        gradient_norm: norm(&grad),
                    });
                }
            }
        };
        let s: Vec<f64> = point.x.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = point.grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let step_norm = norm(&s);
        let f_previous = f;
        (x, f, grad) = (point.x, point.f, point.grad);
        on_step(&x, &grad);
        history.push(s, y);
        direction = history.direction(&grad);

        let change = (f_previous - f).abs();
        let stop = if change < settings.tol_obj {
            Some(StopReason::ObjectiveChange)
        } else if norm(&grad) < settings.tol_grad {
            Some(StopReason::GradientNorm)
        } else if step_norm < settings.tol_param {
            Some(StopReason::ParameterChange)
        } else if iteration >= settings.max_iters {
            Some(StopReason::MaxIterations)
        } else if change / f_previous.abs().max(f.abs()).max(1.0)
            < settings.tol_rel_obj * f64::EPSILON
        {
            Some(StopReason::RelativeObjectiveChange)
        } else if -dot(&direction, &grad) / f.abs().max(1.0) < settings.tol_rel_grad * f64::EPSILON
        {
            Some(StopReason::RelativeGradient)
        } else {
            None
        };
        if let Some(stop) = stop {
            return Ok(Minimum {
                x,
                f,
                iterations: iteration,
                stop,
            });
        }
    }
    unreachable!("the iteration limit is tested in the last iteration (max_iters ≥ 1)")
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `y ← y + a x`.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LbfgsSettings {
        LbfgsSettings {
            max_iters: 2000,
            history_size: 5,
            tol_obj: 1e-12,
            tol_rel_obj: 1e4,
            tol_grad: 1e-8,
            tol_rel_grad: 1e7,
            tol_param: 1e-8,
        }
    }

    /// Rosenbrock's function `(1 − a)² + 100 (b − a²)²`, minimum 0 at (1, 1).
    fn rosenbrock(x: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        let (a, b) = (x[0], x[1]);
        g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
        g[1] = 200.0 * (b - a * a);
        Ok((1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2))
    }

    #[test]
    fn minimises_rosenbrock_from_the_standard_start() {
        let x0 = vec![-1.2, 1.0];
        let mut g0 = vec![0.0; 2];
        let f0 = rosenbrock(&x0, &mut g0).unwrap();
        let mut evaluations = 0;
        let mut counted = |x: &[f64], g: &mut [f64]| {
            evaluations += 1;
            rosenbrock(x, g)
        };
        let tight = LbfgsSettings {
            tol_obj: 1e-20,
            tol_rel_obj: 1.0,
            ..settings()
        };
        let min = minimize(&mut counted, x0, f0, g0, &tight, &mut |_, _| {}).unwrap();
        assert!(
            (min.x[0] - 1.0).abs() < 1e-6 && (min.x[1] - 1.0).abs() < 1e-6,
            "{min:?}"
        );
        // Nocedal & Wright report about 35-45 iterations for (L-)BFGS from this start.
        assert!(min.iterations < 100, "{min:?}");
        assert!(evaluations < 200, "{evaluations}");
    }

    #[test]
    fn the_direction_of_one_pair_matches_the_secant_on_a_quadratic() {
        // f = x² + 4y²: after one exact pair s, y = 2·diag(1, 4)·s, H y = s.
        let mut history = History::new(3);
        history.push(vec![1.0, 0.0], vec![2.0, 0.0]);
        history.push(vec![0.0, 1.0], vec![0.0, 8.0]);
        let d = history.direction(&[2.0, 8.0]);
        assert!(
            (d[0] + 1.0).abs() < 1e-12 && (d[1] + 1.0).abs() < 1e-12,
            "{d:?}"
        );
        // Pairs without positive curvature are not kept.
        history.push(vec![1.0, 0.0], vec![-1.0, 0.0]);
        assert_eq!(history.pairs.len(), 2);
    }

    #[test]
    fn stops_at_the_iteration_limit() {
        let x0 = vec![-1.2, 1.0];
        let mut g0 = vec![0.0; 2];
        let f0 = rosenbrock(&x0, &mut g0).unwrap();
        let few = LbfgsSettings {
            max_iters: 3,
            ..settings()
        };
        let min = minimize(&mut rosenbrock, x0, f0, g0, &few, &mut |_, _| {}).unwrap();
        assert_eq!((min.iterations, min.stop), (3, StopReason::MaxIterations));
        assert!(min.f < f0);
    }
}
