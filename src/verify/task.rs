//! The verifiable tasks, and how a row's `dataset` field names them.

use serde::Serialize;

/// What kind of gold a row carries and which library checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// A number; the response's last number must equal it.
    Gsm8k,
    /// A final answer; the response's boxed / Minerva / last-math answer must be equivalent.
    Math,
    /// A list of verifiable instructions the response must follow.
    IfEval,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::Gsm8k, Task::Math, Task::IfEval];

    /// The name a row's `dataset` field uses, as in open-instruct's RLVR data.
    pub fn name(self) -> &'static str {
        match self {
            Task::Gsm8k => "gsm8k",
            Task::Math => "math",
            Task::IfEval => "ifeval",
        }
    }

    /// The task a `dataset` value names, ignoring case (open-instruct's data writes `MATH`).
    pub fn from_dataset(dataset: &str) -> Option<Task> {
        Task::ALL
            .into_iter()
            .find(|task| task.name().eq_ignore_ascii_case(dataset.trim()))
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_names_are_case_insensitive() {
        assert_eq!(Task::from_dataset("MATH"), Some(Task::Math));
        assert_eq!(Task::from_dataset("gsm8k"), Some(Task::Gsm8k));
        assert_eq!(Task::from_dataset(" ifeval "), Some(Task::IfEval));
        assert_eq!(Task::from_dataset("humaneval"), None);
    }
}
