//! Puts the records of all CPUs on one time line.
//!
//! In xentrace's output each CPU's records come in order, but the CPUs' windows
//! interleave, so a record of CPU 1 may follow, in the file, records of CPU 0 that
//! happened later. The model needs one order (a VCPU is woken on one CPU and runs on
//! another), so [`Merger`] keeps a queue per CPU and releases the record with the
//! smallest timestamp once every CPU seen so far has something queued: a k-way merge
//! of sorted streams. A CPU that goes silent would hold everything back, so once more
//! than `limit` records are queued the oldest is released anyway (a record that
//! arrives later than that is still delivered, out of order, and the model counts it).
//! Records with no timestamp yet sort first.
//!
//! At the start a CPU is unknown until its first window arrives, so the merger also
//! holds back at least `hold` records (xentrace writes every CPU's window in each
//! round, so the first rounds introduce all CPUs); at the end of the input
//! [`Merger::finish`] releases everything.

use std::collections::VecDeque;

use crate::reader::Record;

/// Default largest number of records held back for ordering (about 64 MiB).
pub const DEFAULT_LIMIT: usize = 1 << 20;
/// Default number of records always held back (so that every CPU shows up).
pub const DEFAULT_HOLD: usize = 1 << 16;

/// A k-way merge of per-CPU record streams by TSC; see the module docs.
#[derive(Debug)]
pub struct Merger {
    queues: Vec<VecDeque<Record>>,
    seen: Vec<bool>,
    queued: usize,
    hold: usize,
    limit: usize,
    draining: bool,
}

impl Merger {
    /// A merger that holds at least `hold` and at most about `limit` records back.
    pub fn new(hold: usize, limit: usize) -> Merger {
        let limit = limit.max(1);
        Merger { queues: Vec::new(), seen: Vec::new(), queued: 0, hold: hold.min(limit), limit, draining: false }
    }

    /// Adds the next record of its CPU.
    pub fn push(&mut self, record: Record) {
        let cpu = record.cpu as usize;
        if self.queues.len() <= cpu {
            self.queues.resize_with(cpu + 1, VecDeque::new);
            self.seen.resize(cpu + 1, false);
        }
        self.seen[cpu] = true;
        self.queues[cpu].push_back(record);
        self.queued += 1;
    }

    /// From now on, release everything (the input has ended).
    pub fn finish(&mut self) {
        self.draining = true;
    }

    /// Records held back.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Releases the next record in time order, if it may be released yet.
    pub fn pop(&mut self) -> Option<Record> {
        if self.queued == 0 || (self.queued <= self.hold && !self.draining) {
            return None;
        }
        let all_cpus_have_data = self.queues.iter().zip(&self.seen).all(|(q, &seen)| !seen || !q.is_empty());
        if !(self.draining || self.queued > self.limit || all_cpus_have_data) {
            return None;
        }
        let cpu = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(cpu, q)| q.front().map(|r| (r.tsc.unwrap_or(0), cpu)))
            .min()
            .map(|(_, cpu)| cpu)?;
        let record = self.queues[cpu].pop_front()?;
        self.queued -= 1;
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(cpu: u32, tsc: u64) -> Record {
        Record::new(0, cpu, 0x0002_1001, Some(tsc), &[])
    }

    #[test]
    fn merges_by_tsc_once_every_cpu_has_data() {
        let mut m = Merger::new(0, 100);
        m.push(rec(0, 10));
        m.push(rec(0, 30));
        assert_eq!(m.pop().map(|r| r.tsc), Some(Some(10)), "only CPU 0 seen so far");
        m.push(rec(1, 20));
        assert_eq!(m.pop().map(|r| r.tsc), Some(Some(20)));
        assert_eq!(m.pop(), None, "CPU 1's queue is empty: 30 must wait");
        m.finish();
        assert_eq!(m.pop().map(|r| r.tsc), Some(Some(30)));
        assert_eq!(m.pop(), None);
    }

    #[test]
    fn releases_when_over_the_limit() {
        let mut m = Merger::new(0, 2);
        m.push(rec(1, 1));
        m.push(rec(0, 5));
        assert!(m.pop().is_some());
        m.push(rec(0, 6));
        m.push(rec(0, 7));
        m.push(rec(0, 8));
        assert_eq!(m.pop().map(|r| r.tsc), Some(Some(5)));
    }

    #[test]
    fn holds_records_back_until_finished() {
        let mut m = Merger::new(3, 100);
        m.push(rec(0, 30));
        m.push(rec(0, 40));
        assert_eq!(m.pop(), None);
        m.push(rec(1, 10));
        m.finish();
        assert_eq!(m.pop().map(|r| r.tsc), Some(Some(10)));
    }
}
