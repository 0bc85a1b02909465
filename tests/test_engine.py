"""The scalar engine: every op against finite differences and its analytic
derivative, random graphs, deep graphs, reuse, IEEE semantics, anomaly mode."""

import gc
import math
import tracemalloc

import pytest
from conftest import np  # None in the numpy-free run (test_no_numpy.py)
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import AnomalyError, Value, detect_anomaly
from autograd_lite.engine import OPS, derivative_table, topological_order

finite = st.floats(min_value=-50, max_value=50, allow_nan=False)
positive = st.floats(min_value=1e-3, max_value=50)


def numeric(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def d(f, x):
    """Backprop derivative of a one-argument function at x."""
    v = Value(x)
    out = f(v)
    out.backward()
    return out.data, v.grad


# (method, python reference, analytic derivative, domain)
UNARY = [
    ("exp", math.exp, math.exp, finite),
    ("log", math.log, lambda x: 1 / x, positive),
    ("sigmoid", lambda x: 1 / (1 + math.exp(-x)), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2,
     st.floats(-30, 30)),
    ("tanh", math.tanh, lambda x: 1 - math.tanh(x) ** 2, st.floats(-15, 15)),
    ("relu", lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0,
     finite.filter(lambda x: abs(x) > 1e-4)),
    ("sqrt", math.sqrt, lambda x: 0.5 / math.sqrt(x), positive),
    ("abs", abs, lambda x: math.copysign(1.0, x), finite.filter(lambda x: abs(x) > 1e-4)),
    ("sin", math.sin, math.cos, finite),
    ("cos", math.cos, lambda x: -math.sin(x), finite),
    ("__neg__", lambda x: -x, lambda x: -1.0, finite),
]


@pytest.mark.parametrize("name,ref,deriv,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary_op_value_analytic_and_numeric(name, ref, deriv, domain):
    @given(domain)
    def check(x):
        value, g = d(lambda v: getattr(v, name)(), x)
        assert value == pytest.approx(ref(x), rel=1e-12, abs=1e-300)
        assert g == pytest.approx(deriv(x), rel=1e-9, abs=1e-14)  # σ(1 − σ) cancels in the tails, as in PyTorch
        num = numeric(lambda t: getattr(Value(t), name)().data, x)
        assert g == pytest.approx(num, rel=1e-4, abs=1e-6)

    check()


@given(st.floats(min_value=20, max_value=1e300))
def test_sigmoid_and_tanh_saturated_tails(z):
    for sign in (1, -1):
        for fn, limit in (("sigmoid", 1.0 if sign > 0 else 0.0), ("tanh", float(sign))):
            value, g = d(lambda v: getattr(v, fn)(), sign * z)
            assert math.isfinite(g) and 0.0 <= g <= 1e-8      # the gradient vanishes (C10), never nan
            assert value == pytest.approx(limit, abs=1e-8)


BINARY = [
    ("add", lambda x, y: x + y, lambda x, y: (1.0, 1.0), finite, finite),
    ("sub", lambda x, y: x - y, lambda x, y: (1.0, -1.0), finite, finite),
    ("mul", lambda x, y: x * y, lambda x, y: (y, x), finite, finite),
    ("div", lambda x, y: x / y, lambda x, y: (1 / y, -x / y**2), finite, positive),
    ("pow", lambda x, y: x**y, lambda x, y: (y * x ** (y - 1), x**y * math.log(x)),
     st.floats(0.1, 5), st.floats(-3, 3)),
]


@pytest.mark.parametrize("name,ref,deriv,dx,dy", BINARY, ids=[b[0] for b in BINARY])
def test_binary_ops_with_values_and_constants_on_either_side(name, ref, deriv, dx, dy):
    @given(dx, dy)
    def check(x, y):
        ex, ey = deriv(x, y)
        a, b = Value(x), Value(y)
        out = ref(a, b)
        assert out.op is OPS[name]
        out.backward()
        assert out.data == pytest.approx(ref(x, y), rel=1e-12, abs=1e-300)
        assert a.grad == pytest.approx(ex, rel=1e-9, abs=1e-12)
        assert b.grad == pytest.approx(ey, rel=1e-9, abs=1e-12)
        # a number on the right, then on the left (the reflected operators)
        a = Value(x)
        ref(a, y).backward()
        assert a.grad == pytest.approx(ex, rel=1e-9, abs=1e-12)
        b = Value(y)
        r = ref(x, b)
        r.backward()
        assert isinstance(r, Value) and r.data == pytest.approx(ref(x, y), rel=1e-12, abs=1e-300)
        assert b.grad == pytest.approx(ey, rel=1e-9, abs=1e-12)
        assert a.grad == pytest.approx(numeric(lambda t: ref(Value(t), y).data, x), rel=1e-4, abs=1e-5)

    check()


def test_every_op_in_the_table_is_tested_here():
    tested = {u[0] for u in UNARY} | {b[0] for b in BINARY} | {"neg", "linear"}
    assert set(OPS) <= tested | {"__neg__"}, set(OPS) - tested


def test_linear_fused_node_matches_elementary_ops():
    rng = np.random.default_rng(0)
    for n in (1, 3, 17):
        w, x, b = rng.normal(size=n), rng.normal(size=n), rng.normal()
        ws, xs, bv = [Value(t) for t in w], [Value(t) for t in x], Value(b)
        fused = al.linear(ws, xs, bv).tanh()
        fused.backward()
        ws2, xs2, bv2 = [Value(t) for t in w], [Value(t) for t in x], Value(b)
        plain = sum((wi * xi for wi, xi in zip(ws2, xs2)), bv2).tanh()
        plain.backward()
        assert fused.data == pytest.approx(plain.data, rel=1e-14)
        for p, q in zip(ws + xs + [bv], ws2 + xs2 + [bv2]):
            assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-15)
    # constants as inputs, and errors
    w = [Value(2.0), Value(-1.0)]
    out = al.linear(w, [3, 4.0], Value(0.5))
    out.backward()
    assert out.data == 2.5 and [p.grad for p in w] == [3.0, 4.0]
    with pytest.raises(ValueError, match="2 weights, 3 inputs"):
        al.linear(w, [1, 2, 3], Value(0.0))
    with pytest.raises(TypeError):
        al.linear([1.0, 2.0], [1, 2], Value(0.0))


# ---- random expression graphs ------------------------------------------------

UNARY_SAFE = ["tanh", "sigmoid", "sin", "cos", "neg", "exp_small", "log_pos", "sqrt_pos", "square"]


def apply_unary(name, v):
    """Ops restricted to where they are smooth, applied alike to Values and floats."""
    is_v = isinstance(v, Value)
    if name == "neg":
        return -v
    if name == "square":
        return v * v
    if name == "exp_small":  # exp(tanh(v)): bounded
        t = v.tanh() if is_v else math.tanh(v)
        return t.exp() if is_v else math.exp(t)
    if name == "log_pos":    # log(1 + v²)
        return (1 + v * v).log() if is_v else math.log(1 + v * v)
    if name == "sqrt_pos":   # sqrt(1 + v²)
        return (1 + v * v).sqrt() if is_v else math.sqrt(1 + v * v)
    if is_v:
        return getattr(v, name)()
    return {"tanh": math.tanh, "sigmoid": lambda t: 1 / (1 + math.exp(-t)), "sin": math.sin, "cos": math.cos}[name](v)


def apply_binary(name, a, b):
    if name == "add":
        return a + b
    if name == "sub":
        return a - b
    if name == "mul":
        return a * b
    return a / (1 + b * b)  # div, denominator kept away from 0


@st.composite
def programs(draw):
    """A random straight-line program over 3 inputs; later steps may reuse any
    earlier value (shared subexpressions), depth up to ~50."""
    n = draw(st.integers(1, 50))
    steps = []
    for i in range(n):
        avail = 3 + i
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(UNARY_SAFE)), draw(st.integers(0, avail - 1))))
        else:
            steps.append(("b", draw(st.sampled_from(["add", "sub", "mul", "div"])),
                          draw(st.integers(0, avail - 1)), draw(st.integers(0, avail - 1))))
    return steps


def run(program, xs):
    vals = list(xs)
    for step in program:
        if step[0] == "u":
            vals.append(apply_unary(step[1], vals[step[2]]))
        else:
            vals.append(apply_binary(step[1], vals[step[2]], vals[step[3]]))
    return vals[-1]


@given(programs(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_graphs_match_finite_differences(program, xs):
    f_ref = run(program, xs)
    assume(math.isfinite(f_ref) and abs(f_ref) < 1e6)
    leaves = [Value(x) for x in xs]
    out = run(program, leaves)
    assert out.data == pytest.approx(f_ref, rel=1e-12, abs=1e-12)
    out.backward()
    for i in range(3):
        eps = 1e-6
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        num = (run(program, up) - run(program, down)) / (2 * eps)
        assert leaves[i].grad == pytest.approx(num, rel=1e-3, abs=1e-4)


@given(programs(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_graphs_match_pytorch(program, xs):
    torch = pytest.importorskip("torch")
    leaves = [Value(x) for x in xs]
    out = run(program, leaves)
    assume(math.isfinite(out.data) and abs(out.data) < 1e6)
    out.backward()
    tl = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]

    def t_unary(name, v):
        return {"neg": lambda: -v, "square": lambda: v * v, "exp_small": lambda: v.tanh().exp(),
                "log_pos": lambda: (1 + v * v).log(), "sqrt_pos": lambda: (1 + v * v).sqrt(),
                "tanh": v.tanh, "sigmoid": v.sigmoid, "sin": v.sin, "cos": v.cos}[name]()

    vals = list(tl)
    for step in program:
        if step[0] == "u":
            vals.append(t_unary(step[1], vals[step[2]]))
        else:
            vals.append(apply_binary(step[1], vals[step[2]], vals[step[3]]))
    if not vals[-1].requires_grad:
        return
    vals[-1].backward()
    for leaf, t in zip(leaves, tl):
        ref = 0.0 if t.grad is None else t.grad.item()
        assert leaf.grad == pytest.approx(ref, rel=1e-9, abs=1e-12)


# ---- deep graphs, reuse, accumulation --------------------------------------------------


def test_million_node_chain_backprops_without_recursion():
    x = Value(1.0)
    y = x
    n = 1_000_000
    for _ in range(n // 2):
        y = y * 0.999999 + 0.000001
    y.backward()
    assert x.grad == pytest.approx(0.999999 ** (n // 2), rel=1e-9)


def test_million_term_left_folded_sum():
    xs = [Value(i * 1e-6) for i in range(1_000_000)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    total.backward()
    assert xs[0].grad == 1.0 and xs[-1].grad == 1.0 and xs[500_000].grad == 1.0
    assert total.data == pytest.approx(sum(i * 1e-6 for i in range(1_000_000)))


@pytest.mark.parametrize("build,expected", [
    (lambda a: a * a, lambda a: 2 * a),
    (lambda a: a + a, lambda a: 2.0),
    (lambda a: (a + a) + (a + a), lambda a: 4.0),
    (lambda a: a - a, lambda a: 0.0),
    (lambda a: a / a, lambda a: 0.0),
    (lambda a: (a * a) * (a * a), lambda a: 4 * a**3),
    (lambda a: a.exp() * a.exp().log(), lambda a: math.exp(a) * (a + 1)),
], ids=["a*a", "a+a", "b=a+a;c=b+b", "x-x", "a/a", "a^4 shared", "exp reuse"])
def test_reused_nodes_accumulate(build, expected):
    for x in (-1.5, 0.3, 2.0):
        a = Value(x)
        build(a).backward()
        assert a.grad == pytest.approx(expected(x), rel=1e-12, abs=1e-12)


def test_grads_accumulate_across_backward_calls_like_pytorch():
    w, x = Value(3.0, label="w"), Value(2.0, label="x")
    h = w * x
    L = h * h  # L = (wx)², dL/dw = 2wx·x = 24, dL/dh = 2h = 12
    L.backward()
    assert (w.grad, h.grad, L.grad) == (24.0, 12.0, 1.0)
    L.backward()
    assert w.grad == 48.0          # leaves accumulate ...
    assert h.grad == 12.0          # ... an intermediate holds the latest pass
    L.zero_grad()
    assert (w.grad, x.grad, h.grad, L.grad) == (0.0, 0.0, 0.0, 0.0)
    L.backward(grad=0.5)
    assert w.grad == 12.0


def test_two_losses_sharing_a_subgraph_accumulate_into_leaves():
    w = Value(1.5)
    h = w.tanh()
    L1, L2 = h * 2, h * h
    L1.backward()
    L2.backward()
    t = math.tanh(1.5)
    assert w.grad == pytest.approx((2 + 2 * t) * (1 - t * t), rel=1e-12)


def test_topological_order_is_consumers_first_and_complete():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d_ = c + a
    e = d_ * c
    order = topological_order(e)
    assert order[0] is e and set(order) == {a, b, c, d_, e}
    pos = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for p in n.parents:
            if isinstance(p, Value):
                assert pos[id(n)] < pos[id(p)]


def test_graph_is_freed_without_the_cyclic_collector():
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        x = Value(0.5)
        y = x
        for _ in range(20_000):
            y = (y * 1.0001).tanh() + x
        y.backward()
        built = tracemalloc.get_traced_memory()[0]
        del y
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    finally:
        gc.enable()
    assert built - base > 20_000 * 100
    assert after - base < 10_000  # everything but x went back


# ---- IEEE-754 semantics -------------------------------------------------------------


def test_ieee_edge_cases_never_raise():
    inf, nan = math.inf, math.nan
    cases = [
        (lambda: Value(1000.0).exp(), inf),
        (lambda: Value(0.0).log(), -inf),
        (lambda: Value(-1.0).log(), nan),
        (lambda: 1 / Value(0.0), inf),
        (lambda: -1 / Value(0.0), -inf),
        (lambda: Value(0.0) / Value(0.0), nan),
        (lambda: Value(-8.0) ** (1 / 3), nan),
        (lambda: Value(0.0) ** -1, inf),
        (lambda: Value(10.0) ** 400, inf),
        (lambda: 10 ** Value(400.0), inf),
        (lambda: Value(-1.0).sqrt(), nan),
        (lambda: Value(1e308) * 10, inf),
        (lambda: Value(-1000.0).sigmoid(), 0.0),
        (lambda: Value(1000.0).sigmoid(), 1.0),
        (lambda: Value(1000.0).tanh(), 1.0),
        (lambda: Value(inf) - Value(inf), nan),
    ]
    for build, expected in cases:
        v = build()
        if math.isnan(expected):
            assert math.isnan(v.data)
        else:
            assert v.data == expected
        v.backward()  # never raises either


def test_ieee_gradients_follow_pytorch():
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == math.inf           # d√x/dx at 0
    x = Value(0.0)
    (1 / x).backward()
    assert x.grad == -math.inf or math.isnan(x.grad)  # -1/x² → -inf
    for z in (-1000.0, 1000.0, -1e308):
        v = Value(z)
        v.sigmoid().backward()
        assert v.grad == 0.0
        v = Value(z)
        v.tanh().backward()
        assert v.grad == 0.0
    x = Value(0.0)
    (x ** 0).backward()
    assert x.grad == 0.0                # PyTorch: d/dx x⁰ = 0, also at 0
    x, y = Value(0.0), Value(2.0)
    (x ** y).backward()
    assert (x.grad, y.grad) == (0.0, 0.0)   # d/dy 0ʸ = 0 for y ≥ 0 (PyTorch)
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0
    x = Value(0.0)
    abs(x).backward()
    assert x.grad == 0.0


def test_functions_accept_values_numbers_and_arrays():
    assert al.exp(1000) == math.inf and al.log(0) == -math.inf and math.isnan(al.log(-1.0))
    assert al.sigmoid(-1000) == 0.0 and al.sigmoid(0) == 0.5 and al.relu(-3) == 0.0 and al.tanh(0.0) == 0.0
    assert isinstance(al.sigmoid(Value(0.0)), Value)
    arr = al.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(arr, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(al.exp(np.array([0.0, 1.0])), [1.0, math.e])


# ---- construction, repr, errors ---------------------------------------------------------


@pytest.mark.parametrize("good", [1, 2.5, True, *([np.float64(1.5), np.int32(3), np.float32(0.5), np.bool_(True),
                                                     np.array(2.0)] if np is not None else [])])
def test_value_accepts_real_numbers(good):
    v = Value(good)
    assert type(v.data) is float and v.data == float(good) and v.grad == 0.0


@pytest.mark.parametrize("bad", ["1.0", None, 1 + 2j, [1.0], (1.0,), {"x": 1},
                                 *([np.array([1.0, 2.0])] if np is not None else [])])
def test_value_rejects_non_numbers_with_type_error(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_operators_with_non_numbers_raise_type_error():
    v = Value(1.0)
    for bad in ("a", None, [1], 1j):
        with pytest.raises(TypeError):
            v + bad
        with pytest.raises(TypeError):
            bad * v
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_repr_is_short():
    v = Value(0.7310585786, label="a")
    v.grad = 0.19661193
    assert repr(v) == "Value(0.7311, grad=0.1966, label='a')"
    assert repr(Value(2)) == "Value(2, grad=0)"


def test_numpy_scalars_on_either_side_give_values():
    v = Value(2.0)
    for c in (np.float64(3.0), np.int64(3), np.float32(3.0)):
        assert isinstance(c * v, Value) and (c * v).data == 6.0
        assert isinstance(v - c, Value) and (v - c).data == -1.0
        assert isinstance(c - v, Value) and (c - v).data == 1.0


def test_comparisons_and_float_use_data():
    a, b = Value(1.0), Value(2.0)
    assert a < b and b > a and a <= 1.0 and b >= 2 and b.item() == 2.0
    assert bool(Value(0.0)) is False and bool(a) is True
    assert a == Value(1.0) and a == 1.0 and a != b and not (a != 1.0)  # == compares the numbers ...
    assert len({a, b, Value(1.0)}) == 3  # ... hashing is by identity: nodes are vertices


# ---- anomaly mode -------------------------------------------------------------------------


def test_detect_anomaly_names_the_op_inputs_and_values():
    x = Value(-1.0, label="x")
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"log\(x=-1\.0\).*nan"):
            x.log()
        y = Value(0.0, label="y")
        with pytest.raises(AnomalyError, match=r"div.*inf"):
            Value(1.0, label="one") / y
        z = Value(0.0, label="z")
        s = z.sqrt()          # forward 0.0 is fine ...
        with pytest.raises(AnomalyError, match=r"backward of sqrt.*inf.*z=0\.0"):
            s.backward()      # ... but d√z/dz at 0 is inf from finite inputs
        big = Value(1000.0, label="big")
        with pytest.raises(AnomalyError, match=r"exp\(big=1000\.0\) gave inf"):
            big.exp()         # an overflow: inf from a finite input
    # outside the block nothing is checked
    assert math.isnan(x.log().data)


def test_detect_anomaly_allows_inf_from_inf():
    with detect_anomaly():
        v = Value(math.inf, label="i") + 1
        assert v.data == math.inf


def test_derivative_table_documents_every_op():
    table = derivative_table()
    for name, op in OPS.items():
        assert f"`{name}`" in table and op.formula.replace("|", "\\|") in table
    assert "σ'(x) = σ(x)(1 − σ(x))" in table


def test_the_table_declares_the_rules_that_are_an_input_or_the_output():
    """∂(xy)/∂x = y and (eˣ)' = eˣ are stated as such (markers), not found by probing."""
    from autograd_lite.engine import OUT, Mask, Over, X, Y

    assert OPS["mul"].partials == (Y, X) and OPS["exp"].partials == (OUT,)
    assert OPS["add"].partials == (1.0, 1.0)
    assert isinstance(OPS["log"].partials[0], Over) and isinstance(OPS["relu"].partials[0], Mask)
    rng = np.random.default_rng(1)
    for name, op in OPS.items():
        if name == "linear":
            continue
        for _ in range(5):
            args = list(rng.uniform(0.5, 2.0, size=op.arity)) + [float(rng.uniform(0.5, 2.0))]
            for rule in op.partials:
                assert al.engine.contribution(rule, 1.0, *args) == pytest.approx(al.engine.partial(rule, *args))
