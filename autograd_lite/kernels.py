"""IEEE-754 number functions on Python floats and numpy arrays (no graph here).

Python's ``math`` raises where IEEE-754 (and numpy, and PyTorch) give a
number: ``math.exp(1000)`` raises OverflowError, the IEEE result is ``inf``.
Every function here gives the IEEE result on a float and works elementwise on
an array, so `autograd_lite.engine` can state each primitive once and
evaluate it on either.

numpy is optional: without it (Pyodide, a bare Python) the scalar engine runs
on floats alone, and the IEEE results come from `IEEEFloat` (pure Python, the
same numbers as numpy's float64: tests/test_no_numpy.py compares them).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

try:
    import numpy as np
except ImportError:  # the scalar engine needs no numpy; vectorize, data and figures do
    np = None  # type: ignore[assignment]

#: The message of the ImportError of a part that needs numpy (``.format(what)``).
NEEDS_NUMPY = "{} needs numpy, which is not installed: pip install numpy"
ARITH_ERRORS = (ArithmeticError, ValueError)
if np is not None:
    ARRAY: tuple = (np.ndarray, np.generic)
    NDARRAY: tuple = (np.ndarray,)
    REAL: tuple = (numbers.Real, np.bool_)  # what Value() takes (numpy's bool is no numbers.Real)
else:  # isinstance(x, ()) is False: no array ever
    ARRAY = NDARRAY = ()
    REAL = (numbers.Real,)


def quiet() -> Any:
    """A context in which numpy's floating-point warnings are off (array rules)."""
    return np.errstate(all="ignore") if np is not None else nullcontext()


def where(cond: Any, then: Any, otherwise: Any) -> Any:
    """numpy's ``where``: only ever reached with an array, so numpy is there."""
    return np.where(cond, then, otherwise)


def is_real_0d_array(x: Any) -> bool:
    """A 0-d numpy array of bools, ints or floats (``np.array(2.0)``)."""
    return isinstance(x, NDARRAY) and x.ndim == 0 and x.dtype.kind in "biuf"


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and y % 2.0 == 1.0


def _div(x: float, y: float) -> float:
    """x / y as IEEE-754: ±inf for x / ±0 (the sign of the zero counts), nan for 0 / 0."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)


def _pow(x: float, y: float) -> float:
    """xʸ as C's pow: ±inf on overflow and for ±0 to a negative power, nan for a
    negative number to a non-integer power."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and _odd_integer(y) else math.inf
    except ValueError:
        if x == 0:  # 0 to a negative power: -inf only for -0.0 to an odd power
            return math.copysign(math.inf, x) if _odd_integer(y) else math.inf
        return math.nan


def _lift(f: Callable, reflected: bool = False) -> Callable:
    def method(self: float, other: Any) -> Any:
        if not isinstance(other, (int, float)):  # a Value, an array: its own operator
            return NotImplemented
        x, y = (float(other), float(self)) if reflected else (float(self), float(other))
        return IEEEFloat(f(x, y))
    return method


class IEEEFloat(float):
    """A float whose arithmetic never raises: 1/0 = inf, 0/0 = nan, 10.0**400 = inf,
    (-8)**(1/3) = nan, as IEEE-754 (and numpy's float64) define them.  `ieee` runs a
    formula on these where Python raised on floats, without numpy."""

    __slots__ = ()
    __add__, __radd__ = _lift(float.__add__), _lift(float.__add__, True)
    __sub__, __rsub__ = _lift(float.__sub__), _lift(float.__sub__, True)
    __mul__, __rmul__ = _lift(float.__mul__), _lift(float.__mul__, True)
    __truediv__, __rtruediv__ = _lift(_div), _lift(_div, True)
    __pow__, __rpow__ = _lift(_pow), _lift(_pow, True)  # type: ignore[assignment]

    def __neg__(self) -> IEEEFloat:
        return IEEEFloat(-float(self))

    def __pos__(self) -> IEEEFloat:
        return self

    def __abs__(self) -> IEEEFloat:
        return IEEEFloat(abs(float(self)))


def ieee(f: Callable, *args: Any) -> Any:
    """``f(*args)``; where Python raises (1/0, exp(1000), log(-1)) redo it in numpy
    float64 (or, without numpy, on `IEEEFloat`), which follow IEEE-754: inf, -inf,
    nan.  A float result stays a float."""
    try:
        return f(*args)
    except ARITH_ERRORS:
        if np is None:
            out = f(*[IEEEFloat(a) if a.__class__ is float else a for a in args])
            return float(out) if out.__class__ is IEEEFloat else out
        with np.errstate(all="ignore"):
            out = f(*[np.float64(a) if a.__class__ is float else a for a in args])
        return float(out) if isinstance(out, np.floating) else out


def _elementwise(name: str, np_f: str | Callable, math_f: Callable, fallback: Callable, doc: str) -> Callable:
    """A function of a float (math's, made IEEE) or of an array (numpy's ``np_f``).
    ``fallback(x)`` is the IEEE result where math raises: numpy's, or, without
    numpy, the pure-Python one given."""
    if np is not None:
        np_f = getattr(np, np_f) if isinstance(np_f, str) else np_f

        def fallback(x: float) -> float:  # noqa: F811  # numpy's own result
            with np.errstate(all="ignore"):
                return float(np_f(np.float64(x)))  # type: ignore[operator]

    def f(x: Any) -> Any:
        if x.__class__ is not float:  # (the scalar engine's floats skip the array test)
            if isinstance(x, ARRAY):
                return np_f(x)  # type: ignore[operator]
            x = float(x)
        try:
            return math_f(x)
        except ARITH_ERRORS:  # exp(1000), log(-1): IEEE-754 inf/nan as in numpy
            return fallback(float(x))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


def _sigmoid_math(x: float) -> float:
    e = math.exp(-abs(x))  # never overflows: σ(x) = 1/(1+e^-x) = e^x/(1+e^x)
    r = 1.0 / (1.0 + e)
    return r if x >= 0 else e * r


def _sigmoid_np(x: Any) -> Any:
    """The same formula as `_sigmoid_math`, on arrays, with in-place temporaries."""
    x = np.asarray(x, dtype=float)
    e = np.abs(x, out=np.empty(x.shape))
    np.negative(e, out=e)
    np.exp(e, out=e)
    r = np.add(e, 1.0, out=np.empty(x.shape))
    np.reciprocal(r, out=r)
    np.multiply(e, r, out=e)
    return np.where(x >= 0, r, e)


def _nan(x: float) -> float:
    """Where math raises ValueError outside the domain (log(-1), √-1, sin(inf)): nan."""
    return math.nan


def _overflow(x: float) -> float:
    """Where math.exp raises OverflowError (x > 709.78): inf."""
    return math.inf


exp = _elementwise("exp", "exp", math.exp, _overflow, "eˣ")
log = _elementwise("log", "log", lambda x: math.log(x) if x != 0 else -math.inf, _nan,
                   "ln x (log 0 = -inf, log of a negative number = nan)")
sigmoid = _elementwise("sigmoid", _sigmoid_np, _sigmoid_math, _nan,
                       "σ(x) = 1 / (1 + e⁻ˣ), stable over the whole float range")
tanh = _elementwise("tanh", "tanh", math.tanh, _nan, "tanh x = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)")
relu = _elementwise("relu", lambda x: np.where(x <= 0, 0.0, x), lambda x: 0.0 if x <= 0 else x, _nan,
                    "relu(x) = max(x, 0)")
sqrt = _elementwise("sqrt", "sqrt", math.sqrt, _nan, "√x")
sin = _elementwise("sin", "sin", math.sin, _nan, "sin x")
cos = _elementwise("cos", "cos", math.cos, _nan, "cos x")


def power(x: Any, y: Any) -> Any:
    """xʸ as IEEE-754 (C's pow) defines it: (-8)^(1/3) = nan, 0^-1 = inf, 10^400 = inf,
    (-inf)^0.5 = inf, (-0)^0.5 = 0.  On arrays the exponent is made an array too:
    numpy computes x ** 0.5 for a scalar 0.5 as √x, which differs at -inf and -0."""
    if x.__class__ is float and y.__class__ is float:  # the scalar engine's case, first
        try:
            return math.pow(x, y)
        except ARITH_ERRORS:
            pass  # overflow, or a negative number to a fractional power: IEEE's answer below
    if isinstance(x, ARRAY) or isinstance(y, ARRAY):
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        with np.errstate(all="ignore"):
            return np.power(x, y if y.ndim else np.full(x.shape, y))
    if np is None:
        return _pow(float(x), float(y))
    return ieee(math.pow, float(x), float(y))


def not_at_most_zero(x: Any) -> Any:
    """not (x ≤ 0), elementwise: where relu passes its gradient (also at nan, as PyTorch)."""
    return ~(x <= 0) if isinstance(x, NDARRAY) else not x <= 0


def sign(x: Any) -> Any:
    """-1, 0 or 1 (0 at 0 and at nan): |x|'s derivative, as PyTorch."""
    if isinstance(x, ARRAY):
        return np.greater(x, 0).astype(float) - np.less(x, 0)
    return float((x > 0) - (x < 0))
