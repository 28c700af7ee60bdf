//! Printed length ↔ words for the PDF export's layout (`export/src/pdf/book.typ`: Libertinus Serif
//! 11 pt, 5.5 × 8.5 in, margins 20 / 16 / 19 / 21 mm, justified), measured once per language on the
//! offline writer's prose with `cargo run --bin page-calibration` (see that program; run it again
//! when the layout changes). A book asked for N pages gets chapter targets whose words fill N pages
//! of that PDF: front matter and each chapter's opening page are counted apart from the prose.

use crate::model::{Architecture, Language, MAX_TARGET_WORDS, MIN_TARGET_WORDS};

// Measured 2026-11-27 with `cargo run --bin page-calibration`:
//   en: an offline book for 300 pages (24 chapters, 108632 words) → 314 pages; its prose fills 361.0
//       words a page. 6 × 10000 words → 165 pages, 60 × 1000 words → 186 pages: a chapter opening
//       adds 0.39 page; one 100-word chapter → 5 pages (4 of front matter).
//   es: the same book (108027 words) → 300 pages, 376.6 words a page; 166 and 186 pages, 0.37.
// The words per page are the whole offline book's (its prose: key points, names, dialogue-free
// paragraphs), the openings those of the two long books.

/// Words on a full page of prose, English.
pub const WORDS_PER_PAGE_EN: f64 = 361.0;
/// Words on a full page of prose, Spanish.
pub const WORDS_PER_PAGE_ES: f64 = 376.0;
/// Cover, title page, copyright page and contents.
pub const FRONT_MATTER_PAGES: f64 = 4.0;
/// The share of a page each chapter adds besides its words (it opens on a new page, 16 mm down,
/// under its heading; the contents grow by a line): 0.39 English, 0.37 Spanish.
pub const CHAPTER_OPENING_PAGES: f64 = 0.38;

pub fn words_per_page(language: Language) -> f64 {
    match language {
        Language::En => WORDS_PER_PAGE_EN,
        Language::Es => WORDS_PER_PAGE_ES,
    }
}

/// Words of prose that make a `pages`-page PDF with `chapters` chapters.
pub fn words_for_pages(pages: u32, chapters: usize, language: Language) -> u32 {
    let prose_pages =
        f64::from(pages) - FRONT_MATTER_PAGES - chapters as f64 * CHAPTER_OPENING_PAGES;
    (prose_pages.max(1.0) * words_per_page(language)).round() as u32
}

/// Pages of the PDF of a book of `words` words in `chapters` chapters.
pub fn pages_for_words(words: u64, chapters: usize, language: Language) -> f64 {
    FRONT_MATTER_PAGES
        + chapters as f64 * CHAPTER_OPENING_PAGES
        + words as f64 / words_per_page(language)
}

/// Scales the chapters' word targets (keeping their proportions, within the allowed range) so the
/// book fills `pages` pages. A chapter held at a bound leaves the rest to the others.
pub fn fit_to_pages(architecture: &mut Architecture, pages: u32) {
    let chapters = architecture.chapters.len();
    if chapters == 0 || architecture.chapters.iter().all(|c| c.target_words == 0) {
        return;
    }
    let want = f64::from(words_for_pages(pages, chapters, architecture.language));
    let mut held = vec![false; chapters];
    for _ in 0..4 {
        let (mut held_words, mut free_words) = (0.0, 0.0);
        for (c, h) in architecture.chapters.iter().zip(&held) {
            if *h {
                held_words += f64::from(c.target_words);
            } else {
                free_words += f64::from(c.target_words);
            }
        }
        if free_words <= 0.0 {
            break;
        }
        let scale = (want - held_words).max(0.0) / free_words;
        let mut clamped = false;
        for (c, h) in architecture.chapters.iter_mut().zip(held.iter_mut()) {
            if *h {
                continue;
            }
            let w = (f64::from(c.target_words) * scale).round() as u32;
            c.target_words = w.clamp(MIN_TARGET_WORDS, MAX_TARGET_WORDS);
            if c.target_words != w {
                *h = true;
                clamped = true;
            }
        }
        if !clamped {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChapterPlan;

    #[test]
    fn pages_and_words_are_inverse() {
        for (pages, chapters) in [(300, 30), (100, 8), (40, 4)] {
            let words = words_for_pages(pages, chapters, Language::Es);
            let back = pages_for_words(u64::from(words), chapters, Language::Es);
            assert!((back - f64::from(pages)).abs() < 0.01, "{pages} → {back}");
        }
    }

    #[test]
    fn fitting_keeps_proportions_and_fills_the_pages() {
        let mut a = Architecture {
            chapters: [1000, 2000, 3000]
                .iter()
                .map(|w| ChapterPlan {
                    title: "c".into(),
                    target_words: *w,
                    ..ChapterPlan::default()
                })
                .collect(),
            ..Architecture::default()
        };
        fit_to_pages(&mut a, 100);
        let words: Vec<u32> = a.chapters.iter().map(|c| c.target_words).collect();
        let total: u32 = words.iter().sum();
        let want = words_for_pages(100, 3, Language::En);
        assert!(total.abs_diff(want) <= 2, "{total} vs {want}");
        assert!(words[1].abs_diff(2 * words[0]) <= 1 && words[2].abs_diff(3 * words[0]) <= 1);

        // A chapter held at the maximum leaves its share to the others.
        for (c, w) in a.chapters.iter_mut().zip([1_000, 1_000, 19_000]) {
            c.target_words = w;
        }
        fit_to_pages(&mut a, 100);
        let total: u32 = a.chapters.iter().map(|c| c.target_words).sum();
        let want = words_for_pages(100, 3, Language::En);
        assert_eq!(a.chapters[2].target_words, MAX_TARGET_WORDS);
        assert!(total.abs_diff(want) <= 2, "{total} vs {want}");
    }
}
