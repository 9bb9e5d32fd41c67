"""Benchmark of the coupling diagnosis (cape.diagnose / ``cape diagnose``), target < 3 s wall with 10,000
bootstrap resamples per estimate on the embedded cohort.

Measured in the same run:
  * ``cape diagnose`` as a user runs it (a fresh process: imports, data loading, every family's r bootstrap
    and permutation test, every within-family N_c bootstrap, the pooled N_c with family offsets, the paper's
    procedure on the same families and its headline on the 14-model table): wall and CPU seconds;
  * the vectorised bootstraps against a plain per-resample Python loop doing the same work on the same
    random draws (so both give identical numbers, which is checked): r bootstrap, within-family N_c
    replicates, pooled-offsets replicates, and the paper's legacy quadratic-vertex bootstrap;
  * the coverage of the within-family N_c CI on simulated families (quality, not speed).

Usage: python benchmarks/bench_diagnose.py [--n-boot 10000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def timed(fn, repeat=3):
    out, ts = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return out, statistics.median(ts)


def cli_run(n_boot: int) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from cape.cli import main; sys.exit(main(sys.argv[1:]))",
                    "diagnose", "--n-boot", str(n_boot)], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-boot", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and a smaller coverage study")
    args = ap.parse_args()
    B = args.n_boot
    import numpy as np

    from cape import data
    from cape.coupling import pearson_rows, score_frame
    from cape.critical import (PaperQuadraticVertex, _demeaned_vertex, _stratified_indices, crossing_values,
                               family_data, pooled_data)
    from cape.diagnose import diagnose

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f}")

    # ---------------------------------------------------------------- the command as a user runs it
    runs = [cli_run(B) for _ in range(1 if args.quick else 3)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(f"cape diagnose (embedded cohort, {B} resamples per estimate, fresh process): wall {wall:.2f} s, "
          f"CPU {cpu:.2f} s -> target < 3 s wall: {'PASS' if wall < 3 else 'FAIL'}")
    base = data.load_base()
    res, t_lib = timed(lambda: diagnose(base, n_boot=B, seed=0), repeat=1 if args.quick else 3)
    print(f"diagnose() in-process (data already loaded): {t_lib:.2f} s for {len(res.families)} families")

    # ---------------------------------------------------------------- vectorised vs per-resample loop
    frame = score_frame(base, ("HellaSwag", "TruthfulQA"))
    fams = [f.family for f in res.families if f.status == "ok"]
    rng = np.random.default_rng(0)
    draws = {}
    for f in fams:
        fd = family_data(frame, f)
        K = len(fd.models)
        draws[f] = (fd, rng.integers(0, K, size=(B, K)), rng.standard_normal((B, K)), rng.standard_normal((B, K)))

    def r_vec():
        return [pearson_rows(fd.scores[idx, 0], fd.scores[idx, 1]) for fd, idx, _, _ in draws.values()]

    def r_loop():
        out = []
        for fd, idx, _, _ in draws.values():
            v = np.empty(B)
            for b in range(B):
                x, y = fd.scores[idx[b], 0], fd.scores[idx[b], 1]
                v[b] = np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else np.nan
            out.append(v)
        return out

    def nc_vec():
        out = []
        for fd, _, z1, z2 in draws.values():
            S1 = fd.scores[:, 0] + z1 * fd.se[:, 0]
            S2 = fd.scores[:, 1] + z2 * fd.se[:, 1]
            out.append(crossing_values(fd.logn, S1, S2, fd.se[:, 1])[0])
        return out

    def nc_loop():
        out = []
        for fd, _, z1, z2 in draws.values():
            v = np.empty(B)
            for b in range(B):
                s1 = fd.scores[:, 0] + z1[b] * fd.se[:, 0]
                s2 = fd.scores[:, 1] + z2[b] * fd.se[:, 1]
                v[b] = crossing_values(fd.logn, s1[None], s2[None], fd.se[:, 1])[0][0]
            out.append(v)
        return out

    pdata = pooled_data(frame, families=list(res.pooled.families), min_models=3)
    pidx = _stratified_indices(pdata.fam_idx, B, np.random.default_rng(1))
    w = 1.0 / pdata.se ** 2
    center = float(pdata.logn.mean())

    def pooled_vec():
        return _demeaned_vertex(pdata.logn[pidx], pdata.y[pidx], w[pidx], pdata.fam_idx, center)[0]

    def pooled_loop():
        v = np.empty(B)
        for b in range(B):
            i = pidx[b]
            v[b] = _demeaned_vertex(pdata.logn[i][None], pdata.y[i][None], w[i][None], pdata.fam_idx, center)[0][0]
        return v

    b14 = pooled_data(data.fixture_table("boot14"), min_models=1, order="input")
    est = PaperQuadraticVertex()

    def paper_vec():
        return est.replicate_vertices(b14.logn, b14.y, B)[0]

    def paper_loop():
        return est.replicate_vertices_loop(b14.logn, b14.y, B)[0]

    print(f"vectorised bootstrap vs per-resample Python loop, {B} resamples, same draws:")
    rep = 1 if args.quick else 3
    tot_v = tot_l = 0.0
    for name, fv, fl in (("r bootstrap, all families", r_vec, r_loop),
                         ("within-family N_c replicates", nc_vec, nc_loop),
                         ("pooled N_c (family offsets)", pooled_vec, pooled_loop),
                         ("paper quadratic vertex (legacy)", paper_vec, paper_loop)):
        a, tv = timed(fv, repeat=rep)
        b, tl = timed(fl, repeat=1)
        same = all(np.allclose(np.asarray(x, float), np.asarray(y, float), equal_nan=True, atol=1e-8)
                   for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]))
        tot_v += tv
        tot_l += tl
        print(f"  {name:34s} vectorised {tv * 1e3:8.1f} ms   loop {tl * 1e3:9.1f} ms   {tl / tv:6.1f}x   "
              f"identical: {same}")
    print(f"  {'all four':34s} vectorised {tot_v * 1e3:8.1f} ms   loop {tot_l * 1e3:9.1f} ms   "
          f"{tot_l / tot_v:6.1f}x -> target >= 10x: {'PASS' if tot_l / tot_v >= 10 else 'FAIL'}")

    # ---------------------------------------------------------------- calibration (quality)
    from cape.simulate import coverage_study

    n = 100 if args.quick else 300
    t0 = time.perf_counter()
    cf = coverage_study(n, flip=True, seed=0, n_boot=2000)
    cn = coverage_study(n, flip=False, seed=1, n_boot=2000)
    dt = time.perf_counter() - t0
    print(f"simulated families (binomial noise, {n} with a planted N_c, {n} without; {dt:.1f} s):")
    print(f"  95% CI covers the planted N_c: {100 * cf.coverage:.1f}% (two-sided CIs: "
          f"{100 * cf.coverage_when_bounded:.1f}% of {cf.n - cf.status.get('none', 0)}); statuses {cf.status}; "
          f"median two-sided CI width {cf.median_ci_decades:.2f} decades")
    print(f"  families without a flip reported 'none': {100 * cn.none_rate:.1f}%; statuses {cn.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
