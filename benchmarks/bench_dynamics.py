"""Benchmark of cape.dynamics: discovery with a 100-member ensemble on the embedded cohort (target < 10 s).

Measured in the same run:
  * ``discover`` on every family with all five benchmarks (degree 2, cross-validated thresholds per
    equation, 100 bagged refits, in-sample trajectory fit);
  * the baseline: pysindy's own ``EnsembleOptimizer(STLSQ, bagging=True, n_models=100)`` fitted through
    ``SINDy`` on the same derivative samples at one threshold (no cross-validation, no trajectory fit);
  * ``cross_predict`` (Pythia -> Llama-2, all baselines) and ``predict_scale`` (200 bootstrap refits);
  * support recovery of a known sparse system versus measurement noise (quality, not speed).

Usage: python benchmarks/bench_dynamics.py
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def timed(fn, repeat=3):
    out = None
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return out, statistics.median(ts), min(ts)


def main() -> int:
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    import numpy as np
    import pysindy as ps

    from cape.dynamics import cross_predict, discover, predict_scale
    from cape.dynamics.trajectories import make_samples

    print(f"imports (numpy, scipy, pysindy, cape.dynamics): {time.perf_counter() - t0:.2f} s")

    d, med, best = timed(lambda: discover(families=None, degree=2, n_models=100, seed=0))
    print(f"discover: {len(d.families)} families, {d.n_samples} samples, {len(d.feature_names)} library terms x "
          f"{len(d.names)} equations, CV over {len(d.cv.thresholds)} thresholds x {d.cv.n_folds} folds, "
          f"100-member ensemble: median {med:.2f} s (best {best:.2f} s) -> target < 10 s: "
          f"{'PASS' if med < 10 else 'FAIL'}")

    s = make_samples(d.trajectories, d.units, d.derivative)
    st, dv, xs = s.split_by_group()
    thr = float(np.median(d.threshold))

    def pysindy_ensemble():
        np.random.seed(0)
        m = ps.SINDy(optimizer=ps.EnsembleOptimizer(ps.STLSQ(threshold=thr, alpha=d.alpha), bagging=True,
                                                    n_models=100),
                     feature_library=ps.PolynomialLibrary(degree=2))
        m.fit(st, t=xs, x_dot=dv)
        return m

    _, pmed, pbest = timed(pysindy_ensemble)
    print(f"baseline pysindy EnsembleOptimizer (bagging, 100 STLSQ fits, one threshold, no CV): median "
          f"{pmed:.2f} s (best {pbest:.2f} s)")

    from cape.dynamics.sparse import bootstrap_weights, features, stlsq_batch

    theta = features(s.states, d.powers)

    def ours_ensemble_only():
        w = bootstrap_weights(s.n, 100, np.random.default_rng(0))
        return stlsq_batch(theta, s.derivs, w, thr, alpha=d.alpha)

    _, omed, obest = timed(ours_ensemble_only)
    print(f"cape vectorised ensemble alone (same 100 STLSQ fits): median {omed * 1000:.1f} ms "
          f"({pmed / max(omed, 1e-9):.0f}x faster than the pysindy loop)")

    r, hmed, _ = timed(lambda: cross_predict(n_models=100, seed=0), repeat=1)
    print(f"cross_predict Pythia -> Llama-2 with 5 baselines: {hmed:.2f} s; winner {r.winner} "
          f"({r.methods[0].errors.overall_mape:.2f}% MAPE); sparse ODE {r.method('sindy').errors.overall_mape:.2f}%")
    _, pmed2, _ = timed(lambda: predict_scale("Pythia", 3e10, n_models=200, seed=0), repeat=1)
    print(f"predict_scale Pythia @ 30B, 200 bootstrap refits integrated together: {pmed2:.2f} s")

    # quality: support recovery of a known 3-variable sparse system versus noise (8 families x 7 points)
    from test_dynamics import TRUE, synthetic

    print("support recovery (8 families x 7 uneven points, degree 2, 10 seeds):")
    for noise in (0.1, 0.3, 1.0):
        exact = 0
        for seed in range(10):
            dd = discover(synthetic(seed=seed, noise_pp=noise), families=None, benchmarks="HS,TQA,ARC", degree=2,
                          n_models=0)
            found = {(dd.names[i], dd.feature_names[f]) for i, f in zip(*np.nonzero(dd.coef))}
            exact += found == set(TRUE)
        print(f"  noise {noise:.1f} pp: exact support in {exact}/10")
    return 0 if med < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
