//! Decides, when the test suites are built, which optional prerequisites are there:
//! `cfg(postgres_tests)` when `TEST_POSTGRES_URL` is set, `cfg(chromium_tests)` (and
//! `CUTOVER_TEST_CHROMIUM`, the browser's path) when a Chromium is installed or
//! `CUTOVER_REQUIRE_CHROMIUM` demands one. The attributes in `lib.rs` read them.

use std::env;
use std::path::{Path, PathBuf};

/// Where Debian, Ubuntu and Google's packages put the browser.
const CHROMIUM_PATHS: &[&str] = &[
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rustc-check-cfg=cfg(chromium_tests)");

    println!("cargo::rerun-if-env-changed=TEST_POSTGRES_URL");
    if env::var("TEST_POSTGRES_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }

    println!("cargo::rerun-if-env-changed=CUTOVER_CHROMIUM");
    println!("cargo::rerun-if-env-changed=CUTOVER_REQUIRE_CHROMIUM");
    // A path given is taken as it is: if nothing is there, the test runs and says so.
    let chromium = match env::var_os("CUTOVER_CHROMIUM").filter(|path| !path.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => CHROMIUM_PATHS
            .iter()
            .map(Path::new)
            .find(|path| path.is_file())
            .map(Path::to_path_buf),
    };
    // Watch what was found (its removal or upgrade), or else the directory a package
    // would install it into, so installing Chromium later brings the test in. (A
    // path that does not exist would make Cargo rerun this, and rebuild every test
    // that uses these attributes, on every build.)
    match &chromium {
        Some(path) if path.exists() => println!("cargo::rerun-if-changed={}", path.display()),
        _ if Path::new("/usr/bin").is_dir() => println!("cargo::rerun-if-changed=/usr/bin"),
        _ => {}
    }
    let required = env::var_os("CUTOVER_REQUIRE_CHROMIUM").is_some_and(|value| !value.is_empty());
    if chromium.is_some() || required {
        println!("cargo::rustc-cfg=chromium_tests");
    }
    let path = chromium
        .map(|path| path.display().to_string())
        .unwrap_or_default();
    println!("cargo::rustc-env=CUTOVER_TEST_CHROMIUM={path}");
}
