//! Build constraints: `//go:build` expressions and `_GOOS`/`_GOARCH` file-name suffixes,
//! evaluated for the default configuration (linux/amd64, cgo, gc, go1.x). Used to prefer the
//! declaration a default build sees when build variants declare the same name.

const GOOS: &[&str] = &[
    "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
    "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos",
];
const GOARCH: &[&str] = &[
    "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle",
    "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv",
    "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
];

fn tag_true(tag: &str) -> bool {
    match tag {
        "linux" | "amd64" | "unix" | "cgo" | "gc" => true,
        t if t.starts_with("go1.") => true,
        _ => false,
    }
}

/// Whether a file is part of the default build (linux/amd64).
pub fn matches_default(rel: &str, build: Option<&str>) -> bool {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    let stem = file.trim_end_matches(".go").trim_end_matches("_test");
    let parts: Vec<&str> = stem.split('_').collect();
    if parts.len() >= 2 {
        let last = parts[parts.len() - 1];
        let prev = parts[parts.len() - 2];
        if GOARCH.contains(&last) {
            if last != "amd64" {
                return false;
            }
            if parts.len() >= 3 && GOOS.contains(&prev) && prev != "linux" {
                return false;
            }
        } else if GOOS.contains(&last) && last != "linux" {
            return false;
        }
    }
    match build {
        Some(expr) => eval(expr).unwrap_or(true),
        None => true,
    }
}

/// Evaluates a build expression; None when it cannot be parsed.
pub fn eval(expr: &str) -> Option<bool> {
    let toks = tokenize(expr);
    let mut p = Parser { toks, i: 0 };
    let v = p.or()?;
    (p.i == p.toks.len()).then_some(v)
}

fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' | ')' | '!' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(c.to_string());
            }
            '&' | '|' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                out.push(format!("{c}{c}"));
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

struct Parser {
    toks: Vec<String>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.i).map(|s| s.as_str())
    }
    fn or(&mut self) -> Option<bool> {
        let mut v = self.and()?;
        while self.peek() == Some("||") {
            self.i += 1;
            let r = self.and()?;
            v = v || r;
        }
        Some(v)
    }
    fn and(&mut self) -> Option<bool> {
        let mut v = self.not()?;
        while self.peek() == Some("&&") {
            self.i += 1;
            let r = self.not()?;
            v = v && r;
        }
        Some(v)
    }
    fn not(&mut self) -> Option<bool> {
        match self.peek()? {
            "!" => {
                self.i += 1;
                Some(!self.not()?)
            }
            "(" => {
                self.i += 1;
                let v = self.or()?;
                if self.peek() != Some(")") {
                    return None;
                }
                self.i += 1;
                Some(v)
            }
            ")" | "&&" | "||" => None,
            t => {
                let v = tag_true(t);
                self.i += 1;
                Some(v)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert_eq!(eval("linux && amd64"), Some(true));
        assert_eq!(eval("windows"), Some(false));
        assert_eq!(eval("!go1.18"), Some(false));
        assert_eq!(eval("boringcrypto && linux"), Some(false));
        assert_eq!(eval("!boringcrypto"), Some(true));
        assert_eq!(eval("(darwin || linux) && !purego"), Some(true));
        assert_eq!(eval("ignore"), Some(false));
        assert_eq!(eval("linux &&"), None);
    }

    #[test]
    fn file_names() {
        assert!(matches_default("os/file_linux.go", None));
        assert!(!matches_default("os/file_windows.go", None));
        assert!(!matches_default("x/sys_linux_arm64.go", None));
        assert!(matches_default("x/sys_linux_amd64.go", None));
        assert!(!matches_default("x/asm_386.go", None));
        assert!(matches_default("x/my_test.go", None));
        assert!(!matches_default("x/file_windows_test.go", None));
        assert!(matches_default("x/linux.go", None));
    }
}
