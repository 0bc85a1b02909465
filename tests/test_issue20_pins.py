"""Issue 20, "tests that pin the behaviour down": classes of behaviour that no test noticed
when mutated (numpy operands, create_graph accumulation, anomaly mode on every input,
backprop() of intermediate nodes, pow's ∂/∂y on arrays, fused programs of any batch rank,
per-example weight gradients, the order of fused steps)."""

import math
from decimal import Decimal

import numpy as np
import pytest

from autograd_lite import Value, explain, gradients
from autograd_lite.engine import AnomalyError, backprop, detect_anomaly
from autograd_lite.fuse import _Affine
from autograd_lite.vectorize import compile_loss, vectorize

# ---------------------------------------------------------------------------
# numpy operands and the ufunc protocol
# ---------------------------------------------------------------------------


def test_a_numpy_scalar_compares_with_a_value_by_number():
    v = Value(2.0)
    assert (np.float64(1) > v) is False and (np.float64(3) > v) is True
    assert (np.float64(2) >= v) is True and (np.float64(2) < v) is False
    assert (np.int64(2) == v) is True and (np.float32(2) != v) is False


def test_numpy_negative_and_absolute_are_graph_ops():
    v = Value(-2.0)
    n, a = np.negative(v), np.absolute(v)
    assert n.__class__ is Value and n.op.name == "neg" and n.data == 2.0
    assert a.__class__ is Value and a.op.name == "abs" and a.data == 2.0
    assert gradients(n * a, v) == pytest.approx(2 * -2.0)  # d(−v·|v|)/dv = −2|v| = −4
    assert np.positive(v) is v


def test_numpy_arithmetic_on_a_value_is_the_values_operator():
    v = Value(2.0)
    for got, want in [(np.float64(2) * v, 4.0), (np.subtract(np.float64(5), v), 3.0),
                      (np.true_divide(v, np.int64(4)), 0.5), (np.power(v, 2), 4.0), (np.float64(2) ** v, 4.0)]:
        assert got.__class__ is Value and got.data == want
    assert gradients(np.subtract(np.float64(5), v), v) == -1.0


def test_a_value_and_a_decimal_are_not_numbers_to_each_other():
    v = Value(1.0)
    assert (v == Decimal(1)) is False and (v != Decimal(1)) is True
    with pytest.raises(TypeError):
        v < Decimal(2)  # noqa: B015 -- the comparison is the test


@pytest.mark.parametrize("call", [
    lambda v: np.add(v, 1.0, dtype=float),       # a keyword
    lambda v: np.multiply.outer(v, 2.0),         # a method other than __call__
    lambda v: np.add.accumulate(v),
    lambda v: np.exp(v),                         # a ufunc with no operator: it would cut the graph
])
def test_other_ufunc_calls_are_refused_with_the_way_forward(call):
    with pytest.raises(TypeError, match="can't take a Value") as e:
        call(Value(2.0))
    assert "v.add()" not in str(e.value)  # no method hint that does not exist


def test_a_value_with_an_array_leaves_numpy_to_refuse():
    with pytest.raises(TypeError):
        np.add(Value(2.0), np.array([1.0, 2.0]))


# ---------------------------------------------------------------------------
# create_graph: the accumulation state
# ---------------------------------------------------------------------------

def test_a_float_backward_then_a_create_graph_one_accumulates_into_a_value():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0 and x.grad.__class__ is float
    (x * x * x).backward(create_graph=True)
    g = x.grad
    assert g.__class__ is Value and g.data == 6.0 + 27.0
    x.grad = 0.0
    g.backward()
    assert x.grad == 18.0  # d(6 + 3x²)/dx: the float part is a constant


def test_two_create_graph_passes_after_a_zero_gradient():
    x = Value(-1.0)
    x.relu().backward(create_graph=True)
    assert x.grad.__class__ is Value and x.grad.data == 0.0
    (x * x).backward(create_graph=True)
    g = x.grad
    assert g.data == -2.0
    x.grad = 0.0
    g.backward()
    assert x.grad == 2.0


def test_a_fresh_nodes_grad_is_zero():
    a, b = Value(1.0), Value(2.0)
    assert a.grad == 0.0 and (a * b).grad == 0.0 and (a * b).grad.__class__ is float


# ---------------------------------------------------------------------------
# anomaly mode: every input, the float pass, create_graph, explain
# ---------------------------------------------------------------------------

def _second_input_cases():
    y = Value(2.0, "y")
    yield "+", 1.0 + y, math.nan
    y = Value(2.0, "y")
    yield "−", 1.0 - y, math.nan
    y = Value(1e-200, "y")
    yield "/", 1.0 / y, 1.0
    y = Value(2.0, "y")
    yield "**", (-2.0) ** y, 1.0


@pytest.mark.parametrize("case", list(_second_input_cases()), ids=lambda c: c[0])
def test_anomaly_mode_checks_the_second_input_in_the_float_pass(case):
    _, L, seed = case  # built outside the block: only the backward pass is checked
    with detect_anomaly(), pytest.raises(AnomalyError, match="for input y="):
        L.backward(seed)
    L.backward(seed)  # outside the block: no check


def test_anomaly_mode_under_create_graph_checks_the_derivatives_graph():
    y = Value(1e-200)
    L = 1.0 / y
    with detect_anomaly(), pytest.raises(AnomalyError, match="forward of div"):
        L.backward(create_graph=True)  # −(out/y) = −1e400 built as a node: inf from finite numbers


def test_anomaly_mode_through_explain():
    y = Value(1e-200, "y")
    L = 1.0 / y
    explain(L)  # outside the block: fine
    with detect_anomaly(), pytest.raises(AnomalyError, match="backward of div"):
        explain(L)


# ---------------------------------------------------------------------------
# backprop(): intermediate nodes on the float path
# ---------------------------------------------------------------------------

def test_backprop_gives_every_intermediate_node_on_the_float_path():
    x = Value(2.0)
    h = x * x
    k = h.tanh()
    L = h * 3 + k
    r = backprop(L)
    t = math.tanh(4.0)
    assert r[L] == 1.0 and r[k] == 1.0
    assert r[h] == pytest.approx(3 + (1 - t * t))
    assert r[x] == pytest.approx((3 + (1 - t * t)) * 4)
    r2 = backprop(L, 2.0)
    assert r2[h] == pytest.approx(2 * r[h]) and r2[L] == 2.0
    assert h.grad == 0.0 and x.grad == 0.0  # pure: nothing written
    want = {n: v.data for n, v in backprop(L, create_graph=True).items()}
    assert {n: r[n] for n in want} == pytest.approx(want)


# ---------------------------------------------------------------------------
# vectorize: pow's ∂/∂y with one array and one scalar
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("base_batched", [True, False])
def test_pow_dy_with_one_array_and_one_scalar(base_batched):
    xs = np.array([0.0, 2.0, 0.5, -1.0, 3.0])
    ws = np.array([2.0, 0.0, -1.5, 3.0, 0.5])
    g = vectorize(lambda x, w: x ** w)
    for k in range(len(xs)):
        x, w = (xs, ws[k]) if base_batched else (xs[k], ws)
        _, (dx, dw) = g.value_and_grad(x, w, argnums=(0, 1))
        for j in range(len(xs)):
            xv, wv = Value(xs[j] if base_batched else xs[k]), Value(ws[k] if base_batched else ws[j])
            with np.errstate(all="ignore"):
                want = gradients(xv ** wv, [xv, wv])
            for got, w_ in zip((dx[j], dw[j]), want):
                assert got == pytest.approx(w_, rel=1e-14, nan_ok=True)


def test_pow_dy_of_a_closure_exponent_through_compile_loss():
    w = Value(1.5)

    class M:
        def parameters(self):
            return [w]

        def __call__(self, x):
            return x[0] ** w

    X = np.array([[0.0], [2.0], [0.5], [4.0]])
    y = np.zeros(4)
    cost, (dw,) = compile_loss(M(), lambda out, t: out - t)(X, y)
    want = np.mean([x ** 1.5 * math.log(x) if x else 0.0 for x in X[:, 0]])
    assert dw == pytest.approx(want, rel=1e-14)


# ---------------------------------------------------------------------------
# fused programs: batch rank ≠ 1, per-example weight gradients, order of steps
# ---------------------------------------------------------------------------

def _sum_model(seed=0, n=4, k=3):
    rng = np.random.default_rng(seed)
    W = [[Value(float(v)) for v in rng.normal(size=n)] for _ in range(k)]
    B = [Value(float(v)) for v in rng.normal(size=k)]

    def f(x):
        out = []
        for w, b in zip(W, B):
            s = b
            for wj, xj in zip(w, x):
                s = s + wj * xj
            out.append(s.tanh())
        total = out[0] * out[1]
        for o in out[2:]:
            total = total - o
        return total

    return f, [p for row in W for p in row] + B


@pytest.mark.parametrize("shape", [(), (1,), (3, 2), (2, 1, 3)])
def test_fused_programs_with_a_batch_of_any_rank(shape):
    f, _ = _sum_model()
    g = vectorize(f, sizes=(4,))
    assert any(op.__class__ is _Affine for op, out, _ in g.tape.instrs if out is None)
    X = np.random.default_rng(1).normal(size=shape + (4,))
    vals, grads = g.value_and_grad(X)
    assert vals.shape == shape and grads.shape == shape + (4,)
    for idx in np.ndindex(*shape):
        xs = [Value(float(v)) for v in X[idx]]
        out = f(xs)
        assert vals[idx] == pytest.approx(out.data, rel=1e-13)
        np.testing.assert_allclose(grads[idx], gradients(out, xs), rtol=1e-12, atol=1e-15)
    _, total = g.value_and_grad(X, reduce="sum")
    np.testing.assert_allclose(total, grads, rtol=1e-15)  # a batched argument keeps its own rows


def test_per_example_weight_gradients_of_a_fused_program():
    """The tape's reduce=None pass gives each example's ∂f/∂w for the closure weights."""
    f, params = _sum_model(seed=2)
    g = vectorize(f, sizes=(4,))
    tape = g.tape
    X = np.random.default_rng(3).normal(size=(5, 4))
    run = tape.forward(g._placeholder_values([X]), [X])
    slot = {v: tape.leaf0 + i for i, v in enumerate(tape.leaves)}
    wrt = [slot[p] for p in params]
    per = tape.backward(run, wrt, tape.outputs[0], None)
    summed = tape.backward(tape.forward(g._placeholder_values([X]), [X]), wrt, tape.outputs[0], (5,))
    for b in range(5):
        out = f([Value(float(v)) for v in X[b]])
        want = gradients(out, params)
        got = [np.broadcast_to(per[s], (5,))[b] for s in wrt]
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([summed[s] for s in wrt], [np.sum(np.broadcast_to(per[s], (5,))) for s in wrt],
                               rtol=1e-12, atol=1e-14)


def test_tied_weights_and_a_bias_computed_later_run_in_depth_order():
    """One weight in two layers (tied), and a sum over the same inputs whose bias comes
    from another of those sums: each step runs after what it reads."""
    rng = np.random.default_rng(4)
    w = [Value(float(v)) for v in rng.normal(size=3)]
    v = [Value(float(v)) for v in rng.normal(size=3)]

    def f(x):
        s1 = w[0] * x[0] + w[1] * x[1] + w[2] * x[2]
        s2 = v[0] * x[0] + v[1] * x[1] + v[2] * x[2] + s1.tanh()  # same inputs, bias from s1
        s3 = v[0] * x[0] - w[1] * x[1] + w[2] * x[2]  # same depth as s1: one group with it
        h = [s2.tanh(), s3.sigmoid(), s1.relu()]
        return w[0] * h[0] + w[1] * h[1] + w[2] * h[2]  # the tied weights again, one layer up

    g = vectorize(f, sizes=(3,))
    steps = [op for op, out, _ in g.tape.instrs if out is None and op.__class__ is _Affine]
    assert len(steps) >= 3
    X = rng.normal(size=(6, 3))
    vals, grads = g.value_and_grad(X)
    for b in range(6):
        xs = [Value(float(t)) for t in X[b]]
        out = f(xs)
        assert vals[b] == pytest.approx(out.data, rel=1e-13)
        np.testing.assert_allclose(grads[b], gradients(out, xs), rtol=1e-12, atol=1e-15)


def test_fused_steps_describe_themselves():
    w = [Value(1.0), Value(2.0), Value(3.0), Value(4.0)]
    g = vectorize(lambda x: (w[0] * x[0] + w[1] * x[1]).relu() + (w[2] * x[0] - w[3] * x[1]).relu(), sizes=(2,))
    shown = [repr(op) for op, out, _ in g.tape.instrs if out is None]
    assert shown == ["<affine 2×2: Z = X Wᵀ + b>", "<relu over 2 columns>"]
    np.testing.assert_array_equal(g(np.array([[1.0, -1.0], [2.0, 1.0]])), [0.0 + 7.0, 4.0 + 2.0])
