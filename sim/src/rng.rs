//! A small seeded pseudo-random generator (SplitMix64).
//!
//! The simulator needs randomness only for workload phases and for the arrival times of
//! I/O events; it must be reproducible byte for byte from a seed, on every platform and
//! every version of this crate. SplitMix64 is 10 lines, has no dependency and passes
//! BigCrush, which is plenty for choosing phases and exponential gaps.

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit counter passed through a mixer.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 uniformly distributed bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (0 when `bound` is 0). Uses the high bits of a 128-bit
    /// product (Lemire's method without the rejection step; the bias is below 2^-40
    /// for the bounds used here, nanosecond spans under a few hours).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// An exponentially distributed gap with the given mean, in nanoseconds (at least 1).
    pub fn exponential_ns(&mut self, mean_ns: u64) -> u64 {
        let u = 1.0 - self.unit_f64(); // (0, 1]
        let gap = -(u.ln()) * mean_ns as f64;
        (gap.round() as u64).max(1)
    }

    /// A derived generator for a sub-stream (one per workload), so that adding a domain
    /// does not shift the random numbers of the others.
    pub fn fork(&self, stream: u64) -> SplitMix64 {
        let mut mixer = SplitMix64::new(self.state ^ stream.wrapping_mul(0xD134_2543_DE82_EF95));
        SplitMix64::new(mixer.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        // Known first output of SplitMix64 for seed 0.
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn below_stays_in_range_and_exponential_has_its_mean() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..1000 {
            assert!(rng.below(10) < 10);
        }
        let n = 20_000u64;
        let total: u64 = (0..n).map(|_| rng.exponential_ns(1_000_000)).sum();
        let mean = total / n;
        assert!((950_000..1_050_000).contains(&mean), "mean {mean}");
    }
}
