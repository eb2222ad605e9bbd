//! The job queues of [`super::Engine`]: full means refused, never longer, and a large
//! write waits behind the small ones queued with it.

use std::sync::Arc;

use cutover_store::StoreError;

use super::tests::{start_engine, test_options};
use super::{Engine, EngineOptions};

/// An engine on a fresh database with these queue bounds; the directory lives as
/// long as the engine is used.
fn engine(write_queue: usize, read_queue: usize) -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions {
        write_queue,
        read_queue,
        ..test_options()
    };
    let engine = start_engine(&dir.path().join("queue.db"), "", &options);
    (dir, engine)
}

/// Holds the writer inside a job until the returned sender is used; returns once the
/// job runs, with the job's task.
fn hold_writer(
    engine: &Arc<Engine>,
) -> (
    tokio::task::JoinHandle<cutover_store::StoreResult<()>>,
    std::sync::mpsc::Sender<()>,
) {
    let (started, writer_busy) = std::sync::mpsc::channel::<()>();
    let (release_writer, held) = std::sync::mpsc::channel::<()>();
    let blocker = tokio::spawn({
        let engine = engine.clone();
        async move {
            engine
                .write(move |_| {
                    started.send(()).unwrap();
                    held.recv().unwrap();
                    Ok(())
                })
                .await
        }
    });
    writer_busy.recv().unwrap();
    (blocker, release_writer)
}

/// While the writer is held up, at most `write_queue` writes wait; the next one
/// is refused as unavailable at once instead of queueing, and the queue drains
/// normally once the writer moves again. Reads are bounded the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queues_refuse_instead_of_growing() {
    let (_dir, engine) = engine(3, 2);
    let (blocker, release_writer) = hold_writer(&engine);
    let mut waiting = Vec::new();
    for _ in 0..3 {
        let engine = engine.clone();
        waiting.push(tokio::spawn(async move { engine.write(|_| Ok(7)).await }));
    }
    // The three queued writes have been handed over once their tasks ran.
    while engine.writes.len() < 3 {
        tokio::task::yield_now().await;
    }
    let refused = engine.write(|_| Ok(8)).await;
    assert!(
        matches!(&refused, Err(StoreError::Unavailable(text)) if text.to_string().contains("full")),
        "{refused:?}"
    );
    release_writer.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    for job in waiting {
        assert_eq!(job.await.unwrap().unwrap(), 7);
    }
    assert_eq!(engine.write(|_| Ok(9)).await.unwrap(), 9);

    let (started, reader_busy) = std::sync::mpsc::channel::<()>();
    let (release_reader, held) = std::sync::mpsc::channel::<()>();
    let reading = tokio::spawn({
        let engine = engine.clone();
        async move {
            engine
                .read(move |_| {
                    started.send(()).unwrap();
                    held.recv().unwrap();
                    Ok(())
                })
                .await
        }
    });
    reader_busy.recv().unwrap();
    let mut queued = Vec::new();
    for _ in 0..2 {
        let engine = engine.clone();
        queued.push(tokio::spawn(async move { engine.read(|_| Ok(1)).await }));
    }
    while engine.reads.len() < 2 {
        tokio::task::yield_now().await;
    }
    assert!(matches!(
        engine.read(|_| Ok(2)).await,
        Err(StoreError::Unavailable(_))
    ));
    release_reader.send(()).unwrap();
    reading.await.unwrap().unwrap();
    for job in queued {
        assert_eq!(job.await.unwrap().unwrap(), 1);
    }
}

/// A small write queued behind a large one is committed before it: it does not wait
/// for the large write's pages and their fsync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_writes_commit_ahead_of_a_large_one_queued_before_them() {
    let (_dir, engine) = engine(8, 8);
    let (blocker, release_writer) = hold_writer(&engine);
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    // Each job records when it runs.
    let job = |name: &'static str, bytes: usize| {
        let (engine, order) = (engine.clone(), order.clone());
        async move {
            engine
                .write_sized(bytes, move |_| {
                    order.lock().unwrap().push(name);
                    Ok(())
                })
                .await
        }
    };
    let large = tokio::spawn(job("large", super::LARGE_WRITE_BYTES));
    while engine.writes.is_empty() {
        tokio::task::yield_now().await;
    }
    let small = tokio::spawn(job("small", 10));
    while engine.writes.len() < 2 {
        tokio::task::yield_now().await;
    }
    release_writer.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    small.await.unwrap().unwrap();
    large.await.unwrap().unwrap();
    let order = order.lock().unwrap().clone();
    assert_eq!(order, ["small", "large"]);
}
