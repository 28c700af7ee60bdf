//! Book covers: the final cover rendered from a design (layout template, font family, texts, colours)
//! and optional art, at 1600×2560 (the common e-book ratio) plus a thumbnail, both JPEG; the offline
//! generator's art ([`art`]); and the safe reading of untrusted images ([`decode`]). Pure: bytes and
//! pixels in, bytes out.

pub mod art;
pub mod decode;
mod text;

use serde::{Deserialize, Serialize};
use tiny_skia::{FilterQuality, Paint, Pattern, Pixmap, Rect, SpreadMode, Transform};

pub use decode::{decode, encode_jpeg, ImageInputError};
pub use image::RgbaImage;
use text::TextBox;

pub const COVER_WIDTH: u32 = 1600;
pub const COVER_HEIGHT: u32 = 2560;
pub const THUMB_WIDTH: u32 = 320;
pub const THUMB_HEIGHT: u32 = 512;
/// JPEG quality of the stored cover and candidates.
pub const JPEG_QUALITY: u8 = 88;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb` (the form an HTML colour input sends).
    pub fn parse(s: &str) -> Option<Rgb> {
        let h = s.trim().strip_prefix('#')?;
        if h.len() != 6 || !h.is_ascii() {
            return None;
        }
        let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
        Some(Rgb(c(0)?, c(2)?, c(4)?))
    }
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

impl From<Rgb> for String {
    fn from(c: Rgb) -> String {
        c.hex()
    }
}

impl TryFrom<String> for Rgb {
    type Error = String;
    fn try_from(s: String) -> Result<Rgb, String> {
        Rgb::parse(&s).ok_or_else(|| format!("{s:?} is not a #rrggbb colour"))
    }
}

/// The layouts an author picks from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// The art full-bleed, the title on a band across its lower part.
    Band,
    /// The art inside a frame on a plain ground, the title below it.
    Framed,
    /// No art: lettering and rules on a plain ground.
    Typographic,
    /// The art on the upper part, the title on a plain lower part.
    Split,
}

impl Template {
    pub const ALL: [Template; 4] = [
        Template::Band,
        Template::Framed,
        Template::Typographic,
        Template::Split,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Band => "band",
            Template::Framed => "framed",
            Template::Typographic => "typographic",
            Template::Split => "split",
        }
    }
    pub fn parse(s: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The bundled families (the PDF's fonts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FontFamily {
    /// Libertinus Serif.
    Serif,
    /// New Computer Modern.
    Classic,
    /// DejaVu Sans Mono.
    Mono,
}

impl FontFamily {
    pub const ALL: [FontFamily; 3] = [FontFamily::Serif, FontFamily::Classic, FontFamily::Mono];
    pub fn as_str(self) -> &'static str {
        match self {
            FontFamily::Serif => "serif",
            FontFamily::Classic => "classic",
            FontFamily::Mono => "mono",
        }
    }
    pub fn parse(s: &str) -> Option<FontFamily> {
        FontFamily::ALL.into_iter().find(|f| f.as_str() == s)
    }
    /// The family name in the font files.
    pub fn font_name(self) -> &'static str {
        match self {
            FontFamily::Serif => "Libertinus Serif",
            FontFamily::Classic => "New Computer Modern",
            FontFamily::Mono => "DejaVu Sans Mono",
        }
    }
}

/// What the author chose; the art is passed separately.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverDesign {
    pub template: Template,
    pub font: FontFamily,
    pub title: String,
    pub subtitle: String,
    pub author: String,
    pub background: Rgb,
    pub text: Rgb,
    pub accent: Rgb,
}

/// A rendered cover: the full-size JPEG and its thumbnail.
pub struct RenderedCover {
    pub jpeg: Vec<u8>,
    pub thumb: Vec<u8>,
}

/// Renders the cover. `art` is used by the templates that show one (a design without art falls back
/// to the typographic layout).
pub fn render(design: &CoverDesign, art: Option<&RgbaImage>) -> Result<RenderedCover, String> {
    let (w, h) = (COVER_WIDTH as f32, COVER_HEIGHT as f32);
    let mut pm = Pixmap::new(COVER_WIDTH, COVER_HEIGHT).ok_or("cover canvas")?;
    let bg = design.background;
    pm.fill(tiny_skia::Color::from_rgba8(bg.0, bg.1, bg.2, 255));
    let art = match art {
        Some(a) => Some(to_pixmap(a)?),
        None => None,
    };
    let template = match (&art, design.template) {
        (None, _) => Template::Typographic,
        (Some(_), t) => t,
    };
    let title_face = text::face(design.font, true, false).ok_or("no bundled font")?;
    let body_face = text::face(design.font, false, true).ok_or("no bundled font")?;
    let author_face = text::face(design.font, false, false).ok_or("no bundled font")?;
    let margin = 140.0;
    let inner = w - 2.0 * margin;
    let bx = |y: f32, hh: f32, max: f32, min: f32, lines: usize, valign: f32| TextBox {
        x: margin,
        y,
        w: inner,
        h: hh,
        max_size: max,
        min_size: min,
        max_lines: lines,
        valign,
    };
    // Each layout draws its ground and art and leaves a region (top, bottom, largest title size) for
    // the lettering: title, then subtitle, with the author line at the region's foot.
    let (top, bottom, title_max) = match (template, &art) {
        (Template::Band, Some(a)) => {
            draw_art(&mut pm, a, Rect::from_xywh(0.0, 0.0, w, h))?;
            rect(&mut pm, 0.0, h * 0.56, w, h * 0.44, bg, 0.88)?;
            rect(
                &mut pm,
                margin,
                h * 0.56 + 48.0,
                inner,
                6.0,
                design.accent,
                1.0,
            )?;
            (h * 0.56 + 100.0, h - 110.0, 190.0)
        }
        (Template::Framed, Some(a)) => {
            rect(
                &mut pm,
                96.0,
                96.0,
                w - 192.0,
                h * 0.58 + 24.0,
                design.accent,
                1.0,
            )?;
            draw_art(
                &mut pm,
                a,
                Rect::from_xywh(120.0, 120.0, w - 240.0, h * 0.58 - 24.0),
            )?;
            (h * 0.58 + 180.0, h - 100.0, 170.0)
        }
        (Template::Split, Some(a)) => {
            draw_art(&mut pm, a, Rect::from_xywh(0.0, 0.0, w, h * 0.52))?;
            rect(&mut pm, 0.0, h * 0.52, w, 14.0, design.accent, 1.0)?;
            (h * 0.52 + 110.0, h - 110.0, 190.0)
        }
        _ => {
            rect(&mut pm, margin, h * 0.14, inner, 8.0, design.accent, 1.0)?;
            rect(&mut pm, margin, h * 0.80, inner, 8.0, design.accent, 1.0)?;
            (h * 0.18, h - 150.0, 230.0)
        }
    };
    let gap = 36.0;
    let author_h = if design.author.trim().is_empty() {
        0.0
    } else {
        120.0
    };
    let author_top = bottom - author_h;
    let sub_h = if design.subtitle.trim().is_empty() {
        0.0
    } else {
        ((author_top - top) * 0.28).min(230.0)
    };
    let title_box = bx(
        top,
        (author_top - top - sub_h - gap).max(80.0),
        title_max,
        56.0,
        5,
        0.5,
    );
    let title_bottom = text::draw(&mut pm, &title_face, &design.title, &title_box, design.text);
    let sub_top = title_bottom + gap * 0.6;
    let sub_box = bx(
        sub_top,
        (author_top - gap * 0.6 - sub_top).max(0.0),
        80.0,
        40.0,
        2,
        0.0,
    );
    if sub_box.h >= 40.0 {
        text::draw(&mut pm, &body_face, &design.subtitle, &sub_box, design.text);
    }
    let author_box = bx(author_top, author_h, 84.0, 40.0, 1, 1.0);
    text::draw(
        &mut pm,
        &author_face,
        &design.author,
        &author_box,
        design.text,
    );
    let img = RgbaImage::from_raw(COVER_WIDTH, COVER_HEIGHT, pm.take()).ok_or("cover pixels")?;
    let thumb = image::imageops::thumbnail(&img, THUMB_WIDTH, THUMB_HEIGHT);
    Ok(RenderedCover {
        jpeg: encode_jpeg(&img, JPEG_QUALITY),
        thumb: encode_jpeg(&thumb, 82),
    })
}

/// Opaque RGBA → a pixmap (opaque pixels are their own premultiplied form).
fn to_pixmap(img: &RgbaImage) -> Result<Pixmap, String> {
    let size = tiny_skia::IntSize::from_wh(img.width(), img.height()).ok_or("empty art")?;
    Pixmap::from_vec(img.as_raw().clone(), size).ok_or_else(|| "art pixels".into())
}

/// The art scaled to cover `area` (cropped, centred).
fn draw_art(pm: &mut Pixmap, art: &Pixmap, area: Option<Rect>) -> Result<(), String> {
    let area = area.ok_or("art area")?;
    let (aw, ah) = (art.width() as f32, art.height() as f32);
    let scale = (area.width() / aw).max(area.height() / ah);
    let tx = area.x() + (area.width() - aw * scale) / 2.0;
    let ty = area.y() + (area.height() - ah * scale) / 2.0;
    let paint = Paint {
        shader: Pattern::new(
            art.as_ref(),
            SpreadMode::Pad,
            FilterQuality::Bilinear,
            1.0,
            Transform::from_row(scale, 0.0, 0.0, scale, tx, ty),
        ),
        ..Paint::default()
    };
    pm.fill_rect(area, &paint, Transform::identity(), None);
    Ok(())
}

fn rect(pm: &mut Pixmap, x: f32, y: f32, w: f32, h: f32, c: Rgb, alpha: f32) -> Result<(), String> {
    let mut paint = Paint::default();
    paint.set_color_rgba8(c.0, c.1, c.2, (alpha * 255.0) as u8);
    let r = Rect::from_xywh(x, y, w, h).ok_or("rect")?;
    pm.fill_rect(r, &paint, Transform::identity(), None);
    Ok(())
}

/// Offline art for `seed` (book id `#` candidate number) as pixels.
pub fn offline_art(seed: &str, genre: &str, tone: &str) -> Option<RgbaImage> {
    let pm = art::generate(seed, genre, tone)?;
    RgbaImage::from_raw(pm.width(), pm.height(), pm.take())
}

/// The small version of a candidate shown in the picker.
pub fn thumbnail_jpeg(img: &RgbaImage) -> Vec<u8> {
    let t = image::imageops::thumbnail(img, THUMB_WIDTH, THUMB_HEIGHT);
    encode_jpeg(&t, 80)
}

/// Untrusted pixels as our own JPEG (longest side at most 2560) and its thumbnail.
pub fn reencode(img: &RgbaImage) -> (Vec<u8>, Vec<u8>) {
    let (w, h) = img.dimensions();
    let scale = (COVER_HEIGHT as f32 / w.max(h) as f32).min(1.0);
    let jpeg = if scale < 1.0 {
        let small = image::imageops::resize(
            img,
            ((w as f32 * scale) as u32).max(1),
            ((h as f32 * scale) as u32).max(1),
            image::imageops::FilterType::Triangle,
        );
        encode_jpeg(&small, JPEG_QUALITY)
    } else {
        encode_jpeg(img, JPEG_QUALITY)
    };
    (jpeg, thumbnail_jpeg(img))
}

/// The cover as a PNG for DOCX (which takes PNG only), at 800×1280: (bytes, width, height).
pub fn docx_png(jpeg: &[u8]) -> Option<(Vec<u8>, u32, u32)> {
    let img = decode(jpeg).ok()?;
    let small = image::imageops::resize(&img, 800, 1280, image::imageops::FilterType::Triangle);
    let rgb = image::DynamicImage::ImageRgba8(small).into_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    rgb.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some((out.into_inner(), 800, 1280))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(template: Template) -> CoverDesign {
        CoverDesign {
            template,
            font: FontFamily::Serif,
            title: "La canción del último faro".into(),
            subtitle: "Una novela".into(),
            author: "Ana Pérez Núñez".into(),
            background: Rgb(20, 30, 50),
            text: Rgb(250, 245, 230),
            accent: Rgb(200, 150, 80),
        }
    }

    #[test]
    fn every_template_renders_full_size_with_a_thumbnail() {
        let art = offline_art("b#0", "fantasy", "dark").expect("art");
        let mut seen = Vec::new();
        for t in Template::ALL {
            let c = render(&design(t), Some(&art)).expect("renders");
            let img = decode(&c.jpeg).expect("jpeg");
            assert_eq!(img.dimensions(), (COVER_WIDTH, COVER_HEIGHT));
            let thumb = decode(&c.thumb).expect("thumb");
            assert_eq!(thumb.dimensions(), (THUMB_WIDTH, THUMB_HEIGHT));
            assert!(!seen.contains(&c.jpeg), "{t:?} looks like another template");
            seen.push(c.jpeg);
        }
    }

    #[test]
    fn text_is_drawn() {
        let mut plain = design(Template::Typographic);
        let with_text = render(&plain, None).expect("renders");
        plain.title.clear();
        plain.subtitle.clear();
        plain.author.clear();
        let without = render(&plain, None).expect("renders");
        assert_ne!(with_text.jpeg, without.jpeg);
    }

    #[test]
    fn colours_parse_and_print() {
        assert_eq!(Rgb::parse("#0a1B2c"), Some(Rgb(10, 27, 44)));
        assert_eq!(Rgb(10, 27, 44).hex(), "#0a1b2c");
        assert_eq!(Rgb::parse("red"), None);
        assert_eq!(Rgb::parse("#ééé"), None);
    }
}
