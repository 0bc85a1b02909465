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

from autograd_lite.engine import Value, topological_order

__all__ = ["draw_graph", "render_graph", "GraphvizNotFoundError", "FORMATS", "RANKDIRS", "COLOR_BY"]

FORMATS = ("svg", "png", "pdf", "dot")
RANKDIRS = ("LR", "RL", "TB", "BT")
COLOR_BY = ("kind", "grad")

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
_NONCOMMUTATIVE = {"sub", "div", "pow"}
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


def _fmt(x: float, precision: int) -> str:
    return format(x, f".{precision}g")


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
        elif len(vparents) == 1 and node.op.arity == 1 and vparents[0] in core:
            cluster[node] = cluster[vparents[0]]
        elif (len(vparents) >= 2 and all(p in core for p in vparents)
              and len({cluster[p] for p in vparents}) == 1):
            cluster[node] = cluster[vparents[0]]
            core.add(node)
    labels = {m: (m or root_label) for m in set(cluster.values())}
    return cluster, labels, modules or []


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


def draw_graph(root: Value, *, rankdir: str = "LR", show_data: bool = True, show_grad: bool = True,
               precision: int = 4, max_nodes: int | None = 500, color_by: str = "kind",
               expand_linear: bool = False, model: Any = None, legend: bool = True,
               grad_range: tuple[float, float] | None = None) -> graphviz.Digraph:
    """The computational graph that ends at ``root`` as a `graphviz.Digraph`.

    - One box per `Value` (label, ``data``, ``grad``; a gradient that is itself a
      Value after ``backward(create_graph=True)`` shows its ``.data``), one small
      node per operation with its symbol, one small dashed box per constant.
      Inputs of ``−``, ``÷`` and ``**`` are marked ``x``/``y`` as in the derivative
      table (``∂(x−y)/∂y = −1``); the fused neuron ``linear`` marks ``w0, x0, w1, x1, …, b``.
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
    - More than ``max_nodes`` Values raises ValueError (pass a larger ``max_nodes``
      or ``None``) rather than drawing an unreadable hairball.

    Node ids are ``v<i>`` with i the position in `topological_order` (root = ``v0``),
    so the DOT source is deterministic.  SVG output keeps them as element ids, with
    classes ``value leaf|intermediate|root``, ``op``, ``const`` and ``legend``.
    """
    _check_options(root, rankdir, precision, max_nodes, color_by, grad_range)
    order = topological_order(root)
    if max_nodes is not None and len(order) > max_nodes:
        raise ValueError(
            f"the graph has {len(order)} Value nodes, more than max_nodes={max_nodes}; drawn, it would be an "
            f"unreadable hairball. Draw a smaller sub-expression, or raise the limit with "
            f"draw_graph(..., max_nodes={len(order)}) (max_nodes=None disables it)")
    index = {node: i for i, node in enumerate(order)}
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
        if node.is_leaf():
            value_box(vid, kind, node.label, node.data, grad, mod)
            continue
        op = node.op
        parents = node.parents
        if op.name == "linear":
            n = (len(parents) - 1) // 2
            ws, xs, b = parents[:n], parents[n:2 * n], parents[-1]
            if expand_linear and n >= 1:
                # b + w0·x0 + w1·x1 + …, left to right: the order of the fused node's own sum
                acc_id, acc = source(b, i, 2 * n, mod), b.data
                for k, (w, x) in enumerate(zip(ws, xs)):
                    mid, m = f"v{i}_m{k}", w.data * (x.data if x.__class__ is Value else x)
                    op_node(f"{mid}_op", "×", "∂(xy)/∂x = y,  ∂(xy)/∂y = x", mod)
                    edge(source(w, i, k, mod), f"{mid}_op")
                    edge(source(x, i, n + k, mod), f"{mid}_op")
                    value_box(mid, "intermediate", None, m, grad, mod, expanded=True)
                    edge(f"{mid}_op", mid)
                    sid = f"v{i}_s{k}" if k < n - 1 else vid  # the last sum is the node itself
                    op_node(f"{sid}_op", "+", "∂(x+y)/∂x = 1,  ∂(x+y)/∂y = 1", mod)
                    edge(acc_id, f"{sid}_op")
                    edge(mid, f"{sid}_op")
                    if k < n - 1:
                        acc += m
                        value_box(sid, "intermediate", None, acc, grad, mod, expanded=True)
                        edge(f"{sid}_op", sid)
                    acc_id = sid
            else:
                op_node(f"{vid}_op", op.symbol, op.formula, mod)
                for k, (w, x) in enumerate(zip(ws, xs)):
                    edge(source(w, i, k, mod), f"{vid}_op", f"w{k}")
                    edge(source(x, i, n + k, mod), f"{vid}_op", f"x{k}")
                edge(source(b, i, 2 * n, mod), f"{vid}_op", "b")
        else:
            op_node(f"{vid}_op", op.symbol, op.formula, mod)
            roles = ("x", "y") if op.name in _NONCOMMUTATIVE else (None, None)
            for j, p in enumerate(parents):
                edge(source(p, i, j, mod), f"{vid}_op", roles[j])
        value_box(vid, kind, node.label, node.data, grad, mod)
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

    g = graphviz.Digraph("computational_graph")
    g.attr(rankdir=rankdir, fontsize="11", nodesep="0.25", ranksep="0.35")
    g.attr("node", fontsize="11", margin="0.08,0.04", height="0.3")
    g.attr("edge", arrowsize="0.6")

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

    def emit(container: graphviz.Digraph, mod: str | None) -> None:
        for nid, attrs in members.get(mod, []):
            container.node(nid, **attrs)
        for child in tree.get(mod, []):
            with container.subgraph(name=f"cluster_{numbering[child]}") as c:
                c.attr(label=child or type(model).__name__, style="rounded,dashed", color="#888888",
                       fontsize="10", id=f"module_{child or 'model'}", **{"class": "module"})
                emit(c, child)

    emit(g, None)
    for tail, head, attrs in edges:
        g.edge(tail, head, **attrs)
    if legend:
        _legend(g, [k for k in _KIND_TEXT if k in kinds_seen], shading)
    return g


def _ancestors(name: str, module_names: Sequence[str]) -> list[str]:
    """The modules strictly containing ``name`` (outermost first), among ``module_names``."""
    return [m for m in sorted(module_names, key=len) if m and m != name and name.startswith(m + ".")]


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
        data = g.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(g.source, encoding="utf-8")
        raise GraphvizNotFoundError(
            f"Graphviz is not installed: its 'dot' program is not on PATH, so {str(path)!r} could not be "
            f"rendered.\n{_INSTALL_HELP}\nThe graph was written as DOT source to {str(dot_path)!r} instead; "
            f"once Graphviz is installed, render it with: dot -T{fmt} {dot_path} -o {path}") from None
    path.write_bytes(data)
    return path
