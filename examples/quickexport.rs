use codewalk::pipeline;
use codewalk::resolve::check::Target;
use std::sync::atomic::AtomicU64;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = std::path::Path::new(&args[1]);
    let t = std::time::Instant::now();
    let p = AtomicU64::new(0);
    let b = pipeline::build(root, &pipeline::IndexOptions::default(), &p).unwrap();
    eprintln!(
        "built in {:?}: files {} ext {} syms {} named {} types {} impls {}",
        t.elapsed(),
        b.stats.files,
        b.stats.external_files,
        b.model.syms.len(),
        b.model.named.len(),
        b.model.types.len(),
        b.impls.len()
    );
    let m = &b.model;
    let mut impls = Vec::new();
    for i in &b.impls {
        let tsym = m.named[i.ty as usize].sym;
        let f = &m.files[m.syms[tsym as usize].file as usize];
        if f.input.is_test {
            continue;
        }
        impls.push(serde_json::json!({"interface": m.named_name(i.iface), "type": m.named_name(i.ty), "pointer": i.pointer}));
    }
    std::fs::write(
        &args[2],
        serde_json::to_string(&serde_json::json!({"implementations": impls})).unwrap(),
    )
    .unwrap();
    let mut calls = Vec::new();
    let (mut st, mut it, mut dy, mut un) = (0, 0, 0, 0);
    let mut reasons = std::collections::BTreeMap::new();
    for fc in &b.calls {
        let f = &m.files[fc.file as usize];
        if f.input.is_test {
            continue;
        }
        for c in &fc.calls {
            let (callee, via) = match &c.target {
                Target::Static(s) => {
                    st += 1;
                    (m.qualified_name(*s), "static")
                }
                Target::Interface(s, _) => {
                    it += 1;
                    (m.qualified_name(*s), "interface")
                }
                Target::Dynamic(_) => {
                    dy += 1;
                    continue;
                }
                Target::Unresolved(r, _) => {
                    un += 1;
                    *reasons.entry(r.as_str()).or_insert(0) += 1;
                    continue;
                }
            };
            calls.push(serde_json::json!({"caller": m.qualified_name(c.caller), "callee": callee, "file": f.input.rel, "line": c.pos.line, "via": via}));
        }
    }
    eprintln!(
        "static {st} iface {it} dynamic {dy} unresolved {un} {:?} total {:?}",
        reasons,
        t.elapsed()
    );
    std::fs::write(
        &args[3],
        serde_json::to_string(&serde_json::json!({"calls": calls})).unwrap(),
    )
    .unwrap();
}
