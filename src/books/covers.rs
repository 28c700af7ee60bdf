//! The cover use cases: read the editor's state, save a design (rendered on the server with the
//! bundled fonts), upload art, start an art generation (a job on the `cover` queue), and serve the
//! cover and candidates. Every book has a cover: the first read renders a default one from offline art
//! with the book's palette. Nothing here changes the stored cover unless a new one rendered: a refused
//! upload or a failed generation leaves the previous cover in place.

use crate::db::ids::BookId;
use buko_export::cover::{self as render, CoverDesign, FontFamily, Rgb, Template};
use serde::Serialize;

use super::{BookError, BookService};
use crate::db;
use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::db::repo::covers::{self, CoverRow};
use crate::queue::{enqueue, JobPayload, NewJob};

/// Longest art prompt accepted.
pub const MAX_PROMPT_CHARS: usize = 2000;
/// Longest title, subtitle or author line accepted.
pub const MAX_COVER_TEXT_CHARS: usize = 200;
/// Most candidates one generation makes, whatever the plan says.
pub const MAX_CANDIDATES: u32 = 8;

/// What the editor shows.
#[derive(Clone, Debug, Serialize)]
pub struct CoverView {
    pub design: CoverDesign,
    pub prompt: String,
    pub art_id: Option<String>,
    pub art: Vec<ArtView>,
    /// `idle`, `generating` or `failed`.
    pub status: String,
    /// Why the last generation failed (the previous cover stays).
    pub last_error: Option<String>,
    /// Grows with every saved cover.
    pub version: i32,
    /// Candidates one generation makes on the author's plan.
    pub candidates_per_generation: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct ArtView {
    pub id: String,
    /// `offline`, `openai` or `upload`.
    pub source: String,
}

/// A design change: each field replaces the saved one when given.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct CoverInput {
    pub template: Option<String>,
    pub font: Option<String>,
    pub title: Option<String>,
    pub subtitle: Option<String>,
    pub author: Option<String>,
    pub background: Option<String>,
    pub text: Option<String>,
    pub accent: Option<String>,
    /// A candidate's id; empty for no art.
    pub art_id: Option<String>,
}

/// The design `input` makes of `base`, or the field that is wrong.
pub fn apply_input(mut d: CoverDesign, input: &CoverInput) -> Result<CoverDesign, BookError> {
    if let Some(t) = &input.template {
        d.template = Template::parse(t.trim())
            .ok_or_else(|| BookError::invalid("template", "unknown cover layout"))?;
    }
    if let Some(f) = &input.font {
        d.font = FontFamily::parse(f.trim())
            .ok_or_else(|| BookError::invalid("font", "unknown font family"))?;
    }
    for (field, value, slot) in [
        ("title", &input.title, &mut d.title),
        ("subtitle", &input.subtitle, &mut d.subtitle),
        ("author", &input.author, &mut d.author),
    ] {
        if let Some(v) = value {
            let v = v.trim();
            if v.chars().count() > MAX_COVER_TEXT_CHARS {
                return Err(BookError::invalid(
                    field,
                    format!("at most {MAX_COVER_TEXT_CHARS} characters"),
                ));
            }
            if v.chars().any(|c| c.is_control()) {
                return Err(BookError::invalid(field, "contains control characters"));
            }
            *slot = v.to_string();
        }
    }
    for (field, value, slot) in [
        ("background", &input.background, &mut d.background),
        ("text", &input.text, &mut d.text),
        ("accent", &input.accent, &mut d.accent),
    ] {
        if let Some(v) = value {
            *slot =
                Rgb::parse(v).ok_or_else(|| BookError::invalid(field, "not a #rrggbb colour"))?;
        }
    }
    Ok(d)
}

/// The validated art prompt.
pub fn validate_prompt(prompt: &str) -> Result<String, BookError> {
    let p = prompt.trim();
    if p.is_empty() {
        return Err(BookError::invalid("prompt", "the prompt is empty"));
    }
    if p.chars().count() > MAX_PROMPT_CHARS {
        return Err(BookError::invalid(
            "prompt",
            format!("the prompt is longer than {MAX_PROMPT_CHARS} characters"),
        ));
    }
    Ok(p.to_string())
}

/// The first design of a book: its title, subtitle and author, the palette of its genre and tone.
pub fn default_design(book: &Book, owner_name: &str) -> CoverDesign {
    let arch = book.architecture().unwrap_or_default();
    let title = if book.title.trim().is_empty() {
        arch.title.clone()
    } else {
        book.title.clone()
    };
    let author = if book.pen_name.trim().is_empty() {
        owner_name
    } else {
        &book.pen_name
    };
    let [ground, _, accent] = render::art::palette(&book.id, &book.genre, &book.tone);
    let light = u32::from(ground.0) * 3 + u32::from(ground.1) * 6 + u32::from(ground.2) > 1400;
    CoverDesign {
        template: Template::Band,
        font: FontFamily::Serif,
        title: clip(&title, MAX_COVER_TEXT_CHARS),
        subtitle: clip(&arch.subtitle, MAX_COVER_TEXT_CHARS),
        author: clip(author, MAX_COVER_TEXT_CHARS),
        background: ground,
        text: if light {
            Rgb(24, 24, 28)
        } else {
            Rgb(250, 246, 236)
        },
        accent,
    }
}

/// The art prompt drafted from the synopsis (the author edits it before generating).
pub fn default_prompt(book: &Book) -> String {
    let arch = book.architecture().unwrap_or_default();
    let about = if arch.synopsis.trim().is_empty() {
        book.idea.trim()
    } else {
        arch.synopsis.trim()
    };
    let p = format!(
        "Cover illustration for a {genre} book, {tone} mood, portrait format, no text or lettering. {about}",
        genre = if book.genre.is_empty() { "fiction" } else { &book.genre },
        tone = if book.tone.is_empty() { "evocative" } else { &book.tone },
    );
    clip(&p, 900)
}

fn clip(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

fn design_of(row: &CoverRow, book: &Book) -> CoverDesign {
    serde_json::from_str(&row.design).unwrap_or_else(|_| default_design(book, ""))
}

/// Renders `design` over the stored art `art_id` on the blocking pool.
async fn render_with_art(
    svc: &BookService,
    book_id: &str,
    design: CoverDesign,
    art_id: Option<String>,
) -> Result<render::RenderedCover, BookError> {
    let art = match &art_id {
        Some(a) => {
            let (b, a) = (book_id.to_string(), a.clone());
            let bytes = db::run(&svc.db, move |c| covers::art_image(c, &b, &a, false)).await?;
            Some(bytes.ok_or_else(|| BookError::invalid("art_id", "no such cover art"))?)
        }
        None => None,
    };
    actix_web::web::block(move || {
        let art = art
            .map(|b| render::decode(&b))
            .transpose()
            .map_err(|e| e.to_string())?;
        render::render(&design, art.as_ref())
    })
    .await
    .map_err(|e| BookError::Render(e.to_string()))?
    .map_err(BookError::Render)
}

impl BookService {
    /// The cover row of a book, created (and a first cover rendered from offline art) on first use —
    /// once the book has an architecture, whose title, subtitle and synopsis the first design uses.
    async fn cover_row(&self, book: &Book) -> Result<CoverRow, BookError> {
        if book.architecture.is_none() {
            return Err(BookError::WrongStatus {
                action: "design the cover of",
                status: book.status(),
            });
        }
        let id = book.id.clone();
        if let Some(row) = db::run(&self.db, move |c| covers::find(c, &id)).await? {
            if row.version > 0 {
                return Ok(row);
            }
        }
        let (id, uid) = (book.id.clone(), book.user_id.clone());
        let owner = db::run(&self.db, move |c| covers::owner_name(c, &uid)).await?;
        let design = default_design(book, &owner);
        let json = serde_json::to_string(&design).unwrap_or_default();
        let prompt = default_prompt(book);
        db::run(&self.db, move |c| covers::ensure(c, &id, &json, &prompt)).await?;
        let request = crate::images::ImageRequest {
            prompt: String::new(),
            seed: format!("{}#0", book.id),
            genre: book.genre.clone(),
            tone: book.tone.clone(),
        };
        let art = actix_web::web::block(move || {
            let jpeg = crate::images::offline::draw(&request)?;
            let img = render::decode(&jpeg).ok()?;
            let thumb = render::thumbnail_jpeg(&img);
            Some((jpeg, thumb))
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| BookError::Render("drawing the first cover art failed".into()))?;
        let id = book.id.clone();
        let art_id = db::run(&self.db, move |c| {
            covers::add_art(c, &id, "offline", &art.0, &art.1)
        })
        .await?;
        self.store_rendered(book, design, Some(art_id), true)
            .await?;
        let id = book.id.clone();
        db::run(&self.db, move |c| covers::find(c, &id))
            .await?
            .ok_or(BookError::NotFound)
    }

    async fn store_rendered(
        &self,
        book: &Book,
        design: CoverDesign,
        art_id: Option<String>,
        first: bool,
    ) -> Result<i32, BookError> {
        let rendered = render_with_art(self, &book.id, design.clone(), art_id.clone()).await?;
        let (id, json) = (
            book.id.clone(),
            serde_json::to_string(&design).unwrap_or_default(),
        );
        Ok(db::run(&self.db, move |c| {
            covers::save_rendered(
                c,
                &id,
                &json,
                art_id.as_deref(),
                (&rendered.jpeg, &rendered.thumb),
                first,
            )
        })
        .await?)
    }

    /// The editor's state.
    pub async fn cover(&self, user: &User, id: &BookId) -> Result<CoverView, BookError> {
        let book = self.get(user, id).await?;
        let row = self.cover_row(&book).await?;
        let (bid, uid) = (book.id.clone(), book.user_id.clone());
        let (art, plan) = db::run(&self.db, move |c| {
            Ok((
                covers::list_art(c, &bid)?,
                crate::billing::plan::effective_plan(c, &uid)?,
            ))
        })
        .await?;
        Ok(CoverView {
            design: design_of(&row, &book),
            prompt: row.prompt,
            art_id: row.art_id,
            art: art
                .into_iter()
                .map(|a| ArtView {
                    id: a.id,
                    source: a.source,
                })
                .collect(),
            status: row.status,
            last_error: row.last_error,
            version: row.version,
            candidates_per_generation: candidates(plan.cover_candidates),
        })
    }

    /// The rendered cover (JPEG) or its thumbnail, with its version.
    pub async fn cover_image(
        &self,
        user: &User,
        id: &BookId,
        thumb: bool,
    ) -> Result<(Vec<u8>, i32), BookError> {
        let book = self.get(user, id).await?;
        self.cover_row(&book).await?;
        let id = book.id.clone();
        db::run(&self.db, move |c| covers::image(c, &id, thumb))
            .await?
            .ok_or(BookError::NotFound)
    }

    /// A candidate's image (`thumb`: small).
    pub async fn cover_art_image(
        &self,
        user: &User,
        id: &BookId,
        art_id: &str,
        thumb: bool,
    ) -> Result<Vec<u8>, BookError> {
        let book = self.get(user, id).await?;
        let (id, art) = (book.id, art_id.to_string());
        db::run(&self.db, move |c| covers::art_image(c, &id, &art, thumb))
            .await?
            .ok_or(BookError::NotFound)
    }

    /// Saves a design (and chosen art): renders it and stores the new cover.
    pub async fn save_cover(
        &self,
        user: &User,
        id: &BookId,
        input: &CoverInput,
    ) -> Result<CoverView, BookError> {
        let book = self.get(user, id).await?;
        let row = self.cover_row(&book).await?;
        let design = apply_input(design_of(&row, &book), input)?;
        let art_id = match input.art_id.as_deref().map(str::trim) {
            None => row.art_id.clone(),
            Some("") => None,
            Some(a) => Some(a.to_string()),
        };
        self.store_rendered(&book, design, art_id, false).await?;
        self.cover(user, id).await
    }

    /// The design with `input` applied, rendered but not saved (the editor's live preview): a
    /// thumbnail-sized JPEG.
    pub async fn preview_cover(
        &self,
        user: &User,
        id: &BookId,
        input: &CoverInput,
    ) -> Result<Vec<u8>, BookError> {
        let book = self.get(user, id).await?;
        let row = self.cover_row(&book).await?;
        let design = apply_input(design_of(&row, &book), input)?;
        let art_id = match input.art_id.as_deref().map(str::trim) {
            None => row.art_id.clone(),
            Some("") => None,
            Some(a) => Some(a.to_string()),
        };
        Ok(render_with_art(self, &book.id, design, art_id).await?.thumb)
    }

    /// An uploaded image becomes a candidate (decoded and re-encoded here; what was sent is never
    /// stored) and the chosen art of a newly rendered cover.
    pub async fn upload_cover_art(
        &self,
        user: &User,
        id: &BookId,
        bytes: Vec<u8>,
    ) -> Result<CoverView, BookError> {
        let book = self.get(user, id).await?;
        let row = self.cover_row(&book).await?;
        let (jpeg, thumb) = actix_web::web::block(move || {
            let img = render::decode(&bytes)?;
            Ok::<_, render::ImageInputError>(render::reencode(&img))
        })
        .await
        .map_err(|e| BookError::Render(e.to_string()))?
        .map_err(|e| BookError::invalid("image", e.to_string()))?;
        let bid = book.id.clone();
        let art_id = db::run(&self.db, move |c| {
            covers::add_art(c, &bid, "upload", &jpeg, &thumb)
        })
        .await?;
        self.store_rendered(&book, design_of(&row, &book), Some(art_id), false)
            .await?;
        self.cover(user, id).await
    }

    /// Starts generating candidates from `prompt` (the saved one when `None`): a job on the `cover`
    /// queue. One generation per book at a time.
    pub async fn generate_cover_art(
        &self,
        user: &User,
        id: &BookId,
        prompt: Option<&str>,
    ) -> Result<CoverView, BookError> {
        let book = self.get(user, id).await?;
        let row = self.cover_row(&book).await?;
        let prompt = validate_prompt(prompt.unwrap_or(&row.prompt))?;
        let (bid, uid) = (book.id.clone(), book.user_id.clone());
        let started = db::run(&self.db, move |c| {
            crate::db::write_tx(c, |c| {
                let count =
                    candidates(crate::billing::plan::effective_plan(c, &uid)?.cover_candidates);
                if !covers::start_generating(c, &bid, &prompt)? {
                    return Ok(false);
                }
                let mut job = NewJob::now(JobPayload::CoverArt {
                    book_id: bid.to_string(),
                    count,
                });
                job.max_attempts = 4;
                enqueue(c, job)?;
                Ok(true)
            })
        })
        .await?;
        if !started {
            return Err(BookError::Busy(
                "cover art is already being generated for this book",
            ));
        }
        self.cover(user, id).await
    }
}

fn candidates(plan: i32) -> u32 {
    (plan.max(1) as u32).min(MAX_CANDIDATES)
}
