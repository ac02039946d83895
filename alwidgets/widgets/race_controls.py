"""The widgets of the classroom race, built and laid out; :class:`~alwidgets.widgets.comparison.StrategyComparison` wires them.

Nothing here handles an event or reads the race's state after building:
:class:`RaceControls` (the buttons, the settings and the status line),
:class:`YourPicks` (the person's dropdown, Ask button and answer) and
:class:`RacePanels` (a panel per lane, the learning curve and the "labels
saved" readout) are only the parts the view composes. The CSS classes are the
ones the browser tests find.
"""

from __future__ import annotations

import ipywidgets as widgets

from alwidgets.experiments.comparison import YOU
from alwidgets.widgets.clickable import ClickableImage

__all__ = ["RaceControls", "RacePanels", "YourPicks"]

STYLE = {"description_width": "initial"}
MAX_SPEED = 20.0


class RaceControls(widgets.VBox):
    """Play, Pause, Step, Reset, "You vs the strategies"; speed, budget, oracle noise, target; the status line."""

    def __init__(self, race, speed: float, target: float | None):
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
        self.speed_slider = widgets.FloatSlider(value=min(float(speed), MAX_SPEED), min=0.5, max=MAX_SPEED, step=0.5,
                                                description="speed (steps/s)", style=STYLE)
        self.budget_input = widgets.BoundedIntText(value=race.budget, min=1, max=race.n_pool - race.n_initial,
                                                   description="budget (labels)", style=STYLE,
                                                   layout=widgets.Layout(width="190px"))
        self.noise_slider = widgets.FloatSlider(value=race.oracle_noise, min=0.0, max=0.5, step=0.05,
                                                description="oracle noise", readout_format=".0%", style=STYLE)
        self.target_input = widgets.Text(value="" if target is None else f"{float(target):g}",
                                         placeholder="random's score", description="target score", style=STYLE,
                                         layout=widgets.Layout(width="220px"))
        self.you_toggle = widgets.ToggleButton(value=False, description="You vs the strategies", icon="user",
                                               tooltip="Race the strategies with your own picks")
        self.you_toggle.add_class("alw-you-toggle")
        self.you_toggle.layout.width = "auto"
        self.status = widgets.HTML()
        self.status.add_class("alw-status")
        buttons = widgets.HBox([self.play_button, self.pause_button, self.step_button, self.reset_button,
                                self.you_toggle])
        settings = widgets.HBox([self.speed_slider, self.budget_input, self.noise_slider, self.target_input],
                                layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([buttons, settings, self.status])


class YourPicks(widgets.HBox):
    """The person's numbered candidates in a dropdown, the Ask button and the oracle's answer; hidden until asked for."""

    def __init__(self):
        self.candidate_dropdown = widgets.Dropdown(description="your pick", style=STYLE,
                                                   layout=widgets.Layout(width="260px"))
        self.ask_button = widgets.Button(description="Ask the oracle", icon="question",
                                         tooltip="Label the chosen item (the simulated oracle answers)")
        self.ask_button.add_class("alw-you-pick")
        self.you_message = widgets.HTML()
        super().__init__([self.candidate_dropdown, self.ask_button, self.you_message],
                         layout=widgets.Layout(display="none"))
        self.add_class("alw-you")

    def offer(self, candidates: list[int]) -> None:
        """Offer ``candidates``, numbered from 1, keeping the chosen one if it is still offered; none: Ask is off."""
        keep = self.candidate_dropdown.value if self.candidate_dropdown.value in candidates else None
        self.candidate_dropdown.options = [(f"{k}: item {idx}", idx) for k, idx in enumerate(candidates, 1)]
        if candidates:
            self.candidate_dropdown.value = candidates[0] if keep is None else keep
        self.ask_button.disabled = not candidates


class RacePanels:
    """A titled panel per lane (the strategies', then the person's), the learning curve and the readout.

    ``grid`` shows the panels of the lanes given to :meth:`show`; ``bottom``
    holds the curve and the readout.
    """

    def __init__(self, strategy_names: list[str], clickable_you: bool):
        self.images: dict[str, widgets.Image | ClickableImage] = {}
        self.titles: dict[str, widgets.HTML] = {}
        self.captions: dict[str, widgets.HTML] = {}
        self.panels: dict[str, widgets.VBox] = {}
        for name in [*strategy_names, YOU]:
            layout = widgets.Layout(width="100%", max_width="420px", height="auto")
            if name == YOU and clickable_you:
                image = ClickableImage(format="png", layout=layout,
                                       description="Your panel: click a point to ask the oracle about it")
                image.add_class("alw-you-plot")
            else:
                image = widgets.Image(format="png", layout=layout)
            image.add_class("alw-panel-image")
            title, caption = widgets.HTML(), widgets.HTML()
            parts = [title, image, caption]
            if name == YOU:
                self.you_feedback = widgets.HTML()
                self.you_feedback.add_class("alw-you-feedback")
                parts = [title, image, self.you_feedback, caption]
            panel = widgets.VBox(parts, layout=widgets.Layout(border="1px solid #ddd", padding="4px", min_width="0"))
            panel.add_class("alw-panel")
            panel.add_class(f"alw-panel-{name}")
            self.images[name], self.titles[name], self.captions[name], self.panels[name] = image, title, caption, panel
        self.grid = widgets.GridBox(layout=widgets.Layout(width="100%", grid_gap="6px"))

        self.curve_image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="720px",
                                                                             height="auto"))
        self.curve_image.add_class("alw-curve")
        curve_box = widgets.Box([self.curve_image], layout=widgets.Layout(width="58%", min_width="320px"))
        curve_box.add_class("alw-curve")  # so both `img.alw-curve` and `.alw-curve img` find it
        self.saved_html = widgets.HTML(layout=widgets.Layout(width="40%", min_width="260px"))
        self.saved_html.add_class("alw-saved")
        self.bottom = widgets.HBox([curve_box, self.saved_html], layout=widgets.Layout(flex_flow="row wrap"))

    def show(self, lanes: list[str]) -> None:
        """Show the panels of ``lanes``, at most three a row."""
        self.grid.layout.grid_template_columns = f"repeat({min(3, len(lanes))}, minmax(0, 1fr))"
        self.grid.children = tuple(self.panels[name] for name in lanes)
