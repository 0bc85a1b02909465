"""The scalar engine's fast paths (issue 24): an int on the other side of an operator, and the
float backward pass's depth-first search, give exactly the numbers of the general paths."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import engine
from autograd_lite.engine import Value, backprop

INTS = [0, 1, -1, 2, 7, -16, 2 ** 53, -(2 ** 53), 2 ** 53 + 1, -(2 ** 53) - 3, 10 ** 30, 10 ** 400, -(10 ** 400)]
IDS = [str(k) if abs(k) < 10 ** 20 else f"{'-' if k < 0 else ''}10^{len(str(abs(k))) - 1}" for k in INTS]


@pytest.mark.parametrize("k", INTS, ids=IDS)
def test_an_int_constant_is_its_float_on_every_side_of_every_operator(k):
    want = float(k) if abs(k) < 2 ** 1024 else math.inf if k > 0 else -math.inf
    x = Value(-0.0)
    for out, const in ((x + k, want), (k + x, want), (x * k, want), (k * x, want), (x - k, want),
                       (k - x, want), (x / k if k else x * 1, want if k else 1.0)):
        c = [p for p in out.parents if p.__class__ is not Value]
        assert len(c) == 1 and c[0].__class__ is float and c[0] == const, (k, out.parents)
    assert (0 + x).data == 0.0 and math.copysign(1, (0 + x).data) == 1.0  # 0 + (-0.0) = +0.0, as IEEE adds
    v = Value(3.0)
    assert (v / 4).data == 0.75 and (v - 1).data == 2.0 and (10 + v).data == 13.0
    y = v / 4 + 2 * v
    y.backward()
    assert v.grad == 0.25 + 2.0
    assert (True + v).data == 4.0  # a bool is no int here: the general path, the same number


def test_sum_of_products_starting_from_the_int_zero():
    ws = [Value(float(i) / 7) for i in range(1, 6)]
    xs = [0.5, -1.0, 2.0, 0.25, -3.0]
    s = sum(w * x for w, x in zip(ws, xs))
    assert s.data == sum(w.data * x for w, x in zip(ws, xs))
    s.backward()
    assert [w.grad for w in ws] == xs


# random graphs with shared nodes and every op: backward() (the fast float pass, depth-first search)
# equals backprop() with an observer (the general pass, a plain topological order), bit for bit

BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (b * b + 1.0),
          lambda a, b: b * a, lambda a, b: b + a, lambda a, b: a / b, lambda a, b: b / a]  # b may be a number
UNARY = [lambda a: a.tanh(), lambda a: a.relu(), lambda a: -a, lambda a: a.sigmoid(), lambda a: a ** 2,
         lambda a: a.relu().log(), lambda a: (a * 0.25).exp(), lambda a: a ** -0.5, lambda a: abs(a).sqrt()]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10 ** 6), n=st.integers(1, 60), leaves=st.integers(1, 5))
def test_fast_pass_equals_observed_pass_on_random_graphs(seed, n, leaves):
    rnd = random.Random(seed)
    xs = [Value(rnd.uniform(-2, 2)) for _ in range(leaves)]
    pool = list(xs)
    for _ in range(n):
        if rnd.random() < 0.3:
            pool.append(rnd.choice(UNARY)(rnd.choice(pool)))
        else:
            b = rnd.choice(pool) if rnd.random() < 0.8 else rnd.choice([2, 0.5, -3, 0, 0.0, -0.0])
            pool.append(rnd.choice(BINARY)(rnd.choice(pool), b))
    root = sum(pool[-3:], pool[0] * 0.5) if len(pool) > 3 else pool[-1] * 1.0
    observed = backprop(root, observe=lambda *a: None)
    floats = backprop(root)
    root.backward()
    for node, g in observed.items():
        assert floats[node] == g or (math.isnan(g) and math.isnan(floats[node]))
        got = node.grad
        assert got == g or (math.isnan(g) and math.isnan(got)), (node, got, g)


def test_the_fast_pass_needs_no_recursion_on_deep_graphs():
    x = Value(0.5)
    y = x
    for _ in range(200_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    assert all(n._sum is None for n in engine.topological_order(y)[:1000])  # the scratch is cleared


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10 ** 6), n=st.integers(1, 40))
def test_backward_in_anomaly_mode_gives_the_same_gradients(seed, n):
    """In anomaly mode backward() takes backprop's checked sweep instead of the float pass:
    the same numbers in .grad (intermediate nodes too), and leaves accumulate the same way."""
    def build():
        rnd = random.Random(seed)
        xs = [Value(rnd.uniform(0.5, 2)) for _ in range(3)]
        pool = list(xs)
        for _ in range(n):
            a, b = rnd.choice(pool), rnd.choice(pool)
            pool.append(rnd.choice([a + b, a * b, a - 0.5, 2 * a, (a * a + 1.0).log(), a.sigmoid()]))
        xs[0].grad, xs[1].grad = None, 0.25  # no gradient yet; one from an earlier pass
        return pool
    plain, watched = build(), build()
    plain[-1].backward()
    with engine.detect_anomaly():
        watched[-1].backward()
    assert [v.grad for v in plain] == [v.grad for v in watched]
    assert all(v._sum is None for v in watched)


def test_an_op_node_has_no_label_until_it_is_named():
    x = Value(2.0, label="x")
    y = x * x
    assert (x.label, y.label, Value(1.0).label) == ("x", None, None)
    y.label = "y"
    assert y.label == "y" and repr(y) == "Value(4, grad=0, label='y')"
    y.label = None
    assert y.label is None
    with pytest.raises(TypeError, match="label must be a str, not int"):
        y.label = 3


# the operators' general methods: names, tracing, refusals (mutation testing of issue 24's fast paths)

def test_the_written_out_operators_are_in_use_and_named():
    assert Value.__add__ is engine._add and Value.__mul__ is engine._mul  # x + y, x·y of Values: the fast path
    for name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                 "__rtruediv__", "__pow__", "__rpow__"):
        assert getattr(Value, name).__name__ == name
        assert "∂" in getattr(Value, name).__doc__
    assert Value.exp.__name__ == "exp" and Value.relu.__name__ == "relu" and "relu'" in Value.relu.__doc__


def test_a_new_node_has_a_zero_gradient_and_no_scratch():
    x, y = Value(2.0), Value(3.0)
    for node in (x + y, x * y, x - y, x / y, x ** y, x.exp(), -x, 2.0 * x, x + 1):
        assert node.grad == 0.0 and node.grad.__class__ is float and node._sum is None, node


@pytest.mark.parametrize("other", ["a", None, [1.0], object()])
def test_an_operator_with_no_number_on_the_other_side_is_unsupported(other):
    x = Value(2.0)
    for op in (lambda: x + other, lambda: x * other, lambda: x - other, lambda: x / other, lambda: x ** other):
        with pytest.raises(TypeError, match="unsupported operand|can't multiply sequence"):  # Python's: NotImplemented
            op()
    for op in (lambda: other + x, lambda: other * x, lambda: other - x):
        with pytest.raises(TypeError):
            op()


def test_tracing_records_every_node_built_from_a_placeholder():
    with engine.tracing() as t:
        x = t.leaf("x")
        built = [x * 2.0, 3.0 + x, x * x, x + x, x - 1, 2 ** x, x.exp(), -x]
        assert t.nodes == built
        assert all(type(n.data) is engine._Trace and n.data is t for n in built)
    assert not t.live


def test_a_value_of_an_ended_trace_or_of_another_trace_is_refused():
    with engine.tracing() as t1:
        a = t1.leaf("a")
        with engine.tracing() as t2:
            b = t2.leaf("b")
            for op in (lambda: a * b, lambda: a + b, lambda: b * a, lambda: a - b):
                with pytest.raises(engine.TracingError, match="two different vectorize calls"):
                    op()
    with engine.tracing():
        for op in (lambda: a * 2.0, lambda: a + a, lambda: a * Value(1.0), lambda: 1.0 - a):
            with pytest.raises(engine.TracingError, match="has ended"):
                op()


def test_the_power_rule_on_arrays_warns_nothing():
    """∂xʸ/∂x on arrays (vectorize) is computed quietly: 0·0⁻¹ at x = y = 0 is masked, not warned about."""
    np = pytest.importorskip("numpy")
    import warnings
    dx = engine.OPS["pow"].partials[0]
    a = np.array([0.0, 2.0])
    for x, y in ((a, 0.0), (0.0, a), (a, a)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = engine.partial(dx, x, y, np.power(x, y))
        assert np.ravel(got)[0] == 0.0


def test_the_mixed_second_derivative_of_a_power_at_a_zero_exponent_is_never_a_silent_zero():
    """∂²xʸ/∂x∂y = 1/x at y = 0: kept in the graph even where x⁻¹ overflows (x subnormal)."""
    from autograd_lite.engine import gradients
    for xv, want in ((2.0, 0.5), (0.25, 4.0), (1.0, 1.0)):
        x, y = Value(xv), Value(0.0)
        assert gradients(gradients(x ** y, x, create_graph=True), y) == want
    x, y = Value(1e-310), Value(0.0)
    assert gradients(gradients(x ** y, x, create_graph=True), y) != 0.0
    # ∂²xʸ/∂x² = y(y−1)xʸ⁻² is +0 at y = 0 (as PyTorch: its masked zero has no slope)
    for xv in (2.0, 0.25, 1.0, -1.0, 1e-300):
        x, y = Value(xv), Value(0.0)
        gx = gradients(x ** y, x, create_graph=True)
        for gxx in (gradients(gx, x), gradients(gx, [y, x], create_graph=True)[1].data):
            assert gxx == 0.0 and math.copysign(1.0, gxx) == 1.0, (xv, gxx)


def test_a_backward_pass_that_fails_midway_leaves_no_scratch_behind(monkeypatch):
    x = Value(0.5)
    y = (x * 3.0).sin() * x + x  # sin's rule goes through the general contribution

    def fail(*args):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(engine, "_float_contribution", fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        y.backward()
    assert all(n._sum is None for n in engine.topological_order(y))
    monkeypatch.undo()
    y.backward()  # the next pass finds every node afresh
    assert x.grad == pytest.approx(math.sin(1.5) + 1.5 * math.cos(1.5) + 1.0)


def test_the_number_functions_give_floats_and_ieee_answers():
    from autograd_lite import kernels
    assert engine.relu(3).__class__ is float and engine.relu(3) == 3.0 and engine.exp(0).__class__ is float
    assert engine.exp(1000.0) == math.inf and math.isnan(engine.log(-1.0)) and engine.log(0.0) == -math.inf
    assert math.isnan(kernels._nan(-1.0)) and kernels._overflow(1000.0) == math.inf  # the fallbacks without numpy
    assert kernels.power(2.0, 0.5) == math.sqrt(2.0) and kernels.power(2, 3) == 8.0
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)  # as C's pow: nan, no complex number
    assert (Value(10.0) ** 400.0).data == math.inf and (Value(0.0) ** -1.0).data == math.inf


def test_backward_with_create_graph_puts_the_gradient_itself_in_a_fresh_leaf():
    """A leaf's .grad of 0.0 is replaced by the gradient's node, not added to (no node for 0 + g)."""
    for old in (0.0, None):
        x = Value(2.0)
        x.grad = old
        (x * 3.0).backward(create_graph=True)
        assert x.grad.__class__ is Value and x.grad.op is engine.OPS["mul"] and x.grad.data == 3.0
    x = Value(2.0)
    x.grad = 1.0  # an earlier pass's gradient: added to
    (x * 3.0).backward(create_graph=True)
    assert x.grad.op is engine.OPS["add"] and x.grad.data == 4.0


def test_power_without_numpy_is_ieee_too(monkeypatch):
    from autograd_lite import kernels
    monkeypatch.setattr(kernels, "np", None)  # the pure-Python fallback (Pyodide without numpy)
    assert math.isnan(kernels.power(-8.0, 1 / 3)) and kernels.power(10.0, 400.0) == math.inf
    assert kernels.power(0.0, -1.0) == math.inf and kernels.power(2.0, 0.5) == math.sqrt(2.0)


def test_while_anything_is_watched_the_operators_are_the_tables_general_methods():
    assert Value.__add__ is engine._add
    with engine.tracing():
        assert Value.__add__ is engine._add_any and Value.__mul__ is engine._mul_any
        with engine.detect_anomaly():
            assert Value.__add__ is engine._add_any
        assert Value.__mul__ is engine._mul_any
    assert Value.__add__ is engine._add and Value.__mul__ is engine._mul
    with engine.detect_anomaly():
        assert Value.__mul__ is engine._mul_any
        with pytest.raises(engine.AnomalyError):
            Value(float("inf")) * Value(0.0)
    assert Value.__mul__ is engine._mul


def test_the_written_out_operators_are_in_place_from_import():
    """In a fresh interpreter, before any watch has begun or ended (the tests above may have)."""
    import subprocess
    import sys
    code = "import autograd_lite.engine as e; assert e.Value.__add__ is e._add and e.Value.__mul__ is e._mul"
    subprocess.run([sys.executable, "-P", "-c", code], check=True)  # -P: this package, not the current directory


# A number on one side of an operator is stored as a `_Const` inside the node (so that the float
# pass adds to both inputs of x + y and x·y unconditionally); outside the engine it is its float.

CONSTANT_OPS = [lambda x, c: x + c, lambda x, c: c + x, lambda x, c: x * c, lambda x, c: c * x,
                lambda x, c: x - c, lambda x, c: c - x, lambda x, c: x / c, lambda x, c: c / x,
                lambda x, c: x ** c, lambda x, c: c ** x]


@pytest.mark.parametrize("c", [2.5, -0.0, 0.0, 3, math.inf], ids=["2.5", "-0.0", "0.0", "int", "inf"])
def test_a_constant_is_a_float_in_parents_pickles_and_copies(c):
    import copy
    import pickle

    x = Value(2.0, label="x")
    for f in CONSTANT_OPS:
        out = f(x, c)
        for node in (out, pickle.loads(pickle.dumps(out)), copy.copy(out), copy.deepcopy(out)):
            consts = [p for p in node.parents if p.__class__ is not Value]
            assert [(type(p), math.copysign(1, p), abs(p)) for p in consts] == \
                [(float, math.copysign(1, c), abs(float(c)))], node.parents
        assert b"_Const" not in pickle.dumps(out)  # a file holds floats, readable by earlier versions


def test_a_constant_takes_no_gradient_and_its_scratch_never_leaks():
    x, y = Value(0.7), Value(-1.3)
    c_nodes = [x * 2.0, 3.0 * y, x + 1.0, 1.0 + y, 2.0 - x, y / 4.0]
    loss = sum(n * n for n in c_nodes) * x
    loss.backward()
    grads = backprop(loss, observe=lambda *a: None)  # the general pass: constants skipped outright
    assert x.grad == grads[x] and y.grad == grads[y]
    nodes = engine.topological_order(loss)
    assert all(n._sum is None for n in nodes)
    for n in nodes:
        assert all(p.__class__ in (Value, float) for p in n.parents)
    # a second pass over the same graph gives the same gradients (what a constant took is thrown away)
    before = (x.grad, y.grad)
    x.grad = y.grad = 0.0
    loss.backward()
    assert (x.grad, y.grad) == before
