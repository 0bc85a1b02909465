"""autograd_lite: backpropagation you can hold in your hands.

>>> from autograd_lite import Value
>>> x, w = Value(2.0, label="x"), Value(-0.5, label="w")
>>> a = (w * x).sigmoid()
>>> a.backward()
>>> round(w.grad, 4)     # ∂a/∂w = σ'(wx)·x = a(1 − a)·x
0.3932
"""

from autograd_lite.check import GradcheckReport, gradcheck, numerical_grad
from autograd_lite.engine import (
    AnomalyError,
    Value,
    cos,
    derivative_table,
    detect_anomaly,
    exp,
    gradients,
    linear,
    log,
    relu,
    sigmoid,
    sin,
    sqrt,
    tanh,
)

# explain and jvp are imported now, not lazily: the function `explain` shares its name with its
# module, and a first `import autograd_lite.explain` would otherwise replace the function by the
# module.  Both modules import only the engine (the pictures load Graphviz when drawn).
from autograd_lite.explain import explain, render_backprop
from autograd_lite.forward import jvp
from autograd_lite.transforms import grad, hessian, hvp, jacobian, value_and_grad

try:
    from autograd_lite.vectorize import vectorize  # the function (the module stays in sys.modules)
except ImportError as _no_numpy:  # no numpy: the scalar engine works, vectorize says what it needs
    _NO_NUMPY = str(_no_numpy)

    def vectorize(*args, **kwargs):  # type: ignore[no-untyped-def,misc]
        """Needs numpy (not installed): ``pip install numpy``."""
        raise ImportError(_NO_NUMPY)

__version__ = "0.1.0"

# Names from the higher modules, imported on first use so that `import autograd_lite`
# stays light and the engine never imports what is built on top of it.
_LAZY = {
    "draw_graph": "autograd_lite.viz", "render_graph": "autograd_lite.viz",
    "compile_loss": "autograd_lite.vectorize",
    "compile_predict": "autograd_lite.vectorize", "TracingError": "autograd_lite.vectorize",
    "fit": "autograd_lite.train", "predict": "autograd_lite.train",
    "predict_proba": "autograd_lite.train", "accuracy": "autograd_lite.train",
}
_SUBMODULES = {"nn", "optim", "losses", "data", "train", "viz", "figures", "transforms", "check", "expr",
               "symbolic", "kernels", "fuse", "learn"}


def __getattr__(name: str):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"autograd_lite.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")
__all__ = [
    "Value", "grad", "value_and_grad", "gradients", "gradcheck", "numerical_grad", "GradcheckReport",
    "detect_anomaly", "AnomalyError", "derivative_table",
    "exp", "log", "sigmoid", "tanh", "relu", "sqrt", "sin", "cos", "linear",
    "hessian", "hvp", "jacobian", "vectorize", "compile_loss", "compile_predict", "TracingError",
    "draw_graph", "render_graph", "fit", "predict", "predict_proba", "accuracy",
    "nn", "optim", "losses", "data", "train", "learn",
    "explain", "render_backprop", "jvp",
]
