#!/usr/bin/env bash
# Accuracy evaluation: codewalk vs. the Go type checker.
#
#   bash eval/run.sh [std|gopath|all] [--fresh] [--no-index]
#
#   --fresh     regenerate the go/types truth even if eval/out/truth-*.json exists
#   --no-index  reuse an existing eval/out/index-* instead of running `codewalk index`
#
# Environment:
#   CODEWALK    codewalk binary (default target/release/codewalk)
#   GOSTD       Go std source root (default /usr/share/go-1.19/src)
#   GOPATH_SRC  GOPATH src root  (default /usr/share/gocode/src)
#   PREFIXES    in-scope import path prefixes for the gopath corpus
#   GOOS_LIST   GOOS union for implementations truth (default linux,darwin,windows)
#   DOC         markdown file to update (default docs/accuracy.md)
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
OUT="$REPO/eval/out"
CODEWALK=${CODEWALK:-target/release/codewalk}
GOSTD=${GOSTD:-/usr/share/go-1.19/src}
GOPATH_SRC=${GOPATH_SRC:-/usr/share/gocode/src}
PREFIXES=${PREFIXES:-github.com/docker/docker,go.etcd.io/etcd,github.com/containerd/containerd,google.golang.org/grpc}
GOOS_LIST=${GOOS_LIST:-linux,darwin,windows}
DOC=${DOC:-docs/accuracy.md}

target=all
fresh=0
noindex=0
for a in "$@"; do
  case "$a" in
    std|gopath|all) target=$a ;;
    --fresh) fresh=1 ;;
    --no-index) noindex=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument: $a" >&2; exit 2 ;;
  esac
done

mkdir -p "$OUT"
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

echo "== building gotruth" >&2
(cd eval/gotruth && GO111MODULE=off GOFLAGS= go build -o "$OUT/gotruth" .)

if [[ "$CODEWALK" != /* ]]; then CODEWALK="$REPO/$CODEWALK"; fi
if [[ ! -x "$CODEWALK" ]]; then
  echo "run.sh: codewalk binary not found at $CODEWALK (cargo build --release, or set CODEWALK=...)" >&2
  exit 1
fi

run_corpus() {
  local name=$1 root=$2 title=$3
  shift 3
  local truth="$OUT/truth-$name.json"
  local index="$OUT/index-$name"

  if [[ $fresh == 1 || ! -s "$truth" ]]; then
    echo "== [$name] generating go/types truth -> $truth" >&2
    local t0; t0=$(now)
    GO111MODULE=off "$OUT/gotruth" "$@" -root "$root" -goos "$GOOS_LIST" -o "$truth" 2> "$OUT/gotruth-$name.log" \
      || { cat "$OUT/gotruth-$name.log" >&2; return 1; }
    tail -n 2 "$OUT/gotruth-$name.log" >&2
    echo "   truth took $(elapsed "$t0" "$(now)")s" >&2
  else
    echo "== [$name] using cached truth $truth (--fresh to regenerate)" >&2
  fi

  local idx_note="index reused"
  if [[ $noindex == 0 || ! -d "$index" ]]; then
    echo "== [$name] codewalk index $root" >&2
    local t0; t0=$(now)
    "$CODEWALK" index "$root" --index-dir "$index" >&2
    local secs; secs=$(elapsed "$t0" "$(now)")
    idx_note="codewalk index: ${secs}s"
    echo "   $idx_note" >&2
  fi

  echo "== [$name] codewalk exports" >&2
  local t1; t1=$(now)
  "$CODEWALK" --index-dir "$index" --no-tests export implementations --json > "$OUT/codewalk-impls-$name.json"
  "$CODEWALK" --index-dir "$index" --no-tests export calls --json > "$OUT/codewalk-calls-$name.json"
  local exp_note="exports: $(elapsed "$t1" "$(now)")s"

  echo "== [$name] scoring" >&2
  local prefix_args=()
  if [[ $name == gopath ]]; then prefix_args=(--prefix "$PREFIXES"); fi
  python3 eval/score.py --truth "$truth" \
    --codewalk-impls "$OUT/codewalk-impls-$name.json" \
    --codewalk-calls "$OUT/codewalk-calls-$name.json" \
    --root "$root" "${prefix_args[@]}" \
    --label "$name" --title "$title" \
    --note "codewalk: $("$CODEWALK" --version 2>/dev/null || echo "$CODEWALK"); $idx_note; $exp_note" \
    --json "$OUT/score-$name.json" \
    --update-doc "$DOC" \
    --verbose > "$OUT/score-$name.txt"
  # summary table to the terminal; diagnostics stay in the .txt file
  sed -n '/^== /,$p' "$OUT/score-$name.txt"
  echo "   diagnostics (top FP/FN): $OUT/score-$name.txt" >&2
}

if [[ $target == std || $target == all ]]; then
  run_corpus std "$GOSTD" "Go standard library (GOROOT/src, incl. cmd/)" -mode std
fi
if [[ $target == gopath || $target == all ]]; then
  run_corpus gopath "$GOPATH_SRC" "GOPATH tree: docker, etcd, containerd, grpc" -mode gopath -prefix "$PREFIXES"
fi
echo "== updated $DOC" >&2
