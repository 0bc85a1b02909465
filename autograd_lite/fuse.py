"""Find the matrix products in a scalar tape (used by `autograd_lite.vectorize`).

The course writes a neuron as a sum of products, ``z = b + w₁h₁ + w₂h₂ + …``;
traced per example that is 2n scalar nodes, replayed as 2n numpy calls.  This
pass rewrites such sums into the form the ``nn`` layers get from the fused
``linear`` node:

1. A tree of ``+``, ``−`` and unary ``−`` (any association, any order of
   operands) whose leaves include products ``w·x`` of a *static* factor ``w``
   (a weight: closure leaves and constants only) and a *dynamic* one ``x``
   (depends on the example) becomes one affine form ``Σ ±wⱼxⱼ + Σ ±bₖ``.
   A node inside the tree must feed only that tree (so no value that anything
   else reads is lost); a product of two dynamic values (a weight that differs
   per example) or a product read twice stays a node and enters as a bias.
2. Affine forms over the same inputs ``x`` (and at the same depth of the graph,
   so that none reads another) become one matrix product ``Z = X (S∘W)ᵀ + B``
   (S the signs), a `_Affine` instruction: ∂/∂X = G (S∘W), ∂/∂W = S∘(Gᵀ X),
   ∂/∂bₖ = ±G.
3. A unary op applied to every output of such a group (relu, tanh, …) becomes
   one array op (`_Apply`).

Values and gradients are the scalar engine's (the forward and the local
derivatives of every op come from `engine.OPS`), up to the order in which a
dot product adds its terms (a sum of -0.0 terms stays -0.0, as in the scalar
engine, though a matrix product starts from +0.0: `negative_zero_sums`).
Instructions are then ordered by depth (longest path from the inputs), a
topological order in which every group is one step.

The search runs over the whole tape at once, on its arrays of input slots:
each tree node is joined to its one consumer, and following those links to the
roots is pointer jumping (`_up`), a few numpy passes; Python then works once
per sum, not once per node.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

try:
    import numpy as np
except ImportError:  # the scalar engine runs without numpy; this module does not
    raise ImportError("autograd_lite.fuse needs numpy, which is not installed: "
                      "pip install numpy") from None

from autograd_lite.engine import OPS, contribution

__all__ = ["fuse_affine", "rows_times", "grads_times"]

_ADD, _SUB, _NEG, _MUL, _LINEAR = OPS["add"], OPS["sub"], OPS["neg"], OPS["mul"], OPS["linear"]


def _stack(gs: list, z: np.ndarray) -> np.ndarray:
    """Per-column gradients (None = 0) as one array: the batch shape of ``z`` broadcast
    with theirs, last axis the columns."""
    if len(gs) == 1 and gs[0] is not None and np.shape(gs[0]) == z.shape[:-1]:
        return np.asarray(gs[0])[..., None]
    batch = z.shape[:-1]
    for gj in gs:
        if gj is not None and getattr(gj, "shape", ()) != batch:  # (broadcast_shapes only then: it is slow)
            batch = np.broadcast_shapes(batch, np.shape(gj))
    g = np.zeros(batch + z.shape[-1:])
    for j, gj in enumerate(gs):
        if gj is not None:
            g[..., j] = gj
    return g


# The matrix products of the batch path.  Not ``x @ w.T``: BLAS picks its kernel by
# the shape (a batch of one goes to another routine than a batch of twenty) and
# may use fused multiply-add, so one example's numbers would depend on the batch
# it came in.  numpy's einsum (no BLAS: ``optimize=False``) runs the same loop for
# every row whatever the batch, so each example gets the same numbers alone or in
# any batch (a test checks it, batch by batch).


def rows_times(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Z[..., i] = Σⱼ x[..., j]·w[i, j] for every row of the batch (x Wᵀ), with the
    same arithmetic for a row whatever the batch shape."""
    return np.einsum("...j,ij->...i", x, w, optimize=False)


def grads_times(g: np.ndarray, w: np.ndarray) -> np.ndarray:
    """G W: ∂/∂x of every row (Σᵢ g[..., i]·w[i, j]), the same arithmetic whatever the batch."""
    return np.einsum("...i,ij->...j", g, w, optimize=False)


def negative_zero_sums(z: np.ndarray, x: np.ndarray, w: np.ndarray, b: Any = None) -> np.ndarray:
    """``z = x @ wᵀ (+ b)`` with the sign of IEEE-754 sums: a sum whose every addend is
    -0.0 is -0.0 (as the scalar engine adds them, one by one), but a matrix product
    starts from +0.0.  Put the sign back there (only zeros of z are looked at)."""
    zero = z == 0
    if not zero.any():
        return z
    idx = np.nonzero(zero)
    terms = np.broadcast_to(x, z.shape[:-1] + x.shape[-1:])[idx[:-1]] * w[idx[-1]]
    negative = ((terms == 0) & np.signbit(terms)).all(axis=-1)
    if b is not None:
        bias = np.broadcast_to(b, z.shape)[idx]
        negative &= (bias == 0) & np.signbit(bias)
    z = np.array(z, dtype=np.float64)
    z[idx] = np.where(negative, -0.0, z[idx])
    return z


class _Affine:
    """``k`` sums of products over the same inputs ``xs``: Z = X (S∘W)ᵀ + B, one matrix
    product over the batch.  ``w_slots`` (k × n) are static slots, ``signs`` ±1 (None: all +);
    ``biases[j]`` the other terms of sum j as (slot, ±1); ``b_slots`` when every sum has
    exactly one static bias added with +."""

    def __init__(self, tape: Any, forms: list[_Form], terms: tuple, static: np.ndarray | None = None) -> None:
        t_x, t_w, t_sign = terms
        rows = [slice(f.t0, f.t1) for f in forms]
        self.outs = tuple(f.out for f in forms)
        self.x_slots = t_x[rows[0]]
        self.xs = self.x_slots.tolist()
        self.w_slots = np.array([t_w[r] for r in rows], dtype=np.intp)
        signs = np.array([t_sign[r] for r in rows], dtype=np.float64)
        self.signs = None if (signs > 0).all() else signs
        self.biases = [f.biases for f in forms]
        # where each group's values come from (``static``: the static argument slots of the signature)
        self.xkind, self.wkind = tape._kind(self.x_slots, static), tape._kind(self.w_slots, static)
        simple = all(len(f.biases) == 1 and f.biases[0][1] > 0 and f.static for f in forms)
        self.b_slots = np.array([f.biases[0][0] for f in forms], dtype=np.intp) if simple else None
        self.bkind = tape._kind(self.b_slots, static) if simple else None
        # the sums that negate a sum of their own, −(a + b) or x − (a + b): as a flat form
        # they add −a and −b, which is exact except for the sign of a zero (−(0.0 + -0.0) is
        # -0.0, (-0.0) + 0.0 is 0.0), so where such a sum is 0 it is redone node by node
        self.replay = {j: [tape.instr(m) for m in f.members.tolist()] for j, f in enumerate(forms) if f.exact}

    def __repr__(self) -> str:
        k, n = self.w_slots.shape
        return f"<affine {k}×{n}: Z = X Wᵀ + b>"

    def forward(self, tape: Any, run: Any) -> None:
        vals = run.vals
        k, n = self.w_slots.shape
        x = tape._gather(self.xkind, run, None)
        w = tape._gather(self.wkind, run, (k, n))
        if self.signs is not None:
            w = w * self.signs
        b: Any = None
        if self.b_slots is not None:
            b = tape._gather(self.bkind, run, (k,))
        elif any(self.biases):
            cols = []
            for terms in self.biases:
                c: Any = None  # the sum of the terms, from the first one (0.0 + -0.0 would lose the sign)
                for s, sign in terms:
                    v = vals[s] if sign > 0 else -vals[s]
                    c = v if c is None else c + v
                cols.append(0.0 if c is None else c)
            b = np.stack(np.broadcast_arrays(*cols), axis=-1)
        z = rows_times(x, w)
        z = negative_zero_sums(z if b is None else z + b, x, w, b)
        if self.replay:
            z = self._exact_zeros(run, z)
        run.fast[id(self)] = (x, w)
        run.mats[self.outs] = z
        for j, o in enumerate(self.outs):
            vals[o] = z[..., j]

    def _exact_zeros(self, run: Any, z: np.ndarray) -> np.ndarray:
        """``z`` with its zeros in the columns of `replay` recomputed as the scalar engine
        computes them (the tree's nodes in their order, at those examples only): the
        sign of a zero depends on how the sum was written."""
        vals, k = run.vals, z.shape[-1]
        flat = z.reshape(-1, k)
        fixed = None
        for j, nodes in self.replay.items():
            rows = np.flatnonzero(flat[:, j] == 0)
            if not rows.size:
                continue
            local: dict[int, Any] = {}
            for op, out, ins in nodes:
                args = [local[s] if s in local else vals[s] if np.ndim(vals[s]) == 0 else
                        np.broadcast_to(vals[s], z.shape[:-1]).reshape(-1)[rows] for s in ins]
                local[out] = op.forward(*args)
            if fixed is None:
                fixed = np.array(flat, dtype=np.float64)
            fixed[rows, j] = local[self.outs[j]]
        return z if fixed is None else fixed.reshape(z.shape)

    def backward(self, tape: Any, run: Any, grads: list, need: list, add: Any, scatter: Any,
                 reduce: bool) -> None:
        x, w = run.fast[id(self)]
        gs = [grads[o] for o in self.outs]
        g = _stack(gs, run.mats[self.outs])
        if any(need[s] for s in self.xs):
            scatter(self.xkind, self.x_slots, grads_times(g, w))
        if any(need[s] for s in self.w_slots.ravel().tolist()):
            if reduce:
                g2 = g.reshape(-1, g.shape[-1])
                x2 = np.broadcast_to(x, g.shape[:-1] + x.shape[-1:]).reshape(-1, x.shape[-1])
                dw = g2.T @ x2
            else:
                dw = g[..., :, None] * x[..., None, :]
            scatter(self.wkind, self.w_slots, dw if self.signs is None else dw * self.signs)
        if self.b_slots is not None:
            if any(need[s] for s in self.b_slots.tolist()):
                scatter(self.bkind, self.b_slots, g)
            return
        for gj, terms in zip(gs, self.biases):
            if gj is not None:
                for s, sign in terms:
                    if need[s]:
                        add(s, gj if sign > 0 else -gj)


class _Apply:
    """One unary op applied to every output of an `_Affine`: A = op(Z), A' = op'(Z, A)."""

    def __init__(self, op: Any, ins: tuple, outs: tuple) -> None:
        self.op = op
        self.ins = ins
        self.outs = outs

    def __repr__(self) -> str:
        return f"<{self.op.name} over {len(self.outs)} columns>"

    def forward(self, tape: Any, run: Any) -> None:
        a = self.op.forward(run.mats[self.ins])
        run.mats[self.outs] = a
        vals = run.vals
        for j, o in enumerate(self.outs):
            vals[o] = a[..., j]

    def backward(self, tape: Any, run: Any, grads: list, need: list, add: Any, scatter: Any,
                 reduce: bool) -> None:
        z, a = run.mats[self.ins], run.mats[self.outs]
        # the table's rule, as the scalar engine applies it (Over divides, Mask zeroes even an inf g)
        dz = contribution(self.op.partials[0], _stack([grads[o] for o in self.outs], a), z, a)
        for j, s in enumerate(self.ins):
            add(s, dz[..., j])


INSTRUCTIONS = (_Affine, _Apply)


class _Form:
    """One sum of products found in the tape: its terms are ``t0:t1`` of the sorted term
    arrays (``key``: its inputs' slots as bytes), ``biases`` the other terms as (slot, ±1)
    (``static``: all of them static), ``members`` the nodes it stands for."""

    __slots__ = ("out", "t0", "t1", "key", "biases", "static", "members", "exact")

    def __init__(self, out: int, t0: int, t1: int, key: bytes, biases: list, static: bool,
                 members: np.ndarray, exact: bool = False) -> None:
        self.out, self.t0, self.t1, self.key = out, t0, t1, key
        self.biases, self.static, self.members = biases, static, members
        self.exact = exact  # it negates a sum of its own: zeros are redone node by node


_ADD_C, _SUB_C, _NEG_C, _MUL_C = 1, 2, 3, 4
_CODES = {_ADD: _ADD_C, _SUB: _SUB_C, _NEG: _NEG_C, _MUL: _MUL_C}


def _up(parent: np.ndarray, sign: np.ndarray, flag: np.ndarray) -> tuple:
    """Follow ``parent`` (a forest: roots are their own parent) to the roots, by pointer
    jumping (log₂ depth array passes): each node's root, the product of ``sign`` on its
    way there, and whether ``flag`` holds at it or anywhere above it."""
    root, sign, flag = parent, sign.copy(), flag.copy()
    while True:
        up = root[root]
        if (up == root).all():
            flag |= flag[root]  # the root's own flag
            return root, sign, flag
        sign *= sign[root]
        flag |= flag[root]
        root = up


def _dynamic(tape: Any, batched: np.ndarray | None) -> np.ndarray:
    """Which slots differ per example (one more entry, False, for "no input"): the
    batched arguments' placeholders and every traced node that reads one.  Static:
    closure leaves, constants, and the arguments that are the same for every example
    in this call (``batched[s]`` False), with whatever is computed from them alone."""
    n_slots, first = tape.n_slots, tape.first
    dyn = np.zeros(n_slots + 1, dtype=bool)
    if batched is None or batched.all():  # every argument batched: every traced node is dynamic
        dyn[:tape.n_args] = True
        dyn[tape.dyn0:n_slots] = True
        return dyn
    dyn[:tape.n_args] = batched
    d = dyn.tolist()  # producers first, so one pass settles every node (a Python loop, once per signature)
    sa, sb, special = tape.sa.tolist(), tape.sb.tolist(), tape.special
    for k in range(tape.dyn0 - first, len(tape.ops)):
        ins = special.get(k)
        d[first + k] = any(d[i] for i in ins) if ins is not None else d[sa[k]] or d[sb[k]]
    return np.array(d, dtype=bool)


def fuse_affine(tape: Any, dense: list[tuple[int, tuple]] | None = None, batched: np.ndarray | None = None) -> list:
    """The tape's instructions, with the sums of products rewritten as above.

    ``dense``: the instructions after the linear-layer fusion (`_Tape._fuse`) with the
    position of each, or None (every op node as it is).  ``batched``: for each
    placeholder slot, whether the call gives it a batch axis (None: all do); the others
    are static, like closure weights (`_Tape.program`).  The search runs over the
    whole tape at once with numpy (its arrays ``sa``, ``sb``: each node's input slots),
    so it costs a few array passes, not a Python step per node."""
    n, first, n_slots = len(tape.ops), tape.first, tape.n_slots
    sa, sb, uses = tape.sa, tape.sb, tape.uses
    code = np.fromiter(map(_CODES.get, tape.ops, repeat(0)), np.int8, n)  # 0: any other op
    dyn = _dynamic(tape, batched)  # depends on a batched argument (differs per example); [-1]: no input
    static = None if batched is None else np.flatnonzero(~batched)  # the static placeholder slots
    tree = (code >= _ADD_C) & (code <= _NEG_C)  # +, − and unary −
    product = (code == _MUL_C) & (dyn[sa] != dyn[sb])  # w·x: one static factor, one dynamic

    # 1. every tree node and product read by exactly one +, − or unary − joins that node's
    #    tree; following the consumers up (pointer jumping: log₂ depth array passes) gives
    #    each its root and its sign there
    nodes = np.arange(n)
    consumer = np.full(n, -1)
    side = np.zeros(n, dtype=bool)  # read as the right operand
    for ins, right in ((sa, False), (sb, True)):
        j = ins - first
        ok = (j >= 0) & (uses[ins] == 1)
        consumer[j[ok]] = nodes[ok]
        side[j[ok]] = right
    joins = consumer >= 0
    cons = np.where(joins, consumer, 0)
    joins &= (tree | product) & tree[cons]
    flips = (code[cons] == _NEG_C) | ((code[cons] == _SUB_C) & side)
    addsub = (code == _ADD_C) | (code == _SUB_C)
    root, sign, summed = _up(np.where(joins, cons, nodes), np.where(joins & flips, -1, 1).astype(np.int8), addsub)
    if not summed[cons[joins]].all():  # a unary − above every + of its tree, as in relu(−(a + b)): it
        joins &= summed[cons]          # is no sum, so what it reads roots a tree of its own
        root, sign, _ = _up(np.where(joins, cons, nodes), np.where(joins & flips, -1, 1).astype(np.int8), addsub)
    terms = np.flatnonzero(product & joins & addsub[root])
    if not terms.size:
        return [tape.instr(k) for k in range(n)] if dense is None else [instr for _, instr in dense]
    has_form = np.zeros(n, dtype=bool)
    has_form[root[terms]] = True
    members = has_form[root]  # the nodes each sum of products stands for (its root included)
    # the terms (x, w, ±1) and the other operands of the tree (biases), by root
    ta, tb = sa[terms], sb[terms]
    xdyn = dyn[ta]
    t_root, t_x, t_w, t_sign = root[terms], np.where(xdyn, ta, tb), np.where(xdyn, tb, ta), sign[terms]
    order = np.lexsort((t_sign, t_w, t_x, t_root))
    t_root, t_x, t_w, t_sign = t_root[order], t_x[order], t_w[order], t_sign[order]
    tnodes = np.flatnonzero(tree & members)
    b_roots: list[np.ndarray] = []
    b_slots: list[np.ndarray] = []
    b_signs: list[np.ndarray] = []
    for ins, right in ((sa, False), (sb, True)):
        t = tnodes if not right else tnodes[code[tnodes] != _NEG_C]
        s = ins[t]
        j = s - first
        inner = (j >= 0) & joins[np.where(j >= 0, j, 0)]
        keep = ~inner
        flip = (code[t] == _NEG_C) | ((code[t] == _SUB_C) & right)
        b_roots.append(root[t][keep])
        b_slots.append(s[keep])
        b_signs.append((sign[t] * np.where(flip, -1, 1))[keep])
    b_root, b_slot, b_sign = np.concatenate(b_roots), np.concatenate(b_slots), np.concatenate(b_signs)
    border = np.lexsort((b_slot, b_root))
    b_root, b_slot, b_sign = b_root[border], b_slot[border], b_sign[border]

    # a tree that negates a sum of its own (a unary − or the right side of a − reading
    # a +, − or unary − of the same tree): its zeros need the scalar order (`_Affine`)
    flipped = np.where(code == _NEG_C, sa, np.where(code == _SUB_C, sb, -1)) - first
    fk = np.where(flipped >= 0, flipped, 0)
    negates_sum = (flipped >= 0) & joins[fk] & tree[fk] & members
    exact_root = np.zeros(n, dtype=bool)
    exact_root[root[negates_sum]] = True
    forms: dict[int, _Form] = {}  # by the slot of its root
    roots = np.flatnonzero(has_form)
    t_cut = np.searchsorted(t_root, roots, side="right").tolist()
    b_cut = np.searchsorted(b_root, roots, side="right").tolist()
    bs_all, bsg_all, static_all = b_slot.tolist(), b_sign.tolist(), (~dyn[b_slot]).tolist()
    m_root = root[members]
    m_order = np.argsort(m_root, kind="stable")
    m_sorted = np.flatnonzero(members)[m_order]
    m_cut = np.searchsorted(m_root[m_order], roots, side="right").tolist()
    t0 = b0 = m0 = 0
    for r, t1, b1, m1 in zip(roots.tolist(), t_cut, b_cut, m_cut):
        f = forms[first + r] = _Form(first + r, t0, t1, t_x[t0:t1].tobytes(),
                                     list(zip(bs_all[b0:b1], bsg_all[b0:b1])), all(static_all[b0:b1]),
                                     m_sorted[m0:m1], bool(exact_root[r]))
        t0, b0, m0 = t1, b1, m1
    xs_of = t_x.tolist()

    # 2. depth of every result (statics: 0), with each sum standing for its tree
    if dense is None:
        base = [(k, tape.instr(k)) for k in np.flatnonzero(~members | has_form).tolist()]
    else:
        base = [(k, item) for k, item in dense if item[1] is None or not members[item[1] - first] or has_form[k]]
    level = [0] * n_slots
    dynamic = dyn.tolist()
    items: list[list] = []  # [level, position, instruction or form]
    unary: dict[int, list] = {}  # slot -> the items of the unary ops that read it
    xs_level: dict[bytes, int] = {}  # the deepest input of each list of inputs
    for pos, item in base:
        op, out, ins = item
        if out in forms:
            f = forms[out]
            lv = xs_level.get(f.key)
            if lv is None:
                lv = xs_level[f.key] = max(map(level.__getitem__, xs_of[f.t0:f.t1]))
            for s, _ in f.biases:  # its weights are static: level 0
                if level[s] > lv:
                    lv = level[s]
            level[out] = lv = lv + 1
            items.append([lv, pos, f])
            continue
        if out is None:  # an already fused layer: its inputs and outputs
            ins = [i for m in op.members for i in m[2]]
            outs = op.outs
        else:
            outs = (out,)
        lv = max(map(level.__getitem__, ins)) + 1 if dynamic[outs[0]] and ins else 0
        for o in outs:
            level[o] = lv
        it = [lv, pos, item]
        items.append(it)
        if out is not None and len(ins) == 1 and op is not _LINEAR and dynamic[ins[0]]:
            unary.setdefault(ins[0], []).append(it)

    # 3. group the sums by (inputs, depth); a lone sum of one product stays as it was
    groups: dict[tuple, list] = {}
    for it in items:
        if it[2].__class__ is _Form:
            groups.setdefault((it[2].key, it[0]), []).append(it)
    dropped: set[int] = set()
    for (_, lv), its in groups.items():
        if len(its) == 1 and its[0][2].t1 - its[0][2].t0 == 1:
            f = its[0][2]
            its[0][2] = tape.instr(f.out - first)  # back to the plain node; its tree's nodes come back too
            restore = [[lv, its[0][1] - 0.5, tape.instr(j)] for j in f.members.tolist() if j != f.out - first]
            items.extend(restore)
            continue
        aff = _Affine(tape, [it[2] for it in its], (t_x, t_w, t_sign), static)
        for it in its[1:]:
            dropped.add(id(it))
        its[0][2] = aff
        its[0][1] = min(it[1] for it in its)
        # 4. a unary op applied to every output of the group
        by_op: dict[Any, list] = {}
        for j, o in enumerate(aff.outs):
            for c in unary.get(o, ()):
                found = by_op.setdefault(c[2][0], [None] * len(aff.outs))
                if found[j] is None:
                    found[j] = c
        for op, mem in by_op.items():
            if None in mem:
                continue
            for c in mem[1:]:
                dropped.add(id(c))
            outs = tuple(c[2][1] for c in mem)
            mem[0][1] = min(c[1] for c in mem)
            mem[0][2] = _Apply(op, aff.outs, outs)
    items = [it for it in items if id(it) not in dropped]
    items.sort(key=lambda it: (it[0], it[1]))
    return [it[2] if it[2].__class__ is tuple else (it[2], None, None) for it in items]
