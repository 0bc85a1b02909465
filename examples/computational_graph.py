"""The seed's computational graph of logistic regression, drawn with values and gradients (C5, C6).

For x = (x1, x2), w = (w1, w2), b and a label y it builds

    z = w1·x1 + w2·x2 + b,    a = σ(z),    L = −[y log a + (1 − y) log(1 − a)],

backpropagates from L and writes the picture twice, ``z_a_L.svg`` and ``z_a_L.png``,
into ``--out DIR`` (default: the current directory).  Every box shows a node's
value and its gradient ∂L/∂node, so the chain rule of C6 can be read off it:
dL/dz = a − y, dL/dw1 = x1(a − y), dL/dw2 = x2(a − y), dL/db = a − y.

    python examples/computational_graph.py --out demo-output
    python examples/computational_graph.py --color-by grad      # shade boxes by |grad|
    python examples/computational_graph.py --layout wide        # one long strip instead of slide rows

Needs the Graphviz ``dot`` program; without it the DOT source is written instead
and the script exits with status 1 and says how to install Graphviz.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograd_lite.viz import COLOR_BY, LAYOUTS, GraphvizNotFoundError, render_graph
from autograd_lite.walkthrough import DEFAULT_POINT, build_zal_graph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", metavar="DIR", default=".", help="directory to write z_a_L.svg and z_a_L.png "
                        "into (created if missing; default: current directory)")
    parser.add_argument("--color-by", choices=COLOR_BY, default="kind",
                        help="colour boxes by node kind (default) or shade them by |grad|")
    parser.add_argument("--layout", choices=LAYOUTS, default="slide",
                        help="slide (default): wrapped into rows that fit a 16:9 slide, large sans-serif text; "
                             "wide: one long left-to-right strip")
    for name, value in DEFAULT_POINT.items():
        parser.add_argument(f"--{name}", type=float, default=value, help=f"(default {value:g})")
    args = parser.parse_args(argv)
    if args.y not in (0.0, 1.0):
        parser.error(f"--y is a binary label, 0 or 1; got {args.y:g}")

    g = build_zal_graph(x1=args.x1, x2=args.x2, w1=args.w1, w2=args.w2, b=args.b, y=args.y)
    a, y = g.a.data, g.y
    print(f"z = {g.z.data:.4f}   a = σ(z) = {a:.4f}   L = {g.L.data:.4f}   (y = {y:g})")
    print(f"dL/dz = a − y = {a - y:+.4f}   backprop: {g.z.grad:+.4f}")
    print(f"dL/dw1 = x1(a − y) = {g.x1.data * (a - y):+.4f}   backprop: {g.w1.grad:+.4f}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        for suffix in ("svg", "png"):
            path = render_graph(g.L, out / f"z_a_L.{suffix}", color_by=args.color_by, layout=args.layout,
                                names="expression")  # up to 30 characters: (1 − y)·log(1 − a) too
            print(f"wrote {path}")
    except GraphvizNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
