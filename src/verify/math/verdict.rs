//! What a verifier reports about one response.

use serde::Serialize;

/// Where in a response the answer that was judged came from. Serialized as [`Self::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSource {
    /// The argument of the last `\boxed{…}` / `\fbox{…}` (or `\boxed 5`).
    Boxed,
    /// The Minerva sentence "Final Answer: The final answer is … I hope it is correct."
    Minerva,
    /// The last math span (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`), tried only when neither of
    /// the above is present.
    Dollars,
    /// The whole response, tried only when nothing else could be extracted.
    #[serde(rename = "whole")]
    WholeOutput,
    /// The last number in the response (the GSM8K verifier).
    LastNumber,
}

impl AnswerSource {
    /// A stable lowercase name for logs and reports: `boxed`, `minerva`, `dollars`, `whole`,
    /// `last_number`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerSource::Boxed => "boxed",
            AnswerSource::Minerva => "minerva",
            AnswerSource::Dollars => "dollars",
            AnswerSource::WholeOutput => "whole",
            AnswerSource::LastNumber => "last_number",
        }
    }
}

impl std::fmt::Display for AnswerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The judgement of one response against one gold answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Whether the response's answer equals the gold answer.
    pub correct: bool,
    /// The answer text that matched; when nothing matched, the first answer that was tried (the
    /// one a reader would call "the model's answer"); `None` when nothing could be extracted.
    pub extracted: Option<String>,
    /// Where the matching answer came from; `None` when the response is incorrect.
    pub matched_by: Option<AnswerSource>,
}

impl Verdict {
    /// The RLVR reward convention of Tülu 3: `reward` when correct, 0 otherwise.
    pub fn reward(&self, reward: f64) -> f64 {
        if self.correct {
            reward
        } else {
            0.0
        }
    }
}
