"""Benchmark autograd_lite against micrograd and PyTorch (issue 6, with issue 8's vectorised rows).

    python benchmarks/run.py              # full run (about 2-4 minutes), writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick      # tiny sizes, a few seconds (the smoke test)
    python benchmarks/run.py --profile    # where autograd_lite's time goes (cProfile)
    python benchmarks/run.py --core       # micrograd's sizes only, vs micrograd, timed both ways (below)
    python benchmarks/run.py --pictures   # render_backprop's page for an MLP: time and size (issue 21)

Times are the fastest of several repeats (``--stat median``: the median) of forward +
backward (+ update): on a shared machine the fastest run is the least disturbed one.  With the
cyclic garbage collector enabled as in normal use; all engines run in this one
process, except sizes that may exhaust a peer (micrograd's recursive topological
sort, PyTorch scalar tensors at depth 10⁶), which run in a time-limited subprocess.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):  # measure this checkout's autograd_lite
    if _p not in sys.path:
        sys.path.insert(0, _p)

import gpt_processes  # noqa: E402
import workloads as W  # noqa: E402

PEERS = ("micrograd", "torch_scalar", "torch_batched")
# how a row's repeats become its time: the fastest (default), or the median (--stat median)
_STAT: dict = {"arg": "min", "name": "fastest", "pick": min}


# ----------------------------------------------------------------------------- timing


@dataclass
class Result:
    status: str  # "ok", or what happened: "fails (RecursionError)", "absent", "n/a (...)", "timeout (...)"
    time: float | None = None  # seconds: the fastest repeat (``--stat median``: the median)
    times: list[float] = field(default_factory=list)
    nodes: int | None = None
    note: str = ""
    gc_share: float | None = None  # fraction of the time spent in the cyclic garbage collector

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def per_node(self) -> float | None:
        return self.time / self.nodes if self.ok and self.nodes else None


class _GCClock:
    """Seconds spent in the cyclic garbage collector while active (via ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start: float | None = None

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        elif self._start is not None:
            self.total += time.perf_counter() - self._start
            self._start = None

    def __enter__(self) -> _GCClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)


def build(workload: str, engine: str, size: int | None) -> W.Case | Result:
    """The case, or a Result saying why it cannot run (absent module, missing op, setup error)."""
    try:
        return W.MAKERS[workload](engine, size)
    except W.Unavailable as e:
        return Result(str(e))
    except Exception as e:  # e.g. an API this harness expected has changed
        return Result(f"fails ({type(e).__name__} in setup)", note=f"{type(e).__name__}: {e}"[:200])


def _time_interleaved(cases: dict[str, W.Case | Result], budget: float, min_rep: int = 3, max_rep: int = 30,
                     warmup: bool = True) -> dict[str, Result]:
    """Median wall time of each case's ``run``, the cases taking turns (round-robin), so that
    a change in the machine's load hits every engine alike.  Rounds go on while fewer than
    ``min_rep`` or while the total is under ``budget`` seconds (at most ``max_rep``).
    The cyclic GC stays enabled.  Before each timed run (untimed) ``gc.collect()`` and
    ``gc.freeze()`` set aside every object alive then (the harness, torch's modules, the
    inputs), so the collections during the run traverse what the run itself makes, as in a
    lean process.  Each timed run ends with ``gc.collect()``: an engine pays for collecting the
    cyclic garbage it leaves (micrograd's closures), as a training loop pays on a later step,
    and not the next engine.  ``gc.unfreeze()`` at the end.
    An engine that raises is reported as failing (e.g. ``fails (RecursionError)``)."""
    results: dict[str, Result] = {k: c for k, c in cases.items() if isinstance(c, Result)}
    live = {k: c for k, c in cases.items() if not isinstance(c, Result)}
    times: dict[str, list[float]] = {k: [] for k in live}
    gc_times: dict[str, list[float]] = {k: [] for k in live}

    def fail(name: str, e: BaseException) -> None:
        results[name] = Result(_error_status(e), note=f"{type(e).__name__}: {e}"[:200])
        del live[name]

    if warmup:
        for name, case in list(live.items()):
            try:
                case.run(case.setup())
            except Exception as e:
                fail(name, e)
    elapsed, rounds = 0.0, 0
    while live and rounds < max_rep and (rounds < min_rep or elapsed < budget):
        for name, case in list(live.items()):
            try:
                state = case.setup()
                gc.collect()  # start clean (untimed), then set aside all that is alive now: the harness,
                gc.freeze()  # torch's modules, the inputs; collections in the run see only what it makes
                with _GCClock() as clock:
                    t0 = time.perf_counter()
                    case.run(state)
                    gc.collect()  # the run pays for collecting the cyclic garbage it leaves behind
                    dt = time.perf_counter() - t0
            except Exception as e:
                fail(name, e)
                continue
            del state
            times[name].append(dt)
            gc_times[name].append(clock.total)
            elapsed += dt
        rounds += 1
    gc.unfreeze()
    for name, case in live.items():
        share = sum(gc_times[name]) / sum(times[name]) if sum(times[name]) else 0.0
        results[name] = Result("ok", _STAT["pick"](times[name]), times[name], case.nodes, case.note, share)
    return {k: results[k] for k in cases}


def _time_user_script(cases: dict[str, W.Case | Result], budget: float, min_rep: int = 5,
                      max_rep: int = 200, streak: int = 10) -> dict[str, tuple[float, float] | None]:
    """(median, fastest) seconds of ``run(setup())`` timed as a user's script
    runs it: the leaves are created inside the timed region and no ``gc.collect()``/
    ``gc.freeze()`` is charged to either engine (the cyclic GC runs whenever allocation
    triggers it, on the garbage the engine itself left: micrograd's cycles).  The engines
    take turns by streaks of ``streak`` runs, each streak starting from a collected heap
    whose objects are set aside (``gc.freeze()``, untimed: torch's modules and the harness
    are not in a user's script), so that neither pays for the other's garbage."""
    live = {k: c for k, c in cases.items() if not isinstance(c, Result)}
    times: dict[str, list[float]] = {k: [] for k in live}
    for case in live.values():  # warm up
        case.run(case.setup())
    elapsed, rounds = 0.0, 0
    while rounds < max_rep and (rounds < min_rep or elapsed < budget):
        for name, case in live.items():
            gc.collect()  # untimed: the streak starts clean, in a lean heap, as a script does
            gc.freeze()
            spent = 0.0
            for _ in range(streak):
                t0 = time.perf_counter()
                case.run(case.setup())
                dt = time.perf_counter() - t0
                times[name].append(dt)
                spent += dt
                if spent > budget / 20:  # a slow workload: shorter streaks (the budget bounds the rounds)
                    break
            elapsed += spent
            gc.unfreeze()
        rounds += 1
    return {k: ((statistics.median(times[k]), min(times[k])) if k in times else None) for k in cases}


def core(budget: float = 2.0) -> str:
    """micrograd's sizes (wide n = 450, chain depth 400, the demo's MLP step), autograd_lite
    against micrograd in this one process, timed the harness's way (`_time_interleaved`) and
    the user-script way (`_time_user_script`); then depth 10⁶ and bytes per node built."""
    lines = ["| row | harness: micrograd / autograd_lite | user script: micrograd / autograd_lite "
             "(median) | user script, best run | target (issue 24) |",
             "|---|---|---|---|---|"]
    for workload, size, label in (("wide", 450, "wide n = 450"), ("chain", 400, "chain depth 400"),
                                  ("mlp_step", 100, "mlp_step (demo)")):
        cases = {e: build(workload, e, size) for e in ("autograd_lite", "micrograd")}
        h = _time_interleaved(cases, budget, min_rep=5, max_rep=200)
        u = _time_user_script(cases, budget)
        hr = ratio(h["micrograd"], h["autograd_lite"]) if h["micrograd"].ok and h["autograd_lite"].ok else None
        um, ua = u["micrograd"], u["autograd_lite"]
        ur, br = (um[0] / ua[0], um[1] / ua[1]) if um and ua else (None, None)
        # issue 24: the wide row as a user's script times it, ≥ 2× micrograd (the best run: the
        # least disturbed by the machine and by the other engine's garbage)
        verdict = Target("", "", "", check(br, lambda x: x >= 2)).verdict
        goal = "—" if workload != "wide" else f"≥ 2× (best run): {verdict}"
        lines.append(f"| {label} | {fmt_ratio(hr)} | {fmt_ratio(ur)} | {fmt_ratio(br)} | {goal} |")
        print(lines[-1], file=sys.stderr, flush=True)
    deep = measure("chain", "autograd_lite", 1_000_000, 0.0, min_rep=1, max_rep=1, warmup=False)
    mem = memory_per_node("autograd_lite", 33_334)
    lines += ["", f"- depth 1,000,000: {cell(deep)}",
              f"- bytes per node built: {mem.get('built', float('nan')):.0f} (after backward "
              f"{mem.get('after_backward', float('nan')):.0f}); freed by del: {mem.get('freed')}",
              f"- load average (1 min): {_loadavg()}"]
    return "\n".join(lines)


def _error_status(e: BaseException) -> str:
    return f"fails ({type(e).__name__})"


def measure(workload: str, engine: str, size: int | None, budget: float, **kw) -> Result:
    """Build and time one (workload, engine, size) alone in this process."""
    return _time_interleaved({engine: build(workload, engine, size)}, budget, **kw)[engine]


def measure_isolated(workload: str, engine: str, size: int, budget: float, timeout: float) -> Result:
    """`measure` in a child interpreter, killed after ``timeout`` s (risky peer sizes)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stat", _STAT["arg"], "--worker", workload, engine,
           str(size), str(budget)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(f"timeout (> {timeout:.0f} s for one run)")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return Result(f"fails (exit {proc.returncode}: {tail[:80]})")
    data = json.loads(lines[-1])
    r = Result(data["status"], data.get("time"), data.get("times", []), data.get("nodes"), data.get("note", ""),
               data.get("gc_share"))
    r.note = (r.note + f"; alone in a subprocess ({time.perf_counter() - t0:.0f} s)").lstrip("; ")
    return r


def _worker(workload: str, engine: str, size: str, budget: str) -> None:
    r = measure(workload, engine, int(size), float(budget), min_rep=1, max_rep=3, warmup=False)
    print(json.dumps({"status": r.status, "time": r.time, "times": r.times, "nodes": r.nodes, "note": r.note,
                      "gc_share": r.gc_share}))


# ----------------------------------------------------------------------------- memory


def _tree_graph(Value, n: int):
    """Σ xᵢ² over n fresh leaves, summed pairwise (depth log₂ n, so a recursive backward
    copes too): 3n − 1 nodes, no constants."""
    level = [x * x for x in (Value(0.001 * i) for i in range(n))]
    while len(level) > 1:
        pairs = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            pairs.append(level[-1])
        level = pairs
    return level[0]


def _traced_now() -> int:
    return tracemalloc.get_traced_memory()[0]


def memory_per_node(engine: str, n: int) -> dict:
    """Bytes per node (tracemalloc) of a 3n − 1 node graph (leaves included), after building
    and after backward; then whether ``del`` frees it with the cyclic GC disabled."""
    try:
        Value = W._scalar_value_class(engine)
    except W.Unavailable as e:
        return {"status": str(e)}
    nodes = 3 * n - 1
    out: dict = {"status": "ok", "nodes": nodes}
    gc.collect()
    was_enabled = gc.isenabled()
    tracemalloc.start()
    try:
        gc.disable()
        base = _traced_now()
        y = _tree_graph(Value, n)
        out["built"] = (_traced_now() - base) / nodes
        y.backward()
        out["after_backward"] = (_traced_now() - base) / nodes
        held = _traced_now() - base
        del y
        left = _traced_now() - base
        out["left_after_del"] = left
        out["freed"] = left < max(16384, 0.01 * held)  # a few interpreter caches may stay, not the graph
        gc.collect()
        out["left_after_collect"] = _traced_now() - base
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    return out


# ----------------------------------------------------------------------------- environment


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "absent"


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl absent"
    info = [f"{d.get('internal_api')} {d.get('version')} ({d.get('architecture')}, {d.get('num_threads')} threads)"
            for d in threadpool_info() if d.get("user_api") == "blas"]
    return "; ".join(info) or "none found"


def environment() -> dict[str, str]:
    import numpy as np

    torch_threads = "absent"
    try:
        import torch

        torch_threads = str(torch.get_num_threads())
    except ImportError:
        pass
    return {
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "platform": platform.platform(),
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "micrograd": _version("micrograd"),
        "torch": _version("torch"),
        "torch threads": torch_threads,
        "numpy BLAS": _blas(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "not set"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "not set"),
    }


# ----------------------------------------------------------------------------- formatting


def fmt_time(t: float | None) -> str:
    if t is None:
        return "—"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.2f} ms"
    return f"{t * 1e6:.1f} µs"


def cell(r: Result | None) -> str:
    if r is None:
        return "—"
    return fmt_time(r.time) if r.ok else r.status


def ratio(a: Result | None, b: Result | None) -> float | None:
    """How many times faster ``b`` is than ``a`` (a.time / b.time)."""
    if a is None or b is None or not (a.ok and b.ok) or not b.time:
        return None
    return a.time / b.time


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else (f"{x:.1f}×" if x >= 10 else f"{x:.2f}×")


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    esc = [[str(c).replace("|", "\\|") for c in row] for row in rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in esc]
    return "\n".join(lines)


@dataclass
class Target:
    name: str
    wanted: str
    measured: str
    met: bool | None  # None: could not be measured

    @property
    def verdict(self) -> str:
        return "n/a" if self.met is None else ("met" if self.met else "NOT met")


def check(value: float | None, ok) -> bool | None:
    return None if value is None else bool(ok(value))


# ----------------------------------------------------------------------------- the run


def sizes(quick: bool) -> dict:
    if quick:
        return {"wide": (60, 1500), "chain": (50, 3000), "mlp_n": 6, "logreg_m": 40, "mem_n": 700,
                "vec_m": 500, "trace_h": 8, "budget": 0.02, "big_budget": 0.02, "timeout": 60,
                "min_rep": 2}
    return {"wide": (450, 100_000), "chain": (400, 1_000_000), "mlp_n": 100, "logreg_m": None,
            "mem_n": 33_334, "vec_m": 10_000, "trace_h": 69, "budget": 2.0, "big_budget": 3.0,
            "timeout": 120, "min_rep": 5}


def run_all(quick: bool, log=print) -> dict:
    S = sizes(quick)
    budget, big = S["budget"], S["big_budget"]
    rows: list[dict] = []

    def time_interleaved(cases, budget, **kw):
        return _time_interleaved(cases, budget, min_rep=S["min_rep"], max_rep=200, **kw)

    load_before = _loadavg()

    def row(workload, size, label, results):
        rows.append({"workload": workload, "size": size, "label": label, **results})
        shown = ", ".join(f"{k}={cell(v)}" for k, v in results.items())
        log(f"  {workload:<14} {label:<22} {shown}")

    # micrograd's sizes first, while the process is fresh for every engine; then the big graphs,
    # whose millions of nodes leave a large, fragmented heap behind for whatever runs next
    for index in (0, 1):
        for workload in ("wide", "chain"):
            size = S[workload][index]
            nodes = 2 * size - (1 if workload == "wide" else 0)
            log(f"{workload} {size:,} ...")
            cases = {"autograd_lite": build(workload, "autograd_lite", size), "floor": W.make_floor(nodes)}
            isolated = []
            for peer in PEERS:
                cases[peer] = build(workload, peer, size)  # a Result if the peer is absent here
                # micrograd sorts recursively (fails past ~1000 levels) and PyTorch scalar tensors take
                # seconds per million nodes: their big graphs run alone in a time-limited subprocess
                if (not isinstance(cases[peer], Result) and peer != "torch_batched"
                        and (nodes > 250_000 or (peer == "micrograd" and nodes > 2_000))):
                    isolated.append(peer)
                    del cases[peer]
            res = time_interleaved(cases, budget if nodes < 20_000 else big, warmup=nodes < 20_000)
            for peer in isolated:
                res[peer] = measure_isolated(workload, peer, size, big, S["timeout"])
            row(workload, size, f"n = {size:,}" if workload == "wide" else f"depth {size:,}",
                {k: res[k] for k in ("autograd_lite", *PEERS, "floor")})

    log("mlp_step ...")
    n = S["mlp_n"]
    res = time_interleaved({e: build("mlp_step", e, n) for e in ("autograd_lite", *PEERS, "vectorized",
                                                                 "autograd_lite_elementary", "vectorized_elementary",
                                                                 "vectorized_elementary_args",
                                                                 "vectorized_elementary_seq")},
                           budget)
    row("mlp_step", n, f"{n} moons, MLP(2,[16,16,1])", res)

    log("trace + rewrite (issue 16) ...")
    h = S["trace_h"]
    res = time_interleaved({e: build("trace", e, h) for e in ("autograd_lite", "vectorized")}, budget)
    row("trace", h, f"{2 * h * h + 8 * h + 4:,}-node tape (MLP 2→{h}→{h}→1, + and ×)", res)

    log("gpt (issue 24) ...")
    worst = W.gpt_losses_agree(4)  # raises unless both engines give the same losses, step by step
    res = time_interleaved({e: build("gpt", e, None) for e in ("autograd_lite", "local_grads")}, budget)
    for r in res.values():
        r.note = (r.note + f"; losses of 4 steps equal to {worst:.0e} relative").lstrip("; ")
    row("gpt", None, "one layer, 16 wide, 4 heads, names of 6 letters", res)

    log("gpt, each engine alone in a process of its own ...")
    gpt_alone = gpt_processes.measure(1, 1) if quick else gpt_processes.measure(5, 12)

    log("logreg_epoch ...")
    m = S["logreg_m"]
    res = time_interleaved({e: build("logreg_epoch", e, m) for e in ("autograd_lite", *PEERS)}, budget)
    row("logreg_epoch", m, "breast cancer, 30 feat." if m is None else f"{m} rows, 30 feat.", res)

    log("logreg gradient (issue 8) ...")
    vm = S["vec_m"]
    res = time_interleaved({e: build("logreg_grad", e, vm) for e in ("vectorized", "numpy", "torch_batched")},
                           budget)
    row("logreg_grad", vm, f"{vm:,} × 30", res)

    log("SymPy bridge (issue 22) ...")
    import symbolic_bench

    symbolic = symbolic_bench.measure(quick)

    log("memory ...")
    mem = {e: memory_per_node(e, S["mem_n"]) for e in ("autograd_lite", "micrograd")}
    env = environment()
    env["load average (1 min) before / after"] = f"{load_before} / {_loadavg()}"
    return {"S": S, "rows": rows, "mem": mem, "env": env, "symbolic": symbolic, "gpt_alone": gpt_alone}


def _loadavg() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def _find(rows, workload, i):
    found = [r for r in rows if r["workload"] == workload]
    return found[i] if i < len(found) else None


def _elementary_rows(r: dict, target) -> list[list[str]]:
    """Issue 16: micrograd's demo step written per example with + and × (s = b; s = s + w·h),
    scalar and vectorized, timed in the same rounds as the mlp_step row."""
    mg, ts, tb = r.get("micrograd"), r.get("torch_scalar"), r.get("torch_batched")
    ae, ve = r.get("autograd_lite_elementary"), r.get("vectorized_elementary")
    va, vs = r.get("vectorized_elementary_args"), r.get("vectorized_elementary_seq")
    out = []
    if ae is not None:
        out.append(["mlp_step elementary ops", r["label"], cell(ae), cell(mg), cell(ts), cell(tb),
                    f"{fmt_ratio(ratio(mg, ae))} vs micrograd; {fmt_ratio(ratio(ts, ae))} vs torch scalar", "—", "—"])
    if ve is not None:
        v_mg, v_tb = ratio(mg, ve), ratio(ve, tb)
        t1 = target("mlp_step elementary ops vectorised: speed-up vs micrograd", "≥ 300×", v_mg, lambda x: x >= 300)
        t2 = target("mlp_step elementary ops vectorised: time / torch batched time", "≤ 2×", v_tb, lambda x: x <= 2)
        out.append(["mlp_step elementary ops vectorised", r["label"], cell(ve), cell(mg), cell(ts), cell(tb),
                    f"{fmt_ratio(v_mg)} vs micrograd; {fmt_ratio(v_tb)} torch batched's time",
                    "≥300× mg, ≤2× torch batched", f"{t1.verdict}, {t2.verdict}"])
    for res, style, label in ((va, "weights as arguments", "*params, x1, x2, y"),
                              (vs, "weights as one sequence argument", "params, x1, x2, y")):
        if res is None:
            continue
        v_mg, v_tb = ratio(mg, res), ratio(res, tb)  # issue 24
        t1 = target(f"mlp_step elementary ops vectorised, {style}: speed-up vs micrograd", "≥ 300×", v_mg,
                    lambda x: x >= 300)
        t2 = target(f"mlp_step elementary ops vectorised, {style}: time / torch batched time", "≤ 2×", v_tb,
                    lambda x: x <= 2)
        out.append([f"mlp_step elementary ops vectorised, {style}", f"{r['label']}; f({label})", cell(res),
                    cell(mg), cell(ts), cell(tb),
                    f"{fmt_ratio(v_mg)} vs micrograd; {fmt_ratio(v_tb)} torch batched's time",
                    "≥300× mg, ≤2× torch batched", f"{t1.verdict}, {t2.verdict}"])
    return out


def _gc_cell(r: Result | None) -> str:
    return f"{100 * r.gc_share:.0f}%" if r is not None and r.ok and r.gc_share is not None else "—"


def report(data: dict, quick: bool) -> str:
    rows, S = data["rows"], data["S"]
    targets: list[Target] = []
    table = []
    header = ["workload", "size", "autograd_lite", "micrograd", "torch scalar", "torch batched",
              "ratios", "target", "met?"]

    def target(name, wanted, value, ok, shown=None):
        t = Target(name, wanted, shown if shown is not None else fmt_ratio(value), check(value, ok))
        targets.append(t)
        return t

    for r in rows:
        wl = r["workload"]
        if wl in ("logreg_grad", "trace", "gpt"):
            continue
        al, mg, ts, tb = (r.get(k) for k in ("autograd_lite", "micrograd", "torch_scalar", "torch_batched"))
        vs_mg, vs_ts, vs_tb = ratio(mg, al), ratio(ts, al), ratio(tb, al)
        parts = [f"{fmt_ratio(vs_mg)} vs micrograd", f"{fmt_ratio(vs_ts)} vs torch scalar"]
        if tb is not None and tb.ok:
            parts.append(f"{fmt_ratio(vs_tb)} vs torch batched")
        made: list[Target] = []
        if wl in ("wide", "chain"):
            big = r["size"] == S[wl][-1]
            floor = r["floor"]
            pn = al.per_node
            fl = pn / floor.per_node if (pn and floor.per_node) else None
            parts.append(f"{pn * 1e9:.0f} ns/node = {fmt_ratio(fl)} floor ({floor.per_node * 1e9:.0f} ns)"
                         if pn else "per node —")
            tname = f"{wl} {r['label']}"
            if not big:
                made.append(target(f"{tname}: speed-up vs micrograd", "≥ 2.5×", vs_mg, lambda x: x >= 2.5))
                made.append(target(f"{tname}: speed-up vs torch scalar", "≥ 6×", vs_ts, lambda x: x >= 6))
            made.append(target(f"{tname}: time per node / floor", "≤ 2×", fl, lambda x: x <= 2))
            if wl == "chain" and big:
                small = _find(rows, "chain", 0)["autograd_lite"]
                lin = al.per_node / small.per_node if (al.ok and small.ok) else None
                parts.append(f"per node {fmt_ratio(lin)} that of depth {S['chain'][0]}")
                made.append(target(f"{tname}: works; per node / per node at depth {S['chain'][0]}", "≤ 2×", lin,
                                   lambda x: x <= 2, None if al.ok else al.status))
        elif wl == "mlp_step":
            made.append(target("mlp_step: speed-up vs micrograd", "≥ 25×", vs_mg, lambda x: x >= 25))
        table.append([wl, r["label"], cell(al), cell(mg), cell(ts), cell(tb), "; ".join(parts),
                      ", ".join(t.wanted for t in made) or "—", ", ".join(t.verdict for t in made) or "—"])
        if wl == "mlp_step":  # issue 8's vectorised row, timed in the same rounds
            vm = r["vectorized"]
            v_mg, v_tb = ratio(mg, vm), ratio(vm, tb)
            t5 = target("mlp_step vectorised: speed-up vs micrograd", "≥ 300×", v_mg, lambda x: x >= 300)
            t6 = target("mlp_step vectorised: time / torch batched time", "≤ 3×", v_tb, lambda x: x <= 3)
            t6b = target("mlp_step vectorised (nn layers): time / torch batched time (issue 16)", "≤ 1×", v_tb,
                         lambda x: x <= 1)
            table.append(["mlp_step vectorised", r["label"], cell(vm), cell(mg), cell(ts), cell(tb),
                          f"{fmt_ratio(v_mg)} vs micrograd; {fmt_ratio(v_tb)} torch batched's time",
                          "≥300× mg, ≤3× torch batched, ≤1× (issue 16)",
                          f"{t5.verdict}, {t6.verdict}, {t6b.verdict}"])
            table.extend(_elementary_rows(r, target))
    tr = _find(rows, "trace", 0)
    if tr is not None:  # issue 16, 24: compiling costs about one scalar step of the same graph (< 1× retired)
        sc, vt = tr["autograd_lite"], tr["vectorized"]
        t_tr = ratio(vt, sc)
        t9 = target(f"trace + rewrite a {tr['label'].split()[0]} tape: time / one scalar forward + backward",
                    "≤ 1.5×", t_tr, lambda x: x <= 1.5)
        table.append(["trace + rewrite", tr["label"], cell(vt), "—", "—", "—",
                      f"scalar forward + backward {cell(sc)}; {fmt_ratio(t_tr)} its time",
                      "≤1.5× scalar step (<1× retired)", t9.verdict])
    gp = _find(rows, "gpt", 0)
    if gp is not None:  # issue 24: a transformer written per token with scalar Values
        al, lg = gp["autograd_lite"], gp["local_grads"]
        t_gp = ratio(lg, al)
        t10 = target("gpt step: speed-up vs a local-gradients engine", "≥ 2.5×", t_gp, lambda x: x >= 2.5)
        table.append(["gpt step (forward, backward, Adam)", gp["label"], cell(al), "—", "—", "—",
                      f"local-gradients engine {cell(lg)}; {fmt_ratio(t_gp)} vs it", "≥ 2.5×", t10.verdict])
    if data.get("gpt_alone"):  # the same step, each engine alone in a process (gpt_processes.py)
        for mode, r in gpt_processes.ratios(data["gpt_alone"]).items():
            target(f"gpt step, each engine alone in its own process, {mode} timing: speed-up", "≥ 2.5×", r,
                   lambda x: x >= 2.5)
    lg = _find(rows, "logreg_grad", 0)
    if lg is not None:
        vl, nl, tl = lg["vectorized"], lg["numpy"], lg["torch_batched"]
        v_np = ratio(vl, nl)
        t7 = target("logreg gradient vectorised: time / numpy-by-hand time", "≤ 3×", v_np, lambda x: x <= 3)
        table.append(["logreg_grad vectorised", lg["label"], cell(vl), "—", "—", cell(tl),
                      f"numpy by hand {cell(nl)}; {fmt_ratio(v_np)} its time", "≤3× numpy", t7.verdict])

    # memory
    mem = data["mem"]
    mem_rows = []
    for e, m in mem.items():
        if m["status"] != "ok":
            mem_rows.append([e, m["status"], "—", "—", "—"])
            continue
        freed = ("yes" if m["freed"] else f"no: {m['left_after_del'] / 1e6:.1f} MB still held, until gc.collect() "
                 f"({m['left_after_collect'] / 1e3:.0f} kB after it)")
        mem_rows.append([e, f"{m['nodes']:,}", f"{m['built']:.0f}", f"{m['after_backward']:.0f}", freed])
    al_mem = mem["autograd_lite"]
    if al_mem["status"] == "ok":
        target("memory per node after building", "≤ 150 B", al_mem["built"], lambda x: x <= 150,
               f"{al_mem['built']:.0f} B")
        target("memory per node after backward (grads stored)", "≤ 150 B", al_mem["after_backward"],
               lambda x: x <= 150, f"{al_mem['after_backward']:.0f} B")
        target("graph freed by `del` with the cyclic GC off", "yes", float(al_mem["freed"]), lambda x: x == 1,
               "yes" if al_mem["freed"] else "no")

    gc_rows = [[r["workload"], r["label"], *(_gc_cell(r.get(k)) for k in ("autograd_lite", "micrograd",
                                                                             "torch_scalar", "floor"))]
               for r in rows if r["workload"] in ("wide", "chain", "mlp_step", "logreg_epoch")]

    env = data["env"]
    out = ["# Benchmark results" + (" (quick run: tiny sizes, not the real benchmark)" if quick else ""), ""]
    out += [f"Generated by `python benchmarks/run.py{' --quick' if quick else ''}` (`make bench`).", ""]
    out += [markdown_table(["machine, software", "value"], [[k, v] for k, v in env.items()]), ""]
    out += [f"## Times ({_STAT['name']} of repeats, forward + backward (+ update), gc enabled)", ""]
    out += [markdown_table(header, table), ""]
    out += ["Ratios are *peer time / autograd_lite time* (how many times faster autograd_lite is), except where "
            "a row says \"… 's time\" (autograd_lite's time / the reference's time: lower is better).  "
            "The engines of a row take turns, repeat by repeat, so a change in the machine's load hits all alike; "
            "graphs are freed inside the timed region (as in a training loop).  "
            "Floor: allocating one bare slotted object holding two parents and doing one float add, the same "
            "number of times as the row has nodes, timed in the same rounds.", ""]
    out += ["## Share of the time spent in the cyclic garbage collector", ""]
    out += [markdown_table(["workload", "size", "autograd_lite", "micrograd", "torch scalar", "floor"], gc_rows), ""]
    out += [f"## Memory (tracemalloc): Σ xᵢ² over {S['mem_n']:,} fresh leaves summed pairwise, leaves included", ""]
    out += [markdown_table(["engine", "nodes", "bytes/node built", "bytes/node after backward",
                            "freed by `del` with the cyclic GC disabled?"], mem_rows), ""]
    if data.get("gpt_alone"):
        out += ["## The GPT step with each engine alone in a process of its own (issue 24)", ""]
        out += [gpt_processes.__doc__.split("\n\n")[1].replace("\n", " "), "",
                gpt_processes.markdown(data["gpt_alone"]), ""]
    if data.get("symbolic"):
        import symbolic_bench

        out += symbolic_bench.markdown(data["symbolic"])
    out += ["## Targets (issues 6, 8, 16, 24)", ""]
    out += [markdown_table(["target", "wanted", "measured", "verdict"],
                           [[t.name, t.wanted, t.measured, t.verdict] for t in targets]), ""]
    notes = sorted({f"{e} ({r['workload']}): {r[e].note}" for r in rows for e in r
                    if isinstance(r[e], Result) and r[e].note and e != "floor"})
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def _phases(build_graph, leaves_setup, repeats: int = 3) -> dict[str, float]:
    """Median seconds of forward (build), backward and freeing, each with the cyclic GC on and off."""
    out: dict[str, float] = {}
    for gc_on in (True, False):
        samples: dict[str, list[float]] = {"forward": [], "backward": [], "free": []}
        for _ in range(repeats):
            leaves = leaves_setup()
            gc.collect()
            if not gc_on:
                gc.disable()
            try:
                t0 = time.perf_counter()
                root = build_graph(leaves)
                t1 = time.perf_counter()
                root.backward()
                t2 = time.perf_counter()
                del root
                t3 = time.perf_counter()
            finally:
                gc.enable()
            samples["forward"].append(t1 - t0)
            samples["backward"].append(t2 - t1)
            samples["free"].append(t3 - t2)
        for k, v in samples.items():
            out[f"{k} (gc {'on' if gc_on else 'off'})"] = statistics.median(v)
    return out


def profile(quick: bool) -> None:
    """Where autograd_lite's time goes: forward / backward / free with the GC on and off
    (per node), then cProfile of wide, chain and mlp_step."""
    import cProfile
    import pstats

    from autograd_lite.engine import Value

    S = sizes(quick)

    wide = W.sum_of_squares

    def chain_of(depth):
        def chain(y):
            for _ in range(depth):
                y = y * 0.999 + 0.001
            return y
        return chain

    print("Per node (ns), median of 3:")
    for label, nodes, build_graph, setup in (
            (f"wide {S['wide'][0]}", 2 * S["wide"][0] - 1, wide, lambda: [Value(0.5) for _ in range(S["wide"][0])]),
            (f"wide {S['wide'][1]:,}", 2 * S["wide"][1] - 1, wide, lambda: [Value(0.5) for _ in range(S["wide"][1])]),
            (f"chain {S['chain'][0]}", 2 * S["chain"][0], chain_of(S["chain"][0]), lambda: Value(0.5)),
            (f"chain {S['chain'][1]:,}", 2 * S["chain"][1], chain_of(S["chain"][1]), lambda: Value(0.5))):
        ph = _phases(build_graph, setup)
        print(f"  {label:<16} " + "  ".join(f"{k} {v / nodes * 1e9:6.0f}" for k, v in ph.items()))
    for workload, size in (("wide", S["wide"][1]), ("chain", S["chain"][1] // 10), ("mlp_step", S["mlp_n"])):
        case = W.MAKERS[workload]("autograd_lite", size)
        state = case.setup()
        prof = cProfile.Profile()
        prof.enable()
        case.run(state)
        prof.disable()
        print(f"\n=== cProfile: {workload} {size:,} (autograd_lite; the GC's time lands in whatever allocates) ===")
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)


def pictures() -> str:
    """render_backprop's step-through page for nn.MLP(2, [4, 4, 1]) on four examples (issue 21's
    target: under ~20 s and 10 MB; it was 53 s and 122 MB with one SVG per frame)."""
    import shutil
    import tempfile

    from autograd_lite import Value, explain, losses, nn, render_backprop
    from autograd_lite.engine import topological_order

    if shutil.which("dot") is None:
        return "(Graphviz is not installed: no picture timings)\n"
    rows = []
    data = [((0.5, -1.0), 1.0), ((1.0, 2.0), 0.0), ((-0.3, 0.7), 1.0), ((2.0, -0.5), 0.0)]
    with tempfile.TemporaryDirectory() as tmp:
        for fused in (True, False):
            m = nn.MLP(2, [4, 4, 1], seed=0, fused=fused)
            loss = None
            for x, y in data:
                term = losses.binary_cross_entropy_with_logits(m([Value(v) for v in x]), y)
                loss = term if loss is None else loss + term
            assert loss is not None
            loss.label = "L"
            for level, kw in (("full", {}), ("labels", {}), ("labels", {"model": m})):
                path = Path(tmp) / "page.html"
                t = time.perf_counter()
                render_backprop(loss, path, level=level, max_nodes=None, **kw)
                dt = time.perf_counter() - t
                steps = len(explain(loss, level=level, **kw).steps)
                what = level + (", model=" if kw else "")
                rows.append([f"MLP(2, [4, 4, 1]), 4 examples, fused={fused}", what,
                             f"{len(topological_order(loss)):,}", f"{steps:,}", f"{dt:.1f} s",
                             f"{path.stat().st_size / 1e6:.2f} MB"])
    return markdown_table(["graph", "level", "Values", "steps", "render_backprop .html", "page size"], rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test, a few seconds)")
    ap.add_argument("--out", type=Path, default=None,
                    help="where to write the Markdown (default benchmarks/RESULTS.md; none with --quick)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile breakdown of autograd_lite instead")
    ap.add_argument("--core", action="store_true",
                    help="only micrograd's sizes against micrograd, timed by the harness and as a user script")
    ap.add_argument("--pictures", action="store_true",
                    help="only the step-through page of an MLP: render time and page size (issue 21)")
    ap.add_argument("--stat", choices=("min", "median"), default="min",
                    help="a row's time: its fastest repeat (default) or the median of its repeats")
    ap.add_argument("--worker", nargs=4, metavar=("WORKLOAD", "ENGINE", "SIZE", "BUDGET"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    _STAT.update(arg=args.stat, name="fastest" if args.stat == "min" else "median",
                 pick=min if args.stat == "min" else statistics.median)
    if args.worker:
        _worker(*args.worker)
        return 0
    if args.profile:
        profile(args.quick)
        return 0
    if args.core:
        print(core(0.2 if args.quick else 2.0))
        return 0
    if args.pictures:
        print(pictures())
        return 0
    t0 = time.perf_counter()
    data = run_all(args.quick, log=lambda s: print(s, file=sys.stderr, flush=True))
    text = report(data, args.quick)
    if not args.quick:  # issue 11: micrograd's sizes also timed the way a user's script runs them
        text += ("\n## micrograd's sizes, timed two ways (ratios: micrograd's time / autograd_lite's)\n\n"
                 "The harness times with the leaves built before the timed region and a gc.collect() "
                 "charged to each engine; a user script builds its leaves inside it and never collects (the engines "
                 "take turns by streaks of runs, each from a collected heap).\n\n"
                 + core(2.0) + "\n")
        text += ("\n## The step-through page of an MLP (issue 21: drawn once, O(nodes + steps))\n\n"
                 + pictures() + "\n")
    text += f"\nWhole run: {time.perf_counter() - t0:.0f} s.\n"
    print(text)
    out = args.out if args.out is not None else (None if args.quick else HERE / "RESULTS.md")
    if out is not None:
        out.write_text(text + kept_notes(out), encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    return 0


KEEP = "<!-- Written by hand from here on: make bench keeps what follows this line. -->"


def kept_notes(path: Path) -> str:
    """The hand-written part of an earlier results file (from the line `KEEP` on), which a
    new run must not lose; "" if there is none."""
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    at = old.find(KEEP)
    return "" if at < 0 else "\n" + old[at:]


if __name__ == "__main__":
    sys.exit(main())
