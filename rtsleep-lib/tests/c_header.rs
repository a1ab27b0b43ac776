//! The committed C header must be exactly what cbindgen generates from the sources now,
//! so C never sees a stale API. `RTSLEEP_BLESS=1` rewrites it instead of failing.

use std::path::PathBuf;

#[test]
fn committed_header_matches_the_sources() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("header is UTF-8");
    let path = crate_dir.join("include/rtsleep.h");
    if std::env::var_os("RTSLEEP_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/rtsleep.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/rtsleep.h is stale: run `RTSLEEP_BLESS=1 cargo test -p rtsleep --test c_header` and commit it"
    );
}
