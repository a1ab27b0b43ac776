//! The per-domain, per-VCPU summary: as an aligned table, JSON or CSV.
//!
//! One row per VCPU and one per domain (all its VCPUs together): CPU time, its share
//! of the trace (1.0 = one whole CPU), the share of that CPU time at each priority
//! (RT, BOOST, UNDER, OVER, unknown), how many times it was scheduled, wake-to-run
//! latency (p50, p99, max by nearest rank) and the RT counters. Times are nanoseconds
//! when the TSC rate is known and TSC cycles otherwise; the report names its unit.
//! After the rows come what could not be read (byte offsets), lost records, and event
//! ids that were not understood.

use std::fmt::Write as _;

use rtcredit::prio::Prio;

use crate::analysis::{Analysis, Problems};
use crate::clock::{disagreement, Clock, Disagreement};
use crate::format::{Runstate, DOMID_IDLE};
use crate::model::{Anomaly, DeadlineRun, EventCounts, RtCounters, VcpuHistory, VcpuId, PRIO_SLOTS, UNKNOWN_PRIO};
use crate::reader::ReadStats;

/// Time at each priority, in the report's unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct PrioTimes {
    /// At RT.
    pub rt: u64,
    /// At BOOST.
    pub boost: u64,
    /// At UNDER.
    pub under: u64,
    /// At OVER.
    pub over: u64,
    /// At a priority the trace does not tell (other scheduler, lost records, runs
    /// that began before the trace).
    pub unknown: u64,
}

/// Share of a row's CPU time at each priority (fractions summing to 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct PrioShares {
    /// At RT.
    pub rt: f64,
    /// At BOOST.
    pub boost: f64,
    /// At UNDER.
    pub under: f64,
    /// At OVER.
    pub over: f64,
    /// Unknown.
    pub unknown: f64,
}

/// How many times a VCPU was switched in at each priority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SwitchIns {
    /// At RT.
    pub rt: u64,
    /// At BOOST.
    pub boost: u64,
    /// At UNDER.
    pub under: u64,
    /// At OVER.
    pub over: u64,
}

/// Wake-to-run latency summary, in the report's unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Latency {
    /// Wakes measured.
    pub count: u64,
    /// Median (nearest rank).
    pub p50: Option<u64>,
    /// 99th percentile (nearest rank).
    pub p99: Option<u64>,
    /// Largest.
    pub max: Option<u64>,
}

/// One row: a VCPU, or a whole domain (`vcpu` is `None`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Row {
    /// Domain id (32767 is the idle domain: its VCPU n is CPU n idling).
    pub dom: u32,
    /// Its name, when `--names` gave one (the trace has ids only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// VCPU id, or `None` for the domain's total.
    pub vcpu: Option<u32>,
    /// CPU time.
    pub cpu_time: u64,
    /// CPU time over the trace's length (1.0 = one CPU all the time).
    pub cpu_share: f64,
    /// CPU time at each priority.
    pub time_at: PrioTimes,
    /// Share of the CPU time at each priority.
    pub share_at: PrioShares,
    /// Times it started running.
    pub times_scheduled: u64,
    /// Its longest stretch running without a stop (a domain's row: its VCPUs' longest).
    pub longest_run: u64,
    /// Times it started running at each priority (`SWITCH_IN` records).
    pub switch_ins_at: SwitchIns,
    /// Time runnable but not running.
    pub runnable_time: u64,
    /// Time blocked.
    pub blocked_time: u64,
    /// Time offline (paused, down).
    pub offline_time: u64,
    /// Wake-to-run latency.
    pub wake_latency: Latency,
    /// Deadline-to-run latency of RT periods (see `crate::model`); its values are
    /// `None` when the TSC rate is unknown (the fire's lateness is in ns, the rest in
    /// cycles).
    pub deadline_latency: Latency,
    /// RT fires that could not be measured for `deadline_latency`.
    pub deadline_unmatched: u64,
    /// RT counters.
    pub rt: RtCounters,
    /// Runstate records that disagreed with the model (records were lost).
    pub state_mismatches: u64,
}

/// A lost-records gap, in the report's unit (times from the trace's start).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Gap {
    /// Byte offset of the lost-records record.
    pub offset: u64,
    /// CPU.
    pub cpu: u32,
    /// Records lost.
    pub count: u32,
    /// Start of the gap, from the trace's start.
    pub from: u64,
    /// End of the gap, from the trace's start.
    pub to: u64,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Report {
    /// `"ns"` or `"tsc_cycles"`: the unit of every time below.
    pub time_unit: &'static str,
    /// The TSC rate used and where it came from.
    pub clock: Clock,
    /// The same in words.
    pub clock_note: String,
    /// `--cpu-hz` against the trace's own estimate, when they differ by more than
    /// `clock::MAX_DISAGREEMENT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_disagreement: Option<Disagreement>,
    /// Trace length (first to last timestamp).
    pub duration: u64,
    /// Physical CPUs seen.
    pub cpus: Vec<u32>,
    /// Reading counts.
    pub read: ReadStats,
    /// Per VCPU, each domain followed by its total.
    pub rows: Vec<Row>,
    /// What could not be read.
    pub problems: Problems,
    /// Records Xen dropped.
    pub lost_records: Vec<Gap>,
    /// Event ids not understood, and malformed events.
    pub anomalies: Vec<Anomaly>,
    /// Records by kind.
    pub counts: EventCounts,
}

fn nearest_rank(sorted: &[u64], percent: u64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent as usize * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn latency(mut cycles: Vec<u64>, clock: &Clock) -> Latency {
    cycles.sort_unstable();
    let conv = |v: Option<u64>| v.map(|c| clock.to_unit(c));
    Latency {
        count: cycles.len() as u64,
        p50: conv(nearest_rank(&cycles, 50)),
        p99: conv(nearest_rank(&cycles, 99)),
        max: conv(cycles.last().copied()),
    }
}

fn add_rt(total: &mut RtCounters, more: &RtCounters) {
    total.grants += more.grants;
    total.denies += more.denies;
    for (&reason, &n) in &more.deny_reasons {
        *total.deny_reasons.entry(reason).or_insert(0) += n;
    }
    total.degrades += more.degrades;
    total.fires += more.fires;
    total.max_fire_lateness_ns = total.max_fire_lateness_ns.max(more.max_fire_lateness_ns);
    total.demotions += more.demotions;
    for (&reason, &n) in &more.demote_reasons {
        *total.demote_reasons.entry(reason).or_insert(0) += n;
    }
    total.boosts += more.boosts;
    total.prio_changes += more.prio_changes;
}

/// Sums of several VCPUs, in cycles.
#[derive(Default)]
struct Totals {
    running_at: [u64; PRIO_SLOTS],
    runnable: u64,
    blocked: u64,
    offline: u64,
    switch_ins_at: [u64; 5],
    scheduled: u64,
    longest_run: u64,
    latencies: Vec<u64>,
    deadline_runs: Vec<DeadlineRun>,
    deadline_unmatched: u64,
    rt: RtCounters,
    mismatches: u64,
}

/// Deadline-to-run latencies in ns, sorted; `None` when the TSC rate is unknown.
pub fn deadline_latencies_ns(runs: &[DeadlineRun], clock: &Clock) -> Option<Vec<u64>> {
    clock.hz?;
    let mut ns: Vec<u64> = runs.iter().map(|r| r.total_ns(|c| clock.to_unit(c))).collect();
    ns.sort_unstable();
    Some(ns)
}

fn deadline_latency(runs: &[DeadlineRun], clock: &Clock) -> Latency {
    match deadline_latencies_ns(runs, clock) {
        Some(ns) => Latency {
            count: ns.len() as u64,
            p50: nearest_rank(&ns, 50),
            p99: nearest_rank(&ns, 99),
            max: ns.last().copied(),
        },
        None => Latency { count: runs.len() as u64, ..Latency::default() },
    }
}

impl Totals {
    fn add(&mut self, v: &VcpuHistory) {
        // Saturating: a corrupted trace can have absurd timestamps.
        for (t, r) in self.running_at.iter_mut().zip(v.running_at) {
            *t = t.saturating_add(r);
        }
        self.runnable = self.runnable.saturating_add(v.time_in_state[Runstate::Runnable as usize]);
        self.blocked = self.blocked.saturating_add(v.time_in_state[Runstate::Blocked as usize]);
        self.offline = self.offline.saturating_add(v.time_in_state[Runstate::Offline as usize]);
        for (t, n) in self.switch_ins_at.iter_mut().zip(v.switch_ins_at) {
            *t += n;
        }
        self.scheduled += v.times_scheduled;
        self.longest_run = self.longest_run.max(v.longest_run);
        self.latencies.extend_from_slice(&v.wake_latencies);
        self.deadline_runs.extend_from_slice(&v.deadline_runs);
        self.deadline_unmatched += v.deadline_unmatched;
        add_rt(&mut self.rt, &v.rt);
        self.mismatches += v.state_mismatches;
    }

    fn row(self, dom: u32, vcpu: Option<u32>, clock: &Clock, duration: u64) -> Row {
        let at = |p: Prio| self.running_at[p as usize];
        // The idle domain "runs" at IDLE; nobody else should, but count it anyway.
        let unknown = self.running_at[UNKNOWN_PRIO].saturating_add(at(Prio::Idle));
        let cycles = [at(Prio::Rt), at(Prio::Boost), at(Prio::Under), at(Prio::Over), unknown];
        let total = cycles.iter().fold(0u64, |sum, &c| sum.saturating_add(c));
        let share = |c: u64| if total == 0 { 0.0 } else { c as f64 / total as f64 };
        Row {
            dom,
            name: None,
            vcpu,
            cpu_time: clock.to_unit(total),
            cpu_share: if duration == 0 { 0.0 } else { total as f64 / duration as f64 },
            time_at: PrioTimes {
                rt: clock.to_unit(cycles[0]),
                boost: clock.to_unit(cycles[1]),
                under: clock.to_unit(cycles[2]),
                over: clock.to_unit(cycles[3]),
                unknown: clock.to_unit(cycles[4]),
            },
            share_at: PrioShares {
                rt: share(cycles[0]),
                boost: share(cycles[1]),
                under: share(cycles[2]),
                over: share(cycles[3]),
                unknown: share(cycles[4]),
            },
            times_scheduled: self.scheduled,
            longest_run: clock.to_unit(self.longest_run),
            switch_ins_at: SwitchIns {
                rt: self.switch_ins_at[Prio::Rt as usize],
                boost: self.switch_ins_at[Prio::Boost as usize],
                under: self.switch_ins_at[Prio::Under as usize],
                over: self.switch_ins_at[Prio::Over as usize],
            },
            runnable_time: clock.to_unit(self.runnable),
            blocked_time: clock.to_unit(self.blocked),
            offline_time: clock.to_unit(self.offline),
            wake_latency: latency(self.latencies, clock),
            deadline_latency: deadline_latency(&self.deadline_runs, clock),
            deadline_unmatched: self.deadline_unmatched,
            rt: self.rt,
            state_mismatches: self.mismatches,
        }
    }
}

impl Report {
    /// Builds the report of a finished analysis. `clock` is the rate from the command
    /// line, if any; without it the rate is estimated from RT fires when possible.
    pub fn build(analysis: &Analysis, given: Option<Clock>) -> Report {
        let model = &analysis.model;
        let estimate = Clock::estimate(&model.fire_points);
        let clock_disagreement = given.zip(estimate).and_then(|(given, estimate)| disagreement(&given, &estimate));
        let clock = given.or(estimate).unwrap_or_else(Clock::unknown);
        let duration = model.duration();
        let mut rows = Vec::new();
        let mut domain: Option<(u32, Totals)> = None;
        let flush = |domain: &mut Option<(u32, Totals)>, rows: &mut Vec<Row>| {
            if let Some((dom, totals)) = domain.take() {
                rows.push(totals.row(dom, None, &clock, duration));
            }
        };
        for (&VcpuId { dom, vcpu }, history) in &model.vcpus {
            if domain.as_ref().is_some_and(|(d, _)| *d != dom) {
                flush(&mut domain, &mut rows);
            }
            let mut own = Totals::default();
            own.add(history);
            rows.push(own.row(dom, Some(vcpu), &clock, duration));
            domain.get_or_insert_with(|| (dom, Totals::default())).1.add(history);
        }
        flush(&mut domain, &mut rows);
        let start = model.first_tsc.unwrap_or(0);
        let lost_records = model
            .lost
            .iter()
            .map(|l| Gap {
                offset: l.offset,
                cpu: l.cpu,
                count: l.count,
                from: clock.to_unit(l.from_tsc.saturating_sub(start)),
                to: clock.to_unit(l.to_tsc.saturating_sub(start)),
            })
            .collect();
        Report {
            time_unit: clock.unit_name(),
            clock,
            clock_note: clock.to_string(),
            clock_disagreement,
            duration: clock.to_unit(duration),
            cpus: model.cpus.iter().copied().collect(),
            read: analysis.stats,
            rows,
            problems: analysis.problems.clone(),
            lost_records,
            anomalies: model.anomalies.values().cloned().collect(),
            counts: model.counts.clone(),
        }
    }

    fn time_columns(&self) -> (&'static str, f64, &'static str, f64) {
        if self.clock.hz.is_some() {
            ("ms", 1e6, "us", 1e3)
        } else {
            ("Mcyc", 1e6, "kcyc", 1e3)
        }
    }

    /// The domains' names from `xl list` (see [`crate::names`]), shown beside their ids.
    pub fn with_names(mut self, names: &std::collections::BTreeMap<u32, String>) -> Report {
        for row in &mut self.rows {
            row.name = names.get(&row.dom).cloned();
        }
        self
    }

    /// The aligned text table with its notes.
    pub fn to_table(&self, include_idle: bool) -> String {
        let (cpu_unit, cpu_div, lat_unit, lat_div) = self.time_columns();
        let header: Vec<String> = [
            "DOM".to_string(),
            "VCPU".to_string(),
            format!("CPU({cpu_unit})"),
            "CPU%".to_string(),
            "RT%".to_string(),
            "BOOST%".to_string(),
            "UNDER%".to_string(),
            "OVER%".to_string(),
            "?%".to_string(),
            "SCHED".to_string(),
            format!("LONGEST({cpu_unit})"),
            "WAKES".to_string(),
            format!("P50({lat_unit})"),
            format!("P99({lat_unit})"),
            format!("MAX({lat_unit})"),
            "DL-RUNS".to_string(),
            format!("DL-P50({lat_unit})"),
            format!("DL-P99({lat_unit})"),
            format!("DL-MAX({lat_unit})"),
            "GRANT".to_string(),
            "DENY".to_string(),
            "FIRE".to_string(),
            "DEMOTE".to_string(),
        ]
        .to_vec();
        let pct = |f: f64| format!("{:.1}", f * 100.0);
        let lat = |v: Option<u64>| v.map_or("-".to_string(), |v| format!("{:.1}", v as f64 / lat_div));
        let mut lines = vec![header];
        let vcpus_of = |dom: u32| self.rows.iter().filter(|r| r.dom == dom && r.vcpu.is_some()).count();
        // A domain's total is shown only when it has more than one VCPU.
        let shown = self.rows.iter().filter(|r| include_idle || r.dom != DOMID_IDLE);
        for row in shown.filter(|r| r.vcpu.is_some() || vcpus_of(r.dom) > 1) {
            lines.push(vec![
                match (&row.name, row.dom) {
                    (_, DOMID_IDLE) => "idle".to_string(),
                    (Some(name), dom) => format!("{name}({dom})"),
                    (None, dom) => dom.to_string(),
                },
                row.vcpu.map_or("all".to_string(), |v| v.to_string()),
                format!("{:.3}", row.cpu_time as f64 / cpu_div),
                pct(row.cpu_share),
                pct(row.share_at.rt),
                pct(row.share_at.boost),
                pct(row.share_at.under),
                pct(row.share_at.over),
                pct(row.share_at.unknown),
                row.times_scheduled.to_string(),
                format!("{:.3}", row.longest_run as f64 / cpu_div),
                row.wake_latency.count.to_string(),
                lat(row.wake_latency.p50),
                lat(row.wake_latency.p99),
                lat(row.wake_latency.max),
                row.deadline_latency.count.to_string(),
                lat(row.deadline_latency.p50),
                lat(row.deadline_latency.p99),
                lat(row.deadline_latency.max),
                row.rt.grants.to_string(),
                row.rt.denies.to_string(),
                row.rt.fires.to_string(),
                row.rt.demotions.to_string(),
            ]);
        }
        let mut widths = vec![0; lines[0].len()];
        for line in &lines {
            for (w, cell) in widths.iter_mut().zip(line) {
                *w = (*w).max(cell.len());
            }
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "trace: {:.3} {} on {} CPU(s), {} records, {} bytes; {}",
            self.duration as f64 / cpu_div,
            cpu_unit,
            self.cpus.len(),
            self.read.records,
            self.read.bytes,
            self.clock_note
        );
        for line in &lines {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, &w))| if i < 2 { format!("{cell:<w$}") } else { format!("{cell:>w$}") })
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        }
        out.push_str(&self.notes());
        out
    }

    /// What was skipped, lost or not understood, as lines of text ("" if nothing).
    pub fn notes(&self) -> String {
        let mut out = String::new();
        if let Some(off) = &self.clock_disagreement {
            let _ = writeln!(out, "\n{off}");
        }
        if self.problems.total > 0 {
            let _ = writeln!(
                out,
                "\n{} problem(s) reading the trace; {} bytes skipped{}:",
                self.problems.total,
                self.read.skipped_bytes,
                if self.problems.stopped_early { ", reading stopped early" } else { "" }
            );
            for p in &self.problems.kept {
                let _ = writeln!(out, "  {}", p.message);
            }
            let omitted = self.problems.total - self.problems.kept.len() as u64;
            if omitted > 0 {
                let _ = writeln!(out, "  ... and {omitted} more");
            }
        }
        if !self.lost_records.is_empty() {
            let total: u64 = self.lost_records.iter().map(|g| u64::from(g.count)).sum();
            let _ = writeln!(
                out,
                "\nXen lost {total} record(s) (trace buffer full); figures near these gaps may be wrong \
                 (times in {} from the trace's start):",
                self.time_unit
            );
            for g in &self.lost_records {
                let _ = writeln!(
                    out,
                    "  byte {}: CPU {} lost {} between {} and {}",
                    g.offset, g.cpu, g.count, g.from, g.to
                );
            }
        }
        if !self.anomalies.is_empty() {
            let _ = writeln!(out, "\nrecords not understood (skipped by the model):");
            for a in &self.anomalies {
                let _ = writeln!(
                    out,
                    "  event 0x{:07x}: {} x{} (first at byte {})",
                    a.event, a.what, a.count, a.first_offset
                );
            }
        }
        if self.counts.untracked > 0 {
            let _ = writeln!(
                out,
                "\n{} record(s) with a refusal or demotion code, or an anomaly, beyond the kinds the monitor \
                 keeps apart (crafted or corrupted trace?): counted, not listed",
                self.counts.untracked
            );
        }
        let mismatches: u64 = self.rows.iter().filter(|r| r.vcpu.is_some()).map(|r| r.state_mismatches).sum();
        if mismatches > 0 {
            let _ = writeln!(
                out,
                "\n{mismatches} runstate change(s) disagreed with the previous state (records missing); the time \
                 before each was not counted"
            );
        }
        if self.counts.rtcredit_events == 0 && self.counts.records > 0 {
            let _ = writeln!(
                out,
                "\nno RT-Credit events in this trace (another scheduler, or not enabled with xentrace -e): \
                 priorities are unknown"
            );
        }
        out
    }

    /// JSON (pretty-printed).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// CSV: a header line and one line per row; times in the report's unit.
    pub fn to_csv(&self, include_idle: bool) -> String {
        let mut out = String::from(
            "dom,vcpu,time_unit,cpu_time,cpu_share,time_rt,time_boost,time_under,time_over,time_unknown,\
             share_rt,share_boost,share_under,share_over,share_unknown,times_scheduled,switch_ins_rt,switch_ins_boost,\
             switch_ins_under,switch_ins_over,runnable_time,blocked_time,offline_time,wakes,\
             wake_p50,wake_p99,wake_max,rt_grants,rt_denies,rt_degrades,rt_fires,rt_demotions,boosts,\
             state_mismatches,longest_run\n",
        );
        let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
        for r in self.rows.iter().filter(|r| include_idle || r.dom != DOMID_IDLE) {
            let _ = writeln!(
                out,
                "{},{},{},{},{:.6},{},{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.dom,
                r.vcpu.map_or("all".to_string(), |v| v.to_string()),
                self.time_unit,
                r.cpu_time,
                r.cpu_share,
                r.time_at.rt,
                r.time_at.boost,
                r.time_at.under,
                r.time_at.over,
                r.time_at.unknown,
                r.share_at.rt,
                r.share_at.boost,
                r.share_at.under,
                r.share_at.over,
                r.share_at.unknown,
                r.times_scheduled,
                r.switch_ins_at.rt,
                r.switch_ins_at.boost,
                r.switch_ins_at.under,
                r.switch_ins_at.over,
                r.runnable_time,
                r.blocked_time,
                r.offline_time,
                r.wake_latency.count,
                opt(r.wake_latency.p50),
                opt(r.wake_latency.p99),
                opt(r.wake_latency.max),
                r.rt.grants,
                r.rt.denies,
                r.rt.degrades,
                r.rt.fires,
                r.rt.demotions,
                r.rt.boosts,
                r.state_mismatches,
                r.longest_run
            );
        }
        out
    }
}

/// The priority slots shown as columns, most urgent first (RT, BOOST, UNDER, OVER,
/// unknown).
pub const PRIO_COLUMNS: [usize; 5] =
    [Prio::Rt as usize, Prio::Boost as usize, Prio::Under as usize, Prio::Over as usize, UNKNOWN_PRIO];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&v, 50), Some(50));
        assert_eq!(nearest_rank(&v, 99), Some(99));
        assert_eq!(nearest_rank(&[7], 99), Some(7));
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[1, 2, 3], 50), Some(2));
    }
}
