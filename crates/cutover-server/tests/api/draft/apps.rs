//! Apps, the draft's holder: create, PATCH, names, listing, deletion, and whether the draft has changes.

use super::*;

async fn app_create_answers_the_full_object_with_defaults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let apps = apps_of(&home);

    let bare = app.post(&apps, json!({"name": "bare"})).await;
    let id = assert_created(&app, &bare, &apps, "app_id").await;
    assert!(id.starts_with("app_") && id.len() == 4 + 26, "{id}");
    assert_fields(&bare.body, APP_FIELDS);
    assert_eq!(bare.body["org_id"], home.org_id.as_str());
    assert_eq!(bare.body["workspace_id"], home.workspace_id.as_str());
    assert_eq!(bare.body["name"], "bare");
    assert_eq!(bare.body["description"], Value::Null);
    assert_eq!(bare.body["parameters"], json!({}));
    assert_eq!(bare.body["active_release_id"], Value::Null);
    assert_eq!(bare.body["total_releases"], 0);
    assert_eq!(bare.body["draft_has_changes"], false);
    assert_eq!(bare.body["last_release_at"], Value::Null);
    assert_timestamp(bare.body["created_at"].as_str().unwrap());
    assert_eq!(bare.body["created_at"], bare.body["updated_at"]);
    assert!(
        bare.body["created_by"]
            .as_str()
            .unwrap()
            .starts_with("tok_")
    );

    let parameters =
        json!({"region": "eu", "replicas": 3, "flags": {"beta": true}, "list": [1, "x"]});
    let full = app
        .post(
            &apps,
            json!({"name": "full", "description": "with parameters", "parameters": parameters}),
        )
        .await;
    assert_created(&app, &full, &apps, "app_id").await;
    assert_eq!(full.body["description"], "with parameters");
    assert_eq!(full.body["parameters"], parameters);

    // parameters must be an object.
    let reply = app
        .post(&apps, json!({"name": "bad", "parameters": [1, 2]}))
        .await;
    assert_one_issue(&reply, json!(["body", "parameters"]), "dict_type");
}

async fn app_patch_changes_only_what_it_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let url = home.path();
    let created = app
        .patch(
            &url,
            json!({"description": "first", "parameters": {"a": 1}}),
        )
        .await
        .expect(200)
        .body;
    tick().await;

    let renamed = app.patch(&url, json!({"name": "shop"})).await.expect(200);
    assert_eq!(renamed.body["name"], "shop");
    assert_eq!(renamed.body["description"], "first");
    assert_eq!(renamed.body["parameters"], json!({"a": 1}));
    assert_eq!(renamed.body["created_at"], created["created_at"]);
    assert_eq!(renamed.body["created_by"], created["created_by"]);
    assert!(renamed.body["updated_at"].as_str() > created["updated_at"].as_str());
    assert_eq!(app.get(&url).await.expect(200).body, renamed.body);
    tick().await;

    let described = app
        .patch(&url, json!({"description": "second"}))
        .await
        .expect(200);
    assert_eq!(described.body["description"], "second");
    assert_eq!(described.body["name"], "shop");
    assert!(described.body["updated_at"].as_str() > renamed.body["updated_at"].as_str());

    let parameters = json!({"b": {"c": [true]}});
    let reparametrised = app
        .patch(&url, json!({"parameters": parameters}))
        .await
        .expect(200);
    assert_eq!(
        reparametrised.body["parameters"], parameters,
        "replaced, not merged"
    );
    assert_eq!(reparametrised.body["description"], "second");

    let cleared = app
        .patch(&url, json!({"description": null}))
        .await
        .expect(200);
    assert_eq!(cleared.body["description"], Value::Null);
    assert_eq!(cleared.body["parameters"], parameters);
    assert_eq!(cleared.body["name"], "shop");
    assert_fields(&cleared.body, APP_FIELDS);

    // App names are unique within the workspace, on PATCH too.
    app.create_app_in(&home.org_id, &home.workspace_id, "taken")
        .await;
    let clash = app.patch(&url, json!({"name": "taken"})).await;
    assert_envelope(&clash, 409, "CONFLICT");
    assert_eq!(clash.reason(), "app_name_taken");
    assert_eq!(app.get(&url).await.body["name"], "shop");
}

async fn app_names_are_unique_per_workspace(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let apps = apps_of(&home);
    let clash = app.post(&apps, json!({"name": "app"})).await;
    let details = assert_envelope(&clash, 409, "CONFLICT");
    assert_eq!(details["reason"], "app_name_taken");

    let other_ws = app.create_workspace(&home.org_id, "other").await;
    app.create_app_in(&home.org_id, &other_ws, "app").await;
    let listed = app.get(&apps).await.expect(200);
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["apps"][0]["app_id"], home.app_id.as_str());
}

async fn apps_list_in_their_workspace(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let second = app
        .create_app_in(&home.org_id, &home.workspace_id, "second")
        .await;
    let listed = app.get(&apps_of(&home)).await.expect(200);
    assert_eq!(listed.body["total"], 2);
    assert_eq!(listed.body["has_more"], false);
    assert_eq!(listed.body["next_cursor"], Value::Null);
    let items = listed.body["apps"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["app_id"], home.app_id.as_str());
    assert_eq!(items[1]["app_id"], second.app_id.as_str());
    for item in items {
        assert_fields(item, APP_FIELDS);
        let id = item["app_id"].as_str().unwrap();
        let path = AppPath {
            app_id: id.to_owned(),
            ..home.clone()
        };
        assert_eq!(&app.get(&path.path()).await.expect(200).body, item);
    }
}

async fn deleting_an_app_removes_its_draft_and_releases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;
    let ep = app.add_endpoint(&home, "chat", "/chat", &aug).await;
    let release = app.cut(&home, "v1").await;
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    let their_aug = app.add_augmentation(&neighbour, "rag").await;

    let deleted = app.delete(&home.path()).await.expect(200);
    assert_eq!(deleted.body, json!({}));

    let missing = app.get(&home.path()).await;
    let details = assert_envelope(&missing, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "app");
    assert_eq!(details["resource_id"], home.app_id.as_str());
    for path in [
        endpoint(&home, &ep),
        augmentation(&home, &aug),
        home.release(&release),
        endpoints(&home),
        augmentations(&home),
        home.releases(),
        format!("{}/releases/active", home.path()),
    ] {
        let reply = app.get(&path).await;
        assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    }
    app.delete(&home.path()).await.expect(404);
    app.patch(&home.path(), json!({"name": "x"}))
        .await
        .expect(404);
    app.post(&augmentations(&home), json!({"name": "x"}))
        .await
        .expect(404);

    // The neighbour is untouched and the name is free again.
    app.get(&augmentation(&neighbour, &their_aug))
        .await
        .expect(200);
    let listed = app.get(&apps_of(&home)).await.expect(200);
    assert_eq!(listed.body["total"], 1);
    let again = app
        .create_app_in(&home.org_id, &home.workspace_id, "app")
        .await;
    assert_ne!(again.app_id, home.app_id);
    assert_eq!(app.get(&endpoints(&again)).await.body["total"], 0);
    assert_eq!(app.get(&again.releases()).await.body["total"], 0);
}

async fn an_app_with_an_active_release_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let release = app.cut(&home, "v1").await;
    app.act(&format!("{}/activate", home.release(&release)))
        .await
        .expect(200);
    let refused = app.delete(&home.path()).await;
    let details = assert_envelope(&refused, 409, "CONFLICT");
    assert_eq!(details["reason"], "app_has_active_release");
    app.get(&home.path()).await.expect(200);
    app.get(&home.release(&release)).await.expect(200);
}

async fn draft_changes_mark_the_app_as_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let changed = |reply: Reply| reply.expect(200).body["draft_has_changes"].clone();
    assert_eq!(changed(app.get(&home.path()).await), false);
    let aug = app.add_augmentation(&home, "rag").await;
    assert_eq!(changed(app.get(&home.path()).await), true);
    app.cut(&home, "v1").await;
    assert_eq!(changed(app.get(&home.path()).await), false);
    let ep = app.add_endpoint(&home, "chat", "/chat", &aug).await;
    assert_eq!(changed(app.get(&home.path()).await), true);
    app.delete(&endpoint(&home, &ep)).await.expect(200);
    assert_eq!(
        changed(app.get(&home.path()).await),
        false,
        "back to what v1 holds"
    );
    app.patch(&augmentation(&home, &aug), json!({"tags": ["new"]}))
        .await
        .expect(200);
    assert_eq!(changed(app.get(&home.path()).await), true);
}

on_every_backend!(
    app_create_answers_the_full_object_with_defaults,
    app_patch_changes_only_what_it_names,
    app_names_are_unique_per_workspace,
    apps_list_in_their_workspace,
    deleting_an_app_removes_its_draft_and_releases,
    an_app_with_an_active_release_cannot_be_deleted,
    draft_changes_mark_the_app_as_changed,
);
