"""Why deep networks (C12): an MLP fits two moons and two circles, logistic regression cannot.

Trains MLP(2, [16, 16, 1]) (relu hidden layers, a logit output, the log loss,
Adam) on make_moons(200, noise=0.1) and on concentric circles, printing the
cost every few epochs and the final accuracy, next to logistic regression on
the same data.  Asserts that the MLP beats logistic regression on both and that
logistic regression stays near chance on the circles (no line separates them).

    python examples/deep_net.py --epochs 40
"""

import argparse

from autograd_lite import data, nn, optim, train


def run(name, X, y, epochs, lr, every, seed):
    print(f"\n== {name}: {len(X)} points ==")
    results = {}
    for label, model in [("MLP(2, [16, 16, 1])", nn.MLP(2, [16, 16, 1], seed=seed)),
                         ("logistic regression", nn.LogisticRegression(2))]:
        history = train.fit(model, X, y, loss="bce", optimizer=optim.Adam(model, lr=lr), epochs=epochs,
                            progress=False)
        print(f"-- {label}")
        print(history.table(every=every))
        results[label] = acc = train.accuracy(model, X, y)
        print(f"{label}: final accuracy {acc:.3f}")
    return results["MLP(2, [16, 16, 1])"], results["logistic regression"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=0.05, help="Adam's learning rate")
    parser.add_argument("--every", type=int, default=10, help="print the cost every k epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    moons = data.make_moons(200, noise=0.1, seed=args.seed)
    circles = data.make_circles(200, noise=0.1, factor=0.5, seed=args.seed)
    mlp_m, lr_m = run("two moons", *moons, args.epochs, args.lr, args.every, args.seed)
    mlp_c, lr_c = run("two circles", *circles, args.epochs, args.lr, args.every, args.seed)
    print(f"\nmoons:   MLP {mlp_m:.3f}  vs logistic regression {lr_m:.3f}")
    print(f"circles: MLP {mlp_c:.3f}  vs logistic regression {lr_c:.3f}")
    assert mlp_m > lr_m and mlp_c > lr_c, "the deep net should beat logistic regression"
    assert lr_c < 0.7, "logistic regression should stay near chance on the circles"
    if args.epochs >= 30:
        assert mlp_m >= 0.97 and mlp_c >= 0.95, "the deep net should fit both datasets"
    return mlp_m, mlp_c, lr_c


if __name__ == "__main__":
    main()
