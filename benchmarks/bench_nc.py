"""Simulation study of the within-family N_c estimators (quality, not speed).

Cohorts of families share a noise regime (true TruthfulQA noise 0.5, 1, 2 or 3 pp; stated errors absent,
true, or understated 1.5-fold); each family draws one true curve (quadratic U, asymmetric U, hinge,
sigmoid-like, monotone, reversal), 5-9 models, a U depth 1-8x the noise (:mod:`cape.nc_simulation`).
Every cohort's extra noise is measured from the data before estimating (:mod:`cape.noise`).

Printed for the default estimator (``fit``) and, as the baseline measured in the same run on the same
families, the sign-split estimator (``crossing``, noise bootstrap):

* coverage: among planted flips reported observed/extrapolated, the share of CIs holding the planted N_c;
* false flips: share of monotone and reversal families reported as a tax-to-bonus flip, per noise regime;
* detection of planted flips by model count and U depth (x noise), and the target cell
  (>= 7 models, depth >= 3x noise);
* median CI width (decades).

Targets: coverage >= 93%, false flips <= 5% in every regime, detection >= 80% in the target cell.

Usage: python benchmarks/bench_nc.py [--cohorts 40] [--seed 7] [--n-boot 1000] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time


def show(s, wall: float) -> None:
    pct = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    print(f"\n== method {s.method}: {s.n} families, {wall:.1f} s")
    print(f"coverage of planted N_c by reported CIs: {pct(s.coverage)} (all planted flips, any set: "
          f"{pct(s.coverage_all)})")
    print(f"false flips: max {pct(s.false_flip_max)} over regimes, {pct(s.false_flip_all)} overall")
    for k, v in s.false_flip.items():
        print(f"  {k:>12}: {pct(v)}")
    print("detection of planted flips:")
    for k, v in s.detection.items():
        print(f"  {k:>32}: {pct(v)}")
    print(f"detection, >= 7 models and depth >= 3x noise: {pct(s.power_target)}")
    w = "—" if s.median_ci_decades is None else f"{s.median_ci_decades:.2f}"
    print(f"median CI width: {w} decades")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cohorts", type=int, default=40, help="cohorts per noise regime (12 regimes)")
    ap.add_argument("--cohort-size", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates of the crossing baseline")
    ap.add_argument("--quick", action="store_true", help="5 cohorts per regime")
    a = ap.parse_args(argv)
    from cape.nc_simulation import run_study

    n = 5 if a.quick else a.cohorts
    ok = True
    for method, nb in (("fit", 0), ("crossing", a.n_boot)):
        t0 = time.perf_counter()
        s = run_study(n, cohort_size=a.cohort_size, method=method, seed=a.seed, n_boot=nb)
        show(s, time.perf_counter() - t0)
        if method == "fit":
            ok = (s.coverage or 0) >= 0.93 and s.false_flip_max <= 0.05 and (s.power_target or 0) >= 0.80
            print("targets (coverage >= 93%, false flips <= 5% per regime, detection >= 80%):",
                  "met" if ok else "MISSED")
    foreign(3, 60 if a.quick else 300)
    return 0 if ok else 1


def foreign(seed: int, n: int) -> None:
    """The older generator of :mod:`cape.simulate` (binomial item noise only, no stated errors, asymmetric
    quadratic arms, one family at a time), which the smooth-fit estimator was not designed on."""
    from cape.simulate import coverage_study

    print(f"\n== foreign generator (cape.simulate), fit estimator, {n} + {n} families per row")
    for kw in ({}, {"extra_sd": 1.0}, {"n_models": 8}):
        t0 = time.perf_counter()
        a = coverage_study(n, flip=True, seed=seed, n_boot=0, **kw)
        b = coverage_study(n, flip=False, seed=seed + 1, n_boot=0, **kw)
        det = (a.status.get("observed", 0) + a.status.get("extrapolated", 0)) / a.n
        ff = (b.status.get("observed", 0) + b.status.get("extrapolated", 0)) / b.n
        label = ", ".join(f"{k}={v}" for k, v in kw.items()) or "default (5-8 models)"
        rep = "—" if a.coverage_when_bounded is None else f"{100 * a.coverage_when_bounded:.1f}%"
        print(f"  {label}: coverage {100 * a.coverage:.1f}% (reported CIs {rep}), detection {100 * det:.1f}%, "
              f"false flips {100 * ff:.1f}%, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
