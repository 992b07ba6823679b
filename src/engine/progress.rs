//! Progress while a recipe runs: a bar per running node and an overall one on a terminal; plain
//! lines (one per finished node, throttled status lines for long nodes) when stderr is not one.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::ops::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Live bars (stderr is a terminal).
    Bars,
    /// One line per event, for logs and CI.
    Lines,
    /// Nothing (tests, `--json` into a pipe).
    Quiet,
}

impl ProgressMode {
    pub fn detect() -> ProgressMode {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            ProgressMode::Bars
        } else {
            ProgressMode::Lines
        }
    }
}

pub struct RunProgress {
    mode: ProgressMode,
    multi: MultiProgress,
    overall: ProgressBar,
}

impl RunProgress {
    pub fn new(mode: ProgressMode, total_nodes: usize) -> RunProgress {
        let multi = match mode {
            ProgressMode::Bars => MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            _ => MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
        };
        let overall = multi.add(ProgressBar::new(total_nodes as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} nodes {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        overall.set_prefix("tulu");
        if mode == ProgressMode::Bars {
            overall.enable_steady_tick(Duration::from_millis(500));
        }
        RunProgress {
            mode,
            multi,
            overall,
        }
    }

    /// A line above the bars (or on stderr).
    pub fn println(&self, line: &str) {
        match self.mode {
            ProgressMode::Bars => {
                let _ = self.multi.println(line);
            }
            ProgressMode::Lines => eprintln!("{line}"),
            ProgressMode::Quiet => {}
        }
    }

    pub fn node_started(&self, name: &str) -> NodeProgress {
        let bar = match self.mode {
            ProgressMode::Bars => {
                let bar = self
                    .multi
                    .insert_before(&self.overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(name.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                Some(bar)
            }
            _ => None,
        };
        if self.mode == ProgressMode::Lines {
            eprintln!("   start {name}");
        }
        NodeProgress {
            name: name.to_string(),
            mode: self.mode,
            bar,
            state: Mutex::new(LineState {
                total: 0,
                done: 0,
                unit: String::new(),
                message: String::new(),
                started: Instant::now(),
                last_line: Instant::now(),
            }),
        }
    }

    /// A node finished (ran, was cached, failed or was skipped): one line, and the overall bar.
    pub fn node_finished(&self, node: Option<NodeProgress>, line: &str) {
        if let Some(np) = node {
            if let Some(bar) = np.bar {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
        self.overall.inc(1);
        self.println(line);
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

struct LineState {
    total: u64,
    done: u64,
    unit: String,
    message: String,
    started: Instant,
    last_line: Instant,
}

/// Progress of one running node, handed to its op.
pub struct NodeProgress {
    name: String,
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    state: Mutex<LineState>,
}

const LINE_EVERY: Duration = Duration::from_secs(10);

impl NodeProgress {
    fn maybe_line(&self) {
        if self.mode != ProgressMode::Lines {
            return;
        }
        let Ok(mut s) = self.state.lock() else { return };
        if s.last_line.elapsed() < LINE_EVERY {
            return;
        }
        s.last_line = Instant::now();
        let extra = s.message.clone();
        let rate = s.done as f64 / s.started.elapsed().as_secs_f64().max(1e-9);
        if s.total > 0 {
            eprintln!(
                "         {} {}/{} {} ({rate:.1} {}/s) {extra}",
                self.name, s.done, s.total, s.unit, s.unit
            );
        } else {
            eprintln!("         {} {extra}", self.name);
        }
    }
}

impl Progress for NodeProgress {
    fn set_total(&self, total: u64, unit: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.total = total;
            s.done = 0;
            s.unit = unit.to_string();
            s.started = Instant::now();
        }
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(0);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{spinner}} {{prefix:.bold}} [{{bar:25}}] {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, eta {{eta}}) {{msg}}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
        }
    }

    fn advance(&self, delta: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.done += delta;
        }
        if let Some(bar) = &self.bar {
            bar.inc(delta);
        }
        self.maybe_line();
    }

    fn message(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.to_string());
        }
        if let Ok(mut s) = self.state.lock() {
            s.message = text.to_string();
        }
        self.maybe_line();
    }
}
