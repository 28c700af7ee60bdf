//! Small response helpers shared by page handlers.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use askama::Template;

use crate::error::AppError;

/// Renders a template as an HTML response with the given status.
pub fn html<T: Template>(status: StatusCode, template: &T) -> Result<HttpResponse, AppError> {
    let body = template.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// `303 See Other` after a form post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
