//! The threads that own the SQLite connections.
//!
//! One writer thread owns the only write connection. It takes every write job that is
//! queued, runs each inside its own SAVEPOINT of one `BEGIN IMMEDIATE` transaction
//! (a job alone in its batch needs none), commits once (one fsync for the whole
//! batch, `synchronous=FULL`), and only then answers the callers. A job that fails
//! rolls back to its savepoint without touching its neighbours, so every job is still
//! all-or-nothing, and jobs run one after another, so they are serializable. Reader threads each own a read connection and
//! run every read job inside one read transaction (a consistent WAL snapshot).
//!
//! Committing queued writes together is what lets many concurrent durable writes
//! share one fsync instead of paying one each. A large write (a draft entity of
//! [`LARGE_WRITE_BYTES`] or more) is committed in a batch of its own, after the small
//! writes queued with it: what one tenant's megabyte costs the writer (its pages in
//! the WAL and their fsync) is never paid by a batch of other tenants' small writes,
//! which wait at most for one large commit. Queued jobs are all in flight at once, so
//! committing them in another order than they were queued changes nothing a caller
//! can see.
//!
//! A checkpointer thread copies committed pages from the WAL into the database file
//! (`PRAGMA wal_checkpoint(PASSIVE)`), woken by the writer after its commits and at
//! most every `CHECKPOINT_PAUSE`, so the writer rarely stops for it (SQLite's
//! automatic checkpoint would copy everything inside the commit that crosses its
//! threshold, holding up the whole batch behind it). Under a steady stream of commits
//! those checkpoints never quite catch up, and SQLite starts the WAL over only once
//! everything in it has been copied; so when the WAL has grown long, the writer
//! copies the rest itself between two batches, without waiting for anyone (see
//! [`finish_checkpoint`]), and its next commit starts the WAL over.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use cutover_store::{StoreError, StoreResult};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::error::from_sqlite;
use crate::open_error::OpenError;

#[path = "engine_checkpoint.rs"]
mod checkpoint;

pub(crate) use checkpoint::WAL_RESTART_FRAMES;
use checkpoint::{finish_checkpoint, run_checkpointer};

/// Hands the commit outcome to whoever waits for the job's answer.
type Completion = Box<dyn FnOnce(StoreResult<()>) + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// One caller's write: its statements and the channel its answer goes back on.
trait WriteJob: Send {
    /// Bytes the job writes, as its caller estimated them (0: small).
    fn bytes(&self) -> usize;
    /// Runs the statements; says whether they succeeded and how to answer once the
    /// batch's commit outcome is known.
    fn run(self: Box<Self>, connection: &Connection) -> (bool, Completion);
    /// Answers without running, when the batch could not even start.
    fn abandon(self: Box<Self>, error: StoreError);
}

struct Job<T, F> {
    work: F,
    bytes: usize,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> WriteJob for Job<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    fn bytes(&self) -> usize {
        self.bytes
    }

    fn run(self: Box<Self>, connection: &Connection) -> (bool, Completion) {
        let Job { work, reply, .. } = *self;
        let result = catch_unwind(AssertUnwindSafe(|| work(connection)))
            .unwrap_or_else(|_| Err(StoreError::internal("a write job panicked")));
        let succeeded = result.is_ok();
        let completion: Completion = Box::new(move |commit| {
            let _ = reply.send(commit.and(result));
        });
        (succeeded, completion)
    }

    fn abandon(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Write jobs that may wait for the writer. A full queue answers `Unavailable` (503
/// with `Retry-After`) instead of growing: at the writer's ~20k small commits a
/// second this is a few tens of milliseconds of work, while each waiting job holds
/// its request's parsed body in memory.
pub(crate) const WRITE_QUEUE: usize = 1024;

/// Read jobs that may wait for a reader thread, bounded for the same reason.
pub(crate) const READ_QUEUE: usize = 4096;

/// What a caller is told when a queue is full.
const QUEUE_FULL: &str = "the SQLite job queue is full";

/// At most this many jobs share one commit, bounding how long one batch holds the lock.
const MAX_BATCH: usize = 256;

/// A write of at least this many bytes is committed in a batch of its own (see the
/// module docs).
pub(crate) const LARGE_WRITE_BYTES: usize = 64 * 1024;

/// Large writes the writer takes out of the queue ahead of committing them; past
/// this, the queue's own bound holds the rest back.
const HELD_LARGE_WRITES: usize = 16;

/// The writer's page cache, in KiB (`PRAGMA cache_size` takes negative numbers as
/// KiB): room for the drafts and index pages the writes of many apps touch.
const WRITER_CACHE_KIB: i64 = 4 * 1024;

/// Each reader's page cache, in KiB: the hot reads are answered from the server's
/// own cache, and a release's content is read once per miss, so pages kept here are
/// mostly index pages; the operating system's cache holds the rest.
const READER_CACHE_KIB: i64 = 256;

/// The checkpointer's page cache, in KiB.
const CHECKPOINTER_CACHE_KIB: i64 = 64;

/// Prepared statements each connection keeps; more than the store's distinct SQL,
/// so none is parsed twice.
const STATEMENT_CACHE: usize = 128;

pub(crate) struct Engine {
    writes: Sender<Box<dyn WriteJob>>,
    reads: Sender<ReadJob>,
}

pub(crate) struct EngineOptions {
    pub readers: usize,
    pub busy_timeout: Duration,
    /// Bounds of the write and read job queues (see [`WRITE_QUEUE`]).
    pub write_queue: usize,
    pub read_queue: usize,
    /// WAL frames past which the writer finishes a checkpoint ([`WAL_RESTART_FRAMES`]).
    pub wal_restart_frames: i64,
}

fn configure(connection: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    connection.busy_timeout(busy_timeout)?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plans that never depend on bound values. Without this SQLite marks some
    // parameters (of `EXISTS`, `LIMIT ?`) as able to change the plan, and then every
    // reuse of a cached statement (whose bindings are cleared on the way back into
    // the cache) compiles it again: half of a reader's time went to parsing.
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// Opens the writer connection: WAL journal, fsync on every commit.
pub(crate) fn open_writer(path: &Path, busy_timeout: Duration) -> Result<Connection, OpenError> {
    let open = |source| OpenError::Open {
        path: path.to_owned(),
        source,
    };
    let connection = Connection::open(path).map_err(open)?;
    configure(&connection, busy_timeout).map_err(open)?;
    let mode: String = connection
        .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
        .map_err(open)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::WalRefused {
            path: path.to_owned(),
            mode,
        });
    }
    connection
        .pragma_update(None, "synchronous", "FULL")
        .and_then(|()| connection.pragma_update(None, "cache_size", -WRITER_CACHE_KIB))
        .map_err(open)?;
    Ok(connection)
}

fn open_reader(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    configure(&connection, busy_timeout)?;
    connection.pragma_update(None, "query_only", "ON")?;
    connection.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    Ok(connection)
}

impl Engine {
    /// Starts the writer on `writer` (already migrated) and `options.readers` readers.
    pub(crate) fn start(
        path: &Path,
        writer: Connection,
        options: &EngineOptions,
    ) -> Result<Self, OpenError> {
        let open = |source| OpenError::Open {
            path: path.to_owned(),
            source,
        };
        let (writes, write_queue) =
            crossbeam_channel::bounded::<Box<dyn WriteJob>>(options.write_queue.max(1));
        let (reads, read_queue) = crossbeam_channel::bounded::<ReadJob>(options.read_queue.max(1));
        for index in 0..options.readers.max(1) {
            let connection = open_reader(path, options.busy_timeout).map_err(open)?;
            let queue = read_queue.clone();
            thread::Builder::new()
                .name(format!("sqlite-reader-{index}"))
                .spawn(move || run_reader(connection, queue))
                .map_err(OpenError::StartThread)?;
        }
        // Checkpoints are the checkpointer's job from now on (see the module docs).
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .and_then(|()| writer.query_row("PRAGMA page_size", [], |row| row.get::<_, i64>(0)))
            .and_then(|page_bytes| {
                let limit = options.wal_restart_frames.saturating_mul(page_bytes);
                writer.pragma_update(None, "journal_size_limit", limit)
            })
            .map_err(|source| OpenError::Configure {
                path: path.to_owned(),
                source,
            })?;
        let checkpointer = open_reader(path, options.busy_timeout)
            .and_then(|connection| {
                connection.pragma_update(None, "query_only", "OFF")?;
                // It only copies pages from the WAL to the file: no cache to speak of.
                connection.pragma_update(None, "cache_size", -CHECKPOINTER_CACHE_KIB)?;
                Ok(connection)
            })
            .map_err(open)?;
        let (wake_checkpointer, wakes) = crossbeam_channel::bounded::<()>(1);
        let wal_is_long = Arc::new(AtomicBool::new(false));
        let told = wal_is_long.clone();
        let long_wal_frames = options.wal_restart_frames;
        thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run_checkpointer(checkpointer, wakes, told, long_wal_frames))
            .map_err(OpenError::StartThread)?;
        let busy_timeout = options.busy_timeout;
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                run_writer(
                    writer,
                    busy_timeout,
                    write_queue,
                    wake_checkpointer,
                    wal_is_long,
                )
            })
            .map_err(OpenError::StartThread)?;
        Ok(Self { writes, reads })
    }

    /// Runs `work` in the write transaction and answers once it is durably committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.write_sized(0, work).await
    }

    /// [`Engine::write`] of a job that writes about `bytes` bytes: from
    /// [`LARGE_WRITE_BYTES`] on, it is committed in a batch of its own.
    pub(crate) async fn write_sized<T, F>(&self, bytes: usize, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<T>>();
        let job: Box<dyn WriteJob> = Box::new(Job { work, bytes, reply });
        self.writes.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => StoreError::unavailable(format!("{QUEUE_FULL} (writes)")),
            TrySendError::Disconnected(_) => StoreError::internal("the SQLite writer has stopped"),
        })?;
        answer
            .await
            .map_err(|_| StoreError::internal("the SQLite writer dropped a job"))?
    }

    /// Runs `work` inside one read transaction on a reader thread.
    pub(crate) async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<T>>();
        let job: ReadJob = Box::new(move |connection| {
            let result = catch_unwind(AssertUnwindSafe(|| in_read_transaction(connection, work)))
                .unwrap_or_else(|_| Err(StoreError::internal("a read job panicked")));
            let _ = reply.send(result);
        });
        self.reads.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => StoreError::unavailable(format!("{QUEUE_FULL} (reads)")),
            TrySendError::Disconnected(_) => {
                StoreError::internal("the SQLite readers have stopped")
            }
        })?;
        answer
            .await
            .map_err(|_| StoreError::internal("a SQLite reader dropped a job"))?
    }
}

fn in_read_transaction<T>(
    connection: &Connection,
    work: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    run(connection, "BEGIN").map_err(from_sqlite)?;
    let result = work(connection);
    // A read transaction has nothing to keep; ending it can only fail if the
    // connection is broken, which the next BEGIN reports.
    let _ = run(connection, "COMMIT");
    result
}

fn run_reader(connection: Connection, queue: Receiver<ReadJob>) {
    for job in queue {
        job(&connection);
    }
}

fn run_writer(
    connection: Connection,
    busy_timeout: Duration,
    queue: Receiver<Box<dyn WriteJob>>,
    wake_checkpointer: Sender<()>,
    wal_is_long: Arc<AtomicBool>,
) {
    let after_commit = || {
        if wal_is_long.load(Ordering::Relaxed) && finish_checkpoint(&connection, busy_timeout) {
            wal_is_long.store(false, Ordering::Relaxed);
        }
        // Full means a wake-up is already pending; one is enough.
        let _ = wake_checkpointer.try_send(());
    };
    let mut large: VecDeque<Box<dyn WriteJob>> = VecDeque::new();
    loop {
        let mut small = Vec::new();
        if large.is_empty() {
            match queue.recv() {
                Ok(job) => sort_job(job, &mut small, &mut large),
                Err(_) => break,
            }
        }
        while small.len() < MAX_BATCH && large.len() < HELD_LARGE_WRITES {
            match queue.try_recv() {
                Ok(job) => sort_job(job, &mut small, &mut large),
                Err(_) => break,
            }
        }
        if !small.is_empty() {
            commit_batch(&connection, small);
            after_commit();
        }
        if let Some(job) = large.pop_front() {
            commit_batch(&connection, vec![job]);
            after_commit();
        }
    }
    // Dropping `wake_checkpointer` tells the checkpointer to do a last one and stop.
}

/// Puts `job` with the small writes of the next batch, or among the large ones that
/// each get a batch of their own.
fn sort_job(
    job: Box<dyn WriteJob>,
    small: &mut Vec<Box<dyn WriteJob>>,
    large: &mut VecDeque<Box<dyn WriteJob>>,
) {
    if job.bytes() >= LARGE_WRITE_BYTES {
        large.push_back(job);
    } else {
        small.push(job);
    }
}

/// Commits `batch` in one transaction. In a batch of several, each job runs in a
/// savepoint of its own, so a failing job rolls back alone. A job alone in its batch
/// (every large write is) runs without one: rolling the transaction back undoes
/// exactly that job, and SQLite need not keep a copy of every page it changes
/// (under megabyte writes, a savepoint's sub-journal took 7% of the writer).
fn commit_batch(connection: &Connection, mut batch: Vec<Box<dyn WriteJob>>) {
    if let Err(err) = run(connection, "BEGIN IMMEDIATE") {
        let error = from_sqlite(err);
        for job in batch {
            job.abandon(clone_error(&error));
        }
        return;
    }
    if batch.len() == 1 {
        let job = batch.pop().expect("a batch of one");
        return commit_alone(connection, job);
    }
    let mut completions = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    for job in jobs.by_ref() {
        completions.push(run_in_savepoint(connection, job));
        if connection.is_autocommit() {
            // SQLite rolled the whole transaction back (an I/O error or a full disk):
            // the earlier jobs' work is gone too, and later jobs must not run outside
            // a transaction. Nobody is told "done" for work that was not kept.
            let error = aborted();
            for job in jobs {
                job.abandon(clone_error(&error));
            }
            for completion in completions {
                completion(Err(clone_error(&error)));
            }
            return;
        }
    }
    let commit = commit_or_roll_back(connection);
    for completion in completions {
        completion(commit.as_ref().map(|_| ()).map_err(clone_error));
    }
}

/// Runs the only job of a begun transaction and commits it, or rolls it back when
/// the job failed.
fn commit_alone(connection: &Connection, job: Box<dyn WriteJob>) {
    let (succeeded, completion) = job.run(connection);
    if connection.is_autocommit() {
        return completion(Err(aborted()));
    }
    if !succeeded {
        let _ = run(connection, "ROLLBACK");
        // The job's own error is its answer.
        return completion(Ok(()));
    }
    completion(commit_or_roll_back(connection));
}

/// What the jobs of a transaction SQLite rolled back itself are told.
fn aborted() -> StoreError {
    StoreError::unavailable("the database aborted the transaction (I/O error or full disk)")
}

fn commit_or_roll_back(connection: &Connection) -> StoreResult<()> {
    let commit = run(connection, "COMMIT").map_err(from_sqlite);
    if commit.is_err() {
        let _ = run(connection, "ROLLBACK");
    }
    commit
}

/// Runs one job in its own savepoint; a failed job leaves no trace in the batch.
fn run_in_savepoint(connection: &Connection, job: Box<dyn WriteJob>) -> Completion {
    if let Err(err) = run(connection, "SAVEPOINT job") {
        let error = from_sqlite(err);
        return Box::new(move |_| job.abandon(error));
    }
    let (succeeded, completion) = job.run(connection);
    let end = if succeeded {
        run(connection, "RELEASE job")
    } else {
        run(connection, "ROLLBACK TO job").and_then(|()| run(connection, "RELEASE job"))
    };
    match end {
        Ok(()) => completion,
        Err(err) => {
            let error = from_sqlite(err);
            Box::new(move |_| completion(Err(error)))
        }
    }
}

/// Runs one statement without parameters, prepared once per connection.
fn run(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(|_| ())
}

fn clone_error(error: &StoreError) -> StoreError {
    match error {
        StoreError::Unavailable(cause) => StoreError::Unavailable(cause.clone()),
        StoreError::Internal(cause) => StoreError::Internal(cause.clone()),
        other => StoreError::internal(format!("the batch failed: {other}")),
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "engine_queue_tests.rs"]
mod queue_tests;

#[cfg(test)]
#[path = "engine_wal_tests.rs"]
mod wal_tests;
