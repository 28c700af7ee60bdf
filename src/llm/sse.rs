//! Incremental Server-Sent Events parser (the WHATWG `text/event-stream` rules the Anthropic and
//! OpenAI-compatible streams use). It owns only framing: bytes in, `(event, data)` pairs out. It holds
//! partial input across reads, so an event, a UTF-8 character or a `\r\n` split anywhere between two reads
//! is reassembled; it knows nothing about what the data means.

/// One dispatched event: the `event:` name (if any) and the joined `data:` lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current, unterminated line.
    line: Vec<u8>,
    /// The previous read ended on `\r`; a `\n` at the start of the next one belongs to it.
    after_cr: bool,
    event: Option<String>,
    data: Vec<String>,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one read and returns every event it completed, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                _ => self.line.push(b),
            }
        }
        out
    }

    /// True when bytes of an unfinished event are buffered (useful to report a truncated stream).
    pub fn has_partial(&self) -> bool {
        !self.line.is_empty() || self.has_data
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let raw = std::mem::take(&mut self.line);
        // Terminators are ASCII, so a complete line never splits a UTF-8 sequence.
        let line = String::from_utf8_lossy(&raw);
        if line.is_empty() {
            if self.has_data {
                out.push(SseEvent {
                    event: self.event.take(),
                    data: self.data.join("\n"),
                });
            }
            self.event = None;
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return; // comment / keep-alive
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&line[..], ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                self.data.push(value.to_string());
                self.has_data = true;
            }
            _ => {} // id, retry and unknown fields carry nothing we use
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str =
        "event: message_start\r\ndata: {\"a\":1}\r\n\r\n: keep-alive\n\nevent: ping\ndata: {}\n\n\
event: content_block_delta\rdata: {\"text\":\"¿Qué tal? ñandú — «sí» 😀\"}\r\r\
data: line1\ndata: line2\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent {
                event: Some("message_start".into()),
                data: "{\"a\":1}".into(),
            },
            SseEvent {
                event: Some("ping".into()),
                data: "{}".into(),
            },
            SseEvent {
                event: Some("content_block_delta".into()),
                data: "{\"text\":\"¿Qué tal? ñandú — «sí» 😀\"}".into(),
            },
            SseEvent {
                event: None,
                data: "line1\nline2".into(),
            },
        ]
    }

    #[test]
    fn parses_several_events_in_one_read() {
        let mut p = SseParser::new();
        assert_eq!(p.feed(STREAM.as_bytes()), expected());
        assert!(!p.has_partial());
    }

    #[test]
    fn reassembles_events_split_at_every_byte_boundary() {
        let bytes = STREAM.as_bytes();
        for cut in 0..=bytes.len() {
            let mut p = SseParser::new();
            let mut got = p.feed(&bytes[..cut]);
            got.extend(p.feed(&bytes[cut..]));
            assert_eq!(got, expected(), "split at byte {cut}");
        }
    }

    #[test]
    fn reassembles_one_byte_per_read() {
        let mut p = SseParser::new();
        let mut got = Vec::new();
        for b in STREAM.as_bytes() {
            got.extend(p.feed(std::slice::from_ref(b)));
        }
        assert_eq!(got, expected());
    }

    #[test]
    fn crlf_split_between_reads_is_one_terminator() {
        let mut p = SseParser::new();
        let mut got = p.feed(b"data: x\r");
        got.extend(p.feed(b"\n\r"));
        got.extend(p.feed(b"\ndata: y\n"));
        assert_eq!(
            got,
            vec![SseEvent {
                event: None,
                data: "x".into()
            }]
        );
        assert!(p.has_partial());
    }
}
