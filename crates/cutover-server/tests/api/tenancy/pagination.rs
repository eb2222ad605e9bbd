//! Pagination of every list: each item once, in id order, across pages; signed
//! cursors refused when made up; pages stable while the list changes.

use super::*;

/// Walks `list` with `limit=3`, checking the envelope on every page, and answers
/// the items in the order served and the first page's cursor.
async fn walk(
    app: &TestApp,
    list: &str,
    plural: &str,
    expected_total: usize,
) -> (Vec<Value>, String) {
    let separator = if list.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut first_cursor = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(cursor) => format!("{list}{separator}limit=3&cursor={cursor}"),
            None => format!("{list}{separator}limit=3"),
        };
        let page = app.get(&url).await.expect(200);
        pages += 1;
        let body = page.body.as_object().expect("a list is an object");
        let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = vec!["total", "has_more", "next_cursor", plural];
        want.sort_unstable();
        assert_eq!(keys, want, "{list}: {}", page.body);
        assert_eq!(
            body["total"], expected_total,
            "{list}: total on page {pages}"
        );
        let served = body[plural].as_array().expect("items are a list");
        items.extend(served.iter().cloned());
        let remaining = expected_total - items.len().min(expected_total);
        if remaining > 0 {
            assert_eq!(served.len(), 3, "{list}: a full page");
            assert_eq!(body["has_more"], true, "{list}: page {pages}");
            let next = body["next_cursor"]
                .as_str()
                .expect("next_cursor while there is more")
                .to_owned();
            assert!(!next.is_empty());
            first_cursor.get_or_insert_with(|| next.clone());
            cursor = Some(next);
        } else {
            assert_eq!(body["has_more"], false, "{list}: last page");
            assert_eq!(body["next_cursor"], Value::Null, "{list}: last page");
            break;
        }
        assert!(pages < 10, "{list}: pagination does not end");
    }
    assert_eq!(pages, expected_total.div_ceil(3).max(1), "{list}");
    assert_eq!(items.len(), expected_total, "{list}");

    // The whole list in one page agrees with the walk.
    let whole = app
        .get(&format!("{list}{separator}limit=200"))
        .await
        .expect(200);
    assert_eq!(whole.body[plural], Value::Array(items.clone()), "{list}");
    assert_eq!(whole.body["has_more"], false);
    assert_eq!(whole.body["next_cursor"], Value::Null);
    // A page exactly as long as the list has no next page.
    let exact = app
        .get(&format!("{list}{separator}limit={expected_total}"))
        .await
        .expect(200);
    assert_eq!(exact.body["has_more"], false, "{list}");
    assert_eq!(exact.body["next_cursor"], Value::Null, "{list}");

    (items, first_cursor.expect("more than one page"))
}

/// Asserts that `items`, by `key`, are exactly `expected` (each once) in id order.
#[track_caller]
fn assert_each_once_in_id_order(items: &[Value], key: &str, expected: &[String]) {
    let ids: Vec<String> = items
        .iter()
        .map(|item| item[key].as_str().expect("an id").to_owned())
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no item twice: {ids:?}");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "items in id order");
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(ids, want, "every item exactly once");
    assert_eq!(ids, expected, "id order is creation order");
}

#[track_caller]
fn assert_bad_cursor(reply: &crate::harness::Reply, cursor: &str) {
    let issues = assert_issues(reply);
    assert_eq!(issues.len(), 1, "{}", reply.body);
    assert_eq!(issues[0]["loc"], json!(["query", "cursor"]));
    assert_eq!(issues[0]["input"], cursor);
}

async fn orgs_paginate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for index in 0..7 {
        ids.push(app.create_org(&format!("org {index}")).await);
    }
    let (items, cursor) = walk(&app, "/v1/orgs", "orgs", 7).await;
    assert_each_once_in_id_order(&items, "org_id", &ids);
    for item in &items {
        assert_fields(item, ORG_FIELDS);
    }
    let elsewhere = app
        .get(&format!("{}?cursor={cursor}", workspaces(&ids[0])))
        .await;
    assert_bad_cursor(&elsewhere, &cursor);
}

async fn workspaces_paginate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("Acme").await;
    let other = app.create_org("Globex").await;
    let mut ids = Vec::new();
    for index in 0..7 {
        ids.push(app.create_workspace(&org, &format!("ws {index}")).await);
        // Another org's workspaces never show up.
        app.create_workspace(&other, &format!("ws {index}")).await;
    }
    let (items, cursor) = walk(&app, &workspaces(&org), "workspaces", 7).await;
    assert_each_once_in_id_order(&items, "workspace_id", &ids);
    for item in &items {
        assert_fields(item, WORKSPACE_FIELDS);
        assert_eq!(item["org_id"], org.as_str());
    }
    // The cursor belongs to this org's list only.
    let other_org = app
        .get(&format!("{}?cursor={cursor}", workspaces(&other)))
        .await;
    assert_bad_cursor(&other_org, &cursor);
    let orgs = app.get(&format!("/v1/orgs?cursor={cursor}")).await;
    assert_bad_cursor(&orgs, &cursor);
    let apps_list = app
        .get(&format!("{}?cursor={cursor}", apps(&org, &ids[0])))
        .await;
    assert_bad_cursor(&apps_list, &cursor);
}

async fn apps_paginate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("Acme").await;
    let ws = app.create_workspace(&org, "main").await;
    let other_ws = app.create_workspace(&org, "other").await;
    let mut ids = Vec::new();
    for index in 0..7 {
        ids.push(
            app.create_app_in(&org, &ws, &format!("app {index}"))
                .await
                .app_id,
        );
        app.create_app_in(&org, &other_ws, &format!("app {index}"))
            .await;
    }
    let (items, cursor) = walk(&app, &apps(&org, &ws), "apps", 7).await;
    assert_each_once_in_id_order(&items, "app_id", &ids);
    for item in &items {
        assert_eq!(item["workspace_id"], ws.as_str());
    }
    let other = app
        .get(&format!("{}?cursor={cursor}", apps(&org, &other_ws)))
        .await;
    assert_bad_cursor(&other, &cursor);
    let workspaces_list = app
        .get(&format!("{}?cursor={cursor}", workspaces(&org)))
        .await;
    assert_bad_cursor(&workspaces_list, &cursor);
}

async fn endpoints_and_augmentations_paginate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    let mut augmentations = Vec::new();
    for index in 0..7 {
        augmentations.push(app.add_augmentation(&home, &format!("aug {index}")).await);
    }
    let theirs = app.add_augmentation(&neighbour, "theirs").await;
    let mut endpoints = Vec::new();
    for index in 0..7 {
        endpoints.push(
            app.add_endpoint(
                &home,
                &format!("ep {index}"),
                &format!("/e/{index}"),
                &augmentations[index % 2],
            )
            .await,
        );
        app.add_endpoint(
            &neighbour,
            &format!("ep {index}"),
            &format!("/e/{index}"),
            &theirs,
        )
        .await;
    }

    let endpoint_list = format!("{}/endpoints", home.path());
    let (items, endpoint_cursor) = walk(&app, &endpoint_list, "endpoints", 7).await;
    assert_each_once_in_id_order(&items, "endpoint_id", &endpoints);

    let augmentation_list = format!("{}/augmentations", home.path());
    let (items, augmentation_cursor) = walk(&app, &augmentation_list, "augmentations", 7).await;
    assert_each_once_in_id_order(&items, "augmentation_id", &augmentations);

    // Each cursor belongs to its own list of its own app.
    let swapped = app
        .get(&format!("{endpoint_list}?cursor={augmentation_cursor}"))
        .await;
    assert_bad_cursor(&swapped, &augmentation_cursor);
    let swapped = app
        .get(&format!("{augmentation_list}?cursor={endpoint_cursor}"))
        .await;
    assert_bad_cursor(&swapped, &endpoint_cursor);
    let neighbours = app
        .get(&format!(
            "{}/endpoints?cursor={endpoint_cursor}",
            neighbour.path()
        ))
        .await;
    assert_bad_cursor(&neighbours, &endpoint_cursor);
    let releases = app
        .get(&format!("{}?cursor={endpoint_cursor}", home.releases()))
        .await;
    assert_bad_cursor(&releases, &endpoint_cursor);
    // A cursor that was tampered with.
    let mut tampered = endpoint_cursor.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let reply = app.get(&format!("{endpoint_list}?cursor={tampered}")).await;
    assert_bad_cursor(&reply, &tampered);
}

async fn tokens_paginate_and_revoked_ones_leave_the_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("Acme").await;
    let other = app.create_org("Globex").await;
    let tokens = format!("/v1/orgs/{org}/tokens");
    let mut ids = Vec::new();
    for index in 0..8 {
        let reply = app
            .post(
                &tokens,
                json!({"name": format!("t{index}"), "role": "viewer"}),
            )
            .await
            .expect(201);
        ids.push(reply.str("token_id"));
        app.mint(
            &other,
            json!({"name": format!("t{index}"), "role": "viewer"}),
        )
        .await;
    }
    let revoked = ids.remove(3);
    app.delete(&format!("{tokens}/{revoked}")).await.expect(200);

    let (items, cursor) = walk(&app, &tokens, "tokens", 7).await;
    assert_each_once_in_id_order(&items, "token_id", &ids);
    for item in &items {
        assert!(item.get("token").is_none(), "the secret is never listed");
    }
    let other_list = app
        .get(&format!("/v1/orgs/{other}/tokens?cursor={cursor}"))
        .await;
    assert_bad_cursor(&other_list, &cursor);
    let workspaces_list = app
        .get(&format!("{}?cursor={cursor}", workspaces(&org)))
        .await;
    assert_bad_cursor(&workspaces_list, &cursor);
}

async fn activations_paginate_oldest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    let v1 = app.cut(&home, "v1").await;
    let v2 = app.cut(&home, "v2").await;
    let theirs = app.cut(&neighbour, "v1").await;
    let mut expected = Vec::new();
    for index in 0..7 {
        let target = if index % 2 == 0 { &v1 } else { &v2 };
        app.act(&format!("{}/activate", home.release(target)))
            .await
            .expect(200);
        expected.push(target.clone());
        // Interleaved history of another app never shows up.
        app.act(&format!("{}/activate", neighbour.release(&theirs)))
            .await
            .expect(200);
    }
    let list = format!("{}/activations", home.path());
    let (items, cursor) = walk(&app, &list, "activations", 7).await;
    let served: Vec<String> = items
        .iter()
        .map(|item| item["release_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(served, expected);
    let sequences: Vec<i64> = items
        .iter()
        .map(|item| item["sequence"].as_i64().unwrap())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    assert_eq!(items[0]["replaced_release_id"], Value::Null);
    for pair in items.windows(2) {
        assert_eq!(pair[1]["replaced_release_id"], pair[0]["release_id"]);
        assert_eq!(pair[1]["action"], "activate");
    }

    let neighbours = app
        .get(&format!("{}/activations?cursor={cursor}", neighbour.path()))
        .await;
    assert_bad_cursor(&neighbours, &cursor);
    let releases = app
        .get(&format!("{}?cursor={cursor}", home.releases()))
        .await;
    assert_bad_cursor(&releases, &cursor);
}

async fn empty_lists_and_made_up_cursors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    for (list, plural) in [
        (format!("{}/endpoints", home.path()), "endpoints"),
        (format!("{}/augmentations", home.path()), "augmentations"),
        (format!("{}/activations", home.path()), "activations"),
        (format!("/v1/orgs/{}/tokens", home.org_id), "tokens"),
    ] {
        let reply = app.get(&list).await.expect(200);
        assert_eq!(
            reply.body,
            json!({"total": 0, "has_more": false, "next_cursor": null, plural: []}),
            "{list}"
        );
        for made_up in [
            "abc",
            "eyJhZnRlciI6ImFwcF8wIn0",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            let reply = app.get(&format!("{list}?cursor={made_up}")).await;
            assert_bad_cursor(&reply, made_up);
        }
        let reply = app.get(&format!("{list}?limit=0")).await;
        assert_one_issue(&reply, json!(["query", "limit"]), "greater_than_equal");
        let reply = app.get(&format!("{list}?limit=201")).await;
        assert_one_issue(&reply, json!(["query", "limit"]), "less_than_equal");
    }
}

async fn pages_stay_stable_when_the_list_changes_between_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let list = format!("{}/augmentations", home.path());
    let mut ids = Vec::new();
    for index in 0..7 {
        ids.push(app.add_augmentation(&home, &format!("aug {index}")).await);
    }
    let first = app.get(&format!("{list}?limit=3")).await.expect(200);
    let cursor = first.str("next_cursor");
    let served: Vec<&str> = first.body["augmentations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["augmentation_id"].as_str().unwrap())
        .collect();
    assert_eq!(served, ids[..3]);

    // An item already served goes, one not yet served goes, a new one comes.
    app.delete(&format!("{list}/{}", ids[1])).await.expect(200);
    app.delete(&format!("{list}/{}", ids[4])).await.expect(200);
    let late = app.add_augmentation(&home, "late").await;

    // The cursor still works, with another limit too, and continues after the
    // last item served: nothing twice, nothing skipped.
    let rest = app
        .get(&format!("{list}?limit=50&cursor={cursor}"))
        .await
        .expect(200);
    let served: Vec<&str> = rest.body["augmentations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["augmentation_id"].as_str().unwrap())
        .collect();
    assert_eq!(served, [&ids[3], &ids[5], &ids[6], &late]);
    assert_eq!(rest.body["total"], 6);
    assert_eq!(rest.body["has_more"], false);
    assert_eq!(rest.body["next_cursor"], Value::Null);
}

on_every_backend!(
    orgs_paginate,
    workspaces_paginate,
    apps_paginate,
    endpoints_and_augmentations_paginate,
    tokens_paginate_and_revoked_ones_leave_the_list,
    activations_paginate_oldest_first,
    empty_lists_and_made_up_cursors,
    pages_stay_stable_when_the_list_changes_between_requests,
);
