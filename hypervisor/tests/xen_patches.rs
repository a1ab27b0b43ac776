//! The numbers the Xen patch series adds to Xen's public headers must be the ones
//! `abi.rs` defines (the guest side and the core use `abi.rs`; Xen and its tools use
//! the patched headers). Checked on the patch text, without a Xen tree.

use std::path::PathBuf;

use rtcredit::abi::{RTSLEEP_FLAG_CANCEL, SCHEDOP_RTSLEEP, TRC_SCHED_RTCREDIT, XEN_SCHEDULER_RTCREDIT};

fn public_patch() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("xen/patches/0001-public-rtsleep-hypercall-and-rtcredit-interfaces.patch");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Lines the patch adds, without the leading '+'.
fn added_lines(patch: &str) -> Vec<String> {
    patch
        .lines()
        .filter(|line| line.starts_with('+') && !line.starts_with("+++"))
        .map(|line| line[1..].trim().to_string())
        .collect()
}

fn define(lines: &[String], name: &str) -> String {
    lines
        .iter()
        .find_map(|line| {
            let rest = line.strip_prefix("#define ")?.trim();
            let value = rest.strip_prefix(name)?;
            value.starts_with(char::is_whitespace).then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| panic!("the patch defines {name}"))
}

#[test]
fn the_public_headers_carry_the_abi_numbers() {
    let lines = added_lines(&public_patch());
    assert_eq!(define(&lines, "SCHEDOP_rtsleep"), SCHEDOP_RTSLEEP.to_string());
    assert_eq!(define(&lines, "XEN_SCHEDULER_RTCREDIT"), XEN_SCHEDULER_RTCREDIT.to_string());
    assert_eq!(define(&lines, "TRC_SCHED_RTCREDIT"), TRC_SCHED_RTCREDIT.to_string());
    assert_eq!(define(&lines, "SCHED_RTSLEEP_CANCEL"), format!("(1U << {})", RTSLEEP_FLAG_CANCEL.trailing_zeros()));
}

#[test]
fn struct_sched_rtsleep_has_the_fields_of_sched_rtsleep_in_abi_rs() {
    let lines = added_lines(&public_patch());
    let start = lines.iter().position(|line| line == "struct sched_rtsleep {").expect("struct sched_rtsleep is added");
    let fields: Vec<String> = lines[start + 1..]
        .iter()
        .take_while(|line| !line.starts_with('}'))
        .map(|line| line.split(';').next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // The same order, types and names as `SchedRtsleep` (its layout is tested in abi.rs).
    assert_eq!(fields, ["uint64_t deadline_ns", "uint32_t flags", "uint32_t pad"]);
}
