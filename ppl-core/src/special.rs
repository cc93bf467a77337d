//! Special functions with their derivatives, written once and shared by every scalar type.
//!
//! Each function returns `[f, f', f'', f''']` evaluated at a point, computing only up
//! to the requested `order` (entries past it are left at zero). The scalar types apply
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
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// Digamma function ψ(x) = d/dx ln Γ(x).
pub fn digamma(x: f64) -> f64 {
    polygamma(0, x)
}

/// Trigamma function ψ₁(x).
pub fn trigamma(x: f64) -> f64 {
    polygamma(1, x)
}

/// Polygamma function ψ⁽ⁿ⁾(x) for `n` in `0..=4`.
///
/// Uses the recurrence ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x+1) − (−1)ⁿ n!/x^{n+1} to shift the argument
/// above 10, then the asymptotic series; negative non-integer arguments use reflection
/// for `n = 0`. Relative accuracy is about 1e-13 for positive arguments.
pub fn polygamma(n: u32, x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::NAN;
    }
    if n == 0 && x < 0.0 {
        // ψ(1 − x) − ψ(x) = π cot(πx)
        return polygamma(0, 1.0 - x) - PI / (PI * x).tan();
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

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b)`.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Error function.
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// Complementary error function.
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// Standard normal density φ(x).
pub fn std_normal_pdf(x: f64) -> f64 {
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Standard normal CDF Φ(x), accurate in both tails.
pub fn std_normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// `ln Φ(x)`, accurate far into the lower tail.
pub fn std_normal_log_cdf(x: f64) -> f64 {
    if x > LOWER_TAIL {
        std_normal_cdf(x).ln()
    } else {
        let t = Tail::new(x);
        -0.5 * x * x - (-x).ln() - HALF_LN_2PI + t.s.ln()
    }
}

/// φ(x)/Φ(x), the derivative of `ln Φ(x)`, stable in the lower tail.
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
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^x)` (softplus), stable for large |x|.
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
pub fn log_sum_exp2(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY && b == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    let m = a.max(b);
    m + log1p_exp(-(a - b).abs())
}

/// `ln Σ e^{xᵢ}` without overflow; −∞ for an empty slice.
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY || !m.is_finite() {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Derivative tables of the unary functions, `[f, f', f'', f''']` up to `order`.
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
