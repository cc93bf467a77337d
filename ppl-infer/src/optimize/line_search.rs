//! A line search for a step satisfying the strong Wolfe conditions (Nocedal & Wright,
//! *Numerical Optimization*, 2nd ed., Algorithms 3.5 and 3.6), with safeguarded cubic
//! interpolation while zooming.

use ppl_core::Error;

/// Sufficient-decrease constant c₁ of the Armijo condition.
const SUFFICIENT_DECREASE: f64 = 1e-4;
/// Curvature constant c₂ (the usual value for quasi-Newton directions).
const CURVATURE: f64 = 0.9;
/// The trial step grows by this factor while no interval containing a Wolfe step is known.
const EXPANSION: f64 = 4.0;
/// Objective evaluations one line search may spend.
const MAX_EVALUATIONS: usize = 60;
/// An interpolated step is kept this fraction of the interval's width away from its ends.
const SAFEGUARD: f64 = 0.1;

/// A point `x₀ + α p` of the search line with the objective and its gradient there.
#[derive(Debug, Clone)]
pub(crate) struct LinePoint {
    /// The step length α.
    pub alpha: f64,
    /// The position `x₀ + α p`.
    pub x: Vec<f64>,
    /// The objective (`+∞` where the model's density is zero or its gradient undefined).
    pub f: f64,
    /// The objective's gradient.
    pub grad: Vec<f64>,
    /// The directional derivative `∇f · p`.
    pub slope: f64,
}

/// What a line search found.
#[derive(Debug)]
pub(crate) enum LineSearchOutcome {
    /// A step satisfying both strong Wolfe conditions.
    Wolfe(LinePoint),
    /// A step with sufficient decrease only: the interval shrank to rounding or the
    /// evaluations ran out. Still progress.
    Decrease(LinePoint),
    /// No step with sufficient decrease.
    Failed,
}

/// Searches along the descent direction `direction` from `x0` (objective `f0`,
/// directional derivative `slope0 < 0`) starting with the step `initial_step`.
///
/// `objective(x, grad)` returns the objective to minimise and fills its gradient; a model
/// error stops the search. A non-finite objective or gradient marks a step as too long.
pub(crate) fn strong_wolfe<F>(
    objective: &mut F,
    x0: &[f64],
    f0: f64,
    slope0: f64,
    direction: &[f64],
    initial_step: f64,
) -> Result<LineSearchOutcome, Error>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<f64, Error>,
{
    debug_assert!(slope0 < 0.0, "not a descent direction: slope {slope0}");
    let mut evaluate = |alpha: f64| -> Result<LinePoint, Error> {
        let x: Vec<f64> = x0
            .iter()
            .zip(direction)
            .map(|(x, p)| x + alpha * p)
            .collect();
        let mut grad = vec![0.0; x.len()];
        let f = objective(&x, &mut grad)?;
        let slope: f64 = grad.iter().zip(direction).map(|(g, p)| g * p).sum();
        let (f, slope) = if f.is_finite() && slope.is_finite() {
            (f, slope)
        } else {
            (f64::INFINITY, f64::NAN)
        };
        Ok(LinePoint {
            alpha,
            x,
            f,
            grad,
            slope,
        })
    };
    let sufficient = |p: &LinePoint| p.f <= f0 + SUFFICIENT_DECREASE * p.alpha * slope0;
    let curvature = |p: &LinePoint| p.slope.abs() <= -CURVATURE * slope0;

    // Bracketing: grow the step until an interval is known to contain a Wolfe step.
    let mut previous = LinePoint {
        alpha: 0.0,
        x: x0.to_vec(),
        f: f0,
        grad: Vec::new(),
        slope: slope0,
    };
    let mut alpha = initial_step;
    let mut evaluations = 0;
    let (mut lo, mut hi) = loop {
        if evaluations == MAX_EVALUATIONS {
            return Ok(without_curvature(previous));
        }
        let trial = evaluate(alpha)?;
        evaluations += 1;
        if !sufficient(&trial) || (previous.alpha > 0.0 && trial.f >= previous.f) {
            break (previous, trial);
        }
        if curvature(&trial) {
            return Ok(LineSearchOutcome::Wolfe(trial));
        }
        if trial.slope >= 0.0 {
            break (trial, previous);
        }
        previous = trial;
        alpha *= EXPANSION;
    };

    // Zoom: `lo` has sufficient decrease and the lowest objective seen; a Wolfe step
    // lies between `lo` and `hi`.
    while evaluations < MAX_EVALUATIONS {
        let (left, right) = (lo.alpha.min(hi.alpha), lo.alpha.max(hi.alpha));
        let width = right - left;
        if width <= f64::EPSILON * right {
            break;
        }
        let alpha = match cubic_minimiser(&lo, &hi) {
            Some(a) if a >= left + SAFEGUARD * width && a <= right - SAFEGUARD * width => a,
            _ => 0.5 * (left + right),
        };
        let trial = evaluate(alpha)?;
        evaluations += 1;
        if !sufficient(&trial) || trial.f >= lo.f {
            hi = trial;
        } else {
            if curvature(&trial) {
                return Ok(LineSearchOutcome::Wolfe(trial));
            }
            if trial.slope * (hi.alpha - lo.alpha) >= 0.0 {
                hi = std::mem::replace(&mut lo, trial);
            } else {
                lo = trial;
            }
        }
    }
    Ok(without_curvature(lo))
}

/// The best point found when no Wolfe step was: progress if it moved at all.
fn without_curvature(best: LinePoint) -> LineSearchOutcome {
    if best.alpha > 0.0 {
        LineSearchOutcome::Decrease(best)
    } else {
        LineSearchOutcome::Failed
    }
}

/// The minimiser of the cubic matching the objective and slope at both points (Nocedal &
/// Wright eq. 3.59), if both are finite and the cubic has one.
fn cubic_minimiser(a: &LinePoint, b: &LinePoint) -> Option<f64> {
    if !(a.f.is_finite() && b.f.is_finite() && a.slope.is_finite() && b.slope.is_finite()) {
        return None;
    }
    let d1 = a.slope + b.slope - 3.0 * (a.f - b.f) / (a.alpha - b.alpha);
    let discriminant = d1 * d1 - a.slope * b.slope;
    if discriminant < 0.0 {
        return None;
    }
    let d2 = (b.alpha - a.alpha).signum() * discriminant.sqrt();
    let alpha =
        b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
    alpha.is_finite().then_some(alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `f(x) = (x − 3)⁴ + x²/10` in one dimension, with its gradient.
    fn quartic(x: &[f64], g: &mut [f64]) -> Result<f64, Error> {
        let d = x[0] - 3.0;
        g[0] = 4.0 * d.powi(3) + 0.2 * x[0];
        Ok(d.powi(4) + 0.1 * x[0] * x[0])
    }

    fn wolfe_holds(p: &LinePoint, f0: f64, slope0: f64) -> bool {
        p.f <= f0 + SUFFICIENT_DECREASE * p.alpha * slope0 && p.slope.abs() <= -CURVATURE * slope0
    }

    #[test]
    fn finds_a_strong_wolfe_step_from_short_and_long_starts() {
        let mut g0 = [0.0];
        let f0 = quartic(&[0.0], &mut g0).unwrap();
        let direction = [-g0[0]];
        let slope0 = g0[0] * direction[0];
        // 1e-6 needs bracketing by expansion; 1.0 overshoots (x = 108) and needs zooming.
        for initial in [1e-6, 1e-2, 1.0] {
            let outcome =
                strong_wolfe(&mut quartic, &[0.0], f0, slope0, &direction, initial).unwrap();
            let LineSearchOutcome::Wolfe(p) = outcome else {
                panic!("no Wolfe step from {initial}: {outcome:?}")
            };
            assert!(wolfe_holds(&p, f0, slope0), "{p:?}");
        }
    }

    #[test]
    fn a_region_of_zero_density_shortens_the_step() {
        // The objective is +∞ beyond x = 1 (zero density), its minimum at 0.9 inside.
        let mut walled = |x: &[f64], g: &mut [f64]| -> Result<f64, Error> {
            g[0] = 2.0 * (x[0] - 0.9);
            Ok(if x[0] > 1.0 {
                f64::INFINITY
            } else {
                (x[0] - 0.9).powi(2)
            })
        };
        let outcome = strong_wolfe(&mut walled, &[0.0], 0.81, -1.8 * 100.0, &[100.0], 1.0).unwrap();
        let LineSearchOutcome::Wolfe(p) = outcome else {
            panic!("no Wolfe step: {outcome:?}")
        };
        assert!(p.x[0] <= 1.0 && p.f < 0.81, "{p:?}");
    }

    #[test]
    fn an_ascent_everywhere_fails() {
        // The direction claims descent, but the objective only grows along it.
        let mut rising = |x: &[f64], g: &mut [f64]| -> Result<f64, Error> {
            g[0] = 1.0;
            Ok(x[0].abs() + 1e-300)
        };
        let outcome = strong_wolfe(&mut rising, &[0.0], 0.0, -1.0, &[1.0], 1.0).unwrap();
        assert!(matches!(outcome, LineSearchOutcome::Failed), "{outcome:?}");
    }

    #[test]
    fn the_cubic_minimiser_of_a_cubic_is_exact() {
        // φ(α) = α³ − 3α: minimum at α = 1; φ' = 3α² − 3.
        let point = |alpha: f64| LinePoint {
            alpha,
            x: Vec::new(),
            f: alpha.powi(3) - 3.0 * alpha,
            grad: Vec::new(),
            slope: 3.0 * alpha * alpha - 3.0,
        };
        let a = cubic_minimiser(&point(0.0), &point(2.0)).unwrap();
        assert!((a - 1.0).abs() < 1e-12, "{a}");
        let a = cubic_minimiser(&point(2.0), &point(0.5)).unwrap();
        assert!((a - 1.0).abs() < 1e-12, "{a}");
    }
}
