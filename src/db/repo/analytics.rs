//! SQL of the analytics time series: aggregates of the source tables (`llm_calls`, `books`, `chunks`,
//! `events`, `users`) per fixed UTC slot, the `metrics_rollup` table that keeps them, and one author's
//! own figures. The slot expression is the only dialect-specific piece: epoch seconds floored to the
//! slot width, written once per backend in [`slot_expr`]. Time zones and bucket edges are the use
//! case's business (`crate::analytics`); this module only speaks UTC slots.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text, Timestamp};

use crate::db::schema::{jobs, metrics_rollup};
use crate::db::{Backend, DbConn, DbError};

/// Upper edges (exclusive, ms) of the latency histogram bins; a last bin holds everything above.
/// Steps of at most 1.34× keep a percentile read from the histogram within that factor.
pub const LATENCY_EDGES_MS: [i64; 40] = [
    10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300, 400, 500, 600, 800, 1_000,
    1_250, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000, 6_000, 8_000, 10_000, 12_500, 15_000, 20_000,
    25_000, 30_000, 40_000, 60_000, 90_000, 120_000, 300_000,
];

/// One stored point: `(width_secs, slot, series, dim, value)`; `slot` is epoch seconds.
#[derive(Clone, Debug, PartialEq, Queryable, Insertable, serde::Serialize)]
#[diesel(table_name = metrics_rollup)]
pub struct RollupRow {
    pub width_secs: i32,
    pub slot: i64,
    pub series: String,
    pub dim: String,
    pub value: f64,
}

/// A grouped row of a source table: the slot, a dimension and up to four aggregates.
#[derive(Debug, QueryableByName)]
struct SlotAgg {
    #[diesel(sql_type = BigInt)]
    slot: i64,
    #[diesel(sql_type = Text)]
    dim: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    x: i64,
    #[diesel(sql_type = BigInt)]
    y: i64,
    #[diesel(sql_type = Double)]
    z: f64,
    #[diesel(sql_type = BigInt)]
    w: i64,
}

/// Epoch seconds of `col` floored to `width` seconds, in the connection's dialect.
pub fn slot_expr(backend: Backend, col: &str, width: i64) -> String {
    match backend {
        Backend::Postgres => {
            format!("((CAST(floor(extract(epoch FROM {col})) AS BIGINT) / {width}) * {width})")
        }
        Backend::Sqlite => {
            format!("((CAST(strftime('%s', {col}) AS INTEGER) / {width}) * {width})")
        }
    }
}

fn latency_bin_expr() -> String {
    let mut s = String::from("CASE");
    for (i, edge) in LATENCY_EDGES_MS.iter().enumerate() {
        s.push_str(&format!(" WHEN latency_ms < {edge} THEN {i}"));
    }
    s.push_str(&format!(" ELSE {} END", LATENCY_EDGES_MS.len()));
    s
}

const ZERO_I: &str = "CAST(0 AS BIGINT)";
const ZERO_F: &str = "CAST(0 AS DOUBLE PRECISION)";

/// Runs an aggregate written with `{slot:col}` for the slot of `col`, `$1`/`$2` for the window and an
/// optional `$3` text parameter (SQLite receives them as `?1`, `?2`, `?3`).
fn aggregate(
    conn: &mut DbConn,
    template: &str,
    width: i64,
    window: (NaiveDateTime, NaiveDateTime),
    param: Option<&str>,
) -> Result<Vec<SlotAgg>, DbError> {
    let backend = conn.backend();
    let mut sql = template.to_string();
    while let Some(start) = sql.find("{slot:") {
        let end = start + sql[start..].find('}').unwrap_or(0);
        let col = sql[start + 6..end].to_string();
        sql.replace_range(start..=end, &slot_expr(backend, &col, width));
    }
    let sql = sql
        .replace("{zi}", ZERO_I)
        .replace("{zf}", ZERO_F)
        .replace("{bin}", &latency_bin_expr());
    Ok(match conn {
        DbConn::Pg(c) => {
            let q = diesel::sql_query(sql)
                .bind::<Timestamp, _>(window.0)
                .bind::<Timestamp, _>(window.1);
            match param {
                Some(p) => q.bind::<Text, _>(p.to_string()).load(c)?,
                None => q.load(c)?,
            }
        }
        DbConn::Sqlite(c) => {
            let q = diesel::sql_query(sql.replace('$', "?"))
                .bind::<Timestamp, _>(window.0)
                .bind::<Timestamp, _>(window.1);
            match param {
                Some(p) => q.bind::<Text, _>(p.to_string()).load(c)?,
                None => q.load(c)?,
            }
        }
    })
}

const Q_LLM: &str =
    "SELECT {slot:created_at} AS slot, provider || '/' || model AS dim, count(*) AS n, \
    CAST(sum(input_tokens) AS BIGINT) AS x, CAST(sum(output_tokens) AS BIGINT) AS y, \
    CAST(sum(cost_usd) AS DOUBLE PRECISION) AS z, \
    CAST(sum(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END) AS BIGINT) AS w \
    FROM llm_calls WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2";
const Q_ERRORS: &str = "SELECT {slot:created_at} AS slot, COALESCE(error_kind, 'unknown') AS dim, \
    count(*) AS n, {zi} AS x, {zi} AS y, {zf} AS z, {zi} AS w FROM llm_calls \
    WHERE created_at >= $1 AND created_at < $2 AND status <> 'ok' GROUP BY 1, 2";
const Q_LATENCY: &str = "SELECT {slot:created_at} AS slot, '' AS dim, count(*) AS n, \
    CAST({bin} AS BIGINT) AS x, {zi} AS y, {zf} AS z, {zi} AS w FROM llm_calls \
    WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 4";
const Q_STARTED: &str = "SELECT {slot:created_at} AS slot, '' AS dim, count(*) AS n, {zi} AS x, \
    {zi} AS y, {zf} AS z, {zi} AS w FROM books WHERE created_at >= $1 AND created_at < $2 GROUP BY 1";
const Q_COMPLETED: &str =
    "SELECT {slot:completed_at} AS slot, '' AS dim, count(*) AS n, {zi} AS x, \
    {zi} AS y, {zf} AS z, {zi} AS w FROM books \
    WHERE completed_at >= $1 AND completed_at < $2 GROUP BY 1";
// Status events carry `{"reason":…,"status":"failed"}`; the reason is JSON-escaped, so the pattern can
// only match the status itself.
const Q_FAILED: &str = "SELECT {slot:created_at} AS slot, '' AS dim, count(*) AS n, {zi} AS x, \
    {zi} AS y, {zf} AS z, {zi} AS w FROM events WHERE created_at >= $1 AND created_at < $2 \
    AND kind = 'status' AND data LIKE '%\"status\":\"failed\"%' GROUP BY 1";
const Q_WORDS: &str = "SELECT {slot:created_at} AS slot, '' AS dim, count(*) AS n, \
    CAST(sum(words) AS BIGINT) AS x, {zi} AS y, {zf} AS z, {zi} AS w FROM chunks \
    WHERE created_at >= $1 AND created_at < $2 GROUP BY 1";
const Q_SIGNUPS: &str = "SELECT {slot:created_at} AS slot, '' AS dim, count(*) AS n, {zi} AS x, \
    {zi} AS y, {zf} AS z, {zi} AS w FROM users WHERE created_at >= $1 AND created_at < $2 GROUP BY 1";

/// Series the roll-up computes from the source tables (the rest are gauges the nodes sample).
pub const COMPUTED: [&str; 12] = [
    "llm_calls",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "llm_failed",
    "llm_errors",
    "latency_bin",
    "books_started",
    "books_completed",
    "books_failed",
    "words",
    "signups",
];

/// Every computed series over `window`, per slot of `width` seconds, straight from the source tables.
pub fn compute(
    conn: &mut DbConn,
    width: i64,
    window: (NaiveDateTime, NaiveDateTime),
) -> Result<Vec<RollupRow>, DbError> {
    let w = i32::try_from(width).unwrap_or(i32::MAX);
    let mut out = Vec::new();
    let mut push = |series: &str, slot: i64, dim: String, value: f64| {
        out.push(RollupRow {
            width_secs: w,
            slot,
            series: series.into(),
            dim,
            value,
        })
    };
    for r in aggregate(conn, Q_LLM, width, window, None)? {
        push("llm_calls", r.slot, r.dim.clone(), r.n as f64);
        push("input_tokens", r.slot, r.dim.clone(), r.x as f64);
        push("output_tokens", r.slot, r.dim.clone(), r.y as f64);
        push("cost_usd", r.slot, r.dim.clone(), r.z);
        push("llm_failed", r.slot, r.dim, r.w as f64);
    }
    for r in aggregate(conn, Q_ERRORS, width, window, None)? {
        push("llm_errors", r.slot, r.dim, r.n as f64);
    }
    for r in aggregate(conn, Q_LATENCY, width, window, None)? {
        push("latency_bin", r.slot, r.x.to_string(), r.n as f64);
    }
    for (series, q) in [
        ("books_started", Q_STARTED),
        ("books_completed", Q_COMPLETED),
        ("books_failed", Q_FAILED),
        ("signups", Q_SIGNUPS),
    ] {
        for r in aggregate(conn, q, width, window, None)? {
            push(series, r.slot, r.dim, r.n as f64);
        }
    }
    for r in aggregate(conn, Q_WORDS, width, window, None)? {
        push("words", r.slot, r.dim, r.x as f64);
    }
    Ok(out)
}

/// Replaces the computed series of `width` in `[from_slot, to_slot)` by `rows` (one transaction, so a
/// reader sees the old or the new figures, never a mix).
pub fn replace_computed(
    conn: &mut DbConn,
    width: i64,
    (from_slot, to_slot): (i64, i64),
    rows: &[RollupRow],
) -> Result<(), DbError> {
    let w = i32::try_from(width).unwrap_or(i32::MAX);
    diesel::delete(
        metrics_rollup::table
            .filter(metrics_rollup::width_secs.eq(w))
            .filter(metrics_rollup::slot.ge(from_slot))
            .filter(metrics_rollup::slot.lt(to_slot))
            .filter(metrics_rollup::series.eq_any(COMPUTED)),
    )
    .execute(conn)?;
    insert(conn, rows)
}

fn insert(conn: &mut DbConn, rows: &[RollupRow]) -> Result<(), DbError> {
    // Batch inserts go through the concrete connection (the multi-backend one has no batch form).
    for chunk in rows.chunks(500) {
        let q = diesel::insert_into(metrics_rollup::table).values(chunk);
        match conn {
            DbConn::Pg(c) => q.execute(c)?,
            DbConn::Sqlite(c) => q.execute(c)?,
        };
    }
    Ok(())
}

/// Raises a node's gauge point to `value` if it is higher (a gauge slot keeps the peak it saw).
pub fn record_gauge(conn: &mut DbConn, row: &RollupRow) -> Result<(), DbError> {
    let key = metrics_rollup::table
        .filter(metrics_rollup::width_secs.eq(row.width_secs))
        .filter(metrics_rollup::slot.eq(row.slot))
        .filter(metrics_rollup::series.eq(&row.series))
        .filter(metrics_rollup::dim.eq(&row.dim));
    let old: Option<f64> = key.select(metrics_rollup::value).first(conn).optional()?;
    match old {
        Some(v) if v >= row.value => {}
        Some(_) => {
            diesel::update(key)
                .set(metrics_rollup::value.eq(row.value))
                .execute(conn)?;
        }
        None => insert(conn, std::slice::from_ref(row))?,
    }
    Ok(())
}

/// Stored points of `width` with `from <= slot < to`.
pub fn points(
    conn: &mut DbConn,
    width: i64,
    from: i64,
    to: i64,
) -> Result<Vec<RollupRow>, DbError> {
    let w = i32::try_from(width).unwrap_or(i32::MAX);
    Ok(metrics_rollup::table
        .filter(metrics_rollup::width_secs.eq(w))
        .filter(metrics_rollup::slot.ge(from))
        .filter(metrics_rollup::slot.lt(to))
        .load(conn)?)
}

/// Drops points of `width` older than `before` (the minute points are kept for a short while only).
pub fn prune(conn: &mut DbConn, width: i64, before: i64) -> Result<usize, DbError> {
    let w = i32::try_from(width).unwrap_or(i32::MAX);
    Ok(diesel::delete(
        metrics_rollup::table
            .filter(metrics_rollup::width_secs.eq(w))
            .filter(metrics_rollup::slot.lt(before)),
    )
    .execute(conn)?)
}

const WATERMARK: &str = "_watermark";

/// The end (epoch seconds) of what the roll-up of `width` has covered, if it ran before.
pub fn watermark(conn: &mut DbConn, width: i64) -> Result<Option<i64>, DbError> {
    Ok(metrics_rollup::table
        .filter(metrics_rollup::width_secs.eq(0))
        .filter(metrics_rollup::series.eq(WATERMARK))
        .filter(metrics_rollup::dim.eq(width.to_string()))
        .select(metrics_rollup::slot)
        .first(conn)
        .optional()?)
}

pub fn set_watermark(conn: &mut DbConn, width: i64, at: i64) -> Result<(), DbError> {
    diesel::delete(
        metrics_rollup::table
            .filter(metrics_rollup::width_secs.eq(0))
            .filter(metrics_rollup::series.eq(WATERMARK))
            .filter(metrics_rollup::dim.eq(width.to_string())),
    )
    .execute(conn)?;
    insert(
        conn,
        &[RollupRow {
            width_secs: 0,
            slot: at,
            series: WATERMARK.into(),
            dim: width.to_string(),
            value: 0.0,
        }],
    )
}

/// The earliest time any source table records (where a first roll-up starts).
pub fn earliest(conn: &mut DbConn) -> Result<Option<NaiveDateTime>, DbError> {
    use crate::db::schema::{books, chunks, events, llm_calls, users};
    use diesel::dsl::min;
    let candidates: [Option<NaiveDateTime>; 5] = [
        llm_calls::table
            .select(min(llm_calls::created_at))
            .first(conn)?,
        books::table.select(min(books::created_at)).first(conn)?,
        chunks::table.select(min(chunks::created_at)).first(conn)?,
        events::table.select(min(events::created_at)).first(conn)?,
        users::table.select(min(users::created_at)).first(conn)?,
    ];
    Ok(candidates.into_iter().flatten().min())
}

/// Takes the roll-up's lock for the current transaction: `false` when another node holds it
/// (PostgreSQL advisory lock; SQLite serializes writers by itself, so always `true`).
pub fn try_lock(conn: &mut DbConn) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    match conn {
        DbConn::Pg(c) => {
            let r: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock(16016) AS locked")
                .get_result(c)?;
            Ok(r.locked)
        }
        DbConn::Sqlite(_) => Ok(true),
    }
}

/// Per queue: jobs waiting now and the age (s) of the oldest one that is due.
pub fn queue_backlog(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<Vec<(String, i64, Option<NaiveDateTime>)>, DbError> {
    use diesel::dsl::{count_star, min};
    Ok(jobs::table
        .filter(jobs::status.eq("queued"))
        .filter(jobs::run_at.le(now))
        .group_by(jobs::queue)
        .select((jobs::queue, count_star(), min(jobs::run_at)))
        .load(conn)?)
}

/// One author's LLM usage in one slot and book: `(slot, book_id, input, output, cost, cached input)`;
/// input is every token not read from the prompt cache (cache writes included).
pub type AuthorCalls = (i64, String, i64, i64, f64, i64);

/// One author's LLM usage per slot and book.
pub fn author_calls(
    conn: &mut DbConn,
    user_id: &str,
    width: i64,
    window: (NaiveDateTime, NaiveDateTime),
) -> Result<Vec<AuthorCalls>, DbError> {
    const Q: &str =
        "SELECT {slot:created_at} AS slot, COALESCE(book_id, '') AS dim, count(*) AS n, \
        CAST(sum(input_tokens + cache_creation_tokens) AS BIGINT) AS x, \
        CAST(sum(output_tokens) AS BIGINT) AS y, \
        CAST(sum(cost_usd) AS DOUBLE PRECISION) AS z, CAST(sum(cache_read_tokens) AS BIGINT) AS w \
        FROM llm_calls \
        WHERE created_at >= $1 AND created_at < $2 AND user_id = $3 GROUP BY 1, 2";
    Ok(aggregate(conn, Q, width, window, Some(user_id))?
        .into_iter()
        .map(|r| (r.slot, r.dim, r.x, r.y, r.z, r.w))
        .collect())
}

/// One author's words written per slot (chunks of their books).
pub fn author_words(
    conn: &mut DbConn,
    user_id: &str,
    width: i64,
    window: (NaiveDateTime, NaiveDateTime),
) -> Result<Vec<(i64, i64)>, DbError> {
    const Q: &str = "SELECT {slot:c.created_at} AS slot, '' AS dim, count(*) AS n, \
        CAST(sum(c.words) AS BIGINT) AS x, {zi} AS y, {zf} AS z, {zi} AS w \
        FROM chunks c JOIN books b ON b.id = c.book_id \
        WHERE c.created_at >= $1 AND c.created_at < $2 AND b.user_id = $3 GROUP BY 1";
    Ok(aggregate(conn, Q, width, window, Some(user_id))?
        .into_iter()
        .map(|r| (r.slot, r.x))
        .collect())
}
