//! Prepares `dist/` (the demo web UI built by `trunk build --release`) for `rust-embed`.
//!
//! A release build compiles every file of `dist/` into the binary, so it must be rebuilt when
//! `dist/` changes; a debug build reads the files from `dist/` at run time instead, as long as
//! the folder existed when it was compiled. Cargo can watch a directory (recursively) but
//! reruns a build script on every build when a watched path is missing, which would recompile
//! the server each time. So this script creates an empty, git-ignored `dist/` when there is
//! none — `/` then shows how to build the UI — and release builds watch it.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = Path::new(&manifest).join("../dist");
    if let Err(e) = std::fs::create_dir_all(&dist) {
        println!("cargo:warning=cannot create {}: {e}", dist.display());
        return;
    }
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo:rerun-if-changed=../dist");
    }
}
