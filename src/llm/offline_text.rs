//! The offline writer's text generator: deterministic, readable prose in English or Spanish built from
//! sentence templates, the book's names and the chapter's key points, driven by a seeded RNG over
//! (book, seq, part, paragraph). It is demo text and says nothing it was not given; it never does I/O.
//! Also shared by the fake LLM server so load tests produce sensible books.

use buko_actors::{Language, RequestContext};

/// SplitMix64: tiny, stable across platforms and crate versions (the text must not change with `rand`).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// One of `items` (which must not be empty).
    pub fn pick<'a, T: AsRef<str>>(&mut self, items: &'a [T]) -> &'a str {
        items[self.below(items.len())].as_ref()
    }
}

/// FNV-1a over strings and numbers: the seed of a piece of text.
pub fn seed_of(strs: &[&str], nums: &[u64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    for s in strs {
        s.bytes().for_each(&mut eat);
        eat(0xff);
    }
    for n in nums {
        n.to_le_bytes().into_iter().for_each(&mut eat);
    }
    h
}

/// What a passage is about.
#[derive(Clone, Debug, Default)]
pub struct Topic {
    pub title: String,
    pub chapter: String,
    pub points: Vec<String>,
    pub names: Vec<String>,
}

struct Lexicon {
    templates: &'static [&'static str],
    places: &'static [&'static str],
    things: &'static [&'static str],
    times: &'static [&'static str],
    feelings: &'static [&'static str],
    links: &'static [&'static str],
    names: &'static [&'static str],
}

const EN: Lexicon = Lexicon {
    templates: &[
        "{M}, {N} walked to {L} with {P} still on {h} mind.",
        "Nobody near {L} had expected {O} to matter so much.",
        "{N} said nothing for a long moment, and the silence felt {F}.",
        "It was there, beside {O}, that the idea of {P} became impossible to ignore.",
        "{K} {N2} insisted that {P} deserved more than a passing thought.",
        "The air in {L} smelled of rain and old paper.",
        "{N} picked up {O} and turned it over, as if it could explain {P}.",
        "Some questions are answered slowly, and this was one of them.",
        "{M}, the whole of {L} seemed to hold its breath.",
        "{N2} laughed, but the laugh sounded {F} even to the people nearby.",
        "What had begun as a small doubt about {P} grew into a plan.",
        "{K} there was {O}, waiting where nobody would think to look.",
        "The story of {C} was not finished yet, and {N} knew it.",
        "Every step toward {L} made the answer feel a little closer.",
        "{N} wrote a single line in the notebook: {P}.",
        "For a moment the world narrowed to {O} and the sound of footsteps.",
        "{N} and {N2} argued about {P} until the light changed.",
        "It felt {F}, the way endings sometimes do before they arrive.",
        "{K} the memory of {L} returned, sharper than before.",
        "Later, {N2} would say that {O} had changed everything.",
    ],
    places: &[
        "the harbour",
        "the old library",
        "the market square",
        "the hill above the town",
        "the narrow station",
        "the empty workshop",
        "the kitchen",
        "the lighthouse",
        "the orchard",
        "the river path",
        "the archive",
        "the north road",
    ],
    things: &[
        "the letter",
        "a brass key",
        "the faded map",
        "an unfinished drawing",
        "the broken compass",
        "a wooden box",
        "the photograph",
        "the ledger",
        "a borrowed coat",
        "the lantern",
        "a folded note",
        "the clock",
    ],
    times: &[
        "At dawn",
        "By noon",
        "That evening",
        "Long after midnight",
        "On the third day",
        "Before the storm",
        "When the bells rang",
        "In the grey morning",
        "Some hours later",
        "Just before dusk",
    ],
    feelings: &[
        "heavy",
        "strangely calm",
        "fragile",
        "warm",
        "unbearable",
        "familiar",
        "electric",
        "honest",
        "uncertain",
        "bright",
    ],
    links: &[
        "Meanwhile,",
        "Even so,",
        "At last",
        "Still,",
        "Then",
        "Of course,",
        "Quietly,",
        "By then",
        "Even now",
        "Perhaps",
    ],
    names: &[
        "Clara", "Tomas", "Elena", "Marcus", "Ines", "Jonah", "Lucia", "Adrian", "Maya", "Oscar",
        "Vera", "Daniel",
    ],
};

const ES: Lexicon = Lexicon {
    templates: &[
        "{M}, {N} caminó hasta {L} sin dejar de pensar en {P}.",
        "Nadie cerca de {L} esperaba que {O} importara tanto.",
        "{N} guardó silencio un largo rato, y aquel silencio se volvió {F}.",
        "Fue allí, junto a {O}, donde la idea de {P} se hizo imposible de ignorar.",
        "{K} {N2} insistió en que {P} merecía algo más que una mirada rápida.",
        "El aire de {L} olía a lluvia y a papel antiguo.",
        "{N} tomó {O} y le dio la vuelta, como si pudiera explicar {P}.",
        "Algunas preguntas se responden despacio, y esta era una de ellas.",
        "{M}, en {L} todo pareció contener la respiración.",
        "{N2} se rio, pero la risa sonó {F} incluso para quienes la oyeron.",
        "Lo que empezó como una pequeña duda sobre {P} acabó siendo un plan.",
        "{K} allí estaba {O}, esperando donde nadie pensaría en buscar.",
        "La historia de «{C}» aún no había terminado, y {N} lo sabía.",
        "¿Cuánto faltaba para entenderlo? Cada paso hacia {L} lo acercaba un poco más.",
        "{N} escribió una sola línea en el cuaderno: {P}.",
        "Por un instante, el mundo se redujo a {O} y al sonido de unos pasos.",
        "{N} y {N2} discutieron sobre {P} hasta que cambió la luz.",
        "¡Qué extraño era todo! Se sentía {F}, como a veces se sienten los finales antes de llegar.",
        "{K} el recuerdo de {L} volvió, más nítido que antes.",
        "Tiempo después, {N2} diría que {O} lo había cambiado todo.",
    ],
    places: &["el puerto", "la vieja biblioteca", "la plaza del mercado", "la colina sobre el pueblo", "la estación estrecha", "el taller vacío", "la cocina", "el faro", "el huerto", "el camino del río", "el archivo", "la carretera del norte"],
    things: &["la carta", "una llave de latón", "el mapa desteñido", "un dibujo sin terminar", "la brújula rota", "una caja de madera", "la fotografía", "el libro de cuentas", "un abrigo prestado", "el farol", "una nota doblada", "el reloj"],
    times: &["Al amanecer", "A mediodía", "Aquella tarde", "Mucho después de la medianoche", "Al tercer día", "Antes de la tormenta", "Cuando sonaron las campanas", "En la mañana gris", "Unas horas más tarde", "Justo antes del anochecer"],
    feelings: &["pesado", "extrañamente sereno", "frágil", "cálido", "insoportable", "familiar", "eléctrico", "sincero", "incierto", "luminoso"],
    links: &["Mientras tanto,", "Aun así,", "Por fin", "Sin embargo,", "Entonces", "Por supuesto,", "En voz baja,", "Para entonces", "Incluso ahora", "Quizá"],
    names: &["Clara", "Tomás", "Elena", "Marcos", "Inés", "Jonás", "Lucía", "Adrián", "Maya", "Óscar", "Vera", "Daniel"],
};

fn lexicon(lang: Language) -> &'static Lexicon {
    match lang {
        Language::En => &EN,
        Language::Es => &ES,
    }
}

/// Lower-cases a leading article or determiner so a key point reads well mid-sentence ("The storm" →
/// "the storm", "Una carta" → "una carta"); names and acronyms keep their capitals.
fn soften(p: &str) -> String {
    const LEADING: &[&str] = &[
        "The", "A", "An", "This", "That", "His", "Her", "Their", "Its", "Our", "One", "El", "La",
        "Los", "Las", "Un", "Una", "Unos", "Unas", "Su", "Sus", "Este", "Esta", "Ese", "Esa",
    ];
    let p = p.trim().trim_end_matches(['.', '!', '?']);
    match p.split_once(' ') {
        Some((first, rest)) if LEADING.contains(&first) => {
            format!("{} {rest}", first.to_lowercase())
        }
        _ => p.to_string(),
    }
}

/// Names the book uses: derived from its title so a book keeps its cast.
pub fn cast(lang: Language, title: &str) -> Vec<String> {
    let lex = lexicon(lang);
    let mut rng = Rng::new(seed_of(&["cast", title], &[]));
    let mut names: Vec<String> = Vec::new();
    while names.len() < 3 {
        let n = rng.pick(lex.names).to_string();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

fn sentence(rng: &mut Rng, template: &str, lang: Language, topic: &Topic) -> String {
    let lex = lexicon(lang);
    let names: Vec<String> = if topic.names.is_empty() {
        cast(lang, &topic.title)
    } else {
        topic.names.clone()
    };
    let n = rng.below(names.len());
    let n2 = (n + 1 + rng.below(names.len().saturating_sub(1).max(1))) % names.len();
    let point = if topic.points.is_empty() {
        soften(if topic.chapter.is_empty() {
            &topic.title
        } else {
            &topic.chapter
        })
    } else {
        soften(rng.pick(&topic.points))
    };
    let hers = if rng.below(2) == 0 { "her" } else { "his" };
    let filled = template
        .replace("{M}", rng.pick(lex.times))
        .replace("{N2}", &names[n2])
        .replace("{N}", &names[n])
        .replace("{L}", rng.pick(lex.places))
        .replace("{O}", rng.pick(lex.things))
        .replace("{F}", rng.pick(lex.feelings))
        .replace("{K}", rng.pick(lex.links))
        .replace("{P}", &point)
        .replace("{C}", &topic.chapter)
        .replace("{h}", hers);
    match lang {
        // Spanish contracts "a el" and "de el" when a filler starts with the article.
        Language::Es => filled.replace(" a el ", " al ").replace(" de el ", " del "),
        Language::En => filled,
    }
}

/// Paragraphs (separated by a blank line) of at least `words` words, ending on a full sentence.
pub fn prose(seed: u64, lang: Language, topic: &Topic, words: usize) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut total = 0;
    let mut index = 0u64;
    while total < words.max(1) {
        let mut rng = Rng::new(seed_of(&["paragraph"], &[seed, index]));
        let want = 4 + rng.below(3);
        // Templates are drawn without replacement so a paragraph never repeats a sentence shape.
        let mut templates: Vec<&str> = lexicon(lang).templates.to_vec();
        let mut sentences: Vec<String> = Vec::with_capacity(want);
        while sentences.len() < want && total < words.max(1) && !templates.is_empty() {
            let template = templates.swap_remove(rng.below(templates.len()));
            let s = sentence(&mut rng, template, lang, topic);
            total += s.split_whitespace().count();
            sentences.push(s);
        }
        paragraphs.push(sentences.join(" "));
        index += 1;
    }
    paragraphs.join("\n\n")
}

/// The full text of a chunk: what the offline writer streams (before `max_tokens` cuts it).
pub fn chunk_text(ctx: &RequestContext) -> String {
    let title = ctx.book_title.clone().unwrap_or_else(|| "Untitled".into());
    let topic = Topic {
        title: title.clone(),
        chapter: ctx.chapter_title.clone().unwrap_or_default(),
        points: ctx.key_points.clone(),
        names: cast(ctx.language, &title),
    };
    let book = ctx.book_id.as_deref().unwrap_or(&title);
    let seed = seed_of(
        &[book, ctx.language.code()],
        &[
            ctx.seq.unwrap_or(0) as u64,
            ctx.part_index.unwrap_or(0) as u64,
            ctx.chapter_index.unwrap_or(0) as u64,
        ],
    );
    prose(
        seed,
        ctx.language,
        &topic,
        ctx.word_budget.unwrap_or(600) as usize,
    )
}

/// A short summary of a chapter (the rolling summary the engine keeps).
pub fn summary(ctx: &RequestContext) -> String {
    let title = ctx.book_title.clone().unwrap_or_default();
    let chapter = ctx.chapter_title.clone().unwrap_or_default();
    let names = cast(ctx.language, &title).join(", ");
    let points: Vec<String> = ctx.key_points.iter().map(|p| soften(p)).collect();
    match ctx.language {
        Language::En => format!(
            "In \"{chapter}\", {names} face what the chapter set out to tell: {}. The chapter ends with the way forward open.",
            if points.is_empty() { "the turn the story needed".into() } else { points.join("; ") }
        ),
        Language::Es => format!(
            "En «{chapter}», {names} se enfrentan a lo que el capítulo quería contar: {}. El capítulo termina con el camino abierto.",
            if points.is_empty() { "el giro que la historia necesitaba".into() } else { points.join("; ") }
        ),
    }
}

/// The names and places the generator can write in `lang` (the offline ledger looks for them).
pub fn vocabulary(lang: Language) -> (&'static [&'static str], &'static [&'static str]) {
    let lex = lexicon(lang);
    (lex.names, lex.places)
}
