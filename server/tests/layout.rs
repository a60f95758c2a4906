//! The server's module boundaries, checked on its source: the two doors (`http/`, `socket/`)
//! never import each other, the domain never imports a door, and the message writer never
//! names `App` (it knows the store and the hub only).

use std::path::{Path, PathBuf};

const DOORS: [&str; 2] = ["http", "socket"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the source folder is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The source files under `server/src`, with their path relative to it.
fn files() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    sources(&src, &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
            (relative, std::fs::read_to_string(&path).expect("a source file is readable"))
        })
        .collect()
}

/// The top-level module a file belongs to (`http/friends.rs` → `http`, `hub.rs` → `hub`).
fn module_of(relative: &str) -> &str {
    relative.split('/').next().unwrap_or(relative).trim_end_matches(".rs")
}

/// Whether the code (comments left out) names `crate::<module>`.
fn names(text: &str, module: &str) -> bool {
    let pattern = format!("crate::{module}");
    text.lines().filter(|line| !line.trim_start().starts_with("//")).any(|line| {
        line.match_indices(&pattern).any(|(at, _)| {
            let next = line[at + pattern.len()..].chars().next();
            !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn the_doors_do_not_import_each_other_and_the_domain_imports_no_door() {
    let mut broken = Vec::new();
    for (relative, text) in files() {
        let module = module_of(&relative);
        // `lib.rs` wires the doors to the listeners; `bin/` holds the load generator.
        if relative == "lib.rs" || module == "bin" {
            continue;
        }
        for door in DOORS {
            if door != module && names(&text, door) {
                broken.push(format!("{relative} imports crate::{door}"));
            }
        }
    }
    assert!(broken.is_empty(), "module boundaries broken:\n{}", broken.join("\n"));
}

#[test]
fn the_message_writer_never_names_app() {
    let (_, writer) = files()
        .into_iter()
        .find(|(relative, _)| relative == "messages/writer.rs")
        .expect("messages/writer.rs");
    let code: String =
        writer.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    assert!(!names(&code, "app") && !code.contains("App"), "the writer must not know App");
}

#[test]
fn the_check_sees_an_import() {
    assert!(names("use crate::http::Json;", "http"));
    assert!(names("    crate::socket::run(app)", "socket"));
    assert!(!names("use crate::hub::Hub;", "http"));
    assert!(!names("use crate::https_thing;", "http"));
    assert!(!names("// see crate::http", "http"));
}
