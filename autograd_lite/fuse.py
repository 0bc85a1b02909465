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
dot product adds its terms.  Instructions are then ordered by depth (longest
path from the inputs), a topological order in which every group is one step.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from autograd_lite.engine import OPS, partial

__all__ = ["fuse_affine"]

_ADD, _SUB, _NEG, _MUL, _LINEAR = OPS["add"], OPS["sub"], OPS["neg"], OPS["mul"], OPS["linear"]


def _stack(gs: list, z: np.ndarray) -> np.ndarray:
    """Per-column gradients (None = 0) as one array: the batch shape of ``z`` broadcast
    with theirs, last axis the columns."""
    if len(gs) == 1 and gs[0] is not None and np.shape(gs[0]) == z.shape[:-1]:
        return np.asarray(gs[0])[..., None]
    batch = np.broadcast_shapes(z.shape[:-1], *(np.shape(g) for g in gs if g is not None))
    g = np.zeros(batch + z.shape[-1:])
    for j, gj in enumerate(gs):
        if gj is not None:
            g[..., j] = gj
    return g


class _Affine:
    """``k`` sums of products over the same inputs ``xs``: Z = X (S∘W)ᵀ + B, one matrix
    product over the batch.  ``w_slots`` (k × n) are static slots, ``signs`` ±1 (None: all +);
    ``biases[j]`` the other terms of sum j as (slot, ±1); ``b_slots`` when every sum has
    exactly one static bias added with +."""

    def __init__(self, tape: Any, forms: list[tuple]) -> None:
        self.outs = tuple(f[0] for f in forms)
        self.xs = forms[0][1]
        self.x_slots = np.array(self.xs, dtype=np.intp)
        self.w_slots = np.array([f[2] for f in forms], dtype=np.intp).reshape(len(forms), len(self.xs))
        signs = np.array([f[3] for f in forms], dtype=np.float64).reshape(self.w_slots.shape)
        self.signs = None if (signs > 0).all() else signs
        self.biases = [f[4] for f in forms]
        self.static_bias = [f[5] for f in forms]
        self.xkind, self.wkind = tape._kind(self.x_slots), tape._kind(self.w_slots)
        simple = all(len(b) == 1 and b[0][1] > 0 and st for b, st in zip(self.biases, self.static_bias))
        self.b_slots = np.array([b[0][0] for b in self.biases], dtype=np.intp) if simple else None
        self.bkind = tape._kind(self.b_slots) if simple else None
        self.n_terms = sum(len(self.xs) + len(b) for b in self.biases)

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
        z = x @ w.T
        if self.b_slots is not None:
            z = z + tape._gather(self.bkind, run, (k,))
        elif any(self.biases):
            cols = []
            for terms in self.biases:
                c: Any = 0.0
                for s, sign in terms:
                    c = c + vals[s] if sign > 0 else c - vals[s]
                cols.append(c)
            z = z + np.stack(np.broadcast_arrays(*cols), axis=-1)
        run.fast[id(self)] = (x, w)
        run.mats[self.outs] = z
        for j, o in enumerate(self.outs):
            vals[o] = z[..., j]

    def backward(self, tape: Any, run: Any, grads: list, need: list, add: Any, scatter: Any,
                 reduce: bool) -> None:
        x, w = run.fast[id(self)]
        gs = [grads[o] for o in self.outs]
        g = _stack(gs, run.mats[self.outs])
        if any(need[s] for s in self.xs):
            scatter(self.xkind, self.x_slots, g @ w)
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
        dz = _stack([grads[o] for o in self.outs], a) * partial(self.op.partials[0], z, a)
        for j, s in enumerate(self.ins):
            add(s, dz[..., j])


INSTRUCTIONS = (_Affine, _Apply)


def fuse_affine(tape: Any, instrs: list) -> list:
    """``instrs`` (a valid order of the tape's instructions, plain tuples ``(op, out, ins)``
    and fused items with ``out`` None) with the sums of products rewritten as above; the
    list itself if there are none."""
    plain = tape.plain
    n_slots = tape.n_slots
    first = n_slots - len(plain)  # the slot of plain[0]'s result
    uses = Counter(chain.from_iterable(map(itemgetter(2), plain)))  # how many inputs read each slot
    uses.update(tape.outputs)
    dyn = [False] * n_slots  # depends on an argument (differs per example)
    dyn[:tape.n_args] = [True] * tape.n_args
    for _, out, ins in plain:
        for i in ins:
            if dyn[i]:
                dyn[out] = True
                break

    # 1. sums of products, found from the consumers down (plain is producers first)
    add_, sub_, neg_, mul_ = _ADD, _SUB, _NEG, _MUL
    seen = bytearray(len(plain))
    inside = bytearray(len(plain))  # the nodes of the sums rewritten
    forms: dict[int, tuple] = {}  # root slot -> (root, xs, ws, signs, biases, bias_static, members)
    for k in range(len(plain) - 1, -1, -1):
        op, out, ins = plain[k]
        if seen[k] or (op is not add_ and op is not sub_):
            continue
        members = [k]
        terms: list[tuple] = []
        biases: list[tuple] = []
        stack = [(out, 1.0)]
        while stack:
            s, sign = stack.pop()
            while True:  # down the left operands (s = s + w·h is a left chain); right ones are terms
                j = s - first
                if j < 0 or uses[s] != 1 and s != out:
                    biases.append((s, sign))
                    break
                op, _, pins = plain[j]
                if op is add_ or op is sub_:
                    if s != out:
                        members.append(j)
                    r, rsign = pins[1], (-sign if op is sub_ else sign)
                    jr = r - first
                    if jr >= 0 and uses[r] == 1:
                        rop, _, rins = plain[jr]
                        if rop is mul_ and dyn[rins[0]] != dyn[rins[1]]:  # the common case: a product
                            members.append(jr)
                            a, b = rins
                            terms.append((b, a, rsign) if dyn[b] else (a, b, rsign))  # (x, w, ±1)
                        elif rop is add_ or rop is sub_ or rop is neg_:
                            stack.append((r, rsign))
                        else:
                            biases.append((r, rsign))
                    else:
                        biases.append((r, rsign))
                    s = pins[0]
                    continue
                if op is neg_:
                    members.append(j)
                    s, sign = pins[0], -sign
                    continue
                if op is mul_ and dyn[pins[0]] != dyn[pins[1]]:
                    members.append(j)
                    a, b = pins
                    terms.append((b, a, sign) if dyn[b] else (a, b, sign))
                    break
                biases.append((s, sign))
                break
        for j in members:
            seen[j] = 1
        if terms:
            for j in members:
                inside[j] = 1
            terms.sort()
            forms[out] = (out, tuple(t[0] for t in terms), tuple(t[1] for t in terms), tuple(t[2] for t in terms),
                          biases, all(not dyn[s] for s, _ in biases), members)
    if not forms:
        return instrs

    # 2. depth of every result (statics: 0), with each sum standing for its tree
    level = [0] * n_slots
    items: list[list] = []  # [level, position, instruction or form]
    for pos, item in enumerate(instrs):
        op, out, ins = item
        if out is None:  # an already fused layer: its inputs and outputs
            ins = [i for m in item[0].members for i in m[2]]
            outs = item[0].outs
        elif out in forms:
            f = forms[out]
            ins = [*f[1], *f[2], *(s for s, _ in f[4])]
            outs = (out,)
        elif inside[out - first]:
            continue
        else:
            outs = (out,)
        lv = 0
        if dyn[outs[0]]:
            for i in ins:
                if level[i] > lv:
                    lv = level[i]
            lv += 1
        for o in outs:
            level[o] = lv
        items.append([lv, pos, forms.get(out, item) if out is not None else item])

    # 3. group the sums by (inputs, depth); a lone sum of one product stays as it was
    groups: dict[tuple, list] = {}
    for it in items:
        f = it[2]
        if f.__class__ is tuple and len(f) == 7:
            groups.setdefault((f[1], it[0]), []).append(it)
    unary: dict[int, list] = {}  # slot -> its unary consumers (items)
    for it in items:
        if it[2].__class__ is not tuple or len(it[2]) != 3:
            continue
        op, out, ins = it[2]
        if out is not None and len(ins) == 1 and op is not _LINEAR and dyn[ins[0]]:
            unary.setdefault(ins[0], []).append(it)
    dropped: set[int] = set()
    for (xs, lv), its in groups.items():
        if len(its) == 1 and len(xs) == 1:
            f = its[0][2]
            its[0][2] = plain[f[0] - first]  # back to the plain node; its tree's nodes come back too
            restore = [[lv, its[0][1] - 0.5, plain[j]] for j in sorted(f[6][1:])]
            items.extend(restore)
            continue
        its.sort(key=lambda it: it[2][0])
        aff = _Affine(tape, [it[2][:6] for it in its])
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
