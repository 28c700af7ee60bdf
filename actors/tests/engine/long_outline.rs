//! Architecture robustness: an outline cut by `max_tokens` (a 200-chapter one needs several
//! responses) is continued until it is whole, never parsed or stored half-written; and a book of
//! 200 chapters is written to the end with its memory (ledger, audit, summaries) on.

use std::time::Duration;

use buko_actors::*;

use crate::helpers::*;
use crate::llm::ScriptLlm;

fn outline(chapters: usize) -> String {
    let list: Vec<String> = (0..chapters)
        .map(|i| {
            format!(
                r#"{{"title":"Chapter {n}","summary":"What happens in part {n}.","key_points":["point {n}"],"target_words":100}}"#,
                n = i + 1
            )
        })
        .collect();
    format!(
        r#"{{"title":"The Long Book","synopsis":"Two hundred chapters.","chapters":[{}]}}"#,
        list.join(",")
    )
}

/// The outline cut in `pieces` places, mid-object (as `max_tokens` cuts it).
fn cut(json: &str, pieces: usize) -> String {
    let mut out = String::new();
    let step = json.len() / pieces;
    let mut last = 0;
    for k in 1..pieces {
        let mut at = k * step;
        while !json.is_char_boundary(at) {
            at += 1;
        }
        out.push_str(&json[last..at]);
        out.push_str("<<CUT>>");
        last = at;
    }
    out.push_str(&json[last..]);
    out
}

#[actix::test]
async fn a_200_chapter_outline_cut_by_max_tokens_is_continued_whole_and_written_to_the_end() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.llm
        .architecture_answers
        .lock()
        .unwrap()
        .push_back(cut(&outline(200), 4));
    let req = ArchitectureRequest {
        idea: "A very long saga".into(),
        target_pages: 1000,
        ..ArchitectureRequest::default()
    };
    let result = h
        .engine
        .supervisor
        .send(GenerateArchitecture(req))
        .await
        .unwrap()
        .expect("architecture");
    assert_eq!(result.architecture.chapters.len(), 200);
    assert_eq!(result.architecture.chapters[199].title, "Chapter 200");
    assert_eq!(result.calls.len(), 4, "three continuations, no re-ask");
    let requests = h.llm.requests_for(CallPurpose::Architecture);
    assert!(requests[1..].iter().all(|r| r.context.continuation));

    h.store.add_book("long", result.architecture);
    h.start("long", None).await;
    let done = h.outcome(Duration::from_secs(60)).await;
    assert_eq!(done.outcome, BookOutcome::Completed);
    let book = h.store.book("long");
    assert_eq!(book.commit_log, (1..=200).collect::<Vec<_>>());
    assert_eq!(book.summaries.len(), 199);
    assert_eq!(book.findings.len(), 200, "every chapter audited");
    // The last chapter's prompt is as bounded as the first one's.
    let first = h.llm.chunk_requests(1)[0].1.messages[0].content.len();
    let last = h.llm.chunk_requests(200)[0].1.messages[0].content.len();
    assert!(last < first + 2_500 + 2_400 + 1_500, "{first} → {last}");
}
