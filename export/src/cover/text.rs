//! Cover lettering with the bundled fonts (the ones the PDF uses, so Spanish accents and typographic
//! quotes are always there): glyph outlines drawn as paths, lines wrapped by measured width, and the
//! size shrunk until the text fits its box. No shaping beyond one glyph per character: cover titles are
//! short Latin text, and the fonts carry precomposed accented letters.

use std::sync::OnceLock;

use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Transform};
use ttf_parser::{Face, GlyphId, OutlineBuilder};

use super::{FontFamily, Rgb};

/// One face of a bundled family.
struct Loaded {
    data: &'static [u8],
    family: String,
    bold: bool,
    italic: bool,
}

fn fonts() -> &'static [Loaded] {
    static FONTS: OnceLock<Vec<Loaded>> = OnceLock::new();
    FONTS.get_or_init(|| {
        typst_assets::fonts()
            .filter_map(|data| {
                let face = Face::parse(data, 0).ok()?;
                let family = face
                    .names()
                    .into_iter()
                    .find(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
                    .and_then(|n| n.to_string())?;
                Some(Loaded {
                    data,
                    family,
                    bold: face.is_bold(),
                    italic: face.is_italic(),
                })
            })
            .collect()
    })
}

/// The face of `family` with the given weight and slant (the regular face when that one is missing).
pub(super) fn face(family: FontFamily, bold: bool, italic: bool) -> Option<Face<'static>> {
    let want = family.font_name();
    let all = fonts();
    // The exact family first (a family's name also starts "New Computer Modern Math", say).
    let exact = || all.iter().filter(|f| f.family == want);
    let prefixed = || all.iter().filter(|f| f.family.starts_with(want));
    exact()
        .find(|f| f.bold == bold && f.italic == italic)
        .or_else(|| prefixed().find(|f| f.bold == bold && f.italic == italic))
        .or_else(|| exact().find(|f| !f.italic))
        .or_else(|| prefixed().find(|f| !f.italic))
        .or_else(|| all.first())
        .and_then(|f| Face::parse(f.data, 0).ok())
}

fn glyph(face: &Face, c: char) -> GlyphId {
    face.glyph_index(c)
        .or_else(|| face.glyph_index('?'))
        .unwrap_or(GlyphId(0))
}

/// Width of `text` at `size` pixels.
pub(super) fn measure(face: &Face, text: &str, size: f32) -> f32 {
    let scale = size / f32::from(face.units_per_em());
    text.chars()
        .map(|c| f32::from(face.glyph_hor_advance(glyph(face, c)).unwrap_or(0)) * scale)
        .sum()
}

/// Where text goes and how big it may be.
#[derive(Clone, Copy, Debug)]
pub(super) struct TextBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub max_size: f32,
    pub min_size: f32,
    pub max_lines: usize,
    /// Vertical position of the block in the box: 0 top, 0.5 middle, 1 bottom.
    pub valign: f32,
}

const LINE_HEIGHT: f32 = 1.18;

/// Greedy wrap at `width`; a word wider than the line is split by characters.
fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if measure(face, &candidate, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            let mut next = line.clone();
            next.push(c);
            if !line.is_empty() && measure(face, &next, size) > width {
                lines.push(std::mem::replace(&mut line, c.to_string()));
            } else {
                line = next;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The largest size (down to `min_size`) at which `text` fits the box, with its lines. At the smallest
/// size, lines past `max_lines` are dropped and the last kept one ends with an ellipsis.
pub(super) fn fit(face: &Face, text: &str, b: &TextBox) -> (f32, Vec<String>) {
    let mut size = b.max_size;
    loop {
        let lines = wrap(face, text, size, b.w);
        let fits_words = text
            .split_whitespace()
            .all(|w| measure(face, w, size) <= b.w);
        let height = lines.len() as f32 * size * LINE_HEIGHT;
        if (lines.len() <= b.max_lines && height <= b.h && fits_words) || size <= b.min_size {
            let mut lines = lines;
            let max = b
                .max_lines
                .min(((b.h / (size * LINE_HEIGHT)).floor() as usize).max(1));
            if lines.len() > max {
                lines.truncate(max);
                if let Some(last) = lines.last_mut() {
                    while !last.is_empty() && measure(face, &format!("{last}…"), size) > b.w {
                        last.pop();
                    }
                    last.push('…');
                }
            }
            return (size, lines);
        }
        size = (size * 0.92).max(b.min_size);
    }
}

/// Fits and draws `text` centred in the box. Returns the bottom of the drawn block (for what follows).
pub(super) fn draw(pixmap: &mut Pixmap, face: &Face, text: &str, b: &TextBox, color: Rgb) -> f32 {
    if text.trim().is_empty() {
        return b.y;
    }
    let (size, lines) = fit(face, text, b);
    let line_h = size * LINE_HEIGHT;
    let block = lines.len() as f32 * line_h;
    let top = b.y + (b.h - block).max(0.0) * b.valign;
    let ascent = f32::from(face.ascender()) * size / f32::from(face.units_per_em());
    let mut paint = Paint::default();
    paint.set_color_rgba8(color.0, color.1, color.2, 255);
    paint.anti_alias = true;
    for (i, line) in lines.iter().enumerate() {
        let width = measure(face, line, size);
        let x = b.x + (b.w - width) / 2.0;
        let baseline = top + i as f32 * line_h + ascent + (line_h - size) / 2.0;
        draw_line(pixmap, face, line, x, baseline, size, &paint);
    }
    top + block
}

fn draw_line(
    pixmap: &mut Pixmap,
    face: &Face,
    text: &str,
    x: f32,
    baseline: f32,
    size: f32,
    paint: &Paint,
) {
    let scale = size / f32::from(face.units_per_em());
    let mut pen = x;
    let mut builder = Outline {
        pb: PathBuilder::new(),
        x: 0.0,
        y: baseline,
        scale,
    };
    for c in text.chars() {
        let id = glyph(face, c);
        builder.x = pen;
        face.outline_glyph(id, &mut builder);
        pen += f32::from(face.glyph_hor_advance(id).unwrap_or(0)) * scale;
    }
    if let Some(path) = builder.pb.finish() {
        pixmap.fill_path(&path, paint, FillRule::Winding, Transform::identity(), None);
    }
}

/// Font units (y up) → pixels (y down) at the pen position.
struct Outline {
    pb: PathBuilder,
    x: f32,
    y: f32,
    scale: f32,
}

impl Outline {
    fn p(&self, x: f32, y: f32) -> (f32, f32) {
        (self.x + x * self.scale, self.y - y * self.scale)
    }
}

impl OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.pb.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.p(x, y);
        self.pb.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x, y) = self.p(x, y);
        self.pb.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.p(x1, y1);
        let (x2, y2) = self.p(x2, y2);
        let (x, y) = self.p(x, y);
        self.pb.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.pb.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_spanish_letters() {
        for family in FontFamily::ALL {
            let face = face(family, true, false).expect("bundled face");
            for c in "ÁÉÍÓÚÑáéíóúñü¿¡«»".chars() {
                assert!(face.glyph_index(c).is_some(), "{family:?} lacks {c}");
            }
        }
    }

    #[test]
    fn long_titles_wrap_and_shrink_to_fit() {
        let face = face(FontFamily::Serif, true, false).expect("face");
        let b = TextBox {
            x: 0.0,
            y: 0.0,
            w: 1200.0,
            h: 700.0,
            max_size: 200.0,
            min_size: 60.0,
            max_lines: 4,
            valign: 0.5,
        };
        let (big, short) = fit(&face, "El faro", &b);
        assert_eq!((big, short.len()), (200.0, 1));
        let long =
            "La extraordinaria y muy prolongada historia del último farero de la costa del norte";
        let (size, lines) = fit(&face, long, &b);
        assert!(size < 200.0 && lines.len() <= 4, "{size} {lines:?}");
        assert!(lines.iter().all(|l| measure(&face, l, size) <= 1200.0));
        let word = "Supercalifragilísticoespialidosoextraordinariamente";
        let (size, lines) = fit(&face, word, &b);
        assert!(
            lines.iter().all(|l| measure(&face, l, size) <= 1200.0),
            "{lines:?}"
        );
    }
}
