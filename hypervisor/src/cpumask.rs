//! Fixed-size CPU sets.
//!
//! The core supports up to [`MAX_CPUS`] physical CPUs (Xen's x86 default `NR_CPUS` is
//! 256); adding a CPU with a larger id is refused with an error, never truncated. A set
//! is four 64-bit words, so every operation is O(1) in the number of units.

use core::sync::atomic::{AtomicU64, Ordering};

/// Largest number of CPUs (ids `0..MAX_CPUS`) the core accepts.
pub const MAX_CPUS: usize = 256;
const WORDS: usize = MAX_CPUS / 64;

/// A set of CPU ids below [`MAX_CPUS`]. Bit `i` of word `i / 64` is CPU `i`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CpuMask {
    pub bits: [u64; 4],
}

impl CpuMask {
    /// No CPU.
    pub const EMPTY: CpuMask = CpuMask { bits: [0; WORDS] };

    /// CPUs `0..n` (all of them when `n >= MAX_CPUS`).
    pub const fn first_n(n: usize) -> CpuMask {
        let mut bits = [0u64; WORDS];
        let mut word = 0;
        while word < WORDS {
            let lo = word * 64;
            bits[word] = if n >= lo + 64 {
                u64::MAX
            } else if n > lo {
                (1u64 << (n - lo)) - 1
            } else {
                0
            };
            word += 1;
        }
        CpuMask { bits }
    }

    /// The set holding only `cpu` (empty if `cpu` is out of range).
    pub fn single(cpu: u32) -> CpuMask {
        let mut mask = CpuMask::EMPTY;
        mask.set(cpu);
        mask
    }

    /// Adds `cpu`; ids at or above [`MAX_CPUS`] are ignored.
    pub fn set(&mut self, cpu: u32) {
        if let Some(word) = self.bits.get_mut(cpu as usize / 64) {
            *word |= 1u64 << (cpu % 64);
        }
    }

    /// Removes `cpu`.
    pub fn clear(&mut self, cpu: u32) {
        if let Some(word) = self.bits.get_mut(cpu as usize / 64) {
            *word &= !(1u64 << (cpu % 64));
        }
    }

    /// Whether `cpu` is in the set.
    pub fn contains(&self, cpu: u32) -> bool {
        self.bits.get(cpu as usize / 64).is_some_and(|word| word & (1u64 << (cpu % 64)) != 0)
    }

    /// Intersection.
    pub fn and(&self, other: &CpuMask) -> CpuMask {
        let mut out = *self;
        for (dst, src) in out.bits.iter_mut().zip(other.bits.iter()) {
            *dst &= *src;
        }
        out
    }

    /// The CPUs of this set that are not in `other`.
    pub fn and_not(&self, other: &CpuMask) -> CpuMask {
        let mut out = *self;
        for (dst, src) in out.bits.iter_mut().zip(other.bits.iter()) {
            *dst &= !*src;
        }
        out
    }

    /// Union.
    pub fn or(&self, other: &CpuMask) -> CpuMask {
        let mut out = *self;
        for (dst, src) in out.bits.iter_mut().zip(other.bits.iter()) {
            *dst |= *src;
        }
        out
    }

    /// Whether no CPU is set.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|word| *word == 0)
    }

    /// Number of CPUs in the set.
    pub fn count(&self) -> u32 {
        self.bits.iter().map(|word| word.count_ones()).sum()
    }

    /// The first CPU strictly after `start`, wrapping around; `start` itself last.
    /// Used to spread tickles and steals round-robin as Xen's `cpumask_cycle` does.
    pub fn cycle_after(&self, start: u32) -> Option<u32> {
        let n = MAX_CPUS as u32;
        let begin = (start % n + 1) % n;
        let mut offset = 0;
        while offset < n {
            let cpu = (begin + offset) % n;
            let word = self.bits[cpu as usize / 64] >> (cpu % 64);
            if word == 0 {
                // Skip the rest of this word in one step.
                offset += 64 - cpu % 64;
                continue;
            }
            let skip = word.trailing_zeros();
            if offset + skip < n {
                return Some((cpu + skip) % n);
            }
            return None;
        }
        None
    }

    /// Iterates the set in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().enumerate().flat_map(|(index, word)| {
            let mut rest = *word;
            core::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                Some(index as u32 * 64 + bit)
            })
        })
    }
}

/// A [`CpuMask`] that CPUs update concurrently without a lock (Xen's `prv->idlers`).
#[derive(Debug, Default)]
pub struct AtomicCpuMask {
    bits: [AtomicU64; WORDS],
}

impl AtomicCpuMask {
    pub const fn new() -> AtomicCpuMask {
        AtomicCpuMask { bits: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)] }
    }

    pub fn set(&self, cpu: u32) {
        if let Some(word) = self.bits.get(cpu as usize / 64) {
            word.fetch_or(1u64 << (cpu % 64), Ordering::AcqRel);
        }
    }

    pub fn clear(&self, cpu: u32) {
        if let Some(word) = self.bits.get(cpu as usize / 64) {
            word.fetch_and(!(1u64 << (cpu % 64)), Ordering::AcqRel);
        }
    }

    pub fn contains(&self, cpu: u32) -> bool {
        self.bits.get(cpu as usize / 64).is_some_and(|word| word.load(Ordering::Acquire) & (1u64 << (cpu % 64)) != 0)
    }

    /// A snapshot (each word read atomically; the set as a whole may be mid-update).
    pub fn load(&self) -> CpuMask {
        let mut out = CpuMask::EMPTY;
        for (dst, src) in out.bits.iter_mut().zip(self.bits.iter()) {
            *dst = src.load(Ordering::Acquire);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_n_and_count() {
        assert_eq!(CpuMask::first_n(0).count(), 0);
        assert_eq!(CpuMask::first_n(1).bits[0], 1);
        assert_eq!(CpuMask::first_n(64).bits, [u64::MAX, 0, 0, 0]);
        assert_eq!(CpuMask::first_n(65).count(), 65);
        assert_eq!(CpuMask::first_n(10_000).count(), MAX_CPUS as u32);
    }

    #[test]
    fn out_of_range_ids_are_ignored() {
        let mut mask = CpuMask::EMPTY;
        mask.set(MAX_CPUS as u32);
        assert!(mask.is_empty());
        assert!(!mask.contains(u32::MAX));
    }

    #[test]
    fn cycle_after_wraps_and_returns_start_last() {
        let mut mask = CpuMask::EMPTY;
        for cpu in [3, 70, 200] {
            mask.set(cpu);
        }
        assert_eq!(mask.cycle_after(3), Some(70));
        assert_eq!(mask.cycle_after(70), Some(200));
        assert_eq!(mask.cycle_after(200), Some(3));
        assert_eq!(mask.cycle_after(255), Some(3));
        assert_eq!(CpuMask::single(5).cycle_after(5), Some(5));
        assert_eq!(CpuMask::EMPTY.cycle_after(0), None);
        assert_eq!(mask.iter().collect::<std::vec::Vec<_>>(), [3, 70, 200]);
    }
}
