//! Keeps the house rules without anyone having to remember them: `src/core` never names a web
//! crate, every module starts with a `//!` paragraph saying what it owns, and the release carries
//! none of the per-type machinery the size budget removed.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Names that mark browser or UI code, which `core` must never use.
const WEB_CRATES: [&str; 6] = ["web_sys", "js_sys", "wasm_bindgen", "gloo", "leptos", "web-sys"];

/// Every line of code (comments aside) in `files` that names one of `names`, as
/// `file:line: text`; with `shipped`, only the part of each file before its test module.
fn naming(files: Vec<PathBuf>, names: &[&str], shipped: bool) -> Vec<String> {
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let text = if shipped { text.split("#[cfg(test)]").next().unwrap_or("") } else { &text };
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if names.iter().any(|name| code.contains(name)) {
                offences.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    offences
}

#[test]
fn core_names_no_web_crate() {
    let files = rust_files(&src().join("core"));
    assert!(files.len() >= 5, "src/core should hold the core modules, found {files:?}");
    let offences = naming(files, &WEB_CRATES, false);
    assert!(offences.is_empty(), "src/core must stay pure:\n{}", offences.join("\n"));
}

#[test]
fn core_reads_no_clock_and_draws_no_randomness() {
    let banned = ["Instant::now", "SystemTime::now", "getrandom", "rand::", "thread_rng"];
    let offences = naming(rust_files(&src().join("core")), &banned, false);
    assert!(
        offences.is_empty(),
        "time and randomness come from platform:\n{}",
        offences.join("\n")
    );
}

#[test]
fn every_module_says_what_it_owns() {
    let mut missing = Vec::new();
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if !text.trim_start().starts_with("//!") {
            missing.push(file.display().to_string());
        }
    }
    assert!(missing.is_empty(), "these modules lack their //! line:\n{}", missing.join("\n"));
}

/// Patterns that cost the release its bytes per use, outside tests: serde's derived readers
/// (`core::json` reads by hand), `BTreeMap`/`BTreeSet` (`core::map::SortedMap` instead), and
/// Unicode case mapping, whose tables weigh 25 KB (the ASCII forms cost nothing).
const HEAVY: [&str; 5] =
    ["Deserialize", "BTreeMap", "BTreeSet", ".to_lowercase()", ".to_uppercase()"];

#[test]
fn release_code_uses_no_per_type_heavy_machinery() {
    let offences = naming(rust_files(&src()), &HEAVY, true);
    assert!(offences.is_empty(), "heavy per-type code in the release:\n{}", offences.join("\n"));
}
