"""Classroom mode: query strategies racing side by side, live, with Play / Pause / Step.

:class:`StrategyComparison` is the view over a :class:`alwidgets.experiments.comparison.Comparison`:
one panel per strategy (its live plot and score), a shared learning curve,
the "labels saved" readout, and the controls a teacher needs (speed, budget,
oracle noise, a target score). Play runs the race on a background thread, so
the page stays responsive and Pause takes effect within one step.

"You vs the strategies": the person races too, in a panel of their own. The
plots are PNG images (they work everywhere, Voila included). On a 2-D (or
projected) plot the person clicks a point to ask about it: their panel is a
:class:`~alwidgets.widgets.clickable.ClickableImage`, which reports where it
was clicked, and the click goes to the unlabeled item drawn nearest. A dozen
candidate items are also drawn numbered on the panel and offered in a
dropdown, the keyboard-accessible way to pick (and the only one for images
and 1-D regression). ipympl is not needed and not used.
"""

from __future__ import annotations

import html
import math
import threading
import time

import ipywidgets as widgets
import numpy as np

from alwidgets import plots
from alwidgets.experiments.comparison import REFERENCE, YOU, Comparison
from alwidgets.widgets._guard import describe, guarded
from alwidgets.widgets.clickable import ClickableImage
from alwidgets.widgets.worker import Worker

__all__ = ["StrategyComparison"]

PANEL_FIGSIZE = (4.0, 3.1)
PANEL_DPI = 96  # 384 x 298 pixels: sharp in a third of a projector-wide page
PANEL_RESOLUTION = 60
CURVE_FIGSIZE = (6.4, 3.4)
CURVE_DPI = 90
VIEWS = ("auto", "boundary", "regression", "image")
CLICK_RADIUS = 12.0  # PNG pixels: a click this close to a drawn point picks it


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
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}; got {view!r}")
        if not (isinstance(speed, (int, float)) and speed > 0):
            raise ValueError(f"speed must be a positive number of steps per second; got {speed!r}")
        if isinstance(n_candidates, bool) or not isinstance(n_candidates, int) or not 1 <= n_candidates <= 30:
            raise ValueError(f"n_candidates must be an integer from 1 to 30; got {n_candidates!r}")
        if isinstance(race, Comparison):
            if race_args or race_kwargs:
                raise TypeError("pass either a Comparison, or the arguments of a new one, not both")
        else:
            race = Comparison(race, *race_args, **race_kwargs)
        self.race = race
        self.view = self._choose_view(view, images)
        self.images = None if images is None else np.asarray(images)
        if self.images is not None and len(self.images) != self.race.n_pool:
            raise ValueError(f"images must hold one picture per pool item ({self.race.n_pool}); got {len(self.images)}")
        self.n_candidates = n_candidates
        self.X_grid = X_grid
        self.projection = plots.make_projection(self.race.X) if self.view == "boundary" else None
        self.errors: list[BaseException] = []
        self.frames = 0  # how many times the plots were redrawn (tests and the browser watch it)

        self._queue_lock = threading.Lock()
        self._queued = 0  # Step presses not yet run
        self._playing = False
        self._wake = threading.Event()  # cuts Play's wait between steps short on Pause
        self._message = ""
        self._message_is_error = False
        self._worker = Worker(self._run_queued, on_error=self._race_failed, on_busy=self._show_controls,
                              on_idle=self._show_controls, name="alwidgets-race")
        self._draw_lock = threading.RLock()
        self._axes: dict[str, object] = {}
        self._target_value = None if target is None else float(target)

        self._build_controls(speed, target)
        self._build_panels()
        super().__init__(
            children=[self._controls, self._you_box, self._grid, self._bottom],
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
        if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer; got {n_steps!r}")
        failed_before = len(self.errors)
        with self._queue_lock:
            self._queued += n_steps
        self._worker.request()
        if not self.wait(timeout):
            raise TimeoutError(f"{n_steps} steps did not finish within {timeout} s")
        if len(self.errors) > failed_before:
            raise self.errors[-1]
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

    def _choose_view(self, view: str, images) -> str:
        if view == "auto":
            if not self.race.is_classifier:
                return "regression"
            return "image" if images is not None else "boundary"
        if view == "regression" and self.race.is_classifier:
            raise ValueError("view='regression' needs a regressor; use 'boundary' or 'image' for a classifier")
        if view == "boundary" and not self.race.is_classifier:
            raise ValueError("view='boundary' needs a classifier; use 'regression' for a regressor")
        if view == "image" and images is None:
            raise ValueError("view='image' needs images=: the pictures of the pool items")
        return view

    def _build_controls(self, speed: float, target) -> None:
        self.play_button = widgets.Button(description="Play", icon="play", button_style="success",
                                          tooltip="Run the race until the budget is spent")
        self.pause_button = widgets.Button(description="Pause", icon="pause", tooltip="Stop after this step",
                                           disabled=True)
        self.step_button = widgets.Button(description="Step", icon="step-forward",
                                          tooltip="Every strategy asks one query (or one mini-batch)")
        self.reset_button = widgets.Button(description="Reset", icon="undo",
                                           tooltip="Start again from the same initial labels")
        for button, css in ((self.play_button, "alw-play"), (self.pause_button, "alw-pause"),
                            (self.step_button, "alw-step"), (self.reset_button, "alw-reset")):
            button.add_class(css)
            button.layout.width = "auto"
        self.play_button.on_click(lambda _: self.play())
        self.pause_button.on_click(lambda _: self.pause())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())

        style = {"description_width": "initial"}
        self.speed_slider = widgets.FloatSlider(value=min(float(speed), 20.0), min=0.5, max=20.0, step=0.5,
                                                description="speed (steps/s)", style=style)
        room = self.race.n_pool - self.race.n_initial
        self.budget_input = widgets.BoundedIntText(value=self.race.budget, min=1, max=room,
                                                   description="budget (labels)", style=style,
                                                   layout=widgets.Layout(width="190px"))
        self.noise_slider = widgets.FloatSlider(value=self.race.oracle_noise, min=0.0, max=0.5, step=0.05,
                                                description="oracle noise", readout_format=".0%", style=style)
        self.target_input = widgets.Text(value="" if target is None else f"{float(target):g}",
                                         placeholder="random's score", description="target score", style=style,
                                         layout=widgets.Layout(width="220px"))
        self.you_toggle = widgets.ToggleButton(value=False, description="You vs the strategies", icon="user",
                                               tooltip="Race the strategies with your own picks")
        self.you_toggle.add_class("alw-you-toggle")
        self.you_toggle.layout.width = "auto"
        self.status = widgets.HTML()
        self.status.add_class("alw-status")

        self.budget_input.observe(self._on_budget, names="value")
        self.noise_slider.observe(self._on_noise, names="value")
        self.target_input.observe(self._on_target, names="value")
        self.you_toggle.observe(self._on_you, names="value")

        buttons = widgets.HBox([self.play_button, self.pause_button, self.step_button, self.reset_button,
                                self.you_toggle])
        settings = widgets.HBox([self.speed_slider, self.budget_input, self.noise_slider, self.target_input],
                                layout=widgets.Layout(flex_flow="row wrap"))
        self._controls = widgets.VBox([buttons, settings, self.status])

        self.candidate_dropdown = widgets.Dropdown(description="your pick", style=style,
                                                   layout=widgets.Layout(width="260px"))
        self.ask_button = widgets.Button(description="Ask the oracle", icon="question",
                                         tooltip="Label the chosen item (the simulated oracle answers)")
        self.ask_button.add_class("alw-you-pick")
        self.ask_button.on_click(lambda _: self._on_ask())
        self.you_message = widgets.HTML()
        self._you_box = widgets.HBox([self.candidate_dropdown, self.ask_button, self.you_message],
                                     layout=widgets.Layout(display="none"))
        self._you_box.add_class("alw-you")

    def _build_panels(self) -> None:
        self.panel_images: dict[str, widgets.Image | ClickableImage] = {}
        self.panel_titles: dict[str, widgets.HTML] = {}
        self.panel_captions: dict[str, widgets.HTML] = {}
        self.panels: dict[str, widgets.VBox] = {}
        for name in [*self.race.strategy_names, YOU]:
            layout = widgets.Layout(width="100%", max_width="420px", height="auto")
            if name == YOU and self.view == "boundary":
                image = ClickableImage(format="png", layout=layout,
                                       description="Your panel: click a point to ask the oracle about it")
                image.add_class("alw-you-plot")
                image.on_click(self._on_plot_click)
            else:
                image = widgets.Image(format="png", layout=layout)
            image.add_class("alw-panel-image")
            title = widgets.HTML()
            caption = widgets.HTML()
            parts = [title, image, caption]
            if name == YOU:
                self.you_feedback = widgets.HTML()
                self.you_feedback.add_class("alw-you-feedback")
                parts = [title, image, self.you_feedback, caption]
            panel = widgets.VBox(parts,
                                 layout=widgets.Layout(border="1px solid #ddd", padding="4px", min_width="0"))
            panel.add_class("alw-panel")
            panel.add_class(f"alw-panel-{name}")
            self.panel_images[name], self.panel_titles[name] = image, title
            self.panel_captions[name], self.panels[name] = caption, panel
        self._grid = widgets.GridBox(layout=widgets.Layout(width="100%", grid_gap="6px"))
        self._layout_grid()

        self.curve_image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="720px",
                                                                             height="auto"))
        self.curve_image.add_class("alw-curve")
        curve_box = widgets.Box([self.curve_image], layout=widgets.Layout(width="58%", min_width="320px"))
        curve_box.add_class("alw-curve")  # so both `img.alw-curve` and `.alw-curve img` find it
        self.saved_html = widgets.HTML(layout=widgets.Layout(width="40%", min_width="260px"))
        self.saved_html.add_class("alw-saved")
        self._bottom = widgets.HBox([curve_box, self.saved_html], layout=widgets.Layout(flex_flow="row wrap"))

    def _visible_lanes(self) -> list[str]:
        lanes = list(self.race.strategy_names)
        if self.you_toggle.value and YOU in self.race.sessions:
            lanes.append(YOU)
        return lanes

    def _layout_grid(self) -> None:
        lanes = self._visible_lanes()
        columns = min(3, len(lanes))
        self._grid.layout.grid_template_columns = f"repeat({columns}, minmax(0, 1fr))"
        self._grid.children = tuple(self.panels[name] for name in lanes)

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

    def _run_queued(self) -> None:
        """The worker's task: run queued steps, or play, one step at a time; a pause takes effect between steps."""
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

    def _race_failed(self, error: BaseException) -> None:
        with self._queue_lock:
            self._playing, self._queued = False, 0
        self.errors.append(error)
        self._report_error("the race", error)

    def _report_error(self, action: str, error: BaseException) -> None:
        """What :func:`guarded` calls: the exception in words on the status line."""
        self._message, self._message_is_error = describe(action, error), True
        self._set_status()

    def _show_controls(self) -> None:
        """Buttons and status as they stand: Pause shows at once, the queue is counted."""
        self.play_button.disabled = self._playing
        self.pause_button.disabled = not (self._playing or self._queued)  # a pause shows at once, before the step ends
        self.reset_button.disabled = False
        self._set_status()

    # ------------------------------------------------------------------ events

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
        if not text:
            self._target_value = None
        else:
            try:
                value = float(text)
            except ValueError:
                self.saved_html.value = _note(f"target must be a number such as 0.9; got {html.escape(text)!s}")
                return
            if not math.isfinite(value):
                self.saved_html.value = _note("target must be a finite number")
                return
            self._target_value = value
        self._render_shared()

    @guarded("you vs the strategies")
    def _on_you(self, change) -> None:
        if change["new"]:
            self.race.add_you()
            self._refresh_candidates()
            self._you_box.layout.display = "flex"
            if self.view == "boundary" and not self.you_message.value:
                self.you_message.value = "click a point on your plot, or choose one from the list"
            self._render_panel(YOU)
        else:
            self._you_box.layout.display = "none"
        self._layout_grid()
        self._render_shared()

    @guarded("your pick")
    def _on_ask(self) -> None:
        idx = self.candidate_dropdown.value
        if idx is None:
            self._tell_you(_note("no item to pick: your budget is spent or the pool is empty"))
            return
        self._ask(int(idx))

    @guarded("your click")
    def _on_plot_click(self, x: float, y: float) -> None:
        """A click on the person's plot, in PNG pixels: ask about the unlabeled item drawn there."""
        idx, problem = self._item_at(x, y)
        if idx is None:
            self._tell_you(_note(problem))
            return
        self._ask(idx)

    def _ask(self, idx: int) -> None:
        """The person's pick, from the dropdown or a click: the oracle answers and the panel says what."""
        try:
            label = self.pick(idx)
        except ValueError as error:
            self._tell_you(_note(html.escape(str(error))))
            return
        wrong = " (a wrong answer: the oracle is noisy)" if self.race.is_wrong(idx) else ""
        self._tell_you(f"item {idx} is <b>{html.escape(_fmt(label))}</b>{wrong}")

    def _tell_you(self, message: str) -> None:
        """Answer the person where they look: above the grid and right under their own plot."""
        self.you_message.value = message
        self.you_feedback.value = message

    def _item_at(self, x: float, y: float) -> tuple[int | None, str]:
        """The unlabeled item drawn within ``CLICK_RADIUS`` pixels of ``(x, y)``, or None and why not."""
        if YOU not in self.race.sessions:
            return None, "turn on \"You vs the strategies\" first"
        if self.race.used(YOU) >= self.race.budget:
            return None, f"your budget of {self.race.budget} labels is spent: nothing was recorded"
        session = self.race.sessions[YOU]
        with self._draw_lock:
            ax = self._axes.get(YOU)
            if ax is None:
                return None, "your plot is not drawn yet"
            # The PNG is rendered at the figure's own dpi, so its pixels are the figure's.
            idx = plots.nearest_item(session, plots.pixel_to_data(ax, x, y), projection=self.projection)
            if idx is not None:
                point = self.projection.transform(_rows(self.race.X, [idx]))[0]
                px, py = ax.transData.transform(point)
                py = ax.figure.bbox.height - py  # PNG rows count from the top
        if idx is None:
            return None, "every item is labeled: nothing left to pick"
        if math.hypot(px - x, py - y) > CLICK_RADIUS:
            return None, "no unlabeled point where you clicked: click on a point, or pick one from the list"
        return idx, ""

    def _candidates(self) -> list[int]:
        """The person's candidates, numbered left to right on a 1-D regression plot."""
        candidates = self.race.candidates(self.n_candidates)
        if self.view == "regression":
            x = np.asarray(_rows(self.race.X, candidates), dtype=float)[:, 0]
            candidates = [candidates[k] for k in np.argsort(x, kind="stable")]
        return candidates

    def _refresh_candidates(self) -> None:
        if self.race.remaining(YOU) <= 0:
            self.candidate_dropdown.options = []
            self.ask_button.disabled = True
            return
        candidates = self._candidates()
        keep = self.candidate_dropdown.value if self.candidate_dropdown.value in candidates else candidates[0]
        self.candidate_dropdown.options = [(f"{k}: item {idx}", idx) for k, idx in enumerate(candidates, 1)]
        self.candidate_dropdown.value = keep
        self.ask_button.disabled = False

    # ------------------------------------------------------------------ drawing

    def render(self) -> None:
        """Redraw every visible panel, the learning curve and the labels-saved readout."""
        self._set_status()
        for name in self._visible_lanes():
            self._render_panel(name)
        self._render_shared()

    def _render_panel(self, name: str) -> None:
        session = self.race.sessions[name]
        with self._draw_lock:
            ax = self._axes.get(name)
            if ax is None:
                ax = self._axes[name] = plots.new_axes(figsize=PANEL_FIGSIZE, dpi=PANEL_DPI)
            query = self.race.next_query(name)
            candidates = self._candidates() if name == YOU else []
            if self.view in ("boundary", "regression"):
                if self.view == "boundary":
                    plots.plot_decision_boundary(session, ax, query=query, projection=self.projection,
                                                 resolution=PANEL_RESOLUTION)
                    if candidates:
                        self._number_points(ax, self.projection.transform(_rows(self.race.X, candidates)))
                else:
                    plots.plot_regression(session, ax, X_grid=self.X_grid, query=query, y_true=self.race.y)
                    if candidates:
                        # Along the bottom, numbered left to right; neighbours alternate in height.
                        x = np.asarray(_rows(self.race.X, candidates), dtype=float)[:, 0]
                        low, high = ax.get_ylim()
                        y = low + (high - low) * np.where(np.arange(len(x)) % 2 == 0, 0.05, 0.13)
                        self._number_points(ax, np.column_stack([x, y]))
                # Panels share their axes: ticks and all but one legend only cost drawing time.
                ax.set_title("")
                ax.set_xticks([])
                ax.set_yticks([])
                legend = ax.get_legend()
                if legend is not None and name != self.race.strategy_names[0]:
                    legend.remove()
            else:
                self._draw_images(ax, name, query, candidates)
            png = plots.figure_to_png(ax)
            self.frames += 1
        self.panel_images[name].value = png
        color = plots.strategy_color(name)
        self.panel_titles[name].value = (
            f"<b style='color:{color};font-size:1.05em'>{html.escape(_lane_title(name))}</b>"
        )
        self.panel_captions[name].value = self._caption(name)

    def _draw_images(self, ax, name: str, query: list[int], candidates: list[int]) -> None:
        if candidates:
            plots.plot_image(_montage(self.images[candidates]), ax, title="your candidates")
            side = self.images.shape[1]
            columns = min(4, len(candidates))
            for k in range(len(candidates)):
                row, col = divmod(k, columns)
                ax.text(col * (side + 1) + 1, row * (side + 1) + 1, str(k + 1), color="#ffdd00", fontsize=9,
                        fontweight="bold", va="top", ha="left")
            return
        session = self.race.sessions[name]
        if len(query) > 1:  # a mini-batch: every item of it
            plots.plot_image(_montage(self.images[query], columns=5), ax, title=f"asks next: {len(query)} items")
        elif query:
            idx = query[0]
            plots.plot_image(self.images[idx], ax, title=f"asks next: item {idx}")
        elif session.labels:
            idx = list(session.labels)[-1]
            plots.plot_image(self.images[idx], ax, title=f"last asked: item {idx}")

    @staticmethod
    def _number_points(ax, xy: np.ndarray) -> None:
        plots.number_points(ax, xy)  # discs that would overlap move aside, tied to their point

    def _caption(self, name: str) -> str:
        session = self.race.sessions[name]
        score = self.race.scores()[name]
        score_text = "no score yet" if score is None else f"{self._score_name()} {score:.3f}"
        used = self.race.used(name)
        wrong = self.race.wrong_answers[name]
        noisy = f" · {wrong} wrong answer{'s' * (wrong != 1)}" if wrong else ""
        parts = [f"{score_text} · {used}/{self.race.budget} labels asked ({session.n_labeled} known){noisy}"]
        first_stop = session.stopping()["first_stop"]
        if first_stop is not None and first_stop.get("n_labels") is not None:
            parts.append(f"stop signal at {first_stop['n_labels']} labels")
        seconds = self.race.step_seconds[name]
        if seconds:
            parts.append(f"{1000 * float(np.mean(seconds)):.0f} ms per step")
        return f"<span style='font-size:0.9em'>{' · '.join(parts)}</span>"

    def _score_name(self) -> str:
        return self.race.score_name

    def _render_shared(self) -> None:
        curves = {name: self.race.sessions[name].history for name in self._visible_lanes()}
        saved = self._saved(curves)
        target = self._target_value
        if target is None and saved:
            target = next(iter(saved.values())).target
        with self._draw_lock:
            ax = self._axes.get("__curve__")
            if ax is None:
                ax = self._axes["__curve__"] = plots.new_axes(figsize=CURVE_FIGSIZE, dpi=CURVE_DPI)
            plots.plot_learning_curve(curves, ax, target=target, ylabel=self._score_name(),
                                      budget=self.race.n_initial + self.race.budget,
                                      title="Learning curves (same pool, same start)",
                                      stops=self.race.stopping_points())
            png = plots.figure_to_png(ax)
        self.curve_image.value = png
        self.saved_html.value = _saved_table(saved, target, self._score_name())

    def _saved(self, curves: dict) -> dict:
        from alwidgets.experiments.comparison import labels_saved

        try:
            return labels_saved(curves, self._target_value)
        except ValueError:
            return {}

    def _set_status(self) -> None:
        race = self.race
        busy = self._worker.busy
        if self._playing:
            state = "playing"
        elif self._queued:
            state = f"{self._queued} step{'s' * (self._queued != 1)} queued"
        elif busy:
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
        self.status.value = f"<span style='color:#333'>{text}</span>"


# ---------------------------------------------------------------------- helpers


def _rows(X, idx):
    if hasattr(X, "iloc"):
        return X.iloc[idx].to_numpy()
    if hasattr(X, "toarray"):
        return X[idx].toarray()
    return np.asarray(X)[idx]


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)


def _lane_title(name: str) -> str:
    if name == YOU:
        return "you"
    if name == REFERENCE:
        return "random (reference)"
    return name


def _note(text: str) -> str:
    return f"<span style='color:#b00020'>{text}</span>"


def _montage(images: np.ndarray, columns: int = 4) -> np.ndarray:
    """Tile pictures into one, with a one-pixel white gap, for the person's numbered candidates."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 2:  # flat rows: square pictures
        side = int(round(math.sqrt(images.shape[1])))
        images = images.reshape(len(images), side, side)
    n, h, w = images.shape[:3]
    columns = min(columns, n)
    rows = -(-n // columns)
    top = images.max() if images.size else 1.0
    sheet = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1) + images.shape[3:], top)
    for k in range(n):
        r, c = divmod(k, columns)
        sheet[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = images[k]
    return sheet


def _saved_table(saved: dict, target, score_name: str) -> str:
    if not saved:
        return "<i>Labels saved appear once random has a score.</i>"
    rows = []
    for name, result in saved.items():
        color = plots.strategy_color(name)
        cells = [html.escape(cell) for cell in result.cells()]
        rows.append(
            f"<tr><td style='color:{color};font-weight:bold;padding:0 8px'>{html.escape(name)}</td>"
            + "".join(f"<td style='padding:0 8px'>{c}</td>" for c in cells) + "</tr>"
        )
    return (
        f"<div><b>Labels saved</b> to reach {html.escape(score_name)} {target:.3f}"
        "<table style='border-collapse:collapse'>"
        "<tr>" + "".join(f"<th style='text-align:left;padding:0 8px'>{head}</th>"
                         for head in ("strategy", "labels", "random", "saved")) + "</tr>"
        + "".join(rows) + "</table></div>"
    )
