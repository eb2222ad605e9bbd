//! Every release operation: create, list, get active, get, activate, rollback, archive,
//! delete, with each allowed transition and each refusal's reason code.

use crate::harness::{Backend, TestApp};
use serde_json::json;

async fn create_snapshots_the_draft_numbers_and_links_to_the_previous_release(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let aug = app.add_augmentation(&path, "rag").await;
    app.add_endpoint(&path, "chat", "/chat", &aug).await;

    let first = app
        .post(
            &path.releases(),
            json!({"release_tag": "v1.0.0", "description": "first"}),
        )
        .await
        .expect(201);
    let id = first.str("release_id");
    assert_eq!(first.header("location"), Some(path.release(&id).as_str()));
    assert_eq!(first.body["status"], "ready");
    assert_eq!(first.body["release_number"], 1);
    assert_eq!(first.body["endpoint_count"], 1);
    assert_eq!(first.body["augmentation_count"], 1);
    assert_eq!(first.body["previous_release_id"], json!(null));
    assert_eq!(first.body["endpoints"][0]["name"], "chat");
    assert_eq!(first.body["content_hash"].as_str().unwrap().len(), 64);
    assert!(
        first.body["change_log"]
            .as_str()
            .unwrap()
            .contains("+ added endpoint \"chat\"")
    );

    // The snapshot does not follow later draft changes.
    app.add_endpoint(&path, "search", "/search", &aug).await;
    let again = app.get(&path.release(&id)).await.expect(200);
    assert_eq!(again.body["endpoints"].as_array().unwrap().len(), 1);
    assert_eq!(again.body["content_hash"], first.body["content_hash"]);

    let second = app
        .post(&path.releases(), json!({"release_tag": "v1.1.0"}))
        .await
        .expect(201);
    assert_eq!(second.body["release_number"], 2);
    assert_eq!(second.body["previous_release_id"], id.as_str());
    assert_eq!(
        second.body["change_log"],
        "Changes since v1.0.0 (#1):\n+ added endpoint \"search\" (POST /search)"
    );
    let third = app
        .post(&path.releases(), json!({"release_tag": "v1.1.1"}))
        .await
        .expect(201);
    assert_eq!(third.body["change_log"], "No changes since v1.1.0 (#2)");
    assert_eq!(third.body["content_hash"], second.body["content_hash"]);
}

async fn tags_are_unique_per_app_and_numbers_are_never_reused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let v1 = app.cut(&path, "v1").await;
    let clash = app
        .post(&path.releases(), json!({"release_tag": "v1"}))
        .await
        .expect(409);
    assert_eq!(clash.body["error"], "CONFLICT");
    assert_eq!(clash.reason(), "release_tag_exists");
    assert_eq!(clash.body["details"]["existing_release_id"], v1.as_str());

    let other = app.create_app().await;
    app.cut(&other, "v1").await;

    let v2 = app.cut(&path, "v2").await;
    app.delete(&path.release(&v2)).await.expect(200);
    let v3 = app
        .post(&path.releases(), json!({"release_tag": "v3"}))
        .await
        .expect(201);
    assert_eq!(
        v3.body["release_number"], 3,
        "number 2 was used once and stays used"
    );
    assert_eq!(v3.body["previous_release_id"], v1.as_str());
}

async fn activate_moves_the_live_release_and_archives_the_old_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let v1 = app.cut(&path, "v1").await;
    let v2 = app.cut(&path, "v2").await;

    let first = app
        .act(&format!("{}/activate", path.release(&v1)))
        .await
        .expect(200);
    assert_eq!(first.body["release"]["status"], "active");
    assert_eq!(first.body["previous_active_release_id"], json!(null));
    assert!(first.body["release"]["activated_at"].is_string());
    assert!(
        first.body["message"]
            .as_str()
            .unwrap()
            .contains("activated")
    );

    let second = app
        .act(&format!("{}/activate", path.release(&v2)))
        .await
        .expect(200);
    assert_eq!(second.body["previous_active_release_id"], v1.as_str());
    assert_eq!(app.get(&path.release(&v1)).await.body["status"], "archived");

    // Activating the active release changes nothing.
    let same = app
        .act(&format!("{}/activate", path.release(&v2)))
        .await
        .expect(200);
    assert_eq!(
        same.body["release"]["activated_at"],
        second.body["release"]["activated_at"]
    );
    assert!(
        same.body["message"]
            .as_str()
            .unwrap()
            .contains("already active")
    );

    // Archived releases can be activated again.
    app.act(&format!("{}/activate", path.release(&v1)))
        .await
        .expect(200);
    let active = app
        .get(&format!("{}/active", path.releases()))
        .await
        .expect(200);
    assert_eq!(active.body["release_id"], v1.as_str());
    assert!(active.body["endpoints"].is_array());

    let history = app
        .get(&format!("{}/activations", path.path()))
        .await
        .expect(200);
    let actions: Vec<(String, String)> = history.body["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["release_id"].as_str().unwrap().to_owned(),
                a["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            (v1.clone(), "activate".into()),
            (v2.clone(), "activate".into()),
            (v1.clone(), "activate".into())
        ]
    );
}

async fn create_with_activate_goes_live_in_one_step(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let v1 = app.cut(&path, "v1").await;
    app.act(&format!("{}/activate", path.release(&v1)))
        .await
        .expect(200);
    let v2 = app
        .post(
            &path.releases(),
            json!({"release_tag": "v2", "activate": true}),
        )
        .await
        .expect(201);
    assert_eq!(v2.body["status"], "active");
    assert_eq!(app.get(&path.release(&v1)).await.body["status"], "archived");
    let app_body = app.get(&path.path()).await.expect(200);
    assert_eq!(app_body.body["active_release_id"], v2.body["release_id"]);
}

async fn get_active_is_404_when_nothing_is_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    app.cut(&path, "v1").await;
    let none = app
        .get(&format!("{}/active", path.releases()))
        .await
        .expect(404);
    assert_eq!(none.body["error"], "RESOURCE_NOT_FOUND");
    assert_eq!(
        none.body["details"],
        json!({"resource_type": "release", "resource_id": "active"})
    );
}

async fn rollback_goes_back_only_to_older_releases_that_were_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let v1 = app.cut(&path, "v1").await;
    let v2 = app.cut(&path, "v2").await;
    let v3 = app.cut(&path, "v3").await;
    let rollback = |id: &str| format!("{}/rollback", path.release(id));

    let none_active = app.act(&rollback(&v1)).await.expect(409);
    assert_eq!(none_active.reason(), "no_active_release");

    app.act(&format!("{}/activate", path.release(&v1)))
        .await
        .expect(200);
    app.act(&format!("{}/activate", path.release(&v3)))
        .await
        .expect(200);

    assert_eq!(
        app.act(&rollback(&v2)).await.expect(409).reason(),
        "release_never_active"
    );
    assert_eq!(
        app.act(&rollback(&v3)).await.expect(409).reason(),
        "release_not_older_than_active"
    );

    let back = app.act(&rollback(&v1)).await.expect(200);
    assert_eq!(back.body["release"]["release_id"], v1.as_str());
    assert_eq!(back.body["release"]["status"], "active");
    assert_eq!(back.body["previous_active_release_id"], v3.as_str());
    assert!(
        back.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Rolled back")
    );
    assert_eq!(app.get(&path.release(&v3)).await.body["status"], "archived");

    // Rolling "back" to a newer release is refused: that is what activate is for.
    assert_eq!(
        app.act(&rollback(&v3)).await.expect(409).reason(),
        "release_not_older_than_active"
    );

    let history = app
        .get(&format!("{}/activations", path.path()))
        .await
        .expect(200);
    let last = history.body["activations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "rollback");
    assert_eq!(last["replaced_release_id"], v3.as_str());
}

async fn archive_hides_releases_from_the_default_list_and_refuses_the_active_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let v1 = app.cut(&path, "v1").await;
    let v2 = app.cut(&path, "v2").await;
    app.act(&format!("{}/activate", path.release(&v2)))
        .await
        .expect(200);

    let archived = app
        .act(&format!("{}/archive", path.release(&v1)))
        .await
        .expect(200);
    assert_eq!(archived.body["status"], "archived");
    assert!(
        archived.body.get("endpoints").is_none(),
        "archive answers the summary"
    );
    let again = app
        .act(&format!("{}/archive", path.release(&v1)))
        .await
        .expect(200);
    assert_eq!(again.body, archived.body);

    let refused = app
        .act(&format!("{}/archive", path.release(&v2)))
        .await
        .expect(409);
    assert_eq!(refused.reason(), "release_is_deployed");

    let list = app.get(&path.releases()).await.expect(200);
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["active_release_id"], v2.as_str());
    let all = app
        .get(&format!("{}?include_archived=true", path.releases()))
        .await
        .expect(200);
    assert_eq!(all.body["total"], 2);
    let numbers: Vec<i64> = all.body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["release_number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1], "newest first");
}

async fn delete_removes_inactive_releases_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let v1 = app.cut(&path, "v1").await;
    let v2 = app.cut(&path, "v2").await;
    app.act(&format!("{}/activate", path.release(&v2)))
        .await
        .expect(200);

    assert_eq!(
        app.delete(&path.release(&v2)).await.expect(409).reason(),
        "release_is_deployed"
    );
    let gone = app.delete(&path.release(&v1)).await.expect(200);
    assert_eq!(gone.body, json!({}));
    let missing = app.get(&path.release(&v1)).await.expect(404);
    assert_eq!(missing.body["details"]["resource_type"], "release");
    app.delete(&path.release(&v1)).await.expect(404);
}

async fn list_pages_with_opaque_cursors_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    for n in 1..=7 {
        app.cut(&path, &format!("v{n}")).await;
    }
    let mut seen = Vec::new();
    let mut url = format!("{}?limit=3", path.releases());
    loop {
        let page = app.get(&url).await.expect(200);
        assert_eq!(page.body["total"], 7);
        for release in page.body["releases"].as_array().unwrap() {
            seen.push(release["release_number"].as_i64().unwrap());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(page.body["has_more"], true);
                url = format!("{}?limit=3&cursor={cursor}", path.releases());
            }
            None => {
                assert_eq!(page.body["has_more"], false);
                break;
            }
        }
    }
    assert_eq!(seen, [7, 6, 5, 4, 3, 2, 1]);

    // A cursor belongs to its list: another app's list refuses it.
    let first = app.get(&format!("{}?limit=1", path.releases())).await;
    let cursor = first.str("next_cursor");
    let other = app.create_app().await;
    let refused = app
        .get(&format!("{}?cursor={cursor}", other.releases()))
        .await
        .expect(422);
    assert_eq!(refused.body["detail"][0]["loc"], json!(["query", "cursor"]));
}

async fn releases_under_the_wrong_parent_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.create_app().await;
    let b = app
        .create_app_in(&a.org_id, &a.workspace_id, "second")
        .await;
    let release = app.cut(&a, "v1").await;
    app.get(&b.release(&release)).await.expect(404);
    app.act(&format!("{}/activate", b.release(&release)))
        .await
        .expect(404);
    app.delete(&b.release(&release)).await.expect(404);
    app.get(&a.release(&release)).await.expect(200);
}

async fn the_app_reports_releases_and_whether_its_draft_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let fresh = app.get(&path.path()).await.expect(200);
    assert_eq!(fresh.body["draft_has_changes"], false);
    assert_eq!(fresh.body["total_releases"], 0);

    let aug = app.add_augmentation(&path, "rag").await;
    assert_eq!(app.get(&path.path()).await.body["draft_has_changes"], true);
    app.cut(&path, "v1").await;
    let after = app.get(&path.path()).await;
    assert_eq!(after.body["draft_has_changes"], false);
    assert_eq!(after.body["total_releases"], 1);
    assert!(after.body["last_release_at"].is_string());

    let aug_path = format!("{}/augmentations/{aug}", path.path());
    app.patch(&aug_path, json!({"description": "changed"}))
        .await
        .expect(200);
    assert_eq!(app.get(&path.path()).await.body["draft_has_changes"], true);
    app.patch(&aug_path, json!({"description": null}))
        .await
        .expect(200);
    assert_eq!(
        app.get(&path.path()).await.body["draft_has_changes"],
        false,
        "changing back makes the draft equal to the release again"
    );
}

async fn apps_with_an_active_release_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let v1 = app.cut(&path, "v1").await;
    app.act(&format!("{}/activate", path.release(&v1)))
        .await
        .expect(200);
    assert_eq!(
        app.delete(&path.path()).await.expect(409).reason(),
        "app_has_active_release"
    );

    let idle = app.create_app().await;
    app.cut(&idle, "v1").await;
    app.delete(&idle.path()).await.expect(200);
    app.get(&idle.path()).await.expect(404);
}

on_every_backend!(
    create_snapshots_the_draft_numbers_and_links_to_the_previous_release,
    tags_are_unique_per_app_and_numbers_are_never_reused,
    activate_moves_the_live_release_and_archives_the_old_one,
    create_with_activate_goes_live_in_one_step,
    get_active_is_404_when_nothing_is_live,
    rollback_goes_back_only_to_older_releases_that_were_live,
    archive_hides_releases_from_the_default_list_and_refuses_the_active_one,
    delete_removes_inactive_releases_only,
    list_pages_with_opaque_cursors_newest_first,
    releases_under_the_wrong_parent_are_not_found,
    the_app_reports_releases_and_whether_its_draft_changed,
    apps_with_an_active_release_cannot_be_deleted,
);
