//! MATH "flex" answer equivalence.
