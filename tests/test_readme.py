"""The README never lies: its doctests run via --doctest-glob; here its derivative
table, its console sessions and its shell commands are checked against the code."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_lite.cli import build_parser
from autograd_lite.engine import derivative_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_derivative_table_is_the_engines():
    assert derivative_table() in README


def console_sessions():
    for block in blocks("console"):
        commands = re.split(r"^\$ ", block, flags=re.M)[1:]
        for chunk in commands:
            command, _, output = chunk.partition("\n")
            yield command, output


@pytest.mark.parametrize("command,expected", list(console_sessions()),
                         ids=lambda v: v[:40] if isinstance(v, str) else "")
def test_console_sessions_print_what_the_readme_shows(command, expected):
    argv = shlex.split(command)
    assert argv[0] == "autograd-lite"
    result = subprocess.run([sys.executable, "-m", "autograd_lite", *argv[1:]], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert (result.stdout + result.stderr).strip() == expected.strip()


def shell_commands():
    for block in blocks("sh"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                yield line


@pytest.mark.parametrize("line", [c for c in shell_commands() if not c.startswith("make")])
def test_shell_commands_name_real_scripts_and_valid_options(line):
    argv = shlex.split(line)
    if argv[0] == "autograd-lite":
        build_parser().parse_args(argv[1:])          # raises SystemExit on an unknown option
    else:
        assert argv[0] == "python" and (ROOT / argv[1]).is_file(), line
        help_text = subprocess.run([sys.executable, argv[1], "--help"], capture_output=True, text=True,
                                   cwd=ROOT, timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": ""}).stdout
        for option in (a for a in argv[2:] if a.startswith("--")):
            assert option in help_text, (line, option)


def test_make_targets_named_in_the_readme_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test", "bench"):
        assert re.search(rf"^{target}:", makefile, flags=re.M)
