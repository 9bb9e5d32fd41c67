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
from .options import METHODS, TrainOptions, with_overrides
from .vector import SteeringVector

__all__ = ["METHODS", "TrainOptions", "train_steering_vector", "directions_from_activations", "validation_sweep"]


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


def train_steering_vector(model: Any, tokenizer: Any = None, pairs: Any = "truthfulness", *,
                          options: TrainOptions | None = None, progress: Callable[[str, int, int], None] | None = None,
                          **kwargs: Any) -> SteeringVector:
    """Train a steering vector from contrast pairs.

    Args:
        model: HF causal LM or ``LoadedModel``.
        tokenizer: Its tokenizer (taken from a ``LoadedModel`` when omitted).
        pairs: ``"truthfulness"`` (built-in, default), another built-in set name, a JSONL path with
            ``context``/``positive``/``negative`` fields, or a list of pairs.
        options: :class:`~cape.internals.steering.options.TrainOptions` (layers, method, read, select, batch
            size, chat, validation split and sweep; defaults when omitted).
        progress: ``progress(stage, done, total)`` callback.
        **kwargs: any field of :class:`TrainOptions` (e.g. ``layers="quarter"``), applied on top of ``options``.

    Returns:
        A :class:`SteeringVector` with directions for every read layer.

    Raises:
        SteeringError: no tokenizer, too few pairs, an unknown option or a bad value (one sentence naming it).

    Example:
        >>> vec = train_steering_vector(model, tok, "truthfulness", layers="auto")  # doctest: +SKIP
        >>> vec.layers, vec.quarter_layer, vec.best_layer                              # doctest: +SKIP
        ((9,), 7, 9)
    """
    from ._common import require_torch

    o = with_overrides(TrainOptions, options, kwargs, where="train_steering_vector")
    require_torch()
    hf, tokenizer, identity = unwrap_model(model, tokenizer)
    if tokenizer is None:
        raise SteeringError("a tokenizer is needed to train a steering vector")
    plist, label = load_pairs(pairs)
    if len(plist) < 1:
        raise SteeringError("no contrast pairs to train on")
    L = identity["num_layers"]
    auto = isinstance(o.layers, str) and o.layers.strip().lower() == "auto"
    read_layers = list(range(L)) if auto else resolve_layers(o.layers, L)
    chat_on = use_chat(tokenizer, o.chat)
    t0 = time.perf_counter()

    def report(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    was_training = hf.training
    hf.eval()
    try:
        if auto and len(plist) < 4:
            raise SteeringError(f"layers='auto' needs at least 4 pairs for a validation split (got {len(plist)})")
        pos_enc, neg_enc = encode_pairs(tokenizer, plist, chat_on)
        rec = record_activations(hf, pos_enc + neg_enc, read_layers, pad=pad_token(tokenizer), read=o.read,
                                 batch_size=o.batch_size,
                                 progress=_counter(report, "reading activations", 2 * len(plist)))
        directions, norm_stats = _directions(rec, read_layers, len(plist), o.method)
        sweep_rows, best, n_val = [], None, 0
        if auto:
            sweep_rows, n_val = _validated_sweep(hf, tokenizer, plist, rec, (pos_enc, neg_enc), read_layers,
                                                 norm_stats, o, L, report)
            best = max(sweep_rows, key=lambda r: r["margin_gain"])["layer"]
    finally:
        if was_training:
            hf.train()
    q = quarter_layer(L)
    default = ([best] if o.select == "sweep" else [q]) if auto else read_layers
    if auto and q not in directions:  # pragma: no cover - quarter is always read in auto mode
        raise SteeringError("internal: the quarter-depth layer was not read")
    provenance = _provenance(identity, plist, label, o, auto=auto, chat_on=chat_on, quarter=q, best=best,
                             sweep_rows=sweep_rows, n_val=n_val, seconds=time.perf_counter() - t0)
    return SteeringVector(directions=directions, norm_stats=norm_stats, layers=tuple(default),
                          method=o.method, provenance=provenance)


def _counter(report: Callable[[str, int, int], None], stage: str, total: int) -> Callable[[int], None]:
    """A progress callback adding up its ticks and reporting ``(stage, done, total)``."""
    done = [0]

    def tick(k: int) -> None:
        done[0] += k
        report(stage, done[0], total)
    return tick


def _directions(rec: Any, read_layers: Sequence[int], n: int, method: str) -> tuple[dict, dict]:
    """Each read layer's unit direction (all pairs) and its residual-norm statistics with the raw difference."""
    import torch

    norm_stats = {layer: _norm_stats(rec.norms[layer]) for layer in read_layers}
    directions = {}
    for layer in read_layers:
        v, diff_norm = directions_from_activations(rec.acts[layer][:n], rec.acts[layer][n:], method)
        directions[layer] = torch.from_numpy(v)
        norm_stats[layer]["diff_norm"] = diff_norm
    return directions, norm_stats


def _validated_sweep(hf: Any, tokenizer: Any, plist: list, rec: Any, encoded: tuple[list, list],
                     read_layers: Sequence[int], norm_stats: dict, o: TrainOptions, n_layers: int,
                     report: Callable[[str, int, int], None]) -> tuple[list[dict], int]:
    """The layer sweep on a held-out validation split (directions from the rest): its rows and the split's size."""
    import numpy as np

    train_pairs, val_pairs = split_items(plist, o.val_fraction, o.seed)
    n = len(plist)
    index = {p.id: i for i, p in enumerate(plist)}
    tr = np.array([index[p.id] for p in train_pairs])
    va = np.array([index[p.id] for p in val_pairs])

    class _Sub:
        acts = {layer: np.concatenate([rec.acts[layer][:n][tr], rec.acts[layer][n:][tr]]) for layer in read_layers}

    cand = read_layers if o.sweep_layers is None else resolve_layers(o.sweep_layers, n_layers)
    pos_enc, neg_enc = encoded
    val_enc = ([pos_enc[i] for i in va], [neg_enc[i] for i in va])
    rows = validation_sweep(hf, tokenizer, _Sub, val_enc, cand, norm_stats, method=o.method,
                            strength=o.sweep_strength, batch_size=o.batch_size,
                            progress=_counter(report, "layer sweep", len(cand) + 1))
    return rows, len(val_pairs)


def _provenance(identity: dict, plist: list, label: str, o: TrainOptions, *, auto: bool, chat_on: bool,
                quarter: int, best: int | None, sweep_rows: list[dict], n_val: int, seconds: float) -> dict:
    """The model's identity, the training set and every setting, saved with the vector."""
    provenance = dict(identity)
    provenance.update({
        "train_set": label,
        "train_set_hash": "sha256:" + sha256_json([p.to_dict() for p in plist]),
        "n_pairs": len(plist),
        "n_validation_pairs": n_val,
        "negation_only_positive": sum(bool(NEGATION.search(p.positive)) and not NEGATION.search(p.negative)
                                      for p in plist),
        "negation_only_negative": sum(bool(NEGATION.search(p.negative)) and not NEGATION.search(p.positive)
                                      for p in plist),
        "read": o.read,
        "chat_template": bool(chat_on),
        "quarter_layer": quarter,
        "best_layer": best,
        "layer_rule": ("auto:" + o.select) if auto else "explicit",
        "sweep_strength": float(o.sweep_strength) if auto else None,
        "sweep": sweep_rows,
        "seed": int(o.seed),
        "train_seconds": round(seconds, 3),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cape_version": _cape_version(),
        "strength_unit": "multiple of the layer's mean residual-stream norm",
    })
    return provenance


def _cape_version() -> str:
    try:
        from cape import __version__

        return str(__version__)
    except Exception:  # pragma: no cover
        return "unknown"
