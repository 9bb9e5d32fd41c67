"""``--hub ORG/MODEL`` for ``diagnose`` and ``doctor``: find the model and its family on the Hub, say what was found."""

from __future__ import annotations

import math

from ._common import console, err_console


def hub_family(model: str, pair, *, quiet: bool = False):
    """The model's :class:`~cape.hub.lineage.HubFamily` (progress on stderr unless ``quiet``)."""
    from ..hub import HubSettings
    from ..hub.lineage import find_family

    from .fetch import progress_lines

    s = HubSettings.from_env(progress=None if quiet else progress_lines)
    if not quiet and not s.offline:
        err_console.print(f"[dim]looking up {model} on {s.endpoint} (timeout {s.timeout:g} s; cached copies are "
                          "used when it cannot be reached) ...[/]")
    return find_family(model, pair, settings=s)


def render_hub(fam) -> None:
    """The lineage block printed before the diagnosis."""
    from ._common import fmt_params

    mf = fam.table.model_frame()

    def size(m):
        try:
            v = float(mf.loc[m, "params"])
        except (KeyError, TypeError, ValueError):
            return "?"
        return fmt_params(v) if math.isfinite(v) else "?"

    console.print(f"[bold]Hub[/]: {fam.model}" + (f" ({fam.model_type})" if fam.model_type else "")
                  + (f", base model {fam.base_model}" if fam.base_model else ""))
    console.print(f"  family {fam.family}: {len(fam.members)} sizes, "
                  + ", ".join(f"{m.split('/')[-1]} {size(m)}" for m in fam.members))
    console.print(f"  scores: {'leaderboard ' + fam.scores_from if fam.scores_from != 'embedded' else 'embedded data'}"
                  f"; {'; '.join(fam.sources)}")
    for n in fam.notes:
        console.print(f"  [yellow]note:[/] {n}")
    console.print()
