//! Generative cover art with no network: a palette chosen from the book's genre and tone, and shapes
//! placed by a generator seeded with the book id (and the candidate number), so a book always gets the
//! same pictures and two books get different ones.

use tiny_skia::{
    Color, FillRule, GradientStop, LinearGradient, Paint, PathBuilder, Pixmap, Point, Rect,
    SpreadMode, Transform,
};

use super::Rgb;

/// Size of the generated art (the cover's 1:1.6 ratio; scaled up when the cover is rendered).
pub const ART_WIDTH: u32 = 800;
pub const ART_HEIGHT: u32 = 1280;

/// xorshift64*: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        // FNV-1a over the seed; never zero (xorshift's fixed point).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f()
    }
}

/// Base hue (degrees) for a genre, read from its words in English or Spanish.
fn genre_hue(genre: &str) -> Option<f32> {
    let g = genre.to_lowercase();
    let table: [(&[&str], f32); 9] = [
        (&["fantas", "magic", "mágic", "magia"], 275.0),
        (
            &["science", "sci-fi", "ciencia", "space", "espacial"],
            200.0,
        ),
        (&["romance", "romántic", "love", "amor"], 340.0),
        (
            &[
                "mystery", "misterio", "thriller", "crime", "crimen", "policia",
            ],
            220.0,
        ),
        (&["horror", "terror", "miedo"], 0.0),
        (&["child", "infantil", "niños", "kids"], 45.0),
        (&["histor", "históric"], 30.0),
        (&["adventure", "aventura"], 150.0),
        (
            &[
                "business",
                "negocio",
                "self-help",
                "autoayuda",
                "non-fiction",
                "ensayo",
            ],
            190.0,
        ),
    ];
    table
        .iter()
        .find(|(words, _)| words.iter().any(|w| g.contains(w)))
        .map(|(_, hue)| *hue)
}

/// (saturation, lightness) of the ground for a tone.
fn tone_light(tone: &str) -> (f32, f32) {
    let t = tone.to_lowercase();
    if ["dark", "oscur", "sombr", "grim", "tens"]
        .iter()
        .any(|w| t.contains(w))
    {
        (0.45, 0.16)
    } else if [
        "light", "lumin", "humor", "cheer", "alegr", "ligero", "whims", "tiern",
    ]
    .iter()
    .any(|w| t.contains(w))
    {
        (0.55, 0.72)
    } else {
        (0.5, 0.32)
    }
}

pub fn hsl(h: f32, s: f32, l: f32) -> Rgb {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f32| ((v + m).clamp(0.0, 1.0) * 255.0).round() as u8;
    Rgb(to(r), to(g), to(b))
}

/// The book's palette: ground, shapes and a contrasting accent; also the editor's default colours.
pub fn palette(book_id: &str, genre: &str, tone: &str) -> [Rgb; 3] {
    let mut rng = Rng::new(book_id);
    let hue = genre_hue(genre).unwrap_or_else(|| rng.range(0.0, 360.0)) + rng.range(-12.0, 12.0);
    let (s, l) = tone_light(tone);
    let accent_l = if l > 0.5 { 0.3 } else { 0.7 };
    [
        hsl(hue, s, l),
        hsl(hue + rng.range(20.0, 50.0), s + 0.15, (l + 0.18).min(0.9)),
        hsl(hue + 180.0 + rng.range(-20.0, 20.0), 0.65, accent_l),
    ]
}

fn color(c: Rgb, alpha: f32) -> Color {
    Color::from_rgba8(c.0, c.1, c.2, (alpha.clamp(0.0, 1.0) * 255.0) as u8)
}

/// Draws one candidate's art: `seed` is the book id plus the candidate number.
pub fn generate(seed: &str, genre: &str, tone: &str) -> Option<Pixmap> {
    let book_id = seed.split('#').next().unwrap_or(seed);
    let [ground, shape, accent] = palette(book_id, genre, tone);
    let mut rng = Rng::new(seed);
    let (w, h) = (ART_WIDTH as f32, ART_HEIGHT as f32);
    let mut pm = Pixmap::new(ART_WIDTH, ART_HEIGHT)?;
    let mut paint = Paint {
        anti_alias: true,
        ..Paint::default()
    };
    paint.shader = LinearGradient::new(
        Point::from_xy(0.0, 0.0),
        Point::from_xy(rng.range(0.0, w), h),
        vec![
            GradientStop::new(0.0, color(ground, 1.0)),
            GradientStop::new(1.0, color(shape, 1.0)),
        ],
        SpreadMode::Pad,
        Transform::identity(),
    )?;
    pm.fill_rect(
        Rect::from_xywh(0.0, 0.0, w, h)?,
        &paint,
        Transform::identity(),
        None,
    );
    match rng.next() % 3 {
        0 => circles(&mut pm, &mut rng, [ground, shape, accent]),
        1 => ridges(&mut pm, &mut rng, [ground, shape, accent]),
        _ => rays(&mut pm, &mut rng, [ground, shape, accent]),
    }
    Some(pm)
}

fn fill(pm: &mut Pixmap, pb: PathBuilder, c: Color) {
    let mut paint = Paint::default();
    paint.set_color(c);
    paint.anti_alias = true;
    if let Some(path) = pb.finish() {
        pm.fill_path(
            &path,
            &paint,
            FillRule::Winding,
            Transform::identity(),
            None,
        );
    }
}

/// Overlapping translucent discs and one accent "moon".
fn circles(pm: &mut Pixmap, rng: &mut Rng, [ground, shape, accent]: [Rgb; 3]) {
    let (w, h) = (pm.width() as f32, pm.height() as f32);
    for i in 0..(12 + rng.next() % 14) {
        let mut pb = PathBuilder::new();
        let r = rng.range(30.0, 260.0);
        pb.push_circle(rng.range(0.0, w), rng.range(0.0, h), r);
        let c = if i % 2 == 0 { shape } else { ground };
        fill(pm, pb, color(c, rng.range(0.25, 0.6)));
    }
    let mut pb = PathBuilder::new();
    pb.push_circle(
        rng.range(0.25, 0.75) * w,
        rng.range(0.15, 0.45) * h,
        rng.range(90.0, 180.0),
    );
    fill(pm, pb, color(accent, 0.85));
}

/// Layered mountain ridges under an accent sun.
fn ridges(pm: &mut Pixmap, rng: &mut Rng, [ground, shape, accent]: [Rgb; 3]) {
    let (w, h) = (pm.width() as f32, pm.height() as f32);
    let mut pb = PathBuilder::new();
    pb.push_circle(
        rng.range(0.2, 0.8) * w,
        rng.range(0.15, 0.35) * h,
        rng.range(70.0, 150.0),
    );
    fill(pm, pb, color(accent, 0.9));
    let layers = 4 + rng.next() % 4;
    for i in 0..layers {
        let base = h * (0.45 + 0.5 * i as f32 / layers as f32);
        let mut pb = PathBuilder::new();
        pb.move_to(0.0, h);
        let steps = 6 + rng.next() % 8;
        for s in 0..=steps {
            let x = w * s as f32 / steps as f32;
            pb.line_to(x, base - rng.range(0.0, h * 0.16));
        }
        pb.line_to(w, h);
        pb.close();
        let t = (i + 1) as f32 / layers as f32;
        let c = Rgb(
            lerp(shape.0, ground.0, t),
            lerp(shape.1, ground.1, t),
            lerp(shape.2, ground.2, t),
        );
        fill(pm, pb, color(c, 0.92));
    }
}

/// Rays from a point off-centre, alternating tones, with an accent ring.
fn rays(pm: &mut Pixmap, rng: &mut Rng, [ground, shape, accent]: [Rgb; 3]) {
    let (w, h) = (pm.width() as f32, pm.height() as f32);
    let (cx, cy) = (rng.range(0.2, 0.8) * w, rng.range(0.2, 0.6) * h);
    let n = 10 + rng.next() % 16;
    let reach = w.max(h) * 2.0;
    for i in 0..n {
        let a0 = std::f32::consts::TAU * i as f32 / n as f32;
        let a1 = a0 + std::f32::consts::TAU / n as f32 * rng.range(0.3, 0.6);
        let mut pb = PathBuilder::new();
        pb.move_to(cx, cy);
        pb.line_to(cx + reach * a0.cos(), cy + reach * a0.sin());
        pb.line_to(cx + reach * a1.cos(), cy + reach * a1.sin());
        pb.close();
        let c = if i % 2 == 0 { shape } else { ground };
        fill(pm, pb, color(c, 0.45));
    }
    let mut pb = PathBuilder::new();
    pb.push_circle(cx, cy, rng.range(60.0, 140.0));
    fill(pm, pb, color(accent, 0.9));
}

fn lerp(a: u8, b: u8, t: f32) -> u8 {
    (f32::from(a) + (f32::from(b) - f32::from(a)) * t).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_art_other_seed_other_art() {
        let a = generate("book-a#0", "fantasy", "dark").expect("art");
        let again = generate("book-a#0", "fantasy", "dark").expect("art");
        let b = generate("book-b#0", "fantasy", "dark").expect("art");
        assert_eq!(a.data(), again.data());
        assert_ne!(a.data(), b.data());
        assert_ne!(palette("x", "romance", ""), palette("x", "horror", ""));
    }

    #[test]
    fn hsl_primaries() {
        assert_eq!(hsl(0.0, 1.0, 0.5), Rgb(255, 0, 0));
        assert_eq!(hsl(120.0, 1.0, 0.5), Rgb(0, 255, 0));
        assert_eq!(hsl(240.0, 1.0, 0.5), Rgb(0, 0, 255));
    }
}
