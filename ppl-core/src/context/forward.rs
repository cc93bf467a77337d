//! The forward context: draws every variable from its prior and records the layout.

use super::{resolve_shape, shape_error, Context};
use crate::dist::{Distribution, ParamError, Values};
use crate::error::Error;
use crate::layout::{Array, Layout, ObservedInfo, Point, VariableInfo};
use crate::param::Operand;
use crate::transform::Transform;
use rand::{Rng, RngCore};
use std::collections::{BTreeMap, HashSet};

/// Runs a model forward: prior draws, layout, prior predictive.
pub struct ForwardContext<'a> {
    rng: &'a mut dyn RngCore,
    conditioned: &'a BTreeMap<String, Vec<f64>>,
    draw_observed: bool,
    names: HashSet<&'static str>,
    /// The layout recorded so far.
    pub layout: Layout,
    /// The drawn values of the random variables (constrained).
    pub draws: Point,
    /// Prior-predictive draws of the observed variables (when requested).
    pub observed_draws: Point,
    /// Deterministic values.
    pub deterministics: Point,
    /// The first error met, if any.
    pub error: Option<Error>,
}

impl<'a> ForwardContext<'a> {
    /// A forward context drawing with `rng`; variables in `conditioned` take the given
    /// constrained values instead of being drawn. With `draw_observed`, observed
    /// variables are drawn too (prior predictive).
    ///
    /// What [`Model::new`](crate::Model::new) and
    /// [`Model::prior_draw`](crate::Model::prior_draw) run; by hand:
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{HalfNormal, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `mu ~ Normal(0, 5)`, `sigma ~ HalfNormal(1)`, `y ~ Normal(mu, sigma)` observed;
    /// # /// returns `mu`. This is what `#[model]` generates, written by hand.
    /// # #[derive(Clone)]
    /// # struct Simple {
    /// #     y: Vec<f64>,
    /// # }
    /// #
    /// # impl ModelTemplate for Simple {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "simple"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 5.0), NoShape, None);
    /// #         let sigma: R = api::sample(ctx, "sigma", HalfNormal::new(1.0), NoShape, None);
    /// #         api::observe(ctx, "y", Normal::new(mu, sigma), &self.y);
    /// #         mu
    /// #     }
    /// # }
    /// use ppl_core::context::forward::ForwardContext;
    /// use ppl_core::model::rng_for;
    /// use ppl_core::Error;
    /// use std::collections::BTreeMap;
    ///
    /// let template = Simple { y: vec![0.5, 1.5, 2.5] };
    /// let mut rng = rng_for(1, 0);
    /// let conditioned = BTreeMap::from([("sigma".to_string(), vec![2.0])]);
    /// let mut ctx = ForwardContext::new(&mut rng, &conditioned, true);
    /// let mu = template.run::<f64, _>(&mut ctx);
    /// assert!(ctx.error.is_none());
    /// assert_eq!(ctx.draws.get("mu").unwrap().values, [mu]); // drawn from the prior
    /// assert_eq!(ctx.draws.get("sigma").unwrap().values, [2.0]); // given
    /// assert!(ctx.layout.variable("sigma").unwrap().fixed);
    /// assert_eq!(ctx.layout.dim, 1); // only mu is left in u
    /// assert_eq!(ctx.observed_draws.get("y").unwrap().values.len(), 3); // prior predictive
    /// // A second pass through the same context meets every name again.
    /// template.run::<f64, _>(&mut ctx);
    /// assert!(matches!(&ctx.error, Some(Error::Structure { variable, .. }) if variable == "mu"));
    /// ```
    pub fn new(
        rng: &'a mut dyn RngCore,
        conditioned: &'a BTreeMap<String, Vec<f64>>,
        draw_observed: bool,
    ) -> Self {
        ForwardContext {
            rng,
            conditioned,
            draw_observed,
            names: HashSet::new(),
            layout: Layout::default(),
            draws: Point::new(),
            observed_draws: Point::new(),
            deterministics: Point::new(),
            error: None,
        }
    }

    fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Draws (or takes the conditioned value of) a discrete variable: its integers live
    /// in the integer state, outside the unconstrained vector.
    fn discrete_variable<D: Distribution<f64>>(
        &mut self,
        name: &'static str,
        dist: &D,
        shape: Vec<usize>,
        len: usize,
        has_transform: bool,
    ) -> Values<f64> {
        let zeros = || smallvec::smallvec![0.0; len.max(1)];
        if has_transform {
            self.fail(Error::Structure {
                variable: name.to_string(),
                detail: format!(
                    "{} is discrete: a discrete variable takes no transform",
                    dist.name()
                ),
            });
            return zeros();
        }
        let support = dist.support();
        let fixed = self.conditioned.get(name);
        let values = match fixed {
            Some(v) if v.len() != len => {
                self.fail(Error::Point(format!(
                    "conditioned value of `{name}` has {} elements, the variable has {len}",
                    v.len()
                )));
                return zeros();
            }
            Some(v) => {
                if let Some(&x) = v.iter().find(|x| !support.contains(**x)) {
                    self.fail(Error::Point(format!(
                        "conditioned value {x} of `{name}` is outside the support of {} ({})",
                        dist.name(),
                        support.describe()
                    )));
                    return zeros();
                }
                v.clone()
            }
            None => {
                let mut out = Vec::with_capacity(len);
                dist.draw(self.rng, len, &mut out);
                out
            }
        };
        let integer_bounds = match support {
            crate::dist::Support::Integers { lower, upper } => Some((lower, upper)),
            _ => Some((None, None)),
        };
        let is_fixed = fixed.is_some();
        let offset = self.layout.discrete_dim;
        if !is_fixed {
            self.layout.discrete_dim += len;
        }
        let info = VariableInfo {
            name: name.to_string(),
            shape,
            len,
            unconstrained_len: 0,
            offset,
            transform: crate::transform::TransformKind::Identity,
            discrete: true,
            fixed: is_fixed,
            distribution: dist.name(),
            integer_bounds,
        };
        self.record(name, info, values)
    }

    /// Adds a variable to the layout and its draw to the prior draws; returns the values
    /// the model body receives.
    fn record(&mut self, name: &'static str, info: VariableInfo, values: Vec<f64>) -> Values<f64> {
        self.draws.insert(
            name,
            Array {
                shape: info.shape.clone(),
                values: values.clone(),
            },
        );
        self.layout.variables.push(info);
        Values::from_vec(values)
    }

    fn register_name(&mut self, name: &'static str) -> bool {
        if self.names.insert(name) {
            true
        } else {
            self.fail(Error::Structure {
                variable: name.to_string(),
                detail: "the name is used twice in one pass (inside a loop? use `shape = n` for a vector of variables)".into(),
            });
            false
        }
    }
}

impl Context<f64> for ForwardContext<'_> {
    fn variable<D: Distribution<f64>>(
        &mut self,
        name: &'static str,
        dist: Result<D, ParamError>,
        shape: Option<usize>,
        transform: Option<Transform<f64>>,
    ) -> Values<f64> {
        let fallback = smallvec::smallvec![f64::NAN; shape.unwrap_or(1).max(1)];
        if !self.register_name(name) {
            return fallback;
        }
        let dist = match dist {
            Ok(d) => d,
            Err(source) => {
                self.fail(Error::Param {
                    variable: name.to_string(),
                    source,
                });
                return fallback;
            }
        };
        let (shape, len) = match resolve_shape(name, &dist, shape) {
            Ok(s) => s,
            Err(e) => {
                self.fail(e);
                return fallback;
            }
        };
        if len == 0 {
            self.fail(Error::Structure {
                variable: name.to_string(),
                detail: "has no elements (shape 0)".into(),
            });
            return fallback;
        }
        if dist.is_discrete() {
            return self.discrete_variable(name, &dist, shape, len, transform.is_some());
        }
        let transform = transform.unwrap_or_else(|| dist.support().default_transform());
        let Some(unconstrained_len) = transform.unconstrained_len(len) else {
            self.fail(Error::Structure {
                variable: name.to_string(),
                detail: format!(
                    "{} elements do not fit the {:?} transform",
                    len,
                    transform.kind()
                ),
            });
            return fallback;
        };
        let fixed = self.conditioned.get(name);
        let values = match fixed {
            Some(v) if v.len() != len => {
                self.fail(Error::Point(format!(
                    "conditioned value of `{name}` has {} elements, the variable has {len}",
                    v.len()
                )));
                return fallback;
            }
            Some(v) => {
                // A value outside the support (or the transform's bounds) has no
                // unconstrained image: refuse it here, naming the variable, rather than
                // give a model whose density is −∞ everywhere.
                if let Err(k) = transform.unconstrain_checked(v) {
                    let x = v[k];
                    self.fail(Error::Point(format!(
                        "conditioned value {x} of `{name}` (element {k}) is outside the support of {} ({})",
                        dist.name(),
                        dist.support().describe()
                    )));
                    return fallback;
                }
                v.clone()
            }
            None => {
                let mut out = Vec::with_capacity(len);
                dist.draw(self.rng, len, &mut out);
                // An explicit transform may be narrower than the distribution's support
                // (Stan's `real<lower=0, upper=1 - a> b; b ~ flat`): a prior draw outside
                // it is replaced, as Stan initialises, by uniform(−2, 2) draws on the
                // unconstrained scale mapped through the transform.
                if transform.unconstrain_checked(&out).is_err() {
                    let u: Vec<f64> = (0..unconstrained_len)
                        .map(|_| self.rng.gen_range(-2.0..2.0))
                        .collect();
                    out.clear();
                    transform.constrain(&u, &mut out);
                }
                out
            }
        };
        let is_fixed = fixed.is_some();
        let offset = self.layout.dim;
        let ulen = if is_fixed { 0 } else { unconstrained_len };
        self.layout.dim += ulen;
        let info = VariableInfo {
            name: name.to_string(),
            shape,
            len,
            unconstrained_len: ulen,
            offset,
            transform: transform.kind(),
            discrete: false,
            fixed: is_fixed,
            distribution: dist.name(),
            integer_bounds: None,
        };
        self.record(name, info, values)
    }

    fn observe<D: Distribution<f64>>(
        &mut self,
        name: &'static str,
        dist: Result<D, ParamError>,
        data: Operand<'_, f64>,
    ) {
        if !self.register_name(name) {
            return;
        }
        let dist = match dist {
            Ok(d) => d,
            Err(source) => {
                return self.fail(Error::Param {
                    variable: name.to_string(),
                    source,
                })
            }
        };
        if data.is_empty() {
            return self.fail(Error::EmptyData {
                variable: name.to_string(),
            });
        }
        if let Some((index, value)) = data.first_non_finite() {
            return self.fail(Error::NonFiniteData {
                variable: name.to_string(),
                index,
                value,
            });
        }
        let support = dist.support();
        let n = data.len().unwrap_or(1);
        if let Some(index) = (0..n).find(|&i| !support.contains(data.value(i))) {
            return self.fail(Error::DataOutsideSupport {
                variable: name.to_string(),
                distribution: dist.name(),
                index,
                value: data.value(index),
                support: support.describe(),
            });
        }
        if let Err(m) = dist.log_density(data) {
            return self.fail(shape_error(name, &dist, m));
        }
        let shape = if data.len().is_some() {
            vec![n]
        } else {
            vec![]
        };
        self.layout.observed.push(ObservedInfo {
            name: name.to_string(),
            len: n,
            shape: shape.clone(),
            distribution: dist.name(),
        });
        if self.draw_observed {
            let mut out = Vec::with_capacity(n);
            dist.draw(self.rng, n, &mut out);
            self.observed_draws
                .insert(name, Array { shape, values: out });
        }
    }

    fn deterministic(&mut self, name: &'static str, values: Operand<'_, f64>) {
        if !self.register_name(name) {
            return;
        }
        let shape = values.len().map(|n| vec![n]).unwrap_or_default();
        let n = values.len().unwrap_or(1);
        self.layout
            .deterministics
            .push((name.to_string(), shape.clone()));
        self.deterministics.insert(
            name,
            Array {
                shape,
                values: values.values(n).collect(),
            },
        );
    }

    fn potential(&mut self, name: &'static str, _value: f64) {
        if self.register_name(name) {
            self.layout.potentials.push(name.to_string());
        }
    }
}
