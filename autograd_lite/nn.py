"""Neural-network building blocks made of Values: a neuron, a layer, an MLP.

A neuron computes z = w·x + b = Σᵢ wᵢxᵢ + b and then a = g(z) for an activation
g (relu, tanh, sigmoid or the identity, "linear").  Logistic regression is one
sigmoid neuron: ŷ = σ(wᵀx + b) estimates P(y = 1 | x) (seed claim C1).

>>> from autograd_lite.nn import MLP, LogisticRegression
>>> model = LogisticRegression(2)             # weights start at 0: ŷ = σ(0) = 0.5
>>> model([1.0, -2.0])
Value(0.5, grad=0, label='a')
>>> [name for name, _ in model.named_parameters()]
['w.0', 'w.1', 'b']
>>> net = MLP(2, [4, 1], seed=0)               # 2 inputs → 4 relu units → 1 linear output
>>> len(net.parameters())                       # 4·(2+1) + 1·(4+1)
17
>>> net.named_parameters()[4][0]
'layers.0.neurons.1.w.1'

Parameters and outputs are labelled the course's way, so the ledger and the
pictures tell them apart: a neuron's weights are ``w1, w2, …`` (counted from 1
like the inputs x1, x2), its bias ``b``, its sum ``z`` and activation ``a``;
inside a `Layer` they are prefixed by the neuron (``neuron2.w1``), inside an
`MLP` by the layer and the neuron (``layer1.neuron2.w1``, ``layer2.neuron1.a``).
`Module.named_parameters` (``layers.0.neurons.1.w.0``, the keys of saved
files) and `Module.named_modules` give the structure.

>>> [p.label for p in MLP(2, [2, 1], seed=0).parameters()][:4]
['layer1.neuron1.w1', 'layer1.neuron1.w2', 'layer1.neuron1.b', 'layer1.neuron2.w1']

Models save to and load from JSON (`Module.save`, `Module.load`): floats are
written with ``repr`` so they round-trip exactly, the architecture is stored
so ``MLP.load(path)`` rebuilds the model, and a broken or mismatched file
raises ``ValueError`` without changing anything.  Never pickle.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from autograd_lite.engine import Value, linear

__all__ = ["Module", "Neuron", "Layer", "MLP", "LogisticRegression", "ACTIVATIONS", "FORMAT"]

#: The activations a `Neuron` accepts: name → a = g(z).
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
#: The ``"format"`` tag written into saved model files.
FORMAT = "autograd_lite.model"
_FORMAT_VERSION = 1


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int, a numpy Generator or None, not {type(seed).__name__}")
    return np.random.default_rng(seed)


def _check_size(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{what} must be an int, not {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{what} must be at least 1, got {n}")
    return int(n)


def _check_activation(activation: Any, what: str = "activation") -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown {what} {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation


def _as_input(x: Any, nin: int) -> list:
    """One example as a list of floats/Values of length ``nin`` (else a clear error)."""
    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(f"a model takes one example (a 1-D array of {nin} numbers), got an array of "
                             f"shape {x.shape}; use autograd_lite.train.predict for a batch")
        if x.dtype.kind not in "biuf":
            raise TypeError(f"input array must be numeric, not dtype {x.dtype}")
        xs = x.astype(float).tolist()
    elif isinstance(x, (list, tuple)):
        xs = list(x)
        for i, v in enumerate(xs):
            if v.__class__ is Value or v.__class__ is float:
                continue
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise TypeError(f"input {i} must be a number or a Value, not {type(v).__name__}: {v!r:.40}")
            xs[i] = float(v)
    elif isinstance(x, (Value, int, float, np.number)):
        xs = [x if x.__class__ is Value else float(x)]
    else:
        raise TypeError(f"a model takes a list, tuple or 1-D numpy array of inputs, not {type(x).__name__}")
    if len(xs) != nin:
        raise ValueError(f"expected {nin} input{'s' if nin != 1 else ''}, got {len(xs)}")
    return xs


class Module:
    """Base class: a container of parameters (leaf Values) and sub-modules.

    Attributes that are a `Value`, a `Module`, or a list of them are found
    automatically (in the order they were assigned), which defines the dotted
    names: ``layers.0.neurons.3.w.1``.  Subclasses implement ``__call__`` and,
    to be saved and loaded, ``config()`` (the keyword arguments that rebuild
    the same architecture)."""

    _registry: ClassVar[dict[str, type[Module]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        Module._registry[cls.__name__] = cls

    # structure ---------------------------------------------------------------
    def _children(self) -> Iterable[tuple[str, Any]]:
        for name, value in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(value, (Value, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, (Value, Module)) for v in value):
                for i, v in enumerate(value):
                    yield f"{name}.{i}", v

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its dotted name, in a stable order (depth first)."""
        out: list[tuple[str, Value]] = []
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:  # iterative, depth first, children in attribute order
            name, item = stack.pop()
            if isinstance(item, Value):
                out.append((name, item))
                continue
            for child_name, child in reversed(list(item._children())):
                stack.append((f"{name}{child_name}{'.' if isinstance(child, Module) else ''}", child))
        return out

    def parameters(self) -> list[Value]:
        """The leaf Values that training updates, in `named_parameters` order."""
        return [p for _, p in self.named_parameters()]

    def named_modules(self) -> list[tuple[str, Module]]:
        """This module (path ``''``) and every sub-module with its dotted path, depth first."""
        out: list[tuple[str, Module]] = []
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            path, module = stack.pop()
            out.append((path, module))
            subs = [(f"{path}.{n}" if path else n, c) for n, c in module._children() if isinstance(c, Module)]
            stack.extend(reversed(subs))
        return out

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (gradients accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def __call__(self, x: Any) -> Value | list[Value]:
        raise NotImplementedError

    # preprocessing -------------------------------------------------------------
    def set_standardization(self, mean: Any, std: Any) -> None:
        """Make the model standardize its raw inputs first: x'ⱼ = (xⱼ − meanⱼ) / stdⱼ
        (a std of 0 counts as 1, as in `autograd_lite.data.standardize`).

        Use it after training on standardized features so that the model (and the
        file `save` writes) predicts from the *raw* rows: ``mean, std`` are the
        training statistics that `autograd_lite.data.standardize` returned.
        ``set_standardization(None, None)`` removes it."""
        if mean is None and std is None:
            self._standardization = None
            return
        nin = getattr(self, "nin", None)
        mu, sd = _float_list(mean, "mean"), _float_list(std, "std")
        if len(mu) != len(sd) or (nin is not None and len(mu) != nin):
            raise ValueError(f"mean and std need one number per input ({nin}), got {len(mu)} and {len(sd)}")
        if any(v < 0 for v in sd):
            raise ValueError("std must be ≥ 0")
        self._standardization = (mu, [v if v > 0 else 1.0 for v in sd])

    @property
    def standardization(self) -> tuple[list[float], list[float]] | None:
        """``(mean, std)`` applied to raw inputs by `set_standardization` (None: inputs used as they are)."""
        return getattr(self, "_standardization", None)

    @property
    def metadata(self) -> dict[str, Any]:
        """Free-form JSON-able facts saved with the model, e.g. ``{"features": [...],
        "target": "label", "classes": [0, 1]}`` (the CLI fills it in)."""
        if getattr(self, "_metadata", None) is None:
            self._metadata: dict[str, Any] = {}
        return self._metadata

    def _inputs(self, x: Any) -> list:
        """One raw example → the list the first layer reads (standardized if set)."""
        xs = _as_input(x, self.nin)  # type: ignore[attr-defined]
        scaling = getattr(self, "_standardization", None)
        if scaling is not None:
            xs = [(v - m) / s for v, m, s in zip(xs, *scaling)]
        return xs

    @property
    def output_activation(self) -> str | None:
        """The activation of the output unit(s) ("sigmoid" means outputs are probabilities)."""
        return None

    # saving ------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """Keyword arguments that rebuild this architecture (saved with the weights)."""
        return {}

    def state_dict(self) -> dict[str, float]:
        """``{dotted name: value}`` for every parameter."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set the parameters from ``state`` (names as in `state_dict`).  Checks
        everything first: missing or unexpected names or non-numbers raise
        ``ValueError`` and leave the model unchanged."""
        if not isinstance(state, dict):
            raise ValueError(f"a state dict must be a dict of name → number, not {type(state).__name__}")
        params = self.named_parameters()
        names = [n for n, _ in params]
        missing = [n for n in names if n not in state]
        unexpected = [k for k in state if k not in set(names)]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {len(missing)} ({', '.join(missing[:5])}{' …' if len(missing) > 5 else ''})")
            if unexpected:
                parts.append(f"unexpected {len(unexpected)} ({', '.join(map(str, unexpected[:5]))}"
                             f"{' …' if len(unexpected) > 5 else ''})")
            raise ValueError(f"state does not match {type(self).__name__} with {len(names)} parameters: "
                             + "; ".join(parts))
        values = []
        for name in names:
            v = state[name]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ValueError(f"parameter {name!r} must be a number, got {type(v).__name__}: {v!r:.40}")
            try:
                values.append(float(v))
            except OverflowError:
                raise ValueError(f"parameter {name!r} is too large for a float: {v!r:.40}") from None
        for (_, p), v in zip(params, values):
            p.data = v

    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture, the weights and the input standardization (if any)
        as JSON (floats exact: ``repr``).

        The write is atomic: the text goes to a temporary file in the same folder,
        which then replaces ``path``, so a failed write (a full disk, a killed
        process) leaves an existing file as it was.  Non-finite weights (nan, inf:
        a diverged training) raise ``ValueError`` and write nothing."""
        state = self.state_dict()
        bad = [n for n, v in state.items() if not math.isfinite(v)]
        if bad:
            raise ValueError(f"cannot save: parameter {bad[0]!r} is {state[bad[0]]} ({len(bad)} non-finite "
                             "weight(s)); the training probably diverged (try a smaller learning rate)")
        doc: dict[str, Any] = {
            "format": FORMAT, "version": _FORMAT_VERSION, "class": type(self).__name__,
            "config": self.config(), "parameters": state,
        }
        if self.standardization is not None:
            mean, std = self.standardization
            doc["preprocessing"] = {"standardize": {"mean": mean, "std": std}}
        if self.metadata:
            doc["metadata"] = self.metadata
        try:
            text = json.dumps(doc, indent=1, allow_nan=False) + "\n"
        except (TypeError, ValueError) as e:
            raise ValueError(f"cannot save: metadata must be finite JSON data ({e})") from None
        _atomic_write(os.fspath(path), text)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Module:
        """Rebuild a model saved with `save` (with its input standardization and
        metadata).  ``MLP.load`` insists on an MLP file; ``Module.load`` accepts any
        model class.  Sizes are checked against the parameters in the file before
        anything is built; a corrupted or truncated file, another class, wrong
        types or weights that do not fit raise ``ValueError`` naming the file."""
        path = os.fspath(path)
        with open(path, "rb") as fh:
            raw = fh.read()
        try:
            doc = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}: not a valid model file (not UTF-8 text: byte {e.start})") from None
        except RecursionError:
            raise ValueError(f"{path}: not a valid model file (JSON nested too deeply)") from None
        except ValueError as e:  # bad JSON, NaN/Infinity tokens, integers with thousands of digits
            raise ValueError(f"{path}: not a valid model file (bad JSON: {' '.join(str(e).split())})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"{path}: not an autograd_lite model file (no \"format\": \"{FORMAT}\")")
        version = doc.get("version")
        if isinstance(version, bool) or version != _FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported model file version {version!r:.40}")
        name, config, state = doc.get("class"), doc.get("config"), doc.get("parameters")
        klass = Module._registry.get(name) if isinstance(name, str) else None
        if klass is None:
            raise ValueError(f"{path}: unknown model class {name!r:.60}")
        if not issubclass(klass, cls):
            raise ValueError(f"{path} holds a {name}, not a {cls.__name__}; load it with {name}.load or Module.load")
        if not isinstance(config, dict) or not isinstance(state, dict):
            raise ValueError(f"{path}: \"config\" and \"parameters\" must be JSON objects")
        try:
            expected = _expected_parameters(klass, config)
            if expected is not None and expected != len(state):
                raise ValueError(f"the config declares {expected} parameters but the file holds {len(state)}")
            for key, v in state.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ValueError(f"parameter {key!r:.60} must be a number, got {type(v).__name__}")
                if isinstance(v, int) and abs(v) > 2 ** 1023:
                    raise ValueError(f"parameter {key!r:.60} is too large for a float")
                if not math.isfinite(v):
                    raise ValueError(f"parameter {key!r:.60} is not finite")
            scaling = _read_preprocessing(doc.get("preprocessing"), config.get("nin"))
            metadata = doc.get("metadata", {})
            if not isinstance(metadata, dict):
                raise ValueError("\"metadata\" must be a JSON object")
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        try:
            model = klass(**config, init="zeros")  # type: ignore[call-arg]  # every model class takes init=
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: cannot rebuild {name} from config {config!r:.200}: {e}") from None
        try:
            model.load_state_dict(state)
            if scaling is not None:
                model.set_standardization(*scaling)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        model.metadata.update(metadata)
        return model

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load a saved file's weights into this model (same class and parameter
        names required; on any error the model is unchanged)."""
        other = type(self).load(path)
        if other.config() != self.config():
            raise ValueError(f"{path}: architecture {other.config()} does not match this model's {self.config()}")
        self.load_state_dict(other.state_dict())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


def _init_values(n: int, init: Any, activation: str, fan_in: int, fan_out: int,
                 rng: np.random.Generator) -> list[float]:
    """``n`` initial weights: He N(0, 2/fan_in) for relu, Glorot N(0, 2/(fan_in+fan_out))
    for the others; "zeros" (or any number: every weight equal, the symmetric start of C11)."""
    if isinstance(init, str):
        if init == "zeros":
            return [0.0] * n
        if init != "random":
            raise ValueError(f"unknown init {init!r}; use 'random', 'zeros' or a number")
        std = math.sqrt(2.0 / fan_in) if activation == "relu" else math.sqrt(2.0 / (fan_in + fan_out))
        return (rng.standard_normal(n) * std).tolist()
    if isinstance(init, bool) or not isinstance(init, (int, float, np.integer, np.floating)):
        raise TypeError(f"init must be 'random', 'zeros' or a number, not {type(init).__name__}")
    return [float(init)] * n


class Neuron(Module):
    """a = g(w·x + b): ``nin`` weights ``w`` and a bias ``b``.

    ``activation`` g is "relu", "tanh", "sigmoid" or "linear" (g(z) = z).
    ``init="random"`` draws the weights from N(0, 2/nin) for relu (He) and
    N(0, 2/(nin + fan_out)) otherwise (Glorot), with a numpy Generator seeded by
    ``seed``; the bias starts at 0.  ``init="zeros"`` (or a number) makes every
    weight and the bias that value.  ``fused=True`` computes z as one
    ``linear`` node (fast); ``fused=False`` builds it from × and + (for
    teaching pictures) with the same values and gradients."""

    def __init__(self, nin: int, activation: str = "relu", init: Any = "random",
                 seed: int | np.random.Generator | None = None, fused: bool = True, fan_out: int = 1) -> None:
        self.nin = _check_size(nin, "nin")
        self.activation = _check_activation(activation)
        self.fused = bool(fused)
        values = _init_values(self.nin, init, self.activation, self.nin, _check_size(fan_out, "fan_out"),
                              _rng(seed) if init == "random" else None)  # type: ignore[arg-type]
        self.w = [Value(v, label=f"w{i}") for i, v in enumerate(values, 1)]  # w1, w2, … as in the course
        self.b = Value(0.0 if isinstance(init, str) else float(init), label="b")
        self._prefix = ""  # "layer1.neuron2." inside a model: see _name_within

    def _name_within(self, prefix: str) -> None:
        """Label this neuron's parameters (and, when called, z and a) with ``prefix``."""
        self._prefix = prefix
        for i, w in enumerate(self.w, 1):
            w.label = f"{prefix}w{i}"
        self.b.label = f"{prefix}b"

    def _forward(self, xs: list) -> Value:
        if self.fused:
            z = linear(self.w, xs, self.b)
        else:
            z = self.b  # b + w1·x1 + w2·x2 + …: the fused node's order, so values agree exactly
            for w, x in zip(self.w, xs):
                z = z + w * x
        act = self.activation
        z.label = f"{self._prefix}z"
        if act == "linear":
            return z
        a = z.relu() if act == "relu" else z.tanh() if act == "tanh" else z.sigmoid()  # type: ignore[attr-defined]
        a.label = f"{self._prefix}a"
        return a

    def __call__(self, x: Any) -> Value:
        """a = g(w·x + b) for one example ``x`` (numbers or Values)."""
        return self._forward(self._inputs(x))

    @property
    def output_activation(self) -> str:
        return self.activation

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation, "fused": self.fused}


class Layer(Module):
    """``nout`` neurons that read the same ``nin`` inputs.  Returns a list of
    ``nout`` Values (a single Value when ``nout == 1``)."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", init: Any = "random",
                 seed: int | np.random.Generator | None = None, fused: bool = True) -> None:
        self.nin = _check_size(nin, "nin")
        self.nout = _check_size(nout, "nout")
        self.activation = _check_activation(activation)
        self.fused = bool(fused)
        rng = _rng(seed)
        self.neurons = [Neuron(self.nin, activation, init, rng, fused, fan_out=self.nout) for _ in range(self.nout)]
        self._name_within("")

    def _name_within(self, prefix: str) -> None:
        """Label the neurons ``{prefix}neuron1.``, ``{prefix}neuron2.``, …"""
        for j, n in enumerate(self.neurons, 1):
            n._name_within(f"{prefix}neuron{j}.")

    def _forward(self, xs: list) -> list[Value]:
        return [n._forward(xs) for n in self.neurons]

    def __call__(self, x: Any) -> Value | list[Value]:
        out = self._forward(self._inputs(x))
        return out[0] if len(out) == 1 else out

    @property
    def output_activation(self) -> str:
        return self.activation

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation, "fused": self.fused}


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` is 2 inputs → 16 → 16 → 1.

    Hidden layers use ``activation``; the last layer uses ``output_activation``
    ("linear" by default: the output is a score/logit — train it with
    ``bce_with_logits``, or pass ``output_activation="sigmoid"`` for a probability)."""

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 output_activation: str = "linear", init: Any = "random",
                 seed: int | np.random.Generator | None = None, fused: bool = True) -> None:
        self.nin = _check_size(nin, "nin")
        if isinstance(nouts, (int, np.integer)) or not isinstance(nouts, Sequence) or len(nouts) == 0:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, e.g. [16, 16, 1], got {nouts!r}")
        self.nouts = [_check_size(n, "each layer size in nouts") for n in nouts]
        self.activation = _check_activation(activation)
        self._output_activation = _check_activation(output_activation, "output_activation")
        self.fused = bool(fused)
        rng = _rng(seed)
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation,
                             init, rng, fused) for i in range(len(self.nouts))]
        for i, layer in enumerate(self.layers, 1):
            layer._name_within(f"layer{i}.")

    def __call__(self, x: Any) -> Value | list[Value]:
        xs = self._inputs(x)
        for layer in self.layers:
            xs = layer._forward(xs)
        return xs[0] if len(xs) == 1 else xs

    @property
    def output_activation(self) -> str:
        return self._output_activation

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nouts": list(self.nouts), "activation": self.activation,
                "output_activation": self._output_activation, "fused": self.fused}


class LogisticRegression(Neuron):
    """Logistic regression as a one-layer network (C1): ŷ = σ(wᵀx + b) = P(y = 1 | x).

    One sigmoid neuron.  The weights start at zero by default (the log-loss cost
    is convex, so any start works); ``init="random"`` and ``seed`` as for `Neuron`."""

    def __init__(self, nin: int, init: Any = "zeros", seed: int | np.random.Generator | None = None,
                 fused: bool = True) -> None:
        super().__init__(nin, "sigmoid", init, seed, fused)

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "fused": self.fused}


def _float_list(values: Any, what: str) -> list[float]:
    """A flat sequence of finite numbers as a list of floats (else ValueError)."""
    try:
        out = [float(v) for v in np.asarray(values, dtype=float).reshape(-1)]
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be a sequence of numbers") from None
    if np.ndim(values) != 1 or not all(map(math.isfinite, out)):
        raise ValueError(f"{what} must be a flat sequence of finite numbers")
    return out


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a number in JSON")


def _atomic_write(path: str, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _size(config: dict[str, Any], key: str) -> int:
    n = config.get(key)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"config {key!r} must be a positive integer, got {n!r:.40}")
    return n


def _expected_parameters(klass: type, config: dict[str, Any]) -> int | None:
    """The number of parameters ``klass(**config)`` would have, from the config alone
    (types checked strictly); None for a class this module does not define."""
    allowed = {LogisticRegression: {"nin", "fused"}, Neuron: {"nin", "activation", "fused"},
               Layer: {"nin", "nout", "activation", "fused"},
               MLP: {"nin", "nouts", "activation", "output_activation", "fused"}}.get(klass)
    if allowed is None:
        return None
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(f"unexpected config key(s) {', '.join(map(repr, unknown))} for {klass.__name__}")
    if "fused" in config and not isinstance(config["fused"], bool):
        raise ValueError(f"config 'fused' must be true or false, got {config['fused']!r:.40}")
    for key in ("activation", "output_activation"):
        if key in config and config[key] not in ACTIVATIONS:
            raise ValueError(f"config {key!r} must be one of {', '.join(ACTIVATIONS)}, got {config[key]!r:.40}")
    nin = _size(config, "nin")
    if klass is MLP:
        nouts = config.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            raise ValueError("config 'nouts' must be a non-empty list of layer sizes")
        sizes = [nin] + [_size({"nouts": n}, "nouts") for n in nouts]
        return sum(b * (a + 1) for a, b in zip(sizes, sizes[1:]))
    if klass is Layer:
        return _size(config, "nout") * (nin + 1)
    return nin + 1


def _read_preprocessing(pre: Any, nin: Any) -> tuple[list[float], list[float]] | None:
    if pre is None:
        return None
    if not isinstance(pre, dict) or set(pre) - {"standardize"}:
        raise ValueError("\"preprocessing\" must be {\"standardize\": {\"mean\": [...], \"std\": [...]}}")
    st = pre.get("standardize")
    if st is None:
        return None
    if not isinstance(st, dict) or set(st) != {"mean", "std"}:
        raise ValueError("\"standardize\" must be {\"mean\": [...], \"std\": [...]}")
    out = []
    for key in ("mean", "std"):
        v = st[key]
        if not isinstance(v, list) or len(v) != nin or any(isinstance(x, bool) or not isinstance(x, (int, float))
                                                           for x in v):
            raise ValueError(f"standardize {key!r} must be a list of {nin} numbers")
        out.append(_float_list(v, key))
    return out[0], out[1]
