"""Figures for the course claims, computed with the engine and drawn with matplotlib.

Each claim has a *data* function (plain numbers from the engine: σ' by
backprop, curvature by ``grad(grad(J))``, gradient-descent steps by
``value_and_grad`` ...) and a *plot* function that draws them, returns the
matplotlib ``Figure`` and, given ``path``, saves it (at `DPI`, with the
slide-sized text of `STYLE`).  Given ``ax=`` (``axes=`` for a multi-panel figure)
it draws into those axes instead and returns them, so figures compose in a
notebook; nothing calls ``plt.show()``.  Only the plot functions need matplotlib
(the optional extra: ``pip install 'autograd-lite[plot]'``); without it they raise
`PlotDependencyError`.  Drawing uses the Agg canvas directly (no pyplot, no global
state, no display needed), and the returned Figure shows itself inline in Jupyter
(``_repr_png_``) without ``%matplotlib inline``.  Classes and series use the
Okabe–Ito palette (`SAFE`) plus distinct markers or line styles.

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

import functools
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:
    import numpy as np
except ImportError:  # the scalar engine runs without numpy; this module does not
    raise ImportError("autograd_lite.figures needs numpy, which is not installed: "
                      "pip install numpy") from None

from autograd_lite import engine
from autograd_lite.engine import Value
from autograd_lite.transforms import grad, value_and_grad

__all__ = [
    "PlotDependencyError", "sigmoid_data", "cost_curvature_data", "gradient_descent_data",
    "decision_boundary_data", "init_symmetry_data", "layer_gradient_data",
    "plot_sigmoid", "plot_cost_curvature", "plot_gradient_descent", "plot_decision_boundaries",
    "plot_init_symmetry", "plot_layer_gradients", "plot_training_curve", "save_all",
    "ONE_FEATURE_X", "ONE_FEATURE_Y", "SATURATION", "SAFE", "DPI", "STYLE", "TRAINED_TITLES",
]

#: A one-feature, not linearly separable dataset for the C3/C4 cost pictures.
ONE_FEATURE_X = (-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0)
ONE_FEATURE_Y = (0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0)
#: σ'(z) below this fraction of its maximum (1/4) counts as saturated.
SATURATION = 0.1


#: Okabe–Ito colours: told apart by colour-blind readers too.
SAFE = {"orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
        "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#666666"}
#: Saved figures: this many dots per inch (a 10-inch figure is 1500 px wide) ...
DPI = 150
#: ... and text this large, so that a figure pasted on a slide stays readable.
STYLE = {"font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "xtick.labelsize": 12,
         "ytick.labelsize": 12, "legend.fontsize": 12, "figure.titlesize": 15, "font.family": "sans-serif"}
#: Words for the demo's trained models (``save_all(trained=...)`` keys), used in titles.
TRAINED_TITLES = {"logreg_cancer": "logistic regression on breast cancer",
                  "logreg_moons": "logistic regression on two moons",
                  "mlp_moons": "MLP 2→16→16→1 (ReLU) on two moons"}


class PlotDependencyError(ImportError):
    """matplotlib is missing: the figures need the optional extra ``[plot]``."""


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotDependencyError("the figures need matplotlib: pip install 'autograd-lite[plot]'") from None
    return _inline_figure_class(Figure), FigureCanvasAgg


_INLINE: dict[str, type] = {}


def _inline_figure_class(Figure: type) -> type:
    """A matplotlib ``Figure`` that Jupyter shows inline by itself (``_repr_png_``):
    no pyplot, no ``%matplotlib inline``, no ``plt.show()``."""
    if "cls" not in _INLINE:
        class CourseFigure(Figure):
            def _repr_png_(self) -> bytes:
                buf = io.BytesIO()
                self.savefig(buf, format="png", dpi=100)
                return buf.getvalue()

        _INLINE["cls"] = CourseFigure
    return _INLINE["cls"]


def _plot(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Draw with the slide-sized `STYLE` (and a clear error without matplotlib)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kw: Any) -> Any:
        _matplotlib()
        import matplotlib

        # matplotlib's stubs key rc by a Literal of every setting name; STYLE's keys are such names
        with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
            return fn(*args, **kw)

    return wrapper


def _figure(*, figsize: tuple[float, float], ncols: int = 1, nrows: int = 1, **kw: Any):
    Figure, Canvas = _matplotlib()
    fig = Figure(figsize=figsize, layout="constrained")
    Canvas(fig)
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def _panels(given: Any, n: int, where: str, figsize: tuple[float, float], **kw: Any) -> tuple[Any, list, bool]:
    """``(figure, n axes, own)``: the caller's axes (``ax=``/``axes=``) or a new figure's."""
    if given is None:
        fig, axes = _figure(figsize=figsize, ncols=n, **kw)
        return fig, list(np.atleast_1d(axes).ravel()), True
    axes = [given] if hasattr(given, "plot") else list(np.ravel(np.asarray(given, dtype=object)))
    if len(axes) != n or not all(hasattr(a, "plot") for a in axes):
        raise ValueError(f"{where} draws {n} panel{'s' * (n > 1)}: pass {'ax=' if n == 1 else 'axes='} "
                         f"{'one matplotlib Axes' if n == 1 else f'a sequence of {n} matplotlib Axes'}, "
                         f"got {given!r}")
    return axes[0].figure, axes, False


def _finish(fig, path: str | os.PathLike | None, axes: list | None = None, own: bool = True):
    """Save to ``path`` (if given); return the new Figure, or the caller's axes."""
    if path is not None:
        path = Path(path)
        if path.parent and not path.parent.exists():
            raise FileNotFoundError(f"cannot save the figure: directory {path.parent} does not exist")
        fig.savefig(path, dpi=DPI)
    if own or axes is None:
        return fig
    return axes[0] if len(axes) == 1 else axes


def _legend_below(ax, ncol: int = 2, **kw: Any):
    """A legend under the axes (outside the data area: it covers nothing)."""
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, frameon=False, **kw)


def _legend_right(ax, **kw: Any):
    """A legend right of the axes (outside the data area: it covers nothing)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, **kw)


def _integer_ticks(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _shown(x: float, digits: int = 2) -> str:
    """``x`` to ``digits`` decimals, never ``-0.00``."""
    s = f"{x:.{digits}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def _text_color(rgba: Sequence[float]) -> str:
    """Black or white, whichever contrasts more with the background ``rgba`` (WCAG luminance)."""
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * lin(rgba[0]) + 0.7152 * lin(rgba[1]) + 0.0722 * lin(rgba[2])
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


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


@_plot
def plot_sigmoid(path: str | os.PathLike | None = None, z: Sequence[float] | None = None, *, ax: Any = None):
    """σ(z) and σ'(z) = σ(z)(1 − σ(z)) (max 1/4 at 0), tanh' and relu' for
    comparison, with the saturated regions (σ' < `SATURATION` · 1/4) shaded.
    Draws into ``ax`` if given (and returns it), else returns a new Figure."""
    d = sigmoid_data(z)
    fig, axes, own = _panels(ax, 1, "plot_sigmoid", figsize=(10, 5.6))
    ax = axes[0]
    zs = d["z"]
    sat = d["saturated"]
    for k, (lo, hi) in enumerate(_runs(zs, sat)):
        ax.axvspan(lo, hi, color="0.9", zorder=0, label=_saturation_text("saturated: σ'") if k == 0 else None)
    ax.plot(zs, d["sigmoid"], label="σ(z)", color=SAFE["blue"], lw=2.5)
    ax.plot(zs, d["dsigmoid"], label="σ'(z) by backprop", color=SAFE["vermillion"], lw=2.5)
    ax.plot(zs, d["dtanh"], label="tanh'(z)", color=SAFE["green"], lw=1.5, ls="--")
    ax.plot(zs, d["drelu"], label="relu'(z)", color=SAFE["purple"], lw=1.5, ls=":")
    i = int(np.argmax(d["dsigmoid"]))
    ax.annotate(f"max σ' = {d['dsigmoid'][i]:.4f} at z = {zs[i]:g}", (zs[i], d["dsigmoid"][i]),
                xytext=(1.2, 0.45), arrowprops={"arrowstyle": "->"})
    ax.set_xlabel("z")
    ax.set_ylabel("value of the function")
    ax.set_title(_saturation_text("σ saturates: shaded where σ'(z)") + " (C9, C10)")
    ax.set_ylim(-0.05, 1.1)
    _legend_right(ax)
    ax.grid(alpha=0.3)
    return _finish(fig, path, axes, own)


def _saturation_text(start: str) -> str:
    """``start`` < the saturation threshold, in words, from `SATURATION` itself
    (the number the shading is computed with): "… < 0.025 (10% of its max 1/4)"."""
    return f"{start} < {SATURATION * 0.25:g} ({SATURATION * 100:g}% of its max 1/4)"


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
    w_grid = np.linspace(-8, 8, 161) if ws is None else np.asarray(ws, dtype=float)
    out: dict[str, np.ndarray] = {"w": w_grid}
    for kind in ("logloss", "mse"):
        J = _cost(kind, xs, ys, b)
        d2 = grad(grad(J))
        out[kind] = np.array([J(Value(w)).data for w in w_grid.tolist()])
        out[f"{kind}_curvature"] = np.array([d2(w) for w in w_grid.tolist()])
    return out


@_plot
def plot_cost_curvature(path: str | os.PathLike | None = None, ws: Sequence[float] | None = None, *,
                        axes: Any = None):
    """J(w) of a one-feature logistic regression under log loss (convex: J'' > 0
    everywhere) and under squared error (J'' changes sign: not convex).
    Draws into two ``axes`` if given (and returns them), else returns a new Figure."""
    d = cost_curvature_data(ws)
    fig, panels, own = _panels(axes, 2, "plot_cost_curvature", figsize=(12, 5.6))
    for ax, kind, title in ((panels[0], "logloss", "log loss"), (panels[1], "mse", "squared error")):
        w, J, c = d["w"], d[kind], d[f"{kind}_curvature"]
        ax.plot(w, J, color="black", lw=0.8, label="J(w)")
        neg = c < 0
        ax.scatter(w[~neg], J[~neg], s=18, color=SAFE["blue"], marker="o", label="J''(w) > 0 (convex here)")
        if neg.any():
            ax.scatter(w[neg], J[neg], s=22, color=SAFE["vermillion"], marker="^", label="J''(w) < 0 (concave here)")
        ax.set_xlabel("weight w")
        ax.set_ylabel(f"cost J(w), {title} (b = 0)")
        ax.set_title(f"{title}: min J'' = {c.min():+.3g}, max J'' = {c.max():+.3g}")
        _legend_below(ax, ncol=1)
        ax.grid(alpha=0.3)
    if own:
        fig.suptitle("Why not squared error: its cost is not convex in w (C3); J'' = grad(grad(J))")
    return _finish(fig, path, panels, own)


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


@_plot
def plot_gradient_descent(path: str | os.PathLike | None = None, *, axes: Any = None, **kw: Any):
    """The path of gradient descent over the contours of J(w, b) (a colour bar gives
    their values), and J per step.  Draws into two ``axes`` if given, else a new Figure."""
    d = gradient_descent_data(**kw)
    fig, panels, own = _panels(axes, 2, "plot_gradient_descent", figsize=(13, 5.8),
                               gridspec_kw={"width_ratios": [3, 2]})
    ax, ax2 = panels
    cs = ax.contour(d["W"], d["B"], d["J"], levels=15, cmap="viridis")
    bar = fig.colorbar(cs, ax=ax, pad=0.02)
    bar.set_label("cost J(w, b)")
    p = d["path"]
    ax.plot(p[:, 0], p[:, 1], "o-", color=SAFE["vermillion"], ms=4, lw=1.5,
            label=f"gradient descent, α = {float(d['lr']):g}")
    ax.plot(*p[0], "s", color="black", ms=9, label="start")
    ax.plot(*p[-1], "*", color=SAFE["yellow"], ms=18, mec="black", label="end")
    ax.set_xlabel("weight w")
    ax.set_ylabel("bias b")
    _legend_below(ax, ncol=3)
    ax.set_title("w := w − α ∂J/∂w,  b := b − α ∂J/∂b (C4)")
    ax2.plot(range(len(d["cost"])), d["cost"], color=SAFE["vermillion"], lw=2)
    ax2.set_xlabel("step")
    ax2.set_ylabel("cost J(w, b)")
    _integer_ticks(ax2.xaxis)
    ax2.set_title("the cost falls, then levels off")
    ax2.grid(alpha=0.3)
    return _finish(fig, path, panels, own)


# ---------------------------------------------------------------------------
# C12: logistic regression vs an MLP on moons
# ---------------------------------------------------------------------------


def decision_boundary_data(epochs: int = 300, n_samples: int = 200, hidden: Sequence[int] = (16, 16),
                           seed: int = 0, grid: int = 80, trained: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train logistic regression and an MLP on two moons; their cost curves,
    training accuracies and P(y = 1 | x) on a grid (for the boundary).

    ``trained`` skips the training and uses models trained elsewhere (the demo's run):
    ``{"X": X_train, "y": y_train, "X_test": …, "y_test": …, "models": {name: (model, history)}}``
    (the test split is optional); each model's accuracies are then computed on those sets."""
    from autograd_lite import data, nn, optim, train

    if trained is not None:
        X, y = np.asarray(trained["X"], float), np.asarray(trained["y"], float)
        runs = {name: (model, list(hist.cost)) for name, (model, hist) in trained["models"].items()}
    else:
        X, y = data.make_moons(n_samples, noise=0.15, seed=seed)
        X, y = np.asarray(X, float), np.asarray(y, float)
        models = {
            "logistic regression": nn.LogisticRegression(2),
            f"MLP 2→{'→'.join(map(str, hidden))}→1 (relu)": nn.MLP(2, [*hidden, 1], activation="relu",
                                                                  output_activation="sigmoid", seed=seed),
        }
        runs = {}
        for name, model in models.items():
            opt = optim.Adam(model.parameters(), lr=0.05 if "MLP" not in name else 0.02)
            hist = train.fit(model, X, y, loss="bce", optimizer=opt, epochs=epochs, seed=seed, progress=False,
                             engine="vectorized")
            runs[name] = (model, list(hist.cost))
    given = trained or {}
    test = given.get("X_test")
    xx, yy = np.meshgrid(np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, grid),
                         np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, grid))
    grid_X = np.c_[xx.ravel(), yy.ravel()]
    out: dict[str, Any] = {"X": X, "y": y, "xx": xx, "yy": yy, "models": {}}
    for name, (model, cost) in runs.items():
        proba = np.asarray(train.predict_proba(model, grid_X), float).reshape(xx.shape)
        out["models"][name] = {
            "model": model, "cost": cost, "accuracy": float(train.accuracy(model, X, y)), "proba": proba,
            "test_accuracy": None if test is None else float(train.accuracy(model, test, given["y_test"]))}
    return out


@_plot
def plot_decision_boundaries(path: str | os.PathLike | None = None, *, axes: Any = None, **kw: Any):
    """Cost curves and decision regions (boundary P(y = 1 | x) = 0.5) of logistic regression
    vs an MLP on two moons: classes as orange circles and blue triangles (Okabe–Ito,
    colour-blind safe), predicted regions tinted the same way.  ``trained=`` draws
    models trained elsewhere (the demo's), so the figure shows the numbers it printed.
    Draws into three ``axes`` if given, else a new Figure."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    d = decision_boundary_data(**kw)
    fig, panels, own = _panels(axes, 3, "plot_decision_boundaries", figsize=(16, 6.2))
    colors = (SAFE["vermillion"], SAFE["blue"])
    for (name, r), color, ls in zip(d["models"].items(), colors, ("-", "--")):
        epochs = range(1, len(r["cost"]) + 1)
        panels[0].plot(epochs, r["cost"], color=color, ls=ls, lw=2, label=f"{name}: final {r['cost'][-1]:.3f}")
    panels[0].set_xlabel("epoch")
    panels[0].set_ylabel("cost J (mean log loss)")
    panels[0].set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")  # 0.3, not 3×10⁻¹
    panels[0].yaxis.set_major_formatter(plain)
    panels[0].yaxis.set_minor_formatter(plain)
    _integer_ticks(panels[0].xaxis)
    _legend_below(panels[0], ncol=1)
    panels[0].set_title("training cost")
    panels[0].grid(alpha=0.3)
    X, y = d["X"], d["y"]
    regions = ListedColormap(["#F7DDA4", "#B9D7EE"])  # light orange: class 0, light blue: class 1
    from autograd_lite.train import THRESHOLD, classify

    for ax, (name, r) in zip(panels[1:], d["models"].items()):
        # the regions are the classes predict gives (p = THRESHOLD exactly is class 1), not bands of p
        ax.contourf(d["xx"], d["yy"], classify(r["proba"]), levels=[-0.5, 0.5, 1.5], cmap=regions)
        ax.contour(d["xx"], d["yy"], r["proba"], levels=[THRESHOLD], colors="black", linewidths=2)
        ax.scatter(*X[y == 0].T, marker="o", s=36, color=SAFE["orange"], edgecolors="black", linewidths=0.6)
        ax.scatter(*X[y == 1].T, marker="^", s=44, color=SAFE["blue"], edgecolors="black", linewidths=0.6)
        acc = f"train accuracy {r['accuracy']:.3f}"
        if r.get("test_accuracy") is not None:
            acc += f", test {r['test_accuracy']:.3f}"
        ax.set_title(f"{name}\n{acc}")
        ax.set_xlabel("feature x1")
        ax.set_ylabel("feature x2")
        handles = [
            ax.scatter([], [], marker="o", s=36, color=SAFE["orange"], edgecolors="black", label="class 0"),
            ax.scatter([], [], marker="^", s=44, color=SAFE["blue"], edgecolors="black", label="class 1"),
            Patch(facecolor="#F7DDA4", edgecolor="0.5", label="predicted 0"),
            Patch(facecolor="#B9D7EE", edgecolor="0.5", label="predicted 1"),
        ]
        ax.plot([], [], color="black", lw=2, label=f"boundary P = {THRESHOLD:g}")
        _legend_below(ax, ncol=3, handles=[*handles, ax.get_lines()[-1]])
    if own:
        fig.suptitle("A non-linear deep net fits what logistic regression cannot (C12)")
    return _finish(fig, path, panels, own)


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


def _init_title(init: Any) -> str:
    if init == "zeros":
        return "every weight starts at 0"
    if init == "random":
        return "random start (Glorot)"
    return f"every weight starts at {init:g}"


@_plot
def plot_init_symmetry(path: str | os.PathLike | None = None, *, axes: Any = None, **kw: Any):
    """Heat maps of the hidden layer's weights after training from equal starts (all rows
    identical: the units stay clones) and from random values (rows differ).  Cell numbers
    are black or white by the cell's luminance; a row difference below 1e-12 (rounding)
    reads 0.  Draws into one axes per init if ``axes`` is given, else a new Figure."""
    d = init_symmetry_data(**kw)
    fig, panels, own = _panels(axes, len(d), "plot_init_symmetry", figsize=(5.2 * len(d), 5.6))
    vmax = max(np.abs(r["W"]).max() for r in d.values()) or 1.0
    im = None
    for ax, init in zip(panels, d):
        W = d[init]["W"]
        im = ax.imshow(W, cmap="PuOr_r", vmin=-vmax, vmax=vmax, aspect="auto")
        for (i, j), v in np.ndenumerate(W):
            ax.text(j, i, _shown(v), ha="center", va="center", fontsize=12, color=_text_color(im.cmap(im.norm(v))))
        ax.set_xticks(range(W.shape[1]), [*(f"w{k + 1}" for k in range(W.shape[1] - 1)), "b"])
        ax.set_yticks(range(W.shape[0]), [f"unit {i + 1}" for i in range(W.shape[0])])
        ax.set_xlabel("weight from input x1, x2 and bias b")
        ax.set_ylabel("hidden unit")
        spread = d[init]["row_spread"]
        rows = ("rows identical (differ by 0)" if spread < 1e-12 else f"rows differ by up to {spread:.2g}")
        ax.set_title(f"{_init_title(init)}\n{rows}; train accuracy {d[init]['accuracy']:.2f}", fontsize=12)
    bar = fig.colorbar(im, ax=panels, shrink=0.8)
    bar.set_label("weight after training")
    if own:
        fig.suptitle("Hidden-layer weights after training (C11): equal starts stay equal, random starts differ")
    return _finish(fig, path, panels, own)


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


@_plot
def plot_layer_gradients(path: str | os.PathLike | None = None, *, ax: Any = None, **kw: Any):
    """Mean |∂J/∂w| per layer, log scale: it shrinks towards the input layers of a
    sigmoid net (each layer multiplies by σ' ≤ 1/4) and does not for ReLU.
    Draws into ``ax`` if given (and returns it), else returns a new Figure."""
    d = layer_gradient_data(**kw)
    fig, axes, own = _panels(ax, 1, "plot_layer_gradients", figsize=(10, 5.6))
    ax = axes[0]
    for (act, g), color, marker in zip(d.items(), (SAFE["vermillion"], SAFE["blue"], SAFE["green"]), "o^s"):
        ax.plot(range(1, len(g) + 1), g, marker=marker, color=color, lw=2,
                label=f"{act}: first/last = {g[0] / g[-1]:.2g}")
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("mean |∂J/∂w| in the layer")
    _integer_ticks(ax.xaxis)
    ax.set_title("Vanishing gradients in a deep sigmoid net (C10)")
    _legend_right(ax)
    ax.grid(alpha=0.3, which="both")
    return _finish(fig, path, axes, own)


# ---------------------------------------------------------------------------
# training curves
# ---------------------------------------------------------------------------


@_plot
def plot_training_curve(history: Any, path: str | os.PathLike | None = None, title: str | None = None, *,
                        ax: Any = None):
    """The cost per epoch of a `autograd_lite.train.fit` history (and its accuracy, if
    recorded, on a second y axis); integer epoch ticks, the legend under the axes.
    Draws into ``ax`` if given (and returns it), else returns a new Figure."""
    cost = list(getattr(history, "cost", history))
    acc = [a for a in (getattr(history, "accuracy", []) or [])]
    if not cost:
        raise ValueError("plot_training_curve: the history has no cost values")
    has_acc = bool(acc) and any(a == a for a in acc)  # nan for regression
    fig, axes, own = _panels(ax, 1, "plot_training_curve", figsize=(10, 5.6))
    ax = axes[0]
    epochs = range(1, len(cost) + 1)
    lines = ax.plot(epochs, cost, color=SAFE["vermillion"], lw=2, label="cost J (mean loss)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost J")
    _integer_ticks(ax.xaxis)
    ax.grid(alpha=0.3)
    if has_acc:
        ax2 = ax.twinx()
        lines += ax2.plot(range(1, len(acc) + 1), acc, color=SAFE["blue"], lw=2, ls="--", label="training accuracy")
        ax2.set_ylabel("accuracy")
        ax2.set_ylim(0, 1.05)
    _legend_below(ax, ncol=2, handles=lines)
    what = "Training cost and accuracy" if has_acc else "Training cost"
    ax.set_title(f"{what}: {title}" if title else what)
    return _finish(fig, path, axes, own)


# ---------------------------------------------------------------------------


def save_all(out_dir: str | os.PathLike, fast: bool = False, trained: dict[str, Any] | None = None,
             progress: Callable[[str], Any] | None = None, moons: dict[str, Any] | None = None) -> list[Path]:
    """Write every figure into ``out_dir`` as PNG; returns the paths written.

    ``trained`` (name → (model, history)) adds a training curve per model; ``moons`` (the
    demo's two-moons run, see `decision_boundary_data`'s ``trained``) makes the decision
    boundary figure draw those models, so it shows the numbers the demo printed."""
    _matplotlib()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Callable[[Path], Any]]] = [
        ("sigmoid_saturation.png", lambda p: plot_sigmoid(p)),
        ("cost_logloss_vs_squared_error.png",
         lambda p: plot_cost_curvature(p, ws=np.linspace(-8, 8, 81 if fast else 161))),
        ("gradient_descent_path.png", lambda p: plot_gradient_descent(p, steps=30 if fast else 60)),
        ("logreg_vs_mlp_moons.png", lambda p: plot_decision_boundaries(p, epochs=60 if fast else 300,
                                                                       grid=40 if fast else 80, trained=moons)),
        ("init_zero_vs_random.png", lambda p: plot_init_symmetry(p, epochs=30 if fast else 100)),
        ("layer_gradients_sigmoid_vs_relu.png", lambda p: plot_layer_gradients(p, n_samples=8 if fast else 32)),
    ]
    for name, (_model, hist) in (trained or {}).items():
        words = TRAINED_TITLES.get(name, name.replace("_", " "))
        jobs.append((f"training_curve_{name}.png",
                     functools.partial(plot_training_curve, hist, title=words)))
    written = []
    for name, job in jobs:
        path = out / name
        fig = job(path)
        fig.clear()
        written.append(path)
        if progress is not None:
            progress(f"  drew {path}")
    return written

