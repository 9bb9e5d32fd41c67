"""Fetching from the Hub (cape.hub) against a stub Hub on 127.0.0.1: download, cache hit, revision pinning,
offline fallback, 404s, a timeout and a truncated file. No test leaves the machine."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hubstub import CONTENTS, DATA, PARQUET, V1, serving, v2_files  # noqa: E402

from cape.errors import DataError, HubUnavailableError, NotFoundError  # noqa: E402
from cape.hub import sources  # noqa: E402
from cape.hub.client import HubSettings  # noqa: E402


@pytest.fixture
def hub(monkeypatch, tmp_path):
    with serving(monkeypatch, tmp_path) as stub:
        yield stub


def settings(**kw) -> HubSettings:
    return HubSettings.from_env(**kw)


def test_settings_follow_the_environment_at_call_time(hub, tmp_path, monkeypatch):
    s = settings()
    assert s.endpoint == hub.url
    assert s.cache_dir == tmp_path / "hf" / "hub"
    assert (s.timeout, s.retries, s.offline) == (2.0, 1, False)
    monkeypatch.setenv("CAPE_HUB_RETRIES", "0")
    assert settings().retries == 0
    monkeypatch.setenv("CAPE_HUB_RETRIES", "a few")
    with pytest.raises(DataError, match=r"CAPE_HUB_RETRIES='a few': expected a whole number"):
        settings()
    monkeypatch.setenv("CAPE_HUB_TIMEOUT", "-1")
    with pytest.raises(DataError, match=r"CAPE_HUB_TIMEOUT='-1': expected a positive number"):
        settings()


def test_download_v2_contents_every_row_carries_source_and_revision(hub):
    snap = sources.fetch_leaderboard("v2", settings=settings())
    assert not snap.from_cache and snap.date == "2024-06-01" and len(snap.sha) == 40
    assert list(snap.files) == [PARQUET]  # README.md is not a table
    assert snap.files[PARQUET].read_bytes() == v2_files()[PARQUET]
    table, _report = sources.read_snapshot(snap)
    src = f"hf://datasets/{CONTENTS}@{snap.sha}/{PARQUET}"
    assert set(table.long["source"]) == {src}
    # the same reader as a local file: 38 rows, 2 of them a second precision of a model (dropped), 5 benchmarks
    assert table.n_models == 36
    assert sorted(table.benchmarks) == ["BBH", "IFEval", "MATH Lvl 5", "MMLU-Pro", "MuSR"]
    w = table.wide()
    assert w.loc["Qwen/Qwen2.5-7B", "BBH"] == pytest.approx(35.813473, abs=1e-6)
    assert w.loc["Qwen/Qwen2.5-7B", "params"] == pytest.approx(7.616e9)


def test_cache_hit_makes_no_second_download(hub):
    sources.fetch_leaderboard("v2", settings=settings())
    assert len(hub.requests("GET", "/resolve/")) == 1
    n_file = len(hub.requests(None, "/resolve/"))
    snap = sources.fetch_leaderboard("v2", settings=settings())
    assert len(hub.requests(None, "/resolve/")) == n_file  # the cached file: not even a HEAD
    assert not snap.from_cache  # the Hub was asked which commit is current


def test_revision_pinning_and_a_new_commit(hub):
    first = sources.fetch_leaderboard("v2", settings=settings())
    newer = v2_files()
    newer[PARQUET] = (DATA / "contents" / PARQUET).read_bytes() + b""  # same bytes, new commit
    newer["data/train-00001-of-00002.parquet"] = newer[PARQUET]
    sha2 = hub.add("dataset", CONTENTS, newer, date="2024-07-01T00:00:00.000Z")
    latest = sources.fetch_leaderboard("v2", settings=settings())
    assert latest.sha == sha2 != first.sha and len(latest.files) == 2 and latest.date == "2024-07-01"
    # a pinned commit that is cached is served with no request at all
    n = len(hub.log)
    pinned = sources.fetch_leaderboard("v2", revision=first.sha, settings=settings())
    assert len(hub.log) == n
    assert pinned.sha == first.sha and pinned.from_cache and list(pinned.files) == [PARQUET]
    table, _ = sources.read_snapshot(pinned)
    assert set(table.long["source"]) == {f"hf://datasets/{CONTENTS}@{first.sha}/{PARQUET}"}


def test_unknown_revision_is_one_sentence(hub):
    with pytest.raises(NotFoundError, match=r"dataset open-llm-leaderboard/contents@v9: that revision does not "
                                            r"exist on http://127\.0\.0\.1:\d+$"):
        sources.fetch_leaderboard("v2", revision="v9", settings=settings())


def test_repository_404_is_one_sentence(hub):
    with pytest.raises(NotFoundError, match=r"dataset nobody/nothing: no such repository on .* log in with"):
        sources.fetch_leaderboard("v2", repo_id="nobody/nothing", settings=settings())


def test_offline_uses_the_cached_copy_and_says_its_date(hub, monkeypatch):
    online = sources.fetch_leaderboard("v2", settings=settings())
    n = len(hub.log)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snap = sources.fetch_leaderboard("v2", settings=settings())
    assert len(hub.log) == n
    assert snap.from_cache and snap.sha == online.sha
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert snap.message == (f"HF_HUB_OFFLINE is set: using the cached copy of dataset {CONTENTS} downloaded "
                            f"{today} (commit {online.sha[:7]})")


def test_offline_without_cache_says_how_to_fetch(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnavailableError, match=r"^dataset open-llm-leaderboard/contents: HF_HUB_OFFLINE is set "
                                                  r"and nothing is cached; run `cape fetch leaderboard --version "
                                                  r"v2` when online$"):
        sources.fetch_leaderboard("v2", settings=settings())


def test_timeout_falls_back_to_the_cache_quickly(hub):
    online = sources.fetch_leaderboard("v2", settings=settings())
    hub.mode, hub.hang_s = "hang", 3.0
    t0 = time.perf_counter()
    snap = sources.fetch_leaderboard("v2", settings=settings(timeout=0.3, retries=1))
    took = time.perf_counter() - t0
    assert snap.from_cache and snap.sha == online.sha
    assert snap.message.startswith(f"dataset {CONTENTS}: no answer from {hub.url} within 0.3 s (2 tries): using "
                                   "the cached copy")
    assert took < 2.5  # two short tries and a short pause, not a stack of retries


def test_timeout_without_cache_is_one_sentence(hub):
    hub.mode = "hang"
    with pytest.raises(HubUnavailableError) as ei:
        sources.fetch_leaderboard("v2", settings=settings(timeout=0.3, retries=0))
    assert str(ei.value) == (f"dataset {CONTENTS}: no answer from {hub.url} within 0.3 s (1 tries); nothing is "
                             "cached; run `cape fetch leaderboard --version v2` when online")


def test_a_file_that_does_not_come_is_one_sentence_after_the_timeout(hub):
    hub.hang_on, hub.hang_s = "/resolve/", 3.0
    t0 = time.perf_counter()
    with pytest.raises(HubUnavailableError) as ei:
        sources.fetch_leaderboard("v2", settings=settings(timeout=0.3, retries=0))
    assert time.perf_counter() - t0 < 2.5  # not huggingface_hub's minute-long metadata retries
    assert str(ei.value) == (f"dataset {CONTENTS}: {PARQUET}: no answer from {hub.url} within 0.3 s (1 tries)")


def test_server_error_retried_then_one_sentence(hub):
    hub.mode = "down"
    with pytest.raises(HubUnavailableError, match=r"answered HTTP 503; nothing is cached"):
        sources.fetch_leaderboard("v2", settings=settings(retries=1))
    assert len(hub.requests("GET", "/api/")) == 2  # one retry, bounded


def test_truncated_download_keeps_nothing(hub):
    hub.truncate.add(PARQUET)
    with pytest.raises(HubUnavailableError, match=r"data/train-00000-of-00001\.parquet: the download was cut short "
                                                  r"\(got \d+ of \d+ bytes\); nothing was kept, run it again"):
        sources.fetch_leaderboard("v2", settings=settings(retries=0))
    cache = settings().cache_dir
    blobs = list(cache.rglob("blobs/*"))
    assert blobs == []  # no partial file left to be mistaken for the table
    hub.truncate.clear()
    snap = sources.fetch_leaderboard("v2", settings=settings())
    assert snap.files[PARQUET].read_bytes() == v2_files()[PARQUET]


def test_a_truncated_file_on_the_hub_is_a_data_error_naming_its_source(hub):
    files = v2_files()
    files[PARQUET] = files[PARQUET][: len(files[PARQUET]) // 2]
    sha = hub.add("dataset", "someone/broken", files)
    snap = sources.fetch_leaderboard("v2", repo_id="someone/broken", settings=settings())
    with pytest.raises(DataError, match=rf"hf://datasets/someone/broken@{sha}/{PARQUET}"):
        sources.read_snapshot(snap)


def test_v1_needs_an_org_and_fetches_the_newest_run_per_model(hub):
    with pytest.raises(DataError, match="--org ORG"):
        sources.fetch_leaderboard("v1", settings=settings())
    seen = []
    snap = sources.fetch_leaderboard("v1", orgs=["facebook"], settings=settings(progress=lambda *a: seen.append(a)))
    assert len(snap.files) == 8
    assert [(i, n) for i, n, _ in seen] == [(i, 8) for i in range(1, 9)]
    assert seen[0][2] == f"{V1}/facebook/opt-1.3b/results_2023-10-10T10-00-00.000000.json"
    assert "facebook/opt-1.3b/results_2023-07-19T10-00-00.000000.json" not in snap.files
    table, _ = sources.read_snapshot(snap)
    w = table.wide()
    # OPT-1.3B: the newest run (HellaSwag 54.53, TruthfulQA mc2 38.71), not the older one (5 points lower)
    assert w.loc["facebook/opt-1.3b", "HellaSwag"] == pytest.approx(54.53)
    assert w.loc["facebook/opt-1.3b", "TruthfulQA"] == pytest.approx(38.71)
    assert w.loc["facebook/opt-1.3b", "params"] == pytest.approx(1.3e9)
    assert table.long["source"].str.startswith(f"hf://datasets/{V1}@{snap.sha}/facebook/opt-").all()


def test_fetch_results_reads_the_v1_folder_and_the_model_repo(hub):
    blob = (DATA / "results" / "facebook" / "opt-125m" / "results_2023-10-10T10-00-00.000000.json").read_bytes()
    hub.add("model", "facebook/opt-125m", {"config.json": b"{}", "eval/results_2024.json": blob})
    snaps = sources.fetch_results("facebook/opt-125m", settings=settings())
    assert [s.repo_type for s in snaps] == ["dataset", "model"]
    assert list(snaps[1].files) == ["eval/results_2024.json"]
    with pytest.raises(NotFoundError, match=r"facebook/opt-999m: no published result files found"):
        sources.fetch_results("facebook/opt-999m", settings=settings())
    with pytest.raises(DataError, match="expected a Hub id ORG/NAME"):
        sources.fetch_results("not a model", settings=settings())


def test_fetch_results_from_the_v2_details_dataset(hub):
    root = DATA / "details"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.json")}
    files["Qwen__Qwen2.5-0.5B/samples_leaderboard_bbh_2024-09-19T01-53-55.171307.jsonl"] = b"{}\n"
    sha = hub.add("dataset", "open-llm-leaderboard/Qwen__Qwen2.5-0.5B-details", files)
    (snap,) = sources.fetch_results("Qwen/Qwen2.5-0.5B", source="v2", settings=settings())
    assert list(snap.files) == ["Qwen__Qwen2.5-0.5B/results_2024-09-19T01-53-55.171307.json"]
    table, _ = sources.read_snapshot(snap)
    w = table.wide()
    # the raw BBH and MMLU-Pro scores of the contents excerpt, in percent
    assert w.loc["Qwen/Qwen2.5-0.5B", "BBH"] == pytest.approx(32.748148, abs=1e-5)
    assert w.loc["Qwen/Qwen2.5-0.5B", "MMLU-Pro"] == pytest.approx(19.057513, abs=1e-5)
    assert set(table.long["source"]) == {f"hf://datasets/open-llm-leaderboard/Qwen__Qwen2.5-0.5B-details@{sha}/"
                                         "Qwen__Qwen2.5-0.5B/results_2024-09-19T01-53-55.171307.json"}
