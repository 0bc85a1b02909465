"""Analytic derivatives with SymPy: the graph as a formula, and its derivatives.

``to_sympy(v)`` turns the graph that ends at ``v`` into a SymPy expression;
``symbolic_gradients(L)`` derives ∂L/∂x for every leaf x as a (tidied)
formula; ``analytic_check(L)`` puts each formula's value next to backprop's
gradient and central finite differences.  SymPy is an optional extra
(``pip install autograd-lite[symbolic]``); without it these functions raise
`SymPyNotInstalledError`.

Conventions:

- *Symbols.* Every leaf becomes a real symbol (``Symbol(name, real=True)``;
  `leaf_symbols` gives them, use those to build formulas to compare with).
  The name is the leaf's name in every other view (`autograd_lite.naming`):
  its label; if several nodes share a label, the first in evaluation
  (creation) order keeps it and the next ones are ``label_2``, ``label_3``, ...;
  an unlabelled leaf gets the ledger's and the picture's ``v1, v2, …``.
- *Kept nodes.* With ``keep="labels"`` every labelled intermediate node (and
  the output, if labelled) stays a symbol named as in the other views (its
  label, with the same rule for repeats; an unlabelled node passed in a list
  ``keep=[...]`` is named as in the pictures when that name is one identifier,
  else ``n<i>``, ``i`` its position in evaluation order), and the chain rule
  runs across it: derivatives read as the course writes them,
  ∂L/∂w1 = x1(a − y), da/dz = a(1 − a).  `node_symbols` gives all symbols.
- *Constants* (numbers stored in the graph) become exact SymPy numbers:
  integers (|n| < 2⁵³) as ``Integer``, floats with a small power-of-two
  denominator (0.5, 0.25, 1.375) as ``Rational``, any other float as a
  ``Float`` holding exactly the same double (0.1 → 0.1000000000000000055…).
- *Primitives* (one rule per op of `engine.OPS`): σ is the function ``sigma``
  (σ' = σ(1 − σ)), relu the function ``relu`` (relu' = ``Heaviside(z, 0)``,
  0 at z = 0 as in the engine and PyTorch; see `autograd_lite.sympy_functions`),
  tanh SymPy's (tanh' = 1 − tanh²), ``Abs`` (derivative ``sign``, 0 at 0),
  ``sqrt``, ``**``, and the fused neuron as Σᵢ wᵢxᵢ + b.
- *Sharing.* The graph is converted with a memo keyed by node identity, and
  derivatives are accumulated in one reverse sweep over the graph (each op's
  derivative is derived by SymPy once per op, written in terms of the node's
  own value where it appears: σ(1 − σ), 1 − tanh², eˣ; the chain rule sums over
  the graph's edges), so a node used many times is converted and differentiated
  once: no blow-up on deep graphs with shared subexpressions.  Expressions are
  built with SymPy's automatic evaluation off (it can take exponential time on
  nested graphs), so they mirror the graph.
- *Tidying* (``simplify=True``) runs in a separate process (fork where
  available; spawn elsewhere, where scripts need the usual ``if __name__ ==
  "__main__":`` guard) that dies with its parent.  It evaluates each formula
  (``.doit()``), then tidies it layer by layer: inside each σ, tanh, exp, ...
  argument and at the top, the functions are held as symbols and SymPy's
  ``factor`` is kept when it is shorter -- never ``sympy.simplify``, which
  rewrites σ and tanh into cosh.  Shared parts are tidied once.  The process
  is killed after ``timeout`` seconds per formula (20 s for all formulas of a
  call); the last version that arrived in time is kept.
- *Numbers* are evaluated with 50-digit mpmath over the formula's DAG (each
  shared part once), with a time limit (`EVALUATE_TIME`); arguments beyond
  10³⁰⁰ saturate (e^huge = inf) instead of asking mpmath for millions of
  digits.  Printing is bounded by size: long formulas name their shared parts
  (``where t0 = ...``), huge ones are not printed (`text`).

>>> from autograd_lite import Value
>>> from autograd_lite.symbolic import to_sympy, symbolic_gradients
>>> w, x = Value(0.5, label="w"), Value(-2.0, label="x")
>>> f = (w * x).sigmoid()
>>> to_sympy(f)
sigma(w*x)
>>> symbolic_gradients(f)[w]                      # x · σ'(wx), σ' = σ(1 − σ)
x*(1 - sigma(w*x))*sigma(w*x)
>>> f.label = "a"
>>> symbolic_gradients(f, keep="labels")[w]       # in the course's own terms
a*x*(1 - a)
"""

from __future__ import annotations

import html
import math
import multiprocessing
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

try:
    import numpy as np
except ImportError:  # the scalar engine runs without numpy; this module does not
    raise ImportError("autograd_lite.symbolic needs numpy, which is not installed: "
                      "pip install numpy") from None

from autograd_lite.engine import Value, gradients, topological_order
from autograd_lite.naming import Namer, check_names, is_identifier
from autograd_lite.text import format_table

__all__ = [
    "SymPyNotInstalledError", "to_sympy", "leaf_symbols", "node_symbols", "evaluate", "symbolic_gradients",
    "analytic_check", "AnalyticReport", "AnalyticRow", "sympy_rules", "latex", "text", "MAX_SIMPLIFY_SIZE",
    "EVALUATE_TIME", "AnalyticWarning",
]

INSTALL_HINT = "pip install autograd-lite[symbolic]"
MAX_SIMPLIFY_SIZE = 400
"""Formulas with more distinct subexpressions than this are evaluated (``.doit()``) but not tidied."""
DISPLAY_SIZE = 5000
"""Reports print formulas only up to this many distinct subexpressions (all formulas together)."""
LATEX_SIZE = 20000
"""`latex` prints formulas whose printed tree has at most this many nodes."""
INLINE_SIZE = 120
"""A formula whose printed tree has more nodes than this is printed with its shared parts named."""
EVALUATE_TIME = 10.0
"""Seconds allowed for evaluating the formulas of one call with mpmath; the rest are nan, with a note."""
_FACTOR_SIZE = 80  # a layer with more nodes than this is not factored
_FACTOR_SYMBOLS = 6  # nor one in more symbols than this
_FLAT_MUL = 32  # the chain rule's products g·d are flattened up to this many factors (bounded depth, linear size)
_EVAL_DIGITS = 50
_HUGE = 1e300  # beyond this an argument saturates its function (e^huge = inf) instead of costing huge precision
_WORKER_START_TIMEOUT = 60.0
_TOTAL_SIMPLIFY_TIME = 20.0  # seconds for all formulas of one call (at least one formula's timeout)
_PROGRESS_AFTER = 2.0  # seconds before progress is shown on stderr (progress=None)


class SymPyNotInstalledError(ImportError):
    """SymPy is missing: ``pip install autograd-lite[symbolic]``."""


class AnalyticWarning(RuntimeWarning):
    """A symbolic step fell back (a time limit, Ctrl-C, a saturated huge argument):
    the result is what was done; the message says what was not."""


def _sympy():
    """The sympy module, imported on first use."""
    try:
        import sympy
    except ImportError as e:
        raise SymPyNotInstalledError(
            f"analytic derivatives need SymPy, which is not installed: {INSTALL_HINT}") from e
    return sympy


def _functions():
    """`autograd_lite.sympy_functions` (σ and relu as SymPy functions), once SymPy is there."""
    _sympy()
    from autograd_lite import sympy_functions

    return sympy_functions


# ---------------------------------------------------------------------------
# The graph as a SymPy expression
# ---------------------------------------------------------------------------


def sympy_rules() -> dict[str, Callable[..., Any]]:
    """For every op name of `engine.OPS`, a function building its SymPy expression
    from the SymPy expressions of the node's parents (in ``.parents`` order)."""
    sp = _sympy()
    F = _functions()

    def linear(*p):  # parents (*ws, *xs, b)
        n = (len(p) - 1) // 2
        return sp.Add(*[w * x for w, x in zip(p[:n], p[n:2 * n])], p[-1])

    return {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "pow": lambda x, y: x ** y,
        "neg": lambda x: -x,
        "exp": sp.exp,
        "log": sp.log,
        "sigmoid": F.sigma,
        "tanh": sp.tanh,
        "relu": F.relu,
        "sqrt": sp.sqrt,
        "abs": sp.Abs,
        "sin": sp.sin,
        "cos": sp.cos,
        "linear": linear,
    }


def _constant(sp, x: float):
    """A number stored in the graph as an exact SymPy number (see the module docstring)."""
    x = float(x)
    if math.isnan(x):
        return sp.nan
    if math.isinf(x):
        return sp.oo if x > 0 else -sp.oo
    if x.is_integer() and abs(x) < 2.0 ** 53:
        return sp.Integer(int(x))
    num, den = x.as_integer_ratio()
    if den <= 1024:
        return sp.Rational(num, den)
    return sp.Float(x, precision=53)


def _label(node: Value) -> str | None:
    return node.label if isinstance(node.label, str) and node.label else None


def _evaluation_order(root: Value) -> list[Value]:
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value (the end of a graph), got {type(root).__name__}")
    return topological_order(root)[::-1]


def _kept(order: Sequence[Value], keep: Any) -> list[Value]:
    """The intermediate nodes that stay symbols, in evaluation order."""
    if keep is None:
        return []
    if isinstance(keep, str):
        if keep != "labels":
            raise ValueError(f'keep must be None, "labels" or a list of nodes of the graph, got {keep!r}')
        return [node for node in order if node.op is not None and _label(node) is not None]
    if isinstance(keep, Value):
        keep = [keep]
    try:
        wanted = list(keep)
    except TypeError:
        raise TypeError(f'keep must be None, "labels" or a list of nodes (Values), got {type(keep).__name__}'
                        ) from None
    in_graph = {id(node) for node in order}
    for node in wanted:
        if not isinstance(node, Value):
            raise TypeError(f"keep takes nodes of the graph (Values), got {type(node).__name__}")
        if id(node) not in in_graph:
            raise ValueError(f"keep: the node {node!r} is not in the graph ending at the output")
    ids = {id(node) for node in wanted}
    return [node for node in order if node.op is not None and id(node) in ids]


def _symbols_for(sp, order: Sequence[Value], kept: Sequence[Value] = (), names: str = "auto") -> dict[int, Any]:
    """One real symbol per leaf and kept node, named as in every other view (`Namer`, ``names=``)."""
    namer = Namer(order[-1], check_names(names), order=order)  # order ends at the root
    used = set(namer)
    kept_ids = {id(node) for node in kept}
    chosen: dict[int, str] = {}
    for i, node in enumerate(order):
        if node.op is None or id(node) in kept_ids:
            name = namer.name(node)
            if node.op is not None and not is_identifier(name):  # an expression name such as "1 − a"
                name, k = f"n{i}", 2
                while name in used:
                    name, k = f"n{i}_{k}", k + 1
                used.add(name)
            chosen[id(node)] = name
    return {key: sp.Symbol(name, real=True) for key, name in chosen.items()}


def leaf_symbols(root: Value, *, names: str = "auto") -> dict[Value, Any]:
    """Each leaf of the graph ending at ``root`` (in evaluation order) → its SymPy
    symbol, the one `to_sympy` uses (real; named as the module docstring says;
    ``names=`` as in `draw_graph` and `explain`)."""
    sp = _sympy()
    order = _evaluation_order(root)
    symbols = _symbols_for(sp, order, names=names)
    return {node: symbols[id(node)] for node in order if node.op is None}


def node_symbols(root: Value, keep: Any = "labels", *, names: str = "auto") -> dict[Value, Any]:
    """Each leaf, then each kept node (``keep`` as in `symbolic_gradients`) → its symbol."""
    sp = _sympy()
    order = _evaluation_order(root)
    kept = _kept(order, keep)
    symbols = _symbols_for(sp, order, kept, names)
    return {node: symbols[id(node)] for node in [n for n in order if n.op is None] + kept}


def _convert(sp, order: Sequence[Value], symbols: dict[int, Any]) -> tuple[dict[int, Any], dict[int, Any]]:
    """(value, own): id(node) → the expression its consumers see (its symbol if
    it is kept) and its own expression in its parents' values."""
    rules = sympy_rules()
    value: dict[int, Any] = {}
    own: dict[int, Any] = {}
    with sp.evaluate(False):  # mirror the graph: SymPy's automatic evaluation can take exponential time
        for node in order:
            op = node.op
            if op is None:
                value[id(node)] = own[id(node)] = symbols[id(node)]
                continue
            rule = rules.get(op.name)
            if rule is None:
                raise NotImplementedError(f"autograd_lite.symbolic has no SymPy rule for the op {op.name!r}: "
                                          f"add one to sympy_rules()")
            e = own[id(node)] = rule(*[value[id(p)] if isinstance(p, Value) else _constant(sp, p)
                                       for p in node.parents])
            e.is_commutative  # noqa: B018 -- asked now, bottom-up, it is cached: asked later of a deep chain, it recurses
            value[id(node)] = symbols.get(id(node), e)
    return value, own


def to_sympy(v: Value, *, keep: Any = None, names: str = "auto") -> Any:
    """The graph that ends at ``v`` as one SymPy expression in the leaves' symbols
    (and the kept nodes', ``keep`` as in `symbolic_gradients`; ``v`` itself is
    always written out).

    The expression mirrors the graph node for node (built with SymPy's automatic
    evaluation off, which can take exponential time on nested graphs): a
    ``0 * y`` in the graph stays ``0*y``.  ``.doit()`` gives SymPy's canonical form.

    >>> from autograd_lite import Value
    >>> x = Value(3.0, label="x")
    >>> to_sympy((x - 1).relu() / 4 + x ** 2)
    x**2 + relu(x - 1)/4
    """
    sp = _sympy()
    order = _evaluation_order(v)
    return _convert(sp, order, _symbols_for(sp, order, _kept(order, keep), names))[1][id(v)]


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------


def _to_float(x: Any) -> float:
    if isinstance(x, complex) or type(x).__name__ == "mpc":
        return float(x.real) if x.imag == 0 else math.nan
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


_MP_FUNCTIONS = {
    "exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "coth": "coth", "sech": "sech", "csch": "csch",
    "asin": "asin", "acos": "acos", "atan": "atan", "asinh": "asinh", "acosh": "acosh", "atanh": "atanh",
    "sign": "sign", "Abs": "fabs",
}
# a function's value when its (real) argument is beyond ±10³⁰⁰: (at +huge, at −huge); None = compute it
_SATURATED = {
    "exp": ("inf", 0), "sigma": (1, 0), "tanh": (1, -1), "relu": (None, 0), "sinh": ("inf", "-inf"),
    "cosh": ("inf", "inf"), "sech": (0, 0), "csch": (0, 0), "coth": (1, -1),
    "sin": ("nan", "nan"), "cos": ("nan", "nan"), "tan": ("nan", "nan"), "cot": ("nan", "nan"),
    "sec": ("nan", "nan"), "csc": ("nan", "nan"),
}


def _mp_saturated(mpmath, name: str, x: Any, notes: set) -> Any:
    """The value of ``name`` at a huge real ``x`` (see `_SATURATED`), or None to compute it."""
    limits = _SATURATED.get(name)
    if limits is None or isinstance(x, mpmath.mpc) or not mpmath.isfinite(x) or abs(x) <= _HUGE:
        return None
    r = limits[0] if x > 0 else limits[1]
    if r is None:
        return None
    notes.add(f"an argument beyond 1e300 was rounded to its limit ({name} of {'+' if x > 0 else '-'}huge)")
    return mpmath.mpf(r)


def _mp_power(mpmath, a: Any, b: Any, notes: set) -> Any:
    """a ** b; an exponent beyond ±10³⁰⁰ (mpmath cannot take it) gives the limit."""
    if (isinstance(a, mpmath.mpc) or isinstance(b, mpmath.mpc) or not mpmath.isfinite(b) or abs(b) <= _HUGE
            or not mpmath.isfinite(a)):
        return mpmath.power(a, b)
    # such an exponent is an even integer (every number that big is, at 50 digits): the sign of a is moot
    if abs(a) == 1:
        return mpmath.mpf(1)
    if a == 0:
        return mpmath.mpf(0) if b > 0 else mpmath.inf
    notes.add("a power with an exponent beyond 1e300 was rounded to its limit")
    return mpmath.inf if (abs(a) > 1) == (b > 0) else mpmath.mpf(0)


def _mp_apply(sp, mpmath, e, vals: list, env: dict, notes: set):
    """The value of the node ``e`` from its arguments' values (mpmath numbers)."""
    if e.is_Symbol:
        return env[e]
    if e.is_Number or e.is_NumberSymbol or e is sp.I:
        if e is sp.nan or e is sp.zoo:
            return mpmath.nan
        if e is sp.oo or e is -sp.oo:
            return mpmath.inf if e is sp.oo else -mpmath.inf
        if e.is_Rational:
            return mpmath.mpf(e.p) / e.q
        return mpmath.mpmathify(complex(e.evalf(_EVAL_DIGITS))) if e is sp.I else mpmath.mpf(e.evalf(_EVAL_DIGITS))
    if e.is_Add:
        return mpmath.fsum(vals)
    if e.is_Mul:
        return mpmath.fprod(vals)
    if e.is_Pow:
        return _mp_power(mpmath, vals[0], vals[1], notes)
    if e.is_Piecewise:
        for value, cond in vals:
            if cond is True:
                return value
        return mpmath.nan
    if isinstance(e, sp.functions.elementary.piecewise.ExprCondPair):
        return tuple(vals)
    if e is sp.true or e is sp.false:
        return bool(e)
    if e.is_Relational:
        a, b = vals
        if isinstance(a, mpmath.mpc) or isinstance(b, mpmath.mpc) or mpmath.isnan(a) or mpmath.isnan(b):
            return False
        return {"<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b, "==": a == b, "!=": a != b}[e.rel_op]
    if isinstance(e, sp.And):
        return all(vals)
    if isinstance(e, sp.Or):
        return any(vals)
    if isinstance(e, sp.Not):
        return not vals[0]
    fname = type(e).__name__
    if len(vals) == 1:
        saturated = _mp_saturated(mpmath, fname, vals[0], notes)
        if saturated is not None:
            return saturated
    if fname == "sigma":
        return 1 / (1 + mpmath.exp(-vals[0]))
    if fname == "relu":
        return vals[0] if vals[0] > 0 else (mpmath.nan if mpmath.isnan(vals[0]) else mpmath.mpf(0))
    if fname == "Heaviside" and not isinstance(vals[0], mpmath.mpc):
        z = vals[0]
        if mpmath.isnan(z):
            return mpmath.nan
        return mpmath.mpf(1) if z > 0 else mpmath.mpf(0) if z < 0 else (vals[1] if len(vals) > 1 else mpmath.nan)
    name = _MP_FUNCTIONS.get(fname)
    if name is not None and len(vals) == 1:
        return getattr(mpmath, name)(vals[0])
    # anything else SymPy may produce: SymPy evaluates the function at these numbers
    args = [sp.Float(v, _EVAL_DIGITS) if not isinstance(v, mpmath.mpc) else sp.sympify(complex(v)) for v in vals]
    with sp.evaluate(True):
        r = complex(e.func(*args).evalf(_EVAL_DIGITS))
    return mpmath.mpf(r.real) if r.imag == 0 else mpmath.mpc(r)


def _mp_evaluate(sp, mpmath, exprs: Sequence[Any], env: dict, deadline: float, notes: set) -> list:
    """Evaluate formulas over their DAG (each distinct subexpression once, no
    recursion); whatever is not done by ``deadline`` is nan (with a note)."""
    memo: dict[Any, Any] = {}
    out: list[Any] = []
    for root in exprs:
        stack = [root]
        while stack:
            if time.monotonic() > deadline:
                notes.add(f"evaluation stopped after its time limit ({EVALUATE_TIME:g} s): "
                          f"formulas not evaluated in time are nan")
                return out + [mpmath.nan] * (len(exprs) - len(out))
            e = stack.pop()
            if e in memo:
                continue
            pending = [a for a in e.args if a not in memo]
            if pending:
                stack.append(e)
                stack.extend(pending)
                continue
            if e.is_Symbol and e not in env:
                raise ValueError(f"the formula has a symbol that is not a leaf (or kept node) of the graph: {e}")
            try:
                memo[e] = _mp_apply(sp, mpmath, e, [memo[a] for a in e.args], env, notes)
            except (ArithmeticError, ValueError, TypeError):
                if e.is_Symbol:
                    raise
                memo[e] = mpmath.nan
        out.append(memo[root])
    return out


def _evaluate_many(exprs: Sequence[Any], symbols: Sequence[Any], values: Sequence[float],
                   notes: set | None = None, time_limit: float | None = None) -> list[float]:
    """Each expression at symbols = values, computed in 50-digit mpmath, as floats
    (nan where the value is undefined or not real, or not done in time)."""
    sp = _sympy()
    import mpmath

    notes = set() if notes is None else notes
    exprs = [sp.sympify(e) for e in exprs]
    deadline = time.monotonic() + (EVALUATE_TIME if time_limit is None else time_limit)
    with mpmath.workdps(_EVAL_DIGITS):
        env = {s: mpmath.mpf(float(x)) for s, x in zip(symbols, values)}
        return [_to_float(v) for v in _mp_evaluate(sp, mpmath, exprs, env, deadline, notes)]


_TOO_DEEP = "too deeply nested to print; see .formula"


def latex(expr: Any) -> str:
    """A formula as LaTeX (``sympy.latex``; σ as ``\\sigma``); a formula whose printed
    tree has more than `LATEX_SIZE` nodes, or is nested too deeply for SymPy's
    printer, gives a note instead (never a hang or a RecursionError)."""
    sp = _sympy()
    expr = sp.sympify(expr)
    if _tree_sizes([expr], cap=LATEX_SIZE + 1)[expr] > LATEX_SIZE:
        return rf"\text{{(a formula with {_dag_size(expr)} distinct subexpressions, too long to print)}}"
    try:
        return sp.latex(expr)
    except RecursionError:
        return rf"\text{{({_TOO_DEEP})}}"


def evaluate(expr: Any, root: Value, *, keep: Any = None, names: str = "auto") -> float:
    """The value of a SymPy formula in the symbols of the graph ending at ``root``
    (`leaf_symbols`, or `node_symbols` with ``keep``), at the nodes' current
    numbers, computed with 50 digits and rounded to a float (nan where it is
    undefined or not real)."""
    pairs = leaf_symbols(root, names=names) if keep is None else node_symbols(root, keep, names=names)
    notes: set = set()
    value = _evaluate_many([expr], list(pairs.values()), [node.data for node in pairs], notes)[0]
    for note in sorted(notes):
        warnings.warn(note, AnalyticWarning, stacklevel=2)
    return value


# ---------------------------------------------------------------------------
# Derivatives: one reverse sweep over the graph
# ---------------------------------------------------------------------------


def _template(sp, rules, cache: dict, node: Value) -> tuple[list, Any, list]:
    """(holders of the Value parents, holder of the node's own value, ∂node/∂parent
    for each parent) derived by SymPy once per op (and constant parents): the op
    is applied to placeholder symbols and differentiated; where the derivative
    contains the op's own value (σ(1 − σ), 1 − tanh², eˣ, x^y log x) that value
    becomes a placeholder too, so it can be the node's shared expression or symbol."""
    op = node.op
    assert op is not None
    consts = tuple((i, float(p)) for i, p in enumerate(node.parents) if not isinstance(p, Value))
    key = (op.name, len(node.parents), consts)
    hit = cache.get(key)
    if hit is not None:
        return hit
    holders = [sp.Dummy(f"p{i}", real=True) for i in range(len(node.parents))]
    own = sp.Dummy("out", real=True)
    with sp.evaluate(True):
        args = [holders[i] if isinstance(p, Value) else _constant(sp, p) for i, p in enumerate(node.parents)]
        out = rules[op.name](*args)
        local = [sp.diff(out, h).xreplace({out: own}) if isinstance(p, Value) else None
                 for h, p in zip(holders, node.parents)]
    cache[key] = hit = (holders, own, local)
    return hit


def _reverse_derivatives(sp, order: Sequence[Value], value: dict[int, Any]) -> dict[int, Any]:
    """id(node) → ∂root/∂node as SymPy expressions, root = order[-1]: the chain
    rule summed over the graph's edges, consumers before producers."""
    rules = sympy_rules()
    cache: dict = {}
    terms: dict[int, list] = {id(order[-1]): [sp.Integer(1)]}
    adjoint: dict[int, Any] = {}
    with sp.evaluate(False):
        for node in reversed(order):
            parts = terms.pop(id(node), None)
            if parts is None:
                continue
            g = adjoint[id(node)] = parts[0] if len(parts) == 1 else sp.Add(*parts)
            if node.op is None:
                continue
            holders, own, local = _template(sp, rules, cache, node)
            back = {h: value[id(p)] for h, p in zip(holders, node.parents) if isinstance(p, Value)}
            back[own] = value[id(node)]
            for p, d in zip(node.parents, local):
                if d is None or d.is_zero:
                    continue
                d = d.xreplace(back)
                d.is_commutative  # noqa: B018 -- (as in _convert)
                if g == 1 or d == 1:
                    term = d if g == 1 else g
                elif d == -1:
                    term = -g
                elif g.is_Mul and len(g.args) < _FLAT_MUL:  # flat, not nested a chain's length deep
                    term = sp.Mul(*g.args, d)
                else:
                    term = sp.Mul(g, d)
                terms.setdefault(id(p), []).append(term)
    return adjoint


def _subexpressions(*exprs: Any) -> set:
    """The distinct subexpressions of the formulas, found over their DAG (a shared
    one is visited once; SymPy's own walks, e.g. ``free_symbols``, visit the tree)."""
    seen = set()
    stack = list(exprs)
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        stack.extend(e.args)
    return seen


def _dag_size(*exprs: Any) -> int:
    """The number of distinct subexpressions of the formulas (a shared one counts once)."""
    return len(_subexpressions(*exprs))


def _postorder(exprs: Iterable[Any]) -> list:
    """The distinct subexpressions, each after its arguments (no recursion)."""
    seen: set = set()
    out = []
    stack = [(e, False) for e in exprs]
    while stack:
        e, ready = stack.pop()
        if ready:
            out.append(e)
            continue
        if e in seen:
            continue
        seen.add(e)
        stack.append((e, True))
        stack.extend((a, False) for a in e.args if a not in seen)
    return out


def _intern(e: Any, canon: dict) -> Any:
    """``e`` with every subexpression replaced by the equal one already in ``canon``
    (formulas sent one by one from the worker share no objects; equal but distinct
    objects make every later dict lookup compare whole trees).  Linear: children
    first, so each comparison is shallow."""
    sp = _sympy()
    by_id: dict[int, Any] = {}
    keep_alive = []
    stack = [(e, False)]
    with sp.evaluate(False):
        while stack:
            n, ready = stack.pop()
            if id(n) in by_id:
                continue
            if not ready:
                stack.append((n, True))
                stack.extend((a, False) for a in n.args if id(a) not in by_id)
                continue
            args = [by_id[id(a)] for a in n.args]
            c = n if all(a is b for a, b in zip(args, n.args)) else n.func(*args)
            by_id[id(n)] = canon.setdefault(c, c)
            keep_alive.append(n)
    return by_id[id(e)]


def _tree_sizes(exprs: Iterable[Any], cap: int = 10 ** 9) -> dict:
    """Each subexpression → the number of nodes of its printed tree (shared parts
    counted each time they are printed), capped at ``cap``."""
    size: dict = {}
    for e in _postorder(exprs):
        size[e] = min(cap, 1 + sum(size[a] for a in e.args))
    return size


# --- tidying (in the worker process) -----------------------------------------------------------------


def _rebuild_all(exprs: Sequence[Any], memo: dict) -> list:
    """Each formula rebuilt bottom-up with SymPy's automatic evaluation (what
    ``.doit()`` gives: canonical order, numbers folded), without recursion."""
    sp = _sympy()
    with sp.evaluate(True):
        for e in _postorder(exprs):
            if e not in memo:
                memo[e] = e.func(*[memo[a] for a in e.args]) if e.args else e
    return [memo[e] for e in exprs]


def _is_layer(sp, e) -> bool:
    return e.is_Add or e.is_Mul or (e.is_Pow and e.exp.is_Number)


def _negated(sp, f):
    """−f for a sum or 1/sum factor (written as a sum again), else None."""
    if f.is_Add:
        return -f
    if f.is_Pow and f.exp == -1 and f.base.is_Add:
        return sp.Pow(-f.base, -1)
    return None


def _sign_variants(sp, e) -> list:
    """The product with its signs moved: ``-x*(y - a)`` → ``x*(a - y)`` (a negative
    coefficient into one sum) and ``(y - a)/(a - 1)`` → ``(a - y)/(1 - a)`` (two
    sums negated)."""
    if not e.is_Mul:
        return []
    c, factors = e.as_coeff_mul()
    out = []
    flips = [_negated(sp, f) for f in factors]
    for k, g in enumerate(flips):
        if g is None:
            continue
        if c.is_negative:
            out.append(sp.Mul(-c, *factors[:k], g, *factors[k + 1:]))
        for j in range(k + 1, len(factors)):
            if flips[j] is not None:
                out.append(sp.Mul(c, *[flips[i] if i in (k, j) else f for i, f in enumerate(factors)]))
    return out


def _best(sp, e):
    """The shortest of ``e`` and its factored forms, with every function
    application (σ, tanh, exp, ...) held as a symbol: σ(1 − σ) stays so, never
    cosh.  Ties keep ``e``; layers bigger than `_FACTOR_SIZE` are left as they are."""
    if not _is_layer(sp, e):
        return e
    atoms: dict = {}
    size = 0
    stack = [e]
    while stack:
        n = stack.pop()
        size += 1
        if size > _FACTOR_SIZE:
            return e
        if _is_layer(sp, n):
            stack.extend(n.args)
        elif not (n.is_Symbol or n.is_Number):
            atoms.setdefault(n, sp.Dummy("f"))
    r = e.xreplace(atoms)
    if len(r.free_symbols) > _FACTOR_SYMBOLS:  # a wide sum (a neuron's Σ wᵢxᵢ + b): factoring is slow and moot
        return e
    candidates = [sp.factor_terms(r), r]  # 2(a − y) rather than 2a − 2, when not longer
    try:
        c = sp.factor(r)  # (over a common denominator first: quotients cancel)
        candidates += [c, *_sign_variants(sp, c)]
    except Exception:  # noqa: BLE001 -- a form SymPy cannot factor: keep the others
        pass
    def key(c):  # fewest operations; then no sum that starts with a minus ((-a + y) → (a - y)); then first
        shown = sp.sstr(c)
        return sp.count_ops(c), shown.count("(-") + shown.startswith("-"), candidates.index(c)

    best = min(candidates, key=key)
    if best == r:
        return e
    return best.xreplace({v: k for k, v in atoms.items()})


def _tidy_all(exprs: Sequence[Any], memo: dict) -> list:
    """Each (evaluated) formula tidied layer by layer (`_best` on every function's
    arguments and on the whole), shared parts once."""
    sp = _sympy()
    with sp.evaluate(True):
        for e in _postorder(exprs):
            if e in memo:
                continue
            if not e.args:
                memo[e] = e
            elif _is_layer(sp, e):
                memo[e] = e.func(*[memo[a] for a in e.args])
            else:  # a function application: its arguments are layers of their own
                memo[e] = e.func(*[_best(sp, memo[a]) for a in e.args])
        return [_best(sp, memo[e]) for e in exprs]


def _watch_parent() -> None:
    """In the worker: exit as soon as the parent process is gone (killed or crashed)."""
    import os
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _simplify_worker(conn, exprs, tidy) -> None:  # runs in the child process
    _watch_parent()
    conn.send(("ready", None, None))
    evaluated: dict = {}
    tidied: dict = {}
    for i, e in enumerate(exprs):
        # better and better versions; the parent keeps the last one that arrives in time
        steps = [lambda x: _rebuild_all([x], evaluated)[0]]
        if tidy[i]:
            steps.append(lambda x: _tidy_all([x], tidied)[0])
        for k, step in enumerate(steps):
            try:
                e = step(e)
                conn.send((i, e, k == len(steps) - 1))
            except Exception:  # noqa: BLE001 -- a failed step (or a formula too deep to pickle): stop here
                break
        conn.send((i, None, True))
    conn.close()


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class _Progress:
    """``label k/n`` on stderr, once the work has run for `_PROGRESS_AFTER` seconds
    (always with True, never with False)."""

    def __init__(self, label: str, total: int, enabled: bool | None) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int) -> None:
        if self.enabled is False or (self.enabled is None and time.monotonic() - self.start < _PROGRESS_AFTER):
            return
        self.shown = True
        print(f"\r{self.label}: {done}/{self.total} (Ctrl-C stops early)", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.shown:
            print(file=sys.stderr, flush=True)


def _simplify_all(exprs: list[Any], timeout: float, progress: bool | None = False
                  ) -> tuple[list[Any], list[bool], list[str]]:
    """Evaluate and tidy each formula in a child process, at most ``timeout``
    seconds each and 20 s (or ``timeout``) in all; a formula that takes longer (or
    fails) keeps the best version finished; formulas bigger than
    `MAX_SIMPLIFY_SIZE` are only evaluated.  Ctrl-C stops early, keeping what is
    done.  Returns (formulas, simplified flags, notes)."""
    sp = _sympy()
    out = list(exprs)
    done = [False] * len(exprs)
    notes: list[str] = []
    todo = []
    for i, e in enumerate(exprs):
        if e.is_Atom:
            done[i] = True  # nothing to simplify
        else:
            todo.append(i)
    tidy = {i: _dag_size(exprs[i]) <= MAX_SIMPLIFY_SIZE for i in todo}
    if any(not t for t in tidy.values()):
        notes.append(f"formulas with more than {MAX_SIMPLIFY_SIZE} distinct subexpressions are evaluated, "
                     f"not tidied")
    stop = time.monotonic() + max(timeout, _TOTAL_SIMPLIFY_TIME)
    bar = _Progress("tidying formulas", len(todo), progress)
    count = 0
    canon: dict = {}
    try:
        while todo and time.monotonic() < stop:
            ctx = _context()
            receive, send = ctx.Pipe(duplex=False)
            worker = ctx.Process(target=_simplify_worker,
                                 args=(send, [exprs[i] for i in todo], [tidy[i] for i in todo]), daemon=True)
            finished = 0
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running (3.12+)
                    worker.start()
                send.close()
                if receive.poll(_WORKER_START_TIMEOUT):
                    receive.recv()  # "ready"
                    deadline = min(time.monotonic() + timeout, stop)
                    while finished < len(todo) and receive.poll(max(0.0, deadline - time.monotonic())):
                        with sp.evaluate(False):  # as the child built it: no re-evaluation here
                            _, result, last = receive.recv()
                        i = todo[finished]
                        if result is not None:
                            out[i] = _intern(result, canon)
                            done[i] = done[i] or (last and tidy[i])
                        if last and result is None:
                            finished += 1
                            count += 1
                            bar(count)
                            deadline = min(time.monotonic() + timeout, stop)
            except (OSError, EOFError, AssertionError, RuntimeError, RecursionError):  # cannot start or lost it
                pass
            finally:
                if worker.is_alive():
                    worker.kill()
                if worker.pid is not None:
                    worker.join()
                receive.close()
            if finished < len(todo):
                notes.append(f"tidying ∂/∂ #{todo[finished] + 1} took over its time limit ({timeout:g} s): "
                             f"kept as derived")
            todo = todo[finished + 1:]  # the one that timed out or failed stays as it was
        if todo:
            notes.append(f"tidying stopped after its total time limit ({max(timeout, _TOTAL_SIMPLIFY_TIME):g} s): "
                         f"{len(todo)} formulas kept as derived")
    except KeyboardInterrupt:
        notes.append(f"tidying interrupted (Ctrl-C) after {count} of {count + len(todo)} formulas: "
                     f"the rest are kept as derived")
    finally:
        bar.close()
    return out, done, notes


@dataclass
class _Derived:
    nodes: list
    formulas: list
    flags: list
    symbols: dict  # id(node) → Symbol, leaves and kept nodes
    named: list  # the nodes with a symbol: leaves, then kept nodes
    order: list
    notes: list


def _derive(L: Value, wrt: Iterable[Value] | None, simplify: bool, timeout: float, keep: Any = None,
            progress: bool | None = False, names: str = "auto") -> _Derived:
    sp = _sympy()
    order = _evaluation_order(L)
    if wrt is None:
        nodes = [node for node in order if node.op is None]
    else:
        nodes = list(wrt) if not isinstance(wrt, Value) else [wrt]
        for x in nodes:
            if not isinstance(x, Value):
                raise TypeError(f"wrt takes Values (leaves or nodes of the graph), got {type(x).__name__}")
    if not (timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    kept = _kept(order, keep)
    symbols = _symbols_for(sp, order, kept, names)
    value, _ = _convert(sp, order, symbols)
    adjoint = _reverse_derivatives(sp, order, value)
    formulas = [adjoint.get(id(x), sp.Integer(0)) for x in nodes]
    notes: list[str] = []
    if simplify:
        formulas, flags, notes = _simplify_all(formulas, timeout, progress)
    else:
        flags = [False] * len(formulas)
    named = [node for node in order if node.op is None] + kept
    return _Derived(nodes, formulas, flags, symbols, named, order, notes)


def symbolic_gradients(L: Value, wrt: Iterable[Value] | None = None, *, keep: Any = None, simplify: bool = True,
                       timeout: float = 2.0, progress: bool | None = None, names: str = "auto") -> dict[Value, Any]:
    """∂L/∂x as a SymPy formula in the leaf symbols, for every leaf x of the graph
    ending at ``L`` (in evaluation order), or for the nodes in ``wrt`` (a node
    not in the graph gets 0; an intermediate node gets ∂L/∂node holding its
    inputs fixed, as backprop defines it).

    ``keep="labels"`` (or a list of nodes) keeps the labelled intermediate nodes
    (and ``L`` if labelled) as symbols and applies the chain rule across them:
    ∂L/∂w1 = ``x1*(a - y)`` for the seed's graph (`node_symbols` gives the symbols).

    SymPy differentiates every primitive and the chain rule is applied in one
    reverse sweep over the graph.  With ``simplify=False`` the formula is returned
    as the chain rule builds it (unevaluated, like `to_sympy`).  With
    ``simplify=True`` a child process evaluates it (``.doit()``) and tidies it
    (factored where shorter, σ and tanh kept), and is killed after ``timeout``
    seconds per formula (and after 20 s, or ``timeout`` if longer, for all
    formulas): the best version finished by then is kept (never a hang), with an
    `AnalyticWarning`.  Progress shows on stderr after 2 s (``progress``: always /
    never); Ctrl-C stops tidying and keeps the formulas as derived.  Symbols are
    named as in the pictures and the ledger (``names=`` as in `draw_graph`).
    """
    d = _derive(L, wrt, simplify, timeout, keep, progress, names)
    for note in d.notes:
        if "time limit" in note or "interrupted" in note:
            warnings.warn(note, AnalyticWarning, stacklevel=2)
    return dict(zip(d.nodes, d.formulas))


# ---------------------------------------------------------------------------
# Printing, bounded by size
# ---------------------------------------------------------------------------


def _cse_symbols(sp, exprs):
    taken = {str(e) for e in _subexpressions(*exprs) if e.is_Symbol}
    prefix = "t"
    while any(name.startswith(prefix) for name in taken):
        prefix += "_"
    return sp.numbered_symbols(prefix, real=True)


def _shared_parts(sp, exprs: Sequence[Any]) -> tuple[list[tuple[Any, Any]], list[Any]]:
    """(definitions [(t_k, part)], formulas in the t's): every subexpression that is
    used more than once and is not tiny gets a name, in the order they are needed
    (the graph's structure; linear, unlike ``sympy.cse``).  A name never stands for
    a bare symbol or number (no ``t1 = t0``)."""
    order = _postorder(exprs)
    uses: dict = {}
    for e in order:
        for a in e.args:
            uses[a] = uses.get(a, 0) + 1
    for e in exprs:
        uses[e] = uses.get(e, 0) + 1
    size = _tree_sizes(exprs, cap=10 ** 6)
    names = _cse_symbols(sp, exprs)
    new: dict = {}
    reps = []
    with sp.evaluate(False):
        for e in order:
            args = [new[a] for a in e.args]
            r = e if all(a is b for a, b in zip(args, e.args)) else e.func(*args)
            if e.args and uses.get(e, 0) > 1 and size[e] > 4 and not (e.is_Mul and e.args[0] == -1
                                                                      and len(e.args) == 2):
                t = next(names)
                reps.append((t, r))
                r = t
            new[e] = r
    return reps, [new[e] for e in exprs]


def _str(sp, e) -> str:
    try:
        return sp.sstr(e)
    except RecursionError:
        return f"({_TOO_DEEP})"


def text(expr: Any, max_size: int = DISPLAY_SIZE) -> str:
    """A formula as one line of text, bounded: a formula whose printed tree is
    longer than `INLINE_SIZE` nodes gets its shared parts named (``...; where
    t0 = ...``); one with more than ``max_size`` distinct subexpressions is
    described instead of printed."""
    sp = _sympy()
    expr = sp.sympify(expr)
    n = _dag_size(expr)
    if n > max_size:
        return f"(a formula with {n} distinct subexpressions, too long to print)"
    if _tree_sizes([expr], cap=INLINE_SIZE + 1)[expr] <= INLINE_SIZE:
        return _str(sp, expr)
    reps, (reduced,) = _shared_parts(sp, [expr])
    return "; ".join([_str(sp, reduced)] + [f"where {s} = {_str(sp, e)}" for s, e in reps])


# ---------------------------------------------------------------------------
# analytic_check: formula, its value, autodiff and finite differences
# ---------------------------------------------------------------------------


def _forward(op, args: list[float]) -> float:
    try:
        if op.name == "linear":
            n = (len(args) - 1) // 2
            return float(op.forward(args[:n], args[n:2 * n], args[-1]))
        return float(op.forward(*args))
    except (ArithmeticError, ValueError):
        with np.errstate(all="ignore"):
            a = [np.float64(x) for x in args]
            if op.name == "linear":
                n = (len(a) - 1) // 2
                return float(op.forward(a[:n], a[n:2 * n], a[-1]))
            return float(op.forward(*a))


def _replay(order: Sequence[Value], values: dict[int, float]) -> float:
    """The graph's output recomputed with the leaves set to ``values`` (by id)."""
    out: dict[int, float] = {}
    for node in order:
        if node.op is None:
            out[id(node)] = values.get(id(node), node.data)
        else:
            out[id(node)] = _forward(node.op, [out[id(p)] if isinstance(p, Value) else p for p in node.parents])
    return out[id(order[-1])]


def _central_difference(order: Sequence[Value], x: Value, eps: float) -> float:
    if x.op is not None or not any(node is x for node in order):
        return math.nan if x.op is not None else 0.0
    up = _replay(order, {id(x): x.data + eps})
    down = _replay(order, {id(x): x.data - eps})
    return (up - down) / (2 * eps)


def _rel_error(x: float, ref: float) -> float:
    if x == ref:  # also equal infinities
        return 0.0
    if math.isnan(x) or math.isnan(ref):
        return math.nan
    if ref == 0:
        return math.inf
    return abs(x - ref) / abs(ref)


@dataclass(frozen=True)
class AnalyticRow:
    """One input: SymPy's formula for ∂L/∂input, its value, backprop's gradient,
    central finite differences, and their relative errors against the formula."""

    input: str
    formula: Any
    analytic: float
    autodiff: float
    numeric: float
    autodiff_rel_error: float
    numeric_rel_error: float
    simplified: bool
    ok: bool

    @property
    def latex(self) -> str:
        """The formula in LaTeX (`latex`)."""
        return latex(self.formula)


def _num(x: float) -> str:
    return f"{x:.10g}"


def _err(x: float) -> str:
    return f"{x:.1e}"


@dataclass(frozen=True)
class AnalyticReport:
    """The table of `analytic_check`; truthy when backprop agrees with every formula
    and every row was checked.  ``notes`` says what was cut short (a time limit,
    Ctrl-C) and ``total`` how many rows were asked for."""

    output: str
    rows: tuple[AnalyticRow, ...]
    notes: tuple[str, ...] = ()
    total: int | None = None

    @property
    def complete(self) -> bool:
        """Every asked-for row was checked (not cut short)."""
        return self.total is None or len(self.rows) == self.total

    def __bool__(self) -> bool:
        return self.complete and all(r.ok for r in self.rows)

    _HEADER = ("input", "formula value", "autodiff", "numeric", "rel err autodiff", "rel err numeric", "ok")

    def _cells(self, r: AnalyticRow) -> tuple[str, ...]:
        verdict = "yes" if r.ok else "NO (nan)" if math.isnan(r.analytic) or math.isnan(r.autodiff) else "NO"
        return (r.input, _num(r.analytic), _num(r.autodiff), _num(r.numeric), _err(r.autodiff_rel_error),
                _err(r.numeric_rel_error), verdict)

    def _notes(self) -> str:
        lines = [f"note: {n}" for n in self.notes]
        if not self.complete:
            lines.append(f"note: only {len(self.rows)} of {self.total} rows were checked (stopped early)")
        return "".join("\n" + line for line in lines)

    def __str__(self) -> str:
        sp = _sympy()
        table = format_table(self._HEADER, [self._cells(r) for r in self.rows])
        formulas = [r.formula for r in self.rows]
        total = _dag_size(*formulas)
        if total > DISPLAY_SIZE:
            return table + (f"\n\n(the formulas have {total} distinct subexpressions, too many to print: "
                            f"see report.rows[i].formula)") + self._notes()
        sizes = _tree_sizes(formulas, cap=INLINE_SIZE + 1)
        # totals are written d, as in the ledger (∂ is for an op's local derivative)
        if all(sizes[f] <= INLINE_SIZE for f in formulas):
            lines = [f"d{self.output}/d{r.input} = {_str(sp, r.formula)}" for r in self.rows]
        else:  # long formulas: name their shared parts once
            reps, reduced = _shared_parts(sp, formulas)
            lines = [f"d{self.output}/d{r.input} = {_str(sp, e)}" for r, e in zip(self.rows, reduced)]
            lines += [f"  where {s} = {_str(sp, e)}" for s, e in reps]
        return table + "\n\n" + "\n".join(lines) + self._notes()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in ("input", "formula", *self._HEADER[1:]))
        body = []
        for r in self.rows:
            cells = self._cells(r)
            formula = html.escape(rf"\(\displaystyle {r.latex}\)" if _dag_size(r.formula) <= DISPLAY_SIZE
                                  else f"(a formula with {_dag_size(r.formula)} distinct subexpressions)")
            tds = [f"<td>{html.escape(cells[0])}</td>", f'<td class="formula">{formula}</td>']
            tds += [f"<td>{html.escape(c)}</td>" for c in cells[1:]]
            body.append("<tr>" + "".join(tds) + "</tr>")
        notes = "".join(f"<p>{html.escape(n.strip())}</p>" for n in self._notes().splitlines() if n.strip())
        return (f"<table><caption>d{html.escape(self.output)}/d(input): SymPy, autodiff, finite differences"
                f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}")

    def _repr_latex_(self) -> str:
        lines = []
        for r in self.rows:
            if _dag_size(r.formula) > DISPLAY_SIZE:
                continue
            lines.append(rf"\frac{{d {_tex_name(self.output)}}}{{d {_tex_name(r.input)}}} &= "
                         rf"{r.latex} = {_num(r.analytic)} & \text{{autodiff }} {_num(r.autodiff)}"
                         rf" & \text{{numeric }} {_num(r.numeric)}")
        return r"$\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$"


def _tex_name(name: str) -> str:
    return _sympy().latex(_sympy().Symbol(name))


def analytic_check(L: Value, wrt: Iterable[Value] | None = None, *, keep: Any = None, eps: float = 1e-6,
                   rtol: float = 1e-7, atol: float = 1e-10, simplify: bool = True, timeout: float = 2.0,
                   progress: bool | None = None, names: str = "auto") -> AnalyticReport:
    """For every leaf of the graph ending at ``L`` (or the nodes in ``wrt``): SymPy's
    formula for ∂L/∂x (``keep`` as in `symbolic_gradients`), its value at the
    graph's numbers, backprop's gradient, central finite differences
    (L(x + ε) − L(x − ε)) / 2ε, and the relative error of each against the
    formula.  A row is ok when |autodiff − formula| ≤ atol + rtol·|formula|,
    never when either is nan (∂/∂y of x**y at x < 0 is nan in both: no number
    was checked); the report is truthy when every row is ok.  It prints as a
    table and shows the formulas as math in Jupyter.  Rows are named as in the
    ledger and the pictures (`autograd_lite.naming`; ``names=`` as in `draw_graph`).

    Long runs show progress on stderr after 2 s (``progress=True``: always,
    ``False``: never); Ctrl-C stops early and returns the rows done (the report
    then says so and is falsy).
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    d = _derive(L, wrt, simplify, timeout, keep, progress, names)
    notes = set(d.notes)
    syms = [d.symbols[id(node)] for node in d.named]
    values = _evaluate_many(d.formulas, syms, [node.data for node in d.named], notes)
    auto = [float(g) for g in gradients(L, d.nodes)]
    namer = Namer(L, names, order=d.order)  # the names of the ledger and the pictures
    rows = []
    bar = _Progress("checking rows", len(d.nodes), progress)
    try:
        for k, (x, formula, value, a) in enumerate(zip(d.nodes, d.formulas, values, auto)):
            name = namer.name(x) if x in namer else x.label or f"node{k}"
            num = _central_difference(d.order, x, eps)
            # a nan is never ok, not even beside another nan: it is no number to agree on
            ok = a == value or abs(a - value) <= atol + rtol * abs(value)
            rows.append(AnalyticRow(name, formula, value, a, num, _rel_error(a, value), _rel_error(num, value),
                                    d.flags[k], bool(ok)))
            bar(k + 1)
    except KeyboardInterrupt:
        notes.add("checking interrupted (Ctrl-C)")
    finally:
        bar.close()
    ordered = tuple(n for n in d.notes if n in notes) + tuple(sorted(notes - set(d.notes)))
    return AnalyticReport(namer.root_name, tuple(rows), ordered, len(d.nodes))
