"""One name per node (issue 21): autograd_lite.naming decides it, and every view says the same."""

import html
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import Value, explain, gradcheck
from autograd_lite.naming import (
    LONG,
    NAMES,
    ROOT,
    SHORT,
    Namer,
    check_names,
    compose,
    is_identifier,
    name_of,
    node_names,
    number,
    operand,
)


def bce_graph():
    a, y = Value(0.8, label="a"), Value(1.0, label="y")
    return a, y, -(y * a.log() + (1 - y) * (1 - a).log())


def test_auto_names_labels_then_root_then_short_expressions_then_v():
    a, y, L = bce_graph()
    namer = Namer(L)
    assert list(namer) == ["a", "y", "log a", "y·log a", "1 − y", "1 − a", "log(1 − a)", "(1 − y)·log(1 − a)",
                           "v1", "L"]
    assert [namer.kind(n) for n in namer.order] == ["label", "label"] + ["expression"] * 6 + ["generated", "root"]
    assert namer.root_name == "L" and namer.name(L) == namer[L] == "L"
    assert namer.expression(L) == "−v1" and namer.expression(a) == ""
    assert namer.find("log(1 − a)") is namer.order[6]
    assert len(namer) == 10 and a in namer and Value(1.0) not in namer and 3 not in namer
    assert repr(namer) == "<Namer of L (names='auto'): 10 nodes>"


def test_labels_mode_is_a_wengert_list_and_expression_mode_allows_longer():
    a, y, L = bce_graph()
    assert list(Namer(L, "labels")) == ["a", "y", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "L"]
    long = list(Namer(L, "expression"))
    assert long[-2] == "y·log a + (1 − y)·log(1 − a)" and len(long[-2]) <= LONG < len("−(" + long[-2] + ")")
    assert SHORT < len(long[-2])


def test_expression_length_boundary():
    # a name of exactly SHORT characters is used; one more character is not
    aa = Value(1.0, label="a" * (SHORT - 4))
    exact = aa + 1.0   # "aaaa… + 1": SHORT characters
    over = Value(1.0, label="a" * (SHORT - 3)) + 1.0
    for node, expected in ((exact, "a" * (SHORT - 4) + " + 1"), (over, None)):
        outer = node * 2.0
        name = Namer(outer).name(node)
        assert (name == expected) if expected else re.fullmatch(r"v\d+", name)
    assert len("a" * (SHORT - 4) + " + 1") == SHORT


def test_unlabelled_root_is_L_unless_a_label_takes_it():
    x = Value(2.0, label="x")
    assert Namer(x * x).root_name == ROOT == "L"
    assert Namer(x * x, "labels").root_name == "L" and Namer(x * x, "expression").root_name == "L"
    taken = Value(2.0, label="L")
    root = taken * x
    assert Namer(root).root_name == "L·x"  # "L" is a label: the root gets its short expression
    big = Value(2.0, label="L")
    for _ in range(12):
        big = big * big
    assert re.fullmatch(r"v\d+", Namer(big).root_name)
    lonely = Value(3.0)
    assert Namer(lonely).root_name == "L"  # a graph of one unlabelled node: the root
    assert Namer(Value(3.0, label="z")).root_name == "z"


def test_duplicates_get_label_2_label_3_in_evaluation_order_and_never_clash():
    w1, w2, w3 = Value(1.0, label="w"), Value(2.0, label="w"), Value(3.0, label="w_2")
    u = Value(4.0)
    L = (w1 * w2 + w3) * u
    names = Namer(L)
    assert [names.name(n) for n in (w1, w2, w3)] == ["w", "w_3", "w_2"]  # w_2 is a label: the 2nd w is w_3
    assert names.name(u) == "v1"
    v = Value(1.0, label="v1")
    assert Namer(v * Value(2.0) * Value(3.0)).name(v) == "v1"  # a label keeps v1; generated names skip it
    assert list(Namer(v * Value(2.0) * Value(3.0), "labels")) == ["v1", "v2", "v3", "v4", "L"]


def test_the_same_expression_twice_gets_one_expression_name():
    a = Value(0.5, label="a")
    first, second = a.log(), a.log()
    L = first * second
    n = Namer(L)
    assert n.name(first) == "log a" and n.name(second) == "v1"
    assert n.name(L) == "L"


def test_awkward_labels_are_cleaned_and_made_unambiguous():
    odd = [Value(1.0, label="  my\n loss "), Value(2.0, label="2"), Value(3.0, label="  "), Value(4.0, label="7"),
           Value(5.0, label="1 − a")]
    L = odd[0] * odd[1] + odd[2] * odd[3] - odd[4]
    n = Namer(L)
    assert [n.name(v) for v in odd] == ["my loss", "'2'", "v1", "'7'", "1 − a"]
    assert n.kind(odd[2]) == "generated"  # a blank label is no label
    assert n.expression(n.order[-1]).endswith(" − (1 − a)")  # a label that reads as a sum is parenthesised


def test_operand_and_identifiers():
    assert [operand(s) for s in ("w1", "ŷ", "x′", "layer1.neuron2.w1", "σ(z)", "log(1 − a)", "|x|", "2", "0.5",
                                 "'2'")] == ["w1", "ŷ", "x′", "layer1.neuron2.w1", "σ(z)", "log(1 − a)", "|x|", "2",
                                             "0.5", "'2'"]
    assert [operand(s) for s in ("1 − a", "log a", "-0.5", "−2", "my loss", "σ(a)(b)", "(a)·(b)", " 2")] == [
        "(1 − a)", "(log a)", "(-0.5)", "(−2)", "(my loss)", "(σ(a)(b))", "((a)·(b))", "( 2)"]
    assert is_identifier("a.b") and not is_identifier("a.") and not is_identifier("1a") and not is_identifier("a b")
    assert [is_identifier(s) for s in ("x", "a_2", "_", "x'", "x·x", "ŷ", "x′", "a..b", "ŷ.b", "ŷ·b", "2")] == [
        True, True, True, True, False, True, True, False, True, False, False]


def test_compose_parenthesises_by_precedence():
    ops = al.engine.OPS
    A, S, P = ("a", 9), ("1 − a", 1), ("w·x", 2)
    assert compose(ops["mul"], [S, A])[0] == "(1 − a)·a"
    assert compose(ops["mul"], [A, P])[0] == "a·(w·x)"  # × is left-associative: a product on the right
    assert compose(ops["mul"], [P, A])[0] == "w·x·a"
    assert compose(ops["sub"], [A, S])[0] == "a − (1 − a)"
    assert compose(ops["sub"], [S, A])[0] == "1 − a − a"
    assert compose(ops["add"], [S, S])[0] == "1 − a + 1 − a"
    assert compose(ops["div"], [P, P])[0] == "w·x / (w·x)"
    assert compose(ops["pow"], [P, ("2", 9)])[0] == "(w·x)^2"
    assert compose(ops["neg"], [S])[0] == "−(1 − a)" and compose(ops["neg"], [P])[0] == "−(w·x)"
    assert compose(ops["neg"], [("−a", 3)])[0] == "−−a" and compose(ops["abs"], [S])[0] == "|1 − a|"
    assert compose(ops["sqrt"], [S])[0] == "√(1 − a)" and compose(ops["sqrt"], [A])[0] == "√a"
    assert compose(ops["log"], [A])[0] == "log a" and compose(ops["log"], [S])[0] == "log(1 − a)"
    assert compose(ops["sigmoid"], [A])[0] == "σ(a)" and compose(ops["relu"], [A])[0] == "relu(a)"
    assert compose(ops["linear"], [A, P, ("x", 9), ("y", 9), S])[0] == "a·x + (w·x)·y + 1 − a"


def test_negative_constants_are_parenthesised():
    w1 = Value(2.0, label="w1")
    n = Namer(w1 * -1.0 + w1 / -2.0)
    assert list(n)[1:3] == ["w1·(−1)", "w1 / (−2)"]
    assert n.arg(-1.5) == "−1.5" and n.arg(0.25) == "0.25" and n.arg(w1) == "w1"
    assert [number(v) for v in (0.0, -0.0, 1e-5, -2.5e20, 1 / 3, float("nan"), float("inf"))] == [
        "0", "0", "1e-5", "-2.5e20", "0.3333", "nan", "inf"]
    assert number(1 / 3, 1) == "0.3" and number(1 / 3, 17) == "0.33333333333333331"


def test_errors_name_the_fix():
    with pytest.raises(ValueError, match="names must be one of 'auto', 'labels', 'expression'; got 'short'"):
        Namer(Value(1.0), "short")
    with pytest.raises(ValueError, match="names must be one of"):
        check_names(None)
    assert check_names("labels") == "labels" and NAMES == ("auto", "labels", "expression")
    with pytest.raises(TypeError, match="naming needs a Value"):
        Namer(1.0)
    with pytest.raises(ValueError, match="precision"):
        Namer(Value(1.0), precision=0)
    x = Value(1.0, label="x")
    n = Namer(x * 2.0)
    with pytest.raises(KeyError, match="not in the graph of L"):
        n.name(Value(1.0))
    with pytest.raises(KeyError, match=r"no node named 'q' in the graph of L \(names: x, L\)"):
        n.find("q")


def test_module_level_helpers():
    a, y, L = bce_graph()
    assert name_of(a, L) == "a" and name_of(L) == "L" and name_of(L, names="labels") == "L"
    names = node_names(L, "labels")
    assert list(names.values()) == list(Namer(L, "labels")) and names[a] == "a"


def test_compose_name_is_what_the_node_would_be_called():
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    n = Namer(w * x + 1.0)
    ops = al.engine.OPS
    assert n.compose_name(ops["add"], [w, 1.0]) == ("w + 1", 1)
    assert n.compose_name(ops["mul"], [w, x]) is None  # the graph's own node is called w·x: no duplicate
    assert n.compose_name(ops["add"], [("w·x", 2), x]) == ("w·x + x", 1)
    assert n.compose_name(ops["add"], [("w·x", 2), ("y" * SHORT, 9)]) is None  # too long
    assert Namer(w * x, "labels").compose_name(ops["add"], [w, 1.0]) is None
    assert n.composable(Value(1.0)) is None and n.composable(-2.0) == ("−2", 0)


# ---------------------------------------------------------------------------
# every view says the same name
# ---------------------------------------------------------------------------


@st.composite
def graphs(draw):
    leaves = [Value(draw(st.floats(0.1, 2)), label=draw(st.sampled_from(["x", "w", "x1", None, "a b", "v1"])))
              for _ in range(draw(st.integers(1, 4)))]
    pool = list(leaves)
    for _ in range(draw(st.integers(1, 8))):
        a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
        kind = draw(st.sampled_from(["add", "mul", "sub", "log", "sig", "const"]))
        node = {"add": lambda: a + b, "mul": lambda: a * b, "sub": lambda: a - b, "log": lambda: abs(a).log(),
                "sig": lambda: a.sigmoid(), "const": lambda: a * -2.0}[kind]()
        if draw(st.booleans()) and draw(st.booleans()):
            node.label = draw(st.sampled_from(["z", "a", "x"]))
        pool.append(node)
    return pool[-1]


@settings(max_examples=40, deadline=None)
@given(graphs(), st.sampled_from(NAMES))
def test_picture_ledger_and_formulas_name_every_node_alike(root, mode):
    pytest.importorskip("graphviz")
    from autograd_lite.engine import topological_order
    from autograd_lite.viz import draw_graph

    namer = Namer(root, mode)
    names = list(namer)
    assert len(set(names)) == len(names)  # unique
    ledger = explain(root, names=mode)
    assert [r.name for r in ledger.forward] == names
    assert {s.node_name for s in ledger.steps} <= set(names)
    src = draw_graph(root, names=mode, max_nodes=None).source
    order = topological_order(root)

    for i, node in enumerate(order):
        box = re.search(rf"^\s*v{i} \[label=<<TABLE.*?<B>(.*?)</B>", src, flags=re.M)
        assert box is not None and html.unescape(box.group(1)) == namer.name(node)


def test_sympy_symbols_and_analytic_check_use_the_names():
    sympy = pytest.importorskip("sympy")
    from autograd_lite import symbolic

    a, y, L = bce_graph()
    u = Value(2.0)
    L2 = L * u
    syms = symbolic.leaf_symbols(L2)
    assert [str(s) for s in syms.values()] == ["a", "y", "v3"]  # as the ledger: v1, v2 are inner nodes
    assert [r.name for r in explain(L2).forward if r.node is u] == ["v3"]
    report = symbolic.analytic_check(L2, simplify=False)
    assert report.output == "L" and [r.input for r in report.rows] == ["a", "y", "v3"]
    inner = L2.parents[0]
    assert [r.input for r in symbolic.analytic_check(L2, [inner], simplify=False).rows] == ["v2"]
    assert isinstance(sympy.Symbol("a"), sympy.Symbol)


def test_render_backprop_caption_names_are_the_pictures(tmp_path):
    pytest.importorskip("graphviz")
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz")
    from autograd_lite.explain import render_backprop

    a, y, L = bce_graph()
    page = render_backprop(L, tmp_path / "p.html").read_text(encoding="utf-8")
    assert "[1] L → v1: local ∂L/∂v1 = −1" in page and ">log(1 − a)<" in page
    with pytest.raises(ValueError, match="pass names= to explain"):
        explain(L).frame(1, names="labels")
    page = render_backprop(L, tmp_path / "q.html", names="labels").read_text(encoding="utf-8")
    assert "[2] v7 → v2: local ∂v7/∂v2 = 1" in page and ">log(1 − a)<" not in page


# ---------------------------------------------------------------------------
# gradcheck rows, the REPL, numpy
# ---------------------------------------------------------------------------


def test_gradcheck_rows_are_named_by_the_functions_parameters():
    assert [r.input for r in gradcheck(lambda w, x: w * x, [2.0, 3.0]).rows] == ["w", "x"]
    assert [r.input for r in gradcheck(lambda *xs: xs[0] * xs[1], [2.0, 3.0]).rows] == ["xs[0]", "xs[1]"]
    assert [r.input for r in gradcheck(lambda a, *rest: a * rest[0], [2.0, 3.0], order=2).rows] == [
        "∂²f/∂a²", "∂²f/∂a∂rest[0]", "∂²f/∂rest[0]∂a", "∂²f/∂rest[0]²"]
    assert [r.input for r in gradcheck(al.engine.sigmoid, [0.5]).rows] in (["x"], ["args[0]"])
    assert [r.input for r in gradcheck(lambda w, x: w * x, [2.0, 3.0], names=["p", "q"]).rows] == ["p", "q"]

    class F:
        def __call__(self, u, v):
            return u - v

    assert [r.input for r in gradcheck(F(), [1.0, 2.0]).rows] == ["u", "v"]
    assert [r.input for r in gradcheck(max, [1.0, 2.0]).rows] == ["args[0]", "args[1]"]


def test_a_drawing_at_a_plain_prompt_says_how_to_see_it():
    pytest.importorskip("graphviz")
    x = Value(2.0, label="x")
    text = repr((x * x).draw())
    assert "render_graph(L, 'graph.svg')" in text and ".view()" in text and "Jupyter" in text
    assert hasattr((x * x).draw(), "_repr_mimebundle_")  # Jupyter still displays it


@pytest.mark.parametrize("op, sym", [(np.multiply, "*"), (np.add, "+"), (np.subtract, "-"), (np.true_divide, "/")])
def test_numpy_array_with_a_value_says_what_to_do(op, sym):
    v = Value(2.0)
    for args in ((np.array([1.0, 2.0]), v), (v, np.array([1.0, 2.0])), (np.array([1.0], dtype=object), v)):
        with pytest.raises(TypeError, match=re.escape(f"[a {sym} v for a in arr.tolist()]")):
            op(*args)
    assert (np.float64(3.0) * v).data == 6.0 and (np.array(3.0) * v).data == 6.0  # 0-d: a number


def test_a_labels_binding_is_read_from_its_text():
    c = Value(2.0, label="c")
    cases = {"(1 − a)·b": "(1 − a)·b·c", "|x − y|": "|x − y|·c", "'a b": "('a b)·c", "'q'": "'q'·c",
             "1 − a": "(1 − a)·c", "x^2": "(x^2)·c", "a / b": "a / b·c", "my loss": "(my loss)·c",
             "σ(z)": "σ(z)·c", "f(a)(b)": "(f(a)(b))·c", "|x": "(|x)·c", "(a)·(b)": "(a)·(b)·c",
             "|a − b|·d": "|a − b|·d·c", "(|a| − b)·d": "(|a| − b)·d·c", "a |b| c": "(a |b| c)·c"}
    for label, expected in cases.items():
        node = Value(1.0, label=label)
        root = node * c
        assert Namer(root).expression(root) == expected, label
    assert operand("|x") == "(|x)" and operand("|x|") == "|x|" and operand("x|") == "(x|)"
    assert operand("|a| − |b|") == "(|a| − |b|)"  # two bars at the ends, but not one |…|
    assert operand("||") == "(||)" and operand("|") == "(|)" and operand("(x)") == "((x))"
    b, d = Value(1.0, label="b"), Value(2.0, label="d")
    nested = c * (b * d)
    assert Namer(nested * 2.0).name(nested) == "c·(b·d)"
    fused = al.linear([b], [c], Value(1.0, label="my loss"))
    assert Namer(fused * 2.0).name(fused) == "b·c + (my loss)"
    fused = al.linear([b], [c], d)
    total = fused + c
    assert Namer(total * 2.0).name(total) == "b·c + d + c"  # a fused sum inside a sum: no parentheses
    scaled = fused * c
    assert Namer(scaled * 2.0).name(scaled) == "(b·c + d)·c"  # … inside a product: parentheses
    prod = Value(1.0, label="a·b")
    assert Namer(c * prod).expression(Namer(c * prod).root) == "c·(a·b)"  # × on the right: parenthesised


@pytest.mark.parametrize("names", ["auto", "labels", "expression"])
def test_symbolic_views_take_names_with_the_ledgers_meaning(names):
    """leaf_symbols, symbolic_gradients and analytic_check accept names= and then call each
    leaf what explain(..., names=) calls it (the numbering of v1, v2 … depends on the mode)."""
    sympy = pytest.importorskip("sympy")
    from autograd_lite import symbolic

    a = Value(0.5, label="a")
    t = (a - 1.0).tanh()  # named by its expression in "auto", v1 in "labels"
    u, w = Value(2.0), Value(-1.5)  # unlabelled leaves made after it: v1, v2 in "auto", v3, v4 in "labels"
    L = ((a * u).exp() + t) * w
    ledger = {r.node: r.name for r in explain(L, names=names).forward}
    symbols = symbolic.leaf_symbols(L, names=names)
    assert [str(s) for s in symbols.values()] == [ledger[leaf] for leaf in symbols]
    assert [str(s) for s in symbols.values()] == (["a", "v3", "v4"] if names == "labels" else ["a", "v1", "v2"])
    grads = symbolic.symbolic_gradients(L, names=names)
    assert {str(s) for g in grads.values() for s in g.free_symbols} <= {str(s) for s in symbols.values()}
    report = symbolic.analytic_check(L, names=names)
    assert [r.input for r in report.rows] == [ledger[leaf] for leaf in symbols] and report
    with pytest.raises(ValueError, match="names must be one of"):
        symbolic.leaf_symbols(L, names="label")
    assert sympy  # imported for the skip
