//! `graph calls|implements|packages` end to end: golden DOT / Mermaid / JSON files for the
//! fixture `fixtures/calls/shop` (update with `UPDATE_GOLDEN=1 cargo test --test graph`), every
//! golden DOT file and a real-corpus export parsed by Graphviz `dot`, every golden Mermaid
//! file and a real-corpus export parsed by the npm `mermaid` package (see tests/mermaid/).

mod common;

use common::{bin, index_fixture, query, query_json, run_in, std_index};
use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with tests/golden/NAME, or writes it when UPDATE_GOLDEN is set.
fn golden(name: &str, actual: &str) {
    let p = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&p, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&p).unwrap_or_else(|_| {
        panic!(
            "missing {}; create it with UPDATE_GOLDEN=1 cargo test --test graph",
            p.display()
        )
    });
    if want != actual {
        panic!(
            "{} differs (UPDATE_GOLDEN=1 to accept)\n--- want\n{want}\n--- got\n{actual}",
            p.display()
        );
    }
}

/// (golden name, graph arguments) for the fixture.
const CASES: &[(&str, &[&str])] = &[
    (
        "calls_main",
        &["graph", "calls", "example.com/shop.main", "--depth", "3"],
    ),
    (
        "calls_to",
        &[
            "graph",
            "calls",
            "example.com/shop.main",
            "--to",
            "(example.com/shop/store.disk).Get",
        ],
    ),
    (
        "calls_callers",
        &[
            "graph",
            "calls",
            "example.com/shop.helper",
            "--callers",
            "--depth",
            "3",
        ],
    ),
    (
        "calls_collapse",
        &[
            "graph",
            "calls",
            "example.com/shop.main",
            "--depth",
            "3",
            "--collapse",
            "package",
        ],
    ),
    (
        "calls_by_file_linked",
        &[
            "graph",
            "calls",
            "example.com/shop.run",
            "--depth",
            "2",
            "--group-by",
            "file",
            "--link-base",
            "https://example.com/shop/blob/v1",
        ],
    ),
    (
        "calls_flat",
        &[
            "graph",
            "calls",
            "example.com/shop.run",
            "--depth",
            "2",
            "--group-by",
            "none",
        ],
    ),
    (
        "calls_cut",
        &[
            "graph",
            "calls",
            "example.com/shop.main",
            "--depth",
            "3",
            "--max-nodes",
            "4",
        ],
    ),
    (
        "implements",
        &["graph", "implements", "example.com/shop/store.Store"],
    ),
    ("packages", &["graph", "packages", "example.com/shop"]),
];

#[test]
fn golden_diagrams() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    for (name, args) in CASES {
        for (ext, fmt) in [("dot", "dot"), ("mmd", "mermaid"), ("json", "json")] {
            let mut a = args.to_vec();
            a.extend_from_slice(&["--format", fmt]);
            let out = query(&ix, &a);
            golden(&format!("{name}.{ext}"), &out);
        }
    }
}

#[test]
fn output_is_deterministic() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    for (_, args) in CASES {
        let a = query(&ix, args);
        let b = query(&ix, args);
        assert_eq!(a, b, "{args:?}");
    }
}

#[test]
fn cut_is_stated() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = run_in(
        Path::new("/"),
        &[
            "--index-dir",
            ix.to_str().unwrap(),
            "graph",
            "calls",
            "example.com/shop.main",
            "--depth",
            "3",
            "--max-nodes",
            "4",
        ],
    );
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("diagram cut at 4 nodes:"), "{err}");
    assert!(err.contains("raise --max-nodes"), "{err}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("more functions not shown (--max-nodes 4)")
    );
}

#[test]
fn unreachable_to_says_so() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = run_in(
        Path::new("/"),
        &[
            "--index-dir",
            ix.to_str().unwrap(),
            "graph",
            "calls",
            "example.com/shop.main",
            "--to",
            "example.com/shop.unreachable",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no call path"));
    assert!(out.stdout.is_empty());
}

fn have_dot() -> bool {
    Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn dot_parses(text: &str, what: &str) {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dot rejected {what}: {err}");
    assert!(
        !err.contains("Warning") && !err.contains("Error"),
        "dot complained about {what}: {err}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("<svg"),
        "{what}"
    );
}

/// A real-corpus export: the call graph under `(*net/http.Server).Serve`, depth 3.
fn std_export(ix: &Path, format: &str) -> String {
    query(
        ix,
        &[
            "graph",
            "calls",
            "(*net/http.Server).Serve",
            "--depth",
            "3",
            "--format",
            format,
        ],
    )
}

#[test]
fn graphviz_parses_every_golden_dot_and_a_std_export() {
    if !have_dot() {
        eprintln!("skipped: Graphviz `dot` not installed (apt install graphviz)");
        return;
    }
    let mut n = 0;
    for e in std::fs::read_dir(golden_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "dot") {
            dot_parses(
                &std::fs::read_to_string(&p).unwrap(),
                &p.display().to_string(),
            );
            n += 1;
        }
    }
    assert!(n >= CASES.len(), "only {n} golden DOT files");
    if let Some(ix) = std_index() {
        let text = std_export(&ix, "dot");
        assert!(text.matches(" -> ").count() > 100, "{text}");
        dot_parses(&text, "std export of (*net/http.Server).Serve --depth 3");
    }
}

/// Where `npm install mermaid jsdom` was run (tests/mermaid/README.md).
fn mermaid_dir() -> PathBuf {
    std::env::var_os("MERMAID_CHECK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/mermaid-check"))
}

#[test]
fn mermaid_parses_every_golden_file_and_a_std_export() {
    let dir = mermaid_dir();
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok || !dir.join("node_modules/mermaid").is_dir() {
        eprintln!(
            "skipped: needs node and `npm install --prefix {} mermaid@11 jsdom` (see tests/mermaid/README.md)",
            dir.display()
        );
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "mmd"))
        .collect();
    files.sort();
    assert!(files.len() >= CASES.len());
    let tmp = tempfile::tempdir().unwrap();
    if let Some(ix) = std_index() {
        let p = tmp.path().join("std_serve_depth3.mmd");
        std::fs::write(&p, std_export(&ix, "mermaid")).unwrap();
        files.push(p);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mermaid/check.mjs");
    let out = Command::new("node")
        .arg(&script)
        .args(&files)
        .env("MERMAID_CHECK_DIR", &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mermaid rejected a diagram:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("ok ").count(), files.len(), "{stdout}");
}

#[test]
fn render_svg_with_graphviz_or_explain() {
    let (_t, root, ix) = index_fixture("calls/shop");
    let svg = root.join("main.svg");
    let args = [
        "--index-dir",
        ix.to_str().unwrap(),
        "graph",
        "calls",
        "example.com/shop.main",
        "--render",
        "svg",
        "-o",
        svg.to_str().unwrap(),
    ];
    if have_dot() {
        let out = run_in(&root, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            text.contains("<svg") && text.contains("(Store).Put"),
            "{text}"
        );
    }
    // Without Graphviz on PATH: a clear message and no (empty) file.
    let empty = tempfile::tempdir().unwrap();
    let png = root.join("main.png");
    let out = Command::new(bin())
        .args(&args[..6])
        .args(["png", "-o", png.to_str().unwrap()])
        .env("PATH", empty.path())
        .env_remove("CODEWALK_INDEX_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("install") && err.contains("graphviz"), "{err}");
    assert!(!png.exists());
}

/// `graph packages --reduce` (petgraph's transitive reduction) on the standard library's
/// `net/...`: fewer import edges, the same reachability, and each dropped edge implied by
/// a longer chain.
#[test]
fn packages_reduce_keeps_reachability() {
    let Some(ix) = std_index() else {
        return;
    };
    let edges = |extra: &[&str]| -> std::collections::BTreeSet<(String, String)> {
        let mut a = vec!["graph", "packages", "net", "--format", "json"];
        a.extend_from_slice(extra);
        let v = query_json(&ix, &a);
        let name = |id: &serde_json::Value| {
            v["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["id"] == *id)
                .map(|n| n["name"].as_str().unwrap().to_string())
                .unwrap()
        };
        v["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (name(&e["from"]), name(&e["to"])))
            .collect()
    };
    let closure = |es: &std::collections::BTreeSet<(String, String)>| {
        let mut c = es.clone();
        loop {
            let add: Vec<(String, String)> = c
                .iter()
                .flat_map(|(a, b)| {
                    c.iter()
                        .filter(move |(x, _)| x == b)
                        .map(move |(_, y)| (a.clone(), y.clone()))
                })
                .filter(|p| !c.contains(p))
                .collect();
            if add.is_empty() {
                return c;
            }
            c.extend(add);
        }
    };
    let full = edges(&[]);
    let reduced = edges(&["--reduce"]);
    assert!(reduced.is_subset(&full));
    assert!(
        reduced.len() < full.len(),
        "{} of {}",
        reduced.len(),
        full.len()
    );
    assert_eq!(closure(&full), closure(&reduced));
    // net/http imports net (directly, and through net/http/httptrace): the direct edge goes.
    let direct = ("net/http".to_string(), "net".to_string());
    assert!(full.contains(&direct) && !reduced.contains(&direct));
}

/// The compact arrays call-graph walks read (`caller_ids`, `callee_ids`, `meta`) say what the
/// full records say, for every symbol of the standard library index (a fixture without it).
#[test]
fn compact_walk_arrays_agree_with_edge_and_symbol_records() {
    let (_t, _root, fixture_ix) = index_fixture("calls/shop");
    let ix_dir = std_index().unwrap_or(fixture_ix);
    let ix = codewalk::analysis::Index::open(&ix_dir).unwrap();
    let t = ix.t();
    let mut edges = 0;
    for id in 0..t.nsyms() as u32 {
        let callers: Vec<u32> = t.edges_to(id).map(|e| e.caller).collect();
        let callees: Vec<u32> = t.edges_from(id).map(|e| e.callee).collect();
        assert_eq!(t.caller_ids(id), callers.as_slice(), "callers of {id}");
        assert_eq!(t.callee_ids(id), callees.as_slice(), "callees of {id}");
        edges += callees.len();
        let s = ix.sym(id);
        let (pkg, kind, flags) = t.meta(id);
        assert_eq!((pkg, kind), (s.pkg, s.kind), "meta of {}", s.qname());
        let mut want = ix
            .pkg(s.pkg)
            .map_or(codewalk::store::F_EXTERNAL, |p| p.flags);
        if let Some(f) = ix.file(s.file) {
            want |= f.flags;
        }
        if s.file == codewalk::store::NONE && s.kind != codewalk::store::Kind::Init {
            want |= codewalk::store::F_EXTERNAL;
        }
        assert_eq!(flags, want, "flags of {}", s.qname());
    }
    assert!(edges > 10, "{edges} edges");
    // Out of range (only from a damaged index): empty, not a panic.
    assert!(t.caller_ids(u32::MAX - 1).is_empty());
}
