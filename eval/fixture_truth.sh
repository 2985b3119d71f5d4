#!/usr/bin/env bash
# Prints go/types' answers (eval/gotruth) for one fixture under fixtures/semantics/.
#
#   bash eval/fixture_truth.sh semantics/method_sets          # implementations + calls
#   bash eval/fixture_truth.sh semantics/method_sets --raw    # the whole truth JSON
#
# The fixture root must hold a go.mod `module example.com/...`; the tree is copied to
# <tmp>/src/<module path> and checked in GOPATH mode (GO111MODULE=off), so import paths
# are the same as codewalk computes from go.mod. Test files are not type-checked by gotruth
# (go/build excludes them), and calls are for linux/amd64 only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
fx="$here/fixtures/${1:?fixture name, e.g. semantics/method_sets}"
raw=${2:-}
mod=$(awk '$1=="module"{print $2; exit}' "$fx/go.mod")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/$mod"
cp -r "$fx/." "$tmp/src/$mod/"
rm -f "$tmp/src/$mod/go.mod"
bin="$here/eval/out/gotruth"
if [ ! -x "$bin" ] || [ "$here/eval/gotruth/main.go" -nt "$bin" ]; then
  mkdir -p "$here/eval/out"
  (cd "$here/eval/gotruth" && GO111MODULE=off go build -o "$bin" .)
fi
GO111MODULE=off GOPATH="$tmp" GOFLAGS= "$bin" -mode gopath -root "$tmp/src" -prefix "$mod" -o "$tmp/truth.json" 2>"$tmp/log" || { cat "$tmp/log"; exit 1; }
if [ "$raw" = "--raw" ]; then cat "$tmp/truth.json"; exit 0; fi
python3 - "$tmp/truth.json" "$tmp/src/$mod/" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); root = sys.argv[2]
errs = [c for c in t["stats"]["configs"] if c["type_errors"]]
for c in errs:
    print("TYPE ERRORS (%s):" % c["goos"], c["type_error_packages"])
print("implementations:")
for i in t["implementations"]:
    print("  %-40s %s%s" % (i["interface"], "*" if i["pointer"] else " ", i["type"]))
print("calls (linux):")
for c in t["calls"]:
    print("  %-40s -> %-40s %s %s:%d" % (c["caller"], c["callee"] or "<dynamic>", c["kind"], c["file"].replace(root, ""), c["line"]))
PY
