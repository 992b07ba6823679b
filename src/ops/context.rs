//! What an op may use besides its inputs: a scratch directory, its seed, progress reporting and
//! cancellation.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Progress of one running node. Implementations draw bars or print lines; ops only report.
pub trait Progress: Send + Sync {
    /// The amount of work, in `unit`s (rows, steps, tokens).
    fn set_total(&self, total: u64, unit: &str);
    fn advance(&self, delta: u64);
    /// A short status, e.g. the current loss.
    fn message(&self, text: &str);
}

/// Progress that goes nowhere (tests, library use).
pub struct NoProgress;

impl Progress for NoProgress {
    fn set_total(&self, _: u64, _: &str) {}
    fn advance(&self, _: u64) {}
    fn message(&self, _: &str) {}
}

pub struct OpContext<'a> {
    /// An empty directory for this execution; outputs written here are moved into the cache.
    pub work_dir: PathBuf,
    /// The directory of the recipe, for ops that write outside the cache (`export`).
    pub recipe_dir: PathBuf,
    /// The node's `seed` param if it has one, else derived from its cache key.
    pub seed: u64,
    pub progress: &'a dyn Progress,
    pub cancel: &'a AtomicBool,
}

impl OpContext<'_> {
    /// The node's RNG: ChaCha seeded from the node's seed, never thread-local randomness.
    pub fn rng(&self) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.seed)
    }

    /// `Err` once the run was cancelled (Ctrl-C, or a failure under `--fail-fast`).
    pub fn check_cancelled(&self) -> anyhow::Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            anyhow::bail!("cancelled");
        }
        Ok(())
    }
}
