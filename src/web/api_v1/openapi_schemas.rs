//! JSON Schemas (OpenAPI 3.1 = JSON Schema 2020-12) of the API v1 bodies, referenced by name from the
//! route table in `openapi`. Kept next to the table so a new route names its shapes in one place.

use serde_json::{json, Value};

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

/// `components.schemas`.
pub fn components() -> Value {
    let progress = json!({"type": "object", "required": ["chunks_done", "chunks_total", "words"],
        "properties": {"chunks_done": {"type": "integer"}, "chunks_total": {"type": "integer"},
                       "words": {"type": "integer"}}});
    let mut schemas = json!({
        "Error": {"type": "object", "required": ["error", "message"], "properties": {
            "error": {"type": "string"}, "message": {"type": "string"},
            "retry_after": {"type": "integer", "minimum": 0}}},
        "NewBook": {"type": "object", "required": ["idea"], "properties": {
            "idea": {"type": "string", "minLength": 1, "maxLength": 5000},
            "genre": {"type": "string", "maxLength": 200},
            "audience": {"type": "string", "maxLength": 200},
            "language": {"type": "string", "enum": ["en", "es"]},
            "tone": {"type": "string", "maxLength": 200},
            "target_pages": {"type": "integer", "minimum": 10, "maximum": 1000}}},
        "BookStatus": {"type": "object", "required": ["id", "status"], "properties": {
            "id": {"type": "string"}, "status": {"type": "string"},
            "chapter": {"type": "integer"}, "architecture": {"$ref": "#/components/schemas/Architecture"}}},
        "BookSummary": {"type": "object", "required": ["id", "title", "status", "progress"], "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "string"},
            "language": {"type": "string"}, "is_demo": {"type": "boolean"}, "progress": progress,
            "created_at": {"type": "string"}}},
        "Book": {"type": "object", "required": ["id", "status", "progress", "usage"], "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "idea": {"type": "string"},
            "status": {"type": "string"}, "status_reason": {"type": "string"},
            "language": {"type": "string"}, "target_pages": {"type": "integer"},
            "is_demo": {"type": "boolean"}, "progress": progress,
            "usage": {"type": "object", "required": ["input_tokens", "output_tokens", "cost_usd"],
                "properties": {"input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"},
                               "cost_usd": {"type": "number"}}},
            "architecture": {"$ref": "#/components/schemas/Architecture"},
            "created_at": {"type": "string"}, "completed_at": nullable("string")}},
        "Architecture": {"type": "object", "required": ["title", "chapters"], "properties": {
            "title": {"type": "string"}, "subtitle": {"type": "string"}, "synopsis": {"type": "string"},
            "audience": {"type": "string"}, "tone": {"type": "string"},
            "language": {"type": "string", "enum": ["en", "es"]},
            "bible": {"type": "object", "properties": {
                "characters": {"type": "array", "items": {"type": "object", "required": ["name", "role"],
                    "properties": {"name": {"type": "string"}, "role": {"type": "string"},
                                   "description": {"type": "string"}}}},
                "facts": {"type": "array", "items": {"type": "string"}},
                "style": {"type": "array", "items": {"type": "string"}}}},
            "chapters": {"type": "array", "minItems": 1, "items": {"type": "object",
                "required": ["title", "summary"], "properties": {
                    "title": {"type": "string"}, "summary": {"type": "string"},
                    "key_points": {"type": "array", "items": {"type": "string"}},
                    "target_words": {"type": "integer", "minimum": 100, "maximum": 20000}}}}}},
        "ArchitectureUpdate": {"type": "object", "required": ["architecture"], "properties": {
            "architecture": {"$ref": "#/components/schemas/Architecture"}}},
        "Chapter": {"type": "object", "required": ["position", "title", "content", "words"], "properties": {
            "position": {"type": "integer"}, "title": {"type": "string"}, "status": {"type": "string"},
            "target_words": {"type": "integer"}, "content": {"type": "string"},
            "words": {"type": "integer"}}},
        "Event": {"type": "object", "required": ["seq", "kind", "data", "at"], "properties": {
            "seq": {"type": "integer"}, "kind": {"type": "string"}, "data": {}, "at": {"type": "string"}}},
        "NewKey": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 100}}},
        "CreatedKey": {"type": "object", "required": ["key", "prefix"], "properties": {
            "key": {"type": "string", "description": "shown once"}, "prefix": {"type": "string"},
            "name": {"type": "string"}}},
        "Key": {"type": "object", "required": ["prefix", "name", "revoked"], "properties": {
            "prefix": {"type": "string"}, "name": {"type": "string"}, "created_at": {"type": "string"},
            "last_used_at": nullable("string"), "revoked": {"type": "boolean"}}},
        "Usage": {"type": "object", "required": ["plan", "books", "tokens", "cost_usd", "limits"], "properties": {
            "plan": {"type": "string"}, "books": {"type": "integer"},
            "tokens": {"type": "object", "required": ["input", "output", "total"], "properties": {
                "input": {"type": "integer"}, "output": {"type": "integer"}, "total": {"type": "integer"}}},
            "cost_usd": {"type": "number"},
            "limits": {"type": "object", "required": ["architectures_remaining", "books_remaining", "api_key"],
                "properties": {
                    "architectures_per_hour": {"type": "integer"}, "architectures_remaining": {"type": "integer"},
                    "books_per_hour": {"type": "integer"}, "books_remaining": {"type": "integer"},
                    "api_key": {"type": "object", "properties": {"prefix": {"type": "string"},
                        "requests_per_minute": {"type": "integer"},
                        "requests_remaining": {"type": "integer"}}}}}}},
        "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
    });
    if let (Some(all), Value::Object(more)) = (schemas.as_object_mut(), chapter_schemas()) {
        all.extend(more);
    }
    schemas
}

/// Editing, versions and regeneration of a chapter.
fn chapter_schemas() -> Value {
    let kind = json!({"type": "string", "enum": ["original", "edit", "regenerate", "restore"]});
    let revision = json!({"type": "object", "required": ["kind", "at"], "properties": {
        "kind": kind, "author": nullable("string"), "at": {"type": "string"}}});
    json!({
        "ChapterEdit": {"type": "object", "required": ["content"], "additionalProperties": false,
            "properties": {"content": {"type": "string", "minLength": 1, "maxLength": 200000}}},
        "Regenerate": {"type": "object", "additionalProperties": false, "properties": {
            "instruction": {"type": ["string", "null"], "maxLength": 1000},
            "refresh_following": {"type": "boolean"}}},
        "ChapterRevision": {"type": "object",
            "required": ["chapter", "title", "content", "words", "revision"], "properties": {
            "chapter": {"type": "integer"}, "title": {"type": "string"}, "content": {"type": "string"},
            "words": {"type": "integer"}, "revision": revision}},
        "ChapterVersion": {"type": "object",
            "required": ["number", "kind", "created_at", "replaced_at", "words", "content"], "properties": {
            "number": {"type": "integer"}, "kind": kind, "author": nullable("string"),
            "created_at": {"type": "string"}, "replaced_at": {"type": "string"},
            "words": {"type": "integer"}, "content": {"type": "string"}}},
        "ChapterHistory": {"type": "object", "required": ["current", "versions"], "properties": {
            "current": {"$ref": "#/components/schemas/ChapterRevision"},
            "versions": {"type": "array", "items": {"$ref": "#/components/schemas/ChapterVersion"}}}},
    })
}
