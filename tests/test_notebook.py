"""examples/course.ipynb runs headlessly like the README, and the Jupyter niceties:
rich displays (HTML/Markdown tables, inline figures), progress bars without warnings."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from autograd_lite import Value, derivative_table, gradcheck
from autograd_lite.train import History

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "course.ipynb"


# --------------------------------------------------------------------------
# rich display, no kernel needed
# --------------------------------------------------------------------------


def test_derivative_table_is_a_str_that_renders_as_a_table():
    t = derivative_table()
    assert isinstance(t, str) and t.startswith("| op | symbol | derivative |")
    assert t == str(t) and repr(t) == repr(str(t))  # existing users see the same text
    assert t._repr_markdown_() == t
    html = t._repr_html_()
    assert html.count("<tr>") == len(t.splitlines()) - 1  # header + one row per op, no rule row
    assert "<td>|x|&#x27; = sign(x)</td>" in html  # the escaped \| of abs comes back as |


def test_gradcheck_report_is_an_html_table():
    good = gradcheck(lambda w, x: (w * x).sigmoid(), [0.5, -2.0], names=["w", "x"])
    html = good._repr_html_()
    assert html.startswith("<table>") and "passed" in html and html.count("<tr>") == 3
    bad = gradcheck(lambda x: Value(x.data * 3.0) + x, [1.0])  # cuts the graph: autodiff says 1, truth is 4
    assert not bad and "FAILED" in bad._repr_html_() and "color:#b00020" in bad._repr_html_()


def test_history_shows_a_table_and_its_curve_and_a_short_repr():
    h = History(cost=[0.7 - 0.01 * k for k in range(40)], accuracy=[0.5 + 0.01 * k for k in range(40)])
    html = h._repr_html_()
    assert "<svg" in html and "<polyline" in html  # the cost curve
    assert html.count("<tr>") == 1 + 10 + 1  # header, first 5 and last 5 epochs, one "…" row
    assert "<td>40</td>" in html
    assert repr(h) == "History(epochs=40, cost 0.7 → 0.31, accuracy 0.890)"
    assert len(repr(History())) < 40 and "no epochs" in History()._repr_html_()


def test_value_repr_stays_short():
    x = Value(1.0, label="a long label for a value")
    y = x
    for _ in range(200):
        y = y * 1.0001 + 0.5
    y.backward()
    assert len(repr(y)) < 60 and len(repr(x)) < 60


def test_progress_bar_in_a_notebook(monkeypatch, capsys):
    """Inside a kernel, fit shows tqdm's widget (ipywidgets installed) or a text bar on
    stdout (without it), by default and without any warning."""
    import warnings

    from autograd_lite import nn, optim, train

    class Shell:
        config = {"IPKernelApp": {}}

    class FakeIPython:
        @staticmethod
        def get_ipython():
            return Shell()

    monkeypatch.setitem(sys.modules, "IPython", FakeIPython)
    assert train._in_notebook()
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # no widgets: the text bar
    model = nn.LogisticRegression(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train.fit(model, [[0.0], [1.0]], [0, 1], optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=3)
    out, err = capsys.readouterr()
    assert "fit: 100%" in out and "3/3" in out and err == ""
    monkeypatch.delitem(sys.modules, "IPython")
    assert not train._in_notebook()


# --------------------------------------------------------------------------
# the course notebook, executed by a real kernel
# --------------------------------------------------------------------------


def test_course_notebook_runs_clean(monkeypatch, tmp_path):
    # an empty user data dir: a python3 kernelspec of some other interpreter there would shadow ours
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "ship it without outputs"
    # which autograd_lite does the kernel import? (it must be this checkout's)
    nb.cells.append(nbformat.v4.new_code_cell("import autograd_lite, sys; print(autograd_lite.__file__); "
                                              "print(sys.executable)"))
    start = time.perf_counter()
    # "python3" with jupyter_client resolves to this interpreter (sys.executable), i.e. the venv's
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "examples")}})
    client.execute()
    seconds = time.perf_counter() - start
    assert seconds < 60, f"the notebook took {seconds:.0f} s"
    code = [c for c in nb.cells if c.cell_type == "code"]
    for c in code:
        for o in c.outputs:
            assert o.output_type != "error", f"{c.source[:60]!r}: {o.get('ename')}: {o.get('evalue')}"
            assert not (o.output_type == "stream" and o.name == "stderr"), f"{c.source[:60]!r}: {o.text[:300]}"
    lines = code[-1].outputs[0].text.split("\n")
    assert Path(lines[0]).resolve() == (ROOT / "autograd_lite" / "__init__.py").resolve()
    assert Path(lines[1]).resolve() == Path(sys.executable).resolve()

    def outputs(snippet: str) -> list[set[str]]:
        cell = next(c for c in code if snippet in c.source)
        return [set(o.get("data", {})) for o in cell.outputs]

    assert any("image/svg+xml" in kinds for kinds in outputs("draw_graph(L"))  # the graph, as SVG
    assert any("text/markdown" in kinds for kinds in outputs("derivative_table()"))
    assert any("text/html" in kinds for kinds in outputs("gradcheck(loss"))
    # the progress bar widget, then the history as a table
    trained = outputs("history = train.fit")
    assert any("application/vnd.jupyter.widget-view+json" in kinds for kinds in trained)
    assert any("text/html" in kinds for kinds in trained)
    for snippet in ("plot_training_curve(history", "plot_decision_boundaries", "plot_sigmoid(ax=right)"):
        assert any("image/png" in kinds for kinds in outputs(snippet)), snippet  # inline, no %matplotlib
