"""Backprop, explained: the chain-rule ledger of one backward pass.

``explain(L)`` runs the engine's own backprop routine (`engine.backprop`) with an
observer and keeps what it sees, so every number is the one ``L.backward()``
computes, bit for bit:

- the **forward list** (a Wengert list / evaluation trace): one row per node in
  evaluation order, named as in every view (`autograd_lite.naming`: its label,
  ``L`` for an unlabelled root, a short expression such as ``log a``, else
  ``v1, v2, …``);
- the **backward steps** in the order backprop performs them, numbered from 1
  (``steps[1]`` is the first, as ``line(1)``, ``draw_graph(step=1)`` and the page):
  for each input of each node, the upstream gradient dL/dnode (a *total*
  derivative, written with d), the *local* derivative ∂node/∂input as the
  derivative table's formula instantiated with the numbers, their product (the
  contribution) and the running sum dL/dinput (fan-in adds up);
- ``paths(w)``: dL/dw as the sum over graph paths of products of local derivatives.

>>> from autograd_lite import Value, explain
>>> z = Value(0.95, label="z")
>>> a = z.sigmoid(); a.label = "a"
>>> L = -a.log(); L.label = "L"
>>> e = explain(L)
>>> print(e.steps[3].local_text)   # steps: L → log a, log a → a, a → z
∂a/∂z = a(1 − a) = 0.7211 × 0.2789 = 0.2011
>>> e.steps[-1].total == (L.backward() or z.grad)
True
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograd_lite import engine
from autograd_lite.engine import Value, topological_order
from autograd_lite.naming import Namer
from autograd_lite.naming import operand as _operand

__all__ = ["explain", "Explanation", "LabelExplanation", "ForwardRow", "Step", "Steps", "PathSum", "PathLimitError",
           "TEMPLATES", "render_backprop", "MAX_NODES"]


# --------------------------------------------------------------------------
# numbers and names
# --------------------------------------------------------------------------


def _f(x: float | None, p: int = 4) -> str:
    """A number with ``p`` significant digits (``-0.2789``, ``1.5``, ``inf``; ``—`` for none)."""
    if x is None:
        return "—"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return "0" if x == 0 else format(x, f".{p}g")


def _fp(x: float, p: int = 4) -> str:
    """A number as a factor: negative ones in parentheses."""
    s = _f(x, p)
    return f"({s})" if s.startswith("-") else s


def _w(name: str) -> str:
    """A name as an operand: parenthesised unless it is one identifier-like token
    or a non-negative number (see `autograd_lite.naming.operand`)."""
    return _operand(name)


def _partial(out: str, x: str) -> str:
    """A local derivative, an op's partial: ``∂(x·x)/∂x`` (holding the op's other inputs fixed)."""
    return f"∂{_w(out)}/∂{_w(x)}"


def _total(root: str, x: str) -> str:
    """A total derivative, what backprop accumulates: ``dL/dx`` (through every path)."""
    return f"d{_w(root)}/d{_w(x)}"


# --------------------------------------------------------------------------
# the local-derivative templates: one per op of the derivative table
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    """What a template needs: the node's name/value, its inputs' names/values."""

    out: str
    out_value: float
    names: tuple[str, ...]
    values: tuple[float, ...]
    index: int
    local: float
    p: int


def _chain(*parts: str) -> str:
    """``a = b = c`` without repeating equal neighbours."""
    kept: list[str] = []
    for s in parts:
        if not kept or kept[-1] != s:
            kept.append(s)
    return " = ".join(kept)


def _t_const(value: str) -> Callable[[_Ctx], str]:
    return lambda c: value


def _t_mul(c: _Ctx) -> str:
    other = 1 - c.index
    return _chain(c.names[other], _f(c.local, c.p))


def _t_div(c: _Ctx) -> str:
    x, y = (_w(n) for n in c.names)
    if c.index == 0:
        return _chain(f"1/{y}", f"1/{_fp(c.values[1], c.p)}", _f(c.local, c.p))
    return _chain(f"−{x}/{y}²", f"−{_w(c.out)}/{y}", f"−{_fp(c.out_value, c.p)}/{_fp(c.values[1], c.p)}",
                  _f(c.local, c.p))


def _t_pow(c: _Ctx) -> str:
    x, y = (_w(n) for n in c.names)
    xv, yv = c.values
    if c.index == 0:
        if yv == 0:
            return _chain(f"{y}·{x}^({y} − 1)", "0 (exponent = 0, as PyTorch)")
        return _chain(f"{y}·{x}^({y} − 1)", f"{_fp(yv, c.p)} × {_fp(xv, c.p)}^{_fp(yv - 1, c.p)}",
                      _f(c.local, c.p))
    if xv == 0 and yv >= 0:
        return _chain(f"{x}^{y}·ln {x}", "0 (base = 0 ≤ exponent, as PyTorch)")
    return _chain(f"{x}^{y}·ln {x}", f"{_fp(c.out_value, c.p)} × ln {_fp(xv, c.p)}", _f(c.local, c.p))


def _t_exp(c: _Ctx) -> str:
    return _chain(f"e^{_w(c.names[0])}", c.out, _f(c.local, c.p))


def _t_log(c: _Ctx) -> str:
    return _chain(f"1/{_w(c.names[0])}", f"1/{_fp(c.values[0], c.p)}", _f(c.local, c.p))


def _t_sigmoid(c: _Ctx) -> str:
    a = _w(c.out)
    return _chain(f"{a}(1 − {a})", f"{_fp(c.out_value, c.p)} × {_fp(1.0 - c.out_value, c.p)}",
                  _f(c.local, c.p))


def _t_tanh(c: _Ctx) -> str:
    t = _w(c.out)
    return _chain(f"1 − {t}²", f"1 − {_fp(c.out_value, c.p)}²", _f(c.local, c.p))


def _t_relu(c: _Ctx) -> str:
    x, xv = c.names[0], c.values[0]
    why = f"{x} is {_f(xv, c.p)} {'>' if xv > 0 else '≤'} 0"
    return _chain(f"1 if {x} > 0 else 0", f"{_f(c.local, c.p)} ({why})")


def _t_sqrt(c: _Ctx) -> str:
    return _chain(f"1/(2√{_w(c.names[0])})", f"0.5/{_fp(c.out_value, c.p)}", _f(c.local, c.p))


def _t_abs(c: _Ctx) -> str:
    return _chain(f"sign({c.names[0]})", f"sign({_f(c.values[0], c.p)})", _f(c.local, c.p))


def _t_sin(c: _Ctx) -> str:
    return _chain(f"cos {_w(c.names[0])}", f"cos({_f(c.values[0], c.p)})", _f(c.local, c.p))


def _t_cos(c: _Ctx) -> str:
    return _chain(f"−sin {_w(c.names[0])}", f"−sin({_f(c.values[0], c.p)})", _f(c.local, c.p))


def _t_linear(c: _Ctx) -> str:
    n = (len(c.names) - 1) // 2
    if c.index == 2 * n:
        return "1"
    other = c.index + n if c.index < n else c.index - n
    return _chain(c.names[other], _f(c.local, c.p))


TEMPLATES: dict[str, Callable[[_Ctx], str]] = {
    "add": lambda c: "1",
    "sub": lambda c: "1" if c.index == 0 else "−1",
    "mul": _t_mul,
    "div": _t_div,
    "pow": _t_pow,
    "neg": lambda c: "−1",
    "exp": _t_exp,
    "log": _t_log,
    "sigmoid": _t_sigmoid,
    "tanh": _t_tanh,
    "relu": _t_relu,
    "sqrt": _t_sqrt,
    "abs": _t_abs,
    "sin": _t_sin,
    "cos": _t_cos,
    "linear": _t_linear,
}
"""Op name → the local derivative ∂out/∂input as the table's formula, instantiated."""


# --------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardRow:
    """One line of the evaluation trace: ``name = expression = value``."""

    position: int
    name: str
    node: Value = field(repr=False)
    op: str | None
    inputs: tuple[str, ...]
    expression: str
    value: float
    tangent: float | None = None


@dataclass(frozen=True)
class Step:
    """One contribution of backprop: ``contribution = upstream × local`` added to
    ∂L/∂input, whose running sum is then ``total`` (``previous`` before; None for
    the first contribution).  ``index`` is the input's position in ``node.parents``;
    ``final`` is True for the last contribution ``input`` receives."""

    number: int
    node: Value = field(repr=False)
    index: int
    input: Value = field(repr=False)
    local: float
    upstream: float
    contribution: float
    total: float
    previous: float | None
    final: bool
    node_name: str
    input_name: str
    local_text: str


class Steps(Sequence[Step]):
    """The backward steps, **numbered from 1** like `Explanation.line`, ``draw_graph(step=k)``
    and the step-through page: ``steps[1]`` is the first, ``steps[len(steps)]`` (or
    ``steps[-1]``) the last, and ``steps[k].number == k``.  Step 0 is the start (only
    the seed known), which has no contribution: ``steps[0]`` raises IndexError.
    Iteration yields them in order; a slice is refused (``list(steps)[i:j]`` counts from 0)."""

    __slots__ = ("_list",)

    def __init__(self, steps: Sequence[Step]) -> None:
        self._list = list(steps)

    def __len__(self) -> int:
        return len(self._list)

    def __iter__(self) -> Iterator[Step]:
        return iter(self._list)

    def __reversed__(self) -> Iterator[Step]:
        return reversed(self._list)

    def __getitem__(self, k: int) -> Step:  # type: ignore[override]
        n = len(self._list)
        if isinstance(k, slice):
            raise TypeError("steps[k] takes one step number (1 … len); for a range of steps slice a list, "
                            "list(e.steps)[i:j] (counted from 0), or filter: [s for s in e.steps if i <= s.number < j]")
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"steps are numbered by ints 1 … {n}, not {type(k).__name__}")
        if k == 0:
            raise IndexError(f"steps are numbered 1 … {n} (like line(k), step=k and the page); step 0 is the "
                             f"start, only the seed known, and has no contribution: steps[1] is the first")
        if not -n <= k <= n:
            raise IndexError(f"step {k} is out of range: this backward pass has steps 1 … {n}")
        return self._list[k - 1] if k > 0 else self._list[k]

    def index(self, value: Any) -> int:  # type: ignore[override]
        """The number (from 1) of a step."""
        for k, s in enumerate(self._list, 1):
            if s is value:
                return k
        raise ValueError("that Step is not one of these steps")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Steps):
            return self._list == other._list
        return NotImplemented

    def __repr__(self) -> str:
        return f"<Steps 1 … {len(self._list)}>"


class PathLimitError(ValueError):
    """More graph paths than ``limit``: enumerating them would take too long."""


# --------------------------------------------------------------------------
# the explanation
# --------------------------------------------------------------------------


class Explanation:
    """The ledger of one backward pass from ``root`` (see `explain`)."""

    level = "full"  # every op of the graph (`LabelExplanation`: only the labelled nodes)

    def __init__(self, root: Value, *, seed: float = 1.0, forward: Value | str | None = None,
                 precision: int = 4, names: str = "auto", max_nodes: int | None = None) -> None:
        if root.__class__ is not Value:
            raise TypeError(f"explain() needs a Value (the loss), got {type(root).__name__}")
        if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
            raise ValueError(f"precision is a number of significant digits from 1 to 17; got {precision!r}")
        _check_size(root, max_nodes)
        self.root = root
        self.precision = p = precision
        order = topological_order(root)
        self._order = order
        evaluation = order[::-1]
        #: The names of the nodes (see `autograd_lite.naming`), shared with the pictures.
        self.namer = Namer(root, names, precision=p, order=evaluation)
        self.names: dict[int, str] = self.namer.as_dict()
        by_id = self.names
        self.root_name = by_id[id(root)]
        raw: list[tuple] = []

        def observe(node, index, input, local, upstream, contribution, total):
            raw.append((node, index, input, local, upstream, contribution, total))

        self.grads = engine.backprop(root, seed, observe=observe)
        self.seed = self.grads[root]
        last: dict[int, int] = {}
        for k, r in enumerate(raw):
            last[id(r[2])] = k
        running: dict[int, float] = {}  # the input's sum so far, by id
        per_node: dict[int, tuple] = {}  # names and values of a node's inputs, computed once
        steps = []
        for k, (node, index, inp, local, upstream, contribution, total) in enumerate(raw):
            parents = node.parents
            if id(node) not in per_node:
                seen_ids: set[int] = set()
                repeated_ids: set[int] = set()  # inputs met twice (x*x), found in one pass
                for a in parents:
                    if a.__class__ is Value:
                        (repeated_ids if id(a) in seen_ids else seen_ids).add(id(a))
                per_node[id(node)] = (
                    tuple(by_id[id(a)] if a.__class__ is Value else _f(a, p) for a in parents),
                    tuple(a.data if a.__class__ is Value else a for a in parents), repeated_ids)
            arg_names, arg_values, repeated = per_node[id(node)]
            ctx = _Ctx(by_id[id(node)], node.data, arg_names, arg_values, index, local, p)
            head = _partial(by_id[id(node)], by_id[id(inp)])
            if id(inp) in repeated:  # x*x: say which edge
                head += f" (input {index + 1})"
            previous = running.get(id(inp))
            running[id(inp)] = total
            steps.append(Step(k + 1, node, index, inp, local, upstream, contribution, total, previous,
                              last[id(inp)] == k, by_id[id(node)], by_id[id(inp)],
                              f"{head} = {TEMPLATES[node.op.name](ctx)}"))
        self.steps: Steps = Steps(steps)
        self.forward_of: Value | None = None
        tangents: dict[int, float] = {}
        if forward is not None:
            self.forward_of = self._find(forward, "forward")
            from autograd_lite.forward import tangents as _tangents

            tangents = _tangents(root, {self.forward_of: 1.0})
        self.forward: list[ForwardRow] = [
            ForwardRow(k + 1, by_id[id(n)], n, None if n.op is None else n.op.name,
                       tuple(by_id[id(a)] if a.__class__ is Value else _f(a, p) for a in n.parents),
                       self.namer.expression(n), n.data,
                       tangents.get(id(n)) if forward is not None else None)
            for k, n in enumerate(evaluation)]

    # -- lookups ---------------------------------------------------------------
    def _find(self, x: Value | str, what: str) -> Value:
        if x.__class__ is Value:
            if not any(n is x for n in self._order):
                raise ValueError(f"{what}=: that Value is not in the graph of {self.root_name}")
            return x
        if isinstance(x, str):
            try:
                return self.namer.find(x)
            except KeyError as e:
                raise ValueError(f"{what}=: {e.args[0]}") from None
        raise TypeError(f"{what}= takes a Value of the graph or its name, not {type(x).__name__}")

    def grad(self, node: Value | str) -> float:
        """∂root/∂node as backprop computed it (0.0 for a node it does not reach)."""
        return self.grads.get(self._find(node, "grad"), 0.0)

    def __len__(self) -> int:
        return len(self.steps)

    def _expression_text(self, node: Value) -> str:
        """How ``node`` was computed, in the ledger's names."""
        return self.namer.expression(node)

    # -- one line per step ------------------------------------------------------
    def line(self, k: int) -> str:
        """The ledger line of backward step ``k`` (1-based like `steps`; 0 is the seed, len+1 the end)."""
        p, L = self.precision, self.root_name
        n = len(self.steps)
        if k == 0:
            return f"start: {_total(L, L)} = {_f(self.seed, p)} (the seed); every other gradient is unknown"
        if k == n + 1:
            return f"done: {n} steps; every node holds its gradient {_total(L, 'node')}"
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
            raise IndexError(f"step {k!r} is out of range 0..{n + 1}")
        s = self.steps[k]
        return f"[{k}] {s.node_name} → {s.input_name}: local {s.local_text};  " + self._product(s)

    def _product(self, s: Step) -> str:
        p, L = self.precision, self.root_name
        prod = (f"{_total(L, s.node_name)} × local = {_f(s.upstream, p)} × {_fp(s.local, p)} = "
                f"{_f(s.contribution, p)}")
        return f"{prod};  {_total(L, s.input_name)} = {self._sum(s)}{' (final)' if s.final else ''}"

    def _sum(self, s: Step) -> str:
        """The input's running total: ``0.25`` or ``previous + contribution = total``."""
        p = self.precision
        if s.previous is None:
            return _f(s.total, p)
        return f"{_f(s.previous, p)} + {_fp(s.contribution, p)} = {_f(s.total, p)}"

    # -- renderings --------------------------------------------------------------
    def _rhs(self, r: ForwardRow) -> str:
        """``expression = value`` (just the value when the name is the expression), or ``value (leaf)``."""
        p = self.precision
        if not r.op:
            return f"{_f(r.value, p)}   (leaf)"
        return _f(r.value, p) if r.expression == r.name else f"{r.expression} = {_f(r.value, p)}"

    def _forward_lines(self) -> list[str]:
        p = self.precision
        width = max(len(r.name) for r in self.forward)
        rhs = [self._rhs(r) for r in self.forward]
        rwidth = max(map(len, rhs))
        out = []
        for r, right in zip(self.forward, rhs):
            if r.tangent is None:
                out.append(f"  {r.name.ljust(width)} = {right}")
            else:
                w = self.names[id(self.forward_of)]
                out.append(f"  {r.name.ljust(width)} = {right.ljust(rwidth)}   {_total(r.name, w)} = "
                           f"{_f(r.tangent, p)}")
        return out

    def _cost_lines(self) -> list[str]:
        leaves = [n for n in self._order if n.op is None]
        e = len(self.steps)
        n = len(leaves)
        return [f"Cost of the full gradient of {self.root_name} with respect to all {n} inputs/parameters:",
                f"  forward mode: {n} passes (one per input) × {e} multiply-adds = {n * e} multiply-adds",
                f"  reverse mode: 1 backward pass × {e} multiply-adds = {e} multiply-adds"]

    def __str__(self) -> str:
        p, L = self.precision, self.root_name
        lines = [f"Forward pass: {len(self.forward)} nodes in evaluation order"
                 + (f", with tangents d·/d{_w(self.names[id(self.forward_of)])} (forward mode)"
                    if self.forward_of is not None else "")]
        lines += self._forward_lines()
        lines.append("")
        lines.append(f"Backward pass from {L}: {len(self.steps)} steps (seed {_total(L, L)} = {_f(self.seed, p)}); "
                     f"∂ marks a local derivative, d a total one")
        current = None
        for s in self.steps:
            if s.node is not current:
                current = s.node
                expr = self._expression_text(s.node)
                head = s.node_name if expr == s.node_name else f"{s.node_name} = {expr}"
                lines.append(f"  {head}    upstream {_total(L, s.node_name)} = {_f(s.upstream, p)}")
            lines.append(f"    [{s.number}] local {s.local_text}")
            lines.append(f"        {self._product(s)}")
        if self.forward_of is not None:
            lines.append("")
            lines += self._cost_lines()
        return "\n".join(lines)

    def __repr__(self) -> str:
        """The ledger itself, so that ``explain(L)`` at a plain Python prompt prints it."""
        return str(self)

    def summary(self) -> str:
        """One line: ``<Explanation of L: 9 nodes, 10 backward steps>``."""
        return f"<Explanation of {self.root_name}: {len(self.forward)} nodes, {len(self.steps)} backward steps>"

    def _table_heads(self, e: Callable[[str], str]) -> tuple[list[str], list[str]]:
        L = self.root_name
        t = self.forward_of is not None
        fwd = ["#", "name", "computed as", "value"] + (
            [f"tangent d·/d{_w(self.names[id(self.forward_of)])}"] if t else [])
        bwd = ["step", "node", "input", f"upstream {_total(L, 'node')}", "local ∂node/∂input", "contribution",
               f"{_total(L, 'input')}"]
        return [e(h) for h in fwd], [e(h) for h in bwd]

    def to_markdown(self) -> str:
        """The ledger as two Markdown tables (forward list, backward steps)."""
        p, L = self.precision, self.root_name

        def esc(s: str) -> str:
            return s.replace("|", "\\|")

        t = self.forward_of is not None
        fwd, bwd = self._table_heads(esc)
        rows = [f"**Forward pass** ({len(self.forward)} nodes)", "", "| " + " | ".join(fwd) + " |",
                "|" + "---|" * len(fwd)]
        for r in self.forward:
            rows.append(f"| {r.position} | {esc(r.name)} | {esc(r.expression) or 'leaf'} | {_f(r.value, p)} |"
                        + (f" {_f(r.tangent, p)} |" if t else ""))
        rows += ["", f"**Backward pass** from {esc(L)} (seed {_f(self.seed, p)})", "",
                 "| " + " | ".join(bwd) + " |", "|" + "---|" * len(bwd)]
        for s in self.steps:
            rows.append(f"| {s.number} | {esc(s.node_name)} | {esc(s.input_name)} | {_f(s.upstream, p)} | "
                        f"{esc(s.local_text)} | {_f(s.contribution, p)} | {self._sum(s)}"
                        f"{' (final)' if s.final else ''} |")
        if t:
            rows += [""] + [ln.strip() + "  " for ln in self._cost_lines()]
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        p, L = self.precision, self.root_name
        e = html.escape
        t = self.forward_of is not None
        fwd, bwd = self._table_heads(e)
        out = ["<div class='autograd-lite-ledger'>",
               f"<p><b>Forward pass</b> ({len(self.forward)} nodes)</p><table>",
               "<tr>" + "".join(f"<th>{h}</th>" for h in fwd) + "</tr>"]
        for r in self.forward:
            out.append(f"<tr><td>{r.position}</td><td>{e(r.name)}</td><td>{e(r.expression) or 'leaf'}</td>"
                       f"<td>{_f(r.value, p)}</td>" + (f"<td>{_f(r.tangent, p)}</td>" if t else "") + "</tr>")
        out.append(f"</table><p><b>Backward pass</b> from {e(L)} (seed {_f(self.seed, p)})</p><table>")
        out.append("<tr>" + "".join(f"<th>{h}</th>" for h in bwd) + "</tr>")
        for s in self.steps:
            out.append(f"<tr><td>{s.number}</td><td>{e(s.node_name)}</td><td>{e(s.input_name)}</td>"
                       f"<td>{_f(s.upstream, p)}</td><td>{e(s.local_text)}</td><td>{_f(s.contribution, p)}</td>"
                       f"<td>{e(self._sum(s))}{' <b>(final)</b>' if s.final else ''}</td></tr>")
        out.append("</table>")
        if t:
            out.append("<p>" + "<br>".join(e(x) for x in self._cost_lines()) + "</p>")
        out.append("</div>")
        return "\n".join(out)

    # -- paths -------------------------------------------------------------------
    def paths(self, target: Value | str, *, limit: int = 1000) -> PathSum:
        """∂root/∂target as the sum over graph paths root → target of the product
        of the local derivatives along each path.  More than ``limit`` paths raises
        `PathLimitError` (they are counted first, so a big graph never hangs)."""
        target = self._find(target, "paths")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive int; got {limit!r}")
        # edges from each node to its Value inputs, with the local derivative backprop used
        local = {(id(s.node), s.index): s.local for s in self.steps}
        count: dict[int, int] = {id(target): 1}  # paths node → target
        for node in self._order[::-1]:  # producers first
            if node is target:
                continue
            count[id(node)] = sum(count.get(id(a), 0) for a in node.parents if a.__class__ is Value)
        total = count[id(self.root)]
        if total > limit:
            raise PathLimitError(
                f"{_total(self.root_name, self.names[id(target)])} is a sum over {total} paths, more than "
                f"limit={limit}; pass a larger limit=, or read the backward ledger (str(explain(L))), "
                f"which sums the same products node by node")
        paths = self._enumerate(self.root, target, count, local)
        # labelled nodes every path crosses: ∂L/∂w factors into a chain through them
        reach = {id(self.root): 1}  # paths root → node
        for node in self._order:  # consumers first
            for a in {id(a): a for a in node.parents if a.__class__ is Value}.values():
                mult = sum(1 for b in node.parents if b is a)
                reach[id(a)] = reach.get(id(a), 0) + reach.get(id(node), 0) * mult
        via = [n for n in self._order if n.label and n is not self.root and n is not target
               and reach.get(id(n), 0) * count.get(id(n), 0) == total and total > 0]
        chain = [self.root, *via, target]
        factors = []
        for src, dst in zip(chain, chain[1:]):
            sub = {id(dst): 1}
            for node in self._order[::-1]:
                if node is not dst:
                    sub[id(node)] = sum(sub.get(id(a), 0) for a in node.parents if a.__class__ is Value)
            factors.append((src, dst, self._enumerate(src, dst, sub, local)))
        return PathSum(self, target, paths, factors)

    @staticmethod
    def _enumerate(src: Value, dst: Value, count: dict[int, int], local: dict) -> list[tuple]:
        """Every path src → dst as a tuple of edges (node, index, input, local), in order."""
        paths: list[tuple] = []
        stack: list[tuple[Value, tuple]] = [(src, ())]
        while stack:
            node, path = stack.pop()
            if node is dst:
                paths.append(path)
                continue
            for i in reversed(range(len(node.parents))):
                a = node.parents[i]
                if a.__class__ is Value and count.get(id(a), 0):
                    stack.append((a, (*path, (node, i, a, local[(id(node), i)]))))
        return paths

    # -- pictures ----------------------------------------------------------------
    def _draw_kw(self, draw_kw: dict, names: str | None = None) -> dict:
        """The keywords for `draw_graph` with this ledger's ``names=`` (a different one is refused)."""
        names = draw_kw.get("names", self.namer.mode) if names is None else names
        if names != self.namer.mode:
            raise ValueError(f"names={names!r} would name the picture's nodes differently from this ledger "
                             f"(explain(..., names={self.namer.mode!r})): pass names= to explain() instead")
        return {**draw_kw, "names": names}

    def frames(self, **draw_kw: Any) -> list:
        """The graphviz Digraphs of the backward pass: start, one per step, end."""
        return [self.frame(k, **draw_kw) for k in range(len(self.steps) + 2)]

    def frame(self, k: int, **draw_kw: Any):
        """The picture after backward step ``k`` with this step's ledger line as caption."""
        from autograd_lite.viz import draw_graph

        # the ledger's line under the picture (the slide layout keeps its legend line below it)
        return draw_graph(self.root, step=k, caption=self.line(k), **{"level": self.level, **self._draw_kw(draw_kw)})

    def render(self, path: str | os.PathLike, **draw_kw: Any) -> Path:
        """Write the backward pass as ``.gif`` or ``.html`` (see `render_backprop`)."""
        return render_backprop(self.root, path, explanation=self, **draw_kw)

    def widget(self, **draw_kw: Any):
        """An ipywidgets slider stepping through the frames of the backward pass (Jupyter)."""
        try:
            import ipywidgets as widgets
        except ImportError:
            raise ImportError("explain(L).widget() needs ipywidgets: pip install 'autograd-lite[widgets]' "
                              "(or pip install ipywidgets); without it, use render_backprop(L, 'backprop.html')"
                              ) from None
        n = len(self.steps)
        slider = widgets.IntSlider(value=0, min=0, max=n + 1, step=1, description="step",
                                   continuous_update=False)
        picture = widgets.HTML()
        caption = widgets.HTML()
        cache: dict[int, str] = {}

        def show(k: int) -> None:
            if k not in cache:
                cache[k] = _svg(self.frame(k, **draw_kw))
            picture.value = cache[k]
            caption.value = f"<code>{html.escape(self.line(k))}</code>"

        slider.observe(lambda change: show(change["new"]), names="value")
        show(0)
        box = widgets.VBox([slider, picture, caption])
        box.slider, box.picture, box.caption = slider, picture, caption
        return box


class PathSum:
    """∂root/∂target = Σ over paths of Π local derivatives (see `Explanation.paths`)."""

    def __init__(self, ex: Explanation, target: Value, paths: list, factors: list) -> None:
        self.explanation = ex
        self.target = target
        self.paths = paths
        self.factors = factors  # (src, dst, paths src → dst) through labelled nodes every path crosses
        # each path's product, folded from the root like backprop: ((seed·l1)·l2)·…
        self.products = []
        for path in paths:
            prod = ex.seed
            for *_, loc in path:
                prod = prod * loc
            self.products.append(prod)
        self.value = math.fsum(self.products) if all(map(math.isfinite, self.products)) else sum(self.products)
        self.grad = ex.grads.get(target, 0.0)

    def __len__(self) -> int:
        return len(self.paths)

    def __str__(self) -> str:
        ex = self.explanation
        p, names = ex.precision, ex.names
        L, w = ex.root_name, names[id(self.target)]
        lines = []
        if len(self.factors) > 1:
            vals = []
            for _src, _dst, sub in self.factors:
                prods = []
                for path in sub:
                    prod = 1.0
                    for *_, loc in path:
                        prod = prod * loc
                    prods.append(prod)
                vals.append(math.fsum(prods) if all(map(math.isfinite, prods)) else sum(prods))
            vals[0] = ex.seed * vals[0]
            crossed = ", ".join(_w(names[id(d)]) for _, d, _ in self.factors[:-1])
            symbolic = " · ".join(_total(names[id(s)], names[id(d)]) for s, d, _ in self.factors)
            value = 1.0
            for v in vals:
                value = value * v
            head = _total(L, w)
            lines += [f"{head} = {symbolic}    (every path from {L} to {w} passes through {crossed})",
                      f"{' ' * len(head)} = {' × '.join(_fp(v, p) for v in vals)} = {_f(value, p)}",
                      ""]
        lines.append(f"{_total(L, w)} as a sum over {len(self.paths)} path{'s' if len(self.paths) != 1 else ''} "
                     f"of products of local derivatives:")
        for k, (path, prod) in enumerate(zip(self.paths, self.products), 1):
            route = " → ".join([L, *(names[id(a)] for _, _, a, _ in path)])
            symbols = " · ".join(_partial(names[id(nd)], names[id(a)]) for nd, _, a, _ in path) or "1"
            numbers = " × ".join(_fp(loc, p) for *_, loc in path) or "1"
            seed = "" if ex.seed == 1.0 else f"{_fp(ex.seed, p)} × "
            lines.append(f"  path {k}: {route}")
            lines.append(f"    {symbols} = {seed}{numbers} = {_f(prod, p)}")
        lines.append(f"  sum = {_f(self.value, p)}   (backprop: {_total(L, w)} = {_f(self.grad, p)})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<PathSum {_total(self.explanation.root_name, self.explanation.names[id(self.target)])}: " \
               f"{len(self.paths)} paths, sum {self.value!r}>"


#: The largest graph `explain` writes a ledger for by default (Value nodes); a
#: ledger is a few lines per node, so a bigger one is for reading by a program.
MAX_NODES = 10_000


def _check_size(root: Value, max_nodes: int | None) -> None:
    """Refuse a graph of more than ``max_nodes`` Values, after counting at most
    ``max_nodes`` + 1 of them (quick, whatever the graph's size)."""
    if max_nodes is None:
        return
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int (or None for no limit); got {max_nodes!r}")
    seen, todo = {id(root)}, [root]
    while todo:
        for q in todo.pop().parents:
            if q.__class__ is Value and id(q) not in seen:
                seen.add(id(q))
                todo.append(q)
        if len(seen) > max_nodes:
            raise ValueError(f"the graph has more than max_nodes={max_nodes:,} Value nodes: its ledger would take "
                             "a few lines and about 2 KB per node; pass explain(..., max_nodes=None) (or a "
                             "larger number) to explain it anyway")


def explain(root: Value, *, forward: Value | str | None = None, seed: float = 1.0,
            precision: int = 4, names: str = "auto", level: str = "full", model: Any = None,
            max_nodes: int | None = MAX_NODES) -> Explanation:
    """The chain-rule ledger of backprop from ``root`` (an observer of `engine.backprop`).

    ``.forward``: the evaluation trace; ``.steps``: every contribution
    ``upstream × local`` in backprop order with the running sums; ``.paths(w)``:
    dL/dw = Σ_paths Π local derivatives.  ``forward=w1`` adds each node's
    tangent dnode/dw1 computed in forward mode and the cost of both modes.
    ``print()`` it, or show it in Jupyter (a table); ``precision`` is the number of
    significant digits shown (the records hold the exact floats).  Nodes are named
    as in the pictures (`autograd_lite.naming`; ``names=`` as in `draw_graph`):
    labels, an unlabelled root ``L``, short expressions, else ``v1, v2, …``.
    Totals are written dL/dx, local derivatives ∂(x·x)/∂x; ``steps[k]``,
    ``line(k)``, ``draw_graph(step=k)`` and the page count steps from 1.
    ``level="labels"``: the ledger of the graph at the level of its labels
    (`LabelExplanation`); with ``model=`` (an `autograd_lite.nn` module) at the level
    of its neurons.  A graph of more than ``max_nodes`` Values (default `MAX_NODES`)
    raises ValueError at once; ``max_nodes=None`` explains any size (time and memory
    grow linearly)."""
    from autograd_lite.levels import check_level

    check_level(level)
    if level == "labels":
        if forward is not None:
            raise ValueError("forward= (tangents) is shown at level='full' only: explain(L, forward=w) "
                             "lists every node's tangent")
        if root.__class__ is Value:  # else LabelExplanation says what it needs
            _check_size(root, max_nodes)
        return LabelExplanation(root, seed=seed, precision=precision, model=model, names=names)
    if model is not None:
        raise ValueError("model= groups the ledger by neuron at level='labels': explain(L, level='labels', model=m)")
    return Explanation(root, seed=seed, forward=forward, precision=precision, names=names, max_nodes=max_nodes)


# --------------------------------------------------------------------------
# the ledger at the level of the labels
# --------------------------------------------------------------------------


class LabelExplanation(Explanation):
    """The ledger of backprop on the graph at the level of its labels (`autograd_lite.levels`):
    only labelled nodes, leaves and the root; each step multiplies ∂L/∂v by ∂v/∂u with the other
    labelled nodes held fixed (one edge of `levels.LabelLevel`).  The totals are ∂L/∂u, the
    gradients of the full graph (up to rounding: a sub-graph's local derivative is summed first)."""

    level = "labels"

    def __init__(self, root: Value, *, seed: float = 1.0, precision: int = 4, model: Any = None,
                 names: str = "auto") -> None:
        from autograd_lite.levels import LabelLevel

        if root.__class__ is not Value:
            raise TypeError(f"explain() needs a Value (the loss), got {type(root).__name__}")
        if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
            raise ValueError(f"precision is a number of significant digits from 1 to 17; got {precision!r}")
        self.root = root
        self.precision = precision
        #: The names of the nodes, as every view names them (`autograd_lite.naming`).
        self.namer = namer = Namer(root, names, precision=precision)
        self.levels = lv = LabelLevel(root, model=model, names=lambda kept: {id(n): namer.name(n) for n in kept})
        self._order = lv.kept
        self.names = names_ = lv.names
        self.root_name = names_[id(root)]
        self.seed = engine._number(seed, "explain(seed=...)")
        self.grads: dict[Value, float] = {root: self.seed}
        count = {id(e.input): 0 for e in lv.edges}
        for e in lv.edges:
            count[id(e.input)] += 1
        steps: list[Step] = []
        running: dict[int, float] = {}
        for k, e in enumerate(lv.edges):
            upstream = self.grads[e.node]
            contribution = upstream * e.local
            previous = running.get(id(e.input))
            total = contribution if previous is None else previous + contribution
            running[id(e.input)] = total
            self.grads[e.input] = total
            count[id(e.input)] -= 1
            steps.append(Step(k + 1, e.node, e.index, e.input, e.local, upstream, contribution, total, previous,
                              count[id(e.input)] == 0, names_[id(e.node)], names_[id(e.input)],
                              self._local_text(e)))
        self.steps = Steps(steps)
        self.forward_of = None
        self.forward = [ForwardRow(k + 1, names_[id(n)], n, None if n.op is None else n.op.name,
                                   tuple(names_[id(u)] for u in lv.inputs.get(id(n), [])),
                                   lv.expression_text(n), n.data, None)
                        for k, n in enumerate(lv.kept[::-1])]

    def _local_text(self, e: Any) -> str:
        p, names = self.precision, self.names
        head = _partial(names[id(e.node)], names[id(e.input)])
        node = e.node
        where = [j for j, a in enumerate(node.parents) if a is e.input]
        if e.single_op and len(where) == 1:  # one op of the table: its template, as the full ledger
            parents = node.parents
            ctx = _Ctx(names[id(node)], node.data,
                       tuple(names[id(a)] if a.__class__ is Value else _f(a, p) for a in parents),
                       tuple(a.data if a.__class__ is Value else a for a in parents), where[0], e.local, p)
            return f"{head} = {TEMPLATES[node.op.name](ctx)}"
        if e.formula is None:
            return f"{head} = {_f(e.local, p)}"
        return f"{head} = {_chain(e.formula, _f(e.local, p))}" + (f"  ({e.note})" if e.note else "")

    def _expression_text(self, node: Value) -> str:
        return self.levels.expression_text(node)

    def paths(self, target: Value | str, *, limit: int | None = None) -> PathSum:
        """Not at the label level: its edges are already sums over the paths between labels."""
        raise ValueError("paths() enumerates the paths of the full graph: call it on explain(L) (level='full'); "
                         "each edge of the label level already sums the paths between two labelled nodes")


# --------------------------------------------------------------------------
# render_backprop: GIF and self-contained HTML
# --------------------------------------------------------------------------


def _svg(g) -> str:
    """The SVG of a Digraph, without the XML prologue (ready to inline in HTML)."""
    from autograd_lite.viz import _pipe

    svg = _pipe(g, "svg").decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def render_backprop(root: Value, path: str | os.PathLike, *, explanation: Explanation | None = None,
                    duration: int = 1200, level: str | None = None, **draw_kw: Any) -> Path:
    """Write the backward pass from ``root`` as ``.html`` or ``.gif``.

    ``.html``: a self-contained page that draws the graph **once** and steps through
    the backward pass in its script (Prev / Next / Play, the arrow keys): the node being
    processed in red, the input receiving the contribution in blue, gradients known so
    far, and the ledger line of the step under the picture.  Its size grows as
    nodes + steps; it fits a 1280×720 window (text ≥ 13 px where the graph allows,
    else the picture scrolls inside its panel and follows the step).
    ``.gif``: one frame per step (start, steps, end; needs Pillow: ``pip install
    'autograd-lite[gif]'``); a GIF too big to read refuses at once, naming
    ``level="labels"`` and the page.  ``level="labels"``: the backward pass at the
    level of the labels (`explain(root, level="labels")`).  ``duration`` is the time
    per GIF frame in milliseconds; other keywords go to `draw_graph`.  Returns the path."""
    path = Path(os.fspath(path))
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".html", ".htm"):
        raise ValueError(f"render_backprop writes .gif or .html; cannot tell the format of {str(path)!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"directory {str(path.parent)!r} does not exist (render_backprop writes "
                                f"{path.name} there)")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 1:
        raise ValueError(f"duration is milliseconds per frame, a positive int; got {duration!r}")
    if explanation is not None and level is not None and explanation.level != level:
        raise ValueError(f"level={level!r} but the explanation given is at level={explanation.level!r}: "
                         f"pass explain(root, level={level!r}) or leave level= out")
    if level is None:
        level = explanation.level if explanation is not None else "full"
    from autograd_lite.levels import check_level

    check_level(level)
    names = draw_kw.pop("names", explanation.namer.mode if explanation is not None else "auto")
    import graphviz

    from autograd_lite.viz import PAGE, GraphvizNotFoundError, draw_graph

    draw_graph(root, step=0, level=level, names=names, **draw_kw)  # validates the keywords before any work
    ex = explanation if explanation is not None else explain(
        root, level=level, model=draw_kw.get("model") if level == "labels" else None, names=names)
    draw_kw = ex._draw_kw(draw_kw, names)
    try:
        if suffix == ".gif":
            _write_gif(ex, path, duration, draw_kw)
        else:
            page_kw = {"layout": "slide", **draw_kw, "legend": False}  # the page shows the legend as a line of text
            _write_html(ex, draw_graph(ex.root, step=PAGE, level=level, **page_kw), path,
                        legend=draw_kw.get("legend", True))
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError("Graphviz is not installed: its 'dot' program is not on PATH, so the frames "
                                    f"of {str(path)!r} could not be rendered (apt-get install graphviz)") from None
    return path


#: A GIF bigger than this (pixels per frame, frames) cannot be read: render_backprop refuses it.
GIF_MAX_PIXELS = 1600 * 1000
GIF_MAX_FRAMES = 250
GIF_MAX_BOXES = 80


def _write_gif(ex: Explanation, path: Path, duration: int, draw_kw: dict) -> None:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("writing a GIF needs Pillow: pip install 'autograd-lite[gif]' (or pip install pillow); "
                          "the .html output needs nothing extra") from None
    import io

    from autograd_lite.viz import _plain_size

    frames_n = len(ex.steps) + 2
    too_many = len(ex._order) > GIF_MAX_BOXES or frames_n > GIF_MAX_FRAMES  # known before any drawing
    size = None if too_many else _plain_size(ex.frame(0, **draw_kw))
    w_px, h_px = (0, 0) if size is None else (round(size[0] * 96), round(size[1] * 96))
    if too_many or w_px * h_px > GIF_MAX_PIXELS:
        hint = ("level='labels' (only the labelled nodes; CLI --level labels)" if ex.level == "full"
                else "fewer labelled nodes")
        what = f"{len(ex._order)} boxes" if size is None else f"{w_px}×{h_px} px"
        raise ValueError(f"a GIF of this backward pass would be {frames_n} frames of {what}: too big to read (at "
                         f"most {GIF_MAX_FRAMES} frames of {GIF_MAX_BOXES} boxes, {GIF_MAX_PIXELS // 1000}k px). "
                         f"Use {hint}, or write the step-through page instead: render_backprop(L, 'backprop.html')")
    images = [Image.open(io.BytesIO(g.pipe(format="png"))).convert("RGB") for g in ex.frames(**draw_kw)]
    w = max(im.width for im in images)
    h = max(im.height for im in images)
    frames = []
    for im in images:  # one canvas size for every frame, the picture top-left
        canvas = Image.new("RGB", (w, h), "white")
        canvas.paste(im, (0, 0))
        frames.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE))
    durations = [duration] * len(frames)
    durations[0] = durations[-1] = 3 * duration
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0, disposal=1,
                   optimize=False)


# --------------------------------------------------------------------------
# the step-through page: the graph drawn once, the steps driven by its script
# --------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backprop, step by step: {title}</title>
<style>
html, body {{ margin: 0; height: 100%; }}
body {{ font-family: system-ui, sans-serif; color: #222; display: flex; flex-direction: column;
  height: 100vh; overflow: hidden; box-sizing: border-box; padding: 8px 16px; }}
header {{ flex: none; }}
h1 {{ font-size: 18px; margin: 0 0 0 16px; font-weight: 600; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }}
#help {{ font-size: 14px; margin: 0 0 4px 0; color: #444; }}
.key {{ border: 3px solid; border-radius: 4px; padding: 0 4px; }}
.kind {{ border: 1px solid #333; padding: 0 4px; margin-left: 4px; }}
#controls {{ display: flex; align-items: center; gap: 8px; margin-bottom: 4px; }}
button {{ font-size: 16px; padding: 4px 14px; }}
#counter {{ font-size: 16px; margin-left: 8px; color: #333; font-weight: 600; }}
#graph {{ flex: 1 1 auto; min-height: 0; overflow: auto; display: flex; }}
#graph svg {{ margin: auto; display: block; flex: none; }}
#step-text {{ flex: none; font-family: ui-monospace, monospace; font-size: 15px; background: #f3f3f3;
  padding: 6px 10px; border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; min-height: 2.6em;
  margin-top: 6px; }}
</style></head>
<body>
<header>
<div id="controls">
<button id="prev" type="button">◀ Prev</button><button id="play" type="button">▶ Play</button>
<button id="next" type="button">Next ▶</button><span id="counter"></span><h1>Backprop, step by step: {title}</h1>
</div>
<p id="help"><span class="key" style="border-color:#d62728">red</span> node processed,
<span class="key" style="border-color:#1f77b4">blue</span> input receiving d{root}/dnode (a total) × local
derivative ∂node/∂input (on the edge); ? not known yet; keys ← → space.{legend}</p>
</header>
<div id="graph">{svg}</div>
<div id="step-text"></div>
<script id="backprop-data" type="application/json">{data}</script>
<script>
(function () {{
  var D = JSON.parse(document.getElementById("backprop-data").textContent);
  var n = D.steps.length, last = n + 1, k = 0, timer = null, MIN_PX = 13, MAX_SCALE = 2;
  var svg = document.querySelector("#graph svg"), panel = document.getElementById("graph");
  var vb = svg.viewBox.baseVal, fonts = [];
  svg.querySelectorAll("text").forEach(function (t) {{
    var f = parseFloat(t.getAttribute("font-size")); if (f) fonts.push(f); }});
  var minFont = fonts.length ? Math.min.apply(null, fonts) : 14;
  svg.removeAttribute("width"); svg.removeAttribute("height");
  function fit() {{  // as large as the panel allows; text never below MIN_PX (then the panel scrolls)
    var sW = panel.clientWidth / vb.width, need = MIN_PX / minFont;
    var s = Math.min(sW, panel.clientHeight / vb.height, MAX_SCALE);
    if (s < need) s = sW >= need ? Math.min(sW, MAX_SCALE) : need;  // scroll down (the step is followed)
    svg.style.width = (vb.width * s) + "px"; svg.style.height = (vb.height * s) + "px";
  }}
  var boxes = [];  // value boxes: the grad line, the texts, the outline, the tooltip
  svg.querySelectorAll("g.node").forEach(function (g) {{
    var key = g.id.replace(/_cont\\d+$/, "").replace(/_[ms]\\d+$/, ""), info = D.nodes[key];
    if (!info) return;
    var texts = Array.prototype.slice.call(g.querySelectorAll("text"));
    var grad = texts.filter(function (t) {{ return t.textContent.indexOf("grad ") === 0; }})[0] || null;
    var title = g.querySelector("title");
    if (grad) {{  // the reserved (longest) text sets the box; every shorter one is centred in it
      var bb = grad.getBBox();
      grad.setAttribute("x", bb.x + bb.width / 2); grad.setAttribute("text-anchor", "middle");
    }}
    boxes.push({{g: g, key: key, texts: texts, grad: grad, title: title, info: info}});
  }});
  function paint(id, color, width, cls) {{  // a node (and its "continued" copies) or an edge
    var copies = svg.querySelectorAll('[id^="' + id + '_cont"]');
    for (var c = 0; c < copies.length; c++) paintOne(copies[c], color, width, cls);
    paintOne(document.getElementById(id), color, width, cls);
  }}
  function paintOne(g, color, width, cls) {{
    if (!g) return;
    g.querySelectorAll("polygon, path, ellipse").forEach(function (s) {{
      if (s.getAttribute("fill") === "none" && s.tagName !== "path") return;
      if (!s.dataset.stroke) {{ s.dataset.stroke = s.getAttribute("stroke") || "";
        s.dataset.width = s.getAttribute("stroke-width") || ""; }}
      s.setAttribute("stroke", color || s.dataset.stroke);
      if (width) s.setAttribute("stroke-width", width); else if (s.dataset.width) s.setAttribute("stroke-width",
        s.dataset.width); else s.removeAttribute("stroke-width");
      if (s.tagName === "polygon" && g.classList.contains("edge")) s.setAttribute("fill", color || s.dataset.stroke);
    }});
    if (g.classList.contains("edge")) g.querySelectorAll("text").forEach(function (t) {{
      if (!t.dataset.fill) t.dataset.fill = t.getAttribute("fill") || "#000000";
      t.setAttribute("fill", color || t.dataset.fill); }});
    ["current", "receiving", "active"].forEach(function (c) {{ g.classList.remove(c); }});
    if (cls) g.classList.add(cls);
  }}
  var marked = [];
  function show(i) {{
    k = Math.max(0, Math.min(last, i));
    var known = {{}};
    known[D.root] = D.seed;
    for (var j = 0; j < Math.min(k, n); j++) known[D.steps[j][1]] = D.steps[j][3];
    boxes.forEach(function (b) {{
      var t = known[b.key], shown = t === undefined ? "grad ?" : t;
      if (b.grad) b.grad.textContent = shown;
      b.texts.forEach(function (x) {{
        if (!x.dataset.fill) x.dataset.fill = x.getAttribute("fill") || "#000000";
        x.setAttribute("fill", t === undefined ? "#999999" : x.dataset.fill); }});
      if (b.title) b.title.textContent = b.info[0] + ": data " + b.info[1] + ", " + shown;
    }});
    marked.forEach(function (id) {{ paint(id, null, null, null); }});
    marked = [];
    if (k >= 1 && k <= n) {{
      var s = D.steps[k - 1];
      paint(s[0], "#d62728", "3", "current"); paint(s[1], "#1f77b4", "3", "receiving");
      paint(s[2], "#d62728", "2.5", "active");
      marked = [s[0], s[1], s[2]];
      var el = document.getElementById(s[0]);  // a picture taller than the panel follows the step
      if (el && (panel.scrollWidth > panel.clientWidth || panel.scrollHeight > panel.clientHeight)) {{
        var r = el.getBoundingClientRect(), p = panel.getBoundingClientRect();
        panel.scrollTop += (r.top + r.height / 2) - (p.top + p.height / 2);
        panel.scrollLeft += (r.left + r.width / 2) - (p.left + p.width / 2);
      }}
    }}
    document.getElementById("step-text").textContent = D.lines[k];
    document.getElementById("counter").textContent = k === 0 ? "start (step 0 of " + n + ")" :
      k === last ? "done (" + n + " steps)" : "step " + k + " of " + n;
    document.body.setAttribute("data-step", k);
  }}
  function play() {{
    if (timer) {{ clearInterval(timer); timer = null; document.getElementById("play").textContent = "▶ Play"; return; }}
    if (k === last) show(0);
    document.getElementById("play").textContent = "❚❚ Pause";
    timer = setInterval(function () {{ if (k >= last) {{ play(); }} else {{ show(k + 1); }} }}, 1000);
  }}
  document.getElementById("prev").onclick = function () {{ show(k - 1); }};
  document.getElementById("next").onclick = function () {{ show(k + 1); }};
  document.getElementById("play").onclick = play;
  document.addEventListener("keydown", function (e) {{
    if (e.key === "ArrowRight") {{ show(k + 1); e.preventDefault(); }}
    else if (e.key === "ArrowLeft") {{ show(k - 1); e.preventDefault(); }}
    else if (e.key === " ") {{ play(); e.preventDefault(); }}
  }});
  window.addEventListener("resize", fit);
  fit();
  show(0);
  window.backpropShow = show;
}})();
</script>
</body></html>
"""


def _page_data(ex: Explanation) -> dict:
    """What the page's script needs, O(nodes + steps): each box's name and data, and per step
    (the node's id, the input's id, the edge's id, the input's grad text after the step)."""
    from autograd_lite.viz import _fmt  # the boxes' number format

    index = {id(n): i for i, n in enumerate(topological_order(ex.root))}
    p = ex.precision
    nodes = {f"v{index[id(n)]}": [ex.names[id(n)], _fmt(n.data, p)] for n in ex._order}
    steps = [[f"v{index[id(s.node)]}", f"v{index[id(s.input)]}", f"v{index[id(s.node)]}_in{s.index}",
              f"grad {_fmt(s.total, p)}" + ("" if s.final else " + …")] for s in ex.steps]
    return {"root": f"v{index[id(ex.root)]}", "seed": f"grad {_fmt(ex.seed, p)}", "nodes": nodes, "steps": steps,
            "lines": [ex.line(k) for k in range(len(ex.steps) + 2)]}


def _legend_html(svg: str) -> str:
    """The kinds of box the picture uses, as one line of samples."""
    from autograd_lite.viz import _FILL, _KIND_TEXT

    found = [k for k in _KIND_TEXT if (f'class="node value {k}' if k not in ("op", "const")
                                       else f'class="node {k}') in svg]
    return " " + " ".join(f'<span class="kind" style="background:{_FILL[k]}">{html.escape(_KIND_TEXT[k])}</span>'
                          for k in found)


def _write_html(ex: Explanation, graph: Any, path: Path, legend: bool = True) -> None:
    import json

    from autograd_lite.viz import _SURROGATE

    # "<" escaped: no "</script>" or "<!--" of a label can end or hide the page's script
    data = json.dumps(_page_data(ex), ensure_ascii=False).replace("<", "\\u003c")
    svg = _svg(graph)
    page = _PAGE.format(title=html.escape(ex.root_name), root=html.escape(ex.root_name), svg=svg, data=data,
                        legend=_legend_html(svg) if legend else "")
    path.write_text(_SURROGATE.sub("\ufffd", page), encoding="utf-8")  # a lone surrogate: U+FFFD, as in the picture
