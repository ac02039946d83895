"""A notebook of one code cell, for Voila to serve in the browser tests."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(folder: Path, name: str, code: str) -> Path:
    """Write ``code`` as the one cell of ``folder/name``, on alwidgets' page template (nothing from a CDN)."""
    path = folder / name
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["voila"] = {"template": "alwidgets"}
    nbformat.write(nb, path)
    return path
