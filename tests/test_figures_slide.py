"""Figures that survive a slide and compose in notebooks: every plot function takes
``ax=``/``axes=`` and returns without showing; every axis is labelled; text is large
enough in the rendered pixels; legends sit off the data; the demo's moons figure shows
the numbers the demo printed."""

from __future__ import annotations

import inspect
import re
import struct
import sys

import numpy as np
import pytest

from autograd_lite import figures as F
from autograd_lite.train import History

pytest.importorskip("matplotlib")
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

# Small, fast arguments for every plot function; a new plot_* function must be added here.
FAST = {
    "plot_sigmoid": {"z": np.linspace(-8, 8, 81)},
    "plot_cost_curvature": {"ws": np.linspace(-6, 6, 21)},
    "plot_gradient_descent": {"steps": 8, "grid": 20},
    "plot_decision_boundaries": {"epochs": 8, "n_samples": 40, "grid": 12, "hidden": (4,)},
    "plot_init_symmetry": {"epochs": 3, "hidden": 3, "n_samples": 30},
    "plot_layer_gradients": {"depth": 3, "width": 3, "n_samples": 4},
    "plot_training_curve": {},
}
HISTORY = History(cost=[0.69, 0.5, 0.41, 0.38, 0.36, 0.35, 0.349], accuracy=[0.5, 0.7, 0.8, 0.85, 0.86, 0.87, 0.87])
PLOTS = sorted(n for n in F.__all__ if n.startswith("plot_"))


def call(name: str, **kw):
    args = (HISTORY,) if name == "plot_training_curve" else ()
    return getattr(F, name)(*args, **FAST[name], **kw)


def test_every_plot_function_is_covered():
    assert set(PLOTS) == set(FAST), "add fast arguments for the new plot function to FAST"
    for name in PLOTS:
        params = inspect.signature(getattr(F, name)).parameters
        assert ("ax" in params) != ("axes" in params), f"{name} takes ax= (one panel) or axes= (several)"


@pytest.mark.parametrize("name", PLOTS)
def test_ax_contract(name, tmp_path):
    """Given axes, a plot function draws into them and returns them (no new figure, no show)."""
    Figure_, Canvas = F._matplotlib()
    key = "ax" if "ax" in inspect.signature(getattr(F, name)).parameters else "axes"
    user = Figure_(figsize=(12, 4))
    Canvas(user)
    # the wrong number of panels is refused with a message saying how many are needed
    with pytest.raises(ValueError, match=r"draws (\d+) panel") as err:
        call(name, **{key: list(user.subplots(1, 5))})
    n = int(re.search(r"draws (\d+) panel", str(err.value)).group(1))
    user.clear()
    panels = user.subplots(1, n, squeeze=False)[0]
    given = panels[0] if key == "ax" else list(panels)
    before = len(user.axes)
    out = call(name, **{key: given}, path=tmp_path / "user.png")
    if key == "ax":
        assert out is panels[0]
    else:
        assert list(out) == list(panels)
    assert len(user.axes) >= before  # drawn into the caller's figure (plus its colour bars / twin axes)
    assert all(ax.has_data() or ax.images for ax in panels), "every given panel is drawn on"
    assert (tmp_path / "user.png").exists()
    # without axes: a new Figure that Jupyter shows inline by itself
    fig = call(name)
    assert isinstance(fig, Figure) and fig is not user
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_pyplot_needed(tmp_path):
    import subprocess

    code = ("import sys; from autograd_lite import figures as F; import numpy as np\n"
            "F.plot_sigmoid(z=np.linspace(-2, 2, 5)); F.plot_training_curve([0.5, 0.4])\n"
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    return struct.unpack(">II", data[16:24])


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("name", PLOTS)
def test_slide_legibility_labels_and_legends(name, tmp_path):
    fig = call(name, path=tmp_path / "f.png")
    width_px, height_px = png_size(tmp_path / "f.png")
    assert width_px >= 1400, f"{width_px} px wide is too coarse for a slide"
    fig.canvas.draw()
    # the smallest text, shown 1920 px wide, is at least 14 px tall
    smallest = min(t.get_fontsize() for t in _texts(fig))
    px = smallest * F.DPI / 72 * 1920 / width_px
    assert px >= 14, f"smallest text {smallest} pt is {px:.1f} px at 1920 px wide"
    # every axis has a label (a twin axis shares the x label of its partner)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        shared = [o for o in ax.get_shared_x_axes().get_siblings(ax) if o is not ax]
        cbar = ax.get_label() == "<colorbar>"
        if not cbar and not (shared and any(o.get_xlabel() for o in shared)):
            assert ax.get_xlabel(), f"{name}: an axes without an x label ({ax.get_title()!r})"
        assert ax.get_ylabel() or (cbar and ax.get_xlabel()), f"{name}: an axes without a y label"
    # legends cover no data point
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        points = [line.get_transform().transform(line.get_xydata()) for line in ax.get_lines()
                  if len(line.get_xydata())]
        points += [c.get_offset_transform().transform(c.get_offsets()) for c in ax.collections
                   if isinstance(c, PathCollection) and len(c.get_offsets())]
        for pts in points:
            inside = (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)
            assert not inside.any(), f"{name}: the legend covers data"


def test_training_curve_words_and_integer_epochs():
    fig = F.plot_training_curve(HISTORY, title="logistic regression on breast cancer")
    ax = fig.axes[0]
    assert ax.get_title() == "Training cost and accuracy: logistic regression on breast cancer"
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert all("_" not in title for title in F.TRAINED_TITLES.values())


def test_decision_regions_are_colour_blind_safe():
    fig = call("plot_decision_boundaries")
    for ax in fig.axes[1:3]:
        scatters = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
        assert len(scatters) == 2  # one per class ...
        paths = [c.get_paths()[0].vertices.round(3).tolist() for c in scatters]
        assert paths[0] != paths[1]  # ... with different marker shapes ...
        colors = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in scatters}
        safe = {tuple(np.round([int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)], 3)) for h in F.SAFE.values()}
        assert colors <= safe and len(colors) == 2  # ... and Okabe–Ito colours
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "class 0" in labels and "class 1" in labels
        assert ax.get_xlabel() and ax.get_ylabel()


def test_heat_map_numbers_are_readable_and_rounding_reads_zero():
    fig = call("plot_init_symmetry")
    for ax in fig.axes:
        if not ax.images:
            continue
        im = ax.images[0]
        W = im.get_array()
        cells = [t for t in ax.texts]
        assert len(cells) == W.size
        for t in cells:
            assert t.get_text() != "-0.00"
            j, i = (round(v) for v in t.get_position())
            bg = np.array(im.cmap(im.norm(W[i, j]))[:3])
            fg = np.array(__import__("matplotlib.colors", fromlist=["to_rgb"]).to_rgb(t.get_color()))

            def lum(c):
                c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
                return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

            hi, lo = sorted((lum(bg), lum(fg)), reverse=True)
            assert (hi + 0.05) / (lo + 0.05) >= 4.5, f"cell {t.get_text()} is hard to read"
        assert "e-1" not in ax.get_title() and "init=" not in ax.get_title()


def test_demo_figure_shows_the_demo_numbers(capsys):
    from autograd_lite import cli

    moons: dict = {}
    cli._demo_training(True, moons)
    printed = capsys.readouterr().out
    d = F.decision_boundary_data(grid=10, trained=moons)
    for name, r in d["models"].items():
        line = next(ln for ln in printed.splitlines() if ln.strip().startswith(f"{name}, two moons"))
        assert f"test accuracy {r['test_accuracy']:.3f}" in line
        assert f"→ {r['cost'][-1]:.3f}" in line
