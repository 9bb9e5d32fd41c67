"""Benchmark of the lever analysis (cape.levers / ``cape levers``): error rates on planted effects, and speed.

Measured in the same run:
  * error rates on synthetic families (:func:`cape.levers.simulate.simulate_lever_families`, 16 families,
    8 with the lever): the false-positive rate without an effect, the power with a planted shift of gamma, and
    the coverage of the reported 95% CI (permutation-test inversion) and of the family-bootstrap percentile CI,
    at alpha = 0.05;
  * the baseline: the same data analysed as if every model were its own family (so the permutation shuffles
    models, not families); with between-family variation its false-positive rate is inflated;
  * speed: the vectorised fit of all bootstrap and permutation replicates against a per-replicate loop of
    ``numpy.linalg.lstsq`` rebuilding the design each time (same draws; the coefficients are checked equal);
  * ``cape levers`` on the embedded cohort as a user runs it (fresh process): wall seconds.

Usage: python benchmarks/bench_levers.py [--datasets 100] [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np


def rates(n: int, effect: float, family_sd: float, *, per_model: bool = False, measure: str = "gamma"
          ) -> tuple[float, float, float, float]:
    """(rejection rate, coverage of the planted effect by the reported CI (permutation-test inversion) and by
    the family-bootstrap percentile CI, seconds per dataset) over n datasets."""
    from cape.levers import lever_effects
    from cape.levers.simulate import simulate_lever_families
    from cape.scores import ScoreTable

    rej = cov = cov_boot = 0
    t0 = time.perf_counter()
    for s in range(n):
        t, a = simulate_lever_families(16, effect=effect, family_sd=family_sd, seed=10_000 * int(10 * effect) + s)
        if per_model:
            long = t.long
            long["family"] = long["model"]
            t = ScoreTable(long, units="percent", name="one family per model")
        e = lever_effects(t, ["treated"], attributes=a, measure=measure,
                          n_boot=500, n_perm=500, seed=s).get("treated", "yes")
        rej += e.p < 0.05
        if not per_model:
            cov += (e.ci_low if e.ci_low is not None else -np.inf) <= effect <= (
                e.ci_high if e.ci_high is not None else np.inf)
            cov_boot += e.ci_boot[0] <= effect <= e.ci_boot[1]
    return rej / n, cov / n, cov_boot / n, (time.perf_counter() - t0) / n


def machinery_null(n: int, n_perm: int = 199, seed: int = 0) -> float:
    """False-positive rate of the family permutation test on many cheap null datasets built directly as
    observations (16 families of 2-6 steps, family offsets, unequal weights), without the score-table layer:
    a large-sample check that the test holds its level."""
    from cape.levers import fit

    rng = np.random.default_rng(seed)
    F, rej = 16, 0
    E = (np.arange(F) < 8).astype(float)[:, None]
    for _ in range(n):
        k = rng.integers(2, 7, size=F)
        fam = np.repeat(np.arange(F), k)
        x = rng.uniform(8, 11, fam.size)
        u = rng.normal(0, 0.3, F)[fam]
        y = 0.4 * (x - 9.5) + u + rng.normal(0, 0.3, fam.size) * rng.uniform(0.5, 2, fam.size)
        mom = fit.moments(fam, np.column_stack([np.ones(fam.size), x]), y, rng.uniform(0.2, 3, fam.size), F)
        est = fit.solve(mom, np.ones((1, F)), E)[0, 2]
        perm = fit.block_permutations(np.zeros(F, dtype=int), n_perm, rng)
        null = fit.solve(mom, np.ones((n_perm, F)), E[perm])[:, 2]
        rej += fit.permutation_p(np.array([est]), null[:, None])[0] < 0.05
    return rej / n


def speed(n_rep: int) -> tuple[float, float]:
    """Vectorised replicates vs a per-replicate lstsq loop on the same draws."""
    from cape.levers import fit

    rng = np.random.default_rng(0)
    F, n = 16, 80
    fam = np.repeat(np.arange(F), n // F)
    x, y, w = rng.normal(size=n), rng.normal(size=n), rng.uniform(0.5, 2, n)
    E = (np.arange(F) < 8).astype(float)[:, None]
    strata = E[:, 0].astype(int)
    C = fit.stratified_counts(strata, n_rep, rng)
    t0 = time.perf_counter()
    mom = fit.moments(fam, np.column_stack([np.ones(n), x]), y, w, F)
    vec = fit.solve(mom, C, E)
    t_vec = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop = np.empty_like(vec)
    for b in range(n_rep):
        idx = np.concatenate([np.repeat(np.flatnonzero(fam == f), C[b, f]) for f in range(F)])
        X = np.column_stack([np.ones(idx.size), x[idx], E[fam[idx], 0]])
        sw = np.sqrt(w[idx])
        loop[b] = np.linalg.lstsq(X * sw[:, None], y[idx] * sw, rcond=None)[0]
    t_loop = time.perf_counter() - t0
    ok = np.isfinite(vec).all(1)
    assert np.allclose(vec[ok], loop[ok], rtol=1e-8, atol=1e-10), "vectorised and loop fits differ"
    return t_vec, t_loop


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="30 datasets per scenario")
    args = ap.parse_args()
    n = 30 if args.quick else args.datasets
    print(f"error rates, {n} synthetic datasets per scenario (16 families, 8 with the lever; 500 resamples, "
          "500 shuffles; alpha 0.05)")
    print(f"{'scenario':44s} {'reject':>7s} {'CI covers':>10s} {'boot CI':>8s} {'s/dataset':>10s}")
    for label, eff, sd, pm, meas in (
            ("gamma: no effect, family SD 0.15", 0.0, 0.15, False, "gamma"),
            ("gamma: no effect, family SD 0.40", 0.0, 0.40, False, "gamma"),
            ("gamma: planted +0.3, family SD 0.15", 0.3, 0.15, False, "gamma"),
            ("gamma: planted +0.6, family SD 0.15", 0.6, 0.15, False, "gamma"),
            ("residual: no effect, SD 0.40, families", 0.0, 0.40, False, "residual"),
            ("baseline residual: same, models shuffled", 0.0, 0.40, True, "residual")):
        r, c, cb, s = rates(n, eff, sd, per_model=pm, measure=meas)
        cov, covb = ("—", "—") if pm else (f"{c:.2f}", f"{cb:.2f}")
        print(f"{label:44s} {r:7.2f} {cov:>10s} {covb:>8s} {s:10.2f}", flush=True)
    m = 400 if args.quick else 2000
    print(f"\nfamily permutation test on {m} cheap null datasets (observations built directly, 199 shuffles): "
          f"false-positive rate {machinery_null(m):.3f} at alpha 0.05", flush=True)
    reps = 2000
    t_vec, t_loop = speed(reps)
    print(f"\nspeed, {reps} family-bootstrap refits: vectorised {t_vec * 1e3:.1f} ms, per-replicate lstsq loop "
          f"{t_loop * 1e3:.0f} ms ({t_loop / t_vec:.0f}x)")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from cape.cli import main; sys.exit(main(sys.argv[1:]))",
                    "levers", "--json"], check=True, stdout=subprocess.DEVNULL)
    print(f"cape levers --json on the embedded cohort (all levers, 2000 resamples + 2000 shuffles each): "
          f"{time.perf_counter() - t0:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
