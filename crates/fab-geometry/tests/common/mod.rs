//! Shared helpers for the fab-geometry integration tests: fixture paths and loading.
#![allow(dead_code)]

use std::path::PathBuf;

use fab_geometry::load::{Loaded, Units, load_path};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scans")
        .join(name)
}

pub fn load(name: &str) -> Loaded {
    load_path(&fixture(name), Units::Auto).unwrap_or_else(|e| panic!("{e}"))
}
