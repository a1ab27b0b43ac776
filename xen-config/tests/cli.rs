//! The commands end to end against the in-memory backend (`FakeBackend`), and the
//! built binary for what needs no Xen (and for the error it gives without Xen).

use std::process::Command;

use clap::Parser;
use rtcredit_config::cli::{run, Cli};
use rtcredit_config::fake::FakeBackend;
use rtcredit_config::{Backend, DomainId, Error, PoolId};

/// Runs `rtcredit-ctl ARGS` on `fake`; returns the exit status (or the error text)
/// and stdout. The backend is handed back through `fake`.
fn ctl(fake: &mut FakeBackend, args: &[&str]) -> (Result<i32, String>, String) {
    let cli =
        Cli::try_parse_from(std::iter::once("rtcredit-ctl").chain(args.iter().copied())).expect("arguments parse");
    let mut out = Vec::new();
    let shared = std::rc::Rc::new(std::cell::RefCell::new(Some(fake.clone())));
    let handle = shared.clone();
    let mut open =
        move || -> Result<Box<dyn Backend>, Error> { Ok(Box::new(Shared(handle.clone())) as Box<dyn Backend>) };
    let result = run(cli, &mut open, &mut out).map_err(|e| e.to_string());
    if let Some(after) = shared.borrow_mut().take() {
        *fake = after;
    }
    (result, String::from_utf8(out).expect("utf-8"))
}

/// Lets the test keep the fake after `run` consumed its box.
struct Shared(std::rc::Rc<std::cell::RefCell<Option<FakeBackend>>>);

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut FakeBackend) -> T) -> T {
        f(self.0.borrow_mut().as_mut().expect("fake present"))
    }
}

impl Backend for Shared {
    fn sched_id(&mut self) -> rtcredit_config::Result<u32> {
        self.with(|b| b.sched_id())
    }
    fn domains(&mut self) -> rtcredit_config::Result<Vec<DomainId>> {
        self.with(|b| b.domains())
    }
    fn get_dom(&mut self, id: u32) -> rtcredit_config::Result<rtcredit::abi::XenDomctlSchedRtcredit> {
        self.with(|b| b.get_dom(id))
    }
    fn put_dom(
        &mut self,
        id: u32,
        put: &rtcredit::abi::XenDomctlSchedRtcredit,
    ) -> rtcredit_config::Result<rtcredit::abi::XenDomctlSchedRtcredit> {
        self.with(|b| b.put_dom(id, put))
    }
    fn pools(&mut self) -> rtcredit_config::Result<Vec<PoolId>> {
        self.with(|b| b.pools())
    }
    fn get_globals(&mut self, pool: &PoolId) -> rtcredit_config::Result<rtcredit::abi::XenSysctlRtcreditSchedule> {
        self.with(|b| b.get_globals(pool))
    }
    fn put_globals(
        &mut self,
        pool: &PoolId,
        put: &rtcredit::abi::XenSysctlRtcreditSchedule,
    ) -> rtcredit_config::Result<rtcredit::abi::XenSysctlRtcreditSchedule> {
        self.with(|b| b.put_globals(pool, put))
    }
    fn wait_for_domains(&mut self, poll: Option<std::time::Duration>) -> rtcredit_config::Result<()> {
        self.with(|b| b.wait_for_domains(poll))
    }
}

fn host() -> FakeBackend {
    let mut fake = FakeBackend::with_domains(&["Domain-0", "audio-1", "web-eu-1"]);
    let (_, s) = &mut fake.domains[1];
    s.prio_ns = [1_500_000_000, 250_000_000, 2_000_000_000, 0];
    s.rt_counters.rt_requests = 120;
    s.rt_counters.rt_granted = 100;
    s.rt_counters.rt_degraded = 15;
    s.rt_counters.rt_denied = 5;
    s.rt_counters.rt_fires = 98;
    fake
}

fn policy(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, text.as_bytes()).expect("write policy");
    file
}

#[test]
fn dom_prints_an_aligned_table() {
    let (status, out) = ctl(&mut host(), &["dom"]);
    assert_eq!(status, Ok(0));
    let expected = "\
Name      ID  Weight  Cap    RT  Budget%  Rate/s  RT(s)  BOOST(s)  UNDER(s)  OVER(s)  Requests  Granted  Degraded  Denied  Fires
Domain-0   0     256    0  deny       10    1000  0.000     0.000     0.000    0.000         0        0         0       0      0
audio-1    1     256    0  deny       10    1000  1.500     0.250     2.000    0.000       120      100        15       5     98
web-eu-1   2     256    0  deny       10    1000  0.000     0.000     0.000    0.000         0        0         0       0      0
";
    assert_eq!(out, expected);
}

#[test]
fn dom_json_has_parameters_and_counters() {
    let (status, out) = ctl(&mut host(), &["dom", "audio-1", "--json"]);
    assert_eq!(status, Ok(0));
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let dom = &value[0];
    assert_eq!(dom["name"], "audio-1");
    assert_eq!(dom["id"], 1);
    assert_eq!(dom["rt_allowed"], false);
    assert_eq!(dom["time_ns"]["rt"], 1_500_000_000u64);
    assert_eq!(dom["time_ns"]["boost"], 250_000_000u64);
    assert_eq!(dom["rt_granted"], 100);
    assert_eq!(dom["rt_fires"], 98);
    assert_eq!(value.as_array().map(Vec::len), Some(1));
}

#[test]
fn dom_sets_by_name_or_id_and_says_what_changed() {
    let mut fake = host();
    let (status, out) = ctl(&mut fake, &["dom", "audio-1", "--rt", "allow", "--rt-budget", "25", "--weight", "512"]);
    assert_eq!(status, Ok(0));
    assert_eq!(out, "audio-1 (id 1): weight 256 -> 512, rt deny -> allow, rt_budget_pct 10 -> 25\n");
    let s = fake.domains[1].1;
    assert_eq!((s.weight, s.rt_allowed, s.rt_budget_pct, s.rt_rate_per_s), (512, 1, 25, 1000));
    let (status, out) = ctl(&mut fake, &["dom", "1", "--rt", "allow"]);
    assert_eq!((status, out.as_str()), (Ok(0), "audio-1 (id 1): no change\n"));
    let (status, _) = ctl(&mut fake, &["dom", "1", "--cap", "50", "--rt-rate", "200"]);
    assert_eq!(status, Ok(0));
    assert_eq!((fake.domains[1].1.cap, fake.domains[1].1.rt_rate_per_s), (50, 200));
}

#[test]
fn dom_errors_say_what_to_do() {
    let mut fake = host();
    let (status, _) = ctl(&mut fake, &["dom", "nosuch"]);
    assert_eq!(
        status.unwrap_err(),
        "unknown domain 'nosuch': no running domain has that name or id (`rtcredit-ctl dom` lists them)"
    );
    let (status, _) = ctl(&mut fake, &["dom", "7", "--weight", "3"]);
    assert!(status.unwrap_err().starts_with("unknown domain '7'"));
    let (status, _) = ctl(&mut fake, &["dom", "0", "--weight", "0"]);
    assert_eq!(status.unwrap_err(), "weight = 0 is out of range: weight must be in 1..=65535");
    let (status, _) = ctl(&mut fake, &["dom", "0", "--rt-budget", "101"]);
    assert_eq!(
        status.unwrap_err(),
        "rt_budget_pct = 101 is out of range: RT CPU budget must be in 1..=100 percent of one CPU"
    );
    let (status, _) = ctl(&mut fake, &["dom", "0", "--rt-rate", "0"]);
    assert!(status.unwrap_err().contains("1..=100000"));
    let (status, _) = ctl(&mut fake, &["dom", "0", "--cap", "65535"]);
    assert!(status.unwrap_err().contains("0..=65534"));
    let (status, _) = ctl(&mut fake, &["dom", "--weight", "3"]);
    assert_eq!(status.unwrap_err(), "setting parameters needs exactly one DOMAIN (name or id)");
    let (status, _) = ctl(&mut fake, &["dom", "0", "1", "--weight", "3"]);
    assert!(status.is_err());
    assert!(fake.puts.is_empty(), "no error may change anything: {:?}", fake.puts);
}

#[test]
fn another_scheduler_is_named() {
    for (id, name) in [(5, "credit"), (6, "credit2"), (7, "arinc653"), (8, "rtds"), (9, "null")] {
        let mut fake = host();
        fake.sched_id = id;
        let (status, _) = ctl(&mut fake, &["sched"]);
        let text = status.unwrap_err();
        assert!(
            text.starts_with(&format!("the running Xen scheduler is {name} (XEN_SCHEDULER id {id}), not rtcredit")),
            "{text}"
        );
        assert!(text.contains("sched=rtcredit"), "{text}");
    }
}

#[test]
fn not_dom0_is_reported_as_such() {
    let cli = Cli::try_parse_from(["rtcredit-ctl", "dom"]).unwrap();
    let mut open =
        || -> Result<Box<dyn Backend>, Error> { Err(Error::NotDom0 { detail: "xc_interface_open failed".into() }) };
    let text = run(cli, &mut open, &mut Vec::new()).unwrap_err().to_string();
    assert!(text.starts_with("not dom0 / no /dev/xen/privcmd: xc_interface_open failed"), "{text}");
    assert!(text.contains("modprobe xen-privcmd"), "{text}");
}

#[test]
fn sched_reads_sets_and_checks_globals() {
    let mut fake = host();
    let (status, out) = ctl(&mut fake, &["sched"]);
    assert_eq!(status, Ok(0));
    assert_eq!(
        out,
        "Cpupool  Scheduler  Slice(ms)  Ratelimit(us)  MinPeriod(us)  MaxLead(ms)  RtCap(%/cpu)  CPUs  RtCapacity(%)  \
         RtGranted(%)  RtLeft(%)\nPool-0    rtcredit         30           1000           1000        10000            50     \
         2            100             0        100\n"
    );
    let (status, out) = ctl(&mut fake, &["sched", "--slice-ms", "20", "--max-lead-ms", "2000", "--json"]);
    assert_eq!(status, Ok(0));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((value["slice_ms"].as_u64(), value["max_lead_ms"].as_u64()), (Some(20), Some(2000)));
    assert_eq!(value["ratelimit_us"], 1000);
    assert_eq!(fake.globals.tslice_ms, 20);
    let (status, _) = ctl(&mut fake, &["sched", "--ratelimit-us", "50"]);
    assert_eq!(
        status.unwrap_err(),
        "ratelimit_us = 50 is out of range: rate limit must be 0 or 100us..=500ms and not above the time slice"
    );
    let (status, _) = ctl(&mut fake, &["sched", "--min-period-us", "5000000"]);
    assert!(status.unwrap_err().starts_with("min_period_us = 5000000 is out of range"));
    assert_eq!(fake.puts, ["globals"]);
}

const POLICY: &str = r#"# RT for audio, a default for the rest
[global]
slice_ms = 20

[[domain]]
match = "audio-*"
rt = "allow"
rt_budget_pct = 20

[[domain]]
match = "*"
rt = "deny"
weight = 128

[[domain]]
match = "Domain-0"
weight = 1024
"#;

#[test]
fn apply_prints_the_diff_then_has_nothing_to_do() {
    let mut fake = host();
    let file = policy(POLICY);
    let path = file.path().to_str().unwrap();
    let (status, out) = ctl(&mut fake, &["apply", path, "--dry-run"]);
    assert_eq!(status, Ok(0));
    let want = "would change global: slice_ms 30 -> 20\n\
         would change Domain-0 (id 0, rule \"Domain-0\" at line 16): weight 256 -> 1024\n\
         would change audio-1 (id 1, rule \"audio-*\" at line 6): rt deny -> allow, rt_budget_pct 10 -> 20\n\
         would change web-eu-1 (id 2, rule \"*\" at line 11): weight 256 -> 128\n\
         dry run: 4 change(s) not applied\n";
    assert_eq!(out, want);
    assert!(fake.puts.is_empty());
    let (status, out) = ctl(&mut fake, &["apply", path]);
    assert_eq!(status, Ok(0));
    assert!(out.ends_with("applied 4 change(s)\n"), "{out}");
    // Changes that take no more RT capacity first, then the globals, then the grants.
    assert_eq!(fake.puts, ["dom 0", "dom 2", "globals", "dom 1"]);
    assert_eq!((fake.domains[1].1.rt_allowed, fake.domains[1].1.rt_budget_pct), (1, 20));
    let (status, out) = ctl(&mut fake, &["apply", path]);
    assert_eq!(status, Ok(0));
    assert_eq!(out, format!("nothing to do: the system matches {path}\n"));
    assert_eq!(fake.puts.len(), 4);
}

#[test]
fn a_grant_over_the_pools_rt_capacity_is_refused_naming_the_domain_and_what_is_left() {
    // Two CPUs at 50%: a capacity of 100% of one CPU.
    let mut fake = host();
    let (status, out) = ctl(&mut fake, &["dom", "audio-1", "--rt", "allow", "--rt-budget", "70"]);
    assert_eq!((status, out.as_str()), (Ok(0), "audio-1 (id 1): rt deny -> allow, rt_budget_pct 10 -> 70\n"));
    let (status, _) = ctl(&mut fake, &["dom", "web-eu-1", "--rt", "allow", "--rt-budget", "40"]);
    let error = status.unwrap_err();
    assert!(
        error.starts_with(
            "web-eu-1 (id 2): RT budget of 40% refused: the cpupool's remaining RT capacity is 30% of one CPU \
             (capacity 100%, 70% granted)"
        ),
        "{error}"
    );
    assert!(error.contains("rtcredit-ctl sched --rt-capacity-pct"), "{error}");
    assert_eq!(fake.domains[2].1.rt_allowed, 0, "nothing changed");
    // Allowing RT at the default budget (10%) fits; raising it to what is left does too.
    let (status, _) = ctl(&mut fake, &["dom", "web-eu-1", "--rt", "allow"]);
    assert_eq!(status, Ok(0));
    let (status, _) = ctl(&mut fake, &["dom", "web-eu-1", "--rt-budget", "30"]);
    assert_eq!(status, Ok(0));
    let (status, _) = ctl(&mut fake, &["dom", "web-eu-1", "--rt-budget", "31"]);
    assert!(status.unwrap_err().contains("remaining RT capacity is 0% of one CPU (capacity 100%, 100% granted)"));
    // Raising the capacity makes room; the sched table says how much.
    let (status, out) = ctl(&mut fake, &["sched", "--rt-capacity-pct", "60", "--json"]);
    assert_eq!(status, Ok(0));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        [&value["rt_capacity_pct"], &value["pool_cpus"], &value["rt_pool_capacity_pct"], &value["rt_granted_pct"]],
        [60, 2, 120, 100]
    );
    assert_eq!(value["rt_remaining_pct"], 20);
    let (status, _) = ctl(&mut fake, &["dom", "web-eu-1", "--rt-budget", "50"]);
    assert_eq!(status, Ok(0));
}

#[test]
fn the_rt_capacity_cannot_go_below_what_is_granted_or_above_100_percent() {
    let mut fake = host();
    assert_eq!(ctl(&mut fake, &["dom", "audio-1", "--rt", "allow", "--rt-budget", "60"]).0, Ok(0));
    let (status, _) = ctl(&mut fake, &["sched", "--rt-capacity-pct", "20"]);
    assert_eq!(
        status.unwrap_err(),
        "rt_capacity_pct = 20 refused: the cpupool's 2 CPU(s) would have an RT capacity of 40% of one CPU, below the \
         60% already granted\n  deny RT to domains or lower their budgets first (rtcredit-ctl dom)"
    );
    assert_eq!(fake.globals.rt_capacity_pct, 50, "nothing changed");
    assert_eq!(ctl(&mut fake, &["sched", "--rt-capacity-pct", "30"]).0, Ok(0), "60% of 2 CPUs still fits");
    let (status, _) = ctl(&mut fake, &["sched", "--rt-capacity-pct", "101"]);
    assert_eq!(
        status.unwrap_err(),
        "rt_capacity_pct = 101 is out of range: RT capacity must be in 0..=100 percent of each CPU"
    );
}

#[test]
fn a_policy_that_moves_rt_budget_between_domains_applies_in_one_go() {
    let mut fake = host();
    fake.globals.rt_capacity_pct = 100;
    assert_eq!(ctl(&mut fake, &["dom", "audio-1", "--rt", "allow", "--rt-budget", "90"]).0, Ok(0));
    // Domain-0 (id 0, planned first) gets 60%, which fits only once audio-1 (id 1) is
    // down to 40%, and the capacity can go down to 50% of each CPU only after that.
    let file = policy(
        "[global]\nrt_capacity_pct = 50\n\n[[domain]]\nmatch = \"audio-1\"\nrt_budget_pct = 40\n\n\
         [[domain]]\nmatch = \"Domain-0\"\nrt = \"allow\"\nrt_budget_pct = 60\n",
    );
    let (status, out) = ctl(&mut fake, &["apply", file.path().to_str().unwrap()]);
    assert_eq!(status, Ok(0), "{out}");
    assert_eq!(fake.puts[1..], ["dom 1", "globals", "dom 0"]);
    assert_eq!(fake.rt_capacity(), rtcredit::RtCapacity::new(50, 2, 100));
    // A policy that over-asks fails at the grant, naming it.
    let file = policy("[[domain]]\nmatch = \"web-eu-1\"\nrt = \"allow\"\nrt_budget_pct = 5\n");
    let (status, _) = ctl(&mut fake, &["apply", file.path().to_str().unwrap()]);
    let error = status.unwrap_err();
    assert!(
        error.starts_with("web-eu-1 (id 2): RT budget of 5% refused: the cpupool's remaining RT capacity is 0%"),
        "{error}"
    );
}

#[test]
fn watch_applies_to_domains_as_they_arrive() {
    let mut fake = host();
    fake.arriving.push_back(DomainId { id: 7, name: "audio-2".into(), vcpus: 1 });
    fake.arriving.push_back(DomainId { id: 8, name: "db".into(), vcpus: 1 });
    let file = policy(POLICY);
    let (status, out) = ctl(&mut fake, &["watch", file.path().to_str().unwrap()]);
    assert_eq!(status, Ok(0));
    assert!(out.starts_with("watching @introduceDomain for "), "{out}");
    assert!(
        out.contains("change audio-2 (id 7, rule \"audio-*\" at line 6): rt deny -> allow, rt_budget_pct 10 -> 20\n"),
        "{out}"
    );
    assert!(out.contains("change db (id 8, rule \"*\" at line 11): weight 256 -> 128\n"), "{out}");
    let audio2 = fake.domains.iter().find(|(d, _)| d.id == 7).unwrap().1;
    assert_eq!(audio2.rt_allowed, 1);
}

#[test]
fn policy_errors_carry_file_line_and_column() {
    let cases: [(&str, &str); 9] = [
        ("[[domain]]\nmatch = \"a\"\nweight = 0\n", ":3:10: weight = 0 is out of range: weight must be in 1..=65535"),
        ("[[domain]]\nmatch = \"a\"\nrt = \"yes\"\n", ":3:6: rt must be \"allow\" or \"deny\", not \"yes\""),
        ("[[domain]]\nmatch = \"a\"\nrt_budget_pct = 150\n", ":3:17: rt_budget_pct = 150 is out of range"),
        ("[[domain]]\nmatch = \"a\"\nwieght = 3\n", ":3:1: unknown field `wieght`"),
        ("[global]\nslice_ms = 0\n", ":2:12: slice_ms = 0 is out of range"),
        ("[global]\nslice_ms = 1\nratelimit_us = 5000\n", ":1:1: ratelimit_us = 5000 is out of range"),
        (
            "[[domain]]\nmatch = \"a\"\ncap = 1\n[[domain]]\nmatch = \"a\"\ncap = 2\n",
            ":5:9: a second rule for \"a\" (the first is at line 2)",
        ),
        ("[[domain]]\nmatch = \"a[\"\ncap = 1\n", ":2:9: bad glob \"a[\""),
        ("[[domain]]\nmatch = \"a\"\n", ":1:1: the rule for \"a\" sets nothing"),
    ];
    for (text, want) in cases {
        let file = policy(text);
        let (status, _) = ctl(&mut host(), &["apply", file.path().to_str().unwrap()]);
        let error = status.unwrap_err();
        let path = file.path().display().to_string();
        assert!(error.starts_with(&path), "{error}");
        assert!(error[path.len()..].starts_with(want), "want {want:?}, got {error:?}");
    }
    let (status, _) = ctl(&mut host(), &["apply", "/nonexistent/policy.toml"]);
    assert!(status.unwrap_err().starts_with("/nonexistent/policy.toml: "));
}

#[test]
fn boot_args_prints_words_and_checks_grub() {
    let mut fake = host();
    let (status, out) = ctl(&mut fake, &["boot-args", "--slice-ms", "10", "--min-period-us", "2000"]);
    assert_eq!((status, out.as_str()), (Ok(0), "sched=rtcredit rtcredit_tslice_ms=10 rtcredit_min_period_us=2000\n"));
    let grub = policy("GRUB_CMDLINE_XEN_DEFAULT=\"dom0_mem=2G sched=credit2\"\n");
    let path = grub.path().to_str().unwrap();
    let (status, out) = ctl(&mut fake, &["boot-args", "--check-grub", path]);
    assert_eq!(status, Ok(1));
    assert!(
        out.contains(&format!("{path}:1: error: sched=credit2: Xen would run credit2 instead of rtcredit")),
        "{out}"
    );
    let grub = policy("GRUB_CMDLINE_XEN_DEFAULT=\"dom0_mem=2G sched=rtcredit\"\n");
    let path = grub.path().to_str().unwrap();
    let (status, out) = ctl(&mut fake, &["boot-args", "--check-grub", path]);
    assert_eq!(status, Ok(0));
    assert!(out.ends_with(&format!("{path}: OK: Xen boots sched=rtcredit\n")), "{out}");
}

#[test]
fn the_binary_without_xen_says_not_dom0() {
    let bin = env!("CARGO_BIN_EXE_rtcredit-ctl");
    let out = Command::new(bin).args(["dom"]).env("LD_LIBRARY_PATH", "/nonexistent").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rtcredit-ctl: error: not dom0 / no /dev/xen/privcmd: "), "{stderr}");
    let out = Command::new(bin).args(["boot-args", "--slice-ms", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("slice_ms = 0 is out of range"));
    let out = Command::new(bin).args(["dom", "--rt", "maybe"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
}

#[test]
fn a_large_policy_still_names_the_right_line_and_column() {
    // 40k rules, then a duplicate of the first: positions come from one line index.
    let mut text = String::new();
    for i in 0..40_000 {
        text.push_str(&format!("[[domain]]\nmatch = \"vm{i}\"\ncap = 1\n"));
    }
    text.push_str("[[domain]]\nmatch = \"vm0\"\ncap = 2\n");
    let file = policy(&text);
    let (status, _) = ctl(&mut host(), &["apply", file.path().to_str().unwrap()]);
    let error = status.unwrap_err();
    assert!(error.ends_with(":120002:9: a second rule for \"vm0\" (the first is at line 2)"), "{error}");
    // A multi-byte character before the error counts as one column.
    let file = policy("[[domain]]\nmatch = \"ä\"\nrt = \"ja\"\n");
    let (status, _) = ctl(&mut host(), &["apply", file.path().to_str().unwrap()]);
    assert!(status.unwrap_err().contains(":3:6: rt must be"));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rtcredit-ctl"))
        .args(["boot-args", "--slice-ms", "10"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn watch_poll_is_range_checked() {
    for bad in ["0", "86401", "18446744073709551615"] {
        let out = Command::new(env!("CARGO_BIN_EXE_rtcredit-ctl"))
            .args(["watch", "/nonexistent/policy.toml", "--poll", bad])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--poll") && stderr.contains("1..=86400"), "{bad}: {stderr}");
    }
}

/// An administrator's `xl sched-credit` habits work: `-d DOMAIN -w WEIGHT -c CAP` for a
/// domain, `-s -t SLICE -r RATELIMIT` for the scheduler.
#[test]
fn xl_style_flags_set_the_same_parameters() {
    let mut fake = host();
    let (status, out) = ctl(&mut fake, &["dom", "-d", "audio-1", "-w", "512", "-c", "50"]);
    assert_eq!(status, Ok(0), "{out}");
    assert_eq!(out, "audio-1 (id 1): weight 256 -> 512, cap 0 -> 50\n");
    assert_eq!((fake.domains[1].1.weight, fake.domains[1].1.cap), (512, 50));
    let (status, out) = ctl(&mut fake, &["dom", "-d", "audio-1", "-d", "0", "-w", "300"]);
    assert_eq!(status, Err("setting parameters needs exactly one DOMAIN (name or id)".to_string()), "{out}");
    let (status, _) = ctl(&mut fake, &["sched", "-s", "-t", "20", "-r", "500"]);
    assert_eq!(status, Ok(0));
    assert_eq!((fake.globals.tslice_ms, fake.globals.ratelimit_us), (20, 500));
}

#[test]
fn the_command_line_definition_is_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}

/// `check` reads a policy as `apply` does, without Xen: the binary itself, on a host
/// where no Xen runs (this one), accepts a good policy and names a bad value's line.
#[test]
fn check_validates_a_policy_without_xen() {
    let good =
        policy("[global]\nslice_ms = 20\n\n[[domain]]\nmatch = \"audio-*\"\nrt = \"allow\"\nrt_budget_pct = 20\n");
    let path = good.path().to_str().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rtcredit-ctl")).args(["check", path]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout, format!("{path}: OK: 1 rule(s), [global] changes\n"));
    let bad = policy("[[domain]]\nmatch = \"audio-*\"\nrt = \"allow\"\nrt_budget_pct = 500\n");
    let output = Command::new(env!("CARGO_BIN_EXE_rtcredit-ctl"))
        .args(["check", bad.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(":4:") && stderr.contains("rt_budget_pct"), "{stderr}");
}

/// libxl refuses a cap above 100% per VCPU (more than the domain can use); so does
/// `rtcredit-ctl`, naming the domain's VCPUs, for `dom` and for a policy, and changes
/// nothing.
#[test]
fn a_cap_above_100_per_vcpu_is_refused_with_the_domains_vcpus() {
    let mut fake = host();
    fake.domains[1].0.vcpus = 2;
    let (status, _) = ctl(&mut fake, &["dom", "audio-1", "--cap", "201"]);
    assert_eq!(
        status.unwrap_err(),
        "audio-1 (id 1): cap = 201 is out of range: a cap must be at most 100 x the domain's VCPUs \
         (2 VCPU(s): at most 200%)"
    );
    assert_eq!(ctl(&mut fake, &["dom", "audio-1", "--cap", "200"]).0, Ok(0), "two VCPUs, 200%");
    fake.puts.clear();
    let file = policy("[[domain]]\nmatch = \"audio-*\"\ncap = 300\n");
    let (status, _) = ctl(&mut fake, &["apply", file.path().to_str().unwrap(), "--dry-run"]);
    let error = status.unwrap_err();
    assert!(error.ends_with(":2:1: audio-1 (id 1): cap = 300 is out of range: a cap must be at most 100 x the domain's VCPUs (2 VCPU(s): at most 200%)"), "{error}");
    assert!(fake.puts.is_empty(), "nothing changed: {:?}", fake.puts);
}

/// Completions and the man page are generated from the command line itself, without Xen
/// (this machine has none: a command that opened it would fail).
#[test]
fn completions_and_the_man_page_need_no_xen_and_name_every_command() {
    let bin = env!("CARGO_BIN_EXE_rtcredit-ctl");
    let bash = Command::new(bin).args(["completions", "bash"]).output().unwrap();
    assert!(bash.status.success(), "{}", String::from_utf8_lossy(&bash.stderr));
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(script.contains("-o default rtcredit-ctl"), "{script}");
    for command in ["dom", "sched", "apply", "watch", "check", "boot-args"] {
        assert!(script.contains(command), "{command} missing from the completion script");
    }
    let man = Command::new(bin).arg("man").output().unwrap();
    assert!(man.status.success(), "{}", String::from_utf8_lossy(&man.stderr));
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.contains(".TH rtcredit-ctl 1"), "{page}");
    assert!(page.contains("boot\\-args"), "{page}");
    let bad = Command::new(bin).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid value 'tcsh'"));
}

/// The shipped systemd unit (`dist/rtcredit-watch.service`): its commands are ones this
/// binary takes. Each `ExecStartPre=` / `ExecStart=` is run with the installed path
/// replaced by the built binary and the policy path by a copy of the README's example
/// policy: `check` accepts it, and `watch` parses its flags and gets as far as looking
/// for Xen (exit 1, not dom0; a usage error would be exit 2).
#[test]
fn the_systemd_unit_runs_commands_this_binary_takes() {
    let unit_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/rtcredit-watch.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in unit.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("not key=value: {line}"));
        keys.push((section.clone(), key.to_string(), value.to_string()));
    }
    let value =
        |section: &str, key: &str| keys.iter().find(|(s, k, _)| s == section && k == key).map(|(_, _, v)| v.clone());
    assert_eq!(value("Install", "WantedBy").as_deref(), Some("multi-user.target"));
    assert_eq!(value("Service", "Restart").as_deref(), Some("on-failure"));

    let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let example = readme.split("# /etc/xen/rtcredit.toml\n").nth(1).and_then(|rest| rest.split("```").next()).unwrap();
    let policy_file = policy(example);
    let run = |key: &str| {
        let line = value("Service", key).unwrap_or_else(|| panic!("{key} is set"));
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("/usr/local/sbin/rtcredit-ctl"), "the path the README installs to");
        let args: Vec<String> =
            words
                .map(|w| {
                    if w == "/etc/xen/rtcredit.toml" {
                        policy_file.path().display().to_string()
                    } else {
                        w.to_string()
                    }
                })
                .collect();
        Command::new(env!("CARGO_BIN_EXE_rtcredit-ctl"))
            .args(&args)
            .env("LD_LIBRARY_PATH", "/nonexistent")
            .output()
            .unwrap()
    };
    let check = run("ExecStartPre");
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stderr));
    let watch = run("ExecStart");
    assert_eq!(watch.status.code(), Some(1), "{}", String::from_utf8_lossy(&watch.stderr));
    assert!(String::from_utf8_lossy(&watch.stderr).contains("not dom0"), "{}", String::from_utf8_lossy(&watch.stderr));
}

/// `sched -p POOL` (xl's `-p`): another cpupool's parameters by name or id, set there
/// only; a pool that runs another scheduler and one that does not exist are refused by
/// name.
#[test]
fn sched_acts_on_the_cpupool_given_by_name_or_id() {
    let mut fake = host();
    let rt_pool =
        rtcredit::abi::XenSysctlRtcreditSchedule { rt_pool_cpus: 1, rt_pool_capacity_pct: 50, ..fake.globals };
    fake.other_pools.push((PoolId { id: 1, name: "rtpool".to_string() }, Some(rt_pool)));
    fake.other_pools.push((PoolId { id: 2, name: "batch".to_string() }, None));

    let (status, text) = ctl(&mut fake, &["sched", "-p", "rtpool", "--json"]);
    assert_eq!(status, Ok(0));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!((value["cpupool"].as_u64(), value["cpupool_name"].as_str()), (Some(1), Some("rtpool")));
    assert_eq!(value["pool_cpus"], 1);

    let (status, text) = ctl(&mut fake, &["sched", "-s", "-p", "1", "-t", "20"]);
    assert_eq!(status, Ok(0));
    assert!(text.starts_with("Cpupool") && text.lines().nth(1).is_some_and(|l| l.starts_with("rtpool ")), "{text}");
    assert_eq!(fake.other_pools[0].1.map(|g| g.tslice_ms), Some(20), "set in pool 1");
    assert_eq!(fake.globals.tslice_ms, 30, "pool 0 untouched");
    assert_eq!(fake.puts, ["globals pool 1"]);

    let (status, _) = ctl(&mut fake, &["sched", "-p", "batch"]);
    let error = status.unwrap_err();
    assert!(error.contains("cpupool batch (id 2) does not run sched=rtcredit"), "{error}");
    let (status, _) = ctl(&mut fake, &["sched", "-p", "nosuch"]);
    assert!(status.unwrap_err().contains("unknown cpupool 'nosuch'"));
    let (status, _) = ctl(&mut fake, &["sched", "-p", "7"]);
    assert!(status.unwrap_err().contains("unknown cpupool '#7'"));
    // Without -p: pool 0, named as xl names it.
    let (_, text) = ctl(&mut fake, &["sched"]);
    assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("Pool-0 ")), "{text}");
}
