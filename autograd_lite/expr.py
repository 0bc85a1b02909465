"""A tiny, safe expression language for the ``autograd-lite grad`` command.

An expression is what you would write on paper for a loss::

    -(y*log(sigmoid(w1*x1 + w2*x2 + b)) + (1 - y)*log(1 - sigmoid(w1*x1 + w2*x2 + b)))

Grammar (a subset of Python's expression syntax, checked against an allow-list
after ``ast.parse(..., mode="eval")``):

- numbers (``3``, ``0.5``, ``1e-3``) -- always floats, so ``9**9**9`` is a
  float operation giving ``inf`` (IEEE-754), never a huge Python integer;
- variables: letters and digits, no underscores (``x1``, ``w``, ``b``);
- ``+ - * / **``, unary ``-`` and ``+``, parentheses;
- the functions ``exp log sigmoid tanh relu sqrt abs sin cos`` (one argument) and the
  losses ``bce(a, y) = −[y log a + (1 − y) log(1 − a)]`` for a probability
  0 < a < 1, ``bcelogits(z, y)``, the same loss of a = sigmoid(z) from the logit z
  (no rounding of a to 0 or 1), and ``mse(a, y) = (a − y)²`` (two arguments).

Anything else -- attribute access, subscripts, lambdas, comprehensions,
strings, comparisons, keyword arguments, unknown names or functions, more than
`MAX_LENGTH` characters, brackets nested deeper than `MAX_DEPTH` -- raises
`ExprError` with the 1-based ``column`` of the problem.  Evaluation goes only
through `Value` operations (never ``eval``/``exec``) and walks the tree
without recursion.

>>> from autograd_lite.expr import evaluate, parse
>>> e = parse("sigmoid(w*x + b)")
>>> e.variables
('w', 'x', 'b')
>>> out, leaves = evaluate(e, {"w": 2.0, "x": 0.0, "b": 0.0})
>>> out.data, leaves["w"].grad
(0.5, 0.0)
>>> out.backward()
>>> leaves["b"].grad     # σ'(0) = 1/4
0.25
>>> parse("open('x')")
Traceback (most recent call last):
    ...
autograd_lite.expr.ExprError: unknown function 'open' at column 1 (functions: exp, log, ...)
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from autograd_lite.engine import OPS, Value, _ieee
from autograd_lite.engine import cos as _cos
from autograd_lite.engine import exp as _exp
from autograd_lite.engine import log as _log
from autograd_lite.engine import relu as _relu
from autograd_lite.engine import sigmoid as _sigmoid
from autograd_lite.engine import sin as _sin
from autograd_lite.engine import sqrt as _sqrt
from autograd_lite.engine import tanh as _tanh

__all__ = ["ExprError", "Expression", "parse", "evaluate", "evaluate_program", "is_program", "parse_assignments",
           "FUNCTIONS", "CONSTANTS", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 2000
"""Longest accepted expression, in characters."""
MAX_DEPTH = 100
"""Deepest accepted nesting of brackets (checked before ``ast.parse``)."""

Number = float | Value


class ExprError(ValueError):
    """A rejected expression (or ``NAME=VALUE`` item); ``column`` is 1-based or None."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(message if column is None else _at_column(message, column))


def _at_column(message: str, column: int) -> str:
    head, sep, tail = message.partition(" (")
    return f"{head} at column {column}{sep}{tail}"


def _abs(x: Number) -> Number:
    return x.abs() if isinstance(x, Value) else abs(x)


def _bce(a: Number, y: Number) -> Number:
    """Log loss −[y log a + (1 − y) log(1 − a)] (claim C2), the textbook formula, for a
    probability 0 < a < 1 (y is any number: ``--check`` moves it).  Any other a is refused
    (`ExprError`), not printed as inf or nan: at a = 0 or 1 a log is −inf (and 0·log 0
    is nan), and a probability that sigmoid rounded to exactly 1 (z > 36.7) or 0 is
    a loss that `bcelogits` computes from the logit without rounding."""
    av, yv = _number_of(a), _number_of(y)
    if not 0.0 < av < 1.0 and not math.isnan(av):
        if isinstance(a, Value) and a.op is OPS["sigmoid"] and av in (0.0, 1.0):
            z = a.parents[0]
            zv = _number_of(z)
            exact = _number_of(_bcelogits(zv, yv))
            raise ExprError(f"bce(a, y): a = sigmoid({zv:g}) rounds to exactly {av:g} in floating point, so "
                            f"log({'1 − a' if av else 'a'}) = −inf and the formula gives inf or nan; the loss is "
                            f"{exact:.6g}: write bcelogits(z, y), the same loss computed from the logit z "
                            f"(for a = sigmoid(z))")
        kind = "a probability" if 0.0 <= av <= 1.0 else "a probability, not a score"
        raise ExprError(f"bce(a, y) needs 0 < a < 1 ({kind}), got a = {av:g}: at a = 0 or 1 a log is −inf; "
                        "for a score (logit) z, write bcelogits(z, y), the loss of a = sigmoid(z)")
    return _neg(_add(_mul(y, _log(a)), _mul(_sub(1.0, y), _log(_sub(1.0, a)))))


def _bcelogits(z: Number, y: Number) -> Number:
    """Log loss of a = sigmoid(z) from the logit z, without rounding a:
    log(1 + eᶻ) − zy, computed stably (`losses.binary_cross_entropy_with_logits`)."""
    from autograd_lite.losses import binary_cross_entropy_with_logits

    return binary_cross_entropy_with_logits(z, y if isinstance(y, Value) else Value(y))  # any y, as bce


def _number_of(x: Number) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _mse(a: Number, y: Number) -> Number:
    """Squared error (a − y)² for one example."""
    d = _sub(a, y)
    return _mul(d, d)


FUNCTIONS: dict[str, tuple[int, Callable[..., Number]]] = {
    "exp": (1, _exp), "log": (1, _log), "sigmoid": (1, _sigmoid), "tanh": (1, _tanh),
    "relu": (1, _relu), "sqrt": (1, _sqrt), "abs": (1, _abs), "sin": (1, _sin), "cos": (1, _cos),
    "bce": (2, _bce), "bcelogits": (2, _bcelogits), "mse": (2, _mse),
}
_FUNCTION_LIST = ", ".join(FUNCTIONS)
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
"""Named constants of the language (not variables: ``--at e=1`` is an error)."""


_PY_OPS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
           "pow": operator.pow}


def _binary(name: str) -> Callable[[Number, Number], Number]:
    forward = OPS[name].forward
    on_values = _PY_OPS[name]

    def f(x: Number, y: Number) -> Number:
        if isinstance(x, Value) or isinstance(y, Value):
            return on_values(x, y)  # a graph node (a constant side is stored as a float)
        return float(_ieee(forward, x, y))  # two constants: IEEE float arithmetic (1/0 = inf, 9**9**9 = inf)

    return f


_add, _sub, _mul, _div, _pow = (_binary(n) for n in ("add", "sub", "mul", "div", "pow"))


def _neg(x: Number) -> Number:
    return -x  # type: ignore[operator]  # Value.__neg__ is installed from the engine's table


_BINOPS: dict[type, Callable[[Number, Number], Number]] = {
    ast.Add: _add, ast.Sub: _sub, ast.Mult: _mul, ast.Div: _div, ast.Pow: _pow}
_OP_NAMES = {ast.Mod: "'%'", ast.FloorDiv: "'//'", ast.MatMult: "'@'", ast.LShift: "'<<'", ast.RShift: "'>>'",
             ast.BitOr: "'|'", ast.BitAnd: "'&'", ast.BitXor: "'^'", ast.Invert: "'~'", ast.Not: "'not'"}
_CONSTRUCTS = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.Compare: "comparisons", ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expressions", ast.NamedExpr: "assignments ':='", ast.List: "lists",
    ast.Tuple: "tuples", ast.Set: "sets", ast.Dict: "dicts", ast.JoinedStr: "strings", ast.Starred: "'*' arguments",
    ast.Slice: "slices", ast.Await: "'await'", ast.Yield: "'yield'", ast.YieldFrom: "'yield'",
}
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
# a decimal number directly followed by a letter, '_' or '(' ("2x", "3(x+1)", "1_000", "0x1F")
_NUMBER_TOKEN = re.compile(r"(?<![A-Za-z0-9_.])((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_IEEE_WORDS = re.compile(r"[+-]?(?:inf|infinity|nan)\Z", re.IGNORECASE)
_ASCII_HINTS = {"\u2212": "'-' for minus", "\u00d7": "'*' for times", "\u00b7": "'*' for times",
                "\u00f7": "'/' for division", "\u03c0": "pi"}


def _column(text: str, node: Any) -> int:
    """1-based character column of ``node`` (``col_offset`` counts UTF-8 bytes)."""
    line = text.splitlines()[node.lineno - 1] if node.lineno > 1 else text
    return len(line.encode("utf-8")[:node.col_offset].decode("utf-8", errors="ignore")) + 1


def _operator_column(text: str, node: ast.BinOp) -> int:
    """1-based column of a binary operator: the first character after the left operand
    that is neither a space nor a closing parenthesis."""
    col = _column(text, node.left) + len(ast.get_source_segment(text, node.left) or "") - 1
    line = text.splitlines()[node.lineno - 1] if node.lineno > 1 else text
    while col < len(line) and line[col] in " \t)":
        col += 1
    return col + 1


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ExprError(f"an expression is a string, not {type(text).__name__}")
    if not text.strip():
        raise ExprError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression too long: {len(text)} characters (the limit is {MAX_LENGTH})")
    for i, ch in enumerate(text):
        if ch in "\r\n" or (not ch.isprintable() and ch != "\t"):
            raise ExprError("expression must be one line of printable text", i + 1)
        if ord(ch) > 127:
            hint = _ASCII_HINTS.get(ch, "ASCII letters a-z, digits 0-9, + - * / ** and parentheses")
            raise ExprError(f"non-ASCII character {ch!r} (write plain ASCII: {hint})", i + 1)
    for m in _NUMBER_TOKEN.finditer(text):
        after = text[m.end():m.end() + 1]
        if not after or not (after.isalpha() or after in "_("):
            continue
        if after in "jJ" and not text[m.end() + 1:m.end() + 2].isalnum():
            continue  # 1j: a complex literal, rejected by parse with its own message
        number = m.group(1)
        if after == "_" or (number == "0" and after in "xXoObB"):
            literal = re.match(r"[0-9A-Za-z_.]*", text[m.start(1):])
            raise ExprError(f"number {literal.group() if literal else number!r} is not a plain decimal "
                            "(write digits, '.' and e-notation such as 1000 or 1e3)", m.start(1) + 1)
        word = re.match(r"[A-Za-z0-9]*", text[m.end():])
        rest = word.group() if word and word.group() else after
        raise ExprError(f"{number + rest!r}: write {number}*{rest} for a product", m.start(1) + 1)
    depth = 0
    for i, ch in enumerate(text):  # ast.parse itself can blow the stack on deep nesting: count first
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExprError(f"brackets nested too deeply (more than {MAX_DEPTH} levels)", i + 1)
        elif ch in ")]}":
            depth -= 1
    return text


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, its tree and its variables in order of first appearance."""

    text: str
    tree: ast.Expression
    variables: tuple[str, ...]

    def __call__(self, **values: float | Value) -> Value:
        """The expression's value as a `Value` graph over the given variables."""
        return evaluate(self, values)[0]


def _number_literal(value: object, text: str, node: ast.AST) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = {str: "strings", bytes: "bytes", complex: "complex numbers", bool: "True and False",
                type(None): "None values"}.get(type(value), "ellipses '...'")
        raise ExprError(f"{kind} are not supported", _column(text, node))
    try:
        return float(value)
    except OverflowError:  # an integer literal with hundreds of digits
        return math.inf


def parse(text: str) -> Expression:
    """Parse and check ``text``; raise `ExprError` (with a column) if it is not in the language."""
    if isinstance(text, Expression):
        return text
    text = _check_text(text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        msg = (e.msg or "invalid syntax").split(" (")[0]
        if not e.offset or e.offset < 1 or e.offset > len(text):  # Python points past the end
            raise ExprError("the expression ends too early", len(text.rstrip()) + 1) from None
        raise ExprError(msg, e.offset) from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise ExprError("expression too complex to parse") from None
    func_names: set[int] = set()
    seen: dict[str, tuple[int, int]] = {}
    for node in ast.walk(tree):  # breadth-first (iterative): the outermost problem is reported
        col = _column(text, node) if hasattr(node, "col_offset") else None
        if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop)):
            continue  # operators are checked with their BinOp/UnaryOp
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise ExprError(f"operator {_OP_NAMES.get(type(node.op), type(node.op).__name__)} is not supported "
                                "(use + - * / **)", _operator_column(text, node))
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ExprError(f"operator {_OP_NAMES.get(type(node.op), type(node.op).__name__)} is not supported",
                                col)
        elif isinstance(node, ast.Constant):
            _number_literal(node.value, text, node)
            source = ast.get_source_segment(text, node) or ""
            if not _DECIMAL.match(source):
                raise ExprError(f"number {source!r} is not a plain decimal (write digits, '.' and e-notation "
                                "such as 1000 or 1e3)", col)
        elif isinstance(node, ast.Call):
            if node.keywords:
                kw = node.keywords[0]
                raise ExprError("keyword arguments are not supported", _column(text, kw))
            if isinstance(node.func, ast.Name):
                name = node.func.id
                if name not in FUNCTIONS:
                    raise ExprError(f"unknown function {name!r} (functions: {_FUNCTION_LIST})", col)
                nargs = FUNCTIONS[name][0]
                for a in node.args:
                    if isinstance(a, ast.Starred):
                        raise ExprError("'*' arguments are not supported", _column(text, a))
                if len(node.args) != nargs:
                    want = "one argument" if nargs == 1 else f"{nargs} arguments"
                    raise ExprError(f"{name}() takes {want}, got {len(node.args)}", col)
                func_names.add(id(node.func))
            elif not isinstance(node.func, ast.Attribute):
                raise ExprError(f"only the functions {_FUNCTION_LIST} can be called", col)
        elif isinstance(node, ast.Name):
            if id(node) in func_names:
                continue
            name = node.id
            if "_" in name:
                raise ExprError(f"name {name!r}: names with underscores are not allowed", col)
            if not _NAME_RE.match(name):
                raise ExprError(f"name {name!r}: variables are ASCII letters and digits", col)
            if name in FUNCTIONS:
                raise ExprError(f"{name!r} is a function: call it as {name}(...)", col)
            if name in CONSTANTS:
                continue
            seen.setdefault(name, (node.lineno, node.col_offset))
        elif isinstance(node, ast.Attribute):
            dot = _column(text, node.value) + len(ast.get_source_segment(text, node.value) or "")
            raise ExprError(f"attribute access '.{node.attr}' is not allowed", dot)
        else:
            raise ExprError(f"{_CONSTRUCTS.get(type(node), type(node).__name__)} are not supported", col)
    variables = tuple(sorted(seen, key=seen.__getitem__))
    return Expression(text, tree, variables)


def evaluate(expr: str | Expression, values: Mapping[str, float | Value]) -> tuple[Value, dict[str, Value]]:
    """Evaluate ``expr`` with Value ops; returns ``(output, leaves)``.

    Each variable becomes one leaf `Value` labelled with its name (a Value in
    ``values`` is used as it is), so ``output.backward()`` fills ``leaves[name].grad``.
    A variable that ``values`` lacks raises `ExprError` naming it."""
    e = parse(expr)  # type: ignore[arg-type]  # parse passes an Expression through
    leaves: dict[str, Value] = {}
    missing = [name for name in e.variables if name not in values]
    if missing:
        raise missing_error(e, missing)
    for name in e.variables:
        v = values[name]
        leaves[name] = v if isinstance(v, Value) else Value(_to_float(v, name), label=name)
    out = _run(e, leaves)
    return (out if isinstance(out, Value) else Value(out)), leaves


def missing_error(e: Expression, missing: list[str]) -> ExprError:
    """One error naming every variable without a value (at the first one's column)."""
    if len(missing) == 1:
        name = missing[0]
        return ExprError(f"variable {name!r} has no value (give it with --at {name}=NUMBER)",
                         _first_column(e, name))
    names = ", ".join(map(repr, missing))
    give = " ".join(f"{n}=NUMBER" for n in missing)
    return ExprError(f"variables {names} have no value (give them with --at {give})", _first_column(e, missing[0]))


def _to_float(v: object, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        try:
            return float(v)  # type: ignore[arg-type]  # numpy scalars
        except (TypeError, ValueError):
            raise ExprError(f"the value of {name!r} must be a number, not {type(v).__name__}") from None
    return float(v)


def _first_column(e: Expression, name: str) -> int | None:
    for node in ast.walk(e.tree):
        if isinstance(node, ast.Name) and node.id == name:
            return _column(e.text, node)
    return None


def _run(e: Expression, leaves: Mapping[str, Value]) -> Number:
    """Post-order evaluation with an explicit stack (no recursion, any depth)."""
    results: dict[int, Number] = {}
    stack: list[tuple[ast.AST, bool]] = [(e.tree.body, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.Constant):
            results[id(node)] = _number_literal(node.value, e.text, node)
            continue
        if isinstance(node, ast.Name):
            results[id(node)] = CONSTANTS[node.id] if node.id in CONSTANTS else leaves[node.id]
            continue
        children = _children(node)
        if not ready:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children))
            continue
        args = [results.pop(id(c)) for c in children]
        if isinstance(node, ast.BinOp):
            results[id(node)] = _BINOPS[type(node.op)](*args)
        elif isinstance(node, ast.UnaryOp):
            results[id(node)] = _neg(args[0]) if isinstance(node.op, ast.USub) else args[0]
        else:  # ast.Call, checked by parse
            results[id(node)] = FUNCTIONS[node.func.id][1](*args)  # type: ignore[attr-defined]
    return results[id(e.tree.body)]


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    raise ExprError(f"{type(node).__name__} is not supported")  # unreachable after parse()


_STATEMENT = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)\s*=(?!=)(.*)\Z", re.S)


def is_program(text: str) -> bool:
    """Whether ``text`` is statements (``z = w*x + b; a = sigmoid(z)``), not one expression."""
    return ";" in text or "\n" in text.strip() or _STATEMENT.match(text) is not None


def evaluate_program(program: str, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """Evaluate an expression, or statements ``name = expression`` separated by ``;``
    or new lines (``z = w*x + b; a = sigmoid(z)``): each right-hand side goes through
    the CLI's safe parser, and its node is labelled with its name.  Returns the last
    statement's node (labelled L, or f if L is a variable, when it has no name) and
    the leaves (the variables) by name."""
    statements = [s for s in re.split(r"[;\n]", program) if s.strip()]
    if not statements:
        raise ExprError("empty expression: type one, e.g. w*x + b")
    named: dict[str, Value] = {}
    leaves: dict[str, Value] = {}
    out, name = None, None
    for text in statements:
        m = _STATEMENT.match(text)
        name, rhs = (m.group(1), m.group(2).strip()) if m else (None, text.strip())
        try:
            if name is not None and (name in FUNCTIONS or name in CONSTANTS):
                raise ExprError(f"{name!r} is the name of a function or constant: name the value otherwise")
            if name is not None and (name in named or name in values or name in leaves):
                raise ExprError(f"{name!r} is given a value twice: use a new name")
            out, found = evaluate(rhs, {**values, **leaves, **named})
        except ExprError as err:
            if len(statements) == 1:
                raise
            raise ExprError(f"in {text.strip()!r}: {err}") from None
        leaves.update((k, v) for k, v in found.items() if k not in named)
        if name is not None:
            out.label = name
            named[name] = out
    assert out is not None
    if name is None:
        out.label = "f" if "L" in leaves else "L"  # as `autograd-lite explain` names it
    return out, leaves


def parse_assignments(items: Iterable[str]) -> dict[str, float]:
    """``["x1=1.5", "w=-0.3"]`` → ``{"x1": 1.5, "w": -0.3}``; `ExprError` for a malformed item,
    a bad name or number, or a name given twice.

    >>> parse_assignments(["x1=1.5", "w=-3e-1"])
    {'x1': 1.5, 'w': -0.3}
    """
    out: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        name, number = name.strip(), number.strip()
        if not sep or not name or not number:
            raise ExprError(f"--at item {item!r} is not NAME=NUMBER (e.g. x1=1.5)")
        if name in CONSTANTS:
            raise ExprError(f"--at item {item!r}: {name!r} is a constant of the language ({CONSTANTS[name]!r}), "
                            "not a variable")
        if "_" in name or not _NAME_RE.match(name) or name in FUNCTIONS:
            raise ExprError(f"--at item {item!r}: {name!r} is not a variable name (ASCII letters and digits, "
                            "no underscores, not a function name)")
        if not (_DECIMAL.match(number) or _IEEE_WORDS.match(number)):
            raise ExprError(f"--at item {item!r}: {number!r} is not a number (write a plain ASCII decimal "
                            "such as 1.5, -2 or 1e-3; inf and nan are also accepted)")
        value = float(number)
        if name in out:
            raise ExprError(f"--at gives {name!r} twice")
        out[name] = value
    return out
