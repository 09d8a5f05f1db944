//! Inverse distribution functions: every duration is drawn as `F⁻¹(u)` of one 64-bit uniform.
//!
//! Why inverse CDFs rather than the usual rejection samplers (ziggurat, Box–Muller): a draw is
//! then a pure, monotone function of a single random word. That is what lets the simulator's
//! counter-based draws ([`hookbench_core::rng::Keyed`]) be addressed by (resource, poll index) and lets
//! a fast path prove a bound on a delay from the word alone ("u ≤ u₀, so d < 2ⁱ") without
//! computing it (`docs/design.md`, "Counter-based draws").
//!
//! The standard normal quantile is Wichura's algorithm AS 241 (PPND16, Applied Statistics 37,
//! 1988, 477–484), accurate to about 1 part in 10¹⁶ over the whole open interval.
//!
//! A lognormal draw from it costs about 20 ns (Φ⁻¹, then `exp`), and the simulator makes
//! billions of them at provider scale, so a lognormal [`Dist`](super::Dist) carries a
//! [`Table`] of its own quantile function: cubic Hermite interpolation (values and exact
//! derivatives) on the 4,096 cells the word's top 12 bits select, and the exact formula in the
//! outer 64 cells of each tail (1.6 % of draws each side), where the quantile curves too fast
//! for the table. The draw stays within 1 ns + 10⁻⁸ of the formula's (tested; about 10⁻⁹ for
//! a 50 ms median with a 2 s p99, under a nanosecond for the shipped 20 ms / 60 ms). The table
//! *is* the definition of a draw, so every path and engine gets the same value from one word.

/// Maps a 64-bit word to the open interval (0, 1): the top 52 bits, centred in their cell, so
/// neither 0 nor 1 is ever produced (with 53 bits the top cell's centre rounds to 1.0) and the
/// map is non-decreasing in `u`.
#[inline]
pub fn open01(u: u64) -> f64 {
    ((u >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// Evaluates a polynomial with coefficients in increasing degree at `x` (Horner).
#[inline]
fn poly(c: &[f64; 8], x: f64) -> f64 {
    let mut v = c[7];
    for &k in c[..7].iter().rev() {
        v = v * x + k;
    }
    v
}

// The published coefficients, digit for digit (more digits than an f64 holds, on purpose: they
// can be checked against the paper).
#[allow(clippy::excessive_precision)]
const A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
#[allow(clippy::excessive_precision)]
const B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
#[allow(clippy::excessive_precision)]
const C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
#[allow(clippy::excessive_precision)]
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
#[allow(clippy::excessive_precision)]
const E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
#[allow(clippy::excessive_precision)]
const F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// The standard normal quantile Φ⁻¹(p) for `p` in (0, 1) (AS 241).
#[inline]
pub fn normal(p: f64) -> f64 {
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    tail(p, q)
}

/// The tails of [`normal`] (|p − ½| > 0.425, 15 % of draws): kept out of line so the central
/// branch stays small.
#[cold]
#[inline(never)]
fn tail(p: f64, q: f64) -> f64 {
    let r = (-(if q < 0.0 { p } else { 1.0 - p }).ln()).sqrt();
    let z = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 {
        -z
    } else {
        z
    }
}

/// Cells of a [`Table`] (selected by a word's top 12 bits).
const CELLS: usize = 1 << 12;
/// Cells at each end left to the exact quantile function.
const TAIL_CELLS: usize = 64;
/// Bits of a word below the cell index.
const LOW_BITS: u32 = 64 - 12;

/// A quantile function tabulated for fast draws (see the module docs): per central cell, the
/// cubic `a + b·t + c·t² + d·t³` in the position `t ∈ [0, 1)` within the cell.
pub struct Table {
    cells: Box<[[f64; 4]]>,
}

impl Table {
    /// Tabulates the quantile function `q(p) → (value, dvalue/dp)` on the central cells.
    pub fn new(q: impl Fn(f64) -> (f64, f64)) -> Table {
        let h = 1.0 / CELLS as f64;
        let cells = (0..CELLS)
            .map(|i| {
                if !(TAIL_CELLS..CELLS - TAIL_CELLS).contains(&i) {
                    return [0.0; 4];
                }
                let (f0, d0) = q(i as f64 * h);
                let (f1, d1) = q((i + 1) as f64 * h);
                let (m0, m1) = (d0 * h, d1 * h);
                [
                    f0,
                    m0,
                    3.0 * (f1 - f0) - 2.0 * m0 - m1,
                    2.0 * (f0 - f1) + m0 + m1,
                ]
            })
            .collect();
        Table { cells }
    }

    /// The tabulated quantile of the word `u` (that is, at [`open01`]`(u)`), or `None` when `u`
    /// falls in a tail cell and the caller must use the exact function.
    #[inline]
    pub fn get(&self, u: u64) -> Option<f64> {
        let cell = (u >> LOW_BITS) as usize;
        if !(TAIL_CELLS..CELLS - TAIL_CELLS).contains(&cell) {
            return None;
        }
        // Position in the cell on `open01`'s 52-bit grid: the 40 bits below the index.
        let low = (u << 12) >> 24;
        let t = (low as f64 + 0.5) * (1.0 / (1u64 << 40) as f64);
        let [a, b, c, d] = self.cells[cell];
        Some(((d * t + c) * t + b) * t + a)
    }
}

/// The density of the standard normal distribution at `z`.
pub fn normal_density(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_normal_quantiles() {
        // Reference values of Φ⁻¹ (e.g. R's qnorm, which also uses AS 241).
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959_963_984_540_054),
            (0.99, crate::dist::Z99),
            (0.025, -1.959_963_984_540_054),
            (0.841_344_746_068_542_9, 1.0),
            (1e-10, -6.361_340_902_404_056),
            (1.0 - 1e-6, 4.753_424_308_822_899),
        ] {
            let got = normal(p);
            assert!((got - z).abs() < 1e-9, "Φ⁻¹({p}) = {got}, want {z}");
        }
    }

    #[test]
    fn normal_quantile_is_monotone_across_branches() {
        let mut prev = f64::NEG_INFINITY;
        let n = 2_000_000u64;
        for i in 0..n {
            let z = normal(open01(i.wrapping_mul(u64::MAX / n)));
            assert!(z >= prev, "not monotone at step {i}: {z} < {prev}");
            prev = z;
        }
        // The extremes the 64-bit map can produce stay finite.
        assert!(normal(open01(0)).is_finite() && normal(open01(u64::MAX)).is_finite());
        assert!(normal(open01(0)) < -8.0 && normal(open01(u64::MAX)) > 8.0);
    }

    #[test]
    fn open01_stays_inside_and_is_monotone() {
        assert!(open01(0) > 0.0 && open01(u64::MAX) < 1.0);
        assert!(open01(1 << 12) > open01(0));
    }

    #[test]
    fn table_matches_the_function_it_tabulates() {
        let table = Table::new(|p| {
            let z = normal(p);
            (z, 1.0 / normal_density(z))
        });
        let exact = |u: u64| normal(open01(u));
        let fast = |u: u64| table.get(u).unwrap_or_else(|| exact(u));
        let mut worst = 0.0f64;
        let n = 3_000_000u64;
        let mut prev = f64::NEG_INFINITY;
        for i in 0..n {
            let u = i.wrapping_mul(u64::MAX / n) ^ (i & 0xfff);
            worst = worst.max((fast(u) - exact(u)).abs());
            assert!(fast(u) >= prev, "not monotone at {u}");
            prev = fast(u);
        }
        assert!(worst < 1e-9, "worst difference {worst}");
        // Both sides of a table edge.
        let edge = (TAIL_CELLS as u64) << LOW_BITS;
        assert!(table.get(edge - 1).is_none() && table.get(edge).is_some());
        assert!(fast(edge - 1) <= fast(edge));
    }
}
