//! The command line (`clap`) and what each command does, against any [`Backend`].
//! `main.rs` passes the real backend; tests pass [`crate::fake::FakeBackend`].

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use tracing::{info, warn};

use crate::backend::{require_rtcredit, resolve, resolve_pool, Backend};
use crate::bootargs::{check_grub, read_grub, BootChoice, Severity};
use crate::error::{Error, Result};
use crate::output;
use crate::params::{DomChange, GlobalsChange};
use crate::policy::{Plan, Policy};

/// dom0 administration of Xen's sched=rtcredit (RT-Credit).
#[derive(Debug, Parser)]
#[command(name = "rtcredit-ctl", version, about, long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug; RUST_LOG also works).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// RT permission as the command line spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Rt {
    Allow,
    Deny,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show domains' parameters and counters, or set one domain's parameters.
    Dom {
        /// Domains by name or id (all when none is given; exactly one to set).
        domains: Vec<String>,
        /// A domain, as `xl sched-credit -d DOMAIN` takes it (the same as a DOMAIN).
        #[arg(short = 'd', long = "domain", value_name = "DOMAIN")]
        domain_flags: Vec<String>,
        /// Weight, 1..=65535 (`-w` as in `xl sched-credit`).
        #[arg(short = 'w', long)]
        weight: Option<u64>,
        /// Cap in percent of one CPU, 0 = none (`-c` as in `xl sched-credit`).
        #[arg(short = 'c', long)]
        cap: Option<u64>,
        /// Whether the domain may request RT with SCHEDOP_rtsleep.
        #[arg(long, value_enum)]
        rt: Option<Rt>,
        /// RT CPU budget, percent of one CPU, 1..=100.
        #[arg(long = "rt-budget")]
        rt_budget: Option<u64>,
        /// RT requests per second, 1..=100000.
        #[arg(long = "rt-rate")]
        rt_rate: Option<u64>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show or set the scheduler's parameters of a cpupool (default: cpupool 0).
    Sched {
        /// Accepted for `xl sched-credit -s` habits: this command is always the
        /// scheduler-wide parameters.
        #[arg(short = 's', long = "schedparam", hide_short_help = true)]
        schedparam: bool,
        /// The cpupool, by name or id (`-p` as in `xl sched-credit -s -p POOL`); it must
        /// run sched=rtcredit. Default: cpupool 0.
        #[arg(short = 'p', long = "pool", value_name = "POOL")]
        pool: Option<String>,
        #[command(flatten)]
        timing: Timing,
        /// Maximum RT lead in ms, the minimum period..=60000.
        #[arg(long = "max-lead-ms")]
        max_lead_ms: Option<u64>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check a policy file without Xen: syntax, every value's range, duplicate rules
    /// (what `apply` checks before it asks Xen anything).
    Check { policy: PathBuf },
    /// Make the running system match a policy file (idempotent).
    Apply {
        policy: PathBuf,
        /// Print what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply a policy now and again whenever a domain is created (xenstore watch on
    /// @introduceDomain).
    Watch {
        policy: PathBuf,
        /// Also re-apply every SECONDS, 1..=86400 (and poll only, if xenstore is unreachable).
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
        poll: Option<u64>,
    },
    /// Print the Xen command-line words for sched=rtcredit; check a GRUB file.
    ///
    /// --slice-ms, --ratelimit-us, --min-period-us and --rt-capacity-pct become the boot
    /// parameters rtcredit_tslice_ms, rtcredit_ratelimit_us, rtcredit_min_period_us and
    /// rtcredit_rt_capacity_pct (the last for every cpupool).
    BootArgs {
        #[command(flatten)]
        timing: Timing,
        /// Let dom0 use RT from boot (rtcredit_dom0_rt; for testing).
        #[arg(long = "dom0-rt")]
        dom0_rt: bool,
        /// Check the Xen lines of this GRUB file (/etc/default/grub or grub.cfg).
        #[arg(long = "check-grub", value_name = "FILE")]
        check_grub: Option<PathBuf>,
    },
    /// Print a shell completion script (e.g. `rtcredit-ctl completions bash >
    /// /usr/share/bash-completion/completions/rtcredit-ctl`); needs no Xen.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page, rtcredit-ctl(1), as roff; needs no Xen.
    Man,
}

/// The global parameters `sched` sets at run time and `boot-args` at boot.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct Timing {
    /// Time slice in ms, 1..=1000 (`-t` as in `xl sched-credit -s`).
    #[arg(short = 't', long = "slice-ms")]
    pub slice_ms: Option<u64>,
    /// Rate limit in us: 0 (off) or 100..=500000, at most the slice (`-r` as in `xl
    /// sched-credit -s`).
    #[arg(short = 'r', long = "ratelimit-us")]
    pub ratelimit_us: Option<u64>,
    /// Minimum RT period in us, 100..=1000000 (default 1000): how far apart a VCPU's
    /// consecutive RT deadlines must be.
    #[arg(long = "min-period-us")]
    pub min_period_us: Option<u64>,
    /// RT capacity of the cpupool in percent of each of its CPUs, 0..=100 (default 50):
    /// the RT budgets granted to its domains may add up to this times its CPUs.
    #[arg(long = "rt-capacity-pct")]
    pub rt_capacity_pct: Option<u64>,
}

/// Opens the backend when a command needs one (`boot-args` does not).
pub type Opener<'a> = &'a mut dyn FnMut() -> Result<Box<dyn Backend>>;

/// The `path` of an [`Error::Io`] on standard output.
const STDOUT: &str = "stdout";

fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes()).map_err(|source| Error::Io { path: STDOUT.to_string(), source })
}

impl Error {
    /// Whether this is [`emit`] writing to a closed pipe (`| head`): `main` ends
    /// quietly then, with status 0.
    pub fn is_closed_stdout(&self) -> bool {
        matches!(self, Error::Io { path, source } if path == STDOUT && source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Runs one command; returns the exit status (0, or 1 when `boot-args --check-grub`
/// found problems). Errors are for the caller to print.
pub fn run(cli: Cli, open: Opener, out: &mut dyn Write) -> Result<i32> {
    match cli.command {
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rtcredit-ctl", &mut script);
            emit(out, &String::from_utf8_lossy(&script))?;
            Ok(0)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|source| Error::Io { path: STDOUT.to_string(), source })?;
            emit(out, &String::from_utf8_lossy(&page))?;
            Ok(0)
        }
        Command::Check { policy } => {
            let policy = Policy::load(&policy)?;
            let global = if policy.global.is_empty() { "no [global] changes" } else { "[global] changes" };
            emit(out, &format!("{}: OK: {} rule(s), {global}\n", policy.file, policy.rules.len()))?;
            Ok(0)
        }
        Command::BootArgs { timing, dom0_rt, check_grub: grub } => {
            let Timing { slice_ms, ratelimit_us, min_period_us, rt_capacity_pct } = timing;
            let choice = BootChoice { slice_ms, ratelimit_us, min_period_us, rt_capacity_pct, dom0_rt };
            emit(out, &format!("{}\n", choice.words()?.join(" ")))?;
            let Some(path) = grub else { return Ok(0) };
            let findings = check_grub(&read_grub(&path)?, &choice);
            let file = path.display();
            for f in &findings {
                let kind = if f.severity == Severity::Error { "error" } else { "note" };
                let at = if f.line == 0 { String::new() } else { format!("{}:", f.line) };
                emit(out, &format!("{file}:{at} {kind}: {}\n", f.message))?;
            }
            let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
            if errors == 0 {
                emit(out, &format!("{file}: OK: Xen boots sched=rtcredit\n"))?;
                Ok(0)
            } else {
                emit(out, &format!("{file}: {errors} problem(s)\n"))?;
                Ok(1)
            }
        }
        command => {
            let mut backend = open()?;
            let backend = backend.as_mut();
            require_rtcredit(backend)?;
            run_on(command, backend, out)
        }
    }
}

fn run_on(command: Command, backend: &mut dyn Backend, out: &mut dyn Write) -> Result<i32> {
    match command {
        Command::Dom { mut domains, domain_flags, weight, cap, rt, rt_budget, rt_rate, json } => {
            domains.extend(domain_flags);
            let all = backend.domains()?;
            let change = DomChange {
                weight,
                cap,
                rt_allowed: rt.map(|rt| rt == Rt::Allow),
                rt_budget_pct: rt_budget,
                rt_rate_per_s: rt_rate,
            };
            if !change.is_empty() {
                let [spec] = domains.as_slice() else {
                    return Err(Error::Usage("setting parameters needs exactly one DOMAIN (name or id)".to_string()));
                };
                change.validate()?;
                let dom = resolve(&all, spec)?;
                change.check_for(&dom)?;
                let before = backend.get_dom(dom.id)?;
                let diff = change.against(&before);
                if diff.is_empty() {
                    emit(out, &format!("{} (id {}): no change\n", dom.name, dom.id))?;
                } else {
                    let budget = diff.rt_budget_pct.unwrap_or(before.rt_budget_pct.into()) as u32;
                    backend
                        .put_dom(dom.id, &diff.to_put())
                        .map_err(|error| error.for_domain(&dom.name, dom.id, budget))?;
                    info!(domain = dom.id, "set {}", diff.describe(&before));
                    emit(out, &format!("{} (id {}): {}\n", dom.name, dom.id, diff.describe(&before)))?;
                }
                return Ok(0);
            }
            let chosen = if domains.is_empty() {
                all
            } else {
                domains.iter().map(|spec| resolve(&all, spec)).collect::<Result<Vec<_>>>()?
            };
            let mut rows = Vec::new();
            for dom in chosen {
                let sched = backend.get_dom(dom.id)?;
                rows.push((dom, sched));
            }
            emit(out, &if json { output::dom_json(&rows) } else { output::dom_table(&rows) })?;
            Ok(0)
        }
        Command::Sched {
            schedparam: _,
            pool,
            timing: Timing { slice_ms, ratelimit_us, min_period_us, rt_capacity_pct },
            max_lead_ms,
            json,
        } => {
            let change = GlobalsChange { slice_ms, ratelimit_us, min_period_us, max_lead_ms, rt_capacity_pct };
            let pool = match pool {
                Some(spec) => resolve_pool(&backend.pools()?, &spec)?,
                None => crate::backend::PoolId::zero(),
            };
            let mut now = backend.get_globals(&pool)?;
            if !change.is_empty() {
                let want = change.merged(&now)?;
                if want != now {
                    info!(cpupool = pool.id, "set {}", GlobalsChange::describe(&now, &want));
                    now = backend.put_globals(&pool, &want)?;
                }
            }
            emit(out, &if json { output::sched_json(&pool, &now) } else { output::sched_table(&pool, &now) })?;
            Ok(0)
        }
        Command::Apply { policy, dry_run } => {
            let policy = Policy::load(&policy)?;
            apply(&policy, backend, dry_run, out)?;
            Ok(0)
        }
        Command::Watch { policy, poll } => {
            let policy = Policy::load(&policy)?;
            let poll = poll.map(Duration::from_secs);
            emit(out, &format!("watching @introduceDomain for {}\n", policy.file))?;
            loop {
                // A failed apply (a domain refusing a value, say) is reported and the
                // watch goes on; only losing the watch itself ends it.
                if let Err(error) = apply(&policy, backend, false, out) {
                    warn!("applying {} failed: {error}", policy.file);
                }
                match backend.wait_for_domains(poll) {
                    Ok(()) => {}
                    Err(Error::WatchEnded) => return Ok(0),
                    Err(error) => return Err(error),
                }
            }
        }
        // Handled by `run` without opening Xen.
        Command::BootArgs { .. } | Command::Check { .. } | Command::Completions { .. } | Command::Man => Ok(0),
    }
}

/// Prints the plan and carries it out (unless `dry_run`); says so when there is
/// nothing to do.
pub fn apply(policy: &Policy, backend: &mut dyn Backend, dry_run: bool, out: &mut dyn Write) -> Result<()> {
    let plan = Plan::make(policy, backend)?;
    if plan.is_empty() {
        return emit(out, &format!("nothing to do: the system matches {}\n", policy.file));
    }
    let verb = if dry_run { "would change" } else { "change" };
    for line in plan.lines() {
        emit(out, &format!("{verb} {line}\n"))?;
    }
    if dry_run {
        return emit(out, &format!("dry run: {} change(s) not applied\n", plan.lines().len()));
    }
    plan.execute(backend)?;
    emit(out, &format!("applied {} change(s)\n", plan.lines().len()))
}
