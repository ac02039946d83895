"""Store paths, campaign configs and exports that users and their files can get wrong or make hostile.

The file a store is named by is the file written; a config error names the
file and the problem, never what the file holds; a store URL's password is
never printed; and no cell of a CSV export, nor any part a spreadsheet could
split off one, runs as a formula.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import alwidgets as alw
from alwidgets.serving.cli import main
from alwidgets.serving.config import load_config
from alwidgets.store import LabelEvent, StoreError, open_store
from alwidgets.store.sql import mask_url

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def digits():
    data = alw.datasets.load_digits()
    return data.X[:40], data.y[:40]


def cli(capsys, *args):
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------- the file named is the file written


@pytest.mark.parametrize("name", ["we?ird/l.db", "c%20d.db", "per%cent.db", "hash#mark.db", "semi;colon.db"],
                         ids=["question-mark", "percent-escape", "percent", "hash", "semicolon"])
def test_a_sqlite_store_writes_the_file_it_is_named_by(digits, tmp_path, capsys, name):
    X, y = digits
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    session = alw.Session(LogisticRegression(max_iter=200), X, store=str(path), classes=list(range(10)),
                          random_state=0)
    session.record([0, 1], [int(y[0]), int(y[1])])
    session.store.close()
    assert path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ([path.name] if path.parent == tmp_path
                                                                          else [])
    reopened = open_store(path, read_only=True)
    assert len(reopened.events()) == 2
    reopened.close()
    code, _, err = cli(capsys, "export", path, tmp_path / "labels.csv")
    assert code == 0, err
    assert sorted(pd.read_csv(tmp_path / "labels.csv")["label"]) == sorted([int(y[0]), int(y[1])])


# ---------------------------------------------------------------------- campaign configs


CSV_CONFIG = """
[data]
source = "csv"
path = "data.csv"
text_column = "{column}"
{extra}
[labels]
classes = ["neg", "pos"]
[store]
url = "labels.db"
"""


@pytest.mark.parametrize(
    "secret, column, extra",
    [("root:$6$SeCrEtHaSh:19000:0:99999:7:::\n", "text", ""),
     ("SeCrEt_TOKEN,other\nx,y\n", "text", ""),
     ("text,SeCrEt_id\nhello,1\nworld,2\n", "text", 'id_column = "id"')],
    ids=["shadow-line", "csv-like-secret", "id-column"],
)
def test_a_config_error_names_the_file_and_never_shows_what_it_holds(tmp_path, capsys, secret, column, extra):
    elsewhere = tmp_path / "private"
    elsewhere.mkdir()
    (elsewhere / "secret").write_text(secret)
    campaign = tmp_path / "campaign"
    campaign.mkdir()
    (campaign / "data.csv").symlink_to(elsewhere / "secret")
    (campaign / "campaign.toml").write_text(CSV_CONFIG.format(column=column, extra=extra))
    code, out, err = cli(capsys, "serve", campaign / "campaign.toml", "--check")
    assert code == 2
    assert "SeCrEt" not in out + err
    assert "secret" in err and "column" in err  # the file, and the problem


def test_a_repeated_id_is_named_by_its_rows_not_its_value(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("text,id\nhello,SeCrEt\nworld,SeCrEt\n")
    (tmp_path / "campaign.toml").write_text(CSV_CONFIG.format(column="text", extra='id_column = "id"'))
    code, out, err = cli(capsys, "serve", tmp_path / "campaign.toml", "--check")
    assert code == 2 and "SeCrEt" not in out + err and "rows 1 and 2" in err


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "byte-order-mark"])
def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path, bom):
    (tmp_path / "data.csv").write_text("text\nhello\nworld\n")
    (tmp_path / "campaign.toml").write_bytes(bom + CSV_CONFIG.format(column="text", extra="").encode("utf-8"))
    config = load_config(tmp_path / "campaign.toml")
    assert config.text_column == "text" and config.classes == ["neg", "pos"]


# ---------------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    "url, secrets",
    [("postgresql://alice:SeCrEt@TaIl@127.0.0.1:{port}/labels", ["SeCrEt", "TaIl"]),
     ("postgresql://alice:Pa@ss/Wo@rD@127.0.0.1:{port}/labels", ["Pa@", "ss/", "Wo@", "rD@"]),
     ("postgresql://alice:x@SeCrEt:99@127.0.0.1:{port}/labels", ["x@", "SeCrEt"]),
     ("postgresql://alice@127.0.0.1:{port}/labels?password=SeCrEt", ["SeCrEt"])],
    ids=["one-at", "at-and-slash", "at-and-port-like", "query-password"],
)
def test_no_part_of_a_password_is_ever_printed(tmp_path, capsys, url, secrets):
    from ports import free_port

    url = url.format(port=free_port())
    masked = mask_url(url)
    assert not any(s in masked for s in secrets) and "127.0.0.1" in masked
    with pytest.raises(StoreError) as refused:
        open_store(url)
    code, out, err = cli(capsys, "export", url, tmp_path / "labels.csv")
    assert code == 2
    for shown in (str(refused.value), out + err):
        assert not any(s in shown for s in secrets), shown
    if url.count("@") > 1 and "?" not in url:
        assert "%40" in str(refused.value)


# ---------------------------------------------------------------------- CSV export


def _parts(text: str):
    """Every piece a spreadsheet could make a cell of: split on each separator it may use, quotes respected or not."""
    for line in text.splitlines():
        for separator in (",", ";", "\t"):
            yield from line.split(separator)
    for separator in (",", ";", "\t"):
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator):
            yield from row


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1",
                                  "bob;=evil()", "bob,=evil()", "bob\t=evil()"],
                         ids=["equals", "plus", "minus", "at", "tab", "carriage-return", "joined-semicolon",
                              "joined-comma", "joined-tab"])
@pytest.mark.parametrize("what", [[], ["--events"]], ids=["labels", "events"])
def test_no_part_of_a_csv_export_runs_as_a_formula(tmp_path, capsys, name, what):
    path = tmp_path / "labels.db"
    store = open_store(path)
    store.append_many([LabelEvent("item-1", label="cat", annotator="alice"),
                       LabelEvent("item-1", label="cat", annotator=name),
                       LabelEvent("item-2", label=f"x;{name}", annotator=name, suggested="dog")])
    store.close()
    code, _, err = cli(capsys, "export", path, tmp_path / "out.csv", *what)
    assert code == 0, err
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    bad = [part for part in _parts(text) if part.lstrip('"').startswith(FORMULA_STARTS)]
    assert bad == []
