//! Per-book text of the chunk in progress: what a `Snapshot` sends, and the not-yet-flushed piece that
//! the next coalesced `Delta` carries. Offsets are in chars from the chunk's start.

/// The chunk being written for one book.
#[derive(Debug, Default)]
pub(super) struct BookStream {
    pub chunk_seq: i64,
    pub text: String,
    /// `text.chars().count()`, kept so appends stay O(piece).
    pub chars: usize,
    /// Text appended since the last flush, starting at char `pending_offset`.
    pub pending: String,
    pub pending_offset: usize,
}

impl BookStream {
    pub fn new(chunk_seq: i64) -> Self {
        BookStream {
            chunk_seq,
            ..BookStream::default()
        }
    }

    /// Local text: kept for snapshots and queued for the next flush.
    pub fn push_local(&mut self, piece: &str) {
        if self.pending.is_empty() {
            self.pending_offset = self.chars;
        }
        self.pending.push_str(piece);
        self.text.push_str(piece);
        self.chars += piece.chars().count();
    }

    /// The coalesced delta, if anything is pending: `(offset, text)`.
    pub fn take_pending(&mut self) -> Option<(usize, String)> {
        if self.pending.is_empty() {
            None
        } else {
            Some((self.pending_offset, std::mem::take(&mut self.pending)))
        }
    }

    /// A delta relayed from the node writing the chunk: apply what extends the text, skip repeats.
    /// Returns false when it does not fit (a gap), in which case the snapshot is left as it was.
    pub fn apply_remote(&mut self, offset: usize, text: &str) -> bool {
        if offset > self.chars {
            return false;
        }
        let skip = self.chars - offset;
        let new: String = text.chars().skip(skip).collect();
        self.chars += new.chars().count();
        self.text.push_str(&new);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_offsets_are_in_chars() {
        let mut s = BookStream::new(3);
        s.push_local("héllo ");
        assert_eq!(s.take_pending(), Some((0, "héllo ".to_string())));
        s.push_local("wö");
        s.push_local("rld");
        assert_eq!(s.take_pending(), Some((6, "wörld".to_string())));
        assert_eq!(s.take_pending(), None);
        assert_eq!(s.text, "héllo wörld");
    }

    #[test]
    fn remote_deltas_skip_repeats_and_refuse_gaps() {
        let mut s = BookStream::new(1);
        assert!(s.apply_remote(0, "abc"));
        assert!(s.apply_remote(1, "bcde"));
        assert_eq!(s.text, "abcde");
        assert!(!s.apply_remote(9, "x"));
        assert_eq!(s.text, "abcde");
    }
}
