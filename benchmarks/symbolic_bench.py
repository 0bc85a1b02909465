"""Issue 22: the SymPy bridge on the course's nets (rows for `make bench`).

- ``to_sympy`` of the default (relu) ``nn.MLP(3, [8, 8, 1])`` output: target < 2 s
  (14-21 s before issue 22: relu as nested ``Piecewise``);
- ``analytic_check`` of the squared error of a tanh ``MLP(2, [8, 8, 1])``: target
  < 30 s with every row ok (about 22 s before, with most formulas left untidied
  at the 20 s limit);
- ``analytic_check`` of the demo's 337-parameter MLP(2, [16, 16, 1]) log loss
  (about 10 minutes before, by the issue's estimate): reported, no target.

Each is timed once (seconds, not microseconds: one run says enough), in this process.
"""

from __future__ import annotations

import importlib.util
import time


def _mlp(nin: int, sizes: list[int], **kw):
    from autograd_lite import Value, nn

    model = nn.MLP(nin, sizes, seed=0, **kw)
    xs = [Value(0.5 - 0.75 * i, label=f"x{i + 1}") for i in range(nin)]
    return model(xs)


def measure(quick: bool) -> list[dict]:
    """Rows {name, seconds, detail, target, ok} (ok None: no target; seconds None: not run)."""
    if importlib.util.find_spec("sympy") is None:
        return [{"name": "SymPy bridge", "seconds": None, "detail": "absent (pip install autograd-lite[symbolic])",
                 "target": "—", "ok": None}]
    from autograd_lite import symbolic as S

    S.to_sympy(_mlp(1, [1], activation="tanh"))  # import SymPy and warm its caches outside the timings
    rows = []
    sizes = [2, 1] if quick else [8, 8, 1]

    out = _mlp(3, sizes)
    t0 = time.perf_counter()
    S.to_sympy(out)
    t = time.perf_counter() - t0
    rows.append({"name": f"to_sympy, relu MLP(3, {sizes})", "seconds": t, "detail": "", "target": "< 2 s",
                 "ok": t < 2})

    out = _mlp(2, sizes, activation="tanh")
    L = (out - 1.0) ** 2
    t0 = time.perf_counter()
    report = S.analytic_check(L, progress=False)
    t = time.perf_counter() - t0
    bad = sum(not r.ok for r in report.rows)
    rows.append({"name": f"analytic_check, squared error of a tanh MLP(2, {sizes})", "seconds": t,
                 "detail": f"{len(report.rows)} rows, {bad} not ok; {len(report.notes)} notes",
                 "target": "< 30 s, every row ok", "ok": t < 30 and bool(report)})

    if not quick:
        out = _mlp(2, [16, 16, 1], activation="relu", output_activation="sigmoid")
        L = -out.log()
        t0 = time.perf_counter()
        report = S.analytic_check(L, progress=False)
        t = time.perf_counter() - t0
        bad = sum(not r.ok for r in report.rows)
        rows.append({"name": "analytic_check, log loss of the demo's MLP(2, [16, 16, 1])", "seconds": t,
                     "detail": f"{len(report.rows)} rows, {bad} not ok", "target": "—", "ok": None})
    return rows


def markdown(rows: list[dict]) -> list[str]:
    """The section for RESULTS.md."""
    out = ["## SymPy bridge (issue 22; one run each)", "",
           "| step | time | detail | target | met? |", "|---|---|---|---|---|"]
    for r in rows:
        seconds = "—" if r["seconds"] is None else f"{r['seconds']:.2f} s"
        met = "—" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        out.append(f"| {r['name']} | {seconds} | {r['detail'] or '—'} | {r['target']} | {met} |")
    return out + [""]


if __name__ == "__main__":
    import sys

    print("\n".join(markdown(measure("--quick" in sys.argv))))
