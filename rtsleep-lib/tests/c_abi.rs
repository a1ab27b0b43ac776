//! The C side of the ABI agrees with the Rust side: `tests/c/abi_check.c` holds static
//! assertions (sizes, offsets, and the ioctl numbers recomputed with the kernel's own
//! `_IOWR`/`_IOR` from `<linux/ioctl.h>`), so compiling it is the test.

use std::path::Path;
use std::process::Command;

#[test]
fn c_header_layouts_and_ioctl_numbers_match_linux_encoding() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("tests/c/abi_check.c"))
        .output()
        .expect("run cc (install gcc: apt-get install gcc libc6-dev)");
    assert!(output.status.success(), "ABI disagreement:\n{}", String::from_utf8_lossy(&output.stderr));
}
