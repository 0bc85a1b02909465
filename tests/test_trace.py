"""Tracing for `vectorize`: the trace records its nodes as they are built, and the
recorded graph becomes the tape.  Edges: nodes f builds and drops, op nodes built from
closure values only, signed-zero constants, values of another trace or of an ended one,
threads, and what a trace leaves behind."""

import gc
import math
import threading

import numpy as np
import pytest

from autograd_lite import engine
from autograd_lite.engine import Value, detect_anomaly, linear, tracing
from autograd_lite.vectorize import TracingError, compile_loss, vectorize


def scalar_value_and_grads(f, xs, params=()):
    vs = [Value(float(x)) for x in xs]
    out = f(vs)
    return out.data, [float(g) for g in engine.gradients(out, vs + list(params))]


def test_the_trace_records_every_node_it_builds_in_creation_order():
    w = Value(2.0)
    with tracing() as t:
        x = t.leaf("x")
        a = x * w
        b = a + 1.0
        c = b.tanh()
    assert [id(v) for v in t.nodes] == [id(a), id(b), id(c)]
    assert all(engine._traced(v) for v in (x, a, b, c)) and not engine._traced(w)
    assert not engine._watch  # the careful path is off again


def test_nodes_that_f_builds_and_drops_are_not_replayed():
    g = vectorize(lambda x: (x.exp(), x * 3.0, (x * x).sin())[1])
    assert len(g.tape) == 1 and g.tape.plain[0][0] is engine.OPS["mul"]
    np.testing.assert_array_equal(g(np.array([1.0, -2.0])), [3.0, -6.0])


def test_op_nodes_built_from_closure_values_follow_the_weights():
    """w2 = w·2 is built before the trace, w·3 during it (no traced input): neither is
    traced, both are recomputed at every call from the current w."""
    w = Value(0.5)
    w2 = w * 2.0

    def f(x):
        return x[0] * w2 + x[1] * (w * 3.0)

    g = vectorize(f, sizes=(2,))
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    for wv in (0.5, -1.25):
        w.data = wv
        w2 = w * 2.0  # noqa: F841  (the traced graph holds the old node: its value is recomputed)
        vals, gx = g.value_and_grad(X)
        for k, row in enumerate(X):
            v, grads = scalar_value_and_grads(lambda xs: xs[0] * (w * 2.0) + xs[1] * (w * 3.0), row)
            assert vals[k] == pytest.approx(v, rel=1e-15)
            np.testing.assert_allclose(gx[k], grads, rtol=1e-15)
    # and the weight's gradient (through both static nodes), against the scalar engine
    step = compile_loss(type("M", (), {"parameters": lambda self: [w], "__call__": lambda self, x: f(x)})(),
                        lambda out, y: out * y)
    cost, (gw,) = step(X, np.array([1.0, 2.0]))
    want = np.mean([2.0 * row[0] * y + 3.0 * row[1] * y for row, y in zip(X, [1.0, 2.0])])
    assert gw == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("fuse", [True, False])
def test_zero_and_minus_zero_constants_and_sums_keep_their_sign(fuse):
    """0.0 and -0.0 are two constants; a sum of -0.0 terms is -0.0 (1/it = -inf), also
    when the sum became a matrix product (which starts from +0.0)."""
    w, b = Value(1.0), Value(-0.0)

    def f(x):
        return [x * 3.0 + 0.0, x + -0.0, x * 0.0 + 0.0, x * 0.0 + -0.0, 1.0 / (x * 0.0 + -0.0),
                1.0 / (w * x + b), 1.0 / linear([w], [x], b), 1.0 / (0.0 - x * 0.0 - w * x * 0.0)]

    g = vectorize(f, fuse=fuse)
    xs = [1.0, -1.0, 0.0, -0.0]
    got = g(np.array(xs))
    for k, xv in enumerate(xs):
        want = [v.data for v in f(Value(xv))]
        for j, (gv, wv) in enumerate(zip(got[k], want)):
            assert gv == wv and math.copysign(1.0, gv) == math.copysign(1.0, wv), (xv, j, got[k], want)


def test_a_value_of_an_ended_trace_is_refused_with_its_own_message():
    kept = []
    vectorize(lambda x: kept.append(x) or x * 2.0)
    (x,) = kept
    for use in (lambda: x * 2.0, lambda: Value(1.0) + x, lambda: x.exp(), lambda: x > 0):
        with pytest.raises(TracingError, match="has ended"):
            use()
    with pytest.raises(TracingError, match="has ended"):  # while another trace runs too
        vectorize(lambda z: z + x)
    with detect_anomaly(), pytest.raises(TracingError, match="has ended"):
        x.relu()


def test_values_of_two_traces_meeting_in_one_op_are_refused():
    def outer(x):
        inner = vectorize(lambda z: z * x)  # x: the outer trace's placeholder
        return inner(1.0)

    with pytest.raises(TracingError, match="two different vectorize calls"):
        vectorize(outer)
    with pytest.raises(TracingError, match="two different vectorize calls"):
        vectorize(lambda x: vectorize(lambda z: (z + 1.0) * (x + 1.0))(1.0))
    assert not engine._watch and engine._traces == 0


def test_a_failing_function_leaves_the_engine_as_it_was():
    with pytest.raises(ZeroDivisionError):
        vectorize(lambda x: x * (1 / 0))
    assert not engine._watch and engine._traces == 0
    assert (Value(2.0) * 3.0).data == 6.0


def test_the_traced_nodes_are_freed_by_reference_counting():
    """The nodes hold their trace (as data) and the trace held the nodes: the cycle is
    broken when the tape is built (or f fails), so no collection is needed to free them."""
    kept = []

    def f(x):
        y = x * 2.0 + 1.0
        kept.append(y)
        return y.tanh()

    g = vectorize(f)
    (y,) = kept
    assert y.data.nodes == [] and gc.get_referrers(y) == [kept]
    with pytest.raises(TracingError):
        vectorize(lambda x: kept.append(x * 2.0) or (x if x > 0 else -x))
    assert kept[1].data.nodes == [] and gc.get_referrers(kept[1]) == [kept]
    assert g(0.5) == pytest.approx(math.tanh(2.0))


def test_other_threads_compute_exactly_while_a_trace_runs():
    """While one thread traces (the careful path is on for every thread), another
    builds and differentiates scalar graphs: the same numbers as alone."""
    w = [Value(0.1 * k - 0.7) for k in range(30)]

    def f(x):
        s = Value(0.0)
        for _ in range(40):
            for wk in w:
                s = s + wk * x
        return s

    def scalar_work():
        xs = [Value(0.5 + k) for k in range(20)]
        out = sum((xk * xk).tanh() for xk in xs)
        return out.data, [float(g) for g in engine.gradients(out, xs)]

    expected = scalar_work()
    results, traced = [], []
    start = threading.Barrier(2)

    def tracer():
        start.wait()
        for _ in range(3):
            traced.append(vectorize(f)(np.array([1.0, 2.0])))

    def worker():
        start.wait()
        for _ in range(50):
            results.append(scalar_work())

    ts = [threading.Thread(target=tracer), threading.Thread(target=worker)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert all(r == expected for r in results) and len(results) == 50
    want = 40 * sum(wk.data for wk in w)
    for v in traced:
        np.testing.assert_allclose(v, [want, 2 * want], rtol=1e-12)
    assert not engine._watch


def test_anomaly_detection_inside_a_traced_function_still_checks_closure_values():
    w = Value(-1.0)

    def f(x):
        with detect_anomaly():
            bad = w.log()  # a closure value: it has a number, and it is nan
        return x * 2.0 + bad * 0.0

    with pytest.raises(engine.AnomalyError, match="log"):
        vectorize(f)
