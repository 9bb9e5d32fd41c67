"""Diagnose: one model's phase, its position relative to its family's N_c, its residuals and the recommended
interventions with their evidence (:func:`cape.doctor.diagnose_model`, the doctor).

Four ways in: describe a model (family, parameter count, any benchmark scores), upload a results file
(lm-eval JSON, CSV, leaderboard files) and pick one of its models, pick a model of the data, or name a model on
the Hugging Face Hub (``org/name``; its family across sizes from the Open LLM Leaderboard, :mod:`cape.hub`).
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from ... import catalog
from ... import plots as figures
from ..._format import fmt_params
from ...errors import CapeError
from .. import state
from ..widgets import show_figure, show_table
from . import _library

#: Example input shown on first load (a tax-phase Pythia-like model); the user replaces it.
EXAMPLE = {"family": "Pythia", "params": "1e9", "HellaSwag": 49.7, "TruthfulQA": 38.9}
BASE_FIELDS = ("HellaSwag", "TruthfulQA", "ARC-Challenge", "WinoGrande", "MMLU")
FRONTIER_FIELDS = ("SWE-bench Verified", "GPQA Diamond")
MODES = ("Describe a model", "From a results file", "Pick a model", "From the Hub")


def parse_params(text: str) -> float | None:
    """``"1e9"``, ``"1B"``, ``"410M"``, ``"1.4 b"`` -> raw parameter count; empty -> None."""
    s = str(text or "").strip().replace(",", "").replace("_", "")
    if not s:
        return None
    mult = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
    low = s.lower()
    try:
        if low[-1] in mult:
            return float(low[:-1].strip()) * mult[low[-1]]
        return float(low)
    except ValueError:
        from ...errors import DataError

        raise DataError(f"parameter count {text!r} is not a number (write 1e9, 1B or 410M)") from None


def _field_key(b: str) -> str:
    return "dg_score_" + catalog.info(b).short


def _describe_form(table) -> dict | None:
    fams = table.families
    with st.form("dg_form", border=True):
        st.caption("Example values for a tax-phase model are filled in; replace them with yours. Leave a score "
                   "empty when you do not have it.")
        c1, c2, c3 = st.columns([2, 1, 1])
        fam = c1.selectbox("family", fams, index=fams.index(EXAMPLE["family"]) if EXAMPLE["family"] in fams else 0,
                           key="dg_family")
        params = c2.text_input("parameter count", value=EXAMPLE["params"], key="dg_params",
                               help="raw count: 1e9, 1B or 410M")
        d_model = c3.number_input("d_model (optional)", value=None, min_value=1, step=64, key="dg_dmodel",
                                  help="residual width, for the width rule")
        cols = st.columns(len(BASE_FIELDS))
        scores = {}
        for col, b in zip(cols, BASE_FIELDS):
            v = col.number_input(b, value=EXAMPLE.get(b), min_value=0.0, max_value=100.0, step=0.1, format="%.1f",
                                 key=_field_key(b))
            if v is not None:
                scores[b] = float(v)
        with st.expander("frontier scores (diagnose against the frontier panel instead)"):
            fc = st.columns(3)
            for col, b in zip(fc[:2], FRONTIER_FIELDS):
                v = col.number_input(b, value=None, min_value=0.0, max_value=100.0, step=0.1, format="%.1f",
                                     key=_field_key(b))
                if v is not None:
                    scores[b] = float(v)
            lab = fc[2].text_input("lab", value="", key="dg_lab")
        name = st.text_input("name (optional)", value="", key="dg_name")
        st.form_submit_button("Diagnose", type="primary")
    return {"family": fam, "params": parse_params(params), "scores": scores,
            "d_model": float(d_model) if d_model else None, "lab": lab or None, "name": name or None}


def _from_file() -> dict | None:
    files = st.file_uploader("lm-eval results JSON, CSV or leaderboard files", accept_multiple_files=True,
                             key="dg_upload", help="Parsed by cape.ingest; kept in this session only.")
    for f in files or []:
        if f.name not in state.uploads():
            try:
                state.add_upload(f.name, f.getvalue())
            except CapeError as e:
                st.error(f"{f.name}: {e}")
    ups = state.uploads()
    if not ups:
        st.info("Upload a results file (here or in the sidebar) to diagnose its models.")
        return None
    options = [(fname, m) for fname, (t, _) in ups.items() for m in t.models]
    pick = st.selectbox("model", options, format_func=lambda o: f"{o[1]}  ({o[0]})", key="dg_file_model")
    if pick is None:
        return None
    return {"model": pick[1], "table": ups[pick[0]][0]}


def _pick_model(table) -> dict | None:
    base = table.models
    fr = list(_library.frontier_panel_models())
    pick = st.selectbox("model", base + fr, key="dg_pick", index=None, placeholder="choose a model")
    if pick is None:
        return None
    ups = [t for t, _ in state.uploads().values() if pick in t.models]
    return {"model": pick, "table": ups[0] if ups else None}


@st.cache_data(show_spinner="Looking the model up on the Hub…", ttl=600, max_entries=32)
def hub_family(model: str):
    """:func:`cape.hub.lineage.find_family` for the doctor's pair (cached ten minutes; offline-first)."""
    from ...doctor import DoctorConfig
    from ...hub.lineage import find_family

    cfg = DoctorConfig()
    return find_family(model, (cfg.b1, cfg.b2))


def _from_hub() -> dict | None:
    with st.form("dg_hub_form", border=True):
        model = st.text_input("model on the Hugging Face Hub", value="", key="dg_hub",
                              placeholder="EleutherAI/pythia-1b", help="ORG/NAME. Its family across sizes comes from the Open LLM Leaderboard; cached "
                                   "copies are used when the Hub cannot be reached.")
        st.form_submit_button("Look up and diagnose", type="primary")
    if not model.strip():
        st.info("Name a model (ORG/NAME) to diagnose it against its family across sizes on the Open LLM "
                "Leaderboard.")
        return None
    fam = hub_family(model.strip())
    lines = [f"**{fam.model}**" + (f" ({fam.model_type})" if fam.model_type else "")
             + (f", base model {fam.base_model}" if fam.base_model else ""),
             f"family **{fam.family}**: {len(fam.members)} sizes ({', '.join(m.split('/')[-1] for m in fam.members)})",
             "scores: " + ("embedded data" if fam.scores_from == "embedded" else f"leaderboard {fam.scores_from}")
             + "; " + "; ".join(fam.sources)]
    with st.container(key="hub-lineage", border=True):
        st.markdown("  \n".join(lines))
        for n in fam.notes:
            st.warning(n)
    return {"model": fam.diagnosed, "table": fam.table}


def render() -> None:
    st.title("Diagnose")
    table = state.combined_table()
    mode = st.radio("input", MODES, horizontal=True, key="dg_mode", label_visibility="collapsed")
    try:
        if mode == MODES[3]:
            req = _from_hub()
            if req is None:
                return
            res = _library.doctor(model=req["model"], table=req["table"])
            table = req["table"]
        elif mode == MODES[0]:
            req = _describe_form(table)
            if req is None:
                return
            res = _library.doctor(family=req["family"], params=req["params"],
                                  scores=tuple(sorted(req["scores"].items())), d_model=req["d_model"],
                                  lab=req["lab"], name=req["name"])
        else:
            req = _from_file() if mode == MODES[1] else _pick_model(table)
            if req is None:
                return
            # a model from an uploaded file is read against its family in the file and in the embedded cohort
            res = _library.doctor(model=req["model"], table=req["table"], with_cohort=mode == MODES[1])
    except CapeError as e:
        st.error(str(e))
        return
    show_result(res, table)


def _phase_banner(res) -> None:
    """The verdict: phase, confidence, gamma with its interval, and the scores it was computed from."""
    ph = res.phase.to_dict() if res.phase else {}
    label = ph.get("label") or "undetermined"
    conf = ph.get("confidence")
    g = ph.get("gamma")
    ci = ph.get("gamma_ci") or (None, None)
    text = f"**Phase: {label.upper()}**"
    if conf is not None:
        text += f" (confidence {conf:.0%})"
    if g is not None:
        text += f" · γ = {g:+.2f}"
        if ci[0] is not None and ci[1] is not None:
            text += f" [{ci[0]:+.2f}, {ci[1]:+.2f}]"
    if ph.get("interval"):
        text += f" on {ph['interval']}"
    color = {"tax": "red", "transition": "orange", "bonus": "green"}.get(label, "gray")
    with st.container(key="phase-banner", border=True):
        st.markdown(f":{color}-background[{text}]")
        st.caption("scores diagnosed: " + ", ".join(f"{b} {v:.1f}" for b, v in res.scores.items()))


def _nc_short(cr: dict) -> str:
    """N_c for a metric tile: the estimate, or the open side of its CI (``> 4.1B``) when there is no flip."""
    if cr.get("nc") is not None:
        return fmt_params(cr["nc"])
    lo, hi = (cr.get("ci") or (None, None))[:2]
    if cr.get("direction") == "above" and lo is not None:
        return f"> {fmt_params(lo)}"
    if cr.get("direction") == "below" and hi is not None:
        return f"< {fmt_params(hi)}"
    return cr.get("status") or "—"


def show_result(res, table) -> None:
    st.subheader(res.model)
    st.caption(f"{res.kind} model · family {res.family or '—'} · "
               f"{fmt_params(res.params) if res.params else 'size unknown'} · source: {res.source}")
    _phase_banner(res)
    cols = st.columns(4)
    ph = res.phase.to_dict() if res.phase else {}
    cols[0].metric("phase", (ph.get("label") or "—"), help=ph.get("method"))
    cols[1].metric("γ", f"{ph['gamma']:+.2f}" if ph.get("gamma") is not None else "—")
    cr = res.critical.to_dict() if res.critical else {}
    cols[2].metric("position vs N_c", cr.get("position") or "—", help=cr.get("method"))
    cols[3].metric("family N_c", _nc_short(cr), help=cr.get("summary"))
    if cr.get("message"):
        st.caption(cr["message"])

    st.markdown("#### Recommended interventions")
    for r in res.recommendations:
        with st.container(border=True):
            st.markdown(f"**{r.title}** (`{r.name}`)")
            st.write(r.action)
            st.caption(f"Evidence: {r.evidence_text}")
            st.caption(f"Rule: {r.rule}")
            with st.expander("evidence (numbers)"):
                st.json(json.loads(json.dumps(r.to_dict()["evidence"], default=str)), expanded=False)

    if res.kind == "frontier" and res.frontier:
        st.info(res.frontier.message)
        rep = _library.frontier(False, "fit", 0, None)
        fig = figures.frontier_scatter(rep)
        sc = res.scores
        figures.highlight_point(fig, sc.get("SWE-bench Verified"), sc.get("GPQA Diamond"), res.model,
                                b1="SWE-bench Verified", b2="GPQA Diamond")
        show_figure(fig, "doctor_frontier")
    else:
        left, right = st.columns(2)
        with left:
            b1, b2 = res.axes
            # an uploaded model's family is shown as "<family> (uploaded)" beside the embedded one
            fams = [f for f in (res.family, state.uploaded_family(res.family)) if f in table.families] or None
            fig = figures.phase_diagram(table, b1=b1, b2=b2, families=fams,
                                        uploaded=state.uploaded_models(),
                                        title=f"{res.family}: {b2} vs {b1}")
            if b1 in res.scores and b2 in res.scores:
                figures.highlight_point(fig, res.scores[b1], res.scores[b2], res.model, b1=b1, b2=b2)
            show_figure(fig, "doctor_phase_diagram", half=True)
        with right:
            # the family's line: for an uploaded model its uploaded family when that has a coupling, else the
            # embedded one; each named as what it is ("Pythia (uploaded)" or "Pythia (embedded)")
            from_upload = any(res.model in t.models for t, _ in state.uploads().values())
            cands = sorted(fams or [], key=lambda f: f.endswith(state.UPLOADED) != from_upload)
            fc = next((c for c in (_library.family_coupling(table, f, res.axes) for f in cands) if c), None)
            label = fc.family if fc is not None and fc.family.endswith(state.UPLOADED) else None
            show_figure(figures.doctor_gamma_figure(res, fc, family_label=label), "doctor_gamma",
                        data=pd.DataFrame([c.to_dict() for c in res.coupling]), half=True)
    show_figure(figures.phase_probability_figure(res), "doctor_phase_probabilities")
    if res.residuals:
        st.markdown("#### Residuals")
        show_figure(figures.residuals_figure(res), "doctor_residuals")
        show_table(pd.DataFrame([r.to_dict() for r in res.residuals]), "residuals")
    if res.d_eff and res.d_eff.message:
        st.caption("d_eff context: " + res.d_eff.message)
    st.markdown("#### Every rule checked")
    show_table(pd.DataFrame([{"rule": r.name, "status": r.status, "reason": r.reason} for r in res.rules]),
               "rules", column_config={"reason": st.column_config.TextColumn("reason", width="large")})
    for n in res.notes:
        st.caption("note: " + n)
    st.download_button("⬇ diagnosis (JSON)", data=json.dumps(res.to_dict(), indent=2, default=str),
                       file_name="diagnosis.json", mime="application/json", key="dg_json", on_click="ignore")
