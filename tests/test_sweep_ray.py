"""Sweeps on a local Ray cluster (marker ``ray``): results and a recorded failure, a killed worker retried, and
an interrupted sweep resumed. One cluster (2 CPUs, no dashboard) serves the whole module."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
ray = pytest.importorskip("ray")

import _sweep  # noqa: E402
from _sweep import count_runs, kill_first_attempt, save_tiny_models  # noqa: E402

from cape.sweep.engines import make_engine  # noqa: E402
from cape.sweep.runner import run_sweep  # noqa: E402
from cape.sweep.tasks import TaskOptions, heads_tasks  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]

FAST = dict(max_items=4, n_boot=10, n_perm=10, options=TaskOptions(device="cpu", threads=1))


@pytest.fixture(scope="module")
def cluster():
    import logging

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(_sweep)  # the fault functions travel to workers by value
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    return save_tiny_models(tmp_path_factory.mktemp("models"))


def test_ray_sweep_two_results_one_recorded_failure(cluster, tiny_dirs, tmp_path):
    engine = make_engine("ray", cpus_per_task=1)
    report = run_sweep(heads_tasks(tiny_dirs, tmp_path, **FAST), engine)
    assert report.engine["engine"] == "ray"
    assert [o.status for o in report.outcomes] == ["computed", "computed", "failed"]
    assert "the checkpoint cannot be read" in report.failed[0].reason
    assert len(list(tmp_path.glob("*.heads.json"))) == 2
    rec = json.loads(next(tmp_path.glob("*.failed.json")).read_text())
    assert rec["model_id"] == tiny_dirs[2] and rec["error_type"] == "ModelLoadError"
    assert ray.is_initialized()  # the engine did not shut down a cluster it did not start


def test_ray_killed_worker_is_retried_and_finishes(cluster, tiny_dirs, tmp_path):
    report = run_sweep(heads_tasks(tiny_dirs[:2], tmp_path, **FAST), make_engine("ray"), fn=kill_first_attempt)
    killed, other = report.outcomes
    assert killed.status == "computed" and len(killed.attempts) == 1
    assert killed.attempts[0]["error_type"] in {"WorkerCrashedError", "RayActorError", "LocalRayletDiedError",
                                               "NodeDiedError", "OutOfMemoryError"}
    assert other.status == "computed" and not other.attempts
    assert len(list(tmp_path.glob("*.heads.json"))) == 2 and not list(tmp_path.glob("*.failed.json"))


def test_ray_interrupted_sweep_resumes_with_nothing_lost(cluster, tmp_path):
    models = save_tiny_models(tmp_path / "m", archs=("llama", "gpt2", "opt"), corrupt=False)
    out = tmp_path / "res"
    tasks = heads_tasks(models, out, **FAST)

    def interrupt(event, task, info):
        if event == "computed":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(tasks, make_engine("ray"), fn=count_runs, on_event=interrupt)
    done_before = {p.name for p in out.glob("*.heads.json")}
    assert len(done_before) >= 1
    report = run_sweep(tasks, make_engine("ray"), fn=count_runs)
    assert len(report.skipped) == len(done_before) and len(report.computed) == 3 - len(done_before)
    assert len(list(out.glob("*.heads.json"))) == 3
    for path in out.glob("*.heads.json"):
        json.loads(path.read_text())  # every file complete
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp") or ".json." in p.name]
