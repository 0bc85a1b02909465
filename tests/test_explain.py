"""The chain-rule ledger: every number is backward()'s, bit for bit; paths; templates; forward mode."""

import math
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import Value, engine, explain, jvp
from autograd_lite.explain import TEMPLATES, PathLimitError
from autograd_lite.kernels import ieee
from autograd_lite.walkthrough import build_zal_graph


def same(a, b):
    return a == b and math.copysign(1, a) == math.copysign(1, b) or (math.isnan(a) and math.isnan(b))


# ---------------------------------------------------------------------------
# random graphs with shared subexpressions and fan-in
# ---------------------------------------------------------------------------

UNARY = ["exp", "log", "sigmoid", "tanh", "relu", "sqrt", "abs", "sin", "cos", "neg"]
BINARY = ["add", "sub", "mul", "div", "pow"]


def _chain_rule(s):
    """upstream × local, as the table states it: a rule `Over(f)` divides by f (as PyTorch does),
    which can differ from × (1/f) in the last bit, or overflow where the division does not; a
    `Mask` passes g or gives 0 (never inf × 0 = nan)."""
    op = s.node.op
    if op.name != "linear" and isinstance(op.partials[s.index], (engine.Over, engine.Mask)):  # Mask: g or 0
        args = [p.data if isinstance(p, Value) else p for p in s.node.parents]
        return ieee(engine.contribution, op.partials[s.index], s.upstream, *args, s.node.data)
    return s.upstream * s.local


@st.composite
def graphs(draw):
    """(root, leaves, nodes): a random DAG where later nodes reuse earlier ones (fan-in, x*x)."""
    n_leaves = draw(st.integers(1, 4))
    leaves = [Value(draw(st.floats(-2, 2, allow_nan=False)), label=f"x{i}") for i in range(n_leaves)]
    pool = list(leaves)
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "const", "linear"]))
        a = draw(st.sampled_from(pool))
        if kind == "unary":
            name = draw(st.sampled_from(UNARY))
            node = -a if name == "neg" else abs(a) if name == "abs" else getattr(a, name)()
        elif kind == "binary":
            b = draw(st.sampled_from(pool))  # may be a itself: x*x, x+x
            name = draw(st.sampled_from(BINARY))
            if name == "pow":
                node = a.abs() ** draw(st.sampled_from([2.0, 0.5, -1.0, 3.0])) if draw(st.booleans()) else a ** b
            else:
                node = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b}[name]
        elif kind == "const":
            c = draw(st.sampled_from([2.0, -0.5, 3.0, 0.0]))
            node = draw(st.sampled_from([lambda: c * a, lambda: a - c, lambda: c / a, lambda: a + c]))()
        else:
            k = draw(st.integers(1, 3))
            ws = [draw(st.sampled_from(pool)) for _ in range(k)]
            xs = [draw(st.sampled_from([*pool, 0.5, -2.0])) for _ in range(k)]
            node = al.linear(ws, xs, draw(st.sampled_from(pool)))
        pool.append(node)
    # the root sums a few nodes: more fan-in
    picks = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    root = picks[0]
    for p in picks[1:]:
        root = root + p
    return root, leaves


@settings(max_examples=60)
@given(graphs())
def test_ledger_reproduces_every_grad_bit_for_bit(g):
    root, leaves = g
    for node in engine.topological_order(root):
        node.grad = 0.0
    root.backward()
    ex = explain(root)
    # each step is upstream × local, added to the running sum
    running: dict[int, float] = {}
    for k, s in enumerate(ex.steps, 1):
        assert s.number == k
        assert same(s.contribution, _chain_rule(s))
        assert same(s.upstream, ex.grads[s.node])
        assert s.node.parents[s.index] is s.input
        prev = running.get(id(s.input))
        assert (s.previous is None) == (prev is None)
        assert same(s.total, (0.0 if prev is None else prev) + s.contribution)
        running[id(s.input)] = s.total
    # the last contribution to every node is its .grad after backward()
    for node in engine.topological_order(root):
        if node is root:
            continue
        finals = [s for s in ex.steps if s.input is node and s.final]
        assert len(finals) == 1
        assert same(finals[0].total, node.grad), (node, finals[0].total, node.grad)
    # a node is processed only once all of its contributions are in (backprop order)
    done: set[int] = {id(root)}
    for s in ex.steps:
        assert id(s.node) in done
        if s.final:
            done.add(id(s.input))
    # the ledger renders for any graph and names every node once
    text = str(ex)
    assert f"{len(ex.steps)} steps" in text
    assert len({r.name for r in ex.forward}) == len(ex.forward)
    assert ex.to_markdown().count("\n|") >= len(ex.steps) + len(ex.forward)


@settings(max_examples=40)
@given(graphs(), st.data())
def test_path_products_sum_to_the_gradient(g, data):
    root, leaves = g
    ex = explain(root)
    in_graph = [x for x in leaves if any(n is x for n in engine.topological_order(root))]
    w = data.draw(st.sampled_from(in_graph))
    try:
        ps = ex.paths(w, limit=2000)
    except PathLimitError:
        return
    grad = ex.grads.get(w, 0.0)
    if not all(math.isfinite(p) for p in ps.products) or not math.isfinite(grad) or abs(grad) > 1e8:
        return
    # the path sum adds in another order than backprop: their difference is bounded by the
    # rounding of the terms' magnitudes (large terms that cancel leave only that bound)
    scale = sum(abs(p) for p in ps.products)
    assert abs(ps.value - grad) <= 1e-9 * scale + 1e-12, (ps.value, grad, scale)
    if w is root:
        assert ps.paths == [()] and ps.value == 1.0
        return
    for path, prod in zip(ps.paths, ps.products):
        assert path[0][0] is root and path[-1][2] is w
        assert all(b[0] is a[2] for a, b in zip(path, path[1:]))  # a connected path
        expected = 1.0
        for *_, loc in path:
            expected = expected * loc
        assert same(prod, expected)


def test_seed_walkthrough_ledger_and_the_issues_sigmoid_line():
    g = build_zal_graph()
    ex = explain(g.L)
    (sig,) = [s for s in ex.steps if s.node is g.a]
    assert sig.local_text == "∂a/∂z = a(1 − a) = 0.7211 × 0.2789 = 0.2011"
    assert sig.input is g.z and sig.total == g.z.grad
    # ∂L/∂w1 as the chain through a and z, equal to x1(a − y)
    ps = ex.paths(g.w1)
    text = str(ps)
    assert "dL/dw1 = dL/da · da/dz" in text  # totals through a and z: d; the paths' locals: ∂
    assert "every path from L to w1 passes through a, z" in text
    assert math.isclose(ps.value, 1.5 * (g.a.data - 1.0), rel_tol=1e-12)
    assert f"{g.w1.grad:.4g}" in text
    # forward list in evaluation order, names from labels
    names = [r.name for r in ex.forward]
    assert names.index("z") < names.index("a") < names.index("L") and names[-1] == "L"
    z = next(r for r in ex.forward if r.name == "z")
    assert z.op == "add" and z.value == g.z.data


def test_fan_in_running_sum_is_shown():
    x = Value(3.0, label="x")
    y = x * x + x
    y.label = "y"
    ex = explain(y)
    lines = [s for s in ex.steps if s.input is x]
    assert len(lines) == 3 and [s.final for s in lines] == [False, False, True]
    y.backward()
    assert lines[-1].total == x.grad == 7.0
    text = str(ex)
    assert "dy/dx = 1 + 3 = 4" in text and "= 7 (final)" in text
    assert "local ∂(x·x)/∂x (input 1) = x = 3" in text  # a local: ∂, named by the node's expression
    assert "(input 2)" in text  # x*x: two edges from x


def test_a_template_for_every_op_in_the_table():
    assert set(TEMPLATES) == set(engine.OPS)
    x, y = Value(0.7, label="x"), Value(1.3, label="y")
    nodes = [x + y, x - y, x * y, x / y, x ** y, -x, x.exp(), x.log(), x.sigmoid(), x.tanh(), x.relu(),
             x.sqrt(), abs(x), al.sin(x), al.cos(x), al.linear([x], [y], x)]
    assert {n.op.name for n in nodes} == set(engine.OPS)
    for n in nodes:
        ex = explain(n)
        for s in ex.steps:
            # the text ends with the local derivative that was multiplied
            assert s.local_text.startswith(f"∂{s.node_name}/∂{s.input_name}")
            tail = s.local_text.rsplit("= ", 1)[-1].replace("\u2212", "-")
            assert float(tail.split(" ")[0]) == pytest.approx(s.local, rel=1e-3), (n.op.name, s.local_text)


def test_renderings_text_markdown_html():
    g = build_zal_graph()
    ex = explain(g.L)
    text = str(ex)
    assert text.startswith("Forward pass: 17 nodes")
    assert "Backward pass from L: 17 steps" in text
    md = ex.to_markdown()
    assert md.count("\n| ") == 17 + 17 + 2  # rows + header rows
    html = ex._repr_html_()

    class Cells(HTMLParser):
        rows = 0

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows += 1

    p = Cells()
    p.feed(html)
    assert p.rows == 17 + 17 + 2
    assert repr(ex) == text  # a plain REPL prints the ledger
    assert ex.summary() == "<Explanation of L: 17 nodes, 17 backward steps>"
    assert ex.line(0).startswith("start:") and ex.line(18).startswith("done:")
    with pytest.raises(IndexError):
        ex.line(19)


def test_exact_numbers_at_full_precision():
    g = build_zal_graph()
    ex = explain(g.L, precision=17)
    assert repr(g.w1.grad) in str(ex) or format(g.w1.grad, ".17g") in str(ex)


def test_path_limit_is_a_clear_error_not_a_hang():
    x = Value(1.0001, label="x")
    y = x
    for _ in range(60):  # 2**60 paths
        y = y * y
    ex = explain(y)
    with pytest.raises(PathLimitError, match=r"1152921504606846976 paths, more than limit=1000"):
        ex.paths(x)
    with pytest.raises(ValueError, match="no node named"):
        ex.paths("nope")


def test_mlp_size_text_ledger():
    from autograd_lite import nn

    model = nn.MLP(4, [8, 8, 1], seed=0) if "seed" in nn.MLP.__init__.__code__.co_varnames else nn.MLP(4, [8, 8, 1])
    out = model([0.1, -0.2, 0.3, 0.4])
    out = out[0] if isinstance(out, list) else out
    ex = explain(out)
    for p in model.parameters():
        p.grad = 0.0
    out.backward()
    assert len(ex.steps) > 100
    for p in model.parameters():
        assert same(ex.grads[p], p.grad)
    assert len(str(ex).splitlines()) > len(ex.steps)


# ---------------------------------------------------------------------------
# forward mode
# ---------------------------------------------------------------------------


def f3(w, x, b):
    return (w * x + b).sigmoid().log() + al.tanh(w / (x * x + 1.0)) * b ** 2.0


def test_jvp_agrees_with_reverse_mode_and_finite_differences():
    primals, tangents = (0.3, -1.2, 0.7), (0.5, -2.0, 1.5)
    out, t = jvp(f3)(primals, tangents)
    leaves = [Value(v) for v in primals]
    y = f3(*leaves)
    assert out == y.data
    grads = engine.gradients(y, leaves)
    assert t == pytest.approx(sum(g * v for g, v in zip(grads, tangents)), rel=1e-12)
    h = 1e-6
    plus = f3(*[Value(p + h * v) for p, v in zip(primals, tangents)]).data
    minus = f3(*[Value(p - h * v) for p, v in zip(primals, tangents)]).data
    assert t == pytest.approx((plus - minus) / (2 * h), rel=1e-6)


def test_jvp_agrees_with_torch_func_jvp():
    torch = pytest.importorskip("torch")

    def f_torch(w, x, b):
        return torch.log(torch.sigmoid(w * x + b)) + torch.tanh(w / (x * x + 1.0)) * b ** 2.0

    primals, tangents = (0.3, -1.2, 0.7), (0.5, -2.0, 1.5)
    tp = tuple(torch.tensor(v, dtype=torch.float64) for v in primals)
    tt = tuple(torch.tensor(v, dtype=torch.float64) for v in tangents)
    out_t, jvp_t = torch.func.jvp(f_torch, tp, tt)
    out, t = jvp(f3)(primals, tangents)
    assert out == pytest.approx(out_t.item(), rel=1e-12)
    assert t == pytest.approx(jvp_t.item(), rel=1e-12)


def test_jvp_shapes_and_errors():
    out, t = jvp(lambda x, y: (x * y, x + y, 3.0))((2.0, 5.0), (1.0, 0.0))
    assert out == (10.0, 7.0, 3.0) and t == (5.0, 1.0, 0.0)
    assert jvp(lambda x: al.linear([x], [4.0], x))((2.0,), (1.0,)) == (10.0, 5.0)
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        jvp(lambda x, y: x)((1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match="tuple"):
        jvp(lambda x: x)(1.0, 1.0)


def test_explain_forward_shows_tangents_and_the_cost_of_each_mode():
    g = build_zal_graph()
    ex = explain(g.L, forward=g.w1)
    tangent = {r.name: r.tangent for r in ex.forward}
    assert tangent["w1"] == 1.0 and tangent["w2"] == 0.0 and tangent["x1"] == 0.0
    assert tangent["z"] == g.x1.data
    assert tangent["L"] == pytest.approx(g.w1.grad, rel=1e-12)
    text = str(ex)
    assert "forward mode: 5 passes (one per input) × 17 multiply-adds = 85 multiply-adds" in text
    assert "reverse mode: 1 backward pass × 17 multiply-adds = 17 multiply-adds" in text
    assert "dL/dw1 = " in text and "with tangents d·/dw1" in text
    assert explain(g.L, forward="w2").forward_of is g.w2
    with pytest.raises(ValueError, match="not in the graph"):
        explain(g.L, forward=Value(1.0))


def test_explain_rejects_non_values():
    with pytest.raises(TypeError, match="needs a Value"):
        explain(1.0)
    with pytest.raises(ValueError, match="precision"):
        explain(Value(1.0), precision=0)


def test_the_ledger_observes_the_engines_backprop(monkeypatch):
    """explain() is an observer of engine.backprop, not a second implementation."""
    calls = []
    real = engine.backprop

    def spy(root, seed=1.0, *, create_graph=False, observe=None):
        calls.append((root, seed, create_graph, observe is not None))
        return real(root, seed, create_graph=create_graph, observe=observe)

    monkeypatch.setattr(engine, "backprop", spy)
    g = build_zal_graph()
    explain(g.L)
    assert calls == [(g.L, 1.0, False, True)]


def test_doc_line_format_of_a_step():
    g = build_zal_graph()
    ex = explain(g.L)
    k = next(s.number for s in ex.steps if s.node is g.a)
    assert ex.line(k) == (f"[{k}] a → z: local ∂a/∂z = a(1 − a) = 0.7211 × 0.2789 = 0.2011;  "
                          "dL/da × local = -1.387 × 0.2011 = -0.2789;  dL/dz = -0.2789 (final)")


@settings(max_examples=40)
@given(graphs(), st.data())
def test_forward_tangents_agree_with_reverse_mode_on_random_graphs(g, data):
    from autograd_lite.forward import tangents

    root, leaves = g
    direction = [data.draw(st.floats(-1, 1, allow_nan=False)) for _ in leaves]
    t = tangents(root, dict(zip(leaves, direction)))[id(root)]
    grads = engine.backprop(root)
    expected = sum(grads.get(x, 0.0) * v for x, v in zip(leaves, direction))
    terms = [abs(grads.get(x, 0.0) * v) for x, v in zip(leaves, direction)]
    # the sizes of the contributions that reverse mode added up: x/x adds 1/x and −x/x² (1e91
    # each at x = 1e-91), which cancel to 0 give or take 1; forward mode adds (ẋ − ẋ·1)/x first
    steps: list[float] = []
    engine.backprop(root, observe=lambda *a: steps.append(abs(a[5]) if math.isfinite(a[5]) else 0.0))
    terms.append(max(steps, default=0.0) * max(map(abs, direction), default=0.0))
    if not (math.isfinite(t) and math.isfinite(expected) and all(map(math.isfinite, terms))) or max(terms) > 1e8:
        return
    assert math.isclose(t, expected, rel_tol=1e-9, abs_tol=1e-9 * (1 + max(terms)))
