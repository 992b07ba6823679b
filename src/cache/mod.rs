//! The content-addressed cache: keys, the sled index of run records, the blob store, gc, and
//! the lock that lets one process at a time use a cache directory.
//!
//! The engine's view:
//! 1. [`Cache::open`] the directory (`.tulu/` beside the recipe, `--cache-dir`, `TULU_CACHE`);
//!    this takes the [lock](lock) first, waiting or failing per [`LockPolicy`].
//! 2. For each node: [`node_key`] from op, version, [`canonical_json`] params and the inputs'
//!    output hashes; [`Cache::cached_output`] answers a hit (and drops records whose blob is
//!    gone); on a hit call [`Index::note_hit`].
//! 3. On a miss, run the op, store its output with [`BlobStore::put_bytes`]/`put_file`/
//!    [`put_dir`](BlobStore::put_dir) (or [`adopt_dir`](BlobStore::adopt_dir), which moves
//!    freshly written files in without copying) — the output hash is what they return — then
//!    [`Cache::put_record`]. Reads that hit [`CacheError::Corrupt`] evict and recompute.
//! 4. At the end, [`Index::append_run`]; `tulu gc` calls [`Cache::gc`] with the roots to keep.
//!
//! On-disk layout and guarantees: `docs/cache.md`.

mod blobs;
mod canonical;
mod durable;
mod error;
mod file_hashes;
mod gc;
mod hash;
mod index;
mod key;
mod lock;
mod manifest;
mod run_log;
#[cfg(test)]
mod test_support;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use blobs::{BlobEntry, BlobStore};
pub use canonical::{canonical_json, canonical_json_of, canonical_json_string};
pub use error::{CacheError, Result};
pub use file_hashes::RACY_WINDOW_NS;
pub use gc::{GcReport, RemovedBlob, RemovedRecord};
pub use hash::{Hash, HashParseError};
pub use index::{Index, RunRecord};
pub use key::{node_key, NODE_KEY_DOMAIN};
pub use lock::{waiting_message, CacheLock, Holder, LockPolicy};
pub use manifest::{FileEntry, Manifest, MANIFEST_FORMAT};
pub use run_log::{RunEntry, RunNode};

use durable::{ensure_dir, write_atomically};

/// The on-disk format this build reads and writes; stored in `<cache>/VERSION`.
pub const CACHE_FORMAT_VERSION: u32 = 1;

const VERSION_FILE: &str = "VERSION";
const VERSION_PREFIX: &str = "tulu-cache ";
const OBJECTS_DIR: &str = "objects";
const TEMP_DIR: &str = "tmp";
const INDEX_DIR: &str = "index";
/// Files that may exist in a directory that is not (yet) a complete cache: left by a process that
/// was killed while creating it. Anything else without a VERSION file means "not ours".
const INIT_ENTRIES: [&str; 5] = [
    lock::LOCK_FILE,
    lock::HOLDER_FILE,
    TEMP_DIR,
    "CACHEDIR.TAG",
    ".gitignore",
];

/// The standard cache-directory tag (https://bford.info/cachedir/), so backup tools skip caches.
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by tulu.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// An open cache directory: the lock, the blob store and the index.
#[derive(Debug)]
pub struct Cache {
    // Field order is drop order: the index must be closed before the lock is released.
    index: Index,
    blobs: BlobStore,
    dir: PathBuf,
    _lock: CacheLock,
}

impl Cache {
    /// Opens the cache at `dir`, creating it on first use. If another process holds it, waits
    /// (printing [`waiting_message`] to stderr whenever the holder changes) or fails, per
    /// `policy`.
    pub fn open(dir: &Path, policy: LockPolicy) -> Result<Cache> {
        Cache::open_with(dir, policy, |holder| {
            eprintln!("{}", waiting_message(dir, holder))
        })
    }

    /// [`Cache::open`] with the caller deciding how to report waiting (a progress line, JSON).
    pub fn open_with(
        dir: &Path,
        policy: LockPolicy,
        on_wait: impl FnMut(&Holder),
    ) -> Result<Cache> {
        refuse_foreign_directory(dir)?;
        let lock = CacheLock::acquire(dir, policy, on_wait)?;
        // Re-check under the lock: another process may have initialized the directory meanwhile.
        refuse_foreign_directory(dir)?;
        check_or_write_version(dir)?;
        let blobs = BlobStore::open(dir.join(OBJECTS_DIR), dir.join(TEMP_DIR))?;
        let index = Index::open(&dir.join(INDEX_DIR))?;
        Ok(Cache {
            index,
            blobs,
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The blob store (objects and manifests).
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The index (run records, run log, file hashes).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Records that the node `key` produced `record.output_hash`, durably. The output must already
    /// be in the blob store, so a record never names a blob that is not fully written.
    pub fn put_record(&self, key: Hash, record: &RunRecord) -> Result<()> {
        if !self.blobs.contains(record.output_hash) {
            return Err(CacheError::RecordWithoutBlob {
                key,
                output: record.output_hash,
            });
        }
        self.index.insert_record(key, record)?;
        self.index.flush()
    }

    /// The record of `key` if its output is still stored. A record whose blob is gone, or that
    /// cannot be decoded, is deleted and reported as a miss. The blob is not verified here: reads
    /// verify, and a [`CacheError::Corrupt`] read means evict and recompute.
    pub fn cached_output(&self, key: Hash) -> Result<Option<RunRecord>> {
        let record = match self.index.record(key) {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(None),
            Err(CacheError::BadIndexEntry { .. }) => {
                self.index.remove_record(key).ok();
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        if self.blobs.contains(record.output_hash) {
            Ok(Some(record))
        } else {
            self.index.remove_record(key)?;
            Ok(None)
        }
    }

    /// The content hash of a file outside the cache, skipping the read when its stamp is known;
    /// see [`Index::hash_file_cached`].
    pub fn hash_file_cached(&self, path: &Path) -> Result<Hash> {
        self.index.hash_file_cached(path)
    }

    /// Makes all index writes durable (the blob store is always durable).
    pub fn flush(&self) -> Result<()> {
        self.index.flush()
    }
}

fn refuse_foreign_directory(dir: &Path) -> Result<()> {
    if dir.join(VERSION_FILE).exists() {
        return Ok(());
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(CacheError::Io {
                action: "list directory",
                path: dir.to_path_buf(),
                source: error,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(CacheError::io("list directory", dir))?;
        let name = entry.file_name();
        if !INIT_ENTRIES.iter().any(|known| name == *known) {
            return Err(CacheError::NotACache {
                dir: dir.to_path_buf(),
            });
        }
    }
    Ok(())
}

fn check_or_write_version(dir: &Path) -> Result<()> {
    let path = dir.join(VERSION_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let expected = format!("{VERSION_PREFIX}{CACHE_FORMAT_VERSION}");
            if text.trim() == expected {
                Ok(())
            } else {
                let mut found: String = text.trim().chars().take(80).collect();
                if found.is_empty() {
                    found = "(empty VERSION file)".into();
                }
                Err(CacheError::UnsupportedVersion {
                    dir: dir.to_path_buf(),
                    found,
                    expected: CACHE_FORMAT_VERSION,
                })
            }
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let temp_dir = dir.join(TEMP_DIR);
            ensure_dir(&temp_dir)?;
            write_atomically(
                &temp_dir,
                &dir.join("CACHEDIR.TAG"),
                CACHEDIR_TAG.as_bytes(),
                false,
            )?;
            write_atomically(&temp_dir, &dir.join(".gitignore"), b"*\n", false)?;
            // VERSION last: its presence means the directory was fully initialized.
            let version = format!("{VERSION_PREFIX}{CACHE_FORMAT_VERSION}\n");
            write_atomically(&temp_dir, &path, version.as_bytes(), false)
        }
        Err(error) => Err(CacheError::Io {
            action: "read",
            path,
            source: error,
        }),
    }
}

#[cfg(test)]
mod tests;
