"""C3: with a sigmoid, the log-loss cost is convex in w; the squared-error cost is not.

J''(w) is computed by second-order backprop, grad(grad(J)).  See also
examples/curvature.py (the full Hessian in (w, b)) and the figure
autograd_lite.figures.plot_cost_curvature.
Run:  python examples/c03_squared_error_is_not_convex.py [--fast]
"""

import argparse

from autograd_lite import grad

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="coarser grid of w")
args = parser.parse_args()

xs = [-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0]
ys = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]


def log_loss_cost(w):
    total = 0.0
    for x, y in zip(xs, ys):
        a = (w * x).sigmoid()
        total = total - (y * a.log() + (1 - y) * (1 - a).log())
    return total / len(xs)


def squared_error_cost(w):
    total = 0.0
    for x, y in zip(xs, ys):
        total = total + ((w * x).sigmoid() - y) ** 2
    return total / len(xs)


n = 41 if args.fast else 161
ws = [-8 + 16 * i / (n - 1) for i in range(n)]
for name, J in [("log loss", log_loss_cost), ("squared error", squared_error_cost)]:
    curv = [grad(grad(J))(w) for w in ws]
    neg = [w for w, c in zip(ws, curv) if c < 0]
    print(f"{name:>13}: J'' ranges over [{min(curv):+.4f}, {max(curv):+.4f}]; negative at {len(neg)} of {n} w's"
          + (f" (e.g. w = {neg[0]:+.1f})" if neg else ""))
    if name == "log loss":
        assert min(curv) > 0, "the log-loss cost must be convex"
    else:
        assert min(curv) < 0 < max(curv), "the squared-error cost must change curvature"
print("C3: OK")
