"""fit(engine="vectorized") trains exactly like fit(engine="scalar"), only faster."""

import time

import numpy as np
import pytest

train = pytest.importorskip("autograd_lite.train")
nn = pytest.importorskip("autograd_lite.nn")
data = pytest.importorskip("autograd_lite.data")
optim = pytest.importorskip("autograd_lite.optim")


def _both(make_model, X, y, **kw):
    results = {}
    for engine in ("scalar", "vectorized"):
        model = make_model()
        start = time.perf_counter()
        history = train.fit(model, X, y, seed=0, progress=False, engine=engine, **kw)
        results[engine] = (history, [p.data for p in model.parameters()], time.perf_counter() - start)
    (hs, ps, ts), (hv, pv, tv) = results["scalar"], results["vectorized"]
    print(f"\n  scalar {ts * 1e3:.0f} ms, vectorized {tv * 1e3:.0f} ms ({ts / tv:.0f}× faster)")
    return hs, ps, hv, pv


def _same_history(hs, hv):
    assert len(hs.cost) == len(hv.cost) > 0
    np.testing.assert_allclose(hv.cost, hs.cost, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(np.isnan(hv.accuracy), np.isnan(hs.accuracy))
    np.testing.assert_allclose(hv.accuracy, hs.accuracy, rtol=0, atol=1e-12)


def test_logistic_regression_same_history():
    X, y = data.make_blobs(80, centers=2, n_features=3, seed=1)
    hs, ps, hv, pv = _both(lambda: nn.LogisticRegression(3), X, y, loss="bce", epochs=15)
    _same_history(hs, hv)
    np.testing.assert_allclose(pv, ps, rtol=1e-9, atol=1e-12)
    assert hs.cost[-1] < hs.cost[0]  # it did train


@pytest.mark.parametrize("loss, kw", [("bce_with_logits", {}), ("hinge", {"l2": 1e-3}),
                                      ("bce_with_logits", {"batch_size": 16})])
def test_small_mlp_same_history(loss, kw):
    X, y = data.make_moons(60, noise=0.1, seed=0)
    if loss == "hinge":
        y = 2 * y - 1
    hs, ps, hv, pv = _both(lambda: nn.MLP(2, [8, 8, 1], seed=3), X, y, loss=loss, epochs=8, **kw)
    _same_history(hs, hv)
    np.testing.assert_allclose(pv, ps, rtol=1e-9, atol=1e-12)


def test_adam_and_custom_loss_same_history():
    X, y = data.make_circles(50, noise=0.05, factor=0.5, seed=2)

    def squared(out, t):  # a user loss written for one example
        return (out.sigmoid() - t) ** 2

    results = []
    for engine in ("scalar", "vectorized"):
        model = nn.MLP(2, [6, 1], activation="tanh", seed=4)
        opt = optim.Adam(model.parameters(), lr=0.05)
        results.append(train.fit(model, X, y, loss=squared, optimizer=opt, epochs=6, seed=0, progress=False,
                                 engine=engine))
    _same_history(*results)
