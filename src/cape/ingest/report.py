"""What an ingest read, what it dropped and why.

Every reader records into a :class:`ReportBuilder`; :func:`cape.ingest.read_any` freezes it into an
:class:`IngestReport` that the command line prints (and ``--json`` serialises). Nothing is dropped silently:
a task, column, row or file that did not become a score appears in :attr:`IngestReport.dropped` with the file,
the item and one sentence saying why.

Example:
    >>> from cape.ingest.report import ReportBuilder
    >>> b = ReportBuilder()
    >>> b.file_read("runs/a/results.json", "lm-eval", rows=5, models=1)
    >>> b.drop("runs/a/results.json", "task piqa", "not a benchmark CAPE knows")
    >>> r = b.freeze()
    >>> (r.n_files, len(r.dropped))
    (1, 1)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileRead:
    """One input file that was read.

    Attributes:
        path: the file as the user gave it (or as found under a directory they gave).
        format: ``csv-wide``, ``csv-long``, ``lm-eval``, ``leaderboard-v1``, ``leaderboard-v2`` or ``epoch``.
        rows: scores it contributed before cross-file resolution (latest run wins, duplicates).
        models: distinct models in it.
    """

    path: str
    format: str
    rows: int
    models: int

    def to_dict(self) -> dict:
        return {"path": self.path, "format": self.format, "rows": self.rows, "models": self.models}


@dataclass(frozen=True)
class Dropped:
    """Something in an input that did not become a score: the file, the item (a task, a column, a line, a
    whole file) and the reason in one sentence."""

    file: str
    item: str
    reason: str

    def to_dict(self) -> dict:
        return {"file": self.file, "item": self.item, "reason": self.reason}


@dataclass(frozen=True)
class Note:
    """A decision the reader took that the user should know about (unit detected, latest run kept, ...), with
    the files it concerns."""

    message: str
    files: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"message": self.message, "files": list(self.files)}


@dataclass(frozen=True)
class IngestReport:
    """The account of one ingest.

    Attributes:
        files: every file read, in reading order.
        dropped: every item that was not kept, with its reason.
        notes: decisions taken (units, latest-run rule, MMLU aggregate, inferred parameters ...).
        variants: one dict per benchmark x metric x shots with the number of models (``benchmark``, ``metric``,
            ``shots``, ``models``); several metrics for one benchmark are kept here and refused at analysis time
            unless forced.
        n_rows, n_models: size of the resulting table.
    """

    files: tuple[FileRead, ...] = ()
    dropped: tuple[Dropped, ...] = ()
    notes: tuple[Note, ...] = ()
    variants: tuple[dict, ...] = ()
    n_rows: int = 0
    n_models: int = 0

    @property
    def n_files(self) -> int:
        return len(self.files)

    def dropped_by_reason(self) -> list[tuple[str, int]]:
        """(reason kind, count) pairs, most frequent first; the kind is the reason up to its first ';' or '('."""
        c = Counter(_reason_kind(d.reason) for d in self.dropped)
        return c.most_common()

    def mixed_variants(self) -> dict[str, list[str]]:
        """Benchmarks that appear with more than one metric variant: ``{benchmark: [metrics]}``."""
        by = defaultdict(set)
        for v in self.variants:
            by[v["benchmark"]].add(v["metric"])
        return {b: sorted(ms) for b, ms in by.items() if len(ms) > 1}

    def to_dict(self) -> dict:
        return {
            "n_files": self.n_files,
            "n_rows": self.n_rows,
            "n_models": self.n_models,
            "files": [f.to_dict() for f in self.files],
            "variants": [dict(v) for v in self.variants],
            "mixed_variants": self.mixed_variants(),
            "notes": [n.to_dict() for n in self.notes],
            "dropped": [d.to_dict() for d in self.dropped],
        }

    def summary(self) -> str:
        """A few plain-text lines: counts, variants, notes, dropped items grouped by reason."""
        lines = [f"read {self.n_rows} scores for {self.n_models} models from {self.n_files} file(s)"]
        for v in self.variants:
            shots = "shots not given" if v.get("shots") is None else f"{v['shots']}-shot"
            lines.append(f"  {v['benchmark']} [{v['metric']}, {shots}]: {v['models']} models")
        for n in self.notes:
            lines.append(f"note: {n.message}")
        if self.dropped:
            lines.append(f"dropped {len(self.dropped)} item(s):")
            for kind, k in self.dropped_by_reason():
                lines.append(f"  {k} x {kind}")
        return "\n".join(lines)


def _reason_kind(reason: str) -> str:
    cut = len(reason)
    for ch in (";", "(", ":"):
        i = reason.find(ch)
        if i > 0:
            cut = min(cut, i)
    return reason[:cut].strip()


@dataclass
class ReportBuilder:
    """Mutable collector used while reading; :meth:`freeze` gives the :class:`IngestReport`."""

    files: list[FileRead] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    _notes: dict[str, list[str]] = field(default_factory=dict)
    #: refuse the whole file at the first row- or column-level problem instead of dropping the item
    strict: bool = False

    def file_read(self, path: str, fmt: str, *, rows: int, models: int) -> None:
        self.files.append(FileRead(str(path), fmt, int(rows), int(models)))

    def drop(self, file: str, item: str, reason: str) -> None:
        self.dropped.append(Dropped(str(file), str(item), str(reason)))

    def fault(self, file: str, item: str, reason: str, message: str | None = None) -> None:
        """A problem confined to one row, cell or column: dropped with ``reason`` (lenient, the default), or,
        when :attr:`strict`, a :class:`~cape.errors.DataError` with ``message`` (default: file, item and reason
        in one sentence) that refuses the whole file."""
        if self.strict:
            from ..errors import DataError

            raise DataError(message or f"{file}: {item}: {reason} (refused under --strict; without it this item "
                                       "is dropped and the rest is read)")
        self.drop(file, item, reason)

    def note(self, message: str, file: str | None = None) -> None:
        """Record a decision; the same message from several files is kept once with all the files."""
        files = self._notes.setdefault(message, [])
        if file is not None and (not files or files[-1] != str(file)):
            files.append(str(file))

    def freeze(self, *, variants: list[dict] | None = None, n_rows: int = 0, n_models: int = 0) -> IngestReport:
        notes = tuple(Note(m, tuple(f)) for m, f in self._notes.items())
        return IngestReport(tuple(self.files), tuple(self.dropped), notes, tuple(variants or ()), int(n_rows),
                            int(n_models))
