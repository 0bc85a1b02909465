"""C11: with all weights equal (zero or any value) every hidden unit stays a clone; random init breaks the symmetry.

Rows of the hidden layer's weight matrix start identical, get identical updates, and stay
identical forever -- the layer is worth one unit.  The figure plot_init_symmetry draws it.
Run:  python examples/c11_random_initialisation.py [--fast]
"""

import argparse

import numpy as np

from autograd_lite import data, nn, optim, train

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="fewer epochs")
args = parser.parse_args()

X, y = data.make_moons(100, noise=0.1, seed=0)


def hidden_weights(model):
    return np.array([[p.data for p in n.w] + [n.b.data] for n in model.layers[0].neurons])


results = {}
for init in ("zeros", 0.3, "random"):
    model = nn.MLP(2, [5, 1], activation="tanh", output_activation="sigmoid", init=init, seed=0)
    train.fit(model, X, y, optimizer=optim.SGD(model.parameters(), lr=0.5), epochs=50 if args.fast else 300,
              engine="vectorized", progress=False)
    W = hidden_weights(model)
    spread = np.ptp(W, axis=0).max()
    results[init] = (spread, train.accuracy(model, X, y))
    print(f"init={init!r:>8}: hidden weights after training\n{W.round(3)}\n"
          f"  largest difference between rows {spread:.2g}, training accuracy {results[init][1]:.2f}")
assert results["zeros"][0] < 1e-12 and results[0.3][0] < 1e-12, "equal starts stay equal (up to rounding)"
assert results["random"][0] > 0.1, "random starts give different units"
print("C11: OK")
