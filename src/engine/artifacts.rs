//! Artifacts in the cache: storing what an op produced as a manifest, and loading a node's inputs
//! for the op that reads them. Every read is verified against its hash; a corrupt blob is evicted
//! and reported so the engine recomputes the node that made it.

use std::collections::HashMap;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;

use crate::cache::{Cache, CacheError, Hash, Manifest};
use crate::check::{Schema, Type};
use crate::data::Dataset;
use crate::ops::{Input, Output};

pub const ROWS_FILE: &str = "rows.jsonl";
pub const REPORT_FILE: &str = "report.json";
const COMPLETE_MARKER: &str = ".complete";

/// Why an input could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The blob (or one of the manifest's files) failed its hash check or is gone, and was
    /// evicted: the producing node must run again.
    Damaged {
        hash: Hash,
        message: String,
    },
    Other(anyhow::Error),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Damaged { message, .. } => f.write_str(message),
            LoadError::Other(e) => write!(f, "{e:#}"),
        }
    }
}

pub struct ArtifactStore<'c> {
    cache: &'c Cache,
    /// Parsed datasets of this run, shared by the nodes that read them.
    datasets: Mutex<HashMap<Hash, Arc<Dataset>>>,
}

impl<'c> ArtifactStore<'c> {
    pub fn new(cache: &'c Cache) -> ArtifactStore<'c> {
        ArtifactStore {
            cache,
            datasets: Mutex::new(HashMap::new()),
        }
    }

    pub fn cache(&self) -> &Cache {
        self.cache
    }

    /// Put an op's output into the blob store; returns the output hash (a manifest's).
    pub fn store(&self, output: Output, work_dir: &Path) -> anyhow::Result<Hash> {
        let blobs = self.cache.blobs();
        let hash = match output {
            Output::Dataset(ds) => {
                let dir = work_dir.join("out");
                std::fs::create_dir_all(&dir)?;
                let file = std::fs::File::create(dir.join(ROWS_FILE))?;
                let mut writer = BufWriter::new(file);
                ds.write_rows(&mut writer)?;
                writer
                    .into_inner()
                    .map_err(|e| e.into_error())?
                    .sync_all()?;
                let hash = blobs.put_dir(&dir, "dataset", ds.manifest_meta())?;
                self.datasets
                    .lock()
                    .map_err(|_| anyhow::anyhow!("dataset cache poisoned"))?
                    .insert(
                        hash,
                        Arc::new(Dataset {
                            meta: Default::default(),
                            ..ds
                        }),
                    );
                hash
            }
            Output::Dir { kind, dir, meta } => blobs.put_dir(&dir, kind, meta)?,
            Output::Record { kind, meta } => blobs.put_manifest(&Manifest {
                kind: kind.to_string(),
                files: Default::default(),
                meta,
            })?,
        };
        Ok(hash)
    }

    pub fn manifest(&self, hash: Hash) -> Result<Manifest, LoadError> {
        self.cache
            .blobs()
            .get_manifest(hash)
            .map_err(|e| self.damaged(hash, e))
    }

    /// Turn a cache error into a load error, evicting what failed its check.
    fn damaged(&self, hash: Hash, error: CacheError) -> LoadError {
        match error {
            CacheError::Corrupt { hash: bad, .. } => {
                let _ = self.cache.blobs().evict(bad);
                let _ = self.cache.blobs().evict(hash);
                LoadError::Damaged {
                    hash,
                    message: error.to_string(),
                }
            }
            CacheError::Missing { .. } => LoadError::Damaged {
                hash,
                message: error.to_string(),
            },
            other => LoadError::Other(other.into()),
        }
    }

    /// A cheap check that a cached output can be served: its manifest verifies and every file
    /// blob is present with the right size. Small files are also hash-verified; large ones
    /// (model weights) are verified when they are read.
    pub fn quick_verify(&self, hash: Hash) -> Result<Manifest, LoadError> {
        const VERIFY_BELOW: u64 = 1 << 20;
        let manifest = self.manifest(hash)?;
        for entry in manifest.files.values() {
            let blobs = self.cache.blobs();
            let size = blobs.size(entry.hash).map_err(|e| self.damaged(hash, e))?;
            if size != entry.size {
                let _ = blobs.evict(entry.hash);
                return Err(LoadError::Damaged {
                    hash,
                    message: format!(
                        "cached object {} has {size} bytes, expected {}",
                        entry.hash, entry.size
                    ),
                });
            }
            if size < VERIFY_BELOW {
                blobs
                    .verify(entry.hash)
                    .map_err(|e| self.damaged(hash, e))?;
            }
        }
        Ok(manifest)
    }

    pub fn dataset(&self, hash: Hash) -> Result<Arc<Dataset>, LoadError> {
        if let Some(ds) = self
            .datasets
            .lock()
            .ok()
            .and_then(|m| m.get(&hash).cloned())
        {
            return Ok(ds);
        }
        let manifest = self.manifest(hash)?;
        let schema = manifest
            .meta
            .get("schema")
            .and_then(Json::as_str)
            .and_then(Schema::from_name)
            .ok_or_else(|| LoadError::Other(anyhow::anyhow!("artifact {hash} is not a dataset")))?;
        let bytes = self
            .cache
            .blobs()
            .manifest_file_bytes(hash, &manifest, ROWS_FILE)
            .map_err(|e| self.damaged(hash, e))?;
        let rows = Dataset::read_rows(schema, &bytes[..])
            .map_err(|e| LoadError::Other(anyhow::anyhow!(e)))?;
        let ds = Arc::new(Dataset::new(schema, rows));
        if let Ok(mut map) = self.datasets.lock() {
            map.insert(hash, ds.clone());
        }
        Ok(ds)
    }

    /// A model directory, materialized once under `.tulu/models/<hash>` and reused. Built in a
    /// temporary directory and renamed into place, so parallel readers of one model never see a
    /// half-written directory.
    pub fn model_dir(&self, hash: Hash) -> Result<PathBuf, LoadError> {
        let models = self.cache.dir().join("models");
        let dir = models.join(hash.to_hex());
        if dir.join(COMPLETE_MARKER).exists() {
            return Ok(dir);
        }
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let staging = models.join(format!(
            ".{}-{}-{}",
            hash.short(),
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&models).map_err(|e| LoadError::Other(e.into()))?;
        if let Err(e) = self.cache.blobs().materialize(hash, &staging) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(self.damaged(hash, e));
        }
        std::fs::write(staging.join(COMPLETE_MARKER), hash.to_hex())
            .map_err(|e| LoadError::Other(e.into()))?;
        if dir.exists() && !dir.join(COMPLETE_MARKER).exists() {
            // Left by an older, interrupted materialization.
            let _ = std::fs::remove_dir_all(&dir);
        }
        match std::fs::rename(&staging, &dir) {
            Ok(()) => Ok(dir),
            Err(_) if dir.join(COMPLETE_MARKER).exists() => {
                // Another reader finished first; its copy is identical.
                let _ = std::fs::remove_dir_all(&staging);
                Ok(dir)
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                Err(LoadError::Other(anyhow::anyhow!(
                    "cannot place the model at {}: {e}",
                    dir.display()
                )))
            }
        }
    }

    pub fn report(&self, hash: Hash) -> Result<Arc<Json>, LoadError> {
        let manifest = self.manifest(hash)?;
        if manifest.file(REPORT_FILE).is_none() {
            return Ok(Arc::new(manifest.meta));
        }
        let bytes = self
            .cache
            .blobs()
            .manifest_file_bytes(hash, &manifest, REPORT_FILE)
            .map_err(|e| self.damaged(hash, e))?;
        serde_json::from_slice(&bytes)
            .map(Arc::new)
            .map_err(|e| LoadError::Other(anyhow::anyhow!("report {hash}: {e}")))
    }

    /// Load an input of type `ty` whose output hash is `hash`.
    pub fn load(&self, ty: &Type, hash: Hash) -> Result<Input, LoadError> {
        match ty {
            Type::Dataset(_) => self.dataset(hash).map(Input::Dataset),
            Type::Model => self.model_dir(hash).map(Input::Model),
            _ => self.report(hash).map(Input::Report),
        }
    }
}
