//! Renders simple business documents (account statements first) to PDF.
//!
//! The caller describes the document with already formatted strings in a
//! [`Document`]; [`render`] lays it out on A4 pages in DejaVu Sans, which is
//! compiled in and embedded in every PDF, so nothing is read from disk or
//! the network at run time. This crate knows nothing of customers or money.
//!
//! - `model`: the document shape callers fill in.
//! - `fonts`: the embedded faces and text measuring.
//! - `layout`: positions, column widths, truncation and page breaks.
//! - `draw`: turns the laid-out pages into PDF bytes with krilla.

mod draw;
mod fonts;
mod layout;
mod model;

pub use model::{Align, Column, Document, Image, Section, Table};

/// Why a document could not be rendered. Neither depends on the document's
/// content: both point at a broken build or a bug in this crate.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// A bundled font could not be read.
    #[error("the bundled font {0} could not be read")]
    Font(String),
    /// krilla refused to write the PDF.
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// Lays out `document` on as many A4 pages as it needs and returns the PDF.
///
/// Any text is accepted: characters DejaVu Sans lacks print as an empty box,
/// and text too wide for its place is cut short with "…".
///
/// # Errors
///
/// [`PdfError`] only if the bundled fonts cannot be read or krilla cannot
/// write the file; no content of `document` causes an error.
pub fn render(document: &Document) -> Result<Vec<u8>, PdfError> {
    let fonts = fonts::Fonts::load()?;
    let logo = document.logo.as_ref().and_then(draw::picture);
    let pages = layout::lay_out(document, &fonts, logo.as_ref().map(draw::Picture::size));
    draw::draw(&pages, &fonts, &document.title, logo)
}

/// Whether `image` can be drawn: its header is read and the whole picture
/// decoded into a one-page PDF. A logo is checked so before it is kept, so
/// that a damaged file never stops an invoice from rendering.
pub fn can_draw(image: &Image) -> bool {
    let document = Document { logo: Some(image.clone()), ..Document::default() };
    draw::picture(image).is_some() && render(&document).is_ok()
}
