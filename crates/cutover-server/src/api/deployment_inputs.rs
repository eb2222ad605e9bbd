//! Deployment request bodies (activate or roll back, deploy or promote, roll an
//! environment back) parsed into the domain's requests with their compare-and-swap
//! conditions, every problem of a body reported at once (one 422).

use axum::http::HeaderMap;
use cutover_domain::ReleaseId;
use cutover_domain::deployment::{ActivationRequest, DeployRequest, DeploySource, RollbackRequest};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::ActivationAction;
use cutover_domain::precondition::{IfMatch, Precondition};
use cutover_domain::values::{Violation, parse_reason};
use serde_json::{Map, Value};

use crate::http::error::{ApiError, ApiResult};
use crate::http::validation::{Fields, Issue, present};

fn release_id(text: &str) -> Result<ReleaseId, Violation> {
    ReleaseId::parse(text).map_err(|_| Violation::Pattern {
        pattern: ReleaseId::PATTERN,
        meaning: "must be a release id",
    })
}

/// `expected_release_id` (null: nothing deployed) with the request's `If-Match`.
fn precondition(fields: &mut Fields<'_>, if_match: Option<IfMatch>) -> Option<Precondition> {
    let release = fields.nullable("expected_release_id", release_id)?;
    Some(Precondition { release, if_match })
}

/// `{expected_release_id?, reason?}` of an activate or rollback (no body is `{}`).
pub fn activation_request(
    body: &Map<String, Value>,
    action: ActivationAction,
    if_match: Option<IfMatch>,
) -> ApiResult<ActivationRequest> {
    let mut fields = Fields::body(body);
    let precondition = precondition(&mut fields, if_match);
    let reason = fields.nullable("reason", parse_reason);
    fields.finish()?;
    Ok(ActivationRequest {
        action,
        reason: present(reason)?.flatten(),
        precondition: present(precondition)?,
    })
}

/// `{environment, release_id | from_environment, reason?, expected_release_id?}`:
/// exactly one source.
pub fn deploy_request(
    body: &Map<String, Value>,
    if_match: Option<IfMatch>,
) -> ApiResult<DeployRequest> {
    let mut fields = Fields::body(body);
    let environment = fields.required("environment", EnvironmentRef::parse);
    let release = fields.optional("release_id", release_id);
    let from = fields.optional("from_environment", EnvironmentRef::parse);
    let reason = fields.nullable("reason", parse_reason);
    let precondition = precondition(&mut fields, if_match);
    match (fields.has("release_id"), fields.has("from_environment")) {
        (true, true) => fields.push(Issue::value_error(
            fields.loc("from_environment"),
            "give either release_id or from_environment, not both",
            body.get("from_environment").unwrap_or(&Value::Null),
        )),
        (false, false) => {
            let mut issue = Issue::missing(fields.loc("release_id"), body);
            issue.msg = "Field required: give release_id or from_environment".into();
            fields.push(issue);
        }
        _ => {}
    }
    fields.finish()?;
    let source = match (present(release)?, present(from)?) {
        (Some(release), _) => DeploySource::Release(release),
        (None, Some(from)) => DeploySource::Environment(from),
        (None, None) => return Err(ApiError::internal("a deploy body passed without a source")),
    };
    Ok(DeployRequest {
        environment: present(environment)?,
        source,
        reason: present(reason)?.flatten(),
        precondition: present(precondition)?,
    })
}

/// `{release_id?, reason?, expected_release_id?}` for the environment the path names.
pub fn rollback_request(
    body: &Map<String, Value>,
    environment: EnvironmentRef,
    if_match: Option<IfMatch>,
) -> ApiResult<RollbackRequest> {
    let mut fields = Fields::body(body);
    let release = fields.nullable("release_id", release_id);
    let reason = fields.nullable("reason", parse_reason);
    let precondition = precondition(&mut fields, if_match);
    fields.finish()?;
    Ok(RollbackRequest {
        environment,
        release_id: present(release)?.flatten(),
        reason: present(reason)?.flatten(),
        precondition: present(precondition)?,
    })
}

/// `{reason?}` of an archive (no body is `{}`).
pub fn reason_only(body: &Map<String, Value>) -> ApiResult<Option<String>> {
    let mut fields = Fields::body(body);
    let reason = fields.nullable("reason", parse_reason);
    fields.finish()?;
    Ok(present(reason)?.flatten())
}

/// `X-Cutover-Reason` of a delete (which has no body): the same rules as a body's
/// `reason`, a 422 at the header otherwise. Send it percent-encoded for anything
/// beyond visible ASCII; a value whose escapes do not decode to UTF-8 is kept as
/// sent.
pub fn reason_header(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(REASON_HEADER) else {
        return Ok(None);
    };
    let loc = || vec![Value::from("header"), Value::from(REASON_HEADER)];
    let text = value
        .to_str()
        .ok()
        .map(|raw| percent_decode(raw).unwrap_or_else(|_| raw.to_owned()))
        .ok_or_else(|| {
            ApiError::Validation(
                Issue::value_error(
                    loc(),
                    "must be visible ASCII, with anything else percent-encoded as UTF-8",
                    &Value::from(String::from_utf8_lossy(value.as_bytes()).into_owned()),
                )
                .into(),
            )
        })?;
    parse_reason(&text).map(Some).map_err(|violation| {
        ApiError::Validation(Issue::from_violation(loc(), violation, &Value::from(text)).into())
    })
}

/// The header a delete says why in.
pub const REASON_HEADER: &str = "X-Cutover-Reason";

/// `%XX` sequences decoded and the rest kept as it is (so `50% rollout` stays that);
/// the result must be UTF-8.
fn percent_decode(raw: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| raw.get(index + 1..index + 3))
            .flatten()
            .filter(|hex| hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8(out)
}

/// `environment` of a release cut with `activate: true`: where it goes live.
pub fn environment_on_cut(fields: &mut Fields<'_>) -> Option<Option<EnvironmentRef>> {
    fields.optional("environment", EnvironmentRef::parse)
}
