//! The reader's memory forms: the continuity audit's switch, dismissing or applying a finding, and
//! the author's corrections of the story ledger. Thin doors over `crate::books` (the API calls the
//! same use cases); each answers with a redirect back to the reader.

use actix_web::{web, HttpResponse};
use buko_actors::model::Character;
use buko_actors::{Ledger, Place};
use serde::Deserialize;

use crate::db::ids::BookId;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::see_other;
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/audit", web::post().to(switch))
        .route(
            "/books/{id}/audit/{finding}/dismiss",
            web::post().to(dismiss),
        )
        .route("/books/{id}/audit/{finding}/apply", web::post().to(apply))
        .route("/books/{id}/ledger", web::post().to(ledger));
}

#[derive(Deserialize)]
struct Plain {
    csrf_token: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    enabled: Option<String>,
}

impl CsrfProtected for Plain {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn switch(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    CsrfForm(form): CsrfForm<Plain>,
) -> Result<HttpResponse, AppError> {
    state
        .books
        .set_audit(&user, &id, form.enabled.is_some())
        .await?;
    Ok(see_other(&format!("/books/{id}/read#audit")))
}

async fn dismiss(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
    CsrfForm(_): CsrfForm<Plain>,
) -> Result<HttpResponse, AppError> {
    let (id, finding) = path.into_inner();
    state.books.dismiss_finding(&user, &id, &finding).await?;
    Ok(see_other(&format!("/books/{id}/read#audit")))
}

async fn apply(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
    CsrfForm(_): CsrfForm<Plain>,
) -> Result<HttpResponse, AppError> {
    let (id, finding) = path.into_inner();
    state.books.apply_finding(&user, &id, &finding).await?;
    Ok(see_other(&format!("/books/{id}/live")))
}

#[derive(Deserialize)]
struct LedgerForm {
    csrf_token: String,
    #[serde(default)]
    characters: String,
    #[serde(default)]
    places: String,
    #[serde(default)]
    facts: String,
}

impl CsrfProtected for LedgerForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// "Name — description" (or "Name - description", or just "Name").
fn split_line(line: &str) -> (String, Option<String>) {
    let (name, rest) = line
        .split_once(" — ")
        .or_else(|| line.split_once(" - "))
        .unwrap_or((line, ""));
    let rest = rest.trim();
    (
        name.trim().to_string(),
        (!rest.is_empty()).then(|| rest.to_string()),
    )
}

fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

async fn ledger(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    CsrfForm(form): CsrfForm<LedgerForm>,
) -> Result<HttpResponse, AppError> {
    let learned = Ledger {
        characters: lines(&form.characters)
            .map(|l| {
                let (name, role) = split_line(l);
                Character {
                    name,
                    role: role.unwrap_or_default(),
                    description: None,
                }
            })
            .collect(),
        places: lines(&form.places)
            .map(|l| {
                let (name, description) = split_line(l);
                Place { name, description }
            })
            .collect(),
        facts: lines(&form.facts).map(str::to_string).collect(),
    };
    state.books.update_ledger(&user, &id, learned).await?;
    Ok(see_other(&format!("/books/{id}/read#ledger")))
}

/// The ledger as the form shows it (what `ledger` parses back).
pub fn ledger_lines(l: &Ledger) -> (String, String, String) {
    let join = |v: Vec<String>| v.join("\n");
    (
        join(
            l.characters
                .iter()
                .map(|c| {
                    let more = c.description.as_deref().map_or(c.role.clone(), |d| {
                        if c.role.is_empty() {
                            d.to_string()
                        } else {
                            format!("{}: {d}", c.role)
                        }
                    });
                    if more.is_empty() {
                        c.name.clone()
                    } else {
                        format!("{} — {more}", c.name)
                    }
                })
                .collect(),
        ),
        join(
            l.places
                .iter()
                .map(|p| match &p.description {
                    Some(d) => format!("{} — {d}", p.name),
                    None => p.name.clone(),
                })
                .collect(),
        ),
        join(l.facts.clone()),
    )
}
