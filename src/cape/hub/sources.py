"""The public score sources on the Hub: the Open LLM Leaderboard (v2 contents, archived v1 results) and the
result files model authors publish, fetched offline-first and read by the same readers as local files.

==============  ===================================================  ============================================
source          repository (dataset unless said)                     what is fetched
==============  ===================================================  ============================================
leaderboard v2  ``open-llm-leaderboard/contents``                    the contents table (Parquet files)
leaderboard v1  ``open-llm-leaderboard-old/results``                 ``<org>/<model>/results_<time>.json`` files
v2 details      ``open-llm-leaderboard/<org>__<model>-details``      lm-eval ``results_<time>.json`` of the v2 run
model repo      ``<org>/<model>`` (model)                            lm-eval ``results*.json`` the authors uploaded
==============  ===================================================  ============================================

Every row read from a fetched file carries ``hf://<type>s/<repo>@<commit>/<path>`` as its ``source``, so the
revision a number came from is never lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import DataError, HubUnavailableError, NotFoundError
from . import client
from .client import HubSettings, Snapshot

#: default repositories (options of every command that fetches)
LEADERBOARD_REPOS = {"v2": "open-llm-leaderboard/contents", "v1": "open-llm-leaderboard-old/results"}
#: the leaderboard v2's per-model details datasets (``{org}``, ``{name}`` of the model)
V2_DETAILS = "open-llm-leaderboard/{org}__{name}-details"
_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
_RESULTS_JSON = re.compile(r"(^|/)results[^/]*\.json$", re.I)


def check_model_id(model: str, what: str = "model") -> str:
    """``org/name`` as the Hub spells it, or a :class:`~cape.errors.DataError` naming the problem."""
    m = str(model).strip()
    if not _MODEL_ID.fullmatch(m) or ".." in m:
        raise DataError(f"{what} {model!r}: expected a Hub id ORG/NAME such as EleutherAI/pythia-1b")
    return m


def fetch(repo_id: str, *, repo_type: str = "dataset", revision: str = "main", under: str = "",
          recursive: bool = True, select: Callable[[list[str]], list[str]], settings: HubSettings | None = None,
          fetch_hint: str = "") -> Snapshot:
    """Files of a repository chosen by ``select`` (given every file path under ``under``), offline-first.

    Order: a pinned commit already cached is used without a request; else the revision is resolved with one short
    request and the chosen files are downloaded into the cache (files already there are not fetched again); when
    the Hub cannot be reached (or ``HF_HUB_OFFLINE`` is set), the cached snapshot of the revision is used and
    :attr:`Snapshot.message` says so, with its date.

    Raises:
        HubUnavailableError: the Hub cannot be reached and nothing is cached.
        NotFoundError: the repository, revision or files do not exist.
    """
    s = settings or HubSettings.from_env()
    where = client._where(repo_id, repo_type, revision)

    def from_cache(reason: str, sha: str | None = None) -> Snapshot | None:
        sha = sha or client.cached_commit(repo_id, repo_type, revision, s)
        if sha is None:
            return None
        files = client.cached_files(repo_id, repo_type, sha, s)
        pre = f"{under.strip('/')}/" if under.strip("/") else ""
        chosen = select([p for p in files if p.startswith(pre)])
        if not chosen:
            return None
        date = max(client.file_date(files[p]) for p in chosen)
        msg = f"{reason}: using the cached copy of {where} downloaded {date} (commit {sha[:7]})" if reason else ""
        return Snapshot(repo_id, repo_type, revision, sha, {p: files[p] for p in chosen}, True, date, msg)

    if client.is_sha(revision):
        hit = from_cache("")
        if hit is not None:
            return hit
    if s.offline:
        hit = from_cache("HF_HUB_OFFLINE is set")
        if hit is not None:
            return hit
        raise HubUnavailableError(f"{where}: HF_HUB_OFFLINE is set and nothing is cached{fetch_hint}")
    try:
        sha, date = client.resolve(repo_id, repo_type, revision, s)
    except HubUnavailableError as e:
        hit = from_cache(str(e).rstrip("."))
        if hit is not None:
            return hit
        raise HubUnavailableError(f"{e}; nothing is cached{fetch_hint}") from None
    paths = [p for p, kind in client.list_tree(repo_id, repo_type, sha, under.strip("/"), s, recursive=recursive)
             if kind == "file"]
    chosen = select(paths)
    if not chosen:
        raise NotFoundError(f"{where}: nothing to fetch under {under or '/'} ({len(paths)} files, none of the "
                            "kind wanted)")
    files = {}
    for i, p in enumerate(chosen, 1):
        if s.progress is not None:
            s.progress(i, len(chosen), f"{repo_id}/{p}")
        files[p] = client.download(repo_id, repo_type, sha, p, s)
    client.remember_ref(repo_id, repo_type, revision, sha, s)
    return Snapshot(repo_id, repo_type, revision, sha, files, False, date)


def read_snapshot(snap: Snapshot, *, all_metrics: bool = False, keep_going: bool = False,
                  family_overrides=None, paths: Iterable[str] | None = None):
    """Read fetched files with :func:`cape.ingest.read_any`; every row's ``source`` becomes the file's Hub address
    at its commit. Returns ``(ScoreTable, IngestReport)``."""
    from ..ingest import read_any
    from ..scores import ScoreTable

    chosen = list(paths) if paths is not None else list(snap.files)
    local = {str(snap.files[p]): p for p in chosen}
    if not local:
        raise NotFoundError(f"{snap.repo_id}: no fetched files to read")
    try:
        table, report = read_any(list(local), all_metrics=all_metrics, keep_going=keep_going,
                                 family_overrides=family_overrides, name=f"{snap.repo_id}@{snap.sha[:7]}")
    except DataError as e:
        msg = str(e)
        for loc, p in local.items():
            msg = msg.replace(loc, snap.source(p))
        raise type(e)(msg) from None
    df = table.long
    df["source"] = [snap.source(local[s]) if s in local else s for s in df["source"]]
    return ScoreTable(df, units="percent", name=table.name, infer_family=False), report


# ----------------------------------------------------------------------------------------------- leaderboard
def _parquet(paths: list[str]) -> list[str]:
    return sorted(p for p in paths if p.endswith(".parquet"))


def latest_results(paths: list[str]) -> list[str]:
    """The newest ``results*.json`` per folder (the v1 archive keeps every re-run; the name carries the time)."""
    best: dict[str, str] = {}
    for p in sorted(p for p in paths if _RESULTS_JSON.search(p)):
        folder = p.rsplit("/", 1)[0] if "/" in p else ""
        best[folder] = max(best.get(folder, ""), p)
    return sorted(best.values())


@dataclass(frozen=True)
class FetchSummary:
    """What a fetch got: the snapshot plus the table read from it."""

    snapshot: Snapshot
    rows: int
    models: int
    benchmarks: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = self.snapshot.to_dict()
        d.update({"rows": self.rows, "models": self.models, "benchmarks": list(self.benchmarks),
                  "notes": list(self.notes)})
        return d


def fetch_leaderboard(version: str = "v2", *, repo_id: str | None = None, revision: str = "main",
                      orgs: Iterable[str] = (), settings: HubSettings | None = None) -> Snapshot:
    """The Open LLM Leaderboard into the Hub cache.

    Args:
        version: ``"v2"`` (the contents table, Parquet) or ``"v1"`` (the archived per-model results; the archive
            holds one folder per model, so ``orgs`` names the organisations to fetch).
        repo_id: the dataset (default :data:`LEADERBOARD_REPOS`).
        revision: branch, tag or commit.
        orgs: v1 only: organisations (``EleutherAI``) or models (``EleutherAI/pythia-1b``) to fetch.

    Returns:
        :class:`~cape.hub.client.Snapshot`.
    """
    if version not in LEADERBOARD_REPOS:
        raise DataError(f"--version must be v1 or v2, not {version!r}")
    repo = repo_id or LEADERBOARD_REPOS[version]
    hint = f"; run `cape fetch leaderboard --version {version}` when online"
    if version == "v2":
        return fetch(repo, revision=revision, select=_parquet, settings=settings, fetch_hint=hint)
    orgs = [o.strip().strip("/") for o in orgs if o.strip().strip("/")]
    if not orgs:
        raise DataError("--version v1: the archived v1 results hold one folder per model (many thousands); name "
                        "what to fetch with --org ORG (or ORG/MODEL), or use `cape fetch results ORG/MODEL`")
    snaps = [fetch(repo, revision=revision, under=o, select=latest_results, settings=settings,
                   fetch_hint=f"; run `cape fetch leaderboard --version v1 --org {o}` when online") for o in orgs]
    return merge(snaps)


def merge(snaps: list[Snapshot]) -> Snapshot:
    """One snapshot from several of the same repository and commit."""
    first = snaps[0]
    files: dict = {}
    for s in snaps:
        files.update(s.files)
    msg = "; ".join(dict.fromkeys(s.message for s in snaps if s.message))
    return Snapshot(first.repo_id, first.repo_type, first.revision, first.sha, files,
                    all(s.from_cache for s in snaps), max(s.date for s in snaps), msg)


def fetch_results(model: str, *, source: str = "all", revision: str = "main", v1_repo: str | None = None,
                  details_repo: str | None = None, settings: HubSettings | None = None) -> list[Snapshot]:
    """A model's published result files: its folder in the archived v1 results, the newest lm-eval results file of
    its leaderboard v2 details dataset, and the lm-eval ``results*.json`` files in the model's own repository.

    Args:
        model: ``org/name``.
        source: ``"v1"``, ``"v2"``, ``"model"`` or ``"all"`` (every one; a source without files is skipped).
        details_repo: the v2 details dataset (default :data:`V2_DETAILS` for the model).
        revision: revision of the model repository (the v1 archive is read at ``main``).

    Returns:
        The snapshots that held files (at least one).

    Raises:
        NotFoundError: no source holds result files for the model.
    """
    model = check_model_id(model)
    if source not in ("all", "v1", "v2", "model"):
        raise DataError(f"--source must be all, v1, v2 or model, not {source!r}")
    out, missing = [], []
    if source in ("all", "v1"):
        try:
            out.append(fetch(v1_repo or LEADERBOARD_REPOS["v1"], under=model, select=latest_results,
                             settings=settings, fetch_hint=f"; run `cape fetch results {model}` when online"))
        except NotFoundError as e:
            missing.append(str(e))
    if source in ("all", "v2"):
        org, name = model.split("/")
        try:
            out.append(fetch(details_repo or V2_DETAILS.format(org=org, name=name), select=latest_results,
                             settings=settings, fetch_hint=f"; run `cape fetch results {model}` when online"))
        except NotFoundError as e:
            missing.append(str(e))
    if source in ("all", "model"):
        try:
            out.append(fetch(model, repo_type="model", revision=revision, select=_model_results, settings=settings,
                             fetch_hint=f"; run `cape fetch results {model}` when online"))
        except NotFoundError as e:
            missing.append(str(e))
    if not out:
        raise NotFoundError(f"{model}: no published result files found ({'; '.join(missing)})")
    return out


def _model_results(paths: list[str]) -> list[str]:
    return sorted(p for p in paths if _RESULTS_JSON.search(p) and not p.endswith("config.json"))
