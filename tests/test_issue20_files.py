"""Issue 20, items 8, 11-15 and the crashes around files and the command line:
analytic_check's nan rows, duplicate CSV columns, one rule for p = 0.5, CSV
injection in predictions, figure text from the figure's constant, bce on a
non-probability, hostile model/data files, ``explain "-x"``, a huge --hidden,
and model classes found by qualified name."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograd_lite import data, nn, train
from autograd_lite.engine import Value

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin:/usr/local/bin", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "autograd_lite", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


# ---------------------------------------------------------------------------
# 8. analytic_check: a nan row is not ok


def test_analytic_check_calls_a_nan_row_not_ok():
    pytest.importorskip("sympy")
    from autograd_lite.symbolic import analytic_check

    x, y = Value(-2.0, "x"), Value(3.0, "y")
    report = analytic_check(x ** y)
    rows = {r.input: r for r in report.rows}
    assert rows["x"].ok and rows["x"].analytic == 12.0
    assert math.isnan(rows["y"].analytic) and math.isnan(rows["y"].autodiff)  # log(−2): no number to agree on
    assert not rows["y"].ok and not report
    assert "NO (nan)" in str(report)
    assert analytic_check(Value(2.0, "x") ** Value(3.0, "y"))  # a finite row still agrees


# ---------------------------------------------------------------------------
# 11. duplicate CSV column names


def test_duplicate_column_names_are_refused(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("f,f,label\n1,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match=r"'f' appears twice \(columns 1 and 2\)"):
        data.read_csv_table(p)
    with pytest.raises(ValueError, match="appears twice"):
        data.load_csv(p)
    q = tmp_path / "blank.csv"
    q.write_text(" ,,label\n1,2,0\n")
    with pytest.raises(ValueError, match="columns 1 and 2 have no name"):
        data.read_csv_table(q)
    assert "appears twice" in one_line_error(run("train", "logreg", "--data", str(p), "--quiet"))


def test_predict_refuses_a_csv_with_duplicate_names(tmp_path):
    model = nn.LogisticRegression(2, init="random", seed=0)
    model.metadata.update({"features": ["f", "g"], "target": "label", "classes": [0, 1]})
    model.save(tmp_path / "m.json")
    (tmp_path / "rows.csv").write_text("f,g,f\n1,2,3\n")
    err = one_line_error(run("predict", str(tmp_path / "m.json"), "--data", str(tmp_path / "rows.csv")))
    assert "'f' appears twice" in err


# ---------------------------------------------------------------------------
# 12. p = 0.5 is class 1, everywhere


def _half_model(tmp_path: Path) -> Path:
    model = nn.LogisticRegression(2, init="zeros")  # σ(0) = 0.5 exactly for every row
    model.metadata.update({"features": ["a", "b"], "target": "label", "classes": [0, 1]})
    model.save(tmp_path / "half.json")
    return tmp_path / "half.json"


def test_p_one_half_is_class_one_in_python_and_on_the_command_line(tmp_path):
    model = nn.LogisticRegression(2, init="zeros")
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    assert train.predict_proba(model, X).tolist() == [0.5, 0.5]
    assert train.predict(model, X).tolist() == [1, 1]
    assert train.accuracy(model, X, [1, 1]) == 1.0
    assert train.classify([0.5, np.nextafter(0.5, 0), 1.0, 0.0]).tolist() == [1, 0, 1, 0]
    assert train.predict(model, X, threshold=0.75).tolist() == [0, 0]
    (tmp_path / "rows.csv").write_text("a,b,label\n1,2,1\n-3,0.5,1\n")
    r = run("predict", str(_half_model(tmp_path)), "--data", str(tmp_path / "rows.csv"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["prediction,probability", "1,0.5", "1,0.5"]
    assert "1.000" in r.stderr  # the accuracy it reports uses the same rule


# ---------------------------------------------------------------------------
# 13. class names from a model file are CSV cells, not rows or formulas


HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "ok\n1,0.99\nforged"]


@pytest.mark.parametrize("to_file", [False, True])
def test_predictions_csv_neither_forges_rows_nor_passes_formulas(tmp_path, to_file):
    model = nn.LogisticRegression(1, init="random", seed=0)
    model.w[0].data, model.b.data = 5.0, 0.0
    model.metadata.update({"features": ["x"], "classes": HOSTILE})
    model.save(tmp_path / "m.json")
    (tmp_path / "rows.csv").write_text("x\n-1\n1\n")
    out = tmp_path / "pred.csv"
    extra = ["--out", str(out)] if to_file else []
    r = run("predict", str(tmp_path / "m.json"), "--data", str(tmp_path / "rows.csv"), *extra)
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8") if to_file else r.stdout
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 3 and all(len(row) == 2 for row in rows)  # header + one row per input row
    assert rows[1][0] == "'" + HOSTILE[0] and rows[2][0] == HOSTILE[1]
    for row in rows[1:]:
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))
        float(row[1])


@pytest.mark.parametrize("name, cell", [("-1", "-1"), ("+cmd", "'+cmd"), ("@SUM(A1)", "'@SUM(A1)"),
                                        ("\tx", "'\tx"), ("-2+3", "'-2+3"), ("1e5", "1e5"), ("cat", "cat")])
def test_formula_cells_are_neutralised_numbers_are_not(name, cell):
    from autograd_lite.cli import _csv_cell

    assert _csv_cell(name) == cell


# ---------------------------------------------------------------------------
# 14. figure text and the computation share one constant


def test_saturation_legend_and_title_come_from_the_constant(monkeypatch):
    pytest.importorskip("matplotlib")
    from autograd_lite import figures as F

    for fraction in (F.SATURATION, 0.2):
        monkeypatch.setattr(F, "SATURATION", fraction)
        fig = F.plot_sigmoid()
        ax = fig.axes[0]
        texts = [ax.get_title(), *ax.get_legend_handles_labels()[1]]
        said = [t for t in texts if "σ'" in t and "<" in t]
        assert len(said) == 2  # the title and the shading's legend entry
        for t in said:
            assert f"< {fraction * 0.25:g} " in t and f"{fraction * 100:g}% of its max" in t
        d = F.sigmoid_data()
        assert (d["saturated"] == (d["dsigmoid"] < fraction * 0.25)).all()
        import matplotlib.pyplot as plt

        plt.close(fig)


# ---------------------------------------------------------------------------
# 15. bce on the command line


def test_cli_bce_refuses_a_non_probability():
    err = one_line_error(run("grad", "bce(a, y)", "--at", "a=1.5", "y=1"))
    assert "0 < a < 1" in err and "1.5" in err and "bcelogits(z, y)" in err
    r = run("grad", "bce(a, y)", "--at", "a=0.25", "y=1", "--check")  # --check moves y past 1: fine
    assert r.returncode == 0 and "passed" in r.stdout, r.stderr


@pytest.mark.parametrize("z, y, loss", [(40, 0, 40.0), (-800, 1, 800.0)])
def test_cli_bce_of_a_rounded_sigmoid_says_so_and_names_the_logits_form(z, y, loss):
    err = one_line_error(run("grad", "bce(sigmoid(z), y)", "--at", f"z={z}", f"y={y}"))
    assert "rounds to exactly" in err and f"the loss is {loss:g}" in err and "bcelogits(z, y)" in err
    r = run("grad", "bcelogits(z, y)", "--at", f"z={z}", f"y={y}", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["value"] == loss and doc["grad"]["z"] == (1.0 if y == 0 else -1.0)


def test_bcelogits_is_bce_of_the_sigmoid_where_that_does_not_round():
    from autograd_lite.expr import evaluate

    for z in (-30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 30.0):
        for y in (0.0, 0.3, 1.0):
            a, la = evaluate("bce(sigmoid(z), y)", {"z": z, "y": y})
            b, lb = evaluate("bcelogits(z, y)", {"z": z, "y": y})
            a.backward()
            b.backward()
            exact = max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))  # log(1 + eᶻ) − zy
            assert math.isclose(b.data, exact, rel_tol=1e-14, abs_tol=1e-15)
            assert math.isclose(lb["z"].grad, 1 / (1 + math.exp(-z)) - y, rel_tol=1e-12, abs_tol=1e-15)
            if abs(z) <= 4:  # where 1 − σ(z) keeps its digits, the textbook formula agrees
                assert math.isclose(a.data, b.data, rel_tol=1e-12)
                assert math.isclose(la["z"].grad, lb["z"].grad, rel_tol=1e-12, abs_tol=1e-15)


# ---------------------------------------------------------------------------
# crashes: hostile files, "-x", a huge --hidden


def test_predict_reads_neither_dev_zero_nor_a_model_before_the_data_is_found(tmp_path):
    start = time.perf_counter()
    err = one_line_error(run("predict", "/dev/zero", "--data", str(tmp_path / "missing.csv")))
    assert "--data" in err and "no such file" in err
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    err = one_line_error(run("predict", "/dev/zero", "--data", str(tmp_path / "rows.csv"), timeout=60))
    assert "not a model file" in err and "MAX_MODEL_BYTES" in err
    model = nn.LogisticRegression(2)
    model.save(tmp_path / "m.json")
    err = one_line_error(run("predict", str(tmp_path / "m.json"), "--data", "/dev/zero", timeout=60))
    assert "a line longer than" in err
    assert time.perf_counter() - start < 60


def test_model_files_are_read_with_a_bound(tmp_path, monkeypatch):
    model = nn.LogisticRegression(2)
    model.save(tmp_path / "m.json")
    monkeypatch.setattr(nn, "MAX_MODEL_BYTES", 50)
    with pytest.raises(ValueError, match="larger than 50 bytes"):
        nn.Module.load(tmp_path / "m.json")
    monkeypatch.setattr(nn, "MAX_MODEL_BYTES", (tmp_path / "m.json").stat().st_size)
    assert nn.Module.load(tmp_path / "m.json").state_dict() == model.state_dict()


def test_explain_takes_an_expression_that_starts_with_a_minus():
    r = run("explain", "-x**2", "--at", "x=3")
    assert r.returncode == 0, r.stderr
    assert "-9" in r.stdout and "dL/dx = -6" in r.stdout.replace("−", "-")


def test_train_refuses_a_huge_hidden_layer_at_once():
    start = time.perf_counter()
    err = one_line_error(run("train", "mlp", "--hidden", "100000000", "--quiet"))
    assert "--hidden" in err and "parameters" in err
    assert time.perf_counter() - start < 60


# ---------------------------------------------------------------------------
# model classes: the library's own first, others by qualified name

built: list = []


class MLP(nn.Module):  # a user's class with the library's class name
    def __init__(self, nin: int = 1, nouts: object = None, **kw: object) -> None:
        built.append((nin, nouts, kw))
        self.w = Value(0.0)

    def config(self) -> dict:
        return {"nin": 1}

    def __call__(self, x):
        return self.w * x[0]


def test_a_user_class_named_mlp_does_not_stand_in_for_the_library_one(tmp_path):
    net = nn.MLP(2, [3, 1], seed=0)
    net.save(tmp_path / "m.json")
    built.clear()
    back = nn.MLP.load(tmp_path / "m.json")
    assert type(back) is nn.MLP and back.state_dict() == net.state_dict()
    anything = nn.Module.load(tmp_path / "m.json")
    assert type(anything) is nn.MLP
    assert built == []  # the user's constructor never saw the file's arguments
    mine = MLP()
    mine.save(tmp_path / "mine.json")
    doc = json.loads((tmp_path / "mine.json").read_text())
    assert doc["class"] == f"{__name__}.MLP"
    assert type(nn.Module.load(tmp_path / "mine.json")) is MLP
    with pytest.raises(ValueError, match=rf"holds a {__name__}.MLP, not a MLP"):
        nn.MLP.load(tmp_path / "mine.json")
    doc["class"] = "NoSuchNet"
    (tmp_path / "x.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="unknown model class 'NoSuchNet'"):
        nn.Module.load(tmp_path / "x.json")


def test_decision_regions_follow_the_class_rule_at_p_one_half():
    """A model with p = 0.5 everywhere predicts class 1 (train.classify): the figure's
    regions must be the "predicted 1" colour, not the colour of the band p ≤ 0.5."""
    pytest.importorskip("matplotlib")
    from types import SimpleNamespace

    from autograd_lite import figures as F

    X, y = data.make_moons(40, noise=0.1, seed=0)
    half = {"X": X, "y": y, "models": {f"zero {k}": (nn.LogisticRegression(2, init="zeros"),
                                                     SimpleNamespace(cost=[0.69, 0.69])) for k in (1, 2)}}
    assert (train.predict(half["models"]["zero 1"][0], X) == 1).all()
    fig = F.plot_decision_boundaries(trained=half)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    height = img.shape[0]
    for ax in fig.axes[1:3]:
        (x0, y0), (x1, y1) = ax.get_window_extent().get_points()
        for fx, fy in ((0.03, 0.03), (0.97, 0.03), (0.03, 0.97), (0.97, 0.97)):  # the corners: no points there
            px, py = int(x0 + fx * (x1 - x0)), int(height - (y0 + fy * (y1 - y0)))
            assert np.abs(img[py, px] - (0xB9, 0xD7, 0xEE)).max() <= 3, (ax.get_title(), img[py, px])
    assert any("boundary P = 0.5" in t for t in fig.axes[1].get_legend_handles_labels()[1])
    import matplotlib.pyplot as plt

    plt.close(fig)
