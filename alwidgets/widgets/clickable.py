"""A PNG image that tells Python where it was clicked.

``ipywidgets.Image`` shows the plots of alwidgets everywhere (JupyterLab,
Notebook 7, VS Code, Voila), but reports no clicks. :class:`ClickableImage`
is the same picture as a tiny anywidget: its ES module draws the PNG bytes as
an ``<img>`` and, on a click, sends the position in the PNG's own pixels
(origin top-left, as matplotlib's :func:`alwidgets.plots.pixel_to_data`
expects) to Python, which calls the callbacks registered with
:meth:`ClickableImage.on_click`. The picture may be scaled by CSS (a panel a
third of the page wide): the module converts the click back to the image's
natural pixels. anywidget ships its front-end code inside its Python package,
so nothing is fetched from the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import anywidget
import traitlets
from ipywidgets import CallbackDispatcher

from alwidgets.widgets._guard import call_apart, guarded

__all__ = ["ClickableImage"]

_ESM = r"""
function render({ model, el }) {
  el.classList.add("alw-clickable");
  const img = document.createElement("img");
  img.style.display = "block";
  img.style.width = "100%";      // scaled with the widget's layout; clicks are mapped back below
  img.style.height = "auto";
  img.style.cursor = "crosshair";
  el.appendChild(img);

  let url = null;
  const show = () => {
    const bytes = model.get("value");   // a DataView of the PNG bytes
    if (url) URL.revokeObjectURL(url);  // the previous frame is no longer shown
    url = null;
    if (bytes && bytes.byteLength) {
      url = URL.createObjectURL(new Blob([bytes], { type: "image/" + model.get("format") }));
      img.src = url;
    } else {
      img.removeAttribute("src");
    }
    img.alt = model.get("description");
    img.title = model.get("description");
  };

  const onClick = (event) => {
    const box = img.getBoundingClientRect();
    if (!img.naturalWidth || !box.width || !box.height) return;  // nothing drawn yet
    // From CSS pixels on the page to the PNG's own pixels, origin top-left.
    const x = (event.clientX - box.left) * (img.naturalWidth / box.width);
    const y = (event.clientY - box.top) * (img.naturalHeight / box.height);
    model.send({ event: "click", x, y });
  };

  show();
  model.on("change:value", show);
  model.on("change:description", show);
  img.addEventListener("click", onClick);
  return () => {
    img.removeEventListener("click", onClick);
    model.off("change:value", show);
    model.off("change:description", show);
    if (url) URL.revokeObjectURL(url);
  };
}

export default { render };
"""


class ClickableImage(anywidget.AnyWidget):
    """An image widget, like ``ipywidgets.Image``, that calls ``on_click`` callbacks with ``(x, y)``.

    Parameters
    ----------
    value : bytes
        The picture (PNG by default), e.g. from :func:`alwidgets.plots.figure_to_png`.
    format : str, default="png"
        The image type of ``value``, as in ``ipywidgets.Image``.
    description : str
        Shown as the picture's alternative text and tooltip.

    Notes
    -----
    ``x`` and ``y`` count the picture's own pixels from its top-left corner,
    whatever size CSS shows it at.
    """

    _esm = _ESM
    value = traitlets.Bytes(b"").tag(sync=True)
    format = traitlets.Unicode("png").tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._click_handlers = CallbackDispatcher()
        self.errors: list[str] = []  # what the guard reported about the messages themselves
        self.on_msg(self._receive)

    def on_click(self, callback: Callable[[float, float], None], remove: bool = False) -> None:
        """Call ``callback(x, y)`` when the picture is clicked (``remove=True`` unregisters it)."""
        self._click_handlers.register_callback(callback, remove=remove)

    def click(self, x: float, y: float) -> None:
        """Act as if the picture were clicked at pixel ``(x, y)``: what a click in the browser does."""
        self._click_handlers(float(x), float(y))

    @guarded("click")
    def _receive(self, _widget, content, _buffers) -> None:
        """A click from the browser; the callbacks run under their own widgets' guards (``call_apart``)."""
        if not isinstance(content, dict) or content.get("event") != "click":
            return
        x, y = content.get("x"), content.get("y")
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y))
        if numbers and math.isfinite(x) and math.isfinite(y):
            call_apart(self.click, x, y)

    def _show_problem(self, message: str, error: BaseException) -> None:
        """What the guard calls for a message it could not handle: logged and kept in :attr:`errors`.

        The picture has no words of its own; the widget that registered
        ``on_click`` says its problems on its own page.
        """
