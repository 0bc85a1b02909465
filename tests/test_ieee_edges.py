"""The engine's edges, through the public API only: the bookkeeping that mutation
testing showed no other test pinned down (issue 11), and the IEEE-754 edge table.

Every op of `engine.OPS` is evaluated at the IEEE edge points (±0, subnormals,
±1, 0.5, ±inf, nan, large numbers) on three paths that must agree with each
other -- ``backward()`` (floats), ``gradients(..., create_graph=True)`` (Values)
and `vectorize` (numpy) -- and with PyTorch in float64 (the reference where the
issue is silent)."""

import itertools
import math
import operator

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import AnomalyError, Value, detect_anomaly, gradients, linear
from autograd_lite.engine import OPS
from autograd_lite.vectorize import vectorize

try:
    import torch
except ImportError:  # pragma: no cover - torch is in the dev extra
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

inf, nan = math.inf, math.nan


def num(g) -> float:
    """A gradient as a number: a float, or the number in a Value (create_graph)."""
    return g.data if isinstance(g, Value) else float(g)


def same(a, b, rel: float = 1e-12) -> bool:
    """Equal numbers (±0 alike, a last-bits difference allowed), equal infinities, or both nan."""
    a, b = num(a), num(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=0.0)


def t64(x, grad: bool = False):
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


# ---------------------------------------------------------------------------------------------
# backward(create_graph=True) into leaves that already hold a gradient; intermediate .grad
# ---------------------------------------------------------------------------------------------


def test_create_graph_backward_adds_to_a_float_grad_already_in_a_leaf():
    x, y = Value(3.0), Value(2.0)
    x.grad = 0.5                      # left over from an earlier backward
    z = x * x * y                     # ∂z/∂x = 2xy = 12, ∂z/∂y = x² = 9
    z.backward(create_graph=True)
    assert isinstance(x.grad, Value) and isinstance(y.grad, Value)
    assert (x.grad.data, y.grad.data) == (12.5, 9.0)
    # the accumulated gradient is a graph: ∂(0.5 + 2xy)/∂x = 2y, ∂/∂y = 2x
    assert [num(g) for g in gradients(x.grad, [x, y])] == [4.0, 6.0]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")   # torch's reference-cycle note
def test_create_graph_backward_twice_accumulates_value_grads_like_pytorch():
    x, y = Value(3.0), Value(2.0)
    for _ in range(2):
        (x * x * y).backward(create_graph=True)
    assert (x.grad.data, y.grad.data) == (24.0, 18.0)
    # x.grad = 2·(2xy): ∂/∂x = 4y = 8, ∂/∂y = 4x = 12
    assert [num(g) for g in gradients(x.grad, [x, y])] == [8.0, 12.0]
    if torch is not None:
        tx, ty = t64(3.0, True), t64(2.0, True)
        for _ in range(2):
            (tx * tx * ty).backward(create_graph=True)
        assert (tx.grad.item(), ty.grad.item()) == (24.0, 18.0)
        assert [g.item() for g in torch.autograd.grad(tx.grad, [tx, ty])] == [8.0, 12.0]


def test_create_graph_backward_mixes_with_float_backward():
    x = Value(3.0)
    (x * x).backward()                        # float: 6
    (x * x).backward(create_graph=True)       # Value: 6 more
    (x * x).backward()                        # float onto a Value grad: 6 more
    assert num(x.grad) == 18.0


def test_create_graph_backward_sets_intermediate_grads_to_this_pass():
    x, y = Value(3.0), Value(2.0)
    t = x * x                          # intermediate
    u = x * y                          # intermediate, stale grad from another loss
    u.exp().backward()
    assert u.grad == pytest.approx(math.exp(6.0))
    z = t * y + u * 5.0                # ∂z/∂t = y = 2, ∂z/∂u = 5
    for seed, expected in [(1.0, (2.0, 5.0)), (3.0, (6.0, 15.0))]:
        z.backward(seed, create_graph=True)
        assert (num(t.grad), num(u.grad), num(z.grad)) == (*expected, seed)   # the latest pass, not a sum
    assert isinstance(t.grad, Value)
    z.backward()                       # and a float pass after it
    assert (t.grad, u.grad, z.grad) == (2.0, 5.0, 1.0)
    # leaves accumulated all three passes: ∂z/∂x = 2xy + 5y = 22, ∂z/∂y = x² + 5x = 24
    assert (num(x.grad), num(y.grad)) == pytest.approx((22.0 * 5 + math.exp(6.0) * 2.0, 24.0 * 5 + math.exp(6.0) * 3.0),
                                                       rel=1e-15)


def test_create_graph_intermediate_grad_is_differentiable():
    x = Value(1.5)
    h = x.tanh()
    (h * h).backward(create_graph=True)          # h.grad = 2h
    assert num(h.grad) == pytest.approx(2 * math.tanh(1.5))
    (dh,) = gradients(h.grad, [x])               # ∂(2 tanh x)/∂x = 2(1 − tanh² x)
    assert num(dh) == pytest.approx(2 * (1 - math.tanh(1.5) ** 2))


# ---------------------------------------------------------------------------------------------
# linear() taking the same Value in several places
# ---------------------------------------------------------------------------------------------

SHARED = {  # name: (builder on w, v; elementary-op equivalent)
    "w as weight and input": (lambda w, v: linear([w, v], [w, 2.0], v),
                              lambda w, v: w * w + v * 2.0 + v),
    "w as weight, input and bias": (lambda w, v: linear([w, w], [w, v], w),
                                    lambda w, v: w * w + w * v + w),
    "cross": (lambda w, v: linear([w, v], [v, w], v),
              lambda w, v: w * v + v * w + v),
    "intermediate everywhere": (lambda w, v: linear([w * v, v], [w * v, w * v], w * v),
                                lambda w, v: (w * v) * (w * v) + v * (w * v) + w * v),
}


@pytest.mark.parametrize("name", list(SHARED))
def test_linear_with_shared_values_matches_elementary_ops_and_torch(name):
    fused, plain = SHARED[name]
    for wd, vd in [(1.5, -0.5), (-2.0, 3.0), (0.0, 1.0)]:
        results = []
        for build in (fused, plain):
            w, v = Value(wd), Value(vd)
            out = build(w, v)
            out.backward()
            g2 = gradients(out, [w, v], create_graph=True)
            hess = [num(h) for h in gradients(g2[0], [w, v])]
            results.append((out.data, w.grad, v.grad, [num(g) for g in g2], hess,
                            gradients(out, [w, v])))
        flat = [[r[0], r[1], r[2], *r[3], *r[4], *r[5]] for r in results]
        assert flat[0] == pytest.approx(flat[1], rel=1e-12), name
        value, gw, gv, g2, hess, g = results[0]
        assert g2 == [gw, gv] and g == [gw, gv]
        if torch is not None:
            tw, tv = t64(wd, True), t64(vd, True)
            tout = plain(tw, tv)
            tg = torch.autograd.grad(tout, [tw, tv], create_graph=True)
            th = torch.autograd.grad(tg[0], [tw, tv], allow_unused=True)
            assert value == pytest.approx(tout.item())
            assert [gw, gv] == pytest.approx([t.item() for t in tg])
            assert hess == pytest.approx([0.0 if t is None else t.item() for t in th])


def test_linear_with_the_same_value_as_weight_input_and_bias():
    w = Value(1.5)
    out = linear([w, w], [w, 2.0], w)                       # w² + 2w + w
    assert out.parents[0] is w and out.parents[2] is w and out.parents[-1] is w
    assert out.data == 1.5 ** 2 + 3 * 1.5
    out.backward()
    assert w.grad == 2 * 1.5 + 3                             # 2w + 3, every use counted
    (g,) = gradients(out, [w], create_graph=True)
    assert num(g) == 6.0 and num(gradients(g, [w])[0]) == 2.0
    g = vectorize(lambda w: linear([w, w], [w, 2.0], w)).grad(np.array([1.5, -1.0]))
    np.testing.assert_array_equal(g, [6.0, 1.0])


# ---------------------------------------------------------------------------------------------
# backward() on a leaf
# ---------------------------------------------------------------------------------------------


def test_backward_on_a_leaf_seeds_its_own_grad_and_accumulates():
    x = Value(3.0)
    x.backward()
    assert x.grad == 1.0                       # ∂x/∂x
    x.backward()
    assert x.grad == 2.0                       # leaves accumulate
    x.backward(2.5)
    assert x.grad == 4.5
    x.backward(np.float64(0.5))
    assert x.grad == 5.0
    x.zero_grad()
    assert x.grad == 0.0
    x.backward(-1.0)
    assert x.grad == -1.0


def test_backward_on_a_leaf_with_create_graph_and_gradients_of_a_leaf():
    x, y = Value(3.0), Value(4.0)
    x.grad = 0.25
    x.backward(2.0, create_graph=True)
    assert num(x.grad) == 2.25
    assert gradients(x, [x, y]) == [1.0, 0.0]
    assert [num(g) for g in gradients(x, [x, y], create_graph=True)] == [1.0, 0.0]
    assert y.grad == 0.0 and num(x.grad) == 2.25       # gradients() touches no .grad
    if torch is not None:
        tx = t64(3.0, True)
        tx.backward(t64(2.5))
        tx.backward(t64(2.5))
        assert tx.grad.item() == 5.0


def test_backward_seed_scales_every_gradient():
    for seed in (1.0, 2.0, -0.5, 0.0):
        x = Value(0.7)
        x.sigmoid().backward(seed)
        s = 1 / (1 + math.exp(-0.7))
        assert x.grad == pytest.approx(seed * s * (1 - s), rel=1e-15, abs=0.0)


# ---------------------------------------------------------------------------------------------
# anomaly mode: nan gradients through * and linear; nested blocks
# ---------------------------------------------------------------------------------------------


def _nan_through_mul(swap=False):
    x, y = Value(inf, label="x"), Value(2.0, label="y")
    out = y * x if swap else x * y     # the nan reaches the second, or the first, operand of the ×
    return out.sigmoid(), x, y         # σ(inf) = 1, σ' = 0; then ∂/∂y = 0·x = 0·inf = nan at the ×


def _nan_through_linear():
    w, x, b = Value(2.0, label="w"), Value(inf, label="x"), Value(0.5, label="b")
    return linear([w], [x], b).sigmoid(), w, x


@pytest.mark.parametrize("swap", [False, True])
def test_nan_gradient_through_mul_outside_anomaly_mode_is_nan_like_torch(swap):
    out, x, y = _nan_through_mul(swap)
    out.backward()
    assert x.grad == 0.0 and math.isnan(y.grad)
    if torch is not None:
        tx, ty = t64(inf, True), t64(2.0, True)
        torch.sigmoid(tx * ty).backward()
        assert tx.grad.item() == 0.0 and math.isnan(ty.grad.item())


@pytest.mark.parametrize("swap", [False, True])
def test_nan_gradient_through_mul_in_anomaly_mode_names_mul(swap):
    with detect_anomaly():
        out, x, y = _nan_through_mul(swap)     # the forward pass is fine: inf from inf, σ(inf) = 1
        with pytest.raises(AnomalyError, match=r"\bmul\b"):
            out.backward()


def test_nan_gradient_through_linear_in_anomaly_mode_names_linear():
    out, w, x = _nan_through_linear()
    out.backward()
    assert math.isnan(w.grad) and x.grad == 0.0
    with detect_anomaly():
        out, w, x = _nan_through_linear()
        with pytest.raises(AnomalyError, match=r"\blinear\b"):
            out.backward()


def _anomaly_on() -> bool:
    try:
        Value(-1.0).log()
    except AnomalyError:
        return True
    return False


def test_nested_detect_anomaly_restores_the_outer_state():
    assert not _anomaly_on()
    with detect_anomaly():
        assert _anomaly_on()
        with detect_anomaly():
            assert _anomaly_on()
        assert _anomaly_on()                   # the inner exit leaves the outer block on
        with pytest.raises(ZeroDivisionError):
            with detect_anomaly():
                raise ZeroDivisionError
        assert _anomaly_on()                   # also when the inner block raised
        with pytest.raises(AnomalyError):
            with detect_anomaly():
                Value(-1.0).log()
        assert _anomaly_on()
    assert not _anomaly_on()                   # off again after the outer block
    with pytest.raises(KeyError):
        with detect_anomaly():
            raise KeyError("x")
    assert not _anomaly_on()                   # an exception does not leave it on


# ---------------------------------------------------------------------------------------------
# comparisons at equality
# ---------------------------------------------------------------------------------------------

CMP = [operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("a,b", [(2.0, 2.0), (1.0, 2.0), (2.0, 1.0), (-0.0, 0.0), (0.0, -0.0), (5e-324, 0.0),
                                 (-inf, -inf), (inf, inf), (nan, 1.0), (1.0, nan)])
def test_comparisons_follow_the_numbers_on_both_sides(a, b):
    for op in CMP:
        expected = op(a, b)
        assert op(Value(a), Value(b)) is expected, (op, a, b)
        assert op(Value(a), b) is expected, (op, a, b)          # Value vs number
        assert op(a, Value(b)) is expected, (op, a, b)          # number vs Value (reflected)
        assert op(Value(a), np.float64(b)) == expected, (op, a, b)


def test_comparisons_at_equality():
    two, other_two = Value(2.0), Value(2.0)
    assert not two < other_two and two <= other_two and not two > other_two and two >= other_two
    assert not two < 2 and two <= 2 and not two > 2 and two >= 2
    assert not 2 < two and 2 <= two and not 2 > two and 2 >= two
    assert two <= two and two >= two and not two < two


def test_equality_compares_numbers_and_hash_stays_identity():
    """Issue 12's engine part: ``Value == Value`` compares numbers; nodes hash by identity."""
    a, b = Value(2.0), Value(2.0)
    assert a == b and a == 2.0 and 2 == a and not (a != b)
    assert a != Value(3.0) and not (Value(nan) == Value(nan))
    assert len({a, b}) == 2 and hash(a) != hash(b)


# ---------------------------------------------------------------------------------------------
# pow: 0ʸ for 0 ≤ y < 1, and x**y at y = 0, on every path
# ---------------------------------------------------------------------------------------------


def _pow_grads(xd, yd):
    """(value, ∂/∂x, ∂/∂y) of x**y on the float path, the create_graph path, vectorize, and the
    constant-exponent / constant-base forms (one gradient each)."""
    x, y = Value(xd), Value(yd)
    out = x ** y
    out.backward()
    paths = {"float": (out.data, x.grad, y.grad)}
    x, y = Value(xd), Value(yd)
    out = x ** y
    paths["create_graph"] = (out.data, *(num(g) for g in gradients(out, [x, y], create_graph=True)))
    with np.errstate(all="ignore"):
        v, (gx, gy) = vectorize(lambda x, y: x ** y).value_and_grad(np.array([xd]), np.array([yd]), argnums=(0, 1))
    paths["vectorize"] = (v[0], gx[0], gy[0])
    x = Value(xd)
    (x ** yd).backward()
    y = Value(yd)
    (xd ** y).backward()
    paths["constants"] = ((x ** yd).data, x.grad, y.grad)
    return paths


def _torch_pow(xd, yd):
    tx, ty = t64(xd, True), t64(yd, True)
    out = torch.pow(tx, ty)
    out.backward()
    return out.item(), tx.grad.item(), ty.grad.item()


@pytest.mark.parametrize("y", [0.0, 0.25, 0.5, 0.75, 0.999])
@pytest.mark.parametrize("x", [0.0, -0.0])
def test_derivatives_of_zero_to_the_y_for_y_in_0_1(x, y):
    paths = _pow_grads(x, y)
    expected = (1.0 if y == 0 else 0.0, 0.0 if y == 0 else inf, 0.0)   # ∂/∂x: 0 at y = 0, else y·0^(y−1) = inf
    if torch is not None:
        assert all(same(a, b) for a, b in zip(_torch_pow(x, y), expected))
    for name, got in paths.items():
        assert all(same(a, b) for a, b in zip(got, expected)), (name, got, expected)


@pytest.mark.parametrize("x", [0.0, -0.0, 5e-324, 1e-310, 0.5, 1.0, 2.0, -1.0, -2.5, 1e300, inf, -inf, nan])
def test_x_to_the_zero_has_the_same_derivative_on_every_path(x):
    paths = _pow_grads(x, 0.0)
    ref = paths["float"]
    for name, got in paths.items():
        assert all(same(a, b) for a, b in zip(got, ref)), (name, got, ref)
    assert ref[0] == 1.0 and ref[1] == 0.0                 # d/dx x⁰ = 0 everywhere (PyTorch)
    if torch is not None:
        assert all(same(a, b) for a, b in zip(_torch_pow(x, 0.0), ref)), (_torch_pow(x, 0.0), ref)


@pytest.mark.parametrize("x", [-inf, -0.0])
def test_pow_edge_points_agree_between_the_scalar_engine_and_vectorize(x):
    """(-inf)**0.5 and (-0.)**0.5: C pow (inf, +0.0; torch.pow on two tensors) on every path."""
    scalar = [(Value(x) ** 0.5).data, (Value(x) ** Value(0.5)).data, (x ** Value(0.5)).data]
    with np.errstate(all="ignore"):
        vec = [float(vectorize(lambda v: v ** 0.5)(np.array([x]))[0]),
               float(vectorize(lambda v, e: v ** e)(np.array([x]), np.array([0.5]))[0]),
               float(vectorize(lambda e: x ** e)(np.array([0.5]))[0])]
    expected = math.pow(x, 0.5)
    if torch is not None:
        assert torch.pow(t64(x), t64(0.5)).item() == expected
    for got in scalar + vec:
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected), (scalar, vec)


# ---------------------------------------------------------------------------------------------
# the kernels' numpy paths
# ---------------------------------------------------------------------------------------------

KERNELS = ["exp", "log", "sigmoid", "tanh", "relu", "sqrt", "sin", "cos"]
KERNEL_POINTS = np.array([-3.5, -2.0, -1.0, -0.75, -0.5, -0.25, -1e-310, -0.0, 0.0, 5e-324, 1e-310, 0.25, 0.5,
                          0.75, 1.0, 2.5, 30.0, -30.0, 800.0, -800.0, inf, -inf, nan])


@pytest.mark.parametrize("name", KERNELS)
def test_kernels_on_arrays_match_the_float_path_numpy_and_torch(name):
    f = getattr(al, name)
    with np.errstate(all="ignore"):
        got = f(KERNEL_POINTS)
        floats = np.array([f(float(x)) for x in KERNEL_POINTS])
        on_values = np.array([f(Value(x)).data for x in KERNEL_POINTS])
        column = f(KERNEL_POINTS.reshape(-1, 1))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == KERNEL_POINTS.shape
    np.testing.assert_allclose(got, floats, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(floats, on_values)
    zeros = (got == 0) & (floats == 0)   # the same zero: relu(-0.0) is one number on both paths
    np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(floats[zeros]))
    np.testing.assert_array_equal(column[:, 0], got)       # any shape
    if torch is not None:
        ref = getattr(torch, name)(t64(KERNEL_POINTS)).numpy()
        np.testing.assert_allclose(got, ref, rtol=1e-14, atol=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy's note on log(-2), sqrt(-2): nan is the answer
def test_kernel_values_on_negative_zero_and_fractional_inputs():
    x = np.array([-2.0, -0.5, 0.0, 0.25, 2.25])
    np.testing.assert_array_equal(al.relu(x), [0.0, 0.0, 0.0, 0.25, 2.25])
    np.testing.assert_array_equal(al.sqrt(x)[2:], [0.0, 0.5, 1.5])
    assert np.isnan(al.sqrt(x)[:2]).all()
    np.testing.assert_array_equal(al.log(x)[2:3], [-inf])
    assert np.isnan(al.log(x)[:2]).all()
    np.testing.assert_allclose(al.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    assert al.sigmoid(np.array([0.0]))[0] == 0.5 and al.tanh(np.array([-0.0]))[0] == 0.0
    np.testing.assert_allclose(al.exp(x), np.exp(x), rtol=0)


# ---------------------------------------------------------------------------------------------
# The IEEE edge table: every op, every edge point, three paths, and PyTorch
# ---------------------------------------------------------------------------------------------

POINTS = [0.0, -0.0, 5e-324, -5e-324, 1e-310, 1.0, -1.0, 0.5, 2.0, inf, -inf, nan, 800.0, 1e300, -1e300]
SEEDS = [1.0, 1e-10, -3.0, inf, nan]   # ∂L/∂out: the upstream gradient reaching the op
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
          "pow": operator.pow}
UNARY = {"neg": operator.neg, "abs": abs, **{n: operator.methodcaller(n)
                                             for n in ("exp", "log", "sigmoid", "tanh", "relu", "sqrt", "sin", "cos")}}
TORCH = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "pow": "pow", "neg": "neg", "abs": "abs",
         "exp": "exp", "log": "log", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "sqrt": "sqrt",
         "sin": "sin", "cos": "cos"}


def _call(name, args):
    if name == "linear":
        w, x, b = args
        return linear([w], [x], b)
    return (BINARY.get(name) or UNARY[name])(*args)


def _cases(name):
    if name == "linear":
        return [(w, x, 0.5) for w, x in itertools.product(POINTS, POINTS)] + [(0.5, 2.0, b) for b in POINTS]
    return list(itertools.product(POINTS, repeat=2 if name in BINARY else 1))


def _skip(name, args, seed):
    """abs at ±0 with an inf/nan upstream gradient: see test_abs_at_zero_with_nonfinite_upstream."""
    return name == "abs" and args[0] == 0 and not math.isfinite(seed)


def _float_path(name, args, seed):
    vs = [Value(a) for a in args]
    out = _call(name, vs)
    out.backward(seed)
    return out.data, [v.grad for v in vs]


def _graph_path(name, args, seed):
    vs = [Value(a) for a in args]
    out = _call(name, vs)
    return out.data, [num(g) for g in gradients(out * seed, vs, create_graph=True)]


def _vectorize_path(name, seed):
    n = 3 if name == "linear" else 2 if name in BINARY else 1
    f = {1: lambda x: _call(name, [x]) * seed, 2: lambda x, y: _call(name, [x, y]) * seed,
         3: lambda w, x, b: _call(name, [w, x, b]) * seed}[n]
    cases = _cases(name)
    cols = [np.array(c) for c in zip(*cases)]
    with np.errstate(all="ignore"):
        values = vectorize(lambda *a: _call(name, a), sizes=[None] * n)(*cols)
        _, grads = vectorize(f, sizes=[None] * n).value_and_grad(*cols, argnums=tuple(range(n)))
    return [(values[i], [g[i] for g in grads]) for i in range(len(cases))]   # by position: 0.0 == -0.0


def _torch_path(name, seed):
    cases = _cases(name)
    ts = [t64(list(c), True) for c in zip(*cases)]
    out = ts[0] * ts[1] + ts[2] if name == "linear" else getattr(torch, TORCH[name])(*ts)
    out.backward(torch.full_like(out, seed))
    return [(out[i].item(), [t.grad[i].item() for t in ts]) for i in range(len(cases))]


def _mismatches(name, path):
    bad = []
    for seed in SEEDS:
        other = path(name, seed) if path in (_vectorize_path, _torch_path) else None
        for k, case in enumerate(_cases(name)):
            if _skip(name, case, seed):
                continue
            want = _float_path(name, case, seed)
            got = other[k] if other is not None else path(name, case, seed)
            if seed == 1.0 and not same(got[0], want[0]):
                bad.append(f"{name}{case} value: {got[0]!r}, float path {want[0]!r}")
            for i, (g, w) in enumerate(zip(got[1], want[1])):
                if not same(g, w):
                    bad.append(f"{name}{case} seed {seed}: ∂/∂input{i} = {num(g)!r}, float path {num(w)!r}")
    return bad


def _report(bad, what):
    assert not bad, f"{len(bad)} {what}:\n" + "\n".join(bad[:25])


ALL_OPS = [*UNARY, *BINARY, "linear"]


def test_the_edge_table_covers_every_op():
    assert set(ALL_OPS) == set(OPS)


@needs_torch
@pytest.mark.parametrize("name", ALL_OPS)
def test_edge_table_float_path_matches_torch(name):
    _report(_mismatches(name, _torch_path), "disagreements with torch (float64)")


@pytest.mark.parametrize("name", ALL_OPS)
def test_edge_table_create_graph_path_matches_float_path(name):
    _report(_mismatches(name, _graph_path), "disagreements of gradients(create_graph=True) with backward()")


@pytest.mark.parametrize("name", ALL_OPS)
def test_edge_table_vectorize_matches_float_path(name):
    _report(_mismatches(name, _vectorize_path), "disagreements of vectorize with backward()")


@pytest.mark.parametrize("name", list(BINARY))
def test_edge_table_constant_operands_match_value_operands(name):
    """x op 2.0 and 2.0 op y store the number as a constant: the same value and gradient."""
    bad = []
    for seed in SEEDS:
        for x, y in _cases(name):
            value, (gx, gy) = _float_path(name, (x, y), seed)
            vx, vy = Value(x), Value(y)
            left, right = _call(name, [vx, y]), _call(name, [x, vy])
            left.backward(seed)
            right.backward(seed)
            for what, got, want in [("value x op c", left.data, value), ("value c op y", right.data, value),
                                    ("∂/∂x of x op c", vx.grad, gx), ("∂/∂y of c op y", vy.grad, gy)]:
                if not same(got, want):
                    bad.append(f"{name}({x!r}, {y!r}) seed {seed}: {what} = {got!r}, with two Values {want!r}")
    _report(bad, "disagreements between constant and Value operands")


# the edge semantics issue 11 states, one by one


@pytest.mark.parametrize("upstream", [inf, -inf, nan])
def test_relu_masks_the_upstream_gradient_where_x_is_not_positive(upstream):
    for x in (-1.0, -0.0, 0.0, -inf, -5e-324):
        v = Value(x)
        v.relu().backward(upstream)
        assert v.grad == 0.0, (x, upstream, v.grad)
        v = Value(x)
        (g,) = gradients(v.relu() * upstream, [v], create_graph=True)
        assert num(g) == 0.0, (x, upstream, g)
    x = Value(-1.0)
    x.relu().log().backward()          # log'(0) = inf upstream, masked
    assert x.grad == 0.0
    _, g = vectorize(lambda x: x.relu().log()).value_and_grad(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.5])
    if torch is not None:
        tx = t64(-1.0, True)
        torch.relu(tx).log().backward()
        assert tx.grad.item() == 0.0


@needs_torch
@pytest.mark.parametrize("upstream", [inf, -inf, nan])
def test_abs_at_zero_with_nonfinite_upstream_follows_torch(upstream):
    """torch: ∂|x|/∂x = g·sgn(x), so 0·inf = nan at x = 0 (abs is not masked like relu)."""
    for x in (0.0, -0.0):
        tx = t64(x, True)
        torch.abs(tx).backward(t64(upstream))
        v = Value(x)
        abs(v).backward(upstream)
        assert same(v.grad, tx.grad.item()), (x, upstream, v.grad, tx.grad.item())


@pytest.mark.parametrize("x", [1e-310, 5e-309, 2.5e-308])
def test_log_and_div_divide_the_upstream_gradient(x):
    """g / x, not g · (1/x): 1/x overflows for a subnormal x, g/x need not (torch's finite result)."""
    g = 1e-10
    v = Value(x)
    v.log().backward(g)
    assert v.grad == g / x and math.isfinite(v.grad)
    w = Value(3.0)
    (w / Value(x)).backward(g)
    assert w.grad == g / x
    v2 = Value(x)
    (gv,) = gradients(v2.log() * g, [v2], create_graph=True)
    assert num(gv) == g / x
    _, gvec = vectorize(lambda t: t.log() * g).value_and_grad(np.array([x]))
    assert gvec[0] == g / x
    if torch is not None:
        assert _torch_grad(torch.log, x, g) == g / x
        assert _torch_grad(lambda t: 3.0 / t, x, g) == pytest.approx(-g * 3.0 / x / x, rel=1e-12) or math.isinf(
            _torch_grad(lambda t: 3.0 / t, x, g))
        tw = t64(3.0, True)
        (tw / t64(x)).backward(t64(g))
        assert tw.grad.item() == w.grad


def _torch_grad(f, x, g):
    tx = t64(x, True)
    f(tx).backward(t64(g))
    return tx.grad.item()
