"""The step-through page on a projector: a real headless Chromium at a 1280×720 window,
measuring rendered boxes and text (issue 21, part 3), and the slide layout's edges."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_viz_slide import chain  # the same long chain the slide-layout picture tests use

from autograd_lite import Value, draw_graph, explain, render_backprop, render_graph
from autograd_lite.walkthrough import build_zal_graph

pytestmark = pytest.mark.needs_dot

MIN_TEXT_PX = 13




MEASURE = """
var svg = document.querySelector('#graph svg'), panel = document.getElementById('graph');
var scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
var sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * scale);
var boxes = {};
svg.querySelectorAll('g.node.value').forEach(g => {
  var r = g.querySelector('polygon, path').getBoundingClientRect();
  boxes[g.id] = [Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height)];
});
var counters = (document.body.innerText.match(/(step|frame) \\d+ of/g) || []).length;  // rendered text only
var cap = document.getElementById('step-text').getBoundingClientRect();
var p = panel.getBoundingClientRect();
var cur = document.querySelector('g.node.current'), curBox = cur ? cur.getBoundingClientRect() : null;
var centred = [...svg.querySelectorAll('g.node.value')].map(g => {
  var t = [...g.querySelectorAll('text')].find(x => x.textContent.startsWith('grad '));
  var s = g.querySelector('polygon, path').getBoundingClientRect(), r = t.getBoundingClientRect();
  return Math.abs((r.left + r.width / 2) - (s.left + s.width / 2));
});
return {innerW: innerWidth, innerH: innerHeight,
        docW: document.documentElement.scrollWidth, docH: document.documentElement.scrollHeight,
        panelScrollW: panel.scrollWidth, panelW: panel.clientWidth, minText: Math.min(...sizes),
        boxes: boxes, counters: counters, frameWord: /frame/i.test(document.body.innerText),
        capTop: cap.top, capBottom: cap.bottom, panel: [p.top, p.bottom, p.left, p.right],
        cur: curBox && [curBox.top, curBox.bottom, curBox.left, curBox.right],
        offCentre: Math.max(...centred),
        titles: [...svg.querySelectorAll('g.node.value > title')].map(t => t.textContent)};
"""


def zal_page(tmp_path, **kw) -> tuple[Path, int]:
    g = build_zal_graph()
    level = kw.get("level", "full")
    return Path(render_backprop(g.L, tmp_path / f"bp_{level}.html", **kw)), len(explain(g.L, level=level).steps)


@pytest.mark.parametrize("kw", [{}, {"names": "expression"}, {"level": "labels"}],
                         ids=["full", "full-expression-names", "labels"])
def test_page_fits_a_1280x720_window(browser, tmp_path, kw):
    path, n = zal_page(tmp_path, **kw)
    browser.get(path.as_uri())
    first = None
    for k in [0, 1, n // 2, n, n + 1]:
        browser.execute_script(f"window.backpropShow({k})")
        m = browser.execute_script(MEASURE)
        assert m["docW"] <= m["innerW"] and m["docH"] <= m["innerH"], "the page itself scrolls"
        assert m["panelScrollW"] <= m["panelW"], "the picture scrolls sideways"
        assert m["minText"] >= MIN_TEXT_PX - 0.01, f"graph text {m['minText']:.1f} px"
        assert 0 <= m["capTop"] and m["capBottom"] <= m["innerH"], "the caption is below the fold"
        assert m["counters"] == (1 if k <= n else 0) and m["frameWord"] is False  # one counter: "step k of n"
        assert m["offCentre"] < 2, "a grad line is not centred in its box"
        if first is None:
            first = m["boxes"]
        else:  # boxes keep their size and place from frame to frame (scrolling moves all alike)
            dx = {b: (m["boxes"][b][0] - first[b][0], m["boxes"][b][1] - first[b][1]) for b in first}
            assert len(set(dx.values())) == 1
            assert {b: v[2:] for b, v in m["boxes"].items()} == {b: v[2:] for b, v in first.items()}
        if 1 <= k <= n:  # the step being processed is in view
            top, bottom, left, right = m["cur"]
            ptop, pbottom, pleft, pright = m["panel"]
            assert ptop - 1 <= top and bottom <= pbottom + 1 and pleft - 1 <= left and right <= pright + 1


def test_label_level_page_shows_everything_at_once(browser, tmp_path):
    path, n = zal_page(tmp_path, level="labels")
    browser.get(path.as_uri())
    m = browser.execute_script(MEASURE)
    top, bottom, left, right = m["panel"]
    for b in m["boxes"].values():  # no scrolling needed: every box inside the panel
        assert left <= b[0] and b[0] + b[2] <= right + 1 and top <= b[1] and b[1] + b[3] <= bottom + 1


def test_tooltips_show_only_what_the_frame_knows(browser, tmp_path):
    path, n = zal_page(tmp_path)
    browser.get(path.as_uri())
    titles = browser.execute_script(MEASURE)["titles"]
    assert sum("grad ?" in t for t in titles) == len(titles) - 1  # only the seed is known
    assert "L: data 0.327, grad 1" in titles
    assert any(t.startswith("w1·x1: data 0.45,") for t in titles)  # not 0.44999999999999996
    browser.execute_script(f"window.backpropShow({n + 1})")
    titles = browser.execute_script(MEASURE)["titles"]
    assert "w1: data 0.3, grad -0.4183" in titles and not any("?" in t for t in titles)


def test_step_pictures_tooltips_are_rounded_and_know_only_the_frame():
    g = build_zal_graph()
    src = draw_graph(g.L, step=0).source
    assert 'tooltip="w1·x1: data 0.45, grad ?"' in src
    assert "0.44999999999999996" not in src
    assert 'tooltip="w1: data 0.3, grad -0.4183"' in draw_graph(g.L, step="end").source


def test_step_with_the_slide_layout_keeps_the_legend():
    g = build_zal_graph()
    src = draw_graph(g.L, step=3, layout="slide").source
    assert "legend:" in src and "after backward step 3 of 17" in src


# ---------------------------------------------------------------------------
# the slide layout: folded rows, no edge across the picture
# ---------------------------------------------------------------------------

EDGES = """
var svg = document.querySelector('svg'), W = svg.getBoundingClientRect().width, H = svg.getBoundingClientRect().height;
var paths = [...svg.querySelectorAll('g.edge path')].map(p => p.getBoundingClientRect());
return {W: W, H: H, widest: Math.max(...paths.map(r => r.width)), tallest: Math.max(...paths.map(r => r.height))};
"""


@pytest.mark.parametrize("make", [lambda: build_zal_graph().L, lambda: chain(12), lambda: chain(30)],
                         ids=["zal", "chain12", "chain30"])
def test_slide_layout_has_no_edge_across_half_the_picture(browser, tmp_path, make):
    path = render_graph(make(), tmp_path / "g.svg", layout="slide", names="expression")
    browser.get(path.as_uri())
    m = browser.execute_script(EDGES)
    assert m["W"] / m["H"] <= 2.0
    assert m["widest"] <= 0.5 * m["W"] and m["tallest"] <= 0.5 * m["H"], m
    if "cont" in path.read_text():  # folded: a value used in the next row is drawn again there
        assert 'class="node value' in path.read_text()


def test_folded_rows_repeat_the_value_instead_of_a_long_edge():
    src = draw_graph(build_zal_graph().L, layout="slide", names="expression").source
    assert "constraint=false" not in src
    assert "continued" in src and "_cont" in src


def test_mlp_neuron_level_page_has_no_sideways_scroll(browser, tmp_path):
    from autograd_lite import losses, nn

    m = nn.MLP(2, [4, 4, 1], seed=0)
    L = losses.binary_cross_entropy_with_logits(m([Value(0.5, label="x1"), Value(-1.0, label="x2")]), 1.0)
    L.label = "L"
    path = render_backprop(L, tmp_path / "mlp.html", level="labels", model=m)
    browser.get(Path(path).as_uri())
    for k in (0, 5, 20):
        browser.execute_script(f"window.backpropShow({k})")
        m_ = browser.execute_script(MEASURE)
        assert m_["docW"] <= m_["innerW"] and m_["docH"] <= m_["innerH"]
        assert m_["panelScrollW"] <= m_["panelW"] and m_["minText"] >= MIN_TEXT_PX - 0.01
        if k:
            top, bottom, left, right = m_["cur"]
            ptop, pbottom, pleft, pright = m_["panel"]
            assert ptop - 1 <= top and bottom <= pbottom + 1
