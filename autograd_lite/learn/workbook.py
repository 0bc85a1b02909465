"""The workbook on disk: ``learn init DIR`` writes the stubs, ``learn check DIR``
imports the learner's files (nothing else of theirs is run) and grades them."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from autograd_lite.learn.exercises import EXERCISES, filename, stub_text
from autograd_lite.learn.grader import (
    DEFAULT_TIME_LIMIT,
    Report,
    TimeLimitExceeded,
    _learner_line,
    _time_limit,
    check,
)

__all__ = ["init_workbook", "check_workbook", "summary"]


def _ids(ids: Sequence[str] | None) -> list[str]:
    if not ids:
        return list(EXERCISES)
    unknown = [i for i in ids if i not in EXERCISES]
    if unknown:
        raise ValueError(f"unknown exercise {unknown[0]!r}; the exercises are {', '.join(EXERCISES)}")
    return list(dict.fromkeys(ids))


def init_workbook(directory: str | os.PathLike, ids: Sequence[str] | None = None, *,
                  force: bool = False) -> list[Path]:
    """Write one stub file per exercise (``01_sigmoid_derivative.py``, ...) into
    ``directory`` (created if needed); returns the paths.  An existing file is never
    overwritten unless ``force``: FileExistsError, and nothing is written."""
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file, not a folder: choose another place for the workbook")
    paths = [folder / filename(EXERCISES[i]) for i in _ids(ids)]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise FileExistsError(f"{existing[0]} exists{more}: your work would be lost; pass --force (force=True) "
                              "to overwrite, or choose another folder")
    folder.mkdir(parents=True, exist_ok=True)
    for path, i in zip(paths, _ids(ids)):
        path.write_text(stub_text(EXERCISES[i]), encoding="utf-8")
    return paths


def _find(folder: Path, ex_id: str) -> Path | None:
    for name in (filename(EXERCISES[ex_id]), f"{ex_id}.py"):
        if (folder / name).is_file():
            return folder / name
    return None


def _load(path: Path, ex_id: str, time_limit: float | None) -> object | Report:
    """Import the learner's file (the only code of theirs that runs besides their function)."""
    name = f"_autograd_lite_workbook_{ex_id}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _time_limit(time_limit):
            spec.loader.exec_module(module)
    except TimeLimitExceeded:
        return Report(ex_id, "failed", f"importing {path.name} took more than {time_limit:g} s (a loop at the top "
                                       "level of the file?)", "timeout")
    except SyntaxError as e:
        return Report(ex_id, "failed", f"{path.name} is not valid Python: {e.msg} at line {e.lineno}", "syntax")
    except NotImplementedError:
        return Report(ex_id, "not started", "the file raises NotImplementedError when imported", "not-started")
    except (Exception, SystemExit) as e:
        where = _learner_line(e)
        return Report(ex_id, "failed", f"importing {path.name} raised {type(e).__name__}: {e}" +
                      (f"\n  at {where}" if where else ""), "exception")
    finally:
        sys.modules.pop(name, None)
    return module


def check_workbook(directory: str | os.PathLike, ids: Sequence[str] | None = None, *,
                   time_limit: float | None = DEFAULT_TIME_LIMIT) -> list[Report]:
    """Grade the exercises of a workbook folder (all, or ``ids``): one `Report` each,
    "not started" for an untouched stub or a missing file."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"no workbook folder {folder}: create one with `autograd-lite learn init {folder}`")
    reports = []
    added = str(folder.resolve())
    sys.path.insert(0, added)  # so that the learner's files can import each other
    try:
        for ex_id in _ids(ids):
            path = _find(folder, ex_id)
            if path is None:
                reports.append(Report(ex_id, "not started", f"no file {filename(EXERCISES[ex_id])} in {folder} "
                                      f"(`autograd-lite learn init {folder} {ex_id}` writes it)", "not-started"))
                continue
            module = _load(path, ex_id, time_limit)
            if isinstance(module, Report):
                reports.append(module)
                continue
            fn = getattr(module, ex_id, None)
            if not callable(fn):
                reports.append(Report(ex_id, "failed", f"{path.name} defines no function named {ex_id}", "missing"))
                continue
            reports.append(check(ex_id, fn, time_limit=time_limit))
    finally:
        if added in sys.path:
            sys.path.remove(added)
    return reports


def summary(reports: Sequence[Report]) -> str:
    """``3 passed, 1 failed, 4 not started``."""
    counts = {s: sum(r.status == s for r in reports) for s in ("passed", "failed", "not started")}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing checked"
