//! The index: a sled database under `<cache>/index/` with three trees.
//!
//! - `records`: node key (32 bytes) → [`RunRecord`] as canonical JSON;
//! - `runs`: run id (u64 big-endian, so iteration is chronological) → [`RunEntry`](super::RunEntry);
//! - `file_hashes`: canonical path → stat stamp + content hash (see [`Index::hash_file_cached`]).
//!
//! Values are JSON so that an index can be inspected with any sled dump tool. Large data never
//! goes in here: outputs live in the blob store and records only name them by hash.
//!
//! Durability: sled is crash-safe (after a SIGKILL it recovers a prefix of the writes), and
//! [`Cache::put_record`](super::Cache::put_record) stores the output blob durably *before* it
//! inserts the record and flushes, so a recovered record never names a half-written blob.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::canonical::canonical_json_of;
use super::error::{CacheError, Result};
use super::file_hashes::RACY_WINDOW_NS;
use super::hash::Hash;

/// sled's page cache; records are small, so a modest cache keeps memory use low.
const SLED_CACHE_BYTES: u64 = 64 << 20;

/// What the cache remembers about one executed node, keyed by its node key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The hash of the node's output (a blob or a manifest).
    pub output_hash: Hash,
    /// The op that ran.
    pub op: String,
    /// The op's version constant at the time.
    pub op_version: u32,
    /// The resolved params, as the JSON value whose canonical form went into the key; `tulu plan`
    /// diffs it against the current params.
    pub params: Value,
    /// The inputs, by signature name, with the output hashes they had.
    pub inputs: Vec<(String, Hash)>,
    /// The binding name the node was last seen under (display only; not part of the key).
    pub node_name: String,
    /// How long the op ran, in milliseconds.
    pub duration_ms: u64,
    /// When the output was produced (seconds since the Unix epoch).
    pub created_unix: u64,
    /// How many later runs reused this output instead of recomputing it.
    #[serde(default)]
    pub hits: u64,
    /// When the output was last produced or reused (seconds since the Unix epoch).
    #[serde(default)]
    pub last_used_unix: u64,
}

/// The sled index of a cache. Obtained from [`Cache::index`](super::Cache::index).
pub struct Index {
    pub(crate) db: sled::Db,
    pub(crate) records: sled::Tree,
    pub(crate) runs: sled::Tree,
    pub(crate) file_hashes: sled::Tree,
    pub(crate) path: PathBuf,
    /// See [`RACY_WINDOW_NS`]; a field so tests need not sleep through it.
    pub(crate) racy_window_ns: i128,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Index {
    /// Opens (or creates) the index at `path`. The caller must hold the cache lock.
    pub(crate) fn open(path: &Path) -> Result<Index> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(SLED_CACHE_BYTES)
            .flush_every_ms(Some(500))
            .open()
            .map_err(|source| CacheError::Index {
                action: "open",
                path: path.to_path_buf(),
                source,
            })?;
        let tree = |name: &'static str| {
            db.open_tree(name).map_err(|source| CacheError::Index {
                action: "open a tree of",
                path: path.to_path_buf(),
                source,
            })
        };
        Ok(Index {
            records: tree("records")?,
            runs: tree("runs")?,
            file_hashes: tree("file_hashes")?,
            db,
            path: path.to_path_buf(),
            racy_window_ns: RACY_WINDOW_NS,
        })
    }

    pub(crate) fn sled_error(
        &self,
        action: &'static str,
    ) -> impl FnOnce(sled::Error) -> CacheError + '_ {
        move |source| CacheError::Index {
            action,
            path: self.path.clone(),
            source,
        }
    }

    /// Makes every write so far durable.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().map_err(self.sled_error("flush"))?;
        Ok(())
    }

    /// The record of the node with this key, if it ran before.
    pub fn record(&self, key: Hash) -> Result<Option<RunRecord>> {
        let Some(bytes) = self
            .records
            .get(key.as_bytes())
            .map_err(self.sled_error("read a run record"))?
        else {
            return Ok(None);
        };
        decode_record(key, &bytes).map(Some)
    }

    /// Every record, in key order.
    pub fn records(&self) -> Result<Vec<(Hash, RunRecord)>> {
        let mut all = Vec::new();
        for item in self.records.iter() {
            let (key, value) = item.map_err(self.sled_error("list run records"))?;
            let key = decode_key(&key)?;
            all.push((key, decode_record(key, &value)?));
        }
        Ok(all)
    }

    /// Inserts or replaces a record, unflushed. Writers go through
    /// [`Cache::put_record`](super::Cache::put_record), which checks the output blob first.
    pub(crate) fn insert_record(&self, key: Hash, record: &RunRecord) -> Result<()> {
        let bytes = canonical_json_of(record, "a run record")?;
        self.records
            .insert(key.as_bytes(), bytes)
            .map_err(self.sled_error("write a run record"))?;
        Ok(())
    }

    /// Deletes a record; returns it if there was one.
    pub fn remove_record(&self, key: Hash) -> Result<Option<RunRecord>> {
        let removed = self
            .records
            .remove(key.as_bytes())
            .map_err(self.sled_error("delete a run record"))?;
        removed.map(|bytes| decode_record(key, &bytes)).transpose()
    }

    /// Counts a reuse of a cached output: bumps `hits`, refreshes `last_used_unix`, and records
    /// the name the node goes by now. Returns the updated record, or `None` if there is none.
    pub fn note_hit(&self, key: Hash, node_name: &str, now_unix: u64) -> Result<Option<RunRecord>> {
        let Some(mut record) = self.record(key)? else {
            return Ok(None);
        };
        record.hits += 1;
        record.last_used_unix = now_unix;
        node_name.clone_into(&mut record.node_name);
        self.insert_record(key, &record)?;
        Ok(Some(record))
    }
}

pub(crate) fn decode_key(bytes: &[u8]) -> Result<Hash> {
    let array: [u8; 32] = bytes.try_into().map_err(|_| CacheError::BadIndexEntry {
        entry: format!("with a {}-byte key", bytes.len()),
        reason: "node keys are 32 bytes".into(),
    })?;
    Ok(Hash::from_bytes(array))
}

fn decode_record(key: Hash, bytes: &[u8]) -> Result<RunRecord> {
    serde_json::from_slice(bytes).map_err(|error| CacheError::BadIndexEntry {
        entry: format!("for node {key}"),
        reason: error.to_string(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sample_record(output: Hash, node_name: &str) -> RunRecord {
        RunRecord {
            output_hash: output,
            op: "sft".into(),
            op_version: 3,
            params: json!({"lr": 5e-6, "epochs": 2}),
            inputs: vec![
                ("model".into(), Hash::of(b"base")),
                ("data".into(), Hash::of(b"rows")),
            ],
            node_name: node_name.into(),
            duration_ms: 1234,
            created_unix: 1_700_000_000,
            hits: 0,
            last_used_unix: 1_700_000_000,
        }
    }

    #[test]
    fn records_round_trip_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let key = Hash::of(b"key");
        let record = sample_record(Hash::of(b"out"), "sft");
        {
            let index = Index::open(&dir.path().join("index")).unwrap();
            assert_eq!(index.record(key).unwrap(), None);
            index.insert_record(key, &record).unwrap();
            index.flush().unwrap();
            assert_eq!(index.record(key).unwrap(), Some(record.clone()));
        }
        let index = Index::open(&dir.path().join("index")).unwrap();
        assert_eq!(index.record(key).unwrap(), Some(record.clone()));
        assert_eq!(index.records().unwrap(), vec![(key, record.clone())]);

        let hit = index
            .note_hit(key, "sft_renamed", 1_800_000_000)
            .unwrap()
            .unwrap();
        assert_eq!(
            (hit.hits, hit.last_used_unix, hit.node_name.as_str()),
            (1, 1_800_000_000, "sft_renamed")
        );
        assert_eq!(index.note_hit(Hash::of(b"absent"), "x", 0).unwrap(), None);

        assert_eq!(index.remove_record(key).unwrap(), Some(hit));
        assert_eq!(index.record(key).unwrap(), None);
    }

    #[test]
    fn stored_records_are_readable_canonical_json() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index")).unwrap();
        let key = Hash::of(b"key");
        index
            .insert_record(key, &sample_record(Hash::of(b"out"), "sft"))
            .unwrap();
        let raw = index.records.get(key.as_bytes()).unwrap().unwrap();
        let text = std::str::from_utf8(&raw).unwrap();
        assert!(
            text.starts_with(
                r#"{"created_unix":1700000000,"duration_ms":1234,"hits":0,"inputs":[["model",""#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#""params":{"epochs":2,"lr":0.000005}"#),
            "{text}"
        );
    }

    #[test]
    fn undecodable_entries_are_reported_not_panicked_on() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("index")).unwrap();
        let key = Hash::of(b"key");
        index
            .records
            .insert(key.as_bytes(), &b"{not json"[..])
            .unwrap();
        assert!(matches!(
            index.record(key),
            Err(CacheError::BadIndexEntry { .. })
        ));
        index.records.insert(&b"short"[..], &b"{}"[..]).unwrap();
        assert!(matches!(
            index.records(),
            Err(CacheError::BadIndexEntry { .. })
        ));
    }
}
