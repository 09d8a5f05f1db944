//! Means and 95 % confidence intervals over replications.
//!
//! One seed is one sample: the stripe poll p50 moves by ±3 % from seed to seed. A replicated
//! run (`--replications R`, seeds `seed … seed+R−1`) reports for each metric the mean over the
//! R runs and the Student-t 95 % half-width `t(0.975, R−1) · s / √R`, `s` being the sample
//! standard deviation. The runs are independent (different seeds) and each metric is itself an
//! average or a quantile over many events, so the usual normal-theory interval is the honest
//! and conventional choice; with R = 1 there is no interval (not zero: unknown).
//!
//! The t quantile comes from a table of the exact values for 1–30 degrees of freedom and,
//! beyond, from the Cornish–Fisher expansion of t around the normal quantile (four terms,
//! error below 1e-5 from 30 degrees of freedom on).

/// The 0.975 quantile of the standard normal distribution.
pub const Z_975: f64 = 1.959_963_984_540_054;

/// t(0.975, ν) for ν = 1 … 30 (index ν − 1).
const T_975: [f64; 30] = [
    12.706_204_736,
    4.302_652_730,
    3.182_446_305,
    2.776_445_105,
    2.570_581_836,
    2.446_911_851,
    2.364_624_252,
    2.306_004_135,
    2.262_157_163,
    2.228_138_852,
    2.200_985_160,
    2.178_812_830,
    2.160_368_656,
    2.144_786_688,
    2.131_449_546,
    2.119_905_299,
    2.109_815_578,
    2.100_922_040,
    2.093_024_054,
    2.085_963_447,
    2.079_613_845,
    2.073_873_068,
    2.068_657_610,
    2.063_898_562,
    2.059_538_553,
    2.055_529_439,
    2.051_830_516,
    2.048_407_142,
    2.045_229_642,
    2.042_272_456,
];

/// The 0.975 quantile of Student's t with `df` degrees of freedom (`df` ≥ 1).
pub fn t_975(df: u64) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T_975[(df - 1) as usize],
        _ => cornish_fisher(Z_975, df as f64),
    }
}

/// Cornish–Fisher expansion of the t quantile with `nu` degrees of freedom at the normal
/// quantile `z` (Abramowitz & Stegun 26.7.5).
fn cornish_fisher(z: f64, nu: f64) -> f64 {
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + g1 / nu + g2 / nu.powi(2) + g3 / nu.powi(3) + g4 / nu.powi(4)
}

/// Arithmetic mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The Student-t 95 % half-width of the mean of `values`; `None` for fewer than two values.
pub fn ci95(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let m = mean(values)?;
    let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some(t_975(n as u64 - 1) * (var / n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_published_values() {
        // Published two-sided 95 % critical values.
        for (df, want) in [
            (1, 12.706),
            (2, 4.303),
            (4, 2.776),
            (9, 2.262),
            (19, 2.093),
            (30, 2.042),
            (40, 2.021),
            (60, 2.000),
            (120, 1.980),
        ] {
            assert!((t_975(df) - want).abs() < 5e-4, "df {df}: {}", t_975(df));
        }
        assert!((t_975(1_000_000) - Z_975).abs() < 1e-5);
        // The expansion joins the table smoothly.
        assert!((cornish_fisher(Z_975, 30.0) - T_975[29]).abs() < 1e-5);
        assert!(t_975(31) < t_975(30) && t_975(31) > t_975(32));
    }

    #[test]
    fn half_width_of_a_known_sample() {
        assert_eq!(ci95(&[5.0]), None);
        assert_eq!(mean(&[]), None);
        // 1, 2, 3, 4, 5: mean 3, s = 1.5811, t(0.975, 4) = 2.7764 → 1.9632.
        let h = ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!((h - 1.963_243).abs() < 1e-5, "{h}");
        assert_eq!(ci95(&[7.0, 7.0, 7.0]), Some(0.0));
    }
}
