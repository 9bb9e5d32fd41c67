"""The report's sections: what each one computes and shows (figures, tables, paragraphs), in order.

Each builder takes the report's context (``table``, ``seed``, ``diagnosis``: a function returning the shared
diagnosis, ``results_dir``) and returns a :class:`Section`; :mod:`cape.report.html` renders them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Block:
    """One item of a section: a Plotly figure, a table or a paragraph."""

    kind: str  # "figure" | "table" | "text" | "headline"
    title: str = ""
    obj: object = None


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    note: str = ""

    def figure(self, fig, title: str = "") -> None:
        self.blocks.append(Block("figure", title, fig))

    def table(self, df: pd.DataFrame, title: str) -> None:
        self.blocks.append(Block("table", title, df))

    def text(self, text: str) -> None:
        self.blocks.append(Block("text", "", text))



def _overview(ctx: dict) -> Section:
    from .. import plots as figures

    t = ctx["table"]
    s = Section("overview", "Overview")
    from .headline import headline, pooled_notes

    s.blocks.append(Block("headline", "", headline(ctx["diagnosis"]())))
    s.text(f"{t.n_models} models in {len(t.families)} families; benchmarks {', '.join(t.benchmarks)}. "
           "Each trajectory is one family ordered by parameter count; marker size grows with log N.")
    s.figure(figures.phase_diagram(t), "Phase diagram")
    res = ctx["diagnosis"]()
    for note in pooled_notes(res):
        s.text(note)
    from ..gamma_error import gamma_errors

    s.figure(figures.gamma_figure(res, errors=gamma_errors(res, t)), "Local coupling against scale (±1 SE)")
    return s


def _families(ctx: dict) -> Section:
    from .. import plots as figures

    res = ctx["diagnosis"]()
    s = Section("families", "Families")
    s.figure(figures.nc_forest_figure(res), "N_c per family with 95% CI")
    s.table(figures.nc_table(res), "N_c table")
    s.table(res.gamma_frame(), "Local coupling per interval")
    return s


def _eigen(ctx: dict) -> Section:
    import pandas as pd

    from .. import plots as figures
    from ..eigen import eigen_spectrum, phase_spectra

    t, seed = ctx["table"], ctx["seed"]
    spectra = {"all": eigen_spectrum(t, n_boot=1000, seed=seed)}
    ps = phase_spectra(t, n_boot=1000, seed=seed)
    spectra.update({k: ps.phases[k] for k in ("tax", "transition", "bonus") if k in ps.phases})
    s = Section("eigen", "Eigenstructure")
    s.text("Covariance participation ratio d_eff per phase (each model takes the phase of the interval ending at "
           f"it; {len(ps.unassigned)} models unassigned), 95% bootstrap CI resampling models within families.")
    s.figure(figures.deff_figure(spectra), "d_eff per phase")
    s.figure(figures.spectrum_figure(spectra), "Spectra")
    s.figure(figures.loadings_figure(spectra["all"], title="Loadings (all models)"), "Loadings")
    s.table(pd.DataFrame([{"group": k, "n_models": e.n_models, "n_families": e.n_families, "d_eff": e.d_eff,
                           "ci_low": e.d_eff_ci[0], "ci_high": e.d_eff_ci[1], "status": e.status}
                          for k, e in spectra.items()]), "d_eff per phase")
    return s


def _dynamics(ctx: dict) -> Section:
    import warnings

    from .. import plots as figures
    from ..dynamics import cross_predict, discover, predict_scale

    t, seed = ctx["table"], ctx["seed"]
    s = Section("dynamics", "Dynamics")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        disc = discover(t, seed=seed)
        s.text("Discovered on " + ", ".join(disc.families) + ": " + "; ".join(disc.equations()))
        s.figure(figures.ode_terms_figure(disc), "Discovered ODE")
        try:
            h = cross_predict(t, holdout="Llama-2", seed=seed)
        except Exception as e:  # noqa: BLE001 - a family missing from user data
            s.text(f"Held-out prediction skipped: {e}")
        else:
            s.text(h.verdict)
            s.figure(figures.holdout_errors_figure(h), "Held-out prediction against baselines")
            s.figure(figures.holdout_prediction_figure(h, h.benchmarks[1] if len(h.benchmarks) > 1
                                                       else h.benchmarks[0]), "Held-out family: observed vs predicted")
            s.table(h.to_frame(), "Held-out errors")
        if "Pythia" in t.families:
            p = predict_scale("Pythia", 3e10, t, seed=seed)
            s.figure(figures.scale_prediction_figure(p, t), "Pythia predicted at 30B")
            s.table(p.to_frame(), "Pythia at 30B: predicted scores and intervals")
    return s


def _levers(ctx: dict) -> Section:
    from ..levers import lever_effects
    from ..plots.levers import equivalent_scale_figure, lever_effects_figure

    rep = lever_effects(ctx["table"], seed=ctx["seed"])
    s = Section("levers", "Levers")
    n_id = sum(e.identifiable for e in rep.levers)
    n_sig = sum(bool(e.significant) for e in rep.levers)
    s.text(f"What moves coupling at matched scale ({rep.measure}, {rep.n_families} families): {n_id} of "
           f"{len(rep.levers)} lever contrasts identifiable (at least 3 families a side), {n_sig} significant at "
           "alpha 0.05. p: the lever shuffled across families; CI: every effect that test does not reject.")
    s.figure(lever_effects_figure(rep), "Effect per lever with 95% CI")
    s.figure(equivalent_scale_figure(rep), "Equivalent scale")
    df = rep.to_frame()[["lever", "levels", "effect", "ci_low", "ci_high", "p", "n_families", "identifiable",
                         "message"]]
    df["levels"] = df["levels"].map(" vs ".join)
    df["n_families"] = df["n_families"].map(lambda d: ", ".join(f"{k} {v}" for k, v in d.items()))
    s.table(df, "Levers: effect, CI, p, families")
    return s


def _claims(ctx: dict) -> Section:
    import pandas as pd

    from ..paper import all_claims
    from .. import plots as figures

    df = pd.DataFrame([c.to_dict() for c in all_claims()])
    s = Section("claims", "Claims")
    if df.empty:
        s.text("No analysis module providing claims is installed.")
        return s
    counts = df["verdict"].value_counts()
    s.text(", ".join(f"{counts.get(v, 0)} {v}" for v in ("reproduces", "differs", "not computable")) + ".")
    s.figure(figures.claims_figure(df), "Verdicts")
    cols = [c for c in ("id", "claim", "paper_value", "computed_value", "sound_value", "verdict", "reason")
            if c in df.columns]
    s.table(df[cols], "Paper claims against computation")
    return s


def _internals(ctx: dict) -> Section:
    import pandas as pd

    from .. import plots as figures
    from ..internals.results import read_result

    folder = ctx.get("results_dir")
    s = Section("internals", "Internals")
    heads, layers, steer = [], [], []
    for p in sorted(Path(folder).rglob("*.json")):
        try:
            d = read_result(p)
        except Exception:  # noqa: BLE001 - not a result file
            continue
        if not isinstance(d, dict):
            continue
        d["_file"] = p.name
        kind = d.get("kind") or d.get("analysis")
        if kind == "heads":
            heads.append(d)
        elif kind == "layers":
            layers.append(d)
        elif {"sweep", "mc", "layers", "strength"} <= set(d):
            steer.append(d)
    s.text(f"{len(heads)} per-head, {len(layers)} per-layer and {len(steer)} steering result file(s) from {folder}.")
    if heads:
        s.table(pd.DataFrame([{"model": figures.model_label(p), "file": p["_file"], **(p.get("summary") or {})}
                              for p in heads]), "Per-head summary")
        for p in heads:
            s.figure(figures.heads_heatmap(p), f"Per-head coupling: {figures.model_label(p)}")
    if heads or layers:
        s.figure(figures.layer_profiles_figure(layers, heads), "Per-layer coupling")
    if layers:
        s.figure(figures.drep_figure(layers), "d_rep per layer")
        s.figure(figures.bottleneck_figure(layers), "Projection bottleneck")
    if steer:
        s.figure(figures.steering_mc_figure(steer), "Steering effect")
        for ev in steer:
            if ev.get("sweep"):
                s.figure(figures.steering_sweep_figure(ev), f"Steering sweep: {figures.model_label(ev)}")
    return s


def _frontier(ctx: dict) -> Section:
    from .. import plots as figures
    from ..frontier import frontier_report

    rep = frontier_report(added=ctx.get("frontier_added"))
    c = rep.coupling
    s = Section("frontier", "Frontier")
    s.text(f"Population coupling r = {c.r:+.3f} (95% bootstrap CI [{c.r_ci_boot[0]:+.3f}, {c.r_ci_boot[1]:+.3f}], "
           f"p = {c.p:.2g}, n = {c.n}); line {rep.config.y} = {c.slope:.3f} x {rep.config.x} + {c.intercept:.1f}. "
           f"Leave-one-lab-out MAE {rep.lolo.mean_mae:.2f} ± {rep.lolo.sd_mae:.2f} points "
           f"({rep.lolo.n_labs} labs). {rep.saturation.message}.")
    s.figure(figures.frontier_scatter(rep), "Population line and prediction band")
    s.figure(figures.h_field_figure(rep), "h-field per model")
    s.figure(figures.lab_h_figure(rep), "h-field per lab")
    s.figure(figures.lab_trajectory_figure(rep), "h trajectory per lab")
    s.figure(figures.saturation_figure(rep), "Rotation diagnostic")
    s.table(rep.to_frame().reset_index(), "Frontier models: scores, h, LOLO prediction")
    s.table(rep.labs.to_frame().reset_index(), "Per-lab statistics")
    s.table(rep.lolo.labs.reset_index(), "Leave-one-lab-out")
    return s


def _data(ctx: dict) -> Section:
    t = ctx["table"]
    s = Section("data", "Data")
    wide = t.wide(force=True).reset_index()
    wide.insert(2, "params_B", (wide.pop("params") / 1e9).round(4))
    s.table(wide, "Scores (one row per model, percent)")
    srcs = (t.long.groupby("source", dropna=True)["model"].nunique().rename("models").reset_index()
            .sort_values("models", ascending=False))
    s.table(srcs, "Sources")
    return s


#: Report sections in order: (key, title, builder).
SECTIONS: tuple[tuple[str, str, Callable[[dict], Section]], ...] = (
    ("overview", "Overview", _overview),
    ("families", "Families", _families),
    ("eigen", "Eigenstructure", _eigen),
    ("dynamics", "Dynamics", _dynamics),
    ("frontier", "Frontier", _frontier),
    ("internals", "Internals", _internals),
    ("levers", "Levers", _levers),
    ("claims", "Claims", _claims),
    ("data", "Data", _data),
)
