//! Priorities.
//!
//! Four classes of runnable work, highest first: **RT** (granted at a registered
//! deadline, ours), **BOOST** (woken from UNDER, Xen's), **UNDER** (has credit) and
//! **OVER** (credit spent). IDLE is what a CPU runs when nothing is runnable; it is
//! never queued. Within a class the run queue is FIFO.
//!
//! The numeric values are part of the ABI (trace records, counters, the C header):
//! larger means more urgent.

/// Scheduling priority of a unit. Ordered: `Rt > Boost > Under > Over > Idle`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prio {
    /// Nothing to run (never queued).
    Idle = 0,
    /// Credit spent: runs only when nothing better is runnable anywhere it may go.
    Over = 1,
    /// Has credit left.
    Under = 2,
    /// Woke from UNDER; dropped back at the next tick that finds it running.
    Boost = 3,
    /// Reached its registered deadline; dropped at its next `rtsleep`, when it blocks,
    /// after the RT quantum (500 us at RT), or when the domain's RT budget is spent.
    Rt = 4,
}

/// Number of queued classes (RT, BOOST, UNDER, OVER).
pub const NR_QUEUED_PRIOS: usize = 4;
/// Number of priority values including IDLE (for per-priority counters).
pub const NR_PRIOS: usize = 5;

/// The queued classes, most urgent first.
pub(crate) const QUEUED_DESC: [Prio; NR_QUEUED_PRIOS] = [Prio::Rt, Prio::Boost, Prio::Under, Prio::Over];

impl Prio {
    /// Index of this class among the per-CPU queues (RT = 0 ... OVER = 3).
    /// IDLE has no queue and maps past the end.
    pub(crate) const fn queue_index(self) -> usize {
        match self {
            Prio::Rt => 0,
            Prio::Boost => 1,
            Prio::Under => 2,
            Prio::Over => 3,
            Prio::Idle => NR_QUEUED_PRIOS,
        }
    }

    /// Decodes an ABI value; `None` for anything else.
    pub const fn from_u8(value: u8) -> Option<Prio> {
        match value {
            0 => Some(Prio::Idle),
            1 => Some(Prio::Over),
            2 => Some(Prio::Under),
            3 => Some(Prio::Boost),
            4 => Some(Prio::Rt),
            _ => None,
        }
    }

    /// Short upper-case name, as Xen's dump and our monitor print it.
    pub const fn name(self) -> &'static str {
        match self {
            Prio::Idle => "IDLE",
            Prio::Over => "OVER",
            Prio::Under => "UNDER",
            Prio::Boost => "BOOST",
            Prio::Rt => "RT",
        }
    }
}
