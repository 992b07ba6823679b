//! Training progress as the engine shows it: a bar over optimizer updates with the loss and
//! tokens/s, the loss curve kept for the artifact, and cancellation from the run.

use std::sync::atomic::Ordering;

use serde_json::{json, Value as Json};

use super::OpContext;
use crate::train::{StepProgress, StepRecord, TrainObserver};

pub struct EngineObserver<'a, 'c> {
    ctx: &'a OpContext<'c>,
    pub curve: Vec<StepRecord>,
    started: bool,
}

impl<'a, 'c> EngineObserver<'a, 'c> {
    pub fn new(ctx: &'a OpContext<'c>) -> Self {
        EngineObserver {
            ctx,
            curve: Vec::new(),
            started: false,
        }
    }

    /// The loss curve for the manifest: every step when short, else evenly thinned to ~500
    /// points (the first and last always kept).
    pub fn curve_json(&self) -> Json {
        let n = self.curve.len();
        let stride = n.div_ceil(500).max(1);
        let points: Vec<Json> = self
            .curve
            .iter()
            .enumerate()
            .filter(|(i, _)| i % stride == 0 || *i + 1 == n)
            .map(|(_, r)| {
                json!({"step": r.step, "epoch": r.epoch, "loss": r.mean_token_loss, "lr": r.lr, "grad_norm": r.grad_norm, "tokens": r.tokens})
            })
            .collect();
        Json::Array(points)
    }
}

impl TrainObserver for EngineObserver<'_, '_> {
    fn on_step(&mut self, progress: &StepProgress<'_>) {
        if !self.started {
            self.ctx
                .progress
                .set_total(progress.total_steps as u64, "steps");
            self.started = true;
        }
        self.ctx.progress.advance(1);
        self.ctx.progress.message(&format!(
            "loss {:.4}  lr {:.2e}  {:.0} tok/s",
            progress.record.mean_token_loss, progress.record.lr, progress.tokens_per_second
        ));
        self.curve.push(progress.record.clone());
    }

    fn is_cancelled(&self) -> bool {
        self.ctx.cancel.load(Ordering::Relaxed)
    }
}

/// First and last loss, for summaries.
pub fn loss_summary(curve: &[StepRecord]) -> Json {
    match (curve.first(), curve.last()) {
        (Some(first), Some(last)) => {
            json!({"first_loss": first.mean_token_loss, "final_loss": last.mean_token_loss, "steps": curve.len()})
        }
        _ => json!({"steps": 0}),
    }
}
