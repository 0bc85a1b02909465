"""autograd_lite.train: fit/predict, the course's demonstrations (C1, C11, C12, C13), and the examples."""

import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import Value, data, losses, nn, optim, train
from autograd_lite.train import TrainingDivergedError, accuracy, fit, predict, predict_proba

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ["mean texture", "mean smoothness", "mean concave points"]


def _breast_cancer_subset():
    X, y, names = data.load_breast_cancer()
    Xs, _, _ = data.standardize(X[:, [names.index(f) for f in FEATURES]])
    return Xs, y


def _log_loss(p, y):
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def test_logistic_regression_reaches_sklearn_optimum():
    sk = pytest.importorskip("sklearn.linear_model")
    X, y = _breast_cancer_subset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sk.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    ref_cost = _log_loss(ref.predict_proba(X)[:, 1], y)

    model = nn.LogisticRegression(3)
    history = fit(model, X, y, loss="bce", optimizer=optim.SGD(model, lr=2.0, momentum=0.8), epochs=150)
    cost = _log_loss(predict_proba(model, X), y)
    assert abs(cost - ref_cost) < 1e-3
    assert np.abs(np.array([w.data for w in model.w]) - ref.coef_[0]).max() < 1e-2
    assert abs(model.b.data - ref.intercept_[0]) < 1e-2
    assert history.cost[0] == pytest.approx(math.log(2))  # J at w = 0, b = 0
    assert history.cost[-1] == pytest.approx(ref_cost, abs=1e-3)
    assert accuracy(model, X, y) == pytest.approx(ref.score(X, y), abs=0.01)


def test_l2_matches_sklearn_with_the_same_penalty():
    sk = pytest.importorskip("sklearn.linear_model")
    X, y = _breast_cancer_subset()
    C = 0.05
    ref = sk.LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    model = nn.LogisticRegression(3)
    fit(model, X, y, optimizer=optim.SGD(model, lr=2.0, momentum=0.8), epochs=120, l2=1 / (C * len(y)))
    assert np.abs(np.array([w.data for w in model.w]) - ref.coef_[0]).max() < 1e-3
    assert abs(model.b.data - ref.intercept_[0]) < 1e-3


def test_cost_is_the_mean_of_the_losses_c13():
    X, y = data.make_blobs(30, centers=[[-1, 0], [1, 0]], seed=0)
    model = nn.LogisticRegression(2, init="random", seed=1)
    ps = predict_proba(model, X)
    expected = np.mean([losses.binary_cross_entropy(Value(p), t).data for p, t in zip(ps, y)])
    h = fit(model, X, y, optimizer=optim.SGD(model, lr=0.0), epochs=1)
    assert h.cost[0] == pytest.approx(expected, rel=1e-12)


def test_one_full_batch_step_is_gradient_descent_with_dl_dz_a_minus_y():
    """C4 + C6: w := w − α·(1/m) Σ xᵢ(aᵢ − yᵢ), b := b − α·(1/m) Σ (aᵢ − yᵢ)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (rng.random(50) < 0.5).astype(int)
    model = nn.LogisticRegression(3, init="random", seed=2)
    w0 = np.array([w.data for w in model.w])
    b0 = model.b.data
    a = 1 / (1 + np.exp(-(X @ w0 + b0)))
    fit(model, X, y, optimizer=optim.SGD(model, lr=0.3), epochs=1)
    assert np.allclose([w.data for w in model.w], w0 - 0.3 * X.T @ (a - y) / 50, rtol=0, atol=1e-12)
    assert model.b.data == pytest.approx(b0 - 0.3 * np.mean(a - y), abs=1e-12)


def test_mlp_fits_moons_and_circles_where_logistic_regression_cannot_c12():
    Xm, ym = data.make_moons(200, noise=0.1, seed=0)
    mlp = nn.MLP(2, [16, 16, 1], seed=0)
    fit(mlp, Xm, ym, optimizer=optim.Adam(mlp, lr=0.05), epochs=35)
    assert accuracy(mlp, Xm, ym) >= 0.97

    Xc, yc = data.make_circles(200, noise=0.1, factor=0.5, seed=0)
    mlp = nn.MLP(2, [16, 16, 1], seed=0)
    fit(mlp, Xc, yc, optimizer=optim.Adam(mlp, lr=0.05), epochs=25)
    assert accuracy(mlp, Xc, yc) >= 0.95

    lr = nn.LogisticRegression(2)
    fit(lr, Xc, yc, optimizer=optim.Adam(lr, lr=0.05), epochs=60)
    assert 0.35 <= accuracy(lr, Xc, yc) <= 0.65  # near chance: no line separates circles


def _hidden_rows(model):
    return [[w.data for w in n.w] + [n.b.data] for n in model.layers[0].neurons]


def test_zero_init_keeps_hidden_units_identical_c11():
    X, y = data.make_moons(60, noise=0.1, seed=1)
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:20]]  # unbalanced: w = 0 is not a stationary point
    X, y = X[keep], y[keep]
    for init, act in (("zeros", "sigmoid"), (0.3, "tanh"), (0.3, "relu")):
        model = nn.MLP(2, [4, 4, 1], activation=act, init=init)
        h = fit(model, X, y, optimizer=optim.SGD(model, lr=0.5), epochs=15)
        assert h.cost[0] != h.cost[-1]  # it did train
        for layer in model.layers[:-1]:
            rows = [[w.data for w in n.w] + [n.b.data] for n in layer.neurons]
            assert all(r == rows[0] for r in rows)  # every hidden unit still the same function
    model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=0)
    fit(model, X, y, optimizer=optim.SGD(model, lr=0.5), epochs=15)
    rows = _hidden_rows(model)
    assert len({tuple(r) for r in rows}) == 4


def test_minibatches_shuffle_reproducibly_and_history():
    X, y = data.make_moons(64, noise=0.2, seed=0)
    runs = []
    for _ in range(2):
        model = nn.MLP(2, [4, 1], seed=0)
        runs.append((fit(model, X, y, optimizer=optim.SGD(model, lr=0.1), epochs=3, batch_size=10, seed=5),
                     model.state_dict()))
    assert runs[0][0].cost == runs[1][0].cost and runs[0][1] == runs[1][1]
    model = nn.MLP(2, [4, 1], seed=0)
    other = fit(model, X, y, optimizer=optim.SGD(model, lr=0.1), epochs=3, batch_size=10, seed=6)
    assert other.cost != runs[0][0].cost
    h = runs[0][0]
    assert len(h) == h.epochs == 3 and len(h.accuracy) == 3 and all(0 <= a <= 1 for a in h.accuracy)
    assert "epoch" in h.table() and len(h.table(every=2).splitlines()) == 2 + 2


def test_validation_history_and_callback_stop():
    X, y = data.make_moons(80, noise=0.1, seed=0)
    Xtr, Xva, ytr, yva = data.train_test_split(X, y, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    seen = []
    h = fit(model, Xtr, ytr, optimizer=optim.Adam(model, lr=0.05), epochs=10, X_val=Xva, y_val=yva,
            callback=lambda e, hist: seen.append(e) or e == 4)
    assert seen == [1, 2, 3, 4] and len(h.val_cost) == 4 and len(h.val_accuracy) == 4
    assert h.val_accuracy[-1] == accuracy(model, Xva, yva)
    assert "val cost" in h.table()


def test_thousands_of_examples_full_batch():
    X, y = data.make_blobs(5000, centers=[[-2, 0], [2, 0]], seed=0)
    model = nn.LogisticRegression(2)
    h = fit(model, X, y, optimizer=optim.SGD(model, lr=1.0), epochs=2)
    assert h.cost[1] < h.cost[0] and accuracy(model, X, y) > 0.95


def test_divergence_names_epoch_and_step():
    X = np.array([[1e3], [-1e3], [2e3]])
    y = np.array([1e3, -1e3, 5e2])
    model = nn.MLP(1, [1], output_activation="linear", seed=0)
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+, step 1") as info:
        fit(model, X, y, loss="mse", optimizer=optim.SGD(model, lr=10.0), epochs=50)
    assert isinstance(info.value, FloatingPointError)
    # both rows equal, so the shuffle does not matter: step 1 is finite and sends w to ≈ −1e300,
    # then step 2's output (−1e300 · 1e150) overflows
    m2 = nn.MLP(1, [1], init=0.5)
    with pytest.raises(TrainingDivergedError, match="epoch 1, step 2: the cost became inf"):
        fit(m2, np.array([[1e150], [1e150]]), np.zeros(2), loss="mse", batch_size=1, epochs=1,
            optimizer=optim.SGD(m2, lr=1.0))


def test_losses_and_outputs():
    X, y = data.make_moons(60, noise=0.1, seed=0)
    for loss, out_act in [("bce", "sigmoid"), ("bce", "linear"), ("bce_with_logits", "linear"),
                          ("hinge", "linear"), ("mse", "sigmoid")]:
        model = nn.MLP(2, [8, 8, 1], output_activation=out_act, seed=0)
        h = fit(model, X, y, loss=loss, optimizer=optim.Adam(model, lr=0.05), epochs=40)
        assert h.cost[-1] < h.cost[0], loss
        assert accuracy(model, X, y) > 0.9, loss
    # hinge with ±1 labels trains exactly as with {0, 1} labels
    a, b = nn.MLP(2, [8, 1], seed=0), nn.MLP(2, [8, 1], seed=0)
    ha = fit(a, X, y, loss="hinge", optimizer=optim.Adam(a, lr=0.05), epochs=5)
    hb = fit(b, X, 2 * y - 1, loss="hinge", optimizer=optim.Adam(b, lr=0.05), epochs=5)
    assert a.state_dict() == b.state_dict() and ha.cost == hb.cost and ha.accuracy == hb.accuracy
    assert accuracy(b, X, 2 * y - 1) == accuracy(a, X, y)


def test_multiclass_cross_entropy_and_softmax_predictions():
    X, y = data.make_blobs(90, centers=[[0, 4], [4, -2], [-4, -2]], cluster_std=0.8, seed=0)
    model = nn.MLP(2, [8, 3], seed=0)
    h = fit(model, X, y, loss="cross_entropy", optimizer=optim.Adam(model, lr=0.05), epochs=20)
    assert h.cost[-1] < h.cost[0]
    P = predict_proba(model, X)
    assert P.shape == (90, 3) and np.allclose(P.sum(axis=1), 1)
    assert predict(model, X).tolist() == P.argmax(axis=1).tolist()
    assert accuracy(model, X, y) > 0.95 and h.accuracy[-1] > 0.9


def test_predict_threshold_c14():
    model = nn.LogisticRegression(1)
    model.w[0].data = 1.0
    X = np.array([[-2.0], [0.0], [0.1], [3.0]])
    p = predict_proba(model, X)
    assert p == pytest.approx(1 / (1 + np.exp(-X[:, 0])))
    assert predict(model, X).tolist() == [0, 1, 1, 1]          # p ≥ 0.5 → class 1 (p = 0.5 at x = 0)
    assert predict(model, X, threshold=0.9).tolist() == [0, 0, 0, 1]
    logit = nn.MLP(1, [1], output_activation="linear", init="zeros")
    logit.layers[0].neurons[0].w[0].data = 1.0
    assert predict_proba(logit, X) == pytest.approx(p)      # a logit output is read through σ


def test_bad_arguments():
    X, y = data.make_moons(20, seed=0)
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="engine"):
        fit(model, X, y, engine="gpu")
    with pytest.raises(ValueError, match="3 features"):
        fit(model, np.zeros((20, 3)), y)
    with pytest.raises(ValueError, match="one target per example"):
        fit(model, X, y[:5])
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]; y\[0\] = 3"):
        fit(model, X, np.full(20, 3.0))
    with pytest.raises(ValueError, match="unknown loss"):
        fit(model, X, y, loss="nope")
    with pytest.raises(ValueError, match="output activation is 'tanh'"):
        fit(nn.MLP(2, [3, 1], output_activation="tanh"), X, y, loss="bce")
    with pytest.raises(ValueError, match="not this model's parameters"):
        fit(model, X, y, optimizer=optim.SGD(nn.MLP(2, [3, 1]), lr=0.1))
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, X, y, batch_size=0)
    with pytest.raises(ValueError, match="finite"):
        fit(model, np.full((20, 2), np.nan), y)
    with pytest.raises(ValueError, match="X_val and y_val"):
        fit(model, X, y, X_val=X)


def test_progress_bar_when_asked(capsys):
    pytest.importorskip("tqdm")
    X, y = data.make_moons(20, seed=0)
    model = nn.LogisticRegression(2)
    fit(model, X, y, epochs=3, progress=True)
    assert "3/3" in capsys.readouterr().err
    fit(model, X, y, epochs=3)  # stderr is not a terminal here: quiet
    fit(model, X, y, epochs=3, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("script,args,expect", [
    ("logistic_regression.py", ["--epochs", "10", "--every", "3"], "test accuracy"),
    ("deep_net.py", ["--epochs", "30", "--every", "10"], "circles: MLP"),
])
def test_examples_run(script, args, expect):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert expect in proc.stdout and "cost" in proc.stdout and "accuracy" in proc.stdout
    assert "\n1 " in proc.stdout  # the per-epoch table starts at epoch 1
    assert train.__name__ == "autograd_lite.train"
