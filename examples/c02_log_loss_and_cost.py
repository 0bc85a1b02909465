"""C2 + C13: the log loss of one example, and the cost J = the mean loss over the training set.

L(ŷ, y) = −[y log ŷ + (1 − y) log(1 − ŷ)] is per example; J(w, b) = (1/m) Σ L is what
gradient descent minimises, so ∂J/∂w is the mean of the per-example gradients.
Run:  python examples/c02_log_loss_and_cost.py [--fast]
"""

import argparse
import math

from autograd_lite import Value, losses

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="(already fast)")
parser.parse_args()

# The loss is small when the prediction agrees with the label and large when it does not.
for a_hat, y in [(0.9, 1), (0.1, 1), (0.1, 0), (0.9, 0)]:
    L = losses.binary_cross_entropy(Value(a_hat), y).data
    want = -(y * math.log(a_hat) + (1 - y) * math.log(1 - a_hat))
    print(f"ŷ = {a_hat}, y = {y}:  L = {L:.4f}")
    assert abs(L - want) < 1e-12

# Per-example losses vs the cost of a one-feature logistic regression.
xs, ys = [0.5, -1.0, 2.0, 1.5], [1, 0, 1, 0]
w, b = Value(0.8, label="w"), Value(-0.2, label="b")
per_example = [losses.binary_cross_entropy((w * x + b).sigmoid(), y) for x, y in zip(xs, ys)]
J = losses.mean(per_example)
print("losses:", [round(L.data, 4) for L in per_example], " cost J =", round(J.data, 4))
assert abs(J.data - sum(L.data for L in per_example) / len(xs)) < 1e-12

J.backward()
grads = []
for x, y in zip(xs, ys):   # ∂L/∂w = x(a − y) for one example; ∂J/∂w is their mean
    a = 1 / (1 + math.exp(-(0.8 * x - 0.2)))
    grads.append(x * (a - y))
print(f"∂J/∂w by backprop = {w.grad:.6f};  mean of per-example x(a − y) = {sum(grads) / len(grads):.6f}")
assert abs(w.grad - sum(grads) / len(grads)) < 1e-12
print("C2, C13: OK")
