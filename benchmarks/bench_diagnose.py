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
import math
import os
import resource
import statistics
import subprocess
import sys
import time

from _timing import interleaved, spread


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
    from cape._stats import stratified_indices as _stratified_indices
    from cape.critical import (PaperQuadraticVertex, _demeaned_vertex, crossing_values,
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

    # baselines: the same draws, one resample at a time in plain Python (lists and floats: for 3-8 models
    # this beats calling numpy per resample by an order of magnitude, so it is the honest alternative)
    py_draws = [(fd.scores[:, 0].tolist(), fd.scores[:, 1].tolist(), idx.tolist()) for fd, idx, _, _ in
                draws.values()]

    def r_loop():
        out = []
        for s1, s2, rows in py_draws:
            v = []
            for row in rows:
                x = [s1[i] for i in row]
                y = [s2[i] for i in row]
                mx, my = sum(x) / len(x), sum(y) / len(y)
                sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
                sxx = sum((a - mx) ** 2 for a in x)
                syy = sum((b - my) ** 2 for b in y)
                v.append(sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else math.nan)
            out.append(v)
        return out

    def nc_vec():
        out = []
        for fd, _, z1, z2 in draws.values():
            S1 = fd.scores[:, 0] + z1 * fd.se[:, 0]
            S2 = fd.scores[:, 1] + z2 * fd.se[:, 1]
            out.append(crossing_values(fd.logn, S1, S2, fd.se[:, 1])[0])
        return out

    def nc_loop():  # the estimator itself, called once per resample (no plain-Python twin of it exists)
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
    px, py, pw = (pdata.logn - center).tolist(), pdata.y.tolist(), w.tolist()
    starts = np.flatnonzero(np.r_[True, pdata.fam_idx[1:] != pdata.fam_idx[:-1]]).tolist() + [pdata.y.size]
    prow = pidx.tolist()

    def pooled_vec():
        return _demeaned_vertex(pdata.logn[pidx], pdata.y[pidx], w[pidx], pdata.fam_idx, center)[0]

    def pooled_loop():
        v = []
        for row in prow:
            a11 = a12 = a22 = r1 = r2 = 0.0
            for f0, f1 in zip(starts[:-1], starts[1:]):
                ii = row[f0:f1]
                ws = [pw[i] for i in ii]
                xs = [px[i] for i in ii]
                qs = [x * x for x in xs]
                ys = [py[i] for i in ii]
                sw = sum(ws)
                mq = sum(a * b for a, b in zip(ws, qs)) / sw
                mx = sum(a * b for a, b in zip(ws, xs)) / sw
                for wi, qi, xi, yi in zip(ws, qs, xs, ys):
                    dq, dx = qi - mq, xi - mx
                    a11 += wi * dq * dq
                    a12 += wi * dq * dx
                    a22 += wi * dx * dx
                    r1 += wi * dq * yi
                    r2 += wi * dx * yi
            det = a11 * a22 - a12 * a12
            if det <= 1e-10 * max(a11 * a22, 1e-300):
                v.append(math.nan)
                continue
            b2 = (r1 * a22 - r2 * a12) / det
            b1 = (a11 * r2 - a12 * r1) / det
            v.append(-b1 / (2 * b2) + center if b2 > 0 else math.nan)
        return np.array(v)

    b14 = pooled_data(data.fixture_table("boot14"), min_models=1, order="input")
    est = PaperQuadraticVertex()
    n14 = b14.y.size
    c14 = float(b14.logn.mean())
    lx, ly = (b14.logn - c14).tolist(), b14.y.tolist()
    legacy_rows = np.random.RandomState(est.seed).randint(0, n14, size=(B, n14)).tolist()  # the legacy stream

    def paper_vec():
        return est.replicate_vertices(b14.logn, b14.y, B)[0]

    def paper_loop():
        v = []
        for row in legacy_rows:
            xs = [lx[i] for i in row]
            ys = [ly[i] for i in row]
            s1 = sum(xs)
            s2 = sum(x * x for x in xs)
            s3 = sum(x ** 3 for x in xs)
            s4 = sum(x ** 4 for x in xs)
            t0, t1 = sum(ys), sum(x * y for x, y in zip(xs, ys))
            t2 = sum(x * x * y for x, y in zip(xs, ys))
            # normal equations [[s4 s3 s2] [s3 s2 s1] [s2 s1 n]] (a b c) = (t2 t1 t0), Cramer's rule for a, b
            det = s4 * (s2 * n14 - s1 * s1) - s3 * (s3 * n14 - s1 * s2) + s2 * (s3 * s1 - s2 * s2)
            if abs(det) <= 1e-9:
                v.append(math.nan)
                continue
            a = (t2 * (s2 * n14 - s1 * s1) - s3 * (t1 * n14 - s1 * t0) + s2 * (t1 * s1 - s2 * t0)) / det
            b = (s4 * (t1 * n14 - s1 * t0) - t2 * (s3 * n14 - s1 * s2) + s2 * (s3 * t0 - t1 * s2)) / det
            v.append(-b / (2 * a) + c14 if a != 0 else math.nan)
        return np.array(v)

    rep = 1 if args.quick else 5
    print(f"vectorised bootstrap vs the same {B} resamples one at a time (same draws; median [min-max] of "
          f"{rep} interleaved runs{'' if args.quick else ' after a warm-up'}):")
    tot_v = tot_l = 0.0
    for name, base, fv, fl in (("r bootstrap, all families", "plain-Python loop", r_vec, r_loop),
                               ("within-family N_c replicates", "estimator per resample", nc_vec, nc_loop),
                               ("pooled N_c (family offsets)", "plain-Python loop", pooled_vec, pooled_loop),
                               ("paper quadratic vertex (legacy)", "plain-Python loop", paper_vec, paper_loop)):
        t = interleaved({"vec": fv, "loop": fl}, repeat=rep, warmup=0 if args.quick else 1)
        a, b = t["vec"]["result"], t["loop"]["result"]
        same = all(np.allclose(np.asarray(x, float), np.asarray(y, float), equal_nan=True, rtol=1e-6, atol=1e-8)
                   for x, y in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]))
        tv, tl = t["vec"]["median"], t["loop"]["median"]
        if base == "plain-Python loop":  # the headline ratio counts only the plain-Python baselines
            tot_v += tv
            tot_l += tl
        print(f"  {name:32s} vectorised {spread(t['vec']):>22s} ms   {base} {spread(t['loop']):>26s} ms   "
              f"{tl / tv:6.1f}x   same values: {same}")
    print(f"  {'the three plain-Python ones':32s} vectorised {tot_v * 1e3:8.1f} ms   baselines {tot_l * 1e3:9.1f} ms   "
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
