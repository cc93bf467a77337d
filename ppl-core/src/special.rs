//! Special functions with their derivatives, written once and shared by every scalar type.
//!
//! Each function in [`derivs`] returns `[f, f', f'', f''']` evaluated at a point. `order`
//! is the highest derivative the caller will read: tables whose higher derivatives cost
//! something (ln Γ, ψ, powers, and `ln`, `ln_1p`, `sqrt` at order 0) compute only that
//! far and leave zeros beyond it; the cheap ones fill all four entries whatever the
//! order, so a caller must not read past its own `order`. The scalar types apply
//! these with one chain rule (`Real::map_unary`): `f64` uses `f`, the tape uses `f'`,
//! and forward-mode duals use as many as their derivative order needs.

use std::f64::consts::{LN_2, PI};

/// Value and first three derivatives of a unary function at a point.
pub type Derivs = [f64; 4];

/// `ln(2π)/2`.
pub const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
/// `ln π`.
pub const LN_PI: f64 = 1.144_729_885_849_400_2;
/// `1/sqrt(2π)`.
pub const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// Natural log of the absolute value of the gamma function.
///
/// ```
/// use ppl_core::special::ln_gamma;
/// use std::f64::consts::PI;
/// // Γ(5) = 4! = 24 and Γ(½) = √π.
/// assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-14);
/// assert!((ln_gamma(0.5) - PI.sqrt().ln()).abs() < 1e-15);
/// // The absolute value: Γ(−½) = −2√π.
/// assert!((ln_gamma(-0.5) - (2.0 * PI.sqrt()).ln()).abs() < 1e-14);
/// // No overflow where Γ itself would: ln Γ(1000) = ln 999!.
/// let ln_factorial: f64 = (1..1000).map(|k| f64::from(k).ln()).sum();
/// assert!((ln_gamma(1000.0) - ln_factorial).abs() < 1e-12 * ln_factorial);
/// ```
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// Digamma function ψ(x) = d/dx ln Γ(x).
///
/// Accurate to about 1e-13 relative for positive arguments (see [`polygamma`]).
///
/// ```
/// use ppl_core::special::digamma;
/// use std::f64::consts::LN_2;
/// const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
/// // ψ(1) = −γ and ψ(½) = −γ − 2 ln 2.
/// assert!((digamma(1.0) + EULER_GAMMA).abs() < 1e-13);
/// assert!((digamma(0.5) + EULER_GAMMA + 2.0 * LN_2).abs() < 1e-13);
/// // Negative non-integers: ψ(−½) = ψ(½) + 2.
/// assert!((digamma(-0.5) - (2.0 - EULER_GAMMA - 2.0 * LN_2)).abs() < 1e-12);
/// // The recurrence ψ(x + 1) = ψ(x) + 1/x, and NaN at the poles 0, −1, −2, …
/// assert!((digamma(4.5) - digamma(3.5) - 1.0 / 3.5).abs() < 1e-13);
/// assert!(digamma(0.0).is_nan() && digamma(-2.0).is_nan());
/// ```
pub fn digamma(x: f64) -> f64 {
    polygamma(0, x)
}

/// Trigamma function ψ₁(x).
///
/// Accurate to about 1e-13 relative for positive arguments (see [`polygamma`]).
///
/// ```
/// use ppl_core::special::trigamma;
/// use std::f64::consts::PI;
/// let rel = |a: f64, b: f64| ((a - b) / b).abs();
/// // ψ₁(1) = π²/6 = ζ(2) and ψ₁(½) = π²/2.
/// assert!(rel(trigamma(1.0), PI * PI / 6.0) < 1e-13);
/// assert!(rel(trigamma(0.5), PI * PI / 2.0) < 1e-13);
/// // ψ₁(x) = 1/x + 1/(2x²) + 1/(6x³) − … for large x.
/// let x = 1e4;
/// assert!(rel(trigamma(x), 1.0 / x + 0.5 / (x * x) + 1.0 / (6.0 * x * x * x)) < 1e-13);
/// ```
pub fn trigamma(x: f64) -> f64 {
    polygamma(1, x)
}

/// Polygamma function ψ⁽ⁿ⁾(x) for `n` in `0..=4`.
///
/// Uses the recurrence ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x+1) − (−1)ⁿ n!/x^{n+1} to shift the argument
/// above 10, then the asymptotic series; negative non-integer arguments use the
/// reflection formula. Relative accuracy is about 1e-13 for positive arguments. NaN at
/// the poles (0, −1, −2, …) and for `n > 4`.
///
/// ```
/// use ppl_core::special::{digamma, polygamma, trigamma};
/// use std::f64::consts::PI;
/// const ZETA_3: f64 = 1.202_056_903_159_594_2; // Apéry's constant
/// const ZETA_5: f64 = 1.036_927_755_143_369_9;
/// let rel = |a: f64, b: f64| ((a - b) / b).abs();
/// // ψ⁽ⁿ⁾(1) = (−1)ⁿ⁺¹ n! ζ(n + 1).
/// assert!(rel(polygamma(2, 1.0), -2.0 * ZETA_3) < 1e-13);
/// assert!(rel(polygamma(3, 1.0), PI.powi(4) / 15.0) < 1e-13); // 6 ζ(4)
/// assert!(rel(polygamma(4, 1.0), -24.0 * ZETA_5) < 1e-13);
/// // n = 0 and n = 1 are digamma and trigamma.
/// assert_eq!(polygamma(0, 2.5), digamma(2.5));
/// assert_eq!(polygamma(1, 2.5), trigamma(2.5));
/// ```
pub fn polygamma(n: u32, x: f64) -> f64 {
    if x.is_nan() || n > 4 {
        return f64::NAN;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::NAN;
    }
    if x < 0.0 {
        // Reflection, ψ(1 − x) − ψ(x) = π cot(πx), differentiated n times:
        // ψ⁽ⁿ⁾(x) = (−1)ⁿ ψ⁽ⁿ⁾(1 − x) − π dⁿ/dxⁿ cot(πx). (The recurrence below would
        // take |x| steps from a large negative argument.)
        let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
        return sign * polygamma(n, 1.0 - x) - PI * cot_pi_derivative(n, x);
    }
    let mut x = x;
    let mut acc = 0.0;
    let factorial = [1.0, 1.0, 2.0, 6.0, 24.0, 120.0][n as usize];
    let sign = if n % 2 == 1 { 1.0 } else { -1.0 }; // (−1)^{n+1}
    while x < 10.0 {
        // ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x+1) + (−1)^{n+1} n!/x^{n+1}
        acc += sign * factorial / x.powi(n as i32 + 1);
        x += 1.0;
    }
    // Bernoulli numbers B2..B12.
    const B: [f64; 6] = [
        1.0 / 6.0,
        -1.0 / 30.0,
        1.0 / 42.0,
        -1.0 / 30.0,
        5.0 / 66.0,
        -691.0 / 2730.0,
    ];
    let tail = if n == 0 {
        let x2 = x * x;
        let mut s = x.ln() - 0.5 / x;
        let mut xp = x2;
        for (k, b) in B.iter().enumerate() {
            let two_k = 2.0 * (k as f64 + 1.0);
            s -= b / (two_k * xp);
            xp *= x2;
        }
        s
    } else {
        // ψ⁽ⁿ⁾(x) ~ (−1)^{n+1} [ (n−1)!/xⁿ + n!/(2x^{n+1}) + Σ B_{2k} (2k+n−1)!/((2k)! x^{2k+n}) ]
        let nf = n as f64;
        let fact_nm1 = [1.0, 1.0, 1.0, 2.0, 6.0][n as usize];
        let mut s = fact_nm1 / x.powi(n as i32) + factorial / (2.0 * x.powi(n as i32 + 1));
        for (k, b) in B.iter().enumerate() {
            let two_k = 2.0 * (k as f64 + 1.0);
            // (2k+n−1)!/(2k)! = Π_{j=1}^{n−1} (2k+j)
            let mut ratio = 1.0;
            let mut j = 1.0;
            while j < nf {
                ratio *= two_k + j;
                j += 1.0;
            }
            s += b * ratio / x.powi((two_k + nf) as i32);
        }
        sign * s
    };
    acc + tail
}

/// dⁿ/dxⁿ cot(πx) for n in 0..=4, written in c = cot(πx) (dc/dx = −π(1 + c²)).
fn cot_pi_derivative(n: u32, x: f64) -> f64 {
    let c = 1.0 / (PI * x).tan();
    let q = 1.0 + c * c;
    let p2 = PI * PI;
    match n {
        0 => c,
        1 => -PI * q,
        2 => 2.0 * p2 * c * q,
        3 => -2.0 * p2 * PI * (1.0 + 3.0 * c * c) * q,
        _ => 2.0 * p2 * p2 * (8.0 * c + 12.0 * c * c * c) * q,
    }
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b)`.
///
/// ```
/// use ppl_core::special::{ln_beta, ln_gamma};
/// use std::f64::consts::PI;
/// // B(2, 3) = 1!·2!/4! = 1/12 and B(½, ½) = π.
/// assert!((ln_beta(2.0, 3.0) - (1.0f64 / 12.0).ln()).abs() < 1e-14);
/// assert!((ln_beta(0.5, 0.5) - PI.ln()).abs() < 1e-14);
/// // Symmetric, and B(a, 1) = 1/a.
/// assert_eq!(ln_beta(2.5, 7.0), ln_beta(7.0, 2.5));
/// assert!((ln_beta(4.0, 1.0) + 4f64.ln()).abs() < 1e-14);
/// // Finite where the gamma functions themselves overflow.
/// let (a, b) = (300.0, 400.0);
/// assert_eq!(ln_beta(a, b), ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b));
/// assert!(ln_beta(a, b).is_finite());
/// ```
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Error function.
///
/// ```
/// use ppl_core::special::erf;
/// assert!((erf(1.0) - 0.842_700_792_949_714_9).abs() < 1e-15);
/// assert_eq!(erf(0.0), 0.0);
/// assert_eq!(erf(-0.7), -erf(0.7)); // odd
/// assert_eq!(erf(f64::INFINITY), 1.0);
/// ```
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// Complementary error function.
///
/// ```
/// use ppl_core::special::{erf, erfc};
/// assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 1e-16);
/// // Accurate where 1 − erf(x) has cancelled to nothing: erfc(10) ≈ 2.0885e-45.
/// assert_eq!(1.0 - erf(10.0), 0.0);
/// assert!((erfc(10.0) / 2.088_487_583_762_544_8e-45 - 1.0).abs() < 1e-13);
/// assert_eq!(erfc(-0.3), 2.0 - erfc(0.3));
/// ```
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// Standard normal density φ(x).
///
/// ```
/// use ppl_core::special::{std_normal_pdf, INV_SQRT_2PI};
/// assert_eq!(std_normal_pdf(0.0), INV_SQRT_2PI);
/// assert!((std_normal_pdf(1.0) - 0.241_970_724_519_143_35).abs() < 1e-16);
/// assert_eq!(std_normal_pdf(-1.5), std_normal_pdf(1.5));
/// ```
pub fn std_normal_pdf(x: f64) -> f64 {
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Standard normal CDF Φ(x), accurate in both tails.
///
/// ```
/// use ppl_core::special::std_normal_cdf;
/// assert_eq!(std_normal_cdf(0.0), 0.5);
/// // The two-sided 95% quantile.
/// assert!((std_normal_cdf(1.96) - 0.975_002_104_851_779_5).abs() < 1e-15);
/// assert!((std_normal_cdf(-1.96) - 0.024_997_895_148_220_435).abs() < 1e-16);
/// // The lower tail keeps its relative accuracy: Φ(−10) ≈ 7.62e-24.
/// assert!((std_normal_cdf(-10.0) / 7.619_853_024_160_526e-24 - 1.0).abs() < 1e-13);
/// ```
pub fn std_normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// `ln Φ(x)`, accurate far into the lower tail.
///
/// ```
/// use ppl_core::special::{std_normal_cdf, std_normal_log_cdf};
/// assert!((std_normal_log_cdf(0.0) + std::f64::consts::LN_2).abs() < 1e-15);
/// // Φ(−40) underflows to 0, its log does not (reference value from mpmath).
/// assert_eq!(std_normal_cdf(-40.0), 0.0);
/// assert!((std_normal_log_cdf(-40.0) / -804.608_442_013_753_8 - 1.0).abs() < 1e-14);
/// assert!((std_normal_log_cdf(-5.0) / -15.064_998_393_988_726 - 1.0).abs() < 1e-14);
/// ```
pub fn std_normal_log_cdf(x: f64) -> f64 {
    if x > LOWER_TAIL {
        std_normal_cdf(x).ln()
    } else {
        let t = Tail::new(x);
        -0.5 * x * x - (-x).ln() - HALF_LN_2PI + t.s.ln()
    }
}

/// φ(x)/Φ(x), the derivative of `ln Φ(x)`, stable in the lower tail.
///
/// ```
/// use ppl_core::special::inv_mills;
/// // φ(0)/Φ(0) = 2/√(2π).
/// assert!((inv_mills(0.0) - 0.797_884_560_802_865_4).abs() < 1e-15);
/// // In the lower tail φ(x)/Φ(x) ≈ −x − 1/x: finite where φ and Φ both underflow.
/// assert!((inv_mills(-40.0) - 40.024_968_847_207_264).abs() < 1e-12);
/// assert!(inv_mills(-1e3).is_finite());
/// ```
pub fn inv_mills(x: f64) -> f64 {
    if x > LOWER_TAIL {
        std_normal_pdf(x) / std_normal_cdf(x)
    } else {
        -x / Tail::new(x).s
    }
}

/// Below this, `ln Φ` and its derivatives use the asymptotic expansion.
const LOWER_TAIL: f64 = -10.0;

/// Coefficients of Φ(x) ≈ φ(x)/(−x) · Σ cₖ uᵏ with u = 1/x²: cₖ = (−1)ᵏ (2k−1)!!.
/// Seventeen terms keep the truncation error below 1e-15 for x ≤ −10.
const MILLS: [f64; 17] = [
    1.0,
    -1.0,
    3.0,
    -15.0,
    105.0,
    -945.0,
    10395.0,
    -135135.0,
    2027025.0,
    -34459425.0,
    654729075.0,
    -13749310575.0,
    316234143225.0,
    -7905853580625.0,
    213458046676875.0,
    -6190283353629375.0,
    191898783962510625.0,
];

/// The lower-tail expansion of ln Φ at x ≪ 0, with S(u) = Σ cₖ uᵏ.
struct Tail {
    x: f64,
    u: f64,
    s: f64,
}

impl Tail {
    fn new(x: f64) -> Self {
        let u = 1.0 / (x * x);
        Tail {
            x,
            u,
            s: poly(&MILLS, u),
        }
    }

    /// Second and third derivatives of ln Φ. With r = φ/Φ = −x/S they are
    /// d₂ = −r(x + r) = t/S² and d₃ = x P(u)/S³, where t = x²(S − 1) and
    /// P = S² + t − t(S − 1); the leading terms of P cancel, so P is formed from
    /// series coefficients (exactly) rather than from rounded values.
    fn d2_d3(&self) -> (f64, f64) {
        const N: usize = MILLS.len();
        let mut s1 = MILLS;
        s1[0] = 0.0; // S − 1
        let mut t = [0.0; N]; // x²(S − 1): shift down one power of u
        t[..N - 1].copy_from_slice(&MILLS[1..]);
        let s2 = mul(&MILLS, &MILLS);
        let ts1 = mul(&t, &s1);
        let mut p = [0.0; N];
        for k in 0..N {
            p[k] = s2[k] + t[k] - ts1[k];
        }
        let (s, u) = (self.s, self.u);
        (poly(&t, u) / (s * s), self.x * poly(&p, u) / (s * s * s))
    }
}

/// Σ aₖ uᵏ.
fn poly(a: &[f64], u: f64) -> f64 {
    a.iter().rev().fold(0.0, |acc, c| acc * u + c)
}

/// Product of two truncated power series.
fn mul<const N: usize>(a: &[f64; N], b: &[f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    for i in 0..N {
        for j in 0..N - i {
            out[i + j] += a[i] * b[j];
        }
    }
    out
}

/// Logistic sigmoid 1/(1+e^{−x}), stable for large |x|.
///
/// ```
/// use ppl_core::special::sigmoid;
/// assert_eq!(sigmoid(0.0), 0.5);
/// assert!((sigmoid(3.0) - 0.952_574_126_822_433_2).abs() < 1e-15);
/// // σ(−x) = 1 − σ(x).
/// for x in [0.3, 2.0, 7.5] {
///     assert!((sigmoid(-x) - (1.0 - sigmoid(x))).abs() < 1e-15);
/// }
/// // Far tails: no overflow, and the small side keeps its relative accuracy.
/// assert_eq!(sigmoid(800.0), 1.0);
/// assert!((sigmoid(-700.0) / (-700f64).exp() - 1.0).abs() < 1e-15);
/// ```
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^x)` (softplus), stable for large |x|.
///
/// ```
/// use ppl_core::special::log1p_exp;
/// assert_eq!(log1p_exp(0.0), std::f64::consts::LN_2);
/// // e^1000 overflows; ln(1 + e^1000) = 1000 to double precision.
/// assert_eq!(log1p_exp(1000.0), 1000.0);
/// // Very negative: ln(1 + e^x) ≈ e^x, not rounded to 0 (until e^x underflows).
/// assert!((log1p_exp(-50.0) / 1.928_749_847_963_917_8e-22 - 1.0).abs() < 1e-15);
/// assert_eq!(log1p_exp(-1000.0), 0.0);
/// // ln(1 + e^x) − ln(1 + e^−x) = x.
/// assert!((log1p_exp(2.5) - log1p_exp(-2.5) - 2.5).abs() < 1e-15);
/// ```
pub fn log1p_exp(x: f64) -> f64 {
    if x > 33.3 {
        x
    } else if x > -37.0 {
        x.exp().ln_1p()
    } else {
        x.exp()
    }
}

/// `ln(e^a + e^b)` without overflow.
///
/// ```
/// use ppl_core::special::log_sum_exp2;
/// use std::f64::consts::LN_2;
/// assert!((log_sum_exp2(1000.0, 1000.0) - (1000.0 + LN_2)).abs() < 1e-12);
/// assert!((log_sum_exp2(1.0f64.ln(), 3.0f64.ln()) - 4.0f64.ln()).abs() < 1e-15);
/// assert_eq!(log_sum_exp2(f64::NEG_INFINITY, 2.0), 2.0); // e^−∞ = 0
/// assert_eq!(log_sum_exp2(f64::NEG_INFINITY, f64::NEG_INFINITY), f64::NEG_INFINITY);
/// assert_eq!(log_sum_exp2(f64::INFINITY, f64::INFINITY), f64::INFINITY);
/// ```
pub fn log_sum_exp2(a: f64, b: f64) -> f64 {
    if a == b && a.is_infinite() {
        // Both −∞ (an empty sum) or both +∞: a − b would be NaN.
        return a;
    }
    let m = a.max(b);
    m + log1p_exp(-(a - b).abs())
}

/// `ln Σ e^{xᵢ}` without overflow; −∞ for an empty slice.
///
/// ```
/// use ppl_core::special::log_sum_exp;
/// assert!((log_sum_exp(&[1000.0, 1000.0, 1000.0]) - (1000.0 + 3f64.ln())).abs() < 1e-12);
/// let xs = [0.5, -1.0, 2.0];
/// let direct = xs.iter().map(|x: &f64| x.exp()).sum::<f64>().ln();
/// assert!((log_sum_exp(&xs) - direct).abs() < 1e-15);
/// assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
/// assert_eq!(log_sum_exp(&[f64::NEG_INFINITY, 0.0]), 0.0);
/// ```
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    // The scalar-generic version, for plain values.
    crate::scalar::log_sum_exp(xs)
}

/// Derivative tables of the unary functions, `[f, f', f'', f''']`, valid up to `order`
/// (entries beyond it are zero or filled anyway; see the module docs).
///
/// ```
/// use ppl_core::special::{derivs, digamma, ln_gamma, polygamma, trigamma, Derivs};
/// // ln Γ and its derivatives ψ, ψ₁, ψ₂ at 3.
/// let d: Derivs = derivs::ln_gamma(3.0, 3);
/// assert_eq!(d, [ln_gamma(3.0), digamma(3.0), trigamma(3.0), polygamma(2, 3.0)]);
/// assert!((d[0] - 2f64.ln()).abs() < 1e-15); // Γ(3) = 2
/// // Only up to the requested order: first order (what the tape needs).
/// assert_eq!(derivs::ln_gamma(3.0, 1)[2..], [0.0, 0.0]);
/// // The sigmoid σ: σ' = σ(1 − σ), σ'' = σ'(1 − 2σ); at 0: [½, ¼, 0, −⅛].
/// assert_eq!(derivs::sigmoid(0.0, 3), [0.5, 0.25, 0.0, -0.125]);
/// ```
pub mod derivs {
    use super::*;

    /// Keeps the entries up to `order` and zeroes the rest.
    #[inline]
    fn upto(order: usize, d: Derivs) -> Derivs {
        let mut out = [0.0; 4];
        out[..=order.min(3)].copy_from_slice(&d[..=order.min(3)]);
        out
    }

    /// e^x.
    #[inline]
    pub fn exp(x: f64, _order: usize) -> Derivs {
        let e = x.exp();
        [e, e, e, e]
    }
    /// ln x.
    #[inline]
    pub fn ln(x: f64, order: usize) -> Derivs {
        if order == 0 {
            return [x.ln(), 0.0, 0.0, 0.0];
        }
        let r = 1.0 / x;
        [x.ln(), r, -r * r, 2.0 * r * r * r]
    }
    /// ln(1 + x).
    #[inline]
    pub fn ln_1p(x: f64, order: usize) -> Derivs {
        if order == 0 {
            return [x.ln_1p(), 0.0, 0.0, 0.0];
        }
        let r = 1.0 / (1.0 + x);
        [x.ln_1p(), r, -r * r, 2.0 * r * r * r]
    }
    /// e^x − 1.
    #[inline]
    pub fn exp_m1(x: f64, _order: usize) -> Derivs {
        let e = x.exp();
        [x.exp_m1(), e, e, e]
    }
    /// √x.
    #[inline]
    pub fn sqrt(x: f64, order: usize) -> Derivs {
        let s = x.sqrt();
        if order == 0 {
            return [s, 0.0, 0.0, 0.0];
        }
        let d1 = 0.5 / s;
        [s, d1, -0.5 * d1 / x, 0.75 * d1 / (x * x)]
    }
    /// xⁿ for an integer n.
    #[inline]
    pub fn powi(x: f64, n: i32, order: usize) -> Derivs {
        let nf = n as f64;
        upto(
            order,
            [
                x.powi(n),
                nf * x.powi(n - 1),
                nf * (nf - 1.0) * x.powi(n - 2),
                nf * (nf - 1.0) * (nf - 2.0) * x.powi(n - 3),
            ],
        )
    }
    /// x^p for a constant real p.
    #[inline]
    pub fn powf(x: f64, p: f64, order: usize) -> Derivs {
        upto(
            order,
            [
                x.powf(p),
                p * x.powf(p - 1.0),
                p * (p - 1.0) * x.powf(p - 2.0),
                p * (p - 1.0) * (p - 2.0) * x.powf(p - 3.0),
            ],
        )
    }
    /// sin x.
    #[inline]
    pub fn sin(x: f64, _order: usize) -> Derivs {
        let (s, c) = x.sin_cos();
        [s, c, -s, -c]
    }
    /// cos x.
    #[inline]
    pub fn cos(x: f64, _order: usize) -> Derivs {
        let (s, c) = x.sin_cos();
        [c, -s, -c, s]
    }
    /// tanh x.
    #[inline]
    pub fn tanh(x: f64, _order: usize) -> Derivs {
        let t = x.tanh();
        let d1 = 1.0 - t * t;
        [t, d1, -2.0 * t * d1, d1 * (6.0 * t * t - 2.0)]
    }
    /// atan x.
    #[inline]
    pub fn atan(x: f64, _order: usize) -> Derivs {
        let r = 1.0 / (1.0 + x * x);
        [
            x.atan(),
            r,
            -2.0 * x * r * r,
            (6.0 * x * x - 2.0) * r * r * r,
        ]
    }
    /// |x| (derivative sign(x), 0 at 0).
    #[inline]
    pub fn abs(x: f64, _order: usize) -> Derivs {
        let s = if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        };
        [x.abs(), s, 0.0, 0.0]
    }
    /// ln Γ(x).
    #[inline]
    pub fn ln_gamma(x: f64, order: usize) -> Derivs {
        let mut d = [super::ln_gamma(x), 0.0, 0.0, 0.0];
        for (k, slot) in d.iter_mut().enumerate().take(order.min(3) + 1).skip(1) {
            *slot = polygamma(k as u32 - 1, x);
        }
        d
    }
    /// ψ(x).
    #[inline]
    pub fn digamma(x: f64, order: usize) -> Derivs {
        let mut d = [0.0; 4];
        for (k, slot) in d.iter_mut().enumerate().take(order.min(3) + 1) {
            *slot = polygamma(k as u32, x);
        }
        d
    }
    /// erf x.
    #[inline]
    pub fn erf(x: f64, _order: usize) -> Derivs {
        let d1 = FRAC_2_SQRT_PI * (-x * x).exp();
        [super::erf(x), d1, -2.0 * x * d1, (4.0 * x * x - 2.0) * d1]
    }
    /// erfc x.
    #[inline]
    pub fn erfc(x: f64, _order: usize) -> Derivs {
        let d1 = -FRAC_2_SQRT_PI * (-x * x).exp();
        [super::erfc(x), d1, -2.0 * x * d1, (4.0 * x * x - 2.0) * d1]
    }
    /// Φ(x).
    #[inline]
    pub fn std_normal_cdf(x: f64, _order: usize) -> Derivs {
        let p = std_normal_pdf(x);
        [super::std_normal_cdf(x), p, -x * p, (x * x - 1.0) * p]
    }
    /// ln Φ(x).
    #[inline]
    pub fn std_normal_log_cdf(x: f64, order: usize) -> Derivs {
        let f = super::std_normal_log_cdf(x);
        if order == 0 {
            return [f, 0.0, 0.0, 0.0];
        }
        let r = inv_mills(x);
        if x <= LOWER_TAIL {
            let (d2, d3) = Tail::new(x).d2_d3();
            return [f, r, d2, d3];
        }
        let d2 = -r * (x + r);
        // d3 = −r'(x + r) − r(1 + r'), with r' = d2.
        let d3 = -d2 * (x + r) - r * (1.0 + d2);
        [f, r, d2, d3]
    }
    /// Logistic sigmoid.
    #[inline]
    pub fn sigmoid(x: f64, _order: usize) -> Derivs {
        let s = super::sigmoid(x);
        let d1 = s * (1.0 - s);
        [
            s,
            d1,
            d1 * (1.0 - 2.0 * s),
            d1 * (1.0 - 6.0 * s + 6.0 * s * s),
        ]
    }
    /// ln(1 + e^x).
    #[inline]
    pub fn log1p_exp(x: f64, _order: usize) -> Derivs {
        let s = super::sigmoid(x);
        let d2 = s * (1.0 - s);
        [super::log1p_exp(x), s, d2, d2 * (1.0 - 2.0 * s)]
    }
}

#[allow(dead_code)]
const _LN2: f64 = LN_2;

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    #[test]
    fn digamma_known_values() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2
        let gamma = 0.577_215_664_901_532_9;
        assert!(rel(digamma(1.0), -gamma) < 1e-13);
        assert!(rel(digamma(0.5), -gamma - 2.0 * LN_2) < 1e-13);
        assert!(rel(digamma(-0.5), 0.036_489_973_978_576_52) < 1e-11);
    }

    #[test]
    fn polygamma_of_negative_arguments_matches_the_shifted_recurrence() {
        // ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x + k) − Σⱼ (−1)ⁿ n!/(x + j)ⁿ⁺¹, j < k, with x + k > 0: an
        // independent route to the value the reflection formula gives.
        let factorial = [1.0, 1.0, 2.0, 6.0, 24.0];
        for x in [-0.7f64, -3.3, -12.25, -0.01] {
            for n in 0..=4u32 {
                let k = (-x).ceil() as i32 + 1;
                let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
                let shift: f64 = (0..k)
                    .map(|j| sign * factorial[n as usize] / (x + j as f64).powi(n as i32 + 1))
                    .sum();
                let want = polygamma(n, x + k as f64) - shift;
                assert!(rel(polygamma(n, x), want) < 1e-10, "n={n} x={x}");
            }
        }
        // Far out, the reflection answers at once (the recurrence would take 10¹² steps).
        assert!(polygamma(2, -1e12 + 0.5).is_finite());
        assert!(polygamma(5, 1.0).is_nan() && polygamma(1, -3.0).is_nan());
    }

    #[test]
    fn log_sum_exp_of_two_infinities() {
        use crate::Real;
        assert_eq!(log_sum_exp2(f64::INFINITY, f64::INFINITY), f64::INFINITY);
        assert_eq!(log_sum_exp2(f64::INFINITY, 1.0), f64::INFINITY);
        assert!(log_sum_exp2(f64::NAN, 1.0).is_nan());
        let inf = f64::INFINITY;
        assert_eq!(Real::log_sum_exp(inf, inf), inf);
        assert_eq!(Real::log_sum_exp(inf, f64::NEG_INFINITY), inf);
        assert!(Real::log_sum_exp(f64::NAN, f64::NEG_INFINITY).is_nan());
    }

    #[test]
    fn trigamma_known_values() {
        // ψ₁(1) = π²/6, ψ₂(1) = −2ζ(3), ψ₃(1) = π⁴/15
        assert!(rel(trigamma(1.0), PI * PI / 6.0) < 1e-13);
        assert!(rel(polygamma(2, 1.0), -2.0 * 1.202_056_903_159_594_2) < 1e-12);
        assert!(rel(polygamma(3, 1.0), PI.powi(4) / 15.0) < 1e-12);
    }

    #[test]
    fn derivative_tables_match_finite_differences() {
        type F = fn(f64, usize) -> Derivs;
        let fns: [(&str, F, f64); 12] = [
            ("ln_gamma", derivs::ln_gamma, 2.3),
            ("digamma", derivs::digamma, 1.7),
            ("erf", derivs::erf, 0.4),
            ("erfc", derivs::erfc, -0.3),
            ("phi", derivs::std_normal_cdf, 0.8),
            ("log_phi", derivs::std_normal_log_cdf, -3.0),
            ("log_phi_tail", derivs::std_normal_log_cdf, -25.0),
            ("sigmoid", derivs::sigmoid, 0.9),
            ("log1p_exp", derivs::log1p_exp, -1.2),
            ("tanh", derivs::tanh, 0.3),
            ("atan", derivs::atan, 1.3),
            ("sqrt", derivs::sqrt, 2.2),
        ];
        for (name, f, x) in fns {
            let d = f(x, 3);
            for k in 0..3 {
                let h = 1e-5 * x.abs().max(1.0);
                let fd = (f(x + h, 3)[k] - f(x - h, 3)[k]) / (2.0 * h);
                let err = (fd - d[k + 1]).abs() / d[k + 1].abs().max(1.0);
                assert!(
                    err < 1e-6,
                    "{name}: derivative {} at {x}: table {} vs fd {fd}",
                    k + 1,
                    d[k + 1]
                );
            }
        }
    }

    #[test]
    // Reference values are printed by mpmath to 17 significant digits.
    #[allow(clippy::excessive_precision)]
    fn log_cdf_and_derivatives_match_high_precision_values() {
        // ln Φ and its first three derivatives, from mpmath at 50 digits.
        let reference = [
            (
                -8.0,
                [
                    -35.01343715991455,
                    8.1213681122361127,
                    -0.98567511655665909,
                    0.0032918765663441355,
                ],
            ),
            (
                -10.0,
                [
                    -53.231285150512471,
                    10.098093233962512,
                    -0.99055462217434374,
                    0.0017864003921165069,
                ],
            ),
            (
                -12.0,
                [
                    -75.410673001568796,
                    12.082214175254284,
                    -0.99332927366415414,
                    0.0010686026960367542,
                ],
            ),
            (
                -15.0,
                [
                    -116.1313848457117,
                    15.066086827167822,
                    -0.99566987624244011,
                    0.00056264252366134744,
                ],
            ),
            (
                -20.0,
                [
                    -203.91715537109726,
                    20.049753068527851,
                    -0.99753673838494784,
                    0.00024272657893584202,
                ],
            ),
            (
                -30.0,
                [
                    -454.3212439563432,
                    30.033259667433677,
                    -0.99889622848810991,
                    7.3099930157844385e-5,
                ],
            ),
            (
                -40.0,
                [
                    -804.60844201375379,
                    40.024968847207264,
                    -0.99937733162140861,
                    3.1017440396486248e-5,
                ],
            ),
        ];
        for (x, want) in reference {
            let got = derivs::std_normal_log_cdf(x, 3);
            for k in 1..4 {
                // The third derivative at −8 comes from the direct formula, which loses
                // about five digits to cancellation there.
                let tol = if k == 3 && x > LOWER_TAIL { 1e-6 } else { 1e-9 };
                assert!(
                    rel(got[k], want[k]) < tol,
                    "x = {x}, derivative {k}: {} vs {}",
                    got[k],
                    want[k]
                );
            }
            assert!(
                rel(got[0], want[0]) < 1e-14,
                "x = {x}: {} vs {}",
                got[0],
                want[0]
            );
        }
    }

    #[test]
    fn log_cdf_is_continuous_at_switch() {
        let (above, below) = (LOWER_TAIL + 1e-9, LOWER_TAIL - 1e-9);
        let (fa, fb) = (std_normal_log_cdf(above), std_normal_log_cdf(below));
        // The points differ by 2e-9 and the slope is about 20.
        assert!(rel(fa, fb) < 1e-9, "{fa} vs {fb}");
        let (a, b) = (
            derivs::std_normal_log_cdf(above, 3),
            derivs::std_normal_log_cdf(below, 3),
        );
        for k in 1..4 {
            assert!(
                rel(a[k], b[k]) < 1e-8,
                "derivative {k}: {} vs {}",
                a[k],
                b[k]
            );
        }
    }
}
