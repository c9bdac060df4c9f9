//! `tessera import keyrock`: the command-line edge of `keyrock_idm::import` — where the
//! dump comes from, the progress display, and the one-line summary on stderr.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use keyrock_idm::import::{
    import_keyrock, DumpFile, ImportOptions, ImportSummary, Progress, TableCount,
};
use storage::DatabaseUrl;
use time::OffsetDateTime;

use crate::settings::{KeyrockImport, Settings};

/// Runs the import; `Err` is the one-line reason `main` prints.
pub fn keyrock(settings: &Settings, args: &KeyrockImport) -> Result<(), String> {
    let fail = |reason: String| format!("keyrock import: {reason}");
    // Standard input is read once into a temporary file: the import reads the dump once
    // per pass. The file is deleted when `spooled` is dropped.
    let spooled;
    let path: &Path = if args.dump.as_os_str() == "-" {
        spooled = spool_stdin().map_err(|e| fail(format!("cannot read standard input: {e}")))?;
        spooled.path()
    } else {
        &args.dump
    };
    let size = std::fs::metadata(path)
        .and_then(|m| {
            if m.is_dir() {
                Err(std::io::Error::other("it is a folder"))
            } else {
                Ok(m.len())
            }
        })
        .map_err(|e| fail(format!("cannot read {}: {e}", args.dump.display())))?;

    let url = target(settings, args.dry_run)?;
    let mut conn = url.connect().map_err(|e| fail(e.to_string()))?;
    let mut progress: Box<dyn Progress> = if std::io::stderr().is_terminal() {
        Box::new(Bar::new(size))
    } else {
        Box::new(LogLines)
    };
    let options = ImportOptions {
        dry_run: args.dry_run,
        now: OffsetDateTime::now_utc(),
    };
    let source = DumpFile(PathBuf::from(path));
    let summary = import_keyrock(&mut conn, &source, options, progress.as_mut())
        .map_err(|e| fail(e.to_string()))?;
    drop(progress);
    eprintln!("tessera: {}", summary_line(&summary));
    Ok(())
}

/// The database to import into. A dry run against a SQLite file that does not exist yet
/// runs on an empty in-memory database instead, so that it creates no file.
fn target(settings: &Settings, dry_run: bool) -> Result<DatabaseUrl, String> {
    let url = settings.database_url()?;
    match &url {
        DatabaseUrl::SqliteFile(path) if dry_run && !path.exists() => {
            DatabaseUrl::parse("sqlite::memory:").map_err(|e| e.to_string())
        }
        _ => Ok(url),
    }
}

fn spool_stdin() -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::NamedTempFile::new()?;
    std::io::copy(&mut std::io::stdin().lock(), &mut file)?;
    Ok(file)
}

/// `keyrock import: imported user=10 ...; skipped oauth_access_token=8 (dangling reference) ...`
fn summary_line(summary: &ImportSummary) -> String {
    let imported: Vec<String> = summary
        .tables
        .iter()
        .filter(|t| t.mapped)
        .map(|t| format!("{}={}", t.table, t.imported))
        .collect();
    let skipped: Vec<String> = summary
        .tables
        .iter()
        .flat_map(|t| {
            t.skipped
                .iter()
                .map(move |(reason, n)| format!("{}={n} ({})", t.table, reason.as_str()))
        })
        .collect();
    let prefix = if summary.dry_run {
        "keyrock import (dry run, nothing written)"
    } else {
        "keyrock import"
    };
    let skipped = if skipped.is_empty() {
        "nothing".to_owned()
    } else {
        skipped.join(" ")
    };
    format!(
        "{prefix}: imported {}; skipped {skipped}",
        imported.join(" ")
    )
}

/// One log line per finished table, for a stderr that is not a terminal.
struct LogLines;

impl Progress for LogLines {
    fn table_done(&mut self, count: &TableCount) {
        let skipped: u64 = count.skipped.values().sum();
        tracing::info!(
            table = %count.table,
            imported = count.imported,
            skipped,
            "keyrock import: table done"
        );
    }
}

/// A progress bar over the bytes of each pass, for a terminal.
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new(size: u64) -> Self {
        let bar = ProgressBar::new(size);
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>14} [{bar:40}] {bytes}/{total_bytes} ({eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar { bar }
    }
}

impl Progress for Bar {
    fn pass(&mut self, pass: usize, passes: usize) {
        self.bar.set_position(0);
        self.bar.set_message(format!("pass {}/{passes}", pass + 1));
    }

    fn read(&mut self, bytes: u64) {
        self.bar.set_position(bytes);
    }

    fn table_done(&mut self, count: &TableCount) {
        let skipped: u64 = count.skipped.values().sum();
        self.bar.println(format!(
            "{}: {} imported, {skipped} skipped",
            count.table, count.imported
        ));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
