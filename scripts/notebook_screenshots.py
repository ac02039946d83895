"""Screenshots of the lessons as Voila serves them, for docs/notebooks.md (written to docs/img/).

Each notebook runs in full mode (``--quick``: ALW_QUICK=1) in its own Voila server, in Debian's Chromium
(see benchmarks/first_render.py, whose servers and browser set-up this reuses).
Results the notebooks cache go to ``--cache`` (default: the usual cache
folder), so a second run of this script is quick; the first one waits for the
experiments of notebook 06.

    .venv/bin/python scripts/notebook_screenshots.py [--only 06] [--cache DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import first_render  # noqa: E402  (the benchmark's servers and Chromium set-up)

OUT = ROOT / "docs" / "img"
JS_BACKGROUND_DONE = """(count) => {
    const runs = Array.from(document.querySelectorAll('.alw-background'));
    return runs.length >= count && runs.every(run => run.querySelector('.progress-bar-success, .progress-bar-danger'));
}"""


def wait_background(page, count: int, timeout_s: float = 1800) -> None:
    page.wait_for_function(JS_BACKGROUND_DONE, arg=count, timeout=timeout_s * 1000)


def shoot(page, path: Path, *selectors: str, pad: int = 8) -> None:
    """The elements (each selector: its first match) one under the other, on white, in one picture."""
    from PIL import Image

    pictures = []
    for k, selector in enumerate(selectors):
        part = path.with_name(f"{path.stem}.part{k}.png")
        page.locator(selector).first.screenshot(path=str(part))
        pictures.append(Image.open(part).convert("RGB"))
        part.unlink()
    width = max(p.width for p in pictures) + 2 * pad
    height = sum(p.height for p in pictures) + pad * (len(pictures) + 1)
    sheet = Image.new("RGB", (width, height), "white")
    y = pad
    for picture in pictures:
        sheet.paste(picture, (pad, y))
        y += picture.height + pad
    sheet.save(path)
    print(f"wrote {path.relative_to(ROOT)}", flush=True)


def markdown(text: str) -> str:
    """A selector for the rendered markdown cell that contains ``text``."""
    return f".jp-RenderedMarkdown:has-text({text!r})"


def labeler_lesson(name: str, n_answers: int, claim: str):
    """A Labeler lesson: let the autopilot answer, then the claim with the Labeler, and the measured race."""

    def action(page) -> None:
        page.get_by_role("button", name=f"Answer the next {n_answers} for me").click()
        page.wait_for_function(
            "(n) => new RegExp(`^${n}\\\\b`).test(document.querySelector('.alw-labeler .alw-progress')?.innerText)"
            " && /up to date/.test(document.querySelector('.alw-labeler .alw-status')?.innerText)", arg=n_answers)
        wait_background(page, 1)
        page.wait_for_timeout(2000)
        shoot(page, OUT / f"{name}.png", markdown(claim), ".alw-labeler")
        shoot(page, OUT / f"{name}_measured.png", ".alw-background")

    return action


def lesson_06(page) -> None:
    page.set_viewport_size({"width": 1200, "height": 2400})  # Voila's page scrolls inside: tall parts need room
    wait_background(page, 2)
    page.wait_for_timeout(1000)
    shoot(page, OUT / "06_article_protocol.png", ".alw-background >> nth=0")
    shoot(page, OUT / "06_skewed.png", ".alw-background >> nth=1")
    shoot(page, OUT / "06_ablation.png", markdown("Which of the article's choices matter"),
          ".jp-RenderedMarkdown:has-text('Which choices move the ratio')")
    race = page.locator(".alw-comparison").first
    race.locator(".alw-step").first.click()
    page.wait_for_function("() => /step 1\\b/.test(document.querySelector('.alw-comparison .alw-status')?.innerText)")
    page.wait_for_timeout(2000)
    shoot(page, OUT / "06_live_batch.png", ".alw-comparison")
    shoot(page, OUT / "06_citation.png", markdown("This notebook repeats the experiment"))


def lesson_06_first_visit(page) -> None:
    """An empty cache: the page is up while the experiments run, with their progress bars."""
    page.wait_for_function("() => document.querySelectorAll('.alw-background-bar').length >= 2")
    page.wait_for_function("() => /left/.test(document.querySelector('.alw-background-status')?.innerText)",
                           timeout=120_000)
    page.wait_for_timeout(20000)  # partial curves come in
    shoot(page, OUT / "06_first_visit.png", ".alw-background")


def lesson_08(page) -> None:
    wait_background(page, 3)
    page.wait_for_timeout(1000)
    shoot(page, OUT / "08_stream.png", ".widget-hbox:has(.widget-slider)", ".widget-html:has-text('slider stops there')",
          ".alw-background >> nth=1")


def plots_05(page) -> None:
    race = page.locator(".alw-comparison").first
    race.locator(".alw-you-toggle").first.click()
    for step in range(1, 11):
        race.locator(".alw-step").first.click()
        page.wait_for_function("(n) => new RegExp(`step ${n}\\\\b[^]*paused`).test("
                               "document.querySelector('.alw-comparison .alw-status')?.innerText)", arg=step)
    page.wait_for_timeout(1500)
    shoot(page, OUT / "05_you_and_saved.png", ".alw-comparison .alw-panel-you", ".alw-comparison .alw-saved")
    shoot(page, OUT / "05_curves.png", ".alw-comparison .alw-curve")


SHOTS = {  # name: (notebook, what to do, empty cache first)
    "01": ("01_images.ipynb", labeler_lesson("01_images", 20, "What to expect"), False),
    "02": ("02_text.ipynb", labeler_lesson("02_text", 30, "What you should see"), False),
    "05": ("05_compare_strategies.ipynb", plots_05, False),
    "06": ("06_mnist_random_vs_active.ipynb", lesson_06, False),
    "06-first": ("06_mnist_random_vs_active.ipynb", lesson_06_first_visit, True),
    "08": ("08_stream_vs_pool.ipynb", lesson_08, False),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(SHOTS), help="take these shots only")
    parser.add_argument("--cache", type=Path, help="the cache folder the notebooks use (default: the usual one)")
    parser.add_argument("--quick", action="store_true", help="notebooks with ALW_QUICK=1: small budgets, one seed")
    args = parser.parse_args()
    first_render.stop_servers_on_sigterm()
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="alw-shots-") as tmp, sync_playwright() as playwright:
        workdir = Path(tmp)
        env = first_render.server_env(workdir / "jupyter", quick=args.quick)
        if args.cache is not None:
            env[first_render.CACHE_ENV] = str(args.cache.resolve())
        browser = playwright.chromium.launch(executable_path=first_render.CHROMIUM, args=first_render.CHROMIUM_FLAGS)
        try:
            for name in args.only or list(SHOTS):
                notebook, action, empty_cache = SHOTS[name]
                shot_env = {**env, first_render.CACHE_ENV: str(workdir / "empty-cache")} if empty_cache else env
                server = first_render.Server(notebook, shot_env, workdir)
                context = browser.new_context(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
                context.route("**/*", first_render._allow_only_local)
                context.set_default_timeout(600_000)
                try:
                    page = context.new_page()
                    started = time.monotonic()
                    page.goto(server.url, wait_until="commit")
                    page.locator(".jupyter-widgets").first.wait_for(state="visible", timeout=600_000)
                    action(page)
                    print(f"  {name}: {time.monotonic() - started:.0f} s", flush=True)
                finally:
                    context.close()
                    server.stop()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
