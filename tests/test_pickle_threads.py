"""Issue 20, items 5 and 9: pickles keep the sharing of the nodes pickled in one
call (as `copy.deepcopy` does) in linear time and size, at any depth; and
`detect_anomaly` is a `with` block per thread (a context variable)."""

from __future__ import annotations

import asyncio
import copy
import io
import math
import pickle
import random
import threading

import pytest

from autograd_lite import engine
from autograd_lite.engine import AnomalyError, Value, detect_anomaly, gradients, linear

# ---------------------------------------------------------------------------
# pickles


def test_values_pickled_in_one_call_share_their_nodes():
    w = Value(3.0, "w")
    L = w * w
    for L2, w2 in (pickle.loads(pickle.dumps((L, w))), pickle.loads(pickle.dumps((w, L)))[::-1]):
        assert L2.parents[0] is w2 and L2.parents[1] is w2
        assert gradients(L2, w2) == gradients(L, w) == 6.0
    # as deepcopy does (one memo per call) ...
    L3, w3 = copy.deepcopy((L, w))
    assert gradients(L3, w3) == 6.0
    # ... and separate calls give separate graphs, as separate deepcopies do
    L4, w4 = pickle.loads(pickle.dumps(L)), pickle.loads(pickle.dumps(w))
    assert gradients(L4, w4) == 0.0


def test_a_pickler_used_twice_keeps_its_memo():
    """One Pickler and one Unpickler: the second dump refers to the first one's nodes."""
    w = Value(2.0, "w")
    L = (w * 3.0).tanh() + w
    f = io.BytesIO()
    p = pickle.Pickler(f)
    p.dump(L)
    p.dump(w)
    f.seek(0)
    u = pickle.Unpickler(f)
    L2, w2 = u.load(), u.load()
    assert gradients(L2, w2) == gradients(L, w)


def _random_graph(rng: random.Random, n: int) -> list[Value]:
    nodes = [Value(rng.uniform(0.5, 1.5), f"x{i}") for i in range(3)]
    for _ in range(n):
        a, b = rng.choice(nodes), rng.choice(nodes)
        kind = rng.randrange(5)
        if kind == 0:
            nodes.append(a * b)
        elif kind == 1:
            nodes.append(a + b * 0.5)
        elif kind == 2:
            nodes.append(a.tanh())
        elif kind == 3:
            nodes.append(linear([a, b], [b, 2.0], rng.choice(nodes)))
        else:
            nodes.append(a - b)
        if rng.random() < 0.3:
            nodes[-1].label = f"n{len(nodes)}"  # labelled op nodes too
    return nodes


@pytest.mark.parametrize("seed", range(20))
def test_random_graphs_keep_their_shape_through_a_pickle(seed):
    """Any subset of the nodes of a random graph, pickled in one call: the same
    sharing (each node restored once), numbers, ops and gradients."""
    rng = random.Random(seed)
    nodes = _random_graph(rng, 30)
    picked = rng.sample(nodes, rng.randint(1, 8))
    nodes[-1].backward()
    back = pickle.loads(pickle.dumps(picked))
    twin: dict[int, Value] = {}  # original node -> its restored node
    pairs = list(zip(picked, back))
    for o, n in pairs:  # walk both graphs side by side (the list grows)
        if twin.setdefault(id(o), n) is not n:
            raise AssertionError("a node restored twice: sharing lost")
        assert (o.data, o.grad, o.label, o.op) == (n.data, n.grad, n.label, n.op)
        assert len(o.parents) == len(n.parents)
        for p, q in zip(o.parents, n.parents):
            if isinstance(p, Value):
                pairs.append((p, q))
            else:
                assert p == q and not isinstance(q, Value)
    # the restored nodes are made in the order deepcopy makes them (each root's new nodes
    # in their order of creation), so backprop adds in the same order: the same bits.
    # (With one root, that is the original order; with several, a sum of three or more
    # terms may be added in another order than in the original: the last bit may differ.)
    memo: dict = {}
    copies = copy.deepcopy(picked, memo)
    for old, new, dup in zip(picked, back, copies):
        for x in nodes[:3]:
            if id(x) in twin:
                g = gradients(new, twin[id(x)])
                assert g == gradients(dup, memo[id(x)])
                assert math.isclose(g, gradients(old, x), rel_tol=1e-14)
                if len(picked) == 1:
                    assert g == gradients(old, x)
    for n in twin.values():  # every restored node is newer than its parents (topological_order relies on it)
        assert all(p._id < n._id for p in n.parents if isinstance(p, Value))


def test_a_list_of_chained_values_pickles_in_linear_size():
    def chain(n: int) -> list[Value]:
        xs = [Value(1.0, "x")]
        for _ in range(n):
            xs.append(xs[-1] * 1.0001)
        return xs

    small, big = (len(pickle.dumps(chain(n))) for n in (1000, 2000))
    assert big < 2.2 * small  # was quadratic: 2,001 chained Values took 88 MB
    xs = chain(2000)
    ys = pickle.loads(pickle.dumps(xs))
    assert len(pickle.dumps(xs)) < 100 * len(xs)
    assert all(y.parents[0] is x for x, y in zip(ys, ys[1:]))
    assert gradients(ys[-1], ys[0]) == gradients(xs[-1], xs[0])


def test_a_100000_node_chain_and_its_list_pickle_without_recursion():
    x = Value(0.5, "x")
    xs = [x]
    for i in range(100_000):
        xs.append(xs[-1].tanh() if i % 2 else xs[-1] + x)
    y = xs[-1]
    y.backward()
    y2, x2 = pickle.loads(pickle.dumps((y, x)))
    assert gradients(y2, x2) == gradients(y, x) and x2.grad == x.grad
    back = pickle.loads(pickle.dumps(xs[::-1]))  # consumers first: the first one lists everything
    assert back[0].data == y.data and back[-1].label == "x"
    assert gradients(back[0], back[-1]) == gradients(y, x)


def test_pickles_from_two_threads_at_once():
    ws = [Value(float(i), f"w{i}") for i in range(4)]
    out: list = [None] * 4

    def work(i: int) -> None:
        L = ws[i]
        for _ in range(3000):
            L = L * 1.0 + ws[i]
        out[i] = pickle.loads(pickle.dumps((L, ws[i])))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (L2, w2) in enumerate(out):
        assert gradients(L2, w2) == 3001.0 and w2.label == f"w{i}"


# ---------------------------------------------------------------------------
# detect_anomaly per thread


def test_a_thread_outside_any_block_is_not_checked():
    inside, done = threading.Event(), threading.Event()
    errors: list = []

    def checked() -> None:
        with detect_anomaly():
            inside.set()
            done.wait(10)
            try:
                Value(0.0).log()
            except AnomalyError as e:
                errors.append(e)

    t = threading.Thread(target=checked)
    t.start()
    assert inside.wait(10)
    assert Value(0.0).log().data == -math.inf  # this thread never entered a block
    y = Value(-1.0).sqrt()
    y.backward()  # nor backward
    done.set()
    t.join()
    assert len(errors) == 1  # the block's own thread was checked


def test_overlapping_blocks_in_two_threads_end_with_their_blocks():
    a_in, b_in, a_out, b_out = (threading.Event() for _ in range(4))
    seen: dict[str, bool] = {}

    def raises() -> bool:
        try:
            Value(-1.0).log()
        except AnomalyError:
            return True
        return False

    def a() -> None:
        with detect_anomaly():
            a_in.set()
            b_in.wait(10)
        seen["a after its block"] = raises()
        a_out.set()

    def b() -> None:
        a_in.wait(10)
        with detect_anomaly():
            b_in.set()
            a_out.wait(10)
            seen["b inside, a ended"] = raises()
            with detect_anomaly():  # nested: the outer block holds after the inner one
                pass
            seen["b after a nested block"] = raises()
        seen["b after its block"] = raises()
        b_out.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join()
    tb.join()
    assert seen == {"a after its block": False, "b inside, a ended": True,
                    "b after a nested block": True, "b after its block": False}
    assert not raises() and not engine._watch  # nothing left on: back to the fast path


def test_anomaly_blocks_in_asyncio_tasks_are_their_own():
    async def checked(flag: asyncio.Event) -> bool:
        with detect_anomaly():
            await flag.wait()
            try:
                Value(-1.0).log()
            except AnomalyError:
                return True
            return False

    async def unchecked(flag: asyncio.Event) -> bool:
        await asyncio.sleep(0)
        y = Value(-1.0).log()
        flag.set()
        return math.isnan(y.data)

    async def main() -> list:
        flag = asyncio.Event()
        return list(await asyncio.gather(checked(flag), unchecked(flag)))

    assert asyncio.run(main()) == [True, True]


def test_pickling_a_traced_value_is_a_tracing_error():
    import numpy as np

    from autograd_lite.vectorize import TracingError, vectorize

    w = Value(1.0)

    def f(x):
        y = x * w
        pickle.dumps(y)  # no number yet: refused like float(x), not an AttributeError
        return y

    with pytest.raises(TracingError):
        vectorize(f)(np.array([1.0, 2.0]))


def test_a_pickle_of_the_earlier_format_still_loads():
    """Earlier versions pickled a Value as one flat list of records (engine._unpickle_graph)."""

    class Old:
        def __reduce__(self):
            records = [(2.0, 0.5, "w", None, []), (1.0, 0.0, None, None, []),
                       (3.0, 1.0, "b", None, []),
                       (5.0, 0.0, "y", "linear", [("v", 0), ("v", 1), ("v", 2)]),
                       (25.0, 0.0, None, "mul", [("v", 3), ("v", 3)]), (20.0, 0.0, "L", "sub", [("v", 4), 5.0]),
                       (math.tanh(20.0), 0.0, "t", "tanh", [("v", 5)])]
            return engine._unpickle_graph, (records,)

    t = pickle.loads(pickle.dumps(Old()))
    assert t.label == "t" and t.op is engine.OPS["tanh"] and len(t.parents) == 1
    L = t.parents[0]
    assert L.label == "L" and L.data == 20.0 and L.op is engine.OPS["sub"] and L.parents[1] == 5.0
    y = L.parents[0].parents[0]
    assert y.op is engine.OPS["linear"] and [p.label for p in y.parents if isinstance(p, Value)] == ["w", None, "b"]
    w = y.parents[0]
    assert w.grad == 0.5 and gradients(L, w) == 2 * 5.0 * 1.0


def test_a_block_that_ends_in_another_context_leaves_that_context_alone():
    """A generator holding a block, started in one context and finished in another."""
    import contextvars

    def holds_a_block():
        with detect_anomaly():
            yield

    def raises() -> bool:
        try:
            Value(-1.0).log()
        except AnomalyError:
            return True
        return False

    for outer_block in (False, True):
        gen = holds_a_block()
        contextvars.copy_context().run(next, gen)  # the block begins in a copy of this context
        if outer_block:
            with detect_anomaly():
                assert raises()
                next(gen, None)  # ... and ends here: the outer block still holds
                assert raises()
        else:
            assert not raises()  # the block is not this context's
            next(gen, None)  # it ends here without an error
            assert not raises()
        assert not engine._watch  # every block is closed: back to the fast path


def test_a_node_reached_by_many_paths_is_listed_once():
    """y = y·y sixty times: 2^60 paths to x, 61 nodes; the pickle walks nodes, not paths."""
    x = Value(1.0000001, "x")
    y = x
    for _ in range(60):
        y = y * y
    data = pickle.dumps(y)
    assert len(data) < 100 * 61
    y2 = pickle.loads(data)
    x2 = engine.topological_order(y2)[-1]
    assert x2.label == "x" and gradients(y2, x2) == gradients(y, x)


def test_the_session_lists_each_node_once_and_never_the_node_itself():
    from autograd_lite.engine import _PickleSession

    w = Value(2.0, "w")
    a = w * 3.0
    L = a + w
    session, before = _PickleSession.before(L)  # the first node of a call: a new session
    assert session is not None and list(map(id, before)) == [id(w), id(a)]  # producers first, without L
    assert _PickleSession.before(a) == (None, ())  # listed by L: its parents are pickled before it
    assert _PickleSession.before(L) == (None, ())  # met again in the same call
    M = L * L
    assert _PickleSession.before(M) == (session, ())  # the same call; L was listed already
    del session  # the call ends (the pickler drops its memo): the next call starts afresh
    fresh, again = _PickleSession.before(M)
    assert fresh is not None and list(map(id, again)) == [id(w), id(a), id(L)]
