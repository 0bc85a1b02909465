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


# ---------------------------------------------------------------- planted mistakes

def _sig(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def sd_sigma(z):
    return _sig(z)


def sd_sign(z):
    return _sig(z) * (_sig(z) - 1)


def sd_overflow(z):
    s = 1.0 / (1.0 + math.exp(-z))
    return s * (1 - s)


def sd_overflow_numpy(z):
    return float(np.exp(-z) / (1 + np.exp(-z)) ** 2)


def ll_sign(a, y):
    return y / a - (1 - y) / (1 - a)


def ll_dz(a, y):
    return a - y


def cr_missing_factor(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    return a - y, a - y, a - y


def cr_sigma(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    dz = (-y / a + (1 - y) / (1 - a)) * a
    return dz * x1, dz * x2, dz


def cr_sign(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    return (y - a) * x1, (y - a) * x2, y - a


def cr_wrong_parent(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    return (a - y) * w1, (a - y) * w2, a - y


def _topo(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p, _ in learn.local_derivatives(node))
    return order[::-1]


def bp_overwrite(root):
    order = _topo(root)
    root.grad = 1.0
    for node in order:
        for parent, d in learn.local_derivatives(node):
            parent.grad = node.grad * d


def bp_order(root):  # breadth-first from the root: a node may go before all its consumers
    root.grad = 1.0
    queue, seen = [root], {root}
    for node in queue:
        for parent, d in learn.local_derivatives(node):
            parent.grad += node.grad * d
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)


def bp_no_seed(root):
    for node in _topo(root):
        for parent, d in learn.local_derivatives(node):
            parent.grad += node.grad * d


def bp_recursive(root):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent, _ in learn.local_derivatives(node):
                visit(parent)
            order.append(node)

    visit(root)
    root.grad = 1.0
    for node in reversed(order):
        for parent, d in learn.local_derivatives(node):
            parent.grad += node.grad * d


def bp_wrong_parent(root):  # each parent gets the other parent's local derivative
    order = _topo(root)
    root.grad = 1.0
    for node in order:
        pairs = learn.local_derivatives(node)
        for (parent, _), (_, d) in zip(pairs, pairs[::-1]):
            parent.grad += node.grad * d


def gd_ascent(params, lr):
    for p in params:
        p.data += lr * p.grad


def init_equal(n_in, n_out, seed):
    return [[0.0] * n_in for _ in range(n_out)]


def init_same_value(n_in, n_out, seed):
    return [[0.5] * n_in for _ in range(n_out)]


def vl_missing_m(X, y, w, b):
    a = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return X.T @ (a - y), float(np.sum(a - y))


def no_op_overflow():
    def forward(x):
        return math.log(1 + math.exp(x))

    def derivative(x, out):
        return 1 / (1 + math.exp(-x))

    return forward, derivative


def no_op_sign():
    f, _ = new_op()
    return f, lambda x, out: -_sig(x)


def no_op_function():
    f, _ = new_op()
    return f, lambda x, out: out


MISTAKES = [
    ("sigmoid_derivative", "sigma-not-derivative", sd_sigma),
    ("sigmoid_derivative", "sign", sd_sign),
    ("sigmoid_derivative", "overflow", sd_overflow),
    ("sigmoid_derivative", "overflow", sd_overflow_numpy),
    ("log_loss_gradient", "sign", ll_sign),
    ("log_loss_gradient", "dl-dz", ll_dz),
    ("chain_rule", "missing-factor", cr_missing_factor),
    ("chain_rule", "sigma-not-derivative", cr_sigma),
    ("chain_rule", "sign", cr_sign),
    ("chain_rule", "wrong-parent", cr_wrong_parent),
    ("backprop", "overwrite", bp_overwrite),
    ("backprop", "order", bp_order),
    ("backprop", "seed", bp_no_seed),
    ("backprop", "recursion", bp_recursive),
    ("backprop", "wrong-parent", bp_wrong_parent),
    ("gradient_descent", "ascent", gd_ascent),
    ("initialise", "equal-weights", init_equal),
    ("initialise", "equal-weights", init_same_value),
    ("vectorized_logreg", "missing-1/m", vl_missing_m),
    ("new_op", "overflow", no_op_overflow),
    ("new_op", "sign", no_op_sign),
    ("new_op", "function-not-derivative", no_op_function),
]


def bp_producers_first(root):  # the topological order walked the wrong way round
    order = _topo(root)
    root.grad = 1.0
    for node in reversed(order):
        for parent, d in learn.local_derivatives(node):
            parent.grad += node.grad * d


def bp_seed_late(root):
    order = _topo(root)
    for node in order:
        for parent, d in learn.local_derivatives(node):
            parent.grad += node.grad * d
    root.grad = 1.0


def bp_first_parent(root):  # every contribution lands on the node's first parent
    order = _topo(root)
    root.grad = 1.0
    for node in order:
        pairs = learn.local_derivatives(node)
        for _, d in pairs:
            pairs[0][0].grad += node.grad * d


def bp_two_phase_overwrite(root):  # sorts with local_derivatives first, then overwrites
    order = _topo(root)
    for node in order:
        learn.local_derivatives(node)
    root.grad = 1.0
    for node in order:
        for parent, d in learn.local_derivatives(node):
            parent.grad = node.grad * d


def cr_sigma_twice(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    dz = (a - y) * a * (1 - a)
    return dz * x1, dz * x2, dz


MISTAKES += [
    ("backprop", "order", bp_producers_first),
    ("backprop", "seed", bp_seed_late),
    ("backprop", "wrong-parent", bp_first_parent),
    ("backprop", "overwrite", bp_two_phase_overwrite),
    ("chain_rule", "extra-factor", cr_sigma_twice),
]


def bp_dfs_no_order(root):  # a stack walk that passes a node on every time it is reached
    root.grad = 1.0
    stack = [root]
    while stack:
        node = stack.pop()
        for parent, d in learn.local_derivatives(node):
            parent.grad += node.grad * d
            stack.append(parent)


def cr_no_dl_da(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    dz = a * (1 - a)
    return dz * x1, dz * x2, dz


def vl_dw_sum_only(X, y, w, b):
    a = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return X.T @ (a - y), float(np.mean(a - y))


MISTAKES += [
    ("backprop", "twice", bp_dfs_no_order),
    ("chain_rule", "missing-factor", cr_no_dl_da),
    ("vectorized_logreg", "missing-1/m", vl_dw_sum_only),
]


def ll_sign_second(a, y):
    return -y / a - (1 - y) / (1 - a)


def ll_missing_term(a, y):
    return -y / a


def ll_loss(a, y):
    return -(y * math.log(a) + (1 - y) * math.log(1 - a))


def sd_plus(z):
    return _sig(z) * (1 + _sig(z))


def sd_one_minus(z):
    return 1 - _sig(z)


MISTAKES += [
    ("log_loss_gradient", "sign", ll_sign_second),
    ("log_loss_gradient", "missing-term", ll_missing_term),
    ("log_loss_gradient", "loss-not-gradient", ll_loss),
    ("sigmoid_derivative", "sign", sd_plus),
    ("sigmoid_derivative", "missing-factor", sd_one_minus),
]


def ll_missing_y_term(a, y):
    return (1 - y) / (1 - a)


MISTAKES += [("log_loss_gradient", "missing-term", ll_missing_y_term)]


def cr_no_sigma_prime(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    dz = -y / a + (1 - y) / (1 - a)
    return dz * x1, dz * x2, dz


def cr_db_times_x(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    return (a - y) * x1, (a - y) * x2, (a - y) * x1


def cr_swapped_inputs(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    return (a - y) * x2, (a - y) * x1, a - y


def cr_sign_dw(x1, x2, w1, w2, b, y):
    a = _sig(w1 * x1 + w2 * x2 + b)
    return -(a - y) * x1, -(a - y) * x2, a - y


MISTAKES += [
    ("chain_rule", "missing-factor", cr_no_sigma_prime),
    ("chain_rule", "wrong-factor", cr_db_times_x),
    ("chain_rule", "wrong-parent", cr_swapped_inputs),
    ("chain_rule", "sign", cr_sign_dw),
]
