//! The diff API: how a release differs from another snapshot, and what the next
//! release would change (the draft against one). The comparison is the domain's
//! (`cutover_domain::diff`); this module finds the two snapshots `against` names.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use cutover_domain::ReleaseId;
use cutover_domain::diff::{self, Content, ContentDiff, DiffCounts, KindDiff};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::{Augmentation, Endpoint, ReleaseDetail, ReleaseSummary};
use cutover_domain::permission::Operation;
use cutover_store::{
    AppScope, Page, PageRequest, ReleaseDocument, ReleaseQuery, StoreResult, StoredContent,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::cache::RenderedRelease;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::http::path::{AppPath, ReleasePath};
use crate::http::validation::Issue;
use crate::openapi::params::AgainstQuery;
use crate::openapi::responses::{Errors, NotFound};
use crate::state::AppState;

/// The most releases a tag is looked for among, newest first, a page at a time.
const TAG_SEARCH_PAGE: u32 = 100;
/// Draft entities are read a page at a time.
const DRAFT_PAGE: u32 = 100;

/// One side of a diff, as the answer names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiffSide {
    /// `release`, `draft`, or `nothing` (a release compared with no previous one).
    #[schema(pattern = "^(release|draft|nothing)$")]
    pub kind: &'static str,
    #[schema(required = true, value_type = Option<String>)]
    pub release_id: Option<ReleaseId>,
    #[schema(required = true, value_type = Option<String>)]
    pub release_tag: Option<String>,
    #[schema(required = true)]
    pub release_number: Option<i64>,
    #[schema(required = true)]
    pub content_hash: Option<String>,
}

/// The answer of both diff operations.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiffAnswer {
    pub from: DiffSide,
    pub to: DiffSide,
    /// Whether nothing differs.
    pub identical: bool,
    pub endpoints: KindDiff<Endpoint>,
    pub augmentations: KindDiff<Augmentation>,
    pub counts: DiffCounts,
}

/// A snapshot with what names it.
struct Snapshot {
    side: DiffSide,
    endpoints: Vec<Endpoint>,
    augmentations: Vec<Augmentation>,
}

impl Snapshot {
    fn nothing() -> Self {
        Self {
            side: DiffSide {
                kind: "nothing",
                release_id: None,
                release_tag: None,
                release_number: None,
                content_hash: None,
            },
            endpoints: Vec::new(),
            augmentations: Vec::new(),
        }
    }

    fn of_release(detail: ReleaseDetail) -> Self {
        Self {
            side: DiffSide {
                kind: "release",
                release_id: Some(detail.summary.release_id.clone()),
                release_tag: Some(detail.summary.release_tag.as_str().to_owned()),
                release_number: Some(detail.summary.release_number),
                content_hash: Some(detail.summary.content_hash.clone()),
            },
            endpoints: detail.endpoints,
            augmentations: detail.augmentations,
        }
    }

    fn content(&self) -> Content<'_> {
        Content {
            endpoints: &self.endpoints,
            augmentations: &self.augmentations,
        }
    }
}

/// What `against` names: a keyword, a release id, a number or a tag.
enum Against {
    Previous,
    Active,
    Draft,
    Environment(EnvironmentRef),
    Id(ReleaseId),
    Number(i64),
    Tag(String),
}

/// The 422 of an `against` that names nothing, or nothing this can compare.
fn bad_against(text: &str, message: &str) -> ApiError {
    ApiError::Validation(
        Issue::value_error(
            vec!["query".into(), "against".into()],
            message,
            &Value::from(text),
        )
        .into(),
    )
}

fn parse_against(query: &QueryParams) -> ApiResult<(String, Against)> {
    let Some(text) = query.0.get("against") else {
        return Ok(("previous".to_owned(), Against::Previous));
    };
    let against = match text.as_str() {
        "previous" => Against::Previous,
        "active" => Against::Active,
        "draft" => Against::Draft,
        other => match other.strip_prefix("env:") {
            Some(slug) => Against::Environment(
                EnvironmentRef::parse(slug)
                    .map_err(|_| bad_against(text, "env: must be followed by an environment"))?,
            ),
            None if other.starts_with("rel_") => Against::Id(
                ReleaseId::parse(other).map_err(|_| bad_against(text, "is not a release id"))?,
            ),
            None if !other.is_empty() && other.bytes().all(|b| b.is_ascii_digit()) => {
                Against::Number(
                    other
                        .parse()
                        .map_err(|_| bad_against(text, "is not a release number"))?,
                )
            }
            None if !other.is_empty() && other.len() <= 64 => Against::Tag(other.to_owned()),
            None => {
                return Err(bad_against(
                    text,
                    "must be previous, active, draft, env:<environment>, or a release's id, \
                     number or tag",
                ));
            }
        },
    };
    Ok((text.clone(), against))
}

/// The release as a snapshot, decoded from its rendered answer off the async
/// threads (a release may be megabytes).
async fn snapshot_of(rendered: Arc<RenderedRelease>) -> ApiResult<Snapshot> {
    tokio::task::spawn_blocking(move || {
        let mut body = Vec::with_capacity(rendered.body_len());
        for part in [&rendered.head, &rendered.content, &rendered.tail] {
            body.extend_from_slice(part);
        }
        serde_json::from_slice::<ReleaseDetail>(&body)
            .map(Snapshot::of_release)
            .map_err(|err| ApiError::internal(format!("reading back a rendered release: {err}")))
    })
    .await
    .map_err(|err| ApiError::internal(format!("the decoding task failed: {err}")))?
}

async fn release(state: &AppState, scope: &AppScope, id: &ReleaseId) -> ApiResult<Snapshot> {
    snapshot_of(state.store.releases().get(scope, id).await?).await
}

/// The newest release numbered below `below` (any release when `None`), if any.
async fn newest_below(
    state: &AppState,
    scope: &AppScope,
    below: Option<i64>,
) -> ApiResult<Option<ReleaseSummary>> {
    let page = state
        .store
        .releases()
        .list(
            scope,
            ReleaseQuery {
                limit: 1,
                before_number: below,
                include_archived: true,
            },
        )
        .await?;
    Ok(page.releases.into_iter().next())
}

/// Every item of a draft list, read a page at a time.
async fn every_page<T, Read, Reading>(mut read: Read) -> ApiResult<Vec<T>>
where
    Read: FnMut(PageRequest) -> Reading,
    Reading: Future<Output = StoreResult<Page<T>>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = read(PageRequest {
            limit: DRAFT_PAGE,
            after,
        })
        .await?;
        items.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(items),
        }
    }
}

async fn draft(state: &AppState, scope: &AppScope) -> ApiResult<Snapshot> {
    let drafts = state.store.drafts();
    let endpoints = every_page(|page| drafts.list_endpoints(scope, page)).await?;
    let augmentations = every_page(|page| drafts.list_augmentations(scope, page)).await?;
    Ok(Snapshot {
        side: DiffSide {
            kind: "draft",
            release_id: None,
            release_tag: None,
            release_number: None,
            content_hash: None,
        },
        endpoints,
        augmentations,
    })
}

/// The snapshot `against` names; `below` is the number the `previous` one must be
/// under (`None`: the newest release, for the draft).
async fn resolve(
    state: &AppState,
    scope: &AppScope,
    text: &str,
    against: Against,
    below: Option<i64>,
) -> ApiResult<Snapshot> {
    let missing = |what: &str| bad_against(text, what);
    match against {
        Against::Previous => match newest_below(state, scope, below).await? {
            Some(summary) => release(state, scope, &summary.release_id).await,
            None => Ok(Snapshot::nothing()),
        },
        Against::Draft => draft(state, scope).await,
        Against::Active => match state.store.releases().active(scope).await? {
            Some(rendered) => snapshot_of(rendered).await,
            None => Err(missing(
                "names nothing: the default environment has no release",
            )),
        },
        Against::Environment(environment) => {
            let deployed = state
                .store
                .releases()
                .deployed(scope, &environment)
                .await
                .map_err(|err| match err {
                    cutover_store::StoreError::NotFound { .. } => {
                        missing("must name an environment of this workspace")
                    }
                    other => other.into(),
                })?;
            match deployed {
                Some(rendered) => snapshot_of(rendered).await,
                None => Err(missing(
                    "names nothing: that environment has no release of this app",
                )),
            }
        }
        Against::Id(id) => release(state, scope, &id).await.map_err(|err| match err {
            ApiError::NotFound { .. } => missing("must name a release of this app"),
            other => other,
        }),
        Against::Number(number) => match newest_below(state, scope, number.checked_add(1)).await? {
            Some(summary) if summary.release_number == number => {
                release(state, scope, &summary.release_id).await
            }
            _ => Err(missing("must name a release of this app")),
        },
        Against::Tag(tag) => {
            let mut before = None;
            loop {
                let page = state
                    .store
                    .releases()
                    .list(
                        scope,
                        ReleaseQuery {
                            limit: TAG_SEARCH_PAGE,
                            before_number: before,
                            include_archived: true,
                        },
                    )
                    .await?;
                if let Some(found) = page.releases.iter().find(|r| r.release_tag.as_str() == tag) {
                    return release(state, scope, &found.release_id).await;
                }
                match page.next_before_number {
                    Some(next) => before = Some(next),
                    None => return Err(missing("must name a release of this app")),
                }
            }
        }
    }
}

/// Compares off the async threads (a snapshot may be megabytes).
async fn compare(from: Snapshot, to: Snapshot) -> ApiResult<DiffAnswer> {
    tokio::task::spawn_blocking(move || {
        let ContentDiff {
            identical,
            endpoints,
            augmentations,
            counts,
        } = diff::between(from.content(), to.content());
        DiffAnswer {
            from: from.side,
            to: to.side,
            identical,
            endpoints,
            augmentations,
            counts,
        }
    })
    .await
    .map_err(|err| ApiError::internal(format!("the diff task failed: {err}")))
}

/// A side as people name it: "v4 (#4)", "the draft", "nothing".
pub(super) fn label(side: &DiffSide) -> String {
    match (side.kind, &side.release_tag, side.release_number) {
        ("release", Some(tag), Some(number)) => format!("{tag} (#{number})"),
        ("nothing", _, _) => "nothing".to_owned(),
        _ => "the draft".to_owned(),
    }
}

/// One side of a dry run's diff.
pub(super) enum Side {
    /// No release (an environment that has nothing yet).
    Nothing,
    /// A stored release.
    Release(ReleaseId),
    /// What a rehearsed cut would hold: a `draft` side, with the tag and number the
    /// release would get.
    Cut(Box<ReleaseDocument>),
}

async fn snapshot_of_side(state: &AppState, scope: &AppScope, side: Side) -> ApiResult<Snapshot> {
    match side {
        Side::Nothing => Ok(Snapshot::nothing()),
        Side::Release(id) => release(state, scope, &id).await,
        Side::Cut(document) => tokio::task::spawn_blocking(move || {
            let content = StoredContent::from_text(&document.content)?;
            Ok(Snapshot {
                side: DiffSide {
                    kind: "draft",
                    release_id: None,
                    release_tag: Some(document.summary.release_tag.as_str().to_owned()),
                    release_number: Some(document.summary.release_number),
                    content_hash: Some(document.summary.content_hash),
                },
                endpoints: content.endpoints,
                augmentations: content.augmentations,
            })
        })
        .await
        .map_err(|err| ApiError::internal(format!("the decoding task failed: {err}")))?,
    }
}

/// How `to` differs from `from`, as the diff API answers it.
pub(super) async fn between(
    state: &AppState,
    scope: &AppScope,
    from: Side,
    to: Side,
) -> ApiResult<DiffAnswer> {
    let from = snapshot_of_side(state, scope, from).await?;
    let to = snapshot_of_side(state, scope, to).await?;
    compare(from, to).await
}

/// Compare a release with another snapshot
///
/// Field by field: endpoints and augmentations matched by id (a rename is a change
/// of `name`), every content field compared (never `created_*` / `updated_*`), an
/// augmentation's stages and steps by name and position (a changed step's config
/// is `stages[answer].steps[llm].config`). `from` is what `against` names
/// (default `previous`: the newest release numbered below this one, or `nothing`
/// when there is none); `to` is this release.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases/{release_id}/diff",
    operation_id = Operation::ReleasesDiff.as_str(),
    tag = "releases",
    params(ReleasePath, AgainstQuery),
    responses((status = 200, description = "How the release differs", body = DiffAnswer),
        NotFound, Errors),
)]
pub async fn diff_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: ReleasePath,
    query: QueryParams,
) -> ApiResult<Json<DiffAnswer>> {
    let (scope, release_id) = ids.into_release();
    caller.authorize_app(Operation::ReleasesDiff, &scope)?;
    let (text, against) = parse_against(&query)?;
    let to = release(&state, &scope, &release_id).await?;
    let from = resolve(&state, &scope, &text, against, to.side.release_number).await?;
    compare(from, to).await.map(Json)
}

/// Compare the draft with a release
///
/// What the next release would change: `from` is what `against` names (default
/// `previous`: the newest release, `nothing` when there is none; `active` for
/// what the default environment has), `to` is the draft. The same comparison as
/// the release diff.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/draft/diff",
    operation_id = Operation::DraftDiff.as_str(),
    tag = "releases",
    params(AppPath, AgainstQuery),
    responses((status = 200, description = "How the draft differs", body = DiffAnswer),
        NotFound, Errors),
)]
pub async fn diff_draft(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
) -> ApiResult<Json<DiffAnswer>> {
    let scope = ids.app();
    caller.authorize_app(Operation::DraftDiff, &scope)?;
    let (text, against) = parse_against(&query)?;
    state.store.apps().get_app(&scope).await?;
    let from = resolve(&state, &scope, &text, against, None).await?;
    let to = draft(&state, &scope).await?;
    compare(from, to).await.map(Json)
}
