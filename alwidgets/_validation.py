"""Small checks and conversions shared by the engine modules."""

from __future__ import annotations

import numpy as np


def check_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int; TypeError if it is not an integer, ValueError if below ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def n_rows(X) -> int:
    """How many items an array, DataFrame, sparse matrix or list holds."""
    return X.shape[0] if hasattr(X, "shape") else len(X)


def to_plain(value):
    """A label as a plain Python value (numpy scalars become int/float/str)."""
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value
