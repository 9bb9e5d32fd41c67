"""The frontier axes (SWE-bench Verified, GPQA Diamond, IFEval), the panel subsets and :class:`FrontierConfig`."""

from __future__ import annotations

from dataclasses import asdict, dataclass


from .. import catalog
from .._deprecated import renamed_fields
from ..errors import DataError
from .regression import LINE_METHODS


SWE = "SWE-bench Verified"
GPQA = "GPQA Diamond"
IFEVAL = "IFEval"

#: Subsets of the embedded panel; ``added`` marks models a user supplies.
SUBSETS = ("core", "extended", "post-cutoff", "added")


# ---------------------------------------------------------------------------------------------- configuration
@renamed_fields({"ci": "level"}, "frontier config")
@dataclass(frozen=True)
class FrontierConfig:
    """Choices behind a frontier report (all documented in docs/frontier.md).

    Attributes:
        x: the older axis (abscissa of the population line), canonical benchmark name or alias.
        y: the newer axis (ordinate; h is measured in its points).
        fit_subsets: subsets whose models enter the population fit (the paper panel: core + extended).
        include_post_cutoff: also fit the post-cutoff models (the paper's 39-model refit).
        fit_added: also fit the models a user adds (default: shown, not fitted).
        h_method: ``"fit"`` (unrounded OLS line) or ``"paper"`` (the line rounded to 3 / 1 decimals).
        level: confidence level of every interval (``ci`` is its deprecated name).
        n_boot: bootstrap resamples (pairs bootstrap of the population fit).
        seed: seed of ``numpy.random.default_rng``.
        lolo_min_models: a lab enters the LOLO summary with at least this many test models.
        top_k: models at the top of the panel used for the saturation spread.
        rotate_below: rotate the axis when the saturation ratio is below this.
        rank_by: rank the top-k by the ``"old"`` axis (x, as the paper's scripts) or the ``"new"`` one.
        h_band: ``|h| < h_band`` is "balanced"; below ``-h_band`` "coding-rich", above "reasoning-rich".
        lab_direction: a lab whose mean h exceeds ``+lab_direction`` is reasoning-rich (below: coding-rich).
        reallocation: ``|dh|`` above this between consecutive releases of one lab flags a reallocation.
    """

    x: str = SWE
    y: str = GPQA
    fit_subsets: tuple[str, ...] = ("core", "extended")
    include_post_cutoff: bool = False
    fit_added: bool = False
    h_method: str = "fit"
    level: float = 0.95
    n_boot: int = 2000
    seed: int = 0
    lolo_min_models: int = 3
    top_k: int = 5
    rotate_below: float = 0.2
    rank_by: str = "old"
    h_band: float = 5.0
    lab_direction: float = 3.0
    reallocation: float = 10.0

    def __post_init__(self):
        object.__setattr__(self, "x", catalog.canonical(self.x, where="frontier config x"))
        object.__setattr__(self, "y", catalog.canonical(self.y, where="frontier config y"))
        if self.x == self.y:
            raise DataError(f"frontier config: x and y are both {self.x}; choose two different benchmarks")
        if self.h_method not in LINE_METHODS:
            raise DataError(f"frontier config: h_method must be one of {', '.join(LINE_METHODS)}, "
                            f"not {self.h_method!r}")
        if self.rank_by not in ("old", "new"):
            raise DataError(f"frontier config: rank_by must be 'old' or 'new', not {self.rank_by!r}")
        if not 0 < self.level < 1:
            raise DataError(f"frontier config: level must lie in (0, 1), not {self.level}")
        if self.top_k < 2:
            raise DataError(f"frontier config: top_k must be at least 2, not {self.top_k}")
        if self.n_boot < 0:
            raise DataError(f"frontier config: n_boot must be >= 0, not {self.n_boot}")
        bad = [s for s in self.fit_subsets if s not in SUBSETS]
        if bad:
            raise DataError(f"frontier config: unknown subset {bad[0]!r} in fit_subsets "
                            f"(known: {', '.join(SUBSETS)})")

    @property
    def fitted_subsets(self) -> tuple[str, ...]:
        s = list(self.fit_subsets)
        if self.include_post_cutoff and "post-cutoff" not in s:
            s.append("post-cutoff")
        if self.fit_added and "added" not in s:
            s.append("added")
        return tuple(s)

    def to_dict(self) -> dict:
        return asdict(self)
