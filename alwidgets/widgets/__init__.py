"""Jupyter widgets over a Session: the only part of alwidgets that imports ipywidgets.

:class:`Labeler` is the widget a person labels with; :mod:`views` holds the
ways an item can be shown.
"""

from . import views
from .labeler import Labeler

__all__ = ["Labeler", "views"]
