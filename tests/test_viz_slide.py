"""Graphs a teacher puts on a slide: aspect ratio and text size of the rendered picture,
numbers that read like numbers, names from the expression, edge labels that are not
variables, and model clusters in the model's order."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import pytest

from autograd_lite import Value, draw_graph, linear, render_graph
from autograd_lite.engine import topological_order
from autograd_lite.nn import MLP
from autograd_lite.viz import SLIDE_ASPECT
from autograd_lite.walkthrough import build_zal_graph

ROOT = Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz dot program")
SHOWN_WIDTH = 1920  # px: the picture shown full width on a 1080p slide
MIN_TEXT_PX = 14


def svg_geometry(svg: str) -> tuple[float, float, float]:
    """(width, height, smallest font size), in the SVG's points."""
    w, h = (float(v) for v in re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    sizes = [float(v) for v in re.findall(r'font-size="([\d.]+)"', svg)]
    assert sizes, "no text in the SVG"
    return w, h, min(sizes)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def assert_fits_a_slide(svg: str, max_aspect: float = 2.0) -> None:
    w, h, smallest = svg_geometry(svg)
    assert w / h <= max_aspect, f"{w:.0f} × {h:.0f} pt is {w / h:.2f}:1, wider than {max_aspect}:1"
    px = smallest * SHOWN_WIDTH / w
    assert px >= MIN_TEXT_PX, f"smallest text {smallest} pt is {px:.1f} px when shown {SHOWN_WIDTH} px wide"


def chain(n: int) -> Value:
    x = Value(0.5, label="x")
    y = x
    for k in range(n):
        y = (y * 0.9 + 0.1).tanh() if k % 2 else (y - 0.2).sigmoid()
    y.label = "y"
    y.backward()
    return y


@needs_dot
def test_zal_graph_fits_a_slide(tmp_path):
    g = build_zal_graph()
    svg = render_graph(g.L, tmp_path / "g.svg", layout="slide", names="expression").read_text()
    assert_fits_a_slide(svg, max_aspect=SLIDE_ASPECT)
    assert 'font-family="Helvetica,Arial,sans-serif"' in svg
    assert "legend:" in svg  # the legend is a line under the graph
    png = render_graph(g.L, tmp_path / "g.png", layout="slide")
    w, h = png_size(png)
    assert w / h <= SLIDE_ASPECT
    shaded = draw_graph(g.L, layout="slide", color_by="grad").source  # the |grad| scale joins the legend line
    assert "|grad| " in shaded and ">grad 0<" in shaded  # 1 − a has grad 0 when y = 1
    # the same graph drawn wide is the 5:1 strip this layout exists to avoid
    w, h, _ = svg_geometry(render_graph(g.L, tmp_path / "wide.svg").read_text())
    assert w / h > 3


@needs_dot
@pytest.mark.parametrize("n", [3, 12, 30])
def test_long_chains_are_wrapped_into_rows(n, tmp_path):
    svg = render_graph(chain(n), tmp_path / "c.svg", layout="slide").read_text()
    w, h, _ = svg_geometry(svg)
    assert w / h <= SLIDE_ASPECT + 1e-9
    if n >= 12:
        assert svg.count('class="cluster row"') >= 2
        # rows read top to bottom in the order of the computation (like lines of text)
        g = draw_graph(chain(n), layout="slide")
        plain = g.pipe(format="plain").decode()
        y = {p[1]: float(p[3]) for p in (line.split() for line in plain.splitlines()) if p[0] == "node"}
        rows: dict[int, list[str]] = {}
        current = None
        for line in g.source.splitlines():
            m = re.match(r"\s*subgraph cluster_row(\d+)", line)
            if m:
                current = int(m.group(1))
            m = re.match(r"\s*(v\w+) \[", line)
            if m and current is not None:
                rows.setdefault(current, []).append(m.group(1))
        heights = [sum(y[v] for v in rows[r]) / len(rows[r]) for r in sorted(rows)]
        assert heights == sorted(heights, reverse=True), heights  # plain's y grows upwards
        assert "v0" in rows[max(rows)]  # the root ends the last row


@needs_dot
def test_slide_layout_with_a_model_keeps_clusters_whole(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    loss.backward()
    g = draw_graph(loss, model=model, layout="slide")
    svg = g.pipe(format="svg").decode()
    w, h, _ = svg_geometry(svg)
    assert w / h <= 2.0
    assert svg.count('class="cluster module"') == 6  # 2 layers, 4 neurons: each drawn once


@needs_dot
def test_readme_picture_is_the_slide_layout():
    svg = (ROOT / "docs" / "z_a_L.svg").read_text()
    assert_fits_a_slide(svg, max_aspect=SLIDE_ASPECT)
    for name in ("log a", "1 − a", "log(1 − a)", "y·log a"):
        assert f">{name}<" in svg, name
    w, h = png_size(ROOT / "docs" / "z_a_L.png")
    assert w / h <= SLIDE_ASPECT and w >= 1200


def test_bad_layout_and_names_are_rejected():
    y = Value(1.0) * 2
    with pytest.raises(ValueError, match="layout"):
        draw_graph(y, layout="poster")
    with pytest.raises(ValueError, match="names"):
        draw_graph(y, names="math")
    with pytest.raises(ValueError, match="rankdir='LR'"):
        draw_graph(y, layout="slide", rankdir="TB")


# --------------------------------------------------------------------------
# numbers, names, edge labels
# --------------------------------------------------------------------------


def label_texts(g) -> list[str]:
    return [re.sub(r"<[^>]+>", " ", m) for m in re.findall(r"label=<(<TABLE.*?</TABLE>)>", g.source)]


def test_no_negative_zero_and_one_digit_rule():
    x = Value(-0.0, label="x")
    y = (x * 3.0 - 0.0) * -1.0  # data −0.0 and grad −3 …
    y.backward()
    assert x.data == 0 and str(x.data) == "-0.0"
    texts = " ".join(label_texts(draw_graph(y)))
    assert not re.search(r"(?<![\w.])-0(?![.\d])", texts), texts
    tiny = Value(-1.23456e-5, label="t")
    (tiny * 1e12).backward()
    text = " ".join(label_texts(draw_graph(tiny * 1.0)))
    assert "data -1.235e-5" in text  # 4 significant digits, exponent without padding


def test_names_from_the_expression():
    a = Value(0.7, label="a")
    y = 1.0
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.backward()
    plain = " ".join(label_texts(draw_graph(L, names="labels")))
    assert "log a" not in plain and " v1 " in plain  # names="labels": labels, else v1, v2, …
    assert " log a " in " ".join(label_texts(draw_graph(L)))  # the default: short expressions too
    text = " ".join(label_texts(draw_graph(L, names="expression")))
    for name in ("log a", "1 − a", "log(1 − a)", "1·log a", "0·log(1 − a)"):
        assert f" {name} " in text, (name, text)
    # precedence: parentheses only where needed
    b, c = Value(2.0, label="b"), Value(3.0, label="c")
    e = (b - (c - b)) / (b * c) + (b + c).exp() ** 2.0
    names = " ".join(label_texts(draw_graph(e, names="expression")))
    assert " b − (c − b) " in names and " b·c " in names and " exp(b + c) " in names
    assert " (b − (c − b)) / (b·c) " in names and " exp(b + c)^2 " in names
    # an unnamed leaf (v1) leaves what it feeds without an expression name: it is the root, L
    anon = (Value(1.0) + b) * c
    assert "+" not in " ".join(label_texts(draw_graph(anon, names="expression")))
    assert " v1 " in " ".join(label_texts(draw_graph(anon, names="expression")))


VARIABLE_LIKE = re.compile(r"^[a-zA-Z]\d*$")


def edge_labels(g) -> list[str]:
    return [m.strip('"') for m in re.findall(r'-> \w+ \[label=("[^"]*"|\S+)', g.source)]


def test_edge_labels_never_look_like_variables():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    exprs = [1 - a, a - b, a / b, 2.0 / a, a ** b, a ** 2.0, 2.0 ** a, a * b + a, (a - b).exp()]
    for e in exprs:
        e.backward()
        labels = edge_labels(draw_graph(e))
        assert labels or e.op.name == "add", e  # only where the order matters
        assert not any(VARIABLE_LIKE.match(t) for t in labels), labels
    # the edge from a into 1 − a is not "y" (which reads as the target y)
    g = build_zal_graph()
    assert "y" not in edge_labels(draw_graph(g.L))
    assert set(edge_labels(draw_graph(a / b))) == {"numerator", "denominator"}
    assert set(edge_labels(draw_graph(a ** b))) == {"base", "exponent"}
    assert edge_labels(draw_graph(a + b)) == [] and edge_labels(draw_graph(a * b)) == []


def test_fused_linear_edges_agree_with_the_inputs_labels():
    # the course numbers from 1: x1 enters by "input 1", never by an edge numbered 0
    xs = [Value(1.5, label="x1"), Value(-0.5, label="x2")]
    ws = [Value(0.3, label="w1"), Value(-0.8, label="w2")]
    z = linear(ws, xs, Value(0.1, label="b"))
    src = draw_graph(z).source
    for k in range(1, len(ws) + 1):
        assert re.search(rf'v\d+ -> v0_op \[label="weight {k}"', src)
        assert re.search(rf'v\d+ -> v0_op \[label="input {k}"', src)
    # labels that fit neither numbering: the role alone, never a contradicting number
    odd = linear([Value(1.0, label="w7")], [Value(2.0, label="x9")], Value(0.0, label="b"))
    assert sorted(edge_labels(draw_graph(odd))) == ["bias", "input", "weight"]


# --------------------------------------------------------------------------
# model clusters in the model's order
# --------------------------------------------------------------------------


def neuron_rows(g, model, loss) -> dict[int, list[int]]:
    """For each layer, its neurons sorted top to bottom by where dot put their bias box."""
    index = {id(v): i for i, v in enumerate(topological_order(loss))}
    plain = g.pipe(format="plain").decode()
    y = {p[1]: float(p[3]) for p in (line.split() for line in plain.splitlines()) if p[0] == "node"}
    return {li: sorted(range(len(layer.neurons)), key=lambda k, layer=layer: -y[f"v{index[id(layer.neurons[k].b)]}"])
            for li, layer in enumerate(model.layers)}


@needs_dot
@pytest.mark.parametrize("sizes", [[3, 1], [4, 1], [3, 2, 1], [5, 3, 1]])
@pytest.mark.parametrize("fused", [True, False])
def test_model_clusters_in_model_order(sizes, fused):
    model = MLP(2, sizes, seed=1, fused=fused)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    g = draw_graph(loss, model=model, legend=False)
    rows = neuron_rows(g, model, loss)
    for li, order in rows.items():
        assert order == sorted(order), (li, order)  # neuron 0 on top, then 1, 2 …
    clusters = re.findall(r'id="module_(layers\.\d+\.neurons\.\d+)"', g.source)
    assert clusters == sorted(clusters, key=lambda s: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)])
