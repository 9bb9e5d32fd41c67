"""A model on the Hub, found by name: its leaderboard row, its lineage and its family across sizes.

Siblings are the models of the same organisation whose names differ only in the size token
(``Qwen/Qwen2.5-7B-Instruct`` -> ``Qwen/Qwen2.5-{0.5B,1.5B,...}-Instruct``). The leaderboard v2 contents give
the lineage (``Base Model``, ``Type``, precision). What cannot be decided is stated, not guessed away:

* a model listed in several precisions: the first listed is used (the reader's rule), and the others named;
* a fine-tune without siblings across sizes: its base model's family is diagnosed instead, and the note says so;
* a name without a single size token: no siblings can be found by name (an error naming the reason).

Scores come from the leaderboard v2 table when both benchmarks of the pair are v2 benchmarks, else from the
archived v1 results (HellaSwag, TruthfulQA, ARC, WinoGrande, GSM8K, MMLU).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from ..errors import HubUnavailableError, NotFoundError
from .client import HubSettings
from .sources import (
    LEADERBOARD_REPOS,
    check_model_id,
    fetch,
    fetch_leaderboard,
    latest_results,
    read_snapshot,
)

#: benchmarks of the leaderboard v2 contents (canonical names)
V2_BENCHMARKS = ("IFEval", "BBH", "MATH Lvl 5", "MuSR", "MMLU-Pro")
_SIZE = re.compile(r"(?<![\dA-Za-z.])(\d+(?:\.\d+)?)\s*([mbkMBK])(?![A-Za-z0-9])")


def name_stem(model: str) -> str | None:
    """``org/name`` with its one size token replaced by ``*`` (lower case): ``qwen/qwen2.5-*-instruct``; None when
    the name has no size token or several (mixtures such as ``8x7B`` included)."""
    org, _, name = model.partition("/")
    if re.search(r"\d+\s*x\s*\d+(\.\d+)?\s*[bm]", name, re.I):
        return None
    hits = list(_SIZE.finditer(name))
    if len(hits) != 1:
        return None
    h = hits[0]
    return f"{org}/{name[:h.start()]}*{name[h.end():]}".lower()


def family_label(stem: str, members: list[str]) -> str:
    """The family's display name: the stem in the spelling of its first member (``Qwen/Qwen2.5-*-Instruct``)."""
    m = members[0]
    org, _, name = m.partition("/")
    h = _SIZE.search(name)
    return f"{org}/{name[:h.start()]}*{name[h.end():]}" if h else stem


def siblings(model: str, candidates) -> list[str]:
    """Names among ``candidates`` with the same stem as ``model`` (``model`` included, duplicates removed)."""
    st = name_stem(model)
    if st is None:
        return [model]
    seen: dict[str, str] = {}
    for c in [model, *candidates]:
        if name_stem(c) == st:
            seen.setdefault(c.lower(), c)
    return list(seen.values())


@dataclass(frozen=True)
class HubFamily:
    """A model found on the Hub, its family across sizes and the table to diagnose.

    Attributes:
        model: the model as asked (``org/name``).
        family: label of the family diagnosed (``facebook/opt-*``); a model of it is ``model`` unless the model is a
            fine-tune without siblings (then the base model's family).
        members: the family's models, in the table.
        base_model: the leaderboard's ``Base Model`` (None when unknown or the model itself).
        model_type: the leaderboard's ``Type`` (e.g. ``pretrained``), when known.
        precisions: the precisions the model is listed in on the leaderboard v2.
        table: the :class:`~cape.scores.ScoreTable` (a source with commit on every row).
        scores_from: ``v1`` or ``v2``.
        sources: the Hub snapshots read (``hf://...@commit``) with their dates.
        notes: every ambiguity or fallback, one sentence each.
        diagnosed: the model that the doctor should examine (the base model for a lone fine-tune).
    """

    model: str
    family: str
    members: tuple
    base_model: str | None
    model_type: str | None
    precisions: tuple
    table: object
    scores_from: str
    sources: tuple = ()
    notes: tuple = ()
    diagnosed: str = ""

    def to_dict(self) -> dict:
        return {"model": self.model, "family": self.family, "members": list(self.members),
                "base_model": self.base_model, "model_type": self.model_type, "precisions": list(self.precisions),
                "scores_from": self.scores_from, "sources": list(self.sources), "notes": list(self.notes),
                "diagnosed": self.diagnosed, "rows": len(self.table)}


# ----------------------------------------------------------------------------------------------- lineage
def _contents(snap):
    """The v2 contents read by the leaderboard reader, and ``{model (lower case): precisions in file order}``."""
    table, _report = read_snapshot(snap)
    precs: dict[str, list[str]] = {}
    for p in snap.files.values():
        try:
            df = pd.read_parquet(p)
        except Exception:  # noqa: BLE001 - the reader has read it; a column it lacks is simply unknown
            continue
        if {"fullname", "Precision"} <= set(df.columns):
            for m, pr in zip(df["fullname"].astype(str), df["Precision"].astype(str)):
                precs.setdefault(m.strip().lower(), []).append(pr)
    return table, precs


def _attr(row, col: str) -> str | None:
    v = row.get(col) if hasattr(row, "get") else None
    return str(v) if isinstance(v, str) and v.strip() else None


def lineage_of(model: str, table, precisions: dict | None = None) -> dict:
    """The leaderboard v2's word on ``model`` (the reader's ``base_model`` and ``model_type``, the precisions it
    was evaluated in); ``listed`` is False when the table lacks it."""
    from ..ingest.leaderboard import PRECISION_ORDER

    empty = {"listed": False, "precisions": (), "type": None, "base": None, "notes": []}
    if table is None:
        return empty
    mf = table.model_frame()
    key = {str(m).lower(): m for m in mf.index}.get(model.lower())
    if key is None:
        return {**empty, "notes": [f"{model} is not in the leaderboard v2 contents, so its lineage (base model, "
                                   "type) is unknown"]}
    row = mf.loc[key]
    base = _attr(row, "base_model")
    if base is not None and base.lower() == model.lower():
        base = None
    precs = tuple((precisions or {}).get(model.lower(), ()))
    notes = []
    if len(precs) > 1:
        def rank(i):
            p = precs[i].lower()
            return (PRECISION_ORDER.index(p) if p in PRECISION_ORDER else len(PRECISION_ORDER), i)
        kept = precs[min(range(len(precs)), key=rank)]
        notes.append(f"{model} is listed {len(precs)} times on the leaderboard v2 ({', '.join(precs)}); the {kept} "
                     f"evaluation is used (one precision per model, in the order {', '.join(PRECISION_ORDER)})")
    return {"listed": True, "precisions": precs, "type": _attr(row, "model_type"), "base": base, "notes": notes}


# ----------------------------------------------------------------------------------------------- the family
def _v1_family(org_model: str, settings, v1_repo) -> tuple[list, object]:
    """The v1 result files of ``org_model``'s siblings (one listing of the organisation's folder)."""
    org = org_model.split("/")[0]
    stem = name_stem(org_model)

    def select(paths):
        keep = [p for p in paths if p.count("/") >= 2 and (stem is None and "/".join(p.split("/")[:2]).lower()
                                                           == org_model.lower()
                                                           or stem is not None and
                                                           name_stem("/".join(p.split("/")[:2])) == stem)]
        return latest_results(keep)

    repo = v1_repo or LEADERBOARD_REPOS["v1"]
    try:
        snap = fetch(repo, under=org, select=select, settings=settings,
                     fetch_hint=f"; run `cape fetch leaderboard --version v1 --org {org}` when online")
    except NotFoundError:
        raise NotFoundError(f"--hub {org_model}: no results for it in the archived leaderboard v1 (dataset {repo}); "
                            "v2 pairs such as BBH:IFEval use the v2 contents instead") from None
    members = sorted({"/".join(p.split("/")[:2]) for p in snap.files})
    return members, snap


def _restrict(table, members: list[str], label: str):
    from ..scores import ScoreTable

    want = {m.lower() for m in members}
    df = table.long
    df = df[df["model"].str.lower().isin(want)].copy()
    df["family"] = label
    return ScoreTable(df, units="percent", name=label, infer_family=False)


def find_family(model: str, pair, *, settings: HubSettings | None = None, contents_repo: str | None = None,
                v1_repo: str | None = None, revision: str = "main") -> HubFamily:
    """Find ``model`` (``org/name``) on the Hub with its lineage and family across sizes, ready to diagnose.

    With no network and nothing cached, a model of CAPE's embedded cohort (matched by its Hub id) is diagnosed
    from the embedded data, and a note says how to fetch.

    Args:
        model: the Hub id.
        pair: the benchmark pair (``"HellaSwag:TruthfulQA"`` or a tuple); decides v1 or v2 scores.
        settings: :class:`~cape.hub.client.HubSettings` (default: from the environment).
        contents_repo, v1_repo: the leaderboard datasets (defaults :data:`~cape.hub.sources.LEADERBOARD_REPOS`).
        revision: revision of the leaderboard v2 contents.

    Returns:
        :class:`HubFamily`.

    Raises:
        NotFoundError: the model (or a family of at least two sizes) is not found.
        HubUnavailableError: the Hub cannot be reached, nothing is cached and the model is not embedded.
    """
    model = check_model_id(model, "--hub")
    try:
        return _find(model, pair, settings=settings or HubSettings.from_env(), contents_repo=contents_repo,
                     v1_repo=v1_repo, revision=revision)
    except HubUnavailableError as e:
        fb = embedded_family(model, str(e))
        if fb is None:
            raise HubUnavailableError(f"{e}; {model} is not in CAPE's embedded data either") from None
        return fb


def embedded_family(model: str, reason: str) -> HubFamily | None:
    """``model``'s family from the embedded cohort (matched by Hub id), or None when it is not embedded."""
    from .. import data

    arch = data.architectures()
    hit = arch[arch["hf_id"].astype(str).str.lower() == model.lower()]
    if hit.empty:
        return None
    name, fam = str(hit.iloc[0]["model"]), str(hit.iloc[0]["family"])
    table = data.load_base().filter(family=fam)
    m = re.search(r"; run (`[^`]+`) when online", reason)
    how = m.group(1) if m else "`cape fetch leaderboard`"
    why = re.sub(r"; run `[^`]+` when online", "", reason).rstrip(".")
    note = (f"{why}: diagnosed {name} from CAPE's embedded data (family {fam}) instead; run {how} when online for "
            "the Hub's numbers")
    return HubFamily(model=model, family=fam, members=tuple(table.models), base_model=None, model_type=None,
                     precisions=(), table=table, scores_from="embedded", sources=("embedded base cohort",),
                     notes=(note,), diagnosed=name)


def _find(model: str, pair, *, settings: HubSettings, contents_repo, v1_repo, revision) -> HubFamily:
    from ..coupling import resolve_pair

    s = settings
    b1, b2 = resolve_pair(pair)
    notes: list[str] = []
    contents, precs, csnap = None, {}, None
    try:
        csnap = fetch_leaderboard("v2", repo_id=contents_repo, revision=revision, settings=s)
        contents, precs = _contents(csnap)
        if csnap.message:
            notes.append(csnap.message)
    except HubUnavailableError as e:
        notes.append(f"lineage unknown: {e}")
    lin = lineage_of(model, contents, precs)
    notes += lin["notes"]
    use_v2 = b1 in V2_BENCHMARKS and b2 in V2_BENCHMARKS
    target = model
    if use_v2:
        if contents is None:
            raise HubUnavailableError(f"--hub {model}: the pair {b1}:{b2} needs the leaderboard v2 contents, which "
                                      "could not be fetched and are not cached; run `cape fetch leaderboard` when "
                                      "online")
        if not lin["listed"]:
            raise NotFoundError(f"--hub {model}: not in the leaderboard v2 contents ({csnap.repo_id}@"
                                f"{csnap.sha[:7]})")
        names = contents.models
        members = siblings(model, names)
        if len(members) < 2 and lin["base"]:
            notes.append(_lone(model, lin["base"]))
            target = lin["base"]
            members = siblings(target, names)
        table = contents
        snaps = [csnap]
    else:
        members, snap = _v1_family(model, s, v1_repo)
        snaps = [snap]
        if len(members) < 2 and lin["base"]:
            notes.append(_lone(model, lin["base"]))
            target = lin["base"]
            members, snap = _v1_family(target, s, v1_repo)
            snaps = [snap]
        if snap.message and snap.message not in notes:
            notes.append(snap.message)
        if not any(m.lower() == target.lower() for m in members):
            raise NotFoundError(f"--hub {model}: no results for {target} in the archived leaderboard v1 "
                                f"({snap.repo_id}); the v1 pair {b1}:{b2} needs them (v2 pairs such as "
                                "BBH:IFEval use the v2 contents)")
        table, _ = read_snapshot(snap)
    if name_stem(target) is None:
        raise NotFoundError(f"--hub {model}: the name {target.split('/')[-1]!r} carries no single size token, so "
                            "its siblings across sizes cannot be found by name")
    if len(members) < 2:
        raise NotFoundError(f"--hub {model}: no siblings of {target} across sizes on the leaderboard "
                            f"{'v2' if use_v2 else 'v1'}; a coupling needs at least two sizes")
    label = family_label(name_stem(target), [target])
    fam = _restrict(table, members, label)
    present = set(fam.models)
    members = [m for m in members if m in present]
    return HubFamily(model=model, family=label, members=tuple(sorted(members, key=lambda m: _params(fam, m))),
                     base_model=lin["base"], model_type=lin["type"], precisions=lin["precisions"], table=fam,
                     scores_from="v2" if use_v2 else "v1",
                     sources=tuple(f"hf://{x.repo_type}s/{x.repo_id}@{x.sha} ({x.date})" for x in
                                   ([csnap] if csnap is not None and not use_v2 else []) + snaps),
                     notes=tuple(dict.fromkeys(notes)), diagnosed=next((m for m in present
                                                                         if m.lower() == target.lower()), target))


def _params(table, model: str) -> float:
    mf = table.model_frame()
    try:
        v = float(mf.loc[model, "params"])
    except (KeyError, TypeError, ValueError):
        return float("inf")
    return v if math.isfinite(v) else float("inf")


def _lone(model: str, base: str) -> str:
    return (f"{model} is a fine-tune of {base} with no siblings across sizes; the family diagnosed is {base}'s, "
            f"not {model}'s own")
