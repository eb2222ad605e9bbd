//! What the document says of dry runs (`api::dry_runs`): each write that changes
//! releases or what is live takes `dry_run`, and its 200 may be a `DryRunAnswer`
//! (one of the two, told apart by `dry_run`).

use cutover_domain::permission::Operation;
use utoipa::openapi::path::{Operation as OpenApiOperation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use crate::api::dry_runs::{DryRunAnswer, FLAG};

/// The operations that take `dry_run`.
pub const DRY_RUNS: &[Operation] = &[
    Operation::ReleasesCreate,
    Operation::ReleasesActivate,
    Operation::ReleasesRollback,
    Operation::ReleasesArchive,
    Operation::ReleasesDelete,
    Operation::DeploymentsCreate,
    Operation::EnvironmentRollback,
];

const FLAG_DESCRIPTION: &str = "`true`: write nothing, and answer 200 with what the real \
    call would do (`DryRunAnswer`): the release it acts on and the one it replaces, status \
    changes, the refusal it would answer (`blockers`, the same status and reason), warnings \
    and the diff of what the environment would have. The dry run needs the real call's \
    permission; a malformed request answers as the real call would.";

const ANSWER_DESCRIPTION: &str = "With `dry_run=true`: what the write would do \
    (`DryRunAnswer`, `dry_run: true`); nothing was written.";

/// The answer schema and every schema it refers to, for the components.
pub fn schemas() -> Vec<(String, RefOr<Schema>)> {
    let mut schemas = vec![(DryRunAnswer::name().into_owned(), DryRunAnswer::schema())];
    DryRunAnswer::schemas(&mut schemas);
    schemas
}

/// Adds the flag and the answer to `operation` when it is one of [`DRY_RUNS`].
pub fn document(operation: &mut OpenApiOperation) {
    let takes_flag = operation
        .operation_id
        .as_deref()
        .is_some_and(|id| DRY_RUNS.iter().any(|op| op.as_str() == id));
    if !takes_flag {
        return;
    }
    let flag = ParameterBuilder::new()
        .name(FLAG)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(FLAG_DESCRIPTION))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .default(Some(false.into())),
        ))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(flag));
    let answer = || RefOr::Ref(Ref::from_schema_name(DryRunAnswer::name()));
    let responses = &mut operation.responses.responses;
    match responses.get_mut("200") {
        Some(RefOr::T(ok)) => {
            let said = ok.description.trim_end().trim_end_matches('.');
            ok.description = format!("{said}. {ANSWER_DESCRIPTION}");
            for content in ok.content.values_mut() {
                if let RefOr::T(content) = content
                    && let Some(schema) = content.schema.take()
                {
                    let either = OneOfBuilder::new().item(schema).item(answer()).build();
                    content.schema = Some(RefOr::T(Schema::OneOf(either)));
                }
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let ok = ResponseBuilder::new()
                .description(ANSWER_DESCRIPTION)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(answer())).build(),
                )
                .build();
            responses.insert("200".to_owned(), RefOr::T(ok));
        }
    }
}
