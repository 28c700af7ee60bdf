//! A scripted LLM: per-chunk-seq scripts of steps (fail, stall, max_tokens, text, panic), a global
//! "failing" switch, and a default writer that streams deterministic text at a configurable pace.
//! It records every request and when it started.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use buko_actors::*;
use futures_util::stream::{self, LocalBoxStream, StreamExt};
use tokio::time::Instant;

#[derive(Clone, Debug)]
pub enum Step {
    Fail(LlmError),
    /// Streams this text, then nothing more, ever.
    Stall(String),
    /// Streams the text and stops on max_tokens.
    MaxTokens(String),
    Text(String),
    /// Streams the text and stops with this stop reason.
    Stop(String, StopReason),
    /// Reports `input_tokens` (as `message_start` does), streams the text, then breaks.
    Broken(String, u64),
    /// Panics while streaming (after one delta).
    Panic,
}

pub struct ScriptLlm {
    pub max_output: u32,
    /// Pause between deltas of the default writer.
    pub delta_every: Duration,
    /// Deltas the default writer splits a chunk into.
    pub deltas_per_chunk: usize,
    pub summary_chars: usize,
    pub scripts: Mutex<HashMap<i64, VecDeque<Step>>>,
    /// While set, every call fails with it.
    pub failing: Mutex<Option<LlmError>>,
    pub requests: Mutex<Vec<(Instant, CompletionRequest)>>,
    /// Answers to architecture calls, in order (then a default valid one).
    pub architecture_answers: Mutex<VecDeque<String>>,
    /// Summaries stop on max_tokens (a verbose model).
    pub verbose_summaries: bool,
    /// Answers to audit calls, in order (then no findings).
    pub audit_answers: Mutex<VecDeque<String>>,
}

impl Default for ScriptLlm {
    fn default() -> Self {
        ScriptLlm {
            max_output: 8000,
            delta_every: Duration::ZERO,
            deltas_per_chunk: 5,
            summary_chars: 200,
            scripts: Mutex::new(HashMap::new()),
            failing: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            architecture_answers: Mutex::new(VecDeque::new()),
            verbose_summaries: false,
            audit_answers: Mutex::new(VecDeque::new()),
        }
    }
}

/// The default text of chunk `seq`, split into `n` deltas.
pub fn chunk_text(seq: i64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("[{seq}.{i}] words of chunk {seq}. "))
        .collect()
}

impl ScriptLlm {
    pub fn script(&self, seq: i64, steps: Vec<Step>) {
        self.scripts.lock().unwrap().insert(seq, steps.into());
    }

    pub fn chunk_requests(&self, seq: i64) -> Vec<(Instant, CompletionRequest)> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, r)| r.purpose == CallPurpose::Chunk && r.context.seq == Some(seq))
            .cloned()
            .collect()
    }

    pub fn requests_for(&self, purpose: CallPurpose) -> Vec<CompletionRequest> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, r)| r.purpose == purpose)
            .map(|(_, r)| r.clone())
            .collect()
    }

    fn finished(stop: StopReason) -> Result<LlmEvent, LlmError> {
        Ok(LlmEvent::Finished {
            stop_reason: stop,
            usage: Usage::new(100, 50),
            request_id: None,
        })
    }

    fn paced(
        &self,
        pieces: Vec<String>,
        stop: Option<StopReason>,
    ) -> LocalBoxStream<'static, Result<LlmEvent, LlmError>> {
        let every = self.delta_every;
        let mut items: Vec<Result<LlmEvent, LlmError>> = pieces
            .into_iter()
            .map(|p| Ok(LlmEvent::TextDelta(p)))
            .collect();
        let hang = stop.is_none();
        if let Some(stop) = stop {
            items.push(Self::finished(stop));
        }
        let s = stream::unfold(items.into_iter(), move |mut it| async move {
            let item = it.next()?;
            if !every.is_zero() && matches!(item, Ok(LlmEvent::TextDelta(_))) {
                tokio::time::sleep(every).await;
            }
            Some((item, it))
        });
        if hang {
            s.chain(stream::pending()).boxed_local()
        } else {
            s.boxed_local()
        }
    }
}

/// The distinct words of the request's prompt that start with `prefix` (punctuation trimmed).
fn tokens(request: &CompletionRequest, prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in &request.messages {
        for w in m.content.split_whitespace() {
            let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
            if w.starts_with(prefix) && !out.iter().any(|o| o == w) {
                out.push(w.to_string());
            }
        }
    }
    out
}

impl LlmPort for ScriptLlm {
    fn provider(&self) -> &str {
        "scripted"
    }
    fn model(&self) -> &str {
        "script-1"
    }
    fn max_output_tokens(&self) -> u32 {
        self.max_output
    }
    fn price(&self) -> Price {
        Price::flat(3.0, 15.0)
    }
    fn stream(
        &self,
        request: CompletionRequest,
    ) -> LocalBoxStream<'static, Result<LlmEvent, LlmError>> {
        self.requests
            .lock()
            .unwrap()
            .push((Instant::now(), request.clone()));
        if let Some(e) = self.failing.lock().unwrap().clone() {
            return stream::iter(vec![Err(e)]).boxed_local();
        }
        let step = match (request.purpose, request.context.seq) {
            (CallPurpose::Chunk, Some(seq)) => self
                .scripts
                .lock()
                .unwrap()
                .get_mut(&seq)
                .and_then(VecDeque::pop_front),
            _ => None,
        };
        match step {
            Some(Step::Fail(e)) => stream::iter(vec![Err(e)]).boxed_local(),
            Some(Step::Stall(t)) => self.paced(vec![t], None),
            Some(Step::MaxTokens(t)) => self.paced(vec![t], Some(StopReason::MaxTokens)),
            Some(Step::Text(t)) => self.paced(vec![t], Some(StopReason::EndTurn)),
            Some(Step::Stop(t, stop)) => self.paced(vec![t], Some(stop)),
            Some(Step::Broken(t, input_tokens)) => stream::iter(vec![
                Ok(LlmEvent::Usage(Usage::new(input_tokens, 1))),
                Ok(LlmEvent::TextDelta(t)),
                Err(LlmError::temporary(
                    LlmErrorKind::StreamError,
                    "injected break",
                )),
            ])
            .boxed_local(),
            Some(Step::Panic) => stream::iter(vec![Ok(LlmEvent::TextDelta("x".into()))])
                .chain(stream::poll_fn(|_| {
                    panic!("injected panic inside the LLM stream")
                }))
                .boxed_local(),
            None => match request.purpose {
                CallPurpose::Chunk => {
                    let seq = request.context.seq.unwrap_or_default();
                    self.paced(
                        chunk_text(seq, self.deltas_per_chunk),
                        Some(StopReason::EndTurn),
                    )
                }
                CallPurpose::Note => {
                    let text = format!("Note: {}.", tokens(&request, "FACT-").join(", "));
                    self.paced(vec![text], Some(StopReason::EndTurn))
                }
                CallPurpose::Ledger => {
                    let ch = request.context.chapter_index.unwrap_or_default();
                    let characters: Vec<String> = tokens(&request, "CHAR-")
                        .iter()
                        .map(|t| {
                            format!(
                                r#"{{"name":"{}","role":"met in chapter {}"}}"#,
                                t.trim_start_matches("CHAR-"),
                                ch + 1
                            )
                        })
                        .collect();
                    let text = format!(
                        r#"```json {{"characters":[{}],"places":[],"facts":[]}} ```"#,
                        characters.join(",")
                    );
                    self.paced(vec![text], Some(StopReason::EndTurn))
                }
                CallPurpose::Audit => {
                    let scripted = self.audit_answers.lock().unwrap().pop_front();
                    let text = scripted.unwrap_or_else(|| r#"{"findings":[]}"#.into());
                    self.paced(vec![text], Some(StopReason::EndTurn))
                }
                CallPurpose::Summary => {
                    let ch = request.context.chapter_index.unwrap_or_default();
                    // The facts the summary was given come first, so a cut keeps them.
                    let text = tokens(&request, "FACT-").join(" ")
                        + &format!(" Summary up to chapter {}. ", ch + 1)
                            .repeat(self.summary_chars / 24 + 1);
                    let stop = if self.verbose_summaries {
                        StopReason::MaxTokens
                    } else {
                        StopReason::EndTurn
                    };
                    self.paced(vec![text], Some(stop))
                }
                CallPurpose::Architecture => {
                    let mut answers = self.architecture_answers.lock().unwrap();
                    let scripted = answers.pop_front();
                    // "<<CUT>>" marks where the model ran out of tokens: the rest is the answer to
                    // the continuation request.
                    if let Some((head, rest)) =
                        scripted.as_deref().and_then(|a| a.split_once("<<CUT>>"))
                    {
                        answers.push_front(rest.to_string());
                        return self.paced(vec![head.to_string()], Some(StopReason::MaxTokens));
                    }
                    drop(answers);
                    let answer = scripted.unwrap_or_else(|| {
                        r#"```json {"title":"T","chapters":[{"title":"A","target_words":500}]} ```"#.into()
                    });
                    self.paced(vec![answer], Some(StopReason::EndTurn))
                }
                CallPurpose::CoverImage => panic!("the engine never asks the LLM for an image"),
            },
        }
    }
}
