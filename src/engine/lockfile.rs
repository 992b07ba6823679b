//! `RECIPE.lock`: after a successful run, every node's op, op version, params, inputs, key and
//! output hash, in TOML. Committed beside the recipe, it lets anyone check that their run
//! reproduces it (`tulu run --locked`), and it tells `tulu plan` what changed since.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::reasons::PreviousRun;
use crate::cache::Hash;

pub const LOCK_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lockfile {
    pub version: u32,
    /// The recipe's file name.
    pub recipe: String,
    #[serde(rename = "node", default)]
    pub nodes: Vec<LockNode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockNode {
    pub name: String,
    pub op: String,
    pub op_version: u32,
    pub key: String,
    pub output: String,
    /// Canonical JSON of the resolved params.
    pub params: String,
    #[serde(default)]
    pub inputs: Vec<LockInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockInput {
    pub label: String,
    pub hash: String,
}

/// `recipes/quickstart.tulu` → `recipes/quickstart.lock`.
pub fn lock_path(recipe: &Path) -> PathBuf {
    recipe.with_extension("lock")
}

impl Lockfile {
    pub fn read(path: &Path) -> anyhow::Result<Option<Lockfile>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        let lock: Lockfile = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a valid lockfile: {e}\nDelete it to have the next run write a new one.",
                path.display()
            )
        })?;
        if lock.version != LOCK_VERSION {
            anyhow::bail!(
                "{} has lockfile version {}, this tulu writes version {LOCK_VERSION}",
                path.display(),
                lock.version
            );
        }
        Ok(Some(lock))
    }

    /// Written atomically: a crash never leaves half a lockfile. A lockfile that already says
    /// the same is left alone (a no-op rerun then costs no disk flush, and the file keeps its
    /// modification time).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let body = toml::to_string(self)?;
        let text = format!(
            "# Written by `tulu run`: every node's inputs, params and output hash, so that this recipe\n\
             # can be reproduced bit for bit. Commit it beside the recipe; `tulu run --locked` checks it.\n\n{body}"
        );
        if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(());
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(path)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        Ok(())
    }

    pub fn node(&self, name: &str) -> Option<&LockNode> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

impl LockNode {
    pub fn output_hash(&self) -> Option<Hash> {
        self.output.parse().ok()
    }

    pub fn key_hash(&self) -> Option<Hash> {
        self.key.parse().ok()
    }

    pub fn previous_run(&self) -> PreviousRun {
        PreviousRun {
            op: self.op.clone(),
            op_version: self.op_version,
            params: serde_json::from_str(&self.params).unwrap_or(serde_json::Value::Null),
            inputs: self
                .inputs
                .iter()
                .filter_map(|i| i.hash.parse().ok().map(|h| (i.label.clone(), h)))
                .collect(),
        }
    }
}
