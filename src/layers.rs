//! The layer rule of src/lib.rs, checked on the source tree: every
//! `crate::` path of a file names its own layer or one below it, no module
//! reaches, through the modules it names, back to itself, and raw mruby FFI
//! is named in `ruby::mrb` only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// From the bottom up.
const LAYERS: [&str; 7] = ["platform", "table", "frame", "features", "ruby", "dispatch", "entry"];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

/// Every Rust file of `dir`, by its module path (`features::trace`).
fn sources(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            sources(&path, &format!("{prefix}{name}::"), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = if name == "mod" { prefix.trim_end_matches("::").to_string() } else { format!("{prefix}{name}") };
            out.insert(module, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The modules a file names through `crate::` paths (`layer::module`, or
/// the layer alone for its mod.rs), comments left out.
fn named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + 7..];
            let items: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                group.split('}').next().unwrap().split(',').collect()
            } else {
                vec![rest]
            };
            for item in items {
                let parts: Vec<&str> = item.trim().split("::").map(|p| p.trim_matches(|c: char| !c.is_alphanumeric() && c != '_')).collect();
                match parts.as_slice() {
                    [layer, module, ..] if rank(layer).is_some() && module.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !module.is_empty() => {
                        out.insert(format!("{layer}::{module}"))
                    }
                    [layer, ..] if rank(layer).is_some() => out.insert(layer.to_string()),
                    _ => false,
                };
            }
        }
    }
    out
}

/// What breaks the rule in `files` (module path => source): the paths that
/// point up, and the import cycles.
fn violations(files: &BTreeMap<String, String>) -> (Vec<String>, Vec<String>) {
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut upward = Vec::new();
    for (module, text) in files {
        let Some(own) = module.split("::").next().and_then(rank) else { continue };
        // (a module's own tests may name anything below the crate root)
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for target in named(code) {
            // `layer::name` is a module, or an item of the layer's mod.rs
            let target = if modules.contains(&target) { target } else { target.split("::").next().unwrap().to_string() };
            if target == *module {
                continue;
            }
            if rank(target.split("::").next().unwrap()).unwrap() > own {
                upward.push(format!("{module} -> {target}"));
            }
            graph.entry(module.clone()).or_default().insert(target);
        }
    }
    let mut cycles = Vec::new();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, path)) = todo.pop() {
            for next in graph.get(&at).into_iter().flatten() {
                if next == start {
                    cycles.push(format!("{} -> {start}", path.join(" -> ")));
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    todo.push((next.clone(), p));
                }
            }
        }
    }
    (upward, cycles)
}

#[test]
fn every_path_points_down_and_no_module_reaches_back_to_itself() {
    let mut files = BTreeMap::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut files);
    assert!(files.len() > 40, "the check read {} files", files.len());
    let (upward, cycles) = violations(&files);
    assert!(upward.is_empty(), "paths pointing up the stack: {upward:#?}");
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn raw_mruby_ffi_is_named_in_the_thin_layer_only() {
    let mut files = BTreeMap::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut files);
    let named_ffi: Vec<&String> = files
        .iter()
        .filter(|(module, _)| !["ruby::mrb", "ruby", "layers"].contains(&module.as_str()))
        .filter(|(_, text)| text.lines().any(|l| l.split("//").next().unwrap().replace("std::ffi", "").replace("unix::ffi", "").contains("ffi::")))
        .map(|(module, _)| module)
        .collect();
    assert!(named_ffi.is_empty(), "modules naming mruby's ffi outside ruby::mrb: {named_ffi:?}");
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    let mut todo = vec![root.join("src"), root.join("mrblib")];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "rb" || e == "c") {
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                if lines > 600 {
                    long.push(format!("{} ({lines})", path.strip_prefix(root).unwrap().display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "files over 600 lines: {long:?}");
}

#[test]
fn every_source_path_the_docs_and_comments_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md"), root.join("build.rs"), root.join("mrbgem.rake")];
    let mut todo = vec![root.join("src"), root.join("mrblib"), root.join("bintest"), root.join("test"), root.join("script")];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut missing = BTreeSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let mut rest = text.as_str();
        while let Some(at) = rest.find("src/") {
            let name: String = rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || "_/.".contains(*c)).collect();
            rest = &rest[at + 4..];
            // a file (src/lib.rs, src/table/calls.tab) or a folder (src/features/trace/)
            let name = name.trim_end_matches('.');
            let is_path = name.ends_with(".rs") || name.ends_with(".tab") || name.ends_with(".c") || name.ends_with('/');
            if is_path && name.len() > 4 && !root.join(name).exists() {
                missing.insert(format!("{name} (in {})", file.strip_prefix(root).unwrap().display()));
            }
        }
    }
    assert!(missing.is_empty(), "source paths named that do not exist: {missing:#?}");
}

#[test]
fn the_check_finds_a_path_up_and_a_cycle() {
    let files: BTreeMap<String, String> = [
        ("platform::sys", "use crate::ruby::vm;"),
        ("ruby::vm", "use crate::ruby::hooks;"),
        ("ruby::hooks", "fn f() { crate::ruby::vm::begin() }"),
    ]
    .iter()
    .map(|(m, t)| (m.to_string(), t.to_string()))
    .collect();
    let (upward, cycles) = violations(&files);
    assert_eq!(upward, ["platform::sys -> ruby::vm"]);
    assert!(cycles.iter().any(|c| c == "ruby::vm -> ruby::hooks -> ruby::vm"), "{cycles:?}");
}

#[test]
fn the_checker_sees_paths_in_groups_and_alone() {
    let found = named("use crate::{features::trace, platform::sys};\nlet x = crate::ruby::vm::begin(); // crate::entry::nothing");
    assert_eq!(found, ["features::trace", "platform::sys", "ruby::vm"].iter().map(|s| s.to_string()).collect());
}
