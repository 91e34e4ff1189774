//! A real SMTP server on loopback for the email tests: aiosmtpd running
//! `scripts/smtp-sink.py`, writing what it accepts into a Maildir the test
//! reads. Recipients starting with `reject` get `550`, `later` get `451`.
//! `scripts/test` installs aiosmtpd and sets `DOSSIER_TEST_SMTP_PYTHON`.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};

pub struct SmtpSink {
    pub port: u16,
    maildir: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

/// One email as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: Option<String>,
    pub body: String,
    /// Each attachment's name and bytes.
    pub attachments: Vec<(String, Vec<u8>)>,
    pub raw: String,
}

impl SmtpSink {
    /// Start the server on a free loopback port; `None` (and a note) when
    /// `DOSSIER_TEST_SMTP_PYTHON` is not set.
    pub fn start() -> Option<SmtpSink> {
        let Some(python) = std::env::var("DOSSIER_TEST_SMTP_PYTHON").ok().filter(|p| !p.is_empty()) else {
            eprintln!("skipped: DOSSIER_TEST_SMTP_PYTHON not set, so this email test did not run (scripts/test sets it)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("mail");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().unwrap().port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp-sink.py");
        let child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let sink = SmtpSink { port, maildir, child, _dir: dir };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "the SMTP sink did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(sink)
    }

    /// Every email that arrived, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = ["new", "cur"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(self.maildir.join(sub)).into_iter().flatten().flatten())
            .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.path()))
            .collect();
        files.sort();
        files.into_iter().map(|(_, path)| parse(&std::fs::read(path).expect("read a mail"))).collect()
    }
}

fn parse(raw: &[u8]) -> Received {
    let message = MessageParser::default().parse(raw).expect("a mail that parses");
    let addresses =
        |a: Option<&mail_parser::Address>| -> Vec<String> { a.map(|a| a.iter().filter_map(|x| x.address().map(str::to_owned)).collect()).unwrap_or_default() };
    let from = message.from().and_then(|a| a.first());
    Received {
        message_id: message.message_id().map(str::to_owned),
        in_reply_to: message.in_reply_to().as_text().map(str::to_owned),
        from: from.and_then(|a| a.address()).map(str::to_owned),
        from_name: from.and_then(|a| a.name()).map(str::to_owned),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().map(str::to_owned),
        body: message.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
        attachments: message.attachments().map(|a| (a.attachment_name().unwrap_or_default().to_owned(), a.contents().to_vec())).collect(),
        raw: String::from_utf8_lossy(raw).into_owned(),
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
