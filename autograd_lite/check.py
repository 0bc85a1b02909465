"""Gradient checking: autodiff against central finite differences.

``numerical_grad`` estimates ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε in double
precision; ``gradcheck`` compares it with backprop for every input and returns
a report that prints as a table and is truthy only when every row passes
(|autodiff − numeric| ≤ atol + rtol·|numeric|, as ``numpy.isclose``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autograd_lite.engine import Value, _number
from autograd_lite.text import format_table
from autograd_lite.transforms import value_and_grad

__all__ = ["numerical_grad", "gradcheck", "GradcheckReport", "GradcheckRow"]


def _as_inputs(inputs: Any, where: str) -> list[float]:
    if isinstance(inputs, (int, float, Value)) or not hasattr(inputs, "__iter__"):
        inputs = [inputs]
    xs = [x.data if isinstance(x, Value) else _number(x, where) for x in inputs]
    if not xs:
        raise ValueError(f"{where}: no inputs to check")
    return xs


def _call(f: Callable[..., Any], xs: Sequence[float]) -> float:
    out = f(*[Value(x) for x in xs])  # Values, so f may use methods such as x.exp()
    return out.data if isinstance(out, Value) else _number(out, "f(...) result")


def numerical_grad(f: Callable[..., Any], inputs: Sequence[float] | float, eps: float = 1e-6) -> list[float]:
    """Central finite differences (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε for each input."""
    xs = _as_inputs(inputs, "numerical_grad")
    if not eps > 0:
        raise ValueError(f"numerical_grad: eps must be positive, got {eps}")
    grads = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        grads.append((_call(f, up) - _call(f, down)) / (2 * eps))
    return grads


@dataclass(frozen=True)
class GradcheckRow:
    input: str
    autodiff: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool


@dataclass(frozen=True)
class GradcheckReport:
    """One row per input; ``bool(report)`` is True only when all rows pass."""

    rows: tuple[GradcheckRow, ...]
    order: int = 1

    def __bool__(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def max_abs_error(self) -> float:
        return max(r.abs_error for r in self.rows)

    def __str__(self) -> str:
        return format_table(
            ("input", "autodiff", "numeric", "abs error", "rel error", "ok"),
            [(r.input, f"{r.autodiff:.8g}", f"{r.numeric:.8g}", f"{r.abs_error:.2e}", f"{r.rel_error:.2e}",
              "yes" if r.ok else "NO") for r in self.rows])

    __repr__ = __str__


def _row(name: str, auto: float, num: float, atol: float, rtol: float) -> GradcheckRow:
    err = abs(auto - num)
    rel = err / abs(num) if num != 0 else (0.0 if err == 0 else math.inf)
    ok = err <= atol + rtol * abs(num) or (auto == num)  # equal infinities pass
    return GradcheckRow(name, auto, num, err, rel, bool(ok))


def gradcheck(f: Callable[..., Any], inputs: Sequence[float] | float, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, names: Sequence[str] | None = None) -> GradcheckReport:
    """Compare backprop's ∂f/∂xᵢ with central finite differences for every input.

    >>> from autograd_lite import gradcheck
    >>> report = gradcheck(lambda w, x: (w * x).sigmoid().log(), [0.5, -2.0], names=["w", "x"])
    >>> bool(report)
    True
    """
    xs = _as_inputs(inputs, "gradcheck")
    names = list(names) if names is not None else [f"x{i}" for i in range(len(xs))]
    if len(names) != len(xs):
        raise ValueError(f"gradcheck: {len(names)} names for {len(xs)} inputs")
    _, auto = value_and_grad(f, argnums=tuple(range(len(xs))))(*xs)
    num = numerical_grad(f, xs, eps)
    return GradcheckReport(tuple(_row(n, a, b, atol, rtol) for n, a, b in zip(names, auto, num)))
