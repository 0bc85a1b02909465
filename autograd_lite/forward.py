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

from autograd_lite.engine import Value, partial, topological_order
from autograd_lite.kernels import ieee

__all__ = ["jvp", "tangents"]



def _local(rule, args: Sequence[float]) -> float:
    """One rule of the table on floats, with IEEE-754 results where Python raises."""
    return float(ieee(partial, rule, *[float(a) for a in args]))


def tangents(root: Value, seeds: Mapping[Value, float]) -> dict[int, float]:
    """The tangent of every node of ``root``'s graph (keyed by ``id``), given the
    tangents of some leaves (``seeds``; the other leaves have tangent 0), in
    evaluation order: ṫ(node) = Σᵢ partial(ruleᵢ, *inputs, out) · ṫ(inputᵢ)."""
    seed = {id(k): float(v) for k, v in seeds.items()}
    tan: dict[int, float] = {}
    for node in reversed(topological_order(root)):  # producers before consumers
        op = node.op
        if op is None:
            tan[id(node)] = seed.get(id(node), 0.0)
            continue
        parents = node.parents
        args = [a.data if a.__class__ is Value else a for a in parents]
        t = 0.0
        if op.name == "linear":
            n = (len(parents) - 1) // 2
            for i, a in enumerate(parents):
                if a.__class__ is Value:
                    d = 1.0 if i == 2 * n else args[i + n] if i < n else args[i - n]
                    t += d * tan[id(a)]
        else:
            for a, rule in zip(parents, op.partials):
                if a.__class__ is Value:
                    t += _local(rule, (*args, node.data)) * tan[id(a)]
        tan[id(node)] = t
    return tan


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
