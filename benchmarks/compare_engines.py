"""Time two or more checkouts of autograd_lite's engine in one process, interleaved.

    git worktree add /tmp/old 2a60f8d                                # a checkout of the engine to compare with
    python benchmarks/compare_engines.py old=/tmp/old new=. --reps 300

Each engine is imported from its checkout under its own name; the workloads of
`workloads.py` (wide: Σ xᵢ·xᵢ over n leaves made beforehand; chain: y ← y·0.999 +
0.001) are built the same way for each.  Every repeat runs every engine once,
in turn, and times the forward pass (building the graph), the backward pass and
both together (freeing the graph included), with the cyclic garbage collector
off inside the timed region.  Reported: min and median nanoseconds per op node,
and each engine's min relative to the first engine's.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import random
import statistics
import sys
import time
from pathlib import Path

from workloads import sum_of_squares  # benchmarks/ is on sys.path when this file runs


def load_engine(root: str):
    """``autograd_lite.engine`` from the checkout at ``root``, imported apart from any other."""
    root = str(Path(root).resolve())
    mine = [k for k in sys.modules if k == "autograd_lite" or k.startswith("autograd_lite.")]
    saved = {k: sys.modules.pop(k) for k in mine}
    sys.path.insert(0, root)
    try:
        engine = importlib.import_module("autograd_lite.engine")
    finally:
        sys.path.remove(root)
        for k in [k for k in sys.modules if k == "autograd_lite" or k.startswith("autograd_lite.")]:
            del sys.modules[k]
        sys.modules.update(saved)
    if not engine.__file__.startswith(root):
        raise SystemExit(f"{root}: imported {engine.__file__} instead")
    return engine


def wide(Value, n):
    rng = random.Random(0)
    xs = [Value(rng.uniform(-1, 1)) for _ in range(n)]
    return (lambda: sum_of_squares(xs)), 2 * n - 1


def chain(Value, depth):
    y0 = Value(0.5)

    def build():
        y = y0
        for _ in range(depth):
            y = y * 0.999 + 0.001
        return y

    return build, 2 * depth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("engines", nargs="+", help="name=checkout, e.g. old=/tmp/old new=.")
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--wide", type=int, default=450)
    ap.add_argument("--chain", type=int, default=400)
    args = ap.parse_args()
    specs = args.engines
    engines = {}
    for spec in specs:
        name, _, root = spec.partition("=")
        engines[name] = load_engine(root)
    workloads = {f"wide n={args.wide}": (wide, args.wide), f"chain depth={args.chain}": (chain, args.chain)}
    clock = time.perf_counter_ns
    for title, (make, size) in workloads.items():
        cases = {name: make(e.Value, size) for name, e in engines.items()}
        times = {name: {"forward": [], "backward": [], "both": []} for name in engines}
        for _ in range(args.reps):
            for name, (build, _nodes) in cases.items():
                gc.disable()
                t0 = clock()
                y = build()
                t1 = clock()
                y.backward()
                t2 = clock()
                del y
                t3 = clock()
                gc.enable()
                rec = times[name]
                rec["forward"].append(t1 - t0)
                rec["backward"].append(t2 - t1)
                rec["both"].append(t3 - t0)
        first = next(iter(engines))
        print(f"\n{title}  (ns per op node; {args.reps} interleaved repeats)")
        print(f"{'':10}" + "".join(f"{part + ' min/med':>22}" for part in ("forward", "backward", "fwd+bwd")))
        for name, (_build, nodes) in cases.items():
            row = f"{name:10}"
            for part in ("forward", "backward", "both"):
                ts = times[name][part]
                row += f"{min(ts) / nodes:>13.0f} /{statistics.median(ts) / nodes:>6.0f}"
            print(row)
        for name in engines:
            if name != first:
                ratios = [min(times[name][p]) / min(times[first][p]) for p in ("forward", "backward", "both")]
                print(f"{name + '/' + first:10}" + "".join(f"{r:>22.3f}" for r in ratios))


if __name__ == "__main__":
    main()
