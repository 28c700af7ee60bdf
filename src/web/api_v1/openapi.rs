//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of API v1, rendered from [`ROUTES`], a table of
//! every route (method, path, summary, request and response shapes). A unit test reads the route
//! registrations of the `api_v1` handler files and fails when a route is missing from the table or the
//! table names a route that does not exist, so the document cannot drift from the code. The body shapes
//! live in `openapi_schemas`, the table in `openapi_routes`.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

#[path = "openapi_schemas.rs"]
mod schemas;
#[path = "openapi_routes.rs"]
mod table;

use table::UPLOAD;
pub use table::{Body, Route, ROUTES};
use Body::*;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(document));
}

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
