use super::*;
use crate::model::ReleaseStatus;
use crate::values::ReleaseTag;
use crate::{AppId, OrgId, Timestamp, WorkspaceId};

fn release() -> ReleaseSummary {
    ReleaseSummary {
        release_id: ReleaseId::generate(),
        app_id: AppId::generate(),
        workspace_id: WorkspaceId::generate(),
        org_id: OrgId::generate(),
        release_tag: ReleaseTag::from_trusted("v1".into()),
        release_number: 1,
        status: ReleaseStatus::Active,
        description: None,
        endpoint_count: 0,
        augmentation_count: 0,
        content_hash: "ab".repeat(32),
        activated_at: Some(Timestamp::from_micros(7)),
        activated_by: Some("alice".into()),
        created_at: Timestamp::from_micros(1),
        created_by: "alice".into(),
    }
}

fn if_match(value: &str) -> Result<Option<IfMatch>, &'static str> {
    IfMatch::parse([value])
}

#[test]
fn a_release_tag_names_the_snapshot_and_changes_with_every_mutable_field() {
    let ready = release();
    let tag = EntityTag::of_release(&ready);
    assert!(
        tag.as_str()
            .starts_with(&format!("\"{}-", &ready.content_hash[..16]))
    );
    assert_eq!(tag.as_str().len(), 1 + 16 + 1 + 16 + 1);
    assert_eq!(tag, EntityTag::of_release(&ready.clone()));
    let mut archived = ready.clone();
    archived.status = ReleaseStatus::Archived;
    let mut later = ready.clone();
    later.activated_at = Some(Timestamp::from_micros(8));
    let mut by_someone = ready.clone();
    by_someone.activated_by = Some("bob".into());
    let mut other = ready.clone();
    other.release_id = ReleaseId::generate();
    let tags = [&ready, &archived, &later, &by_someone, &other].map(EntityTag::of_release);
    for (index, one) in tags.iter().enumerate() {
        for another in &tags[index + 1..] {
            assert_ne!(one, another);
        }
    }
}

#[test]
fn a_representation_tag_changes_with_any_byte() {
    let one = EntityTag::of_representation(br#"{"name":"a"}"#);
    assert_eq!(one.as_str().len(), 34);
    assert_eq!(one, EntityTag::of_representation(br#"{"name":"a"}"#));
    assert_ne!(one, EntityTag::of_representation(br#"{"name":"b"}"#));
}

#[test]
fn if_match_is_a_star_or_a_list_of_quoted_tags() {
    assert_eq!(if_match("*"), Ok(Some(IfMatch::Any)));
    assert_eq!(
        if_match(" \"a\" , W/\"b\""),
        Ok(Some(IfMatch::Tags(vec!["\"a\"".into(), "W/\"b\"".into()])))
    );
    assert_eq!(
        IfMatch::parse(["\"a\"", "\"b\""]),
        Ok(Some(IfMatch::Tags(vec!["\"a\"".into(), "\"b\"".into()])))
    );
    assert_eq!(IfMatch::parse(std::iter::empty()), Ok(None));
    for bad in [
        "",
        "a",
        "\"a",
        "\"a\"b\"",
        "*, \"a\"",
        "W/",
        "\"\u{7f}\"",
        ",",
    ] {
        assert_eq!(if_match(bad), Err(IF_MATCH_SHAPE), "{bad:?}");
    }
    let many = vec!["\"x\""; MAX_IF_MATCH_TAGS + 1].join(",");
    assert_eq!(if_match(&many), Err(IF_MATCH_SHAPE));
}

#[test]
fn if_match_compares_strongly_and_fails_when_there_is_nothing() {
    let current = EntityTag::of_representation(b"{}");
    let exact = IfMatch::Tags(vec![current.as_str().to_owned()]);
    let weak = IfMatch::Tags(vec![format!("W/{}", current.as_str())]);
    assert!(exact.admits(Some(&current)));
    assert!(!weak.admits(Some(&current)));
    assert!(IfMatch::Any.admits(Some(&current)));
    assert!(!IfMatch::Any.admits(None));
    assert!(!exact.admits(None));
}

#[test]
fn a_deploy_precondition_holds_only_while_the_environment_has_what_it_expects() {
    let live = release();
    let tag = EntityTag::of_release(&live).as_str().to_owned();
    let failed = |current: Option<&ReleaseSummary>| {
        Err(PreconditionFailed::Deployment {
            current_release_id: current.map(|release| release.release_id.clone()),
        })
    };
    assert_eq!(Precondition::none().check(None), Ok(()));
    assert!(Precondition::none().is_none());

    let expect_live = Precondition {
        release: Some(Some(live.release_id.clone())),
        if_match: None,
    };
    assert_eq!(expect_live.check(Some(&live)), Ok(()));
    let other = release();
    assert_eq!(expect_live.check(Some(&other)), failed(Some(&other)));
    assert_eq!(expect_live.check(None), failed(None));

    let expect_nothing = Precondition {
        release: Some(None),
        if_match: None,
    };
    assert_eq!(expect_nothing.check(None), Ok(()));
    assert_eq!(expect_nothing.check(Some(&live)), failed(Some(&live)));

    let by_tag = Precondition {
        release: None,
        if_match: Some(IfMatch::Tags(vec![tag.clone()])),
    };
    assert_eq!(by_tag.check(Some(&live)), Ok(()));
    let mut redeployed = live.clone();
    redeployed.activated_at = Some(Timestamp::from_micros(99));
    assert_eq!(by_tag.check(Some(&redeployed)), failed(Some(&redeployed)));
    assert_eq!(by_tag.check(None), failed(None));

    let both_disagree = Precondition {
        release: Some(Some(other.release_id.clone())),
        if_match: Some(IfMatch::Tags(vec![tag])),
    };
    assert_eq!(both_disagree.check(Some(&live)), failed(Some(&live)));
}

#[test]
fn an_entity_precondition_compares_the_current_answer() {
    let entity = serde_json::json!({"name": "checkout"});
    let tag = EntityTag::of_representation(br#"{"name":"checkout"}"#);
    assert_eq!(EntityTag::of_entity(&entity), Some(tag.clone()));
    let matching = IfMatch::Tags(vec![tag.as_str().to_owned()]);
    assert_eq!(check_entity(Some(&matching), "endpoint", &entity), Ok(()));
    assert_eq!(check_entity(None, "endpoint", &entity), Ok(()));
    assert_eq!(
        check_entity(Some(&IfMatch::Any), "endpoint", &entity),
        Ok(())
    );
    let other = serde_json::json!({"name": "pay"});
    let failed = check_entity(Some(&matching), "endpoint", &other);
    assert_eq!(
        failed,
        Err(PreconditionFailed::Entity {
            resource_type: "endpoint"
        })
    );
    assert!(failed.unwrap_err().message().contains("endpoint changed"));
}
