"""The graph at the level of its labels: the course's x1, w1, … → z → a → L with one
derivative per edge (levels.py; explain/draw_graph/render_backprop level="labels")."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import Value, draw_graph, explain, render_backprop
from autograd_lite.engine import backprop
from autograd_lite.levels import LEVELS, derivative, label_level, to_text
from autograd_lite.walkthrough import build_zal_graph

SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------------------
# the seed graph: C6 exactly
# ---------------------------------------------------------------------------


def test_seed_graph_ledger_is_c6_seven_steps_with_the_grads_of_backward():
    g = build_zal_graph()
    e = explain(g.L, level="labels")
    assert [(s.node_name, s.input_name) for s in e.steps] == [
        ("L", "a"), ("a", "z"), ("z", "w1"), ("z", "x1"), ("z", "w2"), ("z", "x2"), ("z", "b")]
    for s in e.steps:
        assert s.total == s.input.grad  # bit for bit: the label level adds no rounding here
        assert s.final
    assert [r.name for r in e.forward] == ["x1", "x2", "w1", "w2", "b", "z", "a", "L"]
    assert [r.position for r in e.forward] == list(range(1, 9))
    assert e.forward[5].expression == "w1·x1 + w2·x2 + b"
    assert e.line(1).startswith("[1] L → a: local ∂L/∂a = −y/a + (1 − y)/(1 − a) = -1.387  (y = 1);")
    assert e.steps[2].local_text == "∂a/∂z = a(1 − a) = 0.7211 × 0.2789 = 0.2011"
    assert e.steps[3].local_text == "∂z/∂w1 = x1 = 1.5"
    assert e.steps[7].local_text == "∂z/∂b = 1"
    a, y = g.a.data, 1.0
    assert e.steps[1].local == pytest.approx(-y / a + (1 - y) / (1 - a), rel=1e-12)
    assert len(e) == 7 and "7 steps" in str(e) and "| 7 | z | b |" in e.to_markdown()


def test_formulas_on_the_edges():
    g = build_zal_graph()
    lv = label_level(g.L)
    assert [(e.formula, e.note) for e in lv.edges] == [
        ("−y/a + (1 − y)/(1 − a)", "y = 1"), ("a·(1 − a)", ""), ("x1", ""), ("w1", ""), ("x2", ""), ("w2", ""),
        ("1", "")]


def test_log_loss_with_y_zero_and_a_label_that_needs_parentheses():
    z = Value(0.3, label="z")
    p = z.sigmoid()
    p.label = "ŷ"
    L = -(0.0 * p.log() + 1.0 * (1 - p).log())
    L.label = "L"
    (edge,) = [e for e in label_level(L).edges if e.node is L]
    assert (edge.formula, edge.note) == ("−y/ŷ + (1 − y)/(1 − ŷ)", "y = 0")
    assert edge.local == pytest.approx(1 / (1 - p.data))


def test_log_loss_with_the_value_first_in_its_products():
    a = Value(0.3, label="a")
    L = -(a.log() * 1.0 + (1 - a).log() * 0.0)
    (edge,) = label_level(L).edges
    assert (edge.formula, edge.note) == ("−y/a + (1 − y)/(1 − a)", "y = 1")


def test_a_look_alike_of_the_log_loss_gets_its_own_derivative():
    a = Value(0.3, label="a")
    L = -(a.log() * 1.0 + (1 - a).sqrt() * 0.0)  # √(1 − a), not log(1 − a)
    (edge,) = label_level(L).edges
    assert (edge.formula, edge.note) == ("−1/a", "")


def test_shared_unlabelled_sub_graphs_are_walked_once():
    x = Value(0.5, label="x")
    y = x
    for _ in range(60):  # 2^60 paths from the root to x, 121 nodes
        y = y + y * 1.0
    y.label = "y"
    e = explain(y, level="labels")  # returns at once: each node visited once per labelled consumer
    assert e.steps[1].local == pytest.approx(2.0 ** 60)


def test_a_label_that_spells_out_its_expression_is_not_a_level():
    x, w = Value(2.0, label="x"), Value(3.0, label="w")
    p = w * x
    p.label = "w·x"  # the picture's name for the box, not a quantity of the course
    q = w * x
    q.label = "h"
    L = p + q
    L.label = "L"
    kept = {n.label for n in label_level(L).kept}
    assert kept == {"x", "w", "h", "L"}


def test_shared_input_sums_its_paths_and_fan_in_sums_contributions():
    x = Value(3.0, label="x")
    h = x * x + x  # x reaches h by three edges of the full graph
    h.label = "h"
    L = h * x
    L.label = "L"
    e = explain(L, level="labels")
    assert [(s.node_name, s.input_name) for s in e.steps] == [("L", "h"), ("L", "x"), ("h", "x")]
    assert e.steps[3].local == 7.0  # ∂h/∂x = 2x + 1, the three paths summed
    assert e.steps[3].local_text == "∂h/∂x = x + x + 1 = 7"
    assert e.steps[2].final is False and e.steps[3].previous == e.steps[2].total
    L.backward()
    assert e.steps[3].total == x.grad == 12 + 3 * 7  # h + x·∂h/∂x


def test_unlabelled_root_and_leaves_get_the_ledger_names():
    a, b = Value(1.5), Value(-2.0)
    y = (a * b).tanh() + a
    e = explain(y, level="labels")
    assert {s.input_name for s in e.steps} == {"v1", "v2"}
    assert e.root_name == "L"  # an unlabelled root is L, as in every view


def test_label_explanation_made_directly_shows_four_digits():
    from autograd_lite.explain import LabelExplanation

    g = build_zal_graph()
    assert LabelExplanation(g.L).steps[3].local_text == "∂z/∂w1 = x1 = 1.5"
    assert "dL/da = -1.387 (final)" in LabelExplanation(g.L).line(1)


def test_errors_name_the_way_forward():
    g = build_zal_graph()
    with pytest.raises(ValueError, match="level must be one of 'full', 'labels'"):
        explain(g.L, level="neurons")
    with pytest.raises(ValueError, match="level must be one of"):
        draw_graph(g.L, level="label")
    with pytest.raises(ValueError, match="forward="):
        explain(g.L, level="labels", forward="w1")
    with pytest.raises(ValueError, match=r"call it on explain\(L\)"):
        explain(g.L, level="labels").paths("w1")
    with pytest.raises(TypeError, match=r"explain\(\) needs a Value \(the loss\), got float"):
        explain(1.0, level="labels")
    with pytest.raises(ValueError, match="precision"):
        explain(g.L, level="labels", precision=18)
    assert LEVELS == ("full", "labels")


# ---------------------------------------------------------------------------
# property: the label level gives backprop's gradients on any graph
# ---------------------------------------------------------------------------

UNARY = ["tanh", "sigmoid", "exp", "sin", "cos"]


@st.composite
def graphs(draw):
    n_leaves = draw(st.integers(1, 4))
    nodes = [Value(draw(st.floats(-2, 2, allow_nan=False)), label=f"x{i}") for i in range(n_leaves)]
    for k in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["add", "mul", "sub", "unary", "const"]))
        a = draw(st.sampled_from(nodes))
        b = draw(st.sampled_from(nodes))
        if kind == "add":
            v = a + b
        elif kind == "mul":
            v = a * b
        elif kind == "sub":
            v = a - b
        elif kind == "const":
            v = a * draw(st.floats(-3, 3, allow_nan=False)) + 0.5
        else:
            v = getattr(a, draw(st.sampled_from(UNARY)))()
        if draw(st.booleans()):
            v.label = f"h{k}"
        nodes.append(v)
    root = nodes[-1]
    for v in nodes[n_leaves:-1]:  # everything reaches the root
        root = root + v * 0.25
    return root


@given(graphs())
def test_label_level_totals_are_the_full_graphs_gradients(root):
    full = backprop(root)
    e = explain(root, level="labels")
    for s in e.steps:
        assert s.local == s.local  # no nan from the sub-graph sums
        if s.final:
            assert s.total == pytest.approx(full[s.input], rel=1e-9, abs=1e-12)
    assert {id(s.input) for s in e.steps} == {id(n) for n in full if n is not root and (n.label or n.op is None)}


# ---------------------------------------------------------------------------
# the symbolic derivative, checked against finite differences
# ---------------------------------------------------------------------------

FUNCS = {"exp": math.exp, "log": math.log, "sigmoid": lambda x: 1 / (1 + math.exp(-x)), "tanh": math.tanh,
         "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "abs": abs, "relu": lambda x: max(x, 0.0),
         "sign": lambda x: math.copysign(1.0, x) if x else 0.0, "step": lambda x: 1.0 if x > 0 else 0.0}


def evaluate(e, env):
    op = e[0]
    if op == "n":
        return env[e[1]]
    if op == "c":
        return e[1]
    args = [evaluate(a, env) for a in e[1:]]
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "mul":
        return args[0] * args[1]
    if op == "div":
        return args[0] / args[1]
    if op == "neg":
        return -args[0]
    if op == "pow":
        return args[0] ** args[1]
    if op == "linear":
        n = (len(args) - 1) // 2
        return sum(w * x for w, x in zip(args[:n], args[n:2 * n])) + args[-1]
    return FUNCS[op](args[0])


leaf = st.sampled_from([("n", "u"), ("n", "v"), ("c", 2.0), ("c", -0.5), ("c", 0.0), ("c", 1.0)])
exprs = st.recursive(
    leaf,
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(["add", "sub", "mul"]), kids, kids),
        st.tuples(st.just("neg"), kids),
        st.tuples(st.sampled_from(["sigmoid", "tanh", "sin", "cos", "exp"]), kids),
        st.tuples(st.just("pow"), kids, st.sampled_from([("c", 2.0), ("c", 3.0)])),
        st.tuples(st.just("div"), kids, st.just(("add", ("c", 2.0), ("mul", ("n", "v"), ("n", "v"))))),
        st.tuples(st.just("linear"), kids, kids, kids, kids, kids),
    ),
    max_leaves=8)


@given(exprs, st.floats(-1, 1), st.floats(-1, 1))
def test_derivative_agrees_with_finite_differences(e, u, v):
    env = {"u": u, "v": v}
    try:
        f0 = evaluate(e, env)
        h = 1e-6
        fd = (evaluate(e, {**env, "u": u + h}) - evaluate(e, {**env, "u": u - h})) / (2 * h)
    except (OverflowError, ZeroDivisionError):
        return
    if not math.isfinite(f0) or not math.isfinite(fd) or abs(fd) > 1e6:
        return
    d = derivative(e, "u")
    assert evaluate(d, env) == pytest.approx(fd, rel=1e-4, abs=1e-4)
    assert isinstance(to_text(d), str)


def test_derivative_text_and_simplification():
    u, v = ("n", "u"), ("n", "v")
    assert to_text(derivative(("mul", u, v), "u")) == "v"
    assert to_text(derivative(("mul", ("c", 3.0), u), "u")) == "3"
    assert to_text(derivative(("sub", v, u), "u")) == "−1"
    assert to_text(derivative(("log", ("sub", ("c", 1.0), u)), "u")) == "−1/(1 − u)"
    assert to_text(derivative(("pow", u, ("c", 2.0)), "u")) == "2·u"
    assert to_text(derivative(("pow", u, ("c", 3.0)), "u")) == "3·u^2"
    assert to_text(derivative(("div", u, v), "v")) == "−u/v^2"
    assert to_text(derivative(("neg", ("neg", u)), "u")) == "1"
    assert to_text(derivative(("relu", ("mul", ("c", 2.0), u)), "u")) == "2·[2·u > 0]"
    assert to_text(derivative(("abs", u), "u")) == "sign(u)"
    assert to_text(derivative(("sqrt", u), "u")) == "1/(2·√u)"
    assert to_text(derivative(("exp", ("neg", u)), "u")) == "−exp(−u)"
    assert to_text(derivative(("tanh", u), "v")) == "0"
    assert to_text(derivative(("neg", ("neg", ("mul", u, v))), "u")) == "v"  # −(−v) is v
    assert to_text(("mul", ("add", u, v), ("sub", u, v))) == "(u + v)·(u − v)"
    assert to_text(("linear", ("n", "w1"), ("n", "w2"), ("n", "x1"), ("n", "x2"), ("n", "b"))) == \
        "w1·x1 + w2·x2 + b"
    assert to_text(("linear", ("n", "w"), ("n", "x"), ("add", ("n", "b1"), ("n", "b2")))) == "w·x + b1 + b2"
    assert to_text(("linear", ("n", "w"), ("n", "x"), ("n", "my b"))) == "w·x + (my b)"


def test_big_sub_graphs_give_a_number_without_a_formula():
    x = Value(0.1, label="x")
    y = x
    for _ in range(200):
        y = (y * 0.5).sin()
    y.label = "y"
    (edge,) = label_level(y).edges
    assert edge.formula is None
    e = explain(y, level="labels")
    assert re.fullmatch(r"∂y/∂x = -?[\d.e-]+", e.steps[1].local_text)
    assert e.steps[1].total == pytest.approx(backprop(y)[x], rel=1e-12)


# ---------------------------------------------------------------------------
# the picture and the page
# ---------------------------------------------------------------------------


def svg_of(g):
    return ET.fromstring(g.pipe(format="svg"))


@pytest.mark.needs_dot
def test_label_picture_has_only_labelled_boxes_and_one_derivative_per_edge():
    g = build_zal_graph()
    root = svg_of(draw_graph(g.L, level="labels", legend=False))
    boxes = {el.get("id"): " ".join(t.text for t in el.iter(f"{SVG}text"))
             for el in root.iter(f"{SVG}g") if "value" in (el.get("class") or "")}
    assert sorted(t.split()[0] for t in boxes.values()) == sorted(["x1", "x2", "w1", "w2", "b", "z", "a", "L"])
    edges = [" ".join(t.text for t in el.iter(f"{SVG}text"))
             for el in root.iter(f"{SVG}g") if "edge" in (el.get("class") or "").split()]
    assert len(edges) == 7
    assert "∂z/∂w1 = x1 = 1.5" in edges and "∂a/∂z = a·(1 − a) = 0.2011" in edges
    assert "∂L/∂a = −y/a + (1 − y)/(1 − a) = -1.387 (y = 1)" in edges
    assert "∂z/∂b = 1" in edges


@pytest.mark.needs_dot
def test_label_picture_step_highlights_and_unknowns():
    g = build_zal_graph()
    index = {id(n): i for i, n in enumerate(al.engine.topological_order(g.L))}
    src = draw_graph(g.L, level="labels", step=3).source
    assert f'v{index[id(g.z)]} [label=' in src
    cur = re.search(r'(v\d+) \[[^\]]*class="value intermediate current"', src).group(1)
    rec = re.search(r'(v\d+) \[[^\]]*class="value leaf receiving"', src).group(1)
    assert (cur, rec) == (f"v{index[id(g.z)]}", f"v{index[id(g.w1)]}")
    assert src.count("grad ?</TD>") == 4  # x1, x2, w2, b: not reached yet
    assert "grad -0.4183" in src and "tooltip=\"w1: data 0.3, grad -0.4183\"" in src
    assert "tooltip=\"x1: data 1.5, grad ?\"" in src  # the tooltip knows what the frame knows
    with pytest.raises(ValueError, match="has 7 steps"):
        draw_graph(g.L, level="labels", step=9)
    assert "grad ?" not in draw_graph(g.L, level="labels", step="end").source


@pytest.mark.needs_dot
def test_label_page_is_small_and_holds_the_label_steps(tmp_path):
    g = build_zal_graph()
    page = render_backprop(g.L, tmp_path / "l.html", level="labels").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script id="backprop-data" type="application/json">(.*?)</script>', page,
                                re.S).group(1))
    assert len(data["steps"]) == 7
    assert data["lines"][2].startswith("[2] a → z: local ∂a/∂z = a(1 − a)")
    with pytest.raises(ValueError, match="explanation given is at level='full'"):
        render_backprop(g.L, tmp_path / "x.html", explanation=explain(g.L), level="labels")
    with pytest.raises(ValueError, match="level must be one of"):
        render_backprop(g.L, tmp_path / "x.html", level="ops")


def mlp_loss(fused=False):
    from autograd_lite import losses, nn

    m = nn.MLP(2, [4, 4, 1], fused=fused, seed=0)
    L = None
    for x, y in [((0.5, -1.0), 1.0), ((1.0, 2.0), 0.0), ((-0.3, 0.7), 1.0), ((2.0, -0.5), 0.0)]:
        term = losses.binary_cross_entropy_with_logits(m([Value(v) for v in x]), y)
        L = term if L is None else L + term
    L.label = "L"
    return L


@pytest.mark.needs_dot
def test_mlp_page_grows_with_nodes_plus_steps_not_their_product(tmp_path):
    L = mlp_loss()
    path = render_backprop(L, tmp_path / "mlp.html", max_nodes=None)
    n_steps = len(explain(L).steps)
    size = path.stat().st_size
    assert n_steps > 500
    assert size < 2_000_000  # one SVG frame per step would be ~100 MB (issue 21)
    assert path.read_text(encoding="utf-8").count("<svg") == 1


@pytest.mark.needs_dot
def test_gif_too_big_to_read_refuses_at_once_naming_level_and_the_page(tmp_path):
    pytest.importorskip("PIL")
    L = mlp_loss()
    with pytest.raises(ValueError, match=r"level='labels'.*backprop\.html"):
        render_backprop(L, tmp_path / "mlp.gif", max_nodes=None)
    assert not (tmp_path / "mlp.gif").exists()


# ---------------------------------------------------------------------------
# the CLI: explain --level, --layout
# ---------------------------------------------------------------------------


def run_cli(*args, cwd):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "autograd_lite", "explain", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.needs_dot
def test_cli_level_labels_and_layout(tmp_path):
    r = run_cli("x*x + x", "--at", "x=3", "--level", "labels", "--html", "bp.html", "--layout", "wide",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Backward pass from L: 1 steps" in r.stdout and "[1] local ∂L/∂x = x + x + 1 = 7" in r.stdout
    page = (tmp_path / "bp.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and '"steps": [["v0", "v2", "v0_in0", "grad 7"]]' in page
    bad = run_cli("x*x", "--at", "x=3", "--level", "labels", "--paths", "x", cwd=tmp_path)
    assert bad.returncode != 0 and "drop --level labels" in bad.stderr and len(bad.stderr.splitlines()) == 1
    bad = run_cli("x*x", "--at", "x=3", "--layout", "tall", cwd=tmp_path)
    assert bad.returncode != 0 and "--layout" in bad.stderr


def test_cli_named_statements_give_the_course_ledger_at_the_label_level(tmp_path):
    """`explain "z = …; a = sigmoid(z); L = bce(a, y)" --level labels` is C6: the steps of the
    z → a → L picture, named as the statements name them, totals equal to backprop's."""
    from autograd_lite.walkthrough import build_zal_graph

    g = build_zal_graph()
    at = [f"{k}={v}" for k, v in (("x1", 1.5), ("x2", -0.5), ("w1", 0.3), ("w2", -0.8), ("b", 0.1), ("y", 1))]
    r = run_cli("z = w1*x1 + w2*x2 + b; a = sigmoid(z); L = bce(a, y)", "--at", *at, "--level", "labels",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.splitlines()[0] == "z = w1*x1 + w2*x2 + b; a = sigmoid(z); L = bce(a, y)"
    assert "local ∂a/∂z = a(1 − a) = 0.7211 × 0.2789 = 0.2011" in out and "local ∂z/∂w1 = x1 = 1.5" in out
    for name in ("w1", "w2", "b"):
        assert f"dL/d{name} = {float(f'{getattr(g, name).grad:.4g}'):g} (final)" in out, name
    bad = run_cli("z = w*x; z = 2*x", "--at", "w=1", "x=2", cwd=tmp_path)
    assert bad.returncode != 0 and "'z' is given a value twice" in bad.stderr and len(bad.stderr.splitlines()) == 1


# ---------------------------------------------------------------------------
# model=: the level of neurons
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fused", [True, False])
def test_neuron_level_of_a_two_layer_mlp(fused):
    from autograd_lite import losses, nn

    m = nn.MLP(2, [4, 4, 1], seed=0, fused=fused)
    x1, x2 = Value(0.5, label="x1"), Value(-1.0, label="x2")
    out = m([x1, x2])
    L = losses.binary_cross_entropy_with_logits(out, 1.0)
    L.label = "L"
    e = explain(L, level="labels", model=m)
    names = [r.name for r in e.forward]
    assert names[:2] == ["x1", "x2"] and names[-1] == "L"
    # each neuron's output is named as its parameters' labels say (layer1.neuron2.w1 → layer1.neuron2)
    assert sorted(names[2:-1]) == sorted(f"layer{i}.neuron{j}" for i, n in enumerate([4, 4, 1], 1)
                                         for j in range(1, n + 1))
    assert len(e) == 1 + 4 + 4 * 4 + 2 * 4  # L → out, out → layer 1, layer 1 → layer 0, layer 0 → inputs
    full = backprop(L)
    for s in e.steps:
        assert s.input not in {p for _, p in m.named_parameters()}
        if s.final:
            assert s.total == pytest.approx(full[s.input], rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="level='labels'"):
        explain(L, model=m)


@pytest.mark.needs_dot
def test_neuron_level_picture_clusters_layers():
    from autograd_lite import losses, nn

    m = nn.MLP(2, [4, 4, 1], seed=0)
    L = losses.binary_cross_entropy_with_logits(m([Value(0.5, label="x1"), Value(-1.0, label="x2")]), 1.0)
    L.label = "L"
    src = draw_graph(L, level="labels", model=m).source
    assert src.count('class="value') == 2 + 9 + 1
    assert {"module_layers.0", "module_layers.1", "module_layers.2"} <= set(re.findall(r'id="(module_[^"]+)"', src))


def test_label_level_is_bounded_when_many_labels_share_an_unlabelled_sub_graph():
    x = Value(0.5, label="x")
    shared = x
    for _ in range(1000):  # a long unlabelled chain ...
        shared = shared * 1.0001 + 0.001
    outs = []
    for k in range(150):  # ... used by 150 labelled nodes: 300,000 region visits for ~2,500 nodes
        h = shared * (k + 1)
        h.label = f"h{k}"
        outs.append(h)
    L = outs[0]
    for h in outs[1:]:
        L = L + h
    L.label = "L"
    with pytest.raises(ValueError, match=r"label the shared sub-expressions .* level='full'"):
        explain(L, level="labels")
    shared.label = "s"  # the way forward the message names
    assert len(explain(L, level="labels").steps) == 150 + 150 + 1
