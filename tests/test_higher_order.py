"""Higher-order derivatives: gradients of gradients (``create_graph=True``), the
``hessian`` / ``hvp`` / ``jacobian`` transforms and ``gradcheck(order=2)``.

Second derivatives are checked against analytic formulas (σ'', tanh'', the
logistic-regression Hessian) and against central finite differences of the
(float-path) gradient; third derivatives against finite differences of the
second.  Every op of the derivative table is exercised with ``create_graph``.
"""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from autograd_lite import Value, grad, gradcheck, gradients, value_and_grad
from autograd_lite import engine as E
from autograd_lite.engine import OPS, linear, topological_order
from autograd_lite.transforms import hessian, hvp, jacobian

ROOT = Path(__file__).resolve().parent.parent
H = 1e-5  # finite-difference step for differences of exact (autodiff) derivatives


def fd_hessian(f, xs, h=H):
    """Central differences of the float-path gradient: column j ≈ (g(x + heⱼ) − g(x − heⱼ)) / 2h."""
    g = value_and_grad(f, argnums=tuple(range(len(xs))))
    n = len(xs)
    out = np.zeros((n, n))
    for j in range(n):
        up, down = list(xs), list(xs)
        up[j] += h
        down[j] -= h
        out[:, j] = (np.array(g(*up)[1]) - np.array(g(*down)[1])) / (2 * h)
    return out


def assert_close(auto, num, atol, rtol=1e-5):
    auto, num = np.asarray(auto, float), np.asarray(num, float)
    assert auto.shape == num.shape
    assert np.all(np.abs(auto - num) <= atol + rtol * np.abs(num)), f"\nautodiff:\n{auto}\nnumeric:\n{num}"


def sigmoid_f(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


# ---------------------------------------------------------------------------
# σ'' and tanh'' (analytic), third derivatives (finite differences of the second)
# ---------------------------------------------------------------------------

z_any = st.floats(min_value=-1000, max_value=1000, allow_nan=False)


@settings(max_examples=150)
@given(z_any)
@example(0.0).via("σ'' changes sign at 0")
@example(745.0).via("saturated")
@example(-745.0).via("saturated")
@example(40.0).via("large")
@example(-40.0).via("large")
def test_sigmoid_second_derivative(z):
    s = sigmoid_f(z)
    expected = s * (1 - s) * (1 - 2 * s)
    got = grad(grad(E.sigmoid))(z)
    assert math.isfinite(got)
    assert abs(got - expected) <= 1e-15 + 1e-9 * abs(expected)
    assert abs(got) <= 1 / (6 * math.sqrt(3)) + 1e-12  # max |σ''| = 1/(6√3) at σ = (3 ± √3)/6


@settings(max_examples=150)
@given(z_any)
@example(0.0).via("inflection")
@example(20.0).via("saturated")
@example(-800.0).via("saturated")
def test_tanh_second_derivative(z):
    t = math.tanh(z)
    expected = -2 * t * (1 - t * t)
    got = grad(grad(E.tanh))(z)
    assert abs(got - expected) <= 1e-15 + 1e-9 * abs(expected)


def test_backward_create_graph_then_backward_again():
    """The Value API: after backward(create_graph=True), x.grad is a Value whose
    own backward gives the second derivative."""
    x = Value(0.7)
    y = x.sigmoid()
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value)
    s = sigmoid_f(0.7)
    assert g.data == pytest.approx(s * (1 - s), rel=1e-12)
    x.grad = 0.0
    g.backward()
    assert x.grad == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-12)


CHAINS = [  # (f on Values, exact f''' or None, domain)
    ("exp(2x)", lambda x: (2 * x).exp(), lambda x: 8 * math.exp(2 * x), st.floats(-5, 5)),
    ("log x", lambda x: x.log(), lambda x: 2 / x ** 3, st.floats(0.2, 20)),
    ("sin x", lambda x: x.sin(), lambda x: -math.cos(x), st.floats(-10, 10)),
    ("sin(exp x)", lambda x: x.exp().sin(), None, st.floats(-3, 1.5)),
    ("log(1 + x²)·cos x", lambda x: (1 + x * x).log() * x.cos(), None, st.floats(-4, 4)),
    ("exp(sin x)/(1 + x²)", lambda x: x.sin().exp() / (1 + x ** 2), None, st.floats(-4, 4)),
    ("x^x", lambda x: x ** x, lambda x: x ** x * ((math.log(x) + 1) ** 3 + 3 * (math.log(x) + 1) / x - 1 / x ** 2),
     st.floats(0.3, 3)),
]


@pytest.mark.parametrize("name,f,exact,domain", CHAINS, ids=[c[0] for c in CHAINS])
def test_third_derivative(name, f, exact, domain):
    d2 = grad(grad(f))
    d3 = grad(grad(grad(f)))

    @settings(max_examples=25)
    @given(domain.filter(lambda x: x == 0 or abs(x) >= 2.2250738585072014e-308))  # subnormals: see below
    def check(x):
        if name == "x^x" and x == 1.0:
            return  # the engine's pow-at-zero-exponent bug: see test_third_derivative_of_x_to_the_x_at_1
        got = d3(x)
        numeric = (d2(x + H) - d2(x - H)) / (2 * H)
        assert abs(got - numeric) <= 1e-5 * (1 + abs(got))
        if exact is not None:
            assert abs(got - exact(x)) <= 1e-10 * (1 + abs(exact(x)))

    check()


# ---------------------------------------------------------------------------
# Logistic regression: the Hessian of the log-loss cost (C3)
# ---------------------------------------------------------------------------


def log_loss_cost(w, b, x, y):
    """J(w, b) = −(1/m) Σ [y log a + (1 − y) log(1 − a)], a = σ(w·x + b)."""
    total = 0.0
    for row, yi in zip(x, y):
        a = linear(w, [float(v) for v in row], b).sigmoid()
        total = total - (yi * a.log() + (1 - yi) * (1 - a).log())
    return total / len(x)


def squared_error_cost(w, b, x, y):
    total = 0.0
    for row, yi in zip(x, y):
        a = linear(w, [float(v) for v in row], b).sigmoid()
        total = total + (a - float(yi)) ** 2
    return total / len(x)


def log_loss_hessian_formula(w, b, x):
    """(1/m) Σ a(1 − a) x̃ x̃ᵀ, x̃ = (x, 1)."""
    xt = np.hstack([x, np.ones((len(x), 1))])
    a = 1 / (1 + np.exp(-(xt @ np.array([*w, b]))))
    return (xt * (a * (1 - a))[:, None]).T @ xt / len(x)


@st.composite
def logreg_problems(draw):
    m = draw(st.integers(1, 8))
    n = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=(m, n))
    y = rng.integers(0, 2, size=m).astype(float)
    w = list(rng.uniform(-3, 3, size=n))
    b = float(rng.uniform(-3, 3))
    return x, y, w, b


@settings(max_examples=40)
@given(logreg_problems())
def test_log_loss_hessian_is_the_formula_and_psd(problem):
    x, y, w, b = problem
    h = np.array(hessian(lambda w, b: log_loss_cost(w, b, x, y))(w, b))  # variables: w₁..wₙ, b
    assert h.shape == (len(w) + 1, len(w) + 1)
    assert_close(h, log_loss_hessian_formula(w, b, x), atol=1e-12, rtol=1e-9)
    assert np.linalg.eigvalsh(h).min() >= -1e-12
    # the same Hessian from argnums=(0, 1) and from one vector argument θ = (w, b)
    assert hessian(lambda w, b: log_loss_cost(w, b, x, y), argnums=(0, 1))(w, b) == h.tolist()
    h_theta = hessian(lambda t: log_loss_cost(t[:-1], t[-1], x, y))([*w, b])
    assert_close(h_theta, h, atol=1e-15, rtol=0)


def test_squared_error_has_negative_curvature():
    """C3: under squared error the sigmoid's cost is not convex. Search a grid for
    the most negative Hessian eigenvalue and confirm it with finite differences."""
    x = np.array([[1.0], [-2.0], [0.5]])
    y = np.array([1.0, 0.0, 1.0])
    cost = lambda w, b: squared_error_cost([w], b, x, y)
    h_of = hessian(cost)
    best = min((np.linalg.eigvalsh(np.array(h_of(w, b)))[0], w, b)
               for w in np.linspace(-6, 6, 13) for b in np.linspace(-6, 6, 13))
    lam, w, b = best
    assert lam < -1e-3
    h = np.array(h_of(w, b))
    assert_close(h, fd_hessian(cost, [w, b]), atol=1e-8)
    assert gradcheck(cost, [w, b], order=2)
    u = np.linalg.eigh(h)[1][:, 0]  # J along the eigenvector curves downwards
    f = lambda s: cost(Value(w + s * u[0]), Value(b + s * u[1])).data
    s = 1e-3
    assert (f(s) - 2 * f(0.0) + f(-s)) / s ** 2 == pytest.approx(lam, rel=1e-4)
    # the log loss on the same data is convex at that point
    assert np.linalg.eigvalsh(np.array(hessian(lambda w, b: log_loss_cost([w], b, x, y))(w, b)))[0] >= -1e-12


def test_curvature_example_runs_and_shows_c3():
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "curvature.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "(1/m) Σ a(1 − a) x̃ x̃ᵀ" in out
    errors = [float(line.rsplit("=", 1)[1]) for line in out.splitlines() if line.startswith("max |autodiff − formula|")]
    assert len(errors) == 2 and max(errors) < 1e-10
    eig_line = next(line for line in out.splitlines() if line.startswith("eigenvalues:"))
    assert float(eig_line.split(":")[1].split(",")[0]) < 0  # negative curvature under squared error
    assert "d²J/ds² along u = -" in out
    assert "C3 holds" in out


# ---------------------------------------------------------------------------
# Random expression graphs with shared subexpressions
# ---------------------------------------------------------------------------

# Each op works on autograd_lite Values (m = engine) and on torch tensors (m = torch).
UNARY_G = [
    lambda m, a: m.sin(a), lambda m, a: m.cos(a), lambda m, a: m.tanh(a), lambda m, a: m.sigmoid(a),
    lambda m, a: m.exp(m.tanh(a)), lambda m, a: m.log(1 + a * a), lambda m, a: m.sqrt(1 + a * a),
    lambda m, a: a ** 2, lambda m, a: -a, lambda m, a: 2.0 ** m.tanh(a),
]
BINARY_G = [
    lambda m, a, b: a + b, lambda m, a, b: a - b, lambda m, a, b: a * b,
    lambda m, a, b: a / (1 + b * b), lambda m, a, b: (1.5 + m.sin(a)) ** (0.5 + 0.4 * m.tanh(b)),
    lambda m, a, b: 3.0 - a * m.tanh(b),
]


@st.composite
def programs(draw):
    n_in = draw(st.integers(1, 3))
    xs = draw(st.lists(st.floats(-2, 2), min_size=n_in, max_size=n_in))
    steps = []
    for k in range(draw(st.integers(1, 8))):
        pool = n_in + k  # any earlier node may be reused: shared subexpressions
        if draw(st.booleans()):
            steps.append((0, draw(st.integers(0, len(UNARY_G) - 1)), draw(st.integers(0, pool - 1)), None))
        else:
            steps.append((1, draw(st.integers(0, len(BINARY_G) - 1)), draw(st.integers(0, pool - 1)),
                          draw(st.integers(0, pool - 1))))
    return xs, steps


def run_program(m, steps, *xs):
    nodes = list(xs)
    for kind, k, i, j in steps:
        nodes.append(UNARY_G[k](m, nodes[i]) if kind == 0 else BINARY_G[k](m, nodes[i], nodes[j]))
    out = nodes[-1]
    for node in nodes[len(xs):-1:2]:  # reuse intermediate nodes once more
        out = out + 0.5 * node
    return out


@settings(max_examples=60)
@given(programs())
def test_random_graph_hessian_matches_finite_differences(program):
    xs, steps = program
    f = lambda *v: run_program(E, steps, *v)
    h = np.array(hessian(f)(*xs))
    scale = 1 + np.abs(h).max()
    assert_close(h, fd_hessian(f, xs), atol=1e-5 * scale, rtol=1e-4)
    assert_close(h, h.T, atol=1e-12 * scale, rtol=1e-10)  # symmetric
    v = np.linspace(-1, 1, len(xs)) + 0.3
    assert_close(hvp(f)(tuple(xs), tuple(v)), h @ v, atol=1e-12 * scale, rtol=1e-10)


@settings(max_examples=40)
@given(programs())
def test_random_graph_hessian_matches_torch(program):
    torch = pytest.importorskip("torch")
    xs, steps = program
    h = np.array(hessian(lambda *v: run_program(E, steps, *v))(*xs))
    t = torch.autograd.functional.hessian(lambda *v: run_program(torch, steps, *v),
                                          tuple(torch.tensor(x, dtype=torch.float64) for x in xs))
    expected = np.array([[float(t[i][j]) for j in range(len(xs))] for i in range(len(xs))])
    assert_close(h, expected, atol=1e-12 * (1 + np.abs(expected).max()), rtol=1e-9)


# ---------------------------------------------------------------------------
# Every op of the derivative table supports create_graph
# ---------------------------------------------------------------------------

# name -> [(description, f of Values, point)]; f must use the op (checked below).
OP_CASES = {
    "add": [("x + y", lambda x, y: (x + y) * x.sin(), [0.4, -1.3]), ("x + 2", lambda x: (x + 2.0) ** 3, [0.7]),
            ("2 + x", lambda x: (2.0 + x).log() * x, [0.7])],
    "sub": [("x − y", lambda x, y: (x - y) ** 3, [0.4, -1.3]), ("x − 2", lambda x: (x - 2.0).exp() * x, [0.7]),
            ("2 − x", lambda x: (2.0 - x).sin() * x, [0.7])],
    "mul": [("x·y", lambda x, y: x * y, [0.4, -1.3]), ("x·y·x", lambda x, y: (x * y * x).tanh(), [0.4, -1.3]),
            ("3x", lambda x: (3.0 * x).sin(), [0.7]), ("x·3", lambda x: (x * 3.0).cos(), [0.7])],
    "div": [("x / y", lambda x, y: x / y, [0.4, -1.3]), ("x / 3", lambda x: (x / 3.0).exp(), [0.7]),
            ("3 / x", lambda x: 3.0 / x, [0.7]), ("sin(x) / y²", lambda x, y: x.sin() / (y * y), [0.4, 1.1])],
    "pow": [("x ** y", lambda x, y: x ** y, [1.7, 0.6]), ("x ** y, x < 1", lambda x, y: x ** y, [0.3, -1.4]),
            ("x ** 3", lambda x: x ** 3.0, [-1.3]), ("x ** 2.5", lambda x: x ** 2.5, [0.8]),
            ("x ** −1.5", lambda x: x ** -1.5, [1.2]), ("2 ** y", lambda y: 2.0 ** y, [0.9]),
            ("(x·y) ** (x + y)", lambda x, y: (x * y) ** (x + y), [1.1, 0.9])],
    "neg": [("−x", lambda x: (-x).exp(), [0.5]), ("−(x·y)", lambda x, y: -(x * y), [0.5, 2.0])],
    "exp": [("exp(x)", lambda x: x.exp(), [0.5]), ("exp(x·y)", lambda x, y: (x * y).exp(), [0.5, -1.5])],
    "log": [("log(x)", lambda x: x.log(), [0.5]), ("log(x·y)", lambda x, y: (x * y).log(), [0.5, 3.0])],
    "sigmoid": [("σ(x)", lambda x: x.sigmoid(), [0.5]), ("σ(x·y)", lambda x, y: (x * y).sigmoid(), [0.5, -3.0])],
    "tanh": [("tanh(x)", lambda x: x.tanh(), [0.5]), ("tanh(x·y)", lambda x, y: (x * y).tanh(), [0.5, -3.0])],
    "relu": [("relu(x), x > 0", lambda x: x.relu() ** 3, [0.5]), ("relu(x), x < 0", lambda x: x.relu() * x, [-0.5]),
             ("relu(x·y)·x", lambda x, y: (x * y).relu() * x, [0.5, 2.0])],
    "sqrt": [("√x", lambda x: x.sqrt(), [0.5]), ("√(x·y)", lambda x, y: (x * y).sqrt(), [0.5, 3.0])],
    "abs": [("|x|³, x > 0", lambda x: abs(x) ** 3, [0.5]), ("|x|³, x < 0", lambda x: x.abs() ** 3, [-0.5]),
            ("|x·y|·x", lambda x, y: abs(x * y) * x, [-0.5, 2.0])],
    "sin": [("sin(x)", lambda x: x.sin(), [0.5]), ("sin(x·y)", lambda x, y: (x * y).sin(), [0.5, -3.0])],
    "cos": [("cos(x)", lambda x: x.cos(), [0.5]), ("cos(x·y)", lambda x, y: (x * y).cos(), [0.5, -3.0])],
    "linear": [
        ("w·x + b", lambda w1, w2, x1, b: linear([w1, w2], [x1, 3.0], b), [0.3, -0.7, 2.0, 0.1]),
        ("σ(w·x + b)", lambda w1, w2, x1, b: linear([w1, w2], [x1, 3.0], b).sigmoid(), [0.3, -0.7, 2.0, 0.1]),
        ("(w·w + b)²", lambda w, b: linear([w], [w], b) ** 2, [0.6, -0.2]),
    ],
}


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_supports_create_graph(name):
    if name not in OP_CASES:
        pytest.fail(f"op {name!r} of engine.OPS has no create_graph test inputs: add cases to OP_CASES "
                    "in tests/test_higher_order.py")
    for desc, f, point in OP_CASES[name]:
        leaves = [Value(p) for p in point]
        out = f(*leaves)
        assert any(node.op is OPS[name] for node in topological_order(out)), f"{desc} does not use {name}"
        # first derivatives: the create_graph path gives the float path's numbers
        as_values = gradients(out, leaves, create_graph=True)
        assert all(isinstance(g, Value) for g in as_values)
        floats = gradients(out, leaves)
        assert_close([g.data for g in as_values], floats, atol=1e-14, rtol=1e-12)
        # second derivatives: differentiating the gradient's graph vs finite differences of the gradient
        h = np.array(hessian(f)(*point))
        assert np.all(np.isfinite(h)), desc
        assert_close(h, fd_hessian(f, point), atol=1e-6 * (1 + np.abs(h).max()), rtol=1e-5)
        assert gradcheck(f, point, order=2), f"{desc}\n{gradcheck(f, point, order=2)}"


def test_op_cases_name_real_ops():
    assert set(OP_CASES) <= set(OPS), set(OP_CASES) - set(OPS)


def test_pow_mixed_partial_matches_formula():
    """∂²(xʸ)/∂x∂y = xʸ⁻¹(1 + y ln x), away from y = 0."""
    x, y = 1.7, 0.6
    h = hessian(lambda x, y: x ** y)(x, y)
    assert h[0][1] == pytest.approx(x ** (y - 1) * (1 + y * math.log(x)), rel=1e-12)
    assert h[0][0] == pytest.approx(y * (y - 1) * x ** (y - 2), rel=1e-12)
    assert h[1][1] == pytest.approx(x ** y * math.log(x) ** 2, rel=1e-12)


# ---------------------------------------------------------------------------
# Corner cases of the create_graph path (IEEE results, pow at a zero exponent)
# ---------------------------------------------------------------------------


def test_create_graph_division_by_constant_zero_gives_ieee_inf():
    x = Value(1.0)
    (g,) = gradients(x / 0.0, [x], create_graph=True)
    assert g.data == math.inf == gradients(x / 0.0, [x])[0]


def test_pow_mixed_partial_at_zero_exponent():
    """∂²(xʸ)/∂x∂y = xʸ⁻¹(1 + y ln x) = 1/x at y = 0 (the ∂/∂x rule keeps its dependence on y there)."""
    h = hessian(lambda x, y: x ** y)(2.0, 0.0)
    assert h[0][1] == pytest.approx(0.5) and h[1][0] == pytest.approx(0.5)


def test_third_derivative_of_x_to_the_x_at_1():
    # (xˣ)‴ = xˣ[(ln x + 1)³ + 3(ln x + 1)/x − 1/x²] = 3 at x = 1
    assert grad(grad(grad(lambda x: x ** x)))(1.0) == pytest.approx(3.0)


def test_pow_zero_exponent_at_subnormal_base():
    """d/dx x⁰ = 0 even where 1/x overflows (no 0·inf = nan), as in PyTorch."""
    tiny = 5e-324
    assert grad(lambda x: x ** 0.0)(tiny) == 0.0  # d/dx x⁰ = 0 (float path)
    assert grad(lambda x, y: x ** y)(tiny, 0.0) == 0.0
    assert grad(grad(grad(lambda x: x ** 2)))(tiny) == 0.0  # (x²)‴ = 0 (create_graph path)


# ---------------------------------------------------------------------------
# hessian / hvp / jacobian / gradcheck(order=2): API
# ---------------------------------------------------------------------------


def quartic(w):
    """f(w) = Σ wᵢ⁴/4 + (Σ wᵢ)² sin(w₀): H = diag(3wᵢ²) + 2·sin(w₀)·𝟙𝟙ᵀ + cross terms in w₀."""
    s = sum(w[1:], w[0])
    return sum((wi ** 4 / 4 for wi in w[1:]), w[0] ** 4 / 4) + s * s * w[0].sin()


@settings(max_examples=30)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(st.lists(st.floats(-2, 2), min_size=n, max_size=n),
                                                     st.lists(st.floats(-3, 3), min_size=n, max_size=n))))
def test_hvp_is_hessian_times_vector(xv):
    x, v = xv
    h = np.array(hessian(quartic)(x))
    (hv,) = hvp(quartic)((x,), (v,))
    assert isinstance(hv, list) and len(hv) == len(x)
    assert_close(hv, h @ np.array(v), atol=1e-12 * (1 + np.abs(h).max() * np.abs(v).sum()), rtol=1e-10)
    assert_close(h, h.T, atol=1e-12 * (1 + np.abs(h).max()), rtol=0)
    assert_close(h, fd_hessian(lambda *w: quartic(list(w)), x), atol=1e-5 * (1 + np.abs(h).max()), rtol=1e-5)


def test_hvp_mixed_arguments_and_structure():
    f = lambda a, w, c: a * a * (w[0] * w[1]).sin() + c * w[1] ** 3
    full = np.array(hessian(f)(0.5, [1.0, -2.0], 3.0))  # variables a, w0, w1, c
    primals, tangents = (0.5, [1.0, -2.0], 3.0), (1.0, [0.5, -1.0], 2.0)
    out = hvp(f)(primals, tangents)
    assert isinstance(out, tuple) and isinstance(out[1], list) and isinstance(out[0], float)
    flat = [out[0], *out[1], out[2]]
    assert_close(flat, full @ np.array([1.0, 0.5, -1.0, 2.0]), atol=1e-12)
    assert isinstance(hvp(f)(list(primals), list(tangents)), list)


def test_hessian_argnums():
    f = lambda x, y, z: x * x * y * E.exp(z) + y ** 3 * x  # non-differentiated args stay numbers
    full = np.array(hessian(f)(1.5, -0.5, 0.3))
    assert_close(full, fd_hessian(f, [1.5, -0.5, 0.3]), atol=1e-6)
    assert hessian(f, argnums=(0, 2))(1.5, -0.5, 0.3) == full[np.ix_([0, 2], [0, 2])].tolist()
    assert hessian(f, argnums=(2, 0))(1.5, -0.5, 0.3) == full[np.ix_([2, 0], [2, 0])].tolist()
    assert hessian(f, argnums=1)(1.5, -0.5, 0.3) == [[full[1, 1]]]
    assert hessian(f, argnums=-1)(1.5, -0.5, 0.3) == [[full[2, 2]]]
    g = lambda w, c: (w[0] * w[1] * c).tanh()
    hw = hessian(g, argnums=0)(np.array([0.3, -0.8]), 2.0)
    assert np.array(hw).shape == (2, 2)
    assert_close(hw, np.array(hessian(g)([0.3, -0.8], 2.0))[:2, :2], atol=1e-15, rtol=0)
    assert hessian(lambda x: 7.0)(1.0) == [[0.0]]  # a constant function
    assert hessian(lambda x, y: x * 2.0)(1.0, 2.0) == [[0.0, 0.0], [0.0, 0.0]]


def test_nesting_transforms():
    f = lambda x, y: (x * y).sin() * x
    # ∂/∂y of ∂f/∂x equals the mixed Hessian entry
    assert grad(grad(f, argnums=0), argnums=1)(0.7, 1.3) == pytest.approx(hessian(f)(0.7, 1.3)[0][1], rel=1e-12)
    gx, gy = grad(grad(f, argnums=0), argnums=(0, 1))(0.7, 1.3)
    assert [gx, gy] == pytest.approx(hessian(f)(0.7, 1.3)[0], rel=1e-12)
    # hessian inside grad: the third derivative of x⁵ is 60x²
    assert grad(lambda x: hessian(lambda t: t ** 5)(x)[0][0])(1.5) == pytest.approx(60 * 1.5 ** 2)
    # hvp inside grad (in the tangent): d/dv (f''(x)·v) = f''(x)
    assert grad(lambda v: hvp(lambda t: t.exp())((0.5,), (v,))[0])(2.0) == pytest.approx(math.exp(0.5))


def test_jacobian():
    f = lambda x, y: [x * y, (x + y).exp(), x.sin()]
    j = jacobian(f)(0.3, -1.2)
    assert_close(j, [[-1.2, 0.3], [math.exp(-0.9)] * 2, [math.cos(0.3), 0.0]], atol=1e-15)
    assert jacobian(lambda x, y: x * y, argnums=1)(2.0, 5.0) == [[2.0]]
    # the Jacobian of the gradient is the Hessian
    g = lambda x, y: x ** 3 * y.sin()
    jg = jacobian(lambda x, y: list(grad(g, argnums=(0, 1))(x, y)))(0.8, 0.4)
    assert_close(jg, hessian(g)(0.8, 0.4), atol=1e-14)


@pytest.mark.parametrize("argnums,err,match", [
    (3, ValueError, "out of range"), (-4, ValueError, "out of range"), ((), ValueError, "empty"),
    ((0, 0), ValueError, "more than once"), ((0, -3), ValueError, "more than once"),
    ("0", TypeError, "must be ints"), (1.0, TypeError, "must be ints"), ((0, True), TypeError, "must be ints"),
])
def test_hessian_bad_argnums(argnums, err, match):
    with pytest.raises(err, match=match):
        hessian(lambda x, y, z: x * y * z, argnums=argnums)(1.0, 2.0, 3.0)


def test_bad_calls_give_clear_errors():
    with pytest.raises(TypeError, match=r"must return one Value \(a scalar\), got list of length 2"):
        hessian(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="must return one Value"):
        hvp(lambda x: (x, x))((1.0,), (1.0,))
    with pytest.raises(TypeError, match="must return one Value"):
        hessian(lambda x: "no")(1.0)
    with pytest.raises(TypeError, match="needs at least one argument"):
        hessian(lambda: Value(1.0))()
    with pytest.raises(ValueError, match="nothing to differentiate"):
        hessian(lambda w: Value(1.0))([])
    with pytest.raises(TypeError, match="real number"):
        hessian(lambda x: x)("1.0")
    with pytest.raises(ValueError, match="1-D"):
        hessian(lambda w: w[0])(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"hvp\(f\)\(\(x,\), \(v,\)\)"):
        hvp(lambda w: w[0] * w[1])([1.0, 2.0], [1.0, 0.0])  # a vector passed as the primals tuple
    with pytest.raises(TypeError, match="must be a tuple"):
        hvp(lambda x: x * x)(1.0, 1.0)
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        hvp(lambda x, y: x * y)((1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match="3 elements but its tangent is 2 elements"):
        hvp(lambda w: w[0])(([1.0, 2.0, 3.0],), ([1.0, 2.0],))
    with pytest.raises(ValueError, match="is a scalar but its tangent is a sequence"):
        hvp(lambda x: x)((1.0,), ([1.0],))
    with pytest.raises(ValueError, match="scalar or a flat sequence"):
        jacobian(lambda w: np.array([[w[0]]], dtype=object))([1.0])
    with pytest.raises(ValueError, match="order must be 1 .* or 2"):
        gradcheck(lambda x: x * x, [1.0], order=3)
    with pytest.raises(TypeError, match="order must be the int"):
        gradcheck(lambda x: x * x, [1.0], order="2")


# ---------------------------------------------------------------------------
# gradcheck(order=2)
# ---------------------------------------------------------------------------


def test_gradcheck_order2_report():
    f = lambda w, x: (w * x).sigmoid().log() + w ** 3
    report = gradcheck(f, [0.5, -2.0], names=["w", "x"], order=2)
    assert report and report.order == 2
    assert [r.input for r in report.rows] == ["∂²f/∂w²", "∂²f/∂w∂x", "∂²f/∂x∂w", "∂²f/∂x²"]
    h = hessian(f)(0.5, -2.0)
    assert [r.autodiff for r in report.rows] == [h[0][0], h[0][1], h[1][0], h[1][1]]
    lines = str(report).splitlines()
    assert lines[0].split() == ["input", "autodiff", "numeric", "abs", "error", "rel", "error", "ok"]
    assert len(lines) == 2 + 4 and all(line.endswith("yes") for line in lines[2:])
    # order 1 is unchanged
    first = gradcheck(f, [0.5, -2.0], names=["w", "x"])
    assert first.order == 1 and [r.input for r in first.rows] == ["w", "x"]


def test_gradcheck_order2_catches_a_wrong_second_derivative(monkeypatch):
    """A rule that is right on floats but constant on Values (so the second derivative
    is lost) passes order 1 and fails order 2."""
    sin_op = OPS["sin"]

    def cos_of_data(x, out):
        return E.cos(x.data) if isinstance(x, Value) else E.cos(x)

    monkeypatch.setattr(sin_op, "partials", (cos_of_data,))
    f = lambda x, y: (x * y).sin()
    assert gradcheck(f, [0.7, 0.4])
    report = gradcheck(f, [0.7, 0.4], order=2)
    assert not report
    assert "NO" in str(report)
