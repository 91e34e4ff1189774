//! Draws laid-out pages with krilla and returns the PDF bytes. Nothing is
//! decided here: every position and every string comes from `layout`.

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image as Bitmap;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;

use crate::PdfError;
use crate::fonts::Fonts;
use crate::layout::{Item, PAGE_HEIGHT, PAGE_WIDTH, Page};
use crate::model::{Image, ImageKind};

/// A picture read far enough to know its size in pixels.
pub(crate) struct Picture(Bitmap);

impl Picture {
    pub(crate) fn size(&self) -> (f32, f32) {
        let (width, height) = self.0.size();
        (width as f32, height as f32)
    }
}

/// The picture of `image`, if its header reads as what it claims to be.
pub(crate) fn picture(image: &Image) -> Option<Picture> {
    let data = krilla::Data::from(std::sync::Arc::clone(&image.bytes));
    let bitmap = match image.kind {
        ImageKind::Png => Bitmap::from_png(data, true),
        ImageKind::Jpeg => Bitmap::from_jpeg(data, true),
    };
    bitmap.ok().filter(|b| b.size().0 > 0 && b.size().1 > 0).map(Picture)
}

/// Writes `pages` into one PDF; krilla embeds the subset of each font that
/// the text uses.
pub(crate) fn draw(pages: &[Page], fonts: &Fonts, title: &str, logo: Option<Picture>) -> Result<Vec<u8>, PdfError> {
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or_else(|| PdfError::Write("invalid page size".to_owned()))?;
    let mut document = krilla::Document::new();
    for items in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for item in items {
            draw_item(&mut surface, fonts, item, logo.as_ref());
        }
        surface.finish();
        page.finish();
    }
    let mut metadata = Metadata::new().creator("Dossier".to_owned());
    if !title.trim().is_empty() {
        metadata = metadata.title(title.to_owned());
    }
    document.set_metadata(metadata);
    document.finish().map_err(|error| PdfError::Write(error.to_string()))
}

fn draw_item(surface: &mut Surface<'_>, fonts: &Fonts, item: &Item, logo: Option<&Picture>) {
    match item {
        Item::Text { x, baseline, size, weight, shade, text } => {
            let face = fonts.face(*weight);
            surface.set_fill(Some(grey(*shade)));
            let glyphs = face.glyphs(text);
            surface.draw_glyphs(Point::from_xy(*x, *baseline), &glyphs, face.pdf.clone(), text, *size, false);
        }
        Item::Rect { x, y, width, height, shade } => {
            let Some(rect) = Rect::from_xywh(*x, *y, *width, *height) else { return };
            let mut path = PathBuilder::new();
            path.push_rect(rect);
            if let Some(path) = path.finish() {
                surface.set_fill(Some(grey(*shade)));
                surface.draw_path(&path);
            }
        }
        Item::Logo { x, y, width, height } => {
            let (Some(picture), Some(size)) = (logo, Size::from_wh(*width, *height)) else { return };
            surface.push_transform(&Transform::from_translate(*x, *y));
            surface.draw_image(picture.0.clone(), size);
            surface.pop();
        }
    }
}

fn grey(shade: u8) -> Fill {
    Fill { paint: luma::Color::new(shade).into(), ..Fill::default() }
}
