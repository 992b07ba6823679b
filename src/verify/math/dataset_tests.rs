//! Tests on the real MATH test set (fetched by `scripts/fetch-assets`); each skips with a message
//! when the assets are absent.
