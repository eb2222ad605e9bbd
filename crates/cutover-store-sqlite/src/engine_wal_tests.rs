//! The WAL under a stream of writes: the writer never waits for a reader (or the
//! checkpointer) to let the WAL start over, and a WAL that grew is cut back once it
//! can start over.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::tests::{start_engine, test_options};
use super::{Engine, EngineOptions};
use crate::error::from_sqlite;

/// Frames past which the test engines finish a checkpoint: 256 KiB of 4 KiB pages.
const RESTART_FRAMES: i64 = 64;
const PAGE_BYTES: u64 = 4096;

/// An engine whose busy timeout is longer than any test runs, so that a writer that
/// waited for a lock would be seen hanging, not merely slow.
fn engine(dir: &Path) -> (PathBuf, Arc<Engine>) {
    let path = dir.join("wal.db");
    let options = EngineOptions {
        busy_timeout: Duration::from_secs(600),
        write_queue: 64,
        read_queue: 64,
        wal_restart_frames: RESTART_FRAMES,
        ..test_options()
    };
    let schema = "CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB NOT NULL)";
    (path.clone(), start_engine(&path, schema, &options))
}

async fn insert(engine: &Engine, bytes: usize) {
    engine
        .write(move |connection| {
            connection
                .execute(
                    "INSERT INTO filler (data) VALUES (zeroblob(?1))",
                    [bytes as i64],
                )
                .map_err(from_sqlite)?;
            Ok(())
        })
        .await
        .unwrap();
}

fn wal_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |metadata| metadata.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_on_while_a_reader_holds_the_wal_and_it_is_cut_back_after() {
    let dir = tempfile::tempdir().unwrap();
    let (path, engine) = engine(dir.path());
    insert(&engine, 1024).await;
    // A reader that keeps a snapshot inside the WAL: the WAL cannot start over while
    // it lives, and a checkpoint that waited for it would wait the busy timeout.
    let reader = rusqlite::Connection::open(&path).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM filler;")
        .unwrap();

    // Long enough for the checkpointer to find the WAL long several times over, and
    // for the writer to try to finish a checkpoint after each batch.
    let grown = tokio::time::timeout(Duration::from_secs(60), async {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_millis(800) {
            insert(&engine, 16 * 1024).await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        wal_bytes(&path)
    })
    .await
    .expect("the writes waited for the reader");
    assert!(
        grown > 8 * RESTART_FRAMES as u64 * PAGE_BYTES,
        "the WAL could not start over, so it grew: {grown} bytes"
    );

    reader.execute_batch("COMMIT").unwrap();
    let limit = RESTART_FRAMES as u64 * PAGE_BYTES;
    tokio::time::timeout(Duration::from_secs(60), async {
        while wal_bytes(&path) > limit {
            insert(&engine, 1024).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the WAL stayed at {} bytes", wal_bytes(&path)));
}
