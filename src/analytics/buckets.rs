//! Bucket edges of a range in the viewer's time zone. A range is cut into minutes (1 h), hours (24 h,
//! 7 d) or local days (30 d and longer); edges are UTC instants (epoch seconds), so a day across a DST
//! change is 23 or 25 hours long. Every zone's offset is a multiple of 15 minutes, so every edge falls
//! on a 15-minute roll-up slot and a slot belongs to exactly one bucket.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// The ranges the pages offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Range {
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
    #[serde(rename = "90d")]
    Quarter,
    #[serde(rename = "365d")]
    Year,
}

impl Range {
    pub const ADMIN: [Range; 4] = [Range::Hour, Range::Day, Range::Week, Range::Month];
    pub const AUTHOR: [Range; 4] = [Range::Week, Range::Month, Range::Quarter, Range::Year];

    pub fn parse(s: &str) -> Option<Range> {
        Some(match s {
            "1h" => Range::Hour,
            "24h" => Range::Day,
            "7d" => Range::Week,
            "30d" => Range::Month,
            "90d" => Range::Quarter,
            "365d" => Range::Year,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
            Range::Quarter => "90d",
            Range::Year => "365d",
        }
    }

    pub fn bucket(self) -> Bucket {
        match self {
            Range::Hour => Bucket::Minute,
            Range::Day | Range::Week => Bucket::Hour,
            Range::Month | Range::Quarter | Range::Year => Bucket::Day,
        }
    }

    fn buckets(self) -> i64 {
        match self {
            Range::Hour => 60,
            Range::Day => 24,
            Range::Week => 168,
            Range::Month => 30,
            Range::Quarter => 90,
            Range::Year => 365,
        }
    }

    /// Width (s) of the stored slots a range reads: minutes for the last hour, quarter hours else.
    pub fn slot_width(self) -> i64 {
        match self {
            Range::Hour => 60,
            _ => 900,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Minute,
    Hour,
    Day,
}

/// Parses an IANA zone name (`Europe/Madrid`); empty means UTC.
pub fn parse_zone(s: &str) -> Option<Tz> {
    let s = s.trim();
    if s.is_empty() {
        return Some(Tz::UTC);
    }
    s.parse::<Tz>().ok()
}

/// The bucket edges: `edges[i]..edges[i+1]` is bucket `i`; the last edge is the end of the current
/// bucket (in the future), `upcoming` are the starts of the next buckets, so a live page can append
/// points without asking the server again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Edges {
    pub edges: Vec<i64>,
    pub upcoming: Vec<i64>,
}

impl Edges {
    pub fn starts(&self) -> &[i64] {
        &self.edges[..self.edges.len().saturating_sub(1)]
    }

    pub fn from(&self) -> i64 {
        self.edges.first().copied().unwrap_or(0)
    }

    pub fn to(&self) -> i64 {
        self.edges.last().copied().unwrap_or(0)
    }

    /// The bucket a slot starting at `t` falls in.
    pub fn index(&self, t: i64) -> Option<usize> {
        if t < self.from() || t >= self.to() {
            return None;
        }
        Some(self.edges.partition_point(|e| *e <= t) - 1)
    }
}

/// Edges of `range` ending with the bucket that holds `now`, in `tz`.
pub fn edges(range: Range, tz: Tz, now: DateTime<Utc>) -> Edges {
    let n = range.buckets();
    let t = now.timestamp();
    match range.bucket() {
        Bucket::Minute => fixed(t - t.rem_euclid(60), 60, n, 60),
        Bucket::Hour => {
            // Local hours start where UTC + offset is a whole hour; DST moves offsets by whole hours,
            // so the hour grid stays 3600 s apart.
            let offset = tz
                .offset_from_utc_datetime(&now.naive_utc())
                .fix()
                .local_minus_utc() as i64;
            let start = t - (t + offset).rem_euclid(3600);
            fixed(start, 3600, n, 24)
        }
        Bucket::Day => {
            let today = now.with_timezone(&tz).date_naive();
            let days: Vec<i64> = (-(n - 1)..=3)
                .map(|d| local_midnight(tz, today + Duration::days(d)))
                .collect();
            let split = usize::try_from(n + 1).unwrap_or(0).min(days.len());
            Edges {
                edges: days[..split].to_vec(),
                upcoming: days[split..].to_vec(),
            }
        }
    }
}

fn fixed(current: i64, width: i64, n: i64, ahead: i64) -> Edges {
    let first = current - (n - 1) * width;
    Edges {
        edges: (0..=n).map(|i| first + i * width).collect(),
        upcoming: (1..=ahead).map(|i| current + i * width).collect(),
    }
}

/// The first instant of a local day (midnight, or the first hour after a gap at midnight).
pub fn local_midnight(tz: Tz, day: NaiveDate) -> i64 {
    (0..24)
        .find_map(|h| {
            day.and_hms_opt(h, 0, 0)
                .and_then(|t| tz.from_local_datetime(&t).earliest())
        })
        .map_or_else(
            || day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp(),
            |t| t.timestamp(),
        )
}

/// Start of the local month `back` months before the one holding `now`.
pub fn month_start(tz: Tz, now: DateTime<Utc>, back: u32) -> (NaiveDate, i64) {
    let local = now.with_timezone(&tz).date_naive();
    let months = local.year() * 12 + local.month0() as i32 - back as i32;
    let day = NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(local);
    (day, local_midnight(tz, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn days_across_a_dst_change_are_23_or_25_hours() {
        let tz = parse_zone("Europe/Madrid").expect("zone");
        // 2026-03-29: clocks go 02:00 → 03:00 in Madrid.
        let e = edges(Range::Month, tz, at("2026-04-10T12:00:00Z"));
        assert_eq!(e.edges.len(), 31);
        let lens: Vec<i64> = e.edges.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(lens.iter().filter(|l| **l == 23 * 3600).count(), 1);
        assert!(lens.iter().all(|l| *l == 24 * 3600 || *l == 23 * 3600));
        // Local midnight of 2026-03-30 (CEST, UTC+2) is 22:00 UTC the day before.
        assert!(e.edges.contains(&at("2026-03-29T22:00:00Z").timestamp()));
        assert!(e.edges.contains(&at("2026-03-28T23:00:00Z").timestamp()));
        assert_eq!(e.upcoming.len(), 2, "the next two local days");
    }

    #[test]
    fn hours_follow_half_hour_zones_and_index_finds_the_bucket() {
        let tz = parse_zone("Asia/Kolkata").expect("zone");
        let e = edges(Range::Day, tz, at("2026-01-01T10:10:00Z"));
        assert_eq!(e.edges.len(), 25);
        // Local hours start at :30 UTC in India (UTC+5:30).
        assert!(e.edges.iter().all(|t| t.rem_euclid(3600) == 1800));
        assert_eq!(e.index(e.to() - 1), Some(23));
        assert_eq!(e.index(e.to()), None);
        assert_eq!(e.index(e.from()), Some(0));
        assert!(parse_zone("Mars/Olympus").is_none());
        assert_eq!(parse_zone(""), Some(Tz::UTC));
    }
}
