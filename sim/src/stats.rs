//! Summaries of measured samples.
//!
//! Percentiles use the nearest-rank method on the sorted samples (the p-th percentile
//! is the smallest sample with at least p percent of the samples at or below it), in
//! integer arithmetic, so they are exact and reproducible. Reports give latencies in
//! microseconds and shares in percent, rounded to three decimals.

/// Lateness percentiles, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The nearest-rank percentile (`permille` per thousand) of sorted samples.
pub fn percentile(sorted: &[u64], permille: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len() as u64;
    let rank = (permille * n).div_ceil(1000).max(1);
    sorted[(rank - 1).min(n - 1) as usize]
}

/// p50/p90/p99/max of nanosecond samples, in microseconds.
pub fn summarize_ns(samples: &[u64]) -> LatencySummary {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    LatencySummary {
        p50: ns_to_us(percentile(&sorted, 500)),
        p90: ns_to_us(percentile(&sorted, 900)),
        p99: ns_to_us(percentile(&sorted, 990)),
        max: ns_to_us(sorted.last().copied().unwrap_or(0)),
    }
}

/// Nanoseconds to microseconds, three decimals.
pub fn ns_to_us(ns: u64) -> f64 {
    round3(ns as f64 / 1e3)
}

/// Nanoseconds to milliseconds, three decimals.
pub fn ns_to_ms(ns: u64) -> f64 {
    round3(ns as f64 / 1e6)
}

/// Nanoseconds to seconds, six decimals.
pub fn ns_to_s(ns: u64) -> f64 {
    (ns as f64 / 1e3).round() / 1e6
}

/// `part / whole` in percent, three decimals (0 when `whole` is 0).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    round3(part as f64 * 100.0 / whole as f64)
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&samples, 500), 50);
        assert_eq!(percentile(&samples, 990), 99);
        assert_eq!(percentile(&samples, 1000), 100);
        assert_eq!(percentile(&[7], 990), 7);
        assert_eq!(percentile(&[], 500), 0);
        let s = summarize_ns(&[3_000, 1_000, 2_000]);
        assert_eq!((s.p50, s.max), (2.0, 3.0));
        assert_eq!(percent(1, 3), 33.333);
    }
}
