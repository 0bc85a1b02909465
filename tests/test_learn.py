"""The workbook (autograd_lite.learn): every correct answer passes, every planted classic
mistake fails with a diagnosis that names it, learner code is bounded and its exceptions
reported, and the CLI (as a subprocess) grades the stubs of `learn init`."""

from __future__ import annotations

import inspect
import math
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import learn_answers as A
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import Value, engine, explain, learn
from autograd_lite.learn import grader

ROOT = Path(__file__).resolve().parent.parent
IDS = ["sigmoid_derivative", "log_loss_gradient", "chain_rule", "backprop", "gradient_descent", "initialise",
       "vectorized_logreg", "new_op"]
CODE_LIKE = re.compile(r"\bdef |\breturn\b|\bimport\b|\+=|\blambda\b|\.grad\b|\bfor \w+ in\b|\(\w+\)\s*:")


# --------------------------------------------------------------------------
# the catalogue and the hints
# --------------------------------------------------------------------------


def test_exercises_in_course_order_with_titles_and_claims():
    exs = learn.exercises()
    assert [e.id for e in exs] == IDS and [e.number for e in exs] == list(range(1, 9))
    assert all(e.title and e.claim and e.task and " -> " in e.signature for e in exs)
    assert "backprop" in str(exs) and "C5" in str(exs)
    assert exs._repr_html_().count("<tr>") == 9


def test_hints_are_progressive_and_the_last_is_a_formula_not_code():
    for ex in IDS:
        hints = [learn.hint(ex, k) for k in (1, 2, 3)]
        assert len(set(hints)) == 3
        assert "=" in hints[-1] or "←" in hints[-1], ex
        for h in hints:
            assert not CODE_LIKE.search(h), (ex, h)
    with pytest.raises(ValueError, match="hints 1 to 3"):
        learn.hint("backprop", 4)
    with pytest.raises(ValueError, match="unknown exercise 'backprob'"):
        learn.hint("backprob", 1)


# --------------------------------------------------------------------------
# local_derivatives: the engine's table, node by node
# --------------------------------------------------------------------------


def _every_op_graph():
    return grader._graph_every_op()


def test_local_derivatives_match_the_ledger_for_every_op():
    L = _every_op_graph()
    ops = {n.op.name for n in engine.topological_order(L) if n.op}
    assert ops == set(engine.OPS), set(engine.OPS) - ops  # the graph covers the whole table
    e = explain(L)
    for node in engine.topological_order(L):
        steps = [s for s in e.steps if s.node is node]
        pairs = learn.local_derivatives(node)
        assert [p for p, _ in pairs] == [s.input for s in steps]
        assert [d for _, d in pairs] == [s.local for s in steps]  # bit for bit


def test_local_derivatives_of_leaves_constants_and_a_node_used_twice():
    x = Value(3.0, "x")
    assert learn.local_derivatives(x) == []
    assert learn.local_derivatives(x * x) == [(x, 3.0), (x, 3.0)]
    assert learn.local_derivatives(2.0 * x) == [(x, 2.0)]  # the constant 2 is not a parent
    w = Value(-0.5)
    (p, dp), (q, dq) = learn.local_derivatives(w * x)
    assert (p, dp, q, dq) == (w, 3.0, x, -0.5)
    with pytest.raises(TypeError, match="not node.data"):
        learn.local_derivatives(3.0)
    w1, w2, x1, x2, b = (Value(v) for v in (0.5, -1.5, 2.0, 3.0, 0.25))
    h = engine.linear([w1, w2], [x1, x2], b)  # the fused neuron: ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1
    pairs = [(w1, 2.0), (x1, 0.5), (w2, 3.0), (x2, -1.5), (b, 1.0)]  # in backprop's order, as the ledger
    assert learn.local_derivatives(h) == pairs
    assert [(s.input, s.local) for s in explain(h).steps] == pairs


@st.composite
def graphs(draw):
    leaves = [Value(draw(st.floats(-2, 2)), f"x{i}") for i in range(3)]
    nodes = list(leaves)
    for _ in range(draw(st.integers(1, 25))):
        op = draw(st.sampled_from(["add", "mul", "sub", "tanh", "sigmoid", "sin", "const"]))
        a, b = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        nodes.append({"add": lambda: a + b, "mul": lambda: a * b, "sub": lambda: a - b, "tanh": a.tanh,
                      "sigmoid": a.sigmoid, "sin": a.sin, "const": lambda: a * 1.5 + 2.0}[op]())
    return nodes[-1]


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_a_correct_backprop_with_local_derivatives_is_the_engines_on_random_graphs(L):
    nodes = engine.topological_order(L)
    for n in nodes:
        n.grad = 0.0
    A.backprop(L)
    want = engine.backprop(L)
    for n in nodes:
        assert math.isclose(n.grad, want[n], rel_tol=1e-12, abs_tol=1e-12)


# --------------------------------------------------------------------------
# correct answers pass; planted mistakes fail, named
# --------------------------------------------------------------------------


@pytest.mark.parametrize("ex", IDS)
def test_a_correct_answer_passes(ex):
    report = learn.check(ex, A.CORRECT[ex])
    assert report.passed and report and report.status == "passed", str(report)
    assert str(report).startswith(f"✓ {ex}: passed") and repr(report) == str(report)


@pytest.mark.parametrize("ex, key, fn", A.MISTAKES, ids=[f"{e}-{k}-{f.__name__}" for e, k, f in A.MISTAKES])
def test_a_planted_mistake_fails_with_its_name(ex, key, fn):
    report = learn.check(ex, fn)
    assert report.status == "failed" and not report
    assert report.mistake == key, str(report)
    assert "Traceback" not in report.message


def _check(ex, fn):
    r = learn.check(ex, fn)
    assert not r.passed
    return r.message


def test_sigmoid_mistakes_in_words():
    m = _check("sigmoid_derivative", A.sd_sigma)
    assert "sigmoid_derivative(z = 0): expected 0.25, got 0.5" in m and "σ(z) itself, not its derivative" in m
    assert "Sign slip" in _check("sigmoid_derivative", A.sd_sign)
    m = _check("sigmoid_derivative", A.sd_overflow)
    assert "OverflowError" in m and "z = -710" in m and "stable form" in m
    assert "s = 1.0 / (1.0 + math.exp(-z))" in m and "learn_answers.py" in m  # the learner's own line
    m = _check("sigmoid_derivative", A.sd_overflow_numpy)
    assert "got nan" in m and "stable form" in m


def test_log_loss_mistakes_in_words():
    assert "Sign slip" in _check("log_loss_gradient", A.ll_sign)
    assert "that is dL/dz" in _check("log_loss_gradient", A.ll_dz)
    assert "Sign slip in the second term" in _check("log_loss_gradient", A.ll_sign_second)
    m = _check("log_loss_gradient", A.ll_missing_term)
    assert "log_loss_gradient(a = 0.5, y = 0): expected 2, got -0" in m and "(1 − y) ln(1 − a) term is missing" in m
    assert "the loss L itself" in _check("log_loss_gradient", A.ll_loss)
    assert "Sign slip inside: σ(z)(1 + σ(z))" in _check("sigmoid_derivative", A.sd_plus)
    assert "you returned 1 − σ(z)" in _check("sigmoid_derivative", A.sd_one_minus)


def _ledger_line(e, node, inp):
    """The ledger's line of the step node → inp (by the ledger's names; node None: any)."""
    step = next(s for s in e.steps if s.input_name == inp and (node is None or s.node_name == node))
    return e.line(step.number)


def test_chain_rule_points_at_the_first_wrong_step_of_the_ledger():
    m = _check("chain_rule", A.cr_missing_factor)
    assert "Missing factor: dz/dw1 = x1" in m
    v, e = grader._neuron(0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    step = next(s for s in e.steps if s.input is v["w1"])
    assert e.line(step.number) in m  # the ledger's own line and names
    m = _check("chain_rule", A.cr_sigma)
    assert "σ instead of σ'" in m and _ledger_line(e, "a", "z") in m and "dL/da" in m  # L is named L
    m = _check("chain_rule", A.cr_wrong_parent)
    assert "Wrong parent" in m and "you used w1" in m
    v, e = grader._neuron(1.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    assert _ledger_line(e, None, "w1") in m and "= x1 = 1" in _ledger_line(e, None, "w1")
    assert "Sign slip" in _check("chain_rule", A.cr_sign)


def test_backprop_overwrite_names_the_node_and_both_contributions():
    m = _check("backprop", A.bp_overwrite)
    assert "Overwriting instead of accumulating: u is used 2 times" in m
    t = math.tanh(-0.75)
    assert f"L ({1:.10g})" in m and f"t ({1 - t * t:.10g})" in m  # both contributions, by node
    assert "+=" in m


def test_backprop_order_seed_recursion_and_wrong_parent_in_words():
    m = _check("backprop", A.bp_order)
    assert "Wrong order: node u" in m and "L = u + tanh(u)" in m and "t came later" in m
    r = learn.check("backprop", A.bp_no_seed)
    assert "seed is missing" in r.message and "dL/dL = 1" in r.message and (r.expected, r.got) == (1.0, 0.0)
    m = _check("backprop", A.bp_recursive)
    assert "RecursionError" in m and "10,000 nodes" in m and "explicit stack" in m and "visit(parent)" in m
    m = _check("backprop", A.bp_wrong_parent)
    assert "wrong parent" in m and _ledger_line(explain(grader._graph_neuron()), None, "w2") in m
    assert "dL/dw2 should be 0.139442411.  Yours is 0.2231078576." in m


def test_backprop_a_contribution_counted_twice():
    def twice(root):
        A.backprop(root)
        u = root.parents[0] if root.label == "L" and root.op.name == "add" else None
        if u is not None and u.label == "u":  # the shared graph: u passes its gradient on once more
            for parent, d in learn.local_derivatives(u):
                parent.grad += u.grad * d

    r = learn.check("backprop", twice)
    assert r.mistake == "twice" and "counted twice" in r.message


def test_gradient_descent_ascent_shows_the_loss_rising():
    m = _check("gradient_descent", A.gd_ascent)
    assert "Gradient ascent" in m and "J went from 0.02 up to 0.0242; a descent step brings it down to 0.0162" in m

    def rebinding(params, lr):
        for p in params:
            p = p - lr * p.grad  # noqa: F841

    assert learn.check("gradient_descent", rebinding).mistake == "unchanged"


def test_initialise_equal_weights_shows_the_hidden_units_stay_identical():
    m = _check("initialise", A.init_same_value)
    assert "still have identical weights" in m and "C11" in m
    rows = re.findall(r"unit \d: \[([-\d.]+), ([-\d.]+)\]", m)
    assert len(rows) == 3 and len(set(rows)) == 1 and rows[0] != ("0.5000", "0.5000")  # trained, still clones

    def transposed(n_in, n_out, seed):  # (n_in, n_out), one column per unit: read as such
        return [list(r) for r in zip(*A.initialise(n_in, n_out, seed))]

    assert learn.check("initialise", transposed).passed

    def equal_columns(n_in, n_out, seed):
        return [[0.1 * (i + 1)] * n_out for i in range(n_in)]  # (n_in, n_out), every unit the same

    assert learn.check("initialise", equal_columns).mistake == "equal-weights"

    def one_row(n_in, n_out, seed):
        return [A.initialise(n_in, n_out, seed)[0]]

    r = learn.check("initialise", one_row)
    assert r.mistake == "shape" and "should be (n_out, n_in) = (3, 2)" in r.message

    import random

    def unseeded(n_in, n_out, seed):
        return [[random.gauss(0, 0.1) for _ in range(n_in)] for _ in range(n_out)]

    assert learn.check("initialise", unseeded).mistake == "not-reproducible"

    def repeated_row(n_in, n_out, seed):  # one random row for every unit
        return [A.initialise(n_in, 1, seed)[0]] * n_out

    m = _check("initialise", repeated_row)
    assert "rows 1 and 2 are equal" in m and "equal rows at the start" in m and "still have identical" not in m

    def single_unit_constant(n_in, n_out, seed):  # equal weights inside one unit: no symmetry to break
        return [[0.1 * (k + 1) + 0.01 * seed] * n_in for k in range(n_out)]

    assert learn.check("initialise", single_unit_constant).passed

    def not_finite(n_in, n_out, seed):
        return [[math.nan] * n_in for _ in range(n_out)]

    assert learn.check("initialise", not_finite).mistake == "not-finite"

    def huge(n_in, n_out, seed):
        return [[100 * w for w in row] for row in A.initialise(n_in, n_out, seed)]

    assert learn.check("initialise", huge).mistake == "too-large"


def test_vectorized_logreg_missing_mean_and_loops():
    m = _check("vectorized_logreg", A.vl_missing_m)
    assert "Missing 1/m" in m and "m = 3 times" in m

    def looped(X, y, w, b):
        import numpy as np

        dw = np.zeros_like(w)
        db = 0.0
        for x, t in zip(X, y):
            a = 1 / (1 + np.exp(-(x @ w + b)))
            dw += x * (a - t)
            db += a - t
        return dw / len(y), db / len(y)

    r = learn.check("vectorized_logreg", looped)
    assert r.mistake == "loop" and f"line {inspect.getsourcelines(looped)[1] + 5}" in r.message


# --------------------------------------------------------------------------
# learner code: exceptions, types, time limits
# --------------------------------------------------------------------------


def test_a_learners_exception_is_reported_with_their_line():
    def divide(a, y):
        bad = 1 / (a - 0.5)
        return bad

    r = learn.check("log_loss_gradient", divide)
    assert r.status == "failed" and r.mistake == "exception"
    assert "ZeroDivisionError" in r.message and "bad = 1 / (a - 0.5)" in r.message
    assert "log_loss_gradient(a = 0.5, y = 1)" in r.message and "Traceback" not in r.message
    assert learn.check("log_loss_gradient", lambda a, y: None).mistake == "type"
    assert "a `return` missing" in learn.check("log_loss_gradient", lambda a, y: None).message
    assert learn.check("sigmoid_derivative", lambda z: sys.exit(3)).mistake == "exception"
    r = learn.check("sigmoid_derivative", lambda z: z > 0)
    assert r.mistake == "type" and "returned the bool False" in r.message
    assert "returned an array of shape (2,)" in learn.check("sigmoid_derivative", lambda z: np.zeros(2)).message
    assert "returned a list of 2 items" in learn.check("sigmoid_derivative", lambda z: [z, z]).message
    assert "returned a str ('0.25')" in learn.check("sigmoid_derivative", lambda z: "0.25").message
    assert "returned an int" not in learn.check("sigmoid_derivative", lambda z: 0).message  # a number


def test_not_started():
    def stub(z):
        raise NotImplementedError

    r = learn.check("sigmoid_derivative", stub)
    assert r.status == "not started" and not r.passed
    assert str(r) == "· sigmoid_derivative: not started (your function raises NotImplementedError)"


@pytest.mark.parametrize("in_thread", [False, True])
def test_an_endless_loop_is_stopped_by_the_time_limit(in_thread):
    def endless(params, lr):
        while True:
            try:
                pass
            except Exception:  # a learner's broad except cannot swallow the limit
                pass

    out = {}

    def run():
        start = time.perf_counter()
        before = sys.gettrace()
        out["r"] = learn.check("gradient_descent", endless, time_limit=0.5)
        out["t"] = time.perf_counter() - start
        assert learn.check("gradient_descent", A.gradient_descent, time_limit=5).passed
        out["trace restored"] = sys.gettrace() is before  # after a pass too (a timeout unsets it anyway)

    if in_thread:
        t = threading.Thread(target=run)
        t.start()
        t.join(20)
    else:
        run()
    assert out["r"].mistake == "timeout" and "more than 0.5 s" in out["r"].message
    assert out["t"] < 5 and out["trace restored"]


def test_report_prints_and_renders_escaped_html():
    r = learn.check("backprop", A.bp_overwrite)
    assert str(r).splitlines()[0] == "✗ backprop: failed"
    h = r._repr_html_()
    assert h.startswith("<div>") and "color:#b00020" in h and "&lt;" not in r.message and "<pre" in h
    r2 = grader.Report("x", "failed", "a < b & c")
    assert "a &lt; b &amp; c" in r2._repr_html_()
    assert "#1b7f3b" in learn.check("new_op", A.new_op)._repr_html_()


def test_check_refuses_unknown_ids_and_non_functions():
    with pytest.raises(ValueError, match="unknown exercise"):
        learn.check("nope", A.backprop)
    with pytest.raises(TypeError, match="must be your function"):
        learn.check("backprop", 3)
    assert learn.check("new_op", A.new_op()).passed  # the pair itself is fine too


# --------------------------------------------------------------------------
# the workbook folder and the CLI, as a subprocess
# --------------------------------------------------------------------------


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)}
    return subprocess.run([sys.executable, "-m", "autograd_lite", "learn", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _paste(path: Path, fn) -> None:
    body = "".join(inspect.getsourcelines(fn)[0][1:])  # the answer without its def line
    text = path.read_text(encoding="utf-8")
    assert text.count("    raise NotImplementedError\n") == 1
    path.write_text(text.replace("    raise NotImplementedError\n", body), encoding="utf-8")


def test_cli_stubs_untouched_are_not_started_then_pasted_answers_pass(tmp_path):
    r = _cli("init", "work", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in (tmp_path / "work").iterdir())
    assert files == [f"{k:02d}_{ex}.py" for k, ex in enumerate(IDS, 1)]
    for ex, name in zip(IDS, files):  # each stub: its function, signature, a docstring with the math
        text = (tmp_path / "work" / name).read_text(encoding="utf-8")
        assert f"def {ex}(" in text and "raise NotImplementedError" in text and '"""' in text
        compile(text, name, "exec")
    r = _cli("check", "work", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr == ""
    assert r.stdout.count("not started") == 9 and "8 not started" in r.stdout and "Traceback" not in r.stdout
    for ex, name in zip(IDS, files):
        _paste(tmp_path / "work" / name, A.CORRECT[ex])
    r = _cli("check", "work", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "8 passed" in r.stdout
    # one exercise by id; a wrong one fails with its diagnosis and exit 1
    _paste_wrong = tmp_path / "work" / "05_gradient_descent.py"
    _paste_wrong.write_text(_paste_wrong.read_text(encoding="utf-8").replace("p.data -= lr", "p.data += lr"),
                            encoding="utf-8")
    r = _cli("check", "work", "gradient_descent", "backprop", cwd=tmp_path)
    assert r.returncode == 1 and "Gradient ascent" in r.stdout and "1 passed, 1 failed" in r.stdout
    assert "(stuck? autograd-lite learn hint gradient_descent 1)" in r.stdout


def test_cli_hint(tmp_path):
    r = _cli("hint", "backprop", "3", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == learn.hint("backprop", 3)
    r = _cli("hint", "backprop", "9", cwd=tmp_path)
    assert r.returncode == 2 and "hints 1 to 3" in r.stderr and "Traceback" not in r.stderr


def test_cli_help_has_examples(tmp_path):
    for args in ([], ["init"], ["check"], ["hint"]):
        r = _cli(*args, "--help", cwd=tmp_path)
        assert r.returncode == 0 and "learn check my-work backprop" in r.stdout


def test_cli_init_refuses_to_overwrite_without_force(tmp_path):
    assert _cli("init", "w", cwd=tmp_path).returncode == 0
    mine = tmp_path / "w" / "04_backprop.py"
    mine.write_text("def backprop(root):\n    pass\n", encoding="utf-8")
    r = _cli("init", "w", cwd=tmp_path)
    assert r.returncode == 2 and "--force" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert mine.read_text(encoding="utf-8") == "def backprop(root):\n    pass\n"  # untouched
    r = _cli("init", "w", "backprop", "--force", cwd=tmp_path)
    assert r.returncode == 0 and "raise NotImplementedError" in mine.read_text(encoding="utf-8")
    assert _cli("check", "w", "nope", cwd=tmp_path).returncode == 2


def test_cli_bounds_endless_loops_and_reports_broken_files(tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    (work / "05_gradient_descent.py").write_text("def gradient_descent(params, lr):\n    while True:\n"
                                                 "        pass\n", encoding="utf-8")
    (work / "01_sigmoid_derivative.py").write_text("def sigmoid_derivative(z)\n    return z\n", encoding="utf-8")
    (work / "02_log_loss_gradient.py").write_text("while True:\n    pass\n", encoding="utf-8")
    (work / "03_chain_rule.py").write_text("x = 1\n", encoding="utf-8")
    start = time.perf_counter()
    r = _cli("check", "w", "--time-limit", "0.5", cwd=tmp_path)
    assert time.perf_counter() - start < 30
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
    assert "gradient_descent: failed" in r.stdout and "more than 0.5 s" in r.stdout
    assert "not valid Python" in r.stdout and "line 1" in r.stdout
    assert "importing 02_log_loss_gradient.py took more than 0.5 s" in r.stdout
    assert "defines no function named chain_rule" in r.stdout
    assert "backprop: not started" in r.stdout  # no file


# --------------------------------------------------------------------------
# examples/workbook.ipynb, executed by a real kernel
# --------------------------------------------------------------------------


def test_workbook_notebook_runs_clean(monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))  # no other python3 kernelspec
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(ROOT / "examples" / "workbook.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "ship it without outputs"
    nb.cells.append(nbformat.v4.new_code_cell("import autograd_lite; print(autograd_lite.__file__)"))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "examples")}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    for c in code:
        for o in c.outputs:
            assert o.output_type != "error", f"{c.source[:60]!r}: {o.get('ename')}: {o.get('evalue')}"
            assert not (o.output_type == "stream" and o.name == "stderr"), o.text[:300]
    assert Path(code[-1].outputs[0].text.strip()).resolve() == (ROOT / "autograd_lite" / "__init__.py").resolve()

    def text(snippet):
        cell = next(c for c in code if snippet in c.source)
        return "".join(o.get("text", "") + o.get("data", {}).get("text/html", "") for o in cell.outputs)

    first = next(c for c in code if "return 1 / (1 + math.exp(-z))" in c.source)
    assert "text/html" in first.outputs[0]["data"] and "σ instead of σ&#x27;" in first.outputs[0]["data"]["text/html"]
    assert "Missing factor" in text("return a - y, a - y, a - y")
    assert "Overwriting instead of accumulating" in text("# the mistake")
    assert "still have identical weights" in text("[[0.0] * n_in")
    assert text("reports = [").count(": passed") == 8


def test_the_time_limit_leaves_an_outer_alarm_running():
    import signal

    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.8)
        assert learn.check("gradient_descent", A.gradient_descent).passed
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining <= 0.8
        time.sleep(1.0)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_hypothesis_finds_and_shrinks_what_the_fixed_cases_miss(monkeypatch):
    fixed = {abs(c[0]) for c in [(z,) for z in grader._Z_EDGES]}

    def sneaky(z):
        if abs(z) > 8 and abs(z) not in fixed:
            return 0.5
        return A.sigmoid_derivative(z)

    r = learn.check("sigmoid_derivative", sneaky)
    assert r.status == "failed" and abs(r.input[0]) > 8 and r.got == 0.5, str(r)
    again = learn.check("sigmoid_derivative", sneaky)
    assert again.input == r.input  # derandomised: the same input every time
    assert "hypothesis" in learn.check("sigmoid_derivative", A.sigmoid_derivative).message
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # not installed: the fixed cases only
    r = learn.check("sigmoid_derivative", sneaky)
    assert r.passed and "hypothesis" not in r.message


def test_exceptions_anywhere_in_an_answer_are_reported_not_raised():
    calls = []

    def second_call_fails(n_in, n_out, seed):  # the equal-weights demo calls it again, for the output layer
        calls.append(n_in)
        if len(calls) > 1:
            raise KeyError("boom")
        return [[0.0] * n_in for _ in range(n_out)]

    r = learn.check("initialise", second_call_fails)
    assert r.mistake == "exception" and "KeyError" in r.message and 'raise KeyError("boom")' in r.message

    def no_pair():
        raise ValueError("not yet")

    r = learn.check("new_op", no_pair)
    assert r.mistake == "exception" and "ValueError: not yet" in r.message

    class Weird(float):  # a number type whose arithmetic explodes
        def __sub__(self, other):
            raise RuntimeError("weird")

        __rsub__ = __abs__ = __sub__

    r = learn.check("sigmoid_derivative", lambda z: Weird(0.25))
    assert r.status == "failed" and "Traceback" not in r.message


def test_the_time_limit_striking_inside_the_search_never_fails_a_right_answer(monkeypatch):
    import hypothesis

    def endless_search(*args, **kwargs):
        while True:
            pass

    monkeypatch.setattr(hypothesis, "find", endless_search)
    r = learn.check("sigmoid_derivative", A.sigmoid_derivative, time_limit=1.0)
    assert r.passed and "until its time was up" in r.message

    def slow(z):  # but the learner's own slowness is theirs
        time.sleep(0.05)
        return A.sigmoid_derivative(z)

    assert learn.check("sigmoid_derivative", slow, time_limit=1.0).mistake == "timeout"


def test_a_value_inside_data_is_not_a_step():
    def gd_value(params, lr):
        for p in params:
            p.data = p - lr * p.grad

    r = learn.check("gradient_descent", gd_value)
    assert r.mistake == "type" and "p.data -= lr * p.grad" in r.message


def test_a_mistake_is_named_only_when_two_more_inputs_confirm_it():
    def sigma_near_zero(z):  # σ where it answers at all; it raises beyond |z| = 1.2
        if abs(z) > 1.2:
            raise ValueError("too far")
        return grader._sigmoid(z)

    assert learn.check("sigmoid_derivative", sigma_near_zero).mistake == "sigma-not-derivative"  # z = 0.5, −1

    def sigma_at_one_probe(z):
        if abs(z) > 0.7:
            raise ValueError("too far")
        return grader._sigmoid(z)

    r = learn.check("sigmoid_derivative", sigma_at_one_probe)
    assert r.status == "failed" and r.mistake is None and "expected 0.25, got 0.5" in r.message

    def missing_factor_near_zero(x1, x2, w1, w2, b, y):  # answers for |x1| ≤ 0.65 only: two probe neurons
        if abs(x1) > 0.65:
            raise ValueError("too far")
        return A.cr_missing_factor(x1, x2, w1, w2, b, y)

    assert learn.check("chain_rule", missing_factor_near_zero).mistake == "missing-factor"


def test_wrong_parent_on_a_product_node():
    x, w = Value(2.0, "x"), Value(-0.5, "w")
    L = w * x
    L.label = "L"
    r = grader._grade_backprop_graph(A.bp_first_parent, "L = w·x", L)
    assert r.mistake == "wrong-parent" and "dL/dw should be 2.  Yours is 1.5." in r.message
    assert explain(L).line(1) in r.message and "local ∂L/∂w = x = 2" in r.message
    assert grader._grade_backprop_graph(A.backprop, "L = w·x", L) is None


def test_wrong_parent_when_both_inputs_have_the_same_local_derivative():
    x, w = Value(2.0, "x"), Value(2.0, "w")  # dL/dw = x = 2 = w = dL/dx: "twice" or "wrong parent"?
    L = w * x
    L.label = "L"
    r = grader._grade_backprop_graph(A.bp_first_parent, "L = w·x", L)
    assert r.mistake == "wrong-parent" and "x is off by -2" in r.message  # x lost what w got twice
    r = grader._grade_backprop_graph(A.bp_dfs_no_order, "L = w·x", L)
    assert r is None  # a tree: walking it without order is right


def test_overwrite_on_one_op_using_a_node_twice():
    r = grader._grade_backprop_graph(A.bp_overwrite, "q = x·x", grader._graph_square())
    assert r.mistake == "overwrite" and "x is used 2 times" in r.message  # not "wrong parent": fewest changes win


def test_twice_is_not_wrong_parent_when_the_other_input_gets_nothing_anyway():
    x, w = Value(3.0, "x"), Value(0.0, "w")  # dL/dx = w = 0: x is right whether or not L passes on twice

    def root_twice(root):
        A.backprop(root)
        for parent, d in learn.local_derivatives(root):
            parent.grad += root.grad * d

    L = w * x
    L.label = "L"
    r = grader._grade_backprop_graph(root_twice, "L = w·x", L)
    assert r.mistake == "twice" and "counted twice" in r.message


def test_workbook_folder_in_process(tmp_path):
    from autograd_lite.learn.workbook import summary

    paths = learn.init_workbook(tmp_path / "w", ["backprop", "sigmoid_derivative"])
    assert [p.name for p in paths] == ["04_backprop.py", "01_sigmoid_derivative.py"]
    with pytest.raises(FileExistsError, match="04_backprop.py exists \\(and 1 more\\).*force"):
        learn.init_workbook(tmp_path / "w", ["backprop", "sigmoid_derivative"])
    with pytest.raises(FileExistsError, match="01_sigmoid_derivative.py exists \\(and 1 more\\): your work"):
        learn.init_workbook(tmp_path / "w")  # the first existing file is named; nothing is written
    assert not (tmp_path / "w" / "02_log_loss_gradient.py").exists()
    assert len(learn.init_workbook(tmp_path / "w", force=True)) == 8
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        learn.init_workbook(tmp_path / "file")
    with pytest.raises(FileNotFoundError, match="learn init"):
        learn.check_workbook(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="unknown exercise 'nope'"):
        learn.check_workbook(tmp_path / "w", ["nope"])
    (tmp_path / "w" / "05_gradient_descent.py").unlink()
    path_before, modules_before = list(sys.path), set(sys.modules)
    reports = learn.check_workbook(tmp_path / "w", ["gradient_descent", "backprop", "backprop"])
    assert [(r.exercise, r.status) for r in reports] == [("gradient_descent", "not started"),
                                                         ("backprop", "not started")]
    assert "no file 05_gradient_descent.py" in reports[0].message
    assert sys.path == path_before and set(sys.modules) == modules_before
    (tmp_path / "w" / "gradient_descent.py").write_text(  # a plain name works too
        "def gradient_descent(params, lr):\n    for p in params:\n        p.data -= lr * p.grad\n")
    (tmp_path / "w" / "04_backprop.py").write_text("import sys\nsys.exit(1)\n")
    reports = learn.check_workbook(tmp_path / "w", ["gradient_descent", "backprop"])
    assert [r.status for r in reports] == ["passed", "failed"] and "SystemExit" in reports[1].message
    assert summary(reports) == "1 passed, 1 failed" and summary([]) == "nothing checked"
    assert len(learn.init_workbook(tmp_path / "deep" / "er")) == 8  # parent folders are made too
    (tmp_path / "w" / "my_helpers_i23.py").write_text("def step(p, lr):\n    p.data -= lr * p.grad\n")
    (tmp_path / "w" / "gradient_descent.py").write_text(  # the learner's files may import each other
        "from my_helpers_i23 import step\n\ndef gradient_descent(params, lr):\n    for p in params:\n"
        "        step(p, lr)\n")
    assert learn.check_workbook(tmp_path / "w", ["gradient_descent"])[0].passed
