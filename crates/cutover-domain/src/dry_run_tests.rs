use super::*;
use crate::{AppId, DeploymentId, EnvironmentId};

const MINUTE: i64 = 60_000_000;

fn state(number: i64, status: ReleaseStatus) -> ReleaseState {
    ReleaseState {
        release_id: ReleaseId::generate(),
        release_tag: ReleaseTag::from_trusted(format!("v{number}")),
        release_number: number,
        status,
    }
}

fn record(release: &ReleaseState, action: DeploymentAction, minute: i64) -> Deployment {
    Deployment {
        deployment_id: DeploymentId::generate(),
        app_id: AppId::generate(),
        environment_id: EnvironmentId::generate(),
        environment_slug: "production".into(),
        environment_name: "Production".into(),
        release_id: release.release_id.clone(),
        release_tag: Some(release.release_tag.clone()),
        release_number: Some(release.release_number),
        action,
        previous_release_id: None,
        reason: None,
        deployed_by: "alice".into(),
        deployed_at: Timestamp::from_micros(minute * MINUTE),
    }
}

fn brief_of(state: &ReleaseState) -> ReleaseBrief {
    ReleaseBrief::of(state, true)
}

fn facts<'a>(
    release: &'a ReleaseBrief,
    replaces: Option<&'a ReleaseBrief>,
    records: &'a [Deployment],
    history: &'a [Deployment],
) -> WarningFacts<'a> {
    WarningFacts {
        release: Some(release),
        replaces,
        records,
        history,
        changes: true,
        same_content_as: None,
        now: Timestamp::from_micros(100 * MINUTE),
    }
}

fn codes(warnings: &[Warning]) -> Vec<&'static str> {
    warnings.iter().map(|warning| warning.code).collect()
}

#[test]
fn a_switch_changes_both_releases_and_names_them() {
    let (old, new) = (
        state(1, ReleaseStatus::Active),
        state(2, ReleaseStatus::Ready),
    );
    let after = [
        ReleaseState {
            status: ReleaseStatus::Active,
            ..new.clone()
        },
        ReleaseState {
            status: ReleaseStatus::Archived,
            ..old.clone()
        },
    ];
    let changes = status_changes(&[old.clone(), new.clone()], &after);
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0].release.release_id.as_ref(),
        Some(&new.release_id)
    );
    assert_eq!(
        (changes[0].from, changes[0].to),
        (Some(ReleaseStatus::Ready), Some(ReleaseStatus::Active))
    );
    assert_eq!(
        (changes[1].from, changes[1].to),
        (Some(ReleaseStatus::Active), Some(ReleaseStatus::Archived))
    );
}

#[test]
fn an_unchanged_release_is_not_listed() {
    let same = state(3, ReleaseStatus::Active);
    assert!(status_changes(std::slice::from_ref(&same), std::slice::from_ref(&same)).is_empty());
}

#[test]
fn a_created_release_has_no_id_and_a_deleted_one_no_status_after() {
    let created = state(4, ReleaseStatus::Ready);
    let changes = status_changes(&[], std::slice::from_ref(&created));
    assert_eq!(changes[0].release.release_id, None);
    assert_eq!(
        (changes[0].from, changes[0].to),
        (None, Some(ReleaseStatus::Ready))
    );
    assert_eq!(
        brief(&[], std::slice::from_ref(&created), &created.release_id)
            .unwrap()
            .release_id,
        None
    );

    let deleted = state(2, ReleaseStatus::Archived);
    let changes = status_changes(std::slice::from_ref(&deleted), &[]);
    assert_eq!(
        changes[0].release.release_id.as_ref(),
        Some(&deleted.release_id)
    );
    assert_eq!(
        (changes[0].from, changes[0].to),
        (Some(ReleaseStatus::Archived), None)
    );
}

#[test]
fn redeploying_a_release_rolled_back_here_says_how_long_it_lasted() {
    let (v1, v2) = (
        state(1, ReleaseStatus::Active),
        state(2, ReleaseStatus::Archived),
    );
    let mut rollback = record(&v1, DeploymentAction::Rollback, 93);
    rollback.reason = Some("errors spiked".into());
    // Newest first: v2 went live at minute 90, the rollback to v1 came at 93.
    let history = [
        rollback,
        record(&v2, DeploymentAction::Deploy, 90),
        record(&v1, DeploymentAction::Deploy, 10),
    ];
    let records = [record(&v2, DeploymentAction::Deploy, 100)];
    let (target, current) = (brief_of(&v2), brief_of(&v1));
    let warnings = warnings(&facts(&target, Some(&current), &records, &history));
    assert_eq!(codes(&warnings), ["rolled_back_before"]);
    assert_eq!(
        warnings[0].message,
        "v2 (#2) was deployed to production for 3 minutes and rolled back 7 minutes ago (\"errors spiked\")"
    );
}

#[test]
fn a_release_replaced_by_a_forward_deploy_was_not_rolled_back() {
    let (v1, v2, v3) = (
        state(1, ReleaseStatus::Archived),
        state(2, ReleaseStatus::Archived),
        state(3, ReleaseStatus::Active),
    );
    let history = [
        record(&v3, DeploymentAction::Deploy, 50),
        record(&v2, DeploymentAction::Deploy, 40),
    ];
    let records = [record(&v2, DeploymentAction::Rollback, 100)];
    let (target, current) = (brief_of(&v2), brief_of(&v3));
    assert!(warnings(&facts(&target, Some(&current), &records, &history)).is_empty());
    // Never here before: nothing to say either.
    let records = [record(&v1, DeploymentAction::Rollback, 100)];
    let target = brief_of(&v1);
    assert!(warnings(&facts(&target, Some(&current), &records, &history)).is_empty());
}

#[test]
fn deploying_an_older_release_forward_is_worth_a_word_and_a_rollback_is_not() {
    let (v1, v2) = (
        state(1, ReleaseStatus::Archived),
        state(2, ReleaseStatus::Active),
    );
    let (target, current) = (brief_of(&v1), brief_of(&v2));
    let deploy = [record(&v1, DeploymentAction::Deploy, 100)];
    assert_eq!(
        codes(&warnings(&facts(&target, Some(&current), &deploy, &[]))),
        ["older_than_current"]
    );
    let rollback = [record(&v1, DeploymentAction::Rollback, 100)];
    assert!(warnings(&facts(&target, Some(&current), &rollback, &[])).is_empty());
}

#[test]
fn no_change_and_same_content_are_said() {
    let v1 = state(1, ReleaseStatus::Active);
    let target = brief_of(&v1);
    let mut unchanged = facts(&target, Some(&target), &[], &[]);
    unchanged.changes = false;
    assert_eq!(codes(&warnings(&unchanged)), ["no_change"]);
    let v2 = state(2, ReleaseStatus::Ready);
    let next = brief_of(&v2);
    let records = [record(&v2, DeploymentAction::Deploy, 100)];
    let mut same = facts(&next, Some(&target), &records, &[]);
    same.same_content_as = Some("v1 (#1)");
    let said = warnings(&same);
    assert_eq!(codes(&said), ["same_content"]);
    assert!(said[0].message.contains("v1 (#1)'s"), "{}", said[0].message);
}

#[test]
fn spans_read_in_their_largest_whole_unit() {
    assert_eq!(span(0), "0 seconds");
    assert_eq!(span(1_000_000), "1 second");
    assert_eq!(span(3 * MINUTE + 5_000_000), "3 minutes");
    assert_eq!(span(60 * MINUTE), "1 hour");
    assert_eq!(span(49 * 60 * MINUTE), "2 days");
    assert_eq!(span(-5), "0 seconds");
}
