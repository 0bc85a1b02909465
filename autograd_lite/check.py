"""Gradient checking: autodiff against central finite differences.

``numerical_grad`` estimates ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε in double
precision; ``gradcheck`` compares it with backprop for every input and returns
a report that prints as a table and is truthy only when every row passes
(|autodiff − numeric| ≤ atol + rtol·|numeric|, as ``numpy.isclose``).
``gradcheck(..., order=2)`` does the same one level up (PyTorch's
``gradgradcheck``): every Hessian entry ∂²f/∂xᵢ∂xⱼ from differentiating the
gradient's graph against (gᵢ(x + εeⱼ) − gᵢ(x − εeⱼ)) / 2ε, g the autodiff gradient.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autograd_lite.engine import Value, _number
from autograd_lite.text import format_table, html_table
from autograd_lite.transforms import hessian, value_and_grad

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

    def _repr_html_(self) -> str:
        """Jupyter shows the report as an HTML table, failing rows marked."""
        verdict = "passed" if self else "FAILED"
        what = "Hessian entries" if self.order == 2 else "gradients"
        table = html_table(
            ("input", "autodiff", "numeric", "abs error", "rel error", "ok"),
            [(r.input, f"{r.autodiff:.8g}", f"{r.numeric:.8g}", f"{r.abs_error:.2e}", f"{r.rel_error:.2e}",
              "yes" if r.ok else "NO") for r in self.rows],
            caption=f"gradient check ({what}, autodiff vs finite differences): {verdict}")
        return table.replace("<td>NO</td>", '<td style="color:#b00020;font-weight:bold">NO</td>')


def argument_names(f: Callable[..., Any], n: int) -> list[str]:
    """The names of ``f``'s first ``n`` positional parameters (``w``, ``x``), then
    ``args[0]``, ``args[1]``, … for a ``*args`` (its own name) or a callable without a signature."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names: list[str] = []
    rest = "args"
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            rest = p.name
            break
        else:
            break
    names = names[:n]
    return names + [f"{rest}[{i}]" for i in range(n - len(names))]


def _row(name: str, auto: float, num: float, atol: float, rtol: float) -> GradcheckRow:
    err = abs(auto - num)
    rel = err / abs(num) if num != 0 else (0.0 if err == 0 else math.inf)
    ok = err <= atol + rtol * abs(num) or (auto == num)  # equal infinities pass
    return GradcheckRow(name, auto, num, err, rel, bool(ok))


def _autodiff_grad(f: Callable[..., Any], xs: Sequence[float]) -> list[float]:
    """Backprop's gradient of f at xs (floats), one entry per input."""
    return list(value_and_grad(f, argnums=tuple(range(len(xs))))(*xs)[1])


def gradcheck(f: Callable[..., Any], inputs: Sequence[float] | float, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, names: Sequence[str] | None = None,
              order: int = 1) -> GradcheckReport:
    """Compare autodiff derivatives with central finite differences for every input.

    ``order=1``: backprop's ∂f/∂xᵢ against (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε, one row
    per input, named by ``names`` or else by ``f``'s own parameter names (``lambda w, x: …``
    gives rows ``w``, ``x``; ``lambda *xs: …`` gives ``xs[0]``, ``xs[1]``).
    ``order=2`` (PyTorch's ``gradgradcheck``): every Hessian entry
    ∂²f/∂xᵢ∂xⱼ, from backprop through the ``create_graph`` gradient, against
    (gᵢ(x + εeⱼ) − gᵢ(x − εeⱼ)) / 2ε where g is backprop's gradient; n² rows.

    >>> from autograd_lite import gradcheck
    >>> report = gradcheck(lambda w, x: (w * x).sigmoid().log(), [0.5, -2.0], names=["w", "x"])
    >>> bool(report)
    True
    >>> report2 = gradcheck(lambda w, x: (w * x).sigmoid().log(), [0.5, -2.0], names=["w", "x"], order=2)
    >>> bool(report2), [row.input for row in report2.rows]
    (True, ['∂²f/∂w²', '∂²f/∂w∂x', '∂²f/∂x∂w', '∂²f/∂x²'])
    """
    if isinstance(order, bool) or not isinstance(order, int):
        raise TypeError(f"gradcheck: order must be the int 1 or 2, got {type(order).__name__}")
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 (gradients) or 2 (Hessian entries), got {order}")
    xs = _as_inputs(inputs, "gradcheck")
    names = list(names) if names is not None else argument_names(f, len(xs))
    if len(names) != len(xs):
        raise ValueError(f"gradcheck: {len(names)} names for {len(xs)} inputs")
    if not eps > 0:
        raise ValueError(f"gradcheck: eps must be positive, got {eps}")
    if order == 1:
        auto = _autodiff_grad(f, xs)
        num = numerical_grad(f, xs, eps)
        return GradcheckReport(tuple(_row(n, a, b, atol, rtol) for n, a, b in zip(names, auto, num)))
    auto_h = hessian(f)(*xs)
    num_cols = []  # column j: (g(x + εeⱼ) − g(x − εeⱼ)) / 2ε
    for j in range(len(xs)):
        up, down = list(xs), list(xs)
        up[j] += eps
        down[j] -= eps
        num_cols.append([(u - d) / (2 * eps) for u, d in zip(_autodiff_grad(f, up), _autodiff_grad(f, down))])
    rows = []
    for i, ni in enumerate(names):
        for j, nj in enumerate(names):
            label = f"∂²f/∂{ni}²" if i == j else f"∂²f/∂{ni}∂{nj}"
            rows.append(_row(label, auto_h[i][j], num_cols[j][i], atol, rtol))
    return GradcheckReport(tuple(rows), order=2)
