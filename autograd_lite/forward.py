"""Forward mode: tangents (dual numbers) pushed through the derivative table.

Reverse mode (``backward``) gives ∂L/∂(every input) in one backward pass.
Forward mode gives the derivative of *every node* along one direction v of the
inputs -- the Jacobian-vector product J·v -- in one forward pass: each node
carries a tangent ṫ = Σᵢ ∂node/∂inputᵢ · ṫᵢ, with the local derivatives read
from the same table as backprop.  A full gradient takes n forward passes (one
per input), which is why training uses reverse mode.

>>> from autograd_lite import jvp
>>> f = lambda w, x: (w * x).sigmoid()
>>> out, tangent = jvp(f)((0.0, 2.0), (1.0, 0.0))    # ∂f/∂w = σ'(0)·x = 0.25 × 2
>>> out, tangent
(0.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autograd_lite.engine import OPS, Value, contribution, topological_order
from autograd_lite.kernels import ieee

__all__ = ["jvp", "tangents"]

_DIV = OPS["div"]


def _along(rule: Any, t: float, args: Sequence[float]) -> float:
    """One input's share of a tangent: the tangent ``t`` pushed through one rule of the
    table exactly as backprop pushes a gradient (`engine.contribution`: an `Over` rule
    divides, t/x and not t·(1/x), which overflows for a tiny x; a `Mask` that is off
    gives 0 even for an inf or nan t), with IEEE-754 results where Python raises."""
    return float(ieee(contribution, rule, float(t), *[float(a) for a in args]))


def tangents(root: Value, seeds: Mapping[Value, float]) -> dict[int, float]:
    """The tangent of every node of ``root``'s graph (keyed by ``id``), given the
    tangents of some nodes (``seeds``; every other leaf has tangent 0), in
    evaluation order: ṫ(node) = Σᵢ ṫ(inputᵢ) pushed through ruleᵢ (see `_along`).

    A seeded node that is not a leaf is treated as an input: its tangent is its
    seed, whatever its parents' (``seeds={z: 1}`` gives ∂node/∂z, the forward-mode
    twin of ``z.grad``).  Inputs that depend on no seed add nothing (as backprop
    skips a branch that needs no gradient): a 0 tangent times an infinite local
    derivative would be nan."""
    seed = {id(k): float(v) for k, v in seeds.items()}
    tan: dict[int, float | None] = {}  # None: depends on no seed
    for node in reversed(topological_order(root)):  # producers before consumers
        op = node.op
        if op is None or id(node) in seed:
            tan[id(node)] = seed.get(id(node))
            continue
        parents = node.parents
        ts = [tan[id(a)] if a.__class__ is Value else None for a in parents]
        if all(t is None for t in ts):
            tan[id(node)] = None
            continue
        args = [a.data if a.__class__ is Value else a for a in parents]
        t = 0.0
        if op.name == "linear":
            n = (len(parents) - 1) // 2
            for i, ti in enumerate(ts):
                if ti is not None:
                    d = 1.0 if i == 2 * n else args[i + n] if i < n else args[i - n]
                    t += d * ti
        elif op is _DIV and ts[0] is not None and ts[1] is not None:
            # x/y with both tangents: both shares are over y, so add them first, as
            # PyTorch does, (ẋ − ẏ·out)/y: x/x keeps tangent 0 where 1/y overflows
            t = _along(op.partials[0], ts[0] - ts[1] * node.data, (*args, node.data))
        else:
            for ti, rule in zip(ts, op.partials):
                if ti is not None:
                    t += _along(rule, ti, (*args, node.data))
        tan[id(node)] = t
    return {k: 0.0 if v is None else v for k, v in tan.items()}


def jvp(f: Callable[..., Any]) -> Callable[[Sequence[float], Sequence[float]], tuple]:
    """Forward mode, JAX's shape: ``jvp(f)(primals, tangents)`` returns
    ``(f(*primals), J_f(primals) · tangents)`` for a function ``f`` of numbers
    written with Values (operators, ``sigmoid``, ``log`` …, ``linear``).

    ``primals`` and ``tangents`` are tuples with one number per argument of ``f``.
    ``f`` may return one Value (or number) or a tuple/list of them; the result
    then has the same shape.  The tangents flow forwards through the same
    derivative table as backprop."""
    if not callable(f):
        raise TypeError(f"jvp() takes a function, got {type(f).__name__}")

    def run(primals: Sequence[float], tangents_in: Sequence[float]) -> tuple:
        for what, xs in (("primals", primals), ("tangents", tangents_in)):
            if not isinstance(xs, (tuple, list)):
                raise TypeError(f"jvp: {what} must be a tuple with one number per argument of f, "
                                f"got {type(xs).__name__}")
        if len(primals) != len(tangents_in):
            raise ValueError(f"jvp: {len(primals)} primals but {len(tangents_in)} tangents; give one tangent "
                             f"per argument")
        leaves = [Value(x) for x in primals]
        seeds = {leaf: Value(t).data for leaf, t in zip(leaves, tangents_in)}
        out = f(*leaves)
        many = isinstance(out, (tuple, list))
        outs = list(out) if many else [out]
        values, tans = [], []
        for o in outs:
            if o.__class__ is Value:
                tan = tangents(o, seeds)
                values.append(o.data)
                tans.append(tan[id(o)])
            else:
                try:
                    values.append(float(o))
                except (TypeError, ValueError):
                    raise TypeError(f"jvp: f must return a Value or a number (or a tuple of them), got "
                                    f"{type(o).__name__}") from None
                tans.append(0.0)  # does not depend on the inputs
        if many:
            return tuple(values), tuple(tans)
        return values[0], tans[0]

    run.__name__ = f"jvp({getattr(f, '__name__', 'f')})"
    return run
