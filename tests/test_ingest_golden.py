"""The ingest of every test file gives the same table and the same report, byte for byte, as recorded in
``tests/data/ingest_golden.json``: a guard that a faster reader changes nothing a user sees (values, dtypes,
every dropped item with its reason and location, every note, and the sentence of every refusal).

Each case is read leniently (the default) and under ``strict``; a few options are exercised on some files.
After an intended change of behaviour, regenerate the record and review its diff::

    CAPE_REGEN_GOLDEN=1 python -m pytest tests/test_ingest_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from cape.errors import CapeError
from cape.ingest import read_any

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("tests") / "data"
GOLDEN = ROOT / DATA / "ingest_golden.json"
_SKIP_SUFFIX = {".py", ".toml", ".md", ".jsonl"}


def _inputs() -> list[str]:
    out = []
    for top in ("real", "ingest", "bad"):
        for p in sorted((ROOT / DATA / top).rglob("*")):
            if p.is_file() and p.suffix not in _SKIP_SUFFIX and not p.name.startswith((".", "_")):
                out.append(str(p.relative_to(ROOT)))
    for folder in ("real/lm-eval-v0.3", "real/lm-eval-v0.4", "real/tables", "ingest/lmeval", "ingest/leaderboard_v1",
                   "ingest/epoch", "bad/conflict_params", "bad/conflict_scores", "bad/tree_with_broken_file"):
        out.append(str(DATA / folder))
    return out


_OPTIONS = {
    "fraction": {"units": "fraction"},
    "percent": {"units": "percent"},
    "params-M": {"params_unit": "M"},
    "no-name-params": {"params_from_names": False},
    "all-metrics": {"all_metrics": True},
    "overrides": {"family_overrides": {"pythia": "Pythia-X", "llama-7": "LLaMA"}},
    "keep-going": {"keep_going": True},
}
_OPTION_FILES = ("ingest/faults/long_faults.csv", "ingest/faults/wide_faults.csv", "ingest/long_scores.csv",
                 "ingest/wide_fractions_params_b.csv", "ingest/faults/leaderboard_like.csv")


def _cases() -> list[tuple[str, str, dict]]:
    cases = []
    for p in _inputs():
        cases.append((p, "default", {}))
        cases.append((p, "strict", {"strict": True}))
    for f in _OPTION_FILES:
        for label, opts in _OPTIONS.items():
            cases.append((str(DATA / f), label, opts))
    cases.append((str(DATA / "ingest/custom_layout.csv"), "mapping",
                  {"mapping": {"format": "csv", "columns": {"model": "Model name"}}}))
    return cases


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _outcome(path: str, opts: dict) -> dict:
    try:
        table, report = read_any(path, **opts)
    except CapeError as e:
        return {"error": f"{type(e).__name__}: {e}"}
    df = table.long
    rep = report.to_dict()
    return {"rows": len(df), "dropped": len(rep["dropped"]), "notes": len(rep["notes"]),
            "table": _digest(df.to_csv(index=False) + repr(df.dtypes.astype(str).to_dict())),
            "report": _digest(json.dumps(rep, sort_keys=True, ensure_ascii=False))}


def test_golden_record_covers_every_case():
    want = {f"{p} [{label}]" for p, label, _ in _cases()}
    have = set(json.loads(GOLDEN.read_text(encoding="utf-8")))
    assert want == have, (sorted(want - have)[:5], sorted(have - want)[:5])


@pytest.mark.parametrize("path,label,opts", _cases(), ids=[f"{p} [{lab}]" for p, lab, _ in _cases()])
def test_ingest_matches_the_golden_record(path, label, opts, monkeypatch):
    monkeypatch.chdir(ROOT)  # messages name files as given: relative to the repository
    got = _outcome(path, opts)
    key = f"{path} [{label}]"
    if os.environ.get("CAPE_REGEN_GOLDEN"):
        rec = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
        rec[key] = got
        GOLDEN.write_text(json.dumps(dict(sorted(rec.items())), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        return
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))[key]
    assert got == want
