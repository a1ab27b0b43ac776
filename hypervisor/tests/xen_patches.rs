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

/// The fields of `struct NAME { ... }` in `lines` (trimmed C lines), one
/// "type name" string each, with comments, whitespace and `uint64_aligned_t` (the
/// public headers' 8-byte-aligned `uint64_t`) normalised.
fn c_struct_fields(lines: &[String], name: &str) -> Vec<String> {
    let open = format!("struct {name} {{");
    let start = lines
        .iter()
        .position(|line| line == &open || line == &format!("typedef {open}"))
        .unwrap_or_else(|| panic!("struct {name} is defined"));
    lines[start + 1..]
        .iter()
        .take_while(|line| !line.starts_with('}'))
        .filter(|line| !line.is_empty() && !line.starts_with("/*") && !line.starts_with('*') && line.contains(';'))
        .map(|line| {
            let decl = line.split(';').next().unwrap_or_default().replace("uint64_aligned_t", "uint64_t");
            decl.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// `c_struct_fields` with each field of one of the header's own struct types (the RT
/// counters, nested in the generated header) replaced by that struct's fields: Xen's
/// public header spells them out in place, the same layout.
fn flattened_fields(lines: &[String], name: &str) -> Vec<String> {
    c_struct_fields(lines, name)
        .into_iter()
        .flat_map(|field| match field.strip_prefix("struct ").and_then(|rest| rest.split_once(' ')) {
            Some((inner, _member)) => flattened_fields(lines, inner),
            None => vec![field],
        })
        .collect()
}

/// The generated header's lines (`rtcredit.h` is `abi.rs` through cbindgen; its
/// freshness is tests/c_header.rs's job and its layouts tests/c_abi.rs's).
fn header_lines() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/rtcredit.h");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.lines().map(|line| line.trim().to_string()).collect()
}

#[test]
fn the_domctl_and_sysctl_structs_are_the_ones_of_abi_rs() {
    let patch = added_lines(&public_patch());
    let header = header_lines();
    for (public, ours) in [
        ("xen_domctl_sched_rtcredit", "rtcredit_domctl_sched"),
        ("xen_sysctl_rtcredit_schedule", "rtcredit_sysctl_sched"),
    ] {
        let in_patch = c_struct_fields(&patch, public);
        assert!(!in_patch.is_empty(), "{public} has fields");
        assert_eq!(in_patch, flattened_fields(&header, ours), "{public} in the patch vs {ours} in rtcredit.h");
    }
    // The u64 fields are uint64_aligned_t in the public header, so that 32-bit
    // toolstacks see the same 8-byte alignment.
    let domctl_u64 = patch
        .iter()
        .skip_while(|line| *line != "struct xen_domctl_sched_rtcredit {")
        .take_while(|line| !line.starts_with('}'))
        .filter(|line| line.contains("uint64"))
        .collect::<Vec<_>>();
    assert_eq!(domctl_u64.len(), 7);
    assert!(domctl_u64.iter().all(|line| line.starts_with("uint64_aligned_t")), "{domctl_u64:?}");
}
