//! The PostgreSQL store against a real server (`TEST_POSTGRES_URL`, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`); every test makes its own database
//! and drops it afterwards. Tests that need the server are `#[needs_postgres]`:
//! built without the variable, they are ignored (counted as skipped); the checks that
//! need no server run either way.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover_store::conformance::fixtures::{
    ACTOR, app_fixture, first, new_augmentation, new_endpoint, new_release, workspace_fixture,
};
use cutover_store::conformance::{Case, Stores};
use cutover_store::prelude::*;
use cutover_store::{StoreError, one_line_chain};
use cutover_store_postgres::{MIGRATIONS, OpenError, PostgresOptions, PostgresStore, migrate};
use cutover_test_gates::needs_postgres;
use sqlx::{Connection, PgConnection, Row};
use tokio::task::JoinSet;

use cutover_test_support::{ScratchDatabase, random_hex, test_postgres_url, with_database_name};

/// Runs `test` with the URL of a fresh database, dropped afterwards (also when the
/// test panics).
async fn with_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let database = ScratchDatabase::for_test();
    test(database.url().to_owned()).await;
}

async fn store(url: &str) -> PostgresStore {
    PostgresStore::connect(PostgresOptions::new(url))
        .await
        .expect("connect to the test database")
}

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
            (3, "entity_digests"),
            (4, "environments"),
            (5, "deployments"),
            (6, "timeline"),
            (7, "idempotency_keys"),
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
        assert_eq!(applied, [1, 2, 3, 4, 5, 6, 7]);
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
                (3, "entity_digests".to_owned()),
                (4, "environments".to_owned()),
                (5, "deployments".to_owned()),
                (6, "timeline".to_owned()),
                (7, "idempotency_keys".to_owned()),
            ]
        );
    })
    .await;
}

/// Opens three stores on a fresh database (as three servers would) for each
/// conformance case; the concurrency cases spread their callers over them.
async fn run_case(case: Case) {
    with_database(|url| async move {
        let open = |limits| {
            let mut options = PostgresOptions::new(&url);
            options.limits = limits;
            PostgresStore::connect(options)
        };
        // Three stores on one database, as three servers would have: the concurrency
        // cases spread their callers over them.
        let one = open(case.limits).await.expect("connect");
        let two = open(case.limits).await.expect("connect");
        let three = open(case.limits).await.expect("connect");
        case.run(Stores::new(
            Arc::new(one),
            [Arc::new(two) as Arc<dyn Store>, Arc::new(three)],
        ))
        .await;
    })
    .await;
}

cutover_store::conformance_suite!(
    #[needs_postgres]
    run_case
);

/// The schema itself refuses changes to release content and to the deployment
/// records, so
/// nothing that writes the database directly can rewrite what was released.
#[needs_postgres]
#[tokio::test]
async fn the_schema_refuses_changes_to_releases_and_their_history() {
    with_database(|url| async move {
        let store = store(&url).await;
        let scope = app_fixture(&store).await;
        let release = store
            .create_release(scope.clone(), new_release("v1", true), ACTOR.to_owned())
            .await
            .expect("v1")
            .summary
            .release_id;
        let mut connection = PgConnection::connect(&url).await.expect("connect");
        for sql in [
            "UPDATE releases SET release_tag = 'changed' WHERE release_id = $1",
            "UPDATE releases SET snapshot = '{}' WHERE release_id = $1",
            "UPDATE deployments SET deployed_by = 'mallory' WHERE release_id = $1",
        ] {
            let refused = sqlx::query(sql)
                .bind(release.as_str())
                .execute(&mut connection)
                .await;
            assert!(refused.is_err(), "{sql} must be refused");
        }
        sqlx::query("UPDATE releases SET description = description WHERE false")
            .execute(&mut connection)
            .await
            .expect("an update touching no row is fine");
    })
    .await;
}

async fn assert_fails_fast(url: &str, expect: &str) {
    let started = Instant::now();
    let error = PostgresStore::connect(PostgresOptions::new(url))
        .await
        .expect_err("must not connect");
    assert!(
        matches!(error, OpenError::Connect { .. }),
        "refused for another reason: {error:?}"
    );
    let error = one_line_chain(&error);
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
    assert!(matches!(invalid, OpenError::InvalidUrl(_)), "{invalid:?}");
    let invalid = one_line_chain(&invalid);
    assert!(invalid.starts_with("invalid PostgreSQL URL: "), "{invalid}");
    assert!(
        !invalid.contains("s3cret") && !invalid.contains('\n'),
        "{invalid}"
    );
}

#[needs_postgres]
#[tokio::test]
async fn a_missing_database_fails_fast_with_one_line() {
    let admin = test_postgres_url();
    let missing = format!("cutover_missing_{}", random_hex(6));
    let url = with_database_name(&admin, &missing).expect("a database URL");
    assert_fails_fast(&url, "does not exist").await;
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
            .create_release(
                scope.clone(),
                new_release("after", false),
                "tester".to_owned(),
            )
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
            .create_augmentation(&scope, new_augmentation("rag"), "tester")
            .await
            .expect("augmentation");
        store
            .create_endpoint(
                &scope,
                new_endpoint("chat", "/chat", &augmentation.augmentation_id),
                "tester",
            )
            .await
            .expect("endpoint");
        store
            .create_release(scope.clone(), new_release("v1", true), "tester".to_owned())
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

        let store = self::store(&url).await;
        let app = store.get_app(&scope).await.expect("app");
        assert!(!app.draft_has_changes, "the draft is what v1 holds");
        let v2 = store
            .create_release(scope.clone(), new_release("v2", false), "tester".to_owned())
            .await
            .expect("v2");
        assert_eq!(v2.change_log, "No changes since v1 (#1)");
        let patch = cutover_domain::draft::AugmentationPatch {
            tags: Some(vec!["b".into()]),
            ..Default::default()
        };
        store
            .update_augmentation(&scope, &augmentation.augmentation_id, patch, "tester", None)
            .await
            .expect("update");
        let v3 = store
            .create_release(scope.clone(), new_release("v3", false), "tester".to_owned())
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

/// A database a newer cutover migrated is refused at connect: this version would not
/// know its rows.
#[needs_postgres]
#[tokio::test]
async fn a_database_migrated_by_a_newer_version_is_refused() {
    with_database(|url| async move {
        store(&url).await.close().await;
        let mut connection = PgConnection::connect(&url).await.expect("connect");
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES (99, 'from_the_future')")
            .execute(&mut connection)
            .await
            .expect("record a newer version");
        let _ = connection.close().await;
        match PostgresStore::connect(PostgresOptions::new(&url)).await {
            Err(OpenError::NewerSchema { found, known, .. }) => {
                assert_eq!((found, known), (99, MIGRATIONS.len() as i64));
            }
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(_) => panic!("a newer schema was opened"),
        }
    })
    .await;
}

/// Workspaces stored before environments existed get the starting three when a
/// server connects, as if they had been made with them.
#[needs_postgres]
#[tokio::test]
async fn workspaces_from_before_environments_get_the_starting_three() {
    with_database(|url| async move {
        let before = store(&url).await;
        let workspace = workspace_fixture(&before, "acme").await;
        before.close().await;
        let mut connection = PgConnection::connect(&url).await.expect("connect");
        sqlx::query("DELETE FROM environments")
            .execute(&mut connection)
            .await
            .expect("as before migration 4");
        let _ = connection.close().await;

        let store = store(&url).await;
        let listed = store
            .list_environments(&workspace, first(10))
            .await
            .expect("list");
        let slugs: Vec<_> = listed
            .items
            .iter()
            .map(|env| (env.slug.as_str(), env.is_default, env.created_by.as_str()))
            .collect();
        assert_eq!(
            slugs,
            [
                ("production", true, ACTOR),
                ("staging", false, ACTOR),
                ("development", false, ACTOR),
            ]
        );
    })
    .await;
}

/// A database written at stop 23 (`tests/fixtures/stop23.sql`, made by
/// `scripts/upgrade-fixture/run`) is migrated when a server connects: its activation
/// history becomes production's deployment records, as the shared checks of
/// `cutover_store::conformance::upgrade` want; connecting again changes nothing.
#[needs_postgres]
#[tokio::test]
async fn a_database_written_at_stop_23_carries_its_history_into_deployments() {
    upgrades(include_str!("fixtures/stop23.sql"), false).await;
}

/// A database written at stop 24 (`tests/fixtures/stop24.sql`: deployments, no
/// timeline) gets its history on the timeline and reads as the stop-23 one does.
#[needs_postgres]
#[tokio::test]
async fn a_database_written_at_stop_24_gets_its_history_on_the_timeline() {
    upgrades(include_str!("fixtures/stop24.sql"), true).await;
}

/// Loads `fixture` into a fresh database, connects (which migrates it), runs the
/// shared upgrade checks, and connects again.
async fn upgrades(fixture: &'static str, at_stop_24: bool) {
    with_database(|url| async move {
        let mut connection = PgConnection::connect(&url).await.expect("connect");
        sqlx::raw_sql(fixture)
            .execute(&mut connection)
            .await
            .expect("load the fixture");
        let _ = connection.close().await;
        let store = store(&url).await;
        let scope = match at_stop_24 {
            true => cutover_store::conformance::upgrade::from_stop24(&store).await,
            false => cutover_store::conformance::upgrade::from_stop23(&store).await,
        };
        store.close().await;
        let store = self::store(&url).await;
        cutover_store::conformance::upgrade::reopened_after_stop23(&store, &scope).await;
        store.close().await;
    })
    .await;
}
