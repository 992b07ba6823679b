//! The one error type of the cache. Each variant says what went wrong and, where the user can act,
//! what to do; callers match on [`CacheError::Corrupt`] and [`CacheError::Missing`] to evict and
//! recompute instead of failing.

use std::path::PathBuf;

use super::hash::Hash;
use super::lock::Holder;

/// Result alias for cache operations.
pub type Result<T, E = CacheError> = std::result::Result<T, E>;

/// Everything that can go wrong while using a cache directory.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A filesystem operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done, as a verb phrase ("read", "create directory", …).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A stored blob's content no longer hashes to its name. The blob is useless; the caller
    /// should [`evict`](super::blobs::BlobStore::evict) it and recompute the artifact.
    #[error(
        "cached object {hash} at {} is corrupt (its content hashes to {actual}); \
         it will be evicted and recomputed",
        path.display()
    )]
    Corrupt {
        /// The hash the blob is stored under.
        hash: Hash,
        /// Where it lives.
        path: PathBuf,
        /// What its content actually hashes to.
        actual: Hash,
    },

    /// A blob that a record or manifest refers to is not in the store.
    #[error("cached object {hash} is missing from the cache (it may have been garbage-collected)")]
    Missing {
        /// The absent blob.
        hash: Hash,
    },

    /// Another process holds the cache and the caller asked not to wait.
    #[error(
        "the cache at {} is in use by {holder}; wait for it to finish and retry, \
         or run without --no-wait to wait for it",
        dir.display()
    )]
    Locked {
        /// The cache directory.
        dir: PathBuf,
        /// Who holds it, as far as the lock sidecar says.
        holder: Holder,
    },

    /// The directory holds a cache in a format this build does not read.
    #[error(
        "the cache at {} uses format {found:?}, but this tulu reads format {expected}; \
         point --cache-dir elsewhere or delete that directory (it only holds cached results)",
        dir.display()
    )]
    UnsupportedVersion {
        /// The cache directory.
        dir: PathBuf,
        /// The content of its VERSION file.
        found: String,
        /// The format this build reads.
        expected: u32,
    },

    /// The directory exists, is not empty, and is not a tulu cache: refusing to write into it.
    #[error(
        "{} is not empty and is not a tulu cache (it has no VERSION file); \
         choose another --cache-dir",
        dir.display()
    )]
    NotACache {
        /// The directory.
        dir: PathBuf,
    },

    /// The sled index failed.
    #[error("the cache index at {} failed while trying to {action}: {source}", path.display())]
    Index {
        /// What was being done.
        action: &'static str,
        /// The index directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: sled::Error,
    },

    /// A value in the index could not be decoded (written by an incompatible build, or damaged).
    #[error("the cache index entry {entry} cannot be decoded: {reason}")]
    BadIndexEntry {
        /// Which entry, for display.
        entry: String,
        /// Why it could not be decoded.
        reason: String,
    },

    /// A blob that should be a manifest is not one.
    #[error("cached object {hash} is not a valid artifact manifest: {reason}")]
    BadManifest {
        /// The blob.
        hash: Hash,
        /// What is wrong with it.
        reason: String,
    },

    /// A manifest has no file at the requested relative path.
    #[error("artifact {manifest} has no file {relpath:?}")]
    NoSuchFile {
        /// The manifest's hash.
        manifest: Hash,
        /// The path that was asked for.
        relpath: String,
    },

    /// A path inside an artifact directory cannot be represented portably in a manifest.
    #[error("cannot store {}: {reason}", path.display())]
    UnsupportedPath {
        /// The offending path.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// Materializing would overwrite an existing file.
    #[error("refusing to overwrite {} while materializing an artifact; remove it first", path.display())]
    DestinationExists {
        /// The existing path.
        path: PathBuf,
    },

    /// A file changed while it was being hashed, so the hash describes no version of it.
    #[error("{} changed while it was being read; retry once it is no longer being written", path.display())]
    ChangedWhileReading {
        /// The file.
        path: PathBuf,
    },

    /// A run record names an output that is not in the blob store.
    #[error(
        "refusing to record node {key}: its output {output} is not in the blob store \
         (store the output before its record)"
    )]
    RecordWithoutBlob {
        /// The node key.
        key: Hash,
        /// The absent output.
        output: Hash,
    },

    /// A value could not be encoded as JSON.
    #[error("cannot encode {what} as JSON: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl CacheError {
    /// Builds an [`CacheError::Io`] from an action and a path; used as
    /// `.map_err(CacheError::io("read", &path))`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> CacheError {
        let path = path.into();
        move |source| CacheError::Io {
            action,
            path,
            source,
        }
    }

    /// True when the error means "this cached object cannot be used, recompute it": a corrupt or
    /// missing blob. Engines treat these as cache misses after evicting.
    pub fn is_recoverable_miss(&self) -> bool {
        matches!(
            self,
            CacheError::Corrupt { .. } | CacheError::Missing { .. }
        )
    }
}
