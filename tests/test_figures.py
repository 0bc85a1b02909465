"""Figures: each writes a PNG, and the numbers each one plots are the claim's numbers."""

from __future__ import annotations

import math
import struct
import sys

import numpy as np
import pytest

from autograd_lite import figures as F

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG
    return struct.unpack(">II", data[16:24])


def test_sigmoid_data_c9_c10():
    d = F.sigmoid_data(np.linspace(-10, 10, 401))
    z, s, ds = d["z"], d["sigmoid"], d["dsigmoid"]
    assert np.allclose(ds, s * (1 - s), atol=1e-15)               # σ' = σ(1 − σ), by backprop
    assert ds.max() == 0.25 and z[np.argmax(ds)] == 0.0           # at most 1/4, at z = 0
    assert np.all((s > 0) & (s < 1))
    assert ds[0] < 1e-4 and ds[-1] < 1e-4                         # saturates for large |z|
    assert d["saturated"][0] and not d["saturated"][200]
    assert np.allclose(d["dtanh"], 1 - np.tanh(z) ** 2)
    assert np.all(d["drelu"][z > 0] == 1.0)                       # relu' does not vanish for z > 0


def test_cost_curvature_c3():
    d = F.cost_curvature_data(np.linspace(-8, 8, 81))
    assert np.all(d["logloss_curvature"] > 0)                     # log loss: convex in w
    assert d["mse_curvature"].min() < 0 < d["mse_curvature"].max()  # squared error: not convex
    # J'' by second-order backprop equals the closed form (1/m) Σ a(1 − a) x² for the log loss
    w = d["w"][:, None]
    x = np.array(F.ONE_FEATURE_X)[None, :]
    a = 1 / (1 + np.exp(-w * x))
    assert np.allclose(d["logloss_curvature"], (a * (1 - a) * x ** 2).mean(axis=1), rtol=1e-9)


def test_gradient_descent_c4():
    d = F.gradient_descent_data(steps=200, lr=1.0)
    assert np.all(np.diff(d["cost"]) <= 1e-12)                  # the cost never rises with a small α
    assert d["cost"][-1] < 0.5 * d["cost"][0]
    # it converges to where ∂J/∂w = ∂J/∂b = 0 (checked against a direct numpy gradient)
    w, b = d["path"][-1]
    x, y = np.array(F.ONE_FEATURE_X), np.array(F.ONE_FEATURE_Y)
    a = 1 / (1 + np.exp(-(w * x + b)))
    assert abs(np.mean((a - y) * x)) < 1e-3 and abs(np.mean(a - y)) < 1e-3
    assert d["J"].min() == pytest.approx(d["cost"][-1], abs=0.05)


def test_init_symmetry_c11():
    d = F.init_symmetry_data(epochs=15, hidden=4)
    assert d["zeros"]["row_spread"] < 1e-12
    assert d[0.5]["row_spread"] < 1e-12 and d[0.5]["moved"] != 0.5   # equal rows that did move
    assert d["random"]["row_spread"] > 0.1


def test_layer_gradients_c10():
    d = F.layer_gradient_data(depth=6, width=6, n_samples=8)
    sig, relu = d["sigmoid"], d["relu"]
    assert len(sig) == len(relu) == 7
    assert sig[0] / sig[-1] < 1e-2                               # vanishes towards the input
    assert relu[0] / relu[-1] > 10 * sig[0] / sig[-1]


def test_decision_boundaries_c12():
    d = F.decision_boundary_data(epochs=150, n_samples=120, hidden=(8, 8), grid=20)
    (lr_name, lr), (mlp_name, mlp) = d["models"].items()
    assert "logistic" in lr_name and "MLP" in mlp_name
    assert mlp["accuracy"] > 0.95 > lr["accuracy"]
    assert mlp["cost"][-1] < lr["cost"][-1]
    assert d["models"][lr_name]["proba"].shape == (20, 20)


@pytest.mark.parametrize("plot, kw", [
    (F.plot_sigmoid, {}),
    (F.plot_cost_curvature, {"ws": np.linspace(-6, 6, 25)}),
    (F.plot_gradient_descent, {"steps": 10, "grid": 20}),
    (F.plot_decision_boundaries, {"epochs": 10, "n_samples": 40, "grid": 15, "hidden": (4,)}),
    (F.plot_init_symmetry, {"epochs": 3, "hidden": 3, "n_samples": 30}),
    (F.plot_layer_gradients, {"depth": 3, "width": 3, "n_samples": 4}),
])
def test_every_figure_writes_a_png(plot, kw, tmp_path):
    path = tmp_path / "f.png"
    fig = plot(path, **kw)
    w, h = png_size(path)
    assert w > 300 and h > 200
    assert fig.axes  # a matplotlib Figure


def test_training_curve_and_save_all(tmp_path):
    from autograd_lite.train import History

    fig = F.plot_training_curve(History(cost=[0.7, 0.5, 0.4], accuracy=[0.5, 0.8, 0.9]), tmp_path / "c.png")
    assert png_size(tmp_path / "c.png")[0] > 300 and len(fig.axes) == 2
    with pytest.raises(ValueError, match="no cost"):
        F.plot_training_curve(History())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        F.plot_sigmoid(tmp_path / "missing" / "s.png")


def test_without_matplotlib_a_clear_install_message(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(F.PlotDependencyError, match=r"pip install 'autograd-lite\[plot\]'"):
        F.plot_sigmoid()
    assert issubclass(F.PlotDependencyError, ImportError)
    assert math.isclose(F.sigmoid_data([0.0])["dsigmoid"][0], 0.25)  # the data functions still work
