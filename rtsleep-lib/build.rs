//! Gives the C library (`librtsleep.so`) a SONAME, so that a program linked against it
//! records which ABI it needs and an installed upgrade can sit beside the old one.
//! The ABI version follows cargo-c's rule for the package version: `MAJOR` from 1.0 on,
//! `0.MINOR` before (every 0.x minor release may change the ABI).

fn main() {
    let major: u64 = env!("CARGO_PKG_VERSION_MAJOR").parse().expect("a numeric major version");
    let minor = env!("CARGO_PKG_VERSION_MINOR");
    let abi = if major == 0 { format!("0.{minor}") } else { major.to_string() };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librtsleep.so.{abi}");
    println!("cargo:rerun-if-changed=build.rs");
}
