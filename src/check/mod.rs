//! Imports, name resolution, types and op signatures: a parsed recipe becomes a checked plan.
