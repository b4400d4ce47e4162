"""The digits: 1,797 images of 8 x 8 pixels (values 0-16), ten classes, the test set of the UCI optical recognition
of handwritten digits data (Alpaydin and Kaynak, 1998), as scikit-learn bundles it (``load_digits``). The file ships
inside this package (``digits.csv.gz``, 57 KB, byte for byte scikit-learn's ``sklearn/datasets/data/digits.csv.gz``;
its source and credit: ``digits.md`` beside it), so nothing is downloaded at run time and scikit-learn is not needed
(``tests/test_ch5.py`` compares the two).

>>> X, y = load()
>>> X.shape, int(y.max()) + 1, float(X.max())
((1797, 64), 10, 1.0)
>>> tr, va, te = split(seed=0, per_class=3, val_per_class=50)
>>> len(tr), len(va), len(te), len(set(tr.tolist()) | set(va.tolist()) | set(te.tolist()))
(30, 500, 1267, 1797)
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["NUM_CLASSES", "MIN_TEST_PER_CLASS", "data_file", "load", "split"]

#: The digits 0-9.
NUM_CLASSES = 10
#: The fewest test images of each digit a split leaves (the smallest class has 174 images).
MIN_TEST_PER_CLASS = 50


def data_file() -> Path:
    """``digits.csv.gz`` in this package: 64 pixels and the label per row, comma-separated."""
    return Path(__file__).with_name("digits.csv.gz")


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
