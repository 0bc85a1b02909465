"""The ``autograd-lite`` command line (also ``python -m autograd_lite``).

Subcommands: ``grad`` (differentiate an expression), ``explain`` (the
chain-rule ledger of its backprop, step by step), ``train`` (logistic
regression or an MLP on a dataset), ``predict`` (apply a model saved by
``train --save`` to raw rows), ``demo`` (the course walkthrough with its
figures), ``repl`` (a Python console with the library imported) and ``learn``
(the workbook: graded exercises).

Files: the CLI never overwrites an existing file (``--save``, ``--plot``,
``--graph``, ``--out``) unless given ``--force`` (``demo`` may rewrite a folder
it made itself), and checks every destination before doing any work.

Every anticipated error -- a bad argument, a rejected expression, a missing
file, Graphviz or matplotlib not installed, a bad CSV -- is printed as ONE line
``error: ...`` on stderr with exit status 2 (never a traceback).  ``grad
--check`` exits with 1 when a gradient check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autograd_lite import expr as _expr
from autograd_lite import walkthrough
from autograd_lite.naming import NAMES
from autograd_lite.text import format_table

__all__ = ["main", "build_parser", "CLIError"]


class CLIError(Exception):
    """An anticipated problem with the command line: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: ...``) instead of usage + message."""

    def error(self, message: str):  # type: ignore[override]
        raise CLIError(f"{self.prog}: {message} (try '{self.prog} --help')")


_FMT = argparse.RawDescriptionHelpFormatter

_MAIN_EPILOG = """\
examples:
  autograd-lite grad "sigmoid(w*x + b)" --at w=2 x=0.5 b=-1 --check
  autograd-lite train logreg --dataset breast_cancer --epochs 50
  autograd-lite train mlp --dataset moons --hidden 16,16 --optimizer adam --plot curve.png
  autograd-lite predict model.json --data rows.csv
  autograd-lite demo --out demo-output
  autograd-lite repl
"""

_GRAD_EPILOG = f"""\
the expression language:
  numbers, variables (letters and digits, no underscores), + - * / **,
  unary minus, parentheses, the functions exp log sigmoid tanh relu sqrt abs sin cos,
  the constants pi and e, and the losses bce(a, y) = -[y log a + (1-y) log(1-a)]
  for a probability 0 < a < 1, bcelogits(z, y) = bce(sigmoid(z), y) computed from
  the logit z (exact where sigmoid(z) rounds to 0 or 1, |z| > 36.7) and
  mse(a, y) = (a-y)^2. Write products with * (2*x, not 2x). Only plain ASCII:
  numbers are decimals (1000, 0.5, 1e-3; no 1_000 or 0x10), floats (9**9**9 is inf);
  --at values are such decimals (or inf, nan). At most {_expr.MAX_LENGTH} characters,
  brackets nested at most {_expr.MAX_DEPTH} deep. Nothing else is accepted.

output:
  the value of the expression and d/d(variable) for every variable, in the
  order given by --at. --check adds central finite differences and the absolute
  and relative errors (exit status 1 if a check fails; 2n + 1 evaluations for n
  variables). --json prints
  {{"expression", "value", "grad": {{name: number}}, "check": null or {{...}}}};
  non-finite numbers are written as the strings "inf", "-inf" and "nan".

examples:
  autograd-lite grad "x**2 + 3*x" --at x=2
  autograd-lite grad "-x**2" --at x=3
  autograd-lite grad "bce(sigmoid(w*x + b), y)" --at w=0.3 x=1.5 b=0.1 y=1 --check
  autograd-lite grad "-(y*log(sigmoid(w1*x1+w2*x2+b)) + (1-y)*log(1-sigmoid(w1*x1+w2*x2+b)))" \\
      --at x1=1.5 x2=-0.5 w1=0.3 w2=-0.8 b=0.1 y=1 --json
  autograd-lite grad "tanh(relu(w*x))" --at w=-1 x=2 --graph graph.svg
"""

_TRAIN_EPILOG = """\
examples:
  autograd-lite train logreg --dataset breast_cancer --epochs 100 --lr 0.1
  autograd-lite train mlp --dataset moons --hidden 16,16 --activation relu --optimizer adam --epochs 200
  autograd-lite train mlp --dataset circles --init zeros --epochs 50   # watch symmetry (C11)
  autograd-lite train logreg --data my.csv --target label --save model.json --plot curve.png

A CSV needs a header row and numeric columns (plain decimals); the target column
(--target, default the last) holds class labels: two classes for logreg, two or
more for mlp (k > 2 classes: k linear outputs trained with cross_entropy).
--save writes the model with the training mean/std of the features, so
`autograd-lite predict model.json --data raw.csv` (or nn.Module.load in Python)
predicts from raw rows.
"""

_PREDICT_EPILOG = """\
examples:
  autograd-lite train logreg --data cancer.csv --target malignant --save model.json
  autograd-lite predict model.json --data new_rows.csv
  autograd-lite predict model.json --data new_rows.csv --out predictions.csv

The CSV needs the model's feature columns (by name, any order; other columns are
ignored); if it also has the target column, the accuracy is reported on stderr.
Output: CSV, one line per row, "prediction,probability" (the probability of that
class); a binary model predicts class 1 where P(class 1) >= 0.5. A class name
that starts with = + - @ (a spreadsheet formula) is written with a leading '.
"""

_DEMO_EPILOG = """\
examples:
  autograd-lite demo                     # writes into ./demo-output
  autograd-lite demo --out /tmp/course --fast
"""

_REPL_EPILOG = """\
examples:
  autograd-lite repl
  echo 'print(grad(sigmoid)(0.0))' | autograd-lite repl
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="autograd-lite", description="Backpropagation you can hold in your hands.",
                     epilog=_MAIN_EPILOG, formatter_class=_FMT)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{grad,explain,train,predict,demo,repl,learn,playground}")

    g = sub.add_parser("grad", help="value and derivatives of an expression", epilog=_GRAD_EPILOG,
                       formatter_class=_FMT, description="Differentiate an expression by backpropagation.")
    g.add_argument("expression", help='e.g. "sigmoid(w*x + b)" (quote it for the shell)')
    _add_at(g)
    g.add_argument("--check", action="store_true", help="compare with central finite differences")
    g.add_argument("--eps", type=float, default=1e-6, help="finite-difference step for --check (default 1e-6)")
    g.add_argument("--json", action="store_true", help="print the result as JSON")
    g.add_argument("--graph", metavar="FILE", help="draw the computational graph (.svg, .png, .pdf or .dot)")
    g.add_argument("--force", action="store_true", help="overwrite an existing --graph file")
    g.add_argument("--analytic", action="store_true",
                   help="add SymPy's formula for each derivative and its value; with --json an \"analytic\" "
                        "entry {name: {formula, latex, value}} (needs autograd-lite[symbolic])")
    g.add_argument("--keep", choices=["labels"],
                   help="with --analytic: keep labelled nodes as symbols, chain rule across them (in an "
                        "expression the output is labelled f: d sigmoid(w*x + b)/dw = f*x*(1 - f))")

    t = sub.add_parser("train", help="train logistic regression or an MLP", epilog=_TRAIN_EPILOG,
                       formatter_class=_FMT, description="Train a model with gradient descent and report "
                       "train/test cost and accuracy.")
    t.add_argument("model", choices=["logreg", "mlp"], help="logistic regression or a multi-layer perceptron")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--dataset", choices=["breast_cancer", "moons", "circles"], default=None,
                     help="a built-in dataset (default: breast_cancer for logreg, moons for mlp)")
    src.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row (default: a built-in dataset)")
    t.add_argument("--target", metavar="COL", help="the label column of --data (default: the last one)")
    t.add_argument("--epochs", type=_positive_int, default=100, help="passes over the training set (default 100)")
    t.add_argument("--lr", type=_positive_float, default=None, help="learning rate (default 0.1 sgd, 0.01 adam)")
    t.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd", help="the update rule (default sgd)")
    t.add_argument("--batch-size", type=_positive_int, default=None, help="minibatch size (default: full batch)")
    t.add_argument("--hidden", type=_sizes, default=None, metavar="N,N,...",
                   help="hidden layer sizes (mlp only; default 16,16)")
    t.add_argument("--activation", choices=["relu", "tanh", "sigmoid"], default=None,
                   help="hidden-layer activation (mlp only; default relu)")
    t.add_argument("--init", choices=["random", "zeros"], default=None,
                   help="initial weights (default: zeros for logreg, random for mlp)")
    t.add_argument("--seed", type=int, default=0, help="seed of the split, the data and the weights (default 0)")
    t.add_argument("--test-size", type=_fraction, default=0.25, help="held-out fraction (default 0.25)")
    t.add_argument("--n-samples", type=_positive_int, default=None,
                   help="size of moons/circles (only for those datasets; default 200)")
    t.add_argument("--engine", choices=["scalar", "vectorized"], default="vectorized",
                   help="scalar Value graphs or the vectorized engine (same gradients; default vectorized)")
    t.add_argument("--save", metavar="model.json",
                   help="save the trained model (with its feature standardization) as JSON (default: not saved)")
    t.add_argument("--plot", metavar="curve.png", help="plot the training cost curve (needs matplotlib; default: none)")
    t.add_argument("--force", action="store_true", help="overwrite existing --save/--plot files (default: refuse)")
    t.add_argument("--quiet", action="store_true", help="no progress bar (default: a bar on a terminal)")

    pr = sub.add_parser("predict", help="apply a model saved by 'train --save' to the rows of a CSV file",
                        epilog=_PREDICT_EPILOG, formatter_class=_FMT,
                        description="Predict from raw rows with a saved model (its standardization is applied).")
    pr.add_argument("model", metavar="MODEL.json", help="a file written by 'autograd-lite train ... --save'")
    pr.add_argument("--data", metavar="FILE.csv", required=True, help="rows to predict (a CSV with a header row)")
    pr.add_argument("--out", metavar="FILE.csv", help="write the predictions there instead of stdout")
    pr.add_argument("--force", action="store_true", help="overwrite an existing --out file")

    d = sub.add_parser("demo", help="the course walkthrough: graph, derivatives, training, figures",
                       epilog=_DEMO_EPILOG, formatter_class=_FMT,
                       description="Run the whole course walkthrough and write its files into --out.")
    d.add_argument("--out", default="demo-output", metavar="DIR", help="output directory (default ./demo-output)")
    d.add_argument("--fast", action="store_true", help="fewer epochs (for tests)")
    d.add_argument("--force", action="store_true",
                   help="write into an existing folder that a previous demo did not make")

    _add_explain_parser(sub)
    sub.add_parser("repl", help="a Python console with autograd_lite imported", epilog=_REPL_EPILOG,
                   formatter_class=_FMT, description="An interactive Python console with the library imported.")
    _add_learn_parser(sub)
    pg = sub.add_parser("playground", help="build the in-browser playground (a static site) into DIR",
                        epilog=_PLAYGROUND_EPILOG, formatter_class=_FMT,
                        description="Write a static site that runs the engine in the browser (Pyodide): the "
                                    "page, the autograd_lite wheel, Pyodide and viz-js (fetched with npm once).")
    pg.add_argument("dir", metavar="DIR", help="the folder to write the site into")
    pg.add_argument("--serve", action="store_true", help="then serve DIR on http://127.0.0.1:PORT/")
    pg.add_argument("--port", type=int, default=8000, help="the port for --serve (default 8000)")
    pg.add_argument("--force", action="store_true", help="write into a non-empty folder a playground did not make")
    return parser


_LEARN_EPILOG = """\
examples:
  autograd-lite learn init my-work              # one stub file per exercise, in course order
  autograd-lite learn check my-work             # grade every exercise (exit 0 only if all passed)
  autograd-lite learn check my-work backprop    # grade one
  autograd-lite learn hint backprop 2           # hints 1, 2, 3: the last is the formula
"""


def _add_learn_parser(sub: Any) -> None:
    from autograd_lite.learn.exercises import EXERCISES

    ids = ", ".join(EXERCISES)
    lp = sub.add_parser("learn", help="the workbook: write the course's functions, get them graded",
                        epilog=_LEARN_EPILOG, formatter_class=_FMT,
                        description="Graded exercises whose autograder names the mistake.")
    ls = lp.add_subparsers(dest="learn_command", required=True, metavar="{init,check,hint}")
    li = ls.add_parser("init", help="write one stub file per exercise into DIR", epilog=_LEARN_EPILOG,
                       formatter_class=_FMT)
    li.add_argument("dir", metavar="DIR", help="the workbook folder (created if needed)")
    li.add_argument("ids", nargs="*", metavar="ID", help=f"only these exercises (default: all: {ids})")
    li.add_argument("--force", action="store_true", help="overwrite existing stub files (default: refuse)")
    lc = ls.add_parser("check", help="grade the exercises in DIR", epilog=_LEARN_EPILOG, formatter_class=_FMT)
    lc.add_argument("dir", metavar="DIR", help="the workbook folder written by 'learn init'")
    lc.add_argument("ids", nargs="*", metavar="ID", help=f"only these exercises (default: all: {ids})")
    lc.add_argument("--time-limit", type=_positive_float, default=10.0, metavar="SECONDS",
                    help="how long your code may run per exercise (default 10)")
    lh = ls.add_parser("hint", help="hint K (1, 2, 3) of an exercise: the last is the formula",
                       epilog=_LEARN_EPILOG, formatter_class=_FMT)
    lh.add_argument("id", metavar="ID", help=f"the exercise ({ids})")
    lh.add_argument("k", nargs="?", type=_positive_int, default=1, metavar="K", help="which hint (default 1)")


def cmd_learn(args: argparse.Namespace) -> int:
    from autograd_lite import learn
    from autograd_lite.learn.workbook import summary

    if args.learn_command == "init":
        try:
            paths = learn.init_workbook(args.dir, args.ids, force=args.force)
        except FileExistsError as e:
            raise CLIError(str(e).replace(" (force=True)", "")) from None
        print(f"wrote {len(paths)} exercise files into {args.dir}:")
        for path in paths:
            print(f"  {path.name}")
        print(f"write each function, then: autograd-lite learn check {args.dir}")
        return 0
    if args.learn_command == "hint":
        print(learn.hint(args.id, args.k))
        return 0
    reports = learn.check_workbook(args.dir, args.ids, time_limit=args.time_limit)
    for report in reports:
        print(report)
        if report.status == "failed":
            print(f"    (stuck? autograd-lite learn hint {report.exercise} 1)")
    print(summary(reports))
    return 0 if all(r.passed for r in reports) else 1


def _add_at(p: argparse.ArgumentParser) -> None:
    """--at NAME=NUMBER ...: the values of an expression's variables (grad and explain)."""
    p.add_argument("--at", nargs="+", action="extend", default=[], metavar="NAME=NUMBER",
                   help="the value of every variable, e.g. --at x1=1.5 w1=-0.3")


def _version() -> str:
    import autograd_lite

    return autograd_lite.__version__


def _checked(convert: Callable[[str], Any], ok: Callable[[Any], bool], kind: str, requirement: str):
    """An argparse ``type``: ``convert(s)``, which must satisfy ``ok``, else a one-line error."""

    def parse(s: str):
        try:
            x = convert(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{s!r} is not {kind}") from None
        if not ok(x):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {s}")
        return x

    return parse


_positive_int = _checked(int, lambda n: n > 0, "an integer", "positive")
_positive_float = _checked(float, lambda x: x > 0 and math.isfinite(x), "a number", "a positive finite number")
_fraction = _checked(float, lambda x: 0 < x < 1, "a number", "between 0 and 1")


def _sizes(s: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(p) for p in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a comma-separated list of sizes such as 16,16") from None
    if not sizes or any(n <= 0 for n in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {s!r}")
    return sizes


# ---------------------------------------------------------------------------
# grad
# ---------------------------------------------------------------------------


def _num(x: float) -> float | str:
    """A number for JSON: finite floats as they are, inf/-inf/nan as strings."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _fmt(x: float) -> str:
    return f"{float(x):.10g}"


def cmd_grad(args: argparse.Namespace) -> int:
    e = _expr.parse(args.expression.lstrip(" "))  # main() shields an expression that starts with '-' by a space
    at = _expr.parse_assignments(args.at)
    missing = [v for v in e.variables if v not in at]
    if missing:
        raise _expr.missing_error(e, missing)
    if args.graph:
        _graph_destination(args.graph, args.force)
    names = list(at)  # in the order given; variables not in the expression get ∂ = 0
    unused = [n for n in names if n not in e.variables]
    if unused and not args.json:
        print(f"note: {', '.join(unused)} not in the expression (derivative 0)", file=sys.stderr)
    out, found = _expr.evaluate(e, at)
    leaves: dict[str, Any] = {n: found.get(n) for n in names}
    grads = {}
    out.label = "f"
    # one backward pass fills .grad on every node: the table and the drawing (--graph) read the same numbers
    out.zero_grad()
    out.backward()
    if names:
        from autograd_lite.engine import Value

        for n in names:
            if leaves[n] is None:
                leaves[n] = Value(at[n], label=n)
        grads = {n: leaves[n].grad for n in names}
    check = None
    if args.check and names:
        check = _check(e, names, at, args.eps)
    if args.keep and not args.analytic:
        raise CLIError("--keep goes with --analytic (add --analytic)")
    analytic = _analytic(out, [leaves[n] for n in names], args.keep) if args.analytic else None
    if args.graph:
        path = _render(out, args.graph)
    if args.json:
        doc: dict[str, Any] = {"expression": e.text, "value": _num(out.data),
                               "grad": {n: _num(g) for n, g in grads.items()}, "check": None}
        if check is not None:
            doc["check"] = {"ok": bool(check),
                            "rows": {r.input: {"autodiff": _num(r.autodiff), "numeric": _num(r.numeric),
                                               "abs_error": _num(r.abs_error), "rel_error": _num(r.rel_error),
                                               "ok": r.ok} for r in check.rows}}
        if analytic is not None:
            from autograd_lite.symbolic import text

            doc["analytic"] = {n: {"formula": text(f), "latex": tex, "value": _num(v)} for n, (f, tex, v) in
                               zip(names, analytic)}
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(f"f = {e.text}")
        print(f"value = {_fmt(out.data)}")
        if names:
            print()
            if check is None:
                print(format_table(("variable", "value", "df/dvariable"),
                                   [(n, _fmt(at[n]), _fmt(grads[n])) for n in names]))
            else:
                print(format_table(("variable", "value", "df/d (autodiff)", "numeric", "abs error", "rel error", "ok"),
                                   [(r.input, _fmt(at[r.input]), _fmt(r.autodiff), _fmt(r.numeric),
                                     f"{r.abs_error:.2e}", f"{r.rel_error:.2e}", "yes" if r.ok else "NO")
                                    for r in check.rows]))
                print("gradient check:", "passed" if check else "FAILED", f"(eps = {args.eps:g})")
            if analytic is not None:
                print()
                from autograd_lite.symbolic import text

                texts = [text(f).split("; where ") for f, _, _ in analytic]
                print(format_table(("variable", "df/d (SymPy)", "SymPy's formula"),
                                   [(n, _fmt(v), t[0]) for n, (_, _, v), t in zip(names, analytic, texts)]))
                for t in texts:  # a long formula's shared parts, named once
                    for part in t[1:]:
                        print(f"  where {part}")
        if args.graph:
            print(f"wrote {path}")
    return 1 if check is not None and not check else 0


def _analytic(out, leaves: list, keep: str | None = None) -> list[tuple[Any, str, float]]:
    """--analytic: (formula, its LaTeX, its value) of ∂out/∂leaf for each leaf, derived by SymPy."""
    from autograd_lite import symbolic

    if not leaves:
        return []
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # a fallback (time limit, huge argument): one note each
        warnings.simplefilter("always", symbolic.AnalyticWarning)
        formulas = symbolic.symbolic_gradients(out, leaves, keep=keep)
        values = [symbolic.evaluate(formulas[x], out, keep=keep) for x in leaves]
    for note in dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, symbolic.AnalyticWarning)):
        print(f"note: {note}", file=sys.stderr)
    for w in caught:  # any other warning as usual
        if not issubclass(w.category, symbolic.AnalyticWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return [(formulas[x], symbolic.latex(formulas[x]), v) for x, v in zip(leaves, values)]


def _first_col(e: _expr.Expression, name: str) -> int | None:
    import ast

    for node in ast.walk(e.tree):
        if isinstance(node, ast.Name) and node.id == name:
            return _expr._column(e.text, node)
    return None


def _check(e: _expr.Expression, names: list[str], at: dict[str, float], eps: float):
    from autograd_lite.check import gradcheck

    if not eps > 0:
        raise CLIError(f"--eps must be positive, got {eps}")

    def f(*vals):
        return _expr.evaluate(e, dict(zip(names, vals)))[0]

    return gradcheck(f, [at[n] for n in names], eps=eps, names=names)


def _render(root, path: str) -> str:
    from autograd_lite import viz

    return str(viz.render_graph(root, path))


def _destination(path: str, flag: str, force: bool) -> Path:
    """Check, before any work, that ``path`` can be written and would not overwrite a
    file without ``--force``; returns it as a Path."""
    p = Path(path)
    if p.is_dir():
        raise CLIError(f"{flag} {path} is a directory; give a file name")
    parent = p.parent
    if not parent.is_dir():
        raise CLIError(f"{flag} {path}: the directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(f"{flag} {path}: cannot write in {str(parent)!r} (permission denied)")
    if p.exists() or p.is_symlink():
        if not force:
            raise CLIError(f"{flag} {path} already exists; pass --force to overwrite it")
        if not os.access(p, os.W_OK):
            raise CLIError(f"{flag} {path}: the existing file is not writable")
    return p


def _graph_destination(path: str, force: bool) -> None:
    from autograd_lite.viz import FORMATS

    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise CLIError(f"--graph {path}: cannot tell the output format; give the file a suffix among "
                       f"{', '.join('.' + f for f in FORMATS)}")
    _destination(path, "--graph", force)
    if suffix != "dot" and shutil.which("dot") is None:  # render_graph then writes the .dot source next to it
        _destination(str(Path(path).with_suffix(".dot")), "--graph (DOT fallback)", force)


def _distinct(*flags_paths: tuple[str, str | None]) -> None:
    seen: dict[str, str] = {}
    for flag, path in flags_paths:
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen:
            raise CLIError(f"{seen[key]} and {flag} name the same file {path!r}")
        seen[key] = flag


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------


def _load_dataset(args: argparse.Namespace):
    """``(name, X, y, feature_names, target_name)`` for the chosen dataset (y: raw labels)."""
    import numpy as np

    from autograd_lite import data

    if args.data:
        header, table = data.read_csv_table(args.data)
        if args.target is not None:
            if args.target not in header:
                raise CLIError(f"--target {args.target!r}: {args.data} has no such column; the columns are: "
                               f"{', '.join(header)}")
            t = header.index(args.target)
        else:
            t = len(header) - 1
        if len(header) < 2:
            raise CLIError(f"{args.data}: need at least one feature column besides the target {header[t]!r}")
        y = table[:, t].copy()
        X = np.delete(table, t, axis=1)
        names = [h for j, h in enumerate(header) if j != t]
        _check_target(args, header, table, t, y)
        return Path(args.data).name, X, y, names, header[t]
    if args.target:
        raise CLIError("--target goes with --data FILE.csv")
    name = args.dataset or ("breast_cancer" if args.model == "logreg" else "moons")
    if args.n_samples is not None and name not in ("moons", "circles"):
        raise CLIError(f"--n-samples applies to the moons and circles datasets, not to {name}")
    n = args.n_samples or 200
    if name == "breast_cancer":
        X, y, names = data.load_breast_cancer()
        return name, X, y, names, "malignant"
    if name == "moons":
        X, y = data.make_moons(n, noise=0.2, seed=args.seed)
    else:
        X, y = data.make_circles(n, noise=0.1, factor=0.5, seed=args.seed)
    return name, X, y, ["x1", "x2"], "label"


def _check_target(args: argparse.Namespace, header: list[str], table: Any, t: int, y: Any) -> None:
    """The target must hold class labels (integers): two classes for logreg."""
    import numpy as np

    def hint() -> str:
        if args.target is not None:
            return ""
        binary = [h for j, h in enumerate(header) if j != t and set(np.unique(table[:, j]).tolist()) <= {0.0, 1.0}]
        cols = f" (0/1 columns: {', '.join(binary)})" if binary else ""
        return f"; if the labels are in another column, name it with --target COL{cols}"

    where = f"the target column {header[t]!r}" + (" (the last one)" if args.target is None else "")
    bad = y[y != np.round(y)]
    if len(bad):
        raise CLIError(f"{where} holds {bad[0]:g}, not a class label (labels are integers){hint()}")
    k = len(np.unique(y))
    if args.model == "logreg" and k > 2:
        raise CLIError(f"{where} has {k} classes but logreg is binary: use 'train mlp' for k classes{hint()}")


#: The largest model ``train`` builds (every parameter is a Value, about 150 bytes;
#: build bigger ones with `autograd_lite.nn` in Python).
MAX_PARAMETERS = 1_000_000


def _train_options(args: argparse.Namespace) -> None:
    """Options that do not apply to the chosen model are an error, not ignored."""
    if args.model == "logreg":
        given = [flag for flag, v in (("--hidden", args.hidden), ("--activation", args.activation)) if v is not None]
        if given:
            raise CLIError(f"{' and '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to 'train mlp' only "
                           "(logistic regression has no hidden layer)")


def cmd_train(args: argparse.Namespace) -> int:
    import numpy as np

    from autograd_lite import data, losses, nn, optim, train

    _train_options(args)
    _distinct(("--save", args.save), ("--plot", args.plot))
    if args.save:
        _destination(args.save, "--save", args.force)
    if args.plot:
        _destination(args.plot, "--plot", args.force)
        import autograd_lite.figures  # noqa: F401  (matplotlib missing: fail now, not after training)
    name, X, y, feature_names, target_name = _load_dataset(args)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    classes = np.unique(y)
    k = len(classes)
    if k == 1:
        print(f"warning: the target {target_name!r} has one class only ({classes[0]:g}): the model can only "
              "learn to predict it, and accuracy says nothing", file=sys.stderr)
    y = np.searchsorted(classes, y).astype(float)  # class indices 0 … k-1 (the labels are kept in the model file)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=args.test_size, seed=args.seed)
    X_train, X_test, mean, std = data.standardize(X_train, X_test)
    nin = X.shape[1]
    multiclass = k > 2
    init = args.init or ("zeros" if args.model == "logreg" else "random")
    if args.model == "logreg":
        model: Any = nn.LogisticRegression(nin, init=init, seed=args.seed)
        desc = f"logistic regression on {name} ({nin} features)"
    else:
        hidden, activation = args.hidden or (16, 16), args.activation or "relu"
        nout = k if multiclass else 1
        sizes = [nin, *hidden, nout]
        n_params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
        if n_params > MAX_PARAMETERS:
            raise CLIError(f"--hidden {','.join(map(str, hidden))}: the MLP would have {n_params:,} parameters, "
                           f"more than the command line builds ({MAX_PARAMETERS:,}); give smaller --hidden sizes")
        model = nn.MLP(nin, [*hidden, nout], activation=activation,
                       output_activation="linear" if multiclass else "sigmoid", init=init, seed=args.seed)
        desc = (f"MLP {nin}→{'→'.join(map(str, hidden))}→{nout} ({activation}, {init} init"
                f"{', softmax over ' + str(k) + ' classes' if multiclass else ''}) on {name}")
    lr = args.lr if args.lr is not None else (0.1 if args.optimizer == "sgd" else 0.01)
    opt = optim.SGD(model.parameters(), lr=lr) if args.optimizer == "sgd" else optim.Adam(model.parameters(), lr=lr)
    if not args.quiet:
        print(f"training {desc}: {len(X_train)} train / {len(X_test)} test examples, "
              f"{args.optimizer} lr={lr:g}, {args.epochs} epochs", file=sys.stderr)
    start = time.perf_counter()
    history = train.fit(model, X_train, y_train, loss=losses.get("cross_entropy" if multiclass else "bce"),
                        optimizer=opt, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                        progress=False if args.quiet else None, engine=args.engine)
    seconds = time.perf_counter() - start
    rows = []
    eps = 1e-12
    for split, Xs, ys in (("train", X_train, y_train), ("test", X_test, y_test)):
        p = np.asarray(train.predict_proba(model, Xs), dtype=float)
        if multiclass:
            idx = ys.astype(int)
            cost = float(-np.mean(np.log(np.clip(p[np.arange(len(idx)), idx], eps, 1))))
            acc = float(np.mean(p.argmax(axis=1) == idx))
        else:
            cost = float(-np.mean(ys * np.log(np.clip(p, eps, 1)) + (1 - ys) * np.log(np.clip(1 - p, eps, 1))))
            acc = float(np.mean(train.classify(p) == (ys == 1)))
        rows.append((split, f"{cost:.4f}", f"{acc:.3f}"))
    print(desc)
    print(format_table(("split", "cost (log loss)", "accuracy"), rows))
    print(f"{args.epochs} epochs in {seconds:.1f} s")
    if args.save:
        model.set_standardization(mean, std)  # the saved model reads raw rows, like the ones it was trained on
        labels = [int(c) for c in classes]
        model.metadata.update({"features": list(feature_names), "target": target_name, "classes": labels,
                               "dataset": name})
        model.save(args.save)
        print(f"wrote {args.save}")
    if args.plot:
        from autograd_lite import figures

        figures.plot_training_curve(history, path=args.plot, title=desc.replace("_", " "))  # words, not code names
        print(f"wrote {args.plot}")
    return 0


# ---------------------------------------------------------------------------
# predict
# ---------------------------------------------------------------------------


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from autograd_lite import data, nn, train

    out_path = _destination(args.out, "--out", args.force) if args.out else None
    _distinct(("MODEL.json", args.model), ("--data", args.data), ("--out", args.out))
    for flag, path in (("MODEL.json", args.model), ("--data", args.data)):  # both, before reading either
        if not os.path.exists(path):
            raise CLIError(f"{flag} {path}: no such file")
        if os.path.isdir(path):
            raise CLIError(f"{flag} {path} is a directory, not a file")
    model = nn.Module.load(args.model)
    meta = model.metadata
    header, table = data.read_csv_table(args.data)
    features = meta.get("features")
    nin = getattr(model, "nin", None)
    if isinstance(features, list) and all(isinstance(f, str) for f in features):
        missing = [f for f in features if f not in header]
        if missing:
            raise CLIError(f"{args.data} lacks the model's feature column(s) {', '.join(map(repr, missing[:5]))}"
                           f"{' …' if len(missing) > 5 else ''} (the model was trained on: {', '.join(features)})")
        X = table[:, [header.index(f) for f in features]]
    elif table.shape[1] == nin:
        X = table
    else:
        raise CLIError(f"{args.data} has {table.shape[1]} columns but the model takes {nin} features")
    p = np.asarray(train.predict_proba(model, X), dtype=float)
    classes = meta.get("classes") if isinstance(meta.get("classes"), list) else None
    if p.ndim == 2:
        idx = p.argmax(axis=1)
        prob = p[np.arange(len(idx)), idx]
    else:
        idx = train.classify(p)  # class 1 where p ≥ 0.5: the library's one rule
        prob = np.where(idx == 1, p, 1 - p)
    labels = [classes[i] if classes and i < len(classes) else int(i) for i in idx]
    text = _csv_text([("prediction", "probability")] + [(_csv_cell(c), f"{q:.6g}") for c, q in zip(labels, prob)])
    if out_path is not None:
        out_path.write_text(text, encoding="utf-8", newline="")
        print(f"wrote {len(labels)} predictions to {out_path}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    target = meta.get("target")
    if isinstance(target, str) and target in header:
        truth = table[:, header.index(target)].tolist()
        acc = float(np.mean([isinstance(a, (int, float)) and float(a) == float(b) for a, b in zip(labels, truth)]))
        print(f"accuracy on the {len(labels)} rows of {Path(args.data).name} (column {target!r}): {acc:.3f}",
              file=sys.stderr)
    return 0


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP's CSV-injection list


def _csv_cell(x: Any) -> str:
    """A class name as a CSV cell that a spreadsheet shows as text: a name that starts
    like a formula (= + - @ tab CR) gets a leading ' (a negative number stays a number)."""
    text = str(x)
    if text.startswith(_FORMULA_START) and not _NUMBER_CELL.match(text):
        return "'" + text
    return text


_NUMBER_CELL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


def _csv_text(rows: list[tuple[str, str]]) -> str:
    """Rows as CSV text (the csv module quotes commas, quotes and line breaks)."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# explain
# ---------------------------------------------------------------------------

_EXPLAIN_EPILOG = """\
output:
  the forward list (every node in evaluation order with its value) and the
  backward ledger: for each node, the upstream gradient dL/dnode and, per input,
  the local derivative (the table's formula with the numbers), the product and
  the running sum. The expression language is the one of 'autograd-lite grad'.

examples:
  autograd-lite explain "bce(sigmoid(w1*x1 + w2*x2 + b), y)" --at x1=1.5 x2=-0.5 w1=0.3 w2=-0.8 b=0.1 y=1
  autograd-lite explain "x*x + x" --at x=3 --paths x
  autograd-lite explain "sigmoid(w*x + b)" --at w=2 x=0.5 b=-1 --forward w
  autograd-lite explain "tanh(w*x)" --at w=0.5 x=2 --html backprop.html --gif backprop.gif
  autograd-lite explain "bce(sigmoid(w*x + b), y)" --at w=2 x=0.5 b=-1 y=1 --level labels --html bp.html
"""


def _add_explain_parser(sub) -> None:
    x = sub.add_parser("explain", help="the chain-rule ledger of backprop, step by step", epilog=_EXPLAIN_EPILOG,
                       formatter_class=_FMT, description="Show every multiplication and sum backprop performs.")
    x.add_argument("expression", help='e.g. "bce(sigmoid(w1*x1 + w2*x2 + b), y)" (quote it for the shell)')
    _add_at(x)
    x.add_argument("--paths", metavar="NAME", help="write d(root)/d(NAME) as a sum over paths of products")
    x.add_argument("--forward", metavar="NAME", help="add each node's tangent d(node)/d(NAME) (forward mode)")
    x.add_argument("--markdown", action="store_true", help="print the ledger as Markdown tables")
    x.add_argument("--precision", type=_positive_int, default=4, help="significant digits shown (default 4)")
    x.add_argument("--names", choices=NAMES, default="auto",
                   help="how unlabelled nodes are called, in the ledger and the pictures: auto (short expressions "
                        "such as 'log a', else v1, v2, …), labels (v1, v2, …), expression (longer expressions)")
    x.add_argument("--html", metavar="FILE.html", help="write the step-through page (self-contained HTML)")
    x.add_argument("--gif", metavar="FILE.gif", help="write the backward pass as an animated GIF (needs Pillow)")
    x.add_argument("--force", action="store_true", help="overwrite an existing --html or --gif file")
    x.add_argument("--level", choices=("full", "labels"), default="full",
                   help="full: every op (default); labels: only the labelled nodes and the variables, one "
                        "derivative per edge")
    x.add_argument("--layout", choices=("slide", "wide"), default=None,
                   help="picture layout of --html/--gif (default: slide for --html, wide for --gif)")


def cmd_explain(args: argparse.Namespace) -> int:
    from autograd_lite.explain import PathLimitError, explain, render_backprop

    text = args.expression.lstrip(" ")  # main() shields an expression that starts with '-' by a space
    at = _expr.parse_assignments(args.at)
    if _expr.is_program(text):  # "z = w*x + b; a = sigmoid(z); L = bce(a, y)": named nodes (for --level labels)
        out, leaves = _expr.evaluate_program(text, at)
        variables: tuple[str, ...] = tuple(leaves)
        heading = "; ".join(s.strip() for s in re.split(r"[;\n]", text) if s.strip())
    else:
        e = _expr.parse(text)
        variables, heading = e.variables, ""
    for flag, name in (("--paths", args.paths), ("--forward", args.forward)):
        if name is not None and name not in variables:
            raise CLIError(f"{flag} {name}: not a variable of the expression (its variables: "
                           f"{', '.join(variables) or 'none'})")
    for flag, path, suffix in (("--html", args.html, ".html"), ("--gif", args.gif, ".gif")):
        if path is not None and not path.lower().endswith(suffix):
            raise CLIError(f"{flag} writes a {suffix} file; got {path!r}")
        if path is not None:
            _destination(path, flag, args.force)  # before any work, like every other output file
    if args.precision > 17:
        raise CLIError(f"--precision is at most 17 significant digits; got {args.precision}")
    for flag, name in (("--paths", args.paths), ("--forward", args.forward)):
        if name is not None and args.level == "labels":
            raise CLIError(f"{flag} works on the full graph: drop --level labels (or drop {flag})")
    if not heading:
        out, leaves = _expr.evaluate(e, at)
        out.label = "f" if "L" in e.variables else "L"
        heading = f"{out.label} = {e.text}"
    ex = explain(out, forward=leaves[args.forward] if args.forward else None, precision=args.precision,
                 level=args.level, names=args.names)
    print(heading)
    print()
    print(ex.to_markdown() if args.markdown else ex)
    if args.paths:
        try:
            ps = ex.paths(leaves[args.paths])
        except PathLimitError as err:
            raise CLIError(f"--paths {args.paths}: {str(err).split(';')[0]}; the backward ledger above sums the "
                           f"same products node by node") from None
        print()
        print(ps)
    for path in (args.html, args.gif):
        if path:
            layout = {"layout": args.layout} if args.layout else {}
            try:
                print(f"wrote {render_backprop(out, path, explanation=ex, **layout)}")
            except ValueError as err:  # a GIF too big to read: the message names the way forward
                raise CLIError(str(err).replace("level='labels'", "--level labels").replace(
                    "render_backprop(L, 'backprop.html')", "--html backprop.html")) from None
    return 0


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


_DEMO_MARKER = ".autograd-lite-demo"


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {args.out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / _DEMO_MARKER).exists() and not args.force:
        raise CLIError(f"--out {args.out} is a folder that a previous demo did not make and it is not empty; "
                       "pass --force to write into it (files with the demo's names are replaced)")
    parent = out.resolve().parent
    if not out.exists() and not os.access(parent, os.W_OK | os.X_OK) and parent.exists():
        raise CLIError(f"--out {args.out}: cannot write in {str(parent)!r} (permission denied)")
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK | os.X_OK):
        raise CLIError(f"--out {args.out}: the folder is not writable")
    (out / _DEMO_MARKER).write_text("written by autograd-lite demo: it may rewrite this folder\n", encoding="utf-8")
    wrote: list[Path] = []
    fast = args.fast

    print("== 1. The z → a → L graph (C1, C2, C5, C6) ==")
    g = walkthrough.build_zal_graph(**walkthrough.DEFAULT_POINT)
    wrote += _draw_demo_graph(g.L, out)
    wrote += _explain_demo_graph(out)
    print()
    print("== 2. Autodiff vs the analytic formulas vs finite differences (C6, C9) ==")
    walkthrough.main()
    print()
    print("== 3. Training (C4, C7, C12, C13, C14) ==")
    moons: dict[str, Any] = {}
    trained = _demo_training(fast, moons)
    print()
    print("== 4. Figures (C3, C4, C9, C10, C11, C12) ==")
    try:
        from autograd_lite import figures

        # the moons figure draws the models trained above: its numbers are the ones printed
        wrote += figures.save_all(out, fast=fast, trained=trained, progress=print, moons=moons)
    except ImportError as e:
        print(f"note: {_one_line(e)} -- skipping the figures")
    print()
    print(f"wrote {len(wrote)} files into {out}/:")
    for p in wrote:
        print(f"  {p}")
    return 0


_SLIDE = {"layout": "slide"}  # the demo's graph goes on a slide


def _draw_demo_graph(root, out: Path) -> list[Path]:
    from autograd_lite import viz

    wrote = []
    for fmt in ("svg", "png"):
        try:
            wrote.append(Path(viz.render_graph(root, out / f"z_a_L.{fmt}", **_SLIDE)))
        except viz.GraphvizNotFoundError:
            wrote.append(Path(viz.render_graph(root, out / "z_a_L.dot", **_SLIDE)))
            print("note: Graphviz 'dot' is not installed; wrote the graph as DOT source instead "
                  "(install Graphviz to get SVG/PNG)")
            break
    for p in wrote:
        print(f"  drew {p}")
    return wrote


def _explain_demo_graph(out: Path) -> list[Path]:
    """Backprop on the z → a → L graph, step by step: the ledger at the level of the labels (C6) and
    of every op, ∂L/∂w1 over paths, and both step-throughs as HTML and GIF."""
    from autograd_lite import viz

    print()
    print("Backprop at the level of the labels (C6: L → a → z → w1, x1, w2, x2, b):")
    print("\n".join("  " + line for line in str(walkthrough.explain_zal(level="labels")).splitlines()))
    ex = walkthrough.explain_zal()
    print()
    print("Backprop on every op of this graph, step by step (autograd-lite explain shows it for any expression):")
    print("\n".join("  " + line for line in str(ex).splitlines()))
    print()
    print("\n".join("  " + line for line in str(ex.paths("w1")).splitlines()))
    try:
        wrote = walkthrough.write_step_throughs(out, note=print)
    except viz.GraphvizNotFoundError:
        return []  # already said above: the graph was written as DOT source
    for p in wrote:
        print(f"  drew {p} (step through the backward pass)")
    return wrote


def _demo_training(fast: bool, moons: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train the demo's models and print their numbers; ``moons`` (if given) receives the
    two-moons run for `figures.decision_boundary_data` (``trained=``)."""
    import numpy as np

    from autograd_lite import data, losses, nn, optim, train

    trained: dict[str, Any] = {}
    X, y, _ = data.load_breast_cancer()
    X_tr, X_te, y_tr, y_te = data.train_test_split(np.asarray(X, float), np.asarray(y, float), test_size=0.25,
                                                   seed=0)
    X_tr, X_te, _, _ = data.standardize(X_tr, X_te)
    logreg = nn.LogisticRegression(X_tr.shape[1])
    hist = train.fit(logreg, X_tr, y_tr, loss=losses.get("bce"), optimizer=optim.SGD(logreg.parameters(), lr=0.5),
                     epochs=20 if fast else 100, seed=0, progress=False, engine="vectorized")
    acc = float(train.accuracy(logreg, X_te, y_te))
    print(f"  logistic regression, breast cancer (30 features): cost {hist.cost[0]:.3f} → {hist.cost[-1]:.3f}, "
          f"test accuracy {acc:.3f}")
    trained["logreg_cancer"] = (logreg, hist)

    X, y = data.make_moons(200, noise=0.15, seed=0)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=0)
    for name, model in (("logreg_moons", nn.LogisticRegression(2)),
                        ("mlp_moons", nn.MLP(2, [16, 16, 1], activation="relu", output_activation="sigmoid",
                                             seed=0))):
        hist = train.fit(model, X_tr, y_tr, loss=losses.get("bce"), optimizer=optim.Adam(model.parameters(), lr=0.02),
                         epochs=60 if fast else 300, seed=0, progress=False, engine="vectorized")
        what = "logistic regression" if name.startswith("logreg") else "MLP 2→16→16→1 (relu)"
        print(f"  {what}, two moons: cost {hist.cost[0]:.3f} → {hist.cost[-1]:.3f}, "
              f"test accuracy {float(train.accuracy(model, X_te, y_te)):.3f}")
        trained[name] = (model, hist)
        if moons is not None:
            moons.update(X=X_tr, y=y_tr, X_test=X_te, y_test=y_te)
            moons.setdefault("models", {})[what] = (model, hist)

    # the same model trained by both engines: the same numbers, very different times (issue 8)
    times, costs = {}, {}
    for engine in ("scalar", "vectorized"):
        model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation="sigmoid", seed=0)
        t0 = time.perf_counter()
        hist = train.fit(model, X_tr, y_tr, loss=losses.get("bce"), optimizer=optim.SGD(model.parameters(), lr=0.1),
                         epochs=5, seed=0, progress=False, engine=engine)
        times[engine], costs[engine] = (time.perf_counter() - t0) / 5, hist.cost
    same = max(abs(a - b) for a, b in zip(costs["scalar"], costs["vectorized"]))
    print(f"  one epoch of that MLP on {len(X_tr)} points: scalar Value graphs {times['scalar'] * 1e3:.1f} ms, "
          f"vectorized {times['vectorized'] * 1e3:.2f} ms ({times['scalar'] / times['vectorized']:.0f}× faster; "
          f"costs agree to {same:.0e})")
    return trained


def _one_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# repl
# ---------------------------------------------------------------------------

REPL_BANNER = """\
autograd_lite {version}: Value, grad, gradcheck, nn, optim, losses, data, train are imported (as al: the package).
try:  x = Value(2.0, label="x"); y = (x * x).sigmoid(); y.backward(); print(y, x.grad)
help: help(Value); print(al.derivative_table()); quit with Ctrl-D or exit()"""


def repl_namespace() -> dict[str, Any]:
    """What the console starts with: the package as ``al``, its public names and submodules."""
    import importlib

    import autograd_lite as al

    ns: dict[str, Any] = {"al": al, "autograd_lite": al}
    ns.update({name: getattr(al, name) for name in al.__all__})  # exactly `from autograd_lite import *`
    for mod in ("nn", "optim", "losses", "data", "train", "transforms", "check", "viz", "figures"):
        try:
            ns[mod] = importlib.import_module(f"autograd_lite.{mod}")
        except ImportError:  # e.g. figures without matplotlib
            pass
    return ns


def setup_completion(namespace: dict[str, Any]) -> bool:
    """Tab completion of the console's names (and their attributes) with rlcompleter,
    where readline is available; returns whether it was set up."""
    try:
        import readline
        import rlcompleter
    except ImportError:  # e.g. Windows without pyreadline
        return False
    readline.set_completer(rlcompleter.Completer(namespace).complete)
    if "libedit" in (getattr(readline, "__doc__", "") or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    return True


def cmd_repl(args: argparse.Namespace) -> int:
    import code

    namespace = repl_namespace()
    failed = False

    class Console(code.InteractiveConsole):
        def showtraceback(self) -> None:
            nonlocal failed
            failed = True
            super().showtraceback()

        def showsyntaxerror(self, filename: str | None = None, **kw: Any) -> None:
            nonlocal failed
            failed = True
            super().showsyntaxerror(filename, **kw)

        def raw_input(self, prompt: str = "") -> str:
            return input(prompt if interactive else "")  # no '>>> ' litter in piped output

    interactive = sys.stdin.isatty()
    if interactive:
        setup_completion(namespace)
    Console(namespace).interact(banner=REPL_BANNER.format(version=_version()), exitmsg="")
    # a script piped in that raised fails the run, like `python script.py`; an interactive session does not
    return 1 if failed and not interactive else 0


# ---------------------------------------------------------------------------


_PLAYGROUND_EPILOG = """\
examples:
  autograd-lite playground site            # write the site into ./site (npm fetches Pyodide once)
  autograd-lite playground site --serve    # ... and serve it on http://127.0.0.1:8000/
"""


def cmd_playground(args: argparse.Namespace) -> int:
    from autograd_lite import playground

    if not 0 <= args.port <= 65535:
        raise CLIError(f"--port is a TCP port from 0 to 65535; got {args.port}")
    try:
        index = playground.build(args.dir, force=args.force)
    except playground.PlaygroundError as e:
        raise CLIError(str(e).replace("pass --force", "use --force")) from None
    size = playground.site_size(args.dir)
    print(f"wrote {index} ({size / 1e6:.1f} MB with Pyodide, viz-js and the wheels)")
    if args.serve:
        playground.serve(args.dir, args.port)
    else:
        print(f"serve it with: autograd-lite playground {args.dir} --serve")
    return 0


_COMMANDS = {"grad": cmd_grad, "explain": cmd_explain, "train": cmd_train, "predict": cmd_predict,
             "demo": cmd_demo, "repl": cmd_repl, "learn": cmd_learn, "playground": cmd_playground}


def _anticipated() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [CLIError, _expr.ExprError, OSError, ValueError, ImportError,
                                         ArithmeticError]
    try:
        from autograd_lite.viz import GraphvizNotFoundError

        errors.append(GraphvizNotFoundError)
    except ImportError:
        pass
    return tuple(errors)


_NUMBER_ARG = re.compile(r"-(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


def _shield_expression(argv: list[str]) -> list[str]:
    """``grad "-x**2"`` (or ``explain "-x"``): argparse would take an argument that
    starts with '-' for an option; the first such argument of ``grad`` or ``explain``
    that is not an option or a number is the expression, passed on with a leading
    space (which the parser ignores)."""
    if argv[:1] not in (["grad"], ["explain"]) or "--" in argv:
        return argv
    out = list(argv)
    for i in range(1, len(out)):
        t = out[i]
        if t.startswith("-") and not t.startswith("--") and t not in ("-h",) and not _NUMBER_ARG.match(t):
            out[i] = " " + t
            break
    return out


# Python argument names that library errors may mention → the command line's words
_CLI_WORDS = {"test_size": "--test-size", "batch_size": "--batch-size", "epochs": "--epochs", "lr": "--lr",
              "eps": "--eps", "seed": "--seed", "target": "--target", "hidden": "--hidden", "n": "--n-samples"}


def cli_language(message: str) -> str:
    """Rewrite a library error for the command line: ``test_size=0.9`` → ``--test-size 0.9``,
    ``pass format=...`` → the file suffix, ``pass binary=False`` → ``--target``."""
    message = re.sub(r"\s*\(?(?:or )?pass format=\)?", "", message)
    message = re.sub(r"\(?pass binary=False for other targets\)?", "(name the label column with --target COL)",
                     message)
    for name, flag in _CLI_WORDS.items():
        message = re.sub(rf"\bpass {name}=", f"use {flag} ", message)
        message = re.sub(rf"(?<![\w-]){name}=(?=\S)", f"{flag} ", message)
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed --check, 2 error)."""
    argv = _shield_expression(list(sys.argv[1:] if argv is None else argv))
    try:
        args = build_parser().parse_args(argv)
    except CLIError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help / --version
        return int(e.code or 0)
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except _anticipated() as e:
        print(f"error: {cli_language(_one_line(e))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
