//! Sending a file: its content streamed from the blob store, typed by what
//! the content is (never by its name), opened in the browser only when it
//! is a picture or a PDF, and saved under its cleaned name.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use dossier_domain::file::{MediaType, StoredFile};
use dossier_service::files::BlobContent;

/// The answer carrying `file`. `download` asks for a download even of what
/// the browser could show.
pub fn file_response(file: &StoredFile, content: BlobContent, download: bool) -> Response {
    let inline = file.media_type.opens_inline() && !download;
    // HTML, SVG and anything not shown inline go as opaque bytes: a browser
    // never runs them on our origin (with `nosniff`, added to every answer).
    let content_type = if inline { file.media_type.as_str() } else { MediaType::Other.as_str() };
    let disposition = format!("{}; {}", if inline { "inline" } else { "attachment" }, filename_parameters(&file.name));
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(content.reader)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    // Content never changes under an id; it is still one person's data.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", file.sha256)) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// A document made by Dossier (a CSV report, a template) sent to be saved
/// as `name`, never cached.
pub fn attachment(content_type: &'static str, name: &str, body: Body, size: Option<u64>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; {}", filename_parameters(name))) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Some(size) = size {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `filename="…"` with an ASCII stand-in and `filename*=UTF-8''…` with the
/// real name (RFC 6266).
fn filename_parameters(name: &str) -> String {
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded: String =
        name.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    format!("filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_safely_and_kept_whole_for_modern_browsers() {
        assert_eq!(filename_parameters("boiler photo.jpg"), "filename=\"boiler photo.jpg\"; filename*=UTF-8''boiler%20photo.jpg");
        assert_eq!(filename_parameters("Prüfung \"1\".pdf"), "filename=\"Pr_fung _1_.pdf\"; filename*=UTF-8''Pr%C3%BCfung%20%221%22.pdf");
    }
}
