//! Shared test plumbing: each (book, format) is rendered once per test run
//! and written to a scratch directory, and the external checkers (epubcheck,
//! poppler, LibreOffice) are run as a reader would. A missing tool is a test
//! failure, never a skip: `scripts/install-export-tools.sh` installs them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use buko_export::{render, BookDoc, Format, Language};

use crate::fixtures;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sample {
    Short(Language),
    Long(Language),
    Hostile,
}

impl Sample {
    pub fn doc(self) -> BookDoc {
        match self {
            Sample::Short(l) => fixtures::short_book(l),
            Sample::Long(l) => fixtures::long_book(l),
            Sample::Hostile => fixtures::hostile_book(),
        }
    }

    fn slug(self) -> String {
        match self {
            Sample::Short(l) => format!("short-{}", l.code()),
            Sample::Long(l) => format!("long-{}", l.code()),
            Sample::Hostile => "hostile".into(),
        }
    }
}

/// A scratch directory for this test process, removed by nobody on purpose:
/// the rendered files stay there for a human to open after a failure.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("buko-export-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    })
}

type Cell = Arc<OnceLock<PathBuf>>;

/// Renders `sample` to `format` once per test process and returns the file.
pub fn rendered(sample: Sample, format: Format) -> PathBuf {
    static CACHE: OnceLock<Mutex<HashMap<(Sample, Format), Cell>>> = OnceLock::new();
    let cell = {
        let mut map = CACHE
            .get_or_init(Default::default)
            .lock()
            .expect("cache lock");
        map.entry((sample, format)).or_default().clone()
    };
    cell.get_or_init(|| {
        let bytes = render(&sample.doc(), format)
            .unwrap_or_else(|e| panic!("render {sample:?} as {format:?}: {e}"));
        let path = scratch().join(format!("{}.{}", sample.slug(), format.extension()));
        std::fs::write(&path, bytes).expect("write rendered file");
        path
    })
    .clone()
}

/// Runs a checker; a tool that cannot be started fails the test with the fix.
pub fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {shown}: {e}. Install the tools: scripts/install-export-tools.sh")
    })
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub const EPUBCHECK_JAR: &str = "/usr/share/java/epubcheck.jar";

/// Runs epubcheck and fails with its report unless it found no errors.
pub fn assert_epubcheck_clean(path: &Path) {
    assert!(
        Path::new(EPUBCHECK_JAR).exists(),
        "{EPUBCHECK_JAR} missing: run scripts/install-export-tools.sh"
    );
    let out = run(Command::new("java")
        .arg("-jar")
        .arg(EPUBCHECK_JAR)
        .arg(path));
    let report = all_output(&out);
    assert!(
        out.status.success(),
        "epubcheck failed on {}:\n{report}",
        path.display()
    );
    assert!(
        report.contains("No errors or warnings detected"),
        "epubcheck on {}:\n{report}",
        path.display()
    );
}

/// Page count as `pdfinfo` reports it.
pub fn pdf_pages(path: &Path) -> usize {
    let out = run(Command::new("pdfinfo").arg(path));
    assert!(
        out.status.success(),
        "pdfinfo rejected {}: {}",
        path.display(),
        all_output(&out)
    );
    stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count from pdfinfo: {}", stdout(&out)))
}

/// The PDF's text as `pdftotext` extracts it (UTF-8).
pub fn pdf_text(path: &Path) -> String {
    let out = run(Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(path)
        .arg("-"));
    assert!(
        out.status.success(),
        "pdftotext rejected {}: {}",
        path.display(),
        all_output(&out)
    );
    stdout(&out)
}

/// Converts DOCX files to PDF with headless LibreOffice in one process (its
/// start-up dominates the cost) and returns the PDFs, in order.
pub fn docx_to_pdf(docx: &[PathBuf]) -> Vec<PathBuf> {
    let out_dir = scratch().join("soffice-out");
    std::fs::create_dir_all(&out_dir).expect("create soffice out dir");
    // A private profile: parallel or leftover LibreOffice instances would
    // otherwise share (and lock) ~/.config/libreoffice.
    let profile = format!(
        "-env:UserInstallation=file://{}",
        scratch().join("soffice-profile").display()
    );
    let out = run(Command::new("soffice")
        .arg(profile)
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(&out_dir)
        .args(docx));
    assert!(out.status.success(), "soffice failed: {}", all_output(&out));
    docx.iter()
        .map(|d| {
            let pdf = out_dir.join(d.with_extension("pdf").file_name().expect("file name"));
            assert!(
                pdf.exists(),
                "LibreOffice did not convert {}: {}",
                d.display(),
                all_output(&out)
            );
            pdf
        })
        .collect()
}

/// Whitespace-insensitive containment: PDF text extraction breaks lines and
/// hyphenates, so compare with all whitespace removed.
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}
