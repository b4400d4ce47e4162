"""scikit-learn's bundled digits: 1,797 images of 8 x 8 pixels (values 0-16), ten classes, shipped inside the
scikit-learn package (``sklearn/datasets/data/digits.csv.gz``), so nothing is downloaded at run time.

The only module of the package that needs scikit-learn (a declared dependency, see
``pyproject.toml``): it reads the file from the installed package, without importing it.

>>> X, y = load()
>>> X.shape, int(y.max()) + 1, float(X.max())
((1797, 64), 10, 1.0)
>>> tr, va, te = split(seed=0, per_class=3, val_per_class=50)
>>> len(tr), len(va), len(te), len(set(tr.tolist()) | set(va.tolist()) | set(te.tolist()))
(30, 500, 1267, 1797)
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["NUM_CLASSES", "MIN_TEST_PER_CLASS", "data_file", "load", "split"]

#: The digits 0-9.
NUM_CLASSES = 10
#: The fewest test images of each digit a split leaves (the smallest class has 174 images).
MIN_TEST_PER_CLASS = 50


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


def split(seed: int, per_class: int, val_per_class: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded, stratified split into training, validation and test indices: ``per_class`` training and
    ``val_per_class`` validation images of each digit, the rest (at least :data:`MIN_TEST_PER_CLASS` of each) for
    testing. Every seed's test split has the same size (the counts per digit are fixed), so seeds stack.

    Used in: chapter 5 (derivations.chapters.ch5.worked)
    """
    _, y = load()
    counts = np.bincount(y, minlength=NUM_CLASSES)
    if per_class < 1 or val_per_class < 1 or per_class + val_per_class > counts.min() - MIN_TEST_PER_CLASS:
        raise ValueError(f"per_class and val_per_class must be >= 1 and leave {MIN_TEST_PER_CLASS} test images of "
                         f"each digit (per_class + val_per_class <= {counts.min() - MIN_TEST_PER_CLASS}); got "
                         f"{per_class} and {val_per_class}")
    rng = np.random.default_rng([seed, 0])
    parts = [rng.permutation(np.flatnonzero(y == c)) for c in range(NUM_CLASSES)]
    tr = np.sort(np.concatenate([p[:per_class] for p in parts]))
    va = np.sort(np.concatenate([p[per_class:per_class + val_per_class] for p in parts]))
    te = np.sort(np.concatenate([p[per_class + val_per_class:] for p in parts]))
    return tr, va, te
