//! The document a caller hands to [`render`](crate::render): plain, already
//! formatted strings in a fixed shape (letterhead, recipient, facts, then
//! sections). Nothing here knows what a customer or an amount is.

/// A one-off business document such as an account statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Large heading under the letterhead, e.g. "Statement of account".
    pub title: String,
    /// Top left, above the issuer: the organisation's logo, scaled to fit
    /// 180 × 50 points.
    pub logo: Option<Image>,
    /// Top left: the organisation's name first (printed bold), then its
    /// address lines.
    pub issuer: Vec<String>,
    /// Below the issuer: who the document is for (first line bold), e.g. the
    /// customer's name, code and billing address lines.
    pub recipient: Vec<String>,
    /// Top right: label/value pairs such as ("Statement date", "24 Nov 2026").
    pub facts: Vec<(String, String)>,
    /// The body, top to bottom; it flows across as many pages as it needs.
    pub sections: Vec<Section>,
    /// Small text at the bottom of every page, beside "Page N of M".
    pub footer: Option<String>,
}

/// One block of the body.
#[derive(Debug, Clone, PartialEq)]
pub enum Section {
    /// A bold line that starts a part of the document.
    Heading(String),
    /// Running text, wrapped at word boundaries; `\n` starts a new line.
    Paragraph(String),
    /// Rows under a bold header row that repeats on every page.
    Table(Table),
    /// A right-hand block of (label, amount, emphasised) lines; an
    /// emphasised line is bold with a rule above it, as for a balance due.
    Totals(Vec<(String, String, bool)>),
}

/// A table: each row holds one cell per column. Missing cells print empty,
/// extra cells are ignored, and text too wide for its column ends in "…".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

/// A table column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The text of the header row.
    pub title: String,
    /// Share of the page width relative to the other columns; a weight that
    /// is not a positive number counts as 1.
    pub width: f32,
    /// Where cell text sits: amounts read best on the right.
    pub align: Align,
}

/// Horizontal alignment of text within its space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Align {
    #[default]
    Left,
    Right,
}

impl Column {
    /// A column with the given title, relative width and alignment.
    pub fn new(title: impl Into<String>, width: f32, align: Align) -> Self {
        Self { title: title.into(), width, align }
    }
}

/// A PNG or JPEG picture, as its file's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub(crate) kind: ImageKind,
    pub(crate) bytes: std::sync::Arc<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageKind {
    Png,
    Jpeg,
}

impl Image {
    /// A picture of `content_type` `image/png` or `image/jpeg`; `None` for any other type.
    pub fn new(content_type: &str, bytes: Vec<u8>) -> Option<Image> {
        let kind = match content_type {
            "image/png" => ImageKind::Png,
            "image/jpeg" => ImageKind::Jpeg,
            _ => return None,
        };
        Some(Image { kind, bytes: std::sync::Arc::new(bytes) })
    }
}
