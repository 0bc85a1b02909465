"""Issue 20: hostile labels.  Control characters, lone surrogates and very long
labels reach Graphviz escaped (or are refused with a clear error), and a label
such as ``<!--<script>`` leaves the step-through page's controls working in a
real browser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

from autograd_lite import viz
from autograd_lite.engine import Value
from autograd_lite.explain import explain, render_backprop

HOSTILE = {"nul": "a\x00b", "controls": "a\x01b\x1b[31m\x7f", "surrogate": "\ud800x", "tab/newline": "a\tb\nc",
           "script": "<!--<script>", "close script": "</script><script>window.hacked = 1</script>",
           "markup": "<B>&amp;</B>", "braces": '"quoted" {x} [y]', "backslashes": "a\\nb\\"}
SHOWN = {"nul": "a\u2400b", "controls": "a\u2401b\u241b[31m\u2421", "surrogate": "\ufffdx"}


def _graph(label: str) -> Value:
    x = Value(0.5, label)
    return (x * 2.0).tanh()


def _texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.needs_dot
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_labels_are_drawn(kind, tmp_path):
    label = HOSTILE[kind]
    path = viz.render_graph(_graph(label), tmp_path / "g.svg")
    svg = path.read_bytes()
    texts = _texts(svg)
    if kind in SHOWN:
        assert SHOWN[kind] in texts  # escaped where it would break Graphviz, and visible
    elif "\n" not in label and "\\" not in label:
        assert label in texts  # drawn as written (markup is text, not markup)
    dot = viz.render_graph(_graph(label), tmp_path / "g.dot")
    dot.read_text(encoding="utf-8")  # the source is valid UTF-8 too


@pytest.mark.needs_dot
@pytest.mark.parametrize("kind", ["nul", "controls", "surrogate"])
def test_hostile_labels_are_drawn_at_the_label_level_too(kind, tmp_path):
    """The label-level picture goes through the same safe texts as the full one."""
    path = viz.render_graph(_graph(HOSTILE[kind]), tmp_path / "g.svg", level="labels")
    assert SHOWN[kind] in _texts(path.read_bytes())


@pytest.mark.needs_dot
def test_a_label_too_long_for_graphviz_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match=r"is 20,\d+ characters long .*at most 16,384: give the node a shorter"):
        viz.render_graph(_graph("x" * 20_000), tmp_path / "g.svg")
    with pytest.raises(ValueError, match="shorter label"):
        render_backprop(_graph("y" * 17_000), tmp_path / "p.html")
    assert not (tmp_path / "g.svg").exists() and not (tmp_path / "p.html").exists()
    viz.render_graph(_graph("z" * 5_000), tmp_path / "ok.svg")  # a long label that fits is drawn


@pytest.mark.needs_dot
def test_a_failing_dot_is_one_clear_error(monkeypatch, tmp_path):
    def fail(self, *a, **kw):
        raise graphviz.CalledProcessError(1, ["dot"], stderr=b"Error: something broke\nmore\n")

    monkeypatch.setattr(graphviz.Digraph, "pipe", fail)
    with pytest.raises(RuntimeError, match=r"^Graphviz could not draw the graph \(Error: something broke\)$"):
        viz.render_graph(_graph("x"), tmp_path / "g.svg")


# ---------------------------------------------------------------------------
# the step-through page in Chromium





@pytest.mark.needs_dot
@pytest.mark.parametrize("kind", ["script", "close script", "surrogate", "nul"])
def test_the_page_keeps_working_with_a_hostile_label(browser, tmp_path, kind):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    label = HOSTILE[kind]
    root = _graph(label)
    ex = explain(root)
    path = Path(render_backprop(root, tmp_path / "bp.html", explanation=ex))
    browser.get(path.as_uri())
    assert browser.execute_script("return window.hacked") is None  # no script of the label ran

    body = browser.find_element(By.TAG_NAME, "body")

    def shown() -> str:
        return body.get_attribute("data-step")

    text = browser.find_element(By.ID, "step-text")
    counter = browser.find_element(By.ID, "counter")
    assert shown() == "0" and counter.text == f"start (step 0 of {len(ex.steps)})"
    expected = [ex.line(k).replace("\ud800", "\ufffd") for k in range(len(ex.steps) + 2)]
    assert text.text == expected[0].strip()
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "next").click()
    assert shown() == "2" and text.text == expected[2].strip()
    assert any(label.replace("\ud800", "\ufffd") in line for line in expected)  # the ledger names the node
    browser.find_element(By.ID, "prev").click()
    assert shown() == "1"
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert shown() == "2"
    browser.find_element(By.ID, "play").click()
    assert "Pause" in browser.find_element(By.ID, "play").text
    browser.find_element(By.ID, "play").click()
    assert "Play" in browser.find_element(By.ID, "play").text


# ---------------------------------------------------------------------------
# explain() on a huge graph: refused at once, with the option to go on


def _chain(n: int) -> Value:
    y = Value(0.5, "x")
    for i in range(n - 1):
        y = y * 1.0000001 if i % 2 else y.tanh()
    return y


def test_explain_refuses_a_million_node_chain_at_once():
    import importlib
    import time

    E = importlib.import_module("autograd_lite.explain")  # the module (the package's `explain` is the function)

    y = _chain(1_000_000)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"more than max_nodes=10,000 Value nodes.*max_nodes=None"):
        explain(y)
    assert time.perf_counter() - start < 5  # it counts 10,001 nodes, not a million (was 174 s and 5.5 GB)
    assert E.MAX_NODES == 10_000


def test_max_nodes_counts_values_exactly():
    y = _chain(50)
    assert len(explain(y, max_nodes=50).forward) == 50
    with pytest.raises(ValueError, match="more than max_nodes=49 "):
        explain(y, max_nodes=49)
    assert len(explain(_chain(12_000), max_nodes=None).forward) == 12_000
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match="max_nodes must be a positive int"):
            explain(y, max_nodes=bad)


def test_a_wide_node_with_repeated_inputs_is_explained_in_linear_time():
    from autograd_lite.engine import linear

    w, x = Value(2.0, "w"), Value(3.0, "x")
    k = 5_000
    y = linear([w] * k, [x] * k, Value(0.0, "b"))  # one node, 2k inputs, two distinct
    ex = explain(y)
    assert len(ex.steps) == 2 * k + 1 and "(input 1)" in ex.steps[1].local_text
    assert ex.grad(w) == 3.0 * k and ex.grad(x) == 2.0 * k
