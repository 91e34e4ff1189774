//! Thumbnails: a picture's smaller JPEG, made once when it is uploaded, so
//! lists of photos load small files.
//!
//! Decoding a picture takes memory in proportion to its pixels, so it is
//! bounded three ways: at most [`MAX_SIDE`] pixels a side, at most
//! [`MAX_DECODE_BYTES`] of memory for one picture, and at most two pictures
//! at once. A picture outside those bounds, or one that cannot be read,
//! gets no thumbnail (it still shows, full size, scaled by the page).

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};
use tokio::sync::Semaphore;

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// The largest picture side decoded.
pub const MAX_SIDE: u32 = 12_000;
/// Memory one decode may take.
pub const MAX_DECODE_BYTES: u64 = 160 * 1024 * 1024;

static DECODING: Semaphore = Semaphore::const_new(2);

/// A turn to decode a picture: hold it while the picture is read into
/// memory and made smaller.
pub async fn turn() -> Option<tokio::sync::SemaphorePermit<'static>> {
    DECODING.acquire().await.ok()
}

/// A JPEG of at most [`THUMBNAIL_SIDE`] pixels a side of the picture in
/// `bytes`, or `None` when it is small enough to show as it is, too large
/// to decode, or unreadable. Take a [`turn`] first.
pub async fn make(bytes: Vec<u8>) -> Option<Vec<u8>> {
    tokio::task::spawn_blocking(move || make_now(&bytes)).await.ok().flatten()
}

fn make_now(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let reader = || {
        let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok()?;
        reader.limits(limits.clone());
        Some(reader)
    };
    let (width, height) = reader()?.into_dimensions().ok()?;
    if width <= THUMBNAIL_SIDE && height <= THUMBNAIL_SIDE {
        return None;
    }
    let picture = reader()?.decode().ok()?;
    let small = picture.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).into_rgb8();
    let mut out = Cursor::new(Vec::new());
    small.write_to(&mut out, ImageFormat::Jpeg).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[tokio::test]
    async fn a_large_picture_gets_a_small_jpeg_and_a_small_one_none() {
        let thumbnail = make(png(1600, 1200)).await.expect("a thumbnail");
        assert_eq!(dossier_domain::file::sniff(&thumbnail), dossier_domain::file::MediaType::Jpeg);
        let (w, h) = ImageReader::new(Cursor::new(&thumbnail)).with_guessed_format().unwrap().into_dimensions().unwrap();
        assert_eq!((w, h), (320, 240));
        assert_eq!(make(png(300, 200)).await, None, "small enough already");
        assert_eq!(make(b"\x89PNG\r\n\x1a\nbroken".to_vec()).await, None);
    }

    #[tokio::test]
    async fn a_picture_claiming_huge_sides_is_not_decoded() {
        // A PNG header saying 50,000 × 50,000 pixels (a decompression bomb's shape).
        let mut bomb = png(400, 400);
        bomb[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        assert_eq!(make(bomb).await, None);
    }
}
