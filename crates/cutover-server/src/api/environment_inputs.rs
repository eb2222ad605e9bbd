//! Environment request bodies parsed into the domain's input types, every problem of
//! a body reported at once (as one 422).

use cutover_domain::environment::{EnvironmentPatch, NewEnvironment};
use cutover_domain::limits::Limits;
use cutover_domain::values::{parse_description, parse_name, parse_slug};
use serde_json::{Map, Value};

use crate::http::error::ApiResult;
use crate::http::validation::{Fields, present};

pub fn new_environment(body: &Map<String, Value>, limits: &Limits) -> ApiResult<NewEnvironment> {
    let mut fields = Fields::body(body);
    let name = fields.required("name", |t| parse_name(t, limits));
    let slug = fields.required("slug", parse_slug);
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let is_default = fields.bool("is_default");
    let protected = fields.bool("protected");
    fields.finish()?;
    Ok(NewEnvironment {
        name: present(name)?,
        slug: present(slug)?,
        description: present(description)?.flatten(),
        is_default: present(is_default)?.unwrap_or(false),
        protected: present(protected)?.unwrap_or(false),
    })
}

pub fn environment_patch(
    body: &Map<String, Value>,
    limits: &Limits,
) -> ApiResult<EnvironmentPatch> {
    let mut fields = Fields::body(body);
    let name = fields.optional("name", |t| parse_name(t, limits));
    let slug = fields.optional("slug", parse_slug);
    let description = fields.nullable("description", |t| parse_description(t, limits));
    let is_default = fields.bool("is_default");
    let protected = fields.bool("protected");
    fields.finish()?;
    Ok(EnvironmentPatch {
        name: present(name)?,
        slug: present(slug)?,
        description: present(description)?,
        is_default: present(is_default)?,
        protected: present(protected)?,
    })
}
