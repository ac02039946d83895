"""A labeling kernel killed with kill -9 in the middle of a run loses no acknowledged label.

The child process labels in a loop and prints each pool index, flushed, only
after ``record()`` returned: that line is the acknowledgement a page would
show. The parent kills it (SIGKILL, no clean-up of any kind) part-way
through, then checks the SQLite file: intact, holding every acknowledged
label, and a new Session resumes from it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sklearn.linear_model import LogisticRegression

import alwidgets as alw

POOL_SIZE = 500
CHILD = f"""
import sys
import alwidgets as alw
from sklearn.linear_model import LogisticRegression

store, mode = sys.argv[1], sys.argv[2]
data = alw.datasets.load_digits()
X, y = data.X[:{POOL_SIZE}], data.y[:{POOL_SIZE}]
session = alw.Session(LogisticRegression(max_iter=200), X, store=store, annotator="crashy", random_state=0,
                      classes=list(range(10)))
print("ready", flush=True)
while True:
    picks = session.query(1, refresh=False)
    if not picks:
        break
    session.record(picks[0], int(y[picks[0]]))
    print(picks[0], flush=True)  # acknowledged: record() returned
    if mode == "teach":
        session.update()
"""


def _pool():
    data = alw.datasets.load_digits()
    return data.X[:POOL_SIZE], data.y[:POOL_SIZE]


@pytest.mark.parametrize("mode, kill_after", [("record", 60), ("teach", 12)], ids=["label-loop", "label-and-refit"])
def test_kill_9_keeps_every_acknowledged_label_and_the_next_session_resumes(tmp_path, mode, kill_after):
    db = tmp_path / "labels.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), mode], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        acknowledged = []
        deadline = time.monotonic() + 300
        while len(acknowledged) < kill_after and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line, f"the labeling process ended early: {child.stderr.read()}"
            acknowledged.append(int(line))
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate(timeout=60)  # lines acknowledged before the kill landed
        acknowledged += [int(line) for line in rest.split()]
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert len(acknowledged) >= kill_after

    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()

    X, y = _pool()
    resumed = alw.Session(LogisticRegression(max_iter=200), X, store=str(db), annotator="crashy",
                          classes=list(range(10)))
    assert set(acknowledged) <= set(resumed.labels), "an acknowledged label is missing after kill -9"
    assert all(resumed.labels[i] == y[i] for i in acknowledged)
    assert resumed.is_fitted and len(resumed.learner.y_training) == resumed.n_labeled
    assert not set(resumed.query(resumed.n_pool)) & set(resumed.labels)
    resumed.close()
