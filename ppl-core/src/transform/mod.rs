//! Bijections from unconstrained space to a variable's support, with log-Jacobians.
//!
//! Each transform maps an unconstrained vector `u` to a constrained value `x` and reports
//! `ln |det ∂x/∂u|`. Bounds may be model scalars, so bounds that depend on another
//! parameter are differentiated too. Implementations live one per file:
//! [`bounds`] (identity, lower, upper, interval), [`simplex`] (stick-breaking),
//! [`ordered`], [`cholesky_corr`].

pub mod bounds;
pub mod cholesky_corr;
pub mod ordered;
pub mod simplex;

use crate::scalar::Real;

/// Where transforms write constrained values: a `Vec` or the inline [`Values`] buffer.
///
/// Pass either as the `out` argument of [`Transform::constrain`]:
///
/// ```
/// use ppl_core::dist::Values;
/// use ppl_core::Transform;
///
/// let t = Transform::<f64>::upper(1.0); // x = 1 − e^u
/// let mut inline: Values<f64> = Values::new();
/// let mut vec: Vec<f64> = Vec::new();
/// t.constrain(&[0.0], &mut inline);
/// t.constrain(&[0.0], &mut vec);
/// assert_eq!((inline[0], vec[0]), (0.0, 0.0));
/// assert!(!inline.spilled()); // a few values are stored inline, without allocating
/// ```
///
/// [`Values`]: crate::dist::Values
pub trait ValueSink<R: Copy>: std::ops::DerefMut<Target = [R]> + Extend<R> {
    /// Appends one value.
    fn push(&mut self, x: R);
    /// Reserves room for `n` more values.
    fn reserve(&mut self, n: usize);
    /// Resizes to `n` values, filling with `x`.
    fn resize(&mut self, n: usize, x: R);
    /// Appends a slice.
    fn extend_from_slice(&mut self, xs: &[R]);
}

impl<R: Copy> ValueSink<R> for Vec<R> {
    fn push(&mut self, x: R) {
        Vec::push(self, x)
    }
    fn reserve(&mut self, n: usize) {
        Vec::reserve(self, n)
    }
    fn resize(&mut self, n: usize, x: R) {
        Vec::resize(self, n, x)
    }
    fn extend_from_slice(&mut self, xs: &[R]) {
        Vec::extend_from_slice(self, xs)
    }
}

impl<R: Copy> ValueSink<R> for crate::dist::Values<R> {
    fn push(&mut self, x: R) {
        smallvec::SmallVec::push(self, x)
    }
    fn reserve(&mut self, n: usize) {
        smallvec::SmallVec::reserve(self, n)
    }
    fn resize(&mut self, n: usize, x: R) {
        smallvec::SmallVec::resize(self, n, x)
    }
    fn extend_from_slice(&mut self, xs: &[R]) {
        smallvec::SmallVec::extend_from_slice(self, xs)
    }
}

/// A transform from unconstrained space onto a support.
///
/// [`constrain`](Transform::constrain) maps `u` onto the support and returns
/// `ln |det ∂x/∂u|`, the term the model adds to the log-density;
/// [`unconstrain`](Transform::unconstrain) inverts it.
///
/// ```
/// use ppl_core::Transform;
///
/// // x > 1: x = 1 + eᵘ, so ln |J| = Σ u.
/// let t = Transform::<f64>::lower(1.0);
/// let u = [0.5, -2.0];
/// let mut x = Vec::new();
/// let log_jacobian = t.constrain(&u, &mut x);
/// assert!((x[0] - (1.0 + 0.5_f64.exp())).abs() < 1e-15);
/// assert!((log_jacobian - (0.5 - 2.0)).abs() < 1e-15);
/// let back = t.unconstrain(&x);
/// assert!((back[0] - u[0]).abs() < 1e-15 && (back[1] - u[1]).abs() < 1e-15);
///
/// // 0 < x < 4: x = 4σ(u), ln |J| = ln 4 + ln σ(u) + ln(1 − σ(u)).
/// let t = Transform::<f64>::interval(0.0, 4.0);
/// let mut x = Vec::new();
/// let log_jacobian = t.constrain(&[0.0], &mut x);
/// assert_eq!(x, [2.0]);
/// assert!((log_jacobian - (4.0_f64 * 0.25).ln()).abs() < 1e-15);
///
/// // Probability vectors of length 3 from 2 unconstrained values.
/// let t = Transform::<f64>::Simplex;
/// assert_eq!(t.unconstrained_len(3), Some(2));
/// let mut p = Vec::new();
/// t.constrain(&[0.3, -0.8], &mut p);
/// assert_eq!(p.len(), 3);
/// assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transform<R> {
    /// No constraint.
    Identity,
    /// `x > lower`: `x = lower + e^u`.
    Lower(R),
    /// `x < upper`: `x = upper − e^u`.
    Upper(R),
    /// `lower < x < upper`: `x = lower + (upper − lower) σ(u)`.
    Interval(R, R),
    /// Probability vectors of length K from K−1 unconstrained values (stick-breaking).
    Simplex,
    /// Strictly increasing vectors: `x₀ = u₀`, `xᵢ = xᵢ₋₁ + e^{uᵢ}`.
    Ordered,
    /// Cholesky factors of correlation matrices (n×n from n(n−1)/2 values).
    CholeskyCorr,
}

/// The kind of a transform, without its bound values (for layouts and messages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TransformKind {
    /// See [`Transform::Identity`].
    Identity,
    /// See [`Transform::Lower`].
    Lower,
    /// See [`Transform::Upper`].
    Upper,
    /// See [`Transform::Interval`].
    Interval,
    /// See [`Transform::Simplex`].
    Simplex,
    /// See [`Transform::Ordered`].
    Ordered,
    /// See [`Transform::CholeskyCorr`].
    CholeskyCorr,
}

impl TransformKind {
    /// A short name: the kind and, in parentheses, the map it applies.
    ///
    /// ```
    /// use ppl_core::transform::TransformKind;
    /// assert_eq!(TransformKind::Lower.describe(), "lower bound (log)");
    /// ```
    pub fn describe(self) -> &'static str {
        match self {
            TransformKind::Identity => "identity",
            TransformKind::Lower => "lower bound (log)",
            TransformKind::Upper => "upper bound (log)",
            TransformKind::Interval => "interval (logit)",
            TransformKind::Simplex => "simplex (stick-breaking)",
            TransformKind::Ordered => "ordered (log gaps)",
            TransformKind::CholeskyCorr => "Cholesky correlation",
        }
    }
}

impl<R: Real> Transform<R> {
    /// `x > lower`.
    ///
    /// ```
    /// use ppl_core::Transform;
    /// let t = Transform::<f64>::lower(2.0);
    /// assert_eq!(t, Transform::Lower(2.0));
    /// let mut x = Vec::new();
    /// t.constrain(&[-30.0, 0.0, 3.0], &mut x);
    /// assert!(x.iter().all(|v| *v > 2.0));
    /// assert_eq!(x[1], 3.0); // 2 + e⁰
    /// ```
    pub fn lower(lower: impl Into<R>) -> Self {
        Transform::Lower(lower.into())
    }
    /// `x < upper`.
    ///
    /// ```
    /// use ppl_core::Transform;
    /// let t = Transform::<f64>::upper(2.0);
    /// assert_eq!(t, Transform::Upper(2.0));
    /// let mut x = Vec::new();
    /// t.constrain(&[-30.0, 0.0, 3.0], &mut x);
    /// assert!(x.iter().all(|v| *v < 2.0));
    /// assert_eq!(x[1], 1.0); // 2 − e⁰
    /// ```
    pub fn upper(upper: impl Into<R>) -> Self {
        Transform::Upper(upper.into())
    }
    /// `lower < x < upper`.
    ///
    /// Either bound may be a model scalar, and is then differentiated too:
    ///
    /// ```
    /// use ppl_core::tape::{self, Var};
    /// use ppl_core::{Real, Transform};
    ///
    /// // 0 < x < b with b a parameter: x = b σ(u).
    /// tape::reset();
    /// let (u, b) = (Var::leaf(0.0), Var::leaf(4.0));
    /// let t = Transform::interval(0.0, b);
    /// let mut x = Vec::new();
    /// t.constrain(&[u], &mut x);
    /// assert_eq!(x[0].value(), 2.0);
    /// let mut grad = [0.0; 2];
    /// tape::gradient(x[0], &[u, b], &mut grad);
    /// // ∂x/∂u = b σ(0)(1 − σ(0)) = 1 and ∂x/∂b = σ(0) = ½.
    /// assert!((grad[0] - 1.0).abs() < 1e-15 && (grad[1] - 0.5).abs() < 1e-15);
    /// ```
    pub fn interval(lower: impl Into<R>, upper: impl Into<R>) -> Self {
        Transform::Interval(lower.into(), upper.into())
    }

    /// The kind, without bound values.
    ///
    /// ```
    /// use ppl_core::transform::{Transform, TransformKind};
    /// assert_eq!(Transform::<f64>::interval(0.0, 1.0).kind(), TransformKind::Interval);
    /// assert_eq!(Transform::<f64>::Simplex.kind().describe(), "simplex (stick-breaking)");
    /// ```
    pub fn kind(&self) -> TransformKind {
        match self {
            Transform::Identity => TransformKind::Identity,
            Transform::Lower(_) => TransformKind::Lower,
            Transform::Upper(_) => TransformKind::Upper,
            Transform::Interval(..) => TransformKind::Interval,
            Transform::Simplex => TransformKind::Simplex,
            Transform::Ordered => TransformKind::Ordered,
            Transform::CholeskyCorr => TransformKind::CholeskyCorr,
        }
    }

    /// Number of unconstrained values for `constrained_len` constrained ones, or `None`
    /// when the length does not fit the transform (e.g. a non-square Cholesky factor).
    ///
    /// ```
    /// use ppl_core::Transform;
    /// assert_eq!(Transform::<f64>::lower(0.0).unconstrained_len(5), Some(5));
    /// assert_eq!(Transform::<f64>::Ordered.unconstrained_len(5), Some(5));
    /// assert_eq!(Transform::<f64>::Simplex.unconstrained_len(5), Some(4));
    /// assert_eq!(Transform::<f64>::Simplex.unconstrained_len(0), None);
    /// // A 3×3 correlation factor has 3 free values; 8 values are not a square matrix.
    /// assert_eq!(Transform::<f64>::CholeskyCorr.unconstrained_len(9), Some(3));
    /// assert_eq!(Transform::<f64>::CholeskyCorr.unconstrained_len(8), None);
    /// ```
    pub fn unconstrained_len(&self, constrained_len: usize) -> Option<usize> {
        match self {
            Transform::Simplex => constrained_len.checked_sub(1),
            Transform::CholeskyCorr => cholesky_corr::unconstrained_len(constrained_len),
            _ => Some(constrained_len),
        }
    }

    /// Maps `u` to the constrained values (appended to `out`); returns `ln |J|`.
    ///
    /// ```
    /// use ppl_core::Transform;
    /// // Values are appended: what `out` held is kept.
    /// let mut out = vec![-1.0];
    /// let log_jacobian = Transform::<f64>::Ordered.constrain(&[0.0, 0.0, 1.0], &mut out);
    /// assert_eq!(&out[..3], &[-1.0, 0.0, 1.0]);
    /// assert!((out[3] - (1.0 + 1f64.exp())).abs() < 1e-15);
    /// assert_eq!(log_jacobian, 1.0); // Σ_{i≥1} uᵢ
    ///
    /// // In one dimension ln |J| = ln |dx/du|.
    /// let t = Transform::<f64>::interval(-1.0, 3.0);
    /// let at = |u: f64| {
    ///     let mut x = Vec::new();
    ///     let lj = t.constrain(&[u], &mut x);
    ///     (x[0], lj)
    /// };
    /// let (u, h) = (0.7, 1e-6);
    /// let slope = (at(u + h).0 - at(u - h).0) / (2.0 * h);
    /// assert!((at(u).1 - slope.ln()).abs() < 1e-8);
    /// ```
    pub fn constrain(&self, u: &[R], out: &mut impl ValueSink<R>) -> R {
        match *self {
            Transform::Identity => {
                out.extend_from_slice(u);
                R::constant(0.0)
            }
            Transform::Lower(lo) => bounds::lower_constrain(lo, u, out),
            Transform::Upper(hi) => bounds::upper_constrain(hi, u, out),
            Transform::Interval(lo, hi) => bounds::interval_constrain(lo, hi, u, out),
            Transform::Simplex => simplex::constrain(u, out),
            Transform::Ordered => ordered::constrain(u, out),
            Transform::CholeskyCorr => cholesky_corr::constrain(u, out),
        }
    }

    /// [`unconstrain`](Transform::unconstrain), or the index of the first value that has
    /// no finite image (outside the support or the transform's bounds, or not finite
    /// itself): the check the forward pass, conditioning and `unconstrain` share.
    pub(crate) fn unconstrain_checked(&self, x: &[f64]) -> Result<Vec<f64>, usize> {
        let u = self.unconstrain(x);
        match x
            .iter()
            .zip(&u)
            .position(|(x, u)| !x.is_finite() || !u.is_finite())
        {
            Some(k) => Err(k),
            None => Ok(u),
        }
    }

    /// Maps constrained values back to unconstrained space (plain values). Values outside
    /// the support map to non-finite numbers.
    ///
    /// ```
    /// use ppl_core::Transform;
    /// let t = Transform::<f64>::interval(0.0, 10.0);
    /// let u = t.unconstrain(&[5.0, 2.0]);
    /// assert_eq!(u[0], 0.0); // the midpoint
    /// let mut x = Vec::new();
    /// t.constrain(&u, &mut x);
    /// assert!((x[1] - 2.0).abs() < 1e-14);
    /// assert_eq!(t.unconstrain(&[10.0])[0], f64::INFINITY); // on the boundary
    /// assert!(t.unconstrain(&[11.0])[0].is_nan()); // outside
    /// ```
    pub fn unconstrain(&self, x: &[f64]) -> Vec<f64> {
        match *self {
            Transform::Identity => x.to_vec(),
            Transform::Lower(lo) => x.iter().map(|v| (v - lo.value()).ln()).collect(),
            Transform::Upper(hi) => x.iter().map(|v| (hi.value() - v).ln()).collect(),
            Transform::Interval(lo, hi) => {
                let (lo, hi) = (lo.value(), hi.value());
                x.iter()
                    .map(|v| {
                        let p = (v - lo) / (hi - lo);
                        (p / (1.0 - p)).ln()
                    })
                    .collect()
            }
            Transform::Simplex => simplex::unconstrain(x),
            Transform::Ordered => ordered::unconstrain(x),
            Transform::CholeskyCorr => cholesky_corr::unconstrain(x),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Shared checks for the transform tests: numerical log-Jacobians and gradients.

    use super::{Transform, TransformKind};
    use crate::dist::testing::{check_gradients, ScalarFamily};
    use crate::scalar::Real;

    /// `ln |det ∂f/∂u|` by central finite differences (`f` must map Rᵈ to Rᵈ).
    pub(crate) fn fd_log_abs_det(f: impl Fn(&[f64]) -> Vec<f64>, u: &[f64]) -> f64 {
        let d = u.len();
        let mut jac = nalgebra::DMatrix::<f64>::zeros(d, d);
        for j in 0..d {
            let h = 1e-5 * u[j].abs().max(1.0);
            let mut plus = u.to_vec();
            let mut minus = u.to_vec();
            plus[j] += h;
            minus[j] -= h;
            let (fp, fm) = (f(&plus), f(&minus));
            assert_eq!(fp.len(), d, "the map must be square");
            for i in 0..d {
                jac[(i, j)] = (fp[i] - fm[i]) / (2.0 * h);
            }
        }
        jac.determinant().abs().ln()
    }

    /// Number of bound arguments a transform kind takes.
    fn n_bounds(kind: TransformKind) -> usize {
        match kind {
            TransformKind::Lower | TransformKind::Upper => 1,
            TransformKind::Interval => 2,
            _ => 0,
        }
    }

    /// Builds a transform of `kind` whose bounds are the trailing `args`; returns it
    /// with the unconstrained part of `args`.
    pub(crate) fn build<R: Real>(kind: TransformKind, args: &[R]) -> (Transform<R>, &[R]) {
        let (u, b) = args.split_at(args.len() - n_bounds(kind));
        let t = match kind {
            TransformKind::Identity => Transform::Identity,
            TransformKind::Lower => Transform::Lower(b[0]),
            TransformKind::Upper => Transform::Upper(b[0]),
            TransformKind::Interval => Transform::Interval(b[0], b[1]),
            TransformKind::Simplex => Transform::Simplex,
            TransformKind::Ordered => Transform::Ordered,
            TransformKind::CholeskyCorr => Transform::CholeskyCorr,
        };
        (t, u)
    }

    /// `ln |J| + Σ cᵢ xᵢ` (fixed weights `cᵢ`), so that gradients of both the
    /// log-Jacobian and the constrained values are checked.
    struct LogJacobian(TransformKind);

    impl ScalarFamily for LogJacobian {
        fn log_density<R: Real>(&self, args: &[R]) -> R {
            let (t, u) = build(self.0, args);
            let mut x = Vec::new();
            let lj = t.constrain(u, &mut x);
            let mut s = lj;
            for (i, xi) in x.iter().enumerate() {
                s += *xi * (0.3 + 0.1 * i as f64);
            }
            s
        }
    }

    /// Tape, forward-mode and finite-difference gradients of the log-Jacobian (plus a
    /// linear function of the constrained values) agree; bounds are the trailing `args`.
    pub(crate) fn check_log_jacobian_gradients(kind: TransformKind, args: &[f64], tol: f64) {
        check_gradients(&LogJacobian(kind), args, tol);
    }

    #[test]
    fn kinds_and_lengths() {
        let t = Transform::<f64>::interval(0.0, 1.0);
        assert_eq!(t.kind(), TransformKind::Interval);
        assert_eq!(Transform::<f64>::lower(1.0).kind(), TransformKind::Lower);
        assert_eq!(Transform::<f64>::upper(1.0).kind(), TransformKind::Upper);
        assert_eq!(Transform::<f64>::Identity.unconstrained_len(5), Some(5));
        assert_eq!(Transform::<f64>::CholeskyCorr.unconstrained_len(9), Some(3));
        assert_eq!(Transform::<f64>::CholeskyCorr.unconstrained_len(8), None);
    }
}
