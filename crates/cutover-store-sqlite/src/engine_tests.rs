//! The writer's and readers' own rules: a job alone in its batch is all-or-nothing
//! without a savepoint, and cached statements are never compiled again.

use super::*;
use rusqlite::StatementStatus;

/// What the test engines start with: one reader, short queues, the server's WAL
/// threshold.
pub(super) fn test_options() -> EngineOptions {
    EngineOptions {
        readers: 1,
        busy_timeout: Duration::from_secs(1),
        write_queue: 8,
        read_queue: 8,
        wal_restart_frames: WAL_RESTART_FRAMES,
    }
}

/// Starts an engine on a fresh, migrated database at `path`, with `schema` (the
/// tables a test writes to) created first.
pub(super) fn start_engine(path: &Path, schema: &str, options: &EngineOptions) -> Arc<Engine> {
    let mut writer = open_writer(path, options.busy_timeout).unwrap();
    crate::migrations::apply(&mut writer).unwrap();
    writer.execute_batch(schema).unwrap();
    Arc::new(Engine::start(path, writer, options).unwrap())
}

/// The hot reads run cached statements with new values every time; none may be
/// compiled again for it (SQLite does that when it thinks a value could change
/// the plan, unless told plans are fixed).
#[test]
fn cached_statements_are_not_compiled_again_for_new_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plans.db");
    let mut writer = open_writer(&path, Duration::from_secs(1)).unwrap();
    crate::migrations::apply(&mut writer).unwrap();
    let reader = open_reader(&path, Duration::from_secs(1)).unwrap();
    let statements = [
        (crate::releases::document_sql("release_id = ?4"), 4),
        (crate::releases::document_sql("status = 'active'"), 3),
        (
            "SELECT release_id FROM releases WHERE app_id = ?1 AND release_number < ?2 \
             ORDER BY release_number DESC LIMIT ?3"
                .to_owned(),
            3,
        ),
    ];
    for (sql, parameters) in &statements {
        for round in 0..5 {
            // Integers, as `LIMIT` wants them; they simply match no row elsewhere.
            let values: Vec<i64> = (0..*parameters).map(|n| 10 * round + n + 2).collect();
            in_read_transaction(&reader, |connection| {
                let mut statement = connection.prepare_cached(sql).map_err(from_sqlite)?;
                let mut rows = statement
                    .query(rusqlite::params_from_iter(&values))
                    .map_err(from_sqlite)?;
                while rows.next().map_err(from_sqlite)?.is_some() {}
                Ok(())
            })
            .unwrap();
        }
        let statement = reader.prepare_cached(sql).unwrap();
        assert_eq!(
            statement.get_status(StatementStatus::RePrepare),
            0,
            "compiled again: {sql}"
        );
    }
}

/// A job alone in its batch runs without a savepoint: when it fails, nothing it wrote
/// is kept, and the next job commits as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_alone_in_its_batch_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let engine = start_engine(
        &dir.path().join("alone.db"),
        "CREATE TABLE notes (text TEXT NOT NULL)",
        &test_options(),
    );
    let insert = |text: &'static str, then_fail: bool| {
        move |connection: &Connection| {
            connection
                .execute("INSERT INTO notes (text) VALUES (?1)", [text])
                .map_err(from_sqlite)?;
            if then_fail {
                return Err(StoreError::internal("refused after writing"));
            }
            Ok(())
        }
    };
    let failed = engine
        .write_sized(LARGE_WRITE_BYTES, insert("failed", true))
        .await;
    assert!(matches!(failed, Err(StoreError::Internal(_))), "{failed:?}");
    engine.write(insert("kept", false)).await.unwrap();
    let texts = engine
        .read(|connection| {
            let mut statement = connection
                .prepare("SELECT text FROM notes")
                .map_err(from_sqlite)?;
            let rows = statement
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(from_sqlite)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(from_sqlite)
        })
        .await
        .unwrap();
    assert_eq!(texts, ["kept"]);
}
