//! The offline writer: deterministic, varied, in the book's language, within budgets; valid architectures.

use std::collections::HashSet;

use buko::llm::offline::{OfflineConfig, OfflineWriter};
use buko_actors::{
    Architecture, CallPurpose, CompletionRequest, Language, LlmPort, Message, RequestContext, Role,
    StopReason,
};

use super::helpers::run;

fn writer() -> OfflineWriter {
    OfflineWriter::new(OfflineConfig {
        tokens_per_sec: 0.0,
        max_output_tokens: 8192,
    })
}

fn chunk(seq: i64, language: Language, words: u32, max_tokens: u32) -> CompletionRequest {
    let chapter = ((seq - 1) / 3) as usize;
    CompletionRequest {
        purpose: CallPurpose::Chunk,
        system: "s".into(),
        messages: vec![Message {
            role: Role::User,
            content: "write".into(),
        }],
        max_tokens,
        temperature: None,
        context: RequestContext {
            book_id: Some("book-1".into()),
            language,
            book_title: Some("The Lighthouse Keeper".into()),
            chapter_index: Some(chapter),
            chapter_title: Some(format!("Chapter {}", chapter + 1)),
            key_points: vec![
                format!("The keeper hears a signal in chapter {}", chapter + 1),
                "A storm closes the bay".into(),
            ],
            seq: Some(seq),
            part_index: Some(((seq - 1) % 3) as usize),
            parts_in_chapter: Some(3),
            word_budget: Some(words),
            ..Default::default()
        },
    }
}

#[actix_web::test]
async fn same_request_same_text_within_word_budget() {
    let w = writer();
    let a = run(&w, chunk(4, Language::En, 500, 4000)).await;
    let b = run(&w, chunk(4, Language::En, 500, 4000)).await;
    assert_eq!(a.text, b.text);
    let words = a.text.split_whitespace().count();
    assert!((500..560).contains(&words), "{words} words");
    assert_eq!(
        a.finished.as_ref().map(|f| f.0.clone()),
        Some(StopReason::EndTurn)
    );
    assert!(
        a.text.contains("keeper hears a signal in chapter 2")
            || a.text.contains("storm closes the bay")
    );
    assert!(w.is_demo());
    assert_ne!(
        a.text,
        run(&w, chunk(5, Language::En, 500, 4000)).await.text
    );
}

#[actix_web::test]
async fn no_paragraph_repeats_across_a_30_chunk_book() {
    let w = writer();
    let mut seen = HashSet::new();
    let mut total = 0;
    for seq in 1..=30 {
        let text = run(&w, chunk(seq, Language::En, 700, 4000)).await.text;
        for p in text.split("\n\n") {
            total += 1;
            assert!(
                seen.insert(p.to_string()),
                "paragraph repeated in chunk {seq}: {p}"
            );
        }
    }
    assert!(total > 100, "{total} paragraphs");
}

#[actix_web::test]
async fn spanish_books_are_written_in_spanish() {
    let mut req = chunk(1, Language::Es, 400, 4000);
    req.context.key_points = vec![
        "La tormenta cierra la bahía".into(),
        "Tomás encuentra la carta".into(),
    ];
    let text = run(&writer(), req).await.text;
    assert!(
        text.contains("la tormenta cierra la bahía") || text.contains("Tomás encuentra la carta"),
        "{text}"
    );
    let spanish = [" el ", " la ", " que ", " de "]
        .iter()
        .filter(|w| text.contains(*w))
        .count();
    assert!(spanish >= 3, "{text}");
    assert!(text.chars().any(|c| "áéíóúñ¿¡«".contains(c)), "{text}");
    assert!(!text.contains(" the "), "{text}");
}

#[actix_web::test]
async fn max_tokens_stops_early_and_a_prefill_is_continued() {
    let w = writer();
    let full = run(&w, chunk(2, Language::En, 800, 8000)).await.text;
    let cut = run(&w, chunk(2, Language::En, 800, 200)).await;
    let (stop, usage, _) = cut.finished.expect("finished");
    assert_eq!(stop, StopReason::MaxTokens);
    assert!(usage.output_tokens <= 200);
    assert!(full.starts_with(&cut.text));
    let mut cont = chunk(2, Language::En, 800, 8000);
    cont.context.continuation = true;
    cont.messages.push(Message {
        role: Role::Assistant,
        content: cut.text.clone(),
    });
    let rest = run(&w, cont).await;
    assert_eq!(rest.finished.map(|f| f.0), Some(StopReason::EndTurn));
    assert_eq!(format!("{}{}", cut.text, rest.text), full);
}

#[actix_web::test]
async fn architecture_answers_validate() {
    for (language, pages, idea) in [
        (
            Language::En,
            Some(120),
            "A lighthouse keeper who receives letters from the future",
        ),
        (
            Language::Es,
            Some(30),
            "Una panadera que descubre un mapa en la harina",
        ),
        (Language::En, None, ""),
    ] {
        let req = CompletionRequest {
            purpose: CallPurpose::Architecture,
            system: "s".into(),
            messages: vec![Message {
                role: Role::User,
                content: idea.into(),
            }],
            max_tokens: 8000,
            temperature: None,
            context: RequestContext {
                language,
                idea: Some(idea.into()),
                target_pages: pages,
                ..Default::default()
            },
        };
        let o = run(&writer(), req).await;
        let mut a: Architecture = serde_json::from_str(&o.text).expect("architecture JSON");
        a.validate().expect("valid");
        assert_eq!(a.language, language);
        assert!(a.chapters.len() >= 3);
        if let Some(p) = pages {
            let words = a.total_target_words();
            assert!(
                words >= u64::from(p) * 150 && words <= u64::from(p) * 400,
                "{p} pages: {words} words"
            );
        }
    }
}

#[actix_web::test]
async fn summaries_are_short_and_name_the_chapter() {
    let mut req = chunk(3, Language::Es, 100, 500);
    req.purpose = CallPurpose::Summary;
    let text = run(&writer(), req).await.text;
    assert!(text.contains("«Chapter 1»"), "{text}");
    assert!(text.split_whitespace().count() < 80);
}
