"""Losses (one example) and the cost (their mean over the training set, C13).

A *loss* L(ŷ, y) measures the error on one example; the *cost* J = (1/m) Σ L
is what training minimises.  Every function here builds its result from `Value`
ops, so its gradient comes from backprop and the graph can be drawn.  None of
them branches on a `Value`'s number (the graph is the same for every example),
so `autograd_lite.vectorize` can record one example and replay it on a batch.

>>> from autograd_lite import Value
>>> from autograd_lite.losses import binary_cross_entropy, mean
>>> a = Value(0.8)
>>> L = binary_cross_entropy(a, 1)        # −log 0.8
>>> round(L.data, 6)
0.223144
>>> L.backward(); round(a.grad, 6)       # dL/da = −y/a + (1 − y)/(1 − a) = −1.25
-1.25
>>> round(mean([Value(1.0), Value(2.0), Value(6.0)]).data, 6)
3.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd_lite import kernels as K
from autograd_lite.engine import Mask, Op, Value, _traced, _watched_node

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse", "hinge",
    "softmax", "log_softmax", "cross_entropy", "mean", "get", "LOSSES", "LOG_FLOOR",
]

#: log p is floored at −100 inside `binary_cross_entropy` (PyTorch's clamp), so the
#: loss stays finite (at most 100) at p = 0 or p = 1.
LOG_FLOOR = -100.0
_EPS = math.exp(LOG_FLOOR)  # ≈ 3.7e-44, and log(_EPS) == -100.0 exactly

Number = float | int


def _value(x: Any, what: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)) and not hasattr(x, "__float__"):
        raise TypeError(f"{what} must be a Value or a number, not {type(x).__name__}")
    return Value(float(x))


def _target(y: Any, what: str = "target y") -> Value | float:
    """A target: a Value (kept, e.g. while tracing) or a finite number (as float)."""
    if isinstance(y, Value):
        return y
    if isinstance(y, str) or not hasattr(y, "__float__"):
        raise TypeError(f"{what} must be a number or a Value, not {type(y).__name__}")
    y = float(y)
    if not math.isfinite(y):
        raise ValueError(f"{what} must be finite, got {y}")
    return y


def _log_floored(p: Value) -> Value:
    """max(log p, −100) (PyTorch's clamp) without a branch and without nan gradients:
    log(relu(p − e⁻¹⁰⁰) + e⁻¹⁰⁰), which is log p for p ≥ e⁻¹⁰⁰ (bit for bit once
    p > 4e-28) and exactly −100 below, where its gradient is 0."""
    return ((p - _EPS).relu() + _EPS).log()


def binary_cross_entropy(p: Value | Number, y: Value | Number) -> Value:
    """L(p, y) = −[y log p + (1 − y) log(1 − p)], the log loss of C2 (p = ŷ ∈ [0, 1]).

    dL/dp = −y/p + (1 − y)/(1 − p); with p = σ(z), dL/dz = p − y (C6).
    log is floored at −100 like PyTorch (max(log p, −100), built without a branch as
    log(relu(p − e⁻¹⁰⁰) + e⁻¹⁰⁰)), so L ≤ 100 even at p ∈ {0, 1}, with gradient 0
    where the floor is active.  When y is the
    number 0 or 1 the term that it multiplies by 0 is left out of the graph.
    p (a number or a Value's data) outside [0, 1], or y outside [0, 1], raises ValueError,
    as in PyTorch; a nan p flows through (so that training can report where it diverged)."""
    pf = p.data if isinstance(p, Value) else float(_target(p, "p"))
    if not _traced(p) and (pf < 0.0 or pf > 1.0):  # a traced p (vectorize) has no number to check yet
        raise ValueError(f"binary_cross_entropy needs a probability p in [0, 1], got {pf}; "
                         "for a score (logit) use binary_cross_entropy_with_logits")
    if not isinstance(p, Value):
        p = Value(pf)
    y = _target(y)
    if isinstance(y, float):
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"binary_cross_entropy needs a target y in [0, 1], got {y}")
        if y == 1.0:
            return -_log_floored(p)
        if y == 0.0:
            return -_log_floored(1.0 - p)
    return -(y * _log_floored(p) + (1.0 - y) * _log_floored(1.0 - p))


def binary_cross_entropy_with_logits(z: Value | Number, y: Value | Number) -> Value:
    """The log loss of p = σ(z) computed from the score z, stably:
    L = max(z, 0) − zy + log(1 + e^(−|z|)) = log(1 + eᶻ) − zy, dL/dz = σ(z) − y.

    Written as z(½ − y) + ½|z| + log(1 + e^(−|z|)) (the same number: max(z, 0) = (z + |z|)/2)
    so that the kinks of |z| cancel and backprop gives σ(0) − y = ½ − y at z = 0 too,
    without any branch on z; never overflows (e^(−|z|) ≤ 1)."""
    z = _value(z, "z")
    y = _target(y)
    if isinstance(y, float) and not 0.0 <= y <= 1.0:
        raise ValueError(f"binary_cross_entropy_with_logits needs a target y in [0, 1], got {y}")
    az = abs(z)
    return z * (0.5 - y) + az * 0.5 + (1.0 + (-az).exp()).log()


def mse(pred: Value | Number | Sequence, target: Any) -> Value:
    """Squared error (ŷ − y)² for one output; for k outputs the mean (1/k) Σ (ŷⱼ − yⱼ)²."""
    if isinstance(pred, (list, tuple)):
        targets = list(target) if isinstance(target, (list, tuple)) or hasattr(target, "__len__") else None
        if targets is None or len(targets) != len(pred):
            raise ValueError(f"mse: {len(pred)} outputs need {len(pred)} targets, got {target!r:.60}")
        return mean([(_value(p, "prediction") - _target(t)) ** 2 for p, t in zip(pred, targets)])
    return (_value(pred, "prediction") - _target(target)) ** 2


def hinge(score: Value | Number, y: Value | Number) -> Value:
    """Max-margin loss max(0, 1 − t·s) for a score s, with t = +1 for y = 1 and
    t = −1 for y = 0 or y = −1 (so labels {0, 1} and {−1, +1} both work).

    For a Value y (tracing) the map is the polynomial t = y² + y − 1, which sends
    1 → 1, 0 → −1 and −1 → −1 without a branch."""
    s = _value(score, "score")
    y = _target(y)
    t: float | Value
    if isinstance(y, float):
        if y not in (-1.0, 0.0, 1.0):
            raise ValueError(f"hinge needs a label in {{0, 1}} or {{-1, +1}}, got {y}")
        t = 1.0 if y == 1.0 else -1.0
    else:
        t = y * y + y - 1.0
    return (1.0 - t * s).relu()


def _logits(logits: Sequence, what: str) -> list[Value]:
    if isinstance(logits, Value) or not hasattr(logits, "__len__") or len(logits) == 0:
        raise ValueError(f"{what} needs a non-empty list of scores (one per class)")
    return [_value(v, "logit") for v in logits]


def _never(*args: Any) -> bool:
    return False


def _larger(a: Any, b: Any) -> Any:
    if isinstance(a, K.NDARRAY) or isinstance(b, K.NDARRAY):  # only under vectorize, where numpy is
        return K.np.maximum(a, b)
    return max(a, b)


def _finite_or_zero(m: Any) -> Any:
    if isinstance(m, K.NDARRAY):
        return K.where(K.np.isfinite(m), m, 0.0)
    return m if math.isfinite(m) else 0.0


# The shift m under `vectorize`: the same max, computed per example when the tape is
# replayed.  Like the float m of the scalar engine it is a constant to backprop: its
# rules are exactly 0 (a Mask that never passes), whatever the upstream gradient.
# Not in the derivative table (`engine.OPS`): only traced graphs hold these nodes.
_MAX = Op("max", "max", _larger, (Mask(_never), Mask(_never)), formula="a constant shift: no gradient")
_FINITE = Op("shift", "shift", _finite_or_zero, (Mask(_never),), formula="a constant shift: no gradient")


def _shift(zs: list[Value]) -> float | Value:
    """max zⱼ as a constant (0 if it is not finite): subtracting it changes nothing
    mathematically (softmax is shift-invariant) and keeps every eᶻ⁻ᵐ ≤ 1.  Traced by
    `vectorize` (no numbers yet), it is a node that computes it for each example."""
    if any(_traced(z) for z in zs):
        top = zs[0]
        for z in zs[1:]:
            top = _watched_node(_MAX, top, z, (top.data, z.data))
        return _watched_node(_FINITE, top, None, (top.data,))
    m = max(z.data for z in zs)
    return m if math.isfinite(m) else 0.0


def softmax(logits: Sequence) -> list[Value]:
    """softmax(z)ⱼ = e^(zⱼ − m) / Σₖ e^(zₖ − m), m = max z (a constant: stable)."""
    zs = _logits(logits, "softmax")
    m = _shift(zs)
    es = [(z - m).exp() for z in zs]
    total = es[0]
    for e in es[1:]:
        total = total + e
    return [e / total for e in es]


def log_softmax(logits: Sequence) -> list[Value]:
    """log softmax(z)ⱼ = zⱼ − m − log Σₖ e^(zₖ − m) (never log 0 or overflow)."""
    zs = _logits(logits, "log_softmax")
    m = _shift(zs)
    shifted = [z - m for z in zs]
    total = shifted[0].exp()
    for s in shifted[1:]:
        total = total + s.exp()
    lse = total.log()
    return [s - lse for s in shifted]


def cross_entropy(logits: Sequence, target: Any) -> Value:
    """L = −log softmax(z)_k = log Σⱼ e^(zⱼ) − z_k for the true class index k
    (PyTorch's ``cross_entropy`` on one example); ∂L/∂zⱼ = softmaxⱼ − [j = k].

    ``target`` may also be a list of k class probabilities tⱼ (e.g. one-hot):
    L = −Σⱼ tⱼ log softmax(z)ⱼ, which is the form with no branch on the label
    (the vectorised engine uses it)."""
    zs = _logits(logits, "cross_entropy")
    if isinstance(target, Value):
        raise TypeError("cross_entropy: a class index cannot be a Value (choosing the entry would branch on "
                        "its number); pass an int, or a one-hot list of k numbers/Values")
    if isinstance(target, str):
        raise TypeError("cross_entropy needs a class index (an int) or a list of class probabilities, not a str")
    if hasattr(target, "__len__"):
        ts = list(target)
        if len(ts) != len(zs):
            raise ValueError(f"cross_entropy: {len(zs)} logits need {len(ts)} == {len(zs)} target probabilities")
        logp = log_softmax(zs)
        terms = [_target(t, "target probability") * lp for t, lp in zip(ts, logp)]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return -total
    if isinstance(target, bool) or not hasattr(target, "__float__"):
        raise TypeError(f"cross_entropy needs a class index (an int), not {type(target).__name__}")
    k = float(target)
    if not k.is_integer():
        raise ValueError(f"cross_entropy needs an integer class index, got {k}")
    k = int(k)
    if not 0 <= k < len(zs):
        raise ValueError(f"class index {k} is out of range for {len(zs)} classes (0 … {len(zs) - 1})")
    return -log_softmax(zs)[k]


def mean(losses: Sequence[Value]) -> Value:
    """The cost J = (1/m) Σᵢ Lᵢ: the average of the per-example losses (C13)."""
    losses = list(losses)
    if not losses:
        raise ValueError("mean() of no losses: the training set is empty")
    total = _value(losses[0], "loss")
    for loss in losses[1:]:
        total = total + loss
    return total / len(losses)


#: Names accepted by `get` → per-example loss functions ``loss(output, target) -> Value``.
LOSSES: dict[str, Callable[[Any, Any], Value]] = {
    "bce": binary_cross_entropy,
    "bce_with_logits": binary_cross_entropy_with_logits,
    "mse": mse,
    "hinge": hinge,
    "cross_entropy": cross_entropy,
}


def get(name: str | Callable) -> Callable[[Any, Any], Value]:
    """The per-example loss called ``name`` (see `LOSSES`); a callable is returned as is."""
    if callable(name):
        return name
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)} or pass a function") from None
