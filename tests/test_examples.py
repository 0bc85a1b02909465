"""Every script in examples/ runs (fast settings) and passes its own numerical assertions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
CLAIM_EXAMPLES = [p for p in EXAMPLES if re.match(r"c\d\d_", p.name)]


def test_there_are_examples():
    assert len(CLAIM_EXAMPLES) >= 8


def test_every_claim_has_an_example():
    covered = set()
    for p in EXAMPLES:
        covered |= {int(n) for n in re.findall(r"\bC(\d{1,2})\b", p.read_text(encoding="utf-8"))}
    assert set(range(1, 15)) <= covered, f"claims without an example: {sorted(set(range(1, 15)) - covered)}"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    source = script.read_text(encoding="utf-8")
    args = ["--fast"] if "--fast" in source else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, f"{script.name} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    assert r.stdout.strip(), f"{script.name} printed nothing"
    if script in CLAIM_EXAMPLES:
        assert r.stdout.strip().splitlines()[-1].endswith("OK")
