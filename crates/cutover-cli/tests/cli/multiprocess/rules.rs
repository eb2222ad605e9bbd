//! The rules one app must keep after the storm, judged from every server's view and
//! the answers its operations got: one active release, unique tags and numbers, every
//! acknowledged create and delete, and an activation history that is a chain and
//! agrees with every activation answer.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::multiprocess::api::{optional_text, text};
use crate::multiprocess::checks::View;
use crate::multiprocess::record::{Kind, Record};

/// The fields of a listed release that every server must agree on.
fn release_key(release: &Value) -> (String, i64, String, String, String, Option<String>) {
    (
        text(release, "release_id"),
        release["release_number"].as_i64().unwrap_or(-1),
        text(release, "release_tag"),
        text(release, "status"),
        text(release, "content_hash"),
        optional_text(&release["activated_at"]),
    )
}

/// The rules for one app, from the three servers' views and the answers its
/// operations got. `complete` says every request got an answer, so the history must
/// hold exactly the acknowledged switches.
pub fn check_app(
    app: usize,
    views: &[View],
    records: &[&Record],
    complete: bool,
    problems: &mut Vec<String>,
) {
    let mut problem = |text: String| problems.push(format!("app {app}: {text}"));

    // Every server shows the same thing.
    let first = &views[0];
    for (server, view) in views.iter().enumerate() {
        if view.active_release_id != view.active_endpoint {
            problem(format!(
                "server {server}: app.active_release_id {:?} but releases/active {:?}",
                view.active_release_id, view.active_endpoint
            ));
        }
        if view.active_release_id != first.active_release_id {
            problem(format!(
                "server {server} says the active release is {:?}, server 0 says {:?}",
                view.active_release_id, first.active_release_id
            ));
        }
        let keys: Vec<_> = view.releases.iter().map(release_key).collect();
        let first_keys: Vec<_> = first.releases.iter().map(release_key).collect();
        if keys != first_keys {
            problem(format!(
                "server {server} lists other releases than server 0"
            ));
        }
        if view.history != first.history {
            problem(format!(
                "server {server} shows another activation history than server 0"
            ));
        }
    }

    // At most one active release, and it is the app's.
    let releases = &first.releases;
    let active: Vec<String> = releases
        .iter()
        .filter(|release| release["status"] == "active")
        .map(|release| text(release, "release_id"))
        .collect();
    if active.len() > 1 {
        problem(format!("{} releases are active: {active:?}", active.len()));
    }
    if active.first() != first.active_release_id.as_ref() {
        problem(format!(
            "the list's active release {active:?} is not the app's {:?}",
            first.active_release_id
        ));
    }

    // Tags and numbers unique, newest first.
    let mut tags = HashSet::new();
    let mut numbers = HashSet::new();
    for release in releases {
        if !tags.insert(text(release, "release_tag")) {
            problem(format!("tag {} listed twice", release["release_tag"]));
        }
        if !numbers.insert(release["release_number"].as_i64().unwrap_or(-1)) {
            problem(format!("number {} listed twice", release["release_number"]));
        }
    }
    let listed: Vec<i64> = releases
        .iter()
        .map(|release| release["release_number"].as_i64().unwrap_or(-1))
        .collect();
    if listed.windows(2).any(|pair| pair[0] <= pair[1]) {
        problem(format!("releases are not newest first: {listed:?}"));
    }

    // Every acknowledged create: its own tag, a number no other create got, and
    // (unless an acknowledged delete removed it) listed with the same number, tag
    // and content hash; every acknowledged delete is gone.
    let by_id: HashMap<String, &Value> = releases
        .iter()
        .map(|release| (text(release, "release_id"), release))
        .collect();
    let deleted: HashSet<&str> = records
        .iter()
        .filter(|record| record.kind == Kind::Delete && record.status() == Some(200))
        .filter_map(|record| record.target.as_deref())
        .collect();
    for id in &deleted {
        if by_id.contains_key(*id) {
            problem(format!(
                "deleted release {id} (delete answered 200) is still listed"
            ));
        }
    }
    let mut created_numbers = BTreeMap::new();
    let mut created_tags = HashSet::new();
    for record in records {
        let Some(answer) = record.answer() else {
            continue;
        };
        if !matches!(record.kind, Kind::Create | Kind::CreateActivate) || answer.status != 201 {
            continue;
        }
        let body = &answer.body;
        let id = text(body, "release_id");
        let number = body["release_number"].as_i64().unwrap_or(-1);
        if body["release_tag"].as_str() != record.tag.as_deref() {
            problem(format!(
                "{}: answered tag {}",
                record.describe(),
                body["release_tag"]
            ));
        }
        if !created_tags.insert(text(body, "release_tag")) {
            problem(format!("{}: tag acknowledged twice", record.describe()));
        }
        if let Some(other) = created_numbers.insert(number, id.clone()) {
            problem(format!(
                "{}: number {number} was also given to {other}",
                record.describe()
            ));
        }
        if record.kind == Kind::CreateActivate
            && (body["status"] != "active" || body["activated_at"].is_null())
        {
            problem(format!(
                "{}: created with activate:true but answered status {} activated_at {}",
                record.describe(),
                body["status"],
                body["activated_at"]
            ));
        }
        if deleted.contains(id.as_str()) {
            continue;
        }
        match by_id.get(&id) {
            None => problem(format!(
                "{}: acknowledged release {id} is not listed",
                record.describe()
            )),
            Some(listed) => {
                for key in ["release_number", "release_tag", "content_hash"] {
                    if listed[key] != body[key] {
                        problem(format!(
                            "{}: {key} was {} in the 201, is listed as {}",
                            record.describe(),
                            body[key],
                            listed[key]
                        ));
                    }
                }
            }
        }
    }
    // Numbers are 1 + the highest ever: with every create answered, they run 1..=n;
    // and nothing is listed that no create acknowledged.
    if complete {
        let acknowledged: HashSet<&String> = created_numbers.values().collect();
        for id in by_id.keys() {
            if !acknowledged.contains(id) {
                problem(format!(
                    "release {id} is listed but no create acknowledged it"
                ));
            }
        }
        let expected: Vec<i64> =
            (1..=i64::try_from(created_numbers.len()).expect("fits")).collect();
        let got: Vec<i64> = created_numbers.keys().copied().collect();
        if got != expected {
            problem(format!(
                "acknowledged release numbers are not 1..={}: {got:?}",
                expected.len()
            ));
        }
    }

    // The history is a chain that ends at the active release.
    let history = &first.history;
    let mut previous: Option<String> = None;
    let mut last_sequence = i64::MIN;
    for entry in history {
        let sequence = entry["sequence"].as_i64().unwrap_or(i64::MIN);
        if sequence <= last_sequence {
            problem(format!(
                "history sequence {sequence} follows {last_sequence}"
            ));
        }
        last_sequence = sequence;
        let replaced = optional_text(&entry["replaced_release_id"]);
        if replaced != previous {
            problem(format!(
                "history entry {sequence} replaced {replaced:?}, but the entry before it \
                 activated {previous:?}"
            ));
        }
        previous = optional_text(&entry["release_id"]);
    }
    if previous != first.active_release_id {
        problem(format!(
            "the history ends at {previous:?} but the active release is {:?}",
            first.active_release_id
        ));
    }

    // Every acknowledged switch is in the history, once, with the release it said it
    // replaced; with every request answered, nothing else is.
    let mut entries: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (at, entry) in history.iter().enumerate() {
        entries
            .entry((
                text(entry, "release_id"),
                text(entry, "action"),
                text(entry, "at"),
            ))
            .or_default()
            .push(at);
    }
    let mut claimed = vec![false; history.len()];
    let mut switches = 0;
    for record in records {
        let Some(answer) = record.answer() else {
            continue;
        };
        let body = &answer.body;
        let (release, previous_active, action) = if record.changed_switch() {
            (
                &body["release"],
                Some(optional_text(&body["previous_active_release_id"])),
                record.kind.action(),
            )
        } else if record.kind == Kind::CreateActivate && answer.status == 201 {
            (body, None, "activate")
        } else {
            if record.kind.is_switch() && answer.status == 200 {
                // "Already active": nothing changed, and it names itself as previous.
                let id = optional_text(&body["release"]["release_id"]);
                if optional_text(&body["previous_active_release_id"]) != id
                    || id.as_deref() != record.target.as_deref()
                {
                    problem(format!(
                        "{}: an unchanged answer should name the release itself: {body}",
                        record.describe()
                    ));
                }
            }
            continue;
        };
        switches += 1;
        let id = optional_text(&release["release_id"]).unwrap_or_default();
        if record.kind.is_switch() && Some(id.as_str()) != record.target.as_deref() {
            problem(format!("{}: answered release {id}", record.describe()));
        }
        let key = (
            id.clone(),
            action.to_owned(),
            optional_text(&release["activated_at"]).unwrap_or_default(),
        );
        let Some(at) = entries
            .get(&key)
            .and_then(|ats| ats.iter().copied().find(|&at| !claimed[at]))
        else {
            problem(format!(
                "{}: acknowledged {action} of {id} at {} is not in the activation history",
                record.describe(),
                key.2
            ));
            continue;
        };
        claimed[at] = true;
        let replaced = optional_text(&history[at]["replaced_release_id"]);
        if let Some(previous_active) = previous_active
            && previous_active != replaced
        {
            problem(format!(
                "{}: answered previous_active_release_id {previous_active:?}, but its history \
                 entry {} says it replaced {replaced:?}",
                record.describe(),
                history[at]["sequence"]
            ));
        }
    }
    if complete {
        for (at, entry) in history.iter().enumerate() {
            if !claimed[at] {
                problem(format!(
                    "history entry {entry} matches no acknowledged answer"
                ));
            }
        }
        if switches != history.len() {
            problem(format!(
                "{switches} acknowledged switches but {} history entries",
                history.len()
            ));
        }
    }
}
