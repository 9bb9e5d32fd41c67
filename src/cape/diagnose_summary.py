"""The table a notebook shows for a diagnosis (``DiagnosisResult._repr_html_``): one row per family, phases
coloured, numbers formatted for people (``to_dict()`` keeps the raw values; ``print(res)`` gives the text form).

Example:
    >>> from cape import data
    >>> from cape.diagnose import diagnose
    >>> res = diagnose(data.load_base(), n_boot=200, families=["Pythia"])
    >>> summary_rows(res)[0]
    ('Pythia', '8', '70M–12B', '-0.99 [-1.00, -0.94]', 'tax×3 → transition → tax×3', '[12B, ∞)', 'none')
"""

from __future__ import annotations

import html

__all__ = ["summary_rows", "summary_html"]

HEADERS = ("family", "n", "sizes", "r [CI]", "phase path", "N_c [CI]", "status")


def _params(v) -> str:
    from ._format import fmt_params

    return fmt_params(v)


def _nc(nc) -> str:
    if nc is None or nc.status == "insufficient":
        return "—"
    lo = "0" if nc.ci_low_unbounded or nc.ci_low is None else _params(nc.ci_low)
    hi = "∞)" if nc.ci_high_unbounded or nc.ci_high is None else _params(nc.ci_high) + "]"
    ci = f"[{lo}, {hi}"
    return f"{_params(nc.estimate)} {ci}" if nc.estimate is not None else ci


def _path(f) -> str:
    path = f.phase_path() if f.coupling else []
    runs: list[list] = []
    for p in path:
        if runs and runs[-1][0] == p:
            runs[-1][1] += 1
        else:
            runs.append([p, 1])
    return " → ".join(p + (f"×{n}" if n > 1 else "") for p, n in runs) or "—"


def summary_rows(res) -> list[tuple[str, ...]]:
    """One row of text per family, in the order of :data:`HEADERS`."""
    from ._format import fmt_number

    rows = []
    for f in res.families:
        r = f.r
        rt = (f"{r.r:+.2f} [{fmt_number(r.ci_low, 2)}, {fmt_number(r.ci_high, 2)}]"
              if r is not None and r.r is not None else "—")
        if f.size_range:
            lo, hi = f.size_range
            sizes = _params(lo) if lo == hi else f"{_params(lo)}–{_params(hi)}"
        else:
            sizes = "—"
        rows.append((f.family, str(f.n_models), sizes, rt, _path(f), _nc(f.nc),
                     f.nc.status if f.nc else "insufficient"))
    return rows


def _pooled_line(res) -> str:
    pn = res.pooled_nc
    if pn is None:
        return "Pooled N_c: —"
    if pn.estimate is not None:
        return f"Pooled N_c (family offsets): {_nc(pn)} ({pn.status})"
    return f"Pooled N_c (family offsets): {pn.status}" + (f" — {pn.message}" if pn.message else "")


_PHASE_COLOURS = {"tax": "#c62828", "transition": "#9e9d24", "bonus": "#2e7d32"}


def summary_html(res) -> str:
    """The same table as HTML, phases coloured, for a notebook."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in HEADERS)
    body = []
    for r in summary_rows(res):
        cells = [html.escape(c) for c in r]
        for p, col in _PHASE_COLOURS.items():
            cells[4] = cells[4].replace(p, f"<span style='color:{col}'>{p}</span>")
        body.append("<tr>" + "".join(f"<td style='text-align:left'>{c}</td>" for c in cells) + "</tr>")
    title = html.escape(f"{res.b1} vs {res.b2} ({res.source}; {int(round(100 * res.level))}% CIs)")
    return (f"<div><b>{title}</b><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p>{html.escape(_pooled_line(res))}</p></div>")
