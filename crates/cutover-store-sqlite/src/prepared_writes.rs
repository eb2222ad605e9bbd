//! The SQLite store's writes that are prepared off the writer thread (see
//! `cutover_store::Prepared` and ARCHITECTURE.md, "No write costs the app's whole
//! draft"): each takes the app's lock, reads on a reader thread, encodes, hashes and
//! diffs on tokio's blocking pool (a draft write's timeline commit included), and
//! hands the writer only rows, which it refuses (and the write is prepared again)
//! when what was read has changed.

use cutover_domain::draft::{
    AugmentationPatch, EndpointPatch, NewAugmentation, NewEndpoint, NewRelease,
};
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::precondition::{self, IfMatch};
use cutover_domain::timeline::Change;
use cutover_domain::{AugmentationId, EndpointId, Timestamp};
use cutover_store::cut::plan_release;
use cutover_store::rehearsal::{Rehearsed, RehearsedChange};
use cutover_store::timeline::EventRow;
use cutover_store::{AppScope, Prepared, ReleaseDocument, StoreError, StoreResult};

use cutover_domain::quota::Counted;
use rusqlite::Connection;

use crate::{SqliteStore, draft, quota, rehearsal, releases};

/// How often an update prepared from a read is prepared again when the entity changed
/// before it could be written.
const OPTIMISTIC_ATTEMPTS: usize = 8;

/// A write prepared from a read that lost every race: what it was prepared from is
/// being written continuously by others, so the caller should try again later.
fn kept_changing() -> StoreError {
    StoreError::unavailable("the app's draft changed during every attempt to write")
}

/// Runs `prepare` (encoding, hashing, diffing: CPU, no I/O) on tokio's blocking pool,
/// so that neither the single writer thread nor a runtime worker spends its time on
/// one app's large draft while other apps wait.
async fn off_the_writer<T: Send + 'static>(
    prepare: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(prepare)
        .await
        .map_err(|err| StoreError::internal_from("preparing a draft entity", err))?
}

/// A planned cut, ready for the writer: `None` when what it was planned from changed.
type Cut = Box<dyn FnOnce(&Connection) -> StoreResult<Option<ReleaseDocument>>>;

/// What writing a prepared entity puts in the database: its body and canonical text,
/// and its commit.
fn written_bytes<T>(prepared: &Prepared<T>, commit: &EventRow) -> usize {
    prepared.body.len() + prepared.canonical.len() + commit.body.len()
}

impl SqliteStore {
    pub(crate) async fn prepared_create_endpoint(
        &self,
        scope: &AppScope,
        endpoint: NewEndpoint,
        actor: &str,
    ) -> StoreResult<Endpoint> {
        let _app = self.app_locks.lock(&scope.app_id).await;
        let (scope, limits) = (scope.clone(), self.limits);
        let (at, actor) = (Timestamp::now(), actor.to_owned());
        let endpoint = endpoint.into_endpoint(&actor, at);
        let (prepared, commit) = off_the_writer(move || {
            let commit = EventRow::commit(&actor, Change::of_endpoint(None, Some(&endpoint)), at)?;
            Ok((Prepared::endpoint(endpoint)?, commit))
        })
        .await?;
        self.engine
            .write_sized(written_bytes(&prepared, &commit), move |c| {
                draft::create_endpoint(c, &limits, &scope, prepared, &commit)
            })
            .await
    }

    pub(crate) async fn prepared_update_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        patch: EndpointPatch,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<Endpoint> {
        let (read_scope, id) = (scope.clone(), id.clone());
        let (write_scope, limits, actor) = (scope.clone(), self.limits, actor.to_owned());
        let if_match = if_match.cloned();
        self.optimistically(
            scope,
            move |c| draft::endpoint_for_update(c, &read_scope, &id),
            move |mut endpoint: Endpoint| {
                precondition::check_entity(if_match.as_ref(), "endpoint", &endpoint)?;
                let (old, at) = (endpoint.clone(), Timestamp::now());
                patch.clone().apply_to(&mut endpoint, &actor, at);
                let change = Change::of_endpoint(Some(&old), Some(&endpoint));
                let prepared = Prepared::endpoint(endpoint)?;
                let commit = EventRow::commit(&actor, change, at)?;
                Ok((written_bytes(&prepared, &commit), (prepared, commit)))
            },
            move |c, (prepared, commit), read| {
                draft::update_endpoint(c, &limits, &write_scope, prepared, read, &commit)
            },
        )
        .await
    }

    pub(crate) async fn prepared_create_augmentation(
        &self,
        scope: &AppScope,
        augmentation: NewAugmentation,
        actor: &str,
    ) -> StoreResult<Augmentation> {
        let _app = self.app_locks.lock(&scope.app_id).await;
        let (scope, limits) = (scope.clone(), self.limits);
        let (at, actor) = (Timestamp::now(), actor.to_owned());
        let augmentation = augmentation.into_augmentation(&actor, at);
        let (prepared, commit) = off_the_writer(move || {
            let change = Change::of_augmentation(None, Some(&augmentation));
            let commit = EventRow::commit(&actor, change, at)?;
            Ok((Prepared::augmentation(augmentation)?, commit))
        })
        .await?;
        self.engine
            .write_sized(written_bytes(&prepared, &commit), move |c| {
                draft::create_augmentation(c, &limits, &scope, prepared, &commit)
            })
            .await
    }

    pub(crate) async fn prepared_update_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        patch: AugmentationPatch,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<Augmentation> {
        let (read_scope, id) = (scope.clone(), id.clone());
        let (write_scope, limits, actor) = (scope.clone(), self.limits, actor.to_owned());
        let if_match = if_match.cloned();
        self.optimistically(
            scope,
            move |c| draft::augmentation_for_update(c, &read_scope, &id),
            move |mut augmentation: Augmentation| {
                precondition::check_entity(if_match.as_ref(), "augmentation", &augmentation)?;
                let (old, at) = (augmentation.clone(), Timestamp::now());
                patch.clone().apply_to(&mut augmentation, &actor, at);
                let change = Change::of_augmentation(Some(&old), Some(&augmentation));
                let prepared = Prepared::augmentation(augmentation)?;
                let commit = EventRow::commit(&actor, change, at)?;
                Ok((written_bytes(&prepared, &commit), (prepared, commit)))
            },
            move |c, (prepared, commit), read| {
                draft::update_augmentation(c, &limits, &write_scope, prepared, read, &commit)
            },
        )
        .await
    }

    pub(crate) async fn prepared_delete_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<()> {
        let (read_scope, read_id) = (scope.clone(), id.clone());
        let (write_scope, id, actor) = (scope.clone(), id.clone(), actor.to_owned());
        let if_match = if_match.cloned();
        self.optimistically(
            scope,
            move |c| draft::endpoint_for_update(c, &read_scope, &read_id),
            move |endpoint: Endpoint| {
                precondition::check_entity(if_match.as_ref(), "endpoint", &endpoint)?;
                let change = Change::of_endpoint(Some(&endpoint), None);
                let commit = EventRow::commit(&actor, change, Timestamp::now())?;
                Ok((commit.body.len(), commit))
            },
            move |c, commit, read| draft::delete_endpoint(c, &write_scope, &id, read, &commit),
        )
        .await
    }

    pub(crate) async fn prepared_delete_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<()> {
        let (read_scope, read_id) = (scope.clone(), id.clone());
        let (write_scope, id, actor) = (scope.clone(), id.clone(), actor.to_owned());
        let if_match = if_match.cloned();
        self.optimistically(
            scope,
            move |c| draft::augmentation_for_update(c, &read_scope, &read_id),
            move |augmentation: Augmentation| {
                precondition::check_entity(if_match.as_ref(), "augmentation", &augmentation)?;
                let change = Change::of_augmentation(Some(&augmentation), None);
                let commit = EventRow::commit(&actor, change, Timestamp::now())?;
                Ok((commit.body.len(), commit))
            },
            move |c, commit, read| draft::delete_augmentation(c, &write_scope, &id, read, &commit),
        )
        .await
    }

    /// One optimistic draft write under the app's lock (so no other write of this
    /// store to the app runs between the read and the write; the stored hash is the
    /// backstop): `read` the entity and its
    /// stored content hash on a reader; `prepare` from it, off the writer, what the
    /// writer needs (and its size in bytes); `write` it, which answers `None` when
    /// the stored hash is no longer the one read, and then it all runs again.
    async fn optimistically<E, P, T>(
        &self,
        scope: &AppScope,
        read: impl Fn(&Connection) -> StoreResult<(E, Option<String>)> + Clone + Send + 'static,
        prepare: impl Fn(E) -> StoreResult<(usize, P)> + Clone + Send + 'static,
        write: impl Fn(&Connection, P, Option<&str>) -> StoreResult<Option<T>> + Clone + Send + 'static,
    ) -> StoreResult<T>
    where
        E: Send + 'static,
        P: Send + 'static,
        T: Send + 'static,
    {
        let _app = self.app_locks.lock(&scope.app_id).await;
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let (entity, read_hash) = self.engine.read(read.clone()).await?;
            let prepare = prepare.clone();
            let (bytes, prepared) = off_the_writer(move || prepare(entity)).await?;
            let write = write.clone();
            let written = self
                .engine
                .write_sized(bytes, move |c| write(c, prepared, read_hash.as_deref()))
                .await?;
            if let Some(written) = written {
                return Ok(written);
            }
        }
        Err(kept_changing())
    }

    pub(crate) async fn prepared_create_release(
        &self,
        scope: &AppScope,
        release: NewRelease,
        actor: &str,
    ) -> StoreResult<ReleaseDocument> {
        self.planned_cut(scope, release, actor, |c, cut| cut(c))
            .await
    }

    /// Rehearses a cut (`cutover_store::rehearsal`): planned as a real one is, and
    /// written inside a savepoint the writer rolls back.
    pub(crate) async fn rehearsed_create_release(
        &self,
        scope: &AppScope,
        release: NewRelease,
        actor: &str,
    ) -> StoreResult<Rehearsed> {
        let rehearsal_scope = scope.clone();
        self.planned_cut(scope, release, actor, move |c, cut| {
            rehearsal::rehearse(c, &rehearsal_scope, |c| {
                Ok(cut(c)?.map(RehearsedChange::Created))
            })
        })
        .await
    }

    /// Plans a cut off the writer and has the writer run `job` with it: `job` is given
    /// the connection and the cut (which answers `None` when the plan is no longer
    /// current, and the cut is planned again).
    async fn planned_cut<T, Job>(
        &self,
        scope: &AppScope,
        release: NewRelease,
        actor: &str,
        job: Job,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        Job: Fn(&Connection, Cut) -> StoreResult<Option<T>> + Clone + Send + 'static,
    {
        let _app = self.app_locks.lock(&scope.app_id).await;
        // Read on a reader, hash and diff on the blocking pool, and give the writer
        // only rows to insert; it refuses (and the cut is planned again) when the
        // draft or the newest release changed in between.
        for _ in 0..OPTIMISTIC_ATTEMPTS {
            let read_scope = scope.clone();
            let facts = self
                .engine
                .read(move |c| releases::cut_facts(c, &read_scope))
                .await?;
            let planned = off_the_writer(move || Ok(plan_release(facts))).await?;
            let (scope, release, actor) = (scope.clone(), release.clone(), actor.to_owned());
            let (limits, job) = (self.limits, job.clone());
            let written = self
                .engine
                .write(move |c| {
                    let cut: Cut = Box::new(move |c| {
                        quota::require_room(
                            c,
                            &limits,
                            Counted::ReleasesPerApp,
                            scope.app_id.as_str(),
                        )?;
                        releases::create_release(c, &scope, release, planned, &actor)
                    });
                    job(c, cut)
                })
                .await?;
            if let Some(answer) = written {
                return Ok(answer);
            }
        }
        Err(kept_changing())
    }
}
