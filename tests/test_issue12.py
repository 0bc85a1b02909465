"""Issue 12: no silent wrong answers at the edges (CLI, files, exports, errors).

CLI items run as subprocesses (``python -m autograd_lite``); file items use real files."""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import subprocess
import sys
import textwrap
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import autograd_lite
from autograd_lite import cli, data, nn, train
from autograd_lite import expr as expr_mod

ROOT = Path(__file__).resolve().parents[1]
HAS_DOT = any((Path(p) / "dot").exists() for p in os.environ.get("PATH", "").split(os.pathsep))


def run(*args: str, stdin: str | None = None, cwd: Path | None = None, timeout: float = 120):
    return subprocess.run([sys.executable, "-m", "autograd_lite", *args], capture_output=True, text=True,
                          input=stdin, cwd=cwd, timeout=timeout)


def write_csv(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(header) + "\n")
        for r in rows:
            fh.write(",".join(repr(float(v)) if not isinstance(v, str) else v for v in r) + "\n")
    return path


# ---------------------------------------------------------------------------
# 1. the --graph picture shows the gradients the table prints
# ---------------------------------------------------------------------------


def _svg_boxes(path: Path) -> dict[str, float]:
    """label → the gradient drawn in that label's box."""
    ns = {"s": "http://www.w3.org/2000/svg"}
    boxes = {}
    for g in ET.parse(path).getroot().iter("{http://www.w3.org/2000/svg}g"):
        if "value" not in (g.get("class") or "").split():
            continue
        texts = [t.text or "" for t in g.findall(".//s:text", ns)]
        grads = [t for t in texts if t.startswith("grad ")]
        if grads:
            label = texts[0] if not texts[0].startswith(("data", "grad")) else g.get("id")
            boxes[label] = float(grads[0].split()[1])
    return boxes


@pytest.mark.skipif(not HAS_DOT, reason="needs Graphviz dot")
def test_grad_graph_draws_the_gradients_the_table_prints(tmp_path):
    svg = tmp_path / "g.svg"
    r = run("grad", "w*x + sin(x)", "--at", "x=2", "w=3", "--graph", str(svg), "--json")
    assert r.returncode == 0, r.stderr
    grads = json.loads(r.stdout)["grad"]
    drawn = _svg_boxes(svg)
    assert drawn["f"] == 1.0                               # ∂f/∂f, the root, is 1 not 0
    assert drawn["x"] == pytest.approx(grads["x"], rel=1e-3) and grads["x"] == pytest.approx(3 + math.cos(2))
    assert drawn["w"] == pytest.approx(grads["w"], rel=1e-3) and grads["w"] == pytest.approx(2.0)


# ---------------------------------------------------------------------------
# 2. a saved model predicts from raw rows (in Python and on the command line)
# ---------------------------------------------------------------------------


def test_a_model_saved_by_train_predicts_raw_rows(tmp_path):
    X, y, names = data.load_breast_cancer()
    csv_path = write_csv(tmp_path / "cancer.csv", [*names, "malignant"], (list(r) + [int(t)] for r, t in zip(X, y)))
    model_path = tmp_path / "model.json"
    r = run("train", "logreg", "--data", str(csv_path), "--save", str(model_path), "--quiet")
    assert r.returncode == 0, r.stderr
    doc = json.loads(model_path.read_text())
    assert len(doc["preprocessing"]["standardize"]["mean"]) == 30 and doc["metadata"]["features"] == names
    model = nn.Module.load(model_path)                     # Python: loading applies the standardization
    assert train.accuracy(model, X, y) > 0.94
    r = run("predict", str(model_path), "--data", str(csv_path))   # and the CLI
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0] == "prediction,probability" and len(lines) == len(y) + 1
    predicted = np.array([int(line.split(",")[0]) for line in lines[1:]])
    assert np.mean(predicted == y) > 0.94
    acc = float(re.search(r"accuracy .*: ([0-9.]+)", r.stderr).group(1))
    assert acc > 0.94


# ---------------------------------------------------------------------------
# 3. every name the README imports from autograd_lite is there, and is the documented object
# ---------------------------------------------------------------------------


def _readme_top_level_names() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    names = set()
    for m in re.finditer(r"from autograd_lite import \(?([^)\n]+)", text):
        names.update(n.strip().split(" as ")[0] for n in m.group(1).split(",") if n.strip())
    return names


def test_readme_names_import_from_the_top_level_as_documented_objects():
    names = _readme_top_level_names()
    assert {"Value", "grad", "hessian", "draw_graph", "nn"} <= names
    code = textwrap.dedent(f"""
        import importlib, types
        import autograd_lite.train, autograd_lite.vectorize   # submodules already imported must not shadow
        ns = {{}}
        exec("from autograd_lite import *", ns)
        missing = sorted(set({sorted(names)!r}) - set(ns))
        assert not missing, missing
        from autograd_lite import vectorize, jacobian
        mod = importlib.import_module("autograd_lite.vectorize")
        assert vectorize is mod.vectorize, vectorize
        assert jacobian is importlib.import_module("autograd_lite.transforms").jacobian
        for name in {sorted(names)!r}:
            obj = ns[name]
            if name in ("nn", "optim", "losses", "data", "train", "learn"):
                assert isinstance(obj, types.ModuleType) and obj.__name__ == "autograd_lite." + name, name
            else:
                assert not isinstance(obj, types.ModuleType), name
                assert obj.__module__.startswith("autograd_lite."), (name, obj.__module__)
                assert obj is getattr(importlib.import_module(obj.__module__), name), name
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


# ---------------------------------------------------------------------------
# 4. Module.save: atomic, finite
# ---------------------------------------------------------------------------


def test_save_on_a_full_disk_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.json"
    script = textwrap.dedent("""
        import os, resource, signal, sys
        from autograd_lite import nn
        path = sys.argv[1]
        nn.MLP(2, [2, 1], seed=0).save(path)
        old = open(path).read()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(old) + 200, len(old) + 200))
        try:
            nn.MLP(30, [32, 32, 1], seed=0).save(path)
            print("saved")
        except OSError as e:
            print("failed", e.errno)
        assert open(path).read() == old, "the old file was damaged"
        print(sorted(os.listdir(os.path.dirname(path))))
    """)
    r = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0].startswith("failed"), out
    assert out[1] == "['model.json']"                     # no temporary file left behind
    assert nn.MLP.load(path).nouts == [2, 1]


def test_non_finite_weights_are_refused_and_nothing_is_written(tmp_path):
    model = nn.MLP(2, [3, 1], seed=0)
    model.parameters()[4].data = math.nan
    path = tmp_path / "m.json"
    with pytest.raises(ValueError, match="non-finite|nan"):
        model.save(path)
    assert not path.exists()
    model.parameters()[4].data = 1.0
    model.save(path)
    assert "NaN" not in path.read_text() and nn.MLP.load(path).state_dict() == model.state_dict()


# ---------------------------------------------------------------------------
# 5. Module.load: sizes checked before building; every broken file is a ValueError naming it
# ---------------------------------------------------------------------------


def test_load_checks_sizes_before_building(tmp_path):
    path = tmp_path / "huge.json"
    path.write_text('{"format": "autograd_lite.model", "version": 1, "class": "MLP", "config": '
                    '{"nin": 2, "nouts": [100000, 100000, 1]}, "parameters": {}}')
    assert path.stat().st_size < 160
    script = textwrap.dedent("""
        import resource, sys, time
        resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))   # building it would need far more: fail fast
        from autograd_lite import nn
        start = time.perf_counter()
        try:
            nn.Module.load(sys.argv[1])
        except ValueError as e:
            print("ValueError", time.perf_counter() - start, e)
    """)
    r = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert r.stdout.startswith("ValueError"), (r.stdout, r.stderr[-500:])
    assert float(r.stdout.split()[1]) < 1.0 and str(path) in r.stdout


def _good_doc() -> dict:
    model = nn.MLP(2, [2, 1], seed=0)
    return {"format": "autograd_lite.model", "version": 1, "class": "MLP", "config": model.config(),
            "parameters": model.state_dict()}


@pytest.mark.parametrize("name", ["deep", "huge_int", "fused_string", "not_utf8", "nan_token", "nin_float",
                                  "param_string", "mean_wrong_length"])
def test_every_broken_model_file_is_a_value_error_naming_it(tmp_path, name):
    path = tmp_path / f"{name}.json"
    doc = _good_doc()
    if name == "deep":
        path.write_text("[" * 200_000 + "]" * 200_000)
    elif name == "huge_int":
        doc["parameters"]["layers.0.neurons.0.w.0"] = 10 ** 400
        path.write_text(json.dumps(doc))
    elif name == "fused_string":
        doc["config"]["fused"] = "false"
        path.write_text(json.dumps(doc))
    elif name == "not_utf8":
        path.write_bytes(json.dumps(doc).encode()[:40] + b"\xff\xfe\xfa" + b"}")
    elif name == "nan_token":
        path.write_text(json.dumps(doc).replace("0.0", "NaN", 1))
    elif name == "nin_float":
        doc["config"]["nin"] = 2.0
        path.write_text(json.dumps(doc))
    elif name == "param_string":
        doc["parameters"]["layers.0.neurons.0.b"] = "0.5"
        path.write_text(json.dumps(doc))
    else:
        doc["preprocessing"] = {"standardize": {"mean": [0.0], "std": [1.0, 1.0]}}
        path.write_text(json.dumps(doc))
    with pytest.raises(ValueError) as info:
        nn.Module.load(path)
    assert str(path) in str(info.value)


def test_load_restores_standardization_and_metadata(tmp_path):
    model = nn.LogisticRegression(2, init=0.5)
    model.set_standardization([1.0, -2.0], [2.0, 0.0])     # a std of 0 counts as 1
    model.metadata.update({"features": ["a", "b"], "target": "y"})
    raw = [3.0, 5.0]
    expected = model(raw).data
    assert expected == pytest.approx(1 / (1 + math.exp(-(0.5 * 1.0 + 0.5 * 7.0 + 0.5))))
    model.save(tmp_path / "m.json")
    loaded = nn.Module.load(tmp_path / "m.json")
    assert loaded(raw).data == expected and loaded.metadata["features"] == ["a", "b"]


# ---------------------------------------------------------------------------
# 6. the CLI never overwrites a file it did not write; destinations are checked first
# ---------------------------------------------------------------------------


def test_cli_refuses_to_overwrite_without_force(tmp_path):
    precious = tmp_path / "model.json"
    precious.write_text("precious")
    r = run("train", "logreg", "--save", str(precious), "--quiet", "--epochs", "2")
    assert r.returncode == 2 and "--force" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert precious.read_text() == "precious" and "accuracy" not in r.stdout     # refused before training
    r = run("train", "logreg", "--save", str(precious), "--quiet", "--epochs", "2", "--force")
    assert r.returncode == 0, r.stderr
    assert json.loads(precious.read_text())["class"] == "LogisticRegression"

    graph = tmp_path / "g.dot"
    graph.write_text("mine")
    r = run("grad", "x*x", "--at", "x=1", "--graph", str(graph))
    assert r.returncode == 2 and "--force" in r.stderr and graph.read_text() == "mine"

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "thesis.txt").write_text("mine")
    r = run("demo", "--out", str(folder), "--fast")
    assert r.returncode == 2 and "--force" in r.stderr and os.listdir(folder) == ["thesis.txt"]


@pytest.mark.parametrize("flag", ["--save", "--plot"])
def test_cli_checks_destinations_before_training(tmp_path, flag):
    target = tmp_path / "no" / "such" / "dir" / ("m.json" if flag == "--save" else "c.png")
    start = time.perf_counter()
    r = run("train", "mlp", flag, str(target), "--epochs", "100000", "--quiet")
    assert r.returncode == 2 and flag in r.stderr and "does not exist" in r.stderr
    assert time.perf_counter() - start < 30 and r.stdout == ""


def test_cli_refuses_the_same_file_for_two_outputs(tmp_path):
    r = run("train", "logreg", "--save", str(tmp_path / "x.png"), "--plot", str(tmp_path / "x.png"), "--quiet")
    assert r.returncode == 2 and "same file" in r.stderr


# ---------------------------------------------------------------------------
# 7. load_csv
# ---------------------------------------------------------------------------


def test_csv_errors_use_the_files_own_line_numbers(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,y\n\n1,2,0\n\n\n3,oops,1\n")
    with pytest.raises(ValueError, match=r"line 6 .*column 'b'.*'oops'"):
        data.load_csv(p)


def test_a_row_of_empty_cells_is_an_error(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,y\n1,2,0\n,,\n3,4,1\n")
    with pytest.raises(ValueError, match=r"line 3 .*empty cell"):
        data.load_csv(p)


def test_an_oversized_field_is_a_one_line_value_error(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,y\n" + '"' + "1" * (data.MAX_FIELD + 10) + '",0\n')
    with pytest.raises(ValueError, match=r"line 2.*longer than") as info:
        data.load_csv(p)
    assert "\n" not in str(info.value) and "_csv" not in str(info.value)


@pytest.mark.parametrize("cell", ["1_000", "\uff11", "\u0663", "0x10", "nan", "inf", "-Infinity", "1e999", "1,5"[0:0]
                                  + "1.5.2", "½", "١٢"])
def test_only_plain_ascii_decimals_are_numbers(tmp_path, cell):
    p = tmp_path / "d.csv"
    p.write_text(f"a,y\n1.5,0\n{cell},1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3 .*column 'a'"):
        data.load_csv(p)


def test_plain_decimals_are_read_exactly(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,y\n-1.5,+2e-3,0\n.5,7.,1\n 3 , 1E2 ,1\n")
    X, y, names = data.load_csv(p)
    assert X.tolist() == [[-1.5, 0.002], [0.5, 7.0], [3.0, 100.0]] and y.tolist() == [0, 1, 1]


def test_load_csv_peak_memory_is_a_small_multiple_of_the_file(tmp_path):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40_000, 10))
    p = tmp_path / "big.csv"
    with open(p, "w") as fh:
        fh.write(",".join(f"f{i}" for i in range(10)) + ",y\n")
        np.savetxt(fh, np.column_stack([A, (A[:, 0] > 0)]), fmt=["%.6f"] * 10 + ["%d"], delimiter=",")
    size = p.stat().st_size
    assert size > 3e6
    tracemalloc.start()
    try:
        X, y, _ = data.load_csv(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert X.shape == (40_000, 10)
    assert peak <= 3 * size, f"peak {peak / size:.1f}× the file size"


# ---------------------------------------------------------------------------
# 8. the command line speaks its own language
# ---------------------------------------------------------------------------

_PYTHON_ARG = re.compile(r"\b(?:pass [a-z_]+=|[a-z]+_[a-z_]+=|binary=|format=)")


def test_cli_errors_name_flags_not_python_arguments(tmp_path):
    labels = write_csv(tmp_path / "three.csv", ["a", "b", "y"], [[i, -i, i % 3] for i in range(30)])
    cases = [
        ("train", "logreg", "--test-size", "0.999", "--quiet"),
        ("grad", "x", "--at", "x=1", "--graph", str(tmp_path / "out.xyz")),
        ("train", "logreg", "--data", str(labels), "--quiet"),
    ]
    for args in cases:
        r = run(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert not _PYTHON_ARG.search(r.stderr), r.stderr
    assert "--test-size 0.999" in run(*cases[0]).stderr
    for message in ("binary labels must be 0 or 1; found 2 (pass binary=False for other targets)",
                    "test_size=0.5 leaves 1 of 2 examples", "cannot tell (or pass format=)"):
        assert not _PYTHON_ARG.search(cli.cli_language(message)), cli.cli_language(message)


def test_a_label_column_that_is_not_last_suggests_target(tmp_path):
    rng = np.random.default_rng(0)
    p = write_csv(tmp_path / "d.csv", ["label", "height", "weight"],
                  [[int(rng.random() > 0.5), rng.normal(170, 10), rng.normal(70, 5)] for _ in range(40)])
    r = run("train", "logreg", "--data", str(p), "--quiet")
    assert r.returncode == 2 and "--target" in r.stderr and "label" in r.stderr
    r = run("train", "logreg", "--data", str(p), "--target", "label", "--quiet", "--epochs", "3")
    assert r.returncode == 0, r.stderr


def test_expression_starting_with_minus_works():
    r = run("grad", "-x**2", "--at", "x=3", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["value"] == -9.0 and doc["grad"] == {"x": -6.0}
    r = run("grad", "--json", "-x*y", "--at", "x=3", "y=2")
    assert r.returncode == 0 and json.loads(r.stdout)["grad"] == {"x": -2.0, "y": -3.0}


@pytest.mark.parametrize("expression, message", [
    ("2x + 1", "write 2*x"), ("3(x+1)", "write 3*("), ("1_000*x", "not a plain decimal"),
    ("0x1F*x", "not a plain decimal"), ("\uff58*2", "non-ASCII"), ("\U0001d465 + 1", "non-ASCII"),
    ("x \u2212 1", "'-' for minus"),
])
def test_expression_rejections_name_the_fix(expression, message):
    r = run("grad", expression, "--at", "x=1")
    assert r.returncode == 2 and message in r.stderr, r.stderr


@pytest.mark.parametrize("item", ["x=\uff11", "x=0x10", "x=1_0", "x=\u0663", "\uff58=1"])
def test_at_values_are_plain_ascii_decimals(item):
    r = run("grad", "x*2", "--at", item)
    assert r.returncode == 2 and "--at" in r.stderr, r.stderr


def test_all_missing_variables_are_reported_at_once():
    r = run("grad", "a*b + c*x", "--at", "x=1")
    assert r.returncode == 2
    assert "'a', 'b', 'c'" in r.stderr and "a=NUMBER b=NUMBER c=NUMBER" in r.stderr


def test_sin_cos_pi_e_are_in_the_expression_language():
    r = run("grad", "sin(pi*x) + e*cos(x)", "--at", "x=0.25", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["value"] == pytest.approx(math.sin(math.pi / 4) + math.e * math.cos(0.25))
    assert doc["grad"]["x"] == pytest.approx(math.pi * math.cos(math.pi / 4) - math.e * math.sin(0.25))
    assert run("grad", "x*e", "--at", "e=1", "x=1").returncode == 2


def test_check_shows_the_relative_error():
    r = run("grad", "x**3", "--at", "x=2", "--check")
    assert r.returncode == 0 and "rel error" in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.startswith("x "))
    assert len(re.findall(r"\d\.\d\de[-+]\d\d", row)) == 2     # abs and rel error


def test_check_costs_a_linear_number_of_evaluations(monkeypatch, capsys):
    calls = {"n": 0}
    real = expr_mod.evaluate

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(expr_mod, "evaluate", counting)
    counts = {}
    for n in (4, 16):
        names = [f"x{i}" for i in range(n)]
        calls["n"] = 0
        assert cli.main(["grad", "*".join(names), "--at", *[f"{v}=1.1" for v in names], "--check"]) == 0
        counts[n] = calls["n"]
    capsys.readouterr()
    assert counts[16] - counts[4] == 2 * 12, counts                # 2 evaluations per variable


def test_train_help_shows_every_default():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    train_parser = sub.choices["train"]
    for action in train_parser._actions:
        if action.option_strings and action.dest != "help":
            assert "default" in (action.help or ""), action.option_strings
    r = run("train", "--help")
    assert r.returncode == 0 and "default 16,16" in r.stdout


@pytest.mark.parametrize("extra", [["--hidden", "4"], ["--activation", "tanh"], ["--n-samples", "50"]])
def test_options_that_do_not_apply_are_errors(extra):
    r = run("train", "logreg", *extra, "--quiet", "--epochs", "1")
    assert r.returncode == 2 and extra[0] in r.stderr, r.stderr


def test_a_dataset_with_one_class_warns(tmp_path):
    p = write_csv(tmp_path / "one.csv", ["a", "b", "y"], [[i, 2 * i, 0] for i in range(20)])
    r = run("train", "logreg", "--data", str(p), "--quiet", "--epochs", "2")
    assert r.returncode == 0 and "warning" in r.stderr and "one class" in r.stderr


def test_multiclass_targets_train_an_mlp_with_cross_entropy(tmp_path):
    X, y = data.make_blobs(150, centers=[[-3, 0], [3, 0], [0, 4]], cluster_std=0.7, seed=0)
    p = write_csv(tmp_path / "blobs.csv", ["u", "v", "cls"], (list(r) + [int(t) + 5] for r, t in zip(X, y)))
    model = tmp_path / "m.json"
    r = run("train", "mlp", "--data", str(p), "--optimizer", "adam", "--epochs", "60", "--hidden", "8",
            "--save", str(model), "--quiet")
    assert r.returncode == 0, r.stderr
    assert "→3" in r.stdout and "3 classes" in r.stdout
    test_acc = float(re.search(r"test\s+\S+\s+([0-9.]+)", r.stdout).group(1))
    assert test_acc > 0.9
    r = run("predict", str(model), "--data", str(p))
    labels = {line.split(",")[0] for line in r.stdout.splitlines()[1:]}
    assert labels <= {"5", "6", "7"} and len(labels) == 3    # the file's own labels come back
    assert "logreg is binary" in run("train", "logreg", "--data", str(p), "--quiet").stderr


# ---------------------------------------------------------------------------
# 9. the repl
# ---------------------------------------------------------------------------


def test_a_piped_repl_script_that_raises_exits_non_zero():
    r = run("repl", stdin="x = 1\n1 / 0\nprint('after')\n")
    assert r.returncode == 1 and "ZeroDivisionError" in r.stderr and "after" in r.stdout
    r = run("repl", stdin="print('fine')\n")
    assert r.returncode == 0 and "fine" in r.stdout and ">>>" not in r.stdout


def test_repl_names_and_tab_completion():
    ns = cli.repl_namespace()
    star: dict = {}
    exec("from autograd_lite import *", star)
    assert set(star) - {"__builtins__"} <= set(ns)
    assert ns["vectorize"] is autograd_lite.vectorize and callable(ns["vectorize"])
    readline = pytest.importorskip("readline")
    assert cli.setup_completion(ns)
    complete = readline.get_completer()
    assert complete("Valu", 0) == "Value("
    assert complete("jacob", 0) == "jacobian("


# ---------------------------------------------------------------------------
# 10. grad(f): errors that point to the fix; keyword arguments reach f
# ---------------------------------------------------------------------------


def test_grad_given_an_array_says_f_must_return_one_scalar_and_take_numbers():
    from autograd_lite import grad

    with pytest.raises(TypeError, match=r"one Value \(a scalar\).*argument 0 is an array.*list of 2 Values"):
        grad(lambda x: x * 2)(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"take numbers.*'list' object has no attribute 'exp'.*index it"):
        grad(lambda x: x.exp())([1.0, 2.0])


def test_transforms_pass_keyword_arguments_to_f():
    from autograd_lite import grad, hessian, jacobian, value_and_grad

    f = lambda x, scale=1.0: scale * x * x
    assert grad(f)(3.0, scale=2.0) == 12.0
    assert value_and_grad(f)(3.0, scale=2.0) == (18.0, 12.0)
    assert hessian(f)(3.0, scale=2.0) == [[4.0]]
    assert jacobian(lambda x, k=1.0: [k * x, x])(2.0, k=5.0) == [[5.0], [1.0]]


# ---------------------------------------------------------------------------
# 11. types ship with the package
# ---------------------------------------------------------------------------


def test_py_typed_ships_and_make_test_runs_mypy():
    assert (ROOT / "autograd_lite" / "py.typed").exists()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"py.typed"' in pyproject and "[tool.mypy]" in pyproject and "mypy" in pyproject
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:.*\btypecheck\b", makefile, re.M) and "-m mypy" in makefile
    assert importlib.util.find_spec("mypy") is not None


def test_mypy_sees_values_documented_types(tmp_path):
    """Value's operators and methods are installed from the engine's table at import;
    the type checker (and so an editor) must still see them: Value in, Value out."""
    pytest.importorskip("mypy")
    snippet = tmp_path / "user_code.py"
    snippet.write_text(textwrap.dedent("""\
        from autograd_lite import Value
        z = Value(1.0) * 2 + 1
        reveal_type(z.sigmoid())
        reveal_type(2 - z)
        reveal_type((-z / 3) ** 2)
        reveal_type(abs(z).exp().log().tanh().relu())
        reveal_type(z < 1)
        bad = z + "one"
    """))
    package = Path(autograd_lite.__file__).parent
    assert (package / "py.typed").is_file()  # PEP 561: an installed copy is typed
    # mypy can't follow setuptools' editable-install import hook, so point it at the source
    env = {**os.environ, "MYPYPATH": str(package.parent)}
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context",
                           "--follow-imports=silent", "--cache-dir", str(tmp_path / ".mypy_cache"), str(snippet)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300, env=env)
    revealed = [(line, t.removeprefix("builtins."))
                for line, t in re.findall(r':(\d+): note: Revealed type is "([^"]+)"', proc.stdout)]
    assert revealed == [("3", "autograd_lite.engine.Value"), ("4", "autograd_lite.engine.Value"),
                        ("5", "autograd_lite.engine.Value"), ("6", "autograd_lite.engine.Value"),
                        ("7", "bool")], proc.stdout + proc.stderr
    # a wrong operand is an error, so the operators are really typed (not Any)
    errors = [ln for ln in proc.stdout.splitlines() if ": error:" in ln]
    assert len(errors) == 1 and ":8:" in errors[0] and "[operator]" in errors[0], proc.stdout
