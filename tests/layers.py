#!/usr/bin/env python3
"""layers.py - the include graph of src/: no circle between modules, no
arrow up across layers.

Every directory of src/ is a module and has a layer (LAYERS below, the same
table as src/README.md).  A module may include its own headers and those of
modules in lower layers; within one layer, includes between modules are
allowed as long as they form no circle.  The script prints the module graph
and each violation, then "N passed, N failed" (one check per module plus
the circle check), and exits 1 on any violation or unknown module.

Usage: python3 tests/layers.py [--dot]   (--dot: print the graph for graphviz)
"""

import os
import re
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SRC = os.path.join(REPO, "src")

# Bottom to top.  Keep in step with src/README.md ("Layers").
LAYERS = [
    ("util", 0),  # allocation, buffers, spool, log, hashes
    ("verdict", 1),  # actions, the reason table, the verdict
    ("mime", 1),  # the bounded MIME parser (a library: util only)
    ("extract", 1),  # parsers for objects inside parts (libraries: util only)
    ("policy", 2),  # the configuration key table, lists, code -> action
    ("store", 3),  # SQLite state, encrypted quarantine
    ("alert", 3),  # alert records and their delivery
    ("appliance", 3),  # settings outside Mailwarden: privileged helper, main.cf, TLS certificate
    ("scan", 4),  # the scan contract: message, environment, content tree, result
    ("av", 5),  # stages ...
    ("attach", 5),
    ("links", 5),
    ("sender", 5),
    ("auth", 5),
    ("content", 5),  # the content tree: judges what libclamav and our parsers find in parts
    ("engine", 6),  # the pipeline: stage table, engine_scan, engine_rcpt
    ("outcome", 7),  # after the verdict: quarantine, hold, retro, release
    ("ctl", 8),  # adapters: the control protocol (server and client)
    ("milter", 9),  # mailwardend
    ("console", 9),  # the serial console
    ("cli", 10),  # the mailwarden command
]
RANK = dict(LAYERS)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_graph():
    edges = {}  # module -> {module: [file, ...]}
    unknown = []
    for mod in sorted(os.listdir(SRC)):
        d = os.path.join(SRC, mod)
        if not os.path.isdir(d):
            continue
        if mod not in RANK:
            unknown.append(mod)
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(d, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for inc in INCLUDE.findall(text):
                if "/" not in inc:
                    continue  # same-directory include
                target = inc.split("/", 1)[0]
                if target == mod or not os.path.isdir(os.path.join(SRC, target)):
                    continue
                edges.setdefault(mod, {}).setdefault(target, []).append("src/%s/%s" % (mod, name))
        edges.setdefault(mod, {})
    return edges, unknown


def find_cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    edges, unknown = module_graph()
    if "--dot" in sys.argv:
        print("digraph src {")
        for m, tos in sorted(edges.items()):
            for t in sorted(tos):
                print('  "%s" -> "%s";' % (m, t))
        print("}")
        return 0
    passed = failed = 0
    for m in unknown:
        print("FAIL %s: module has no layer (add it to LAYERS in tests/layers.py and src/README.md)" % m)
        failed += 1
    for m in sorted(edges):
        if m in unknown:
            continue
        bad = []
        for t, files in sorted(edges[m].items()):
            if t in RANK and RANK[t] > RANK[m]:
                bad.append("%s (layer %d) includes %s (layer %d) in %s" % (m, RANK[m], t, RANK[t], ", ".join(files)))
        arrows = ", ".join(sorted(edges[m])) or "-"
        if bad:
            failed += 1
            for b in bad:
                print("FAIL arrow up: " + b)
        else:
            passed += 1
            print("ok   %-8s (layer %2d) -> %s" % (m, RANK[m], arrows))
    cycles = find_cycles(edges)
    if cycles:
        failed += 1
        for c in cycles:
            print("FAIL circle between modules: " + " <-> ".join(c))
    else:
        passed += 1
        print("ok   no circle between modules")
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
