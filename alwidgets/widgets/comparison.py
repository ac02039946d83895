"""Classroom mode: query strategies racing side by side, live, with Play / Pause / Step.

:class:`StrategyComparison` is the view over a :class:`alwidgets.experiments.comparison.Comparison`:
one panel per strategy (its live plot and score), a shared learning curve,
the "labels saved" readout, and the controls a teacher needs (speed, budget,
oracle noise, a target score). Play runs the race on a background thread, so
the page stays responsive and Pause takes effect within one step. The
pictures are drawn by :class:`~alwidgets.widgets.race_drawing.RaceDrawing`;
every rule of the race (budgets, the oracle, labels saved) is the engine's.

"You vs the strategies": the person races too, in a panel of their own. The
plots are PNG images (they work everywhere, Voila included). On a 2-D (or
projected) plot the person clicks a point to ask about it: their panel is a
:class:`~alwidgets.widgets.clickable.ClickableImage`, which reports where it
was clicked, and the click goes to the unlabeled item drawn nearest. A dozen
candidate items are also drawn numbered on the panel and offered in a
dropdown, the keyboard-accessible way to pick (and the only one for images
and 1-D regression). ipympl is not needed and not used.

Threads: the kernel's thread (clicks) and the race's worker (steps and
redraws) both write traits, always under ``_ui_lock``, and only to assign what
was drawn or computed before the lock was taken. The worker's own lock is
taken before ``_ui_lock`` (``on_busy`` and ``on_idle`` run under it), never
after: nothing here asks the worker anything while holding ``_ui_lock``.
"""

from __future__ import annotations

import html
import threading
import time

import ipywidgets as widgets
import numpy as np

from alwidgets import plots
from alwidgets._validation import InvalidParameterError, check_int
from alwidgets.experiments.comparison import REFERENCE, YOU, Comparison
from alwidgets.widgets._guard import guarded
from alwidgets.widgets.clickable import ClickableImage
from alwidgets.widgets.race_controls import RaceControls, RacePanels, YourPicks
from alwidgets.widgets.race_drawing import (
    RaceDrawing,
    as_number,
    caption,
    choose_view,
    fmt_value,
    note,
    panel_title,
    saved_table,
    your_candidates,
)
from alwidgets.widgets.worker import Worker

__all__ = ["StrategyComparison"]

MAX_CANDIDATES = 30


class StrategyComparison(widgets.VBox):
    """Strategies racing on the same pool with a simulated oracle, side by side.

    The view over a :class:`~alwidgets.Comparison`: pass a race, or pass what
    ``Comparison`` takes (``model, X, y, strategies=..., budget=...``) and the
    widget builds the race itself.

    Parameters
    ----------
    race : Comparison, or the model of a new one
        The race to show. Anything else is the first argument of
        :class:`~alwidgets.Comparison`, and ``race_args`` / ``race_kwargs``
        are the rest of its arguments.
    view : {"auto", "boundary", "regression", "image"}
        What each panel draws: the decision boundary with the uncertainty and
        the next query ringed (2-D data, or a shared PCA projection beyond),
        the mean ± std band (1-D regression), or the image each strategy asks
        about. "auto" picks regression for regressors, image when ``images``
        is given, else boundary.
    images : array-like of shape (n_items, h, w), optional
        Pictures of the pool items, for the image view.
    target : float, optional
        Score for "labels saved"; default: random's latest score.
    speed : float, default=4.0
        Steps per second while playing (at most; plots take their time too).
    n_candidates : int, default=12
        Items offered to the person in "you vs the strategies" mode.
    X_grid : array-like of shape (n_points, 1), optional
        Where the regression view draws its mean and band; default spans the pool.
    """

    def __init__(
        self,
        race,
        *race_args,
        view: str = "auto",
        images=None,
        target: float | None = None,
        speed: float = 4.0,
        n_candidates: int = 12,
        X_grid=None,
        **race_kwargs,
    ):
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not speed > 0:
            raise InvalidParameterError(f"speed must be a positive number of steps per second; got {speed!r}")
        self.n_candidates = check_int(n_candidates, "n_candidates")
        if self.n_candidates > MAX_CANDIDATES:
            raise InvalidParameterError(f"n_candidates must be at most {MAX_CANDIDATES}; got {n_candidates}")
        if isinstance(race, Comparison):
            if race_args or race_kwargs:
                raise InvalidParameterError("pass either a Comparison, or the arguments of a new one, not both")
        else:
            race = Comparison(race, *race_args, **race_kwargs)
        self.race = race
        self.view = choose_view(view, self.race.is_classifier, images)
        self.images = None if images is None else np.asarray(images)
        if self.images is not None and len(self.images) != self.race.n_pool:
            raise ValueError(f"images must hold one picture per pool item ({self.race.n_pool}); got {len(self.images)}")
        self.X_grid = X_grid
        self.projection = plots.make_projection(self.race.X) if self.view == "boundary" else None
        self.drawing = RaceDrawing(self.view, self.projection, self.images, X_grid)
        self.errors: list[str] = []  # every problem, in the words shown (see alwidgets.widgets._guard.report_error)
        self._failures: list[BaseException] = []  # the exceptions of failed steps, for run() to raise

        self._ui_lock = threading.RLock()  # held while traits are written, by the kernel or the worker
        self._queue_lock = threading.Lock()
        self._queued = 0  # Step presses not yet run
        self._playing = False
        self._busy = False  # the worker's state as its on_busy / on_idle last said (read under _ui_lock)
        self._wake = threading.Event()  # cuts Play's wait between steps short on Pause
        self._message = ""
        self._message_is_error = False
        self._worker = Worker(self._run_queued, on_busy=self._worker_busy, on_idle=self._worker_idle,
                              name="alwidgets-race")
        self._target_value = None if target is None else float(target)

        self._build(speed, target)
        super().__init__(
            children=[self.controls, self.your_picks, self.race_panels.grid, self.race_panels.bottom],
            layout=widgets.Layout(width="100%"),
        )
        self.add_class("alw-comparison")
        # The first drawing of every panel takes most of a second: the worker does it, so the controls show at once.
        self._first_draw = True
        self._set_status()
        self._worker.request()

    # ------------------------------------------------------------------ public API

    @property
    def running(self) -> bool:
        """Whether steps are running (or queued) on the background worker."""
        return self._worker.busy

    @property
    def queued(self) -> int:
        """Step presses waiting to run."""
        return self._queued

    @property
    def frames(self) -> int:
        """How many times a panel was drawn (tests and the browser watch it)."""
        return self.drawing.frames

    @guarded("play")
    def play(self) -> None:
        """Run steps on the background worker until the budget is spent or :meth:`pause`."""
        if self._refuse_when_done():
            return
        self._playing = True
        self._worker.request()
        self._show_controls()

    @guarded("pause")
    def pause(self) -> None:
        """Stop after the step in progress (if any); queued steps are dropped. Shows at once."""
        with self._queue_lock:
            self._playing = False
            self._queued = 0
        self._wake.set()
        self._show_controls()

    @guarded("step")
    def step(self) -> None:
        """Queue one step (one query, or mini-batch, per strategy): every press counts, in order."""
        if self._refuse_when_done():
            return
        with self._queue_lock:
            self._queued += 1
        self._worker.request()
        self._show_controls()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued step has run; returns False if ``timeout`` passed first."""
        return self._worker.wait(timeout)

    def run(self, n_steps: int, timeout: float | None = None) -> dict:
        """Take ``n_steps`` steps as Step presses would, wait for them, and return the learning curves.

        Raises the error of a step that failed in this run (not of an earlier one).
        """
        n_steps = check_int(n_steps, "n_steps")
        failed_before = len(self._failures)
        with self._queue_lock:
            self._queued += n_steps
        self._worker.request()
        if not self.wait(timeout):
            raise TimeoutError(f"{n_steps} steps did not finish within {timeout} s")
        if len(self._failures) > failed_before:
            raise self._failures[-1]
        return self.race.curves

    @guarded("reset")
    def reset(self) -> None:
        """Start the race again from the same initial labels, with the current budget and noise."""
        self.pause()
        self.wait()
        self.race = self.race.restart(budget=self.budget_input.value, oracle_noise=self.noise_slider.value)
        self._message = ""
        if self.you_toggle.value:
            self.race.add_you()
            self._refresh_candidates()
        self.render()

    def pick(self, idx: int):
        """The person asks for pool item ``idx`` (what the "Ask" button does); returns the oracle's answer."""
        label = self.race.pick(idx)
        self._refresh_candidates()
        self._render_panel(YOU)
        self._render_shared()
        return label

    @property
    def target(self) -> float | None:
        """The score "labels saved" is measured at; None means random's latest score."""
        return self._target_value

    # ------------------------------------------------------------------ building

    def _build(self, speed: float, target) -> None:
        """Compose the parts (:mod:`alwidgets.widgets.race_controls`) and wire their events to guarded methods."""
        self.controls = controls = RaceControls(self.race, speed, target)
        self.play_button, self.pause_button = controls.play_button, controls.pause_button
        self.step_button, self.reset_button = controls.step_button, controls.reset_button
        self.speed_slider, self.budget_input = controls.speed_slider, controls.budget_input
        self.noise_slider, self.target_input = controls.noise_slider, controls.target_input
        self.you_toggle, self.status = controls.you_toggle, controls.status
        self.your_picks = picks = YourPicks()
        self.candidate_dropdown, self.ask_button, self.you_message = (picks.candidate_dropdown, picks.ask_button,
                                                                      picks.you_message)
        self.race_panels = lanes = RacePanels(self.race.strategy_names, clickable_you=self.view == "boundary")
        self.panel_images, self.panel_titles, self.panel_captions = lanes.images, lanes.titles, lanes.captions
        self.panels, self.you_feedback, self._grid = lanes.panels, lanes.you_feedback, lanes.grid
        self.curve_image, self.saved_html = lanes.curve_image, lanes.saved_html

        self.play_button.on_click(self._on_play)
        self.pause_button.on_click(self._on_pause)
        self.step_button.on_click(self._on_step)
        self.reset_button.on_click(self._on_reset)
        self.ask_button.on_click(self._on_ask)
        self.budget_input.observe(self._on_budget, names="value")
        self.noise_slider.observe(self._on_noise, names="value")
        self.target_input.observe(self._on_target, names="value")
        self.you_toggle.observe(self._on_you, names="value")
        if isinstance(self.panel_images[YOU], ClickableImage):
            self.panel_images[YOU].on_click(self._on_plot_click)
        self._layout_grid()

    def _visible_lanes(self) -> list[str]:
        lanes = list(self.race.strategy_names)
        if self.you_toggle.value and YOU in self.race.sessions:
            lanes.append(YOU)
        return lanes

    def _layout_grid(self) -> None:
        lanes = self._visible_lanes()
        with self._ui_lock:
            self.race_panels.show(lanes)

    # ------------------------------------------------------------------ the background run

    def _refuse_when_done(self) -> bool:
        if self.race.done:
            self._message, self._message_is_error = "The budget is spent: raise it, or press Reset to race again.", False
            self._set_status()
            return True
        return False

    def _next_step(self) -> bool:
        """Whether to take another step now (and take a queued press off the queue)."""
        with self._queue_lock:
            if self.race.done:
                self._queued, self._playing = 0, False
                return False
            if self._playing:
                return True
            if self._queued > 0:
                self._queued -= 1
                return True
            return False

    @guarded("the race")
    def _run_queued(self) -> None:
        """The worker's task: run queued steps, or play, one step at a time; a pause takes effect between steps.

        A failed step stops the race (play and the queue) and is reported by the guard.
        """
        try:
            if self._first_draw:
                self._first_draw = False
                self.render()
            while self._next_step():
                started = time.perf_counter()
                self._wake.clear()
                self.race.step()
                self._message = ""  # a step that succeeds clears earlier errors
                self.render()
                if self._playing:
                    self._wake.wait(max(0.0, 1.0 / self.speed_slider.value - (time.perf_counter() - started)))
        except Exception as error:
            with self._queue_lock:
                self._playing, self._queued = False, 0
            self._failures.append(error)
            raise  # to the guard, which puts it on the status line

    def _show_problem(self, message: str, error: BaseException) -> None:
        """What :func:`~alwidgets.widgets._guard.report_error` calls (under ``_ui_lock``): the words on the status line."""
        self._message, self._message_is_error = message, True
        self._set_status()

    @guarded("the race")
    def _worker_busy(self) -> None:
        self._busy = True
        self._show_controls()

    @guarded("the race")
    def _worker_idle(self) -> None:
        self._busy = False
        self._show_controls()

    def _show_controls(self) -> None:
        """Buttons and status as they stand: Pause shows at once, the queue is counted."""
        with self._ui_lock:
            self.play_button.disabled = self._playing
            self.pause_button.disabled = not (self._playing or self._queued)  # a pause shows before the step ends
            self.reset_button.disabled = False
            self._set_status()

    # ------------------------------------------------------------------ events

    @guarded("play")
    def _on_play(self, _button) -> None:
        self.play()

    @guarded("pause")
    def _on_pause(self, _button) -> None:
        self.pause()

    @guarded("step")
    def _on_step(self, _button) -> None:
        self.step()

    @guarded("reset")
    def _on_reset(self, _button) -> None:
        self.reset()

    @guarded("budget")
    def _on_budget(self, change) -> None:
        self.race.budget = int(change["new"])
        self._message = ""
        self._render_shared()
        self._set_status()

    @guarded("oracle noise")
    def _on_noise(self, change) -> None:
        self.race.oracle_noise = float(change["new"])
        self._set_status()

    @guarded("target")
    def _on_target(self, change) -> None:
        text = change["new"].strip()
        value = as_number(text)
        if text and value is None:
            with self._ui_lock:
                self.saved_html.value = note(f"target must be a number such as 0.9; got {html.escape(text)}")
            return
        self._target_value = value
        self._render_shared()

    @guarded("you vs the strategies")
    def _on_you(self, change) -> None:
        if change["new"]:
            self.race.add_you()
            self._refresh_candidates()
            with self._ui_lock:
                self.your_picks.layout.display = "flex"
                if self.view == "boundary" and not self.you_message.value:
                    self.you_message.value = "click a point on your plot, or choose one from the list"
            self._render_panel(YOU)
        else:
            with self._ui_lock:
                self.your_picks.layout.display = "none"
        self._layout_grid()
        self._render_shared()

    @guarded("your pick")
    def _on_ask(self, _button) -> None:
        idx = self.candidate_dropdown.value
        if idx is None:
            self._tell_you(note("no item to pick: your budget is spent or the pool is empty"))
            return
        self._ask(int(idx))

    @guarded("your click")
    def _on_plot_click(self, x: float, y: float) -> None:
        """A click on the person's plot, in PNG pixels: ask about the unlabeled item drawn there."""
        idx, problem = self.drawing.item_at(self.race, x, y)
        if idx is None:
            self._tell_you(note(problem))
            return
        self._ask(idx)

    def _ask(self, idx: int) -> None:
        """The person's pick, from the dropdown or a click: the oracle answers and the panel says what."""
        problem = self.race.pick_problem(idx)
        if problem:
            self._tell_you(note(html.escape(problem)))
            return
        label = self.pick(idx)
        wrong = " (a wrong answer: the oracle is noisy)" if self.race.is_wrong(idx) else ""
        self._tell_you(f"item {idx} is <b>{html.escape(fmt_value(label))}</b>{wrong}")

    def _tell_you(self, message: str) -> None:
        """Answer the person where they look: above the grid and right under their own plot."""
        with self._ui_lock:
            self.you_message.value = message
            self.you_feedback.value = message

    def _candidates(self) -> list[int]:
        return your_candidates(self.race, self.n_candidates, self.view)

    def _refresh_candidates(self) -> None:
        candidates = self._candidates() if self.race.remaining(YOU) > 0 else []
        with self._ui_lock:
            self.your_picks.offer(candidates)

    # ------------------------------------------------------------------ drawing

    def render(self) -> None:
        """Redraw every visible panel, the learning curve and the labels-saved readout."""
        self._set_status()
        for name in self._visible_lanes():
            self._render_panel(name)
        self._render_shared()

    def _render_panel(self, name: str) -> None:
        png = self.drawing.panel(self.race, name, self._candidates() if name == YOU else [])
        words = caption(self.race, name)
        with self._ui_lock:
            self.panel_images[name].value = png
            self.panel_titles[name].value = panel_title(name)
            self.panel_captions[name].value = words

    def _render_shared(self) -> None:
        race, lanes = self.race, self._visible_lanes()
        if self._target_value is None and race.scores()[REFERENCE] is None:
            saved = {}  # no default target before random has a score
        else:
            saved = {name: result for name, result in race.labels_saved(self._target_value).items()
                     if name in lanes}
        target = self._target_value
        if target is None and saved:
            target = next(iter(saved.values())).target
        png = self.drawing.curve(race, lanes, target)
        table = saved_table(saved, target, race.score_name)
        with self._ui_lock:
            self.curve_image.value = png
            self.saved_html.value = table

    def _set_status(self) -> None:
        race = self.race
        if self._playing:
            state = "playing"
        elif self._queued:
            state = f"{self._queued} step{'s' * (self._queued != 1)} queued"
        elif self._busy:
            state = "drawing…" if self.frames == 0 else "finishing this step…"
        else:
            state = "budget spent" if race.done else "paused"
        used = max(race.used(name) for name in race.strategy_names)
        noise = f" · oracle wrong on {race.oracle_noise:.0%} of items" if race.oracle_noise else ""
        text = (
            f"step {race.n_steps} · {used}/{race.budget} labels per strategy "
            f"(+{race.n_initial} initial, batch of {race.batch_size}){noise} · <b>{state}</b>"
        )
        if self._message:
            color = "#b00020" if self._message_is_error else "#333"
            text += f" · <span style='color:{color}'>{html.escape(self._message)}</span>"
        with self._ui_lock:
            self.status.value = f"<span style='color:#333'>{text}</span>"
