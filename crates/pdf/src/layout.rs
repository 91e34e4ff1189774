//! Turns a [`Document`] into pages of positioned text and filled rectangles,
//! measured with the fonts' advance widths. This is where the page breaks,
//! the column widths, the "…" of text that does not fit and the
//! "Page N of M" lines are decided; drawing them is `draw`'s job.
//!
//! Coordinates are PDF points (1/72 inch) from the top left of an A4 page.

use std::mem;

use crate::fonts::{Face, Fonts, Weight};
use crate::model::{Align, Column, Document, Section, Table};

pub(crate) const PAGE_WIDTH: f32 = 595.28;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;

const LEFT: f32 = 50.0;
const RIGHT: f32 = PAGE_WIDTH - 50.0;
const CONTENT_WIDTH: f32 = RIGHT - LEFT;
const TOP: f32 = 50.0;
/// Where the body stops; the footer lives below.
const BOTTOM: f32 = PAGE_HEIGHT - 64.0;
const FOOTER_TOP: f32 = PAGE_HEIGHT - 46.0;
/// The letterhead (issuer, recipient, facts) may take this much of the first
/// page; lines past it are left out rather than pushed onto the body.
const LETTERHEAD_BOTTOM: f32 = TOP + 0.4 * (BOTTOM - TOP);

/// Line height as a multiple of the font size.
const LEADING: f32 = 1.4;
const ROW_HEIGHT: f32 = 15.0;
const CELL_PADDING: f32 = 4.0;
const GUTTER: f32 = 12.0;
const ELLIPSIS: &str = "…";

/// Grey levels, 0 black to 255 white.
const INK: u8 = 0;
const MUTED: u8 = 85;
const RULE: u8 = 150;
const ZEBRA: u8 = 243;

/// Size, weight and grey of a run of text.
#[derive(Debug, Clone, Copy)]
struct Style {
    size: f32,
    weight: Weight,
    shade: u8,
}

const BODY: Style = Style { size: 9.5, weight: Weight::Regular, shade: INK };
const STRONG: Style = Style { weight: Weight::Bold, ..BODY };
const LABEL: Style = Style { shade: MUTED, ..BODY };
const ORGANISATION: Style = Style { size: 12.0, ..STRONG };
const TITLE: Style = Style { size: 16.0, ..STRONG };
const HEADING: Style = Style { size: 11.5, ..STRONG };
const SMALL: Style = Style { size: 8.0, shade: MUTED, ..BODY };

impl Style {
    fn line_height(self) -> f32 {
        self.size * LEADING
    }
}

/// One thing to draw on a page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// A single line of text that is known to fit where it is placed.
    Text { x: f32, baseline: f32, size: f32, weight: Weight, shade: u8, text: String },
    /// A filled rectangle: rules and zebra bands.
    Rect { x: f32, y: f32, width: f32, height: f32, shade: u8 },
    /// The document's logo, scaled into this box.
    Logo { x: f32, y: f32, width: f32, height: f32 },
}

/// The box a logo is scaled down (never up) to fit, keeping its proportions.
const LOGO_WIDTH: f32 = 180.0;
const LOGO_HEIGHT: f32 = 50.0;

/// What one page holds, in drawing order.
pub(crate) type Page = Vec<Item>;

/// Lays out the whole document; there is always at least one page.
pub(crate) fn lay_out(document: &Document, fonts: &Fonts, logo: Option<(f32, f32)>) -> Vec<Page> {
    let mut pages = Pages::new(fonts);
    pages.letterhead(document, logo);
    for section in &document.sections {
        match section {
            Section::Heading(text) => pages.heading(text),
            Section::Paragraph(text) => pages.paragraph(text),
            Section::Table(table) => pages.table(table),
            Section::Totals(lines) => pages.totals(lines),
        }
    }
    pages.finish(document.footer.as_deref())
}

/// A horizontal stretch of the page that a line of text must stay inside.
#[derive(Debug, Clone, Copy)]
struct Span {
    x: f32,
    width: f32,
    align: Align,
}

impl Span {
    fn new(x: f32, width: f32, align: Align) -> Self {
        Self { x, width: width.max(0.0), align }
    }

    fn inset(self, by: f32) -> Self {
        Self::new(self.x + by, self.width - 2.0 * by, self.align)
    }
}

/// The pages laid out so far and the top of the free space on the current one.
struct Pages<'f> {
    fonts: &'f Fonts,
    done: Vec<Page>,
    current: Page,
    y: f32,
}

impl<'f> Pages<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Self { fonts, done: Vec::new(), current: Vec::new(), y: TOP }
    }

    fn break_page(&mut self) {
        self.done.push(mem::take(&mut self.current));
        self.y = TOP;
    }

    /// Starts a new page unless `height` still fits on this one (or this
    /// page is empty, where nothing would be gained). True if it broke.
    fn make_room(&mut self, height: f32) -> bool {
        let broke = self.y + height > BOTTOM && self.y > TOP;
        if broke {
            self.break_page();
        }
        broke
    }

    /// Places `text` on a line box of `height` starting at `top`.
    fn text(&mut self, text: &str, style: Style, span: Span, top: f32, height: f32) {
        self.current.extend(place(self.fonts, text, style, span, top, height));
    }

    fn rect(&mut self, x: f32, y: f32, width: f32, height: f32, shade: u8) {
        self.current.push(Item::Rect { x, y, width, height, shade });
    }

    /// Issuer and recipient on the left, facts on the right, then the title.
    fn letterhead(&mut self, document: &Document, logo: Option<(f32, f32)>) {
        let (facts_left, facts_bottom) = self.facts(&document.facts);
        let left = Span::new(LEFT, facts_left - LEFT - 2.0 * GUTTER, Align::Left);
        let mut y = TOP;
        if let Some((width, height)) = logo {
            let scale = (LOGO_WIDTH / width).min(LOGO_HEIGHT / height).min(1.0);
            self.current.push(Item::Logo { x: LEFT, y, width: width * scale, height: height * scale });
            y += height * scale + 10.0;
        }
        for (index, line) in document.issuer.iter().enumerate() {
            let style = if index == 0 { ORGANISATION } else { LABEL };
            y = self.letterhead_line(line, style, left, y);
        }
        if !document.recipient.is_empty() {
            y += if document.issuer.is_empty() { 0.0 } else { 16.0 };
            for (index, line) in document.recipient.iter().enumerate() {
                let style = if index == 0 { STRONG } else { BODY };
                y = self.letterhead_line(line, style, left, y);
            }
        }
        self.y = y.max(facts_bottom);
        if self.y > TOP {
            self.y += 24.0;
        }
        if !document.title.trim().is_empty() {
            let full = Span::new(LEFT, CONTENT_WIDTH, Align::Left);
            self.text(&document.title, TITLE, full, self.y, TITLE.line_height());
            self.y += TITLE.line_height() + 8.0;
        }
    }

    /// One line of the letterhead's left column; returns the next line's top.
    fn letterhead_line(&mut self, text: &str, style: Style, span: Span, top: f32) -> f32 {
        let height = style.line_height();
        if top + height > LETTERHEAD_BOTTOM {
            return top;
        }
        self.text(text, style, span, top, height);
        top + height
    }

    /// The label/value block at the top right; returns its left edge and
    /// bottom (the right margin and the top when there are no facts).
    fn facts(&mut self, facts: &[(String, String)]) -> (f32, f32) {
        if facts.is_empty() {
            return (RIGHT + 2.0 * GUTTER, TOP);
        }
        let block = CONTENT_WIDTH * 0.45;
        let widest = |style: Style, texts: &mut dyn Iterator<Item = &String>| {
            let face = self.fonts.face(style.weight);
            // Fitting first stops measuring a huge string at the block's width.
            texts.map(|text| face.width(&fit(face, text, style.size, block), style.size)).fold(0.0, f32::max)
        };
        let value_width = widest(BODY, &mut facts.iter().map(|(_, value)| value)).min(block * 0.6);
        let label_width = widest(LABEL, &mut facts.iter().map(|(label, _)| label)).min(block - GUTTER - value_width);
        let left = RIGHT - value_width - GUTTER - label_width;
        let height = BODY.line_height();
        let mut y = TOP;
        for (label, value) in facts {
            if y + height > LETTERHEAD_BOTTOM {
                break;
            }
            self.text(label, LABEL, Span::new(left, label_width, Align::Left), y, height);
            let value_span = Span::new(RIGHT - value_width, value_width, Align::Right);
            self.text(value, BODY, value_span, y, height);
            y += height;
        }
        (left, y)
    }

    fn heading(&mut self, text: &str) {
        if self.y > TOP {
            self.y += 8.0;
        }
        // Keep a heading with at least two lines of what follows it.
        self.make_room(HEADING.line_height() + 2.0 * BODY.line_height());
        let full = Span::new(LEFT, CONTENT_WIDTH, Align::Left);
        self.text(text, HEADING, full, self.y, HEADING.line_height());
        self.y += HEADING.line_height() + 2.0;
    }

    fn paragraph(&mut self, text: &str) {
        let height = BODY.line_height();
        let full = Span::new(LEFT, CONTENT_WIDTH, Align::Left);
        for line in wrap(self.fonts.face(BODY.weight), text, BODY.size, CONTENT_WIDTH) {
            self.make_room(height);
            self.text(&line, BODY, full, self.y, height);
            self.y += height;
        }
        self.y += 6.0;
    }

    fn table(&mut self, table: &Table) {
        if table.columns.is_empty() {
            return;
        }
        let spans = column_spans(&table.columns);
        self.y += 4.0;
        self.make_room(2.0 * ROW_HEIGHT);
        self.table_header(&table.columns, &spans);
        for (index, row) in table.rows.iter().enumerate() {
            if self.make_room(ROW_HEIGHT) {
                self.table_header(&table.columns, &spans);
            }
            if index % 2 == 1 {
                self.rect(LEFT, self.y, CONTENT_WIDTH, ROW_HEIGHT, ZEBRA);
            }
            for (span, cell) in spans.iter().zip(row) {
                self.text(cell, BODY, span.inset(CELL_PADDING), self.y, ROW_HEIGHT);
            }
            self.y += ROW_HEIGHT;
        }
        self.rect(LEFT, self.y, CONTENT_WIDTH, 0.5, RULE);
        self.y += 12.0;
    }

    fn table_header(&mut self, columns: &[Column], spans: &[Span]) {
        for (column, span) in columns.iter().zip(spans) {
            self.text(&column.title, STRONG, span.inset(CELL_PADDING), self.y, ROW_HEIGHT);
        }
        self.y += ROW_HEIGHT;
        self.rect(LEFT, self.y - 0.8, CONTENT_WIDTH, 0.8, INK);
    }

    /// Label on the left and amount on the right of a block that ends at the
    /// right margin, like the foot of an invoice.
    fn totals(&mut self, lines: &[(String, String, bool)]) {
        let width = CONTENT_WIDTH * 0.45;
        let left = RIGHT - width;
        let amount_width = width * 0.45;
        let label = Span::new(left, width - amount_width - GUTTER, Align::Left);
        let amount = Span::new(RIGHT - amount_width, amount_width, Align::Right);
        let height = BODY.line_height() + 2.0;
        self.y += 4.0;
        for (text, value, emphasised) in lines {
            self.make_room(height + 4.0);
            let style = if *emphasised {
                self.rect(left, self.y + 1.0, width, 0.8, INK);
                self.y += 4.0;
                STRONG
            } else {
                BODY
            };
            self.text(text, style, label, self.y, height);
            self.text(value, style, amount, self.y, height);
            self.y += height;
        }
        self.y += 8.0;
    }

    /// Closes the last page and gives every page its footer, now that the
    /// number of pages is known.
    fn finish(mut self, footer: Option<&str>) -> Vec<Page> {
        self.break_page();
        let count = self.done.len();
        let face = self.fonts.face(SMALL.weight);
        let height = SMALL.line_height();
        for (index, page) in self.done.iter_mut().enumerate() {
            let number = format!("Page {} of {count}", index + 1);
            let number_width = face.width(&number, SMALL.size);
            page.push(Item::Rect { x: LEFT, y: FOOTER_TOP - 4.0, width: CONTENT_WIDTH, height: 0.5, shade: RULE });
            let right = Span::new(LEFT, CONTENT_WIDTH, Align::Right);
            page.extend(place(self.fonts, &number, SMALL, right, FOOTER_TOP, height));
            if let Some(footer) = footer {
                let left = Span::new(LEFT, CONTENT_WIDTH - number_width - 2.0 * GUTTER, Align::Left);
                page.extend(place(self.fonts, footer, SMALL, left, FOOTER_TOP, height));
            }
        }
        self.done
    }
}

/// Text set on a line box, cut to fit its span; `None` when nothing of it
/// would show.
fn place(fonts: &Fonts, text: &str, style: Style, span: Span, top: f32, height: f32) -> Option<Item> {
    let face = fonts.face(style.weight);
    let text = fit(face, text, style.size, span.width);
    if text.trim().is_empty() {
        return None;
    }
    let width = face.width(&text, style.size);
    let x = match span.align {
        Align::Left => span.x,
        Align::Right => span.x + span.width - width,
    };
    // Centre the capital height (about 0.7 em in DejaVu Sans) in the box.
    let baseline = top + (height + 0.7 * style.size) / 2.0;
    Some(Item::Text { x, baseline, size: style.size, weight: style.weight, shade: style.shade, text })
}

/// `text` on one line no wider than `max_width`: control characters become
/// spaces, and text that is too wide is cut and ends in "…" (or is dropped if
/// not even that fits). Reads each character at most once, so huge strings
/// are cheap.
pub(crate) fn fit(face: &Face, text: &str, size: f32, max_width: f32) -> String {
    let ellipsis = face.width(ELLIPSIS, size);
    let mut fitted = String::new();
    let mut width = 0.0;
    // Length of the longest prefix that still leaves room for the ellipsis.
    let mut cut = None;
    for character in text.chars() {
        let character = if character.is_control() { ' ' } else { character };
        if width + ellipsis <= max_width {
            cut = Some(fitted.len());
        }
        width += face.glyph(character).1 * size;
        if width > max_width {
            let Some(cut) = cut else { return String::new() };
            fitted.truncate(cut);
            fitted.truncate(fitted.trim_end().len());
            fitted.push_str(ELLIPSIS);
            return fitted;
        }
        fitted.push(character);
    }
    fitted
}

/// Breaks `text` into lines no wider than `max_width`: at spaces where it
/// can, inside a word where a word alone is too wide, and at every `\n`.
pub(crate) fn wrap(face: &Face, text: &str, size: f32, max_width: f32) -> Vec<String> {
    let space = face.width(" ", size);
    let mut lines = Vec::new();
    for hard_line in text.split('\n') {
        let mut line = String::new();
        let mut width = 0.0;
        for word in hard_line.split_whitespace() {
            let word_width = face.width(word, size);
            if !line.is_empty() && width + space + word_width <= max_width {
                line.push(' ');
                line.push_str(word);
                width += space + word_width;
                continue;
            }
            if !line.is_empty() {
                lines.push(mem::take(&mut line));
            }
            width = 0.0;
            for character in word.chars() {
                let advance = face.glyph(character).1 * size;
                if width + advance > max_width && !line.is_empty() {
                    lines.push(mem::take(&mut line));
                    width = 0.0;
                }
                line.push(character);
                width += advance;
            }
        }
        lines.push(line);
    }
    lines
}

/// Splits the content width between the columns by their weights.
fn column_spans(columns: &[Column]) -> Vec<Span> {
    let weights: Vec<f32> = columns.iter().map(|column| if column.width.is_finite() && column.width > 0.0 { column.width } else { 1.0 }).collect();
    // Dividing by the largest first keeps the sum finite for huge weights.
    let largest = weights.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    let total: f32 = weights.iter().map(|weight| weight / largest).sum();
    let mut x = LEFT;
    columns
        .iter()
        .zip(&weights)
        .map(|(column, weight)| {
            let width = CONTENT_WIDTH * (weight / largest) / total;
            let span = Span::new(x, width, column.align);
            x += width;
            span
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular() -> Fonts {
        Fonts::load().unwrap()
    }

    #[test]
    fn text_that_fits_is_left_alone() {
        let fonts = regular();
        let face = fonts.face(Weight::Regular);
        assert_eq!(fit(face, "INV-0001", 9.5, 200.0), "INV-0001");
    }

    #[test]
    fn text_too_wide_for_its_column_ends_in_an_ellipsis_and_fits() {
        let fonts = regular();
        let face = fonts.face(Weight::Regular);
        let long = "A very long description of the work that was done on site ".repeat(20);
        let fitted = fit(face, &long, 9.5, 120.0);
        assert!(fitted.ends_with('…'), "{fitted}");
        assert!(face.width(&fitted, 9.5) <= 120.0);
        assert_eq!(fit(face, &long, 9.5, 1.0), "", "not even the ellipsis fits");
        assert_eq!(fit(face, "tab\there", 9.5, 200.0), "tab here");
    }

    #[test]
    fn wrapped_lines_never_exceed_the_width() {
        let fonts = regular();
        let face = fonts.face(Weight::Regular);
        let text = format!("Thank you for your business. {}\n\nSecond line", "x".repeat(400));
        let lines = wrap(face, &text, 9.5, 200.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|line| face.width(line, 9.5) <= 200.0));
        assert_eq!(lines.last().map(String::as_str), Some("Second line"));
        assert_eq!(lines[lines.len() - 2], "", "a blank line is kept");
    }

    #[test]
    fn odd_column_weights_still_share_the_width() {
        let columns: Vec<Column> =
            [f32::NAN, -1.0, 0.0, f32::INFINITY, f32::MAX, 1e-30].into_iter().map(|width| Column::new("c", width, Align::Left)).collect();
        let spans = column_spans(&columns);
        let total: f32 = spans.iter().map(|span| span.width).sum();
        assert!((total - CONTENT_WIDTH).abs() < 0.01, "{total}");
        assert!(spans.iter().all(|span| span.width.is_finite() && span.width >= 0.0));
    }
}
