"""The autograder: the library is the oracle, and a failure names the mistake.

Every exercise is checked on inputs ordered from the simplest (0, small numbers,
one example) to the hardest (±1000, saturation, 10,000 nodes); the first input
where the learner's answer differs from the engine's is the smallest failing
input, and the report shows it with the expected and the learner's value.  When
those all pass, hypothesis (if installed) searches further and shrinks what it
finds (derandomised: the same answer always gets the same report).  The
answer is then compared with the classic mistakes (σ instead of σ', a sign
slip, a missing factor, overwriting instead of accumulating, ...), each stated
as a formula, on that input and on a few more, and the matching one is named.
For ``backprop`` and ``chain_rule`` the diagnosis quotes the first wrong step of
the chain-rule ledger (`autograd_lite.explain`), with the ledger's node names.

Learner code runs under a time limit (SIGALRM in the main thread, a trace hook
elsewhere), and its exceptions are reported with the learner's own line.
"""

from __future__ import annotations

import ast
import collections
import contextlib
import html
import inspect
import itertools
import math
import numbers
import os
import signal
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lite import engine
from autograd_lite import kernels as K
from autograd_lite.engine import Value, topological_order
from autograd_lite.learn.exercises import EXERCISES

__all__ = ["Report", "TimeLimitExceeded", "check", "local_derivatives", "DEFAULT_TIME_LIMIT"]

DEFAULT_TIME_LIMIT = 10.0
"""Seconds a learner's function may run for one exercise (all its inputs together)."""

_LIBRARY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------


@dataclass(repr=False)
class Report:
    """The verdict on one exercise: ``status`` is "passed", "failed" or "not started";
    ``message`` says why, in words; ``mistake`` names a recognised mistake (e.g.
    "overwrite", "sign", "overflow") or is None; ``input``, ``expected`` and ``got``
    hold the smallest failing input and the two answers, when there is one."""

    exercise: str
    status: str
    message: str
    mistake: str | None = None
    input: Any = None
    expected: Any = None
    got: Any = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = {"passed": "✓", "failed": "✗"}.get(self.status, "·")
        head = f"{mark} {self.exercise}: {self.status}"
        if self.status == "not started" or not self.message:
            return f"{head} ({self.message})" if self.message else head
        return head + "\n" + textwrap.indent(self.message, "    ")

    __repr__ = __str__  # at a Python prompt the report reads as it prints

    def _repr_html_(self) -> str:
        colour = {"passed": "#1b7f3b", "failed": "#b00020"}.get(self.status, "#666666")
        body = f"<pre style='white-space:pre-wrap'>{html.escape(self.message)}</pre>" if self.message else ""
        return (f"<div><b style='color:{colour}'>{html.escape(self.exercise)}: {html.escape(self.status)}</b>"
                f"{body}</div>")


# --------------------------------------------------------------------------
# bounding and reporting learner code
# --------------------------------------------------------------------------


class TimeLimitExceeded(BaseException):
    """The learner's code ran past the exercise's time limit (a BaseException, so that
    a learner's ``except Exception`` cannot swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise `TimeLimitExceeded` in the code inside after ``seconds`` (None: no limit).
    In the main thread a SIGALRM timer (re-armed every 0.2 s, in case the learner's
    code catches it), elsewhere a trace hook that looks at the clock."""
    if seconds is None:
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded

    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        old = signal.signal(signal.SIGALRM, alarm)
        start = time.monotonic()
        outer, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            if outer > 0:  # someone else's timer (pytest-timeout, say) keeps running
                signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3), outer_interval)
        return
    deadline = time.monotonic() + seconds

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise TimeLimitExceeded
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(previous)


class _NotStarted(Exception):
    """The learner's function raised NotImplementedError: the stub is untouched."""


class _LearnerError(Exception):
    """The learner's function raised: the exception and the input it was given."""

    def __init__(self, exc: BaseException, where: str) -> None:
        super().__init__(str(exc))
        self.exc, self.where = exc, where


class _Verdict(Exception):
    """A finished report, raised from deep inside a grader."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.message)
        self.report = report


def _learner_line(exc: BaseException) -> str:
    """Where in the learner's code ``exc`` was raised: the innermost frame that is not
    in autograd_lite's or Python's own files (``line 12 of 04_backprop.py: code``)."""
    frames = traceback.extract_tb(exc.__traceback__)
    stdlib = os.path.dirname(os.__file__)
    mine = [f for f in frames if not f.filename.startswith((_LIBRARY_DIR, stdlib))
            and "site-packages" not in f.filename and "dist-packages" not in f.filename]
    frame = mine[-1] if mine else (frames[-1] if frames else None)
    if frame is None:
        return ""
    if isinstance(exc, RecursionError) and mine:  # the recursive call: the line that repeats most
        counts = collections.Counter((f.filename, f.lineno) for f in mine)
        frame = max(reversed(mine), key=lambda f: counts[f.filename, f.lineno])
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"line {frame.lineno} of {os.path.basename(frame.filename)}{code}"


def _call(fn: Callable, *args: Any, where: str) -> Any:
    """Call the learner's function: NotImplementedError means "not started", any other
    exception becomes a `_LearnerError` that remembers ``where`` (the input)."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except NotImplementedError:
        raise _NotStarted from None
    except TimeLimitExceeded as e:
        e.in_learner = True  # type: ignore[attr-defined]  # the learner's code, not the grader's, ran out of time
        raise
    except KeyboardInterrupt:
        raise
    except (Exception, SystemExit) as e:  # SystemExit: a learner's sys.exit() must not end the grader
        raise _LearnerError(e, where) from e


def _exception_report(ex: str, err: _LearnerError, mistake: str = "exception", advice: str = "") -> Report:
    e = err.exc
    line = _learner_line(e)
    text = f"your function raised {type(e).__name__}: {str(e)[:300]}\n"
    text += f"  on {err.where}\n" + (f"  at {line}\n" if line else "")
    return Report(ex, "failed", (text + advice).rstrip(), mistake, err.where)


# --------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------


def _n(x: Any) -> str:
    """A number for a message: up to 10 significant digits."""
    if isinstance(x, (float, int, np.floating, np.integer)) and not isinstance(x, bool):
        return format(float(x), ".10g")
    return repr(x)


class _NotANumber(Exception):
    pass


def _as_float(x: Any) -> float:
    """A learner's answer as a float: numbers, numpy scalars, 0-d arrays and Values."""
    if isinstance(x, Value):
        return float(x.data)
    if isinstance(x, (numbers.Real, np.floating, np.integer)) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, np.ndarray) and x.size == 1 and x.dtype.kind in "iuf":
        return float(x.reshape(()))
    raise _NotANumber(_describe_type(x))


def _describe_type(x: Any) -> str:
    if x is None:
        return "None (is a `return` missing?)"
    if isinstance(x, bool):
        return f"the bool {x}"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} items"
    kind = type(x).__name__
    return f"{'an' if kind[:1] in 'aeiouAEIOU' else 'a'} {kind} ({x!r:.60})"


def _close(got: float, expected: float, rel: float = 1e-6, abs_: float = 1e-12) -> bool:
    """Equal up to rounding: relative 1e-6 plus a tiny absolute slack; infinities must match."""
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    if math.isinf(expected) or math.isinf(got):
        return got == expected
    return abs(got - expected) <= rel * abs(expected) + abs_


def _sigmoid(z: float) -> float:
    return float(K.sigmoid(float(z)))


def _dsigmoid(z: float) -> float:
    """σ'(z) = σ(z)σ(−z): no cancellation in 1 − σ(z) near saturation."""
    return _sigmoid(z) * _sigmoid(-z)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


# --------------------------------------------------------------------------
# local derivatives: the engine's table, one node at a time
# --------------------------------------------------------------------------

_watchers: list[Callable[[Value], None]] = []


def _local_pairs(node: Value) -> list[tuple[int, Value, float]]:
    """(index in ``node.parents``, parent, ∂node/∂parent) for every Value parent of
    ``node``, from the engine's derivative table (the rules `engine.partial` evaluates)."""
    op = node.op
    if op is None:
        return []
    parents = node.parents
    values = [p.data if isinstance(p, Value) else p for p in parents]
    out: list[tuple[int, Any, tuple]] = []
    if op.name == "linear":  # the fused w·x + b: rules per pair (wᵢ, xᵢ), then the bias (backprop's order)
        n = (len(parents) - 1) // 2
        dw, dx, db = op.partials
        for i in range(n):
            pair = (values[i], values[n + i])
            out += [(i, dw, pair), (n + i, dx, pair)]
        out.append((2 * n, db, ()))
    else:
        out = [(i, rule, (*values, node.data)) for i, rule in enumerate(op.partials)]
    return [(i, parents[i], float(engine.ieee(engine.partial, rule, *args)))
            for i, rule, args in out if isinstance(parents[i], Value)]


def local_derivatives(node: Value) -> list[tuple[Value, float]]:
    """The (parent, ∂node/∂parent) pairs of one node, as numbers from the engine's
    derivative table: ``[(x, 2.0), (w, -0.5)]`` for ``node = w * x`` with w = 2, x = −0.5;
    ``[]`` for a leaf.  A node used twice by one op (``x * x``) appears twice.  The order is
    the one backprop adds them in (the ledger's, `autograd_lite.explain`).
    Constants (numbers in the expression) are not parents: they need no gradient."""
    if not isinstance(node, Value):
        raise TypeError(f"local_derivatives() takes a node (a Value), got {type(node).__name__}: "
                        "pass the node itself, not node.data")
    for watch in _watchers:
        watch(node)
    return [(p, d) for _, p, d in _local_pairs(node)]


# --------------------------------------------------------------------------
# scalar exercises: cases, mistakes as formulas, the smallest failing input
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mistake:
    """A classic mistake: its key, the wrong formula it computes, and what to say."""

    key: str
    formula: Callable[..., float]
    says: Callable[..., str]  # (args, got, expected) -> explanation


def _r(x: Any) -> str:
    """An input exactly (the shortest repr that reads back as the same float): 1e-12, 0.999999999999, -710."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _args_text(names: Sequence[str], args: Sequence[Any]) -> str:
    return ", ".join(f"{k} = {_r(v)}" for k, v in zip(names, args))


def _matches(fn: Callable, m: _Mistake, probes: Sequence[tuple], first: tuple, got: float) -> bool:
    """Does the learner's function compute ``m``'s formula: at the failing input and at
    every probe where both give a finite number (at least two of them)?"""
    try:
        want = m.formula(*first)
    except (ArithmeticError, ValueError):
        return False
    if not _close(got, want, 1e-6, 1e-9):
        return False
    agree = 0
    for args in probes:
        try:
            with np.errstate(all="ignore"):
                mine = _as_float(fn(*args))
            want = m.formula(*args)
        except (TimeLimitExceeded, KeyboardInterrupt):
            raise
        except BaseException:
            continue
        if not (math.isfinite(mine) and math.isfinite(want)):
            continue
        if not _close(mine, want, 1e-6, 1e-9):
            return False
        agree += 1
    return agree >= 2


def _grade_scalar(ex: str, fn: Callable, names: Sequence[str], cases: Sequence[tuple],
                  reference: Callable[..., float], mistakes: Sequence[_Mistake], probes: Sequence[tuple],
                  overflow_advice: str = "", call: Callable[[tuple], str] | None = None,
                  strategy: Callable[[], Any] | None = None) -> Report:
    """Check ``fn`` against ``reference`` on ``cases`` (simplest first), then on inputs
    from hypothesis (``strategy``); on the first failure name the matching mistake,
    or show expected vs got."""

    def one(args: tuple) -> Report | None:
        where = call(args) if call else f"{ex}({_args_text(names, args)})"
        try:
            raw = _call(fn, *args, where=where)
        except _LearnerError as err:
            if isinstance(err.exc, OverflowError) and overflow_advice:
                return _exception_report(ex, err, "overflow", overflow_advice)
            return _exception_report(ex, err)
        expected = reference(*args)
        try:
            got = _as_float(raw)
        except _NotANumber as e:
            return Report(ex, "failed", f"{where} returned {e}; it should return a number ({_n(expected)} here)",
                          "type", args, expected, raw)
        if _close(got, expected):
            return None
        head = f"{where}: expected {_n(expected)}, got {_n(got)} (the smallest failing input)\n"
        if not math.isfinite(got) and math.isfinite(expected) and overflow_advice:
            return Report(ex, "failed", head + overflow_advice, "overflow", args, expected, got)
        for m in mistakes:
            if _matches(fn, m, probes, args, got):
                return Report(ex, "failed", head + m.says(args, got, expected), m.key, args, expected, got)
        return Report(ex, "failed", head.rstrip(), None, args, expected, got)

    report, searched = _first_failure(cases, one, strategy)
    if report is not None:
        return report
    return Report(ex, "passed", f"correct on {len(cases)} inputs from {_args_text(names, cases[0])} to "
                                f"{_args_text(names, cases[-1])}{searched}")


def _first_failure(cases: Sequence[tuple], one: Callable[[tuple], Report | None],
                   strategy: Callable[[], Any] | None) -> tuple[Report | None, str]:
    """The report of the first failing case; if none fails, of the smallest failing
    input that hypothesis finds (drawn from ``strategy()``, deterministic, shrunk), if
    hypothesis is installed and this is the main thread (elsewhere the trace-hook time
    limit would make its search slow).  Also a note saying whether hypothesis searched."""
    for args in cases:
        report = one(args)
        if report is not None:
            return report, ""
    if strategy is None or threading.current_thread() is not threading.main_thread():
        return None, ""
    try:
        from hypothesis import HealthCheck, find, settings
        from hypothesis.errors import NoSuchExample
    except ImportError:
        return None, ""

    # the search gets at most half of what is left of the time limit (and 3 s): a slow
    # machine shortens the search, it never fails a right answer
    budget = time.monotonic() + min(3.0, 0.5 * (_deadline[0] - time.monotonic()))

    def fails(args: tuple) -> bool:
        if time.monotonic() > budget:
            raise _OutOfTime
        try:
            return one(args) is not None
        except (_NotStarted, _Verdict):
            return True

    try:
        found = find(strategy(), fails, settings=settings(max_examples=100, database=None, derandomize=True,
                                                          deadline=None, suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return None, ", and on 100 inputs drawn by hypothesis"
    except _OutOfTime:
        return None, ", and on inputs drawn by hypothesis until its time was up"
    except TimeLimitExceeded as e:  # the limit struck in hypothesis itself, not in the learner's code
        if getattr(e, "in_learner", False) or threading.current_thread() is not threading.main_thread():
            raise
        signal.setitimer(signal.ITIMER_REAL, 0)  # the search was the last stage: nothing of theirs runs now
        return None, ", and on inputs drawn by hypothesis until its time was up"
    return one(found), ""


class _OutOfTime(Exception):
    """The hypothesis search used up its share of the time limit."""


_deadline = [math.inf]  # when the exercise being checked runs out of time (monotonic clock)


def _floats_tuple(n: int, bound: float) -> Any:
    """hypothesis: tuples of n finite floats in [−bound, bound]."""
    from hypothesis import strategies as st

    return st.tuples(*[st.floats(-bound, bound, allow_nan=False, allow_infinity=False)] * n)


def _probability_and_label() -> Any:
    from hypothesis import strategies as st

    return st.tuples(st.floats(1e-12, 1 - 1e-12), st.sampled_from([1.0, 0.0]))


def _neuron_inputs() -> Any:
    from hypothesis import strategies as st

    return st.tuples(*[st.floats(-4.0, 4.0)] * 5, st.sampled_from([1.0, 0.0]))


def _by_size(cases: Sequence[tuple]) -> list[tuple]:
    """Cases ordered simplest first: by the sum of |argument|, positives before negatives."""
    return sorted(dict.fromkeys(cases), key=lambda c: (sum(abs(float(v)) for v in c), [v < 0 for v in c]))


def _rng_values(seed: int, n: int, scale: float) -> list[float]:
    rng = np.random.default_rng(seed)
    return [round(float(v), 3) for v in rng.uniform(-scale, scale, n)]


_Z_EDGES = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 36.0, 40.0, 100.0, 700.0, 710.0, 745.0, 1000.0]
_OVERFLOW_SIGMOID = ("overflow at large |z|: e^(−z) is beyond the largest float (about 1.8e308) once z < −709.\n"
                     "Use the stable form, which only ever exponentiates a negative number:\n"
                     "    σ(z) = 1/(1 + e^(−z)) for z ≥ 0,   σ(z) = e^z/(1 + e^z) for z < 0,\n"
                     "then σ'(z) = σ(z)(1 − σ(z)).")


def _grade_sigmoid_derivative(fn: Callable) -> Report:
    zs = _Z_EDGES + [-z for z in _Z_EDGES] + _rng_values(9, 24, 8.0)
    cases = _by_size([(z,) for z in zs])
    s = _sigmoid
    mistakes = [
        _Mistake("sigma-not-derivative", lambda z: s(z),
                 lambda a, g, e: f"σ instead of σ': you returned σ(z) itself, not its derivative: "
                                 f"σ'(z) = σ(z)(1 − σ(z)) = {_n(s(a[0]))} × {_n(1 - s(a[0]))} = {_n(e)}."),
        _Mistake("sign", lambda z: -_dsigmoid(z),
                 lambda a, g, e: "Sign slip: your σ' is negative, but σ is increasing, so σ'(z) = σ(z)(1 − σ(z)) > 0."),
        _Mistake("sign", lambda z: s(z) * (1 + s(z)),
                 lambda a, g, e: "Sign slip inside: σ(z)(1 + σ(z)) instead of σ(z)(1 − σ(z))."),
        _Mistake("sign", lambda z: s(z) * (s(z) - 1),
                 lambda a, g, e: "Sign slip: σ(z)(σ(z) − 1) is −σ'(z); write σ(z)(1 − σ(z))."),
        _Mistake("missing-factor", lambda z: 1 - s(z),
                 lambda a, g, e: "A factor is missing: you returned 1 − σ(z); σ'(z) = σ(z)·(1 − σ(z))."),
    ]
    probes = [(0.5,), (-1.0,), (2.0,), (-3.0,), (1.5,)]
    return _grade_scalar("sigmoid_derivative", fn, ["z"], cases, _dsigmoid, mistakes, probes, _OVERFLOW_SIGMOID,
                         strategy=lambda: _floats_tuple(1, 1000.0))


def _log_loss_grad(a: float, y: float) -> float:
    """dL/da by the engine: backprop through L = −[y ln a + (1 − y) ln(1 − a)]."""
    av = Value(a, "a")
    loss = -(y * av.log() + (1 - y) * (1 - av).log())
    return engine.gradients(loss, av)


def _grade_log_loss_gradient(fn: Callable) -> Report:
    a_values = [0.5, 0.4, 0.6, 0.25, 0.75, 0.1, 0.9, 0.01, 0.99, 1e-6, 1 - 1e-6, 1e-12, 1 - 1e-12]
    a_values += [round(float(v), 3) for v in np.random.default_rng(2).uniform(0.02, 0.98, 10)]
    cases = sorted({(a, y) for a in a_values for y in (1.0, 0.0)}, key=lambda c: (abs(c[0] - 0.5), -c[1], c[0]))
    mistakes = [
        _Mistake("sign", lambda a, y: y / a - (1 - y) / (1 - a),
                 lambda c, g, e: "Sign slip: L has a minus in front, L = −[y ln a + (1 − y) ln(1 − a)], so "
                                 "dL/da = −y/a + (1 − y)/(1 − a)."),
        _Mistake("sign", lambda a, y: -y / a - (1 - y) / (1 - a),
                 lambda c, g, e: "Sign slip in the second term: (ln(1 − a))' = −1/(1 − a) (chain rule: the "
                                 "inner 1 − a has derivative −1), so dL/da = −y/a + (1 − y)/(1 − a)."),
        _Mistake("dl-dz", lambda a, y: a - y,
                 lambda c, g, e: "You returned a − y: that is dL/dz, the gradient with respect to z = the input "
                                 "of the sigmoid.  dL/da = (a − y)/(a(1 − a)): divide by σ'(z) = a(1 − a)."),
        _Mistake("missing-term", lambda a, y: -y / a,
                 lambda c, g, e: "The (1 − y) ln(1 − a) term is missing: dL/da = −y/a + (1 − y)/(1 − a)."),
        _Mistake("missing-term", lambda a, y: (1 - y) / (1 - a),
                 lambda c, g, e: "The y ln a term is missing: dL/da = −y/a + (1 − y)/(1 − a)."),
        _Mistake("loss-not-gradient", lambda a, y: -(y * math.log(a) + (1 - y) * math.log(1 - a)),
                 lambda c, g, e: "You returned the loss L itself, not its derivative dL/da."),
    ]
    probes = [(0.3, 1.0), (0.3, 0.0), (0.8, 1.0), (0.8, 0.0), (0.6, 1.0)]
    return _grade_scalar("log_loss_gradient", fn, ["a", "y"], cases, _log_loss_grad, mistakes, probes,
                         strategy=_probability_and_label)


# --------------------------------------------------------------------------
# chain_rule: the neuron's three gradients, diagnosed on the ledger
# --------------------------------------------------------------------------


def _neuron(x1: float, x2: float, w1: float, w2: float, b: float, y: float) -> tuple[dict[str, Value], Any]:
    """The course's graph z = w1·x1 + w2·x2 + b, a = σ(z), L = log loss, and its ledger."""
    from autograd_lite.explain import explain

    v = {k: Value(val, k) for k, val in (("x1", x1), ("x2", x2), ("w1", w1), ("w2", w2), ("b", b))}
    p1, p2 = v["w1"] * v["x1"], v["w2"] * v["x2"]
    z = p1 + p2 + v["b"]
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.label = "L"
    v.update(z=z, a=a, L=L, uses_w1=p1, uses_w2=p2)
    return v, explain(L)


def _step_line(e: Any, node: Value, inp: Value) -> str:
    """The ledger line of the (last) step node → inp."""
    for s in e.steps:
        if s.node is node and s.input is inp:
            return e.line(s.number)
    return ""


def _first_step_to(e: Any, inp: Value) -> Any:
    return next(s for s in e.steps if s.input is inp)


def _grade_chain_rule(fn: Callable) -> Report:
    ex = "chain_rule"
    names = ["x1", "x2", "w1", "w2", "b", "y"]
    rows: list[tuple] = [(0.0, 0.0, 0.0, 0.0, 0.0, 1.0), (1.0, 0.0, 0.0, 0.0, 0.0, 1.0),
                         (1.5, -0.5, 0.3, -0.8, 0.1, 1.0), (-2.0, 0.7, 1.1, 0.4, -0.3, 0.0),
                         (2.0, 1.0, 3.0, 4.0, 2.0, 1.0), (3.0, -2.0, -2.5, 2.0, 1.0, 0.0)]
    rng = np.random.default_rng(3)
    for k in range(18):
        x1, x2, w1, w2, b = (round(float(t), 2) for t in rng.uniform(-2, 2, 5))
        rows.append((x1, x2, w1, w2, b, float(k % 2)))
    cases = _by_size(rows)

    def one(args: tuple) -> Report | None:
        where = f"{ex}({_args_text(names, args)})"
        try:
            raw = _call(fn, *args, where=where)
        except _LearnerError as err:
            return _exception_report(ex, err)
        v, e = _neuron(*args)
        expected = (e.grad("w1"), e.grad("w2"), e.grad("b"))
        try:
            got = tuple(_as_float(t) for t in raw)
            if len(got) != 3:
                raise _NotANumber(f"{len(got)} numbers")
        except (_NotANumber, TypeError) as err:
            return Report(ex, "failed", f"{where} returned {_describe_type(raw)} ({err}); it should return the "
                                        "three numbers (dw1, dw2, db)", "type", args, expected, raw)
        if all(_close(g, x, 1e-6, 1e-12) for g, x in zip(got, expected)):
            return None
        return _diagnose_neuron(ex, fn, where, args, v, e, expected, got)

    report, searched = _first_failure(cases, one, _neuron_inputs)
    if report is not None:
        return report
    return Report(ex, "passed", f"correct on {len(cases)} neurons (both labels, inputs 0 to ±4){searched}")


_NEURON_PROBES = [(0.7, -1.3, 0.4, 0.9, -0.2, 1.0), (-0.6, 1.1, -0.8, 0.3, 0.5, 0.0),
                  (1.9, 0.45, 1.2, -1.7, 0.1, 1.0), (-1.4, -0.35, 0.6, 1.25, -0.9, 0.0),
                  (0.25, 2.2, -1.5, -0.4, 0.3, 1.0)]


def _neuron_parts(x1: float, x2: float, w1: float, w2: float, b: float, y: float) -> dict[str, float]:
    """a, dL/da, ∂a/∂z and dL/dz = a − y of the neuron, by hand (for the mistakes' formulas)."""
    a = _sigmoid(w1 * x1 + w2 * x2 + b)
    return {"a": a, "dL_da": -y / a + (1 - y) / (1 - a), "da_dz": a * (1 - a), "dz": a - y}


# the wrong dL/dz (the learner's db, since ∂z/∂b = 1), and the wrong ∂z/∂wᵢ, each as a formula
_DB_MISTAKES: list[tuple[str, Callable[[dict, tuple], float]]] = [
    ("sign", lambda q, x: -q["dz"]),
    ("missing-factor", lambda q, x: q["dL_da"]),  # ∂a/∂z left out
    ("sigma-not-derivative", lambda q, x: q["dL_da"] * q["a"]),
    ("missing-dl-da", lambda q, x: q["da_dz"]),
    ("extra-factor", lambda q, x: q["dz"] * q["da_dz"]),
    ("wrong-factor", lambda q, x: q["dz"] * x[0]),
]
_DW_MISTAKES: list[tuple[str, Callable[[tuple, int], float]]] = [
    ("missing-factor", lambda x, k: 1.0),
    ("wrong-parent", lambda x, k: x[2 + k]),  # wᵢ itself
    ("wrong-input", lambda x, k: x[1 - k]),  # the other input
    ("sign", lambda x, k: -x[k]),
]


def _db_formula(wrong: Callable[[dict, tuple], float]) -> Callable[[tuple], float]:
    """A mistaken db as a function of the neuron's inputs."""
    return lambda x: wrong(_neuron_parts(*x), x)


def _dw_formula(local: Callable[[tuple, int], float], k: int) -> Callable[[tuple], float]:
    """dwₖ = (a − y) · a mistaken ∂z/∂wₖ, as a function of the neuron's inputs."""
    return lambda x: _neuron_parts(*x)["dz"] * local(x, k)


def _confirmed(fn: Callable, component: int, formula: Callable[[tuple], float], args: tuple, got: float) -> bool:
    """Does the learner's ``component`` (0, 1: dw1, dw2; 2: db) follow ``formula`` at the
    failing input and at two or more of the probe neurons?"""
    if not _close(got, formula(args), 1e-6, 1e-12):
        return False
    agree = 0
    for probe in _NEURON_PROBES:
        try:
            with np.errstate(all="ignore"):
                mine = _as_float(list(fn(*probe))[component])
        except (TimeLimitExceeded, KeyboardInterrupt):
            raise
        except BaseException:
            continue
        if not _close(mine, formula(probe), 1e-6, 1e-12):
            return False
        agree += 1
    return agree >= 2


def _diagnose_neuron(ex: str, fn: Callable, where: str, args: tuple, v: dict, e: Any, expected: tuple,
                     got: tuple) -> Report:
    """The first wrong step of the ledger: db = dL/dz (∂z/∂b = 1) before ∂z/∂wᵢ = dwᵢ/db;
    which classic mistake it is, confirmed on probe neurons."""
    head = (f"{where}: expected (dw1, dw2, db) = ({', '.join(_n(t) for t in expected)}), "
            f"got ({', '.join(_n(t) for t in got)}) (the smallest failing input)\n")
    x1, x2, w1, w2, b, y = args
    z, a = v["z"], v["a"]
    dL_da, dL_dz, av = e.grad(a), e.grad(z), a.data
    da_dz = _first_step_to(e, z).local
    db = got[2]
    rep = lambda key, text: Report(ex, "failed", head + text, key, args, expected, got)  # noqa: E731
    if not _close(db, dL_dz, 1e-6, 1e-12):  # wrong before z: in dL/da or ∂a/∂z
        step_az = _step_line(e, a, z)
        into_a = "\n  ".join(e.line(t.number) for t in e.steps if t.input is a)
        says = {
            "sign": f"Sign slip: your db is y − a, the ledger's dL/dz is a − y = {_n(av)} − {_n(y)} = "
                    f"{_n(dL_dz)}.  Check the minus in front of the log loss and (ln(1 − a))' = −1/(1 − a).\n"
                    f"  ledger: {step_az}",
            "missing-factor": f"The local derivative ∂a/∂z is missing (you used 1): first wrong step of the "
                              f"ledger:\n  {step_az}",
            "sigma-not-derivative": f"σ instead of σ': you used ∂a/∂z = a = σ(z) = {_n(av)}, the derivative is "
                                    f"a(1 − a) = {_n(da_dz)}.  First wrong step of the ledger:\n  {step_az}",
            "missing-dl-da": f"The local derivative dL/da = {_n(dL_da)} is missing (you used 1): "
                             f"dL/dz = dL/da · ∂a/∂z.\n  ledger: {into_a}",
            "extra-factor": f"σ' counted twice: a − y = {_n(dL_dz)} is already dL/dz (= dL/da · ∂a/∂z); you "
                            f"multiplied it by a(1 − a) = {_n(da_dz)} again.\n  ledger: {step_az}",
            "wrong-factor": f"db has a factor x1: ∂z/∂b = 1, since b is added, not multiplied.\n"
                            f"  ledger: {_step_line(e, z, v['b'])}",
        }
        for key, wrong_db in _DB_MISTAKES:
            if _confirmed(fn, 2, _db_formula(wrong_db), args, db):
                return rep("missing-factor" if key == "missing-dl-da" else key, says[key])
        implied = db / dL_da if dL_da else math.nan
        return rep(None, f"dL/dz (your db, since ∂z/∂b = 1) should be {_n(dL_dz)}.  The ledger's steps up to z:\n"
                         f"  {step_az}\n"
                         f"  dL/da = {_n(dL_da)}; with it your db implies ∂a/∂z = {_n(implied)}, the table says "
                         f"a(1 − a) = {_n(da_dz)}.")
    for k, (wname, xname, xv) in enumerate((("w1", "x1", x1), ("w2", "x2", x2))):
        if _close(got[k], expected[k], 1e-6, 1e-12):
            continue
        step = _step_line(e, v["uses_" + wname], v[wname])
        fix = f"The first wrong step of the ledger is the local derivative ∂v/∂{wname}:\n  {step}"
        says = {
            "missing-factor": f"Missing factor: dz/d{wname} = {xname} = {_n(xv)} (the input that {wname} "
                              f"multiplies); you used 1, so d{wname} = db.  {fix}",
            "wrong-parent": f"Wrong parent: ∂({wname}·{xname})/∂{wname} is {xname} = {_n(xv)}, the other factor; "
                            f"you used {wname} = {_n(args[2 + k])} itself.  {fix}",
            "wrong-input": f"Wrong parent: ∂z/∂{wname} = {xname} = {_n(xv)}; you used the other input, "
                           f"{_n(args[1 - k])}.  {fix}",
            "sign": f"Sign slip: ∂z/∂{wname} = +{xname}.  {fix}",
        }
        for key, local in _DW_MISTAKES:
            if _confirmed(fn, k, _dw_formula(local, k), args, got[k]):
                return rep("wrong-parent" if key == "wrong-input" else key, says[key])
        implied = got[k] / db if db else math.nan
        return rep(None, f"d{wname} should be dL/dz · ∂z/∂{wname} = {_n(db)} × {_n(xv)} = {_n(expected[k])}; "
                         f"yours implies ∂z/∂{wname} = {_n(implied)}.  {fix}")
    return rep(None, "db is right, dw1 and dw2 match too closely to tell apart")  # pragma: no cover


# --------------------------------------------------------------------------
# backprop: graphs from the neuron to a 10,000-node chain, checked node by node
# --------------------------------------------------------------------------

_CURRENT: dict[str, str] = {}  # exercise → what it was doing (for a time-limit report)


def _graph_neuron() -> Value:
    """z = w1·x1 + w2·x2 + b, a = σ(z), L = −ln a (the course's neuron, label y = 1)."""
    x1, x2 = Value(1.5, "x1"), Value(-0.5, "x2")
    w1, w2, b = Value(0.3, "w1"), Value(-0.8, "w2"), Value(0.1, "b")
    z = w1 * x1 + w2 * x2 + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = -a.log()
    L.label = "L"
    return L


def _graph_shared() -> Value:
    """u = w·x used twice: L = u + tanh(u)."""
    x, w = Value(0.5, "x"), Value(-1.5, "w")
    u = w * x
    u.label = "u"
    t = u.tanh()
    t.label = "t"
    L = u + t
    L.label = "L"
    return L


def _graph_square() -> Value:
    """One op using the same node twice: q = x·x, L = sin(q)."""
    x = Value(-1.25, "x")
    q = x * x
    q.label = "q"
    L = q.sin()
    L.label = "L"
    return L


def _graph_every_op() -> Value:
    """Every op of the derivative table, constants included."""
    x, y, c = Value(0.7, "x"), Value(1.3, "y"), Value(0.25, "c")
    h = engine.linear([x, y], [2.0, -1.0], c)
    h.label = "h"
    p = (x / y) ** 2.0 + y ** x
    r = (x * 3.0 - 1.0).relu() * (x - y).exp() + (-x).relu()
    s = (y + 1.0).sqrt().log() - (1.0 - x)
    L = p + r - s + x.sin() * y.cos() + (x - 2.0).abs() + h.tanh() / (1.0 + h.sigmoid())
    L.label = "L"
    return L


def _graph_chain(n: int = 10_000) -> Value:
    """A chain of n nodes: v ← 0.9999·v + 0.0001."""
    v = Value(0.5, "x")
    for _ in range(n // 2):
        v = v * 0.9999 + 0.0001
    v.label = "L"
    return v


_BACKPROP_GRAPHS: list[tuple[str, Callable[[], Value]]] = [
    ("the neuron z = w1·x1 + w2·x2 + b, a = σ(z), L = −ln a", _graph_neuron),
    ("u = w·x used twice: L = u + tanh(u)", _graph_shared),
    ("q = x·x (one op using x twice), L = sin(q)", _graph_square),
    ("a graph with every op of the derivative table", _graph_every_op),
    ("a chain of 10,000 nodes", _graph_chain),
]


def _grade_backprop(fn: Callable) -> Report:
    ex = "backprop"
    for title, build in _BACKPROP_GRAPHS:
        root = build()
        _CURRENT[ex] = f"on {title}" + ("; is a step quadratic? (`node in a_list` compares every element: use a "
                                        "set)" if "10,000" in title else "")
        report = _grade_backprop_graph(fn, title, root)
        if report is not None:
            return report
    return Report(ex, "passed", "every .grad right on " + "; ".join(t for t, _ in _BACKPROP_GRAPHS))


def _grade_backprop_graph(fn: Callable, title: str, root: Value) -> Report | None:
    ex = "backprop"
    nodes = topological_order(root)  # consumers first
    for node in nodes:
        node.grad = 0.0
    calls: list[tuple[Value, Any]] = []  # (node, its .grad when the learner asked for its local derivatives)
    _watchers.append(lambda node: calls.append((node, node.grad)))
    try:
        _call(fn, root, where=f"backprop(L) on {title}")
    except _LearnerError as err:
        if isinstance(err.exc, RecursionError):
            return _exception_report(ex, err, "recursion", "Recursion fails on a deep graph: Python allows about "
                                     f"{sys.getrecursionlimit()} nested calls.  Walk the graph with a loop and "
                                     "an explicit stack (a list you append to and pop from), and sort the nodes "
                                     "without recursion.")
        return _exception_report(ex, err)
    finally:
        _watchers.pop()
    expected = engine.backprop(root)
    got: dict[Value, float] = {}
    for node in nodes:
        try:
            got[node] = _as_float(node.grad)
        except _NotANumber as bad:
            what = "None" if node.grad is None else str(bad)
            return Report(ex, "failed", f"on {title}: a node's .grad is {what}, not a number", "type")
    from autograd_lite.explain import explain

    wrong = [n for n in nodes if not _close(got[n], expected[n], 1e-6, 1e-12)]
    if not wrong:
        return None
    e = explain(root)
    name = lambda n: e.names[id(n)]  # noqa: E731
    L = name(root)
    head = f"on {title}:\n"
    if got[root] != 1.0:
        if got[root] == 0.0:
            return Report(ex, "failed", head + f"The seed is missing: d{L}/d{L} = 1 must be set first "
                          f"({L}.grad = 1), but {L}.grad is 0 after your backprop, so every product "
                          "dL/dnode · local is 0.\n  ledger: " + e.line(0), "seed", title, 1.0, got[root])
        return Report(ex, "failed", head + f"The seed d{L}/d{L} must be 1; {L}.grad is {_n(got[root])}.",
                      "seed", title, 1.0, got[root])
    consumers: dict[Value, list[Value]] = {}
    for n in nodes:
        for p in n.parents:
            if isinstance(p, Value):
                consumers.setdefault(p, []).append(n)
    root_calls = [g for n, g in calls if n is root]
    if root.op is not None and root_calls and all(g == 0 for g in root_calls) and all(
            got[n] == 0 for n in nodes if n is not root):
        return Report(ex, "failed", head + f"The seed came too late: {L}.grad was 0 when you passed it on (you "
                      f"asked for {L}'s local derivatives), so every contribution was 0.  Set d{L}/d{L} = 1 "
                      "before the walk.", "seed", title, 1.0, 0.0)
    last = {n: k for k, (n, _) in enumerate(calls)}
    for k, (node, at_call) in enumerate(calls):  # a gradient passed on before it was complete
        # a call with .grad still 0 that is not the node's last is a look-around (finding the parents
        # to sort the graph, say); any other call is the node passing its gradient on
        if node.op is None or not isinstance(at_call, (float, int)) or (at_call == 0 and last[node] != k):
            continue
        if _close(at_call, expected[node]) or not _close(got[node], expected[node]):
            continue
        later = [c for c in consumers.get(node, []) if any(m is c for m, _ in calls[k + 1:])]
        if later:
            users = " and ".join(dict.fromkeys(name(c) for c in consumers[node]))
            return Report(ex, "failed", head + (
                f"Wrong order: node {name(node)} passed its gradient on (you asked for its local derivatives) "
                f"when d{L}/d{name(node)} was {_n(at_call)}, before every node that uses it had added its "
                f"contribution: {name(node)} is used by {users}; {' and '.join(name(c) for c in later)} came "
                f"later.  Complete, d{L}/d{name(node)} = {_n(expected[node])}.  Process the nodes in topological "
                "order, consumers before producers.  The ledger's steps into it:\n" +
                "\n".join(f"  {e.line(t.number)}" for t in e.steps if t.input is node)),
                "order", name(node), expected[node], at_call)
    first = wrong[0]
    return _diagnose_node(head, e, first, got, expected, consumers, name)


def _diagnose_node(head: str, e: Any, p: Value, got: dict, expected: dict, consumers: dict,
                   name: Callable[[Value], str]) -> Report:
    """The first wrong node (its consumers are right): which of its incoming
    contributions went wrong, as the ledger's steps."""
    ex = "backprop"
    L = name(e.root)
    edges = []  # (ledger step, [(tag, value), ...])
    for s in e.steps:
        if s.input is not p:
            continue
        siblings = [d for i, _, d in _local_pairs(s.node) if i != s.index]
        options = [("ok", s.contribution), ("lost", 0.0), ("twice", 2 * s.contribution), ("sign", -s.contribution)]
        options += [("wrong-parent", s.upstream * d) for d in siblings]
        options += [("wrong-parent", s.contribution + s.upstream * d) for d in siblings]
        edges.append((s, options))
    best = None
    if len(edges) <= 5:
        for combo in itertools.product(*(opts for _, opts in edges)):
            if _close(got[p], math.fsum(v for _, v in combo), 1e-6, 1e-12):
                bad = sum(tag != "ok" for tag, _ in combo)
                if best is None or bad < best[0]:
                    best = (bad, combo)
    lines = "\n".join(f"  {e.line(s.number)}" for s, _ in edges)
    want = (f"d{L}/d{name(p)} should be {_n(expected[p])}" +
            (f", the sum of these steps of the ledger:\n{lines}\n" if len(edges) > 1 else ".  ") +
            f"Yours is {_n(got[p])}.")
    rep = lambda key, text: Report(ex, "failed", head + text, key, name(p), expected[p], got[p])  # noqa: E731
    if best is None:
        return rep(None, f"First wrong node: {name(p)}.  {want}")  # no classic mistake fits
    tags = [tag for tag, _ in best[1]]
    off = [(s, tag, v) for (s, _), (tag, v) in zip(edges, best[1]) if tag != "ok"]
    if set(tags) == {"ok", "lost"} and len(edges) >= 2:
        kept = [(s, v) for (s, _), (tag, v) in zip(edges, best[1]) if tag == "ok"]
        users = " and ".join(f"{s.node_name} ({_n(s.contribution)})" for s, _ in edges)
        return rep("overwrite", (
            f"Overwriting instead of accumulating: {name(p)} is used {len(edges)} times, and its gradient is the "
            f"sum of the contributions from {users}: {_n(expected[p])}.  Yours, {_n(got[p])}, is only "
            f"{' + '.join(_n(v) for _, v in kept)} from {', '.join(s.node_name for s, _ in kept)}: add each "
            f"contribution (+=), do not assign it (=).\n{lines}"))
    s, tag, v = off[0]
    step = (f"\nThe first wrong step of the ledger:\n  {e.line(s.number)}\n  yours gave {name(p)} {_n(v)}, "
            f"not {_n(s.contribution)}.")
    if tag in ("twice", "lost"):  # did a contribution land on another input of the same node?
        for _, q, d in _local_pairs(s.node):
            theirs = expected[s.node] * d
            moved = s.contribution if tag == "lost" else -theirs
            if q is not p and theirs != 0 and _close(got[q] - expected[q], moved, 1e-6, 1e-12):
                return rep("wrong-parent", (
                    f"Reading the wrong parent: contributions of {s.node_name} went to the wrong one of its inputs "
                    f"({name(p)} got {_n(v)}, {name(q)} is off by {_n(got[q] - expected[q])}): pair each parent "
                    f"with its own ∂node/∂parent.  {want}{step}"))
    if tag == "lost":
        return rep("lost", f"A contribution is missing: {name(p)} got nothing from {s.node_name}.  {want}{step}")
    if tag == "twice":
        return rep("twice", f"A contribution counted twice (was {s.node_name} processed twice? keep a set of the "
                            f"nodes done).  {want}{step}")
    if tag == "sign":
        return rep("sign", f"Sign slip: a contribution with the wrong sign.  {want}{step}")
    return rep("wrong-parent", (
        f"Reading the wrong parent: the contribution of {s.node_name} to {name(p)} used the local derivative of "
        f"another input of {s.node_name} (pair each parent with its own ∂node/∂parent).  {want}{step}"))


# --------------------------------------------------------------------------
# gradient_descent
# --------------------------------------------------------------------------


def _grade_gradient_descent(fn: Callable) -> Report:
    ex = "gradient_descent"
    cases = [([(0.5, 0.2)], 0.1), ([(1.0, -2.0), (-0.5, 0.25)], 0.5), ([(2.0, 4.0), (0.0, 0.0), (-3.0, 1.5)], 0.01),
             ([(-1.0, 3.0), (0.75, -1.25), (10.0, 2.0), (0.1, -0.3)], 1.0)]
    for pairs, lr in cases:
        params = [Value(d, f"w{i + 1}") for i, (d, _) in enumerate(pairs)]
        for p, (_, g) in zip(params, pairs):
            p.grad = g
        text = ", ".join(f"w{i + 1} = {_n(d)} (grad {_n(g)})" for i, (d, g) in enumerate(pairs))
        where = f"gradient_descent([{text}], lr = {_n(lr)})"
        try:
            _call(fn, params, lr, where=where)
        except _LearnerError as err:
            return _exception_report(ex, err)
        olds = [d for d, _ in pairs]
        grads = [g for _, g in pairs]
        want = [d - lr * g for d, g in pairs]
        try:
            if any(isinstance(p.data, Value) for p in params):
                raise _NotANumber("a Value (p.data = p − ... puts a graph node inside the number)")
            now = [_as_float(p.data) for p in params]
        except _NotANumber as e:
            return Report(ex, "failed", f"{where}: a parameter's .data became {e}; keep .data a number: "
                                        "p.data -= lr * p.grad", "type", pairs)
        if all(_close(a, b) for a, b in zip(now, want)):
            continue
        head = (f"{where}: expected .data = {', '.join(_n(t) for t in want)}, got {', '.join(_n(t) for t in now)} "
                "(the smallest failing input)\n")
        rep = lambda key, text: Report(ex, "failed", head + text, key, pairs, want, now)  # noqa: E731
        moved = [(d, g) for d, g in pairs if g != 0]
        if all(_close(a, d + lr * g) for a, (d, g) in zip(now, pairs)):
            j0 = 0.5 * sum(g * g for g in grads)
            up = 0.5 * sum((g * (1 + lr)) ** 2 for g in grads)
            down = 0.5 * sum((g * (1 - lr)) ** 2 for g in grads)
            return rep("ascent", (
                "Gradient ascent: every parameter moved along its gradient, uphill.  On J(w) = ½ Σ (w − t)², "
                f"whose gradient this is, J went from {_n(j0)} up to {_n(up)}; a descent step brings it down to "
                f"{_n(down)}.  Descent subtracts: w ← w − α·∂J/∂w."))
        if all(_close(a, d) for a, d in zip(now, olds)) and moved:
            return rep("unchanged", "The parameters did not change: rebinding a loop variable (p = p − ...) or "
                                    "making new Values changes nothing; change each p.data in place.")
        if all(_close(a, d - g) for a, (d, g) in zip(now, pairs)):
            return rep("missing-lr", f"The learning rate is missing: w ← w − α·∂J/∂w with α = lr = {_n(lr)}.")
        return rep(None, "One step of gradient descent is w ← w − α·∂J/∂w for every parameter.")
    return Report(ex, "passed", f"correct on {len(cases)} steps (1 to 4 parameters, lr 0.01 to 1)")


# --------------------------------------------------------------------------
# initialise
# --------------------------------------------------------------------------


def _matrix(raw: Any, n_in: int, n_out: int, where: str) -> np.ndarray:
    """The learner's matrix as an (n_out, n_in) array: one row per unit.  The other
    common layout, (n_in, n_out) (one column per unit, as in ``x @ W``), is read
    transposed when the shapes tell them apart (n_in ≠ n_out)."""
    try:
        rows = [[_as_float(w) for w in row] for row in raw]
        W = np.array(rows, dtype=float)
    except (_NotANumber, TypeError, ValueError) as e:
        raise _Verdict(Report("initialise", "failed", f"{where} returned {_describe_type(raw)}; it should return "
                                                      f"{n_out} rows of {n_in} numbers ({e})", "type")) from None
    if W.shape == (n_in, n_out) and n_in != n_out:
        W = W.T
    if W.shape != (n_out, n_in):
        raise _Verdict(Report("initialise", "failed", f"{where} has shape {W.shape}; it should be "
                              f"(n_out, n_in) = ({n_out}, {n_in}): one row of n_in weights per unit", "shape",
                              (n_in, n_out), (n_out, n_in), W.shape))
    if not np.isfinite(W).all():
        raise _Verdict(Report("initialise", "failed", f"{where} contains inf or nan", "not-finite"))
    return W


def _symmetry_demo(fn: Callable, W1: np.ndarray, seed: int) -> str:
    """Train a 2 → 3 → 1 tanh net started from the learner's matrices; show the hidden rows."""
    from autograd_lite import data, nn, optim, train

    raw = _call(fn, 3, 1, seed + 1, where=f"initialise(3, 1, seed={seed + 1})")
    W2 = _matrix(raw, 3, 1, f"initialise(3, 1, seed={seed + 1})")
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", init="zeros")
    for layer, W in zip(model.layers, (W1, W2)):
        for neuron, row in zip(layer.neurons, W):
            for w, value in zip(neuron.w, row):
                w.data = float(value)
    X, y = data.make_moons(60, noise=0.1, seed=0)
    train.fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.5), epochs=100, engine="vectorized",
              progress=False)
    after = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
    rows = "\n".join("      unit {}: [{}]".format(i + 1, ", ".join(format(v, ".4f") for v in r))
                     for i, r in enumerate(after))
    same = [(i, j) for i in range(3) for j in range(i + 1, 3) if np.allclose(after[i], after[j], atol=1e-9)]
    if same:
        i, j = same[0]
        return (f"Trained for 100 steps of gradient descent on two moons (a 2 → 3 → 1 tanh network started from "
                f"initialise(2, 3) and initialise(3, 1)), hidden units {i + 1} and {j + 1} still have identical "
                f"weights:\n{rows}\nThey get the same gradients, so they stay clones: the layer is worth fewer units "
                "(C11).  Draw the weights at random.")
    return (f"After 100 steps of training the hidden weights are:\n{rows}\nBut equal rows at the start make those "
            "units compute the same feature at first (C11).  Draw every weight at random.")


def _grade_initialise(fn: Callable) -> Report:
    ex = "initialise"
    shapes = [(2, 3, 0), (3, 1, 1), (4, 4, 2), (16, 8, 3), (1, 5, 4)]
    for n_in, n_out, seed in shapes:
        where = f"initialise({n_in}, {n_out}, seed={seed})"
        W = _matrix(_call(fn, n_in, n_out, seed, where=where), n_in, n_out, where)
        flat = W.ravel()
        twins = [(i, j) for i in range(n_out) for j in range(i + 1, n_out) if np.array_equal(W[i], W[j])]
        if twins:  # two units with the same weights (C11); equal weights inside one unit are harmless
            equal = ("every weight is " + _n(flat[0]) if np.all(flat == flat[0]) else
                     f"rows {twins[0][0] + 1} and {twins[0][1] + 1} are equal")
            demo = _symmetry_demo(fn, W, seed) if (n_in, n_out) == (2, 3) else ""
            return Report(ex, "failed", f"{where}: equal weights ({equal}).\n{demo}".rstrip(), "equal-weights",
                          (n_in, n_out, seed), None, W.tolist())
        again = _matrix(_call(fn, n_in, n_out, seed, where=where), n_in, n_out, where)
        if not np.array_equal(W, again):
            return Report(ex, "failed", f"{where}: not reproducible: two calls with the same seed gave different "
                                        "matrices.  Draw from a generator made from the seed: random.Random(seed) "
                                        "or numpy's default_rng(seed).", "not-reproducible")
        other = _matrix(_call(fn, n_in, n_out, seed + 100, where=where), n_in, n_out, where)
        if np.array_equal(W, other):
            return Report(ex, "failed", f"{where}: seed {seed} and seed {seed + 100} gave the same matrix: the "
                                        "seed is ignored.", "seed-ignored")
        spread = float(np.sqrt(np.mean(W ** 2)) * math.sqrt(n_in))
        if spread > 10:
            return Report(ex, "failed", f"{where}: weights too large: z = Σ wᵢxᵢ has a standard deviation of "
                                        f"about {spread:.3g} for inputs of size 1, where σ and tanh are flat "
                                        "(C9, C10: vanishing gradients).  Scale them down, e.g. N(0, 1/n_in).",
                          "too-large")
    return Report(ex, "passed", "random, reproducible, of shape (n_out, n_in), and small, for " +
                  ", ".join(f"({a}, {b})" for a, b, _ in shapes))


# --------------------------------------------------------------------------
# vectorized_logreg
# --------------------------------------------------------------------------


def _logreg_reference(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """By the engine (a graph per example, J the mean log loss) where σ does not saturate;
    Xᵀ(σ(Xw + b) − y)/m with the library's stable σ where it does (log(1 − 1) would be −inf)."""
    z = X @ w + b
    if np.abs(z).max(initial=0.0) > 30:
        a = K.sigmoid(z)
        return X.T @ (a - y) / len(y), float(np.mean(a - y))
    ws = [Value(float(t)) for t in w]
    bv = Value(float(b))
    losses = []
    for row, label in zip(X, y):
        a = engine.linear(ws, [float(t) for t in row], bv).sigmoid()
        losses.append(-(float(label) * a.log() + (1 - float(label)) * (1 - a).log()))
    J = sum(losses[1:], losses[0]) / len(losses)
    g = engine.gradients(J, [*ws, bv])
    return np.array(g[:-1]), g[-1]


def _loops(fn: Callable) -> int | None:
    """The line of the first Python loop (for, while, comprehension) in ``fn``'s source."""
    try:
        src = textwrap.dedent(inspect.getsource(fn))
        first = inspect.getsourcelines(fn)[1]
    except (OSError, TypeError):
        return None
    loop = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.AsyncFor)
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, loop):
            return first + node.lineno - 1
    return None


def _grade_vectorized_logreg(fn: Callable) -> Report:
    ex = "vectorized_logreg"
    rng = np.random.default_rng(7)
    cases = []
    for m, n, scale in ((1, 1, 1.0), (3, 2, 1.0), (5, 3, 1.0), (8, 4, 2.0), (20, 3, 1.0), (6, 2, 40.0)):
        X = np.round(rng.normal(size=(m, n)), 2)
        y = (np.arange(m) % 2).astype(float)
        w = np.round(rng.normal(size=n) * scale, 2)
        cases.append((X, y, w, round(float(rng.normal()), 2)))
    for X, y, w, b in cases:
        m, n = X.shape
        where = f"vectorized_logreg(X of shape ({m}, {n}), y, w of shape ({n},), b = {_n(b)})"
        try:
            raw = _call(fn, X.copy(), y.copy(), w.copy(), b, where=where)
        except _LearnerError as err:
            return _exception_report(ex, err)
        dw_ref, db_ref = _logreg_reference(X, y, w, b)
        try:
            dw_raw, db_raw = raw
            dw = np.asarray(dw_raw, dtype=float)
            db = _as_float(db_raw)
        except (TypeError, ValueError, _NotANumber):
            return Report(ex, "failed", f"{where} returned {_describe_type(raw)}; it should return (dw, db)",
                          "type")
        if dw.size != n:
            why = " (a broadcast of shapes (m, 1) and (m,) gives (m, m): flatten a − y)" if dw.size == m * n else ""
            return Report(ex, "failed", f"{where}: dw has shape {dw.shape}, it should have w's shape ({n},){why}",
                          "shape", (m, n), (n,), dw.shape)
        dw = dw.ravel()
        ok = all(_close(float(g), float(r), 1e-6, 1e-12) for g, r in zip(dw, dw_ref)) and _close(db, db_ref, 1e-6,
                                                                                               1e-12)
        if ok:
            continue
        head = (f"{where}: expected dw = {np.array2string(dw_ref, precision=6)}, db = {_n(db_ref)}; got "
                f"dw = {np.array2string(dw, precision=6)}, db = {_n(db)} (the smallest failing input)\n")
        rep = lambda key, text: Report(ex, "failed", head + text, key, (m, n), (dw_ref, db_ref), (dw, db))  # noqa
        dw_sum = np.allclose(dw, m * dw_ref, rtol=1e-6, atol=1e-12)
        db_sum = _close(db, m * db_ref, 1e-6, 1e-12)
        dw_ok = np.allclose(dw, dw_ref, rtol=1e-6, atol=1e-12)
        if m > 1 and (dw_sum or dw_ok) and (db_sum or _close(db, db_ref, 1e-6, 1e-12)):
            which = "dw and db are" if dw_sum and db_sum else "dw is" if dw_sum else "db is"
            return rep("missing-1/m", f"Missing 1/m: {which} m = {m} times too large: the sum over the examples, "
                                      "not the mean.  J = (1/m)·Σ L, so dw = (1/m)·Xᵀ(a − y), db = (1/m)·Σ(a − y).")
        if np.allclose(dw, -dw_ref, rtol=1e-6, atol=1e-12) and _close(db, -db_ref, 1e-6, 1e-12):
            return rep("sign", "Sign slip: it is a − y (prediction minus label), not y − a.")
        return rep(None, "dw = (1/m)·Xᵀ(σ(Xw + b) − y),  db = (1/m)·Σ(aᵢ − yᵢ).")
    line = _loops(fn)
    if line is not None:
        return Report(ex, "failed", f"The numbers are right, but there is a Python loop at line {line}: write it "
                                    "with matrix products (X @ w, X.T @ v) and numpy's sums, no loop.", "loop")
    return Report(ex, "passed", f"correct on {len(cases)} batches (1 to 20 examples, saturated σ included), no loops")


# --------------------------------------------------------------------------
# new_op: softplus as a row of the derivative table
# --------------------------------------------------------------------------

_OVERFLOW_SOFTPLUS = ("overflow at large |x|: eˣ is beyond the largest float once x > 709.  Use the stable form, "
                      "which only exponentiates −|x|:\n    softplus(x) = max(x, 0) + ln(1 + e^(−|x|)),   "
                      "softplus'(x) = σ(x) computed as in exercise 1.")


def _grade_new_op(fn: Any) -> Report:
    ex = "new_op"
    pair = fn if isinstance(fn, tuple) else _call(fn, where="new_op()")
    if not (isinstance(pair, tuple) and len(pair) == 2 and all(map(callable, pair))):
        return Report(ex, "failed", f"new_op() returned {_describe_type(pair)}; it should return the pair "
                                    "(forward, derivative) of two functions", "type")
    forward, derivative = pair
    xs = _by_size([(x,) for x in _Z_EDGES + [-x for x in _Z_EDGES] + _rng_values(5, 16, 6.0)])
    probes = [(0.5,), (-1.0,), (2.0,), (-3.0,), (1.5,)]
    report = _grade_scalar("new_op", forward, ["x"], xs, _softplus, [
        _Mistake("derivative-not-function", _sigmoid,
                 lambda a, g, e: "forward returned σ(x), the derivative of softplus; forward is ln(1 + eˣ)."),
    ], probes, _OVERFLOW_SOFTPLUS, lambda a: f"forward(x = {_r(a[0])})", lambda: _floats_tuple(1, 1000.0))
    if not report.passed:
        return report

    def rule(x: float) -> Any:  # the table evaluates a rule on the input and the output, as engine.partial does
        return engine.partial(derivative, x, _softplus(x))

    report = _grade_scalar("new_op", rule, ["x"], xs, _sigmoid, [
        _Mistake("function-not-derivative", _softplus,
                 lambda a, g, e: "derivative returned softplus itself, not its derivative σ(x)."),
        _Mistake("sign", lambda x: -_sigmoid(x), lambda a, g, e: "Sign slip: softplus is increasing, its "
                                                                  "derivative σ(x) is positive."),
        _Mistake("sign", lambda x: _sigmoid(-x), lambda a, g, e: "Sign slip: σ(−x) instead of σ(x)."),
        _Mistake("sigma-of-out", lambda x: _sigmoid(_softplus(x)),
                 lambda a, g, e: "You applied σ to out: the derivative is σ(x) of the input x (or 1 − e^(−out))."),
    ], probes, _OVERFLOW_SOFTPLUS, lambda a: f"derivative(x = {_r(a[0])}, out = softplus(x) = "
                                             f"{_r(_softplus(a[0]))})", lambda: _floats_tuple(1, 1000.0))
    if not report.passed:
        return report
    return Report(ex, "passed", "forward and derivative right as a row of the table, on "
                                f"{len(xs)} inputs from 0 to ±1000")


# --------------------------------------------------------------------------
# the public entry point
# --------------------------------------------------------------------------

_SEARCHED = {"sigmoid_derivative", "log_loss_gradient", "chain_rule", "new_op"}  # hypothesis searches these
_GRADERS: dict[str, Callable[[Any], Report]] = {
    "sigmoid_derivative": _grade_sigmoid_derivative,
    "log_loss_gradient": _grade_log_loss_gradient,
    "chain_rule": _grade_chain_rule,
    "backprop": _grade_backprop,
    "gradient_descent": _grade_gradient_descent,
    "initialise": _grade_initialise,
    "vectorized_logreg": _grade_vectorized_logreg,
    "new_op": _grade_new_op,
}


def check(exercise: str, fn: Any, *, time_limit: float | None = DEFAULT_TIME_LIMIT) -> Report:
    """Grade the learner's answer ``fn`` to ``exercise`` (an id of `exercises`): a
    `Report` with ``.passed`` and a ``.message`` that names the mistake.  ``fn`` is the
    function the exercise asks for (for ``new_op`` also the pair itself).  It runs for at
    most ``time_limit`` seconds in all (None: no limit); its exceptions are reported."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}")
    if not callable(fn) and not (exercise == "new_op" and isinstance(fn, tuple)):
        raise TypeError(f"check({exercise!r}, fn): fn must be your function, got {type(fn).__name__}")
    if exercise in _SEARCHED:  # import hypothesis (about a second, once) before the learner's clock starts
        with contextlib.suppress(ImportError):
            import hypothesis  # noqa: F401
    _deadline[0] = math.inf if time_limit is None else time.monotonic() + time_limit
    try:
        with _time_limit(time_limit):
            return _GRADERS[exercise](fn)
    except _NotStarted:
        return Report(exercise, "not started", "your function raises NotImplementedError", "not-started")
    except _Verdict as v:
        return v.report
    except _LearnerError as err:
        return _exception_report(exercise, err)
    except TimeLimitExceeded:
        return Report(exercise, "failed", f"your function ran for more than {time_limit:g} s (an endless loop?); "
                                          f"{_CURRENT.get(exercise, '')}".rstrip("; "), "timeout")
    except (Exception, SystemExit) as e:  # something in the answer the grader did not foresee: say so, in one line
        where = _learner_line(e)
        return Report(exercise, "failed", f"the grader could not check this answer: {type(e).__name__}: {e}" +
                      (f"\n  at {where}" if where else ""), "ungradable")
