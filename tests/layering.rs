//! The one-way import rule between stages (see `src/lib.rs`, `# Layout`):
//! a module may use modules of a lower layer, never one of its own layer
//! or a higher one. Read from the source text, so it needs no tool beyond
//! the test runner and fails with the offending file and line.
//!
//! Test code (`tests.rs` files, `#[cfg(test)] mod tests` blocks and the
//! `test_support` module) is exempt: a test may build any stage's data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers, lowest first. Every top-level module of `src/` must be listed.
const LAYERS: &[&[&str]] = &[
    &["model", "hcl_diag", "schedule", "sdk"],
    &["state", "aws", "config"],
    &["diff"],
    &["grade", "attribute"],
    &["report"],
    &["store", "audit"],
    &["digest"],
    &["notify"],
    &["app"],
    &["daemon"],
    &["cli"],
];

/// Test-only modules, exempt from the rule.
const EXEMPT: &[&str] = &["test_support"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().unwrap() != "snapshots" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/aws/resources/vpc.rs` →
/// `aws`); `None` for `lib.rs` and `main.rs`.
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    match first.as_str() {
        "lib.rs" | "main.rs" => None,
        f => Some(f.trim_end_matches(".rs").to_string()),
    }
}

/// The text with the contents of string and char literals and of
/// comments blanked (newlines kept), so neither a `crate::` nor a brace
/// inside them counts.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                out.push(blank(chars[i]));
                i += 1;
            }
            out.push_str("  ");
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&chars, i)
        {
            // r"..." / r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            out.push('"');
            j += 1;
            while j < chars.len() && !chars[j..].starts_with(&close.chars().collect::<Vec<_>>()) {
                out.push(blank(chars[j]));
                j += 1;
            }
            out.push('"');
            i = j + close.chars().count();
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || next == Some('\\')) {
            // A char literal ('x', '\n', '\''); lifetimes ('a) are left alone.
            let end = (i + 1..chars.len().min(i + 12))
                .find(|&k| chars[k] == '\'' && (k != i + 2 || chars[i + 1] != '\\'))
                .unwrap_or(i);
            out.extend(std::iter::repeat_n(' ', end + 1 - i));
            i = end + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// The text without its `#[cfg(test)] mod tests { ... }` blocks.
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(open) = after.find('{') else {
            rest = "";
            break;
        };
        // `#[cfg(test)] mod x;` declares a file: skip the line only.
        if let Some(semi) = after.find(';') {
            if semi < open {
                rest = &after[semi + 1..];
                continue;
            }
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after.char_indices().skip(open) {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        // Keep the line count, so reported line numbers stay true.
        out.extend(std::iter::repeat_n(
            '\n',
            after[..end].matches('\n').count(),
        ));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every `crate::X` a text names, with its line: plain paths and the
/// first segment of each item in `use crate::{X, Y::z}` groups.
fn references(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if after.starts_with('{') {
                // A group may span lines: take the text to its brace.
                let start = text.lines().take(i).map(|l| l.len() + 1).sum::<usize>()
                    + (code.len() - rest.len())
                    + at
                    + "crate::{".len();
                let body = &text[start..];
                let body = &body[..body.find("};").unwrap_or(body.len())];
                for item in top_level_items(body) {
                    out.push((i + 1, item));
                }
                break;
            }
            if let Some(name) = leading_ident(after) {
                out.push((i + 1, name));
            }
            rest = after;
        }
    }
    out
}

/// The identifier `s` starts with, if any.
fn leading_ident(s: &str) -> Option<String> {
    let name: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The first path segment of each top-level item of a `{...}` group.
fn top_level_items(body: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in body.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items
        .iter()
        .filter_map(|i| leading_ident(i.trim()))
        .collect()
}

/// How many `super::` a file can climb and stay inside its top-level
/// module: 0 for `src/aws/mod.rs` and `src/sdk.rs`, 1 for
/// `src/aws/client.rs`, 2 for `src/aws/resources/vpc.rs`.
fn depth_in_module(file: &Path) -> usize {
    let rel = file.strip_prefix(src()).unwrap();
    let parts = rel.components().count();
    let is_mod = file.file_name().unwrap() == "mod.rs";
    parts.saturating_sub(if is_mod { 2 } else { 1 })
}

/// Top-level modules reached by a `super::super::...` chain that climbs
/// out of the file's own top-level module.
fn escapes(text: &str, depth: usize) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("super::") {
            // Only the start of a chain.
            let before = &rest[..at];
            if before.ends_with("::") || before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
            {
                rest = &rest[at + "super::".len()..];
                continue;
            }
            let mut after = &rest[at..];
            let mut climbs = 0;
            while let Some(r) = after.strip_prefix("super::") {
                climbs += 1;
                after = r;
            }
            if climbs > depth {
                if let Some(name) = leading_ident(after) {
                    out.push((i + 1, name));
                }
            }
            rest = after;
        }
    }
    out
}

/// module → the modules it uses, with one place each is used from.
fn graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&file) else {
            continue;
        };
        if file.file_name().unwrap() == "tests.rs" {
            continue;
        }
        let text = without_tests(&code_only(&std::fs::read_to_string(&file).unwrap()));
        let edges = graph.entry(module.clone()).or_default();
        let mut used_here = references(&text);
        used_here.extend(escapes(&text, depth_in_module(&file)));
        for (line, used) in used_here {
            if used != module && used != "self" && used != "super" {
                let rel = file.strip_prefix(src()).unwrap().display().to_string();
                edges.entry(used).or_insert(format!("src/{rel}:{line}"));
            }
        }
    }
    graph
}

#[test]
fn every_import_points_down_the_pipeline() {
    let graph = graph();
    let mut violations = Vec::new();
    for (module, edges) in &graph {
        if EXEMPT.contains(&module.as_str()) {
            continue;
        }
        let Some(from) = layer_of(module) else {
            violations.push(format!(
                "src/{module}: a module no layer lists (add it to LAYERS and to lib.rs's # Layout)"
            ));
            continue;
        };
        for (used, place) in edges {
            if EXEMPT.contains(&used.as_str()) {
                violations.push(format!("{place}: {module} uses the test-only {used}"));
                continue;
            }
            match layer_of(used) {
                Some(to) if to < from => {}
                Some(_) => violations.push(format!(
                    "{place}: {module} (layer {from}) uses {used} (layer {}), which is not below it",
                    layer_of(used).unwrap()
                )),
                None => violations.push(format!("{place}: {module} uses {used}, which no layer lists")),
            }
        }
    }
    // The graph, for the record (`cargo test --test layering -- --nocapture`).
    for (module, edges) in &graph {
        let used: Vec<&str> = edges.keys().map(String::as_str).collect();
        println!("{module} -> {}", used.join(", "));
    }
    assert!(
        violations.is_empty(),
        "imports that climb back up:\n{}",
        violations.join("\n")
    );
}

#[test]
fn every_layer_module_exists_and_the_layout_doc_names_each() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let layout = &lib[lib.find("# Layout").expect("lib.rs has a # Layout section")..];
    let mut on_disk: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.is_dir()
            || (path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main")
        {
            on_disk.insert(name);
        }
    }
    let listed: BTreeSet<String> = LAYERS
        .iter()
        .flat_map(|l| l.iter().map(|m| m.to_string()))
        .collect();
    let exempt: BTreeSet<String> = EXEMPT.iter().map(|m| m.to_string()).collect();
    let unlisted: Vec<_> = on_disk
        .difference(&listed)
        .filter(|m| !exempt.contains(*m))
        .collect();
    assert!(
        unlisted.is_empty(),
        "modules in src/ that no layer lists: {unlisted:?}"
    );
    let gone: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        gone.is_empty(),
        "layers name modules src/ does not have: {gone:?}"
    );
    for m in &listed {
        assert!(
            layout.contains(&format!("[`{m}`]")),
            "lib.rs's # Layout does not describe `{m}`"
        );
        assert!(
            lib.contains(&format!("mod {m};")),
            "lib.rs does not declare `{m}`"
        );
    }
}

#[test]
fn the_checker_sees_through_strings_comments_and_super_chains() {
    let text = "let url = \"https://x\"; crate::a::f();\n// crate::b::g()\nlet s = \"crate::c\";\nlet c = '{';\nlet r = r#\"crate::d \"quoted\" \"#; crate::e::h();\n";
    let refs: Vec<String> = references(&code_only(text))
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(refs, ["a", "e"]);
    let code = "use super::super::grade::X;\nuse super::sibling::Y;\n";
    let up: Vec<String> = escapes(code, 1).into_iter().map(|(_, m)| m).collect();
    assert_eq!(up, ["grade"]);
    assert!(escapes(code, 2).is_empty());
    assert_eq!(depth_in_module(&src().join("aws/resources/vpc.rs")), 2);
    assert_eq!(depth_in_module(&src().join("aws/mod.rs")), 0);
    assert_eq!(depth_in_module(&src().join("sdk.rs")), 0);
}

#[test]
fn the_checker_sees_grouped_and_multi_line_imports() {
    let text = "use crate::{\n    a::X,\n    b::{Y, Z},\n};\nfn f() { crate::c::g(); }\n#[cfg(test)]\nmod tests {\n    use crate::d::Q;\n}\n";
    let refs: Vec<String> = references(&without_tests(text))
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(refs, ["a", "b", "c"]);
}
