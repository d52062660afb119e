#!/usr/bin/env python3
"""Lists, for each component given, the host functions it imports per interface (from
`jco print`): what a host must provide to run it. Resource drops are not listed.

usage: list_imports.py JCO APP.wasm...   (writes Markdown to stdout; IMPORTS.md)"""
import re
import subprocess
import sys

jco = sys.argv[1]
for app in sys.argv[2:]:
    wat = subprocess.run([jco, "print", app], capture_output=True, text=True).stdout
    lines = wat.splitlines()
    types = {}
    cur = None
    for ln in lines:
        m = re.match(r'^  \(type \$(\S+) \(;\d+;\)\s*$', ln)
        if m:
            cur = m.group(1); types[cur] = []; continue
        if cur:
            f = re.match(r'^\s+\(export \(;\d+;\) "([^"]+)" \(func', ln)
            if f: types[cur].append(f.group(1))
            if re.match(r'^  \(', ln) and not ln.startswith('  (type $' + cur):
                cur = None
    print(f"### {app.split('/')[-1]}")
    for ln in lines:
        m = re.match(r'^  \(import "([^"]+)" \(instance \S+ \(;\d+;\) \(type \$(\S+)\)\)\)', ln)
        if m:
            print(f"- `{m.group(1)}`: " + ", ".join(types.get(m.group(2), [])))
    print()
