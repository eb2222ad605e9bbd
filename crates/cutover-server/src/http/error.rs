//! The one error type of the HTTP edge. Every failure becomes an [`ApiError`], which
//! renders the seed's envelope `{error, message, details, timestamp, status_code}`
//! (or FastAPI's `{detail: [...]}` for validation). Internal causes never reach the
//! client: they ride along in a response extension and the request middleware logs
//! them with the request id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cutover_domain::Timestamp;
use cutover_domain::permission::Permission;
use cutover_domain::precondition::PreconditionFailed;
use cutover_domain::token::Denial;
use cutover_store::StoreError;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::http::problems::Problems;
use crate::http::validation::Issue;

pub type ApiResult<T> = Result<T, ApiError>;

/// The body of every error answer except validation (422).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// A stable code for the kind of error.
    #[schema(schema_with = error_code_schema)]
    pub error: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Facts about the error; which keys appear depends on `error` (see each
    /// response).
    #[schema(value_type = HashMap<String, Value>)]
    pub details: Map<String, Value>,
    pub timestamp: Timestamp,
    /// The HTTP status, repeated.
    #[schema(minimum = 400, maximum = 599)]
    pub status_code: u16,
}

fn error_code_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ApiError::ENVELOPE_CODES.iter().copied()))
        .build()
}

/// The body of a validation failure (422), in FastAPI's shape: one entry per problem,
/// at most 50 entries and 64 KiB. When a request has more problems than fit, the
/// last entry is `{"loc": [<"body", "query" or "path">], "type": "too_many_errors",
/// "ctx": {"listed": N, "total": M}, ...}`: the first N of its M problems are listed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ValidationBody {
    #[schema(max_items = 50)]
    pub detail: Vec<Issue>,
}

#[derive(Debug)]
pub enum ApiError {
    Unauthenticated,
    Forbidden {
        required_permission: String,
        message: String,
        extra: Map<String, Value>,
    },
    NotFound {
        resource_type: String,
        resource_id: String,
    },
    MethodNotAllowed {
        allowed: Vec<String>,
    },
    Conflict {
        reason: &'static str,
        message: String,
        details: Map<String, Value>,
    },
    /// A compare-and-swap condition (`If-Match`, `expected_release_id`) did not hold.
    PreconditionFailed(PreconditionFailed),
    PayloadTooLarge {
        limit_bytes: usize,
    },
    UriTooLong {
        limit_bytes: usize,
    },
    HeadersTooLarge {
        limit_bytes: usize,
    },
    UnsupportedMediaType,
    RateLimited {
        retry_after_seconds: u64,
    },
    Validation(Problems),
    /// The request body did not arrive within the body read timeout.
    BodyReadTimeout {
        after: std::time::Duration,
    },
    Unavailable {
        cause: String,
    },
    /// The handler did not answer within the request deadline (see `http::deadline`).
    DeadlineExceeded {
        deadline: std::time::Duration,
    },
    Internal {
        cause: String,
    },
}

/// The internal cause of a 5xx, for the request middleware to log.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

impl ApiError {
    pub fn internal(cause: impl Into<String>) -> Self {
        Self::Internal {
            cause: cause.into(),
        }
    }

    pub fn not_found(resource_type: &str, resource_id: impl ToString) -> Self {
        Self::NotFound {
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_string(),
        }
    }

    /// Every `error` code the envelope can carry.
    pub const ENVELOPE_CODES: &'static [&'static str] = &[
        "AUTHENTICATION_FAILED",
        "FORBIDDEN",
        "RESOURCE_NOT_FOUND",
        "METHOD_NOT_ALLOWED",
        "CONFLICT",
        "PRECONDITION_FAILED",
        "PAYLOAD_TOO_LARGE",
        "URI_TOO_LONG",
        "REQUEST_HEADER_FIELDS_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "RATE_LIMIT_EXCEEDED",
        "REQUEST_TIMEOUT",
        "SERVICE_UNAVAILABLE",
        "INTERNAL_SERVER_ERROR",
    ];

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BodyReadTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable { .. } | Self::DeadlineExceeded { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "AUTHENTICATION_FAILED",
            Self::Forbidden { .. } => "FORBIDDEN",
            Self::NotFound { .. } => "RESOURCE_NOT_FOUND",
            Self::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            Self::Conflict { .. } => "CONFLICT",
            Self::PreconditionFailed(_) => "PRECONDITION_FAILED",
            Self::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Self::UriTooLong { .. } => "URI_TOO_LONG",
            Self::HeadersTooLarge { .. } => "REQUEST_HEADER_FIELDS_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::RateLimited { .. } => "RATE_LIMIT_EXCEEDED",
            Self::Validation(_) => "VALIDATION_ERROR",
            Self::BodyReadTimeout { .. } => "REQUEST_TIMEOUT",
            Self::Unavailable { .. } | Self::DeadlineExceeded { .. } => "SERVICE_UNAVAILABLE",
            Self::Internal { .. } => "INTERNAL_SERVER_ERROR",
        }
    }

    fn message_and_details(&self) -> (String, Map<String, Value>) {
        let mut details = Map::new();
        let message = match self {
            Self::Unauthenticated => "Authentication required".to_owned(),
            Self::Forbidden {
                required_permission,
                message,
                extra,
            } => {
                details.insert(
                    "required_permission".into(),
                    required_permission.clone().into(),
                );
                details.extend(extra.clone());
                message.clone()
            }
            Self::NotFound {
                resource_type,
                resource_id,
            } => {
                details.insert("resource_type".into(), resource_type.clone().into());
                details.insert("resource_id".into(), resource_id.clone().into());
                "The requested resource was not found".to_owned()
            }
            Self::MethodNotAllowed { allowed } => {
                details.insert("allowed".into(), allowed.clone().into());
                "The method is not allowed for the requested URL".to_owned()
            }
            Self::Conflict {
                reason,
                message,
                details: extra,
            } => {
                details.insert("reason".into(), (*reason).into());
                details.extend(extra.clone());
                message.clone()
            }
            Self::PreconditionFailed(failed) => {
                if let PreconditionFailed::Deployment { current_release_id } = failed {
                    let current = current_release_id.as_ref().map(ToString::to_string);
                    details.insert("current_release_id".into(), current.into());
                }
                failed.message()
            }
            Self::PayloadTooLarge { limit_bytes } => {
                details.insert("limit_bytes".into(), (*limit_bytes).into());
                format!("The request body is larger than {limit_bytes} bytes")
            }
            Self::UriTooLong { limit_bytes } => {
                details.insert("limit_bytes".into(), (*limit_bytes).into());
                format!("The request target (path and query) is longer than {limit_bytes} bytes")
            }
            Self::HeadersTooLarge { limit_bytes } => {
                details.insert("limit_bytes".into(), (*limit_bytes).into());
                format!("The request's header fields take more than {limit_bytes} bytes")
            }
            Self::UnsupportedMediaType => {
                "Request bodies must be JSON (Content-Type: application/json)".to_owned()
            }
            Self::RateLimited {
                retry_after_seconds,
            } => {
                details.insert("retry_after".into(), (*retry_after_seconds).into());
                "Too many requests; slow down".to_owned()
            }
            Self::Validation(_) => "The request is invalid".to_owned(),
            Self::BodyReadTimeout { after } => {
                details.insert("timeout_ms".into(), millis(after).into());
                format!(
                    "The request body did not arrive within {} ms",
                    millis(after)
                )
            }
            Self::Unavailable { .. } => {
                "The service is temporarily unavailable; try again shortly".to_owned()
            }
            Self::DeadlineExceeded { deadline } => format!(
                "The request took longer than {} ms and was abandoned; a write may still \
                 have taken effect, so check before repeating it",
                millis(deadline)
            ),
            Self::Internal { .. } => "An unexpected error occurred".to_owned(),
        };
        (message, details)
    }
}

impl ApiError {
    /// The envelope this error answers with, stamped `at` (validation errors answer
    /// [`ValidationBody`] instead).
    pub fn envelope(&self, at: Timestamp) -> ErrorEnvelope {
        let (message, details) = self.message_and_details();
        ErrorEnvelope {
            error: self.code(),
            message,
            details,
            timestamp: at,
            status_code: self.status().as_u16(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Validation(problems) = self {
            let json = HeaderValue::from_static("application/json");
            return (status, [(header::CONTENT_TYPE, json)], problems.render()).into_response();
        }
        let body = self.envelope(Timestamp::now());
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            Self::Unauthenticated => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::MethodNotAllowed { allowed } => {
                if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
                    headers.insert(header::ALLOW, value);
                }
            }
            Self::RateLimited {
                retry_after_seconds,
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            Self::Unavailable { cause } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response.extensions_mut().insert(ErrorCause(cause.clone()));
            }
            Self::DeadlineExceeded { deadline } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response.extensions_mut().insert(ErrorCause(format!(
                    "the handler did not answer within the {} ms request deadline",
                    millis(deadline)
                )));
            }
            Self::BodyReadTimeout { .. } => {
                // The rest of the body may still be on its way: start afresh.
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Self::Internal { cause } => {
                response.extensions_mut().insert(ErrorCause(cause.clone()));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound {
                resource_type,
                resource_id,
            } => Self::not_found(resource_type, resource_id),
            StoreError::Conflict {
                reason,
                message,
                details,
            } => Self::Conflict {
                reason,
                message,
                details,
            },
            StoreError::Forbidden {
                permission,
                message,
            } => Self::Forbidden {
                required_permission: permission.to_string(),
                message,
                extra: Map::new(),
            },
            StoreError::PreconditionFailed(failed) => Self::PreconditionFailed(failed),
            StoreError::InvalidReference {
                field,
                message,
                input,
            } => Self::Validation(
                Issue::value_error(vec!["body".into(), field.into()], &message, &input).into(),
            ),
            StoreError::Unavailable(cause) => Self::Unavailable {
                cause: cause.chain(),
            },
            StoreError::Internal(cause) => Self::Internal {
                cause: cause.chain(),
            },
        }
    }
}

fn millis(duration: &std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Renders a refused authorization. Another org's resources answer 404, never 403,
/// so a caller cannot learn that they exist.
pub fn from_denial(denial: Denial, resource_type: &str, resource_id: &str) -> ApiError {
    match denial {
        Denial::OtherOrg => ApiError::not_found(resource_type, resource_id),
        Denial::MissingPermission(permission) => ApiError::Forbidden {
            required_permission: permission.to_string(),
            message: "You don't have permission to perform this action".into(),
            extra: Map::new(),
        },
        Denial::OutsideWorkspaces {
            permission,
            workspace_id,
        } => ApiError::Forbidden {
            required_permission: permission.to_string(),
            message: "This token is limited to other workspaces".into(),
            extra: [(
                "workspace_id".to_owned(),
                Value::String(workspace_id.to_string()),
            )]
            .into_iter()
            .collect(),
        },
        Denial::PlatformOnly(permission) => ApiError::Forbidden {
            required_permission: permission.to_string(),
            message: "Only a platform token may perform this action".into(),
            extra: [("token_scope".to_owned(), Value::String("platform".into()))]
                .into_iter()
                .collect(),
        },
        Denial::OutlivesCaller { expires_at } => ApiError::Forbidden {
            required_permission: Permission::TokensManage.to_string(),
            message: format!(
                "A token cannot outlive the token that mints it: give an expires_at no later \
                 than {expires_at}, or omit it to inherit that expiry"
            ),
            extra: [(
                "max_expires_at".to_owned(),
                Value::String(expires_at.to_string()),
            )]
            .into_iter()
            .collect(),
        },
    }
}
