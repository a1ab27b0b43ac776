//! `rtsleep run`: start a program with `librtsleep_preload.so` in `LD_PRELOAD` and the
//! routing window and policy (`--all` or the default: absolute deadlines and real-time
//! threads, see [`ROUTING_HELP`]) in its environment, wait for it, and exit as it did.
//!
//! The shim is looked for in this order: `--shim`, `$RTSLEEP_SHIM`, beside the `rtsleep`
//! binary, in `deps/` beside it (cargo's target directory, where `cargo build -p
//! rtsleep-cli` puts it), then `../lib/` and `../lib/rtsleep/` (an installed prefix);
//! when none is there (a `cargo install`), the copy embedded at build time (build.rs) is
//! written once to a per-user directory ([`EMBEDDED_DIRS`]) and used from there.
//! The exit status is the program's, or 128 + the signal number if a signal killed it,
//! as a shell reports it. While the program runs, `rtsleep` ignores SIGINT and SIGQUIT
//! (the terminal sends them to the program too), so the program decides what they do.

use crate::{duration_arg, CliError};
use clap::Args;
use std::ffi::{OsStr, OsString};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

/// The shim's file name.
pub const SHIM_NAME: &str = "librtsleep_preload.so";

/// Which sleeps are routed, in the man-page style of `rtsleep run --help`.
const ROUTING_HELP: &str = "\
Which sleeps go through /dev/rtsleep (a VCPU has one RT registration with Xen, so
routing a housekeeping thread's sleeps can delay the real-time thread's wake-up):

  default   clock_nanosleep(..., TIMER_ABSTIME, ...) to an absolute deadline, and every
            sleep of a thread whose scheduling policy is SCHED_FIFO or SCHED_RR
  --all     every nanosleep, clock_nanosleep and usleep

in both cases only sleeps whose length (or distance to the deadline) is inside
[--min, --max]. The rest go to libc unchanged. The shim's counters (--stats) say how
many were routed, fell back, not selected, or passed through.";

#[derive(Debug, Args)]
#[command(after_long_help = ROUTING_HELP)]
pub struct RunArgs {
    /// Route every sleep in the window, not only absolute deadlines and real-time threads.
    #[arg(long)]
    all: bool,
    /// Shortest sleep to route through the device (shorter ones are left alone).
    #[arg(long, value_parser = duration_arg, default_value = "1ms")]
    min: Duration,
    /// Longest sleep to route through the device.
    #[arg(long, value_parser = duration_arg, default_value = "1s")]
    max: Duration,
    /// Path of librtsleep_preload.so (default: searched, see `rtsleep run --help`).
    #[arg(long)]
    shim: Option<PathBuf>,
    /// Write the shim's counters to this file when the program exits (%p: its pid).
    #[arg(long)]
    stats: Option<PathBuf>,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<OsString>,
}

/// Finds the shim; see the module doc for the order.
pub fn find_shim(explicit: Option<&Path>) -> Result<PathBuf, CliError> {
    if let Some(path) = explicit {
        return if path.is_file() { Ok(absolute(path)) } else { Err(CliError::ShimMissing(path.to_path_buf())) };
    }
    if let Some(path) = std::env::var_os("RTSLEEP_SHIM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(absolute(&path)) } else { Err(CliError::ShimEnvMissing(path)) };
    }
    let mut searched = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf)) {
        // In a Cargo build tree the shim is in the binary's directory (`cargo build`)
        // and in `deps/` (`cargo test` refreshes only that one): the newer of the two,
        // so that a stale copy from an older build never shadows the current one.
        let build_tree = [dir.join(SHIM_NAME), dir.join("deps").join(SHIM_NAME)];
        let newest = build_tree
            .iter()
            .filter_map(|path| Some((std::fs::metadata(path).ok()?.modified().ok()?, path)))
            .max_by_key(|(modified, _)| *modified)
            .map(|(_, path)| path.clone());
        if let Some(path) = newest {
            return Ok(absolute(&path));
        }
        for candidate in build_tree
            .into_iter()
            .chain([dir.join("../lib").join(SHIM_NAME), dir.join("../lib/rtsleep").join(SHIM_NAME)])
        {
            if candidate.is_file() {
                return Ok(absolute(&candidate));
            }
            searched.push(candidate.display().to_string());
        }
    }
    match write_embedded_shim() {
        Ok(Some(path)) => Ok(path),
        Ok(None) => Err(CliError::ShimNotFound { searched: searched.join(", ") }),
        Err(source) => Err(CliError::ShimEmbeddedWrite { searched: searched.join(", "), source }),
    }
}

/// The shim built with this binary (empty when the build embedded none: a cross build).
static EMBEDDED_SHIM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/embedded_shim.so"));

/// Where the embedded shim is written, the first whose variable is set: `$XDG_RUNTIME_DIR/rtsleep`
/// (per user, mode 0700 by systemd), then `$XDG_CACHE_HOME/rtsleep`, then
/// `$HOME/.cache/rtsleep`. Never a shared directory such as /tmp, where another user
/// could have put a file of that name first.
pub const EMBEDDED_DIRS: &str = "$XDG_RUNTIME_DIR/rtsleep, $XDG_CACHE_HOME/rtsleep, $HOME/.cache/rtsleep";

/// Writes [`EMBEDDED_SHIM`] out (once per content: the file name holds its hash) and
/// returns its path, or `None` when this binary has none.
fn write_embedded_shim() -> std::io::Result<Option<PathBuf>> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if EMBEDDED_SHIM.is_empty() {
        return Ok(None);
    }
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = var("XDG_RUNTIME_DIR")
        .map(|d| d.join("rtsleep"))
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("rtsleep")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/rtsleep")))
        .ok_or_else(|| std::io::Error::other("none of their variables is set"))?;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
    let path = dir.join(format!("librtsleep_preload-{:016x}.so", fnv1a(EMBEDDED_SHIM)));
    if std::fs::read(&path).is_ok_and(|on_disk| on_disk == EMBEDDED_SHIM) {
        return Ok(Some(path));
    }
    // Written beside and renamed: a program starting at the same time never loads half.
    let partial = dir.join(format!(".{}.{}", SHIM_NAME, std::process::id()));
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o755).open(&partial)?;
    std::io::Write::write_all(&mut file, EMBEDDED_SHIM)?;
    file.sync_all()?;
    std::fs::rename(&partial, &path)?;
    Ok(Some(path))
}

/// FNV-1a, 64 bits: names the written copy by its content (not a security check: the
/// content itself is compared before a copy is reused).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn duration_env(d: Duration) -> String {
    format!("{}ns", d.as_nanos())
}

pub fn run(args: RunArgs) -> Result<ExitCode, CliError> {
    if args.min > args.max {
        return Err(CliError::EmptyWindow { min: args.min, max: args.max });
    }
    let shim = find_shim(args.shim.as_deref())?;
    let mut preload = shim.clone().into_os_string();
    if let Some(existing) = std::env::var_os("LD_PRELOAD").filter(|p| !p.is_empty()) {
        preload.push(":");
        preload.push(existing);
    }
    let Some((program, program_args)) = args.command.split_first() else {
        return Err(CliError::NoCommand);
    };
    tracing::debug!(shim = %shim.display(), min = ?args.min, max = ?args.max, program = ?program, "starting");
    let mut command = Command::new(program);
    command
        .args(program_args)
        .env("LD_PRELOAD", &preload)
        .env("RTSLEEP_MIN", duration_env(args.min))
        .env("RTSLEEP_MAX", duration_env(args.max))
        .env("RTSLEEP_ROUTE", if args.all { "all" } else { "rt" });
    if let Some(stats) = &args.stats {
        command.env("RTSLEEP_STATS", stats);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(source) => {
            let code = if source.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 };
            eprintln!("rtsleep: {}", CliError::Spawn { command: display(program), source });
            return Ok(ExitCode::from(code));
        }
    };
    ignore_terminal_signals();
    let status = child.wait().map_err(|source| CliError::Spawn { command: display(program), source })?;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    };
    tracing::debug!(code, "program exited");
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)))
}

fn display(program: &OsStr) -> String {
    program.to_string_lossy().into_owned()
}

fn ignore_terminal_signals() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    for sig in [Signal::SIGINT, Signal::SIGQUIT] {
        // SAFETY: SIG_IGN installs no handler, so no handler can break async-signal
        // safety; only this process is affected (the child already runs with the
        // default dispositions).
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_shim_must_exist() {
        let err = find_shim(Some(Path::new("/nonexistent/librtsleep_preload.so"))).unwrap_err();
        assert!(err.to_string().contains("cargo build --release -p rtsleep-preload"), "{err}");
    }

    #[test]
    fn window_is_passed_in_nanoseconds() {
        assert_eq!(duration_env(Duration::from_millis(5)), "5000000ns");
    }
}
