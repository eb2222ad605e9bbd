//! The SQLite store's checkpoints: a checkpointer thread copies committed pages from
//! the WAL into the database file while the writer goes on, and the writer finishes a
//! checkpoint between batches, without waiting, when the WAL has grown long (see the
//! module docs of [`super`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use crossbeam_channel::Receiver;
use rusqlite::Connection;

/// The least time between two checkpoints.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(100);

/// WAL frames (pages) past which the writer finishes a checkpoint between batches so
/// the WAL can start over: about 16 MiB with 4 KiB pages. A WAL file that grew past
/// it is cut back to it when it starts over (`journal_size_limit`).
pub(crate) const WAL_RESTART_FRAMES: i64 = 4096;

/// Checkpoints after the writer's commits, pausing between checkpoints so a stream of
/// small commits does not become a stream of checkpoints. Each copies what it can
/// while the writer goes on (PASSIVE). Under a steady stream of commits that never
/// quite catches up, and SQLite starts the WAL over only once everything in it has
/// been copied; so when the WAL has grown past `long_wal_frames`, the checkpointer
/// asks the writer to finish the job between two batches (see
/// [`finish_checkpoint`]). A checkpoint that finds the database busy or fails is
/// simply tried again later: the WAL keeps every committed page until then.
pub(super) fn run_checkpointer(
    connection: Connection,
    wakes: Receiver<()>,
    wal_is_long: Arc<AtomicBool>,
    long_wal_frames: i64,
) {
    let checkpoint = || {
        let frames = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            row.get::<_, i64>(1)
        });
        if frames.is_ok_and(|frames| frames > long_wal_frames) {
            wal_is_long.store(true, Ordering::Relaxed);
        }
    };
    while wakes.recv().is_ok() {
        checkpoint();
        thread::sleep(CHECKPOINT_PAUSE);
    }
    checkpoint();
}

/// Run by the writer between batches when the WAL is long: with no write under way it
/// copies what the checkpointer has not yet copied, so that the next commit can start
/// the WAL over (which it does once no reader still reads a snapshot older than the
/// copy; readers that begin after it read the database file). It waits for no one:
/// with the checkpointer mid-copy, or a reader on an older snapshot, it copies what it
/// can and answers false, and the writer tries again after its next batch. (Waiting
/// there, with the busy timeout, held every write up for as long as the checkpointer
/// or the slowest reader took: up to a second when the disk was busy.)
pub(super) fn finish_checkpoint(connection: &Connection, busy_timeout: Duration) -> bool {
    if connection.busy_timeout(Duration::ZERO).is_err() {
        return false;
    }
    let finished = connection
        .query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| {
            row.get::<_, i64>(0)
        })
        .is_ok_and(|busy| busy == 0);
    // Without its busy timeout the writer would fail at once on another process's lock.
    let _ = connection.busy_timeout(busy_timeout);
    finished
}
