//! Notes and trails end to end: anchoring across edits and re-indexing, orphans, concurrent
//! writers, the index being deleted, corrupt files, and the exported article (golden file,
//! rewritten with `UPDATE_GOLDEN=1`).

mod common;

use common::{index_fixture, query, query_json, run_in};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn reindex(root: &Path) {
    let out = run_in(root, &["index", ".", "--no-std", "--quiet"]);
    assert!(
        out.status.success(),
        "re-index failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn notes_of(index: &Path) -> Vec<Value> {
    query_json(index, &["note", "list", "--all"])["notes"]
        .as_array()
        .unwrap()
        .clone()
}

fn fails(index: &Path, args: &[&str]) -> String {
    let mut full = vec!["--index-dir", index.to_str().unwrap()];
    full.extend_from_slice(args);
    let out = run_in(Path::new("/"), &full);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn note_survives_a_40_line_shift_and_reindex() {
    let (_t, root, index) = index_fixture("notes");
    let n = query_json(
        &index,
        &[
            "note",
            "add",
            "web.ListenAndServe",
            "builds a Server and calls Serve",
        ],
    );
    assert_eq!(n["symbol"], "example.com/notes/web.ListenAndServe");
    assert_eq!(n["status"], "attached");
    let line0 = n["line"].as_u64().unwrap();

    // Forty lines inserted above the function, and the body's layout changed.
    let f = root.join("web/server.go");
    let src = std::fs::read_to_string(&f).unwrap();
    let pad: String = (0..40).map(|i| format!("// padding {i}\n")).collect();
    let src = src
        .replace(
            "// ListenAndServe starts",
            &format!("{pad}// ListenAndServe starts"),
        )
        .replace(
            "\treturn s.Serve(addr)",
            "\treturn  s.Serve( addr ) // same call",
        );
    std::fs::write(&f, src).unwrap();
    reindex(&root);

    let notes = notes_of(&index);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["status"], "attached", "{notes:?}");
    assert_eq!(notes[0]["line"].as_u64().unwrap(), line0 + 40);
    assert_eq!(notes[0]["text"], "builds a Server and calls Serve");

    // A real edit of the body is flagged, not lost.
    let src = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        src.replace(
            "s := &Server{Handler: h}",
            "s := &Server{}\n\ts.Handler = h",
        ),
    )
    .unwrap();
    reindex(&root);
    let notes = notes_of(&index);
    assert_eq!(notes[0]["status"], "edited");
    let text = query(&index, &["note", "list"]);
    assert!(text.contains("[edited since noted]"), "{text}");
}

#[test]
fn renamed_function_orphans_its_note_without_losing_it() {
    let (_t, root, index) = index_fixture("notes");
    let n = query_json(
        &index,
        &["note", "add", "app.Unused", "sum of squares below n"],
    );
    let id = n["id"].as_u64().unwrap().to_string();
    let (file, line) = (n["file"].clone(), n["line"].clone());

    let f = root.join("app/main.go");
    let src = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, src.replace("func Unused(", "func SumSquares(")).unwrap();
    reindex(&root);

    let notes = notes_of(&index);
    assert_eq!(notes.len(), 1);
    let o = &notes[0];
    assert_eq!(o["status"], "orphaned");
    assert_eq!(o["text"], "sum of squares below n");
    assert_eq!(o["symbol"], "example.com/notes/app.Unused");
    assert_eq!(
        (&o["file"], &o["line"]),
        (&file, &line),
        "last known location"
    );
    assert_eq!(o["candidates"][0], "example.com/notes/app.SumSquares");
    let text = query(&index, &["note", "list"]);
    assert!(text.contains("orphaned"), "{text}");
    assert!(text.contains("same declaration now named: example.com/notes/app.SumSquares"));

    // Re-attached by hand.
    let m = query_json(&index, &["note", "move", &id, "app.SumSquares"]);
    assert_eq!(m["status"], "attached");
    assert_eq!(m["symbol"], "example.com/notes/app.SumSquares");
    assert_eq!(m["text"], "sum of squares below n");
}

#[test]
fn concurrent_note_adds_all_land() {
    let (_t, _root, index) = index_fixture("notes");
    let children: Vec<_> = (0..8)
        .map(|i| {
            Command::new(common::bin())
                .args(["--index-dir", index.to_str().unwrap(), "note", "add"])
                .arg(if i % 2 == 0 {
                    "web.ListenAndServe"
                } else {
                    "(*web.Server).Serve"
                })
                .arg(format!("note number {i}"))
                .env_remove("CODEWALK_INDEX_DIR")
                .env_remove("CODEWALK_NOTES_DIR")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let notes = notes_of(&index);
    let mut texts: Vec<String> = notes
        .iter()
        .map(|n| n["text"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    let want: Vec<String> = (0..8).map(|i| format!("note number {i}")).collect();
    assert_eq!(texts, want);
    let mut ids: Vec<u64> = notes.iter().map(|n| n["id"].as_u64().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "ids are unique");
}

#[test]
fn deleting_and_rebuilding_the_index_keeps_notes() {
    let (_t, root, index) = index_fixture("notes");
    query(
        &index,
        &[
            "note",
            "add",
            "(*web.Server).Serve",
            "one goroutine per connection",
        ],
    );
    let store = root.join(".codewalk-notes/notes.jsonl");
    let before = std::fs::read(&store).unwrap();

    std::fs::remove_dir_all(&index).unwrap();
    // Without an index the notes are still readable from an explicit notes dir.
    let notes_dir = root.join(".codewalk-notes");
    let v = query_json(
        &index,
        &["note", "list", "--notes", notes_dir.to_str().unwrap()],
    );
    assert_eq!(v["notes"][0]["status"], "unchecked");
    assert_eq!(v["notes"][0]["text"], "one goroutine per connection");

    reindex(&root);
    let notes = notes_of(&index);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["status"], "attached");
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "notes file untouched"
    );
}

#[test]
fn corrupt_notes_file_is_reported_and_never_overwritten() {
    let (_t, root, index) = index_fixture("notes");
    query(&index, &["note", "add", "web.ListenAndServe", "first"]);
    let store = root.join(".codewalk-notes/notes.jsonl");
    let mut text = std::fs::read_to_string(&store).unwrap();
    text.push_str("{\"id\": 2, \"symbol\": oops\n");
    std::fs::write(&store, &text).unwrap();

    let err = fails(&index, &["note", "add", "web.ListenAndServe", "second"]);
    assert!(err.contains(&format!("{}:3:", store.display())), "{err}");
    assert!(err.contains("will not write over"), "{err}");
    assert_eq!(std::fs::read_to_string(&store).unwrap(), text);
    let err = fails(&index, &["note", "list"]);
    assert!(err.contains("notes.jsonl:3"), "{err}");
}

#[test]
fn unknown_symbol_suggests_close_names() {
    let (_t, _root, index) = index_fixture("notes");
    let err = fails(&index, &["note", "add", "ListenAndServ", "typo"]);
    assert!(err.contains("did you mean"), "{err}");
    assert!(err.contains("web.ListenAndServe"), "{err}");
}

#[test]
fn trails_list_switch_and_show() {
    let (_t, _root, index) = index_fixture("notes");
    query(&index, &["trail", "start", "First question?"]);
    query(&index, &["trail", "add", "web.ListenAndServe"]);
    query(&index, &["trail", "start", "Second question?"]);
    let v = query_json(&index, &["trail", "list"]);
    let t = v["trails"].as_array().unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t.iter().filter(|t| t["current"] == true).count(), 1);
    assert_eq!(
        t.iter().find(|t| t["current"] == true).unwrap()["trail"],
        "second-question"
    );
    query(&index, &["trail", "switch", "first"]);
    query(
        &index,
        &["trail", "add", "(*web.Server).Serve", "--note", "loops"],
    );
    let s = query(&index, &["trail", "show"]);
    assert!(s.contains("1. example.com/notes/web.ListenAndServe"), "{s}");
    assert!(
        s.contains("↓ (*example.com/notes/web.Server).Serve (static)"),
        "{s}"
    );
    assert!(
        s.contains("2. (*example.com/notes/web.Server).Serve"),
        "{s}"
    );
    // Steps with text are notes, so `note list` shows them with their trail.
    let l = query(&index, &["note", "list"]);
    assert!(l.contains("[trail first-question]"), "{l}");
    // A step's note cannot be removed behind the trail's back.
    let id = query_json(&index, &["note", "list"])["notes"][0]["id"].to_string();
    let err = fails(&index, &["note", "rm", &id]);
    assert!(err.contains("is a step of trail first-question"), "{err}");
}

fn build_trail(index: &Path) {
    query(
        index,
        &["trail", "start", "How does a request reach my handler?"],
    );
    query(
        index,
        &[
            "trail",
            "add",
            "web.ListenAndServe",
            "--note",
            "Wraps the handler in a Server.",
        ],
    );
    query(
        index,
        &[
            "trail",
            "add",
            "(*web.Server).Serve",
            "--note",
            "One goroutine per connection.",
        ],
    );
    query(
        index,
        &[
            "trail",
            "add",
            "web.HandlerFunc.Serve",
            "--note",
            "The adapter: calls the user's function.",
        ],
    );
    query(index, &["trail", "add", "app.hello"]);
    query(
        index,
        &[
            "trail",
            "conclude",
            "The request reaches",
            "hello",
            "through the Handler interface.",
        ],
    );
}

#[test]
fn export_matches_golden_markdown() {
    let (_t, _root, index) = index_fixture("notes");
    build_trail(&index);
    let md = query(
        &index,
        &[
            "trail",
            "export",
            "--link-base",
            "https://example.com/notes/blob/v1",
        ],
    );
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/notes/trail.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &md).unwrap();
    }
    let want = std::fs::read_to_string(&golden).expect("golden file; run with UPDATE_GOLDEN=1");
    assert_eq!(
        md,
        want,
        "export differs from {}; UPDATE_GOLDEN=1 rewrites it",
        golden.display()
    );

    let j = query_json(&index, &["trail", "export"]);
    let steps = j["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4);
    assert_eq!(j["question"], "How does a request reach my handler?");
    // Step 3 is reached through the interface and its dispatch to HandlerFunc.
    let vias: Vec<&str> = steps[2]["from_previous"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["via"].as_str().unwrap())
        .collect();
    assert_eq!(vias, ["static, go", "interface", "dispatch"]);
    assert!(j["mermaid"].as_str().unwrap().starts_with("flowchart TD"));
}

/// Notes show up where a reader follows calls: under the functions of `callers`, `callees`,
/// call trees and `trace` paths, and as a `notes` object (by qualified name) in their JSON;
/// `--no-notes` hides them.
#[test]
fn notes_appear_in_call_answers() {
    let (_t, _root, index) = index_fixture("notes");
    query(
        &index,
        &[
            "note",
            "add",
            "(*example.com/notes/web.conn).serve",
            "the per-connection loop",
        ],
    );
    query(
        &index,
        &[
            "note",
            "add",
            "example.com/notes/web.ListenAndServe",
            "entry point",
        ],
    );

    let callees = query(
        &index,
        &["callees", "(*example.com/notes/web.Server).Serve"],
    );
    assert!(
        callees.contains("note #1: the per-connection loop"),
        "{callees}"
    );
    let callers = query(
        &index,
        &["callers", "(*example.com/notes/web.Server).Serve"],
    );
    assert!(callers.contains("note #2: entry point"), "{callers}");
    let tree = query(&index, &["trace", "main.main", "--depth", "4"]);
    assert!(
        tree.contains("note #1: the per-connection loop") && tree.contains("note #2: entry point"),
        "{tree}"
    );
    let path = query(
        &index,
        &["trace", "main.main", "(*example.com/notes/web.conn).serve"],
    );
    assert!(path.contains("note #1: the per-connection loop"), "{path}");

    let j = query_json(
        &index,
        &["callees", "(*example.com/notes/web.Server).Serve"],
    );
    assert_eq!(
        j["notes"]["(*example.com/notes/web.conn).serve"][0]["text"], "the per-connection loop",
        "{j}"
    );
    let j = query_json(&index, &["trace", "main.main", "--depth", "4"]);
    assert!(
        j["notes"]["example.com/notes/web.ListenAndServe"].is_array(),
        "{j}"
    );

    let quiet = query(
        &index,
        &[
            "--no-notes",
            "callees",
            "(*example.com/notes/web.Server).Serve",
        ],
    );
    assert!(!quiet.contains("note #"), "{quiet}");
    let j = query_json(
        &index,
        &[
            "--no-notes",
            "callees",
            "(*example.com/notes/web.Server).Serve",
        ],
    );
    assert!(j.get("notes").is_none(), "{j}");
}
