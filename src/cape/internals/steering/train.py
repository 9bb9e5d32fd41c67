"""Training a steering vector from contrast pairs.

For every pair the model reads ``context + positive`` and ``context + negative``; the residual stream at a
block's output is averaged over the continuation tokens (or read at the last token). The direction is

- ``"mean_diff"`` (CAA): the mean over pairs of ``a_pos - a_neg``, normalised to unit length;
- ``"pca"``: the first principal axis of the per-pair differences (uncentred, so a consistent shift is kept),
  signed to agree with the mean difference.

Layer choice: ``layers="auto"`` reads every layer in one pass, then

- reports the paper's quarter-depth layer ``floor(L/4)``, and
- sweeps the layers on a held-out validation split of the pairs: a direction trained on the rest is added at
  a fixed relative strength and the gain in log-probability margin (positive minus negative continuation)
  is measured; the layer with the largest mean gain is the ``best_layer``.

The default layer of the returned vector is the best layer (``select="sweep"``) or the quarter layer
(``select="quarter"``); directions for every read layer are kept (re-estimated on all pairs), so any layer
can be applied or evaluated later.
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any, Callable, Sequence

from ._common import (
    NEGATION,
    SteeringError,
    quarter_layer,
    resolve_layers,
    sha256_json,
    unwrap_model,
    use_chat,
)
from .datasets import load_pairs, split_items
from .forward import encode_pairs, pad_token, record_activations, score_completions
from .vector import SteeringVector

__all__ = ["METHODS", "train_steering_vector", "directions_from_activations", "validation_sweep"]

METHODS = ("mean_diff", "pca")


def directions_from_activations(pos: Any, neg: Any, method: str = "mean_diff") -> tuple[Any, float]:
    """Unit direction and raw mean-difference length from ``[n, d]`` positive and negative activations."""
    import numpy as np

    diff = np.asarray(pos, dtype=np.float64) - np.asarray(neg, dtype=np.float64)
    mean = diff.mean(0)
    mean_norm = float(np.linalg.norm(mean))
    if method == "mean_diff":
        if mean_norm == 0.0:
            raise SteeringError("the positive and negative activations have the same mean: no direction")
        v = mean / mean_norm
    elif method == "pca":
        _, _, vt = np.linalg.svd(diff, full_matrices=False)
        v = vt[0]
        if float(v @ mean) < 0:
            v = -v
        v = v / np.linalg.norm(v)
    else:
        raise SteeringError(f"method {method!r} is not one of {', '.join(METHODS)}")
    return v.astype(np.float32), mean_norm


def _norm_stats(norms: Any) -> dict:
    import numpy as np

    if norms.size == 0:
        raise SteeringError("no tokens to measure the residual norm on (all texts are one token long)")
    return {
        "mean": float(np.mean(norms)),
        "std": float(np.std(norms)),
        "median": float(np.median(norms)),
        "count": int(norms.size),
    }


def validation_sweep(
    model: Any,
    tokenizer: Any,
    rec_train: Any,
    val_encoded: tuple[list, list],
    layers: Sequence[int],
    norm_stats: dict[int, dict],
    *,
    method: str,
    strength: float,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> list[dict]:
    """Margin gain on validation pairs when steering at each layer (direction from the training split)."""
    import numpy as np
    import torch

    from .apply import SteeringHandle

    pos_enc, neg_enc = val_encoded
    enc = list(pos_enc) + list(neg_enc)
    n = len(pos_enc)
    pad = pad_token(tokenizer)
    base = score_completions(model, enc, pad=pad, batch_size=batch_size, per_token=True)
    base_margin = base[:n] - base[n:]
    if progress is not None:
        progress(1)
    rows = []
    for layer in layers:
        a = rec_train.acts[layer]
        half = a.shape[0] // 2
        v, _ = directions_from_activations(a[:half], a[half:], method)
        delta = torch.from_numpy(v) * float(strength * norm_stats[layer]["mean"])
        with SteeringHandle(model, {layer: delta}) as h:
            s = score_completions(model, enc, pad=pad, batch_size=batch_size, handle=h, per_token=True)
        margin = s[:n] - s[n:]
        gain = margin - base_margin
        rows.append({
            "layer": int(layer),
            "margin_gain": float(np.mean(gain)),
            "margin_gain_se": float(np.std(gain, ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            "accuracy": float(np.mean(margin > 0)),
            "accuracy_unsteered": float(np.mean(base_margin > 0)),
        })
        if progress is not None:
            progress(1)
    return rows


def train_steering_vector(
    model: Any,
    tokenizer: Any = None,
    pairs: Any = "truthfulness",
    *,
    layers: Any = "auto",
    method: str = "mean_diff",
    read: str = "mean",
    select: str = "sweep",
    batch_size: int = 16,
    chat: Any = False,
    val_fraction: float = 0.2,
    sweep_layers: Any = None,
    sweep_strength: float = 0.1,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> SteeringVector:
    """Train a steering vector from contrast pairs.

    Args:
        model: HF causal LM or ``LoadedModel``.
        tokenizer: Its tokenizer (taken from a ``LoadedModel`` when omitted).
        pairs: ``"truthfulness"`` (built-in, default), another built-in set name, a JSONL path with
            ``context``/``positive``/``negative`` fields, or a list of pairs.
        layers: ``"auto"`` (read every layer; default layer by ``select``), ``"quarter"``, ``"all"``, an int or
            a list of ints; with explicit layers all of them are the default layers and no sweep is run.
        method: ``"mean_diff"`` (CAA) or ``"pca"``.
        read: ``"mean"`` over continuation tokens, or ``"last"`` token.
        select: For ``layers="auto"``: ``"sweep"`` (best validated layer) or ``"quarter"`` (the paper's choice);
            the sweep runs in both cases so that both layers are reported.
        batch_size: Sequences per forward pass (padding on the right).
        chat: Format contexts as a chat user turn (``True``/``"auto"``); off by default because the built-in
            pairs are statement continuations, not questions.
        val_fraction: Share of pairs held out for the layer sweep.
        sweep_layers: Layers to sweep (default: all read layers).
        sweep_strength: Relative strength used in the sweep.
        seed: Seed of the validation split.
        progress: ``progress(stage, done, total)`` callback.

    Returns:
        A :class:`SteeringVector` with directions for every read layer.

    Example:
        >>> vec = train_steering_vector(model, tok, "truthfulness", layers="auto")  # doctest: +SKIP
        >>> vec.layers, vec.quarter_layer, vec.best_layer                              # doctest: +SKIP
        ((9,), 7, 9)
    """
    from ._common import require_torch

    require_torch()
    import torch

    hf, tokenizer, identity = unwrap_model(model, tokenizer)
    if tokenizer is None:
        raise SteeringError("a tokenizer is needed to train a steering vector")
    if method not in METHODS:
        raise SteeringError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if select not in ("sweep", "quarter"):
        raise SteeringError(f"select {select!r} is not 'sweep' or 'quarter'")
    plist, label = load_pairs(pairs)
    if len(plist) < 1:
        raise SteeringError("no contrast pairs to train on")
    L = identity["num_layers"]
    auto = isinstance(layers, str) and layers.strip().lower() == "auto"
    read_layers = list(range(L)) if auto else resolve_layers(layers, L)
    chat_on = use_chat(tokenizer, chat)
    pad = pad_token(tokenizer)
    t0 = time.perf_counter()

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    sweep_rows: list[dict] = []
    best = None
    n_val = 0
    was_training = hf.training
    hf.eval()
    try:
        if auto:
            if len(plist) < 4:
                raise SteeringError(f"layers='auto' needs at least 4 pairs for a validation split (got {len(plist)})")
            train_pairs, val_pairs = split_items(plist, val_fraction, seed)
            n_val = len(val_pairs)
        else:
            train_pairs, val_pairs = plist, []
        pos_enc, neg_enc = encode_pairs(tokenizer, plist, chat_on)
        total = 2 * len(plist)
        done = [0]

        def tick(k: int) -> None:
            done[0] += k
            report("reading activations", done[0], total)

        rec = record_activations(hf, pos_enc + neg_enc, read_layers, pad=pad, read=read,
                                 batch_size=batch_size, progress=tick)
        n = len(plist)
        norm_stats = {layer: _norm_stats(rec.norms[layer]) for layer in read_layers}
        directions = {}
        for layer in read_layers:
            v, diff_norm = directions_from_activations(rec.acts[layer][:n], rec.acts[layer][n:], method)
            directions[layer] = torch.from_numpy(v)
            norm_stats[layer]["diff_norm"] = diff_norm
        if auto:
            import numpy as np

            index = {p.id: i for i, p in enumerate(plist)}
            tr = np.array([index[p.id] for p in train_pairs])
            va = np.array([index[p.id] for p in val_pairs])

            class _Sub:
                acts = {layer: np.concatenate([rec.acts[layer][:n][tr], rec.acts[layer][n:][tr]]) for layer in read_layers}

            cand = read_layers if sweep_layers is None else resolve_layers(sweep_layers, L)
            steps = [0]

            def tick2(k: int) -> None:
                steps[0] += k
                report("layer sweep", steps[0], len(cand) + 1)

            val_enc = ([pos_enc[i] for i in va], [neg_enc[i] for i in va])
            sweep_rows = validation_sweep(hf, tokenizer, _Sub, val_enc, cand, norm_stats, method=method,
                                          strength=sweep_strength, batch_size=batch_size, progress=tick2)
            best = max(sweep_rows, key=lambda r: r["margin_gain"])["layer"]
    finally:
        if was_training:
            hf.train()
    q = quarter_layer(L)
    if auto:
        default = [best] if select == "sweep" else [q]
    else:
        default = read_layers
    if auto and q not in directions:  # pragma: no cover - quarter is always read in auto mode
        raise SteeringError("internal: the quarter-depth layer was not read")
    provenance = dict(identity)
    provenance.update({
        "train_set": label,
        "train_set_hash": "sha256:" + sha256_json([p.to_dict() for p in plist]),
        "n_pairs": len(plist),
        "n_validation_pairs": n_val,
        "negation_only_positive": sum(bool(NEGATION.search(p.positive)) and not NEGATION.search(p.negative) for p in plist),
        "negation_only_negative": sum(bool(NEGATION.search(p.negative)) and not NEGATION.search(p.positive) for p in plist),
        "read": read,
        "chat_template": bool(chat_on),
        "quarter_layer": q,
        "best_layer": best,
        "layer_rule": ("auto:" + select) if auto else "explicit",
        "sweep_strength": float(sweep_strength) if auto else None,
        "sweep": sweep_rows,
        "seed": int(seed),
        "train_seconds": round(time.perf_counter() - t0, 3),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cape_version": _cape_version(),
        "strength_unit": "multiple of the layer's mean residual-stream norm",
    })
    return SteeringVector(directions=directions, norm_stats=norm_stats, layers=tuple(default),
                          method=method, provenance=provenance)


def _cape_version() -> str:
    try:
        from cape import __version__

        return str(__version__)
    except Exception:  # pragma: no cover
        return "unknown"
