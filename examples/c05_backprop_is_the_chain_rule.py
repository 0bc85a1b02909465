"""C5 + C6: backpropagation is the chain rule applied backwards over the z → a → L graph.

dL/dw1 = dL/da · da/dz · dz/dw1 with dL/da = −y/a + (1 − y)/(1 − a), da/dz = a(1 − a),
so dL/dz = a − y and dL/dw1 = x1(a − y).  examples/computational_graph.py draws the graph.
With SymPy installed (autograd-lite[symbolic]) the formulas are also derived from the graph itself
and shown next to the hand-written ones and autodiff.
Run:  python examples/c05_backprop_is_the_chain_rule.py [--fast]
"""

import argparse
import math

from autograd_lite import Value
from autograd_lite.walkthrough import derivative_rows, format_rows

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="(already fast)")
parser.parse_args()

for x1, x2, w1, w2, b, y in [(1.5, -0.5, 0.3, -0.8, 0.1, 1), (-2.0, 0.7, 1.1, 0.4, -0.3, 0)]:
    W1, W2, B = Value(w1), Value(w2), Value(b)
    z = W1 * x1 + W2 * x2 + B
    a = z.sigmoid()
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.backward()
    av = 1 / (1 + math.exp(-(w1 * x1 + w2 * x2 + b)))
    dL_da = -y / av + (1 - y) / (1 - av)
    da_dz = av * (1 - av)
    chain = dL_da * da_dz * x1                       # dL/da · da/dz · dz/dw1
    print(f"y = {y}: backprop dL/dw1 = {W1.grad:+.8f}, chain rule = {chain:+.8f}, x1(a − y) = {x1 * (av - y):+.8f}")
    assert abs(W1.grad - chain) < 1e-12 and abs(chain - x1 * (av - y)) < 1e-12
    assert abs(z.grad - (av - y)) < 1e-12 and abs(B.grad - (av - y)) < 1e-12
    assert abs(a.grad - dL_da) < 1e-9 and abs(W2.grad - x2 * (av - y)) < 1e-12

rows = derivative_rows()
print(format_rows(rows))
for _, _, auto, analytic, numeric in rows:
    assert abs(auto - analytic) < 1e-12 and (numeric != numeric or abs(auto - numeric) < 1e-7)
try:
    from autograd_lite.walkthrough import format_symbolic_rows, symbolic_rows

    srows = symbolic_rows()
except ImportError:
    print("(SymPy not installed: pip install autograd-lite[symbolic] to derive the formulas from the graph)")
else:
    print(format_symbolic_rows(srows))
    for name, _, _, same, sympy_value, hand_value, auto in srows:  # derived, not typed: SymPy − hand = 0
        assert same and abs(sympy_value - hand_value) < 1e-12 and abs(sympy_value - auto) < 1e-12, name
print("C5, C6: OK")
