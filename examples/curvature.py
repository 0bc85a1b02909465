"""Curvature of the cost: why logistic regression uses the log loss (claim C3).

The Hessian H = ∇²J(θ) of the cost in θ = (w, b) is computed by differentiating
the gradient's own graph (``autograd_lite.hessian``) and compared with the
closed forms.  With a = σ(wᵀx + b), x̃ = (x, 1) and m examples:

* log loss   J = −(1/m) Σ [y log a + (1 − y) log(1 − a)]
             H = (1/m) Σ a(1 − a) x̃ x̃ᵀ                      -- a sum of PSD matrices: convex
* squared    J = (1/m) Σ (a − y)²
             H = (1/m) Σ 2[a'² + (a − y) a''] x̃ x̃ᵀ,  a' = a(1 − a),  a'' = a(1 − a)(1 − 2a)
             -- the (a − y)a'' term can be negative: not convex.

The script prints both Hessians next to their formulas, their eigenvalues, and
a point (found by random search) where the squared-error cost curves downwards,
confirmed by a finite-difference second derivative along that direction.  It
asserts everything it prints; run it with ``python examples/curvature.py``.
"""

from __future__ import annotations

import argparse

import numpy as np

from autograd_lite import Value, hessian
from autograd_lite.text import format_table


def make_data(m: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """m random examples with n features and 0/1 labels from a noisy linear rule."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, n))
    y = (x @ rng.normal(size=n) + 0.5 * rng.normal(size=m) > 0).astype(float)
    return x, y


def _activations(theta, x: np.ndarray) -> list:
    """a = σ(wᵀx + b) for every example; θ = (w₁, …, wₙ, b)."""
    *w, b = theta
    return [(sum((wi * float(xi) for wi, xi in zip(w, row)), b)).sigmoid() for row in x]


def log_loss_cost(theta, x: np.ndarray, y: np.ndarray):
    """J(w, b) = −(1/m) Σ [y log a + (1 − y) log(1 − a)] (claims C2, C13)."""
    losses = [-(yi * a.log() + (1 - yi) * (1 - a).log()) for a, yi in zip(_activations(theta, x), y)]
    return sum(losses[1:], losses[0]) / len(losses)


def squared_error_cost(theta, x: np.ndarray, y: np.ndarray):
    """J(w, b) = (1/m) Σ (a − y)²."""
    losses = [(a - float(yi)) ** 2 for a, yi in zip(_activations(theta, x), y)]
    return sum(losses[1:], losses[0]) / len(losses)


def _design(theta: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = np.hstack([x, np.ones((len(x), 1))])  # x̃ = (x, 1)
    z = xt @ theta
    return xt, 1.0 / (1.0 + np.exp(-z))


def log_loss_hessian_formula(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(1/m) Σ a(1 − a) x̃ x̃ᵀ."""
    xt, a = _design(theta, x)
    return (xt * (a * (1 - a))[:, None]).T @ xt / len(x)


def squared_error_hessian_formula(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(1/m) Σ 2[a'² + (a − y)a''] x̃ x̃ᵀ with a' = a(1 − a), a'' = a(1 − a)(1 − 2a)."""
    xt, a = _design(theta, x)
    d1 = a * (1 - a)
    d2 = d1 * (1 - 2 * a)
    return (xt * (2 * (d1 ** 2 + (a - y) * d2))[:, None]).T @ xt / len(x)


def autodiff_hessian(cost, theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∇²J at θ by autodiff: θ is one vector argument of ``cost``."""
    return np.array(hessian(lambda t: cost(t, x, y))(list(theta)))


def find_negative_curvature(x: np.ndarray, y: np.ndarray, points: int, box: float, seed: int):
    """Random search in [−box, box]ⁿ⁺¹ for the θ whose squared-error Hessian has the
    most negative eigenvalue; returns (θ, H, eigenvalues, eigenvector of the smallest)."""
    rng = np.random.default_rng(seed)
    best = None
    for theta in rng.uniform(-box, box, size=(points, x.shape[1] + 1)):
        h = autodiff_hessian(squared_error_cost, theta, x, y)
        eig, vec = np.linalg.eigh(h)
        if best is None or eig[0] < best[2][0]:
            best = (theta, h, eig, vec[:, 0])
    return best


def _matrix(title: str, h: np.ndarray, names: list[str]) -> str:
    rows = [(n, *(f"{v:+.6f}" for v in row)) for n, row in zip(names, h)]
    return f"{title}\n" + format_table(("", *names), rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30, help="training examples m (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--points", type=int, default=150, help="random points searched (default 150)")
    args = parser.parse_args(argv)
    if args.examples < 1 or args.points < 1:
        parser.error("--examples and --points must be positive")

    x, y = make_data(args.examples, 2, args.seed)
    names = ["w1", "w2", "b"]
    rng = np.random.default_rng(args.seed + 1)

    print(f"C3: curvature of the cost J(w1, w2, b) on {len(x)} random examples, a = σ(w·x + b)\n")
    print("Log loss: Hessian by autodiff vs (1/m) Σ a(1 − a) x̃ x̃ᵀ, x̃ = (x, 1)")
    theta = rng.normal(size=3)
    h_auto = autodiff_hessian(log_loss_cost, theta, x, y)
    h_formula = log_loss_hessian_formula(theta, x)
    error = np.abs(h_auto - h_formula).max()
    print(f"at θ = ({', '.join(f'{t:+.4f}' for t in theta)})")
    print(_matrix("autodiff:", h_auto, names))
    print(_matrix("formula:", h_formula, names))
    print(f"max |autodiff − formula| = {error:.2e}")
    assert error < 1e-10, error

    rows = []
    for point in [theta, *rng.uniform(-5, 5, size=(4, 3))]:
        h = autodiff_hessian(log_loss_cost, point, x, y)
        eig = np.linalg.eigvalsh(h)
        assert np.abs(h - log_loss_hessian_formula(point, x)).max() < 1e-10
        assert eig.min() >= -1e-12, eig  # positive semi-definite everywhere: convex
        rows.append((", ".join(f"{t:+.3f}" for t in point), ", ".join(f"{e:.6f}" for e in eig)))
    print("\neigenvalues of the log-loss Hessian (all ≥ 0: convex)")
    print(format_table(("θ = (w1, w2, b)", "eigenvalues"), rows))

    print(f"\nSquared error: random search over {args.points} points in [−8, 8]³ for negative curvature")
    theta, h, eig, u = find_negative_curvature(x, y, args.points, 8.0, args.seed + 2)
    error = np.abs(h - squared_error_hessian_formula(theta, x, y)).max()
    assert error < 1e-10, error
    assert eig[0] < 0, eig
    cost = lambda t: squared_error_cost([Value(float(v)) for v in t], x, y).data
    step = 1e-3  # J(θ + su) − 2J(θ) + J(θ − su) / s² ≈ uᵀHu = λ_min
    curvature = (cost(theta + step * u) - 2 * cost(theta) + cost(theta - step * u)) / step ** 2
    assert curvature < 0 and abs(curvature - eig[0]) < 1e-4 * max(1.0, abs(eig[0])), (curvature, eig[0])
    print(f"at θ = ({', '.join(f'{t:+.4f}' for t in theta)}), J = {cost(theta):.6f}")
    print(_matrix("autodiff Hessian (matches (1/m) Σ 2[a'² + (a − y)a''] x̃ x̃ᵀ):", h, names))
    print(f"max |autodiff − formula| = {error:.2e}")
    print(f"eigenvalues: {', '.join(f'{e:.6f}' for e in eig)}")
    print(f"direction u = ({', '.join(f'{c:+.4f}' for c in u)}): "
          f"finite-difference d²J/ds² along u = {curvature:.6f} < 0")
    h_log = autodiff_hessian(log_loss_cost, theta, x, y)
    min_log = np.linalg.eigvalsh(h_log).min()
    assert min_log >= -1e-12
    print(f"the log loss at the same θ: smallest eigenvalue {min_log:.3e} ≥ 0")
    print("\nC3 holds: the log-loss cost is convex in (w, b); the squared-error cost is not.")


if __name__ == "__main__":
    main()
