"""Checks and conversions shared by every layer: one place, one error type for a bad parameter."""

from __future__ import annotations

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """A parameter with a wrong type or value, named in the message.

    A subclass of both ValueError and TypeError (as scikit-learn's error of the
    same name is), so callers that catch either keep working.
    """


def check_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int; :class:`InvalidParameterError` naming ``name`` if it is not an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise InvalidParameterError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def check_bool(value, name: str) -> bool:
    """``value`` as a bool; :class:`InvalidParameterError` naming ``name`` if it is not True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices) -> object:
    """``value`` if it is one of ``choices``; :class:`InvalidParameterError` naming ``name`` and them otherwise."""
    if not any((type(value) is type(c) or isinstance(value, str) and isinstance(c, str)) and value == c
               for c in choices):
        raise InvalidParameterError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


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
    if isinstance(value, LabelSet):  # a multi-label item's set of classes: its members must be plain labels
        if any(isinstance(v, frozenset) for v in value):
            raise TypeError(f"label set {value!r} holds a set: its members must be str, int, float or bool")
        return LabelSet(check_label_value(v) for v in value)
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


class LabelSet(frozenset):
    """The label of a multi-label item: the set of classes that apply (possibly none).

    A frozenset, so it is hashable and votes on it can be counted. Its members
    are plain labels (str, int, float, bool). Stores write it as the JSON
    object ``{"labels": [...]}`` with the members sorted (:func:`label_to_json`),
    so that a JSON list, which no label may be, still reads as invalid.
    """

    def sorted(self) -> list:
        """The members in a stable order (by their JSON text)."""
        import json

        return sorted(self, key=lambda v: (type(v).__name__, json.dumps(v)))

    def __repr__(self) -> str:
        return f"LabelSet({self.sorted()!r})"


def check_label_set(value, classes=None) -> LabelSet:
    """``value`` (a set, frozenset, list or tuple of classes) as a :class:`LabelSet`.

    With ``classes`` each member must be one of them (see :func:`match_class`).
    Raises TypeError for anything that is not a collection (a single string is
    refused: ``"ab"`` is not ``{"a", "b"}``), ValueError for a member named twice
    or not among ``classes``. The empty set is allowed: it says that no class applies.
    """
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (set, frozenset, list, tuple, np.ndarray)):
        raise TypeError(
            f"a multi-label item's label must be a set of classes, e.g. {{'a', 'b'}} or [] for none; got {value!r}"
        )
    members = list(value.tolist() if isinstance(value, np.ndarray) else value)
    plain = [match_class(m, classes) if classes is not None else check_label_value(m) for m in members]
    if len(set(plain)) != len(plain):
        raise ValueError(f"label set {value!r} names a class more than once")
    return LabelSet(plain)


def label_to_json(label) -> str | None:
    """The JSON text a store keeps for ``label``: the label itself, or ``{"labels": [...]}`` for a set."""
    import json

    if label is None:
        return None
    if isinstance(label, LabelSet):
        return json.dumps({"labels": label.sorted()})
    return json.dumps(label)


def label_from_json(raw: str):
    """The label a store's JSON text holds; TypeError or ValueError if it holds no label."""
    import json

    value = json.loads(raw)
    if isinstance(value, dict) and set(value) == {"labels"} and isinstance(value["labels"], list):
        return check_label_set(value["labels"])
    return check_label_value(value)


def shorten(text, limit: int = 80) -> str:
    """``text`` cut to its first ``limit`` characters, saying how long it was: a stored value may be huge."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"
