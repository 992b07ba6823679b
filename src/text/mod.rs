//! Text processing for data curation: normalization, exact and near-duplicate dedup (MinHash with
//! LSH), and n-gram decontamination against eval sets (the Tülu 3 rule).
//!
//! Everything here works on plain text (`&[&str]` in, indices and reports out) and knows nothing
//! of row formats; the dataset ops map rows to texts and back. All results are deterministic:
//! hashing is fixed and platform-independent, randomness comes from a seeded ChaCha RNG, and
//! parallel work is split into fixed chunks whose results are combined in input order.
//! `docs/curation.md` states the rules for users.

pub mod decontam;
mod dedup_result;
mod error;
mod exact_dedup;
mod lsh_bands;
mod minhash;
mod near_dedup;
mod normalize;
mod shingle;
mod stable_hash;
mod union_find;

pub use decontam::{
    decontam_tokens, ContaminationMatch, ContaminationRow, ContaminationTable, DecontamIndex,
    DecontamOptions, EvalSet, EvalSetContamination, ScanResult, ShortEvalPolicy,
    TULU3_DATASET_THRESHOLD,
};
pub use dedup_result::{DedupResult, DuplicateCluster, RemovedDuplicate};
pub use error::TextError;
pub use exact_dedup::exact_dedup;
pub use lsh_bands::LshBands;
pub use minhash::{estimate_jaccard, MinHasher, MAX_NUM_PERM};
pub use near_dedup::{near_dedup, NearDedup, NearDedupParams};
pub use normalize::normalize_for_dedup;
pub use shingle::dedup_tokens;
