"""Issue 20, the batch path and forward mode: each test here printed a wrong number (or
crashed) before the fix.  The reference is the scalar engine (and PyTorch, where it is
installed): `vectorize` replays the scalar engine's arithmetic, fused or not, and forward
mode pushes tangents through the same rules (`Over`, `Mask`) as backprop."""

import importlib
import math
import pickle
import threading

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from autograd_lite import Value, engine, explain, gradients, jvp, losses, nn
from autograd_lite.engine import TracingError
from autograd_lite.fuse import _Affine, _Apply
from autograd_lite.vectorize import compile_loss, vectorize


def instrs(g, kind):
    return [op for op, out, _ in g.tape.instrs if out is None and op.__class__ is kind]


def same(got, want):
    """Equal as IEEE-754 numbers: the same value, nan where nan, the same sign of zero."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape
    ok = (got == want) | (np.isnan(got) & np.isnan(want))
    assert ok.all(), (got, want)
    assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all(), (got, want)


# ---------------------------------------------------------------------------
# 1. an activation over a fused sum applies the table's rule kinds
# ---------------------------------------------------------------------------

def test_a_relu_that_is_off_stops_an_inf_gradient_over_a_fused_sum():
    w0, w1 = Value(1.0), Value(1.0)
    f = lambda x, y: (w0 * x[0] + w1 * x[1]).relu() * y  # noqa: E731
    g = vectorize(f, sizes=(2, None))
    x, y = np.array([[-1.0, -1.0], [1.0, 2.0]]), np.array([np.inf, 1.0])
    assert instrs(g, _Apply)  # the relu runs over the fused sum
    got = g.grad(x, y)
    same(got, [[0.0, 0.0], [1.0, 1.0]])  # PyTorch and the scalar engine: 0, not nan
    same(got, vectorize(f, sizes=(2, None), fuse=False).grad(x, y))


@pytest.mark.parametrize("act", ["log", "sqrt"])
def test_an_over_rule_divides_over_a_fused_sum(act):
    """log'(x)·g is g/x, not g·(1/x): at a subnormal x, 1/x overflows but g/x does not."""
    w0, w1 = Value(1.0), Value(1.0)
    f = lambda x: getattr(w0 * x[0] + w1 * x[1], act)() * 1e-300  # noqa: E731
    x = np.array([[1e-310, 0.0], [2.0, 3.0]])
    g = vectorize(f, sizes=(2,))
    assert instrs(g, _Apply)
    got = g.grad(x)
    want = []
    for row in x:
        xs = [Value(v) for v in row]
        want.append(gradients(f(xs), xs))
    same(got, want)
    assert np.isfinite(got[0]).all()


# ---------------------------------------------------------------------------
# 2. the sum rewrite keeps the sign of zero
# ---------------------------------------------------------------------------

def test_distributing_a_minus_keeps_the_sign_of_zero():
    w0, w1 = Value(-1.0), Value(1.0)
    f = lambda x: 1 / (x - (w0 * x + w1 * x))  # noqa: E731
    g = vectorize(f)
    assert instrs(g, _Affine)
    x = np.array([-0.0, 0.0, 2.0])
    want = [f(Value(v)).data for v in x]  # −inf at x = −0: (−0) − ((+0) + (−0))
    same(g(x), want)
    same(g(x[:1]), want[:1])
    same(vectorize(f, fuse=False)(x), want)
    assert g(np.array(-0.0)) == -math.inf


@pytest.mark.parametrize("write", [
    lambda a, b, x: -(a * x + b * x),
    lambda a, b, x: x - (a * x + b * x),
    lambda a, b, x: x * 0.0 - (a * x - b * x),
    lambda a, b, x: -(-(a * x + b * x)),  # noqa: B002 -- a double minus, on purpose
    lambda a, b, x: -(a * x + b * x) - (b * x + a * x),
])
def test_every_zero_of_a_fused_sum_has_the_scalar_sign(write):
    a, b = Value(-1.0), Value(1.0)
    f = lambda x: 1 / write(a, b, x)  # noqa: E731
    x = np.array([-0.0, 0.0, 1.0, -1.0, np.inf, np.nan, 1e-310])
    with np.errstate(all="ignore"):
        want = [f(Value(v)).data for v in x]
    same(vectorize(f)(x), want)
    same(vectorize(f, fuse=False)(x), want)


# ---------------------------------------------------------------------------
# 3. softmax, log_softmax and cross_entropy keep their max-shift per example
# ---------------------------------------------------------------------------

LOGITS = np.array([[1000.0, 999.0, 0.0], [-800.0, -801.0, -805.0], [1.0, 2.0, 3.0],
                   [1e308, -1e308, 0.0], [-1e308, -1e308, -1e308], [0.0, -np.inf, 5.0]])


def scalar_rows(fn, rows, *extra):
    vals, grads = [], []
    for row in rows:
        zs = [Value(v) for v in row]
        out = fn(zs, *extra)
        vals.append(out.data)
        grads.append(gradients(out, zs))
    return np.array(vals), np.array(grads)


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "cross_entropy"])
def test_the_softmax_family_is_shifted_per_example_under_vectorize(name, fuse):
    if name == "cross_entropy":
        fn = lambda zs, t: losses.cross_entropy(zs, t)  # noqa: E731
        t = [1.0, 0.0, 0.0]
    else:
        fn = lambda zs, t: getattr(losses, name)(zs)[0]  # noqa: E731
        t = [0.0, 0.0, 0.0]
    g = vectorize(fn, sizes=(3, 3), fuse=fuse)
    with np.errstate(all="ignore"):
        got, dz = g.value_and_grad(LOGITS, np.array(t))
    want, dwant = scalar_rows(fn, LOGITS, t)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    np.testing.assert_allclose(dz, dwant, rtol=1e-13, atol=1e-300)
    assert got[0] == pytest.approx(0.31326168751822286) if name == "cross_entropy" else True


def test_vectorized_training_on_three_classes_at_large_logits_matches_the_scalar_engine():
    """compile_loss (what fit(engine="vectorized") runs) with logits in the thousands."""
    rng = np.random.default_rng(3)
    model = nn.MLP(2, [3])
    for p in model.parameters():
        p.data = float(rng.normal()) * 300.0
    X = rng.normal(size=(6, 2)) * 10.0
    Y = np.eye(3)[rng.integers(0, 3, 6)]
    step = compile_loss(model, losses.cross_entropy)
    cost, grads = step(X, Y)
    total = None
    for x, y in zip(X, Y):
        L = losses.cross_entropy(model([Value(v) for v in x]), list(y))
        total = L if total is None else total + L
    want = gradients(total / len(X), model.parameters())
    assert math.isfinite(cost)
    assert cost == pytest.approx(total.data / len(X), rel=1e-12)
    np.testing.assert_allclose(grads, want, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------
# 4. matrix products: one kernel whatever the batch
# ---------------------------------------------------------------------------

def test_the_issue_example_is_the_same_alone_and_in_a_batch():
    a = Value(3.0)
    g = vectorize(lambda x: 1 / ((x * a) * -1.0 + a * x))
    assert instrs(g, _Affine)
    alone = g(np.array(0.2))
    batch = g(np.full(20, 0.2))
    same(batch, np.full(20, alone))
    assert alone == math.inf  # the scalar engine's: x·a − a·x is exactly 0


@pytest.mark.parametrize("fuse", [True, False])
def test_each_example_gets_the_same_numbers_whatever_the_batch(fuse):
    """Values and per-example gradients of a row do not depend on the batch it came in:
    alone, in batches of any size, in a batch of rank 2."""
    rng = np.random.default_rng(0)
    model = nn.MLP(37, [19, 11, 1])
    w = [Value(float(v)) for v in rng.normal(size=37)]

    def f(x):
        s = w[0] * x[0]
        for wi, xi in zip(w[1:], x[1:]):
            s = s + wi * xi
        return model(x).tanh() + s.sigmoid()

    g = vectorize(f, sizes=(37,), fuse=fuse)
    X = rng.normal(size=(64, 37))
    ref_v, ref_g = g.value_and_grad(X)
    for n in (1, 2, 3, 7, 33):
        v, d = g.value_and_grad(X[:n])
        same(v, ref_v[:n])
        same(d, ref_g[:n])
    v, d = g.value_and_grad(X[5])
    same(v, ref_v[5])
    same(d, ref_g[5])
    v, d = g.value_and_grad(X.reshape(8, 8, 37))
    same(v, ref_v.reshape(8, 8))
    same(d, ref_g.reshape(8, 8, 37))


def test_the_rounding_promise_is_documented():
    from pathlib import Path

    module = importlib.import_module("autograd_lite.vectorize")
    readme = Path(__file__).resolve().parents[1].joinpath("README.md").read_text(encoding="utf-8")
    for text in (module.__doc__, module.vectorize.__doc__, readme):
        assert "fuse=False" in text and "batch" in text and "residue" in text


# ---------------------------------------------------------------------------
# the batch path's crashes: broadcasting gradients, reading a traced number
# ---------------------------------------------------------------------------

def test_a_layer_on_an_unbatched_sequence_meeting_a_batched_argument():
    layer = nn.Layer(2, 3, activation="tanh")

    def f(s, x):
        outs = layer(s)
        total = outs[0] * x
        for o in outs[1:]:
            total = total + o * x
        return total

    g = vectorize(f, sizes=(2, None))
    s, x = np.array([0.3, -0.7]), np.array([1.0, 2.0, -3.5])
    v, (ds, dx) = g.value_and_grad(s, x, argnums=(0, 1))
    for b in range(3):
        sv = [Value(t) for t in s]
        xv = Value(x[b])
        out = f(sv, xv)
        assert v[b] == pytest.approx(out.data, rel=1e-14)
        np.testing.assert_allclose(ds[b], gradients(out, sv), rtol=1e-13)
        assert dx[b] == pytest.approx(gradients(out, xv), rel=1e-13)
    _, dsum = g.value_and_grad(s, x, reduce="sum")
    np.testing.assert_allclose(dsum, ds.sum(axis=0), rtol=1e-13)


@pytest.mark.parametrize("peek", [
    lambda x: x * 2 if isinstance(x.data, float) else x,
    lambda x: x * 2 if str(x.data) == "nan" else x,
    lambda x: x * 2 if "nan" in repr(x) else x,
    lambda x: x * 2 if "nan" in str(x) else x,
    lambda x: pickle.loads(pickle.dumps(x * 2)),
    lambda x: pickle.loads(pickle.dumps(x.data)),
])
def test_reading_a_traced_number_in_any_way_raises_a_tracing_error(peek):
    with pytest.raises(TracingError, match="vectorize"):
        vectorize(peek)(np.array([1.0, 2.0]))


def test_the_engine_still_sees_traced_values_as_traced():
    """The refusals above do not trip the library's own checks (type(), not __class__)."""
    g = vectorize(lambda x, y: losses.binary_cross_entropy((x * y).sigmoid(), y) + nn.Neuron(1)([x]))
    assert np.isfinite(g(np.array([0.5, -1.0]), np.array([1.0, 0.0]))).all()


# ---------------------------------------------------------------------------
# 6, 7. forward mode: the same rule kinds as backprop; a seed at any node
# ---------------------------------------------------------------------------

def test_forward_mode_divides_by_x():
    _, t = jvp(lambda x: x.log())((1e-310,), (1e-300,))
    assert t == pytest.approx(1e10, rel=1e-12)  # PyTorch: 1e10; t·(1/x) was inf
    _, t = jvp(lambda x: x.sqrt())((1e-320,), (1e-300,))
    assert math.isfinite(t)


def test_jvp_refuses_what_is_not_a_function_or_not_numbers():
    with pytest.raises(TypeError, match="jvp\\(\\) takes a function, got int"):
        jvp(3)
    with pytest.raises(TypeError, match="must return a Value or a number"):
        jvp(lambda x: "x")((1.0,), (1.0,))
    assert jvp(lambda x: 2)((1.0,), (1.0,)) == (2.0, 0.0)  # a number: tangent 0
    assert jvp(lambda x: (x, 2))((1.0,), (3.0,)) == ((1.0, 2.0), (3.0, 0.0))


def test_forward_mode_of_x_over_x_is_zero():
    out, t = jvp(lambda x: x / x)((-1e-310,), (1.0,))
    assert out == 1.0 and t == 0.0  # PyTorch's jvp: (ẋ − ẏ·out)/y = 0
    out, t = jvp(lambda x, y: x / y)((3.0, 2.0), (1.0, 1.0))
    assert t == pytest.approx(0.5 - 0.75)


def test_forward_mode_masks_like_backprop():
    """A relu that is off gives tangent 0 even for an inf or nan tangent upstream."""
    _, t = jvp(lambda x: x.log().relu())((0.0,), (1.0,))  # log 0 = −inf (off), tangent 1/0 = inf
    assert t == 0.0
    x = Value(0.0)
    L = x.log().relu() * 2
    ex = explain(L, forward=x)
    tangents = [r.tangent for r in ex.forward]
    assert not any(isinstance(t, float) and math.isnan(t) for t in tangents[-2:])
    assert ex.forward[-1].tangent == 0.0


def test_a_zero_tangent_leaf_adds_nothing_through_an_infinite_derivative():
    c = Value(0.0)  # a constant leaf: d log(c)/dc = inf, but no tangent flows from it
    x = Value(2.0)
    L = x * c.log()
    ex = explain(L, forward=x)
    assert ex.forward[-1].tangent == -math.inf  # ∂L/∂x = log c, as backprop says
    assert gradients(L, x) == -math.inf


def test_explain_forward_at_an_intermediate_node_seeds_it():
    x, w = Value(0.5, "x"), Value(-2.0, "w")
    z = w * x
    z.label = "z"
    a = z.tanh()
    L = a * a
    ex = explain(L, forward=z)
    by_label = {r.name: r.tangent for r in ex.forward}
    assert by_label["z"] == 1.0
    L.backward()
    assert ex.forward[-1].tangent == pytest.approx(z.grad, rel=1e-14)  # ∂L/∂z, as backprop
    assert by_label["x"] == 0.0 and by_label["w"] == 0.0


# ---------------------------------------------------------------------------
# 10. a compile_loss step shared by threads whose batches differ in width
# ---------------------------------------------------------------------------

def test_a_step_shared_by_threads_with_different_widths():
    rng = np.random.default_rng(1)
    class AnyWidth:  # reads as many features as it gets: x of width 2 or 4
        def __init__(self):
            self.w = [Value(float(v)) for v in rng.normal(size=4)]

        def parameters(self):
            return self.w

        def __call__(self, x):
            return sum((w * xi for w, xi in zip(self.w, x)), Value(0.5)).tanh()

    model = AnyWidth()
    step = compile_loss(model, losses.mse)
    batches = [(rng.normal(size=(5, k)), rng.normal(size=5)) for k in (2, 4) for _ in range(3)]
    want = [step(X, y) for X, y in batches]
    errors, wrong = [], []

    def work(i):
        try:
            for r in range(60):
                j = (i + r) % len(batches)
                got = step(*batches[j])
                if got != want[j]:
                    wrong.append(j)
        except Exception as e:  # noqa: BLE001 -- the test reports it
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and not wrong


# ---------------------------------------------------------------------------
# property tests with edge inputs: vectorize (fused and not), forward mode and the
# scalar engine agree at ±0, subnormals, ±inf, nan, 1e308 and at large logits
# ---------------------------------------------------------------------------

EDGES = [0.0, -0.0, 5e-324, -5e-324, 1e-310, -2.2250738585072014e-308, math.inf, -math.inf, math.nan,
         1e308, -1e308, 1.0, -2.5, 0.5, 3.0]
edge = st.sampled_from(EDGES)
UNARY_OPS = ["neg", "exp", "log", "sigmoid", "tanh", "relu", "sqrt", "abs", "sin", "cos"]
BINARY_OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
              "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}


def unary(name, a):
    return -a if name == "neg" else abs(a) if name == "abs" else getattr(a, name)()


# a program: steps that each append a node to a pool holding x, y and two closure weights
#   ("u", op, i)          op(pool[i])
#   ("b", op, i, j)       pool[i] op pool[j]
#   ("sum", k, i, j, s)   a fused sum of products of the weights and pool[i], pool[j], written as
#                         one of several shapes (two products, a bias, minus signs): sums whose
#                         terms the rewrite adds in the written order, so results agree bit for bit
step_ = st.one_of(
    st.tuples(st.just("u"), st.sampled_from(UNARY_OPS), st.integers(0, 40)),
    st.tuples(st.just("b"), st.sampled_from(sorted(BINARY_OPS)), st.integers(0, 40), st.integers(0, 40)),
    st.tuples(st.just("sum"), st.integers(0, 4), st.integers(0, 40), st.integers(0, 40), st.integers(0, 4)),
)
SHAPES = [
    lambda p, q, c: p + q,
    lambda p, q, c: -(p + q),
    lambda p, q, c: c - (p + q),
    lambda p, q, c: (p - q) + c,
    lambda p, q, c: -(p - q),
]


def run_program(program, x, y, ws):
    """The program's last value.  A +, − or unary − never reads a +, − or unary − (nor a
    sum step) directly: that would make one longer sum, which the rewrite may add in
    another order than written (the documented rounding residue); abs() stands between."""
    pool, sums = [x, y], set()

    def read(i, by_a_sum):
        i %= len(pool)
        return abs(pool[i]) if by_a_sum and i in sums else pool[i]

    for st_ in program:
        if st_[0] == "u":
            pool.append(unary(st_[1], read(st_[2], st_[1] == "neg")))
            tree = st_[1] == "neg"
        elif st_[0] == "b":
            tree = st_[1] in ("add", "sub")
            pool.append(BINARY_OPS[st_[1]](read(st_[2], tree), read(st_[3], tree)))
        else:
            _, k, i, j, act = st_
            s = SHAPES[k](ws[0] * read(i, False), ws[1] * read(j, False), x)
            pool.append([s, s.tanh(), s.relu(), s.log(), s.sqrt()][act])
            tree = act == 0
        if tree:
            sums.add(len(pool) - 1)
    return pool[-1]


def ieee_equal(got, want, rtol=0.0):
    """Equal as IEEE numbers (nan where nan, ±inf where ±inf, the sign of a zero), to rtol."""
    got, want = float(got), float(want)
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if got == want:
        return want != 0 or math.copysign(1, got) == math.copysign(1, want)
    return math.isfinite(want) and math.isfinite(got) and abs(got - want) <= rtol * abs(want)


def close_to_scalar(got, want, atol):
    """As the scalar engine: nan, ±inf and the sign of zero exactly; a finite number to
    1e-9 relative or ``atol`` (numpy's tanh, exp, … may differ from math's in the last
    bit, and 1 − tanh² near saturation makes that a large relative difference)."""
    got, want = float(got), float(want)
    if not (math.isfinite(got) and math.isfinite(want)) or got == want == 0:
        return ieee_equal(got, want)
    return abs(got - want) <= max(1e-9 * abs(want), atol)


@settings(max_examples=150, deadline=None)
@given(program=st.lists(step_, min_size=1, max_size=6), xs=st.lists(st.tuples(edge, edge), min_size=1, max_size=5),
       w=st.tuples(edge, edge))
@example(program=[("sum", 2, 0, 0, 0)], xs=[(-0.0, 0.0)], w=(-1.0, 1.0))  # x − (−x + x) at x = −0 is −0
@example(program=[("sum", 0, 0, 0, 2), ("b", "mul", 2, 1)], xs=[(-1.0, math.inf)], w=(1.0, 1.0))  # relu off, g = inf
@example(program=[("sum", 0, 0, 0, 3), ("b", "mul", 2, 1)], xs=[(5e-324, 1e-300)], w=(1.0, 1.0))  # log'·g = g/x
def test_vectorize_fused_and_not_matches_the_scalar_engine_at_edge_inputs(program, xs, w):
    """Fused and not fused give the same values bit for bit (the sums here add their terms
    in the written order); both agree with the scalar engine (see `close_to_scalar`)."""
    ws = [Value(w[0]), Value(w[1])]
    f = lambda x, y: run_program(program, x, y, ws)  # noqa: E731
    X = np.array(xs)
    with np.errstate(all="ignore"):
        (v1, (gx1, gy1)), (v0, (gx0, gy0)) = [
            vectorize(f, fuse=fuse).value_and_grad(X[:, 0], X[:, 1], argnums=(0, 1)) for fuse in (True, False)]
    assert all(ieee_equal(p, q) for p, q in zip(v1, v0)), (v1, v0)
    fused_grads = ((gx1, gx0), (gy1, gy0))  # an input read 3+ times sums its gradients in another order
    for k, (x, y) in enumerate(xs):
        xv, yv = Value(x), Value(y)
        out = f(xv, yv)
        if out.__class__ is not Value:
            continue
        dx, dy = gradients(out, [xv, yv])
        sizes = [abs(n.data) for n in engine.topological_order(out) if math.isfinite(n.data)] + [1.0]
        atol = 1e-12 * max(sizes) * max(sizes)
        assert close_to_scalar(v0[k], out.data, atol), (k, v0[k], out.data)
        assert close_to_scalar(gx0[k], dx, atol), (k, gx0[k], dx)
        assert close_to_scalar(gy0[k], dy, atol), (k, gy0[k], dy)
        for a, b in fused_grads:
            assert close_to_scalar(a[k], b[k], atol), (k, a[k], b[k])


@settings(max_examples=150, deadline=None)
@given(op=st.sampled_from(UNARY_OPS + sorted(BINARY_OPS)), x=edge, y=edge, t=st.sampled_from([1.0, -0.5, 1e300]))
def test_forward_mode_pushes_a_tangent_as_backprop_pushes_a_gradient(op, x, y, t):
    """One op, edge inputs: jvp's tangent along x is backprop's gradient seeded with t, bit
    for bit (the same rules: Over divides, Mask zeroes even an inf or nan)."""
    c = Value(y)  # a constant: no tangent flows from it
    f = (lambda a: unary(op, a)) if op in UNARY_OPS else (lambda a: BINARY_OPS[op](a, c))
    _, tangent = jvp(f)((x,), (t,))
    xv = Value(x)
    out = f(xv)
    out.backward(t)
    assert ieee_equal(tangent, xv.grad), (op, x, y, t, tangent, xv.grad)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50), st.floats(-50, 50)), min_size=1,
                     max_size=4),
       offset=st.sampled_from([0.0, 800.0, -800.0, 1e4, -1e5, 1e300, -1e300]),
       name=st.sampled_from(["softmax", "log_softmax", "cross_entropy"]), fuse=st.booleans())
def test_the_softmax_family_at_large_logits_matches_the_scalar_engine(rows, offset, name, fuse):
    if name == "cross_entropy":
        fn = lambda zs, t: losses.cross_entropy(zs, t)  # noqa: E731
    else:
        fn = lambda zs, t: getattr(losses, name)(zs)[1] * t[0]  # noqa: E731
    t = [0.0, 1.0, 0.0]
    Z = np.array(rows) + offset
    got, dz = vectorize(fn, sizes=(3, 3), fuse=fuse).value_and_grad(Z, np.array(t))
    want, dwant = scalar_rows(fn, Z, t)
    assert np.isfinite(got).all() or not np.isfinite(want).all()
    for k in range(len(Z)):
        assert ieee_equal(got[k], want[k], 1e-13) or abs(got[k] - want[k]) <= 1e-13, (got[k], want[k])
        for a, b in zip(dz[k], dwant[k]):
            assert ieee_equal(a, b, 1e-12) or abs(a - b) <= 1e-15, (dz[k], dwant[k])
