"""Logistic regression as a one-layer network (C1, C2, C4, C13, C14) on real data.

Trains ŷ = σ(wᵀx + b) with the log loss by gradient descent on the shipped
Wisconsin breast-cancer data (569 tumours, 30 standardised features; y = 1
for malignant), printing the cost J every few epochs, then the accuracy on a
held-out test set with the 0.5 threshold.  Asserts that the cost fell and the
test accuracy is above 90%.

    python examples/logistic_regression.py --epochs 30
"""

import argparse

from autograd_lite import data, nn, optim, train


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.5, help="learning rate α of gradient descent")
    parser.add_argument("--every", type=int, default=5, help="print the cost every k epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y, names = data.load_breast_cancer()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=args.seed)
    X_train, X_test, _, _ = data.standardize(X_train, X_test)

    model = nn.LogisticRegression(X_train.shape[1])          # w = 0, b = 0: ŷ = 0.5 for everyone
    print(f"logistic regression on {len(X_train)} tumours × {len(names)} features "
          f"({model.nin + 1} parameters), batch gradient descent, α = {args.lr}")
    history = train.fit(model, X_train, y_train, loss="bce", optimizer=optim.SGD(model, lr=args.lr),
                        epochs=args.epochs, progress=False)
    print(history.table(every=args.every))

    acc = train.accuracy(model, X_test, y_test)
    print(f"test accuracy: {acc:.3f} on {len(X_test)} held-out tumours (threshold 0.5)")
    assert history.cost[0] > history.cost[-1], "the cost did not fall"
    if args.epochs >= 5:
        assert acc > 0.9, f"test accuracy {acc:.3f} should exceed 0.9"
    return acc


if __name__ == "__main__":
    main()
