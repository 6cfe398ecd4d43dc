//! Writing a command's output files all or nothing: none of them may be one of its inputs (by
//! canonical path, or the same file under another name) or a read-only file; each is written to a
//! new temporary file beside it (created exclusively, never through a symlink), synced, and only
//! when every one is written are they renamed into place. On any failure the temporaries are
//! removed and the old outputs stay as they were.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) if x == y => return true,
        _ => {}
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// Refuses, before anything is written, an output that is an input, two outputs that are one
/// file, and an existing output that is read-only.
pub fn check(outputs: &[&Path], inputs: &[&Path]) -> anyhow::Result<()> {
    for (k, out) in outputs.iter().enumerate() {
        for input in inputs {
            if same_file(out, input) {
                bail!(
                    "output {} is the input {}: choose another output name (nothing was written)",
                    out.display(),
                    input.display()
                );
            }
        }
        for other in &outputs[..k] {
            if out == other || same_file(out, other) {
                bail!(
                    "outputs {} and {} are the same file (nothing was written)",
                    other.display(),
                    out.display()
                );
            }
        }
        if let Ok(m) = std::fs::symlink_metadata(out) {
            if m.is_dir() {
                bail!(
                    "output {} is a folder: choose a file name (nothing was written)",
                    out.display()
                );
            }
            if m.permissions().readonly() {
                bail!(
                    "output {} exists and is read-only: not replaced (nothing was written)",
                    out.display()
                );
            }
        }
    }
    Ok(())
}

/// Writes every `(path, bytes)` or none (see the module's doc). Call [`check`] first.
pub fn write_all(files: &[(PathBuf, Vec<u8>)]) -> anyhow::Result<()> {
    let mut temps: Vec<PathBuf> = Vec::with_capacity(files.len());
    let result = (|| -> anyhow::Result<()> {
        for (path, bytes) in files {
            let tmp = temp_beside(path)?;
            temps.push(tmp.clone());
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .with_context(|| format!("cannot write {}", path.display()))?;
            f.write_all(bytes)
                .and_then(|_| f.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        for ((path, _), tmp) in files.iter().zip(&temps) {
            std::fs::rename(tmp, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    })();
    if result.is_err() {
        for t in &temps {
            let _ = std::fs::remove_file(t);
        }
    }
    result
}

/// Writes one file all or nothing as `body` streams it (for outputs too large to hold in memory):
/// into a new temporary file beside `path` (created exclusively), synced, then renamed over it;
/// on failure the temporary file is removed and `path` is untouched. Call [`check`] first.
pub fn write_streamed(
    path: &Path,
    body: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let tmp = temp_beside(path).with_context(|| format!("cannot write {}", path.display()))?;
    let result = (|| {
        // created here, exclusively (never an existing file or a planted link), or not at all
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        body(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// A fresh name for a temporary file in `path`'s folder: hidden, with the process and a random
/// part, so no other process can have planted it (open it with `create_new`).
pub fn temp_beside(path: &Path) -> std::io::Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let mut random = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))
        .unwrap_or_else(|_| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            random = (t as u64).to_le_bytes();
        });
    let tag: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(dir.join(format!(".{name}.{}.{tag}.tmp", std::process::id())))
}
