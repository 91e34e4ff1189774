//! Small files the demo attaches: photos (PNG pictures drawn here) and
//! signed job cards (one-page PDFs written here), so the Files tab, job
//! pages and thumbnails have something real to show.

/// A 96 × 72 picture: a sky-to-floor gradient with a boiler-ish box, its
/// colours chosen by `variant`. Stored uncompressed (zlib "stored" blocks).
pub(crate) fn photo(variant: u8) -> Vec<u8> {
    const W: usize = 96;
    const H: usize = 72;
    let tint = [(200, 90, 60), (60, 130, 200), (90, 170, 90), (180, 160, 60), (150, 90, 170), (70, 160, 160), (200, 120, 150), (120, 120, 120)];
    let (r, g, b) = tint[usize::from(variant) % tint.len()];
    let mut raw = Vec::with_capacity(H * (1 + W * 3));
    for y in 0..H {
        raw.push(0); // no filter
        for x in 0..W {
            let inside = (30..66).contains(&x) && (14..60).contains(&y);
            let shade = (y * 255 / H) as u8;
            let pixel = if inside { [r, g, b] } else { [shade / 2 + 100, shade / 2 + 110, 230 - shade / 3] };
            raw.extend_from_slice(&pixel);
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&(W as u32).to_be_bytes());
    header.extend_from_slice(&(H as u32).to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    png.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// A one-page PDF job card for `job`, completed and signed on `day`.
pub(crate) fn job_card(job: &str, day: &str) -> Vec<u8> {
    let clean = |text: &str| text.chars().filter(|c| c.is_ascii() && !matches!(c, '(' | ')' | '\\')).collect::<String>();
    let lines =
        [format!("Job card {}", clean(job)), format!("Completed {}", clean(day)), "Work done as agreed.".into(), "Signed by the customer on site.".into()];
    let mut text = String::from("BT /F1 14 Tf 72 770 Td 18 TL");
    for line in &lines {
        text.push_str(&format!(" ({line}) Tj T*"));
    }
    text.push_str(" ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
    pdf
}

/// The hex SHA-256 of bytes (for tests).
#[cfg(test)]
fn hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_and_job_cards_are_what_their_content_says() {
        use dossier_domain::file::{MediaType, sniff};
        assert_eq!(sniff(&photo(3)), MediaType::Png);
        assert_eq!(sniff(&job_card("BOK-00001", "2026-01-02 (Fri)")), MediaType::Pdf);
        assert_ne!(hash(&photo(1)), hash(&photo(2)));
        assert_eq!(hash(&photo(9)), hash(&photo(1)), "eight pictures, reused");
        // The PNG's checksums: the IEND chunk's CRC is the well-known one.
        assert!(photo(0).ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]));
    }
}
