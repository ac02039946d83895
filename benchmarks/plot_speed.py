"""How long a live redraw of each plot takes: drawing into a reused Axes, and drawing plus PNG encoding.

A widget redraws after every label, so these must stay well below what a
person notices: targets are a decision-boundary redraw of moons at resolution
80 well under 150 ms and a learning curve well under 50 ms.

"build" is making the artists; "+PNG" adds rendering them to PNG bytes, the
whole cost of a redraw shown in an ``ipywidgets.Image``.

Run: ``.venv/bin/python benchmarks/plot_speed.py [--repeats N]``. The table
shows the best (and median) of N redraws, in CPU time of this process and in
wall time. On a shared machine wall time grows with the load while CPU time
stays close to what the plot itself costs; the "empty figure" row (clearing
and drawing bare axes) is a yardstick of the machine.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import alwidgets as alw
from alwidgets import plots


def timed(function, repeats: int) -> dict[str, float]:
    """Wall and CPU time of ``function()`` in milliseconds, best and median (after one warm-up call).

    CPU time (``time.process_time``) counts only this process's own work, so it
    moves much less than wall time when other processes share the CPUs.
    """
    function()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - start_wall) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {"wall": min(wall), "wall_median": float(np.median(wall)), "cpu": min(cpu),
            "cpu_median": float(np.median(cpu))}


def _cleared(ax):
    """``ax`` after ``ax.clear()``: what a caller pays if it clears before redrawing (the plots need not)."""
    ax.clear()
    return ax


def cases():
    """(name, draw function, axes) for each plot, on the data sets of the notebooks."""
    moons = alw.datasets.make_moons(400, random_state=0)
    pool, test = alw.datasets.split(moons, random_state=0)
    model = make_pipeline(PolynomialFeatures(3), StandardScaler(), LogisticRegression(C=3))
    moons_session = alw.Session(model, pool.X, X_test=test.X, y_test=test.y, random_state=0)
    moons_session.simulate(pool.y, 20)
    moons_query = moons_session.query()[0]
    baseline = alw.RandomBaseline(model, pool.X, pool.y, test.X, test.y, random_state=0)
    baseline_curve = baseline.for_history(moons_session.history)

    digits = alw.datasets.load_digits()
    dpool, dtest = alw.datasets.split(digits, random_state=0)
    digits_session = alw.Session(LogisticRegression(max_iter=300), dpool.X, X_test=dtest.X, y_test=dtest.y,
                                 random_state=0)
    digits_session.simulate(dpool.y, 40, batch_size=10)
    digits_query = digits_session.query()[0]
    digits_projection = plots.make_projection(dpool.X)

    sin = alw.datasets.load_sin()
    kernel = RBF(1.0, (1e-2, 1e3)) + WhiteKernel(1.0, (1e-10, 1e1))
    gp_session = alw.Session(GaussianProcessRegressor(kernel=kernel, random_state=0), sin.X, strategy="max_std",
                             random_state=0)
    gp_session.simulate(sin.y, 15)
    gp_query = gp_session.query()[0]

    rng = np.random.RandomState(0)
    long_curves = {
        name: [{"n_labels": n, "score": float(s)} for n, s in enumerate(np.sort(rng.uniform(0.5, 0.95, 200)), 1)]
        for name in ("random", "margin", "entropy")
    }
    return [
        ("empty figure (yardstick)", lambda ax: ax.clear(), plots.new_axes()),
        ("learning curve, 1 history + baseline", lambda ax: plots.plot_learning_curve(
            moons_session.history, ax, baseline=baseline_curve, target=0.9, budget=50), plots.new_axes()),
        ("  same, after ax.clear() (slower)", lambda ax: plots.plot_learning_curve(
            moons_session.history, _cleared(ax), baseline=baseline_curve, target=0.9, budget=50), plots.new_axes()),
        ("learning curve, 3 x 200 points", lambda ax: plots.plot_learning_curve(long_curves, ax, target=0.9),
         plots.new_axes()),
        ("decision boundary, moons, res 80", lambda ax: plots.plot_decision_boundary(
            moons_session, ax, query=moons_query, resolution=80), plots.new_axes()),
        ("  same, after ax.clear() (slower)", lambda ax: plots.plot_decision_boundary(
            moons_session, _cleared(ax), query=moons_query, resolution=80), plots.new_axes()),
        ("decision boundary, digits 64-D (PCA)", lambda ax: plots.plot_decision_boundary(
            digits_session, ax, query=digits_query, projection=digits_projection), plots.new_axes()),
        ("GP regression, sin, 300-point grid", lambda ax: plots.plot_regression(
            gp_session, ax, query=gp_query, y_true=sin.y), plots.new_axes()),
        ("image 28x28", lambda ax: plots.plot_image(np.linspace(0, 1, 784).reshape(28, 28), ax), plots.new_axes()),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {args.repeats} redraws each")
    print(f"{'':40s} {'build artists':>22s}   {'build + render PNG (a full redraw)':>36s}")
    print(f"{'plot':40s} {'CPU best':>10s} {'wall best':>10s}   {'CPU best':>10s} {'CPU median':>11s} {'wall best':>10s}")
    for name, draw, ax in cases():
        build = timed(lambda draw=draw, ax=ax: draw(ax), args.repeats)
        full = timed(lambda draw=draw, ax=ax: plots.figure_to_png(draw(ax) or ax), args.repeats)
        print(f"{name:40s} {build['cpu']:8.1f}ms {build['wall']:8.1f}ms   "
              f"{full['cpu']:8.1f}ms {full['cpu_median']:9.1f}ms {full['wall']:8.1f}ms")


if __name__ == "__main__":
    main()
