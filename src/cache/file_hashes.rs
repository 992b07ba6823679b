//! The file-hash index behind `load`: a file is identified by the blake3 of its content, and
//! `(canonical path, size, mtime_ns, ctime_ns, inode, device) → hash` lets an unchanged large file
//! skip rehashing.
//!
//! ctime joins the brief's (size, mtime, inode) because tools such as `cp -p`, `rsync -t` and
//! `touch -d` can set mtime to an old value, but nothing but the kernel sets ctime.
//!
//! The racy-write problem (git calls it "racy git"): file timestamps have a granularity (a kernel
//! tick, up to seconds on some filesystems), so a file rewritten with the same size within the
//! same tick after it was hashed would keep its stamp. So a stamp is only stored when the file's
//! last change is more than [`RACY_WINDOW_NS`] in the past; a younger file is simply rehashed
//! next time.

use std::fs::{self, File, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::blobs::hash_reader;
use super::error::{CacheError, Result};
use super::hash::Hash;
use super::index::Index;

/// A file whose mtime or ctime is this recent is hashed but not remembered.
pub const RACY_WINDOW_NS: i128 = 2_000_000_000;

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FileStamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    inode: u64,
    device: u64,
}

impl FileStamp {
    fn of(metadata: &Metadata) -> FileStamp {
        FileStamp {
            size: metadata.len(),
            mtime_ns: i128::from(metadata.mtime()) * 1_000_000_000
                + i128::from(metadata.mtime_nsec()),
            ctime_ns: i128::from(metadata.ctime()) * 1_000_000_000
                + i128::from(metadata.ctime_nsec()),
            inode: metadata.ino(),
            device: metadata.dev(),
        }
    }

    fn is_settled(&self, now_ns: i128, racy_window_ns: i128) -> bool {
        self.mtime_ns.max(self.ctime_ns) < now_ns - racy_window_ns
    }
}

/// The stored value: a stamp and the hash the file had under it.
#[derive(Debug, Serialize, Deserialize)]
struct FileHashEntry {
    stamp: FileStamp,
    hash: Hash,
}

impl Index {
    /// The blake3 of the file at `path`, read from the index when the file's stamp is unchanged
    /// since it was last hashed, else computed (and remembered when the file is settled).
    /// Errors if the file changes while it is being hashed.
    pub fn hash_file_cached(&self, path: &Path) -> Result<Hash> {
        let canonical = fs::canonicalize(path).map_err(CacheError::io("find", path))?;
        let before =
            fs::metadata(&canonical).map_err(CacheError::io("read metadata of", &canonical))?;
        if !before.is_file() {
            return Err(CacheError::UnsupportedPath {
                path: canonical,
                reason: "only regular files can be hashed".into(),
            });
        }
        let stamp = FileStamp::of(&before);
        let key = canonical.as_os_str().as_bytes();
        if let Some(bytes) = self
            .file_hashes
            .get(key)
            .map_err(self.sled_error("read the file-hash index"))?
        {
            if let Ok(entry) = serde_json::from_slice::<FileHashEntry>(&bytes) {
                if entry.stamp == stamp {
                    return Ok(entry.hash);
                }
            }
        }

        let mut file = File::open(&canonical).map_err(CacheError::io("open", &canonical))?;
        let hash =
            hash_reader(&mut file, before.len()).map_err(CacheError::io("read", &canonical))?;
        let after = file
            .metadata()
            .map_err(CacheError::io("read metadata of", &canonical))?;
        if FileStamp::of(&after) != stamp {
            return Err(CacheError::ChangedWhileReading { path: canonical });
        }
        if stamp.is_settled(now_ns(), self.racy_window_ns) {
            let entry = serde_json::to_vec(&FileHashEntry { stamp, hash }).map_err(|source| {
                CacheError::Encode {
                    what: "a file-hash index entry",
                    source,
                }
            })?;
            self.file_hashes
                .insert(key, entry)
                .map_err(self.sled_error("write the file-hash index"))?;
        }
        Ok(hash)
    }

    /// Drops file-hash entries whose file is gone or changed (they could never hit again);
    /// returns how many. gc calls this.
    pub fn forget_stale_file_hashes(&self, dry_run: bool) -> Result<usize> {
        let mut stale = Vec::new();
        for item in self.file_hashes.iter() {
            let (key, value) = item.map_err(self.sled_error("read the file-hash index"))?;
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(&key));
            let current = fs::metadata(&path)
                .ok()
                .map(|metadata| FileStamp::of(&metadata));
            let remembered = serde_json::from_slice::<FileHashEntry>(&value)
                .ok()
                .map(|entry| entry.stamp);
            if current.is_none() || current != remembered {
                stale.push(key);
            }
        }
        if !dry_run {
            for key in &stale {
                self.file_hashes
                    .remove(key)
                    .map_err(self.sled_error("clean the file-hash index"))?;
            }
        }
        Ok(stale.len())
    }
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as i128)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Backdates a file's mtime (ctime cannot be set, so tests shrink the window instead).
    fn set_mtime(path: &Path, seconds_ago: u64) {
        let file = File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(seconds_ago))
            .unwrap();
    }

    fn entry_for(index: &Index, path: &Path) -> Option<FileHashEntry> {
        let canonical = fs::canonicalize(path).unwrap();
        index
            .file_hashes
            .get(canonical.as_os_str().as_bytes())
            .unwrap()
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn hashes_match_content_and_fresh_files_are_not_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index")).unwrap();
        let data = dir.path().join("data.jsonl");
        fs::write(&data, b"{\"a\":1}\n").unwrap();
        assert_eq!(
            index.hash_file_cached(&data).unwrap(),
            Hash::of(b"{\"a\":1}\n")
        );
        // Just written (ctime is now): racy, so not stored.
        assert!(entry_for(&index, &data).is_none());
    }

    #[test]
    fn settled_files_are_remembered_and_changes_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::open(&dir.path().join("index")).unwrap();
        // Waiting out the real window would take seconds; the rule itself is tested above and in
        // `settling_follows_the_window`.
        index.racy_window_ns = 0;
        let data = dir.path().join("data.jsonl");
        fs::write(&data, b"version one\n").unwrap();
        set_mtime(&data, 3600);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            index.hash_file_cached(&data).unwrap(),
            Hash::of(b"version one\n")
        );
        let stored = entry_for(&index, &data).expect("a settled file is remembered");
        assert_eq!(stored.hash, Hash::of(b"version one\n"));

        // Plant a different hash under the same stamp: a hit must answer from the index without
        // reading the file.
        let planted = FileHashEntry {
            stamp: stored.stamp,
            hash: Hash::of(b"what the index remembers"),
        };
        let canonical = fs::canonicalize(&data).unwrap();
        index
            .file_hashes
            .insert(
                canonical.as_os_str().as_bytes(),
                serde_json::to_vec(&planted).unwrap(),
            )
            .unwrap();
        assert_eq!(index.hash_file_cached(&data).unwrap(), planted.hash);
        // Through another spelling of the same path, too.
        let dotted = dir.path().join(".").join("data.jsonl");
        assert_eq!(index.hash_file_cached(&dotted).unwrap(), planted.hash);

        // Same size, mtime forced back to the old value: ctime still moves, so it is rehashed.
        std::thread::sleep(Duration::from_millis(30));
        fs::write(&data, b"version two\n").unwrap();
        set_mtime(&data, 3600);
        assert_eq!(
            index.hash_file_cached(&data).unwrap(),
            Hash::of(b"version two\n")
        );
    }

    #[test]
    fn settling_follows_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        fs::write(&data, b"x").unwrap();
        let stamp = FileStamp::of(&fs::metadata(&data).unwrap());
        assert!(
            !stamp.is_settled(now_ns(), RACY_WINDOW_NS),
            "ctime is fresh"
        );
        assert!(stamp.is_settled(now_ns() + RACY_WINDOW_NS + 1_000_000_000, RACY_WINDOW_NS));
    }

    #[test]
    fn stale_entries_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index")).unwrap();
        let kept = dir.path().join("kept");
        let gone = dir.path().join("gone");
        for path in [&kept, &gone] {
            fs::write(path, b"x").unwrap();
            let entry = FileHashEntry {
                stamp: FileStamp::of(&fs::metadata(path).unwrap()),
                hash: Hash::of(b"x"),
            };
            let canonical = fs::canonicalize(path).unwrap();
            index
                .file_hashes
                .insert(
                    canonical.as_os_str().as_bytes(),
                    serde_json::to_vec(&entry).unwrap(),
                )
                .unwrap();
        }
        fs::remove_file(&gone).unwrap();
        assert_eq!(index.forget_stale_file_hashes(true).unwrap(), 1);
        assert_eq!(index.file_hashes.len(), 2);
        assert_eq!(index.forget_stale_file_hashes(false).unwrap(), 1);
        assert_eq!(index.file_hashes.len(), 1);
        assert!(entry_for(&index, &kept).is_some());
    }

    #[test]
    fn directories_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index")).unwrap();
        assert!(matches!(
            index.hash_file_cached(dir.path()),
            Err(CacheError::UnsupportedPath { .. })
        ));
        assert!(matches!(
            index.hash_file_cached(&dir.path().join("absent")),
            Err(CacheError::Io { action: "find", .. })
        ));
    }
}
