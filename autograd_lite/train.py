"""Training: the four steps of C7 in a loop, and predictions.

Each step: feed the examples through the model (forward), measure the loss of
each and average them into the cost J (C13), backpropagate ∂J/∂θ, and let the
optimiser update θ (C4, C5).  `fit` repeats that for every batch of every epoch.

>>> from autograd_lite import nn, optim
>>> from autograd_lite.data import make_blobs
>>> from autograd_lite.train import fit, accuracy
>>> X, y = make_blobs(100, centers=[[-2, -2], [2, 2]], seed=0)
>>> model = nn.LogisticRegression(2)
>>> history = fit(model, X, y, loss="bce", optimizer=optim.SGD(model.parameters(), lr=0.5), epochs=20)
>>> history.cost[0] > history.cost[-1]          # J(0) = log 2 ≈ 0.693, then it falls
True
>>> accuracy(model, X, y)
1.0
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

try:
    import numpy as np
except ImportError:  # the scalar engine runs without numpy; this module does not
    raise ImportError("autograd_lite.train (fit, predict) needs numpy, which is not installed: "
                      "pip install numpy") from None

from autograd_lite import losses as _losses
from autograd_lite.engine import Value
from autograd_lite.optim import SGD, Optimizer
from autograd_lite.text import format_table, html_table

__all__ = ["fit", "predict", "predict_proba", "accuracy", "classify", "THRESHOLD", "History",
           "TrainingDivergedError", "ENGINES"]

ENGINES = ("scalar", "vectorized")


class TrainingDivergedError(FloatingPointError):
    """The cost (or a gradient) became nan or infinite during `fit`."""


@dataclass
class History:
    """Per-epoch record of `fit`.

    ``cost[e]``: the mean loss over the training examples during epoch e (each
    batch's cost at the parameters it was computed with; full batch: J(θ) before
    that epoch's update), plus the L2 term when ``l2 > 0``.  ``accuracy[e]``: the
    fraction of those same predictions that were right (nan for regression).
    ``val_cost``/``val_accuracy``: on the validation set after the epoch (no L2 term)."""

    cost: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_cost: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.cost)

    def __len__(self) -> int:
        return len(self.cost)

    def __repr__(self) -> str:
        if not self.cost:
            return "History(epochs=0)"
        acc = f", accuracy {self.accuracy[-1]:.3f}" if self.accuracy and self.accuracy[-1] == self.accuracy[-1] else ""
        return f"History(epochs={len(self.cost)}, cost {self.cost[0]:.4g} → {self.cost[-1]:.4g}{acc})"

    def _repr_html_(self) -> str:
        """Jupyter shows the cost curve (a small inline SVG) and the first and last epochs as a table."""
        if not self.cost:
            return "<p>History: no epochs yet</p>"
        n = len(self.cost)
        shown = list(range(n)) if n <= 10 else [*range(5), *range(n - 5, n)]
        header = ["epoch", "cost", "accuracy"] + (["val cost", "val accuracy"] if self.val_cost else [])
        rows: list[list[str | int]] = []
        for k, e in enumerate(shown):
            if k and e != shown[k - 1] + 1:
                rows.append(["…"] * len(header))
            row = [e + 1, f"{self.cost[e]:.6f}", f"{self.accuracy[e]:.4f}" if e < len(self.accuracy) else ""]
            if self.val_cost:
                row += [f"{self.val_cost[e]:.6f}", f"{self.val_accuracy[e]:.4f}"]
            rows.append(row)
        return (f"<div>{_sparkline(self.cost)}"
                + html_table(header, rows, caption=f"training history: {n} epochs, cost per epoch")
                + "</div>")

    def table(self, every: int = 1) -> str:
        """The history as a text table, one row every ``every`` epochs (and the last)."""
        if every < 1:
            raise ValueError("every must be at least 1")
        header = ["epoch", "cost", "accuracy"] + (["val cost", "val accuracy"] if self.val_cost else [])
        rows = []
        for e in range(len(self.cost)):
            if e % every and e != len(self.cost) - 1:
                continue
            row = [e + 1, f"{self.cost[e]:.6f}", f"{self.accuracy[e]:.4f}"]
            if self.val_cost:
                row += [f"{self.val_cost[e]:.6f}", f"{self.val_accuracy[e]:.4f}"]
            rows.append(row)
        return format_table(header, rows)


def _sparkline(values: list[float], width: int = 320, height: int = 80) -> str:
    """A small SVG line chart of ``values`` (cost per epoch), axis-free but labelled."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < 2:
        return ""
    lo, hi = min(finite), max(finite)
    span = (hi - lo) or 1.0
    pad = 14
    step = (width - 2 * pad) / (len(values) - 1)
    pts = " ".join(f"{pad + i * step:.1f},{pad + (hi - v) / span * (height - 2 * pad):.1f}"
                   for i, v in enumerate(values) if math.isfinite(v))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
            f"<title>cost per epoch, {values[0]:.4g} to {values[-1]:.4g}</title>"
            f'<polyline fill="none" stroke="#d62728" stroke-width="2" points="{pts}"/>'
            f'<text x="{pad}" y="11" font-size="11" font-family="sans-serif">cost {hi:.4g}</text>'
            f'<text x="{pad}" y="{height - 2}" font-size="11" font-family="sans-serif">{lo:.4g}  '
            f"(epoch 1 … {len(values)})</text></svg>")


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def _features(X: Any, model: Any, what: str = "X") -> np.ndarray:
    try:
        A = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a 2-D array of numbers (examples × features)") from None
    nin = getattr(model, "nin", None)
    if A.ndim == 1 and nin == 1:
        A = A[:, None]
    if A.ndim != 2:
        raise ValueError(f"{what} must be 2-D (examples × features), got shape {A.shape}")
    if len(A) == 0:
        raise ValueError(f"{what} has no examples")
    if nin is not None and A.shape[1] != nin:
        raise ValueError(f"{what} has {A.shape[1]} features per example but the model expects {nin}")
    if not np.isfinite(A).all():
        i, j = np.argwhere(~np.isfinite(A))[0]
        raise ValueError(f"{what}[{i}, {j}] is {A[i, j]}: features must be finite")
    return A


def _targets(y: Any, m: int, what: str = "y") -> np.ndarray:
    try:
        t = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be an array of numbers") from None
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1 or len(t) != m:
        raise ValueError(f"{what} must have one target per example: {m} examples, got shape {t.shape}")
    if not np.isfinite(t).all():
        raise ValueError(f"{what}[{int(np.argmax(~np.isfinite(t)))}] is not finite")
    return t


def _n_outputs(model: Any) -> int | None:
    nouts = getattr(model, "nouts", None)
    if nouts:
        return int(nouts[-1])
    nout = getattr(model, "nout", None)
    if nout is not None:
        return int(nout)
    return 1 if hasattr(model, "nin") and hasattr(model, "w") else None


def _resolve_loss(model: Any, loss: Any) -> tuple[Callable, str]:
    """The per-example loss function and its name.  "bce" means the log loss of the
    model's probability: on a sigmoid output it is `binary_cross_entropy`, on a
    linear output (a logit) the stable `binary_cross_entropy_with_logits`."""
    act = getattr(model, "output_activation", None)
    fn = _losses.get(loss)
    name = loss if isinstance(loss, str) else next((k for k, v in _losses.LOSSES.items() if v is fn), "custom")
    if name == "bce":
        if act == "linear":
            return _losses.binary_cross_entropy_with_logits, "bce_with_logits"
        if act not in (None, "sigmoid"):
            raise ValueError(f"loss 'bce' needs a probability, but the model's output activation is {act!r}; "
                             "use output_activation='sigmoid' or 'linear' (logits)")
    if name == "cross_entropy" and act == "sigmoid":
        raise ValueError("loss 'cross_entropy' takes scores (logits); use output_activation='linear'")
    return fn, name


def _check_labels(t: np.ndarray, name: str, k: int | None) -> None:
    def first_bad(ok: np.ndarray) -> str:
        i = int(np.argmin(ok))
        return f"y[{i}] = {t[i]:g}"

    if name in ("bce", "bce_with_logits"):
        ok = (t >= 0) & (t <= 1)
        if not ok.all():
            raise ValueError(f"loss {name!r} needs targets in [0, 1]; {first_bad(ok)}")
    elif name == "hinge":
        ok = np.isin(t, (-1.0, 0.0, 1.0))
        if not ok.all():
            raise ValueError(f"loss 'hinge' needs labels in {{0, 1}} or {{-1, 1}}; {first_bad(ok)}")
    elif name == "cross_entropy":
        ok = (t == np.round(t)) & (t >= 0) & (t < (k if k is not None else np.inf))
        if not ok.all():
            raise ValueError(f"loss 'cross_entropy' needs class indices 0 … {k - 1 if k else 'k-1'}; {first_bad(ok)}")


# ---------------------------------------------------------------------------
# Predictions
# ---------------------------------------------------------------------------


def _outputs(model: Any, rows: list) -> np.ndarray:
    """model(x).data for every row: shape (m,) or (m, k)."""
    out = []
    for x in rows:
        o = model(x)
        out.append(o.data if isinstance(o, Value) else [v.data for v in o])
    return np.asarray(out, dtype=float)


def _probabilities(model: Any, out: np.ndarray) -> np.ndarray:
    """Outputs → probabilities: a sigmoid output is one already; any other single output
    is a score/logit (p = σ(z)); several linear outputs go through softmax."""
    if getattr(model, "output_activation", None) == "sigmoid":
        return out
    if out.ndim == 1:
        e = np.exp(-np.abs(out))
        return np.where(out >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    z = out - out.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


#: The default decision threshold: class 1 where P(y = 1 | x) ≥ THRESHOLD (`classify`).
THRESHOLD = 0.5


def classify(p: Any, threshold: float = THRESHOLD) -> np.ndarray:
    """The one decision rule for a probability p = P(y = 1 | x): class 1 where
    p ≥ ``threshold``, else 0, so p = 0.5 exactly is class 1 (the usual
    convention).  `predict`, `accuracy`, `fit`'s reports and the command line
    all use it."""
    return (np.asarray(p, dtype=float) >= threshold).astype(np.int64)


def _classes(model: Any, p: np.ndarray, threshold: float) -> np.ndarray:
    if p.ndim == 1 or getattr(model, "output_activation", None) == "sigmoid":
        return classify(p, threshold)  # one probability, or independent labels
    return p.argmax(axis=1).astype(np.int64)


def predict_proba(model: Any, X: Any) -> np.ndarray:
    """P(y = 1 | x) for every row of ``X`` (shape (m,)), or class probabilities (m, k).

    A sigmoid output already is that probability (C1, C14); a linear output is
    read as a logit z and turned into σ(z); several linear outputs into softmax."""
    A = _features(X, model)
    return _probabilities(model, _outputs(model, A.tolist()))


def predict(model: Any, X: Any, threshold: float = THRESHOLD) -> np.ndarray:
    """Class labels: 1 where P(y = 1 | x) ≥ ``threshold`` else 0 (C14; `classify`),
    or the most probable class for a model with several outputs."""
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    return _classes(model, predict_proba(model, X), float(threshold))


def _binary_truth(t: np.ndarray) -> np.ndarray:
    return (t > 0).astype(np.int64) if np.isin(t, (-1.0, 0.0, 1.0)).all() else t


def accuracy(model: Any, X: Any, y: Any, threshold: float = THRESHOLD) -> float:
    """The fraction of examples whose predicted class equals y (labels {0, 1},
    {−1, +1} or class indices)."""
    pred = predict(model, X, threshold)
    t = _targets(y, len(pred))
    truth = _binary_truth(t) if pred.ndim == 1 and _n_outputs(model) in (1, None) else t
    return float(np.mean(pred == truth))


def _accuracy_of_outputs(model: Any, out: np.ndarray, t: np.ndarray, kind: str | None) -> float:
    if kind is None:
        return math.nan
    pred = _classes(model, _probabilities(model, out), THRESHOLD)
    truth = _binary_truth(t) if kind == "binary" else t
    return float(np.mean(pred == truth))


# ---------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------


def _scalar_step(model: Any, params: list[Value], loss_fn: Callable) -> Callable:
    """``step(rows, targets) -> (cost, grads, outputs)`` with the scalar engine:
    J = mean of the per-example losses, one backward pass."""

    def step(rows: list, targets: list) -> tuple[float, list[float], np.ndarray]:
        outs = [model(x) for x in rows]
        cost = _losses.mean([loss_fn(o, t) for o, t in zip(outs, targets)])
        for p in params:
            p.grad = 0.0
        cost.backward()
        data = [o.data if isinstance(o, Value) else [v.data for v in o] for o in outs]
        return cost.data, [p.grad for p in params], np.asarray(data, dtype=float)

    return step


def _vectorized_step(model: Any, loss_fn: Callable) -> Callable:
    """The same ``step`` on the vectorised engine (`autograd_lite.vectorize`)."""
    from autograd_lite.vectorize import compile_loss, compile_predict

    compiled = compile_loss(model, loss_fn)
    forward = compile_predict(model)

    def step(rows: np.ndarray, targets: np.ndarray) -> tuple[float, list[float], np.ndarray]:
        out = forward(rows)
        cost, grads = compiled(rows, targets)
        return float(cost), [float(g) for g in grads], np.asarray(out, dtype=float)

    return step


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython running under ipykernel), without importing IPython."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # an unusual shell: not a notebook
        return False


def _progress_bar(progress: Any, epochs: int):
    """A tqdm bar: in a terminal on stderr; in a notebook the widget (with ipywidgets)
    or else a plain text bar on stdout; never tqdm's "experimental"/IProgress warnings."""
    if progress is False:
        return None
    notebook = _in_notebook()
    if progress is None and not notebook and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    try:
        from tqdm.std import tqdm
    except ImportError:
        if progress:
            raise ImportError("progress=True needs tqdm: pip install tqdm (or autograd-lite[progress])") from None
        return None
    kw = {"total": epochs, "desc": "fit", "unit": "epoch", "leave": True}
    if notebook:
        try:
            import ipywidgets  # noqa: F401  (tqdm's widget needs it)
            from tqdm.notebook import tqdm as widget
        except ImportError:
            return tqdm(file=sys.stdout, **kw)  # stdout: a clean text bar, not a red stderr stream
        return widget(**kw)
    return tqdm(file=sys.stderr, **kw)


def fit(model: Any, X: Any, y: Any, loss: str | Callable = "bce", optimizer: Optimizer | None = None,
        epochs: int = 100, batch_size: int | None = None, seed: int | None = 0, progress: bool | None = None,
        engine: str = "scalar", l2: float = 0.0, X_val: Any = None, y_val: Any = None,
        callback: Callable[[int, History], Any] | None = None) -> History:
    """Train ``model`` on rows ``X`` with targets ``y``; returns a `History`.

    - ``loss``: a name for `autograd_lite.losses.get` ("bce", "bce_with_logits",
      "mse", "hinge", "cross_entropy") or ``loss(output, target) -> Value``.
      "bce" is the log loss of the model's probability (on a linear output it is
      computed from the logit, stably).
    - The cost of a batch is J = (1/m) Σ L(model(xᵢ), yᵢ) + (l2/2) Σ w² (weights
      only, not biases: with ``l2 = 1/(C·m)`` this is scikit-learn's
      LogisticRegression(C) objective divided by C·m).
    - ``optimizer``: default ``SGD(model.parameters(), lr=0.1)``.
    - ``batch_size``: None (full batch, the order never changes) or a size; the rows
      are then shuffled every epoch with ``numpy.random.default_rng(seed)``.
    - ``progress``: None shows a tqdm bar when stderr is a terminal or in a Jupyter
      notebook (its widget if ipywidgets is installed, else a text bar), False never,
      True always.  ``callback(epoch, history)`` runs after every epoch; returning
      True stops training.
    - ``engine``: "scalar" (backprop through Values) or "vectorized"
      (`autograd_lite.vectorize`: the same numbers, computed with numpy).

    Raises `TrainingDivergedError` naming the epoch and step when the cost or a
    gradient becomes nan or infinite.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an int ≥ 0, got {epochs!r}")
    if isinstance(l2, bool) or not isinstance(l2, (int, float)) or not math.isfinite(l2) or l2 < 0:
        raise ValueError(f"l2 must be a finite number ≥ 0, got {l2!r}")
    if not hasattr(model, "parameters") or not callable(model):
        raise TypeError(f"model must be an autograd_lite.nn Module (with parameters()), not {type(model).__name__}")
    A = _features(X, model)
    m = len(A)
    t = _targets(y, m)
    loss_fn, loss_name = _resolve_loss(model, loss)
    k = _n_outputs(model)
    _check_labels(t, loss_name, k)
    if loss_name == "cross_entropy" or (k is not None and k > 1):
        kind: str | None = "multiclass" if np.all(t == np.round(t)) else None
    else:
        kind = "binary" if np.isin(t, (-1.0, 0.0, 1.0)).all() else None
    if batch_size is None:
        bs = m
    elif isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be None (full batch) or an int ≥ 1, got {batch_size!r}")
    else:
        bs = min(int(batch_size), m)

    params = model.parameters()
    if not params:
        raise ValueError("the model has no parameters to train")
    if optimizer is None:
        optimizer = SGD(params, lr=0.1)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an autograd_lite.optim optimizer, not {type(optimizer).__name__}")
    ids = {id(p) for p in params}
    if any(id(p) not in ids for p in optimizer.params):
        raise ValueError("the optimizer holds Values that are not this model's parameters; "
                         "build it with optimizer(model.parameters(), ...)")
    names = [n for n, _ in model.named_parameters()] if hasattr(model, "named_parameters") else []
    decay = [0.0 if n.rsplit(".", 1)[-1] == "b" else 1.0 for n in names] if names else [1.0] * len(params)

    val = None
    if X_val is not None or y_val is not None:
        if X_val is None or y_val is None:
            raise ValueError("give both X_val and y_val (or neither)")
        Av = _features(X_val, model, "X_val")
        val = (Av.tolist(), _targets(y_val, len(Av), "y_val"))
        _check_labels(val[1], loss_name, k)

    if engine == "scalar":
        step = _scalar_step(model, params, loss_fn)
        rows_all: Any = A.tolist()
        targets_all: Any = [int(v) for v in t] if loss_name == "cross_entropy" else t.tolist()
    else:
        step = _vectorized_step(model, loss_fn)
        rows_all = A
        targets_all = np.eye(k or 1)[t.astype(int)] if loss_name == "cross_entropy" else t

    rng = np.random.default_rng(seed)
    history = History()
    bar = _progress_bar(progress, epochs)
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(m) if bs < m else None
            total_cost, outs = 0.0, []
            for s, start in enumerate(range(0, m, bs), start=1):
                idx: Any = order[start:start + bs] if order is not None else slice(start, start + bs)
                if engine == "scalar":
                    sel: Any = range(m)[idx] if order is None else idx
                    rows = [rows_all[i] for i in sel]
                    targets = [targets_all[i] for i in sel]
                else:
                    rows, targets = rows_all[idx], targets_all[idx]
                cost, grads, out = step(rows, targets)
                if l2:
                    cost += 0.5 * l2 * sum(d * p.data * p.data for d, p in zip(decay, params))
                    grads = [g + l2 * d * p.data for g, d, p in zip(grads, decay, params)]
                if not math.isfinite(cost) or not all(map(math.isfinite, grads)):
                    what = f"the cost became {cost!r}" if not math.isfinite(cost) else "a gradient became nan/inf"
                    raise TrainingDivergedError(
                        f"training diverged at epoch {epoch}, step {s}: {what} "
                        f"(try a smaller learning rate, or loss='bce_with_logits' for scores)")
                for p, g in zip(params, grads):
                    p.grad = g
                optimizer.step()
                total_cost += cost * len(out)
                outs.append(out)
            out_all = np.concatenate(outs)
            t_seen = t[order] if order is not None else t
            history.cost.append(total_cost / m)
            history.accuracy.append(_accuracy_of_outputs(model, out_all, t_seen, kind))
            if val is not None:
                vrows, vt = val
                vouts = [model(x) for x in vrows]
                vtargets = [int(v) for v in vt] if loss_name == "cross_entropy" else vt.tolist()
                history.val_cost.append(_losses.mean([loss_fn(o, y_) for o, y_ in zip(vouts, vtargets)]).data)
                vdata = np.asarray([o.data if isinstance(o, Value) else [v.data for v in o] for o in vouts])
                history.val_accuracy.append(_accuracy_of_outputs(model, vdata, vt, kind))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(cost=f"{history.cost[-1]:.4g}", acc=f"{history.accuracy[-1]:.3f}", refresh=False)
            if callback is not None and callback(epoch, history) is True:
                break
    finally:
        if bar is not None:
            bar.close()
    return history
