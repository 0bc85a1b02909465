"""C8: activation functions bring non-linearity; without one, a stack of layers is still linear.

A 2 → 8 → 8 → 1 MLP with the identity ("linear") activation collapses to a single
affine map f(x) = v·x + c, so it cannot fit XOR; the same net with ReLU (the usual
hidden-layer choice) or tanh can.  Also shows sigmoid, tanh, relu and softmax.
Run:  python examples/c08_activations_bring_nonlinearity.py [--fast]
"""

import argparse

import numpy as np

from autograd_lite import Value, losses, nn, optim, train

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="fewer epochs")
args = parser.parse_args()

z = Value(-1.5)
print(f"at z = -1.5: sigmoid {z.sigmoid().data:.4f}, tanh {z.tanh().data:.4f}, relu {z.relu().data:.1f}")
probs = [p.data for p in losses.softmax([2.0, 1.0, -1.0])]
print("softmax([2, 1, -1]) =", [round(p, 4) for p in probs])
assert abs(sum(probs) - 1) < 1e-12 and probs[0] > probs[1] > probs[2]

# 1. A linear stack is an affine map: f(x) = v·x + c with v = f(e_i) − f(0).
deep_linear = nn.MLP(2, [8, 8, 1], activation="linear", seed=0)
f = lambda x: deep_linear(x).data
c = f([0.0, 0.0])
v = np.array([f([1.0, 0.0]) - c, f([0.0, 1.0]) - c])
rng = np.random.default_rng(1)
for x in rng.normal(size=(5, 2)):
    assert abs(f(list(x)) - (v @ x + c)) < 1e-9
print(f"3-layer linear net == the single affine map {v.round(4)}·x + {c:.4f} at random points")

# 2. So it cannot learn XOR; with a non-linear activation the same shape can.
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([0, 1, 1, 0])
accs = {}
for act in ("linear", "relu", "tanh"):
    best = 0.0
    for seed in range(3):
        model = nn.MLP(2, [8, 8, 1], activation=act, output_activation="sigmoid", seed=seed)
        train.fit(model, X, y, optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=150 if args.fast else 400,
                  engine="vectorized", progress=False)
        best = max(best, train.accuracy(model, X, y))
    accs[act] = best
    print(f"XOR with {act:>6} hidden units: accuracy {best:.2f}")
assert accs["linear"] <= 0.75, "a linear model cannot fit XOR"
assert accs["relu"] == 1.0 and accs["tanh"] == 1.0
print("C8: OK")
