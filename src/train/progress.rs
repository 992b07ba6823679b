//! What a training loop reports: one [`StepRecord`] per optimizer update (the loss curve kept in
//! the trained model's metadata), live progress for the engine's display, and the engine's way to
//! cancel a run.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One optimizer update. Deterministic (no timings), so it can go into artifact metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1-based index of the update.
    pub step: usize,
    /// 1-based epoch the update's data came from (the epoch of its first example).
    pub epoch: usize,
    /// The objective that was differentiated (a token sum under `sum` reduction).
    pub loss: f64,
    /// Mean loss per counted token: comparable across reductions and batch sizes.
    pub mean_token_loss: f64,
    /// Learning rate of the update.
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Input tokens processed (padding excluded).
    pub tokens: usize,
    /// Predictions that counted in the loss.
    pub loss_tokens: usize,
}

/// Live progress after an update.
#[derive(Debug, Clone, Copy)]
pub struct StepProgress<'a> {
    pub record: &'a StepRecord,
    pub total_steps: usize,
    /// Input tokens per second since the loop started.
    pub tokens_per_second: f64,
    pub elapsed: Duration,
}

/// Hooks a training loop calls: progress after every update, and a cancellation check before
/// every micro-batch (so a cancel takes effect within one forward/backward pass). `()` ignores
/// progress and never cancels.
pub trait TrainObserver {
    fn on_step(&mut self, _progress: &StepProgress<'_>) {}

    /// When true, the loop stops with [`super::TrainError::Cancelled`]; the model keeps the
    /// weights of the last completed update.
    fn is_cancelled(&self) -> bool {
        false
    }
}

impl TrainObserver for () {}

/// A [`TrainObserver`] from two closures.
pub struct TrainHooks<P, C> {
    on_step: P,
    is_cancelled: C,
}

impl<P: FnMut(&StepProgress<'_>), C: Fn() -> bool> TrainHooks<P, C> {
    pub fn new(on_step: P, is_cancelled: C) -> Self {
        Self {
            on_step,
            is_cancelled,
        }
    }
}

impl<P: FnMut(&StepProgress<'_>), C: Fn() -> bool> TrainObserver for TrainHooks<P, C> {
    fn on_step(&mut self, progress: &StepProgress<'_>) {
        (self.on_step)(progress)
    }

    fn is_cancelled(&self) -> bool {
        (self.is_cancelled)()
    }
}

/// Turns step records into [`StepProgress`] with a running throughput.
pub(crate) struct ProgressClock {
    start: std::time::Instant,
    tokens: usize,
    total_steps: usize,
}

impl ProgressClock {
    pub fn start(total_steps: usize) -> Self {
        Self {
            start: std::time::Instant::now(),
            tokens: 0,
            total_steps,
        }
    }

    pub fn report(&mut self, record: &StepRecord, observer: &mut dyn TrainObserver) {
        self.tokens += record.tokens;
        let elapsed = self.start.elapsed();
        let seconds = elapsed.as_secs_f64();
        observer.on_step(&StepProgress {
            record,
            total_steps: self.total_steps,
            tokens_per_second: if seconds > 0.0 {
                self.tokens as f64 / seconds
            } else {
                0.0
            },
            elapsed,
        });
    }
}
