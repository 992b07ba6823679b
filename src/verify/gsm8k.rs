//! The GSM8K verifier: the last number in a response, compared numerically with the gold answer.
