"""autograd_lite.viz: the pictures are rendered with Graphviz for real and the SVG is parsed."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import Value, linear
from autograd_lite.engine import topological_order
from autograd_lite.nn import MLP
from autograd_lite.viz import FORMATS, GraphvizNotFoundError, draw_graph, render_graph
from autograd_lite.walkthrough import build_zal_graph

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.needs_dot


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def _svg_nodes(svg_path: Path) -> dict[str, tuple[set[str], list[str], ET.Element]]:
    """id -> (classes, texts, element) for every Graphviz node of an SVG file."""
    tree = ET.parse(svg_path)
    out = {}
    for g in tree.iter(f"{SVG}g"):
        classes = set(g.get("class", "").split())
        if "node" in classes:
            texts = ["".join(t.itertext()) for t in g.iter(f"{SVG}text")]
            out[g.get("id")] = (classes, texts, g)
    return out


def _fill(el: ET.Element) -> str:
    """The fill colour of a node's shape in the SVG."""
    for tag in ("polygon", "path", "ellipse"):
        for shape in el.iter(f"{SVG}{tag}"):
            if shape.get("fill") not in (None, "none"):
                return shape.get("fill")
    raise AssertionError("no filled shape")


def _dot_label_texts(g: graphviz.Digraph) -> dict[str, str]:
    """Node id -> its label text (HTML tags stripped) from the DOT source."""
    out = {}
    for line in g.source.splitlines():
        m = re.match(r"\s*(\w+) \[label=(?:<(<TABLE.*?</TABLE>)>|(\S+))", line)
        if m:
            out[m.group(1)] = re.sub(r"<[^>]*>", " ", m.group(2) or m.group(3)).split()
    return {k: " ".join(v) for k, v in out.items()}


def _clusters_of(g: graphviz.Digraph) -> dict[str, list[str]]:
    """Node id -> labels of the clusters it sits in (outermost first), from the DOT source."""
    stack: list[str | None] = []
    where = {}
    for line in g.source.splitlines():
        s = line.strip()
        if s.startswith("subgraph cluster_"):
            stack.append(None)
        elif s == "}" and stack:
            stack.pop()
        elif stack and stack[-1] is None and re.match(r"(class|color|fontsize|id|label|style)=", s):
            stack[-1] = re.search(r"\blabel=(\"[^\"]*\"|\S+)", s).group(1).strip('"')
        else:
            m = re.match(r"(\w+) \[", s)
            if m:
                where[m.group(1)] = list(stack)
    return where


# --------------------------------------------------------------------------
# the seed's z → a → L graph, rendered
# --------------------------------------------------------------------------


@needs_dot
def test_zal_svg_has_one_box_per_value_one_node_per_op_and_the_numbers(tmp_path):
    g = build_zal_graph()
    order = topological_order(g.L)
    n_ops = sum(not v.is_leaf() for v in order)
    n_consts = sum(not isinstance(p, Value) for v in order for p in v.parents)
    path = render_graph(g.L, tmp_path / "zal.svg")
    assert path == tmp_path / "zal.svg" and isinstance(path, Path)
    nodes = _svg_nodes(path)
    values = {k: v for k, v in nodes.items() if "value" in v[0]}
    ops = {k: v for k, v in nodes.items() if "op" in v[0]}
    consts = {k: v for k, v in nodes.items() if "const" in v[0]}
    assert len(values) == len(order) == 17
    assert len(ops) == n_ops == 12
    assert len(consts) == n_consts == 3
    # kinds: x1 x2 w1 w2 b are leaves, L the root, the rest intermediate
    assert sorted(texts[0] for cls, texts, _ in values.values() if "leaf" in cls) == ["b", "w1", "w2", "x1", "x2"]
    assert [texts[0] for cls, texts, _ in values.values() if "root" in cls] == ["L"]
    assert values["v0"][1][0] == "L"
    # the chain rule's numbers (C6), as the analytic formulas give them
    a = 1 / (1 + math.exp(-(0.3 * 1.5 - 0.8 * -0.5 + 0.1)))
    by_label = {texts[0]: texts for cls, texts, _ in values.values()}
    assert by_label["a"] == ["a", f"data {a:.4g}", f"grad {-1 / a:.4g}"]
    assert by_label["z"] == ["z", "data 0.95", f"grad {a - 1:.4g}"]
    assert by_label["w1"] == ["w1", "data 0.3", f"grad {1.5 * (a - 1):.4g}"]
    assert by_label["x2"] == ["x2", "data -0.5", f"grad {-0.8 * (a - 1):.4g}"]
    assert by_label["L"] == ["L", f"data {-math.log(a):.4g}", "grad 1"]
    symbols = sorted(texts[0] for _, texts, _ in ops.values())
    assert symbols == sorted(["×", "×", "+", "+", "σ", "log", "×", "−", "log", "×", "+", "−"])
    # a legend explains the kinds
    legend = [texts for cls, texts, _ in nodes.values() if "legend" in cls]
    assert ["root (loss)"] in legend and ["constant"] in legend and ["input / parameter (leaf)"] in legend
    # the kinds look different
    fills = {kind: {_fill(el) for cls, _, el in values.values() if kind in cls} for kind in ("leaf", "root")}
    assert fills["leaf"] and fills["root"] and fills["leaf"].isdisjoint(fills["root"])


@needs_dot
def test_png_is_a_real_picture(tmp_path):
    path = render_graph(build_zal_graph().L, tmp_path / "zal.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 500 and height > 100 and len(data) > 20_000


@needs_dot
def test_pdf_and_explicit_format(tmp_path):
    assert render_graph(build_zal_graph().L, tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"
    p = render_graph(build_zal_graph().L, tmp_path / "noext", format="svg")
    assert p == tmp_path / "noext.svg" and ET.parse(p).getroot().tag == f"{SVG}svg"


@needs_dot
def test_example_script_writes_svg_and_png(tmp_path):
    out = tmp_path / "pics"
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "computational_graph.py"), "--out", str(out)],
                         capture_output=True, text=True, env=_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    assert (out / "z_a_L.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = {t[0] for cls, t, _ in _svg_nodes(out / "z_a_L.svg").values() if "value" in cls and t}
    assert {"x1", "x2", "w1", "w2", "b", "z", "a", "L"} <= labels
    assert "dL/dz = a − y = -0.2789" in run.stdout


@needs_dot
def test_jupyter_displays_svg():
    g = build_zal_graph().L.draw()
    assert isinstance(g, graphviz.Digraph)
    bundle = g._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg" and "data 0.95" in svg


# --------------------------------------------------------------------------
# DOT source: determinism and content (no Graphviz needed)
# --------------------------------------------------------------------------

_SCRIPT = ("from autograd_lite.walkthrough import build_zal_graph; from autograd_lite.viz import draw_graph; "
           "import sys; sys.stdout.write(draw_graph(build_zal_graph().L, color_by='grad').source)")


def test_dot_source_is_deterministic_in_process_and_across_processes():
    first = draw_graph(build_zal_graph().L, color_by="grad").source
    Value(1.0) * Value(2.0)  # shift the engine's creation counter: ids must not depend on it
    assert draw_graph(build_zal_graph().L, color_by="grad").source == first
    runs = [subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True,
                           env=_env(PYTHONHASHSEED=seed), timeout=60).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] == first
    ids = [i for i in re.findall(r"^\s*(\w+) \[", first, flags=re.M) if i not in ("node", "edge")]
    assert ids[-1] == "legend_grad_zero" and "v0" in ids
    assert all(re.fullmatch(r"v\d{1,2}(_op|_c\d)?|legend_\w+", i) for i in ids), ids  # no id()-based names


def test_dot_file_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    root = build_zal_graph().L
    p = render_graph(root, tmp_path / "g.dot")
    assert p.read_text(encoding="utf-8") == draw_graph(root).source


def test_missing_dot_gives_one_clear_error_and_writes_the_dot_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    root = build_zal_graph().L
    with pytest.raises(GraphvizNotFoundError) as info:
        render_graph(root, tmp_path / "zal.svg")
    err = info.value
    assert isinstance(err, RuntimeError) and not isinstance(err, graphviz.ExecutableNotFound)
    assert err.__cause__ is None and err.__suppress_context__
    msg = str(err)
    assert "Graphviz is not installed" in msg
    for how in ("apt-get install graphviz", "brew install graphviz", "conda install -c conda-forge python-graphviz"):
        assert how in msg
    dot = tmp_path / "zal.dot"
    assert str(dot) in msg and dot.read_text(encoding="utf-8") == draw_graph(root).source
    assert not (tmp_path / "zal.svg").exists()


def test_missing_dot_in_the_example_script(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "computational_graph.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, env=_env(PATH=""), timeout=60)
    assert run.returncode == 1
    assert "Graphviz is not installed" in run.stderr and "Traceback" not in run.stderr
    assert (tmp_path / "z_a_L.dot").exists()


def test_max_nodes():
    x = Value(0.5, label="x")
    y = x
    for _ in range(50):
        y = y * 1.01
    assert len(topological_order(y)) == 51
    with pytest.raises(ValueError, match=r"51 Value nodes.*max_nodes=50.*max_nodes=51"):
        draw_graph(y, max_nodes=50)
    with pytest.raises(ValueError, match="max_nodes=500"):
        big = sum((Value(float(i)) for i in range(300)), Value(0.0))
        draw_graph(big)
    assert draw_graph(y, max_nodes=51).source.count('class="value') == 51
    assert draw_graph(y, max_nodes=None).source.count("class=op") == 50


def test_labels_data_grad_switches_and_precision():
    x = Value(2.0 / 3.0, label="x")
    y = x.tanh()
    y.backward()
    texts = _dot_label_texts(draw_graph(y, precision=2))
    assert texts["v1"] == "x data 0.67 grad 0.66"  # 1 − tanh²(2/3) = 0.6603
    assert texts["v0"] == "L data 0.58 grad 1"  # an unlabelled root is L, as in the ledger
    assert _dot_label_texts(draw_graph(y, show_grad=False))["v1"] == "x data 0.6667"
    assert _dot_label_texts(draw_graph(y, show_data=False))["v1"] == f"x grad {1 - math.tanh(2 / 3) ** 2:.4g}"
    full = _dot_label_texts(draw_graph(y, precision=17))["v1"].split()
    assert float(full[2]) == 2 / 3 and float(full[4]) == x.grad == 1 - y.data ** 2  # 17 digits: exact


def test_non_commutative_inputs_are_marked_and_constants_drawn():
    a = Value(3.0, label="a")
    y = (2.0 - a) / 4.0
    src = draw_graph(y).source
    assert re.search(r'v1_c0 -> v1_op \[label="1st"', src)  # 2 − a: the constant comes first
    assert re.search(r'v2 -> v1_op \[label="2nd"', src)
    assert re.search(r"v0_c1 -> v0_op \[label=denominator", src)  # (…) ÷ 4: the constant divides
    texts = _dot_label_texts(draw_graph(y))
    assert texts["v1_c0"] == "2" and texts["v0_c1"] == "4"


@needs_dot
def test_awkward_labels_are_escaped(tmp_path):
    x = Value(1.0, label='a<b & "c" \\n')
    y = x * 2
    y.backward()
    nodes = _svg_nodes(render_graph(y, tmp_path / "g.svg"))
    assert nodes["v1"][1][0] == 'a<b & "c" \\n'


# --------------------------------------------------------------------------
# color_by="grad": vanishing gradients (C10)
# --------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_color_by_grad_shades_by_log_abs_grad():
    x = Value(4.0, label="x")
    h = x
    for _ in range(4):  # saturated sigmoids: |grad| shrinks by ~σ'(·) at every step
        h = h.sigmoid() * 6.0
    h.backward()
    g = draw_graph(h, color_by="grad")
    fills = dict(re.findall(r"(v\d+) \[.*?fillcolor=\"(#[0-9a-f]{6})\"", g.source))
    order = topological_order(h)
    grads = {f"v{i}": abs(v.grad) for i, v in enumerate(order)}
    assert min(grads.values()) < 1e-3 * max(grads.values())  # really vanishing
    ranked = sorted(grads, key=grads.get)
    lum = [_luminance(fills[v]) for v in ranked]
    assert lum == sorted(lum, reverse=True)  # bigger |grad| -> darker
    assert lum[0] > lum[-1] + 100
    assert "|grad| " in g.source and "legend_grad4" in g.source


def test_grad_shading_is_logarithmic():
    a, b, c = Value(1.0, label="a"), Value(1.0, label="b"), Value(1.0, label="c")
    y = 1e-4 * a + 1e-2 * b + c  # |grad| = 1e-4, 1e-2, 1
    y.backward()
    src = draw_graph(y, color_by="grad").source
    lum = {k: _luminance(re.search(rf"<B>{k}</B>.*?fillcolor=\"(#\w+)\"", src).group(1)) for k in "abc"}
    # on a log scale 1e-2 is halfway between 1e-4 and 1 (on a linear one it would look like 1e-4)
    assert abs(lum["b"] - (lum["a"] + lum["c"]) / 2) < 0.25 * (lum["a"] - lum["c"])
    assert "|grad| 0.0001" in src and "|grad| 0.01" in src and "|grad| 1" in src


def test_color_by_grad_zero_nan_and_fixed_range():
    x, w = Value(-1.0, label="x"), Value(1.0, label="w")
    y = (w * x).relu()  # relu'(−1) = 0: x and w get grad 0
    y.backward()
    src = draw_graph(y, color_by="grad").source
    assert re.search(r'v\d+ \[label=<<TABLE[^\n]*<B>x</B>[^\n]*fillcolor="#ffffff"', src)
    assert "legend_grad_zero" in src
    n = Value(-1.0)
    m = n.sqrt()
    m.backward()
    assert "legend_grad_nonfinite" in draw_graph(m, color_by="grad").source
    s = Value(2.0) * 3.0
    s.backward()
    same = draw_graph(s, color_by="grad", grad_range=(1e-6, 1.0)).source
    assert "|grad| 1e-06" in same and "|grad| 1" in same


# --------------------------------------------------------------------------
# fused linear nodes
# --------------------------------------------------------------------------


def _value_numbers(g: graphviz.Digraph) -> list[tuple[str, float, float]]:
    """(label, data, grad) of every value box, in the order the DOT source lists them."""
    texts = _dot_label_texts(g)
    out = []
    for v in re.findall(r'^\s*(\w+) \[label=<<TABLE.*class="value', g.source, flags=re.M):
        m = re.fullmatch(r"(?:(.+?) )?data (\S+) grad (\S+)", texts[v])
        out.append((m.group(1), float(m.group(2)), float(m.group(3))))
    return out


def _op_symbols(g: graphviz.Digraph) -> list[str]:
    return sorted(re.findall(r"\w+_op \[label=\"?([^\" ]+)\"? class=op", g.source))


def _same_numbers(a: list[tuple[str, float, float]], b: list[tuple[str, float, float]]) -> None:
    assert len(a) == len(b)
    for (la, da, ga), (lb, db, gb) in zip(a, b):
        # the same names; a display-only box of expand_linear is blank where the real node got v1, v2, …
        # (the fused node itself reads w0·x0 + … + b, the course's order; the unfused sum b + w0·x0 + …)
        assert la == lb or ((la is None or re.fullmatch(r"v\d+", la)) and re.fullmatch(r"v\d+", lb)) or (
            la and lb and sorted(la.split(" + ")) == sorted(lb.split(" + "))), (la, lb)
        # exact up to the summation order of the engine's fused forward (compensated sum() on Python ≥ 3.12)
        assert math.isclose(da, db, rel_tol=1e-12, abs_tol=1e-12), (la, da, db)
        assert math.isclose(ga, gb, rel_tol=1e-12, abs_tol=1e-12), (la, ga, gb)


@settings(max_examples=25)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.booleans()), min_size=1, max_size=4),
       st.floats(-5, 5))
def test_expand_linear_draws_the_same_numbers_as_the_unfused_graph(pairs, bias):
    def build(fused: bool) -> Value:
        ws = [Value(w, label=f"w{k}") for k, (w, _, _) in enumerate(pairs)]
        xs = [Value(x, label=f"x{k}") if is_value else x for k, (_, x, is_value) in enumerate(pairs)]
        b = Value(bias, label="b")
        if fused:
            z = linear(ws, xs, b)
        else:
            z = b
            for w, x in zip(ws, xs):
                z = z + w * x
        out = z.tanh()
        out.backward()
        return out

    expanded = draw_graph(build(True), expand_linear=True, precision=17, legend=False)
    unfused = draw_graph(build(False), precision=17, legend=False)
    _same_numbers(_value_numbers(expanded), _value_numbers(unfused))
    assert _op_symbols(expanded) == _op_symbols(unfused)
    assert expanded.source.count("class=const") == unfused.source.count("class=const")
    fused = draw_graph(build(True), precision=17, legend=False)
    assert _op_symbols(fused) == ["tanh", "w·x+b"]
    assert len(_value_numbers(fused)) == len(_value_numbers(unfused)) - (2 * len(pairs) - 1)


def test_expand_linear_on_a_fused_mlp_matches_the_unfused_mlp():
    pictures = []
    for fused in (True, False):
        model = MLP(2, [3, 1], activation="tanh", seed=1, fused=fused)
        loss = (model([0.5, -1.5]) - 1.0) ** 2
        loss.backward()
        pictures.append(draw_graph(loss, model=model, expand_linear=fused, precision=17))
    _same_numbers(_value_numbers(pictures[0]), _value_numbers(pictures[1]))
    assert _op_symbols(pictures[0]) == _op_symbols(pictures[1])
    assert "dashed" in pictures[0].source.split("v4_m0 [")[1].split("\n")[0]  # drawn for display only


def test_fused_linear_marks_weights_inputs_and_bias():
    ws = [Value(0.5, label="w0"), Value(-1.0, label="w1")]
    x0 = Value(2.0, label="x0")
    z = linear(ws, [x0, 3.0], Value(0.25, label="b"))
    src = draw_graph(z).source
    # numbered like the labels (w0, x0 count from 0), in words that never read as a variable
    for role in ("weight 0", "input 0", "weight 1", "input 1", "bias"):
        assert re.search(rf'-> v0_op \[label="?{role}"? ', src), role
    assert _dot_label_texts(draw_graph(z))["v0_c3"] == "3"


# --------------------------------------------------------------------------
# the graph of a gradient (create_graph=True)
# --------------------------------------------------------------------------


@needs_dot
def test_drawing_a_gradients_own_graph(tmp_path):
    x = Value(1.5, label="x")
    y = x ** 3 + x.sin()
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    dydx = 3 * 1.5 ** 2 + math.cos(1.5)
    nodes = _svg_nodes(render_graph(x.grad, tmp_path / "grad.svg"))
    assert nodes["v0"][1][:2] == ["L", f"data {dydx:.4g}"]  # the gradient's graph: an unlabelled root, L
    # and the original graph shows the Value gradients as numbers
    texts = _dot_label_texts(draw_graph(y))
    assert texts[f"v{len(topological_order(y)) - 1}"] == f"x data 1.5 grad {dydx:.4g}"
    x.grad.backward()  # second derivative, drawn on the gradient's graph
    leaf = [t for t in _dot_label_texts(draw_graph(x.grad)).values() if t.startswith("x ")]
    assert leaf == [f"x data 1.5 grad {dydx + 6 * 1.5 - math.sin(1.5):.4g}"]


# --------------------------------------------------------------------------
# model=: one labelled cluster per neuron
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fused", [True, False])
def test_model_clusters_each_neuron(fused):
    model = MLP(2, [3, 1], seed=0, fused=fused)
    out = model([1.0, -2.0])
    loss = (out - 1.0) ** 2
    loss.backward()
    g = draw_graph(loss, model=model)
    where = _clusters_of(g)
    index = {v: f"v{i}" for i, v in enumerate(topological_order(loss))}
    for name, p in model.named_parameters():
        # clusters are named as the parameters' labels say (one name per thing): layer1 ⊃ layer1.neuron3 ∋ w1
        neuron = p.label.rsplit(".", 1)[0]
        assert where[index[p]] == [neuron.split(".")[0], neuron], name  # e.g. [layer1, layer1.neuron3]
    assert where["v0"] == [] and where["v0_op"] == []  # the loss is nobody's
    # each hidden neuron's output (after relu) and its op are inside its cluster
    hidden = [v for v in topological_order(loss) if v.op is not None and v.op.name == "relu"]
    assert len(hidden) == 3
    assert sorted(where[index[h]][-1] for h in hidden) == [f"layer1.neuron{k}" for k in range(1, 4)]
    assert all(where[index[h] + "_op"] == where[index[h]] for h in hidden)


def test_model_duck_typed_without_named_modules():
    class Tiny:
        def __init__(self):
            self.w = [Value(0.5, label="w0"), Value(-0.5, label="w1")]
            self.b = Value(0.1, label="b")

        def named_parameters(self):
            return [("neuron.w.0", self.w[0]), ("neuron.w.1", self.w[1]), ("neuron.b", self.b)]

    m = Tiny()
    y = linear(m.w, [1.0, 2.0], m.b).sigmoid()
    where = _clusters_of(draw_graph(y, model=m))
    assert where["v0"] == where["v1"] == where["v2"] == ["neuron"]  # σ, w·x+b, then the parameters
    with pytest.raises(TypeError, match="named_parameters"):
        draw_graph(y, model=object())


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------


def test_bad_input_is_rejected_clearly(tmp_path):
    y = Value(1.0) * 2
    with pytest.raises(TypeError, match="float"):
        draw_graph(3.0)
    with pytest.raises(TypeError, match="list"):
        render_graph([y], tmp_path / "g.dot")
    with pytest.raises(ValueError, match="'LR', 'RL', 'TB', 'BT'"):
        draw_graph(y, rankdir="left")
    with pytest.raises(ValueError, match="'kind', 'grad'"):
        draw_graph(y, color_by="data")
    for bad in (0, 18, 2.5, True, "4"):
        with pytest.raises(ValueError, match="precision"):
            draw_graph(y, precision=bad)
    for bad in (0, -3, 1.5):
        with pytest.raises(ValueError, match="max_nodes"):
            draw_graph(y, max_nodes=bad)
    for bad in ((1.0, 0.1), (0, 1), "ab", 3):
        with pytest.raises(ValueError, match="grad_range"):
            draw_graph(y, grad_range=bad)
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.dot"):
        render_graph(y, tmp_path / "g.jpg")
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.dot"):
        render_graph(y, tmp_path / "noext")
    with pytest.raises(ValueError, match="supported: svg, png, pdf, dot"):
        render_graph(y, tmp_path / "g", format="gif")
    with pytest.raises(ValueError, match="contradicts"):
        render_graph(y, tmp_path / "g.png", format="svg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_graph(y, tmp_path / "missing" / "g.dot")
    assert FORMATS == ("svg", "png", "pdf", "dot")


def test_value_draw_is_draw_graph():
    g = build_zal_graph()
    assert g.L.draw(rankdir="TB").source == draw_graph(g.L, rankdir="TB").source
    assert "rankdir=TB" in g.L.draw(rankdir="TB").source


_UNARY = ("exp", "tanh", "sigmoid", "relu", "sin", "cos", "abs")
_BINARY = ("__add__", "__sub__", "__mul__", "__truediv__", "__radd__", "__rsub__", "__rmul__")


@settings(max_examples=30)
@given(st.lists(st.tuples(st.sampled_from(_UNARY + _BINARY), st.integers(0, 50), st.integers(0, 50),
                          st.floats(-2, 2), st.booleans()), min_size=1, max_size=25))
def test_random_expressions_one_box_per_value_one_node_per_op_and_deterministic(steps):
    def build() -> Value:
        pool = [Value(0.5, label="p"), Value(-1.25, label="q")]
        for name, i, j, c, const in steps:
            a = pool[i % len(pool)]
            if name in _UNARY:
                pool.append(getattr(a, name)())
            elif name.startswith("__r") or const:
                pool.append(getattr(a, name)(c))
            else:
                pool.append(getattr(a, name)(pool[j % len(pool)]))
        out = pool[-1]
        out.backward()
        return out

    root = build()
    order = topological_order(root)
    src = draw_graph(root, legend=False).source
    assert src.count('class="value') == len(order)
    assert src.count("class=op") == sum(not v.is_leaf() for v in order)
    assert src.count("class=const") == sum(not isinstance(p, Value) for v in order for p in v.parents)
    edges = re.findall(r"^\s*(\w+) -> (\w+)", src, flags=re.M)
    assert len(edges) == sum(len(v.parents) + 1 for v in order if not v.is_leaf())
    assert draw_graph(build(), legend=False).source == src
