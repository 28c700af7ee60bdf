//! Chunk planning: how a book's chapters become numbered chunks that each fit in one response. Pure and
//! deterministic, so a restarted orchestrator gets the same seqs and can resume from what is committed.

use crate::config::EngineConfig;
use crate::model::Architecture;

/// One unit of writing: a chapter, or a part of one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedChunk {
    /// Global, 1-based, in reading order.
    pub seq: i64,
    pub chapter_index: usize,
    pub part_index: usize,
    pub parts_in_chapter: usize,
    pub word_budget: u32,
}

impl PlannedChunk {
    pub fn is_last_of_chapter(&self) -> bool {
        self.part_index + 1 == self.parts_in_chapter
    }
}

/// Most words planned into one response: the token limit × words per token, minus the safety margin.
pub fn words_per_response(max_output_tokens: u32, config: &EngineConfig) -> u32 {
    let margin = config.safety_margin.clamp(0.0, 0.9);
    let words = f64::from(max_output_tokens) * config.words_per_token.max(0.05) * (1.0 - margin);
    (words.floor() as u32).max(50)
}

/// Chapters in order; a chapter bigger than one response is split into near-equal parts.
pub fn plan_chunks(
    architecture: &Architecture,
    max_output_tokens: u32,
    config: &EngineConfig,
) -> Vec<PlannedChunk> {
    let per_response = words_per_response(max_output_tokens, config);
    let mut chunks = Vec::new();
    let mut seq = 0;
    for (chapter_index, chapter) in architecture.chapters.iter().enumerate() {
        let target = chapter.target_words.max(1);
        let parts = target.div_ceil(per_response).max(1);
        let base = target / parts;
        let extra = target % parts;
        for part in 0..parts {
            seq += 1;
            chunks.push(PlannedChunk {
                seq,
                chapter_index,
                part_index: part as usize,
                parts_in_chapter: parts as usize,
                word_budget: base + u32::from(part < extra),
            });
        }
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChapterPlan;

    fn arch(words: &[u32]) -> Architecture {
        Architecture {
            title: "T".into(),
            chapters: words
                .iter()
                .enumerate()
                .map(|(i, w)| ChapterPlan {
                    title: format!("C{i}"),
                    target_words: *w,
                    ..ChapterPlan::default()
                })
                .collect(),
            ..Architecture::default()
        }
    }

    #[test]
    fn response_size_applies_ratio_and_margin() {
        let c = EngineConfig::default();
        // 4000 tokens × 0.75 words × 0.8 = 2400 words.
        assert_eq!(words_per_response(4000, &c), 2400);
    }

    #[test]
    fn big_chapters_split_into_parts_that_fit() {
        let c = EngineConfig::default();
        let plan = plan_chunks(&arch(&[2000, 5000, 2400, 2401]), 4000, &c);
        let shape: Vec<_> = plan
            .iter()
            .map(|p| (p.seq, p.chapter_index, p.part_index, p.word_budget))
            .collect();
        assert_eq!(
            shape,
            vec![
                (1, 0, 0, 2000),
                (2, 1, 0, 1667),
                (3, 1, 1, 1667),
                (4, 1, 2, 1666),
                (5, 2, 0, 2400),
                (6, 3, 0, 1201),
                (7, 3, 1, 1200)
            ]
        );
        assert!(plan
            .iter()
            .all(|p| p.word_budget <= words_per_response(4000, &c)));
        assert!(plan[3].is_last_of_chapter() && !plan[2].is_last_of_chapter());
    }

    #[test]
    fn plan_is_deterministic() {
        let c = EngineConfig::default();
        let a = arch(&[900, 12000, 300]);
        assert_eq!(plan_chunks(&a, 1000, &c), plan_chunks(&a, 1000, &c));
        let total: u32 = plan_chunks(&a, 1000, &c)
            .iter()
            .map(|p| p.word_budget)
            .sum();
        assert_eq!(total, 13200);
    }
}
