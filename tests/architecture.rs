//! `docs/architecture.md` stays true: every path it names exists, and every module of
//! `src/` imports only what the doc's layer table allows it (code under `#[cfg(test)]`
//! excepted).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> String {
    fs::read_to_string(root().join("docs/architecture.md")).expect("docs/architecture.md")
}

/// The spans between backticks.
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[test]
fn every_path_the_doc_names_exists() {
    let doc = doc();
    let paths: Vec<&str> = quoted(&doc)
        .into_iter()
        .filter(|s| s.contains('/') && !s.contains(' ') && !s.contains("::"))
        .collect();
    assert!(paths.len() > 30, "the doc names only {} paths", paths.len());
    let missing: Vec<&&str> = paths
        .iter()
        .filter(|p| !root().join(p.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "named in docs/architecture.md but missing: {missing:?}"
    );
}

/// The layer table: module → what it may import (`x` or `x::sub`).
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let doc = doc();
    let table = doc
        .lines()
        .skip_while(|l| !l.starts_with("| module |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    table
        .map(|row| {
            let cells: Vec<&str> = row.split('|').collect();
            let module = quoted(cells[1])[0].to_owned();
            let may: BTreeSet<String> = quoted(cells[2]).into_iter().map(str::to_owned).collect();
            (module, may)
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::a::b` paths a file's non-test code names, as `a::b` (or `a`).
fn imports(file: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(file).expect("readable");
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let mut parts = path.split("::").filter(|p| !p.is_empty());
        if let Some(first) = parts.next() {
            found.insert(match parts.next() {
                Some(second) => format!("{first}::{second}"),
                None => first.to_owned(),
            });
        }
    }
    found
}

#[test]
fn every_module_imports_only_what_its_layer_allows() {
    let allowed = allowed();
    assert!(allowed.contains_key("sync") && allowed.contains_key("wasm"));
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut breaches = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" {
            continue;
        }
        let may = allowed
            .get(&module)
            .unwrap_or_else(|| panic!("module `{module}` is not in the doc's layer table"));
        for import in imports(&file) {
            let top = import.split("::").next().unwrap_or_default();
            if top == module || may.contains(top) || may.contains(&import) {
                continue;
            }
            breaches.push(format!("{} imports crate::{import}", relative.display()));
        }
    }
    assert!(
        breaches.is_empty(),
        "imports the layer table forbids:\n{}",
        breaches.join("\n")
    );
}
