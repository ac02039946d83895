"""Screenshots of what the lessons mark and name, for docs/screens.md (written to docs/screenshots/).

- notebook 04 and notebook 03 after the autopilot's answers (each a refit), the
  item on screen and the plot that marks it "asked now" (and the model's next
  pick, when the latest model would ask another item);
- a label the model flags, opened to relabel: the suggestion is the model's,
  never the flagged label; items are named by their ids (``img_42.png``);
- a dashboard page of the bundled MNIST campaign (``alwidgets serve``): the
  item is named ``mnist-<N>``, as in the store and the export.

Each page is served by Voila (or ``alwidgets serve``) and driven in Debian's
Chromium, with the set-up of benchmarks/first_render.py. Each picture is
cropped to the widgets it shows.

    .venv/bin/python scripts/screenshots.py [--only 04] [--quick]
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))
import first_render  # noqa: E402  (the benchmark's servers and Chromium set-up)
from notebook_screenshots import shoot  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
MAX_BYTES = 200_000
MARKED_PLOT = ".alw-labeler img.alw-plot[title*='asked now']"
JS_SETTLED = """(labels) => {
    const root = document.querySelector('.alw-labeler');
    const progress = root?.querySelector('.alw-progress')?.innerText || '';
    return new RegExp(`^${labels}\\\\b`).test(progress)
        && /model up to date/.test(root.querySelector('.alw-status')?.innerText || '')
        && !!root.querySelector("img.alw-plot[title*='asked now']");
}"""
JS_VERSION = r"""() => Number((document.querySelector('.alw-labeler .alw-status')?.innerText || '')
    .match(/up to date \(version (\d+)\)/)?.[1] || -1)"""

FLIPPED = 42
RELABEL_NOTEBOOK = f"""
import alwidgets as alw
from sklearn.linear_model import LogisticRegression

digits = alw.datasets.load_digits()
session = alw.Session(LogisticRegression(max_iter=300), digits.X[:300], "margin", classes=list(range(10)),
                      random_state=0, item_ids=[f"img_{{k}}.png" for k in range(300)])
labels = [int(v) for v in digits.y[:60]]
labels[{FLIPPED}] = (labels[{FLIPPED}] + 5) % 10  # one wrong label, for the review to flag
session.teach(list(range(60)), labels)
labeler = alw.Labeler(session, view=alw.views.image(digits.images[:300]), suggest=True, plots=None)
labeler
"""


def labels_given(page) -> int:
    return int(page.locator(".alw-labeler .alw-progress").inner_text().split()[0])


def lesson(name: str, control: str, tries: int):
    """Let the autopilot answer (each answer a refit), then label on the page (``tries`` times at most) until the
    plot marks a next pick apart."""

    def action(page, quick: bool) -> None:
        autopilot = page.get_by_role("button", name="Answer the next")
        if not quick:  # the quick notebook presses it itself
            autopilot.click()
        answers = int(autopilot.inner_text().split()[3])
        page.wait_for_function(JS_SETTLED, arg=answers)
        for _ in range(tries):  # the model's next pick is marked once the model that chose the item is not the latest
            if "model's next pick" in page.locator(MARKED_PLOT).get_attribute("title"):
                break
            version, given = page.evaluate(JS_VERSION), labels_given(page)
            if control == "button":
                page.locator(".alw-labeler .alw-label-button").first.click()
            else:  # notebook 03's truth, sin(x), as its autopilot answers
                x = float(re.search(r"x0 = (\S+)", page.locator(".alw-labeler .alw-instance").inner_text()).group(1))
                page.locator(".alw-labeler .alw-value input").fill(f"{math.sin(x):.3f}")
                page.locator(".alw-labeler .alw-submit").click()
            page.wait_for_function(f"(v) => ({JS_VERSION})() > v", arg=version)
            page.wait_for_function(JS_SETTLED, arg=given + 1)
        print(f"  {name}: the plot's title says {page.locator(MARKED_PLOT).get_attribute('title')!r}", flush=True)
        shoot(page, OUT / f"{name}.png", ".alw-labeler .alw-instance", MARKED_PLOT)

    return action


def relabel(page, quick: bool) -> None:
    page.locator(".alw-labeler .alw-status", has_text="up to date").wait_for()
    page.locator(".alw-labeler .alw-mode button", has_text="Labeled").click()
    page.locator(".alw-review .alw-disagree").click()
    page.locator(".alw-review-status", has_text="least likely first").wait_for()
    page.locator(".alw-review-card").first.locator(".alw-relabel").click()
    page.locator(".alw-labeler .alw-caption", has_text=f"relabeling item img_{FLIPPED}.png").wait_for()
    page.locator(".alw-labeler .alw-suggestion", has_text="The model suggests").wait_for()
    shoot(page, OUT / "relabel_suggestion.png", ".alw-labeler .alw-instance",
          ".alw-labeler .alw-label-button >> xpath=../..")


def dashboard(page, quick: bool) -> None:
    page.locator(".alw-dashboard .alw-annotator input").fill("tess")
    page.locator("button.alw-start").click()
    page.locator(".alw-labeler .alw-caption", has_text="item mnist-").wait_for()
    page.locator(".alw-labeler .alw-status", has_text="up to date").wait_for()
    shoot(page, OUT / "dashboard_item_id.png", ".alw-labeler .alw-instance")


SHOTS = {  # name: (page, what to do)
    "04": ("04_decision_boundary.ipynb", lesson("04_asked_now", "button", tries=4)),
    "03": ("03_regression_gp.ipynb", lesson("03_asked_now", "value", tries=0)),
    "relabel": ("relabel.ipynb", relabel),
    "dashboard": (first_render.DASHBOARD, dashboard),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(SHOTS), help="take these shots only")
    parser.add_argument("--quick", action="store_true", help="notebooks with ALW_QUICK=1: smaller pools")
    args = parser.parse_args()
    first_render.stop_servers_on_sigterm()
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="alw-screens-") as tmp, sync_playwright() as playwright:
        workdir = Path(tmp)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(RELABEL_NOTEBOOK)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["voila"] = {"template": "alwidgets"}
        nbformat.write(nb, workdir / "relabel.ipynb")
        env = first_render.server_env(workdir / "jupyter", quick=args.quick)
        browser = playwright.chromium.launch(executable_path=first_render.CHROMIUM, args=first_render.CHROMIUM_FLAGS)
        try:
            for name in args.only or list(SHOTS):
                notebook, action = SHOTS[name]
                notebooks = workdir if notebook == "relabel.ipynb" else first_render.NOTEBOOKS
                server = first_render.Server(notebook, env, workdir, notebooks=notebooks)
                context = browser.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=1)
                context.route("**/*", first_render._allow_only_local)
                context.set_default_timeout(300_000)
                try:
                    page = context.new_page()
                    started = time.monotonic()
                    page.goto(server.url, wait_until="commit")
                    page.locator(".alw-labeler, .alw-dashboard").first.wait_for(state="visible", timeout=300_000)
                    action(page, args.quick)
                    print(f"  {name}: {time.monotonic() - started:.0f} s", flush=True)
                except Exception:
                    print(server.log()[-5000:], file=sys.stderr)
                    raise
                finally:
                    context.close()
                    server.stop()
        finally:
            browser.close()
    too_big = [p.name for p in OUT.glob("*.png") if p.stat().st_size > MAX_BYTES]
    if too_big:
        print(f"larger than {MAX_BYTES // 1000} KB: {too_big}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
