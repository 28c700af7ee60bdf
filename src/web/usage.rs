//! `/usage`: the signed-in author's own history (words per day, books finished, tokens and cost per
//! day, month and book, time to finish), rendered server-side with numbers in the page's language; the
//! chart is drawn by `static/usage.js` from the figures embedded in the page. The same use case
//! answers `GET /api/v1/usage/history`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;

use crate::analytics::{self, author::History, Query, Range};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::html;
use crate::web::session::{CurrentUser, PageCtx};
use buko_lang::Language;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/usage", web::get().to(page));
}

#[derive(Template)]
#[template(path = "usage.html")]
struct UsagePage {
    page: PageCtx,
    h: History,
    ranges: [&'static str; 4],
    /// The daily figures for the chart, as JSON (escaped into an attribute).
    chart: String,
}

impl UsagePage {
    fn loc(&self) -> Language {
        self.page.t.locale()
    }
    pub fn int(&self, n: &i64) -> String {
        int(self.loc(), *n)
    }
    pub fn usd(&self, x: &f64) -> String {
        usd(self.loc(), *x)
    }
    pub fn duration(&self, secs: &Option<i64>) -> String {
        secs.map_or_else(|| "–".into(), duration)
    }
}

/// An integer with the locale's thousands separator (`12,345` / `12.345`).
pub fn int(locale: Language, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = if locale == Language::Es { '.' } else { ',' };
    // Spanish groups only numbers of five digits or more (as `Intl.NumberFormat("es")` does).
    let group = locale == Language::En || digits.len() > 4;
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if group && i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// US dollars with four decimals (costs per book are small), in the locale's notation.
pub fn usd(locale: Language, x: f64) -> String {
    let cents = (x * 10_000.0).round() as i64;
    let (whole, frac) = (cents / 10_000, (cents % 10_000).abs());
    match locale {
        Language::Es => format!("{},{frac:04} US$", int(locale, whole)),
        Language::En => format!("${}.{frac:04}", int(locale, whole)),
    }
}

/// `2 h 05 min` / `3 min 20 s`.
pub fn duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else {
        format!("{m} min {s:02} s")
    }
}

async fn page(
    CurrentUser(user): CurrentUser,
    page: PageCtx,
    state: web::Data<AppState>,
    q: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    let (range, tz) = q.parse(&Range::AUTHOR, Range::Month)?;
    let h = db::run(&state.db, move |c| {
        Ok(analytics::author::history(
            c,
            &user.id,
            range,
            tz,
            Utc::now(),
        ))
    })
    .await??;
    let chart = serde_json::json!({
        "t": h.t,
        "words": h.days.iter().map(|d| d.words).collect::<Vec<_>>(),
        "books_completed": h.days.iter().map(|d| d.books_completed).collect::<Vec<_>>(),
        "cost_usd": h.days.iter().map(|d| d.cost_usd).collect::<Vec<_>>(),
    })
    .to_string();
    html(
        StatusCode::OK,
        &UsagePage {
            page,
            h,
            ranges: Range::AUTHOR.map(Range::as_str),
            chart,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_locale() {
        assert_eq!(int(Language::En, 1_234_567), "1,234,567");
        assert_eq!(int(Language::Es, 1_234_567), "1.234.567");
        assert_eq!(int(Language::Es, -999), "-999");
        assert_eq!(int(Language::Es, 1234), "1234");
        assert_eq!(usd(Language::En, 1234.5), "$1,234.5000");
        assert_eq!(usd(Language::Es, 0.0123), "0,0123 US$");
        assert_eq!(duration(7500), "2 h 05 min");
    }
}
