"""The playground (issue 25): the site builder, and the page in headless Chromium
running the engine on Pyodide.  The site is built once per session; npm's
tarballs stay in the cache (~/.cache/autograd_lite/npm) between runs."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest

from autograd_lite import playground
from autograd_lite.explain import explain
from autograd_lite.expr import ExprError, evaluate, parse, parse_assignments
from autograd_lite.walkthrough import build_zal_graph

ROOT = Path(__file__).resolve().parent.parent


def _pythonpath() -> str:
    """This checkout on the path of a subprocess, after what is already there (tools/mutate.py's copy)."""
    return os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)


def cpython(expression: str, at: str):
    """What CPython computes for the page's inputs: (L, leaves, explanation)."""
    out, leaves = playground.evaluate(expression, parse_assignments(at.replace(",", " ").split()))
    out.backward()
    return out, leaves, explain(out)


def test_the_example_is_the_readmes_z_a_L_graph():
    """The page's first expression names z and a, and gives build_zal_graph's numbers to the bit."""
    out, leaves, ex = cpython(playground.EXAMPLE, playground.EXAMPLE_AT)
    g = build_zal_graph()
    assert out.label == "L" and out.data == g.L.data
    for name in ("w1", "x1", "w2", "x2", "b"):
        assert leaves[name].grad == getattr(g, name).grad
    names = {ex.names[id(n)] for n in ex._order}
    assert {"z", "a", "L"} <= names
    assert any("∂a/∂z = a(1 − a)" in ex.line(k) for k in range(len(ex.steps) + 2))


def test_statements_name_their_values_and_refuse_clearly():
    out, leaves = playground.evaluate("z = w*x\n a = sigmoid(z) ; 2*a", {"w": 1.0, "x": 2.0})
    assert out.label == "L" and out.parents[1].label == "a" and sorted(leaves) == ["w", "x"]
    for program, message in (("z = w*x; a = sigmoid(zz)", "in 'a = sigmoid(zz)': variable 'zz' has no value"),
                             ("z = w*x; z = 2*z", "'z' is given a value twice"),
                             ("w = 2*x", "'w' is given a value twice"),
                             ("exp = w*x", "'exp' is the name of a function or constant"),
                             (" ; ", "empty expression")):
        with pytest.raises(ExprError, match=message.replace("(", r"\(").replace(")", r"\)")):
            playground.evaluate(program, {"w": 1.0, "x": 2.0})


# ---------------------------------------------------------------------------
# the builder and the in-page calls, in CPython
# ---------------------------------------------------------------------------


def test_compute_gives_the_engines_numbers_and_the_ledger():
    r = json.loads(playground.compute(playground.EXAMPLE, playground.EXAMPLE_AT))
    out, leaves, ex = cpython(playground.EXAMPLE, playground.EXAMPLE_AT)
    assert r["value"] == repr(out.data) and r["root"] == "L"
    assert r["grads"] == [[name, repr(v.grad)] for name, v in leaves.items()]
    assert r["lines"] == [ex.line(k) for k in range(len(ex.steps) + 2)]
    assert "full" in r["levels"]
    assert playground.frame(9).startswith("digraph") and playground.frame(9) != playground.frame(10)


def test_compute_reports_a_bad_expression_with_the_parsers_message():
    for text, at in (("w*+", "w=1"), ("2x", "x=1"), ("open('x')", ""), ("w*x", "w=1"), ("w", "w=one")):
        r = json.loads(playground.compute(text, at))
        with pytest.raises(ExprError) as err:
            evaluate(parse(text), parse_assignments(at.split()))
        assert r == {"error": str(err.value)}


def test_wheel_holds_every_module_with_a_valid_record(tmp_path):
    ours, gv = playground.write_wheels(tmp_path)
    with zipfile.ZipFile(ours) as z:
        names = set(z.namelist())
        modules = {f"autograd_lite/{p.name}" for p in (ROOT / "autograd_lite").glob("*.py")}
        assert modules <= names and "autograd_lite/py.typed" in names
        assert not any(n.endswith(".csv") or "__pycache__" in n for n in names)
        record = z.read("autograd_lite-0.1.0.dist-info/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if digest:
                data = z.read(name)
                assert int(size) == len(data)
                assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
                    b"=").decode()
        assert len(record) == len(names)
    with zipfile.ZipFile(gv) as z:
        assert "graphviz/__init__.py" in z.namelist()
    # the same tree gives the same bytes
    again = playground.write_wheels(tmp_path / "again")[0]
    assert again.read_bytes() == ours.read_bytes()


def test_build_refuses_a_foreign_folder_and_says_what_npm_is_for(tmp_path, monkeypatch):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    with pytest.raises(playground.PlaygroundError, match="--force"):
        playground.build(foreign, cache=tmp_path / "cache", log=lambda *a: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(playground.PlaygroundError, match="needs npm once.*apt-get install npm"):
        playground.build(tmp_path / "site", cache=tmp_path / "empty-cache", log=lambda *a: None)
    proc = subprocess.run([sys.executable, "-m", "autograd_lite", "playground", str(foreign)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": _pythonpath()})
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "use --force" in proc.stderr
    assert (foreign / "notes.txt").read_text() == "keep"


# ---------------------------------------------------------------------------
# the site, served on 127.0.0.1
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    if shutil.which("npm") is None and not os.environ.get("CI"):
        pytest.skip("npm is not installed (in CI it must be)")
    dest = tmp_path_factory.mktemp("playground")
    proc = subprocess.run([sys.executable, "-m", "autograd_lite", "playground", str(dest)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": _pythonpath()}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout
    return dest


def test_site_is_complete_and_local(site):
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"index.html", "pyodide/pyodide.mjs", "pyodide/pyodide.asm.wasm", "pyodide/python_stdlib.zip",
            "viz/viz-global.js", "wheels/autograd_lite-0.1.0-py3-none-any.whl"} <= files
    page = (site / "index.html").read_text()
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere
    size = playground.site_size(site)
    assert 5e6 < size < 40e6
    print(f"\nplayground site: {size / 1e6:.1f} MB")


PYODIDE_DEEP_FREE = r"""
const site = process.argv[2];
const { loadPyodide } = await import(site + "/pyodide/pyodide.mjs");
const fs = await import("fs");
const py = await loadPyodide({ indexURL: site + "/pyodide/" });
for (const w of fs.readdirSync(site + "/wheels")) {
  py.unpackArchive(new Uint8Array(fs.readFileSync(site + "/wheels/" + w)), "wheel");
}
console.log(py.runPython(`
from autograd_lite import Value, engine
x = Value(1.0)
for _ in range(100_000):
    x = x * 1.0000001 + 0.0
x.backward()
del x
str(len(engine._parked))
`));
"""


@pytest.mark.slow
def test_pyodide_frees_a_deep_chain(site, tmp_path):
    """Pyodide's stack overflowed freeing a chain of ~5,000 nodes: a chain of 200,000
    is built, backpropagated and freed there (the wheel the page installs)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = tmp_path / "deep.mjs"
    script.write_text(PYODIDE_DEEP_FREE)
    proc = subprocess.run([node, str(script), str(site)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "0"


@pytest.fixture(scope="module")
def served(site):
    httpd = playground.server(site, 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()




def _by_id(browser, name):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, name)


def _open(browser, url: str, timeout: float = 180) -> float:
    """Load the page and wait until Python runs in it; the seconds it took."""
    start = time.perf_counter()
    browser.get(url)
    while time.perf_counter() - start < timeout:
        state = _by_id(browser, "status").get_attribute("data-state")
        if browser.find_element("tag name", "body").get_attribute("data-python") == "ready" and state != "loading":
            return time.perf_counter() - start
        assert not _by_id(browser, "status").text.startswith("could not start"), _by_id(browser, "status").text
        time.sleep(0.1)
    raise AssertionError(f"the page did not get ready in {timeout} s: {_by_id(browser, 'status').text}")


def _grads(browser) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return [[r.get_attribute("data-name"), r.get_attribute("data-grad")]
            for r in browser.find_elements(By.CSS_SELECTOR, "#grads tbody tr")]


def _drawn(browser, step: str, timeout: float = 60) -> str:
    """Wait until the picture of ``step`` is in the page (viz-js draws in a worker); its state."""
    graph = _by_id(browser, "graph")
    start = time.perf_counter()
    while graph.get_attribute("data-step") != step:
        assert time.perf_counter() - start < timeout, f"step {step} was not drawn in {timeout} s"
        time.sleep(0.05)
    return graph.get_attribute("data-state")


def _params(browser) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlparse

    return dict(parse_qsl(urlparse(browser.current_url).query))


def test_page_opens_on_the_example_with_cpythons_gradients_and_steps(browser, served):
    from selenium.webdriver.common.by import By

    seconds = _open(browser, served)
    assert _by_id(browser, "status").get_attribute("data-state") == "ready"
    assert _by_id(browser, "expr").get_attribute("value") == playground.EXAMPLE
    assert _by_id(browser, "at").get_attribute("value") == playground.EXAMPLE_AT
    assert _by_id(browser, "backward").text == "Backward"
    out, leaves, ex = cpython(playground.EXAMPLE, playground.EXAMPLE_AT)
    assert _grads(browser) == [[name, repr(v.grad)] for name, v in leaves.items()]  # to the last bit
    assert _by_id(browser, "value").text.endswith(repr(out.data))
    n = len(ex.steps)
    text, nxt, prev = _by_id(browser, "step-text"), _by_id(browser, "next"), _by_id(browser, "prev")
    assert text.text == ex.line(0) and prev.get_attribute("disabled")
    ledger = browser.find_elements(By.CSS_SELECTOR, "#ledger li")
    assert [li.text for li in ledger] == [ex.line(k) for k in range(n + 2)]

    def graph():
        _drawn(browser, _by_id(browser, "counter").get_attribute("data-step"))
        svg = browser.find_element(By.CSS_SELECTOR, "#graph svg")
        box = svg.rect
        assert box["width"] > 300 and box["height"] > 100  # drawn, at a readable size
        return svg.get_attribute("outerHTML")

    pictures = [graph()]
    for k in range(1, 10):
        nxt.click()
        assert text.text == ex.line(k)
        assert _by_id(browser, "counter").get_attribute("data-step") == str(k)
        assert browser.find_element(By.CSS_SELECTOR, "#ledger li.current").text == ex.line(k)
        pictures.append(graph())
    assert len(set(pictures)) == len(pictures)  # every step changes the picture
    assert any("∂a/∂z = a(1 − a) = 0.7211 × 0.2789 = 0.2011" in li.text for li in ledger)
    prev.click()
    assert text.text == ex.line(8) and _params(browser)["step"] == "8"
    for _ in range(n + 5):
        nxt.click() if nxt.is_enabled() else None
    assert text.text == ex.line(n + 1) and text.text.startswith("done:")
    timing = _by_id(browser, "timing")
    print(f"\nplayground: ready in {seconds:.1f} s; {timing.text}")


def test_a_link_restores_expression_values_and_step(browser, served):
    expression, at = "tanh(w*x) + w", "w=0.5 x=2"
    url = served + "?" + urlencode({"expr": expression, "at": at, "step": "3", "level": "full"})
    _open(browser, url)
    assert _by_id(browser, "expr").get_attribute("value") == expression
    assert _by_id(browser, "at").get_attribute("value") == at
    out, leaves, ex = cpython(expression, at)
    assert _grads(browser) == [[name, repr(v.grad)] for name, v in leaves.items()]
    assert _by_id(browser, "step-text").text == ex.line(3)
    assert _by_id(browser, "counter").get_attribute("data-step") == "3"
    assert _drawn(browser, "3") == "drawn"


def test_the_label_level_steps_through_its_own_ledger(browser, served):
    """level=labels: the ledger, the counter and the picture of step k are the label level's
    (C6 on the example, plus dL/dy as y is a variable here: eight steps), not step k of the full
    graph's ledger."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from autograd_lite.explain import explain

    _open(browser, served + "?" + urlencode({"expr": playground.EXAMPLE, "at": playground.EXAMPLE_AT,
                                             "step": "3", "level": "labels"}))
    out, _, ex = cpython(playground.EXAMPLE, playground.EXAMPLE_AT)
    lx = explain(out, level="labels")
    assert len(lx.steps) == 8 and len(lx.steps) < len(ex.steps)
    assert [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#ledger li")] == [
        lx.line(k) for k in range(len(lx.steps) + 2)]
    assert _by_id(browser, "step-text").text == lx.line(3)
    assert _by_id(browser, "counter").text == f"step 3 of {len(lx.steps) + 1}"
    assert _drawn(browser, "3") == "drawn"
    for _ in range(12):
        _by_id(browser, "next").click()
    assert _by_id(browser, "step-text").text == lx.line(len(lx.steps) + 1)  # stops at the label level's end
    Select(_by_id(browser, "level")).select_by_value("full")
    assert [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#ledger li")] == [
        ex.line(k) for k in range(len(ex.steps) + 2)]
    assert _params(browser)["level"] == "full"
    assert [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#grads td:first-child")][0].startswith("dL/d")


def test_a_graph_graphviz_cannot_lay_out_quickly_is_not_drawn_and_the_page_says_so(browser, served):
    """A chain reading w and x at every node: Graphviz takes minutes over its layout.
    The page stays usable: after a few seconds it says the graph was not drawn, and
    the gradients and the ledger are there."""
    program = "; ".join(["h0 = tanh(w*x)"] + [f"h{i} = tanh(w*h{i - 1} + x)" for i in range(1, 40)])
    _open(browser, served + "?" + urlencode({"expr": program, "at": "w=0.5 x=0.1"}))
    out, leaves, ex = cpython(program, "w=0.5 x=0.1")
    assert _grads(browser) == [[name, repr(v.grad)] for name, v in leaves.items()]
    start = time.perf_counter()
    assert _drawn(browser, "0") == "not drawn"
    assert time.perf_counter() - start < 30
    assert _by_id(browser, "graph").text.startswith("the graph was not drawn: Graphviz took over")
    _by_id(browser, "next").click()  # stepping still works
    assert _by_id(browser, "step-text").text == ex.line(1)


def test_new_expression_bad_expression_and_no_network(browser, served):
    """After load the page needs no network: new expressions, steps and a bad one."""
    _open(browser, served)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                                "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        expr_box, at_box, backward = _by_id(browser, "expr"), _by_id(browser, "at"), _by_id(browser, "backward")
        expr_box.clear()
        expr_box.send_keys("w*x + b")
        at_box.clear()
        at_box.send_keys("w=2, x=-1.5, b=0.25")
        backward.click()
        out, leaves, ex = cpython("w*x + b", "w=2 x=-1.5 b=0.25")
        assert _grads(browser) == [["w", "-1.5"], ["x", "2.0"], ["b", "1.0"]]
        assert _params(browser)["expr"] == "w*x + b" and _params(browser)["step"] == "0"
        _by_id(browser, "next").click()
        assert _by_id(browser, "step-text").text == ex.line(1)
        assert _drawn(browser, "1") == "drawn"

        expr_box.clear()
        expr_box.send_keys("w*(x + 1")
        backward.click()
        with pytest.raises(ExprError) as err:
            parse("w*(x + 1")
        error = _by_id(browser, "error")
        assert error.is_displayed() and error.text == str(err.value)
        assert _by_id(browser, "status").get_attribute("data-state") == "error"
        assert not _by_id(browser, "result").is_displayed()
        expr_box.clear()
        expr_box.send_keys("w*x")
        backward.click()  # and back
        assert _by_id(browser, "error").text == "" and _grads(browser) == [["w", "-1.5"], ["x", "2.0"]]
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                                    "downloadThroughput": -1,
                                                                    "uploadThroughput": -1})
    fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and all(u.startswith(served) for u in fetched), fetched
