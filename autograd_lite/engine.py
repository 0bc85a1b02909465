"""The scalar autodiff engine: the derivative table, `Value`, and backpropagation.

Read it top to bottom:

1. *The table* -- every primitive's forward function and, for each input, its
   local derivative ∂out/∂input, stated once like calculus.  The same
   statement is evaluated on floats (backprop), on Values (``create_graph=True``:
   derivatives of derivatives) and on numpy arrays (`autograd_lite.vectorize`).
2. *Value* -- a node: its number, its gradient, its op and its parents.
   Parents and the op are stored on the node (no closures), so a graph holds no
   reference cycles and is freed the moment its last reference goes.  Each
   operator is made from its row of the table; x + y and x·y of two Values,
   most of the nodes of any graph, are also written out (`_add`, `_mul`).
3. *Backprop* -- `backprop`: the chain rule in reverse topological order,
   accumulating ∂root/∂node into a dict it returns; pure (it reads and writes
   no ``.grad``), so threads can share a model.  ``backward()`` writes the
   result into the nodes.  `_backprop_floats` is the same pass on floats,
   specialised for speed (and tested to give the same numbers).

The number functions (IEEE-754 results on floats and arrays: ``exp(1000) = inf``,
never ``OverflowError``) live in `autograd_lite.kernels`.
"""

from __future__ import annotations

import copy
import itertools
import math
import operator
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from autograd_lite import kernels as K
from autograd_lite.kernels import ARITH_ERRORS, ieee

__all__ = [
    "Value", "Op", "OPS", "AnomalyError", "detect_anomaly", "TracingError",
    "exp", "log", "sigmoid", "tanh", "relu", "sqrt", "sin", "cos", "linear",
    "topological_order", "derivative_table", "gradients", "backprop", "partial",
]

_ieee = ieee  # the old private name, still imported by autograd_lite.expr


# ==========================================================================
# 1. The derivative table
# ==========================================================================
#
# A rule is evaluated on the op's inputs followed by its output: rule(x, out) for
# a unary op, rule(x, y, out) for a binary one.  It is one of:
#   a number c        ∂out/∂input = c                       (contribution g·c)
#   X, Y or OUT       ∂out/∂input *is* that input/the output (contribution g·it)
#   Over(f)           ∂out/∂input = 1/f(...)                (contribution g/f, as PyTorch divides)
#   Mask(cond)        ∂out/∂input = 1 where cond else 0     (contribution g or 0, even if g is inf/nan)
#   Mask(cond, f)     ∂out/∂input = f(...) where cond else 0 (contribution g·f or 0, as PyTorch's where)
#   a function f      ∂out/∂input = f(...)                   (contribution g·f)


class Arg:
    """A rule that is simply one of its arguments: ∂(xy)/∂x = Y, (eˣ)' = OUT."""

    __slots__ = ("index", "name")

    def __init__(self, index: int, name: str) -> None:
        self.index, self.name = index, name

    def __repr__(self) -> str:
        return self.name


X, Y, OUT = Arg(0, "x"), Arg(1, "y"), Arg(-1, "out")


class Over:
    """∂out/∂input = 1 / ``by``: backprop divides the upstream gradient by ``by``."""

    __slots__ = ("by",)

    def __init__(self, by: Arg | Callable) -> None:
        self.by = by


class Mask:
    """∂out/∂input = ``then`` (1 if not given) where ``cond`` else exactly 0: backprop
    passes g·then or 0, so an inf or nan upstream gradient stays out where cond fails."""

    __slots__ = ("cond", "then")

    def __init__(self, cond: Callable, then: Callable | None = None) -> None:
        self.cond, self.then = cond, then


class Op:
    """A primitive: ``forward`` on numbers/arrays and one local-derivative rule per
    input in ``partials`` (see the table); ``formula`` states the same in math.
    Ops are singletons named in `OPS`: copies and pickles refer to them by name."""

    __slots__ = ("name", "symbol", "forward", "partials", "formula")

    def __init__(self, name: str, symbol: str, forward: Callable, partials: Sequence, formula: str) -> None:
        self.name, self.symbol, self.forward = name, symbol, forward
        self.partials, self.formula = tuple(partials), formula

    @property
    def arity(self) -> int:
        return len(self.partials)

    def __repr__(self) -> str:
        return f"Op({self.name!r}: {self.formula})"

    def __reduce__(self) -> tuple:
        return _op_named, (self.name,)

    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict) -> Op:
        return self


def _op_named(name: str) -> Op:
    return OPS[name]


OPS: dict[str, Op] = {}


def _defop(name: str, symbol: str, forward: Callable, *partials: Any, formula: str) -> Op:
    op = OPS[name] = Op(name, symbol, forward, partials, formula)
    return op


def _exponent_not_zero(x, y, out):
    """Where ∂xʸ/∂x is not simply 0: y ≠ 0 (x⁰ = 1 for every x)."""
    return _data(y) != 0


def _dpow_dx(x, y, out):
    """y·xʸ⁻¹.  Where a Value exponent is 0 (create_graph) it is written (y·xʸ)/x:
    also 0, but its derivative with respect to y, 1/x, survives in the gradient's graph."""
    if y.__class__ is Value and y.data == 0 and _data(x) != 0 and math.isfinite(_data(x)):
        return (y * x ** y) / x
    if x.__class__ is Value or y.__class__ is Value:
        return y * x ** (y - 1)
    if x.__class__ is float and y.__class__ is float:  # K.power is IEEE on floats: nothing to quiet
        return y * K.power(x, y - 1)
    with K.quiet():
        return y * K.power(x, y - 1)


def _dpow_dy(x, y, out):
    """xʸ·ln x, and 0 where x = 0 ≤ y (0ʸ is 0 or 1 there whatever y; PyTorch zeroes the
    local derivative, not the product: an inf upstream gradient still gives nan here)."""
    xd, yd = _data(x), _data(y)
    if isinstance(xd, K.NDARRAY) or isinstance(yd, K.NDARRAY):
        with K.quiet():
            return K.where((xd == 0) & (yd >= 0), 0.0, _data(out) * K.log(xd))
    return 0.0 if (xd == 0 and yd >= 0) else out * log(x)


#       name       symbol  forward            ∂out/∂x (and ∂out/∂y)
_defop("add",     "+",    operator.add,      1.0, 1.0,
       formula="∂(x+y)/∂x = 1,  ∂(x+y)/∂y = 1")
_defop("sub",     "−",    operator.sub,      1.0, -1.0,
       formula="∂(x−y)/∂x = 1,  ∂(x−y)/∂y = −1")
_defop("mul",     "×",    operator.mul,      Y, X,
       formula="∂(xy)/∂x = y,  ∂(xy)/∂y = x")
_defop("div",     "÷",    operator.truediv,  Over(Y), lambda x, y, out: -(out / y),
       formula="∂(x/y)/∂x = 1/y,  ∂(x/y)/∂y = −x/y²")
_defop("pow",     "**",   K.power,           Mask(_exponent_not_zero, _dpow_dx), _dpow_dy,
       formula="∂xʸ/∂x = y·xʸ⁻¹,  ∂xʸ/∂y = xʸ·ln x  (0 where y = 0, resp. x = 0 ≤ y, as PyTorch)")
_defop("neg",     "−",    operator.neg,      -1.0,
       formula="(−x)' = −1")
_defop("exp",     "exp",  K.exp,             OUT,
       formula="(eˣ)' = eˣ")
_defop("log",     "log",  K.log,             Over(X),
       formula="(ln x)' = 1/x")
_defop("sigmoid", "σ",    K.sigmoid,         lambda x, out: out * (1.0 - out),
       formula="σ'(x) = σ(x)(1 − σ(x))")
_defop("tanh",    "tanh", K.tanh,            lambda x, out: 1.0 - out * out,
       formula="tanh'(x) = 1 − tanh²(x)")
_defop("relu",    "relu", K.relu,            Mask(lambda x, out: K.not_at_most_zero(x)),
       formula="relu'(x) = 0 if x ≤ 0 else 1")
_defop("sqrt",    "√",    K.sqrt,            Over(lambda x, out: 2.0 * out),
       formula="(√x)' = 1/(2√x)")
_defop("abs",     "abs",  abs,               lambda x, out: K.sign(_data(x)),
       formula="|x|' = sign(x)")
_defop("sin",     "sin",  K.sin,             lambda x, out: cos(x),
       formula="sin'(x) = cos(x)")
_defop("cos",     "cos",  K.cos,             lambda x, out: -sin(x),
       formula="cos'(x) = −sin(x)")
# The fused neuron w·x + b (n inputs) used by `autograd_lite.nn`: one node instead
# of 2n, with the same gradients.  Its rules take one pair (wᵢ, xᵢ); b's is 1.
_ADD, _MUL = OPS["add"], OPS["mul"]  # written out in `Value.__add__`, `__mul__` and `_float_pass`
_LINEAR = _defop("linear", "w·x+b", lambda ws, xs, b: sum(map(operator.mul, ws, xs), b),
                 Arg(1, "xᵢ"), Arg(0, "wᵢ"), 1.0,
                 formula="∂(w·x+b)/∂wᵢ = xᵢ,  ∂(w·x+b)/∂xᵢ = wᵢ,  ∂(w·x+b)/∂b = 1")


def partial(rule: Any, *args: Any) -> Any:
    """The local derivative a rule of the table states, at ``args`` (inputs, then out).
    Works on floats, Values and numpy arrays alike (floats may raise: see `kernels.ieee`)."""
    kind = rule.__class__
    if kind is float:
        return rule
    if kind is Arg:
        return args[rule.index]
    if kind is Over:
        return 1.0 / partial(rule.by, *args)
    if kind is Mask:
        cond = rule.cond(*args)
        then = 1.0 if rule.then is None else rule.then(*args)
        if isinstance(cond, K.NDARRAY):
            return K.where(cond, _data(then), 0.0)
        return then if cond else 0.0
    return rule(*args)


def contribution(rule: Any, g: Any, *args: Any) -> Any:
    """The chain rule at one input: the upstream gradient ``g`` times the local
    derivative (divided by it for `Over`, passed or zeroed for `Mask`).  On floats,
    Values (``create_graph``: ±1 and masks add no node) and arrays."""
    kind = rule.__class__
    if kind is float:
        return g if rule == 1.0 else -g if rule == -1.0 else g * rule
    if kind is Arg:
        return g * args[rule.index]
    if kind is Over:
        return g / partial(rule.by, *args)
    if kind is Mask:
        cond = rule.cond(*args)
        if isinstance(cond, K.NDARRAY) or isinstance(g, K.NDARRAY):  # vectorize: elementwise
            if rule.then is None:
                return K.where(cond, g, 0.0)
            with K.quiet():
                return K.where(cond, g * _data(rule.then(*args)), 0.0)
        if cond:
            return g if rule.then is None else g * rule.then(*args)
        if g.__class__ is not Value:
            return 0.0
        if rule.then is not None and math.isfinite(g.data):  # create_graph: the rule may be a zero whose
            d = rule.then(*args)                               # derivative is not (∂²xʸ/∂x∂y = 1/x at y = 0)
            if d.__class__ is Value and d.data == 0:
                return g * d
        return Value(0.0)
    return g * rule(*args)


def derivative_table() -> str:
    """The derivative table as Markdown, generated from `OPS` (a ``str`` that Jupyter
    renders as a table)."""
    from autograd_lite.text import Markdown

    rows = ["| op | symbol | derivative |", "|---|---|---|"]
    rows += ["| `{}` | {} | {} |".format(op.name, op.symbol, op.formula.replace("|", "\\|")) for op in OPS.values()]
    return Markdown("\n".join(rows))


# ==========================================================================
# Anomaly detection and tracing
# ==========================================================================


class AnomalyError(FloatingPointError):
    """A nan (or an inf from finite inputs) appeared inside `detect_anomaly`."""


# detect_anomaly is a `with` block, so it is on for the code inside the block only:
# a context variable (per thread, per asyncio task), not one process-wide switch that
# another thread's block would turn on or leave on.  Reading it costs a call, so the op
# methods first read the plain flag `_watch`, which is on while any block in any thread
# is open (`_anomaly_blocks`) or a trace runs; only then do they ask the variable.
_anomaly: ContextVar[bool] = ContextVar("autograd_lite.detect_anomaly", default=False)
_anomaly_blocks = 0  # detect_anomaly blocks open, in any thread
_traces = 0  # traces running (vectorize), in any thread
_watch = False  # either of them: new nodes take the careful path (`_watched_node`); read once per node
_watch_lock = threading.Lock()  # two threads starting or ending a block or trace must not lose a count


def _set_watch() -> None:
    """One flag for the op methods to read, so that checking costs nothing when off."""
    global _watch
    _watch = _anomaly_blocks > 0 or _traces > 0
    # x + y and x·y take their written-out fast path (`_add`, `_mul`) only while nothing
    # is watched; otherwise the table's general methods, which check and trace
    Value.__add__, Value.__mul__ = (_add_any, _mul_any) if _watch else (_add, _mul)  # type: ignore[method-assign]


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside this block, the first op whose forward value or backward gradient
    is nan (or inf although its inputs were finite) raises `AnomalyError`.
    The block holds for its own thread (and context) only, as a ``with`` block
    should: other threads are not checked unless they open a block of their own."""
    global _anomaly_blocks
    token = _anomaly.set(True)
    with _watch_lock:
        _anomaly_blocks += 1
        _set_watch()
    try:
        yield
    finally:
        try:
            _anomaly.reset(token)  # back to what it was before this block (nested blocks)
        except ValueError:  # it ends in another context than it began (a generator resumed elsewhere):
            pass  # this block never set this context's value, so it leaves it as it is
        with _watch_lock:
            _anomaly_blocks -= 1
            _set_watch()


def _describe(x: Any) -> str:
    if x.__class__ is Value:
        return f"{x.label or 'unlabelled'}={x.data!r}"
    return f"constant {x!r}"


def _bad(result: Any, inputs: Sequence) -> bool:
    if result.__class__ is Value:
        return False
    if math.isnan(result):
        return True
    return math.isinf(result) and all(math.isfinite(v) for v in inputs)


def _check_forward(op: Op, parents: Sequence, out: float) -> None:
    if _bad(out, [_data(p) for p in parents]):
        args = ", ".join(_describe(p) for p in parents)
        raise AnomalyError(f"forward of {op.name}({args}) gave {out!r}")


def _check_backward(node: Value, upstream: Any, parent: Value, c: Any) -> None:
    if _bad(c, [_data(upstream), node.data, parent.data]):
        name = node.op.name if node.op else "a leaf"
        raise AnomalyError(f"backward of {name} (output {_describe(node)}, grad {upstream!r}) "
                           f"gave gradient {c!r} for input {_describe(parent)}")


class TracingError(TypeError):
    """Python control flow that depends on a traced value: the graph is not static."""


_TRACING_MESSAGE = (
    "vectorize: the number of a traced Value was used (x > 0, bool(x), x.data, float(x)): data-dependent "
    "Python control flow can't be vectorized, because the graph is recorded once and replayed for every "
    "example. Write it with ops instead: relu(x) for max(x, 0), abs(x), b + relu(a - b) for max(a, b), "
    "or a where-style blend s*a + (1 - s)*b with s = sigmoid(k*x).")
_ENDED_MESSAGE = ("vectorize: this Value was traced by a vectorize call that has ended, so it has no number; "
                  "keep traced values inside the traced function")
_MIXED_MESSAGE = ("vectorize: values traced by two different vectorize calls meet in one op; pass the outer "
                  "value to the inner function as an argument")


class _Trace:
    """One run of `vectorize` tracing a function, and the number of every Value it
    traces: a traced node has none yet, so its ``data`` is this object, and any use
    of it (``x > 0``, ``x.data * 2``, ``float(x)``) raises `TracingError`.

    While a trace runs, a node with a traced input gets this ``data`` too (no
    number is computed) and is appended to ``nodes`` (in `_binary_method` and
    `_watched_node`): the traced graph in creation order, producers first, ready
    to become a tape.  Each trace records its own nodes, so concurrent traces are
    independent.  While any trace runs, every thread's new nodes take the careful
    path: a little slower, the same numbers."""

    __slots__ = ("nodes", "live")

    def __init__(self) -> None:
        self.nodes: list[Value] = []
        self.live = True

    def leaf(self, label: str) -> Value:
        """A placeholder: a leaf whose number is not known."""
        v = Value(0.0, label)
        v.data = self  # type: ignore[assignment]  # the one place data is not a float
        return v

    def _refuse(self, *args: Any, **kw: Any) -> Any:
        raise TracingError(_TRACING_MESSAGE if self.live else _ENDED_MESSAGE)

    __bool__ = __float__ = __int__ = __index__ = __format__ = __round__ = __array__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = _refuse
    __str__ = __repr__ = _refuse  # str(x.data) == "nan" would pick a branch too
    __reduce__ = __reduce_ex__ = _refuse  # pickle/copy of a traced graph: no numbers to save
    __hash__ = None  # type: ignore[assignment]

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(x.data, float) asks this: refuse (the engine uses type())
        self._refuse()
        raise AssertionError  # unreachable: _refuse raises


@contextmanager
def tracing() -> Iterator[_Trace]:
    """Trace a function (`autograd_lite.vectorize`): ``with tracing() as t:`` make
    placeholders with ``t.leaf(name)``, call the function on them; ``t.nodes`` is then
    every node built from them, in creation order."""
    global _traces
    trace = _Trace()
    with _watch_lock:
        _traces += 1
        _set_watch()
    try:
        yield trace
    except BaseException:
        trace.nodes.clear()  # the nodes refer to the trace (their data): leave no cycle behind
        raise
    finally:
        trace.live = False
        with _watch_lock:
            _traces -= 1
            _set_watch()


def _trace_in(args: Sequence) -> _Trace | None:
    """The trace that an op's forward arguments come from (None: all numbers)."""
    found = None
    for x in args:
        if type(x) is list:  # linear's weights and inputs
            x = _trace_in(x)
        if type(x) is _Trace and x is not found:
            if not x.live:
                x._refuse()
            if found is not None:
                raise TracingError(_MIXED_MESSAGE)
            found = x
    return found


def _watched_node(op: Op, a: Any, b: Any, args: tuple) -> Value:
    """A new node ``op(a, b)`` from its forward arguments ``args``, built the careful
    way (while `detect_anomaly` is on or `vectorize` traces): check its value for
    anomalies; or, if an input is traced, trace it (no number) and record it on its
    trace.  (``x * w`` and ``x + w`` trace inline, in `_binary_method`.)"""
    trace = _trace_in(args)
    if trace is None:
        out = _node(op, a, b, _forward(op, *args))
        if _anomaly.get():
            _check_forward(op, out.parents, out.data)
        return out
    out = _node(op, a, b, trace)
    trace.nodes.append(out)
    return out


# ==========================================================================
# 2. Value
# ==========================================================================

_creation = itertools.count()  # next(_creation): a node's creation number, always above its parents'
# (next(counter), a plain builtin call, is cheaper than calling count().__next__, a wrapper)
_NUMBER_TYPES = K.REAL  # numbers.Real, and numpy's bool where numpy is installed
_new = object.__new__


def _number(x: Any, what: str = "Value()") -> float:
    """``x`` as a float (an int too large for a float is ±inf, as IEEE), or TypeError."""
    if x.__class__ is float:
        return x
    if isinstance(x, _NUMBER_TYPES) or K.is_real_0d_array(x):
        try:
            return float(x)
        except OverflowError:  # 10**400: beyond the largest float, so ±inf as IEEE rounding gives
            return math.inf if x > 0 else -math.inf  # type: ignore[operator]  # typeshed: int < Real
    if type(x) is _Trace:
        x._refuse()
    raise TypeError(f"{what} takes a real number (int, float, bool or numpy scalar), "
                    f"not {type(x).__name__}: {x!r:.60}")


def _data(x: Any) -> Any:
    """The number inside a Value, or x itself (a number or an array)."""
    return x.data if x.__class__ is Value else x


# Freeing a graph.  A node holds its parents, so when the last reference to a
# graph's root goes, freeing the root frees its parents, which free theirs...:
# one nested C call per node of the longest path.  A chain of a million nodes
# would need a deep C stack: Pyodide's overflows at ~5,000 nodes.  CPython up to
# 3.12 defers the deeper frees itself (its "trashcan", 50 levels deep); from
# 3.13 it does so only near its C recursion limit.  There (and in Pyodide),
# `Value.__del__` parks a dying node's parents in `_parked` instead, and only the
# outermost __del__ lets go of them, one at a time: any graph is freed node by
# node, at a constant depth (about 110 ns more per node freed).
_PARK_PARENTS = sys.version_info >= (3, 13) or sys.platform == "emscripten"
_parked: list = []  # the parents of dying nodes, waiting to be let go
_freeing = [False]  # a __del__ is letting go of `_parked` (in some thread)


def _park_parents(node: Value, _park: Callable = _parked.append, _freeing: list = _freeing) -> None:
    """`Value.__del__`: while a __del__ further up is letting go, park ``node``'s parents
    (they outlive its slots: freeing it frees no parent); otherwise let go of them."""
    if _freeing[0]:
        _park((node._a, node._b))
    elif node._a is not None:
        _park((node._a, node._b))
        node._a = node._b = None  # the parents now live on in `_parked` only
        _freeing[0] = True
        try:
            while _parked:
                del _parked[-1]  # may free a node, whose __del__ parks its own parents
        finally:
            _freeing[0] = False


_FLOAT_MESSAGE = ("float() of a Value would cut the graph (math.exp(v) is a constant to backprop): "
                  "use v.exp() or autograd_lite.exp(v) to stay in the graph, v.data or v.item() for the number")


class Value:
    """A scalar node in a computational graph: ``data``, ``grad`` = ∂L/∂(this)
    after ``L.backward()`` (None or 0 before), an optional ``label``, and the op and
    parents that made it (none for a leaf: an input, a weight or a constant).

    Comparisons (``==``, ``<``, ...) compare the numbers, with Values or numbers;
    hashing is by identity (a node is a vertex), as in PyTorch.  ``float(v)``
    raises TypeError: use ``v.item()`` for the number, ``v.exp()`` to stay in the
    graph; ``f"{v:.3f}"`` and ``round(v, 2)`` format the number."""

    # __slots__: no per-node __dict__, so a node costs about 150 bytes.  For the
    # fused linear node, _a = (*ws, b) and _b = xs; otherwise the op's inputs.
    # _sum is backprop's scratch (see `_backprop_floats`): None outside a pass.
    # _label (see `label`) stays empty until the node is named: a store less per op.
    __slots__ = ("data", "grad", "_label", "_op", "_a", "_b", "_id", "_sum")
    data: float  # the number (its `_Trace` while `vectorize` traces it)
    grad: Any  # ∂L/∂(this): a float, a Value (create_graph=True) or None
    _label: str | None
    _op: Op | None
    _a: Any  # a Value, a float constant or (for linear) a tuple; None for a leaf
    _b: Any
    _id: int
    _sum: Any

    if TYPE_CHECKING:
        # installed by setattr from the table after the class; declared here for type checkers and editors
        def __add__(self, other: Value | float) -> Value: ...
        def __radd__(self, other: Value | float) -> Value: ...
        def __sub__(self, other: Value | float) -> Value: ...
        def __rsub__(self, other: Value | float) -> Value: ...
        def __mul__(self, other: Value | float) -> Value: ...
        def __rmul__(self, other: Value | float) -> Value: ...
        def __truediv__(self, other: Value | float) -> Value: ...
        def __rtruediv__(self, other: Value | float) -> Value: ...
        def __pow__(self, other: Value | float) -> Value: ...
        def __rpow__(self, other: Value | float) -> Value: ...
        def __neg__(self) -> Value: ...
        def __abs__(self) -> Value: ...
        def __eq__(self, other: object) -> bool: ...
        def __ne__(self, other: object) -> bool: ...
        def __lt__(self, other: Value | float) -> bool: ...
        def __le__(self, other: Value | float) -> bool: ...
        def __gt__(self, other: Value | float) -> bool: ...
        def __ge__(self, other: Value | float) -> bool: ...
        def exp(self) -> Value: ...
        def log(self) -> Value: ...
        def sigmoid(self) -> Value: ...
        def tanh(self) -> Value: ...
        def relu(self) -> Value: ...
        def sqrt(self) -> Value: ...
        def abs(self) -> Value: ...
        def sin(self) -> Value: ...
        def cos(self) -> Value: ...

    def __init__(self, data: Any, label: str | None = None) -> None:
        self.data = data if data.__class__ is float else _number(data)  # (a float needs no check)
        self.grad = 0.0
        if label is not None:
            self.label = label
        self._op = None
        self._a = self._b = None
        self._id = next(_creation)
        self._sum = None

    if _PARK_PARENTS:  # see `_parked`
        __del__ = _park_parents

    def __repr__(self) -> str:
        grad = self.grad.data if self.grad.__class__ is Value else self.grad
        grad = "None" if grad is None else format(grad, ".4g")
        if type(self.data) is _Trace:  # `if "nan" in repr(x)` would pick a branch: refuse, as for x > 0
            self.data._refuse()
        data = format(self.data, ".4g")
        label = f", label={self.label!r}" if self.label is not None else ""
        return f"Value({data}, grad={grad}{label})"

    @property
    def label(self) -> str | None:
        """The node's name in pictures, ledgers and messages (None: it has none)."""
        return getattr(self, "_label", None)  # an empty slot: never named

    @label.setter
    def label(self, name: str | None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"label must be a str, not {type(name).__name__}")
        self._label = name

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
        return () if a is None else (a,) if b is None else (a, b)

    def is_leaf(self) -> bool:
        return self._op is None

    def item(self) -> float:
        """The number (PyTorch's ``tensor.item()``); the same as ``.data``."""
        return _number(self.data)

    def __float__(self) -> float:
        """Refused (TypeError): ``math.exp(v)`` would silently cut the graph."""
        if type(self.data) is _Trace:
            self.data._refuse()
        raise TypeError(_FLOAT_MESSAGE)

    def __format__(self, spec: str) -> str:
        """``f"{v:.3f}"`` formats the number; ``f"{v}"`` is the repr."""
        return format(self.data, spec) if spec else repr(self)

    def __round__(self, ndigits: int | None = None) -> Any:
        """``round(v, 2)``: the number, rounded."""
        return round(self.data, ndigits)

    def __bool__(self) -> bool:
        """True unless the number is 0."""
        return bool(self.data)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy's arithmetic on a Value (``np.float64(2) * v``) is the Value's operator;
        any other ufunc (``np.exp(v)``) would cut the graph and raises TypeError."""
        op = _UFUNC_OPERATORS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if op is None:
            name = ufunc.__name__
            if name in _UFUNC_OPERATORS:  # np.add(v, w, dtype=...), np.add.outer(v, w): no method named add
                fix = "the operator itself (v + w, v * w, -v, abs(v)), without keywords or ufunc methods"
            else:
                fix = f"v.{name}() or autograd_lite.{name}(v)" if hasattr(Value, name) else "the Value's own methods"
            raise TypeError(f"numpy's {name} can't take a Value (it would cut the graph): use {fix}")
        args = []
        for x in inputs:
            if x.__class__ is not Value:
                if isinstance(x, K.NDARRAY) and x.ndim:  # numpy would only say "returned NotImplemented"
                    sym = {"add": "+", "subtract": "-", "divide": "/", "true_divide": "/", "power": "**"}.get(
                        ufunc.__name__, "*")
                    raise TypeError(
                        f"numpy's {ufunc.__name__} can't combine an array of shape {x.shape} with a Value: a "
                        f"Value is one number of a graph. Apply it to each element, e.g. [a {sym} v for a in "
                        f"arr.tolist()], or use autograd_lite.vectorize for array-shaped work")
                x = _number(x, f"numpy's {ufunc.__name__}")
            args.append(x)
        return op(*args)

    def __pos__(self) -> Value:
        return self

    def backward(self, grad: float = 1.0, *, create_graph: bool = False) -> None:
        """Backpropagate from this node: seed ∂L/∂L = ``grad`` (1 by default) and
        apply the chain rule in reverse topological order (see `backprop`).

        Leaves (inputs, weights) *accumulate* into ``.grad`` across calls, as in
        PyTorch: call `zero_grad` (or ``model.zero_grad()``) between steps; a leaf
        whose ``.grad`` is None (PyTorch 2's ``zero_grad``) has none yet and gets
        this pass's.  An intermediate node's ``.grad`` holds ∂L/∂node from the
        latest backward.  With ``create_graph=True`` the gradients are Values in a
        new graph, so they can be differentiated again (``g.backward()``).
        """
        if not create_graph:
            seed = _number(grad, "backward(grad=...)")
            if not _anomaly.get():
                _backprop_floats(self, seed, write=True)
                return
            for node, g in backprop(self, seed).items():  # anomaly mode: the sweep that checks each step
                old = node.grad  # (a leaf accumulates, as in the float pass)
                node.grad = g if node._op is not None or old is None else old + g
            return
        for node, total in backprop(self, grad, create_graph=True).items():
            old = node.grad  # a leaf's 0.0 is replaced, not added to: no node for 0 + g
            if node._op is not None or old is None or (old.__class__ is float and old == 0.0):
                node.grad = total
            else:
                node.grad = old + total

    def zero_grad(self) -> None:
        """Set ``.grad = 0`` on every node of the graph that ends here."""
        for node in topological_order(self):
            node.grad = 0.0

    def draw(self, **kw: Any) -> Any:
        """Draw the graph that ends here (see `autograd_lite.viz.draw_graph`)."""
        from autograd_lite.viz import draw_graph

        return draw_graph(self, **kw)

    def __copy__(self) -> Value:
        """A new node with the same number, gradient, label, op and parents."""
        twin = Value.__new__(Value)
        twin.data, twin.grad, twin.label, twin._op, twin._a, twin._b = \
            self.data, self.grad, self.label, self._op, self._a, self._b
        twin._id, twin._sum = next(_creation), None
        return twin

    def __deepcopy__(self, memo: dict) -> Value:
        """A copy of the whole graph behind this node, without recursion (any depth);
        nodes already copied under the same ``memo`` are shared, ops are not copied."""
        for node in reversed(topological_order(self)):  # producers first
            if id(node) in memo:
                continue
            twin = Value.__new__(Value)
            twin.data, twin.label, twin._op = node.data, node.label, node._op
            twin._id, twin._sum = next(_creation), None
            twin._a, twin._b = _map_parents(node._a, memo), _map_parents(node._b, memo)
            memo[id(node)] = twin
            twin.grad = copy.deepcopy(node.grad, memo)
        return memo[id(self)]

    def __reduce__(self) -> tuple:
        """Pickle this node by its number, gradient (as a number), label, op name and
        parents.  Nodes pickled in one call keep their sharing, as with `copy.deepcopy`
        (pickle's memo sees each node once), and no recursion happens (any depth):
        the first node pickled lists the not yet pickled nodes behind it, producers
        first, so that each node's parents are pickled before it (`_PickleSession`)."""
        if self.data.__class__ is _Trace:
            self.data._refuse()
        grad = self.grad.data if self.grad.__class__ is Value else self.grad
        return _unpickle_node, (_PickleSession.before(self), self.data, grad, self.label,
                                None if self._op is None else self._op.name, self._a, self._b)


def _comparison(compare: Callable, symbol: str) -> Callable:
    def method(self: Value, other: Any) -> Any:
        other = _comparable(other)
        return NotImplemented if other is NotImplemented else compare(self.data, other)

    method.__name__ = f"__{compare.__name__}__"
    method.__doc__ = f"self {symbol} other: compares the numbers (of a Value or a number)"
    return method


# Comparisons compare numbers, but a node hashes by identity (it is a graph vertex:
# sets and dicts of nodes).  They are set after the class is made: an __eq__ in its
# body would make Python route hash() through a slower Python-level __hash__, and
# backprop's dict lookups hash every node.
for _compare, _symbol in ((operator.eq, "=="), (operator.ne, "!="), (operator.lt, "<"), (operator.le, "<="),
                          (operator.gt, ">"), (operator.ge, ">=")):
    setattr(Value, f"__{_compare.__name__}__", _comparison(_compare, _symbol))


def _comparable(x: Any) -> Any:
    """The number to compare a Value with (NotImplemented for a non-number)."""
    if x.__class__ is Value:
        return x.data
    if x.__class__ is float or isinstance(x, _NUMBER_TYPES):
        return x
    return NotImplemented


def _map_parents(p: Any, memo: dict) -> Any:
    if p.__class__ is Value:
        return memo[id(p)]
    if p.__class__ is tuple:
        return tuple(memo[id(q)] if q.__class__ is Value else q for q in p)
    return p


class _PickleSession:
    """The nodes one pickling call has already seen, so that `Value.__reduce__` lists
    a node's unpickled ancestors (producers first) once, not once per node: a list of
    n chained Values pickles in linear time and size, with no recursion.

    How a call is told from the next: the first node to list ancestors makes a
    session and puts it among its pickled arguments.  The pickler keeps everything
    it has pickled (its memo) until the call ends, so the session lives exactly that
    long; a dead session means a new call.  (A Pickler kept alive for two ``dump``
    calls keeps its memo too, so it rightly stays one session.)  Knowing the session
    only saves work: a node that another call marked as seen is still pickled
    correctly when met, as its own number, op and parents."""

    __slots__ = ("__weakref__",)
    _local = threading.local()  # per thread: two threads pickling at once are two calls

    def __reduce__(self) -> tuple:
        return type(None), ()  # nothing to restore

    @classmethod
    def before(cls, node: Value) -> tuple:
        """The session and the nodes behind ``node`` that this call has not listed
        yet, producers first (none for a node that an earlier node listed)."""
        local = cls._local
        ref = getattr(local, "ref", None)
        session = None if ref is None else ref()
        if session is None:  # the last call has ended: start afresh
            session, local.seen = cls(), set()
            local.ref = weakref.ref(session)
        seen: set[int] = local.seen
        if id(node) in seen:
            return None, ()  # listed before it: its parents are pickled already
        seen.add(id(node))
        found: list[Value] = []
        stack = [(node, iter(_inputs(node)))]
        while stack:  # depth-first, each node after its parents (iterative: any depth)
            for p in stack[-1][1]:
                if p.__class__ is Value and id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, iter(_inputs(p))))
                    break
            else:
                found.append(stack.pop()[0])
        found.pop()  # the node itself
        found.sort(key=_by_id)  # restored in their order of creation: backprop adds in the same order
        return session, tuple(found)


def _inputs(node: Value) -> tuple:
    a = node._a
    if a is None:
        return ()
    return a + node._b if a.__class__ is tuple else (a,) if node._b is None else (a, node._b)


def _unpickle_node(before: tuple, data: Any, grad: Any, label: str | None, opname: str | None,
                   a: Any, b: Any) -> Value:
    """A node from `Value.__reduce__` (``before``: its ancestors, restored already)."""
    if opname is None:
        v = Value(data, label)
    else:
        v = _node(OPS[opname], a, b, data)
        v.label = label
    v.grad = grad
    return v


def _unpickle_graph(records: list) -> Value:
    """A graph pickled by an earlier version (a flat list of records per Value)."""
    nodes: list[Value] = []
    for data, grad, label, opname, parents in records:
        ps = [nodes[p[1]] if p.__class__ is tuple else p for p in parents]
        if opname is None:
            v = Value(data, label)
        elif opname == "linear":
            n = (len(ps) - 1) // 2
            v = _node(_LINEAR, (*ps[:n], ps[-1]), tuple(ps[n:-1]), data)
        else:
            v = _node(OPS[opname], ps[0], ps[1] if len(ps) > 1 else None, data)
        v.grad, v.label = grad, label
        nodes.append(v)
    return nodes[-1]


_UFUNC_OPERATORS: dict[str, Callable[..., Any]] = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul, "true_divide": operator.truediv,
    "divide": operator.truediv, "power": operator.pow, "negative": operator.neg, "positive": operator.pos,
    "absolute": abs, "less": operator.lt, "less_equal": operator.le, "greater": operator.gt,
    "greater_equal": operator.ge, "equal": operator.eq, "not_equal": operator.ne,
}


def _node(op: Op, a: Any, b: Any, data: Any) -> Value:
    """A new node ``data = op(a, b)`` (``b`` is None for a unary op)."""
    out = _new(Value)  # not Value(...): data is already a float, no checks needed
    out.data = data
    out.grad = 0.0
    out._op = op
    out._a = a
    out._b = b
    out._id = next(_creation)
    out._sum = None
    return out


def _forward(op: Op, *args: Any) -> Any:
    """``op.forward(*args)`` on numbers, with IEEE results."""
    try:
        return op.forward(*args)
    except ARITH_ERRORS:
        return ieee(op.forward, *args)


def _constant(x: Any) -> float | None:
    """A number on the other side of an operator as a float (None if not a number)."""
    return _number(x) if isinstance(x, _NUMBER_TYPES) and x.__class__ is not Value else None


_EXACT_INT = 2 ** 53  # every int up to this size is exactly a float


def _binary_method(op: Op, reflected: bool = False) -> Callable:
    """``self OP other`` (``other OP self`` if reflected) for one row of the table.
    A number on the other side is stored in the node as a constant (a float).
    (x + y and x·y of two Values take a shorter way: see `_add`.)"""

    def method(self: Value, other: Any) -> Value:
        y: Any
        if type(other) is Value:
            y = other.data
        elif type(other) is float:
            y = other
        elif type(other) is int and -_EXACT_INT <= other <= _EXACT_INT:
            y = other = float(other)  # an int, exactly (sum() starts from 0; v / 2): no checks needed
        else:
            y = other = _constant(other)
            if y is None:
                return NotImplemented
        if reflected:
            a, b, x, y = other, self, y, self.data
        else:
            a, b, x = self, other, self.data
        if _watch:  # detect_anomaly is on or vectorize is tracing
            trace = x if type(x) is _Trace else y  # a traced input: the node is traced too
            if type(trace) is not _Trace or not trace.live or y is not trace and type(y) is _Trace:
                return _watched_node(op, a, b, (x, y))  # anomaly checks; ended or mixed traces
            out = _node(op, a, b, trace)
            trace.nodes.append(out)
            return out
        return _node(op, a, b, _forward(op, x, y))

    method.__name__ = f"__{'r' if reflected else ''}{op.name.replace('div', 'truediv')}__"
    method.__doc__ = f"{'other ' + op.symbol + ' self' if reflected else 'self ' + op.symbol + ' other'}: {op.formula}"
    return method


def _unary_method(op: Op) -> Callable[[Value], Value]:
    """``x.f()`` for one row of the table."""
    forward = op.forward

    def method(self: Value) -> Value:
        if _watch:
            return _watched_node(op, self, None, (self.data,))
        return _node(op, self, None, forward(self.data))  # the table's unary forwards never raise (IEEE)

    method.__name__ = op.name
    method.__doc__ = f"{op.name}(x), a new node; {op.formula}"
    return method


for _name in ("add", "sub", "mul", "div", "pow"):
    _dunder = "truediv" if _name == "div" else _name
    setattr(Value, f"__{_dunder}__", _binary_method(OPS[_name]))
    setattr(Value, f"__r{_dunder}__", _binary_method(OPS[_name], reflected=True))
for _name in ("exp", "log", "sigmoid", "tanh", "relu", "sqrt", "abs", "sin", "cos"):
    setattr(Value, _name, _unary_method(OPS[_name]))
Value.__neg__ = _unary_method(OPS["neg"])  # type: ignore[method-assign]  # declared above for the checker
Value.__abs__ = Value.abs  # type: ignore[method-assign]


# x + y and x·y of two Values are most of the nodes of any graph, so these two rows
# of the table are written out: the number is computed in place (a float + or ×
# never raises: overflow gives inf) and the node built as in `_node`, not by calling
# it: a Python call less per node is an eighth of the forward pass (on the GPT of
# `make bench`, 187 M instructions against 210 M with the call).  A number on
# the other side goes the table's way; while `detect_anomaly` or `vectorize` watches,
# `_set_watch` puts the table's methods back in their place (they check and trace).
_add_any, _mul_any = Value.__add__, Value.__mul__


def _add(self: Value, other: Any) -> Value:
    if type(other) is not Value:
        return _add_any(self, other)
    out = _new(Value)
    out.data = self.data + other.data
    out.grad = 0.0
    out._op = _ADD
    out._a = self
    out._b = other
    out._id = next(_creation)
    out._sum = None
    return out


def _mul(self: Value, other: Any) -> Value:
    if type(other) is not Value:
        return _mul_any(self, other)
    out = _new(Value)
    out.data = self.data * other.data
    out.grad = 0.0
    out._op = _MUL
    out._a = self
    out._b = other
    out._id = next(_creation)
    out._sum = None
    return out


_add.__name__, _add.__doc__ = "__add__", _add_any.__doc__
_mul.__name__, _mul.__doc__ = "__mul__", _mul_any.__doc__
_set_watch()  # nothing is watched yet: installs _add and _mul


def _function(name: str) -> Callable:
    """``autograd_lite.exp`` etc.: a graph node for a Value, the number function otherwise."""
    op = OPS[name]
    method = getattr(Value, name)

    def f(x: Any) -> Any:
        return method(x) if x.__class__ is Value else op.forward(x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = op.forward.__doc__
    return f


# on a Value: a Value (a new node); on a number or an array: the number function
exp: Callable[[Any], Any]
log: Callable[[Any], Any]
sigmoid: Callable[[Any], Any]
tanh: Callable[[Any], Any]
relu: Callable[[Any], Any]
sqrt: Callable[[Any], Any]
sin: Callable[[Any], Any]
cos: Callable[[Any], Any]
exp, log, sigmoid, tanh, relu, sqrt, sin, cos = map(_function, ("exp", "log", "sigmoid", "tanh", "relu",
                                                                  "sqrt", "sin", "cos"))


def linear(ws: Sequence[Value], xs: Sequence[Value | float], b: Value) -> Value:
    """The fused neuron Σᵢ wᵢxᵢ + b as one node (∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1).

    Gives the same value and gradients as building it from ``*`` and ``+``,
    with one node instead of 2n: what `autograd_lite.nn` layers use.  The
    inputs ``xs`` may be Values or numbers (constants)."""
    wb = (*ws, b)  # the bias rides at the end of the weights
    xs = tuple(xs)
    if len(wb) != len(xs) + 1:
        raise ValueError(f"linear() needs as many weights as inputs: {len(wb) - 1} weights, {len(xs)} inputs")
    try:  # the common case, all floats, computed first; anything else is checked below
        wd = [w.data for w in wb]
        xd = [x.data if x.__class__ is Value else x for x in xs]
        bias = wd.pop()
        data = _LINEAR.forward(wd, xd, bias)
    except (*ARITH_ERRORS, AttributeError, TypeError):
        data = None
    if data.__class__ is not float:  # not all floats: validate, convert, recompute
        if any(w.__class__ is not Value for w in wb):
            raise TypeError("linear() takes Values for the weights and the bias")
        xs = tuple(x if x.__class__ is Value else _number(x, "linear()") for x in xs)
        xd = [_data(x) for x in xs]
        if not _watch:
            data = _forward(_LINEAR, wd, xd, bias)  # wd, bias: from the try
    if _watch:
        return _watched_node(_LINEAR, wb, xs, (wd, xd, bias))
    return _node(_LINEAR, wb, xs, data)


def _traced(x: Any) -> bool:
    """Is ``x`` a Value traced by `vectorize` (no number yet)?"""
    return x.__class__ is Value and type(x.data) is _Trace


# ==========================================================================
# 3. Backprop
# ==========================================================================

_by_id = attrgetter("_id")


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, ``root`` first, each node before
    its parents (consumers before producers).  Iterative: any depth works.
    A node is always created after its parents, so sorting the nodes found by
    creation number, newest first, is a topological order."""
    if root.__class__ is not Value:
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    seen = {root}  # a set of nodes: hashed by identity
    nodes = [root]
    for node in nodes:  # breadth-first; the list grows while we walk it
        a = node._a
        if a is None:
            continue
        for p in (a + node._b if a.__class__ is tuple else (a, node._b)):
            if p.__class__ is Value and p not in seen:
                seen.add(p)
                nodes.append(p)
    nodes.sort(key=_by_id, reverse=True)
    return nodes


def _local_rules(op: Op, inputs: Sequence, out: Any) -> Iterator[tuple[int, Any, tuple]]:
    """(index into ``inputs``, rule, the rule's arguments) for every input of a node."""
    if op is _LINEAR:  # pairs (wᵢ, xᵢ), then the bias
        n = (len(inputs) - 1) // 2
        dw, dx, db = op.partials
        for i in range(n):
            pair = (inputs[i], inputs[n + i])
            yield i, dw, pair
            yield n + i, dx, pair
        yield 2 * n, db, ()
    else:
        args = (*inputs, out)
        for i, rule in enumerate(op.partials):
            yield i, rule, args


def backprop(root: Value, seed: Any = 1.0, *, create_graph: bool = False,
             observe: Callable | None = None) -> dict[Value, Any]:
    """∂root/∂node for every Value node that ``root`` depends on, by the chain rule:
    walk the nodes consumers-first; at each node, for each input, add
    upstream × local derivative (the table's rule) to the input's total.

    Pure: no node's ``.grad`` is read or written.  On floats, or on Values with
    ``create_graph=True`` (then the gradients form a graph of their own).
    ``observe(node, index, input, local, upstream, contribution, total)`` is called
    once per contribution to a Value input, in the order they are added."""
    if root.__class__ is not Value:
        raise TypeError(f"backprop() needs a Value, got {type(root).__name__}")
    if create_graph:
        seed = seed if seed.__class__ is Value else Value(_number(seed, "backward(grad=...)"))
    else:
        seed = _number(seed, "backward(grad=...)")
        if observe is None and not _anomaly.get():  # anomaly mode: the sweep below checks every step
            sums = _backprop_floats(root, seed)
            assert sums is not None  # without write=True the pass returns its sums
            return sums
    grads: dict[Value, Any] = {root: seed}
    check = _anomaly.get()
    for node in topological_order(root):
        op = node._op
        if op is None:
            continue
        upstream = grads[node]
        parents = node.parents
        inputs: Sequence[Any]
        out: Any
        if create_graph:  # the rules see the Values themselves
            inputs, out = parents, node
        else:
            inputs, out = [_data(p) for p in parents], node.data
        for index, rule, args in _local_rules(op, inputs, out):
            inp = parents[index]
            if inp.__class__ is not Value:
                continue  # a constant needs no gradient
            try:
                c = contribution(rule, upstream, *args)
            except ARITH_ERRORS:  # a rule on constants only, e.g. 1/y for x / 0.0
                c = ieee(contribution, rule, upstream, *args)
            # a float sum starts at 0.0, as in the float pass (a lone -0.0 contribution sums
            # to 0.0); a Value sum starts at its first contribution (no node for 0 + c)
            total = grads.get(inp, None if create_graph else 0.0)
            total = c if total is None else total + c
            grads[inp] = total
            if check:
                _check_backward(node, upstream, inp, c)
            if observe is not None:
                observe(node, index, inp, ieee(partial, rule, *args), upstream, c, total)
    return grads


# The float pass keeps each node's running sum on the node itself (slot _sum), not
# in a dict: a dict lookup per edge is most of the time of a backward pass over a
# big graph.  A node found by the pass gets _sum = 0.0 and each contribution is
# added with +=, as `backprop` adds them to 0.0.  The lock keeps passes from sharing
# that scratch (Python threads take turns anyway), and every _sum is None again when
# a pass ends, so `backprop` stays pure: no node's state, .grad included, differs
# before and after.
_scratch = threading.Lock()


def _backprop_floats(root: Value, seed: float, write: bool = False) -> dict[Value, float] | None:
    """`backprop` on floats without an observer: the same chain rule over the same
    rules, with the rule kinds dispatched inline and the rules of x + y (1, 1),
    x·y (y, x) and the fused linear node (∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1)
    unrolled, because this loop is the hot path of training
    (tests/test_engine_edges.py checks both give the same numbers).
    ``write=True`` is `Value.backward`: the sums go into ``.grad`` (leaves
    accumulate), not into a dict.  (Not in anomaly mode: `backprop` and `Value.backward`
    then take `backprop`'s own sweep, which checks every contribution as it is added.)"""
    with _scratch:
        ops: list[Value] = []
        leaves: list[Value] = []
        (ops if root._op is not None else leaves).append(root)
        root._sum = seed
        sums: dict[Value, float] | None = None if write else {}
        try:
            _float_pass(ops, leaves, sums)
        except BaseException:
            for node in itertools.chain(ops, leaves):
                node._sum = None
            raise
        for node in leaves:
            if sums is None:  # a leaf accumulates (None: no gradient yet)
                old = node.grad
                node.grad = node._sum if old is None else old + node._sum
            else:
                sums[node] = node._sum
            node._sum = None
        return sums


def _float_pass(order: list[Value], leaves: list[Value], sums: dict | None, *,
                type: Callable = type, Value: type = Value) -> None:
    keep, keep_leaf = order.append, leaves.append
    # Find the nodes depth first, not breadth first: they are then found nearly in
    # creation order, in long runs, so the sort below (timsort) merges a few runs
    # instead of comparing n log n times (on a transformer's graph the sort gets 5×
    # cheaper; it was a third of the pass).  The first input is followed at once
    # (a chain x + y + z ... needs no stack), the second waits on the stack `todo`.
    # (`type(p) is Value` rather than `p.__class__ is Value`: the interpreter answers
    # type() faster; and type and Value are parameters, local names, which are read
    # faster than a builtin or a global: these tests run a few times per node.)
    todo = order[:]  # the root, if it is an op node
    push, pop = todo.append, todo.pop
    while todo:
        node = pop()
        while True:  # node, then its first input if that is new, and so on down the chain
            a = node._a
            b = node._b
            if type(b) is Value and b._sum is None:  # unrolled for two inputs: no tuple per node
                b._sum = 0.0
                if b._op is None:
                    keep_leaf(b)
                else:
                    keep(b)
                    push(b)
            if type(a) is Value:
                if a._sum is None:
                    a._sum = 0.0
                    if a._op is not None:
                        keep(a)
                        node = a
                        continue  # follow the chain
                    keep_leaf(a)
            elif type(a) is tuple:  # fused linear node: (*ws, b) and xs
                for p in a + b:
                    if type(p) is Value and p._sum is None:
                        p._sum = 0.0
                        if p._op is None:
                            keep_leaf(p)
                        else:
                            keep(p)
                            push(p)
            break
    order.sort(key=_by_id, reverse=True)  # newest first: consumers before producers
    for node in order:
        op: Op = node._op  # type: ignore[assignment]  # `order` holds op nodes only (leaves went to `leaves`)
        g = node._sum  # final: every consumer of this node came before it
        node._sum = None
        if sums is None:  # an intermediate node holds this pass's gradient
            node.grad = g
        else:
            sums[node] = g
        a = node._a
        b = node._b
        # x + y and x·y are most of the nodes of any graph, so their rows of the
        # table (1 and 1; y and x) are unrolled here: no rule dispatch per input
        if op is _ADD:
            if type(a) is Value:
                a._sum += g
            if type(b) is Value:
                b._sum += g
            continue
        if op is _MUL:
            if type(a) is not Value:  # a constant times b
                b._sum += g * a
            elif type(b) is Value:
                a._sum += g * b.data
                b._sum += g * a.data
            else:  # a times a constant
                a._sum += g * b
            continue
        if op is _LINEAR:
            for w, x in zip(a, b):
                if type(x) is Value:
                    x._sum += g * w.data
                    w._sum += g * x.data
                else:
                    w._sum += g * x
            a[-1]._sum += g
            continue
        # a rule that is a number, an argument or a mask on floats (sub, exp, neg,
        # relu) is applied here directly; the others go through `contribution`
        da = op.partials[0]
        if b is None:  # unary: the rule's arguments are (x, out)
            kind = da.__class__
            if kind is Arg:
                c = g * (node.data if da.index else a.data)
            elif kind is float:
                c = -g if da == -1.0 else g * da
            elif kind is Mask and da.then is None:  # relu: g where the condition holds, else 0
                c = g if da.cond(a.data, node.data) else 0.0
            elif kind is Over and da.by.__class__ is Arg and (d := (node.data if da.by.index else a.data)):
                c = g / d  # log: g / x (d ≠ 0: no ZeroDivisionError to turn into inf)
            else:
                c = _float_contribution(da, g, a.data, node.data)
            a._sum += c
            continue
        db = op.partials[1]
        if da.__class__ is not float or db.__class__ is not float:  # the rules' arguments (x, y, out)
            args = (a.data if type(a) is Value else a, b.data if type(b) is Value else b, node.data)
        if type(a) is Value:
            if da.__class__ is float:
                c = g if da == 1.0 else -g if da == -1.0 else g * da
            elif da.__class__ is Over and da.by.__class__ is Arg and args[da.by.index]:
                c = g / args[da.by.index]  # x / y: g / y (y ≠ 0: no ZeroDivisionError to turn into inf)
            else:
                c = _float_contribution(da, g, *args)
            a._sum += c
        if type(b) is Value:  # the same for the second input
            if db.__class__ is float:
                c = g if db == 1.0 else -g if db == -1.0 else g * db
            else:
                c = _float_contribution(db, g, *args)  # (x·y, the one Arg rule, is unrolled above)
            b._sum += c


def _float_contribution(rule: Any, g: float, *args: float) -> float:
    """`contribution` on floats with IEEE results (g / 0 = inf, not ZeroDivisionError)."""
    try:
        return contribution(rule, g, *args)
    except ARITH_ERRORS:
        return ieee(contribution, rule, g, *args)


def gradients(output: Value, inputs: Value | Iterable[Value], *, create_graph: bool = False) -> Any:
    """∂output/∂input for each input, like ``torch.autograd.grad``: nothing's
    ``.grad`` is touched.  With ``create_graph=True`` the results are Values
    that can be differentiated again; otherwise floats.  ``inputs`` is one Value
    (one gradient back) or an iterable of Values (a list back)."""
    if output.__class__ is not Value:
        raise TypeError(f"gradients() needs a Value output, got {type(output).__name__}")
    single = inputs.__class__ is Value
    if not single and not isinstance(inputs, Iterable):
        raise TypeError(f"gradients() takes a Value or an iterable of Values as inputs, "
                        f"got {type(inputs).__name__}")
    xs = [inputs] if isinstance(inputs, Value) else list(inputs)
    for x in xs:
        if x.__class__ is not Value:
            raise TypeError(f"gradients() takes Values as inputs, got {type(x).__name__}")
    grads = backprop(output, 1.0, create_graph=create_graph)
    zero = Value if create_graph else float
    out = [grads.get(x, zero(0.0)) for x in xs]
    if create_graph:
        out = [g if g.__class__ is Value else Value(g) for g in out]
    return out[0] if single else out
