//! What `plan` and `run` report per node, as text for people and as JSON for scripts:
//! `{"nodes":[{"name","op","key","status","reasons","output_hash",…}]}`.

use std::time::Duration;

use serde_json::{json, Value as Json};

use super::reasons::Reason;
use crate::cache::Hash;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Served from the cache (plan: would be).
    Cached,
    /// Would run (plan only).
    Run,
    Ran,
    Failed,
    /// Not run because an input failed.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Cached => "cached",
            Status::Run => "run",
            Status::Ran => "ran",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NodeReport {
    pub name: String,
    pub op: String,
    pub key: Option<Hash>,
    pub status: Status,
    pub reasons: Vec<Reason>,
    pub output: Option<Hash>,
    pub duration: Option<Duration>,
    pub error: Option<String>,
    /// What the op reports beyond its status (a contamination table), from [`Op::details`];
    /// only present for nodes whose output is known.
    ///
    /// [`Op::details`]: crate::ops::Op::details
    pub details: Option<Json>,
}

impl NodeReport {
    pub fn to_json(&self) -> Json {
        let mut obj = json!({
            "name": self.name,
            "op": self.op,
            "key": self.key.map(|k| k.to_hex()),
            "status": self.status.as_str(),
            "reasons": self.reasons.iter().map(Reason::to_json).collect::<Vec<_>>(),
            "output_hash": self.output.map(|h| h.to_hex()),
        });
        if let Some(d) = self.duration {
            obj["duration_ms"] = json!(d.as_millis() as u64);
        }
        if let Some(e) = &self.error {
            obj["error"] = json!(e);
        }
        if let Some(details) = &self.details {
            obj["details"] = details.clone();
        }
        obj
    }

    /// One line: `   ran sft  12.3s  param `lr` changed 1e-5 → 2e-5`.
    pub fn line(&self) -> String {
        let mut line = format!("{:>8} {}", self.status.as_str(), self.name);
        if let Some(d) = self.duration {
            line.push_str(&format!("  {}", human_duration(d)));
        }
        if !self.reasons.is_empty() && self.status != Status::Cached {
            let reasons: Vec<String> = self.reasons.iter().map(Reason::message).collect();
            line.push_str(&format!("  ({})", reasons.join("; ")));
        }
        if let Some(e) = &self.error {
            line.push_str(&format!(
                "\n         error: {}",
                e.replace('\n', "\n         ")
            ));
        }
        line
    }
}

pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0}ms", s * 1000.0)
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub nodes: Vec<NodeReport>,
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.nodes.iter().filter(|n| n.status == status).count()
    }

    pub fn failed(&self) -> impl Iterator<Item = &NodeReport> {
        self.nodes.iter().filter(|n| n.status == Status::Failed)
    }

    pub fn to_json(&self) -> Json {
        json!({ "nodes": self.nodes.iter().map(NodeReport::to_json).collect::<Vec<_>>() })
    }

    /// The closing line: counts, and each failure with its cause.
    pub fn summary(&self, wall: Option<Duration>) -> String {
        let mut parts = Vec::new();
        for status in [
            Status::Ran,
            Status::Run,
            Status::Cached,
            Status::Failed,
            Status::Skipped,
        ] {
            let n = self.count(status);
            if n > 0 {
                parts.push(format!("{n} {}", status.as_str()));
            }
        }
        let mut out = if parts.is_empty() {
            "nothing to do".to_string()
        } else {
            parts.join(", ")
        };
        if let Some(w) = wall {
            out.push_str(&format!(" in {}", human_duration(w)));
        }
        for f in self.failed() {
            out.push_str(&format!(
                "\nfailed: `{}` ({}): {}",
                f.name,
                f.op,
                f.error.as_deref().unwrap_or("unknown error")
            ));
        }
        out
    }
}
