//! The `buko` command line as an operator runs it.

use std::process::Command;

fn buko() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_buko"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("BUKO_LLM_PROVIDER", "offline")
        .env("BUKO_OFFLINE_TOKENS_PER_SEC", "0");
    cmd
}

#[test]
fn generate_writes_a_whole_book_that_epubcheck_accepts() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("libro.epub");
    let run = buko()
        .args([
            "generate",
            "Una farera en Chiloé encuentra cartas del futuro",
            "--language",
            "es",
            "--pages",
            "12",
        ])
        .arg("--out")
        .arg(&out)
        .env("BUKO_DATA_DIR", dir.path())
        .output()
        .expect("run buko generate");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let check = Command::new("java")
        .args(["-jar", "/usr/share/java/epubcheck.jar"])
        .arg(&out)
        .output()
        .expect("epubcheck (scripts/install-export-tools.sh)");
    let report = String::from_utf8_lossy(&check.stdout).to_string()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{report}");
    assert!(
        report.contains("No errors or warnings detected"),
        "{report}"
    );
}

#[test]
fn generate_refuses_an_unknown_format_and_bad_input_clearly() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = buko()
        .args(["generate", "An idea", "--out"])
        .arg(dir.path().join("book.exe"))
        .output()
        .expect("run");
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("unknown output format"));
    let run = buko()
        .args(["generate", "   ", "--out"])
        .arg(dir.path().join("book.md"))
        .output()
        .expect("run");
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("the idea is empty"));
    assert!(!dir.path().join("book.md").exists(), "nothing written");
}
