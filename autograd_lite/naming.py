"""One name per node: what every view (picture, ledger, formulas, checks, CLI) calls it.

`Namer` decides the display name of each node of the graph that ends at a root,
once, so that ``draw_graph``, ``explain`` (text, Markdown, HTML, steps, forward
list, paths), ``render_backprop``, ``analytic_check``/``symbolic_gradients``
and the CLI all say the same thing.  With ``names="auto"`` (the default):

1. a node with a **label** is called by it (surrounding whitespace dropped, runs
   of whitespace made one space);
2. an unlabelled **root** is ``L``, the name the ledger's formulas (dL/dw) use;
3. an unlabelled node computed from named nodes and numbers is called by its
   **expression** when that is short (at most `SHORT` characters): ``1 − a``,
   ``log a``, ``w1·x1``, ``log(1 − a)``;
4. any other node gets a **generated** name ``v1, v2, …``, numbered in
   evaluation order among the nodes that need one.

``names="labels"`` skips step 3 (labels, ``L``, then ``v1, v2, …``: a Wengert
list); ``names="expression"`` allows expressions up to `LONG` characters.

Names are unique within a graph, deterministically: when several nodes carry
the same label, the first in evaluation order keeps it and the next ones are
``label_2``, ``label_3``, … (the same as the SymPy symbols); a generated or
expression name never takes a name that is in use, and a second node with the
same expression gets a generated name.  A name that is not one identifier-like
token (``1 − a``, a label ``"my loss"`` or ``"2"``) is parenthesised where it is
an operand: ``dL/d(1 − a)``, ``w1·(−1)`` (see `operand`).

>>> from autograd_lite import Value
>>> a = Value(0.8, label="a")
>>> y = Value(1.0, label="y")
>>> L = -(y * a.log() + (1 - y) * (1 - a).log())
>>> namer = Namer(L)
>>> [namer.name(n) for n in namer.order]
['a', 'y', 'log a', 'y·log a', '1 − y', '1 − a', 'log(1 − a)', '(1 − y)·log(1 − a)', 'v1', 'L']
>>> Namer(L, names="labels").name(a.log())  # a new node: not in the graph
Traceback (most recent call last):
...
KeyError: 'this Value is not in the graph of L'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from autograd_lite.engine import Op, Value, topological_order

__all__ = ["Namer", "NAMES", "ROOT", "SHORT", "LONG", "name_of", "node_names", "operand", "number",
           "is_identifier", "check_names", "compose"]

#: The accepted values of ``names=`` (every view takes the same ones).
NAMES = ("auto", "labels", "expression")
#: The name of an unlabelled root: the loss L of the ledger's dL/dw.
ROOT = "L"
#: ``names="auto"``: the longest expression used as a name.
SHORT = 20
#: ``names="expression"``: the longest expression used as a name.
LONG = 30

_IDENT = re.compile(r"[^\W\d][\w′']*(?:\.[^\W\d][\w′']*)*")
_WS = re.compile(r"\s+")


def check_names(names: Any) -> str:
    """``names`` if it is one of `NAMES`, else ValueError naming them."""
    if not isinstance(names, str) or names not in NAMES:
        raise ValueError(f"names must be one of {', '.join(map(repr, NAMES))}; got {names!r}")
    return names


def number(x: float, precision: int = 4) -> str:
    """``x`` with ``precision`` significant digits: ``0`` for ±0, ``1e-5`` not ``1e-05``."""
    if x == 0:
        return "0"
    if math.isnan(x):
        return "nan"
    s = format(x, f".{precision}g")
    if "e" in s:
        mantissa, exponent = s.split("e")
        s = f"{mantissa}e{int(exponent)}"
    return s


def is_identifier(name: str) -> bool:
    """True for one identifier-like token (``w1``, ``ŷ``, ``x′``, ``layer1.neuron2.w1``)."""
    if name.isascii() and "'" not in name:  # the fast common case (not all of Unicode: "x·x" is a Python
        return all(part.isidentifier() for part in name.split("."))  # identifier, not one of ours)
    return _IDENT.fullmatch(name) is not None


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _is_call(name: str) -> bool:
    """``σ(z)``, ``log(1 − a)``, ``|x|``: one function applied to one bracketed argument."""
    if len(name) > 1 and name[0] == name[-1] == "|" and "|" not in name[1:-1]:
        return True
    start = name.find("(")
    if start < 1 or not name.endswith(")") or not (is_identifier(name[:start]) or name[:start] in ("σ", "√")):
        return False
    depth = 0
    for i, ch in enumerate(name[start:], start):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i == len(name) - 1
    return False


def operand(name: str) -> str:
    """``name`` as an operand of a formula: kept when it is an identifier, a function
    call such as ``σ(z)`` or a non-negative number, else parenthesised (``(1 − a)``,
    ``(-0.5)``, ``(my loss)``)."""
    if is_identifier(name) or _is_call(name) or (len(name) > 1 and name[0] == name[-1] == "'"):
        return name
    if _is_number(name) and not name.lstrip().startswith(("-", "−")) and name.strip() == name:
        return name
    return f"({name})"


def _clean(label: Any) -> str:
    """A label as a name: a string, its whitespace runs made one space and trimmed; a label
    that reads as a number is quoted (``'2'``), so no formula mistakes it for a constant."""
    text = _WS.sub(" ", str(label)).strip()
    return f"'{text}'" if text and _is_number(text) else text


# --------------------------------------------------------------------------
# expressions: what an op computes from its inputs' names
# --------------------------------------------------------------------------

_ATOM = 9  # a name or a non-negative number: never needs parentheses
_WORD_FUNCS = {"log", "exp", "sin", "cos", "tanh"}  # written "log a", "log(1 − a)"


def _precedence(text: str) -> int:
    """How tightly a name binds, read from its text: ``w1·x1`` is a product (2), ``1 − a`` a
    sum (1), ``σ(z)`` an atom; a name of unknown shape (``my loss``) binds loosest (0)."""
    if is_identifier(text) or _is_call(text) or (text.startswith("'") and text.endswith("'")):
        return _ATOM
    depth, inside_abs, top = 0, False, []
    for ch in text:  # the characters outside any parentheses or |…|
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            inside_abs = not inside_abs
        elif depth == 0 and not inside_abs:
            top.append(ch)
    flat = "".join(top)
    if " + " in flat or " − " in flat:
        return 1
    if " " in flat.replace(" / ", "/"):
        return 0
    if "·" in flat or "/" in flat:
        return 2
    return 0


def _term(name: str) -> tuple[str, int]:
    """A name as an argument ``(text, precedence)``."""
    return name, _precedence(name)


def _constant(x: float, precision: int) -> tuple[str, int]:
    s = number(x, precision)
    if s.startswith("-"):
        return "−" + s[1:], 0  # always parenthesised: w1·(−1)
    return s, _ATOM


def compose(op: Op, args: Sequence[tuple[str, int]]) -> tuple[str, int]:
    """The text of ``op`` applied to arguments ``(text, precedence)``, with the
    parentheses the usual precedence rules need (+ − : 1, × ÷ : 2, unary − : 3, power : 4)."""

    def par(arg: tuple[str, int], need: int) -> str:
        return arg[0] if arg[1] >= need else f"({arg[0]})"

    name = op.name
    if name == "add":
        return f"{par(args[0], 1)} + {par(args[1], 1)}", 1
    if name == "sub":
        return f"{par(args[0], 1)} − {par(args[1], 2)}", 1
    if name == "mul":
        return f"{par(args[0], 2)}·{par(args[1], 3)}", 2
    if name == "div":
        return f"{par(args[0], 2)} / {par(args[1], 3)}", 2
    if name == "pow":
        return f"{par(args[0], _ATOM)}^{par(args[1], _ATOM)}", 4
    if name == "neg":
        return f"−{par(args[0], 3)}", 3
    if name == "abs":
        return f"|{args[0][0]}|", _ATOM
    if name == "sqrt":
        return f"√{par(args[0], _ATOM)}", 5
    if name == "linear":
        n = (len(args) - 1) // 2
        terms = [f"{par(w, 3)}·{par(x, 3)}" for w, x in zip(args[:n], args[n:2 * n])]
        return " + ".join([*terms, par(args[-1], 1)]), 1
    symbol = op.symbol
    if name in _WORD_FUNCS and args[0][1] == _ATOM:
        return f"{symbol} {args[0][0]}", 5
    return f"{symbol}({args[0][0]})", _ATOM


# --------------------------------------------------------------------------
# the namer
# --------------------------------------------------------------------------


class Namer:
    """The display name of every node of the graph ending at ``root`` (see the module docstring).

    ``name(node)`` (or ``namer[node]``) is the name; ``kind(node)`` says where it
    came from (``"label"``, ``"root"``, ``"expression"``, ``"generated"``);
    ``expression(node)`` is how the node is computed from its inputs' names
    (``w1·x1 + w2·x2 + b``, ``σ(z)``); ``find(name)`` is the node of a name.
    Building it is linear in the graph (one pass in evaluation order)."""

    def __init__(self, root: Value, names: str = "auto", *, precision: int = 4,
                 order: Sequence[Value] | None = None) -> None:
        if root.__class__ is not Value:
            raise TypeError(f"naming needs a Value (the root of a graph), got {type(root).__name__}")
        self.mode = check_names(names)
        if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
            raise ValueError(f"precision is a number of significant digits from 1 to 17; got {precision!r}")
        self.root = root
        self.precision = precision
        #: The nodes in evaluation order (producers first; the root last).
        self.order: list[Value] = list(order) if order is not None else topological_order(root)[::-1]
        self._names: dict[int, str] = {}
        self._kinds: dict[int, str] = {}
        self._terms: dict[int, tuple[str, int]] = {}  # names usable inside an expression name
        limit = self.limit
        labels = {id(n): _clean(n.label) for n in self.order if n.label is not None and _clean(n.label)}
        taken = set(labels.values())
        used: set[str] = set()
        pending: list[Value] = []  # nodes that get a generated name, in evaluation order
        for node in self.order:
            key = id(node)
            label = labels.get(key)
            if label is not None:
                name, k = label, 2
                while name in used or (name != label and name in taken):  # never another node's label
                    name, k = f"{label}_{k}", k + 1
                self._set(node, name, "label")
                self._terms[key] = _term(name)
            elif node is root and ROOT not in taken:
                self._set(node, ROOT, "root")
            elif limit and node.op is not None and self._compose(node, limit, taken, used):
                pass
            else:
                pending.append(node)
                self._names[key] = ""  # placeholder: keeps evaluation order in the dict
            if self._names[key]:
                used.add(self._names[key])
        k = 0
        for node in pending:
            k += 1
            while f"v{k}" in taken or f"v{k}" in used:
                k += 1
            self._set(node, f"v{k}", "generated")
            used.add(f"v{k}")
        self._used = used
        self.root_name: str = self._names[id(root)]

    def _set(self, node: Value, name: str, kind: str) -> None:
        self._names[id(node)] = name
        self._kinds[id(node)] = kind

    def _compose(self, node: Value, limit: int, taken: set[str], used: set[str]) -> bool:
        args = []
        for p in node.parents:
            if p.__class__ is Value:
                term = self._terms.get(id(p))
                if term is None:
                    return False
                args.append(term)
            else:
                args.append(_constant(p, self.precision))
        text, prec = compose(node.op, args)  # type: ignore[arg-type]
        if len(text) > limit or text in taken or text in used:
            return False
        self._set(node, text, "expression")
        self._terms[id(node)] = (text, prec)
        return True

    # -- lookups -------------------------------------------------------------------
    def name(self, node: Value) -> str:
        """The display name of ``node`` (KeyError for a Value not in the graph)."""
        try:
            return self._names[id(node)]
        except KeyError:
            raise KeyError(f"this Value is not in the graph of {self.root_name}") from None

    __getitem__ = name

    def __contains__(self, node: object) -> bool:
        return id(node) in self._names and node.__class__ is Value

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        """The names in evaluation order."""
        return (self._names[id(n)] for n in self.order)

    def kind(self, node: Value) -> str:
        """Where the name comes from: ``"label"``, ``"root"``, ``"expression"`` or ``"generated"``."""
        self.name(node)
        return self._kinds[id(node)]

    def operand(self, node: Value) -> str:
        """The name as an operand of a formula (parenthesised unless one token)."""
        return operand(self.name(node))

    def arg(self, x: Any) -> str:
        """An input of an op as text: a Value's name, or a number (``−`` for negatives)."""
        if x.__class__ is Value:
            return self.name(x)
        return _constant(x, self.precision)[0]

    def term(self, x: Any) -> tuple[str, int]:
        """An input as ``(text, precedence)`` for `compose`: a node's name, or a number."""
        if x.__class__ is Value:
            term = self._terms.get(id(x))
            return term if term is not None else (self.name(x), _ATOM)  # v1, v2, …, L: identifiers
        return _constant(x, self.precision)

    def composable(self, x: Any) -> tuple[str, int] | None:
        """``x`` as a term of an expression name, ``(text, precedence)``: a number, or a node
        named by a label or an expression; None for a node with a generated name (or ``L``)."""
        if x.__class__ is Value:
            return self._terms.get(id(x))
        return _constant(x, self.precision)

    def compose_name(self, op: Op, args: Sequence[Any]) -> tuple[str, int] | None:
        """The expression name a node computing ``op`` of ``args`` (nodes, numbers, or terms
        returned by an earlier call) would get, as ``(text, precedence)``; None when the
        rules give it none (an input without a label or expression name, too long, taken).
        `draw_graph` names the display-only boxes of ``expand_linear=True`` with it."""
        terms = []
        for a in args:
            term = a if isinstance(a, tuple) else self.composable(a)
            if term is None:
                return None
            terms.append(term)
        text, prec = compose(op, terms)
        if not self.limit or len(text) > self.limit or text in self._used:
            return None
        return text, prec

    @property
    def limit(self) -> int:
        """The longest expression used as a name in this mode (0: none)."""
        return 0 if self.mode == "labels" else SHORT if self.mode == "auto" else LONG

    def expression(self, node: Value) -> str:
        """How ``node`` is computed from its inputs' names (``""`` for a leaf):
        ``w1·x1 + w2·x2 + b``, ``σ(z)``, ``log(1 − a)``, ``x^2``."""
        if node.op is None:
            return ""
        return compose(node.op, [self.term(p) for p in node.parents])[0]

    def find(self, name: str) -> Value:
        """The node called ``name`` (KeyError listing some names if none is)."""
        for node in self.order:
            if self._names[id(node)] == name:
                return node
        some = ", ".join(self._names[id(n)] for n in self.order[:12])
        raise KeyError(f"no node named {name!r} in the graph of {self.root_name} (names: {some}"
                       f"{', …' if len(self.order) > 12 else ''})")

    def as_dict(self) -> dict[int, str]:
        """Names keyed by ``id(node)``, in evaluation order."""
        return dict(self._names)

    def __repr__(self) -> str:
        return f"<Namer of {self.root_name} (names={self.mode!r}): {len(self)} nodes>"


def node_names(root: Value, names: str = "auto", *, precision: int = 4) -> dict[Value, str]:
    """Every node of the graph ending at ``root`` → its display name (evaluation order)."""
    namer = Namer(root, names, precision=precision)
    return {node: namer.name(node) for node in namer.order}


def name_of(node: Value, root: Value | None = None, names: str = "auto", *, precision: int = 4) -> str:
    """The display name of ``node`` in the graph ending at ``root`` (default: ``node`` itself)."""
    return Namer(node if root is None else root, names, precision=precision).name(node)
