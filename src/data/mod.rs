//! Rows and schemas (chat, preference, prompt with ground truth, text), readers and writers,
//! provenance.
