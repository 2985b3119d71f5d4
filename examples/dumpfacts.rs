use codewalk::{facts, syntax};
fn main() {
    let qs = syntax::QuerySet::global().unwrap();
    let mut p = syntax::new_parser();
    let args: Vec<String> = std::env::args().collect();
    let bodies = args.get(2).is_some();
    let src = std::fs::read(&args[1]).unwrap();
    let t = syntax::parse(&mut p, &src).unwrap();
    let f = facts::extract(qs, &t, &src, facts::ExtractOptions { bodies });
    println!(
        "pkg={} imports={:?} build={:?} errors={}",
        f.package,
        f.imports
            .iter()
            .map(|i| (&i.alias, &i.path))
            .collect::<Vec<_>>(),
        f.build,
        f.syntax_errors
    );
    for it in &f.items {
        if bodies {
            println!("{:#?}", it);
        } else {
            println!(
                "{:?} {} {:?} recv={:?} sig={:?} doc={:?} ty={:?}",
                it.kind,
                it.name,
                it.pos,
                it.recv.as_ref().map(|r| (&r.base, r.pointer)),
                it.signature,
                it.doc.inline().lines().next(),
                it.ty
                    .as_ref()
                    .map(|t| format!("{:?}", t).chars().take(120).collect::<String>())
            );
        }
    }
}
