//! Garbage collection: keep what the roots reach, sweep the rest.
//!
//! The engine computes the roots (the outputs named by lockfiles and by the last N runs). Mark:
//! every root, and recursively every file blob of a reachable manifest. Sweep: unreached blobs,
//! run records whose output was not reached, run-log entries none of whose outputs were reached,
//! undecodable index entries, and file-hash entries for files that are gone or changed. Records
//! are deleted (and flushed) before blobs, so a gc killed half-way never leaves a record that
//! names a deleted blob.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::error::Result;
use super::hash::Hash;
use super::index::decode_key;
use super::{Cache, RunRecord};

/// A blob that gc removes (or would remove, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedBlob {
    /// The blob.
    pub hash: Hash,
    /// Its size in bytes.
    pub size: u64,
    /// The node that produced it (or the artifact it is a file of), where a run record says.
    pub node_name: Option<String>,
    /// That node's op.
    pub op: Option<String>,
    /// For a file of a manifest: its relative path in the artifact.
    pub file: Option<String>,
}

/// A run record that gc removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedRecord {
    /// The node key.
    pub key: Hash,
    /// The name the node was last seen under.
    pub node_name: String,
    /// Its op.
    pub op: String,
    /// The output it named.
    pub output_hash: Hash,
}

/// What a gc did (or would do, when `dry_run`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    /// True when nothing was deleted.
    pub dry_run: bool,
    /// Blobs kept.
    pub kept_blobs: u64,
    /// Bytes kept.
    pub kept_bytes: u64,
    /// Blobs removed, in hash order.
    pub removed_blobs: Vec<RemovedBlob>,
    /// Bytes removed.
    pub removed_bytes: u64,
    /// Run records removed.
    pub removed_records: Vec<RemovedRecord>,
    /// Ids of run-log entries removed.
    pub removed_runs: Vec<u64>,
    /// Undecodable index entries removed.
    pub removed_bad_entries: u64,
    /// File-hash entries dropped because their file is gone or changed.
    pub forgotten_file_hashes: u64,
    /// Roots that were not in the store (nothing to keep for them).
    pub missing_roots: Vec<Hash>,
}

impl Cache {
    /// Removes everything not reachable from `roots`; with `dry_run`, only reports it.
    pub fn gc(&self, roots: &HashSet<Hash>, dry_run: bool) -> Result<GcReport> {
        let blobs = self.blobs();
        let index = self.index();
        let stored: BTreeMap<Hash, u64> = blobs
            .list()?
            .into_iter()
            .map(|entry| (entry.hash, entry.size))
            .collect();

        // Mark.
        let mut reachable: HashSet<Hash> = HashSet::new();
        let mut pending: Vec<Hash> = roots.iter().copied().collect();
        while let Some(hash) = pending.pop() {
            if !reachable.insert(hash) || !stored.contains_key(&hash) {
                continue;
            }
            if let Some(children) = blobs.manifest_children(hash) {
                pending.extend(children.into_iter().map(|(_, child)| child));
            }
        }
        let mut missing_roots: Vec<Hash> = roots
            .iter()
            .filter(|root| !stored.contains_key(root))
            .copied()
            .collect();
        missing_roots.sort();

        // Who made what, for the report.
        let ScannedRecords {
            records,
            undecodable: bad_record_keys,
        } = decodable_records(self)?;
        let mut owners: HashMap<Hash, (String, String, Option<String>)> = HashMap::new();
        for (_, record) in &records {
            owners.insert(
                record.output_hash,
                (record.node_name.clone(), record.op.clone(), None),
            );
        }
        for (_, record) in &records {
            if reachable.contains(&record.output_hash) {
                continue;
            }
            for (relpath, child) in blobs
                .manifest_children(record.output_hash)
                .unwrap_or_default()
            {
                owners.entry(child).or_insert_with(|| {
                    (record.node_name.clone(), record.op.clone(), Some(relpath))
                });
            }
        }

        let mut report = GcReport {
            dry_run,
            missing_roots,
            removed_bad_entries: bad_record_keys.len() as u64,
            ..GcReport::default()
        };
        for (&hash, &size) in &stored {
            if reachable.contains(&hash) {
                report.kept_blobs += 1;
                report.kept_bytes += size;
            } else {
                let owner = owners.get(&hash).cloned();
                report.removed_bytes += size;
                report.removed_blobs.push(RemovedBlob {
                    hash,
                    size,
                    node_name: owner.as_ref().map(|(name, _, _)| name.clone()),
                    op: owner.as_ref().map(|(_, op, _)| op.clone()),
                    file: owner.and_then(|(_, _, file)| file),
                });
            }
        }
        for (key, record) in &records {
            if !reachable.contains(&record.output_hash) {
                report.removed_records.push(RemovedRecord {
                    key: *key,
                    node_name: record.node_name.clone(),
                    op: record.op.clone(),
                    output_hash: record.output_hash,
                });
            }
        }
        for run in index.runs()? {
            let keeps_something = run
                .nodes
                .iter()
                .any(|node| reachable.contains(&node.output_hash));
            if !keeps_something {
                report.removed_runs.push(run.id);
            }
        }
        report.forgotten_file_hashes = index.forget_stale_file_hashes(dry_run)? as u64;

        if dry_run {
            return Ok(report);
        }
        for key in &bad_record_keys {
            index
                .records
                .remove(key)
                .map_err(index.sled_error("delete a run record"))?;
        }
        for removed in &report.removed_records {
            index.remove_record(removed.key)?;
        }
        for id in &report.removed_runs {
            index.remove_run(*id)?;
        }
        index.flush()?;
        for removed in &report.removed_blobs {
            blobs.evict(removed.hash)?;
        }
        Ok(report)
    }
}

/// The records of the index split by whether they decode.
struct ScannedRecords {
    records: Vec<(Hash, RunRecord)>,
    /// Raw keys of entries that do not decode: useless, so gc drops them.
    undecodable: Vec<sled::IVec>,
}

fn decodable_records(cache: &Cache) -> Result<ScannedRecords> {
    let index = cache.index();
    let mut records = Vec::new();
    let mut bad = Vec::new();
    for item in index.records.iter() {
        let (key, value) = item.map_err(index.sled_error("list run records"))?;
        match decode_key(&key) {
            Ok(hash) => match serde_json::from_slice::<RunRecord>(&value) {
                Ok(record) => records.push((hash, record)),
                Err(_) => bad.push(key),
            },
            Err(_) => bad.push(key),
        }
    }
    Ok(ScannedRecords {
        records,
        undecodable: bad,
    })
}
