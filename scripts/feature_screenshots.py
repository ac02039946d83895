"""Screenshots of the suggested label, the stop marker and the "Labeled" view, as Voila serves them (docs/img/).

A small notebook is written to a temporary folder: digits, a Labeler with
``suggest=True`` and a learning curve, whose simulated oracle answers 10% of
the items wrongly. After 100 answers the stopping signal has fired and the
review has wrong labels to find. Served by Voila in Debian's Chromium, with
the set-up of benchmarks/first_render.py.

    .venv/bin/python scripts/feature_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))
import first_render  # noqa: E402  (the benchmark's servers and Chromium set-up)
from notebook_screenshots import OUT, shoot  # noqa: E402

NOTEBOOK = """
import numpy as np
from sklearn.linear_model import LogisticRegression
import alwidgets as alw

digits = alw.datasets.load_digits()
X_pool, y_pool, images = digits.X[:600], digits.y[:600], digits.images[:600]
answers = y_pool.copy()
wrong = np.random.RandomState(7).choice(600, 60, replace=False)  # an oracle that answers 10% wrongly
answers[wrong] = (answers[wrong] + 1 + np.random.RandomState(1).randint(9, size=60)) % 10
session = alw.Session(LogisticRegression(max_iter=500), X_pool, "margin", X_test=digits.X[1000:1400],
                      y_test=digits.y[1000:1400], classes=list(range(10)), random_state=0)
labeler = alw.Labeler(session, view=alw.views.image(images), suggest=True, y_true=answers, budget=160)
for _ in range(100):  # one answer at a time, each asked by the model that learned the last one
    labeler.simulate(1)
    labeler.wait()
labeler
"""


def main() -> int:
    first_render.stop_servers_on_sigterm()
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="alw-feature-shots-") as tmp, sync_playwright() as playwright:
        workdir = Path(tmp)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(NOTEBOOK)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["voila"] = {"template": "alwidgets"}
        nbformat.write(nb, workdir / "features.ipynb")
        env = first_render.server_env(workdir / "jupyter", quick=False)
        server = first_render.Server("features.ipynb", env, workdir, notebooks=workdir)
        browser = playwright.chromium.launch(executable_path=first_render.CHROMIUM, args=first_render.CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 900}, device_scale_factor=1)
            context.route("**/*", first_render._allow_only_local)
            context.set_default_timeout(120_000)
            page = context.new_page()
            page.goto(server.url, wait_until="commit")
            page.locator(".alw-labeler .alw-suggestion", has_text="The model suggests").wait_for()
            page.locator(".alw-labeler .alw-status", has_text="up to date").wait_for()
            page.wait_for_timeout(1500)
            shoot(page, OUT / "suggested_label.png", ".alw-labeler .alw-instance",
                  ".alw-labeler .alw-label-button >> xpath=../..")
            shoot(page, OUT / "stop_marker.png", ".alw-labeler .alw-progress", ".alw-labeler .alw-plot")
            page.locator(".alw-labeler .alw-mode button", has_text="Labeled").click()
            page.locator(".alw-review .alw-disagree").click()
            page.locator(".alw-review-status", has_text="least likely first").wait_for()
            page.wait_for_timeout(1500)
            shoot(page, OUT / "review_disagrees.png", ".alw-labeler .alw-mode", ".alw-review")
        except Exception:
            print(server.log()[-5000:], file=sys.stderr)
            raise
        finally:
            browser.close()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
