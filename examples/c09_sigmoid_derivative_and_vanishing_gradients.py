"""C9 + C10: σ'(z) = σ(z)(1 − σ(z)) ≤ 1/4, saturation, and vanishing gradients in deep sigmoid nets.

For large |z| sigmoid and tanh saturate (their derivatives → 0), while relu' = 1 for
z > 0.  Backprop multiplies one σ' ≤ 1/4 per layer, so the gradient reaching the first
layers of a deep sigmoid net is tiny.  examples/deep_net.py goes deeper; the figures
plot_sigmoid and plot_layer_gradients draw this.
Run:  python examples/c09_sigmoid_derivative_and_vanishing_gradients.py [--fast]
"""

import argparse

import numpy as np

from autograd_lite import data, grad, nn, relu, sigmoid, tanh

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="smaller batch")
args = parser.parse_args()

zs = np.linspace(-10, 10, 2001)
ds = np.array([grad(sigmoid)(z) for z in zs])
s = 1 / (1 + np.exp(-zs))
assert np.allclose(ds, s * (1 - s), atol=1e-15)                       # C9: σ' = σ(1 − σ)
print(f"max σ'(z) = {ds.max()} at z = {zs[ds.argmax()]:g}")
assert ds.max() == 0.25 and zs[ds.argmax()] == 0.0
for z in (0.0, 2.0, 5.0, 10.0):
    print(f"z = {z:4g}: σ' = {grad(sigmoid)(z):.2e}  tanh' = {grad(tanh)(z):.2e}  relu' = {grad(relu)(z):g}")
assert grad(sigmoid)(10.0) < 1e-4 and grad(tanh)(10.0) < 1e-8 and grad(relu)(10.0) == 1.0   # C10

# Mean |∂J/∂w| per layer of a 6-hidden-layer net, one backward pass of the mean log loss.
X, y = data.make_moons(8 if args.fast else 32, noise=0.1, seed=0)
for act in ("sigmoid", "relu"):
    model = nn.MLP(2, [8] * 6 + [1], activation=act, output_activation="sigmoid", seed=0)
    cost = sum(-(t * model(list(x)).log() + (1 - t) * (1 - model(list(x))).log()) for x, t in zip(X, y)) / len(X)
    model.zero_grad()
    cost.backward()
    per_layer = [np.mean([abs(p.grad) for n in layer.neurons for p in n.w]) for layer in model.layers]
    ratio = per_layer[0] / per_layer[-1]
    print(f"{act:>7}: mean |∂J/∂w| from the input layer to the output: "
          + " ".join(f"{g:.1e}" for g in per_layer) + f"   (first/last = {ratio:.1e})")
    if act == "sigmoid":
        assert ratio < 1e-2, "gradients vanish towards the input of a deep sigmoid net"
    else:
        assert ratio > 1e-2, "relu keeps them"
print("C9, C10: OK")
