//! Downloads: the stored book → `buko_export::BookDoc` → the requested format. Renders are CPU-bound, so
//! they run on the blocking pool (PDF renders, ~300 MB each at their peak, two at a time), and each is
//! cached on disk per book *version* (bumped by every committed chunk), so a finished book renders once
//! per format and a changed book is rendered again.

use std::path::{Path, PathBuf};

use buko_actors::Architecture;
use buko_export::{BookDoc, ChapterDoc, Format};
use tokio::sync::Semaphore;

use crate::db::repo::exports::StoredBook;

static PDF_SLOTS: Semaphore = Semaphore::const_new(2);

/// The book as the exporter sees it, with the version its cache is keyed by.
pub fn book_doc(stored: StoredBook) -> (BookDoc, i32) {
    let StoredBook {
        id,
        title,
        language,
        is_demo,
        architecture,
        version,
        created_at: created,
        completed_at: completed,
        author,
        dedication,
        copyright,
        chapters: titles,
        chunks: parts,
    } = stored;
    let arch: Architecture = architecture
        .and_then(|a| serde_json::from_str(&a).ok())
        .unwrap_or_default();
    let chapters = titles
        .into_iter()
        .map(|(position, title)| {
            let text: Vec<&str> = parts
                .iter()
                .filter(|(c, _)| *c == position)
                .map(|(_, t)| t.trim())
                .filter(|t| !t.is_empty())
                .collect();
            ChapterDoc {
                title,
                text: text.join("\n\n"),
            }
        })
        .filter(|c| !c.text.is_empty())
        .collect();
    let doc = BookDoc {
        id,
        title: if title.trim().is_empty() {
            arch.title.clone()
        } else {
            title
        },
        subtitle: arch.subtitle,
        author,
        dedication,
        copyright,
        language,
        synopsis: arch.synopsis,
        is_demo,
        date: completed.unwrap_or(created).date(),
        chapters,
    };
    (doc, version)
}

/// `doc` rendered as `format` (opening with `cover`: the JPEG and its version), from the cache under
/// `<data dir>/exports/<book>/<version>-c<cover version>.<ext>` when this version was rendered before.
/// PDF renders wait for one of two slots.
/// Where the rendered `format` of a book's text `version` with cover `cover_version` is kept (0: no
/// cover, as Markdown always is).
pub fn cached_path(
    data_dir: &Path,
    book_id: &str,
    version: i32,
    cover_version: i32,
    format: Format,
) -> PathBuf {
    let cover_version = if format == Format::Markdown {
        0
    } else {
        cover_version
    };
    data_dir
        .join("exports")
        .join(book_id)
        .join(format!("{version}-c{cover_version}.{}", format.extension()))
}

pub async fn render_cached(
    doc: BookDoc,
    format: Format,
    data_dir: &Path,
    version: i32,
    cover: Option<(Vec<u8>, i32)>,
) -> Result<Vec<u8>, String> {
    let cover_version = cover.as_ref().map_or(0, |c| c.1);
    let path = cached_path(data_dir, &doc.id, version, cover_version, format);
    let dir = data_dir.join("exports").join(&doc.id);
    let cover = cover.map(|c| c.0);
    let _slot = match format {
        Format::Pdf => Some(PDF_SLOTS.acquire().await.map_err(|e| e.to_string())?),
        _ => None,
    };
    actix_web::web::block(move || cached_render(&doc, format, cover.as_deref(), &dir, &path))
        .await
        .map_err(|e| e.to_string())?
}

fn cached_render(
    doc: &BookDoc,
    format: Format,
    cover: Option<&[u8]>,
    dir: &Path,
    path: &PathBuf,
) -> Result<Vec<u8>, String> {
    if let Ok(bytes) = std::fs::read(path) {
        return Ok(bytes);
    }
    let bytes = buko_export::render_with_cover(doc, format, cover)
        .map_err(|e| format!("export {format:?}: {e}"))?;
    // Write-then-rename: a concurrent reader never sees half a file. Older versions are removed.
    if std::fs::create_dir_all(dir).is_ok() {
        let tmp = path.with_extension(format!("{}.tmp{}", format.extension(), std::process::id()));
        if std::fs::write(&tmp, &bytes)
            .and_then(|()| std::fs::rename(&tmp, path))
            .is_ok()
        {
            remove_stale(dir, path, format);
        }
    }
    Ok(bytes)
}

fn remove_stale(dir: &Path, keep: &Path, format: Format) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p != keep && p.extension().and_then(|e| e.to_str()) == Some(format.extension()) {
            let _ = std::fs::remove_file(p);
        }
    }
}
