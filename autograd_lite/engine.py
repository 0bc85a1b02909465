"""The scalar autodiff engine: the derivative table, `Value`, and backpropagation.

Read it top to bottom:

1. *Kernels* -- ``exp``, ``log``, ``sigmoid`` ... that work on a Python number
   (with IEEE-754 results: ``exp(1000) = inf``, never ``OverflowError``), on a
   numpy array, and on a `Value` (where they build a graph node).
2. *The derivative table* -- every primitive's forward function and the local
   derivative of its output with respect to each input, stated once.  The rules
   are written with arithmetic and the kernels only, so the same statement is
   evaluated on floats (backprop), on `Value`\\ s (``create_graph=True``:
   derivatives of derivatives) and on numpy arrays (`autograd_lite.vectorize`).
3. *`Value`* -- a node: its number, its gradient, its op and its parents.
   Parents and the op are stored on the node (no closures), so a graph holds no
   reference cycles and is freed the moment its last reference goes.
4. *Backprop* -- reverse mode over a topological order computed without
   recursion (a node is always created after its parents, so sorting the
   reachable nodes by creation number, newest first, is a topological order).
"""

from __future__ import annotations

import itertools
import math
import numbers
import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

import numpy as np

__all__ = [
    "Value", "Op", "OPS", "AnomalyError", "detect_anomaly",
    "exp", "log", "sigmoid", "tanh", "relu", "sqrt", "sin", "cos", "linear",
    "topological_order", "derivative_table", "gradients", "partial",
]

_ARRAY = (np.ndarray, np.generic)
_ARITH_ERRORS = (ArithmeticError, ValueError)


def _ieee(f: Callable, *args: Any) -> Any:
    """Run ``f`` on Python floats; where Python raises (1/0, exp(1000), log(-1)),
    redo it in numpy float64, which follows IEEE-754 like PyTorch: inf, -inf, nan."""
    try:
        return f(*args)
    except _ARITH_ERRORS:
        with np.errstate(all="ignore"):
            out = f(*[np.float64(a) if a.__class__ is float else a for a in args])
        return out if out.__class__ is Value else float(out)


def _kernel(name: str, np_f: Callable, math_f: Callable) -> Callable:
    """A function of one argument for Values (graph node), arrays and numbers."""

    def f(x):
        if x.__class__ is Value:
            return _unary(OPS[name], x)
        if isinstance(x, _ARRAY):
            return np_f(x)
        try:
            return math_f(float(x))
        except _ARITH_ERRORS:  # exp(1000), log(-1): IEEE-754 inf/nan as in numpy
            with np.errstate(all="ignore"):
                return float(np_f(np.float64(x)))

    f.__name__ = f.__qualname__ = name
    return f


def _sigmoid_math(x: float) -> float:
    e = math.exp(-abs(x))  # never overflows: σ(x) = 1/(1+e^-x) = e^x/(1+e^x)
    r = 1.0 / (1.0 + e)
    return r if x >= 0 else e * r


def _sigmoid_np(x):  # the same formula as _sigmoid_math, on arrays, with few temporaries
    x = np.asarray(x, dtype=float)
    e = np.abs(x, out=np.empty(x.shape))
    np.negative(e, out=e)
    np.exp(e, out=e)
    r = np.add(e, 1.0, out=np.empty(x.shape))
    np.reciprocal(r, out=r)
    np.multiply(e, r, out=e)
    return np.where(x >= 0, r, e)


exp = _kernel("exp", np.exp, math.exp)
log = _kernel("log", np.log, lambda x: math.log(x) if x != 0 else -math.inf)
sigmoid = _kernel("sigmoid", _sigmoid_np, _sigmoid_math)
tanh = _kernel("tanh", np.tanh, math.tanh)
relu = _kernel("relu", lambda x: np.where(x <= 0, 0.0, x), lambda x: 0.0 if x <= 0 else x)
sqrt = _kernel("sqrt", np.sqrt, math.sqrt)
sin = _kernel("sin", np.sin, math.sin)
cos = _kernel("cos", np.cos, math.cos)
exp.__doc__ = "eˣ"
log.__doc__ = "ln x (log 0 = -inf, log of a negative number = nan)"
sigmoid.__doc__ = "σ(x) = 1 / (1 + e⁻ˣ), stable over the whole float range"
tanh.__doc__ = "tanh x = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)"
relu.__doc__ = "relu(x) = max(x, 0)"
sqrt.__doc__ = "√x"
sin.__doc__ = "sin x"
cos.__doc__ = "cos x"


def _data(x):
    """The number inside a Value, or x itself (a number or an array)."""
    return x.data if x.__class__ is Value else x


def _where(cond, a, b):
    """``a`` where ``cond`` else ``b``, elementwise for arrays."""
    if isinstance(cond, np.ndarray):
        return np.where(cond, _data(a), _data(b))
    return a if cond else b


def _power(x, y):
    """xʸ with IEEE results ((-8)^(1/3) = nan, 0^-1 = inf, 10^400 = inf)."""
    if x.__class__ is Value or y.__class__ is Value:
        return x ** y  # a graph node (Value.__pow__ or __rpow__)
    if isinstance(x, _ARRAY) or isinstance(y, _ARRAY):
        with np.errstate(all="ignore"):
            return np.power(np.asarray(x, float), y)
    return _ieee(math.pow, float(x), float(y))


def _dpow_dx(x, y):
    """y·xʸ⁻¹, and 0 where y = 0 (as PyTorch: no 0·inf = nan at x = 0 or a tiny x).
    A Value exponent at 0 keeps the formula where x ≠ 0, so that its derivative
    with respect to y, xʸ⁻¹, survives in a gradient's graph (create_graph)."""
    if y.__class__ is Value and y.data == 0 and _data(x) != 0:
        return y * _power(x, y - 1)
    return _where(_data(y) == 0, 0.0, y * _power(x, y - 1))


def _step(x):
    """0 where x ≤ 0 else 1: the derivative of relu (0 at 0 and 1 at nan, as in PyTorch)."""
    x = _data(x)
    if isinstance(x, _ARRAY):
        return np.where(x <= 0, 0.0, 1.0)
    return 0.0 if x <= 0 else 1.0


def _sign(x):
    """-1, 0 or 1: the derivative of |x| (0 at 0 and at nan, as in PyTorch)."""
    x = _data(x)
    if isinstance(x, _ARRAY):
        return (x > 0).astype(float) - (x < 0)
    return float((x > 0) - (x < 0))


# --------------------------------------------------------------------------
# The derivative table.  One row per primitive: its forward function and, for
# each input, the local derivative ∂out/∂input as a function of the inputs and
# of out.  Backprop multiplies these by the incoming gradient (the chain rule).
# --------------------------------------------------------------------------


class _Arg:
    """Stands for one argument of a rule while `Op` probes it (see `Op.backprop`)."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class Op:
    """A primitive: ``forward`` on numbers/arrays and one local-derivative rule
    per input, each ``rule(*inputs, out)``; ``formula`` is the same in math.

    ``backprop`` is ``partials`` as the float backward pass reads them: a rule
    that just returns one of its arguments (∂(xy)/∂x = y, (eˣ)' = eˣ = out) is
    found by calling it once on stand-ins and becomes that argument's position,
    so backprop need not call it."""

    __slots__ = ("name", "symbol", "forward", "partials", "formula", "backprop")

    def __init__(self, name: str, symbol: str, forward: Callable,
                 partials: Sequence[Callable], formula: str) -> None:
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.partials = tuple(partials)
        self.formula = formula
        self.backprop = tuple(_as_projection(rule, len(self.partials) + 1) for rule in self.partials)

    @property
    def arity(self) -> int:
        return len(self.partials)

    def __repr__(self) -> str:
        return f"Op({self.name!r}: {self.formula})"


def _as_projection(rule, nargs: int):
    """The position of the argument that ``rule`` returns unchanged, or ``rule``."""
    if rule.__class__ is float:
        return rule
    args = [_Arg(i) for i in range(nargs)]
    try:
        result = rule(*args)
    except Exception:  # the rule computes something: keep it
        return rule
    return result.index if result.__class__ is _Arg else rule


OPS: dict[str, Op] = {}


def _defop(name: str, symbol: str, forward: Callable, *partials: Callable, formula: str) -> Op:
    op = OPS[name] = Op(name, symbol, forward, partials, formula)
    return op


#       name       symbol  forward                    ∂out/∂x (and ∂out/∂y): a number, or a rule of (inputs..., out)
_defop("add",     "+",    operator.add,              1.0, 1.0,
       formula="∂(x+y)/∂x = 1,  ∂(x+y)/∂y = 1")
_defop("sub",     "−",    operator.sub,              1.0, -1.0,
       formula="∂(x−y)/∂x = 1,  ∂(x−y)/∂y = −1")
_defop("mul",     "×",    operator.mul,              lambda x, y, out: y,
                                                     lambda x, y, out: x,
       formula="∂(xy)/∂x = y,  ∂(xy)/∂y = x")
_defop("div",     "÷",    operator.truediv,          lambda x, y, out: 1.0 / y,
                                                     lambda x, y, out: -out / y,
       formula="∂(x/y)/∂x = 1/y,  ∂(x/y)/∂y = −x/y²")
_defop("pow",     "**",   _power,
       lambda x, y, out: _dpow_dx(x, y),
       lambda x, y, out: _where((_data(x) == 0) & (_data(y) >= 0), 0.0, out * log(x)),
       formula="∂xʸ/∂x = y·xʸ⁻¹,  ∂xʸ/∂y = xʸ·ln x  (0 where y = 0, resp. x = 0 ≤ y, as PyTorch)")
_defop("neg",     "−",    operator.neg,              -1.0,
       formula="(−x)' = −1")
_defop("exp",     "exp",  exp,                       lambda x, out: out,
       formula="(eˣ)' = eˣ")
_defop("log",     "log",  log,                       lambda x, out: 1.0 / x,
       formula="(ln x)' = 1/x")
_defop("sigmoid", "σ",    sigmoid,                   lambda x, out: out * (1.0 - out),
       formula="σ'(x) = σ(x)(1 − σ(x))")
_defop("tanh",    "tanh", tanh,                      lambda x, out: 1.0 - out * out,
       formula="tanh'(x) = 1 − tanh²(x)")
_defop("relu",    "relu", relu,                      lambda x, out: _step(x),
       formula="relu'(x) = 1 if x > 0 else 0")
_defop("sqrt",    "√",    sqrt,                      lambda x, out: 0.5 / out,
       formula="(√x)' = 1/(2√x)")
_defop("abs",     "abs",  abs,                       lambda x, out: _sign(x),
       formula="|x|' = sign(x)")
_defop("sin",     "sin",  sin,                       lambda x, out: cos(x),
       formula="sin'(x) = cos(x)")
_defop("cos",     "cos",  cos,                       lambda x, out: -sin(x),
       formula="cos'(x) = −sin(x)")
# The fused neuron w·x + b (n inputs) used by `autograd_lite.nn`: one node
# instead of 2n, with the same gradients as the elementary ops it replaces.
_LINEAR = _defop("linear", "w·x+b", lambda ws, xs, b: sum(map(operator.mul, ws, xs), b),
                 lambda w, x: x, lambda w, x: w, 1.0,
                 formula="∂(w·x+b)/∂wᵢ = xᵢ,  ∂(w·x+b)/∂xᵢ = wᵢ,  ∂(w·x+b)/∂b = 1")


def partial(rule: float | Callable, *args):
    """Evaluate one local-derivative rule of the table: a constant or ``rule(*args)``.
    Works on floats, Values and numpy arrays alike (floats may raise; see `_ieee`)."""
    return rule if rule.__class__ is float else rule(*args)


def derivative_table() -> str:
    """The derivative table as Markdown, generated from `OPS` (a ``str`` that Jupyter
    renders as a table)."""
    from autograd_lite.text import Markdown

    rows = ["| op | symbol | derivative |", "|---|---|---|"]
    rows += ["| `{}` | {} | {} |".format(op.name, op.symbol, op.formula.replace("|", "\\|")) for op in OPS.values()]
    return Markdown("\n".join(rows))


# --------------------------------------------------------------------------
# Anomaly detection.
# --------------------------------------------------------------------------


class AnomalyError(FloatingPointError):
    """A nan (or an inf from finite inputs) appeared inside `detect_anomaly`."""


_anomaly = False


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside this block, the first op whose forward value or backward gradient
    is nan (or inf although its inputs were finite) raises `AnomalyError`."""
    global _anomaly
    before, _anomaly = _anomaly, True
    try:
        yield
    finally:
        _anomaly = before


def _describe(x) -> str:
    if x.__class__ is Value:
        return f"{x.label or 'unlabelled'}={x.data!r}"
    return f"constant {x!r}"


def _bad(result: float, inputs: Sequence[float]) -> bool:
    if math.isnan(result):
        return True
    return math.isinf(result) and all(math.isfinite(v) for v in inputs)


def _check_forward(op: Op, parents: Sequence, out: float) -> None:
    if _bad(out, [_data(p) for p in parents]):
        args = ", ".join(_describe(p) for p in parents)
        raise AnomalyError(f"forward of {op.name}({args}) gave {out!r}")


def _check_backward(node: Value, parent, contribution: float) -> None:
    if _bad(contribution, [node.grad, node.data, _data(parent)]):
        raise AnomalyError(
            f"backward of {node._op.name} (output {_describe(node)}, grad {node.grad!r}) "
            f"gave gradient {contribution!r} for input {_describe(parent)}")


# --------------------------------------------------------------------------
# Value
# --------------------------------------------------------------------------

_next_id = itertools.count().__next__
_new = object.__new__
_NUMBER_TYPES = (numbers.Real, np.bool_)


def _number(x: Any, what: str = "Value()") -> float:
    """``x`` as a float, or TypeError naming its type."""
    if x.__class__ is float:
        return x
    if isinstance(x, _NUMBER_TYPES) or (isinstance(x, np.ndarray) and x.ndim == 0
                                        and x.dtype.kind in "biuf"):
        return float(x)
    raise TypeError(f"{what} takes a real number (int, float, bool or numpy scalar), "
                    f"not {type(x).__name__}: {x!r:.60}")


class Value:
    """A scalar node in a computational graph: ``data``, ``grad`` = ∂L/∂(this)
    after ``L.backward()``, an optional ``label``, and the op and parents that
    made it (none for a leaf: an input, a weight or a constant)."""

    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_id")

    def __init__(self, data: Any, label: str | None = None) -> None:
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a str, not {type(label).__name__}")
        self.data = _number(data)
        self.grad: Any = 0.0
        self.label = label
        self._op: Op | None = None
        self._a = self._b = None
        self._id = _next_id()

    def __repr__(self) -> str:
        grad = self.grad.data if self.grad.__class__ is Value else self.grad
        label = f", label={self.label!r}" if self.label is not None else ""
        return f"Value({self.data:.4g}, grad={grad:.4g}{label})"

    @property
    def op(self) -> Op | None:
        """The primitive that made this node (None for a leaf)."""
        return self._op

    @property
    def parents(self) -> tuple:
        """The inputs of this node's op, Values and constants (floats), in order."""
        a, b = self._a, self._b
        if self._op is _LINEAR:
            return (*a[:-1], *b, a[-1])
        return () if a is None else (a,) if self._op.arity == 1 else (a, b)

    def is_leaf(self) -> bool:
        return self._op is None

    # numbers ---------------------------------------------------------------
    def __float__(self) -> float:
        return self.data

    def __bool__(self) -> bool:
        return bool(self.data)

    def __lt__(self, other) -> bool:
        return self.data < _data(other)

    def __le__(self, other) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other) -> bool:
        return self.data > _data(other)

    def __ge__(self, other) -> bool:
        return self.data >= _data(other)

    __hash__ = object.__hash__  # identity: nodes are graph vertices
    __array_ufunc__ = None  # numpy defers to our operators: np.float64(2) * v is a Value

    # operators and functions (x + y, x.sigmoid(), ...) are made from the table
    # below the class: `_binary_method` and `_unary_method`.
    def __pos__(self) -> Value:
        return self

    # backprop ------------------------------------------------------------------
    def backward(self, grad: float = 1.0, *, create_graph: bool = False) -> None:
        """Backpropagate from this node: seed ∂L/∂L = ``grad`` (1 by default) and
        apply the chain rule in reverse topological order.

        Leaves (inputs, weights) *accumulate* into ``.grad`` across calls, as in
        PyTorch: call `zero_grad` (or ``model.zero_grad()``) between steps.  An
        intermediate node's ``.grad`` holds ∂L/∂node from the latest backward.
        With ``create_graph=True`` the gradients are `Value`\\ s in a new graph,
        so they can be differentiated again (``g.backward()``).
        """
        _backward(self, grad, create_graph)

    def zero_grad(self) -> None:
        """Set ``.grad = 0`` on every node of the graph that ends here."""
        for node in topological_order(self):
            node.grad = 0.0

    def draw(self, **kw: Any):
        """Draw the graph that ends here (see `autograd_lite.viz.draw_graph`)."""
        from autograd_lite.viz import draw_graph

        return draw_graph(self, **kw)


def _constant(x: Any) -> float | None:
    """A number on the other side of an operator as a float (None if not a number)."""
    return float(x) if isinstance(x, _NUMBER_TYPES) else None


def _binary_method(op: Op, reflected: bool = False) -> Callable:
    """``self OP other`` (``other OP self`` if reflected) for one row of the table.
    A number on the other side is stored in the node as a constant (a float)."""
    forward = op.forward

    def method(self: Value, other: Any) -> Value:
        if other.__class__ is Value:
            y = other.data
        elif other.__class__ is float:
            y = other
        else:
            y = other = _constant(other)
            if y is None:
                return NotImplemented
        if reflected:
            a, b, x, y = other, self, y, self.data
        else:
            a, b, x = self, other, self.data
        try:
            data = forward(x, y)
        except _ARITH_ERRORS:
            data = _ieee(forward, x, y)
        out = _new(Value)  # `_node`, inlined: this is the hottest line of the library
        out.data = data
        out.grad = 0.0
        out.label = None
        out._op = op
        out._a = a
        out._b = b
        out._id = _next_id()
        if _anomaly:
            _check_forward(op, (a, b), data)
        return out

    method.__name__ = f"__{'r' if reflected else ''}{op.name.replace('div', 'truediv')}__"
    method.__doc__ = f"{'other ' + op.symbol + ' self' if reflected else 'self ' + op.symbol + ' other'}: {op.formula}"
    return method


def _unary_method(op: Op) -> Callable[[Value], Value]:
    """``x.f()`` for one row of the table."""

    def method(self: Value) -> Value:
        return _unary(op, self)

    method.__name__ = op.name
    method.__doc__ = f"{op.name}(x), a new node; {op.formula}"
    return method


for _name in ("add", "sub", "mul", "div", "pow"):
    _dunder = "truediv" if _name == "div" else _name
    setattr(Value, f"__{_dunder}__", _binary_method(OPS[_name]))
    setattr(Value, f"__r{_dunder}__", _binary_method(OPS[_name], reflected=True))
for _name in ("exp", "log", "sigmoid", "tanh", "relu", "sqrt", "abs", "sin", "cos"):
    setattr(Value, _name, _unary_method(OPS[_name]))
Value.__neg__ = _unary_method(OPS["neg"])
Value.__abs__ = Value.abs


def _node(op: Op, a, b, data: float) -> Value:
    """A new node ``data = op(a, b)`` (``b`` is None for a unary op; for the fused
    linear op, a = (*ws, bias) and b = xs).  `_binary_method` inlines this."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = None
    out._op = op
    out._a = a
    out._b = b
    out._id = _next_id()
    if _anomaly:
        _check_forward(op, out.parents, data)
    return out


def _unary(op: Op, a: Value) -> Value:
    try:
        data = op.forward(a.data)
    except _ARITH_ERRORS:
        data = _ieee(op.forward, a.data)
    return _node(op, a, None, data)


def linear(ws: Sequence[Value], xs: Sequence[Value | float], b: Value) -> Value:
    """The fused neuron Σᵢ wᵢxᵢ + b as one node (∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1).

    Gives the same value and gradients as building it from ``*`` and ``+``,
    with one node instead of 2n: what `autograd_lite.nn` layers use.  The
    inputs ``xs`` may be Values or numbers (constants)."""
    wb = (*ws, b)  # the bias rides at the end of the weights
    xs = tuple(xs)
    if len(wb) != len(xs) + 1:
        raise ValueError(f"linear() needs as many weights as inputs: {len(wb) - 1} weights, {len(xs)} inputs")
    try:
        wd = [w.data for w in wb]
        xd = [x.data if x.__class__ is Value else x for x in xs]
        bias = wd.pop()
        data = _LINEAR.forward(wd, xd, bias)
    except (*_ARITH_ERRORS, AttributeError, TypeError):
        data = None
    if data.__class__ is not float:  # not all floats: validate, convert, recompute (the slow path)
        if set(map(type, wb)) != {Value}:
            raise TypeError("linear() takes Values for the weights and the bias")
        xs = tuple(x if x.__class__ is Value else _number(x, "linear()") for x in xs)
        xd = [_data(x) for x in xs]
        wd = [w.data for w in wb]
        bias = wd.pop()
        data = _ieee(_LINEAR.forward, wd, xd, bias)
    return _node(_LINEAR, wb, xs, data)


# --------------------------------------------------------------------------
# Backprop
# --------------------------------------------------------------------------

_by_id = attrgetter("_id")


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, ``root`` first, each node before
    its parents (consumers before producers).  Iterative: any depth works."""
    if root.__class__ is not Value:
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    seen = {root}
    nodes = [root]
    visit = seen.add
    keep = nodes.append
    for node in nodes:  # breadth-first; the list grows while we walk it
        a = node._a
        if a is None:
            continue
        b = node._b
        if a.__class__ is tuple:  # fused linear node
            for p in a + b:
                if p.__class__ is Value and p not in seen:
                    visit(p)
                    keep(p)
            continue
        if a.__class__ is Value and a not in seen:
            visit(a)
            keep(a)
        if b.__class__ is Value and b not in seen:
            visit(b)
            keep(b)
    nodes.sort(key=_by_id, reverse=True)
    return nodes


def _ops_newest_first(root: Value) -> list[Value]:
    """The op nodes (not leaves) that ``root`` depends on, newest first: a
    topological order for backprop.  Visiting marks a node by setting its grad to
    a fresh 0.0 object (``is`` tells it apart from any other 0.0), so zeroing the
    intermediate grads and remembering what was seen is one store per node."""
    mark = float("0")
    root.grad = mark
    nodes = [root]
    keep = nodes.append
    for node in nodes:  # breadth-first; the list grows while we walk it
        a = node._a
        b = node._b
        if a.__class__ is tuple:  # fused linear node: (*ws, b) and xs
            for p in a + b:
                if p.__class__ is Value and p._op is not None and p.grad is not mark:
                    p.grad = mark
                    keep(p)
            continue
        if a.__class__ is Value and a._op is not None and a.grad is not mark:
            a.grad = mark
            keep(a)
        if b.__class__ is Value and b._op is not None and b.grad is not mark:
            b.grad = mark
            keep(b)
    nodes.sort(key=_by_id, reverse=True)
    return nodes


def _backward(root: Value, seed, create_graph: bool) -> None:
    if create_graph:
        order = topological_order(root)
        grads = _graph_gradients(order, seed)
        for node in order:  # leaves accumulate, intermediates hold this pass
            g = grads.get(node)
            if node._op is not None:
                node.grad = 0.0 if g is None else g
            elif g is not None:
                old = node.grad
                node.grad = g if (old.__class__ is float and old == 0.0) else old + g
        return
    seed = _number(seed, "backward(grad=...)")
    if root._op is None:  # a leaf: dL/dL = seed
        root.grad += seed
        return
    order = _ops_newest_first(root)
    root.grad = seed
    check = _anomaly
    for node in order:
        op = node._op
        g = node.grad
        a = node._a
        b = node._b
        if b is None:  # unary: out = f(x); the rule is a number, an argument's position or f'(x, out)
            d = op.backprop[0]
            if d.__class__ is not float:
                if d.__class__ is int:
                    d = node.data if d else a.data
                else:
                    try:
                        d = d(a.data, node.data)
                    except _ARITH_ERRORS:
                        d = _ieee(d, a.data, node.data)
            a.grad += g * d
            if check:
                _check_backward(node, a, g * d)
        elif op is _LINEAR:  # ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1 (the table's rules, inlined)
            for w, x in zip(a, b):
                if x.__class__ is Value:
                    w.grad += g * x.data
                    x.grad += g * w.data
                else:
                    w.grad += g * x
            a[-1].grad += g
            if check:
                for p in node.parents:
                    if p.__class__ is Value:
                        _check_backward(node, p, p.grad)
        else:  # binary: out = f(x, y); a constant side (a float) gets no gradient
            da, db = op.backprop
            if da.__class__ is not float or db.__class__ is not float:
                args = (a.data if a.__class__ is Value else a, b.data if b.__class__ is Value else b, node.data)
                try:
                    if da.__class__ is int:
                        da = args[da]
                    elif da.__class__ is not float and a.__class__ is Value:
                        da = da(*args)
                    if db.__class__ is int:
                        db = args[db]
                    elif db.__class__ is not float and b.__class__ is Value:
                        db = db(*args)
                except _ARITH_ERRORS:
                    da, db = (_ieee(partial, rule, *args) for rule in op.partials)
            if a.__class__ is Value:
                a.grad += g * da
                if check:
                    _check_backward(node, a, g * da)
            if b.__class__ is Value:
                b.grad += g * db
                if check:
                    _check_backward(node, b, g * db)


def _graph_gradients(order: list[Value], seed) -> dict[Value, Value]:
    """∂root/∂node for every node of ``order`` (root first) as Values: each rule of
    the table is evaluated on the graph's own nodes, so the result is itself a
    graph that can be differentiated again."""
    grads: dict[Value, Value] = {order[0]: seed if seed.__class__ is Value else Value(seed)}

    def add(p, contribution):
        if p.__class__ is Value:
            old = grads.get(p)
            grads[p] = contribution if old is None else old + contribution

    def times(g, d):  # g·d, without a node for d = ±1 (smaller gradient graphs)
        return g if d.__class__ is float and d == 1.0 else -g if d.__class__ is float and d == -1.0 else g * d

    for node in order:
        op = node._op
        g = grads.get(node)
        if op is None or g is None:
            continue
        parents = node.parents
        if op is _LINEAR:
            n = (len(parents) - 1) // 2
            for w, x in zip(parents[:n], parents[n:-1]):
                add(w, times(g, partial(op.partials[0], w, x)))
                add(x, times(g, partial(op.partials[1], w, x)))
            add(parents[-1], times(g, op.partials[2]))
            continue
        for p, rule in zip(parents, op.partials):
            if p.__class__ is Value:
                try:
                    d = partial(rule, *parents, node)
                except _ARITH_ERRORS:  # a rule on constants only, e.g. 1/y for x / 0.0
                    d = _ieee(partial, rule, *parents, node)
                add(p, times(g, d))
    return grads


def gradients(output: Value, inputs: Sequence[Value], *, create_graph: bool = False) -> list:
    """∂output/∂input for each input, like ``torch.autograd.grad``: nothing's
    ``.grad`` is touched.  With ``create_graph=True`` the results are Values
    that can be differentiated again; otherwise floats."""
    if output.__class__ is not Value:
        raise TypeError(f"gradients() needs a Value output, got {type(output).__name__}")
    order = topological_order(output)
    if create_graph:
        grads = _graph_gradients(order, 1.0)
        return [grads.get(x, Value(0.0)) if x.__class__ is Value else _type_error(x) for x in inputs]
    for x in inputs:
        if x.__class__ is not Value:
            _type_error(x)
    nodes = list(dict.fromkeys([*order, *inputs]))
    saved = [node.grad for node in nodes]
    try:
        for node in nodes:
            node.grad = 0.0
        _backward(output, 1.0, False)
        return [x.grad for x in inputs]
    finally:
        for node, g in zip(nodes, saved):
            node.grad = g


def _type_error(x):
    raise TypeError(f"gradients() takes Values as inputs, got {type(x).__name__}")


# SHIM for issue-13 branch: replaced by issue 11's backprop at merge
def backprop(root: Value, seed: Any = 1.0, *, create_graph: bool = False,
             observe: Callable | None = None) -> dict:
    """∂root/∂node for every Value node reached from ``root`` (pure: no ``.grad``
    is read or written).  ``observe(node, index, input, local, upstream,
    contribution, total)`` is called once per contribution, in backprop order."""
    if root.__class__ is not Value:
        raise TypeError(f"backprop() needs a Value, got {type(root).__name__}")
    if create_graph:
        if observe is not None:
            raise NotImplementedError("the issue-13 shim observes the float backward only")
        return _graph_gradients(topological_order(root), seed)
    seed = _number(seed, "backprop(seed=...)")
    grads: dict = {root: seed}
    for node in topological_order(root):  # newest first, as _backward's _ops_newest_first
        op = node._op
        if op is None:
            continue
        g = grads[node]
        parents = node.parents
        if op is _LINEAR:
            n = (len(parents) - 1) // 2  # w0, x0, w1, x1, …, b: the order _backward adds them in
            for i in [j for k in range(n) for j in (k, n + k)] + [2 * n]:
                p = parents[i]
                if p.__class__ is not Value:
                    continue
                if i == 2 * n:
                    local = 1.0
                else:
                    other = parents[i + n] if i < n else parents[i - n]
                    local = other.data if other.__class__ is Value else other
                contribution = g * local
                old = grads.get(p)
                total = (0.0 if old is None else old) + contribution
                grads[p] = total
                if observe is not None:
                    observe(node, i, p, local, g, contribution, total)
            continue
        args = (*(p.data if p.__class__ is Value else p for p in parents), node.data)
        for i, (p, rule) in enumerate(zip(parents, op.partials)):
            if p.__class__ is not Value:
                continue
            try:
                local = partial(rule, *args)
            except _ARITH_ERRORS:
                local = _ieee(partial, rule, *args)
            contribution = g * local
            old = grads.get(p)
            total = (0.0 if old is None else old) + contribution
            grads[p] = total
            if observe is not None:
                observe(node, i, p, local, g, contribution, total)
    return grads
