//! The search query language: words plus `kind:`, `pkg:` and `file:` filters.
//!
//! `shared informer kind:interface pkg:k8s.io/client-go/...`. Words may be quoted
//! (`"shared informer"`) to keep a colon from reading as a filter. Errors carry the column.

use super::tokenizer;

/// Kinds a `kind:` filter accepts (the stored kind names).
const KINDS: &[&str] = &[
    "func",
    "method",
    "struct",
    "interface",
    "type",
    "alias",
    "var",
    "const",
    "interface method",
    "init",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindFilter(pub String);

impl KindFilter {
    /// The stored kinds this filter matches: `type` means every kind of type declaration.
    pub fn kinds(&self) -> Vec<&'static str> {
        match self.0.as_str() {
            "type" => vec!["struct", "interface", "type", "alias"],
            k => KINDS.iter().copied().filter(|x| *x == k).collect(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// The words as written (for exact and prefix name matches).
    pub words: Vec<String>,
    pub kinds: Vec<KindFilter>,
    pub pkgs: Vec<String>,
    pub files: Vec<String>,
}

impl ParsedQuery {
    /// The query's tokenizer words (lowercased identifier parts).
    pub fn terms(&self) -> Vec<String> {
        self.words
            .iter()
            .flat_map(|w| tokenizer::words(w))
            .collect()
    }
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.kinds.is_empty()
            && self.pkgs.is_empty()
            && self.files.is_empty()
    }
}

/// A query that does not parse, with the (0-based, in chars) column it points at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg}\n  {query}\n  {caret}^", caret = " ".repeat(*col))]
pub struct QuerySyntaxError {
    pub msg: String,
    pub query: String,
    pub col: usize,
}

/// Parses the words of a query (command-line arguments joined by spaces).
pub fn parse_query(text: &str) -> Result<ParsedQuery, QuerySyntaxError> {
    let err = |msg: String, byte: usize| QuerySyntaxError {
        msg,
        query: text.to_string(),
        col: text[..byte].chars().count(),
    };
    let mut q = ParsedQuery::default();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if b[i] == b'"' {
            let Some(end) = text[i + 1..].find('"') else {
                return Err(err("unterminated quote in query".into(), start));
            };
            let inner = &text[i + 1..i + 1 + end];
            q.words.extend(inner.split_whitespace().map(str::to_string));
            i += end + 2;
            continue;
        }
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let tok = &text[start..i];
        if tok.contains('"') {
            let at = start + tok.find('"').unwrap_or(0);
            return Err(err("a quote must start a word".into(), at));
        }
        let filter = tok.split_once(':').and_then(|(k, v)| {
            let k = k.to_ascii_lowercase();
            matches!(k.as_str(), "kind" | "pkg" | "file").then_some((k, v))
        });
        let Some((key, value)) = filter else {
            q.words.push(tok.to_string());
            continue;
        };
        let vstart = start + key.len() + 1;
        if value.is_empty() {
            return Err(err(format!("missing value after '{key}:'"), vstart));
        }
        match key.as_str() {
            "kind" => {
                let v = value.to_ascii_lowercase();
                let v = match v.as_str() {
                    "function" => "func".to_string(),
                    "iface" => "interface".to_string(),
                    "interface_method" | "interface-method" | "imethod" | "ifacemethod" => {
                        "interface method".to_string()
                    }
                    _ => v,
                };
                if v != "type" && !KINDS.contains(&v.as_str()) {
                    return Err(err(
                        format!(
                            "unknown kind '{value}' (expected one of func, method, struct, interface, type, alias, var, const, interface_method, init)"
                        ),
                        vstart,
                    ));
                }
                q.kinds.push(KindFilter(v));
            }
            "pkg" => q.pkgs.push(value.to_string()),
            _ => q.files.push(value.to_string()),
        }
    }
    Ok(q)
}

fn glob(p: &str, star: &str) -> String {
    let mut out = String::new();
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("...") {
            out.push_str(".*");
            rest = r;
        } else if let Some(r) = rest.strip_prefix('*') {
            out.push_str(star);
            rest = r;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push_str(&regex_syntax::escape(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// `pkg:P`: P and its sub-packages; `...` matches anything (`k8s.io/.../cache`).
pub fn pkg_regex(p: &str) -> String {
    let p = p.trim_end_matches('/');
    if let Some(base) = p.strip_suffix("/...") {
        return format!("{}(/.*)?", glob(base, "[^/]*"));
    }
    format!("{}(/.*)?", glob(p, "[^/]*"))
}

/// `file:X`: a file named X, a path ending in `/X`, or files under directory X; `*` matches
/// within a path element and `...` anything.
pub fn file_regex(p: &str) -> String {
    let p = p.trim_end_matches('/');
    format!("(.*/)?{}(/.*)?", glob(p, "[^/]*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_filters() {
        let q = parse_query("shared informer kind:interface pkg:k8s.io/client-go/...").unwrap();
        assert_eq!(q.words, ["shared", "informer"]);
        assert_eq!(q.kinds, [KindFilter("interface".into())]);
        assert_eq!(q.pkgs, ["k8s.io/client-go/..."]);
        let q = parse_query("\"TODO: fix\" file:*_test.go").unwrap();
        assert_eq!(q.words, ["TODO:", "fix"]);
        assert_eq!(q.files, ["*_test.go"]);
        // An unknown prefix is a word.
        assert_eq!(parse_query("http:get").unwrap().words, ["http:get"]);
    }

    #[test]
    fn errors_point_at_the_position() {
        let e = parse_query("foo kind:blah").unwrap_err();
        assert_eq!(e.col, 9);
        assert!(e.msg.contains("unknown kind 'blah'"), "{e}");
        assert_eq!(e.to_string().lines().last().unwrap(), "           ^");
        let e = parse_query("a \"b c").unwrap_err();
        assert_eq!(e.col, 2);
        assert!(e.msg.contains("unterminated quote"));
        let e = parse_query("pkg:").unwrap_err();
        assert_eq!(e.col, 4);
    }

    #[test]
    fn globs() {
        let re = |r: &str, s: &str| {
            regex::Regex::new(&format!("^(?:{r})$"))
                .unwrap()
                .is_match(s)
        };
        let p = pkg_regex("k8s.io/client-go/...");
        assert!(re(&p, "k8s.io/client-go"));
        assert!(re(&p, "k8s.io/client-go/tools/cache"));
        assert!(!re(&p, "k8s.io/client-gox"));
        assert!(re(
            &pkg_regex("k8s.io/.../cache"),
            "k8s.io/client-go/tools/cache"
        ));
        assert!(re(&pkg_regex("io"), "io/ioutil"));
        assert!(!re(&pkg_regex("io"), "k8s.io"));
        let f = file_regex("*_test.go");
        assert!(re(&f, "a/b/x_test.go"));
        assert!(!re(&f, "a/b/x.go"));
        assert!(re(&file_regex("tools/cache"), "tools/cache/a.go"));
        assert!(re(&file_regex("a.go"), "x/a.go"));
        assert!(!re(&file_regex("a.go"), "x/ba.go"));
    }
}
