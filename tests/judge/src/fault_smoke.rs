//! The rules of `hypervisor/xen/fault-smoke.sh`: every path of Xen's scheduler
//! framework that touches `sched=rtcredit` (cpupool moves, CPU removal and re-adding,
//! VCPU offline/online, destroy with RT armed, core scheduling granularity, a hostile
//! guest), on four boots of the debug Xen with 2 pCPUs.
//!
//! dom0's `/init` (written by the script: `dom0_toolstack_init FAULT` of
//! lib-initramfs.sh, then the boot's paths) prints `FAULT: path NAME` before each
//! path, and for each step NAME it runs the step's output as `FAULT: NAME| LINE` and
//! then `FAULT: NAME rc=N`; the domU's lines come through its console log as `FAULT:
//! guestlog| ...`, and the hostile domU's own tallies as `FAULT-DOMU: schedop: hostile
//! cpu=N ...`. A path's part of the log runs from its marker to the next one.
//!
//! Per boot: one check that Xen came up and created the domU, one per path (PASS when
//! the path ran, each of its steps printed the expected rc and its part of the log has
//! no crash line; some paths add their own rules), and one that dom0 finished and QEMU
//! exited cleanly. Checks are named `BOOT/PATH`, in the order and with the texts of the
//! bash judge they replace; the final line counts the failed checks as "path(s)", as it
//! did.

use std::fmt;
use std::str::FromStr;

use regex::Regex;

use crate::{after_last, field, Check, CrashPattern, Serial, Variant, Verdict};

/// The start of every line dom0's `/init` prints for the host.
const TAG: &str = "FAULT: ";

/// The RT quantum (ns) the hostile guest's RT time may exceed its budget by, per VCPU
/// and budget window: RT ends at most one quantum after the budget is spent.
const RT_QUANTUM_NS: u64 = 500_000;
/// The RT budget's window (1 s), ns.
const BUDGET_WINDOW_NS: u64 = 1_000_000_000;
/// The hostile domU's VCPUs (its xl.cfg `vcpus`).
const HOSTILE_VCPUS: u64 = 2;

/// One of fault-smoke.sh's four boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boot {
    /// sched=credit: an rtcredit pool made from CPU1, the domU moved in and out.
    Credit,
    /// sched=rtcredit: Pool-0 loses and regains CPU1 under RT, a credit pool beside it.
    Rtcredit,
    /// sched=rtcredit sched-gran=core: RT refused.
    Gran,
    /// sched=rtcredit with a hostile domU.
    Hostile,
}

impl Boot {
    pub const ALL: [Boot; 4] = [Boot::Credit, Boot::Rtcredit, Boot::Gran, Boot::Hostile];

    pub fn name(self) -> &'static str {
        match self {
            Boot::Credit => "credit",
            Boot::Rtcredit => "rtcredit",
            Boot::Gran => "gran",
            Boot::Hostile => "hostile",
        }
    }
}

impl fmt::Display for Boot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown boot '{0}': fault-smoke.sh boots credit, rtcredit, gran or hostile")]
pub struct UnknownBoot(String);

impl FromStr for Boot {
    type Err = UnknownBoot;
    fn from_str(s: &str) -> Result<Boot, UnknownBoot> {
        Boot::ALL.into_iter().find(|b| b.name() == s).ok_or_else(|| UnknownBoot(s.to_owned()))
    }
}

/// What the harness configured and saw for one boot, named after its variables.
#[derive(Debug, Clone)]
pub struct Run {
    pub boot: Boot,
    /// VARIANT: the Xen build booted.
    pub variant: Variant,
    /// The boot's `qemu-status`: QEMU's exit status (124 or 137: killed by
    /// `timeout`) and how long it ran.
    pub qemu_rc: i32,
    pub boot_secs: u64,
    /// TIMEOUT: the seconds QEMU was given.
    pub timeout_secs: u64,
}

/// Judges the serial log of one boot.
pub fn judge(log: &Serial, run: &Run, crash: &CrashPattern) -> Verdict {
    let lines: Vec<&str> = log.lines().collect();
    let j = Judge { boot: run.boot, lines: &lines, crash };
    let mut checks = vec![j.boot_up(run.variant)];
    match run.boot {
        Boot::Credit => {
            checks.push(j.path("pool-create-rtcredit", &["rm-cpu1", "create-rt"], Notes::default()));
            let notes = j.granted("migrate-credit-to-rtcredit", "counters-rt");
            checks.push(j.path("migrate-credit-to-rtcredit", &["migrate-rt", "allow-rt", "counters-rt"], notes));
            checks.push(j.path(
                "migrate-rtcredit-to-credit",
                &["migrate-back", "migrate-rt2", "allow-rt2"],
                Notes::default(),
            ));
            checks.extend(j.vcpu_destroy());
            checks.push(j.path("pool-destroy-rtcredit", &["rm-cpu1-rt", "destroy-rt", "add-cpu1"], Notes::default()));
        }
        Boot::Rtcredit => {
            let notes = j.granted("rt-in-pool0", "counters-rt0");
            checks.push(j.path("rt-in-pool0", &["allow-rt0", "counters-rt0"], notes));
            checks.push(j.path("cpu-remove-rtcredit-pool", &["rm-cpu1"], Notes::default()));
            checks.push(j.path("migrate-rtcredit-to-credit", &["create-cr", "migrate-cr"], Notes::default()));
            let notes = j.granted("migrate-credit-to-rtcredit", "counters-rt1");
            checks.push(j.path("migrate-credit-to-rtcredit", &["migrate-back", "allow-rt1", "counters-rt1"], notes));
            checks.push(j.path(
                "cpu-readd-rtcredit-pool",
                &["rm-cpu1-cr", "destroy-cr", "add-cpu1", "rm-cpu1-again", "add-cpu1-again"],
                Notes::default(),
            ));
            checks.extend(j.vcpu_destroy());
        }
        Boot::Hostile => {
            let notes = j.hostile();
            checks.push(j.path("hostile-guest", &["allow-rt", "now0", "counters-h0", "now1", "counters-h1"], notes));
            checks.push(j.path("hostile-destroy", &["destroy"], Notes::default()));
        }
        Boot::Gran => {
            let notes = j.gran();
            // `schedop rtsleep` exits 1 when the hypercall returned an error.
            checks.push(j.path_expect(
                "sched-gran-core",
                &[("allow-rt", "0"), ("rtsleep", "1"), ("counters-gran", "0"), ("destroy", "0")],
                notes,
            ));
        }
    }
    checks.push(j.end(run));
    Verdict { checks }
}

/// What fault-smoke.sh prints after the checks of every boot it judged: the harness's
/// wall time, then `RESULT: all paths passed (debug Xen)` or `RESULT: N path(s)
/// failed (debug Xen)`.
pub fn report(verdicts: &[Verdict], elapsed_secs: u64, variant: Variant) -> String {
    let mut out = String::new();
    for check in verdicts.iter().flat_map(|v| &v.checks) {
        out += &format!("{check}\n");
    }
    out += &format!("elapsed: {elapsed_secs}s\n");
    out += &match verdicts.iter().map(Verdict::failures).sum::<usize>() {
        0 => format!("RESULT: all paths passed ({variant} Xen)\n"),
        n => format!("RESULT: {n} path(s) failed ({variant} Xen)\n"),
    };
    out
}

/// Further rules of a path, decided before its steps: reasons it fails (each ending
/// in a space, as the bash judge's EXTRA_FAIL) and details of a PASS (EXTRA_OK).
#[derive(Debug, Default)]
struct Notes {
    fail: String,
    ok: String,
}

struct Judge<'l> {
    boot: Boot,
    lines: &'l [&'l str],
    crash: &'l CrashPattern,
}

impl<'l> Judge<'l> {
    /// The lines of path `name`: from its marker to the next marker, for each time it
    /// appears; empty if it never started.
    fn segment(&self, name: &str) -> Vec<&'l str> {
        let marker = format!("{TAG}path {name}");
        let mut inside = false;
        let mut out = Vec::new();
        for &line in self.lines {
            if line == marker {
                inside = true;
            } else if line.starts_with("FAULT: path ") {
                inside = false;
            }
            if inside {
                out.push(line);
            }
        }
        out
    }

    /// The lines before the first path: the boot, the toolstack, `xl create`.
    fn preamble(&self) -> Vec<&'l str> {
        self.lines.iter().copied().take_while(|l| !l.starts_with("FAULT: path ")).collect()
    }

    /// The first two crash lines of `lines`, joined by spaces (each followed by one).
    fn crash_lines(&self, lines: &[&str]) -> String {
        lines.iter().filter(|l| self.crash.matches(l)).take(2).map(|l| format!("{l} ")).collect()
    }

    fn boot_up(&self, variant: Variant) -> Check {
        let pre = self.preamble();
        let created = rc_in(&pre, "xl-create");
        let crash = self.crash_lines(&pre);
        if created == Some("0") && crash.is_empty() {
            let sched = self
                .lines
                .iter()
                .find(|l| l.contains("Using scheduler"))
                .map_or("", |l| after_last(l, "Using scheduler: "));
            let nr_cpus = nr_cpus_re();
            let cpus: String = out_in(&pre, "xl-info", 2)
                .iter()
                .filter_map(|l| nr_cpus.captures(l).map(|c| format!("nr_cpus {}\n", &c[1])))
                .collect();
            // The bash judge's $( ... ) dropped the final newline only.
            Check::pass(format!(
                "{}/boot: {variant} Xen up ({sched}, {}), domU created",
                self.boot,
                cpus.trim_end_matches('\n')
            ))
        } else {
            Check::fail(format!("{}/boot: xl create rc={}; {crash}", self.boot, created.unwrap_or("")))
        }
    }

    /// Path `name` with every step expected to print rc=0.
    fn path(&self, name: &str, steps: &[&str], notes: Notes) -> Check {
        let steps: Vec<(&str, &str)> = steps.iter().map(|s| (*s, "0")).collect();
        self.path_expect(name, &steps, notes)
    }

    /// PASS when path `name` ran, each (step, rc) printed that rc, its part of the log
    /// has no crash line and `notes` has no reason to fail.
    fn path_expect(&self, name: &str, steps: &[(&str, &str)], notes: Notes) -> Check {
        let boot = self.boot;
        let seg = self.segment(name);
        if seg.is_empty() {
            return Check::fail(format!("{boot}/{name}: never started (a hang or crash before it)"));
        }
        let mut why = String::new();
        let mut detail = String::new();
        for &(step, want) in steps {
            match rc_in(&seg, step) {
                None => why += &format!(" {step}: no result (hang or crash);"),
                Some(got) if got != want => {
                    let out: String = out_in(&seg, step, 2)
                        .iter()
                        .map(|l| format!("{} ", l.split_once("| ").map_or(*l, |(_, rest)| rest)))
                        .collect();
                    why += &format!(" {step} rc={got} (want {want}: {out});");
                }
                Some(got) => detail += &format!(" {step}={got}"),
            }
        }
        let crash = self.crash_lines(&seg);
        if !crash.is_empty() {
            why += &format!(" crash: {crash}");
        }
        if !notes.fail.is_empty() {
            why += &format!(" {}", notes.fail);
        }
        if why.is_empty() {
            let ok = if notes.ok.is_empty() { String::new() } else { format!("; {}", notes.ok) };
            Check::pass(format!("{boot}/{name}:{detail}{ok}"))
        } else {
            Check::fail(format!("{boot}/{name}:{why}"))
        }
    }

    /// RT was served in path `name`: the domctl's counters printed by `step` show
    /// granted requests.
    fn granted(&self, name: &str, step: &str) -> Notes {
        let seg = self.segment(name);
        let line = out_in(&seg, step, 1).first().copied().unwrap_or("");
        let mut notes = Notes::default();
        match field(line, "rt_granted").parse::<u64>() {
            Ok(n) if n > 0 => notes.ok = format!("rt_granted={n} rt_fires={} ", field(line, "rt_fires")),
            _ => notes.fail = format!("no RT granted at {step} ('{line}') "),
        }
        notes
    }

    /// The VCPU and destroy paths that end the credit and rtcredit boots.
    fn vcpu_destroy(&self) -> [Check; 2] {
        let notes = self.granted("vcpu-offline-rt-armed", "counters-vcpu");
        [
            self.path("vcpu-offline-rt-armed", &["vcpu-set-1", "vcpu-set-2", "counters-vcpu"], notes),
            self.path("destroy-rt-armed", &["destroy"], Notes::default()),
        ]
    }

    /// The hostile guest: each VCPU's last tally (printed every 5 s) has calls and
    /// nothing unexpected; its RT time over the measured window is within its budget
    /// plus one RT quantum per VCPU per budget window, plus one window.
    fn hostile(&self) -> Notes {
        let mut notes = Notes::default();
        for cpu in 0..HOSTILE_VCPUS {
            let prefix = format!("FAULT-DOMU: schedop: hostile cpu={cpu} ");
            let Some(tally) = self.lines.iter().rev().find(|l| l.contains(&prefix)) else {
                notes.fail += &format!("no tally from the hostile process on CPU {cpu} ");
                continue;
            };
            let count = |key: &str| field(tally, key).parse::<u64>().ok();
            if field(tally, "unexpected") != "0" {
                notes.fail += &format!(
                    "CPU {cpu}: {} unexpected answers (last {}) ",
                    field(tally, "unexpected"),
                    field(tally, "last_unexpected")
                );
            }
            if !(count("rtsleeps").is_some_and(|n| n > 0) && count("granted").is_some_and(|n| n > 0)) {
                notes.fail += &format!("CPU {cpu}: no rtsleep granted ({tally}) ");
            }
            if !(count("domctl").is_some_and(|n| n > 0) && count("sysctl").is_some_and(|n| n > 0)) {
                notes.fail += &format!("CPU {cpu}: no domctl or sysctl tried ");
            }
            notes.ok += &format!(
                "cpu{cpu} {}: rtsleeps={} granted={} degraded={} einval={} erange={} etime={} domctl/sysctl={}/{} (all refused) unexpected=0; ",
                field(tally, "t"),
                field(tally, "rtsleeps"),
                field(tally, "granted"),
                field(tally, "degraded"),
                field(tally, "einval"),
                field(tally, "erange"),
                field(tally, "etime"),
                field(tally, "domctl"),
                field(tally, "sysctl"),
            );
        }
        let seg = self.segment("hostile-guest");
        let value =
            |step: &str, key: &str| out_in(&seg, step, 1).first().and_then(|l| field(l, key).parse::<u64>().ok());
        let pct_text = out_in(&seg, "counters-h1", 1).first().map_or("", |l| field(l, "rt_budget_pct"));
        match (
            value("now0", "xen_ns"),
            value("now1", "xen_ns"),
            value("counters-h0", "rt_ns"),
            value("counters-h1", "rt_ns"),
            pct_text.parse::<u64>().ok(),
        ) {
            (Some(n0), Some(n1), Some(r0), Some(r1), Some(pct)) if n1 >= n0 && r1 >= r0 => {
                let window_ns = n1 - n0;
                let rt_ns = r1 - r0;
                let limit_ns =
                    window_ns * pct / 100 + HOSTILE_VCPUS * RT_QUANTUM_NS * (window_ns / BUDGET_WINDOW_NS + 2);
                let (rt_ms, window_ms, limit_ms) = (rt_ns / 1_000_000, window_ns / 1_000_000, limit_ns / 1_000_000);
                if rt_ns <= limit_ns {
                    notes.ok +=
                        &format!("RT time {rt_ms} ms in {window_ms} ms at a {pct}% budget (limit {limit_ms} ms)");
                } else {
                    notes.fail += &format!(
                        "RT time {rt_ms} ms in {window_ms} ms is above the {pct}% budget (limit {limit_ms} ms) "
                    );
                }
            }
            _ => notes.fail += "no RT counters or Xen times to check the budget with ",
        }
        notes
    }

    /// Core granularity: Xen ran 2-CPU units, the pool said it refuses RT, and the
    /// domU's rtsleep answered -EOPNOTSUPP (-95).
    fn gran(&self) -> Notes {
        let mut notes = Notes::default();
        let said_re = Regex::new("rtcredit: cpupool .* CPUs per scheduling unit").expect("a valid pattern");
        let said = self
            .lines
            .iter()
            .find(|l| said_re.is_match(l))
            .map(|l| format!("rtcredit: {}", after_last(l, "rtcredit: ")))
            .unwrap_or_default();
        if !self.lines.iter().any(|l| l.contains("Scheduling granularity: core, 2 CPUs")) {
            let line = self.lines.iter().find(|l| l.contains("Scheduling granularity")).copied().unwrap_or("");
            notes.fail += &format!("Xen did not run with 2-CPU units ({line}) ");
        }
        if said.is_empty() {
            notes.fail += "no 'CPUs per scheduling unit' line in the Xen log ";
        }
        let seg = self.segment("sched-gran-core");
        let rtsleep = out_in(&seg, "rtsleep", 1).first().copied().unwrap_or("");
        if field(rtsleep, "rc") != "-95" {
            notes.fail += &format!("rtsleep did not answer -95 ({rtsleep}) ");
        }
        let head: String = said.chars().take(60).collect();
        notes.ok = format!("rtsleep rc=-95 (-EOPNOTSUPP); log: '{head}...'");
        notes
    }

    fn end(&self, run: &Run) -> Check {
        let boot = self.boot;
        let bad = self.crash_lines(self.lines);
        let finished = self.lines.iter().filter(|l| l.starts_with("FAULT: init finished")).count();
        if run.qemu_rc == 0 && finished > 0 && bad.is_empty() {
            Check::pass(format!(
                "{boot}/end: dom0 finished, QEMU exited cleanly after {}s, no crash line in the log",
                run.boot_secs
            ))
        } else if run.qemu_rc == 124 || run.qemu_rc == 137 {
            let last = self.lines.iter().rev().find(|l| l.starts_with(TAG)).copied().unwrap_or("");
            Check::fail(format!("{boot}/end: hang: QEMU killed after {}s (last: {last})", run.timeout_secs))
        } else {
            let bad = if bad.is_empty() { "none".to_owned() } else { bad };
            Check::fail(format!("{boot}/end: QEMU rc={}, init finished: {finished}, crash: {bad}", run.qemu_rc))
        }
    }
}

/// The rc of `step` in `lines` (its last `FAULT: STEP rc=N`), `None` if it never
/// printed one: a hang or a crash before it.
fn rc_in<'l>(lines: &[&'l str], step: &str) -> Option<&'l str> {
    let start = format!("{TAG}{step} rc=");
    lines.iter().rev().find(|l| l.starts_with(&start)).map(|l| after_last(l, " rc="))
}

/// The last `n` output lines of `step` (`FAULT: STEP| LINE`), in order.
fn out_in<'l>(lines: &[&'l str], step: &str, n: usize) -> Vec<&'l str> {
    let start = format!("{TAG}{step}| ");
    let all: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with(&start)).collect();
    all[all.len().saturating_sub(n)..].to_vec()
}

/// `xl info`'s CPU count line, as the step prints it.
fn nr_cpus_re() -> Regex {
    Regex::new(r"\| nr_cpus *: *(.*)$").expect("a valid pattern")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &[&str] = &[
        "FAULT: xl-create rc=0",
        "FAULT: path a",
        "FAULT: s| one",
        "FAULT: s| two",
        "FAULT: s| three",
        "FAULT: s rc=1",
        "FAULT: path b",
        "FAULT: s rc=0",
    ];

    fn judge_of<'l>(lines: &'l [&'l str], crash: &'l CrashPattern) -> Judge<'l> {
        Judge { boot: Boot::Credit, lines, crash }
    }

    #[test]
    fn a_path_is_the_log_from_its_marker_to_the_next() {
        let crash = CrashPattern::new("PANIC").unwrap();
        let j = judge_of(LOG, &crash);
        assert_eq!(j.segment("a").len(), 5);
        assert_eq!(j.segment("b"), ["FAULT: path b", "FAULT: s rc=0"]);
        assert!(j.segment("c").is_empty());
        assert!(j.segment("").is_empty(), "a marker is the whole line");
        assert_eq!(j.preamble(), ["FAULT: xl-create rc=0"]);
        assert_eq!(rc_in(&j.segment("a"), "s"), Some("1"));
        assert_eq!(out_in(&j.segment("a"), "s", 2), ["FAULT: s| two", "FAULT: s| three"]);
    }

    #[test]
    fn a_path_fails_on_a_wrong_rc_with_the_steps_last_output() {
        let crash = CrashPattern::new("PANIC").unwrap();
        let j = judge_of(LOG, &crash);
        let check = j.path("a", &["s", "t"], Notes::default());
        assert_eq!(check.to_string(), "FAIL: credit/a: s rc=1 (want 0: two three ); t: no result (hang or crash);");
        assert_eq!(j.path("b", &["s"], Notes::default()).to_string(), "PASS: credit/b: s=0");
        let notes = Notes { fail: String::new(), ok: "x".into() };
        assert_eq!(j.path("b", &["s"], notes).to_string(), "PASS: credit/b: s=0; x");
        let notes = Notes { fail: "why ".into(), ok: "x".into() };
        assert_eq!(j.path("b", &["s"], notes).to_string(), "FAIL: credit/b: why ");
        assert_eq!(
            j.path("c", &["s"], Notes::default()).to_string(),
            "FAIL: credit/c: never started (a hang or crash before it)"
        );
    }

    #[test]
    fn a_crash_line_fails_only_its_path() {
        let mut log = LOG.to_vec();
        log.insert(7, "(XEN) PANIC on CPU 1");
        let crash = CrashPattern::new("PANIC").unwrap();
        let j = judge_of(&log, &crash);
        assert_eq!(j.path("b", &["s"], Notes::default()).to_string(), "FAIL: credit/b: crash: (XEN) PANIC on CPU 1 ");
        assert!(!j.path("a", &["s"], Notes::default()).passed);
        assert!(j.path_expect("a", &[("s", "1")], Notes::default()).passed);
    }

    #[test]
    fn a_boot_name_is_one_of_four() {
        assert_eq!("gran".parse::<Boot>().unwrap(), Boot::Gran);
        let err = "Gran".parse::<Boot>().unwrap_err().to_string();
        assert!(err.contains("'Gran'") && err.contains("credit, rtcredit, gran or hostile"), "{err}");
    }
}
