"""grad / value_and_grad (JAX-style), gradients(), gradcheck and numerical_grad."""

import math

import pytest
from conftest import np  # None in the numpy-free run (test_no_numpy.py)
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Value, grad, gradcheck, gradients, numerical_grad, value_and_grad
from autograd_lite import sigmoid as sig


def test_grad_of_plain_functions_returns_floats():
    assert grad(lambda x: x * x)(3.0) == 6.0
    assert isinstance(grad(lambda x: x * x)(3), float)
    assert grad(sig)(0.0) == 0.25                                    # σ'(0) = 1/4 (C9)
    assert grad(lambda x, y: x * y, argnums=1)(3.0, 4.0) == 3.0
    assert grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0) == (4.0, 3.0)
    assert grad(lambda x, y: x / y, argnums=-1)(1.0, 2.0) == -0.25
    v, g = value_and_grad(lambda x: x.exp())(1.0)
    assert v == pytest.approx(math.e) and g == pytest.approx(math.e)


def test_grad_of_sequence_arguments():
    def f(ws, xs, b):
        return sum((w * x for w, x in zip(ws, xs)), b).sigmoid()

    gw, gb = grad(f, argnums=(0, 2))([0.5, -1.0], [2.0, 3.0], 0.25)
    a = 1 / (1 + math.exp(-(1.0 - 3.0 + 0.25)))
    assert gw == pytest.approx([a * (1 - a) * 2.0, a * (1 - a) * 3.0])
    assert gb == pytest.approx(a * (1 - a))
    assert grad(lambda v: v[0] * v[1])(np.array([2.0, 5.0])) == [5.0, 2.0]


def test_constant_and_unused_inputs_have_zero_gradient():
    assert grad(lambda x: 3.0)(1.0) == 0.0
    assert grad(lambda x, y: x * 2, argnums=1)(1.0, 5.0) == 0.0


@given(st.floats(-20, 20))
def test_nested_grad_is_the_second_derivative(z):
    s = 1 / (1 + math.exp(-z))
    assert grad(grad(sig))(z) == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-9, abs=1e-14)
    assert grad(grad(lambda x: x ** 3))(z) == pytest.approx(6 * z, rel=1e-12, abs=1e-12)


def test_transform_errors_are_clear():
    with pytest.raises(ValueError, match="out of range"):
        grad(lambda x: x, argnums=2)(1.0)
    with pytest.raises(TypeError, match="argnums must be ints"):
        grad(lambda x: x, argnums="0")(1.0)
    with pytest.raises(TypeError, match="must return one Value"):
        grad(lambda x: [x, x])(1.0)
    with pytest.raises(TypeError, match="str"):
        grad(lambda x: x)("1.0")
    with pytest.raises(TypeError, match="at least one argument"):
        grad(lambda: Value(1.0))()


def test_gradients_touches_no_grad_and_supports_create_graph():
    x, y = Value(2.0), Value(3.0)
    x.grad = 7.0
    z = x * y + x
    assert gradients(z, [x, y]) == [4.0, 2.0]
    assert x.grad == 7.0 and y.grad == 0.0
    gx, = gradients(z * z, [x], create_graph=True)
    assert isinstance(gx, Value) and gx.data == 2 * 8.0 * 4.0
    gxx, = gradients(gx, [x])                    # d/dx [2(xy+x)(y+1)] = 2(y+1)² = 32
    assert gxx == 32.0
    assert gradients(z, [Value(1.0)]) == [0.0]   # not in the graph
    with pytest.raises(TypeError):
        gradients(z, [1.0])


def test_backward_create_graph_sets_value_grads():
    x = Value(0.5)
    y = x.sin() * x
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert x.grad.data == pytest.approx(math.cos(0.5) * 0.5 + math.sin(0.5))
    g = x.grad
    x.grad = 0.0
    g.backward()                                 # d²/dx² x·sin x = 2cos x − x sin x
    assert x.grad == pytest.approx(2 * math.cos(0.5) - 0.5 * math.sin(0.5))


def test_numerical_grad_and_gradcheck_report():
    f = lambda w, x: (w * x).sigmoid().log() + w ** 2
    num = numerical_grad(f, [0.5, -2.0])
    _, auto = value_and_grad(f, argnums=(0, 1))(0.5, -2.0)
    assert num == pytest.approx(list(auto), rel=1e-7)
    report = gradcheck(f, [0.5, -2.0], names=["w", "x"])
    assert report and len(report.rows) == 2 and report.max_abs_error < 1e-8
    text = str(report)
    assert text.splitlines()[0].split() == ["input", "autodiff", "numeric", "abs", "error", "rel", "error", "ok"]
    assert "w" in text and "yes" in text


def test_gradcheck_catches_a_wrong_derivative():
    # at a kink the one-sided derivative (autodiff: relu'(0) = 0) disagrees with the central difference (1/2)
    report = gradcheck(lambda x: x.relu(), [0.0])
    assert not report
    assert "NO" in str(report)
    assert report.rows[0].autodiff == 0.0 and report.rows[0].numeric == pytest.approx(0.5)


def test_gradcheck_errors():
    with pytest.raises(ValueError, match="names"):
        gradcheck(lambda x: x, [1.0], names=["a", "b"])
    with pytest.raises(ValueError, match="eps"):
        numerical_grad(lambda x: x, [1.0], eps=0)
    with pytest.raises(TypeError, match="str"):
        gradcheck(lambda x: x, ["a"])
