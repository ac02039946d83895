"""The views: how an item looks to the person labeling it (headless)."""

from __future__ import annotations

import html
import io

import ipywidgets as widgets
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import alwidgets as alw
from alwidgets.widgets import views


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"))


# ---------------------------------------------------------------------- images


@pytest.mark.parametrize("side", [8, 28])
def test_image_png_enlarges_with_crisp_blocks(side):
    rng = np.random.RandomState(0)
    picture = rng.rand(side, side)
    shown = decode(views.image_png(picture, size=224))
    factor = 224 // side
    assert shown.shape == (side * factor, side * factor)
    # Every source pixel became a uniform block of its own grey: no smoothing between pixels.
    blocks = shown.reshape(side, factor, side, factor)
    assert (blocks == blocks[:, :1, :, :1]).all()
    np.testing.assert_array_equal(blocks[:, 0, :, 0], np.round(picture * 255).astype(np.uint8))


def test_image_png_reads_files_and_shrinks_large_ones(tmp_path):
    small = tmp_path / "small.png"
    Image.fromarray(np.full((6, 10), 200, dtype=np.uint8)).save(small)
    large = tmp_path / "large.png"
    Image.fromarray(np.zeros((1000, 500, 3), dtype=np.uint8)).save(large)
    assert decode(views.image_png(small, size=100)).shape == (60, 100)
    assert decode(views.image_png(large, size=200)).shape == (200, 100)


def test_image_png_rejects_a_row_that_is_not_a_picture():
    with pytest.raises(ValueError, match="height, width"):
        views.image_png(np.zeros(10))


def make_session(kind: str, random_state=0):
    if kind == "digits":
        data = alw.datasets.load_digits()
        return alw.Session(LogisticRegression(), data.X[:200], classes=list(range(10)), random_state=random_state)
    if kind == "texts":
        texts = [f"review {i}: a {'good' if i % 2 else 'bad'} film" for i in range(30)]
        model = make_pipeline(TfidfVectorizer(), LogisticRegression())
        return alw.Session(model, texts, classes=["bad", "good"], random_state=random_state)
    if kind == "frame":
        frame = pd.DataFrame({"age": np.arange(20.0), "income": np.arange(20.0) * 3.5, "city": 1.0})
        return alw.Session(LogisticRegression(), frame, classes=[0, 1], random_state=random_state)
    if kind == "sin":
        data = alw.datasets.load_sin(n_samples=40)
        return alw.Session(GaussianProcessRegressor(), data.X, "max_std", random_state=random_state)
    if kind == "moons":
        data = alw.datasets.make_moons(n_samples=40)
        return alw.Session(LogisticRegression(), data.X, classes=[0, 1], random_state=random_state)
    if kind == "wide":
        X = np.random.RandomState(0).rand(20, 5)
        return alw.Session(LogisticRegression(), X, classes=[0, 1], random_state=random_state)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("digits", views.ImageView),
        ("texts", views.TextView),
        ("frame", views.TableView),
        ("sin", views.RegressionPointView),
        ("moons", views.PointView),
        ("wide", views.TableView),
    ],
)
def test_auto_picks_the_view_that_suits_the_data(kind, expected):
    session = make_session(kind)
    view = views.auto(session)
    assert isinstance(view, expected)
    shown = view(session, 3)
    assert isinstance(shown, widgets.Widget)


def test_image_view_reshapes_pool_rows_of_digits():
    session = make_session("digits")
    png = views.image()(session, 5).value
    picture = decode(png)
    assert picture.shape == (224, 224)  # 8x8 enlarged by 28
    expected = np.round(session.X_pool[5].reshape(8, 8) * 255).astype(np.uint8)
    np.testing.assert_array_equal(picture[::28, ::28], expected)


def test_image_view_is_shown_at_the_size_of_its_png():
    session = make_session("digits")
    picture = views.image()(session, 0)
    assert (picture.layout.width, picture.layout.height) == ("224px", "224px")
    assert views.png_size(bytes(picture.value)) == (224, 224)


def test_image_view_thumbnails_are_smaller():
    session = make_session("digits")
    view = views.image()
    assert decode(view.thumbnail(session, 0).value).shape[0] < decode(view(session, 0).value).shape[0]


def test_image_view_of_files(tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((4, 4), 60 * i, dtype=np.uint8)).save(path)
        paths.append(str(path))
    session = alw.Session(LogisticRegression(), np.arange(6.0).reshape(3, 2), classes=[0, 1])
    picture = decode(views.image(images=paths)(session, 2).value)
    assert picture.shape == (224, 224) and (picture == 120).all()


def test_image_view_says_how_to_fix_a_row_that_is_not_square():
    session = make_session("wide")
    with pytest.raises(ValueError, match="shape=.height, width."):
        views.image()(session, 0)


def test_image_view_checks_one_picture_per_item():
    session = make_session("moons")
    with pytest.raises(ValueError, match="pictures but the session's pool has 40 items"):
        views.image(images=np.zeros((3, 8, 8)))(session, 0)


# ---------------------------------------------------------------------- texts


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('pwned')</script>",
        "<img src=x onerror=alert(1)>",
        "\" onmouseover=\"alert(1)",
        "Fish & chips <b>bold</b>",
    ],
)
def test_text_view_shows_markup_as_text(text):
    session = alw.Session(LogisticRegression(), [text, "plain"], classes=[0, 1])
    shown = views.text()(session, 0).value
    assert "<script" not in shown and "<img" not in shown and "<b>" not in shown
    body = shown[shown.index(">") + 1 : shown.rindex("</div>")]
    assert html.unescape(body) == text


def test_text_view_scrolls_long_texts():
    long_text = "word " * 5000
    session = alw.Session(LogisticRegression(), [long_text, "short"], classes=[0, 1])
    shown = views.text(max_height="10em")(session, 0).value
    assert "max-height:10em" in shown and "overflow-y:auto" in shown
    assert shown.count("word") == 5000


def test_text_view_with_separate_texts():
    session = make_session("moons")
    texts = [f"text number {i}" for i in range(session.n_pool)]
    assert "text number 7" in views.text(texts)(session, 7).value


# ---------------------------------------------------------------------- tables and points


def test_table_view_shows_a_dataframe_row_escaped():
    frame = pd.DataFrame({"<b>name</b>": ["<i>x</i>", "y"], "size": [1.23456789, 2.0]})
    session = alw.Session(LogisticRegression(), frame, classes=[0, 1])
    shown = views.table()(session, 0).value
    assert "&lt;b&gt;name&lt;/b&gt;" in shown and "&lt;i&gt;x&lt;/i&gt;" in shown
    assert "<i>" not in shown
    assert "1.235" in shown


def test_table_view_counts_features_it_does_not_show():
    X = np.random.RandomState(0).rand(5, 50)
    session = alw.Session(LogisticRegression(), X, classes=[0, 1])
    shown = views.table(max_rows=10)(session, 1).value
    assert shown.count("<tr>") == 11 and "40 more" in shown
    assert "x9" in shown and "x10<" not in shown


def test_point_views_show_coordinates():
    moons = make_session("moons")
    x, y = moons.X_pool[4]
    assert f"{x:.4g}" in views.point()(moons, 4).value and f"{y:.4g}" in views.point()(moons, 4).value
    sin = make_session("sin")
    assert f"x0 = {sin.X_pool[2, 0]:.4g}" in views.regression_point()(sin, 2).value


# ---------------------------------------------------------------------- resolving view=


def test_get_resolves_names_callables_and_none():
    session = make_session("moons")
    assert isinstance(views.get(None, session), views.PointView)
    assert isinstance(views.get("table", session), views.TableView)

    def custom(session, idx):
        return widgets.Label(f"custom {idx}")

    assert views.get(custom, session) is custom


def test_get_names_the_views_that_exist():
    session = make_session("moons")
    with pytest.raises(ValueError, match="unknown view 'picture'.*'image'"):
        views.get("picture", session)
    with pytest.raises(TypeError, match="view must be None, a name"):
        views.get(42, session)


def test_views_are_reachable_from_the_package():
    assert alw.views is views
    assert callable(alw.views.image) and callable(alw.views.text)
