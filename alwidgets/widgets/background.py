"""Run a long computation after the page is up: a progress bar, partial results as they come, a cache.

A notebook served by Voila shows nothing until every cell has run, and in
JupyterLab a long cell blocks the cells below it. :class:`BackgroundRun`
returns at once: it shows a progress bar, runs ``compute(task)`` on a
background thread of lower CPU priority, shows the partial results ``compute``
reports through ``task``, and the final result when it is done. The widgets
above it stay responsive all along. An error is shown in red, never dropped.

Results that are the same for every visitor (a race with fixed seeds, an
experiment) can be cached: with ``cache_key``, the result (anything JSON can
hold) is written to a JSON file on first run, and later runs show it at once.
:func:`cached_data` does the same for a data set that is slow to load (its
arrays go to a ``.npz`` file, read back without pickle).
The cache lives in ``$ALW_CACHE_DIR``, by default ``alwidgets-cache-<uid>`` in
the system's temporary folder, created (readable by this user only) on first
use. Its keys include a fingerprint of the alwidgets source code and of the
numpy and scikit-learn versions, so a change to either measures again.

A run that needs another's result (a curve to compare against) says so
while it waits (:meth:`Task.wait_for`): what it waits for, and how far that
one has got. It can also draw with what the other has so far
(:attr:`BackgroundRun.latest`) and wait only at the end. A run started by a
button is made by a :class:`RunButton`: a click is seen at once (the button
disabled, saying it runs, and the new run's bar below it), before any work is
done, and the button comes back when the run is over.

This module imports no modAL and no engine module, only ipywidgets.

Threads: a run's traits are written only under its ``_ui_lock``, by the
kernel's thread or its own worker (see :mod:`alwidgets.widgets._guard`); the
worker's task and its end are guarded, so an error is said on the run's status
line and kept in :attr:`BackgroundRun.error`.
"""

from __future__ import annotations

import hashlib
import html
import inspect
import json
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from alwidgets._cache import CACHE_ENV, cache_dir
from alwidgets._validation import InvalidParameterError
from alwidgets.widgets._guard import call_apart, guarded
from alwidgets.widgets.worker import Worker

__all__ = ["BackgroundRun", "CACHE_ENV", "RunButton", "Task", "cache_dir", "cached_data", "wait_all"]

PARTIAL_INTERVAL_SECONDS = 1.0  # partial results are drawn at most this often
# ... and at most this share of a run's time: a drawing that took 2 s (a plot, on a busy machine) waits 6 s for the next
PARTIAL_DRAWING_SHARE = 0.25
WAIT_LOOK_SECONDS = 0.5  # how often a run waiting for another says how far that one has got
_RUNS: weakref.WeakSet = weakref.WeakSet()


class Task:
    """What ``compute(task)`` uses to report: progress, partial results, and whether to stop."""

    def __init__(self, run: BackgroundRun):
        self._run = run
        self._next_partial = 0.0  # when the next partial result may be drawn (monotonic clock)
        self._pending = None

    def progress(self, done: int, total: int | None = None, text: str | None = None) -> None:
        """``done`` of ``total`` steps are finished; ``text`` says what is running now."""
        self._run._set_progress(done, total, text)

    def partial(self, value, force: bool = False) -> None:
        """A partial result: drawn with ``render`` (unless ``force``, at most once a second, and only so often
        that drawing takes at most a quarter of the run's time: the run's own work comes first).

        It is also :attr:`BackgroundRun.latest` at once, for other runs to draw with.
        """
        self._run.latest = value
        self._pending = value
        started = time.monotonic()
        if force or started >= self._next_partial:
            self._pending = None
            self._run._show_result(value)
            took = time.monotonic() - started
            self._next_partial = started + max(PARTIAL_INTERVAL_SECONDS, took / PARTIAL_DRAWING_SHARE)

    def show(self, *parts) -> None:
        """Show ``parts`` now (HTML strings, PNG bytes or widgets), in place of the last partial result."""
        self._run._show_parts(parts)

    def wait_for(self, run: BackgroundRun, what: str):
        """``run``'s result, once it is over; meanwhile this run's status says it waits for ``what`` and how far it is.

        ``what`` names what is awaited and why, e.g. "the pool-based race
        above, to compare against". Returns None at once if this run is
        stopped meanwhile; re-raises ``run``'s error.
        """
        while not run.wait(WAIT_LOOK_SECONDS):
            if self.stopped:
                return None
            self._run._set_status(f"waiting for {html.escape(what)} ({run.progress_text() or 'not started'})")
        return run.get()

    @property
    def stopped(self) -> bool:
        """True once :meth:`BackgroundRun.stop` was called: ``compute`` should return early."""
        return self._run._stop.is_set()


class BackgroundRun(widgets.VBox):
    """``compute(task)`` on a background thread, with a progress bar and its partial results on the page.

    Parameters
    ----------
    compute : callable
        ``compute(task) -> result``. It reports progress with
        ``task.progress(done, total)`` and partial results with
        ``task.partial(value)`` (or ``task.show(...)``), and may return early
        when ``task.stopped``.
    render : callable, optional
        ``render(value) -> part or list of parts`` turns a partial or final
        result into what is shown: HTML strings, PNG bytes, or widgets. Without
        it, the final result is shown as text.
    title : str
        What runs, shown above the bar (HTML).
    total : int, optional
        Steps expected, until ``compute`` reports its own.
    cache_key : dict or str, optional
        What the result depends on besides the code of ``compute`` (data,
        budgets, seeds, the model): a result cached for the same key, the same
        ``compute`` source and the same alwidgets is shown instead of
        computing again. The result must be JSON data.
    start : bool, default=True
        Start at once; otherwise call :meth:`start`.
    """

    def __init__(
        self,
        compute: Callable[[Task], object],
        render: Callable[[object], object] | None = None,
        *,
        title: str = "",
        total: int | None = None,
        cache_key=None,
        start: bool = True,
    ):
        if not callable(compute):
            raise InvalidParameterError(f"compute must be a function compute(task) -> result; got {compute!r}")
        if render is not None and not callable(render):
            raise InvalidParameterError(f"render must be a function render(value) -> parts, or None; got {render!r}")
        self.compute = compute
        self.render = render
        self.cache_path = None if cache_key is None else _cache_file(cache_key, compute)
        self.result = None
        self.latest = None  # the last partial result, then the result: what another run may draw with meanwhile
        self.error: BaseException | None = None
        self.errors: list[str] = []  # the error in words (see alwidgets.widgets._guard.report_error)
        self._ui_lock = threading.RLock()  # held while this run's traits are written (the kernel or the worker)
        self.from_cache = False
        self.seconds: float | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._started_at: float | None = None
        self._total = total
        self._done_callbacks: list[Callable[[BackgroundRun], object]] = []  # called when the run is over
        self._over = False  # set as the callbacks are taken: a callback given later is called at once

        self.title = widgets.HTML(title)
        self.title.add_class("alw-background-title")
        self.bar = widgets.IntProgress(value=0, min=0, max=max(1, total or 1), bar_style="info",
                                       layout=widgets.Layout(width="320px"))
        self.bar.add_class("alw-background-bar")
        self.status = widgets.HTML("<i>waiting to start…</i>")
        self.status.add_class("alw-background-status")
        self.results = widgets.VBox()
        self.results.add_class("alw-background-results")
        super().__init__([self.title, widgets.HBox([self.bar, self.status]), self.results])
        self.add_class("alw-background")
        self._worker = Worker(self._run, on_idle=self._ended, name="alwidgets-background", cancel=self._stop.set)
        _RUNS.add(self)
        if start:
            self.start()

    # ------------------------------------------------------------------ public API

    @property
    def done(self) -> bool:
        """Whether ``compute`` has returned (or raised)."""
        return self._done.is_set()

    def start(self) -> None:
        """Start the run (once)."""
        if self._started_at is None:
            self._started_at = time.monotonic()
            with self._ui_lock:
                self.status.value = "<i>starting…</i>"
            self._worker.request()

    def stop(self) -> None:
        """Ask ``compute`` to stop early (it checks ``task.stopped``)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is over; returns False if ``timeout`` passed first."""
        return self._done.wait(timeout)

    def progress_text(self) -> str:
        """How far the run has got, as its status line says it ("12/60 · questions asked"), in plain text."""
        return _plain(self.status.value)

    def when_done(self, callback: Callable[[BackgroundRun], object]) -> None:
        """Call ``callback(run)`` once the run is over (at once, if it is): on the run's thread, or this one."""
        with self._ui_lock:
            if not self._over:
                self._done_callbacks.append(callback)
                return
        callback(self)

    def get(self, timeout: float | None = None):
        """The result, once the run is over; re-raises its error."""
        if not self.wait(timeout):
            raise TimeoutError(f"the background run did not finish within {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result

    # ------------------------------------------------------------------ the thread

    @guarded("the background run")
    def _run(self) -> None:
        """The worker's task: ``compute``, or the cached result. An error goes to :meth:`_show_problem`."""
        _lower_priority()
        cached = _read_cache(self.cache_path)
        if cached is not None:
            self.result, self.from_cache = cached["result"], True
            self.latest = self.result
            self._show_result(self.result)
            self._finish(f"measured {html.escape(cached['when'])}, in {cached['seconds']:.0f} s; "
                         f"cached in <code>{html.escape(str(self.cache_path))}</code> (delete it to measure "
                         "again)")
            return
        started = time.monotonic()
        task = Task(self)
        result = self.compute(task)
        self.seconds = time.monotonic() - started
        self.result = self.latest = result
        self._show_result(result)
        note = ""
        if self.cache_path is not None and not self._stop.is_set():
            _write_cache(self.cache_path, result, self.seconds)
            note = f"; cached in <code>{html.escape(str(self.cache_path))}</code>"
        state = "stopped" if self._stop.is_set() else "done"
        self._finish(f"{state} in {_duration(self.seconds)}{note}")

    @guarded("the background run")
    def _ended(self) -> None:
        """The worker's idle callback, after :meth:`_run` (and its error, if any, is shown): the run is over."""
        with self._ui_lock:
            self._over = True
            callbacks, self._done_callbacks = self._done_callbacks, []
        self._worker.stop()  # the worker's thread ends: one run per BackgroundRun
        try:
            for callback in callbacks:
                call_apart(callback, self)  # another widget's method: its own guard says its errors
        finally:
            self._done.set()  # last: whoever waits for the run finds its callbacks called

    def _show_problem(self, message: str, error: BaseException) -> None:
        """What :func:`~alwidgets.widgets._guard.report_error` calls: kept in :attr:`error`, said in red."""
        if self.error is None:
            self.error = error
        self.bar.bar_style = "danger"
        self.status.value = f"<span style='color:#b00020'>{html.escape(message)}</span>"

    def _finish(self, text: str) -> None:
        with self._ui_lock:
            self.bar.max = max(1, self.bar.max)
            self.bar.value = self.bar.max
            self.bar.bar_style = "success"
            self.status.value = f"<span style='color:#333'>{text}</span>"

    def _set_progress(self, done: int, total: int | None, text: str | None) -> None:
        with self._ui_lock:
            if total is not None:
                self._total = int(total)
                self.bar.max = max(1, self._total)
            self.bar.value = min(int(done), self.bar.max)
            parts = [f"{int(done)}/{self._total}" if self._total else str(int(done))]
            elapsed = time.monotonic() - (self._started_at or time.monotonic())
            if self._total and 0 < done < self._total:
                parts.append(f"about {_duration(elapsed / done * (self._total - done))} left")
            if text:
                parts.append(html.escape(text))
            self.status.value = " · ".join(parts)

    def _set_status(self, text: str) -> None:
        """Say ``text`` (HTML) after the steps done so far, in place of the last text."""
        with self._ui_lock:
            done = self.bar.value
            self.status.value = " · ".join([f"{done}/{self._total}" if self._total else str(done), text])

    def _show_result(self, value) -> None:
        if self.render is None:
            if value is not None:
                self._show_parts([f"<pre>{html.escape(str(value))}</pre>"])
            return
        parts = self.render(value)
        self._show_parts(parts if isinstance(parts, (list, tuple)) else [parts])

    def _show_parts(self, parts) -> None:
        children = [_as_widget(part) for part in parts if part is not None]
        with self._ui_lock:
            self.results.children = children


class RunButton(widgets.VBox):
    """A button that starts a :class:`BackgroundRun`, and below it the run it started.

    A click is seen at once, before any work is done: the button is disabled
    and says ``busy``, and the new run's bar and status ("starting…") take the
    place of the last run's (which is stopped, if it still runs). When the run
    is over, the button is enabled again.

    Parameters
    ----------
    make_run : callable
        ``make_run() -> BackgroundRun``, called on each click (and by
        :meth:`run`); the run it returns starts at once.
    description : str
        The button's text.
    busy : str
        The button's text while its run runs.
    controls : sequence of widgets
        Shown left of the button (a slider the run reads).
    icon, button_style : str
        As for ``ipywidgets.Button``.
    """

    def __init__(self, make_run: Callable[[], BackgroundRun], *, description: str = "Run", busy: str = "Running…",
                 controls=(), icon: str = "play", button_style: str = "success"):
        if not callable(make_run):
            raise InvalidParameterError(f"make_run must be a function make_run() -> BackgroundRun; got {make_run!r}")
        self.make_run = make_run
        self.idle_text = str(description)
        self.busy_text = str(busy)
        self.current: BackgroundRun | None = None  # the run the last click started
        self.errors: list[str] = []
        self._ui_lock = threading.RLock()  # held while this widget's traits are written (the kernel, or a run's end)
        self.button = widgets.Button(description=self.idle_text, icon=icon, button_style=button_style,
                                     layout=widgets.Layout(width="auto"))
        self.button.add_class("alw-run-button")
        self.button.on_click(self._on_click)
        self.area = widgets.VBox()
        self.area.add_class("alw-run-area")
        super().__init__([widgets.HBox([*controls, self.button]), self.area])
        self.add_class("alw-run")

    def run(self) -> BackgroundRun:
        """What a click does: the button busy at once, the last run stopped, a new one started below."""
        with self._ui_lock:
            self.button.disabled = True
            self.button.description = self.busy_text
        for old in self.area.children:
            if isinstance(old, BackgroundRun):
                old.stop()  # a run still going for other settings is not wanted any more
        new = self.make_run()
        if not isinstance(new, BackgroundRun):
            raise InvalidParameterError(f"make_run must return a BackgroundRun; got {type(new).__name__}")
        with self._ui_lock:
            self.current = new
            self.area.children = [new]
        new.when_done(self.run_over)
        return new

    @guarded("the run")
    def _on_click(self, _button) -> None:
        self.run()

    @guarded("the run")
    def run_over(self, run: BackgroundRun) -> None:
        """``run`` is over: the button is enabled again, if it is the last one started. Thread-safe."""
        with self._ui_lock:
            if run is self.current:
                self.button.disabled = False
                self.button.description = self.idle_text

    def _show_problem(self, message: str, error: BaseException) -> None:
        """What :func:`~alwidgets.widgets._guard.report_error` calls: the error in red below, the button back."""
        with self._ui_lock:
            self.button.disabled = False
            self.button.description = self.idle_text
            self.area.children = [*self.area.children,
                                  widgets.HTML(f"<span style='color:#b00020'>{html.escape(message)}</span>")]


# ---------------------------------------------------------------------- helpers


def wait_all(timeout: float | None = None) -> int:
    """Wait for every background run of this kernel; re-raise the first error. Returns how many ran.

    The test suite calls it at the end of each notebook, so a notebook's
    background results are measured (and must not fail) like its cells.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    runs = list(_RUNS)
    for run in runs:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not run.wait(left):
            raise TimeoutError(f"a background run ({_plain(run.title.value)!r}) did not finish within {timeout} s")
    for run in runs:
        if run.error is not None:
            raise RuntimeError(f"the background run {_plain(run.title.value)!r} failed") from run.error
    return len(runs)


def cached_data(name: str, load: Callable[..., object], **kwargs):
    """``load(**kwargs)``, a data set (a dict or Bunch of arrays and strings), loaded once and then cached.

    The first call stores the arrays in ``<cache_dir()>/<name>-<key>.npz``; later
    calls, in any kernel, read them back in milliseconds (without pickle). The
    key covers ``kwargs`` and :func:`_fingerprint`. Returns a ``sklearn.utils.Bunch``.
    """
    from sklearn.utils import Bunch

    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidParameterError(f"name must be a plain word such as 'mnist' (it names the cache file); got {name!r}")
    try:
        key = json.dumps(kwargs, sort_keys=True)
    except TypeError as error:
        raise InvalidParameterError(f"the arguments of load must be JSON data to key the cache; got {kwargs!r}") \
            from error
    path = cache_dir() / f"{name}-{hashlib.sha256(f'{key} {_fingerprint()}'.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                kinds = json.loads(str(stored["__kinds__"]))
                data = {k: _restore(stored[k], kind) for k, kind in kinds.items() if isinstance(kind, str)}
                data.update({k: data[kind["reshape"]].reshape(kind["shape"]) for k, kind in kinds.items()
                             if not isinstance(kind, str)})
                return Bunch(**{k: data[k] for k in kinds})
        except (OSError, ValueError, KeyError):
            pass  # damaged or from another layout: load again
    data = load(**kwargs)
    arrays, kinds = {}, {}
    for key_name, value in dict(data).items():
        same = next((k for k, a in arrays.items() if isinstance(value, np.ndarray) and kinds[k] == "array"
                     and a.size == value.size and a.dtype == value.dtype and np.shares_memory(a, value)), None)
        if same is not None:  # another shape of an array already stored (MNIST's images are its rows)
            kinds[key_name] = {"reshape": same, "shape": list(value.shape)}
            continue
        arrays[key_name], kinds[key_name] = _storable(name, key_name, value)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
    np.savez(temporary, __kinds__=np.array(json.dumps(kinds)), **arrays)
    os.replace(temporary, path)
    return Bunch(**dict(data))


def _storable(name: str, key: str, value) -> tuple[np.ndarray, str]:
    if isinstance(value, str):
        return np.array(value), "str"
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return np.array(value, dtype=str), "list"
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value, "array"
    if isinstance(value, np.ndarray) and all(isinstance(v, str) for v in value.ravel()):
        return value.astype(str), "object"
    raise TypeError(f"{name}[{key!r}] cannot be cached: only arrays of numbers, strings and lists of strings can; "
                    f"got {type(value).__name__}")


def _restore(array: np.ndarray, kind: str):
    if kind == "str":
        return str(array)
    if kind == "list":
        return [str(v) for v in array]
    if kind == "object":
        return array.astype(object)
    return array


def _fingerprint() -> str:
    """The alwidgets source and the numpy / scikit-learn versions: results depend on all three."""
    import numpy
    import sklearn

    digest = hashlib.sha256(f"{numpy.__version__} {sklearn.__version__}".encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_file(key, compute) -> Path:
    """The file of a key; the key covers ``key``, the source of ``compute`` and :func:`_fingerprint`."""
    try:
        text = json.dumps(key, sort_keys=True)
    except TypeError as error:
        raise InvalidParameterError(f"cache_key must be JSON data (a dict of numbers, strings, lists); got {key!r}") \
            from error
    try:
        source = inspect.getsource(compute)
    except (OSError, TypeError):  # no source to read (a builtin, a lambda typed at a prompt): its bytecode
        source = repr(getattr(getattr(compute, "__code__", None), "co_code", compute))
    name = hashlib.sha256(f"{text} {source} {_fingerprint()}".encode()).hexdigest()[:24]
    return cache_dir() / f"{name}.json"


def _read_cache(path: Path | None):
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # half-written or damaged: measure again
    return data if isinstance(data, dict) and {"result", "when", "seconds"} <= set(data) else None


def _write_cache(path: Path, result, seconds: float) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = {"result": result, "seconds": seconds, "when": time.strftime("%Y-%m-%d %H:%M")}
    temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)  # atomic: a reader sees the old file or the whole new one


def _lower_priority() -> None:
    """Lower this thread's CPU priority (Linux), so the kernel's own thread and the browser come first."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass  # not Linux, or not allowed: run at the normal priority


def _as_widget(part) -> widgets.Widget:
    if isinstance(part, widgets.Widget):
        return part
    if isinstance(part, (bytes, bytearray)):
        # At its own size (a flex column would stretch it to the page's width), never wider than the page.
        return widgets.Image(value=bytes(part), format="png",
                             layout=widgets.Layout(width="auto", max_width="100%", align_self="flex-start"))
    if isinstance(part, str):
        return widgets.HTML(part)
    raise TypeError(f"a result part must be HTML text, PNG bytes or a widget; got {type(part).__name__}")


def _duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _plain(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)
