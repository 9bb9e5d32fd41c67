"""Runs inside the side virtual environment of ``bench_steering.py --peers``: trains a steering vector with the
peer libraries (steering-vectors, repeng) on the pairs CAPE was timed on, and prints their times as JSON.

Usage (by bench_steering.py): python _peers_child.py MODEL_DIR PAIRS_JSON REPEATS
"""

from __future__ import annotations

import json
import statistics
import sys
import time


def main(model_dir: str, pairs_path: str, repeats: int) -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    pairs = [tuple(p) for p in json.load(open(pairs_path))]
    n_layers = model.config.num_hidden_layers
    runs = {}
    try:
        from steering_vectors import train_steering_vector

        def sv():
            train_steering_vector(model, tok, pairs, layers=list(range(n_layers)), batch_size=16,
                                  show_progress=False)

        runs["steering-vectors 0.12.2 (batch 16)"] = sv
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"steering-vectors: {type(e).__name__}: {e}"}))
    try:
        from repeng import ControlModel, ControlVector, DatasetEntry

        cm = ControlModel(model, list(range(n_layers)))
        data = [DatasetEntry(positive=p, negative=n) for p, n in pairs]

        def rp():
            ControlVector.train(cm, tok, data, batch_size=16)

        runs["repeng 0.4.0 (batch 16)"] = rp
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": f"repeng: {type(e).__name__}: {e}"}))
    times = {k: [] for k in runs}
    for k, f in runs.items():  # warm-up
        f()
    for _ in range(repeats):
        for k, f in runs.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    print(json.dumps({k: {"median": statistics.median(v), "min": min(v), "max": max(v)} for k, v in times.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
