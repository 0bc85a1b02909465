"""The graph at the level of its labels: the course's picture x1, w1, … → z → a → L.

A graph built from scalar ops has a node per ``×``, ``+``, ``log`` …; the course
draws only the quantities it names.  `label_level` keeps the **labelled** nodes,
the leaves and the root, and gives each kept node ``v`` one edge per kept node
``u`` it is computed from, carrying the derivative of ``v`` with respect to ``u``
*holding the other kept nodes fixed*: backprop from ``v`` through unlabelled nodes
only (the sum over the paths v → u that meet no other kept node of the products
of local derivatives).  The chain rule on this smaller graph gives the same
gradients as on the full one, since every path root → leaf splits uniquely at
the kept nodes it crosses.

A label that only spells out its node's own expression (``w1·x1`` on ``w1 * x1``)
names a picture box, not a quantity of the course: such nodes are not kept.

Where the sub-graph between ``u`` and ``v`` is small, the edge also carries a
formula, derived symbolically (``∂z/∂w1 = x1``), with the log loss recognised
(``∂L/∂a = −y/a + (1 − y)/(1 − a)``).

>>> from autograd_lite.walkthrough import build_zal_graph
>>> g = build_zal_graph()
>>> lv = label_level(g.L)
>>> [(e.node.label, e.input.label) for e in lv.edges][:3]
[('L', 'a'), ('a', 'z'), ('z', 'w1')]
>>> lv.edges[2].formula
'x1'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograd_lite import engine
from autograd_lite.engine import Value, topological_order

__all__ = ["label_level", "LabelLevel", "LabelEdge", "LEVELS"]

#: ``level=`` of `draw_graph`, `explain` and `render_backprop`: every op, or only the labelled nodes.
LEVELS = ("full", "labels")

_FORMULA_LIMIT = 60  # longer formulas are left out: an edge label is not a paragraph
_WORK_PER_NODE, _WORK_SLACK = 20, 100_000  # the label level walks at most 20 × nodes + 10⁵ region nodes
_TREE_LIMIT = 120  # sub-expressions with more nodes get no formula (a DAG can unfold exponentially)


def check_level(level: Any) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(map(repr, LEVELS))}; got {level!r}")


# --------------------------------------------------------------------------
# a small symbolic algebra: expressions as tuples, printed with the usual precedence
# --------------------------------------------------------------------------
# ("n", name) a kept node; ("c", number) a constant; (op, *args) an op of the table
# or one of "sign", "step" (relu's derivative).  Built raw for the forward list
# (what was computed), simplified (0·x = 0, 1·x = x, …) for derivatives.

Expr = tuple

ZERO: Expr = ("c", 0.0)
ONE: Expr = ("c", 1.0)


def _is_c(e: Expr, v: float | None = None) -> bool:
    return e[0] == "c" and (v is None or e[1] == v)


def _mul(a: Expr, b: Expr) -> Expr:
    if _is_c(a, 0.0) or _is_c(b, 0.0):
        return ZERO
    if _is_c(a, 1.0):
        return b
    if _is_c(b, 1.0):
        return a
    if _is_c(a) and _is_c(b):
        return ("c", a[1] * b[1])
    if _is_c(b):  # constants first: 2·x
        a, b = b, a
    if _is_c(a, -1.0):
        return _neg(b)
    if a[0] == "neg":
        return _neg(_mul(a[1], b))
    if b[0] == "neg":
        return _neg(_mul(a, b[1]))
    return ("mul", a, b)


def _div(a: Expr, b: Expr) -> Expr:
    if _is_c(a, 0.0):
        return ZERO
    if _is_c(b, 1.0):
        return a
    if a[0] == "neg":
        return _neg(_div(a[1], b))
    return ("div", a, b)


def _add(a: Expr, b: Expr) -> Expr:
    if _is_c(a, 0.0):
        return b
    if _is_c(b, 0.0):
        return a
    if _is_c(a) and _is_c(b):
        return ("c", a[1] + b[1])
    if b[0] == "neg":
        return _sub(a, b[1])
    if a[0] == "neg":
        return _sub(b, a[1])
    return ("add", a, b)


def _sub(a: Expr, b: Expr) -> Expr:
    if _is_c(b, 0.0):
        return a
    if _is_c(a, 0.0):
        return _neg(b)
    if _is_c(a) and _is_c(b):
        return ("c", a[1] - b[1])
    if b[0] == "neg":
        return _add(a, b[1])
    return ("sub", a, b)


def _neg(a: Expr) -> Expr:
    if _is_c(a):
        return ("c", -a[1])
    if a[0] == "neg":
        return a[1]
    return ("neg", a)


def _replace(e: Expr, old: Expr, new: Expr) -> Expr:
    """``e`` with every sub-expression equal to ``old`` written ``new``: σ(z)·(1 − σ(z)) → a·(1 − a)."""
    if e == old:
        return new
    if e[0] in ("n", "c"):
        return e
    return (e[0], *(_replace(a, old, new) for a in e[1:]))


def _size(e: Expr) -> int:
    return 1 if e[0] in ("n", "c") else 1 + sum(_size(a) for a in e[1:])


def derivative(e: Expr, name: str) -> Expr:
    """∂e/∂name, simplified, for an expression over kept names and constants."""
    op = e[0]
    if op == "n":
        return ONE if e[1] == name else ZERO
    if op == "c":
        return ZERO
    if op == "linear":
        n = (len(e) - 2) // 2
        ws, xs, b = e[1:1 + n], e[1 + n:1 + 2 * n], e[-1]
        out = derivative(b, name)
        for w, x in zip(ws, xs):
            out = _add(out, _add(_mul(derivative(w, name), x), _mul(w, derivative(x, name))))
        return out
    x = e[1]
    dx = derivative(x, name)
    if op == "add":
        return _add(dx, derivative(e[2], name))
    if op == "sub":
        return _sub(dx, derivative(e[2], name))
    if op == "mul":
        return _add(_mul(dx, e[2]), _mul(x, derivative(e[2], name)))
    if op == "div":
        y = e[2]
        dy = derivative(y, name)
        return _sub(_div(dx, y), _div(_mul(x, dy), ("pow", y, ("c", 2.0))))
    if op == "neg":
        return _neg(dx)
    if op == "pow":
        y = e[2]
        dy = derivative(y, name)
        if _is_c(y):
            return _mul(_mul(y, ("pow", x, ("c", y[1] - 1.0)) if y[1] != 2.0 else x), dx)
        return _mul(e, _add(_mul(dy, ("log", x)), _div(_mul(y, dx), x)))
    if _is_c(dx, 0.0):
        return ZERO
    outer: dict[str, Callable[[], Expr]] = {
        "exp": lambda: e,
        "log": lambda: _div(ONE, x),
        "sigmoid": lambda: _mul(e, _sub(ONE, e)),
        "tanh": lambda: _sub(ONE, ("pow", e, ("c", 2.0))),
        "sqrt": lambda: _div(ONE, _mul(("c", 2.0), e)),
        "sin": lambda: ("cos", x),
        "cos": lambda: _neg(("sin", x)),
        "abs": lambda: ("sign", x),
        "relu": lambda: ("step", x),
    }
    if op not in outer:
        raise KeyError(op)
    return _mul(outer[op](), dx)


_WORDS = {"exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tanh": "tanh", "sigmoid": "σ",
          "sign": "sign", "relu": "relu"}
_ATOM = 9


def _num(x: float) -> str:
    if x == 0:
        return "0"
    s = format(x, ".4g")
    return s if not s.startswith("-") else "−" + s[1:]


def to_text(e: Expr) -> str:
    """The expression with the parentheses precedence needs (+ − : 1, · / : 2, unary − : 3, ^ : 4)."""
    return _text(e)[0]


def _text(e: Expr) -> tuple[str, int]:
    op = e[0]
    if op == "n":
        name = e[1]
        return name, _ATOM if name.replace("_", "").replace(".", "").isalnum() else 0
    if op == "c":
        return _num(e[1]), _ATOM if e[1] >= 0 else 3

    def par(arg: Expr, need: int) -> str:
        s, p = _text(arg)
        return s if p >= need else f"({s})"

    if op == "add":
        return f"{par(e[1], 1)} + {par(e[2], 1)}", 1
    if op == "sub":
        return f"{par(e[1], 1)} − {par(e[2], 2)}", 1
    if op == "mul":
        return f"{par(e[1], 2)}·{par(e[2], 3)}", 2
    if op == "div":
        return f"{par(e[1], 2)}/{par(e[2], 3)}", 2
    if op == "neg":  # −(x·y) = (−x)·y: a product or quotient needs no parentheses
        if e[1][0] in ("mul", "div"):
            return f"−{_text(e[1])[0]}", 2
        return f"−{par(e[1], 3)}", 3
    if op == "pow":
        return f"{par(e[1], _ATOM)}^{par(e[2], _ATOM)}", 4
    if op == "linear":
        n = (len(e) - 2) // 2
        terms = [f"{par(w, 3)}·{par(x, 3)}" for w, x in zip(e[1:1 + n], e[1 + n:1 + 2 * n])]
        return " + ".join([*terms, par(e[-1], 1)]), 1
    if op == "abs":
        return f"|{_text(e[1])[0]}|", _ATOM
    if op == "sqrt":
        return f"√{par(e[1], _ATOM)}", 5
    if op == "step":
        return f"[{_text(e[1])[0]} > 0]", _ATOM
    word = _WORDS.get(op, op)
    s, p = _text(e[1])
    if op in ("log", "exp", "sin", "cos", "tanh") and p == _ATOM:
        return f"{word} {s}", 5
    return f"{word}({s})", _ATOM


def _log_loss(e: Expr, name: str) -> tuple[str, str] | None:
    """The course's dL/da = −y/a + (1 − y)/(1 − a) when e is −(y·log a + (1 − y)·log(1 − a))
    with y a number (the graph holds y and 1 − y as constants), in either order of the terms."""
    if e[0] != "neg" or e[1][0] != "add":
        return None
    terms = []
    for t in e[1][1:]:
        if t[0] != "mul":
            return None
        c, f = (t[1], t[2]) if _is_c(t[1]) else (t[2], t[1])
        if not _is_c(c) or f[0] != "log":
            return None
        terms.append((c[1], f[1]))
    a = ("n", name)
    by_arg = {}
    for c, arg in terms:
        if arg == a:
            by_arg["a"] = c
        elif arg == ("sub", ONE, a):
            by_arg["1-a"] = c
    if len(by_arg) != 2 or by_arg["a"] + by_arg["1-a"] != 1.0:
        return None
    a_text = _text(a)[0] if _text(a)[1] == _ATOM else f"({name})"
    return f"−y/{a_text} + (1 − y)/(1 − {a_text})", f"y = {_num(by_arg['a'])}"


# --------------------------------------------------------------------------
# the label level
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelEdge:
    """``input`` → ``node`` at the label level: ``local`` = ∂node/∂input with the other kept
    nodes held fixed; ``formula`` its expression in the kept nodes' names (None when the
    sub-graph between them is too big to print); ``index`` counts ``node``'s label-level inputs."""

    node: Value = field(repr=False)
    index: int
    input: Value = field(repr=False)
    local: float
    formula: str | None
    single_op: bool  # the sub-graph is one op of the table: ``explain``'s templates apply
    note: str = ""  # what the formula's other letters stand for here (``y = 1``)


class LabelLevel:
    """The kept nodes (consumers first, as `topological_order`) and the edges between them
    (grouped by consumer, in that order); ``expression[node]`` is how a kept node is
    computed from kept nodes (raw, as the forward list shows it)."""

    def __init__(self, root: Value, names: Callable[[list[Value]], dict[int, str]] | None = None,
                 model: Any = None) -> None:
        if root.__class__ is not Value:
            raise TypeError(f"the label level needs a Value, got {type(root).__name__}")
        self.root = root
        order = topological_order(root)
        self.order_full = order
        local: dict[tuple[int, int], float] = {}

        def observe(node, index, inp, loc, upstream, contribution, total):
            local[(id(node), index)] = loc

        engine.backprop(root, observe=observe)
        self.local = local
        self.module_of: dict[int, str] = {}
        #: model=: each module's display name (``layer1.neuron2``, from its parameters' labels)
        self.module_names: dict[str, str] = {}
        if model is None:
            kept_ids = {id(n) for n in order if _kept(n, root)}
        else:
            kept_ids = self._neuron_level(order, root, model)
        self.kept = [n for n in order if id(n) in kept_ids]
        self.names = (names or _display_names)(self.kept[::-1])
        if self.module_of:  # a neuron's output is named after its module (#2, #3 … for later examples)
            used: dict[str, int] = {}
            for n in self.kept[::-1]:
                m = self.module_of.get(id(n))
                if m is not None:
                    used[m] = used.get(m, 0) + 1
                    shown = self.module_names.get(m, m)
                    self.names[id(n)] = shown if used[m] == 1 else f"{shown}#{used[m]}"
        position = {id(n): i for i, n in enumerate(order)}
        self.edges: list[LabelEdge] = []
        self.inputs: dict[int, list[Value]] = {}
        self.expression: dict[int, Expr | None] = {}
        # an unlabelled node shared by several labelled consumers is walked once for each: bounded
        self._budget = _WORK_PER_NODE * len(order) + _WORK_SLACK
        for v in self.kept:
            if v.op is None:
                continue
            self._edges_of(v, kept_ids, position)

    def _edges_of(self, v: Value, kept_ids: set[int], position: dict[int, int]) -> None:
        # the region: v and the unlabelled nodes below it, up to kept nodes (its inputs)
        region: dict[int, Value] = {id(v): v}
        inputs: dict[int, Value] = {}
        stack = [v]
        while stack:
            node = stack.pop()
            for p in reversed(node.parents):
                if p.__class__ is not Value:
                    continue
                if id(p) in kept_ids:
                    inputs.setdefault(id(p), p)
                elif id(p) not in region:
                    region[id(p)] = p
                    stack.append(p)
        self._budget -= len(region)
        if self._budget < 0:
            raise ValueError(
                f"the label level of this graph walks its unlabelled nodes once per labelled node that uses them, "
                f"more than {_WORK_PER_NODE}× its {len(position)} nodes: label the shared sub-expressions "
                f"(x.label = 'h'), or explain/draw it at level='full'")
        first: dict[int, int] = {}  # inputs in the order a left-to-right reading meets them
        self._first_seen(v, kept_ids, first, set())
        ins = sorted(inputs.values(), key=lambda u: first[id(u)])
        # backprop from v through the region only: consumers first (their order in the full graph)
        adj: dict[int, float] = {id(v): 1.0}
        acc: dict[int, float] = {}
        for node in sorted(region.values(), key=lambda n: position[id(n)]):
            up = adj.get(id(node), 0.0)
            for j, p in enumerate(node.parents):
                if p.__class__ is not Value:
                    continue
                c = up * self.local[(id(node), j)]
                if id(p) in kept_ids:
                    acc[id(p)] = acc.get(id(p), 0.0) + c
                else:
                    adj[id(p)] = adj.get(id(p), 0.0) + c
        self._current = v
        expr = self._expr(v, kept_ids, len(region))
        self.expression[id(v)] = expr
        single = len(region) == 1
        self.inputs[id(v)] = ins
        for k, u in enumerate(ins):
            formula, note = self._formula(expr, u)
            self.edges.append(LabelEdge(v, k, u, acc[id(u)], formula, single, note))

    def _neuron_level(self, order: list[Value], root: Value, model: Any) -> set[int]:
        """model=: keep the root, the inputs (leaves that are not parameters) and each module's
        output (a node of a neuron's cluster used outside it); parameters fold into their neuron."""
        from autograd_lite.viz import _model_clusters

        cluster, self.module_names, _ = _model_clusters(order, model)
        params = {id(p) for _, p in model.named_parameters()}
        consumers: dict[int, list[Value]] = {}
        for node in order:
            for p in node.parents:
                if p.__class__ is Value:
                    consumers.setdefault(id(p), []).append(node)
        kept = {id(root)} | {id(n) for n in order if n.op is None and id(n) not in params}
        for node in order:
            mod = cluster.get(node)
            if mod is None or node.op is None:
                continue
            if node is root or any(cluster.get(c) != mod for c in consumers.get(id(node), [])):
                kept.add(id(node))
                self.module_of[id(node)] = mod
        for node in order:  # an op on a neuron's output that its module's clustering took in (|z| of a
            vparents = [p for p in node.parents if p.__class__ is Value]  # loss) is not a neuron of its own
            if (id(node) in self.module_of and node is not root and len(vparents) == 1
                    and self.module_of.get(id(vparents[0])) == self.module_of[id(node)]):
                kept.discard(id(node))
                del self.module_of[id(node)]
        return kept

    @staticmethod
    def _first_seen(node: Value, kept_ids: set[int], first: dict[int, int], seen: set[int]) -> None:
        """Number the kept inputs of ``node`` in the order a depth-first, left-to-right reading meets them."""
        todo = [node]
        while todo:
            m = todo.pop()
            if m is not node and id(m) in kept_ids:
                first.setdefault(id(m), len(first))
                continue
            if id(m) in seen:
                continue
            seen.add(id(m))
            todo.extend(p for p in reversed(m.parents) if p.__class__ is Value)

    def _expr(self, v: Value, kept_ids: set[int], region_size: int) -> Expr | None:
        """v as an expression over kept names and constants; None when it unfolds too big."""
        if region_size > _TREE_LIMIT:
            return None
        budget = [_TREE_LIMIT]

        def build(n: Any, top: bool) -> Expr:
            budget[0] -= 1
            if budget[0] < 0:
                raise OverflowError
            if n.__class__ is not Value:
                return ("c", float(n))
            if not top and id(n) in kept_ids:
                return ("n", self.names[id(n)])
            if n.op is None:  # a parameter folded into its neuron (model=): its label, or its value
                return ("n", str(n.label)) if n.label else ("c", n.data)
            return (n.op.name, *(build(p, False) for p in n.parents))

        try:
            return build(v, True)
        except OverflowError:
            return None

    def _formula(self, expr: Expr | None, u: Value) -> tuple[str | None, str]:
        """(∂expr/∂u as text or None, a note on the formula's letters)."""
        if expr is None:
            return None, ""
        name = self.names[id(u)]
        special = _log_loss(expr, name)
        if special is not None:
            return special
        try:
            d = derivative(expr, name)
        except KeyError:
            return None, ""
        if _size(d) > _TREE_LIMIT:
            return None, ""
        text = to_text(_replace(d, expr, ("n", self.names[id(self._current)])))
        return (text if len(text) <= _FORMULA_LIMIT else None), ""

    def expression_text(self, v: Value) -> str:
        """How kept node ``v`` is computed from kept nodes (``w1·x1 + w2·x2 + b``); "" for a leaf."""
        if v.op is None:
            return ""
        e = self.expression.get(id(v))
        if e is None:
            return f"f({', '.join(self.names[id(u)] for u in self.inputs[id(v)])})"
        return to_text(e)


def _display_names(order_eval: list[Value]) -> dict[int, str]:
    """The names every view gives these nodes (`autograd_lite.naming`), by ``id``."""
    from autograd_lite.naming import Namer

    namer = Namer(order_eval[-1])
    return {id(n): namer.name(n) for n in order_eval}


def _kept(node: Value, root: Value) -> bool:
    """Root, leaves, and labelled nodes whose label is a name, not their own expression spelled out."""
    if node is root or node.op is None:
        return True
    if not node.label:
        return False
    return str(node.label) != _spelled(node)


def _spelled(node: Value) -> str | None:
    """``node``'s expression from its inputs' labels and numbers (``w1·x1``), as the pictures'
    expression names write it; None when an input has no label."""
    from autograd_lite.naming import _constant, _term, compose

    args = []
    for p in node.parents:
        if p.__class__ is Value:
            if not p.label:
                return None
            args.append(_term(str(p.label)))
        else:
            args.append(_constant(p, 4))
    assert node.op is not None
    return compose(node.op, args)[0]


def label_level(root: Value, model: Any = None) -> LabelLevel:
    """The graph of ``root`` at the level of its labels (see the module docstring).  With
    ``model=`` (an `autograd_lite.nn` module) at the level of its neurons: the inputs, each
    neuron's output and the root; a neuron's parameters fold into it (their gradients are
    ``explain(root)``'s, the full level)."""
    return LabelLevel(root, model=model)

