//! A log-linear latency histogram (HDR-like): exact below 64 µs, then 32 sub-buckets per power of two,
//! so any recorded value is reported within ~3 % of itself. Fixed size, mergeable, no allocation per
//! sample — cheap enough to record every message and request.

const LINEAR: usize = 64;
const SUB: usize = 32;
const MAX_EXP: usize = 40;
const BUCKETS: usize = LINEAR + (MAX_EXP - 5) * SUB;

#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR as u64 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as usize; // >= 6
    let m = ((v >> (e - 5)) as usize) & (SUB - 1);
    (LINEAR + (e - 6) * SUB + m).min(BUCKETS - 1)
}

/// The middle of a bucket's range, in the recorded unit.
fn value_of(i: usize) -> u64 {
    if i < LINEAR {
        return i as u64;
    }
    let e = (i - LINEAR) / SUB + 6;
    let m = ((i - LINEAR) % SUB) as u64;
    let low = (SUB as u64 + m) << (e - 5);
    let width = 1u64 << (e - 5);
    low + width / 2
}

impl Histogram {
    /// Records one value (microseconds by convention in this program).
    pub fn record(&mut self, v: u64) {
        self.counts[index(v)] += 1;
        self.total += 1;
        self.max = self.max.max(v);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0..=1); 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return value_of(i).min(self.max);
            }
        }
        self.max
    }

    /// p50 / p95 / p99 in milliseconds, for the tables.
    pub fn ms(&self) -> (f64, f64, f64) {
        let f = |q| self.quantile(q) as f64 / 1000.0;
        (f(0.50), f(0.95), f(0.99))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_a_few_percent() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record(v);
        }
        for (q, want) in [(0.5, 50_000.0), (0.95, 95_000.0), (0.99, 99_000.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.03, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.quantile(0.0), 1);
        assert_eq!(h.max(), 100_000);
    }

    #[test]
    fn merge_adds_counts() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.record(10);
        b.record(1_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert!(a.quantile(1.0) >= 970_000);
    }
}
