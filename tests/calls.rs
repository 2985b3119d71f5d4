//! `callers`, `callees`, `trace` end to end: the fixture `fixtures/calls/shop` (every edge kind)
//! and the Go standard library (a trace across `http.Handler` dispatch, hub functions).

mod common;

use common::{index_fixture, query, query_json, run_in, std_index};
use std::path::Path;
use std::time::Instant;

fn run_q(index: &Path, args: &[&str]) -> std::process::Output {
    let mut full = vec!["--index-dir", index.to_str().unwrap()];
    full.extend_from_slice(args);
    run_in(Path::new("/"), &full)
}

#[test]
fn callees_show_every_edge_kind_with_call_sites() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = query(&ix, &["callees", "example.com/shop.main"]);
    let want = "\
example.com/shop.main  main.go:14
  example.com/shop/store.New  static  main.go:15
  example.com/shop.cleanup  static defer  main.go:16
  example.com/shop.run  static  main.go:17
  example.com/shop.worker  static go  main.go:18
  example.com/shop.audit  funcvalue  main.go:20
  (*example.com/shop/store.List).Push  static  main.go:22
  example.com/shop/util.Helper  static  main.go:23
";
    assert_eq!(out, want);
}

#[test]
fn callees_json_has_edge_fields() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let v = query_json(&ix, &["callees", "example.com/shop.main"]);
    let edges = v["callees"].as_array().unwrap();
    let worker = edges
        .iter()
        .find(|e| e["callee"] == "example.com/shop.worker")
        .expect("worker edge");
    assert_eq!(worker["caller"], "example.com/shop.main");
    assert_eq!(worker["file"], "main.go");
    assert_eq!(worker["line"], 18);
    assert_eq!(worker["via"], "static");
    assert_eq!(worker["go"], true);
    assert_eq!(worker["defer"], false);
    let cleanup = edges
        .iter()
        .find(|e| e["callee"] == "example.com/shop.cleanup")
        .unwrap();
    assert_eq!(cleanup["defer"], true);
}

#[test]
fn callers_two_levels_through_dispatch() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = query(
        &ix,
        &[
            "callers",
            "(example.com/shop/store.disk).Get",
            "--depth",
            "3",
        ],
    );
    let want = "\
(example.com/shop/store.disk).Get  store/store.go:23
  (example.com/shop/store.Store).Get  dispatch  (interface method at store/store.go:6)
    example.com/shop.handle  interface  main.go:33
      example.com/shop.run  static  main.go:28
        … 1 more caller (see --depth 4)
      example.com/shop.worker  static  main.go:38
        … 1 more caller (see --depth 4)
";
    assert_eq!(out, want);
}

#[test]
fn unresolved_dynamic_call_is_listed_on_request() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = query(&ix, &["callees", "example.com/shop.apply"]);
    assert!(!out.contains("unresolved"), "{out}");
    let out = query(&ix, &["callees", "example.com/shop.apply", "--unresolved"]);
    assert!(out.contains("unresolved (dynamic)  main.go:51"), "{out}");
    let v = query_json(&ix, &["callees", "example.com/shop.apply", "--unresolved"]);
    assert_eq!(v["unresolved"][0]["reason"], "dynamic");
}

#[test]
fn trace_paths_cross_the_interface() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = query(
        &ix,
        &[
            "trace",
            "example.com/shop.main",
            "(example.com/shop/store.disk).Get",
        ],
    );
    let want = "\
2 paths from example.com/shop.main to (example.com/shop/store.disk).Get (shortest first)
path 1 (4 calls)
  0. example.com/shop.main  main.go:14
  1. example.com/shop.run  static  main.go:17
  2. example.com/shop.handle  static  main.go:28
  3. (example.com/shop/store.Store).Get  interface  main.go:33
  4. (example.com/shop/store.disk).Get  dispatch  (implementation at store/store.go:23)
path 2 (4 calls)
  0. example.com/shop.main  main.go:14
  1. example.com/shop.worker  static go  main.go:18
  2. example.com/shop.handle  static  main.go:38
  3. (example.com/shop/store.Store).Get  interface  main.go:33
  4. (example.com/shop/store.disk).Get  dispatch  (implementation at store/store.go:23)
";
    assert_eq!(out, want);
    let v = query_json(
        &ix,
        &[
            "trace",
            "example.com/shop.main",
            "(example.com/shop/store.disk).Get",
            "--max-paths",
            "1",
        ],
    );
    let p = v["paths"].as_array().unwrap();
    assert_eq!(p.len(), 1);
    let vias: Vec<&str> = p[0]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["via"].as_str().unwrap())
        .collect();
    assert_eq!(vias, ["static", "static", "interface", "dispatch"]);
}

#[test]
fn trace_without_path_says_how_far_each_side_got() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = run_q(
        &ix,
        &[
            "trace",
            "example.com/shop.main",
            "(example.com/shop/store.disk).Get",
            "--no-dispatch",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "no call path from example.com/shop.main to (example.com/shop/store.disk).Get"
        ),
        "{err}"
    );
    assert!(err.contains("functions reached"), "{err}");
    // The nearest the forward side got is the interface method in the same package.
    assert!(
        err.contains("(example.com/shop/store.Store).Get  (depth 3)"),
        "{err}"
    );
    // Nothing calls disk.Get without dispatch.
    assert!(err.contains("0 callers found"), "{err}");
}

#[test]
fn trace_tree_expands_each_function_once() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = query(&ix, &["trace", "example.com/shop.main", "--depth", "4"]);
    let expanded = out
        .lines()
        .filter(|l| l.contains("example.com/shop.handle  static") && !l.contains("repeated"))
        .count();
    assert_eq!(expanded, 1, "{out}");
    assert!(
        out.contains("example.com/shop.handle  static  main.go:38  (repeated: expanded above)"),
        "{out}"
    );
    assert!(
        out.contains("example.com/shop.helper  static  main.go:34  (repeated: expanded below)"),
        "{out}"
    );
    // Depth limit is stated.
    assert!(out.contains("… 1 more callee (see --depth 5)"), "{out}");
}

#[test]
fn ambiguous_and_unknown_names() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = run_q(&ix, &["callees", "helper"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("example.com/shop.helper") && err.contains("example.com/shop/util.helper"),
        "{err}"
    );
    let out = run_q(&ix, &["trace", "nosuchfunction", "helper"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run_q(&ix, &["callers", "example.com/shop/store.Store"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a function"));
}

#[test]
fn filters_focus_and_exclude() {
    let (_t, _root, ix) = index_fixture("calls/shop");
    let out = query(
        &ix,
        &[
            "trace",
            "example.com/shop.main",
            "--depth",
            "3",
            "--focus",
            "example.com/shop/store",
        ],
    );
    assert!(!out.contains("example.com/shop.run"), "{out}");
    assert!(out.contains("example.com/shop/store.New"), "{out}");
    let out = query(
        &ix,
        &[
            "callees",
            "example.com/shop.main",
            "--exclude",
            "^example\\.com/shop\\.(run|worker)$",
        ],
    );
    assert!(
        !out.contains("shop.run") && !out.contains("shop.worker"),
        "{out}"
    );
    assert!(out.contains("shop.audit"), "{out}");
}

/// The required real-corpus trace: `(*net/http.Server).Serve` reaches a concrete
/// `ServeHTTP` through `(net/http.Handler).ServeHTTP` dispatch.
#[test]
fn std_trace_serve_to_handler_crosses_dispatch() {
    let Some(ix) = std_index() else { return };
    let v = query_json(
        &ix,
        &[
            "trace",
            "(*net/http.Server).Serve",
            "(net/http.HandlerFunc).ServeHTTP",
        ],
    );
    let paths = v["paths"].as_array().unwrap();
    assert!(!paths.is_empty());
    let edges = paths[0]["edges"].as_array().unwrap();
    let hops: Vec<(String, String)> = edges
        .iter()
        .map(|e| {
            (
                e["callee"].as_str().unwrap().to_string(),
                e["via"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        hops,
        [
            ("(*net/http.conn).serve".to_string(), "static".to_string()),
            ("(net/http.serverHandler).ServeHTTP".into(), "static".into()),
            ("(net/http.Handler).ServeHTTP".into(), "interface".into()),
            ("(net/http.HandlerFunc).ServeHTTP".into(), "dispatch".into()),
        ]
    );
    assert_eq!(edges[0]["go"], true);
    assert_eq!(edges[0]["file"], "net/http/server.go");
    // Same through ServeMux, in text.
    let out = query(
        &ix,
        &[
            "trace",
            "(*net/http.Server).Serve",
            "(*net/http.ServeMux).ServeHTTP",
        ],
    );
    assert!(
        out.contains("(net/http.Handler).ServeHTTP  interface  net/http/server.go:"),
        "{out}"
    );
    assert!(
        out.contains("(*net/http.ServeMux).ServeHTTP  dispatch"),
        "{out}"
    );
}

/// Hubs (`fmt.Println` → `(io.Writer).Write` → hundreds of writers) must not explode the
/// search: a trace with no path ends quickly with exit 1.
#[test]
fn std_trace_through_hubs_is_bounded() {
    let Some(ix) = std_index() else { return };
    let t = Instant::now();
    let out = run_q(
        &ix,
        &[
            "trace",
            "fmt.Println",
            "(*net/http.Server).Serve",
            "--max-depth",
            "8",
        ],
    );
    let took = t.elapsed();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nearest to the target"));
    assert!(took.as_secs_f64() < 10.0, "trace took {took:?}");
    let t = Instant::now();
    let v = query_json(
        &ix,
        &[
            "trace",
            "fmt.Fprintf",
            "(*bytes.Buffer).Write",
            "--max-paths",
            "20",
        ],
    );
    assert!(!v["paths"].as_array().unwrap().is_empty());
    assert!(t.elapsed().as_secs_f64() < 10.0);
}

/// On the std index `--no-std` keeps the start's own tree (`net/...`) and drops the rest.
#[test]
fn std_no_std_keeps_the_home_tree() {
    let Some(ix) = std_index() else { return };
    let out = query(&ix, &["callees", "(*net/http.Server).Serve", "--no-std"]);
    assert!(!out.contains("context.Background"), "{out}");
    assert!(!out.contains("time.Sleep"), "{out}");
    assert!(out.contains("(*net/http.conn).serve  static go"), "{out}");
    assert!(out.contains("(net.Listener).Accept  interface"), "{out}");
}
