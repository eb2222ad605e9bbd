//! The memory behind [`super::CachedStore`]: rendered releases per app and tokens per
//! secret digest, and the write guards that keep a read from storing what a
//! concurrent write has made stale.
//!
//! The rule that makes it correct: a write marks its app (or the token table) as
//! being written *before* it reaches the database and again *after* it returns,
//! dropping what was kept each time and moving the app to a new generation. A read
//! that missed takes a [`Ticket`] before it asks the database and may keep its answer
//! only if, when it comes back, no write is in flight and the generation is the one on
//! its ticket. So nothing a write could have changed is kept across that write, and
//! while a write is in flight every read of its app goes to the database.
//!
//! An environment write (create, update, delete) can change what every app of its
//! workspace answers (which environment is the default, which one a slug names), so
//! it fences every app at once: an app's ticket also carries the environments'
//! generation, and the write forgets every app's entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::body::Bytes;
use axum::http::HeaderValue;

use cutover_domain::environment::EnvironmentRef;
use cutover_domain::token::Token;
use cutover_domain::{AppId, ReleaseId};
use cutover_store::AppScope;

use super::render::RenderedRelease;

/// Permission to keep what a read found: the generation it started in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// Whether writes are under way, and the generation of the last one.
#[derive(Debug, Default, Clone, Copy)]
struct Guard {
    in_flight: u32,
    generation: u64,
}

impl Guard {
    fn ticket(self) -> Option<Ticket> {
        (self.in_flight == 0).then_some(Ticket(self.generation))
    }

    fn honours(self, ticket: Ticket) -> bool {
        self.ticket() == Some(ticket)
    }
}

#[derive(Default)]
struct Guards {
    /// Generations are drawn from one counter, so an app never returns to one it had.
    last_generation: u64,
    apps: HashMap<AppId, Guard>,
    tokens: Guard,
    environments: Guard,
}

impl Guards {
    fn next_generation(&mut self) -> u64 {
        self.last_generation += 1;
        self.last_generation
    }

    /// What fences a read of `app`: its own writes and environment writes. Both
    /// generations come from one counter, so either moving moves the larger.
    fn app_guard(&self, app: &AppId) -> Guard {
        let own = self.apps.get(app).copied().unwrap_or_default();
        Guard {
            in_flight: own.in_flight + self.environments.in_flight,
            generation: own.generation.max(self.environments.generation),
        }
    }
}

/// What is kept for one app: its parents as verified by the store, its active
/// release (`Some(None)`: known to have none), release details by id, the entity
/// tag of the active release's answer, and the contents those releases share (by
/// content hash). `bytes` counts each body once, even when the active release is
/// also kept by id, and each distinct content once, however many releases share it.
/// Trimming drops bodies but keeps the tag, which is all a conditional read that
/// turns out unchanged (304) needs.
struct AppEntries {
    scope: AppScope,
    active: Option<Option<Arc<RenderedRelease>>>,
    releases: HashMap<ReleaseId, Arc<RenderedRelease>>,
    active_tag: Option<Option<HeaderValue>>,
    contents: HashMap<String, Bytes>,
    /// The release each environment named so far has (`None`: nothing deployed).
    deployed: HashMap<EnvironmentRef, Option<ReleaseId>>,
    bytes: usize,
}

impl AppEntries {
    /// Whether `release` (this very rendering) is kept by id.
    fn keeps_by_id(&self, release: &Arc<RenderedRelease>) -> bool {
        self.releases
            .get(&release.release_id)
            .is_some_and(|kept| Arc::ptr_eq(kept, release))
    }

    /// Whether `release` is this very rendering of the active release.
    fn is_active(&self, release: &Arc<RenderedRelease>) -> bool {
        matches!(&self.active, Some(Some(active)) if Arc::ptr_eq(active, release))
    }

    /// Counts a release about to be kept: its own parts, and its content unless it
    /// shares the very bytes already kept for its content hash.
    fn count(&mut self, release: &RenderedRelease) {
        self.bytes += release.weight_without_content();
        let shared = self
            .contents
            .get(&release.content_hash)
            .is_some_and(|kept| {
                kept.as_ptr() == release.content.as_ptr() && kept.len() == release.content.len()
            });
        if !shared {
            self.bytes += release.content.len();
            self.contents
                .entry(release.content_hash.clone())
                .or_insert_with(|| release.content.clone());
        }
    }

    /// Drops the bodies, keeping the active release's tag.
    fn drop_bodies(&mut self) -> usize {
        self.active = None;
        self.releases.clear();
        self.contents.clear();
        self.deployed.clear();
        std::mem::take(&mut self.bytes)
    }
}

#[derive(Default)]
struct Entries {
    apps: HashMap<AppId, AppEntries>,
    tokens: HashMap<String, Token>,
    bytes: usize,
}

/// Bytes counted for a token entry (its strings are small; this keeps the budget
/// honest without measuring each).
const TOKEN_BYTES: usize = 512;
/// Apps kept at most (their tags outlive their bodies); past it trimming forgets
/// whole apps.
const MAX_APPS: usize = 100_000;
/// Tokens kept at most; past it the table starts again from empty.
const MAX_TOKENS: usize = 10_000;
/// Bytes counted for what one environment has of an app (a reference and an id).
const DEPLOYED_BYTES: usize = 128;

pub struct ReadCache {
    guards: Mutex<Guards>,
    entries: RwLock<Entries>,
    budget_bytes: usize,
}

/// Marks a write of one app (or of the token table) as in flight until dropped.
pub struct WriteGuard {
    cache: Arc<ReadCache>,
    target: Target,
}

#[derive(Clone)]
enum Target {
    App(AppId),
    Tokens,
    Environments,
}

impl ReadCache {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            guards: Mutex::default(),
            entries: RwLock::default(),
            budget_bytes,
        }
    }

    fn guards(&self) -> MutexGuard<'_, Guards> {
        self.guards
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.entries
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        self.entries
            .write()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The kept active release of the app under `scope`: `None` when nothing is kept,
    /// `Some(None)` when the app is known to have no active release.
    pub fn active(&self, scope: &AppScope) -> Option<Option<Arc<RenderedRelease>>> {
        let entries = self.read();
        let app = entries.apps.get(&scope.app_id)?;
        (app.scope == *scope).then(|| app.active.clone())?
    }

    /// The kept entity tag of the active release's answer of the app under `scope`:
    /// `None` when nothing is kept, `Some(None)` when it is known to have none.
    pub fn active_tag(&self, scope: &AppScope) -> Option<Option<HeaderValue>> {
        let entries = self.read();
        let app = entries.apps.get(&scope.app_id)?;
        (app.scope == *scope).then(|| app.active_tag.clone())?
    }

    pub fn release(&self, scope: &AppScope, id: &ReleaseId) -> Option<Arc<RenderedRelease>> {
        let entries = self.read();
        let app = entries.apps.get(&scope.app_id)?;
        (app.scope == *scope)
            .then(|| app.releases.get(id).cloned())
            .flatten()
    }

    /// The content kept for the app under `scope` with this hash, for a release being
    /// rendered to share.
    pub fn content(&self, scope: &AppScope, content_hash: &str) -> Option<Bytes> {
        let entries = self.read();
        let app = entries.apps.get(&scope.app_id)?;
        (app.scope == *scope)
            .then(|| app.contents.get(content_hash).cloned())
            .flatten()
    }

    /// The kept release `environment` has of the app under `scope`, rendered, read
    /// under one lock: `None` when it is not kept (or its body is not), `Some(None)`
    /// when the environment is known to have none.
    pub fn deployed(
        &self,
        scope: &AppScope,
        environment: &EnvironmentRef,
    ) -> Option<Option<Arc<RenderedRelease>>> {
        let entries = self.read();
        let app = entries.apps.get(&scope.app_id)?;
        if app.scope != *scope {
            return None;
        }
        match app.deployed.get(environment)? {
            None => Some(None),
            Some(id) => app.releases.get(id).cloned().map(Some),
        }
    }

    pub fn token(&self, digest: &str) -> Option<Token> {
        self.read().tokens.get(digest).cloned()
    }

    /// A ticket for a read of the app, or `None` while one of its writes is in flight.
    pub fn app_ticket(&self, app: &AppId) -> Option<Ticket> {
        self.guards().app_guard(app).ticket()
    }

    pub fn token_ticket(&self) -> Option<Ticket> {
        self.guards().tokens.ticket()
    }

    /// Keeps the app's active release (or its absence), if the ticket still holds.
    pub fn keep_active(
        &self,
        ticket: Ticket,
        scope: &AppScope,
        active: Option<Arc<RenderedRelease>>,
    ) {
        self.keep_for_app(ticket, scope, move |app| {
            // A replaced release's content stays kept (and counted) with the others.
            if let Some(Some(old)) = app.active.take()
                && !app.keeps_by_id(&old)
            {
                app.bytes -= old.weight_without_content();
            }
            if let Some(new) = &active
                && !app.keeps_by_id(new)
            {
                app.count(new);
            }
            app.active_tag = Some(active.as_ref().map(|release| release.etag.clone()));
            app.active = Some(active);
        });
    }

    pub fn keep_release(&self, ticket: Ticket, scope: &AppScope, release: Arc<RenderedRelease>) {
        self.keep_for_app(ticket, scope, move |app| {
            // Another read may have kept the same release first; its copy is as good.
            if !app.releases.contains_key(&release.release_id) {
                // The active release kept by id too costs nothing more.
                if !app.is_active(&release) {
                    app.count(&release);
                }
                app.releases.insert(release.release_id.clone(), release);
            }
        });
    }

    /// Keeps which release `environment` has of the app (none: `None`).
    pub fn keep_deployed(
        &self,
        ticket: Ticket,
        scope: &AppScope,
        environment: &EnvironmentRef,
        release: Option<ReleaseId>,
    ) {
        self.keep_for_app(ticket, scope, move |app| {
            if app.deployed.insert(environment.clone(), release).is_none() {
                app.bytes += DEPLOYED_BYTES;
            }
        });
    }

    pub fn keep_token(&self, ticket: Ticket, digest: &str, token: Token) {
        let guards = self.guards();
        if !guards.tokens.honours(ticket) {
            return;
        }
        let mut entries = self.write();
        if entries.tokens.len() >= MAX_TOKENS {
            let dropped = entries.tokens.len() * TOKEN_BYTES;
            entries.tokens.clear();
            entries.bytes -= dropped;
        }
        if entries.tokens.insert(digest.to_owned(), token).is_none() {
            entries.bytes += TOKEN_BYTES;
        }
        self.trim(&mut entries);
    }

    /// Runs `change` on the app's entries (made fresh when missing) if the ticket
    /// still holds; `change` keeps the app's byte count right.
    fn keep_for_app(&self, ticket: Ticket, scope: &AppScope, change: impl FnOnce(&mut AppEntries)) {
        // The guards stay locked until the entry is in, so no write can begin between
        // the check and the insert.
        let guards = self.guards();
        if !guards.app_guard(&scope.app_id).honours(ticket) {
            return;
        }
        let mut entries = self.write();
        let app = entries
            .apps
            .entry(scope.app_id.clone())
            .or_insert_with(|| AppEntries {
                scope: scope.clone(),
                active: None,
                releases: HashMap::new(),
                active_tag: None,
                contents: HashMap::new(),
                deployed: HashMap::new(),
                bytes: 0,
            });
        if app.scope != *scope {
            return;
        }
        let before = app.bytes;
        change(app);
        let after = app.bytes;
        entries.bytes = entries.bytes - before + after;
        self.trim(&mut entries);
        drop(guards);
    }

    /// Over budget, drops the bodies of apps (in the map's arbitrary order, which is as
    /// good as random) until a sixteenth of the budget is free again (room for a few
    /// dozen more misses before the next trim); their tags stay.
    /// Past [`MAX_APPS`] apps, forgets whole apps the same way.
    fn trim(&self, entries: &mut Entries) {
        if entries.apps.len() > MAX_APPS {
            let excess: Vec<AppId> = entries
                .apps
                .keys()
                .take(entries.apps.len() - MAX_APPS / 4 * 3)
                .cloned()
                .collect();
            for id in excess {
                if let Some(app) = entries.apps.remove(&id) {
                    entries.bytes -= app.bytes;
                }
            }
        }
        if entries.bytes <= self.budget_bytes {
            return;
        }
        let target = self.budget_bytes - self.budget_bytes / 16;
        let mut bytes = entries.bytes;
        for app in entries.apps.values_mut() {
            if bytes <= target {
                break;
            }
            bytes -= app.drop_bodies();
        }
        entries.bytes = bytes;
    }

    /// Marks a write of `app` as begun; the returned guard ends it when dropped.
    pub fn begin_app_write(self: &Arc<Self>, app: &AppId) -> WriteGuard {
        let guard = WriteGuard {
            cache: self.clone(),
            target: Target::App(app.clone()),
        };
        self.step(&guard.target, true);
        guard
    }

    /// Marks an environment write as begun: every app's entries are fenced.
    pub fn begin_environment_write(self: &Arc<Self>) -> WriteGuard {
        let guard = WriteGuard {
            cache: self.clone(),
            target: Target::Environments,
        };
        self.step(&guard.target, true);
        guard
    }

    /// Marks a write of the token table as begun (a revocation).
    pub fn begin_token_write(self: &Arc<Self>) -> WriteGuard {
        let guard = WriteGuard {
            cache: self.clone(),
            target: Target::Tokens,
        };
        self.step(&guard.target, true);
        guard
    }

    /// One edge of a write: a new generation, the in-flight count moved, and what was
    /// kept for the target forgotten.
    fn step(&self, target: &Target, begin: bool) {
        let mut guards = self.guards();
        let generation = guards.next_generation();
        let guard = match target {
            Target::App(app) => guards.apps.entry(app.clone()).or_default(),
            Target::Tokens => &mut guards.tokens,
            Target::Environments => &mut guards.environments,
        };
        guard.generation = generation;
        if begin {
            guard.in_flight += 1;
        } else {
            guard.in_flight -= 1;
        }
        let mut entries = self.write();
        match target {
            Target::App(app) => {
                if let Some(gone) = entries.apps.remove(app) {
                    entries.bytes -= gone.bytes;
                }
            }
            Target::Tokens => {
                let dropped = entries.tokens.len() * TOKEN_BYTES;
                entries.tokens.clear();
                entries.bytes -= dropped;
            }
            Target::Environments => {
                let dropped: usize = entries.apps.values().map(|app| app.bytes).sum();
                entries.apps.clear();
                entries.bytes -= dropped;
            }
        }
        drop(guards);
    }

    /// Bytes kept now (rendered bodies and token entries).
    pub fn bytes(&self) -> usize {
        self.read().bytes
    }
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        self.cache.step(&self.target, false);
    }
}

#[cfg(test)]
#[path = "entries_tests.rs"]
mod tests;
