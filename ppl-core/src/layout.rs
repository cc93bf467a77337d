//! The parameter layout a forward pass records, and named points in constrained space.

use crate::transform::TransformKind;
use std::collections::BTreeMap;
use std::fmt;

/// One random variable of a model.
///
/// Read from a model's [`Layout`]; `offset` and `unconstrained_len` locate the variable
/// in the unconstrained vector `u`.
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
/// use ppl_core::transform::TransformKind;
///
/// let sigma = model.layout().variable("sigma").unwrap();
/// assert_eq!((sigma.offset, sigma.unconstrained_len), (1, 1)); // u[1] = ln sigma
/// assert_eq!(sigma.transform, TransformKind::Lower);
/// assert_eq!(sigma.distribution, "HalfNormal");
/// assert!(sigma.shape.is_empty() && sigma.len == 1); // a scalar
/// assert!(sigma.is_free() && !sigma.discrete && sigma.discrete_len() == 0);
///
/// // Conditioned on a value, it leaves `u`.
/// let fixed = model.condition(&ppl_core::Point::new().with("sigma", 1.0)).unwrap();
/// let sigma = fixed.layout().variable("sigma").unwrap();
/// assert!(sigma.fixed && !sigma.is_free());
/// assert_eq!(sigma.unconstrained_len, 0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VariableInfo {
    /// Its name.
    pub name: String,
    /// Constrained shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// Number of constrained scalars.
    pub len: usize,
    /// Number of unconstrained scalars (0 when the variable is conditioned on a value,
    /// and for discrete variables, which live in the integer state).
    pub unconstrained_len: usize,
    /// Offset in the unconstrained vector, or for a discrete variable in the integer
    /// state vector.
    pub offset: usize,
    /// The transform onto its support.
    pub transform: TransformKind,
    /// True for integer-valued variables.
    pub discrete: bool,
    /// True when conditioned on a given value (not part of the unconstrained vector).
    pub fixed: bool,
    /// The distribution's name.
    pub distribution: &'static str,
    /// For a discrete variable, the smallest and largest values its prior allows (as
    /// recorded in the first pass; `None` for an unbounded end).
    pub integer_bounds: Option<(Option<i64>, Option<i64>)>,
}

impl VariableInfo {
    /// Number of integers in the discrete state (0 for continuous or fixed variables).
    ///
    /// ```
    /// use ppl_core::layout::VariableInfo;
    /// use ppl_core::transform::TransformKind;
    ///
    /// let counts = VariableInfo {
    ///     name: "n".into(),
    ///     shape: vec![3],
    ///     len: 3,
    ///     unconstrained_len: 0,
    ///     offset: 0,
    ///     transform: TransformKind::Identity,
    ///     discrete: true,
    ///     fixed: false,
    ///     distribution: "Poisson",
    ///     integer_bounds: Some((Some(0), None)),
    /// };
    /// assert_eq!(counts.discrete_len(), 3); // three integers in z
    /// let given = VariableInfo { fixed: true, ..counts.clone() };
    /// assert_eq!(given.discrete_len(), 0); // conditioned: not in z
    /// let continuous = VariableInfo { discrete: false, unconstrained_len: 3, ..counts };
    /// assert_eq!(continuous.discrete_len(), 0); // in u instead
    /// ```
    pub fn discrete_len(&self) -> usize {
        if self.discrete && !self.fixed {
            self.len
        } else {
            0
        }
    }

    /// True for a variable the samplers update (not conditioned on a value).
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
    /// use ppl_core::Point;
    ///
    /// let fixed = model.clone().condition(&Point::new().with("sigma", 1.0)).unwrap();
    /// assert!(model.layout().variable("sigma").unwrap().is_free());
    /// assert!(!fixed.layout().variable("sigma").unwrap().is_free());
    /// assert!(fixed.layout().variable("mu").unwrap().is_free());
    /// ```
    pub fn is_free(&self) -> bool {
        !self.fixed
    }
}

/// One observed variable.
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
/// let y = &model.layout().observed[0];
/// assert_eq!((y.name.as_str(), y.len, y.distribution), ("y", 3, "Normal"));
/// assert_eq!(y.shape, [3]); // a slice of data; a single datum has shape []
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedInfo {
    /// Its name.
    pub name: String,
    /// Number of observed scalars.
    pub len: usize,
    /// Shape of the data: `[len]` for a slice, `[]` for a single datum.
    pub shape: Vec<usize>,
    /// The distribution's name.
    pub distribution: &'static str,
}

/// Everything a forward pass learns about a model's structure.
///
/// A [`Model`](crate::Model) records it when it is built (it prints as a table, see the
/// `Display` impl):
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
/// let layout = model.layout();
/// assert_eq!((layout.dim, layout.discrete_dim), (2, 0));
/// assert_eq!(layout.variables.len(), 2);
/// assert_eq!(layout.observed.len(), 1);
/// assert!(layout.deterministics.is_empty() && layout.potentials.is_empty());
/// assert!(layout.discrete_variables().is_empty());
///
/// // A variable's slice of the unconstrained vector.
/// let u = [0.3, -1.0];
/// let sigma = layout.variable("sigma").unwrap();
/// assert_eq!(&u[sigma.offset..sigma.offset + sigma.unconstrained_len], [-1.0]);
/// assert!(layout.variable("tau").is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Random variables in the order the model samples them.
    pub variables: Vec<VariableInfo>,
    /// Observations in order.
    pub observed: Vec<ObservedInfo>,
    /// Deterministic quantities with their shapes.
    pub deterministics: Vec<(String, Vec<usize>)>,
    /// Names of potentials.
    pub potentials: Vec<String>,
    /// Length of the unconstrained (continuous) vector.
    pub dim: usize,
    /// Length of the integer state vector holding the discrete variables.
    pub discrete_dim: usize,
}

impl Layout {
    /// The variable called `name`.
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
    /// let layout = model.layout();
    /// let mu = layout.variable("mu").unwrap();
    /// assert_eq!((mu.offset, mu.len, mu.distribution), (0, 1, "Normal"));
    /// assert!(layout.variable("y").is_none()); // an observation, not a random variable
    /// assert!(layout.variable("MU").is_none()); // names are case-sensitive
    /// ```
    pub fn variable(&self, name: &str) -> Option<&VariableInfo> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// Names of the free discrete variables.
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
    /// assert_eq!(model.layout().discrete_variables(), ["k"]);
    /// let given = model.condition(&ppl_core::Point::new().with("k", 0.0)).unwrap();
    /// assert!(given.layout().discrete_variables().is_empty()); // k is held at 0
    /// ```
    pub fn discrete_variables(&self) -> Vec<String> {
        self.variables
            .iter()
            .filter(|v| v.discrete && !v.fixed)
            .map(|v| v.name.clone())
            .collect()
    }
}

/// A table of the model's structure, as PyMC prints a model: each variable with its
/// distribution, shape, transform and position in the unconstrained vector `u` (or, for
/// a discrete variable, in the integer state `z`), then the observations,
/// deterministics and potentials.
///
/// ```
/// use ppl_core::layout::{Layout, ObservedInfo, VariableInfo};
/// use ppl_core::transform::TransformKind;
/// let layout = Layout {
///     variables: vec![VariableInfo {
///         name: "tau".into(),
///         shape: vec![],
///         len: 1,
///         unconstrained_len: 1,
///         offset: 0,
///         transform: TransformKind::Lower,
///         discrete: false,
///         fixed: false,
///         distribution: "HalfCauchy",
///         integer_bounds: None,
///     }],
///     observed: vec![ObservedInfo {
///         name: "y".into(),
///         len: 8,
///         shape: vec![8],
///         distribution: "Normal",
///     }],
///     dim: 1,
///     ..Layout::default()
/// };
/// let text = layout.to_string();
/// let lines: Vec<&str> = text.lines().collect();
/// assert_eq!(lines[0], "variable  distribution  shape     transform          position");
/// assert_eq!(lines[1], "tau       HalfCauchy    scalar    lower bound (log)  u[0]");
/// assert_eq!(lines[4], "y         Normal        8 values");
/// assert_eq!(lines[6], "1 unconstrained dimension (u)");
/// ```
impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let shape = |s: &[usize]| match s {
            [] => "scalar".to_string(),
            _ => format!("{s:?}"),
        };
        let place = |v: &VariableInfo| {
            let range = |start: usize, len: usize| match len {
                1 => format!("[{start}]"),
                _ => format!("[{start}..{}]", start + len),
            };
            if v.fixed {
                "conditioned".to_string()
            } else if v.len == 0 || (!v.discrete && v.unconstrained_len == 0) {
                // A one-element simplex, say: its only value is fixed by its support.
                "none".to_string()
            } else if v.discrete {
                format!("z{}", range(v.offset, v.len))
            } else {
                format!("u{}", range(v.offset, v.unconstrained_len))
            }
        };
        let header = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect();
        let mut rows: Vec<Vec<String>> = vec![header(&[
            "variable",
            "distribution",
            "shape",
            "transform",
            "position",
        ])];
        for v in &self.variables {
            let transform = match (v.discrete, v.integer_bounds) {
                (false, _) => v.transform.describe().to_string(),
                (true, Some((Some(lo), Some(hi)))) => format!("integer in [{lo}, {hi}]"),
                (true, Some((Some(lo), None))) => format!("integer ≥ {lo}"),
                (true, Some((None, Some(hi)))) => format!("integer ≤ {hi}"),
                (true, _) => "integer".to_string(),
            };
            rows.push(vec![
                v.name.clone(),
                v.distribution.to_string(),
                shape(&v.shape),
                transform,
                place(v),
            ]);
        }
        if !self.observed.is_empty() {
            rows.push(Vec::new());
            rows.push(header(&["observed", "distribution", "values"]));
            for o in &self.observed {
                let values = format!("{} value{}", o.len, plural(o.len));
                rows.push(vec![o.name.clone(), o.distribution.to_string(), values]);
            }
        }
        if !self.deterministics.is_empty() {
            rows.push(Vec::new());
            rows.push(header(&["deterministic", "shape"]));
            for (name, s) in &self.deterministics {
                rows.push(vec![name.clone(), shape(s)]);
            }
        }
        write_aligned(f, &rows)?;
        if !self.potentials.is_empty() {
            writeln!(f, "\npotentials: {}", self.potentials.join(", "))?;
        }
        write!(
            f,
            "\n{} unconstrained dimension{} (u)",
            self.dim,
            plural(self.dim)
        )?;
        if self.discrete_dim > 0 {
            let n = self.discrete_dim;
            write!(f, ", {n} integer{} (z)", plural(n))?;
        }
        Ok(())
    }
}

/// Writes `rows` as left-aligned columns two spaces apart, one line per row.
fn write_aligned(f: &mut fmt::Formatter<'_>, rows: &[Vec<String>]) -> fmt::Result {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(&widths) {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A named array of plain values (row-major).
///
/// The entries of a [`Point`]; a 2×2 matrix is stored row by row:
///
/// ```
/// use ppl_core::{Array, Point};
///
/// let m = Array { shape: vec![2, 2], values: vec![1.0, 2.0, 3.0, 4.0] };
/// let p = Point::new().with("m", m).with("mu", 0.5);
/// let m = p.get("m").unwrap();
/// assert_eq!(m.values[m.shape[1]], 3.0); // element (1, 0)
/// assert_eq!(p.get("mu").unwrap(), &Array { shape: vec![], values: vec![0.5] });
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f64>,
}

/// Values of named variables in constrained space (PyMC's point dictionaries).
///
/// ```
/// use ppl_core::Point;
/// let p = Point::new().with("mu", 2.5).with("theta", vec![1.0, 2.0]);
/// assert_eq!(p.get("theta").unwrap().values, vec![1.0, 2.0]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Point {
    entries: BTreeMap<String, Array>,
}

/// Values convertible into an [`Array`].
///
/// What [`Point::with`] and [`Point::insert`] accept: a scalar has the empty shape, a
/// vector or array of `f64` the shape `[len]`.
///
/// ```
/// use ppl_core::layout::IntoArray;
///
/// assert_eq!(2.5.into_array().shape, Vec::<usize>::new());
/// assert_eq!(vec![1.0, 2.0, 3.0].into_array().shape, [3]);
/// assert_eq!([1.0, 2.0].into_array().values, [1.0, 2.0]);
/// assert_eq!((&[4.0][..]).into_array().shape, [1]);
/// ```
pub trait IntoArray {
    /// The array.
    fn into_array(self) -> Array;
}
impl IntoArray for f64 {
    fn into_array(self) -> Array {
        Array {
            shape: vec![],
            values: vec![self],
        }
    }
}
impl IntoArray for Vec<f64> {
    fn into_array(self) -> Array {
        Array {
            shape: vec![self.len()],
            values: self,
        }
    }
}
impl IntoArray for &[f64] {
    fn into_array(self) -> Array {
        self.to_vec().into_array()
    }
}
impl<const N: usize> IntoArray for [f64; N] {
    fn into_array(self) -> Array {
        self.to_vec().into_array()
    }
}
impl IntoArray for Array {
    fn into_array(self) -> Array {
        self
    }
}

impl Point {
    /// An empty point.
    ///
    /// ```
    /// use ppl_core::Point;
    ///
    /// let p = Point::new();
    /// assert!(p.is_empty() && p.len() == 0);
    /// assert_eq!(p.to_string(), "");
    /// ```
    pub fn new() -> Self {
        Point::default()
    }
    /// Adds (or replaces) a value.
    ///
    /// ```
    /// use ppl_core::Point;
    ///
    /// let p = Point::new().with("mu", 1.0).with("theta", vec![0.2, 0.8]).with("mu", 2.0);
    /// assert_eq!(p.len(), 2); // the second `mu` replaced the first
    /// assert_eq!(p.get("mu").unwrap().values, [2.0]);
    /// assert_eq!(p.get("theta").unwrap().shape, [2]);
    /// ```
    pub fn with(mut self, name: &str, value: impl IntoArray) -> Self {
        self.insert(name, value);
        self
    }
    /// Adds (or replaces) a value.
    ///
    /// ```
    /// use ppl_core::{Array, Point};
    ///
    /// let mut p = Point::new();
    /// for (name, value) in [("a", 1.0), ("b", 2.0)] {
    ///     p.insert(name, value);
    /// }
    /// p.insert("a", [3.0, 4.0]); // replaces the value, shape and all
    /// assert_eq!(p.get("a").unwrap(), &Array { shape: vec![2], values: vec![3.0, 4.0] });
    /// assert_eq!(p.len(), 2);
    /// ```
    pub fn insert(&mut self, name: &str, value: impl IntoArray) {
        self.entries.insert(name.to_string(), value.into_array());
    }
    /// The value called `name`.
    ///
    /// ```
    /// use ppl_core::Point;
    ///
    /// let p = Point::new().with("sigma", 0.5);
    /// assert_eq!(p.get("sigma").map(|a| a.values[0]), Some(0.5));
    /// assert!(p.get("tau").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Array> {
        self.entries.get(name)
    }
    /// All entries, sorted by name.
    ///
    /// ```
    /// use ppl_core::Point;
    ///
    /// let p = Point::new().with("z", 1.0).with("a", 2.0).with("m", 3.0);
    /// let names: Vec<&str> = p.iter().map(|(name, _)| name.as_str()).collect();
    /// assert_eq!(names, ["a", "m", "z"]); // not in insertion order
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Array)> {
        self.entries.iter()
    }
    /// Number of entries.
    ///
    /// ```
    /// use ppl_core::Point;
    ///
    /// let p = Point::new().with("mu", 0.0).with("theta", vec![1.0, 2.0, 3.0]);
    /// assert_eq!(p.len(), 2); // entries, not scalars
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// True when empty.
    ///
    /// ```
    /// use ppl_core::Point;
    ///
    /// assert!(Point::new().is_empty());
    /// assert!(!Point::new().with("mu", 0.0).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One line per entry, sorted by name: a scalar as `name = value`, an array as
/// `name [shape] = [values]` with its values flat in row-major order, six decimals each.
///
/// ```
/// use ppl_core::{Array, Point};
///
/// let p = Point::new()
///     .with("sigma", 0.5)
///     .with("theta", vec![0.25, 1.0 / 3.0])
///     .with("L", Array { shape: vec![2, 2], values: vec![1.0, 0.0, 0.6, 0.8] })
///     .with("tau", f64::INFINITY);
/// let lines = [
///     "L [2, 2] = [1.000000, 0.000000, 0.600000, 0.800000]",
///     "sigma = 0.500000",
///     "tau = inf",
///     "theta [2] = [0.250000, 0.333333]",
/// ];
/// assert_eq!(p.to_string(), lines.map(|l| format!("{l}\n")).concat());
/// ```
impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, a) in &self.entries {
            match (a.shape.is_empty(), a.values.as_slice()) {
                (true, [v]) => writeln!(f, "{name} = {v:.6}")?,
                // An array whose shape and values disagree is printed as it is.
                _ => writeln!(f, "{name} {:?} = {:.6?}", a.shape, a.values)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(name: &str, len: usize, unconstrained_len: usize, offset: usize) -> VariableInfo {
        VariableInfo {
            name: name.into(),
            shape: vec![len],
            len,
            unconstrained_len,
            offset,
            transform: TransformKind::Simplex,
            discrete: false,
            fixed: false,
            distribution: "Dirichlet",
            integer_bounds: None,
        }
    }

    #[test]
    fn a_point_whose_arrays_disagree_with_their_shapes_still_prints() {
        let empty = Array {
            shape: vec![],
            values: vec![],
        };
        let p = Point::new().with("e", empty).with("s", 1.5);
        assert_eq!(p.to_string(), "e [] = []\ns = 1.500000\n");
    }

    #[test]
    fn the_table_says_where_each_variable_lives() {
        let layout = Layout {
            variables: vec![
                variable("one", 1, 0, 0),
                variable("three", 3, 2, 0),
                VariableInfo {
                    fixed: true,
                    ..variable("given", 3, 0, 0)
                },
            ],
            potentials: vec!["a".into(), "b".into()],
            dim: 2,
            ..Layout::default()
        };
        let text = layout.to_string();
        let lines: Vec<&str> = text.lines().collect();
        // A one-element simplex has no free value; a conditioned one is not in `u`.
        assert!(lines[1].ends_with("none"), "{text}");
        assert!(lines[2].ends_with("u[0..2]"), "{text}");
        assert!(lines[3].ends_with("conditioned"), "{text}");
        assert_eq!(lines[5], "potentials: a, b");
        assert_eq!(lines[7], "2 unconstrained dimensions (u)");
    }
}
