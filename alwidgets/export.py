"""Write what a label store holds to a file a spreadsheet or a training script reads.

Two tables can be written: ``labels`` (one row per item: the majority label,
the votes behind it) and ``events`` (the whole append-only log). The file
format follows the file name: ``.csv``, ``.json`` or ``.parquet`` (parquet
needs pyarrow: ``pip install 'alwidgets[parquet]'``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .store import Tally

__all__ = ["FORMATS", "events_frame", "labels_frame", "export_events", "write_frame"]

FORMATS = (".csv", ".json", ".parquet")
WHAT = ("labels", "events")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="milliseconds")


def labels_frame(events, item_index: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per labeled item: ``item_id`` [``index``], ``label``, ``status``, ``n_votes``, ``votes``, ``annotators``, ``last_time``.

    ``label`` is the majority vote (empty on a tie, ``status`` says ``tie``);
    ``votes`` is a JSON object ``{annotator: label}``. With ``item_index``
    (item id -> pool position) only items of that pool are written, with their position.
    """
    tally = Tally()
    tally.apply(events)
    last_time: dict[str, float] = {}
    for e in events:
        last_time[e.item_id] = e.time
    rows = []
    for item_id, item_votes in tally.votes.items():
        if item_index is not None and item_id not in item_index:
            continue
        label, tie = tally.decision(item_id)
        row = {"item_id": item_id}
        if item_index is not None:
            row["index"] = item_index[item_id]
        row.update({
            "label": label,
            "status": "tie" if tie else "decided",
            "n_votes": len(item_votes),
            "votes": json.dumps(item_votes, sort_keys=True),
            "annotators": ";".join(sorted(item_votes)),
            "last_time": _iso(last_time[item_id]),
        })
        rows.append(row)
    columns = ["item_id"] + (["index"] if item_index is not None else []) + [
        "label", "status", "n_votes", "votes", "annotators", "last_time"]
    return _with_plain_labels(pd.DataFrame(rows, columns=columns), rows)


def events_frame(events) -> pd.DataFrame:
    """The log as a table, one row per event, oldest first, with ISO times (UTC)."""
    rows = [{"seq": e.seq, "item_id": e.item_id, "kind": e.kind, "label": e.label, "annotator": e.annotator,
             "time": _iso(e.time), "strategy": e.strategy, "model_version": e.model_version} for e in events]
    frame = pd.DataFrame(rows, columns=["seq", "item_id", "kind", "label", "annotator", "time", "strategy",
                                        "model_version"])
    return _with_plain_labels(frame, rows)


def _with_plain_labels(frame: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """Keep labels as given (3 stays 3, not 3.0 next to an empty label)."""
    frame["label"] = pd.Series([r["label"] for r in rows], dtype=object, index=frame.index)
    return frame


def check_output(path) -> Path:
    """The output path, or a ValueError naming what would work; nothing is written."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"export file {str(path)!r} must end in one of {', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise ValueError(f"export file {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError("writing .parquet needs pyarrow: pip install 'alwidgets[parquet]'") from None
    return path


def write_frame(frame: pd.DataFrame, path) -> Path:
    """Write ``frame`` in the format the suffix of ``path`` names."""
    path = check_output(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".json":
        records = [{k: _json_value(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        path.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        frame.to_parquet(path, index=False)
    return path


def _json_value(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:  # NaN
        return None
    return v


def export_events(events, path, what: str = "labels", item_index: dict[str, int] | None = None) -> Path:
    """Write the ``labels`` table or the ``events`` log of ``events`` to ``path`` (.csv, .json, .parquet)."""
    if what not in WHAT:
        raise ValueError(f"what must be one of {WHAT}; got {what!r}")
    check_output(path)
    frame = labels_frame(events, item_index) if what == "labels" else events_frame(events)
    if frame["label"].dropna().map(type).nunique() > 1 and Path(path).suffix.lower() == ".parquet":
        frame["label"] = frame["label"].map(lambda v: None if v is None else json.dumps(v))  # one type per column
    return write_frame(frame, path)
