//! The code-aware tokenizer: identifiers are split into their words, lowercased.
//!
//! `NewSharedIndexInformer` → new/shared/index/informer, `HTTPServer` → http/server,
//! `snake_case` → snake/case, `k8s.io/client-go` → k8s/io/client/go. Digits stay attached
//! to the word they follow (`utf8`, `base64`, `v1beta1`). Registered in tantivy under
//! [`CODE`] (words only: queries, code bodies, qualified names) and [`CODE_NAME`] (words plus
//! the whole identifier, for symbol names).

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Tokenizer name: words only.
pub const CODE: &str = "code";
/// Tokenizer name: words plus the whole lowercased identifier when it has several words.
pub const CODE_NAME: &str = "code_name";
/// Tokenizer name: [`CODE`] with English plurals reduced (doc comments); see [`stem`].
pub const CODE_STEM: &str = "code_stem";
/// Tokenizer name: the whole text lowercased as one token (exact and prefix name matches).
pub const RAW_LC: &str = "raw_lc";

/// Longest token kept (longer runs are hex blobs and the like).
const MAX_TOKEN: usize = 64;

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Appends the byte spans of the words of `text` (and of each whole multi-word identifier
/// when `whole` is set) to `out`.
pub fn spans(text: &str, whole: bool, out: &mut Vec<(usize, usize)>) {
    if text.is_ascii() {
        return ascii_spans(text.as_bytes(), whole, out);
    }
    let mut it = text.char_indices().peekable();
    loop {
        // Skip to the next identifier.
        while it.peek().is_some_and(|&(_, c)| !is_ident(c)) {
            it.next();
        }
        let Some(&(start, _)) = it.peek() else {
            return;
        };
        let first = out.len();
        let mut part: Option<usize> = None;
        let mut prev = '_';
        let mut end = start;
        let push = |a: usize, b: usize, out: &mut Vec<(usize, usize)>| {
            if b > a && b - a <= MAX_TOKEN {
                out.push((a, b));
            }
        };
        while let Some(&(i, c)) = it.peek() {
            if !is_ident(c) {
                break;
            }
            it.next();
            end = i + c.len_utf8();
            if c == '_' {
                if let Some(a) = part.take() {
                    push(a, i, out);
                }
            } else if let Some(a) = part {
                if c.is_uppercase()
                    && (prev.is_lowercase()
                        || prev.is_numeric()
                        || (prev.is_uppercase()
                            && it.peek().is_some_and(|&(_, n)| n.is_lowercase())))
                {
                    // fooBar | HTTPServer (before the last capital of a run) | v2Beta
                    push(a, i, out);
                    part = Some(i);
                }
            } else {
                part = Some(i);
            }
            prev = c;
        }
        if let Some(a) = part {
            push(a, end, out);
        }
        if whole && out.len() - first > 1 && end - start <= MAX_TOKEN {
            out.push((start, end));
        }
    }
}

/// [`spans`] for ASCII text (most source code), on bytes.
fn ascii_spans(b: &[u8], whole: bool, out: &mut Vec<(usize, usize)>) {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let push = |a: usize, e: usize, out: &mut Vec<(usize, usize)>| {
        if e > a && e - a <= MAX_TOKEN {
            out.push((a, e));
        }
    };
    let mut i = 0;
    let n = b.len();
    while i < n {
        if !ident(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let first = out.len();
        let mut part: Option<usize> = None;
        let mut prev = b'_';
        while i < n && ident(b[i]) {
            let c = b[i];
            if c == b'_' {
                if let Some(a) = part.take() {
                    push(a, i, out);
                }
            } else if let Some(a) = part {
                if c.is_ascii_uppercase()
                    && (prev.is_ascii_lowercase()
                        || prev.is_ascii_digit()
                        || (prev.is_ascii_uppercase()
                            && i + 1 < n
                            && b[i + 1].is_ascii_lowercase()))
                {
                    push(a, i, out);
                    part = Some(i);
                }
            } else {
                part = Some(i);
            }
            prev = c;
            i += 1;
        }
        if let Some(a) = part {
            push(a, i, out);
        }
        if whole && out.len() - first > 1 && i - start <= MAX_TOKEN {
            out.push((start, i));
        }
    }
}

fn lower_into(w: &str, buf: &mut String) {
    buf.clear();
    if w.is_ascii() {
        buf.push_str(w);
        buf.make_ascii_lowercase();
    } else {
        buf.extend(w.chars().flat_map(char::to_lowercase));
    }
}

/// Calls `f(word, from, to)` for each lowercased word of `text`, and for the whole identifier
/// too when `whole` is set and it has more than one word.
pub fn split_words(text: &str, whole: bool, mut f: impl FnMut(&str, usize, usize)) {
    let mut v = Vec::new();
    spans(text, whole, &mut v);
    let mut buf = String::new();
    for (a, b) in v {
        lower_into(&text[a..b], &mut buf);
        f(&buf, a, b);
    }
}

/// The words of `text` as a vector (queries and tests).
pub fn words(text: &str) -> Vec<String> {
    let mut v = Vec::new();
    split_words(text, false, |w, _, _| v.push(w.to_string()));
    v
}

/// The tantivy tokenizer over [`spans`].
#[derive(Clone, Default)]
pub struct CodeTokenizer {
    pub whole: bool,
    pub stem: bool,
    spans: Vec<(usize, usize)>,
    token: Token,
}

impl CodeTokenizer {
    pub fn new(whole: bool) -> CodeTokenizer {
        CodeTokenizer {
            whole,
            ..CodeTokenizer::default()
        }
    }
}

pub struct CodeTokenStream<'a> {
    stem: bool,
    text: &'a str,
    spans: &'a [(usize, usize)],
    token: &'a mut Token,
    next: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        self.spans.clear();
        spans(text, self.whole, &mut self.spans);
        self.token.reset();
        CodeTokenStream {
            stem: self.stem,
            text,
            spans: &self.spans,
            token: &mut self.token,
            next: 0,
        }
    }
}

impl TokenStream for CodeTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(&(a, b)) = self.spans.get(self.next) else {
            return false;
        };
        self.next += 1;
        self.token.position = self.next - 1;
        self.token.offset_from = a;
        self.token.offset_to = b;
        lower_into(&self.text[a..b], &mut self.token.text);
        if self.stem {
            stem_in_place(&mut self.token.text);
        }
        true
    }
    fn token(&self) -> &Token {
        self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Registers every tokenizer the search schema names.
pub fn register(index: &tantivy::Index) {
    use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};
    let m = index.tokenizers();
    m.register(CODE, TextAnalyzer::from(CodeTokenizer::new(false)));
    m.register(CODE_NAME, TextAnalyzer::from(CodeTokenizer::new(true)));
    m.register(
        CODE_STEM,
        TextAnalyzer::from(CodeTokenizer {
            stem: true,
            ..CodeTokenizer::default()
        }),
    );
    m.register(
        RAW_LC,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
}

/// A minimal English stemmer for plurals (as Lucene's EnglishMinimalStemmer): `queries` →
/// `query`, `informers` → `informer`, `resyncs` → `resync`; `status`, `class`, `goes`,
/// `analysis` stay. Full stemmers cost more at index time and conflate too much for code
/// words (`information` with `informer`).
fn stem_in_place(w: &mut String) {
    let b = w.as_bytes();
    let n = b.len();
    if n < 3 || b[n - 1] != b's' {
        return;
    }
    match b[n - 2] {
        b'u' | b's' | b'i' => {}
        b'e' => {
            if n > 3 && b[n - 3] == b'i' && b[n - 4] != b'a' && b[n - 4] != b'e' {
                w.truncate(n - 3);
                w.push('y');
            } else if !matches!(b[n - 3], b'i' | b'a' | b'o' | b'e') {
                w.truncate(n - 1);
            }
        }
        _ => w.truncate(n - 1),
    }
}

/// Stems a (lowercased) word as the doc field's analyzer does.
pub fn stem(word: &str) -> String {
    let mut w = word.to_string();
    stem_in_place(&mut w);
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(t: &str) -> Vec<String> {
        let mut v = Vec::new();
        split_words(t, true, |w, _, _| v.push(w.to_string()));
        v
    }

    #[test]
    fn splits_identifiers() {
        assert_eq!(
            words("NewSharedIndexInformer"),
            ["new", "shared", "index", "informer"]
        );
        assert_eq!(words("HTTPServer"), ["http", "server"]);
        assert_eq!(words("snake_case_name"), ["snake", "case", "name"]);
        assert_eq!(
            words("k8s.io/client-go/tools/cache"),
            ["k8s", "io", "client", "go", "tools", "cache"]
        );
        assert_eq!(words("utf8.DecodeRune"), ["utf8", "decode", "rune"]);
        assert_eq!(words("v1beta1Client"), ["v1beta1", "client"]);
        assert_eq!(words("parseHTTP2Frame"), ["parse", "http2", "frame"]);
        assert_eq!(words("ID"), ["id"]);
        assert_eq!(words("userID"), ["user", "id"]);
        assert_eq!(words("__init__"), ["init"]);
        assert_eq!(
            words("(*sharedIndexInformer).Run"),
            ["shared", "index", "informer", "run"]
        );
        assert_eq!(words("Größe ändern"), ["größe", "ändern"]);
        assert!(words("  ,; ").is_empty());
    }

    #[test]
    fn whole_identifier_for_names() {
        assert_eq!(whole("HTTPServer"), ["http", "server", "httpserver"]);
        assert_eq!(whole("Run"), ["run"]);
    }

    #[test]
    fn token_offsets() {
        let mut v = Vec::new();
        split_words("a.fooBar", false, |w, a, b| v.push((w.to_string(), a, b)));
        assert_eq!(
            v,
            [
                ("a".to_string(), 0, 1),
                ("foo".to_string(), 2, 5),
                ("bar".to_string(), 5, 8)
            ]
        );
    }

    #[test]
    fn stems_doc_words() {
        assert_eq!(stem("resyncs"), stem("resync"));
        assert_eq!(stem("informers"), "informer");
        assert_eq!(stem("queries"), "query");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("class"), "class");
        assert_eq!(stem("analysis"), "analysis");
    }
}
