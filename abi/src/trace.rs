// SPDX-License-Identifier: MIT
//! The scheduler's xentrace events: their ids and their data words, as a typed
//! [`Event`] with one [`Event::encode`] (the core, which emits them through its host)
//! and one [`Event::decode`] (`rtcredit-monitor`, the e2e report).
//!
//! Xen records each event as a 32-bit id ([`trace_event_id`]: Xen's scheduler class,
//! our scheduler's index, a 9-bit event number) and up to 7 data words; ours have 1 to
//! 5. "dom" is the domain id, "unit" the unit (VCPU) id within the domain, "prio" a
//! priority value (0 RT, 1 BOOST, 2 UNDER, 3 OVER, 4 IDLE).

/// Xen's scheduler trace class (`TRC_SCHED_CLASS` in `public/trace.h`).
pub const TRC_SCHED_CLASS: u32 = 0x0002_2000;
/// Our scheduler's index within that class (`TRC_SCHED_CSCHED` is 0 ... `SNULL` 5).
pub const TRC_SCHED_RTCREDIT: u32 = 6;
/// The bits of an id that hold the event number.
pub const EVENT_NUMBER_MASK: u32 = 0x1ff;

/// The full 32-bit trace event id of our event number `event` (Xen's
/// `TRC_SCHED_CLASS_EVT`: the scheduler index takes the 3 bits above the 9-bit number).
pub const fn trace_event_id(event: u32) -> u32 {
    TRC_SCHED_CLASS | ((TRC_SCHED_RTCREDIT & 0x7) << 9) | (event & EVENT_NUMBER_MASK)
}

/// The event number of a full id if it is one of our scheduler's, else `None`.
pub const fn our_event_number(id: u32) -> Option<u32> {
    if id & !EVENT_NUMBER_MASK == trace_event_id(0) {
        Some(id & EVENT_NUMBER_MASK)
    } else {
        None
    }
}

/// RT request registered. Data: dom, unit, deadline low 32 bits, deadline high 32 bits.
pub const RT_GRANT: u32 = 1;
/// RT request (or, after RT was revoked, a fire) refused. Data: dom, unit, the core's
/// error code, refusals of this unit since its previous `RT_DENY` record that were not
/// traced. Rate limited: at most one record per unit per 100 ms, so a guest without
/// permission cannot flood xentrace; the domain's `rt_denied` counter counts every one.
pub const RT_DENY: u32 = 2;
/// RT request or fire degraded to a normal wake (budget). Data: dom, unit, reason
/// ([`DegradeReason`]).
pub const RT_DEGRADE: u32 = 3;
/// RT deadline reached and RT granted. Data: dom, unit, state ([`FireState`]), lateness
/// of the timer in ns (saturated to 32 bits).
pub const RT_FIRE: u32 = 4;
/// RT dropped (every end of RT). Data: dom, unit, reason ([`EndReason`]). While the
/// unit runs, a `PRIO_CHANGE` from RT follows.
pub const RT_DEMOTE: u32 = 5;
/// A unit starts running. Data: dom, unit, prio, cpu.
pub const SWITCH_IN: u32 = 6;
/// A unit woke with BOOST. Data: dom, unit.
pub const BOOST: u32 = 7;
/// The priority of a running unit changed. Data: dom, unit, old prio, new prio.
pub const PRIO_CHANGE: u32 = 8;
/// A capped unit was parked (credit below its cap). Data: dom, unit, credit (i32).
pub const PARK: u32 = 9;
/// A parked unit got credit back. Data: dom, unit, credit (i32).
pub const UNPARK: u32 = 10;
/// One accounting period done. Data: active domains, total weight, credit balance (i32),
/// host time in ns (low 32 bits, high 32 bits), so that a trace reader can convert TSC
/// to nanoseconds.
pub const ACCOUNT: u32 = 11;
/// A CPU was asked to reschedule. Data: cpu, the cpu that asked.
pub const TICKLE: u32 = 12;
/// A queued unit moved to another CPU to run there. Data: from cpu, to cpu, dom, unit.
pub const STEAL: u32 = 13;
/// A CPU goes idle. Data: cpu.
pub const IDLE: u32 = 14;

/// Why an RT request or fire became a normal wake (`RT_DEGRADE`'s third word).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DegradeReason {
    /// The domain used its RT CPU share for the current budget window.
    CpuShare = 1,
    /// The domain made more requests than its rate allows.
    Rate = 2,
    /// The deadline fired while the unit was parked by its cap.
    Capped = 3,
}

/// Why RT ended (`RT_DEMOTE`'s third word). Values 0 (the tick) and 2 (accounting) were reasons of
/// cores before RT v2; a reader meets them in old traces only.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The unit blocked (or was parked) while at RT.
    Blocked = 1,
    /// The domain's RT CPU budget for the window is spent.
    BudgetSpent = 3,
    /// The VCPU called rtsleep (its next deadline, or a cancel): its period's work is done.
    Rtsleep = 4,
    /// The unit ran its grant's RT limit at RT (the RT quantum, or the domain's budget
    /// share of its period when that is longer).
    Limit = 5,
}

/// What the unit was doing when its deadline fired (`RT_FIRE`'s third word).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FireState {
    Blocked = 0,
    Queued = 1,
    Running = 2,
}

/// One of our trace records, its data words named. Words that are reason or state codes
/// stay `u32` here, so that a reader can count values it does not know (an old or a
/// newer core) instead of failing; the enums above give their meanings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    RtGrant {
        dom: u32,
        unit: u32,
        deadline_ns: u64,
    },
    /// `untraced` is 0 in traces of cores that wrote three words.
    RtDeny {
        dom: u32,
        unit: u32,
        error_code: u32,
        untraced: u32,
    },
    RtDegrade {
        dom: u32,
        unit: u32,
        reason: u32,
    },
    RtFire {
        dom: u32,
        unit: u32,
        state: u32,
        late_ns: u32,
    },
    RtDemote {
        dom: u32,
        unit: u32,
        reason: u32,
    },
    SwitchIn {
        dom: u32,
        unit: u32,
        prio: u32,
        cpu: u32,
    },
    Boost {
        dom: u32,
        unit: u32,
    },
    PrioChange {
        dom: u32,
        unit: u32,
        old_prio: u32,
        new_prio: u32,
    },
    Park {
        dom: u32,
        unit: u32,
        credit: i32,
    },
    Unpark {
        dom: u32,
        unit: u32,
        credit: i32,
    },
    Account {
        active_domains: u32,
        total_weight: u32,
        credit_balance: i32,
        now_ns: u64,
    },
    Tickle {
        cpu: u32,
        from_cpu: u32,
    },
    Steal {
        from_cpu: u32,
        to_cpu: u32,
        dom: u32,
        unit: u32,
    },
    Idle {
        cpu: u32,
    },
}

/// The most data words one of our events has.
pub const MAX_WORDS: usize = 5;

/// An event as Xen records it: its number (not yet combined with the class: see
/// [`trace_event_id`]) and its data words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub event: u32,
    words: [u32; MAX_WORDS],
    len: usize,
}

impl Encoded {
    /// The data words, as many as the event has.
    pub fn words(&self) -> &[u32] {
        // `len` is at most MAX_WORDS by construction; `get` keeps a panic path out anyway.
        self.words.get(..self.len).unwrap_or(&self.words)
    }
}

/// Why a record did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Not one of the event numbers above.
    UnknownEvent(u32),
    /// Fewer data words than the event has.
    TooFewWords { event: u32, needed: usize, got: usize },
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::UnknownEvent(event) => write!(f, "unknown RT-Credit event number {event}"),
            DecodeError::TooFewWords { event, needed, got } => {
                write!(f, "RT-Credit event {event} has {got} data words, needs {needed}")
            }
        }
    }
}

fn split_u64(value: u64) -> [u32; 2] {
    [value as u32, (value >> 32) as u32]
}

fn join_u64(low: u32, high: u32) -> u64 {
    u64::from(low) | (u64::from(high) << 32)
}

impl Event {
    /// The event's number (`RT_GRANT` ... `IDLE`).
    pub const fn number(&self) -> u32 {
        match self {
            Event::RtGrant { .. } => RT_GRANT,
            Event::RtDeny { .. } => RT_DENY,
            Event::RtDegrade { .. } => RT_DEGRADE,
            Event::RtFire { .. } => RT_FIRE,
            Event::RtDemote { .. } => RT_DEMOTE,
            Event::SwitchIn { .. } => SWITCH_IN,
            Event::Boost { .. } => BOOST,
            Event::PrioChange { .. } => PRIO_CHANGE,
            Event::Park { .. } => PARK,
            Event::Unpark { .. } => UNPARK,
            Event::Account { .. } => ACCOUNT,
            Event::Tickle { .. } => TICKLE,
            Event::Steal { .. } => STEAL,
            Event::Idle { .. } => IDLE,
        }
    }

    /// The domain and unit the event is about, for the events that name one.
    pub const fn vcpu(&self) -> Option<(u32, u32)> {
        match *self {
            Event::RtGrant { dom, unit, .. }
            | Event::RtDeny { dom, unit, .. }
            | Event::RtDegrade { dom, unit, .. }
            | Event::RtFire { dom, unit, .. }
            | Event::RtDemote { dom, unit, .. }
            | Event::SwitchIn { dom, unit, .. }
            | Event::Boost { dom, unit }
            | Event::PrioChange { dom, unit, .. }
            | Event::Park { dom, unit, .. }
            | Event::Unpark { dom, unit, .. }
            | Event::Steal { dom, unit, .. } => Some((dom, unit)),
            Event::Account { .. } | Event::Tickle { .. } | Event::Idle { .. } => None,
        }
    }

    /// The data words Xen records for this event. (Built as a whole array per event, with
    /// no slicing, so that the core linked into Xen has no bounds check to panic on.)
    pub fn encode(&self) -> Encoded {
        let (words, len) = match *self {
            Event::RtGrant { dom, unit, deadline_ns } => {
                let [low, high] = split_u64(deadline_ns);
                ([dom, unit, low, high, 0], 4)
            }
            Event::RtDeny { dom, unit, error_code, untraced } => ([dom, unit, error_code, untraced, 0], 4),
            Event::RtDegrade { dom, unit, reason } | Event::RtDemote { dom, unit, reason } => {
                ([dom, unit, reason, 0, 0], 3)
            }
            Event::RtFire { dom, unit, state, late_ns } => ([dom, unit, state, late_ns, 0], 4),
            Event::SwitchIn { dom, unit, prio, cpu } => ([dom, unit, prio, cpu, 0], 4),
            Event::Boost { dom, unit } => ([dom, unit, 0, 0, 0], 2),
            Event::PrioChange { dom, unit, old_prio, new_prio } => ([dom, unit, old_prio, new_prio, 0], 4),
            Event::Park { dom, unit, credit } | Event::Unpark { dom, unit, credit } => {
                ([dom, unit, credit as u32, 0, 0], 3)
            }
            Event::Account { active_domains, total_weight, credit_balance, now_ns } => {
                let [low, high] = split_u64(now_ns);
                ([active_domains, total_weight, credit_balance as u32, low, high], 5)
            }
            Event::Tickle { cpu, from_cpu } => ([cpu, from_cpu, 0, 0, 0], 2),
            Event::Steal { from_cpu, to_cpu, dom, unit } => ([from_cpu, to_cpu, dom, unit, 0], 4),
            Event::Idle { cpu } => ([cpu, 0, 0, 0, 0], 1),
        };
        Encoded { event: self.number(), words, len }
    }

    /// The event a record of number `event` with data `words` is. Words beyond the
    /// event's own are ignored (a newer core may append some); an `RT_DENY` of three
    /// words (older cores) has `untraced` 0.
    pub fn decode(event: u32, words: &[u32]) -> Result<Event, DecodeError> {
        let needed = match event {
            RT_GRANT | RT_FIRE | SWITCH_IN | PRIO_CHANGE | STEAL => 4,
            RT_DENY | RT_DEGRADE | RT_DEMOTE | PARK | UNPARK => 3,
            ACCOUNT => 5,
            BOOST | TICKLE => 2,
            IDLE => 1,
            _ => return Err(DecodeError::UnknownEvent(event)),
        };
        if words.len() < needed {
            return Err(DecodeError::TooFewWords { event, needed, got: words.len() });
        }
        let w = |i: usize| words[i];
        Ok(match event {
            RT_GRANT => Event::RtGrant { dom: w(0), unit: w(1), deadline_ns: join_u64(w(2), w(3)) },
            RT_DENY => {
                Event::RtDeny { dom: w(0), unit: w(1), error_code: w(2), untraced: words.get(3).copied().unwrap_or(0) }
            }
            RT_DEGRADE => Event::RtDegrade { dom: w(0), unit: w(1), reason: w(2) },
            RT_FIRE => Event::RtFire { dom: w(0), unit: w(1), state: w(2), late_ns: w(3) },
            RT_DEMOTE => Event::RtDemote { dom: w(0), unit: w(1), reason: w(2) },
            SWITCH_IN => Event::SwitchIn { dom: w(0), unit: w(1), prio: w(2), cpu: w(3) },
            BOOST => Event::Boost { dom: w(0), unit: w(1) },
            PRIO_CHANGE => Event::PrioChange { dom: w(0), unit: w(1), old_prio: w(2), new_prio: w(3) },
            PARK => Event::Park { dom: w(0), unit: w(1), credit: w(2) as i32 },
            UNPARK => Event::Unpark { dom: w(0), unit: w(1), credit: w(2) as i32 },
            ACCOUNT => Event::Account {
                active_domains: w(0),
                total_weight: w(1),
                credit_balance: w(2) as i32,
                now_ns: join_u64(w(3), w(4)),
            },
            TICKLE => Event::Tickle { cpu: w(0), from_cpu: w(1) },
            STEAL => Event::Steal { from_cpu: w(0), to_cpu: w(1), dom: w(2), unit: w(3) },
            _ => Event::Idle { cpu: w(0) },
        })
    }
}
