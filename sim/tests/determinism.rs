//! Same configuration and seed, same result, byte for byte.

use rtcredit_sim::paper::{run_paper, PaperConfig};

fn summary_json(config: &PaperConfig) -> String {
    let results = run_paper(config, &|| {}).expect("paper runs");
    serde_json::to_string(&results.to_json(config)).expect("encodes")
}

#[test]
fn same_seed_gives_identical_summary_json() {
    let config = PaperConfig { periods: 100, seed: 42, ..PaperConfig::default() };
    let first = summary_json(&config);
    let second = summary_json(&config);
    assert_eq!(first, second);
    for key in [
        "\"fig1\"",
        "\"fig2\"",
        "\"fig5\"",
        "\"fig6\"",
        "\"fig7\"",
        "\"lateness_us\"",
        "\"completion_s\"",
        "\"hog_cpu_share_pct\"",
        "\"context_switches\"",
        "\"p99\"",
    ] {
        assert!(first.contains(key), "summary.json lacks {key}");
    }
}

#[test]
fn another_seed_gives_another_run() {
    let a = summary_json(&PaperConfig { periods: 100, seed: 1, ..PaperConfig::default() });
    let b = summary_json(&PaperConfig { periods: 100, seed: 2, ..PaperConfig::default() });
    assert_ne!(a, b);
}

#[test]
fn output_files_are_identical_across_runs() {
    let config = PaperConfig { periods: 50, seed: 3, ..PaperConfig::default() };
    let base = std::env::temp_dir().join(format!("rtcredit-sim-determinism-{}", std::process::id()));
    let mut contents = Vec::new();
    for round in 0..2 {
        let dir = base.join(format!("round{round}"));
        let results = run_paper(&config, &|| {}).expect("paper runs");
        rtcredit_sim::output::write_paper(&dir, &config, &results).expect("writes");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .expect("lists")
            .map(|entry| {
                let path = entry.expect("entry").path();
                (path.file_name().expect("name").to_string_lossy().into_owned(), std::fs::read(&path).expect("reads"))
            })
            .collect();
        files.sort();
        contents.push(files);
    }
    let _ = std::fs::remove_dir_all(&base);
    let names: Vec<&str> = contents[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "fig1.csv",
            "fig1.svg",
            "fig2.csv",
            "fig2.svg",
            "fig5.csv",
            "fig5.svg",
            "fig6.csv",
            "fig6.svg",
            "fig7.csv",
            "fig7.svg",
            "summary.json",
            "summary.md"
        ]
    );
    assert_eq!(contents[0], contents[1]);
}
