//! Books for the tests: deterministic generated prose, varied enough to
//! exercise justification, hyphenation, emphasis, dialogue, scene breaks and
//! every Spanish character the exports must keep.

use buko_export::{BookDoc, ChapterDoc, Language};

/// The characters a Spanish book must carry through every format.
pub const SPANISH_CHARS: [char; 17] = [
    'á', 'é', 'í', 'ó', 'ú', 'ü', 'ñ', '¿', '¡', '«', '»', '—', '“', '”', 'Ñ', 'É', 'Á',
];

const ES_WORDS: &[&str] = &[
    "el",
    "la",
    "los",
    "las",
    "un",
    "una",
    "casa",
    "faro",
    "mar",
    "niño",
    "niña",
    "camión",
    "pingüino",
    "corazón",
    "árbol",
    "días",
    "música",
    "último",
    "razón",
    "después",
    "también",
    "jamás",
    "aquí",
    "allí",
    "señora",
    "montaña",
    "mañana",
    "sueño",
    "cigüeña",
    "águila",
    "década",
    "pájaro",
    "lámpara",
    "ventana",
    "silencio",
    "camino",
    "historia",
    "recuerdo",
    "viento",
    "luz",
    "sombra",
    "puerto",
    "barco",
    "marinero",
    "carta",
    "secreto",
    "invierno",
    "verano",
    "pueblo",
    "ciudad",
    "río",
    "puente",
    "tímido",
    "rápido",
    "antiguo",
    "hermoso",
    "oscuro",
    "lejano",
    "extraño",
    "pequeño",
    "caminaba",
    "miraba",
    "escribió",
    "decía",
    "pensó",
    "sabía",
    "volvió",
    "encontró",
    "guardó",
    "esperó",
    "bajo",
    "sobre",
    "entre",
    "hacia",
    "desde",
    "con",
    "sin",
    "porque",
    "aunque",
    "mientras",
    "cuando",
    "donde",
    "como",
    "Ñandú",
    "Éramos",
    "Ángela",
    "nunca",
    "siempre",
    "todavía",
    "quizás",
    "sólo",
    "más",
    "menos",
    "muy",
    "que",
    "de",
    "y",
];

const EN_WORDS: &[&str] = &[
    "the",
    "a",
    "house",
    "lighthouse",
    "sea",
    "child",
    "truck",
    "heart",
    "tree",
    "days",
    "music",
    "last",
    "reason",
    "after",
    "also",
    "never",
    "here",
    "there",
    "lady",
    "mountain",
    "morning",
    "dream",
    "eagle",
    "decade",
    "bird",
    "lamp",
    "window",
    "silence",
    "road",
    "story",
    "memory",
    "wind",
    "light",
    "shadow",
    "harbour",
    "boat",
    "sailor",
    "letter",
    "secret",
    "winter",
    "summer",
    "village",
    "city",
    "river",
    "bridge",
    "shy",
    "quick",
    "ancient",
    "beautiful",
    "dark",
    "distant",
    "strange",
    "small",
    "walked",
    "watched",
    "wrote",
    "said",
    "thought",
    "knew",
    "returned",
    "found",
    "kept",
    "waited",
    "under",
    "over",
    "between",
    "toward",
    "from",
    "with",
    "without",
    "because",
    "although",
    "while",
    "when",
    "where",
    "as",
    "always",
    "still",
    "perhaps",
    "only",
    "more",
    "less",
    "very",
    "that",
    "of",
    "and",
    "café",
    "naïve",
    "señor",
    "piñata",
    "résumé",
    "jalapeño",
];

/// xorshift64*: deterministic, no dependency, good enough to vary prose.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sentence(rng: &mut Rng, words: &[&str], language: Language) -> String {
    let len = 6 + rng.below(14);
    let mut w: Vec<String> = (0..len)
        .map(|_| words[rng.below(words.len())].to_owned())
        .collect();
    if rng.below(9) == 0 {
        let i = rng.below(len);
        w[i] = format!("*{}*", w[i]);
    }
    if rng.below(13) == 0 {
        let i = rng.below(len);
        w[i] = format!("**{}**", w[i]);
    }
    let mut s = w.join(" ");
    if let Some(first) = s.get(..1) {
        s = first.to_uppercase() + &s[1..];
    }
    match (language, rng.below(6)) {
        (Language::Es, 0) => format!("¿{s}?"),
        (Language::Es, 1) => format!("¡{s}!"),
        (Language::Es, 2) => format!("—{s} —dijo la señora Núñez—. «Ya verás»."),
        (Language::Es, 3) => format!("Ella respondió: “{s}”."),
        (Language::En, 0) => format!("{s}?"),
        (Language::En, 1) => format!("\"{s},\" she said -- and it's true."),
        (Language::En, 2) => format!("{s}... “Perhaps.”"),
        _ => format!("{s}."),
    }
}

fn chapter_text(rng: &mut Rng, language: Language, target_words: usize) -> String {
    let words = match language {
        Language::Es => ES_WORDS,
        Language::En => EN_WORDS,
    };
    let mut paragraphs: Vec<String> = Vec::new();
    let mut count = 0;
    while count < target_words {
        let n = 2 + rng.below(6);
        let para: Vec<String> = (0..n).map(|_| sentence(rng, words, language)).collect();
        let para = para.join(" ");
        count += para.split_whitespace().count();
        paragraphs.push(para);
        match rng.below(40) {
            0 => paragraphs.push("* * *".into()),
            1 => paragraphs.push("***".into()),
            2 => paragraphs.push(match language {
                Language::Es => "## Interludio en el puerto".into(),
                Language::En => "## Interlude at the harbour".into(),
            }),
            _ => {}
        }
    }
    paragraphs.join("\n\n")
}

pub fn chapter_title(language: Language, n: usize) -> String {
    match language {
        Language::Es => format!("La señal número {n}: ¿dónde está el pingüino?"),
        Language::En => format!("The signal number {n}: where is the café?"),
    }
}

/// A book of `chapters` chapters of about `words_per_chapter` words each.
pub fn book(language: Language, chapters: usize, words_per_chapter: usize) -> BookDoc {
    let mut rng =
        Rng(0x9E37_79B9_7F4A_7C15 ^ (chapters as u64) ^ ((language == Language::Es) as u64));
    let (title, subtitle, author, synopsis) = match language {
        Language::Es => (
            "El último faro de Añón",
            "Una novela sobre «señales» y pingüinos",
            "Begoña Núñez Ibáñez",
            "¿Qué guarda el farero? ¡Nadie lo sabe! Una historia de mar — y de música.",
        ),
        Language::En => (
            "The Last Lighthouse",
            "A novel of signals and cafés",
            "Zoë Brontë-Smith",
            "What does the keeper hide? Nobody knows: a story of the sea — and of music.",
        ),
    };
    BookDoc {
        id: "7b0f5a3e-2c1d-4e8f-9a6b-3d2c1b0a9f8e".into(),
        title: title.into(),
        subtitle: subtitle.into(),
        author: author.into(),
        language,
        synopsis: synopsis.into(),
        dedication: String::new(),
        copyright: String::new(),
        is_demo: true,
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date"),
        chapters: (1..=chapters)
            .map(|n| ChapterDoc {
                title: chapter_title(language, n),
                text: chapter_text(&mut rng, language, words_per_chapter),
            })
            .collect(),
    }
}

/// The long book of the brief: 60 chapters, ~80,000 words, ~300 pages.
pub fn long_book(language: Language) -> BookDoc {
    book(language, 60, 1_350)
}

pub fn short_book(language: Language) -> BookDoc {
    book(language, 2, 900)
}

/// A book whose title and texts try to break out of every format's markup.
pub fn hostile_book() -> BookDoc {
    let mut doc = book(Language::En, 2, 300);
    doc.title = r#"<script>&"'/../ #set page(width: 1pt) \ ] } */ {{x}}"#.into();
    doc.subtitle = "</dc:title><x> & 'quoted' \"double\"".into();
    doc.author = "O'Brien & <Sons> #emph[x] $math$".into();
    doc.synopsis = "]]> <!-- --> \u{0}\u{1b}".into();
    doc.chapters[0].title = r#"<b>bold</b> & "quotes" / ../ #pagebreak() @ref <label>"#.into();
    doc.chapters[0].text.insert_str(
        0,
        "#import \"x.typ\": * \\ `raw` $x$ <tag> @ref [link](x) = h\n\n",
    );
    doc
}
