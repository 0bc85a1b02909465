"""A peer for the benchmark: a scalar autodiff engine of the *local-gradients* kind, in one file.

Each op computes its value and, at once, its local derivatives ∂out/∂input (numbers),
stored on the node beside its inputs; ``backward`` sorts the graph (depth first, recursively)
and multiplies: input.grad += local · out.grad.  This is the design of the smallest
scalar engines written for teaching (no closures, no op table), timed here against
autograd_lite on the same programs.  Forward values are computed with the same float
operations as autograd_lite's (x / y, not x · y⁻¹), so both engines give the same losses.
"""

from __future__ import annotations

import math


class Value:
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = self.data / other.data
        return Value(out, (self, other), (1 / other.data, -out / other.data))

    def __pow__(self, k):  # a number exponent
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, (self,), (1.0 if self.data > 0 else 0.0,))

    def __neg__(self):
        return Value(-self.data, (self,), (-1,))

    def __radd__(self, other):
        return Value(other) + self

    def __sub__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), (1, -1))

    def __rsub__(self, other):
        return Value(other) - self

    def __rmul__(self, other):
        return Value(other) * self

    def __rtruediv__(self, other):
        return Value(other) / self

    def backward(self):
        order, seen = [], set()

        def visit(v):  # depth first: a node after everything it depends on
            if v not in seen:
                seen.add(v)
                for child in v._children:
                    visit(child)
                order.append(v)

        visit(self)
        self.grad = 1
        for v in reversed(order):
            for child, local in zip(v._children, v._local_grads):
                child.grad += local * v.grad
