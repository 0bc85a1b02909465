"""autograd_lite.fuse: sums of products written with + and × become matrix products in a
vectorized tape, with the scalar engine's values and gradients; where the rewrite does not
apply the tape stays correct."""

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import engine
from autograd_lite.engine import Value
from autograd_lite.fuse import _Affine, _Apply
from autograd_lite.vectorize import compile_loss, vectorize


def fused(tape, kind=_Affine) -> list:
    return [op for op, out, _ in tape.instrs if out is None and op.__class__ is kind]


def close(got, want, scale=1.0):
    """Equal to 1e-12 relative (absolute 1e-12·scale where terms of that size cancel)."""
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)


# ---------------------------------------------------------------------------
# random per-example functions: layers of sums of products in any association and order
# ---------------------------------------------------------------------------

ACTS = {"none": lambda z: z, "relu": engine.relu, "tanh": engine.tanh, "sigmoid": engine.sigmoid}
term = st.tuples(st.integers(0, 50), st.booleans(), st.booleans())  # (weight pick, w·x or x·w, subtract)
extra = st.sampled_from(["bias", "const", "x*x", "shared", "neg", "none"])
neuron = st.tuples(st.lists(term, min_size=1, max_size=5), st.lists(extra, max_size=3),
                   st.integers(0, 2**16))  # seeds the association and order
layer = st.tuples(st.lists(neuron, min_size=1, max_size=4), st.sampled_from(sorted(ACTS)))


def combine(terms, rnd):
    """The terms added up in a random association (a random binary tree), some subtracted."""
    items = list(terms)
    while len(items) > 1:
        i = rnd.randrange(len(items) - 1)
        (a, sa), (b, sb) = items[i], items[i + 1]
        if sa and sb:  # −a − b = −(a + b)
            items[i:i + 2] = [(a + b, True)]
        elif sb:  # a − b
            items[i:i + 2] = [(a - b, False)]
        elif sa:  # −a + b = b − a
            items[i:i + 2] = [(b - a, False)]
        else:
            items[i:i + 2] = [(a + b, False)]
    v, s = items[0]
    return -v if s else v


def make_model(spec, n_in, seed):
    """A per-example function of x (n_in numbers) from the spec, its weights closure leaves."""
    rng = np.random.default_rng(seed)
    weights = [Value(float(v)) for v in rng.uniform(-1.5, 1.5, 51)]

    def model(x):
        h = list(x)
        shared = weights[7] * h[0]  # a product read by several sums: it must stay a node
        for neurons, act in spec:
            out = []
            for terms, extras, order in neurons:
                rnd = random.Random(order)
                pieces = []
                for j, (w, left, minus) in enumerate(terms):
                    wv, hv = weights[w], h[(w + j) % len(h)]
                    pieces.append((wv * hv if left else hv * wv, minus))
                for e in extras:
                    if e == "bias":
                        pieces.append((weights[(len(pieces) * 5) % 51], False))
                    elif e == "const":
                        pieces.append((0.25, False))
                    elif e == "x*x":  # a weight that differs per example
                        pieces.append((h[0] * h[-1], True))
                    elif e == "shared":
                        pieces.append((shared, False))
                    elif e == "neg":
                        pieces.append((-(weights[3] * h[-1]), False))
                rnd.shuffle(pieces)
                if all(not isinstance(p, Value) for p, _ in pieces):
                    pieces.append((weights[0] * h[0], False))
                out.append(ACTS[act](combine(pieces, rnd)))
            h = out
        return sum(h[1:], h[0]) + shared * 0.5

    model.weights = weights
    return model


class Model:
    def __init__(self, f):
        self.f = f

    def __call__(self, x):
        return self.f(x)

    def parameters(self):
        return self.f.weights


def scalar(f, row, y=None):
    xs = [Value(float(v)) for v in row]
    out = f(xs)
    loss = out if y is None else out * y
    return out.data, engine.gradients(loss, xs + f.weights)


@settings(max_examples=40, deadline=None)
@given(spec=st.lists(layer, min_size=1, max_size=3), n_in=st.integers(1, 4), seed=st.integers(0, 10_000),
       m=st.integers(1, 5))
def test_random_sums_of_products_match_the_scalar_engine(spec, n_in, seed, m):
    f = make_model(spec, n_in, seed)
    X = np.random.default_rng(seed + 1).uniform(-2, 2, (m, n_in))
    y = np.random.default_rng(seed + 2).uniform(-1, 1, m)
    g = vectorize(f, sizes=(n_in,))
    plain = vectorize(f, sizes=(n_in,), fuse=False)
    vals, gx = g.value_and_grad(X)
    ref = [scalar(f, row) for row in X]
    scale = 1.0 + max(abs(v) for v, _ in ref)
    for k, (v, grads) in enumerate(ref):
        close(vals[k], v, scale)
        close(gx[k], [float(d) for d in grads[:n_in]], scale)
    close(plain(X), vals, scale)
    # the weights' gradients (mean over the batch of out·y), through compile_loss
    step = compile_loss(Model(f), lambda out, yi: out * yi)
    cost, gw = step(X, y)
    want = np.mean([[float(d) for d in scalar(f, row, yi)[1][n_in:]] for row, yi in zip(X, y)], axis=0)
    close(gw, want, scale)
    close(cost, float(np.mean([scalar(f, row)[0] * yi for row, yi in zip(X, y)])), scale)
    # a sum of two or more products of a weight and an input became a matrix product (the last
    # layer's sums: every one of them reaches the output; an earlier one may be dropped by f)
    terms_per_sum = [len(terms) for terms, _, _ in spec[-1][0]]
    if max(terms_per_sum) >= 2:
        assert fused(g.tape), g.tape.instrs


# ---------------------------------------------------------------------------
# the rewrite fires (so the speed-up cannot silently vanish)
# ---------------------------------------------------------------------------


def elementary_mlp(sizes, seed=0):
    rng = np.random.default_rng(seed)
    layers = [[([Value(float(v)) for v in rng.uniform(-1, 1, nin)], Value(float(rng.uniform(-1, 1))))
               for _ in range(nout)] for nin, nout in zip(sizes, sizes[1:])]

    def model(x):
        h = x
        for i, layer in enumerate(layers):
            out = []
            for w, b in layer:
                s = b
                for wj, hj in zip(w, h):
                    s = s + wj * hj  # as the course writes a neuron
                out.append(s if i == len(layers) - 1 else s.tanh())
            h = out
        return h[0]

    model.weights = [p for layer in layers for w, b in layer for p in (*w, b)]
    return model


def test_an_mlp_written_with_plus_and_times_becomes_three_matrix_products():
    f = elementary_mlp([3, 8, 5, 1])
    g = vectorize(f, sizes=(3,))
    dense = fused(g.tape)
    assert [d.w_slots.shape for d in dense] == [(8, 3), (5, 8), (1, 5)]
    assert [a.op.name for a in fused(g.tape, _Apply)] == ["tanh", "tanh"]
    assert len(g.tape.instrs) == 5 and len(g.tape) == 2 * (3 * 8 + 8 * 5 + 5) + 13
    X = np.random.default_rng(1).normal(size=(20, 3))
    vals, gx = g.value_and_grad(X)
    for k in (0, 7, 19):
        v, grads = scalar(f, X[k])
        close(vals[k], v)
        close(gx[k], [float(d) for d in grads[:3]])


@pytest.mark.parametrize("write", ["left", "right", "tree", "reversed", "sub"])
def test_any_association_and_order_is_one_dot_product(write):
    w = [Value(v) for v in (0.5, -1.0, 2.0, 0.25)]
    b = Value(0.1)

    def f(x):
        p = [w[i] * x[i] if i % 2 else x[i] * w[i] for i in range(4)]
        if write == "left":
            return ((b + p[0]) + p[1]) + (p[2] + p[3])
        if write == "right":
            return p[0] + (p[1] + (p[2] + (p[3] + b)))
        if write == "tree":
            return (p[3] + p[1]) + (b + (p[2] + p[0]))
        if write == "reversed":
            return sum(reversed(p), b)
        return b - (p[0] - p[1]) - (-p[2] - p[3])  # = b − p0 + p1 + p2 + p3

    g = vectorize(f, sizes=(4,))
    (d,) = fused(g.tape)
    assert d.w_slots.shape == (1, 4) and len(g.tape.instrs) == 1
    X = np.random.default_rng(2).normal(size=(6, 4))
    vals, gx = g.value_and_grad(X)
    for k in range(6):
        xs = [Value(float(t)) for t in X[k]]
        out = f(xs)
        close(vals[k], out.data)
        close(gx[k], [float(t) for t in engine.gradients(out, xs)])


# ---------------------------------------------------------------------------
# where the rewrite must not apply, the tape stays correct
# ---------------------------------------------------------------------------


def check_against_scalar(f, sizes, args):
    g = vectorize(f, sizes=sizes)
    vals, grads = g.value_and_grad(*args, argnums=tuple(range(len(sizes))))
    m = len(np.asarray(args[0]))
    for k in range(m):
        vs = [[Value(float(t)) for t in a[k]] if s else Value(float(a[k])) for a, s in zip(args, sizes)]
        out = f(*vs)
        flat = [v for a in vs for v in (a if isinstance(a, list) else [a])]
        want = [float(t) for t in engine.gradients(out, flat)]
        got = np.concatenate([np.atleast_1d(gr[k]) for gr in grads])
        close(vals[k], out.data)
        close(got, want)
    return g


def test_weights_that_differ_per_example_are_not_fused():
    """w passed per example: w·x is a product of two batch-dependent values."""
    X = np.random.default_rng(3).normal(size=(5, 3))
    W = np.random.default_rng(4).normal(size=(5, 3))
    g = check_against_scalar(lambda w, x: w[0] * x[0] + w[1] * x[1] + w[2] * x[2], (3, 3), (W, X))
    assert not fused(g.tape)


def test_a_product_feeding_two_sums_stays_a_node():
    w = [Value(v) for v in (0.3, -0.7, 1.1)]

    def f(x):
        p = w[0] * x[0]  # read by both sums
        s1 = p + w[1] * x[1]
        s2 = w[2] * x[1] + p
        return s1 * s2

    X = np.random.default_rng(5).normal(size=(4, 2))
    g = check_against_scalar(f, (2,), (X,))
    assert any(op is engine.OPS["mul"] and ins == (g.tape.leaf0, 0) for op, _, ins in g.tape.instrs
               if ins is not None)


def test_intermediate_sums_used_elsewhere_stay_available():
    w = [Value(v) for v in (0.3, -0.7, 1.1, 0.9)]

    def f(x):
        s = w[0] * x[0] + w[1] * x[1]  # read twice: its own sum, and a term of t
        t = s + w[2] * x[2]
        return t.tanh() * s + (w[3] * x[0] + w[3] * x[1]).relu()

    X = np.random.default_rng(6).normal(size=(7, 3))
    g = check_against_scalar(f, (3,), (X,))
    assert fused(g.tape)


def test_sums_over_the_same_inputs_that_read_each_other_are_separate_steps():
    """z2 reads z1 (as a bias) and both read x: one matrix product for both would be a cycle."""
    w = [Value(v) for v in (0.3, -0.7, 1.1, 0.9, -0.2)]

    def f(x):
        z1 = w[0] * x[0] + w[1] * x[1]
        z2 = w[2] * x[0] + w[3] * x[1] + z1.relu()
        z3 = w[4] * x[0] + w[0] * x[1] + 1.0
        return z2 * z3

    X = np.random.default_rng(7).normal(size=(6, 2))
    g = check_against_scalar(f, (2,), (X,))
    assert sorted(d.w_slots.shape for d in fused(g.tape)) == [(1, 2), (2, 2)]


def test_constant_weights_scalar_arguments_and_broadcasting():
    """2·x + 3·y (constant weights), a batch argument and a shared one."""
    def f(x, y):
        return 2.0 * x - y * 3.0 + x * 0.5

    g = vectorize(f)
    assert fused(g.tape)
    x = np.array([1.0, -2.0, 0.5])
    vals, (gx, gy) = g.value_and_grad(x, 4.0, argnums=(0, 1))
    close(vals, 2.5 * x - 12.0)
    close(gx, np.full(3, 2.5))
    close(gy, np.full(3, -3.0))
    _, gy_sum = g.value_and_grad(x, 4.0, argnums=1, reduce="sum")
    close(gy_sum, -9.0)


def test_nan_and_inf_flow_as_in_the_scalar_engine():
    w = [Value(1.0), Value(-2.0)]
    g = vectorize(lambda x: w[0] * x[0] + w[1] * x[1], sizes=(2,))
    vals = g(np.array([[math.inf, 1.0], [math.nan, 0.0], [1.0, 1.0]]))
    assert vals[0] == math.inf and math.isnan(vals[1]) and vals[2] == -1.0


# ---------------------------------------------------------------------------
# *args
# ---------------------------------------------------------------------------


def test_star_args_takes_its_arity_from_the_call():
    w = Value(2.0)
    g = vectorize(lambda *xs: sum((w * x for x in xs), Value(0.0)))
    assert g(np.array([1.0, 2.0]), np.array([3.0, 4.0])).tolist() == [8.0, 12.0]
    assert g(1.0, 2.0, 3.0) == 12.0  # another arity: traced again
    _, grads = g.value_and_grad(np.array([1.0, 2.0]), 5.0, argnums=(0, 1))
    assert grads[0].tolist() == [2.0, 2.0] and grads[1].tolist() == [2.0, 2.0]


def test_star_args_with_a_sequence_argument_names_the_sizes_to_pass():
    g = vectorize(lambda *a: a[0][0] * a[1])
    with pytest.raises(TypeError, match=r"sizes=\(3, None\)"):
        g(np.ones((4, 3)), np.ones(4))
    assert vectorize(lambda *a: a[0][0] * a[1], sizes=(3, None))(np.ones((4, 3)), np.ones(4)).shape == (4,)


def test_a_shared_sequence_argument_broadcasts_against_a_batched_one():
    """x is one example's inputs for the whole batch (shape (2,)), y a batch: the fused layer's
    output has no batch axis and broadcasts downstream; gradients per example and reduced."""
    w = [Value(0.5), Value(-1.5), Value(2.0), Value(0.25)]

    def f(x, y):
        z1 = w[0] * x[0] + w[1] * x[1]
        z2 = x[1] * w[2] + x[0] * w[3]
        return z1.tanh() * y + z2.tanh()

    g = vectorize(f, sizes=(2, None))
    assert fused(g.tape) and fused(g.tape, _Apply)
    x, ys = np.array([0.3, -0.8]), np.array([1.0, -2.0, 0.5])
    vals, (gx, gy) = g.value_and_grad(x, ys, argnums=(0, 1))
    _, gx_sum = g.value_and_grad(x, ys, argnums=0, reduce="sum")
    assert gx.shape == (3, 2) and gx_sum.shape == (2,)
    for k, yk in enumerate(ys):
        xs, yv = [Value(0.3), Value(-0.8)], Value(float(yk))
        out = f(xs, yv)
        close(vals[k], out.data)
        close(gx[k], [float(t) for t in engine.gradients(out, xs)])
        close(gy[k], float(engine.gradients(out, [yv])[0]))
    close(gx_sum, gx.sum(axis=0))
