"""The ledger's text, pinned: explain() is the product, so a change to its words, numbers,
tables or templates must be a decision, seen in this file's diff (issue 21)."""

import math
from html.parser import HTMLParser

import pytest

import autograd_lite as al
from autograd_lite import Value, explain
from autograd_lite.explain import PathLimitError, Steps
from autograd_lite.walkthrough import build_zal_graph

TANH_TEXT = """\
Forward pass: 6 nodes in evaluation order, with tangents d·/dw (forward mode)
  w       = 2   (leaf)          dw/dw = 1
  b       = -1   (leaf)         db/dw = 0
  x       = 3   (leaf)          dx/dw = 0
  w·x     = 6                   d(w·x)/dw = 3
  w·x + b = 5                   d(w·x + b)/dw = 3
  L       = tanh(w·x + b) = 1   dL/dw = 0.000545

Backward pass from L: 5 steps (seed dL/dL = 1); ∂ marks a local derivative, d a total one
  L = tanh(w·x + b)    upstream dL/dL = 1
    [1] local ∂L/∂(w·x + b) = 1 − L² = 1 − 1² = 0.000182
        dL/dL × local = 1 × 0.000182 = 0.000182;  dL/d(w·x + b) = 0.000182 (final)
  w·x + b    upstream dL/d(w·x + b) = 0.000182
    [2] local ∂(w·x + b)/∂(w·x) = 1
        dL/d(w·x + b) × local = 0.000182 × 1 = 0.000182;  dL/d(w·x) = 0.000182 (final)
    [3] local ∂(w·x + b)/∂b = 1
        dL/d(w·x + b) × local = 0.000182 × 1 = 0.000182;  dL/db = 0.000182 (final)
  w·x    upstream dL/d(w·x) = 0.000182
    [4] local ∂(w·x)/∂w = x = 3
        dL/d(w·x) × local = 0.000182 × 3 = 0.000545;  dL/dw = 0.000545 (final)
    [5] local ∂(w·x)/∂x = w = 2
        dL/d(w·x) × local = 0.000182 × 2 = 0.000363;  dL/dx = 0.000363 (final)

Cost of the full gradient of L with respect to all 3 inputs/parameters:
  forward mode: 3 passes (one per input) × 5 multiply-adds = 15 multiply-adds
  reverse mode: 1 backward pass × 5 multiply-adds = 5 multiply-adds"""

TANH_MARKDOWN = """\
**Forward pass** (6 nodes)

| # | name | computed as | value | tangent d·/dw |
|---|---|---|---|---|
| 1 | w | leaf | 2 | 1 |
| 2 | b | leaf | -1 | 0 |
| 3 | x | leaf | 3 | 0 |
| 4 | w·x | w·x | 6 | 3 |
| 5 | w·x + b | w·x + b | 5 | 3 |
| 6 | L | tanh(w·x + b) | 1 | 0.000545 |

**Backward pass** from L (seed 1)

| step | node | input | upstream dL/dnode | local ∂node/∂input | contribution | dL/dinput |
|---|---|---|---|---|---|---|
| 1 | L | w·x + b | 1 | ∂L/∂(w·x + b) = 1 − L² = 1 − 1² = 0.000182 | 0.000182 | 0.000182 (final) |
| 2 | w·x + b | w·x | 0.000182 | ∂(w·x + b)/∂(w·x) = 1 | 0.000182 | 0.000182 (final) |
| 3 | w·x + b | b | 0.000182 | ∂(w·x + b)/∂b = 1 | 0.000182 | 0.000182 (final) |
| 4 | w·x | w | 0.000182 | ∂(w·x)/∂w = x = 3 | 0.000545 | 0.000545 (final) |
| 5 | w·x | x | 0.000182 | ∂(w·x)/∂x = w = 2 | 0.000363 | 0.000363 (final) |

Cost of the full gradient of L with respect to all 3 inputs/parameters:
forward mode: 3 passes (one per input) × 5 multiply-adds = 15 multiply-adds
reverse mode: 1 backward pass × 5 multiply-adds = 5 multiply-adds"""

NEG_HTML = """\
<div class='autograd-lite-ledger'>
<p><b>Forward pass</b> (3 nodes)</p><table>
<tr><th>#</th><th>name</th><th>computed as</th><th>value</th></tr>
<tr><td>1</td><td>y</td><td>leaf</td><td>0.5</td></tr>
<tr><td>2</td><td>y·(−2)</td><td>y·(−2)</td><td>-1</td></tr>
<tr><td>3</td><td>L</td><td>y·(−2) + y</td><td>-0.5</td></tr>
</table><p><b>Backward pass</b> from L (seed 1)</p><table>
<tr><th>step</th><th>node</th><th>input</th><th>upstream dL/dnode</th><th>local ∂node/∂input</th><th>contribution</th><th>dL/dinput</th></tr>
<tr><td>1</td><td>L</td><td>y·(−2)</td><td>1</td><td>∂L/∂(y·(−2)) = 1</td><td>1</td><td>1 <b>(final)</b></td></tr>
<tr><td>2</td><td>L</td><td>y</td><td>1</td><td>∂L/∂y = 1</td><td>1</td><td>1</td></tr>
<tr><td>3</td><td>y·(−2)</td><td>y</td><td>1</td><td>∂(y·(−2))/∂y = -2</td><td>-2</td><td>1 + (-2) = -1 <b>(final)</b></td></tr>
</table>
</div>"""  # noqa: E501

FANIN_TEXT = """\
Forward pass: 3 nodes in evaluation order
  x   = 3   (leaf)
  x·x = 9
  L   = x·x + x = 12

Backward pass from L: 4 steps (seed dL/dL = 1); ∂ marks a local derivative, d a total one
  L = x·x + x    upstream dL/dL = 1
    [1] local ∂L/∂(x·x) = 1
        dL/dL × local = 1 × 1 = 1;  dL/d(x·x) = 1 (final)
    [2] local ∂L/∂x = 1
        dL/dL × local = 1 × 1 = 1;  dL/dx = 1
  x·x    upstream dL/d(x·x) = 1
    [3] local ∂(x·x)/∂x (input 1) = x = 3
        dL/d(x·x) × local = 1 × 3 = 3;  dL/dx = 1 + 3 = 4
    [4] local ∂(x·x)/∂x (input 2) = x = 3
        dL/d(x·x) × local = 1 × 3 = 3;  dL/dx = 4 + 3 = 7 (final)"""

FANIN_PATHS = """\
dL/dx as a sum over 3 paths of products of local derivatives:
  path 1: L → x·x → x
    ∂L/∂(x·x) · ∂(x·x)/∂x = 1 × 3 = 3
  path 2: L → x·x → x
    ∂L/∂(x·x) · ∂(x·x)/∂x = 1 × 3 = 3
  path 3: L → x
    ∂L/∂x = 1 = 1
  sum = 7   (backprop: dL/dx = 7)"""

ZAL_PATHS_W1 = """\
dL/dw1 = dL/da · da/dz · dz/d(w1·x1) · d(w1·x1)/dw1    (every path from L to w1 passes through a, z, (w1·x1))
       = (-1.387) × 0.2011 × 1 × 1.5 = -0.4183

dL/dw1 as a sum over 2 paths of products of local derivatives:
  path 1: L → v1 → 1·log a → log a → a → z → w1·x1 + w2·x2 → w1·x1 → w1
    ∂L/∂v1 · ∂v1/∂(1·log a) · ∂(1·log a)/∂(log a) · ∂(log a)/∂a · ∂a/∂z · ∂z/∂(w1·x1 + w2·x2) · ∂(w1·x1 + w2·x2)/∂(w1·x1) · ∂(w1·x1)/∂w1 = (-1) × 1 × 1 × 1.387 × 0.2011 × 1 × 1 × 1.5 = -0.4183
  path 2: L → v1 → 0·log(1 − a) → log(1 − a) → 1 − a → a → z → w1·x1 + w2·x2 → w1·x1 → w1
    ∂L/∂v1 · ∂v1/∂(0·log(1 − a)) · ∂(0·log(1 − a))/∂log(1 − a) · ∂log(1 − a)/∂(1 − a) · ∂(1 − a)/∂a · ∂a/∂z · ∂z/∂(w1·x1 + w2·x2) · ∂(w1·x1 + w2·x2)/∂(w1·x1) · ∂(w1·x1)/∂w1 = (-1) × 1 × 0 × 3.586 × (-1) × 0.2011 × 1 × 1 × 1.5 = 0
  sum = -0.4183   (backprop: dL/dw1 = -0.4183)"""  # noqa: E501


def _tanh_graph():
    w, b, x = Value(2.0, label="w"), Value(-1.0, label="b"), Value(3.0, label="x")
    return (w * x + b).tanh(), w


# ---------------------------------------------------------------------------
# the three renderings, exactly
# ---------------------------------------------------------------------------


def test_text_ledger_is_pinned():
    x = Value(3.0, label="x")
    assert str(explain(x * x + x)) == FANIN_TEXT
    L, w = _tanh_graph()
    assert str(explain(L, forward=w, precision=3)) == TANH_TEXT
    assert str(explain(L, forward="w", precision=3)) == TANH_TEXT  # forward= by name: the same


def test_markdown_ledger_is_pinned():
    L, w = _tanh_graph()
    md = explain(L, forward=w, precision=3).to_markdown()
    assert "\n".join(line.rstrip() for line in md.splitlines()) == TANH_MARKDOWN
    # the cost lines end with two spaces: Markdown's line break, so they do not run together
    assert [line[-2:] for line in md.splitlines()[-3:]] == ["  "] * 3
    y = Value(1.0, label="a|b")
    assert "| a\\|b |" in explain(y * y).to_markdown()  # a | in a name does not split the cell


class _Tables(HTMLParser):
    """The tables of an HTML fragment as lists of rows of (tag, text) cells; checks tags balance."""

    def __init__(self):
        super().__init__()
        self.tables, self.stack, self.cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "br":  # a void element: no end tag
            return
        self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = [tag, ""]

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag
        if tag in ("td", "th"):
            self.tables[-1][-1].append(tuple(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data


def test_html_ledger_is_pinned_and_well_formed():
    y = Value(0.5, label="y")
    out = explain(y * -2.0 + y)._repr_html_()
    assert out == NEG_HTML
    p = _Tables()
    p.feed(out)
    assert p.stack == []
    forward, backward = p.tables
    assert [c for c, _ in forward[0]] == ["th"] * 4 and len(forward) == 1 + 3
    assert [t for _, t in backward[0]] == ["step", "node", "input", "upstream dL/dnode", "local ∂node/∂input",
                                           "contribution", "dL/dinput"]
    assert [t for _, t in backward[3]] == ["3", "y·(−2)", "y", "1", "∂(y·(−2))/∂y = -2", "-2", "1 + (-2) = -1 (final)"]
    L, w = _tanh_graph()
    p = _Tables()
    p.feed(explain(L, forward=w)._repr_html_())
    assert [t for _, t in p.tables[0][0]][-1] == "tangent d·/dw" and len(p.tables[0]) == 1 + 6
    bad = Value(1.0, label="<b>&")
    p = _Tables()
    p.feed(explain(bad * 2.0)._repr_html_())  # names are escaped: still well formed, the text intact
    assert p.tables[0][1][1] == ("td", "<b>&")


def test_a_plain_prompt_prints_the_ledger():
    x = Value(3.0, label="x")
    e = explain(x * x + x)
    assert repr(e) == str(e) == FANIN_TEXT
    assert e.summary() == "<Explanation of L: 3 nodes, 4 backward steps>"


# ---------------------------------------------------------------------------
# the local-derivative templates, one per op of the table (x = 0.5, y = -2)
# ---------------------------------------------------------------------------

TEMPLATE_CASES = [
    ("x / y", ["∂L/∂x = 1/y = 1/(-2) = -0.5", "∂L/∂y = −x/y² = −L/y = −(-0.25)/(-2) = -0.125"]),
    ("2.0 / x", ["∂L/∂x = −2/x² = −L/x = −4/0.5 = -8"]),
    ("-x", ["∂L/∂x = −1"]),
    ("abs(y)", ["∂L/∂y = sign(y) = sign(-2) = -1"]),
    ("x - y", ["∂L/∂x = 1", "∂L/∂y = −1"]),
    ("x + y", ["∂L/∂x = 1", "∂L/∂y = 1"]),
    ("x * y", ["∂L/∂x = y = -2", "∂L/∂y = x = 0.5"]),
    ("x * -1.0", ["∂L/∂x = -1"]),
    ("x ** y", ["∂L/∂x = y·x^(y − 1) = (-2) × 0.5^(-3) = -16", "∂L/∂y = x^y·ln x = 4 × ln 0.5 = -2.773"]),
    ("al.linear([x, y], [y, 3.0], x)",
     ["∂L/∂x (input 1) = y = -2", "∂L/∂y (input 3) = x = 0.5", "∂L/∂y (input 2) = 3", "∂L/∂x (input 5) = 1"]),
    ("al.linear([x], [2.0], y)", ["∂L/∂x = 2", "∂L/∂y = 1"]),
    ("x.relu()", ["∂L/∂x = 1 if x > 0 else 0 = 1 (x is 0.5 > 0)"]),
    ("y.relu()", ["∂L/∂y = 1 if y > 0 else 0 = 0 (y is -2 ≤ 0)"]),
    ("x.sqrt()", ["∂L/∂x = 1/(2√x) = 0.5/0.7071 = 0.7071"]),
    ("x.exp()", ["∂L/∂x = e^x = L = 1.649"]),
    ("x.log()", ["∂L/∂x = 1/x = 1/0.5 = 2"]),
    ("al.sin(x)", ["∂L/∂x = cos x = cos(0.5) = 0.8776"]),
    ("al.cos(x)", ["∂L/∂x = −sin x = −sin(0.5) = -0.4794"]),
    ("x.sigmoid()", ["∂L/∂x = L(1 − L) = 0.6225 × 0.3775 = 0.235"]),
    ("x.tanh()", ["∂L/∂x = 1 − L² = 1 − 0.4621² = 0.7864"]),
]


@pytest.mark.parametrize("src, texts", TEMPLATE_CASES)
def test_local_derivative_templates(src, texts):
    x, y = Value(0.5, label="x"), Value(-2.0, label="y")
    node = eval(src, {"al": al, "x": x, "y": y})
    assert [s.local_text for s in explain(node).steps] == texts


@pytest.mark.parametrize("src, texts", [
    ("x ** y", ["∂L/∂x = y·x^(y − 1) = 0 (exponent = 0, as PyTorch)",
                "∂L/∂y = x^y·ln x = 0 (base = 0 ≤ exponent, as PyTorch)"]),
    ("x ** 2.0", ["∂L/∂x = 2·x^(2 − 1) = 2 × 0^1 = 0"]),
    ("x ** 0.0", ["∂L/∂x = 0·x^(0 − 1) = 0 (exponent = 0, as PyTorch)"]),
    ("x ** (y - 1.0)", ["∂L/∂x = (y − 1)·x^((y − 1) − 1) = (-1) × 0^(-2) = -inf",
                        "∂L/∂(y − 1) = x^(y − 1)·ln x = inf × ln 0 = -inf", "∂(y − 1)/∂y = 1"]),
])
def test_pow_at_zero(src, texts):
    """At x = y = 0 the table says 0 for both partials (PyTorch), and the ledger says why."""
    x, y = Value(0.0, label="x"), Value(0.0, label="y")
    node = eval(src, {"x": x, "y": y})
    assert [s.local_text for s in explain(node).steps] == texts
    grads = al.engine.backprop(node)
    assert [s.local for s in explain(node).steps][:1] == [0.0 if src != "x ** (y - 1.0)" else -math.inf]
    assert all(isinstance(v, float) for v in grads.values())


# ---------------------------------------------------------------------------
# paths(): sums and factorisation
# ---------------------------------------------------------------------------


def test_paths_sum_is_pinned_and_equals_backprop():
    x = Value(3.0, label="x")
    L = x * x + x
    ps = explain(L).paths(x)
    assert str(ps) == FANIN_PATHS
    assert len(ps) == 3 and ps.products == [3.0, 3.0, 1.0] and ps.value == 7.0
    L.backward()
    assert ps.grad == x.grad == 7.0
    assert repr(ps) == "<PathSum dL/dx: 3 paths, sum 7.0>"
    assert ps.factors == [(L, x, ps.paths)]  # no labelled node on every path: one factor, the whole sum


def test_paths_factor_through_the_labels_every_path_crosses():
    g = build_zal_graph()
    e = explain(g.L)
    ps = e.paths(g.w1)
    assert str(ps) == ZAL_PATHS_W1
    assert [(s.label, d.label) for s, d, _ in ps.factors] == [("L", "a"), ("a", "z"), ("z", "w1·x1"),
                                                                ("w1·x1", "w1")]
    assert [len(sub) for *_, sub in ps.factors] == [2, 1, 1, 1]
    assert math.isclose(ps.value, g.w1.grad, rel_tol=1e-15)
    # the C6 product: dL/da · da/dz · dz/dw1 = (−1/a) · a(1 − a) · x1 for y = 1
    a = g.a.data
    assert math.isclose(ps.value, (-1 / a) * a * (1 - a) * 1.5, rel_tol=1e-12)


def test_paths_with_a_seed_show_it_in_every_product():
    x = Value(3.0, label="x")
    ps = explain(x * x, seed=2.0).paths(x)
    assert ps.products == [6.0, 6.0] and ps.value == 12.0
    assert "    ∂L/∂x = 2 × 3 = 6" in str(ps).splitlines()


def test_paths_limit_at_the_boundary():
    x = Value(1.5, label="x")
    L = (x * x) * (x * x)  # 4 paths from L to x
    e = explain(L)
    assert len(e.paths(x, limit=4)) == 4  # exactly at the limit: enumerated
    with pytest.raises(PathLimitError, match=r"^dL/dx is a sum over 4 paths, more than limit=3; pass a larger "):
        e.paths(x, limit=3)
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="limit must be a positive int"):
            e.paths(x, limit=bad)
    assert len(e.paths(L)) == 1 and str(e.paths(L)).splitlines()[2] == "    1 = 1 = 1"  # the root: the empty path


# ---------------------------------------------------------------------------
# precision at its boundaries, forward=, lookups
# ---------------------------------------------------------------------------


def test_precision_one_and_seventeen():
    w = Value(2.0 / 3.0, label="w")
    L = (w * w).log()
    assert explain(L, precision=1).line(2) == (
        "[2] w·w → w: local ∂(w·w)/∂w (input 1) = w = 0.7;  dL/d(w·w) × local = 2 × 0.7 = 2;  dL/dw = 2")
    assert explain(L, precision=17).line(3) == (
        "[3] w·w → w: local ∂(w·w)/∂w (input 2) = w = 0.66666666666666663;  dL/d(w·w) × local = 2.25 × "
        "0.66666666666666663 = 1.5;  dL/dw = 1.5 + 1.5 = 3 (final)")
    for bad in (0, 18, True, 4.0, None):
        with pytest.raises(ValueError, match="precision is a number of significant digits from 1 to 17"):
            explain(L, precision=bad)


def test_forward_rows_and_errors():
    L, w = _tanh_graph()
    e = explain(L, forward=w)
    assert [(r.position, r.name, r.op, r.inputs) for r in e.forward] == [
        (1, "w", None, ()), (2, "b", None, ()), (3, "x", None, ()), (4, "w·x", "mul", ("w", "x")),
        (5, "w·x + b", "add", ("w·x", "b")), (6, "L", "tanh", ("w·x + b",))]
    assert [r.tangent for r in e.forward][:5] == [1.0, 0.0, 0.0, 3.0, 3.0]
    assert explain(L).forward[0].tangent is None
    with pytest.raises(ValueError, match="no node named 'q' in the graph of L"):
        explain(L, forward="q")
    with pytest.raises(TypeError, match="forward= takes a Value of the graph or its name"):
        explain(L, forward=3)


def test_line_boundaries():
    x = Value(3.0, label="x")
    e = explain(x * x + x)
    assert e.line(0) == "start: dL/dL = 1 (the seed); every other gradient is unknown"
    assert e.line(5) == "done: 4 steps; every node holds its gradient dL/dnode"
    for bad in (-1, 6, True):
        with pytest.raises(IndexError, match="out of range 0..5"):
            e.line(bad)


# ---------------------------------------------------------------------------
# one index convention: steps[k], line(k), draw_graph(step=k) and the page count from 1
# ---------------------------------------------------------------------------


def test_steps_count_from_one_like_line_and_the_picture():
    x = Value(3.0, label="x")
    L = x * x + x
    e = explain(L)
    assert isinstance(e.steps, Steps) and len(e.steps) == 4
    assert [s.number for s in e.steps] == [1, 2, 3, 4]
    for k in range(1, 5):
        s = e.steps[k]
        assert s.number == k and e.line(k).startswith(f"[{k}] {s.node_name} → {s.input_name}: local {s.local_text}")
        assert e.steps.index(s) == k
    assert e.steps[-1] is e.steps[4] and e.steps[-4] is e.steps[1]
    assert list(reversed(e.steps)) == list(e.steps)[::-1]
    with pytest.raises(IndexError, match="steps are numbered 1 … 4 .* steps\\[1\\] is the first"):
        e.steps[0]
    for bad in (5, -5):
        with pytest.raises(IndexError, match="out of range: this backward pass has steps 1 … 4"):
            e.steps[bad]
    with pytest.raises(TypeError, match=r"list\(e.steps\)\[i:j\]"):
        e.steps[1:3]
    with pytest.raises(TypeError, match="numbered by ints"):
        e.steps["1"]
    with pytest.raises(ValueError, match="not one of these steps"):
        e.steps.index(explain(L).steps[1])
    assert e.steps == Steps(list(e.steps)) and e.steps != Steps(list(e.steps)[:3])
    assert (e.steps == [1]) is False


def test_draw_graph_step_k_highlights_steps_k():
    pytest.importorskip("graphviz")
    from autograd_lite.engine import topological_order
    from autograd_lite.viz import draw_graph

    x = Value(3.0, label="x")
    L = x * x + x
    e = explain(L)
    ids = {id(n): f"v{i}" for i, n in enumerate(topological_order(L))}
    for k in range(1, len(e.steps) + 1):
        src = draw_graph(L, step=k).source
        current = [line.split()[0] for line in src.splitlines() if "current" in line and "class=" in line]
        assert current == [ids[id(e.steps[k].node)]], k


# ---------------------------------------------------------------------------
# names in the ledger: duplicates, non-identifiers, numbers
# ---------------------------------------------------------------------------


def test_duplicate_and_awkward_labels_in_the_ledger():
    a1, a2 = Value(2.0, label="a"), Value(3.0, label="a")
    s, t, n = Value(1.0, label="my  loss\n"), Value(5.0, label="v1"), Value(4.0, label="2")
    e = explain((a1 * a2 + s) * t - n)
    assert [r.name for r in e.forward] == ["a", "a_2", "my loss", "v1", "'2'", "a·a_2", "a·a_2 + (my loss)", "v2",
                                           "L"]
    assert e.line(2) == "[2] L → '2': local ∂L/∂'2' = −1;  dL/dL × local = 1 × (-1) = -1;  dL/d'2' = -1 (final)"
    assert e.line(3) == ("[3] v2 → a·a_2 + (my loss): local ∂v2/∂(a·a_2 + (my loss)) = v1 = 5;  dL/dv2 × local = "
                         "1 × 5 = 5;  dL/d(a·a_2 + (my loss)) = 5 (final)")
    assert e.grad("a_2") == 10.0 and e.grad(a2) == 10.0 and e.grad("'2'") == -1.0
    with pytest.raises(ValueError, match="no node named 'a#2'"):
        e.grad("a#2")


def test_chain_drops_only_repeated_neighbours():
    from autograd_lite.explain import _chain

    assert _chain("a", "b", "b") == "a = b" and _chain("a", "b", "a") == "a = b = a" and _chain("x") == "x"


def test_records_repr_without_their_nodes():
    x = Value(3.0, label="x")
    e = explain(x * x)
    assert repr(e.steps[1]).startswith("Step(number=1, index=0, local=3.0, upstream=1.0, contribution=3.0, total=3.0")
    assert "node=" not in repr(e.steps[1]) and "input=" not in repr(e.steps[1]) and "node=" not in repr(e.forward[1])
    assert repr(e.steps) == "<Steps 1 … 2>"
