//! The inference context: reads an unconstrained vector, transforms, accumulates.

use super::{
    expected_variable, resolve_len, resolve_shape, shape_changed, shape_error, unvisited_variable,
    Context,
};
use crate::dist::{Distribution, ParamError, Values};
use crate::error::Error;
use crate::layout::Layout;
use crate::param::Operand;
use crate::scalar::{EvalMode, Real};
use crate::transform::Transform;
use std::collections::BTreeMap;

/// Which accumulators an evaluation fills besides the total.
///
/// Passed to [`Model::evaluate`](crate::Model::evaluate); the default adds the Jacobians
/// and keeps nothing else.
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
/// # let model = Model::new(Simple { y: vec![0.5, 1.5, 2.5] }).unwrap();
/// use ppl_core::context::inference::Accumulators;
///
/// let u = [1.0, 0.5_f64.ln()]; // mu = 1, sigma = 0.5
/// let default = model.evaluate(&u, Accumulators::default()).unwrap();
/// assert!(default.per_variable.is_empty() && default.pointwise.is_empty());
///
/// let options = Accumulators { jacobian: false, per_variable: true, ..Accumulators::default() };
/// let eval = model.evaluate(&u, options).unwrap();
/// assert!((default.total - eval.total - 0.5_f64.ln()).abs() < 1e-12); // the Jacobian ln sigma
/// let names: Vec<&str> = eval.per_variable.iter().map(|(n, _)| n.as_str()).collect();
/// assert_eq!(names, ["mu", "sigma", "y"]);
/// let sum: f64 = eval.per_variable.iter().map(|(_, lp)| lp).sum();
/// assert!((sum - eval.total).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accumulators {
    /// Add the log-Jacobians of the transforms (off: density in constrained space).
    pub jacobian: bool,
    /// Keep each observation's pointwise log-likelihood.
    pub pointwise: bool,
    /// Keep deterministic values.
    pub deterministics: bool,
    /// Keep each variable's log-density term (for diagnostics).
    pub per_variable: bool,
}

impl Default for Accumulators {
    fn default() -> Self {
        Accumulators {
            jacobian: true,
            pointwise: false,
            deterministics: false,
            per_variable: false,
        }
    }
}

/// Runs a model on an unconstrained vector and sums its log-density terms.
pub struct InferenceContext<'a, R: Real> {
    layout: &'a Layout,
    input: &'a [R],
    discrete: &'a [i64],
    conditioned: &'a BTreeMap<String, Vec<f64>>,
    options: Accumulators,
    next_variable: usize,
    next_observed: usize,
    /// Every term of the log-density, summed into one tape node at the end.
    terms: smallvec::SmallVec<[R; 16]>,
    /// The running total of plain-value evaluations, which keep no terms (no allocation
    /// however many terms a model has).
    value_total: f64,
    /// Sum of the free (and conditioned) variables' log-densities.
    pub log_prior: f64,
    /// Sum of the observations' log-likelihoods.
    pub log_likelihood: f64,
    /// Sum of the transforms' log-Jacobians.
    pub log_jacobian: f64,
    /// Sum of potentials.
    pub log_potential: f64,
    /// A parameter left its valid range: the density is zero here.
    pub out_of_support: bool,
    /// Pointwise log-likelihoods, per observation (when requested).
    pub pointwise: Vec<(String, Vec<f64>)>,
    /// Deterministic values (when requested).
    pub deterministics: Vec<(String, Vec<f64>)>,
    /// Per-term log-densities (when requested).
    pub per_variable: Vec<(String, f64)>,
    /// The first structural error met, if any.
    pub error: Option<Error>,
}

impl<'a, R: Real> InferenceContext<'a, R> {
    /// A context reading `input` (one scalar per unconstrained dimension of `layout`)
    /// for a model without discrete variables.
    ///
    /// `input` must hold `layout.dim` scalars (the body panics reading past a shorter one;
    /// [`Model`](crate::Model) checks the length first). What
    /// [`Model::logp`](crate::Model::logp) runs; by hand:
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
    /// use ppl_core::context::inference::{Accumulators, InferenceContext};
    /// use std::collections::BTreeMap;
    ///
    /// let template = Simple { y: vec![0.5, 1.5, 2.5] };
    /// let model = Model::new(template.clone()).unwrap();
    /// let (u, none) = ([1.0, 0.5_f64.ln()], BTreeMap::new());
    /// let mut ctx = InferenceContext::new(model.layout(), &u, &none, Accumulators::default());
    /// let mu = template.run::<f64, _>(&mut ctx);
    /// ctx.finish().unwrap();
    /// assert_eq!(mu, 1.0);
    /// assert_eq!(ctx.total(), model.logp(&u).unwrap());
    /// assert!((ctx.log_jacobian - 0.5_f64.ln()).abs() < 1e-15); // sigma = e^u₁
    /// ```
    pub fn new(
        layout: &'a Layout,
        input: &'a [R],
        conditioned: &'a BTreeMap<String, Vec<f64>>,
        options: Accumulators,
    ) -> Self {
        Self::with_discrete(layout, input, &[], conditioned, options)
    }

    /// A context reading the continuous variables from `input` and the discrete ones
    /// from `discrete` (one integer per element, `layout.discrete_dim` in all).
    ///
    /// ```
    /// # use ppl_core::context::api::{self, NoShape};
    /// # use ppl_core::dist::{Bernoulli, Normal};
    /// # use ppl_core::{Context, Model, ModelTemplate, Real};
    /// # use std::ops::{Add, Div, Mul, Sub};
    /// #
    /// # /// `k ~ Bernoulli(0.3)`, `mu ~ Normal(0, 1)`, `y = 1 ~ Normal(mu + 2k, 1)` observed and
    /// # /// the deterministic `shift = mu + 2k`, which the body returns.
    /// # struct Mixed;
    /// #
    /// # impl ModelTemplate for Mixed {
    /// #     type Output<R: Real> = R;
    /// #     fn name(&self) -> &'static str {
    /// #         "mixed"
    /// #     }
    /// #     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C) -> R
    /// #     where
    /// #         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    /// #     {
    /// #         let k: i64 = api::sample(ctx, "k", Bernoulli::new(0.3), NoShape, None);
    /// #         let mu: R = api::sample(ctx, "mu", Normal::new(0.0, 1.0), NoShape, None);
    /// #         let shift = mu + (2 * k) as f64;
    /// #         api::observe(ctx, "y", Normal::new(shift, 1.0), 1.0);
    /// #         api::deterministic(ctx, "shift", &shift);
    /// #         shift
    /// #     }
    /// # }
    /// # let model = Model::new(Mixed).unwrap();
    /// use ppl_core::context::inference::{Accumulators, InferenceContext};
    /// use ppl_core::Error;
    /// use std::collections::BTreeMap;
    ///
    /// let (u, z, none) = ([0.5], [1], BTreeMap::new());
    /// let layout = model.layout();
    /// let mut ctx = InferenceContext::with_discrete(layout, &u, &z, &none, Accumulators::default());
    /// assert_eq!(Mixed.run::<f64, _>(&mut ctx), 2.5); // mu + 2k
    /// ctx.finish().unwrap();
    /// assert_eq!(ctx.total(), model.logp_joint(&u, &z).unwrap());
    /// // Without the integer state the pass fails.
    /// let mut ctx = InferenceContext::new(layout, &u, &none, Accumulators::default());
    /// Mixed.run::<f64, _>(&mut ctx);
    /// assert_eq!(ctx.finish(), Err(Error::DiscreteDimension { expected: 1, found: 0 }));
    /// ```
    pub fn with_discrete(
        layout: &'a Layout,
        input: &'a [R],
        discrete: &'a [i64],
        conditioned: &'a BTreeMap<String, Vec<f64>>,
        options: Accumulators,
    ) -> Self {
        InferenceContext {
            layout,
            input,
            discrete,
            conditioned,
            options,
            next_variable: 0,
            next_observed: 0,
            terms: smallvec::SmallVec::new(),
            value_total: 0.0,
            log_prior: 0.0,
            log_likelihood: 0.0,
            log_jacobian: 0.0,
            log_potential: 0.0,
            out_of_support: false,
            pointwise: Vec::new(),
            deterministics: Vec::new(),
            per_variable: Vec::new(),
            error: None,
        }
    }

    /// The total log-density (−∞ when a parameter left its valid range).
    ///
    /// On the tape the total is one node whose gradient is the model's:
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
    /// use ppl_core::context::inference::{Accumulators, InferenceContext};
    /// use ppl_core::tape::{self, Var};
    /// use std::collections::BTreeMap;
    ///
    /// let template = Simple { y: vec![0.5, 1.5, 2.5] };
    /// let model = Model::new(template.clone()).unwrap();
    /// let (u, none) = ([1.0, 0.5_f64.ln()], BTreeMap::new());
    /// tape::reset();
    /// let mut leaves = Vec::new();
    /// Var::leaves(&u, &mut leaves);
    /// let mut ctx = InferenceContext::new(model.layout(), &leaves, &none, Accumulators::default());
    /// template.run::<Var, _>(&mut ctx);
    /// ctx.finish().unwrap();
    /// let total = ctx.total();
    /// let mut grad = [0.0; 2];
    /// tape::gradient(total, &leaves, &mut grad);
    /// let mut want = [0.0; 2];
    /// assert_eq!(total.value(), model.logp_grad(&u, &mut want).unwrap());
    /// assert_eq!(grad, want);
    /// ```
    pub fn total(&self) -> R {
        if self.out_of_support {
            return R::constant(f64::NEG_INFINITY);
        }
        match R::MODE {
            EvalMode::Value => R::constant(self.value_total),
            EvalMode::Dual => self.terms.iter().fold(R::constant(0.0), |a, b| a + *b),
            _ => R::record_wide(|w| {
                let mut total = 0.0;
                for t in &self.terms {
                    total += t.value();
                    w.push(t.tape_index(), 1.0);
                }
                total
            }),
        }
    }

    /// Checks that the pass visited every variable of the layout.
    ///
    /// A pass that leaves out a variable of the layout is refused:
    ///
    /// ```
    /// use ppl_core::context::api::{self, NoShape};
    /// use ppl_core::context::inference::{Accumulators, InferenceContext};
    /// use ppl_core::dist::Normal;
    /// use ppl_core::{Context, Model, ModelTemplate, Real};
    /// use std::collections::BTreeMap;
    /// use std::ops::{Add, Div, Mul, Sub};
    ///
    /// /// `x ~ Normal(0, 1)`, and `extra ~ Normal(0, 1)` when `self.0`.
    /// struct Maybe(bool);
    /// impl ModelTemplate for Maybe {
    ///     type Output<R: Real> = ();
    ///     fn name(&self) -> &'static str {
    ///         "maybe"
    ///     }
    ///     fn run<R: Real, C: Context<R>>(&self, ctx: &mut C)
    ///     where
    ///         f64: Add<R, Output = R> + Sub<R, Output = R> + Mul<R, Output = R> + Div<R, Output = R>,
    ///     {
    ///         let _x: R = api::sample(ctx, "x", Normal::new(0.0, 1.0), NoShape, None);
    ///         if self.0 {
    ///             let _extra: R = api::sample(ctx, "extra", Normal::new(0.0, 1.0), NoShape, None);
    ///         }
    ///     }
    /// }
    ///
    /// let model = Model::new(Maybe(true)).unwrap();
    /// let (u, none) = ([0.0, 0.0], BTreeMap::new());
    /// let mut ctx = InferenceContext::new(model.layout(), &u, &none, Accumulators::default());
    /// Maybe(true).run::<f64, _>(&mut ctx);
    /// assert_eq!(ctx.finish(), Ok(()));
    /// let mut ctx = InferenceContext::new(model.layout(), &u, &none, Accumulators::default());
    /// Maybe(false).run::<f64, _>(&mut ctx);
    /// let message = "variable `extra`: was sampled in the first pass but not in this one: \
    ///     a model's variables must be the same in every pass";
    /// assert_eq!(ctx.finish().unwrap_err().to_string(), message);
    /// ```
    pub fn finish(&mut self) -> Result<(), Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(e) = unvisited_variable(self.layout, self.next_variable) {
            return Err(e);
        }
        if let Some(o) = self.layout.observed.get(self.next_observed) {
            return Err(Error::Structure {
                variable: o.name.clone(),
                detail: "was observed in the first pass but not in this one".into(),
            });
        }
        Ok(())
    }

    /// A term whose parameter, computed from other variables, is outside its valid
    /// range: the total is −∞, and the per-variable table shows which term made it so.
    #[cold]
    fn invalid_parameter(&mut self, name: &str) {
        self.out_of_support = true;
        if self.options.per_variable {
            self.per_variable
                .push((name.to_string(), f64::NEG_INFINITY));
        }
    }

    fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    #[inline]
    fn add_term(&mut self, term: R) {
        if R::MODE == EvalMode::Value {
            self.value_total += term.value();
        } else {
            self.terms.push(term);
        }
    }
}

impl<R: Real> Context<R> for InferenceContext<'_, R> {
    fn variable<D: Distribution<R>>(
        &mut self,
        name: &'static str,
        dist: Result<D, ParamError>,
        shape: Option<usize>,
        transform: Option<Transform<R>>,
    ) -> Values<R> {
        let entry = match expected_variable(self.layout, self.next_variable, name) {
            Ok(entry) => entry,
            Err(e) => {
                self.fail(e);
                return smallvec::smallvec![R::constant(f64::NAN); shape.unwrap_or(1).max(1)];
            }
        };
        self.next_variable += 1;
        let nan = || smallvec::smallvec![R::constant(f64::NAN); entry.len.max(1)];
        let dist = match dist {
            Ok(d) => d,
            Err(_) => {
                self.invalid_parameter(name);
                return nan();
            }
        };
        let len = match resolve_len(name, &dist, shape) {
            Ok(len) => len,
            Err(e) => {
                self.fail(e);
                return nan();
            }
        };
        if len != entry.len {
            let shape = resolve_shape(name, &dist, shape)
                .map(|s| s.0)
                .unwrap_or_default();
            self.fail(shape_changed(name, &entry.shape, &shape));
            return nan();
        }
        let mut log_jac = R::constant(0.0);
        let xs: Values<R> = if entry.fixed {
            match self.conditioned.get(name) {
                Some(v) => v.iter().map(|x| R::constant(*x)).collect(),
                None => {
                    self.fail(Error::Point(format!("no conditioned value for `{name}`")));
                    return nan();
                }
            }
        } else if entry.discrete {
            match self.discrete.get(entry.offset..entry.offset + entry.len) {
                Some(ks) => ks.iter().map(|&k| R::constant(k as f64)).collect(),
                None => {
                    self.fail(Error::DiscreteDimension {
                        expected: self.layout.discrete_dim,
                        found: self.discrete.len(),
                    });
                    return nan();
                }
            }
        } else {
            let transform = transform.unwrap_or_else(|| dist.support().default_transform());
            let u = &self.input[entry.offset..entry.offset + entry.unconstrained_len];
            if matches!(transform, Transform::Identity) {
                // The common case: a copy, and no Jacobian term.
                Values::from_slice(u)
            } else {
                let mut xs = Values::with_capacity(entry.len);
                log_jac = transform.constrain(u, &mut xs);
                if self.options.jacobian {
                    self.log_jacobian += log_jac.value();
                    self.add_term(log_jac);
                }
                xs
            }
        };
        match dist.log_density(Operand::Slice(&xs)) {
            Ok(lp) => {
                if self.options.per_variable {
                    let j = if self.options.jacobian {
                        log_jac.value()
                    } else {
                        0.0
                    };
                    self.per_variable.push((name.to_string(), lp.value() + j));
                }
                self.log_prior += lp.value();
                self.add_term(lp);
            }
            Err(m) => self.fail(shape_error(name, &dist, m)),
        }
        xs
    }

    fn observe<D: Distribution<R>>(
        &mut self,
        name: &'static str,
        dist: Result<D, ParamError>,
        data: Operand<'_, R>,
    ) {
        match self.layout.observed.get(self.next_observed) {
            Some(o) if o.name == name => self.next_observed += 1,
            _ => {
                return self.fail(Error::Structure {
                    variable: name.to_string(),
                    detail: "observations changed between passes: a model's observations must be the same, in the same order, in every pass".into(),
                })
            }
        }
        let dist = match dist {
            Ok(d) => d,
            Err(_) => {
                self.invalid_parameter(name);
                return;
            }
        };
        match dist.log_density(data) {
            Ok(lp) => {
                if self.options.per_variable {
                    self.per_variable.push((name.to_string(), lp.value()));
                }
                self.log_likelihood += lp.value();
                self.add_term(lp);
            }
            Err(m) => return self.fail(shape_error(name, &dist, m)),
        }
        if self.options.pointwise {
            let mut out = Vec::new();
            if let Err(m) = dist.log_density_pointwise(data, &mut out) {
                return self.fail(shape_error(name, &dist, m));
            }
            self.pointwise.push((name.to_string(), out));
        }
    }

    fn deterministic(&mut self, name: &'static str, values: Operand<'_, R>) {
        if self.options.deterministics {
            let n = values.len().unwrap_or(1);
            self.deterministics
                .push((name.to_string(), values.values(n).collect()));
        }
    }

    fn potential(&mut self, name: &'static str, value: R) {
        if self.options.per_variable {
            self.per_variable.push((name.to_string(), value.value()));
        }
        self.log_potential += value.value();
        self.add_term(value);
    }
}
