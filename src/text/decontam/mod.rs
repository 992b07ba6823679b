//! Decontamination with the Tülu 3 n-gram rule: find training instances that contain enough of an
//! eval instance to leak it.
//!
//! - Text is split into lowercase tokens by [`decontam_tokens`] (open-instruct's analyzer).
//! - [`DecontamIndex::build`] indexes every `ngram`-token window (default 8) of one or more named
//!   eval sets — the small side.
//! - [`DecontamIndex::scan`] checks every training instance against every eval instance: an eval
//!   token is matched when it lies in a window that also occurs in the training instance, and the
//!   eval instance is contaminated when its matched fraction is strictly greater than the
//!   threshold (default in Tülu 3: 0.5). Hash hits are confirmed token by token.
//! - [`ScanResult`] lists the contaminating training instances with their matched fractions and,
//!   per eval set, the instances contaminated by any of them; [`ContaminationTable`] collects the
//!   training-source × eval-set fractions, and [`TULU3_DATASET_THRESHOLD`] is the 2% rule for
//!   calling a whole source contaminated.
//!
//! Eval instances shorter than `ngram` tokens are never contaminated by default, as in the
//! reference; see [`ShortEvalPolicy`].

mod index;
mod report;
mod scan;
mod scan_result;
mod tokenize;

pub use index::{DecontamIndex, DecontamOptions, EvalSet, ShortEvalPolicy};
pub use report::{ContaminationRow, ContaminationTable, TULU3_DATASET_THRESHOLD};
pub use scan_result::{ContaminationMatch, EvalSetContamination, ScanResult};
pub use tokenize::decontam_tokens;
