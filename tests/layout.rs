//! The layering rules of the source tree, checked so that they cannot break again:
//!
//! * `indicators` (the core: model, canonical forms, set file, builder, reader) imports no lane;
//! * the lanes — `feeds`, `packets`, `logs`, `hits`, `exports` — import only the core;
//! * `sightings` reads hits, so it may import `hits` too;
//! * only `engine` (which wires lanes to sinks) and the command line (`cli`, `main.rs`) see
//!   several lanes.
//!
//! Code under `#[cfg(test)]` is not checked: a lane's unit tests may build a set from a feed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each top-level module of the library may import, besides itself.
const ALLOWED: &[(&str, &[&str])] = &[
    ("indicators", &[]),
    ("feeds", &["indicators"]),
    ("packets", &["indicators"]),
    ("logs", &["indicators"]),
    ("hits", &["indicators"]),
    ("exports", &["indicators"]),
    ("sightings", &["indicators", "hits"]),
    (
        "engine",
        &["indicators", "feeds", "packets", "logs", "hits"],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments, string literals and `#[cfg(test)]` items.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut skip_depth: Option<i64> = None;
    let mut depth = 0i64;
    let mut test_attr = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("");
        let trimmed = line.trim();
        if trimmed.starts_with("#[cfg(test)]") {
            test_attr = true;
            continue;
        }
        let opens = line.matches('{').count() as i64;
        let closes = line.matches('}').count() as i64;
        if test_attr && skip_depth.is_none() && !trimmed.is_empty() && !trimmed.starts_with("#[") {
            test_attr = false;
            if trimmed.ends_with(';') {
                // `#[cfg(test)] mod tests;` or a one-line item.
                continue;
            }
            skip_depth = Some(depth);
        }
        depth += opens - closes;
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        // Drop string literals (paths in messages are not imports).
        let mut code = String::new();
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                code.push(c);
            }
            prev = c;
        }
        out.push((n + 1, code));
    }
    out
}

/// The top-level modules a line names through `crate::` (or `trawl::`, for the binary).
fn named_modules(code: &str, root: &str) -> Vec<String> {
    let mut found = Vec::new();
    let pat = format!("{root}::");
    let mut rest = code;
    while let Some(i) = rest.find(&pat) {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + pat.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::x, b}`: every first segment inside the braces.
            let body = group.split('}').next().unwrap_or("");
            for part in body.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.push(name);
        }
    }
    found
}

#[test]
fn lanes_import_only_what_the_layering_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let lanes: BTreeSet<&str> = ALLOWED.iter().map(|(l, _)| *l).collect();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let parts: Vec<&str> = rel.iter().map(|p| p.to_str().unwrap()).collect();
        let top = parts[0].trim_end_matches(".rs");
        let Some((_, allowed)) = ALLOWED.iter().find(|(l, _)| *l == top) else {
            // lib.rs (re-exports), main.rs and cli/ see everything.
            assert!(
                matches!(top, "lib" | "main" | "cli"),
                "{}: a top-level module the layering test does not know; add it to ALLOWED",
                rel.display()
            );
            continue;
        };
        checked += 1;
        // How many `super::` a file may climb and stay inside its lane.
        let in_lane_depth = parts.len() - 1 - usize::from(rel.ends_with("mod.rs"));
        let text = std::fs::read_to_string(file).unwrap();
        for (n, code) in code_lines(&text) {
            for m in named_modules(&code, "crate") {
                if m != top && lanes.contains(m.as_str()) && !allowed.contains(&m.as_str()) {
                    broken.push(format!("{}:{n}: {top} imports {m}", rel.display()));
                }
            }
            let climbs = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map(|w| w.matches("super::").count())
                .max()
                .unwrap_or(0);
            if climbs > in_lane_depth {
                broken.push(format!(
                    "{}:{n}: `super::` climbs out of the {top} lane",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} files checked: is src/ laid out by lane?"
    );
    assert!(
        broken.is_empty(),
        "imports that break the layering:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_sees_what_it_must() {
    assert_eq!(
        named_modules("use crate::{feeds::x, hits};", "crate"),
        ["feeds", "hits"]
    );
    assert_eq!(
        named_modules("let a = crate::logs::f(); b::crate::x", "crate"),
        ["logs"]
    );
    let code = code_lines(
        "use crate::a; // crate::b\nlet s = \"crate::c\";\n#[cfg(test)]\nmod tests {\n    use crate::d;\n}\nuse crate::e;\n",
    );
    let names: Vec<String> = code
        .iter()
        .flat_map(|(_, c)| named_modules(c, "crate"))
        .collect();
    assert_eq!(names, ["a", "e"]);
}
