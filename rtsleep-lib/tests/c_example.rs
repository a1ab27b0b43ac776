//! Builds `examples/c/periodic.c` with `cc` against the committed header, once linked
//! with the static library and once with the shared one (both built by this `cargo
//! test` next to the test binary, in `target/<profile>/deps/`), and runs both on the
//! fallback path, which is what this host has: no `/dev/rtsleep`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Flags the static library needs (the same as `Libs.private` in rtsleep.pc.in).
const STATIC_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().expect("test binary has a directory").to_path_buf()
}

fn build(name: &str, link: &[&str]) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let status = Command::new("cc")
        .arg("-std=c11")
        .arg("-Wall")
        .arg("-Wextra")
        .arg("-Werror")
        .arg("-I")
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("examples/c/periodic.c"))
        .arg("-o")
        .arg(&out)
        .args(link)
        .status()
        .expect("run cc (install gcc: apt-get install gcc libc6-dev)");
    assert!(status.success(), "cc failed for {name}");
    out
}

fn run(program: &Path, device: &str, library_dir: &Path) -> String {
    let output = Command::new(program)
        .args(["2000", "5"])
        .env("RTSLEEP_DEVICE", device)
        .env("LD_LIBRARY_PATH", library_dir)
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "example failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[test]
fn c_example_links_statically_and_falls_back_without_a_device() {
    let archive = deps_dir().join("librtsleep.a");
    assert!(archive.exists(), "{} missing: cargo test builds it from crate-type staticlib", archive.display());
    let mut link = vec![archive.to_str().expect("UTF-8 path")];
    link.extend_from_slice(STATIC_LIBS);
    let program = build("periodic-static", &link);
    let stdout = run(&program, "/nonexistent/rtsleep", &deps_dir());
    assert!(stdout.contains("backend: fallback (no /dev/rtsleep"), "{stdout}");
    assert!(stdout.contains("loops: 5 period_us: 2000"), "{stdout}");
}

/// The ABI version in the shared library's SONAME (build.rs: `0.MINOR` before 1.0).
fn soname() -> String {
    let minor = env!("CARGO_PKG_VERSION_MINOR");
    match env!("CARGO_PKG_VERSION_MAJOR") {
        "0" => format!("librtsleep.so.0.{minor}"),
        major => format!("librtsleep.so.{major}"),
    }
}

/// Installed by `install.sh` into a staging directory (the versioned file, the SONAME
/// link the loader follows, the development link `-lrtsleep` finds, the .pc), linked
/// against that tree, and run from there.
#[test]
fn c_example_links_dynamically_and_reports_a_wrong_device() {
    assert!(
        deps_dir().join("librtsleep.so").exists(),
        "librtsleep.so missing: cargo test builds it from crate-type cdylib"
    );
    let stage = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-stage");
    let _ = std::fs::remove_dir_all(&stage);
    let install = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh"))
        .args(["--prefix", "/opt/rtsleep", "--destdir"])
        .arg(&stage)
        .arg("--from")
        .arg(deps_dir())
        .output()
        .expect("run install.sh");
    assert!(install.status.success(), "install.sh: {}", String::from_utf8_lossy(&install.stderr));
    let lib = stage.join("opt/rtsleep/lib");
    let pc = std::fs::read_to_string(lib.join("pkgconfig/rtsleep.pc")).expect("rtsleep.pc installed");
    assert!(pc.contains("prefix=/opt/rtsleep\n"), "{pc}");
    assert!(pc.contains(&format!("Version: {}\n", env!("CARGO_PKG_VERSION"))) && !pc.contains('@'), "{pc}");
    assert!(stage.join("opt/rtsleep/include/rtsleep.h").exists());
    assert_eq!(
        std::fs::read_link(lib.join(soname())).expect("SONAME link").to_str(),
        Some(&*format!("librtsleep.so.{}", env!("CARGO_PKG_VERSION")))
    );
    let search = format!("-L{}", lib.display());
    let program = build("periodic-shared", &[&search, "-lrtsleep"]);
    let dynamic = Command::new("readelf").arg("-d").arg(&program).output().expect("run readelf (binutils)");
    let dynamic = String::from_utf8_lossy(&dynamic.stdout);
    assert!(
        dynamic.contains(&format!("Shared library: [{}]", soname())),
        "the program must need the SONAME:\n{dynamic}"
    );
    // /dev/null opens but does not answer RTSLEEP_IOC_INFO: "unusable", with ENOTTY.
    let stdout = run(&program, "/dev/null", &lib);
    assert!(stdout.contains("backend: fallback (the rtsleep device could not be used"), "{stdout}");
    assert!(stdout.contains("ioctl"), "{stdout}");
}
