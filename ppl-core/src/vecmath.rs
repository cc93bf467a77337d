//! Branch-free `exp` and `ln` for the vectorised density loops.
//!
//! The platform's `exp` and `log1p` are calls the compiler cannot vectorise, and in the
//! fused logistic and Poisson likelihoods they cost more than everything else together.
//! These versions use only arithmetic, comparisons and bit operations, so a loop over a
//! slice compiles to SIMD code (two lanes with SSE2, four when compiled for AVX2, see
//! [`avx2_fma_available`]). Accuracy, tested against `std` below over the ranges
//! documented on each function: `exp` and `ln` within 2 ulp, softplus and sigmoid within
//! 3 ulp of the same functions built from `std`'s `exp` and `ln_1p`. The one difference in
//! range: [`exp`] returns 0 below its documented input range (about −708, where `std`
//! still returns tiny normal and then subnormal numbers).
//!
//! ```
//! use ppl_core::vecmath;
//! let x = [-3.0, 0.0, 0.5, 10.0];
//! let e: Vec<f64> = x.iter().map(|v| vecmath::exp(*v)).collect();
//! for (a, v) in e.iter().zip(x) {
//!     assert!((a - v.exp()).abs() <= 4e-16 * v.exp());
//! }
//! assert!((vecmath::ln_1p_exp(-2.0) - (-2.0f64).exp().ln_1p()).abs() < 1e-16);
//! ```

use std::f64::consts::LOG2_E;

/// The high part of ln 2: its first 21 significant bits, so that `n · LN2_HI` is exact
/// for every exponent `n` that occurs.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_0000_0000);
/// ln 2 − `LN2_HI`, from a 60-digit value of ln 2.
const LN2_LO: f64 = 4.749_325_039_031_672_6e-7;
/// 1.5 · 2⁵²: adding it rounds a double of magnitude below 2⁵¹ to an integer (ties to
/// even) and leaves that integer in the low mantissa bits.
const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// Largest argument whose exponential is finite.
const EXP_MAX: f64 = 709.782_712_893_384;
/// Arguments below this give results under `2⁻¹⁰²¹`, flushed to zero.
const EXP_MIN: f64 = -708.0;

/// Taylor coefficients 1/k! for k = 2..=13 (the remainder on |r| ≤ ln2/2 is below
/// 5·10⁻¹⁸ relative).
const EXP_COEFFS: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// `a · b + c`, fused into one rounding when `FMA` is true.
///
/// Use `FMA = true` only in code compiled with the `fma` target feature (the AVX2 twin
/// that [`simd_fn!`](crate::vecmath) generates passes `true`); elsewhere `mul_add` is a
/// slow library call.
#[inline(always)]
pub fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// eˣ for every `x` (NaN gives NaN, large arguments +∞; results below `2⁻¹⁰²¹` are 0).
///
/// ```
/// use ppl_core::vecmath::exp;
/// // Within 2 ulp of the platform's exp.
/// for x in [-700.0, -3.5, -1e-3, 0.7, 42.0, 709.0] {
///     let (got, want) = (exp(x), f64::exp(x));
///     assert!((got - want).abs() <= 2.0 * f64::EPSILON * want, "exp({x})");
/// }
/// assert_eq!(exp(0.0), 1.0);
/// assert_eq!(exp(710.0), f64::INFINITY);
/// assert!(f64::exp(-709.0) > 0.0 && exp(-709.0) == 0.0); // a subnormal, flushed
/// assert!(exp(f64::NAN).is_nan());
/// ```
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    exp_with::<false>(x)
}

/// [`exp`] with fused multiply-adds when `FMA` is true (see [`madd`]).
#[inline(always)]
pub fn exp_with<const FMA: bool>(x: f64) -> f64 {
    let xc = x.clamp(EXP_MIN, EXP_MAX);
    // x = n ln2 + r with |r| ≤ ln2/2.
    let t = xc * LOG2_E + ROUNDER;
    let n = t - ROUNDER;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    let er = madd::<FMA>(r * r, estrin12::<FMA>(&EXP_COEFFS, r), 1.0 + r);
    // 2ⁿ = 2ⁿ⁻¹ · 2, so that n = 1024 (near the top of the range) stays representable.
    let bits = t.to_bits().wrapping_sub(ROUNDER.to_bits());
    let half_scale = f64::from_bits(bits.wrapping_add(1022) << 52);
    let y = er * half_scale * 2.0;
    if x > EXP_MAX {
        f64::INFINITY
    } else if x < EXP_MIN {
        0.0
    } else if x.is_nan() {
        x
    } else {
        y
    }
}

/// Coefficients 2/(2k+1) for k = 1..=10 of `ln((1+s)/(1−s)) = 2s + s·Σ (2/(2k+1)) s²ᵏ`
/// (remainder below 10⁻¹⁷ relative for |s| ≤ 0.172).
const LN_COEFFS: [f64; 10] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
];

/// Whether [`ln_normal`] covers `x` (positive, finite and normal), branch-free: `&`
/// instead of the short-circuiting `RangeInclusive::contains`, so that loops checking
/// every element stay vectorised.
///
/// ```
/// use ppl_core::vecmath::in_ln_normal_range;
/// assert!(in_ln_normal_range(f64::MIN_POSITIVE) && in_ln_normal_range(f64::MAX));
/// assert!(!in_ln_normal_range(0.0) && !in_ln_normal_range(-1.0));
/// assert!(!in_ln_normal_range(f64::MIN_POSITIVE / 2.0)); // subnormal
/// assert!(!in_ln_normal_range(f64::INFINITY) && !in_ln_normal_range(f64::NAN));
/// ```
#[inline(always)]
#[allow(clippy::manual_range_contains)]
pub fn in_ln_normal_range(x: f64) -> bool {
    (x >= f64::MIN_POSITIVE) & (x <= f64::MAX)
}

/// ln x for positive, finite, normal `x` (the caller guarantees the range; other inputs
/// give unspecified finite values or NaN).
///
/// ```
/// use ppl_core::vecmath::{in_ln_normal_range, ln_normal};
/// // Within 2 ulp of the platform's ln.
/// for x in [f64::MIN_POSITIVE, 1e-300, 0.3, std::f64::consts::E, 1e300, f64::MAX] {
///     assert!(in_ln_normal_range(x));
///     let (got, want) = (ln_normal(x), x.ln());
///     assert!((got - want).abs() <= 2.0 * f64::EPSILON * want.abs(), "ln({x})");
/// }
/// assert_eq!(ln_normal(1.0), 0.0);
/// ```
#[inline(always)]
pub fn ln_normal(x: f64) -> f64 {
    ln_normal_with::<false>(x)
}

/// [`ln_normal`] with fused multiply-adds when `FMA` is true (see [`madd`]).
#[inline(always)]
pub fn ln_normal_with<const FMA: bool>(x: f64) -> f64 {
    const MANTISSA: u64 = (1 << 52) - 1;
    let bits = x.to_bits();
    let exponent = ((bits >> 52) as i64) - 1023;
    // m ∈ [1, 2); move it to [√2/2, √2) so that f = m − 1 is small on both sides.
    let m = f64::from_bits((bits & MANTISSA) | (1023 << 52));
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { 0.5 * m } else { m };
    let k = (exponent + i64::from(big)) as f64;
    let f = m - 1.0;
    // ln(1+f) = f − f²/2 + s·(f²/2 + R), s = f/(2+f), R = Σ (2/(2k+1)) s²ᵏ.
    let s = f / (2.0 + f);
    let s2 = s * s;
    let r = s2 * estrin10::<FMA>(&LN_COEFFS, s2);
    let hfsq = 0.5 * f * f;
    k * LN2_HI + ((f - hfsq + s * (hfsq + r)) + k * LN2_LO)
}

/// `Σ c[k] xᵏ` (k < 12) by Estrin's scheme: independent pairs combined with x², x⁴, x⁸,
/// so the dependency chain is four multiply-adds deep instead of Horner's eleven.
#[inline(always)]
fn estrin12<const FMA: bool>(c: &[f64; 12], x: f64) -> f64 {
    let x2 = x * x;
    let x4 = x2 * x2;
    let x8 = x4 * x4;
    let p = |k: usize| madd::<FMA>(c[k + 1], x, c[k]);
    let low = madd::<FMA>(madd::<FMA>(p(6), x2, p(4)), x4, madd::<FMA>(p(2), x2, p(0)));
    let high = madd::<FMA>(p(10), x2, p(8));
    madd::<FMA>(high, x8, low)
}

/// `Σ c[k] xᵏ` (k < 10) by Estrin's scheme (see [`estrin12`]).
#[inline(always)]
fn estrin10<const FMA: bool>(c: &[f64; 10], x: f64) -> f64 {
    let x2 = x * x;
    let x4 = x2 * x2;
    let x8 = x4 * x4;
    let p = |k: usize| madd::<FMA>(c[k + 1], x, c[k]);
    let low = madd::<FMA>(madd::<FMA>(p(6), x2, p(4)), x4, madd::<FMA>(p(2), x2, p(0)));
    madd::<FMA>(p(8), x8, low)
}

/// ln(1 + eˣ) (softplus) for every finite `x`, accurate in both tails.
///
/// ```
/// use ppl_core::vecmath::ln_1p_exp;
/// // Within 3 ulp of the same function from the platform's exp and ln_1p.
/// let reference = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
/// for x in [-40.0, -2.0, 0.0, 3.0, 50.0] {
///     let want = reference(x);
///     assert!((ln_1p_exp(x) - want).abs() <= 3.0 * f64::EPSILON * want, "x = {x}");
/// }
/// assert_eq!(ln_1p_exp(800.0), 800.0);
/// assert_eq!(ln_1p_exp(-800.0), 0.0);
/// ```
#[inline(always)]
pub fn ln_1p_exp(x: f64) -> f64 {
    let (softplus, _) = ln_1p_exp_and_sigmoid(x);
    softplus
}

/// `(ln(1 + eˣ), 1/(1 + e⁻ˣ))` from one exponential: the log-density and derivative of
/// the logistic likelihood. Finite `x` only (NaN gives NaN).
///
/// ```
/// use ppl_core::vecmath::{ln_1p_exp, ln_1p_exp_and_sigmoid};
/// use std::f64::consts::LN_2;
/// let (softplus, sigmoid) = ln_1p_exp_and_sigmoid(0.0);
/// assert!((softplus - LN_2).abs() <= 2.0 * f64::EPSILON * LN_2);
/// assert_eq!(sigmoid, 0.5);
/// // The sigmoid is the derivative of the softplus.
/// let (x, h) = (1.3, 1e-6);
/// let (_, s) = ln_1p_exp_and_sigmoid(x);
/// assert!((s - (ln_1p_exp(x + h) - ln_1p_exp(x - h)) / (2.0 * h)).abs() < 1e-9);
/// // σ(−40) ≈ e⁻⁴⁰ keeps its relative accuracy.
/// let (_, s) = ln_1p_exp_and_sigmoid(-40.0);
/// assert!((s / (-40f64).exp() - 1.0).abs() < 1e-15);
/// ```
#[inline(always)]
pub fn ln_1p_exp_and_sigmoid(x: f64) -> (f64, f64) {
    ln_1p_exp_and_sigmoid_with::<false>(x)
}

/// [`ln_1p_exp_and_sigmoid`] with fused multiply-adds when `FMA` is true (see [`madd`]).
#[inline(always)]
pub fn ln_1p_exp_and_sigmoid_with<const FMA: bool>(x: f64) -> (f64, f64) {
    ln_1p_exp_and_sigmoid_from_exp::<FMA>(x, exp_with::<FMA>(-x.abs()))
}

/// [`ln_1p_exp_and_sigmoid_with`] given `e = e^−|x|` (computed beforehand, e.g. in a
/// separate loop: two short loops keep fewer constants live than one long one).
///
/// ```
/// use ppl_core::vecmath::{exp, ln_1p_exp_and_sigmoid, ln_1p_exp_and_sigmoid_from_exp};
/// let x = -2.5;
/// let e = exp(-f64::abs(x));
/// assert_eq!(ln_1p_exp_and_sigmoid_from_exp::<false>(x, e), ln_1p_exp_and_sigmoid(x));
/// ```
#[inline(always)]
pub fn ln_1p_exp_and_sigmoid_from_exp<const FMA: bool>(x: f64, e: f64) -> (f64, f64) {
    // e = e^−|x| ∈ (0, 1]; ln(1 + eˣ) = max(x, 0) + ln(1 + e).
    let u = 1.0 + e;
    // ln(1 + e) = ln u − ((u − 1) − e)/u: corrects the rounding of 1 + e, so tiny e
    // keep full relative accuracy.
    let inv = 1.0 / u;
    let ln1p = ln_normal_with::<FMA>(u) - ((u - 1.0) - e) * inv;
    let softplus = x.max(0.0) + ln1p;
    let sigmoid = if x >= 0.0 { inv } else { e * inv };
    (softplus, sigmoid)
}

/// True when the CPU has AVX2 and FMA (detected once). Kernels built on this module
/// can be compiled a second time with `#[target_feature(enable = "avx2,fma")]` around an
/// `#[inline(always)]` body and chosen by this test: the same loop then uses four lanes
/// instead of two.
///
/// ```
/// let fast = ppl_core::vecmath::avx2_fma_available();
/// #[cfg(target_arch = "x86_64")]
/// assert_eq!(
///     fast,
///     is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
/// );
/// #[cfg(not(target_arch = "x86_64"))]
/// assert!(!fast);
/// ```
#[inline]
pub fn avx2_fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines a function whose body is compiled twice, as is and for AVX2 + FMA, and picks
/// the second on CPUs that have them ([`avx2_fma_available`]). The body's loops (and
/// the `#[inline(always)]` helpers they call, such as [`exp`] and [`ln_normal`]) then use
/// four-lane vectors instead of two.
macro_rules! simd_fn {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident $(<$($generic:ident: $bound:path),*>)?
        ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$meta])*
        $vis fn $name $(<$($generic: $bound),*>)? ($($arg: $ty),*) $(-> $ret)? {
            // The body may pass `FMA` on (e.g. `vecmath::exp_with::<FMA>`): true in the
            // AVX2 + FMA twin, false otherwise.
            #[inline(always)]
            #[allow(unused)]
            fn kernel<const FMA: bool $($(, $generic: $bound)*)?>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn wide $(<$($generic: $bound),*>)? ($($arg: $ty),*) $(-> $ret)? {
                kernel::<true $($(, $generic)*)?>($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if $crate::vecmath::avx2_fma_available() {
                // SAFETY: the CPU has AVX2 and FMA.
                return unsafe { wide $(::<$($generic),*>)? ($($arg),*) };
            }
            kernel::<false $($(, $generic)*)?>($($arg),*)
        }
    };
}
pub(crate) use simd_fn;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Distance in units in the last place.
    fn ulps(a: f64, b: f64) -> f64 {
        if a == b {
            return 0.0;
        }
        let scale = f64::EPSILON * b.abs().max(f64::MIN_POSITIVE);
        (a - b).abs() / scale
    }

    #[test]
    fn split_ln2_adds_up() {
        assert_eq!(LN2_HI + LN2_LO, std::f64::consts::LN_2);
        assert_eq!(LN2_HI.to_bits() & 0xffff_ffff, 0);
    }

    #[test]
    fn exp_special_values() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(1.0), std::f64::consts::E);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(-800.0), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert!(exp(EXP_MAX).is_finite());
        assert!(ulps(exp(EXP_MAX), EXP_MAX.exp()) <= 2.0);
        assert!(ulps(exp(EXP_MIN), EXP_MIN.exp()) <= 2.0);
    }

    #[test]
    fn ln_on_a_grid_of_binades() {
        let mut x = 1e-300;
        while x < 1e300 {
            for step in [1.0, 1.1, std::f64::consts::SQRT_2, 1.4143, 1.5, 1.99] {
                let v = x * step;
                assert!(ulps(ln_normal(v), v.ln()) <= 2.0, "ln({v})");
            }
            x *= 7.3;
        }
        assert_eq!(ln_normal(1.0), 0.0);
    }

    #[test]
    fn softplus_tails() {
        assert_eq!(ln_1p_exp(-800.0), 0.0);
        assert_eq!(ln_1p_exp(800.0), 800.0);
        let (sp, sg) = ln_1p_exp_and_sigmoid(-40.0);
        assert!(ulps(sp, (-40.0f64).exp()) <= 2.0);
        assert!(ulps(sg, (-40.0f64).exp()) <= 2.0);
    }

    #[inline(always)]
    fn exp_all(x: &[f64]) -> Vec<f64> {
        x.iter().map(|v| exp(*v)).collect()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn exp_all_avx2(x: &[f64]) -> Vec<f64> {
        exp_all(x)
    }

    #[test]
    fn wide_lanes_give_the_same_values() {
        let x: Vec<f64> = (0..1000).map(|i| -30.0 + 0.06 * i as f64).collect();
        #[cfg(target_arch = "x86_64")]
        if avx2_fma_available() {
            // SAFETY: the CPU has AVX2 and FMA.
            let wide = unsafe { exp_all_avx2(&x) };
            assert_eq!(exp_all(&x), wide);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn exp_within_two_ulp(x in -708.0f64..709.78) {
            prop_assert!(ulps(exp(x), x.exp()) <= 2.0, "exp({}) = {} vs {}", x, exp(x), x.exp());
            let fused = exp_with::<true>(x);
            prop_assert!(ulps(fused, x.exp()) <= 2.0, "fused exp({}) = {} vs {}", x, fused, x.exp());
        }

        #[test]
        fn exp_near_zero(x in -1e-3f64..1e-3) {
            prop_assert!(ulps(exp(x), x.exp()) <= 2.0);
        }

        #[test]
        fn ln_within_two_ulp(m in 1.0f64..2.0, e in -1000i32..1000) {
            let x = m * 2f64.powi(e);
            prop_assert!(ulps(ln_normal(x), x.ln()) <= 2.0, "ln({}) = {} vs {}", x, ln_normal(x), x.ln());
            let fused = ln_normal_with::<true>(x);
            prop_assert!(ulps(fused, x.ln()) <= 2.0, "fused ln({}) = {} vs {}", x, fused, x.ln());
        }

        #[test]
        fn softplus_and_sigmoid_match_std(x in -708.0f64..745.0) {
            let (sp, sg) = ln_1p_exp_and_sigmoid(x);
            let want_sp = if x > 0.0 { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() };
            let want_sg = if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { x.exp() / (1.0 + x.exp()) };
            prop_assert!(ulps(sp, want_sp) <= 3.0, "softplus({}) = {} vs {}", x, sp, want_sp);
            prop_assert!(ulps(sg, want_sg) <= 3.0, "sigmoid({}) = {} vs {}", x, sg, want_sg);
            let (sp, sg) = ln_1p_exp_and_sigmoid_with::<true>(x);
            prop_assert!(ulps(sp, want_sp) <= 3.0, "fused softplus({}) = {} vs {}", x, sp, want_sp);
            prop_assert!(ulps(sg, want_sg) <= 3.0, "fused sigmoid({}) = {} vs {}", x, sg, want_sg);
        }
    }
}
