"""Figures for the course claims, computed with the engine and drawn with matplotlib.

Each claim has a *data* function (plain numbers from the engine: σ' by
backprop, curvature by ``grad(grad(J))``, gradient-descent steps by
``value_and_grad`` ...) and a *plot* function that draws them, returns the
matplotlib ``Figure`` and, given ``path``, saves it.  Only the plot functions
need matplotlib (the optional extra: ``pip install 'autograd-lite[plot]'``);
without it they raise `PlotDependencyError`.  Drawing uses the Agg canvas
directly (no pyplot, no global state, no display needed).

=====================================  ==============================  ========
figure                                 function                        claims
=====================================  ==============================  ========
σ and σ' with saturated regions        `plot_sigmoid`                  C9, C10
log loss vs squared error over w       `plot_cost_curvature`           C3
gradient-descent path on J(w, b)       `plot_gradient_descent`         C4
logistic regression vs MLP on moons    `plot_decision_boundaries`      C12
hidden weights, zero vs random init    `plot_init_symmetry`            C11
∂J/∂w per layer, sigmoid vs ReLU       `plot_layer_gradients`          C10
a training cost curve                  `plot_training_curve`           C4, C13
=====================================  ==============================  ========

>>> d = sigmoid_data([-10.0, 0.0, 10.0])
>>> [round(float(g), 6) for g in d["dsigmoid"]]     # σ'(z) by backprop: at most 1/4, at z = 0
[4.5e-05, 0.25, 4.5e-05]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite import engine
from autograd_lite.engine import Value
from autograd_lite.transforms import grad, value_and_grad

__all__ = [
    "PlotDependencyError", "sigmoid_data", "cost_curvature_data", "gradient_descent_data",
    "decision_boundary_data", "init_symmetry_data", "layer_gradient_data",
    "plot_sigmoid", "plot_cost_curvature", "plot_gradient_descent", "plot_decision_boundaries",
    "plot_init_symmetry", "plot_layer_gradients", "plot_training_curve", "save_all",
    "ONE_FEATURE_X", "ONE_FEATURE_Y", "SATURATION",
]

#: A one-feature, not linearly separable dataset for the C3/C4 cost pictures.
ONE_FEATURE_X = (-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0)
ONE_FEATURE_Y = (0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0)
#: σ'(z) below this fraction of its maximum (1/4) counts as saturated.
SATURATION = 0.1


class PlotDependencyError(ImportError):
    """matplotlib is missing: the figures need the optional extra ``[plot]``."""


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotDependencyError("the figures need matplotlib: pip install 'autograd-lite[plot]'") from None
    return Figure, FigureCanvasAgg


def _figure(*, figsize: tuple[float, float], ncols: int = 1, nrows: int = 1, **kw: Any):
    Figure, Canvas = _matplotlib()
    fig = Figure(figsize=figsize, layout="constrained")
    Canvas(fig)
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def _finish(fig, path: str | os.PathLike | None):
    if path is not None:
        path = Path(path)
        if path.parent and not path.parent.exists():
            raise FileNotFoundError(f"cannot save the figure: directory {path.parent} does not exist")
        fig.savefig(path, dpi=110)
    return fig


# ---------------------------------------------------------------------------
# C9, C10: the sigmoid and its derivative
# ---------------------------------------------------------------------------


def sigmoid_data(z: Sequence[float] | None = None) -> dict[str, np.ndarray]:
    """σ(z), σ'(z), tanh'(z) and relu'(z) by backprop at each z, and the saturated
    mask σ'(z) < `SATURATION` · 1/4."""
    zs = np.linspace(-8, 8, 321) if z is None else np.asarray(z, dtype=float)
    dsig, dtanh, drelu, sig = [], [], [], []
    for zi in zs.tolist():
        value, d = value_and_grad(engine.sigmoid)(zi)
        sig.append(value)
        dsig.append(d)
        dtanh.append(grad(engine.tanh)(zi))
        drelu.append(grad(engine.relu)(zi))
    dsig_a = np.array(dsig)
    return {"z": zs, "sigmoid": np.array(sig), "dsigmoid": dsig_a, "dtanh": np.array(dtanh),
            "drelu": np.array(drelu), "saturated": dsig_a < SATURATION * 0.25}


def plot_sigmoid(path: str | os.PathLike | None = None, z: Sequence[float] | None = None):
    """σ(z) and σ'(z) = σ(z)(1 − σ(z)) (max 1/4 at 0), tanh' and relu' for
    comparison, with the saturated regions (σ' < `SATURATION` · 1/4) shaded."""
    d = sigmoid_data(z)
    fig, ax = _figure(figsize=(7.5, 4.2))
    zs = d["z"]
    sat = d["saturated"]
    for lo, hi in _runs(zs, sat):
        ax.axvspan(lo, hi, color="0.9", zorder=0)
    ax.plot(zs, d["sigmoid"], label="σ(z)", color="tab:blue", lw=2)
    ax.plot(zs, d["dsigmoid"], label="σ'(z) by backprop", color="tab:red", lw=2)
    ax.plot(zs, d["dtanh"], label="tanh'(z)", color="tab:green", lw=1, ls="--")
    ax.plot(zs, d["drelu"], label="relu'(z)", color="tab:purple", lw=1, ls=":")
    i = int(np.argmax(d["dsigmoid"]))
    ax.annotate(f"max σ' = {d['dsigmoid'][i]:.4f} at z = {zs[i]:g}", (zs[i], d["dsigmoid"][i]),
                xytext=(1.2, 0.45), arrowprops={"arrowstyle": "->"})
    ax.set_xlabel("z")
    ax.set_title(f"σ saturates: shaded where σ'(z) < {SATURATION * 0.25:g} (C9, C10)")
    ax.set_ylim(-0.05, 1.1)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def _runs(xs: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """Intervals [lo, hi] of xs where mask is true."""
    runs, start = [], None
    for i, m in enumerate(mask.tolist()):
        if m and start is None:
            start = float(xs[i])
        if not m and start is not None:
            runs.append((start, float(xs[i - 1])))
            start = None
    if start is not None:
        runs.append((start, float(xs[-1])))
    return runs


# ---------------------------------------------------------------------------
# C3: log loss vs squared error
# ---------------------------------------------------------------------------


def _cost(kind: str, xs: Sequence[float], ys: Sequence[float], b: float = 0.0) -> Callable[[Any], Any]:
    """J(w) = mean over examples of the loss of σ(w·x + b): "logloss" or "mse"."""
    m = len(xs)

    def J(w):
        total = 0.0
        for x, y in zip(xs, ys):
            a = (w * x + b).sigmoid()
            if kind == "logloss":
                loss = -(y * a.log() + (1 - y) * (1 - a).log())
            else:
                loss = (a - y) ** 2
            total = total + loss
        return total / m

    return J


def cost_curvature_data(ws: Sequence[float] | None = None, xs: Sequence[float] = ONE_FEATURE_X,
                        ys: Sequence[float] = ONE_FEATURE_Y, b: float = 0.0) -> dict[str, np.ndarray]:
    """J(w) under the log loss and under squared error, and their curvature
    J''(w) computed as ``grad(grad(J))`` (second-order backprop)."""
    ws = np.linspace(-8, 8, 161) if ws is None else np.asarray(ws, dtype=float)
    out: dict[str, np.ndarray] = {"w": ws}
    for kind in ("logloss", "mse"):
        J = _cost(kind, xs, ys, b)
        d2 = grad(grad(J))
        out[kind] = np.array([J(Value(w)).data for w in ws.tolist()])
        out[f"{kind}_curvature"] = np.array([d2(w) for w in ws.tolist()])
    return out


def plot_cost_curvature(path: str | os.PathLike | None = None, ws: Sequence[float] | None = None):
    """J(w) of a one-feature logistic regression under log loss (convex: J'' > 0
    everywhere) and under squared error (J'' changes sign: not convex)."""
    d = cost_curvature_data(ws)
    fig, axes = _figure(figsize=(10, 4.2), ncols=2)
    for ax, kind, title in ((axes[0], "logloss", "log loss"), (axes[1], "mse", "squared error")):
        w, J, c = d["w"], d[kind], d[f"{kind}_curvature"]
        ax.plot(w, J, color="black", lw=0.8, label="J(w)")
        neg = c < 0
        ax.scatter(w[~neg], J[~neg], s=14, color="tab:blue", label="J''(w) > 0 (convex here)")
        if neg.any():
            ax.scatter(w[neg], J[neg], s=14, color="tab:red", label="J''(w) < 0 (concave here)")
        ax.set_xlabel("w")
        ax.set_title(f"{title}: min J'' = {c.min():+.3g}, max J'' = {c.max():+.3g}")
        ax.legend(loc="upper center", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("cost J(w) (b = 0)")
    fig.suptitle("Why not squared error: its cost is not convex in w (C3); J'' = grad(grad(J))")
    return _finish(fig, path)


# ---------------------------------------------------------------------------
# C4: gradient descent on J(w, b)
# ---------------------------------------------------------------------------


def _cost_wb(xs: Sequence[float], ys: Sequence[float]) -> Callable[[Any, Any], Any]:
    m = len(xs)

    def J(w, b):
        total = 0.0
        for x, y in zip(xs, ys):
            a = (w * x + b).sigmoid()
            total = total - (y * a.log() + (1 - y) * (1 - a).log())
        return total / m

    return J


def gradient_descent_data(start: tuple[float, float] = (-4.0, 3.0), lr: float = 1.0, steps: int = 60,
                          xs: Sequence[float] = ONE_FEATURE_X, ys: Sequence[float] = ONE_FEATURE_Y,
                          grid: int = 60) -> dict[str, np.ndarray]:
    """Gradient descent w := w − α ∂J/∂w, b := b − α ∂J/∂b on the log-loss cost,
    the gradients by backprop; plus J on a (w, b) grid for the contours."""
    J = _cost_wb(xs, ys)
    step = value_and_grad(J, argnums=(0, 1))
    w, b = start
    path, costs = [(w, b)], []
    for _ in range(steps):
        cost, (gw, gb) = step(w, b)
        costs.append(cost)
        w, b = w - lr * gw, b - lr * gb
        path.append((w, b))
    costs.append(step(w, b)[0])
    p = np.array(path)
    wlo, whi = min(p[:, 0].min(), -1) - 1, max(p[:, 0].max(), 1) + 1
    blo, bhi = min(p[:, 1].min(), -1) - 1, max(p[:, 1].max(), 1) + 1
    W, B = np.meshgrid(np.linspace(wlo, whi, grid), np.linspace(blo, bhi, grid))
    Jgrid = np.zeros_like(W)
    for x, y in zip(xs, ys):  # the engine's kernels work on numpy arrays too
        a = engine.sigmoid(W * x + B)
        Jgrid -= y * engine.log(np.clip(a, 1e-300, None)) + (1 - y) * engine.log(np.clip(1 - a, 1e-300, None))
    Jgrid /= len(xs)
    return {"path": p, "cost": np.array(costs), "W": W, "B": B, "J": Jgrid, "lr": np.array(lr)}


def plot_gradient_descent(path: str | os.PathLike | None = None, **kw: Any):
    """The path of gradient descent over the contours of J(w, b), and J per step."""
    d = gradient_descent_data(**kw)
    fig, (ax, ax2) = _figure(figsize=(10, 4.2), ncols=2, gridspec_kw={"width_ratios": [3, 2]})
    cs = ax.contour(d["W"], d["B"], d["J"], levels=25, cmap="viridis")
    ax.clabel(cs, fontsize=6)
    p = d["path"]
    ax.plot(p[:, 0], p[:, 1], "o-", color="tab:red", ms=3, lw=1, label=f"gradient descent, α = {float(d['lr']):g}")
    ax.plot(*p[0], "s", color="black", label="start")
    ax.plot(*p[-1], "*", color="gold", ms=14, mec="black", label="end")
    ax.set_xlabel("w")
    ax.set_ylabel("b")
    ax.legend(loc="best", fontsize=8)
    ax.set_title("w := w − α ∂J/∂w,  b := b − α ∂J/∂b (C4)")
    ax2.plot(d["cost"], color="tab:red")
    ax2.set_xlabel("step")
    ax2.set_ylabel("cost J(w, b)")
    ax2.set_title("the cost falls, then levels off")
    ax2.grid(alpha=0.3)
    return _finish(fig, path)


# ---------------------------------------------------------------------------
# C12: logistic regression vs an MLP on moons
# ---------------------------------------------------------------------------


def decision_boundary_data(epochs: int = 300, n_samples: int = 200, hidden: Sequence[int] = (16, 16),
                           seed: int = 0, grid: int = 80) -> dict[str, Any]:
    """Train logistic regression and an MLP on two moons; their cost curves,
    training accuracies and P(y = 1 | x) on a grid (for the boundary)."""
    from autograd_lite import data, nn, optim, train

    X, y = data.make_moons(n_samples, noise=0.15, seed=seed)
    X, y = np.asarray(X, float), np.asarray(y, float)
    models = {
        "logistic regression": nn.LogisticRegression(2),
        f"MLP 2→{'→'.join(map(str, hidden))}→1 (relu)": nn.MLP(2, [*hidden, 1], activation="relu",
                                                              output_activation="sigmoid", seed=seed),
    }
    xx, yy = np.meshgrid(np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, grid),
                         np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, grid))
    grid_X = np.c_[xx.ravel(), yy.ravel()]
    out: dict[str, Any] = {"X": X, "y": y, "xx": xx, "yy": yy, "models": {}}
    for name, model in models.items():
        opt = optim.Adam(model.parameters(), lr=0.05 if "MLP" not in name else 0.02)
        hist = train.fit(model, X, y, loss="bce", optimizer=opt, epochs=epochs, seed=seed, progress=False,
                         engine="vectorized")
        proba = np.asarray(train.predict_proba(model, grid_X), float).reshape(xx.shape)
        out["models"][name] = {"model": model, "cost": list(hist.cost),
                               "accuracy": float(train.accuracy(model, X, y)), "proba": proba}
    return out


def plot_decision_boundaries(path: str | os.PathLike | None = None, **kw: Any):
    """Cost curves and decision boundaries (P = 0.5) of logistic regression vs an MLP on moons."""
    d = decision_boundary_data(**kw)
    fig, axes = _figure(figsize=(13, 4.2), ncols=3)
    for name, r in d["models"].items():
        axes[0].plot(r["cost"], label=f"{name}: final {r['cost'][-1]:.3f}")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("cost J (mean log loss)")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    axes[0].set_title("training cost")
    axes[0].grid(alpha=0.3)
    X, y = d["X"], d["y"]
    for ax, (name, r) in zip(axes[1:], d["models"].items()):
        ax.contourf(d["xx"], d["yy"], r["proba"], levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
        ax.contour(d["xx"], d["yy"], r["proba"], levels=[0.5], colors="black")
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="black", s=14)
        ax.set_title(f"{name}\ntrain accuracy {r['accuracy']:.2f}", fontsize=9)
    fig.suptitle("A non-linear deep net fits what logistic regression cannot (C12)")
    return _finish(fig, path)


# ---------------------------------------------------------------------------
# C11: zero vs random initialisation
# ---------------------------------------------------------------------------


def init_symmetry_data(epochs: int = 100, hidden: int = 6, activation: str = "sigmoid", seed: int = 0,
                       n_samples: int = 100, inits: Sequence[Any] = ("zeros", 0.5, "random")) -> dict[Any, Any]:
    """Train the same MLP 2→hidden→1 on moons from each init (``"zeros"``, an
    equal number such as 0.5 for every weight, ``"random"``); the first layer's
    weight matrix (rows = hidden units, columns w1, w2, b) after training, the
    largest difference between its rows (``row_spread``) and how far it moved."""
    from autograd_lite import data, nn, optim, train

    X, y = data.make_moons(n_samples, noise=0.15, seed=seed)
    out: dict[Any, Any] = {}
    for init in inits:
        model = nn.MLP(2, [hidden, 1], activation=activation, output_activation="sigmoid", init=init, seed=seed)
        hist = train.fit(model, np.asarray(X, float), np.asarray(y, float), loss="bce",
                         optimizer=optim.SGD(model.parameters(), lr=0.5), epochs=epochs, seed=seed,
                         progress=False, engine="vectorized")
        layer = model.layers[0]
        W = np.array([[p.data for p in n.w] + [n.b.data] for n in layer.neurons])
        out[init] = {"W": W, "row_spread": float(np.ptp(W, axis=0).max()),
                     "moved": float(np.abs(W).max()), "cost": list(hist.cost),
                     "accuracy": float(train.accuracy(model, np.asarray(X, float), np.asarray(y, float)))}
    return out


def plot_init_symmetry(path: str | os.PathLike | None = None, **kw: Any):
    """Heat maps of the hidden layer's weights after training from zeros (all rows
    identical: the units stay clones) and from random values (rows differ)."""
    d = init_symmetry_data(**kw)
    fig, axes = _figure(figsize=(4.5 * len(d), 4.2), ncols=len(d))
    axes = np.atleast_1d(axes)
    vmax = max(np.abs(r["W"]).max() for r in d.values()) or 1.0
    for ax, init in zip(axes, d):
        W = d[init]["W"]
        im = ax.imshow(W, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
        for (i, j), v in np.ndenumerate(W):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(W.shape[1]), [*(f"w{k + 1}" for k in range(W.shape[1] - 1)), "b"])
        ax.set_yticks(range(W.shape[0]), [f"unit {i + 1}" for i in range(W.shape[0])])
        ax.set_title(f"init={init!r}: max row difference {d[init]['row_spread']:.2g}\n"
                     f"train accuracy {d[init]['accuracy']:.2f}", fontsize=9)
    fig.colorbar(im, ax=axes, shrink=0.8)
    fig.suptitle("Hidden-layer weights after training (C11): equal starts stay equal, random starts differ")
    return _finish(fig, path)


# ---------------------------------------------------------------------------
# C10: gradient magnitude per layer
# ---------------------------------------------------------------------------


def layer_gradient_data(depth: int = 8, width: int = 8, n_samples: int = 32, seed: int = 0,
                        activations: Sequence[str] = ("sigmoid", "relu")) -> dict[str, np.ndarray]:
    """Mean |∂J/∂w| over each layer's weights of a deep MLP (``depth`` hidden layers of
    ``width`` units, random init), by one backward pass of the mean log loss on moons."""
    from autograd_lite import data, nn

    X, y = data.make_moons(n_samples, noise=0.1, seed=seed)
    X, y = np.asarray(X, float).tolist(), np.asarray(y, float).tolist()
    out: dict[str, np.ndarray] = {}
    for act in activations:
        model = nn.MLP(2, [width] * depth + [1], activation=act, output_activation="sigmoid", seed=seed)
        cost: Any = 0.0
        for xi, yi in zip(X, y):
            a = model(xi)
            a = a[0] if isinstance(a, list) else a
            cost = cost - (yi * a.log() + (1 - yi) * (1 - a).log())
        cost = cost / len(X)
        model.zero_grad()
        cost.backward()
        per_layer = [float(np.mean([abs(p.grad) for n in layer.neurons for p in n.w])) for layer in model.layers]
        out[act] = np.array(per_layer)
    return out


def plot_layer_gradients(path: str | os.PathLike | None = None, **kw: Any):
    """Mean |∂J/∂w| per layer, log scale: it shrinks towards the input layers of a
    sigmoid net (each layer multiplies by σ' ≤ 1/4) and does not for ReLU."""
    d = layer_gradient_data(**kw)
    fig, ax = _figure(figsize=(7.5, 4.2))
    for act, g in d.items():
        ax.plot(range(1, len(g) + 1), g, "o-", label=f"{act}: first/last = {g[0] / g[-1]:.2g}")
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("mean |∂J/∂w| in the layer")
    ax.set_title("Vanishing gradients in a deep sigmoid net (C10)")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return _finish(fig, path)


# ---------------------------------------------------------------------------
# training curves
# ---------------------------------------------------------------------------


def plot_training_curve(history: Any, path: str | os.PathLike | None = None, title: str | None = None):
    """The cost per epoch of a `autograd_lite.train.fit` history (and its accuracy, if recorded)."""
    cost = list(getattr(history, "cost", history))
    acc = list(getattr(history, "accuracy", []) or [])
    if not cost:
        raise ValueError("plot_training_curve: the history has no cost values")
    fig, ax = _figure(figsize=(7, 4))
    ax.plot(range(1, len(cost) + 1), cost, color="tab:red", label="cost J (mean loss)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost")
    ax.grid(alpha=0.3)
    if acc:
        ax2 = ax.twinx()
        ax2.plot(range(1, len(acc) + 1), acc, color="tab:blue", label="training accuracy")
        ax2.set_ylabel("accuracy")
        ax2.set_ylim(0, 1.05)
        ax2.legend(loc="center right")
    ax.legend(loc="upper right")
    ax.set_title(title or "training cost")
    return _finish(fig, path)


# ---------------------------------------------------------------------------


def save_all(out_dir: str | os.PathLike, fast: bool = False, trained: dict[str, Any] | None = None,
             progress: Callable[[str], Any] | None = None) -> list[Path]:
    """Write every figure into ``out_dir`` as PNG; returns the paths written."""
    _matplotlib()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Callable[[Path], Any]]] = [
        ("sigmoid_saturation.png", lambda p: plot_sigmoid(p)),
        ("cost_logloss_vs_squared_error.png",
         lambda p: plot_cost_curvature(p, ws=np.linspace(-8, 8, 81 if fast else 161))),
        ("gradient_descent_path.png", lambda p: plot_gradient_descent(p, steps=30 if fast else 60)),
        ("logreg_vs_mlp_moons.png", lambda p: plot_decision_boundaries(p, epochs=60 if fast else 300,
                                                                       grid=40 if fast else 80)),
        ("init_zero_vs_random.png", lambda p: plot_init_symmetry(p, epochs=30 if fast else 100)),
        ("layer_gradients_sigmoid_vs_relu.png", lambda p: plot_layer_gradients(p, n_samples=8 if fast else 32)),
    ]
    for name, (_model, hist) in (trained or {}).items():
        jobs.append((f"training_curve_{name}.png",
                     lambda p, h=hist, n=name: plot_training_curve(h, p, title=f"training cost: {n}")))
    written = []
    for name, job in jobs:
        path = out / name
        fig = job(path)
        fig.clear()
        written.append(path)
        if progress is not None:
            progress(f"  drew {path}")
    return written

