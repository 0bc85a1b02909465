"""Optimisers: gradient descent (with momentum) and Adam, with PyTorch's update rules.

Gradient descent (C4): θ := θ − α ∂J/∂θ.  Each optimiser reads ``p.grad`` of
its parameters (filled by ``cost.backward()``) and changes ``p.data``.

>>> from autograd_lite import Value
>>> from autograd_lite.optim import SGD
>>> w = Value(1.0)
>>> opt = SGD([w], lr=0.1)
>>> J = (w - 3.0) ** 2          # dJ/dw = 2(w − 3) = −4
>>> J.backward(); opt.step()
>>> w.data                      # 1 − 0.1·(−4)
1.4
>>> opt.zero_grad(); w.grad
0.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from autograd_lite.engine import Value

__all__ = ["Optimizer", "SGD", "Adam"]


def _hyper(value: Any, name: str, low: float = 0.0, high: float | None = None, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or v < low or (high is not None and (v >= high if high_open else v > high)):
        bound = f"in [{low}, {high}{')' if high_open else ']'}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return v


class Optimizer:
    """Holds a list of parameters (leaf Values, each once).  Accepts a model too."""

    def __init__(self, params: Iterable[Value] | Any, lr: float) -> None:
        if hasattr(params, "parameters") and callable(params.parameters):
            params = params.parameters()
        if isinstance(params, Value):
            raise TypeError("params must be a list of Values (got a single Value: wrap it in a list)")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"params must be an iterable of Values, not {type(params).__name__}") from None
        if not params:
            raise ValueError("the optimizer got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"parameter {i} is a {type(p).__name__}, not a Value")
            if not p.is_leaf():
                raise ValueError(f"parameter {i} ({p!r}) is computed by an op; only leaf Values can be optimised")
            if id(p) in seen:
                raise ValueError(f"parameter {i} ({p!r}) appears more than once")
            seen.add(id(p))
        self.params: list[Value] = params
        self.lr = _hyper(lr, "lr")

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError

    def _grads(self) -> list[float]:
        """Every parameter's ``.grad`` as a number (None, PyTorch 2's "no gradient yet", counts as 0)."""
        return [0.0 if g is None else g.data if isinstance(g, Value) else float(g)
                for g in (p.grad for p in self.params)]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule.  With g = ∂J/∂θ + λθ (weight decay λ):

        b := μb + (1 − τ)g   (b := g at the first step),   g := g + μb if nesterov else b,
        θ := θ − αg

    (α = ``lr``, μ = ``momentum``, τ = ``dampening``).  μ = 0 is plain gradient descent."""

    def __init__(self, params: Iterable[Value] | Any, lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, dampening: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        self.momentum = _hyper(momentum, "momentum")
        self.weight_decay = _hyper(weight_decay, "weight_decay")
        self.dampening = _hyper(dampening, "dampening", 0.0, 1.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")
        self.buffers: list[float] | None = None

    def step(self) -> None:
        """One update of every parameter from its current ``.grad``."""
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        grads = self._grads()
        if wd:
            grads = [g + wd * p.data for g, p in zip(grads, self.params)]
        if mu:
            if self.buffers is None:
                self.buffers = list(grads)
            else:
                damp = 1.0 - self.dampening
                self.buffers = [mu * b + damp * g for b, g in zip(self.buffers, grads)]
            grads = [g + mu * b for g, b in zip(grads, self.buffers)] if self.nesterov else self.buffers
        for p, g in zip(self.params, grads):
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's rule.  With g = ∂J/∂θ + λθ and step t = 1, 2, …:

        m := β₁m + (1 − β₁)g,   v := β₂v + (1 − β₂)g²,
        θ := θ − α · (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)
    """

    def __init__(self, params: Iterable[Value] | Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair (β₁, β₂), got {betas!r}") from None
        self.betas = (_hyper(b1, "betas[0]", 0.0, 1.0, high_open=True), _hyper(b2, "betas[1]", 0.0, 1.0, True))
        self.eps = _hyper(eps, "eps")
        self.weight_decay = _hyper(weight_decay, "weight_decay")
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        """One Adam update of every parameter from its current ``.grad``."""
        b1, b2 = self.betas
        wd, eps = self.weight_decay, self.eps
        self.t += 1
        step_size = self.lr / (1.0 - b1 ** self.t)
        c2 = math.sqrt(1.0 - b2 ** self.t)
        m, v = self.m, self.v
        for i, (p, g) in enumerate(zip(self.params, self._grads())):
            if wd:
                g = g + wd * p.data
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= step_size * m[i] / (math.sqrt(v[i]) / c2 + eps)
