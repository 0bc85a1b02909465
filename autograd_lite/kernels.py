"""IEEE-754 number functions on Python floats and numpy arrays (no graph here).

Python's ``math`` raises where IEEE-754 (and numpy, and PyTorch) give a
number: ``math.exp(1000)`` raises OverflowError, the IEEE result is ``inf``.
Every function here gives the IEEE result on a float and works elementwise on
an array, so `autograd_lite.engine` can state each primitive once and
evaluate it on either.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

ARRAY = (np.ndarray, np.generic)
ARITH_ERRORS = (ArithmeticError, ValueError)


def ieee(f: Callable, *args: Any) -> Any:
    """``f(*args)``; where Python raises (1/0, exp(1000), log(-1)) redo it in numpy
    float64, which follows IEEE-754: inf, -inf, nan.  A float result stays a float."""
    try:
        return f(*args)
    except ARITH_ERRORS:
        with np.errstate(all="ignore"):
            out = f(*[np.float64(a) if a.__class__ is float else a for a in args])
        return float(out) if isinstance(out, np.floating) else out


def _elementwise(name: str, np_f: Callable, math_f: Callable, doc: str) -> Callable:
    """A function of a float (math's, made IEEE) or of an array (numpy's)."""

    def f(x: Any) -> Any:
        if isinstance(x, ARRAY):
            return np_f(x)
        try:
            return math_f(float(x))
        except ARITH_ERRORS:  # exp(1000), log(-1): IEEE-754 inf/nan as in numpy
            with np.errstate(all="ignore"):
                return float(np_f(np.float64(x)))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


def _sigmoid_math(x: float) -> float:
    e = math.exp(-abs(x))  # never overflows: σ(x) = 1/(1+e^-x) = e^x/(1+e^x)
    r = 1.0 / (1.0 + e)
    return r if x >= 0 else e * r


def _sigmoid_np(x: Any) -> np.ndarray:
    """The same formula as `_sigmoid_math`, on arrays, with in-place temporaries."""
    x = np.asarray(x, dtype=float)
    e = np.abs(x, out=np.empty(x.shape))
    np.negative(e, out=e)
    np.exp(e, out=e)
    r = np.add(e, 1.0, out=np.empty(x.shape))
    np.reciprocal(r, out=r)
    np.multiply(e, r, out=e)
    return np.where(x >= 0, r, e)


exp = _elementwise("exp", np.exp, math.exp, "eˣ")
log = _elementwise("log", np.log, lambda x: math.log(x) if x != 0 else -math.inf,
                   "ln x (log 0 = -inf, log of a negative number = nan)")
sigmoid = _elementwise("sigmoid", _sigmoid_np, _sigmoid_math, "σ(x) = 1 / (1 + e⁻ˣ), stable over the whole float range")
tanh = _elementwise("tanh", np.tanh, math.tanh, "tanh x = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)")
relu = _elementwise("relu", lambda x: np.where(x <= 0, 0.0, x), lambda x: 0.0 if x <= 0 else x, "relu(x) = max(x, 0)")
sqrt = _elementwise("sqrt", np.sqrt, math.sqrt, "√x")
sin = _elementwise("sin", np.sin, math.sin, "sin x")
cos = _elementwise("cos", np.cos, math.cos, "cos x")


def power(x: Any, y: Any) -> Any:
    """xʸ as IEEE-754 (C's pow) defines it: (-8)^(1/3) = nan, 0^-1 = inf, 10^400 = inf,
    (-inf)^0.5 = inf, (-0)^0.5 = 0.  On arrays the exponent is made an array too:
    numpy computes x ** 0.5 for a scalar 0.5 as √x, which differs at -inf and -0."""
    if isinstance(x, ARRAY) or isinstance(y, ARRAY):
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        with np.errstate(all="ignore"):
            return np.power(x, y if y.ndim else np.full(x.shape, y))
    return ieee(math.pow, float(x), float(y))


def not_at_most_zero(x: Any) -> Any:
    """not (x ≤ 0), elementwise: where relu passes its gradient (also at nan, as PyTorch)."""
    return ~(x <= 0) if isinstance(x, np.ndarray) else not x <= 0


def sign(x: Any) -> Any:
    """-1, 0 or 1 (0 at 0 and at nan): |x|'s derivative, as PyTorch."""
    if isinstance(x, ARRAY):
        return np.greater(x, 0).astype(float) - np.less(x, 0)
    return float((x > 0) - (x < 0))
