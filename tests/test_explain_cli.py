"""autograd-lite explain, run as a subprocess."""

import subprocess
import sys
from pathlib import Path

import pytest

from autograd_lite.walkthrough import build_zal_graph

ROOT = Path(__file__).resolve().parents[1]
BCE = "bce(sigmoid(w1*x1 + w2*x2 + b), y)"
AT = ["--at", "x1=1.5", "x2=-0.5", "w1=0.3", "w2=-0.8", "b=0.1", "y=1"]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograd_lite", "explain", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_explain_prints_forward_list_and_backward_ledger():
    r = run(BCE, *AT)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Forward pass: 19 nodes" in out and "Backward pass from L: 20 steps" in out
    assert "  σ(w1·x1 + w2·x2 + b) = 0.7211\n" in out  # unlabelled: named by its expression, when short
    assert ("local ∂σ(w1·x1 + w2·x2 + b)/∂(w1·x1 + w2·x2 + b) = σ(w1·x1 + w2·x2 + b)(1 − σ(w1·x1 + w2·x2 + b)) "
            "= 0.7211 × 0.2789 = 0.2011") in out
    assert "  v1                   = log σ(w1·x1 + w2·x2 + b) = -0.327\n" in out  # too long: v1
    g = build_zal_graph()
    assert f"dL/dw1 = {g.w1.grad:.4g} (final)" in out  # the same number as the walkthrough's backward()
    labels = run(BCE, *AT, "--names", "labels").stdout
    assert "  v5  = σ(v4) = 0.7211\n" in labels and "local ∂v5/∂v4 = v5(1 − v5) = 0.7211" in labels


def test_explain_paths_and_forward():
    r = run(BCE, *AT, "--paths", "w1", "--forward", "w1")
    assert r.returncode == 0, r.stderr
    assert "dL/dw1 as a sum over 2 paths of products of local derivatives" in r.stdout
    assert "forward mode: 6 passes (one per input) × 20 multiply-adds = 120 multiply-adds" in r.stdout
    assert "reverse mode: 1 backward pass × 20 multiply-adds = 20 multiply-adds" in r.stdout


def test_explain_markdown():
    r = run("x*x + x", "--at", "x=3", "--markdown")
    assert r.returncode == 0 and "| step | node | input |" in r.stdout and "1 + 3 = 4" in r.stdout


@pytest.mark.needs_dot
def test_explain_writes_html_and_gif(tmp_path):
    pytest.importorskip("PIL")
    r = run("tanh(w*x)", "--at", "w=0.5", "x=2", "--html", str(tmp_path / "bp.html"), "--gif",
            str(tmp_path / "bp.gif"))
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "bp.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and page.count('"grad ') >= 3  # one picture, the 3 steps as data
    from PIL import Image

    with Image.open(tmp_path / "bp.gif") as im:
        assert im.n_frames == 3 + 2
    assert f"wrote {tmp_path / 'bp.html'}" in r.stdout


@pytest.mark.parametrize("args,message", [
    (["x*x", "--at", "x=1", "--paths", "q"], "--paths q: not a variable of the expression (its variables: x)"),
    (["x*x", "--at", "x=1", "--forward", "q"], "--forward q: not a variable"),
    (["x*x", "--at", "x=1", "--gif", "a.png"], "--gif writes a .gif file"),
    (["x*x", "--at", "x=1", "--html", "nodir/a.html"], "does not exist"),
    (["x*y", "--at", "x=1"], "give it with --at y=NUMBER"),
    (["x*x", "--at", "x=1", "--precision", "40"], "--precision is at most 17"),
    (["x*", "--at", "x=1"], "error:"),
])
def test_explain_errors_are_one_line_exit_2(args, message, tmp_path):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error:") and message in r.stderr, r.stderr


@pytest.mark.needs_dot
def test_demo_explains_the_zal_graph_and_writes_html_and_gif(tmp_path, capsys):
    pytest.importorskip("PIL")
    from autograd_lite.cli import _explain_demo_graph

    wrote = _explain_demo_graph(tmp_path)
    assert sorted(p.name for p in wrote) == ["backprop.gif", "backprop.html", "backprop_labels.gif",
                                             "backprop_labels.html"]
    out = capsys.readouterr().out
    assert "Backward pass from L: 7 steps" in out  # the label level: C6's seven steps
    assert "∂a/∂z = a(1 − a) = 0.7211 × 0.2789 = 0.2011" in out
    assert "dL/dw1 = dL/da · da/dz" in out


def test_explain_checks_its_output_files_before_any_work(tmp_path):
    """Like every other output flag: a missing folder or an existing file (without --force)
    is a one-line error before the ledger is printed, and --force overwrites."""
    missing = run("x*y", "--at", "x=1", "y=2", "--gif", str(tmp_path / "no" / "a.gif"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip().splitlines() == [f"error: --gif {tmp_path / 'no' / 'a.gif'}: the directory "
                                                   f"'{tmp_path / 'no'}' does not exist"]
    page = tmp_path / "p.html"
    page.write_text("mine")
    kept = run("x*y", "--at", "x=1", "y=2", "--html", str(page))
    assert kept.returncode == 2 and "--force" in kept.stderr and page.read_text() == "mine"
    forced = run("x*y", "--at", "x=1", "y=2", "--html", str(page), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "<html" in page.read_text().lower()
