//! Where things are in the checkout this crate is built from: the workspace root, below which
//! the function binaries (`target/debug`), logs and env files (`target/...`) and the project's
//! virtualenv (`.venv`) live.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
