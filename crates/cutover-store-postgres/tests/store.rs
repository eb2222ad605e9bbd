//! The PostgreSQL store against a real server (`TEST_POSTGRES_URL`, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); every test makes its own database
//! and drops it afterwards. Tests that need the server are `#[needs_postgres]`:
//! built without the variable, they are ignored (counted as skipped); the checks that
//! need no server run either way.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cutover_domain::ReleaseId;
use cutover_domain::model::{ActivationAction, ReleaseStatus};
use cutover_store::{PageRequest, ReleaseQuery, Store, StoreError};
use cutover_store_postgres::{MIGRATIONS, PostgresOptions, PostgresStore, migrate};
use cutover_test_gates::needs_postgres;
use sqlx::{Connection, PgConnection, Row};
use tokio::task::JoinSet;

use support::scenario;
use support::{
    admin_url, app_fixture, new_release, random_hex, reason, store, with_database,
    with_database_name,
};

#[test]
fn migration_versions_and_names_match_sqlite() {
    let sqlite: Vec<(i64, &str)> = cutover_store_sqlite::migrations::MIGRATIONS
        .iter()
        .map(|(version, name, _)| (*version, *name))
        .collect();
    let postgres: Vec<(i64, &str)> = MIGRATIONS
        .iter()
        .map(|(version, name, _)| (*version, *name))
        .collect();
    assert_eq!(postgres, sqlite, "same migration versions and names");
    assert_eq!(
        postgres,
        [
            (1, "initial"),
            (2, "lean_release_rows"),
            (3, "entity_digests")
        ]
    );
}

#[needs_postgres]
#[tokio::test]
async fn migrations_apply_once_even_when_started_together() {
    with_database(|url| async move {
        // Four "servers" migrating one empty database at once: each version once.
        let mut starts = JoinSet::new();
        for _ in 0..4 {
            let url = url.clone();
            starts.spawn(async move { migrate(&url, Duration::from_secs(5)).await });
        }
        let mut applied = Vec::new();
        while let Some(result) = starts.join_next().await {
            applied.extend(result.expect("task").expect("migrate"));
        }
        applied.sort_unstable();
        assert_eq!(applied, [1, 2, 3]);
        assert_eq!(
            migrate(&url, Duration::from_secs(5)).await.expect("again"),
            Vec::<i64>::new()
        );
        let store = store(&url).await; // connect migrates too: nothing left to do
        store.ping().await.expect("ping");

        let mut connection = PgConnection::connect(&url).await.expect("connect");
        let rows = sqlx::query("SELECT version, name FROM schema_migrations ORDER BY version")
            .fetch_all(&mut connection)
            .await
            .expect("schema_migrations");
        let recorded: Vec<(i64, String)> =
            rows.iter().map(|row| (row.get(0), row.get(1))).collect();
        assert_eq!(
            recorded,
            [
                (1, "initial".to_owned()),
                (2, "lean_release_rows".to_owned()),
                (3, "entity_digests".to_owned())
            ]
        );
    })
    .await;
}

#[needs_postgres]
#[tokio::test]
async fn a_release_lifecycle_round_trip_matches_sqlite() {
    with_database(|url| async move {
        let postgres = store(&url).await;
        let on_postgres = scenario::run(&postgres, Some(&url)).await;

        let directory = tempfile::tempdir().expect("tempdir");
        let sqlite = cutover_store_sqlite::SqliteStore::open(
            cutover_store_sqlite::SqliteOptions::new(directory.path().join("cutover.db")),
        )
        .expect("sqlite");
        let on_sqlite = scenario::run(&sqlite, None).await;

        for (step, (pg, lite)) in on_postgres.iter().zip(&on_sqlite).enumerate() {
            println!("{step:>2} {pg}");
            assert_eq!(
                pg, lite,
                "step {step} differs between PostgreSQL and SQLite"
            );
        }
        assert_eq!(on_postgres.len(), on_sqlite.len());
    })
    .await;
}

#[needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_activations_through_two_servers_leave_one_active_and_a_chain() {
    with_database(|url| async move {
        let (one, two) = (store(&url).await, store(&url).await);
        let scope = app_fixture(&one).await;
        let mut ids = Vec::new();
        for n in 1..=32 {
            let release = one
                .create_release(&scope, new_release(&format!("v{n}"), false), "tester")
                .await
                .expect("create");
            ids.push(release.summary.release_id);
        }
        let mut tasks = JoinSet::new();
        for (index, id) in ids.iter().cloned().enumerate() {
            let store = if index % 2 == 0 {
                one.clone()
            } else {
                two.clone()
            };
            let scope = scope.clone();
            tasks.spawn(async move {
                store
                    .activate_release(&scope, &id, ActivationAction::Activate, "tester")
                    .await
            });
        }
        while let Some(result) = tasks.join_next().await {
            let outcome = result.expect("task").expect("every activation succeeds");
            assert!(outcome.changed);
        }

        let page = one
            .list_releases(
                &scope,
                ReleaseQuery {
                    limit: 200,
                    before_number: None,
                    include_archived: true,
                },
            )
            .await
            .expect("list");
        let active: Vec<_> = page
            .releases
            .iter()
            .filter(|release| release.status == ReleaseStatus::Active)
            .collect();
        assert_eq!(active.len(), 1, "exactly one active release");
        assert_eq!(page.active_release_id.as_ref(), Some(&active[0].release_id));
        assert_eq!(page.releases.len(), 32);

        let history = two
            .list_activations(
                &scope,
                PageRequest {
                    limit: 100,
                    after: None,
                },
            )
            .await
            .expect("history");
        assert_eq!(history.total, 32);
        assert_eq!(history.items.len(), 32);
        let mut previous: Option<ReleaseId> = None;
        for entry in &history.items {
            assert_eq!(entry.replaced_release_id, previous, "history forms a chain");
            previous = Some(entry.release_id.clone());
        }
        assert_eq!(previous.as_ref(), Some(&active[0].release_id));
        let activated: BTreeSet<_> = history.items.iter().map(|e| e.release_id.clone()).collect();
        assert_eq!(activated.len(), 32, "every release was activated once");
    })
    .await;
}

#[needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_with_one_tag_let_exactly_one_through() {
    with_database(|url| async move {
        let (one, two) = (store(&url).await, store(&url).await);
        let scope = app_fixture(&one).await;
        let mut tasks = JoinSet::new();
        for index in 0..16 {
            let store = if index % 2 == 0 {
                one.clone()
            } else {
                two.clone()
            };
            let scope = scope.clone();
            tasks.spawn(async move {
                store
                    .create_release(&scope, new_release("same", false), "tester")
                    .await
            });
        }
        let (mut created, mut refused) = (0, 0);
        while let Some(result) = tasks.join_next().await {
            let result = result.expect("task");
            match &result {
                Ok(release) => {
                    created += 1;
                    assert_eq!(release.summary.release_number, 1);
                }
                Err(_) => {
                    assert_eq!(reason(&result), "release_tag_exists");
                    refused += 1;
                }
            }
        }
        assert_eq!((created, refused), (1, 15));
    })
    .await;
}

#[needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_distinct_creates_get_numbers_one_to_thirty_two() {
    with_database(|url| async move {
        let (one, two) = (store(&url).await, store(&url).await);
        let scope = app_fixture(&one).await;
        let mut tasks = JoinSet::new();
        for index in 0..32 {
            let store = if index % 2 == 0 {
                one.clone()
            } else {
                two.clone()
            };
            let scope = scope.clone();
            tasks.spawn(async move {
                store
                    .create_release(&scope, new_release(&format!("t{index}"), false), "tester")
                    .await
            });
        }
        let mut releases = Vec::new();
        while let Some(result) = tasks.join_next().await {
            releases.push(result.expect("task").expect("create"));
        }
        releases.sort_by_key(|release| release.summary.release_number);
        let numbers: Vec<i64> = releases.iter().map(|r| r.summary.release_number).collect();
        assert_eq!(numbers, (1..=32).collect::<Vec<_>>());
        for pair in releases.windows(2) {
            assert_eq!(
                pair[1].previous_release_id.as_ref(),
                Some(&pair[0].summary.release_id),
                "each release points at the one created just before it"
            );
        }
        assert_eq!(releases[0].previous_release_id, None);
    })
    .await;
}

async fn assert_fails_fast(url: &str, expect: &str) {
    let started = Instant::now();
    let error = PostgresStore::connect(PostgresOptions::new(url))
        .await
        .expect_err("must not connect");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(!error.contains('\n'), "one line: {error}");
    assert!(
        error.starts_with("cannot connect to PostgreSQL at "),
        "{error}"
    );
    assert!(error.contains(expect), "{error}");
    assert!(!error.contains("s3cret"), "never the password: {error}");
}

#[tokio::test]
async fn unreachable_servers_and_invalid_urls_fail_fast_with_one_line() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("postgres://postgres:s3cret@127.0.0.1:{closed_port}/cutover");
    assert_fails_fast(&url, &format!("127.0.0.1:{closed_port}/cutover")).await;

    let invalid = PostgresStore::connect(PostgresOptions::new("postgres://u:s3cret@h:notaport/db"))
        .await
        .expect_err("invalid url");
    assert!(
        !invalid.contains("s3cret") && !invalid.contains('\n'),
        "{invalid}"
    );
}

#[needs_postgres]
#[tokio::test]
async fn a_missing_database_fails_fast_with_one_line() {
    let admin = admin_url();
    let missing = format!("cutover_missing_{}", random_hex(6));
    assert_fails_fast(&with_database_name(&admin, &missing), "does not exist").await;
}

#[needs_postgres]
#[tokio::test]
async fn the_pool_recovers_after_its_connections_are_killed_and_a_closed_store_is_unavailable() {
    with_database(|url| async move {
        let store = store(&url).await;
        let scope = app_fixture(&store).await;
        store.ping().await.expect("ping");
        // What a server restart does to pooled connections: they all die.
        let mut admin = PgConnection::connect(&url).await.expect("connect");
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&mut admin)
        .await
        .expect("terminate");
        store.ping().await.expect("ping after the connections died");
        store
            .get_app(&scope)
            .await
            .expect("read after the connections died");
        store
            .create_release(&scope, new_release("after", false), "tester")
            .await
            .expect("write after the connections died");

        store.close().await;
        assert!(matches!(
            store.ping().await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            store.get_app(&scope).await,
            Err(StoreError::Unavailable(_))
        ));
    })
    .await;
}

/// A database whose rows predate migration 3 (written here by the store, then put
/// back the way the old code left them) gets its digests when a server connects, and
/// they agree with what new writes make: the draft equals the newest release, the next
/// cut says so, and a change after it is named in the change log.
#[needs_postgres]
#[tokio::test]
async fn rows_from_before_digests_are_backfilled_and_agree_with_new_writes() {
    with_database(|url| async move {
        let store = store(&url).await;
        let scope = app_fixture(&store).await;
        let augmentation = store
            .create_augmentation(&scope, support::new_augmentation("rag"), "tester")
            .await
            .expect("augmentation");
        store
            .create_endpoint(
                &scope,
                support::new_endpoint("chat", "/chat", &augmentation.augmentation_id),
                "tester",
            )
            .await
            .expect("endpoint");
        store
            .create_release(&scope, new_release("v1", true), "tester")
            .await
            .expect("v1");
        store.close().await;

        let mut connection = PgConnection::connect(&url).await.expect("connect");
        sqlx::raw_sql(
            "ALTER TABLE releases DISABLE TRIGGER releases_manifest_is_set_once;
             UPDATE releases SET manifest = NULL, manifest_digest = NULL;
             ALTER TABLE releases ENABLE TRIGGER releases_manifest_is_set_once;
             UPDATE endpoints SET content_hash = NULL, digest = NULL, canonical = NULL;
             UPDATE augmentations SET content_hash = NULL, digest = NULL, canonical = NULL;
             UPDATE apps SET draft_hash = 'from the old code';",
        )
        .execute(&mut connection)
        .await
        .expect("undo the digests");
        let _ = connection.close().await;

        let store = support::store(&url).await;
        let app = store.get_app(&scope).await.expect("app");
        assert!(!app.draft_has_changes, "the draft is what v1 holds");
        let v2 = store
            .create_release(&scope, new_release("v2", false), "tester")
            .await
            .expect("v2");
        assert_eq!(v2.change_log, "No changes since v1 (#1)");
        let patch = cutover_domain::draft::AugmentationPatch {
            tags: Some(vec!["b".into()]),
            ..Default::default()
        };
        store
            .update_augmentation(&scope, &augmentation.augmentation_id, patch, "tester")
            .await
            .expect("update");
        let v3 = store
            .create_release(&scope, new_release("v3", false), "tester")
            .await
            .expect("v3");
        assert_eq!(
            v3.change_log,
            "Changes since v2 (#2):\n~ changed augmentation \"rag\": tags"
        );
        assert_ne!(v3.summary.content_hash, v2.summary.content_hash);
    })
    .await;
}

/// `url` with `sslmode=mode` added to its query.
fn with_sslmode(url: &str, mode: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}sslmode={mode}")
}

/// Whether the store's pooled connections to this database (application_name
/// `cutover`) include one with TLS (`true`) and one without (`false`).
async fn pooled_tls(admin: &mut PgConnection) -> BTreeSet<bool> {
    sqlx::query_scalar(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.datname = current_database() AND a.application_name = 'cutover'",
    )
    .fetch_all(admin)
    .await
    .expect("pg_stat_ssl")
    .into_iter()
    .collect()
}

/// `sslmode` in the URL is honoured (sqlx is built with rustls): `disable` talks in
/// the clear; `require` and the default `prefer` encrypt when the server offers TLS,
/// and `require` fails at start, in one line, when it does not; `verify-full`
/// refuses a certificate that no trusted authority signed (the test server's is
/// self-signed).
#[needs_postgres]
#[tokio::test]
async fn sslmode_in_the_url_is_honoured() {
    with_database(|url| async move {
        let mut admin = PgConnection::connect(&url).await.expect("connect");
        let offered: String = sqlx::query_scalar("SHOW ssl")
            .fetch_one(&mut admin)
            .await
            .expect("SHOW ssl");
        let offered = offered == "on";

        let clear = store(&with_sslmode(&url, "disable")).await;
        clear.ping().await.expect("ping in the clear");
        assert_eq!(pooled_tls(&mut admin).await, BTreeSet::from([false]));
        clear.close().await;

        if offered {
            for mode in ["require", "prefer"] {
                let encrypted = store(&with_sslmode(&url, mode)).await;
                encrypted.ping().await.expect("ping over TLS");
                assert!(pooled_tls(&mut admin).await.contains(&true), "{mode}");
                encrypted.close().await;
            }
            assert_fails_fast(&with_sslmode(&url, "verify-full"), "certificate").await;
        } else {
            assert_fails_fast(&with_sslmode(&url, "require"), "TLS").await;
        }
    })
    .await;
}
