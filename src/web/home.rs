//! The start page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::web::render::html;
use crate::web::session::PageCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index));
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    page: PageCtx,
}

async fn index(page: PageCtx) -> Result<HttpResponse, AppError> {
    html(StatusCode::OK, &IndexPage { page })
}
