//! The facts of xentrace's binary format, as Xen 4.17 writes it.
//!
//! **Records.** Every record starts with one 32-bit header word in the host's byte
//! order (little-endian on x86, the only architecture we read). Its low 28 bits are
//! the event id, the next 3 bits the number of 32-bit data words that follow (0 to 7),
//! and the top bit says whether a 64-bit TSC timestamp comes between the header and the
//! data, as two 32-bit words, low half first (`struct t_rec` in Xen's
//! `public/trace.h`). A record is therefore 4 to 40 bytes long, always a multiple of 4.
//! A record without a timestamp happened at the time of the previous record of the
//! same CPU.
//!
//! **Event ids.** Bits 16..27 of an event id name its class, one bit per class
//! (`TRC_GEN` 0x0001, `TRC_SCHED` 0x0002, ... `TRC_GUEST` 0x0800), bits 12..15 a
//! subclass, bits 0..11 the event. Scheduler-specific events (`TRC_SCHED_CLASS`,
//! 0x00022000) put the scheduler's id in bits 9..11 and the event in bits 0..8; ours
//! is scheduler 6 (see `rtcredit::abi::trace_event_id`).
//!
//! **The file.** Xen keeps one trace buffer per physical CPU. `xentrace` copies each
//! buffer's new bytes ("a window") to the file or stream in turn, and writes before
//! each window a CPU-change record: event `TRC_TRACE_CPU_CHANGE` (0x0001f003), two
//! data words, no timestamp, data = the CPU number and the window's size in bytes (a
//! window wrapped around Xen's ring is written in two pieces but announced once).
//! Records inside a window are that CPU's, in the order Xen wrote them, so the
//! timestamps of one CPU increase through the file while different CPUs' windows
//! interleave: a reader that wants one time line must merge the CPUs by TSC.
//!
//! **Bookkeeping records Xen inserts.** `TRC_TRACE_WRAP_BUFFER` pads the end of Xen's
//! ring when a record would not fit before the wrap (skip it). `TRC_LOST_RECORDS`
//! says records were dropped because the buffer was full: data = the number lost,
//! the domain (low 16 bits) and VCPU (high 16 bits) current when it was written, and
//! the TSC of the first lost record (two words, low first); it always has a TSC.
//!
//! **Time.** Timestamps are TSC cycles. Xen's trace does not record the TSC frequency
//! (`xenalyze` takes it as `--cpu-hz`, default 2.4 GHz); see [`crate::clock`].

/// Bit 31 of the header: a 64-bit TSC follows the header.
pub const HEADER_TSC_FLAG: u32 = 1 << 31;
/// Where the number of data words sits in the header.
pub const HEADER_EXTRA_SHIFT: u32 = 28;
/// The most data words a record may carry (`TRACE_EXTRA_MAX`).
pub const MAX_EXTRA_WORDS: usize = 7;
/// The low 28 bits of the header: the event id.
pub const EVENT_MASK: u32 = 0x0fff_ffff;
/// Longest record in bytes: header, TSC, seven data words.
pub const MAX_RECORD_BYTES: usize = 4 + 8 + 4 * MAX_EXTRA_WORDS;

/// `TRC_GEN`: the general (bookkeeping) class.
pub const TRC_GEN: u32 = 0x0001_f000;
/// Records were dropped (buffer full). Always with TSC; four data words.
pub const TRC_LOST_RECORDS: u32 = TRC_GEN + 1;
/// Padding at the wrap point of Xen's per-CPU ring.
pub const TRC_TRACE_WRAP_BUFFER: u32 = TRC_GEN + 2;
/// Written by `xentrace` before each per-CPU window: CPU, window size in bytes.
pub const TRC_TRACE_CPU_CHANGE: u32 = TRC_GEN + 3;
/// The exact header word of a CPU-change record: two data words, no TSC.
pub const CPU_CHANGE_HEADER: u32 = TRC_TRACE_CPU_CHANGE | (2 << HEADER_EXTRA_SHIFT);
/// Size of a CPU-change record in bytes.
pub const CPU_CHANGE_BYTES: usize = 12;

/// `TRC_SCHED_MIN`: just runstate changes.
pub const TRC_SCHED_MIN: u32 = 0x0002_1000;
/// `TRC_SCHED_VERBOSE`: the generic scheduler's other events.
pub const TRC_SCHED_VERBOSE: u32 = 0x0002_8000;
/// A VCPU's runstate changed. The old state is in bits 8..9 of the event id, the new
/// one in bits 4..5; one data word: VCPU id (low 16 bits), domain id (high 16 bits).
pub const TRC_SCHED_RUNSTATE_CHANGE: u32 = TRC_SCHED_MIN + 1;
/// Mask that removes the old/new state bits from a runstate-change event id.
pub const RUNSTATE_CHANGE_MASK: u32 = !0x330 & EVENT_MASK;
/// The running VCPU continues (same data word as a runstate change).
pub const TRC_SCHED_CONTINUE_RUNNING: u32 = TRC_SCHED_MIN + 2;
/// A VCPU was put to sleep (paused). Data: domain, VCPU.
pub const TRC_SCHED_SLEEP: u32 = TRC_SCHED_VERBOSE + 3;
/// A VCPU was woken. Data: domain, VCPU.
pub const TRC_SCHED_WAKE: u32 = TRC_SCHED_VERBOSE + 4;
/// A VCPU yielded. Data: domain, VCPU.
pub const TRC_SCHED_YIELD: u32 = TRC_SCHED_VERBOSE + 5;
/// A VCPU blocked. Data: domain, VCPU.
pub const TRC_SCHED_BLOCK: u32 = TRC_SCHED_VERBOSE + 6;
/// A context switch. Data: previous domain, previous unit, next domain, next unit.
pub const TRC_SCHED_SWITCH: u32 = TRC_SCHED_VERBOSE + 10;
/// Before a switch, about the unit leaving. Data: domain, unit, ns it ran.
pub const TRC_SCHED_SWITCH_INFPREV: u32 = TRC_SCHED_VERBOSE + 14;
/// Before a switch, about the unit coming in. Data: domain, unit, ns it waited
/// runnable (0 if it was not runnable), the leaving unit's slice end.
pub const TRC_SCHED_SWITCH_INFNEXT: u32 = TRC_SCHED_VERBOSE + 15;
/// The scheduler kept the running unit. Data: domain, unit, ns it has run, slice end.
pub const TRC_SCHED_SWITCH_INFCONT: u32 = TRC_SCHED_VERBOSE + 17;

/// Xen's domain id of the idle domain (`DOMID_IDLE`): its VCPU n is CPU n's idle loop.
pub const DOMID_IDLE: u32 = 0x7fff;

/// Largest CPU number we accept in a CPU-change record (Xen's `NR_CPUS` is at most
/// 4096 in 4.17's Kconfig); anything larger is a corrupted record.
pub const MAX_CPUS: u32 = 4096;
/// Largest window we accept in a CPU-change record. Xen's per-CPU buffers are far
/// smaller (`t_info` offsets are 32-bit page counts and xentrace's default is 32
/// pages); a larger value is a corrupted record.
pub const MAX_WINDOW_BYTES: u32 = 1 << 30;

/// The class bits (16..27) of an event id, one bit per class.
pub const fn event_class(event: u32) -> u32 {
    (event >> 16) & 0xfff
}

/// Name of a class bit pattern, `None` if Xen 4.17 defines no such class.
pub const fn class_name(class: u32) -> Option<&'static str> {
    match class {
        0x001 => Some("GEN"),
        0x002 => Some("SCHED"),
        0x004 => Some("DOM0OP"),
        0x008 => Some("HVM"),
        0x010 => Some("MEM"),
        0x020 => Some("PV"),
        0x040 => Some("SHADOW"),
        0x080 => Some("HW"),
        0x800 => Some("GUEST"),
        _ => None,
    }
}

/// A decoded header word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Event id (28 bits).
    pub event: u32,
    /// Number of data words after the header (and TSC).
    pub extra_words: usize,
    /// Whether a 64-bit TSC follows the header.
    pub has_tsc: bool,
}

impl Header {
    /// Splits a header word into its fields.
    pub const fn decode(word: u32) -> Header {
        Header {
            event: word & EVENT_MASK,
            extra_words: ((word >> HEADER_EXTRA_SHIFT) & 0x7) as usize,
            has_tsc: word & HEADER_TSC_FLAG != 0,
        }
    }

    /// The header word for these fields (the inverse of [`Header::decode`]).
    pub const fn encode(self) -> u32 {
        (self.event & EVENT_MASK)
            | (((self.extra_words as u32) & 0x7) << HEADER_EXTRA_SHIFT)
            | if self.has_tsc { HEADER_TSC_FLAG } else { 0 }
    }

    /// Size of the whole record in bytes.
    pub const fn record_bytes(self) -> usize {
        4 + if self.has_tsc { 8 } else { 0 } + 4 * self.extra_words
    }

    /// Why this header cannot be a record Xen wrote, or `None` if it can.
    ///
    /// Xen's event ids have exactly one class bit set (bits 16..27); a header with
    /// none or several is garbage. A CPU-change record must be exactly
    /// [`CPU_CHANGE_HEADER`]; a lost-records record has its TSC and four words.
    pub fn implausible(self) -> Option<&'static str> {
        let class = event_class(self.event);
        if class == 0 {
            return Some("event id has no trace class bit (bits 16..27 are zero)");
        }
        if class.count_ones() != 1 {
            return Some("event id has several trace class bits set");
        }
        if self.event == TRC_TRACE_CPU_CHANGE && self.encode() != CPU_CHANGE_HEADER {
            return Some("CPU-change record without exactly two data words, or with a TSC");
        }
        if self.event == TRC_LOST_RECORDS && (!self.has_tsc || self.extra_words != 4) {
            return Some("lost-records record without a TSC and four data words");
        }
        None
    }
}

/// A VCPU runstate (`RUNSTATE_*` in Xen's `public/vcpu.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runstate {
    /// On a CPU.
    Running = 0,
    /// Ready, waiting for a CPU.
    Runnable = 1,
    /// Waiting for an event.
    Blocked = 2,
    /// Paused or down.
    Offline = 3,
}

impl Runstate {
    /// From the two-bit field of a runstate-change event id.
    pub const fn from_bits(bits: u32) -> Runstate {
        match bits & 3 {
            0 => Runstate::Running,
            1 => Runstate::Runnable,
            2 => Runstate::Blocked,
            _ => Runstate::Offline,
        }
    }

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Runstate::Running => "running",
            Runstate::Runnable => "runnable",
            Runstate::Blocked => "blocked",
            Runstate::Offline => "offline",
        }
    }
}

/// If `event` is a runstate change, its old and new states.
pub const fn runstate_change(event: u32) -> Option<(Runstate, Runstate)> {
    if event & RUNSTATE_CHANGE_MASK == TRC_SCHED_RUNSTATE_CHANGE {
        Some((Runstate::from_bits(event >> 8), Runstate::from_bits(event >> 4)))
    } else {
        None
    }
}

/// The event id of a runstate change from `old` to `new`.
pub const fn runstate_change_event(old: Runstate, new: Runstate) -> u32 {
    TRC_SCHED_RUNSTATE_CHANGE | ((old as u32) << 8) | ((new as u32) << 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_follow_struct_t_rec() {
        let h = Header::decode(0x8002_8f0e | (3 << 28));
        assert_eq!(h.event, 0x0002_8f0e & EVENT_MASK);
        assert_eq!(h.extra_words, 3);
        assert!(h.has_tsc);
        assert_eq!(h.record_bytes(), 4 + 8 + 12);
        assert_eq!(Header::decode(h.encode()), h);
    }

    #[test]
    fn cpu_change_header_is_what_xentrace_writes() {
        assert_eq!(CPU_CHANGE_HEADER, 0x2001_f003);
        assert_eq!(Header::decode(CPU_CHANGE_HEADER).record_bytes(), CPU_CHANGE_BYTES);
    }

    #[test]
    fn runstate_change_ids_carry_both_states() {
        let e = runstate_change_event(Runstate::Blocked, Runstate::Runnable);
        assert_eq!(e, 0x0002_1211);
        assert_eq!(runstate_change(e), Some((Runstate::Blocked, Runstate::Runnable)));
        assert_eq!(runstate_change(TRC_SCHED_CONTINUE_RUNNING), None);
    }

    #[test]
    fn garbage_headers_are_implausible() {
        assert!(Header::decode(0).implausible().is_some());
        assert!(Header::decode(0x0003_0000).implausible().is_some());
        assert!(Header::decode(0x0002_2c06).implausible().is_none());
        assert!(Header::decode(TRC_TRACE_CPU_CHANGE).implausible().is_some());
    }
}
