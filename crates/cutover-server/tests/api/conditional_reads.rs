//! The release reads a gateway polls: `ETag` and `If-None-Match` (304 with no body),
//! and answers that follow every write at once, however they are served (SQLite keeps
//! rendered releases in memory; PostgreSQL reads through).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::harness::{ADMIN_TOKEN, AppPath, Backend, Reply, TestApp};
use cutover_server::{Application, ServeConfig, StartError};
use cutover_store::one_line_chain;
use serde_json::json;

/// A GET as the admin, with `If-None-Match: tag` when given.
pub(crate) async fn get_if_none_match(app: &TestApp, path: &str, tag: Option<&str>) -> Reply {
    let mut request = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(&app.admin);
    if let Some(tag) = tag {
        request = request.header("if-none-match", tag);
    }
    let response = request.send().await.expect("request is answered");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn active(app: &AppPath) -> String {
    format!("{}/releases/active", app.path())
}

fn etag(reply: &Reply) -> String {
    reply.header("etag").expect("an ETag").to_owned()
}

#[track_caller]
fn assert_not_modified(reply: &Reply, tag: &str) {
    assert_eq!(reply.status, 304, "body: {}", reply.body);
    assert_eq!(reply.body, serde_json::Value::Null, "a 304 has no body");
    assert_eq!(reply.header("etag"), Some(tag));
}

async fn release_reads_answer_304_when_the_etag_is_current(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let release = app.cut_active(&home, "v1").await;

    let live = get_if_none_match(&app, &active(&home), None)
        .await
        .expect(200);
    let tag = etag(&live);
    let hash = live.str("content_hash");
    let shape = regex::Regex::new(r#"^"[0-9a-f]{16}-[0-9a-f]{16}"$"#).unwrap();
    assert!(shape.is_match(&tag), "ETag {tag} has the documented shape");
    assert!(tag.starts_with(&format!("\"{}-", &hash[..16])));
    assert_eq!(live.header("cache-control"), Some("no-cache"));
    assert_eq!(live.header("content-type"), Some("application/json"));
    assert!(live.header("x-request-id").is_some());

    // The detail of the same release says the same, so it carries the same tag.
    let detail = get_if_none_match(&app, &home.release(&release), None)
        .await
        .expect(200);
    assert_eq!(etag(&detail), tag);
    assert_eq!(detail.body, live.body);

    for path in [active(&home), home.release(&release)] {
        for header in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"0000000000000000-0000000000000000\", {tag}"),
            "*".to_owned(),
        ] {
            let reply = get_if_none_match(&app, &path, Some(&header)).await;
            assert_not_modified(&reply, &tag);
            assert!(reply.header("x-request-id").is_some());
        }
        for header in ["\"0000000000000000-0000000000000000\"", "garbage", ""] {
            let reply = get_if_none_match(&app, &path, Some(header))
                .await
                .expect(200);
            assert_eq!(etag(&reply), tag);
            assert_eq!(reply.body, live.body);
        }
    }
}

async fn the_etag_follows_every_change_to_what_a_release_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let first = app.cut_active(&home, "v1").await;
    let second = app.cut(&home, "v2").await;

    let first_live = get_if_none_match(&app, &home.release(&first), None).await;
    let first_live_tag = etag(&first_live.expect(200));
    let active_tag = etag(&get_if_none_match(&app, &active(&home), None).await);

    // Activating v2 changes the active answer and v1's status (to archived).
    app.act(&format!("{}/activate", home.release(&second)))
        .await
        .expect(200);
    let now = get_if_none_match(&app, &active(&home), Some(&active_tag))
        .await
        .expect(200);
    assert_eq!(now.str("release_id"), second);
    assert_ne!(etag(&now), active_tag);
    let first_ready = get_if_none_match(&app, &home.release(&first), Some(&first_live_tag))
        .await
        .expect(200);
    assert_eq!(first_ready.str("status"), "archived");
    let first_archived_tag = etag(&first_ready);
    assert_ne!(first_archived_tag, first_live_tag);
    // The snapshot part of the tag stays: it is the same snapshot.
    assert_eq!(first_archived_tag[..17], first_live_tag[..17]);

    // Rolling back to v1 brings its active answer back, with a tag of its own again.
    app.act(&format!("{}/rollback", home.release(&first)))
        .await
        .expect(200);
    let back = get_if_none_match(&app, &active(&home), Some(&etag(&now)))
        .await
        .expect(200);
    assert_eq!(back.str("release_id"), first);
    assert_eq!(back.str("status"), "active");

    // Archiving a ready release shows at once; deleting it is a 404, whatever the
    // client holds.
    let third = app.cut(&home, "v3").await;
    let third_tag = etag(&get_if_none_match(&app, &home.release(&third), None).await);
    app.act(&format!("{}/archive", home.release(&third)))
        .await
        .expect(200);
    let archived = get_if_none_match(&app, &home.release(&third), Some(&third_tag))
        .await
        .expect(200);
    assert_eq!(archived.str("status"), "archived");
    app.delete(&home.release(&third)).await.expect(200);
    get_if_none_match(&app, &home.release(&third), Some("*"))
        .await
        .expect(404);

    // An app with nothing active is a 404 even for `*`.
    let empty = app.create_app().await;
    let none = get_if_none_match(&app, &active(&empty), Some("*"))
        .await
        .expect(404);
    assert_eq!(none.body["details"]["resource_id"], "active");
    // Its first activation is seen by the very next read.
    let v1 = app.cut_active(&empty, "v1").await;
    let first_active = get_if_none_match(&app, &active(&empty), None)
        .await
        .expect(200);
    assert_eq!(first_active.str("release_id"), v1);

    // A deleted app takes its answers with it.
    let doomed = app.create_app().await;
    let kept = app.cut(&doomed, "v1").await;
    get_if_none_match(&app, &doomed.release(&kept), None)
        .await
        .expect(200);
    get_if_none_match(&app, &active(&doomed), None)
        .await
        .expect(404);
    app.delete(&doomed.path()).await.expect(200);
    let gone = get_if_none_match(&app, &doomed.release(&kept), None)
        .await
        .expect(404);
    assert_eq!(gone.body["details"]["resource_type"], "app");
}

/// The read of a release is byte for byte what encoding the release gives (the body
/// of its create answer, for a release created ready), content and all.
async fn a_release_reads_back_byte_for_byte(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let pipeline = app.add_augmentation(&home, "pipeline \"quoted\" é").await;
    app.add_endpoint(&home, "ask", "/ask", &pipeline).await;
    app.add_endpoint(&home, "tell", "/tell/{id}", &pipeline)
        .await;
    let raw = |request: reqwest::RequestBuilder| async move {
        let response = request.bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        let etag = response.headers().get("etag").cloned();
        (
            response.status().as_u16(),
            etag,
            response.bytes().await.unwrap(),
        )
    };
    for tag in ["v1", "v2"] {
        let (status, created_tag, created) = raw(app
            .client
            .post(format!("{}{}", app.base, home.releases()))
            .json(&json!({"release_tag": tag, "description": "line\nbreak"})))
        .await;
        assert_eq!(status, 201);
        let id = serde_json::from_slice::<serde_json::Value>(&created).unwrap()["release_id"]
            .as_str()
            .unwrap()
            .to_owned();
        for _ in 0..2 {
            let (status, read_tag, read) =
                raw(app.client.get(format!("{}{}", app.base, home.release(&id)))).await;
            assert_eq!(status, 200);
            assert!(created_tag.is_some(), "the 201 carries the ETag");
            assert_eq!(read_tag, created_tag);
            assert_eq!(
                String::from_utf8_lossy(&read),
                String::from_utf8_lossy(&created)
            );
        }
    }
}

/// Readers polling the active release while it is switched one release after
/// another: no reader ever sees it go back, and a read that starts after an
/// activation answered sees that activation (or a later one).
async fn readers_never_see_the_active_release_go_back(backend: Backend) {
    const RELEASES: usize = 12;
    const READERS: usize = 8;
    let app = Arc::new(TestApp::spawn(backend).await);
    let home = app.create_app().await;
    let mut releases = Vec::new();
    for number in 1..=RELEASES {
        releases.push(app.cut(&home, &format!("v{number}")).await);
    }
    app.act(&format!("{}/activate", home.release(&releases[0])))
        .await
        .expect(200);

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (app, path, done) = (app.clone(), active(&home), done.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    // The read after `done` was seen starts after the last activation
                    // was answered, so it must see the last release.
                    let last = done.load(Ordering::Acquire);
                    let reply = get_if_none_match(&app, &path, None).await.expect(200);
                    seen.push(reply.body["release_number"].as_i64().unwrap());
                    if last {
                        return seen;
                    }
                }
            })
        })
        .collect();

    for (index, release) in releases.iter().enumerate().skip(1) {
        app.act(&format!("{}/activate", home.release(release)))
            .await
            .expect(200);
        let after = get_if_none_match(&app, &active(&home), None)
            .await
            .expect(200);
        assert_eq!(
            after.body["release_number"],
            index + 1,
            "a read after the activation answered sees it"
        );
    }
    done.store(true, Ordering::Release);

    for reader in readers {
        let seen = reader.await.expect("reader finishes");
        assert!(!seen.is_empty());
        assert!(
            seen.windows(2).all(|pair| pair[0] <= pair[1]),
            "the active release went back: {seen:?}"
        );
        assert_eq!(*seen.last().unwrap(), RELEASES as i64);
    }
}

/// With room for almost nothing kept, reads of many apps still answer right.
async fn a_tiny_cache_budget_changes_nothing_but_speed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.cache_bytes = 4096).await;
    let mut apps = Vec::new();
    for _ in 0..6 {
        let home = app.create_app().await;
        app.add_augmentation(&home, "pipeline").await;
        let release = app.cut_active(&home, "v1").await;
        apps.push((home, release));
    }
    for _ in 0..3 {
        for (home, release) in &apps {
            let live = get_if_none_match(&app, &active(home), None)
                .await
                .expect(200);
            assert_eq!(&live.str("release_id"), release);
            assert_eq!(live.str("app_id"), home.app_id);
        }
    }
    // Polls answer 304 whether or not the body is still kept, and a switch shows.
    let mut tags = Vec::new();
    for (home, _) in &apps {
        let tag = etag(&get_if_none_match(&app, &active(home), None).await);
        for _ in 0..2 {
            let polled = get_if_none_match(&app, &active(home), Some(&tag)).await;
            assert_not_modified(&polled, &tag);
        }
        tags.push(tag);
    }
    let (home, _) = &apps[0];
    let next = app.cut_active(home, "v2").await;
    let switched = get_if_none_match(&app, &active(home), Some(&tags[0]))
        .await
        .expect(200);
    assert_eq!(switched.str("release_id"), next);
}

/// A second server on a SQLite file another one is serving refuses to start, with
/// one line that says why; the file is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_sqlite_file_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let home = app.create_app().await;
    let release = app.cut(&home, "v1").await;

    let mut config = ServeConfig::new(format!(
        "sqlite://{}",
        app.dir.path().join("cutover.db").display()
    ));
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.bootstrap_token = Some(ADMIN_TOKEN.to_owned());
    let refused = match Application::build(config).await {
        Ok(_) => panic!("a second server started on the same SQLite file"),
        Err(error) => error,
    };
    assert!(
        matches!(
            refused,
            StartError::Sqlite(cutover_store_sqlite::OpenError::InUse { .. })
        ),
        "refused for another reason: {refused:?}"
    );
    let refused = one_line_chain(&refused);
    assert!(
        refused.contains("in use by process") && !refused.contains('\n'),
        "one clear line: {refused}"
    );
    app.get(&home.release(&release)).await.expect(200);
}

on_every_backend!(
    release_reads_answer_304_when_the_etag_is_current,
    a_release_reads_back_byte_for_byte,
    the_etag_follows_every_change_to_what_a_release_says,
    readers_never_see_the_active_release_go_back,
    a_tiny_cache_budget_changes_nothing_but_speed,
);
