//! Build constraints: `//go:build` expressions and `_GOOS`/`_GOARCH` file-name suffixes,
//! evaluated for the default configuration (linux/amd64, cgo, gc, go1.x). Used to prefer the
//! declaration a default build sees when build variants declare the same name.

const GOOS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];
const GOARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// A build configuration: operating system and architecture, with cgo, gc and any go1.x.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub goos: &'static str,
    pub goarch: &'static str,
}

pub const DEFAULT: Config = Config {
    goos: "linux",
    goarch: "amd64",
};

/// The configurations whose union codewalk calls "built": a declaration only in files none of
/// them builds (e.g. `boringcrypto`, `ignore`, an old `!go1.18` variant) is labelled as such.
pub const COMMON: &[Config] = &[
    DEFAULT,
    Config {
        goos: "darwin",
        goarch: "amd64",
    },
    Config {
        goos: "windows",
        goarch: "amd64",
    },
];

fn tag_true(tag: &str, c: Config) -> bool {
    match tag {
        "cgo" | "gc" => true,
        "unix" => c.goos != "windows" && c.goos != "plan9",
        t if t.starts_with("go1.") => true,
        t => t == c.goos || t == c.goarch,
    }
}

/// Whether a file is part of the default build (linux/amd64).
pub fn matches_default(rel: &str, build: Option<&str>) -> bool {
    matches(rel, build, DEFAULT)
}

/// Whether any of the common configurations builds the file.
pub fn matches_common(rel: &str, build: Option<&str>) -> bool {
    COMMON.iter().any(|&c| matches(rel, build, c))
}

/// Whether a file is part of the build for configuration `c`.
pub fn matches(rel: &str, build: Option<&str>, c: Config) -> bool {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    let stem = file.trim_end_matches(".go").trim_end_matches("_test");
    let parts: Vec<&str> = stem.split('_').collect();
    if parts.len() >= 2 {
        let last = parts[parts.len() - 1];
        let prev = parts[parts.len() - 2];
        if GOARCH.contains(&last) {
            if last != c.goarch {
                return false;
            }
            if parts.len() >= 3 && GOOS.contains(&prev) && prev != c.goos {
                return false;
            }
        } else if GOOS.contains(&last) && last != c.goos && !(last == "unix" && c.goos != "windows")
        {
            return false;
        }
    }
    match build {
        Some(expr) => eval_in(expr, c).unwrap_or(true),
        None => true,
    }
}

/// Evaluates a build expression for the default configuration; None when it cannot be parsed.
pub fn eval(expr: &str) -> Option<bool> {
    eval_in(expr, DEFAULT)
}

pub fn eval_in(expr: &str, c: Config) -> Option<bool> {
    let toks = tokenize(expr);
    let mut p = Parser { toks, i: 0, c };
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
    c: Config,
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
                let v = tag_true(t, self.c);
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
        assert!(matches_common("os/file_windows.go", None));
        assert!(!matches_common(
            "x/boring.go",
            Some("boringcrypto && linux")
        ));
        assert!(!matches_common("x/old.go", Some("!go1.18")));
    }
}
