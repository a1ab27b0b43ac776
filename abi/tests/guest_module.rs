//! The guest module takes the hypercall and ioctl ABIs from this crate by `#[path]`
//! (Kbuild builds it without Cargo), and its C half declares none of them: it is handed
//! the command and the argument struct by the Rust half. These tests read the module's
//! sources and hold them to that, so that no copy of an ABI number can come back into
//! the module unnoticed (issue #16: "the guest module re-declares SCHEDOP 8, its
//! struct, the flag, the results and the lead limits by hand").

use std::path::PathBuf;

fn module_source(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../guest-kmod").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Source lines without `//` and `/* */` comments, so that prose may name the ABI.
fn code_lines(source: &str) -> Vec<String> {
    let mut in_block = false;
    let mut lines = Vec::new();
    for line in source.lines() {
        let mut code = String::new();
        let mut rest = line;
        loop {
            if in_block {
                match rest.find("*/") {
                    Some(end) => {
                        in_block = false;
                        rest = &rest[end + 2..];
                    }
                    None => break,
                }
            } else {
                let block = rest.find("/*");
                let line_comment = rest.find("//");
                match (block, line_comment) {
                    (Some(b), Some(l)) if l < b => {
                        code.push_str(&rest[..l]);
                        break;
                    }
                    (None, Some(l)) => {
                        code.push_str(&rest[..l]);
                        break;
                    }
                    (Some(b), _) => {
                        code.push_str(&rest[..b]);
                        in_block = true;
                        rest = &rest[b + 2..];
                    }
                    (None, None) => {
                        code.push_str(rest);
                        break;
                    }
                }
            }
        }
        if !code.trim().is_empty() {
            lines.push(code.trim().to_string());
        }
    }
    lines
}

#[test]
fn the_module_rust_half_compiles_the_abi_files_of_this_crate() {
    let rs = module_source("rtsleep_main.rs");
    for (file, module) in [("ioctl.rs", "abi"), ("hypercall.rs", "hypercall")] {
        let attribute = format!("#[path = \"../abi/src/{file}\"]");
        let at = rs.find(&attribute).unwrap_or_else(|| panic!("rtsleep_main.rs has {attribute}"));
        let next = rs[at + attribute.len()..].trim_start();
        assert!(next.starts_with(&format!("mod {module};")), "{attribute} is on `mod {module};`");
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src").join(file);
        assert!(path.is_file(), "{} exists", path.display());
    }
}

#[test]
fn the_module_rust_half_takes_every_hypercall_number_from_the_abi() {
    // Each constant about the hypercall is defined from `hypercall::`, none by a literal.
    let rs = module_source("rtsleep_main.rs");
    let consts: Vec<String> = code_lines(&rs)
        .into_iter()
        .filter(|line| line.starts_with("const XEN_") || line.starts_with("const MAX_LEAD_NS"))
        .collect();
    assert!(consts.len() >= 5, "the result and errno constants are there: {consts:?}");
    for line in &consts {
        let value = line.split_once('=').map(|(_, v)| v.trim()).unwrap_or_default();
        assert!(value.trim_start_matches('-').starts_with("hypercall::"), "defined from the ABI: {line}");
    }
    assert!(rs.contains("hypercall::SCHEDOP_RTSLEEP") && rs.contains("hypercall::SchedRtsleep {"));
}

#[test]
fn the_module_c_half_declares_no_abi_of_ours() {
    let code = code_lines(&module_source("rtsleep_xen.c")).join("\n");
    for copy in ["RTSLEEP_SCHEDOP", "rtsleep_sched_arg", "SCHEDOP_rtsleep", ".deadline_ns", "flags & 1", "RTSLEEP_FLAG"]
    {
        assert!(!code.contains(copy), "rtsleep_xen.c's code mentions {copy}");
    }
    // It issues whatever command and argument the Rust half hands it.
    assert!(code.contains("HYPERVISOR_sched_op(cmd, arg)"), "the C half passes the command through");
}

#[test]
fn the_c_helpers_header_and_the_rust_externs_name_the_same_functions() {
    let header = code_lines(&module_source("rtsleep_xen.h"));
    let mut in_c: Vec<String> = header
        .iter()
        .filter(|line| line.ends_with(");") && !line.starts_with('#'))
        .filter_map(|line| {
            line.split('(').next()?.split_whitespace().last().map(|n| n.trim_start_matches('*').to_string())
        })
        .collect();
    let rs = module_source("rtsleep_main.rs");
    let mut in_rust: Vec<String> = code_lines(&rs)
        .into_iter()
        .filter_map(|line| line.strip_prefix("pub(super) fn ")?.split('(').next().map(str::to_string))
        .filter(|name| name.starts_with("rtsleep_c_"))
        .collect();
    in_c.sort();
    in_rust.sort();
    assert!(!in_c.is_empty());
    assert_eq!(in_c, in_rust, "rtsleep_xen.h against rtsleep_main.rs's `mod c`");
}
