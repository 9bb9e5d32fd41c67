"""Synthetic families with a planted lever effect, for tests and benchmarks of :func:`lever_effects`.

Each family has a lever value ``L_f`` (``yes`` for the first ``round(share * F)`` families, ``no`` for the
rest, assigned before anything else is drawn), a family-specific coupling offset ``u_f ~ N(0, family_sd)``
and 3-7 sizes drawn in ``log10 N in [8, 11]``. HellaSwag follows a sigmoid in ``log10 N`` with a family offset;
TruthfulQA is integrated along it with the local coupling

``gamma(x) = g0 (x - x_c) + effect * L_f + u_f``

so the planted lever moves the critical scale by the factor ``10**(-effect / g0)``. Both scores then get
independent measurement noise (``noise`` percentage points).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scores import ScoreTable


def simulate_lever_families(n_families: int = 16, *, effect: float = 0.0, share: float = 0.5, g0: float = 0.4,
                            x_c: float = 9.5, family_sd: float = 0.15, noise: float = 0.5,
                            sizes: tuple[int, int] = (3, 7), seed: int = 0, lever: str = "treated"
                            ) -> tuple[ScoreTable, pd.DataFrame]:
    """Draw a score table of synthetic families with a planted lever effect.

    Args:
        n_families: families F.
        effect: planted change of gamma for ``L = yes`` (0: no effect).
        share: share of families with ``L = yes``.
        g0: gamma's slope per decade of N; x_c: log10 of the reference critical scale.
        family_sd: SD of the family offsets of gamma (between-family variation the lever does not explain).
        noise: SD of the score noise (percentage points).
        sizes: smallest and largest number of models per family.
        seed: seed of the ``numpy.random.Generator``.
        lever: name of the attribute column.

    Returns:
        ``(table, attributes)``: a ScoreTable (HellaSwag, TruthfulQA) and one row per model with ``model`` and
        the lever column (``yes`` / ``no``).
    """
    rng = np.random.default_rng(seed)
    n_yes = round(share * n_families)
    rows, attrs = [], []
    for f in range(n_families):
        on = f < n_yes
        u = rng.normal(0.0, family_sd)
        k = int(rng.integers(sizes[0], sizes[1] + 1))
        x = np.sort(rng.uniform(8.0, 11.0, size=k))
        x = x + np.arange(k) * 1e-3  # distinct sizes
        hs = 25.0 + 62.0 / (1.0 + np.exp(-1.6 * (x - 9.6))) + rng.normal(0.0, 3.0)
        mid = (x[:-1] + x[1:]) / 2.0
        gam = g0 * (mid - x_c) + effect * on + u
        tqa = 40.0 + rng.normal(0.0, 3.0) + np.concatenate([[0.0], np.cumsum(gam * np.diff(hs))])
        hs_obs = np.clip(hs + rng.normal(0.0, noise, k), 0.0, 100.0)
        tqa_obs = np.clip(tqa + rng.normal(0.0, noise, k), 0.0, 100.0)
        for i in range(k):
            name = f"fam{f:02d}-{i}-{10 ** x[i] / 1e9:.3f}B"
            rows.append({"model": name, "family": f"fam{f:02d}", "params": float(10 ** x[i]),
                         "HellaSwag": hs_obs[i], "TruthfulQA": tqa_obs[i]})
            attrs.append({"model": name, lever: "yes" if on else "no"})
    table = ScoreTable.from_wide(pd.DataFrame(rows), units="percent", name="simulated lever families")
    return table, pd.DataFrame(attrs)
