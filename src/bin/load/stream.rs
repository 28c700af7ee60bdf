//! What one watcher checks on the stream of a writing book: event seqs contiguous (no gap, no repeat),
//! delta offsets contiguous per chunk, and at each `chunk_completed` that the words it streamed equal the
//! words the server committed. It also timestamps arrivals for the latency figures.

use serde_json::Value;

/// Counters of stream defects seen by watchers (all must stay 0).
#[derive(Clone, Debug, Default)]
pub struct Defects {
    pub event_gaps: u64,
    pub event_repeats: u64,
    pub delta_gaps: u64,
    pub delta_repeats: u64,
    pub chunks_checked: u64,
    pub chunk_word_mismatches: u64,
    /// Of those, the chunks whose stream had fewer words than were saved (its `chunk_completed` came
    /// before the last of its text reached this watcher: the page fills the rest from the database).
    pub chunk_streams_short: u64,
    /// Over the mismatched chunks: the words streamed and the words committed, so the report shows
    /// which side is longer and by how much.
    pub mismatch_words_streamed: u64,
    pub mismatch_words_committed: u64,
    /// The first mismatch seen, for a reader to follow up.
    pub mismatch_example: Option<String>,
}

impl Defects {
    pub fn merge(&mut self, o: &Defects) {
        self.event_gaps += o.event_gaps;
        self.event_repeats += o.event_repeats;
        self.delta_gaps += o.delta_gaps;
        self.delta_repeats += o.delta_repeats;
        self.chunks_checked += o.chunks_checked;
        self.chunk_word_mismatches += o.chunk_word_mismatches;
        self.chunk_streams_short += o.chunk_streams_short;
        self.mismatch_words_streamed += o.mismatch_words_streamed;
        self.mismatch_words_committed += o.mismatch_words_committed;
        if self.mismatch_example.is_none() {
            self.mismatch_example.clone_from(&o.mismatch_example);
        }
    }
}

/// One watcher's view of its book.
#[derive(Debug, Default)]
pub struct Stream {
    pub last_seq: i64,
    chunk: Option<i64>,
    chars: usize,
    text: String,
}

fn int(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_i64)
}

impl Stream {
    /// A durable event; returns its kind.
    pub fn on_event<'a>(&mut self, msg: &'a Value, d: &mut Defects) -> &'a str {
        let seq = int(msg, "seq").unwrap_or(0);
        if seq <= self.last_seq {
            d.event_repeats += 1;
        } else {
            if seq > self.last_seq + 1 {
                d.event_gaps += (seq - self.last_seq - 1) as u64;
            }
            self.last_seq = seq;
        }
        let kind = msg.get("kind").and_then(Value::as_str).unwrap_or("");
        let data = msg.get("data").unwrap_or(&Value::Null);
        match kind {
            "chunk_started" => {
                let s = int(data, "seq");
                let retry = int(data, "attempt").unwrap_or(1) > 1;
                if s != self.chunk || retry {
                    self.reset(s);
                }
            }
            "chunk_completed" => {
                let s = int(data, "seq");
                if s.is_some() && s == self.chunk {
                    let want = int(data, "words").unwrap_or(-1);
                    d.chunks_checked += 1;
                    let streamed = self.text.split_whitespace().count() as i64;
                    if streamed != want {
                        d.chunk_word_mismatches += 1;
                        d.chunk_streams_short += u64::from(streamed < want);
                        d.mismatch_words_streamed += streamed as u64;
                        d.mismatch_words_committed += want.max(0) as u64;
                        if d.mismatch_example.is_none() {
                            let tail: String = {
                                let t: Vec<char> = self.text.chars().collect();
                                t[t.len().saturating_sub(80)..].iter().collect()
                            };
                            d.mismatch_example = Some(format!(
                                "chunk {}: streamed {streamed} words ({} chars, ending {tail:?}), committed {want}",
                                s.unwrap_or(-1),
                                self.chars
                            ));
                        }
                    }
                    self.reset(None);
                }
            }
            _ => {}
        }
        kind
    }

    fn reset(&mut self, chunk: Option<i64>) {
        self.chunk = chunk;
        self.chars = 0;
        self.text.clear();
    }

    pub fn on_delta(&mut self, msg: &Value, d: &mut Defects) {
        let chunk = int(msg, "chunk_seq");
        let offset = int(msg, "offset").unwrap_or(0).max(0) as usize;
        let text = msg.get("text").and_then(Value::as_str).unwrap_or("");
        if chunk != self.chunk {
            self.reset(chunk);
        }
        let len = text.chars().count();
        if offset == self.chars {
            self.text.push_str(text);
            self.chars += len;
        } else if offset < self.chars {
            d.delta_repeats += 1;
            if offset + len > self.chars {
                self.text.extend(text.chars().skip(self.chars - offset));
                self.chars = offset + len;
            }
        } else {
            d.delta_gaps += 1;
            self.text.push_str(text);
            self.chars = offset + len;
        }
    }

    pub fn on_snapshot(&mut self, msg: &Value) {
        let text = msg.get("text").and_then(Value::as_str).unwrap_or("");
        self.chunk = int(msg, "chunk_seq");
        self.text = text.to_string();
        self.chars = text.chars().count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_clean_stream_has_no_defects() {
        let (mut s, mut d) = (Stream::default(), Defects::default());
        s.on_event(
            &json!({"seq":1,"kind":"chunk_started","data":{"seq":1,"attempt":1}}),
            &mut d,
        );
        s.on_delta(&json!({"chunk_seq":1,"offset":0,"text":"Hello "}), &mut d);
        s.on_delta(&json!({"chunk_seq":1,"offset":6,"text":"world"}), &mut d);
        s.on_delta(&json!({"chunk_seq":1,"offset":6,"text":"world"}), &mut d);
        s.on_event(
            &json!({"seq":2,"kind":"chunk_completed","data":{"seq":1,"words":2}}),
            &mut d,
        );
        assert_eq!(
            (d.chunks_checked, d.chunk_word_mismatches, d.delta_repeats),
            (1, 0, 1)
        );
        assert_eq!((d.event_gaps, d.delta_gaps), (0, 0));
    }

    #[test]
    fn gaps_are_counted() {
        let (mut s, mut d) = (Stream::default(), Defects::default());
        s.on_event(&json!({"seq":2,"kind":"status","data":{}}), &mut d);
        s.on_delta(&json!({"chunk_seq":1,"offset":5,"text":"x"}), &mut d);
        assert_eq!((d.event_gaps, d.delta_gaps), (1, 1));
    }
}
