//! The rules of `hypervisor/xen/xl-smoke.sh`: `xl create` of a capped PV domU under
//! one scheduler, its parameters read back and changed, and under rtcredit the domU's
//! own RT request, the RT columns and a second cpupool.
//!
//! dom0's `/init` (`hypervisor/xen/init/xl-smoke-dom0.sh` after `dom0_toolstack_init
//! XLSMOKE` of lib-initramfs.sh) prints, for each step NAME it runs, the step's output
//! as `XLSMOKE: NAME| LINE` and then `XLSMOKE: NAME rc=N`; a few lines are free text
//! (`XLSMOKE: xenfs mounted`, `XLSMOKE: waited 9s for the guest`). The checks read
//! those lines, Xen's `Using scheduler:` line, and every line for a crash.
//!
//! 16 checks under credit and credit2, 29 under rtcredit, in the order and with the
//! texts of the bash judge they replace. Where several lines match and the bash judge
//! printed them on several lines, a check's text puts them on one, joined by spaces.
//! Every value a check compares is compared as text, as the bash judge did (`"512"`
//! is the weight 512, `"0512"` is not).

use std::fmt;
use std::str::FromStr;

use crate::{after_last, field, Check, CrashPattern, Serial, Verdict};

/// The start of every line dom0's `/init` prints for the host.
const TAG: &str = "XLSMOKE: ";

/// Crash words this harness adds to the shared list: Xen's `domain_crash` and a
/// domain `crashed` (`on_crash = "preserve"` keeps a crashed domU around, silently).
const MORE_CRASH_WORDS: [&str; 2] = ["domain_crash", "crashed"];

/// Xen's `sched=` option for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sched {
    Rtcredit,
    Credit,
    Credit2,
}

impl Sched {
    pub fn name(self) -> &'static str {
        match self {
            Sched::Rtcredit => "rtcredit",
            Sched::Credit => "credit",
            Sched::Credit2 => "credit2",
        }
    }

    /// The `xl` command that reads and sets a domain's parameters under this scheduler.
    pub fn xl_command(self) -> &'static str {
        match self {
            Sched::Rtcredit => "sched-rtcredit",
            Sched::Credit => "sched-credit",
            Sched::Credit2 => "sched-credit2",
        }
    }
}

impl fmt::Display for Sched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown scheduler '{0}': xl-smoke.sh runs rtcredit, credit or credit2")]
pub struct UnknownSched(String);

impl FromStr for Sched {
    type Err = UnknownSched;
    fn from_str(s: &str) -> Result<Sched, UnknownSched> {
        match s {
            "rtcredit" => Ok(Sched::Rtcredit),
            "credit" => Ok(Sched::Credit),
            "credit2" => Ok(Sched::Credit2),
            _ => Err(UnknownSched(s.to_owned())),
        }
    }
}

/// What the harness configured and saw, named after its variables.
#[derive(Debug, Clone)]
pub struct Run {
    /// SCHED
    pub sched: Sched,
    /// QEMU_RC: QEMU's exit status (124 or 137: killed by `timeout`).
    pub qemu_rc: i32,
    /// BOOT_SECS: how long QEMU ran.
    pub boot_secs: u64,
    /// TIMEOUT: the seconds QEMU was given.
    pub timeout_secs: u64,
    /// CAP, WEIGHT: the domU's xl.cfg `cap` and `cpu_weight`.
    pub cap: u32,
    pub weight: u32,
    /// WEIGHT2: set afterwards with `xl sched-* -w`; the cap must stay.
    pub weight2: u32,
    /// RT_BUDGET, RT_RATE: xl.cfg's `rtcredit_rt_budget` and `rtcredit_rt_rate`.
    pub rt_budget: u32,
    pub rt_rate: u32,
    /// RT_BUDGET2: set afterwards with `xl sched-rtcredit -b`.
    pub rt_budget2: u32,
    /// MARKER: what the domU prints once it has made its RT request.
    pub marker: String,
}

/// Judges a serial log of xl-smoke.sh.
pub fn judge(log: &Serial, run: &Run, crash: &CrashPattern) -> Verdict {
    let s = Steps { log };
    let mut checks = vec![
        qemu(run),
        crashes(log, crash),
        scheduler(log, run.sched),
        modules(&s),
        toolstack(&s),
        xl_info(&s, run.sched),
    ];
    checks.extend(domain_params(&s, run));
    if run.sched == Sched::Rtcredit {
        checks.extend(rt_params(&s, run));
        checks.extend(pools(&s));
    }
    checks.extend(guest_trace_destroy(&s, run));
    Verdict { checks }
}

/// The harness's output after the serial log's path: one line per check, then, with
/// `elapsed_secs` (the harness's wall time so far), `elapsed: ...`, then `RESULT: ...`.
pub fn report(verdict: &Verdict, run: &Run, elapsed_secs: Option<u64>) -> String {
    verdict.report(elapsed_secs.map(|secs| (secs, run.boot_secs)), &format!(" (sched={})", run.sched))
}

fn qemu(run: &Run) -> Check {
    match run.qemu_rc {
        0 => Check::pass(format!("QEMU exited cleanly after {}s", run.boot_secs)),
        124 | 137 => Check::fail(format!("QEMU timed out after {}s", run.timeout_secs)),
        rc => Check::fail(format!("QEMU exited with status {rc}")),
    }
}

fn crashes(log: &Serial, crash: &CrashPattern) -> Check {
    let bad: Vec<&str> =
        log.lines().filter(|l| crash.matches(l) || MORE_CRASH_WORDS.iter().any(|w| l.contains(w))).take(3).collect();
    Check::new(
        bad.is_empty(),
        || "no Xen panic/ASSERT, no dom0 or domU crash".into(),
        || format!("crash in the log: {}", bad.join(" ")),
    )
}

/// Xen's `Using scheduler: RT-Credit Scheduler (rtcredit)`.
fn scheduler(log: &Serial, sched: Sched) -> Check {
    const USING: &str = "Using scheduler: ";
    let wanted = format!("({sched})");
    let uses = log.lines().any(|l| l.find(USING).is_some_and(|i| l[i + USING.len()..].contains(&wanted)));
    Check::new(
        uses,
        || format!("Xen uses scheduler '{sched}'"),
        || {
            let seen: Vec<&str> = log.lines().filter(|l| l.contains("Using scheduler")).collect();
            let seen = if seen.is_empty() { "none".to_owned() } else { seen.join(" ") };
            format!("Xen does not use scheduler '{sched}': {seen}")
        },
    )
}

/// `XLSMOKE: modules 4 listed, 4 loaded` and `XLSMOKE: xenfs mounted`.
fn modules(s: &Steps) -> Check {
    let loaded: Vec<String> = s.lines("modules ").iter().filter_map(|l| loaded_count(l)).collect();
    let loaded = loaded.join(" ");
    Check::new(
        loaded.parse::<i64>().is_ok_and(|n| n >= 4) && s.has("xenfs mounted"),
        || format!("dom0 modules loaded ({loaded}), xenfs mounted"),
        || format!("dom0 modules/xenfs: {} {}", one_line(&s.lines("modules ")), one_line(&s.lines("insmod"))),
    )
}

fn toolstack(s: &Steps) -> Check {
    Check::new(
        s.has("xenstored socket up") && s.rc("init-dom0") == Some("0") && s.rc("xenconsoled") == Some("0"),
        || "xenstored, xen-init-dom0 and xenconsoled started".into(),
        || {
            format!(
                "toolstack start: {} {} {}",
                one_line(&s.lines("xenstored socket")),
                one_line(&s.lines("init-dom0")),
                one_line(&s.lines("xenconsoled"))
            )
        },
    )
}

/// `xl info`'s `xen_scheduler          : rtcredit`.
fn xl_info(s: &Steps, sched: Sched) -> Check {
    let wanted = format!(": {sched}");
    let found = s.lines_where("xl-info-sched| xen_scheduler", |rest| rest.trim_start_matches(' ') == wanted);
    Check::new(
        !found.is_empty(),
        || format!("xl info: xen_scheduler = {sched}"),
        || format!("xl info: {}", one_line(&s.lines("xl-info-sched"))),
    )
}

/// `xl create`, `xl list`, the weight and cap read back three ways, and `-w WEIGHT2`.
fn domain_params(s: &Steps, run: &Run) -> Vec<Check> {
    let (cap, weight, weight2, cmd) = (run.cap, run.weight, run.weight2, run.sched.xl_command());
    let mut checks = Vec::new();
    checks.push(Check::new(
        s.rc("xl-create") == Some("0"),
        || {
            format!(
                "xl create domu (cap={cap} cpu_weight={weight} rtcredit_rt=1 rtcredit_rt_budget={} rtcredit_rt_rate={}) rc=0",
                run.rt_budget, run.rt_rate
            )
        },
        || format!("xl create: {}", one_line(tail(&s.lines("xl-create"), 8))),
    ));
    let listed = s.lines("xl-list| domu ");
    checks.push(Check::new(
        !listed.is_empty(),
        || format!("xl list shows domu: {}", rows(&listed)),
        || format!("xl list does not show domu: {}", one_line(&s.lines("xl-list"))),
    ));
    let row = s.columns("sched-get", &[3, 4]);
    checks.push(Check::new(
        row == format!("{weight} {cap}"),
        || format!("xl {cmd} -d domu: weight {weight}, cap {cap}"),
        || {
            format!(
                "xl {cmd} -d domu: expected weight/cap '{weight} {cap}', got '{row}' ({})",
                spaced(tail(&s.lines("sched-get|"), 2))
            )
        },
    ));
    checks.push(Check::new(
        s.has_json_line("list-l|", "cap", &cap.to_string())
            && s.has_json_line("list-l|", "weight", &weight.to_string()),
        || format!("xl list -l: sched_params weight {weight}, cap {cap}"),
        || format!("xl list -l sched_params: {}", s.list_l()),
    ));
    let row = s.columns("sched-get2", &[3, 4]);
    checks.push(Check::new(
        s.rc("sched-set-weight") == Some("0") && row == format!("{weight2} {cap}"),
        || format!("xl {cmd} -d domu -w {weight2}: weight {weight2}, cap still {cap}"),
        || format!("after xl {cmd} -w {weight2}: rc={}, weight/cap '{row}'", rc_text(s.rc("sched-set-weight"))),
    ));
    checks
}

/// Under rtcredit: the RT keys in Xen (raw domctl), the guest's own request granted
/// from them, the RT columns of xl, and changing and refusing them.
fn rt_params(s: &Steps, run: &Run) -> Vec<Check> {
    let (cap, weight, weight2) = (run.cap.to_string(), run.weight.to_string(), run.weight2.to_string());
    let (budget, rate, budget2) = (run.rt_budget.to_string(), run.rt_rate.to_string(), run.rt_budget2.to_string());
    let d1 = s.last("domctl-get| schedop: rtcredit-dom").unwrap_or("");
    let d2 = s.last("domctl-get2| schedop: rtcredit-dom").unwrap_or("");
    let mut checks = Vec::new();
    checks.push(Check::new(
        field(d1, "weight") == weight
            && field(d1, "cap") == cap
            && field(d1, "rc") == "0"
            && field(d2, "weight") == weight2
            && field(d2, "cap") == cap
            && field(d1, "rt_allowed") == "1"
            && field(d1, "rt_budget_pct") == budget
            && field(d1, "rt_rate_per_s") == rate
            && field(d2, "rt_allowed") == "1"
            && field(d2, "rt_budget_pct") == budget,
        || {
            format!(
                "domctl (schedop): the xl.cfg keys are in Xen from xl create (rt_allowed=1, budget {budget}%, rate {rate}/s, weight {weight}, cap {cap}); after -w {weight2} only the weight changed"
            )
        },
        || format!("domctl (schedop): '{d1}' / '{d2}'"),
    ));
    // The guest's own request, before anything in dom0 touched its RT.
    let status = s.last("guestlog| XLSMOKE-DOMU-STATUS ").map_or("", |l| after_last(l, "STATUS "));
    let (requests, granted) = (field(d1, "rt_requests"), field(d1, "rt_granted"));
    checks.push(Check::new(
        status.contains(r#""rt_state":"accepted""#) && granted.parse::<i64>().is_ok_and(|n| n >= 1) && requests == granted,
        || {
            format!(
                "the domU's first request through /dev/rtsleep was granted from its xl.cfg keys alone: guest rt_state accepted, domctl rt_requests={requests} rt_granted={granted}"
            )
        },
        || {
            format!(
                "the domU's own RT request: status '{status}', domctl '{d1}' ({})",
                spaced(&s.lines("guestlog| XLSMOKE-DOMU "))
            )
        },
    ));
    let row = s.columns("sched-get", &[5, 6, 7]);
    let wanted = format!("allow {budget} {rate}");
    checks.push(Check::new(
        row == wanted,
        || format!("xl sched-rtcredit -d domu: RT allow, budget {budget}, rate {rate}"),
        || format!("xl sched-rtcredit -d domu RT columns: expected '{wanted}', got '{row}'"),
    ));
    checks.push(Check::new(
        s.has_json_line("list-l|", "rtcredit_rt", r#""True""#)
            && s.has_json_line("list-l|", "rtcredit_rt_budget", &budget)
            && s.has_json_line("list-l|", "rtcredit_rt_rate", &rate),
        || format!("xl list -l: sched_params rtcredit_rt True, rtcredit_rt_budget {budget}, rtcredit_rt_rate {rate}"),
        || format!("xl list -l RT sched_params: {}", s.list_l()),
    ));
    let d3 = s.last("domctl-get3| schedop: rtcredit-dom").unwrap_or("");
    let row = s.columns("sched-get3", &[5, 6, 7]);
    checks.push(Check::new(
        s.rc("sched-rt-deny") == Some("0")
            && s.rc("sched-budget") == Some("0")
            && row == format!("deny {budget2} {rate}")
            && field(d3, "rt_allowed") == "0"
            && field(d3, "rt_budget_pct") == budget2
            && field(d3, "weight") == weight2,
        || {
            format!(
                "xl sched-rtcredit --rt=deny then -b {budget2}: {row} (domctl: rt_allowed=0, budget {budget2}%, weight still {weight2})"
            )
        },
        || {
            format!(
                "xl sched-rtcredit --rt=deny / -b: rc={}/{}, row '{row}', domctl '{d3}'",
                rc_text(s.rc("sched-rt-deny")),
                rc_text(s.rc("sched-budget"))
            )
        },
    ));
    checks.push(refused(s, "sched-bad-budget", "RT budget out of range", "xl sched-rtcredit -b 150"));
    checks
}

/// A step that must fail: an rc other than 0 (no rc line counts, as in the bash
/// judge) and `why` (words that end in "out of range") in its output. PASS shows the
/// first of its lines that says "out of range".
fn refused(s: &Steps, step: &str, why: &str, what: &str) -> Check {
    let head = format!("{step}| ");
    Check::new(
        s.rc(step) != Some("0") && s.has_where(&head, |rest| rest.contains(why)),
        || {
            let said = s.lines_where(&head, |rest| rest.contains("out of range"));
            format!("{what} refused: {}", said.first().map_or("", |l| after_last(l, "| ")))
        },
        || format!("{what}: rc={} {}", rc_text(s.rc(step)), spaced(&s.lines(&format!("{step}|")))),
    )
}

/// Under rtcredit: the second cpupool. xl made it, rtcredit-ctl reads and sets it by
/// name and id, leaves pool 0 alone, and names the credit2 pool as not ours.
fn pools(s: &Steps) -> Vec<Check> {
    let mut checks = Vec::new();
    let rtpool = s.lines("pool-list| rtpool ");
    checks.push(Check::new(
        s.rc("pool-remove") == Some("0") && s.rc("pool-create") == Some("0") && !rtpool.is_empty(),
        || format!("xl cpupool-create rtpool sched=rtcredit on CPU 1: {}", rows(&rtpool)),
        || {
            format!(
                "cpupool rtpool: rc={}/{} {} {}",
                rc_text(s.rc("pool-remove")),
                rc_text(s.rc("pool-create")),
                spaced(&s.lines("pool-create|")),
                spaced(&s.lines("pool-list|"))
            )
        },
    ));
    checks.push(Check::new(
        s.rc("ctl-pool") == Some("0")
            && s.json("ctl-pool", "cpupool_name") == r#""rtpool""#
            && s.json("ctl-pool", "pool_cpus") == "1"
            && s.json("ctl-pool", "slice_ms") == "30",
        || {
            format!(
                "rtcredit-ctl sched -p rtpool: cpupool {}, 1 CPU, slice 30 ms, RT capacity {}%",
                s.json("ctl-pool", "cpupool"),
                s.json("ctl-pool", "rt_pool_capacity_pct")
            )
        },
        || {
            let lines: Vec<String> = s.lines("ctl-pool|").iter().map(|l| l.replace(' ', "")).collect();
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            format!("rtcredit-ctl sched -p rtpool: rc={} {}", rc_text(s.rc("ctl-pool")), spaced(&lines))
        },
    ));
    checks.push(Check::new(
        s.rc("ctl-pool-set") == Some("0")
            && s.json("ctl-pool-get", "slice_ms") == "20"
            && s.json("ctl-pool-get", "rt_capacity_pct") == "80"
            && s.json("ctl-pool0", "slice_ms") == "30"
            && s.json("ctl-pool0", "rt_capacity_pct") == "50",
        || {
            "rtcredit-ctl sched -p rtpool -t 20 --rt-capacity-pct 80: pool 1 has them (read back by id), pool 0 keeps 30 ms / 50%"
                .into()
        },
        || {
            format!(
                "rtcredit-ctl -p set: rc={} pool1 '{}' pool0 '{}'",
                rc_text(s.rc("ctl-pool-set")),
                squashed(&s.lines("ctl-pool-get|")),
                squashed(&s.lines("ctl-pool0|"))
            )
        },
    ));
    let pool0 =
        "xl-s0| Cpupool Pool-0: tslice=30ms ratelimit=1000us min-period=1000us max-lead=10000ms rt-capacity=50% ";
    checks.push(Check::new(
        s.has(pool0),
        || format!("xl sched-rtcredit -s: {}", s.first_said("xl-s0| ")),
        || format!("xl sched-rtcredit -s: rc={} {}", rc_text(s.rc("xl-s0")), spaced(&s.lines("xl-s0|"))),
    ));
    checks.push(Check::new(
        s.rc("xl-s-set") == Some("0")
            && s.has_where("xl-s1| Cpupool rtpool: tslice=25ms ", |rest| rest.contains("rt-capacity=70% (cpus=1 "))
            && s.json("ctl-pool-get2", "slice_ms") == "25"
            && s.json("ctl-pool-get2", "rt_capacity_pct") == "70",
        || {
            format!(
                "xl sched-rtcredit -s -p rtpool -t 25 --rt-capacity=70: {}; rtcredit-ctl reads the same",
                s.first_said("xl-s1| ")
            )
        },
        || {
            format!(
                "xl sched-rtcredit -s -p rtpool set: rc={} {} / {} / {}",
                rc_text(s.rc("xl-s-set")),
                spaced(&s.lines("xl-s-set|")),
                spaced(&s.lines("xl-s1|")),
                squashed(&s.lines("ctl-pool-get2|"))
            )
        },
    ));
    checks.push(refused(s, "xl-s-bad", "Time slice out of range", "xl sched-rtcredit -s -t 0"));
    checks.push(Check::new(
        s.rc("pool-create2") == Some("0")
            && s.rc("ctl-pool-c2") == Some("1")
            && s.has_where("ctl-pool-c2| ", |rest| rest.contains("does not run sched=rtcredit")),
        || format!("rtcredit-ctl sched -p c2pool (credit2) refused: {}", s.first_said("ctl-pool-c2| ")),
        || {
            format!(
                "rtcredit-ctl -p c2pool: create rc={}, rc={} {} {}",
                rc_text(s.rc("pool-create2")),
                rc_text(s.rc("ctl-pool-c2")),
                spaced(&s.lines("ctl-pool-c2|")),
                spaced(&s.lines("pool-create2|"))
            )
        },
    ));
    checks
}

/// The domU's marker, xentrace, `xl destroy`, and the end of dom0's `/init`.
fn guest_trace_destroy(s: &Steps, run: &Run) -> Vec<Check> {
    let mut checks = Vec::new();
    let marker = s.lines_where("guestlog| ", |rest| rest.contains(run.marker.as_str()));
    let waited: Vec<&str> = s.lines("waited").iter().map(|l| after_last(l, "waited ")).collect();
    checks.push(Check::new(
        !marker.is_empty(),
        || {
            format!(
                "domU marker in xenconsoled's guest-domu.log: {} ({})",
                after_last(marker[0], "| "),
                one_line(&waited)
            )
        },
        || {
            format!(
                "no domU marker in guest-domu.log ({}; {})",
                one_line(&s.lines("waited")),
                spaced(tail(&s.lines("guestlog"), 3))
            )
        },
    ));
    let bytes: Vec<&str> = s.lines("trace bytes=").iter().map(|l| after_last(l, "bytes=")).collect();
    let bytes = one_line(&bytes);
    checks.push(Check::new(
        s.rc("xentrace") == Some("0") && bytes.parse::<i64>().is_ok_and(|n| n > 0) && s.rc("xenalyze") == Some("0"),
        || format!("xentrace recorded {bytes} bytes in 1 s, xenalyze --summary read them"),
        || {
            format!(
                "xentrace/xenalyze: rc={}/{} bytes={bytes} {}",
                rc_text(s.rc("xentrace")),
                rc_text(s.rc("xenalyze")),
                spaced(tail(&s.lines("xentrace|"), 2))
            )
        },
    ));
    let running = s.lines("xl-list2| domu ");
    checks.push(Check::new(
        !running.is_empty(),
        || format!("domu still running before destroy: {}", rows(&running)),
        || format!("domu gone before destroy: {}", one_line(&s.lines("xl-list2"))),
    ));
    checks.push(Check::new(
        s.rc("xl-destroy") == Some("0") && !s.has("xl-list3| domu ") && s.has("xl-list3| Domain-0 "),
        || "xl destroy domu rc=0, xl list shows only Domain-0".into(),
        || format!("xl destroy: rc={} {}", rc_text(s.rc("xl-destroy")), spaced(&s.lines("xl-list3"))),
    ));
    checks.push(Check::new(
        s.has("init finished"),
        || "dom0 /init finished".into(),
        || {
            let last = s.log.lines().filter(|l| l.starts_with(TAG.trim_end())).last().unwrap_or("");
            format!("dom0 /init did not finish (last: {last})")
        },
    ));
    checks
}

/// dom0's step lines of a log.
struct Steps<'a> {
    log: &'a Serial,
}

impl<'a> Steps<'a> {
    /// Whole lines that start with `XLSMOKE: PREFIX` (the bash judge's `S PREFIX`).
    fn lines(&self, prefix: &str) -> Vec<&'a str> {
        self.lines_where(prefix, |_| true)
    }

    /// Those whose text after the prefix passes `rest`.
    fn lines_where(&self, prefix: &str, rest: impl Fn(&str) -> bool) -> Vec<&'a str> {
        self.log
            .lines()
            .filter(|l| l.strip_prefix(TAG).and_then(|r| r.strip_prefix(prefix)).is_some_and(&rest))
            .collect()
    }

    fn has(&self, prefix: &str) -> bool {
        self.has_where(prefix, |_| true)
    }

    fn has_where(&self, prefix: &str, rest: impl Fn(&str) -> bool) -> bool {
        !self.lines_where(prefix, rest).is_empty()
    }

    /// What the first line of `prefix` says after its `| `; empty if there is none.
    fn first_said(&self, prefix: &str) -> &'a str {
        self.lines(prefix).first().map_or("", |l| after_last(l, "| "))
    }

    fn last(&self, prefix: &str) -> Option<&'a str> {
        self.lines(prefix).last().copied()
    }

    /// The exit status of the last run of a step (`XLSMOKE: STEP rc=N`), as text.
    fn rc(&self, step: &str) -> Option<&'a str> {
        self.last(&format!("{step} rc=")).map(|l| after_last(l, " rc="))
    }

    /// Columns (1-based, blank-separated) of the last `domu` row of a step's table:
    /// `xl sched-* -d domu` prints Name ID Weight Cap, and under rtcredit RT Budget
    /// Rate. Joined by one space, a missing column empty; no row, empty.
    fn columns(&self, step: &str, columns: &[usize]) -> String {
        let Some(line) = self.last(&format!("{step}| domu ")) else { return String::new() };
        let words: Vec<&str> = after_last(line, "| ").split([' ', '\t']).filter(|w| !w.is_empty()).collect();
        let picked: Vec<&str> = columns.iter().map(|&c| words.get(c - 1).copied().unwrap_or("")).collect();
        picked.join(" ")
    }

    /// One value of the JSON a step printed (rtcredit-ctl's `--json`), as text: the
    /// step's lines with their spaces removed, run together, and what follows the last
    /// `"KEY":` up to a comma or brace. Empty if the key is not there.
    fn json(&self, step: &str, key: &str) -> String {
        let text: String = self.lines(&format!("{step}| ")).iter().map(|l| after_last(l, "| ")).collect();
        let text = text.replace(' ', "");
        let start = format!("\"{key}\":");
        match text.rfind(&start) {
            Some(i) => text[i + start.len()..].split([',', '}']).next().unwrap_or("").to_owned(),
            None => String::new(),
        }
    }

    /// A line of `xl list -l`'s JSON that is exactly `"KEY": VALUE` (a comma after it
    /// or not), indented.
    fn has_json_line(&self, prefix: &str, key: &str, value: &str) -> bool {
        let exact = format!("\"{key}\": {value}");
        self.has_where(prefix, |rest| {
            let rest = rest.trim_start_matches(' ');
            rest == exact || rest.strip_suffix(',') == Some(exact.as_str())
        })
    }

    /// `xl list -l`'s lines for a FAIL: runs of spaces squeezed.
    fn list_l(&self) -> String {
        let lines: Vec<String> = self.lines("list-l").iter().map(|l| squeeze(l)).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        spaced(&lines)
    }
}

/// `N` of `... N loaded`: the digits between the last ` ` and ` loaded` that frame
/// them, with what follows ` loaded` (`sed -n 's/.* \([0-9]*\) loaded/\1/p'`).
fn loaded_count(line: &str) -> Option<String> {
    line.rmatch_indices(" loaded").find_map(|(i, m)| {
        let head = &line[..i];
        let digits = head.trim_end_matches(|c: char| c.is_ascii_digit());
        digits.ends_with(' ').then(|| format!("{}{}", &head[digits.len()..], &line[i + m.len()..]))
    })
}

/// The last `n` lines.
fn tail<'v, 'l>(lines: &'v [&'l str], n: usize) -> &'v [&'l str] {
    &lines[lines.len().saturating_sub(n)..]
}

/// Several lines on one line, one space between them.
fn one_line(lines: &[&str]) -> String {
    lines.join(" ")
}

/// Each line followed by a space (the bash judge's `tr '\n' ' '`).
fn spaced(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l} ")).collect()
}

/// Lines with every space removed, run together (`tr -d ' \n'`).
fn squashed(lines: &[&str]) -> String {
    lines.concat().replace(' ', "")
}

/// Runs of spaces as one (`tr -s ' '`).
fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out
}

/// Table rows of a step for a PASS: what follows `| `, spaces squeezed, on one line.
fn rows(lines: &[&str]) -> String {
    let rows: Vec<String> = lines.iter().map(|l| squeeze(after_last(l, "| "))).collect();
    rows.join(" ")
}

fn rc_text(rc: Option<&str>) -> &str {
    rc.unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_helpers_do_what_the_sed_and_tr_of_the_bash_judge_did() {
        assert_eq!(loaded_count("XLSMOKE: modules 4 listed, 4 loaded").as_deref(), Some("4"));
        assert_eq!(loaded_count("XLSMOKE: modules 4 listed, 12 loaded, 0 failed").as_deref(), Some("12, 0 failed"));
        assert_eq!(loaded_count("XLSMOKE: modules none loaded"), None);
        assert_eq!(squeeze("a   b  c"), "a b c");
        assert_eq!(tail(&["a", "b", "c"], 2), ["b", "c"]);
        assert_eq!(tail(&["a"], 8), ["a"]);
        assert_eq!(spaced(&["a", "b"]), "a b ");
    }

    #[test]
    fn columns_and_json_read_the_last_row_and_the_last_key() {
        let log = Serial::from_bytes(
            b"XLSMOKE: sched-get| domu 1 100 10\r\n\
              XLSMOKE: sched-get| domu  1\t512   20 allow 20 500\r\n\
              XLSMOKE: ctl-pool| {\n\
              XLSMOKE: ctl-pool|   \"cpupool\": 1,\n\
              XLSMOKE: ctl-pool|   \"cpupool_name\": \"rt pool\"\n\
              XLSMOKE: ctl-pool| }\n",
        );
        let s = Steps { log: &log };
        assert_eq!(s.columns("sched-get", &[3, 4]), "512 20");
        assert_eq!(s.columns("sched-get", &[5, 6, 7, 8]), "allow 20 500 ");
        assert_eq!(s.columns("sched-get2", &[3, 4]), "");
        assert_eq!(s.json("ctl-pool", "cpupool"), "1");
        assert_eq!(s.json("ctl-pool", "cpupool_name"), "\"rtpool\"");
        assert_eq!(s.json("ctl-pool", "slice_ms"), "");
    }
}
