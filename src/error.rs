//! Errors where the app meets HTTP.
//!
//! Policy: every failure a user can cause maps to a 4xx with a stable machine code and a readable message
//! (`{"error": code, "message": text}` for the API; the `error_pages` middleware turns the same response
//! into a localized HTML page for the browser). Anything else is a 500 whose body says only "internal
//! error": the cause goes to the log with the request id, never to the client. Storage errors are mapped
//! here so handlers can use `?` on them.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Validation(String),
    /// A refused field of a book use case: the English reason for the API, and what is wrong (kept in
    /// the response's extensions) for the error page to say in the user's language.
    #[error("{reason}")]
    Field {
        field: &'static str,
        reason: String,
        problem: crate::books::Problem,
    },
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("the form expired or was not sent from this site; reload the page and try again")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is too large")]
    TooLarge,
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// The plan's quota is used up (the same `429 rate_limited` for the API; the page says it is
    /// the plan's limit and points to the plans).
    #[error("quota exceeded; retry in {retry_after} s")]
    QuotaExceeded { retry_after: u64 },
    #[error("{0}")]
    Locked(String),
    #[error("service temporarily unavailable")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

/// The JSON error body (also kept in the response's extensions for the HTML error pages).
#[derive(Clone, Debug, Serialize)]
pub struct ErrorBody {
    pub error: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// Marks a `429` as the plan's quota (not a request rate), for the error page.
#[derive(Clone, Copy, Debug)]
pub struct PlanLimit;

/// What a refused field was (in the response's extensions, for the localized error page).
#[derive(Clone, Debug)]
pub struct FieldProblem {
    pub field: &'static str,
    pub problem: crate::books::Problem,
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Validation(_) | AppError::Field { .. } => "invalid_input",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf => "csrf_failed",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge => "payload_too_large",
            AppError::RateLimited { .. } | AppError::QuotaExceeded { .. } => "rate_limited",
            AppError::Locked(_) => "locked",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation(_) | AppError::Field { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } | AppError::QuotaExceeded { .. } | AppError::Locked(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(cause) => {
                log::error!(target: "buko::error", "internal error: {cause}")
            }
            AppError::Unavailable(cause) => {
                log::warn!(target: "buko::error", "unavailable: {cause}")
            }
            _ => {}
        }
        let body = ErrorBody {
            error: self.code(),
            message: self.to_string(),
            retry_after: match self {
                AppError::RateLimited { retry_after } | AppError::QuotaExceeded { retry_after } => {
                    Some(*retry_after)
                }
                _ => None,
            },
        };
        let mut res = HttpResponse::build(self.status_code());
        if let Some(secs) = body.retry_after {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        let mut res = res.json(&body);
        res.extensions_mut().insert(body);
        if matches!(self, AppError::QuotaExceeded { .. }) {
            res.extensions_mut().insert(PlanLimit);
        }
        if let AppError::Field { field, problem, .. } = self {
            res.extensions_mut().insert(FieldProblem {
                field,
                problem: problem.clone(),
            });
        }
        res
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) => AppError::Unavailable(e.to_string()),
            e if e.is_not_found() => AppError::NotFound,
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// The one mapping of the book use cases' refusals to HTTP (both doors).
impl From<crate::books::BookError> for AppError {
    fn from(e: crate::books::BookError) -> Self {
        use crate::books::BookError;
        match e {
            BookError::NotFound => AppError::NotFound,
            e @ BookError::WrongStatus { .. } => AppError::Conflict(e.to_string()),
            BookError::QuotaExceeded { retry_after } => AppError::QuotaExceeded { retry_after },
            BookError::Invalid {
                field,
                reason,
                problem,
            } => AppError::Field {
                field,
                reason,
                problem,
            },
            BookError::Storage(e) => e.into(),
            BookError::Busy(why) => AppError::Conflict(why.into()),
            BookError::Render(cause) => AppError::Internal(cause),
        }
    }
}
