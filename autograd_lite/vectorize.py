"""Record a scalar graph once, replay it over a whole batch with numpy.

A scalar engine builds one Python object per operation per example.  The
course's next step is *vectorisation*: do the same arithmetic on whole arrays.
`vectorize` gives you both: write the math for **one** example with `Value`\\ s,
and autograd_lite traces it once into a flat *tape* (the graph's nodes in
topological order, producers first) and replays that tape with numpy over a
batch.  Every forward value comes from the op's ``forward`` in `engine.OPS` and
every local derivative from the same rule of the derivative table that the
scalar engine uses (`engine.partial`), so the numbers are the scalar engine's,
example by example (up to the last bit of numpy's vs. ``math``'s ``exp``/``log``).

>>> import numpy as np
>>> from autograd_lite.vectorize import vectorize
>>> g = vectorize(lambda w, x: (w * x).sigmoid())      # σ(wx) for one example
>>> g(0.5, np.array([-2.0, 0.0, 2.0])).round(4)        # ... replayed over three x
array([0.2689, 0.5   , 0.7311])
>>> y, dw = g.value_and_grad(0.5, np.array([-2.0, 0.0, 2.0]))   # per example: ∂σ(wx)/∂w = σ'(wx)·x
>>> dw.round(4)
array([-0.3932,  0.    ,  0.3932])
>>> y, dw = g.value_and_grad(0.5, np.array([-2.0, 0.0, 2.0]), reduce="sum")   # ∂Σσ/∂w
>>> round(float(dw), 12)
0.0

Tracing needs a *static* graph: the same ops whatever the numbers.  Python
control flow on a traced value (``if x > 0:``, ``max(a, b)``, ``float(x)``)
raises `TracingError`; write it with ``relu``/``abs`` instead
(``max(a, b) = b + relu(a − b)``).

Constants: a number in ``f`` (``2 * x``, ``x + 1``) is recorded in the tape.  A
leaf `Value` captured from the closure that is not an argument (a model's
weight) is read **at every call** (its current ``.data``), so a compiled model
follows its parameters as an optimiser updates them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograd_lite.engine import OPS, Value, partial, topological_order
from autograd_lite.transforms import _normalize_argnums

__all__ = ["vectorize", "Vectorized", "TracingError", "compile_loss", "compile_predict", "LossStep"]

_LINEAR = OPS["linear"]
_REDUCTIONS = (None, "sum", "mean")


class TracingError(TypeError):
    """Python control flow that depends on a traced value: the graph is not static."""


# --------------------------------------------------------------------------
# Tracing: while f runs on placeholders, comparisons, bool() and float() of any
# Value that depends on a placeholder raise TracingError.  The engine's hot paths
# test ``x.__class__ is Value``, so placeholders must be plain Values; instead the
# guarded methods of the class are swapped for the duration of the trace.
# --------------------------------------------------------------------------

_GUARDED = {"__bool__": "bool(x)", "__float__": "float(x)", "__lt__": "x < ...", "__le__": "x <= ...",
            "__gt__": "x > ...", "__ge__": "x >= ..."}
_active: list[frozenset] = []  # placeholder sets of the traces in progress (nested vectorize)


def _depends_on_placeholder(v: Any) -> bool:
    if v.__class__ is not Value:
        return False
    placeholders = _active[-1] if len(_active) == 1 else frozenset().union(*_active)
    return any(node in placeholders for node in topological_order(v))


def _guard(name: str, original: Callable) -> Callable:
    what = _GUARDED[name]

    def guarded(self, *other):
        if _depends_on_placeholder(self) or any(_depends_on_placeholder(o) for o in other):
            raise TracingError(
                f"vectorize: {what} on a traced Value: data-dependent Python control flow can't be vectorized "
                f"(if/while/max/min/float on a value that depends on the inputs), because the graph is recorded "
                f"once and replayed for every example. Write it with "
                f"ops instead: relu(x) for max(x, 0), abs(x), b + relu(a - b) for max(a, b), or a "
                f"where-style blend s*a + (1 - s)*b with s = sigmoid(k*x).")
        return original(self, *other)

    guarded.__name__ = name
    return guarded


@contextmanager
def _tracing(placeholders: Sequence[Value]):
    outermost = not _active
    saved = {name: Value.__dict__[name] for name in _GUARDED} if outermost else {}
    _active.append(frozenset(placeholders))
    try:
        for name, original in saved.items():
            setattr(Value, name, _guard(name, original))
        yield
    finally:
        _active.pop()
        for name, original in saved.items():
            setattr(Value, name, original)


# --------------------------------------------------------------------------
# The tape
# --------------------------------------------------------------------------


def _unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum ``g`` down to ``shape`` (the adjoint of numpy broadcasting)."""
    gshape = np.shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape) if n == 1 and gshape[i + extra] != 1)
    g = np.sum(g, axis=axes)
    return g.reshape(shape) if np.shape(g) != shape else g


class _Tape:
    """A graph flattened into slots and instructions.

    Slots ``0..n_args-1`` hold the placeholder leaves, then the closure leaves
    (``Value``\\ s read at every call), then float constants, then op results.
    ``instrs`` are ``(op, out_slot, in_slots)`` in producer-first order with the
    inputs in ``Value.parents`` order (``linear``: ``*ws, *xs, b``)."""

    def __init__(self, placeholders: list[Value], outputs: list[Value | float]) -> None:
        roots = [o for o in outputs if o.__class__ is Value]
        nodes: dict[Value, None] = {}
        for r in roots:
            nodes.update(dict.fromkeys(topological_order(r)))
        order = sorted(nodes, key=lambda v: v._id)  # producers first
        slot: dict[Value, int] = {p: i for i, p in enumerate(placeholders)}
        self.n_args = len(placeholders)
        self.leaves: list[Value] = [v for v in order if v._op is None and v not in slot]
        for v in self.leaves:
            slot[v] = len(slot)
        # constants first (their slots come before the op results), then the ops
        self.const_values: list[float] = []
        consts: dict[str, int] = {}
        nodes_ = [v for v in order if v._op is not None]
        for c in [p for v in nodes_ for p in v.parents if p.__class__ is not Value] + \
                 [o for o in outputs if o.__class__ is not Value]:
            key = float(c).hex()
            if key not in consts:
                consts[key] = self.n_args + len(self.leaves) + len(self.const_values)
                self.const_values.append(float(c))
        first_node = self.n_args + len(self.leaves) + len(self.const_values)
        for k, v in enumerate(nodes_):
            slot[v] = first_node + k

        def ref(p: Any) -> int:
            return slot[p] if p.__class__ is Value else consts[float(p).hex()]

        self.instrs: list[tuple] = [(v._op, slot[v], tuple(ref(p) for p in v.parents)) for v in nodes_]
        pending = nodes_
        self.n_slots = first_node + len(pending)
        self.outputs = [ref(o) for o in outputs]
        self._need_cache: dict[frozenset, list[bool]] = {}

    def __len__(self) -> int:
        return len(self.instrs)

    # forward -----------------------------------------------------------------
    def forward(self, args: Sequence[Any]) -> list:
        """Evaluate every slot: ``args`` are the placeholder values (arrays or numbers)."""
        vals: list[Any] = [None] * self.n_slots
        vals[:self.n_args] = args
        k = self.n_args
        for v in self.leaves:
            vals[k] = np.float64(v.data)
            k += 1
        for c in self.const_values:
            vals[k] = np.float64(c)
            k += 1
        with np.errstate(all="ignore"):
            for op, out, ins in self.instrs:
                if op is _LINEAR:
                    n = len(ins) // 2
                    vals[out] = op.forward([vals[i] for i in ins[:n]], [vals[i] for i in ins[n:-1]], vals[ins[-1]])
                else:
                    vals[out] = op.forward(*[vals[i] for i in ins])
        return vals

    # backward ----------------------------------------------------------------
    def _needs(self, wrt: frozenset) -> list[bool]:
        """need[s]: some slot in ``wrt`` is reachable backwards from slot s."""
        need = self._need_cache.get(wrt)
        if need is None:
            need = [s in wrt for s in range(self.n_slots)]
            for _, out, ins in self.instrs:
                need[out] = any(need[i] for i in ins)
            self._need_cache[wrt] = need
        return need

    def backward(self, vals: list, wrt: Sequence[int], output: int, batch: tuple | None) -> dict[int, Any]:
        """∂output/∂slot for the slots in ``wrt`` (None where nothing flows).

        The chain rule runs over the instructions in reverse, consumers before
        producers, adding ``g · partial`` to each input in ``Value.parents`` order,
        exactly like `engine.Value.backward`.  Given the ``batch`` shape, this is the
        gradient of the sum over the batch: the seed is ones(batch) and a contribution
        to a slot of smaller shape (a shared parameter) is summed down to that shape.
        With ``batch=None`` every gradient keeps its per-example shape (seed 1)."""
        need = self._needs(frozenset(wrt))
        grads: list[Any] = [None] * self.n_slots
        reduce = batch is not None
        grads[output] = np.ones(batch) if reduce else 1.0
        shape = (lambda s: np.shape(vals[s])) if reduce else None

        def add(s: int, c: Any) -> None:
            if reduce:
                c = _unbroadcast(c, shape(s))
            old = grads[s]
            grads[s] = c if old is None else old + c

        with np.errstate(all="ignore"):
            for op, out, ins in reversed(self.instrs):
                g = grads[out]
                if g is None or not need[out]:
                    continue
                rules = op.partials
                if op is _LINEAR:
                    n = len(ins) // 2
                    for w, x in zip(ins[:n], ins[n:-1]):
                        wv, xv = vals[w], vals[x]
                        if need[w]:
                            add(w, g * partial(rules[0], wv, xv))
                        if need[x]:
                            add(x, g * partial(rules[1], wv, xv))
                    if need[ins[-1]]:
                        add(ins[-1], g * rules[2])
                    continue
                args = [vals[i] for i in ins]
                args.append(vals[out])
                for i, rule in zip(ins, rules):
                    if need[i]:
                        add(i, g * partial(rule, *args))
        return {s: grads[s] for s in wrt}


# --------------------------------------------------------------------------
# vectorize
# --------------------------------------------------------------------------


def _arity(f: Callable) -> int:
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError) as e:
        raise TypeError(f"vectorize: can't read the signature of {f!r}; pass sizes=(...) "
                        f"with one entry per argument") from e
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        raise TypeError("vectorize: f takes *args; pass sizes=(...) with one entry per argument")
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty)


def _arg_names(f: Callable, n: int) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(f).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"arg{i}" for i in range(n)]


def _as_float_array(a: Any, what: str) -> np.ndarray:
    if isinstance(a, Value):
        raise TypeError(f"{what}: pass numbers or numpy arrays, not a Value (use .data)")
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as e:  # ragged lists
        raise ValueError(f"{what}: can't make an array of {a!r:.60}: {e}") from e
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what}: expected real numbers, got an array of dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


class Vectorized:
    """``f`` traced once; call it on arrays.  See `vectorize`."""

    def __init__(self, f: Callable, sizes: Sequence[int | None] | None = None) -> None:
        if not callable(f):
            raise TypeError(f"vectorize() takes a function, not {type(f).__name__}")
        self.__wrapped__ = f
        self.__name__ = getattr(f, "__name__", "f")
        self.__doc__ = getattr(f, "__doc__", None)
        if sizes is None:
            sizes = (None,) * _arity(f)
        sizes = tuple(sizes)
        for s in sizes:
            if s is not None and (not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0):
                raise ValueError(f"vectorize: sizes must be None (a scalar argument) or a length >= 0, got {s!r}")
        self.sizes = sizes
        names = _arg_names(f, len(sizes))
        self._arg_slots: list[int | list[int]] = []
        placeholders: list[Value] = []
        args: list[Any] = []
        for name, size in zip(names, sizes):
            if size is None:
                self._arg_slots.append(len(placeholders))
                placeholders.append(Value(0.5, label=name))
                args.append(placeholders[-1])
            else:
                ph = [Value(0.5, label=f"{name}[{j}]") for j in range(size)]
                self._arg_slots.append(list(range(len(placeholders), len(placeholders) + size)))
                placeholders.extend(ph)
                args.append(ph)
        with _tracing(placeholders):
            out = f(*args)
        self.multi = isinstance(out, (list, tuple))
        outs = list(out) if self.multi else [out]
        for o in outs:
            if o.__class__ is not Value and not (isinstance(o, (int, float, np.integer, np.floating))
                                                 and not isinstance(o, bool)):
                raise TypeError(f"vectorize: {self.__name__} must return a Value (or a list of Values), "
                                f"got {type(o).__name__}")
        self.tape = _Tape(placeholders, outs)

    def __repr__(self) -> str:
        return f"<vectorized {self.__name__}: {len(self.tape)} ops, sizes={self.sizes}>"

    # inputs ------------------------------------------------------------------
    def _prepare(self, arrays: Sequence[Any], name: str) -> tuple[list, list[tuple], tuple]:
        if len(arrays) != len(self.sizes):
            raise TypeError(f"{name}: {self.__name__} takes {len(self.sizes)} argument(s), got {len(arrays)}")
        arrs, batch_shapes = [], []
        for i, (a, size) in enumerate(zip(arrays, self.sizes)):
            arr = _as_float_array(a, f"{name}: argument {i}")
            if size is not None:
                if arr.ndim == 0 or arr.shape[-1] != size:
                    raise ValueError(f"{name}: argument {i} is a sequence of {size}, so its last axis must have "
                                     f"length {size}; got an array of shape {arr.shape}")
                batch_shapes.append(arr.shape[:-1])
            else:
                batch_shapes.append(arr.shape)
            arrs.append(arr)
        try:
            batch = np.broadcast_shapes(*batch_shapes) if batch_shapes else ()
        except ValueError:
            shown = ", ".join(f"argument {i}: {a.shape}" for i, a in enumerate(arrs))
            raise ValueError(f"{name}: the arguments' batch shapes {batch_shapes} don't broadcast together "
                             f"({shown})") from None
        return arrs, batch_shapes, batch

    def _placeholder_values(self, arrs: list) -> list:
        vals: list[Any] = [None] * self.tape.n_args
        for arr, slots in zip(arrs, self._arg_slots):
            if isinstance(slots, list):
                for j, s in enumerate(slots):
                    vals[s] = arr[..., j]
            else:
                vals[slots] = arr
        return vals

    def _results(self, vals: list, batch: tuple) -> np.ndarray:
        outs = [np.broadcast_to(vals[s], batch) for s in self.tape.outputs]
        if self.multi:
            return np.stack(outs, axis=-1) if outs else np.zeros((*batch, 0))
        return np.array(outs[0], dtype=np.float64)

    # calls ---------------------------------------------------------------------
    def __call__(self, *arrays: Any) -> np.ndarray:
        """f on every example: the arguments broadcast together like a numpy ufunc
        (a sequence argument contributes its shape without the last axis).
        Returns an array of the batch shape (with a last axis for a list output)."""
        arrs, _, batch = self._prepare(arrays, self.__name__)
        vals = self.tape.forward(self._placeholder_values(arrs))
        return self._results(vals, batch)

    def value_and_grad(self, *arrays: Any, argnums: int | Sequence[int] = 0,
                       reduce: str | None = None) -> tuple[np.ndarray, Any]:
        """``(f(arrays), ∂f/∂arrays[argnums])`` by reverse mode over the tape.

        ``reduce=None``: per-example gradients, ∂f_b/∂(argument of example b), of
        the batch shape (plus the sequence axis for a sequence argument), so an
        argument shared by all examples gets one gradient per example.
        ``reduce="sum"`` / ``"mean"``: the gradient of Σ_b f_b (resp. its mean over
        the N examples) with respect to each argument *as passed* (its own shape),
        like ``f(x).sum().backward()`` in PyTorch: a shared scalar gets one number.
        ``argnums`` is an int (one gradient) or a tuple of ints (a tuple)."""
        name = f"{self.__name__}.value_and_grad"
        if reduce not in _REDUCTIONS:
            raise ValueError(f"{name}: reduce must be None, 'sum' or 'mean', got {reduce!r}")
        if self.multi:
            raise TypeError(f"{name}: f returns {len(self.tape.outputs)} values; gradients need one scalar output")
        arrs, batch_shapes, batch = self._prepare(arrays, name)
        nums = _normalize_argnums(argnums, len(self.sizes), name)
        vals = self.tape.forward(self._placeholder_values(arrs))
        wrt = sorted({s for i in nums for s in (self._arg_slots[i] if isinstance(self._arg_slots[i], list)
                                                 else [self._arg_slots[i]])})
        grads = self.tape.backward(vals, wrt, self.tape.outputs[0], batch if reduce else None)
        n = float(np.prod(batch)) if batch else 1.0
        results = []
        for i in nums:
            target = batch_shapes[i] if reduce else batch
            slots = self._arg_slots[i]

            def one(s: int, target=target) -> np.ndarray:
                g = grads[s]
                if g is None:
                    return np.zeros(target)
                g = _unbroadcast(g, target) if reduce else g
                g = np.array(np.broadcast_to(g, target), dtype=np.float64)
                return g / n if reduce == "mean" else g

            results.append(np.stack([one(s) for s in slots], axis=-1) if isinstance(slots, list) else one(slots))
        grads_out = results[0] if isinstance(argnums, (int, np.integer)) else tuple(results)
        return self._results(vals, batch), grads_out

    def grad(self, *arrays: Any, argnums: int | Sequence[int] = 0, reduce: str | None = None) -> Any:
        """The gradient part of `value_and_grad`."""
        return self.value_and_grad(*arrays, argnums=argnums, reduce=reduce)[1]


def vectorize(f: Callable[..., Any], sizes: Sequence[int | None] | None = None) -> Vectorized:
    """Trace ``f`` once on placeholder `Value`\\ s and return a function of arrays.

    ``f`` is written for one example.  ``sizes`` has one entry per argument:
    ``None`` for a scalar argument (the default for every argument) or ``n`` for a
    sequence of n scalars (``f`` receives a list of n Values; pass an array whose
    last axis has length n, e.g. an ``(m, n)`` matrix of m examples).
    The result ``g`` evaluates the tape: ``g(*arrays)`` → array of values,
    ``g.value_and_grad(*arrays, argnums=0, reduce=None)`` → values and gradients.

    >>> import numpy as np
    >>> from autograd_lite.vectorize import vectorize
    >>> dot = vectorize(lambda w, x: w[0] * x[0] + w[1] * x[1], sizes=(2, 2))
    >>> dot([1.0, 2.0], np.array([[1.0, 1.0], [3.0, -1.0]]))
    array([3., 1.])
    >>> dot.grad([1.0, 2.0], np.array([[1.0, 1.0], [3.0, -1.0]]), reduce="mean")   # mean of x
    array([2., 0.])
    """
    return Vectorized(f, sizes)


# --------------------------------------------------------------------------
# Models: the contract `autograd_lite.train` uses
# --------------------------------------------------------------------------


def _model_params(model: Any) -> list[Value]:
    if not hasattr(model, "parameters"):
        raise TypeError(f"expected a model with parameters() and __call__, got {type(model).__name__}")
    params = list(model.parameters())
    for p in params:
        if p.__class__ is not Value or p._op is not None:
            raise TypeError("model.parameters() must return leaf Values")
    return params


def _batch(X: Any, name: str) -> np.ndarray:
    X = _as_float_array(X, name)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"{name}: X must be a 2-D array (examples × features), got shape {X.shape}")
    return X


class _Traced:
    """One example's computation as a function of (features, target), the model's
    parameters being closure leaves; retraced if the shapes or parameters change."""

    def __init__(self, model: Any, build: Callable) -> None:
        self.model = model
        self.build = build
        self.key: tuple | None = None
        self.g: Vectorized | None = None
        self.param_slots: list[int] = []

    def get(self, key: tuple, params: list[Value]) -> Vectorized:
        key = (key, tuple(map(id, params)))
        if key != self.key:
            self.g = self.build(*key[0])
            slot_of = {v: self.g.tape.n_args + k for k, v in enumerate(self.g.tape.leaves)}
            self.param_slots = [slot_of.get(p, -1) for p in params]
            self.key = key
        return self.g


class LossStep:
    """``step(Xb, yb) -> (cost, grads)``: the mean loss over the batch and its
    gradient with respect to ``model.parameters()`` (a list of floats, same order).

    The loss of one example, ``loss_fn(model(x), y)``, is traced once into a tape
    and replayed over the batch; the parameters' current ``.data`` is read at
    every call, so an optimiser can update them in place between steps."""

    def __init__(self, model: Any, loss_fn: Callable[[Any, Any], Value]) -> None:
        if not callable(loss_fn):
            raise TypeError(f"compile_loss: loss_fn must be callable, got {type(loss_fn).__name__}")
        _model_params(model)
        self.model = model
        self.loss_fn = loss_fn

        def build(n_features: int, y_size: int | None) -> Vectorized:
            def loss(x, y):
                return loss_fn(model(x), y)

            loss.__name__ = getattr(loss_fn, "__name__", "loss")
            return Vectorized(loss, sizes=(n_features, y_size))

        self._traced = _Traced(model, build)

    @property
    def tape(self) -> _Tape | None:
        return None if self._traced.g is None else self._traced.g.tape

    def __call__(self, Xb: Any, yb: Any) -> tuple[float, list[float]]:
        X = _batch(Xb, "compile_loss step")
        y = _as_float_array(yb, "compile_loss step: y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
            raise ValueError(f"compile_loss step: X has shape {X.shape}, so y needs {X.shape[0]} rows; "
                             f"got shape {y.shape}")
        if X.shape[0] == 0:
            raise ValueError("compile_loss step: empty batch")
        params = _model_params(self.model)
        g = self._traced.get((X.shape[1], None if y.ndim == 1 else y.shape[1]), params)
        tape = g.tape
        vals = tape.forward(g._placeholder_values([X, y]))
        out = tape.outputs[0]
        m = X.shape[0]
        cost = float(np.sum(np.broadcast_to(vals[out], (m,)))) / m
        slots = [s for s in self._traced.param_slots if s >= 0]
        grads = tape.backward(vals, slots, out, (m,))
        result = []
        for s in self._traced.param_slots:
            gs = grads.get(s)
            result.append(0.0 if gs is None else float(np.sum(gs)) / m)
        return cost, result


def compile_loss(model: Any, loss_fn: Callable[[Any, Any], Value]) -> LossStep:
    """Compile ``loss_fn(model(x), y)`` for batches: ``step(Xb, yb) -> (cost, grads)``.

    ``cost`` = (1/m) Σᵢ L(model(xᵢ), yᵢ) over the m rows of ``Xb`` and ``grads`` =
    ∂cost/∂θ for θ in ``model.parameters()`` (floats, same order), the same
    numbers the scalar engine gives, from one traced example.  ``yb`` has one
    number per row (or one row of k numbers: ``loss_fn`` then gets a list)."""
    return LossStep(model, loss_fn)


def compile_predict(model: Any) -> Callable[[Any], np.ndarray]:
    """``predict(X)``: ``model(x)`` for every row of ``X``, as an array of shape
    (m,) (or (m, k) for a model with k outputs); parameters read at every call."""
    _model_params(model)

    def build(n_features: int) -> Vectorized:
        def forward(x):
            return model(x)

        return Vectorized(forward, sizes=(n_features,))

    traced = _Traced(model, build)

    def predict(X: Any) -> np.ndarray:
        X = _batch(X, "predict")
        return traced.get((X.shape[1],), _model_params(model))(X)

    return predict
