//! Reading import files row by row: CSV in whatever encoding and with
//! whichever separator it was written, and XLSX.
//!
//! Nothing reads a whole file into memory: a CSV is decoded as it is
//! parsed (a first pass only checks whether it is valid UTF-8, in chunks),
//! and an XLSX sheet is read cell by cell (its shared strings table is
//! held, as every XLSX reader must). Rows are handed to a callback, one at
//! a time. Bounds: [`MAX_IMPORT_FILE_BYTES`], [`MAX_IMPORT_ROWS`],
//! [`MAX_IMPORT_COLUMNS`] (cells are bounded when a row is read, see
//! `dossier_domain::data::import_row`).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;

use dossier_domain::limits::{MAX_IMPORT_COLUMNS, MAX_IMPORT_FILE_BYTES, MAX_IMPORT_ROWS};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use serde::Serialize;

/// Why a file cannot be read at all (a bad row is not this: see the report).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the file is larger than {} MB", MAX_IMPORT_FILE_BYTES / 1_000_000)]
    TooLarge,
    #[error("the file has more than {MAX_IMPORT_ROWS} rows")]
    TooManyRows,
    #[error("the file has more than {MAX_IMPORT_COLUMNS} columns")]
    TooManyColumns,
    #[error("the file is empty: it needs a header row naming its columns")]
    Empty,
    #[error("the file cannot be read as CSV: {0}")]
    Csv(String),
    #[error("the file cannot be read as a spreadsheet: {0}")]
    Xlsx(String),
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// The stable problem code.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::TooLarge => "file_too_large",
            ReadError::TooManyRows => "too_many_rows",
            ReadError::TooManyColumns => "too_many_columns",
            ReadError::Empty => "empty_file",
            ReadError::Csv(_) | ReadError::Xlsx(_) | ReadError::Io(_) => "unreadable_file",
        }
    }
}

/// What kind of file it is and how its text is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FileShape {
    /// `csv` or `xlsx`.
    pub format: String,
    /// The text encoding read (`UTF-8`, `UTF-16LE`, `UTF-16BE`, `windows-1252`); XLSX: `UTF-8`.
    pub encoding: String,
    /// The separator of a CSV (`,`, `;` or a tab).
    pub separator: Option<String>,
}

/// How to read a CSV: found once by [`detect`], used by each pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Csv { encoding: &'static Encoding, separator: u8 },
    Xlsx,
}

/// The shape of the file at `path`.
pub fn shape(path: &Path) -> Result<FileShape, ReadError> {
    Ok(match detect(path)? {
        Kind::Xlsx => FileShape { format: "xlsx".into(), encoding: "UTF-8".into(), separator: None },
        Kind::Csv { encoding, separator } => FileShape {
            format: "csv".into(),
            encoding: encoding.name().to_owned(),
            separator: Some(if separator == b'\t' { "tab".to_owned() } else { (separator as char).to_string() }),
        },
    })
}

/// Read the file's header, then hand each following row to `row` with
/// its row number (the header is row 1, as a spreadsheet counts; a CSV
/// record with quoted line breaks is one row), until it
/// says stop. Rows that are entirely empty are skipped. Short rows are
/// padded to the header's width.
pub fn read_rows(path: &Path, mut row: impl FnMut(&[String], usize, Vec<String>) -> ControlFlow<()>) -> Result<(), ReadError> {
    match detect(path)? {
        Kind::Csv { encoding, separator } => read_csv(path, encoding, separator, &mut row),
        Kind::Xlsx => read_xlsx(path, &mut row),
    }
}

/// The header and up to `n` rows.
pub fn preview(path: &Path, n: usize) -> Result<(Vec<String>, Vec<Vec<String>>), ReadError> {
    let (mut header, mut rows) = (Vec::new(), Vec::new());
    read_rows(path, |h, _, cells| {
        if header.is_empty() {
            header = h.to_vec();
        }
        if rows.len() >= n {
            return ControlFlow::Break(());
        }
        rows.push(cells);
        ControlFlow::Continue(())
    })?;
    if header.is_empty() {
        header = header_only(path)?;
    }
    Ok((header, rows))
}

fn header_only(path: &Path) -> Result<Vec<String>, ReadError> {
    // A file with a header and no rows: read_rows saw no row to show it.
    let mut found = Vec::new();
    match detect(path)? {
        Kind::Csv { encoding, separator } => {
            let mut reader = csv_reader(path, encoding, separator)?;
            found = headers_of(&mut reader)?;
        }
        Kind::Xlsx => {
            read_xlsx_inner(
                path,
                &mut |h: &[String], _: usize, _: Vec<String>| {
                    found = h.to_vec();
                    ControlFlow::Break(())
                },
                true,
            )?;
        }
    }
    Ok(found)
}

fn detect(path: &Path) -> Result<Kind, ReadError> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > MAX_IMPORT_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    if size == 0 {
        return Err(ReadError::Empty);
    }
    let mut start = [0u8; 4];
    let n = read_up_to(&mut file, &mut start)?;
    let start = &start[..n];
    if start.starts_with(b"PK\x03\x04") {
        return Ok(Kind::Xlsx);
    }
    let encoding = match Encoding::for_bom(start) {
        Some((encoding, _)) => encoding,
        None => {
            file.seek(SeekFrom::Start(0))?;
            if is_utf8(&mut file)? { UTF_8 } else { WINDOWS_1252 }
        }
    };
    let separator = sniff_separator(path, encoding)?;
    Ok(Kind::Csv { encoding, separator })
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Whether the whole stream is valid UTF-8, read in chunks (a character
/// split between two chunks is carried over).
fn is_utf8(reader: &mut impl Read) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut carried = 0;
    loop {
        let n = reader.read(&mut buf[carried..])?;
        let end = carried + n;
        if n == 0 {
            return Ok(carried == 0);
        }
        match std::str::from_utf8(&buf[..end]) {
            Ok(_) => carried = 0,
            Err(e) if e.error_len().is_none() => {
                // An incomplete character at the end: keep it for the next chunk.
                let valid = e.valid_up_to();
                buf.copy_within(valid..end, 0);
                carried = end - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// The separator that splits the first lines into the same number of
/// fields, the most of them: `,`, `;` or tab (quotes respected).
fn sniff_separator(path: &Path, encoding: &'static Encoding) -> Result<u8, ReadError> {
    let mut sample = String::new();
    let mut decoded = Decoding::new(File::open(path)?, encoding).take(64 * 1024);
    decoded.read_to_string(&mut sample).or_else(|e| if e.kind() == std::io::ErrorKind::InvalidData { Ok(0) } else { Err(e) })?;
    let mut best = (b',', 0usize, false);
    for separator in [b',', b';', b'\t'] {
        let counts = count_fields(&sample, separator as char, 20);
        let Some(&first) = counts.first() else { continue };
        // The last line of a sample may be cut short.
        let whole = if counts.len() > 1 { &counts[..counts.len() - 1] } else { &counts[..] };
        let consistent = whole.iter().all(|&c| c == first);
        if first > 1 && ((consistent, first) > (best.2, best.1)) {
            best = (separator, first, consistent);
        }
    }
    Ok(best.0)
}

/// Fields per line in the first `lines` lines of `text`, quoted newlines
/// and separators not counting.
fn count_fields(text: &str, separator: char, lines: usize) -> Vec<usize> {
    let (mut counts, mut fields, mut quoted) = (Vec::new(), 1, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            c if c == separator && !quoted => fields += 1,
            '\r' | '\n' if !quoted => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                counts.push(fields);
                fields = 1;
                if counts.len() == lines {
                    return counts;
                }
            }
            _ => {}
        }
    }
    if fields > 1 || counts.is_empty() {
        counts.push(fields);
    }
    counts
}

/// A reader of text in `encoding` that gives it as UTF-8, chunk by chunk.
/// A BOM is removed.
struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    out_start: usize,
    done: bool,
}

impl<R: Read> Decoding<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        Self {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            input: vec![0; 32 * 1024],
            output: Vec::with_capacity(96 * 1024 + 16),
            out_start: 0,
            done: false,
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        self.output.clear();
        self.out_start = 0;
        while self.output.is_empty() && !self.done {
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            let room = self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16);
            self.output.resize(room, 0);
            let (_, read, written, _) = self.decoder.decode_to_utf8(&self.input[..n], &mut self.output, last);
            debug_assert_eq!(read, n);
            self.output.truncate(written);
            self.done = last;
        }
        Ok(())
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out_start >= self.output.len() {
            self.fill()?;
        }
        let available = &self.output[self.out_start..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.out_start += n;
        Ok(n)
    }
}

fn csv_reader(path: &Path, encoding: &'static Encoding, separator: u8) -> Result<csv::Reader<Box<dyn Read>>, ReadError> {
    let file = BufReader::with_capacity(64 * 1024, File::open(path)?);
    let source: Box<dyn Read> = if encoding == UTF_8 { Box::new(file) } else { Box::new(Decoding::new(file, encoding)) };
    Ok(csv::ReaderBuilder::new().delimiter(separator).flexible(true).has_headers(false).from_reader(source))
}

fn headers_of(reader: &mut csv::Reader<Box<dyn Read>>) -> Result<Vec<String>, ReadError> {
    let mut record = csv::StringRecord::new();
    loop {
        if !reader.read_record(&mut record).map_err(|e| ReadError::Csv(e.to_string()))? {
            return Err(ReadError::Empty);
        }
        if record.iter().any(|c| !c.trim().is_empty()) {
            return header_from(record.iter().map(str::to_owned).collect());
        }
    }
}

/// Header names trimmed (a UTF-8 BOM dropped), blank ones named by position.
fn header_from(cells: Vec<String>) -> Result<Vec<String>, ReadError> {
    let mut cells = cells;
    while cells.last().is_some_and(|c| c.trim().is_empty()) {
        cells.pop();
    }
    if cells.len() > MAX_IMPORT_COLUMNS {
        return Err(ReadError::TooManyColumns);
    }
    Ok(cells
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let name = c.trim_start_matches('\u{feff}').trim();
            if name.is_empty() { format!("Column {}", i + 1) } else { name.chars().take(200).collect() }
        })
        .collect())
}

type RowFn<'a> = dyn FnMut(&[String], usize, Vec<String>) -> ControlFlow<()> + 'a;

fn read_csv(path: &Path, encoding: &'static Encoding, separator: u8, row: &mut RowFn<'_>) -> Result<(), ReadError> {
    let mut reader = csv_reader(path, encoding, separator)?;
    let header = headers_of(&mut reader)?;
    let mut record = csv::StringRecord::new();
    let (mut rows, mut number) = (0usize, 1usize);
    loop {
        let more = reader.read_record(&mut record).map_err(|e| ReadError::Csv(e.to_string()))?;
        if !more {
            return Ok(());
        }
        // Rows are numbered as a spreadsheet shows the file: the header
        // is row 1, a record with quoted line breaks is one row.
        number += 1;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows += 1;
        if rows > MAX_IMPORT_ROWS {
            return Err(ReadError::TooManyRows);
        }
        if record.len() > MAX_IMPORT_COLUMNS {
            return Err(ReadError::TooManyColumns);
        }
        let line = number;
        let cells = padded(record.iter().map(str::to_owned).collect(), header.len());
        if row(&header, line, cells).is_break() {
            return Ok(());
        }
    }
}

/// Cells padded with empty ones to the header's width (cells past it are
/// kept, for the report to name).
fn padded(mut cells: Vec<String>, width: usize) -> Vec<String> {
    if cells.len() < width {
        cells.resize(width, String::new());
    }
    cells
}

fn read_xlsx(path: &Path, row: &mut RowFn<'_>) -> Result<(), ReadError> {
    read_xlsx_inner(path, row, false)
}

fn read_xlsx_inner(path: &Path, row: &mut RowFn<'_>, header_only: bool) -> Result<(), ReadError> {
    use calamine::{DataRef, Reader, Xlsx};
    let bad = |e: calamine::XlsxError| ReadError::Xlsx(e.to_string());
    let mut workbook: Xlsx<_> = calamine::open_workbook(path).map_err(bad)?;
    let sheet = workbook.sheet_names().first().cloned().ok_or(ReadError::Empty)?;
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(bad)?;
    let mut header: Option<Vec<String>> = None;
    let (mut current, mut line) = (Vec::<String>::new(), None::<u32>);
    let mut rows = 0usize;
    let mut emit = |cells_of_row: Vec<String>, at: u32, header: &mut Option<Vec<String>>| -> Result<ControlFlow<()>, ReadError> {
        if cells_of_row.iter().all(|c| c.trim().is_empty()) {
            return Ok(ControlFlow::Continue(()));
        }
        match header {
            None => {
                *header = Some(header_from(cells_of_row)?);
                if header_only {
                    return Ok(ControlFlow::Break(()));
                }
                Ok(ControlFlow::Continue(()))
            }
            Some(h) => {
                rows += 1;
                if rows > MAX_IMPORT_ROWS {
                    return Err(ReadError::TooManyRows);
                }
                Ok(row(h, at as usize + 1, padded(cells_of_row, h.len())))
            }
        }
    };
    while let Some(cell) = cells.next_cell().map_err(bad)? {
        let (r, c) = cell.get_position();
        if c as usize >= MAX_IMPORT_COLUMNS {
            return Err(ReadError::TooManyColumns);
        }
        if line != Some(r) {
            if let Some(at) = line
                && emit(std::mem::take(&mut current), at, &mut header)?.is_break()
            {
                return Ok(());
            }
            line = Some(r);
        }
        let text = match cell.get_value() {
            DataRef::Empty | DataRef::Error(_) => String::new(),
            DataRef::String(s) => s.clone(),
            DataRef::SharedString(s) => (*s).to_owned(),
            DataRef::Int(i) => i.to_string(),
            DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            DataRef::Float(f) => f.to_string(),
            DataRef::Bool(b) => b.to_string(),
            DataRef::DateTime(d) => excel_date(d.as_f64()),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        };
        if current.len() <= c as usize {
            current.resize(c as usize + 1, String::new());
        }
        current[c as usize] = text;
    }
    if let Some(at) = line {
        let _ = emit(std::mem::take(&mut current), at, &mut header)?;
    }
    if header.is_none() {
        return Err(ReadError::Empty);
    }
    Ok(())
}

/// A spreadsheet date (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(days: f64) -> String {
    let epoch = jiff::civil::date(1899, 12, 30);
    match jiff::Span::new().try_days(days.floor() as i64).and_then(|span| epoch.checked_add(span)) {
        Ok(day) => day.to_string(),
        Err(_) => days.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> (tempfile_dir::Dir, std::path::PathBuf) {
        let dir = tempfile_dir::Dir::new();
        let path = dir.0.join("upload");
        std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
        (dir, path)
    }

    /// A temporary folder removed when dropped (no dependency for one test helper).
    mod tempfile_dir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                let path = std::env::temp_dir().join(format!("dossier-read-{}", uuid::Uuid::now_v7()));
                std::fs::create_dir_all(&path).unwrap();
                Self(path)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    type Lines = Vec<(usize, Vec<String>)>;

    fn all_rows(bytes: &[u8]) -> (FileShape, Vec<String>, Lines) {
        let (_dir, path) = file_with(bytes);
        let shape = shape(&path).unwrap();
        let (mut header, mut rows) = (Vec::new(), Vec::new());
        read_rows(&path, |h, line, cells| {
            header = h.to_vec();
            rows.push((line, cells));
            ControlFlow::Continue(())
        })
        .unwrap();
        (shape, header, rows)
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian { vec![0xfe, 0xff] } else { vec![0xff, 0xfe] };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        bytes
    }

    #[test]
    fn encodings_are_detected() {
        let text = "Name,Town\r\nZoë Brontë,Bézier\r\n";
        for (bytes, encoding) in [
            (text.as_bytes().to_vec(), "UTF-8"),
            ([b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(), "UTF-8"),
            (utf16(text, false), "UTF-16LE"),
            (utf16(text, true), "UTF-16BE"),
            (WINDOWS_1252.encode(text).0.into_owned(), "windows-1252"),
        ] {
            let (shape, header, rows) = all_rows(&bytes);
            assert_eq!(shape.encoding, encoding);
            assert_eq!(header, ["Name", "Town"], "{encoding}");
            assert_eq!(rows, [(2, vec!["Zoë Brontë".to_owned(), "Bézier".to_owned()])], "{encoding}");
        }
    }

    #[test]
    fn separators_are_sniffed_and_quoted_newlines_kept() {
        let (shape, header, rows) = all_rows(b"Name;Notes;Amount\n\"Smith; Ann\";\"line one\nline two\";1,50\n\nJones;;2,00\n");
        assert_eq!(shape.separator.as_deref(), Some(";"));
        assert_eq!(header, ["Name", "Notes", "Amount"]);
        assert_eq!(rows[0].1, ["Smith; Ann", "line one\nline two", "1,50"]);
        assert_eq!(rows[1], (3, vec!["Jones".to_owned(), String::new(), "2,00".to_owned()]));
        let (shape, header, _) = all_rows(b"a\tb,c\tc\n1\t2\t3\n");
        assert_eq!((shape.separator.as_deref(), header.len()), (Some("tab"), 3));
        let (shape, _, rows) = all_rows(b"Name,Town\nAnn\n");
        assert_eq!(shape.separator.as_deref(), Some(","));
        assert_eq!(rows[0].1, ["Ann", ""], "short rows are padded");
    }

    #[test]
    fn broken_utf8_late_in_a_file_is_read_as_windows_1252() {
        let mut bytes = b"Name\n".to_vec();
        for _ in 0..20_000 {
            bytes.extend_from_slice(b"plain ascii row\n");
        }
        bytes.extend_from_slice(b"Caf\xe9\n");
        let (shape, _, rows) = all_rows(&bytes);
        assert_eq!(shape.encoding, "windows-1252");
        assert_eq!(rows.last().unwrap().1, ["Café"]);
    }

    #[test]
    fn empty_and_oversized_files_are_refused() {
        let (_dir, path) = file_with(b"");
        assert_eq!(shape(&path).unwrap_err().code(), "empty_file");
        let (_dir, path) = file_with(b"\n\n");
        assert_eq!(read_rows(&path, |_, _, _| ControlFlow::Continue(())).unwrap_err().code(), "empty_file");
        let wide = (0..=MAX_IMPORT_COLUMNS).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
        let (_dir, path) = file_with(wide.as_bytes());
        assert_eq!(read_rows(&path, |_, _, _| ControlFlow::Continue(())).unwrap_err().code(), "too_many_columns");
        let (_dir, path) = file_with(b"Name\n\"never closed\n");
        let (header, rows) = preview(&path, 5).unwrap();
        assert_eq!((header.len(), rows.len()), (1, 1), "an unclosed quote runs to the end of the file");
    }

    #[test]
    fn a_header_without_rows_previews() {
        let (_dir, path) = file_with(b"\xef\xbb\xbfFirst Name,,Last Name,\n");
        let (header, rows) = preview(&path, 5).unwrap();
        assert_eq!(header, ["First Name", "Column 2", "Last Name"]);
        assert!(rows.is_empty());
    }

    /// A minimal XLSX: a shared string, inline numbers, a date and a gap.
    pub(crate) fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
        use zip::write::SimpleFileOptions;
        let mut strings = Vec::new();
        let mut sheet =
            String::from(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#);
        for (r, row) in rows.iter().enumerate() {
            sheet.push_str(&format!("<row r=\"{}\">", r + 1));
            for (c, value) in row.iter().enumerate() {
                if value.is_empty() {
                    continue;
                }
                let at = format!("{}{}", (b'A' + c as u8) as char, r + 1);
                if let Ok(n) = value.parse::<f64>() {
                    sheet.push_str(&format!("<c r=\"{at}\"><v>{n}</v></c>"));
                } else {
                    strings.push(value.replace('&', "&amp;").replace('<', "&lt;"));
                    sheet.push_str(&format!("<c r=\"{at}\" t=\"s\"><v>{}</v></c>", strings.len() - 1));
                }
            }
            sheet.push_str("</row>");
        }
        sheet.push_str("</sheetData></worksheet>");
        let shared = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">{1}</sst>"#,
            strings.len(),
            strings.iter().map(|s| format!("<si><t>{s}</t></si>")).collect::<String>()
        );
        let files = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.to_owned(),
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.to_owned(),
            ),
            ("xl/worksheets/sheet1.xml", sheet),
            ("xl/sharedStrings.xml", shared),
        ];
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        for (name, body) in files {
            zip.start_file(name, SimpleFileOptions::default()).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn xlsx_rows_are_read_cell_by_cell() {
        let bytes = xlsx(&[&["First Name", "Last Name", "Phone"], &["Ann", "Smith", "7911123456"], &[], &["", "Jones", ""]]);
        let (shape, header, rows) = all_rows(&bytes);
        assert_eq!(shape.format, "xlsx");
        assert_eq!(header, ["First Name", "Last Name", "Phone"]);
        assert_eq!(rows[0], (2, vec!["Ann".to_owned(), "Smith".to_owned(), "7911123456".to_owned()]));
        assert_eq!(rows[1], (4, vec![String::new(), "Jones".to_owned(), String::new()]));
    }
}
