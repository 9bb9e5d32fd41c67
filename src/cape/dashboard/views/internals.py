"""Internals: per-head, per-layer and steering result files produced by the CLI (``cape heads -o DIR``,
``cape layers -o DIR``, ``cape steer eval``), opened from a folder."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from ... import plots as figures
from .. import RESULTS_ENV
from ..widgets import show_figure, show_table
from . import _library


def _default_folder() -> str:
    env = os.environ.get(RESULTS_ENV)
    if env:
        return env
    return str(Path.cwd() / "cape-results")


def render() -> None:
    st.title("Internals")
    folder = st.text_input("results folder", value=_default_folder(), key="in_folder",
                           help="A folder with the JSON files written by `cape heads -o DIR`, `cape layers -o DIR` "
                                "and steering evaluations; searched recursively.")
    if not Path(folder).is_dir():
        st.info(f"{folder}: not a folder. Run `cape heads MODEL -o {folder}` or `cape layers MODEL -o {folder}` "
                "first, or give the folder holding their results.")
        return
    res = _library.internals_folder(folder, _library.folder_stamp(folder))
    heads, layers, steer = res["heads"], res["layers"], res["steering"]
    st.caption(f"{len(heads)} per-head, {len(layers)} per-layer and {len(steer)} steering result file(s)"
               + (f"; {len(res['other'])} other JSON file(s) ignored" if res["other"] else ""))
    for e in res["errors"]:
        st.warning(e)
    from ...sweep.resume import read_failures

    for f in read_failures(folder):
        st.warning(f"{f.get('model_id')}: {f.get('task_kind')} failed after {len(f.get('attempts') or [])} "
                   f"attempt(s): {f.get('reason')}")
    if not (heads or layers or steer):
        st.info("No CAPE result files in this folder.")
        return
    profiles = {figures.model_label(p): p.get("per_layer") or [] for p in heads}
    units = {figures.model_label(p): p.get("cosine") or [] for p in heads}
    for p in layers:
        lc = (p.get("layer_coupling") or {}).get("contrast")
        if lc:
            profiles[figures.model_label(p) + " (layers)"] = lc.get("cosine") or []
    for w in _library.sanity(profiles, units) + [w for p in heads + layers for w in (p.get("warnings") or [])]:
        st.warning(w)

    if heads:
        st.subheader("Per-head coupling")
        rows = [{"model": figures.model_label(p), "file": p["_file"], "measure": p.get("measure"),
                 "layers": p.get("n_layers"), "heads": p.get("n_heads"), **(p.get("summary") or {})} for p in heads]
        show_table(pd.DataFrame(rows), "per-head summary")
        if len(heads) >= 2:
            _across_models(folder)
        pick = st.selectbox("model", list(range(len(heads))), key="in_head_model",
                            format_func=lambda i: f"{figures.model_label(heads[i])} ({heads[i]['_file']})")
        p = heads[pick]
        show_figure(figures.heads_heatmap(p), "heads_heatmap",
                    data=pd.DataFrame(p.get("cosine") or []).rename_axis("layer"))
    if layers or heads:
        st.subheader("Per-layer coupling")
        measures = sorted({m for p in layers for m in (p.get("layer_coupling") or {})}) or ["contrast"]
        m = st.radio("measure", measures, horizontal=True, key="in_measure")
        show_figure(figures.layer_profiles_figure(layers, heads, measure=m), "layer_profiles")
    if layers:
        left, right = st.columns(2)
        with left:
            show_figure(figures.drep_figure(layers), "d_rep", half=True)
        with right:
            show_figure(figures.bottleneck_figure(layers, measure=m), "bottleneck", half=True)
    if steer:
        st.subheader("Steering")
        show_figure(figures.steering_mc_figure(steer), "steering_margin")
        pick = st.selectbox("evaluation", list(range(len(steer))), key="in_steer_pick",
                            format_func=lambda i: f"{figures.model_label(steer[i])} ({steer[i]['_file']})")
        ev = steer[pick]
        if ev.get("sweep"):
            show_figure(figures.steering_sweep_figure(ev), "steering_sweep", data=pd.DataFrame(ev["sweep"]))
        rate = ev.get("intervention_rate")
        if rate is not None:
            st.caption(f"Greedy output changed on {ev.get('n_changed')} of {ev.get('n_prompts')} prompts "
                       f"({rate:.0%}).")
        gens = ev.get("generations") or []
        if gens:
            show_table(pd.DataFrame(gens), "generations")


def _across_models(folder: str) -> None:
    """The sweep summary of the folder's per-head results (what `cape heads summarize` prints)."""
    from ...errors import CapeError
    from ...sweep.summaries import summarize_heads

    try:
        s = summarize_heads(folder)
    except CapeError as e:
        st.warning(str(e))
        return
    st.subheader("Across models")
    st.caption(f"{s.outcome}: {s.overall.text()} (Wilson 95% CI); "
               + "; ".join(f"{name}: {p.text()}" for name, p in s.extra.items())
               + ". Phases from the benchmark scores of the embedded base-model cohort.")
    rows = [{"by": by, "group": g, "k": p.k, "n": p.n, "share": p.share, "ci_low": p.low, "ci_high": p.high}
            for by, groups in (("family", s.by_family), ("size", s.by_size), ("phase", s.by_phase))
            for g, p in groups.items()]
    show_table(pd.DataFrame(rows), "across models")
    if s.phase_test:
        t = s.phase_test
        st.caption(f"Tax vs bonus models: {t['table'][0][0]}/{sum(t['table'][0])} vs {t['table'][1][0]}/"
                   f"{sum(t['table'][1])}, Fisher exact p = {t['p_value']:.3g}.")
    for w in s.warnings:
        st.warning(w)
