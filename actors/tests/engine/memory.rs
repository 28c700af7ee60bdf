//! The book's memory: every part of a chapter reaches the rolling summary, the story ledger learns
//! what the text introduces and later prompts carry it, the continuity audit keeps only findings
//! quoted from the chapter, and an author who turned the audit off pays for no audit call.

use std::time::Duration;

use buko_actors::*;

use crate::helpers::*;
use crate::llm::{ScriptLlm, Step};

/// Two chapters of three parts each (60 words per response, 150 words per chapter).
fn harness(config: EngineConfig) -> Harness {
    Harness::new(
        ScriptLlm {
            max_output: 100,
            ..ScriptLlm::default()
        },
        config,
    )
}

fn first_chunk_of_chapter_two(h: &Harness) -> String {
    let requests = h.llm.chunk_requests(4);
    assert_eq!(requests[0].1.context.chapter_index, Some(1));
    requests[0].1.messages[0].content.clone()
}

#[actix::test]
async fn a_fact_only_in_the_middle_of_a_chapter_reaches_the_next_chapters_prompt() {
    // The summary call reads at most 200 chars; the chapter is ~450, its middle part alone has it.
    let config = EngineConfig {
        summary_source_chars: 200,
        ..fast_config()
    };
    let mut h = harness(config);
    let middle = format!(
        "{} The keeper hid the key under FACT-lighthouse stones. {}",
        "Filler words of the middle part.".repeat(2),
        "More filler of the middle part.".repeat(2)
    );
    h.llm.script(2, vec![Step::Text(middle)]);
    h.store.add_book("m1", architecture(2, 150));
    h.start("m1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(10)).await.outcome,
        BookOutcome::Completed
    );

    let notes = h.llm.requests_for(CallPurpose::Note);
    assert_eq!(
        notes.len(),
        3,
        "one note per part of chapter 1 (none for the last chapter)"
    );
    let summary = &h.llm.requests_for(CallPurpose::Summary)[0].messages[0].content;
    assert!(
        summary.contains("Notes on part 2: Note: FACT-lighthouse"),
        "{summary}"
    );
    assert!(
        summary.chars().count() < 200 + 600,
        "the summary prompt stays bounded"
    );
    assert!(
        first_chunk_of_chapter_two(&h).contains("FACT-lighthouse"),
        "chapter 2 remembers what the middle of chapter 1 said"
    );
}

#[actix::test]
async fn a_short_chapter_is_summarised_whole_without_notes() {
    let mut h = harness(fast_config());
    h.store.add_book("m2", architecture(2, 150));
    h.start("m2", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(10)).await.outcome,
        BookOutcome::Completed
    );
    assert!(h.llm.requests_for(CallPurpose::Note).is_empty());
    let summary = &h.llm.requests_for(CallPurpose::Summary)[0].messages[0].content;
    assert!(summary.contains("[3.4] words of chunk 3."), "{summary}");
}

#[actix::test]
async fn the_ledger_learns_a_character_of_chapter_one_and_chapter_two_carries_it() {
    let mut h = harness(fast_config());
    h.llm.script(
        2,
        vec![Step::Text(
            "At the door stood a stranger who called herself CHAR-Ilsa. ".into(),
        )],
    );
    h.store.add_book("l1", architecture(2, 150));
    h.start("l1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(10)).await.outcome,
        BookOutcome::Completed
    );

    let learned = h.store.book("l1").architecture.bible.learned;
    assert_eq!(learned.characters.len(), 1);
    assert_eq!(learned.characters[0].name, "Ilsa");
    assert_eq!(learned.characters[0].role, "met in chapter 1");
    let prompt = first_chunk_of_chapter_two(&h);
    assert!(
        prompt.contains("## Learned from the text so far\n- Ilsa (met in chapter 1)"),
        "{prompt}"
    );
    // Chapter 1's own prompts came before anything was learned.
    assert!(!h.llm.chunk_requests(1)[0].1.messages[0]
        .content
        .contains("Learned"));
    assert_eq!(
        h.llm.requests_for(CallPurpose::Ledger).len(),
        1,
        "the last chapter teaches nothing that would be used"
    );
}

#[actix::test]
async fn audit_findings_need_their_quote_in_the_chapter() {
    let mut h = harness(fast_config());
    h.llm.audit_answers.lock().unwrap().push_back(
        r#"{"findings":[
            {"kind":"fact","severity":2,"quote":"[2.1] words of chunk 2.","explanation":"Contradicts the bible.","suggestion":"Fix the fact."},
            {"kind":"character","severity":3,"quote":"Ilsa never appears here.","explanation":"Invented.","suggestion":"x"}
        ]}"#
        .into(),
    );
    h.store.add_book("a1", architecture(2, 150));
    h.start("a1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(10)).await.outcome,
        BookOutcome::Completed
    );
    let book = h.store.book("a1");
    assert_eq!(
        h.llm.requests_for(CallPurpose::Audit).len(),
        2,
        "every chapter"
    );
    let first = &book.findings[&0];
    assert_eq!(first.len(), 1, "the finding without its quote is dropped");
    assert_eq!(first[0].kind, FindingKind::Fact);
    assert_eq!(first[0].quote, "[2.1] words of chunk 2.");
    assert!(book.findings[&1].is_empty());
    // Its cost is the book's.
    let audits = h
        .store
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.purpose == CallPurpose::Audit)
        .count();
    assert_eq!(audits, 2);
}

#[actix::test]
async fn an_audit_turned_off_makes_no_audit_call() {
    let mut h = harness(fast_config());
    h.store.add_book("a2", architecture(2, 150));
    h.store
        .books
        .lock()
        .unwrap()
        .get_mut("a2")
        .unwrap()
        .audit_off = true;
    h.start("a2", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(10)).await.outcome,
        BookOutcome::Completed
    );
    assert!(h.llm.requests_for(CallPurpose::Audit).is_empty());
    assert!(h.store.book("a2").findings.is_empty());
}
