//! What one WebSocket session has sent of one book, and what to do with the next live message so the
//! client never sees a silent gap: events must continue at `last_seq + 1` (a gap is refilled from the
//! database first), and a text delta must continue the chunk's text at the offset already sent (a
//! repeat is trimmed, a gap asks for a fresh snapshot). Pure bookkeeping; the session acts on it.

/// The next step for a live event.
#[derive(Debug, PartialEq, Eq)]
pub enum EventStep {
    /// The next one: send it.
    Send,
    /// Already sent (replayed, or a duplicate relayed by another node).
    Skip,
    /// Events after `after` are missing: read them from the database before sending this one.
    Refill { after: i64 },
}

/// The next step for a live text delta.
#[derive(Debug, PartialEq, Eq)]
pub enum DeltaStep {
    Send,
    /// Partly sent already: send only the text from `offset` on.
    Trim {
        offset: usize,
        text: String,
    },
    Skip,
    /// Text is missing before it: ask for a snapshot of the chunk (once per chunk).
    Resync,
}

#[derive(Debug, Default, Clone)]
pub struct BookCursor {
    /// Highest event seq sent.
    pub last_seq: i64,
    /// The chunk whose text is being sent and how many chars of it the client has.
    chunk: Option<(i64, usize)>,
    /// A snapshot was asked for this chunk; until it comes, deltas of the chunk are held back.
    resync: Option<i64>,
    /// The chunk whose asked-for snapshot came: a second gap in it is not asked again.
    tried: Option<i64>,
    /// Chunks whose snapshot did not fit either: their text waits for `chunk_completed`.
    given_up: Option<i64>,
}

impl BookCursor {
    pub fn new(last_seq: i64) -> Self {
        BookCursor {
            last_seq,
            ..Self::default()
        }
    }

    pub fn on_event(&self, seq: i64) -> EventStep {
        if seq <= self.last_seq {
            EventStep::Skip
        } else if seq == self.last_seq + 1 {
            EventStep::Send
        } else {
            EventStep::Refill {
                after: self.last_seq,
            }
        }
    }

    /// An event was sent; `chunk_started` begins a chunk's text again (a retry resets it).
    pub fn sent_event(&mut self, seq: i64, kind: &str, data: &serde_json::Value) {
        self.last_seq = self.last_seq.max(seq);
        if kind == "chunk_started" {
            if let Some(chunk) = data.get("seq").and_then(serde_json::Value::as_i64) {
                self.chunk = Some((chunk, 0));
                self.resync = None;
                self.tried = None;
                self.given_up = None;
            }
        }
    }

    /// A snapshot was sent: the client has exactly this text of the chunk.
    pub fn sent_snapshot(&mut self, chunk_seq: i64, text: &str) {
        if self.resync == Some(chunk_seq) {
            self.resync = None;
            self.tried = Some(chunk_seq);
        }
        self.chunk = Some((chunk_seq, text.chars().count()));
    }

    pub fn on_delta(&mut self, chunk_seq: i64, offset: usize, text: &str) -> DeltaStep {
        if self.given_up == Some(chunk_seq) || self.resync == Some(chunk_seq) {
            return DeltaStep::Skip;
        }
        let sent = match self.chunk {
            Some((c, sent)) if c == chunk_seq => sent,
            // A chunk the client has no start of (its chunk_started is still to come, or was
            // before the subscription and no snapshot covered it): only a start can be trusted.
            _ if offset == 0 => 0,
            _ => return self.ask_resync(chunk_seq),
        };
        let len = text.chars().count();
        if offset > sent {
            return self.ask_resync(chunk_seq);
        }
        self.chunk = Some((chunk_seq, sent.max(offset + len)));
        if offset == sent {
            DeltaStep::Send
        } else if offset + len <= sent {
            self.chunk = Some((chunk_seq, sent));
            DeltaStep::Skip
        } else {
            DeltaStep::Trim {
                offset: sent,
                text: text.chars().skip(sent - offset).collect(),
            }
        }
    }

    fn ask_resync(&mut self, chunk_seq: i64) -> DeltaStep {
        if self.tried == Some(chunk_seq) {
            self.given_up = Some(chunk_seq);
            return DeltaStep::Skip;
        }
        self.resync = Some(chunk_seq);
        DeltaStep::Resync
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_continue_or_are_refilled() {
        let mut c = BookCursor::new(4);
        assert_eq!(c.on_event(3), EventStep::Skip);
        assert_eq!(c.on_event(4), EventStep::Skip);
        assert_eq!(c.on_event(5), EventStep::Send);
        assert_eq!(c.on_event(8), EventStep::Refill { after: 4 });
        c.sent_event(8, "status", &json!({}));
        assert_eq!(c.on_event(9), EventStep::Send);
    }

    #[test]
    fn deltas_are_trimmed_skipped_or_resynced() {
        let mut c = BookCursor::new(0);
        c.sent_event(1, "chunk_started", &json!({"seq": 7}));
        assert_eq!(c.on_delta(7, 0, "héllo "), DeltaStep::Send);
        assert_eq!(c.on_delta(7, 0, "héllo "), DeltaStep::Skip);
        assert_eq!(
            c.on_delta(7, 3, "lo wörld"),
            DeltaStep::Trim {
                offset: 6,
                text: "wörld".into()
            }
        );
        assert_eq!(c.on_delta(7, 20, "x"), DeltaStep::Resync);
        // Until the snapshot comes, the chunk's deltas wait.
        assert_eq!(c.on_delta(7, 11, "!"), DeltaStep::Skip);
        c.sent_snapshot(7, "héllo wörld and more");
        assert_eq!(c.on_delta(7, 20, "x"), DeltaStep::Send);
        // A new attempt starts the text again.
        c.sent_event(2, "chunk_started", &json!({"seq": 7}));
        assert_eq!(c.on_delta(7, 0, "again"), DeltaStep::Send);
    }

    #[test]
    fn a_snapshot_that_still_does_not_fit_is_asked_once() {
        let mut c = BookCursor::new(0);
        c.sent_event(1, "chunk_started", &json!({"seq": 2}));
        assert_eq!(c.on_delta(2, 5, "late"), DeltaStep::Resync);
        c.sent_snapshot(2, "abc");
        assert_eq!(c.on_delta(2, 9, "later"), DeltaStep::Skip);
        assert_eq!(c.on_delta(2, 14, "more"), DeltaStep::Skip);
    }
}
