//! The fixed words the exports print around the author's text (contents,
//! copyright lines, the offline-demo notice), in the book's own language.

use crate::model::{Book, Language};

pub struct Labels {
    pub contents: &'static str,
    pub chapter: &'static str,
    pub untitled: &'static str,
    pub anonymous: &'static str,
    pub by: &'static str,
    pub rights: &'static str,
    pub first_edition: &'static str,
    pub about: &'static str,
    pub identifier: &'static str,
    pub demo_notice: &'static str,
    pub made_with: &'static str,
}

const EN: Labels = Labels {
    contents: "Contents",
    chapter: "Chapter",
    untitled: "Untitled",
    anonymous: "Anonymous",
    by: "by",
    rights: "All rights reserved.",
    first_edition: "First edition",
    about: "About this book",
    identifier: "Identifier",
    demo_notice: "Offline demo text. This book was written by Buko’s offline demo \
                  generator, without a language model, to show how the studio works. \
                  It is sample text, not a real book.",
    made_with: "Made with Buko, an AI book studio.",
};

const ES: Labels = Labels {
    contents: "Índice",
    chapter: "Capítulo",
    untitled: "Sin título",
    anonymous: "Anónimo",
    by: "por",
    rights: "Todos los derechos reservados.",
    first_edition: "Primera edición",
    about: "Sobre este libro",
    identifier: "Identificador",
    demo_notice: "Texto de demostración sin conexión. Este libro lo escribió el \
                  generador de demostración de Buko, sin un modelo de lenguaje, para \
                  mostrar cómo funciona el estudio. Es un texto de muestra, no un libro real.",
    made_with: "Hecho con Buko, un estudio de libros con IA.",
};

impl Labels {
    pub fn for_language(language: Language) -> &'static Labels {
        match language {
            Language::En => &EN,
            Language::Es => &ES,
        }
    }

    /// "© 2026 Ana Pérez. All rights reserved."
    pub fn copyright_line(&self, book: &Book) -> String {
        if let Some(line) = &book.copyright {
            return line.clone();
        }
        format!("© {} {}. {}", book.year(), book.author, self.rights)
    }

    /// "First edition: 22 November 2026" / "Primera edición: 22 de noviembre de 2026".
    pub fn edition_line(&self, book: &Book) -> String {
        format!("{}: {}", self.first_edition, long_date(book))
    }

    /// The label printed above a chapter title ("Chapter 3"), or `None` when
    /// the title already starts with that word and repeating it would stutter.
    pub fn chapter_label(&self, number: usize, title: &str) -> Option<String> {
        let word = self.chapter.to_lowercase();
        if title.to_lowercase().starts_with(&word) {
            None
        } else {
            Some(format!("{} {number}", self.chapter))
        }
    }
}

fn long_date(book: &Book) -> String {
    use chrono::Datelike;
    let d = book.date;
    let i = d.month0() as usize;
    match book.language {
        Language::En => {
            const MONTHS: [&str; 12] = [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ];
            format!("{} {} {}", d.day(), MONTHS[i], d.year())
        }
        Language::Es => {
            const MESES: [&str; 12] = [
                "enero",
                "febrero",
                "marzo",
                "abril",
                "mayo",
                "junio",
                "julio",
                "agosto",
                "septiembre",
                "octubre",
                "noviembre",
                "diciembre",
            ];
            format!("{} de {} de {}", d.day(), MESES[i], d.year())
        }
    }
}
