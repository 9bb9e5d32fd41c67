"""The :class:`SteeringVector`: unit directions per layer, the residual norms that scale them, and provenance."""

from __future__ import annotations

import math

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterator

from ...errors import DataError
from ._common import (
    SteeringCompatibilityError,
    SteeringError,
    check_strength,
    resolve_layers,
    unwrap_model,
)
from .apply import SteeringHandle
from .io import read_vector_fields, save_steering_vector

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["SteeringVector", "load_steering_vector"]


@dataclass
class SteeringVector:
    """A steering direction for one model, at one or several decoder layers.

    Attributes:
        directions: ``{layer: unit vector [hidden_size]}`` (float32, CPU). ``layer`` is the 0-indexed decoder
            block whose output is steered. Positive direction = towards the *positive* side of the contrast
            pairs (the true answer for the truthfulness set).
        norm_stats: ``{layer: {"mean", "std", "median", "count", "diff_norm"}}``: residual-stream norm statistics
            at that layer over the training tokens (the first token of each text is excluded: its norm is often
            an outlier) and the length of the raw mean difference. ``mean`` scales the strength.
        layers: Layers applied by default (e.g. the chosen ``auto`` layer); ``directions`` may hold more.
        method: ``"mean_diff"`` (CAA) or ``"pca"``.
        provenance: Model identity (``model_id``, ``revision``, ``file_hash``, ``model_type``, ``num_layers``,
            ``hidden_size``, ``weights_fingerprint``) and training details (set hash, sizes, layer choice, sweep).

    Example:
        >>> vec = train_steering_vector(model, tok)                         # doctest: +SKIP
        >>> with vec.apply(model, strength=0.5, positions="generated"):     # doctest: +SKIP
        ...     out = model.generate(**batch, max_new_tokens=30)
    """

    directions: dict[int, "torch.Tensor"]
    norm_stats: dict[int, dict]
    layers: tuple[int, ...]
    method: str = "mean_diff"
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.directions:
            raise SteeringError("a steering vector needs at least one layer")
        self.directions = {int(k): v for k, v in self.directions.items()}
        self.norm_stats = {int(k): dict(v) for k, v in self.norm_stats.items()}
        self.layers = tuple(sorted(int(x) for x in self.layers))
        sizes = {int(v.shape[-1]) for v in self.directions.values()}
        if len(sizes) != 1 or any(v.ndim != 1 for v in self.directions.values()):
            raise SteeringError("all directions of a steering vector must be 1-D and of one size")
        for layer in self.layers:
            if layer not in self.directions:
                raise SteeringError(f"default layer {layer} has no direction in this steering vector")
        for layer in self.directions:
            if layer not in self.norm_stats or "mean" not in self.norm_stats[layer]:
                raise SteeringError(f"layer {layer} has no residual-norm statistics")
        self._check_values()

    def _check_values(self) -> None:
        """Refuse directions that are not floating point or hold NaN/inf, and non-finite norm statistics:
        either would silently turn every steered logit into NaN."""
        import torch

        for layer, v in sorted(self.directions.items()):
            if not torch.is_floating_point(v):
                raise SteeringError(f"direction of layer {layer} has dtype {str(v.dtype).replace('torch.', '')}; "
                                    "a steering direction must be floating point")
            if not bool(torch.isfinite(v).all()):
                raise SteeringError(f"direction of layer {layer} holds non-finite values (NaN or inf)")
        for layer, st in sorted(self.norm_stats.items()):
            for key, value in st.items():
                try:
                    ok = math.isfinite(float(value))
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    raise SteeringError(f"norm statistic {key!r} of layer {layer} is {value!r}, not a finite number")

    # ------------------------------------------------------------------ facts
    @property
    def hidden_size(self) -> int:
        return int(next(iter(self.directions.values())).shape[-1])

    @property
    def available_layers(self) -> tuple[int, ...]:
        return tuple(sorted(self.directions))

    @property
    def quarter_layer(self) -> int | None:
        return self.provenance.get("quarter_layer")

    @property
    def best_layer(self) -> int | None:
        return self.provenance.get("best_layer")

    def select_layers(self, layers: Any = None) -> list[int]:
        """Layers to apply: the default ones, or ``layers`` (int, list, ``"quarter"``, ``"best"``, ``"all"``)."""
        if layers is None:
            return list(self.layers)
        if isinstance(layers, str) and layers.strip().lower() in ("best", "auto"):
            if self.best_layer is None:
                raise SteeringError("this steering vector has no validated best layer (it was not trained with a sweep)")
            layers = [self.best_layer]
        elif isinstance(layers, str) and layers.strip().lower() == "all":
            layers = list(self.directions)
        else:
            n = int(self.provenance.get("num_layers") or (max(self.directions) + 1))
            layers = resolve_layers(layers, n)
        missing = [x for x in layers if x not in self.directions]
        if missing:
            raise SteeringError(
                f"this steering vector has no direction at layer(s) {missing}; it has {list(self.available_layers)}"
            )
        return list(layers)

    def with_layers(self, layers: Any) -> "SteeringVector":
        """A copy whose default layers are ``layers``."""
        return replace(self, layers=tuple(self.select_layers(layers)))

    def delta(self, layer: int, strength: float) -> "torch.Tensor":
        """The vector added at ``layer``: ``strength * mean residual norm * unit direction``."""
        s = check_strength(strength)
        if s == 0.0:  # exactly nothing, whatever the vector holds
            return self.directions[layer].new_zeros(self.directions[layer].shape)
        return self.directions[layer] * (s * float(self.norm_stats[layer]["mean"]))

    def deltas(self, strength: float, layers: Any = None) -> dict[int, "torch.Tensor"]:
        return {layer: self.delta(layer, strength) for layer in self.select_layers(layers)}

    # ------------------------------------------------------------------ compatibility
    def check_compatible(self, model: Any, *, force: bool = False, identity: dict | None = None) -> list[str]:
        """Check that this vector belongs to ``model``; raise :class:`SteeringCompatibilityError` if not.

        A hidden-size mismatch can never be forced. A different model identity (id, revision or file hash,
        architecture, layer count, or weights fingerprint where names are unknown) raises unless ``force``;
        forced mismatches are returned (and warned about). Equal file hashes identify the same weights even
        when the model was loaded from another path (another model id).
        """
        if identity is None:
            model, _, identity = unwrap_model(model)
        prov = self.provenance
        hs = identity.get("hidden_size")
        if hs is not None and int(hs) != self.hidden_size:
            raise SteeringCompatibilityError(
                f"this steering vector has hidden size {self.hidden_size} but the model's residual stream has "
                f"{hs}; it cannot be applied (not even with force)"
            )
        problems = []
        a, b = prov.get("model_id"), identity.get("model_id")
        fa, fb = prov.get("file_hash"), identity.get("file_hash")
        same_file = bool(fa and fb and fa == fb)  # the same weight files, loaded from another place
        if a and b and a != b and not same_file:
            problems.append(f"model id {b!r} differs from the vector's {a!r}")
        for key in ("revision", "file_hash"):
            a2, b2 = prov.get(key), identity.get(key)
            if a2 and b2 and a2 != b2:
                problems.append(f"{key.replace('_', ' ')} {b2!r} differs from the vector's {a2!r}")
        for key in ("model_type", "num_layers"):
            a2, b2 = prov.get(key), identity.get(key)
            if a2 is not None and b2 is not None and a2 != b2:
                problems.append(f"{key.replace('_', ' ')} {b2!r} differs from the vector's {a2!r}")
        if not (a and b):
            a2, b2 = prov.get("weights_fingerprint"), identity.get("weights_fingerprint")
            if a2 and b2 and a2 != b2:
                problems.append("the model's weights differ from those the vector was trained on")
        if problems and not force:
            raise SteeringCompatibilityError(
                "this steering vector was trained on another model: " + "; ".join(problems) + " (pass force=True / --force to apply it anyway)"
            )
        for p in problems:
            warnings.warn(f"applying a steering vector to another model: {p}", stacklevel=3)
        return problems

    # ------------------------------------------------------------------ applying
    def patch(
        self,
        model: Any,
        strength: float = 0.1,
        *,
        layers: Any = None,
        positions: str = "all",
        force: bool = False,
    ) -> SteeringHandle:
        """Start steering ``model``; returns a handle whose ``remove()`` stops it.

        Args:
            model: HF causal LM or ``LoadedModel`` (checked with :meth:`check_compatible`).
            strength: Multiple of the layer's mean residual norm (0 = no change, exactly).
            layers: Layers to steer (default: ``self.layers``).
            positions: ``"all"``, ``"prompt"`` or ``"generated"``.
            force: Apply even if the model identity differs.
        """
        hf, _, ident = unwrap_model(model)
        self.check_compatible(hf, force=force, identity=ident)
        return self._unchecked_patch(hf, strength, layers=layers, positions=positions)

    def _unchecked_patch(self, model: Any, strength: float, *, layers: Any = None, positions: str = "all") -> SteeringHandle:
        """:meth:`patch` without the compatibility check, for callers that have already run it."""
        hf, _, _ = unwrap_model(model)
        return SteeringHandle(hf, self.deltas(strength, layers), positions)

    @contextmanager
    def apply(
        self,
        model: Any,
        strength: float = 0.1,
        *,
        layers: Any = None,
        positions: str = "all",
        force: bool = False,
    ) -> Iterator[SteeringHandle]:
        """Context manager over :meth:`patch`: the hooks are removed on exit, also after an exception.

        Example:
            >>> with vec.apply(model, strength=0.5):            # doctest: +SKIP
            ...     logits = model(**batch).logits
        """
        handle = self.patch(model, strength, layers=layers, positions=positions, force=force)
        try:
            yield handle
        finally:
            handle.remove()

    # ------------------------------------------------------------------ I/O and views
    def save(self, path: Any) -> None:
        """Write this vector as safetensors with provenance metadata (see :mod:`.io`)."""
        save_steering_vector(self, path)

    @classmethod
    def load(cls, path: Any) -> "SteeringVector":
        """Read a vector written by :meth:`save` (never unpickles anything)."""
        return load_steering_vector(path)

    def to_dict(self) -> dict:
        """Everything but the direction values (JSON-ready)."""
        return {
            "hidden_size": self.hidden_size,
            "layers": list(self.layers),
            "available_layers": list(self.available_layers),
            "method": self.method,
            "norm_stats": {str(k): v for k, v in sorted(self.norm_stats.items())},
            "provenance": self.provenance,
        }

    def summary(self) -> str:
        """A few lines describing the vector."""
        p = self.provenance
        lines = [
            f"Steering vector ({self.method}) for {p.get('model_id') or 'an unnamed model'}"
            f" [{p.get('model_type')}, {p.get('num_layers')} layers, hidden {self.hidden_size}]",
            f"  default layer(s): {list(self.layers)}; directions at {len(self.directions)} layer(s)",
        ]
        if p.get("quarter_layer") is not None:
            best = p.get("best_layer")
            lines.append(f"  quarter-depth layer (paper): {p['quarter_layer']}; best validated layer: "
                         f"{best if best is not None else 'not swept'}")
        if p.get("n_pairs"):
            lines.append(f"  trained on {p['n_pairs']} pairs from {p.get('train_set', '?')} ({str(p.get('train_set_hash', ''))[:19]})")
        npos, nneg = p.get("negation_only_positive"), p.get("negation_only_negative")
        if npos is not None and p.get("n_pairs") and abs(npos - nneg) > 0.25 * p["n_pairs"]:
            lines.append(f"  note: a negation word appears only in the positive side of {npos} pairs and only in the "
                         f"negative side of {nneg}; the direction may partly encode negation")
        for layer in self.layers:
            st = self.norm_stats[layer]
            lines.append(f"  layer {layer}: mean residual norm {st['mean']:.3g} (sd {st.get('std', float('nan')):.3g})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"SteeringVector(method={self.method!r}, layers={list(self.layers)}, hidden_size={self.hidden_size}, "
                f"model_id={self.provenance.get('model_id')!r})")


def load_steering_vector(path: Any) -> SteeringVector:
    """Read a vector written by :func:`~cape.internals.steering.io.save_steering_vector` (never unpickles).

    Raises:
        NotFoundError: the file does not exist.
        DataError: it is not a CAPE steering vector, or its tensors and metadata disagree.
    """
    fields = read_vector_fields(path)
    try:
        return SteeringVector(**fields)
    except Exception as e:
        raise DataError(f"{path}: inconsistent steering vector ({e})") from None
