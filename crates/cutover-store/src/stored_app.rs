//! An app as a backend reads its row: everything but the two facts computed from it
//! (its parameters, stored as JSON text, and whether its draft has changes, from the
//! draft digest and the newest release's), which [`StoredApp::into_app`] adds the
//! same way for every backend.

use cutover_domain::digest::draft_has_changes;
use cutover_domain::model::App;

use crate::{StoreResult, decode_stored};

pub struct StoredApp {
    /// The app with its stored columns; `parameters` and `draft_has_changes` are
    /// filled in by [`StoredApp::into_app`].
    pub app: App,
    pub parameters: String,
    pub draft_digest: String,
    /// The manifest digest of the app's newest release, if it has one.
    pub newest_release_digest: Option<String>,
}

impl StoredApp {
    pub fn into_app(self) -> StoreResult<App> {
        let mut app = self.app;
        app.parameters = decode_stored(&self.parameters, "app's parameters")?;
        app.draft_has_changes = draft_has_changes(
            &self.draft_digest,
            app.total_releases > 0,
            self.newest_release_digest.as_deref(),
        );
        Ok(app)
    }
}
