"""Analytic derivatives with SymPy: the graph as a formula, and its derivatives.

``to_sympy(v)`` turns the graph that ends at ``v`` into a SymPy expression;
``symbolic_gradients(L)`` derives ∂L/∂x for every leaf x as a (simplified)
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
- *Constants* (numbers stored in the graph) become exact SymPy numbers:
  integers (|n| < 2⁵³) as ``Integer``, floats with a small power-of-two
  denominator (0.5, 0.25, 1.375) as ``Rational``, any other float as a
  ``Float`` holding exactly the same double (0.1 → 0.1000000000000000055…).
- *Primitives* (one rule per op of `engine.OPS`): σ(z) = 1/(1 + e⁻ᶻ),
  relu(z) = ``Piecewise((0, z <= 0), (z, True))`` (so its derivative is 0 at
  z = 0, as in the engine and PyTorch), ``Abs`` (derivative ``sign``, 0 at 0),
  ``sqrt``, ``**``, and the fused neuron as Σᵢ wᵢxᵢ + b.
- *Sharing.* The graph is converted with a memo keyed by node identity, and
  derivatives are accumulated in reverse over the graph (SymPy differentiates
  each primitive; the chain rule sums over the graph's edges), so a node used
  many times is converted and differentiated once: no exponential blow-up on
  deep graphs with shared subexpressions.  Numbers are evaluated with
  50-digit mpmath over the formula's DAG (each shared part once).
  Expressions are built with SymPy's automatic evaluation off (it can take
  exponential time on nested graphs), so they mirror the graph; ``.doit()``
  gives SymPy's canonical form.
- *Simplification* runs in a separate process (fork where available; spawn
  elsewhere, where scripts need the usual ``if __name__ == "__main__":``
  guard): it sends back the formula evaluated (``.doit()``), then simplified
  (``sympy.simplify``), and is killed after ``timeout`` seconds per formula
  (20 s for all formulas of a call); the last version that arrived in time is
  kept.  A thread cannot be stopped, a process can: a slow ``simplify`` never
  hangs the caller.  Formulas with more than `MAX_SIMPLIFY_SIZE` distinct
  subexpressions are left as derived.

>>> from autograd_lite import Value
>>> from autograd_lite.symbolic import to_sympy, symbolic_gradients
>>> w, x = Value(0.5, label="w"), Value(-2.0, label="x")
>>> f = (w * x).sigmoid()
>>> to_sympy(f)
1/(1 + exp(-w*x))
>>> symbolic_gradients(f, simplify=False)[w]      # the chain rule as built: x · σ'(wx)
x*(exp(-w*x)/(1 + exp(-w*x))**2)
>>> symbolic_gradients(f)[w]                      # simplified: the same function
x/(4*cosh(w*x/2)**2)
"""

from __future__ import annotations

import html
import math
import multiprocessing
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lite.engine import Value, gradients, topological_order
from autograd_lite.naming import Namer
from autograd_lite.text import format_table

__all__ = [
    "SymPyNotInstalledError", "to_sympy", "leaf_symbols", "evaluate", "symbolic_gradients",
    "analytic_check", "AnalyticReport", "AnalyticRow", "sympy_rules", "latex", "MAX_SIMPLIFY_SIZE",
]

INSTALL_HINT = "pip install autograd-lite[symbolic]"
MAX_SIMPLIFY_SIZE = 400
"""Formulas with more distinct subexpressions than this are not simplified."""
DISPLAY_SIZE = 5000
"""Reports print formulas only up to this many distinct subexpressions (all formulas together)."""
_EVAL_DIGITS = 50
_WORKER_START_TIMEOUT = 60.0
_TOTAL_SIMPLIFY_TIME = 20.0  # seconds for all formulas of one call (at least one formula's timeout)


class SymPyNotInstalledError(ImportError):
    """SymPy is missing: ``pip install autograd-lite[symbolic]``."""


def _sympy():
    """The sympy module, imported on first use."""
    try:
        import sympy
    except ImportError as e:
        raise SymPyNotInstalledError(
            f"analytic derivatives need SymPy, which is not installed: {INSTALL_HINT}") from e
    return sympy


# ---------------------------------------------------------------------------
# The graph as a SymPy expression
# ---------------------------------------------------------------------------


def sympy_rules() -> dict[str, Callable[..., Any]]:
    """For every op name of `engine.OPS`, a function building its SymPy expression
    from the SymPy expressions of the node's parents (in ``.parents`` order)."""
    sp = _sympy()

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
        "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
        "tanh": sp.tanh,
        "relu": lambda z: sp.Piecewise((0, z <= 0), (z, True)),
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


def _evaluation_order(root: Value) -> list[Value]:
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value (the end of a graph), got {type(root).__name__}")
    return topological_order(root)[::-1]


def _symbols_for(sp, order: Sequence[Value]) -> dict[int, Any]:
    namer = Namer(order[-1], order=order)  # order ends at the root
    return {id(leaf): sp.Symbol(namer.name(leaf), real=True) for leaf in order if leaf.op is None}


def leaf_symbols(root: Value) -> dict[Value, Any]:
    """Each leaf of the graph ending at ``root`` (in evaluation order) → its SymPy
    symbol, the one `to_sympy` uses (real; named as the module docstring says)."""
    sp = _sympy()
    order = _evaluation_order(root)
    symbols = _symbols_for(sp, order)
    return {node: symbols[id(node)] for node in order if node.op is None}


def _convert(sp, order: Sequence[Value], symbols: dict[int, Any]) -> dict[int, Any]:
    """id(node) → SymPy expression for every node of ``order`` (evaluation order)."""
    rules = sympy_rules()
    memo: dict[int, Any] = {}
    with sp.evaluate(False):  # mirror the graph: SymPy's automatic evaluation can take exponential time
        _fill(sp, order, symbols, rules, memo)
    return memo


def _fill(sp, order, symbols, rules, memo) -> None:
    for node in order:
        op = node.op
        if op is None:
            memo[id(node)] = symbols[id(node)]
            continue
        rule = rules.get(op.name)
        if rule is None:
            raise NotImplementedError(f"autograd_lite.symbolic has no SymPy rule for the op {op.name!r}: "
                                      f"add one to sympy_rules()")
        args = [memo[id(p)] if isinstance(p, Value) else _constant(sp, p) for p in node.parents]
        memo[id(node)] = rule(*args)


def to_sympy(v: Value) -> Any:
    """The graph that ends at ``v`` as one SymPy expression in the leaves' symbols.

    The expression mirrors the graph node for node (built with SymPy's automatic
    evaluation off, which can take exponential time on nested graphs): a
    ``0 * y`` in the graph stays ``0*y``.  ``.doit()`` gives SymPy's canonical form.

    >>> from autograd_lite import Value
    >>> x = Value(3.0, label="x")
    >>> to_sympy((x - 1).relu() / 4 + x ** 2)
    x**2 + Piecewise((0, x - 1 <= 0), (x - 1, True))/4
    """
    sp = _sympy()
    order = _evaluation_order(v)
    return _convert(sp, order, _symbols_for(sp, order))[id(v)]


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


def _mp_apply(sp, mpmath, e, vals: list, env: dict):
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
        return mpmath.power(vals[0], vals[1])
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
    name = _MP_FUNCTIONS.get(type(e).__name__)
    if name is not None and len(vals) == 1:
        return getattr(mpmath, name)(vals[0])
    # anything else simplify may produce: SymPy evaluates the function at these numbers
    args = [sp.Float(v, _EVAL_DIGITS) if not isinstance(v, mpmath.mpc) else sp.sympify(complex(v)) for v in vals]
    with sp.evaluate(True):
        r = complex(e.func(*args).evalf(_EVAL_DIGITS))
    return mpmath.mpf(r.real) if r.imag == 0 else mpmath.mpc(r)


def _mp_evaluate(sp, mpmath, exprs: Sequence[Any], env: dict) -> list:
    """Evaluate formulas over their DAG (each distinct subexpression once, no recursion)."""
    memo: dict[Any, Any] = {}
    stack = list(exprs)
    while stack:
        e = stack.pop()
        if e in memo:
            continue
        pending = [a for a in e.args if a not in memo]
        if pending:
            stack.append(e)
            stack.extend(pending)
            continue
        if e.is_Symbol and e not in env:
            raise ValueError(f"the formula has a symbol that is not a leaf of the graph: {e}")
        try:
            memo[e] = _mp_apply(sp, mpmath, e, [memo[a] for a in e.args], env)
        except (ArithmeticError, ValueError, TypeError):
            if e.is_Symbol:
                raise
            memo[e] = mpmath.nan
    return [memo[e] for e in exprs]


def _evaluate_many(exprs: Sequence[Any], symbols: Sequence[Any], values: Sequence[float]) -> list[float]:
    """Each expression at symbols = values, computed in 50-digit mpmath, as floats
    (nan where the value is undefined or not real)."""
    sp = _sympy()
    import mpmath

    exprs = [sp.sympify(e) for e in exprs]
    with mpmath.workdps(_EVAL_DIGITS):
        env = {s: mpmath.mpf(float(x)) for s, x in zip(symbols, values)}
        return [_to_float(v) for v in _mp_evaluate(sp, mpmath, exprs, env)]


def latex(expr: Any) -> str:
    """A formula as LaTeX (``sympy.latex``)."""
    return _sympy().latex(expr)


def evaluate(expr: Any, root: Value) -> float:
    """The value of a SymPy formula in the leaf symbols of the graph ending at
    ``root`` (`leaf_symbols`), at the leaves' current numbers, computed with 50
    digits and rounded to a float (nan where it is undefined or not real)."""
    pairs = leaf_symbols(root)
    return _evaluate_many([expr], list(pairs.values()), [leaf.data for leaf in pairs])[0]


# ---------------------------------------------------------------------------
# Derivatives
# ---------------------------------------------------------------------------


def _local_derivatives(sp, rules, op, args) -> list[Any]:
    """∂op(args)/∂args[i] for every argument, derived by SymPy (not the engine's
    table): the op is applied to placeholder symbols, differentiated, and the
    placeholders replaced by the actual argument expressions."""
    holders = [sp.Dummy(f"p{i}", real=True) for i in range(len(args))]
    with sp.evaluate(True):
        out = rules[op.name](*holders)
        local = [sp.diff(out, h) for h in holders]
    back = dict(zip(holders, args))
    return [d.xreplace(back) for d in local]


def _reverse_derivatives(sp, order: Sequence[Value], memo: dict[int, Any]) -> dict[int, Any]:
    """id(node) → ∂root/∂node as SymPy expressions, root = order[-1]: the chain
    rule summed over the graph's edges, consumers before producers."""
    rules = sympy_rules()
    adjoint: dict[int, Any] = {id(order[-1]): sp.Integer(1)}
    with sp.evaluate(False):
        _accumulate(sp, order, memo, rules, adjoint)
    return adjoint


def _accumulate(sp, order, memo, rules, adjoint) -> None:
    for node in reversed(order):
        g = adjoint.get(id(node))
        if node.op is None or g is None or g is sp.S.Zero:
            continue
        parents = node.parents
        args = [memo[id(p)] if isinstance(p, Value) else _constant(sp, p) for p in parents]
        for p, d in zip(parents, _local_derivatives(sp, rules, node.op, args)):
            if isinstance(p, Value):
                term = d if g is sp.S.One else g if d is sp.S.One else g * d
                old = adjoint.get(id(p))
                adjoint[id(p)] = term if old is None else old + term


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


def _simplify_worker(conn, exprs) -> None:  # runs in the child process
    import sympy

    conn.send(("ready", None))
    for i, e in enumerate(exprs):
        # better and better versions; the parent keeps the last one that arrives in time
        for step in (_evaluated, sympy.simplify):
            try:
                e = step(e)
                conn.send((i, e, step is sympy.simplify))
            except Exception:  # noqa: BLE001 -- a failed step (or a formula too deep to pickle): stop here
                break
        conn.send((i, None, True))
    conn.close()


def _evaluated(e):
    """The formula rebuilt with SymPy's automatic evaluation (canonical order, numbers folded)."""
    return e.doit(deep=True)


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _simplify_all(exprs: list[Any], timeout: float) -> tuple[list[Any], list[bool]]:
    """``sympy.simplify`` each formula in a child process, at most ``timeout``
    seconds each and 20 s (or ``timeout``) in all; a formula that takes longer (or
    fails, or is bigger than `MAX_SIMPLIFY_SIZE`) keeps the best version finished.
    Returns (formulas, simplified flags)."""
    sp = _sympy()
    out = list(exprs)
    done = [False] * len(exprs)
    todo = []
    for i, e in enumerate(exprs):
        if e.is_Atom:
            done[i] = True  # nothing to simplify
        elif _dag_size(e) <= MAX_SIMPLIFY_SIZE:
            todo.append(i)
    stop = time.monotonic() + max(timeout, _TOTAL_SIMPLIFY_TIME)
    while todo and time.monotonic() < stop:
        ctx = _context()
        receive, send = ctx.Pipe(duplex=False)
        worker = ctx.Process(target=_simplify_worker, args=(send, [exprs[i] for i in todo]), daemon=True)
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
                    if result is not None:
                        out[todo[finished]] = result
                        done[todo[finished]] = done[todo[finished]] or last
                    if last and result is None:
                        finished += 1
                        deadline = min(time.monotonic() + timeout, stop)
        except (OSError, EOFError, AssertionError, RuntimeError):  # cannot start or lost the worker
            pass
        finally:
            if worker.is_alive():
                worker.kill()
            if worker.pid is not None:
                worker.join()
            receive.close()
        todo = todo[finished + 1:]  # the one that timed out or failed stays unsimplified
    return out, done


def _derive(L: Value, wrt: Iterable[Value] | None, simplify: bool, timeout: float):
    """(nodes, formulas, simplified flags, leaf symbols as {id: Symbol}, evaluation order)."""
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
    symbols = _symbols_for(sp, order)
    memo = _convert(sp, order, symbols)
    adjoint = _reverse_derivatives(sp, order, memo)
    formulas = [adjoint.get(id(x), sp.Integer(0)) for x in nodes]
    if simplify:
        formulas, flags = _simplify_all(formulas, timeout)
    else:
        flags = [False] * len(formulas)
    return nodes, formulas, flags, symbols, order


def symbolic_gradients(L: Value, wrt: Iterable[Value] | None = None, *, simplify: bool = True,
                       timeout: float = 2.0) -> dict[Value, Any]:
    """∂L/∂x as a SymPy formula in the leaf symbols, for every leaf x of the graph
    ending at ``L`` (in evaluation order), or for the nodes in ``wrt`` (a node
    not in the graph gets 0; an intermediate node gets ∂L/∂node holding its
    inputs fixed, as backprop defines it).

    SymPy differentiates every primitive and the chain rule is applied in
    reverse over the graph.  With ``simplify=False`` the formula is returned as
    the chain rule builds it (unevaluated, like `to_sympy`).  With
    ``simplify=True`` a child process first evaluates it (``.doit()``), then
    runs ``sympy.simplify``, and is killed after ``timeout`` seconds per
    formula (and after 20 s, or ``timeout`` if longer, for all formulas): the best
    version finished by then is kept (never a hang).
    """
    nodes, formulas, _, _, _ = _derive(L, wrt, simplify, timeout)
    return dict(zip(nodes, formulas))


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
        """The formula in LaTeX (``sympy.latex``)."""
        return _sympy().latex(self.formula)


def _num(x: float) -> str:
    return f"{x:.10g}"


def _err(x: float) -> str:
    return f"{x:.1e}"


@dataclass(frozen=True)
class AnalyticReport:
    """The table of `analytic_check`; truthy when backprop agrees with every formula."""

    output: str
    rows: tuple[AnalyticRow, ...]

    def __bool__(self) -> bool:
        return all(r.ok for r in self.rows)

    _HEADER = ("input", "formula value", "autodiff", "numeric", "rel err autodiff", "rel err numeric", "ok")

    def _cells(self, r: AnalyticRow) -> tuple[str, ...]:
        return (r.input, _num(r.analytic), _num(r.autodiff), _num(r.numeric), _err(r.autodiff_rel_error),
                _err(r.numeric_rel_error), "yes" if r.ok else "NO")

    def __str__(self) -> str:
        sp = _sympy()
        table = format_table(self._HEADER, [self._cells(r) for r in self.rows])
        formulas = [r.formula for r in self.rows]
        sizes = [_dag_size(f) for f in formulas]
        total = _dag_size(*formulas)
        if total > DISPLAY_SIZE:
            return table + (f"\n\n(the formulas have {total} distinct subexpressions, too many to print: "
                            f"see report.rows[i].formula)")
        with sp.evaluate(False):
            if max(sizes, default=0) <= 30:
                lines = [f"∂{self.output}/∂{r.input} = {sp.sstr(r.formula)}" for r in self.rows]
            else:  # long formulas: name their shared parts once
                reps, reduced = sp.cse(formulas, symbols=_cse_symbols(sp, formulas), order="none")
                lines = [f"∂{self.output}/∂{r.input} = {sp.sstr(e)}" for r, e in zip(self.rows, reduced)]
                lines += [f"  where {sp.sstr(s)} = {sp.sstr(e)}" for s, e in reps]
        return table + "\n\n" + "\n".join(lines)

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
        return (f"<table><caption>∂{html.escape(self.output)}/∂input: SymPy, autodiff, finite differences"
                f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

    def _repr_latex_(self) -> str:
        lines = []
        for r in self.rows:
            if _dag_size(r.formula) > DISPLAY_SIZE:
                continue
            lines.append(rf"\frac{{\partial {_tex_name(self.output)}}}{{\partial {_tex_name(r.input)}}} &= "
                         rf"{r.latex} = {_num(r.analytic)} & \text{{autodiff }} {_num(r.autodiff)}"
                         rf" & \text{{numeric }} {_num(r.numeric)}")
        return r"$\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$"


def _tex_name(name: str) -> str:
    return _sympy().latex(_sympy().Symbol(name))


def _cse_symbols(sp, exprs):
    taken = {str(e) for e in _subexpressions(*exprs) if e.is_Symbol}
    prefix = "t"
    while any(name.startswith(prefix) for name in taken):
        prefix += "_"
    return sp.numbered_symbols(prefix, real=True)


def analytic_check(L: Value, wrt: Iterable[Value] | None = None, *, eps: float = 1e-6, rtol: float = 1e-7,
                   atol: float = 1e-10, simplify: bool = True, timeout: float = 2.0) -> AnalyticReport:
    """For every leaf of the graph ending at ``L`` (or the nodes in ``wrt``): SymPy's
    formula for ∂L/∂x, its value at the graph's numbers, backprop's gradient,
    central finite differences (L(x + ε) − L(x − ε)) / 2ε, and the relative error
    of each against the formula.  A row is ok when |autodiff − formula| ≤
    atol + rtol·|formula|; the report is truthy when every row is ok.  It prints
    as a table and shows the formulas as math in Jupyter.
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    nodes, formulas, flags, symbols, order = _derive(L, wrt, simplify, timeout)
    leaves = [node for node in order if node.op is None]
    syms = [symbols[id(leaf)] for leaf in leaves]
    values = _evaluate_many(formulas, syms, [leaf.data for leaf in leaves])
    auto = [float(g) for g in gradients(L, nodes)]
    namer = Namer(L, order=order)  # the names of the ledger and the pictures
    rows = []
    for k, (x, formula, value, a) in enumerate(zip(nodes, formulas, values, auto)):
        name = namer.name(x) if x in namer else x.label or f"node{k}"
        num = _central_difference(order, x, eps)
        ok = a == value or (math.isnan(a) and math.isnan(value)) or abs(a - value) <= atol + rtol * abs(value)
        rows.append(AnalyticRow(name, formula, value, a, num, _rel_error(a, value), _rel_error(num, value),
                                flags[k], bool(ok)))
    return AnalyticReport(namer.root_name, tuple(rows))
