"""Smoke test of the benchmark harness (`make bench`): a --quick run in a subprocess
produces the Markdown tables, and they parse; plus the harness's failure reporting."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"
TIME = re.compile(r"^(\d+(?:\.\d+)?) (µs|ms|s)$")
UNIT = {"µs": 1e-6, "ms": 1e-3, "s": 1.0}


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def parse_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """Every Markdown table of the text as a list of row dicts, keyed by the ``##`` heading above it."""
    tables: dict[str, list[dict[str, str]]] = {}
    lines = text.splitlines()
    heading = ""
    i = 0
    while i < len(lines):
        if lines[i].startswith("## "):
            heading = lines[i][3:].split(" (")[0].strip()
        if lines[i].startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|(---\|)+", lines[i + 1]):
            header = [c.strip() for c in lines[i].strip("|").split(" | ")]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip()[1:-1])]
                assert len(cells) == len(header), f"row has {len(cells)} cells, header {len(header)}: {lines[i]}"
                rows.append(dict(zip(header, cells)))
                i += 1
            tables[heading] = rows
        else:
            i += 1
    return tables


def seconds(cell: str) -> float:
    m = TIME.match(cell)
    assert m, f"not a time: {cell!r}"  # (a status such as "fails (...)" instead)
    return float(m.group(1)) * UNIT[m.group(2)]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, out.read_text(encoding="utf-8")


def test_quick_run_writes_and_prints_the_same_tables(quick_run):
    stdout, written = quick_run
    assert written.strip() in stdout
    assert written.startswith("# Benchmark results (quick run")
    for key in ("CPU", "cores", "Python", "numpy", "micrograd", "torch", "OPENBLAS_CORETYPE", "date"):
        assert f"| {key} |" in written


def test_times_table_parses(quick_run):
    tables = parse_tables(quick_run[1])
    times = tables["Times"]
    workloads = [r["workload"] for r in times]
    for w in ("wide", "chain", "mlp_step", "logreg_epoch"):
        assert workloads.count(w) >= 1
    assert workloads.count("wide") == 2 and workloads.count("chain") == 2
    for r in times:
        if r["workload"] in ("wide", "chain", "mlp_step", "logreg_epoch"):
            assert TIME.match(r["autograd_lite"]), r  # autograd_lite always runs
        assert r["met?"] == "—" or set(r["met?"].split(", ")) <= {"met", "NOT met", "n/a"}
    small_wide = next(r for r in times if r["workload"] == "wide")
    big_chain = [r for r in times if r["workload"] == "chain"][-1]
    assert "floor" in small_wide["ratios"] and "≤ 2×" in small_wide["target"]
    if _have("micrograd"):
        assert seconds(small_wide["micrograd"]) > 0
        assert big_chain["micrograd"] == "fails (RecursionError)"  # reported, not skipped
        logreg = next(r for r in times if r["workload"] == "logreg_epoch")
        assert logreg["micrograd"].startswith("n/a")  # micrograd 0.1.0 has no exp/log
    else:
        assert small_wide["micrograd"] == "absent"
    if _have("torch"):
        assert seconds(small_wide["torch scalar"]) > 0 and seconds(small_wide["torch batched"]) > 0
        assert big_chain["torch batched"] == "n/a"  # a chain has nothing to batch
    else:
        assert small_wide["torch scalar"] == "absent"


def test_targets_and_memory_tables(quick_run):
    tables = parse_tables(quick_run[1])
    targets = tables["Targets"]
    names = " ".join(t["target"] for t in targets)
    for part in ("speed-up vs micrograd", "time per node / floor", "mlp_step vectorised",
                 "logreg gradient vectorised", "memory per node", "freed by `del`",
                 "elementary ops vectorised", "trace + rewrite"):
        assert part in names
    assert all(t["verdict"] in ("met", "NOT met", "n/a") for t in targets)
    mem = {r["engine"]: r for r in tables["Memory"]}
    al = mem["autograd_lite"]
    assert 40 < float(al["bytes/node built"]) < 2000
    assert float(al["bytes/node after backward"]) >= float(al["bytes/node built"]) - 1
    assert al["freed by `del` with the cyclic GC disabled?"] == "yes"  # no reference cycles
    if _have("micrograd"):  # closures refer to their node: cycles, freed only by the collector
        assert mem["micrograd"]["freed by `del` with the cyclic GC disabled?"].startswith("no")


def test_absent_peers_are_reported_as_absent(tmp_path):
    """Without torch and micrograd (hidden from the interpreter) the run still completes."""
    out = tmp_path / "R.md"
    hide = ("import runpy, sys\n"
            "for m in ('torch', 'micrograd', 'micrograd.engine', 'micrograd.nn'):\n"
            "    sys.modules[m] = None\n"
            f"sys.argv = ['run.py', '--quick', '--out', {str(out)!r}]\n"
            f"runpy.run_path({str(RUN)!r}, run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", hide], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    times = parse_tables(out.read_text(encoding="utf-8"))["Times"]
    for r in times:
        if r["workload"] in ("wide", "chain", "mlp_step"):
            assert TIME.match(r["autograd_lite"]), r
            assert r["micrograd"] == "absent" and r["torch scalar"] == "absent", r
    targets = parse_tables(out.read_text(encoding="utf-8"))["Targets"]
    vs_mg = [t for t in targets if "vs micrograd" in t["target"]]
    assert vs_mg and all(t["verdict"] == "n/a" for t in vs_mg)  # not measured: neither met nor failed


# -- the harness itself, in-process ---------------------------------------------------------------


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        del sys.modules["bench_run"]


def test_missing_module_is_reported_not_raised(bench, monkeypatch):
    monkeypatch.setitem(sys.modules, "autograd_lite.vectorize", None)  # import now raises ImportError
    r = bench.build("logreg_grad", "vectorized", 20)
    assert isinstance(r, bench.Result) and r.status == "n/a (module not available)"
    res = bench._time_interleaved({"vectorized": r, "numpy": bench.build("logreg_grad", "numpy", 20)}, 0.0,
                                  min_rep=1, warmup=False)
    assert res["vectorized"].status.startswith("n/a") and res["numpy"].ok


def test_an_engine_that_raises_is_reported_as_failing(bench):
    def deep(_):
        def f(k):
            return f(k + 1)
        f(0)

    case = bench.W.Case(lambda: None, deep)
    ok = bench.W.Case(lambda: None, lambda _: sum(range(100)), nodes=100)
    res = bench._time_interleaved({"deep": case, "ok": ok}, 0.0, min_rep=3)
    assert res["deep"].status == "fails (RecursionError)"
    assert res["ok"].ok and len(res["ok"].times) == 3 and res["ok"].per_node == res["ok"].time / 100


def test_the_same_gradients_as_the_peers(bench):
    """The workloads compute the same thing on every engine (so the times compare like with like)."""
    import numpy as np

    from autograd_lite.engine import Value

    xs = [Value(v) for v in (0.5, -1.0, 2.0)]
    bench.W.make_wide("autograd_lite", 3).run(xs)
    assert [x.grad for x in xs] == [1.0, -2.0, 4.0]  # ∂Σx²/∂x = 2x
    y0 = Value(0.5)
    bench.W.make_chain("autograd_lite", 10).run(y0)
    assert y0.grad == pytest.approx(0.999 ** 10)
    g, gb = bench.W.reference_logreg_grad(50)
    case = bench.build("logreg_grad", "vectorized", 50)
    if isinstance(case, bench.Result):
        pytest.skip(case.status)
    _, (gw, gb2) = case.run(None)
    np.testing.assert_allclose(gw, g, rtol=1e-9, atol=1e-12)
    assert float(gb2) == pytest.approx(gb, rel=1e-9, abs=1e-12)


def test_the_gpt_workload_is_the_same_program_on_both_engines(bench):
    """Issue 24: the transformer step runs the same arithmetic on autograd_lite and on the
    local-gradients peer: equal losses step by step and equal gradients."""
    assert bench.W.gpt_losses_agree(2) <= 1e-12
    grads = {}
    for engine in ("autograd_lite", "local_grads"):
        _, model = bench.W.gpt_trainer(engine)
        loss = model.loss(bench.W.gpt_corpus()[0])
        loss.backward()
        grads[engine] = [p.grad for p in model.params]
    assert any(g != 0 for g in grads["autograd_lite"])
    assert grads["autograd_lite"] == pytest.approx(grads["local_grads"], rel=1e-12, abs=1e-15)


def test_the_parameters_as_arguments_step_equals_the_closure_step(bench):
    """Issue 24: the elementary-op step with its weights passed as arguments (scalars, one
    sequence) computes the same cost as with closure weights."""
    costs = [bench.W.make_mlp_step(e, 20).run(None)
             for e in ("vectorized_elementary", "vectorized_elementary_args", "vectorized_elementary_seq")]
    assert costs[1] == pytest.approx(costs[0], rel=1e-12) and costs[2] == pytest.approx(costs[0], rel=1e-12)


def test_the_gpt_step_alone_in_processes_is_reported(quick_run):
    tables = parse_tables(quick_run[1])
    alone = tables["The GPT step with each engine alone in a process of its own"]
    assert [r["timing"].split(" (")[0] for r in alone] == ["harness", "user script"]
    for r in alone:
        al, lg = (float(TIME.match(r[k]).group(0).split()[0]) for k in ("autograd_lite", "local-gradients engine"))
        assert al > 0 and lg > 0
        assert r["speed-up"].endswith("×") and abs(float(r["speed-up"][:-1]) - lg / al) <= 0.02 * lg / al + 0.01
    names = [t["target"] for t in tables["Targets"]]
    assert sum("each engine alone in its own process" in n for n in names) == 2


def test_gpt_processes_child_times_this_checkout_and_refuses_bad_input():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpt_processes.py"), "--child",
                           "autograd_lite", "user", "2"], cwd="/", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert set(out) == {"steps", "fastest", "median", "mean"} and out["steps"] == 2
    assert 0 < out["fastest"] <= out["mean"]
    bad = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpt_processes.py"), "--rounds", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--rounds and --steps must be at least 1" in bad.stderr
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpt_processes

    with pytest.raises(ValueError, match="mode must be one of"):
        gpt_processes.child("autograd_lite", "fast", 1)
    for bad_rounds, bad_steps in ((0, 1), (1, 0)):
        with pytest.raises(ValueError, match="at least 1"):
            gpt_processes.measure(bad_rounds, bad_steps)
    fake = {"harness": {"autograd_lite": [1.0, 3.0, 2.0], "local_grads": [5.0, 4.0, 6.0]},
            "user": {"autograd_lite": [2.0], "local_grads": [3.0]}}
    assert gpt_processes.ratios(fake) == {"harness": 2.5, "user": 1.5}
    assert "| 2000.0 ms | 5000.0 ms | 2.50× |" in gpt_processes.markdown(fake)


def test_make_bench_keeps_the_hand_written_notes_of_the_results_file(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "run_all", lambda quick, log=print: {})
    monkeypatch.setattr(bench, "report", lambda data, quick: "# Benchmark results\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    out = tmp_path / "RESULTS.md"
    assert bench.kept_notes(out) == ""  # no file yet
    out.write_text("# old results\n\nno notes here\n", encoding="utf-8")
    assert bench.kept_notes(out) == ""  # a file without the marker: nothing to keep
    notes = f"{bench.KEEP}\n\n## Measured by hand\n\n- 42 ms\n"
    only_notes = tmp_path / "notes.md"
    only_notes.write_text(notes, encoding="utf-8")
    assert bench.kept_notes(only_notes) == "\n" + notes  # the marker on the file's first line
    out.write_text("# old results\n\n| a | b |\n|---|---|\n| 0 | 0 |\n\n" + notes, encoding="utf-8")
    for _ in range(2):  # and again: the notes are kept once, not piled up
        assert bench.main(["--quick", "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        assert text.startswith("# Benchmark results") and "| 1 | 2 |" in text and "| 0 | 0 |" not in text
        assert text.endswith(" s.\n\n" + notes) and text.count(bench.KEEP) == 1  # a blank line before them


def test_gpt_processes_child_warms_up_then_times_each_step_as_the_mode_says():
    import gc

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpt_processes

    for mode in ("harness", "user"):
        seen = []  # frozen objects during each call
        now = [0.0]  # a fake clock: each step takes the time given here
        takes = iter([5.0, 5.0, 3.0, 1.0, 3.0])

        def trainer(engine):
            assert engine == "x"  # the engine asked for

            def step():
                seen.append(gc.get_freeze_count())
                now[0] += next(takes)
            return step, None

        out = gpt_processes.child("x", mode, 3, warmup=2, trainer=trainer, clock=lambda: now[0])
        assert len(seen) == 5  # 2 untimed warm-up steps, then 3 timed
        assert out == {"steps": 3, "fastest": 1.0, "median": 3.0, "mean": 7 / 3}
        frozen = [n > 0 for n in seen[2:]]
        assert frozen == ([True] * 3 if mode == "harness" else [False] * 3)  # gc.freeze() before each timed step
        assert gc.get_freeze_count() == 0  # unfrozen at the end


def test_gpt_processes_measure_takes_turns_and_picks_each_timings_statistic(monkeypatch):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpt_processes

    calls = []

    def spawn(cmd, what, timeout):
        engine, mode = cmd[-3], cmd[-2]
        calls.append((engine, mode))
        base = 1.0 if engine == "autograd_lite" else 3.0
        return {"steps": 1, "fastest": base, "median": base + 0.5, "mean": base + 1.0}

    monkeypatch.setattr(gpt_processes, "_spawn", spawn)
    out = gpt_processes.measure(2, 1)
    assert calls == [("autograd_lite", "harness"), ("local_grads", "harness"), ("autograd_lite", "user"),
                     ("local_grads", "user"), ("local_grads", "harness"), ("autograd_lite", "harness"),
                     ("local_grads", "user"), ("autograd_lite", "user")]
    assert out == {"harness": {"autograd_lite": [1.0, 1.0], "local_grads": [3.0, 3.0]},
                   "user": {"autograd_lite": [2.0, 2.0], "local_grads": [4.0, 4.0]}}


def test_gpt_processes_spawn_reports_a_failed_process():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpt_processes

    ok = [sys.executable, "-c", "print('{\"fastest\": 1.0}')"]
    assert gpt_processes._spawn(ok, "a test", 60) == {"fastest": 1.0}
    for code in ("print('{\"fastest\": 1.0}'); raise SystemExit(3)",  # printed, then failed
                 "print('no json here')"):  # exit 0 but nothing to read
        with pytest.raises(RuntimeError, match="the a test process failed: exit"):
            gpt_processes._spawn([sys.executable, "-c", code], "a test", 60)


@pytest.mark.parametrize("args, message", [
    (["--child", "foo", "user", "1"], "--child: engine must be one of ('autograd_lite', 'local_grads'), not 'foo'"),
    (["--child", "autograd_lite", "fast", "1"], "--child: mode must be one of ('harness', 'user'), not 'fast'"),
    (["--child", "autograd_lite", "user", "zero"],
     "--child: the number of steps must be a whole number ≥ 1, not 'zero'"),
    (["--child", "autograd_lite", "user", "0"], "--child: the number of steps must be a whole number ≥ 1, not '0'"),
    (["--steps", "-3"], "--rounds and --steps must be at least 1"),
])
def test_gpt_processes_bad_input_gets_a_one_line_error(args, message):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpt_processes.py"), *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1] == f"gpt_processes.py: error: {message}"
    assert "Traceback" not in proc.stderr


def test_gpt_processes_a_failed_engine_process_is_one_line(monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gpt_processes

    def spawn(cmd, what, timeout):
        raise RuntimeError(f"the {what} process failed: exit 1: MemoryError")

    monkeypatch.setattr(gpt_processes, "_spawn", spawn)
    with pytest.raises(SystemExit) as stop:
        gpt_processes.main(["--rounds", "1", "--steps", "1"])
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err.endswith("error: the autograd_lite (harness timing) process failed: exit 1: MemoryError\n")
    assert err.count("\n") == 1
