"""scikit-learn's bundled digits: 1,797 images of 8 x 8 pixels (values 0-16), ten classes, shipped inside the
scikit-learn package (``sklearn/datasets/data/digits.csv.gz``), so nothing is downloaded at run time.

The only module of the package that needs scikit-learn (a declared dependency, see
``pyproject.toml``): it reads the file from the installed package, without importing it.

>>> X, y = load()
>>> X.shape, int(y.max()) + 1, float(X.max())
((1797, 64), 10, 1.0)
>>> tr, te = split(len(y), 120, seed=0)
>>> len(tr), len(te), len(set(tr.tolist()) & set(te.tolist()))
(120, 1677, 0)
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["NUM_CLASSES", "data_file", "load", "split"]

#: The digits 0-9.
NUM_CLASSES = 10


def data_file() -> Path:
    """``digits.csv.gz`` inside the installed scikit-learn, found without importing scikit-learn (whose import,
    SciPy's included, takes longer than reading the 1,797 rows): the same file ``sklearn.datasets.load_digits``
    reads (``tests/test_mlp.py`` compares them)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("chapter 5 needs scikit-learn's bundled digits: pip install scikit-learn")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"


@lru_cache(maxsize=1)
def load() -> tuple[np.ndarray, np.ndarray]:
    """The images as rows of 64 pixels scaled to [0, 1], and their labels 0-9 (read-only arrays)."""
    data = np.loadtxt(data_file(), delimiter=",")
    X, y = data[:, :-1] / 16.0, data[:, -1].astype(int)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def split(n: int, n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of ``range(n)``: ``n_train`` training indices, the rest held out.

    Stratified: the training set takes ``n_train / 10`` images of each digit when the
    labels are the digits' (:func:`load`), so every class is seen equally often.
    """
    if not 10 <= n_train <= n - 10:
        raise ValueError(f"n_train must be in [10, {n - 10}]; got {n_train}")
    rng = np.random.default_rng([seed, 0])
    _, y = load()
    if n == len(y) and n_train % NUM_CLASSES == 0:
        per = n_train // NUM_CLASSES
        tr = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per] for c in range(NUM_CLASSES)])
        tr = np.sort(tr)
    else:
        tr = np.sort(rng.permutation(n)[:n_train])
    te = np.setdiff1d(np.arange(n), tr)
    return tr, te
