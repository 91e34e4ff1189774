//! Files attached to a customer, to one of their records or to a message:
//! what a file is, the type its content shows (never the name it came
//! with), and the name it is kept under.

use jiff::Timestamp;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::activity::{Actor, Visibility};
use crate::customer::string_enum;
use crate::error::ValidationErrors;
use crate::ids::{CustomerId, FileId, MessageId};
use crate::limits::MAX_FILE_NAME_CHARS;
use crate::message::{Deletion, RecordRef};

string_enum!(
    /// What a file's content is, read from its first bytes. `application/zip`
    /// covers Word, Excel and OpenDocument files; `application/x-ole-storage`
    /// older Office files (.doc, .xls, .msg).
    MediaType {
        Jpeg = "image/jpeg",
        Png = "image/png",
        Gif = "image/gif",
        Webp = "image/webp",
        Heic = "image/heic",
        Pdf = "application/pdf",
        Zip = "application/zip",
        Ole = "application/x-ole-storage",
        Text = "text/plain",
        Html = "text/html",
        Svg = "image/svg+xml",
        Other = "application/octet-stream",
    }
);

/// How many first bytes [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 1024;

impl MediaType {
    /// Types accepted unless the operator says otherwise: photos, PDFs,
    /// office documents and plain text. HTML, SVG and unknown binaries are
    /// refused: they are what a malicious upload usually is.
    pub const DEFAULT_ALLOWED: &'static [MediaType] =
        &[MediaType::Jpeg, MediaType::Png, MediaType::Gif, MediaType::Webp, MediaType::Heic, MediaType::Pdf, MediaType::Zip, MediaType::Ole, MediaType::Text];

    /// Pictures a browser shows: served inline and shown as thumbnails.
    pub fn is_image(self) -> bool {
        matches!(self, MediaType::Jpeg | MediaType::Png | MediaType::Gif | MediaType::Webp)
    }

    /// Opened in the browser rather than downloaded: pictures and PDFs.
    /// Never HTML or SVG, which could run script on our origin.
    pub fn opens_inline(self) -> bool {
        self.is_image() || self == MediaType::Pdf
    }
}

/// The type of a file from its first bytes (at most [`SNIFF_BYTES`]).
pub fn sniff(head: &[u8]) -> MediaType {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"\xFF\xD8\xFF") {
        return MediaType::Jpeg;
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return MediaType::Png;
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return MediaType::Gif;
    }
    if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return MediaType::Webp;
    }
    if head.get(4..8) == Some(b"ftyp") && matches!(head.get(8..12), Some(b"heic" | b"heix" | b"mif1" | b"msf1" | b"heif")) {
        return MediaType::Heic;
    }
    if starts(b"%PDF-") {
        return MediaType::Pdf;
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return MediaType::Zip;
    }
    if starts(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return MediaType::Ole;
    }
    // Text: valid UTF-8 (a character cut at the end of the sample is fine)
    // with no NUL; markup is told apart so it is never taken for text.
    let text = match std::str::from_utf8(head) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    match text {
        Some(text) if !text.contains('\0') => {
            let lower = text.to_ascii_lowercase();
            if lower.contains("<svg") {
                MediaType::Svg
            } else if ["<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<meta"].iter().any(|tag| lower.contains(tag)) {
                MediaType::Html
            } else {
                MediaType::Text
            }
        }
        _ => MediaType::Other,
    }
}

/// The types a file name's extension promises, if it is one we know.
pub fn promised_by(name: &str) -> Option<&'static [MediaType]> {
    let (_, extension) = name.rsplit_once('.')?;
    Some(match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" | "jfif" => &[MediaType::Jpeg],
        "png" => &[MediaType::Png],
        "gif" => &[MediaType::Gif],
        "webp" => &[MediaType::Webp],
        "heic" | "heif" => &[MediaType::Heic],
        "pdf" => &[MediaType::Pdf],
        "docx" | "xlsx" | "pptx" | "odt" | "ods" | "odp" | "zip" => &[MediaType::Zip],
        "doc" | "xls" | "ppt" | "msg" => &[MediaType::Ole],
        "txt" | "csv" | "log" | "md" => &[MediaType::Text],
        "html" | "htm" => &[MediaType::Html],
        "svg" => &[MediaType::Svg],
        _ => return None,
    })
}

/// Check a sniffed type against the name it came with and the types the
/// org accepts; errors are on `field`.
pub fn check_type(field: &str, name: &str, sniffed: MediaType, allowed: &[MediaType]) -> Result<(), ValidationErrors> {
    if let Some(promised) = promised_by(name)
        && !promised.contains(&sniffed)
    {
        let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
        return Err(ValidationErrors::one(field, "type_mismatch", format!("its name says .{extension} but its content is {}", sniffed.as_str())));
    }
    if !allowed.contains(&sniffed) {
        let accepted: Vec<&str> = allowed.iter().map(|t| t.as_str()).collect();
        return Err(ValidationErrors::one(
            field,
            "type_not_allowed",
            format!("is {}, which is not accepted here (accepted: {})", sniffed.as_str(), accepted.join(", ")),
        ));
    }
    Ok(())
}

/// The name a file is kept under: the last part of whatever path came with
/// it, NFC, without control, direction-changing or invisible characters,
/// without leading dots, at most [`MAX_FILE_NAME_CHARS`] characters (the
/// extension kept), and `file` when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .nfc()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| crate::text::refused(*c, crate::text::Lines::Single).is_none() && !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    let words: Vec<&str> = kept.split(' ').filter(|w| !w.is_empty()).collect();
    let name = words.join(" ");
    let name = name.trim_start_matches(['.', ' ']).trim_end_matches(['.', ' ']);
    if name.is_empty() {
        return "file".to_owned();
    }
    if name.chars().count() <= MAX_FILE_NAME_CHARS {
        return name.to_owned();
    }
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext)) if !ext.is_empty() && ext.chars().count() <= 16 && !stem.is_empty() => (stem, Some(ext)),
        _ => (name, None),
    };
    let room = MAX_FILE_NAME_CHARS - extension.map_or(0, |e| e.chars().count() + 1);
    let stem: String = stem.chars().take(room).collect();
    match extension {
        Some(ext) => format!("{}.{ext}", stem.trim_end()),
        None => stem,
    }
}

/// A file as it is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StoredFile {
    pub id: FileId,
    pub customer_id: CustomerId,
    /// The cleaned name it was uploaded under.
    pub name: String,
    /// What its content is (sniffed, never taken from the name).
    pub media_type: MediaType,
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// A picture's smaller JPEG (at most 320 pixels a side), served at
    /// `/files/{id}/thumbnail`; none for a picture that small already, or
    /// one that could not be read.
    pub thumbnail_sha256: Option<String>,
    /// The record it is attached to, if not only the customer.
    pub record: Option<RecordRef>,
    /// The message it came with, if any.
    pub message_id: Option<MessageId>,
    /// Who may see it: `customer` when it came with a customer-visible
    /// message; internal otherwise.
    pub visibility: Visibility,
    pub uploaded_by: Actor,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub deleted: Option<Deletion>,
}

/// A size for people: `812 B`, `14.2 kB`, `3.1 MB`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        0..1000 => format!("{bytes} B"),
        1000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), MediaType::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), MediaType::Png);
        assert_eq!(sniff(b"%PDF-1.7\n"), MediaType::Pdf);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), MediaType::Webp);
        assert_eq!(sniff(b"PK\x03\x04rest"), MediaType::Zip);
        assert_eq!(sniff("Boiler serial 12345\nréglé".as_bytes()), MediaType::Text);
        assert_eq!(sniff(b"  <!DOCTYPE html><html>"), MediaType::Html);
        assert_eq!(sniff(b"<?xml version='1.0'?><svg xmlns='x'>"), MediaType::Svg);
        assert_eq!(sniff(b"hello <script>alert(1)</script>"), MediaType::Html);
        assert_eq!(sniff(b"\0\x01\x02binary"), MediaType::Other);
        // A character cut off at the end of the sample is still text.
        assert_eq!(sniff(&"é".repeat(10).as_bytes()[..19]), MediaType::Text);
    }

    #[test]
    fn a_lying_extension_or_a_refused_type_is_an_error() {
        let allowed = MediaType::DEFAULT_ALLOWED;
        assert!(check_type("f", "boiler.jpg", MediaType::Jpeg, allowed).is_ok());
        assert!(check_type("f", "notes", MediaType::Text, allowed).is_ok());
        let code = |name, sniffed| check_type("f", name, sniffed, allowed).unwrap_err().0[0].code;
        assert_eq!(code("photo.jpg", MediaType::Html), "type_mismatch");
        assert_eq!(code("invoice.pdf", MediaType::Zip), "type_mismatch");
        assert_eq!(code("page.html", MediaType::Html), "type_not_allowed");
        assert_eq!(code("blob", MediaType::Other), "type_not_allowed");
        assert_eq!(code("logo", MediaType::Svg), "type_not_allowed");
    }

    #[test]
    fn names_lose_paths_control_characters_and_excess_length() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\me\\boiler photo.JPG"), "boiler photo.JPG");
        assert_eq!(clean_name("..."), "file");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(".htaccess"), "htaccess");
        assert_eq!(clean_name("a\u{0}b\u{202E}gpj.exe\r\n"), "abgpj.exe");
        assert_eq!(clean_name("in  voice\t2024?.pdf"), "in voice 2024.pdf");
        let long = format!("{}.pdf", "x".repeat(1000));
        let cleaned = clean_name(&long);
        assert_eq!(cleaned.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(cleaned.ends_with("x.pdf"));
        assert_eq!(clean_name(&"y".repeat(1000)).chars().count(), MAX_FILE_NAME_CHARS);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(14_200), "14.2 kB");
        assert_eq!(size_text(25_000_000), "25.0 MB");
    }
}
