"""autograd_lite.losses: values and gradients vs analytic formulas, finite differences and PyTorch."""

import math

import pytest
from conftest import np  # None in the numpy-free run (test_no_numpy.py)
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Value
from autograd_lite import losses as L
from autograd_lite.check import numerical_grad

probs = st.floats(1e-6, 1 - 1e-6)
logits = st.floats(-30, 30)
labels = st.sampled_from([0.0, 1.0])


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


@given(probs, st.floats(0, 1))
def test_bce_value_and_gradient_match_the_formula(p, y):
    a = Value(p)
    loss = L.binary_cross_entropy(a, y)
    assert loss.data == pytest.approx(-(y * math.log(p) + (1 - y) * math.log(1 - p)), rel=1e-12, abs=1e-14)
    loss.backward()
    assert a.grad == pytest.approx(-y / p + (1 - y) / (1 - p), rel=1e-9, abs=1e-12)  # C6: dL/da


@given(logits, labels, st.lists(st.floats(-2, 2), min_size=2, max_size=2))
def test_chain_rule_through_sigmoid_gives_a_minus_y(z0, y, x):
    """C6: with the log loss, dL/dz = a − y, dL/dwᵢ = xᵢ(a − y), dL/db = a − y."""
    w1, w2, b = Value(0.3), Value(-0.2), Value(z0 / 10)
    z = w1 * x[0] + w2 * x[1] + b
    a = z.sigmoid()
    loss = L.binary_cross_entropy(a, y)
    loss.backward()
    if 1e-12 < a.data < 1 - 1e-12:
        assert z.grad == pytest.approx(a.data - y, rel=1e-6, abs=1e-12)
        assert w1.grad == pytest.approx(x[0] * (a.data - y), rel=1e-6, abs=1e-12)
        assert b.grad == pytest.approx(a.data - y, rel=1e-6, abs=1e-12)


def test_bce_finite_at_the_ends_like_pytorch():
    for p, y, expected in [(0.0, 1, 100.0), (1.0, 0, 100.0), (0.0, 0, 0.0), (1.0, 1, 0.0), (1e-50, 1, 100.0),
                            (math.exp(-100.5), 1, 100.0), (1 - 1e-17, 0, 100.0)]:
        a = Value(p)
        loss = L.binary_cross_entropy(a, y)
        assert loss.data == expected
        loss.backward()
        assert math.isfinite(a.grad)
    # exact where p is not tiny: the floor changes nothing
    for p in (1e-20, 0.3, 1 - 1e-12):
        assert L.binary_cross_entropy(Value(p), 1).data == -math.log(p)
    assert L.binary_cross_entropy(0.25, 0).data == pytest.approx(-math.log(0.75))


def test_bce_rejects_bad_numbers():
    with pytest.raises(ValueError, match="probability"):
        L.binary_cross_entropy(1.5, 1)
    with pytest.raises(ValueError, match="probability.*logits"):
        L.binary_cross_entropy(Value(-0.2), 0)          # a score, not a probability (PyTorch raises too)
    assert math.isnan(L.binary_cross_entropy(Value(math.nan), 1).data)   # nan flows on, for fit to report
    with pytest.raises(ValueError, match="target"):
        L.binary_cross_entropy(Value(0.5), 2)
    with pytest.raises(TypeError):
        L.binary_cross_entropy(Value(0.5), "1")


@given(st.floats(-50, 50), st.floats(0, 1))
def test_bce_with_logits_is_bce_of_sigmoid_and_has_gradient_sigma_minus_y(z0, y):
    z = Value(z0)
    loss = L.binary_cross_entropy_with_logits(z, y)
    exact = max(z0, 0) - z0 * y + math.log1p(math.exp(-abs(z0)))
    assert loss.data == pytest.approx(exact, rel=1e-12, abs=1e-14)
    loss.backward()
    assert z.grad == pytest.approx(sigmoid(z0) - y, rel=1e-9, abs=1e-15)


def test_bce_with_logits_at_zero_and_extremes():
    z = Value(0.0)
    loss = L.binary_cross_entropy_with_logits(z, 1)
    assert loss.data == pytest.approx(math.log(2))
    loss.backward()
    assert z.grad == -0.5  # σ(0) − 1: the kinks of |z| cancel
    for big, y, val, g in [(1000.0, 1, 0.0, 0.0), (1000.0, 0, 1000.0, 1.0), (-1000.0, 1, 1000.0, -1.0)]:
        z = Value(big)
        loss = L.binary_cross_entropy_with_logits(z, y)
        assert loss.data == val
        loss.backward()
        assert z.grad == g


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=6), st.data())
def test_softmax_log_softmax_cross_entropy(zs, data):
    k = data.draw(st.integers(0, len(zs) - 1))
    m = max(zs)
    e = [math.exp(z - m) for z in zs]
    s = sum(e)
    sm = L.softmax(zs)
    assert [v.data for v in sm] == pytest.approx([x / s for x in e], rel=1e-12)
    assert sum(v.data for v in sm) == pytest.approx(1.0, abs=1e-12)
    assert [v.data for v in L.log_softmax(zs)] == pytest.approx([z - m - math.log(s) for z in zs], rel=1e-12,
                                                                 abs=1e-12)
    vs = [Value(z) for z in zs]
    loss = L.cross_entropy(vs, k)
    assert loss.data == pytest.approx(m + math.log(s) - zs[k], rel=1e-12, abs=1e-12)
    loss.backward()
    expected = [x / s - (1.0 if j == k else 0.0) for j, x in enumerate(e)]
    assert [v.grad for v in vs] == pytest.approx(expected, abs=1e-12)
    one_hot = [1.0 if j == k else 0.0 for j in range(len(zs))]
    assert L.cross_entropy(zs, one_hot).data == pytest.approx(loss.data, rel=1e-12, abs=1e-12)


def test_cross_entropy_stable_for_huge_logits_and_errors():
    assert L.cross_entropy([1000.0, 0.0, -1000.0], 0).data == 0.0
    assert L.cross_entropy([1000.0, 0.0], 1).data == 1000.0
    with pytest.raises(ValueError, match="out of range"):
        L.cross_entropy([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="integer"):
        L.cross_entropy([1.0, 2.0], 0.5)
    with pytest.raises(TypeError, match="Value"):
        L.cross_entropy([1.0, 2.0], Value(1.0))
    with pytest.raises(ValueError, match="non-empty"):
        L.softmax([])


@given(st.floats(-5, 5), st.floats(-5, 5))
def test_mse(p, y):
    v = Value(p)
    loss = L.mse(v, y)
    assert loss.data == pytest.approx((p - y) ** 2, rel=1e-12, abs=1e-15)
    loss.backward()
    assert v.grad == pytest.approx(2 * (p - y), rel=1e-12, abs=1e-15)


def test_mse_several_outputs_is_the_mean():
    ps = [Value(1.0), Value(2.0)]
    loss = L.mse(ps, [0.0, 4.0])
    assert loss.data == 2.5
    loss.backward()
    assert [p.grad for p in ps] == [1.0, -2.0]  # 2(p − y)/k
    with pytest.raises(ValueError, match="2 outputs"):
        L.mse(ps, [1.0])


@given(st.floats(-3, 3), st.sampled_from([-1, 0, 1]))
def test_hinge_both_label_conventions(s, y):
    t = 1 if y == 1 else -1
    v = Value(s)
    loss = L.hinge(v, y)
    assert loss.data == pytest.approx(max(0.0, 1 - t * s), abs=1e-15)
    loss.backward()
    assert v.grad == (-t if 1 - t * s > 0 else 0.0)
    # the branch-free form used for a Value label gives the same
    assert L.hinge(Value(s), Value(float(y))).data == pytest.approx(loss.data, abs=1e-15)
    with pytest.raises(ValueError, match="label"):
        L.hinge(v, 2)


def test_mean_is_the_cost_and_handles_thousands():
    ls = [Value(float(i)) for i in range(5000)]
    J = L.mean(ls)
    assert J.data == pytest.approx(2499.5)
    J.backward()
    assert all(v.grad == pytest.approx(1 / 5000) for v in ls)
    with pytest.raises(ValueError, match="empty"):
        L.mean([])


def test_get():
    assert L.get("bce") is L.binary_cross_entropy
    assert L.get("bce_with_logits") is L.binary_cross_entropy_with_logits
    assert L.get("cross_entropy") is L.cross_entropy
    f = lambda o, t: o
    assert L.get(f) is f
    with pytest.raises(ValueError, match="unknown loss 'nope'.*bce"):
        L.get("nope")


@pytest.mark.parametrize("name", ["bce", "bce_with_logits", "mse", "hinge"])
def test_gradients_match_finite_differences(name):
    rng = np.random.default_rng(0)
    fn = L.get(name)
    for _ in range(20):
        x = float(rng.uniform(0.05, 0.95)) if name == "bce" else float(rng.normal(0, 2))
        y = float(rng.integers(0, 2))
        v = Value(x)
        fn(v, y).backward()
        (num,) = numerical_grad(lambda a: fn(a, y), [x])
        if name == "hinge" and abs(1 - (2 * y - 1) * x) < 1e-4:
            continue
        assert v.grad == pytest.approx(num, rel=1e-6, abs=1e-8)


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(1)
    for _ in range(30):
        p, z, y = float(rng.uniform(0, 1)), float(rng.normal(0, 5)), float(rng.integers(0, 2))
        for mine, theirs, x in [
            (L.binary_cross_entropy, lambda t, yy: F.binary_cross_entropy(t, yy), p),
            (L.binary_cross_entropy_with_logits, lambda t, yy: F.binary_cross_entropy_with_logits(t, yy), z),
            (L.mse, lambda t, yy: F.mse_loss(t, yy), z),
        ]:
            v = Value(x)
            loss = mine(v, y)
            loss.backward()
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            ref = theirs(t, torch.tensor(y, dtype=torch.float64))
            ref.backward()
            assert loss.data == pytest.approx(ref.item(), rel=1e-12, abs=1e-14)
            assert v.grad == pytest.approx(t.grad.item(), rel=1e-9, abs=1e-12)
        zs = rng.normal(0, 3, size=4)
        k = int(rng.integers(0, 4))
        vs = [Value(float(a)) for a in zs]
        loss = L.cross_entropy(vs, k)
        loss.backward()
        t = torch.tensor(zs, dtype=torch.float64, requires_grad=True)
        ref = F.cross_entropy(t[None], torch.tensor([k]))
        ref.backward()
        assert loss.data == pytest.approx(ref.item(), rel=1e-12)
        assert [v.grad for v in vs] == pytest.approx(t.grad.tolist(), rel=1e-9, abs=1e-12)
        assert [v.data for v in L.softmax(zs.tolist())] == pytest.approx(F.softmax(t, 0).tolist(), rel=1e-12)
    # the ends, where PyTorch clamps log at −100
    for p, y in [(0.0, 1.0), (1.0, 0.0), (0.0, 0.0), (1e-44, 1.0), (3e-44, 1.0), (1e-30, 1.0), (1e-300, 0.0)]:
        ref = F.binary_cross_entropy(torch.tensor(p, dtype=torch.float64), torch.tensor(y, dtype=torch.float64))
        assert L.binary_cross_entropy(Value(p), y).data == pytest.approx(ref.item(), rel=1e-12, abs=1e-15)
