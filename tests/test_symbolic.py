"""The SymPy bridge: the graph as a formula, SymPy's derivatives against backprop,
the seed's derivation recovered, the killable simplify, the CLI's --analytic."""

from __future__ import annotations

import json
import math
import multiprocessing
import subprocess
import sys
import time
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sympy = pytest.importorskip("sympy")

from autograd_lite import Value, gradients, linear, nn  # noqa: E402
from autograd_lite import symbolic as S  # noqa: E402
from autograd_lite.engine import OPS  # noqa: E402
from autograd_lite.walkthrough import build_zal_graph  # noqa: E402


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= rel * max(abs(a), abs(b)) + abs_


def check_graph(root: Value, *, whole_expression_diff: bool = True) -> None:
    """to_sympy(root) evaluates to root.data; every symbolic derivative evaluates to
    backprop's gradient, and so does SymPy's diff of the whole expression."""
    expr = S.to_sympy(root)
    assert close(S.evaluate(expr, root), root.data), (expr, S.evaluate(expr, root), root.data)
    pairs = S.leaf_symbols(root)
    leaves = list(pairs)
    auto = gradients(root, leaves)
    grads = S.symbolic_gradients(root, simplify=False)
    assert list(grads) == leaves
    for leaf, a in zip(leaves, auto):
        sym = S.evaluate(grads[leaf], root)
        assert close(sym, a), (pairs[leaf], grads[leaf], sym, a)
        if whole_expression_diff:  # the fully independent reference: SymPy's diff of the whole formula
            assert close(S.evaluate(sympy.diff(expr, pairs[leaf]), root), a)


# --- one builder per op of the table, on inputs where it is smooth and defined -----------------
def _pos(v):
    return v.data > 0.2


BUILDERS = {
    "add": (2, lambda a, b: a + b, None),
    "sub": (2, lambda a, b: a - b, None),
    "mul": (2, lambda a, b: a * b, None),
    "div": (2, lambda a, b: a / b, lambda a, b: abs(b.data) > 0.2),
    "pow": (2, lambda a, b: a ** b, lambda a, b: a.data > 0.2 and abs(b.data) < 3),
    "neg": (1, lambda a: -a, None),
    "exp": (1, lambda a: a.exp(), lambda a: abs(a.data) < 5),
    "log": (1, lambda a: a.log(), _pos),
    "sigmoid": (1, lambda a: a.sigmoid(), lambda a: abs(a.data) < 5),
    "tanh": (1, lambda a: a.tanh(), lambda a: abs(a.data) < 5),
    "relu": (1, lambda a: a.relu(), lambda a: abs(a.data) > 0.1),     # away from the kink
    "sqrt": (1, lambda a: a.sqrt(), _pos),
    "abs": (1, lambda a: abs(a), lambda a: abs(a.data) > 0.1),
    "sin": (1, lambda a: a.sin(), None),
    "cos": (1, lambda a: a.cos(), None),
    "linear": (3, lambda a, b, c: linear([a, b], [c, 1.5], c), None),  # shares c; a constant input
}
CONSTANTS = [2.0, 3.0, 0.5, -1.5, 0.1, 1.0]


def test_every_op_of_the_table_has_a_rule_and_a_builder():
    assert set(S.sympy_rules()) >= set(OPS), f"no SymPy rule for {set(OPS) - set(S.sympy_rules())}"
    for name in OPS:
        assert name in BUILDERS, f"add a builder for the new op {name!r} to this test"
        arity, build, _ = BUILDERS[name]
        xs = [Value(v, label=f"x{i}") for i, v in enumerate((0.7, 1.3, -0.9)[:arity])]
        node = build(*xs)
        assert node.op is OPS[name]
        check_graph(node)


def test_a_missing_rule_is_a_clear_error(monkeypatch):
    rules = S.sympy_rules()
    del rules["sin"]
    monkeypatch.setattr(S, "sympy_rules", lambda: rules)
    with pytest.raises(NotImplementedError, match="'sin'"):
        S.to_sympy(Value(1.0).sin())


@st.composite
def graphs(draw):
    """A random graph over 2-4 leaves (labels may repeat or be missing) whose op
    nodes pick their inputs from everything built so far: shared subexpressions."""
    n = draw(st.integers(2, 4))
    labels = draw(st.lists(st.sampled_from(["x", "w", "b", None]), min_size=n, max_size=n))
    values = draw(st.lists(st.floats(0.3, 2.0) | st.floats(-2.0, -0.3), min_size=n, max_size=n))
    pool = [Value(v, label=lab) for v, lab in zip(values, labels)]
    for _ in range(draw(st.integers(2, 9))):
        name = draw(st.sampled_from(sorted(BUILDERS)))
        arity, build, ok = BUILDERS[name]
        args = [draw(st.sampled_from(pool)) for _ in range(arity)]
        if name in ("add", "sub", "mul", "div", "pow") and draw(st.booleans()):
            side = 1 if name == "pow" else draw(st.integers(0, 1))   # a number on one side: a constant
            args[side] = draw(st.sampled_from(CONSTANTS))
        if ok is not None and not ok(*[a if isinstance(a, Value) else Value(a) for a in args]):
            continue
        node = build(*args)
        if not (math.isfinite(node.data) and abs(node.data) < 1e3):
            continue
        pool.append(node)
    root = pool[-1]
    if root.op is None:
        root = pool[0] * pool[1] + root
    return root


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_value_and_every_derivative_agree_with_backprop(root):
    check_graph(root)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_simplified_derivatives_still_agree(root):
    grads = S.symbolic_gradients(root, timeout=1.0)
    for leaf, a in zip(grads, gradients(root, list(grads))):
        assert close(S.evaluate(grads[leaf], root), a, rel=1e-8)


# --- the seed: the derivation recovered from the graph, not typed --------------------------------
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_seed_dL_dw1_simplifies_to_x1_times_sigma_z_minus_y(y):
    g = build_zal_graph(x1=1.5, x2=-0.5, w1=0.3, w2=-0.8, b=0.1, y=y)
    s = {leaf.label: sym for leaf, sym in S.leaf_symbols(g.L).items()}
    assert set(s) == {"x1", "x2", "w1", "w2", "b"}
    z = s["w1"] * s["x1"] + s["w2"] * s["x2"] + s["b"]
    sigma = 1 / (1 + sympy.exp(-z))
    grads = S.symbolic_gradients(g.L)
    assert sympy.simplify(grads[g.w1] - s["x1"] * (sigma - y)) == 0
    assert sympy.simplify(grads[g.w2] - s["x2"] * (sigma - y)) == 0
    assert sympy.simplify(grads[g.b] - (sigma - y)) == 0
    assert abs(S.evaluate(grads[g.w1] - s["x1"] * (sigma - (1 - y)), g.L)) > 0.1   # a wrong target differs
    # intermediate nodes: ∂L/∂z = a − y, as backprop defines it
    dz = S.symbolic_gradients(g.L, [g.z, g.a])
    assert sympy.simplify(dz[g.z] - (sigma - y)) == 0
    assert close(S.evaluate(dz[g.a], g.L), g.a.grad)


def test_seed_with_y_a_leaf_gives_the_general_formula():
    x1, x2, w1, w2, b, y = (Value(v, label=n) for n, v in
                            [("x1", 1.5), ("x2", -0.5), ("w1", 0.3), ("w2", -0.8), ("b", 0.1), ("y", 1.0)])
    a = (w1 * x1 + w2 * x2 + b).sigmoid()
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    s = {leaf.label: sym for leaf, sym in S.leaf_symbols(L).items()}
    sigma = 1 / (1 + sympy.exp(-(s["w1"] * s["x1"] + s["w2"] * s["x2"] + s["b"])))
    assert sympy.simplify(S.symbolic_gradients(L, [w1])[w1] - s["x1"] * (sigma - s["y"])) == 0


# --- names, constants, sharing -------------------------------------------------------------------
def test_names_of_leaves_labels_collisions_and_unlabelled():
    a, b, c, d, e = Value(1.0, label="w"), Value(2.0), Value(3.0, label="w"), Value(4.0, label="v1"), Value(5.0)
    f = a * b + c * d + e
    names = [str(s) for s in S.leaf_symbols(f).values()]
    # the names of every view (autograd_lite.naming): w keeps its label, the second w is w_2;
    # unlabelled leaves are v2, v3 (v1 is a label)
    assert names == ["w", "v2", "w_2", "v1", "v3"]
    from autograd_lite import explain
    ledger = {r.node: r.name for r in explain(f).forward}
    assert [ledger[leaf] for leaf in S.leaf_symbols(f)] == names  # the ledger says the same
    assert names == [str(s) for s in S.leaf_symbols(f).values()]  # stable
    assert all(s.is_real for s in S.leaf_symbols(f).values())
    sym = {str(v): v for v in S.leaf_symbols(f).values()}
    assert S.to_sympy(f).doit() == sym["w"] * sym["v2"] + sym["w_2"] * sym["v1"] + sym["v3"]


def test_constants_are_exact_numbers():
    x = Value(0.7, label="x")
    X = sympy.Symbol("x", real=True)

    def conv(v):
        return S.to_sympy(v).doit()

    assert conv(x ** 2.0) == X ** 2 and conv(x ** 2.0).exp.is_Integer
    assert conv(0.5 * x) == X / 2 and conv(x / 0.25) == 4 * X
    tenth = [a for a in S.to_sympy(x * 0.1).args if a.is_Float]
    assert tenth == [sympy.Float(0.1, precision=53)]
    assert sympy.Rational(tenth[0]) == sympy.Rational(0.1)  # the double, exactly
    f = x * 0.1 + x ** 2.0 + 0.5 * x
    assert S.evaluate(S.to_sympy(f), f) == pytest.approx(f.data, rel=1e-15)
    assert conv(Value(2.0) * 0 + 1 / Value(4.0, label="q")) == 1 / sympy.Symbol("q", real=True)


def _dag_nodes(expr) -> int:
    return S._dag_size(expr)


def test_an_mlp_graph_converts_fast_and_stays_shared():
    model = nn.MLP(3, [8, 8, 8, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)
    out = model([Value(0.5, label="x1"), Value(-1.0, label="x2"), Value(0.25, label="x3")])
    from autograd_lite.engine import topological_order

    n_nodes = len(topological_order(out))
    assert 250 <= n_nodes <= 450
    S.to_sympy(Value(1.0).tanh())  # SymPy imported and warm
    t0 = time.perf_counter()
    expr = S.to_sympy(out)
    seconds = time.perf_counter() - t0
    assert seconds < 1.0, f"{n_nodes}-node MLP took {seconds:.2f} s to convert"
    assert _dag_nodes(expr) < 10 * n_nodes     # shared, not unfolded into a tree
    assert close(S.evaluate(expr, out), out.data)
    t0 = time.perf_counter()
    report = S.analytic_check(out)               # 260 formulas, too big to simplify: bounded time, all agree
    assert report and len(report.rows) == 260 and time.perf_counter() - t0 < 30
    assert max(r.autodiff_rel_error for r in report.rows) < 1e-9
    assert "where t0 = " in str(report)


def test_deep_sharing_does_not_blow_up():
    x = Value(0.3, label="x")
    h = x
    for _ in range(40):       # as a tree: 2^40 leaves
        h = (h * h).tanh() + h.sin() * 0.5
    t0 = time.perf_counter()
    g = S.symbolic_gradients(h, simplify=False)[x]
    assert close(S.evaluate(g, h), gradients(h, [x])[0])
    assert time.perf_counter() - t0 < 10


# --- simplify: a time limit, never a hang --------------------------------------------------------
def _slow_simplify(expr, *args, **kw):
    time.sleep(60)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="the patch reaches a forked child")
def test_a_slow_simplify_is_killed_and_the_formula_stays_unsimplified(monkeypatch):
    x, w = Value(0.5, label="x"), Value(2.0, label="w")
    f = (w * x).sigmoid()
    raw = S.symbolic_gradients(f, simplify=False)
    monkeypatch.setattr(sympy, "simplify", _slow_simplify)
    t0 = time.perf_counter()
    report = S.analytic_check(f, timeout=0.5)
    assert time.perf_counter() - t0 < 8
    assert [r.formula for r in report.rows] == [raw[x].doit(), raw[w].doit()]  # evaluated, not simplified
    assert not any(r.simplified for r in report.rows) and report
    assert not multiprocessing.active_children()


def test_simplify_happens_in_a_child_and_reports_it():
    x = Value(0.5, label="x")
    f = x.exp() * x.exp()
    report = S.analytic_check(f)
    assert report.rows[0].simplified
    assert report.rows[0].formula == 2 * sympy.exp(2 * sympy.Symbol("x", real=True))


# --- analytic_check ------------------------------------------------------------------------------
class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell)
            self._cell = None


def test_analytic_check_table_text_html_and_latex():
    g = build_zal_graph()
    report = S.analytic_check(g.L)
    assert report and [r.input for r in report.rows] == ["x1", "x2", "w1", "w2", "b"]
    for r in report.rows:
        leaf = getattr(g, r.input)
        assert r.autodiff == leaf.grad
        assert r.analytic == pytest.approx(leaf.grad, rel=1e-12)
        assert r.autodiff_rel_error < 1e-12 and r.numeric_rel_error < 1e-6
        assert r.latex == sympy.latex(r.formula)
    text = str(report)
    assert "∂L/∂w1 = -x1/(exp(b + w1*x1 + w2*x2) + 1)" in text
    assert "rel err autodiff" in text
    parser = _Cells()
    parser.feed(report._repr_html_())
    header, *rows = parser.rows
    assert header[:2] == ["input", "formula"] and len(rows) == 5
    for r, cells in zip(report.rows, rows):
        assert cells[0] == r.input and cells[1] == rf"\(\displaystyle {r.latex}\)"
        assert float(cells[2]) == pytest.approx(r.analytic) and float(cells[3]) == pytest.approx(r.autodiff)
    tex = report._repr_latex_()
    assert tex.startswith("$") and all(r.latex in tex for r in report.rows)


def test_analytic_check_catches_a_wrong_derivative(monkeypatch):
    rules = S.sympy_rules()
    rules["sin"] = lambda z: sympy.sin(2 * z) / 2      # same value at 0, a different derivative elsewhere
    monkeypatch.setattr(S, "sympy_rules", lambda: rules)
    x = Value(0.8, label="x")
    report = S.analytic_check(x.sin() + x, simplify=False)
    assert not report and not report.rows[0].ok and report.rows[0].autodiff_rel_error > 1e-3
    assert "NO" in str(report)


def test_long_formulas_are_printed_with_shared_parts_named_once():
    xs = [Value(0.1 * i, label=f"x{i}") for i in range(1, 4)]
    h = sum((x.tanh() for x in xs), Value(0.0, label="c")).sigmoid()
    L = (h * h + h).log()
    text = str(S.analytic_check(L, simplify=False))
    assert "where t0 = " in text


# --- without SymPy -------------------------------------------------------------------------------
def test_without_sympy_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)
    x = Value(1.0, label="x")
    for call in (lambda: S.to_sympy(x), lambda: S.symbolic_gradients(x), lambda: S.analytic_check(x),
                 lambda: S.leaf_symbols(x)):
        with pytest.raises(S.SymPyNotInstalledError, match=r"pip install autograd-lite\[symbolic\]"):
            call()
    assert issubclass(S.SymPyNotInstalledError, ImportError)


def test_cli_analytic_without_sympy_is_one_line_exit_2(monkeypatch, capsys):
    from autograd_lite.cli import main

    monkeypatch.setitem(sys.modules, "sympy", None)
    assert main(["grad", "x*x", "--at", "x=3", "--analytic"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install autograd-lite[symbolic]" in err


# --- the CLI -------------------------------------------------------------------------------------
def run(*args):
    return subprocess.run([sys.executable, "-m", "autograd_lite", *args], capture_output=True, text=True, timeout=120)


def test_cli_grad_analytic_text_and_json():
    expr = "bce(sigmoid(w*x + b), y) + abs(w)"
    at = ["--at", "w=0.3", "x=1.5", "b=0.1", "y=1", "u=2"]
    r = run("grad", expr, *at, "--analytic")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "SymPy's formula" in line)
    rows = {line.split()[0]: line.split(maxsplit=2) for line in lines[head + 2:] if line.strip()}
    assert list(rows) == ["w", "x", "b", "y", "u"]
    r2 = run("grad", expr, *at, "--analytic", "--json")
    assert r2.returncode == 0, r2.stderr
    doc = json.loads(r2.stdout)
    syms = {n: sympy.Symbol(n, real=True) for n in ("w", "x", "b", "y")}
    for name, entry in doc["analytic"].items():
        formula = sympy.sympify(entry["formula"], locals=syms)
        value = float(formula.subs({syms[k]: float(v.split("=")[1]) for k, v in
                                    zip(("w", "x", "b", "y"), at[1:5])}))
        assert value == pytest.approx(doc["grad"][name], rel=1e-9, abs=1e-12)
        assert entry["value"] == pytest.approx(doc["grad"][name], rel=1e-9, abs=1e-12)
        assert float(rows[name][1]) == pytest.approx(entry["value"], rel=1e-8, abs=1e-12)
        assert rows[name][2] == entry["formula"]
        assert entry["latex"] == sympy.latex(formula)
    assert doc["analytic"]["u"]["formula"] == "0"
    assert "analytic" not in json.loads(run("grad", expr, *at, "--json").stdout)


# --- the demo's walkthrough ----------------------------------------------------------------------
def test_walkthrough_shows_sympys_formulas_next_to_the_hand_written_ones(capsys):
    from autograd_lite import walkthrough

    rows = walkthrough.symbolic_rows({"x1": -2.0, "x2": 0.7, "w1": 1.1, "w2": 0.4, "b": -0.3, "y": 0.0})
    assert [r[0] for r in rows] == ["dL/dz", "dL/dw1", "dL/dw2", "dL/db"]
    for name, formula, _hand, same, sympy_value, hand_value, auto in rows:
        assert same, (name, formula)
        assert sympy_value == pytest.approx(hand_value, rel=1e-12) and sympy_value == pytest.approx(auto, rel=1e-12)
        assert "exp(z)" in formula and "y" in formula       # derived from the graph, in terms of z and y
    walkthrough.main()
    out = capsys.readouterr().out
    assert "SymPy, derived from the graph" in out and "x1(a − y)" in out


def test_walkthrough_without_sympy_says_how_to_install_it(monkeypatch, capsys):
    from autograd_lite import walkthrough

    monkeypatch.setitem(sys.modules, "sympy", None)
    walkthrough.main()
    out = capsys.readouterr().out
    assert "dL/dw1" in out and "install autograd-lite[symbolic]" in out
