//! guest-kmod/check-rustc.sh, the gate of every out-of-tree build of the module (the
//! Makefile, DKMS, dkms-install.sh): a kernel tree whose CONFIG_RUSTC_VERSION_TEXT is not
//! what the rustc on PATH prints is refused with a message naming both and what to
//! install; the same tree with the real compiler's text passes. The compiler is the
//! real rustc the tests run with; only the kernel's .config is written here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-kmod/check-rustc.sh")
}

/// A kernel "tree" holding only what the check reads: .config, the release name and,
/// with `artifacts`, the Rust build products' names (their content is not read).
fn fake_tree(name: &str, config: &str, artifacts: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtcredit-check-rustc-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("include/config")).unwrap();
    std::fs::write(dir.join(".config"), config).unwrap();
    std::fs::write(dir.join("include/config/kernel.release"), "7.2.12+test-cloud-amd64\n").unwrap();
    if artifacts {
        std::fs::create_dir_all(dir.join("rust")).unwrap();
        std::fs::create_dir_all(dir.join("scripts")).unwrap();
        std::fs::write(dir.join("rust/libkernel.rmeta"), "").unwrap();
        std::fs::write(dir.join("scripts/target.json"), "{}").unwrap();
    }
    dir
}

fn check(tree: &Path) -> Output {
    Command::new("sh").arg(script()).arg(tree).output().expect("sh runs")
}

fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().expect("rustc runs");
    String::from_utf8(out.stdout).unwrap().trim_end().to_string()
}

#[test]
fn another_rustc_version_is_refused_with_what_to_install() {
    let tree = fake_tree(
        "other",
        "CONFIG_RUST=y\nCONFIG_RUSTC_VERSION_TEXT=\"rustc 1.0.0 (00000000 2015-05-15) (built from a source tarball)\"\n",
        true,
    );
    // The environment's RUSTC (cargo's) would not be the one on PATH the check names.
    let out = Command::new("sh").arg(script()).arg(&tree).env_remove("RUSTC").output().expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("kernel 7.2.12+test-cloud-amd64 was built with"), "{stderr}");
    assert!(stderr.contains("rustc 1.0.0 (00000000 2015-05-15)"), "{stderr}");
    assert!(stderr.contains("install rustc 1.0.0"), "{stderr}");
    assert!(stderr.contains("apt install rustc rust-src"), "{stderr}");
    assert!(stderr.contains("rustup toolchain install 1.0.0 --component rust-src"), "{stderr}");
    std::fs::remove_dir_all(tree).unwrap();
}

fn check_with_own_rustc(tree: &Path) -> Output {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new("sh").arg(script()).arg(tree).env("RUSTC", rustc).output().expect("sh runs")
}

#[test]
fn the_kernels_own_rustc_version_passes() {
    let config = format!("CONFIG_RUST=y\nCONFIG_RUSTC_VERSION_TEXT=\"{}\"\n", rustc_version());
    let tree = fake_tree("same", &config, true);
    let out = check_with_own_rustc(&tree);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(tree).unwrap();
}

/// Debian's headers packages: the right compiler, but no rust/*.rmeta or target.json.
#[test]
fn a_tree_without_the_rust_artifacts_is_refused_with_what_to_run() {
    let config = format!("CONFIG_RUST=y\nCONFIG_RUSTC_VERSION_TEXT=\"{}\"\n", rustc_version());
    let tree = fake_tree("noartifacts", &config, false);
    let out = check_with_own_rustc(&tree);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lacks the Rust"), "{stderr}");
    assert!(stderr.contains("debian-rust-headers.sh --kernel 7.2.12+test-cloud-amd64"), "{stderr}");
    std::fs::remove_dir_all(tree).unwrap();
}

#[test]
fn a_kernel_without_rust_is_refused() {
    let tree = fake_tree("norust", "# CONFIG_RUST is not set\n", true);
    let out = check(&tree);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("without Rust support (CONFIG_RUST is not y)"), "{stderr}");
    std::fs::remove_dir_all(tree).unwrap();
}

#[test]
fn a_directory_that_is_no_kernel_tree_is_refused() {
    let dir = std::env::temp_dir().join(format!("rtcredit-check-rustc-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = check(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("neither .config nor include/config/auto.conf"), "{stderr}");
    let missing = check(&dir.join("absent"));
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no kernel tree at"));
    std::fs::remove_dir_all(dir).unwrap();
}
