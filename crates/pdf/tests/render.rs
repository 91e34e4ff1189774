//! Renders documents and reads them back with poppler's `pdftotext` and
//! `pdffonts` (Debian package `poppler-utils`), as a person opening the
//! file would see it.

use std::path::PathBuf;
use std::process::Command;

use dossier_pdf::{Align, Column, Document, Image, Section, Table, can_draw, render};

fn statement(rows: Vec<Vec<String>>) -> Document {
    Document {
        title: "Statement of account".to_owned(),
        logo: None,
        issuer: vec!["Acme Plumbing Ltd".to_owned(), "1 High Street".to_owned(), "Bristol BS1 4DJ".to_owned()],
        recipient: vec!["Zoë Müller-Łukasiewicz".to_owned(), "CUS-00042".to_owned(), "22 Quay Road".to_owned()],
        facts: vec![("Statement date".to_owned(), "24 Nov 2026".to_owned()), ("Customer".to_owned(), "CUS-00042".to_owned())],
        sections: vec![
            Section::Heading("Transactions".to_owned()),
            Section::Table(Table {
                columns: vec![
                    Column::new("Date", 1.0, Align::Left),
                    Column::new("Reference", 1.2, Align::Left),
                    Column::new("Description", 3.0, Align::Left),
                    Column::new("Amount", 1.2, Align::Right),
                ],
                rows,
            }),
            Section::Totals(vec![
                ("Invoiced".to_owned(), "£1,534.56".to_owned(), false),
                ("Paid".to_owned(), "£300.00".to_owned(), false),
                ("Balance due".to_owned(), "£1,234.56".to_owned(), true),
            ]),
            Section::Paragraph("Please pay within 30 days. Thank you for your business.".to_owned()),
        ],
        footer: Some("Acme Plumbing Ltd · VAT GB123456789".to_owned()),
    }
}

fn row(date: &str, reference: &str, description: &str, amount: &str) -> Vec<String> {
    [date, reference, description, amount].map(str::to_owned).to_vec()
}

fn numbered_rows(count: usize) -> Vec<Vec<String>> {
    (1..=count).map(|n| row("01 Oct 2026", &format!("INV-{n:05}"), "Boiler service", "£120.00")).collect()
}

/// Writes the PDF where the test can find it afterwards, named after the test.
fn write(name: &str, pdf: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    path
}

/// Runs a poppler tool, failing the test with the package to install if it
/// is missing.
fn poppler(tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("could not run `{tool}` ({error}); install it with `apt-get install -y poppler-utils`"));
    assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn text_of(name: &str, pdf: &[u8]) -> String {
    let path = write(name, pdf);
    poppler("pdftotext", &["-layout", path.to_str().unwrap(), "-"])
}

#[test]
fn statement_shows_letterhead_rows_and_totals() {
    let pdf = render(&statement(vec![
        row("01 Oct 2026", "INV-00101", "Boiler service", "£120.00"),
        row("15 Oct 2026", "INV-00102", "Replace radiator valve", "£1,414.56"),
        row("02 Nov 2026", "PAY-00007", "Payment received, thank you", "−£300.00"),
    ]))
    .unwrap();

    assert!(pdf.starts_with(b"%PDF-"));
    let text = text_of("statement", &pdf);
    for expected in [
        "Statement of account",
        "Acme Plumbing Ltd",
        "CUS-00042",
        "24 Nov 2026",
        "INV-00101",
        "INV-00102",
        "PAY-00007",
        "Balance due",
        "£1,534.56",
        "£1,234.56",
        "Page 1 of 1",
        "VAT GB123456789",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
}

#[test]
fn long_table_flows_across_pages_repeating_its_header() {
    let pdf = render(&statement(numbered_rows(500))).unwrap();
    let text = text_of("five_hundred_rows", &pdf);

    let pages = text.matches("Page 1 of ").count();
    assert_eq!(pages, 1);
    let count: usize = text
        .split("Page 1 of ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .expect("a page count after \"Page 1 of\"");
    assert!(count >= 5, "500 rows should need several pages, got {count}");
    assert!(text.contains(&format!("Page {count} of {count}")));
    assert_eq!(text.matches('\u{c}').count(), count, "pdftotext ends each page with a form feed");
    let pages: Vec<&str> = text.split('\u{c}').filter(|page| !page.trim().is_empty()).collect();
    assert_eq!(pages.len(), count);
    let with_rows: Vec<&&str> = pages.iter().filter(|page| page.contains("INV-")).collect();
    assert!(with_rows.len() >= count - 1, "only the totals may spill onto a page of their own");
    for page in &with_rows {
        assert_eq!(page.matches("Reference").count(), 1, "the header row repeats on every page:\n{page}");
    }
    assert_eq!(text.matches("Reference").count(), with_rows.len());
    for n in [1, 250, 500] {
        assert!(text.contains(&format!("INV-{n:05}")), "row {n} missing");
    }
}

#[test]
fn names_in_any_european_script_survive_the_round_trip() {
    let mut document = statement(numbered_rows(1));
    document.recipient = ["Zoë Müller-Łukasiewicz", "Ørsted Ærø Straße 5", "Δημήτρης Παπαδόπουλος", "Фёдор Достоевский"].map(str::to_owned).to_vec();
    document.sections.push(Section::Paragraph("Prices in € and £, 10 % off — «merci» ½".to_owned()));
    let text = text_of("unicode", &render(&document).unwrap());

    for expected in ["Zoë Müller-Łukasiewicz", "Ørsted Ærø Straße 5", "Δημήτρης Παπαδόπουλος", "Фёдор Достоевский", "€", "«merci» ½"]
    {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
}

#[test]
fn fonts_are_embedded() {
    let path = write("fonts", &render(&statement(numbered_rows(3))).unwrap());
    let fonts = poppler("pdffonts", &[path.to_str().unwrap()]);

    let listed: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(listed.iter().any(|line| line.contains("DejaVuSans-Bold")), "{fonts}");
    assert!(listed.iter().any(|line| line.contains("DejaVuSans") && !line.contains("Bold")), "{fonts}");
    for line in listed {
        let columns: Vec<&str> = line.split_whitespace().collect();
        // name type... encoding emb sub uni object ID: "emb" is the fifth from the end.
        assert_eq!(columns.get(columns.len().saturating_sub(5)), Some(&"yes"), "not embedded: {line}");
    }
}

#[test]
fn cell_text_too_wide_for_its_column_is_cut_with_an_ellipsis() {
    let long = "Emergency call-out on a Sunday night to a burst pipe under the kitchen floor".repeat(3);
    let text = text_of("truncated", &render(&statement(vec![row("01 Oct 2026", "INV-00001", &long, "£99.00")])).unwrap());

    let line = text.lines().find(|line| line.contains("INV-00001")).unwrap();
    assert!(line.contains('…'), "{line}");
    assert!(line.trim_end().ends_with("£99.00"), "the amount is still whole: {line}");
}

#[test]
fn awkward_input_renders_without_panicking() {
    let huge = "x".repeat(200_000);
    let words = "word ".repeat(20_000);
    let empty_table = Table { columns: vec![Column::new("Only", 1.0, Align::Left)], rows: vec![] };
    let no_columns = Table { columns: vec![], rows: vec![vec!["lost".to_owned()]] };
    let ragged = Table {
        columns: vec![Column::new("", f32::NAN, Align::Right), Column::new("B", -3.0, Align::Left)],
        rows: vec![vec![], vec![huge.clone(); 5], vec![String::new(), "\u{0}\u{7}\t\r\n".to_owned()]],
    };
    let documents = [
        Document::default(),
        Document {
            title: huge.clone(),
            logo: None,
            issuer: vec![huge.clone(); 200],
            recipient: vec![String::new(); 3],
            facts: vec![(huge.clone(), huge.clone()); 100],
            sections: vec![
                Section::Heading(String::new()),
                Section::Paragraph(String::new()),
                Section::Paragraph(huge.clone()),
                Section::Paragraph(words),
                Section::Table(empty_table),
                Section::Table(no_columns),
                Section::Table(ragged),
                Section::Totals(vec![]),
                Section::Totals(vec![(huge.clone(), huge.clone(), true)]),
                Section::Paragraph("Missing from DejaVu: 漢字 🦀 \u{10FFFF} \u{FFFF}".to_owned()),
            ],
            footer: Some(huge),
        },
    ];
    for (index, document) in documents.iter().enumerate() {
        let pdf = render(document).unwrap();
        let text = text_of(&format!("awkward_{index}"), &pdf);
        assert!(text.contains("Page 1 of "), "{index}");
    }
}

/// A 4 × 2 pixel red PNG.
const TINY_PNG: [u8; 73] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 4, 0, 0, 0, 2, 8, 2, 0, 0, 0, 240, 202, 234, 52, 0, 0, 0, 16, 73, 68, 65, 84, 120,
    156, 99, 56, 163, 164, 4, 71, 12, 200, 28, 0, 115, 234, 8, 129, 234, 150, 80, 251, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

#[test]
fn the_logo_is_embedded_above_the_letterhead_and_a_damaged_one_is_recognised() {
    let logo = Image::new("image/png", TINY_PNG.to_vec()).unwrap();
    assert!(can_draw(&logo));
    let document = Document { logo: Some(logo), ..statement(numbered_rows(3)) };
    let path = write("with_logo", &render(&document).unwrap());
    let images = poppler("pdfimages", &["-list", path.to_str().unwrap()]);
    let rows: Vec<&str> = images.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "{images}");
    let columns: Vec<&str> = rows[0].split_whitespace().collect();
    assert_eq!((columns[3], columns[4]), ("4", "2"), "{images}");
    assert!(text_of("with_logo_text", &render(&document).unwrap()).contains("Acme Plumbing Ltd"));

    let mut damaged = TINY_PNG.to_vec();
    damaged.truncate(40);
    assert!(!can_draw(&Image::new("image/png", damaged).unwrap()));
    assert!(!can_draw(&Image::new("image/jpeg", TINY_PNG.to_vec()).unwrap()));
    assert!(Image::new("image/gif", TINY_PNG.to_vec()).is_none());
}
