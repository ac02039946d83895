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


LABEL_TYPES = (str, int, float, bool)


def check_label_value(value):
    """``value`` as a plain ``str``, ``int``, ``float`` or ``bool`` (numpy scalars of those are converted).

    Raises TypeError naming the value for anything else (a list, a dict, None,
    an array...), and ValueError for a float that is NaN or infinite. These are
    the labels a store can hold, compare and count.
    """
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not np.isfinite(value):
            raise ValueError(f"label must be a finite number; got {value!r}")
        return float(value)
    if isinstance(value, str):
        return str(value)
    raise TypeError(
        f"label {value!r} (a {type(value).__name__}) cannot be stored: a label must be a str, int, float or bool"
    )


def match_class(value, classes):
    """The declared class ``value`` stands for; ValueError listing ``classes`` if there is none, or more than one.

    A label of the same type and value as a class is that class. Otherwise a
    number or boolean matches the one class that is numerically equal to it:
    ``True``, ``1.0`` and ``np.int64(1)`` are class ``1`` of ``[0, 1]``. Strings
    only ever match equal strings (``"1"`` is not class ``1``). A label equal to
    two classes (``1`` with classes ``[True, 1]``) is refused as ambiguous.
    """
    value = check_label_value(value)
    declared = [check_label_value(c) for c in classes]
    for c in declared:
        if type(c) is type(value) and c == value:
            return c
    same = [] if isinstance(value, str) else [c for c in declared if not isinstance(c, str) and c == value]
    if len(same) == 1:
        return same[0]
    if same:
        raise ValueError(f"label {value!r} is ambiguous: it equals each of the classes {same}; "
                         f"give one of {declared} exactly")
    raise ValueError(f"label {value!r} is not one of the known classes {declared}")


def normalize_name(name) -> str:
    """An annotator name in Unicode NFKC form, without surrounding spaces.

    Look-alike spellings become one: full-width ``"ａｌｉｃｅ"`` is ``"alice"``.
    """
    import unicodedata

    return unicodedata.normalize("NFKC", "" if name is None else str(name)).strip()
