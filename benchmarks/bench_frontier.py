"""Frontier diagnostics and the doctor: timings, each against its baseline in the same run.

* pairs bootstrap of the population line (r, slope, intercept): vectorised over resamples vs a per-resample
  Python loop with ``np.polyfit`` / ``np.corrcoef`` (the baseline); both give the same intervals for a seed;
* ``frontier_report()`` on the embedded panel (every table, 2000 resamples);
* ``diagnose_model()`` for a cohort model and a frontier model (2000 score-noise draws), warm.

Usage: ``python benchmarks/bench_frontier.py``
"""

from __future__ import annotations

import time

import numpy as np


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _loop_bootstrap(x, y, n_boot, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    out = np.empty((n_boot, 3))
    for b in range(n_boot):
        xs, ys = x[idx[b]], y[idx[b]]
        s, i = np.polyfit(xs, ys, 1)
        out[b] = (np.corrcoef(xs, ys)[0, 1], s, i)
    return out


def main() -> None:
    from cape.doctor import DoctorConfig, diagnose_model
    from cape.frontier import (GPQA, SWE, FrontierConfig, bootstrap_line, embedded_panel, frontier_report,
                               mark_fit)

    panel = mark_fit(embedded_panel())
    fit = panel[panel["in_fit"]]
    x, y = fit[SWE].to_numpy(float), fit[GPQA].to_numpy(float)
    n_boot = 2000
    t_vec = _best(lambda: bootstrap_line(x, y, n_boot=n_boot, seed=0))
    t_loop = _best(lambda: _loop_bootstrap(x, y, n_boot, 0), repeat=1)
    v = bootstrap_line(x, y, n_boot=n_boot, seed=0)
    lp = _loop_bootstrap(x, y, n_boot, 0)
    same = np.allclose(v["slope"], lp[:, 1]) and np.allclose(v["r"], lp[:, 0])
    print(f"pairs bootstrap, {len(x)} models x {n_boot} resamples: vectorised {t_vec * 1e3:.1f} ms, "
          f"loop baseline {t_loop * 1e3:.1f} ms ({t_loop / t_vec:.0f}x); identical resamples: {same}")

    frontier_report()  # warm caches (data files, scipy)
    t_rep = _best(lambda: frontier_report(config=FrontierConfig(n_boot=n_boot)))
    t_rep0 = _best(lambda: frontier_report(config=FrontierConfig(n_boot=0)))
    print(f"frontier_report (every table): {t_rep * 1e3:.0f} ms with {n_boot} resamples, "
          f"{t_rep0 * 1e3:.0f} ms without the bootstrap (baseline)")

    cfg = DoctorConfig(n_boot=2000)
    diagnose_model("Pythia-1B", config=cfg)
    t_doc = _best(lambda: diagnose_model("Pythia-1B", config=cfg))
    t_doc0 = _best(lambda: diagnose_model("Pythia-1B", config=DoctorConfig(n_boot=0)))
    t_fr = _best(lambda: diagnose_model("Claude Opus 4.6", config=cfg))
    print(f"diagnose_model('Pythia-1B'): {t_doc * 1e3:.0f} ms with 2000 noise draws, {t_doc0 * 1e3:.0f} ms "
          f"without draws (baseline); frontier model: {t_fr * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
