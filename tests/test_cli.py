"""The autograd-lite command line, run as a subprocess (and in-process for the many error cases)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograd_lite.cli import main

ROOT = Path(__file__).resolve().parents[1]
SEED = "-(y*log(sigmoid(w1*x1+w2*x2+b)) + (1-y)*log(1-sigmoid(w1*x1+w2*x2+b)))"
AT = ["x1=1.5", "x2=-0.5", "w1=0.3", "w2=-0.8", "b=0.1", "y=1"]


def run(*args: str, cwd: Path = ROOT, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin:/usr/local/bin", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "autograd_lite", *args], cwd=cwd, capture_output=True, text=True,
                          input=stdin, timeout=timeout, env=env)


def analytic(x1=1.5, x2=-0.5, w1=0.3, w2=-0.8, b=0.1, y=1.0):
    z = w1 * x1 + w2 * x2 + b
    a = 1 / (1 + math.exp(-z))
    return {"value": -(y * math.log(a) + (1 - y) * math.log(1 - a)), "w1": x1 * (a - y), "w2": x2 * (a - y),
            "b": a - y, "x1": w1 * (a - y), "x2": w2 * (a - y), "y": -z}


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    return lines[0]


# ---------------------------------------------------------------------------
# grad
# ---------------------------------------------------------------------------


def test_grad_prints_the_analytic_derivatives_of_the_seed_expression():
    r = run("grad", SEED, "--at", *AT)
    assert r.returncode == 0, r.stderr
    want = analytic()
    value = float(re.search(r"^value = (\S+)$", r.stdout, re.M).group(1))
    assert value == pytest.approx(want["value"], rel=1e-9)
    rows = {m.group(1): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"^(\w+)\s+(\S+)\s+(\S+)$", r.stdout, re.M)
            if m.group(1) not in ("variable", "value")}
    assert list(rows) == ["x1", "x2", "w1", "w2", "b", "y"]  # the order given by --at
    for name, (_val, g) in rows.items():
        assert g == pytest.approx(want[name], rel=1e-8), name
    assert rows["x1"][0] == 1.5


def test_grad_json_and_check():
    r = run("grad", SEED, "--at", *AT, "--json", "--check")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    want = analytic()
    assert doc["value"] == pytest.approx(want["value"], rel=1e-12)
    assert set(doc["grad"]) == {"x1", "x2", "w1", "w2", "b", "y"}
    for name, g in doc["grad"].items():
        assert g == pytest.approx(want[name], rel=1e-10)
    assert doc["check"]["ok"] is True
    for name, row in doc["check"]["rows"].items():
        assert row["numeric"] == pytest.approx(want[name], rel=1e-6)
        assert row["abs_error"] < 1e-6


def test_grad_check_table_and_failing_check_exit_status(capsys):
    assert main(["grad", "x**3", "--at", "x=2", "--check"]) == 0
    out = capsys.readouterr().out
    assert "gradient check: passed" in out and re.search(r"\b12\b", out)
    # at a kink: |x|' = sign(0) = 0 agrees with (|ε| − |−ε|)/2ε = 0, but relu'(0) = 0 is not (ε − 0)/2ε = 1/2
    assert main(["grad", "abs(x)", "--at", "x=0", "--check"]) == 0
    assert main(["grad", "relu(x)", "--at", "x=0", "--check"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_grad_non_finite_numbers_give_valid_json(capsys):
    assert main(["grad", "x/y + 9**9**9", "--at", "x=1", "y=0", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"expression": "x/y + 9**9**9", "value": "inf", "grad": {"x": "inf", "y": "-inf"}, "check": None}
    assert main(["grad", "log(x)", "--at", "x=-1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == "nan"


def test_grad_without_variables_and_with_an_unused_one(capsys):
    assert main(["grad", "2**10"]) == 0
    assert "value = 1024" in capsys.readouterr().out
    assert main(["grad", "x*x", "--at", "x=3", "w=1"]) == 0
    cap = capsys.readouterr()
    assert re.search(r"^w\s+1\s+0$", cap.out, re.M) and "w not in the expression" in cap.err


@pytest.mark.parametrize("args, message", [
    (["grad", "x + z", "--at", "x=1"], "variable 'z' has no value at column 5"),
    (["grad", "x", "--at", "x1=abc"], "'abc' is not a number"),
    (["grad", "x", "--at", "x"], "not NAME=NUMBER"),
    (["grad", "x", "--at", "x=1", "x=2"], "gives 'x' twice"),
    (["grad", "open('x')"], "unknown function 'open' at column 1"),
    (["grad", "x.__class__", "--at", "x=1"], "attribute access"),
    (["grad", "x", "--at", "x=1", "--eps", "0", "--check"], "--eps must be positive"),
    (["grad", "x", "--at", "x=1", "--graph", "out.xyz"], "cannot tell the output format"),
    (["grad", "x", "--at", "x=1", "--graph", "/nonexistent-dir/g.svg"], "does not exist"),
    (["grad"], "required: expression"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
    (["train", "mlp", "--hidden", "16,x"], "comma-separated"),
    (["train", "mlp", "--epochs", "0"], "must be positive"),
    (["train", "logreg", "--data", "/nonexistent.csv"], "no such CSV file"),
    (["train", "logreg", "--target", "y"], "--target goes with --data"),
    (["train", "logreg", "--dataset", "moons", "--data", "x.csv"], "not allowed with"),
])
def test_errors_are_one_line_with_exit_status_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    cap = capsys.readouterr()
    assert message in one_line_error(cap.err)


HOSTILE = ["__import__('os').system('touch PWNED')", "().__class__", "open('PWNED', 'w')", "lambda: 0",
           "(" * 10_000 + ")" * 10_000, "[x for x in y]", "x.__class__", "f(x=1)",
           "__import__('pathlib').Path('PWNED').touch()", "exec('open(\"PWNED\",\"w\")')"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_inputs_in_process_have_no_side_effects(text, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    assert main(["grad", text, "--at", "x=1", "y=2"]) == 2
    assert time.perf_counter() - start < 1
    one_line_error(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_hostile_inputs_via_subprocess(tmp_path):
    for text in HOSTILE[:3] + ["(" * 10_000 + ")" * 10_000]:
        start = time.perf_counter()
        r = run("grad", text, cwd=tmp_path)
        assert r.returncode == 2
        one_line_error(r.stderr)
        assert time.perf_counter() - start < 20
    r = run("grad", "9**9**9", "--json", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["value"] == "inf"
    assert list(tmp_path.iterdir()) == []


def test_grad_graph_dot_needs_no_graphviz(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["grad", "sigmoid(w*x + b)", "--at", "w=2", "x=0.5", "b=-1", "--graph", str(out)]) == 0
    text = out.read_text()
    assert text.lstrip().startswith("digraph") and ("sigmoid" in text or "σ" in text)
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.needs_dot
def test_grad_graph_svg(tmp_path, capsys):
    import xml.etree.ElementTree as ET

    out = tmp_path / "g.svg"
    assert main(["grad", "tanh(relu(w*x))", "--at", "w=-1", "x=2", "--graph", str(out)]) == 0
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "w" in texts and "tanh" in texts


def test_help_everywhere_has_examples():
    for args in ([], ["grad"], ["train"], ["demo"], ["repl"]):
        r = run(*args, "--help")
        assert r.returncode == 0, r.stderr
        assert "examples:" in r.stdout and "usage: autograd-lite" in r.stdout


# ---------------------------------------------------------------------------
# train, demo, repl
# ---------------------------------------------------------------------------


def test_train_logreg_saves_model_and_plot(tmp_path):
    from autograd_lite import nn

    model_path, plot_path = tmp_path / "model.json", tmp_path / "curve.png"
    r = run("train", "logreg", "--dataset", "breast_cancer", "--epochs", "30", "--lr", "0.5", "--quiet",
            "--save", str(model_path), "--plot", str(plot_path))
    assert r.returncode == 0, r.stderr
    accs = {m.group(1): float(m.group(3)) for m in re.finditer(r"^(train|test)\s+(\S+)\s+(\S+)$", r.stdout, re.M)}
    assert accs["train"] > 0.9 and accs["test"] > 0.9
    model = nn.Module.load(model_path)
    assert isinstance(model, nn.LogisticRegression) and len(model.parameters()) == 31
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_mlp_on_a_csv_file(tmp_path, capsys):
    from autograd_lite import data

    X, y = data.make_circles(120, noise=0.05, factor=0.4, seed=1)
    csv = tmp_path / "c.csv"
    csv.write_text("a,label,b\n" + "".join(f"{p[0]},{int(t)},{p[1]}\n" for p, t in zip(X, y)))
    assert main(["train", "mlp", "--data", str(csv), "--target", "label", "--hidden", "8", "--activation", "tanh",
                 "--optimizer", "adam", "--lr", "0.05", "--epochs", "150", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "MLP 2→8→1 (tanh, random init) on c.csv" in out
    test_acc = float(re.search(r"^test\s+\S+\s+(\S+)$", out, re.M).group(1))
    assert test_acc > 0.85  # circles: a linear model gets about 0.5
    bad = tmp_path / "bad.csv"
    bad.write_text("a,label\n1,0\nfoo,1\n")
    assert main(["train", "logreg", "--data", str(bad), "--target", "label"]) == 2
    assert "'foo' is not a number" in one_line_error(capsys.readouterr().err)


def test_train_scalar_and_vectorized_engines_agree(capsys):
    outs = []
    for engine in ("scalar", "vectorized"):
        assert main(["train", "mlp", "--dataset", "moons", "--n-samples", "40", "--hidden", "4", "--epochs", "5",
                     "--engine", engine, "--quiet"]) == 0
        outs.append(re.findall(r"^(?:train|test)\s+.*$", capsys.readouterr().out, re.M))
    assert outs[0] == outs[1]


def test_demo_writes_its_files(tmp_path):
    out = tmp_path / "demo"
    r = run("demo", "--out", str(out), "--fast", timeout=600)  # a hang guard, not a speed test (make bench times)
    assert r.returncode == 0, r.stderr
    assert "dL/dw1" in r.stdout and "x1(a − y)" in r.stdout
    listed = re.findall(r"^  (/\S+)$", r.stdout.split("wrote ")[-1], re.M)
    assert len(listed) >= 8
    for p in map(Path, listed):
        assert p.exists() and p.stat().st_size > 100 and p.parent == out
    names = {p.name for p in out.iterdir()}
    assert {"sigmoid_saturation.png", "cost_logloss_vs_squared_error.png", "gradient_descent_path.png",
            "logreg_vs_mlp_moons.png", "init_zero_vs_random.png", "layer_gradients_sigmoid_vs_relu.png"} <= names
    assert names & {"z_a_L.svg", "z_a_L.dot"}
    # scalar and vectorized engines train the same model to the same costs (issue 8)
    agree = re.search(r"scalar Value graphs ([\d.]+) ms, vectorized ([\d.]+) ms .*costs agree to ([\d.e+-]+)\)",
                      r.stdout)
    assert agree and float(agree.group(3)) < 1e-9


def test_repl_runs_piped_commands():
    r = run("repl", stdin="x = Value(2.0)\ny = (x * x).sigmoid()\ny.backward()\nprint('GRAD', round(x.grad, 6))\n"
                          "print('NN', nn.MLP.__name__, round(grad(sigmoid)(0.0), 3))\n")
    assert r.returncode == 0, r.stderr
    s = 1 / (1 + math.exp(-4.0))
    assert f"GRAD {round(s * (1 - s) * 4, 6)}" in r.stdout
    assert "NN MLP 0.25" in r.stdout
    banner = r.stderr.strip().splitlines()[:3]
    assert banner[0].startswith("autograd_lite") and "try:" in banner[1] and "help" in banner[2]


def test_demo_without_graphviz_or_matplotlib_still_runs(tmp_path, monkeypatch, capsys):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setenv("PATH", str(tmp_path))  # no 'dot' here
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--fast"]) == 0
    text = capsys.readouterr().out
    assert "Graphviz 'dot' is not installed" in text
    assert "pip install 'autograd-lite[plot]'" in text
    assert sorted(p.name for p in out.iterdir() if p.name != ".autograd-lite-demo") == ["z_a_L.dot"]
    assert (out / "z_a_L.dot").read_text().lstrip().startswith("digraph")
