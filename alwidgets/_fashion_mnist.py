"""Fashion-MNIST, read from the files of Debian's ``dataset-fashion-mnist`` package: the reader behind
:func:`alwidgets.datasets.load_fashion_mnist`, which wraps what it reads in the loaders' ``Bunch``.

Nothing is downloaded: ``sudo apt-get install dataset-fashion-mnist`` puts the
four files of Zalando's release (MNIST's idx format, gzipped) in
``/usr/share/datasets/fashion-mnist``; without them the loader says so.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from alwidgets._validation import check_choice

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's ``dataset-fashion-mnist`` installs its files (``dpkg -L dataset-fashion-mnist``)."""
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),  # 60,000 images in the package
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}  # 10,000
_IMAGES_MAGIC, _LABELS_MAGIC = 0x803, 0x801  # idx: unsigned bytes, 3 dimensions (images) or 1 (labels)


class FashionMnistNotInstalled(FileNotFoundError):
    """The files of Debian's ``dataset-fashion-mnist`` are not where the loader looks."""


def read_fashion_mnist(subset: str = "train", path=None) -> dict:
    """Zalando's Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, with its standard split.

    Reads the files of Debian's ``dataset-fashion-mnist`` package
    (``sudo apt-get install dataset-fashion-mnist``); nothing is downloaded.

    Parameters
    ----------
    subset : {"train", "test", "all"}
        ``"train"``: the 60,000 training images (6,000 per class); ``"test"``:
        the 10,000 test images (1,000 per class); ``"all"``: both, the training
        images first.
    path : str or Path, optional
        The folder holding ``train-images-idx3-ubyte.gz`` and the three other
        files (gzipped or not); default ``/usr/share/datasets/fashion-mnist``.

    Returns
    -------
    Bunch (a dict from this reader; :func:`alwidgets.datasets.load_fashion_mnist` returns it as a ``Bunch``)
        ``X`` (n, 784) **uint8** pixels from 0 to 255, as stored (a compact 47 MB
        for the training set: divide by 255 or standardize before a model that
        needs scaled inputs; :func:`load_mnist` returns floats in [0, 1]),
        ``images`` (n, 28, 28), the same pixels, ``y`` (n,) int64 class from 0
        to 9, ``target_names`` (the 10 kinds), ``name`` and ``subset``.

    Raises
    ------
    FileNotFoundError
        When the package's files are missing; the message names the package
        and the command that installs it.
    """
    check_choice(subset, "subset", ("train", "test", "all"))
    folder = FASHION_MNIST_DIR if path is None else Path(path)
    parts = ("train", "test") if subset == "all" else (subset,)
    images, labels = [], []
    for part in parts:
        image_file, label_file = _FILES[part]
        pixels = _read_idx(_find(folder, image_file), _IMAGES_MAGIC)
        y = _read_idx(_find(folder, label_file), _LABELS_MAGIC)
        if pixels.shape[1:] != (28, 28) or y.shape != pixels.shape[:1]:
            raise ValueError(f"{folder / image_file}: expected images of 28x28 and one label each; got images "
                             f"{pixels.shape} and labels {y.shape}")
        images.append(pixels)
        labels.append(y)
    pixels = images[0] if len(images) == 1 else np.concatenate(images)
    y = (labels[0] if len(labels) == 1 else np.concatenate(labels)).astype(np.int64)
    if len(y) and y.max() > 9:
        raise ValueError(f"{folder}: labels must be 0 to 9; found {int(y.max())}")
    return dict(X=pixels.reshape(len(y), 28 * 28), y=y, images=pixels, target_names=list(FASHION_MNIST_CLASSES),
                name="fashion-mnist" if subset == "all" else f"fashion-mnist ({subset})", subset=subset)


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    raise FashionMnistNotInstalled(
        f"load_fashion_mnist reads the Fashion-MNIST files of the Debian package {FASHION_MNIST_PACKAGE}, and "
        f"{folder / name}.gz is missing. Install the package with: sudo apt-get install {FASHION_MNIST_PACKAGE} "
        "(nothing is downloaded at run time; `dpkg -L dataset-fashion-mnist` lists its files).")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """The array of an idx file of unsigned bytes (MNIST's format), gzipped or not."""
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
        raw = f.read()
    if len(raw) < 4 or int.from_bytes(raw[:4], "big") != magic:
        raise ValueError(f"{path} is not an idx file of unsigned bytes (magic number {magic:#06x})")
    n_dims = magic & 0xFF
    header = 4 + 4 * n_dims
    shape = tuple(int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(n_dims))
    if len(raw) != header + int(np.prod(shape)):
        raise ValueError(f"{path} holds {len(raw) - header:,} bytes of data; its header says {shape}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()  # writable, as other loaders' X
