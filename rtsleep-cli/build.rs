//! Builds the preload shim (`librtsleep_preload.so`) and embeds it in `rtsleep`, so that
//! `rtsleep run` works from a `cargo install` (which installs binaries only). `rtsleep
//! run` prefers a shim on disk (`--shim`, `$RTSLEEP_SHIM`, the build tree, an installed
//! prefix) and writes the embedded copy out only when it finds none (src/run.rs).
//!
//! The shim is built by a nested cargo into this build's OUT_DIR (its own target
//! directory: the outer one is locked), for the host only: a cross build (the static
//! musl `rtsleep` of build-guest.sh, which ships the shim beside it) embeds none.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let embedded = out_dir.join("embedded_shim.so");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let preload = manifest_dir.join("../rtsleep-lib/preload");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}", preload.display());
    println!("cargo:rerun-if-changed={}", manifest_dir.join("../rtsleep-lib/src").display());
    let host = std::env::var("HOST").unwrap_or_default();
    let target = std::env::var("TARGET").unwrap_or_default();
    if host != target || !preload.join("Cargo.toml").exists() {
        // Nothing to embed: an empty file says so to src/run.rs.
        std::fs::write(&embedded, b"").expect("write OUT_DIR/embedded_shim.so");
        return;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let shim_target = out_dir.join("shim-target");
    let mut build = Command::new(cargo);
    build
        .args(["build", "--quiet", "--release", "--offline", "--manifest-path"])
        .arg(preload.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&shim_target);
    // The outer build's flags are for `rtsleep`, not for a shared object.
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET"] {
        build.env_remove(var);
    }
    let status = build.status().expect("run cargo to build the preload shim");
    assert!(status.success(), "building the preload shim for embedding failed");
    let built = shim_target.join("release/librtsleep_preload.so");
    std::fs::copy(&built, &embedded).unwrap_or_else(|e| panic!("copy {}: {e}", built.display()));
}
