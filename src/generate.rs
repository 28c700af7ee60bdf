//! `buko generate "idea" --out book.epub`: the whole flow headless, through the same engine, store,
//! runner and exporter as the server — architecture, approval, every chunk, then the file. It works in
//! a scratch SQLite database of its own, so it needs no server and leaves no books behind.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use buko_actors::Fence;

use crate::books::{validate_new_book, BookService, CostModel, NewBookInput};
use crate::config::Settings;
use crate::db::{self, models, repo};
use crate::limits::MemoryLimiter;
use crate::runner::{RunOutcome, Runner};

#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The idea of the book.
    pub idea: String,
    /// Output file; its extension picks the format: .pdf, .epub, .docx or .md.
    #[arg(long)]
    pub out: PathBuf,
    /// Language of the book: en or es.
    #[arg(long, default_value = "en")]
    pub language: String,
    /// Target length in pages (10–1000).
    #[arg(long, default_value_t = 30)]
    pub pages: i64,
    #[arg(long, default_value = "")]
    pub genre: String,
    #[arg(long, default_value = "")]
    pub audience: String,
    #[arg(long, default_value = "")]
    pub tone: String,
}

pub async fn generate(mut settings: Settings, args: GenerateArgs) -> anyhow::Result<()> {
    let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let format = buko_export::Format::from_ext(ext)
        .ok_or_else(|| anyhow!("unknown output format {ext:?}: use .pdf, .epub, .docx or .md"))?;
    let input = NewBookInput {
        idea: args.idea.clone(),
        genre: args.genre.clone(),
        audience: args.audience.clone(),
        tone: args.tone.clone(),
        language: args.language.clone(),
        target_pages: Some(args.pages),
    };
    // Bad input is refused before any work (the service checks it again when creating).
    validate_new_book(&input)?;

    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    settings.data_dir = scratch.path().to_path_buf();
    let pool = db::build_pool(&scratch.path().join("generate.db").to_string_lossy(), 4)?;
    db::migrate_pool(&pool).await?;
    crate::llm::init_tls();
    let llm = crate::llm::build_provider(&settings.llm);
    eprintln!("writing with {} ({})", llm.provider(), llm.model());
    let engine = buko_actors::Engine::start(
        llm,
        Arc::new(crate::store::DbBookStore::new(pool.clone())),
        Arc::new(buko_actors::NoRemote),
        Arc::new(buko_actors::SystemClock),
        buko_actors::EngineConfig {
            yield_while_breaker_open: true,
            ..buko_actors::EngineConfig::default()
        },
    );
    let cost_model = CostModel::of(engine.deps.llm.as_ref(), settings.llm.prompt_cache);
    let runner = Runner::new(engine, pool.clone());
    let books = BookService::new(
        pool.clone(),
        Arc::new(MemoryLimiter::new()),
        settings.data_dir.clone(),
        cost_model,
    );

    let user = db::run(&pool, move |c| {
        repo::users::create(
            c,
            repo::users::NewUser {
                email: "generate@localhost",
                password_hash: String::new(),
                role: models::ROLE_USER,
                locale: None,
            },
        )
    })
    .await?;
    let book_id = books.create(&user, &input).await?.id;

    eprintln!("drafting the architecture…");
    expect_done(runner.architecture(&book_id).await, "architecture")?;
    books
        .approve(&user, &book_id, None)
        .await
        .context("approving the architecture")?;

    let progress = actix_web::rt::spawn(show_progress(pool.clone(), book_id.to_string()));
    let mut outcome = runner.book(&book_id, Fence(1), None).await;
    // The provider's breaker is open: wait as the job queue would, then continue.
    while let RunOutcome::Later(after) = outcome {
        eprintln!("\nthe AI provider is unavailable; trying again in {after:.0?}");
        tokio::time::sleep(after).await;
        outcome = runner.book(&book_id, Fence(1), None).await;
    }
    progress.abort();
    eprintln!();
    expect_done(outcome, "book")?;

    let file = books.export(&user, &book_id, format.extension()).await?;
    std::fs::write(&args.out, &file.bytes)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "{} → {} ({} KiB)",
        file.file_name,
        args.out.display(),
        file.bytes.len() / 1024
    );
    Ok(())
}

fn expect_done(outcome: RunOutcome, what: &str) -> anyhow::Result<()> {
    match outcome {
        RunOutcome::Done(note) if note.contains("ready") || note == "completed" => Ok(()),
        RunOutcome::Done(note) => bail!("the {what} stopped: {note}"),
        RunOutcome::Retry(reason) | RunOutcome::Failed(reason) => {
            bail!("the {what} failed: {reason}")
        }
        RunOutcome::Later(after) => bail!("the {what} is waiting for the provider ({after:?})"),
    }
}

/// A one-line progress bar on stderr from the book's committed chunks.
async fn show_progress(pool: db::DbPool, book_id: String) {
    loop {
        let id = book_id.clone();
        let row = db::run(&pool, move |c| repo::books::progress(c, &id)).await;
        if let Ok((done, total, words)) = row {
            let width = 30usize;
            let filled = if total > 0 {
                (done as usize * width) / total as usize
            } else {
                0
            };
            eprint!(
                "\r[{}{}] {done}/{total} chunks, {words} words",
                "#".repeat(filled),
                ".".repeat(width - filled.min(width))
            );
            let _ = std::io::stderr().flush();
        }
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    }
}
