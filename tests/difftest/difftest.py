#!/usr/bin/python3
"""difftest.py - differential test of `mailwarden scan` against tools we
did not write (issue 14, "hunt for the next one").

The one rule: whenever an oracle sees the payload -
  clamscan:raw    clamscan (same signature directory) flags the raw message
  clamscan:part   clamscan flags the decoded attachment ("the part")
  7z              7-Zip, unpacking the part recursively, yields the marker,
                  EICAR or an executable (MZ/ELF content or a dangerous name)
  bsdtar          the same with bsdtar (and bsdcat for lone compressed
                  streams)
- `mailwarden scan --sigs SIGS FILE` must answer quarantine, reject or
tempfail: never accept, tag or hold.  A scan that prints no verdict is a
finding whatever the oracles say (class "crash").

Cases come from gen.py: case I of seed S is always the same recipe; a
recipe always builds the same message.  Usage:

  difftest.py --slice [--cases N]        PINNED + N random cases, one test
                                          each: prints "N passed, N failed"
  difftest.py --cases 20000 --seconds 3600 --results RESULTS.md
                                          the long run (make difftest)
  difftest.py --seed S --case I           one case again, verbose
  difftest.py --recipe 'marker+pre=zero512 / gz / mime.b64'
  difftest.py --recipe R --write DIR      also keep message and part in DIR

Oracles run lazily: 7z and bsdtar are only asked when our verdict is weak
(accept, tag or hold), since a strong verdict satisfies the rule whatever
they say (--all-oracles asks them always, for statistics).  clamscan runs
once per batch over every generated file.  A finding is shrunk (layers,
mangles, padding and MIME tricks removed one at a time while it stays a
finding) to a minimal recipe: its class.

Exit status: 0 when no finding (slice: every case passed), 1 otherwise,
2 on a usage or setup error.
"""

import argparse
import collections
import concurrent.futures
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import gen  # noqa: E402

WEAK = ("accept", "tag", "hold")
EXEC_EXT = (".exe", ".com", ".scr", ".pif", ".bat", ".cmd", ".js", ".vbs", ".dll", ".lnk", ".hta", ".ps1",
            ".msi", ".jar")
MAX_DEPTH = 6  # recursive unpacking by the oracles

# clamscan with what src/av/av.c sets (scan_options, set_limits with the
# default [limits]): every parser on, heuristics on, the same alerts and
# limits.  clamscan cannot take libclamav's fmap-from-memory path; it
# reads the files we write.
CLAMSCAN_OPTS = [
    "--no-summary", "--stdout", "--heuristic-alerts=yes", "--alert-broken=yes", "--alert-exceeds-max=yes",
    "--alert-macros=yes", "--alert-encrypted-archive=yes", "--alert-encrypted-doc=yes",
    "--alert-phishing-ssl=yes", "--alert-phishing-cloak=yes", "--scan-archive=yes", "--scan-mail=yes",
    "--scan-pe=yes", "--scan-elf=yes", "--scan-ole2=yes", "--scan-pdf=yes", "--scan-html=yes",
    "--scan-xmldocs=yes", "--scan-hwp3=yes", "--max-scansize=400M", "--max-filesize=100M",
    "--max-recursion=17", "--max-files=10000", "--max-scantime=60000",
]

# ---------------------------------------------------------------- counting

_count_lock = threading.Lock()
EXECS = collections.Counter()


def counted_run(argv, **kw):
    with _count_lock:
        EXECS[os.path.basename(argv[0])] += 1
    return subprocess.run(argv, **kw)


_gen_run_tool = gen.run_tool


def _counting_run_tool(argv, cwd, stdin=None):
    with _count_lock:
        EXECS["gen:" + os.path.basename(argv[0])] += 1
    return _gen_run_tool(argv, cwd, stdin)


gen.run_tool = _counting_run_tool


# ---------------------------------------------------------------- context

class Ctx:
    def __init__(self, args):
        self.mw = os.path.abspath(args.mailwarden)
        self.sigs = os.path.abspath(args.sigs)
        self.work = tempfile.mkdtemp(prefix="mw-difftest-")
        self.tmp = os.path.join(self.work, "tmp")
        os.makedirs(self.tmp)
        self.conf = os.path.join(self.work, "mailwarden.conf")
        lists = os.path.join(REPO, "data", "lists")
        with open(self.conf, "w") as f:
            f.write("[paths]\nlists = %s\ntmp = %s\n" % (lists, self.tmp))
        self.all_oracles = args.all_oracles
        self.seed = args.seed
        self.memo = {}

    def close(self, keep=False):
        if keep:
            print("work directory kept: %s" % self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)


# ---------------------------------------------------------------- oracles

def mailwarden_scan(ctx, path):
    p = counted_run([ctx.mw, "scan", "--config", ctx.conf, "--sigs", ctx.sigs, path],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    try:
        v = json.loads(p.stdout.decode(errors="replace"))
        if not isinstance(v, dict) or "action" not in v:
            raise ValueError
    except ValueError:
        return {"action": None, "exit": p.returncode, "stderr": p.stderr.decode(errors="replace")[-400:]}
    return v


def clamscan_batch(ctx, paths):
    """{path: signature name or None}; one clamscan for all paths."""
    if not paths:
        return {}
    lst = os.path.join(ctx.work, "clamscan.list")
    with open(lst, "w") as f:
        f.write("".join(p + "\n" for p in paths))
    p = counted_run(["clamscan", "--database=" + ctx.sigs, "--tempdir=" + ctx.tmp] + CLAMSCAN_OPTS + ["-f", lst],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    out = {}
    for line in p.stdout.decode(errors="replace").splitlines():
        path, sep, rest = line.rpartition(": ")
        if not sep or path not in paths:
            continue
        if rest.endswith(" FOUND"):
            out[path] = rest[:-6]
        elif rest == "OK":
            out.setdefault(path, None)
    return out


CONTAINER_MAGIC = [
    (0, b"\x1f\x8b"), (0, b"BZh"), (0, b"\xfd7zXZ\0"), (0, b"7z\xbc\xaf\x27\x1c"), (0, b"PK"), (0, b"Rar!"),
    (2, b"-lh"), (0, b"MSCF"), (257, b"ustar"), (0, b"0707"), (0, b"\xc7\x71"), (0, b"\x1f\x9d"),
    (0, b"\x28\xb5\x2f\xfd"), (0, b"LZIP"), (32769, b"CD001"), (0, b"\x60\xea"), (0, b"\x5d\0\0"),
    (0, b"!<arch>"), (0, b"xar!"), (0, b"\x04\x22\x4d\x18"), (0, b"\x89LZO"), (0, b"WARC/"),
]


def looks_container(data):
    if any(data[o:o + len(m)] == m for o, m in CONTAINER_MAGIC):
        return True
    # padded streams (the zero512 recipes) and archives after junk
    return any(m in data[:8192] for m in (b"\x1f\x8b\x08", b"PK\x03\x04", b"BZh91", b"\xfd7zXZ"))


def judge_bytes(name, data):
    found = set()
    if gen.marker() in data:
        found.add("marker")
    if gen.eicar() in data:
        found.add("eicar")
    if data[:2] == b"MZ" or data[:4] == b"\x7fELF" or name.lower().endswith(EXEC_EXT):
        found.add("exe")
    return found


def unpack(tool, path, outdir):
    """One level: the files tool gets out of path (rc ignored: a partial
    extraction with errors still counts)."""
    os.makedirs(outdir)
    if tool == "7z":
        counted_run(["7z", "x", "-y", "-bso0", "-bse0", "-bsp0", "-pwrong-password", "-o" + outdir, path],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    else:
        counted_run(["bsdtar", "-x", "-f", path, "-C", outdir], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, timeout=120)
    files = []
    for root, _, names in os.walk(outdir):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                files.append(p)
    if not files and tool == "bsdtar":  # a lone compressed stream: bsdcat
        out = os.path.join(outdir, "stream")
        with open(out, "wb") as f:
            counted_run(["bsdcat", path], stdout=f, stderr=subprocess.DEVNULL, timeout=120)
        with open(out, "rb") as f1, open(path, "rb") as f2:
            same = f1.read() == f2.read()
        if os.path.getsize(out) > 0 and not same:
            files.append(out)
    return files


def extraction_oracle(tool, path, workdir):
    """What tool finds inside the part, recursively: {marker, eicar, exe}."""
    found = set()
    base = tempfile.mkdtemp(prefix=tool + "-", dir=workdir)
    try:
        todo, n = [(path, 0)], 0
        while todo:
            p, depth = todo.pop()
            if depth >= MAX_DEPTH:
                continue
            n += 1
            for f in unpack(tool, p, os.path.join(base, str(n))):
                with open(f, "rb") as fh:
                    data = fh.read(64 << 20)
                found |= judge_bytes(os.path.basename(f), data)
                if looks_container(data):
                    todo.append((f, depth + 1))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return found


# ---------------------------------------------------------------- cases

class Case:
    def __init__(self, ident, recipe):
        self.id, self.recipe = ident, recipe
        self.error = None
        self.verdict = None
        self.oracles = {}  # name -> what it found (signature name or sorted list)
        self.cls = None

    @property
    def action(self):
        return self.verdict.get("action") if self.verdict else None

    @property
    def crashed(self):
        return self.verdict is not None and self.verdict.get("action") is None

    @property
    def weak(self):
        return self.action in WEAK

    @property
    def positive(self):
        return bool(self.oracles)

    @property
    def finding(self):
        return self.error is None and (self.crashed or (self.weak and self.positive))

    def record(self):
        return {"case": self.id, "recipe": self.recipe, "class": self.cls,
                "oracles": self.oracles, "verdict": self.verdict}


def recipe_for(seed, i):
    import random
    return gen.random_recipe(random.Random("%s:%d" % (seed, i)))


def evaluate(ctx, cases, batchdir):
    """Build, scan, ask the oracles; fills every Case in place."""
    os.makedirs(batchdir, exist_ok=True)

    def build_and_scan(c):
        try:
            name, part, raw = gen.build(c.recipe, batchdir, c.id.replace(":", "-"))
        except (gen.GenError, subprocess.TimeoutExpired, OSError, ValueError) as e:
            c.error = str(e)
            return
        stemname = os.path.join(batchdir, c.id.replace(":", "-").replace("/", "_"))
        c.eml, c.part = stemname + ".eml", stemname + ".part"
        with open(c.eml, "wb") as f:
            f.write(raw)
        with open(c.part, "wb") as f:
            f.write(part)
        c.verdict = mailwarden_scan(ctx, c.eml)

    with concurrent.futures.ThreadPoolExecutor(ctx.jobs) as ex:
        list(ex.map(build_and_scan, cases))
    built = [c for c in cases if c.error is None]
    cs = clamscan_batch(ctx, [p for c in built for p in (c.eml, c.part)])
    for c in built:
        if cs.get(c.eml):
            c.oracles["clamscan:raw"] = cs[c.eml]
        if cs.get(c.part):
            c.oracles["clamscan:part"] = cs[c.part]

    def ask(c):
        # a strong verdict meets the rule whatever they say; a weak one
        # that clamscan flagged is a finding already
        if not (ctx.all_oracles or (c.weak and not c.oracles)):
            return
        for tool in ("7z", "bsdtar"):
            f = extraction_oracle(tool, c.part, batchdir)
            if f:
                c.oracles[tool] = sorted(f)

    with concurrent.futures.ThreadPoolExecutor(ctx.jobs) as ex:
        list(ex.map(ask, built))


def is_finding(ctx, recipe):
    """Shrinking step: is this recipe a finding on its own?"""
    if recipe in ctx.memo:
        return ctx.memo[recipe]
    c = Case("shrink-%d" % len(ctx.memo), recipe)
    d = tempfile.mkdtemp(prefix="shrink-", dir=ctx.work)
    try:
        evaluate(ctx, [c], d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    ctx.memo[recipe] = c.finding and not c.crashed
    return ctx.memo[recipe]


def candidates(recipe):
    """Smaller recipes: one layer, mod or trick less."""
    toks = gen.parse(recipe)
    out = []
    for i in range(1, len(toks) - 1):  # drop a layer
        out.append(toks[:i] + toks[i + 1:])
    for i in range(1, len(toks) - 1):  # the layer's default variant
        if toks[i].variant is not None:
            out.append(toks[:i] + [gen.Token(toks[i].kind, None, toks[i].mods)] + toks[i + 1:])
    for i, t in enumerate(toks):  # drop a mod
        for j in range(len(t.mods)):
            nt = gen.Token(t.kind, t.variant, t.mods[:j] + t.mods[j + 1:])
            out.append(toks[:i] + [nt] + toks[i + 1:])
    if toks[-1].variant not in (None, "b64"):
        out.append(toks[:-1] + [gen.Token("mime", "b64")])
    if toks[0].kind != "marker":
        out.append([gen.Token("marker", None, toks[0].mods)] + toks[1:])
    return [gen.unparse(t) for t in out]


SHRINK_PER_FINDING = 30


def shrink(ctx, recipe, budget):
    """Greedy: take the first smaller recipe that is still a finding, until
    none is (or the budget, global and per finding, is spent)."""
    cur, mine = recipe, SHRINK_PER_FINDING
    while budget[0] > 0 and mine > 0:
        for cand in candidates(cur):
            budget[0] -= 1
            mine -= 1
            if is_finding(ctx, cand):
                cur = cand
                break
            if budget[0] <= 0 or mine <= 0:
                break
        else:
            break
    return cur


def class_of(recipe):
    """A minimal recipe without its payload kind: what broke."""
    toks = gen.parse(recipe)
    pre = ["+".join("%s=%s" % (k, v) if v else k for k, v in toks[0].mods)] if toks[0].mods else []
    mime = [] if toks[-1].variant in (None, "b64") else [str(toks[-1])]
    return " / ".join(pre + [str(t) for t in toks[1:-1]] + mime) or "(plain attachment)"


def token_covers(small, big):
    """A minimal recipe's token covers a recipe's token: same kind, the
    same variant unless the minimal one has the default, its mods a subset."""
    return (small.kind == big.kind and (small.variant is None or small.variant == big.variant) and
            all(m in big.mods for m in small.mods))


def subsequence(small, big):
    it = iter(big)
    return all(any(token_covers(s, b) for b in it) for s in small)


def classify(ctx, c, known, budget):
    if c.crashed:
        c.cls = "crash"
        return
    toks = gen.parse(c.recipe)
    for minimal in known:
        mt = gen.parse(minimal)
        if mt[-1].variant in (None, "b64"):
            mt = mt[:-1]  # plain base64: any MIME form shows it
        pre = [m for m in mt[0].mods if m[0] == "pre"]
        if all(m in toks[0].mods for m in pre) and subsequence(mt[1:], toks[1:]):
            c.cls = class_of(minimal)
            return
    if budget[0] is None:  # no shrinking asked for (the slice): the recipe is the class
        c.cls = class_of(c.recipe)
    elif budget[0] > 0:
        minimal = shrink(ctx, c.recipe, budget)
        known.append(minimal)
        c.cls = class_of(minimal)
        c.minimal = minimal
    else:
        c.cls = "unshrunk: " + class_of(c.recipe)


# ---------------------------------------------------------------- modes

def summary_lines(findings, reproducer):
    by = collections.Counter(f.cls for f in findings)
    lines = []
    for cls, n in by.most_common():
        lines.append((cls, n, reproducer.get(cls)))
    return lines


def run_cases(ctx, cases, batch, progress=None, deadline=None):
    done = []
    for i in range(0, len(cases), batch):
        if deadline and time.time() > deadline:
            break
        chunk = cases[i:i + batch]
        d = os.path.join(ctx.work, "batch")
        evaluate(ctx, chunk, d)
        shutil.rmtree(d, ignore_errors=True)
        done += chunk
        if progress:
            progress(done)
    return done


def verbose_case(c):
    print("case %s" % c.id)
    print("  recipe:  %s" % c.recipe)
    if c.error:
        print("  not built: %s" % c.error)
        return
    print("  verdict: %s  %s" % (c.action, ", ".join(r["code"] for r in c.verdict.get("reasons", []))))
    print("  oracles: %s" % (json.dumps(c.oracles) if c.oracles else "none flagged it"))
    print("  => %s" % ("FINDING" if c.finding else "ok"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", default="1")
    ap.add_argument("--cases", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--case", type=int, default=None)
    ap.add_argument("--recipe", default=None)
    ap.add_argument("--slice", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--mailwarden", default=os.path.join(REPO, os.environ.get("BUILD_DIR", "build"), "mailwarden"))
    ap.add_argument("--sigs", default=os.path.join(REPO, "sigs"))
    ap.add_argument("--findings", default=None, help="write findings as JSON lines to this file")
    ap.add_argument("--results", default=None, help="write the long-run summary (RESULTS.md)")
    ap.add_argument("--all-oracles", action="store_true")
    ap.add_argument("--shrink-budget", type=int, default=None)
    ap.add_argument("--write", default=None, help="with --recipe/--case: keep message and part here")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    for tool in ("clamscan", "7z", "bsdtar", "bsdcat"):
        if shutil.which(tool) is None:
            print("difftest: %s not found: sh scripts/deps.sh test" % tool)
            return 2
    if not os.access(args.mailwarden, os.X_OK):
        print("difftest: %s is not built" % args.mailwarden)
        return 2
    ctx = Ctx(args)
    ctx.jobs = max(1, args.jobs)
    try:
        if args.recipe or args.case is not None:
            return one(ctx, args)
        return many(ctx, args)
    finally:
        ctx.close(args.keep)


def one(ctx, args):
    recipe = args.recipe or recipe_for(args.seed, args.case)
    ident = "%s:%d" % (args.seed, args.case) if args.case is not None else "recipe"
    c = Case(ident, recipe)
    ctx.all_oracles = True
    d = os.path.join(ctx.work, "one")
    evaluate(ctx, [c], d)
    verbose_case(c)
    if c.verdict:
        print("  verdict JSON: %s" % json.dumps(c.verdict))
    if c.finding and not c.crashed:
        minimal = shrink(ctx, c.recipe, [40 if args.shrink_budget is None else args.shrink_budget])
        print("  minimal: %s" % minimal)
    if args.write and c.error is None:
        os.makedirs(args.write, exist_ok=True)
        shutil.copy(c.eml, os.path.join(args.write, "message.eml"))
        shutil.copy(c.part, os.path.join(args.write, "part.bin"))
        print("  written: %s/message.eml, part.bin" % args.write)
    return 1 if c.finding else 0


def many(ctx, args):
    t0 = time.time()
    n = args.cases if args.cases is not None else (300 if args.slice else 20000)
    cases = []
    if args.slice:
        cases += [Case("pinned:%d" % i, r) for i, r in enumerate(gen.PINNED)]
    cases += [Case("%s:%d" % (args.seed, i), recipe_for(args.seed, i)) for i in range(n)]
    deadline = t0 + args.seconds if args.seconds else None
    last = [t0]

    def progress(done):
        if not args.slice and time.time() - last[0] > 30:
            last[0] = time.time()
            f = sum(1 for c in done if c.finding)
            print("difftest: %d cases, %d findings, %.0f s" % (len(done), f, time.time() - t0), flush=True)

    done = run_cases(ctx, cases, args.batch, progress, deadline)
    findings = [c for c in done if c.finding]
    known = []
    budget = [args.shrink_budget if args.shrink_budget is not None else (None if args.slice else 500)]
    # shrink the shortest recipes first: they are the likeliest minimal classes
    for c in sorted(findings, key=lambda c: (len(gen.parse(c.recipe)), len(c.recipe))):
        classify(ctx, c, known, budget)
    reproducer = {}
    # a class's own minimal recipe first, else its shortest finding
    for c in sorted(findings, key=lambda c: (not hasattr(c, "minimal"), len(c.recipe))):
        reproducer.setdefault(c.cls, getattr(c, "minimal", None) or c.recipe)
    if args.findings:
        with open(args.findings, "w") as f:
            for c in findings:
                f.write(json.dumps(c.record()) + "\n")
    elapsed = time.time() - t0
    built = [c for c in done if c.error is None]
    errors = [c for c in done if c.error]
    blind = [c for c in built if not c.positive and c.weak]
    if args.slice:
        for c in done:
            if c.error:
                print("SKIP %-12s %s (not built: %s)" % (c.id, c.recipe, c.error[:120]))
            elif c.finding:
                print("FAIL %-12s %s\n       class %s; verdict %s %s; oracles %s" % (
                    c.id, c.recipe, c.cls, c.action,
                    [r["code"] for r in c.verdict.get("reasons", [])] if c.action else c.verdict,
                    json.dumps(c.oracles)))
            elif c.weak and not c.positive:
                print("SKIP %-12s %s (no oracle saw the payload; verdict %s)" % (c.id, c.recipe, c.action))
    print()
    print("difftest: seed %s, %d cases in %.1f s (%d not built), %d findings" % (
        args.seed, len(done), elapsed, len(errors), len(findings)))
    print("executions: " + ", ".join("%s %d" % kv for kv in sorted(EXECS.items())))
    for cls, k, rep in summary_lines(findings, reproducer):
        print("  %5d  %s\n         e.g. --recipe '%s'" % (k, cls, rep))
    if args.results:
        write_results(args, done, findings, reproducer, elapsed, errors, blind)
    if args.slice:
        failed = len(findings)
        passed = len(built) - failed - len(blind)
        print("%d passed, %d failed, %d skipped" % (passed, failed, len(blind) + len(errors)))
    return 1 if findings else 0


def write_results(args, done, findings, reproducer, elapsed, errors, blind):
    built = [c for c in done if c.error is None]
    acts = collections.Counter(c.action or "no verdict" for c in built)
    orc = collections.Counter(k for c in built for k in c.oracles)
    pos = sum(1 for c in built if c.positive)
    strong_silent = sum(1 for c in built if not c.positive and not c.weak and not c.crashed)
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout.decode().strip()
    except OSError:
        rev = "?"
    L = []
    L.append("# Differential test: the last long run")
    L.append("")
    L.append("Written by `make difftest` (tests/difftest/difftest.py --results); see README.md")
    L.append("in this directory for the rule and the oracles.")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    L.append("| date (UTC) | %s |" % datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"))
    L.append("| commit | %s |" % rev)
    L.append("| seed | %s |" % args.seed)
    L.append("| cases drawn | %d (bound: %s cases, %s s) |" % (len(done), args.cases or 20000,
                                                              int(args.seconds) if args.seconds else "no"))
    L.append("| messages generated and scanned | %d |" % len(built))
    L.append("| recipes a tool refused to build | %d |" % len(errors))
    L.append("| elapsed | %.0f s (%.1f ms per case) |" % (elapsed, 1000 * elapsed / max(1, len(done))))
    L.append("| findings | %d in %d classes |" % (len(findings), len(set(c.cls for c in findings))))
    L.append("")
    L.append("## Executions of each tool")
    L.append("")
    L.append("| tool | runs |")
    L.append("|---|---|")
    for k, v in sorted(EXECS.items()):
        L.append("| %s | %d |" % (k, v))
    L.append("")
    L.append("`gen:` tools built layers; the others are the scanner under test and the")
    L.append("oracles (7z and bsdtar are asked only when our verdict is weak).")
    L.append("")
    L.append("## Verdicts and oracles")
    L.append("")
    L.append("| | messages |")
    L.append("|---|---|")
    for k, v in acts.most_common():
        L.append("| mailwarden: %s | %d |" % (k, v))
    for k, v in orc.most_common():
        L.append("| oracle %s flagged | %d |" % (k, v))
    L.append("| at least one oracle flagged | %d |" % pos)
    L.append("| strong verdict, no oracle flagged (we see more than they do) | %d |" % strong_silent)
    L.append("| weak verdict, no oracle flagged (payload hidden from everyone) | %d |" % len(blind))
    L.append("")
    L.append("## Findings by class")
    L.append("")
    if not findings:
        L.append("None.")
    else:
        L.append("A class is the minimal recipe a finding shrank to (payload kind left out).")
        L.append("Reproduce one with `python3 tests/difftest/difftest.py --recipe 'RECIPE'`.")
        L.append("")
        L.append("| findings | class | reproducer |")
        L.append("|---|---|---|")
        for cls, k, rep in summary_lines(findings, reproducer):
            L.append("| %d | `%s` | `%s` |" % (k, cls.replace("|", "\\|"), rep))
    if blind:
        L.append("")
        L.append("## Hidden from every oracle (not findings), first 10")
        L.append("")
        for c in blind[:10]:
            L.append("- `%s` (%s)" % (c.recipe, c.action))
    with open(args.results, "w") as f:
        f.write("\n".join(L) + "\n")
    print("difftest: wrote %s" % args.results)


if __name__ == "__main__":
    sys.exit(main())
