"""Views: how one pool item is shown to the person labeling it.

A view is any callable ``view(session, idx) -> widget``. The built-in views
are small classes so that they can also draw a thumbnail for batch mode
(``view.thumbnail(session, idx)``); a plain function works too and is used
for thumbnails as it is.

    >>> import alwidgets as alw
    >>> alw.views.image()                       # rows of pixels, shape guessed
    >>> alw.views.image(images=data.images)     # or the pictures themselves
    >>> alw.views.image(images=["a.png", ...])  # or image files
    >>> alw.views.text(), alw.views.table(), alw.views.regression_point(), alw.views.point()
    >>> alw.views.auto(session)                 # what the Labeler picks by itself

Every text that comes from the data is HTML-escaped: a review containing
``<script>`` or ``<img onerror=...>`` is shown as text and never runs.
"""

from __future__ import annotations

import html
import io
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from alwidgets._learners import take_rows
from alwidgets._validation import InvalidParameterError
from alwidgets.engine.pool import _is_text as is_text_pool  # the engine's rule; private there (see pool.py)

__all__ = [
    "View",
    "ImageView",
    "TextView",
    "TableView",
    "RegressionPointView",
    "PointView",
    "image",
    "text",
    "table",
    "regression_point",
    "point",
    "auto",
    "get",
    "image_png",
    "png_size",
]

IMAGE_SIZE = 224  # pixels on screen for the main image
THUMBNAIL_SIZE = 96


class View:
    """Base class of the built-in views: ``__call__`` for the main view, ``thumbnail`` for batch mode."""

    name = "view"

    def __call__(self, session, idx: int) -> widgets.Widget:
        raise NotImplementedError

    def thumbnail(self, session, idx: int) -> widgets.Widget:
        """A small version for a grid of items; by default the main view."""
        return self(session, idx)

    def __repr__(self) -> str:
        return f"alw.views.{self.name}()"


# ---------------------------------------------------------------------- images


def image_png(picture, size: int = IMAGE_SIZE) -> bytes:
    """A PNG of ``picture`` enlarged with nearest-neighbour sampling, so pixels stay crisp.

    ``picture`` is an array (height, width) or (height, width, 3 or 4) with
    values in [0, 1] or [0, 255], or the path of an image file. Small pictures
    are enlarged by a whole factor to about ``size`` pixels (an 8x8 digit
    becomes 224x224 blocks, not a blur); large files are shrunk to fit.
    """
    from PIL import Image

    if isinstance(picture, (str, Path)):
        with Image.open(picture) as im:
            im = im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB")
            im.load()
    else:
        im = Image.fromarray(_to_uint8(np.asarray(picture)))
    width, height = im.size
    longest = max(width, height)
    if longest < size:
        factor = max(1, size // longest)
        im = im.resize((width * factor, height * factor), Image.Resampling.NEAREST)
    elif longest > size:
        scale = size / longest
        im = im.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    im.save(buffer, format="PNG")
    return buffer.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, read from its header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _to_uint8(array: np.ndarray) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(
            f"an image must have shape (height, width) or (height, width, 3 or 4); got {array.shape}"
        )
    if array.dtype == np.uint8:
        return array
    array = np.asarray(array, dtype=float)
    if array.size and np.nanmax(array) > 1.0:
        array = array / 255.0
    return (np.clip(np.nan_to_num(array), 0.0, 1.0) * 255).round().astype(np.uint8)


def _square_side(n_features: int) -> tuple[int, ...] | None:
    """The picture shape of a flattened row of ``n_features`` pixels, if it is square."""
    for channels in (1, 3):
        if n_features % channels:
            continue
        side = math.isqrt(n_features // channels)
        if side >= 4 and side * side * channels == n_features:
            return (side, side) if channels == 1 else (side, side, 3)
    return None


class ImageView(View):
    """Show an image, enlarged with crisp pixels.

    Parameters
    ----------
    images : array of shape (n, h, w[, c]), sequence of file paths, or None
        One picture per pool item. None: reshape the pool's rows (flattened
        pixels, e.g. 64 for 8x8 digits or 784 for 28x28 MNIST) to ``shape``.
    shape : tuple, optional
        The picture shape of one pool row; guessed when the row is square.
    size : int
        About how many screen pixels the longest side gets.
    """

    name = "image"

    def __init__(self, images=None, *, shape: tuple[int, ...] | None = None, size: int = IMAGE_SIZE):
        if images is not None and not isinstance(images, (str, Path)):
            if not isinstance(images, np.ndarray) and len(images) and isinstance(images[0], (str, Path)):
                images = [Path(p) for p in images]
            else:
                images = np.asarray(images)
                if images.ndim not in (3, 4):
                    raise ValueError(
                        "images must be an array of shape (n, height, width[, channels]) or a list of image "
                        f"file paths; got an array of shape {images.shape}"
                    )
        elif isinstance(images, (str, Path)):
            raise ValueError("images must be one picture or file path per pool item, not a single path")
        self.images = images
        self.shape = tuple(shape) if shape is not None else None
        self.size = int(size)
        self._scale: float | None = None

    def picture(self, session, idx: int):
        """The picture of item ``idx``: an array ready for :func:`image_png`, or a file path."""
        if self.images is not None:
            if len(self.images) != session.n_pool:
                raise ValueError(
                    f"images has {len(self.images)} pictures but the session's pool has {session.n_pool} items"
                )
            return self.images[idx]
        row = _row_values(session.X_pool, idx)
        shape = self.shape or _square_side(row.size)
        if shape is None:
            raise ValueError(
                f"cannot show a pool row of {row.size} values as an image: it is not square; "
                "pass alw.views.image(shape=(height, width)) or images=..."
            )
        if self._scale is None:  # one scale for the whole pool, so brightness means the same everywhere
            pool_max = float(np.max(session.X_pool)) if not hasattr(session.X_pool, "toarray") else 1.0
            self._scale = 1.0 if pool_max <= 1.0 else (255.0 if pool_max > 16 else pool_max)
        return row.reshape(shape) / self._scale

    def __call__(self, session, idx: int) -> widgets.Widget:
        return self._widget(session, idx, self.size)

    def thumbnail(self, session, idx: int) -> widgets.Widget:
        return self._widget(session, idx, THUMBNAIL_SIZE)

    def _widget(self, session, idx: int, size: int) -> widgets.Widget:
        png = image_png(self.picture(session, idx), size=size)
        width, height = png_size(png)
        # Exactly the PNG's size: a flex box would otherwise stretch it, and the browser would blur the blocks.
        layout = widgets.Layout(width=f"{width}px", height=f"{height}px", align_self="flex-start", object_fit="contain")
        picture = widgets.Image(value=png, format="png", layout=layout)
        picture.add_class("alw-picture")
        return picture


# ---------------------------------------------------------------------- texts


_LINE_HEIGHT = 1.45  # of a text, in em


def _lines(n: int) -> str:
    """The CSS height of ``n`` lines of a text."""
    return f"{n * _LINE_HEIGHT:g}em"


class TextView(View):
    """Show a text, HTML-escaped, in a box that scrolls when the text is long.

    Parameters
    ----------
    texts : sequence of str, optional
        One text per pool item; default: the pool itself (a list of texts).
    max_height : str
        CSS height after which the text scrolls; the default is 9 whole lines
        (a box cut at a line's edge, never through a line).
    """

    name = "text"

    def __init__(self, texts: Sequence[str] | None = None, *, max_height: str = _lines(9)):
        self.texts = texts
        self.max_height = max_height

    def text_of(self, session, idx: int) -> str:
        source = self.texts if self.texts is not None else session.X_pool
        if hasattr(source, "iloc"):
            return str(source.iloc[idx])
        return str(source[idx])

    def __call__(self, session, idx: int) -> widgets.Widget:
        return self._widget(session, idx, self.max_height)

    def thumbnail(self, session, idx: int) -> widgets.Widget:
        return self._widget(session, idx, _lines(4))

    def _widget(self, session, idx: int, max_height: str) -> widgets.Widget:
        body = html.escape(self.text_of(session, idx), quote=True)
        # Wrapped inside the page's width (a long word or address breaks too). The box scrolls below its
        # height, a whole number of lines: a vertical padding under half the gap between lines shows
        # none of the next line. No width: a width of 100% plus the widget's margins ran past the page's edge.
        box = widgets.HTML(
            f'<div class="alw-text" style="max-height:{max_height};overflow-y:auto;white-space:pre-wrap;'
            f'overflow-wrap:anywhere;box-sizing:content-box;line-height:{_LINE_HEIGHT};padding:0.2em 0.6em;'
            f'border:1px solid #ddd;border-radius:4px">{body}</div>'
        )
        return box


# ---------------------------------------------------------------------- tables and points


def _row_values(X, idx: int) -> np.ndarray:
    """The values of pool row ``idx``, flat: the engine picks the row (:func:`alwidgets._learners.take_rows`)."""
    row = take_rows(X, [idx])
    return np.asarray(row.toarray() if hasattr(row, "toarray") else row).ravel()


def _feature_names(X, n: int, names=None) -> list[str]:
    if names is not None:
        return [str(c) for c in names]
    if hasattr(X, "columns"):
        return [str(c) for c in X.columns]
    return [f"x{j}" for j in range(n)]


def _format(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


class TableView(View):
    """Show a pool row as a small two-column table: feature, value.

    Parameters
    ----------
    columns : sequence of str, optional
        Feature names; default: the DataFrame's columns, or x0, x1, ...
    max_rows : int
        Show at most this many features (the rest are counted).
    """

    name = "table"

    def __init__(self, columns: Sequence[str] | None = None, *, max_rows: int = 30):
        self.columns = columns
        self.max_rows = int(max_rows)

    def __call__(self, session, idx: int) -> widgets.Widget:
        values = _row_values(session.X_pool, idx)
        names = _feature_names(session.X_pool, len(values), self.columns)
        shown = min(len(values), self.max_rows)
        rows = "".join(
            f"<tr><th style='text-align:left;padding:1px 10px 1px 0;font-weight:normal;color:#555'>"
            f"{html.escape(names[j])}</th><td style='padding:1px 0'>{html.escape(_format(values[j]))}</td></tr>"
            for j in range(shown)
        )
        more = (
            f"<tr><td colspan='2' style='color:#777'>… and {len(values) - shown} more</td></tr>"
            if len(values) > shown
            else ""
        )
        return widgets.HTML(
            f"<div style='max-height:16em;overflow-y:auto'><table class='alw-table'>{rows}{more}</table></div>"
        )


class RegressionPointView(View):
    """Show the x of a regression query; the live GP plot marks it and the person types y."""

    name = "regression_point"

    def __call__(self, session, idx: int) -> widgets.Widget:
        values = _row_values(session.X_pool, idx)
        names = _feature_names(session.X_pool, len(values))
        where = ", ".join(f"{html.escape(n)} = {html.escape(_format(v))}" for n, v in zip(names, values, strict=True))
        return widgets.HTML(
            f"<div style='font-size:1.25em'><b>{where}</b></div>"
            "<div style='color:#666'>marked on the plot below: what is y here?</div>"
        )


class PointView(View):
    """Show a 2-D point by its coordinates; the decision-boundary plot rings it."""

    name = "point"

    def __call__(self, session, idx: int) -> widgets.Widget:
        values = _row_values(session.X_pool, idx)
        coords = ", ".join(html.escape(_format(v)) for v in values)
        return widgets.HTML(
            f"<div style='font-size:1.25em'><b>({coords})</b></div>"
            "<div style='color:#666'>ringed on the decision-boundary plot below</div>"
        )


# ---------------------------------------------------------------------- factories


def image(images=None, *, shape: tuple[int, ...] | None = None, size: int = IMAGE_SIZE) -> ImageView:
    """An image view (see :class:`ImageView`)."""
    return ImageView(images, shape=shape, size=size)


def text(texts: Sequence[str] | None = None, *, max_height: str = _lines(9)) -> TextView:
    """A text view (see :class:`TextView`)."""
    return TextView(texts, max_height=max_height)


def table(columns: Sequence[str] | None = None, *, max_rows: int = 30) -> TableView:
    """A table-row view (see :class:`TableView`)."""
    return TableView(columns, max_rows=max_rows)


def regression_point() -> RegressionPointView:
    """A regression-point view (see :class:`RegressionPointView`)."""
    return RegressionPointView()


def point() -> PointView:
    """A 2-D point view (see :class:`PointView`)."""
    return PointView()


_BY_NAME: dict[str, Callable[[], View]] = {
    "image": image,
    "text": text,
    "table": table,
    "regression_point": regression_point,
    "point": point,
}


def auto(session) -> Callable:
    """The view that suits the session's pool.

    Texts -> text; a DataFrame -> table; one feature and a regressor ->
    regression point; two numeric features -> 2-D point; a square number of
    features (64, 784, ...) -> image; anything else -> table.
    """
    X = session.X_pool  # checked by the engine (check_pool): an ndarray, a DataFrame, a CSR matrix or texts
    pd = sys.modules.get("pandas")  # not imported: X is no DataFrame
    if pd is not None and isinstance(X, pd.DataFrame):
        return table()
    if not hasattr(X, "toarray") and is_text_pool(X):
        return text()
    n_features = int(np.prod(X.shape[1:])) if hasattr(X, "shape") and len(X.shape) > 1 else 1
    if n_features == 1 and not session.is_classifier:
        return regression_point()
    if n_features == 2:
        return point()
    if _square_side(n_features) is not None and n_features >= 36:
        return image()
    return table()


def get(view, session) -> Callable:
    """Resolve the Labeler's ``view=`` argument: None (auto), a name, or a callable."""
    if view is None:
        return auto(session)
    if isinstance(view, str):
        try:
            return _BY_NAME[view]()
        except KeyError:
            raise InvalidParameterError(
                f"unknown view {view!r}; use one of {sorted(_BY_NAME)}, None to pick from the data, "
                "or a callable view(session, idx) -> widget"
            ) from None
    if callable(view):
        return view
    raise InvalidParameterError(
        f"view must be None, a name such as 'image', or a callable view(session, idx) -> widget; got {view!r}")
