//! What a fresh clone must hold for its documents and scripts to work: every relative
//! link in a Markdown file names a file of the repository, no document points outside
//! it (the project's private notes, absolute paths of a machine), and every shell
//! script that a document runs directly is executable and parses.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The files git tracks (what a clone has), with their modes.
fn tracked_files() -> Vec<(String, PathBuf)> {
    let out =
        Command::new("git").args(["ls-files", "-s"]).current_dir(repo_root()).output().expect("git ls-files runs");
    assert!(out.status.success(), "git ls-files failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            // "<mode> <hash> <stage>\t<path>"
            let (meta, path) = line.split_once('\t')?;
            Some((meta.split(' ').next()?.to_string(), PathBuf::from(path)))
        })
        .collect()
}

fn markdown_files() -> Vec<PathBuf> {
    tracked_files().into_iter().map(|(_, p)| p).filter(|p| p.extension().is_some_and(|e| e == "md")).collect()
}

/// The lines of a Markdown text, each with whether it lies inside a fenced code block
/// (the fence lines themselves are left out).
fn lines_with_fence(text: &str) -> Vec<(bool, &str)> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else {
            lines.push((in_fence, line));
        }
    }
    lines
}

/// The targets of inline Markdown links, `[text](target)`, outside code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for (_, line) in lines_with_fence(text).into_iter().filter(|(in_fence, _)| !in_fence) {
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            match after.find(')') {
                Some(end) => {
                    targets.push(after[..end].to_string());
                    rest = &after[end..];
                }
                None => break,
            }
        }
    }
    targets
}

#[test]
fn link_targets_finds_inline_links_and_skips_code_blocks() {
    let text = "see [a](docs/a.md) and [b](../b.md#x)\n```\n[c](not/a/link)\n```\n[d](https://e.org)";
    assert_eq!(link_targets(text), ["docs/a.md", "../b.md#x", "https://e.org"]);
}

#[test]
fn every_relative_link_in_a_document_names_a_file_of_the_repository() {
    let root = repo_root();
    let mut broken = Vec::new();
    for doc in markdown_files() {
        let text = std::fs::read_to_string(root.join(&doc)).unwrap();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap();
            let resolved = root.join(doc.parent().unwrap()).join(path);
            let inside = resolved.canonicalize().map(|p| p.starts_with(&root)).unwrap_or(false);
            if !inside {
                broken.push(format!("{}: {}", doc.display(), target));
            }
        }
    }
    assert!(broken.is_empty(), "links to nothing in the repository:\n{}", broken.join("\n"));
}

#[test]
fn no_document_or_script_points_outside_the_repository() {
    let root = repo_root();
    // The project's private notes sit beside the repository, never in a clone; an
    // absolute path is one machine's.
    let forbidden = ["../shared/", "/work/", "TOOLCHAIN.md", "DESIGN.md", "SUMMARY.md"];
    let mut found = Vec::new();
    for (_, path) in tracked_files() {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "md" | "sh" | "rs" | "toml" | "c" | "h") || path.ends_with("tests/repo.rs") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&path)) else { continue };
        for (n, line) in text.lines().enumerate() {
            if let Some(word) = forbidden.iter().find(|w| line.contains(**w)) {
                found.push(format!("{}:{}: {word}", path.display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "references that a clone cannot follow:\n{}", found.join("\n"));
}

/// The first word of each line of the fenced code blocks: the commands a reader types.
fn commands_in_code_blocks(text: &str) -> Vec<String> {
    lines_with_fence(text)
        .into_iter()
        .filter(|(in_fence, _)| *in_fence)
        .filter_map(|(_, line)| line.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Shell scripts that the READMEs tell a user to run as `path/to/script.sh ...`
/// (not through `bash`): each must be tracked as executable.
#[test]
fn every_script_a_readme_runs_directly_is_executable() {
    let files = tracked_files();
    let root = repo_root();
    let mut not_executable = Vec::new();
    for doc in markdown_files() {
        let text = std::fs::read_to_string(root.join(&doc)).unwrap();
        for (mode, path) in &files {
            let path_str = path.to_string_lossy();
            if !path_str.ends_with(".sh") {
                continue;
            }
            let run_directly = commands_in_code_blocks(&text)
                .iter()
                .any(|first_word| first_word.strip_prefix("./").unwrap_or(first_word) == path_str);
            if run_directly && mode != "100755" {
                not_executable.push(format!("{path_str} (run by {}, mode {mode})", doc.display()));
            }
        }
    }
    not_executable.sort();
    not_executable.dedup();
    assert!(
        not_executable.is_empty(),
        "scripts a README runs directly but git does not mark executable:\n{}",
        not_executable.join("\n")
    );
}

#[test]
fn every_shell_script_parses() {
    let root = repo_root();
    let mut bad = Vec::new();
    for (_, path) in tracked_files() {
        if path.extension().is_none_or(|e| e != "sh") {
            continue;
        }
        let out = Command::new("bash").arg("-n").arg(root.join(&path)).output().expect("bash runs");
        if !out.status.success() {
            bad.push(format!("{}: {}", path.display(), String::from_utf8_lossy(&out.stderr).trim()));
        }
    }
    assert!(bad.is_empty(), "shell scripts that do not parse:\n{}", bad.join("\n"));
}

/// Runs a repository script with `args` and returns (exit code, stderr).
fn run_script(script: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("bash").arg(repo_root().join(script)).args(args).output().expect("bash runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_end_to_end_harness_names_a_bad_guest_kernel_before_it_builds_anything() {
    let (code, stderr) = run_script("tests/e2e/run.sh", &["--guest-kernel", "fedora"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--guest-kernel: 'fedora' is neither 'ours' nor 'debian'"), "{stderr}");
}

#[test]
fn the_end_to_end_harness_refuses_a_bad_rtc_tick_trace_mask_or_pinned_cpu_before_it_builds_anything() {
    for (args, message) in [
        (
            &["--rtc-tick", "1000"][..],
            "--rtc-tick must be off or a power of two in 2..8192 Hz (the RTC's rates; got '1000')",
        ),
        (&["--rtc-tick", "16384"][..], "got '16384'"),
        (&["--rtc-base", "2026-02-30T25:00:00"][..], "(QEMU_RTC_BASE, e2e's --rtc-base) must be now, YYYY-MM-DD"),
        (&["--trace-mask", "2f000"][..], "--trace-mask must be a hex event mask such as 0x0002f000 (got '2f000')"),
        (
            &["--domu-args", "idle=halt init=\"/x y\""][..],
            "--domu-args must be space-separated kernel parameters of letters, digits and _ . = : / - (got 'idle=halt init=\"/x y\"')",
        ),
        (
            &["--pin-bench", "1", "--configs", "0"][..],
            "--pin-bench 1: only the 2cpu and 2vcpu configurations' measuring domU has a CPU 1",
        ),
    ] {
        let (code, stderr) = run_script("tests/e2e/run.sh", args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn the_c_library_installer_refuses_a_relative_prefix_and_a_missing_build() {
    let (code, stderr) = run_script("rtsleep-lib/install.sh", &["--prefix", "usr/local"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--prefix must be an absolute path (got 'usr/local')"), "{stderr}");
    let (code, stderr) = run_script("rtsleep-lib/install.sh", &["--from", "/nonexistent", "--destdir", "/nonexistent"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no /nonexistent/librtsleep.so (build it, or give --from)"), "{stderr}");
}

#[test]
fn settle_refuses_a_wait_that_is_not_a_whole_number() {
    for bad in ["ten", "-5", "1.5"] {
        let (code, stderr) = run_script("guest-kmod/test/settle.sh", &[bad]);
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert!(stderr.contains(&format!("MAX_SECONDS must be a whole number (got '{bad}')")), "{stderr}");
    }
}

/// Runs `body` in bash after sourcing the QEMU harness's shared library (with the
/// `log`/`die` its callers define) and returns (exit code, stdout, stderr).
fn with_harness_lib(body: &str) -> (Option<i32>, String, String) {
    with_sourced("hypervisor/xen/lib-initramfs.sh", body)
}

/// Runs `body` in bash after sourcing `lib` (a path in the repository) the way its
/// callers do: `set -euo pipefail`, their `log` and `die`.
fn with_sourced(lib: &str, body: &str) -> (Option<i32>, String, String) {
    let lib = repo_root().join(lib);
    let script = format!(
        "set -euo pipefail\nCACHE=/nonexistent\nlog() {{ echo \"$*\" >&2; }}\ndie() {{ echo \"ERROR: $*\" >&2; exit 1; }}\n. '{}'\n{body}",
        lib.display()
    );
    // The callers' environment may choose the RTC's start; the tests want the default.
    let out = Command::new("bash").arg("-c").arg(script).env_remove("QEMU_RTC_BASE").output().expect("bash runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A directory of its own under the system's temporary directory, empty.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtcredit-repo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A pristine source of one file and two patches of it, the second on top of the first,
/// as build.sh and build-tools.sh meet them (`.rtc-pristine` is the pristine copy's own stamp).
fn pristine_with_patches(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("pristine/xen")).unwrap();
    std::fs::write(dir.join("pristine/xen/a.c"), "one\ntwo\n").unwrap();
    std::fs::write(dir.join("pristine/.rtc-pristine"), "4.17\n").unwrap();
    std::fs::write(dir.join("1.patch"), "--- a/xen/a.c\n+++ b/xen/a.c\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n").unwrap();
    std::fs::write(dir.join("2.patch"), "--- a/xen/a.c\n+++ b/xen/a.c\n@@ -1,2 +1,2 @@\n-one\n+ONE\n TWO\n").unwrap();
}

#[test]
fn a_xen_tree_is_the_pristine_copy_with_the_patches_applied_and_current_only_for_its_patch_set() {
    let dir = scratch_dir("tree");
    pristine_with_patches(&dir);
    let body = "cd '{dir}'
h=$(patch_set_hash k 1.patch 2.patch)
tree_is_current tree \"$h\" xen && echo 'current before'
tree_from_pristine pristine tree 'Xen test' \"$PWD/1.patch\" \"$PWD/2.patch\"
tree_is_current tree \"$h\" xen && echo 'current unstamped'
tree_stamp tree \"$h\"
tree_is_current tree \"$h\" xen && echo 'current stamped'
tree_is_current tree \"$h\" config/Paths.mk || echo 'not current without its marker'
tree_is_current tree \"$(patch_set_hash k 1.patch)\" xen || echo 'not current for another set'
[ \"$(patch_set_hash k 2.patch 1.patch)\" != \"$h\" ] && echo 'the order counts'
[ \"$(patch_set_hash j 1.patch 2.patch)\" != \"$h\" ] && echo 'the key counts'
cat tree/xen/a.c pristine/xen/a.c
ls -A tree"
        .replace("{dir}", &dir.display().to_string());
    let (code, stdout, stderr) = with_sourced("hypervisor/xen/lib-tree.sh", &body);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "current stamped\nnot current without its marker\nnot current for another set\nthe order counts\n\
         the key counts\nONE\nTWO\none\ntwo\n.rtc-patches\nxen\n",
        "stderr: {stderr}"
    );
    assert!(stderr.contains("applied 1.patch") && stderr.contains("applied 2.patch"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_patch_that_does_not_apply_is_named_and_leaves_no_tree() {
    let dir = scratch_dir("badpatch");
    pristine_with_patches(&dir);
    // A patch of lines the source does not have (patch's fuzz would take a mere
    // context difference), after one that applies.
    std::fs::write(dir.join("3.patch"), "--- a/xen/a.c\n+++ b/xen/a.c\n@@ -1,2 +1,2 @@\n-zero\n-nil\n+0\n+1\n")
        .unwrap();
    let body = format!(
        "cd '{}'\ntree_from_pristine pristine tree 'Xen test' \"$PWD/1.patch\" \"$PWD/3.patch\"",
        dir.display()
    );
    let (code, _, stderr) = with_sourced("hypervisor/xen/lib-tree.sh", &body);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("ERROR: patch does not apply to Xen test: {}/3.patch", dir.display())),
        "{stderr}"
    );
    assert!(stderr.contains("--dry-run"), "the error says how to see the rejected hunks: {stderr}");
    assert!(!dir.join("tree").exists(), "a half-made tree is removed");
    assert_eq!(std::fs::read_to_string(dir.join("pristine/xen/a.c")).unwrap(), "one\ntwo\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_xen_boot_command_line_is_composed_once_with_the_clock_and_the_console_words() {
    let (code, stdout, stderr) = with_harness_lib(
        "xen_qemu_argv q icount 2 /x/xen 'sched=rtcredit' /x/vmlinuz 'a=1 b=2' /x/init.gz -smp 2\nprintf '%s\\n' \"${q[@]}\"",
    );
    assert_eq!(code, Some(0), "{stderr}");
    let argv: Vec<&str> = stdout.lines().collect();
    let expected = [
        "qemu-system-x86_64",
        "-machine",
        "pc",
        "-accel",
        "tcg",
        "-icount",
        "shift=2,sleep=off",
        "-rtc",
        "base=2026-01-01T00:00:00,clock=vm",
        "-smp",
        "2",
        "-nographic",
        "-no-reboot",
        "-kernel",
        "/x/xen",
        "-append",
        "console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot sched=rtcredit",
        "-initrd",
        "/x/vmlinuz console=hvc0 earlyprintk=xen rdinit=/init a=1 b=2,/x/init.gz",
    ];
    assert_eq!(argv, expected);
    let (code, stdout, _) = with_harness_lib("xen_qemu_argv q host 2 /x/xen '' /k '' /i\nprintf '%s\\n' \"${q[@]}\"");
    assert_eq!(code, Some(0));
    assert!(stdout.lines().any(|word| word == "tcg") && !stdout.contains("icount"), "{stdout}");
}

#[test]
fn under_icount_the_rtc_starts_at_a_fixed_date_unless_told_otherwise() {
    // A fixed start makes two boots of one build run the same instructions; "now" is
    // the host's date (QEMU's base=utc); anything else is refused by name.
    let args = |base: &str| {
        with_harness_lib(&format!("QEMU_RTC_BASE='{base}'\nclock_check icount 2\nclock_qemu_args icount 2"))
    };
    let (code, stdout, stderr) = args("2025-06-30T12:00:00");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), "-accel tcg -icount shift=2,sleep=off -rtc base=2025-06-30T12:00:00,clock=vm");
    let (code, stdout, _) = args("now");
    assert_eq!(code, Some(0));
    assert!(stdout.contains("-rtc base=utc,clock=vm"), "{stdout}");
    for bad in ["yesterday", "2025-13-01", "2025-06-30 12:00"] {
        let (code, _, stderr) = args(bad);
        assert_eq!(code, Some(1), "{bad}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "the RTC's start (QEMU_RTC_BASE, e2e's --rtc-base) must be now, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (got '{bad}')"
            )),
            "{stderr}"
        );
    }
    let (_, stdout, _) = with_harness_lib("clock_describe icount 2");
    assert!(stdout.contains("RTC from 2026-01-01T00:00:00"), "{stdout}");
}

#[test]
fn the_boots_of_an_e2e_run_start_one_second_apart_from_the_base() {
    // tests/e2e/run.sh's boot k starts k-1 s after --rtc-base (it once added to the
    // previous boot's date instead: +0, +1, +3, +6 s).
    let (code, stdout, stderr) = with_harness_lib(
        "b=2025-12-31T23:59:58; for k in 0 1 2 3; do rtc_base_plus \"$b\" $k; done; rtc_base_plus 2026-03-01 5; rtc_base_plus now 3",
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "2025-12-31T23:59:58",
            "2025-12-31T23:59:59",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:01",
            "2026-03-01T00:00:05",
            "now"
        ]
    );
    let run = std::fs::read_to_string(repo_root().join("tests/e2e/run.sh")).unwrap();
    assert!(
        run.contains(r#"QEMU_RTC_BASE=$(rtc_base_plus "$base" $((b - 1)))"#),
        "run.sh dates its boots from the base"
    );
}

#[test]
fn an_initramfs_of_the_same_files_is_the_same_bytes_whenever_it_is_packed() {
    // Under icount a boot runs the instructions its inputs make it run: mtimes and
    // inode numbers in the archive would make two runs of one build differ. The copy
    // has other inode numbers (both trees exist at once) and other mtimes.
    let dir = scratch_dir("cpio");
    let body = format!(
        "cd '{d}'\nmkdir -p a/bin; echo x > a/bin/f; cpio_gz a out1.gz\ncp -a a b; touch -d @5000 b/bin/f b/bin b\ncpio_gz b out2.gz\ncmp out1.gz out2.gz && gzip -dc out1.gz | cpio -it --quiet",
        d = dir.display()
    );
    let (code, stdout, stderr) = with_harness_lib(&body);
    assert_eq!(code, Some(0), "the archives differ: {stderr}");
    assert!(stdout.lines().any(|l| l == "bin/f"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_xen_boot_command_line_refuses_a_comma_in_dom0s_words() {
    // QEMU splits -initrd at commas: the rest of dom0's line would become a module.
    let (code, _, stderr) = with_harness_lib("xen_qemu_argv q host 2 /x/xen '' /k 'a=1,2' /i");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("dom0's command line must not hold a comma: a=1,2"), "{stderr}");
}

#[test]
fn every_qemu_script_refuses_a_bad_clock_before_it_builds_anything() {
    for script in
        ["hypervisor/xen/smoke.sh", "hypervisor/xen/xl-smoke.sh", "hypervisor/xen/fault-smoke.sh", "tests/e2e/run.sh"]
    {
        let (code, stderr) = run_script(script, &["--clock", "wall"]);
        assert_eq!(code, Some(1), "{script}: {stderr}");
        assert!(stderr.contains("--clock must be icount or host (got 'wall')"), "{script}: {stderr}");
    }
    // test-qemu.sh reports on stdout, as its other checks do.
    let out = Command::new("bash")
        .arg(repo_root().join("guest-kmod/test-qemu.sh"))
        .args(["--clock", "wall"])
        .output()
        .expect("bash runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("test-qemu: FAIL --clock must be icount or host (got 'wall')")
    );
}
