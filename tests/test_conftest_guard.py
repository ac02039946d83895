"""The guard in tests/conftest.py must turn a swallowed button-handler error into a failure.

ipywidgets' ``Button.click()`` catches what a handler raises and only logs it,
so without the guard a widget test with a broken handler passes. These tests
run a small inner pytest session that uses the real tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

INNER_TESTS = """
import ipywidgets as widgets


def _button(handler):
    button = widgets.Button(description="label")
    button.on_click(handler)
    return button


def test_broken_handler():
    def handler(_):
        raise ValueError("the handler broke: label 7 is not a class")

    _button(handler).click()


def test_working_handler():
    clicks = []
    _button(clicks.append).click()
    assert len(clicks) == 1
"""


def test_guard_fails_only_the_test_whose_button_handler_raises(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(test_handlers=INNER_TESTS)
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider", "-p", "no:playwright")

    # The broken handler's test body "passes" (click() swallowed the error), and the
    # guard then fails it; the working handler's test passes cleanly.
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*test_broken_handler ERROR*", "*test_working_handler PASSED*"])
    result.stdout.fnmatch_lines(
        [
            "*A widget callback raised an exception that ipywidgets swallowed*",
            "*ValueError: the handler broke: label 7 is not a class*",
        ]
    )


BROWSER_CONFTEST = Path(__file__).parent / "browser" / "conftest.py"


@pytest.mark.parametrize("ci, outcome", [("1", {"errors": 1}), (None, {"skipped": 1})])
def test_missing_chromium_fails_in_ci_and_says_how_to_install_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: dict
) -> None:
    """Browser tests never pass by skipping when CI is set; elsewhere they skip with the same hint."""
    monkeypatch.setenv("ALW_CHROMIUM", str(pytester.path / "no-such-chromium"))
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeconftest(BROWSER_CONFTEST.read_text())
    helpers = BROWSER_CONFTEST.parents[1]
    pytester.makepyfile(ports=(helpers / "ports.py").read_text(),  # the conftest imports both
                        serving=(helpers / "serving.py").read_text())
    pytester.makepyfile(test_page="def test_page_opens(page):\n    page.goto('about:blank')\n")

    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")

    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*apt-get install chromium*make test*"])
