//! Learning-rate schedules, with the semantics of Hugging Face's `get_scheduler` (which
//! open-instruct uses): the learning rate of optimizer update `s` (0-based) is
//! `peak_lr · factor(s)`, where during the first `w` warmup updates `factor(s) = s / w` — so the
//! very first update of a warmed-up run has learning rate 0, exactly as in `transformers` — and
//! afterwards
//!
//! - `constant`: `1`;
//! - `linear`: `max(0, (T − s) / (T − w))`, reaching 0 at the end of the run (Tülu 3's choice);
//! - `cosine`: `r + (1 − r) · ½(1 + cos(π · (s − w) / (T − w)))`, from 1 down to the floor
//!   `r = min_lr_ratio` (0 by default, HF's `cosine`).
//!
//! `T` is the total number of updates of the run. Warmup is given either as a fraction of `T`
//! (open-instruct's `warmup_ratio`: `w = ⌊T · fraction⌋`) or as a number of updates.

use super::error::{ensure_config, TrainResult};
use serde::{Deserialize, Serialize};

/// The shape of the schedule after warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    Constant,
    Linear,
    Cosine,
}

impl std::str::FromStr for ScheduleKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "constant" => Ok(Self::Constant),
            "linear" => Ok(Self::Linear),
            "cosine" => Ok(Self::Cosine),
            other => Err(format!(
                "unknown learning-rate schedule `{other}`; expected `constant`, `linear` or `cosine`"
            )),
        }
    }
}

/// How long the linear warmup from 0 to the peak learning rate lasts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warmup {
    /// A fraction in `[0, 1]` of the run's updates, rounded down (`warmup_ratio`).
    Fraction(f64),
    /// A number of updates (`warmup_steps`).
    Steps(usize),
}

impl Warmup {
    /// No warmup.
    pub const NONE: Warmup = Warmup::Steps(0);
}

/// A learning-rate schedule before the run's length is known. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    pub kind: ScheduleKind,
    /// The learning rate after warmup (the "learning rate" of a recipe).
    pub peak_lr: f64,
    pub warmup: Warmup,
    /// Cosine only: the floor the cosine decays to, as a fraction of `peak_lr`.
    #[serde(default)]
    pub min_lr_ratio: f64,
}

impl LrSchedule {
    /// Tülu 3's schedule: linear warmup over 3% of the run, then linear decay to 0.
    pub fn tulu3(peak_lr: f64) -> Self {
        Self {
            kind: ScheduleKind::Linear,
            peak_lr,
            warmup: Warmup::Fraction(0.03),
            min_lr_ratio: 0.0,
        }
    }

    /// A constant learning rate without warmup.
    pub fn constant(lr: f64) -> Self {
        Self {
            kind: ScheduleKind::Constant,
            peak_lr: lr,
            warmup: Warmup::NONE,
            min_lr_ratio: 0.0,
        }
    }

    /// Checks the settings that do not depend on the run's length.
    pub fn validate(&self) -> TrainResult<()> {
        ensure_config(self.peak_lr.is_finite() && self.peak_lr >= 0.0, || {
            format!(
                "the learning rate must be a finite number ≥ 0, got {}",
                self.peak_lr
            )
        })?;
        if let Warmup::Fraction(f) = self.warmup {
            ensure_config((0.0..=1.0).contains(&f), || {
                format!("the warmup fraction must lie in [0, 1], got {f}")
            })?;
        }
        ensure_config((0.0..=1.0).contains(&self.min_lr_ratio), || {
            format!("min_lr_ratio must lie in [0, 1], got {}", self.min_lr_ratio)
        })?;
        ensure_config(
            self.min_lr_ratio == 0.0 || self.kind == ScheduleKind::Cosine,
            || "min_lr_ratio applies to the cosine schedule only".to_string(),
        )
    }

    /// The schedule of a run of `total_steps` optimizer updates.
    pub fn resolve(&self, total_steps: usize) -> TrainResult<ResolvedSchedule> {
        self.validate()?;
        ensure_config(total_steps > 0, || {
            "the run has no optimizer steps (empty data or zero epochs/steps)".to_string()
        })?;
        let warmup_steps = match self.warmup {
            // open-instruct: `int(num_training_steps * warmup_ratio)`.
            Warmup::Fraction(f) => (total_steps as f64 * f).floor() as usize,
            Warmup::Steps(n) => n,
        };
        ensure_config(warmup_steps <= total_steps, || {
            format!("a warmup of {warmup_steps} steps is longer than the run's {total_steps} steps")
        })?;
        Ok(ResolvedSchedule {
            schedule: *self,
            warmup_steps,
            total_steps,
        })
    }
}

/// A schedule for a run of known length: the learning rate of every update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolvedSchedule {
    schedule: LrSchedule,
    warmup_steps: usize,
    total_steps: usize,
}

impl ResolvedSchedule {
    pub fn warmup_steps(&self) -> usize {
        self.warmup_steps
    }

    pub fn total_steps(&self) -> usize {
        self.total_steps
    }

    /// The learning rate of update `step` (0-based; `step ≥ total_steps` continues the formula).
    pub fn lr_at(&self, step: usize) -> f64 {
        self.schedule.peak_lr * self.factor(step)
    }

    fn factor(&self, step: usize) -> f64 {
        let (s, w, t) = (
            step as f64,
            self.warmup_steps as f64,
            self.total_steps as f64,
        );
        if step < self.warmup_steps {
            return s / w.max(1.0);
        }
        let decay_span = (t - w).max(1.0);
        match self.schedule.kind {
            ScheduleKind::Constant => 1.0,
            ScheduleKind::Linear => ((t - s) / decay_span).max(0.0),
            ScheduleKind::Cosine => {
                let progress = ((s - w) / decay_span).min(1.0);
                let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                let floor = self.schedule.min_lr_ratio;
                floor + (1.0 - floor) * cosine.max(0.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn tulu3_linear_schedule_warms_up_over_three_percent_then_decays_to_zero() {
        let s = LrSchedule::tulu3(1e-3).resolve(100).unwrap();
        assert_eq!(s.warmup_steps(), 3);
        let expected = [
            (0, 0.0),
            (1, 1e-3 / 3.0),
            (2, 2e-3 / 3.0),
            (3, 1e-3),
            (4, 1e-3 * 96.0 / 97.0),
            (50, 1e-3 * 50.0 / 97.0),
            (99, 1e-3 / 97.0),
            (100, 0.0),
            (150, 0.0),
        ];
        for (step, lr) in expected {
            assert!(
                close(s.lr_at(step), lr),
                "step {step}: {} vs {lr}",
                s.lr_at(step)
            );
        }
    }

    #[test]
    fn warmup_fraction_rounds_down_like_open_instruct() {
        let s = LrSchedule::tulu3(1.0).resolve(66).unwrap();
        assert_eq!(s.warmup_steps(), 1); // int(66 · 0.03) = int(1.98) = 1
        let s = LrSchedule::tulu3(1.0).resolve(20).unwrap();
        assert_eq!(s.warmup_steps(), 0);
        assert_eq!(s.lr_at(0), 1.0);
    }

    #[test]
    fn cosine_schedule_values() {
        let schedule = LrSchedule {
            kind: ScheduleKind::Cosine,
            peak_lr: 2.0,
            warmup: Warmup::Steps(10),
            min_lr_ratio: 0.0,
        };
        let s = schedule.resolve(110).unwrap();
        assert!(close(s.lr_at(5), 1.0));
        assert!(close(s.lr_at(10), 2.0));
        assert!(close(s.lr_at(60), 1.0)); // halfway: ½(1 + cos(π/2)) = ½
        assert!(close(
            s.lr_at(35),
            2.0 * 0.5 * (1.0 + (0.25 * std::f64::consts::PI).cos())
        ));
        assert!(s.lr_at(110).abs() < 1e-15);
        let floored = LrSchedule {
            min_lr_ratio: 0.1,
            ..schedule
        }
        .resolve(110)
        .unwrap();
        assert!(close(floored.lr_at(60), 2.0 * (0.1 + 0.9 * 0.5)));
        assert!(close(floored.lr_at(110), 0.2));
        assert!(close(floored.lr_at(500), 0.2));
    }

    #[test]
    fn constant_schedule_with_and_without_warmup() {
        let s = LrSchedule::constant(0.5).resolve(7).unwrap();
        assert!((0..10).all(|i| s.lr_at(i) == 0.5));
        let warm = LrSchedule {
            warmup: Warmup::Steps(4),
            ..LrSchedule::constant(0.5)
        }
        .resolve(7)
        .unwrap();
        assert_eq!(warm.lr_at(0), 0.0);
        assert!(close(warm.lr_at(2), 0.25));
        assert_eq!(warm.lr_at(4), 0.5);
        assert_eq!(warm.lr_at(6), 0.5);
    }

    #[test]
    fn bad_settings_are_errors() {
        let base = LrSchedule::tulu3(1e-3);
        assert!(base.resolve(0).is_err());
        assert!(LrSchedule {
            peak_lr: f64::NAN,
            ..base
        }
        .resolve(10)
        .is_err());
        assert!(LrSchedule {
            peak_lr: -1.0,
            ..base
        }
        .resolve(10)
        .is_err());
        assert!(LrSchedule {
            warmup: Warmup::Fraction(1.5),
            ..base
        }
        .resolve(10)
        .is_err());
        assert!(LrSchedule {
            warmup: Warmup::Steps(11),
            ..base
        }
        .resolve(10)
        .is_err());
        assert!(LrSchedule {
            min_lr_ratio: 0.1,
            ..base
        }
        .resolve(10)
        .is_err());
        assert!("cosine".parse::<ScheduleKind>().is_ok());
        assert!("Linear".parse::<ScheduleKind>().is_err());
    }
}
