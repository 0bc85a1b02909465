"""C1 + C14: logistic regression is a one-layer neural network doing binary classification.

ŷ = σ(wᵀx + b) estimates P(y = 1 | x); σ maps any z into (0, 1); a threshold of
0.5 on that probability gives the class (e.g. malignant / benign, spam / not spam).
Run:  python examples/c01_logistic_regression_is_a_neuron.py [--fast]
"""

import argparse
import math

import numpy as np

from autograd_lite import Value, data, nn, optim, train

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fast", action="store_true", help="fewer epochs")
args = parser.parse_args()

# σ maps any real z into (0, 1) -- even extreme ones, without overflow.
for z in (-1000.0, -5.0, 0.0, 5.0, 1000.0):
    a = Value(z).sigmoid().data
    print(f"σ({z:g}) = {a:.6g}")
    assert 0.0 <= a <= 1.0 and (a not in (0.0, 1.0) or abs(z) > 30)

# A LogisticRegression model is exactly one sigmoid neuron: ŷ = σ(w·x + b).
model = nn.LogisticRegression(3)
for p, v in zip(model.parameters(), [0.5, -1.0, 2.0, 0.1]):
    p.data = v
x = [1.0, 2.0, -0.5]
by_hand = 1 / (1 + math.exp(-(0.5 * 1.0 - 1.0 * 2.0 + 2.0 * -0.5 + 0.1)))
print(f"model(x) = {model(x).data:.6f}   σ(w·x + b) by hand = {by_hand:.6f}")
assert abs(model(x).data - by_hand) < 1e-12

# Binary classification on the shipped breast-cancer data (1 = malignant): the output is a
# probability, and the class is 1 when it is at least 0.5.
X, y, names = data.load_breast_cancer()
X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, seed=0)
X_tr, X_te, _, _ = data.standardize(X_tr, X_te)
model = nn.LogisticRegression(X.shape[1])
train.fit(model, X_tr, y_tr, optimizer=optim.SGD(model.parameters(), lr=0.5), epochs=20 if args.fast else 100,
          engine="vectorized", progress=False)
p = train.predict_proba(model, X_te)
classes = train.predict(model, X_te)
assert set(np.unique(y)) <= {0, 1}                       # targets are 0 or 1
assert np.all((p > 0) & (p < 1))                         # outputs are probabilities
assert np.array_equal(classes, (p >= 0.5).astype(classes.dtype))  # threshold 0.5 gives the class
acc = train.accuracy(model, X_te, y_te)
print(f"test accuracy of one neuron on {X.shape[1]} features: {acc:.3f}")
for i in range(3):
    print(f"  tumour {i}: P(malignant) = {p[i]:.3f} → class {int(classes[i])} (truth {int(y_te[i])})")
assert acc > 0.9
print("C1, C14: OK")
