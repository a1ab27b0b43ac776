//! `boot-args`: the Xen command-line words for `sched=rtcredit`, and a check of the Xen
//! lines of a GRUB file.
//!
//! The boot parameters are the ones `hypervisor/xen/src/sched_rtcredit.c` registers
//! (`integer_param`/`boolean_param`; a test reads them from that file). There is no
//! boot parameter for the maximum RT lead: set it at run time with `sched
//! --max-lead-ms`. If the values break a rule together (a rate limit above the slice,
//! say), Xen logs "rtcredit: bad boot parameters" and uses all the defaults.

use rtcredit::Params;

use crate::error::{Error, Result};
use crate::params::{core_params, default_globals, GlobalsChange};

/// `rtcredit_tslice_ms`: time slice in ms.
pub const TSLICE: &str = "rtcredit_tslice_ms";
/// `rtcredit_ratelimit_us`: rate limit in us.
pub const RATELIMIT: &str = "rtcredit_ratelimit_us";
/// `rtcredit_min_period_us`: minimum RT period in us.
pub const MIN_PERIOD: &str = "rtcredit_min_period_us";
/// `rtcredit_rt_capacity_pct`: every cpupool's RT capacity at boot, % of each CPU.
pub const RT_CAPACITY: &str = "rtcredit_rt_capacity_pct";
/// `rtcredit_dom0_rt`: dom0 may use RT from boot (testing).
pub const DOM0_RT: &str = "rtcredit_dom0_rt";
/// Every boot parameter of the shim.
pub const BOOT_PARAMS: [&str; 5] = [TSLICE, RATELIMIT, MIN_PERIOD, RT_CAPACITY, DOM0_RT];

/// What `boot-args` was asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootChoice {
    pub slice_ms: Option<u64>,
    pub ratelimit_us: Option<u64>,
    pub min_period_us: Option<u64>,
    pub rt_capacity_pct: Option<u64>,
    pub dom0_rt: bool,
}

impl BootChoice {
    fn as_change(&self) -> GlobalsChange {
        GlobalsChange {
            slice_ms: self.slice_ms,
            ratelimit_us: self.ratelimit_us,
            min_period_us: self.min_period_us,
            max_lead_ms: None,
            rt_capacity_pct: self.rt_capacity_pct,
        }
    }

    /// `sched=rtcredit` and one word per chosen value, checked together against the
    /// defaults for the others.
    pub fn words(&self) -> Result<Vec<String>> {
        self.as_change().merged(&default_globals())?;
        let mut words = vec!["sched=rtcredit".to_string()];
        for (name, value) in [
            (TSLICE, self.slice_ms),
            (RATELIMIT, self.ratelimit_us),
            (MIN_PERIOD, self.min_period_us),
            (RT_CAPACITY, self.rt_capacity_pct),
        ] {
            if let Some(value) = value {
                words.push(format!("{name}={value}"));
            }
        }
        if self.dom0_rt {
            words.push(DOM0_RT.to_string());
        }
        Ok(words)
    }
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Xen would not run rtcredit as intended.
    Error,
    /// Worth knowing, harmless.
    Note,
}

/// One finding of [`check_grub`]; `line` is 1-based (0: the whole file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

/// Xen's `simple_strtoull(s, &end, 0)` and "nothing may follow": decimal, `0x` hex,
/// leading-`0` octal.
fn xen_integer(text: &str) -> Option<u64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if text.len() > 1 && text.starts_with('0') {
        u64::from_str_radix(&text[1..], 8).ok()
    } else {
        text.parse().ok()
    }
}

/// The words of a GRUB line that reach Xen, or `None` if the line is not a Xen line:
/// `GRUB_CMDLINE_XEN[_DEFAULT]=...` (quoted or not) in `/etc/default/grub`, or
/// `multiboot[2] PATH [placeholder] WORDS...` in `grub.cfg`. Shell variables (`$x`,
/// `${x}`) and GRUB's own `--options` are left out.
fn xen_words(line: &str) -> Option<Vec<String>> {
    let trimmed = line.trim_start();
    let trimmed = trimmed.strip_prefix("export ").map_or(trimmed, str::trim_start);
    let words: Vec<&str> = if let Some(rest) =
        trimmed.strip_prefix("GRUB_CMDLINE_XEN_DEFAULT=").or_else(|| trimmed.strip_prefix("GRUB_CMDLINE_XEN="))
    {
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or_default(),
            _ => rest.split_whitespace().next().unwrap_or_default(),
        };
        value.split_whitespace().collect()
    } else {
        let mut it = trimmed.split_whitespace();
        match it.next() {
            Some("multiboot" | "multiboot2") => {}
            _ => return None,
        }
        let mut words: Vec<&str> = it.skip_while(|w| w.starts_with("--")).skip(1).collect();
        if words.first() == Some(&"placeholder") {
            words.remove(0);
        }
        words
    };
    Some(words.into_iter().filter(|w| !w.starts_with('$')).map(str::to_string).collect())
}

/// Checks every Xen line of a GRUB file for what would keep `sched=rtcredit` from
/// running as `want` says: another `sched=`, unknown or bad `rtcredit_*` values,
/// values that differ from `want`.
pub fn check_grub(text: &str, want: &BootChoice) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut xen_lines = 0;
    let mut rtcredit_lines = 0;
    let error = |line, message: String| Finding { line, severity: Severity::Error, message };
    let note = |line, message: String| Finding { line, severity: Severity::Note, message };
    for (index, line) in text.lines().enumerate() {
        let n = index + 1;
        if line.trim_start().starts_with('#') {
            continue;
        }
        let Some(words) = xen_words(line) else { continue };
        xen_lines += 1;
        let mut sched_rtcredit = false;
        let mut values = GlobalsChange::default();
        let mut ours = Vec::new();
        for word in &words {
            let (name, value) = word.split_once('=').map_or((word.as_str(), None), |(n, v)| (n, Some(v)));
            if name == "sched" {
                match value {
                    Some("rtcredit") => sched_rtcredit = true,
                    other => findings.push(error(
                        n,
                        format!(
                            "{word}: Xen would run {} instead of rtcredit; replace it with sched=rtcredit",
                            other.unwrap_or("its default scheduler")
                        ),
                    )),
                }
                continue;
            }
            let bare = name.strip_prefix("no-").unwrap_or(name);
            if !bare.starts_with("rtcredit_") {
                continue;
            }
            ours.push(word.clone());
            if !BOOT_PARAMS.contains(&bare) {
                findings.push(error(
                    n,
                    format!("{word}: unknown parameter, Xen ignores it (known: {})", BOOT_PARAMS.join(", ")),
                ));
                continue;
            }
            if bare == DOM0_RT {
                continue;
            }
            let Some(number) = value.and_then(xen_integer) else {
                findings.push(error(n, format!("{word}: not a number, Xen ignores it")));
                continue;
            };
            if value.is_some_and(|v| v.len() > 1 && v.starts_with('0') && !v.starts_with("0x")) {
                findings.push(note(n, format!("{word}: a leading 0 makes it octal to Xen: {number}")));
            }
            match bare {
                TSLICE => values.slice_ms = Some(number),
                RATELIMIT => values.ratelimit_us = Some(number),
                RT_CAPACITY => values.rt_capacity_pct = Some(number),
                _ => values.min_period_us = Some(number),
            }
        }
        if sched_rtcredit {
            rtcredit_lines += 1;
        } else if !ours.is_empty() && !words.iter().any(|w| w.starts_with("sched=")) {
            findings.push(note(n, format!("{} without sched=rtcredit on this line", ours.join(" "))));
        }
        if !values.is_empty() {
            if let Err(e) = values.merged(&default_globals()) {
                findings.push(error(n, format!("{e}: Xen would log \"bad boot parameters\" and use all the defaults")));
            }
        }
        for (name, have, wanted) in [
            (TSLICE, values.slice_ms, want.slice_ms),
            (RATELIMIT, values.ratelimit_us, want.ratelimit_us),
            (MIN_PERIOD, values.min_period_us, want.min_period_us),
            (RT_CAPACITY, values.rt_capacity_pct, want.rt_capacity_pct),
        ] {
            if let (Some(have), Some(wanted)) = (have, wanted) {
                if have != wanted {
                    findings.push(note(n, format!("{name}={have} here, but {wanted} was asked for")));
                }
            }
        }
    }
    if xen_lines == 0 {
        findings.push(error(
            0,
            "no Xen command line found (GRUB_CMDLINE_XEN, GRUB_CMDLINE_XEN_DEFAULT, multiboot, multiboot2)".to_string(),
        ));
    } else if rtcredit_lines == 0 {
        findings.push(error(0, "no Xen command line has sched=rtcredit: Xen runs another scheduler".to_string()));
    }
    findings
}

/// Reads a GRUB file for [`check_grub`].
pub fn read_grub(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.display().to_string(), source })
}

/// The core's parameters Xen would boot with for these words (for tests and docs).
pub fn boot_params(choice: &BootChoice) -> Result<Params> {
    Ok(core_params(&choice.as_change().merged(&default_globals())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shim_registers_exactly_these_boot_parameters() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../hypervisor/xen/src/sched_rtcredit.c");
        let source = std::fs::read_to_string(path).expect("the shim's source");
        let mut names: Vec<&str> = source
            .lines()
            .filter_map(|line| {
                let rest = line
                    .trim()
                    .strip_prefix("integer_param(\"")
                    .or_else(|| line.trim().strip_prefix("boolean_param(\""))?;
                rest.split('"').next()
            })
            .collect();
        names.sort_unstable();
        let mut ours = BOOT_PARAMS.to_vec();
        ours.sort_unstable();
        assert_eq!(names, ours);
    }

    #[test]
    fn words_are_checked_and_printed() {
        assert_eq!(BootChoice::default().words().unwrap(), ["sched=rtcredit"]);
        let choice = BootChoice {
            slice_ms: Some(10),
            ratelimit_us: Some(500),
            min_period_us: Some(2000),
            rt_capacity_pct: Some(30),
            dom0_rt: true,
        };
        assert_eq!(
            choice.words().unwrap().join(" "),
            "sched=rtcredit rtcredit_tslice_ms=10 rtcredit_ratelimit_us=500 rtcredit_min_period_us=2000 \
             rtcredit_rt_capacity_pct=30 rtcredit_dom0_rt"
        );
        assert_eq!(boot_params(&choice).unwrap().tslice_ns, 10_000_000);
        assert_eq!(boot_params(&choice).unwrap().rt_capacity_pct, 30);
        let over = BootChoice { rt_capacity_pct: Some(150), ..Default::default() };
        assert!(over.words().unwrap_err().to_string().starts_with("rt_capacity_pct = 150"));
        let bad = BootChoice { slice_ms: Some(1), ratelimit_us: Some(5000), ..Default::default() };
        assert!(bad.words().unwrap_err().to_string().starts_with("ratelimit_us = 5000"));
    }

    fn errors(findings: &[Finding]) -> Vec<(usize, &str)> {
        findings.iter().filter(|f| f.severity == Severity::Error).map(|f| (f.line, f.message.as_str())).collect()
    }

    #[test]
    fn a_clean_default_grub_passes() {
        let text =
            "GRUB_DEFAULT=0\nGRUB_CMDLINE_XEN_DEFAULT=\"dom0_mem=2G,max:2G sched=rtcredit rtcredit_tslice_ms=30\"\n";
        assert!(errors(&check_grub(text, &BootChoice::default())).is_empty());
        let cfg = "\tmultiboot2 /boot/xen-4.17-amd64.gz placeholder sched=rtcredit ${xen_rm_opts}\n\tmodule2 /vmlinuz root=/dev/sda1\n";
        assert!(check_grub(cfg, &BootChoice::default()).is_empty());
    }

    #[test]
    fn another_scheduler_is_an_error_on_its_line() {
        let text = "GRUB_CMDLINE_XEN=\"sched=credit2\"\nGRUB_CMDLINE_XEN_DEFAULT='sched=rtcredit'\n";
        let found = check_grub(text, &BootChoice::default());
        assert_eq!(errors(&found).len(), 1);
        assert_eq!(found[0].line, 1);
        assert!(found[0].message.contains("credit2"), "{found:?}");
    }

    #[test]
    fn missing_sched_and_no_xen_line_are_errors() {
        let found = check_grub("GRUB_CMDLINE_XEN=\"dom0_mem=1G\"\n", &BootChoice::default());
        assert!(errors(&found)[0].1.contains("no Xen command line has sched=rtcredit"));
        let found = check_grub("GRUB_CMDLINE_LINUX=\"quiet\"\n", &BootChoice::default());
        assert!(errors(&found)[0].1.contains("no Xen command line found"));
    }

    #[test]
    fn bad_and_unknown_values_are_errors() {
        let cfg = "multiboot2 /xen.gz placeholder sched=rtcredit rtcredit_tslice_ms=2000 rtcredit_ratelimit=5 rtcredit_min_period_us=abc\n";
        let found = check_grub(cfg, &BootChoice::default());
        let errs = errors(&found);
        assert!(errs.iter().any(|(_, m)| m.contains("rtcredit_ratelimit=5: unknown parameter")), "{errs:?}");
        assert!(errs.iter().any(|(_, m)| m.contains("rtcredit_min_period_us=abc: not a number")), "{errs:?}");
        assert!(errs.iter().any(|(_, m)| m.contains("slice_ms = 2000") && m.contains("1..=1000")), "{errs:?}");
    }

    #[test]
    fn octal_and_differences_are_notes() {
        let cfg = "GRUB_CMDLINE_XEN=\"sched=rtcredit rtcredit_tslice_ms=030\"\n";
        let found = check_grub(cfg, &BootChoice { slice_ms: Some(30), ..Default::default() });
        assert!(errors(&found).is_empty(), "{found:?}");
        let notes: Vec<_> = found.iter().map(|f| f.message.as_str()).collect();
        assert!(notes.iter().any(|m| m.contains("octal to Xen: 24")), "{notes:?}");
        assert!(notes.iter().any(|m| m.contains("rtcredit_tslice_ms=24 here, but 30 was asked for")), "{notes:?}");
    }
}
