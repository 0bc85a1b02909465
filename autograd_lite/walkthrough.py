"""The seed's z → a → L walkthrough (claims C1, C2, C5, C6, C9) as a table.

Logistic regression on two features, ŷ = a = σ(z), z = w1·x1 + w2·x2 + b, with
the log loss L = −[y log a + (1 − y) log(1 − a)].  Every derivative is computed
three ways -- backprop, the analytic formula of C6, central finite differences
-- and printed side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograd_lite.check import numerical_grad
from autograd_lite.engine import Value
from autograd_lite.text import format_table

__all__ = ["LogRegGraph", "build_zal_graph", "derivative_rows", "format_rows", "DEFAULT_POINT", "explain_zal",
           "write_step_throughs"]

DEFAULT_POINT = {"x1": 1.5, "x2": -0.5, "w1": 0.3, "w2": -0.8, "b": 0.1, "y": 1.0}


@dataclass
class LogRegGraph:
    """The labelled nodes of the seed's computational graph."""

    x1: Value
    x2: Value
    w1: Value
    w2: Value
    b: Value
    y: float
    z: Value
    a: Value
    L: Value


def build_zal_graph(x1: float = 1.5, x2: float = -0.5, w1: float = 0.3, w2: float = -0.8,
                    b: float = 0.1, y: float = 1.0) -> LogRegGraph:
    """Build z = w1·x1 + w2·x2 + b, a = σ(z), L = −[y log a + (1 − y) log(1 − a)]
    with labelled nodes, and backpropagate from L."""
    if y not in (0, 1):
        raise ValueError(f"y is a binary label, 0 or 1; got {y!r}")
    nodes = {k: Value(v, label=k) for k, v in dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b).items()}
    p1 = nodes["w1"] * nodes["x1"]
    p1.label = "w1·x1"
    p2 = nodes["w2"] * nodes["x2"]
    p2.label = "w2·x2"
    z = p1 + p2 + nodes["b"]
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = -(y * a.log() + (1 - y) * (1 - a).log())  # inner nodes: named by autograd_lite.naming (log a, 1 − a, …)
    L.label = "L"
    L.backward()
    return LogRegGraph(**nodes, y=float(y), z=z, a=a, L=L)


def _loss(x1, x2, w1, w2, b, y):
    a = (w1 * x1 + w2 * x2 + b).sigmoid()
    return -(y * a.log() + (1 - y) * (1 - a).log())


def derivative_rows(point: dict[str, float] | None = None) -> list[tuple[str, str, float, float, float]]:
    """Rows (derivative, analytic formula, autodiff, analytic, numeric) for C6 and C9."""
    p = {**DEFAULT_POINT, **(point or {})}
    g = build_zal_graph(**p)
    a, y = g.a.data, g.y
    names = ["x1", "x2", "w1", "w2", "b"]
    def loss(x1: float, x2: float, w1: float, w2: float, b: float) -> float:
        return _loss(x1, x2, w1, w2, b, y)

    numeric = dict(zip(names, numerical_grad(loss, [p[n] for n in names])))
    return [
        ("dL/da", "−y/a + (1−y)/(1−a)", g.a.grad, -y / a + (1 - y) / (1 - a), float("nan")),
        ("da/dz", "a(1 − a)  [σ' = σ(1−σ)]", g.z.grad / g.a.grad, a * (1 - a), float("nan")),
        ("dL/dz", "a − y", g.z.grad, a - y, float("nan")),
        ("dL/dw1", "x1(a − y)", g.w1.grad, p["x1"] * (a - y), numeric["w1"]),
        ("dL/dw2", "x2(a − y)", g.w2.grad, p["x2"] * (a - y), numeric["w2"]),
        ("dL/db", "a − y", g.b.grad, a - y, numeric["b"]),
    ]


def explain_zal(point: dict[str, float] | None = None, level: str = "full"):
    """The chain-rule ledger of backprop on the z → a → L graph (`autograd_lite.explain`);
    ``level="labels"``: the course's seven steps of C6 (L → a → z → w1, x1, w2, x2, b)."""
    from autograd_lite.explain import explain

    return explain(build_zal_graph(**{**DEFAULT_POINT, **(point or {})}).L, level=level)


def write_step_throughs(out: Path | str, point: dict[str, float] | None = None,
                        note: Callable[[str], None] = print) -> list[Path]:
    """Write the z → a → L backward pass step by step into folder ``out``: the course's picture
    (``backprop_labels.html``/``.gif``: only the labelled nodes, C6's seven steps) and every op
    (``backprop.html``/``.gif``).  A GIF needs Pillow: without it ``note`` says so and it is skipped.
    Returns the paths written (raises `GraphvizNotFoundError` without Graphviz)."""
    from autograd_lite.explain import render_backprop

    out = Path(out)
    wrote = []
    for level, stem in (("labels", "backprop_labels"), ("full", "backprop")):
        ex = explain_zal(point, level=level)
        for suffix in (".html", ".gif"):
            try:
                wrote.append(render_backprop(ex.root, out / (stem + suffix), explanation=ex))
            except ImportError as e:
                note(f"note: {str(e).splitlines()[0]} -- skipping {stem + suffix}")
    return wrote


def format_rows(rows) -> str:
    return format_table(("derivative", "formula", "autodiff", "analytic", "numeric"),
                        [(d, f, f"{au:+.8f}", f"{an:+.8f}", "" if num != num else f"{num:+.8f}")
                         for d, f, au, an, num in rows])


def symbolic_rows(point: dict[str, float] | None = None) -> list[tuple[str, str, str, bool, float, float, float]]:
    """SymPy derives the C6 derivatives from the graph itself (y a leaf too, so the
    formulas are general; the labelled nodes z and a kept as symbols, so they read
    as the course writes them): rows (derivative, SymPy's formula, the formula by
    hand, whether SymPy − hand simplifies to 0, SymPy's value, the hand formula's
    value, autodiff).  Needs SymPy (autograd-lite[symbolic])."""
    import sympy

    from autograd_lite import symbolic
    from autograd_lite.engine import gradients

    p = {**DEFAULT_POINT, **(point or {})}
    v = {k: Value(p[k], label=k) for k in ("x1", "x2", "w1", "w2", "b", "y")}
    z = v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["b"]
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = -(v["y"] * a.log() + (1 - v["y"]) * (1 - a).log())
    L.label = "L"
    s = {node.label: sym for node, sym in symbolic.node_symbols(L, keep="labels").items()}
    wrt = {"dL/da": (L, a, "−y/a + (1−y)/(1−a)", -s["y"] / s["a"] + (1 - s["y"]) / (1 - s["a"])),
           "da/dz": (a, z, "a(1 − a)", s["a"] * (1 - s["a"])),
           "dL/dz": (L, z, "a − y", s["a"] - s["y"]),
           "dL/dw1": (L, v["w1"], "x1(a − y)", s["x1"] * (s["a"] - s["y"])),
           "dL/dw2": (L, v["w2"], "x2(a − y)", s["x2"] * (s["a"] - s["y"])),
           "dL/db": (L, v["b"], "a − y", s["a"] - s["y"])}
    rows = []
    for name, (out, node, hand_text, hand) in wrt.items():
        f = symbolic.symbolic_gradients(out, [node], keep="labels")[node]   # derived, never substituted by hand
        rows.append((name, str(f), hand_text, sympy.simplify(f - hand) == 0,
                     symbolic.evaluate(f, L, keep="labels"), symbolic.evaluate(hand, L, keep="labels"),
                     gradients(out, [node])[0]))
    return rows


def format_symbolic_rows(rows) -> str:
    return format_table(("derivative", "SymPy, derived from the graph", "by hand", "SymPy − hand",
                         "SymPy", "by hand", "autodiff"),
                        [(d, f, h, "0" if same else "≠ 0", f"{sv:+.8f}", f"{hv:+.8f}", f"{au:+.8f}")
                         for d, f, h, same, sv, hv, au in rows])


def main() -> None:
    p = DEFAULT_POINT
    g = build_zal_graph(**p)
    print("Logistic regression as a computational graph (C1, C5, C6):")
    print(f"  z = w1·x1 + w2·x2 + b = {g.z.data:.6f}")
    print(f"  a = σ(z)               = {g.a.data:.6f}   (estimate of P(y = 1 | x))")
    print(f"  L = −[y log a + (1 − y) log(1 − a)] = {g.L.data:.6f}   with y = {g.y:g}")
    print()
    print(format_rows(derivative_rows(p)))
    print()
    try:
        rows = symbolic_rows(p)
    except ImportError:
        print("(install autograd-lite[symbolic] to see SymPy derive these formulas from the graph)")
        return
    print("SymPy derives them from the graph (y a symbol; the labelled nodes z and a kept as symbols):")
    print(format_symbolic_rows(rows))


if __name__ == "__main__":
    main()
