"""tools/mutate.py, the mutation tester: the mutants it makes, and a whole run on a tiny package."""

import importlib.util
import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("mutate_tool", ROOT / "tools" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate_tool"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


mutate = _load()

SNIPPET = textwrap.dedent('''\
    """Docstring: a + b < c is not mutated."""
    __all__ = ["f"]
    LIMIT: int = 3


    def f(xs: list[float], n: int = 0) -> float:
        """f's docstring, 1 + 1."""
        total = 0.0
        for i in range(n):
            total += xs[i] * 2.0 - xs[-1] / 1.0 + n
        if total <= 0 and n != 1 or xs is None:
            return -1.0
        label = f"{total + 1}"  # f-strings are left alone
        done = not True
        return total if total > LIMIT else xs[:n]


    def g(x):
        return x + 1  # mutate: skip
    ''')


def _kinds(mutants):
    return {m.kind for m in mutants}


def test_every_kind_of_mutant_is_made_and_compiles():
    mutants = mutate.find_mutants("m.py", SNIPPET)
    kinds = _kinds(mutants)
    for kind in ["operator + → -", "operator * → /", "operator - → +", "operator / → *",
                 "comparison <= → <", "comparison <= → >", "comparison != → ==", "comparison is → is not",
                 "comparison > → >=", "boolean and → or", "boolean or → and", "condition negate if",
                 "condition negate ifexp", "unary drop not", "constant True → False",
                 "constant 0.0 → 1.0", "constant 0.0 → -1.0", "constant 2.0 → 4.0", "constant -1.0 → 0.0",
                 "index -1 → 0", "index + 1", "index - 1", "augmented += → =", "augmented += → -=",
                 "statement → pass", "return x → return None"]:
        assert kind in kinds, kind
    for m in mutants:
        compile(mutate.apply(SNIPPET, m), "m.py", "exec")
    assert len({mutate.apply(SNIPPET, m) for m in mutants}) == len(mutants)  # no duplicates


def test_docstrings_annotations_all_fstrings_and_skip_pragma_are_not_mutated():
    mutants = mutate.find_mutants("m.py", SNIPPET)
    lines = SNIPPET.splitlines()
    touched = {m.line for m in mutants}
    for text in ['"""Docstring', "__all__", '"""f\'s docstring', "return x + 1"]:
        line = next(i for i, s in enumerate(lines, 1) if text in s)
        assert line not in touched, text
    # annotations stay (values and defaults next to them are mutated)
    for m in mutants:
        if "LIMIT: int" in m.old_lines[0]:
            assert m.new_lines[0] in ("LIMIT: int = 4", "LIMIT: int = 2", "pass")
        if "def f(" in m.old_lines[0]:
            assert m.new_lines[0].startswith("def f(xs: list[float], n: int = ") and m.new_lines[0].endswith(
                ") -> float:")
        if "f-strings" in m.old_lines[0]:
            assert m.kind == "statement → pass"
    assert {m.kind for m in mutants if m.line == 3} == {"constant 3 → 4", "statement → pass"}


def test_diff_shows_the_changed_line_before_and_after():
    m = next(m for m in mutate.find_mutants("m.py", SNIPPET) if m.kind == "augmented += → =")
    assert m.line == 10
    assert m.diff() == "- total += xs[i] * 2.0 - xs[-1] / 1.0 + n\n+ total = xs[i] * 2.0 - xs[-1] / 1.0 + n"


def test_equivalent_pragma_and_allowlist(tmp_path):
    text = "def f(x):\n    return x * 1.0  # mutate: equivalent -- never called\n"
    assert {m.equivalent for m in mutate.find_mutants("m.py", text)} == {"never called"}
    allow = tmp_path / "eq.txt"
    allow.write_text("# comment\nfile: m.py\nwhy: because\n- return x * 1.0\n+ return x / 1.0\n")
    assert mutate.read_equivalents(allow) == {("m.py", ("return x * 1.0",), ("return x / 1.0",)): "because"}
    allow.write_text("file: m.py\n- return x * 1.0\n+ return x / 1.0\n")
    with pytest.raises(SystemExit, match="why"):
        mutate.read_equivalents(allow)


TINY = textwrap.dedent('''\
    """A tiny package for the mutation tester's own test."""


    def add(a, b):
        return a + b


    def double(x):
        return x * 2
    ''')
CHECK = "python -c 'import tiny; assert tiny.add(2, 3) == 5'"


def _tiny(tmp_path):
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "__init__.py").write_text(TINY)
    return tmp_path / "tiny" / "__init__.py"


def test_a_run_kills_the_tested_mutants_and_reports_the_survivors(tmp_path, capsys):
    module = _tiny(tmp_path)
    rc = mutate.main(["tiny/__init__.py", "--root", str(tmp_path), "--tests", CHECK, "-j", "2",
                      "--json", str(tmp_path / "out.json")])
    out = capsys.readouterr().out
    assert rc == 1  # `double` is not tested: its mutants survive
    assert "5 found, 5 selected; 2 killed, 3 survived, 0 timeout, 0 equivalent" in out
    assert "tiny/__init__.py:9  operator * → /\nfile: tiny/__init__.py\n- return x * 2\n+ return x / 2" in out
    assert module.read_text() == TINY  # the working tree is never touched
    results = json.loads((tmp_path / "out.json").read_text())
    assert sorted(r["status"] for r in results) == ["killed"] * 2 + ["survived"] * 3
    # an allowlist entry, pasted from the report with a reason, counts the survivor apart
    (tmp_path / "eq.txt").write_text("file: tiny/__init__.py\nwhy: not used\n- return x * 2\n+ return x / 2\n")
    rc = mutate.main(["tiny/__init__.py", "--root", str(tmp_path), "--tests", CHECK, "--equivalent", "eq.txt",
                      "--lines", "9-9", "-j", "1"])
    assert rc == 1
    assert "5 found, 3 selected; 0 killed, 2 survived, 0 timeout, 1 equivalent" in capsys.readouterr().out
    rc = mutate.main(["tiny/__init__.py", "--root", str(tmp_path), "--list", "--max", "2", "--seed", "1"])
    assert rc == 0
    assert capsys.readouterr().out.endswith("2 of 5 mutants\n")


def test_a_command_that_does_not_see_the_mutants_stops_the_run(tmp_path, capsys):
    _tiny(tmp_path)
    rc = mutate.main(["tiny/__init__.py", "--root", str(tmp_path), "--tests", "python -c 'pass'"])
    assert rc == 2
    assert "does not import the mutated copy" in capsys.readouterr().err
    rc = mutate.main(["tiny/__init__.py", "--root", str(tmp_path), "--tests", "python -c 'import tiny; 1/0'"])
    assert rc == 2
    assert "the tests fail on the unmutated" in capsys.readouterr().err


def test_make_mutate_and_the_readme_use_the_tool():
    assert re.search(r"^mutate: .*\n\t.*tools/mutate\.py \$\(ARGS\)", (ROOT / "Makefile").read_text(), flags=re.M)
    assert "tools/mutate.py" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert mutate.read_equivalents(ROOT / mutate.DEFAULT_EQUIVALENT) is not None   # the allowlist parses
