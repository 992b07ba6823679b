//! Crash-safe file writes: data goes to a uniquely named temp file inside the cache directory,
//! is fsynced, renamed into place, and the directory holding it is fsynced. A process killed at
//! any point leaves either the old state or the new one, plus at most a temp file that the next
//! [`Cache::open`](super::Cache::open) deletes.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::{CacheError, Result};

/// Distinguishes temp files of one process; with the pid and a timestamp in the name, no two
/// writers (threads or processes) ever pick the same temp path.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file being written in the temp directory. Dropped without [`TempFile::persist`], it is
/// deleted.
pub(crate) struct TempFile {
    file: Option<File>,
    path: PathBuf,
}

impl TempFile {
    /// Creates a new, empty temp file in `temp_dir`; `purpose` ends up in the name for debugging.
    pub(crate) fn create(temp_dir: &Path, purpose: &str) -> Result<TempFile> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "{purpose}-{}-{}-{nanos:09}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = temp_dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(CacheError::io("create temp file", &path))?;
        Ok(TempFile {
            file: Some(file),
            path,
        })
    }

    /// Appends bytes.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .as_mut()
            .expect("a TempFile holds its file until persisted")
            .write_all(bytes)
            .map_err(CacheError::io("write temp file", &self.path))
    }

    /// Fsyncs the content, marks the file read-only (cached objects are immutable, and hard links
    /// handed out by `materialize` must not be able to change them), renames it to `destination`
    /// (replacing what is there) and fsyncs `destination`'s directory so the rename is durable.
    pub(crate) fn persist(mut self, destination: &Path, read_only: bool) -> Result<()> {
        let file = self.file.take().expect("a TempFile is persisted once");
        file.sync_all()
            .map_err(CacheError::io("flush to disk", &self.path))?;
        if read_only {
            let mut permissions = file
                .metadata()
                .map_err(CacheError::io("read metadata of", &self.path))?
                .permissions();
            permissions.set_readonly(true);
            file.set_permissions(permissions)
                .map_err(CacheError::io("make read-only", &self.path))?;
        }
        drop(file);
        fs::rename(&self.path, destination)
            .map_err(CacheError::io("move a finished temp file to", destination))?;
        // From here on the temp path is gone; make Drop a no-op.
        self.path = PathBuf::new();
        if let Some(parent) = destination.parent() {
            sync_dir(parent)?;
        }
        Ok(())
    }
}

impl TempFile {
    /// Renames the file to `destination` without flushing anything to disk: for a file that only
    /// means something while this process runs (the lock holder record), which a power loss
    /// makes moot anyway. Readers still see the old file or the new one, never half of one.
    pub(crate) fn rename_unsynced(mut self, destination: &Path) -> Result<()> {
        self.file.take();
        fs::rename(&self.path, destination)
            .map_err(CacheError::io("move a finished temp file to", destination))?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file.take();
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to `destination` atomically (temp file in `temp_dir`, fsync, rename, fsync dir).
pub(crate) fn write_atomically(
    temp_dir: &Path,
    destination: &Path,
    bytes: &[u8],
    read_only: bool,
) -> Result<()> {
    let mut temp = TempFile::create(temp_dir, "write")?;
    temp.write_all(bytes)?;
    temp.persist(destination, read_only)
}

/// Fsyncs a directory so that entries created or renamed in it survive a power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(CacheError::io("flush directory", dir))
}

/// Creates `dir` if it does not exist; when it had to be created, fsyncs its parent so the new
/// entry is durable before anything is written into it.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => match dir.parent() {
            Some(parent) => sync_dir(parent),
            None => Ok(()),
        },
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(CacheError::Io {
            action: "create directory",
            path: dir.to_path_buf(),
            source: error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persisted_file_replaces_destination_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("out");
        fs::write(&destination, b"old").unwrap();
        write_atomically(dir.path(), &destination, b"new", false).unwrap();
        assert_eq!(fs::read(&destination).unwrap(), b"new");

        let mut abandoned = TempFile::create(dir.path(), "abandoned").unwrap();
        abandoned.write_all(b"partial").unwrap();
        drop(abandoned);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out")]);
    }

    #[test]
    fn read_only_flag_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        let destination = dir.path().join("blob");
        write_atomically(dir.path(), &destination, b"x", true).unwrap();
        assert!(fs::metadata(&destination).unwrap().permissions().readonly());
    }
}
