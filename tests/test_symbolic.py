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


def same(a, b) -> bool:
    """Two formulas are the same function (σ and relu written out for sympy.simplify)."""
    return sympy.simplify((a - b).rewrite(sympy.exp).rewrite(sympy.Piecewise)) == 0


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
    assert same(grads[g.w1], s["x1"] * (sigma - y))
    assert same(grads[g.w2], s["x2"] * (sigma - y))
    assert same(grads[g.b], sigma - y)
    assert abs(S.evaluate(grads[g.w1] - s["x1"] * (sigma - (1 - y)), g.L)) > 0.1   # a wrong target differs
    # intermediate nodes: ∂L/∂z = a − y, as backprop defines it
    dz = S.symbolic_gradients(g.L, [g.z, g.a])
    assert same(dz[g.z], sigma - y)
    assert close(S.evaluate(dz[g.a], g.L), g.a.grad)


def test_seed_with_y_a_leaf_gives_the_general_formula():
    x1, x2, w1, w2, b, y = (Value(v, label=n) for n, v in
                            [("x1", 1.5), ("x2", -0.5), ("w1", 0.3), ("w2", -0.8), ("b", 0.1), ("y", 1.0)])
    a = (w1 * x1 + w2 * x2 + b).sigmoid()
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    s = {leaf.label: sym for leaf, sym in S.leaf_symbols(L).items()}
    sigma = 1 / (1 + sympy.exp(-(s["w1"] * s["x1"] + s["w2"] * s["x2"] + s["b"])))
    assert same(S.symbolic_gradients(L, [w1])[w1], s["x1"] * (sigma - s["y"]))


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
def _slow_tidy(exprs, memo):
    time.sleep(60)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="the patch reaches a forked child")
def test_a_slow_simplify_is_killed_and_the_formula_stays_unsimplified(monkeypatch):
    x, w = Value(0.5, label="x"), Value(2.0, label="w")
    f = (w * x).sigmoid()
    raw = S.symbolic_gradients(f, simplify=False)
    monkeypatch.setattr(S, "_tidy_all", _slow_tidy)
    t0 = time.perf_counter()
    report = S.analytic_check(f, timeout=0.5)
    assert time.perf_counter() - t0 < 8
    assert [r.formula for r in report.rows] == [raw[x].doit(), raw[w].doit()]  # evaluated, not simplified
    assert not any(r.simplified for r in report.rows) and report
    assert not multiprocessing.active_children()
    assert any("took over its time limit (0.5 s): kept as derived" in n for n in report.notes)
    assert "note: tidying ∂/∂ #1 took over its time limit (0.5 s)" in str(report)


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
    assert "dL/dw1 = x1*(sigma(b + w1*x1 + w2*x2) - 1)" in text
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
    from autograd_lite.sympy_functions import relu, sigma

    syms = {n: sympy.Symbol(n, real=True) for n in ("w", "x", "b", "y")} | {"sigma": sigma, "relu": relu}
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
    assert [r[0] for r in rows] == ["dL/da", "da/dz", "dL/dz", "dL/dw1", "dL/dw2", "dL/db"]
    assert {r[0]: r[1] for r in rows} == {
        "dL/da": "(a - y)/(a*(1 - a))",
        "da/dz": "a*(1 - a)", "dL/dz": "a - y", "dL/dw1": "x1*(a - y)", "dL/dw2": "x2*(a - y)", "dL/db": "a - y"}
    for name, formula, _hand, same, sympy_value, hand_value, auto in rows:
        assert same, (name, formula)
        assert sympy_value == pytest.approx(hand_value, rel=1e-12) and sympy_value == pytest.approx(auto, rel=1e-12)
        assert "a" in formula and "exp" not in formula       # derived from the graph, in terms of a and y
    walkthrough.main()
    out = capsys.readouterr().out
    assert "SymPy, derived from the graph" in out and "x1(a − y)" in out


def test_walkthrough_without_sympy_says_how_to_install_it(monkeypatch, capsys):
    from autograd_lite import walkthrough

    monkeypatch.setitem(sys.modules, "sympy", None)
    walkthrough.main()
    out = capsys.readouterr().out
    assert "dL/dw1" in out and "install autograd-lite[symbolic]" in out


# --- issue 22: the course's own form ---------------------------------------------------------------
def _seed(y_leaf: bool = True):
    v = {k: Value(x, label=k) for k, x in dict(x1=1.5, x2=-0.5, w1=0.3, w2=-0.8, b=0.1).items()}
    y = Value(1.0, label="y") if y_leaf else 1.0
    z = v["w1"] * v["x1"] + v["w2"] * v["x2"] + v["b"]
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.label = "L"
    return v, z, a, L


def test_keep_labels_gives_the_course_formulas_literally():
    v, z, a, L = _seed()
    assert str(S.symbolic_gradients(L, [v["w1"]], keep="labels")[v["w1"]]) == "x1*(a - y)"
    assert str(S.symbolic_gradients(L, [z], keep="labels")[z]) == "a - y"
    assert str(S.symbolic_gradients(a, [z], keep="labels")[z]) == "a*(1 - a)"
    u = Value(0.3, label="u")
    h = u.tanh()
    h.label = "h"
    assert str(S.symbolic_gradients(h, [u], keep="labels")[u]) == "1 - h**2"
    assert str(S.symbolic_gradients(h, [u])[u]) == "1 - tanh(u)**2"
    g = build_zal_graph()                                     # the README's graph: y = 1 is a number there
    assert str(S.symbolic_gradients(g.L, [g.w1], keep="labels")[g.w1]) == "x1*(a - 1)"
    # a list of nodes works too, and names only those
    assert str(S.symbolic_gradients(L, [v["w1"]], keep=[a])[v["w1"]]) == "x1*(a - y)"
    names = [str(s) for s in S.node_symbols(L, keep=[a]).values()]
    assert sorted(names[:-1]) == ["b", "w1", "w2", "x1", "x2", "y"] and names[-1] == "a"


def test_sigma_and_tanh_keep_their_form_and_latex_reads_like_the_course():
    w, x = Value(0.5, label="w"), Value(-2.0, label="x")
    f = (w * x).sigmoid()
    dw = S.symbolic_gradients(f)[w]
    assert str(dw) == "x*(1 - sigma(w*x))*sigma(w*x)"
    assert S.latex(dw) == r"x \left(1 - \sigma\left(w x\right)\right) \sigma\left(w x\right)"
    t = (w * x).tanh()
    assert str(S.symbolic_gradients(t)[w]) == "x*(1 - tanh(w*x)**2)"
    for e in (dw, S.symbolic_gradients(t)[w], S.symbolic_gradients(f + t)[x]):
        assert not e.has(sympy.cosh) and not e.has(sympy.exp)
    from autograd_lite.sympy_functions import relu, sigma

    Z = sympy.Symbol("z", real=True)
    assert sigma(Z).diff(Z) == sigma(Z) * (1 - sigma(Z)) and relu(Z).diff(Z) == sympy.Heaviside(Z, 0)
    assert sigma(0) == sympy.Rational(1, 2) and relu(-2) == 0 and relu(3) == 3
    assert float(sigma(sympy.Float(0.7))) == pytest.approx(1 / (1 + math.exp(-0.7)), rel=1e-14)
    assert float(sigma(Z).subs(Z, 0.7).evalf()) == pytest.approx(1 / (1 + math.exp(-0.7)), rel=1e-14)
    assert float(relu(Z).subs(Z, -0.5).evalf()) == 0.0 and sigma(sympy.oo) == 1 and sigma(-sympy.oo) == 0
    assert sympy.latex(relu(Z)) == r"\operatorname{relu}\left(z\right)"
    assert sympy.latex(sigma(Z) ** 2) == r"\sigma\left(z\right)^{2}"
    assert sigma(Z).is_real and sigma(Z).is_positive and relu(Z).is_nonnegative
    assert same(sigma(Z).rewrite(sympy.tanh), 1 / (1 + sympy.exp(-Z)))
    with pytest.raises(sympy.core.function.ArgumentIndexError):
        sigma(Z).fdiff(2)
    with pytest.raises(sympy.core.function.ArgumentIndexError):
        relu(Z).fdiff(2)


def test_relu_net_converts_to_relu_functions_and_agrees():
    model = nn.MLP(3, [8, 8, 1], seed=0)                       # the default (relu) net of the issue
    out = model([Value(0.5, label="x1"), Value(-1.0, label="x2"), Value(0.25, label="x3")])
    expr = S.to_sympy(out)
    assert expr.has(S._functions().relu) and not expr.has(sympy.Piecewise)
    assert close(S.evaluate(expr, out), out.data)
    x = Value(0.7, label="x")
    small = (x - 1).relu() * 2 + x.relu()
    assert close(S.evaluate(S.to_sympy(small).rewrite(sympy.Piecewise), small), small.data)


def _keep_subset(root, pick):
    from autograd_lite.engine import topological_order

    inner = [n for n in topological_order(root) if n.op is not None]
    return [n for n, p in zip(inner, pick) if p]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.lists(st.booleans(), min_size=12, max_size=12), st.booleans())
def test_kept_nodes_formulas_agree_with_backprop_and_finite_differences(root, pick, labels):
    kept = _keep_subset(root, pick)
    for i, n in enumerate(kept):
        n.label = ["z", "a", None][i % 3] if labels else n.label
    keep = "labels" if labels else kept
    grads = S.symbolic_gradients(root, keep=keep, simplify=False)
    leaves = list(grads)
    for leaf, auto in zip(leaves, gradients(root, leaves)):
        assert close(S.evaluate(grads[leaf], root, keep=keep), auto), (grads[leaf], auto)
    report = S.analytic_check(root, keep=keep, simplify=False)
    for r in report.rows:
        assert r.ok, str(report)
        if math.isfinite(r.analytic) and abs(r.analytic) < 1e6:
            assert abs(r.numeric - r.analytic) <= 1e-4 * (1 + abs(r.analytic)), str(report)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.lists(st.booleans(), min_size=12, max_size=12))
def test_tidied_kept_formulas_still_agree(root, pick):
    kept = _keep_subset(root, pick)
    grads = S.symbolic_gradients(root, keep=kept, timeout=2.0)
    for leaf, a in zip(grads, gradients(root, list(grads))):
        assert close(S.evaluate(grads[leaf], root, keep=kept), a, rel=1e-8)


def test_keep_is_checked():
    x = Value(1.0, label="x")
    y = x.exp()
    with pytest.raises(ValueError, match='keep must be None, "labels" or a list'):
        S.symbolic_gradients(y, keep="label")
    with pytest.raises(ValueError, match="not in the graph"):
        S.symbolic_gradients(y, keep=[Value(2.0).exp()])
    with pytest.raises(TypeError, match="keep takes nodes"):
        S.symbolic_gradients(y, keep=[1.0])
    with pytest.raises(TypeError, match="keep must be None"):
        S.symbolic_gradients(y, keep=3)
    assert S.symbolic_gradients(y, keep=[x, y])[x] == S.symbolic_gradients(y, keep=y)[x]
    assert str(S.symbolic_gradients(y, keep=y)[x]) == "L"   # an unlabelled kept root: L, as in every view
    assert S.symbolic_gradients(y, keep="labels")[x] == sympy.exp(sympy.Symbol("x", real=True))


def test_kept_names_never_clash_with_leaves():
    a = Value(0.5, label="a")
    h = (a * 2).tanh()
    h.label = "a"                        # the same label as a leaf: the kept node gets a_2
    z = h * 3
    z.label = "n2"
    syms = [str(s) for s in S.node_symbols(z).values()]
    assert syms == ["a", "a_2", "n2"]
    assert str(S.symbolic_gradients(z, [a], keep="labels")[a]) == "6*(1 - a_2**2)"


def test_to_sympy_with_keep_writes_the_output_once():
    v, z, a, L = _seed()
    assert str(S.to_sympy(a, keep="labels")) == "sigma(z)"
    assert str(S.to_sympy(z, keep="labels").doit()) == "b + w1*x1 + w2*x2"
    assert str(S.to_sympy(L, keep="labels").doit()) == "-y*log(a) - (1 - y)*log(1 - a)"


# --- issue 22: fast, shared, no clutter -------------------------------------------------------------
def test_tanh_mlp_loss_every_row_ok_and_printed_without_clutter():
    import re

    model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=1)
    out = model([Value(0.5, label="x1"), Value(-1.0, label="x2")])
    L = (out - 1.0) ** 2
    report = S.analytic_check(L, progress=False)
    assert report and len(report.rows) == 107
    text = str(report)
    assert "where t0 = " in text
    assert not re.search(r"= t\d+$", text, re.M), "an alias t_k = t_j"
    assert "**1)" not in text and "**1*" not in text and not re.search(r"\*\*1$", text, re.M)
    assert "cosh" not in text
    # the shared parts are named in the order the graph needs them, each once
    defs = re.findall(r"^  where (t\d+) = ", text, re.M)
    assert defs == [f"t{i}" for i in range(len(defs))]


def test_the_chain_rule_product_of_a_deep_chain_is_flat_enough_to_print():
    x = Value(0.3, label="x")
    h = x
    for _ in range(60):
        h = h.sigmoid()
    g = S.symbolic_gradients(h, simplify=False)[x]
    depth = 0
    stack = [(g, 1)]
    seen = set()
    while stack:
        e, d = stack.pop()
        depth = max(depth, d)
        if e in seen:
            continue
        seen.add(e)
        stack.extend((a, d + 1) for a in e.args)
    assert depth < 60 + 10        # the σ chain itself, not a product nested once per node on top of it
    assert close(S.evaluate(g, h), gradients(h, [x])[0])


# --- issue 22: bounded --------------------------------------------------------------------------------
def test_evaluate_saturates_huge_arguments_instead_of_hanging():
    x = Value(1.0, label="x")
    f = x.exp().exp().exp().exp().exp()
    t0 = time.perf_counter()
    notes: set = set()
    g = S.symbolic_gradients(f, simplify=False)[x]
    value = S._evaluate_many([g], [S.leaf_symbols(f)[x]], [1.0], notes)[0]
    assert value == math.inf and time.perf_counter() - t0 < 30   # a hang guard, not a speed target
    assert any("beyond 1e300" in n for n in notes)
    X = sympy.Symbol("x", real=True)
    F = S._functions()
    huge = sympy.exp(sympy.exp(sympy.exp(sympy.exp(X))))
    for expr, want in [(sympy.exp(-huge), 0.0), (F.sigma(huge), 1.0), (F.sigma(-huge), 0.0), (sympy.tanh(-huge), -1.0),
                       (sympy.cosh(huge), math.inf), (F.relu(huge), math.inf), (F.relu(-huge), 0.0),
                       (sympy.sin(huge), math.nan), (2 ** huge, math.inf), (sympy.Rational(1, 2) ** huge, 0.0),
                       ((-2) ** huge, math.inf), (sympy.Rational(-1, 2) ** huge, 0.0), (2 ** -huge, 0.0),
                       (sympy.Rational(1, 2) ** -huge, math.inf), (sympy.exp(sympy.exp(X)), math.exp(math.e))]:
        got = S._evaluate_many([expr], [X], [1.5 if expr.has(sympy.exp(sympy.exp(sympy.exp(X)))) else 1.0])[0]
        assert got == want or (math.isnan(got) and math.isnan(want)) or close(got, want), (expr, got, want)
    Y = sympy.Symbol("y", real=True)
    for base, want in [(1.0, 1.0), (-1.0, 1.0), (0.0, 0.0)]:   # no limit taken: mpmath's own power, no note
        notes = set()
        assert S._evaluate_many([Y ** huge], [X, Y], [1.5, base], notes) == [want] and not notes
    notes = set()
    assert S._evaluate_many([Y ** -huge], [X, Y], [1.5, 0.0], notes) == [math.inf] and not notes
    notes = set()                                                  # 1e300 itself is still computed
    assert S._evaluate_many([2 ** Y, sympy.Rational(1, 2) ** Y], [X, Y], [0.0, 1e300], notes) == [math.inf, 0.0]
    assert not notes


def test_evaluate_has_a_time_limit(monkeypatch):
    x = Value(0.5, label="x")
    h = x
    for _ in range(50):
        h = (h * h).tanh() + h.sin()
    g = S.symbolic_gradients(h, simplify=False)[x]
    notes: set = set()
    values = S._evaluate_many([g, g], [S.leaf_symbols(h)[x]], [0.5], notes, time_limit=0.0)
    assert all(math.isnan(v) for v in values)
    assert notes == {f"evaluation stopped after its time limit ({S.EVALUATE_TIME:g} s): "
                     "formulas not evaluated in time are nan"}
    monkeypatch.setattr(S, "EVALUATE_TIME", 0.0)
    report = S.analytic_check(h, simplify=False)
    assert not report and "note: evaluation stopped after its time limit" in str(report)


def test_cli_nested_exponentials_answer_quickly():
    t0 = time.perf_counter()
    r = run("grad", "exp(exp(exp(exp(exp(x)))))", "--at", "x=1", "--analytic")
    assert r.returncode == 0, r.stderr
    assert time.perf_counter() - t0 < 60
    row = [line for line in r.stdout.splitlines() if line.startswith("x ")][-1]
    assert row.split()[1] == "inf" and "exp(exp(exp(exp(exp(x)))))" in row


def test_cli_60_nested_sigmoids_no_recursion_error():
    expr = "x"
    for _ in range(60):
        expr = f"sigmoid({expr})"
    r = run("grad", expr, "--at", "x=1", "--analytic", "--json")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "RecursionError" not in r.stderr
    doc = json.loads(r.stdout)
    assert float(doc["analytic"]["x"]["value"]) == pytest.approx(float(doc["grad"]["x"]), rel=1e-9)
    r = run("grad", expr, "--at", "x=1", "--analytic")
    assert r.returncode == 0 and "where t0 = " in r.stdout


def test_400_nested_sigmoids_check_without_a_traceback():
    x = Value(1.0, label="x")
    h = x
    for _ in range(400):
        h = h.sigmoid()
    report = S.analytic_check(h, timeout=1.0, progress=False)
    assert report.rows[0].ok
    assert isinstance(str(report), str) and isinstance(report._repr_html_(), str)
    assert isinstance(report.rows[0].latex, str)


def test_cli_keep_labels():
    r = run("grad", "sigmoid(w*x + b)", "--at", "w=2", "x=0.5", "b=-1", "--analytic", "--keep", "labels")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split() for line in r.stdout.splitlines()[-3:]}
    assert rows["w"][1:] == ["0.125", "f*x*(1", "-", "f)"]
    assert rows["b"][1:] == ["0.25", "f*(1", "-", "f)"]
    r = run("grad", "sigmoid(w*x + b)", "--at", "w=2", "x=0.5", "b=-1", "--keep", "labels")
    assert r.returncode == 2 and "--keep goes with --analytic" in r.stderr


def test_text_is_bounded():
    X = sympy.Symbol("x", real=True)
    assert S.text(X + 1) == "x + 1"
    e = X
    for _ in range(30):
        e = S._functions().sigma(e) * e
    out = S.text(e)
    assert "; where t0 = " in out and len(out) < 3000
    assert S.text(e, max_size=10).startswith("(a formula with ")


_PARENT = r"""
import os, sys, time
sys.path.insert(0, {root!r})
from autograd_lite import Value
from autograd_lite import symbolic as S
def slow(exprs, memo):
    print("child", os.getpid(), flush=True)
    time.sleep(120)
S._tidy_all = slow
x = Value(0.5, label="x")
S.symbolic_gradients((x * x).sigmoid(), timeout=100)
"""


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="the patch reaches a forked child")
def test_the_worker_dies_with_its_parent(tmp_path):
    import os
    import signal

    root = str(__import__("pathlib").Path(S.__file__).resolve().parents[1])
    script = tmp_path / "parent.py"
    script.write_text(_PARENT.format(root=root))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    line = parent.stdout.readline()
    assert line.startswith("child"), line
    child = int(line.split()[1])
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{child}/stat") as f:
            if f.read().split(") ")[1].split()[0] == "Z":   # a zombie is dead: nobody reaped it yet
                break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the simplify worker outlived its parent")


def test_progress_is_shown_on_stderr_and_ctrl_c_keeps_what_is_done(monkeypatch, capsys):
    v, z, a, L = _seed()
    report = S.analytic_check(L, progress=True)
    err = capsys.readouterr().err
    assert "tidying formulas: 6/6" in err and "checking rows: 6/6" in err
    assert report.complete and report

    calls = {"n": 0}
    real = S._central_difference

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(S, "_central_difference", interrupted)
    report = S.analytic_check(L, progress=False)
    assert len(report.rows) == 2 and report.total == 6 and not report.complete and not report
    assert "note: only 2 of 6 rows were checked (stopped early)" in str(report)
    assert "checking interrupted (Ctrl-C)" in report.notes


def test_ctrl_c_while_tidying_keeps_the_formulas_as_derived(monkeypatch):
    v, z, a, L = _seed()

    def interrupt(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(S, "_context", interrupt)
    report = S.analytic_check(L, progress=False)
    assert report and not any(r.simplified for r in report.rows)
    assert "tidying interrupted (Ctrl-C) after 0 of 6 formulas: the rest are kept as derived" in report.notes


def test_tidy_prefers_the_shortest_form_and_keeps_ties():
    a, y, x1, h = sympy.symbols("a y x1 h", real=True)
    best = lambda e: S._best(sympy, e)  # noqa: E731
    assert best(a * (1 - a)) == a * (1 - a) and str(best(a * (1 - a))) == "a*(1 - a)"
    assert str(best(-x1 * (y - a))) == "x1*(a - y)"
    assert str(best(x1 * (-y / a + (1 - y) / (1 - a)) * a * (1 - a))) == "x1*(a - y)"
    assert str(best(2 * h - 2)) == "2*(h - 1)"
    assert best(1 - h ** 2) == 1 - h ** 2
    wide = sum(sympy.symbols("s0:9"))
    assert best(wide) is wide                           # too many symbols to factor
    assert best(sympy.expand((a + y) ** 3)) == (a + y) ** 3
    big = sympy.expand((a + y) ** 16)                   # more than _FACTOR_SIZE nodes: left as it is
    assert best(big) is big
    sig = S._functions().sigma
    w = sympy.symbols("w1:4", real=True)
    xs = sympy.symbols("x1:4", real=True)
    s_ = sig(sum(wi * xi for wi, xi in zip(w, xs)))     # a function's inner symbols do not count as width
    assert str(best(-xs[0] * (y - s_))) == "x1*(-y + sigma(w1*x1 + w2*x2 + w3*x3))"
    assert S._sign_variants(sympy, -x1 * (y - a)) == [x1 * (a - y)]
    assert S._sign_variants(sympy, x1 * (y - a)) == [] and S._sign_variants(sympy, -x1) == []
    assert S._sign_variants(sympy, (y - a) / (a * (a - 1))) == [(a - y) / (a * (1 - a))]
    assert S._sign_variants(sympy, (y - a) / a) == [] and S._sign_variants(sympy, a + y) == []
    assert str(best(-y / a + (1 - y) / (1 - a))) == "(a - y)/(a*(1 - a))"   # no sum led by a minus
    assert S._negated(sympy, 1 / (a - 1)) == 1 / (1 - a) and S._negated(sympy, 1 / a) is None
    assert S._negated(sympy, (a - 1) ** -2) is None


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="the patch reaches a forked child")
def test_fallbacks_are_never_silent(monkeypatch):
    x = Value(1e301, label="x")
    with pytest.warns(S.AnalyticWarning, match="beyond 1e300"):
        assert S.evaluate(S.to_sympy(x.exp()), x) == math.inf
    monkeypatch.setattr(S, "_tidy_all", _slow_tidy)
    w = Value(0.5, label="w")
    with pytest.warns(S.AnalyticWarning, match=r"took over its time limit \(0.5 s\)"):
        g = S.symbolic_gradients((w * w).sigmoid(), timeout=0.5)[w]
    assert g.has(S._functions().sigma)           # evaluated, not tidied: still right
    assert close(S.evaluate(g, w), gradients((w * w).sigmoid(), [w])[0])


def test_cli_prints_a_fallback_note():
    r = run("grad", "exp(exp(exp(x)))*y", "--at", "x=10", "y=0", "--analytic")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == ["note: an argument beyond 1e300 was rounded to its limit (exp of +huge)"]


def test_printing_a_formula_with_an_exponential_tree_is_bounded():
    x = Value(0.3, label="x")
    h = x
    for _ in range(40):       # as a tree: 2^40 nodes; as a DAG: a few hundred
        h = (h * h).tanh() + h.sin() * 0.5
    g = S.symbolic_gradients(h, simplify=False)[x]
    t0 = time.perf_counter()
    tex = S.latex(g)
    assert tex.startswith(r"\text{(a formula with ") and tex.endswith("too long to print)}")
    out = S.text(g)
    assert "; where t0 = " in out
    report = S.analytic_check(h, simplify=False)
    assert report and "where t0 = " in str(report) and isinstance(report._repr_latex_(), str)
    assert time.perf_counter() - t0 < 60   # a hang guard, not a speed target


@pytest.mark.parametrize("module", ["numpy", "math", "mpmath"])
def test_lambdify_knows_sigma_and_relu(module):
    from autograd_lite.sympy_functions import relu, sigma

    Z = sympy.Symbol("z", real=True)
    f = sympy.lambdify(Z, sigma(Z) * (1 - sigma(Z)) + relu(Z) + 3 * relu(-Z), module)
    for z in (-0.7, 0.0, 1.3):
        s = 1 / (1 + math.exp(-z))
        assert float(f(z)) == pytest.approx(s * (1 - s) + max(z, 0.0) + 3 * max(-z, 0.0), rel=1e-14)
