"""Pictures of backprop: draw_graph(step=k, edge_labels="local"), GIF and HTML frames
(the page driven in a real headless Chromium), the Jupyter widget."""

import builtins
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd_lite import Value, explain, render_backprop
from autograd_lite.viz import draw_graph
from autograd_lite.walkthrough import build_zal_graph

pytestmark = pytest.mark.needs_dot

SVG = "{http://www.w3.org/2000/svg}"


def svg_nodes(g):
    root = ET.fromstring(g.pipe(format="svg"))
    out = {}
    for el in root.iter(f"{SVG}g"):
        if "node" in (el.get("class") or "").split():
            text = " ".join(t.text for t in el.iter(f"{SVG}text") if t.text)
            out[el.get("id")] = (el.get("class").split(), text)
    return out


def edge_texts(g):
    root = ET.fromstring(g.pipe(format="svg"))
    return [" ".join(t.text for t in el.iter(f"{SVG}text") if t.text)
            for el in root.iter(f"{SVG}g") if "edge" in (el.get("class") or "").split()]


def test_step_pictures_show_the_state_after_each_step():
    g = build_zal_graph()
    ex = explain(g.L)
    index = {id(n): i for i, n in enumerate(__import__("autograd_lite").engine.topological_order(g.L))}
    n = len(ex.steps)
    start = svg_nodes(draw_graph(g.L, step=0))
    values = {k: v for k, v in start.items() if "value" in v[0]}
    assert sum("grad ?" in t for _, t in values.values()) == len(values) - 1  # only the root is known
    assert "grad 1" in values["v0"][1]
    for k in (1, 9, n):
        s = ex.steps[k]
        nodes = svg_nodes(draw_graph(g.L, step=k))
        current = [i for i, (cls, _) in nodes.items() if "current" in cls]
        receiving = [i for i, (cls, _) in nodes.items() if "receiving" in cls]
        assert current == [f"v{index[id(s.node)]}"]
        assert receiving == [f"v{index[id(s.input)]}"]
        unknown = sum("grad ?" in t for cls, t in nodes.values() if "value" in cls)
        known_after = len({id(x.input) for x in ex.steps if x.number <= k} | {id(g.L)})
        assert unknown == len(values) - known_after
    end = svg_nodes(draw_graph(g.L, step="end"))
    assert not any("current" in cls for cls, _ in end.values())
    assert not any("grad ?" in t or "…" in t for _, t in end.values())
    with pytest.raises(ValueError, match=f"step must be an int from 0 .* to {n + 1}"):
        draw_graph(g.L, step=n + 2)


def test_partial_sums_are_marked_until_the_last_contribution():
    x = Value(3.0, label="x")
    y = x * x + x
    y.label = "y"
    ex = explain(y)
    first = next(s.number for s in ex.steps if s.input is x)
    texts = [t for cls, t in svg_nodes(draw_graph(y, step=first)).values() if "leaf" in cls]
    assert any("grad 1 + …" in t for t in texts)


def test_edge_labels_local():
    g = build_zal_graph()
    labels = edge_texts(draw_graph(g.L, edge_labels="local"))
    assert "0.2011" in labels  # ∂a/∂z on the z → σ edge
    assert "1.5" in labels and "2nd: -1" in labels  # ∂(w1·x1)/∂w1 = x1; ∂(1 − a)/∂a (a is the 2nd operand)
    with pytest.raises(ValueError, match="edge_labels"):
        draw_graph(g.L, edge_labels="global")


def test_edge_labels_on_a_fused_linear_node_fused_and_expanded():
    import autograd_lite as al

    w0, w1, x0, b = (Value(v, label=n) for v, n in [(2.0, "w0"), (3.0, "w1"), (5.0, "x0"), (7.0, "b")])
    out = al.linear([w0, w1], [x0, 11.0], b)
    fused = edge_texts(draw_graph(out, edge_labels="local"))
    assert {"weight 0: 5", "input 0: 2", "weight 1: 11", "bias: 1"} <= set(fused)
    expanded = edge_texts(draw_graph(out, edge_labels="local", expand_linear=True))
    assert {"5", "2", "11", "1"} <= set(expanded)


def test_max_nodes_still_applies_to_step_pictures():
    x = Value(0.5)
    y = x
    for _ in range(30):
        y = y.tanh()
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(y, step=3, max_nodes=10)
    with pytest.raises(ValueError, match="max_nodes"):
        render_backprop(y, "/tmp/never_written.html", max_nodes=10)
    assert len(str(explain(y)).splitlines()) > 30  # the text ledger has no limit


def test_gif_has_one_frame_per_step_plus_start_and_end(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    g = build_zal_graph()
    path = render_backprop(g.L, tmp_path / "bp.gif", legend=False)
    with Image.open(path) as im:
        assert im.format == "GIF"
        assert im.n_frames == len(explain(g.L).steps) + 2
        assert im.width > 300 and im.height > 100


def block_import(monkeypatch, module: str) -> None:
    """Make ``import module`` (and its submodules) fail, as if it were not installed."""
    real = builtins.__import__

    def blocked(name, *a, **kw):
        if name == module or name.startswith(module + "."):
            raise ImportError(f"No module named {module!r}")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", blocked)


def test_gif_without_pillow_says_how_to_install(tmp_path, monkeypatch):
    block_import(monkeypatch, "PIL")
    with pytest.raises(ImportError, match=r"pip install 'autograd-lite\[gif\]'"):
        render_backprop(Value(1.0).exp(), tmp_path / "x.gif")


def test_render_backprop_bad_paths(tmp_path):
    v = Value(1.0).exp()
    with pytest.raises(ValueError, match=".gif or .html"):
        render_backprop(v, tmp_path / "x.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_backprop(v, tmp_path / "nope" / "x.html")


def test_html_is_self_contained_and_draws_the_graph_once(tmp_path):
    import json

    g = build_zal_graph()
    page = render_backprop(g.L, tmp_path / "bp.html").read_text(encoding="utf-8")
    n = len(explain(g.L).steps)
    assert page.count("<svg") == 1  # one picture; the script drives the steps
    data = json.loads(re.search(r'<script id="backprop-data" type="application/json">(.*?)</script>', page,
                                re.S).group(1))
    assert len(data["steps"]) == n and len(data["lines"]) == n + 2
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "<link" not in page and "@import" not in page
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_page_json_cannot_close_its_script(tmp_path):
    x = Value(2.0, label="</script><b>x")
    y = x * x
    y.label = "y"
    page = render_backprop(y, tmp_path / "bp.html").read_text(encoding="utf-8")
    script = re.search(r'<script id="backprop-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    assert "<" not in script


# ---------------------------------------------------------------------------
# the page in a real browser
# ---------------------------------------------------------------------------





def test_page_steps_with_buttons_and_arrow_keys(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    import autograd_lite as al

    g = build_zal_graph()
    ex = explain(g.L)
    index = {id(n): i for i, n in enumerate(al.engine.topological_order(g.L))}
    path = Path(render_backprop(g.L, tmp_path / "bp.html"))
    browser.get(path.as_uri())
    body = browser.find_element(By.TAG_NAME, "body")

    def step():
        return body.get_attribute("data-step")

    def marked(cls):
        return [el.get_attribute("id") for el in browser.find_elements(By.CSS_SELECTOR, f"g.node.{cls}")]

    text = browser.find_element(By.ID, "step-text")
    assert step() == "0" and text.text.startswith("start:")
    assert marked("current") == []
    nxt = browser.find_element(By.ID, "next")
    for k in range(1, 10):
        nxt.click()
        s = ex.steps[k]
        assert step() == str(k)
        assert f"v{index[id(s.node)]}" in marked("current")
        assert f"v{index[id(s.input)]}" in marked("receiving")
        assert text.text == ex.line(k)
    assert "∂a/∂z = a(1 − a) = 0.7211 × 0.2789 = 0.2011" in text.text  # step 9 is σ's
    browser.find_element(By.ID, "prev").click()
    assert step() == "8"
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)
    assert step() == "10"
    assert text.text == ex.line(10)
    body.send_keys(Keys.ARROW_LEFT)
    assert step() == "9"
    for _ in range(40):  # past the end: stays on the last frame
        nxt.click()
    assert step() == str(len(ex.steps) + 1)
    assert text.text.startswith("done:")
    assert marked("current") == [] and marked("receiving") == []
    assert "Play" in browser.find_element(By.ID, "play").text


# ---------------------------------------------------------------------------
# the Jupyter widget
# ---------------------------------------------------------------------------


def test_widget_steps_through_frames():
    pytest.importorskip("ipywidgets")
    g = build_zal_graph()
    ex = explain(g.L)
    w = ex.widget()
    assert w.slider.max == len(ex.steps) + 1
    assert "<svg" in w.picture.value and "start:" in w.caption.value
    w.slider.value = 9
    assert "0.2011" in w.caption.value and 'class="node value intermediate current"' in w.picture.value


def test_widget_without_ipywidgets_says_how_to_install(monkeypatch):
    block_import(monkeypatch, "ipywidgets")
    with pytest.raises(ImportError, match=r"pip install 'autograd-lite\[widgets\]'"):
        explain(Value(1.0).exp()).widget()


@pytest.mark.parametrize("level", ["full", "labels"])
def test_a_slide_frame_keeps_its_legend_under_the_ledger_line(level):
    """Explanation.frame (the GIF's and the widget's pictures) with layout="slide": the step's
    ledger line and the legend line are both drawn (the caption used to replace the legend)."""
    ex = explain(build_zal_graph().L, level=level)
    for k in (0, 2, len(ex.steps) + 1):
        svg = ex.frame(k, layout="slide").pipe(format="svg")
        texts = " ".join("".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text"))
        assert "legend:" in texts
        assert " ".join(ex.line(k).split())[:30] in " ".join(texts.split())
