//! HTTP plumbing shared by the streaming providers: one awc client per thread (awc is not `Send`), the
//! request with a time-to-headers limit, error responses turned into `LlmError`, and the SSE body driven
//! through a provider-specific decoder with a stall limit between reads.
//!
//! awc's own timeout is disabled on purpose: it also bounds reading the body, which would cut a long
//! healthy stream. Time to headers and silence between reads are bounded here instead; the whole call's
//! hard limit belongs to the engine.
//!
//! A close-delimited HTTP/1.1 body (no Content-Length, no chunked encoding) is refused with a permanent
//! error rather than read: awc would read it as empty. See [`close_delimited`].

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use buko_actors::{LlmError, LlmErrorKind, LlmEvent};
use bytes::Bytes;
use futures_util::stream::{self, LocalBoxStream, Stream, StreamExt};

use super::errors::{classify, ErrorBody, RetryHints};
use super::sse::{SseEvent, SseParser};

/// Limits of one streaming call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// From sending the request to the response headers.
    pub request: Duration,
    /// Longest silence allowed between two reads of the body.
    pub stall: Duration,
}

thread_local! {
    static CLIENTS: RefCell<HashMap<u128, awc::Client>> = RefCell::new(HashMap::new());
}

/// This thread's client for a connect timeout (built once, reused for keep-alive connections).
pub fn client(connect_timeout: Duration) -> awc::Client {
    super::init_tls();
    CLIENTS.with(|c| {
        c.borrow_mut()
            .entry(connect_timeout.as_millis())
            .or_insert_with(|| {
                awc::Client::builder()
                    .connector(awc::Connector::new().timeout(connect_timeout))
                    .disable_timeout()
                    .finish()
            })
            .clone()
    })
}

/// Turns what the protocol's events mean into `LlmEvent`s; one instance per call.
pub trait StreamDecoder {
    /// Handles one SSE event; may yield text, the final `Finished`, or an error.
    fn on_event(&mut self, event: SseEvent) -> Vec<Result<LlmEvent, LlmError>>;
    /// The body ended. Returns the terminal item if the protocol's end was not seen.
    fn on_eof(&mut self) -> Option<Result<LlmEvent, LlmError>>;
}

/// Maps a transport failure while sending.
pub fn send_error(err: awc::error::SendRequestError) -> LlmError {
    use awc::error::SendRequestError as E;
    match err {
        E::Timeout => {
            LlmError::temporary(LlmErrorKind::Timeout, "timed out waiting for the response")
        }
        E::Connect(e) => LlmError::temporary(LlmErrorKind::Connection, format!("connect: {e}")),
        other => LlmError::temporary(LlmErrorKind::Connection, format!("send: {other}")),
    }
}

/// Sends a JSON request with the time-to-headers limit; non-2xx answers become classified errors.
pub async fn send_json(
    request: awc::ClientRequest,
    body: &serde_json::Value,
    timeouts: Timeouts,
    provider: &'static str,
) -> Result<
    awc::ClientResponse<impl Stream<Item = Result<Bytes, awc::error::PayloadError>> + Unpin>,
    LlmError,
> {
    let sent = tokio::time::timeout(timeouts.request, request.send_json(body)).await;
    let mut response = match sent {
        Err(_) => {
            return Err(LlmError::temporary(
                LlmErrorKind::Timeout,
                "timed out waiting for the response headers",
            ))
        }
        Ok(Err(e)) => return Err(send_error(e)),
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    if status.is_success() {
        if close_delimited(response.version(), response.headers()) {
            let e = LlmError::permanent(LlmErrorKind::Malformed, CLOSE_DELIMITED);
            log::error!("{provider}: {e}");
            return Err(e);
        }
        return Ok(response);
    }
    let hints = RetryHints::from_headers(response.headers());
    let request_id = ["request-id", "x-request-id"].iter().find_map(|h| {
        response
            .headers()
            .get(*h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let raw = match tokio::time::timeout(timeouts.request, response.body().limit(64 * 1024)).await {
        Ok(Ok(b)) => b,
        _ => Bytes::new(),
    };
    let err = classify(Some(status.as_u16()), &ErrorBody::parse(&raw), hints);
    log::warn!(
        "{provider}: HTTP {} (request-id {}) -> {err}",
        status.as_u16(),
        request_id.as_deref().unwrap_or("-")
    );
    Err(err)
}

const CLOSE_DELIMITED: &str = "the provider answered HTTP/1.1 without Content-Length or chunked \
    encoding (a body ended by closing the connection, RFC 9112 §6.3); this client cannot read such a \
    body: configure the proxy in front of the provider to use chunked encoding or HTTP/2";

/// An HTTP/1.1 answer whose body ends only when the connection closes. awc reads such a body as empty
/// (it reads to EOF only for HTTP/1.0), which would look like a stream that ended before its end and be
/// retried forever; refusing it names the real problem once.
pub fn close_delimited(
    version: awc::http::Version,
    headers: &awc::http::header::HeaderMap,
) -> bool {
    use awc::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
    let chunked = headers.get_all(TRANSFER_ENCODING).any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
    });
    version == awc::http::Version::HTTP_11 && !chunked && !headers.contains_key(CONTENT_LENGTH)
}

struct Drive<S, D> {
    body: S,
    parser: SseParser,
    decoder: D,
    queue: VecDeque<Result<LlmEvent, LlmError>>,
    done: bool,
    stall: Duration,
}

/// Reads an SSE body to its end through `decoder`. Yields nothing after the first `Err` or `Finished`.
pub fn drive<S, D>(
    body: S,
    decoder: D,
    stall: Duration,
) -> LocalBoxStream<'static, Result<LlmEvent, LlmError>>
where
    S: Stream<Item = Result<Bytes, awc::error::PayloadError>> + Unpin + 'static,
    D: StreamDecoder + 'static,
{
    let state = Drive {
        body,
        parser: SseParser::new(),
        decoder,
        queue: VecDeque::new(),
        done: false,
        stall,
    };
    stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.queue.pop_front() {
                if matches!(item, Err(_) | Ok(LlmEvent::Finished { .. })) {
                    st.queue.clear();
                    st.done = true;
                }
                return Some((item, st));
            }
            if st.done {
                return None;
            }
            match tokio::time::timeout(st.stall, st.body.next()).await {
                Err(_) => st.queue.push_back(Err(LlmError::temporary(
                    LlmErrorKind::Stalled,
                    format!("no data for {} s", st.stall.as_secs_f32()),
                ))),
                Ok(Some(Ok(bytes))) => {
                    for ev in st.parser.feed(&bytes) {
                        st.queue.extend(st.decoder.on_event(ev));
                    }
                }
                Ok(Some(Err(e))) => st.queue.push_back(Err(LlmError::temporary(
                    LlmErrorKind::Connection,
                    format!("stream broken: {e}"),
                ))),
                Ok(None) => match st.decoder.on_eof() {
                    Some(item) => st.queue.push_back(item),
                    None => st.done = true,
                },
            }
        }
    })
    .boxed_local()
}

/// A stream that yields one error.
pub fn fail(err: LlmError) -> LocalBoxStream<'static, Result<LlmEvent, LlmError>> {
    stream::once(async move { Err(err) }).boxed_local()
}
