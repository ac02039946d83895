"""What the README and docs/campaign-config.md say about campaign configs and learners is what the code does.

- every key the config schema knows is documented in docs/campaign-config.md;
- the README's own-data example (its CSV, its CSV config and its images config,
  taken from the README itself) loads with ``load_config`` and passes ``serve --check``;
- a modAL learner passed to a Session stays untaught, and ``session.learner`` is the
  taught one, as the Session docstring and the README say.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from alwidgets.serving import config as alw_config

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONFIG_DOC = ROOT / "docs" / "campaign-config.md"
OWN_DATA_HEADING = "## Label your own images or CSV"
# "`name`:" on its own line, a blank line, then a fenced block: a file the reader is asked to write
NAMED_BLOCK = re.compile(r"^`([\w.-]+)`:\n\n```(\w+)\n(.*?)^```", re.S | re.M)


def schema_keys() -> list[str]:
    return [f"{section}.{key}" if section else key for section, keys in alw_config._SCHEMA.items() for key in keys]


def test_every_config_key_is_documented() -> None:
    doc = CONFIG_DOC.read_text(encoding="utf-8")
    documented = set()
    section = ""
    for line in doc.splitlines():
        heading = re.match(r"^## `\[(\w+)\]`", line)
        if heading:
            section = heading.group(1)
        elif line.startswith("## "):
            section = ""
        row = re.match(r"^\| `(\w+)` \|", line)
        if row:
            documented.add(f"{section}.{row.group(1)}" if section else row.group(1))
    missing = [key for key in schema_keys() if key not in documented]
    assert not missing, f"docs/campaign-config.md has no row for {missing} (a row '| `key` |' under '## `[section]`')"
    unknown = sorted(documented - set(schema_keys()))
    assert not unknown, f"docs/campaign-config.md documents keys the config does not know: {unknown}"


def readme_own_data_files() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    assert OWN_DATA_HEADING in text, f"README.md lost its section {OWN_DATA_HEADING!r}"
    section = text.split(OWN_DATA_HEADING, 1)[1].split("\n## ", 1)[0]
    return {name: body for name, _lang, body in NAMED_BLOCK.findall(section)}


def test_readme_own_data_example_loads(tmp_path: Path, capsys) -> None:
    from PIL import Image

    from alwidgets.serving.cli import main

    files = readme_own_data_files()
    configs = sorted(name for name in files if name.endswith(".toml"))
    assert len(configs) >= 2, f"the README's own-data section should show a CSV and an images config; found {configs}"
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")

    for name in configs:
        data = alw_config.tomllib.loads(files[name]).get("data", {})
        if data.get("source") == "images":  # the reader's own pictures: three made here
            folder = tmp_path / data["path"]
            folder.mkdir()
            for i in range(3):
                pixels = (np.random.RandomState(i).rand(30, 40) * 255).astype("uint8")
                Image.fromarray(pixels).save(folder / f"scan-{i}.png")
        else:
            assert (tmp_path / data["path"]).is_file(), f"{name} reads {data['path']}, which the README does not show"
        config = alw_config.load_config(tmp_path / name)
        campaign = alw_config.build_campaign(config)
        assert campaign.n_items >= 3 and len(campaign.classes) >= 2
        # what the README tells the reader to run next
        assert main(["serve", str(tmp_path / name), "--check"]) == 0, capsys.readouterr().err
    assert "items to label" in capsys.readouterr().out


def test_the_learner_passed_stays_untaught_and_session_learner_is_taught() -> None:
    from modAL.models import ActiveLearner
    from sklearn.linear_model import LogisticRegression
    from sklearn.utils.validation import check_is_fitted

    import alwidgets as alw

    digits = alw.datasets.load_digits()
    pool, test = alw.datasets.split(digits, random_state=0)
    mine = ActiveLearner(estimator=LogisticRegression(max_iter=1000))
    session = alw.Session(mine, pool.X, X_test=test.X, y_test=test.y, random_state=0)
    session.simulate(pool.y, n_queries=20)

    # the object passed: untouched
    assert mine.X_training is None and mine.y_training is None
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(mine.estimator)
    # the taught one: session.learner, fitted on exactly the labels given
    taught = session.learner
    assert taught is not mine and isinstance(taught, ActiveLearner)
    check_is_fitted(taught.estimator)
    labeled = sorted(session.labels)
    assert len(labeled) == 20 == len(taught.y_training)
    rows = {tuple(row) for row in taught.X_training}
    assert rows == {tuple(row) for row in pool.X[labeled]}
    assert sorted(taught.y_training.tolist()) == sorted(pool.y[labeled].tolist())
    assert taught.score(test.X, test.y) == pytest.approx(session.history[-1]["score"])
