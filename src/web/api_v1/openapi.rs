//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of API v1, rendered from [`ROUTES`], a table of
//! every route (method, path, summary, request and response shapes). A unit test reads the route
//! registrations of the `api_v1` handler files and fails when a route is missing from the table or the
//! table names a route that does not exist, so the document cannot drift from the code. The body shapes
//! live in `openapi_schemas`.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

#[path = "openapi_schemas.rs"]
mod schemas;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(document));
}

/// What a successful response carries.
#[derive(Clone, Copy, Debug)]
pub enum Body {
    Json(&'static str),
    JsonArray(&'static str),
    Empty,
    File,
    /// A JPEG (the cover, a candidate).
    Image,
}

#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    /// Path under `/api/v1`, with `{param}` placeholders.
    pub path: &'static str,
    pub summary: &'static str,
    /// Needs `X-API-Key`.
    pub auth: bool,
    pub request: Option<&'static str>,
    pub ok: (u16, Body),
    /// Error statuses the route answers with `{error, message}` (besides 401 / 429 for keyed routes).
    pub errors: &'static [u16],
}

const fn r(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    request: Option<&'static str>,
    ok: (u16, Body),
    errors: &'static [u16],
) -> Route {
    Route {
        method,
        path,
        summary,
        auth: true,
        request,
        ok,
        errors,
    }
}

use Body::*;

/// Every API v1 route.
pub const ROUTES: &[Route] = &[
    r(
        "post",
        "/books",
        "Start a book from an idea (drafts its architecture)",
        Some("NewBook"),
        (202, Json("BookStatus")),
        &[400, 422],
    ),
    r(
        "get",
        "/books",
        "List your books (`q`: only those whose title contains it)",
        None,
        (200, JsonArray("BookSummary")),
        &[],
    ),
    r(
        "get",
        "/books/{id}",
        "A book: status, architecture, progress and usage",
        None,
        (200, Json("Book")),
        &[404],
    ),
    r(
        "patch",
        "/books/{id}",
        "Change the book's cost limit (`budget_usd`; a book paused on budget_reached then resumes)",
        Some("Budget"),
        (200, Json("Book")),
        &[400, 404, 422],
    ),
    r(
        "delete",
        "/books/{id}",
        "Delete a book with its chapters, exports and jobs (a book being written is stopped)",
        None,
        (204, Empty),
        &[404],
    ),
    r(
        "post",
        "/books/{id}/duplicate",
        "A new book with this one's architecture, ready to review (costs no quota)",
        Some("Duplicate"),
        (201, Json("BookStatus")),
        &[404, 409],
    ),
    r(
        "put",
        "/books/{id}/architecture",
        "Replace the architecture (while architecture_ready)",
        Some("ArchitectureUpdate"),
        (200, Json("BookStatus")),
        &[400, 404, 409, 422],
    ),
    r(
        "post",
        "/books/{id}/approve",
        "Approve the architecture and queue the writing (optional body: the cost limit)",
        Some("Budget"),
        (202, Json("BookStatus")),
        &[400, 404, 409, 422],
    ),
    r(
        "post",
        "/books/{id}/cancel",
        "Cancel the book",
        None,
        (200, Json("BookStatus")),
        &[404, 409],
    ),
    r(
        "post",
        "/books/{id}/pause",
        "Pause the writing",
        None,
        (200, Json("BookStatus")),
        &[404, 409],
    ),
    r(
        "post",
        "/books/{id}/resume",
        "Resume a paused or failed book",
        None,
        (202, Json("BookStatus")),
        &[404, 409],
    ),
    r(
        "post",
        "/books/{id}/chapters/{n}/regenerate",
        "Rewrite one chapter (0-based), optionally with an instruction and the following chapters",
        Some("Regenerate"),
        (202, Json("BookStatus")),
        &[400, 404, 409, 422],
    ),
    r(
        "put",
        "/books/{id}/chapters/{n}",
        "Replace a written chapter's text (the previous text becomes a version)",
        Some("ChapterEdit"),
        (200, Json("ChapterRevision")),
        &[400, 404, 409, 413, 422],
    ),
    r(
        "get",
        "/books/{id}/chapters/{n}/versions",
        "A chapter's current text and its previous versions, newest first",
        None,
        (200, Json("ChapterHistory")),
        &[404],
    ),
    r(
        "post",
        "/books/{id}/chapters/{n}/versions/{v}/restore",
        "Make a previous version the current text again",
        None,
        (200, Json("ChapterRevision")),
        &[404, 409, 422],
    ),
    r(
        "get",
        "/books/{id}/audit",
        "The continuity audit: whether it runs and its findings (each quoting the chapter)",
        None,
        (200, Json("AuditReport")),
        &[404],
    ),
    r(
        "put",
        "/books/{id}/audit",
        "Turn the continuity audit on or off for the chapters written from now on",
        Some("AuditSwitch"),
        (200, Json("AuditSwitch")),
        &[400, 404],
    ),
    r(
        "post",
        "/books/{id}/audit/{finding}/dismiss",
        "Dismiss an open finding",
        None,
        (200, Json("FindingResolved")),
        &[404, 422],
    ),
    r(
        "post",
        "/books/{id}/audit/{finding}/apply",
        "Apply an open finding: its chapter is rewritten with the suggestion as instruction",
        None,
        (202, Json("FindingResolved")),
        &[404, 409, 422],
    ),
    r(
        "get",
        "/books/{id}/ledger",
        "The story ledger learned from the text (characters, places, facts)",
        None,
        (200, Json("Ledger")),
        &[404],
    ),
    r(
        "put",
        "/books/{id}/ledger",
        "Replace the story ledger with the author's version",
        Some("Ledger"),
        (200, Json("Ledger")),
        &[400, 404, 422],
    ),
    r(
        "get",
        "/books/{id}/chapters",
        "Chapters with their text",
        None,
        (200, JsonArray("Chapter")),
        &[404],
    ),
    r(
        "get",
        "/books/{id}/events",
        "Durable events after a sequence number",
        None,
        (200, JsonArray("Event")),
        &[400, 404],
    ),
    r(
        "get",
        "/books/{id}/export/{fmt}",
        "Download the book as PDF, EPUB, DOCX or Markdown",
        None,
        (200, File),
        &[404, 409, 422],
    ),
    r(
        "get",
        "/books/{id}/cover",
        "The book's cover (JPEG, 1600×2560; `size=thumb`: 320×512); rendered on first use",
        None,
        (200, Image),
        &[404],
    ),
    r(
        "put",
        "/books/{id}/cover",
        "Upload your own cover art (raw JPEG, PNG or WebP body; re-encoded on the server)",
        Some(UPLOAD),
        (200, Json("Cover")),
        &[400, 404, 422],
    ),
    r(
        "post",
        "/books/{id}/cover/generate",
        "Generate cover art candidates from a prompt (a job; one at a time per book)",
        Some("CoverGenerate"),
        (202, Json("Cover")),
        &[400, 404, 409, 422],
    ),
    r(
        "get",
        "/books/{id}/cover/design",
        "The cover editor's state: design, candidates, generation status and last error",
        None,
        (200, Json("Cover")),
        &[404],
    ),
    r(
        "put",
        "/books/{id}/cover/design",
        "Save a cover design (layout, font, texts, colours, chosen art): renders the cover",
        Some("CoverDesignInput"),
        (200, Json("Cover")),
        &[400, 404, 422],
    ),
    r(
        "get",
        "/books/{id}/cover/art/{art}",
        "A cover art candidate (JPEG; `size=thumb` for the small one)",
        None,
        (200, Image),
        &[404],
    ),
    r(
        "post",
        "/keys",
        "Create an API key (the key is shown once)",
        Some("NewKey"),
        (201, Json("CreatedKey")),
        &[400, 422],
    ),
    r(
        "get",
        "/keys",
        "List your API keys",
        None,
        (200, JsonArray("Key")),
        &[],
    ),
    r(
        "delete",
        "/keys/{prefix}",
        "Revoke an API key",
        None,
        (204, Empty),
        &[404],
    ),
    r(
        "get",
        "/usage",
        "Tokens, cost, books and limits left",
        None,
        (200, Json("Usage")),
        &[],
    ),
    r(
        "get",
        "/billing",
        "Your plan, subscription status, next renewal and the plans on sale",
        None,
        (200, Json("Billing")),
        &[],
    ),
    r(
        "post",
        "/billing/checkout",
        "Start a subscription: returns the provider's approval URL to send the payer to",
        Some("Checkout"),
        (200, Json("CheckoutRedirect")),
        &[400, 409, 422, 503],
    ),
    r(
        "get",
        "/usage/history",
        "Your words, books finished, tokens and cost per day, month and book",
        None,
        (200, Json("UsageHistory")),
        &[400],
    ),
    Route {
        auth: false,
        ..r(
            "get",
            "/openapi.json",
            "This document",
            None,
            (200, Json("OpenApi")),
            &[],
        )
    },
];

/// The request "schema" of a raw image upload.
const UPLOAD: &str = "@image";

async fn document() -> HttpResponse {
    static DOC: OnceLock<Value> = OnceLock::new();
    HttpResponse::Ok().json(DOC.get_or_init(render))
}

fn param_schema(name: &str) -> Value {
    match name {
        "n" => json!({"type": "integer", "minimum": 0}),
        "fmt" => json!({"type": "string", "enum": ["pdf", "epub", "docx", "md"]}),
        _ => json!({"type": "string"}),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn error_response(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/json": {"schema": schema_ref("Error")}}})
}

fn operation(route: &Route) -> Value {
    let mut params: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": param_schema(name)}))
        .collect();
    if route.path == "/usage/history" {
        params.push(json!({"name": "range", "in": "query", "required": false,
                           "schema": {"type": "string", "enum": ["7d", "30d", "90d", "365d"]}}));
        params.push(json!({"name": "tz", "in": "query", "required": false,
                           "description": "IANA time zone of the day buckets (default UTC)",
                           "schema": {"type": "string"}}));
    }
    if route.path == "/books" && route.method == "get" {
        params.push(json!({"name": "q", "in": "query", "required": false,
                           "schema": {"type": "string", "maxLength": 200}}));
    }
    if matches!(route.ok.1, Image) {
        params.push(json!({"name": "size", "in": "query", "required": false,
                           "schema": {"type": "string", "enum": ["full", "thumb"]}}));
    }
    if route.path == "/books/{id}/events" {
        params.push(json!({"name": "after", "in": "query", "required": false,
                           "schema": {"type": "integer", "minimum": 0}}));
    }
    let mut responses = Map::new();
    let ok = match route.ok.1 {
        Json(s) => json!({"description": "success",
                          "content": {"application/json": {"schema": schema_ref(s)}}}),
        JsonArray(s) => json!({"description": "success", "content": {"application/json":
                               {"schema": {"type": "array", "items": schema_ref(s)}}}}),
        Empty => json!({"description": "done"}),
        Image => json!({"description": "the image", "content": {
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}),
        File => json!({"description": "the file", "content": {
            "application/pdf": {}, "application/epub+zip": {}, "text/markdown": {},
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {}}}),
    };
    responses.insert(route.ok.0.to_string(), ok);
    let mut errors: Vec<u16> = route.errors.to_vec();
    if route.auth {
        errors.extend([401, 429]);
    }
    if route.request.is_some() {
        errors.push(413);
    }
    for code in errors {
        responses.insert(code.to_string(), error_response("error"));
    }
    // Anything else (e.g. 503 while the database is away) still has the error shape.
    responses.insert("default".into(), error_response("error"));
    let mut op = json!({
        "summary": route.summary,
        "operationId": operation_id(route),
        "parameters": params,
        "responses": responses,
    });
    match route.request {
        Some(UPLOAD) => {
            let binary = json!({"schema": {"type": "string", "format": "binary"}});
            op["requestBody"] = json!({"required": true, "content": {
                "image/jpeg": binary, "image/png": binary, "image/webp": binary,
                "application/octet-stream": binary}});
        }
        Some(schema) => {
            op["requestBody"] = json!({"required": true,
                "content": {"application/json": {"schema": schema_ref(schema)}}});
        }
        None => {}
    }
    if !route.auth {
        op["security"] = json!([]);
    }
    op
}

fn operation_id(route: &Route) -> String {
    let mut id = route.method.to_string();
    for seg in route.path.split('/').filter(|s| !s.is_empty()) {
        let seg = seg.trim_matches(|c| c == '{' || c == '}').replace('.', "_");
        id.push('_');
        id.push_str(&seg);
    }
    id
}

/// The whole document.
pub fn render() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let item = paths
            .entry(format!("/api/v1{}", route.path))
            .or_insert_with(|| json!({}));
        item[route.method] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Buko API", "version": "1",
                 "description": "Turn an idea into a finished book. Errors are {error, message}."},
        "paths": paths,
        "components": {
            "schemas": schemas::components(),
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [{"apiKey": []}],
    })
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
