"""Benchmark autograd_lite against micrograd and PyTorch (issue 6, with issue 8's vectorised rows).

    python benchmarks/run.py              # full run (about 2-4 minutes), writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick      # tiny sizes, a few seconds (the smoke test)
    python benchmarks/run.py --profile    # where autograd_lite's time goes (cProfile)

Times are medians over several repeats of forward + backward (+ update), with the
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

import workloads as W  # noqa: E402

PEERS = ("micrograd", "torch_scalar", "torch_batched")


# ----------------------------------------------------------------------------- timing


@dataclass
class Result:
    status: str  # "ok", or what happened: "fails (RecursionError)", "absent", "n/a (...)", "timeout (...)"
    median: float | None = None  # seconds
    times: list[float] = field(default_factory=list)
    nodes: int | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def per_node(self) -> float | None:
        return self.median / self.nodes if self.ok and self.nodes else None


def time_case(case: W.Case, budget: float, min_rep: int = 3, max_rep: int = 30, warmup: bool = True) -> Result:
    """Median wall time of ``case.run`` over repeats: at least ``min_rep``, more while within ``budget`` s."""
    if warmup:
        case.run(case.setup())
    times: list[float] = []
    while len(times) < max_rep and (len(times) < min_rep or sum(times) < budget):
        state = case.setup()
        t0 = time.perf_counter()
        case.run(state)
        times.append(time.perf_counter() - t0)
        del state
    return Result("ok", statistics.median(times), times, case.nodes, case.note)


def _error_status(e: BaseException) -> str:
    return f"fails ({type(e).__name__})"


def measure(workload: str, engine: str, size: int, budget: float, **kw) -> Result:
    """Build and time one (workload, engine, size) in this process; failures become a status."""
    try:
        case = W.MAKERS[workload](engine, size)
    except W.Unavailable as e:
        return Result(str(e))
    except Exception as e:  # e.g. an API this harness expected has changed
        return Result(f"fails ({type(e).__name__} in setup)", note=f"{type(e).__name__}: {e}"[:200])
    try:
        return time_case(case, budget, **kw)
    except RecursionError as e:
        return Result(_error_status(e), note=case.note)
    except Exception as e:  # an engine that cannot run a workload is reported, not hidden
        return Result(_error_status(e), note=f"{type(e).__name__}: {e}"[:200])


def measure_isolated(workload: str, engine: str, size: int, budget: float, timeout: float) -> Result:
    """`measure` in a child interpreter, killed after ``timeout`` s (risky peer sizes)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", workload, engine, str(size), str(budget)]
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
    r = Result(data["status"], data.get("median"), data.get("times", []), data.get("nodes"), data.get("note", ""))
    r.note = (r.note + f"; subprocess {time.perf_counter() - t0:.1f} s").lstrip("; ")
    return r


def _worker(workload: str, engine: str, size: str, budget: str) -> None:
    r = measure(workload, engine, int(size), float(budget), min_rep=1, max_rep=3, warmup=False)
    print(json.dumps({"status": r.status, "median": r.median, "times": r.times, "nodes": r.nodes, "note": r.note}))


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
        out["freed"] = left < max(4096, 0.01 * held)
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
    return fmt_time(r.median) if r.ok else r.status


def ratio(a: Result | None, b: Result | None) -> float | None:
    """How many times faster ``b`` is than ``a`` (a.median / b.median)."""
    if a is None or b is None or not (a.ok and b.ok) or not b.median:
        return None
    return a.median / b.median


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
        return {"wide": (60, 1500), "chain": (50, 3000), "mlp_n": 12, "logreg_m": 60, "mem_n": 700,
                "floor_n": 3000, "vec_m": 500, "budget": 0.05, "big_budget": 0.05, "timeout": 60}
    return {"wide": (450, 100_000), "chain": (400, 1_000_000), "mlp_n": 100, "logreg_m": None,
            "mem_n": 33_334, "floor_n": 100_000, "vec_m": 10_000, "budget": 1.0, "big_budget": 3.0,
            "timeout": 120}


def run_all(quick: bool, log=print) -> dict:
    S = sizes(quick)
    budget, big = S["budget"], S["big_budget"]
    rows: list[dict] = []

    def row(workload, size, label, **results):
        rows.append({"workload": workload, "size": size, "label": label, **results})
        shown = ", ".join(f"{k}={cell(v)}" for k, v in results.items())
        log(f"  {workload:<14} {label:<22} {shown}")

    log("floor ...")
    floor = time_case(W.make_floor(S["floor_n"]), budget, min_rep=5)
    log(f"  floor: {floor.per_node * 1e9:.0f} ns per node")

    def risky(workload, engine, size, nodes):
        # micrograd sorts recursively (fails past ~1000 levels) and PyTorch scalar tensors take
        # seconds per million nodes: big graphs of theirs run in a time-limited subprocess
        if nodes > 250_000 or (engine == "micrograd" and nodes > 2_000):
            return measure_isolated(workload, engine, size, big, S["timeout"])
        return measure(workload, engine, size, budget if nodes < 20_000 else big)

    for workload in ("wide", "chain"):
        for size in S[workload]:
            nodes = 2 * size - (1 if workload == "wide" else 0)
            log(f"{workload} {size:,} ...")
            res = {"autograd_lite": measure(workload, "autograd_lite", size, budget if nodes < 20_000 else big)}
            for peer in PEERS:
                res[peer] = risky(workload, peer, size, nodes)
            row(workload, size, f"n = {size:,}" if workload == "wide" else f"depth {size:,}", **res)

    log("mlp_step ...")
    n = S["mlp_n"]
    res = {e: measure("mlp_step", e, n, budget) for e in ("autograd_lite", *PEERS)}
    row("mlp_step", n, f"{n} moons, MLP(2,[16,16,1])", **res)

    log("logreg_epoch ...")
    m = S["logreg_m"]
    res = {e: measure("logreg_epoch", e, m, budget) for e in ("autograd_lite", *PEERS)}
    row("logreg_epoch", m, "breast cancer, 30 feat." if m is None else f"{m} rows, 30 feat.", **res)

    log("vectorised (issue 8) ...")
    vec_mlp = measure("mlp_step", "vectorized", n, budget)
    vec_lr = measure("logreg_grad", "vectorized", S["vec_m"], budget)
    np_lr = measure("logreg_grad", "numpy", S["vec_m"], budget)
    tb_lr = measure("logreg_grad", "torch_batched", S["vec_m"], budget)
    log(f"  mlp_step vectorized={cell(vec_mlp)}  logreg_grad vectorized={cell(vec_lr)} numpy={cell(np_lr)}"
        f" torch_batched={cell(tb_lr)}")

    log("memory ...")
    mem = {e: memory_per_node(e, S["mem_n"]) for e in ("autograd_lite", "micrograd")}
    return {"S": S, "floor": floor, "rows": rows, "vec_mlp": vec_mlp, "vec_lr": vec_lr, "np_lr": np_lr,
            "tb_lr": tb_lr, "mem": mem, "env": environment()}


def _find(rows, workload, i):
    found = [r for r in rows if r["workload"] == workload]
    return found[i] if i < len(found) else None


def report(data: dict, quick: bool) -> str:
    rows, floor, S = data["rows"], data["floor"], data["S"]
    targets: list[Target] = []
    table = []
    header = ["workload", "size", "autograd_lite", "micrograd", "torch scalar", "torch batched",
              "ratios", "target", "met?"]

    for r in rows:
        al, mg, ts, tb = (r.get(k) for k in ("autograd_lite", "micrograd", "torch_scalar", "torch_batched"))
        vs_mg, vs_ts, vs_tb = ratio(mg, al), ratio(ts, al), ratio(tb, al)
        parts = [f"{fmt_ratio(vs_mg)} vs micrograd", f"{fmt_ratio(vs_ts)} vs torch scalar"]
        if tb is not None and tb.ok:
            parts.append(f"{fmt_ratio(vs_tb)} vs torch batched")
        want, met = [], []
        wl = r["workload"]
        big = wl in ("wide", "chain") and r["size"] == S[wl][-1]
        if wl in ("wide", "chain"):
            pn = al.per_node if al else None
            fl = pn / floor.per_node if pn else None
            parts.append(f"{pn * 1e9:.0f} ns/node = {fmt_ratio(fl)} floor" if pn else "per node —")
            tname = f"{wl} {r['label']}"
            if not big:
                t1 = Target(f"{tname}: vs micrograd", "≥ 2.5×", fmt_ratio(vs_mg), check(vs_mg, lambda x: x >= 2.5))
                t2 = Target(f"{tname}: vs torch scalar", "≥ 6×", fmt_ratio(vs_ts), check(vs_ts, lambda x: x >= 6))
                targets += [t1, t2]
                want += ["≥2.5× mg", "≥6× torch"]
                met += [t1.verdict, t2.verdict]
            t3 = Target(f"{tname}: per node / floor", "≤ 2×", fmt_ratio(fl), check(fl, lambda x: x <= 2))
            targets.append(t3)
            want.append("≤2× floor")
            met.append(t3.verdict)
            if wl == "chain" and big:
                small = _find(rows, "chain", 0)["autograd_lite"]
                lin = al.per_node / small.per_node if (al.ok and small.ok) else None
                parts.append(f"per node {fmt_ratio(lin)} depth {S['chain'][0]}")
                t4 = Target(f"chain depth {r['size']:,}: works, per node vs depth {S['chain'][0]}", "≤ 2×",
                            fmt_ratio(lin) if al.ok else al.status, check(lin, lambda x: x <= 2))
                targets.append(t4)
                want.append(f"≤2× per node of depth {S['chain'][0]}")
                met.append(t4.verdict)
        elif wl == "mlp_step":
            t = Target("mlp_step: vs micrograd", "≥ 25×", fmt_ratio(vs_mg), check(vs_mg, lambda x: x >= 25))
            targets.append(t)
            want.append("≥25× mg")
            met.append(t.verdict)
        table.append([wl, r["label"], cell(al), cell(mg), cell(ts), cell(tb), "; ".join(parts),
                      ", ".join(want) or "—", ", ".join(met) or "—"])

    # issue 8: vectorised rows
    mlp = _find(rows, "mlp_step", 0)
    vm, mg, tb = data["vec_mlp"], mlp["micrograd"], mlp["torch_batched"]
    v_mg, tb_v = ratio(mg, vm), ratio(vm, tb)
    t5 = Target("mlp_step vectorised: vs micrograd", "≥ 300×", fmt_ratio(v_mg), check(v_mg, lambda x: x >= 300))
    t6 = Target("mlp_step vectorised: time / torch batched", "≤ 3×", fmt_ratio(tb_v), check(tb_v, lambda x: x <= 3))
    targets += [t5, t6]
    table.append(["mlp_step vectorised", mlp["label"], cell(vm), cell(mg), "—", cell(tb),
                  f"{fmt_ratio(v_mg)} vs micrograd; {fmt_ratio(tb_v)} torch batched's time",
                  "≥300× mg, ≤3× torch batched", f"{t5.verdict}, {t6.verdict}"])
    vl, nl, tl = data["vec_lr"], data["np_lr"], data["tb_lr"]
    vl_np = ratio(vl, nl)
    t7 = Target("logreg gradient vectorised: time / numpy by hand", "≤ 3×", fmt_ratio(vl_np),
                check(vl_np, lambda x: x <= 3))
    targets.append(t7)
    table.append(["logreg_grad vectorised", f"{S['vec_m']:,} × 30", cell(vl), "—", "—", cell(tl),
                  f"numpy by hand {cell(nl)}; {fmt_ratio(vl_np)} its time", "≤3× numpy", t7.verdict])

    # memory
    mem = data["mem"]
    mem_rows = []
    for e, m in mem.items():
        if m["status"] != "ok":
            mem_rows.append([e, m["status"], "—", "—", "—"])
            continue
        after = f"{m['after_backward']:.0f}" if m.get("after_backward") is not None else m.get("backward_status", "—")
        freed = ("yes" if m["freed"] else f"no: {m['left_after_del'] / 1e6:.1f} MB held until gc.collect() "
                 f"({m['left_after_collect'] / 1e3:.0f} kB after)")
        mem_rows.append([e, f"{m['nodes']:,}", f"{m['built']:.0f}", after, freed])
    al_mem = mem["autograd_lite"]
    if al_mem["status"] == "ok":
        worst = max(al_mem["built"], al_mem["after_backward"] or 0)
        targets.append(Target("memory per node (built / after backward)", "≤ 150 B",
                              f"{al_mem['built']:.0f} / {al_mem['after_backward']:.0f} B",
                              worst <= 150))
        targets.append(Target("graph freed by `del` with the cyclic GC off", "yes",
                              "yes" if al_mem["freed"] else "no", al_mem["freed"]))

    env = data["env"]
    out = ["# Benchmark results" + (" (quick run: tiny sizes, not the real benchmark)" if quick else ""), ""]
    out += [f"Generated by `python benchmarks/run.py{' --quick' if quick else ''}` (`make bench`).", ""]
    out += [markdown_table(["", ""], [[k, v] for k, v in env.items()]), ""]
    out += ["## Times (median of repeats, forward + backward, gc enabled)", ""]
    out += [markdown_table(header, table), ""]
    out += [f"Floor: one bare slotted object with two parents and one float add costs "
            f"**{floor.per_node * 1e9:.0f} ns** per node here (median of {len(floor.times)} × "
            f"{floor.nodes:,} nodes, freeing included).", ""]
    out += ["Ratios are `peer time / autograd_lite time` (how many times faster autograd_lite is), except where "
            "a row says \"… 's time\" (autograd_lite time / reference time, lower is better).", ""]
    out += [f"## Memory (tracemalloc): Σ xᵢ² over {S['mem_n']:,} leaves summed pairwise, leaves included", ""]
    out += [markdown_table(["engine", "nodes", "bytes/node built", "bytes/node after backward",
                            "freed by `del` with gc disabled?"], mem_rows), ""]
    out += ["## Targets (issue 6, issue 8)", ""]
    out += [markdown_table(["target", "wanted", "measured", "verdict"],
                           [[t.name, t.wanted, t.measured, t.verdict] for t in targets]), ""]
    notes = sorted({f"{e}: {r[e].note}" for r in rows for e in ("autograd_lite", *PEERS)
                    if r.get(e) is not None and r[e].note and r[e].ok})
    notes += [f"vectorized: {x.note}" for x in (data["vec_mlp"], data["vec_lr"]) if x.note]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def profile(quick: bool) -> None:
    """cProfile autograd_lite on wide, chain and mlp_step: where the time goes."""
    import cProfile
    import pstats

    S = sizes(quick)
    for workload, size in (("wide", S["wide"][1]), ("chain", S["chain"][1] // 10), ("mlp_step", S["mlp_n"])):
        case = W.MAKERS[workload]("autograd_lite", size)
        state = case.setup()
        prof = cProfile.Profile()
        prof.enable()
        case.run(state)
        prof.disable()
        print(f"\n=== {workload} {size:,} (autograd_lite) ===")
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test, a few seconds)")
    ap.add_argument("--out", type=Path, default=None,
                    help="where to write the Markdown (default benchmarks/RESULTS.md; none with --quick)")
    ap.add_argument("--profile", action="store_true", help="print a cProfile breakdown of autograd_lite instead")
    ap.add_argument("--worker", nargs=4, metavar=("WORKLOAD", "ENGINE", "SIZE", "BUDGET"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(*args.worker)
        return 0
    if args.profile:
        profile(args.quick)
        return 0
    t0 = time.perf_counter()
    data = run_all(args.quick, log=lambda s: print(s, file=sys.stderr, flush=True))
    text = report(data, args.quick)
    text += f"\nWhole run: {time.perf_counter() - t0:.0f} s.\n"
    print(text)
    out = args.out if args.out is not None else (None if args.quick else HERE / "RESULTS.md")
    if out is not None:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
