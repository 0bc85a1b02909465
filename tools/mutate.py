"""Mutation testing for autograd_lite: a small ``ast``-based mutator.

A *mutant* is a copy of a module with one small change in it: ``+`` → ``-``,
``<`` → ``<=``, ``and`` → ``or``, ``if c:`` → ``if not (c):``, ``0.0`` → ``1.0``,
``True`` → ``False``, a statement → ``pass``, ``return x`` → ``return None``,
``+=`` → ``=``, ``a[i]`` → ``a[i + 1]``.  The test command runs once per mutant:
the mutant is *killed* if the tests fail, *survived* if they pass (no test
noticed the change), *timeout* if they hang.  A survivor is either a gap in
the tests or an *equivalent* mutant (a change that cannot alter behaviour):
mark those, with the reason, so that they are counted apart.

Usage (from the repository root; ``make mutate ARGS="..."`` runs the same)::

    python tools/mutate.py                                  # autograd_lite/engine.py, fast engine tests
    python tools/mutate.py autograd_lite/kernels.py --max 60 --seed 1 -j 2
    python tools/mutate.py --lines 200-320 --list           # show the mutants, run nothing
    python tools/mutate.py --tests "pytest -x -q -p no:cacheprovider tests/test_engine.py"
    python tools/mutate.py --json mutants.json              # every result, machine-readable

The working tree is never modified.  The package that holds the target is
copied to a temporary directory (one copy per worker); each mutant is written
into the copy, and the test command runs from the repository root with the
copy first on ``PYTHONPATH`` (``python -P``, so the current directory does not
shadow it).  Before any mutant, the unmutated copy must pass the tests and a
canary mutant (the module raising on import) must fail them: otherwise the
command is not testing the copy and the run stops.  The test command is split
like a shell line; a leading ``pytest`` or ``python`` becomes this
interpreter (``sys.executable -P [-m pytest]``).

Equivalent mutants are not run, and are reported separately:

* a pragma on the line: ``# mutate: equivalent -- why`` (every mutant of that
  line), or ``# mutate: skip`` (no mutants are made on that line);
* an entry in ``tools/mutate-equivalent.txt`` (``--equivalent FILE``): a
  ``file:`` line, a ``why:`` line, and the ``-``/``+`` lines of the mutant exactly
  as this report prints them for a survivor (surrounding spaces ignored).

Not mutated: docstrings and other strings, f-strings, comments, type
annotations, imports, ``__all__``.  Exit status: 0 when no mutant survived,
1 when some did, 2 for a usage error or a failed baseline.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_TARGET = "autograd_lite/engine.py"
# the quickest file first: -x stops at the first failure
DEFAULT_TESTS = ("pytest -x -q -p no:cacheprovider tests/test_ieee_edges.py tests/test_engine_edges.py "
                 "tests/test_engine.py tests/test_higher_order.py tests/test_engine_fast_paths.py")
DEFAULT_EQUIVALENT = "tools/mutate-equivalent.txt"
PRAGMA = re.compile(r"#\s*mutate:\s*(equivalent|skip)\b\s*(?:--|:)?\s*(.*)$")

# operator swaps: ast type -> (source token, [(replacement token, replacement type)])
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**",
           ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|"}
_BINOP_SWAPS = {"+": ["-"], "-": ["+"], "*": ["/"], "/": ["*"], "//": ["/"], "**": ["*"], "%": ["*"],
                "&": ["|"], "|": ["&"]}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
           ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
# the boundary shift (< ↔ <=) and the negation (< ↔ >=) of each comparison
_CMP_SWAPS = {"<": ["<=", ">="], "<=": ["<", ">"], ">": [">=", "<="], ">=": [">", "<"],
              "==": ["!="], "!=": ["=="], "is": ["is not"], "is not": ["is"], "in": ["not in"],
              "not in": ["in"]}
_TOKEN_RE = {
    "+": r"(?<![+=*/<>!])\+(?!=)", "-": r"(?<![-=])-(?!=)", "*": r"(?<!\*)\*(?![*=])", "/": r"(?<!/)/(?![/=])",
    "//": r"//(?!=)", "**": r"\*\*(?!=)", "%": r"%(?!=)", "&": r"&(?!=)", "|": r"\|(?!=)",
    "<": r"<(?![<=])", "<=": r"<=", ">": r">(?![>=])", ">=": r">=", "==": r"==", "!=": r"!=",
    "is": r"\bis\b(?!\s+not\b)", "is not": r"\bis\s+not\b", "in": r"(?<!not )\bin\b", "not in": r"\bnot\s+in\b",
    "and": r"\band\b", "or": r"\bor\b",
}
_SMALL = {0, 1, -1}


@dataclass
class Mutant:
    """One change: bytes ``start:end`` of the source become ``new``."""

    path: str
    line: int
    kind: str
    start: int
    end: int
    new: str
    old_lines: list[str] = field(default_factory=list)
    new_lines: list[str] = field(default_factory=list)
    equivalent: str | None = None  # the reason, when marked equivalent
    status: str = ""  # killed / survived / timeout / equivalent
    seconds: float = 0.0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def diff(self) -> str:
        return "\n".join([*(f"- {s.strip()}" for s in self.old_lines), *(f"+ {s.strip()}" for s in self.new_lines)])

    def key(self) -> tuple:
        return (self.path, tuple(s.strip() for s in self.old_lines), tuple(s.strip() for s in self.new_lines))


# --------------------------------------------------------------------------
# Finding mutants
# --------------------------------------------------------------------------


class _Source:
    """A module's text with byte offsets for ast positions (col_offset counts UTF-8 bytes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode()
        self.line_starts = [0]
        for m in re.finditer(b"\n", self.data):
            self.line_starts.append(m.end())

    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, a: int, b: int) -> str:
        return self.data[a:b].decode()

    def line_of(self, offset: int) -> int:
        lo, hi = 0, len(self.line_starts)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid
        return lo + 1

    def line_text(self, line: int) -> str:
        a = self.line_starts[line - 1]
        b = self.line_starts[line] - 1 if line < len(self.line_starts) else len(self.data)
        return self.data[a:b].decode()


def _number_value(node: ast.AST) -> int | float | None:
    """The number a literal stands for (``-1.0`` included), or None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _number_value(node.operand)
        return None if v is None else -v
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _neighbours(v: int | float) -> list[int | float]:
    if type(v) is int:
        return [v + 1, v - 1] if v in _SMALL else [v + 1]
    if v in _SMALL:
        return [v + 1.0, v - 1.0]
    return [v * 2.0]


def _is_all(node: ast.AST) -> bool:
    """``__all__ = ...`` or ``f.__doc__ = ...``: names and documentation, not behaviour."""
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return any((isinstance(t, ast.Name) and t.id == "__all__")
               or (isinstance(t, ast.Attribute) and t.attr == "__doc__") for t in targets)


class _Finder:
    """Walk a module's ast and list its mutants."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.src = _Source(text)
        self.tree = ast.parse(text)
        self.found: list[Mutant] = []

    # helpers -----------------------------------------------------------------
    def add(self, kind: str, start: int, end: int, new: str) -> None:
        self.found.append(Mutant(self.path, self.src.line_of(start), kind, start, end, new))

    def token(self, a: int, b: int, tok: str) -> tuple[int, int] | None:
        """The byte span of operator ``tok`` between offsets a and b (comments masked)."""
        gap = self.src.segment(a, b)
        masked = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), gap)
        m = re.search(_TOKEN_RE[tok], masked)
        if m is None:
            return None
        return a + len(gap[:m.start()].encode()), a + len(gap[:m.end()].encode())

    def swap_token(self, a: int, b: int, tok: str, replacements: Sequence[str], kind: str) -> None:
        span = self.token(a, b, tok)
        if span is not None:
            for r in replacements:
                self.add(f"{kind} {tok} → {r}", span[0], span[1], r)

    # the walk ------------------------------------------------------------------
    def run(self) -> list[Mutant]:
        self.walk(self.tree, None)
        return self.found

    def walk(self, node: ast.AST, parent: ast.AST | None) -> None:
        if isinstance(node, (ast.JoinedStr, ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # docstrings and bare strings
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and _is_all(node):
            return
        number = _number_value(node)
        if number is not None:
            if not (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)):
                self.number(node, number, parent)
            return
        self.mutate(node, parent)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "type_comment"):
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    self.walk(child, node)

    def number(self, node: ast.AST, v: int | float, parent: ast.AST | None) -> None:
        index = isinstance(parent, (ast.Subscript, ast.Slice))
        for n in _neighbours(v):
            text = repr(n)
            if n < 0 and isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Attribute, ast.Subscript)):
                text = f"({text})"
            self.add(f"{'index' if index else 'constant'} {v!r} → {n!r}", self.src.start(node), self.src.end(node),
                     text)

    def mutate(self, node: ast.AST, parent: ast.AST | None) -> None:
        src = self.src
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            tok = _BINOPS[type(node.op)]
            self.swap_token(src.end(node.left), src.start(node.right), tok, _BINOP_SWAPS[tok], "operator")
        elif isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                tok = _CMPOPS[type(op)]
                self.swap_token(src.end(left), src.start(right), tok, _CMP_SWAPS[tok], "comparison")
                left = right
        elif isinstance(node, ast.BoolOp):
            old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            spans = [self.token(src.end(a), src.start(b), old) for a, b in zip(node.values, node.values[1:])]
            if all(spans):
                a, b = src.start(node), src.end(node)
                text = src.data[a:b]
                for s, e in reversed(spans):
                    text = text[:s - a] + new.encode() + text[e - a:]
                self.add(f"boolean {old} → {new}", a, b, text.decode())
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            what = "not" if isinstance(node.op, ast.Not) else "-"
            operand = src.segment(src.start(node.operand), src.end(node.operand))
            self.add(f"unary drop {what}", src.start(node), src.end(node), f"({operand})")
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            self.add(f"constant {node.value} → {not node.value}", src.start(node), src.end(node),
                     str(not node.value))
        elif isinstance(node, ast.Subscript) and not isinstance(node.slice, (ast.Slice, ast.Tuple)):
            self.off_by_one(node.slice)
        elif isinstance(node, ast.Slice):
            for bound in (node.lower, node.upper):
                if bound is not None:
                    self.off_by_one(bound)
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            test = src.segment(src.start(node.test), src.end(node.test))
            self.add(f"condition negate {type(node).__name__.lower()}", src.start(node.test), src.end(node.test),
                     f"(not ({test}))")
        if isinstance(node, ast.AugAssign) and type(node.op) in _BINOPS:
            tok = _BINOPS[type(node.op)]
            span = self.augmented(node, tok)
            if span is not None:
                self.add(f"augmented {tok}= → =", span[0], span[1], "=")
                for r in _BINOP_SWAPS[tok]:
                    self.add(f"augmented {tok}= → {r}=", span[0], span[1], f"{r}=")
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            self.add("return x → return None", src.start(node.value), src.end(node.value), "None")
        if isinstance(node, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Raise, ast.Assert, ast.Delete)):
            if not (isinstance(node, ast.AnnAssign) and node.value is None):
                self.add("statement → pass", src.start(node), src.end(node), "pass")

    def augmented(self, node: ast.AugAssign, tok: str) -> tuple[int, int] | None:
        src = self.src
        gap = src.segment(src.end(node.target), src.start(node.value))
        m = re.search(re.escape(tok) + "=", gap)
        if m is None:
            return None
        a = src.end(node.target)
        return a + len(gap[:m.start()].encode()), a + len(gap[:m.end()].encode())

    def off_by_one(self, expr: ast.AST) -> None:
        if _number_value(expr) is not None:
            return  # a literal index: the constant mutants shift it
        src = self.src
        text = src.segment(src.start(expr), src.end(expr))
        for d in ("+ 1", "- 1"):
            self.add(f"index {d}", src.start(expr), src.end(expr), f"({text}) {d}")


def _finish(m: Mutant, src: _Source) -> None:
    """Fill in the changed lines, before and after."""
    first = src.line_of(m.start)
    last = src.line_of(max(m.start, m.end - 1)) if m.end > m.start else first
    a = src.line_starts[first - 1]
    b = src.line_starts[last] - 1 if last < len(src.line_starts) else len(src.data)
    m.old_lines = src.data[a:b].decode().split("\n")
    m.new_lines = (src.data[a:m.start] + m.new.encode() + src.data[m.end:b]).decode().split("\n")


def apply(text: str, m: Mutant) -> str:
    data = text.encode()
    return (data[:m.start] + m.new.encode() + data[m.end:]).decode()


def find_mutants(path: str, text: str) -> list[Mutant]:
    """Every mutant of one module's source that compiles, in source order, duplicates removed;
    lines with ``# mutate: skip`` get none, lines with ``# mutate: equivalent`` are marked."""
    finder = _Finder(path, text)
    src = finder.src
    out, seen = [], set()
    for m in sorted(finder.run(), key=lambda m: (m.start, m.end, m.kind)):
        pragma = PRAGMA.search(src.line_text(m.line))
        if pragma and pragma.group(1) == "skip":
            continue
        mutated = apply(text, m)
        if mutated == text or mutated in seen:
            continue
        try:
            compile(mutated, path, "exec", dont_inherit=True)
        except SyntaxError:
            continue
        seen.add(mutated)
        _finish(m, src)
        if pragma:
            m.equivalent = pragma.group(2).strip() or "marked by a pragma"
        out.append(m)
    return out


def read_equivalents(path: Path) -> dict[tuple, str]:
    """The allowlist: {(file, old lines, new lines): reason}."""
    if not path.exists():
        return {}
    entries: dict[tuple, str] = {}
    file = why = None
    old: list[str] = []
    new: list[str] = []

    def flush() -> None:
        if file and (old or new):
            if not why:
                raise SystemExit(f"{path}: the entry for {file} ({old}) needs a 'why:' line")
            entries[(file, tuple(old), tuple(new))] = why

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            flush()
            why, old, new = None, [], []
            continue
        if line.startswith("#"):
            continue
        if line.startswith("file:"):
            file = line[5:].strip()
        elif line.startswith("why:"):
            why = line[4:].strip()
        elif line.startswith("- "):
            old.append(line[2:].strip())
        elif line.startswith("+ "):
            new.append(line[2:].strip())
        elif line in ("-", "+"):
            (old if line == "-" else new).append("")
        else:
            raise SystemExit(f"{path}: cannot read line {raw!r} (expected file:, why:, '- old' or '+ new')")
    return entries


# --------------------------------------------------------------------------
# Running mutants
# --------------------------------------------------------------------------


def package_root(path: Path) -> Path:
    """The top-level package directory holding ``path`` (or the file itself if not in a package)."""
    top = path
    d = path.parent
    while (d / "__init__.py").exists():
        top = d
        d = d.parent
    return top


def command(tests: str) -> list[str]:
    argv = shlex.split(tests)
    if not argv:
        raise SystemExit("mutate: the test command is empty")
    if argv[0] in ("pytest", "py.test"):
        return [sys.executable, "-P", "-m", "pytest", *argv[1:]]
    if argv[0] in ("python", "python3"):
        return [sys.executable, "-P", *argv[1:]]
    return argv


class Runner:
    """Workspaces (copies of the target's package) and the test command."""

    def __init__(self, root: Path, targets: Sequence[Path], tests: str, jobs: int, timeout: float | None) -> None:
        self.root = root
        self.argv = command(tests)
        self.timeout = timeout
        self.tmp = Path(tempfile.mkdtemp(prefix="mutate-"))
        self.tops = sorted({package_root(t) for t in targets})
        self.free: queue.Queue[Path] = queue.Queue()
        for k in range(max(1, jobs)):
            ws = self.tmp / f"w{k}"
            ws.mkdir()
            for top in self.tops:
                if top.is_dir():
                    shutil.copytree(top, ws / top.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                else:
                    shutil.copy2(top, ws / top.name)
            self.free.put(ws)

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def copy_of(self, ws: Path, target: Path) -> Path:
        top = package_root(target)
        return ws / top.name / target.relative_to(top) if top.is_dir() else ws / top.name

    def env(self, ws: Path) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ws), *filter(None, [env.get("PYTHONPATH")])])
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # a stale .pyc of another mutant must never be used
        return env

    def run(self, target: Path, text: str, timeout: float | None) -> tuple[str, float]:
        """Run the tests with ``text`` as the target's source: killed / survived / timeout."""
        ws = self.free.get()
        copy = self.copy_of(ws, target)
        original = copy.read_bytes()
        try:
            copy.write_text(text, encoding="utf-8")
            t0 = time.perf_counter()
            proc = subprocess.Popen(self.argv, cwd=self.root, env=self.env(ws), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return "timeout", time.perf_counter() - t0
            return ("survived" if rc == 0 else "killed"), time.perf_counter() - t0
        finally:
            copy.write_bytes(original)
            self.free.put(ws)


def parse_lines(spec: str | None) -> tuple[int, int] | None:
    if spec is None:
        return None
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", spec.strip())
    if not m:
        raise SystemExit(f"mutate: --lines takes A-B (e.g. 120-240), got {spec!r}")
    a = int(m.group(1))
    return a, int(m.group(2) or a)


def report(mutants: Sequence[Mutant], total: int, out=None) -> None:
    out = out or sys.stdout
    counts = {s: sum(m.status == s for m in mutants) for s in ("killed", "survived", "timeout", "equivalent")}
    run = counts["killed"] + counts["survived"] + counts["timeout"]
    score = (counts["killed"] + counts["timeout"]) / run if run else 1.0
    print(f"\nmutants: {total} found, {len(mutants)} selected; {counts['killed']} killed, "
          f"{counts['survived']} survived, {counts['timeout']} timeout, {counts['equivalent']} equivalent "
          f"(not run); score {score:.1%} of {run} run", file=out)
    survivors = [m for m in mutants if m.status == "survived"]
    if survivors:
        print("\nsurvivors (add to tools/mutate-equivalent.txt with a 'why:' line if equivalent):", file=out)
        for m in survivors:
            print(f"\n# {m.where}  {m.kind}\nfile: {m.path}\n{m.diff()}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="mutate", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="*", default=[DEFAULT_TARGET], help=f"modules to mutate ({DEFAULT_TARGET})")
    p.add_argument("--tests", default=DEFAULT_TESTS, help=f"the test command (default: {DEFAULT_TESTS!r})")
    p.add_argument("-j", "--jobs", type=int, default=2, help="mutants run at once (default 2)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per mutant (default: 3 × the unmutated run + 10)")
    p.add_argument("--max", type=int, default=None, help="run a random sample of N mutants")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    p.add_argument("--lines", default=None, help="only mutants on lines A-B of the target(s)")
    p.add_argument("--equivalent", default=DEFAULT_EQUIVALENT, help=f"the allowlist ({DEFAULT_EQUIVALENT})")
    p.add_argument("--list", action="store_true", help="list the selected mutants and exit")
    p.add_argument("--json", default=None, help="write every mutant and its result to this file")
    p.add_argument("--root", default=".", help="the repository root: the tests run here (default .)")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("-j must be at least 1")

    root = Path(args.root).resolve()
    allow = read_equivalents(root / args.equivalent)
    lines = parse_lines(args.lines)
    targets, texts, mutants = [], {}, []
    for t in args.targets:
        path = (root / t).resolve()
        if not path.is_file():
            p.error(f"no such module: {t}")
        rel = path.relative_to(root).as_posix()
        targets.append(path)
        texts[rel] = path.read_text(encoding="utf-8")
        mutants += find_mutants(rel, texts[rel])
    total = len(mutants)
    if lines:
        mutants = [m for m in mutants if lines[0] <= m.line <= lines[1]]
    if args.max is not None and len(mutants) > args.max:
        mutants = sorted(random.Random(args.seed).sample(mutants, args.max), key=lambda m: (m.path, m.start))
    for m in mutants:
        reason = m.equivalent or allow.get(m.key())
        if reason:
            m.equivalent, m.status = reason, "equivalent"
    if args.list:
        for m in mutants:
            mark = f"  [equivalent: {m.equivalent}]" if m.equivalent else ""
            print(f"{m.where}  {m.kind}{mark}\n{m.diff()}\n")
        print(f"{len(mutants)} of {total} mutants")
        return 0

    runner = Runner(root, targets, args.tests, args.jobs, args.timeout)
    try:
        by_rel = {Path(t).resolve().relative_to(root).as_posix(): Path(t).resolve() for t in targets}
        for rel, path in by_rel.items():
            status, seconds = runner.run(path, texts[rel], None)
            if status != "survived":
                print(f"mutate: the tests fail on the unmutated {rel}; fix them first: {args.tests}", file=sys.stderr)
                return 2
            canary, _ = runner.run(path, texts[rel] + "\nraise RuntimeError('mutate.py canary')\n", None)
            if canary != "killed":
                print(f"mutate: a module of {rel} that raises on import passes the tests: the command does not "
                      f"import the mutated copy (or does not test {rel})", file=sys.stderr)
                return 2
        timeout = args.timeout if args.timeout is not None else 3 * seconds + 10
        todo = [m for m in mutants if m.status != "equivalent"]
        print(f"mutate: {len(todo)} mutants to run ({total} found), -j {args.jobs}, "
              f"timeout {timeout:.0f} s (unmutated run {seconds:.1f} s)", file=sys.stderr)
        lock = threading.Lock()
        done = [0]

        def one(m: Mutant) -> None:
            m.status, m.seconds = runner.run(by_rel[m.path], apply(texts[m.path], m), timeout)
            with lock:
                done[0] += 1
                print(f"[{done[0]}/{len(todo)}] {m.status:8} {m.seconds:5.1f} s  {m.where}  {m.kind}", file=sys.stderr,
                      flush=True)

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(one, todo))
    finally:
        runner.close()
    report(mutants, total)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(m) for m in mutants], indent=1, ensure_ascii=False) + "\n")
    return 1 if any(m.status == "survived" for m in mutants) else 0


def iter_mutants(path: str, text: str) -> Iterator[tuple[Mutant, str]]:
    """(mutant, mutated source) pairs of a module: for tests and notebooks."""
    for m in find_mutants(path, text):
        yield m, apply(text, m)


if __name__ == "__main__":
    sys.exit(main())
