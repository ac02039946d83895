"""How fast the label stores take labels from many annotators at once.

N processes (spawned, like N Voila kernels) label one store together behind a
barrier, each with the click path of the Labeler: ``query(1, refresh=False)``
(one lease transaction) then ``record`` (one durable transaction). No model
is refit, so this measures the store, not scikit-learn. Prints labels per
second over all writers and the time of one query+lease and one record.

    python benchmarks/store_throughput.py                    # SQLite and a throwaway PostgreSQL server
    python benchmarks/store_throughput.py --writers 8 --labels 50 --backends sqlite

The PostgreSQL server is started from Debian's binaries the way the test suite
does it (tests/test_concurrency.py); pass --postgres URL to use your own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _writer(store_url: str, name: str, seed: int, n_labels: int, barrier, results) -> None:
    from sklearn.linear_model import LogisticRegression

    import alwidgets as alw

    data = alw.datasets.load_digits()
    session = alw.Session(LogisticRegression(), data.X, store=store_url, annotator=name, random_state=seed,
                          classes=list(range(10)), strategy="random")
    query_s, record_s = [], []
    barrier.wait()
    start = time.perf_counter()
    for _ in range(n_labels):
        t0 = time.perf_counter()
        idx = session.query(1, refresh=False)[0]
        t1 = time.perf_counter()
        session.record(idx, int(data.y[idx]))
        t2 = time.perf_counter()
        query_s.append(t1 - t0)
        record_s.append(t2 - t1)
    results.put({"seconds": time.perf_counter() - start, "query": query_s, "record": record_s})


def measure(store_url: str, writers: int, n_labels: int) -> dict:
    from alwidgets.store import open_store

    open_store(store_url).close()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(writers), ctx.Queue()
    processes = [ctx.Process(target=_writer, args=(store_url, f"w{k}", k, n_labels, barrier, results))
                 for k in range(writers)]
    for p in processes:
        p.start()
    reports = [results.get(timeout=900) for _ in processes]
    for p in processes:
        p.join()
    store = open_store(store_url)
    n_events = sum(e.kind == "label" for e in store.events())
    store.close()
    assert n_events == writers * n_labels, f"{n_events} labels stored, {writers * n_labels} acknowledged"
    queries = sorted(q for r in reports for q in r["query"])
    records = sorted(q for r in reports for q in r["record"])
    wall = max(r["seconds"] for r in reports)
    return {"labels": n_events, "seconds": wall, "per_second": n_events / wall,
            "query_median_ms": 1000 * statistics.median(queries), "query_p95_ms": 1000 * queries[int(0.95 * len(queries))],
            "record_median_ms": 1000 * statistics.median(records),
            "record_p95_ms": 1000 * records[int(0.95 * len(records))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--labels", type=int, default=50, help="labels per writer")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres", help="a postgresql:// URL of an empty database to use instead of a throwaway server")
    args = parser.parse_args()
    rows = []
    server = None
    for backend in args.backends.split(","):
        if backend == "sqlite":
            url = str(Path(tempfile.mkdtemp(prefix="alw-bench-")) / "labels.db")
        elif args.postgres:
            url = args.postgres
        else:
            sys.path.insert(0, str(HERE.parent / "tests"))
            from test_concurrency import start_postgres

            server = start_postgres()
            url = server.new_database()
        print(f"{backend}: {args.writers} writers x {args.labels} labels…", flush=True)
        try:
            rows.append((backend, measure(url, args.writers, args.labels)))
        finally:
            if server is not None:
                server.stop()
                server = None
    print("\n| store | writers | labels | labels/s | query+lease median / p95 (ms) | record median / p95 (ms) |")
    print("|---|---|---|---|---|---|")
    for backend, r in rows:
        print(f"| {backend} | {args.writers} | {r['labels']} | {r['per_second']:.0f} | "
              f"{r['query_median_ms']:.1f} / {r['query_p95_ms']:.1f} | {r['record_median_ms']:.1f} / {r['record_p95_ms']:.1f} |")


if __name__ == "__main__":
    main()
