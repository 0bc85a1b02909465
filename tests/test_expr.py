"""The safe expression language: semantics, gradients, errors with columns, and fuzzing."""

from __future__ import annotations

import ast
import math
import time

import pytest
from conftest import np  # None in the numpy-free run (test_no_numpy.py)
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite.check import numerical_grad
from autograd_lite.engine import Value
from autograd_lite.expr import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, ExprError, evaluate, parse, parse_assignments

SEED = "-(y*log(sigmoid(w1*x1+w2*x2+b)) + (1-y)*log(1-sigmoid(w1*x1+w2*x2+b)))"
POINT = {"x1": 1.5, "x2": -0.5, "w1": 0.3, "w2": -0.8, "b": 0.1, "y": 1.0}


def test_seed_expression_matches_the_analytic_chain_rule():
    e = parse(SEED)
    assert e.variables == ("y", "w1", "x1", "w2", "x2", "b")  # order of first appearance
    out, leaves = evaluate(e, POINT)
    out.backward()
    z = 0.3 * 1.5 + (-0.8) * (-0.5) + 0.1
    a = 1 / (1 + math.exp(-z))
    assert out.data == pytest.approx(-math.log(a), rel=1e-12)
    assert leaves["w1"].grad == pytest.approx(1.5 * (a - 1), rel=1e-12)   # x1(a − y)
    assert leaves["w2"].grad == pytest.approx(-0.5 * (a - 1), rel=1e-12)  # x2(a − y)
    assert leaves["b"].grad == pytest.approx(a - 1, rel=1e-12)            # a − y
    assert leaves["x1"].grad == pytest.approx(0.3 * (a - 1), rel=1e-12)   # w1(a − y)


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7.0), ("2 ** 3 ** 2", 512.0), ("-2 ** 2", -4.0), ("(-2) ** 2", 4.0), ("+3", 3.0),
    ("7 / 2", 3.5), ("sqrt(16)", 4.0), ("abs(-3)", 3.0), ("relu(-1) + relu(2)", 2.0), ("exp(0)", 1.0),
    ("log(1)", 0.0), ("sigmoid(0)", 0.5), ("tanh(0)", 0.0), ("mse(3, 1)", 4.0), ("1e-3 * 1000", 1.0),
    ("bce(0.5, 1)", math.log(2)), ("1000 + 1", 1001.0),
])
def test_constant_expressions(text, expected):
    out, leaves = evaluate(text, {})
    assert leaves == {}
    assert isinstance(out, Value) and out.data == pytest.approx(expected)


@pytest.mark.parametrize("text, expected", [
    ("9**9**9", math.inf), ("1/0", math.inf), ("-1/0", -math.inf), ("log(0)", -math.inf), ("0/0", None),
    ("(-8)**(1/3)", None), ("exp(1000)", math.inf), ("9" * 400, math.inf), ("1e999 - 1e999", None),
])
def test_float_semantics_never_raise_or_hang(text, expected):
    start = time.perf_counter()
    out, _ = evaluate(text, {})
    assert time.perf_counter() - start < 1
    if expected is None:
        assert math.isnan(out.data)
    else:
        assert out.data == expected


def test_bce_and_mse_gradients():
    out, leaves = evaluate("bce(sigmoid(z), y) + mse(a, t)", {"z": 0.7, "y": 0.0, "a": 2.0, "t": 0.5})
    out.backward()
    s = 1 / (1 + math.exp(-0.7))
    assert leaves["z"].grad == pytest.approx(s - 0.0)      # d bce(σ(z), y)/dz = σ(z) − y
    assert leaves["a"].grad == pytest.approx(2 * (2.0 - 0.5))
    assert leaves["t"].grad == pytest.approx(-2 * (2.0 - 0.5))


def test_values_may_be_given_as_values_and_expression_is_callable():
    w = Value(2.0, label="w")
    out, leaves = evaluate("w*w", {"w": w})
    assert leaves["w"] is w
    out.backward()
    assert w.grad == 4.0
    assert parse("x*3")(x=2.0).data == 6.0


@pytest.mark.parametrize("text, message, column", [
    ("open('x')", "unknown function 'open'", 1),
    ("__import__('os').system('touch PWNED')", "attribute access '.system'", 17),
    ("().__class__", "attribute access '.__class__'", 3),
    ("x.__class__", "attribute access", 2),
    ("lambda: 0", "lambdas", 1),
    ("[x for x in y]", "comprehensions", 1),
    ("{x: 1 for x in y}", "comprehensions", 1),
    ("(x for x in y)", "comprehensions", 1),
    ("f(x=1)", "keyword arguments", 3),
    ("exp(x, y)", "exp() takes one argument, got 2", 1),
    ("bce(x)", "bce() takes 2 arguments, got 1", 1),
    ("exp(*x)", "'*' arguments", 5),
    ("x[0]", "subscripts", 1),
    ("x < y", "comparisons", 1),
    ("x and y", "'and'/'or'", 1),
    ("not x", "operator 'not'", 1),
    ("~x", "operator '~'", 1),
    ("x % 2", "operator '%'", 3),
    ("x // 2", "operator '//'", 3),
    ("(x) @ y", "operator '@'", 5),
    ("'abc'", "strings", 1),
    ("b'abc'", "bytes", 1),
    ("f'{x}'", "strings", 1),
    ("1j", "complex numbers", 1),
    ("True + 1", "True and False", 1),
    ("None", "None values", 1),
    ("x_1 + 1", "underscores", 1),
    ("1 + _", "underscores", 5),
    ("exp + 1", "'exp' is a function", 1),
    ("2 + é", "ASCII letters", 5),
    ("x if y else z", "conditional expressions", 1),
    ("(y := 2)", "assignments", 2),
    ("[1, 2]", "lists", 1),
    ("1, 2", "tuples", 1),
    ("{1}", "sets", 1),
    ("{}", "dicts", 1),
    ("x[1:2]", "subscripts", 1),
    ("(x)(2)", "unknown function 'x'", 1),
    ("(x + 1)(2)", "only the functions", 1),
    ("x +* y", "invalid syntax", 4),
    ("x +", "ends too early", 4),
    ("2 * (x + ", "was never closed", 5),
    ("x $ y", "invalid syntax", 3),
    ("", "empty expression", None),
    ("x\ny", "one line", 2),
])
def test_rejections_name_the_problem_and_the_column(text, message, column):
    with pytest.raises(ExprError) as info:
        parse(text)
    err = info.value
    assert message in str(err)
    assert "\n" not in str(err)
    if column is not None:
        assert err.column == column
        assert f"at column {column}" in str(err)
    assert isinstance(err, ValueError)


def test_missing_variable_is_named_with_its_column():
    with pytest.raises(ExprError, match=r"variable 'w2' has no value at column 8") as info:
        evaluate("w1*x + w2", {"w1": 1.0, "x": 2.0})
    assert info.value.column == 8


def test_length_and_depth_limits_are_checked_before_parsing():
    with pytest.raises(ExprError, match="too long"):
        parse("x+" * MAX_LENGTH + "x")
    start = time.perf_counter()
    with pytest.raises(ExprError, match="too long"):
        parse("(" * 10_000 + "x" + ")" * 10_000)
    with pytest.raises(ExprError, match="nested too deeply") as info:
        parse("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    assert info.value.column == MAX_DEPTH + 1
    assert time.perf_counter() - start < 1
    parse("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH)  # exactly at the limit is fine


def test_long_flat_and_chained_expressions_evaluate_without_recursion():
    n = MAX_LENGTH // 2 - 1
    out, leaves = evaluate("x+" * n + "x", {"x": 1.0})
    out.backward()
    assert out.data == n + 1 and leaves["x"].grad == n + 1
    out, leaves = evaluate("-" * (MAX_LENGTH - 1) + "x", {"x": 2.0})
    assert out.data == (2.0 if (MAX_LENGTH - 1) % 2 == 0 else -2.0)
    out, _ = evaluate("2**" * 600 + "2", {})
    assert out.data == math.inf


def test_parse_assignments():
    assert parse_assignments(["x1=1.5", " w = -3e-1 ", "b=inf"]) == {"x1": 1.5, "w": -0.3, "b": math.inf}
    for bad, msg in [("x1=abc", "'abc' is not a number"), ("x1", "not NAME=NUMBER"), ("=1", "not NAME=NUMBER"),
                     ("x_1=2", "not a variable name"), ("exp=1", "not a variable name"), ("x=", "not NAME=NUMBER")]:
        with pytest.raises(ExprError, match=msg):
            parse_assignments([bad])
    with pytest.raises(ExprError, match="gives 'x' twice"):
        parse_assignments(["x=1", "x=2"])


# ---------------------------------------------------------------------------
# fuzzing
# ---------------------------------------------------------------------------

_NAMES = st.sampled_from(["x", "y", "w1", "b", "x_1", "_", "__import__", "open", "exp", "bce", "é", "True"])
_ALLOWED_BINOPS = [ast.Add(), ast.Sub(), ast.Mult(), ast.Div(), ast.Pow()]
_ALL_BINOPS = _ALLOWED_BINOPS + [ast.Mod(), ast.FloorDiv(), ast.MatMult(), ast.BitOr(), ast.LShift()]
_CONSTS = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False), st.text(max_size=3), st.none(),
                    st.booleans(), st.complex_numbers(max_magnitude=5, allow_nan=False, allow_infinity=False))


def _any_tree(leaves):
    def extend(children):
        return st.one_of(
            st.builds(ast.BinOp, children, st.sampled_from(_ALL_BINOPS), children),
            st.builds(ast.UnaryOp, st.sampled_from([ast.USub(), ast.UAdd(), ast.Not(), ast.Invert()]), children),
            st.builds(lambda f, args, kw: ast.Call(ast.Name(f, ast.Load()), args,
                                                   [ast.keyword("k", kw)] if kw is not None else []),
                      st.sampled_from([*FUNCTIONS, "open", "eval", "x"]), st.lists(children, max_size=3),
                      st.none() | children),
            st.builds(lambda v, a: ast.Attribute(v, a, ast.Load()), children, st.sampled_from(["__class__", "real"])),
            st.builds(lambda v, s: ast.Subscript(v, s, ast.Load()), children, children),
            st.builds(lambda a, b: ast.Compare(a, [ast.Lt()], [b]), children, children),
            st.builds(lambda a, b: ast.BoolOp(ast.And(), [a, b]), children, children),
            st.builds(ast.IfExp, children, children, children),
            st.builds(lambda xs: ast.List(xs, ast.Load()), st.lists(children, max_size=2)),
            st.builds(lambda body: ast.Lambda(ast.arguments([], [], None, [], [], None, []), body), children),
        )
    return st.recursive(leaves, extend, max_leaves=12)


_ANY_LEAF = st.one_of(st.builds(lambda n: ast.Name(n, ast.Load()), _NAMES), st.builds(ast.Constant, _CONSTS))


def _unparse(tree: ast.AST) -> str | None:
    try:
        return ast.unparse(ast.fix_missing_locations(ast.Expression(body=tree)))
    except (ValueError, TypeError, AttributeError):
        return None


def _result_or_exprerror(text: str) -> None:
    try:
        e = parse(text)
        out, _ = evaluate(e, {v: 0.7 for v in e.variables})
    except ExprError as err:
        assert "\n" not in str(err)
        assert err.column is None or 1 <= err.column <= len(text) + 1
        return
    assert isinstance(out, Value) and isinstance(out.data, float)


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("xyw1b()+-*/.,_[]{}:'\"=<>%@!~ 0e9\\ ")) | st.characters(),
               max_size=60))
def test_fuzz_random_text_gives_a_result_or_an_expr_error(text):
    _result_or_exprerror(text)


@settings(max_examples=300)
@given(_any_tree(_ANY_LEAF))
def test_fuzz_random_python_asts_give_a_result_or_an_expr_error(tree):
    text = _unparse(tree)
    if text is not None:
        _result_or_exprerror(text)


# Well-formed expressions: the value equals a numpy reference and backprop equals finite differences.
_VARS = ["x", "y", "w"]
_REF_FUNCS = {
    "exp": np.exp, "log": np.log, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
    "relu": lambda v: np.maximum(v, 0.0), "sqrt": np.sqrt, "abs": np.abs,
} if np is not None else {}
_REF_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
               ast.Pow: np.power} if np is not None else {}


def _good_tree():
    leaves = st.one_of(st.builds(lambda n: ast.Name(n, ast.Load()), st.sampled_from(_VARS)),
                       st.builds(ast.Constant, st.sampled_from([0.5, 1, 2, 3.0, 0.25])))

    def extend(children):
        return st.one_of(
            st.builds(ast.BinOp, children, st.sampled_from([ast.Add(), ast.Sub(), ast.Mult()]), children),
            st.builds(ast.UnaryOp, st.sampled_from([ast.USub(), ast.UAdd()]), children),
            st.builds(lambda f, a: ast.Call(ast.Name(f, ast.Load()), [a], []),
                      st.sampled_from(["sigmoid", "tanh", "exp", "relu", "abs"]), children),
        )
    return st.recursive(leaves, extend, max_leaves=8)


def _reference(node: ast.AST, env: dict[str, float]) -> float:
    with np.errstate(all="ignore"):
        if isinstance(node, ast.Constant):
            return np.float64(node.value)
        if isinstance(node, ast.Name):
            return np.float64(env[node.id])
        if isinstance(node, ast.UnaryOp):
            v = _reference(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return _REF_BINOPS[type(node.op)](_reference(node.left, env), _reference(node.right, env))
        return _REF_FUNCS[node.func.id](_reference(node.args[0], env))


@settings(max_examples=150)
@given(_good_tree(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_fuzz_well_formed_expressions_match_numpy_and_finite_differences(tree, xs):
    text = _unparse(tree)
    env = dict(zip(_VARS, xs))
    e = parse(text)
    out, leaves = evaluate(e, env)
    ref = float(_reference(tree, env))
    assert out.data == pytest.approx(ref, rel=1e-9, abs=1e-12) or (math.isnan(ref) and math.isnan(out.data))
    if not e.variables or not math.isfinite(out.data) or abs(out.data) > 1e6:
        return
    out.backward()
    names = list(e.variables)
    numeric = numerical_grad(lambda *v: evaluate(e, dict(zip(names, v)))[0], [env[n] for n in names], eps=1e-6)
    for n, num in zip(names, numeric):
        if "relu" in text or "abs" in text:  # kinks: finite differences straddle them
            continue
        assert leaves[n].grad == pytest.approx(num, rel=1e-4, abs=1e-5)
