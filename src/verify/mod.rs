//! Verifiers: GSM8K, MATH "flex", IFEval instruction checkers.
