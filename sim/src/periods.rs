//! The `periods` experiment (RT v2): RT at the periods audio and control loops use.
//!
//! Periods 1, 2.5, 5, 10 and 20 ms, credit, credit2, RTDS and rtcredit side by side, on
//! two hosts:
//!
//! * `1cpu`: one pCPU, three duty-cycle hogs of 20% each (100 ms windows, the paper's
//!   load), a periodic RT task (`rt`) and a **mixed-work** domain (`mixed`: a periodic
//!   task and a CPU burner in the same VCPU, the guest running the task first).
//! * `8cpu`: eight pCPUs, a mixed host: hogs of weights 128, 256, 384 and 512 (two
//!   VCPUs each), two capped hogs (50% and 2 x 50%), two I/O domains (Poisson, 2 ms mean
//!   gap, 150 us per event), two periodic RT domains, an RT spammer (10% budget) and the
//!   mixed-work domain.
//!
//! Every periodic task does 100 us of work per period and its domain is allowed RT with
//! a 20% budget (in budget at every period: 10% at 1 ms) and twice the requests its
//! task makes (at least the default 1000/s). Under RTDS the same domains
//! (`rt`, `rt-b`, `mixed`) get the reservation an administrator would give the task: a
//! period equal to the task's and a budget of 20% of it (extratime on); every other
//! domain keeps RTDS's defaults (4 ms every 10 ms, extratime). Each run is 3 s of simulated
//! time, seed 1. The scenarios are written as scenario files (`[[domain]]` sections)
//! and run through [`crate::scenario`], so `rtcredit-sim run` can replay any of them.

use std::fmt::Write as _;

use crate::scenario::{Scenario, ScenarioError, ScenarioResults};
use crate::stats::LatencyHistogram;

/// The periods, in microseconds.
pub const PERIODS_US: [u64; 5] = [1_000, 2_500, 5_000, 10_000, 20_000];
/// The two hosts.
pub const HOSTS: [&str; 2] = ["1cpu", "8cpu"];

/// One host at one period, every policy.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PeriodsRun {
    pub host: String,
    pub period_us: u64,
    pub results: ScenarioResults,
}

/// The RT settings of a domain that runs a task of `period_us`: RT with a 20% budget
/// and a request rate of twice the task's (at least the default 1000/s) under rtcredit,
/// an RTDS reservation of 20% at the task's period under RTDS. The rate's headroom
/// matters at 1 ms: the budget's windows are fixed, so one window can hold 1001 of a
/// 1 ms task's requests, and the default 1000/s degraded one of them in some seeds.
fn rt_settings(period_us: u64) -> String {
    let rate_per_s = (2_000_000 / period_us.max(1)).max(1000);
    format!(
        "rt_allowed = true\nrt_budget_pct = 20\nrt_rate_per_s = {rate_per_s}\nrtds_period_us = {period_us}\nrtds_budget_us = {}\n",
        period_us / 5
    )
}

fn periodic(name: &str, period_us: u64) -> String {
    format!(
        "[[domain]]\nname = \"{name}\"\n{}\
         workload = {{ kind = \"periodic\", period_us = {period_us}, compute_us = 100 }}\n",
        rt_settings(period_us)
    )
}

/// The policies every `periods` scenario runs.
const POLICIES: [&str; 4] = ["credit", "credit2", "rtds", "rtcredit"];

/// The scenario file of `host` at `period_us`, under every policy.
pub fn scenario_text(host: &str, period_us: u64, seed: u64) -> String {
    scenario_text_for(host, period_us, seed, &POLICIES)
}

/// The same under `policies` only.
fn scenario_text_for(host: &str, period_us: u64, seed: u64, policies: &[&str]) -> String {
    let quoted: Vec<String> = policies.iter().map(|p| format!("\"{p}\"")).collect();
    let mut text = format!("seed = {seed}\nduration_ms = 3000\npolicies = [{}]\n\n", quoted.join(", "));
    let pcpus = if host == "1cpu" { 1 } else { 8 };
    let _ = writeln!(text, "[host]\npcpus = {pcpus}\n");
    text.push_str(&periodic("rt", period_us));
    let _ = writeln!(
        text,
        "[[domain]]\nname = \"mixed\"\n{}\
         workload = {{ kind = \"mixed-work\", period_us = {period_us}, compute_us = 100 }}\n",
        rt_settings(period_us)
    );
    if host == "1cpu" {
        for index in 1..=3 {
            let _ = writeln!(
                text,
                "[[domain]]\nname = \"hog{index}\"\nworkload = {{ kind = \"duty-hog\", share_pct = 20, cycle_ms = 100 }}\n"
            );
        }
        return text;
    }
    text.push_str(&periodic("rt-b", period_us));
    for weight in [128, 256, 384, 512] {
        let _ = writeln!(
            text,
            "[[domain]]\nname = \"hog-w{weight}\"\nweight = {weight}\nvcpus = 2\nworkload = {{ kind = \"hog\" }}\n"
        );
    }
    for (name, vcpus) in [("capped-a", 1), ("capped-b", 2)] {
        let _ = writeln!(
            text,
            "[[domain]]\nname = \"{name}\"\ncap_pct = {}\nvcpus = {vcpus}\nworkload = {{ kind = \"hog\" }}\n",
            50 * vcpus
        );
    }
    for name in ["io-a", "io-b"] {
        let _ = writeln!(
            text,
            "[[domain]]\nname = \"{name}\"\nworkload = {{ kind = \"io-bound\", mean_gap_us = 2000, compute_us = 150 }}\n"
        );
    }
    text.push_str(
        "[[domain]]\nname = \"spammer\"\nrt_allowed = true\nrt_budget_pct = 10\n\
         workload = { kind = \"rt-spammer\", chunk_us = 500, lead_us = 1000 }\n",
    );
    text
}

/// Runs every host at every period.
pub fn run_periods(seed: u64) -> Result<Vec<PeriodsRun>, ScenarioError> {
    let mut runs = Vec::new();
    for host in HOSTS {
        for period_us in PERIODS_US {
            let name = format!("periods-{host}-{period_us}us");
            let scenario = Scenario::parse(&scenario_text(host, period_us, seed), &name)?;
            runs.push(PeriodsRun { host: host.to_string(), period_us, results: scenario.run(&name)? });
        }
    }
    Ok(runs)
}

/// An I/O domain's lateness on the 8-pCPU host at one period, its samples pooled over
/// several seeds: one 3 s run's p99 of ~1,500 wake-ups is decided by whether a spell of
/// long waits falls into it (see `sim/README.md`), pooled runs say what the tail is.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PooledTail {
    pub period_us: u64,
    pub domain: String,
    pub seeds: u64,
    /// (policy, samples, p50 us, p99 us, max us) for credit and rtcredit.
    pub policies: Vec<(String, u64, f64, f64, f64)>,
}

/// A non-RT domain's CPU share on the 8-pCPU host at one period, the mean over the
/// seeds: one 3 s run's shares move by several points from seed to seed under credit
/// itself.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PooledShare {
    pub period_us: u64,
    pub domain: String,
    pub credit_pct: f64,
    pub rtcredit_pct: f64,
}

/// What [`pooled`] returns: the I/O tails, the RT tasks' lateness and the non-RT
/// shares.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Pooled {
    pub seeds: u64,
    pub tails: Vec<PooledTail>,
    /// The RT-allowed periodic tasks' lateness (`rt`, `rt-b`, `mixed`): over many
    /// seeds, the maximum is where one RT unit waiting for another would show (RT v2's
    /// isolation bound).
    pub rt_tails: Vec<PooledTail>,
    pub shares: Vec<PooledShare>,
}

/// The RT-allowed periodic tasks of the 8-pCPU host.
const RT_TASKS: [&str; 3] = ["rt", "rt-b", "mixed"];

/// The domains the share target leaves out: the RT domains and the spammer.
const RT_DOMAINS: [&str; 4] = ["rt", "rt-b", "mixed", "spammer"];

/// Runs the 8-pCPU host under credit and rtcredit at every period for seeds
/// `1..=seeds`; pools `io-a`'s and `io-b`'s lateness histograms per policy and
/// averages every non-RT domain's share.
pub fn pooled(seeds: u64) -> Result<Pooled, ScenarioError> {
    let mut tails = Vec::new();
    let mut rt_tails = Vec::new();
    let mut shares = Vec::new();
    for period_us in PERIODS_US {
        let mut hists: Vec<(String, String, LatencyHistogram)> = Vec::new();
        // (domain, sum of credit shares, sum of rtcredit shares)
        let mut share_sums: Vec<(String, f64, f64)> = Vec::new();
        for results in run_seeds(period_us, seeds)? {
            for run in &results.runs {
                for d in run.domains.iter().filter(|d| !RT_DOMAINS.contains(&d.name.as_str())) {
                    let index = match share_sums.iter().position(|(n, _, _)| *n == d.name) {
                        Some(index) => index,
                        None => {
                            share_sums.push((d.name.clone(), 0.0, 0.0));
                            share_sums.len() - 1
                        }
                    };
                    if run.policy == "credit" {
                        share_sums[index].1 += d.cpu_share_pct;
                    } else {
                        share_sums[index].2 += d.cpu_share_pct;
                    }
                }
                for d in run.domains.iter().filter(|d| d.name.starts_with("io-") || RT_TASKS.contains(&d.name.as_str()))
                {
                    let Some(hist) = &d.lateness_hist else { continue };
                    match hists.iter_mut().find(|(p, n, _)| *p == run.policy && *n == d.name) {
                        Some((_, _, all)) => all.merge(hist),
                        None => hists.push((run.policy.clone(), d.name.clone(), hist.clone())),
                    }
                }
            }
        }
        for domain in ["io-a", "io-b"].iter().chain(RT_TASKS.iter()) {
            let policies = hists
                .iter()
                .filter(|(_, n, _)| n == domain)
                .map(|(p, _, h)| {
                    let s = h.summary();
                    (p.clone(), h.len(), s.p50, s.p99, s.max)
                })
                .collect();
            let tail = PooledTail { period_us, domain: domain.to_string(), seeds, policies };
            if RT_TASKS.contains(domain) {
                rt_tails.push(tail);
            } else {
                tails.push(tail);
            }
        }
        for (domain, credit, rtcredit) in share_sums {
            shares.push(PooledShare {
                period_us,
                domain,
                credit_pct: credit / seeds as f64,
                rtcredit_pct: rtcredit / seeds as f64,
            });
        }
    }
    Ok(Pooled { seeds, tails, rt_tails, shares })
}

/// The 8-pCPU host at `period_us` under credit and rtcredit for seeds `1..=seeds`, on
/// every available thread, in seed order (so that what is summed from them is summed
/// in the same order whatever the thread count).
fn run_seeds(period_us: u64, seeds: u64) -> Result<Vec<ScenarioResults>, ScenarioError> {
    let run_one = |seed: u64| {
        let text = scenario_text_for("8cpu", period_us, seed, &["credit", "rtcredit"]);
        let name = format!("periods-8cpu-{period_us}us-seed{seed}");
        Scenario::parse(&text, &name)?.run(&name)
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(seeds.max(1) as usize);
    let next_seed = std::sync::atomic::AtomicU64::new(1);
    let slots: Vec<std::sync::Mutex<Option<Result<ScenarioResults, ScenarioError>>>> =
        (0..seeds).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let seed = next_seed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if seed > seeds {
                    break;
                }
                let outcome = run_one(seed);
                *slots[(seed - 1) as usize].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every seed ran: the workers loop until none is left")
        })
        .collect()
}

/// `periods-pooled.md`: the I/O domains' pooled tails and the non-RT domains' mean
/// shares, credit against rtcredit.
pub fn render_pooled_markdown(pooled: &Pooled) -> String {
    let mut out = String::from("# rtcredit-sim periods --pool-seeds\n\n");
    let _ = writeln!(
        out,
        "The 8-pCPU host of `periods` under credit and rtcredit, seeds 1-{} (3 s each), the I/O \
         domains' wake-up lateness pooled over the seeds (ms). Target (RT v2): rtcredit's p99 at most \
         1.25x credit's.\n",
        pooled.seeds
    );
    out.push_str("| period ms | domain | wake-ups (credit / rtcredit) | credit p50 / p99 / max | rtcredit p50 / p99 / max | p99 ratio |\n");
    out.push_str("| ---: | --- | --- | --- | --- | ---: |\n");
    for t in &pooled.tails {
        let get = |name: &str| t.policies.iter().find(|p| p.0 == name);
        let (Some(c), Some(r)) = (get("credit"), get("rtcredit")) else { continue };
        let cells = [
            (t.period_us as f64 / 1e3).to_string(),
            t.domain.clone(),
            format!("{} / {}", c.1, r.1),
            format!("{} / {} / {}", ms(c.2), ms(c.3), ms(c.4)),
            format!("{} / {} / {}", ms(r.2), ms(r.3), ms(r.4)),
            format!("{:.2}", if c.3 > 0.0 { r.3 / c.3 } else { f64::NAN }),
        ];
        row(&mut out, &cells);
    }
    out.push_str(
        "\nThe RT tasks' lateness under rtcredit (ms), every job of every seed. Targets (RT v2): p99 at \
         most 0.05 ms, max at most 0.5 ms (the isolation bound: an RT unit delayed by other domains' \
         RT by at most the RT quantum).\n\n",
    );
    out.push_str("| period ms | domain | jobs | p50 | p99 | max |\n");
    out.push_str("| ---: | --- | ---: | ---: | ---: | ---: |\n");
    for t in &pooled.rt_tails {
        let Some(r) = t.policies.iter().find(|p| p.0 == "rtcredit") else { continue };
        let cells =
            [(t.period_us as f64 / 1e3).to_string(), t.domain.clone(), r.1.to_string(), ms(r.2), ms(r.3), ms(r.4)];
        row(&mut out, &cells);
    }
    out.push_str(
        "\nEvery non-RT domain's CPU share (% of one CPU), the mean over the seeds. Target (RT v2): \
         within 1 point of credit's.\n\n",
    );
    out.push_str("| period ms | domain | credit % | rtcredit % | change (points) |\n");
    out.push_str("| ---: | --- | ---: | ---: | ---: |\n");
    for s in &pooled.shares {
        let cells = [
            (s.period_us as f64 / 1e3).to_string(),
            s.domain.clone(),
            format!("{:.2}", s.credit_pct),
            format!("{:.2}", s.rtcredit_pct),
            format!("{:+.2}", s.rtcredit_pct - s.credit_pct),
        ];
        row(&mut out, &cells);
    }
    out
}

/// Appends one markdown table row.
fn row(out: &mut String, cells: &[String]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn ms(us: f64) -> String {
    format!("{:.3}", us / 1e3)
}

/// `periods.md`: the summary table, then every domain of every run.
pub fn render_markdown(runs: &[PeriodsRun]) -> String {
    let mut out = String::from("# rtcredit-sim periods\n\n");
    out.push_str(
        "Periods 1-20 ms; `rt`: a periodic task (100 us per period, RT allowed, 20% budget; \
         under RTDS a reservation of 20% at the task's period); `mixed`: the same task plus a \
         CPU burner in its VCPU. Lateness in ms (p50 / p99 / max); fallbacks: RT requests \
         refused or degraded; share change: the largest change of a non-RT domain's CPU share \
         from credit to the row's policy, in points. 3 s per run, seed 1. \
         Hosts: see `sim/src/periods.rs`.\n\n",
    );
    out.push_str(
        "| host | period ms | policy | rt p50 | rt p99 | rt max | mixed p50 | mixed p99 | mixed max | mixed share % | RT grants | fallbacks | share change |\n",
    );
    out.push_str("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for run in runs {
        let credit = run.results.runs.iter().find(|r| r.policy == "credit");
        for policy_run in &run.results.runs {
            let find = |name: &str| policy_run.domains.iter().find(|d| d.name == name);
            let lat = |name: &str| find(name).and_then(|d| d.lateness_us);
            let (rt, mixed) = (lat("rt"), lat("mixed"));
            let cell = |l: Option<crate::stats::LatencySummary>, f: fn(&crate::stats::LatencySummary) -> f64| {
                l.map_or("-".to_string(), |l| ms(f(&l)))
            };
            let rt_names = ["rt", "rt-b", "mixed"];
            let grants: u64 =
                policy_run.domains.iter().filter(|d| rt_names.contains(&d.name.as_str())).map(|d| d.rt_fires).sum();
            let fallbacks: u64 = policy_run
                .domains
                .iter()
                .filter(|d| rt_names.contains(&d.name.as_str()))
                .map(|d| d.rtsleep_refused + d.rt_degraded)
                .sum();
            let change = credit.map_or(0.0, |c| {
                policy_run
                    .domains
                    .iter()
                    .filter(|d| !rt_names.contains(&d.name.as_str()) && d.name != "spammer")
                    .filter_map(|d| {
                        c.domains.iter().find(|e| e.name == d.name).map(|e| (d.cpu_share_pct - e.cpu_share_pct).abs())
                    })
                    .fold(0.0, f64::max)
            });
            let cells = [
                run.host.clone(),
                (run.period_us as f64 / 1e3).to_string(),
                policy_run.policy.clone(),
                cell(rt, |l| l.p50),
                cell(rt, |l| l.p99),
                cell(rt, |l| l.max),
                cell(mixed, |l| l.p50),
                cell(mixed, |l| l.p99),
                cell(mixed, |l| l.max),
                format!("{:.2}", find("mixed").map_or(0.0, |d| d.cpu_share_pct)),
                grants.to_string(),
                fallbacks.to_string(),
                format!("{change:.2}"),
            ];
            row(&mut out, &cells);
        }
    }
    out.push_str("\n## Every domain\n\n");
    out.push_str("| host | period ms | policy | domain | workload | share % | p50 | p99 | max | RT grants | fallbacks | RT/BOOST/UNDER/OVER ms |\n");
    out.push_str("| --- | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for run in runs {
        for policy_run in &run.results.runs {
            for d in &policy_run.domains {
                let (p50, p99, max) =
                    d.lateness_us.map_or(("-".into(), "-".into(), "-".into()), |l| (ms(l.p50), ms(l.p99), ms(l.max)));
                let cells = [
                    run.host.clone(),
                    (run.period_us as f64 / 1e3).to_string(),
                    policy_run.policy.clone(),
                    d.name.clone(),
                    d.workload.to_string(),
                    format!("{:.2}", d.cpu_share_pct),
                    p50,
                    p99,
                    max,
                    d.rt_fires.to_string(),
                    (d.rtsleep_refused + d.rt_degraded).to_string(),
                    format!(
                        "{:.0}/{:.0}/{:.0}/{:.0}",
                        d.prio_time_ms.rt, d.prio_time_ms.boost, d.prio_time_ms.under, d.prio_time_ms.over
                    ),
                ];
                row(&mut out, &cells);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_parses() {
        for host in HOSTS {
            for period_us in PERIODS_US {
                let text = scenario_text(host, period_us, 1);
                Scenario::parse(&text, "periods").unwrap_or_else(|e| panic!("{host} {period_us}: {e}\n{text}"));
            }
        }
    }
}
