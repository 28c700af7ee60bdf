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
    let mut all = json!({
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
                               "cost_usd": {"type": "number"},
                               "cache_creation_input_tokens": {"type": "integer"},
                               "cache_read_input_tokens": {"type": "integer"}}},
            "architecture": {"$ref": "#/components/schemas/Architecture"},
            "budget_usd": nullable("number"),
            "estimate": {"type": "object", "description": "what writing the architecture should cost",
                "properties": {"usd": {"type": "number"}, "pages": {"type": "integer"},
                    "input_tokens": {"type": "integer"}, "cache_write_tokens": {"type": "integer"},
                    "cache_read_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"}}},
            "created_at": {"type": "string"}, "completed_at": nullable("string")}},
        "Budget": {"type": "object", "additionalProperties": false, "properties": {
            "budget_usd": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000}}},
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
        "Duplicate": {"type": "object", "properties": {"title": {"type": "string", "maxLength": 300}}},
        "NewKey": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 100}}},
        "CreatedKey": {"type": "object", "required": ["key", "prefix"], "properties": {
            "key": {"type": "string", "description": "shown once"}, "prefix": {"type": "string"},
            "name": {"type": "string"}}},
        "Key": {"type": "object", "required": ["prefix", "name", "revoked"], "properties": {
            "prefix": {"type": "string"}, "name": {"type": "string"}, "created_at": {"type": "string"},
            "last_used_at": nullable("string"), "revoked": {"type": "boolean"}}},
        "Usage": usage(),
        "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
    });
    // Apart, so no single `json!` outgrows the macro's recursion limit.
    let usage = json!({
        "UsageFigures": {"type": "object",
            "required": ["words", "books_completed", "input_tokens", "output_tokens", "cost_usd"], "properties": {
            "words": {"type": "integer"}, "books_completed": {"type": "integer"},
            "input_tokens": {"type": "integer", "description": "input not read from the prompt cache"},
            "cached_input_tokens": {"type": "integer", "description": "input read from the prompt cache"},
            "output_tokens": {"type": "integer"}, "cost_usd": {"type": "number"}}},
        "UsageHistory": {"type": "object",
            "required": ["range", "tz", "bucket", "t", "end", "days", "totals", "months", "books"], "properties": {
            "range": {"type": "string", "enum": ["7d", "30d", "90d", "365d"]},
            "tz": {"type": "string"}, "bucket": {"type": "string", "enum": ["minute", "hour", "day"]},
            "t": {"type": "array", "items": {"type": "integer"}, "description": "bucket starts, epoch seconds"},
            "end": {"type": "integer"},
            "days": {"type": "array", "items": {"$ref": "#/components/schemas/UsageFigures"}},
            "totals": {"$ref": "#/components/schemas/UsageFigures"},
            "avg_time_to_finish_secs": {"type": ["integer", "null"]},
            "months": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/UsageFigures"},
                {"type": "object", "required": ["month"], "properties": {"month": {"type": "string"}}}]}},
            "books": {"type": "array", "items": {"type": "object",
                "required": ["id", "title", "status", "words", "input_tokens", "output_tokens", "cost_usd", "created_at"],
                "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "string"},
                    "words": {"type": "integer"}, "input_tokens": {"type": "integer"},
                    "cached_input_tokens": {"type": "integer"},
                    "output_tokens": {"type": "integer"}, "cost_usd": {"type": "number"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "completed_at": {"type": ["string", "null"], "format": "date-time"},
                    "time_to_finish_secs": {"type": ["integer", "null"]}}}}}}
    });
    if let (Some(all), Some(usage)) = (all.as_object_mut(), usage.as_object()) {
        all.extend(usage.clone());
    }
    if let Some(map) = all.as_object_mut() {
        for (name, schema) in billing() {
            map.insert(name.into(), schema);
        }
    }
    if let (Some(map), Value::Object(more)) = (all.as_object_mut(), chapter_schemas()) {
        map.extend(more);
    }
    if let (Some(map), Value::Object(more)) = (all.as_object_mut(), cover_schemas()) {
        map.extend(more);
    }
    if let (Some(map), Value::Object(more)) = (all.as_object_mut(), memory_schemas()) {
        map.extend(more);
    }
    all
}

/// The cover editor's shapes.
fn cover_schemas() -> Value {
    let colour = json!({"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"});
    let template = json!({"type": "string", "enum": ["band", "framed", "typographic", "split"]});
    let font = json!({"type": "string", "enum": ["serif", "classic", "mono"]});
    let text = json!({"type": "string", "maxLength": 200});
    json!({
        "CoverGenerate": {"type": "object", "additionalProperties": false, "properties": {
            "prompt": {"type": ["string", "null"], "minLength": 1, "maxLength": 2000}}},
        "CoverDesignInput": {"type": "object", "properties": {
            "template": template, "font": font, "title": text, "subtitle": text, "author": text,
            "background": colour, "text": colour, "accent": colour,
            "art_id": {"type": ["string", "null"]}}},
        "Cover": {"type": "object",
            "required": ["design", "prompt", "art", "status", "version", "candidates_per_generation"],
            "properties": {
            "design": {"type": "object", "required": ["template", "font", "title", "subtitle", "author",
                "background", "text", "accent"], "properties": {
                "template": template, "font": font, "title": {"type": "string"},
                "subtitle": {"type": "string"}, "author": {"type": "string"},
                "background": colour, "text": colour, "accent": colour}},
            "prompt": {"type": "string"}, "art_id": {"type": ["string", "null"]},
            "art": {"type": "array", "items": {"type": "object", "required": ["id", "source"],
                "properties": {"id": {"type": "string"},
                    "source": {"type": "string", "enum": ["offline", "openai", "upload"]}}}},
            "status": {"type": "string", "enum": ["idle", "generating", "failed"]},
            "last_error": {"type": ["string", "null"]}, "version": {"type": "integer"},
            "candidates_per_generation": {"type": "integer"}}},
    })
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

/// The continuity audit and the story ledger.
fn memory_schemas() -> Value {
    let text = |max: u32| json!({"type": "string", "maxLength": max});
    let finding = json!({"type": "object", "required": ["id", "chapter_index", "kind", "severity",
        "quote", "explanation", "suggestion", "status", "created_at"], "properties": {
        "id": {"type": "string"}, "chapter_index": {"type": "integer"},
        "kind": {"type": "string", "enum": ["character", "timeline", "fact", "outline", "style"]},
        "severity": {"type": "integer", "minimum": 1, "maximum": 3},
        "quote": {"type": "string"}, "explanation": {"type": "string"}, "suggestion": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "dismissed", "applied"]},
        "created_at": {"type": "string"}, "resolved_at": nullable("string")}});
    json!({
        "AuditReport": {"type": "object", "required": ["enabled", "findings"], "properties": {
            "enabled": {"type": "boolean"}, "findings": {"type": "array", "items": finding}}},
        "AuditSwitch": {"type": "object", "required": ["enabled"], "additionalProperties": false,
            "properties": {"enabled": {"type": "boolean"}}},
        "FindingResolved": {"type": "object", "required": ["id", "status"], "properties": {
            "id": {"type": "string"}, "status": {"type": "string"},
            "book_status": {"type": "string"}}},
        "Ledger": {"type": "object", "properties": {
            "characters": {"type": "array", "maxItems": 200, "items": {"type": "object",
                "required": ["name"], "properties": {"name": text(200), "role": text(200),
                "description": {"type": ["string", "null"], "maxLength": 1000}}}},
            "places": {"type": "array", "maxItems": 200, "items": {"type": "object",
                "required": ["name"], "properties": {"name": text(200),
                "description": {"type": ["string", "null"], "maxLength": 1000}}}},
            "facts": {"type": "array", "maxItems": 200, "items": text(1000)}}},
    })
}

fn usage() -> Value {
    let int = || json!({"type": "integer"});
    json!({"type": "object", "required": ["plan", "books", "tokens", "cost_usd", "limits"], "properties": {
        "plan": {"type": "string"}, "plan_name": {"type": "string"}, "books": int(),
        "tokens": {"type": "object", "required": ["input", "output", "total"], "properties": {
            "input": int(), "output": int(), "total": int()}},
        "cost_usd": {"type": "number"},
        "limits": {"type": "object", "required": ["architectures_remaining", "books_remaining", "api_key"],
            "properties": {
                "architectures_per_hour": int(), "architectures_used_this_hour": int(),
                "architectures_remaining": int(), "books_per_hour": int(),
                "books_used_this_hour": int(), "books_remaining": int(), "books_per_month": int(),
                "books_used_this_month": int(), "books_remaining_this_month": int(),
                "max_pages": int(),
                "api_key": {"type": "object", "properties": {"prefix": {"type": "string"},
                    "requests_per_minute": int(), "requests_remaining": int()}}}}}})
}

/// The billing bodies (`/billing`, `/billing/checkout`).
fn billing() -> Vec<(&'static str, Value)> {
    let int = || json!({"type": "integer"});
    let plan = json!({"type": "object", "required": ["id", "name", "limits", "prices"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "limits": {"type": "object", "properties": {
            "architectures_per_hour": int(), "books_per_hour": int(), "books_per_month": int(),
            "max_pages": int(), "cover_candidates": int()}},
        "prices": {"type": "array", "items": {"type": "object",
            "required": ["provider", "amount_cents", "currency"], "properties": {
                "provider": {"type": "string", "enum": ["paypal", "mercadopago"]},
                "amount_cents": int(), "currency": {"type": "string"}}}}}});
    vec![
        ("Plan", plan),
        (
            "Billing",
            json!({"type": "object", "required": ["plan", "status", "plans", "providers"], "properties": {
            "plan": {"type": "string"}, "plan_name": {"type": "string"},
            "status": {"type": "string", "enum": ["free", "active", "suspended", "cancelled", "operator"]},
            "provider": nullable("string"), "renews_at": nullable("string"),
            "ends_at": nullable("string"),
            "plans": {"type": "array", "items": {"$ref": "#/components/schemas/Plan"}},
            "providers": {"type": "array", "items": {"type": "string"}}}}),
        ),
        (
            "Checkout",
            json!({"type": "object", "required": ["plan", "provider"], "properties": {
            "plan": {"type": "string", "maxLength": 40},
            "provider": {"type": "string", "enum": ["paypal", "mercadopago"]}}}),
        ),
        (
            "CheckoutRedirect",
            json!({"type": "object", "required": ["redirect_url"], "properties": {
            "redirect_url": {"type": "string"}}}),
        ),
    ]
}
