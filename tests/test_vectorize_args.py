"""vectorize with the parameters passed as arguments (issue 24): an argument that is the same
for every example is static for the sum-of-products rewrite, like a closure weight; the
rewrite is made per call signature and cached; parameters may be one sequence argument.
Fused and unfused tapes, the scalar engine, and both argument styles give the same numbers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import engine
from autograd_lite.engine import Value
from autograd_lite.fuse import _Affine
from autograd_lite.vectorize import vectorize

EDGE = [0.0, -0.0, 5e-324, -2.5e-310, math.inf, -math.inf, math.nan, 1e308, -1e308]
ACTS = {"none": lambda z: z, "relu": engine.relu, "tanh": engine.tanh}


def affines(g, batched):
    """The fused sums of the program that ``g``'s tape made for this signature."""
    prog = g.tape.program(batched)
    return [op for op, out, _ in prog.instrs if out is None and op.__class__ is _Affine]


def same(got, want, rtol=1e-12, atol=1e-12):
    """Equal numbers: nan where nan, the same infinities, else close."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert (np.isnan(got) == np.isnan(want)).all(), (got, want)
    ok = ~np.isnan(want)
    assert (np.isinf(got[ok]) == np.isinf(want[ok])).all(), (got, want)
    fin = ok & np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=rtol, atol=atol)
    np.testing.assert_array_equal(got[ok & ~fin], want[ok & ~fin])


# ---------------------------------------------------------------------------
# random networks written with + and ×, their weights as arguments
# ---------------------------------------------------------------------------

layer = st.tuples(st.integers(1, 4), st.sampled_from(sorted(ACTS)), st.booleans())  # width, act, bias


def make_loss(n_in, layers, seed):
    """loss(*params, *xs, y) of a net of sums of products: ``s = b; s = s + w·h`` (or
    ``w·h + s``, ``s − w·h`` at random), its parameters scalar arguments; and how many."""
    rng = np.random.default_rng(seed)
    shapes = []
    nin = n_in
    for width, act, bias in layers:
        shapes.append((nin, width, act, bias))
        nin = width
    n_params = sum((a + int(b)) * w for a, w, _, b in shapes) + nin  # + the output weights
    styles = rng.integers(0, 3, size=4 * n_params).tolist()

    def loss(*args):
        it = iter(args[:n_params])
        h = list(args[n_params:-1])
        k = 0
        for nin, width, act, bias in shapes:
            out = []
            for _ in range(width):
                w = [next(it) for _ in range(nin)]
                s = next(it) if bias else None
                for wj, hj in zip(w, h):
                    style = styles[k]
                    k += 1
                    t = wj * hj if style != 1 else hj * wj
                    s = t if s is None else (s + t if style != 2 else s - t)
                out.append(ACTS[act](s))
            h = out
        score = sum((next(it) * hj for hj in h[1:]), next(it) * h[0])
        return (1 + -args[-1] * score).relu()

    return loss, n_params


def scalar_reference(loss, params, X, y):
    """Per example: the loss and its gradient with respect to the parameters (scalar engine)."""
    vals, grads = [], []
    ps = [Value(float(p)) for p in params]
    for row, t in zip(X, y):
        out = loss(*ps, *map(float, row), float(t))
        vals.append(out.data)
        grads.append([float(d) for d in engine.gradients(out, ps)])
    return np.array(vals), np.array(grads)


@settings(max_examples=25, deadline=None)
@given(n_in=st.integers(1, 3), layers=st.lists(layer, min_size=1, max_size=2), seed=st.integers(0, 10_000),
       m=st.integers(1, 6), reduce=st.sampled_from([None, "sum", "mean"]))
def test_weights_as_arguments_fused_unfused_and_scalar_agree(n_in, layers, seed, m, reduce):
    loss, P = make_loss(n_in, layers, seed)
    rng = np.random.default_rng(seed + 1)
    params = rng.uniform(-1.5, 1.5, P).tolist()
    X, y = rng.uniform(-2, 2, (m, n_in)), rng.choice([-1.0, 1.0], m)
    want_v, want_g = scalar_reference(loss, params, X, y)
    agg = want_g if reduce is None else want_g.sum(0) / (m if reduce == "mean" else 1)
    args = (*params, *X.T, y)
    for fuse in (True, False):
        g = vectorize(loss, fuse=fuse)  # f(*args): traced for this call's arity
        v, gs = g.value_and_grad(*args, argnums=range(P), reduce=reduce)
        same(v, want_v)
        same(np.array(gs).T if reduce is None else np.array(gs), agg, atol=1e-12 * (1 + np.abs(want_g).sum()))
        # the same parameters as one sequence argument (an array, then a list of Values)
        seq = vectorize(lambda p, *rest: loss(*p, *rest), sizes=(P, *[None] * (n_in + 1)), fuse=fuse)
        for p in (np.array(params), [Value(x) for x in params]):
            v2, g2 = seq.value_and_grad(p, *X.T, y, argnums=0, reduce=reduce)
            same(v2, want_v)
            same(g2, agg, atol=1e-12 * (1 + np.abs(want_g).sum()))
    # every sum of two or more products of a weight argument and an input became a matrix product
    widths = [n_in] + [w for w, _, _ in layers]  # the number of products in each layer's sums
    if max(widths) >= 2:
        fused = vectorize(loss, sizes=(None,) * len(args))
        assert affines(fused, (False,) * P + (True,) * (n_in + 1))


def test_the_demo_mlp_with_its_parameters_as_arguments_is_three_matrix_products():
    loss, P = make_loss(2, [(16, "relu", True), (16, "relu", True)], seed=3)
    g = vectorize(loss, sizes=(None,) * (P + 3))
    sig = (False,) * P + (True,) * 3
    shapes = sorted(a.w_slots.shape for a in affines(g, sig))
    assert shapes == [(1, 16), (16, 2), (16, 16)]
    assert len(g.tape.program(sig).instrs) < 15 < len(g.tape.instrs)  # 644 plain ops: none fused there


# ---------------------------------------------------------------------------
# edge inputs: ±0, subnormals, ±inf, nan, 1e308 (data and weights)
# ---------------------------------------------------------------------------


def one_layer(*args):
    """relu(w₀x₀ + w₁x₁ − w₂x₂ + b)·c + (x₀·w₃ + x₁·w₄): two sums of products over the same inputs."""
    w0, w1, w2, w3, w4, b, c, x0, x1, x2 = args
    s = b + w0 * x0
    s = s + x1 * w1
    s = s - w2 * x2
    return s.relu() * c + (x0 * w3 + x1 * w4)


@pytest.mark.parametrize("where", ["data", "weights"])
def test_edge_inputs_fused_as_unfused(where):
    rng = np.random.default_rng(0)
    fused, plain = vectorize(one_layer), vectorize(one_layer, fuse=False)
    for special in EDGE:
        w = rng.uniform(-1.5, 1.5, 7).tolist()
        X = rng.uniform(-2, 2, (len(EDGE), 3))
        if where == "data":
            X[np.arange(len(EDGE)), np.arange(len(EDGE)) % 3] = EDGE  # one special number per example
            X[0, 1] = special
        else:
            w[int(rng.integers(0, 7))] = special
        per = plain.value_and_grad(*w, *X.T, argnums=range(10))[1]
        for reduce in (None, "sum", "mean"):
            got = fused.value_and_grad(*w, *X.T, argnums=range(10), reduce=reduce)
            want = plain.value_and_grad(*w, *X.T, argnums=range(10), reduce=reduce)
            same(got[0], want[0])
            for a, b, p in zip(got[1], want[1], per):
                # a sum over the batch of terms near the largest float overflows or not depending
                # on the order of the additions (a matrix product's, or one slot's): compared
                # per example only
                if reduce is None or not (np.abs(p[np.isfinite(p)]) > 1e300).any():
                    same(a, b)
        # per example, the scalar engine
        vals = fused(*w, *X.T)
        for k, row in enumerate(X):
            same(vals[k], one_layer(*[Value(v) for v in (*w, *row)]).data)
    assert affines(fused, (False,) * 7 + (True,) * 3)


def test_a_static_argument_gives_the_gradient_a_batched_copy_sums_to():
    """w passed once (static: fused) or as a batch of copies (dynamic: not fused): the same
    values, and the static one's gradient is the batch sum of the copies' per-example ones."""
    g = vectorize(one_layer)
    rng = np.random.default_rng(5)
    w, X = rng.uniform(-1, 1, 7), rng.uniform(-2, 2, (9, 3))
    v1, g1 = g.value_and_grad(*w, *X.T, argnums=range(7), reduce="sum")
    copies = [np.full(9, x) for x in w]
    v2, g2 = g.value_and_grad(*copies, *X.T, argnums=range(7), reduce=None)
    same(v1, v2)
    same(np.array(g1), np.array(g2).sum(axis=1), rtol=1e-13)
    assert np.shape(g1[0]) == () and np.shape(g2[0]) == (9,)


# ---------------------------------------------------------------------------
# the signature cache: one program per signature, never a program that does not fit
# ---------------------------------------------------------------------------


def test_each_signature_gets_its_own_program_and_a_call_never_reuses_one_that_does_not_fit():
    g = vectorize(lambda w0, w1, x0, x1: (w0 * x0 + w1 * x1).tanh())
    x0, x1 = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.5])

    def reference(w0, w1):
        out = []
        for k in range(3):
            a, b = (float(np.broadcast_to(w0, 3)[k]), float(np.broadcast_to(w1, 3)[k]))
            out.append(math.tanh(a * x0[k] + b * x1[k]))
        return np.array(out)

    same(g(0.3, -0.7, x0, x1), reference(0.3, -0.7))  # weights static: fused
    static_sig = (False, False, True, True)
    assert affines(g, static_sig)
    per_example = np.array([0.1, 0.2, -0.3])  # now w0 differs per example: another signature
    same(g(per_example, -0.7, x0, x1), reference(per_example, -0.7))
    assert set(g.tape._programs) == {static_sig, (True, False, True, True)}
    assert not affines(g, (True, False, True, True))  # w0·x0 with a batched w0: no matrix product
    same(g(0.3, -0.7, x0, x1), reference(0.3, -0.7))  # back to the first: its cached program
    # a batch of one example (shape (1,)) has a batch axis: not static
    same(g(np.array([0.3]), -0.7, x0, x1), reference(0.3, -0.7))
    assert (True, False, True, True) in g.tape._programs


def test_the_cache_of_signatures_is_bounded():
    import importlib

    V = importlib.import_module("autograd_lite.vectorize")  # the module (the package exports the function)
    n = 6
    g = vectorize(lambda *a: sum((a[i] * a[i + 1] for i in range(0, len(a) - 1, 2)), Value(0.0)))
    for mask in range(2 ** n):
        args = [np.ones(2) if mask >> i & 1 else 1.0 for i in range(n)]
        assert g(*args).tolist() == [3.0, 3.0] or g(*args).shape == ()
    assert len(g.tape._programs) == V._PROGRAMS_KEPT < 2 ** n  # the oldest were dropped


def test_a_list_of_values_is_a_sequence_argument_traced_for_its_length():
    params = [Value(0.5), Value(-1.0), Value(0.25)]

    def f(p, x, y):
        return ((p[0] * x + p[1] * y + p[2]) - y).relu()

    g = vectorize(f)  # f indexes p: traced at the call, where p shows its length
    assert g.tape is None
    x, y = np.array([1.0, 2.0, -1.0, 0.0]), np.array([0.5, -0.5, 2.0, 1.0])
    v, gp = g.value_and_grad(params, x, y, argnums=0, reduce="mean")
    assert gp.shape == (3,) and g.sizes == (3, None, None)
    ref = np.zeros(3)
    for a, b in zip(x, y):
        out = f(params, float(a), float(b))
        ref += np.array(engine.gradients(out, params))
        assert v[list(x).index(a)] == out.data
    same(gp, ref / 4)
    params[0].data = 2.0  # read at the call: the Values' current numbers
    assert g(params, x, y)[0] == f(params, 1.0, 0.5).data
    _, per = g.value_and_grad(params, x, y, argnums=0)
    assert per.shape == (4, 3)
    with pytest.raises(TypeError, match="sizes="):
        g(0.5, x, y)  # p a number: f can't index it, and the message names the fix


def test_argnums_may_be_a_range():
    g = vectorize(lambda a, b, c: a * b + c)
    _, grads = g.value_and_grad(2.0, np.array([1.0, 3.0]), 1.0, argnums=range(3), reduce="sum")
    assert [float(x) for x in grads[0:1]] == [4.0] and grads[1].tolist() == [2.0, 2.0] and float(grads[2]) == 2.0
    with pytest.raises(ValueError, match="out of range"):
        g.value_and_grad(2.0, 1.0, 1.0, argnums=range(4))
