//! Scheduling and execution, early cutoff, `plan`/`why`, the lockfile, progress and run records.
