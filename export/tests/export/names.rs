//! Download names for hostile titles: safe on every file system and in a
//! Content-Disposition header, for every format.

use buko_export::{file_name, Format};

use crate::fixtures::hostile_book;

#[test]
fn hostile_titles_give_safe_file_names() {
    let titles = [
        hostile_book().title,
        "../../../etc/passwd".into(),
        "..".into(),
        "a/b\\c:d*e?f\"g<h>i|j&k".into(),
        "\u{0}\u{1f}\u{7f}".into(),
        "¿Qué pasó en Añón? «El último faro»".into(),
        "CON".into(),
        "x".repeat(1000),
    ];
    for title in &titles {
        for format in Format::ALL {
            let name = file_name(title, format);
            let stem = name
                .strip_suffix(&format!(".{}", format.extension()))
                .expect("extension");
            assert!(!stem.is_empty() && stem.chars().count() <= 80, "{name:?}");
            assert!(!name.contains(".."), "{name:?}");
            assert!(
                !name
                    .chars()
                    .any(|c| c.is_control() || "/\\<>:\"|?*&' ".contains(c)),
                "{name:?}"
            );
            assert!(
                !stem.starts_with(['-', '.']) && !stem.ends_with(['-', '.']),
                "{name:?}"
            );
            assert_eq!(Format::from_ext(format.extension()), Some(format));
        }
    }
    assert_eq!(
        file_name("¿Qué pasó en Añón? «El último faro»", Format::Epub),
        "que-paso-en-anon-el-ultimo-faro.epub"
    );
    assert_eq!(file_name("..", Format::Pdf), "book.pdf");
}
