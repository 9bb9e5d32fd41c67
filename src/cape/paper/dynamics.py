"""The paper's ODE claims (claims M11, M12, M13, A10 in docs/paper.md) against computation on the embedded data."""

from __future__ import annotations

import warnings

import numpy as np

from ..dynamics.holdout import cross_predict
from ..dynamics.integrate import simulate
from ..dynamics.metrics import errors
from ..dynamics.paper import paper_holdout, paper_ode_fit, paper_per_phase
from ..dynamics.phases import per_phase
from .claim import Claim, matches_published, verdict_published


def paper_claims() -> list:
    """Claims M11, M12, M13 and A10, each computed at run time from the embedded fixtures and cohort."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = paper_ode_fit()
        ho = paper_holdout()
        pp = paper_per_phase()
        sound = cross_predict(train=["Pythia"], holdout="Llama-2", n_models=100, seed=0)
        phases = per_phase(n_models=100, seed=0)
    disc = sound.discovery
    py = disc.trajectories[0]
    full = simulate(disc.coef, disc.powers, disc.units, py.scores[0], py.x[0], py.x)
    e_full = errors(full, py.scores, disc.benchmarks)
    sindy = sound.method("sindy")
    poly2 = sound.method("poly2")
    i_tqa = list(sound.benchmarks).index("TruthfulQA") if "TruthfulQA" in sound.benchmarks else None
    note = ("; no coupling term survives cross-validation, so the sparse ODE is the constant-rate model"
            if disc.intercept and not np.count_nonzero(disc.coef[:, 1:]) else "")

    # M11
    out.append(Claim(
        "M11", "The discovered ODE fits five Pythia benchmarks at 2.6% mean error", "2.6%",
        f"{fit.overall:.2f}%", verdict_published(fit.overall, "2.6"),
        f"reproduces only with the released code's dense least-squares linear ODE ({fit.n_parameters} parameters "
        f"from {fit.n_numbers} slopes, no sparsity, no pysindy), RK45 from Pythia-70M, DS-PYTHIA8; the error is "
        "in-sample",
        sound_value=(f"{e_full.overall_rel:.2f}% in-sample with the sparse pysindy ODE "
                     f"({disc.n_terms} terms, cross-validated thresholds) on the embedded Pythia")))
    # M12
    out.append(Claim(
        "M12", "The ODE is 2x better than a degree-2 polynomial baseline (10.2% error)", "10.2%",
        f"{paper_holdout(degree=2).mape:.2f}%", "differs",
        "the degree-2 polynomial on the same training set (Pythia + Llama-1, DS-BOOT14) is itself the '5.6%' "
        "number; 10.2% appears nowhere as a degree-2 fit",
        sound_value=(f"Pythia -> Llama-2, five benchmarks, every method started from Llama-2-7B: degree-2 "
                     f"polynomial {poly2.errors.overall_mape:.2f}% vs sparse ODE {sindy.errors.overall_mape:.2f}% "
                     f"MAPE, the ODE {_ratio_text(sindy.errors.overall_mape, poly2.errors.overall_mape)} (best: "
                     f"{sound.methods[0].label}, {sound.methods[0].errors.overall_mape:.2f}%){note}")))
    # M13
    ok = (matches_published(round(pp.tax, 4), "0.12") and matches_published(round(pp.bonus, 4), "0.75")
          and matches_published(round(pp.ratio, 2), "6.3"))
    h = phases.headline
    sv = None
    if h is not None:
        sv = (f"sparse per-phase ODE on the embedded cohort (phases by measured gamma): HS coefficient in dTQA "
              f"{h['tax']:.3g} (tax) vs {h['bonus']:.3g} (bonus), difference "
              f"{'exceeds' if h['exceeds_spread'] else 'within'} the ensemble spread; "
              f"{phases.n_exceeding} coefficient(s) differ beyond it")
    out.append(Claim(
        "M13", "The HS->TQA ODE coefficient grows from 0.12 (tax) to 0.75 (bonus), 6.3x", "0.12 / 0.75 / 6.3x",
        f"{pp.tax:.4f} / {pp.bonus:.4f} / {pp.ratio:.2f}x", "reproduces" if ok else "differs",
        "ordinary least squares of dTQA/dlog10N on mid-interval HS over 3 (tax) and 2 (bonus, an exact fit) "
        f"Pythia intervals, not pysindy; within Pythia gamma never turns positive (sign flip: {pp.sign_flip})",
        sound_value=sv))
    # A10
    tq = (f"TQA {sindy.errors.mape[i_tqa]:.2f}%, " if i_tqa is not None and not np.isnan(sindy.errors.mape[i_tqa])
          else "")
    out.append(Claim(
        "A10", "The ODE discovered on Pythia cross-predicts held-out Llama-2 at 5.6% error", "5.6%",
        f"{ho.mape:.2f}% (quadratic TQA(log10 N) fit, not an ODE)",
        "differs",
        "5.65% reproduces exactly as a degree-2 polynomial of TruthfulQA on Pythia + Llama-1 (DS-BOOT14) "
        "predicting Llama-2 TruthfulQA; no ODE is involved",
        sound_value=(f"sparse ODE trained on Pythia, integrated from Llama-2-7B: {tq}all five "
                     f"{sindy.errors.overall_mape:.2f}% MAPE (rank {sound.rank('sindy')} of {len(sound.methods)})"
                     f"{note}")))
    return out


def _ratio_text(ode: float, poly: float) -> str:
    """'1.04x worse than it' / '2.00x better than it' from two MAPEs (percent)."""
    if not (np.isfinite(ode) and np.isfinite(poly)) or ode <= 0 or poly <= 0:
        return "not comparable (a prediction diverged)"
    return f"{poly / ode:.2f}x better than it" if ode < poly else f"{ode / poly:.2f}x worse than it"

