//! Text processing for data curation: normalization, tokenizing for n-grams, MinHash and LSH,
//! n-gram indexes for decontamination.
