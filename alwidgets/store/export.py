"""Write what a label store holds to a file a spreadsheet or a training script reads.

Two tables can be written: ``labels`` (one row per item: the majority label,
the votes behind it) and ``events`` (the whole append-only log). The file
format follows the file name: ``.csv``, ``.json`` or ``.parquet`` (parquet
needs pyarrow: ``pip install 'alwidgets[parquet]'``).

In CSV files a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return is written with a leading ``'``, so that a spreadsheet shows
it as text instead of running it as a formula (item ids, labels and names come
from users). So is every part of a cell a spreadsheet could split off: one
that follows a ``;`` (the ``annotators`` cell joins names with it, and it is
the column separator of many locales), a ``,``, a tab or a line break, with
any ``"`` between. JSON and Parquet files hold the values exactly.

The label of a multi-label item is a set of classes (possibly empty). It is
written as the JSON array of its classes, sorted: an array in JSON files, and
that array's text (``["Negativ", "Weak"]``, ``[]`` for none) in a CSV or
Parquet cell; :func:`read_label_set` reads such a cell back. The ``votes``
column holds each annotator's set the same way.

An export never overwrites the store it reads, nor (unless asked) any file
that exists; it writes a new file and moves it into place, so a symbolic
link at the target is replaced, never followed.

pandas is imported when a table (a DataFrame) is made: a dashboard page builds
its download link from :func:`labels_rows` and :func:`rows_csv_text`, the same
CSV text without pandas.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from alwidgets._validation import InvalidParameterError, LabelSet, check_label_set
from alwidgets.store.events import LABEL, RETRACT, InvalidLabel, Tally

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMATS", "csv_text", "events_frame", "labels_frame", "labels_rows", "rows_csv_text", "export_events",
           "write_frame", "read_label_set"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# a part a spreadsheet may split off a cell (after ; , tab or a line break, past any quotes) that starts a formula
_SPLIT_FORMULA = re.compile(r'([;,\t\r\n]"*)(?=[=+\-@\t\r])')

FORMATS = (".csv", ".json", ".parquet")
WHAT = ("labels", "events")


def _written(label):
    """A label as a table holds it: a label set as the sorted list of its classes, anything else as it is."""
    return label.sorted() if isinstance(label, LabelSet) else label


def _json_default(value):
    if isinstance(value, LabelSet):
        return value.sorted()
    raise TypeError(f"{value!r} is not a label")


def read_label_set(cell) -> LabelSet:
    """The label set a cell of an exported table holds: a JSON array's text (CSV, Parquet) or a list (JSON)."""
    return check_label_set(json.loads(cell) if isinstance(cell, str) else cell)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="milliseconds")


def labels_frame(events, item_index: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per labeled item: ``item_id`` [``index``], ``label``, ``status``, ``n_votes``, ``votes``, ``annotators``, ``last_time``, ``suggested``.

    ``label`` is the majority vote (empty on a tie, ``status`` says ``tie``);
    ``votes`` is a JSON object ``{annotator: label}``; ``suggested`` is one
    ``{annotator: label}`` of the model's suggestions each vote was given
    with (``{}`` when none was shown). With ``item_index``
    (item id -> pool position) only items of that pool are written, with their position.
    """
    import pandas as pd

    columns, rows = labels_rows(events, item_index)
    return _with_plain_labels(pd.DataFrame(rows, columns=columns), rows)


def labels_rows(events, item_index: dict[str, int] | None = None) -> tuple[list[str], list[dict]]:
    """``(columns, rows)`` of :func:`labels_frame`, one dict per row, without pandas."""
    tally = Tally()
    tally.apply(events)
    last_time: dict[str, float] = {}
    suggested: dict[str, dict[str, object]] = {}  # item -> annotator -> the suggestion their current vote saw
    for e in events:
        last_time[e.item_id] = e.time
        if e.kind == LABEL:
            seen = suggested.setdefault(e.item_id, {})
            if e.suggested is None:
                seen.pop(e.annotator, None)
            else:
                seen[e.annotator] = e.suggested
        elif e.kind == RETRACT:
            suggested.get(e.item_id, {}).pop(e.annotator, None)
    rows = []
    for item_id, item_votes in tally.votes.items():
        if item_index is not None and item_id not in item_index:
            continue
        label, tie = tally.decision(item_id)
        row = {"item_id": item_id}
        if item_index is not None:
            row["index"] = item_index[item_id]
        row.update({
            "label": _written(label),
            "status": "tie" if tie else "decided",
            "n_votes": len(item_votes),
            "votes": json.dumps(item_votes, sort_keys=True, default=_json_default),
            "annotators": ";".join(sorted(item_votes)),
            "last_time": _iso(last_time[item_id]),
            "suggested": json.dumps(suggested.get(item_id, {}), sort_keys=True),
        })
        rows.append(row)
    columns = ["item_id"] + (["index"] if item_index is not None else []) + [
        "label", "status", "n_votes", "votes", "annotators", "last_time", "suggested"]
    return columns, rows


def events_frame(events) -> pd.DataFrame:
    """The log as a table, one row per event, oldest first, with ISO times (UTC).

    A label the store could not read as a label is written as the text it holds.
    """
    import pandas as pd

    rows = [{"seq": e.seq, "item_id": e.item_id, "kind": e.kind,
             "label": e.label.raw if isinstance(e.label, InvalidLabel) else _written(e.label), "annotator": e.annotator,
             "time": _iso(e.time), "strategy": e.strategy, "model_version": e.model_version,
             "suggested": e.suggested, "accepted": e.accepted} for e in events]
    frame = pd.DataFrame(rows, columns=["seq", "item_id", "kind", "label", "annotator", "time", "strategy",
                                        "model_version", "suggested", "accepted"])
    frame["suggested"] = pd.Series([r["suggested"] for r in rows], dtype=object, index=frame.index)
    frame["accepted"] = pd.Series([r["accepted"] for r in rows], dtype=object, index=frame.index)
    return _with_plain_labels(frame, rows)


def _with_plain_labels(frame: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """Keep labels as given (3 stays 3, not 3.0 next to an empty label)."""
    import pandas as pd

    frame["label"] = pd.Series([r["label"] for r in rows], dtype=object, index=frame.index)
    return frame


def _store_files(store) -> list[Path]:
    """The files a SQLite store consists of (none for other stores)."""
    path = getattr(store, "path", None) if store is not None and not isinstance(store, (str, Path)) else store
    if path is None or "://" in str(path):
        return []
    path = Path(path).expanduser()
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output(path, *, overwrite: bool = False, store=None) -> Path:
    """The output path, or a ValueError naming what would work; nothing is written.

    Refused: another format than .csv, .json, .parquet; a folder; a missing
    folder; the store itself (``store``: its path or the store object), even
    with ``overwrite``; and, unless ``overwrite``, any file or link that exists.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() not in FORMATS:
        raise InvalidParameterError(f"export file {str(path)!r} must end in one of {', '.join(FORMATS)}")
    if path.is_dir():
        raise ValueError(f"export file {str(path)!r} is a folder; give a file name such as "
                         f"{str(path / ('labels' + path.suffix.lower()))!r}")
    if not path.parent.is_dir():
        raise ValueError(f"export file {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    for part in _store_files(store):
        if os.path.lexists(path) and part.exists() and _same_file(path, part):
            raise ValueError(f"export file {str(path)!r} is the label store itself; writing there would destroy "
                             "every label: choose another name")
    if os.path.lexists(path) and not overwrite:
        what = "a symbolic link" if path.is_symlink() else "a file"
        raise ValueError(f"export file {str(path)!r} already exists ({what}); choose another name, "
                         "or replace it with --force (overwrite=True in Python)")
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError("writing .parquet needs pyarrow: pip install 'alwidgets[parquet]'") from None
    return path


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (RFC 4180), with every text cell a spreadsheet would run as a formula quoted with ``'``."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype.kind not in "biufcmM":  # text of any dtype (object, or pandas' own str)
            safe[column] = safe[column].map(_defuse)
    # CRLF rows (RFC 4180): a cell holding a carriage return is then quoted, so no reader splits its row
    return safe.to_csv(index=False, lineterminator="\r\n")


def rows_csv_text(columns: list[str], rows: list[dict]) -> str:
    """What :func:`csv_text` writes for ``DataFrame(rows, columns=columns)``, without pandas.

    The same writer (Python's ``csv``, RFC 4180 quoting, CRLF rows) and the same
    defusing of cells; a missing value (None, NaN) is an empty cell, as pandas writes it.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(_defuse(row.get(column))) for column in columns])
    return out.getvalue()


def _cell(value):
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _defuse(value):
    """``value`` with a ``'`` before the cell and before every part of it that a spreadsheet would run as a formula."""
    if isinstance(value, list):  # a label set: the JSON array of its classes
        value = json.dumps(value)
    if not isinstance(value, str):
        return value
    value = _SPLIT_FORMULA.sub(r"\1'", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_frame(frame: pd.DataFrame, path, *, overwrite: bool = False, store=None) -> Path:
    """Write ``frame`` in the format the suffix of ``path`` names; see :func:`check_output` for what is refused.

    The file is written under a temporary name in the same folder, then moved
    into place: a reader never sees half a file, and a link at ``path`` is
    replaced, not followed.
    """
    path = check_output(path, overwrite=overwrite, store=store)
    suffix = path.suffix.lower()
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        if suffix == ".csv":
            _write_new(temporary, csv_text(frame).encode("utf-8"))
        elif suffix == ".json":
            records = [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
            _write_new(temporary, (json.dumps(records, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
        else:
            _write_new(temporary, b"")
            frame.to_parquet(temporary, index=False)
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if the name was taken meanwhile: never replaces a file
            except FileExistsError:
                raise ValueError(f"export file {str(path)!r} already exists; choose another name, "
                                 "or replace it with --force (overwrite=True in Python)") from None
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) with the usual permissions and write ``data``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _json_value(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:  # NaN
        return None
    return v


def export_events(events, path, what: str = "labels", item_index: dict[str, int] | None = None, *,
                  overwrite: bool = False, store=None) -> Path:
    """Write the ``labels`` table or the ``events`` log of ``events`` to ``path`` (.csv, .json, .parquet).

    An existing file is refused unless ``overwrite``; the ``store`` the events
    come from (a SQLite file path or store object) is refused always.
    """
    if what not in WHAT:
        raise InvalidParameterError(f"what must be one of {WHAT}; got {what!r}")
    check_output(path, overwrite=overwrite, store=store)
    frame = labels_frame(events, item_index) if what == "labels" else events_frame(events)
    is_set = frame["label"].map(lambda v: isinstance(v, list))
    if is_set.any() and Path(path).suffix.lower() != ".json":  # label sets as JSON text, one type per column
        frame["label"] = frame["label"].map(lambda v: json.dumps(v) if isinstance(v, list) else v)
    if frame["label"].dropna().map(type).nunique() > 1 and Path(path).suffix.lower() == ".parquet":
        frame["label"] = frame["label"].map(lambda v: None if v is None else json.dumps(v))  # one type per column
    return write_frame(frame, path, overwrite=overwrite, store=store)
