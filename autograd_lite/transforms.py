"""Function transforms in JAX's style: ``grad(f)``, ``value_and_grad(f)``.

``f`` is an ordinary Python function of numbers written with `Value` ops (or the
functions ``exp``, ``log``, ``sigmoid`` ...).  Each argument is a number or a
flat sequence of numbers; the transform calls ``f`` on fresh leaf `Value`\\ s,
backpropagates, and returns plain floats.  Called on `Value`\\ s (that is, from
inside another transform) it returns `Value`\\ s instead, built with
``create_graph=True``, so transforms nest: ``grad(grad(f))`` is f''.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd_lite.engine import Value, _number, gradients

__all__ = ["grad", "value_and_grad"]

Argnums = int | Sequence[int]


def _normalize_argnums(argnums: Argnums, nargs: int, name: str) -> tuple[int, ...]:
    many = not isinstance(argnums, (int, np.integer))
    nums = tuple(argnums) if many else (argnums,)
    if not nums:
        raise ValueError(f"{name}: argnums is empty")
    for i in nums:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise TypeError(f"{name}: argnums must be ints, got {type(i).__name__}")
        if not -nargs <= i < nargs:
            raise ValueError(f"{name}: argnums={i} is out of range for a call with {nargs} argument(s)")
    return tuple(int(i) % nargs for i in nums)


def _lift(arg: Any, where: str) -> Value | list[Value]:
    """A number becomes a fresh leaf; a Value stays itself; a sequence, a list of them."""
    if isinstance(arg, Value):
        return arg
    if isinstance(arg, (list, tuple, np.ndarray)):
        if isinstance(arg, np.ndarray) and arg.ndim != 1:
            raise ValueError(f"{where}: arrays must be 1-D, got shape {arg.shape}")
        return [x if isinstance(x, Value) else Value(_number(x, where)) for x in arg]
    return Value(_number(arg, where))


def _any_value(args: Sequence[Any]) -> bool:
    return any(isinstance(a, Value) or (isinstance(a, (list, tuple)) and any(isinstance(x, Value) for x in a))
               for a in args)


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """``f ↦ (x ↦ (f(x), ∂f/∂x))`` for the arguments named by ``argnums``.

    ``argnums`` is an int (the gradient is a float, or a list for a sequence
    argument) or a tuple of ints (a tuple of those)."""

    @functools.wraps(f)
    def wrapped(*args: Any) -> tuple[Any, Any]:
        name = f"grad({getattr(f, '__name__', 'f')})"
        if not args:
            raise TypeError(f"{name} needs at least one argument to differentiate")
        nums = _normalize_argnums(argnums, len(args), name)
        nested = _any_value(args)
        leaves = [_lift(a, name) if i in nums else a for i, a in enumerate(args)]
        out = f(*leaves)
        if not isinstance(out, Value):
            if isinstance(out, (int, float, np.number)) and not isinstance(out, bool):
                out = Value(out)  # a constant function: every derivative is 0
            else:
                raise TypeError(f"{name}: f must return one Value (a scalar), got {type(out).__name__}")
        flat = [x for i in nums for x in (leaves[i] if isinstance(leaves[i], list) else [leaves[i]])]
        gs = iter(gradients(out, flat, create_graph=nested))
        results = [[next(gs) for _ in leaves[i]] if isinstance(leaves[i], list) else next(gs) for i in nums]
        grads = results[0] if isinstance(argnums, (int, np.integer)) else tuple(results)
        return (out if nested else out.data), grads

    return wrapped


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """``f ↦ ∂f/∂x``: a function returning the derivative(s) of ``f`` with respect
    to the arguments in ``argnums``, as floats (JAX's ``jax.grad``).

    >>> from autograd_lite import grad, sigmoid
    >>> round(grad(sigmoid)(0.0), 6)        # σ'(0) = σ(0)(1 − σ(0)) = 1/4
    0.25
    >>> grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (4.0, 3.0)
    >>> grad(grad(lambda x: x ** 3))(2.0)    # d²/dx² x³ = 6x
    12.0
    """
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    return wrapped
