//! Any text as an `rtcredit-sim` scenario: no panic while parsing and checking; an
//! accepted scenario builds a simulation for each of its policies, and a short run
//! of it (the first 20 simulated ms) completes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcredit_sim::engine::Simulator;
use rtcredit_sim::scenario::Scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(scenario) = Scenario::parse(text, "fuzz.toml") else { return };
    for policy in scenario.policies() {
        let mut spec = scenario.spec(policy);
        spec.until_ns = spec.until_ns.min(20_000_000);
        if let Ok(simulator) = Simulator::new(&spec) {
            let _ = simulator.run();
        }
    }
});
