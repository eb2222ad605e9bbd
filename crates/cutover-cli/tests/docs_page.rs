//! The interactive docs page in a real browser: `cutover serve` is started, headless
//! Chromium (Debian's `chromium` package) loads `/docs`, runs Swagger UI from the
//! assets the binary embeds, and the DOM it renders must show every Releases
//! operation. Without Chromium the test says it skipped, unless
//! `CUTOVER_REQUIRE_CHROMIUM` is set (CI sets it, and installs the package).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{Server, run, serve, text};

/// Where a Chromium may be: `CHROMIUM` if set, else the usual binary names.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
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

#[test]
fn headless_chromium_renders_the_releases_operations() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CUTOVER_REQUIRE_CHROMIUM").is_none(),
            "CUTOVER_REQUIRE_CHROMIUM is set but no chromium was found (set CHROMIUM)"
        );
        println!("skipped: chromium is not installed (apt-get install chromium, or set CHROMIUM)");
        return;
    };
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
