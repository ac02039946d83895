"""Checking the Labeler's arguments against its session, with errors that name the argument.

The session has already resolved its classes and checked its labels: these
checks only ask it, so the Labeler never re-derives an engine rule.
"""

from __future__ import annotations

import numpy as np

from alwidgets._validation import InvalidParameterError, check_label_value, match_class
from alwidgets.engine import training

__all__ = ["resolve_classes", "check_multi_label", "check_y_true"]


def resolve_classes(session, classes):
    """The classes in button order: ``session.classes``, or those given (each one of the session's, if known)."""
    if not session.is_classifier:
        if classes is not None:
            raise InvalidParameterError("classes is for classifiers; this session's model is a regressor, so leave it out")
        return None
    known = session.classes
    if classes is None:
        if known is None:
            raise ValueError(
                "the Labeler needs the classes a person can choose from: pass classes=[...] (e.g. "
                "classes=['cat', 'dog']), or give the Session classes=... or a labeled test set"
            )
        return list(known)
    classes = [check_label_value(c) for c in classes]
    if known is not None:  # each must be one of the session's, by the engine's rule ("1" is not class 1)
        unknown = []
        for i, c in enumerate(classes):
            try:
                classes[i] = match_class(c, known)
            except ValueError:
                unknown.append(c)
        if unknown:
            raise InvalidParameterError(f"classes {unknown!r} are not among the session's classes {known!r}")
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise InvalidParameterError(f"classes must hold at least two different labels; got {classes!r}")
    return classes


def check_multi_label(session, multi_label, batch_size) -> bool:
    session_multi = bool(getattr(session, "multi_label", False))
    if multi_label is None:
        multi_label = session_multi
    if bool(multi_label) != session_multi:
        raise InvalidParameterError(f"multi_label={multi_label!r} does not match the session: create it with "
                         f"Session(..., multi_label={bool(multi_label)})")
    if multi_label and batch_size != 1:
        raise InvalidParameterError("a multi-label Labeler shows one item at a time: leave batch_size at 1")
    return bool(multi_label)


def check_y_true(session, y_true, multi_label: bool):
    if y_true is None:
        return None
    if multi_label:  # label sets or an indicator matrix: one set per pool item
        sets = training.label_sets(y_true, session.classes)
        if len(sets) != session.n_pool:
            raise ValueError(f"y_true must hold one label set per pool item ({session.n_pool}); got {len(sets)}")
        return sets
    y_true = np.asarray(y_true)
    if y_true.ndim != 1 or len(y_true) != session.n_pool:
        raise ValueError(
            f"y_true must hold one true label per pool item ({session.n_pool}); got shape {y_true.shape}"
        )
    return y_true
