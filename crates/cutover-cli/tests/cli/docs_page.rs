//! The interactive docs page in a real browser: `cutover serve` is started, headless
//! Chromium (Debian's `chromium` package) loads `/docs`, runs Swagger UI from the
//! assets the binary embeds, and the DOM it renders must show every Releases
//! operation. The test is `#[needs_chromium]`: built where no Chromium was found
//! (`CUTOVER_CHROMIUM`, else `/usr/bin/chromium`, `chromium-browser` or
//! `google-chrome`) it is ignored, and the runners count it as skipped, unless
//! `CUTOVER_REQUIRE_CHROMIUM` is set (CI sets it, and installs the package): then it
//! runs and fails.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::common::{Server, run, serve, text};
use cutover_test_gates::{chromium_path, needs_chromium};

/// The Chromium found when the tests were built; the test fails if it is not there.
fn chromium() -> PathBuf {
    let path = chromium_path!();
    assert!(
        !path.is_empty(),
        "CUTOVER_REQUIRE_CHROMIUM is set but no Chromium was found when the tests were \
         built (apt-get install chromium, or set CUTOVER_CHROMIUM to its path)"
    );
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "Chromium was at {} when the tests were built, and is not there now",
        path.display()
    );
    path
}

/// The release operations as Swagger UI shows them: operation id and path.
const RELEASE_OPERATIONS: &[(&str, &str)] = &[
    ("releases_list", "/releases"),
    ("releases_create", "/releases"),
    ("releases_get_active", "/releases/active"),
    ("releases_get", "/releases/{release_id}"),
    ("releases_delete", "/releases/{release_id}"),
    ("releases_activate", "/releases/{release_id}/activate"),
    ("releases_rollback", "/releases/{release_id}/rollback"),
    ("releases_archive", "/releases/{release_id}/archive"),
];

#[needs_chromium]
#[test]
fn headless_chromium_renders_the_releases_operations() {
    let browser = chromium();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::spawn(&mut serve(&dir.path().join("docs.db")));
    let profile = dir.path().join("chromium-profile");
    let url = format!("{}/docs/", server.base);
    // --virtual-time-budget lets the page's scripts run (fetching /openapi.json and
    // rendering) before --dump-dom prints the DOM as it then is.
    let output = run(
        Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--virtual-time-budget=15000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(&url),
        Duration::from_secs(120),
    );
    let dom = text(&output.stdout);
    assert!(
        output.status.success() && !dom.is_empty(),
        "{} failed ({}); stderr:\n{}",
        browser.display(),
        output.status,
        text(&output.stderr)
    );
    // Rendered by Swagger UI, not present in the page's HTML: the tag section and
    // each operation's block with its id and path.
    assert!(
        dom.contains("opblock-tag-section"),
        "Swagger UI did not render; the DOM:\n{dom}"
    );
    assert!(dom.contains("Immutable snapshots of the draft"), "{dom}");
    for (operation_id, path) in RELEASE_OPERATIONS {
        let shown = format!(">{operation_id}<");
        assert!(dom.contains(&shown), "{operation_id} is not rendered");
        let full = format!("/apps/{{app_id}}{path}");
        assert!(dom.contains(&full), "{full} is not rendered");
    }
    drop(server);
}
