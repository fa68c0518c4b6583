//! The crate's modules import in one direction: `model` → `bundle` → {`infer`, `train`}, with
//! `web` a shell over `infer` and the CLI one over `train` and `bundle`. This test reads every
//! file under src/, collects which top-level modules each one names (`crate::x`, or
//! `vae_explorer::x` in the binary), and fails on an edge the table below does not allow or on
//! a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Each top-level module and the modules it may import. A new module must be added here.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("fsio", &[]),
    ("bundle", &["model", "fsio"]),
    ("infer", &["model", "bundle"]),
    ("learn", &["model", "bundle"]),
    ("train", &["model", "bundle", "learn", "fsio"]),
    ("web", &["model", "bundle", "infer"]),
    ("web_train", &["model", "bundle", "learn", "infer"]),
    ("fuzzing", &["model", "bundle", "learn"]),
    ("cli", &["model", "bundle", "learn", "train", "fsio"]),
];

/// The top-level module a file under src/ belongs to (`None` for the crate root).
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    match name {
        "lib" => None,
        // The binary: main.rs only declares cli.rs.
        "main" => Some("cli".into()),
        other => Some(other.into()),
    }
}

/// The top-level modules `source` names after `prefix` (`crate::` or `vae_explorer::`), outside
/// comments: `prefix x::…` and each item of `prefix {x::…, y}`.
fn references(source: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // Top-level items of the group: split at commas outside nested braces.
                let mut depth = 0;
                let mut item_start = true;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        c if item_start && !c.is_whitespace() => {
                            found.insert(identifier(&group[i..]));
                            item_start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                found.insert(identifier(rest));
            }
        }
    }
    found.retain(|name| !name.is_empty() && name != "self");
    found
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn collect(dir: &Path, root: &Path, graph: &mut Graph) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, root, graph);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let Some(module) = module_of(path.strip_prefix(root).unwrap()) else {
            continue;
        };
        let source = std::fs::read_to_string(&path).unwrap();
        let prefix = if module == "cli" {
            "vae_explorer::"
        } else {
            "crate::"
        };
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(
            references(&source, prefix)
                .into_iter()
                .filter(|to| *to != module),
        );
    }
}

/// Every problem with `graph`: edges the table does not allow, modules it does not know, cycles.
fn problems(graph: &Graph, allowed: &[(&str, &[&str])]) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = allowed.iter().copied().collect();
    let mut out = Vec::new();
    for (from, edges) in graph {
        let Some(may) = allowed.get(from.as_str()) else {
            out.push(format!(
                "module {from} is not in the table of allowed imports"
            ));
            continue;
        };
        for to in edges {
            if !may.contains(&to.as_str()) {
                out.push(format!("{from} imports {to}, which it may not"));
            }
        }
    }
    if let Some(cycle) = find_cycle(graph) {
        out.push(format!("cycle: {}", cycle.join(" → ")));
    }
    out
}

/// A cycle of `graph` as the modules along it (first repeated last), if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn modules_import_in_one_direction() {
    let root = Path::new("src");
    let mut graph = Graph::new();
    collect(root, root, &mut graph);
    for module in ["model", "bundle", "infer", "learn", "train", "web", "cli"] {
        assert!(graph.contains_key(module), "no module {module} under src/");
    }
    assert!(graph["infer"].contains("bundle"), "the reader sees imports");
    let problems = problems(&graph, ALLOWED);
    assert!(problems.is_empty(), "{problems:#?}\n{graph:#?}");
}

#[test]
fn the_check_catches_cycles_and_forbidden_edges() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (from, to) in edges {
            g.entry(from.to_string())
                .or_default()
                .insert(to.to_string());
            g.entry(to.to_string()).or_default();
        }
        g
    };
    let table: &[(&str, &[&str])] = &[("a", &["b"]), ("b", &["c"]), ("c", &["a"])];
    assert!(problems(&graph(&[("a", "b"), ("b", "c")]), table).is_empty());
    let cycle = problems(&graph(&[("a", "b"), ("b", "c"), ("c", "a")]), table);
    assert_eq!(cycle, ["cycle: a → b → c → a"]);
    let forbidden = problems(&graph(&[("a", "c")]), table);
    assert_eq!(forbidden, ["a imports c, which it may not"]);
    assert!(problems(&graph(&[("d", "a")]), table)[0].contains("not in the table"));
    // The real table forbids what the design forbids.
    for (from, to) in [
        ("infer", "train"),
        ("train", "web"),
        ("infer", "web"),
        ("model", "bundle"),
        ("bundle", "infer"),
        ("bundle", "train"),
        ("train", "infer"),
    ] {
        assert!(
            !problems(&graph(&[(from, to)]), ALLOWED).is_empty(),
            "{from} → {to}"
        );
    }
}

#[test]
fn references_are_read_from_paths_and_groups() {
    let source = "use crate::model::Vae;\nuse crate::{bundle::{Manifest, load_model}, fsio};\n// crate::web in a comment\nlet x = crate::infer::Backend::Cpu; use crate::{self};";
    let found: Vec<String> = references(source, "crate::").into_iter().collect();
    assert_eq!(found, ["bundle", "fsio", "infer", "model"]);
}
