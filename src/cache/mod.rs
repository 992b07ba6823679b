//! The content-addressed cache: keys, the sled index of run records, the blob store, gc, and
//! the lock that lets one process at a time use a cache directory.
