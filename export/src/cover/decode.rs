//! Untrusted image bytes (an author's upload, a provider's answer) → pixels, within limits, or a reason.
//! Only PNG, JPEG and WebP are read, recognised by their content, never by a name or a declared type:
//! an SVG (scripts), HTML or anything else is refused. The header is read first, so a decompression bomb
//! (a small file declaring a huge canvas) is refused before a pixel is allocated; the decoder also runs
//! under allocation limits. What comes out is re-encoded by the caller, so the stored and served bytes
//! are always ours: a polyglot file loses whatever it carried besides its pixels.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits, RgbaImage};

/// Largest file accepted (uploads; a provider's decoded answer).
pub const MAX_IMAGE_BYTES: usize = 15 * 1024 * 1024;
/// Largest canvas accepted: 40 megapixels (an 8K photo has 33).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Longest side accepted.
pub const MAX_SIDE: u32 = 12_000;
/// Shortest side accepted: smaller than this cannot make a cover.
pub const MIN_SIDE: u32 = 64;

/// Why bytes were not accepted as an image (messages are for the author).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageInputError {
    #[error("the file is larger than {} MB", MAX_IMAGE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the image is {width}×{height} pixels; the limit is {} megapixels and {MAX_SIDE} pixels a side", MAX_PIXELS / 1_000_000)]
    TooManyPixels { width: u32, height: u32 },
    #[error("the image is {width}×{height} pixels; at least {MIN_SIDE} pixels a side are needed")]
    TooSmall { width: u32, height: u32 },
    #[error("the image is damaged or incomplete")]
    Corrupt,
}

/// Decodes PNG / JPEG / WebP bytes into opaque RGBA pixels (transparency flattened onto white).
pub fn decode(bytes: &[u8]) -> Result<RgbaImage, ImageInputError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ImageInputError::TooLarge);
    }
    let format = image::guess_format(bytes).map_err(|_| ImageInputError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP
    ) {
        return Err(ImageInputError::NotAnImage);
    }
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| ImageInputError::Corrupt)?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageInputError::TooManyPixels { width, height });
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(ImageInputError::TooSmall { width, height });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    let mut r = ImageReader::with_format(Cursor::new(bytes), format);
    r.limits(limits);
    let img = r.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ImageInputError::TooManyPixels { width, height },
        _ => ImageInputError::Corrupt,
    })?;
    let mut rgba = img.into_rgba8();
    for p in rgba.pixels_mut() {
        let a = u16::from(p[3]);
        if a < 255 {
            for c in p.0.iter_mut().take(3) {
                *c = ((u16::from(*c) * a + 255 * (255 - a)) / 255) as u8;
            }
            p[3] = 255;
        }
    }
    Ok(rgba)
}

/// Opaque RGBA pixels as a JPEG (quality 0–100).
pub fn encode_jpeg(img: &RgbaImage, quality: u8) -> Vec<u8> {
    let rgb: Vec<u8> = img
        .as_raw()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = Vec::with_capacity(rgb.len() / 8);
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    // Writing to a Vec cannot fail and the buffer matches its dimensions.
    let _ = enc.encode(
        &rgb,
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbaImage::from_pixel(w, h, image::Rgba([10, 20, 30, 128]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).expect("png");
        out.into_inner()
    }

    #[test]
    fn reads_png_and_flattens_alpha() {
        let img = decode(&png(100, 80)).expect("decodes");
        assert_eq!(img.dimensions(), (100, 80));
        assert_eq!(img.get_pixel(0, 0)[3], 255);
        let jpeg = encode_jpeg(&img, 85);
        assert_eq!(image::guess_format(&jpeg).ok(), Some(ImageFormat::Jpeg));
        assert_eq!(decode(&jpeg).map(|i| i.dimensions()), Ok((100, 80)));
    }

    #[test]
    fn refuses_what_is_not_a_safe_raster() {
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        assert_eq!(decode(svg), Err(ImageInputError::NotAnImage));
        assert_eq!(
            decode(b"<html>nope</html>"),
            Err(ImageInputError::NotAnImage)
        );
        assert_eq!(
            decode(b"GIF89a\x01\x00\x01\x00"),
            Err(ImageInputError::NotAnImage)
        );
        let full = png(200, 200);
        assert_eq!(
            decode(&full[..full.len() / 2]),
            Err(ImageInputError::Corrupt)
        );
        assert_eq!(
            decode(&png(20, 20)),
            Err(ImageInputError::TooSmall {
                width: 20,
                height: 20
            })
        );
        assert_eq!(
            decode(&vec![0u8; MAX_IMAGE_BYTES + 1]),
            Err(ImageInputError::TooLarge)
        );
    }

    #[test]
    fn a_bomb_is_refused_from_its_header() {
        // A valid PNG header declaring 50 000 × 50 000 pixels, with no pixel data behind it.
        let mut bomb = png(64, 64);
        bomb[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            decode(&bomb),
            Err(ImageInputError::TooManyPixels {
                width: 50_000,
                height: 50_000
            })
        );
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
