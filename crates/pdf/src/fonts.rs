//! The two faces every document uses (DejaVu Sans and DejaVu Sans Bold,
//! compiled into the binary by the `dejavu` crate) and the one way text
//! becomes glyphs: one glyph per character, placed at its advance width.
//!
//! Measuring and drawing share [`Face::glyph`], so a line that was measured
//! to fit is exactly the line that is drawn. There is no shaping (kerning,
//! ligatures, right-to-left scripts): business documents in Latin, Greek or
//! Cyrillic text do not need it, and it keeps rustybuzz out of the build.

use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use crate::PdfError;

/// Which of the two faces to set text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// Both faces, loaded once per rendered document.
pub(crate) struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    pub(crate) fn load() -> Result<Self, PdfError> {
        Ok(Self { regular: Face::load(dejavu::sans::regular(), "DejaVu Sans")?, bold: Face::load(dejavu::sans::bold(), "DejaVu Sans Bold")? })
    }

    pub(crate) fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

/// One font: the handle krilla embeds, plus the character map and advance
/// widths we measure with.
pub(crate) struct Face {
    pub(crate) pdf: Font,
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(data: &'static [u8], name: &str) -> Result<Self, PdfError> {
        let broken = || PdfError::Font(name.to_owned());
        let font = FontRef::new(data).map_err(|_| broken())?;
        let units_per_em = f32::from(font.metrics(Size::unscaled(), LocationRef::default()).units_per_em);
        Ok(Self {
            pdf: Font::new(data.into(), 0).ok_or_else(broken)?,
            charmap: font.charmap(),
            metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em: units_per_em.max(1.0),
        })
    }

    /// The glyph for a character and its advance as a fraction of the font
    /// size. A character the font lacks maps to glyph 0 (".notdef", drawn as
    /// an empty box) rather than failing.
    pub(crate) fn glyph(&self, character: char) -> (GlyphId, f32) {
        let id = self.charmap.map(character).unwrap_or_default();
        let advance = self.metrics.advance_width(id).unwrap_or(0.0) / self.units_per_em;
        (GlyphId::new(id.to_u32()), advance)
    }

    /// Width of `text` in points at `size`.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    /// The glyphs krilla draws for `text`, each tied to the bytes it came
    /// from so that copied or extracted text reads the same as the input.
    pub(crate) fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(start, character)| {
                let (id, advance) = self.glyph(character);
                let range = start..start + character.len_utf8();
                KrillaGlyph::new(id, advance, 0.0, 0.0, 0.0, range, None)
            })
            .collect()
    }
}
