//! The run log: one entry per `tulu run`, naming every node it used and the output it got, so
//! that gc can keep the outputs of the last N runs and `tulu` can show run history.

use serde::{Deserialize, Serialize};

use super::canonical::canonical_json_of;
use super::error::{CacheError, Result};
use super::hash::Hash;
use super::index::Index;

/// One node as used by a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunNode {
    /// The binding name in the recipe (display only).
    pub node_name: String,
    /// The node key.
    pub key: Hash,
    /// The output the run got for it, computed or reused.
    pub output_hash: Hash,
}

/// One `tulu run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEntry {
    /// Increasing run number, starting at 1, unique within the cache.
    pub id: u64,
    /// When the run started (seconds since the Unix epoch).
    pub started_unix: u64,
    /// When it was logged, at its end (seconds since the Unix epoch).
    pub finished_unix: u64,
    /// The recipe path as given on the command line.
    pub recipe: String,
    /// The nodes it used; a failed node is absent.
    pub nodes: Vec<RunNode>,
}

impl Index {
    /// Appends a run with the next id and makes it durable; returns the stored entry.
    pub fn append_run(
        &self,
        recipe: impl Into<String>,
        started_unix: u64,
        finished_unix: u64,
        nodes: Vec<RunNode>,
    ) -> Result<RunEntry> {
        let last_id = match self
            .runs
            .last()
            .map_err(self.sled_error("read the run log"))?
        {
            Some((key, _)) => decode_run_id(&key)?,
            None => 0,
        };
        let entry = RunEntry {
            id: last_id + 1,
            started_unix,
            finished_unix,
            recipe: recipe.into(),
            nodes,
        };
        let bytes = canonical_json_of(&entry, "a run log entry")?;
        self.runs
            .insert(entry.id.to_be_bytes(), bytes)
            .map_err(self.sled_error("append to the run log"))?;
        self.flush()?;
        Ok(entry)
    }

    /// Every logged run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunEntry>> {
        self.runs
            .iter()
            .map(|item| {
                let (key, value) = item.map_err(self.sled_error("read the run log"))?;
                decode_run(decode_run_id(&key)?, &value)
            })
            .collect()
    }

    /// The `count` most recent runs, newest first.
    pub fn last_runs(&self, count: usize) -> Result<Vec<RunEntry>> {
        self.runs
            .iter()
            .rev()
            .take(count)
            .map(|item| {
                let (key, value) = item.map_err(self.sled_error("read the run log"))?;
                decode_run(decode_run_id(&key)?, &value)
            })
            .collect()
    }

    /// Deletes a run from the log; returns whether it was there.
    pub fn remove_run(&self, id: u64) -> Result<bool> {
        let removed = self
            .runs
            .remove(id.to_be_bytes())
            .map_err(self.sled_error("delete from the run log"))?;
        Ok(removed.is_some())
    }
}

fn decode_run_id(bytes: &[u8]) -> Result<u64> {
    let array: [u8; 8] = bytes.try_into().map_err(|_| CacheError::BadIndexEntry {
        entry: format!("in the run log with a {}-byte key", bytes.len()),
        reason: "run ids are 8 bytes".into(),
    })?;
    Ok(u64::from_be_bytes(array))
}

fn decode_run(id: u64, bytes: &[u8]) -> Result<RunEntry> {
    serde_json::from_slice(bytes).map_err(|error| CacheError::BadIndexEntry {
        entry: format!("run {id}"),
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str) -> RunNode {
        RunNode {
            node_name: name.into(),
            key: Hash::of(name.as_bytes()),
            output_hash: Hash::of(format!("{name}-out").as_bytes()),
        }
    }

    #[test]
    fn runs_get_increasing_ids_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        {
            let index = Index::open(dir.path()).unwrap();
            assert!(index.runs().unwrap().is_empty());
            let first = index.append_run("a.tulu", 10, 11, vec![node("x")]).unwrap();
            let second = index
                .append_run("a.tulu", 20, 25, vec![node("x"), node("y")])
                .unwrap();
            assert_eq!((first.id, second.id), (1, 2));
        }
        let index = Index::open(dir.path()).unwrap();
        let third = index.append_run("b.tulu", 30, 31, vec![]).unwrap();
        assert_eq!(third.id, 3);
        let ids: Vec<u64> = index.runs().unwrap().iter().map(|run| run.id).collect();
        assert_eq!(ids, [1, 2, 3]);
        let last_two: Vec<u64> = index
            .last_runs(2)
            .unwrap()
            .iter()
            .map(|run| run.id)
            .collect();
        assert_eq!(last_two, [3, 2]);
        assert_eq!(index.runs().unwrap()[1].nodes, vec![node("x"), node("y")]);

        assert!(index.remove_run(2).unwrap());
        assert!(!index.remove_run(2).unwrap());
        let ids: Vec<u64> = index.runs().unwrap().iter().map(|run| run.id).collect();
        assert_eq!(ids, [1, 3]);
        // Ids are never reused while a later run exists.
        assert_eq!(index.append_run("c.tulu", 40, 41, vec![]).unwrap().id, 4);
    }

    #[test]
    fn ids_past_255_keep_chronological_order() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        for second in 0..300u64 {
            index
                .runs
                .insert(
                    (second + 1).to_be_bytes(),
                    canonical_json_of(
                        &RunEntry {
                            id: second + 1,
                            started_unix: second,
                            finished_unix: second,
                            recipe: "r".into(),
                            nodes: vec![],
                        },
                        "test",
                    )
                    .unwrap(),
                )
                .unwrap();
        }
        assert_eq!(index.append_run("r", 0, 0, vec![]).unwrap().id, 301);
        assert_eq!(index.last_runs(1).unwrap()[0].id, 301);
    }
}
