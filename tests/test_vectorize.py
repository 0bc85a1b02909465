"""autograd_lite.vectorize: the tape replayed with numpy equals the scalar engine, example by example."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_lite import engine
from autograd_lite.engine import OPS, Value, linear
from autograd_lite.vectorize import TracingError, compile_loss, compile_predict, vectorize

# ---------------------------------------------------------------------------
# random expression graphs over every op of the derivative table
# ---------------------------------------------------------------------------

BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}
UNARY = {"neg": lambda a: -a, "exp": engine.exp, "log": engine.log, "sigmoid": engine.sigmoid,
         "tanh": engine.tanh, "relu": engine.relu, "sqrt": engine.sqrt, "abs": abs,
         "sin": engine.sin, "cos": engine.cos}
assert set(BINARY) | set(UNARY) | {"linear"} == set(OPS), "a new op needs a row in this test"

instruction = st.tuples(
    st.sampled_from(sorted(OPS)),
    st.integers(0, 30), st.integers(0, 30),                       # operand picks (mod pool size)
    st.sampled_from([0.0, 1.0, 2.0, -1.5, 0.5, 3.0, 1e-3]),        # a constant
    st.integers(0, 2),                                             # Value∘Value, Value∘const, const∘Value
)


leaf2 = Value(-0.4)


def make_f(program, leaf):
    """f(x, y, z) with z a sequence of 2: every op, shared subexpressions, constants on either
    side and a closure leaf (``leaf``) that the tape must read at call time."""
    def f(x, y, z):
        pool = [x, y, z[0], z[1], leaf]
        for name, i, j, c, side in program:
            a, b = pool[i % len(pool)], pool[j % len(pool)]
            if name in BINARY:
                op = BINARY[name]
                r = op(a, b) if side == 0 else op(a, c) if side == 1 else op(c, a)
            elif name == "linear":  # side 2: closure-leaf weights, so a fused (matrix) layer
                r = linear([leaf, b], [a, c] if side else [a, b], leaf) if side < 2 else \
                    linear([leaf, leaf2], [a, b], leaf2) + linear([leaf2, leaf], [a, b], leaf)
            else:
                r = UNARY[name](a)
            pool.append(r)
        return pool[-1] + 0.5 * pool[(len(pool) + 5) // 2]  # a shared subexpression used twice
    return f


def scalar_value_and_grads(f, row, leaf):
    xs = [Value(float(v)) for v in row]
    out = f(xs[0], xs[1], xs[2:])
    return out.data, engine.gradients(out, xs)


def same(a, b, rtol=1e-12):
    """Equal to rtol, with nan where nan and ±inf where ±inf."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rtol * max(abs(a), abs(b))


rows = st.lists(st.lists(st.floats(-2.0, 2.0), min_size=4, max_size=4), min_size=1, max_size=6)


@settings(max_examples=150)
@given(program=st.lists(instruction, min_size=1, max_size=9), X=rows, leaf_value=st.floats(-1.5, 1.5),
       fuse=st.booleans())
def test_random_graphs_match_scalar_engine_per_example(program, X, leaf_value, fuse):
    X = np.array(X)
    leaf = Value(0.3)
    f = make_f(program, leaf)
    g = vectorize(f, sizes=(None, None, 2), fuse=fuse)
    leaf.data = leaf_value  # closure leaves are read at call time, not at trace time
    vals, (gx, gy, gz) = g.value_and_grad(X[:, 0], X[:, 1], X[:, 2:], argnums=(0, 1, 2))
    only_vals = g(X[:, 0], X[:, 1], X[:, 2:])
    assert vals.shape == gx.shape == gy.shape == (len(X),) and gz.shape == (len(X), 2)
    for k, row in enumerate(X):
        value, grads = scalar_value_and_grads(f, row, leaf)
        assert same(vals[k], value), (k, vals[k], value)
        assert same(only_vals[k], value)
        for got, want in zip([gx[k], gy[k], gz[k, 0], gz[k, 1]], grads):
            assert same(got, want), (k, got, want)


@settings(max_examples=60)
@given(program=st.lists(instruction, min_size=1, max_size=7), X=rows, w=st.floats(-2, 2))
def test_reduce_sum_and_mean_are_gradients_of_the_batch_total(program, X, w):
    """A scalar argument shared by the batch gets Σ_b ∂f_b/∂w; a batched one keeps its own per-example row."""
    X = np.array(X)
    leaf = Value(0.3)
    f = make_f(program, leaf)
    g = vectorize(f, sizes=(None, None, 2))
    _, (per_w, per_y, per_z) = g.value_and_grad(w, X[:, 1], X[:, 2:], argnums=(0, 1, 2))
    assert per_w.shape == (len(X),)
    _, (sw, sy, sz) = g.value_and_grad(w, X[:, 1], X[:, 2:], argnums=(0, 1, 2), reduce="sum")
    _, (mw, my, mz) = g.value_and_grad(w, X[:, 1], X[:, 2:], argnums=(0, 1, 2), reduce="mean")
    assert np.shape(sw) == () and sy.shape == (len(X),) and sz.shape == (len(X), 2)
    finite = np.isfinite(per_w).all()
    assume(finite)
    scale = 1e-12 * np.abs(per_w).sum()  # summing in another order may cancel differently
    np.testing.assert_allclose(sw, per_w.sum(), rtol=1e-12, atol=scale)
    np.testing.assert_allclose(mw, per_w.sum() / len(X), rtol=1e-12, atol=scale / len(X))
    np.testing.assert_array_equal(sy, per_y)
    np.testing.assert_array_equal(sz, per_z)
    np.testing.assert_allclose(my, per_y / len(X), rtol=1e-15)


def test_abs_gradient_at_nan_matches_scalar_engine():
    """d|x|/dx at nan is 0 on floats and on arrays alike (as in PyTorch)."""
    g = vectorize(lambda x, y: abs(x + y).relu())
    x, y = Value(math.nan), Value(1.0)
    abs(x + y).relu().backward()
    assert same(g.grad(np.array([math.nan]), np.array([1.0]), argnums=1)[0], y.grad)


# ---------------------------------------------------------------------------
# semantics: broadcasting, constants, multiple outputs
# ---------------------------------------------------------------------------


def test_logistic_regression_gradient_matches_the_closed_form():
    """C6: per example ∂L/∂wᵢ = xᵢ(a − y), ∂L/∂b = a − y; reduced: Xᵀ(σ(Xw + b) − y)/m."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), (rng.random(50) < 0.5).astype(float)
    w, b = rng.normal(size=3), 0.3

    def loss(w, b, x, y):
        a = linear(w, x, b).sigmoid()
        return -(y * a.log() + (1 - y) * (1 - a).log())

    g = vectorize(loss, sizes=(3, None, 3, None))
    a = 1 / (1 + np.exp(-(X @ w + b)))
    values, (dw, db) = g.value_and_grad(w, b, X, y, argnums=(0, 1))
    np.testing.assert_allclose(values, -(y * np.log(a) + (1 - y) * np.log(1 - a)), rtol=1e-12)
    np.testing.assert_allclose(dw, X * (a - y)[:, None], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(db, a - y, rtol=1e-9, atol=1e-15)
    _, (dw, db) = g.value_and_grad(w, b, X, y, argnums=(0, 1), reduce="mean")
    assert dw.shape == (3,) and np.shape(db) == ()
    np.testing.assert_allclose(dw, X.T @ (a - y) / len(X), rtol=1e-9)
    np.testing.assert_allclose(db, np.mean(a - y), rtol=1e-9)


def test_broadcasting_like_a_ufunc():
    g = vectorize(lambda a, x: a * x + x.exp())
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    np.testing.assert_allclose(g(2.0, x), 2 * x + np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(g(np.array([[1.0], [2.0]]), x), np.array([[1.0], [2.0]]) * x + np.exp(x))
    assert g(2.0, 3.0).shape == ()
    vals, (da, dx) = g.value_and_grad(2.0, x, argnums=(0, 1))
    np.testing.assert_array_equal(da, x)                  # per example: ∂/∂a = x
    np.testing.assert_allclose(dx, 2 + np.exp(x), rtol=1e-15)
    da = g.grad(np.array([[1.0], [2.0]]), x, reduce="sum")  # summed back to the argument's own shape (2, 1)
    np.testing.assert_allclose(da, x.sum(axis=1, keepdims=True), rtol=1e-15)


def test_constants_and_closure_leaves():
    scale = Value(2.0, label="scale")
    g = vectorize(lambda x: scale * x ** 2 + 1)
    np.testing.assert_array_equal(g(np.array([1.0, 3.0])), [3.0, 19.0])
    scale.data = -1.0  # read at every call
    np.testing.assert_array_equal(g(np.array([1.0, 3.0])), [0.0, -8.0])
    np.testing.assert_array_equal(g.grad(np.array([1.0, 3.0])), [-2.0, -6.0])


def test_argument_unused_and_constant_outputs():
    g = vectorize(lambda x, y: x * 3)
    np.testing.assert_array_equal(g.grad(np.ones(3), np.ones(3), argnums=1), np.zeros(3))
    c = vectorize(lambda x: 5.0)
    np.testing.assert_array_equal(c(np.arange(4.0)), [5.0] * 4)
    np.testing.assert_array_equal(c.grad(np.arange(4.0), reduce="sum"), 0.0)
    ident = vectorize(lambda x: x)
    np.testing.assert_array_equal(ident.grad(np.arange(3.0)), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(ident.grad(np.arange(3.0), reduce="mean"), [1 / 3] * 3)


def test_multiple_outputs_stack_on_a_last_axis():
    g = vectorize(lambda x: [x, x * x, 1.0])
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [[1.0, 1.0, 1.0], [2.0, 4.0, 1.0]])
    with pytest.raises(TypeError, match="one scalar output"):
        g.value_and_grad(np.array([1.0]))


def test_ieee_results_flow_like_the_scalar_engine():
    g = vectorize(lambda x: (1 / x).log() + x.sqrt())
    with np.errstate(all="raise"):  # vectorize silences numpy's warnings itself
        out, dx = g.value_and_grad(np.array([0.0, -1.0, 4.0]))
    for k, v in enumerate([0.0, -1.0, 4.0]):
        x = Value(v)
        y = (1 / x).log() + x.sqrt()
        y.backward()
        assert same(out[k], y.data) and same(dx[k], x.grad)


# ---------------------------------------------------------------------------
# tracing needs a static graph
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    lambda x: x if x > 0 else -x,
    lambda x: x if x >= 0 else -x,
    lambda x: x if 0 < x else -x,
    lambda x: -x if x <= 0 else x,
    lambda x: x * 2 if bool(x) else x,
    lambda x: max(x, x * x),
    lambda x: Value(math.exp(x)),
    lambda x: (x * 2).relu() if (x * 2 + 1) < 3 else x,
])
def test_data_dependent_control_flow_raises_tracing_error(body):
    with pytest.raises(TracingError, match=r"data-dependent Python control flow can't be vectorized.*relu"):
        vectorize(body)
    assert issubclass(TracingError, TypeError)
    # the Value class is restored: comparisons and bool work again
    assert Value(1.0) < Value(2.0) and Value(2.0) >= 2 and not Value(0.0) and Value(3.0).item() == 3.0
    assert 1.0 < Value(2.0)


def test_control_flow_on_closure_constants_is_fine():
    """Only Values that depend on the traced inputs are static-checked."""
    k = Value(3.0)
    g = vectorize(lambda x: x * k if k > 0 else x)
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [3.0, 6.0])


def test_relu_formulation_of_max_vectorizes():
    g = vectorize(lambda a, b: b + (a - b).relu())  # max(a, b) without Python control flow
    a, b = np.array([1.0, -2.0, 3.0]), np.array([0.0, 5.0, 3.0])
    np.testing.assert_array_equal(g(a, b), np.maximum(a, b))


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def test_bad_input_is_reported_clearly():
    g = vectorize(lambda x, y: x * y)
    with pytest.raises(TypeError, match="takes 2 argument"):
        g(np.ones(3))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        g(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="reduce"):
        g.value_and_grad(1.0, 2.0, reduce="max")
    with pytest.raises(ValueError, match="argnums"):
        g.value_and_grad(1.0, 2.0, argnums=5)
    with pytest.raises(TypeError, match="dtype"):
        g(np.array(["a"]), 1.0)
    with pytest.raises(TypeError, match="not a Value"):
        g(Value(1.0), 1.0)
    s = vectorize(lambda v: v[0] + v[1], sizes=(2,))
    with pytest.raises(ValueError, match=r"last axis must have length 2.*\(5, 3\)"):
        s(np.ones((5, 3)))
    with pytest.raises(TypeError, match="must return a Value"):
        vectorize(lambda x: "nope")
    with pytest.raises(TypeError, match="must return a Value"):
        vectorize(lambda x: [x, None])
    with pytest.raises(TypeError, match="takes a function"):
        vectorize(3)
    with pytest.raises(ValueError, match="sizes"):
        vectorize(lambda v: v[0], sizes=(-1,))
    assert vectorize(lambda *xs: xs[0])(2.0) == 2.0  # *args: the call shows the arity
    assert vectorize(lambda *xs: xs[0] * xs[1], sizes=(None, None))(2.0, 3.0) == 6.0


# ---------------------------------------------------------------------------
# models: compile_loss / compile_predict
# ---------------------------------------------------------------------------


class TinyNet:
    """Hand-written 2 → 4 (tanh) → 1 network (no dependency on autograd_lite.nn)."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.W = [[Value(v) for v in row] for row in rng.normal(size=(4, 2))]
        self.b = [Value(v) for v in rng.normal(size=4)]
        self.v = [Value(v) for v in rng.normal(size=4)]
        self.c = Value(0.1)
        self.unused = Value(7.0)

    def parameters(self):
        return [w for row in self.W for w in row] + self.b + self.v + [self.c, self.unused]

    def __call__(self, x):
        h = [linear(row, x, b).tanh() for row, b in zip(self.W, self.b)]
        return linear(self.v, h, self.c)


def hinge(score, y):
    return (1 + -y * score).relu()


def scalar_cost_and_grads(model, loss_fn, X, y):
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    cost = sum(loss_fn(model([Value(v) for v in row]), float(t)) for row, t in zip(X, y)) / len(X)
    cost.backward()
    return cost.data, [p.grad for p in params]


@pytest.mark.parametrize("loss_fn", [hinge, lambda s, y: (s - y) ** 2,
                                     lambda s, y: -(y * s.sigmoid().log() + (1 - y) * (1 - s.sigmoid()).log()),
                                     "l2"])
def test_compile_loss_matches_the_scalar_engine(loss_fn):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 2)), (rng.random(40) < 0.5).astype(float)
    model = TinyNet()
    if loss_fn == "l2":  # parameters used outside the fused layers too (and shared by the batch)
        def loss_fn(s, t):
            return hinge(s, t) + 0.1 * (model.c * model.c + model.W[0][1] ** 2 + model.v[2].tanh())
    step = compile_loss(model, loss_fn)
    for _ in range(3):  # parameters are read at every call
        cost, grads = step(X, y)
        want_cost, want_grads = scalar_cost_and_grads(model, loss_fn, X, y)
        assert isinstance(cost, float) and all(isinstance(g, float) for g in grads)
        assert cost == pytest.approx(want_cost, rel=1e-12)
        assert grads[-1] == 0.0  # the unused parameter
        np.testing.assert_allclose(grads, want_grads, rtol=1e-10, atol=1e-14)
        for p, g in zip(model.parameters(), grads):
            p.data -= 0.5 * g


def test_compile_loss_with_nn_mlp_and_one_hot_targets():
    nn = pytest.importorskip("autograd_lite.nn")
    model = nn.MLP(3, [5, 2], seed=0)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 3))
    Y = np.eye(2)[rng.integers(0, 2, size=20)]

    def sq(out, t):
        return sum((o - ti) ** 2 for o, ti in zip(out, t))

    cost, grads = compile_loss(model, sq)(X, Y)
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    total = sum(sq(model(list(row)), list(t)) for row, t in zip(X, Y)) / len(X)
    total.backward()
    assert cost == pytest.approx(total.data, rel=1e-12)
    np.testing.assert_allclose(grads, [p.grad for p in params], rtol=1e-10, atol=1e-14)
    predict = compile_predict(model)
    out = predict(X)
    assert out.shape == (20, 2)
    np.testing.assert_allclose(out, [[o.data for o in model(list(row))] for row in X], rtol=1e-12)


def test_compile_predict_follows_parameter_updates_and_shapes():
    model = TinyNet()
    predict = compile_predict(model)
    X = np.random.default_rng(3).normal(size=(7, 2))
    np.testing.assert_allclose(predict(X), [model(list(row)).data for row in X], rtol=1e-12)
    model.c.data += 1.0
    np.testing.assert_allclose(predict(X), [model(list(row)).data for row in X], rtol=1e-12)
    with pytest.raises(ValueError, match="2-D"):
        predict(np.ones((2, 2, 2)))


def test_compile_loss_bad_input():
    step = compile_loss(TinyNet(), hinge)
    with pytest.raises(ValueError, match=r"\(5, 2\).*\(4,\)"):
        step(np.ones((5, 2)), np.ones(4))
    with pytest.raises(ValueError, match="empty"):
        step(np.ones((0, 2)), np.ones(0))
    with pytest.raises(TypeError, match="parameters"):
        compile_loss(object(), hinge)
    with pytest.raises(TypeError, match="callable"):
        compile_loss(TinyNet(), "hinge")
