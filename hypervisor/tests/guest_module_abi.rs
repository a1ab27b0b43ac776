//! The guest module cannot use `abi.rs`'s hypercall definitions directly: its C half
//! (`guest-kmod/rtsleep_xen.c`) is kernel C without the generated header's `<stdint.h>`,
//! and its Rust half (`rtsleep_main.rs`) is built by Kbuild without this crate. So it
//! keeps copies: the SCHEDOP number and argument layout in C, the flag, result codes
//! and the lead window in Rust. These tests read the module's sources and hold each
//! copy to the value here, so a change to the hypercall ABI cannot leave the module
//! behind unnoticed (issue #16: "the guest module re-declares SCHEDOP 8, its struct,
//! the flag, the results and the lead limits by hand ... with no test").

use std::mem::{offset_of, size_of};
use std::path::PathBuf;

use rtcredit::abi::{RTSLEEP_DEGRADED, RTSLEEP_FLAG_CANCEL, RTSLEEP_GRANTED, SCHEDOP_RTSLEEP};
use rtcredit::{Params, SchedRtsleep};

fn module_source(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../guest-kmod").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The value of `const NAME: TYPE = VALUE;` in Rust source, underscores removed.
fn rust_const(source: &str, name: &str) -> String {
    let prefix = format!("const {name}:");
    source
        .lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix(&prefix)?;
            let value = rest.split_once('=')?.1.trim().trim_end_matches(';').trim();
            Some(value.replace('_', ""))
        })
        .unwrap_or_else(|| panic!("rtsleep_main.rs declares {name}"))
}

#[test]
fn the_module_c_half_issues_the_hypercall_of_abi_rs() {
    let c = module_source("rtsleep_xen.c");
    let define = c
        .lines()
        .find_map(|line| line.trim().strip_prefix("#define RTSLEEP_SCHEDOP "))
        .expect("rtsleep_xen.c defines RTSLEEP_SCHEDOP");
    assert_eq!(define.trim(), SCHEDOP_RTSLEEP.to_string());

    // struct rtsleep_sched_arg: the fields of SchedRtsleep, in order, with C's types.
    let start = c.find("struct rtsleep_sched_arg {").expect("rtsleep_xen.c declares struct rtsleep_sched_arg");
    let body = &c[start..start + c[start..].find("};").expect("the struct ends")];
    let fields: Vec<(String, String)> = body
        .lines()
        .skip(1)
        .filter_map(|line| {
            let decl = line.split("/*").next()?.trim().strip_suffix(';')?;
            let (ty, name) = decl.split_once(char::is_whitespace)?;
            Some((ty.to_string(), name.trim().to_string()))
        })
        .collect();
    let expected = [("u64", "deadline_ns"), ("u32", "flags"), ("u32", "pad")];
    assert_eq!(
        fields,
        expected.iter().map(|(t, n)| (t.to_string(), n.to_string())).collect::<Vec<_>>(),
        "struct rtsleep_sched_arg against SchedRtsleep"
    );
    assert_eq!(
        (size_of::<SchedRtsleep>(), offset_of!(SchedRtsleep, deadline_ns), offset_of!(SchedRtsleep, flags)),
        (16, 0, 8),
        "the layout the C struct above has"
    );
    assert_eq!(offset_of!(SchedRtsleep, pad), 12);
}

#[test]
fn the_module_rust_half_reads_the_results_and_sets_the_flag_of_abi_rs() {
    let rs = module_source("rtsleep_main.rs");
    assert_eq!(rust_const(&rs, "XEN_FLAG_CANCEL"), RTSLEEP_FLAG_CANCEL.to_string());
    assert_eq!(rust_const(&rs, "XEN_GRANTED"), RTSLEEP_GRANTED.to_string());
    assert_eq!(rust_const(&rs, "XEN_DEGRADED"), RTSLEEP_DEGRADED.to_string());
    // The module asks for RT only within Xen's default maximum lead; further deadlines
    // would be refused (-ERANGE) and the sleep falls back without asking.
    assert_eq!(rust_const(&rs, "MAX_LEAD_NS"), Params::default().rt_max_lead_ns.to_string());
}
