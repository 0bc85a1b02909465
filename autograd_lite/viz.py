"""Draw a computational graph: one box per `Value`, one small node per operation.

Every `Value` becomes a box with its label (when it has one), its ``data`` and its
``grad`` = ∂root/∂(this value) after ``root.backward()``; every operation becomes a
small node carrying its symbol (``+``, ``×``, ``σ``, ``log`` ...) between its inputs
and its output, so the picture reads like the math::

    w1 ─┐
        ×── w1·x1 ─┐
    x1 ─┘          +── z ── σ ── a ── ... ── L

Leaves (inputs and parameters), constants, intermediate values and the root (the
loss) get different shapes and colours, explained by a legend.  With
``color_by="grad"`` the boxes are shaded by |grad| on a log scale instead, which
makes vanishing gradients (saturated σ/tanh, claim C10) visible.

Node ids follow `autograd_lite.engine.topological_order` (the root is ``v0``),
never ``id()``: the same expression gives byte-identical DOT source on every run.

>>> from autograd_lite import Value
>>> x, w = Value(2.0, label="x"), Value(-0.5, label="w")
>>> y = (w * x).sigmoid()
>>> y.label = "y"
>>> y.backward()
>>> g = draw_graph(y, legend=False)
>>> print(g.source.count("class=\\"value"), g.source.count("class=op"))
4 2
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import graphviz

from autograd_lite.engine import OPS, Value, topological_order
from autograd_lite.naming import NAMES, Namer, check_names, number

__all__ = ["draw_graph", "render_graph", "Picture", "GraphvizNotFoundError", "FORMATS", "RANKDIRS", "COLOR_BY",
           "LAYOUTS", "NAMES", "SLIDE_ASPECT"]

FORMATS = ("svg", "png", "pdf", "dot")
RANKDIRS = ("LR", "RL", "TB", "BT")
COLOR_BY = ("kind", "grad")
LAYOUTS = ("wide", "slide")
#: ``layout="slide"`` wraps the graph until width / height is at most this (a 16:9 slide).
SLIDE_ASPECT = 16 / 9
#: The step-through page's picture panel at a 1280×720 window (about 1250 × 430 px): its slide
#: layout folds to this width / height instead.
PAGE_ASPECT = 2.8
#: ... and folds it until it is at most this many points wide: shown 1:1, its 13 pt text is 13 px.
PAGE_WIDTH = 1240

# Colours by kind (colour-blind-friendly pastel set) and shapes that tell the kinds
# apart on their own, so a picture shaded by |grad| still shows what is what.
_FILL = {"leaf": "#cfe2f3", "intermediate": "#ffffff", "root": "#ffd966", "const": "#eeeeee", "op": "#d9ead3"}
_STYLE = {"leaf": "filled", "intermediate": "rounded,filled", "root": "rounded,filled,bold",
          "const": "dashed,filled", "op": "filled"}
_KIND_TEXT = {"leaf": "input / parameter (leaf)", "const": "constant", "intermediate": "intermediate value",
              "root": "root (loss)", "op": "operation"}
# ColorBrewer "Reds", pale (small |grad|) to dark (large |grad|).
_RAMP = ("#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d")
_ZERO_FILL = "#ffffff"
_NONFINITE_FILL = "#c9a0dc"
# Edge labels name an input's *role*, and only where the order of the inputs matters:
# words, so that no edge label reads like a variable (x, y, w0 ...) of the expression.
_ROLES = {"sub": ("1st", "2nd"), "div": ("numerator", "denominator"), "pow": ("base", "exponent")}
_EXPANDED_TIP = "computed for display: part of a fused linear node (expand_linear=True)"


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is not installed (or not on PATH)."""


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _grad_float(g: Any) -> float:
    """A node's gradient as a float (after ``backward(create_graph=True)`` it is a Value;
    None, "no gradient yet", is drawn as 0)."""
    return g.data if g.__class__ is Value else 0.0 if g is None else float(g)


# ``precision`` significant digits, ``0`` for ±0, ``1e-5`` not ``1e-05``: the ledger's numbers
_fmt = number


# Text that reaches Graphviz (labels, tooltips, captions) is made safe in one place,
# `_Digraph`: a control character (which Graphviz's parser rejects, or which ends
# its input) is shown as its Unicode "control picture" (U+0001 → ␁), a lone
# surrogate (which no UTF-8 encoder writes) as U+FFFD, and a text longer than
# Graphviz reads (16,384 characters in one string) is refused with a clear error.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: The longest text Graphviz takes in one label, tooltip or caption (its parser's limit).
MAX_TEXT = 16384


def _dot_text(value: Any) -> Any:
    """An attribute value made safe for Graphviz (see above); non-strings pass."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub(lambda m: chr(0x2400 + ord(m.group()) if m.group() != "\x7f" else 0x2421), value)
    value = _SURROGATE.sub("\ufffd", value)
    if len(value) > MAX_TEXT - 4:  # room for the quotes or <> around it
        start = re.sub("<[^>]*>", "", value)[:40]
        raise ValueError(f"a label of the graph is {len(value):,} characters long (it starts {start!r}); Graphviz "
                         f"draws texts of at most {MAX_TEXT:,}: give the node a shorter label")
    return value


class _Digraph(graphviz.Digraph):
    """A Digraph whose every label, tooltip and caption goes through `_dot_text`."""

    def node(self, name: str, label: str | None = None, _attributes: Any = None, **attrs: Any) -> None:
        super().node(name, _dot_text(label), _attributes=_attributes, **{k: _dot_text(v) for k, v in attrs.items()})

    def edge(self, tail_name: str, head_name: str, label: str | None = None, _attributes: Any = None,
             **attrs: Any) -> None:
        super().edge(tail_name, head_name, _dot_text(label), _attributes=_attributes,
                     **{k: _dot_text(v) for k, v in attrs.items()})

    def attr(self, kw: str | None = None, _attributes: Any = None, **attrs: Any) -> None:
        super().attr(kw, _attributes=_attributes, **{k: _dot_text(v) for k, v in attrs.items()})


class Picture(_Digraph):
    """The `graphviz.Digraph` that `draw_graph` returns.  Jupyter displays it; at a plain
    Python prompt its repr says how to see it instead of ``<graphviz.graphs.Digraph …>``."""

    def __repr__(self) -> str:
        return ("<the picture of a computational graph (a graphviz.Digraph): Jupyter shows it; elsewhere write "
                "it with autograd_lite.render_graph(L, 'graph.svg') (or .png, .pdf), or open it with .view()>")


def _pipe(g: graphviz.Digraph, fmt: str) -> bytes:
    """``g`` rendered by dot as ``fmt``; a failure of dot is a clear RuntimeError."""
    try:
        return g.pipe(format=fmt)
    except graphviz.CalledProcessError as e:
        said = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"Graphviz could not draw the graph ({said[0] if said else e})") from None
    except BrokenPipeError:
        raise RuntimeError("Graphviz stopped reading the graph before its end (dot failed)") from None


def _html_rows(rows: Sequence[str]) -> str:
    """An HTML-like Graphviz label: one table row per (already escaped) line."""
    if not rows:
        return " "
    cells = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _ramp(t: float) -> str:
    """The colour at ``t`` ∈ [0, 1] on the pale-to-dark ramp (linear in RGB between stops)."""
    t = min(max(t, 0.0), 1.0) * (len(_RAMP) - 1)
    i = min(int(t), len(_RAMP) - 2)
    f = t - i
    a, b = _RAMP[i], _RAMP[i + 1]
    rgb = [round(int(a[k:k + 2], 16) * (1 - f) + int(b[k:k + 2], 16) * f) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


class _GradShading:
    """Maps |grad| to a fill colour on a log₁₀ scale spanning [lo, hi]."""

    def __init__(self, grads: Sequence[float], grad_range: tuple[float, float] | None) -> None:
        mags = [abs(g) for g in grads if math.isfinite(g) and g != 0]
        self.has_zero = any(g == 0 for g in grads)
        self.has_nonfinite = any(not math.isfinite(g) for g in grads)
        if grad_range is not None:
            self.lo, self.hi = math.log10(grad_range[0]), math.log10(grad_range[1])
        elif mags:
            self.lo, self.hi = math.log10(min(mags)), math.log10(max(mags))
        else:
            self.lo = self.hi = 0.0
        self.empty = not mags and grad_range is None

    def t(self, g: float) -> float:
        if self.hi == self.lo:
            return 1.0
        return (math.log10(abs(g)) - self.lo) / (self.hi - self.lo)

    def fill(self, g: float) -> str:
        if not math.isfinite(g):
            return _NONFINITE_FILL
        if g == 0:
            return _ZERO_FILL
        return _ramp(self.t(g))

    def font(self, g: float) -> str:
        return "white" if math.isfinite(g) and g != 0 and self.t(g) > 0.6 else "black"


_TRAILING_INT = re.compile(r"(\d+)$")


def _label_number(v: Any) -> int | None:
    """The number a labelled Value's label ends with (``x1`` → 1), else None."""
    if v.__class__ is not Value or not v.label:
        return None
    m = _TRAILING_INT.search(str(v.label))
    return int(m.group(1)) if m else None


def _linear_base(ws: Sequence[Any], xs: Sequence[Any]) -> int:
    """Number the ``weight k``/``input k`` edges of a fused ``w·x+b`` from 0 or from 1,
    whichever agrees with more of the inputs' own labels (nn's ``w0, w1`` count from 0,
    the course's ``x1, x2`` from 1); 1 when the labels do not say."""
    votes = [0, 0]
    for group in (ws, xs):
        for k, v in enumerate(group):
            num = _label_number(v)
            if num is not None and num in (k, k + 1):
                votes[num - k] += 1
    return 0 if votes[0] > votes[1] else 1


def _linear_role(role: str, k: int, base: int, v: Any) -> str:
    """``weight k``/``input k``: the pair this input belongs to.  The number is left out
    when it would contradict the input's own label (``x0`` entering by ``input 1``)."""
    num = _label_number(v)
    return role if num is not None and num != k + base else f"{role} {k + base}"


def _natural_key(name: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _module_of(param_name: str) -> str:
    """Fallback owner of a parameter without ``named_modules()``: drop the trailing
    index and attribute name (``layers.0.neurons.3.w.1`` → ``layers.0.neurons.3``)."""
    parts = param_name.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


def _model_clusters(order: list[Value], model: Any) -> tuple[dict[Value, str], dict[str, str], list[str]]:
    """Assign nodes to modules: ``(cluster of each node, label of each cluster, all module names)``.

    A parameter belongs to the deepest module whose dotted name prefixes its own;
    a node computed directly from a module's parameters (its ``w·x+b``) belongs to
    that module, and so does an op whose two or more Value inputs are all such nodes
    of one module (the partial sums of a neuron built from ``*`` and ``+``); a
    one-input op applied to one of these (the activation) joins the module too."""
    if not callable(getattr(model, "named_parameters", None)):
        raise TypeError(f"model= needs a module with named_parameters() (an autograd_lite.nn Module), "
                        f"got {type(model).__name__}")
    modules = None
    if callable(getattr(model, "named_modules", None)):
        modules = [str(name) for name, _ in model.named_modules()]
    owner: dict[Value, str] = {}
    for name, p in model.named_parameters():
        if p.__class__ is not Value or p in owner:
            continue
        name = str(name)
        if modules is not None:
            prefixes = [m for m in modules if m and name.startswith(m + ".")]
            owner[p] = max(prefixes, key=len) if prefixes else ""
        else:
            owner[p] = _module_of(name)
    root_label = type(model).__name__
    cluster: dict[Value, str] = {}
    core: set[Value] = set()  # a module's own computation (not its activation)
    for node in reversed(order):  # producers before consumers
        if node in owner:
            cluster[node] = owner[node]
            continue
        if node.is_leaf():
            continue
        vparents = [p for p in node.parents if p.__class__ is Value]
        mod = next((owner[p] for p in vparents if p in owner), None)
        if mod is not None:
            cluster[node] = mod
            core.add(node)
        elif len(vparents) == 1 and node.op is not None and node.op.arity == 1 and vparents[0] in core:
            cluster[node] = cluster[vparents[0]]
        elif (len(vparents) >= 2 and all(p in core for p in vparents)
              and len({cluster[p] for p in vparents}) == 1):
            cluster[node] = cluster[vparents[0]]
            core.add(node)
    mods = set(cluster.values()) | set(modules or [])
    # a module's depth: how many modules hold it, itself included (the model itself, "", excluded)
    depth = {m: sum(1 for a in mods if a and (a == m or m.startswith(a + "."))) for m in mods}
    labels = {m: _cluster_label(m, [p for p, o in owner.items() if o == m or o.startswith(m + ".")], depth[m])
              or root_label for m in mods}
    return cluster, labels, modules or []


def _cluster_label(module: str, params: list[Value], depth: int) -> str:
    """A module's name as its parameters' labels say it (one name per thing): the dotted
    prefix they all share (``layer1.neuron2.w1``, ``layer1.neuron2.b`` → ``layer1.neuron2``;
    ``layer1.neuron1.w1`` … ``layer1.neuron3.b`` → ``layer1``), else its attribute path
    (``layers.0.neurons.1``).  At most ``depth`` parts: a layer of one neuron is ``layer2``."""
    paths = [p.label.split(".")[:-1] if isinstance(p.label, str) else [] for p in params]
    common = paths[0] if paths else []
    for path in paths[1:]:
        k = 0
        while k < min(len(common), len(path)) and common[k] == path[k]:
            k += 1
        common = common[:k]
    return ".".join(common[:depth]) or module


# --------------------------------------------------------------------------
# layout="slide": wrap a long chain into rows that fit a 16:9 slide
# --------------------------------------------------------------------------

_SANS = "Helvetica,Arial,sans-serif"


def _ranks(ids: list[str], edges: list[tuple[str, str, dict[str, str]]]) -> dict[str, int]:
    """The column of each node in a left-to-right drawing, as dot ranks it: the longest
    path from a source, and a source (leaf, constant) just before its first consumer."""
    preds: dict[str, list[str]] = {n: [] for n in ids}
    succs: dict[str, list[str]] = {n: [] for n in ids}
    for tail, head, _ in edges:
        preds[head].append(tail)
        succs[tail].append(head)
    indegree = {n: len(preds[n]) for n in ids}
    ready = [n for n in ids if indegree[n] == 0]
    rank: dict[str, int] = {}
    while ready:
        n = ready.pop()
        rank[n] = max((rank[p] + 1 for p in preds[n]), default=0)
        for h in succs[n]:
            indegree[h] -= 1
            if indegree[h] == 0:
                ready.append(h)
    for n in ids:
        if not preds[n] and succs[n]:
            rank[n] = min(rank[h] for h in succs[n]) - 1
    return rank


def _plain_layout(g: graphviz.Digraph) -> tuple[float, float, dict[str, tuple[float, float, float, float]]] | None:
    """dot's layout of ``g``: (width, height, {node: (x, y, w, h)}) in inches; None without dot."""
    try:
        lines = g.pipe(format="plain").decode("utf-8").splitlines()
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
        return None
    boxes = {}
    for line in lines[1:]:
        if line.startswith("node "):
            parts = line.split()
            boxes[parts[1].strip('"')] = (float(parts[2]), float(parts[3]), float(parts[4]), float(parts[5]))
    first = lines[0].split()
    return float(first[2]), float(first[3]), boxes


def _plain_size(g: graphviz.Digraph) -> tuple[float, float] | None:
    """(width, height) of the drawing in inches, as laid out by dot; None without dot."""
    layout = _plain_layout(g)
    return None if layout is None else layout[:2]


def _cuts(first: dict[str, int], links: list[tuple[str, str]], ncols: int, nrows: int) -> list[int]:
    """Where to start rows 2 … nrows: near equal widths, at the column boundary that the
    fewest edges cross (a line break where the graph is narrow, e.g. right after ``z``)."""
    cuts: list[int] = []
    for k in range(1, nrows):
        ideal = k * ncols / nrows
        slack = max(1, round(ncols / nrows / 4))
        lo = max(int(ideal) - slack, (cuts[-1] + 1) if cuts else 1)
        hi = min(int(ideal) + slack, ncols - 1)
        candidates = range(lo, max(lo, hi) + 1)
        crossing = {c: sum(first[a] < c <= first[b] for a, b in links) for c in candidates}
        cuts.append(min(candidates, key=lambda c: (crossing[c], abs(c - ideal))))
    return cuts


def _wrap_rows(build: Any, ids: list[str], edges: list[tuple[str, str, dict[str, str]]],
               group: dict[str, str], aspect: float = SLIDE_ASPECT,
               max_width: float = math.inf) -> graphviz.Digraph:
    """Cut the left-to-right graph into rows of consecutive columns, as few rows as give
    width / height ≤ `aspect` (and width ≤ ``max_width`` points).  Nodes of one ``group``
    (a module cluster, an op and its output) stay in one row.  ``build(rows)`` draws it,
    given the row of each group; a value used in a later row is drawn again at that row's
    start, so no edge runs between rows.

    The number of rows is predicted from one dot layout of the unwrapped graph (each row
    as wide and as tall as its nodes' span there), then checked on the wrapped drawing."""
    rank = _ranks(ids, edges)
    ncols = max(rank.values(), default=0) + 1
    first: dict[str, int] = {}
    for n in ids:
        key = group.get(n, n)
        first[key] = min(first.get(key, rank[n]), rank[n])
    links = [(group.get(t, t), group.get(h, h)) for t, h, _ in edges]
    g = build(None)
    layout = _plain_layout(g)
    boxes: dict[str, tuple[float, float, float, float]]
    if layout is None:  # no dot: about 0.75 in per column, 0.6 in per node of the busiest column
        per_col: dict[int, int] = {}
        for r in rank.values():
            per_col[r] = per_col.get(r, 0) + 1
        width, height, boxes = 0.75 * ncols, 0.6 * max(per_col.values(), default=1), {}
    else:
        width, height, boxes = layout
    if (width / height <= aspect and width * 72 <= max_width) or ncols < 2:
        return g

    def rows_for(nrows: int) -> dict[str, int]:
        cuts = _cuts(first, links, ncols, nrows)
        return {key: sum(col >= c for c in cuts) for key, col in first.items()}

    def heads_of(rows: dict[str, int]) -> list[str]:
        """The leftmost node of each row, top row first."""
        best: dict[int, str] = {}
        for n in ids:
            r = rows[group.get(n, n)]
            if r not in best or rank[n] < rank[best[r]]:
                best[r] = n
        return [best[r] for r in sorted(best)]

    def predicted(nrows: int) -> float:
        rows = rows_for(nrows)
        if not boxes:
            return (width / nrows) / (height * nrows)
        spans: dict[int, list[float]] = {}
        for n in ids:
            x, y, w, h = boxes[n]
            s = spans.setdefault(rows[group.get(n, n)], [math.inf, -math.inf, math.inf, -math.inf])
            s[0], s[1] = min(s[0], x - w / 2), max(s[1], x + w / 2)
            s[2], s[3] = min(s[2], y - h / 2), max(s[3], y + h / 2)
        w_rows = max(s[1] - s[0] for s in spans.values()) + 0.2
        h_rows = sum(s[3] - s[2] for s in spans.values()) + 0.5 * len(spans) + 0.6  # gaps and legend line
        return w_rows / h_rows

    nrows = next((n for n in range(2, ncols + 1) if predicted(n) <= aspect), ncols)
    previous: tuple[Any, float] | None = None
    while True:
        rows = rows_for(nrows)
        g = build(rows, heads_of(rows))
        size = _plain_size(g)
        if size is None or (size[0] / size[1] <= aspect and size[0] * 72 <= max_width) or nrows >= ncols:
            return g
        if previous is not None and size[0] / size[1] <= aspect and size[0] > 0.95 * previous[1]:
            return previous[0]  # more rows no longer make it narrower (a wide cluster): stop folding
        previous = (g, size[0])
        # width/height falls about as 1/rows², width as 1/rows: jump to the row count that should fit
        factor = max(math.sqrt(size[0] / size[1] / aspect), size[0] * 72 / max_width)
        nrows = min(ncols, max(nrows + 1, math.ceil(nrows * factor)))


# --------------------------------------------------------------------------
# draw_graph
# --------------------------------------------------------------------------


def _check_options(root: Any, rankdir: str, precision: Any, max_nodes: Any, color_by: str,
                   grad_range: Any) -> None:
    if root.__class__ is not Value:
        raise TypeError(f"draw_graph() draws the graph behind a Value, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(map(repr, RANKDIRS))}; got {rankdir!r}")
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {', '.join(map(repr, COLOR_BY))}; got {color_by!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"precision is the number of significant digits, an int from 1 to 17; got {precision!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int (or None for no limit); got {max_nodes!r}")
    if grad_range is not None:
        try:
            lo, hi = (float(v) for v in grad_range)
        except (TypeError, ValueError):
            raise ValueError(f"grad_range must be a pair (lo, hi) of |grad| values; got {grad_range!r}") from None
        if not (0 < lo < hi < math.inf):
            raise ValueError(f"grad_range must satisfy 0 < lo < hi < inf (a log scale); got {grad_range!r}")


def _check_layout_names(layout: Any, names: Any, rankdir: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}; got {layout!r}")
    check_names(names)
    if layout == "slide" and rankdir != "LR":
        raise ValueError(f"layout='slide' wraps a left-to-right drawing into rows; it needs rankdir='LR', "
                         f"got rankdir={rankdir!r}")


def draw_graph(root: Value, *, rankdir: str = "LR", show_data: bool = True, show_grad: bool = True,
               precision: int = 4, max_nodes: int | None = 500, color_by: str = "kind",
               expand_linear: bool = False, model: Any = None, legend: bool = True,
               grad_range: tuple[float, float] | None = None, layout: str = "wide",
               names: str = "auto", edge_labels: str | None = None,
               step: int | str | None = None, level: str = "full", caption: str | None = None) -> graphviz.Digraph:
    """The computational graph that ends at ``root`` as a `graphviz.Digraph`.

    - One box per `Value` (label, ``data``, ``grad``; a gradient that is itself a
      Value after ``backward(create_graph=True)`` shows its ``.data``), one small
      node per operation with its symbol, one small dashed box per constant.
      Edges are labelled by role, in words, only where the order of the inputs
      matters: ``1st``/``2nd`` into ``−``, ``numerator``/``denominator``,
      ``base``/``exponent``; ``weight k``, ``input k``, ``bias`` into a fused ``w·x+b``
      (k counted from 0 or 1, whichever the inputs' labels use).  Numbers show
      ``precision`` significant digits, and zero is ``0``, never ``-0``.
    - ``color_by="kind"`` colours leaves, constants, intermediates and the root;
      ``color_by="grad"`` shades value boxes by log₁₀|grad| between the smallest and
      largest non-zero |grad| in the graph (or ``grad_range=(lo, hi)``).
    - ``expand_linear=True`` draws each fused ``w·x+b`` node as the elementary
      ``×`` and ``+`` ops, summed as b + w0·x0 + w1·x1 + … like the fused node (the
      products and partial sums are computed for display; their gradient is the
      output's, since ∂(b + Σ wᵢxᵢ)/∂(wᵢxᵢ) = 1).
    - ``model=`` (an `autograd_lite.nn` module: ``named_parameters()``, optionally
      ``named_modules()``) groups each module's parameters and the nodes computed
      from them in a labelled cluster, e.g. ``layers.0.neurons.3``.
    - ``layout="slide"`` cuts a long left-to-right drawing into rows (between a value
      and its consumer, where fewest edges cross) until width/height ≤ `SLIDE_ASPECT`
      (16:9), with larger sans-serif text and the legend as one line under the graph.
    - Every box shows its node's name, the one the ledger, the formulas and the CLI
      use (`autograd_lite.naming`): with ``names="auto"`` (default) the label, ``L``
      for an unlabelled root, a short expression (``log a``, ``1 − a``, ``y·log a``),
      else ``v1, v2, …``; ``names="labels"`` uses no expressions, ``names="expression"``
      longer ones.
    - ``level="labels"`` draws only the labelled nodes, the leaves and the root, each
      edge u → v carrying ∂v/∂u with the other labelled nodes held fixed (its formula
      where the sub-graph is a known form, and the number): the course's
      x1, w1, … → z → a → L (see `autograd_lite.levels`).
    - More than ``max_nodes`` Values raises ValueError (pass a larger ``max_nodes``
      or ``None``) rather than drawing an unreadable hairball.
    - ``edge_labels="local"`` writes on every edge input → op its local derivative
      ∂out/∂input, the number backprop multiplies by (see `autograd_lite.explain`).
    - ``step=k`` draws the state after backward step k (one step = one contribution
      upstream × local, as in ``explain(root).steps``; 0 = only the seed is known,
      ``len(steps) + 1`` or ``"end"`` = done): the node being processed in red
      (SVG class ``current``), the input receiving the contribution in blue
      (``receiving``), gradients known so far shown (``+ …`` while more contributions
      are due), the rest as ``grad ?``.  It runs backprop itself: no ``backward()`` needed.
    - ``caption``: a line under the picture (default with ``step=``: which step it shows;
      `Explanation.frame` passes the ledger's line); the slide layout keeps its legend below it.

    Node ids are ``v<i>`` with i the position in `topological_order` (root = ``v0``),
    so the DOT source is deterministic.  SVG output keeps them as element ids, with
    classes ``value leaf|intermediate|root``, ``op``, ``const`` and ``legend``.
    """
    _check_options(root, rankdir, precision, max_nodes, color_by, grad_range)
    _check_layout_names(layout, names, rankdir)
    from autograd_lite.levels import check_level

    check_level(level)
    if level == "labels":
        return _draw_labels(root, rankdir=rankdir, show_data=show_data, show_grad=show_grad, precision=precision,
                            max_nodes=max_nodes, color_by=color_by, model=model, legend=legend,
                            grad_range=grad_range, layout=layout, step=step, caption=caption)
    view = _BackpropView(root, edge_labels, step) if edge_labels is not None or step is not None else None
    wanted_caption = caption
    order = topological_order(root)
    if max_nodes is not None and len(order) > max_nodes:
        raise ValueError(
            f"the graph has {len(order)} Value nodes, more than max_nodes={max_nodes}; drawn, it would be an "
            f"unreadable hairball. Draw a smaller sub-expression, or raise the limit with "
            f"draw_graph(..., max_nodes={len(order)}) (max_nodes=None disables it)")
    index = {node: i for i, node in enumerate(order)}
    namer = Namer(root, names, precision=precision, order=order[::-1])
    cluster_of, cluster_labels, module_names = (
        _model_clusters(order, model) if model is not None else ({}, {}, []))

    # Collect nodes as (id, attrs, cluster) and edges as (tail, head, attrs), producers first.
    nodes: list[tuple[str, dict[str, str], str | None]] = []
    edges: list[tuple[str, str, dict[str, str]]] = []
    values: list[tuple[str, str, str | None, float, float, bool]] = []  # id, kind, label, data, grad, expanded
    kinds_seen: dict[str, None] = {}

    def value_box(vid: str, kind: str, label: str | None, data: float, grad: float, mod: str | None,
                  expanded: bool = False) -> None:
        values.append((vid, kind, label, data, grad, expanded))
        nodes.append((vid, {}, mod))  # attrs filled in once the grad scale is known
        kinds_seen[kind] = None

    def op_node(oid: str, symbol: str, tip: str, mod: str | None) -> None:
        nodes.append((oid, {"label": html.escape(symbol, quote=False) or " ", "shape": "circle", "class": "op",
                            "id": oid, "style": _STYLE["op"], "fillcolor": _FILL["op"], "width": "0.3",
                            "margin": "0.02", "fontsize": "12", "ordering": "in", "tooltip": tip}, mod))
        kinds_seen["op"] = None

    def const_node(cid: str, c: float, mod: str | None) -> None:
        nodes.append((cid, {"label": _fmt(c, precision), "shape": "box", "class": "const", "id": cid,
                            "style": _STYLE["const"], "fillcolor": _FILL["const"], "fontsize": "10",
                            "width": "0.3", "height": "0.25", "margin": "0.05,0.02",
                            "tooltip": f"constant {c!r}"}, mod))
        kinds_seen["const"] = None

    def edge(tail: str, head: str, label: str | None = None) -> None:
        edges.append((tail, head, {"label": label, "fontsize": "9"} if label else {}))

    def source(node_or_const: Any, i: int, j: int, mod: str | None) -> str:
        """The id to draw an edge from: a Value's box, or a new constant box."""
        if node_or_const.__class__ is Value:
            return f"v{index[node_or_const]}"
        cid = f"v{i}_c{j}"
        const_node(cid, node_or_const, mod)
        return cid

    for node in reversed(order):
        i = index[node]
        vid = f"v{i}"
        mod = cluster_of.get(node)
        kind = "root" if i == 0 else "leaf" if node.is_leaf() else "intermediate"
        grad = _grad_float(node.grad)
        op = node.op
        if op is None:  # a leaf
            value_box(vid, kind, namer.name(node), node.data, grad, mod)
            continue
        parents = node.parents
        if op.name == "linear":
            n = (len(parents) - 1) // 2
            ws, xs, b = parents[:n], parents[n:2 * n], parents[-1]
            if expand_linear and n >= 1:
                # b + w0·x0 + w1·x1 + …, left to right: the order of the fused node's own sum
                acc_id, acc = source(b, i, 2 * n, mod), b.data
                acc_name = namer.composable(b)  # the running sum's name, while the rules give one
                for k, (w, x) in enumerate(zip(ws, xs)):
                    mid, m = f"v{i}_m{k}", w.data * (x.data if x.__class__ is Value else x)
                    m_name = namer.compose_name(OPS["mul"], [w, x])
                    acc_name = (namer.compose_name(OPS["add"], [acc_name, m_name])
                                if acc_name is not None and m_name is not None else None)
                    op_node(f"{mid}_op", "×", "∂(xy)/∂x = y,  ∂(xy)/∂y = x", mod)
                    edge(source(w, i, k, mod), f"{mid}_op")
                    edge(source(x, i, n + k, mod), f"{mid}_op")
                    value_box(mid, "intermediate", m_name and m_name[0], m, grad, mod, expanded=True)
                    edge(f"{mid}_op", mid)
                    sid = f"v{i}_s{k}" if k < n - 1 else vid  # the last sum is the node itself
                    op_node(f"{sid}_op", "+", "∂(x+y)/∂x = 1,  ∂(x+y)/∂y = 1", mod)
                    edge(acc_id, f"{sid}_op")
                    edge(mid, f"{sid}_op")
                    if k < n - 1:
                        acc += m
                        value_box(sid, "intermediate", acc_name and acc_name[0], acc, grad, mod, expanded=True)
                        edge(f"{sid}_op", sid)
                    acc_id = sid
            else:
                op_node(f"{vid}_op", op.symbol, op.formula, mod)
                base = _linear_base(ws, xs)
                for k, (w, x) in enumerate(zip(ws, xs)):
                    edge(source(w, i, k, mod), f"{vid}_op", _linear_role("weight", k, base, w))
                    edge(source(x, i, n + k, mod), f"{vid}_op", _linear_role("input", k, base, x))
                edge(source(b, i, 2 * n, mod), f"{vid}_op", "bias")
        else:
            op_node(f"{vid}_op", op.symbol, op.formula, mod)
            roles = _ROLES.get(op.name, ())
            for j, p in enumerate(parents):
                edge(source(p, i, j, mod), f"{vid}_op", roles[j] if j < len(roles) else None)
        value_box(vid, kind, namer.name(node), node.data, grad, mod)
        edge(f"{vid}_op", vid)

    shading = _GradShading([v[4] for v in values], grad_range) if color_by == "grad" else None
    attrs_of = {nid: attrs for nid, attrs, _ in nodes}
    for vid, kind, label, data, grad, expanded in values:
        rows = [f"<B>{html.escape(str(label), quote=False)}</B>"] if label else []
        if show_data:
            rows.append(f"data {_fmt(data, precision)}")
        if show_grad:
            rows.append(f"grad {_fmt(grad, precision)}")
        name = str(label) if label else "value"
        attrs = {"label": _html_rows(rows), "shape": "box", "id": vid, "class": f"value {kind}",
                 "style": _STYLE[kind] + (",dashed" if expanded else ""),
                 "tooltip": _EXPANDED_TIP if expanded else f"{name}: data {data!r}, grad {grad!r}"}
        if kind == "root":
            attrs["peripheries"] = "2"
        if shading is None:
            attrs["fillcolor"] = _FILL[kind]
        else:
            attrs["fillcolor"] = shading.fill(grad)
            attrs["fontcolor"] = shading.font(grad)
        attrs_of[vid].update(attrs)
    if view is not None:
        view.apply(index, values, attrs_of, edges, precision, show_data, show_grad)

    # Nodes: top level first, then nested module clusters (a module inside another one,
    # e.g. a neuron inside a layer, is a cluster inside the other's cluster).
    used = set(cluster_labels)
    tree: dict[str | None, list[str]] = {}
    all_mods = {m for c in used for m in _ancestors(c, module_names)} | used
    for m in sorted(all_mods, key=_natural_key):
        parent = next((a for a in reversed(_ancestors(m, module_names)) if a in all_mods), None)
        tree.setdefault(parent, []).append(m)
    members: dict[str | None, list[tuple[str, dict[str, str]]]] = {}
    for nid, attrs, mod in nodes:
        members.setdefault(mod, []).append((nid, attrs))
    numbering = {m: k for k, m in enumerate(sorted(all_mods, key=_natural_key))}
    slide = layout == "slide"
    # layout="slide" cuts the drawing into rows made of whole top-level module clusters and single nodes.
    top = {m: next((a for a in [*_ancestors(m, module_names), m] if a in tree.get(None, [])), m) for m in all_mods}
    row_key = {nid: f"module {top[mod]}" if mod is not None else _box_of(nid) for nid, _, mod in nodes}

    def emit(container: graphviz.Digraph, mod: str | None, only: Any = None) -> None:
        for nid, attrs in members.get(mod, []):
            if only is None or only(nid):
                container.node(nid, **(_slide_fonts(attrs) if slide else attrs))
        for child in tree.get(mod, []):
            if only is not None and not only(f"module {child}"):
                continue
            with container.subgraph(name=f"cluster_{numbering[child]}") as c:
                c.attr(label=cluster_labels.get(child, child) or type(model).__name__, style="rounded,dashed",
                       color="#888888", fontsize="14" if slide else "10", id=f"module_{child or 'model'}",
                       **{"class": "module"})
                emit(c, child)

    def build(rows: dict[str, int] | None, heads: Sequence[str] = ()) -> graphviz.Digraph:
        g = Picture("computational_graph")
        g.attr(rankdir=rankdir, fontsize="11", nodesep="0.25", ranksep="0.35")
        g.attr("node", fontsize="11", margin="0.08,0.04", height="0.3")
        g.attr("edge", arrowsize="0.6")
        if model is not None:  # keep the model's order (neuron 0, 1, 2 …) instead of minimising crossings
            g.attr(remincross="false", mclimit="0.01")
        if slide:
            g.attr(fontname=_SANS, fontsize="14", nodesep="0.2", ranksep="0.2")
            g.attr("node", fontname=_SANS, fontsize="16")
            g.attr("edge", fontname=_SANS)
        legend_line = _legend_label([k for k in _KIND_TEXT if k in kinds_seen], shading) if legend and slide else ""
        caption = wanted_caption if wanted_caption is not None else view.caption if view is not None else ""
        if legend_line:  # one line under the graph, outside the layout: it takes no column's width
            g.attr(label=_with_caption(legend_line, caption), labelloc="b", labeljust="l")
        # layout="slide" folds the drawing into rows; a value used in a later row appears again at
        # that row's start (a dashed "continued" box), so no edge runs from one row to another
        ghosts: dict[tuple[str, int], str] = {}
        if rows is not None:
            for tail, head, _ in edges:
                r_tail, r_head = rows[row_key.get(tail, tail)], rows[row_key.get(head, head)]
                if r_tail != r_head:
                    ghosts.setdefault((tail, r_head), f"{tail}_cont{r_head}")
        if rows is None:
            emit(g, None)
        else:
            for r in sorted(set(rows.values())):
                with g.subgraph(name=f"cluster_row{r}") as c:
                    c.attr(label="", peripheries="0", id=f"row{r}", **{"class": "row"})
                    for (tail, r_head), gid in ghosts.items():
                        if r_head == r:
                            c.node(gid, **_continued(attrs_of[tail], gid, slide))
                    emit(c, None, only=lambda key, r=r, rows=rows: rows[row_key.get(key, key)] == r)
        if heads:  # an invisible node whose ordered out-edges stack the rows in reading order
            g.node("rows", label="", shape="point", style="invis", width="0", height="0", ordering="out")
            starts: dict[int, str] = {}
            for (_, r_head), gid in ghosts.items():  # a row's "continued" boxes are its leftmost
                starts.setdefault(r_head, gid)
            for h in heads:
                g.edge("rows", starts.get(rows[row_key.get(h, h)], h) if rows is not None else h, style="invis")
        for tail, head, attrs in edges:
            if rows is not None and rows[row_key.get(tail, tail)] != rows[row_key.get(head, head)]:
                tail = ghosts[(tail, rows[row_key.get(head, head)])]
            g.edge(tail, head, **(_slide_fonts(attrs) if slide else attrs))
        if legend and not slide:
            _legend(g, [k for k in _KIND_TEXT if k in kinds_seen], shading)
        if caption and not legend_line:  # draw_graph(step=k): which step this picture shows
            g.attr(label=caption, labelloc="b", fontsize="11")
        return g

    if not slide:
        return build(None)
    if view is not None and view.page:  # the page shows it 1:1 at most PAGE_WIDTH px wide, text ≥ 13 px
        return _wrap_rows(build, [nid for nid, _, _ in nodes], edges, row_key, PAGE_ASPECT, PAGE_WIDTH)
    return _wrap_rows(build, [nid for nid, _, _ in nodes], edges, row_key)


def _continued(attrs: dict[str, str], gid: str, slide: bool) -> dict[str, str]:
    """A value box drawn again at the start of a later row (same text, dashed outline)."""
    out = dict(_slide_fonts(attrs) if slide else attrs)
    out.update(id=gid, style=out.get("style", "") + ",dashed")
    out["class"] = out.get("class", "value") + " continued"
    if "tooltip" in out:
        out["tooltip"] = out["tooltip"] + " (continued from the row above)"
    out.pop("peripheries", None)
    return out


def _with_caption(legend_line: str, caption: str) -> str:
    """The slide layout's graph label: the legend line, under the step's caption if there is one."""
    if not caption:
        return legend_line
    inner = legend_line[1:-1]  # the legend's own HTML table, without the outer < >
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0"><TR><TD ALIGN="LEFT">{html.escape(caption)}</TD>'
            f'</TR><TR><TD ALIGN="LEFT">{inner}</TD></TR></TABLE>>')


def _box_of(nid: str) -> str:
    """The value box an op node (``v3_op``) or constant (``v3_c1``) is drawn for (``v3``):
    the slide layout keeps them in one row, so a row break falls between a value and its consumer."""
    return re.sub(r"_(op|c\d+)$", "", nid)


def _slide_fonts(attrs: dict[str, str]) -> dict[str, str]:
    """Node or edge attributes with the slide layout's larger sans-serif text."""
    if not attrs:
        return attrs
    out = dict(attrs)
    if "fontsize" in out:
        out["fontsize"] = str(max(float(out["fontsize"]) + 4, 13))
    return out


# --------------------------------------------------------------------------
# draw_graph(edge_labels="local") and draw_graph(step=k): backprop on the picture
# --------------------------------------------------------------------------

_CURRENT = "#d62728"  # the node being processed
_RECEIVING = "#1f77b4"  # the input receiving the contribution
_UNKNOWN_FONT = "#999999"


class _BackpropView:
    """What `engine.backprop` does, as seen by the picture: the local derivative on
    each edge, and for ``step=k`` the gradients known after k contributions."""

    def __init__(self, root: Value, edge_labels: str | None, step: int | str | None) -> None:
        from autograd_lite.engine import backprop

        if edge_labels not in (None, "local"):
            raise ValueError(f"edge_labels must be None or 'local'; got {edge_labels!r}")
        self.steps: list[tuple] = []
        backprop(root, observe=lambda *s: self.steps.append(s))
        n = len(self.steps)
        self.page = step is PAGE  # render_backprop's page: drawn once, animated by its script
        if self.page:
            step, edge_labels = None, "local"
        if step == "end":
            step = n + 1
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= n + 1):
            raise ValueError(f"step must be an int from 0 (only the seed known) to {n + 1} (done; or 'end'): this "
                             f"graph's backward pass has {n} steps; got {step!r}")
        self.root = root
        self.edge_labels = edge_labels
        self.step = step
        self.local = {(id(s[0]), s[1]): s[3] for s in self.steps}
        self.caption = ""
        if step is not None:
            self.caption = ("start: only the seed is known" if step == 0 else "done: every gradient is known"
                            if step == n + 1 else f"after backward step {step} of {n}")

    def _known(self) -> tuple[dict[int, float | None], set[int]]:
        """Gradients known after ``self.step`` contributions, and the nodes whose sum is complete."""
        known: dict[int, float | None] = {id(self.root): None}  # the root's is the seed (see `_seed`)
        step = self.step or 0
        k = step if step <= len(self.steps) else len(self.steps)
        for s in self.steps[:k]:
            known[id(s[2])] = s[6]
        pending = {id(s[2]) for s in self.steps[k:]}
        return known, {i for i in known if i not in pending}

    def apply(self, index: dict, values: list, attrs_of: dict, edges: list, precision: int,
              show_data: bool, show_grad: bool) -> None:
        order = {i: node for node, i in index.items()}
        edge_roles = self._edge_roles(order, edges)
        if self.edge_labels == "local" or self.step is not None:
            for (_tail, head, attrs), role in zip(edges, edge_roles):
                if role is None:
                    continue
                node, j = role
                loc = self._edge_local(order, head, node, j)
                if loc is None or (self.edge_labels is None and not self._is_active(node, j)):
                    continue
                old = attrs.get("label")
                attrs["label"] = (f"{old}: " if old else "") + _fmt(loc, precision)
                attrs["fontsize"] = "9"
                attrs["fontcolor"] = "#555555"
                if self.page:
                    attrs["id"] = f"v{index[node]}_in{j}"
        if self.page:
            self._reserve(order, values, attrs_of, precision, show_data, show_grad)
        if self.step is None:
            return
        known, complete = self._known()
        active = self.steps[self.step - 1] if 1 <= self.step <= len(self.steps) else None
        for vid, _kind, label, data, _grad, expanded in values:
            node = order[int(vid[1:].split("_")[0])]
            g = self._seed() if node is self.root else known.get(id(node))  # None: not known yet
            rows = [f"<B>{html.escape(str(label), quote=False)}</B>"] if label else []
            if show_data:
                rows.append(f"data {_fmt(data, precision)}")
            if show_grad:
                if g is None:
                    rows.append("grad ?")
                else:
                    rows.append(f"grad {_fmt(g, precision)}" + ("" if id(node) in complete else " + …"))
            attrs = attrs_of[vid]
            attrs["label"] = _html_rows(rows)
            if not expanded:  # the tooltip knows what the frame knows, rounded like the box
                shown = "grad ?" if g is None else f"grad {_fmt(g, precision)}" + (
                    "" if id(node) in complete else " + …")
                attrs["tooltip"] = f"{label or 'value'}: data {_fmt(data, precision)}, {shown}"
            if g is None:
                attrs["fontcolor"] = _UNKNOWN_FONT
            if active is not None and not expanded and node is active[0]:
                attrs.update(color=_CURRENT, penwidth="3")
                attrs["class"] += " current"
                attrs_of[f"{vid}_op"].update(color=_CURRENT, penwidth="2.5")
            if active is not None and not expanded and node is active[2]:
                attrs.update(color=_RECEIVING, penwidth="3")
                attrs["class"] += " receiving"
        if active is not None:
            for (_tail, _head, attrs), role in zip(edges, edge_roles):
                if role is not None and role[0] is active[0] and role[1] == active[1]:
                    attrs.update(color=_CURRENT, penwidth="2.5", fontcolor=_CURRENT)

    def _reserve(self, order: dict, values: list, attrs_of: dict, precision: int, show_data: bool,
                 show_grad: bool) -> None:
        """The page's boxes: the longest grad text each will show, so that no box changes size."""
        last = self._last
        variants = _state_texts([(s[0], s[2], s[6], k == last[id(s[2])]) for k, s in enumerate(self.steps)],
                                self.root, self._seed(), precision)
        for vid, _kind, label, data, _grad, _expanded in values:
            node = order[int(vid[1:].split("_")[0])]
            rows = [f"<B>{html.escape(str(label), quote=False)}</B>"] if label else []
            if show_data:
                rows.append(f"data {_fmt(data, precision)}")
            if show_grad:
                rows.append(html.escape(max(variants.get(id(node), ["grad ?"]), key=len), quote=False))
            attrs = attrs_of[vid]
            attrs["label"] = _html_rows(rows)
            attrs.pop("tooltip", None)  # the page's script writes what each frame knows

    @property
    def _last(self) -> dict[int, int]:
        last: dict[int, int] = {}
        for k, s in enumerate(self.steps):
            last[id(s[2])] = k
        return last

    def _seed(self) -> float:
        return self.steps[0][4] if self.steps else 1.0

    def _is_active(self, node: Value, j: int) -> bool:
        if self.step is None or not 1 <= self.step <= len(self.steps):
            return False
        s = self.steps[self.step - 1]
        return s[0] is node and s[1] == j

    @staticmethod
    def _edge_roles(order: dict, edges: list) -> list[tuple[Value, int] | None]:
        """For each edge into an op node: (the node, the input's position in its parents), else None."""
        seen: dict[str, int] = {}
        heads = {head for _, head, _ in edges}
        roles: list[tuple[Value, int] | None] = []
        for _tail, head, _attrs in edges:
            m = re.fullmatch(r"v(\d+)(?:_([ms])(\d+))?_op", head)
            if m is None:
                roles.append(None)
                continue
            j = seen.get(head, 0)
            seen[head] = j + 1
            i = m.group(1)
            node = order[int(i)]
            n = (len(node.parents) - 1) // 2
            if node.op.name != "linear":
                roles.append((node, j))
            elif m.group(2) == "m":  # expand_linear: the product w_k · x_k
                k = int(m.group(3))
                roles.append((node, k if j == 0 else n + k))
            elif f"v{i}_m0_op" in heads:  # expand_linear: the sums; the bias enters the first one
                first = f"v{i}_s0_op" if n > 1 else f"v{i}_op"
                roles.append((node, 2 * n) if head == first and j == 0 else None)
            else:  # the fused node: edges w0, x0, w1, x1, …, b
                roles.append((node, 2 * n if j == 2 * n else j // 2 if j % 2 == 0 else n + j // 2))
        return roles

    def _edge_local(self, order: dict, head: str, node: Value, j: int) -> float | None:
        return self.local.get((id(node), j))


def _ancestors(name: str, module_names: Sequence[str]) -> list[str]:
    """The modules strictly containing ``name`` (outermost first), among ``module_names``."""
    return [m for m in sorted(module_names, key=len) if m and m != name and name.startswith(m + ".")]


def _legend_label(kinds: list[str], shading: _GradShading | None) -> str:
    """The slide layout's legend: one line of samples, as an HTML-like graph label."""
    cells = []
    for kind in kinds:
        text = html.escape(_KIND_TEXT[kind], quote=False)
        fill = _FILL[kind] if shading is None or kind in ("op", "const") else _ZERO_FILL
        border = "3" if kind == "root" else "1"
        if kind == "root":
            text = f"<B>{text}</B>"
        cells.append(f'<TD BGCOLOR="{fill}" BORDER="{border}">{text}</TD>')
    if shading is not None and not shading.empty:
        steps = sorted({0.0, 0.5, 1.0} if shading.hi > shading.lo else {1.0})
        for t in steps:
            mag = 10 ** (shading.lo + t * (shading.hi - shading.lo))
            color = "white" if t > 0.6 else "black"
            cells.append(f'<TD BGCOLOR="{_ramp(t)}" BORDER="1"><FONT COLOR="{color}">|grad| {mag:.2g}</FONT></TD>')
    if shading is not None and shading.has_zero:
        cells.append(f'<TD BGCOLOR="{_ZERO_FILL}" BORDER="1">grad 0</TD>')
    if shading is not None and shading.has_nonfinite:
        cells.append(f'<TD BGCOLOR="{_NONFINITE_FILL}" BORDER="1">grad nan / inf</TD>')
    return ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="8" CELLPADDING="4"><TR><TD>legend:</TD>'
            + "".join(cells) + "</TR></TABLE>>")


def _legend(g: graphviz.Digraph, kinds: list[str], shading: _GradShading | None) -> None:
    """A legend cluster of sample nodes drawn exactly like the real ones."""
    with g.subgraph(name="cluster_legend") as c:
        c.attr(label="legend", fontsize="10", style="rounded", color="#bbbbbb", id="legend",
               **{"class": "legend"})
        c.attr("node", fontsize="9", height="0.25", margin="0.05,0.02")
        ids = []
        for kind in kinds:
            nid = f"legend_{kind}"
            attrs = {"label": _KIND_TEXT[kind], "style": _STYLE[kind], "class": "legend", "id": nid,
                     "fillcolor": _FILL[kind] if shading is None or kind in ("op", "const") else _ZERO_FILL,
                     "shape": "circle" if kind == "op" else "box"}
            if kind == "op":
                attrs.update(label="op", width="0.3", margin="0.02")
            if kind == "root":
                attrs["peripheries"] = "2"
            c.node(nid, **attrs)
            ids.append(nid)
        if shading is not None:
            steps = [] if shading.empty else sorted({0.0, 0.25, 0.5, 0.75, 1.0} if shading.hi > shading.lo else {1.0})
            for k, t in enumerate(steps):
                mag = 10 ** (shading.lo + t * (shading.hi - shading.lo))
                nid = f"legend_grad{k}"
                c.node(nid, label=f"|grad| {mag:.2g}", style="filled", fillcolor=_ramp(t), shape="box",
                       fontcolor="white" if t > 0.6 else "black", id=nid, **{"class": "legend"})
                ids.append(nid)
            if shading.has_zero:
                c.node("legend_grad_zero", label="grad 0", style="filled", fillcolor=_ZERO_FILL, shape="box",
                       id="legend_grad_zero", **{"class": "legend"})
                ids.append("legend_grad_zero")
            if shading.has_nonfinite:
                c.node("legend_grad_nonfinite", label="grad nan / inf", style="filled", fillcolor=_NONFINITE_FILL,
                       shape="box", id="legend_grad_nonfinite", **{"class": "legend"})
                ids.append("legend_grad_nonfinite")
        for a, b in zip(ids, ids[1:]):  # keep the samples in one tidy row
            c.edge(a, b, style="invis")


# --------------------------------------------------------------------------
# render_graph
# --------------------------------------------------------------------------

_INSTALL_HELP = ("Install it with one of:\n"
                 "    apt-get install graphviz                       (Debian/Ubuntu)\n"
                 "    brew install graphviz                          (macOS)\n"
                 "    conda install -c conda-forge python-graphviz   (conda)")


def render_graph(root: Value, path: str | os.PathLike, format: str | None = None, **kw: Any) -> Path:
    """Draw ``root``'s graph (keywords as in `draw_graph`) and write it to ``path``.

    The format is taken from the suffix (``.svg``, ``.png``, ``.pdf``, ``.dot``) or
    given as ``format`` (then a suffix-less path gets it appended).  ``.dot`` is the
    Graphviz source and needs no Graphviz program; the others run ``dot``, and
    without it raise `GraphvizNotFoundError` after writing the ``.dot`` file next to
    ``path``.  Returns the path written, as a `pathlib.Path`.
    """
    path = Path(os.fspath(path))
    suffix = path.suffix.lower().lstrip(".")
    if format is not None:
        fmt = str(format).lower().lstrip(".")
        if fmt not in FORMATS:
            raise ValueError(f"unsupported format {format!r}; supported: {', '.join(FORMATS)}")
        if not suffix:
            path = path.with_name(path.name + "." + fmt)
        elif suffix != fmt:
            raise ValueError(f"format={format!r} contradicts the file suffix {path.suffix!r} of {str(path)!r}")
    else:
        fmt = suffix
        if fmt not in FORMATS:
            raise ValueError(f"cannot tell the output format from {str(path)!r}: use a suffix among "
                             f"{', '.join('.' + f for f in FORMATS)} (or pass format=)")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory {str(path.parent)!r} does not exist (render_graph writes {path.name} "
                                f"there)")
    g = draw_graph(root, **kw)
    if fmt == "dot":
        path.write_text(g.source, encoding="utf-8")
        return path
    try:
        data = _pipe(g, fmt)
    except graphviz.ExecutableNotFound:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(g.source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"Graphviz is not installed: its 'dot' program is not on PATH, so {str(path)!r} could not be "
            f"rendered.\n{_INSTALL_HELP}\nThe graph was written as DOT source to {str(dot_path)!r} instead; "
            f"once Graphviz is installed, render it with: dot -T{fmt} {dot_path} -o {path}") from None
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------
# draw_graph(level="labels"): only the labelled nodes, one derivative per edge
# --------------------------------------------------------------------------


class _PageStep(str):
    """`draw_graph(step=PAGE)` (internal): the picture `render_backprop`'s page draws once and
    animates; every box holds the longest text it will show, edges have ids ``v<i>_in<j>``."""


PAGE = _PageStep("page")


def _state_texts(steps: Sequence[tuple[Any, Any, float, bool]], root: Value, seed: float,
                 precision: int) -> dict[int, list[str]]:
    """Every grad text a box shows during a backward pass: ``grad ?``, ``grad 1 + …``, the final one.
    ``steps`` are (node, input, total, final) in order."""
    texts: dict[int, list[str]] = {id(root): [f"grad {_fmt(seed, precision)}"]}
    for _node, inp, total, final in steps:
        texts.setdefault(id(inp), ["grad ?"]).append(f"grad {_fmt(total, precision)}" + ("" if final else " + …"))
    return texts


def _draw_labels(root: Value, *, rankdir: str, show_data: bool, show_grad: bool, precision: int,
                 max_nodes: int | None, color_by: str, model: Any, legend: bool,
                 grad_range: tuple[float, float] | None, layout: str, step: int | str | None,
                 caption: str | None = None) -> graphviz.Digraph:
    """`draw_graph` at ``level="labels"``: a box per kept node (labelled, leaf, root), an edge
    u → v per label-level input carrying ∂v/∂u (its formula where known, and the number)."""
    from autograd_lite.levels import LabelLevel

    lv = LabelLevel(root, model=model)
    if max_nodes is not None and len(lv.kept) > max_nodes:
        raise ValueError(
            f"the graph has {len(lv.kept)} labelled nodes and leaves, more than max_nodes={max_nodes}; drawn, it "
            f"would be an unreadable hairball. Draw a smaller sub-expression, or raise the limit with "
            f"draw_graph(..., max_nodes={len(lv.kept)}) (max_nodes=None disables it)")
    index = {id(n): i for i, n in enumerate(lv.order_full)}
    names = lv.names
    # backprop on the label level: (node, input, total, final) per edge, in order
    grads: dict[int, float] = {id(root): 1.0}
    left = {id(e.input): 0 for e in lv.edges}
    for e in lv.edges:
        left[id(e.input)] += 1
    steps = []
    for e in lv.edges:
        total = grads.get(id(e.input), 0.0) + grads[id(e.node)] * e.local if id(e.input) in grads else \
            grads[id(e.node)] * e.local
        grads[id(e.input)] = total
        left[id(e.input)] -= 1
        steps.append((e.node, e.input, total, left[id(e.input)] == 0))
    n = len(steps)
    page = step is PAGE
    if step == "end":
        step = n + 1
    if step is not None and not page and (isinstance(step, bool) or not isinstance(step, int)
                                          or not 0 <= step <= n + 1):
        raise ValueError(f"step must be an int from 0 (only the seed known) to {n + 1} (done; or 'end'): this "
                         f"graph's backward pass at level='labels' has {n} steps; got {step!r}")
    known: dict[int, str] = {}
    k = step if isinstance(step, int) and not page else -1  # the step drawn; -1: none
    if k >= 0:
        known[id(root)] = f"grad {_fmt(1.0, precision)}"
        for _node, inp, total, final in steps[:min(k, n)]:
            known[id(inp)] = f"grad {_fmt(total, precision)}" + ("" if final else " + …")
    active = steps[k - 1] if 1 <= k <= n else None
    active_edge = lv.edges[k - 1] if active is not None else None
    variants = _state_texts(steps, root, 1.0, precision) if page else {}
    slide = layout == "slide"
    shading = _GradShading([_grad_float(v.grad) for v in lv.kept], grad_range) if color_by == "grad" else None
    cluster_of: dict[Value, str] = {}
    if model is not None:  # the neuron level: each neuron's output in its layer's cluster
        cluster_of = {v: _module_of(lv.module_of[id(v)]) for v in lv.kept if id(v) in lv.module_of}

    def make(rankdir: str) -> graphviz.Digraph:
        g = Picture("label_level_graph")  # every text made safe for Graphviz, as draw_graph's
        g.attr(rankdir=rankdir, fontsize="11", nodesep="0.3", ranksep="0.5")
        g.attr("node", fontsize="11", margin="0.08,0.04", height="0.3")
        g.attr("edge", arrowsize="0.6", fontsize="10")
        if slide:
            g.attr(fontname=_SANS, fontsize="14")
            g.attr("node", fontname=_SANS, fontsize="16")
            g.attr("edge", fontname=_SANS, fontsize="14")
        kinds: dict[str, None] = {}
        groups: dict[str | None, list[tuple[str, dict[str, str]]]] = {}
        for v in lv.kept[::-1]:
            i = index[id(v)]
            vid = f"v{i}"
            kind = "root" if v is root else "leaf" if v.op is None else "intermediate"
            kinds[kind] = None
            grad = _grad_float(v.grad)
            rows = [f"<B>{html.escape(names[id(v)], quote=False)}</B>"]
            if show_data:
                rows.append(f"data {_fmt(v.data, precision)}")
            if show_grad:
                if page:
                    rows.append(html.escape(max(variants.get(id(v), ["grad ?"]), key=len), quote=False))
                elif step is not None:
                    rows.append(html.escape(known.get(id(v), "grad ?"), quote=False))
                else:
                    rows.append(f"grad {_fmt(grad, precision)}")
            attrs = {"label": _html_rows(rows), "shape": "box", "id": vid, "class": f"value {kind}",
                     "style": _STYLE[kind]}
            if not page:
                attrs["tooltip"] = f"{names[id(v)]}: data {_fmt(v.data, precision)}" + (
                    f", {known.get(id(v), 'grad ?')}" if step is not None else f", grad {_fmt(grad, precision)}")
            if kind == "root":
                attrs["peripheries"] = "2"
            if shading is None:
                attrs["fillcolor"] = _FILL[kind]
            else:
                attrs["fillcolor"], attrs["fontcolor"] = shading.fill(grad), shading.font(grad)
            if step is not None and not page and id(v) not in known:
                attrs["fontcolor"] = _UNKNOWN_FONT
            if active is not None and v is active[0]:
                attrs.update(color=_CURRENT, penwidth="3")
                attrs["class"] += " current"
            if active is not None and v is active[1]:
                attrs.update(color=_RECEIVING, penwidth="3")
                attrs["class"] += " receiving"
            groups.setdefault(cluster_of.get(v), []).append((vid, _slide_fonts(attrs) if slide else attrs))
        for mod, members in groups.items():
            if mod is None:
                for vid, attrs in members:
                    g.node(vid, **attrs)
                continue
            with g.subgraph(name=f"cluster_{mod or 'model'}") as c:
                c.attr(label=lv.module_names.get(mod, mod) or type(model).__name__, style="rounded,dashed",
                       color="#888888", fontsize="14" if slide else "10", id=f"module_{mod or 'model'}",
                       **{"class": "module"})
                for vid, attrs in members:
                    c.node(vid, **attrs)
        for e in lv.edges:
            head = f"∂{names[id(e.node)]}/∂{names[id(e.input)]}"
            text = f"{head} = {e.formula} = {_fmt(e.local, precision)}" if e.formula and e.formula != _fmt(
                e.local, precision) else f"{head} = {_fmt(e.local, precision)}"
            if e.note:
                text += f" ({e.note})"
            if model is not None:  # the neuron level: long module names; the edge carries the number only
                text = _fmt(e.local, precision)
            attrs = {"label": text, "id": f"v{index[id(e.node)]}_in{e.index}", "class": "label-edge",
                     "fontcolor": "#444444", "tooltip": text}
            if e is active_edge:
                attrs.update(color=_CURRENT, penwidth="2.5", fontcolor=_CURRENT)
            g.edge(f"v{index[id(e.input)]}", f"v{index[id(e.node)]}", **attrs)
        under: str | None = caption  # the line under the picture
        if under is None and step is not None and not page:
            under = ("start: only the seed is known" if step == 0 else "done: every gradient is known"
                    if step == n + 1 else f"after backward step {step} of {n}")
        if legend:
            if slide:
                g.attr(label=_with_caption(_legend_label([k for k in _KIND_TEXT if k in kinds], shading), under or ""),
                       labelloc="b", labeljust="l")
            else:
                _legend(g, [k for k in _KIND_TEXT if k in kinds], shading)
        if under and not (legend and slide):
            g.attr(label=under, labelloc="b", fontsize="11")
        return g

    if not slide:
        return make(rankdir)
    # the slide layout picks the direction that shows the picture largest in a slide-shaped box
    aspect = PAGE_ASPECT if page else SLIDE_ASPECT
    best, best_scale = None, -1.0
    for rd in ("LR", "TB"):
        g = make(rd)
        size = _plain_size(g)
        if size is None:
            return g
        scale = min(aspect / size[0], 1 / size[1])
        if scale > best_scale:
            best, best_scale = g, scale
    assert best is not None
    return best
