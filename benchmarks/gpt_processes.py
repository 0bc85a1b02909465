"""The GPT training step (issue 24) timed with each engine alone in a fresh interpreter.

`run.py` times a row's engines in one process, taking turns repeat by repeat.  For the
GPT step that is not neutral: each engine's time depends on what the other one did to
the process's memory just before.  In three runs on this project's machine (fastest of
12 steps), the local-gradients engine took 75–80 ms per step next to autograd_lite and
83–89 ms alone (median of 5 processes), while autograd_lite took 38–39 ms either way.
A user's script trains with one engine, so here each engine runs alone in a
process of its own, the processes taking turns (A B, then B A, ...) so that a change in
the machine's load hits both.  Two timings, as `run.py` has them:

- *harness*: ``gc.collect()`` and ``gc.freeze()`` before each step, ``gc.collect()`` in
  the timed region after it (each engine pays for the garbage it leaves); a process's
  time is its fastest step;
- *user script*: no collection, no freeze (the cyclic GC runs when allocation triggers
  it); a process's time is its mean step, so a collection that one step triggers for the
  garbage of earlier steps is shared out.

The row's time is the median over the processes.  ``python benchmarks/gpt_processes.py``
prints the table; `run.py` adds it to ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGINES = ("autograd_lite", "local_grads")
MODES = ("harness", "user")
PICK = {"harness": "fastest", "user": "mean"}  # a process's time, per timing


def child(engine: str, mode: str, steps: int, warmup: int = 2, trainer: Callable | None = None,
          clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """In this process: ``steps`` timed training steps of one engine (after ``warmup``);
    ``trainer(engine)`` gives ``(step, model)`` (default: the GPT of `workloads`)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if trainer is None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        for path in (str(HERE.parent), str(HERE)):  # this checkout's autograd_lite, as run.py measures
            if path not in sys.path:
                sys.path.insert(0, path)
        import workloads as W

        trainer = W.gpt_trainer
    step, _ = trainer(engine)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        if mode == "harness":
            gc.collect()
            gc.freeze()
        t0 = clock()
        step()
        if mode == "harness":
            gc.collect()
        times.append(clock() - t0)
    gc.unfreeze()
    return {"steps": len(times), "fastest": min(times), "median": statistics.median(times),
            "mean": statistics.fmean(times)}


def _command(engine: str, mode: str, steps: int) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", engine, mode, str(steps)]


def _spawn(cmd: list[str], what: str, timeout: float) -> dict[str, float]:
    """The last JSON line that the process ``cmd`` prints; RuntimeError if it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the {what} process failed: exit {proc.returncode}: {tail}")
    return json.loads(lines[-1])


def measure(rounds: int = 5, steps: int = 12, timeout: float = 300.0) -> dict:
    """``{mode: {engine: [a process's time, ...]}}``: ``rounds`` processes per engine and
    timing, the engines' processes taking turns."""
    if rounds < 1 or steps < 1:
        raise ValueError("rounds and steps must be at least 1")
    out: dict = {m: {e: [] for e in ENGINES} for m in MODES}
    for r in range(rounds):
        for mode in MODES:
            for engine in (ENGINES if r % 2 == 0 else ENGINES[::-1]):
                data = _spawn(_command(engine, mode, steps), f"{engine} ({mode} timing)", timeout)
                out[mode][engine].append(data[PICK[mode]])
    return out


def ratios(results: dict) -> dict[str, float]:
    """Per timing: the local-gradients engine's median time / autograd_lite's."""
    return {m: statistics.median(results[m]["local_grads"]) / statistics.median(results[m]["autograd_lite"])
            for m in MODES}


def markdown(results: dict) -> str:
    rows = ["| timing | a process's time | autograd_lite | local-gradients engine | speed-up |",
            "|---|---|---|---|---|"]
    for mode, r in ratios(results).items():
        al, lg = (statistics.median(results[mode][e]) for e in ENGINES)
        n = len(results[mode]["autograd_lite"])
        label = "harness (gc.collect + freeze)" if mode == "harness" else "user script (no collect)"
        rows.append(f"| {label} | its {PICK[mode]} step; median of {n} | {al * 1e3:.1f} ms | {lg * 1e3:.1f} ms "
                    f"| {r:.2f}× |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="processes per engine and timing (default 5)")
    ap.add_argument("--steps", type=int, default=12, help="timed steps per process (default 12)")
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "MODE", "STEPS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        engine, mode, steps = args.child
        if not steps.isdigit() or int(steps) < 1:
            ap.error(f"--child: the number of steps must be a whole number ≥ 1, not {steps!r}")
        try:
            print(json.dumps(child(engine, mode, int(steps))))
        except ValueError as e:
            ap.error(f"--child: {e}")
        return 0
    if args.rounds < 1 or args.steps < 1:
        ap.error("--rounds and --steps must be at least 1")
    try:
        print(markdown(measure(args.rounds, args.steps)))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        ap.exit(1, f"{ap.prog}: error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
