//! Request bodies parsed into the domain's input types. Each function reports every
//! problem of its body at once (as one 422), or returns a value that is valid.
//!
//! Every list is checked against its maximum length before any of its items is
//! looked at (a longer list is one `too_long` problem), and repeated values are
//! found with a set, so the work on a body grows linearly with its size and stops
//! early on lists that are too long.

use std::collections::HashSet;
use std::hash::Hash;

use cutover_domain::deployment::DeployAuthority;
use cutover_domain::draft::{
    AppPatch, AugmentationPatch, DeployOnCut, EndpointPatch, NewApp, NewAugmentation, NewEndpoint,
    NewOrg, NewRelease, NewWorkspace,
};
use cutover_domain::limits::Limits;
use cutover_domain::model::{Stage, Step};
use cutover_domain::permission::{Role, expand_grant};
use cutover_domain::token::{NewToken, RequestedExpiry};
use cutover_domain::values::{
    EndpointType, ExecutionMode, HttpMethod, ReleaseTag, StepType, Violation, parse_description,
    parse_endpoint_path, parse_label, parse_name, parse_slug, slug_from_name,
};
use cutover_domain::{AugmentationId, Timestamp, WorkspaceId};
use serde_json::{Map, Value};

use super::deployment_inputs::environment_on_cut;
use crate::http::error::ApiResult;
use crate::http::validation::{Fields, Issue, present};

/// The most permission words a token body may list (there are fewer distinct ones).
pub const MAX_PERMISSION_WORDS: usize = 100;

/// The most workspaces a token may be limited to.
pub const MAX_TOKEN_WORKSPACES: usize = 100;

fn augmentation_id(text: &str) -> Result<AugmentationId, Violation> {
    AugmentationId::parse(text).map_err(|_| Violation::Pattern {
        pattern: AugmentationId::PATTERN,
        meaning: "must be an augmentation id",
    })
}

fn workspace_id(text: &str) -> Result<WorkspaceId, Violation> {
    WorkspaceId::parse(text).map_err(|_| Violation::Pattern {
        pattern: WorkspaceId::PATTERN,
        meaning: "must be a workspace id",
    })
}

pub fn new_org(body: &Map<String, Value>, limits: &Limits) -> ApiResult<NewOrg> {
    let mut fields = Fields::body(body);
    let name = fields.required("name", |t| parse_name(t, limits));
    let slug = fields.optional("slug", parse_slug);
    if let (Some(name), Some(None)) = (&name, &slug)
        && slug_from_name(name).is_empty()
    {
        let mut issue = Issue::missing(fields.loc("slug"), body);
        issue.msg =
            "Field required: the name has no letters or digits to derive a slug from".into();
        fields.push(issue);
    }
    fields.finish()?;
    let name = present(name)?;
    let slug = present(slug)?.unwrap_or_else(|| slug_from_name(&name));
    Ok(NewOrg { name, slug })
}

pub fn new_workspace(body: &Map<String, Value>, limits: &Limits) -> ApiResult<NewWorkspace> {
    let mut fields = Fields::body(body);
    let name = fields.required("name", |t| parse_name(t, limits));
    let description = fields.nullable("description", |t| parse_description(t, limits));
    fields.finish()?;
    Ok(NewWorkspace {
        name: present(name)?,
        description: present(description)?.flatten(),
    })
}

pub fn new_app(body: &Map<String, Value>, limits: &Limits) -> ApiResult<NewApp> {
    let mut fields = Fields::body(body);
    let name = fields.required("name", |t| parse_name(t, limits));
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let parameters = fields.json_object("parameters", true, limits.max_json_depth);
    fields.finish()?;
    Ok(NewApp {
        name: present(name)?,
        description: present(description)?.flatten(),
        parameters: present(parameters)?.flatten().cloned().unwrap_or_default(),
    })
}

pub fn app_patch(body: &Map<String, Value>, limits: &Limits) -> ApiResult<AppPatch> {
    let mut fields = Fields::body(body);
    let name = fields.optional("name", |t| parse_name(t, limits));
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let parameters = fields.json_object("parameters", true, limits.max_json_depth);
    fields.finish()?;
    Ok(AppPatch {
        name: present(name)?,
        description: present(description)?,
        parameters: present(parameters)?.map(|p| p.cloned().unwrap_or_default()),
    })
}

pub fn new_endpoint(body: &Map<String, Value>, limits: &Limits) -> ApiResult<NewEndpoint> {
    let mut fields = Fields::body(body);
    let name = fields.required("name", |t| parse_name(t, limits));
    let path = fields.required("path", parse_endpoint_path);
    let method = fields.required("method", HttpMethod::parse);
    let augmentation = fields.required("augmentation_id", augmentation_id);
    let endpoint_type = fields.optional("endpoint_type", EndpointType::parse);
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let input_schema = fields.json_object("input_schema", true, limits.max_json_depth);
    fields.finish()?;
    Ok(NewEndpoint {
        name: present(name)?,
        path: present(path)?,
        method: present(method)?,
        augmentation_id: present(augmentation)?,
        endpoint_type: present(endpoint_type)?.unwrap_or(EndpointType::Sync),
        description: present(description)?.flatten(),
        input_schema: present(input_schema)?.flatten().cloned(),
    })
}

pub fn endpoint_patch(body: &Map<String, Value>, limits: &Limits) -> ApiResult<EndpointPatch> {
    let mut fields = Fields::body(body);
    let name = fields.optional("name", |t| parse_name(t, limits));
    let path = fields.optional("path", parse_endpoint_path);
    let method = fields.optional("method", HttpMethod::parse);
    let augmentation = fields.optional("augmentation_id", augmentation_id);
    let endpoint_type = fields.optional("endpoint_type", EndpointType::parse);
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let input_schema = fields.json_object("input_schema", true, limits.max_json_depth);
    fields.finish()?;
    Ok(EndpointPatch {
        name: present(name)?,
        path: present(path)?,
        method: present(method)?,
        augmentation_id: present(augmentation)?,
        endpoint_type: present(endpoint_type)?,
        description: present(description)?,
        input_schema: present(input_schema)?.map(|schema| schema.cloned()),
    })
}

fn step(fields: &mut Fields<'_>, limits: &Limits) -> Option<Step> {
    let name = fields.required("name", |t| parse_name(t, limits));
    let step_type = fields.required("type", StepType::parse);
    let config = fields.json_object("config", false, limits.max_json_depth);
    let timeout = fields.int("timeout_seconds", 1, 3600);
    let retries = fields.int("max_retries", 0, 10);
    Some(Step {
        name: name?,
        step_type: step_type?,
        config: config?.flatten().cloned().unwrap_or_default(),
        timeout_seconds: timeout?.map_or(Step::DEFAULT_TIMEOUT_SECONDS, |t| t as u32),
        max_retries: retries?.map_or(Step::DEFAULT_MAX_RETRIES, |r| r as u32),
    })
}

/// Parses `items` (at `loc`) as objects, each with `parse`, reporting problems by index.
fn each_object<T>(
    outer: &mut Fields<'_>,
    loc: Vec<Value>,
    items: &[Value],
    mut parse: impl FnMut(&mut Fields<'_>) -> Option<T>,
) -> Option<Vec<T>> {
    let mut parsed = Vec::with_capacity(items.len());
    let mut complete = true;
    for (index, item) in items.iter().enumerate() {
        let mut item_loc = loc.clone();
        item_loc.push(index.into());
        match item {
            Value::Object(object) => {
                let mut fields = Fields::at(object, item_loc);
                let value = parse(&mut fields);
                let problems = fields.into_problems();
                match value {
                    Some(value) if problems.is_empty() => parsed.push(value),
                    _ => complete = false,
                }
                outer.absorb(problems);
            }
            other => {
                complete = false;
                outer.push(Issue::new(
                    item_loc,
                    "model_type",
                    "Input should be a valid dictionary or object to extract fields from",
                    other,
                ));
            }
        }
    }
    complete.then_some(parsed)
}

fn stages(fields: &mut Fields<'_>, limits: &Limits) -> Option<Option<Vec<Stage>>> {
    let Some(items) = fields.array("stages", limits.max_stages_per_augmentation)? else {
        return Some(None);
    };
    let loc = fields.loc("stages");
    let parsed = each_object(fields, loc, items, |stage_fields| {
        let name = stage_fields.required("name", |t| parse_name(t, limits));
        let mode = stage_fields.optional("execution_mode", ExecutionMode::parse);
        let steps = match stage_fields.array("steps", limits.max_steps_per_stage) {
            Some(Some(steps)) => {
                let loc = stage_fields.loc("steps");
                each_object(stage_fields, loc, steps, |step_fields| {
                    step(step_fields, limits)
                })
            }
            Some(None) => Some(Vec::new()),
            None => None,
        };
        Some(Stage {
            name: name?,
            execution_mode: mode?.unwrap_or(ExecutionMode::Sequential),
            steps: steps?,
        })
    })?;
    Some(Some(parsed))
}

/// How [`string_list`] reads a list.
struct ListRule {
    /// The most items the list may have.
    max_items: usize,
    /// `null` counts as absent.
    nullable: bool,
    /// Repeated values are kept once (found with a set: linear, not quadratic).
    dedup: bool,
}

/// An optional list of strings at `key`, each parsed by `parse`; problems are
/// reported per index, once the list is known to be short enough.
fn string_list<T: Eq + Hash + Clone>(
    fields: &mut Fields<'_>,
    key: &str,
    rule: ListRule,
    parse: impl Fn(&str) -> Result<T, Violation>,
) -> Option<Option<Vec<T>>> {
    if rule.nullable && matches!(fields.raw(key), Some(Value::Null)) {
        return Some(None);
    }
    let Some(items) = fields.array(key, rule.max_items)? else {
        return Some(None);
    };
    let mut parsed = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    let mut complete = true;
    for (index, item) in items.iter().enumerate() {
        let mut loc = fields.loc(key);
        loc.push(index.into());
        let outcome = match item {
            Value::String(text) => {
                parse(text).map_err(|v| Issue::from_violation(loc, v, text.as_str()))
            }
            other => Err(Issue::new(
                loc,
                "string_type",
                "Input should be a valid string",
                other,
            )),
        };
        match outcome {
            Ok(value) if rule.dedup && !seen.insert(value.clone()) => {}
            Ok(value) => parsed.push(value),
            Err(issue) => {
                complete = false;
                fields.push(issue);
            }
        }
    }
    complete.then_some(Some(parsed))
}

fn tags(fields: &mut Fields<'_>, limits: &Limits) -> Option<Option<Vec<String>>> {
    let rule = ListRule {
        max_items: limits.max_tags_per_augmentation,
        nullable: false,
        dedup: false,
    };
    string_list(fields, "tags", rule, |text| parse_label(text, limits))
}

pub fn new_augmentation(body: &Map<String, Value>, limits: &Limits) -> ApiResult<NewAugmentation> {
    let mut fields = Fields::body(body);
    let name = fields.required("name", |t| parse_name(t, limits));
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let stages = stages(&mut fields, limits);
    let tags = tags(&mut fields, limits);
    let is_template = fields.bool("is_template");
    fields.finish()?;
    Ok(NewAugmentation {
        name: present(name)?,
        description: present(description)?.flatten(),
        stages: present(stages)?.unwrap_or_default(),
        tags: present(tags)?.unwrap_or_default(),
        is_template: present(is_template)?.unwrap_or(false),
    })
}

pub fn augmentation_patch(
    body: &Map<String, Value>,
    limits: &Limits,
) -> ApiResult<AugmentationPatch> {
    let mut fields = Fields::body(body);
    let name = fields.optional("name", |t| parse_name(t, limits));
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let stages = stages(&mut fields, limits);
    let tags = tags(&mut fields, limits);
    let is_template = fields.bool("is_template");
    fields.finish()?;
    Ok(AugmentationPatch {
        name: present(name)?,
        description: present(description)?,
        stages: present(stages)?,
        tags: present(tags)?,
        is_template: present(is_template)?,
    })
}

/// A release to cut; with `activate: true`, deployed in the same transaction to the
/// environment the body names (the workspace's default when none), as far as
/// `authority` allows.
pub fn new_release(
    body: &Map<String, Value>,
    limits: &Limits,
    authority: DeployAuthority,
) -> ApiResult<NewRelease> {
    let mut fields = Fields::body(body);
    let tag = fields.required("release_tag", ReleaseTag::parse);
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let activate = fields.bool("activate");
    let environment = environment_on_cut(&mut fields);
    if fields.has("environment") && activate != Some(Some(true)) {
        fields.push(Issue::value_error(
            fields.loc("environment"),
            "environment says where activate: true deploys the release; set activate to true",
            body.get("environment").unwrap_or(&Value::Null),
        ));
    }
    fields.finish()?;
    let environment = present(environment)?;
    Ok(NewRelease {
        release_tag: present(tag)?,
        description: present(description)?.flatten(),
        deploy: present(activate)?.unwrap_or(false).then_some(DeployOnCut {
            environment,
            authority,
        }),
    })
}

fn grant_words(fields: &mut Fields<'_>) -> Option<Option<Vec<String>>> {
    let rule = ListRule {
        max_items: MAX_PERMISSION_WORDS,
        nullable: false,
        dedup: true,
    };
    string_list(fields, "permissions", rule, |word| {
        expand_grant(word).map(|_| word.to_owned())
    })
}

fn workspace_ids(fields: &mut Fields<'_>) -> Option<Option<Vec<WorkspaceId>>> {
    let rule = ListRule {
        max_items: MAX_TOKEN_WORKSPACES,
        nullable: true,
        dedup: true,
    };
    string_list(fields, "workspace_ids", rule, workspace_id)
}

/// A token creation body: the token, and what it asked for its expiry (an omitted
/// `expires_at` and an explicit `null` mean different things under an expiring
/// caller, see `Principal::child_expiry`). The token's `expires_at` is the explicit
/// instant, if any, until the caller's bound is applied.
pub fn new_token(
    body: &Map<String, Value>,
    limits: &Limits,
) -> ApiResult<(NewToken, RequestedExpiry)> {
    let mut fields = Fields::body(body);
    let name = fields.required("name", |t| parse_name(t, limits));
    let role = fields.optional("role", Role::parse);
    let permissions = grant_words(&mut fields);
    let workspaces = workspace_ids(&mut fields);
    // Any RFC 3339 instant is accepted, as the document's `date-time` promises; one
    // in the past makes a token that is expired from the start (it answers 401).
    let expires_at = fields.nullable("expires_at", |text| {
        Timestamp::parse_rfc3339(text)
            .ok_or_else(|| Violation::Invalid("expires_at must be an RFC 3339 timestamp".into()))
    });
    if let (Some(Some(_)), Some(Some(_))) = (&role, &permissions) {
        fields.push(Issue::value_error(
            fields.loc("permissions"),
            "give either role or permissions, not both",
            body.get("permissions").unwrap_or(&Value::Null),
        ));
    }
    if let (Some(None), Some(None)) = (&role, &permissions) {
        let mut issue = Issue::missing(fields.loc("permissions"), body);
        issue.msg = "Field required: give role or permissions".into();
        fields.push(issue);
    }
    fields.finish()?;
    let permissions = match (present(role)?, present(permissions)?) {
        (Some(role), _) => role.grant_words(),
        (None, Some(words)) => words,
        (None, None) => Vec::new(),
    };
    let expiry = match present(expires_at)? {
        None => RequestedExpiry::Omitted,
        Some(None) => RequestedExpiry::Never,
        Some(Some(at)) => RequestedExpiry::At(at),
    };
    let token = NewToken {
        name: present(name)?,
        permissions,
        workspace_ids: present(workspaces)?,
        expires_at: match expiry {
            RequestedExpiry::At(at) => Some(at),
            RequestedExpiry::Omitted | RequestedExpiry::Never => None,
        },
    };
    Ok((token, expiry))
}
