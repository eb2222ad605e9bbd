//! Large bodies take a lane (issue 12, "one tenant stalls every tenant"): beyond
//! `--large-body-concurrency` of them at once, a large body waits for a place, and a
//! request past its deadline gives its place up.

use std::time::Duration;

use cutover_server::config::ConnectionLimits;
use cutover_server::http::large_bodies::LargeBodyLimits;
use serde_json::{Value, json};

use cutover_server::ServeConfig;

use crate::harness::{Backend, DirectDatabase, TestApp};

/// An augmentation patch of about 200 KB: large enough to take the lane.
fn large_patch(turn: u32) -> Value {
    let prompt = format!("{turn:08}").repeat(25_000);
    json!({"stages": [{"name": "s", "steps": [{"name": "llm", "type": "inference",
                                               "config": {"prompt": prompt}}]}]})
}

/// The value of the unlabelled series `name` on `/metrics`.
async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// Waits (at most 20 s) until the series `name` reads `value`.
async fn until_metric(app: &TestApp, name: &str, value: u64) {
    tokio::time::timeout(Duration::from_secs(20), async {
        while metric(app, name).await != value {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{name} never reached {value}"));
}

/// A server whose lane has one place (and no byte budget), adjusted by `adjust`, with
/// an app of two augmentations (their paths) and the database's write lock held.
async fn one_place_behind_a_lock(
    backend: Backend,
    adjust: impl FnOnce(&mut ServeConfig),
) -> (TestApp, [String; 2], DirectDatabase) {
    let app = TestApp::spawn_with(backend, |config| {
        config.large_bodies = LargeBodyLimits {
            concurrency: 1,
            bytes_per_second: 0,
        };
        // The held write waits for the lock, not a busy timeout.
        config.busy_timeout = Duration::from_secs(60);
        adjust(config);
    })
    .await;
    let path = app.create_app().await;
    let mut paths = Vec::new();
    for name in ["first", "second"] {
        let id = app.add_augmentation(&path, name).await;
        paths.push(format!("{}/augmentations/{id}", path.path()));
    }
    let mut database = app.direct_database().await;
    database.lock_writes().await;
    let paths = paths.try_into().expect("two paths");
    (app, paths, database)
}

/// A large write held inside the lane (behind a database lock) makes a second large
/// write wait for the lane, not run beside it; both are written once the lock goes.
async fn a_large_body_beyond_the_lane_waits_for_a_place(backend: Backend) {
    let (app, [first, second], mut database) = one_place_behind_a_lock(backend, |_| {}).await;

    let (held, waited, ()) = tokio::join!(
        app.patch(&first, large_patch(1)),
        async {
            until_metric(&app, "cutover_large_bodies_total", 1).await;
            app.patch(&second, large_patch(2)).await
        },
        async {
            until_metric(&app, "cutover_large_bodies_waiting", 1).await;
            assert_eq!(metric(&app, "cutover_large_bodies_total").await, 2);
            database.unlock().await;
        },
    );

    held.expect(200);
    waited.expect(200);
    assert_eq!(metric(&app, "cutover_large_bodies_waited_total").await, 1);
    assert_eq!(metric(&app, "cutover_large_bodies_waiting").await, 0);
    for (id, turn) in [(&first, 1), (&second, 2)] {
        let stored = app.get(id).await.expect(200);
        let prompt = |body: &Value| body["stages"][0]["steps"][0]["config"]["prompt"].clone();
        assert!(
            prompt(&stored.body) == prompt(&large_patch(turn)),
            "augmentation {id} does not hold its write"
        );
    }
}

/// Large bodies held (in the lane and waiting for it) past the request deadline answer
/// 503 and give the lane back: afterwards a small and a large write both go through.
async fn large_bodies_past_their_deadline_answer_503_and_free_the_lane(backend: Backend) {
    let (app, [first, second], mut database) = one_place_behind_a_lock(backend, |config| {
        config.connections = ConnectionLimits {
            request_timeout: Duration::from_secs(2),
            ..config.connections
        };
    })
    .await;

    let (held, waited) = tokio::join!(app.patch(&first, large_patch(1)), async {
        until_metric(&app, "cutover_large_bodies_total", 1).await;
        app.patch(&second, large_patch(2)).await
    });
    database.unlock().await;

    assert_eq!(held.status, 503, "{}", held.body);
    assert_eq!(waited.status, 503, "{}", waited.body);
    assert_eq!(waited.body["error"], "SERVICE_UNAVAILABLE");
    assert_eq!(metric(&app, "cutover_large_bodies_waiting").await, 0);
    app.patch(&second, json!({"description": "small"}))
        .await
        .expect(200);
    app.patch(&second, large_patch(3)).await.expect(200);
}

on_every_backend!(
    a_large_body_beyond_the_lane_waits_for_a_place,
    large_bodies_past_their_deadline_answer_503_and_free_the_lane,
);
