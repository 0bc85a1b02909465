"""The ``autograd-lite`` command line (also ``python -m autograd_lite``).

Subcommands: ``grad`` (differentiate an expression), ``train`` (logistic
regression or an MLP on a dataset), ``demo`` (the course walkthrough with its
figures) and ``repl`` (a Python console with the library imported).

Every anticipated error -- a bad argument, a rejected expression, a missing
file, Graphviz or matplotlib not installed, a bad CSV -- is printed as ONE line
``error: ...`` on stderr with exit status 2 (never a traceback).  ``grad
--check`` exits with 1 when a gradient check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autograd_lite import expr as _expr
from autograd_lite import walkthrough
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
  autograd-lite demo --out demo-output
  autograd-lite repl
"""

_GRAD_EPILOG = f"""\
the expression language:
  numbers, variables (letters and digits, no underscores), + - * / **,
  unary minus, parentheses, the functions exp log sigmoid tanh relu sqrt abs,
  and the losses bce(a, y) = -[y log a + (1-y) log(1-a)] and mse(a, y) = (a-y)^2.
  Numbers are floats (9**9**9 is inf). At most {_expr.MAX_LENGTH} characters,
  brackets nested at most {_expr.MAX_DEPTH} deep. Nothing else is accepted.

output:
  the value of the expression and d/d(variable) for every variable, in the
  order given by --at. --check adds central finite differences and the errors
  (exit status 1 if a check fails). --json prints
  {{"expression", "value", "grad": {{name: number}}, "check": null or {{...}}}};
  non-finite numbers are written as the strings "inf", "-inf" and "nan".

examples:
  autograd-lite grad "x**2 + 3*x" --at x=2
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

A CSV needs a header row, numeric columns and a 0/1 target column.
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="{grad,train,demo,repl}")

    g = sub.add_parser("grad", help="value and derivatives of an expression", epilog=_GRAD_EPILOG,
                       formatter_class=_FMT, description="Differentiate an expression by backpropagation.")
    g.add_argument("expression", help='e.g. "sigmoid(w*x + b)" (quote it for the shell)')
    g.add_argument("--at", nargs="+", action="extend", default=[], metavar="NAME=NUMBER",
                   help="the value of every variable, e.g. --at x1=1.5 w1=-0.3")
    g.add_argument("--check", action="store_true", help="compare with central finite differences")
    g.add_argument("--eps", type=float, default=1e-6, help="finite-difference step for --check (default 1e-6)")
    g.add_argument("--json", action="store_true", help="print the result as JSON")
    g.add_argument("--graph", metavar="FILE", help="draw the computational graph (.svg, .png, .pdf or .dot)")
    g.add_argument("--analytic", action="store_true",
                   help="add SymPy's formula for each derivative and its value; with --json an \"analytic\" "
                        "entry {name: {formula, latex, value}} (needs autograd-lite[symbolic])")

    t = sub.add_parser("train", help="train logistic regression or an MLP", epilog=_TRAIN_EPILOG,
                       formatter_class=_FMT, description="Train a model with gradient descent and report "
                       "train/test cost and accuracy.")
    t.add_argument("model", choices=["logreg", "mlp"], help="logistic regression or a multi-layer perceptron")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--dataset", choices=["breast_cancer", "moons", "circles"], default=None,
                     help="a built-in dataset (default: breast_cancer for logreg, moons for mlp)")
    src.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row")
    t.add_argument("--target", metavar="COL", help="the 0/1 target column of --data (default: the last one)")
    t.add_argument("--epochs", type=_positive_int, default=100)
    t.add_argument("--lr", type=_positive_float, default=None, help="learning rate (default 0.1 sgd, 0.01 adam)")
    t.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    t.add_argument("--batch-size", type=_positive_int, default=None, help="minibatch size (default: full batch)")
    t.add_argument("--hidden", type=_sizes, default=(16, 16), metavar="N,N,...",
                   help="hidden layer sizes of the MLP (default 16,16)")
    t.add_argument("--activation", choices=["relu", "tanh", "sigmoid"], default="relu")
    t.add_argument("--init", choices=["random", "zeros"], default="random")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--test-size", type=_fraction, default=0.25, help="held-out fraction (default 0.25)")
    t.add_argument("--n-samples", type=_positive_int, default=200, help="size of moons/circles (default 200)")
    t.add_argument("--engine", choices=["scalar", "vectorized"], default="vectorized",
                   help="scalar Value graphs or the vectorized engine (same gradients; default vectorized)")
    t.add_argument("--save", metavar="model.json", help="save the trained model as JSON")
    t.add_argument("--plot", metavar="curve.png", help="plot the training cost curve (needs matplotlib)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    d = sub.add_parser("demo", help="the course walkthrough: graph, derivatives, training, figures",
                       epilog=_DEMO_EPILOG, formatter_class=_FMT,
                       description="Run the whole course walkthrough and write its files into --out.")
    d.add_argument("--out", default="demo-output", metavar="DIR", help="output directory (default ./demo-output)")
    d.add_argument("--fast", action="store_true", help="fewer epochs (for tests)")

    sub.add_parser("repl", help="a Python console with autograd_lite imported", epilog=_REPL_EPILOG,
                   formatter_class=_FMT, description="An interactive Python console with the library imported.")
    return parser


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
    e = _expr.parse(args.expression)
    at = _expr.parse_assignments(args.at)
    missing = [v for v in e.variables if v not in at]
    if missing:
        raise _expr.ExprError(f"variable {missing[0]!r} has no value (give it with --at {missing[0]}=NUMBER)",
                              _first_col(e, missing[0]))
    names = list(at)  # in the order given; variables not in the expression get ∂ = 0
    unused = [n for n in names if n not in e.variables]
    if unused and not args.json:
        print(f"note: {', '.join(unused)} not in the expression (derivative 0)", file=sys.stderr)
    out, leaves = _expr.evaluate(e, at)
    leaves = {n: leaves.get(n) for n in names}
    grads = {}
    if names:
        from autograd_lite.engine import Value, gradients

        for n in names:
            if leaves[n] is None:
                leaves[n] = Value(at[n], label=n)
        grads = dict(zip(names, gradients(out, [leaves[n] for n in names])))
    out.label = "f"
    check = None
    if args.check and names:
        check = _check(e, names, at, args.eps)
    analytic = _analytic(out, [leaves[n] for n in names]) if args.analytic else None
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
            doc["analytic"] = {n: {"formula": f, "latex": tex, "value": _num(v)} for n, (f, tex, v) in
                               zip(names, analytic)}
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(f"f = {e.text}")
        print(f"value = {_fmt(out.data)}")
        if names:
            print()
            if check is None:
                print(format_table(("variable", "value", "∂f/∂variable"),
                                   [(n, _fmt(at[n]), _fmt(grads[n])) for n in names]))
            else:
                print(format_table(("variable", "value", "∂f/∂ (autodiff)", "numeric", "abs error", "ok"),
                                   [(r.input, _fmt(at[r.input]), _fmt(r.autodiff), _fmt(r.numeric),
                                     f"{r.abs_error:.2e}", "yes" if r.ok else "NO") for r in check.rows]))
                print("gradient check:", "passed" if check else "FAILED", f"(eps = {args.eps:g})")
            if analytic is not None:
                print()
                print(format_table(("variable", "∂f/∂ (SymPy)", "SymPy's formula"),
                                   [(n, _fmt(v), f) for n, (f, _, v) in zip(names, analytic)]))
        if args.graph:
            print(f"wrote {path}")
    return 1 if check is not None and not check else 0


def _analytic(out, leaves: list) -> list[tuple[str, str, float]]:
    """--analytic: (formula, its LaTeX, its value) of ∂out/∂leaf for each leaf, derived by SymPy."""
    from autograd_lite import symbolic

    if not leaves:
        return []
    formulas = symbolic.symbolic_gradients(out, leaves)
    values = [symbolic.evaluate(formulas[x], out) for x in leaves]
    return [(str(formulas[x]), symbolic.latex(formulas[x]), v) for x, v in zip(leaves, values)]


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


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------


def _load_dataset(args: argparse.Namespace):
    from autograd_lite import data

    if args.data:
        X, y, _ = data.load_csv(args.data, target=args.target)
        name = Path(args.data).name
    else:
        if args.target:
            raise CLIError("--target goes with --data FILE.csv")
        name = args.dataset or ("breast_cancer" if args.model == "logreg" else "moons")
        if name == "breast_cancer":
            X, y, _ = data.load_breast_cancer()
        elif name == "moons":
            X, y = data.make_moons(args.n_samples, noise=0.2, seed=args.seed)
        else:
            X, y = data.make_circles(args.n_samples, noise=0.1, factor=0.5, seed=args.seed)
    return name, X, y


def cmd_train(args: argparse.Namespace) -> int:
    import numpy as np

    from autograd_lite import data, losses, nn, optim, train

    name, X, y = _load_dataset(args)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=args.test_size, seed=args.seed)
    X_train, X_test, _, _ = data.standardize(X_train, X_test)
    nin = X.shape[1]
    if args.model == "logreg":
        model = nn.LogisticRegression(nin)
        if args.init == "zeros":
            for p in model.parameters():
                p.data = 0.0
        desc = f"logistic regression on {name} ({nin} features)"
    else:
        model = nn.MLP(nin, [*args.hidden, 1], activation=args.activation, output_activation="sigmoid",
                       init=args.init, seed=args.seed)
        desc = f"MLP {nin}→{'→'.join(map(str, args.hidden))}→1 ({args.activation}, {args.init} init) on {name}"
    lr = args.lr if args.lr is not None else (0.1 if args.optimizer == "sgd" else 0.01)
    opt = optim.SGD(model.parameters(), lr=lr) if args.optimizer == "sgd" else optim.Adam(model.parameters(), lr=lr)
    if not args.quiet:
        print(f"training {desc}: {len(X_train)} train / {len(X_test)} test examples, "
              f"{args.optimizer} lr={lr:g}, {args.epochs} epochs", file=sys.stderr)
    start = time.perf_counter()
    history = train.fit(model, X_train, y_train, loss=losses.get("bce"), optimizer=opt, epochs=args.epochs,
                        batch_size=args.batch_size, seed=args.seed, progress=False if args.quiet else None,
                        engine=args.engine)
    seconds = time.perf_counter() - start
    rows = []
    for split, Xs, ys in (("train", X_train, y_train), ("test", X_test, y_test)):
        p = np.asarray(train.predict_proba(model, Xs), dtype=float)
        eps = 1e-12
        cost = float(-np.mean(ys * np.log(np.clip(p, eps, 1)) + (1 - ys) * np.log(np.clip(1 - p, eps, 1))))
        acc = float(np.mean((p >= 0.5) == (ys == 1)))
        rows.append((split, f"{cost:.4f}", f"{acc:.3f}"))
    print(desc)
    print(format_table(("split", "cost (log loss)", "accuracy"), rows))
    print(f"{args.epochs} epochs in {seconds:.1f} s")
    if args.save:
        model.save(args.save)
        print(f"wrote {args.save}")
    if args.plot:
        from autograd_lite import figures

        figures.plot_training_curve(history, path=args.plot, title=desc)
        print(f"wrote {args.plot}")
    return 0


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wrote: list[Path] = []
    fast = args.fast

    print("== 1. The z → a → L graph (C1, C2, C5, C6) ==")
    g = walkthrough.build_zal_graph(**walkthrough.DEFAULT_POINT)
    wrote += _draw_demo_graph(g.L, out)
    print()
    print("== 2. Autodiff vs the analytic formulas vs finite differences (C6, C9) ==")
    walkthrough.main()
    print()
    print("== 3. Training (C4, C7, C12, C13, C14) ==")
    trained = _demo_training(fast)
    print()
    print("== 4. Figures (C3, C4, C9, C10, C11, C12) ==")
    try:
        from autograd_lite import figures

        wrote += figures.save_all(out, fast=fast, trained=trained, progress=print)
    except ImportError as e:
        print(f"note: {_one_line(e)} -- skipping the figures")
    print()
    print(f"wrote {len(wrote)} files into {out}/:")
    for p in wrote:
        print(f"  {p}")
    return 0


def _draw_demo_graph(root, out: Path) -> list[Path]:
    from autograd_lite import viz

    wrote = []
    for fmt in ("svg", "png"):
        try:
            wrote.append(Path(viz.render_graph(root, out / f"z_a_L.{fmt}")))
        except viz.GraphvizNotFoundError:
            wrote.append(Path(viz.render_graph(root, out / "z_a_L.dot")))
            print("note: Graphviz 'dot' is not installed; wrote the graph as DOT source instead "
                  "(install Graphviz to get SVG/PNG)")
            break
    for p in wrote:
        print(f"  drew {p}")
    return wrote


def _demo_training(fast: bool) -> dict[str, Any]:
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
    ns.update({name: getattr(al, name) for name in al.__all__})
    for mod in ("nn", "optim", "losses", "data", "train", "transforms", "check", "viz", "figures"):
        try:
            ns[mod] = importlib.import_module(f"autograd_lite.{mod}")
        except ImportError:  # e.g. figures without matplotlib
            pass
    return ns


def cmd_repl(args: argparse.Namespace) -> int:
    import code

    code.interact(banner=REPL_BANNER.format(version=_version()), local=repl_namespace(), exitmsg="")
    return 0


# ---------------------------------------------------------------------------


_COMMANDS = {"grad": cmd_grad, "train": cmd_train, "demo": cmd_demo, "repl": cmd_repl}


def _anticipated() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [CLIError, _expr.ExprError, OSError, ValueError, ImportError,
                                         ArithmeticError]
    try:
        from autograd_lite.viz import GraphvizNotFoundError

        errors.append(GraphvizNotFoundError)
    except ImportError:
        pass
    return tuple(errors)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed --check, 2 error)."""
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
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
