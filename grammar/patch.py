#!/usr/bin/env python3
"""Applies codewalk's change to tree-sitter-go 0.25.0's grammar.json (grammar/README.md).

Usage: python3 grammar/patch.py UPSTREAM_GRAMMAR_JSON OUT_GRAMMAR_JSON
"""
import json
import sys

g = json.load(open(sys.argv[1]))
seq = g["rules"]["special_argument_list"]["members"][1]["members"][0]["members"]
if seq[0] != {"type": "SYMBOL", "name": "_type"}:
    sys.exit("patch.py: special_argument_list is not upstream's (already patched?)")
# Go 1.26 new(expr): a type wherever the text is one (new(T) parses as before), an
# expression otherwise.
seq[0] = {
    "type": "CHOICE",
    "members": [
        {"type": "PREC_DYNAMIC", "value": 1, "content": {"type": "SYMBOL", "name": "_type"}},
        {"type": "SYMBOL", "name": "_expression"},
    ],
}
json.dump(g, open(sys.argv[2], "w"), indent=2)
