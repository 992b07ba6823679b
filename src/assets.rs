//! Where the real model and evaluation assets live once `scripts/fetch-assets` has fetched them.
//! Recipes name them as `asset:<package>-<version>/<path>`; tests skip cleanly when they are absent.

use std::path::PathBuf;

/// `$TULU_ASSETS`, else `$XDG_CACHE_HOME/tulu/assets`, else `~/.cache/tulu/assets` — the same rule
/// the fetch script follows.
pub fn assets_dir() -> PathBuf {
    if let Some(explicit) = std::env::var_os("TULU_ASSETS") {
        return PathBuf::from(explicit);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("tulu").join("assets")
}

/// The unpacked package directory, if the fetch script completed it.
pub fn package_dir(package_with_version: &str) -> Option<PathBuf> {
    let dir = assets_dir().join(package_with_version);
    dir.join(".complete").exists().then_some(dir)
}
