"""C12: a deeper, non-linear net fits what logistic regression cannot (two moons, concentric circles).

Hidden units of the first layer learn simple (half-plane) features; later layers combine
them into a curved boundary.  The figure plot_decision_boundaries draws both boundaries.
Run:  python examples/c12_why_deep_networks.py [--fast]
"""

import argparse

import numpy as np

from autograd_lite import data, nn, optim, train

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="fewer epochs")
args = parser.parse_args()
epochs = 150 if args.fast else 400

for name, (X, y) in {"moons": data.make_moons(200, noise=0.1, seed=0),
                     "circles": data.make_circles(200, noise=0.05, factor=0.5, seed=0)}.items():
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, seed=0)
    accs = {}
    for kind, model in (("logistic regression", nn.LogisticRegression(2)),
                        ("MLP 2→16→16→1", nn.MLP(2, [16, 16, 1], activation="relu", output_activation="sigmoid",
                                                 seed=0))):
        train.fit(model, X_tr, y_tr, optimizer=optim.Adam(model.parameters(), lr=0.02), epochs=epochs,
                  engine="vectorized", progress=False)
        accs[kind] = train.accuracy(model, X_te, y_te)
        print(f"{name:>7}, {kind:<20} test accuracy {accs[kind]:.2f}")
    assert accs["MLP 2→16→16→1"] >= 0.95
    assert accs["logistic regression"] <= 0.9
    # the first layer's units are half-planes: each ReLU is 0 on one side of a line w·x + b = 0
    first = model.layers[0].neurons[0]
    w = np.array([p.data for p in first.w])
    print(f"         unit 1 of layer 1 is the half-plane {w.round(2)}·x + {first.b.data:.2f} > 0")
print("C12: OK")
