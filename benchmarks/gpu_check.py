"""Time all-heads capture on a randomly initialised 7B Llama-architecture model (GPU), or a tiny one (CPU).

No download: the model is built from a configuration with random weights (timing needs no trained weights) and
the tokenizer is a byte-level BPE trained here on the built-in prompt sets. The run captures every head of every
layer at the last token of 200 contrast items (both sides: 400 texts), one forward pass per batch, exactly as
``cape heads`` does, and prints the time beside its baseline measured in the same run: the same forward passes
with no hooks (the floor any capture pays).

Usage::

    python benchmarks/gpu_check.py               # 7B Llama shape on CUDA when available, else the tiny CPU shape
    python benchmarks/gpu_check.py --tiny        # the tiny shape (what CI runs)
    python benchmarks/gpu_check.py --model DIR   # a real model directory or GGUF file instead (e.g. on CPU)
    python benchmarks/gpu_check.py --json

Target: under 120 s for the 7B shape on one H200-class GPU (bfloat16).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

TARGET_S = 120.0
LLAMA_7B = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                num_key_value_heads=32, vocab_size=32000, max_position_embeddings=4096)
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=4, vocab_size=512, max_position_embeddings=512)


def _tokenizer(vocab_size: int):
    """A byte-level BPE (at most ``vocab_size`` tokens) trained on the built-in prompt sets."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from cape.internals.prompts import load_contrast_set

    corpus = [t for name in ("reasoning", "truthfulness") for it in load_contrast_set(name)
              for t in (it.positive_text, it.negative_text)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainer=trainers.BpeTrainer(
        vocab_size=min(vocab_size, 4096), special_tokens=["<|endoftext|>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def _random_model(shape: dict, device: str, dtype: str):
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    config = LlamaConfig(**shape, bos_token_id=0, eos_token_id=0, pad_token_id=0)
    torch.manual_seed(0)
    with torch.device(device):  # weights are created on the device directly (no host copy of 13 GB)
        model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    return model.eval()


def _forward_only(model, tokenizer, texts, batch_size: int, max_length: int) -> float:
    """The baseline: the same batches through the decoder, no hooks."""
    import torch

    from cape.internals.hooks import model_device, tokenize_texts

    ids = tokenize_texts(tokenizer, texts, max_length)
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    decoder = model.get_decoder()
    device = model_device(model)
    _sync(device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            batch = [ids[i] for i in order[start:start + batch_size]]
            width = max(len(b) for b in batch)
            x = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros_like(x)
            for r, b in enumerate(batch):
                x[r, :len(b)] = torch.tensor(b)
                mask[r, :len(b)] = 1
            decoder(input_ids=x.to(device), attention_mask=mask.to(device), use_cache=False)
    _sync(device)
    return time.perf_counter() - t0


def _sync(device) -> None:
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def run(args: argparse.Namespace) -> dict:
    import torch

    from cape.internals.gpu import auto_batch_size, default_dtype, free_memory, resolve_device
    from cape.internals.hooks import capture_contrast, tokenize_texts
    from cape.internals.prompts import load_contrast_set

    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    if args.model:
        from cape.internals.loading import load_model

        lm = load_model(args.model, dtype=args.dtype or default_dtype(device), device=device)
        model, tokenizer, shape_name = lm.model, lm.tokenizer, Path(args.model).name
    else:
        tiny = args.tiny or not device.startswith("cuda")
        shape = TINY if tiny else LLAMA_7B
        shape_name = "tiny Llama" if tiny else "Llama 7B shape"
        model = _random_model(shape, device, args.dtype or default_dtype(device))
        tokenizer = _tokenizer(shape["vocab_size"])
    build_s = time.perf_counter() - t0
    cfg = model.config
    n_params = sum(p.numel() for p in model.parameters())
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    half = args.items // 2
    reasoning = load_contrast_set("reasoning")[:half]
    truth = load_contrast_set("truthfulness")[:args.items - half]
    texts = [t for it in reasoning + truth for t in (it.positive_text, it.negative_text)]
    n_tokens = sum(len(t) for t in tokenize_texts(tokenizer, texts, args.max_length))
    batch = args.batch_size or auto_batch_size(
        hidden=cfg.hidden_size, intermediate=getattr(cfg, "intermediate_size", None),
        n_heads=cfg.num_attention_heads, max_length=args.max_length, dtype_bytes=2 if dtype != "float32" else 4,
        free_bytes=free_memory(device))
    _forward_only(model, tokenizer, texts[: batch], batch, args.max_length)  # warm-up (kernels, allocator)
    forward_s = _forward_only(model, tokenizer, texts, batch, args.max_length)
    _sync(device)
    t1 = time.perf_counter()
    acts = capture_contrast(model, tokenizer, reasoning, truth, heads=True, residual=False, final=False,
                            batch_size=batch, max_length=args.max_length)
    _sync(device)
    capture_s = time.perf_counter() - t1
    heads = acts.r_pos.heads
    return {
        "model": shape_name, "device": device, "dtype": dtype, "n_params": n_params,
        "n_layers": cfg.num_hidden_layers, "n_heads": cfg.num_attention_heads, "items": len(reasoning) + len(truth),
        "texts": len(texts), "tokens": n_tokens, "batch_size": batch, "build_s": round(build_s, 2),
        "capture_s": round(capture_s, 3), "forward_only_s": round(forward_s, 3),
        "capture_over_forward": round(capture_s / forward_s, 2) if forward_s > 0 else None,
        "tokens_per_s": round(n_tokens / capture_s, 1),
        "flops_per_s": 2.0 * n_params * n_tokens / capture_s,
        "heads_shape": list(heads.shape), "target_s": TARGET_S if shape_name == "Llama 7B shape" else None,
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="Use the tiny shape even on a GPU.")
    ap.add_argument("--model", help="Time a real model directory or GGUF file instead of a random one.")
    ap.add_argument("--items", type=int, default=200, help="Contrast items (half reasoning, half truthfulness).")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default=None, help="Default: bfloat16 on CUDA, float32 on CPU.")
    ap.add_argument("--batch-size", type=int, default=None, help="Default: from free GPU memory (16 on CPU).")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = run(args)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"{res['model']}: {res['n_params'] / 1e9:.3g}B parameters, {res['n_layers']} layers x {res['n_heads']} "
          f"heads, {res['dtype']} on {res['device']}" + (f" ({res['gpu']})" if res["gpu"] else ""))
    print(f"  {res['items']} items = {res['texts']} texts, {res['tokens']} tokens, batch size {res['batch_size']}")
    print(f"  all-heads capture:       {res['capture_s']:.2f} s ({res['tokens_per_s']:.0f} tokens/s, "
          f"{res['flops_per_s'] / 1e12:.3g} TFLOP/s at 2 x params x tokens)")
    print(f"  baseline, forward only:  {res['forward_only_s']:.2f} s (capture / forward = {res['capture_over_forward']})")
    if res["target_s"]:
        verdict = "met" if res["capture_s"] < res["target_s"] else "MISSED"
        print(f"  target < {res['target_s']:.0f} s on one H200-class GPU: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
