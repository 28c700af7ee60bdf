//! Refusals said in the user's language and in plain words: a wait as "in 59 minutes", a field
//! error as a sentence naming the field ("Target pages: choose a number from 10 to 1000"), never
//! seconds or ranges written as code. Pages use it; the API keeps its English `message`.

use buko_actors::model::{
    ArchitectureError, MAX_CHAPTERS, MAX_TARGET_WORDS, MAX_TEXT_CHARS, MAX_TITLE_CHARS,
    MIN_TARGET_WORDS,
};

use crate::books::Problem;
use crate::i18n::Tr;

/// Replaces each `{name}` of `template` with its value.
pub fn fill(template: &str, args: &[(&str, String)]) -> String {
    args.iter().fold(template.to_string(), |s, (name, value)| {
        s.replace(&format!("{{{name}}}"), value)
    })
}

/// A whole number with a thousands separator in the locale's style (20,000 / 20.000).
pub fn number(t: Tr, n: u64) -> String {
    let sep = if t.locale().code() == "es" { '.' } else { ',' };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

fn unit(t: Tr, n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", t.get(if n == 1 { one } else { many }))
}

/// How long until `secs` have passed, in words: "in 45 seconds", "in 59 minutes", "in 2 hours and
/// 5 minutes", "in 3 days" (rounded down below a day, so a wait is never promised shorter than it is
/// by more than a minute).
pub fn in_words(t: Tr, secs: u64) -> String {
    let span = if secs < 60 {
        unit(t, secs.max(1), "time.second", "time.seconds")
    } else if secs < 3600 {
        unit(t, secs / 60, "time.minute", "time.minutes")
    } else if secs < 2 * 86_400 {
        let (h, m) = (secs / 3600, secs % 3600 / 60);
        let hours = unit(t, h, "time.hour", "time.hours");
        if m == 0 {
            hours
        } else {
            format!(
                "{hours} {} {}",
                t.get("time.and"),
                unit(t, m, "time.minute", "time.minutes")
            )
        }
    } else {
        unit(t, secs.div_ceil(86_400), "time.day", "time.days")
    };
    format!("{} {span}", t.get("time.in"))
}

/// A notice whose `{when}` is the wait in words ("limits.no_books" → "… available in 59 minutes.").
pub fn with_wait(t: Tr, key: &str, secs: u64) -> String {
    fill(t.get(key), &[("when", in_words(t, secs))])
}

/// The label of a field as the author sees it on the form.
fn field_label(t: Tr, field: &str) -> &'static str {
    t.get(match field {
        "idea" => "books.idea",
        "genre" => "books.genre",
        "audience" => "books.audience",
        "tone" => "books.tone",
        "language" => "books.language",
        "target_pages" => "books.target_pages",
        "content" => "editor.text",
        "instruction" => "problem.instruction",
        "display_name" => "settings.display_name",
        "pen_name" => "credits.pen_name",
        "dedication" => "credits.dedication",
        "copyright_line" => "credits.copyright",
        "title" => "books.title",
        "subtitle" => "books.subtitle",
        "synopsis" => "books.synopsis",
        _ => "books.title",
    })
}

/// A refused field in a sentence, in the author's language (`reason`, English, when the page has no
/// better words for it).
pub fn problem(t: Tr, field: &str, problem: &Problem, reason: &str) -> String {
    let label = || field_label(t, field).to_string();
    match problem {
        Problem::Empty => fill(t.get("problem.empty"), &[("field", label())]),
        Problem::TooLong { max } => fill(
            t.get("problem.too_long"),
            &[("field", label()), ("max", number(t, *max as u64))],
        ),
        Problem::Range { min, max } => fill(
            t.get("problem.range"),
            &[
                ("field", label()),
                ("min", min.to_string()),
                ("max", max.to_string()),
            ],
        ),
        Problem::UnknownLanguage => t.get("problem.language").to_string(),
        Problem::PlanPages { max_pages } => fill(
            t.get("problem.plan_pages"),
            &[("max", max_pages.to_string())],
        ),
        Problem::WordTargetNotANumber { chapter } => {
            fill(t.get("problem.not_a_number"), &[("n", chapter.to_string())])
        }
        Problem::Architecture(e) => architecture(t, e),
        Problem::Other => reason.to_string(),
    }
}

fn architecture(t: Tr, e: &ArchitectureError) -> String {
    use ArchitectureError as E;
    let max_title = || ("max", number(t, MAX_TITLE_CHARS as u64));
    let max_text = || ("max", number(t, MAX_TEXT_CHARS as u64));
    match e {
        E::NoTitle => t.get("arch.no_title").to_string(),
        E::TitleTooLong => fill(t.get("arch.title_too_long"), &[max_title()]),
        E::FieldTooLong(field) => fill(
            t.get("arch.field_too_long"),
            &[("field", field_label(t, field).to_string()), max_text()],
        ),
        E::NoChapters => t.get("arch.no_chapters").to_string(),
        E::TooManyChapters => fill(
            t.get("arch.too_many_chapters"),
            &[("max", MAX_CHAPTERS.to_string())],
        ),
        E::ChapterWithoutTitle(n) => fill(t.get("arch.chapter_no_title"), &[("n", n.to_string())]),
        E::ChapterTitleTooLong(n) => fill(
            t.get("arch.chapter_title_too_long"),
            &[("n", n.to_string()), max_title()],
        ),
        E::ChapterSummaryTooLong(n) => fill(
            t.get("arch.chapter_summary_too_long"),
            &[("n", n.to_string()), max_text()],
        ),
        E::WordTarget { chapter, words } => fill(
            t.get("arch.word_target"),
            &[
                ("n", chapter.to_string()),
                ("words", number(t, u64::from(*words))),
                ("min", number(t, u64::from(MIN_TARGET_WORDS))),
                ("max", number(t, u64::from(MAX_TARGET_WORDS))),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buko_lang::Language;

    #[test]
    fn waits_read_as_words_in_both_languages() {
        let (en, es) = (Tr(Language::En), Tr(Language::Es));
        assert_eq!(in_words(en, 3599), "in 59 minutes");
        assert_eq!(in_words(es, 3599), "en 59 minutos");
        assert_eq!(in_words(en, 61), "in 1 minute");
        assert_eq!(in_words(en, 0), "in 1 second");
        assert_eq!(in_words(es, 45), "en 45 segundos");
        assert_eq!(in_words(en, 3600), "in 1 hour");
        assert_eq!(in_words(es, 7500), "en 2 horas y 5 minutos");
        assert_eq!(in_words(en, 5 * 86_400 - 10), "in 5 days");
    }

    #[test]
    fn field_errors_are_sentences_without_code_ranges() {
        let es = Tr(Language::Es);
        let e = ArchitectureError::WordTarget {
            chapter: 2,
            words: 50,
        };
        let said = problem(es, "architecture", &Problem::Architecture(e), "");
        assert_eq!(
            said,
            "El capítulo 2 pide 50 palabras; un capítulo puede tener de 100 a 20.000 palabras."
        );
        let en = Tr(Language::En);
        let said = problem(
            en,
            "target_pages",
            &Problem::Range { min: 10, max: 1000 },
            "",
        );
        assert_eq!(said, "Target pages: choose a number from 10 to 1000.");
        assert!(!said.contains("..="));
    }
}
