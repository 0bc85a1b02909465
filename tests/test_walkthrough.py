"""The seed's derivation (C6, C9) checked three ways: autodiff, finite
differences and the analytic formulas, for logistic regression on two features."""

import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Value, gradcheck
from autograd_lite.walkthrough import build_zal_graph, derivative_rows

coord = st.floats(-4, 4)


@given(coord, coord, coord, coord, coord, st.sampled_from([0.0, 1.0]))
def test_chain_rule_on_the_z_a_L_graph(x1, x2, w1, w2, b, y):
    g = build_zal_graph(x1, x2, w1, w2, b, y)
    a = 1 / (1 + math.exp(-(w1 * x1 + w2 * x2 + b)))
    assert g.a.data == pytest.approx(a, rel=1e-12)
    assert g.L.data == pytest.approx(-(y * math.log(a) + (1 - y) * math.log(1 - a)), rel=1e-9)
    # dL/da = −y/a + (1−y)/(1−a); da/dz = a(1 − a); dL/dz = a − y
    assert g.a.grad == pytest.approx(-y / a + (1 - y) / (1 - a), rel=1e-9)
    assert g.z.grad / g.a.grad == pytest.approx(a * (1 - a), rel=1e-9)
    assert g.z.grad == pytest.approx(a - y, rel=1e-7, abs=1e-12)
    assert g.w1.grad == pytest.approx(x1 * (a - y), rel=1e-7, abs=1e-12)
    assert g.w2.grad == pytest.approx(x2 * (a - y), rel=1e-7, abs=1e-12)
    assert g.b.grad == pytest.approx(a - y, rel=1e-7, abs=1e-12)
    # and finite differences agree (where log(1 − a) does not cancel catastrophically in double precision)
    if abs(w1 * x1 + w2 * x2 + b) > 8:
        return

    def loss(x1_, x2_, w1_, w2_, b_):
        a_ = (w1_ * x1_ + w2_ * x2_ + b_).sigmoid()
        return -(y * a_.log() + (1 - y) * (1 - a_).log())
    assert gradcheck(loss, [x1, x2, w1, w2, b], atol=1e-6, rtol=1e-4)


@given(st.floats(-30, 30))
def test_sigmoid_derivative_is_at_most_a_quarter(z):
    v = Value(z)
    s = v.sigmoid()
    s.backward()
    assert v.grad == pytest.approx(s.data * (1 - s.data), rel=1e-12, abs=1e-300)
    assert v.grad <= 0.25


def test_rows_and_demo_output():
    rows = derivative_rows()
    for name, _, auto, analytic, num in rows:
        assert auto == pytest.approx(analytic, rel=1e-9), name
        if num == num:
            assert auto == pytest.approx(num, rel=1e-6), name
    out = subprocess.run([sys.executable, "-m", "autograd_lite.walkthrough"], capture_output=True, text=True,
                         check=True).stdout
    assert "dL/dw1" in out and "x1(a − y)" in out


def test_labels_must_be_binary():
    with pytest.raises(ValueError, match="0 or 1"):
        build_zal_graph(y=0.5)
