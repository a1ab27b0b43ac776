//! Summaries of measured samples.
//!
//! Percentiles use the nearest-rank method (the p-th percentile is the smallest sample
//! with at least p percent of the samples at or below it), in integer arithmetic, so
//! they are reproducible. Reports give latencies in microseconds and shares in
//! percent, rounded to three decimals.
//!
//! **Streaming.** A simulation may run for an hour of simulated time with hundreds of
//! thousands of jobs per second, so the lateness samples are not kept: each goes into a
//! [`LatencyHistogram`] of fixed resolution, whose memory depends only on the largest
//! value seen (at most [`LatencyHistogram::MAX_BUCKETS`] counters, 885 KiB), never on
//! the number of samples. Its buckets are log-linear, as in HdrHistogram: values below
//! 2^12 ns (4.096 us) have a bucket each, and every power-of-two range above that is
//! split into 2^11 equal buckets, so a bucket is narrower than 1/2048 of its lower
//! bound. A percentile is the lower bound of the bucket the nearest-rank sample falls
//! in: never above the exact nearest-rank value, and below it by less than 1/2048
//! (0.05%) of the reported value (exact below 4.096 us). The maximum is kept exactly.

/// Lateness percentiles, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The rank (1-based) of the nearest-rank percentile `permille` among `n` samples.
fn nearest_rank(n: u64, permille: u64) -> u64 {
    (u128::from(permille) * u128::from(n)).div_ceil(1000).clamp(1, u128::from(n.max(1))) as u64
}

/// The nearest-rank percentile (`permille` per thousand) of sorted samples, exact.
pub fn percentile(sorted: &[u64], permille: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[(nearest_rank(sorted.len() as u64, permille) - 1) as usize]
}

/// Nanosecond samples in log-linear buckets; see the module docs for the resolution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Samples per bucket, up to the highest bucket used.
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl LatencyHistogram {
    /// Sub-buckets per power of two: 2^SUB_BITS.
    const SUB_BITS: u32 = 11;
    const SUB: u64 = 1 << Self::SUB_BITS;
    /// Buckets needed for every u64 value.
    pub const MAX_BUCKETS: usize = ((64 - Self::SUB_BITS as usize) + 1) * Self::SUB as usize;

    pub fn new() -> LatencyHistogram {
        LatencyHistogram::default()
    }

    /// The bucket of `value`: values below 2 * SUB map to themselves; above, each
    /// range [2^e, 2^(e+1)) has SUB buckets of width 2^(e - SUB_BITS).
    fn bucket(value: u64) -> usize {
        if value < 2 * Self::SUB {
            return value as usize;
        }
        let exponent = 63 - value.leading_zeros();
        let shift = exponent - Self::SUB_BITS;
        let group = u64::from(shift) + 1;
        (group * Self::SUB + ((value >> shift) - Self::SUB)) as usize
    }

    /// The smallest value of bucket `index` (the inverse of [`Self::bucket`]).
    fn lower_bound(index: usize) -> u64 {
        let (group, sub) = (index as u64 / Self::SUB, index as u64 % Self::SUB);
        if group == 0 {
            sub
        } else {
            (Self::SUB + sub) << (group - 1)
        }
    }

    pub fn record(&mut self, value: u64) {
        let index = Self::bucket(value);
        if self.counts.len() <= index {
            self.counts.resize(index + 1, 0);
        }
        self.counts[index] += 1;
        self.total += 1;
        self.max = self.max.max(value);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// Samples recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The largest sample, exact (0 when empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The nearest-rank percentile, as the lower bound of its bucket (0 when empty).
    pub fn percentile(&self, permille: u64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = nearest_rank(self.total, permille);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Self::lower_bound(index).min(self.max);
            }
        }
        self.max
    }

    /// p50/p90/p99/max, in microseconds.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            p50: ns_to_us(self.percentile(500)),
            p90: ns_to_us(self.percentile(900)),
            p99: ns_to_us(self.percentile(990)),
            max: ns_to_us(self.max),
        }
    }
}

/// p50/p90/p99/max of nanosecond samples, in microseconds (through the histogram,
/// as every report does).
pub fn summarize_ns(samples: &[u64]) -> LatencySummary {
    let mut histogram = LatencyHistogram::new();
    samples.iter().for_each(|&s| histogram.record(s));
    histogram.summary()
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

    #[test]
    fn buckets_invert_and_cover_every_value() {
        for value in (0..10_000).chain([4095, 4096, 4097, 1 << 20, (1 << 20) + 511, u64::MAX / 3, u64::MAX]) {
            let index = LatencyHistogram::bucket(value);
            assert!(index < LatencyHistogram::MAX_BUCKETS);
            let low = LatencyHistogram::lower_bound(index);
            assert!(low <= value, "{value}: bucket starts at {low}");
            assert_eq!(LatencyHistogram::bucket(low), index);
            if value < 4096 {
                assert_eq!(low, value, "exact below 2^12");
            }
        }
    }

    #[test]
    fn histogram_percentiles_are_within_the_stated_bound_of_exact() {
        let mut rng = crate::rng::SplitMix64::new(3);
        let samples: Vec<u64> = (0..20_000).map(|_| rng.below(50_000_000)).collect();
        let mut sorted = samples.clone();
        sorted.sort_unstable();
        let mut histogram = LatencyHistogram::new();
        samples.iter().for_each(|&s| histogram.record(s));
        assert_eq!(histogram.len(), 20_000);
        assert_eq!(histogram.max(), *sorted.last().unwrap());
        for permille in [1, 500, 900, 990, 999, 1000] {
            let exact = percentile(&sorted, permille);
            let estimate = histogram.percentile(permille);
            assert!(estimate <= exact, "p{permille}: {estimate} above {exact}");
            assert!((exact - estimate) * 2048 <= estimate.max(1), "p{permille}: {estimate} vs {exact}");
        }
    }

    #[test]
    fn merged_histograms_count_both() {
        let (mut a, mut b) = (LatencyHistogram::new(), LatencyHistogram::new());
        a.record(5);
        b.record(1_000_000);
        b.record(7);
        a.merge(&b);
        assert_eq!((a.len(), a.max(), a.percentile(500)), (3, 1_000_000, 7));
    }
}
