//! The host (`src/host.rs`) calls the core in the order the Xen shim does: a test that
//! reads both sources and holds them to one sequence, so that a change to either that
//! the other does not follow fails here (issue #16: "`host.rs` says it calls the core
//! exactly in the order the Xen shim does, but never does the shim's
//! sleep-before-schedule").

use std::path::PathBuf;

fn source(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The text of the function that starts at `signature`, to its closing brace at the
/// signature's own indentation (column 0 for C, 4 for a method).
fn body<'a>(text: &'a str, signature: &str) -> &'a str {
    let start = text.find(signature).unwrap_or_else(|| panic!("{signature} is defined"));
    let indent = &signature[..signature.len() - signature.trim_start().len()];
    let rest = &text[start..];
    let end = rest.find(&format!("\n{indent}}}\n")).unwrap_or_else(|| panic!("{signature} ends"));
    &rest[..end]
}

/// `steps` appear in `text` in this order (each after the previous one).
fn in_order(what: &str, text: &str, steps: &[&str]) {
    let mut at = 0;
    for step in steps {
        match text[at..].find(step) {
            Some(found) => at += found + step.len(),
            None => panic!("{what}: `{step}` missing or out of order (expected order: {steps:?})"),
        }
    }
}

#[test]
fn a_pass_tells_the_core_of_a_block_then_begins_steals_from_the_next_cpu_and_finishes() {
    let shim = source("xen/src/sched_rtcredit.c");
    let shim_pass = body(&shim, "static void cf_check rtcx_schedule(");
    in_order(
        "rtcx_schedule",
        shim_pass,
        &[
            "!unit_runnable(currunit)",
            "rtcredit_sleep(",
            "rtcredit_schedule_begin(",
            "(cpu + offset) % nr_cpu_ids",
            "rtcredit_steal(",
            "rtcredit_schedule_finish(",
        ],
    );
    let host = source("src/host.rs");
    let host_pass = body(&host, "    pub fn schedule(&mut self, cpu: u32");
    in_order(
        "Host::schedule",
        host_pass,
        &[
            "take_block_mark(",
            ".sleep(",
            "schedule_begin(",
            "(index + offset) % ncpus",
            "steal_from(",
            "schedule_finish(",
        ],
    );
}

#[test]
fn an_rt_timer_tells_the_core_of_a_block_before_it_fires() {
    let shim = source("xen/src/sched_rtcredit.c");
    in_order(
        "rtcx_rt_timer",
        body(&shim, "static void cf_check rtcx_rt_timer("),
        &["!unit_runnable(unit)", "rtcredit_sleep(", "rtcredit_rt_fire("],
    );
    let host = source("src/host.rs");
    in_order(
        "Host::rt_fire",
        body(&host, "    pub fn rt_fire(&mut self"),
        &["take_block_mark(", ".sleep(", ".rt_fire("],
    );
}

/// After every core call that may change whether a unit is runnable, the shim and the
/// framework re-read where its RT timer belongs (stopped while it sleeps: its wake
/// serves the deadline), so neither leaves a timer armed that Xen's slop would make
/// cost the guest's own timer 50 us.
#[test]
fn the_rt_timer_is_synced_after_each_sleep_and_wake() {
    let shim = source("xen/src/sched_rtcredit.c");
    for (function, call) in [
        ("static void cf_check rtcx_sleep(", "rtcredit_sleep("),
        ("static void cf_check rtcx_wake(", "rtcredit_wake("),
        ("static void cf_check rtcx_schedule(", "rtcredit_sleep("),
    ] {
        in_order(function, body(&shim, function), &[call, "rtcx_sync_rt_timer("]);
    }
    let pass = body(&shim, "static void cf_check rtcx_schedule(");
    let second = pass.rfind("rtcredit_sleep(").expect("a second sleep in the pass");
    in_order("rtcx_schedule (the unit it picked sleeps)", &pass[second..], &["rtcredit_sleep(", "rtcx_sync_rt_timer("]);
    let framework = source("src/framework/mod.rs");
    for (function, call) in [
        ("    pub fn wake(", "self.sched.wake("),
        ("    pub fn block(", "self.sched.block("),
        ("    fn pass(", "self.sched.schedule("),
        ("    pub fn rtsleep(", "self.sched.rtsleep("),
    ] {
        in_order(function, body(&framework, function), &[call, "self.sync_rt_timer("]);
    }
}

/// The sequences are not vacuous: a shim with the sleep after the begin fails.
#[test]
fn the_order_check_fails_on_a_reordered_pass() {
    let reordered = "rtcredit_schedule_begin(x); if (!unit_runnable(currunit)) rtcredit_sleep(y);";
    let result = std::panic::catch_unwind(|| {
        in_order("reordered", reordered, &["!unit_runnable(currunit)", "rtcredit_sleep(", "rtcredit_schedule_begin("])
    });
    assert!(result.is_err());
}
