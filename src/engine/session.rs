//! What `plan` and `run` share: computing a node's key from its inputs' output hashes, deciding
//! whether a cached output can be served, and explaining why a node must run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::artifacts::{ArtifactStore, LoadError};
use super::lockfile::Lockfile;
use super::reasons::{self, PreviousRun, Reason};
use crate::cache::{canonical_json, node_key, Cache, Hash};
use crate::check::{Plan, PlanInput, PlanNode};
use crate::ops::{registry, Op, OpCall};

/// What earlier runs of this recipe recorded, by node name.
#[derive(Default)]
pub struct Previous {
    by_name: HashMap<String, PreviousRun>,
}

impl Previous {
    /// From the lockfile, and for nodes it lacks, from the newest run of this recipe in the
    /// cache's run log (a run that failed writes no lockfile but still logs what it did).
    pub fn load(cache: &Cache, plan: &Plan, lock: Option<&Lockfile>) -> Previous {
        let mut by_name = HashMap::new();
        if let Some(lock) = lock {
            for node in &lock.nodes {
                by_name.insert(node.name.clone(), node.previous_run());
            }
        }
        // The run log is only needed for nodes the lockfile does not know; decoding its last
        // runs costs time in proportion to the recipe's size.
        if plan.nodes.iter().all(|n| by_name.contains_key(&n.name)) {
            return Previous { by_name };
        }
        let recipe = plan.recipe_path.display().to_string();
        if let Ok(runs) = cache.index().last_runs(20) {
            for run in runs.iter().filter(|r| r.recipe == recipe) {
                for node in &run.nodes {
                    if by_name.contains_key(&node.node_name) {
                        continue;
                    }
                    if let Ok(Some(record)) = cache.index().record(node.key) {
                        by_name.insert(
                            node.node_name.clone(),
                            PreviousRun {
                                op: record.op,
                                op_version: record.op_version,
                                params: record.params,
                                inputs: record.inputs,
                            },
                        );
                    }
                }
            }
        }
        Previous { by_name }
    }

    pub fn get(&self, name: &str) -> Option<&PreviousRun> {
        self.by_name.get(name)
    }
}

pub struct Session<'a> {
    pub plan: &'a Plan,
    pub store: ArtifactStore<'a>,
    pub previous: Previous,
    file_hashes: HashMap<PathBuf, Hash>,
}

/// How a cached output turned out when checked before serving it.
pub enum Hit {
    /// Usable.
    Cached(Hash),
    /// No record for this key.
    Miss,
    /// A record exists but cannot be served; the reason says why (it has been dropped).
    Unusable(Reason),
}

impl<'a> Session<'a> {
    pub fn new(
        plan: &'a Plan,
        cache: &'a Cache,
        lock: Option<&Lockfile>,
    ) -> anyhow::Result<Session<'a>> {
        let previous = Previous::load(cache, plan, lock);
        let mut session = Session {
            plan,
            store: ArtifactStore::new(cache),
            previous,
            file_hashes: HashMap::new(),
        };
        session.hash_files()?;
        Ok(session)
    }

    pub fn cache(&self) -> &Cache {
        self.store.cache()
    }

    /// Every file the plan reads, hashed by content (unchanged files are not rehashed: the
    /// cache's file index remembers them by path, size, mtime and inode).
    fn hash_files(&mut self) -> anyhow::Result<()> {
        for node in &self.plan.nodes {
            for input in &node.inputs {
                if let PlanInput::File { path, display } = input {
                    if self.file_hashes.contains_key(path) {
                        continue;
                    }
                    let hash = self.hash_path(path).map_err(|e| {
                        anyhow::anyhow!("cannot read `{display}` (used by `{}`): {e:#}", node.name)
                    })?;
                    self.file_hashes.insert(path.clone(), hash);
                }
            }
        }
        Ok(())
    }

    /// A file's content hash; for a directory, the hash of its files' relative paths and
    /// content hashes, in path order.
    fn hash_path(&self, path: &Path) -> anyhow::Result<Hash> {
        if !path.is_dir() {
            return Ok(self.cache().hash_file_cached(path)?);
        }
        let mut files = Vec::new();
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    stack.push(entry.path());
                } else if kind.is_file() {
                    files.push(entry.path());
                }
            }
        }
        files.sort();
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"tulu/dir/v1");
        for file in files {
            let rel = file
                .strip_prefix(path)
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            let hash = self.cache().hash_file_cached(&file)?;
            hasher.update(&(rel.len() as u64).to_le_bytes());
            hasher.update(rel.as_bytes());
            hasher.update(hash.to_hex().as_bytes());
        }
        Ok(Hash::from(hasher.finalize()))
    }

    pub fn file_hash(&self, path: &Path) -> Option<Hash> {
        self.file_hashes.get(path).copied()
    }

    pub fn op(&self, node: &PlanNode) -> anyhow::Result<&'static dyn Op> {
        registry()
            .get(node.op)
            .ok_or_else(|| anyhow::anyhow!("no op named `{}` in this build", node.op))
    }

    /// Each input's hash: a file's content hash, or the upstream node's output (`None` if it is
    /// not known yet).
    pub fn input_hashes(&self, node: &PlanNode, outputs: &[Option<Hash>]) -> Vec<Option<Hash>> {
        node.inputs
            .iter()
            .map(|input| match input {
                PlanInput::File { path, .. } => self.file_hash(path),
                PlanInput::Node(id) => outputs[id.0 as usize],
            })
            .collect()
    }

    pub fn key(&self, node: &PlanNode, inputs: &[Hash]) -> Hash {
        node_key(
            node.op,
            node.op_version,
            &canonical_json(&node.params),
            inputs,
        )
    }

    pub fn reasons(&self, node: &PlanNode, inputs: &[Option<Hash>]) -> Vec<Reason> {
        let labelled: Vec<(String, Option<Hash>)> = node
            .input_labels
            .iter()
            .cloned()
            .zip(inputs.iter().copied())
            .collect();
        reasons::diff(
            self.previous.get(&node.name),
            node.op,
            node.op_version,
            &node.params,
            &labelled,
        )
    }

    /// Whether `key` has a cached output that can be served right now.
    pub fn lookup(&self, node: &PlanNode, key: Hash) -> anyhow::Result<Hit> {
        let Some(record) = self.cache().cached_output(key)? else {
            return Ok(Hit::Miss);
        };
        let manifest = match self.store.quick_verify(record.output_hash) {
            Ok(m) => m,
            Err(LoadError::Damaged { message, .. }) => {
                let _ = self.cache().index().remove_record(key);
                let reason = if message.contains("corrupt") {
                    Reason::OutputCorrupt
                } else {
                    Reason::OutputMissing
                };
                return Ok(Hit::Unusable(reason));
            }
            Err(LoadError::Other(e)) => return Err(e),
        };
        let op = self.op(node)?;
        let call = OpCall {
            params: node.params.clone(),
            inputs: Vec::new(),
        };
        if !op.effect_in_place(&call, &manifest.meta) {
            return Ok(Hit::Unusable(Reason::EffectMissing));
        }
        Ok(Hit::Cached(record.output_hash))
    }

    /// The seed an op gets: its `seed` param, else the first bytes of its key.
    pub fn seed_of(node: &PlanNode, key: Hash) -> u64 {
        match node.params.get("seed").and_then(Json::as_i64) {
            Some(seed) => seed as u64,
            None => u64::from_str_radix(&key.to_hex()[..16], 16).unwrap_or(0),
        }
    }
}
