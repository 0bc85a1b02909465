"""The scalar engine without numpy (issue 25), and freeing deep graphs on a small stack.

numpy is made unimportable in a subprocess (tests/conftest.py's AUTOGRAD_LITE_NO_NUMPY):
the scalar test modules pass there, every op gives the very numbers it gives with
numpy at IEEE edge points, and the parts that need numpy say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


# Subprocesses run in the temporary directory, not in the checkout: `python -c` puts
# its working directory first on sys.path, which would hide tools/mutate.py's copy.
ELSEWHERE = tempfile.gettempdir()


def _pythonpath() -> str:
    """This checkout on the path of a subprocess, after what is already there (tools/mutate.py's copy)."""
    return os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)
BLOCK = ("import sys\n"
         "class _Block:\n"
         "    def find_spec(self, name, path=None, target=None):\n"
         "        if name == 'numpy' or name.startswith('numpy.'):\n"
         "            raise ImportError('No module named numpy')\n"
         "sys.meta_path.insert(0, _Block())\n")


def _python(code: str, *, block_numpy: bool, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    return subprocess.run([sys.executable, "-c", (BLOCK if block_numpy else "") + code], capture_output=True,
                          text=True, env=env, cwd=ELSEWHERE, timeout=timeout)


# Every op of the table, forward and both gradients, at IEEE edge points, as repr strings.
EDGE_RESULTS = r"""
import itertools, json, math, sys
import autograd_lite as al
from autograd_lite import Value, engine
from autograd_lite.expr import evaluate
E = [0.0, -0.0, 5e-324, -5e-324, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.3333333333333333, 1e-310,
     30.0, -30.0, 709.0, 710.0, -746.0, 800.0, -800.0, 1e300, -1e300, math.inf, -math.inf, math.nan]
out = {"numpy": "numpy" in sys.modules}
def run(key, f):
    try:
        out[key] = [repr(v) for v in f()]
    except Exception as e:
        out[key] = type(e).__name__ + ": " + str(e)
for name in ("exp", "log", "sigmoid", "tanh", "relu", "sqrt", "abs", "sin", "cos", "neg"):
    for x in E:
        def f(name=name, x=x):
            v = Value(x)
            y = -v if name == "neg" else getattr(v, name)()
            y.backward()
            return [y.data, v.grad, getattr(al, name, abs)(x) if name != "neg" else -x]
        run(f"{name}({x!r})", f)
for name, op in (("add", "+"), ("sub", "-"), ("mul", "*"), ("div", "/"), ("pow", "**")):
    for x, y in itertools.product(E, E):
        def f(op=op, x=x, y=y):
            a, b = Value(x), Value(y)
            z = eval("a" + op + "b")
            z.backward()
            c = eval("a" + op + "y")  # a constant on the right
            c.backward()
            g = engine.gradients(z, [a, b], create_graph=True)
            return [z.data, a.grad, b.grad, c.data, g[0].data, g[1].data]
        run(f"{name}({x!r}, {y!r})", f)
for text in ("1/0", "-1/0", "0/0", "0**-1", "(-8)**(1/3)", "10**400", "exp(1000)", "log(0)", "log(-1)", "sqrt(-1)"):
    run(text, lambda text=text: [evaluate(text, {})[0].data])
print(json.dumps(out))
"""


def test_every_op_gives_the_same_numbers_without_numpy():
    """Forward values and gradients (float pass, constant operand, create_graph) of every
    op over edge points, and the parser's constant arithmetic: identical with numpy and
    without it (the IEEE results then come from pure Python)."""
    runs = []
    for block in (False, True):
        proc = _python(EDGE_RESULTS, block_numpy=block)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout))
    with_np, without = runs
    assert with_np.pop("numpy") is True and without.pop("numpy") is False
    assert len(with_np) > 3000
    differ = {k: (with_np[k], without[k]) for k in with_np if with_np[k] != without[k]}
    assert not differ, list(differ.items())[:10]
    assert without["1/0"] == ["inf"] and without["0/0"] == ["nan"] and without["(-8)**(1/3)"] == ["nan"]


def test_pure_python_ieee_arithmetic_matches_numpy_float64():
    """`kernels.IEEEFloat` (what `ieee` uses without numpy) against numpy's float64, on
    every pair of edge points, for + − × ÷ and ** (both orders)."""
    np = pytest.importorskip("numpy")
    from autograd_lite.engine import Value
    from autograd_lite.kernels import IEEEFloat

    edges = [0.0, -0.0, 5e-324, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5000000000000001, 1e308, -1e308,
             float("inf"), float("-inf"), float("nan")]
    ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a ** b]
    with np.errstate(all="ignore"):
        for f in ops:
            for x in edges:
                for y in edges:
                    want = repr(float(f(np.float64(x), np.float64(y))))
                    for got in (f(IEEEFloat(x), y), f(x, IEEEFloat(y)), f(IEEEFloat(x), IEEEFloat(y))):
                        assert type(got) is IEEEFloat and repr(float(got)) == want, (x, y)
    # overflow of a negative base to an odd power is -inf, also for |x| < 1 (a negative power)
    for x, y in ((-0.5, -1075.0), (0.5, -1075.0), (-0.5, -1074.0), (-10.0, 309.0), (-10.0, 310.0), (-0.0, -3.0)):
        with np.errstate(all="ignore"):
            want = repr(float(np.power(np.float64(x), np.float64(y))))
        assert repr(float(IEEEFloat(x) ** y)) == want, (x, y)
    assert repr(-IEEEFloat(0.0)) == "-0.0" and type(abs(IEEEFloat(-2.0))) is IEEEFloat
    assert type(+IEEEFloat(2.0)) is IEEEFloat and type(-IEEEFloat(2.0)) is IEEEFloat
    assert IEEEFloat(True) + True == 2.0  # ints and bools are numbers
    product = IEEEFloat(2.0) * Value(3.0)  # a Value's own operator takes over
    assert type(product) is Value and product.data == 6.0
    with pytest.raises(TypeError):
        IEEEFloat(1.0) + "1.5"


def test_parts_that_need_numpy_say_so():
    code = """
import autograd_lite as al
from autograd_lite import nn
msgs = []
for f in (lambda: al.vectorize(lambda x: x), lambda: al.compile_loss, lambda: __import__('autograd_lite.data'),
          lambda: __import__('autograd_lite.figures'), lambda: nn.MLP(2, [2, 1], seed=0)):
    try:
        f()
        msgs.append('no error')
    except ImportError as e:
        msgs.append(str(e))
print('\\n'.join(msgs))
print(sorted(m for m in __import__('sys').modules if m.split('.')[0] in ('numpy', 'graphviz')))
print(nn.MLP(2, [2, 1], init=0.5)([1.0, 2.0]).data)
from autograd_lite.kernels import ieee
print(type((al.Value(1.0) / 0.0).data).__name__, type(ieee(lambda x, y: x / y, 1.0, 0.0)).__name__)
"""
    proc = _python(code, block_numpy=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 8
    assert lines[7] == "float float"  # IEEE results are plain floats, as with numpy
    for line in lines[:5]:
        assert "needs numpy" in line and "pip install numpy" in line, line
    assert lines[5] == "[]"  # nothing third-party imported by `import autograd_lite` and nn
    assert float(lines[6]) == 0.5 * (0.5 * 1 + 0.5 * 2 + 0.5) * 2 + 0.5


@pytest.mark.slow
def test_scalar_test_modules_pass_without_numpy():
    """The scalar test modules, run again with numpy unimportable; a test skips only where
    it needs numpy itself (tests/conftest.py says which)."""
    modules = [str(ROOT / "tests" / name) for name in (
        "test_engine.py", "test_engine_edges.py", "test_nn.py", "test_expr.py", "test_losses.py", "test_optim.py",
        "test_explain.py", "test_transforms.py", "test_walkthrough.py")]
    env = {**os.environ, "PYTHONPATH": _pythonpath(), "AUTOGRAD_LITE_NO_NUMPY": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *modules,
                           "-k", "not million"],  # the million-node tests need no numpy either, but take long
                          capture_output=True, text=True, env=env, cwd=ELSEWHERE, timeout=600)
    tail = proc.stdout[-3000:]
    assert proc.returncode == 0, tail
    passed = int(tail.rsplit(" passed", 1)[0].split()[-1])
    assert passed >= 200, tail


DEEP_FREE = r"""
import sys, threading
from autograd_lite import engine
from autograd_lite.engine import Value
if sys.argv[1] == "park":
    Value.__del__ = engine._park_parents  # what CPython 3.13+ and Pyodide use
done = []
def run():
    x = Value(1.0)
    for _ in range(340_000):
        x = (x * 1.0000001).tanh() + 0.0
    del x  # a million nodes, each holding the one before
    done.append(len(engine._parked))
threading.stack_size(256 * 1024)
t = threading.Thread(target=run)
t.start()
t.join()
print(done)
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["default", "park"])
def test_a_deep_chain_is_freed_on_a_small_stack(how):
    """A chain of a million nodes, built and dropped in a thread with a 256 KiB C stack:
    no crash (a crash kills the subprocess), nothing left parked."""
    env = {**os.environ, "PYTHONPATH": _pythonpath()}
    proc = subprocess.run([sys.executable, "-c", DEEP_FREE, how], capture_output=True, text=True, env=env,
                          cwd=ELSEWHERE, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[0]"


def test_parking_frees_every_node():
    """With `Value.__del__` parking parents, a graph with shared nodes is freed completely
    when its root goes (no cyclic collection needed), and nothing stays parked."""
    import gc

    from autograd_lite import engine
    from autograd_lite.engine import Value

    def live() -> int:
        return sum(1 for o in gc.get_objects() if type(o) is Value)

    had = Value.__dict__.get("__del__")
    Value.__del__ = engine._park_parents  # type: ignore[attr-defined]
    gc.disable()
    try:
        before = live()
        x = Value(2.0)
        y = x
        for i in range(3000):
            y = (y * 1.5 + x) if i % 2 else (y + 0.5) * y.tanh()
        y.backward()
        assert live() - before > 6000
        del y
        assert live() - before == 1 and engine._parked == []  # x only
        assert x.data == 2.0 and x._a is None
    finally:
        gc.enable()
        if had is None:
            del Value.__del__
        else:
            Value.__del__ = had
