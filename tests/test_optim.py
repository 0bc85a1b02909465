"""autograd_lite.optim: SGD (momentum, weight decay, nesterov) and Adam vs hand-computed steps and torch.optim."""

import math

import pytest
from conftest import np  # None in the numpy-free run (test_no_numpy.py)

from autograd_lite import Value
from autograd_lite.nn import MLP
from autograd_lite.optim import SGD, Adam


def _set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = g


def test_plain_gradient_descent_step():
    w, b = Value(1.0), Value(-2.0)
    opt = SGD([w, b], lr=0.1)
    _set_grads([w, b], [0.5, -3.0])
    opt.step()
    assert (w.data, b.data) == (1.0 - 0.1 * 0.5, -2.0 + 0.1 * 3.0)


def test_momentum_sgd_matches_hand_computed_steps():
    w = Value(1.0)
    opt = SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    grads = [0.5, -0.2, 0.3]
    x, buf = 1.0, None
    for g in grads:
        w.grad = g
        opt.step()
        d = g + 0.01 * x                    # weight decay is added to the gradient
        buf = d if buf is None else 0.9 * buf + d   # first step: b = g
        x = x - 0.1 * buf
        assert abs(w.data - x) <= 1e-12
    # the numbers written out for the first two steps
    w2 = Value(2.0)
    o2 = SGD([w2], lr=0.5, momentum=0.5)
    w2.grad = 1.0
    o2.step()
    assert w2.data == pytest.approx(1.5, abs=1e-12)        # b = 1
    w2.grad = 1.0
    o2.step()
    assert w2.data == pytest.approx(1.5 - 0.5 * 1.5, abs=1e-12)  # b = 0.5·1 + 1


def test_nesterov_and_dampening():
    w = Value(0.0)
    opt = SGD([w], lr=1.0, momentum=0.5, nesterov=True)
    w.grad = 1.0
    opt.step()                  # b = 1, g = 1 + 0.5·1
    assert w.data == pytest.approx(-1.5, abs=1e-12)
    w2 = Value(0.0)
    o2 = SGD([w2], lr=1.0, momentum=0.5, dampening=0.5)
    w2.grad = 2.0
    o2.step()                   # first step b = g (no dampening), PyTorch
    w2.grad = 2.0
    o2.step()                   # b = 0.5·2 + 0.5·2 = 2
    assert w2.data == pytest.approx(-4.0, abs=1e-12)
    with pytest.raises(ValueError, match="nesterov"):
        SGD([Value(0.0)], lr=1.0, nesterov=True)


def test_adam_matches_hand_computed_steps():
    w = Value(0.5)
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-8, 0.1
    opt = Adam([w], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    x, m, v = 0.5, 0.0, 0.0
    for t, g in enumerate([0.3, -1.2, 2.0, 0.0], start=1):
        w.grad = g
        opt.step()
        d = g + wd * x
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d * d
        mhat = m / (1 - b1 ** t)
        vhat = v / (1 - b2 ** t)
        x = x - lr * mhat / (math.sqrt(vhat) + eps)
        assert abs(w.data - x) <= 1e-12
    # first step of Adam moves by ≈ lr·sign(g) whatever the gradient's size
    u = Value(0.0)
    o = Adam([u], lr=0.1)
    u.grad = 1234.5
    o.step()
    assert u.data == pytest.approx(-0.1, rel=1e-9)


def test_zero_grad_and_model_params():
    net = MLP(2, [3, 1], seed=0)
    opt = Adam(net, lr=0.1)  # a model is accepted
    assert opt.params == net.parameters()
    net([1.0, 2.0]).backward()
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())


@pytest.mark.parametrize("kw,match", [
    (dict(params=[]), "empty"),
    (dict(params=[Value(1.0), 2.0]), "parameter 1"),
    (dict(lr=-1.0), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(momentum=-0.1), "momentum"),
    (dict(weight_decay=-1), "weight_decay"),
])
def test_sgd_validation(kw, match):
    args = dict(params=[Value(1.0)], lr=0.1) | kw
    with pytest.raises((ValueError, TypeError), match=match):
        SGD(**args)


def test_param_validation_details():
    a = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        SGD([a, a], lr=0.1)
    with pytest.raises(ValueError, match="leaf"):
        SGD([a * 2], lr=0.1)
    with pytest.raises(TypeError, match="single Value"):
        SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="betas"):
        Adam([a], betas=0.9)
    with pytest.raises(ValueError, match="eps"):
        Adam([a], eps=-1)


@pytest.mark.parametrize("make", [
    lambda ps, torch: (SGD(ps, lr=0.05, momentum=0.9), lambda tp: torch.optim.SGD(tp, lr=0.05, momentum=0.9)),
    lambda ps, torch: (SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True),
                       lambda tp: torch.optim.SGD(tp, lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True)),
    lambda ps, torch: (SGD(ps, lr=0.05, momentum=0.5, dampening=0.3),
                       lambda tp: torch.optim.SGD(tp, lr=0.05, momentum=0.5, dampening=0.3)),
    lambda ps, torch: (Adam(ps, lr=0.01), lambda tp: torch.optim.Adam(tp, lr=0.01)),
    lambda ps, torch: (Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
                       lambda tp: torch.optim.Adam(tp, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
])
def test_matches_torch_optim_over_several_steps(make):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=4)
    ps = [Value(float(v)) for v in x0]
    tp = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    mine, theirs = make(ps, torch)
    topt = theirs([tp])
    for _ in range(8):
        # f(x) = Σ (x_i³/3 − x_i·c_i): gradients change with x, so the runs must agree step by step
        c = [0.5, -1.0, 2.0, 0.1]
        f = sum(p ** 3 / 3 - p * ci for p, ci in zip(ps, c))
        mine.zero_grad()
        f.backward()
        mine.step()
        topt.zero_grad()
        tf = (tp ** 3 / 3 - tp * torch.tensor(c, dtype=torch.float64)).sum()
        tf.backward()
        topt.step()
        assert [p.data for p in ps] == pytest.approx(tp.detach().tolist(), rel=1e-12, abs=1e-12)
