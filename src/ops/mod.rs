//! The op registry: one file per op family; each op is a signature, a version and an execute.
