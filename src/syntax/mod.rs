//! Recipe source → AST with spans, and the canonical formatter (`tulu fmt`).
