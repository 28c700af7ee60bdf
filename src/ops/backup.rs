//! `buko backup --out FILE` and `buko restore --from FILE`.
//!
//! SQLite: the backup is `VACUUM INTO`, an online, transactionally consistent copy taken while the node
//! keeps writing (WAL readers do not block the writer): every chunk committed before the copy started
//! is in it. Restore checks the file (`integrity_check`, Buko's tables present), then replaces the
//! database atomically (write beside it, fsync, rename) and removes the old WAL files. Stop the node
//! first: a running node would keep its handle on the replaced file.
//!
//! PostgreSQL: the backup runs `pg_dump --format=custom` on the direct URL; restoring is
//! `pg_restore` (see docs/DEPLOY.md, "Backups", for the drill), not something a node should do to a
//! shared database behind the other nodes' backs.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context};

use crate::config::Settings;
use crate::db::inspect::{
    count_rows as count, integrity_check, open_sqlite_file as sqlite, vacuum_into,
};
use crate::db::Backend;

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// Where to write the backup (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// A backup written by `buko backup` (SQLite).
    #[arg(long)]
    pub from: PathBuf,
}

pub fn backup(settings: &Settings, args: &BackupArgs) -> anyhow::Result<String> {
    ensure!(
        !args.out.exists(),
        "{} exists; choose a new file",
        args.out.display()
    );
    let url = settings.ops.session_url(&settings.database_url).to_string();
    match Backend::from_url(&url) {
        Backend::Sqlite => {
            let mut c = sqlite(&url)?;
            let out = args.out.to_string_lossy().to_string();
            vacuum_into(&mut c, &out).context("VACUUM INTO")?;
            let chunks = count(&mut sqlite(&args.out.to_string_lossy())?, "chunks")?;
            Ok(format!(
                "SQLite backup written to {} ({chunks} chunks)",
                args.out.display()
            ))
        }
        Backend::Postgres => {
            let status = std::process::Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(&args.out)
                .arg("--dbname")
                .arg(&url)
                .status()
                .context("running pg_dump (install the PostgreSQL client tools)")?;
            ensure!(status.success(), "pg_dump failed ({status})");
            Ok(format!(
                "PostgreSQL dump written to {} (restore with pg_restore; docs/DEPLOY.md)",
                args.out.display()
            ))
        }
    }
}

pub fn restore(settings: &Settings, args: &RestoreArgs) -> anyhow::Result<String> {
    let url = settings.database_url.expose();
    if Backend::from_url(url) == Backend::Postgres {
        bail!(
            "restore onto PostgreSQL with pg_restore (docs/DEPLOY.md, \"Backups\"); buko restore is for SQLite"
        );
    }
    let target = PathBuf::from(url.trim_start_matches("sqlite://"));
    let from = args.from.to_string_lossy().to_string();
    {
        let mut c = sqlite(&from)?;
        let verdict = integrity_check(&mut c).context("not a SQLite database")?;
        ensure!(verdict == "ok", "the backup is damaged: {verdict}");
        count(&mut c, "books").context("not a Buko backup (no books table)")?;
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let staging = sibling(&target, ".restoring");
    std::fs::copy(&args.from, &staging)
        .with_context(|| format!("copying {} to {}", from, staging.display()))?;
    std::fs::File::open(&staging)?.sync_all()?;
    // Old WAL frames belong to the old database: replayed over the restored one they would corrupt it.
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(&target, ext));
    }
    std::fs::rename(&staging, &target)
        .with_context(|| format!("replacing {}", target.display()))?;
    let chunks = count(&mut sqlite(&target.to_string_lossy())?, "chunks")?;
    Ok(format!(
        "restored {} from {} ({chunks} chunks)",
        target.display(),
        args.from.display()
    ))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
