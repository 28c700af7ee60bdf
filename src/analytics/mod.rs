//! Analytics: time series of what Buko records, for operators (`/admin/analytics`) and for each author
//! (`/usage`, `GET /api/v1/usage/history`). This module owns the rules — which ranges and zones are
//! accepted, how slots become buckets, how series merge — and the periodic roll-up; SQL lives in
//! `db::repo::analytics`, and the doors (`web::admin::analytics`, `web::usage`, `web::api_v1::usage`)
//! only translate. See docs/ARCHITECTURE.md § "Analytics" for why a roll-up table.

pub mod author;
pub mod buckets;
pub mod rollup;
pub mod series;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::db::{repo, DbConn, DbError};
use crate::error::AppError;
pub use buckets::Range;

/// Errors of the analytics use cases.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<AnalyticsError> for AppError {
    fn from(e: AnalyticsError) -> Self {
        match e {
            AnalyticsError::BadInput(m) => AppError::BadRequest(m),
            AnalyticsError::Db(e) => e.into(),
        }
    }
}

/// What a viewer asks for: `range=`, `tz=` (IANA name, e.g. `Europe/Madrid`; UTC when absent) and,
/// for the admin series, `series=` (comma-separated names).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Query {
    pub range: Option<String>,
    pub tz: Option<String>,
    pub series: Option<String>,
}

impl Query {
    /// The range and zone, checked against the ranges a page offers (`default` when absent).
    pub fn parse(&self, allowed: &[Range], default: Range) -> Result<(Range, Tz), AnalyticsError> {
        let range = match self.range.as_deref().map(str::trim) {
            None | Some("") => default,
            Some(s) => Range::parse(s)
                .filter(|r| allowed.contains(r))
                .ok_or_else(|| {
                    let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
                    AnalyticsError::BadInput(format!("range must be one of {}", names.join(", ")))
                })?,
        };
        let tz = buckets::parse_zone(self.tz.as_deref().unwrap_or(""))
            .ok_or_else(|| AnalyticsError::BadInput("tz must be an IANA time zone name".into()))?;
        Ok((range, tz))
    }
}

/// The admin report of `range` in `tz` at `now`: every asked series per bucket, with totals.
pub fn admin_report(
    conn: &mut DbConn,
    range: Range,
    tz: Tz,
    series: Option<&str>,
    now: DateTime<Utc>,
) -> Result<series::Report, AnalyticsError> {
    let defs = series::select(series)
        .map_err(|name| AnalyticsError::BadInput(format!("unknown series: {name}")))?;
    let edges = buckets::edges(range, tz, now);
    let width = range.slot_width();
    let rows = repo::analytics::points(conn, width, edges.from(), edges.to())?;
    let recent: Vec<_> = rollup::recent(conn, now.timestamp())?
        .into_iter()
        .filter(|r| i64::from(r.width_secs) == width)
        .collect();
    Ok(series::build(range, tz, &edges, &defs, &rows, recent))
}
