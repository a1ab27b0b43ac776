//! The report on serial logs shaped like dom0's output (tests/e2e/dom0/init.sh), with
//! files encoded the way dom0 encodes them (gzip, base64, size, MD5).

use std::io::Write;

use base64::Engine;
use md5::{Digest, Md5};
use rtcredit_e2e::results::{Hogs, Mode};
use rtcredit_e2e::serial::{self, SerialError};

fn block(name: &str, data: &[u8]) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    let mut out = format!("E2E-FILE-BEGIN name={name} bytes={} md5={:x}\r\n", data.len(), Md5::digest(data));
    for chunk in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push_str("\r\n");
    }
    out.push_str(&format!("E2E-FILE-END name={name}\r\n"));
    out
}

fn bench(backend: &str, p99_us: f64, histogram: &[(u64, u64)]) -> String {
    let loops: u64 = histogram.iter().map(|(_, c)| c).sum();
    let hist: Vec<String> = histogram.iter().map(|(b, c)| format!("[{b},{c}]")).collect();
    format!(
        r#"{{"period_ns":10000000,"loops":{loops},"runs":[{{"name":"rtsleep","backend":"{backend}","fallback_reason":null,"loops":{loops},"min_us":500.0,"avg_us":900.0,"p50_us":800.0,"p99_us":{p99_us},"max_us":{p99_us},"over_100us":{loops},"over_1ms":0,"overruns":0,"histogram":[{}],"histogram_overflow":0}}]}}"#,
        hist.join(",")
    )
}

fn status(requests: u64, accepted: u64) -> String {
    format!(
        r#"{{"device":"present","backend":"device","rt":{{"version":1,"on_xen":true,"rt_state":"accepted","last_result":0,"min_lead_ns":5000000,"max_lead_ns":10000000000,"requests":{requests},"rt_accepted":{accepted},"fell_back":0,"interrupted":0}}}}"#
    )
}

/// One measuring run as dom0 prints it: hogs 3..5, measuring domain `domid`.
fn run_lines(run: u32, config: &str, mode: &str, domid: u32, bench_json: &str, status_json: &str) -> String {
    let mut s = format!("E2E: run {run} config={config} mode={mode} loops=100 domain=measure{run} domid={domid}\r\n");
    s += &format!("E2E-DOMS run={run} Domain-0=0 hog1=1 hog2=2 hog3=3 measure{run}={domid} \r\n");
    s += "[   12.3] some kernel message\r\n";
    for (id, cpu) in [(0u32, 10_000_000u64), (1, 200_000_000), (2, 210_000_000), (3, 190_000_000), (domid, 150_000_000)]
    {
        s += &format!("E2E-SHARE run={run} domid={id} cpu_ns={cpu} wall_ns=1000000000\r\n");
    }
    s += &format!("E2E-R{run} E2E-GUEST bench rc=0 stderr: \r\n");
    s += &block(&format!("run{run}-bench.json"), bench_json.as_bytes());
    s += &block(&format!("run{run}-status.json"), status_json.as_bytes());
    if mode == "rtsleep" {
        let sched = format!(
            r#"[{{"name":"hog1","id":1,"time_ns":{{"rt":0,"boost":0,"under":5,"over":0}},"rt_requests":0,"rt_granted":0,"rt_degraded":0,"rt_denied":0,"rt_fires":0,"rt_demotions":0}},
               {{"name":"measure{run}","id":{domid},"weight":256,"time_ns":{{"rt":300000000,"boost":1,"under":2,"over":3}},"rt_requests":100,"rt_granted":99,"rt_degraded":1,"rt_denied":0,"rt_fires":99,"rt_demotions":98}}]"#
        );
        s += &block(&format!("run{run}-sched.json"), sched.as_bytes());
    }
    s += &format!("E2E-RUN-END run={run} config={config} mode={mode}\r\n");
    s
}

fn sample_log() -> String {
    let mut log = String::from("(XEN) Xen version 4.17\r\nE2E: dom0 up kernel=6.1 sched=rtcredit\r\n");
    log += &run_lines(1, "20", "plain", 4, &bench("fallback", 30_000.0, &[(800, 90), (30_000, 10)]), "{}");
    log += &run_lines(2, "20", "rtsleep", 5, &bench("device", 250.0, &[(200, 99), (250, 1)]), &status(100, 98));
    log += "E2E: done uptime=100\r\n";
    log
}

#[test]
fn a_log_becomes_runs_with_shares_lateness_and_counters() {
    let log = serial::parse(&sample_log()).unwrap();
    assert_eq!(log.runs.len(), 2);
    assert!(log.runs.iter().all(|r| r.ended));
    let runs = rtcredit_e2e::results::runs_of_boot(&log, "rtcredit", "rtcredit-b1").unwrap();
    let plain = &runs[0];
    assert_eq!((plain.mode, plain.hogs, plain.hog_share_pct), (Mode::Plain, Hogs::Capped(20), 20));
    assert_eq!(plain.hog_cpu_share_pct, vec![20.0, 21.0, 19.0]);
    assert_eq!(plain.measured_cpu_share_pct, 15.0);
    assert_eq!(plain.dom0_cpu_share_pct, 1.0);
    assert_eq!(plain.lateness_us.p99, 30_000.0);
    // p90 from the histogram: 90 of 100 samples at 800 us.
    assert_eq!(plain.lateness_us.p90, 800.0);
    assert_eq!(plain.completion_s, 1.0);
    assert_eq!(plain.ideal_completion_s, 1.0);
    assert!(plain.device.is_none());
    let rt = &runs[1];
    assert_eq!(rt.backend, "device");
    assert_eq!(rt.device.as_ref().map(|d| (d.requests, d.rt_accepted)), Some((100, 98)));
    assert_eq!(rt.lateness_ns.len(), 100);
    let counters = rt.scheduler_counters.as_ref().expect("the measuring domain's counters");
    assert_eq!((counters.time_ns.rt, counters.rt.rt_fires, counters.rt.rt_degraded), (300_000_000, 99, 1));
    assert!(plain.scheduler_counters.is_none());
}

#[test]
fn a_corrupted_file_is_refused_with_its_line() {
    let good = sample_log();
    // Flip one base64 character inside the first file's body.
    let at = good.find("E2E-FILE-BEGIN").unwrap();
    let body = good[at..].find("\r\n").unwrap() + at + 2;
    let mut bad = good.clone().into_bytes();
    bad[body + 30] = if bad[body + 30] == b'A' { b'B' } else { b'A' };
    let err = serial::parse(std::str::from_utf8(&bad).unwrap()).unwrap_err();
    assert!(matches!(err, SerialError::Md5 { .. } | SerialError::Gzip { .. } | SerialError::Size { .. }), "{err}");
    assert!(err.to_string().starts_with("line "), "{err}");
}

#[test]
fn a_cut_off_log_says_which_file_never_ended() {
    let good = sample_log();
    let cut = &good[..good.rfind("E2E-FILE-END").unwrap()];
    let err = serial::parse(cut).unwrap_err();
    assert_eq!(err, SerialError::Unterminated { line: err_line(&err), name: "run2-sched.json".into() });
}

fn err_line(err: &SerialError) -> usize {
    match err {
        SerialError::Unterminated { line, .. } => *line,
        _ => 0,
    }
}

#[test]
fn a_malformed_marker_names_the_field() {
    let err = serial::parse("E2E-SHARE run=1 domid=x cpu_ns=1 wall_ns=1\n").unwrap_err();
    assert_eq!(err, SerialError::Field { line: 1, what: "E2E-SHARE", field: "domid" });
}

#[test]
fn a_missing_guest_report_is_an_error_not_a_zero() {
    let log = "E2E: run 1 config=0 mode=plain loops=100 domain=m1 domid=4\nE2E-RUN-END run=1 config=0 mode=plain\n";
    let parsed = serial::parse(log).unwrap();
    let err = rtcredit_e2e::results::runs_of_boot(&parsed, "credit", "credit-b1").unwrap_err();
    assert!(err.to_string().contains("no file 'run1-bench.json'"), "{err}");
}

#[test]
fn the_report_writes_summaries_plots_and_checks_targets() {
    let dir = std::env::temp_dir().join(format!("rtcredit-e2e-test-{}", std::process::id()));
    let raw = dir.join("raw");
    std::fs::create_dir_all(&raw).unwrap();
    std::fs::write(raw.join("rtcredit-b1.log"), sample_log()).unwrap();
    std::fs::write(
        raw.join("run.json"),
        r#"{"date":"2026-11-26","loops":100,"guest_kernel":"debian: 7.2.12+deb14-cloud-amd64"}"#,
    )
    .unwrap();
    let out = dir.join("out");
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenario.toml");
    let targets = rtcredit_e2e::report(&raw, &out, Some(&scenario), None).unwrap();
    // p99 and max 0.25 ms <= 0.3 and 1 ms: met; no credit2, RTDS or credit run to compare with.
    assert_eq!(targets.len(), 1);
    assert!(targets[0].met);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| capped 20%, 10 ms | rtcredit | rtsleep | rtcredit-b1 | 0.80 | 0.20 | 0.25 |"), "{md}");
    assert!(md.contains("## Headline: p99 / max lateness"), "{md}");
    assert!(md.contains("Measuring domU kernel: debian: 7.2.12+deb14-cloud-amd64"), "{md}");
    assert!(md.contains("| scheduler | mode | capped 20%, 10 ms |"), "{md}");
    assert!(md.contains("| rtcredit | rtsleep | 0.25 / 0.25 |"), "{md}");
    assert!(md.contains("| device | 98 / 100 | 300, 99 |"), "{md}");
    assert!(md.contains("The simulator on the same scenario"), "{md}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["runs"][1]["scheduler"], "rtcredit");
    assert_eq!(json["runs"][1]["mode"], "rtsleep");
    assert_eq!(json["runs"][1]["lateness_us"]["p99"], 250.0);
    assert!(out.join("cdf-capped20-10ms.svg").exists());
    let hist: Vec<_> = std::fs::read_dir(out.join("hist")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(hist.len(), 2, "one histogram per run: {hist:?}");
    let text = std::fs::read_to_string(&hist[0]).unwrap();
    assert!(text.contains("# Histogram Overflows:"), "{text}");
    assert!(out.join("p99-vs-cap.svg").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_gzipped_log_reads_as_the_plain_one() {
    let dir = std::env::temp_dir().join(format!("rtcredit-e2e-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(sample_log().as_bytes()).unwrap();
    std::fs::write(dir.join("rtcredit-b2.log.gz"), gz.finish().unwrap()).unwrap();
    let boots = rtcredit_e2e::read_boots(&dir).unwrap();
    assert_eq!(
        (boots[0].tag.as_str(), boots[0].scheduler.as_str(), boots[0].runs.len()),
        ("rtcredit-b2", "rtcredit", 2)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_log_name_without_scheduler_and_boot_is_refused() {
    let dir = std::env::temp_dir().join(format!("rtcredit-e2e-name-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("serial.log"), "").unwrap();
    std::fs::write(dir.join("notes.txt"), "not a log").unwrap();
    let err = rtcredit_e2e::read_boots(&dir).unwrap_err();
    assert!(err.to_string().contains("expected SCHEDULER-bN.log"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Mixed work: rtcredit + /dev/rtsleep must be at least 3x below credit2's p99, not just
/// below it.
#[test]
fn mixed_work_asks_for_three_times_below_credit2() {
    let targets_for = |credit2_p99_us: f64| {
        let dir = std::env::temp_dir().join(format!("rtcredit-e2e-mixed-{}-{credit2_p99_us}", std::process::id()));
        let raw = dir.join("raw");
        std::fs::create_dir_all(&raw).unwrap();
        let mut c2 = String::from("E2E: dom0 up kernel=6.1 sched=credit2\r\n");
        c2 += &run_lines(
            1,
            "mixed",
            "plain",
            4,
            &bench("fallback", credit2_p99_us, &[(200, 99), (credit2_p99_us as u64, 1)]),
            "{}",
        );
        std::fs::write(raw.join("credit2-b1.log"), c2).unwrap();
        let mut rt = String::from("E2E: dom0 up kernel=6.1 sched=rtcredit\r\n");
        rt += &run_lines(1, "mixed", "rtsleep", 4, &bench("device", 250.0, &[(200, 99), (250, 1)]), &status(100, 99));
        std::fs::write(raw.join("rtcredit-b1.log"), rt).unwrap();
        let targets = rtcredit_e2e::report(&raw, &dir.join("out"), None, None).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        targets.into_iter().find(|t| t.what.contains("3x below credit2")).expect("a mixed-work target against credit2")
    };
    let close = targets_for(600.0);
    assert!(!close.met, "0.25 ms against credit2's 0.6 ms is below, but not 3x below: {}", close.detail);
    let far = targets_for(1_000.0);
    assert!(far.met, "0.25 ms against credit2's 1.0 ms is 4x below: {}", far.detail);
    assert!(far.what.contains("mixed work"), "{}", far.what);
}

/// A file block whose header announces `announced` bytes but whose gzip holds `data`.
fn lying_block(name: &str, announced: usize, data: &[u8]) -> String {
    let honest = block(name, data);
    honest.replacen(&format!("bytes={}", data.len()), &format!("bytes={announced}"), 1)
}

#[test]
fn a_gzip_bomb_is_refused_without_inflating_it() {
    // 8 MiB of zeros compress to about 8 KiB; the header claims 1000 bytes. The
    // decoder stops one byte past the announced size.
    let bomb = vec![0u8; 8 << 20];
    let err = serial::parse(&lying_block("bomb.json", 1000, &bomb)).unwrap_err();
    assert!(matches!(&err, SerialError::Size { name, got: 1001, want: 1000, .. } if name == "bomb.json"), "{err}");
}

#[test]
fn a_file_announcing_more_than_the_limits_is_refused_before_decoding() {
    let limit = serial::MAX_FILE_BYTES;
    let err = serial::parse(&lying_block("big.bin", limit + 1, b"small")).unwrap_err();
    assert!(matches!(err, SerialError::TooLarge { line: 1, bytes, .. } if bytes == limit + 1), "{err}");
    assert!(err.to_string().contains("above the limit of 67108864 (per file)"), "{err}");
    // Files each under the limit, but too many in one log.
    let limits = serial::Limits { file_bytes: 100, total_bytes: 250 };
    let log: String = (0..3).map(|i| block(&format!("f{i}"), &[i as u8; 100])).collect();
    let err = serial::parse_with_limits(&log, limits).unwrap_err();
    assert!(matches!(&err, SerialError::TooLarge { name, what: "all files of a log", .. } if name == "f2"), "{err}");
    assert_eq!(
        serial::parse_with_limits(&log[..log.find("E2E-FILE-BEGIN name=f2").unwrap()], limits)
            .map(|log| log.files.len()),
        Ok(2)
    );
}

/// The histogram file: every 1 us bucket up to the last non-empty one below the cap,
/// then cyclictest's totals; wake-ups at or beyond the cap are overflows.
#[test]
fn a_histogram_file_has_every_bucket_below_the_cap_and_counts_the_rest() {
    let boots = {
        let dir = std::env::temp_dir().join(format!("rtcredit-e2e-hist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("rtcredit-b1.log"), sample_log()).unwrap();
        let boots = rtcredit_e2e::read_boots(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        boots
    };
    let mut run = boots[0].runs[0].clone();
    run.histogram = vec![(2, 5), (4, 1), (7, 3)];
    run.histogram_overflow = 2;
    let text = rtcredit_e2e::histogram_text(&run, 6);
    let buckets: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(buckets, ["000000 000000", "000001 000000", "000002 000005", "000003 000000", "000004 000001"]);
    assert!(text.contains("# Total: 000000011"), "{text}");
    assert!(text.contains("# Histogram Overflows: 00005"), "the bucket at 7 us and the guest's 2: {text}");
}

/// The boot of the two-pCPU configurations is `SCHED-bK-2cpu`; its scheduler is SCHED.
#[test]
fn a_two_pcpu_boot_log_names_its_scheduler() {
    let dir = std::env::temp_dir().join(format!("rtcredit-e2e-2cpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rtcredit-b1-2cpu.log"), sample_log()).unwrap();
    let boots = rtcredit_e2e::read_boots(&dir).unwrap();
    assert_eq!((boots[0].tag.as_str(), boots[0].scheduler.as_str()), ("rtcredit-b1-2cpu", "rtcredit"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every configuration has its simulator side, mixed work (the simulator's mixed-work
/// workload), seven hogs and two pCPUs included, at the configuration's period.
#[test]
fn the_simulator_side_covers_every_configuration() {
    use rtcredit_e2e::results::{Config, Hogs};
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenario.toml");
    let configs = [
        Config { hogs: Hogs::Alone, period_us: 10000 },
        Config { hogs: Hogs::Mixed, period_us: 2500 },
        Config { hogs: Hogs::Seven, period_us: 10000 },
        Config { hogs: Hogs::TwoCpu, period_us: 5000 },
    ];
    let rows = rtcredit_e2e::sim_side::simulate(&scenario, &configs).unwrap();
    for c in configs {
        let of: Vec<_> = rows.iter().filter(|r| r.config == c).collect();
        assert_eq!(of.len(), 3, "credit, rtcredit plain, rtcredit rtsleep for {}", c.label());
        let hogs = if c.hogs == Hogs::Alone { 0 } else { c.hogs.hog_count() };
        assert!(of.iter().all(|r| r.hog_cpu_share_pct.len() == hogs), "{} hogs in {}", hogs, c.label());
    }
}

#[test]
fn a_log_above_the_limit_is_refused_plain_or_gzipped_with_the_limit_named() {
    let dir = std::env::temp_dir().join(format!("rtcredit-e2e-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = "E2E: x\n".repeat(200); // 1400 bytes
    let plain = dir.join("credit-b1.log");
    std::fs::write(&plain, &text).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let packed = dir.join("credit-b2.log.gz");
    std::fs::write(&packed, gz.finish().unwrap()).unwrap();
    for (path, what) in [(&plain, "is more than 1000 bytes"), (&packed, "decompresses to more than 1000 bytes")] {
        let err = rtcredit_e2e::read_log_bytes(path, 1000).unwrap_err().to_string();
        assert!(err.contains(what) && err.contains("credit-b"), "{err}");
        assert_eq!(rtcredit_e2e::read_log_bytes(path, 1400).unwrap().len(), 1400);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
