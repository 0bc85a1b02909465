"""Datasets: toy 2-D problems, a real one shipped with the package, CSV loading, splitting, scaling.

Everything returns numpy arrays: ``X`` of shape (m, n) (one example per row) and
``y`` of shape (m,) with integer class labels.

>>> from autograd_lite.data import make_moons, train_test_split, standardize
>>> X, y = make_moons(200, noise=0.1, seed=0)
>>> X.shape, y.shape, sorted(set(y.tolist()))
((200, 2), (200,), [0, 1])
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
>>> X_train.shape, X_test.shape
((150, 2), (50, 2))
>>> X_train_s, X_test_s, mu, sd = standardize(X_train, X_test)
>>> bool(abs(X_train_s.mean(axis=0)).max() < 1e-12)
True
"""

from __future__ import annotations

import csv
import math
import os
import re
from array import array
from importlib import resources
from typing import Any

try:
    import numpy as np
except ImportError:  # the scalar engine runs without numpy; this module does not
    raise ImportError("autograd_lite.data (the datasets) needs numpy, which is not installed: "
                      "pip install numpy") from None

__all__ = ["make_moons", "make_circles", "make_blobs", "train_test_split", "standardize",
           "load_csv", "read_csv_table", "load_breast_cancer"]


def _count(n: Any, what: str = "n", low: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{what} must be an int, not {type(n).__name__}")
    if n < low:
        raise ValueError(f"{what} must be at least {low}, got {n}")
    return int(n)


def _nonneg(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number, not {type(x).__name__}")
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{what} must be a finite number ≥ 0, got {x}")
    return float(x)


def _shuffle(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_moons(n: int = 100, noise: float = 0.0, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (C12): ⌊n/2⌋ points of (cos t, sin t), class 0, and
    the rest of (1 − cos t, ½ − sin t), class 1, for t evenly spaced in [0, π],
    plus Gaussian noise of standard deviation ``noise``; rows shuffled."""
    n = _count(n, "n", 2)
    noise = _nonneg(noise, "noise")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    X = np.concatenate([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                        np.column_stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return _shuffle(X, y, rng)


def make_circles(n: int = 100, noise: float = 0.0, factor: float = 0.8,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (C12): ⌊n/2⌋ points on the unit circle (class 0) and the
    rest on the circle of radius ``factor`` < 1 (class 1), plus Gaussian noise; shuffled."""
    n = _count(n, "n", 2)
    noise = _nonneg(noise, "noise")
    factor = _nonneg(factor, "factor")
    if not 0 < factor < 1:
        raise ValueError(f"factor (inner radius / outer radius) must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0.0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                        factor * np.column_stack([np.cos(t_in), np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return _shuffle(X, y, rng)


def make_blobs(n: int = 100, centers: int | Any = 2, n_features: int = 2, cluster_std: float = 1.0,
               center_box: tuple[float, float] = (-10.0, 10.0),
               seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters: ``centers`` (a count, drawn uniformly in ``center_box``, or an
    array of shape (k, n_features)); class j's points are N(centerⱼ, cluster_std²·I),
    as evenly split between classes as possible; shuffled."""
    n = _count(n, "n")
    std = _nonneg(cluster_std, "cluster_std")
    rng = np.random.default_rng(seed)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = _count(centers, "centers")
        nf = _count(n_features, "n_features")
        lo, hi = center_box
        if not lo < hi:
            raise ValueError(f"center_box must be (low, high) with low < high, got {center_box!r}")
        C = rng.uniform(lo, hi, size=(k, nf))
    else:
        C = np.asarray(centers, dtype=float)
        if C.ndim != 2 or len(C) == 0:
            raise ValueError(f"centers must be an int or an array of shape (k, n_features), got shape {C.shape}")
        k, nf = C.shape
    sizes = [n // k + (1 if j < n % k else 0) for j in range(k)]
    X = np.concatenate([C[j] + std * rng.standard_normal((sizes[j], nf)) for j in range(k)])
    y = np.repeat(np.arange(k, dtype=np.int64), sizes)
    return _shuffle(X, y, rng)


def train_test_split(X: Any, y: Any, test_size: float | int = 0.25,
                     seed: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split: returns ``X_train, X_test, y_train, y_test`` (scikit-learn's order).
    ``test_size`` is a fraction in (0, 1) (rounded up, as scikit-learn) or a count."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows, got {X.shape} and {y.shape}")
    m = len(y)
    if isinstance(test_size, bool):
        raise TypeError("test_size must be a fraction or a count, not a bool")
    if isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)) and 0 < test_size < 1:
        n_test = math.ceil(test_size * m)
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or a count, got {test_size!r}")
    if not 1 <= n_test <= m - 1:
        raise ValueError(f"test_size={test_size!r} leaves {n_test} of {m} examples for testing; "
                         "both parts need at least one")
    order = np.random.default_rng(seed).permutation(m)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def standardize(X_train: Any, X_test: Any = None) -> tuple:
    """Scale every column to mean 0 and standard deviation 1 using the *training*
    statistics: x' = (x − μ) / σ (population σ, like scikit-learn's StandardScaler;
    a constant column has σ = 0 and is left at 0, never divided by 0).

    Returns ``(X_train_scaled, mean, std)``, or with ``X_test``
    ``(X_train_scaled, X_test_scaled, mean, std)``."""
    A = np.asarray(X_train, dtype=float)
    if A.ndim != 2 or len(A) == 0:
        raise ValueError(f"X_train must be a non-empty 2-D array (examples × features), got shape {A.shape}")
    mu = A.mean(axis=0)
    sd = A.std(axis=0)
    scale = np.where(sd > 0, sd, 1.0)
    train = (A - mu) / scale
    if X_test is None:
        return train, mu, sd
    B = np.asarray(X_test, dtype=float)
    if B.ndim != 2 or B.shape[1] != A.shape[1]:
        raise ValueError(f"X_test must have {A.shape[1]} columns like X_train, got shape {B.shape}")
    return train, (B - mu) / scale, mu, sd


_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
#: The longest CSV cell accepted, in characters.
MAX_FIELD = 1 << 20


def _cell_value(text: str) -> float | None:
    """A plain ASCII decimal number (``-1.5``, ``2e-3``, ``.5``) as a float; None otherwise
    (``1_000``, ``0x10``, full-width digits, ``nan``, ``inf`` and ``1e999`` are not numbers)."""
    if not _NUMBER.match(text):
        return None
    v = float(text)
    return v if math.isfinite(v) else None


#: The longest line accepted, in characters (a file without line breaks, such as
#: /dev/zero, is refused after reading this much, not read to the end).
MAX_LINE = 1 << 24


def _bounded_lines(fh: Any, path: str) -> Any:
    """The lines of ``fh``, each read at most `MAX_LINE` + 1 characters at a time."""
    while True:
        line = fh.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE:
            raise ValueError(f"{path}: a line longer than {MAX_LINE} characters: not a CSV table")
        yield line


def _distinct_names(header: list[str], path: str, line: int) -> None:
    """Two columns with one name would be read as one (the first): refused."""
    first: dict[str, int] = {}
    for j, name in enumerate(header):
        if name in first and not name:
            raise ValueError(f"{path}: line {line}: columns {first[name] + 1} and {j + 1} have no name; "
                             "give every column its own name")
        if name in first:
            raise ValueError(f"{path}: line {line}: the column name {name!r} appears twice (columns "
                             f"{first[name] + 1} and {j + 1}); give every column its own name")
        first[name] = j


def read_csv_table(path: str | os.PathLike) -> tuple[list[str], np.ndarray]:
    """Read a numeric CSV file with a header row: ``(header, data)``, data of shape
    (rows, columns).  Rules (errors are ``ValueError`` with the file's own line
    number, blank lines counted, and the column name):

    - the column names are distinct (a repeated name is an error);
    - blank lines are skipped; a row of empty cells is an error like one empty cell;
    - every row has as many cells as the header;
    - a number is a plain ASCII decimal (``3``, ``-0.5``, ``1e-3``); ``nan``,
      ``inf``, ``1_000``, hex and non-ASCII digits are not;
    - a cell longer than `MAX_FIELD` characters, or a line longer than
      `MAX_LINE`, is an error.

    Memory: the numbers are collected in a typed buffer (8 bytes each) and become
    the array without copying, so the peak is about the file's size."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such CSV file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a directory, not a CSV file")
    buf = array("d")
    header: list[str] | None = None
    rows = 0
    old_limit = csv.field_size_limit()
    try:
        csv.field_size_limit(MAX_FIELD)
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(_bounded_lines(fh, path))
            line = 0
            try:
                for row in reader:
                    line = reader.line_num
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # a blank line
                    if header is None:
                        header = [h.strip() for h in row]
                        if all(not h for h in header):
                            raise ValueError(f"{path}: line {line}: the header row has no column names")
                        _distinct_names(header, path, line)
                        continue
                    if len(row) != len(header):
                        raise ValueError(f"{path}: line {line} has {len(row)} cells, the header has {len(header)}")
                    rows += 1
                    for j, cell in enumerate(row):
                        text = cell.strip()
                        v = _cell_value(text)
                        if v is None:
                            if not text:
                                what = "an empty cell"
                            elif text.lower().lstrip("+-") in ("nan", "inf", "infinity") or _NUMBER.match(text):
                                what = f"{text[:40]!r} is not a finite number"
                            else:
                                what = (f"{text[:40]!r} is not a number (write plain decimals such as 3, -0.5 "
                                        "or 1e-3)")
                            raise ValueError(f"{path}: line {line} (data row {rows}), column {header[j]!r}: {what}")
                        buf.append(v)
            except csv.Error as e:
                line = reader.line_num
                msg = str(e)
                if "field larger than field limit" in msg:
                    msg = f"a cell longer than {MAX_FIELD} characters"
                raise ValueError(f"{path}: line {line}: not a valid CSV file ({msg})") from None
            except UnicodeDecodeError as e:
                raise ValueError(f"{path}: not UTF-8 text (byte {e.start} of a line after line {line})") from None
    finally:
        csv.field_size_limit(old_limit)
    if header is None:
        raise ValueError(f"{path}: the file is empty (a header row and data rows are needed)")
    if rows == 0:
        raise ValueError(f"{path}: only a header row, no data")
    data = np.frombuffer(buf, dtype=float).reshape(rows, len(header))
    return header, data


def load_csv(path: str | os.PathLike, target: str | int | None = None,
             binary: bool = True) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a numeric CSV file with a header row: returns ``(X, y, feature_names)``.

    ``target`` is the label column (a name or an index; default: the last column);
    every other column is a feature.  Errors say what is wrong: a missing file
    (FileNotFoundError), an unknown target column (the columns are listed), a
    ragged row, an empty or non-numeric cell (its line and column; see
    `read_csv_table` for what counts as a number), and, when ``binary``, labels
    other than 0 and 1.  With ``binary`` y is an int array."""
    path = os.fspath(path)
    header, data = read_csv_table(path)
    if target is None:
        t = len(header) - 1
    elif isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -len(header) <= target < len(header):
            raise ValueError(f"{path}: target column index {target} out of range for {len(header)} columns")
        t = int(target) % len(header)
    elif isinstance(target, str):
        if target not in header:
            raise ValueError(f"{path}: no column named {target!r}; the columns are: {', '.join(header)}")
        t = header.index(target)
    else:
        raise TypeError(f"target must be a column name or index, not {type(target).__name__}")
    if len(header) < 2:
        raise ValueError(f"{path}: need at least one feature column besides the target {header[t]!r}")
    y = data[:, t].copy()
    if t == data.shape[1] - 1:
        X = data[:, :t]  # a view: no copy of the features
    else:
        X = np.delete(data, t, axis=1)
    names = [h for j, h in enumerate(header) if j != t]
    if binary:
        bad = sorted(set(y.tolist()) - {0.0, 1.0})
        if bad:
            shown = ", ".join(f"{b:g}" for b in bad[:5]) + (" …" if len(bad) > 5 else "")
            raise ValueError(f"{path}: binary labels in column {header[t]!r} must be 0 or 1; found {shown} "
                             "(pass binary=False for other targets)")
        y = y.astype(np.int64)
    return X, y, names


def load_breast_cancer() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The Wisconsin diagnostic breast-cancer data (569 tumours × 30 features),
    shipped with the package: ``(X, y, feature_names)`` with y = 1 for malignant
    (212) and 0 for benign (357).  Source and licence (CC BY 4.0):
    ``autograd_lite/datasets/README.md``."""
    ref = resources.files("autograd_lite").joinpath("datasets").joinpath("breast_cancer.csv")  # 3.10: one part
    with resources.as_file(ref) as path:
        return load_csv(path, target="malignant")
