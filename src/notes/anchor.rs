//! Anchoring a note to a declaration so it survives re-indexing, line shifts and edits.
//!
//! A note stores the qualified name, the last known file:line and a fingerprint: a hash of the
//! declaration's source with whitespace collapsed, comments dropped and the declared name
//! replaced by `_`. Checking a note against the current index gives an [`Anchor`]:
//! - the qualified name resolves → `Attached` (fingerprint equal) or `Edited` (it differs: the
//!   declaration changed since the note was written);
//! - it does not → `Orphaned`, with the symbols whose fingerprint equals the note's (the
//!   declaration was renamed or moved to another package) as candidates for `note move`.
//!
//! A note is never re-attached without the user saying so: an identical body is evidence,
//! not proof (two small functions can be identical).

use super::Note;
use crate::analysis::Index;
use crate::store::NONE;

/// Where a note's symbol is in the current index.
#[derive(Debug, Clone, PartialEq)]
pub enum Anchor {
    Attached(u32),
    Edited(u32),
    Orphaned { candidates: Vec<u32> },
}

impl Anchor {
    pub fn id(&self) -> Option<u32> {
        match self {
            Anchor::Attached(id) | Anchor::Edited(id) => Some(*id),
            Anchor::Orphaned { .. } => None,
        }
    }
    pub fn status(&self) -> &'static str {
        match self {
            Anchor::Attached(_) => "attached",
            Anchor::Edited(_) => "edited",
            Anchor::Orphaned { .. } => "orphaned",
        }
    }
}

/// Fingerprint of a declaration's source (see the module doc); 16 hex digits.
pub fn fingerprint(src: &str, name: &str) -> String {
    let norm = normalize(src, name);
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(norm.as_bytes()))
}

/// Collapses whitespace, drops `//` and `/* */` comments (outside string literals) and
/// replaces the identifier `name` by `_`.
fn normalize(src: &str, name: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut space = false;
    // Whitespace matters only between two words (`return x`), not around punctuation, so a
    // gofmt reflow or `f( x )` gives the same fingerprint.
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let push_space = |out: &mut String, space: &mut bool, next: char| {
        if *space && out.chars().next_back().is_some_and(word) && word(next) {
            out.push(' ');
        }
        *space = false;
    };
    while i < b.len() {
        let c = b[i];
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            space = true;
            continue;
        }
        if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            space = true;
            continue;
        }
        if c.is_whitespace() {
            space = true;
            i += 1;
            continue;
        }
        if c == '"' || c == '`' || c == '\'' {
            push_space(&mut out, &mut space, c);
            let q = c;
            out.push(c);
            i += 1;
            while i < b.len() && b[i] != q {
                if b[i] == '\\' && q != '`' && i + 1 < b.len() {
                    out.push(b[i]);
                    i += 1;
                }
                out.push(b[i]);
                i += 1;
            }
            if i < b.len() {
                out.push(b[i]);
                i += 1;
            }
            continue;
        }
        if word(c) {
            push_space(&mut out, &mut space, c);
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            let word: String = b[start..i].iter().collect();
            if word == name {
                out.push('_');
            } else {
                out.push_str(&word);
            }
            continue;
        }
        push_space(&mut out, &mut space, c);
        out.push(c);
        i += 1;
    }
    out
}

/// The fingerprint of a symbol in the index, or None when its source cannot be read (builtin,
/// or the file changed since it was indexed).
pub fn fingerprint_of(ix: &Index, id: u32) -> Option<String> {
    let src = ix.source(id).ok()?;
    Some(fingerprint(&src, ix.sym(id).name()))
}

/// A signature with the declared name blanked, to pre-filter rename candidates cheaply.
fn sig_shape(sig: &str, name: &str) -> String {
    normalize(sig, name)
}

/// Finds where a note's symbol is now.
pub fn locate(ix: &Index, n: &Note) -> Anchor {
    if let Some(id) = ix.id_qname(&n.symbol) {
        if n.fingerprint.is_empty() {
            return Anchor::Attached(id);
        }
        return match fingerprint_of(ix, id) {
            Some(fp) if fp != n.fingerprint => Anchor::Edited(id),
            _ => Anchor::Attached(id),
        };
    }
    Anchor::Orphaned {
        candidates: rename_candidates(ix, n),
    }
}

/// Symbols of the same kind whose declaration, name aside, is identical to the note's.
pub fn rename_candidates(ix: &Index, n: &Note) -> Vec<u32> {
    if n.fingerprint.is_empty() {
        return Vec::new();
    }
    let old_name = short(&n.symbol);
    let shape = sig_shape(&n.signature, old_name);
    let mut out = Vec::new();
    for i in 0..ix.nsyms() {
        let s = ix.sym(i as u32);
        if s.kind.as_str() != n.kind || s.file == NONE {
            continue;
        }
        if sig_shape(s.signature(), s.name()) != shape {
            continue;
        }
        if fingerprint_of(ix, i as u32).as_deref() == Some(n.fingerprint.as_str()) {
            out.push(i as u32);
        }
        if out.len() >= 5 {
            break;
        }
    }
    out
}

/// The declared name in a qualified name: `(*net/http.Server).Serve` → `Serve`.
pub fn short(qname: &str) -> &str {
    let tail = qname.rsplit('/').next().unwrap_or(qname);
    tail.rsplit('.').next().unwrap_or(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_layout_comments_and_name() {
        let a = "func Foo(x int) int {\n\treturn x + 1 // add\n}";
        let b = "func   Bar( x int ) int { /* c */ return x+\n 1 }";
        assert_eq!(fingerprint(a, "Foo"), fingerprint(b, "Bar"));
        let c = "func Foo(x int) int {\n\treturn x + 2\n}";
        assert_ne!(fingerprint(a, "Foo"), fingerprint(c, "Foo"));
        // Strings keep their spaces and comment-like text.
        assert_ne!(
            fingerprint("var s = \"a  b\"", "s"),
            fingerprint("var s = \"a b\"", "s")
        );
        assert_eq!(short("(*net/http.Server).Serve"), "Serve");
        assert_eq!(short("net/http.ListenAndServe"), "ListenAndServe");
    }
}
