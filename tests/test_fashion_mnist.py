"""alw.datasets.load_fashion_mnist: Fashion-MNIST from Debian's dataset-fashion-mnist, and its error without it."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import alwidgets as alw
from alwidgets import _fashion_mnist
from alwidgets._validation import InvalidParameterError

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


@pytest.fixture(scope="module")
def train():
    return alw.datasets.load_fashion_mnist()  # scripts/system-deps.sh (make test) installs the package


def test_the_training_set_is_60000_images_of_28x28_6000_per_class(train):
    assert train.X.shape == (60_000, 784) and train.X.dtype == np.uint8  # compact: 47 MB, pixels as stored
    assert train.images.shape == (60_000, 28, 28) and train.images.dtype == np.uint8
    assert np.shares_memory(train.X, train.images)  # one copy of the pixels
    np.testing.assert_array_equal(train.images[123], train.X[123].reshape(28, 28))
    assert train.X.min() == 0 and train.X.max() == 255
    assert train.y.shape == (60_000,) and train.y.dtype == np.int64
    assert set(np.unique(train.y)) == set(range(10))
    np.testing.assert_array_equal(np.bincount(train.y), [6_000] * 10)
    assert train.target_names == CLASSES and train.subset == "train"
    assert train.X.flags.writeable  # as the other loaders' X


def test_the_test_set_is_10000_images_and_all_is_both_training_first(train):
    test = alw.datasets.load_fashion_mnist("test")
    assert test.X.shape == (10_000, 784) and test.X.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(test.y), [1_000] * 10)
    every = alw.datasets.load_fashion_mnist(subset="all")
    assert every.X.shape == (70_000, 784) and every.images.shape == (70_000, 28, 28)
    np.testing.assert_array_equal(every.X[:60_000], train.X)
    np.testing.assert_array_equal(every.y[60_000:], test.y)
    assert not np.array_equal(test.X[:100], train.X[:100])  # two different sets of images


def test_it_is_exported_with_the_other_loaders_and_returns_their_bunch(train):
    assert "load_fashion_mnist" in alw.datasets.__all__
    assert type(train) is type(alw.datasets.load_digits())
    assert train.X is train["X"]
    assert "dataset-fashion-mnist" in alw.datasets.load_fashion_mnist.__doc__


def test_without_the_package_the_error_names_it_and_the_apt_command(monkeypatch, tmp_path):
    monkeypatch.setattr(_fashion_mnist, "FASHION_MNIST_DIR", tmp_path / "fashion-mnist")
    with pytest.raises(FileNotFoundError) as raised:
        alw.datasets.load_fashion_mnist()
    message = str(raised.value)
    assert "dataset-fashion-mnist" in message and "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "fashion-mnist" / "train-images-idx3-ubyte.gz") in message


def idx(array: np.ndarray, magic: int) -> bytes:
    return (magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
            + array.astype(np.uint8).tobytes())


def write_set(folder, part: str, images: np.ndarray, labels: np.ndarray, gzipped: bool) -> None:
    prefix = "train" if part == "train" else "t10k"
    for name, data in ((f"{prefix}-images-idx3-ubyte", idx(images, 0x803)),
                       (f"{prefix}-labels-idx1-ubyte", idx(labels, 0x801))):
        if gzipped:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


def test_it_reads_idx_files_gzipped_or_not_from_a_folder_given(tmp_path):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (20, 28, 28)), np.arange(20) % 10
    write_set(tmp_path, "train", images, labels, gzipped=True)
    write_set(tmp_path, "test", images[:5], labels[:5], gzipped=False)
    train = alw.datasets.load_fashion_mnist(path=tmp_path)
    np.testing.assert_array_equal(train.images, images)
    np.testing.assert_array_equal(train.y, labels)
    test = alw.datasets.load_fashion_mnist("test", path=str(tmp_path))
    assert test.X.shape == (5, 784)


def test_a_damaged_file_is_refused_by_name(tmp_path):
    images, labels = np.zeros((3, 28, 28)), np.zeros(3)
    write_set(tmp_path, "train", images, labels, gzipped=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx(labels, 0x803)[:-1])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte is not an idx file"):
        alw.datasets.load_fashion_mnist(path=tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx(labels, 0x801)[:-1])  # one byte short
    with pytest.raises(ValueError, match="its header says"):
        alw.datasets.load_fashion_mnist(path=tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx(np.zeros(4), 0x801))  # 4 labels for 3 images
    with pytest.raises(ValueError, match="one label each"):
        alw.datasets.load_fashion_mnist(path=tmp_path)


def test_an_unknown_subset_is_refused():
    with pytest.raises(InvalidParameterError, match="subset"):
        alw.datasets.load_fashion_mnist("validation")
