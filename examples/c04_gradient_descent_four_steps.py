"""C4 + C7: gradient descent, and the four steps of training written out by hand.

1. feed the inputs through the model with randomly set weights (forward);
2. the activation gives the prediction ŷ = σ(z);
3. the loss measures the error, averaged into the cost J;
4. the optimiser updates the weights from J's gradient: w := w − α ∂J/∂w, b := b − α ∂J/∂b.
Run:  python examples/c04_gradient_descent_four_steps.py [--fast]
"""

import argparse

import numpy as np

from autograd_lite import Value, data

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="fewer steps")
args = parser.parse_args()

X, y = data.make_blobs(60, centers=[[-1.5, -1.0], [1.5, 1.0]], cluster_std=1.0, seed=3)
rng = np.random.default_rng(0)
w = [Value(v, label=f"w{i}") for i, v in enumerate(rng.normal(0, 1, 2))]   # a random start
b = Value(0.0, label="b")
alpha = 0.5
costs = []
for step in range(40 if args.fast else 150):
    cost = 0.0
    for xi, yi in zip(X.tolist(), y.tolist()):
        z = w[0] * xi[0] + w[1] * xi[1] + b                          # 1. forward
        a = z.sigmoid()                                               # 2. prediction
        cost = cost - (yi * a.log() + (1 - yi) * (1 - a).log())      # 3. the loss ...
    cost = cost / len(X)                                              #    ... averaged: the cost
    for p in (*w, b):
        p.grad = 0.0
    cost.backward()                                                   # backprop: ∂J/∂w, ∂J/∂b
    for p in (*w, b):
        p.data -= alpha * p.grad                                      # 4. the update
    costs.append(cost.data)
    if step % 25 == 0:
        print(f"step {step:3d}: J = {cost.data:.4f}")
print(f"final J = {costs[-1]:.4f} (from {costs[0]:.4f})")
assert all(b2 <= b1 + 1e-12 for b1, b2 in zip(costs, costs[1:])), "with a small α the cost never rises"
assert costs[-1] < 0.5 * costs[0]
assert abs(costs[-1] - costs[-2]) < 1e-3, "the cost has stopped falling"
print("C4, C7: OK")
