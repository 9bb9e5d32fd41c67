"""Sweeps on the local engine: model lists, results, failures, retries, resuming and the command line."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from _sweep import count_runs, fail_first_attempt, kill_first_light, save_tiny_models  # noqa: E402

from cape.cli import main  # noqa: E402
from cape.errors import DataError, NotFoundError  # noqa: E402
from cape.sweep.models import model_info, read_models_file, resolve_models, study_models  # noqa: E402
from cape.sweep.resume import is_done, read_failures  # noqa: E402
from cape.sweep.retries import RetryPolicy, describe_failure, is_permanent  # noqa: E402
from cape.sweep.runner import run_sweep  # noqa: E402
from cape.sweep.tasks import heads_tasks, layers_tasks  # noqa: E402

FAST = dict(max_items=4, n_boot=10, n_perm=10)


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    return save_tiny_models(tmp_path_factory.mktemp("models"))


# ------------------------------------------------------------------------------------------------ model lists
def test_study_list_is_40_models_from_the_architectures_table():
    models = study_models("paper40")
    assert len(models) == 40 == len(set(models))
    fams = {model_info(m).family for m in models}
    assert fams == {"Pythia", "GPT-Neo", "GPT-J/NeoX", "OPT", "BLOOM", "Phi", "Gemma", "Mistral", "Qwen2.5", "Qwen3"}
    pythia = [m for m in models if model_info(m).family == "Pythia"]
    assert pythia[0] == "EleutherAI/pythia-70m" and pythia[-1] == "EleutherAI/pythia-12b"  # smallest first


def test_model_info_family_and_size():
    info = model_info("EleutherAI/pythia-1b")
    assert (info.name, info.family, info.params) == ("Pythia-1B", "Pythia", 1e9)
    assert model_info("Qwen/Qwen2.5-7B").params == 7e9
    unknown = model_info("someone/OPT-like-thing", n_params=1234)
    assert unknown.name is None and unknown.params == 1234.0


def test_resolve_models_combines_sources_and_drops_duplicates(tmp_path):
    f = tmp_path / "models.txt"
    f.write_text("# my list\nEleutherAI/pythia-70m\n\nfacebook/opt-125m  # small\n")
    assert read_models_file(f) == ["EleutherAI/pythia-70m", "facebook/opt-125m"]
    out = resolve_models(["EleutherAI/pythia-70m"], models_file=f, family="phi")
    assert out == ["EleutherAI/pythia-70m", "facebook/opt-125m", "microsoft/phi-1_5", "microsoft/phi-2",
                   "microsoft/Phi-3-mini-4k-instruct"]


def test_resolve_models_errors_name_the_input(tmp_path):
    with pytest.raises(DataError, match="no-such.txt: no such models file"):
        resolve_models([], models_file=tmp_path / "no-such.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(DataError, match="lists no model"):
        resolve_models([], models_file=tmp_path / "empty.txt")
    with pytest.raises(NotFoundError, match="--family 'Nope'"):
        resolve_models([], family="Nope")
    with pytest.raises(DataError, match="no models to sweep"):
        resolve_models([])


# ------------------------------------------------------------------------------------------------ retries
def test_retry_policy_bounds_and_permanent_failures():
    from cape.internals.loading import ModelLoadError

    policy = RetryPolicy(max_attempts=2)
    assert policy.should_retry(RuntimeError("x"), 1) and not policy.should_retry(RuntimeError("x"), 2)
    assert is_permanent(ModelLoadError("bad")) and not policy.should_retry(ModelLoadError("bad"), 1)
    assert RetryPolicy(max_attempts=2, retry_permanent=True).should_retry(ModelLoadError("bad"), 1)
    assert describe_failure(RuntimeError("CUDA out of memory. Tried"))["reason"].startswith("out of memory")
    assert describe_failure(MemoryError())["reason"] == "out of memory: MemoryError"


# ------------------------------------------------------------------------------------------------ sweeps
def test_local_sweep_two_results_one_recorded_failure(tiny_dirs, tmp_path):
    out = tmp_path / "res"
    report = run_sweep(heads_tasks(tiny_dirs, out, **FAST))
    assert [o.status for o in report.outcomes] == ["computed", "computed", "failed"]
    bad = report.failed[0]
    assert len(bad.attempts) == 1  # an unreadable checkpoint is permanent: not retried
    assert "the checkpoint cannot be read" in bad.reason and bad.model.endswith("corrupt")
    assert sorted(p.name.split("-")[0] + "-" + p.name.split(".", 1)[1] for p in out.glob("*.json")) == [
        "corrupt-heads.failed.json", "tiny-heads.json", "tiny-heads.json"]
    payload = json.loads(next(out.glob("tiny-llama-*.heads.json")).read_text())
    assert payload["kind"] == "heads" and payload["n_layers"] == 2 and payload["n_heads"] == 4
    assert payload["provenance"]["model_id"] == tiny_dirs[0] and payload["provenance"]["n_params"] > 1000
    assert (out / next(out.glob("tiny-llama-*.heads.json")).name.replace(".json", ".parquet")).is_file()
    (failure,) = read_failures(out)
    assert failure["model_id"] == tiny_dirs[2] and failure["error_type"] == "ModelLoadError"
    assert failure["reason"] == bad.reason


def test_transient_failure_is_retried_and_recorded(tiny_dirs, tmp_path):
    out = tmp_path / "res"
    report = run_sweep(heads_tasks(tiny_dirs[:1], out, **FAST), fn=fail_first_attempt)
    (o,) = report.outcomes
    assert o.status == "computed" and len(o.attempts) == 1
    assert o.attempts[0]["reason"] == "out of memory: CUDA out of memory (injected)"
    assert not list(out.glob("*.failed.json"))


def test_failures_stop_after_max_attempts(tiny_dirs, tmp_path):
    def always_oom(task):
        raise MemoryError("CUDA out of memory")

    report = run_sweep(heads_tasks(tiny_dirs[:1], tmp_path, **FAST), fn=always_oom, policy=RetryPolicy(3))
    assert len(report.failed[0].attempts) == 3
    rec = json.loads(next(tmp_path.glob("*.failed.json")).read_text())
    assert [a["attempt"] for a in rec["attempts"]] == [1, 2, 3]
    # --skip-failed reports the earlier failure without running it again
    again = run_sweep(heads_tasks(tiny_dirs[:1], tmp_path, **FAST), fn=always_oom, skip_failed=True)
    assert again.failed[0].reason == rec["reason"] and len(again.failed[0].attempts) == 3


def test_local_pool_worker_killed_is_retried(tmp_path):
    from cape.sweep.engines import make_engine

    tasks = heads_tasks(["m-a", "m-b"], tmp_path, **FAST)
    report = run_sweep(tasks, make_engine("local", workers=2), fn=kill_first_light)
    assert [o.status for o in report.outcomes] == ["computed", "computed"]
    for o in report.outcomes:  # each first attempt died (its own kill, or the pool breaking under it)
        assert 1 <= len(o.attempts) <= 2 and o.attempts[0]["error_type"] == "WorkerDiedError"
        assert o.result["pid"] != os.getpid()


def test_resume_skips_done_models_and_changed_settings_recompute(tiny_dirs, tmp_path):
    good = tiny_dirs[:2]
    run_sweep(heads_tasks(good, tmp_path, **FAST), fn=count_runs)
    first = {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.heads.json")}
    again = run_sweep(heads_tasks(good, tmp_path, **FAST), fn=count_runs)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.heads.json")} == first
    assert len(list((tmp_path / ".runs").iterdir())) == 2
    other = heads_tasks(good, tmp_path, **dict(FAST, n_perm=11))
    assert not any(is_done(t) for t in other)


def test_interrupted_sweep_resumes_with_nothing_lost_or_duplicated(tiny_dirs, tmp_path):
    archs = ("llama", "gpt2", "opt")
    models = save_tiny_models(tmp_path / "m", archs=archs, corrupt=False)
    out = tmp_path / "res"
    tasks = heads_tasks(models, out, **FAST)

    def interrupt_after_first(event, task, info):
        if event == "computed":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(tasks, fn=count_runs, on_event=interrupt_after_first)
    assert len(list(out.glob("*.heads.json"))) == 1
    assert not [p for p in out.iterdir() if p.name.startswith(".") and p.name != ".runs"]  # no temp files left
    report = run_sweep(tasks, fn=count_runs)
    assert [o.status for o in report.outcomes] == ["skipped", "computed", "computed"]
    assert len(list(out.glob("*.heads.json"))) == 3
    runs = sorted(p.name.split("-")[0] + "-" + p.name.split("-")[1] for p in (out / ".runs").iterdir())
    assert runs == ["tiny-gpt2", "tiny-llama", "tiny-opt"]  # every model computed exactly once


def test_cape_heads_results_are_resumed_by_the_sweep(tiny_dirs, tmp_path):
    code = main(["heads", tiny_dirs[0], "-o", str(tmp_path), "--max-items", "4", "--n-boot", "10",
                 "--n-perm", "10", "--json"])
    assert code == 0
    report = run_sweep(heads_tasks(tiny_dirs[:1], tmp_path, **FAST, options=_opts(dtype="float32")))
    assert report.outcomes[0].status == "skipped"


def _opts(**kw):
    from cape.sweep.tasks import TaskOptions

    return TaskOptions(**kw)


def test_layers_sweep_writes_the_layers_files(tiny_dirs, tmp_path):
    report = run_sweep(layers_tasks(tiny_dirs[:1], tmp_path, drep_boot=0, **FAST))
    assert report.outcomes[0].status == "computed"
    payload = json.loads(next(tmp_path.glob("*.layers.json")).read_text())
    assert set(payload["layer_coupling"]) == {"contrast", "paper"}
    assert len(payload["layer_coupling"]["contrast"]["cosine"]) == 2


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_sweep_reports_failures_with_exit_1(tiny_dirs, tmp_path, capsys):
    code = main(["sweep", "heads", *tiny_dirs, "-o", str(tmp_path), "--max-items", "4", "--n-boot", "10",
                 "--n-perm", "10", "--json"])
    assert code == 1
    captured = capsys.readouterr()
    rep = json.loads(captured.out)
    assert (rep["n_computed"], rep["n_failed"]) == (2, 1)
    assert "1 of 3 model(s) failed" in captured.err
    code = main(["sweep", "heads", *tiny_dirs, "-o", str(tmp_path), "--max-items", "4", "--n-boot", "10",
                 "--n-perm", "10", "--dry-run", "--json"])
    plan = json.loads(capsys.readouterr().out)["tasks"]
    assert code == 0 and [t["status"] for t in plan] == ["done", "done", "failed"]


def test_cli_sweep_interrupt_says_how_to_continue(tiny_dirs, tmp_path, capsys, monkeypatch):
    import cape.sweep.runner as runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_sweep", interrupted)
    code = main(["sweep", "heads", tiny_dirs[0], "-o", str(tmp_path), "--max-items", "4"])
    assert code == 130
    assert "run the same command again to continue" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--engine", "spark"], "--engine must be one of local, ray, not 'spark'"),
    (["--max-attempts", "0"], "--max-attempts must be at least 1"),
    (["--workers", "0"], "Invalid value for '--workers'"),
    (["--dtype", "int8"], "--dtype must be float32, bfloat16, float16 or auto"),
    (["--models-file", "nope.txt"], "nope.txt: no such models file"),
    (["--family", "Nope"], "--family 'Nope' is not in the architectures table"),
])
def test_cli_sweep_bad_options(tiny_dirs, tmp_path, capsys, args, message):
    before = sorted(os.listdir(tmp_path))
    code = main(["sweep", "heads", tiny_dirs[0], "-o", str(tmp_path / "o"), "--max-items", "4", *args])
    assert code != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == before
