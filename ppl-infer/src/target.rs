//! What a chain samples: a log-density plus initial points and the values a trace records.
//!
//! [`SampleTarget`] is implemented for `ppl_core::Model` (draws recorded in the
//! constrained space with their shapes, deterministics included) and, through
//! [`RawDensity`], for any [`LogDensity`] (the unconstrained vector recorded as `x`).

use ppl_core::model::{LogDensity, Model, ModelTemplate, INIT_ATTEMPTS};
use rand::{Rng, RngCore};

/// Whether a recorded variable is sampled or computed from the sampled ones.
///
/// ```
/// use ppl_core::context::api::{self, NoShape};
/// use ppl_core::dist::Normal;
/// use ppl_core::{Context, Model, ModelTemplate, Real};
/// use ppl_infer::{SampleTarget, VariableKind};
/// use std::ops::{Add, Div, Mul, Sub};
///
/// /// `mu ~ Normal(0, 1)` and the deterministic `shifted = mu + 1`.
/// struct Shifted;
/// impl ModelTemplate for Shifted {
///     type Output<R: Real> = ();
///     fn name(&self) -> &'static str { "shifted" }
///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
///     where
///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
///     {
///         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
///         api::deterministic(ctx, "shifted", &(1.0 + mu));
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = Model::new(Shifted)?;
/// let kinds: Vec<(String, VariableKind)> =
///     SampleTarget::variables(&model).into_iter().map(|v| (v.name, v.kind)).collect();
/// assert_eq!(
///     kinds,
///     [("mu".into(), VariableKind::Parameter), ("shifted".into(), VariableKind::Deterministic)]
/// );
/// // Recorded values: the parameter, then the deterministic computed from it.
/// let mut out = [0.0; 2];
/// model.record(&[0.25], &mut out)?;
/// assert_eq!(out, [0.25, 1.25]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VariableKind {
    /// A random variable of the model.
    Parameter,
    /// A deterministic quantity (`deterministic!`).
    Deterministic,
    /// Draws of an observed variable given each posterior draw (added by
    /// [`Predictive::sample_posterior_predictive`](crate::Predictive); Stan's `y_rep` in
    /// generated quantities, ArviZ's `posterior_predictive` group).
    PosteriorPredictive,
    /// Draws of an observed variable from the prior predictive (in the trace
    /// [`Predictive::sample_prior_predictive`](crate::Predictive) returns; ArviZ's
    /// `prior_predictive` group).
    PriorPredictive,
    /// The pointwise log-likelihood of an observation at each draw (added by
    /// [`LogLikelihood::compute_log_likelihood`](crate::LogLikelihood); ArviZ's
    /// `log_likelihood` group).
    LogLikelihood,
}

impl VariableKind {
    /// The kinds that make up the posterior itself (ArviZ's `posterior` group), as
    /// opposed to what predictive sampling and log-likelihoods add to a trace.
    pub(crate) const POSTERIOR: [VariableKind; 2] =
        [VariableKind::Parameter, VariableKind::Deterministic];

    /// True for the [`POSTERIOR`](Self::POSTERIOR) kinds.
    pub(crate) fn is_posterior(self) -> bool {
        Self::POSTERIOR.contains(&self)
    }
}

/// One named, shaped quantity recorded for every draw.
///
/// ```
/// use ppl_infer::{TraceVariable, VariableKind};
/// let l = TraceVariable { name: "L".into(), shape: vec![2, 3], kind: VariableKind::Parameter };
/// assert_eq!(l.len(), 6);
/// // Elements are numbered row-major from 0.
/// assert_eq!(l.element_name(4), "L[1, 1]");
/// let mu = TraceVariable { name: "mu".into(), shape: vec![], kind: VariableKind::Parameter };
/// assert_eq!((mu.len(), mu.element_name(0)), (1, "mu".to_string()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceVariable {
    /// Its name.
    pub name: String,
    /// Its shape (empty for a scalar); values are stored row-major.
    pub shape: Vec<usize>,
    /// Parameter or deterministic.
    pub kind: VariableKind,
}

impl TraceVariable {
    /// Number of scalars (the product of the shape).
    ///
    /// ```
    /// use ppl_infer::{TraceVariable, VariableKind};
    /// let theta = TraceVariable { name: "theta".into(), shape: vec![3, 4], kind: VariableKind::Parameter };
    /// assert_eq!(theta.len(), 12);
    /// // A scalar has the empty shape, and one element.
    /// let mu = TraceVariable { name: "mu".into(), shape: vec![], kind: VariableKind::Parameter };
    /// assert_eq!(mu.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for an empty array.
    ///
    /// ```
    /// use ppl_infer::{TraceVariable, VariableKind};
    /// let none = TraceVariable { name: "w".into(), shape: vec![0, 3], kind: VariableKind::Deterministic };
    /// assert!(none.is_empty());
    /// let mu = TraceVariable { name: "mu".into(), shape: vec![], kind: VariableKind::Parameter };
    /// assert!(!mu.is_empty()); // a scalar
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The display name of element `flat` (row-major): `mu`, `theta[3]`, `L[1, 0]`.
    ///
    /// ```
    /// use ppl_infer::{TraceVariable, VariableKind};
    /// let l = TraceVariable { name: "L".into(), shape: vec![2, 3], kind: VariableKind::Parameter };
    /// // Row-major: element 4 is row 1, column 1; element 5 the last one.
    /// assert_eq!(l.element_name(4), "L[1, 1]");
    /// assert_eq!(l.element_name(5), "L[1, 2]");
    /// let mu = TraceVariable { name: "mu".into(), shape: vec![], kind: VariableKind::Parameter };
    /// assert_eq!(mu.element_name(0), "mu");
    /// ```
    pub fn element_name(&self, flat: usize) -> String {
        if self.shape.is_empty() {
            return self.name.clone();
        }
        let mut index = vec![0; self.shape.len()];
        let mut rest = flat;
        for (i, n) in index.iter_mut().zip(&self.shape).rev() {
            *i = rest % n;
            rest /= n;
        }
        let index: Vec<String> = index.iter().map(|i| i.to_string()).collect();
        format!("{}[{}]", self.name, index.join(", "))
    }
}

/// Everything a chain needs from what it samples.
///
/// Implemented for `ppl_core::Model<T>` and for [`RawDensity`]; implement it to sample
/// another kind of model with [`sample_target`](crate::sample_target).
///
/// ```
/// use ppl_infer::{sample_target, LogDensity, Nuts, SampleTarget, TraceVariable, VariableKind};
/// use rand::{Rng, RngCore};
///
/// /// A log-normal scale `sigma ~ LogNormal(0, 1)`, sampled as `y = ln sigma ~ Normal(0, 1)`
/// /// and recorded as `sigma`.
/// struct Scale;
/// impl LogDensity for Scale {
///     fn dim(&self) -> usize { 1 }
///     fn logp(&self, y: &[f64]) -> ppl_core::Result<f64> { Ok(-0.5 * y[0] * y[0]) }
///     fn logp_grad(&self, y: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
///         g[0] = -y[0];
///         self.logp(y)
///     }
/// }
/// impl SampleTarget for Scale {
///     fn initial_position(&self, rng: &mut dyn RngCore) -> Result<Vec<f64>, ppl_core::Error> {
///         Ok(vec![rng.gen_range(-1.0..1.0)])
///     }
///     fn check_position(&self, y: &[f64]) -> Result<(), ppl_core::Error> {
///         match y {
///             [y] if y.is_finite() => Ok(()),
///             _ => Err(ppl_core::Error::Point(format!("bad position {y:?}"))),
///         }
///     }
///     fn variables(&self) -> Vec<TraceVariable> {
///         let kind = VariableKind::Parameter;
///         vec![TraceVariable { name: "sigma".into(), shape: vec![], kind }]
///     }
///     fn record(&self, y: &[f64], out: &mut [f64]) -> Result<(), ppl_core::Error> {
///         out[0] = y[0].exp();
///         Ok(())
///     }
/// }
///
/// let nuts = Nuts::default().chains(2).draws(400).tune(200).seed(9).progress(false);
/// let trace = sample_target(&Scale, nuts)?;
/// assert_eq!(trace.column_names(), ["sigma"]);
/// assert!(trace.samples("sigma", 0).unwrap().iter().all(|c| c.iter().all(|&s| s > 0.0)));
/// // E[sigma] = exp(1/2).
/// let row = trace.summary().row("sigma").unwrap().clone();
/// assert!((row.mean - 0.5f64.exp()).abs() < 4.0 * row.mcse_mean, "{}", row.mean);
/// # Ok::<(), ppl_infer::SampleError>(())
/// ```
pub trait SampleTarget: LogDensity + Sync {
    /// A random initial position with finite log-density and gradient, or an error that
    /// explains why none was found.
    ///
    /// For a [`RawDensity`], Stan's uniform(−2, 2) draws retried
    /// [`INIT_ATTEMPTS`](ppl_core::model::INIT_ATTEMPTS) times:
    ///
    /// ```
    /// use ppl_core::model::{rng_for, INIT_ATTEMPTS};
    /// use ppl_infer::{LogDensity, RawDensity, SampleTarget};
    ///
    /// /// A density that is zero unless x > 5, out of reach of the initial draws.
    /// struct FarAway;
    /// impl LogDensity for FarAway {
    ///     fn dim(&self) -> usize { 1 }
    ///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
    ///         Ok(if x[0] > 5.0 { -x[0] } else { f64::NEG_INFINITY })
    ///     }
    ///     fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
    ///         g[0] = -1.0;
    ///         self.logp(x)
    ///     }
    /// }
    /// let err = RawDensity(&FarAway).initial_position(&mut rng_for(1, 0)).unwrap_err();
    /// assert!(matches!(err, ppl_core::Error::Init { attempts, .. } if attempts == INIT_ATTEMPTS));
    /// ```
    fn initial_position(&self, rng: &mut dyn RngCore) -> Result<Vec<f64>, ppl_core::Error>;

    /// Checks a user-given initial position.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.5)`, `sigma ~ HalfNormal(1)`, `y = 1 ~ Normal(k, sigma)` observed.
    /// # struct Switch;
    /// # impl ModelTemplate for Switch {
    /// #     type Output<R: Real> = ();
    /// #     fn name(&self) -> &'static str {
    /// #         "switch"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.5), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(k as f64, sigma), 1.0);
    /// #     }
    /// # }
    /// # let model = Model::new(Switch).unwrap();
    /// use ppl_core::{Error, Point};
    /// use ppl_infer::SampleTarget;
    ///
    /// let given = model.condition(&Point::new().with("k", 1.0)).unwrap(); // NUTS needs no `z`
    /// assert_eq!(given.check_position(&[0.0]), Ok(()));
    /// let err = given.check_position(&[0.0, 0.0]).unwrap_err();
    /// assert_eq!(err, Error::Dimension { expected: 1, found: 2 });
    /// // ln sigma = 1000: sigma = +∞, outside the prior's support.
    /// assert!(matches!(given.check_position(&[1000.0]), Err(Error::Init { attempts: 1, .. })));
    /// ```
    fn check_position(&self, position: &[f64]) -> Result<(), ppl_core::Error>;

    /// The quantities recorded for each draw, in order.
    ///
    /// For a [`Model`], its free variables then its deterministics:
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.5)`, `sigma ~ HalfNormal(1)`, `y = 1 ~ Normal(k, sigma)` observed.
    /// # struct Switch;
    /// # impl ModelTemplate for Switch {
    /// #     type Output<R: Real> = ();
    /// #     fn name(&self) -> &'static str {
    /// #         "switch"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.5), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(k as f64, sigma), 1.0);
    /// #     }
    /// # }
    /// # let model = Model::new(Switch).unwrap();
    /// use ppl_core::Point;
    /// use ppl_infer::{SampleTarget, TraceVariable};
    ///
    /// let names = |variables: Vec<TraceVariable>| -> Vec<String> {
    ///     variables.into_iter().map(|v| v.name).collect()
    /// };
    /// assert_eq!(names(model.variables()), ["k", "sigma"]);
    /// let given = model.condition(&Point::new().with("k", 1.0)).unwrap();
    /// assert_eq!(names(given.variables()), ["sigma"]); // k is held at a value
    /// ```
    fn variables(&self) -> Vec<TraceVariable>;

    /// Writes the recorded values at `position` into `out`, in the order and with the
    /// lengths of [`variables`](Self::variables).
    fn record(&self, position: &[f64], out: &mut [f64]) -> Result<(), ppl_core::Error>;

    /// Names of discrete variables, which NUTS cannot sample.
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.5)`, `sigma ~ HalfNormal(1)`, `y = 1 ~ Normal(k, sigma)` observed.
    /// # struct Switch;
    /// # impl ModelTemplate for Switch {
    /// #     type Output<R: Real> = ();
    /// #     fn name(&self) -> &'static str {
    /// #         "switch"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.5), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(k as f64, sigma), 1.0);
    /// #     }
    /// # }
    /// # let model = Model::new(Switch).unwrap();
    /// use ppl_infer::SampleTarget;
    ///
    /// assert_eq!(SampleTarget::discrete_variables(&model), ["k"]);
    /// ```
    fn discrete_variables(&self) -> Vec<String> {
        Vec::new()
    }
}

fn position_is_valid<D: LogDensity + ?Sized>(density: &D, position: &[f64]) -> bool {
    let mut grad = vec![0.0; density.dim()];
    matches!(density.logp_grad(position, &mut grad), Ok(lp) if lp.is_finite() && grad.iter().all(|g| g.is_finite()))
}

/// Any [`LogDensity`] as a [`SampleTarget`]: draws are the unconstrained vector itself,
/// recorded as one variable `x` of shape `[dim]`.
///
/// ```
/// use ppl_infer::{LogDensity, RawDensity, SampleTarget, VariableKind};
/// use rand::SeedableRng;
///
/// /// A standard normal in 2 dimensions.
/// struct StdNormal;
/// impl LogDensity for StdNormal {
///     fn dim(&self) -> usize { 2 }
///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
///         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
///     }
///     fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
///         for (g, v) in grad.iter_mut().zip(x) { *g = -v; }
///         self.logp(x)
///     }
/// }
///
/// let target = RawDensity(&StdNormal);
/// let variables = target.variables();
/// assert_eq!((variables[0].name.as_str(), variables[0].shape.as_slice()), ("x", &[2][..]));
/// assert_eq!(variables[0].kind, VariableKind::Parameter);
/// // Initial positions are drawn uniformly from (−2, 2) in every coordinate.
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let x = target.initial_position(&mut rng).unwrap();
/// assert!(x.len() == 2 && x.iter().all(|v| v.abs() < 2.0));
/// // A user-given position must have the right length.
/// assert!(matches!(
///     target.check_position(&[0.0]),
///     Err(ppl_core::Error::Dimension { expected: 2, found: 1 })
/// ));
/// let mut out = [0.0; 2];
/// target.record(&[0.5, -1.0], &mut out).unwrap();
/// assert_eq!(out, [0.5, -1.0]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RawDensity<'a, D: ?Sized>(pub &'a D);

impl<D: LogDensity + ?Sized> LogDensity for RawDensity<'_, D> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn logp(&self, position: &[f64]) -> ppl_core::Result<f64> {
        self.0.logp(position)
    }
    fn logp_grad(&self, position: &[f64], grad: &mut [f64]) -> ppl_core::Result<f64> {
        self.0.logp_grad(position, grad)
    }
}

impl<D: LogDensity + Sync + ?Sized> SampleTarget for RawDensity<'_, D> {
    /// Stan's initialisation: uniform(−2, 2) in every coordinate, retried.
    fn initial_position(&self, rng: &mut dyn RngCore) -> Result<Vec<f64>, ppl_core::Error> {
        let mut u = vec![0.0; self.dim()];
        for _ in 0..INIT_ATTEMPTS {
            for x in u.iter_mut() {
                *x = rng.gen_range(-2.0..2.0);
            }
            if position_is_valid(self.0, &u) {
                return Ok(u);
            }
        }
        Err(ppl_core::Error::Init {
            attempts: INIT_ATTEMPTS,
            table: format!(
                "  log-density at the last attempt {u:?}: {:?}\n",
                self.0.logp(&u)
            ),
        })
    }

    fn check_position(&self, position: &[f64]) -> Result<(), ppl_core::Error> {
        if position.len() != self.dim() {
            return Err(ppl_core::Error::Dimension {
                expected: self.dim(),
                found: position.len(),
            });
        }
        if position_is_valid(self.0, position) {
            return Ok(());
        }
        Err(ppl_core::Error::Init {
            attempts: 1,
            table: format!(
                "  log-density at {position:?}: {:?}\n",
                self.0.logp(position)
            ),
        })
    }

    fn variables(&self) -> Vec<TraceVariable> {
        vec![TraceVariable {
            name: "x".into(),
            shape: vec![self.dim()],
            kind: VariableKind::Parameter,
        }]
    }

    fn record(&self, position: &[f64], out: &mut [f64]) -> Result<(), ppl_core::Error> {
        out.copy_from_slice(position);
        Ok(())
    }
}

impl<T: ModelTemplate + Sync> SampleTarget for Model<T> {
    fn initial_position(&self, rng: &mut dyn RngCore) -> Result<Vec<f64>, ppl_core::Error> {
        self.initial_point(rng)
    }

    fn check_position(&self, position: &[f64]) -> Result<(), ppl_core::Error> {
        if position.len() != self.dim() {
            return Err(ppl_core::Error::Dimension {
                expected: self.dim(),
                found: position.len(),
            });
        }
        self.check_initial_point(position)
    }

    fn variables(&self) -> Vec<TraceVariable> {
        let layout = self.layout();
        let parameters = layout
            .variables
            .iter()
            .filter(|v| !v.fixed)
            .map(|v| TraceVariable {
                name: v.name.clone(),
                shape: v.shape.clone(),
                kind: VariableKind::Parameter,
            });
        let deterministics = layout
            .deterministics
            .iter()
            .map(|(name, shape)| TraceVariable {
                name: name.clone(),
                shape: shape.clone(),
                kind: VariableKind::Deterministic,
            });
        parameters.chain(deterministics).collect()
    }

    fn record(&self, position: &[f64], out: &mut [f64]) -> Result<(), ppl_core::Error> {
        self.record_draw_joint(position, &[], out)
    }

    fn discrete_variables(&self) -> Vec<String> {
        self.layout()
            .variables
            .iter()
            .filter(|v| v.discrete && !v.fixed)
            .map(|v| v.name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_names_are_row_major_and_zero_based() {
        let v = TraceVariable {
            name: "L".into(),
            shape: vec![2, 3],
            kind: VariableKind::Parameter,
        };
        assert_eq!(v.element_name(0), "L[0, 0]");
        assert_eq!(v.element_name(4), "L[1, 1]");
        assert_eq!(v.len(), 6);
        let s = TraceVariable {
            name: "mu".into(),
            shape: vec![],
            kind: VariableKind::Parameter,
        };
        assert_eq!(s.element_name(0), "mu");
        assert_eq!(s.len(), 1);
    }
}
