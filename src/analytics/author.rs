//! One author's history: words written and books finished per local day, tokens and cost per day,
//! per month (the last 12 local months) and per book, and how long books took to finish. Computed from
//! the source tables filtered by the author (their rows are few, and always current); it reads only the
//! author's own books and calls, so nobody else's work can appear in it.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::buckets::{self, Bucket, Range};
use super::AnalyticsError;
use crate::db::repo::{self, analytics as sql};
use crate::db::DbConn;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Usage {
    pub words: i64,
    pub books_completed: i64,
    /// Input not read from the prompt cache (cache writes included).
    pub input_tokens: i64,
    /// Input read from the prompt cache (billed at the cache-read rate).
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

impl Usage {
    fn add_call(&mut self, input: i64, cached: i64, output: i64, cost: f64) {
        self.input_tokens += input;
        self.cached_input_tokens += cached;
        self.output_tokens += output;
        self.cost_usd += cost;
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Month {
    /// `YYYY-MM` in the viewer's zone.
    pub month: String,
    #[serde(flatten)]
    pub usage: Usage,
}

#[derive(Clone, Debug, Serialize)]
pub struct BookUsage {
    pub id: String,
    pub title: String,
    pub status: buko_actors::BookStatus,
    pub words: i64,
    /// Input not read from the prompt cache (cache writes included).
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// From the idea to the finished book.
    pub time_to_finish_secs: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct History {
    pub range: Range,
    pub tz: String,
    pub bucket: Bucket,
    /// Day starts (epoch seconds); `end` closes the last day.
    pub t: Vec<i64>,
    pub end: i64,
    pub days: Vec<Usage>,
    pub totals: Usage,
    /// Mean time to finish of the books finished in the range.
    pub avg_time_to_finish_secs: Option<i64>,
    pub months: Vec<Month>,
    pub books: Vec<BookUsage>,
}

/// The most recent books listed per author.
const MAX_BOOKS: usize = 500;

fn ts(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

fn naive(t: i64) -> NaiveDateTime {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .naive_utc()
}

pub fn history(
    conn: &mut DbConn,
    user_id: &str,
    range: Range,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<History, AnalyticsError> {
    let days = buckets::edges(range, tz, now);
    let month_edges: Vec<(String, i64)> = (0..12)
        .rev()
        .map(|back| {
            let (day, start) = buckets::month_start(tz, now, back);
            (day.format("%Y-%m").to_string(), start)
        })
        .collect();
    let from = days.from().min(month_edges[0].1);
    let window = (naive(from), naive(days.to().max(now.timestamp() + 1)));
    let calls = sql::author_calls(conn, user_id, 900, window)?;
    let words = sql::author_words(conn, user_id, 900, window)?;
    let books = repo::books::list_for_user(conn, user_id)?;

    let n = days.starts().len();
    let mut per_day = vec![Usage::default(); n];
    let mut per_month: Vec<Usage> = vec![Usage::default(); month_edges.len()];
    let month_of = |t: i64| month_edges.iter().rposition(|(_, start)| *start <= t);
    for (slot, _book, input, output, cost, cached) in &calls {
        if let Some(i) = days.index(*slot) {
            per_day[i].add_call(*input, *cached, *output, *cost);
        }
        if let Some(m) = month_of(*slot) {
            per_month[m].add_call(*input, *cached, *output, *cost);
        }
    }
    for (slot, w) in &words {
        if let Some(i) = days.index(*slot) {
            per_day[i].words += w;
        }
        if let Some(m) = month_of(*slot) {
            per_month[m].words += w;
        }
    }
    let mut finish_times = Vec::new();
    for b in &books {
        let Some(done) = b.completed_at.map(ts) else {
            continue;
        };
        if let Some(i) = days.index(done) {
            per_day[i].books_completed += 1;
            finish_times.push(done - ts(b.created_at));
        }
        if let Some(m) = month_of(done) {
            per_month[m].books_completed += 1;
        }
    }
    let mut totals = Usage::default();
    for d in &per_day {
        totals.words += d.words;
        totals.books_completed += d.books_completed;
        totals.add_call(
            d.input_tokens,
            d.cached_input_tokens,
            d.output_tokens,
            d.cost_usd,
        );
    }
    let avg_time_to_finish_secs = (!finish_times.is_empty())
        .then(|| finish_times.iter().sum::<i64>() / finish_times.len() as i64);
    Ok(History {
        range,
        tz: tz.name().to_string(),
        bucket: range.bucket(),
        t: days.starts().to_vec(),
        end: days.to(),
        days: per_day,
        totals,
        avg_time_to_finish_secs,
        months: month_edges
            .into_iter()
            .zip(per_month)
            .map(|((month, _), usage)| Month { month, usage })
            .collect(),
        books: books
            .into_iter()
            .take(MAX_BOOKS)
            .map(|b| BookUsage {
                time_to_finish_secs: b.completed_at.map(|c| ts(c) - ts(b.created_at)),
                title: b.display_title().to_string(),
                id: b.id.into(),
                status: b.status,
                words: b.words,
                input_tokens: b.input_tokens + b.cache_creation_tokens,
                cached_input_tokens: b.cache_read_tokens,
                output_tokens: b.output_tokens,
                cost_usd: b.cost_usd,
                created_at: Utc.from_utc_datetime(&b.created_at),
                completed_at: b.completed_at.map(|c| Utc.from_utc_datetime(&c)),
            })
            .collect(),
    })
}
