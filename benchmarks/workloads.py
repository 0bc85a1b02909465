"""The benchmark workloads, written once per engine in the same shape.

Each ``make_<workload>(engine, size)`` returns a `Case`: ``setup()`` (untimed:
leaves, models, data) and ``run(state)`` (timed: forward + backward, plus the
update where the workload has one).  Everything the timed region builds is
dropped before ``run`` returns, so freeing the graph is part of the time, as it
is in a training loop.

Engines: ``autograd_lite``, ``micrograd``, ``torch_scalar`` (every node a 0-d
tensor), ``torch_batched`` (the vectorised reference on one thread),
``vectorized`` (`autograd_lite.vectorize`) and ``numpy`` (hand-written
gradient).  A missing optional dependency raises `Unavailable`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

ENGINES = ("autograd_lite", "micrograd", "torch_scalar", "torch_batched", "vectorized", "numpy")


class Unavailable(Exception):
    """This engine cannot run this workload here: a module is missing, or the engine lacks an op."""


@dataclass
class Case:
    setup: Callable[[], Any]
    run: Callable[[Any], Any]
    nodes: int | None = None  # scalar graph nodes built by one run (for per-node times)
    note: str = ""


# ----------------------------------------------------------------------------- imports


def _autograd_lite():
    import autograd_lite.engine as engine

    return engine


def _micrograd():
    try:
        from micrograd.engine import Value
    except ImportError as e:
        raise Unavailable("absent") from e
    return Value


def _torch():
    try:
        import torch
    except ImportError as e:
        raise Unavailable("absent") from e
    except Exception as e:  # installed but broken (e.g. a shared library fails to load)
        raise Unavailable(f"absent (import torch: {type(e).__name__})") from e
    torch.set_num_threads(1)
    return torch


def _scalar_value_class(engine: str):
    if engine == "autograd_lite":
        return _autograd_lite().Value
    if engine == "micrograd":
        return _micrograd()
    if engine == "torch_scalar":
        torch = _torch()
        return lambda x: torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
    raise Unavailable("n/a")


# ----------------------------------------------------------------------------- wide


def sum_of_squares(xs):
    """Σ xᵢ·xᵢ, folded left: the `wide` workload's graph (2n − 1 op nodes)."""
    it = iter(xs)
    x = next(it)
    s = x * x
    for x in it:
        s = s + x * x
    return s


def make_wide(engine: str, n: int) -> Case:
    """Σᵢ xᵢ·xᵢ over n leaves made outside the timed region, then backward: 2n − 1 nodes."""
    rng = random.Random(0)
    values = [rng.uniform(-1, 1) for _ in range(n)]
    if engine == "torch_batched":
        torch = _torch()

        def setup():
            return torch.tensor(values, dtype=torch.float64, requires_grad=True)

        def run(x):
            (x * x).sum().backward()

        return Case(setup, run, note="one vector op")
    if engine not in ("autograd_lite", "micrograd", "torch_scalar"):
        raise Unavailable("n/a")
    leaf = _scalar_value_class(engine)

    def setup():
        return [leaf(v) for v in values]

    def run(xs):
        sum_of_squares(xs).backward()

    return Case(setup, run, nodes=2 * n - 1)


# ----------------------------------------------------------------------------- chain


def make_chain(engine: str, depth: int) -> Case:
    """y ← y·0.999 + 0.001, ``depth`` times from one leaf, then backward: 2·depth nodes."""
    if engine not in ("autograd_lite", "micrograd", "torch_scalar"):
        raise Unavailable("n/a")  # inherently sequential: nothing to batch
    leaf = _scalar_value_class(engine)

    def setup():
        return leaf(0.5)

    def run(y0):
        y = y0
        for _ in range(depth):
            y = y * 0.999 + 0.001
        y.backward()

    return Case(setup, run, nodes=2 * depth)


# ----------------------------------------------------------------------------- data


def moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[np.ndarray, np.ndarray, str]:
    """micrograd's demo data: two interleaved half-moons, labels in {−1, 1}."""
    try:
        from sklearn.datasets import make_moons
    except Exception:  # not installed, or it fails to import (e.g. a broken optional dependency)
        rng = np.random.default_rng(seed)
        n_out = n // 2
        n_in = n - n_out
        t_out, t_in = np.linspace(0, math.pi, n_out), np.linspace(0, math.pi, n_in)
        X = np.vstack([np.c_[np.cos(t_out), np.sin(t_out)], np.c_[1 - np.cos(t_in), 0.5 - np.sin(t_in)]])
        X += rng.normal(scale=noise, size=X.shape)
        y = np.r_[np.zeros(n_out), np.ones(n_in)]
        source = "numpy half-moons (scikit-learn absent)"
    else:
        X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
        source = "sklearn.datasets.make_moons"
    return X.astype(float), (2.0 * y - 1.0).astype(float), source


def breast_cancer() -> tuple[np.ndarray, np.ndarray, str]:
    """The shipped real dataset, 30 standardised features, labels in {0, 1}."""
    X = y = None
    source = ""
    try:
        from autograd_lite.data import load_breast_cancer
    except ImportError:
        load_breast_cancer = None
    if load_breast_cancer is not None:
        data = load_breast_cancer()
        if isinstance(data, tuple):
            X, y = data[0], data[1]
        else:  # a bunch / dataset object
            X = getattr(data, "X", None)
            if X is None:
                X = data.data
            y = getattr(data, "y", None)
            if y is None:
                y = data.target
        source = "autograd_lite.data.load_breast_cancer"
    else:
        try:
            from sklearn.datasets import load_breast_cancer as sk_load
        except Exception as e:
            raise Unavailable("n/a (no dataset: autograd_lite.data and scikit-learn absent)") from e
        X, y = sk_load(return_X_y=True)
        source = "sklearn.datasets.load_breast_cancer (autograd_lite.data absent)"
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    return X, y, source


# ----------------------------------------------------------------------------- mlp_step

ALPHA = 1e-4  # micrograd demo's L2 strength
SIZES = [16, 16, 1]


def _lr(k: int) -> float:
    return 1.0 - 0.9 * k / 100


class _LinearMLP:
    """MLP(2, [16, 16, 1]) from `engine.linear` + ``relu`` (used until `autograd_lite.nn` lands)."""

    def __init__(self, nin: int, nouts: list[int], seed: int = 1337) -> None:
        engine = _autograd_lite()
        rng = random.Random(seed)
        sizes = [nin, *nouts]
        self.linear = engine.linear
        self.layers = [[([engine.Value(rng.uniform(-1, 1)) for _ in range(sizes[i])], engine.Value(0.0))
                        for _ in range(sizes[i + 1])] for i in range(len(nouts))]

    def __call__(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = [self.linear(w, x, b) if i == last else self.linear(w, x, b).relu() for w, b in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


def autograd_lite_mlp():
    """autograd_lite.nn.MLP(2, [16, 16, 1]) if it exists, else the same net from `engine.linear`."""
    try:
        from autograd_lite.nn import MLP
    except ImportError:
        return _LinearMLP(2, SIZES), "engine.linear + relu (autograd_lite.nn absent)"
    return MLP(2, SIZES, seed=1337), "autograd_lite.nn.MLP"


class ElementaryMLP:
    """The same network written per example with elementary ops, as micrograd's demo and the
    course write a neuron: ``s = b; s = s + wⱼ·hⱼ`` (no fused ``linear`` node); relu between
    layers.  Its weights are fresh leaves holding the given model's numbers (or random ones)."""

    def __init__(self, model=None, what: str = "", sizes: tuple = (2, *SIZES), seed: int = 1337) -> None:
        engine = _autograd_lite()
        if model is not None:
            numbers = [p.data for p in model.parameters()]  # nn layout: per neuron, its weights then its bias
        else:
            rng = random.Random(seed)
            numbers = [rng.uniform(-1, 1) for _ in range(sum((a + 1) * b for a, b in zip(sizes, sizes[1:])))]
        it = iter(numbers)
        self.layers = [[([engine.Value(next(it)) for _ in range(nin)], engine.Value(next(it))) for _ in range(nout)]
                       for nin, nout in zip(sizes, sizes[1:])]
        self.note = "per example with + and × (s = b; s = s + w·h)" + (f", weights of {what}" if what else "")

    def __call__(self, x):
        h = x
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = []
            for w, b in layer:
                s = b
                for wj, hj in zip(w, h):
                    s = s + wj * hj
                out.append(s if i == last else s.relu())
            h = out
        return h[0] if len(h) == 1 else h

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


def _zero(params):
    for p in params:
        p.grad = 0.0


def make_mlp_step(engine: str, n: int) -> Case:
    """micrograd's demo step on n moons points: max-margin loss + L2, backward, SGD."""
    X, y, source = moons(n)
    counter = {"k": 0}
    if engine == "torch_batched":
        torch = _torch()
        gen = torch.Generator().manual_seed(1337)
        sizes = [2, *SIZES]
        params = []
        for i in range(len(SIZES)):
            params += [(torch.rand(sizes[i], sizes[i + 1], generator=gen, dtype=torch.float64) * 2 - 1),
                       torch.zeros(sizes[i + 1], dtype=torch.float64)]
        for p in params:
            p.requires_grad_(True)
        Xt, yt = torch.tensor(X), torch.tensor(y)

        def run(_):
            h = Xt
            for i in range(0, len(params), 2):
                h = h @ params[i] + params[i + 1]
                if i + 2 < len(params):
                    h = torch.relu(h)
            scores = h[:, 0]
            loss = torch.relu(1 - yt * scores).mean() + ALPHA * sum((p * p).sum() for p in params)
            for p in params:
                p.grad = None
            loss.backward()
            lr = _lr(counter["k"] % 100)
            counter["k"] += 1
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
            return loss.item()

        return Case(lambda: None, run, note="batched matmuls")
    if engine == "vectorized":
        return _vectorized_mlp_step(X, y, counter)
    if engine == "vectorized_elementary":
        return _vectorized_mlp_step(X, y, counter, elementary=True)
    if engine in ("vectorized_elementary_args", "vectorized_elementary_seq"):
        return _vectorized_args_mlp_step(X, y, counter, one_sequence=engine.endswith("_seq"))
    if engine == "autograd_lite_elementary":
        model = ElementaryMLP(*autograd_lite_mlp())
        inputs = [list(row) for row in X.tolist()]
        note = model.note
    elif engine == "autograd_lite":
        model, what = autograd_lite_mlp()
        inputs = [list(row) for row in X.tolist()]
        note = what
    elif engine == "micrograd":
        Value = _micrograd()
        try:
            from micrograd.nn import MLP
        except ImportError as e:
            raise Unavailable("absent") from e

        random.seed(1337)
        model = MLP(2, SIZES)
        inputs = [list(map(Value, row)) for row in X.tolist()]
        note = "micrograd.nn.MLP"
    elif engine == "torch_scalar":
        model = _TorchScalarMLP(2, SIZES)
        inputs = [list(row) for row in X.tolist()]
        note = "micrograd's MLP on 0-d tensors"
    else:
        raise Unavailable("n/a")
    ys = y.tolist()
    params = model.parameters()

    def run(_):
        scores = [model(x) for x in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        total = data_loss + reg_loss
        if engine == "torch_scalar":
            for p in params:
                p.grad = None
        else:
            _zero(params)
        total.backward()
        lr = _lr(counter["k"] % 100)
        counter["k"] += 1
        if engine == "torch_scalar":
            torch = _torch()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
        else:
            for p in params:
                p.data -= lr * p.grad
        return float(total.data) if engine != "torch_scalar" else total.item()

    return Case(lambda: None, run, note=f"{note}; {source}")


class _TorchScalarMLP:
    """micrograd's MLP with every weight a 0-d tensor (each op a graph node)."""

    def __init__(self, nin: int, nouts: list[int], seed: int = 1337) -> None:
        torch = _torch()
        rng = random.Random(seed)
        sizes = [nin, *nouts]

        def leaf(v):
            return torch.tensor(v, dtype=torch.float64, requires_grad=True)

        self.relu = torch.relu
        self.layers = [[([leaf(rng.uniform(-1, 1)) for _ in range(sizes[i])], leaf(0.0))
                        for _ in range(sizes[i + 1])] for i in range(len(nouts))]

    def __call__(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = []
            for w, b in layer:
                act = sum((wi * xi for wi, xi in zip(w, x)), b)
                out.append(act if i == last else self.relu(act))
            x = out
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]


def _vectorize_module():
    try:
        import importlib

        vec = importlib.import_module("autograd_lite.vectorize")  # the module (autograd_lite.vectorize is the function)
    except ImportError as e:
        raise Unavailable("n/a (module not available)") from e
    return vec


def _vectorized_mlp_step(X: np.ndarray, y: np.ndarray, counter: dict, elementary: bool = False) -> Case:
    """`compile_loss(model, loss_fn)` → ``step(Xb, yb) -> (cost, grads)``; the L2 term and the
    SGD update are added with numpy (they are per-parameter, not per-example).  ``elementary``:
    the model written with + and × (`ElementaryMLP`) instead of `nn` layers."""
    vec = _vectorize_module()
    if not hasattr(vec, "compile_loss"):
        raise Unavailable("n/a (autograd_lite.vectorize has no compile_loss)")
    model, what = autograd_lite_mlp()
    if elementary:
        model = ElementaryMLP(model, what)
        what = "ElementaryMLP (" + model.note + ")"
    params = model.parameters()

    def hinge(score, yi):
        return (1 + -yi * score).relu()

    step = vec.compile_loss(model, hinge)

    def run(_):
        cost, grads = step(X, y)
        w = np.fromiter((p.data for p in params), float, len(params))
        g = np.asarray(grads, dtype=float).ravel() + 2 * ALPHA * w
        cost = float(cost) + ALPHA * float(w @ w)
        lr = _lr(counter["k"] % 100)
        counter["k"] += 1
        for p, new in zip(params, (w - lr * g).tolist()):
            p.data = new
        return cost

    return Case(lambda: None, run, note=f"compile_loss on {what}")


def elementary_loss_of_args(sizes: tuple = (2, *SIZES)) -> Callable:
    """The demo's per-example loss written the JAX way: ``loss(*params, x1, x2, y)``, the
    parameters as scalar arguments (per neuron its weights, then its bias: the nn layout),
    each neuron ``s = b; s = s + wⱼ·hⱼ``, relu between layers, then the hinge."""
    n_params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    def loss(*args):
        it = iter(args[:n_params])
        h = list(args[n_params:-1])
        last = len(sizes) - 2
        for i, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
            out = []
            for _ in range(nout):
                w = [next(it) for _ in range(nin)]
                s = next(it)
                for wj, hj in zip(w, h):
                    s = s + wj * hj
                out.append(s if i == last else s.relu())
            h = out
        return (1 + -args[-1] * h[0]).relu()

    loss.n_params = n_params  # type: ignore[attr-defined]
    return loss


def _vectorized_args_mlp_step(X: np.ndarray, y: np.ndarray, counter: dict, one_sequence: bool = False) -> Case:
    """Issue 24: the elementary-op step with the 289 parameters passed as arguments,
    ``vf.value_and_grad(*params, x1, x2, y, argnums=range(289), reduce="mean")`` (or, with
    ``one_sequence``, as one array argument: ``vf.value_and_grad(params, x1, x2, y, argnums=0)``);
    the L2 term and the SGD update in numpy, as in the closure-weights row."""
    vec = _vectorize_module()
    model, _ = autograd_lite_mlp()
    state = {"w": [p.data for p in model.parameters()]}
    args_loss = elementary_loss_of_args()
    P = args_loss.n_params  # type: ignore[attr-defined]
    x1, x2 = np.ascontiguousarray(X[:, 0]), np.ascontiguousarray(X[:, 1])
    if one_sequence:
        def seq_loss(params, a, b, t):
            return args_loss(*params, a, b, t)

        vf = vec.vectorize(seq_loss, sizes=(P, None, None, None))
        call = "vf.value_and_grad(params, x1, x2, y, argnums=0, reduce='mean')"
    else:
        vf = vec.vectorize(args_loss)
        call = f"vf.value_and_grad(*params, x1, x2, y, argnums=range({P}), reduce='mean')"

    def run(_):
        if one_sequence:
            vals, grads = vf.value_and_grad(np.array(state["w"]), x1, x2, y, argnums=0, reduce="mean")
        else:
            vals, grads = vf.value_and_grad(*state["w"], x1, x2, y, argnums=range(P), reduce="mean")
        w = np.array(state["w"])
        g = np.asarray(grads, dtype=float) + 2 * ALPHA * w
        cost = float(np.mean(vals)) + ALPHA * float(w @ w)
        lr = _lr(counter["k"] % 100)
        counter["k"] += 1
        state["w"] = (w - lr * g).tolist()
        return cost

    return Case(lambda: None, run, note=f"per example with + and ×, parameters as arguments: {call}")


# ----------------------------------------------------------------------------- logreg_epoch


def make_logreg_epoch(engine: str, m: int | None = None) -> Case:
    """One full-batch epoch: σ(w·x + b) on every example, mean log loss, backward, SGD (lr 0.1)."""
    X, y, source = breast_cancer()
    if m is not None:
        X, y = X[:m], y[:m]
    d = X.shape[1]
    lr = 0.1
    rng = random.Random(3)
    w0 = [rng.uniform(-0.1, 0.1) for _ in range(d)]
    if engine == "torch_batched":
        torch = _torch()
        Xt, yt = torch.tensor(X), torch.tensor(y)
        params = [torch.tensor(w0, dtype=torch.float64, requires_grad=True),
                  torch.zeros((), dtype=torch.float64, requires_grad=True)]

        def run(_):
            w, b = params
            p = torch.sigmoid(Xt @ w + b)
            cost = -(yt * torch.log(p) + (1 - yt) * torch.log(1 - p)).mean()
            w.grad = b.grad = None
            cost.backward()
            with torch.no_grad():
                for q in params:
                    q -= lr * q.grad
            return cost.item()

        return Case(lambda: None, run, note=source)
    rows, ys = X.tolist(), y.tolist()
    if engine == "autograd_lite":
        eng = _autograd_lite()
        w = [eng.Value(v) for v in w0]
        b = eng.Value(0.0)
        linear = eng.linear

        def run(_):
            total = 0.0
            for x, yi in zip(rows, ys):
                p = linear(w, x, b).sigmoid()
                total = total + -(yi * p.log() + (1 - yi) * (1 - p).log())
            cost = total * (1.0 / len(rows))
            _zero(w)
            b.grad = 0.0
            cost.backward()
            for p in w:
                p.data -= lr * p.grad
            b.data -= lr * b.grad
            return cost.data

        return Case(lambda: None, run, nodes=None, note=f"engine.linear + sigmoid; {source}")
    if engine == "micrograd":
        _micrograd()
        raise Unavailable("n/a (micrograd 0.1.0 has no exp/log)")
    if engine == "torch_scalar":
        torch = _torch()
        w = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in w0]
        b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)

        def run(_):
            total = 0.0
            for x, yi in zip(rows, ys):
                p = torch.sigmoid(sum((wi * xi for wi, xi in zip(w, x)), b))
                total = total + -(yi * torch.log(p) + (1 - yi) * torch.log(1 - p))
            cost = total * (1.0 / len(rows))
            for p in (*w, b):
                p.grad = None
            cost.backward()
            with torch.no_grad():
                for p in (*w, b):
                    p -= lr * p.grad
            return cost.item()

        return Case(lambda: None, run, note=source)
    raise Unavailable("n/a")


# ----------------------------------------------------------------------------- logreg gradient (issue 8)


def make_logreg_grad(engine: str, m: int) -> Case:
    """∂J/∂(w, b) of the mean log loss over an m × 30 batch (synthetic, seeded)."""
    rng = np.random.default_rng(8)
    d = 30
    X = rng.standard_normal((m, d))
    w = rng.standard_normal(d) * 0.1
    b = 0.1
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w + b)))).astype(float)
    if engine == "numpy":
        def run(_):
            p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
            r = p - y
            return X.T @ r / m, r.mean()

        return Case(lambda: None, run, note="Xᵀ(σ(Xw + b) − y)/m")
    if engine == "torch_batched":
        torch = _torch()
        Xt, yt = torch.tensor(X), torch.tensor(y)
        wt = torch.tensor(w, requires_grad=True)
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)

        def run(_):
            p = torch.sigmoid(Xt @ wt + bt)
            cost = -(yt * torch.log(p) + (1 - yt) * torch.log(1 - p)).mean()
            return torch.autograd.grad(cost, (wt, bt))

        return Case(lambda: None, run)
    if engine != "vectorized":
        raise Unavailable("n/a")
    vec = _vectorize_module()
    eng = _autograd_lite()

    def loss(ws, bb, xs, yi):
        p = eng.linear(ws, xs, bb).sigmoid()
        return -(yi * p.log() + (1 - yi) * (1 - p).log())

    g = vec.vectorize(loss, sizes=(d, None, d, None))

    def run(_):
        return g.value_and_grad(w, b, X, y, argnums=(0, 1), reduce="mean")

    return Case(lambda: None, run, note="vectorize(loss, sizes=(30, None, 30, None)).value_and_grad(reduce='mean')")


def reference_logreg_grad(m: int) -> tuple[np.ndarray, float]:
    """The hand-written gradient on the same data (to check the vectorised one agrees)."""
    return make_logreg_grad("numpy", m).run(None)


# ----------------------------------------------------------------------------- trace (issue 16)


def trace_graph(hidden: int):
    """The loss of one example of an `ElementaryMLP` 2 → hidden → hidden → 1 (max-margin), as
    a function ``loss(x, y)`` of the features (a list of 2) and the label: 2h² + 8h + 4 op nodes."""
    model = ElementaryMLP(sizes=(2, hidden, hidden, 1), seed=16)

    def loss(x, y):
        return (1 + -y * model(x)).relu()

    return loss


def make_trace(engine: str, hidden: int) -> Case:
    """``vectorized``: trace the loss once and rewrite its tape (``vectorize(loss, sizes=(2, None))``);
    ``autograd_lite``: one scalar forward + backward of the same graph on one example."""
    loss = trace_graph(hidden)
    nodes = 2 * hidden * hidden + 8 * hidden + 4
    if engine == "autograd_lite":
        def run(_):
            loss([0.3, -0.7], 1.0).backward()

        return Case(lambda: None, run, nodes=nodes, note="ElementaryMLP loss of one example: forward + backward")
    if engine != "vectorized":
        raise Unavailable("n/a")
    vec = _vectorize_module()

    def run(_):
        return vec.vectorize(loss, sizes=(2, None))

    return Case(lambda: None, run, nodes=nodes, note="vectorize(loss, sizes=(2, None)): trace + rewrite the tape")


# ----------------------------------------------------------------------------- gpt (issue 24)

GPT_SIZES = {"n_embd": 16, "n_head": 4, "block": 8}


def gpt_corpus(n: int = 200, seed: int = 24) -> list[list[int]]:
    """n made-up names of six letters (three syllables) as token lists, 0 the boundary
    token at both ends, letters 1..26: 8 tokens, ``block``, so a name is one training
    sequence and every step does the same work."""
    rng = random.Random(seed)
    syllables = ["an", "na", "el", "la", "ri", "ma", "jo", "ka", "li", "sa", "ro", "de", "mi", "ta", "ne", "ar",
                 "ty", "bo", "lu", "ve"]
    docs = []
    for _ in range(n):
        name = "".join(rng.choice(syllables) for _ in range(3))
        docs.append([0, *(ord(c) - 96 for c in name), 0])
    return docs


def _gpt_linear(x, w):
    """w·x for each row of w: a sum of products (``sum`` starts from the int 0)."""
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def _gpt_rmsnorm(x):
    mean_square = sum(xi * xi for xi in x) / len(x)
    scale = (mean_square + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def _gpt_softmax(logits):
    top = max(v.data for v in logits)  # subtracted for range (a constant: no gradient)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


class TinyGPT:
    """A one-layer GPT written per token with scalar Values (any engine's ``Value`` class
    with ``exp``, ``log``, ``relu``, ``**`` by a number): token and position embeddings,
    RMS norm, causal self-attention with ``n_head`` heads over a cache of the keys and
    values so far, a residual, RMS norm, a relu² MLP (4×), a residual, the logits; the loss
    is the mean cross-entropy of the next token.  Weights drawn from a seeded Gaussian,
    the same numbers whatever the engine."""

    def __init__(self, Value, vocab: int = 27, seed: int = 24, n_embd: int = 16, n_head: int = 4,
                 block: int = 8) -> None:
        rng = random.Random(seed)

        def matrix(rows, cols):
            return [[Value(rng.gauss(0.0, 0.08)) for _ in range(cols)] for _ in range(rows)]

        self.n_head, self.head_dim, self.block = n_head, n_embd // n_head, block
        self.wte, self.wpe = matrix(vocab, n_embd), matrix(block, n_embd)
        self.wq, self.wk, self.wv, self.wo = (matrix(n_embd, n_embd) for _ in range(4))
        self.fc1, self.fc2 = matrix(4 * n_embd, n_embd), matrix(n_embd, 4 * n_embd)
        self.head = matrix(vocab, n_embd)
        self.params = [p for m in (self.wte, self.wpe, self.wq, self.wk, self.wv, self.wo, self.fc1, self.fc2,
                                   self.head) for row in m for p in row]

    def loss(self, tokens: list[int]):
        keys, values, losses = [], [], []
        hd, root = self.head_dim, self.head_dim ** 0.5
        for pos in range(min(self.block, len(tokens) - 1)):
            x = [t + p for t, p in zip(self.wte[tokens[pos]], self.wpe[pos])]
            x = _gpt_rmsnorm(x)
            residual = x
            x = _gpt_rmsnorm(x)
            q, k, v = _gpt_linear(x, self.wq), _gpt_linear(x, self.wk), _gpt_linear(x, self.wv)
            keys.append(k)
            values.append(v)
            heads = []
            for h in range(self.n_head):
                lo, hi = h * hd, (h + 1) * hd
                scores = [sum(a * b for a, b in zip(q[lo:hi], kt[lo:hi])) / root for kt in keys]
                weights = _gpt_softmax(scores)
                heads += [sum(w * vt[j] for w, vt in zip(weights, values)) for j in range(lo, hi)]
            x = [a + b for a, b in zip(_gpt_linear(heads, self.wo), residual)]
            residual = x
            hidden = [z.relu() ** 2 for z in _gpt_linear(_gpt_rmsnorm(x), self.fc1)]
            x = [a + b for a, b in zip(_gpt_linear(hidden, self.fc2), residual)]
            probs = _gpt_softmax(_gpt_linear(x, self.head))
            losses.append(-probs[tokens[pos + 1]].log())
        return sum(losses) / len(losses)


class _Adam:
    """Adam on the parameters' ``.data`` (plain floats: the same numbers for every engine);
    ``p.grad = 0`` after each update, as a training loop zeroes the gradients."""

    def __init__(self, params, lr: float = 0.01, betas: tuple = (0.85, 0.99), eps: float = 1e-8) -> None:
        self.params, self.lr, (self.b1, self.b2), self.eps = params, lr, betas, eps
        self.m = [0.0] * len(params)
        self.v = [0.0] * len(params)
        self.t = 0

    def step(self) -> None:
        self.t += 1
        b1, b2, eps, m, v = self.b1, self.b2, self.eps, self.m, self.v
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for i, p in enumerate(self.params):
            g = p.grad
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            p.data -= self.lr * (m[i] / c1) / ((v[i] / c2) ** 0.5 + eps)
            p.grad = 0


def gpt_trainer(engine: str):
    """``step() -> loss``: one training step of `TinyGPT` on the next name of the corpus."""
    if engine == "autograd_lite":
        Value = _autograd_lite().Value
    elif engine == "local_grads":
        import local_grads

        Value = local_grads.Value
    else:
        raise Unavailable("n/a")
    model = TinyGPT(Value, **GPT_SIZES)
    opt = _Adam(model.params)
    docs = gpt_corpus()
    count = {"k": 0}

    def step() -> float:
        loss = model.loss(docs[count["k"] % len(docs)])
        count["k"] += 1
        loss.backward()
        opt.step()
        return loss.data

    return step, model


def gpt_losses_agree(steps: int = 4) -> float:
    """Train both engines from the same weights for ``steps`` steps; the largest relative
    difference of their losses (AssertionError above 1e-12: they must compute the same)."""
    a, _ = gpt_trainer("autograd_lite")
    b, _ = gpt_trainer("local_grads")
    worst = 0.0
    for k in range(steps):
        la, lb = a(), b()
        diff = abs(la - lb) / abs(lb)
        assert diff <= 1e-12, f"step {k}: loss {la!r} (autograd_lite) vs {lb!r} (local_grads)"
        worst = max(worst, diff)
    return worst


def make_gpt(engine: str, _size: int | None = None) -> Case:
    """One training step (forward over a name, backward, Adam) of `TinyGPT`."""
    step, model = gpt_trainer(engine)
    what = "autograd_lite.Value" if engine == "autograd_lite" else "benchmarks/local_grads.py"
    return Case(lambda: None, lambda _: step(),
                note=f"{what}; {len(model.params):,} parameters, n_embd 16, 4 heads, relu² MLP, Adam")


# ----------------------------------------------------------------------------- floor


class _Bare:
    __slots__ = ("data", "a", "b")

    def __init__(self, data, a, b):
        self.data = data
        self.a = a
        self.b = b


def make_floor(n: int) -> Case:
    """The floor: allocate one bare slotted object holding two parents and do one float add, n times."""

    def setup():
        return _Bare(0.001, None, None)

    def run(leaf):
        prev = _Bare(0.5, None, None)
        for _ in range(n):
            prev = _Bare(prev.data + leaf.data, prev, leaf)

    return Case(setup, run, nodes=n)


MAKERS = {
    "wide": make_wide,
    "chain": make_chain,
    "mlp_step": make_mlp_step,
    "logreg_epoch": make_logreg_epoch,
    "logreg_grad": make_logreg_grad,
    "trace": make_trace,
    "gpt": make_gpt,
}
