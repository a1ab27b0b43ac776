//! A small writer of xentrace's binary format, for tests and benchmarks.
//!
//! It writes exactly what `xentrace` writes: for each window a CPU-change record
//! (header 0x2001f003, CPU, window size in bytes) followed by that CPU's records, each
//! a header word (event in bits 0..27, data word count in 28..30, TSC flag in 31), the
//! TSC as two little-endian words (low first) when present, then the data words.
#![allow(dead_code)]

use rtcredit::abi::trace_event_id;
use rtcredit_monitor::format::{runstate_change_event, Runstate, CPU_CHANGE_HEADER, TRC_LOST_RECORDS};

/// One record's bytes.
pub fn record_bytes(event: u32, tsc: Option<u64>, data: &[u32]) -> Vec<u8> {
    assert!(data.len() <= 7 && event <= 0x0fff_ffff);
    let mut header = event | ((data.len() as u32) << 28);
    if tsc.is_some() {
        header |= 1 << 31;
    }
    let mut out = header.to_le_bytes().to_vec();
    if let Some(tsc) = tsc {
        out.extend_from_slice(&(tsc as u32).to_le_bytes());
        out.extend_from_slice(&((tsc >> 32) as u32).to_le_bytes());
    }
    for word in data {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out
}

/// One CPU's window being built.
#[derive(Default)]
pub struct Window {
    pub bytes: Vec<u8>,
}

impl Window {
    /// Any record.
    pub fn rec(&mut self, event: u32, tsc: Option<u64>, data: &[u32]) -> &mut Self {
        self.bytes.extend(record_bytes(event, tsc, data));
        self
    }

    /// Xen's runstate change of domain `dom`'s VCPU `vcpu`.
    pub fn runstate(&mut self, tsc: u64, dom: u32, vcpu: u32, old: Runstate, new: Runstate) -> &mut Self {
        self.rec(runstate_change_event(old, new), Some(tsc), &[(dom << 16) | vcpu])
    }

    /// One of our scheduler's events (`rtcredit::trace::*`).
    pub fn ours(&mut self, tsc: u64, event: u32, data: &[u32]) -> &mut Self {
        self.rec(trace_event_id(event), Some(tsc), data)
    }

    /// Xen's lost-records record: `count` lost since `first_tsc`.
    pub fn lost(&mut self, tsc: u64, count: u32, first_tsc: u64) -> &mut Self {
        self.rec(TRC_LOST_RECORDS, Some(tsc), &[count, 0, first_tsc as u32, (first_tsc >> 32) as u32])
    }

    /// Raw bytes (garbage).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }
}

/// A whole trace being built.
#[derive(Default)]
pub struct TraceWriter {
    pub bytes: Vec<u8>,
}

impl TraceWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Offset of the next byte written.
    pub fn offset(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// A CPU-change record announcing `size` bytes for `cpu`.
    pub fn cpu_change(&mut self, cpu: u32, size: u32) -> &mut Self {
        for word in [CPU_CHANGE_HEADER, cpu, size] {
            self.bytes.extend_from_slice(&word.to_le_bytes());
        }
        self
    }

    /// A CPU-change record and the window built by `fill`, with the right size.
    pub fn window(&mut self, cpu: u32, fill: impl FnOnce(&mut Window)) -> &mut Self {
        let mut window = Window::default();
        fill(&mut window);
        self.cpu_change(cpu, window.bytes.len() as u32);
        self.bytes.extend_from_slice(&window.bytes);
        self
    }

    /// Raw bytes (garbage).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }
}

/// A large synthetic trace of about `target_bytes`: `cpus` CPUs, windows of about
/// 32 KiB each in turn, each VCPU waking, switching in at a priority and blocking,
/// with our events and a few HVM records as filler.
pub fn synthetic_trace(target_bytes: usize, cpus: u32) -> Vec<u8> {
    let mut trace = TraceWriter::new();
    let mut tsc = vec![1_000_000u64; cpus as usize];
    let mut round = 0u32;
    while trace.bytes.len() < target_bytes {
        for cpu in 0..cpus {
            let mut window = Window::default();
            while window.bytes.len() < 32 * 1024 {
                let t = &mut tsc[cpu as usize];
                let dom = 1 + (round % 4);
                let vcpu = cpu;
                let prio = 1 + (round % 4);
                window.runstate(*t, dom, vcpu, Runstate::Blocked, Runstate::Runnable);
                *t += 2_000;
                window.ours(*t, rtcredit::trace::SWITCH_IN, &[dom, vcpu, prio, cpu]);
                window.runstate(*t + 100, dom, vcpu, Runstate::Runnable, Runstate::Running);
                *t += 50_000;
                window.rec(0x0008_1002, Some(*t), &[1, 2, 3]);
                window.rec(0x0008_1002, None, &[4]);
                *t += 50_000;
                window.runstate(*t, dom, vcpu, Runstate::Running, Runstate::Blocked);
                *t += 10_000;
                round = round.wrapping_add(1);
            }
            trace.cpu_change(cpu, window.bytes.len() as u32);
            trace.bytes.extend_from_slice(&window.bytes);
        }
    }
    trace.bytes
}

/// A crafted trace: `records` RT_DENY records on CPU 0, each naming a new (domain,
/// VCPU) pair, as an attacker would write to make a reader track without bound.
pub fn deny_flood(records: u32) -> Vec<u8> {
    let mut trace = TraceWriter::new();
    trace.window(0, |w| {
        for i in 0..records {
            w.ours(1_000 + u64::from(i), rtcredit::trace::RT_DENY, &[i % 0x7fff, i / 0x7fff, 1]);
        }
    });
    trace.bytes
}
