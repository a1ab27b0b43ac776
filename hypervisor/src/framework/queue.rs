//! The event queue: a min-heap on (time, sequence number).
//!
//! Time is an integer number of nanoseconds of simulated Xen system time, never a
//! float, so runs are exact and reproducible. Events due at the same nanosecond are
//! delivered in the order they were scheduled (the sequence number breaks ties), which
//! makes the whole simulation a pure function of its configuration and seed.
//!
//! Timers are never removed from the heap: each timer owner keeps a generation number,
//! bumps it when it re-arms or cancels, and an event whose generation is old is
//! dropped when it comes out. This is how Xen's `set_timer`/`stop_timer` are modelled.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One scheduled occurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry<E> {
    at_ns: u64,
    seq: u64,
    event: E,
}

impl<E: Eq> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap, we want the earliest first.
        other.at_ns.cmp(&self.at_ns).then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<E: Eq> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A deterministic priority queue of events.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E: Eq> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), next_seq: 0 }
    }
}

impl<E: Eq> EventQueue<E> {
    /// Schedules `event` at `at_ns`.
    pub fn push(&mut self, at_ns: u64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { at_ns, seq, event });
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.heap.pop().map(|entry| (entry.at_ns, entry.event))
    }

    /// When the earliest event is due.
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|entry| entry.at_ns)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_fifo_on_ties() {
        let mut q = EventQueue::default();
        q.push(20, 'c');
        q.push(10, 'a');
        q.push(20, 'd');
        q.push(10, 'b');
        let order: std::vec::Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, std::vec!['a', 'b', 'c', 'd']);
    }
}
