"""The labeling dashboard a team opens in Voila: a name, the Labeler, the campaign's progress, the export.

Each browser page gets its own kernel, so everything the people share lives
in the campaign's store; this widget only reads the store and hands each
person a :class:`~alwidgets.Session` of their own. It is what
``notebooks/dashboard.ipynb`` shows and ``python -m alwidgets serve`` serves.

Voila has no login: the name typed here is taken at its word. Behind
JupyterHub the hub's user name is used (``JUPYTERHUB_USER``), and behind an
authenticating reverse proxy the user header Voila passes on
(``HTTP_X_FORWARDED_USER``). Such a trusted name is the only one this page
labels under: the field shows it locked, and whatever the browser later sends
for the field is ignored; a trusted name the name check refuses blocks
labeling, with the reason on the page. Names are normalized (Unicode NFKC)
before they are checked and stored, so look-alike spellings are one name.
Without a trusted name, the browser remembers the last name it started
labeling under for the campaign (:mod:`alwidgets.widgets.page`) and a
reload offers it back in the field (it is checked like a typed one).
See docs/deploying.md.

The page holds the items it shows (leases, see :mod:`alwidgets.store`).
While the browser page says it is open (:class:`~alwidgets.widgets.page.PageLink`),
the poll renews the leases' heartbeat; when the kernel ends (culled, the
server stopped) it gives them back. "Being labeled right now" counts only
leases with a recent heartbeat, so neither a closed page whose kernel lives
on until it is culled nor a kernel that was killed is counted.

Every count on the page comes from one function,
:func:`alwidgets.engine.labelstate.pool_progress`: an item is labeled once it has a
training label, the majority of its votes (a tie is not labeled). The label
state is the engine's, never a copy: the Session's once labeling has started,
before that an :class:`~alwidgets.engine.labelstate.LabelState` the page drops
when the Session comes. Each refresh reads the events appended since the last
one, once; only when there are some is the whole log read for the export, the
agreement and the override rates (and not kept).

Threads: the page's traits are written only under its ``_ui_lock``, by the
kernel's thread or its own poll (see :mod:`alwidgets.widgets._guard`); the poll
redraws the Labeler's progress only through ``Labeler.show_progress()``,
which takes the Labeler's own lock.

The store's problems are shown to visitors without host, port or user
names; the details go to the server's log (the kernel's standard error,
which Voila writes to its own log).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import html
import logging
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
import weakref

import ipywidgets as widgets
import numpy as np

from alwidgets._validation import normalize_name
from alwidgets.engine.labelstate import LABELED_MEANS, LabelState, pool_progress
from alwidgets.serving import config as alw_config
from alwidgets.store import LIVE_SECONDS, StoreError, StoreUnavailable
from alwidgets.store.agreement import agreement, suggestion_counts
from alwidgets.store.export import labels_rows, rows_csv_text
from alwidgets.widgets import views as alw_views
from alwidgets.widgets._guard import guarded
from alwidgets.widgets.page import PageLink, visitor_problem
from alwidgets.widgets.worker import Poller

__all__ = ["Dashboard", "annotator_from_environment"]

NAME_PATTERN = re.compile(r"^[\w .@+-]{1,64}$")
TRUSTED_NAME_VARIABLES = alw_config.TRUSTED_NAME_VARIABLES
STORE_TROUBLE = ("The label store is unreachable; your labels so far are safe. "
                 "Try again in a minute (reload the page); the details are in the server's log.")
DOWNLOAD_EVERY_SECONDS = 15.0  # the poll rebuilds the download link (the whole campaign as CSV) at most this often
VISITOR_WAIT_SECONDS = 15.0  # a page kept ready, drawn in a browser, waits this long for the server to say who came
VISITOR_UNKNOWN = ("This page cannot learn who opened it, so labeling is blocked: a name is used only when the server "
                   "gives it. <a href='' class='alw-reload'>Reload the page</a> to get a new one; if this keeps "
                   "happening, tell the administrator (the details are in the server's log).")

log = logging.getLogger("alwidgets.dashboard")


def annotator_from_environment(environ=None) -> tuple[str | None, bool]:
    """``(name, trusted)``: who opened the page, as far as the server knows (names NFKC-normalized).

    A name set by JupyterHub or an authenticating proxy is trusted: it is the
    only name the page labels under. ``?annotator=NAME`` in the page URL only
    pre-fills the field.
    """
    environ = os.environ if environ is None else environ
    for variable in TRUSTED_NAME_VARIABLES:
        if environ.get(variable):
            return normalize_name(environ[variable]), True
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    name = (query.get("annotator") or [None])[0]
    return (normalize_name(name) if name else None), False


def check_name(name) -> str:
    """The annotator name in NFKC form (full-width ``ａｌｉｃｅ`` is ``alice``), or a ValueError saying what a name may hold."""
    name = normalize_name(name)
    if not name:
        raise ValueError("type your name first: every label is saved with the name of who gave it")
    if not NAME_PATTERN.match(name):
        raise ValueError(f"{name!r} cannot be a name here: use up to 64 letters, digits, spaces or . _ @ + -")
    return name


def _log_to_server() -> None:
    """Send alwidgets' warnings to the process's own standard error, which Voila writes to the server's log.

    In a kernel, ``sys.stderr`` goes to the browser page; ``sys.__stderr__`` is the real one.
    """
    root = logging.getLogger("alwidgets")
    if any(getattr(h, "_alw_server_log", False) for h in root.handlers) or sys.__stderr__ is None:
        return
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("[alwidgets %(asctime)s %(name)s] %(levelname)s: %(message)s"))
    handler._alw_server_log = True
    root.addHandler(handler)


class Dashboard(widgets.VBox):
    """A labeling page for one campaign: who is labeling, the Labeler, progress for everyone, the export.

    Parameters
    ----------
    campaign : alwidgets.serving.config.Campaign
        The data, model and store (see :func:`alwidgets.serving.config.build_campaign`).
    annotator : str, optional
        Start labeling at once under this name (default: ask on the page).
        A trusted name from the environment (JupyterHub, a login proxy) wins
        over it and over the name field.
    poll_seconds : float or None, default=3
        How often the campaign progress is read from the store, to show other
        people's labels; None only refreshes on this page's own labels.
    labeler_options : dict, optional
        Extra keyword arguments for :class:`~alwidgets.Labeler`.
    environ : mapping, optional
        Where to read who opened the page (default ``os.environ``).
    visitor_known : bool, default=True
        False for a page built before anyone opened it (a page ``serve``
        keeps ready): the name row waits, and :meth:`welcome` is called once
        the visitor is known (:func:`~alwidgets.widgets.page.when_visitor_arrives`).
    """

    def __init__(self, campaign, *, annotator: str | None = None, poll_seconds: float | None = 3.0,
                 labeler_options: dict | None = None, environ=None, visitor_known: bool = True):
        super().__init__()
        _log_to_server()
        self.campaign = campaign
        self.config = campaign.config
        self.store = None
        self.session = None
        self.labeler = None
        self.labeler_options = dict(labeler_options or {})
        self.errors: list[str] = []
        # the label state until a Session holds it (then None): the engine's, read from the store
        self._labels: LabelState | None = LabelState(campaign.item_ids, "", self.config.overlap)
        self._item_index = self._labels.index_of
        self._seen = 0  # the last event this page has looked at (the export is built up to it)
        self._download_at = float("-inf")  # when the download link was last built
        self._download_pending = False  # events came since, and a poll left the link for later
        self._override_rate: dict = {}  # annotator -> (share of suggestions overridden, suggestions seen)
        self._read_lock = threading.Lock()  # one refresh reads and applies the store's events at a time
        self._ui_lock = threading.RLock()  # held while this page's traits are written (any thread)
        self._poller: Poller | None = None
        self._store_down = False  # the last look at the store failed: said on the page, logged once
        self._beat_at = 0.0  # when this page last said it is open (monotonic clock)
        self.add_class("alw-dashboard")

        cfg = self.config
        self.title = widgets.HTML(f"<h2 style='margin:0.2em 0'>{html.escape(cfg.title)}</h2>")
        self.trusted_name = None  # the only name this page labels under, when set (see welcome)
        self.visitor_known = False
        self.visitor_unknown = False  # a page kept ready gave up learning who opened it (see _await_visitor)
        self._ran_ahead = not visitor_known  # built before its visitor came: see _start_once_shown
        self.name = widgets.Text(description="Your name", placeholder="e.g. alice", disabled=True,
                                 style={"description_width": "initial"})
        self.name.add_class("alw-annotator")
        # the browser page: its memory of the last name started under (never used over a trusted name), and
        # its word that it is still open
        self.page = PageLink(campaign=f"{cfg.name}:{campaign.store_info()['campaign.pool']}")
        self.start_button = widgets.Button(description="Start labeling", button_style="primary", icon="play",
                                           disabled=True)
        self.start_button.add_class("alw-start")
        self.start_button.on_click(self._on_start)
        self.message = widgets.HTML()
        self.message.add_class("alw-message")
        self.who = widgets.HBox([self.name, self.start_button])
        self.labeler_box = widgets.VBox()
        self.labeler_box.add_class("alw-labeler-box")

        self.bar = widgets.IntProgress(value=0, min=0, max=campaign.n_items, description="Campaign",
                                       style={"description_width": "initial"},
                                       layout=widgets.Layout(width="28em"))
        self.bar.add_class("alw-campaign-bar")
        self.campaign_line = widgets.HTML()
        self.campaign_line.add_class("alw-campaign")
        self.download = widgets.HTML()
        self.download.add_class("alw-download")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh", layout=widgets.Layout(width="auto"))
        self.refresh_button.on_click(self._on_refresh)
        campaign_box = widgets.VBox([
            widgets.HBox([self.bar, self.refresh_button], layout=widgets.Layout(align_items="center")),
            self.campaign_line, self.download,
        ])
        children = [self.title, self.who, self.message, self.labeler_box, campaign_box, self.page]
        self.admin = None
        if cfg.overlap > 1:
            self.admin_html = widgets.HTML()
            self.admin_html.add_class("alw-agreement")
            self.admin = widgets.Accordion(children=[self.admin_html], titles=("Admin: agreement between annotators",))
            self.admin.add_class("alw-admin")
            children.append(self.admin)
        self.children = children

        try:
            self.store = campaign.open_store()  # one connection pool per kernel, shared with the session
        except StoreError as error:
            self._store_failed(error, "opening the store")
        else:
            self._refresh_safely()
            # progress is read off the click path: a label wakes this thread, and it also looks every poll_seconds
            self._poller = Poller(self._poll, poll_seconds, name="alwidgets-dashboard-poll")
        if visitor_known:
            self.welcome(environ, annotator=annotator)
        else:
            self.page.when_shown(self._await_visitor)  # a browser shows the page: its visitor has come

    @guarded("open the page")
    def welcome(self, environ=None, *, annotator: str | None = None) -> None:
        """Take in who opened the page (see :func:`annotator_from_environment`); once, before any labeling.

        A trusted name locks the field and starts labeling under it (or blocks
        labeling with the reason, if the name check refuses it); ``annotator``
        starts under that name; otherwise the field waits for a typed name, or
        offers back the one this browser remembers.
        """
        if self.visitor_known:
            return
        self.visitor_known = True
        self.visitor_unknown = False  # the server's word came, if late
        if self._ran_ahead and not self._store_down:
            self._say("")  # no more "Finding out who opened this page"
        env_name, trusted = annotator_from_environment(environ)
        with self._ui_lock:
            if trusted:
                self.trusted_name = env_name
                self.name.value = env_name
                # the browser may re-enable the field and send another value: show the trusted one again
                self.name.observe(self._keep_trusted_name, names="value")
            else:
                self.name.value = annotator or env_name or ""
                self.name.disabled = False
                self.page.observe(self._offer_remembered_name, names="remembered")
                if self.page.remembered:
                    self._offer_remembered_name({"new": self.page.remembered})
            if self.store is None:
                return  # the store could not be opened: the page says so, and labeling stays off
            self.start_button.disabled = False
        if trusted:
            try:
                check_name(self.trusted_name)
            except ValueError as error:
                self._enable_start(False)
                self._say(f"You are signed in as {self.trusted_name!r}, and that name cannot be used here "
                          f"({error}). Labeling is blocked: ask the administrator for a sign-in name of up to 64 "
                          "letters, digits, spaces or . _ @ + -", error=True)
            else:
                self._start_once_shown()
        elif annotator is not None:
            self._start_once_shown()

    @guarded("open the page")
    def _await_visitor(self) -> None:
        """The browser shows a page kept ready: the server's word on who opened it is due; wait a little for it.

        The word usually comes before the page is even drawn. If the kernel
        already knows it cannot learn it, or the word has not come within
        :data:`VISITOR_WAIT_SECONDS`, the page says so and labeling stays
        blocked: the visitor never labels under a name the server did not give
        (behind a login proxy, any name they typed). A word that comes later
        still welcomes them.
        """
        if self.visitor_known:
            return
        if visitor_problem() is not None:
            self._cannot_learn_visitor()
            return
        if not self._store_down:
            self._say("Finding out who opened this page…")
        try:
            loop = asyncio.get_running_loop()  # the kernel's: the deadline runs on its thread, as a click would
        except RuntimeError:
            loop = None
        if loop is not None:
            loop.call_later(VISITOR_WAIT_SECONDS, self._visitor_deadline)
        else:  # no event loop (a plain script, a test): a timer thread
            timer = threading.Timer(VISITOR_WAIT_SECONDS, self._visitor_deadline)
            timer.daemon = True
            timer.start()

    @guarded("open the page")
    def _visitor_deadline(self) -> None:
        if not self.visitor_known:
            self._cannot_learn_visitor()

    def _cannot_learn_visitor(self) -> None:
        """Block labeling on a page kept ready whose visitor is unknown, and say so (and why, in the server's log)."""
        if not self.visitor_unknown:
            log.error("a page kept ready cannot learn who opened it: %s",
                      visitor_problem() or f"the server did not say within {VISITOR_WAIT_SECONDS:g} s")
        self.visitor_unknown = True
        with self._ui_lock:
            self.name.disabled = True
            self.start_button.disabled = True
        self._say(VISITOR_UNKNOWN, error=True, markup=True)

    def _start_once_shown(self) -> None:
        """:meth:`start`; on a page run ahead of its visitor, once the browser has drawn the page.

        Such a page is welcomed as the browser connects. The browser then asks
        the kernel for every widget's state and waits 4 s for the answer; a
        kernel busy building a Labeler can miss that, and the widget manager's
        slower fallback can lose the widgets made meanwhile (once, in the test
        suite, a Labeler started this way showed its item but no label
        buttons; that run did not repeat). Once the page says it is open,
        the browser is listening, and a new Labeler reaches it like one
        started by the Start button.
        """
        if not self._ran_ahead:
            self.start()
            return
        self._say("Opening the page for labeling…")
        self.page.when_shown(self.start)

    # ------------------------------------------------------------------ building from a config

    @classmethod
    def from_config(cls, path=None, **kwargs) -> Dashboard:
        """The dashboard of the campaign in the TOML file ``path`` (see :func:`alwidgets.serving.config.load_campaign`)."""
        return cls(alw_config.load_campaign(path), **kwargs)

    # ------------------------------------------------------------------ labeling

    @guarded("start labeling")
    def start(self, name: str | None = None):
        """Start labeling under ``name`` (default: the name field): builds the Session and the Labeler."""
        from alwidgets.widgets.labeler import Labeler

        if self.labeler is not None:
            return self.labeler
        if not self.visitor_known:  # a page kept ready: whoever opens it may hold a trusted name
            if self.visitor_unknown:
                self._say("Labeling is blocked: " + VISITOR_UNKNOWN, error=True, markup=True)
            else:
                self._say("The page is still opening: try again in a moment.", error=True)
            return None
        if self.store is None:
            self._say(STORE_TROUBLE, error=True)
            return None
        if self.trusted_name is not None:
            name = self.trusted_name  # never the field's value, never another name
        try:
            name = check_name(self.name.value if name is None else name)
        except ValueError as error:
            if self.trusted_name is not None:
                self._enable_start(False)
                self._say(f"Labeling is blocked: your sign-in name cannot be used here ({error})", error=True)
            else:
                self._say(str(error), error=True)
            return None
        with self._ui_lock:
            self.name.value = name
            self.name.disabled = True
            self.start_button.disabled = True
        self._say(f"Loading the labels so far and fitting the model for {html.escape(name)}…")
        campaign = self.campaign
        try:
            self.session = campaign.session(name, store=self.store)
            options = {"classes": campaign.classes, "view": self._view(), "suggest": self.config.suggest,
                       "choose_strategy": self.config.annotators_choose_strategy}
            options.update(self.labeler_options)
            self.labeler = Labeler(self.session, **options)
        except StoreError as error:
            self._enable_start(True)
            self._store_failed(error, f"starting a session for {name!r}")
            return None
        except Exception:
            self._enable_start(True)
            raise  # the guard says it on the page
        with self._read_lock:
            self._labels = None  # the Session holds the label state from now on
            self.session.sync()  # whatever this page read after the Session was made
        self.labeler.progress.observe(self._wake_poller, names="value")
        atexit.register(self._release_at_exit)  # the kernel ends (page closed, culled, server stopped)
        _release_on_sigterm(self)  # the kernel is stopped by a signal (a service manager stopping the server)
        with self._ui_lock:
            if self.trusted_name is None:
                self.page.remember(name)
            self.labeler_box.children = (self.labeler,)
        mine = len(self.session.my_labels)
        self._say(f"Labeling as <b>{html.escape(name)}</b>"
                  + (f" — welcome back, {mine} of your labels are kept. Undo takes back only the labels "
                     "given on this page." if mine else "."))
        self.refresh()
        return self.labeler

    def _enable_start(self, enabled: bool) -> None:
        """Let the visitor press Start (and type a name, unless it is a trusted one), or not."""
        with self._ui_lock:
            if enabled:
                self.name.disabled = self.trusted_name is not None
            self.start_button.disabled = not enabled

    def _view(self):
        campaign = self.campaign
        if campaign.is_text:
            return alw_views.text()
        if campaign.images is not None:
            return alw_views.image(images=campaign.images)
        return None

    # ------------------------------------------------------------------ progress, export, agreement

    def refresh(self, *, download: bool = True) -> dict:
        """Read new events from the store and redraw the campaign progress, the export link and the admin view.

        Thread-safe. With a Labeler on the page, the label state is its
        session's, and both progress lines are drawn from it: they show one
        number. ``download=False`` leaves the download link as it is, to be
        rebuilt by a later refresh (the poll rebuilds it at most every
        :data:`DOWNLOAD_EVERY_SECONDS`: it holds the whole campaign, and
        building it was most of a page's CPU while a team labels).
        """
        if self.store is None:
            return {}
        with self._read_lock:  # the store is read off the page's lock: a click never waits for it
            new = self.store.events(since=self._seen)  # the one read of a quiet refresh
            labels, session = self._labels, self.session  # in this order: start() sets the session first
            if labels is not None:
                labels.apply(new)
            elif new:
                session.sync()  # TODO(engine): Session.sync(events=new), to read the store once here too
            log = None
            if new:
                self._seen = max(e.seq for e in new)
                # the log as the label state has applied it: the export and agreement read no more of the store
                log = list(labels.events) if labels is not None else list(session.book.log())
                self._override_rate = _override_rates(log, self._item_index)
            progress = self._progress(labels, session)
            stale = log is not None or self._download_pending
            if download and stale and log is None:
                log_now = list(labels.events) if labels is not None else list(session.book.log())
            else:
                log_now = log
            link = self._download_html(log_now) if download and stale else None
            self._download_pending = stale and not download
            if link is not None:
                self._download_at = time.monotonic()
            kappa = None if log is None or self.admin is None else _agreement_html(agreement(log))
        with self._ui_lock, self.hold_sync():
            self.bar.value = min(progress["labeled"], self.bar.max)
            self.campaign_line.value = _progress_html(progress)
            if link is not None:
                self.download.value = link
            if kappa is not None:
                self.admin_html.value = kappa
        labeler = self.labeler
        if labeler is not None:
            labeler.show_progress()  # thread-safe: takes the Labeler's own lock
        return progress

    def progress(self) -> dict:
        """The campaign's progress over every annotator, as :func:`~alwidgets.engine.labelstate.pool_progress` counts it.

        "leased" counts only live leases: pages that said they are open in the
        last ``LIVE_SECONDS``. "override_rate" is ``{annotator: (share of
        suggestions overridden, suggestions seen)}`` as of the last refresh.
        """
        return self._progress(self._labels, self.session)

    def _progress(self, labels: LabelState | None, session) -> dict:
        if labels is not None:  # no Session yet (or one just made, that this refresh has not switched to)
            progress = pool_progress(labels.tally, self._item_index, self.config.overlap,
                                     self.store.leases(live_within=LIVE_SECONDS))
        else:
            progress = session.progress()
        return {**progress, "override_rate": dict(self._override_rate)}

    def export_csv(self) -> bytes:
        """The labels so far as CSV bytes (what the download link holds); reads the whole log."""
        return _csv_bytes(self.store.events(), self._item_index)

    def _download_html(self, log) -> str:
        columns, rows = labels_rows(log, self._item_index)  # the export's table, without pandas (a page's memory)
        data = base64.b64encode(rows_csv_text(columns, rows).encode("utf-8")).decode("ascii")
        return (f"<a class='alw-download-link' download='labels.csv' href='data:text/csv;base64,{data}' "
                f"style='font-weight:bold'>⬇ Download labels.csv</a> <span style='color:#666'>({len(rows)} items, "
                f"as of {time.strftime('%H:%M:%S')})</span>")

    @guarded("reading the campaign's progress")
    def _wake_poller(self, _change=None) -> None:
        """A label on this page: have the poll read the store soon."""
        if self._poller is not None:
            self._poller.wake()

    def heartbeat(self) -> None:
        """Say that this page is still open, so the items it shows count as being labeled right now."""
        if self.session is not None:
            self.session.heartbeat()
            self._beat_at = time.monotonic()

    @guarded("start labeling")
    def _on_start(self, _button) -> None:
        self.start()

    @guarded("reading the campaign's progress")
    def _on_refresh(self, _button) -> None:
        self._refresh_safely()

    @guarded("reading the campaign's progress")
    def _poll(self) -> None:
        """The poll's call: :meth:`_refresh_safely`, rebuilding the download link at most every DOWNLOAD_EVERY_SECONDS."""
        self._refresh_safely(download=time.monotonic() - self._download_at >= DOWNLOAD_EVERY_SECONDS)

    @guarded("reading the campaign's progress")
    def _refresh_safely(self, download: bool = True) -> None:
        """:meth:`refresh` for the Refresh button and the poll (whose thread runs it): a failure is said on the page."""
        if time.monotonic() - self._beat_at >= LIVE_SECONDS / 3 and self.page.is_open(LIVE_SECONDS):
            self.heartbeat()
        self.refresh(download=download)
        if self._store_down:
            self._store_down = False
            log.warning("the dashboard reaches the label store again")
            self._say("The label store is reachable again: labeling goes on.")

    @guarded("open the page")
    def _offer_remembered_name(self, change) -> None:
        """Put the name this browser last labeled under in the field (only an empty field, before labeling)."""
        if self.labeler is not None or self.trusted_name is not None or self.name.value:
            return
        try:
            name = check_name(change["new"])
        except ValueError:
            return  # whatever the browser kept, a name the check refuses is never offered
        with self._ui_lock:
            self.name.value = name
        self._say(f"Welcome back: press Start labeling to go on as <b>{html.escape(name)}</b>, "
                  "or type another name.")

    def _release_at_exit(self) -> None:
        """Give back this page's leases as its kernel ends; never raises (the interpreter is exiting)."""
        session = self.session
        if session is None:
            return
        try:
            session.release()
        except Exception as error:  # the store is down: the leases expire by themselves
            log.warning("could not give back the leases of %r on exit: %s", session.annotator, error)

    @guarded("open the page")
    def _keep_trusted_name(self, change) -> None:
        if change["new"] != self.trusted_name:
            with self._ui_lock:
                self.name.value = self.trusted_name

    def _store_failed(self, error: StoreError, doing: str, counted: bool = False) -> None:
        """Tell the visitor, without host, port or user names; log the details for the operator."""
        details = error.details if isinstance(error, StoreUnavailable) and error.details else str(error)
        if not self._store_down:  # once per outage, not every few seconds while it lasts
            log.error("the dashboard failed %s: %s", doing, details)
        self._store_down = True
        self._say(STORE_TROUBLE, error=True, counted=counted)

    def _show_problem(self, message: str, error: BaseException) -> None:
        """What :func:`~alwidgets.widgets._guard.report_error` calls: a store problem safely, anything else in words."""
        if isinstance(error, StoreError):
            self._store_failed(error, f"at: {message}", counted=True)
        else:
            self._say(message, error=True, counted=True)

    def _say(self, text: str, error: bool = False, counted: bool = False, markup: bool = False) -> None:
        """Put ``text`` on the message line; an error is also kept in :attr:`errors` (unless ``counted`` already).

        An error's text is escaped, unless ``markup`` says it is this module's own HTML.
        """
        with self._ui_lock:
            if error and not counted:
                self.errors.append(text)
            color = "#b00020" if error else "#333"
            shown = html.escape(text) if error and not markup else text
            self.message.value = f"<span style='color:{color}'>{shown}</span>"

    def close(self) -> None:
        """Stop reading the store, give back this annotator's leases, close the Labeler and the store."""
        if self._poller is not None:
            self._poller.stop()
        if self.labeler is not None:
            self.labeler.close()
        atexit.unregister(self._release_at_exit)
        _PAGES.discard(self)
        if self.session is not None:
            try:
                self.session.release()
            except StoreError as error:
                self._store_failed(error, "giving back the leases on closing")
        if self.store is not None:
            self.store.close()
        super().close()


_PAGES: weakref.WeakSet = weakref.WeakSet()  # dashboards of this process that hold leases
_PREVIOUS_SIGTERM: list = []  # the SIGTERM handler before ours, once ours is installed


def _release_on_sigterm(dashboard: Dashboard) -> None:
    """Give back the page's leases when the kernel gets SIGTERM, then let the signal do what it did before.

    A service manager stops ``serve`` by sending SIGTERM to all its processes,
    kernels included, and Python runs no ``atexit`` function on a signal.
    """
    _PAGES.add(dashboard)
    if _PREVIOUS_SIGTERM or threading.current_thread() is not threading.main_thread():
        return
    try:
        _PREVIOUS_SIGTERM.append(signal.signal(signal.SIGTERM, _on_sigterm))
    except (ValueError, OSError):  # not the main thread of the main interpreter: atexit is all there is
        pass


def _on_sigterm(signum, frame) -> None:
    for page in list(_PAGES):
        page._release_at_exit()
    previous = _PREVIOUS_SIGTERM[0] if _PREVIOUS_SIGTERM else signal.SIG_DFL
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _override_rates(log, item_index) -> dict:
    """``{annotator: (share of suggestions overridden, suggestions seen)}`` over the events of this pool."""
    suggestions = suggestion_counts(e for e in log if e.item_id in item_index)
    return {r["annotator"]: (r["override_rate"], r["suggested"]) for r in suggestions}


def _csv_bytes(log, item_index) -> bytes:
    return rows_csv_text(*labels_rows(log, item_index)).encode("utf-8")  # cells a spreadsheet would run as formulas are quoted


def _progress_html(progress: dict) -> str:
    total = progress["total"]
    share = progress["labeled"] / total if total else 0.0
    rates = progress.get("override_rate", {})
    people = ", ".join(f"{html.escape(name)} {count}" + _override_note(rates.get(name))
                       for name, count in progress["per_annotator"].items())
    parts = [f"<span title='{LABELED_MEANS}'><b>{progress['labeled']}</b> of {total:,} items labeled "
             f"({share:.0%})</span>"]
    parts.append(f"labels given by annotator: {people}" if people else "nobody has labeled yet")
    if progress["ties"]:
        parts.append(f"{progress['ties']} tied, waiting for one more vote")
    if progress["leased"]:
        parts.append(f"{progress['leased']} being labeled right now")
    return " · ".join(parts)


ACCEPT_ALL_WARNING = 20  # suggestions seen, every one taken, before the page warns about an annotator


def _override_note(rate) -> str:
    """" (overrode 12% of suggestions)", with a warning for someone who took every one of many suggestions."""
    if rate is None:
        return ""
    share, seen = rate
    if share == 0 and seen >= ACCEPT_ALL_WARNING:
        return (f" <span class='alw-accepts-all' style='color:#b00020'>(⚠ took all {seen} suggestions: "
                "check their labels)</span>")
    return f" <span style='color:#666'>(overrode {share:.0%} of {seen} suggestions)</span>"


def _agreement_html(result) -> str:
    if result.n_items == 0:
        return "<i>No item has two labels yet: agreement appears once annotators overlap.</i>"
    rows = "".join(
        f"<tr><td>{html.escape(r.annotator_a)}</td><td>{html.escape(r.annotator_b)}</td><td>{r.n_items}</td>"
        f"<td>{r.agreed:.0%}</td><td>{_kappa(r.kappa)}</td></tr>"
        for r in result.pairs.itertuples()
    )
    return (f"<p>Fleiss' kappa over {result.n_items} items with two or more labels: <b>{_kappa(result.fleiss)}</b>"
            f" · {result.n_ties} tied items (not trained on)</p>"
            "<table class='alw-kappa'><tr><th>annotator</th><th>annotator</th><th>items</th><th>agreed</th>"
            f"<th>Cohen's kappa</th></tr>{rows}</table>")


def _kappa(value: float) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.2f}"
