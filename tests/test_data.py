"""autograd_lite.data: generators, splitting, scaling, CSV loading, the shipped dataset."""

import numpy as np
import pytest

from autograd_lite import data


def test_moons_shape_labels_and_geometry():
    X, y = data.make_moons(201, seed=0)
    assert X.shape == (201, 2) and y.shape == (201,)
    assert (y == 0).sum() == 100 and (y == 1).sum() == 101
    outer, inner = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(*outer.T), 1.0)                               # (cos t, sin t)
    assert np.allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0)     # (1 − cos t, ½ − sin t)
    assert (outer[:, 1] >= -1e-12).all() and (inner[:, 1] <= 0.5 + 1e-12).all()
    a, b = data.make_moons(50, noise=0.1, seed=3), data.make_moons(50, noise=0.1, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], data.make_moons(50, noise=0.1, seed=4)[0])


def test_circles_radii():
    X, y = data.make_circles(100, factor=0.3, seed=0)
    r = np.hypot(*X.T)
    assert np.allclose(r[y == 0], 1.0) and np.allclose(r[y == 1], 0.3)
    Xn, _ = data.make_circles(100, noise=0.05, factor=0.3, seed=0)
    assert not np.allclose(np.hypot(*Xn.T)[y == 0], 1.0)
    with pytest.raises(ValueError, match="factor"):
        data.make_circles(10, factor=1.5)


def test_blobs():
    X, y = data.make_blobs(300, centers=[[0, 0], [10, 10], [-10, 5]], cluster_std=0.5, seed=1)
    assert X.shape == (300, 2) and np.bincount(y).tolist() == [100, 100, 100]
    assert np.allclose(X[y == 1].mean(axis=0), [10, 10], atol=0.2)
    X3, y3 = data.make_blobs(10, centers=4, n_features=3, seed=0)
    assert X3.shape == (10, 3) and sorted(np.bincount(y3).tolist()) == [2, 2, 3, 3]


@pytest.mark.parametrize("call", [lambda: data.make_moons(-1), lambda: data.make_moons(10, noise=-1),
                                  lambda: data.make_blobs(0)])
def test_generator_errors(call):
    with pytest.raises(ValueError):
        call()
    with pytest.raises(TypeError):
        data.make_moons(10.5)


def test_train_test_split():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(Xte) == 5 and len(Xtr) == 15
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(20))
    assert (Xtr[:, 0] == 2 * ytr).all() and (Xte[:, 0] == 2 * yte).all()   # rows stay together
    again = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert np.array_equal(again[3], yte)
    assert len(data.train_test_split(X, y, test_size=3)[1]) == 3
    with pytest.raises(ValueError, match="same number of rows"):
        data.train_test_split(X, y[:5])
    with pytest.raises(ValueError):
        data.train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="at least one"):
        data.train_test_split(X, y, test_size=20)


def test_standardize_uses_training_statistics_and_is_safe_for_constant_columns():
    rng = np.random.default_rng(0)
    A = np.column_stack([rng.normal(5, 3, 100), np.full(100, 7.0)])
    B = np.column_stack([rng.normal(5, 3, 10), np.full(10, 8.0)])
    As, Bs, mu, sd = data.standardize(A, B)
    assert np.allclose(As.mean(axis=0), 0) and np.isclose(As[:, 0].std(), 1)
    assert (As[:, 1] == 0).all() and sd[1] == 0 and np.isfinite(Bs).all()
    assert np.allclose(Bs[:, 0], (B[:, 0] - A[:, 0].mean()) / A[:, 0].std())
    assert np.allclose(Bs[:, 1], 1.0)  # (8 − 7)/1: scale 1 where σ = 0
    Xs, mu2, sd2 = data.standardize(A)
    assert np.array_equal(Xs, As) and np.array_equal(mu, mu2)
    with pytest.raises(ValueError, match="columns"):
        data.standardize(A, B[:, :1])


def test_standardize_matches_sklearn():
    sklearn = pytest.importorskip("sklearn.preprocessing")
    X, _, _ = data.load_breast_cancer()
    assert np.allclose(data.standardize(X)[0], sklearn.StandardScaler().fit_transform(X), atol=1e-12)


def _write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_load_csv_ok(tmp_path):
    p = _write(tmp_path, "a,b,label\n1,2.5,0\n-3,4e-1,1\n")
    X, y, names = data.load_csv(p, target="label")
    assert names == ["a", "b"] and X.tolist() == [[1.0, 2.5], [-3.0, 0.4]] and y.tolist() == [0, 1]
    assert y.dtype.kind == "i"
    X2, y2, names2 = data.load_csv(p, target=0, binary=False)
    assert names2 == ["b", "label"] and y2.tolist() == [1.0, -3.0]
    assert data.load_csv(p)[2] == ["a", "b"]  # default target: the last column


def test_load_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        data.load_csv(tmp_path / "nope.csv", target="y")
    p = _write(tmp_path, "a,b,label\n1,2,0\n")
    with pytest.raises(ValueError, match="no column named 'y'.*a, b, label"):
        data.load_csv(p, target="y")
    p = _write(tmp_path, "a,b,label\n1,2,0\n3,x7,1\n")
    with pytest.raises(ValueError, match=r"line 3 \(data row 2\), column 'b': 'x7' is not a number"):
        data.load_csv(p, target="label")
    p = _write(tmp_path, "a,b,label\n1,,0\n")
    with pytest.raises(ValueError, match="column 'b': an empty cell"):
        data.load_csv(p, target="label")
    p = _write(tmp_path, "a,b,label\n1,2,0\n1,2,2\n1,2,0.5\n")
    with pytest.raises(ValueError, match="must be 0 or 1; found 0.5, 2"):
        data.load_csv(p, target="label")
    assert data.load_csv(p, target="label", binary=False)[1].tolist() == [0, 2, 0.5]
    p = _write(tmp_path, "a,b,label\n1,2\n")
    with pytest.raises(ValueError, match="line 2 has 2 cells"):
        data.load_csv(p, target="label")
    p = _write(tmp_path, "")
    with pytest.raises(ValueError, match="empty"):
        data.load_csv(p)
    p = _write(tmp_path, "a,label\n1,nan\n")
    with pytest.raises(ValueError, match="finite"):
        data.load_csv(p)


def test_shipped_breast_cancer():
    X, y, names = data.load_breast_cancer()
    assert X.shape == (569, 30) and y.shape == (569,)
    assert int(y.sum()) == 212  # 212 malignant (1), 357 benign (0)
    assert names[0] == "mean radius" and names[-1] == "worst fractal dimension"
    assert np.isfinite(X).all() and (X >= 0).all()
    # malignant tumours are bigger on average
    r = names.index("mean radius")
    assert X[y == 1, r].mean() > X[y == 0, r].mean() + 3
    skd = pytest.importorskip("sklearn.datasets")
    ref = skd.load_breast_cancer()
    assert np.array_equal(X, ref.data) and np.array_equal(y, 1 - ref.target)


def test_dataset_readme_states_source_and_licence():
    from importlib import resources

    text = resources.files("autograd_lite").joinpath("datasets", "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "UCI" in text and "Wolberg" in text and "1 = malignant" in text
