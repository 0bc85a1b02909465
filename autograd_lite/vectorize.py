"""Record a scalar graph once, replay it over a whole batch with numpy.

A scalar engine builds one Python object per operation per example.  The
course's next step is *vectorisation*: do the same arithmetic on whole arrays.
`vectorize` gives you both: write the math for **one** example with Values,
and autograd_lite traces it once into a flat *tape* (the graph's nodes in
topological order, producers first) and replays that tape with numpy over a
batch.  Every forward value comes from the op's ``forward`` in `engine.OPS` and
every local derivative from the same rule of the derivative table that the
scalar engine uses (`engine.partial`), so the numbers are the scalar engine's,
example by example (up to the last bit of numpy's vs. ``math``'s ``exp``/``log``).

Rounding: each example gets the same numbers whatever the batch (its size, its
shape, the other rows): matrix products use one kernel (numpy's einsum, not
BLAS) for any batch.  ``fuse=False`` replays node by node, the scalar engine's
arithmetic.  Fused (the default), a sum of products adds its terms in its own
order, so a sum that cancels exactly in the scalar engine (x·a − a·x) may leave
a rounding residue (~1e-16 of its terms); an exact zero keeps its sign.

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
control flow on a traced value (``if x > 0:``, ``max(a, b)``, ``x == 0``), or
reading its number (``float(x)``, ``x.data > 0``, ``isinstance(x.data, float)``, ``str(x)``,
pickling it), raises `TracingError`; write it with ``relu``/``abs`` instead
(``max(a, b) = b + relu(a − b)``).

Constants: a number in ``f`` (``2 * x``, ``x + 1``) is recorded in the tape.  A
leaf `Value` captured from the closure that is not an argument (a model's
weight) is read **at every call** (its current ``.data``), so a compiled model
follows its parameters as an optimiser updates them.

Parameters may be arguments too (``g.value_and_grad(*params, x, y,
argnums=range(len(params)))``, or one sequence argument: an array, or a list of
Values read at the call).  An argument that is the same for every example (a
number, or an array without a batch axis) is *static* in that call, like a
closure weight: the tape's sums of products over it become matrix products
(`autograd_lite.fuse`).  That rewrite is made per call signature (which
arguments have a batch axis) and cached (`_Tape.program`).
"""

from __future__ import annotations

import gc
import inspect
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, compress, count, filterfalse, repeat
from operator import attrgetter, not_
from typing import Any

try:
    import numpy as np
except ImportError:  # the scalar engine runs without numpy; this module does not
    raise ImportError("autograd_lite.vectorize (vectorize, compile_loss, compile_predict) "
                      "needs numpy, which is not installed: "
                      "pip install numpy") from None

from autograd_lite.engine import OPS, TracingError, Value, contribution, topological_order, tracing
from autograd_lite.fuse import INSTRUCTIONS as _SELF_RUNNING
from autograd_lite.fuse import fuse_affine, grads_times, negative_zero_sums, rows_times
from autograd_lite.transforms import _normalize_argnums

__all__ = ["vectorize", "Vectorized", "TracingError", "compile_loss", "compile_predict", "LossStep"]

_LINEAR = OPS["linear"]
_REDUCTIONS = (None, "sum", "mean")


# --------------------------------------------------------------------------
# Tracing: f runs once on placeholders, leaves whose number is not known yet
# (`engine.tracing`).  Every node built from one is traced too and recorded, in
# creation order, on its trace; reading a traced number in any way (``if x > 0:``,
# ``x.data * 2``, ``float(x)``) raises `TracingError`.  The recorded nodes become
# the tape: no graph search, and each trace records its own nodes, so concurrent
# traces are independent.
# --------------------------------------------------------------------------


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


class _Dense:
    """``k`` linear nodes that read the same inputs ``xs``, fused: Z = X Wᵀ + b, one
    matrix product over the batch (∂/∂X = G W, ∂/∂W = Gᵀ X, ∂/∂b = Σ G).  Used when
    the weights and biases are leaves or arguments; the members are kept for the
    (rare) case of weights that differ per example."""

    def __init__(self, members: list[tuple], kinds: Callable) -> None:
        self.members = members
        n = len(members[0][2]) // 2
        self.outs = tuple(m[1] for m in members)
        self.xs = members[0][2][n:-1]
        self.w_slots = np.array([m[2][:n] for m in members], dtype=np.intp).reshape(len(members), n)
        self.b_slots = np.array([m[2][-1] for m in members], dtype=np.intp)
        self.xkind, self.wkind, self.bkind = kinds(np.array(self.xs, dtype=np.intp)), kinds(self.w_slots), \
            kinds(self.b_slots)


class _Map:
    """One unary op applied to every column of a fused layer's output: A = op(Z)."""

    def __init__(self, op: Any, members: list[tuple]) -> None:
        self.op = op
        self.members = members
        self.ins = tuple(m[2][0] for m in members)
        self.outs = tuple(m[1] for m in members)


class _Run:
    """The state of one forward pass (what the backward pass needs)."""

    __slots__ = ("vals", "arrays", "leafvals", "mats", "fast", "instrs", "fixed")

    def __init__(self, vals: list, arrays: Sequence[np.ndarray], leafvals: np.ndarray, instrs: list) -> None:
        self.vals = vals
        self.arrays = arrays
        self.leafvals = leafvals
        self.mats: dict[tuple, np.ndarray] = {}  # slots -> array whose last axis holds their values
        self.fast: dict[int, tuple] = {}  # id(dense) -> (X, W, Z) when the matrix path was taken
        self.instrs = instrs  # the program of this call's signature (`_Tape.program`)
        self.fixed: np.ndarray | None = None  # slots < leaf1 that are the same for every example: their values


class _Program:
    """The instructions for one call signature (`_Tape.program`): ``static`` are the
    placeholder slots that hold one value for every example in such a call (None: none)."""

    __slots__ = ("instrs", "static")

    def __init__(self, instrs: list, static: np.ndarray | None) -> None:
        self.instrs, self.static = instrs, static


_PROGRAMS_KEPT = 32  # signatures whose rewrite a tape keeps (the oldest is dropped beyond)


_get_op, _get_a, _get_b, _get_id = attrgetter("_op"), attrgetter("_a"), attrgetter("_b"), attrgetter("_id")


def _find(refs: list, sorted_ids: np.ndarray, by_id: np.ndarray | None) -> tuple:
    """Which of ``refs`` are op nodes of the tape (given their creation numbers, sorted,
    and the positions that sort them; None: in order): (their positions, -1 for the
    rest; the indices of the rest; the rest)."""
    n = len(sorted_ids)
    pid = np.fromiter(map(getattr, refs, repeat("_id"), repeat(-1)), np.int64, len(refs))
    if n and sorted_ids[-1] - sorted_ids[0] == n - 1:  # consecutive numbers (the usual case)
        k = pid - sorted_ids[0]
        hit = (k >= 0) & (k < n)
    else:
        k = np.minimum(np.searchsorted(sorted_ids, pid), max(n - 1, 0))
        hit = sorted_ids[k] == pid if n else np.zeros(len(refs), dtype=bool)
    if by_id is not None:
        k = by_id[np.where(hit, k, 0)]
    idx = np.flatnonzero(~hit)
    return np.where(hit, k, -1), idx, [refs[i] for i in idx.tolist()]


def _live(nodes: list[Value], outputs: list) -> list[Value]:
    """The nodes (creation order) that ``outputs`` are built from."""
    wanted = {id(o) for o in outputs}
    live = []
    for v in reversed(nodes):
        if id(v) in wanted:
            live.append(v)
            wanted.update(map(id, v.parents))
    live.reverse()
    return live


def _signed_zero_lookup(slot: dict, consts: list, leaf1: int, inputs: Iterable) -> Callable[[Any], int] | None:
    """0.0 and -0.0 are one dict key but two constants: if the graph has both, give the
    other one a slot of its own (appended to ``consts``) and return a lookup that tells
    them apart (None: it has one of them only)."""
    signs = {math.copysign(1.0, o) for o in inputs if o.__class__ is not Value and o is not None and o == 0}
    if len(signs) < 2:
        return None
    k = next(i for i, c in enumerate(consts) if c == 0)
    consts.append(-float(consts[k]))
    by_sign = {math.copysign(1.0, consts[k]): leaf1 + k, math.copysign(1.0, consts[-1]): leaf1 + len(consts) - 1}

    def lookup(o: Any) -> int:
        if o.__class__ is not Value and o is not None and o == 0:
            return by_sign[math.copysign(1.0, o)]
        return slot[o]

    return lookup


def _static_nodes(roots: list[Value]) -> list[Value]:
    """The op nodes behind ``roots`` (op nodes that were not traced: built from closure
    values only, such as ``w * 2`` for a weight w), in creation order."""
    found: dict[Value, None] = {}
    for r in roots:
        found.update(dict.fromkeys(v for v in topological_order(r) if v._op is not None))
    return sorted(found, key=attrgetter("_id"))


class _Tape:
    """A graph flattened into slots and instructions.

    Slots ``0..n_args-1`` hold the placeholder leaves, then the closure leaves
    (Values read at every call), then float constants, then op results.
    ``plain`` are ``(op, out_slot, in_slots)`` in producer-first order with the
    inputs in ``Value.parents`` order (``linear``: ``*ws, *xs, b``); ``instrs`` is
    the same with the layers fused (``fuse=True``)."""

    def __init__(self, placeholders: list[Value], outputs: list[Value | float],
                 arg_slots: list[int | list[int]], traced: list[Value], fuse: bool = True) -> None:
        """``traced``: the nodes the trace recorded, in creation order (producers first)."""
        self.n_args = len(placeholders)
        self.arg_slots = arg_slots
        # The op nodes: the static ones (op nodes the traced ones read that were not traced,
        # e.g. w * 2 for a weight w: recomputed at every call, so they follow the weights),
        # then the traced ones.  Everything below runs in bulk (map, zip, dict, numpy: C
        # loops, not a Python step per node): a traced graph can have 10⁴–10⁵ nodes.
        static: list[Value] = []
        nodes = traced
        while True:
            n = len(nodes)
            ops = list(map(_get_op, nodes))
            As, Bs = list(map(_get_a, nodes)), list(map(_get_b, nodes))  # b is None: a unary op
            special: dict[int, tuple] = {}  # linear nodes: (*ws, *xs, b), looked up apart
            if _LINEAR in ops:
                special = {k: nodes[k].parents for k, op in enumerate(ops) if op is _LINEAR}
                for k in special:
                    As[k] = Bs[k] = None
            # An input that is an op node is found by its creation number (_id), in numpy;
            # the other inputs (placeholders, closure leaves, constants) through a dict.
            ids = np.fromiter(map(_get_id, nodes), np.int64, n)
            by_id = None if not n or (np.diff(ids) > 0).all() else np.argsort(ids)  # static nodes, threads
            sorted_ids = ids if by_id is None else ids[by_id]
            linear_ins = list(chain.from_iterable(special.values()))
            found = [_find(refs, sorted_ids, by_id) for refs in (As, Bs, outputs, linear_ins)]
            # the graph's other objects as dict keys: a Value hashes by identity, a constant by value
            slot: dict[Any, int] = dict(zip(placeholders, range(self.n_args)))
            slot[None] = -1  # no input
            others = list(dict.fromkeys(filterfalse(slot.__contains__, chain.from_iterable(f[2] for f in found))))
            if any(map(getattr, others, repeat("_op"), repeat(None))):  # op nodes that were not traced
                static = _static_nodes([o for o in others if o.__class__ is Value and o._op is not None] + static)
                nodes = static + traced
                continue
            is_value = list(map(isinstance, others, repeat(Value)))
            self.leaves: list[Value] = list(compress(others, is_value))  # closure leaves
            consts = list(compress(others, map(not_, is_value)))  # numbers
            slot.update(zip(self.leaves, count(self.n_args)))
            self.leaf0, self.leaf1 = self.n_args, self.n_args + len(self.leaves)
            slot.update(zip(consts, count(self.leaf1)))
            lookup: Callable[[Any], int] = slot.__getitem__
            if 0 in slot and consts:  # (it may add a constant: -0.0 beside 0.0)
                lookup = _signed_zero_lookup(slot, consts, self.leaf1, chain.from_iterable(f[2] for f in found)) \
                    or lookup
            first = self.leaf1 + len(consts)
            # every input's slot: an op node's from its position, the others' from the dict
            sa, sb, outs, lin = [np.where(pos >= 0, pos + first, 0) for pos, _, _ in found]
            for col, (_, idx, objs) in zip((sa, sb, outs, lin), found):
                col[idx] = list(map(lookup, objs))
            self.outputs = outs.tolist()
            cut = np.cumsum([len(ins) for ins in special.values()])
            special = dict(zip(special, map(tuple, np.split(lin, cut[:-1]) if special else [])))
            flat = np.array([sa, sb])
            self.n_slots = first + n
            self.uses = np.bincount(np.concatenate([sa, sb, outs, lin]) + 1, minlength=self.n_slots + 1)[1:]
            if self.uses[first:].all():
                break
            # f built nodes that no output reads: drop them and start again (rare)
            traced = _live(traced, outputs)
            static, nodes = [], traced
        self.consts = list(np.array(consts, dtype=np.float64)) if consts else []
        self.first = first  # the slot of the first op node
        self.dyn0 = first + len(static)  # slots from here on hold traced results (per example)
        self.ops = ops
        self.sa, self.sb = flat
        self.special = special
        self._plain: list[tuple] | None = None
        self.instrs: list[tuple] = []  # the program when every argument is batched
        self._dense: list | None = None
        if fuse:
            self._dense = self._fuse(first) if special else None  # layers of linear nodes
            self.instrs = fuse_affine(self, self._dense)  # sums of products written with + and ×
        else:
            self.instrs = list(self.plain)
        self._fused = fuse
        self._programs: dict[tuple, _Program] = {}
        self.owner = {s: (i, j) for i, ss in enumerate(arg_slots) if isinstance(ss, list) for j, s in enumerate(ss)}
        self._need_cache: dict[frozenset, list[bool]] = {}

    @property
    def plain(self) -> list[tuple]:
        """Every op node as ``(op, out_slot, in_slots)``, producers first, the inputs in
        `Value.parents` order (``linear``: ``*ws, *xs, b``)."""
        if self._plain is None:
            self._plain = list(map(self.instr, range(len(self.ops))))
        return self._plain

    def instr(self, k: int) -> tuple:
        """Op node k as ``(op, out_slot, in_slots)``."""
        ins = self.special.get(k)
        if ins is None:
            a, b = int(self.sa[k]), int(self.sb[k])
            ins = (a,) if b < 0 else (a, b)
        return (self.ops[k], self.first + k, ins)

    def __len__(self) -> int:
        return len(self.ops)

    # signatures -----------------------------------------------------------------
    def program(self, batched: tuple[bool, ...]) -> _Program:
        """The instructions for a call whose arguments are batched or not (``batched[i]``:
        argument i has a batch axis, per numpy broadcasting at the call).

        An argument that is the same for every example (a number, or an array without a
        batch axis) is *static* for the sum-of-products rewrite, exactly like a closure
        weight: ``w·x`` with such a ``w`` joins a matrix product (`fuse_affine`).  The
        rewrite depends on which arguments are static, so it is made once per signature
        and cached, as ``jax.jit`` caches per shape: a call with another signature gets
        its own program, never one made for a signature that does not fit."""
        prog = self._programs.get(batched)
        if prog is None:
            if all(batched) or not self._fused:  # nothing static: the tape's own program
                prog = _Program(self.instrs, None)
            else:
                mask = np.ones(self.n_args, dtype=bool)
                for is_batched, slots in zip(batched, self.arg_slots):
                    if not is_batched:
                        mask[_slot_list(slots)] = False
                collecting = gc.isenabled()
                gc.disable()  # as in `Vectorized._record`: no cycles are made
                try:
                    prog = _Program(fuse_affine(self, self._dense, mask), np.flatnonzero(~mask))
                finally:
                    if collecting:
                        gc.enable()
            if len(self._programs) >= _PROGRAMS_KEPT:  # bounded: drop the oldest signature
                del self._programs[next(iter(self._programs))]
            self._programs[batched] = prog
        return prog

    # fusion --------------------------------------------------------------------
    def _kind(self, slots: np.ndarray, static: np.ndarray | None = None) -> tuple:
        """Where a group of slots' values come from, as one array: ``leaf`` (closure
        leaves), ``static`` (closure leaves and static arguments, ``static``: the
        placeholder slots that are), ``arg`` (a whole sequence argument) or ``slots``."""
        flat = slots.ravel()
        if flat.size and self.leaf0 <= flat.min() and flat.max() < self.leaf1:
            return ("leaf", slots - self.leaf0)
        if static is not None and flat.size and flat.max() < self.leaf1 and \
                np.isin(flat[flat < self.leaf0], static).all():
            return ("static", slots)
        for i, ss in enumerate(self.arg_slots):
            if isinstance(ss, list) and len(ss) == flat.size and ss == flat.tolist():
                return ("arg", i)
        return ("slots", tuple(flat.tolist()))

    def _fuse(self, first_node: int) -> list[tuple[int, tuple]]:
        """Group the linear nodes that share their inputs and whose weights and bias are
        leaves/arguments into `_Dense` instructions; then a unary op applied to every
        output of a group into a `_Map`.  Each fused instruction sits where its first
        member was: its inputs are ready there, and every consumer comes later."""
        groups: dict[tuple, list[int]] = {}
        for k, (op, _, ins) in enumerate(self.plain):
            if op is _LINEAR:
                n = len(ins) // 2
                if n and max(ins[:n]) < first_node and ins[-1] < first_node:
                    groups.setdefault(ins[n:-1], []).append(k)
        replace: dict[int, Any] = {}
        drop: set[int] = set()
        dense_outs: dict[tuple, int] = {}
        for members in groups.values():
            replace[members[0]] = _Dense([self.plain[k] for k in members], self._kind)
            drop.update(members[1:])
            dense_outs[tuple(self.plain[k][1] for k in members)] = members[0]
        # unary ops over a whole fused layer (their input, the dense group, is computed before them all)
        consumers: dict[int, dict[Any, int]] = {}
        for k, (op, _, ins) in enumerate(self.plain):
            if len(ins) == 1 and op is not _LINEAR:
                consumers.setdefault(ins[0], {}).setdefault(op, k)
        for outs in dense_outs:
            ops = set.intersection(*[set(consumers.get(o, {})) for o in outs])
            for op in ops:
                members = [consumers[o][op] for o in outs]
                if any(k in drop or k in replace for k in members):
                    continue
                first = min(members)
                replace[first] = _Map(op, [self.plain[k] for k in members])
                drop.update(set(members) - {first})
        return [(k, (replace[k], None, None) if k in replace else instr)
                for k, instr in enumerate(self.plain) if k not in drop]

    # forward -----------------------------------------------------------------
    def forward(self, args: Sequence[Any], arrays: Sequence[np.ndarray] = (), prog: _Program | None = None) -> _Run:
        """Evaluate every slot: ``args`` are the placeholder values (arrays or numbers),
        ``arrays`` the arguments as passed (sequence arguments whole); ``prog``: the
        program of the call's signature (`program`; None: every argument batched)."""
        vals: list[Any] = [None] * self.n_slots
        vals[:self.n_args] = args
        leafvals = np.fromiter((v.data for v in self.leaves), np.float64, len(self.leaves))
        vals[self.leaf0:self.leaf1] = list(leafvals)
        vals[self.leaf1:self.leaf1 + len(self.consts)] = self.consts
        run = _Run(vals, arrays, leafvals, self.instrs if prog is None else prog.instrs)
        if prog is not None and prog.static is not None:  # static arguments and leaves, one vector
            fixed = run.fixed = np.empty(self.leaf1)
            fixed[self.leaf0:] = leafvals
            fixed[prog.static] = [args[s] for s in prog.static.tolist()]
        with np.errstate(all="ignore"):
            for op, out, ins in run.instrs:
                if out is not None:
                    vals[out] = _forward_one(op, vals, ins)
                elif op.__class__ is _Dense:
                    self._dense_forward(op, run)
                elif op.__class__ in _SELF_RUNNING:  # autograd_lite.fuse: a sum-of-products layer
                    op.forward(self, run)
                else:
                    z = run.mats.get(op.ins)
                    if z is None:
                        for m in op.members:
                            vals[m[1]] = _forward_one(m[0], vals, m[2])
                        continue
                    a = op.op.forward(z)
                    run.mats[op.outs] = a
                    for j, o in enumerate(op.outs):
                        vals[o] = a[..., j]
        return run

    def _gather(self, kind: tuple, run: _Run, shape: tuple | None) -> np.ndarray | None:
        """The values of a group of slots as one array (last axes ``shape``; None:
        a batch of rows); None if they can't be (weights that differ per example)."""
        what, key = kind
        if what == "leaf":
            return run.leafvals[key]
        if what == "static":
            assert run.fixed is not None  # a program with static arguments
            return run.fixed[key]
        if what == "arg":
            a = run.arrays[key]
            if shape is None:
                return a
            return a.reshape(shape) if a.ndim == 1 else None
        m = run.mats.get(key)
        if m is not None and shape is None:
            return m
        vs = [run.vals[s] for s in key]
        if shape is not None:
            return np.array(vs, dtype=np.float64).reshape(shape) if all(np.ndim(v) == 0 for v in vs) else None
        return np.stack(np.broadcast_arrays(*vs), axis=-1)

    def _dense_forward(self, d: _Dense, run: _Run) -> None:
        k, n = d.w_slots.shape
        w = self._gather(d.wkind, run, (k, n))
        b = self._gather(d.bkind, run, (k,))
        if w is None or b is None:
            for m in d.members:
                run.vals[m[1]] = _forward_one(m[0], run.vals, m[2])
            return
        x = self._gather(d.xkind, run, None)
        assert x is not None  # the inputs: a batch of rows
        z = negative_zero_sums(rows_times(x, w) + b, x, w, b)  # the same kernel whatever the batch
        run.fast[id(d)] = (x, w, z)
        run.mats[d.outs] = z
        for j, o in enumerate(d.outs):
            run.vals[o] = z[..., j]

    # backward ----------------------------------------------------------------
    def _needs(self, wrt: frozenset) -> list[bool]:
        """need[s]: some slot in ``wrt`` is reachable backwards from slot s."""
        need = self._need_cache.get(wrt)
        if need is None:
            need = [s in wrt for s in range(self.n_slots)]
            for _, out, ins in self.plain:
                need[out] = any(need[i] for i in ins)
            self._need_cache[wrt] = need
        return need

    def backward(self, run: _Run, wrt: Sequence[int], output: int, batch: tuple | None,
                 whole: bool = False) -> Any:
        """∂output/∂slot for the slots in ``wrt`` (None where nothing flows).

        The chain rule runs over the instructions in reverse, consumers before
        producers, adding ``g · partial`` to each input in ``Value.parents`` order,
        exactly like `engine.Value.backward`.  Given the ``batch`` shape, this is the
        gradient of the sum over the batch: the seed is ones(batch) and a contribution
        to a slot of smaller shape (a shared parameter) is summed down to that shape.
        With ``batch=None`` every gradient keeps its per-example shape (seed 1).
        ``whole=True`` returns the per-slot gradients and, apart, the gradients
        accumulated in bulk by fused layers (``acc[i]``: argument i, ``acc["leaf"]``)."""
        vals = run.vals
        need = self._needs(frozenset(wrt))
        grads: list[Any] = [None] * self.n_slots
        reduce = batch is not None
        grads[output] = 1.0 if batch is None else np.ones(batch)
        acc: dict[Any, Any] = {}  # bulk gradients of whole arguments / all leaves

        def add(s: int, c: Any) -> None:
            if reduce:
                c = _unbroadcast(c, np.shape(vals[s]))
            old = grads[s]
            grads[s] = c if old is None else old + c

        def scatter(kind: tuple, slots: np.ndarray, c: np.ndarray) -> None:
            """Add c (last axes: the group's shape) to a group of slots."""
            what, key = kind
            if what == "arg":
                c = c.reshape(c.shape[:c.ndim - slots.ndim] + (slots.size,))
                if reduce:
                    c = _unbroadcast(c, run.arrays[key].shape)
                acc[key] = c if key not in acc else acc[key] + c
                return
            if what == "leaf" and reduce:
                c = _unbroadcast(c, slots.shape)
                if "leaf" not in acc:
                    acc["leaf"] = np.zeros(self.leaf1 - self.leaf0)
                np.add.at(acc["leaf"], key, c)
                return
            if what == "static" and reduce:  # by slot: static arguments, then closure leaves
                c = _unbroadcast(c, slots.shape)
                if "static" not in acc:
                    acc["static"] = np.zeros(self.leaf1)
                np.add.at(acc["static"], key, c)
                return
            flat = c.reshape(c.shape[:c.ndim - slots.ndim] + (slots.size,))
            for j, s in enumerate(slots.ravel().tolist()):
                if need[s]:
                    add(s, flat[..., j])

        with np.errstate(all="ignore"):
            for op, out, ins in reversed(run.instrs):
                if out is not None:
                    if grads[out] is not None and need[out]:
                        _backward_one(op, out, ins, vals, grads, need, add)
                    continue
                gs = [grads[o] for o in op.outs]
                if all(g is None for g in gs) or not any(need[o] for o in op.outs):
                    continue
                if op.__class__ in _SELF_RUNNING:
                    op.backward(self, run, grads, need, add, scatter, reduce)
                    continue
                if op.__class__ is _Map:
                    z = run.mats.get(op.ins)
                    if z is None:
                        for m in reversed(op.members):
                            if grads[m[1]] is not None:
                                _backward_one(m[0], m[1], m[2], vals, grads, need, add)
                        continue
                    g = _stack(gs, run.mats[op.outs].shape)
                    dz = contribution(op.op.partials[0], g, z, run.mats[op.outs])
                    for j, s in enumerate(op.ins):
                        add(s, dz[..., j])
                    continue
                fast = run.fast.get(id(op))
                if fast is None:
                    for m in reversed(op.members):
                        if grads[m[1]] is not None and need[m[1]]:
                            _backward_one(m[0], m[1], m[2], vals, grads, need, add)
                    continue
                x, w, z = fast
                g = _stack(gs, z.shape)
                xs = np.array(op.xs, dtype=np.intp)
                if any(need[s] for s in op.xs):
                    scatter(op.xkind, xs, grads_times(g, w))
                if need[int(op.w_slots.flat[0])] or any(need[s] for s in op.w_slots.ravel().tolist()):
                    if reduce:
                        g2 = g.reshape(-1, g.shape[-1])
                        x2 = np.broadcast_to(x, g.shape[:-1] + x.shape[-1:]).reshape(-1, x.shape[-1])
                        scatter(op.wkind, op.w_slots, g2.T @ x2)
                    else:
                        scatter(op.wkind, op.w_slots, g[..., :, None] * x[..., None, :])
                if any(need[s] for s in op.b_slots.tolist()):
                    scatter(op.bkind, op.b_slots, g)
        if whole:  # the caller assembles whole arguments / all leaves itself
            return {s: grads[s] for s in wrt}, acc
        result = {}
        for s in wrt:
            g = grads[s]
            if s < self.leaf1 and "static" in acc:
                extra = acc["static"][s]
                g = extra if g is None else g + extra
            if self.leaf0 <= s < self.leaf1 and "leaf" in acc:
                extra = acc["leaf"][s - self.leaf0]
                g = extra if g is None else g + extra
            elif s in self.owner and self.owner[s][0] in acc:
                i, j = self.owner[s]
                extra = acc[i][..., j]
                g = extra if g is None else g + extra
            result[s] = g
        return result


def _stack(gs: list, shape: tuple) -> np.ndarray:
    """Per-column gradients (None = 0) as one array (read-only use): the batch shape of
    ``shape`` broadcast with theirs (a column may be read by a batched value while the
    layer's input is not), last axis the columns (as `fuse._stack`)."""
    if len(gs) == 1 and gs[0] is not None and np.shape(gs[0]) == shape[:-1]:
        return np.asarray(gs[0])[..., None]
    batch = shape[:-1]
    for gj in gs:
        if gj is not None and getattr(gj, "shape", ()) != batch:  # (broadcast_shapes only then: it is slow)
            batch = np.broadcast_shapes(batch, np.shape(gj))
    g = np.zeros(batch + shape[-1:])
    for j, gj in enumerate(gs):
        if gj is not None:
            g[..., j] = gj
    return g


def _forward_one(op: Any, vals: list, ins: tuple) -> Any:
    if op is _LINEAR:
        n = len(ins) // 2
        return op.forward([vals[i] for i in ins[:n]], [vals[i] for i in ins[n:-1]], vals[ins[-1]])
    return op.forward(*[vals[i] for i in ins])


def _backward_one(op: Any, out: int, ins: tuple, vals: list, grads: list, need: list, add: Callable) -> None:
    """The chain rule at one node, as in the scalar engine: g · ∂out/∂input for each input."""
    g = grads[out]
    rules = op.partials
    if op is _LINEAR:
        n = len(ins) // 2
        for w, x in zip(ins[:n], ins[n:-1]):
            wv, xv = vals[w], vals[x]
            if need[w]:
                add(w, contribution(rules[0], g, wv, xv))
            if need[x]:
                add(x, contribution(rules[1], g, wv, xv))
        if need[ins[-1]]:
            add(ins[-1], contribution(rules[2], g))
        return
    args = [vals[i] for i in ins]
    args.append(vals[out])
    for i, rule in zip(ins, rules):
        if need[i]:
            add(i, contribution(rule, g, *args))  # g·(±1) needs no array product: see engine.contribution


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


def _takes_varargs(f: Callable) -> bool:
    try:
        return any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return False


def _arg_names(f: Callable, n: int) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(f).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"arg{i}" for i in range(n)]


def _value_list(a: Any) -> bool:
    """Is ``a`` a list or tuple of Values (parameters passed as one sequence argument)?"""
    return a.__class__ in (list, tuple) and len(a) > 0 and all(v.__class__ is Value for v in a)


def _as_float_array(a: Any, what: str) -> np.ndarray:
    if isinstance(a, Value):
        raise TypeError(f"{what}: pass numbers or numpy arrays, not a Value (use .data)")
    if _value_list(a):  # a model's parameters as one argument (as a JAX user passes a pytree): their numbers
        return np.fromiter((v.data for v in a), np.float64, len(a))
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as e:  # ragged lists
        raise ValueError(f"{what}: can't make an array of {a!r:.60}: {e}") from e
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what}: expected real numbers, got an array of dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _slot_list(slots: int | list[int]) -> list[int]:
    """An argument's tape slots: one for a scalar argument, a list for a sequence."""
    return slots if isinstance(slots, list) else [slots]


class Vectorized:
    """``f`` traced once; call it on arrays.  See `vectorize`."""

    def __init__(self, f: Callable, sizes: Sequence[int | None] | None = None, fuse: bool = True) -> None:
        if not callable(f):
            raise TypeError(f"vectorize() takes a function, not {type(f).__name__}")
        self.__wrapped__ = f
        self.__name__ = getattr(f, "__name__", "f")
        self.__doc__ = getattr(f, "__doc__", None)
        self._fuse = fuse
        # sizes not given: a call shows them (how many arguments for f(*args); a list of Values
        # is a sequence argument): f is traced once per such structure, kept in _by_arity
        self._infer = sizes is None
        self._lazy = sizes is None and _takes_varargs(f)
        self._by_arity: dict[tuple, Vectorized] | None = None
        self.tape: _Tape | None = None
        if self._lazy:  # f(*args): the call shows the arity
            self._by_arity = {}
            self.sizes, self.tape, self.multi = None, None, False
            return
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
        with tracing() as trace:
            for name, size in zip(names, sizes):
                if size is None:
                    self._arg_slots.append(len(placeholders))
                    placeholders.append(trace.leaf(name))
                    args.append(placeholders[-1])
                else:
                    ph = [trace.leaf(f"{name}[{j}]") for j in range(size)]
                    self._arg_slots.append(list(range(len(placeholders), len(placeholders) + size)))
                    placeholders.extend(ph)
                    args.append(ph)
            try:
                out = f(*args)
            except (TypeError, IndexError) as e:
                if not self._infer or isinstance(e, TracingError):
                    raise
                # f failed on scalars (it indexes an argument: parameters as one sequence): trace
                # it at each call instead, whose lists of Values show which arguments are sequences
                trace.nodes.clear()
                self._lazy, self._by_arity = True, {}
                self.sizes, self.tape, self.multi = None, None, False
                return
        self._slot_lists = [_slot_list(slots) for slots in self._arg_slots]
        self._arg_of = [i for i, slots in enumerate(self._slot_lists) for _ in slots]  # slot -> argument
        try:
            self._record(out, placeholders, trace.nodes, fuse)
        finally:
            trace.nodes.clear()  # they refer to the trace (their data): no cycle left behind

    def _record(self, out: Any, placeholders: list[Value], traced: list[Value], fuse: bool) -> None:
        self.multi = isinstance(out, (list, tuple))
        outs = list(out) if self.multi else [out]
        for o in outs:
            if o.__class__ is not Value and not (isinstance(o, (int, float, np.integer, np.floating))
                                                 and not isinstance(o, bool)):
                raise TypeError(f"vectorize: {self.__name__} must return a Value (or a list of Values), "
                                f"got {type(o).__name__}")
        collecting = gc.isenabled()
        gc.disable()  # the rewrite makes no reference cycles: a collection would only rescan the traced nodes
        try:
            self.tape = _Tape(placeholders, outs, self._arg_slots, traced, fuse=fuse)
        finally:
            if collecting:
                gc.enable()

    def __repr__(self) -> str:
        if self.tape is None:
            what = "takes *args" if _takes_varargs(self.__wrapped__) else "sizes shown by the call"
            return f"<vectorized {self.__name__}: {what}, traced at the first call>"
        return f"<vectorized {self.__name__}: {len(self.tape)} ops, sizes={self.sizes}>"

    def _structured(self, arrays: Sequence[Any]) -> Vectorized | None:
        """The traced version for this call's structure when ``sizes`` was not given and
        the call shows it: ``f(*args)`` (the number of arguments), or an argument that is
        a list of Values (a sequence of that length, e.g. a model's parameters).  None:
        this one fits."""
        if not self._infer:
            return None
        seqs = list in map(type, arrays) or tuple in map(type, arrays)  # (a C-speed look first)
        if not self._lazy and not seqs:
            return None
        sizes = tuple(len(a) if seqs and _value_list(a) else None for a in arrays)
        if not self._lazy and sizes == self.sizes:
            return None
        return self._for_call(arrays, sizes)

    def _for_call(self, arrays: Sequence[Any], sizes: tuple) -> Vectorized:
        """f traced for this call's structure (``sizes``), cached by it."""
        if self._by_arity is None:
            self._by_arity = {}
        g = self._by_arity.get(sizes)
        if g is None:
            n = len(arrays)
            try:
                g = Vectorized(self.__wrapped__, sizes, self._fuse)
            except (TypeError, IndexError) as e:
                if isinstance(e, TracingError):
                    raise
                shapes = [np.shape(a) for a in arrays]
                guess = tuple(sh[-1] if len(sh) >= 2 else None for sh in shapes)
                what = "takes *args; traced" if _takes_varargs(self.__wrapped__) else "traced"
                raise TypeError(f"vectorize: {self.__name__} {what} with {n} argument(s) of sizes {sizes} "
                                f"(shapes {shapes}) it failed: {e}. If an argument is a sequence per example, "
                                f"pass sizes=: e.g. vectorize({self.__name__}, sizes={guess!r}); parameters "
                                f"may be passed as one list of Values") from e
            if len(self._by_arity) >= _PROGRAMS_KEPT:  # bounded: drop the oldest structure
                del self._by_arity[next(iter(self._by_arity))]
            self._by_arity[sizes] = g
        if self._lazy:
            self.sizes, self.tape, self.multi = g.sizes, g.tape, g.multi  # the latest, to inspect
        return g

    # inputs ------------------------------------------------------------------
    def _prepare(self, arrays: Sequence[Any], name: str) -> tuple[list, list[tuple], tuple]:
        sizes = self.sizes
        assert sizes is not None  # traced: a fixed number of arguments (not *args mode)
        if len(arrays) != len(sizes):
            raise TypeError(f"{name}: {self.__name__} takes {len(sizes)} argument(s), got {len(arrays)}")
        arrs, batch_shapes = [], []
        for i, (a, size) in enumerate(zip(arrays, sizes)):
            if a.__class__ is float and size is None:  # the common static argument: a number
                arrs.append(np.float64(a))
                batch_shapes.append(())
                continue
            arr = _as_float_array(a, f"{name}: argument {i}")
            if size is not None:
                if arr.ndim == 0 or arr.shape[-1] != size:
                    raise ValueError(f"{name}: argument {i} is a sequence of {size}, so its last axis must have "
                                     f"length {size}; got an array of shape {arr.shape}")
                batch_shapes.append(arr.shape[:-1])
            else:
                batch_shapes.append(arr.shape)
            arrs.append(arr)
        try:  # (each distinct shape once: numpy makes an array per shape given)
            batch = np.broadcast_shapes(*dict.fromkeys(batch_shapes)) if batch_shapes else ()
        except ValueError:
            shown = ", ".join(f"argument {i}: {a.shape}" for i, a in enumerate(arrs))
            raise ValueError(f"{name}: the arguments' batch shapes {batch_shapes} don't broadcast together "
                             f"({shown})") from None
        return arrs, batch_shapes, batch

    def _placeholder_values(self, arrs: list) -> list:
        assert self.tape is not None  # traced (not *args mode)
        vals: list[Any] = [None] * self.tape.n_args
        for arr, slots in zip(arrs, self._arg_slots):
            if isinstance(slots, list):
                if arr.ndim == 1:  # one sequence for every example: its numbers (numpy scalars)
                    vals[slots[0]:slots[0] + len(slots)] = list(arr)
                    continue
                for j, s in enumerate(slots):
                    vals[s] = arr[..., j]
            else:
                vals[slots] = arr
        return vals

    def _results(self, vals: list, batch: tuple) -> np.ndarray:
        assert self.tape is not None  # traced (not *args mode)
        outs = [np.broadcast_to(vals[s], batch) for s in self.tape.outputs]
        if self.multi:
            return np.stack(outs, axis=-1) if outs else np.zeros((*batch, 0))
        return np.array(outs[0], dtype=np.float64)

    # calls ---------------------------------------------------------------------
    def __call__(self, *arrays: Any) -> np.ndarray:
        """f on every example: the arguments broadcast together like a numpy ufunc
        (a sequence argument contributes its shape without the last axis).
        Returns an array of the batch shape (with a last axis for a list output)."""
        alt = self._structured(arrays)
        if alt is not None:
            return alt(*arrays)
        arrs, shapes, batch = self._prepare(arrays, self.__name__)
        assert self.tape is not None  # traced (not *args mode)
        prog = self.tape.program(tuple(map(bool, shapes)))  # this signature's rewrite
        run = self.tape.forward(self._placeholder_values(arrs), arrs, prog)
        return self._results(run.vals, batch)

    def value_and_grad(self, *arrays: Any, argnums: int | Sequence[int] = 0,
                       reduce: str | None = None) -> tuple[np.ndarray, Any]:
        """``(f(arrays), ∂f/∂arrays[argnums])`` by reverse mode over the tape.

        ``reduce=None``: per-example gradients, ∂f_b/∂(argument of example b), of
        the batch shape (plus the sequence axis for a sequence argument), so an
        argument shared by all examples gets one gradient per example.
        ``reduce="sum"`` / ``"mean"``: the gradient of Σ_b f_b (resp. its mean over
        the N examples) with respect to each argument *as passed* (its own shape),
        like ``f(x).sum().backward()`` in PyTorch: a shared scalar gets one number.
        ``argnums`` is an int (one gradient) or a tuple of ints or a range (a tuple)."""
        alt = self._structured(arrays)
        if alt is not None:
            return alt.value_and_grad(*arrays, argnums=argnums, reduce=reduce)
        name = f"{self.__name__}.value_and_grad"
        tape, sizes = self.tape, self.sizes
        assert tape is not None and sizes is not None  # traced (not *args mode)
        if reduce not in _REDUCTIONS:
            raise ValueError(f"{name}: reduce must be None, 'sum' or 'mean', got {reduce!r}")
        if self.multi:
            raise TypeError(f"{name}: f returns {len(tape.outputs)} values; gradients need one scalar output")
        arrs, batch_shapes, batch = self._prepare(arrays, name)
        nums = _normalize_argnums(argnums, len(sizes), name)
        batched = tuple(map(bool, batch_shapes))  # the call's signature: which arguments have a batch axis
        run = tape.forward(self._placeholder_values(arrs), arrs, tape.program(batched))
        slot_lists = self._slot_lists
        wrt = sorted(set(chain.from_iterable(map(slot_lists.__getitem__, nums))))
        grads, acc = tape.backward(run, wrt, tape.outputs[0], batch if reduce else None, whole=True)
        n = float(np.prod(batch)) if batch else 1.0
        fixed = None
        if reduce and not all(batched):
            # the static arguments' gradients, one vector by slot (for 289 scalar arguments, one
            # array, not 289 little ones): the fused layers' bulk part plus what reached each slot
            fixed = acc["static"] if "static" in acc else np.zeros(tape.leaf1)
            arg_of = self._arg_of
            for s in wrt:
                if grads[s] is not None and not batched[arg_of[s]]:
                    fixed[s] += grads[s]
            if reduce == "mean":
                fixed /= n
        results: list[Any] = []
        for i in nums:
            slots = slot_lists[i]
            seq = isinstance(self._arg_slots[i], list)
            if fixed is not None and not batched[i]:  # a static argument: a gradient of its own shape
                if not seq:
                    results.append(fixed[slots[0]])  # a numpy scalar, as a 0-d sum gives
                    continue
                g = fixed[slots[0]:slots[0] + len(slots)].copy()
                if i in acc:  # a fused linear layer's gradient for the whole argument
                    g += acc[i] / n if reduce == "mean" else acc[i]
                results.append(g)
                continue
            target = (batch_shapes[i] if reduce else batch) + ((len(slots),) if seq else ())
            g = np.zeros(target)
            if i in acc:  # a fused layer's gradient for the whole argument
                g += acc[i]
            for j, s in enumerate(slots):
                gs = grads[s]
                if gs is not None:
                    if seq:
                        g[..., j] += _unbroadcast(gs, target[:-1]) if reduce else gs
                    else:
                        g += _unbroadcast(gs, target) if reduce else gs
            results.append(g / n if reduce == "mean" else g)
        grads_out = results[0] if isinstance(argnums, (int, np.integer)) else tuple(results)
        return self._results(run.vals, batch), grads_out

    def grad(self, *arrays: Any, argnums: int | Sequence[int] = 0, reduce: str | None = None) -> Any:
        """The gradient part of `value_and_grad`."""
        return self.value_and_grad(*arrays, argnums=argnums, reduce=reduce)[1]


def vectorize(f: Callable[..., Any], sizes: Sequence[int | None] | None = None, *, fuse: bool = True) -> Vectorized:
    """Trace ``f`` once on placeholder Values and return a function of arrays.

    ``f`` is written for one example.  ``sizes`` has one entry per argument:
    ``None`` for a scalar argument (the default for every argument) or ``n`` for a
    sequence of n scalars (``f`` receives a list of n Values; pass an array whose
    last axis has length n, e.g. an ``(m, n)`` matrix of m examples).  For
    ``f(*args)`` without ``sizes`` every argument is a scalar and the call shows
    how many (traced once per number of arguments).  Without ``sizes``, a list of
    Values passed as an argument is a sequence of its length (a model's
    parameters), and ``f`` is traced for it at the call.
    The result ``g`` evaluates the tape: ``g(*arrays)`` → array of values,
    ``g.value_and_grad(*arrays, argnums=0, reduce=None)`` → values and gradients.

    ``fuse=True`` rewrites sums of products into matrix products (`autograd_lite.fuse`):
    they add their terms in their own order, so where the scalar engine's sum cancels
    exactly a rounding residue (~1e-16 of the terms) may be left; ``fuse=False``
    replays every node as the scalar engine computes it.  Either way an example's
    numbers do not depend on the batch it is in (one kernel for every batch shape).

    >>> import numpy as np
    >>> from autograd_lite.vectorize import vectorize
    >>> dot = vectorize(lambda w, x: w[0] * x[0] + w[1] * x[1], sizes=(2, 2))
    >>> dot([1.0, 2.0], np.array([[1.0, 1.0], [3.0, -1.0]]))
    array([3., 1.])
    >>> dot.grad([1.0, 2.0], np.array([[1.0, 1.0], [3.0, -1.0]]), reduce="mean")   # mean of x
    array([2., 0.])
    """
    return Vectorized(f, sizes, fuse)


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
    parameters (``model.parameters()`` when compiled) being closure leaves whose
    ``.data`` is read at every call; traced once per input shape (the last few kept).

    Threads may share it: `get` returns the tape and the parameters' slots in it
    together, and a call uses only what it got, so a thread that traces another
    shape meanwhile changes nothing under it."""

    _KEEP = 8  # shapes kept traced (bounded: a new one drops the oldest)

    def __init__(self, model: Any, build: Callable) -> None:
        self.params = _model_params(model)
        self.build = build
        self.by_key: dict[tuple, tuple[Vectorized, list[int]]] = {}
        self.latest: tuple[Vectorized, list[int]] | None = None
        self._lock = threading.Lock()

    @property
    def g(self) -> Vectorized | None:
        return None if self.latest is None else self.latest[0]

    @property
    def param_slots(self) -> list[int]:
        return [] if self.latest is None else self.latest[1]

    def get(self, key: tuple) -> tuple[Vectorized, list[int]]:
        """(the traced function for inputs of this shape, each parameter's slot or -1)."""
        found = self.by_key.get(key)
        if found is None:
            with self._lock:  # one trace per shape, even if threads ask at once
                found = self.by_key.get(key)
                if found is None:
                    g = self.build(*key)
                    tape = g.tape
                    assert tape is not None  # built with sizes: traced at once
                    slot_of = {v: tape.leaf0 + k for k, v in enumerate(tape.leaves)}
                    found = (g, [slot_of.get(p, -1) for p in self.params])
                    if len(self.by_key) >= self._KEEP:
                        del self.by_key[next(iter(self.by_key))]
                    self.by_key[key] = found
        self.latest = found
        return found


class LossStep:
    r"""``step(Xb, yb) -> (cost, grads)``: the mean loss over the batch and its
    gradient with respect to ``model.parameters()`` (a list of floats, same order).

    The loss of one example, ``loss_fn(model(x), y)``, is traced once into a tape
    and replayed over the batch.  The parameters are the Values that
    ``model.parameters()`` returned at compile time; their current ``.data`` is
    read at every call, so an optimiser can update them in place between steps."""

    def __init__(self, model: Any, loss_fn: Callable[[Any, Any], Value]) -> None:
        if not callable(loss_fn):
            raise TypeError(f"compile_loss: loss_fn must be callable, got {type(loss_fn).__name__}")
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
        g, param_slots = self._traced.get((X.shape[1], None if y.ndim == 1 else y.shape[1]))
        tape = g.tape
        assert tape is not None  # built with sizes: traced at once
        run = tape.forward(g._placeholder_values([X, y]), [X, y])
        vals = run.vals
        out = tape.outputs[0]
        m = X.shape[0]
        cost = float(np.sum(np.broadcast_to(vals[out], (m,)))) / m
        slots = [s for s in param_slots if s >= 0]
        grads, acc = tape.backward(run, slots, out, (m,), whole=True)
        bulk = acc.get("leaf")
        total = np.zeros(len(tape.leaves)) if bulk is None else bulk
        for s in slots:  # gradients that reached a parameter outside a fused layer
            gs = grads[s]
            if gs is not None:
                total[s - tape.leaf0] += gs
        total /= m
        leaf_grads = total.tolist()
        return cost, [0.0 if s < 0 else leaf_grads[s - tape.leaf0] for s in param_slots]


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
    def build(n_features: int) -> Vectorized:
        def forward(x):
            return model(x)

        return Vectorized(forward, sizes=(n_features,))

    traced = _Traced(model, build)

    def predict(X: Any) -> np.ndarray:
        X = _batch(X, "predict")
        return traced.get((X.shape[1],))[0](X)

    return predict
