"""Answers for the workbook tests (tests/test_learn.py): one correct answer per exercise,
named after its id (their bodies are pasted into `learn init`'s stubs), and planted
wrong answers, one per classic mistake, as (exercise, mistake key, function)."""

from __future__ import annotations

import math
import random

import numpy as np

from autograd_lite import learn

# ---------------------------------------------------------------- correct answers


def sigmoid_derivative(z):
    if z >= 0:
        s = 1.0 / (1.0 + math.exp(-z))
    else:
        e = math.exp(z)
        s = e / (1.0 + e)
    return s * (1.0 - s)


def log_loss_gradient(a, y):
    return -y / a + (1 - y) / (1 - a)


def chain_rule(x1, x2, w1, w2, b, y):
    z = w1 * x1 + w2 * x2 + b
    a = 1.0 / (1.0 + math.exp(-z))
    dL_da = -y / a + (1 - y) / (1 - a)
    da_dz = a * (1 - a)
    dL_dz = dL_da * da_dz
    return dL_dz * x1, dL_dz * x2, dL_dz


def backprop(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for parent, _ in learn.local_derivatives(node):
            stack.append((parent, False))
    root.grad = 1.0
    for node in reversed(order):
        for parent, d in learn.local_derivatives(node):
            parent.grad += node.grad * d


def gradient_descent(params, lr):
    for p in params:
        p.data -= lr * p.grad


def initialise(n_in, n_out, seed):
    rng = random.Random(seed)
    return [[rng.gauss(0.0, 1.0) / math.sqrt(n_in) for _ in range(n_in)] for _ in range(n_out)]


def vectorized_logreg(X, y, w, b):
    a = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    m = X.shape[0]
    return X.T @ (a - y) / m, float(np.sum(a - y) / m)


def new_op():
    def forward(x):
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    def derivative(x, out):
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)

    return forward, derivative


CORRECT = {f.__name__: f for f in (sigmoid_derivative, log_loss_gradient, chain_rule, backprop, gradient_descent,
                                   initialise, vectorized_logreg, new_op)}
