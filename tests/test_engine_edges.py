"""The rebuilt engine (issue 11) and its Python-API edges (issue 12, engine part).

One backprop with an observer; the float fast path, the general path, the
create_graph path, vectorize and PyTorch agreeing at IEEE edge points;
threads, copies and pickles; `.data` under vectorize; float(), ==, grad=None,
numpy ufuncs, huge integers and help(Value)."""

from __future__ import annotations

import copy
import inspect
import math
import pickle
import pydoc
import threading

import pytest
from conftest import np  # None in the numpy-free run (test_no_numpy.py)

import autograd_lite as al
from autograd_lite import engine, vectorize
from autograd_lite.engine import OPS, AnomalyError, TracingError, Value, backprop, detect_anomaly, gradients, linear

TINY = 5e-324
EDGES = [0.0, -0.0, TINY, -TINY, 1e-310, 0.5, 1.0, -1.0, 2.0, -2.5, 1e300, math.inf, -math.inf, math.nan]
BINARY_EDGES = [0.0, -0.0, TINY, 0.5, 1.0, -1.0, 2.0, -3.0, math.inf, -math.inf, math.nan]
UNARY = ["exp", "log", "sigmoid", "tanh", "relu", "sqrt", "abs", "sin", "cos", "neg"]
BINARY = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
          "div": lambda x, y: x / y, "pow": lambda x, y: x ** y}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def close(a: float, b: float) -> bool:
    """Equal, or both nan, or (finite) within a few ulps: PyTorch's kernels may round differently."""
    return same(a, b) or (math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=1e-14))


def unary(name: str, x):
    return -x if name == "neg" else getattr(x, name)()


# ---------------------------------------------------------------------------
# backprop: one pure routine, with an observer
# ---------------------------------------------------------------------------


def test_backprop_is_pure_and_matches_backward_bit_for_bit():
    x, w = Value(0.3, "x"), Value(-1.2, "w")
    y = ((x * w).sigmoid() + x * x).log() / w
    x.grad, w.grad = 7.0, None
    grads = backprop(y)
    assert x.grad == 7.0 and w.grad is None and y.grad == 0.0  # nothing was touched
    y.backward()
    assert x.grad == 7.0 + grads[x] and w.grad == grads[w] and y.grad == 1.0


def test_observe_is_called_once_per_contribution_in_order():
    x = Value(2.0, "x")
    y = x * x + 3.0          # mul node (x, x), then add node (mul, 3.0): the constant gets no call
    calls = []
    grads = backprop(y, observe=lambda *a: calls.append(a))
    add, mul = y, y.parents[0]
    assert [(c[0], c[1], c[2]) for c in calls] == [(add, 0, mul), (mul, 0, x), (mul, 1, x)]
    node, index, inp, local, upstream, contribution, total = calls[1]
    assert (local, upstream, contribution, total) == (2.0, 1.0, 2.0, 2.0)
    assert calls[2][6] == 4.0 == grads[x]   # the running sum after the second contribution


def test_observe_sees_division_and_masks():
    x = Value(-1.0)
    calls = []
    backprop(x.relu().log(), observe=lambda *a: calls.append(a))
    (_, _, _, local_log, _, c_log, _), (_, _, _, local_relu, up, c_relu, _) = calls
    assert local_log == math.inf and up == c_log == math.inf and local_relu == 0.0 and c_relu == 0.0


def test_create_graph_backprop_gives_values_and_observes_them():
    x = Value(3.0)
    calls = []
    grads = backprop(x * x * x, create_graph=True, observe=lambda *a: calls.append(a))
    assert isinstance(grads[x], Value) and grads[x].data == 27.0
    assert all(isinstance(c[5], Value) for c in calls)
    (g2,) = gradients(grads[x], [x])
    assert g2 == 18.0


# ---------------------------------------------------------------------------
# every path agrees at the IEEE edge points (and with PyTorch)
# ---------------------------------------------------------------------------


def _paths_unary(name: str, v: float) -> dict[str, tuple[float, float]]:
    out = {}
    x = Value(v)
    y = unary(name, x)
    out["float"] = (y.data, engine._backprop_floats(y, 1.0).get(x, 0.0))
    out["observed"] = (y.data, backprop(y, observe=lambda *a: None).get(x, 0.0))
    g = backprop(y, create_graph=True).get(x)
    out["create_graph"] = (y.data, g.data)
    f = vectorize(lambda x: unary(name, x))
    val, dx = f.value_and_grad(np.array([v]))
    out["vectorize"] = (float(val[0]), float(dx[0]))
    return out


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_agree_on_every_path_at_edge_points(name):
    for v in EDGES:
        paths = _paths_unary(name, v)
        ref = paths["float"]
        for path, (val, d) in paths.items():
            assert same(val, ref[0]) and same(d, ref[1]), (name, v, path, paths)


def _paths_binary(name: str, u: float, v: float) -> dict[str, tuple]:
    f = BINARY[name]
    out = {}
    x, y = Value(u), Value(v)
    z = f(x, y)
    g = engine._backprop_floats(z, 1.0)
    out["float"] = (z.data, g[x], g[y])
    g = backprop(z, observe=lambda *a: None)
    out["observed"] = (z.data, g[x], g[y])
    g = backprop(z, create_graph=True)
    out["create_graph"] = (z.data, g[x].data, g[y].data)
    val, (dx, dy) = vectorize(f).value_and_grad(np.array([u]), np.array([v]), argnums=(0, 1))
    out["vectorize"] = (float(val[0]), float(dx[0]), float(dy[0]))
    return out


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_agree_on_every_path_at_edge_points(name):
    for u in BINARY_EDGES:
        for v in BINARY_EDGES:
            paths = _paths_binary(name, u, v)
            ref = paths["float"]
            for path, got in paths.items():
                assert all(same(a, b) for a, b in zip(got, ref)), (name, u, v, path, paths)


def _torch_unary(torch, name, v):
    x = torch.tensor(v, dtype=torch.float64, requires_grad=True)
    fn = {"neg": torch.neg, "relu": torch.relu, "abs": torch.abs}.get(name) or getattr(torch, name)
    y = fn(x)
    y.backward()
    return y.item(), x.grad.item()


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_match_pytorch_at_edge_points(name):
    torch = pytest.importorskip("torch")
    for v in EDGES:
        ours = _paths_unary(name, v)["float"]
        theirs = _torch_unary(torch, name, v)
        assert close(ours[0], theirs[0]) and close(ours[1], theirs[1]), (name, v, ours, theirs)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_match_pytorch_at_edge_points(name):
    torch = pytest.importorskip("torch")
    for u in BINARY_EDGES:
        for v in BINARY_EDGES:
            ours = _paths_binary(name, u, v)["float"]
            x = torch.tensor(u, dtype=torch.float64, requires_grad=True)
            y = torch.tensor(v, dtype=torch.float64, requires_grad=True)
            z = BINARY[name](x, y)
            z.backward()
            theirs = (z.item(), x.grad.item(), y.grad.item())
            assert all(close(a, b) for a, b in zip(ours, theirs)), (name, u, v, ours, theirs)


def test_masks_and_divisions_follow_pytorch():
    x = Value(-1.0)
    x.relu().log().backward()
    assert x.grad == 0.0                      # masked, although the upstream gradient is -inf
    x = Value(TINY)
    x.log().backward()
    assert x.grad == math.inf                 # 1 / 5e-324 overflows: g / x
    x = Value(1e-310)
    (Value(2.0) / x).backward()
    x2 = Value(1e-310)
    (x2 ** 0.0).backward()
    assert x2.grad == 0.0                     # d/dx x⁰ = 0, also where 1/x overflows
    assert grad_y0(1e-310) == 0.0 == grad_y0(1e-310, create_graph=True)


def grad_y0(xv: float, create_graph: bool = False) -> float:
    x, y = Value(xv), Value(0.0)
    g = backprop(x ** y, create_graph=create_graph)[x]
    return g.data if create_graph else g


def test_zero_to_the_y_derivative_for_small_exponents():
    for yv, expected in ((0.0, 0.0), (0.5, math.inf), (0.25, math.inf), (1.0, 1.0)):
        x = Value(0.0)
        (x ** yv).backward()
        assert x.grad == expected, yv


def test_pow_edge_points_match_vectorize():
    """C's pow (IEEE-754) on both: (-inf)^0.5 = inf and (-0)^0.5 = +0, although numpy
    computes x ** 0.5 as √x for a scalar exponent (nan and -0 there)."""
    xs = np.array([-math.inf, -0.0, -4.0, 0.0, 4.0, math.inf])
    for exponent in (0.5, -0.5, 1.5, 2.0, -1.0):
        f = vectorize(lambda x: x ** exponent)
        vals, grads = f.value_and_grad(xs)
        for v, val, g in zip(xs, vals, grads):
            x = Value(float(v))
            y = x ** exponent
            y.backward()
            assert same(y.data, float(val)) and math.copysign(1, y.data) == math.copysign(1, val), (v, exponent)
            assert same(x.grad, float(g)), (v, exponent)
    assert (Value(-math.inf) ** 0.5).data == math.inf and math.copysign(1, (Value(-0.0) ** 0.5).data) == 1


def test_numpy_kernels_on_negative_zero_and_fractional_inputs():
    xs = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    for name in ("exp", "log", "sigmoid", "tanh", "relu", "sqrt", "sin", "cos"):
        with np.errstate(all="ignore"):
            arr = getattr(al, name)(xs)
        for v, a in zip(xs, arr):
            assert same(float(a), getattr(al, name)(float(v))), (name, v)
    np.testing.assert_array_equal(engine.partial(OPS["relu"].partials[0], xs, al.relu(xs)), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(engine.partial(OPS["abs"].partials[0], xs, abs(xs)), [-1, -1, 0, 1, 1])


# ---------------------------------------------------------------------------
# bookkeeping the old tests let through
# ---------------------------------------------------------------------------


def test_create_graph_accumulates_into_leaves_that_hold_a_gradient():
    x = Value(2.0)
    x.grad = 5.0
    y = x * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 9.0
    assert isinstance(y.grad, Value) and y.grad.data == 1.0  # an intermediate holds this pass
    y.backward(create_graph=True)
    assert x.grad.data == 13.0


def test_linear_with_the_same_value_as_weight_and_input():
    w, b = Value(3.0), Value(1.0)
    y = linear([w], [w], b)               # w·w + b
    y.backward()
    assert y.data == 10.0 and w.grad == 6.0 and b.grad == 1.0
    (g,) = gradients(y, [w], create_graph=True)
    assert g.data == 6.0


def test_backward_on_a_leaf_gives_the_seed():
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0
    x.backward(2.5)
    assert x.grad == 3.5


def test_anomaly_mode_catches_nan_through_mul_and_linear():
    x, w = Value(math.inf, "x"), Value(0.0, "w")
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="mul"):
            x * w
    a, b, c = Value(1.0, "a"), Value(2.0, "b"), Value(0.0, "c")
    y = linear([a], [b], c)
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="backward of linear"):
            y.backward(math.nan)
        with detect_anomaly():  # nested blocks: the outer one still holds after the inner ends
            pass
        with pytest.raises(AnomalyError):
            Value(-1.0).log()
    Value(-1.0).log()  # outside: nothing checked


def test_comparisons_at_equality():
    a, b = Value(2.0), Value(2.0)
    assert a <= b and a >= b and not a < b and not a > b and a == b and not a != b
    assert a <= 2 and a >= 2.0 and 2 <= a and 2.0 >= a and not a < 2 and a == np.float64(2)
    assert Value(math.nan) != Value(math.nan) and not Value(math.nan) == math.nan
    assert (a == "2") is False and a != "2"


# ---------------------------------------------------------------------------
# threads, copies, pickles
# ---------------------------------------------------------------------------


def test_gradients_from_several_threads_on_shared_parameters_are_sequential():
    model = al.nn.MLP(4, [8, 8, 1])
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(8, 4)).tolist()
    params = model.parameters()

    def loss(row):
        return (model(row) - 1.0) ** 2

    expected = [gradients(loss(r), params) for r in rows]
    results: dict[int, list] = {}

    def work(i):
        for _ in range(5):
            results[i] = gradients(loss(rows[i]), params)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(rows))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(len(rows)):
        assert results[i] == expected[i]
    assert all(p.grad == 0.0 for p in params)


@pytest.mark.needs_numpy  # vectorize, in threads (their ImportError would not reach the test)
def test_concurrent_traces_are_independent():
    errors, ok = [], []
    barrier = threading.Barrier(2)

    def tracer():
        barrier.wait()
        for _ in range(20):
            try:
                vectorize(lambda x: x if x > 0 else -x)
            except TracingError:
                errors.append(1)

    def other():
        barrier.wait()
        for _ in range(200):
            ok.append(Value(1.0) < Value(2.0) and bool(Value(3.0)))

    ts = [threading.Thread(target=tracer), threading.Thread(target=other)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(errors) == 20 and all(ok) and len(ok) == 200


def _chain(depth: int) -> tuple[Value, Value]:
    x = Value(0.5, "x")
    y = x
    for _ in range(depth // 2):
        y = y * 0.999999 + 0.000001
    return x, y


def test_deepcopy_of_a_deep_graph_backprops_the_same_numbers():
    x, y = _chain(100_000)
    x2, y2 = copy.deepcopy((x, y))
    assert y2 is not y and y2.op is OPS["add"] and y2.parents[0].op is OPS["mul"]
    assert gradients(y2, [x2]) == gradients(y, [x]) and y2.data == y.data
    z = copy.deepcopy(linear([Value(1.0)], [Value(2.0)], Value(3.0)))
    z.backward()
    assert z.op is OPS["linear"] and [p.grad for p in z.parents] == [2.0, 1.0, 1.0]


def test_pickle_round_trips_a_deep_graph():
    x, y = _chain(100_000)
    y.backward()
    y2 = pickle.loads(pickle.dumps(y))
    x2 = engine.topological_order(y2)[-1]
    assert y2.data == y.data and x2.label == "x" and x2.grad == x.grad and y2.op is OPS["add"]
    assert gradients(y2, [x2]) == gradients(y, [x])
    assert pickle.loads(pickle.dumps(OPS["exp"])) is OPS["exp"]
    w = linear([Value(1.0)], [2.0], Value(3.0))
    assert pickle.loads(pickle.dumps(w)).parents == (1.0, 2.0, 3.0)


# ---------------------------------------------------------------------------
# .data and == under vectorize
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    lambda x: x * 2 if x.data > 0 else x,
    lambda x: x * x.data,
    lambda x: Value(x.data),
    lambda x: x + (x * 2).data,
    lambda x: x if x == 0 else x * 2,
    lambda x: x if x != 0 else x * 2,
    lambda x: Value(math.exp(x)),
    lambda x: x * np.float64(x.data),
    lambda x: x * round(x, 2),
    lambda x: x * float(f"{x:.3f}"),
])
def test_reading_a_traced_number_raises_tracing_error(body):
    with pytest.raises(TracingError, match="data-dependent"):
        vectorize(body)


def test_closure_values_can_still_be_read_while_tracing():
    k = Value(3.0)
    f = vectorize(lambda x: x * k.data if k == 3 else x)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [3.0, 6.0])


# ---------------------------------------------------------------------------
# issue 12: the Python API keeps its contract at every edge
# ---------------------------------------------------------------------------


def test_float_of_a_value_raises_and_names_the_fix():
    v = Value(1.0)
    for convert in (float, math.exp, math.log, math.sqrt):
        with pytest.raises(TypeError, match=r"v\.exp\(\).*autograd_lite\.exp\(v\).*v\.item\(\)"):
            convert(v)
    assert f"{v:.3f}" == "1.000" and format(Value(12345.0), ".2e") == "1.23e+04" and round(Value(2.345), 2) == 2.35
    assert v.item() == 1.0 and type(v.item()) is float
    assert al.grad(lambda x: x.exp())(1.0) == pytest.approx(math.e)


def test_grad_none_means_no_gradient_yet():
    x = Value(2.0, "x")
    x.grad = None
    assert repr(x) == "Value(2, grad=None, label='x')"
    (x * 3).backward()
    assert x.grad == 3.0
    (x * 3).backward()
    assert x.grad == 6.0
    opt = al.optim.SGD([x], lr=0.1)
    x.grad = None
    opt.step()                     # None counts as no gradient: nothing moves
    assert x.data == 2.0


def test_numpy_ufuncs_say_what_to_use():
    v = Value(2.0)
    with pytest.raises(TypeError, match=r"v\.exp\(\) or autograd_lite\.exp\(v\)"):
        np.exp(v)
    with pytest.raises(TypeError, match="Value"):
        np.floor(v)
    for c in (np.float64(2), np.int64(2), np.float32(2)):
        assert isinstance(c * v, Value) and (c * v).data == 4.0 and isinstance(c + v, Value)
        assert c == v and c <= v and not c < v


def test_gradients_takes_one_value_or_any_iterable():
    x, y = Value(2.0), Value(3.0)
    z = x * y
    assert gradients(z, x) == 3.0
    assert gradients(z, (v for v in [x, y])) == [3.0, 2.0]
    assert gradients(z, x, create_graph=True).data == 3.0
    with pytest.raises(TypeError, match="iterable"):
        gradients(z, 3.0)


def test_integers_beyond_float_range_are_ieee_infinities():
    assert Value(10**400).data == math.inf and Value(-(10**400)).data == -math.inf
    v = Value(2.0)
    assert (v * 10**400).data == math.inf and (10**400 - v).data == math.inf
    assert (v < 10**400) and v.data < math.inf


def test_help_reads_as_documentation():
    text = pydoc.render_doc(Value, renderer=pydoc.plaintext)
    assert "\\ s" not in text and "compare the numbers" in text and "item" in text
    source = inspect.getsource(Value)
    assert "# ---" not in source and "# ===" not in source  # no section dividers inside the class
    for module in (al.engine, al.nn, al.transforms, al.vectorize):
        assert "\\ s" not in inspect.getsource(module), module


def test_two_traces_at_once_record_their_own_graphs():
    barrier = threading.Barrier(2)
    out: dict[str, np.ndarray] = {}

    def trace(name, f):
        barrier.wait()
        for _ in range(10):
            out[name] = vectorize(f)(np.array([1.0, 2.0]))

    ts = [threading.Thread(target=trace, args=("sq", lambda x: x * x)),
          threading.Thread(target=trace, args=("exp", lambda x: x.exp() + 1))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    np.testing.assert_array_equal(out["sq"], [1.0, 4.0])
    np.testing.assert_allclose(out["exp"], [math.e + 1, math.e ** 2 + 1])


def test_a_pass_stopped_by_anomaly_mode_leaves_the_graph_clean():
    x = Value(0.0, "x")
    y = x.sqrt() * 2.0
    with detect_anomaly():
        with pytest.raises(AnomalyError):
            y.backward()
    assert all(node._sum is None for node in engine.topological_order(y))
    x.grad = 0.0
    (x * 3.0).backward()
    assert x.grad == 3.0 and backprop(y)[x] == math.inf


# ---------------------------------------------------------------------------
# small public behaviours the mutation run (tools/mutate.py) showed untested
# ---------------------------------------------------------------------------


def test_unary_plus_is_the_value_itself():
    v = Value(2.0, "v")
    assert +v is v


def test_module_functions_are_named_for_help():
    for name in ("exp", "log", "sigmoid", "tanh", "relu", "sqrt", "sin", "cos"):
        f = getattr(al, name)
        assert f.__name__ == f.__qualname__ == name
        assert pydoc.plaintext.document(f).startswith(name + "(")
        assert getattr(al.kernels, name).__name__ == name


def test_rule_arguments_print_as_their_names():
    assert [repr(a) for a in (engine.X, engine.Y, engine.OUT)] == ["x", "y", "out"]


def test_contribution_multiplies_by_any_constant_rule():
    assert engine.contribution(0.5, 4.0) == 2.0
    assert engine.contribution(-1.0, 4.0) == -4.0
    assert engine.contribution(1.0, 4.0) == 4.0
    g = Value(3.0, "g")  # create_graph: a ±1 rule adds no mul node
    assert engine.contribution(1.0, g) is g
    neg = engine.contribution(-1.0, g)
    assert neg.op is OPS["neg"] and neg.parents == (g,) and neg.data == -3.0


def test_backprop_of_a_number_is_a_type_error():
    with pytest.raises(TypeError, match="backprop"):
        backprop(3.0)


def test_anomaly_mode_checks_create_graph_gradients():
    x = Value(2.0, "x")
    with detect_anomaly():
        (g,) = gradients(x * x * x, [x], create_graph=True)
        (g2,) = gradients(g, [x], create_graph=True)
    assert g.data == 12.0 and g2.data == 12.0


def test_anomaly_mode_under_vectorize():
    with detect_anomaly():
        out = vectorize(lambda x: (x * x).exp())(np.array([0.0, 1.0]))
    np.testing.assert_allclose(out, [1.0, math.e])


def test_third_derivative_of_pow_through_a_zero_exponent():
    """∂³(xʸ)/∂x∂y² = (2 ln x + y ln²x)·xʸ⁻¹, at y = 0: 2 ln x / x (through (y·xʸ)/x)."""
    x, y = Value(2.0, "x"), Value(0.0, "y")
    (gx,) = gradients(x ** y, [x], create_graph=True)
    (gxy,) = gradients(gx, [y], create_graph=True)
    (gxyy,) = gradients(gxy, [y])
    assert gx.data == 0.0 and math.isclose(gxy.data, 0.5)
    assert math.isclose(gxyy, 2 * math.log(2.0) / 2.0)


def test_pow_derivatives_match_pytorch_at_ordinary_points():
    torch = pytest.importorskip("torch")
    for xv, yv in [(2.0, 3.0), (0.5, -1.5), (3.0, 0.0), (1.5, 2.5)]:
        x, y = Value(xv), Value(yv)
        gx, gy = gradients(x ** y, [x, y])
        tx = torch.tensor(xv, dtype=torch.float64, requires_grad=True)
        ty = torch.tensor(yv, dtype=torch.float64, requires_grad=True)
        tgx, tgy = torch.autograd.grad(tx ** ty, [tx, ty])
        assert close(gx, tgx.item()) and close(gy, tgy.item())


def test_kernels_on_narrow_integer_arrays_and_numpy_scalars():
    # |−128| overflows int8: the kernel must compute in float64
    np.testing.assert_allclose(al.kernels.sigmoid(np.array([-128, 127], dtype=np.int8)),
                               [math.exp(-128) / (1 + math.exp(-128)), 1 / (1 + math.exp(-127))], rtol=1e-15)
    assert al.kernels.power(2.0, np.float64(3.0)) == 8.0
    np.testing.assert_array_equal(al.kernels.power(np.array([2, 3]), np.float64(2.0)), [4.0, 9.0])
    np.testing.assert_array_equal(al.kernels.power(np.array([4.0, 9.0]), 0.5), [2.0, 3.0])
    np.testing.assert_array_equal(al.kernels.power(2.0, np.array([1, 3])), [2.0, 8.0])


def test_anomaly_message_names_a_constant_input():
    x = Value(math.inf, "x")
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"forward of mul\(x=inf, constant 0\.0\)"):
        x * 0.0


def test_copy_is_a_new_node_with_the_same_op_and_parents():
    a, b = Value(2.0, "a"), Value(3.0, "b")
    y = a * b
    y.label = "y"
    y2 = copy.copy(y)
    assert y2 is not y and y2.data == 6.0 and y2.label == "y" and y2.op is y.op
    assert y2.parents[0] is a and y2.parents[1] is b
    assert backprop(y2)[a] == 3.0


def test_deepcopy_of_linear_with_constant_inputs():
    w1, w2, b, x = Value(1.0, "w1"), Value(2.0, "w2"), Value(0.5, "b"), Value(4.0, "x")
    z = copy.deepcopy(linear([w1, w2], [3.0, x], b))
    ws = z.parents
    assert z.data == 11.5 and ws[2] == 3.0 and ws[2].__class__ is float
    assert not any(p is q for p in ws for q in (w1, w2, b, x))
    grads = backprop(z)
    assert [grads[p] for p in (ws[0], ws[1], ws[3], ws[4])] == [3.0, 4.0, 2.0, 1.0]


def test_a_misspelled_attribute_on_a_value_fails_loudly():
    v = Value(1.0)
    with pytest.raises(AttributeError):
        v.gard = 0.0  # a typo of .grad must not silently create a new attribute


def test_linear_validates_and_converts_its_inputs():
    w, b = Value(2.0, "w"), Value(1.0, "b")
    z = linear([w], [np.float64(3.0)], b)  # a numpy number becomes a float constant
    assert z.data == 7.0 and z.data.__class__ is float and z.parents[1].__class__ is float
    with pytest.raises(ValueError, match="as many weights"):
        linear([w, w], [3.0], b)
    with pytest.raises(TypeError, match="Values for the weights"):
        linear([2.0], [3.0], b)
    with pytest.raises(TypeError):
        linear([w], ["3"], b)


def test_backward_sums_contributions_through_unary_and_division_nodes():
    x, y = Value(0.5, "x"), Value(2.0, "y")
    (x.exp() + x.sin() + x / y + x ** y).backward()
    assert close(x.grad, math.exp(0.5) + math.cos(0.5) + 1 / 2.0 + 2.0 * 0.5)
    assert close(y.grad, -0.5 / 4.0 + 0.25 * math.log(0.5))


def test_anomaly_mode_checks_pow_and_div_gradients_in_backward():
    x = Value(0.0, "x")
    y = x ** 0.5  # forward 0, backward 0.5·0^-0.5 = inf
    with detect_anomaly(), pytest.raises(AnomalyError, match="backward of pow"):
        y.backward()
